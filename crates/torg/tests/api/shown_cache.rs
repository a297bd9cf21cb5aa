//! Orders the CRM face keeps as it showed them (`shown_cache_bytes`): an answer from a kept order
//! is byte for byte the answer a server keeping nothing gives, and every change to what an order
//! shows, made through another instance on the same database, is in the next answer.

use crate::billing_support::{Instance, fast_webhooks};
use crate::common::{TestApp, both};
use serde_json::{Value, json};

/// The body of a GET, as text.
async fn text(app: &TestApp, base: &str, path: &str) -> String {
    let r = app.client.get(format!("{base}{path}")).header("X-API-KEY", &app.key).send().await.expect("send");
    assert_eq!(r.status(), 200, "{path}");
    r.text().await.expect("body")
}

/// A POST through `base` that must succeed.
async fn post_ok(app: &TestApp, base: &str, path: &str, form: &[(&str, &str)]) -> Value {
    let r = app.client.post(format!("{base}{path}")).header("X-API-KEY", &app.key).form(form).send().await;
    let r = r.expect("send");
    let status = r.status().as_u16();
    let body: Value = r.json().await.expect("json");
    assert!(status == 200 || status == 201, "{path}: {status} {body}");
    body
}

both!(a_kept_order_is_answered_as_a_fresh_read_would_answer_it, |app: TestApp| async move {
    let keeping_nothing = torg_http::HttpConfig {
        rate_per_second: 0,
        telephony_rate_per_second: 0,
        billing_per_key: 0,
        billing_per_ip: 0,
        shown_cache_bytes: 0,
        ..torg_http::HttpConfig::default()
    };
    let plain = Instance::start_with(&app.database_url, fast_webhooks(0), keeping_nothing).await;
    for (i, order) in [
        json!({"externalId": "k-1", "firstName": "Анна", "email": "anna@example.ru",
               "items": [{"productName": "Фильтр", "initialPrice": 500, "quantity": 2}],
               "payments": [{"type": "cash", "status": "paid", "amount": 300}]}),
        json!({"externalId": "k-2", "items": [{"productName": "Ремень", "initialPrice": 1200.5, "quantity": 1}]}),
        json!({"externalId": "k-3", "firstName": "Boris", "customFields": {"nps": 9}, "managerComment": "\"quoted\" \\ and ünïcode"}),
    ]
    .into_iter()
    .enumerate()
    {
        let body = post_ok(&app, &app.base, "/api/v5/orders/create", &[("order", &order.to_string())]).await;
        assert_eq!(body["order"]["externalId"], order["externalId"], "order {i}");
    }
    let (_, list) = app.get("/api/v5/orders").await;
    let ids: Vec<i64> = list["orders"].as_array().unwrap().iter().map(|o| o["id"].as_i64().unwrap()).collect();
    assert_eq!(ids.len(), 3);
    let mut paths: Vec<String> = ids.iter().map(|id| format!("/api/v5/orders/{id}?by=id")).collect();
    paths.extend(["/api/v5/orders".to_owned(), "/api/v5/orders?limit=20&page=1".to_owned()]);
    paths.push("/api/v5/orders/k-1".to_owned());
    for path in &paths {
        let fresh = text(&app, &plain.base, path).await;
        let first = text(&app, &app.base, path).await;
        let kept = text(&app, &app.base, path).await;
        assert_eq!(first, fresh, "{path}: read and kept");
        assert_eq!(kept, fresh, "{path}: answered from what was kept");
    }
    plain.stop().await;
});

/// The order by id and as the first of the list, which must agree.
async fn shown(app: &TestApp, by_id: &str) -> Value {
    let (_, one) = app.get(by_id).await;
    let (_, list) = app.get("/api/v5/orders").await;
    assert_eq!(list["orders"][0], one["order"], "a list shows the order as a read by id does");
    one["order"].clone()
}

