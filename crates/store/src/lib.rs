//! Persistence of the torg domain on SQLite (embedded, the default) and PostgreSQL.
//!
//! One code path serves both backends: queries are plain SQL with `$n` placeholders, which both engines
//! accept, run through sqlx's `Any` driver. Every value crosses the boundary as an integer or text (money
//! as 1/10,000 units, instants as Unix seconds, flags as 0/1, attributes as JSON text), which is exactly
//! what `Any` carries, so the SQL is written once. What really differs is kept in [`Backend`]: the
//! migrations folder, how a write transaction starts, and how history ids are kept in commit order.

mod brands;
mod catalogue;
mod customers;
mod history;
mod import;
mod invoices;
mod keys;
mod office;
mod orders;
mod outbox;
mod parts;
mod payments;
mod products;
mod references;
mod sql;
mod telephony;

pub use brands::AliasReport;
pub use catalogue::{CatalogueRow, Cross, Inventory, PartRow, WarehouseTerms};
pub use customers::{CustomerFilter, CustomerLookup, UploadOutcome};
pub use history::HistoryFilter;
pub use import::CatalogueImport;
pub use invoices::{BillingSettingsPatch, RefundLine};
pub use keys::NewKey;
pub use office::{
    CatalogueFilter, OfficeOrderFilter, OfficeProduct, OfficeWarehouse, Remain, RemainInput, RowOutcome, TrackView,
    WarehouseInput,
};
pub use orders::{CustomFieldCondition, NumberRange, OrderFilter, OrderLookup, OrderStatusRow};
pub use outbox::{OutboxCounts, OutboxEvent, now_ms};
pub use parts::PartsOrder;
pub use payments::PaymentLookup;
pub use products::{
    BatchOutcome, InventoryFilter, OfferFilter, OfferPrice, OfferStock, ProductFilter, StoreOffer, StoreProduct,
};
pub use telephony::{CallUpload, ManagerMatch};

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};
use std::str::FromStr;
use std::time::Duration;
use torg_domain::DomainError;

/// Which database engine a [`Store`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// One local file, WAL mode; writes go through a single connection.
    Sqlite,
    /// A PostgreSQL server (or a compatible engine).
    Postgres,
}

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A domain rule was broken; nothing was written.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The database URL or its options are wrong.
    #[error("{0}")]
    Config(String),
    /// A billing rule that needs stored data was broken (duplicate merchantOrderId, wrong status).
    #[error(transparent)]
    Billing(#[from] torg_domain::invoice::BillingError),
}

/// Result of store operations.
pub type StoreResult<T> = Result<T, StoreError>;

/// The persistent state of torg.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    /// Reads (and, on PostgreSQL, writes).
    pool: AnyPool,
    /// On SQLite, the one connection that writes: SQLite admits one writer at a time, and queueing
    /// writers here rather than in SQLite's busy handler keeps latency predictable.
    writer: AnyPool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("backend", &self.backend).finish()
    }
}

