//! Orders through the CRM face: creation, numbering, customers, lines, edits, uploads, lists.

use crate::common::{TestApp, both};
use serde_json::{Value, json};

async fn create(app: &TestApp, order: Value) -> Value {
    let (s, b) = app.post("/api/v5/orders/create", &[("order", &order.to_string()), ("site", "default")]).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["id"], b["order"]["id"]);
    b["order"].clone()
}

async fn list(app: &TestApp, query: &str) -> Vec<String> {
    let (s, b) = app.get(&format!("/api/v5/orders?limit=100&{query}")).await;
    assert_eq!(s, 200, "{query}: {b}");
    let mut ext: Vec<String> =
        b["orders"].as_array().unwrap().iter().map(|o| o["externalId"].as_str().unwrap_or("").to_string()).collect();
    ext.sort();
    ext
}

/// An order with lines (one naming the offer `sku-1`), contact fields, a delivery and custom fields;
/// `crm_meta` checks the document describes each of its members.
pub(crate) fn first_order() -> Value {
    json!({
        "externalId": "o-1", "firstName": "Ann", "lastName": "Lee", "email": "Ann@Example.com", "phone": "+7 900 111-22-33",
        "items": [{"offer": {"externalId": "sku-1"}, "quantity": 2}, {"productName": "Gift wrap", "initialPrice": 5, "quantity": 1, "discountManualPercent": 10}],
        "delivery": {"code": "courier", "cost": 300, "address": {"city": "Казань", "street": "Баумана"}},
        "customFields": {"nps": 7}, "managerComment": "first order"
    })
}

