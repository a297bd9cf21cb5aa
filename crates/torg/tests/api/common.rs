//! The test harness: `spawn(Backend)` starts torg on `127.0.0.1:0` over a fresh database and returns a
//! [`TestApp`] with a key holding every scope; `both!` declares a test once and runs it on both
//! backends.

#![allow(dead_code)]

use reqwest::StatusCode;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use tokio::sync::oneshot;
use torg_domain::key::{ALL_SCOPES, SiteAccess};
use torg_http::{AppState, HttpConfig};
use torg_store::{NewKey, Store};

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a temporary folder.
    Sqlite,
    /// A new database on the server at `TORG_TEST_POSTGRES_URL`.
    Postgres,
}

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The server's address.
    pub addr: SocketAddr,
    /// The store behind it, for setting up data and checking what was written.
    pub store: Store,
    /// The database URL (to run the CLI against the same database).
    pub database_url: String,
    /// A key with every scope on every site.
    pub key: String,
    /// A plain HTTP client.
    pub client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    /// Parameters handlers read that their routes do not declare; the test fails on any.
    undeclared: Option<std::sync::Arc<torg_http::fields::Undeclared>>,
    _dir: Option<tempfile::TempDir>,
    pg: Option<PgDatabase>,
}

/// A PostgreSQL database made for one test, dropped when this is (passed or failed, whoever still
/// holds a connection to it).
pub struct PgDatabase {
    admin: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // Drop runs outside async: clean up on a thread of its own with its own runtime.
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                let _ = rt.block_on(torg_store::testing::drop_postgres_database(&admin, &name));
            }
        })
        .join();
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Numbers the files of what each server's handlers read (`TORG_FIELDS_READ`).
static READS: AtomicU32 = AtomicU32::new(0);

/// A reqwest client builder; the TLS provider reqwest is built to expect is installed first.
pub fn http() -> reqwest::ClientBuilder {
    torg_http::install_tls_provider();
    reqwest::Client::builder()
}

/// The PostgreSQL server tests use; tests fail without it.
pub fn postgres_admin_url() -> String {
    std::env::var("TORG_TEST_POSTGRES_URL")
        .expect("TORG_TEST_POSTGRES_URL must point at a PostgreSQL server (scripts/test sets it)")
}

/// A fresh database URL for `backend`, with what must be cleaned up afterwards.
pub async fn fresh_database(backend: Backend) -> (String, Option<tempfile::TempDir>, Option<PgDatabase>) {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite:{}", dir.path().join("torg.db").display());
            (url, Some(dir), None)
        }
        Backend::Postgres => {
            let admin = postgres_admin_url();
            let name = format!(
                "torg_t_{}_{}_{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::SeqCst),
                uuid::Uuid::new_v4().simple().to_string().get(..8).unwrap_or("0")
            );
            let url = torg_store::testing::create_postgres_database(&admin, &name)
                .await
                .expect("create a test database on TORG_TEST_POSTGRES_URL");
            (url, None, Some(PgDatabase { admin, name }))
        }
    }
}

/// Starts torg with rate limits off.
pub async fn spawn(backend: Backend) -> TestApp {
    spawn_tuned(backend, |_| {}).await
}

/// Starts torg with rate limits off and then `configure`'s changes.
pub async fn spawn_tuned(backend: Backend, configure: impl FnOnce(&mut HttpConfig)) -> TestApp {
    spawn_with(backend, |c| {
        c.rate_per_second = 0;
        c.telephony_rate_per_second = 0;
        c.billing_per_key = 0;
        c.billing_per_ip = 0;
        configure(c);
    })
    .await
}

/// Gives `store`'s database a key `plain` named `name` with every scope on every site.
pub async fn full_key(store: &Store, plain: &str, name: &str) {
    store
        .create_key(NewKey {
            plain: plain.into(),
            name: name.into(),
            scopes: ALL_SCOPES.iter().map(|s| (*s).to_string()).collect(),
            sites: SiteAccess::Full,
            allowed_ips: Vec::new(),
            customer_external_id: None,
            distributor: None,
        })
        .await
        .expect("key");
}

