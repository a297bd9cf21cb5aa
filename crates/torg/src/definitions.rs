//! `torg define …`: what RetailCRM configures in its UI and its API only reads — loyalty programmes and
//! customer segments — taken as JSON documents (see docs/crm.md for their members).

use anyhow::Context;
use clap::Subcommand;
use std::path::{Path, PathBuf};
use torg_domain::loyalty::{LoyaltyDefinition, SegmentDefinition};
use torg_store::Store;

/// Definition commands.
#[derive(Debug, Subcommand)]
pub enum DefineCommand {
    /// Add a loyalty programme to a site from a JSON file; prints its id on the last line.
    Loyalty {
        #[command(flatten)]
        db: crate::cli::DbArgs,
        /// The programme: {"site", "name", "currency", "expiryDays", "maxChargePercent", "levels": [{"name", "sum", "percent"}]}.
        file: PathBuf,
    },
    /// Add or replace (by code) a customer segment from a JSON file; prints its id on the last line.
    Segment {
        #[command(flatten)]
        db: crate::cli::DbArgs,
        /// The segment: {"code", "name", "active", "filter": {the customer list's filter members}}.
        file: PathBuf,
    },
}

fn read_json(path: &Path) -> anyhow::Result<serde_json::Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
}

fn refused(errors: &torg_domain::FieldErrors) -> anyhow::Error {
    let lines: Vec<String> = errors.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    anyhow::anyhow!("the definition is refused: {}", lines.join("; "))
}

/// Stores a programme; its id.
pub async fn define_loyalty(store: &Store, doc: &serde_json::Value) -> anyhow::Result<i64> {
    let def = LoyaltyDefinition::from_json(doc).map_err(|e| refused(&e))?;
    match store.define_loyalty(&def).await {
        Ok(l) => Ok(l.id),
        Err(torg_store::StoreError::Domain(torg_domain::DomainError::Invalid(e))) => Err(refused(&e)),
        Err(e) => Err(e.into()),
    }
}

/// Stores a segment after checking its filter as the customer list reads it; its id.
pub async fn define_segment(store: &Store, doc: &serde_json::Value) -> anyhow::Result<i64> {
    let def = SegmentDefinition::from_json(doc).map_err(|e| refused(&e))?;
    torg_http::faces::crm::check_segment_filter(&def.filter)
        .map_err(|e| anyhow::anyhow!("the segment's filter is refused: {e}"))?;
    Ok(store.define_segment(&def).await?.id)
}

/// Runs a definition command.
pub async fn run(command: DefineCommand) -> anyhow::Result<()> {
    let (db, file, loyalty) = match command {
        DefineCommand::Loyalty { db, file } => (db, file, true),
        DefineCommand::Segment { db, file } => (db, file, false),
    };
    let doc = read_json(&file)?;
    let store = Store::open(db.url())
        .await
        .with_context(|| format!("cannot open database {}", torg_store::redact(db.url())))?;
    let id = if loyalty { define_loyalty(&store, &doc).await? } else { define_segment(&store, &doc).await? };
    println!("{id}");
    Ok(())
}
