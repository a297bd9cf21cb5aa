//! Payments through the CRM face (docs/crm.md): create, edit, delete, each with a history record
//! and the order's paid sum and the buyer's balance following.

use crate::common::{TestApp, both};
use serde_json::{Value, json};

async fn order(app: &TestApp) -> (i64, i64) {
    let o = json!({"externalId": "pay-1", "firstName": "Олег", "email": "oleg@example.ru",
                   "items": [{"productName": "Фильтр", "initialPrice": 500, "quantity": 2}]});
    let (s, b) = app.post("/api/v5/orders/create", &[("order", &o.to_string()), ("site", "default")]).await;
    assert_eq!(s, 201, "{b}");
    (b["id"].as_i64().unwrap(), b["order"]["customer"]["id"].as_i64().unwrap())
}

async fn payments(app: &TestApp, id: i64) -> (Vec<Value>, Value) {
    let (_, b) = app.get(&format!("/api/v5/orders/{id}?by=id")).await;
    (b["order"]["payments"].as_object().unwrap().values().cloned().collect(), b["order"]["prepaySum"].clone())
}

both!(payments_create_edit_delete_with_history, |app: TestApp| async move {
    let (id, customer) = order(&app).await;
    let p = json!({"order": {"externalId": "pay-1"}, "type": "cash", "status": "paid", "amount": 400, "externalId": "p-ext"});
    let (s, b) = app.post("/api/v5/orders/payments/create", &[("payment", &p.to_string()), ("site", "default")]).await;
    assert_eq!(s, 201, "{b}");
    let pid = b["id"].as_i64().unwrap();
    let (list, prepay) = payments(&app, id).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["amount"], json!(400));
    assert_eq!(prepay, json!(400));
    assert_eq!(app.store.customer_balance(customer).await.unwrap(), "-600".parse().unwrap());
    // Edit by id, then by external id (no `by`: the segment is tried as an id first).
    let (s, b) = app
        .post(&format!("/api/v5/orders/payments/{pid}/edit"), &[("payment", r#"{"amount": 1000}"#), ("by", "id")])
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["id"], json!(pid));
    let (s, _) = app.post("/api/v5/orders/payments/p-ext/edit", &[("payment", r#"{"comment": "оплачено"}"#)]).await;
    assert_eq!(s, 200);
    let (list, prepay) = payments(&app, id).await;
    assert_eq!((list[0]["amount"].clone(), list[0]["comment"].clone()), (json!(1000), json!("оплачено")));
    assert_eq!(prepay, json!(1000));
    assert_eq!(app.store.customer_balance(customer).await.unwrap(), "0".parse().unwrap());
    // Bad input changes nothing.
    let (s, b) = app
        .post(&format!("/api/v5/orders/payments/{pid}/edit"), &[("payment", r#"{"status": "nope"}"#), ("by", "id")])
        .await;
    assert_eq!(s, 400, "{b}");
    assert!(b["errors"]["payments[0].status"].is_string(), "{b}");
    let (s, _) =
        app.post("/api/v5/orders/payments/999999/edit", &[("payment", r#"{"amount": 1}"#), ("by", "id")]).await;
    assert_eq!(s, 404);
    let p = json!({"order": {"id": 999_999}, "amount": 1});
    let (s, _) = app.post("/api/v5/orders/payments/create", &[("payment", &p.to_string())]).await;
    assert_eq!(s, 400);
    assert_eq!(payments(&app, id).await.0.len(), 1);
    // Delete.
    let (s, b) = app.post(&format!("/api/v5/orders/payments/{pid}/delete"), &[]).await;
    assert_eq!(s, 200, "{b}");
    let (list, prepay) = payments(&app, id).await;
    assert!(list.is_empty());
    assert_eq!(prepay, json!(0));
    // History: added, changed, removed, each naming the payment.
    let (_, h) = app.get(&format!("/api/v5/orders/history?filter[orderId]={id}")).await;
    let records: Vec<&Value> = h["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["field"].as_str().unwrap_or("").starts_with("payments"))
        .collect();
    let fields: Vec<&str> = records.iter().map(|r| r["field"].as_str().unwrap()).collect();
    assert_eq!(fields, vec!["payments", "payments.amount", "payments.comment", "payments"], "{h}");
    assert!(records.iter().all(|r| r["payment"]["id"] == json!(pid) && r["source"] == "api"));
    assert_eq!(records[0]["newValue"]["amount"], json!(400));
    assert_eq!(records[3]["newValue"], Value::Null);
    // A key without order_write may not.
    let reader = app.key_with(&["order_read"], &[]).await;
    let p = json!({"order": {"id": id}, "amount": 1});
    let (s, _) = app.post_as(&reader, "/api/v5/orders/payments/create", &[("payment", &p.to_string())]).await;
    assert_eq!(s, 403);
});
