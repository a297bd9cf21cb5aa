//! `loadbench`: the helpers `scripts/bench` drives to measure torg under load (docs/BENCHMARKS.md).
//!
//! - `bare` serves a bare axum endpoint, the baseline every torg figure is divided by: on a noisy
//!   machine only ratios measured in the same run mean anything.
//! - `seed` fills a fresh database with believable orders through the store API and prints an API key.
//! - `sqlite-raw` measures how fast SQLite itself commits an order with three lines, the reference the
//!   create target is set against.
//! - `pg-db` creates or drops a scratch PostgreSQL database.
//! - `catalogue`, `search-key`, `search` and `rss` serve the parts-search benchmark
//!   (`scripts/bench-search`): a generated catalogue as CSV files, a buyer's key, in-process search
//!   latency, and a server's resident memory.
//!
//! The load itself comes from `wrk`; nothing here is a timed test.

/// The same allocator as `torg`, so the bare endpoint is served as torg serves.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod bare;
mod crm;
mod raw;
mod search;
mod seed;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Load-benchmark helpers for torg.
#[derive(Debug, Parser)]
#[command(name = "loadbench", about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// A generated catalogue and the buyer's key that searches it.
#[derive(Debug, clap::Args)]
struct Catalogue {
    /// Database URL (a catalogue written by `catalogue` and imported).
    #[arg(long)]
    database: String,
    /// A parts key (from `search-key`).
    #[arg(long)]
    key: String,
    /// How many offers the catalogue has.
    #[arg(long)]
    offers: u64,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve `GET /` with a small JSON body: the baseline, on the same runtime settings as torg.
    Bare {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:18081")]
        listen: String,
        /// A file whose bytes `GET /page` answers with (e.g. a real list page of torg's), so that the
        /// cost of an answer's size alone is measured too.
        #[arg(long)]
        page: Option<std::path::PathBuf>,
    },
    /// Fill a fresh database with orders (3 lines each) and print a key with every scope last.
    Seed {
        /// Database URL, as `torg --database` takes it.
        #[arg(long)]
        database: String,
        /// How many orders.
        #[arg(long, default_value_t = 100_000)]
        orders: u64,
        /// How many creations run at once [default: 64 on SQLite, whose commits carry all those waiting
        /// for the writer; 16 on PostgreSQL].
        #[arg(long)]
        concurrency: Option<usize>,
    },
    /// Measure the raw rate at which SQLite commits an order row with three item rows.
    SqliteRaw {
        /// How many orders to commit.
        #[arg(long, default_value_t = 50_000)]
        orders: u64,
    },
    /// Write `catalogue.csv` (N offers) and `crosses.csv` (2N cross-reference pairs) for `torg import`.
    Catalogue {
        /// Folder to write the files into.
        #[arg(long)]
        dir: std::path::PathBuf,
        /// How many offers (parts, each at one warehouse).
        #[arg(long, default_value_t = 1_000_000)]
        offers: u64,
    },
    /// Create a buyer and a parts key for it; prints the key.
    SearchKey {
        /// Database URL.
        #[arg(long)]
        database: String,
    },
    /// Time searches one at a time in this process: through the store, then through the router.
    Search {
        #[command(flatten)]
        catalogue: Catalogue,
        /// How many searches to time.
        #[arg(long, default_value_t = 5_000)]
        queries: usize,
    },
    /// Time the CRM's order reads one at a time in this process (store, then router), next to a bare
    /// router called the same way.
    Crm {
        /// Database URL of a `seed`ed database.
        #[arg(long)]
        database: String,
        /// A key with every scope (the last line `seed` printed).
        #[arg(long)]
        key: String,
        /// How many orders the seed made.
        #[arg(long, default_value_t = 100_000)]
        orders: i64,
        /// How many requests of each kind to time.
        #[arg(long, default_value_t = 2_000)]
        requests: usize,
        /// Run only the stages whose name contains this (and bare), e.g. `router list`.
        #[arg(long)]
        only: Option<String>,
    },
    /// Search (in process, through the router) for random parts and write signed rows with exact stock
    /// as the form bodies of parts orders (`_=…&order_qty=1`), one a line, for `wrk/parts-order.lua`.
    PartsTokens {
        #[command(flatten)]
        catalogue: Catalogue,
        /// How many order bodies to write.
        #[arg(long, default_value_t = 5_000)]
        count: usize,
        /// The file to write.
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Print how many stock rows are oversold (more reserved than on hand); exits non-zero if any.
    Oversold {
        /// Database URL.
        #[arg(long)]
        database: String,
    },
    /// Print a process's current and peak resident memory.
    Rss {
        /// The process id.
        pid: u32,
    },
    /// Create or drop a scratch database on a PostgreSQL server.
    PgDb {
        /// `create` or `drop`.
        #[arg(value_parser = ["create", "drop"])]
        action: String,
        /// URL of a database on the server to connect to for the statement.
        #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
        admin: String,
        /// Name of the scratch database.
        #[arg(long)]
        name: String,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Bare { listen, page } => bare::serve(&listen, page.as_deref()).await,
        Command::Seed { database, orders, concurrency } => seed::run(&database, orders, concurrency).await,
        Command::SqliteRaw { orders } => raw::run(orders).await,
        Command::Catalogue { dir, offers } => search::write_files(&dir, offers),
        Command::SearchKey { database } => {
            println!("{}", search::make_key(&database).await?);
            Ok(())
        }
        Command::Search { catalogue: c, queries } => search::measure(&c.database, &c.key, c.offers, queries).await,
        Command::Crm { database, key, orders, requests, only } => {
            crm::measure(&database, &key, orders, requests, only.as_deref()).await
        }
        Command::PartsTokens { catalogue: c, count, out } => {
            search::parts_tokens(&c.database, &c.key, c.offers, count, &out).await
        }
        Command::Oversold { database } => {
            let store = torg_store::Store::open(&database).await?;
            let n = store.oversold_stock().await?;
            println!("oversold stock rows: {n}");
            anyhow::ensure!(n == 0, "{n} stock rows are oversold");
            Ok(())
        }
        Command::Rss { pid } => search::rss(pid),
        Command::PgDb { action, admin, name } => {
            if action == "create" {
                let url = torg_store::testing::create_postgres_database(&admin, &name).await?;
                println!("{url}");
            } else {
                torg_store::testing::drop_postgres_database(&admin, &name).await?;
            }
            Ok(())
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
