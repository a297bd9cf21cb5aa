//! `torg site billing CODE …` (a site's billing settings) and `torg invoice pay ID` (pay a test-mode
//! invoice as the payment page's button does).

use clap::Subcommand;
use torg_domain::history::Actor;
use torg_domain::invoice::{BillingSettings, InvoiceStatus};
use torg_domain::time::Zone;
use torg_store::{BillingSettingsPatch, Store};

/// `torg site …`.
#[derive(Debug, Subcommand)]
pub enum SiteCommand {
    /// Set and print a site's billing settings (the payment service's integration settings).
    Billing {
        #[command(flatten)]
        db: crate::cli::DbArgs,
        /// Site code.
        code: String,
        /// The merchant UUID clients send as `merchantId` (made up on first use when not given).
        #[arg(long)]
        merchant_id: Option<String>,
        /// Key that signs notifications (X-Signature, HMAC-SHA1); an empty value clears it.
        #[arg(long)]
        notification_key: Option<String>,
        /// Key incoming requests must be signed with (X-Signature); an empty value turns signing off.
        #[arg(long)]
        signing_key: Option<String>,
        /// Default notification URL; an empty value clears it.
        #[arg(long)]
        notification_url: Option<String>,
        /// Test mode: invoices can be paid on the payment page or with `torg invoice pay`.
        #[arg(long)]
        test_mode: Option<bool>,
    },
}

/// `torg invoice …`.
#[derive(Debug, Subcommand)]
pub enum InvoiceCommand {
    /// Pay a test-mode invoice (by id or container id).
    Pay {
        #[command(flatten)]
        db: crate::cli::DbArgs,
        /// Invoice id.
        id: String,
    },
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A random UUID (version 4) for a new merchant.
pub fn random_uuid() -> String {
    use rand::Rng;
    let mut b: [u8; 16] = rand::rng().random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

fn print_settings(s: &BillingSettings) {
    let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    println!("site: {}", s.site);
    println!("merchant id: {}", s.merchant_id);
    println!("notification key: {}", if s.notification_key.is_some() { "set" } else { "-" });
    println!("signing key: {}", if s.signing_key.is_some() { "set (requests must carry X-Signature)" } else { "-" });
    println!("notification url: {}", shown(&s.notification_url));
    println!("test mode: {}", s.test_mode);
}

async fn open(url: &str) -> anyhow::Result<Store> {
    Store::open(url).await.map_err(|e| anyhow::anyhow!("cannot open database {}: {e}", torg_store::redact(url)))
}

/// Runs `torg site …`.
pub async fn site(command: SiteCommand) -> anyhow::Result<()> {
    match command {
        SiteCommand::Billing { db, code, merchant_id, notification_key, signing_key, notification_url, test_mode } => {
            if let Some(m) = &merchant_id
                && !is_uuid(m)
            {
                anyhow::bail!("--merchant-id must be a UUID such as ffffffff-ffff-ffff-ffff-ffffffffffff");
            }
            if let Some(u) = notification_url.as_deref().filter(|u| !u.is_empty())
                && !(u.starts_with("http://") || u.starts_with("https://"))
            {
                anyhow::bail!("--notification-url must be an http:// or https:// URL");
            }
            let store = open(db.url()).await?;
            let patch =
                BillingSettingsPatch { merchant_id, notification_key, signing_key, notification_url, test_mode };
            let s = store.set_billing_settings(&code, &patch, &random_uuid()).await?;
            print_settings(&s);
            Ok(())
        }
    }
}

/// Runs `torg invoice …`.
pub async fn invoice(command: InvoiceCommand) -> anyhow::Result<()> {
    match command {
        InvoiceCommand::Pay { db, id } => {
            let store = open(db.url()).await?;
            let inv = match store.get_invoice(&id).await? {
                Some(i) => i,
                None => store.get_invoice_by_container(&id).await?.ok_or_else(|| anyhow::anyhow!("no invoice {id}"))?,
            };
            let settings = store.billing_settings(&inv.site).await?;
            if !settings.is_some_and(|s| s.test_mode) {
                anyhow::bail!("site {} is not in test mode: its invoices are paid by the payment service", inv.site);
            }
            if inv.status != InvoiceStatus::Created {
                anyhow::bail!("invoice {} is {}; only a created invoice can be paid", inv.id, inv.status.as_str());
            }
            let zone = Zone::named("Europe/Moscow").map_err(anyhow::Error::msg)?;
            let paid =
                store.set_invoice_status(&inv.id, InvoiceStatus::Completed, false, Actor::User(None), &zone).await?;
            println!("invoice {} paid: {} {}", paid.id, paid.amount, paid.currency);
            Ok(())
        }
    }
}