both!(every_change_from_another_instance_is_in_the_next_answer, |app: TestApp| async move {
    let other = Instance::start(&app.database_url, fast_webhooks(0)).await;
    let order = json!({"externalId": "w-1", "firstName": "Ann", "email": "ann@example.com",
                       "items": [{"productName": "Filter", "initialPrice": 100, "quantity": 1}]});
    let created = post_ok(&app, &app.base, "/api/v5/orders/create", &[("order", &order.to_string())]).await;
    let id = created["id"].as_i64().unwrap();
    let customer = created["order"]["customer"]["id"].as_i64().unwrap();
    let by_id = format!("/api/v5/orders/{id}?by=id");
    // Read twice through this server, so that it is kept.
    shown(&app, &by_id).await;
    assert_eq!(shown(&app, &by_id).await["managerComment"], Value::Null);

    let edit = json!({"managerComment": "call first"});
    post_ok(&app, &other.base, "/api/v5/orders/w-1/edit", &[("order", &edit.to_string())]).await;
    assert_eq!(shown(&app, &by_id).await["managerComment"], "call first");

    let payment = json!({"order": {"id": id}, "type": "cash", "status": "paid", "amount": 40});
    let p = post_ok(&app, &other.base, "/api/v5/orders/payments/create", &[("payment", &payment.to_string())]).await;
    let pid = p["id"].as_i64().unwrap();
    let now = shown(&app, &by_id).await;
    assert_eq!((now["payments"][pid.to_string()]["amount"].clone(), now["prepaySum"].clone()), (json!(40), json!(40)));

    let path = format!("/api/v5/orders/payments/{pid}/edit");
    post_ok(&app, &other.base, &path, &[("payment", r#"{"amount": 60}"#), ("by", "id")]).await;
    assert_eq!(shown(&app, &by_id).await["prepaySum"], json!(60));

    // The books: a payment status no longer counting as paid changes what the order shows.
    let status = json!({"name": "Оплачен", "paymentComplete": false});
    let path = "/api/v5/reference/payment-statuses/paid/edit";
    post_ok(&app, &other.base, path, &[("paymentStatus", &status.to_string())]).await;
    assert_eq!(shown(&app, &by_id).await["prepaySum"], json!(0));

    let customer_edit = json!({"firstName": "Anna"});
    let path = format!("/api/v5/customers/{customer}/edit");
    post_ok(&app, &other.base, &path, &[("customer", &customer_edit.to_string()), ("by", "id")]).await;
    assert_eq!(shown(&app, &by_id).await["customer"]["firstName"], "Anna");

    // The lines an edit gives replace the order's.
    let lines = json!({"items": [{"productName": "Belt", "initialPrice": 7, "quantity": 3}]});
    post_ok(&app, &other.base, "/api/v5/orders/w-1/edit", &[("order", &lines.to_string())]).await;
    let now = shown(&app, &by_id).await;
    assert_eq!(now["items"].as_array().unwrap().len(), 1, "{now}");
    assert_eq!((now["items"][0]["productName"].clone(), now["totalSumm"].clone()), (json!("Belt"), json!(21)));

    let path = format!("/api/v5/orders/payments/{pid}/delete");
    post_ok(&app, &other.base, &path, &[]).await;
    assert_eq!(shown(&app, &by_id).await["payments"], json!({}));

    // A page and its count are kept too: an order another instance creates is in the next one,
    // filtered or not.
    let bob = "/api/v5/orders?filter%5Bcustomer%5D=Bob";
    for _ in 0..2 {
        assert_eq!(app.get("/api/v5/orders").await.1["pagination"]["totalCount"], 1);
        assert_eq!(app.get(bob).await.1["pagination"]["totalCount"], 0);
    }
    let second = json!({"externalId": "w-2", "firstName": "Bob", "items": [{"productName": "Belt", "quantity": 1}]});
    post_ok(&app, &other.base, "/api/v5/orders/create", &[("order", &second.to_string())]).await;
    let (_, all) = app.get("/api/v5/orders").await;
    assert_eq!(
        (all["pagination"]["totalCount"].clone(), all["orders"][0]["externalId"].clone()),
        (json!(2), json!("w-2"))
    );
    let (_, filtered) = app.get(bob).await;
    assert_eq!(
        (filtered["pagination"]["totalCount"].clone(), filtered["orders"][0]["externalId"].clone()),
        (json!(1), json!("w-2"))
    );
    other.stop().await;
});
