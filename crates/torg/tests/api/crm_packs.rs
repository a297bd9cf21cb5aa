//! Packs (`orders/packs`) and product groups and properties (`store/product-groups`,
//! `store/products/properties[/values]`) through the CRM face, on both engines: the wire shapes of
//! RetailCRM's clients, the stock a pack takes, filters, history, errors and site access.

use crate::common::{Reply, TestApp, both};
use serde_json::{Value, json};

/// An offer `ext` (XML id `x-ext`) with `available` units at `main`.
async fn stocked_offer(app: &TestApp, ext: &str, available: i64) {
    let products = json!([{"externalId": format!("p-{ext}"), "name": format!("Товар {ext}"),
                           "offers": [{"externalId": ext, "xmlId": format!("x-{ext}"), "name": ext, "price": 100}]}]);
    let (s, b) = app.post("/api/v5/store/products/batch/create", &[("products", &products.to_string())]).await;
    assert_eq!(s, 200, "{b}");
    let stock = json!([{"externalId": ext, "stores": [{"code": "main", "available": available}]}]);
    let (s, b) = app.post("/api/v5/store/inventories/upload", &[("offers", &stock.to_string())]).await;
    assert_eq!(s, 200, "{b}");
}

/// Free stock of offer `ext` at `main`.
async fn free(app: &TestApp, ext: &str) -> Value {
    let (s, b) = app.get(&format!("/api/v5/store/inventories?filter[offerExternalId]={ext}")).await;
    assert_eq!(s, 200, "{b}");
    b["offers"][0]["quantity"].clone()
}

/// An order `ext` on the default site with one line of `qty` of offer `offer`; (order id, line id).
async fn order(app: &TestApp, ext: &str, offer: &str, qty: i64, reserve: bool) -> (i64, i64) {
    let mut o =
        json!({"externalId": ext, "firstName": "Анна", "items": [{"offer": {"externalId": offer}, "quantity": qty}]});
    if reserve {
        o["shipmentStore"] = json!("main");
    }
    let (s, b) = app.post("/api/v5/orders/create", &[("order", &o.to_string()), ("site", "default")]).await;
    assert_eq!(s, 201, "{b}");
    (b["id"].as_i64().unwrap(), b["order"]["items"][0]["id"].as_i64().unwrap())
}

async fn create_pack(app: &TestApp, pack: Value) -> Reply {
    app.post("/api/v5/orders/packs/create", &[("pack", &pack.to_string())]).await
}

async fn pack_id(app: &TestApp, pack: Value) -> i64 {
    let (s, b) = create_pack(app, pack).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["success"], true);
    b["id"].as_i64().unwrap()
}

/// Ids of the packs a list query finds.
async fn listed(app: &TestApp, query: &str) -> Vec<i64> {
    let (s, b) = app.get(&format!("/api/v5/orders/packs?{query}")).await;
    assert_eq!(s, 200, "{query}: {b}");
    b["packs"].as_array().unwrap().iter().map(|p| p["id"].as_i64().unwrap()).collect()
}

