//! Delivery integration (`delivery/*`, `orders/{externalId}/delivery/cancel`) through the CRM face, on
//! both engines: costs from the delivery types book, a delivery service's status updates reaching the
//! order, its history and `/track`, shipments with their filters, cancelling, and the errors.

use crate::common::{Reply, TestApp, add_to_counter, both};
use serde_json::{Value, json};

/// The delivery integration `torg-post` as a module registers it; `crm_meta` checks the document
/// describes each of its members.
pub(crate) fn delivery_module_doc() -> Value {
    json!({"code": "torg-post", "integrationCode": "torg-post", "name": "Torg Post",
        "baseUrl": "https://post.example/", "integrations": {"delivery": {
            "statusList": [{"code": "delivering", "name": "В пути"}, {"code": "delivered", "name": "Вручено"}]}}})
}

/// Status updates of the delivery `number`: a track number, a history, a cost and the service's data;
/// `crm_meta` checks the document describes each of their members.
pub(crate) fn status_updates(number: &str) -> Value {
    json!([{"deliveryId": number, "trackNumber": "RB7", "cost": 250,
            "history": [{"code": "delivered"}], "extraData": {"pickup": "P1"}}])
}

/// Registers the delivery integration `torg-post` (its delivery type has the same code).
async fn delivery_module(app: &TestApp) {
    let module = delivery_module_doc();
    let (s, b) =
        app.post("/api/v5/integration-modules/torg-post/edit", &[("integrationModule", &module.to_string())]).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["info"]["deliveryType"]["code"], "torg-post");
}

/// An order delivered by `delivery_type`; its number.
async fn order(app: &TestApp, ext: &str, delivery_type: &str) -> String {
    let o = json!({"externalId": ext, "firstName": "Ann", "delivery": {"code": delivery_type,
                   "address": {"city": "Тула"}}});
    let (s, b) = app.post("/api/v5/orders/create", &[("order", &o.to_string()), ("site", "default")]).await;
    assert_eq!(s, 201, "{b}");
    b["order"]["number"].as_str().unwrap().to_string()
}

async fn track(app: &TestApp, code: &str, updates: Value) -> Reply {
    app.post(&format!("/api/v5/delivery/generic/{code}/tracking"), &[("statusUpdate", &updates.to_string())]).await
}

async fn get_order(app: &TestApp, ext: &str) -> Value {
    let (s, b) = app.get(&format!("/api/v5/orders/{ext}?site=default")).await;
    assert_eq!(s, 200, "{b}");
    b["order"].clone()
}

both!(calculate_answers_from_the_book, |app: TestApp| async move {
    let codes = json!(["courier", "russian-post", "no-such-type"]).to_string();
    let order = json!({"weight": 1200, "delivery": {"address": {"city": "Тула"}}}).to_string();
    let (s, b) = app.post("/api/v5/delivery/calculate", &[("deliveryTypeCodes", &codes), ("order", &order)]).await;
    assert_eq!(s, 200, "{b}");
    let c = b["calculations"].as_array().unwrap();
    assert_eq!(c.len(), 3);
    assert_eq!((&c[0]["code"], &c[0]["available"], &c[0]["cost"]), (&json!("courier"), &json!(true), &json!(300)));
    assert_eq!((&c[1]["code"], &c[1]["cost"]), (&json!("russian-post"), &json!(350)));
    assert_eq!((&c[2]["code"], &c[2]["available"]), (&json!("no-such-type"), &json!(false)));

    let (s, b) = app.post("/api/v5/delivery/calculate", &[("order", &order)]).await;
    assert_eq!((s.as_u16(), b["errorMsg"].as_str()), (400, Some("Parameter 'deliveryTypeCodes' is missing")));
    let (s, b) = app.post("/api/v5/delivery/calculate", &[("deliveryTypeCodes", &codes), ("order", "[1]")]).await;
    assert_eq!(s, 400, "{b}");
    assert!(b["errors"]["order"].is_string(), "{b}");
    let (s, b) = app.post("/api/v5/delivery/calculate", &[("deliveryTypeCodes", "[5]"), ("order", "{}")]).await;
    assert_eq!(s, 400, "{b}");
    assert!(b["errors"]["deliveryTypeCodes[0]"].is_string(), "{b}");
    let (s, _) = app.post("/api/v5/delivery/calculate", &[("deliveryTypeCodes", "{bad"), ("order", "{}")]).await;
    assert_eq!(s, 400);
});

