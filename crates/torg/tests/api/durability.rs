//! `kill -9` under concurrent write load, then a restart on the same database: every write torg
//! acknowledged is there and whole, and the counters, stock, payments and history agree with the rows.
//! The real binary (`torg serve`), killed with SIGKILL mid-load, with three kinds of writers at once:
//! CRM creates (a reserving line and a payment), parts orders (a signed row → a reserved unit) and
//! billing invoices created for a CRM order and paid on the test payment page (the invoice completed and
//! the order's payment added in one transaction).

use crate::common::{Backend, fresh_database};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use torg_domain::catalogue::Availability;
use torg_domain::key::SiteAccess;
use torg_store::{BillingSettingsPatch, CatalogueRow, NewKey, Store};

const KEY: &str = "durability-key-0123456789abcdefghij";
const BUYER_KEY: &str = "durability-buyer-0123456789abcdefgh";
const MERCHANT: &str = "11111111-2222-4333-8444-555555555555";
const STOCK: i64 = 100_000;
const PARTS_STOCK: i64 = 100_000;
/// What each kind of writer must have had acknowledged before the kill.
const CRM_ACKS: usize = 150;
const PARTS_ACKS: usize = 30;
const PAID_ACKS: usize = 15;

fn serve(database: &str, config: &std::path::Path) -> crate::seeds::Demo {
    let config = config.to_string_lossy().into_owned();
    crate::seeds::start(&["serve", "--database", database, "--listen", "127.0.0.1:0", "--config", &config])
}

/// What the writers had acknowledged when the process died.
#[derive(Default)]
struct Acked {
    /// CRM orders: external id, id.
    crm: Vec<(String, i64)>,
    /// Parts orders: id.
    parts: Vec<i64>,
    /// Paid invoices: CRM order external id, invoice id.
    paid: Vec<(String, String)>,
}

impl Acked {
    fn enough(&self) -> bool {
        self.crm.len() >= CRM_ACKS && self.parts.len() >= PARTS_ACKS && self.paid.len() >= PAID_ACKS
    }
}

async fn prepare(url: &str) {
    let store = Store::open(url).await.expect("store");
    crate::common::full_key(&store, KEY, "load").await;
    let patch =
        BillingSettingsPatch { merchant_id: Some(MERCHANT.into()), test_mode: Some(true), ..Default::default() };
    store.set_billing_settings("default", &patch, MERCHANT).await.expect("billing settings");
    let row = CatalogueRow {
        article: "DUR-47".into(),
        brand: "DURBRAND".into(),
        name: "Фильтр".into(),
        description: None,
        warehouse: "nsk".into(),
        quantity: Availability::Exact(PARTS_STOCK),
        price: "10.00".parse().expect("price"),
        min_qty: 1,
        period_min: None,
        period_max: None,
    };
    store.load_catalogue(&[row]).await.expect("catalogue");
}

/// CRM creates: one order with two reserved units and a payment per request, until a refusal.
async fn crm_writer(http: reqwest::Client, base: String, w: usize, acked: Arc<Mutex<Acked>>) {
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
        acked.lock().unwrap().crm.push((ext, body["id"].as_i64().unwrap_or_default()));
    }
}

/// Parts orders: the signed row of one search, one unit per order, until a refusal.
async fn parts_writer(http: reqwest::Client, base: String, w: usize, acked: Arc<Mutex<Acked>>) {
    let Ok(r) = http.get(format!("{base}/v1/search/?q=DUR-47&api_key={BUYER_KEY}")).send().await else { return };
    let Ok(found) = r.json::<Value>().await else { return };
    let Some(row) = found["objects"].as_array().and_then(|o| o.first()).cloned() else { return };
    for n in 0.. {
        let mut order = row.clone();
        order["order_qty"] = json!(1);
        order["client_comment"] = json!(format!("w{w}-{n}"));
        let sent = http.post(format!("{base}/v1/order/?api_key={BUYER_KEY}")).json(&order).send().await;
        let Ok(r) = sent else { return };
        if r.status() != 201 {
            return;
        }
        let Ok(body) = r.json::<Value>().await else { return };
        acked.lock().unwrap().parts.push(body["id"].as_i64().unwrap_or_default());
    }
}

