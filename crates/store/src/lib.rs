//! Persistence of the torg domain on SQLite (embedded, the default) and PostgreSQL.
//!
//! Each engine runs on its native driver ([`db`]: rusqlite on SQLite, sqlx's postgres driver on
//! PostgreSQL) behind one query interface, so the SQL that is the same on both engines is written once:
//! plain SQL with `$n` placeholders, every value an integer or text (money as 1/10,000 units, instants
//! as Unix seconds, flags as 0/1, attributes as JSON text). What really differs is kept in [`Backend`]:
//! the migrations folder, how a write transaction starts, row locks, and how history ids are kept in
//! commit order.

mod batch;
mod book_cache;
mod brands;
mod catalogue;
mod combine;
mod corporate;
mod costs;
mod counterparties;
mod counts;
mod custom_fields;
mod customers;
pub mod db;
mod delivery;
mod facets;
mod files;
mod health;
mod history;
mod idempotency;
mod import;
mod interaction;
mod invoices;
mod key_checks;
mod key_rounds;
mod keys;
mod last_commit;
mod loyalty;
mod modules;
mod notes;
mod orders;
mod outbox;
mod outcomes;
mod packs;
mod payment_invoices;
mod payments;
pub mod plan_audit;
mod product_groups;
mod products;
mod references;
mod segments;
mod shipments;
mod sql;
mod stock;
mod tasks;
mod telephony;
mod users;
mod verification;
mod warehouses;
mod web;
#[cfg(test)]
mod wording_guard;

pub use batch::RowOutcome;
pub use brands::AliasReport;
pub use catalogue::{CatalogueFilter, CatalogueRow, Cross, OfficeProduct, PartRow};
pub use combine::CombinedTo;
pub use corporate::{CompanyOfInn, ContactView, CorporateFilter, CorporateView, MemberFilter, OrderParties};
pub use costs::CostFilter;
pub use customers::{CustomerFilter, CustomerLookup, UploadOutcome};
pub use delivery::{Shipment, ShipmentFilter};
pub use facets::{ContragentFilter, SourceFilter, SubscriptionCondition};
pub use files::{FileFilter, NewFile, StoredFile};
pub use history::HistoryFilter;
pub use idempotency::{Claim, StoredAnswer};
pub use import::CatalogueImport;
pub use interaction::{Cart, CartInput, CartLine, Favorite, OfferRef};
pub use invoices::{BillingSettingsPatch, INVOICE_STATUS_TOPIC, REFUND_STATUS_TOPIC, RefundLine};
pub use key_checks::KeyCheckStats;
pub use keys::{NewKey, ShownGeneration};
pub use loyalty::{AccountFilter, BonusStatus, LoyaltyFilter, LoyaltyQuote};
pub use modules::Module;
pub use notes::{Note, NoteFilter, NoteOwner};
pub use orders::{
    CustomFieldCondition, Held, KeptPageStats, NumberRange, OfficeOrderFilter, OrderFilter, OrderLookup, OrderStamp,
    OrderStatusRow, PartsOrder, ShownOrders, StampedOrders, TrackView,
};
pub use outbox::{OutboxCounts, OutboxEvent, now_ms};
pub use outcomes::Outcomes;
pub use packs::PackFilter;
pub use payment_invoices::CRM_PAYMENT_MEMBER;
pub use payment_invoices::IssuedInvoice;
pub use payments::PaymentLookup;
pub use product_groups::{
    GroupRef, ProductGroup, ProductGroupFilter, ProductGroupLookup, ProductGroupPatch, ProductProperty, PropertyFilter,
    PropertyValue,
};
pub use products::{
    BatchOutcome, InventoryFilter, OfferFilter, OfferPrice, OfferStock, ProductFilter, StoreOffer, StoreProduct,
};
pub use segments::SegmentFilter;
pub use stock::{Inventory, Remain, RemainInput};
pub use tasks::{TaskCondition, TaskFilter, TaskHistoryFilter};
pub use telephony::{CallUpload, ManagerMatch};
pub use users::UserFilter;
pub use verification::Confirmation;
pub use warehouses::{OfficeWarehouse, WarehouseInput, WarehouseTerms};
pub use web::{Notification, Visit};

