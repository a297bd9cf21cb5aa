//! The command line: `serve`, `migrate`, `demo`, `key create|list|corporate|revoke` (spec/README.md §4).

use crate::config::FileConfig;
use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use tokio::net::TcpListener;
use torg_domain::key::{ALL_SCOPES, KeyOwner, SiteAccess, validate_scope};
use torg_http::{AppState, HttpConfig};
use torg_store::{NewKey, Store};

/// torg: one commerce backend speaking RetailCRM v5 and its neighbours' dialects.
#[derive(Debug, Parser)]
#[command(name = "torg", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Options every command shares.
#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// Database: `sqlite:PATH` (created on first run) or `postgres://…`.
    #[arg(long, env = "TORG_DATABASE_URL", default_value = "sqlite:torg.db", global = true)]
    database: String,
}

impl DbArgs {
    /// The database URL.
    pub fn url(&self) -> &str {
        &self.database
    }
}

/// Options of the commands that serve.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free one (printed on start).
    #[arg(long, env = "TORG_LISTEN")]
    listen: Option<String>,
    /// Redis URL: rate limits then hold across every instance sharing it.
    #[arg(long, env = "TORG_REDIS_URL")]
    redis: Option<String>,
    /// A TOML file with further settings (time_zone, rate_per_second, body_limit, …).
    #[arg(long, env = "TORG_CONFIG")]
    config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Migrate the database and serve every face.
    Serve {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        serve: ServeArgs,
    },
    /// Bring the database schema up to date and exit.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Fill an empty database with demo data, print keys and URLs to try, and serve.
    Demo {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        serve: ServeArgs,
    },
    /// Manage API keys.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Bulk-load a catalogue or cross-references from a CSV file.
    Import {
        #[command(subcommand)]
        command: crate::import::ImportCommand,
    },
    /// Sites' settings.
    Site {
        #[command(subcommand)]
        command: crate::billing::SiteCommand,
    },
    /// Invoices (billing face).
    Invoice {
        #[command(subcommand)]
        command: crate::billing::InvoiceCommand,
    },
    /// Users (managers) and user groups.
    User {
        #[command(subcommand)]
        command: crate::users::UserCommand,
    },
    /// Loyalty programmes and customer segments, from JSON files.
    Define {
        #[command(subcommand)]
        command: crate::definitions::DefineCommand,
    },
}

#[derive(Debug, Subcommand)]
enum KeyCommand {
    /// Create a key; the key alone is printed on the last line of stdout.
    Create {
        #[command(flatten)]
        db: DbArgs,
        /// Name to recognise the key by.
        #[arg(long)]
        name: String,
        /// A scope to grant (repeat for several).
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// Grant every scope.
        #[arg(long)]
        all_scopes: bool,
        /// A site the key reaches (repeat for several); none means every site.
        #[arg(long = "site")]
        sites: Vec<String>,
        /// An address the key may be used from (repeat, at most 5); none means any.
        #[arg(long = "ip")]
        ips: Vec<IpAddr>,
        /// The customer (external id) the key buys as, for the parts face.
        #[arg(long)]
        customer: Option<String>,
        /// The distributor (code) the key acts for, for the office face.
        #[arg(long)]
        distributor: Option<String>,
    },
    /// List keys (never their secrets).
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Make a buyer's key order for a corporate customer its buyer is a contact person of (or, without
    /// `--corporate`, for the buyer alone again).
    Corporate {
        #[command(flatten)]
        db: DbArgs,
        /// Id or name of the key.
        key: String,
        /// External id of the corporate customer.
        #[arg(long)]
        corporate: Option<String>,
    },
    /// Revoke a key by id or name.
    Revoke {
        #[command(flatten)]
        db: DbArgs,
        /// Id or name of the key.
        key: String,
    },
}

/// Runs the command line; errors are printed and turn into exit code 1.
pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TORG_LOG").unwrap_or_else(|_| "info,sqlx=warn".into());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { db, serve } => {
            let store = open(&db.database).await?;
            serve_until_signal(store, serve, None).await
        }
        Command::Migrate { db } => {
            open(&db.database).await?;
            println!("database {} is up to date", torg_store::redact(&db.database));
            Ok(())
        }
        Command::Demo { db, serve } => {
            let store = open(&db.database).await?;
            let report = crate::demo::load(&store).await?;
            serve_until_signal(store, serve, Some(report)).await
        }
        Command::Key { command } => key(command).await,
        Command::Import { command } => crate::import::run(command).await,
        Command::Site { command } => crate::billing::site(command).await,
        Command::Invoice { command } => crate::billing::invoice(command).await,
        Command::User { command } => crate::users::run(command).await,
        Command::Define { command } => crate::definitions::run(command).await,
    }
}