/// An open write transaction.
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Connects to `url` (`sqlite:PATH`, `sqlite::memory:`, `postgres://…`), creating a SQLite file if
    /// needed. Does not migrate.
    pub async fn connect(url: &str) -> StoreResult<Store> {
        install_default_drivers();
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.trim_start_matches("//");
            let memory = path.is_empty() || path == ":memory:";
            let full = if memory {
                "sqlite::memory:".to_string()
            } else if path.contains('?') {
                format!("sqlite://{path}")
            } else {
                format!("sqlite://{path}?mode=rwc")
            };
            let writer = AnyPoolOptions::new()
                .max_connections(1)
                .acquire_timeout(Duration::from_secs(30))
                .after_connect(|conn, _| sqlite_pragmas(conn, WRITER_CACHE_KIB))
                .connect(&full)
                .await?;
            // An in-memory database exists once per connection, so readers must share the writer.
            let pool = if memory {
                writer.clone()
            } else {
                AnyPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(|conn, _| sqlite_pragmas(conn, READER_CACHE_KIB))
                    .connect(&full)
                    .await?
            };
            Ok(Store { backend: Backend::Sqlite, pool, writer })
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool =
                AnyPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(30)).connect(url).await?;
            Ok(Store { backend: Backend::Postgres, writer: pool.clone(), pool })
        } else {
            Err(StoreError::Config(format!(
                "unsupported database URL '{}': use sqlite:PATH or postgres://…",
                redact(url)
            )))
        }
    }

    /// Connects and brings the schema up to date, seeding reference books on a new database.
    pub async fn open(url: &str) -> StoreResult<Store> {
        let store = Store::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Runs pending migrations and seeds defaults where a book is empty.
    pub async fn migrate(&self) -> StoreResult<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.writer).await.map_err(|e| StoreError::Database(e.into()))?;
        self.seed_defaults().await?;
        // SQLite's lower() folds ASCII only, so the name filters compare copies lowered in Rust. Every
        // writer keeps them now; rows written before that are brought up to date once.
        if self.meta("name_copies").await?.is_none() {
            self.refresh_name_copies("products").await?;
            self.refresh_name_copies("offers").await?;
            self.meta_init("name_copies", "1").await?;
        }
        Ok(())
    }

    /// The engine in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`), so a
    /// transaction that reads before writing can never fail to upgrade.
    pub async fn begin(&self) -> StoreResult<Tx> {
        Ok(match self.backend {
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.writer.begin().await?,
        })
    }

    /// Makes history ids follow commit order: on PostgreSQL, writers that record history take a
    /// transaction-scoped advisory lock first, so a reader polling with `sinceId` can never see id N+1
    /// before N commits. SQLite already has a single writer.
    pub(crate) async fn serialize_history(&self, tx: &mut Tx) -> StoreResult<()> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(7426001)").execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// The reading pool.
    pub(crate) fn reader(&self) -> &AnyPool {
        &self.pool
    }

    /// A value kept in the `meta` table, e.g. a server secret.
    pub async fn meta(&self, key: &str) -> StoreResult<Option<String>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT value FROM meta WHERE key = $1").bind(key).fetch_optional(&self.pool).await?;
        Ok(row.map(|r| r.0))
    }

    /// Stores a value in the `meta` table unless one is there; returns the value that is kept.
    pub async fn meta_init(&self, key: &str, value: &str) -> StoreResult<String> {
        let mut tx = self.begin().await?;
        let existing: Option<(String,)> =
            sqlx::query_as("SELECT value FROM meta WHERE key = $1").bind(key).fetch_optional(&mut *tx).await?;
        let kept = match existing {
            Some((v,)) => v,
            None => {
                sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2)")
                    .bind(key)
                    .bind(value)
                    .execute(&mut *tx)
                    .await?;
                value.to_string()
            }
        };
        tx.commit().await?;
        Ok(kept)
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }
}

/// Settings every SQLite connection gets: WAL so readers never block the writer, NORMAL sync (durable
/// across process crashes, as WAL intends), foreign keys on, and a busy timeout for the rare contention.
/// Page cache of the writer, in KiB: writes touch index pages all over the file.
const WRITER_CACHE_KIB: u32 = 32_000;
/// Page cache of each reader, in KiB. Readers share the operating system's file cache, so a small
/// private cache each keeps the resident memory of eight readers low at little cost.
const READER_CACHE_KIB: u32 = 4_000;

fn sqlite_pragmas(
    conn: &mut sqlx::AnyConnection,
    cache_kib: u32,
) -> futures::future::BoxFuture<'_, Result<(), sqlx::Error>> {
    Box::pin(async move {
        let pragmas = format!(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
             PRAGMA busy_timeout = 10000; PRAGMA cache_size = -{cache_kib};"
        );
        conn.execute(sqlx::AssertSqlSafe(pragmas)).await?;
        Ok(())
    })
}

/// Hides a password in a database URL for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..scheme + 3], &creds[..colon], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Parses a flag stored as 0/1.
pub(crate) fn flag(v: i64) -> bool {
    v != 0
}

/// Reads JSON text stored in a column; a broken document reads as empty rather than failing a listing.
pub(crate) fn json_map(text: &str) -> serde_json::Map<String, serde_json::Value> {
    serde_json::Value::from_str(text).ok().and_then(|v| v.as_object().cloned()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(super::redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(super::redact("sqlite:torg.db"), "sqlite:torg.db");
    }
}

/// Fresh databases for tests: each test gets its own, so tests run side by side.
pub mod testing {
    use super::{StoreResult, install_default_drivers};
    use sqlx::{AnyConnection, Connection, Executor};

    /// Creates database `name` on the server of `admin_url` and returns the URL of the new database.
    pub async fn create_postgres_database(admin_url: &str, name: &str) -> StoreResult<String> {
        install_default_drivers();
        let mut conn = AnyConnection::connect(admin_url).await?;
        conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\""))).await?;
        conn.close().await?;
        let base = match admin_url.rfind('/') {
            Some(slash) if slash > "postgres://".len() => &admin_url[..slash],
            _ => admin_url,
        };
        let query = admin_url.find('?').map(|q| &admin_url[q..]).unwrap_or("");
        Ok(format!("{base}/{name}{query}"))
    }

    /// Drops database `name`, disconnecting anyone still on it.
    pub async fn drop_postgres_database(admin_url: &str, name: &str) -> StoreResult<()> {
        install_default_drivers();
        let mut conn = AnyConnection::connect(admin_url).await?;
        conn.execute(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))).await?;
        conn.close().await?;
        Ok(())
    }
}
