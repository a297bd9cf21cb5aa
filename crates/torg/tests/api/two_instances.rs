//! Two torg instances on one database: racing orders for the last units of stock, sent to both, never
//! take more than there is. (Webhooks delivered once by two workers: `webhooks.rs`; rate limits shared
//! through Redis: `rate_limits.rs`; idempotency keys across instances: `idempotency.rs`.)

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
