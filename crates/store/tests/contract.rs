//! The store contract: the same store-level tests, written once, run on both engines (SQLite and
//! PostgreSQL) through the public API of `torg_store`.
//!
//! `contract!(name)` turns `async fn name(db: &TestDb)` into `name::sqlite` and `name::postgres`. Each
//! run gets a fresh database: a SQLite file in a temporary folder, or a new database on the server at
//! `TORG_TEST_POSTGRES_URL` (dropped when the test ends, passed or failed). Without that variable the
//! PostgreSQL half fails, saying so; it is never skipped.

use serde_json::{Map, Value, json};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use torg_domain::history::Actor;
use torg_domain::key::{ALL_SCOPES, SiteAccess};
use torg_domain::order::Order;
use torg_domain::page::PageRequest;
use torg_domain::reference::{ReferenceEntry, ReferenceKind, Site, Warehouse, defaults};
use torg_domain::time::Zone;
use torg_domain::{DomainError, FieldErrors};
use torg_store::db::{self, DbError};
use torg_store::{Backend, CustomerFilter, HistoryFilter, NewKey, OrderFilter, OrderLookup, Store, StoreError};

// ---------------------------------------------------------------------------------------------------------
// Harness

/// A fresh database for one test, on one engine.
pub struct TestDb {
    backend: Backend,
    url: String,
    /// The SQLite file (SQLite only).
    sqlite_path: Option<PathBuf>,
    _dir: Option<tempfile::TempDir>,
    /// (admin URL, database name) to drop at the end (PostgreSQL only).
    pg: Option<(String, String)>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// The PostgreSQL server the contract runs on; the PostgreSQL tests fail without it.
fn postgres_admin_url() -> String {
    std::env::var("TORG_TEST_POSTGRES_URL").expect(
        "TORG_TEST_POSTGRES_URL must point at a PostgreSQL server (e.g. postgres://postgres@127.0.0.1:5432/postgres; \
         scripts/test sets it): the PostgreSQL half of the store contract cannot run without it",
    )
}

impl TestDb {
    async fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join("torg.db");
                TestDb {
                    backend,
                    url: format!("sqlite:{}", path.display()),
                    sqlite_path: Some(path),
                    _dir: Some(dir),
                    pg: None,
                }
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.subsec_nanos())
                    .unwrap_or_default();
                let name =
                    format!("torg_contract_{}_{}_{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst));
                let url = torg_store::testing::create_postgres_database(&admin, &name)
                    .await
                    .expect("create a test database on TORG_TEST_POSTGRES_URL");
                TestDb { backend, url, sqlite_path: None, _dir: None, pg: Some((admin, name)) }
            }
        }
    }

    /// Opens (and migrates) a store on this database: one server instance.
    async fn open(&self) -> Store {
        let store = Store::open(&self.url).await.unwrap_or_else(|e| panic!("open {:?} store: {e}", self.backend));
        assert_eq!(store.backend(), self.backend);
        store
    }

    /// The folder of this engine's migrations.
    fn migrations_dir(&self) -> PathBuf {
        let engine = match self.backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        };
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("migrations").join(engine)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.pg.take() {
            // Drop runs outside async: clean up on a thread of its own with its own runtime.
            let dropped = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                rt.block_on(torg_store::testing::drop_postgres_database(&admin, &name))
                    .map_err(|e| format!("drop test database {name}: {e}"))
            })
            .join();
            if let Ok(Err(e)) = dropped
                && !std::thread::panicking()
            {
                panic!("{e}");
            }
        }
    }
}