/// Billing: a CRM order (two reserved units), an invoice for it, paid on the test page; acknowledged
/// when the page's POST answers 303.
async fn billing_writer(http: reqwest::Client, base: String, w: usize, acked: Arc<Mutex<Acked>>) {
    for n in 0.. {
        let ext = format!("bill-{w}-{n}");
        let order = json!({"externalId": ext, "firstName": "Pay", "email": format!("{ext}@example.com"),
            "shipmentStore": "main", "items": [{"offer": {"externalId": "dur-o"}, "quantity": 2}]});
        let sent = http
            .post(format!("{base}/api/v5/orders/create"))
            .header("X-API-KEY", KEY)
            .form(&[("order", order.to_string())]);
        let Ok(r) = sent.send().await else { return };
        if r.status() != 201 {
            return;
        }
        let invoice = json!({"merchantId": MERCHANT, "merchantOrderId": ext, "description": "Оплата заказа",
            "currencyId": "RUB", "languageId": "ru", "expirationDate": "2099-12-31T21:00:00+00:00"});
        let sent = http
            .post(format!("{base}/v3/billing/api/order/order"))
            .header("Accept", "application/json")
            .header("User-Agent", "durability")
            .header("Authorization", format!("Bearer {KEY}"))
            .header("Content-Type", "application/json")
            .body(invoice.to_string())
            .send()
            .await;
        let Ok(r) = sent else { return };
        if r.status() != 200 {
            return;
        }
        let Ok(body) = r.json::<Value>().await else { return };
        let (Some(id), Some(url)) = (body["data"]["id"].as_str(), body["data"]["paymentUrl"].as_str()) else { return };
        let Some(container) = url.rsplit("/pay/").next() else { return };
        let paid = http.post(format!("{base}/pay/{container}")).form(&[("pay", "1")]).send().await;
        let Ok(r) = paid else { return };
        if r.status() != 303 {
            return;
        }
        acked.lock().unwrap().paid.push((ext, id.to_string()));
    }
}

