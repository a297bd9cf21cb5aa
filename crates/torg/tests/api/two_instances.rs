//! Two torg instances on one database. Racing orders for the last units of stock, sent to both, never
//! take more than there is (both engines); and the production set-up on PostgreSQL and Redis in one
//! scenario: no oversell, every webhook delivered once by two workers, one client's rate allowance
//! shared. (Idempotency keys across instances: `idempotency.rs`.)

use crate::billing_support::{Instance, fast_webhooks};
use crate::common::{TestApp, both};
use serde_json::{Value, json};

both!(two_instances_never_oversell, |app: TestApp| async move {
    let second = Instance::start(&app.database_url, fast_webhooks(0)).await;
    let products = json!([{"externalId": "last-p", "name": "Last", "offers": [{"externalId": "last", "name": "Last", "price": 10}]}]);
    let (s, b) = app.post("/api/v5/store/products/batch/create", &[("products", &products.to_string())]).await;
    assert_eq!(s, 200, "{b}");
    let stock = json!([{"externalId": "last", "stores": [{"code": "main", "available": 5}]}]);
    let (s, b) = app.post("/api/v5/store/inventories/upload", &[("offers", &stock.to_string())]).await;
    assert_eq!(s, 200, "{b}");

    let mut racers = Vec::new();
    for i in 0..20 {
        let base = if i % 2 == 0 { app.base.clone() } else { second.base.clone() };
        let (client, key) = (app.client.clone(), app.key.clone());
        racers.push(tokio::spawn(async move {
            let order = json!({"externalId": format!("race-{i}"), "firstName": "R", "shipmentStore": "main",
                               "items": [{"offer": {"externalId": "last"}, "quantity": 1}]});
            let r = client
                .post(format!("{base}/api/v5/orders/create"))
                .header("X-API-KEY", key)
                .form(&[("order", order.to_string())])
                .send()
                .await
                .expect("send");
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.expect("json"))
        }));
    }
    let mut created = 0;
    for r in racers {
        let (s, b) = r.await.expect("racer");
        match s {
            201 => created += 1,
            400 => {
                assert!(b["errors"].to_string().contains("stock") || b["errors"].to_string().contains("Stock"), "{b}")
            }
            other => panic!("{other}: {b}"),
        }
    }
    assert_eq!(created, 5, "exactly the five units there were");
    let (_, inv) = app.get("/api/v5/store/inventories?filter[offerExternalId]=last").await;
    assert_eq!(inv["offers"][0]["quantity"], 0, "{inv}");
    let (_, list) = app.get("/api/v5/orders?limit=100").await;
    assert_eq!(list["pagination"]["totalCount"], 5, "refused orders left nothing behind");
    second.stop().await;
});

/// A whole instance (server and webhook worker) with the production limits, sharing Redis.
async fn instance(database_url: &str, redis: &str) -> Instance {
    let config = torg_http::HttpConfig { redis_url: Some(redis.to_string()), ..torg_http::HttpConfig::default() };
    Instance::start_with(database_url, fast_webhooks(10), config).await
}

/// A client sending from its own loopback address, so that each caller has its own per-IP allowance.
fn client_from(n: u32) -> reqwest::Client {
    let ip = std::net::Ipv4Addr::new(127, 1 + (n >> 16) as u8, (n >> 8) as u8, (n & 0xff) as u8);
    crate::common::http().local_address(std::net::IpAddr::V4(ip)).build().expect("client")
}