use db::{Db, SqlitePath};
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
    Database(db::DbError),
    /// The database URL or its options are wrong.
    #[error("{0}")]
    Config(String),
    /// Uploaded files' bytes could not be kept or read (the folder beside a SQLite database).
    #[error("file storage: {0}")]
    Files(String),
    /// A billing rule that needs stored data was broken (duplicate merchantOrderId, wrong status).
    #[error(transparent)]
    Billing(#[from] torg_domain::invoice::BillingError),
}

impl From<db::DbError> for StoreError {
    /// A refusal a queued write answers for (`Query::refused_as`) is the domain's; the rest are the
    /// database's.
    fn from(e: db::DbError) -> StoreError {
        match e {
            db::DbError::Refused(d) => StoreError::Domain(*d),
            e => StoreError::Database(e),
        }
    }
}

/// Result of store operations.
pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    /// A unique-constraint violation as the domain's `refusal` (an external id taken, say); any other
    /// database error as is. The refusal's wording is the domain's: the store only knows which
    /// constraint a write broke.
    pub(crate) fn unique_as(e: db::DbError, refusal: impl FnOnce() -> DomainError) -> StoreError {
        if e.is_unique_violation() { StoreError::Domain(refusal()) } else { e.into() }
    }
}

/// The persistent state of torg.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    db: Db,
    books: std::sync::Arc<book_cache::BookCache>,
    /// Where SQLite keeps uploaded files' bytes (PostgreSQL keeps them in the database).
    files_dir: Option<std::sync::Arc<std::path::PathBuf>>,
    /// Numbers history records after their commits (PostgreSQL).
    numberer: Option<std::sync::Arc<history::Numberer>>,
    /// The books a request read with its key check, for [`Store::seeing`].
    seen: Option<std::sync::Arc<torg_domain::books::Books>>,
    /// Pages of orders kept by the generation they were read at.
    kept_pages: std::sync::Arc<orders::KeptPages>,
    /// The generation a request's key check read, for [`Store::as_of`].
    shown_at: Option<ShownGeneration>,
    /// Key checks kept while nothing has been committed (SQLite) or the keys are unchanged
    /// (PostgreSQL).
    key_checks: std::sync::Arc<key_checks::KeptKeyChecks>,
    /// Rounds of key checks shared by the requests in flight (PostgreSQL).
    key_rounds: std::sync::Arc<key_rounds::KeyRounds>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("backend", &self.backend).finish()
    }
}

/// An open write transaction; dropped without commit, it rolls back.
pub type Tx = db::Tx;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// How long a PostgreSQL connection may lie idle before it is checked again when handed out.
const POSTGRES_IDLE_CHECK: std::time::Duration = std::time::Duration::from_secs(1);

/// How many PostgreSQL connections one server keeps at most, unless its URL says (`?pool_max=N`).
const POSTGRES_CONNECTIONS: u32 = 16;

/// The most connections `pool_max` may ask for: PostgreSQL's own default `max_connections` is 100,
/// and a pool beyond a thousand is a typo, not a plan.
const POSTGRES_CONNECTIONS_MAX: u32 = 1024;

/// Takes torg's own `pool_max` option out of a PostgreSQL URL (`postgres://…/db?pool_max=32`): the URL
/// sqlx is given, without it (sqlx would warn about a parameter it does not know), and the pool's size.
fn postgres_pool_size(url: &str) -> StoreResult<(String, u32)> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_string(), POSTGRES_CONNECTIONS));
    };
    let mut size = POSTGRES_CONNECTIONS;
    let mut kept = Vec::new();
    for option in query.split('&').filter(|o| !o.is_empty()) {
        match option.split_once('=') {
            Some(("pool_max", value)) => {
                size = value.parse::<u32>().ok().filter(|n| (1..=POSTGRES_CONNECTIONS_MAX).contains(n)).ok_or_else(
                    || {
                        StoreError::Config(format!(
                            "pool_max in the database URL must be a number of connections from 1 to \
                             {POSTGRES_CONNECTIONS_MAX}, not '{value}'"
                        ))
                    },
                )?;
            }
            _ => kept.push(option),
        }
    }
    let url = if kept.is_empty() { base.to_string() } else { format!("{base}?{}", kept.join("&")) };
    Ok((url, size))
}