both!(tracking_changes_the_order, |app: TestApp| async move {
    delivery_module(&app).await;
    let number = order(&app, "t-1", "torg-post").await;
    let other = order(&app, "t-2", "courier").await;
    let updates = json!([{"deliveryId": number, "trackNumber": "RA123", "history": [
        {"code": "delivering", "updatedAt": "2030-01-02T10:00:00+03:00", "comment": "left Moscow"},
        {"code": "accepted", "updatedAt": "2030-01-01T10:00:00+03:00"}]}]);
    let (s, b) = track(&app, "torg-post", updates).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b, json!({"success": true}));
    let o = get_order(&app, "t-1").await;
    assert_eq!(o["delivery"]["data"]["status"], "delivering", "{o}");
    assert_eq!(o["delivery"]["data"]["statusComment"], "left Moscow");
    assert_eq!(o["delivery"]["data"]["statusDate"], "2030-01-02 10:00:00");
    assert_eq!(o["delivery"]["data"]["trackNumber"], "RA123");

    // A second number is added; the status moves on; the history names both changes.
    assert_eq!(track(&app, "torg-post", status_updates(&number)).await.0, 200);
    let o = get_order(&app, "t-1").await;
    assert_eq!(o["delivery"]["data"]["trackNumber"], "RA123,RB7");
    assert_eq!(o["delivery"]["data"]["status"], "delivered");
    assert_eq!(o["delivery"]["data"]["extraData"], json!({"pickup": "P1"}));
    assert_eq!(o["delivery"]["netCost"], json!(250));
    let (_, h) = app.get("/api/v5/orders/history?limit=100").await;
    let fields: Vec<&str> = h["history"].as_array().unwrap().iter().filter_map(|r| r["field"].as_str()).collect();
    assert!(fields.contains(&"track_number"), "{fields:?}");
    assert!(fields.iter().any(|f| f.starts_with("delivery_data.status") || *f == "delivery_status"), "{fields:?}");

    // /track shows the numbers and the status by the integration's name for it.
    let r = app.client.get(format!("{}/track/{number}", app.base)).send().await.unwrap();
    let t: Value = r.json().await.unwrap();
    assert_eq!(t["track_numbers"], json!(["RA123", "RB7"]));
    assert_eq!(t["delivery_status"], "Вручено");
    let page = app.client.get(format!("{}/track?number={number}", app.base)).send().await.unwrap();
    assert!(page.text().await.unwrap().contains("Вручено"));

    // Errors: all or nothing, each naming the update at fault.
    let before = get_order(&app, "t-1").await;
    let updates = json!([{"deliveryId": number, "history": [{"code": "returned"}]},
                         {"deliveryId": other, "history": [{"code": "delivering"}]}]);
    let (s, b) = track(&app, "torg-post", updates).await;
    assert_eq!(s, 400, "{b}");
    assert!(b["errors"]["statusUpdate[1].deliveryId"].as_str().unwrap().contains("not carried"), "{b}");
    assert_eq!(get_order(&app, "t-1").await, before, "the first update was not kept");
    let (s, b) = track(&app, "torg-post", json!([{"deliveryId": "nope", "trackNumber": "X"}])).await;
    assert_eq!(s, 400);
    assert!(b["errors"]["statusUpdate[0].deliveryId"].as_str().unwrap().contains("not found"), "{b}");
    let (s, b) =
        track(&app, "torg-post", json!([{"deliveryId": number, "history": [{"code": "x", "updatedAt": "soon"}]}]))
            .await;
    assert_eq!(s, 400);
    assert!(b["errors"]["statusUpdate[0].history[0].updatedAt"].is_string(), "{b}");
    let (s, _) = track(&app, "no-such-module", json!([{"deliveryId": number, "trackNumber": "X"}])).await;
    assert_eq!(s, 404);
    let (s, b) = app.post("/api/v5/delivery/generic/torg-post/tracking", &[]).await;
    assert_eq!((s.as_u16(), b["errorMsg"].as_str()), (400, Some("Parameter 'statusUpdate' is missing")));
    let (s, _) = track(&app, "torg-post", json!([{"deliveryId": number}])).await;
    assert_eq!(s, 400, "an update that says nothing");
    // A key without delivery_write is refused.
    let reader = app.key_with(&["delivery_read", "order_read"], &[]).await;
    let (s, _) = app.post_as(&reader, "/api/v5/delivery/generic/torg-post/tracking", &[("statusUpdate", "[]")]).await;
    assert_eq!(s, 403);
});

