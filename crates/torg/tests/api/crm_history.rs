//! Order history as docs/crm.md describes it, and the history loop integrations run.

use crate::common::{TestApp, both};
use serde_json::{Value, json};
use std::collections::HashSet;

both!(records_fields_sources_and_keys, |app: TestApp| async move {
    let other = app.key_with(&["order_read", "order_write"], &[]).await;
    let order = json!({"externalId": "h-1", "firstName": "Ann", "items": [{"productName": "A", "initialPrice": 10, "quantity": 1}]});
    let (s, _) = app.post("/api/v5/orders/create", &[("order", &order.to_string()), ("site", "default")]).await;
    assert_eq!(s, 201);
    let edit = json!({"status": "complete", "managerComment": "paid", "delivery": {"address": {"city": "Тула"}}, "customFields": {"nps": 10}});
    let (s, _) =
        app.post_as(&other, "/api/v5/orders/h-1/edit", &[("order", &edit.to_string()), ("site", "default")]).await;
    assert_eq!(s, 200);

    let (s, b) = app.get("/api/v5/orders/history?limit=100").await;
    assert_eq!(s, 200);
    assert_eq!(b["generatedAt"].as_str().unwrap().len(), 19);
    let h = b["history"].as_array().unwrap();
    let created = &h[0];
    assert_eq!(created["created"], true);
    assert_eq!(created["source"], "api");
    assert_eq!(created["apiKey"], json!({"current": true}));
    assert_eq!(created["order"]["externalId"], "h-1");
    assert_eq!(created["order"]["items"][0]["productName"], "A", "the created record carries the full order");
    assert_eq!(created["order"]["status"], "new");
    assert_eq!(
        (&created["field"], &created["oldValue"], &created["newValue"]),
        (&json!("status"), &Value::Null, &json!({"code": "new"})),
        "the first record is the order's first status"
    );
    assert!(created["order"]["customer"]["firstName"].is_string(), "with the whole customer: {created}");
    let find = |field: &str| {
        h.iter()
            .find(|r| r["field"] == field && r["created"].is_null())
            .unwrap_or_else(|| panic!("no {field} record in {h:?}"))
            .clone()
    };
    let status = find("status");
    assert_eq!(status["oldValue"], json!({"code": "new"}));
    assert_eq!(status["newValue"], json!({"code": "complete"}));
    assert_eq!(status["apiKey"], json!({"current": false}), "another key made this change");
    assert_eq!(status["order"]["id"], created["order"]["id"]);
    assert_eq!(find("manager_comment")["newValue"], "paid");
    assert_eq!(find("delivery_address.city")["newValue"], "Тула");
    assert_eq!(find("custom_nps")["newValue"], 10);

    // The other key sees its own changes as current.
    let (_, b) = app.get_as(&other, "/api/v5/orders/history?limit=100").await;
    let own: Vec<&Value> = b["history"].as_array().unwrap().iter().filter(|r| r["apiKey"]["current"] == true).collect();
    assert_eq!(own.len(), 4);

    // sinceId is exclusive, ids ascend, pagination counts the filtered set.
    let ids: Vec<i64> = h.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    let (_, b) = app.get(&format!("/api/v5/orders/history?filter[sinceId]={}&limit=20", ids[0])).await;
    assert_eq!(b["history"][0]["id"], ids[1]);
    assert_eq!(b["pagination"]["totalCount"], ids.len() - 1);
    let (_, b) = app.get(&format!("/api/v5/orders/history?filter[sinceId]={}", ids[ids.len() - 1])).await;
    assert_eq!(b["history"], json!([]));
    assert_eq!(b["pagination"]["totalPageCount"], 0);

    // Filter by order.
    let (s, _) = app.post("/api/v5/orders/create", &[("order", r#"{"externalId":"h-2"}"#), ("site", "default")]).await;
    assert_eq!(s, 201);
    let (_, b) = app.get("/api/v5/orders/history?filter[orderExternalId]=h-2").await;
    assert_eq!(b["history"].as_array().unwrap().len(), 1);
});

/// The loop of RetailCRM's Bitrix and Magento modules: re-query with the last id seen until one page
/// is enough. Returns the ids it saw.
async fn bitrix_loop(app: &TestApp, since: &mut i64) -> Vec<i64> {
    let mut seen = Vec::new();
    for _ in 0..10_000 {
        let (s, b) = app.get(&format!("/api/v5/orders/history?filter[sinceId]={since}&limit=100")).await;
        assert_eq!(s, 200, "{b}");
        let records = b["history"].as_array().unwrap();
        if records.is_empty() {
            return seen;
        }
        for r in records {
            seen.push(r["id"].as_i64().unwrap());
        }
        *since = *seen.last().unwrap();
        if b["pagination"]["totalPageCount"] == 1 {
            return seen;
        }
    }
    panic!("the history loop did not end");
}

both!(history_loop_sees_every_change_once_under_concurrent_writes, |app: TestApp| async move {
    let app = std::sync::Arc::new(app);
    let mut writers = Vec::new();
    for w in 0..8 {
        let app = app.clone();
        writers.push(tokio::spawn(async move {
            for i in 0..15 {
                let ext = format!("w{w}-{i}");
                let order = json!({"externalId": ext, "firstName": "W"});
                let (s, b) =
                    app.post("/api/v5/orders/create", &[("order", &order.to_string()), ("site", "default")]).await;
                assert_eq!(s, 201, "{b}");
                let edit = json!({"managerComment": format!("edit {i}"), "status": "assembling"});
                let (s, b) = app
                    .post(&format!("/api/v5/orders/{ext}/edit"), &[("order", &edit.to_string()), ("site", "default")])
                    .await;
                assert_eq!(s, 200, "{b}");
            }
        }));
    }
    let mut since = 0;
    let mut seen = Vec::new();
    while writers.iter().any(|w| !w.is_finished()) {
        seen.extend(bitrix_loop(&app, &mut since).await);
    }
    for w in writers {
        w.await.unwrap();
    }
    seen.extend(bitrix_loop(&app, &mut since).await);

    let unique: HashSet<i64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "a record was seen twice");
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "records came out of order");
    let mut all = Vec::new();
    let mut page = 1;
    loop {
        let (_, b) = app.get(&format!("/api/v5/orders/history?limit=100&page={page}")).await;
        all.extend(b["history"].as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()));
        if page as u64 >= b["pagination"]["totalPageCount"].as_u64().unwrap() {
            break;
        }
        page += 1;
    }
    // 120 orders: one created record and two changed fields each.
    assert_eq!(all.len(), 120 * 3);
    assert_eq!(seen, all, "the loop must see every record exactly once");
});