/// The `mmap_mb` option of a SQLite URL's query string (`sqlite:torg.db?mmap_mb=1024`), in bytes: how
/// much of the file each connection reads through a memory map (0, the default: none).
fn sqlite_mmap_bytes(options: &str) -> StoreResult<u64> {
    let Some((_, value)) = options.split('&').filter_map(|o| o.split_once('=')).find(|(k, _)| *k == "mmap_mb") else {
        return Ok(0);
    };
    value.parse::<u64>().ok().and_then(|mb| mb.checked_mul(1 << 20)).ok_or_else(|| {
        StoreError::Config(format!("mmap_mb in the database URL must be a number of MiB, not '{value}'"))
    })
}

impl Store {
    /// Connects to `url` (`sqlite:PATH`, `sqlite::memory:`, `postgres://…`), creating a SQLite file if
    /// needed. Does not migrate. A SQLite URL may end in `?mmap_mb=N` to read the file through a
    /// memory map of up to N MiB per connection; a PostgreSQL URL in `?pool_max=N` to keep up to N
    /// connections (16 by default).
    pub async fn connect(url: &str) -> StoreResult<Store> {
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let rest = rest.trim_start_matches("//");
            // The file is always opened read-write and created when missing; of the query string
            // (`?mode=rwc` was sqlx's) only `mmap_mb` is read.
            let (path, options) = rest.split_once('?').unwrap_or((rest, ""));
            let path =
                if path.is_empty() || path == ":memory:" { SqlitePath::Memory } else { SqlitePath::File(path.into()) };
            let files_dir = files::files_dir(&path);
            let sqlite = db::SqliteDb::open_mapped(path, sqlite_mmap_bytes(options)?)?;
            Ok(Store {
                backend: Backend::Sqlite,
                db: Db::Sqlite(sqlite),
                books: Default::default(),
                files_dir: Some(std::sync::Arc::new(files_dir)),
                numberer: None,
                seen: None,
                kept_pages: Default::default(),
                shown_at: None,
                key_checks: Default::default(),
                key_rounds: Default::default(),
            })
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let (url, size) = postgres_pool_size(url)?;
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(size)
                .acquire_timeout(std::time::Duration::from_secs(30))
                // sqlx asks the server whether a connection lives before every hand-out: a round trip
                // more for each statement a request runs. Only a connection idle for a while is asked
                // (one that failed since is closed by sqlx when it is given back).
                .test_before_acquire(false)
                .before_acquire(|conn, meta| {
                    Box::pin(async move {
                        if meta.idle_for >= POSTGRES_IDLE_CHECK {
                            sqlx::Connection::ping(conn).await?;
                        }
                        Ok(true)
                    })
                })
                .connect(&url)
                .await
                .map_err(db::DbError::from)?;
            let numberer = Some(std::sync::Arc::new(history::Numberer::start(pool.clone())));
            Ok(Store {
                backend: Backend::Postgres,
                db: Db::Postgres(pool),
                books: Default::default(),
                files_dir: None,
                numberer,
                seen: None,
                kept_pages: Default::default(),
                shown_at: None,
                key_checks: Default::default(),
                key_rounds: Default::default(),
            })
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
        match &self.db {
            Db::Sqlite(s) => s.migrate(&SQLITE_MIGRATIONS).await?,
            Db::Postgres(p) => POSTGRES_MIGRATIONS
                .run(p)
                .await
                .map_err(|e| StoreError::Database(db::DbError::from(sqlx::Error::from(e))))?,
        }
        self.seed_defaults().await?;
        self.number_history().await?;
        // SQLite's lower() folds ASCII only, so the name filters compare copies lowered in Rust. Every
        // writer keeps them now; rows written before that are brought up to date once.
        if self.meta("name_copies").await?.is_none() {
            self.refresh_name_copies("products").await?;
            self.refresh_name_copies("offers").await?;
            self.meta_init("name_copies", "1").await?;
        }
        // Likewise the list filters' facets (migration 0011) for orders and customers written before,
        // and once more for the delivery status facet (`deliveryStates`), which came later.
        if self.meta("list_facets").await?.is_none() || self.meta("delivery_status_facets").await?.is_none() {
            self.refresh_facets().await?;
            self.meta_init("list_facets", "1").await?;
            self.meta_init("delivery_status_facets", "1").await?;
            self.meta_init("phone_facets", "1").await?;
        }
        // Customers' phones as facets came later still: the buyer and caller look-ups read them by index.
        if self.meta("phone_facets").await?.is_none() {
            self.refresh_facets_of(&[facets::Owner::Customer]).await?;
            self.meta_init("phone_facets", "1").await?;
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
        let mut tx = self.db.begin().await?;
        if let (Backend::Postgres, Some(books)) = (self.backend, &self.seen) {
            tx.keep(books.clone());
        }
        Ok(tx)
    }

    /// This store as a request sees it that read `books` with its key check: its reads of the books
    /// (a list's status groups, say) take those, and on PostgreSQL its write transactions check
    /// against them instead of reading the books' generation once more.
    ///
    /// That saves a round trip and gives up nothing: under READ COMMITTED a generation read inside
    /// the transaction does not hold off a change of the books committed before this transaction's
    /// commit either, so the books of a moment earlier are as good. On SQLite the writer holds the
    /// database, the read is a function call, and the books a transaction checks against stay those
    /// of its commit. Meant for a request's order reads and writes; a request that changes the books
    /// itself keeps the plain store.
    pub fn seeing(&self, books: &std::sync::Arc<torg_domain::books::Books>) -> Store {
        Store { seen: Some(books.clone()), ..self.clone() }
    }

    /// This store as a request sees it whose key check read `generation`: its reads of orders take
    /// pages and orders kept at that generation as they are, without reading the database again
    /// (nothing they are read from was written since), and keep what they read under it. Meant for
    /// a request that reads orders before writing anything: its own write would not be seen.
    pub fn as_of(&self, generation: ShownGeneration) -> Store {
        Store { shown_at: Some(generation), ..self.clone() }
    }

    /// What the pages of orders kept by generation have done and hold (`/metrics`).
    pub fn kept_page_stats(&self) -> KeptPageStats {
        self.kept_pages.stats()
    }

    /// How many key checks were answered as kept, how many read the database, and in how many
    /// shared rounds (`/metrics`).
    pub fn key_check_stats(&self) -> KeyCheckStats {
        self.key_checks.stats(self.key_rounds.sent())
    }

    /// The generation this view's request read with its key check, if it is one.
    pub(crate) fn shown_at(&self) -> Option<i64> {
        self.shown_at.map(|g| g.0)
    }

    /// The books of the request this view is for, if it is one.
    pub(crate) fn seen_books(&self) -> Option<std::sync::Arc<torg_domain::books::Books>> {
        self.seen.clone()
    }

    /// The in-process copy of the books.
    pub(crate) fn book_cache(&self) -> &book_cache::BookCache {
        &self.books
    }

    /// The history numberer (PostgreSQL).
    pub(crate) fn numberer(&self) -> Option<std::sync::Arc<history::Numberer>> {
        self.numberer.clone()
    }

    /// The reading side of the database.
    pub(crate) fn reader(&self) -> &Db {
        &self.db
    }

    /// A value kept in the `meta` table, e.g. a server secret.
    pub async fn meta(&self, key: &str) -> StoreResult<Option<String>> {
        let row: Option<(String,)> =
            db::query_as("SELECT value FROM meta WHERE key = $1").bind(key).fetch_optional(&self.db).await?;
        Ok(row.map(|r| r.0))
    }

    /// Stores a value in the `meta` table unless one is there; returns the value that is kept. Two
    /// servers starting at once on a new database both call this; the first insert wins.
    pub async fn meta_init(&self, key: &str, value: &str) -> StoreResult<String> {
        let mut tx = self.begin().await?;
        db::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .bind(value)
            .execute(&mut *tx)
            .await?;
        let (kept,): (String,) =
            db::query_as("SELECT value FROM meta WHERE key = $1").bind(key).fetch_one(&mut *tx).await?;
        tx.commit().await?;
        Ok(kept)
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.db.close().await;
    }
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
    serde_json::from_str::<serde_json::Value>(text).ok().and_then(|v| v.as_object().cloned()).unwrap_or_default()
}

/// JSON text of an attributes map, as [`json_map`] reads it back.
pub(crate) fn json_text(map: &serde_json::Map<String, serde_json::Value>) -> String {
    serde_json::Value::Object(map.clone()).to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(super::redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(super::redact("sqlite:torg.db"), "sqlite:torg.db");
    }

    #[test]
    fn a_sqlite_url_may_ask_for_a_memory_map() {
        assert_eq!(super::sqlite_mmap_bytes("").unwrap(), 0);
        assert_eq!(super::sqlite_mmap_bytes("mode=rwc").unwrap(), 0);
        assert_eq!(super::sqlite_mmap_bytes("mode=rwc&mmap_mb=256").unwrap(), 256 << 20);
        let e = super::sqlite_mmap_bytes("mmap_mb=lots").unwrap_err().to_string();
        assert!(e.contains("mmap_mb") && e.contains("lots"), "{e}");
    }

    #[test]
    fn a_postgres_url_may_size_its_pool() {
        let size = super::postgres_pool_size;
        assert_eq!(size("postgres://u@h/db").unwrap(), ("postgres://u@h/db".into(), 16));
        assert_eq!(size("postgres://u@h/db?pool_max=40").unwrap(), ("postgres://u@h/db".into(), 40));
        // sqlx's own parameters stay, in their order, with torg's taken out from among them.
        assert_eq!(
            size("postgres://u:p@h/db?sslmode=disable&pool_max=4&application_name=torg").unwrap(),
            ("postgres://u:p@h/db?sslmode=disable&application_name=torg".into(), 4)
        );
        assert_eq!(size("postgres://u@h/db?sslmode=require").unwrap().1, 16);
        for bad in ["0", "1025", "-3", "many", ""] {
            let e = size(&format!("postgres://u:secret@h/db?pool_max={bad}")).unwrap_err().to_string();
            assert!(e.contains("pool_max") && e.contains(&format!("'{bad}'")), "{e}");
            assert!(!e.contains("secret"), "the error must not show the URL's password: {e}");
        }
    }
}

/// For tests: fresh databases (each test gets its own, so tests run side by side) and stamps.
pub mod testing {
    use super::StoreResult;
    use crate::db::DbError;
    use sqlx::{Connection, Executor, PgConnection};