/// Declares contract tests: for each `async fn name(db: &TestDb)`, a module `name` with the tests
/// `sqlite` and `postgres`. Attributes after `sqlite:` / `postgres:` go on that engine's test only.
macro_rules! contract {
    ($name:ident $(, sqlite: #[$sa:meta])* $(, postgres: #[$pa:meta])* $(,)?) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            $(#[$sa])*
            async fn sqlite() {
                let db = super::TestDb::new(torg_store::Backend::Sqlite).await;
                super::$name(&db).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            $(#[$pa])*
            async fn postgres() {
                let db = super::TestDb::new(torg_store::Backend::Postgres).await;
                super::$name(&db).await;
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------------------
// Helpers

const ACTOR: Actor = Actor::User(None);
const DEFAULT_SITE: &str = "default";
const SECOND_SITE: &str = "second";

fn zone() -> Zone {
    Zone::named("Europe/Moscow").expect("time zone")
}

fn page() -> PageRequest {
    PageRequest { limit: 100, page: 1 }
}

fn doc(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("an order document is an object, not {other}"),
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

fn site(code: &str, name: &str, ordering: i64) -> Site {
    Site { id: 0, code: code.into(), name: name.into(), url: None, ordering, attrs: Map::new() }
}

async fn create_order(store: &Store, site: &str, v: Value) -> Order {
    store
        .create_order(site, &doc(v.clone()), ACTOR, &zone())
        .await
        .unwrap_or_else(|e| panic!("create {v} on {site}: {e}"))
}

/// The per-field messages of a refused write; anything else fails the test.
fn invalid(r: Result<Order, StoreError>) -> FieldErrors {
    match r {
        Err(StoreError::Domain(DomainError::Invalid(f))) => f,
        Err(other) => panic!("expected a validation error, got {other:?}"),
        Ok(o) => panic!("expected a validation error, the order was created: {} {}", o.id, o.number),
    }
}

/// How many orders the sites have, by every route a list takes: the trigger-kept counters (a filter of
/// sites alone), a `COUNT(*)` (any other filter, here one that every order passes) and the rows themselves.
/// All three must agree.
async fn orders_on(store: &Store, sites: &[&str]) -> u64 {
    let sites = strings(sites);
    let (rows, counter) =
        store.list_orders(&OrderFilter { sites: sites.clone(), ..OrderFilter::default() }, page()).await.unwrap();
    let (counted_rows, counted) = store
        .list_orders(&OrderFilter { sites: sites.clone(), created_from: Some(0), ..OrderFilter::default() }, page())
        .await
        .unwrap();
    assert!(rows.len() < 100, "the helper pages once");
    assert_eq!(counter, counted, "orders on {sites:?}: counter total vs COUNT(*) total");
    assert_eq!(counter, rows.len() as u64, "orders on {sites:?}: counter total vs rows listed");
    assert_eq!(counted_rows.len(), rows.len());
    counter
}

/// [`orders_on`] for customers.
async fn customers_on(store: &Store, sites: &[&str]) -> u64 {
    let sites = strings(sites);
    let (rows, counter) = store
        .list_customers(&CustomerFilter { sites: sites.clone(), ..CustomerFilter::default() }, page())
        .await
        .unwrap();
    let (counted_rows, counted) = store
        .list_customers(
            &CustomerFilter { sites: sites.clone(), created_from: Some(0), ..CustomerFilter::default() },
            page(),
        )
        .await
        .unwrap();
    assert!(rows.len() < 100, "the helper pages once");
    assert_eq!(counter, counted, "customers on {sites:?}: counter total vs COUNT(*) total");
    assert_eq!(counter, rows.len() as u64, "customers on {sites:?}: counter total vs rows listed");
    assert_eq!(counted_rows.len(), rows.len());
    counter
}

/// How many history records of orders and of customers there are.
async fn history_sizes(store: &Store) -> (u64, u64) {
    let (_, orders) = store.order_history(&HistoryFilter::default(), page()).await.unwrap();
    let (_, customers) = store.customer_history(&HistoryFilter::default(), page()).await.unwrap();
    (orders, customers)
}

fn new_key(plain: &str, name: &str, sites: SiteAccess) -> NewKey {
    NewKey {
        plain: plain.into(),
        name: name.into(),
        scopes: ALL_SCOPES.iter().map(|s| (*s).to_string()).collect(),
        sites,
        allowed_ips: Vec::new(),
        customer_external_id: None,
        distributor: None,
    }
}

fn site_names(sites: &[Site]) -> Vec<(String, String)> {
    sites.iter().map(|s| (s.code.clone(), s.name.clone())).collect()
}

fn entry_named<'a>(entries: &'a [ReferenceEntry], code: &str) -> &'a ReferenceEntry {
    entries.iter().find(|e| e.code == code).unwrap_or_else(|| panic!("no entry '{code}'"))
}

/// Runs one read statement, made at run time, in a transaction of its own.
async fn scalar_of(store: &Store, sql: String) -> i64 {
    let mut tx = store.begin().await.unwrap();
    let n: i64 = db::query_scalar(sql.clone()).fetch_one(&mut *tx).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    tx.rollback().await.unwrap();
    n
}

/// Runs one read statement in a transaction of its own (the public way to reach `torg_store::db`).
async fn scalar(store: &Store, sql: &'static str) -> i64 {
    let mut tx = store.begin().await.unwrap();
    let n: i64 = db::query_scalar(sql).fetch_one(&mut *tx).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    tx.rollback().await.unwrap();
    n
}

// ---------------------------------------------------------------------------------------------------------
// 1. Migrations

contract!(every_foreign_key_leads_an_index);
/// Every foreign key's referencing column leads an index (or is the row's key): without one, deleting
/// or re-keying the row it refers to reads the whole referencing table (merging customers read every
/// order). The migrations to come must keep it so.
async fn every_foreign_key_leads_an_index(db: &TestDb) {
    let store = db.open().await;
    let sql = match db.backend {
        Backend::Sqlite => {
            "SELECT m.name || '.' || f.\"from\" FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f
             WHERE m.type = 'table'
             AND NOT EXISTS (SELECT 1 FROM pragma_index_list(m.name) il JOIN pragma_index_info(il.name) ii
                             WHERE ii.seqno = 0 AND ii.name = f.\"from\")
             AND NOT EXISTS (SELECT 1 FROM pragma_table_info(m.name) t WHERE t.pk = 1 AND t.name = f.\"from\")
             ORDER BY 1"
        }
        Backend::Postgres => {
            "SELECT CAST(c.conrelid::regclass AS TEXT) || '.' || a.attname FROM pg_constraint c
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
             WHERE c.contype = 'f'
             AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.conrelid AND i.indkey[0] = c.conkey[1])
             ORDER BY 1"
        }
    };
    let mut tx = store.begin().await.unwrap();
    let keys: Vec<String> = db::query_scalar(sql).fetch_all(&mut *tx).await.unwrap();
    let all: i64 = db::query_scalar(match db.backend {
        Backend::Sqlite => {
            "SELECT COUNT(*) FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f WHERE m.type = 'table'"
        }
        Backend::Postgres => "SELECT COUNT(*) FROM pg_constraint WHERE contype = 'f'",
    })
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    tx.rollback().await.unwrap();
    assert!(all > 20, "the foreign keys are read: {all}");
    assert!(keys.is_empty(), "foreign keys without an index on their column: {keys:?}");
    store.close().await;
}

contract!(migrations_are_idempotent_and_data_survives_reopening);
/// Opening an up-to-date database again (and migrating it again) changes nothing: data written before
/// is there, the seeded books are not seeded twice, edits to them are kept, every migration is recorded
/// once.
async fn migrations_are_idempotent_and_data_survives_reopening(db: &TestDb) {
    let migrations = std::fs::read_dir(db.migrations_dir())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "sql"))
        .count();
    let migrations = i64::try_from(migrations).unwrap();
    assert!(migrations >= 7);
    // The newest migration's number: numbers are reserved per branch, so a branch may lack one below it.
    let newest = std::fs::read_dir(db.migrations_dir())
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().to_str()?.split('_').next()?.parse::<i64>().ok())
        .max()
        .unwrap();

    let store = db.open().await;
    assert_eq!(site_names(&store.list_sites().await.unwrap()), vec![(DEFAULT_SITE.into(), "Основной магазин".into())]);
    assert_eq!(store.meta_init("contract-secret", "s3cret").await.unwrap(), "s3cret");
    let kept = create_order(
        &store,
        DEFAULT_SITE,
        json!({"externalId": "keep-1", "email": "keep@example.com", "firstName": "Kee"}),
    )
    .await;
    let mut renamed = entry_named(&store.list_refs(ReferenceKind::Status).await.unwrap(), "new").clone();
    renamed.name = "Fresh".into();
    assert!(!store.upsert_ref(ReferenceKind::Status, &renamed).await.unwrap(), "the entry existed");

    store.migrate().await.unwrap();
    store.migrate().await.unwrap();

    let check = |store: Store| async move {
        assert_eq!(
            site_names(&store.list_sites().await.unwrap()),
            vec![(DEFAULT_SITE.into(), "Основной магазин".into())],
            "one seeded site, not two"
        );
        let warehouses: Vec<String> = store.list_warehouses().await.unwrap().into_iter().map(|w| w.code).collect();
        assert_eq!(warehouses, vec!["main"]);
        for kind in ReferenceKind::ALL {
            let codes: Vec<String> = store.list_refs(kind).await.unwrap().into_iter().map(|e| e.code).collect();
            let mut expected: Vec<String> = defaults(kind).into_iter().map(|e| e.code).collect();
            let mut sorted = codes.clone();
            sorted.sort();
            expected.sort();
            assert_eq!(sorted, expected, "{kind:?} is seeded once");
        }
        assert_eq!(entry_named(&store.list_refs(ReferenceKind::Status).await.unwrap(), "new").name, "Fresh");
        assert_eq!(store.meta("contract-secret").await.unwrap().as_deref(), Some("s3cret"));
        assert_eq!(store.meta_init("contract-secret", "other").await.unwrap(), "s3cret", "a kept value stays");
        assert_eq!(
            scalar(&store, "SELECT COUNT(*) FROM _sqlx_migrations WHERE success = TRUE").await,
            migrations,
            "every migration recorded once"
        );
        assert_eq!(scalar(&store, "SELECT COUNT(*) FROM _sqlx_migrations").await, migrations);
        assert_eq!(scalar(&store, "SELECT MAX(version) FROM _sqlx_migrations").await, newest);
        assert_eq!(orders_on(&store, &[DEFAULT_SITE]).await, 1);
        assert_eq!(customers_on(&store, &[DEFAULT_SITE]).await, 1);
        store
    };
    let store = check(store).await;
    store.close().await;
    drop(store);

    // A second server start on the same database.
    let store = check(db.open().await).await;
    let again = store.get_order(&OrderLookup::Number(kept.number.clone())).await.unwrap().expect("order kept");
    assert_eq!(
        (again.id, again.external_id.as_deref(), again.customer_id),
        (kept.id, Some("keep-1"), kept.customer_id)
    );
    assert_eq!(again.email.as_deref(), Some("keep@example.com"));
    // It writes: the counters and the id sequence go on from where they were.
    let next = create_order(&store, DEFAULT_SITE, json!({"externalId": "keep-2", "email": "keep@example.com"})).await;
    assert!(next.id > kept.id);
    assert_eq!(next.customer_id, kept.customer_id, "attached to the existing customer by e-mail");
    assert_eq!(orders_on(&store, &[DEFAULT_SITE]).await, 2);
    assert_eq!(customers_on(&store, &[DEFAULT_SITE]).await, 1);
    // A store that only connects (no migration) reads the same database.
    let plain = Store::connect(&db.url).await.unwrap();
    assert_eq!(orders_on(&plain, &[DEFAULT_SITE]).await, 2);
    plain.close().await;
    store.close().await;
}

/// The migration that added the counters and the books generation.
const COUNTERS_MIGRATION: i64 = 7;

/// A database of `db` taken to the migrations before `first_left_out`, opened without a `Store`.
async fn older_database(db: &TestDb, first_left_out: i64) -> db::Db {
    let all = sqlx::migrate::Migrator::new(db.migrations_dir()).await.expect("read the migrations");
    let older =
        sqlx::migrate::Migrator::with_migrations(all.iter().filter(|m| m.version < first_left_out).cloned().collect());
    assert_eq!(older.iter().count(), usize::try_from(first_left_out - 1).unwrap());
    match db.backend {
        Backend::Sqlite => {
            let path = db.sqlite_path.clone().unwrap();
            let sqlite = db::SqliteDb::open(db::SqlitePath::File(path)).unwrap();
            sqlite.migrate(&older).await.expect("migrate to the older schema");
            db::Db::Sqlite(sqlite)
        }
        Backend::Postgres => {
            let pool = sqlx::postgres::PgPool::connect(&db.url).await.unwrap();
            older.run(&pool).await.expect("migrate to the older schema");
            db::Db::Postgres(pool)
        }
    }
}

contract!(loyalty_accounts_and_shipments_are_counted_from_the_rows_there);
/// A database from before the loyalty accounts' and delivery shipments' counters (SQLite 0032,
/// PostgreSQL 0034) has them counted from its rows when it is taken forward, and counted on after.
async fn loyalty_accounts_and_shipments_are_counted_from_the_rows_there(db: &TestDb) {
    let handle = older_database(db, if db.backend == Backend::Sqlite { 32 } else { 34 }).await;
    let mut tx = handle.begin().await.unwrap();
    let loyalty: i64 = db::query_scalar(
        "INSERT INTO loyalties (site, name, currency, max_charge_percent, created_at)
         VALUES ($1, 'Club', 'RUB', 0, 1) RETURNING id",
    )
    .bind(DEFAULT_SITE)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    for n in 1..=3 {
        let customer: i64 = db::query_scalar(
            "INSERT INTO customers (site, email, phones, created_at, updated_at, doc) VALUES ($1, $2, '', 1, 1, '{}')
             RETURNING id",
        )
        .bind(DEFAULT_SITE)
        .bind(format!("loyal{n}@old.example"))
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        db::query("INSERT INTO loyalty_accounts (loyalty_id, customer_id, site, created_at) VALUES ($1, $2, $3, 1)")
            .bind(loyalty)
            .bind(customer)
            .bind(DEFAULT_SITE)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    for _ in 0..2 {
        db::query(
            "INSERT INTO delivery_shipments (delivery_type, status, date, doc, created_at, updated_at)
             VALUES ('courier', 'new', '2030-01-01', '{}', 1, 1)",
        )
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    handle.close().await;
    drop(handle);

    let store = db.open().await;
    let sites = strings(&[DEFAULT_SITE]);
    let page = PageRequest { limit: 20, page: 1 };
    let accounts = |store: &Store| {
        let (store, sites) = (store.clone(), sites.clone());
        async move {
            let (rows, meta) = store.list_loyalty_accounts(&Default::default(), &sites, page).await.unwrap();
            (rows.len(), meta.total_count)
        }
    };
    let shipments = |store: &Store| {
        let (store, sites) = (store.clone(), sites.clone());
        async move {
            let (rows, meta) = store.list_shipments(&Default::default(), &sites, page).await.unwrap();
            (rows.len(), meta.total_count)
        }
    };
    assert_eq!((accounts(&store).await, shipments(&store).await), ((3, 3), (2, 2)));
    let mut tx = store.begin().await.unwrap();
    db::query(
        "INSERT INTO delivery_shipments (delivery_type, status, date, doc, created_at, updated_at)
         VALUES ('courier', 'new', '2030-01-02', '{}', 2, 2)",
    )
    .execute(&mut *tx)
    .await
    .unwrap();
    db::query("DELETE FROM loyalty_accounts WHERE id = (SELECT MIN(id) FROM loyalty_accounts)")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!((accounts(&store).await, shipments(&store).await), ((2, 2), (3, 3)));
    store.close().await;
}

contract!(an_older_database_is_taken_forward);
/// A database written by a torg from before the row counters (schema at migration 6, rows in it) is
/// brought up to date by `Store::open`: the counters start from the rows already there, and go on
/// counting from there.
async fn an_older_database_is_taken_forward(db: &TestDb) {
    let all = sqlx::migrate::Migrator::new(db.migrations_dir()).await.expect("read the migrations");
    let handle = older_database(db, COUNTERS_MIGRATION).await;
    // What an older torg left: its own site, two customers, three orders, one of them a customer's.
    let mut tx = handle.begin().await.unwrap();
    db::query("INSERT INTO sites (code, name, url, ordering, attrs, created_at) VALUES ($1, $2, $3, 1, '{}', 1)")
        .bind("old-shop")
        .bind("Old shop")
        .bind(None::<String>)
        .execute(&mut *tx)
        .await
        .unwrap();
    let mut customer_ids = Vec::new();
    for (email, phones, doc) in [
        ("a@old.example", "", "{}"),
        ("b@old.example", "74951234567", r#"{"phones":[{"number":"+7 (495) 123-45-67"}]}"#),
    ] {
        let id: i64 = db::query_scalar(
            "INSERT INTO customers (site, email, phones, created_at, updated_at, doc) VALUES ($1, $2, $3, 100, 100, $4)
             RETURNING id",
        )
        .bind("old-shop")
        .bind(email)
        .bind(phones)
        .bind(doc)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        customer_ids.push(id);
    }
    for (i, customer) in [Some(customer_ids[0]), None, None].into_iter().enumerate() {
        db::query(
            "INSERT INTO orders (number, site, status, customer_id, created_at, updated_at, status_updated_at, doc)
             VALUES ($1, $2, 'new', $3, $4, $4, $4, '{}')",
        )
        .bind(format!("OLD-{i}"))
        .bind("old-shop")
        .bind(customer)
        .bind(200 + i64::try_from(i).unwrap())
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    // Two invoices of the billing face (counted since SQLite 0030, PostgreSQL 0032).
    for n in 1..=2 {
        db::query(
            "INSERT INTO invoices (id, container_id, site, merchant_id, merchant_order_id, status, amount,
             vat_amount, currency, language, description, created_at, expires_at, updated_at, doc)
             VALUES ($1, $2, 'old-shop', 'old-merchant', $3, 'created', 10000, 0, 'RUB', 'ru', 'Old', 1,
             4102444800, 1, '{}')",
        )
        .bind(format!("00000000-0000-0000-0000-00000000000{n}"))
        .bind(format!("00000000-0000-0000-0000-00000000010{n}"))
        .bind(format!("old-{n}"))
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    // And a part in stock, with two units of seven reserved (migration 0025 rebuilds SQLite's stock).
    let id = |sql: &'static str| db::query_scalar::<i64>(sql);
    let warehouse =
        id("INSERT INTO warehouses (code, name, created_at) VALUES ('old-wh', 'Old warehouse', 1) RETURNING id")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    let product = id("INSERT INTO products (article, brand, name, active, created_at, article_norm, brand_norm)
                      VALUES ('OLD-PART-1', 'Oldbrand', 'Old part', 1, 1, 'OLDPART1', 'OLDBRAND') RETURNING id")
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    let offer = db::query_scalar::<i64>(
        "INSERT INTO offers (product_id, name, price, active) VALUES ($1, 'Old part', 1234500, 1) RETURNING id",
    )
    .bind(product)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    db::query("INSERT INTO stock (offer_id, warehouse_id, available, reserved, updated_at) VALUES ($1, $2, 7, 2, 1)")
        .bind(offer)
        .bind(warehouse)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    handle.close().await;
    drop(handle);

    let store = db.open().await;
    let found = store.search_parts("old-part-1").await.unwrap();
    let found: Vec<_> = found.iter().map(|r| (r.offer_id, r.warehouse.as_str(), r.free, r.price.to_string())).collect();
    assert_eq!(found, vec![(offer, "old-wh", Some(5), "123.45".to_string())], "the stock row came through");
    assert_eq!(
        site_names(&store.list_sites().await.unwrap()),
        vec![("old-shop".into(), "Old shop".into())],
        "no default site is seeded next to an existing one"
    );
    assert_eq!(orders_on(&store, &["old-shop"]).await, 3, "counters start from the rows already there");
    let products = store.store_products(&torg_store::ProductFilter::default(), page()).await.unwrap().1;
    let offers = store.store_offers(&torg_store::OfferFilter::default(), page()).await.unwrap().1;
    assert_eq!((products, offers), (1, 1), "the catalogue's counters too");
    let unfiltered = torg_domain::listing::ListQuery { conditions: vec![], sort: vec![], page: 1, page_size: 30 };
    let (invoices, total) = store.list_invoices(&strings(&["old-shop"]), &unfiltered).await.unwrap();
    assert_eq!((invoices.len(), total), (2, 2), "the billing lists' counters too");
    assert_eq!(customers_on(&store, &["old-shop"]).await, 2);
    let (listed, _) = store
        .list_orders(&OrderFilter { sites: strings(&["old-shop"]), ..OrderFilter::default() }, page())
        .await
        .unwrap();
    let numbers: Vec<&str> = listed.iter().map(|o| o.number.as_str()).collect();
    assert_eq!(numbers, vec!["OLD-2", "OLD-1", "OLD-0"], "newest first");
    assert_eq!(
        scalar(&store, "SELECT MAX(version) FROM _sqlx_migrations").await,
        all.iter().map(|m| m.version).max().unwrap()
    );

    let o = create_order(&store, "old-shop", json!({"externalId": "new-1", "email": "a@old.example"})).await;
    assert_eq!(o.customer_id, Some(customer_ids[0]));
    create_order(&store, "old-shop", json!({"externalId": "new-2", "email": "c@old.example"})).await;
    // An old buyer's phone, written before phones were facets, finds it.
    let o = create_order(&store, "old-shop", json!({"externalId": "new-3", "phone": "8 495 123 45 67"})).await;
    assert!(o.customer_id.is_some_and(|c| !customer_ids.contains(&c)), "other digits make a new buyer");
    let o = create_order(&store, "old-shop", json!({"externalId": "new-4", "phone": "+7 (495) 123-45-67"})).await;
    assert_eq!(o.customer_id, Some(customer_ids[1]));
    assert_eq!(orders_on(&store, &["old-shop"]).await, 7);
    assert_eq!(customers_on(&store, &["old-shop"]).await, 4);
    // Opening once more does not count the old rows twice.
    store.close().await;
    let store = db.open().await;
    assert_eq!(orders_on(&store, &["old-shop"]).await, 7);
    assert_eq!(customers_on(&store, &["old-shop"]).await, 4);
    store.close().await;
    // A database whose other facets are kept but whose phones are not (a torg of the last version):
    // its customers' phone facets are written on the next open.
    let handle = db.open().await;
    let mut tx = handle.begin().await.unwrap();
    db::query("DELETE FROM customer_facets WHERE name = 'phone'").execute(&mut *tx).await.unwrap();
    db::query("DELETE FROM meta WHERE key = 'phone_facets'").execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(handle.manager_for_phone("74951234567", &strings(&["old-shop"])).await.unwrap().customer, None);
    handle.close().await;
    let store = db.open().await;
    let found = store.manager_for_phone("+7 495 123-45-67", &strings(&["old-shop"])).await.unwrap();
    assert_eq!(found.customer.map(|c| c.0.id), Some(customer_ids[1]));
    store.close().await;
}

contract!(two_instances_open_a_fresh_database_at_once);
/// Two servers started at the same moment on a new database both come up, and the books are seeded once.
async fn two_instances_open_a_fresh_database_at_once(db: &TestDb) {
    // Spawned, so that the two run on two threads (SQLite's statements run without yielding, so two
    // futures polled by one task would open one after the other).
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(2));
    let open = |url: String| {
        let start = start.clone();
        tokio::spawn(async move {
            start.wait().await;
            Store::open(&url).await
        })
    };
    let (a, b) = (open(db.url.clone()), open(db.url.clone()));
    let a = a.await.expect("task").unwrap_or_else(|e| panic!("first instance: {e}"));
    let b = b.await.expect("task").unwrap_or_else(|e| panic!("second instance: {e}"));
    for store in [&a, &b] {
        assert_eq!(
            site_names(&store.list_sites().await.unwrap()),
            vec![(DEFAULT_SITE.into(), "Основной магазин".into())]
        );
        assert_eq!(store.list_refs(ReferenceKind::Status).await.unwrap().len(), defaults(ReferenceKind::Status).len());
    }
    a.close().await;
    b.close().await;
}

contract!(a_database_url_carries_torgs_own_options);
/// torg's own options in a database URL are read and kept from the driver: `pool_max` sizes the
/// PostgreSQL pool (16 without it), `mmap_mb` maps SQLite's file; a store opened with them writes and
/// reads, and a wrong value is refused with the option's name.
async fn a_database_url_carries_torgs_own_options(db: &TestDb) {
    let (option, max) = match db.backend {
        Backend::Sqlite => ("mmap_mb=8", 8),
        Backend::Postgres => ("pool_max=3", 3),
    };
    let plain = Store::open(&db.url).await.unwrap();
    let default_max = plain.pool_stats().max;
    plain.close().await;
    let store =
        Store::open(&format!("{}?{option}", db.url)).await.unwrap_or_else(|e| panic!("open with {option}: {e}"));
    match db.backend {
        Backend::Sqlite => assert_eq!(store.pool_stats().max, default_max, "mmap_mb leaves the readers as they are"),
        Backend::Postgres => {
            assert_eq!(default_max, 16);
            assert_eq!(store.pool_stats().max, max);
        }
    }
    assert!(store.upsert_site(&site(SECOND_SITE, "Second", 2)).await.unwrap());
    assert_eq!(
        site_names(&store.list_sites().await.unwrap()),
        vec![(DEFAULT_SITE.into(), "Основной магазин".into()), (SECOND_SITE.into(), "Second".into())]
    );
    store.close().await;
    let bad = match db.backend {
        Backend::Sqlite => "mmap_mb=lots",
        Backend::Postgres => "pool_max=0",
    };
    let e = Store::open(&format!("{}?{bad}", db.url)).await.map(|_| ()).unwrap_err().to_string();
    assert!(e.contains(bad.split('=').next().unwrap()), "{e}");
}

// ---------------------------------------------------------------------------------------------------------
// 2. Counters

contract!(row_counters_are_exact);
/// The totals of the order and customer lists are exact on both routes (trigger-kept counters for a
/// filter of sites alone, `COUNT(*)` otherwise), per site and over several sites, and a refused write
/// or an edit leaves them as they were.
async fn row_counters_are_exact(db: &TestDb) {
    let store = db.open().await;
    assert!(store.upsert_site(&site(SECOND_SITE, "Second", 2)).await.unwrap());
    assert_eq!(orders_on(&store, &[DEFAULT_SITE]).await, 0);
    assert_eq!(orders_on(&store, &[DEFAULT_SITE, SECOND_SITE]).await, 0);
    assert_eq!(customers_on(&store, &[DEFAULT_SITE, SECOND_SITE]).await, 0);

    let mut created = Vec::new();
    for i in 0..3 {
        created.push(
            create_order(
                &store,
                DEFAULT_SITE,
                json!({"externalId": format!("d-{i}"), "email": format!("d{i}@example.com")}),
            )
            .await,
        );
    }
    for i in 0..2 {
        created.push(
            create_order(
                &store,
                SECOND_SITE,
                json!({"externalId": format!("s-{i}"), "email": format!("s{i}@example.com")}),
            )
            .await,
        );
    }
    store.create_customer(SECOND_SITE, &doc(json!({"externalId": "lone", "firstName": "Lone"})), ACTOR).await.unwrap();
    // An order by a known e-mail adds an order, not a customer.
    create_order(&store, SECOND_SITE, json!({"externalId": "s-2", "email": "s0@example.com"})).await;

    assert_eq!(orders_on(&store, &[DEFAULT_SITE]).await, 3);
    assert_eq!(orders_on(&store, &[SECOND_SITE]).await, 3);
    assert_eq!(orders_on(&store, &[DEFAULT_SITE, SECOND_SITE]).await, 6);
    assert_eq!(orders_on(&store, &["no-such-site"]).await, 0);
    assert_eq!(customers_on(&store, &[DEFAULT_SITE]).await, 3);
    assert_eq!(customers_on(&store, &[SECOND_SITE]).await, 3);
    assert_eq!(customers_on(&store, &[DEFAULT_SITE, SECOND_SITE]).await, 6);
    // A narrowing filter counts its own matches.
    let (rows, total) = store
        .list_orders(
            &OrderFilter {
                sites: strings(&[DEFAULT_SITE, SECOND_SITE]),
                email: Some("s0@example.com".into()),
                ..OrderFilter::default()
            },
            page(),
        )
        .await
        .unwrap();
    assert_eq!((rows.len(), total), (2, 2));
    let (rows, total) = store
        .list_orders(
            &OrderFilter { sites: strings(&[DEFAULT_SITE]), ids: vec![created[4].id], ..OrderFilter::default() },
            page(),
        )
        .await
        .unwrap();
    assert_eq!((rows.len(), total), (0, 0), "order {} is on the other site", created[4].id);
    // Paging does not change the total.
    let (rows, total) = store
        .list_orders(
            &OrderFilter { sites: strings(&[DEFAULT_SITE, SECOND_SITE]), ..OrderFilter::default() },
            PageRequest { limit: 4, page: 2 },
        )
        .await
        .unwrap();
    assert_eq!((rows.len(), total), (2, 6));

    // Refused writes count nothing.
    let e = invalid(
        store
            .create_order(
                DEFAULT_SITE,
                &doc(json!({"status": "no-such-status", "email": "x1@example.com"})),
                ACTOR,
                &zone(),
            )
            .await,
    );
    assert_eq!(e.get("status").map(String::as_str), Some("Status 'no-such-status' does not exist."));
    let e = invalid(store.create_order("no-such-site", &doc(json!({"email": "x2@example.com"})), ACTOR, &zone()).await);
    assert!(e.contains_key("site"), "{e:?}");
    // This one gets as far as creating its customer before the order row is refused.
    let e = invalid(
        store
            .create_order(DEFAULT_SITE, &doc(json!({"externalId": "d-0", "email": "x3@example.com"})), ACTOR, &zone())
            .await,
    );
    assert_eq!(e.get("externalId").map(String::as_str), Some("Order with this externalId already exists."));
    assert_eq!(orders_on(&store, &[DEFAULT_SITE, SECOND_SITE]).await, 6);
    assert_eq!(customers_on(&store, &[DEFAULT_SITE, SECOND_SITE]).await, 6);
    assert_eq!(customers_on(&store, &[DEFAULT_SITE]).await, 3);

    // An edit (the row is rewritten, its site with it) moves no count.
    let edited = store
        .edit_order(
            &OrderLookup::Id(created[0].id),
            &doc(json!({"status": "complete", "managerComment": "done", "firstName": "Edited"})),
            ACTOR,
            &strings(&[DEFAULT_SITE]),
            &zone(),
        )
        .await
        .unwrap();
    assert_eq!((edited.status.as_str(), edited.site.as_str()), ("complete", DEFAULT_SITE));
    assert_eq!(orders_on(&store, &[DEFAULT_SITE]).await, 3);
    assert_eq!(orders_on(&store, &[SECOND_SITE]).await, 3);
    let (_, total) = store
        .list_orders(
            &OrderFilter {
                sites: strings(&[DEFAULT_SITE]),
                extended_status: strings(&["complete"]),
                ..OrderFilter::default()
            },
            page(),
        )
        .await
        .unwrap();
    assert_eq!(total, 1);
    store.close().await;
}

contract!(a_writer_counts_on_its_own_shard);
/// The counters' triggers put a writer's rows on a shard of its own: on PostgreSQL its backend's
/// process id modulo 64 (two writers on one shard queue on its row until the first commits; migration
/// 0033 once brought back 16 unnoticed), on SQLite's single writer shard 0. Both kinds of trigger:
/// the row trigger (tasks, by site) and the statement trigger (delivery shipments, of no site).
async fn a_writer_counts_on_its_own_shard(db: &TestDb) {
    let store = db.open().await;
    let mut tx = store.begin().await.unwrap();
    let shard: i64 = match store.backend() {
        torg_store::Backend::Postgres => {
            db::query_scalar::<i64>("SELECT CAST(pg_backend_pid() AS BIGINT)").fetch_one(&mut *tx).await.unwrap() % 64
        }
        torg_store::Backend::Sqlite => 0,
    };
    db::query("INSERT INTO tasks (text, created_at, updated_at, performer_id, site) VALUES ('shard', 0, 0, 1, $1)")
        .bind(DEFAULT_SITE)
        .execute(&mut *tx)
        .await
        .unwrap();
    db::query(
        "INSERT INTO delivery_shipments (delivery_type, status, date, doc, created_at, updated_at)
         VALUES ('courier', 'new', '2030-01-01', '{}', 0, 0)",
    )
    .execute(&mut *tx)
    .await
    .unwrap();
    let counted: Vec<(String, String, i64)> = db::query_as(
        "SELECT entity, site, CAST(n AS BIGINT) FROM row_counts WHERE shard = $1
         AND entity IN ('tasks', 'delivery_shipments') ORDER BY entity",
    )
    .bind(shard)
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(
        counted,
        [("delivery_shipments".to_owned(), String::new(), 1), ("tasks".to_owned(), DEFAULT_SITE.to_owned(), 1)],
        "shard {shard}"
    );
    if store.backend() == torg_store::Backend::Postgres {
        // A process id modulo 16 is the same modulo 64 a quarter of the time: every function that
        // picks a shard by process id is read too, so that a redefinition cannot slip by.
        let mut tx = store.begin().await.unwrap();
        let picks: Vec<(String, String)> = db::query_as(
            "SELECT proname::text, prosrc FROM pg_proc WHERE prosrc LIKE '%pg_backend_pid()%' ORDER BY proname",
        )
        .fetch_all(&mut *tx)
        .await
        .unwrap();
        tx.rollback().await.unwrap();
        assert!(picks.len() >= 3, "{picks:?}");
        for (name, source) in &picks {
            let spread: String = source.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(spread.contains("pg_backend_pid() % 64"), "{name} picks its shard otherwise: {spread}");
        }
    }
    store.close().await;
}

contract!(an_empty_site_list_lists_nothing);
/// A caller that may see no site gets empty lists with a zero total, on both engines.
async fn an_empty_site_list_lists_nothing(db: &TestDb) {
    let store = db.open().await;
    create_order(&store, DEFAULT_SITE, json!({"email": "e@example.com"})).await;
    let (rows, total) = store.list_orders(&OrderFilter::default(), page()).await.expect("list orders of no site");
    assert_eq!((rows.len(), total), (0, 0));
    let (rows, total) =
        store.list_customers(&CustomerFilter::default(), page()).await.expect("list customers of no site");
    assert_eq!((rows.len(), total), (0, 0));
    store.close().await;
}

// ---------------------------------------------------------------------------------------------------------
// 3, 4. Two instances on one database

contract!(book_changes_reach_another_instance);
/// Instance A's cached books follow changes made through instance B (sites, reference books,
/// warehouses, and a plain SQL write that no store method made), on every route A reads them by.
async fn book_changes_reach_another_instance(db: &TestDb) {
    let a = db.open().await;
    let b = db.open().await;
    let key = "contract-key-books-0123456789abcdef";
    a.create_key(new_key(key, "books", SiteAccess::Full)).await.unwrap();

    // Warm A's cache by every route.
    assert_eq!(site_names(&a.list_sites().await.unwrap()), vec![(DEFAULT_SITE.into(), "Основной магазин".into())]);
    assert!(a.list_refs(ReferenceKind::DeliveryType).await.unwrap().iter().all(|e| e.code != "drone"));
    let (_, books, _) = a.authenticate(key).await.unwrap().expect("key valid");
    assert_eq!(books.site_codes(), vec![DEFAULT_SITE]);
    assert_eq!(a.books().await.unwrap().warehouse_id("north"), None);
    let refused =
        invalid(a.create_order(DEFAULT_SITE, &doc(json!({"delivery": {"code": "drone"}})), ACTOR, &zone()).await);
    assert_eq!(refused.get("delivery.code").map(String::as_str), Some("Delivery type 'drone' does not exist."));

    // A site renamed through B.
    let mut renamed = b.list_sites().await.unwrap()[0].clone();
    renamed.name = "Renamed by B".into();
    assert!(!b.upsert_site(&renamed).await.unwrap());
    assert_eq!(site_names(&a.list_sites().await.unwrap()), vec![(DEFAULT_SITE.into(), "Renamed by B".into())]);
    let (_, books, _) = a.authenticate(key).await.unwrap().expect("key valid");
    assert_eq!(site_names(books.sites()), vec![(DEFAULT_SITE.into(), "Renamed by B".into())]);

    // A site added through B: seen by authenticate first (the generation rides on the key check).
    assert!(b.upsert_site(&site(SECOND_SITE, "Second", 2)).await.unwrap());
    let (_, books, _) = a.authenticate(key).await.unwrap().expect("key valid");
    assert_eq!(books.site_codes(), vec![DEFAULT_SITE, SECOND_SITE]);
    assert_eq!(a.books().await.unwrap().site_codes(), vec![DEFAULT_SITE, SECOND_SITE]);
    let o = create_order(&a, SECOND_SITE, json!({"email": "second@example.com"})).await;
    assert_eq!(o.site, SECOND_SITE);

    // A reference entry added, and one renamed, through B.
    let drone = ReferenceEntry {
        id: 0,
        code: "drone".into(),
        name: "Drone".into(),
        active: true,
        ordering: 9,
        attrs: doc(json!({"defaultCost": 0})),
    };
    assert!(b.upsert_ref(ReferenceKind::DeliveryType, &drone).await.unwrap());
    let mut status = entry_named(&b.list_refs(ReferenceKind::Status).await.unwrap(), "new").clone();
    status.name = "Brand new".into();
    assert!(!b.upsert_ref(ReferenceKind::Status, &status).await.unwrap());
    let seen = entry_named(&a.list_refs(ReferenceKind::DeliveryType).await.unwrap(), "drone").clone();
    assert!(seen.id > 0, "a stored entry has its id");
    assert_eq!(ReferenceEntry { id: 0, ..seen }, drone);
    assert_eq!(entry_named(&a.list_refs(ReferenceKind::Status).await.unwrap(), "new").name, "Brand new");
    let o = create_order(&a, DEFAULT_SITE, json!({"delivery": {"code": "drone"}})).await;
    assert_eq!(o.delivery.code.as_deref(), Some("drone"), "A's write checks against the new books");

    // A custom field defined through B is checked by A's next write.
    let boxes = torg_domain::custom_field::CustomField {
        entity: "order".into(),
        code: "boxes".into(),
        name: "Boxes".into(),
        kind: torg_domain::custom_field::FieldType::Integer,
        dictionary: None,
        ordering: 1,
        attrs: Map::new(),
    };
    b.create_custom_field(&boxes).await.unwrap();
    assert_eq!(a.books().await.unwrap().custom_fields(), &[boxes]);
    let refused = a.create_order(DEFAULT_SITE, &doc(json!({"customFields": {"boxes": "many"}})), ACTOR, &zone()).await;
    assert!(invalid(refused).contains_key("customFields.boxes"), "A checks the value against B's definition");

    // A warehouse added through B.
    let north = Warehouse {
        id: 0,
        code: "north".into(),
        name: "North".into(),
        active: true,
        distributor: None,
        attrs: Map::new(),
    };
    assert!(b.upsert_warehouse(&north).await.unwrap());
    assert!(a.books().await.unwrap().warehouse_id("north").is_some());
    let o = create_order(&a, DEFAULT_SITE, json!({"shipmentStore": "north"})).await;
    assert_eq!(o.shipment_store.as_deref(), Some("north"));

    // Plain SQL through B (as the CLI or an operator would write): the triggers bump the generation.
    let mut tx = b.begin().await.unwrap();
    db::query("UPDATE sites SET name = $1 WHERE code = $2")
        .bind("Raw name")
        .bind(SECOND_SITE)
        .execute(&mut *tx)
        .await
        .unwrap();
    db::query("DELETE FROM reference_entries WHERE kind = $1 AND code = $2")
        .bind(ReferenceKind::DeliveryType.code())
        .bind("drone")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        site_names(&a.list_sites().await.unwrap()),
        vec![(DEFAULT_SITE.into(), "Renamed by B".into()), (SECOND_SITE.into(), "Raw name".into())]
    );
    assert!(a.list_refs(ReferenceKind::DeliveryType).await.unwrap().iter().all(|e| e.code != "drone"));
    let refused =
        invalid(a.create_order(DEFAULT_SITE, &doc(json!({"delivery": {"code": "drone"}})), ACTOR, &zone()).await);
    assert!(refused.contains_key("delivery.code"), "{refused:?}");

    // A change B rolls back is not seen.
    let mut tx = b.begin().await.unwrap();
    db::query("UPDATE sites SET name = 'Never' WHERE code = $1").bind(DEFAULT_SITE).execute(&mut *tx).await.unwrap();
    drop(tx);
    assert_eq!(a.list_sites().await.unwrap()[0].name, "Renamed by B");
    let (_, books, _) = a.authenticate(key).await.unwrap().expect("key valid");
    assert_eq!(books.sites()[0].name, "Renamed by B");
    a.close().await;
    b.close().await;
}

contract!(a_key_revoked_on_another_instance_is_refused_at_once);
/// A key revoked through instance B is refused by instance A's very next check.
async fn a_key_revoked_on_another_instance_is_refused_at_once(db: &TestDb) {
    let a = db.open().await;
    let b = db.open().await;
    let plain = "contract-key-revoke-0123456789abcdef";
    let other = "contract-key-other-0123456789abcdef";
    let key = a.create_key(new_key(plain, "to-revoke", SiteAccess::Full)).await.unwrap();
    let kept = a.create_key(new_key(other, "to-keep", SiteAccess::Selective(strings(&[DEFAULT_SITE])))).await.unwrap();
    assert_ne!(key.id, kept.id);
    assert_eq!(key.revoked_at, None);

    let (found, _, _) = a.authenticate(plain).await.unwrap().expect("a new key authenticates");
    assert_eq!((found.id, found.name.as_str(), found.sites.clone()), (key.id, "to-revoke", SiteAccess::Full));
    assert_eq!(a.find_key(plain).await.unwrap().map(|k| k.id), Some(key.id));
    assert!(a.authenticate("contract-key-unknown").await.unwrap().is_none());

    assert_eq!(b.revoke_key("to-revoke").await.unwrap(), 1);
    assert!(a.authenticate(plain).await.unwrap().is_none(), "revoked on B, refused on A at once");
    assert!(a.find_key(plain).await.unwrap().is_none());
    assert_eq!(b.revoke_key("to-revoke").await.unwrap(), 0, "revoking twice revokes nothing");
    let (still, _, _) = a.authenticate(other).await.unwrap().expect("the other key is untouched");
    assert_eq!(still.id, kept.id);

    // By id, too.
    assert_eq!(b.revoke_key(&kept.id.to_string()).await.unwrap(), 1);
    assert!(a.authenticate(other).await.unwrap().is_none());
    let listed: Vec<(i64, bool)> =
        a.list_keys().await.unwrap().iter().map(|k| (k.id, k.revoked_at.is_some())).collect();
    assert_eq!(listed, vec![(key.id, true), (kept.id, true)]);
    // A key with the same value cannot be made again, even revoked.
    let e = a.create_key(new_key(plain, "again", SiteAccess::Full)).await.unwrap_err();
    assert!(
        matches!(&e, StoreError::Domain(DomainError::Invalid(f)) if f.get("key").map(String::as_str) == Some("This key already exists.")),
        "{e:?}"
    );
    a.close().await;
    b.close().await;
}

contract!(a_key_check_is_kept_until_anything_is_committed_by_anyone);
/// On SQLite a key checked again with nothing committed since is answered as it was, without a
/// statement; a commit by another instance, to the keys or to any other table, or by a connection
/// that is not torg's at all, makes the next check read, and it sees the change. On PostgreSQL a key
/// is read again only when the keys have changed (by anyone), the books and the orders' generation
/// coming from the round the check shared with the requests in flight.
async fn a_key_check_is_kept_until_anything_is_committed_by_anyone(db: &TestDb) {
    let a = db.open().await;
    let b = db.open().await;
    let plain = "contract-key-kept-0123456789abcdef";
    let key = a.create_key(new_key(plain, "kept", SiteAccess::Full)).await.unwrap();
    let start = a.key_check_stats();
    let counted = |a: &Store| {
        let now = a.key_check_stats();
        (now.kept - start.kept, now.read - start.read)
    };
    let sqlite = db.backend == Backend::Sqlite;
    let (first, books, generation) = a.authenticate(plain).await.unwrap().expect("key");
    let (again, books_again, generation_again) = a.authenticate(plain).await.unwrap().expect("key");
    assert_eq!((first.id, generation), (again.id, generation_again));
    assert!(std::sync::Arc::ptr_eq(&books, &books_again));
    assert_eq!(counted(&a), (1, 1));
    assert!(a.authenticate("contract-key-unknown").await.unwrap().is_none());
    assert!(a.authenticate("contract-key-unknown").await.unwrap().is_none());
    assert_eq!(counted(&a), (1, 3), "an unknown key is read every time");

    // A commit on B that touches no key and no order: on SQLite A's next check reads, and finds the
    // same; on PostgreSQL the keys' generation has not moved.
    let mut tx = b.begin().await.unwrap();
    db::query("INSERT INTO meta (key, value) VALUES ('contract-kept-check', 'x')").execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    let (after, _, _) = a.authenticate(plain).await.unwrap().expect("key");
    assert_eq!(after.id, key.id);
    assert_eq!(counted(&a), if sqlite { (1, 4) } else { (2, 3) });
    assert!(a.authenticate(plain).await.unwrap().is_some());
    assert_eq!(counted(&a), if sqlite { (2, 4) } else { (3, 3) }, "kept again from the new mark");

    // An order created on B: the check reads a new generation of the orders' tables.
    let line = json!({"productName": "A", "initialPrice": 10, "quantity": 1});
    create_order(&b, DEFAULT_SITE, json!({"firstName": "Ann", "items": [line]})).await;
    let (_, _, moved) = a.authenticate(plain).await.unwrap().expect("key");
    assert_ne!(moved, generation, "the order moved the generation the check returns");

    // Written by a connection that is not a store's (SQLite: another program on the file).
    if let Some(path) = &db.sqlite_path {
        let outside = rusqlite::Connection::open(path).unwrap();
        outside.execute("UPDATE api_keys SET name = 'renamed outside' WHERE id = ?1", [key.id]).unwrap();
        drop(outside);
    } else {
        let mut tx = b.begin().await.unwrap();
        db::query("UPDATE api_keys SET name = 'renamed outside' WHERE id = $1")
            .bind(key.id)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    assert_eq!(a.authenticate(plain).await.unwrap().expect("key").0.name, "renamed outside");
    assert_eq!(b.revoke_key(&key.id.to_string()).await.unwrap(), 1);
    assert!(a.authenticate(plain).await.unwrap().is_none(), "revoked on B: refused on A's next check");
    a.close().await;
    b.close().await;
}

contract!(key_checks_in_flight_together_share_a_round_and_see_what_came_before_them);
/// On PostgreSQL the key checks in flight at once are answered by few shared statements (rounds), each
/// sent after its checks arrived: a key revoked on another instance while checks keep arriving is
/// refused by every check that starts after the revocation returned. SQLite sends no rounds.
async fn key_checks_in_flight_together_share_a_round_and_see_what_came_before_them(db: &TestDb) {
    let a = db.open().await;
    let b = db.open().await;
    let plain = "contract-key-rounds-0123456789abcdef";
    let key = a.create_key(new_key(plain, "rounds", SiteAccess::Full)).await.unwrap();
    let before = a.key_check_stats();
    let checks = futures::future::join_all((0..64).map(|_| a.authenticate(plain))).await;
    assert!(checks.iter().all(|c| c.as_ref().unwrap().as_ref().map(|(k, _, _)| k.id) == Some(key.id)));
    let rounds = a.key_check_stats().rounds - before.rounds;
    if db.backend == Backend::Sqlite {
        assert_eq!(rounds, 0);
    } else {
        assert!((1..=8).contains(&rounds), "64 checks at once in {rounds} rounds");
    }

    // Checks keep arriving on A while B revokes keys one by one; after each revocation has returned,
    // A's next check refuses that key, whatever round was out when it came.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let other = "contract-key-rounds-other-0123456789";
    a.create_key(new_key(other, "rounds-other", SiteAccess::Full)).await.unwrap();
    let traffic: Vec<_> = (0..4)
        .map(|_| {
            let (a, stop) = (a.clone(), stop.clone());
            tokio::spawn(async move {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    assert!(a.authenticate(other).await.unwrap().is_some());
                    n += 1;
                    // A kept check on SQLite never waits: let the other tasks run.
                    tokio::task::yield_now().await;
                }
                n
            })
        })
        .collect();
    for i in 0..40 {
        let plain = format!("contract-key-rounds-{i:02}-0123456789abcdef");
        let name = format!("rounds-{i}");
        a.create_key(new_key(&plain, &name, SiteAccess::Full)).await.unwrap();
        assert!(a.authenticate(&plain).await.unwrap().is_some(), "a new key, checked under traffic");
        assert_eq!(b.revoke_key(&name).await.unwrap(), 1);
        assert!(a.authenticate(&plain).await.unwrap().is_none(), "revoked on B before this check began");
    }
    stop.store(true, Ordering::Relaxed);
    for t in traffic {
        assert!(t.await.unwrap() > 0, "the traffic ran");
    }
    a.close().await;
    b.close().await;
}

// ---------------------------------------------------------------------------------------------------------
// 5. Rollback

contract!(writes_sent_later_are_in_place_for_the_next_statement_and_the_commit);
/// Writes queued with `execute_later` (sent together on PostgreSQL) are seen by the transaction's next
/// statement and kept by its commit; dropped with the transaction, they leave nothing; one that fails
/// fails the commit, and the transaction's other writes go with it.
async fn writes_sent_later_are_in_place_for_the_next_statement_and_the_commit(db: &TestDb) {
    let store = db.open().await;
    let mut tx = store.begin().await.unwrap();
    tx.execute_batch("CREATE TABLE later_t (id BIGINT PRIMARY KEY, t TEXT)").await.unwrap();
    tx.commit().await.unwrap();
    let insert = "INSERT INTO later_t (t, id) VALUES ($2, $1)";
    let mut tx = store.begin().await.unwrap();
    db::query(insert).bind(1_i64).bind("'$1' и \"$2\"").execute_later(&mut tx).await.unwrap();
    db::query(insert).bind(2_i64).bind("b").execute_later(&mut tx).await.unwrap();
    let seen: i64 = db::query_scalar("SELECT COUNT(*) FROM later_t").fetch_one(&mut *tx).await.unwrap();
    assert_eq!(seen, 2, "the next statement sees what was queued before it");
    db::query(insert).bind(3_i64).bind("c").execute_later(&mut tx).await.unwrap();
    db::query("INSERT INTO later_t (id, t) VALUES ($1, $2), ($3, $4)")
        .bind(4_i64)
        .bind("d")
        .bind(5_i64)
        .bind("e")
        .execute_later(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(scalar(&store, "SELECT COUNT(*) FROM later_t").await, 5);
    let mut tx = store.begin().await.unwrap();
    let text: String = db::query_scalar("SELECT t FROM later_t WHERE id = 1").fetch_one(&mut *tx).await.unwrap();
    drop(tx);
    assert_eq!(text, "'$1' и \"$2\"", "values are bound, not spliced");
    let mut tx = store.begin().await.unwrap();
    db::query(insert).bind(6_i64).bind("dropped").execute_later(&mut tx).await.unwrap();
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    db::query(insert).bind(7_i64).bind("rolled back").execute(&mut *tx).await.unwrap();
    // SQLite runs it at once; PostgreSQL sends it with the commit and reports it as the queued writes'
    // failure, not the commit's own (nor the next statement's: never a constraint error of its own).
    match db::query(insert).bind(1_i64).bind("a second id 1").execute_later(&mut tx).await {
        Err(e) => {
            drop(tx);
            assert!(e.is_unique_violation(), "{e}");
        }
        Ok(()) => match tx.commit().await.unwrap_err() {
            db::DbError::Queued(inner) => assert!(inner.is_unique_violation(), "{inner}"),
            other => panic!("not reported as the queued writes' failure: {other}"),
        },
    }
    assert_eq!(scalar(&store, "SELECT COUNT(*) FROM later_t").await, 5, "nothing of the failed or dropped ones stays");
}

contract!(writes_all_queued_go_with_the_commit_as_one_statement);
/// A transaction that reads only plain reads and queues its writes sends nothing that begins it: its
/// commit sends the writes as one statement (PostgreSQL), all of them or none. A failed one answers
/// with the refusal the write that broke it declared, or as the queued writes' failure; a plain read
/// after a statement that began the transaction runs inside it, and a dropped one leaves nothing.
async fn writes_all_queued_go_with_the_commit_as_one_statement(db: &TestDb) {
    let store = db.open().await;
    let mut tx = store.begin().await.unwrap();
    tx.execute_batch("CREATE TABLE once_t (id BIGINT PRIMARY KEY, t TEXT)").await.unwrap();
    tx.commit().await.unwrap();
    let insert = "INSERT INTO once_t (id, t) VALUES ($1, $2)";
    let count = "SELECT COUNT(*) FROM once_t";
    // PostgreSQL: statements of one transaction share its start time; two that each run as a
    // transaction of their own do not.
    let started = "SELECT CAST(transaction_timestamp() AS TEXT)";
    let pg = db.backend == Backend::Postgres;
    let refusal: db::Refusal = |e| e.is_unique_violation().then(torg_domain::order::external_id_taken);

    let mut tx = store.begin().await.unwrap();
    assert!(tx.not_begun() == pg, "only a PostgreSQL transaction waits to begin");
    let seen: i64 = db::query_scalar(count).plain_read().fetch_one(&mut *tx).await.unwrap();
    assert_eq!(seen, 0);
    if pg {
        let a: String = db::query_scalar(started).plain_read().fetch_one(&mut *tx).await.unwrap();
        let b: String = db::query_scalar(started).plain_read().fetch_one(&mut *tx).await.unwrap();
        assert_ne!(a, b, "plain reads before anything else run before BEGIN, each on its own");
        assert!(tx.not_begun());
    }
    db::query(insert).bind(1_i64).bind("a").execute_later(&mut tx).await.unwrap();
    db::query(insert).bind(2_i64).bind("b").refused_as(refusal).execute_later(&mut tx).await.unwrap();
    assert!(tx.not_begun() == pg, "queued writes begin nothing");
    let rows = tx.commit_beside(db::query("SELECT COUNT(*) AS n FROM once_t")).await.unwrap();
    let n: i64 = rows[0].try_get("n").unwrap();
    // PostgreSQL reads beside the writes, as the database was before them; SQLite after them.
    assert_eq!(n, if pg { 0 } else { 2 });
    assert_eq!(scalar(&store, "SELECT COUNT(*) FROM once_t").await, 2, "both committed");

    // One statement, so all or none: the second write breaks the table's key.
    let mut tx = store.begin().await.unwrap();
    db::query(insert).bind(3_i64).bind("c").execute_later(&mut tx).await.unwrap();
    match db::query(insert).bind(1_i64).bind("again").refused_as(refusal).execute_later(&mut tx).await {
        Err(e) => {
            drop(tx);
            assert!(matches!(e, DbError::Refused(_)), "SQLite runs it at once, refused: {e}");
        }
        Ok(()) => match tx.commit().await.unwrap_err() {
            DbError::Refused(d) => assert_eq!(d.to_string(), torg_domain::order::external_id_taken().to_string()),
            other => panic!("not the write's own refusal: {other}"),
        },
    }
    let mut tx = store.begin().await.unwrap();
    db::query(insert).bind(4_i64).bind("d").execute_later(&mut tx).await.unwrap();
    match db::query(insert).bind(2_i64).bind("again").execute_later(&mut tx).await {
        Err(e) => {
            drop(tx);
            assert!(e.is_unique_violation(), "{e}");
        }
        Ok(()) => match tx.commit().await.unwrap_err() {
            DbError::Queued(inner) => assert!(inner.is_unique_violation(), "{inner}"),
            other => panic!("not reported as the queued writes' failure: {other}"),
        },
    }
    assert_eq!(scalar(&store, "SELECT COUNT(*) FROM once_t").await, 2, "nothing of the failed ones stays");

    // A statement that needs the transaction begins it; plain reads after it run inside it.
    let mut tx = store.begin().await.unwrap();
    db::query(insert).bind(5_i64).bind("e").execute(&mut *tx).await.unwrap();
    assert!(!tx.not_begun());
    let seen: i64 = db::query_scalar(count).plain_read().fetch_one(&mut *tx).await.unwrap();
    assert_eq!(seen, 3, "the read sees the transaction's own write");
    if pg {
        let a: String = db::query_scalar(started).plain_read().fetch_one(&mut *tx).await.unwrap();
        let b: String = db::query_scalar(started).fetch_one(&mut *tx).await.unwrap();
        assert_eq!(a, b, "inside the transaction begun before them");
    }
    db::query(insert).bind(6_i64).bind("f").execute_later(&mut tx).await.unwrap();
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    db::query(insert).bind(7_i64).bind("g").execute_later(&mut tx).await.unwrap();
    drop(tx);
    assert_eq!(scalar(&store, "SELECT COUNT(*) FROM once_t").await, 2, "dropped transactions leave nothing");
}

contract!(a_failed_write_leaves_nothing);
/// A write that fails (before or after it has written rows) leaves nothing behind: no order, no
/// customer, no history, no counter change; a transaction dropped without commit rolls back; and the
/// writer is usable afterwards, by this instance and by another.
async fn a_failed_write_leaves_nothing(db: &TestDb) {
    let a = db.open().await;
    let b = db.open().await;
    let first =
        create_order(&a, DEFAULT_SITE, json!({"externalId": "r-1", "email": "r1@example.com", "number": "R-1"})).await;
    a.create_offer(&torg_domain::catalogue::Offer {
        external_id: Some("sku-1".into()),
        name: "Sku one".into(),
        price: 10.into(),
        active: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let history = history_sizes(&a).await;
    assert_eq!(history, (1, 1), "one order and one customer created");
    let state = |store: Store| async move {
        assert_eq!(orders_on(&store, &[DEFAULT_SITE]).await, 1);
        assert_eq!(customers_on(&store, &[DEFAULT_SITE]).await, 1);
        assert_eq!(history_sizes(&store).await, (1, 1));
        let (rows, total) = store
            .list_customers(
                &CustomerFilter {
                    sites: strings(&[DEFAULT_SITE]),
                    name: Some("ghost".into()),
                    ..CustomerFilter::default()
                },
                page(),
            )
            .await
            .unwrap();
        assert_eq!((rows.len(), total), (0, 0), "no ghost customer");
        store
    };

    // Refused before anything is written.
    let e = invalid(
        a.create_order(
            DEFAULT_SITE,
            &doc(json!({"email": "ghost1@example.com", "delivery": {"code": "teleport"}})),
            ACTOR,
            &zone(),
        )
        .await,
    );
    assert_eq!(e.get("delivery.code").map(String::as_str), Some("Delivery type 'teleport' does not exist."));
    let e = invalid(
        a.create_order(
            DEFAULT_SITE,
            &doc(json!({"email": "ghost2@example.com", "items": [{"offer": {"externalId": "sku-1"}, "quantity": 1}, {"offer": {"externalId": "no-sku"}, "quantity": 1}]})),
            ACTOR,
            &zone(),
        )
        .await,
    );
    assert_eq!(e.get("items[1].offer.externalId").map(String::as_str), Some("Offer with externalId no-sku not found."));
    match a.create_order(DEFAULT_SITE, &doc(json!({"customer": {"externalId": "nobody"}})), ACTOR, &zone()).await {
        Err(StoreError::Domain(DomainError::Unresolved(e))) => assert_eq!(
            e.get("customer.externalId").map(String::as_str),
            Some("Customer with externalId=nobody not found.")
        ),
        other => panic!("expected an unresolved customer, got {other:?}"),
    }

    // Refused after the customer (with its history record) was written in the same transaction.
    let e = invalid(
        a.create_order(
            DEFAULT_SITE,
            &doc(json!({"externalId": "r-1", "email": "ghost3@example.com", "firstName": "Ghost"})),
            ACTOR,
            &zone(),
        )
        .await,
    );
    assert_eq!(e.get("externalId").map(String::as_str), Some("Order with this externalId already exists."));
    let e = invalid(
        a.create_order(
            DEFAULT_SITE,
            &doc(json!({"number": "R-1", "email": "ghost4@example.com", "firstName": "Ghost"})),
            ACTOR,
            &zone(),
        )
        .await,
    );
    assert_eq!(e.get("number").map(String::as_str), Some("Order with this number already exists."));
    let a = state(a).await;
    let b = state(b).await;

    // A transaction dropped without commit, or rolled back, leaves nothing.
    let mut tx = a.begin().await.unwrap();
    db::query("INSERT INTO meta (key, value) VALUES ($1, $2)")
        .bind("ghost")
        .bind("dropped")
        .execute(&mut *tx)
        .await
        .unwrap();
    drop(tx);
    let mut tx = a.begin().await.unwrap();
    db::query("INSERT INTO meta (key, value) VALUES ($1, $2)")
        .bind("ghost-2")
        .bind("rolled back")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(a.meta("ghost").await.unwrap(), None);
    assert_eq!(b.meta("ghost").await.unwrap(), None);
    assert_eq!(a.meta("ghost-2").await.unwrap(), None);

    // The writer is not left inside a transaction: A's next writes commit and are seen by B, and B
    // (another connection to the file) can write too.
    assert_eq!(a.meta_init("ghost", "kept").await.unwrap(), "kept");
    assert_eq!(b.meta("ghost").await.unwrap().as_deref(), Some("kept"));
    let next = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        a.create_order(DEFAULT_SITE, &doc(json!({"externalId": "r-2", "email": "r1@example.com"})), ACTOR, &zone()),
    )
    .await
    .expect("the writer is free")
    .unwrap();
    assert_eq!(next.customer_id, first.customer_id);
    let from_b = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        b.create_order(DEFAULT_SITE, &doc(json!({"externalId": "r-3", "email": "r3@example.com"})), ACTOR, &zone()),
    )
    .await
    .expect("another instance can write")
    .unwrap();
    assert!(from_b.id > next.id);
    for store in [&a, &b] {
        assert_eq!(orders_on(store, &[DEFAULT_SITE]).await, 3);
        assert_eq!(customers_on(store, &[DEFAULT_SITE]).await, 2);
        assert_eq!(history_sizes(store).await, (3, 2));
    }
    a.close().await;
    b.close().await;
}

// ---------------------------------------------------------------------------------------------------------
// 6. Concurrency

const CONCURRENT: usize = 20;

contract!(concurrent_creates_all_succeed);
/// Twenty orders created at once on one store all commit, with distinct ids and numbers, and every
/// counter and history total grows by exactly twenty.
async fn concurrent_creates_all_succeed(db: &TestDb) {
    let store = db.open().await;
    assert!(store.upsert_site(&site(SECOND_SITE, "Second", 2)).await.unwrap());
    create_order(&store, DEFAULT_SITE, json!({"email": "before@example.com"})).await;
    let both = [DEFAULT_SITE, SECOND_SITE];
    let (orders_before, customers_before) = (orders_on(&store, &both).await, customers_on(&store, &both).await);
    let history_before = history_sizes(&store).await;
    assert_eq!((orders_before, customers_before, history_before), (1, 1, (1, 1)));

    let tasks: Vec<_> = (0..CONCURRENT)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let site = if i % 2 == 0 { DEFAULT_SITE } else { SECOND_SITE };
                let d = doc(json!({"externalId": format!("c-{i}"), "email": format!("c{i}@example.com"), "items": [{"productName": "P", "initialPrice": 10, "quantity": 1}]}));
                store.create_order(site, &d, ACTOR, &zone()).await
            })
        })
        .collect();
    let mut orders = Vec::new();
    for t in tasks {
        orders.push(t.await.expect("task").unwrap_or_else(|e| panic!("a concurrent create failed: {e}")));
    }
    let ids: HashSet<i64> = orders.iter().map(|o| o.id).collect();
    let numbers: HashSet<&str> = orders.iter().map(|o| o.number.as_str()).collect();
    let customers: HashSet<Option<i64>> = orders.iter().map(|o| o.customer_id).collect();
    assert_eq!((ids.len(), numbers.len(), customers.len()), (CONCURRENT, CONCURRENT, CONCURRENT));
    for o in &orders {
        assert_eq!(o.number, format!("{}A", o.id), "the default number, not a placeholder");
        let stored = store.get_order(&OrderLookup::Number(o.number.clone())).await.unwrap().expect("stored");
        assert_eq!((stored.id, stored.external_id.as_deref(), stored.items.len()), (o.id, o.external_id.as_deref(), 1));
    }
    let n = CONCURRENT as u64;
    assert_eq!(orders_on(&store, &both).await, orders_before + n);
    assert_eq!(orders_on(&store, &[DEFAULT_SITE]).await, 1 + n / 2);
    assert_eq!(orders_on(&store, &[SECOND_SITE]).await, n / 2);
    assert_eq!(customers_on(&store, &both).await, customers_before + n);
    assert_eq!(history_sizes(&store).await, (history_before.0 + n, history_before.1 + n));
    // History ids are distinct and one `created` record per new order.
    let (records, _) = store.order_history(&HistoryFilter::default(), page()).await.unwrap();
    let created: HashSet<i64> = records.iter().filter(|r| r.created).map(|r| r.id).collect();
    assert_eq!(created.len(), CONCURRENT + 1);
    store.close().await;
}

contract!(history_is_numbered_without_a_reader);
/// Concurrent writers' history records are numbered 1, 2, 3… with no history read to prompt it (on
/// PostgreSQL each commit wakes the store's numberer; SQLite numbers as it writes), one number per
/// record.
async fn history_is_numbered_without_a_reader(db: &TestDb) {
    let store = db.open().await;
    let creates = (0..CONCURRENT).map(|i| {
        let store = store.clone();
        async move {
            let d = doc(json!({"externalId": format!("h-{i}"), "email": format!("h{i}@example.com")}));
            store.create_order(DEFAULT_SITE, &d, ACTOR, &zone()).await.unwrap_or_else(|e| panic!("create {i}: {e}"))
        }
    });
    futures::future::join_all(creates).await;
    let mut numbers = Vec::new();
    for _ in 0..200 {
        let mut tx = store.begin().await.unwrap();
        let rows: Vec<(Option<i64>,)> =
            db::query_as("SELECT seq FROM order_history ORDER BY seq").fetch_all(&mut *tx).await.unwrap();
        tx.rollback().await.unwrap();
        numbers = rows.into_iter().map(|(s,)| s).collect();
        if numbers.iter().all(Option::is_some) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let expected: Vec<Option<i64>> = (1..=i64::try_from(CONCURRENT).unwrap()).map(Some).collect();
    assert_eq!(numbers, expected, "every record numbered, once, with no gap");
    store.close().await;
}

/// PostgreSQL: the numberer vacuums its queue once it has numbered 2,000 records, so a pass never
/// steps over more deleted queue rows than that (autovacuum is off in this machine's CI configuration
/// and visits a table about once a minute where it is on), and the records are numbered all the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_numberer_vacuums_its_queue_postgres() {
    let db = TestDb::new(Backend::Postgres).await;
    let store = db.open().await;
    let order = create_order(&store, DEFAULT_SITE, json!({"externalId": "queue-1"})).await;
    let vacuums = || async {
        let mut tx = store.begin().await.unwrap();
        let (n,): (i64,) =
            db::query_as("SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'history_pending'")
                .fetch_one(&mut *tx)
                .await
                .unwrap();
        tx.rollback().await.unwrap();
        n
    };
    let before = vacuums().await;
    // What many writers left queued: 2,100 records committed unnumbered; the next write wakes the numberer.
    let mut tx = store.begin().await.unwrap();
    db::query(
        "INSERT INTO order_history (order_id, created_at, source, created, deleted, field, entity)
         SELECT $1, 0, 'api', 0, 0, 'status', '{}' FROM generate_series(1, 2100)",
    )
    .bind(order.id)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    create_order(&store, DEFAULT_SITE, json!({"externalId": "queue-2"})).await;
    let mut after = before;
    for _ in 0..200 {
        after = vacuums().await;
        if after > before {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(after > before, "the queue was vacuumed after 2,102 records ({before} vacuums before, {after} after)");
    let mut tx = store.begin().await.unwrap();
    let (numbered, highest): (i64, Option<i64>) =
        db::query_as("SELECT COUNT(seq), MAX(seq) FROM order_history").fetch_one(&mut *tx).await.unwrap();
    tx.rollback().await.unwrap();
    assert_eq!((numbered, highest), (2102, Some(2102)), "every record numbered once, with no gap");
    store.close().await;
}

contract!(a_history_read_numbers_what_another_instance_committed);
/// A record another instance committed but has not numbered yet (PostgreSQL: it stopped before its
/// numberer's pass) is numbered by the next history read, after every number given before, so a
/// client paging by `sinceId` finds it.
async fn a_history_read_numbers_what_another_instance_committed(db: &TestDb) {
    let store = db.open().await;
    let order = create_order(&store, DEFAULT_SITE, json!({"externalId": "late-1"})).await;
    let (before, _) = store.order_history(&HistoryFilter::default(), page()).await.unwrap();
    let last = before.iter().map(|r| r.id).max().expect("the create's record");
    // What the other instance wrote: a record without a number (SQLite's one writer numbers it).
    let seq = match db.backend {
        Backend::Sqlite => Some(last + 1),
        Backend::Postgres => None,
    };
    let mut tx = store.begin().await.unwrap();
    db::query(
        "INSERT INTO order_history (order_id, created_at, source, created, deleted, field, old_value, new_value, entity, seq)
         VALUES ($1, 0, 'api', 0, 0, 'status', '\"new\"', '\"complete\"', '{}', $2)",
    )
    .bind(order.id)
    .bind(seq)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let since = HistoryFilter { since_id: Some(last), ..Default::default() };
    let (after, total) = store.order_history(&since, page()).await.unwrap();
    let found: Vec<(i64, Option<&str>)> = after.iter().map(|r| (r.id, r.field.as_deref())).collect();
    assert_eq!((found, total), (vec![(last + 1, Some("status"))], 1));
    store.close().await;
}

contract!(order_ids_are_never_reused);
/// A new order's id, and the default number made of it, are allocated by the statement that inserts
/// the order: one past every id handed out before, also after the newest order's row was removed, and
/// a number the client gives is kept.
async fn order_ids_are_never_reused(db: &TestDb) {
    let store = db.open().await;
    let a = create_order(&store, DEFAULT_SITE, json!({"externalId": "n-1"})).await;
    let b = create_order(&store, DEFAULT_SITE, json!({"externalId": "n-2", "number": "N-2"})).await;
    assert_eq!((a.number.as_str(), b.id, b.number.as_str()), (format!("{}A", a.id).as_str(), a.id + 1, "N-2"));
    let mut tx = store.begin().await.unwrap();
    for sql in ["DELETE FROM order_history WHERE order_id = $1", "DELETE FROM orders WHERE id = $1"] {
        db::query(sql).bind(b.id).execute(&mut *tx).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    tx.commit().await.unwrap();
    let c = create_order(&store, DEFAULT_SITE, json!({"externalId": "n-3"})).await;
    assert_eq!((c.id, c.number.clone()), (b.id + 1, format!("{}A", b.id + 1)), "the removed order's id came back");
    let stored = store.get_order(&OrderLookup::Number(c.number.clone())).await.unwrap().expect("stored by its number");
    assert_eq!(stored.external_id.as_deref(), Some("n-3"));
    // A client's number that is some later order's default: that order is refused, whole.
    let d = create_order(&store, DEFAULT_SITE, json!({"externalId": "n-4", "number": format!("{}A", c.id + 2)})).await;
    let clash = store.create_order(DEFAULT_SITE, &doc(json!({"externalId": "n-5"})), ACTOR, &zone()).await;
    assert_eq!(invalid(clash).get("number").map(String::as_str), Some("Order with this number already exists."));
    assert!(
        store
            .get_order(&OrderLookup::ExternalId { site: DEFAULT_SITE.into(), external_id: "n-5".into() })
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(d.number, format!("{}A", c.id + 2));
    store.close().await;
}

contract!(concurrent_creates_on_two_instances_all_succeed);
/// Two instances writing at once (two writers on one SQLite file, two pools on one PostgreSQL database)
/// both succeed, and each sees the other's rows in its totals.
async fn concurrent_creates_on_two_instances_all_succeed(db: &TestDb) {
    let a = db.open().await;
    let b = db.open().await;
    let tasks: Vec<_> = (0..CONCURRENT)
        .map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move {
                let d = doc(json!({"externalId": format!("t-{i}"), "email": format!("t{i}@example.com")}));
                store.create_order(DEFAULT_SITE, &d, ACTOR, &zone()).await
            })
        })
        .collect();
    let mut ids = HashSet::new();
    for t in tasks {
        let o = t.await.expect("task").unwrap_or_else(|e| panic!("a concurrent create failed: {e}"));
        assert_eq!(o.number, format!("{}A", o.id));
        ids.insert(o.id);
    }
    assert_eq!(ids.len(), CONCURRENT);
    for store in [&a, &b] {
        assert_eq!(orders_on(store, &[DEFAULT_SITE]).await, CONCURRENT as u64);
        assert_eq!(customers_on(store, &[DEFAULT_SITE]).await, CONCURRENT as u64);
    }
    a.close().await;
    b.close().await;
}

contract!(concurrent_orders_by_one_new_email_share_one_customer);
/// Orders by the same new e-mail (or, without one, the same new phone) attach to one customer (the
/// first creates it, the rest find it), also when they arrive at once; on PostgreSQL a buyer is looked
/// up without a lock first, so this is what shows that the lock and the second look still hold.
async fn concurrent_orders_by_one_new_email_share_one_customer(db: &TestDb) {
    let store = db.open().await;
    for (round, contact) in
        [json!({"email": "same@example.com"}), json!({"phone": "+7 (916) 555-01-02"})].into_iter().enumerate()
    {
        let tasks: Vec<_> = (0..CONCURRENT)
            .map(|i| {
                let (store, contact) = (store.clone(), contact.clone());
                tokio::spawn(async move {
                    let mut d = doc(contact);
                    d.insert("externalId".into(), json!(format!("same-{round}-{i}")));
                    store.create_order(DEFAULT_SITE, &d, ACTOR, &zone()).await
                })
            })
            .collect();
        let mut customers = HashSet::new();
        for t in tasks {
            customers.insert(t.await.expect("task").unwrap_or_else(|e| panic!("create: {e}")).customer_id);
        }
        let made = u64::try_from(round + 1).unwrap();
        assert_eq!(orders_on(&store, &[DEFAULT_SITE]).await, CONCURRENT as u64 * made);
        assert_eq!(customers_on(&store, &[DEFAULT_SITE]).await, made, "customers made for one contact: {contact}");
        assert_eq!(customers.len(), 1, "customer ids the orders by {contact} got: {customers:?}");
    }
    store.close().await;
}

contract!(a_created_order_comes_with_what_a_read_after_it_shows);
/// `create_shown_order` (on PostgreSQL its read goes with the transaction's last writes) answers the
/// order with the buyer and parties a read after the commit finds, for a returning and a new buyer.
async fn a_created_order_comes_with_what_a_read_after_it_shows(db: &TestDb) {
    let store = db.open().await;
    let first = doc(json!({"externalId": "shown-0", "email": "shown@example.com", "firstName": "Анна"}));
    store.create_order(DEFAULT_SITE, &first, ACTOR, &zone()).await.unwrap();
    for (ext, email) in [("shown-1", "shown@example.com"), ("shown-2", "new-buyer@example.com")] {
        let d =
            doc(json!({"externalId": ext, "email": email, "items": [{"productName": "Фильтр", "initialPrice": 520}],
                           "payments": [{"type": "cash", "amount": 520}]}));
        let shown = store.create_shown_order(DEFAULT_SITE, &d, ACTOR, &zone()).await.unwrap();
        assert_eq!(shown.orders.len(), 1);
        let order = shown.orders[0].clone();
        let stored = store.get_order(&OrderLookup::Id(order.id)).await.unwrap().expect("the order is committed");
        assert_eq!((stored.external_id.as_deref(), stored.items.len(), stored.payments.len()), (Some(ext), 1, 1));
        let after = store.show_orders(vec![order.clone()]).await.unwrap();
        let buyer = order.customer_id.expect("a buyer attached by e-mail");
        assert_eq!(shown.customers.get(&buyer), after.customers.get(&buyer), "the buyer of {ext}");
        assert_eq!(shown.customers.get(&buyer).and_then(|c| c.email.as_deref()), Some(email));
        assert_eq!(shown.parties.bonuses_credit, after.parties.bonuses_credit);
        assert_eq!(shown.parties.corporates, after.parties.corporates);
    }
    assert_eq!(customers_on(&store, &[DEFAULT_SITE]).await, 2, "the returning buyer was found, the new one made");
    store.close().await;
}

contract!(catalogue_lists_count_from_the_counters_when_unfiltered);
/// The product and offer lists' totalCount is exact however the catalogue was written (one offer at a
/// time, a catalogue import's batches); unfiltered it comes from the counters, which the writing
/// transaction keeps, and filtered from the filter's own count.
async fn catalogue_lists_count_from_the_counters_when_unfiltered(db: &TestDb) {
    use torg_domain::catalogue::Availability;
    use torg_store::{CatalogueRow, OfferFilter, ProductFilter};
    let store = db.open().await;
    let totals = async |store: &Store| {
        let products = store.store_products(&ProductFilter::default(), page()).await.unwrap().1;
        let offers = store.store_offers(&OfferFilter::default(), page()).await.unwrap().1;
        (products, offers)
    };
    assert_eq!(totals(&store).await, (0, 0));
    let row = |article: &str| CatalogueRow {
        article: article.into(),
        brand: "Knecht".into(),
        name: format!("Filter {article}"),
        description: None,
        warehouse: "main".into(),
        quantity: Availability::Exact(3),
        price: 120.into(),
        min_qty: 1,
        period_min: None,
        period_max: None,
    };
    store.load_catalogue(&[row("OC 47"), row("OC 90"), row("LX 1")]).await.unwrap();
    let single = torg_domain::catalogue::Offer {
        external_id: Some("single".into()),
        name: "Single".into(),
        price: 10.into(),
        active: true,
        ..Default::default()
    };
    let id = store.create_offer(&single).await.unwrap();
    let counted = (
        u64::try_from(scalar(&store, "SELECT COUNT(*) FROM products").await).unwrap(),
        u64::try_from(scalar(&store, "SELECT COUNT(*) FROM offers").await).unwrap(),
    );
    assert!(counted.0 >= 4 && counted.1 >= 4, "{counted:?}");
    assert_eq!(totals(&store).await, counted);
    // Loading the same rows again adds nothing.
    store.load_catalogue(&[row("OC 47")]).await.unwrap();
    assert_eq!(totals(&store).await, counted);
    // Filtered: the filter's own count.
    let by_id = OfferFilter { ids: vec![id], ..OfferFilter::default() };
    assert_eq!(store.store_offers(&by_id, page()).await.unwrap().1, 1);
    let by_offer = ProductFilter { offer_ids: vec![id], ..ProductFilter::default() };
    assert_eq!(store.store_products(&by_offer, page()).await.unwrap().1, 1);
    // The unfiltered total is the counters' (moved by hand here, and back).
    let mut tx = store.begin().await.unwrap();
    db::query("UPDATE row_counts SET n = n + 1000 WHERE entity IN ('products', 'offers') AND site = '' AND shard = 0")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(totals(&store).await, (counted.0 + 1000, counted.1 + 1000));
    store.close().await;
}

contract!(a_buyer_is_found_by_any_of_its_phones_as_they_are_now);
/// An order's phone finds the buyer having that number among its phones, written in any way, on the
/// order's site only; a phone taken off a customer no longer finds it, and a call's number finds the
/// customer the same way within the sites allowed.
async fn a_buyer_is_found_by_any_of_its_phones_as_they_are_now(db: &TestDb) {
    let store = db.open().await;
    assert!(store.upsert_site(&site(SECOND_SITE, "Second", 2)).await.unwrap());
    let phones = json!([{"number": "+7 (495) 111-22-33"}, {"number": "8 912 000-11-22"}]);
    let c =
        store.create_customer(DEFAULT_SITE, &doc(json!({"firstName": "Two", "phones": phones})), ACTOR).await.unwrap();
    let other =
        store.create_customer(SECOND_SITE, &doc(json!({"phones": [{"number": "89120001122"}]})), ACTOR).await.unwrap();
    let o = create_order(&store, DEFAULT_SITE, json!({"externalId": "ph-1", "phone": "89120001122"})).await;
    assert_eq!(o.customer_id, Some(c.id), "the second phone, other separators");
    let o = create_order(&store, SECOND_SITE, json!({"externalId": "ph-2", "phone": "8 (912) 000-11-22"})).await;
    assert_eq!(o.customer_id, Some(other.id), "only the order's site");
    let o = create_order(&store, DEFAULT_SITE, json!({"externalId": "ph-3", "phone": "74951112233"})).await;
    assert_eq!(o.customer_id, Some(c.id));
    let o = create_order(&store, DEFAULT_SITE, json!({"externalId": "ph-4", "phone": "7495111223"})).await;
    assert_ne!(o.customer_id, Some(c.id), "a part of a number is not the number");

    let sites = strings(&[DEFAULT_SITE, SECOND_SITE]);
    let lookup = torg_store::CustomerLookup::Id(c.id);
    let only_first = json!({"phones": [{"number": "+7 (495) 111-22-33"}]});
    store.edit_customer(&lookup, &doc(only_first), ACTOR, &sites).await.unwrap();
    let o = create_order(&store, DEFAULT_SITE, json!({"externalId": "ph-5", "phone": "89120001122"})).await;
    assert_ne!(o.customer_id, Some(c.id), "a phone taken off finds the customer no more");
    let called = store.manager_for_phone("+7 495 111 22 33", &sites).await.unwrap();
    assert_eq!(called.customer.map(|x| x.0.id), Some(c.id));
    let called = store.manager_for_phone("8 912 000 11 22", &strings(&[SECOND_SITE])).await.unwrap();
    assert_eq!(called.customer.map(|x| x.0.id), Some(other.id), "the one on an allowed site");
    store.close().await;
}

contract!(a_create_finds_its_offers_buyer_and_ids_as_separate_reads_would);
/// What a create reads first (on PostgreSQL in one statement with its ids: the offers by id, external
/// and XML id, the buyer by e-mail or phone) finds what each read alone found: a returning buyer by
/// e-mail in any case on the order's site only, else by phone (or by a phone alone), else a new one;
/// a named customer whatever the e-mail; ids that grow line by line and payment by payment; a taken
/// external id refused whether the row waits for the commit (a returning buyer) or is written at
/// once (a new buyer).
async fn a_create_finds_its_offers_buyer_and_ids_as_separate_reads_would(db: &TestDb) {
    let store = db.open().await;
    assert!(store.upsert_site(&site(SECOND_SITE, "Second", 2)).await.unwrap());
    let offer = |ext: &str, xml: &str, price: i64| torg_domain::catalogue::Offer {
        external_id: Some(ext.into()),
        xml_id: Some(xml.into()),
        name: format!("Part {ext}"),
        price: price.into(),
        active: true,
        ..Default::default()
    };
    let a = store.create_offer(&offer("fr-a", "x-a", 100)).await.unwrap();
    let b = store.create_offer(&offer("fr-b", "x-b", 250)).await.unwrap();
    let c = store.create_offer(&offer("fr-c", "x-c", 40)).await.unwrap();
    let here = create_order(
        &store,
        DEFAULT_SITE,
        json!({"externalId": "fr-0", "email": "back@example.com", "phone": "+7 916 555-77-88", "firstName": "Вера"}),
    )
    .await;
    let there = create_order(&store, SECOND_SITE, json!({"externalId": "fr-1", "email": "away@example.com"})).await;
    let returning = here.customer_id.expect("a buyer made");

    let lines = json!([{"offer": {"xmlId": "x-c"}, "quantity": 1}, {"offer": {"id": b}, "quantity": 2},
                       {"offer": {"externalId": "fr-a"}, "quantity": 3}]);
    let payments = json!([{"type": "cash", "amount": 100}, {"type": "bank-card", "amount": 540}]);
    let o = create_order(
        &store,
        DEFAULT_SITE,
        json!({"externalId": "fr-2", "email": "Back@Example.COM", "items": lines, "payments": payments}),
    )
    .await;
    assert_eq!(o.customer_id, Some(returning), "the returning buyer, by e-mail in another case");
    assert_eq!(o.first_name.as_deref(), Some("Вера"), "filled from the buyer");
    let offers: Vec<_> = o.items.iter().map(|i| i.offer.as_ref().map(|f| f.id)).collect();
    assert_eq!(offers, [Some(c), Some(b), Some(a)], "each line its offer, in the client's order");
    let prices: Vec<_> = o.items.iter().map(|i| i.initial_price.normalize().to_string()).collect();
    assert_eq!(prices, ["40", "250", "100"]);
    let ids = |v: Vec<i64>| v.windows(2).all(|w| w[0] < w[1]) && v.iter().all(|i| *i > 0);
    assert!(ids(o.items.iter().map(|i| i.id).collect()), "line ids grow: {:?}", o.items);
    assert!(ids(o.payments.iter().map(|p| p.id).collect()), "payment ids grow: {:?}", o.payments);
    assert!(o.id > there.id, "a later order has a larger id");
    let stored = store.get_order(&OrderLookup::Id(o.id)).await.unwrap().expect("committed");
    assert_eq!((stored.number.as_str(), stored.items.len(), stored.payments.len()), (o.number.as_str(), 3, 2));
    assert_eq!(stored.items.iter().map(|i| i.id).collect::<Vec<_>>(), o.items.iter().map(|i| i.id).collect::<Vec<_>>());

    // No buyer by this e-mail: the phone finds the returning one.
    let by_phone = create_order(
        &store,
        DEFAULT_SITE,
        json!({"externalId": "fr-3", "email": "unknown@example.com", "phone": "+7 (916) 555-77-88",
               "items": [{"offer": {"externalId": "fr-b"}}]}),
    )
    .await;
    assert_eq!(by_phone.customer_id, Some(returning), "found by phone when the e-mail finds nobody");
    // A phone alone, with and without lines to read beside it; not the buyer with that phone on
    // another site.
    for (n, items) in [(6, json!([{"offer": {"xmlId": "x-b"}}])), (7, json!([]))] {
        let phone_only = create_order(
            &store,
            DEFAULT_SITE,
            json!({"externalId": format!("fr-{n}"), "phone": "7 (916) 5557788", "items": items}),
        )
        .await;
        assert_eq!(phone_only.customer_id, Some(returning), "found by its phone alone");
        assert_eq!(phone_only.first_name.as_deref(), Some("Вера"));
    }
    let elsewhere = create_order(&store, SECOND_SITE, json!({"externalId": "fr-8", "phone": "+7 916 555 77 88"})).await;
    assert!(elsewhere.customer_id.is_some_and(|c| c != returning), "a buyer of its own on the other site");
    // The e-mail of a buyer on another site: a new buyer here, not the other site's.
    let new = create_order(
        &store,
        DEFAULT_SITE,
        json!({"externalId": "fr-4", "email": "away@example.com", "items": [{"offer": {"id": a}}],
               "payments": [{"type": "cash", "amount": 100}]}),
    )
    .await;
    assert!(new.customer_id.is_some_and(|id| id != returning && Some(id) != there.customer_id), "{new:?}");
    assert_eq!((new.items.len(), new.payments.len()), (1, 1));
    assert!(new.items[0].id > o.items[2].id && new.payments[0].id > o.payments[1].id);
    // A named customer wins over the e-mail.
    let named = create_order(
        &store,
        DEFAULT_SITE,
        json!({"externalId": "fr-5", "email": "back@example.com", "customer": {"id": new.customer_id},
               "items": [{"offer": {"xmlId": "x-a"}}]}),
    )
    .await;
    assert_eq!(named.customer_id, new.customer_id);

    // A taken external id, with the row queued (a returning buyer) and written at once (a new one).
    for email in ["back@example.com", "brand-new@example.com"] {
        let r = store
            .create_order(
                DEFAULT_SITE,
                &doc(json!({"externalId": "fr-2", "email": email, "items": [{"offer": {"id": c}}]})),
                ACTOR,
                &zone(),
            )
            .await;
        match r {
            Err(StoreError::Domain(d)) => {
                assert_eq!(d.to_string(), torg_domain::order::external_id_taken().to_string(), "{email}")
            }
            other => panic!("{email}: expected the external id refused, got {other:?}"),
        }
    }
    assert_eq!(orders_on(&store, &[DEFAULT_SITE]).await, 7, "nothing of the refused ones");
    assert_eq!(customers_on(&store, &[DEFAULT_SITE]).await, 2, "the refused new buyer was not kept");
    store.close().await;
}

// ---------------------------------------------------------------------------------------------------------
// 7. The query layer

contract!(db_layer_binds_and_decodes_alike);
/// `torg_store::db` (reached through `Store::begin`) binds integers, text and typed NULLs, decodes them
/// back the same way on both engines, and reports UNIQUE violations as such.
async fn db_layer_binds_and_decodes_alike(db: &TestDb) {
    let store = db.open().await;
    let mut tx = store.begin().await.unwrap();
    tx.execute_batch("CREATE TABLE contract_t (id BIGINT PRIMARY KEY, n BIGINT, t TEXT, u TEXT UNIQUE); CREATE INDEX contract_t_n ON contract_t (n)")
        .await
        .unwrap();
    let insert = "INSERT INTO contract_t (id, n, t, u) VALUES ($1, $2, $3, $4)";
    let done = db::query(insert).bind(1_i64).bind(42_i64).bind("x").bind("u1").execute(&mut *tx).await.unwrap();
    assert_eq!(done.rows_affected(), 1);
    // Placeholders out of order and used twice.
    db::query("INSERT INTO contract_t (u, t, n, id) VALUES ($3, $2, $1 + $1, $4)")
        .bind(-5_i64)
        .bind("Казань ✓ 'quoted' \"double\"")
        .bind("u2")
        .bind(2_i64)
        .execute(&mut *tx)
        .await
        .unwrap();
    // Typed NULLs.
    db::query(insert)
        .bind(3_i64)
        .bind(Option::<i64>::None)
        .bind(None::<String>)
        .bind(None::<String>)
        .execute(&mut *tx)
        .await
        .unwrap();
    // Options with values, extremes, the empty string (not NULL), i32 and bool.
    db::query(insert)
        .bind(4_i64)
        .bind(Some(i64::MAX))
        .bind(Some(String::new()))
        .bind(Some("u4".to_string()))
        .execute(&mut *tx)
        .await
        .unwrap();
    let five = "five".to_string();
    db::query(insert).bind(5_i32).bind(i64::MIN).bind(&five).bind("u5").execute(&mut *tx).await.unwrap();
    db::query(insert).bind(6_i64).bind(true).bind("six").bind("u6").execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    /// A row of the scratch table: id, n, t, u.
    type Stored = (i64, Option<i64>, Option<String>, Option<String>);
    let rows: Vec<Stored> =
        db::query_as("SELECT id, n, t, u FROM contract_t ORDER BY id").fetch_all(&mut *tx).await.unwrap();
    assert_eq!(
        rows,
        vec![
            (1, Some(42), Some("x".into()), Some("u1".into())),
            (2, Some(-10), Some("Казань ✓ 'quoted' \"double\"".into()), Some("u2".into())),
            (3, None, None, None),
            (4, Some(i64::MAX), Some(String::new()), Some("u4".into())),
            (5, Some(i64::MIN), Some(five), Some("u5".into())),
            (6, Some(1), Some("six".into()), Some("u6".into())),
        ]
    );
    let count: i64 = db::query_scalar("SELECT COUNT(*) FROM contract_t").fetch_one(&mut *tx).await.unwrap();
    assert_eq!(count, 6);
    let nulls: i64 = db::query_scalar("SELECT COUNT(*) FROM contract_t WHERE n IS NULL AND t IS NULL")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(nulls, 1);
    // A NULL bound in a comparison matches nothing; a typed NULL selected back reads as None.
    let none: Vec<i64> = db::query_scalar("SELECT id FROM contract_t WHERE n = $1")
        .bind(Option::<i64>::None)
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    assert!(none.is_empty());
    let echoed: Option<i64> =
        db::query_scalar("SELECT $1").bind(Option::<i64>::None).fetch_one(&mut *tx).await.unwrap();
    assert_eq!(echoed, None);
    let echoed: Option<String> = db::query_scalar("SELECT $1").bind(None::<String>).fetch_one(&mut *tx).await.unwrap();
    assert_eq!(echoed, None);
    let echoed: (i64, String, Option<i64>) = db::query_as("SELECT $1, $2, $3")
        .bind(7_i64)
        .bind("seven")
        .bind(Some(8_i64))
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(echoed, (7, "seven".into(), Some(8)));
    let flags: (bool, bool) = db::query_as("SELECT 1 = 1, 1 = 0").fetch_one(&mut *tx).await.unwrap();
    assert_eq!(flags, (true, false));
    // Rows by name and position; a wrong type is a decode error, not a panic.
    let row = db::query("SELECT id, t FROM contract_t WHERE id = $1").bind(2_i64).fetch_one(&mut *tx).await.unwrap();
    assert_eq!(row.len(), 2);
    assert_eq!(row.try_get::<String, _>("t").unwrap(), "Казань ✓ 'quoted' \"double\"");
    assert_eq!(row.try_get::<i64, _>(0_usize).unwrap(), 2);
    assert!(matches!(row.try_get::<i64, _>("t"), Err(DbError::Decode { .. })));
    assert!(matches!(row.try_get::<i64, _>("missing"), Err(DbError::Decode { .. })));
    let missing = db::query_as::<(i64,)>("SELECT id FROM contract_t WHERE id = $1")
        .bind(99_i64)
        .fetch_optional(&mut *tx)
        .await
        .unwrap();
    assert_eq!(missing, None);
    assert!(matches!(
        db::query_scalar::<i64>("SELECT id FROM contract_t WHERE id = 99").fetch_one(&mut *tx).await,
        Err(DbError::RowNotFound)
    ));
    let done = db::query("UPDATE contract_t SET t = $1 WHERE id IN ($2, $3)")
        .bind("y")
        .bind(1_i64)
        .bind(2_i64)
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 2);
    let done = db::query("DELETE FROM contract_t WHERE id = $1").bind(99_i64).execute(&mut *tx).await.unwrap();
    assert_eq!(done.rows_affected(), 0);
    tx.commit().await.unwrap();

    // UNIQUE and PRIMARY KEY violations are reported as such, other failures are not. (On PostgreSQL a
    // failed statement spoils its transaction, so each gets its own.)
    let mut tx = store.begin().await.unwrap();
    let e = db::query(insert).bind(1_i64).bind(0_i64).bind("dup id").bind("u-new").execute(&mut *tx).await.unwrap_err();
    assert!(e.is_unique_violation(), "duplicate primary key: {e}");
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    let e = db::query(insert).bind(10_i64).bind(0_i64).bind("dup u").bind("u1").execute(&mut *tx).await.unwrap_err();
    assert!(e.is_unique_violation(), "duplicate unique column: {e}");
    assert!(e.message().contains("u"), "{}", e.message());
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    let e = db::query("INSERT INTO sites (code, name, ordering, attrs, created_at) VALUES ($1, 'x', 1, '{}', 0)")
        .bind(DEFAULT_SITE)
        .execute(&mut *tx)
        .await
        .unwrap_err();
    assert!(e.is_unique_violation(), "a store table's unique code: {e}");
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    let e = db::query("INSERT INTO meta (key, value) VALUES ($1, $2)")
        .bind("k")
        .bind(None::<String>)
        .execute(&mut *tx)
        .await
        .unwrap_err();
    assert!(!e.is_unique_violation(), "a NOT NULL violation is not a unique one: {e}");
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    let e = db::query("SELECT no_such_column FROM contract_t").fetch_all(&mut *tx).await.unwrap_err();
    assert!(!e.is_unique_violation(), "{e}");
    drop(tx);

    // Nothing of the failed statements stuck, and the table reads the same from another instance.
    let other = db.open().await;
    let mut tx = other.begin().await.unwrap();
    let ids: Vec<i64> = db::query_scalar("SELECT id FROM contract_t ORDER BY id").fetch_all(&mut *tx).await.unwrap();
    assert_eq!(ids, vec![1, 2, 3, 4, 5, 6]);
    tx.rollback().await.unwrap();
    other.close().await;
    store.close().await;
}

contract!(idempotency_keys_claim_replay_expire_and_take_over);
async fn idempotency_keys_claim_replay_expire_and_take_over(db: &TestDb) {
    use torg_store::{Claim, StoredAnswer};
    let a = db.open().await;
    let b = db.open().await;
    let t = 1_800_000_000;
    assert_eq!(a.idempotency_claim("caller", "k", "fp-1", t).await.unwrap(), Claim::Fresh);
    assert_eq!(b.idempotency_claim("caller", "k", "fp-1", t + 1).await.unwrap(), Claim::InFlight, "still running");
    assert_eq!(b.idempotency_claim("caller", "k", "fp-2", t + 1).await.unwrap(), Claim::Conflict);
    assert_eq!(b.idempotency_claim("other", "k", "fp-2", t + 1).await.unwrap(), Claim::Fresh, "keys are per caller");
    let answer = StoredAnswer { status: 201, content_type: Some("application/json".into()), body: "{\"id\":1}".into() };
    a.idempotency_finish("caller", "k", &answer, t + 2).await.unwrap();
    assert_eq!(b.idempotency_claim("caller", "k", "fp-1", t + 3).await.unwrap(), Claim::Replay(answer.clone()));
    // After 24 hours the key is free again, for any request.
    assert_eq!(b.idempotency_claim("caller", "k", "fp-9", t + 24 * 3600 + 1).await.unwrap(), Claim::Fresh);
    // A claim nobody finished (its process died) is taken over after two minutes; a released one at once.
    assert_eq!(a.idempotency_claim("caller", "dead", "fp", t).await.unwrap(), Claim::Fresh);
    assert_eq!(b.idempotency_claim("caller", "dead", "fp", t + 60).await.unwrap(), Claim::InFlight);
    assert_eq!(b.idempotency_claim("caller", "dead", "fp", t + 121).await.unwrap(), Claim::Fresh);
    b.idempotency_release("caller", "dead").await.unwrap();
    assert_eq!(a.idempotency_claim("caller", "dead", "fp", t + 122).await.unwrap(), Claim::Fresh);
}

// ---------------------------------------------------------------------------------------------------------
// Billing: counterparties by INN

contract!(counterparties_are_found_by_inn);
/// Every legal entity with the INN is found (a company's branches share it, with their own KPP), with
/// its requisites trimmed; other INNs, blanks and entities without an INN are not.
async fn counterparties_are_found_by_inn(db: &TestDb) {
    let store = db.open().await;
    let entity = |code: &str, attrs: Value| ReferenceEntry {
        id: 0,
        code: code.into(),
        name: format!("Entity {code}"),
        active: true,
        ordering: 1,
        attrs: doc(attrs),
    };
    let head = entity(
        "head",
        json!({"legalName": "ООО Север", "INN": " 7701234567 ", "KPP": "770101001",
                                     "OGRN": "1027700132195", "legalAddress": "Москва"}),
    );
    let branch = entity("branch", json!({"INN": "7701234567", "KPP": "780201001", "OGRNIP": ""}));
    let other = entity("other", json!({"legalName": "ИП Юг", "INN": "231234567890", "OGRNIP": "304231234500012"}));
    let none = entity("none", json!({"legalName": "Без ИНН"}));
    for e in [&head, &branch, &other, &none] {
        store.upsert_ref(ReferenceKind::LegalEntity, e).await.expect("legal entity");
    }
    let mut found = store.counterparty_by_vat("7701234567").await.expect("lookup");
    found.sort_by(|a, b| a.source.cmp(&b.source));
    let seen: Vec<(&str, Option<&str>, &str, Option<&str>)> = found
        .iter()
        .map(|c| (c.source.as_str(), c.kpp.as_deref(), c.name.as_str(), c.registration_number.as_deref()))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("legal-entity:branch", Some("780201001"), "Entity branch", None),
            ("legal-entity:head", Some("770101001"), "ООО Север", Some("1027700132195")),
        ]
    );
    let ip = store.counterparty_by_vat("231234567890").await.expect("lookup");
    assert_eq!(ip[0].registration_number.as_deref(), Some("304231234500012"));
    assert!(store.counterparty_by_vat("5000000000").await.expect("lookup").is_empty());
    assert!(store.counterparty_by_vat("  ").await.expect("lookup").is_empty());
    store.close().await;
}

contract!(lines_and_payments_are_read_in_their_order);
/// An order's lines come back in the order the client last gave them (not their ids'), and its
/// payments in the order they were added, read alone or in a page, on both engines (SQLite reads
/// each in order from its index, PostgreSQL sorts their union).
async fn lines_and_payments_are_read_in_their_order(db: &TestDb) {
    let store = db.open().await;
    let line = |name: &str| json!({"productName": name, "initialPrice": 10, "quantity": 1});
    let o = create_order(
        &store,
        DEFAULT_SITE,
        json!({"externalId": "ordered-1", "email": "ordered@example.com", "items": [line("A"), line("B")],
               "payments": [{"type": "cash", "amount": 5}, {"type": "bank-card", "amount": 15}]}),
    )
    .await;
    let (a, b) = (o.items[0].id, o.items[1].id);
    // B first, a new line C after it, A last: ids A < B < C, positions B, C, A.
    store
        .edit_order(
            &OrderLookup::Id(o.id),
            &doc(json!({"items": [{"id": b, "quantity": 2}, line("C"), {"id": a, "quantity": 3}]})),
            ACTOR,
            &strings(&[DEFAULT_SITE]),
            &zone(),
        )
        .await
        .unwrap();
    let names = |o: &Order| o.items.iter().map(|i| i.product_name.clone().unwrap_or_default()).collect::<Vec<_>>();
    let kinds = |o: &Order| o.payments.iter().map(|p| p.kind.clone()).collect::<Vec<_>>();
    let alone = store.get_order(&OrderLookup::Id(o.id)).await.unwrap().expect("order");
    assert_eq!(names(&alone), ["B", "C", "A"]);
    assert_eq!(alone.items.iter().map(|i| i.id).filter(|id| [a, b].contains(id)).collect::<Vec<_>>(), [b, a]);
    assert_eq!(kinds(&alone), ["cash", "bank-card"]);
    // A second order between, so the page's statement reads lines of several orders at once.
    create_order(&store, DEFAULT_SITE, json!({"externalId": "ordered-2", "items": [line("Z"), line("Y")]})).await;
    let (shown, _) = store
        .list_shown_orders(&OrderFilter { sites: strings(&[DEFAULT_SITE]), ..OrderFilter::default() }, page())
        .await
        .unwrap();
    let listed: Vec<(String, Vec<String>, Vec<String>)> =
        shown.orders.iter().map(|o| (o.external_id.clone().unwrap_or_default(), names(o), kinds(o))).collect();
    assert_eq!(
        listed,
        [
            ("ordered-2".to_owned(), strings(&["Z", "Y"]), vec![]),
            ("ordered-1".to_owned(), strings(&["B", "C", "A"]), strings(&["cash", "bank-card"])),
        ]
    );
    store.close().await;
}

/// Takes `new` as the order's stamp after `what`, which must have moved it.
fn moved(what: &str, stamp: &mut torg_store::OrderStamp, new: torg_store::OrderStamp) {
    assert_ne!(new, *stamp, "{what} gives a new stamp");
    *stamp = new;
}

/// The stamp an order is shown at now, read with nothing held.
async fn stamp_now(store: &Store, id: i64) -> torg_store::OrderStamp {
    let stamped = store.show_stamped_order(&OrderLookup::Id(id), &|_| None).await.unwrap().expect("order");
    assert_eq!(stamped.shown.orders.len(), 1, "nothing held: the order is read whole");
    stamped.stamps[0].1.expect("a stamped order")
}

/// Whether a reader holding the order at `stamp` is sent it whole again.
async fn read_again(store: &Store, id: i64, stamp: torg_store::OrderStamp) -> bool {
    let held = move |held_id: i64| (held_id == id).then_some(stamp);
    let stamped = store.show_stamped_order(&OrderLookup::Id(id), &held).await.unwrap().expect("order");
    assert_eq!(stamped.stamps.len(), 1);
    !stamped.shown.orders.is_empty()
}

/// Orders shown through stamps: one held at its current stamp is only named, by id and in a list;
/// every change to its row, lines, payments or customer, made by another instance, gives it a new
/// stamp, and a reader holding an older one gets it whole again.
async fn stamps_follow_every_change_to_a_shown_order(db: &TestDb) {
    let store = db.open().await;
    let other = db.open().await;
    let sites = strings(&[DEFAULT_SITE]);
    let line = |name: &str| json!({"productName": name, "initialPrice": 10, "quantity": 1});
    let o = create_order(
        &store,
        DEFAULT_SITE,
        json!({"externalId": "st-1", "firstName": "Ann", "email": "ann@example.com", "items": [line("A")]}),
    )
    .await;
    let customer = o.customer_id.expect("the order made a customer");
    let mut stamp = stamp_now(&store, o.id).await;
    assert!(!read_again(&store, o.id, stamp).await, "held at its current stamp, the order is not read");
    let all = OrderFilter { sites: sites.clone(), ..OrderFilter::default() };
    let held = move |id: i64| (id == o.id).then_some(stamp);
    let (listed, total) = store.list_stamped_orders(&all, page(), &held).await.unwrap();
    assert_eq!((listed.stamps.clone(), total), (vec![(o.id, Some(stamp))], 1));
    assert!(listed.shown.orders.is_empty(), "a list names a held order without reading it");
    let (listed, _) = store.list_stamped_orders(&all, page(), &|_| None).await.unwrap();
    assert_eq!(listed.shown.orders.iter().map(|o| o.id).collect::<Vec<_>>(), [o.id]);
    assert!(listed.shown.customers.contains_key(&customer), "read whole with its customer");

    let payment = doc(json!({"type": "cash", "status": "paid", "amount": 5}));
    let lookup = OrderLookup::Id(o.id);
    let payment_id = other.create_payment(&lookup, &payment, ACTOR, &sites, &zone()).await.unwrap();
    let by_id = torg_store::PaymentLookup::Id(payment_id);
    moved("a payment added", &mut stamp, stamp_now(&store, o.id).await);
    other.edit_payment(&by_id, &doc(json!({"amount": 7})), ACTOR, &sites, &zone()).await.unwrap();
    moved("a payment changed", &mut stamp, stamp_now(&store, o.id).await);
    other.delete_payment(&by_id, ACTOR, &sites).await.unwrap();
    moved("a payment deleted", &mut stamp, stamp_now(&store, o.id).await);
    other.edit_order(&lookup, &doc(json!({"managerComment": "call first"})), ACTOR, &sites, &zone()).await.unwrap();
    moved("the order's own change", &mut stamp, stamp_now(&store, o.id).await);
    let with_line = doc(json!({"items": [{"id": o.items[0].id, "quantity": 1}, line("B")]}));
    other.edit_order(&lookup, &with_line, ACTOR, &sites, &zone()).await.unwrap();
    moved("a line added", &mut stamp, stamp_now(&store, o.id).await);
    let customer_lookup = torg_store::CustomerLookup::Id(customer);
    other.edit_customer(&customer_lookup, &doc(json!({"firstName": "Anna"})), ACTOR, &sites).await.unwrap();
    let before = stamp;
    moved("its customer's change", &mut stamp, stamp_now(&store, o.id).await);
    assert!(read_again(&store, o.id, before).await, "a reader holding the old stamp reads it whole");
    assert!(!read_again(&store, o.id, stamp).await);
    let shown = store.show_order(&lookup).await.unwrap().expect("order");
    assert_eq!(shown.customers[&customer].first_name.as_deref(), Some("Anna"));
    other.close().await;
    store.close().await;
}
contract!(stamps_follow_every_change_to_a_shown_order);

/// A page of orders as a reader holding nothing gets it: its orders with their stamps, and the count.
async fn page_now(store: &Store, f: &OrderFilter) -> (Vec<(i64, Option<torg_store::OrderStamp>)>, u64) {
    let (stamped, total) = store.list_stamped_orders(f, page(), &|_| None).await.unwrap();
    (stamped.stamps, total)
}

/// The ids of a page of orders and the count.
async fn ids_now(store: &Store, f: &OrderFilter) -> (Vec<i64>, u64) {
    let (stamps, total) = page_now(store, f).await;
    (stamps.into_iter().map(|(id, _)| id).collect(), total)
}

/// Pages of orders are kept by the generation of what they are read from: read again with nothing
/// written, a page is the same; every write another instance makes to what a page reads (a new order,
/// an order's fields, its lines, its payments, its customer) is in the next page this one reads.
async fn kept_pages_follow_every_write_of_another_instance(db: &TestDb) {
    let store = db.open().await;
    let other = db.open().await;
    let sites = strings(&[DEFAULT_SITE]);
    let line = |name: &str| json!({"productName": name, "initialPrice": 10, "quantity": 1});
    let all = OrderFilter { sites: sites.clone(), ..OrderFilter::default() };
    let beta = OrderFilter { product: Some("beta".into()), ..all.clone() };
    let paid = OrderFilter { payment_statuses: strings(&["paid"]), ..all.clone() };
    let urgent = OrderFilter { manager_comment: Some("urgent".into()), ..all.clone() };
    let o1 = create_order(&store, DEFAULT_SITE, json!({"firstName": "Ann", "items": [line("Alpha")]})).await;
    for f in [&all, &beta, &paid, &urgent] {
        page_now(&store, f).await;
    }
    assert_eq!(ids_now(&store, &all).await, (vec![o1.id], 1));
    assert_eq!(page_now(&store, &all).await, page_now(&store, &all).await, "nothing written: the same page");

    let o2 = create_order(&other, DEFAULT_SITE, json!({"firstName": "Bob", "items": [line("Alpha")]})).await;
    assert_eq!(ids_now(&store, &all).await, (vec![o2.id, o1.id], 2), "a new order");

    let with_beta = doc(json!({"items": [{"id": o1.items[0].id, "quantity": 1}, line("Beta")]}));
    other.edit_order(&OrderLookup::Id(o1.id), &with_beta, ACTOR, &sites, &zone()).await.unwrap();
    assert_eq!(ids_now(&store, &beta).await, (vec![o1.id], 1), "a line added");

    let payment = doc(json!({"type": "cash", "status": "paid", "amount": 5}));
    let payment_id = other.create_payment(&OrderLookup::Id(o2.id), &payment, ACTOR, &sites, &zone()).await.unwrap();
    assert_eq!(ids_now(&store, &paid).await, (vec![o2.id], 1), "a payment added");
    other.delete_payment(&torg_store::PaymentLookup::Id(payment_id), ACTOR, &sites).await.unwrap();
    assert_eq!(ids_now(&store, &paid).await, (vec![], 0), "a payment deleted");

    let comment = doc(json!({"managerComment": "urgent: call first"}));
    other.edit_order(&OrderLookup::Id(o2.id), &comment, ACTOR, &sites, &zone()).await.unwrap();
    assert_eq!(ids_now(&store, &urgent).await, (vec![o2.id], 1), "an order's own field");

    let before = page_now(&store, &all).await;
    let customer = torg_store::CustomerLookup::Id(o1.customer_id.expect("the order made a customer"));
    other.edit_customer(&customer, &doc(json!({"firstName": "Anna"})), ACTOR, &sites).await.unwrap();
    let after = page_now(&store, &all).await;
    assert_eq!(after.0[0], before.0[0], "the other order is as it was");
    assert_ne!(after.0[1], before.0[1], "a customer's change is in its order's stamp");
    other.close().await;
    store.close().await;
}
contract!(kept_pages_follow_every_write_of_another_instance);

/// The tables a page of orders is read from (the filters, the count, the stamps): each moves the
/// generation kept pages are checked by on every kind of write (migration `shown_generation`), and a
/// write to one of them moves it in the writing transaction.
async fn every_table_a_page_reads_moves_the_generation(db: &TestDb) {
    const READ: [&str; 11] = [
        "orders",
        "customers",
        "order_items",
        "payments",
        "order_facets",
        "costs",
        "corporate_customers",
        "file_attachments",
        "order_custom_fields",
        "bonus_operations",
        "loyalties",
    ];
    let store = db.open().await;
    for table in READ {
        let sql = match db.backend {
            Backend::Sqlite => format!(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = '{table}' \
                 AND name IN ('{table}_gen_insert', '{table}_gen_update', '{table}_gen_delete') \
                 AND sql LIKE '%UPDATE shown_generation SET gen = gen + 1%'"
            ),
            Backend::Postgres => format!(
                "SELECT COUNT(*) FROM information_schema.triggers WHERE event_object_table = '{table}' \
                 AND action_statement LIKE '%torg_shown_generation()%'"
            ),
        };
        assert_eq!(scalar_of(&store, sql).await, 3, "{table}: a trigger for insert, update and delete");
    }
    let o = create_order(
        &store,
        DEFAULT_SITE,
        json!({"firstName": "Ann", "items": [{"productName": "A", "initialPrice": 10, "quantity": 1}]}),
    )
    .await;
    assert!(o.customer_id.is_some());
    let generation = match db.backend {
        Backend::Sqlite => "SELECT gen FROM shown_generation",
        Backend::Postgres => "SELECT CAST(SUM(gen) AS BIGINT) FROM shown_generation",
    };
    for table in ["orders", "customers", "order_items"] {
        let mut tx = store.begin().await.unwrap();
        let before: i64 = db::query_scalar(generation).fetch_one(&mut *tx).await.unwrap();
        db::query(format!("UPDATE {table} SET id = id WHERE id = (SELECT MIN(id) FROM {table})"))
            .execute(&mut *tx)
            .await
            .unwrap();
        let after: i64 = db::query_scalar(generation).fetch_one(&mut *tx).await.unwrap();
        assert!(after > before, "{table}: a write moves the generation ({before} → {after})");
        tx.rollback().await.unwrap();
    }
    store.close().await;
}
contract!(every_table_a_page_reads_moves_the_generation);

/// A request's view of the store (`as_of` the generation its key check read) takes a page and an
/// order kept at that generation without reading them again; a key check after another instance's
/// write reads a new generation, and a view made with it reads the change.
async fn a_requests_view_reads_again_once_the_generation_moves(db: &TestDb) {
    let store = db.open().await;
    let other = db.open().await;
    let plain = "contract-key-generation-0123456789abcdef";
    store.create_key(new_key(plain, "reader", SiteAccess::Full)).await.unwrap();
    let sites = strings(&[DEFAULT_SITE]);
    let all = OrderFilter { sites: sites.clone(), ..OrderFilter::default() };
    let line = json!({"productName": "A", "initialPrice": 10, "quantity": 1});
    let o1 = create_order(&store, DEFAULT_SITE, json!({"firstName": "Ann", "items": [line.clone()]})).await;
    let checked = |store: &Store| {
        let store = store.clone();
        async move { store.authenticate(plain).await.unwrap().expect("key").2 }
    };
    let g1 = checked(&store).await;
    assert_eq!(checked(&store).await, g1, "nothing written, the same generation");
    let view = store.as_of(g1);
    let (listed, total) = view.list_stamped_orders(&all, page(), &|_| None).await.unwrap();
    assert_eq!((listed.shown.orders.len(), total), (1, 1), "nothing held: read whole");
    let stamp = listed.stamps[0].1.expect("stamped");
    let held = move |id: i64| (id == o1.id).then_some(stamp);
    let (listed, total) = view.list_stamped_orders(&all, page(), &held).await.unwrap();
    assert_eq!((listed.stamps, total, listed.shown.orders.len()), (vec![(o1.id, Some(stamp))], 1, 0));
    let by_id = view.show_stamped_order(&OrderLookup::Id(o1.id), &held).await.unwrap().expect("order");
    assert_eq!((by_id.stamps, by_id.shown.orders.len()), (vec![(o1.id, Some(stamp))], 0));

    let o2 = create_order(&other, DEFAULT_SITE, json!({"firstName": "Bob", "items": [line]})).await;
    other
        .edit_order(&OrderLookup::Id(o1.id), &doc(json!({"managerComment": "x"})), ACTOR, &sites, &zone())
        .await
        .unwrap();
    let g2 = checked(&store).await;
    assert_ne!(g2, g1, "another instance's writes move the generation");
    let view = store.as_of(g2);
    let (listed, total) = view.list_stamped_orders(&all, page(), &held).await.unwrap();
    assert_eq!(total, 2);
    assert_eq!(listed.stamps.iter().map(|(id, _)| *id).collect::<Vec<_>>(), [o2.id, o1.id]);
    assert_ne!(listed.stamps[1].1, Some(stamp), "the edited order has a new stamp");
    assert_eq!(listed.shown.orders.len(), 2, "both read whole: one new, one changed");
    let by_id = view.show_stamped_order(&OrderLookup::Id(o1.id), &held).await.unwrap().expect("order");
    assert_eq!(by_id.shown.orders[0].manager_comment.as_deref(), Some("x"), "by id, the change is read");
    other.close().await;
    store.close().await;
}
contract!(a_requests_view_reads_again_once_the_generation_moves);