async fn kill_under_load(backend: Backend) {
    let (url, dir, pg) = fresh_database(backend).await;
    let config_dir = tempfile::tempdir().expect("temp dir");
    let config = config_dir.path().join("torg.toml");
    std::fs::write(
        &config,
        "rate_per_second = 0\ntelephony_rate_per_second = 0\nbilling_per_key = 0\nbilling_per_ip = 0\n",
    )
    .expect("config");
    prepare(&url).await;
    let http = crate::common::http()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
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
    let buyer = json!({"externalId": "dur-buyer", "firstName": "Buyer", "email": "buyer@example.com"});
    let r = http
        .post(format!("{}/api/v5/customers/create", server.base))
        .header("X-API-KEY", KEY)
        .form(&[("customer", buyer.to_string()), ("site", "default".into())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let buyer_id = r.json::<Value>().await.unwrap()["id"].as_i64().expect("buyer id");
    Store::open(&url)
        .await
        .expect("store")
        .create_key(NewKey {
            plain: BUYER_KEY.into(),
            name: "buyer".into(),
            scopes: vec!["parts".into()],
            sites: SiteAccess::Full,
            allowed_ips: Vec::new(),
            customer_external_id: Some("dur-buyer".into()),
            distributor: None,
        })
        .await
        .expect("buyer key");

    let acked: Arc<Mutex<Acked>> = Arc::default();
    let mut writers = Vec::new();
    for w in 0..6 {
        writers.push(tokio::spawn(crm_writer(http.clone(), server.base.clone(), w, acked.clone())));
    }
    for w in 0..3 {
        writers.push(tokio::spawn(parts_writer(http.clone(), server.base.clone(), w, acked.clone())));
        writers.push(tokio::spawn(billing_writer(http.clone(), server.base.clone(), w, acked.clone())));
    }
    let started = Instant::now();
    while !acked.lock().unwrap().enough() && started.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(server); // SIGKILL, with requests in flight
    for w in writers {
        let _ = w.await;
    }
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    assert!(
        acked.enough(),
        "the load ran: {} CRM orders, {} parts orders, {} paid invoices acknowledged",
        acked.crm.len(),
        acked.parts.len(),
        acked.paid.len()
    );

    let server = serve(&url, &config);
    let get = |path: String| {
        let (http, base) = (http.clone(), server.base.clone());
        async move {
            let r = http.get(format!("{base}{path}")).header("X-API-KEY", KEY).send().await.unwrap();
            assert_eq!(r.status(), 200, "{path}");
            r.json::<Value>().await.unwrap()
        }
    };
    for (ext, id) in &acked.crm {
        let b = get(format!("/api/v5/orders/{ext}")).await;
        let o = &b["order"];
        assert_eq!(o["id"].as_i64(), Some(*id), "{ext}: an acknowledged order is there");
        assert_eq!(o["items"][0]["quantity"], 2, "{ext}: with its line");
        assert_eq!(o["payments"].as_object().map(|p| p.len()), Some(1), "{ext}: with its payment");
        assert!(o["customer"]["id"].is_i64(), "{ext}: with its customer");
    }
    for id in &acked.parts {
        let r = http.get(format!("{}/v1/order/{id}/?api_key={BUYER_KEY}", server.base)).send().await.unwrap();
        assert_eq!(r.status(), 200, "acknowledged parts order {id} is there");
        let o: Value = r.json().await.unwrap();
        assert_eq!((o["order_qty"].as_i64(), o["code"].as_str()), (Some(1), Some("DUR-47")), "{o}");
    }
    for (ext, invoice) in &acked.paid {
        let r = http
            .get(format!("{}/v3/billing/api/order/order/{invoice}", server.base))
            .header("Accept", "application/json")
            .header("User-Agent", "durability")
            .header("Authorization", format!("Bearer {KEY}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "acknowledged invoice {invoice} is there");
        let inv: Value = r.json().await.unwrap();
        assert_eq!(inv["data"]["status"], "completed", "{ext}: a paid invoice stays paid: {inv}");
        let o = get(format!("/api/v5/orders/{ext}")).await;
        let payments: Vec<&Value> = o["order"]["payments"].as_object().unwrap().values().collect();
        assert_eq!(payments.len(), 1, "{ext}: the payment came with the invoice: {o}");
        assert_eq!(
            (payments[0]["status"].as_str(), payments[0]["externalId"].as_str()),
            (Some("paid"), Some(invoice.as_str()))
        );
        assert_eq!(o["order"]["prepaySum"], 200, "{ext}");
    }

    // Every order that exists, acknowledged or not, is whole; counters, history and stock agree.
    let counted = get("/api/v5/orders?limit=20".into()).await["pagination"]["totalCount"].as_i64().unwrap();
    let scanned =
        get("/api/v5/orders?limit=20&filter[createdAtFrom]=2000-01-01".into()).await["pagination"]["totalCount"]
            .as_i64()
            .unwrap();
    assert_eq!(counted, scanned, "the kept counter equals a count of the rows");
    let parts_total =
        get(format!("/api/v5/orders?limit=20&filter[customerId]={buyer_id}")).await["pagination"]["totalCount"]
            .as_i64()
            .unwrap();
    assert!(parts_total >= acked.parts.len() as i64);
    assert!(counted - parts_total >= (acked.crm.len() + acked.paid.len()) as i64);
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
    assert_eq!(
        inv["offers"][0]["quantity"].as_i64(),
        Some(STOCK - 2 * (counted - parts_total)),
        "stock reserved once per CRM order"
    );
    let r = http.get(format!("{}/v1/search/?q=DUR-47&api_key={BUYER_KEY}", server.base)).send().await.unwrap();
    let found: Value = r.json().await.unwrap();
    assert_eq!(
        found["objects"][0]["qty"].as_str(),
        Some((PARTS_STOCK - parts_total).to_string().as_str()),
        "one unit reserved per parts order: {found}"
    );
    // Every invoice is paid exactly when its order holds its payment (never one without the other).
    let mut page = 1;
    let mut invoices = 0;
    loop {
        let r = http
            .get(format!("{}/v3/filter/api/order/order?_pageSize=100&_page={page}", server.base))
            .header("Accept", "application/json")
            .header("User-Agent", "durability")
            .header("Authorization", format!("Bearer {KEY}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let b: Value = r.json().await.unwrap();
        let rows = b["data"].as_array().unwrap().clone();
        for inv in &rows {
            let ext = inv["merchantOrderId"].as_str().unwrap();
            let o = get(format!("/api/v5/orders/{ext}")).await;
            let paid: Vec<&Value> = o["order"]["payments"]
                .as_object()
                .map(|p| p.values().filter(|p| p["externalId"] == inv["id"] && p["status"] == "paid").collect())
                .unwrap_or_default();
            let completed = inv["status"] == "completed";
            assert_eq!(paid.len(), usize::from(completed), "{ext}: invoice {} and its order agree: {o}", inv["status"]);
        }
        invoices += rows.len();
        if rows.len() < 100 {
            break;
        }
        page += 1;
    }
    assert!(invoices >= acked.paid.len());
    drop(server);
    drop(dir);
    drop(pg);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_under_load_loses_no_acknowledged_write_sqlite() {
    kill_under_load(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_under_load_loses_no_acknowledged_write_postgres() {
    kill_under_load(Backend::Postgres).await;
}