    /// A stamp of an order at revision `rev` with no customer and no credit: for tests of what keeps
    /// orders by their stamps.
    pub fn order_stamp(rev: i64) -> crate::OrderStamp {
        crate::OrderStamp::of_revision(rev)
    }

    /// Creates database `name` on the server of `admin_url` and returns the URL of the new database.
    pub async fn create_postgres_database(admin_url: &str, name: &str) -> StoreResult<String> {
        let mut conn = PgConnection::connect(admin_url).await.map_err(DbError::from)?;
        conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\""))).await.map_err(DbError::from)?;
        conn.close().await.map_err(DbError::from)?;
        let base = match admin_url.rfind('/') {
            Some(slash) if slash > "postgres://".len() => &admin_url[..slash],
            _ => admin_url,
        };
        let query = admin_url.find('?').map(|q| &admin_url[q..]).unwrap_or("");
        Ok(format!("{base}/{name}{query}"))
    }

    /// Drops database `name`, disconnecting anyone still on it.
    pub async fn drop_postgres_database(admin_url: &str, name: &str) -> StoreResult<()> {
        let mut conn = PgConnection::connect(admin_url).await.map_err(DbError::from)?;
        conn.execute(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")))
            .await
            .map_err(DbError::from)?;
        conn.close().await.map_err(DbError::from)?;
        Ok(())
    }
}
