//! Combining orders and customers, linking orders, and a customer's subscriptions: what moves, what is
//! deleted, the history it leaves, stock released and reserved again, and lookups of what was combined.

use crate::common::{TestApp, both};
use serde_json::{Value, json};

async fn stocked(app: &TestApp, ext: &str, available: i64) {
    let products = json!([{"externalId": format!("p-{ext}"), "name": ext, "offers": [{"externalId": ext, "name": ext, "price": 100}]}]);
    let (s, b) = app.post("/api/v5/store/products/batch/create", &[("products", &products.to_string())]).await;
    assert_eq!(s, 200, "{b}");
    let stock = json!([{"externalId": ext, "stores": [{"code": "main", "available": available}]}]);
    let (s, b) = app.post("/api/v5/store/inventories/upload", &[("offers", &stock.to_string())]).await;
    assert_eq!(s, 200, "{b}");
}

async fn free(app: &TestApp, ext: &str) -> i64 {
    let (_, b) = app.get(&format!("/api/v5/store/inventories?filter[offerExternalId]={ext}")).await;
    b["offers"][0]["quantity"].as_i64().unwrap()
}

async fn order(app: &TestApp, doc: Value) -> Value {
    let (s, b) = app.post("/api/v5/orders/create", &[("order", &doc.to_string())]).await;
    assert_eq!(s, 201, "{b}");
    b["order"].clone()
}

async fn combine(app: &TestApp, technique: Option<&str>, source: i64, result: i64) -> (u16, Value) {
    let (o, r) = (json!({"id": source}).to_string(), json!({"id": result}).to_string());
    let mut form = vec![("order", o.as_str()), ("resultOrder", r.as_str())];
    if let Some(t) = technique {
        form.push(("technique", t));
    }
    let (s, b) = app.post("/api/v5/orders/combine", &form).await;
    (s.as_u16(), b)
}

fn lines(order: &Value) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = order["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["offer"]["externalId"].as_str().unwrap_or("").to_string(), i["quantity"].as_i64().unwrap()))
        .collect();
    out.sort();
    out
}

both!(orders_combine_by_each_technique, |app: TestApp| async move {
    stocked(&app, "a", 10).await;
    stocked(&app, "b", 10).await;
    for (technique, expected) in [
        ("ours", vec![("a".to_string(), 1)]),
        ("theirs", vec![("a".to_string(), 2), ("b".to_string(), 3)]),
        ("merge", vec![("a".to_string(), 1), ("b".to_string(), 3)]),
        ("summ", vec![("a".to_string(), 3), ("b".to_string(), 3)]),
    ] {
        let keep = order(
            &app,
            json!({"externalId": format!("keep-{technique}"), "firstName": "K",
            "shipmentStore": "main", "items": [{"offer": {"externalId": "a"}, "quantity": 1}]}),
        )
        .await;
        let gone = order(&app, json!({"externalId": format!("gone-{technique}"), "firstName": "G",
            "shipmentStore": "main", "items": [{"offer": {"externalId": "a"}, "quantity": 2}, {"offer": {"externalId": "b"}, "quantity": 3}],
            "payments": [{"type": "cash", "amount": 50}]})).await;
        let (s, b) = combine(&app, Some(technique), gone["id"].as_i64().unwrap(), keep["id"].as_i64().unwrap()).await;
        assert_eq!((s, b), (200, json!({"success": true})), "{technique}");
        let (s, b) = app.get(&format!("/api/v5/orders/keep-{technique}")).await;
        assert_eq!(s, 200);
        assert_eq!(lines(&b["order"]), expected, "{technique}");
        assert_eq!(b["order"]["payments"].as_object().unwrap().len(), 1, "the payment moved: {technique}");
        let (s, b) = app.get(&format!("/api/v5/orders/gone-{technique}")).await;
        assert_eq!(s, 404, "{technique}");
        assert_eq!(b["combinedTo"]["id"], keep["id"], "a lookup names the survivor: {b}");
        let (s, b) = app.get(&format!("/api/v5/orders/{}?by=id", gone["id"])).await;
        assert_eq!((s.as_u16(), &b["combinedTo"]["externalId"]), (404, &json!(format!("keep-{technique}"))));
    }
    // Every line above reserved stock at main: what remains free is what the survivors hold.
    assert_eq!(free(&app, "a").await, 10 - (1 + 2 + 1 + 3));
    assert_eq!(free(&app, "b").await, 10 - (3 + 3 + 3));

    let (_, b) = app.get("/api/v5/orders/history?limit=100").await;
    let deleted: Vec<&Value> = b["history"].as_array().unwrap().iter().filter(|r| r["deleted"] == true).collect();
    assert_eq!(deleted.len(), 4, "one deleted record per combined order");
    assert!(deleted[0]["combinedTo"]["id"].is_i64(), "{}", deleted[0]);
    assert_eq!(deleted[0]["order"]["externalId"], "gone-ours");
});