both!(create_with_lines_customer_and_number, |app: TestApp| async move {
    let offer = app.add_offer("sku-1", "10.50").await;
    let o = create(&app, first_order()).await;
    assert_eq!(o["number"], format!("{}A", o["id"]));
    assert_eq!(o["status"], "new");
    assert_eq!(o["orderType"], "eshop-individual");
    assert_eq!(o["orderMethod"], "shopping-cart");
    assert_eq!(o["items"][0]["offer"]["id"], offer);
    assert_eq!(o["items"][0]["initialPrice"], json!(10.5));
    assert_eq!(o["items"][0]["productName"], "Offer sku-1");
    assert_eq!(o["summ"], json!(25.5));
    assert_eq!(o["totalSumm"], json!(325.5));
    assert_eq!(o["delivery"]["address"]["city"], "Казань");
    assert_eq!(o["customFields"]["nps"], 7);
    assert!(o["createdAt"].as_str().unwrap().len() == 19);
    assert_eq!(o["payments"], json!({}));
    let customer_id = o["customer"]["id"].as_i64().expect("a customer was created from the contact fields");
    assert_eq!(o["customer"]["email"], "Ann@Example.com");

    // A second order with the same e-mail attaches to the same customer.
    let o2 = create(&app, json!({"externalId": "o-2", "email": "ann@example.com", "number": "MY-1"})).await;
    assert_eq!(o2["customer"]["id"], customer_id);
    assert_eq!(o2["number"], "MY-1");
    assert_eq!(o2["firstName"], "Ann", "contact fields come from the customer");
    let (_, c) = app.get(&format!("/api/v5/customers/{customer_id}?by=id")).await;
    assert_eq!(c["customer"]["ordersCount"], 2);

    // Duplicates are refused and change nothing.
    let (s, b) = app.post("/api/v5/orders/create", &[("order", r#"{"externalId":"o-1"}"#), ("site", "default")]).await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(b["errors"]["externalId"], "Order with this externalId already exists.");
    let (s, b) = app.post("/api/v5/orders/create", &[("order", r#"{"number":"MY-1"}"#), ("site", "default")]).await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(list(&app, "").await, vec!["o-1", "o-2"]);

    // An explicit customer reference.
    let (s, _) = app
        .post(
            "/api/v5/customers/create",
            &[("customer", r#"{"externalId":"c-9","firstName":"Bob"}"#), ("site", "default")],
        )
        .await;
    assert_eq!(s, 201);
    let o3 = create(&app, json!({"externalId": "o-3", "customer": {"externalId": "c-9"}})).await;
    assert_eq!(o3["customer"]["externalId"], "c-9");
    assert_eq!(o3["firstName"], "Bob");

    // A customer of another site is refused by id, and is not found by its external id on this one.
    app.add_site("other").await;
    let (s, b) = app
        .post(
            "/api/v5/customers/create",
            &[("customer", r#"{"externalId":"c-10","firstName":"Eve"}"#), ("site", "other")],
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let other = b["id"].as_i64().unwrap();
    let (s, b) = app
        .post(
            "/api/v5/orders/create",
            &[("order", &json!({"customer": {"id": other}}).to_string()), ("site", "default")],
        )
        .await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(b["errors"]["customer"], format!("Customer with id {other} belongs to another site."), "{b}");
    let (s, b) = app
        .post("/api/v5/orders/create", &[("order", r#"{"customer": {"externalId": "c-10"}}"#), ("site", "default")])
        .await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(b["errors"]["customer.externalId"], "Customer with externalId=c-10 not found.", "{b}");
    assert_eq!(list(&app, "").await, vec!["o-1", "o-2", "o-3"]);
});

both!(get_and_edit, |app: TestApp| async move {
    let o = create(&app, json!({"externalId": "e-1", "firstName": "Tom", "items": [{"productName": "A", "initialPrice": 100, "quantity": 1}, {"productName": "B", "initialPrice": 50, "quantity": 1}]})).await;
    let id = o["id"].as_i64().unwrap();
    let (s, b) = app.get("/api/v5/orders/e-1?site=default").await;
    assert_eq!((s.as_u16(), &b["order"]["id"]), (200, &json!(id)));
    let (s, b) = app.get(&format!("/api/v5/orders/{id}?by=id")).await;
    assert_eq!((s.as_u16(), &b["order"]["externalId"]), (200, &json!("e-1")));
    let (s, b) = app.get("/api/v5/orders/nope?site=default").await;
    assert_eq!((s.as_u16(), b), (404, json!({"success": false, "errorMsg": "Not found"})));

    // Partial edit by externalId: only the given fields change.
    let (s, b) = app
        .post(
            "/api/v5/orders/e-1/edit",
            &[("order", r#"{"status":"complete","managerComment":"paid"}"#), ("site", "default")],
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["order"]["status"], "complete");
    assert_eq!(b["order"]["firstName"], "Tom");
    assert_eq!(b["order"]["items"].as_array().unwrap().len(), 2);

    // A given item list replaces the lines: kept by id, others dropped, new ones added.
    let keep = b["order"]["items"][0]["id"].as_i64().unwrap();
    let items = json!({"id": id, "items": [{"id": keep, "quantity": 3}, {"productName": "C", "initialPrice": 1, "quantity": 1}]});
    let (s, b) = app
        .post(&format!("/api/v5/orders/{id}/edit"), &[("order", &items.to_string()), ("by", "id"), ("site", "default")])
        .await;
    assert_eq!(s, 200, "{b}");
    let lines = b["order"]["items"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["id"], keep);
    assert_eq!(lines[0]["quantity"], 3);
    assert_eq!(lines[0]["productName"], "A");
    assert_eq!(lines[1]["productName"], "C");
    assert_eq!(b["order"]["summ"], json!(301));

    // Bad edits change nothing.
    let (s, b) = app
        .post("/api/v5/orders/e-1/edit", &[("order", r#"{"status":"bogus","firstName":"X"}"#), ("site", "default")])
        .await;
    assert_eq!(s, 400);
    assert_eq!(b["errors"]["status"], "Status 'bogus' does not exist.");
    let (s, b) = app
        .post(
            "/api/v5/orders/e-1/edit",
            &[("order", r#"{"items":[{"id": 999999, "quantity": 1}]}"#), ("site", "default")],
        )
        .await;
    assert_eq!(s, 400);
    assert!(b["errors"]["items[0].id"].is_string());
    let (_, b) = app.get("/api/v5/orders/e-1?site=default").await;
    assert_eq!(b["order"]["firstName"], "Tom");
    assert_eq!(b["order"]["items"].as_array().unwrap().len(), 2);
    let (s, _) =
        app.post("/api/v5/orders/missing/edit", &[("order", r#"{"status":"new"}"#), ("site", "default")]).await;
    assert_eq!(s, 404);
});

both!(list_filters, |app: TestApp| async move {
    app.add_site("other").await;
    create(&app, json!({"externalId": "a", "email": "a@x.ru", "lastName": "Иванов", "status": "new", "createdAt": "2024-01-10 10:00:00",
        "items": [{"productName": "Фильтр масляный", "initialPrice": 500, "quantity": 1}], "delivery": {"code": "courier", "cost": 0},
        "customFields": {"nps": 9, "channel": "web"}})).await;
    create(&app, json!({"externalId": "b", "email": "b@x.ru", "lastName": "Петров", "status": "assembling", "createdAt": "2024-02-10 10:00:00",
        "items": [{"productName": "Свеча", "initialPrice": 100, "quantity": 2}], "delivery": {"code": "self-delivery"},
        "customFields": {"nps": 3, "channel": "phone"}, "payments": [{"type": "cash", "status": "paid", "amount": 200}]})).await;
    create(&app, json!({"externalId": "c", "email": "c@x.ru", "lastName": "Сидоров", "status": "cancel-other", "createdAt": "2024-03-10 10:00:00",
        "items": [{"productName": "Ремень", "initialPrice": 3000, "quantity": 1}], "delivery": {"code": "courier", "data": {"trackNumber": "RA1,RB2"}}})).await;
    let d = json!({"externalId": "d", "email": "d@x.ru", "status": "new", "createdAt": "2024-01-15 10:00:00"});
    let (s, b) = app.post("/api/v5/orders/create", &[("order", &d.to_string()), ("site", "other")]).await;
    assert_eq!(s, 201, "{b}");
    let first = app.get("/api/v5/orders?limit=100").await.1["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_i64().unwrap())
        .min()
        .unwrap();

    assert_eq!(list(&app, "").await, vec!["a", "b", "c", "d"]);
    assert_eq!(list(&app, &format!("filter[ids][]={first}")).await, vec!["a"]);
    assert_eq!(list(&app, "filter[externalIds][]=b&filter[externalIds][]=c").await, vec!["b", "c"]);
    assert_eq!(list(&app, "filter%5BexternalIds%5D%5B0%5D=b&filter%5BexternalIds%5D%5B1%5D=c").await, vec!["b", "c"]);
    assert_eq!(list(&app, "filter[customer]=петров").await, vec!["b"]);
    assert_eq!(list(&app, "filter[email]=c@x.ru").await, vec!["c"]);
    assert_eq!(list(&app, "filter[createdAtFrom]=2024-02-01&filter[createdAtTo]=2024-03-10").await, vec!["b", "c"]);
    assert_eq!(list(&app, "filter[createdAtTo]=2024-01-15 09:00:00").await, vec!["a"]);
    assert_eq!(list(&app, "filter[extendedStatus][]=new").await, vec!["a", "d"]);
    assert_eq!(list(&app, "filter[extendedStatus][]=cancel&filter[extendedStatus][]=assembling").await, vec!["b", "c"]);
    assert_eq!(list(&app, "filter[sites][]=other").await, vec!["d"]);
    assert_eq!(list(&app, "filter[deliveryTypes][]=courier").await, vec!["a", "c"]);
    assert_eq!(list(&app, "filter[paymentStatuses][]=paid").await, vec!["b"]);
    assert_eq!(list(&app, "filter[minPrice]=200&filter[maxPrice]=500").await, vec!["a", "b"]);
    assert_eq!(list(&app, "filter[customFields][nps][min]=5").await, vec!["a"]);
    assert_eq!(list(&app, "filter[customFields][nps][max]=5").await, vec!["b"]);
    assert_eq!(list(&app, "filter[customFields][channel]=phone").await, vec!["b"]);
    assert_eq!(list(&app, "filter[product]=свеч").await, vec!["b"]);
    assert_eq!(list(&app, "filter[trackNumber]=RB2").await, vec!["c"]);
    assert_eq!(list(&app, "filter=None&limit=100&page=1").await, vec!["a", "b", "c", "d"]);

    // Pagination counts the filtered set; newest first.
    let (_, b) = app.get("/api/v5/orders?filter[extendedStatus][]=new&limit=20&page=1").await;
    assert_eq!(b["pagination"], json!({"limit": 20, "totalCount": 2, "currentPage": 1, "totalPageCount": 1}));
    assert_eq!(b["orders"][0]["externalId"], "d");
    let (_, b) = app.get("/api/v5/orders?limit=20&page=2").await;
    assert_eq!(b["orders"], json!([]));
    assert_eq!(b["pagination"]["totalCount"], 4);

    let (_, b) = app.get("/api/v5/orders/statuses?ids[]=0&externalIds[]=b&externalIds[]=c").await;
    assert_eq!(b["orders"].as_array().unwrap().len(), 2);
    assert_eq!(b["orders"][0]["status"], "assembling");
    assert_eq!(b["orders"][0]["group"], "assembling");
    assert_eq!(b["orders"][1]["group"], "cancel");
});

both!(upload_and_fix_external_ids, |app: TestApp| async move {
    let good = json!([{"externalId": "u-1", "firstName": "A"}, {"externalId": "u-2", "firstName": "B"}]);
    let (s, b) = app.post("/api/v5/orders/upload", &[("orders", &good.to_string()), ("site", "default")]).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["uploadedOrders"].as_array().unwrap().len(), 2);

    let mixed = json!([{"externalId": "u-3"}, {"externalId": "u-4", "status": "bogus"}, {"externalId": "u-1"}]);
    let (s, b) = app.post("/api/v5/orders/upload", &[("orders", &mixed.to_string()), ("site", "default")]).await;
    assert_eq!(s, 460, "{b}");
    assert_eq!(b["success"], false);
    assert_eq!(b["errorMsg"], "Orders are loaded with errors");
    assert_eq!(b["uploadedOrders"][0]["externalId"], "u-3");
    assert_eq!(b["failedOrders"], json!([{"externalId": "u-4"}, {"externalId": "u-1"}]));
    assert!(!b["errors"].as_array().unwrap().is_empty());
    assert_eq!(list(&app, "").await, vec!["u-1", "u-2", "u-3"]);

    let too_many: Vec<Value> = (0..51).map(|i| json!({"externalId": format!("m-{i}")})).collect();
    let (s, _) = app
        .post("/api/v5/orders/upload", &[("orders", &Value::Array(too_many).to_string()), ("site", "default")])
        .await;
    assert_eq!(s, 400);
    assert_eq!(list(&app, "").await.len(), 3);

    let id = b["uploadedOrders"][0]["id"].as_i64().unwrap();
    let fix = json!([{"id": id, "externalId": "fixed-3"}]);
    let (s, b) = app.post("/api/v5/orders/fix-external-ids", &[("orders", &fix.to_string())]).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(list(&app, "").await, vec!["fixed-3", "u-1", "u-2"]);
    let bad = json!([{"id": 999999, "externalId": "x"}]);
    let (s, _) = app.post("/api/v5/orders/fix-external-ids", &[("orders", &bad.to_string())]).await;
    assert_eq!(s, 400);
});