/// Starts torg with the settings `configure` makes.
pub async fn spawn_with(backend: Backend, configure: impl FnOnce(&mut HttpConfig)) -> TestApp {
    crate::plans_seen::turn_on();
    let (url, dir, pg) = fresh_database(backend).await;
    let store = Store::open(&url).await.expect("open store");
    let key = "test-key-all-scopes-0123456789abcdef".to_string();
    full_key(&store, &key, "test").await;
    let mut config = HttpConfig { check_fields: true, ..HttpConfig::default() };
    configure(&mut config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    config.public_url = format!("http://{addr}");
    let state = AppState::new(store.clone(), config).await.expect("state");
    let undeclared = state.undeclared.clone();
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = torg_http::serve(listener, state, async {
            let _ = rx.await;
        })
        .await;
    });
    TestApp {
        base: format!("http://{addr}"),
        addr,
        store,
        database_url: url,
        key,
        client: http().build().expect("HTTP client"),
        shutdown: Some(tx),
        undeclared,
        _dir: dir,
        pg,
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        drop(self.pg.take());
        // Every request of the test has been answered: a name read but not declared fails it, so the
        // OpenAPI document (built from the declarations) cannot fall behind the handlers.
        let found = self.undeclared.as_ref().map(|log| log.take()).unwrap_or_default();
        // What the handlers did read goes to a file of this server's own when `TORG_FIELDS_READ`
        // names a folder: `fields_read` merges the suite's files and names declarations nobody read.
        if let (Some(log), Some(dir)) = (&self.undeclared, std::env::var_os(crate::fields_read::DIR)) {
            let name = format!("{}-{}.txt", std::process::id(), READS.fetch_add(1, Ordering::SeqCst));
            let lines = log.take_reads();
            if let Err(e) = std::fs::write(std::path::Path::new(&dir).join(name), lines.join("\n"))
                && !std::thread::panicking()
            {
                panic!("writing what the handlers read to {}: {e}", dir.to_string_lossy());
            }
        }
        if !found.is_empty() && !std::thread::panicking() {
            panic!("handlers read parameters their routes do not declare (`Route::fields`):\n{}", found.join("\n"));
        }
    }
}

/// Adds `n` to the row counters of `entity` on `site`, on a shard of its own (PostgreSQL spreads a
/// site's count over shards by the writing connection): a total that moves with it is the counters'.
pub async fn add_to_counter(app: &TestApp, entity: &str, site: &str, n: i64) {
    let mut tx = app.store.begin().await.expect("a transaction");
    torg_store::db::query("INSERT INTO row_counts (entity, site, shard, n) VALUES ($1, $2, 99, $3)")
        .bind(entity.to_owned())
        .bind(site.to_owned())
        .bind(n)
        .execute(&mut *tx)
        .await
        .expect("a counter moved");
    tx.commit().await.expect("commit");
}

/// A response: status and JSON body (the test fails if the body is not JSON).
pub type Reply = (StatusCode, Value);

async fn reply(r: reqwest::Response) -> Reply {
    let status = r.status();
    let text = r.text().await.expect("body");
    let body: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}), status {status}: {text:?}"));
    (status, body)
}

impl TestApp {
    /// The `pagination.totalCount` of a CRM list at `path_and_query` (the test fails unless 200).
    pub async fn total_count(&self, path_and_query: &str) -> u64 {
        let (s, b) = self.get(path_and_query).await;
        assert_eq!(s, 200, "{path_and_query}: {b}");
        b["pagination"]["totalCount"].as_u64().expect("totalCount")
    }

    /// GET with the test key in `X-API-KEY`.
    pub async fn get(&self, path_and_query: &str) -> Reply {
        self.get_as(&self.key.clone(), path_and_query).await
    }

    /// GET with a given key.
    pub async fn get_as(&self, key: &str, path_and_query: &str) -> Reply {
        let r = self
            .client
            .get(format!("{}{path_and_query}", self.base))
            .header("X-API-KEY", key)
            .send()
            .await
            .expect("send");
        reply(r).await
    }