both!(cancelling_a_delivery, |app: TestApp| async move {
    delivery_module(&app).await;
    order(&app, "c-1", "torg-post").await;
    order(&app, "c-2", "courier").await;
    let (s, b) = app.post("/api/v5/orders/c-1/delivery/cancel", &[("site", "default")]).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(get_order(&app, "c-1").await["delivery"]["data"]["status"], "cancelled");
    let (s, b) = app.post("/api/v5/orders/c-1/delivery/cancel", &[("site", "default"), ("force", "false")]).await;
    assert_eq!(s, 400, "{b}");
    assert!(b["errors"]["delivery"].as_str().unwrap().contains("already"), "{b}");
    let (s, _) = app.post("/api/v5/orders/c-1/delivery/cancel", &[("site", "default"), ("force", "true")]).await;
    assert_eq!(s, 200);
    let (s, b) = app.post("/api/v5/orders/c-2/delivery/cancel", &[("site", "default")]).await;
    assert_eq!(s, 400, "{b}");
    let (s, _) = app.post("/api/v5/orders/nope/delivery/cancel", &[("site", "default")]).await;
    assert_eq!(s, 404);
    let id = get_order(&app, "c-1").await["id"].as_i64().unwrap();
    let (s, _) = app.post(&format!("/api/v5/orders/{id}/delivery/cancel"), &[("by", "id"), ("force", "1")]).await;
    assert_eq!(s, 200);
    let (s, _) = app.post("/api/v5/orders/c-1/delivery/cancel", &[("site", "default"), ("force", "maybe")]).await;
    assert_eq!(s, 400);
});

async fn create_shipment(app: &TestApp, doc: Value) -> Reply {
    app.post("/api/v5/delivery/shipments/create", &[("deliveryShipment", &doc.to_string()), ("site", "default")]).await
}

async fn shipments_listed(app: &TestApp, query: &str) -> Vec<i64> {
    let (s, b) = app.get(&format!("/api/v5/delivery/shipments?{query}")).await;
    assert_eq!(s, 200, "{query}: {b}");
    b["deliveryShipments"].as_array().unwrap().iter().map(|x| x["id"].as_i64().unwrap()).collect()
}