both!(packs_create_read_edit_delete_against_stock, |app: TestApp| async move {
    stocked_offer(&app, "pk-1", 10).await;
    // `orders/packs` is the pack list, not the order with external id "packs".
    let (s, b) = app.get("/api/v5/orders/packs").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        b,
        json!({"success": true, "pagination": {"limit": 20, "totalCount": 0, "currentPage": 1, "totalPageCount": 0}, "packs": []})
    );

    // A reserved line: packing consumes the reservation, so free stock stays 10 - 3.
    let (order_id, item) = order(&app, "pk-o1", "pk-1", 3, true).await;
    assert_eq!(free(&app, "pk-1").await, json!(7));
    let id = pack_id(
        &app,
        json!({"itemId": item, "store": "main", "quantity": 2, "purchasePrice": 100.5, "shipmentDate": "2021-03-03",
               "invoiceNumber": "1234567890", "deliveryNoteNumber": "DN-1"}),
    )
    .await;
    assert_eq!(free(&app, "pk-1").await, json!(7));
    let (s, b) = app.get(&format!("/api/v5/orders/packs/{id}")).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        b,
        json!({"success": true, "pack": {
            "id": id, "purchasePrice": 100.5, "quantity": 2, "store": "main", "itemId": item,
            "item": {"id": item, "order": {"id": order_id, "externalId": "pk-o1"},
                     "offer": {"id": b["pack"]["item"]["offer"]["id"], "externalId": "pk-1", "xmlId": "x-pk-1"}},
            "shipmentDate": "2021-03-03", "invoiceNumber": "1234567890", "deliveryNoteNumber": "DN-1"}})
    );

    // Edit: 200 with the id; the whole line packed, still no extra stock taken.
    let (s, b) = app
        .post(&format!("/api/v5/orders/packs/{id}/edit"), &[("pack", r#"{"quantity": 3, "invoiceNumber": null}"#)])
        .await;
    assert_eq!((s.as_u16(), &b), (200, &json!({"success": true, "id": id})));
    assert_eq!(free(&app, "pk-1").await, json!(7));
    let (_, b) = app.get(&format!("/api/v5/orders/packs/{id}")).await;
    assert_eq!((&b["pack"]["quantity"], b["pack"].get("invoiceNumber")), (&json!(3), None));

    // Beyond the line, beyond the stock, bad fields: 400 naming `pack.<field>`, nothing changed.
    let (s, b) = app.post(&format!("/api/v5/orders/packs/{id}/edit"), &[("pack", r#"{"quantity": 4}"#)]).await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(b["errorMsg"], "Errors in the entity format");
    assert!(b["errors"]["pack.quantity"].is_string(), "{b}");
    let (_, loose) = order(&app, "pk-o2", "pk-1", 20, false).await;
    let (s, b) = create_pack(&app, json!({"itemId": loose, "store": "main", "quantity": 8})).await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(b["errors"]["pack.quantity"], "Not enough stock at store 'main': 7 left, 8 more wanted.");
    let (s, b) =
        create_pack(&app, json!({"itemId": loose, "store": "nowhere", "quantity": 0, "shipmentDate": "3 March"})).await;
    assert_eq!(s, 400, "{b}");
    for field in ["pack.quantity", "pack.shipmentDate"] {
        assert!(b["errors"][field].is_string(), "{field}: {b}");
    }
    let (s, b) = create_pack(&app, json!({"itemId": loose, "store": "nowhere", "quantity": 1})).await;
    assert_eq!((s.as_u16(), &b["errors"]["pack.store"]), (400, &json!("Store 'nowhere' does not exist.")));
    let (s, b) = create_pack(&app, json!({"itemId": 999_999, "store": "main", "quantity": 1})).await;
    assert_eq!((s.as_u16(), &b["errors"]["pack.itemId"]), (400, &json!("Order item with id 999999 not found.")));
    let (s, b) = create_pack(&app, json!({"store": "main"})).await;
    assert_eq!(s, 400, "{b}");
    assert!(b["errors"]["pack.itemId"].is_string() && b["errors"]["pack.quantity"].is_string(), "{b}");
    let (s, b) = app.post("/api/v5/orders/packs/create", &[]).await;
    assert_eq!((s.as_u16(), &b["errorMsg"]), (400, &json!("Parameter 'pack' is missing")));
    let (s, b) = app.post("/api/v5/orders/packs/create", &[("pack", "{not json")]).await;
    assert_eq!((s.as_u16(), &b["errorMsg"]), (400, &json!("Errors in the entity format")));

    // An unreserved line takes free stock; deleting hands it back.
    let other = pack_id(&app, json!({"itemId": loose, "store": "main", "quantity": 5})).await;
    assert_eq!(free(&app, "pk-1").await, json!(2));
    let (s, b) = app.post(&format!("/api/v5/orders/packs/{other}/delete"), &[]).await;
    assert_eq!((s.as_u16(), &b), (200, &json!({"success": true})));
    assert_eq!(free(&app, "pk-1").await, json!(7));

    // Unknown packs, in RetailCRM's words.
    let (s, b) = app.post("/api/v5/orders/packs/999999/edit", &[("pack", r#"{"quantity": 1}"#)]).await;
    assert_eq!((s.as_u16(), &b), (404, &json!({"success": false, "errorMsg": "Pack with id 999999 not found"})));
    let (s, b) = app.post("/api/v5/orders/packs/999999/delete", &[]).await;
    assert_eq!((s.as_u16(), &b), (400, &json!({"success": false, "errorMsg": "Pack not found"})));
    let (s, b) = app.get("/api/v5/orders/packs/999999").await;
    assert_eq!((s.as_u16(), &b["errorMsg"]), (404, &json!("Not found")));
    let (s, _) = app.post(&format!("/api/v5/orders/packs/{other}/delete"), &[]).await;
    assert_eq!(s, 400, "deleted once");

    // Removing the packed line from the order removes its pack and hands back everything.
    let items = json!({"items": [{"productName": "Услуга", "quantity": 1, "initialPrice": 10}]}).to_string();
    let (s, b) = app.post("/api/v5/orders/pk-o1/edit", &[("order", &items), ("site", "default")]).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(listed(&app, &format!("filter[orderId]={order_id}")).await, Vec::<i64>::new());
    assert_eq!(free(&app, "pk-1").await, json!(10));

    // Scopes: reading needs order_read, writing order_write.
    let reader = app.key_with(&["order_read"], &[]).await;
    let (s, _) = app.get_as(&reader, "/api/v5/orders/packs").await;
    assert_eq!(s, 200);
    let p = json!({"itemId": loose, "store": "main", "quantity": 1}).to_string();
    let (s, _) = app.post_as(&reader, "/api/v5/orders/packs/create", &[("pack", &p)]).await;
    assert_eq!(s, 403);
    let stranger = app.key_with(&["store_read"], &[]).await;
    let (s, _) = app.get_as(&stranger, "/api/v5/orders/packs").await;
    assert_eq!(s, 403);
});

/// The store `north`, as `reference/stores/{code}/edit` takes it; `crm_meta` checks the document
/// describes each of its members.
pub(crate) fn north_store() -> Value {
    json!({"code": "north", "name": "North"})
}

both!(pack_filters_history_and_sites, |app: TestApp| async move {
    stocked_offer(&app, "pf-1", 50).await;
    stocked_offer(&app, "pf-2", 50).await;
    let north = north_store().to_string();
    let (s, b) = app.post("/api/v5/reference/stores/north/edit", &[("store", &north)]).await;
    assert!(s.is_success(), "{b}");
    let (s, b) = app
        .post(
            "/api/v5/store/inventories/upload",
            &[("offers", r#"[{"externalId": "pf-2", "stores": [{"code": "north", "available": 5}]}]"#)],
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (o1, i1) = order(&app, "pf-o1", "pf-1", 5, false).await;
    let (o2, i2) = order(&app, "pf-o2", "pf-2", 5, false).await;
    let a = pack_id(
        &app,
        json!({"itemId": i1, "store": "main", "quantity": 1, "shipmentDate": "2024-01-10", "invoiceNumber": "INV-1"}),
    )
    .await;
    let b_ = pack_id(&app, json!({"itemId": i1, "store": "main", "quantity": 2, "shipmentDate": "2024-02-10", "deliveryNoteNumber": "DN-2"})).await;
    let c = pack_id(&app, json!({"itemId": i2, "store": "north", "quantity": 1, "shipmentDate": "2024-03-10"})).await;

    assert_eq!(listed(&app, "").await, vec![a, b_, c]);
    assert_eq!(listed(&app, &format!("filter[ids][]={a}&filter[ids][]={c}")).await, vec![a, c]);
    assert_eq!(listed(&app, "filter[stores][]=north").await, vec![c]);
    assert_eq!(listed(&app, "filter[stores]=main").await, vec![a, b_], "Go sends stores without brackets");
    assert_eq!(listed(&app, &format!("filter[itemId]={i2}")).await, vec![c]);
    assert_eq!(listed(&app, &format!("filter[orderId]={o1}")).await, vec![a, b_]);
    assert_eq!(listed(&app, "filter[orderExternalId]=pf-o2").await, vec![c]);
    assert_eq!(listed(&app, "filter[offerExternalId]=pf-2").await, vec![c]);
    assert_eq!(listed(&app, "filter[offerXmlId]=x-pf-1").await, vec![a, b_]);
    assert_eq!(listed(&app, "filter[shipmentDateFrom]=2024-02-01").await, vec![b_, c]);
    assert_eq!(listed(&app, "filter[shipmentDateTo]=2024-02-10").await, vec![a, b_]);
    assert_eq!(
        listed(&app, "filter[shipmentDateFrom]=2024-02-10 00:00:00&filter[shipmentDateTo]=2024-02-10").await,
        vec![b_]
    );
    assert_eq!(listed(&app, "filter[invoiceNumber]=INV-1").await, vec![a]);
    assert_eq!(listed(&app, "filter[deliveryNoteNumber]=DN-2").await, vec![b_]);
    assert_eq!(listed(&app, "filter=None").await.len(), 3, "the Python client's empty filter");
    let (s, b) = app.get("/api/v5/orders/packs?limit=20&page=2").await;
    assert_eq!(
        (s.as_u16(), &b["packs"], &b["pagination"]["totalCount"], &b["pagination"]["currentPage"]),
        (200, &json!([]), &json!(3), &json!(2))
    );
    let (s, b) = app.get("/api/v5/orders/packs?filter[shipmentDateFrom]=tomorrow").await;
    assert_eq!((s.as_u16(), &b["errorMsg"]), (400, &json!("Errors in the input parameters")));
    assert!(b["errors"]["filter[shipmentDateFrom]"].is_string(), "{b}");
    let (s, _) = app.get("/api/v5/orders/packs?limit=7").await;
    assert_eq!(s, 400);

    // History: created (the whole pack, its store as {code}), a changed field (a stub), deleted.
    let (s, _) = app
        .post(&format!("/api/v5/orders/packs/{a}/edit"), &[("pack", r#"{"quantity": 3, "purchasePrice": 10}"#)])
        .await;
    assert_eq!(s, 200);
    let (s, _) = app.post(&format!("/api/v5/orders/packs/{c}/delete"), &[]).await;
    assert_eq!(s, 200);
    let (s, h) = app.get("/api/v5/orders/packs/history").await;
    assert_eq!(s, 200, "{h}");
    assert!(h["generatedAt"].as_str().unwrap().len() == 19, "{h}");
    let records = h["history"].as_array().unwrap();
    assert_eq!(records.len(), 6, "{h}");
    assert_eq!(h["pagination"]["totalCount"], 6);
    let first = &records[0];
    assert_eq!(
        (first["created"].clone(), first["field"].clone(), first["newValue"].clone()),
        (json!(true), json!("store"), json!({"code": "main"}))
    );
    assert!(first.get("oldValue").is_none(), "{first}");
    assert_eq!((first["source"].clone(), first["apiKey"].clone()), (json!("api"), json!({"current": true})));
    assert_eq!(first["pack"]["id"], a);
    assert_eq!(first["pack"]["store"], json!({"code": "main"}));
    assert_eq!(first["pack"]["quantity"], 1);
    assert_eq!(first["pack"]["item"]["order"]["id"], o1);
    assert_eq!(first["pack"]["item"]["offer"]["externalId"], "pf-1");
    assert_eq!(first.get("createdAt").and_then(Value::as_str).map(str::len), Some(19));
    let changed: Vec<(Value, Value, Value)> =
        records[3..5].iter().map(|r| (r["field"].clone(), r["oldValue"].clone(), r["newValue"].clone())).collect();
    assert_eq!(
        changed,
        vec![(json!("quantity"), json!(1), json!(3)), (json!("purchasePrice"), Value::Null, json!(10))]
    );
    assert_eq!(records[3]["pack"], json!({"id": a, "item": records[3]["pack"]["item"].clone()}));
    assert!(records[3].get("created").is_none());
    let last = &records[5];
    assert_eq!(
        (last["deleted"].clone(), last["oldValue"].clone(), last.get("newValue")),
        (json!(true), json!({"code": "north"}), None)
    );
    assert_eq!(last["pack"]["id"], c);
    // Filters: orderId, orderExternalId, sinceId, dates.
    let ids =
        |h: &Value| h["history"].as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect::<Vec<_>>();
    let all = ids(&h);
    let (_, f) = app.get(&format!("/api/v5/orders/packs/history?filter[orderId]={o2}")).await;
    assert_eq!(ids(&f), vec![all[2], all[5]]);
    let (_, f) = app.get("/api/v5/orders/packs/history?filter[orderExternalId]=pf-o1").await;
    assert_eq!(ids(&f), vec![all[0], all[1], all[3], all[4]]);
    let (_, f) = app.get(&format!("/api/v5/orders/packs/history?filter[sinceId]={}", all[3])).await;
    assert_eq!(ids(&f), all[4..].to_vec());
    let (_, f) = app.get("/api/v5/orders/packs/history?filter[startDate]=2000-01-01&filter[endDate]=2000-01-02").await;
    assert_eq!(ids(&f), Vec::<i64>::new());
    let (s, _) = app.get("/api/v5/orders/packs/history?filter[startDate]=soon").await;
    assert_eq!(s, 400);
    let (_, f) = app.get_as(&app.key_with(&["order_read"], &[]).await, "/api/v5/orders/packs/history?limit=100").await;
    assert_eq!(f["history"][0]["apiKey"], json!({"current": false}));

    // A key for another site sees none of these packs and cannot touch them.
    app.add_site("elsewhere").await;
    let foreign = app.key_with(&["order_read", "order_write"], &["elsewhere"]).await;
    let (_, b) = app.get_as(&foreign, "/api/v5/orders/packs").await;
    assert_eq!(b["packs"], json!([]));
    let (s, _) = app.get_as(&foreign, &format!("/api/v5/orders/packs/{a}")).await;
    assert_eq!(s, 404);
    let (s, b) =
        app.post_as(&foreign, &format!("/api/v5/orders/packs/{a}/edit"), &[("pack", r#"{"quantity": 1}"#)]).await;
    assert_eq!((s.as_u16(), &b["errorMsg"]), (404, &json!(format!("Pack with id {a} not found"))));
    let (s, _) = app.post_as(&foreign, &format!("/api/v5/orders/packs/{a}/delete"), &[]).await;
    assert_eq!(s, 400);
    let p = json!({"itemId": i1, "store": "main", "quantity": 1}).to_string();
    let (s, b) = app.post_as(&foreign, "/api/v5/orders/packs/create", &[("pack", &p)]).await;
    assert_eq!((s.as_u16(), &b["errors"]["pack.itemId"]), (400, &json!(format!("Order item with id {i1} not found."))));
    let (_, h) = app.get_as(&foreign, "/api/v5/orders/packs/history").await;
    assert_eq!(h["history"], json!([]));
    assert_eq!(listed(&app, "").await, vec![a, b_], "nothing changed");
});

both!(product_groups_create_edit_list, |app: TestApp| async move {
    let app = &app;
    let create = |g: Value| async move {
        app.post("/api/v5/store/product-groups/create", &[("productGroup", &g.to_string())]).await
    };
    let (s, b) = create(json!({"name": "Фильтры", "externalId": "g-1", "site": "default", "active": true, "description": "Все фильтры"})).await;
    assert_eq!(s, 201, "{b}");
    let root = b["id"].as_i64().unwrap();
    let (s, b) = create(json!({"name": "Масляные", "externalId": "g-2", "parentId": root})).await;
    assert_eq!(s, 201, "{b}");
    let oil = b["id"].as_i64().unwrap();
    let (s, b) = create(
        json!({"name": "Для дизеля", "externalId": "g-3", "parentExternalId": "g-2", "active": false, "ordering": 5}),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let diesel = b["id"].as_i64().unwrap();

    let (s, b) = app.get("/api/v5/store/product-groups").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["pagination"], json!({"limit": 20, "totalCount": 3, "currentPage": 1, "totalPageCount": 1}));
    assert_eq!(
        b["productGroup"],
        json!([
            {"id": root, "site": "default", "name": "Фильтры", "externalId": "g-1", "active": true, "lvl": 1, "description": "Все фильтры"},
            {"id": oil, "parentId": root, "parentExternalId": "g-1", "site": "default", "name": "Масляные", "externalId": "g-2", "active": true, "lvl": 2},
            {"id": diesel, "parentId": oil, "parentExternalId": "g-2", "site": "default", "name": "Для дизеля", "externalId": "g-3", "active": false, "lvl": 3, "ordering": 5}
        ])
    );
    let ids =
        |b: &Value| b["productGroup"].as_array().unwrap().iter().map(|g| g["id"].as_i64().unwrap()).collect::<Vec<_>>();
    let (_, b) = app.get(&format!("/api/v5/store/product-groups?filter[parentGroupId]={oil}")).await;
    assert_eq!(ids(&b), vec![diesel]);
    let (_, b) = app.get("/api/v5/store/product-groups?filter[active]=0").await;
    assert_eq!(ids(&b), vec![diesel]);
    let (_, b) = app
        .get(&format!(
            "/api/v5/store/product-groups?filter[ids][]={root}&filter[ids][]={diesel}&filter[sites][]=default"
        ))
        .await;
    assert_eq!(ids(&b), vec![root, diesel]);
    let (_, b) = app.get("/api/v5/store/product-groups?filter[maxLevel]=2&limit=250").await;
    assert_eq!(ids(&b), vec![root, oil]);
    let (s, b) = app.get("/api/v5/store/product-groups?filter[active]=3").await;
    assert_eq!((s.as_u16(), &b["errorMsg"]), (400, &json!("Errors in the input parameters")));
    let (s, _) = app.get("/api/v5/store/product-groups?filter[sites][]=nowhere").await;
    assert_eq!(s, 403);

    // Edit by externalId (the default `by`, as the Python client sends it), then by id.
    let (s, b) = app
        .post(
            "/api/v5/store/product-groups/g-3/edit",
            &[("productGroup", r#"{"name": "Дизельные", "parentId": null}"#), ("site", "default")],
        )
        .await;
    assert_eq!((s.as_u16(), &b), (200, &json!({"success": true, "id": diesel})));
    let (s, b) = app
        .post(
            &format!("/api/v5/store/product-groups/{oil}/edit"),
            &[("productGroup", r#"{"externalId": "g-2b", "active": 0}"#), ("by", "id"), ("site", "default")],
        )
        .await;
    assert_eq!((s.as_u16(), &b), (200, &json!({"success": true, "id": oil})));
    let (_, b) = app.get(&format!("/api/v5/store/product-groups?filter[ids][]={oil}&filter[ids][]={diesel}")).await;
    assert_eq!(b["productGroup"][0]["externalId"], "g-2b");
    assert_eq!(b["productGroup"][0]["active"], false);
    assert_eq!(
        (b["productGroup"][1]["name"].clone(), b["productGroup"][1]["lvl"].clone()),
        (json!("Дизельные"), json!(1))
    );
    assert!(b["productGroup"][1].get("parentId").is_none());
    // Moving a subtree takes its depths along.
    let (s, _) =
        app.post("/api/v5/store/product-groups/g-1/edit", &[("productGroup", r#"{"parentExternalId": "g-3"}"#)]).await;
    assert_eq!(s, 200);
    let (_, b) = app.get("/api/v5/store/product-groups").await;
    let levels: Vec<Value> = b["productGroup"].as_array().unwrap().iter().map(|g| g["lvl"].clone()).collect();
    assert_eq!(levels, vec![json!(2), json!(3), json!(1)]);

    // Errors.
    let (s, b) = create(json!({"externalId": "g-x"})).await;
    assert_eq!((s.as_u16(), b["errors"]["productGroup.name"].is_string()), (400, true), "{b}");
    let (s, b) = create(json!({"name": "Дубль", "externalId": "g-1"})).await;
    assert_eq!(
        (s.as_u16(), &b["errors"]["productGroup.externalId"]),
        (400, &json!("Product group with this externalId already exists."))
    );
    let (s, b) = create(json!({"name": "Сирота", "parentId": 999_999})).await;
    assert_eq!((s.as_u16(), b["errors"]["productGroup.parentId"].is_string()), (400, true), "{b}");
    let (s, b) =
        app.post("/api/v5/store/product-groups/g-3/edit", &[("productGroup", r#"{"parentExternalId": "g-2b"}"#)]).await;
    assert_eq!(
        (s.as_u16(), b["errors"]["productGroup.parentExternalId"].is_string()),
        (400, true),
        "a group under its own descendant: {b}"
    );
    let (s, b) = app.post("/api/v5/store/product-groups/nope/edit", &[("productGroup", r#"{"name": "X"}"#)]).await;
    assert_eq!((s.as_u16(), &b["errorMsg"]), (404, &json!("Not found")));
    let (s, _) = app
        .post("/api/v5/store/product-groups/g-1/edit", &[("productGroup", r#"{"name": "X"}"#), ("by", "code")])
        .await;
    assert_eq!(s, 400);
    let (s, _) = create(json!({"name": "Чужой", "site": "nowhere"})).await;
    assert_eq!(s, 403);
    let (s, b) = app.post("/api/v5/store/product-groups/create", &[]).await;
    assert_eq!((s.as_u16(), &b["errorMsg"]), (400, &json!("Parameter 'productGroup' is missing")));
    // Another site's groups are not seen; a reader may not write.
    app.add_site("elsewhere").await;
    let foreign = app.key_with(&["store_read", "store_write"], &["elsewhere"]).await;
    let (_, b) = app.get_as(&foreign, "/api/v5/store/product-groups").await;
    assert_eq!(b["productGroup"], json!([]));
    let (s, _) = app
        .post_as(
            &foreign,
            &format!("/api/v5/store/product-groups/{root}/edit"),
            &[("productGroup", r#"{"name": "X"}"#), ("by", "id")],
        )
        .await;
    assert_eq!(s, 404);
    let reader = app.key_with(&["store_read"], &[]).await;
    let (s, _) =
        app.post_as(&reader, "/api/v5/store/product-groups/create", &[("productGroup", r#"{"name": "X"}"#)]).await;
    assert_eq!(s, 403);
});

both!(product_properties_and_values, |app: TestApp| async move {
    let products = json!([
        {"externalId": "shirt", "name": "Рубашка",
         "offers": [{"externalId": "shirt-s", "name": "S"}, {"externalId": "shirt-m", "name": "M"}, {"externalId": "shirt-l", "name": "L"}]},
        {"externalId": "cap", "name": "Кепка"}
    ]);
    let (s, b) = app.post("/api/v5/store/products/batch/create", &[("products", &products.to_string())]).await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = app.get("/api/v5/store/products/properties").await;
    assert_eq!((s.as_u16(), &b["properties"], &b["pagination"]["totalCount"]), (200, &json!([]), &json!(0)));
    // Properties live in the catalogue rows' attributes (no API method writes them yet).
    let mut tx = app.store.begin().await.unwrap();
    for (ext, attrs) in [
        ("shirt-s", json!({"properties": {"size": {"name": "Размер", "value": "S"}, "weight": 0.2}})),
        (
            "shirt-m",
            json!({"properties": [{"code": "size", "name": "Размер", "value": "M"}, {"code": "weight", "value": "0.2"}]}),
        ),
        ("shirt-l", json!({"properties": {"size": "L"}})),
    ] {
        torg_store::db::query("UPDATE offers SET attrs = $1 WHERE external_id = $2")
            .bind(attrs.to_string())
            .bind(ext)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    torg_store::db::query("UPDATE products SET attrs = $1 WHERE external_id = $2")
        .bind(json!({"properties": {"color": {"name": "Цвет", "value": "синий"}}}).to_string())
        .bind("shirt")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let (s, b) = app.get("/api/v5/store/products/properties").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["pagination"], json!({"limit": 20, "totalCount": 3, "currentPage": 1, "totalPageCount": 1}));
    assert_eq!(
        b["properties"],
        json!([
            {"sites": ["default"], "groups": [], "code": "color", "name": "Цвет", "isNumeric": false, "visible": true, "variative": false, "offersCount": 3},
            {"sites": ["default"], "groups": [], "code": "size", "name": "Размер", "isNumeric": false, "visible": true, "variative": true, "offersCount": 3},
            {"sites": ["default"], "groups": [], "code": "weight", "name": "weight", "isNumeric": true, "visible": true, "variative": false, "offersCount": 2}
        ])
    );
    let codes = |b: &Value, key: &str| b[key].as_array().unwrap().iter().map(|p| p["code"].clone()).collect::<Vec<_>>();
    let (_, b) = app.get("/api/v5/store/products/properties?filter[code]=size").await;
    assert_eq!(codes(&b, "properties"), vec![json!("size")]);
    let (_, b) = app.get("/api/v5/store/products/properties?filter[name]=ЦВЕ&filter[sites][]=default").await;
    assert_eq!(codes(&b, "properties"), vec![json!("color")]);
    let (_, b) = app.get("/api/v5/store/products/properties?limit=20&page=2").await;
    assert_eq!((b["properties"].clone(), b["pagination"]["totalCount"].clone()), (json!([]), json!(3)));
    let (s, _) = app.get("/api/v5/store/products/properties?filter[sites][]=nowhere").await;
    assert_eq!(s, 403);
    let (_, b) = app.get("/api/v5/store/products/properties?filter[groups][]=1").await;
    assert_eq!(b["properties"], json!([]), "no product is in group 1");

    let (s, b) = app.get("/api/v5/store/products/properties/values?filter[propertyCode]=size").await;
    assert_eq!(s, 200, "{b}");
    let values: Vec<(Value, Value)> = b["productPropertyValues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["value"].clone(), v["offersCount"].clone()))
        .collect();
    assert_eq!(values, vec![(json!("L"), json!(1)), (json!("M"), json!(1)), (json!("S"), json!(1))]);
    assert_eq!(b["productPropertyValues"][0]["property"]["code"], "size");
    assert_eq!(b["productPropertyValues"][0]["property"]["name"], "Размер");
    let (_, b) = app.get("/api/v5/store/products/properties/values?filter[propertyName]=weight&limit=250").await;
    assert_eq!(b["productPropertyValues"].as_array().unwrap().len(), 1, "{b}");
    assert_eq!(
        (b["productPropertyValues"][0]["value"].clone(), b["productPropertyValues"][0]["offersCount"].clone()),
        (json!("0.2"), json!(2))
    );
    let (_, b) = app.get("/api/v5/store/products/properties/values").await;
    assert_eq!(b["pagination"]["totalCount"], 5);
    let (s, _) = app.get_as(&app.key_with(&["order_read"], &[]).await, "/api/v5/store/products/properties").await;
    assert_eq!(s, 403);
});

both!(a_line_cannot_shrink_below_its_packs, |app: TestApp| async move {
    stocked_offer(&app, "shrink", 10).await;
    let (_, line) = order(&app, "o-shrink", "shrink", 3, true).await;
    let (s, b) = create_pack(&app, json!({"itemId": line, "quantity": 2, "store": "main"})).await;
    assert_eq!(s, 201, "{b}");
    let edit = |qty: i64| json!({"items": [{"id": line, "quantity": qty}]}).to_string();
    let (s, b) = app.post("/api/v5/orders/o-shrink/edit", &[("order", &edit(1)), ("site", "default")]).await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(b["errors"]["items[0].quantity"], "The quantity cannot be less than the packed 2.");
    let (s, b) = app.post("/api/v5/orders/o-shrink/edit", &[("order", &edit(2)), ("site", "default")]).await;
    assert_eq!(s, 200, "down to what is packed is fine: {b}");
});
