//! `Idempotency-Key` on creates: a retry gets the first answer and creates nothing, another request
//! under the same key is refused in the face's envelope, concurrent retries make one entity, and the
//! key holds across two instances on one database.

use crate::billing_support::{Instance, call_as, fast_webhooks, invoice_body, line, merchant};
use crate::common::{TestApp, both};
use serde_json::{Value, json};

async fn create(app: &TestApp, base: &str, api_key: &str, idem: &str, order: &Value) -> (u16, Value, bool) {
    let r = app
        .client
        .post(format!("{base}/api/v5/orders/create"))
        .header("X-API-KEY", api_key)
        .header("Idempotency-Key", idem)
        .form(&[("order", order.to_string())])
        .send()
        .await
        .expect("send");
    let replayed = r.headers().get("idempotent-replayed").is_some_and(|v| v == "true");
    let status = r.status().as_u16();
    (status, r.json().await.expect("json"), replayed)
}

async fn orders(app: &TestApp) -> u64 {
    let (_, b) = app.get("/api/v5/orders?limit=100").await;
    b["pagination"]["totalCount"].as_u64().unwrap()
}

both!(a_retried_create_gives_the_first_answer, |app: TestApp| async move {
    let order = json!({"externalId": "idem-1", "firstName": "Ivan"});
    let (s, first, replayed) = create(&app, &app.base, &app.key, "retry-1", &order).await;
    assert_eq!((s, replayed), (201, false), "{first}");
    let (s, again, replayed) = create(&app, &app.base, &app.key, "retry-1", &order).await;
    assert_eq!((s, replayed), (201, true), "{again}");
    assert_eq!(again, first, "the same answer, byte for byte");
    assert_eq!(orders(&app).await, 1);

    let other = json!({"externalId": "idem-2", "firstName": "Ivan"});
    let (s, b, _) = create(&app, &app.base, &app.key, "retry-1", &other).await;
    assert_eq!(
        (s, b),
        (422, json!({"success": false, "errorMsg": "This Idempotency-Key was used with a different request."}))
    );
    assert_eq!(orders(&app).await, 1, "nothing created under a reused key");

    // A refusal is an answer too: the retry gets it again, and nothing is created in between.
    let bad = json!({"externalId": "idem-3", "status": "no-such-status"});
    let (s, refused, _) = create(&app, &app.base, &app.key, "retry-bad", &bad).await;
    assert_eq!(s, 400, "{refused}");
    let (s, again, replayed) = create(&app, &app.base, &app.key, "retry-bad", &bad).await;
    assert_eq!((s, replayed, again), (400, true, refused));

    // Keys belong to their caller: another API key's same Idempotency-Key is its own.
    let other_key = app.key_with(&["order_read", "order_write"], &[]).await;
    let mine = json!({"externalId": "idem-4", "firstName": "Olga"});
    let (s, _, replayed) = create(&app, &app.base, &other_key, "retry-1", &mine).await;
    assert_eq!((s, replayed), (201, false));
    assert_eq!(orders(&app).await, 2);

    let (s, b, _) = create(&app, &app.base, &app.key, "bad key with spaces", &mine).await;
    assert_eq!(s, 400, "{b}");
    assert!(b["errorMsg"].as_str().unwrap().contains("Idempotency-Key"), "{b}");
});

both!(concurrent_retries_make_one_order, |app: TestApp| async move {
    let order = json!({"externalId": "idem-c", "firstName": "Race"});
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (client, base, key, order) = (app.client.clone(), app.base.clone(), app.key.clone(), order.clone());
        tasks.push(tokio::spawn(async move {
            let r = client
                .post(format!("{base}/api/v5/orders/create"))
                .header("X-API-KEY", key)
                .header("Idempotency-Key", "race")
                .form(&[("order", order.to_string())])
                .send()
                .await
                .expect("send");
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.expect("json"))
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        let (s, b) = t.await.expect("task");
        assert_eq!(s, 201, "every retry gets the created answer: {b}");
        ids.push(b["id"].as_i64().unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "one order: {ids:?}");
    assert_eq!(orders(&app).await, 1);
});

both!(keys_hold_across_instances_and_faces, |app: TestApp| async move {
    let second = Instance::start(&app.database_url, fast_webhooks(0)).await;
    let order = json!({"externalId": "idem-x", "firstName": "Two"});
    let (s, first, _) = create(&app, &app.base, &app.key, "across", &order).await;
    assert_eq!(s, 201, "{first}");
    let (s, again, replayed) = create(&app, &second.base, &app.key, "across", &order).await;
    assert_eq!((s, replayed, &again), (201, true, &first), "the other instance knows the key");
    assert_eq!(orders(&app).await, 1);

    // The billing face: an invoice created twice under one key is one invoice.
    merchant(&app, None).await;
    let body = invoice_body("idem-inv", &[line("A", "10", 1)]);
    let send = |base: String| {
        let (client, key, body) = (app.client.clone(), app.key.clone(), body.clone());
        async move {
            let r = client
                .post(format!("{base}/v3/billing/api/order/order"))
                .header("Authorization", format!("Bearer {key}"))
                .header("Accept", "application/json")
                .header("Content-Type", "application/json")
                .header("Idempotency-Key", "inv-1")
                .body(body.to_string())
                .send()
                .await
                .expect("send");
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.expect("json"))
        }
    };
    let (s, a) = send(app.base.clone()).await;
    assert_eq!(s, 200, "{a}");
    let (s, b) = send(second.base.clone()).await;
    assert_eq!((s, &b["data"]["id"]), (200, &a["data"]["id"]));
    let other = invoice_body("idem-inv-2", &[line("A", "10", 1)]);
    let r = app
        .client
        .post(format!("{}/v3/billing/api/order/order", app.base))
        .header("Authorization", format!("Bearer {}", app.key))
        .header("Accept", "application/json")
        .header("Content-Type", "application/json")
        .header("Idempotency-Key", "inv-1")
        .body(other.to_string())
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 422);
    let b: Value = r.json().await.expect("json");
    assert!(b["error"]["message"].as_str().unwrap().contains("Idempotency-Key"), "the billing envelope: {b}");
    let (_, list) =
        call_as(&app, &app.key.clone(), "GET", "/v3/filter/api/order/order?merchantOrderId=idem-inv", None).await;
    assert_eq!(list["data"].as_array().map(Vec::len), Some(1), "{list}");
    second.stop().await;
});