    /// GET with no key at all.
    pub async fn get_raw(&self, path_and_query: &str) -> Reply {
        reply(self.client.get(format!("{}{path_and_query}", self.base)).send().await.expect("send")).await
    }

    /// POST a form with the test key in `X-API-KEY`.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Reply {
        self.post_as(&self.key.clone(), path, form).await
    }

    /// POST a form with a given key.
    pub async fn post_as(&self, key: &str, path: &str, form: &[(&str, &str)]) -> Reply {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header("X-API-KEY", key)
            .form(form)
            .send()
            .await
            .expect("send");
        reply(r).await
    }

    /// POST a raw body with a content type, no key header.
    pub async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> Reply {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header("Content-Type", content_type)
            .body(body)
            .send()
            .await
            .expect("send");
        reply(r).await
    }

    /// A key with these scopes on these sites (empty: every site).
    pub async fn key_with(&self, scopes: &[&str], sites: &[&str]) -> String {
        let plain = format!("k-{}", uuid::Uuid::new_v4().simple());
        self.store
            .create_key(NewKey {
                plain: plain.clone(),
                name: plain.clone(),
                scopes: scopes.iter().map(|s| (*s).to_string()).collect(),
                sites: if sites.is_empty() {
                    SiteAccess::Full
                } else {
                    SiteAccess::Selective(sites.iter().map(|s| (*s).to_string()).collect())
                },
                allowed_ips: Vec::new(),
                customer_external_id: None,
                distributor: None,
            })
            .await
            .expect("create key");
        plain
    }

    /// A parts-face buyer: customer `doc` (which has an `externalId`) created on the default site, and
    /// a parts key of theirs, `parts-{externalId}`, which this returns.
    pub async fn buyer(&self, doc: Value) -> String {
        let external_id = doc["externalId"].as_str().expect("externalId").to_string();
        let (s, b) =
            self.post("/api/v5/customers/create", &[("customer", &doc.to_string()), ("site", "default")]).await;
        assert_eq!(s, 201, "{b}");
        let plain = format!("parts-{external_id}");
        self.store
            .create_key(NewKey {
                plain: plain.clone(),
                name: plain.clone(),
                scopes: vec!["parts".into()],
                sites: SiteAccess::Full,
                allowed_ips: Vec::new(),
                customer_external_id: Some(external_id),
                distributor: None,
            })
            .await
            .expect("create key");
        plain
    }

    /// Adds a site by the API and returns its code.
    pub async fn add_site(&self, code: &str) -> String {
        let site = serde_json::json!({"code": code, "name": format!("Site {code}")}).to_string();
        let (status, body) = self.post(&format!("/api/v5/reference/sites/{code}/edit"), &[("site", &site)]).await;
        assert!(status.is_success(), "{body}");
        code.to_string()
    }

    /// Adds a catalogue offer with this external id and price.
    pub async fn add_offer(&self, external_id: &str, price: &str) -> i64 {
        self.store
            .create_offer(&torg_domain::catalogue::Offer {
                external_id: Some(external_id.into()),
                name: format!("Offer {external_id}"),
                article: Some(external_id.to_uppercase()),
                price: price.parse().expect("price"),
                active: true,
                ..Default::default()
            })
            .await
            .expect("offer")
    }
}

/// Declares a test that runs on SQLite and on PostgreSQL: `both!(name, |app| async move { … });`, or
/// with more of the server's configuration changed: `both!(name, |config| …, |app| async move { … });`.
macro_rules! both {
    ($name:ident, $body:expr) => {
        $crate::common::both!($name, |_: &mut torg_http::HttpConfig| {}, $body);
    };
    ($name:ident, $configure:expr, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = crate::common::spawn_tuned(crate::common::Backend::Sqlite, $configure).await;
                ($body)(app).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let app = crate::common::spawn_tuned(crate::common::Backend::Postgres, $configure).await;
                ($body)(app).await;
            }
        }
    };
}
pub(crate) use both;