both!(orders_combine_refusals, |app: TestApp| async move {
    let a = order(&app, json!({"externalId": "x-1", "firstName": "A"})).await["id"].as_i64().unwrap();
    let b = order(&app, json!({"externalId": "x-2", "firstName": "B"})).await["id"].as_i64().unwrap();
    let (s, body) = combine(&app, Some("sum"), a, b).await;
    assert_eq!(s, 400, "{body}");
    assert!(body["errors"]["technique"].is_string(), "{body}");
    let (s, body) = combine(&app, None, a, a).await;
    assert_eq!(s, 400, "{body}");
    assert!(body["errors"]["resultOrder.id"].is_string());
    let (s, body) = combine(&app, None, a, 999999).await;
    assert_eq!(s, 400, "{body}");
    assert!(body["errors"]["resultOrder.id"].is_string());
    stocked(&app, "pk", 5).await;
    let packed = order(
        &app,
        json!({"externalId": "x-3", "firstName": "P", "shipmentStore": "main",
        "items": [{"offer": {"externalId": "pk"}, "quantity": 2}]}),
    )
    .await;
    let pack = json!({"itemId": packed["items"][0]["id"], "quantity": 1, "store": "main"}).to_string();
    assert_eq!(app.post("/api/v5/orders/packs/create", &[("pack", &pack)]).await.0, 201);
    let (s, body) = combine(&app, None, packed["id"].as_i64().unwrap(), b).await;
    assert_eq!(s, 400, "{body}");
    assert!(body["errors"]["order.id"].as_str().unwrap().contains("packs"), "{body}");
    let (s, body) = app.post("/api/v5/orders/combine", &[("order", r#"{"id":1}"#)]).await;
    assert_eq!((s.as_u16(), &body["errorMsg"]), (400, &json!("Parameter 'resultOrder' is missing")));
    app.add_site("elsewhere").await;
    let limited = app.key_with(&["order_read", "order_write"], &["elsewhere"]).await;
    let (o, r) = (json!({"id": a}).to_string(), json!({"id": b}).to_string());
    let (s, _) = app.post_as(&limited, "/api/v5/orders/combine", &[("order", &o), ("resultOrder", &r)]).await;
    assert_eq!(s, 400, "orders of other sites are not there for this key");
    assert_eq!(app.get("/api/v5/orders/x-1?site=default").await.0, 200, "nothing was combined");
    let reader = app.key_with(&["order_read"], &[]).await;
    let (s, _) = app.post_as(&reader, "/api/v5/orders/combine", &[("order", &o), ("resultOrder", &r)]).await;
    assert_eq!(s, 403);
});

both!(customers_combine_moves_orders_and_notes, |app: TestApp| async move {
    let mut ids = Vec::new();
    for ext in ["c-keep", "c-dup1", "c-dup2"] {
        let (s, b) = app
            .post(
                "/api/v5/customers/create",
                &[("customer", &json!({"externalId": ext, "firstName": ext}).to_string())],
            )
            .await;
        assert_eq!(s, 201, "{b}");
        ids.push(b["id"].as_i64().unwrap());
    }
    order(&app, json!({"externalId": "co-1", "customer": {"externalId": "c-dup1"}})).await;
    order(&app, json!({"externalId": "co-2", "customer": {"externalId": "c-dup2"}})).await;
    let note = json!({"customer": {"externalId": "c-dup2"}, "text": "dup note"}).to_string();
    assert_eq!(app.post("/api/v5/customers/notes/create", &[("note", &note)]).await.0, 201);

    let customers = json!([{"id": ids[1]}, {"id": ids[2]}]).to_string();
    let result = json!({"id": ids[0]}).to_string();
    let (s, b) = app.post("/api/v5/customers/combine", &[("customers", &customers), ("resultCustomer", &result)]).await;
    assert_eq!((s.as_u16(), b), (200, json!({"success": true})));
    let (s, b) = app.get("/api/v5/customers/c-keep").await;
    assert_eq!(s, 200);
    assert_eq!(b["customer"]["ordersCount"], 2, "the orders moved: {b}");
    let (_, b) = app.get(&format!("/api/v5/orders?filter[customerId]={}", ids[0])).await;
    assert_eq!(b["pagination"]["totalCount"], 2, "{b}");
    let (_, b) = app.get(&format!("/api/v5/customers/notes?filter[customerIds][]={}", ids[0])).await;
    assert_eq!(b["notes"][0]["text"], "dup note");
    let (s, b) = app.get("/api/v5/customers/c-dup1").await;
    assert_eq!((s.as_u16(), &b["combinedTo"]["id"]), (404, &json!(ids[0])));
    let (_, b) = app.get("/api/v5/customers/history?limit=100").await;
    let deleted: Vec<&Value> = b["history"].as_array().unwrap().iter().filter(|r| r["deleted"] == true).collect();
    assert_eq!(deleted.len(), 2, "{b}");
    assert_eq!(deleted[0]["combinedTo"]["id"], ids[0]);
    let (_, b) = app.get("/api/v5/customers").await;
    assert_eq!(b["pagination"]["totalCount"], 1, "the counters follow");

    let (s, b) = app
        .post(
            "/api/v5/customers/combine",
            &[("customers", &json!([{"id": ids[0]}]).to_string()), ("resultCustomer", &result)],
        )
        .await;
    assert_eq!(s, 400, "{b}");
    let (s, b) = app
        .post(
            "/api/v5/customers/combine",
            &[("customers", &json!([{"id": 424242}]).to_string()), ("resultCustomer", &result)],
        )
        .await;
    assert_eq!(s, 400, "{b}");
    assert!(b["errors"]["customers[0].id"].is_string(), "{b}");
});

both!(orders_links_and_customer_subscriptions, |app: TestApp| async move {
    let a = order(&app, json!({"externalId": "l-1", "firstName": "A"})).await;
    let b = order(&app, json!({"externalId": "l-2", "firstName": "B"})).await;
    let link =
        json!({"comment": "same client", "orders": [{"externalId": "l-1"}, {"number": b["number"]}]}).to_string();
    let (s, body) = app.post("/api/v5/orders/links/create", &[("link", &link), ("site", "default")]).await;
    assert_eq!((s.as_u16(), body), (201, json!({"success": true})));
    let (_, got) = app.get("/api/v5/orders/l-1").await;
    let links = got["order"]["links"].as_array().unwrap();
    assert_eq!(links.len(), 1, "{got}");
    assert_eq!((links[0]["comment"].as_str(), &links[0]["order"]["id"]), (Some("same client"), &b["id"]));
    assert_eq!(links[0]["createdAt"].as_str().unwrap().len(), 19);
    let (_, got) = app.get("/api/v5/orders/l-2").await;
    assert_eq!(got["order"]["links"][0]["order"]["id"], a["id"]);
    let one = json!({"orders": [{"externalId": "l-1"}]}).to_string();
    let (s, body) = app.post("/api/v5/orders/links/create", &[("link", &one)]).await;
    assert_eq!(s, 400, "{body}");
    assert_eq!(body["errors"]["link.orders"], "This collection should contain 2 elements or more.");
    let ghost = json!({"orders": [{"externalId": "l-1"}, {"id": 999999}]}).to_string();
    assert_eq!(app.post("/api/v5/orders/links/create", &[("link", &ghost)]).await.0, 400);

    let (s, _) =
        app.post("/api/v5/reference/subscriptions/email/news/edit", &[("subscription", r#"{"name":"News"}"#)]).await;
    assert_eq!(s, 201);
    let (s, _) =
        app.post("/api/v5/customers/create", &[("customer", r#"{"externalId":"sub-1","firstName":"S"}"#)]).await;
    assert_eq!(s, 201);
    let subs = json!([{"channel": "email", "subscription": "news", "active": false}]).to_string();
    let (s, body) = app.post("/api/v5/customers/sub-1/subscriptions", &[("subscriptions", &subs)]).await;
    assert_eq!((s.as_u16(), body), (200, json!({"success": true})));
    let (_, c) = app.get("/api/v5/customers/sub-1").await;
    let sub = &c["customer"]["customerSubscriptions"][0];
    assert_eq!((sub["subscription"]["code"].as_str(), sub["subscribed"].as_bool()), (Some("news"), Some(false)), "{c}");
    assert_eq!(sub["changedAt"].as_str().unwrap().len(), 19);
    let bad = json!([{"channel": "sms", "subscription": "news"}]).to_string();
    let (s, body) = app.post("/api/v5/customers/sub-1/subscriptions", &[("subscriptions", &bad)]).await;
    assert_eq!(s, 400, "{body}");
    assert_eq!(app.post("/api/v5/customers/nobody/subscriptions", &[("subscriptions", &subs)]).await.0, 404);
    let edit = json!({"customerSubscriptions": []}).to_string();
    app.post("/api/v5/customers/sub-1/edit", &[("customer", &edit)]).await;
    let (_, c) = app.get("/api/v5/customers/sub-1").await;
    assert_eq!(c["customer"]["customerSubscriptions"].as_array().unwrap().len(), 1, "read-only through an edit");
});

both!(customers_combine_moves_loyalty_accounts_and_contact_roles, |app: TestApp| async move {
    let def = torg_domain::loyalty::LoyaltyDefinition::from_json(&json!({
        "site": "default", "name": "Club", "currency": "RUB", "expiryDays": 30, "maxChargePercent": 50,
        "levels": [{"name": "Basic", "sum": 0, "percent": 5}]
    }))
    .expect("a valid programme");
    app.store.define_loyalty(&def).await.expect("a programme");
    let mut ids = Vec::new();
    for ext in ["k-keep", "k-dup1", "k-dup2"] {
        let doc = json!({"externalId": ext, "firstName": ext}).to_string();
        let (s, b) = app.post("/api/v5/customers/create", &[("customer", &doc)]).await;
        assert_eq!(s, 201, "{b}");
        ids.push(b["id"].as_i64().unwrap());
    }
    // Accounts of the result and of the first duplicate (merged), and of the second (moved).
    let mut accounts = Vec::new();
    for (ext, bonus) in [("k-keep", "100"), ("k-dup1", "30"), ("k-dup2", "7")] {
        let doc = json!({"customer": {"externalId": ext}, "cardNumber": format!("card-{ext}")}).to_string();
        let (s, b) = app.post("/api/v5/loyalty/account/create", &[("site", "default"), ("loyaltyAccount", &doc)]).await;
        assert_eq!(s, 201, "{b}");
        let id = b["loyaltyAccount"]["id"].as_i64().unwrap();
        assert_eq!(app.post(&format!("/api/v5/loyalty/account/{id}/activate"), &[]).await.0, 200);
        let (s, b) = app.post(&format!("/api/v5/loyalty/account/{id}/bonus/credit"), &[("amount", bonus)]).await;
        assert_eq!(s, 200, "{b}");
        accounts.push(id);
    }
    // The first duplicate is the main contact person of a corporate customer, and its orders' contact.
    let doc = json!({"externalId": "k-corp", "nickName": "Corp"}).to_string();
    let (s, b) =
        app.post("/api/v5/customers-corporate/create", &[("customerCorporate", &doc), ("site", "default")]).await;
    assert_eq!(s, 201, "{b}");
    let contact = json!({"customer": {"id": ids[1]}, "isMain": true}).to_string();
    let (s, b) = app
        .post("/api/v5/customers-corporate/k-corp/contacts/create", &[("contact", &contact), ("site", "default")])
        .await;
    assert_eq!(s, 201, "{b}");
    order(
        &app,
        json!({"externalId": "k-o1", "customer": {"type": "customer_corporate", "externalId": "k-corp"},
               "contact": {"id": ids[1]}}),
    )
    .await;

    let customers = json!([{"id": ids[1]}, {"id": ids[2]}]).to_string();
    let result = json!({"id": ids[0]}).to_string();
    let (s, b) = app.post("/api/v5/customers/combine", &[("customers", &customers), ("resultCustomer", &result)]).await;
    assert_eq!((s.as_u16(), b), (200, json!({"success": true})));

    let (s, b) = app.get(&format!("/api/v5/loyalty/accounts?filter[customerId]={}", ids[0])).await;
    assert_eq!(s, 200, "{b}");
    let mut held: Vec<(i64, i64)> = b["loyaltyAccounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["id"].as_i64().unwrap(), a["amount"].as_i64().unwrap()))
        .collect();
    held.sort_unstable();
    // One programme, so one account: the result's, holding all three credits.
    assert_eq!(held, [(accounts[0], 137)], "{b}");
    assert_eq!(app.get(&format!("/api/v5/loyalty/account/{}", accounts[1])).await.0, 404);
    assert_eq!(app.total_count("/api/v5/loyalty/accounts").await, 1, "the counters follow");
    let (_, b) = app.get("/api/v5/customers-corporate/k-corp/contacts?site=default").await;
    let contacts: Vec<(i64, bool)> = b["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["customer"]["id"].as_i64().unwrap(), c["isMain"].as_bool().unwrap()))
        .collect();
    assert_eq!(contacts, [(ids[0], true)], "{b}");
    let (_, b) = app.get("/api/v5/orders/k-o1").await;
    assert_eq!(b["order"]["contact"]["id"].as_i64(), Some(ids[0]), "{b}");
});

both!(orders_combine_with_bonuses_spent_and_earned, |app: TestApp| async move {
    let def = torg_domain::loyalty::LoyaltyDefinition::from_json(&json!({
        "site": "default", "name": "Club", "currency": "RUB", "expiryDays": 30, "maxChargePercent": 50,
        "levels": [{"name": "Basic", "sum": 0, "percent": 10}]
    }))
    .expect("a valid programme");
    app.store.define_loyalty(&def).await.expect("a programme");
    let doc = json!({"externalId": "b-buyer", "firstName": "B"}).to_string();
    assert_eq!(app.post("/api/v5/customers/create", &[("customer", &doc)]).await.0, 201);
    let doc = json!({"customer": {"externalId": "b-buyer"}}).to_string();
    let (s, b) = app.post("/api/v5/loyalty/account/create", &[("site", "default"), ("loyaltyAccount", &doc)]).await;
    assert_eq!(s, 201, "{b}");
    let account = b["loyaltyAccount"]["id"].as_i64().unwrap();
    assert_eq!(app.post(&format!("/api/v5/loyalty/account/{account}/activate"), &[]).await.0, 200);
    let (s, b) = app.post(&format!("/api/v5/loyalty/account/{account}/bonus/credit"), &[("amount", "300")]).await;
    assert_eq!(s, 200, "{b}");
    let mut ids = Vec::new();
    for ext in ["b-src", "b-res"] {
        let o = order(
            &app,
            json!({"externalId": ext, "customer": {"externalId": "b-buyer"},
                   "items": [{"productName": "Filter", "initialPrice": 1000, "quantity": 1}]}),
        )
        .await;
        ids.push(o["id"].as_i64().unwrap());
    }
    // The source spends 200 bonuses and is paid in full, earning 10 % of what was paid.
    let o = json!({"externalId": "b-src"}).to_string();
    let (s, b) =
        app.post("/api/v5/orders/loyalty/apply", &[("site", "default"), ("order", &o), ("bonuses", "200")]).await;
    assert_eq!(s, 200, "{b}");
    let pay = json!({"order": {"externalId": "b-src"}, "type": "cash", "status": "paid", "amount": 800});
    let (s, b) =
        app.post("/api/v5/orders/payments/create", &[("payment", &pay.to_string()), ("site", "default")]).await;
    assert_eq!(s, 201, "{b}");
    let (_, b) = app.get(&format!("/api/v5/loyalty/account/{account}")).await;
    assert_eq!(b["loyaltyAccount"]["amount"], json!(180), "300 - 200 + 80: {b}");

    let (s, b) = combine(&app, None, ids[0], ids[1]).await;
    assert_eq!(s, 200, "{b}");
    let (_, b) = app.get("/api/v5/orders/b-res").await;
    let o = &b["order"];
    // The default technique keeps the result's lines (1000); the source's spent bonuses come along.
    assert_eq!((o["bonusesChargeTotal"].clone(), o["totalSumm"].clone()), (json!(200), json!(800)), "{o}");
    let (_, b) = app.get(&format!("/api/v5/loyalty/account/{account}")).await;
    assert_eq!(b["loyaltyAccount"]["amount"], json!(180), "no bonus is lost or made: {b}");
    let (_, b) = app.get("/api/v5/loyalty/bonus/operations?filter[loyalties][]=1").await;
    let named: Vec<Value> = b["bonusOperations"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|op| op["order"]["id"].as_i64().map(Value::from))
        .collect();
    assert!(!named.is_empty() && named.iter().all(|id| *id == json!(ids[1])), "the operations name the result: {b}");
});