both!(shipments, |app: TestApp| async move {
    let n1 = order(&app, "s-1", "courier").await;
    order(&app, "s-2", "courier").await;
    order(&app, "s-3", "russian-post").await;
    let (s, b) = create_shipment(
        &app,
        json!({"deliveryType": "courier", "date": "2030-03-01", "time": {"from": "09:00", "to": "13:00"},
               "comment": "ramp 2", "orders": [{"externalId": "s-1"}, {"number": n1}], "extraData": {"car": "A1"}}),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["status"], "created");
    let first = b["id"].as_i64().unwrap();
    let (s, b) = app.get(&format!("/api/v5/delivery/shipments/{first}")).await;
    assert_eq!(s, 200, "{b}");
    let sh = &b["deliveryShipment"];
    assert_eq!(
        (&sh["deliveryType"], &sh["date"], &sh["comment"]),
        (&json!("courier"), &json!("2030-03-01"), &json!("ramp 2"))
    );
    assert_eq!(sh["time"], json!({"from": "09:00", "to": "13:00"}));
    assert_eq!(sh["orders"].as_array().unwrap().len(), 1, "the same order named twice is in once");
    assert_eq!(sh["orders"][0]["externalId"], "s-1");
    assert_eq!(sh["extraData"], json!({"car": "A1"}));

    // Go's separate deliveryType field; the Python client's singular edit path and Go's plural one.
    let doc = json!({"date": "2030-03-05", "orders": [{"externalId": "s-3"}]}).to_string();
    let (s, b) = app
        .post(
            "/api/v5/delivery/shipments/create",
            &[("deliveryShipment", doc.as_str()), ("deliveryType", "russian-post"), ("site", "default")],
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let second = b["id"].as_i64().unwrap();
    let edit = json!({"id": first, "status": "processing", "orders": [{"externalId": "s-1"}, {"externalId": "s-2"}]});
    let (s, b) = app
        .post(
            &format!("/api/v5/delivery/shipment/{first}/edit"),
            &[("deliveryShipment", &edit.to_string()), ("site", "default")],
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!((b["id"].as_i64(), b["status"].as_str()), (Some(first), Some("processing")));
    let (s, _) = app
        .post(&format!("/api/v5/delivery/shipments/{first}/edit"), &[("deliveryShipment", r#"{"comment": null}"#)])
        .await;
    assert_eq!(s, 200);
    let (_, b) = app.get(&format!("/api/v5/delivery/shipments/{first}")).await;
    assert_eq!(b["deliveryShipment"]["orders"].as_array().unwrap().len(), 2);
    assert!(b["deliveryShipment"].get("comment").is_none(), "{b}");
    assert_eq!(b["deliveryShipment"]["status"], "processing");

    // Filters.
    assert_eq!(shipments_listed(&app, "").await, vec![second, first]);
    assert_eq!(shipments_listed(&app, &format!("filter[ids][]={first}")).await, vec![first]);
    assert_eq!(shipments_listed(&app, "filter[deliveryTypes][]=russian-post").await, vec![second]);
    assert_eq!(shipments_listed(&app, "filter[statuses][]=processing").await, vec![first]);
    assert_eq!(shipments_listed(&app, "filter[dateFrom]=2030-03-02").await, vec![second]);
    assert_eq!(shipments_listed(&app, "filter[dateTo]=2030-03-02").await, vec![first]);
    assert_eq!(shipments_listed(&app, &format!("filter[orderNumber]={n1}")).await, vec![first]);
    let (_, b) = app.get("/api/v5/delivery/shipments?limit=20&page=2").await;
    assert_eq!(b["pagination"]["totalCount"], 2);
    assert!(b["deliveryShipments"].as_array().unwrap().is_empty());

    // Errors.
    let (s, b) = create_shipment(&app, json!({"deliveryType": "courier"})).await;
    assert_eq!(s, 400);
    assert!(b["errors"]["deliveryShipment.date"].is_string(), "{b}");
    let (s, b) = create_shipment(&app, json!({"deliveryType": "nope", "date": "2030-01-01"})).await;
    assert_eq!(s, 400);
    assert!(b["errors"]["deliveryShipment.deliveryType"].is_string(), "{b}");
    let (s, b) = create_shipment(
        &app,
        json!({"deliveryType": "courier", "date": "2030-01-01", "orders": [{"externalId": "s-3"}]}),
    )
    .await;
    assert_eq!(s, 400);
    assert!(b["errors"]["deliveryShipment.orders[0]"].as_str().unwrap().contains("not delivered by"), "{b}");
    let (s, b) =
        create_shipment(&app, json!({"deliveryType": "courier", "date": "2030-01-01", "store": "nowhere"})).await;
    assert_eq!(s, 400, "{b}");
    let (s, b) =
        create_shipment(&app, json!({"deliveryType": "courier", "date": "2030-01-01", "managerId": 999})).await;
    assert_eq!(s, 400, "{b}");
    let (s, _) = create_shipment(&app, json!({"deliveryType": "courier", "date": "01.01.2030"})).await;
    assert_eq!(s, 400);
    let (s, _) = app.post("/api/v5/delivery/shipments/create", &[]).await;
    assert_eq!(s, 400);
    assert_eq!(shipments_listed(&app, "").await.len(), 2, "no failed create was kept");
    assert_eq!(app.get("/api/v5/delivery/shipments/99999").await.0, 404);
    assert_eq!(app.get("/api/v5/delivery/shipments/abc").await.0, 404);
    let (s, _) = app.post("/api/v5/delivery/shipments/99999/edit", &[("deliveryShipment", "{}")]).await;
    assert_eq!(s, 404);
    let (s, _) = app.get("/api/v5/delivery/shipments?filter[dateFrom]=soon").await;
    assert_eq!(s, 400);
    let (s, _) = app.get("/api/v5/delivery/shipments?filter[ids][]=x").await;
    assert_eq!(s, 400);
});

both!(combining_orders_moves_shipments_and_files, |app: TestApp| async move {
    order(&app, "m-a", "courier").await;
    order(&app, "m-b", "courier").await;
    let a = get_order(&app, "m-a").await["id"].as_i64().unwrap();
    let b = get_order(&app, "m-b").await["id"].as_i64().unwrap();
    let both_orders = json!({"deliveryType": "courier", "date": "2030-05-01", "orders": [{"id": a}, {"id": b}]});
    let (s, r) = create_shipment(&app, both_orders).await;
    assert_eq!(s, 201, "{r}");
    let first = r["id"].as_i64().unwrap();
    let (s, r) =
        create_shipment(&app, json!({"deliveryType": "courier", "date": "2030-05-02", "orders": [{"id": a}]})).await;
    assert_eq!(s, 201, "{r}");
    let second = r["id"].as_i64().unwrap();
    let file = json!({"filename": "a.txt", "content": "a", "attachment": [{"order": {"id": a}}]});
    let (s, r) = app.post("/api/v5/files/upload", &[("file", &file.to_string())]).await;
    assert_eq!(s, 200, "{r}");
    let file_id = r["file"]["id"].as_i64().unwrap();

    let (o, result) = (json!({"id": a}).to_string(), json!({"id": b}).to_string());
    let (s, r) = app.post("/api/v5/orders/combine", &[("order", &o), ("resultOrder", &result)]).await;
    assert_eq!(s, 200, "{r}");
    for (shipment, what) in [(first, "a shipment of both"), (second, "a shipment of the combined one")] {
        let (_, r) = app.get(&format!("/api/v5/delivery/shipments/{shipment}")).await;
        let ids: Vec<i64> =
            r["deliveryShipment"]["orders"].as_array().unwrap().iter().map(|o| o["id"].as_i64().unwrap()).collect();
        assert_eq!(ids, vec![b], "{what}");
    }
    let (_, r) = app.get(&format!("/api/v5/files/{file_id}")).await;
    assert_eq!(r["file"]["attachment"][0]["order"]["id"], b);
});

both!(orders_filter_by_delivery_state, |app: TestApp| async move {
    delivery_module(&app).await;
    let waiting = order(&app, "s-waiting", "torg-post").await;
    let reported = order(&app, "s-reported", "torg-post").await;
    order(&app, "s-cancelled", "torg-post").await;
    order(&app, "s-courier", "courier").await;
    order(&app, "s-forced", "courier").await;
    let updates = json!([{"deliveryId": reported, "history": [{"code": "delivering"}]},
                         {"deliveryId": waiting, "trackNumber": "RA1"}]);
    assert_eq!(track(&app, "torg-post", updates).await.0, 200);
    assert_eq!(app.post("/api/v5/orders/s-cancelled/delivery/cancel", &[("site", "default")]).await.0, 200);
    // Forced on a delivery no integration carries: still no integration's, so `none`.
    let forced = [("site", "default"), ("force", "true")];
    assert_eq!(app.post("/api/v5/orders/s-forced/delivery/cancel", &forced).await.0, 200);

    let listed = |q: &'static str| {
        let app = &app;
        async move {
            let (s, b) = app.get(&format!("/api/v5/orders?{q}")).await;
            assert_eq!(s, 200, "{q}: {b}");
            let mut ext: Vec<String> =
                b["orders"].as_array().unwrap().iter().map(|o| o["externalId"].as_str().unwrap().to_string()).collect();
            ext.sort();
            ext
        }
    };
    assert_eq!(listed("filter[deliveryStates][]=none").await, ["s-courier", "s-forced"]);
    // A tracking number alone is no status: the service has not reported on the order yet.
    assert_eq!(listed("filter[deliveryStates][]=processing").await, ["s-waiting"]);
    assert_eq!(listed("filter[deliveryStates][]=success").await, ["s-reported"]);
    assert_eq!(listed("filter[deliveryStates][]=cancel").await, ["s-cancelled"]);
    assert_eq!(listed("filter[deliveryStates][]=error").await, Vec::<String>::new());
    assert_eq!(listed("filter[deliveryStates][]=cancel_force").await, Vec::<String>::new());
    assert_eq!(
        listed("filter[deliveryStates][]=none&filter[deliveryStates][]=cancel").await,
        ["s-cancelled", "s-courier", "s-forced"]
    );
    assert_eq!(listed("filter[deliveryStates][]=success&filter[deliveryTypes][]=courier").await, Vec::<String>::new());
    let (s, b) = app.get("/api/v5/orders?filter[deliveryStates][]=delivered").await;
    assert_eq!(s, 400, "{b}");
    assert!(b["errors"]["filter[deliveryStates]"].as_str().unwrap().contains("cancel_force"), "{b}");
});

both!(unfiltered_shipment_lists_count_from_the_counter, |app: TestApp| async move {
    order(&app, "cs-1", "courier").await;
    order(&app, "cs-2", "russian-post").await;
    for (kind, ext) in [("courier", "cs-1"), ("russian-post", "cs-2")] {
        let (s, b) =
            create_shipment(&app, json!({"deliveryType": kind, "date": "2030-03-01", "orders": [{"externalId": ext}]}))
                .await;
        assert_eq!(s, 201, "{b}");
    }
    let (all, filtered) = ("/api/v5/delivery/shipments", "/api/v5/delivery/shipments?filter[deliveryTypes][]=courier");
    assert_eq!((app.total_count(all).await, app.total_count(filtered).await), (2, 1));
    // The unfiltered total is the counter's (shipments have no site: one counter), moved by hand here.
    add_to_counter(&app, "delivery_shipments", "", 1000).await;
    assert_eq!((app.total_count(all).await, app.total_count(filtered).await), (1002, 1));
});
