//! `loadbench`: the helpers `scripts/bench` drives to measure torg under load (docs/BENCHMARKS.md).
//!
//! - `bare` serves a bare axum endpoint, the baseline every torg figure is divided by: on a noisy
//!   machine only ratios measured in the same run mean anything.
//! - `seed` fills a fresh database with believable orders through the store API and prints an API key.
//! - `sqlite-raw` measures how fast SQLite itself commits an order with three lines, the reference the
//!   create target is set against.
//! - `pg-db` creates or drops a scratch PostgreSQL database.
//!
//! The load itself comes from `wrk`; nothing here is a timed test.

mod bare;
mod raw;
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

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve `GET /` with a small JSON body: the baseline, on the same runtime settings as torg.
    Bare {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:18081")]
        listen: String,
    },
    /// Fill a fresh database with orders (3 lines each) and print a key with every scope last.
    Seed {
        /// Database URL, as `torg --database` takes it.
        #[arg(long)]
        database: String,
        /// How many orders.
        #[arg(long, default_value_t = 100_000)]
        orders: u64,
        /// How many creations run at once (useful on PostgreSQL; SQLite has one writer anyway).
        #[arg(long)]
        concurrency: Option<usize>,
    },
    /// Measure the raw rate at which SQLite commits an order row with three item rows.
    SqliteRaw {
        /// How many orders to commit.
        #[arg(long, default_value_t = 50_000)]
        orders: u64,
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
        Command::Bare { listen } => bare::serve(&listen).await,
        Command::Seed { database, orders, concurrency } => seed::run(&database, orders, concurrency).await,
        Command::SqliteRaw { orders } => raw::run(orders).await,
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
