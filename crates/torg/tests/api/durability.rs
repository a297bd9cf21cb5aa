//! `kill -9` under concurrent write load, then a restart on the same database: every write torg
//! acknowledged is there and whole (lines, customer, history, stock reserved), and the counters and
//! the stock agree with the rows. The real binary (`torg serve`), killed with SIGKILL mid-load.

use crate::common::{Backend, fresh_database};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use torg_domain::key::{ALL_SCOPES, SiteAccess};
use torg_store::{NewKey, Store};

const KEY: &str = "durability-key-0123456789abcdefghij";
const STOCK: i64 = 100_000;

fn serve(database: &str, config: &std::path::Path) -> crate::seeds::Demo {
    let config = config.to_string_lossy().into_owned();
    crate::seeds::start(&["serve", "--database", database, "--listen", "127.0.0.1:0", "--config", &config])
}

async fn kill_under_load(backend: Backend) {
    let (url, dir, pg) = fresh_database(backend).await;
    let config_dir = tempfile::tempdir().expect("temp dir");
    let config = config_dir.path().join("torg.toml");
    std::fs::write(&config, "rate_per_second = 0\ntelephony_rate_per_second = 0\n").expect("config");
    {
        let store = Store::open(&url).await.expect("store");
        store
            .create_key(NewKey {
                plain: KEY.into(),
                name: "load".into(),
                scopes: ALL_SCOPES.iter().map(|s| (*s).to_string()).collect(),
                sites: SiteAccess::Full,
                allowed_ips: Vec::new(),
                customer_external_id: None,
                distributor: None,
            })
            .await
            .expect("key");
    }
    let http = crate::common::http().timeout(Duration::from_secs(10)).build().expect("client");
    let server = serve(&url, &config);
    let post = |path: &str, field: &str, doc: Value| {
        http.post(format!("{}{path}", server.base))
            .header("X-API-KEY", KEY)
            .form(&[(field.to_string(), doc.to_string())])
    };
    let products = json!([{"externalId": "dur-p", "name": "Ремень", "offers": [{"externalId": "dur-o", "name": "Ремень", "price": 100}]}]);
    assert_eq!(post("/api/v5/store/products/batch/create", "products", products).send().await.unwrap().status(), 200);
    let stock = json!([{"externalId": "dur-o", "stores": [{"code": "main", "available": STOCK}]}]);
    assert_eq!(post("/api/v5/store/inventories/upload", "offers", stock).send().await.unwrap().status(), 200);

    // Eight writers create orders (each reserving two units) until the process is killed.
    let acked: Arc<Mutex<Vec<(String, i64)>>> = Arc::default();
    let mut writers = Vec::new();
    for w in 0..8 {
        let (http, base, acked) = (http.clone(), server.base.clone(), acked.clone());
        writers.push(tokio::spawn(async move {
            for n in 0.. {
                let ext = format!("dur-{w}-{n}");
                let order = json!({"externalId": ext, "firstName": "Load", "email": format!("{ext}@example.com"),
                    "shipmentStore": "main", "items": [{"offer": {"externalId": "dur-o"}, "quantity": 2}],
                    "payments": [{"type": "cash", "amount": 200}]});
                let sent = http
                    .post(format!("{base}/api/v5/orders/create"))
                    .header("X-API-KEY", KEY)
                    .form(&[("order", order.to_string())])
                    .send()
                    .await;
                let Ok(r) = sent else { return };
                if r.status() != 201 {
                    return;
                }
                let Ok(body) = r.json::<Value>().await else { return };
                acked.lock().unwrap().push((ext, body["id"].as_i64().unwrap_or_default()));
            }
        }));
    }
    let started = Instant::now();
    while acked.lock().unwrap().len() < 150 && started.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(server); // SIGKILL, with requests in flight
    for w in writers {
        let _ = w.await;
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 150, "the load ran: {} orders acknowledged", acked.len());

    let server = serve(&url, &config);
    let get = |path: String| {
        let (http, base) = (http.clone(), server.base.clone());
        async move {
            let r = http.get(format!("{base}{path}")).header("X-API-KEY", KEY).send().await.unwrap();
            assert_eq!(r.status(), 200, "{path}");
            r.json::<Value>().await.unwrap()
        }
    };
    for (ext, id) in &acked {
        let b = get(format!("/api/v5/orders/{ext}")).await;
        let o = &b["order"];
        assert_eq!(o["id"].as_i64(), Some(*id), "{ext}: an acknowledged order is there");
        assert_eq!(o["items"][0]["quantity"], 2, "{ext}: with its line");
        assert_eq!(o["payments"].as_object().map(|p| p.len()), Some(1), "{ext}: with its payment");
        assert!(o["customer"]["id"].is_i64(), "{ext}: with its customer");
    }
    // Every order that exists, acknowledged or not, is whole; counters, history and stock agree.
    let counted = get("/api/v5/orders?limit=20".into()).await["pagination"]["totalCount"].as_i64().unwrap();
    let scanned =
        get("/api/v5/orders?limit=20&filter[createdAtFrom]=2000-01-01".into()).await["pagination"]["totalCount"]
            .as_i64()
            .unwrap();
    assert_eq!(counted, scanned, "the kept counter equals a count of the rows");
    assert!(counted >= acked.len() as i64);
    let mut created_records = 0;
    let mut page = 1;
    loop {
        let b = get(format!("/api/v5/orders/history?limit=100&page={page}")).await;
        created_records += b["history"].as_array().unwrap().iter().filter(|r| r["created"] == true).count();
        if page >= b["pagination"]["totalPageCount"].as_i64().unwrap_or(1) {
            break;
        }
        page += 1;
    }
    assert_eq!(created_records as i64, counted, "one created record per order, no more, no less");
    let inv = get("/api/v5/store/inventories?filter[offerExternalId]=dur-o".into()).await;
    assert_eq!(inv["offers"][0]["quantity"].as_i64(), Some(STOCK - 2 * counted), "stock reserved once per order");
    drop(server);
    drop(dir);
    if let Some((admin, name)) = pg {
        torg_store::testing::drop_postgres_database(&admin, &name).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_under_load_loses_no_acknowledged_write_sqlite() {
    kill_under_load(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_under_load_loses_no_acknowledged_write_postgres() {
    kill_under_load(Backend::Postgres).await;
}