/// The production set-up of two instances behind a proxy, in one test: two servers, each with its own
/// webhook worker and the default rate limits, on one PostgreSQL database and one Redis. Racing orders
/// sent to both never oversell; invoices paid through both are notified once each; one client's burst
/// spread over both meets one allowance.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_share_one_postgres_and_redis() {
    use crate::billing_support::{MERCHANT, Receiver};
    let redis =
        std::env::var("TORG_TEST_REDIS_URL").expect("TORG_TEST_REDIS_URL must point at Redis (scripts/test sets it)");
    let (url, _dir, pg) = crate::common::fresh_database(crate::common::Backend::Postgres).await;
    let key = format!("two-{}", uuid::Uuid::new_v4().simple());
    let store = torg_store::Store::open(&url).await.expect("store");
    crate::common::full_key(&store, &key, "two").await;
    let receiver = Receiver::start(0).await;
    let patch = torg_store::BillingSettingsPatch {
        merchant_id: Some(MERCHANT.into()),
        notification_url: Some(receiver.url.clone()),
        test_mode: Some(true),
        ..Default::default()
    };
    store.set_billing_settings("default", &patch, MERCHANT).await.expect("billing settings");
    let (one, two) = (instance(&url, &redis).await, instance(&url, &redis).await);
    let (a, b) = (one.base.clone(), two.base.clone());
    let bases = [a.clone(), b.clone()];
    // Fresh addresses per run, so that earlier runs' counters in Redis do not matter.
    let run = (std::process::id() % 200) << 12;

    let setup = client_from(run);
    let products = json!([{"externalId": "last-p", "name": "Last", "offers": [{"externalId": "last", "name": "Last", "price": 10}]}]);
    let r = setup
        .post(format!("{a}/api/v5/store/products/batch/create"))
        .header("X-API-KEY", &key)
        .form(&[("products", products.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let stock = json!([{"externalId": "last", "stores": [{"code": "main", "available": 5}]}]);
    let r = setup
        .post(format!("{b}/api/v5/store/inventories/upload"))
        .header("X-API-KEY", &key)
        .form(&[("offers", stock.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "a write through one instance, a book read through the other");

    // 20 buyers race for 5 units, half through each instance.
    let mut racers = Vec::new();
    for i in 0..20u32 {
        let (base, key, client) = (bases[i as usize % 2].clone(), key.clone(), client_from(run + 1 + i));
        racers.push(tokio::spawn(async move {
            let order = json!({"externalId": format!("race-{i}"), "firstName": "R", "shipmentStore": "main",
                               "items": [{"offer": {"externalId": "last"}, "quantity": 1}]});
            let r = client
                .post(format!("{base}/api/v5/orders/create"))
                .header("X-API-KEY", key)
                .form(&[("order", order.to_string())])
                .send()
                .await
                .expect("send");
            r.status().as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for r in racers {
        statuses.push(r.await.expect("racer"));
    }
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 5, "exactly the five units there were: {statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 400).count(), 15, "the rest refused for stock: {statuses:?}");

    // Twelve invoices, created and paid half through each instance: each notified exactly once.
    let mut ids = Vec::new();
    for i in 0..12u32 {
        let base = &bases[i as usize % 2];
        let client = client_from(run + 100 + i);
        let body =
            crate::billing_support::invoice_body(&format!("two-{i}"), &[crate::billing_support::line("A", "10", 1)]);
        let r = client
            .post(format!("{base}/v3/billing/api/order/order"))
            .header("Accept", "application/json")
            .header("User-Agent", "two-instances")
            .header("Authorization", format!("Bearer {key}"))
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let data = r.json::<Value>().await.unwrap()["data"].clone();
        let container = data["paymentUrl"].as_str().unwrap().rsplit("/pay/").next().unwrap().to_string();
        let other = &bases[(i as usize + 1) % 2];
        let no_redirect = crate::common::http()
            .local_address(std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 2, 0, (i + 1) as u8)))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let r = no_redirect.post(format!("{other}/pay/{container}")).form(&[("pay", "1")]).send().await.unwrap();
        assert_eq!(r.status(), 303, "paid through the other instance");
        ids.push(data["id"].as_str().unwrap().to_string());
    }
    receiver.wait_for(|s| s.len() >= 12).await;
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let seen = receiver.seen();
    assert_eq!(seen.len(), 12, "one notification per payment, whichever worker took it: {seen:?}");
    for id in &ids {
        let n = seen.iter().filter(|r| r.body.contains(id.as_str()) && r.body.contains("completed")).count();
        assert_eq!(n, 1, "{id}");
    }

    // One client's burst of 12, six to each instance: one allowance of 10 per second between them.
    let client = client_from(run + 200);
    let started = std::time::Instant::now();
    let calls = (0..12).map(|i| {
        let (client, base, key) = (client.clone(), bases[i % 2].clone(), key.clone());
        async move {
            client.get(format!("{base}/api/v5/orders")).header("X-API-KEY", key).send().await.unwrap().status().as_u16()
        }
    });
    let statuses = futures::future::join_all(calls).await;
    let secs = started.elapsed().as_secs_f64();
    let ok = statuses.iter().filter(|s| **s == 200).count();
    assert!(ok >= 10 && ok <= 10 + (secs * 10.0).ceil() as usize, "{ok} of 12 passed in {secs}s: {statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200 || *s == 503), "{statuses:?}");
    if secs < 0.1 {
        assert_eq!(ok, 10, "two instances share one allowance");
    }

    one.stop().await;
    two.stop().await;
    drop(store);
    drop(pg);
}
