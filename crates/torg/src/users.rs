//! `torg user …`: the people who work in the account (RetailCRM's API lists them but has no method to
//! make them), and their groups.

use anyhow::Context;
use clap::Subcommand;
use torg_domain::telephony::{User, UserGroup};
use torg_store::{Store, UserFilter};

/// User commands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user (a manager unless --not-manager); prints its id on the last line.
    Add {
        #[command(flatten)]
        db: crate::cli::DbArgs,
        /// First name.
        #[arg(long)]
        first_name: String,
        /// Last name.
        #[arg(long)]
        last_name: String,
        /// Patronymic.
        #[arg(long)]
        patronymic: Option<String>,
        /// E-mail.
        #[arg(long)]
        email: Option<String>,
        /// Work phone.
        #[arg(long)]
        phone: Option<String>,
        /// Telephony extension (matched by telephony's `codes`).
        #[arg(long)]
        code: Option<String>,
        /// Job title.
        #[arg(long)]
        position: Option<String>,
        /// A group the user belongs to, by code (repeat for several; each must exist).
        #[arg(long = "group")]
        groups: Vec<String>,
        /// The user administers the account.
        #[arg(long)]
        admin: bool,
        /// The user does not manage orders and customers.
        #[arg(long)]
        not_manager: bool,
    },
    /// Create or change a user group by code.
    Group {
        #[command(flatten)]
        db: crate::cli::DbArgs,
        /// Group code.
        code: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Its members manage orders.
        #[arg(long)]
        manager: bool,
        /// Its members deliver.
        #[arg(long)]
        delivery: bool,
    },
    /// List users with their groups.
    List {
        #[command(flatten)]
        db: crate::cli::DbArgs,
    },
}

async fn open(url: &str) -> anyhow::Result<Store> {
    Store::open(url).await.with_context(|| format!("cannot open database {}", torg_store::redact(url)))
}

/// Runs a user command.
pub async fn run(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            db,
            first_name,
            last_name,
            patronymic,
            email,
            phone,
            code,
            position,
            groups,
            admin,
            not_manager,
        } => {
            let store = open(db.url()).await?;
            let user = User {
                first_name,
                last_name,
                patronymic,
                email,
                phone,
                code,
                position,
                groups,
                active: true,
                is_admin: admin,
                is_manager: !not_manager,
                ..User::default()
            };
            let user = store.create_user(&user).await?;
            println!("added user {} {} {}", user.id, user.first_name, user.last_name);
            println!("{}", user.id);
            Ok(())
        }
        UserCommand::Group { db, code, name, manager, delivery } => {
            let store = open(db.url()).await?;
            let group =
                UserGroup { code, name, is_manager: manager, is_delivery_men: delivery, ..UserGroup::default() };
            let id = store.put_user_group(&group).await?;
            println!("user group {id} ({})", group.code);
            Ok(())
        }
        UserCommand::List { db } => {
            let store = open(db.url()).await?;
            let mut page = torg_domain::page::PageRequest { limit: 100, page: 1 };
            loop {
                let (users, meta) = store.list_users(&UserFilter::default(), page).await?;
                for u in &users {
                    let email = u.email.as_deref().unwrap_or("-");
                    println!(
                        "{}\t{} {}\t{email}\t{}\t{}",
                        u.id,
                        u.first_name,
                        u.last_name,
                        u.status,
                        u.groups.join(",")
                    );
                }
                if u64::from(page.page) >= meta.total_page_count {
                    return Ok(());
                }
                page.page += 1;
            }
        }
    }
}