async fn open(url: &str) -> anyhow::Result<Store> {
    Store::open(url).await.with_context(|| format!("cannot open database {}", torg_store::redact(url)))
}

/// Builds the HTTP settings from the config file and flags.
fn http_config(serve: &ServeArgs, listen: &str) -> anyhow::Result<(HttpConfig, FileConfig)> {
    let file = match &serve.config {
        Some(path) => FileConfig::read(path)?,
        None => FileConfig::default(),
    };
    let mut http = file.http(listen)?;
    http.redis_url = serve.redis.clone().or(file.redis.clone());
    Ok((http, file))
}

async fn serve_until_signal(store: Store, serve: ServeArgs, demo: Option<crate::demo::Report>) -> anyhow::Result<()> {
    let file = match &serve.config {
        Some(path) => FileConfig::read(path)?,
        None => FileConfig::default(),
    };
    let listen = serve.listen.clone().or(file.listen.clone()).unwrap_or_else(|| "127.0.0.1:8080".into());
    let listener = TcpListener::bind(&listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    let (mut http, _) = http_config(&serve, &addr.to_string())?;
    if serve.listen.as_deref().is_some_and(|l| l.ends_with(":0")) || file.public_url.is_none() {
        http.public_url = format!("http://{addr}");
    }
    let state = AppState::new(store, http).await.map_err(anyhow::Error::msg)?;
    if let Some(report) = demo {
        report.print(&format!("http://{addr}"));
    }
    println!("torg listening on http://{addr}");
    tracing::info!(addr = %addr, "serving");
    // One signal stops the server and the webhook worker; the worker finishes its call in flight.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(torg_http::webhooks::run(state.clone(), Default::default(), stopped.clone()));
    let mut server_stop = stopped;
    let shutdown = async move {
        let _ = server_stop.changed().await;
    };
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        let _ = stop.send(true);
    });
    torg_http::serve(listener, state, shutdown).await?;
    let _ = worker.await;
    Ok(())
}

async fn key(command: KeyCommand) -> anyhow::Result<()> {
    match command {
        KeyCommand::Create { db, name, scopes, all_scopes, sites, ips, customer, distributor } => {
            let store = open(&db.database).await?;
            let scopes: Vec<String> =
                if all_scopes { ALL_SCOPES.iter().map(|s| (*s).to_string()).collect() } else { scopes };
            if scopes.is_empty() {
                anyhow::bail!("give at least one --scope, or --all-scopes");
            }
            for s in &scopes {
                validate_scope(s).map_err(anyhow::Error::msg)?;
            }
            if ips.len() > torg_domain::key::MAX_ALLOWED_IPS {
                anyhow::bail!("at most {} --ip addresses", torg_domain::key::MAX_ALLOWED_IPS);
            }
            let plain = crate::keys::generate();
            let key = store
                .create_key(NewKey {
                    plain: plain.clone(),
                    name,
                    scopes,
                    sites: if sites.is_empty() { SiteAccess::Full } else { SiteAccess::Selective(sites) },
                    allowed_ips: ips,
                    customer_external_id: customer,
                    distributor,
                })
                .await?;
            println!("created key {} ({}) with scopes: {}", key.id, key.name, key.scopes.join(" "));
            println!("{plain}");
            Ok(())
        }
        KeyCommand::List { db } => {
            let store = open(&db.database).await?;
            for k in store.list_keys().await? {
                let sites = match &k.sites {
                    SiteAccess::Full => "all sites".to_string(),
                    SiteAccess::Selective(s) => s.join(","),
                };
                let owner = match &k.owner {
                    Some(KeyOwner::Customer(id)) => match k.corporate_id {
                        Some(c) => format!(" customer={id} corporate={c}"),
                        None => format!(" customer={id}"),
                    },
                    Some(KeyOwner::Distributor(d)) => format!(" distributor={d}"),
                    None => String::new(),
                };
                let state = if k.revoked_at.is_some() { "revoked" } else { "active" };
                println!(
                    "{}\t{}\t{}…\t{}\t{}\t[{}]{}",
                    k.id,
                    k.name,
                    k.prefix,
                    state,
                    sites,
                    k.scopes.join(" "),
                    owner
                );
            }
            Ok(())
        }
        KeyCommand::Corporate { db, key, corporate } => {
            let store = open(&db.database).await?;
            store.set_key_corporate(&key, corporate.as_deref()).await?;
            match corporate {
                Some(c) => println!("key {key} orders for corporate customer {c}"),
                None => println!("key {key} orders for its buyer"),
            }
            Ok(())
        }
        KeyCommand::Revoke { db, key } => {
            let store = open(&db.database).await?;
            match store.revoke_key(&key).await? {
                0 => anyhow::bail!("no active key with id or name '{key}'"),
                n => {
                    println!("revoked {n} key(s)");
                    Ok(())
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
