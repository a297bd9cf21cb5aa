//! Telephony: calls upload (counts, duplicates, validation), call events, the responsible manager for a
//! caller's phone, and the `telephony_read` / `telephony_write` scopes.

use crate::common::{TestApp, both};
use serde_json::{Value, json};
use torg_domain::telephony::User;

async fn upload(app: &TestApp, key: &str, calls: Value) -> (u16, Value) {
    let (s, b) = app.post_as(key, "/api/v5/telephony/calls/upload", &[("calls", &calls.to_string())]).await;
    (s.as_u16(), b)
}

async fn event(app: &TestApp, key: &str, event: Value) -> (u16, Value) {
    let (s, b) = app.post_as(key, "/api/v5/telephony/call/event", &[("event", &event.to_string())]).await;
    (s.as_u16(), b)
}

fn call(ext: &str) -> Value {
    json!({
        "date": "2024-03-01 10:15:00", "type": "in", "phone": "+7 912 345-67-89", "code": "101",
        "result": "answered", "duration": 65, "externalId": ext
    })
}

async fn create_customer(app: &TestApp, site: &str, customer: Value) -> i64 {
    let (s, b) = app.post("/api/v5/customers/create", &[("customer", &customer.to_string()), ("site", site)]).await;
    assert_eq!(s, 201, "{b}");
    b["id"].as_i64().unwrap()
}

async fn manager_for(app: &TestApp, key: &str, phone_query: &str) -> Value {
    let (s, b) = app.get_as(key, &format!("/api/v5/telephony/manager?phone={phone_query}")).await;
    assert_eq!(s, 200, "{phone_query}: {b}");
    assert_eq!(b["success"], true);
    b
}

both!(calls_upload_counts_and_duplicates, |app: TestApp| async move {
    let key = app.key.clone();
    let (s, b) = upload(&app, &key, json!([call("c-1"), call("c-2")])).await;
    assert_eq!((s, b), (200, json!({"success": true, "processedCallsCount": 2, "duplicateCalls": []})));

    // A repeated externalId is a duplicate and is not stored again; the new one is.
    let (s, b) = upload(&app, &key, json!([call("c-1"), call("c-3")])).await;
    assert_eq!((s, b), (200, json!({"success": true, "processedCallsCount": 1, "duplicateCalls": ["c-1"]})));
    let (s, b) = upload(&app, &key, json!([call("c-3"), call("c-2")])).await;
    assert_eq!((s, b), (200, json!({"success": true, "processedCallsCount": 0, "duplicateCalls": ["c-3", "c-2"]})));

    // Twice in one batch: the second is the duplicate.
    let (s, b) = upload(&app, &key, json!([call("c-4"), call("c-4")])).await;
    assert_eq!((s, b), (200, json!({"success": true, "processedCallsCount": 1, "duplicateCalls": ["c-4"]})));

    // Calls without an externalId are never duplicates; every known result and both directions pass.
    let mut calls = Vec::new();
    for (i, result) in ["failed", "answered", "busy", "no answered", "not allowed", "unknown"].iter().enumerate() {
        calls.push(json!({
            "type": if i % 2 == 0 { "in" } else { "out" }, "phone": "8 (800) 555-35-35", "result": result,
            "userId": 1, "date": "2024-03-01 10:15:00"
        }));
    }
    let (s, b) = upload(&app, &key, Value::Array(calls.clone())).await;
    assert_eq!((s, &b["processedCallsCount"]), (200, &json!(6)), "{b}");
    let (s, b) = upload(&app, &key, Value::Array(calls)).await;
    assert_eq!((s, &b["processedCallsCount"], &b["duplicateCalls"]), (200, &json!(6), &json!([])));
    // No date means now.
    let (s, b) = upload(&app, &key, json!([{"type": "out", "phone": "+15550001", "externalId": "no-date"}])).await;
    assert_eq!((s, &b["processedCallsCount"]), (200, &json!(1)), "{b}");
});

both!(calls_upload_validation, |app: TestApp| async move {
    let key = app.key.clone();
    let bad = json!([
        call("ok-1"),
        {"type": "sideways", "phone": "+7 912 345-67-89", "externalId": "bad-type"},
        {"type": "in", "phone": "12", "externalId": "bad-phone"},
        {"type": "in", "phone": "call me", "externalId": "bad-phone-2"},
        {"type": "out", "phone": "+7 912 345-67-89", "result": "hung up", "externalId": "bad-result"},
        {"type": "in", "phone": "+7 912 345-67-89", "date": "01.03.2024", "externalId": "bad-date"},
        {"phone": "+7 912 345-67-89", "externalId": "no-type"}
    ]);
    let (s, b) = upload(&app, &key, bad).await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(b["success"], false);
    assert_eq!(b["errorMsg"], "Errors in the entity format");
    let errors = b["errors"].as_object().unwrap();
    for field in
        ["calls[1].type", "calls[2].phone", "calls[3].phone", "calls[4].result", "calls[5].date", "calls[6].type"]
    {
        assert!(errors[field].is_string(), "{field}: {b}");
    }
    assert!(errors["calls[4].result"].as_str().unwrap().contains("hung up"), "{b}");
    assert_eq!(errors.len(), 6, "the good call has no error: {b}");

    // A refused batch stores nothing, the good call included.
    let (s, b) = upload(&app, &key, json!([call("ok-1")])).await;
    assert_eq!((s, b), (200, json!({"success": true, "processedCallsCount": 1, "duplicateCalls": []})));

    // Missing, empty, malformed and oversized lists.
    let (s, b) = app.post("/api/v5/telephony/calls/upload", &[]).await;
    assert_eq!((s.as_u16(), b), (400, json!({"success": false, "errorMsg": "Parameter 'calls' is missing"})));
    for body in ["[]", "{broken", "[1]"] {
        let (s, b) = app.post("/api/v5/telephony/calls/upload", &[("calls", body)]).await;
        assert_eq!(s, 400, "{body}: {b}");
        assert_eq!(b["errorMsg"], "Errors in the entity format", "{body}");
    }
    let many: Vec<Value> = (0..51).map(|i| call(&format!("many-{i}"))).collect();
    let (s, b) = upload(&app, &key, Value::Array(many)).await;
    assert_eq!(s, 400, "{b}");
    assert!(b["errors"]["calls"].as_str().unwrap().contains("50"), "{b}");
    let (s, b) = upload(&app, &key, json!([call("many-0")])).await;
    assert_eq!((s, &b["processedCallsCount"]), (200, &json!(1)), "nothing of the 51 was stored: {b}");
});

both!(calls_and_events_respect_sites, |app: TestApp| async move {
    app.add_site("shop-a").await;
    app.add_site("shop-b").await;
    let only_a = app.key_with(&["telephony_write", "telephony_read"], &["shop-a"]).await;
    let denied = json!({"success": false, "errorMsg": "Access denied."});
    let mut c = call("site-b");
    c["site"] = json!("shop-b");
    assert_eq!(upload(&app, &only_a, json!([c])).await, (403, denied.clone()));
    let mut c = call("site-a");
    c["site"] = json!("shop-a");
    let (s, b) = upload(&app, &only_a, json!([c])).await;
    assert_eq!((s, &b["processedCallsCount"]), (200, &json!(1)), "{b}");
    // The refused call was not stored.
    let (s, b) = upload(&app, &app.key.clone(), json!([call("site-b")])).await;
    assert_eq!((s, &b["processedCallsCount"]), (200, &json!(1)), "{b}");

    let e = json!({"phone": "+15550001", "type": "in", "codes": ["101"], "site": "shop-b"});
    assert_eq!(event(&app, &only_a, e).await, (403, denied));
    let e = json!({"phone": "+15550001", "type": "in", "codes": ["101"], "site": "shop-a"});
    assert_eq!(event(&app, &only_a, e).await, (200, json!({"success": true, "notExistCodes": ["101"]})));
});

both!(call_events, |app: TestApp| async move {
    let key = app.key.clone();
    let user = User {
        first_name: "Olga".into(),
        last_name: "Line".into(),
        code: Some("101".into()),
        active: true,
        ..Default::default()
    };
    let olga = app.store.create_user(&user).await.unwrap().id;
    for (e, answer) in [
        (
            json!({"phone": "+7 912 345-67-89", "type": "in", "codes": ["101", "102"]}),
            json!({"success": true, "notExistCodes": ["102"]}),
        ),
        (json!({"phone": "+7 912 345-67-89", "type": "out", "userIds": [olga]}), json!({"success": true})),
        (
            json!({"phone": "+7 912 345-67-89", "type": "out", "userIds": [olga, 999999]}),
            json!({"success": true, "notExistUsers": [999999]}),
        ),
        (
            json!({"phone": "79123456789", "type": "hangup", "codes": [101], "callExternalId": "x-1"}),
            json!({"success": true}),
        ),
        (json!({"phone": "79123456789", "type": "in", "codes": "101"}), json!({"success": true})),
    ] {
        assert_eq!(event(&app, &key, e.clone()).await, (200, answer), "{e}");
    }

    // Who to ring must be given: codes or userIds.
    for e in [
        json!({"phone": "+7 912 345-67-89", "type": "in"}),
        json!({"phone": "+7 912 345-67-89", "type": "in", "codes": [], "userIds": []}),
    ] {
        let (s, b) = event(&app, &key, e.clone()).await;
        assert_eq!(s, 400, "{e}: {b}");
        assert_eq!(b["errorMsg"], "Errors in the entity format");
        assert!(b["errors"]["event.codes"].is_string(), "{b}");
    }
    let (s, b) = event(&app, &key, json!({"phone": "1", "type": "ring", "codes": ["101"]})).await;
    assert_eq!(s, 400);
    assert!(b["errors"]["event.phone"].is_string(), "{b}");
    assert!(b["errors"]["event.type"].is_string(), "{b}");
    assert!(b["errors"].get("event.codes").is_none(), "{b}");

    let (s, b) = app.post("/api/v5/telephony/call/event", &[]).await;
    assert_eq!((s.as_u16(), b), (400, json!({"success": false, "errorMsg": "Parameter 'event' is missing"})));
    let (s, b) = app.post("/api/v5/telephony/call/event", &[("event", "not json")]).await;
    assert_eq!(s, 400);
    assert!(b["errors"]["event"].is_string(), "{b}");
});

both!(manager_by_phone, |app: TestApp| async move {
    let olga = app
        .store
        .create_user(&User {
            first_name: "Olga".into(),
            last_name: "Smirnova".into(),
            patronymic: Some("Petrovna".into()),
            email: Some("olga@example.com".into()),
            code: Some("101".into()),
            active: true,
            ..Default::default()
        })
        .await
        .expect("user");
    let other = app
        .store
        .create_user(&User { first_name: "Ivan".into(), last_name: "Other".into(), active: true, ..Default::default() })
        .await
        .expect("user");
    let ann = create_customer(
        &app,
        "default",
        json!({
            "externalId": "ann", "firstName": "Ann", "lastName": "Lee",
            "phones": [{"number": "+7 (912) 345-67-89"}, {"number": "+7 495 111-22-33"}],
            "managerId": olga.id
        }),
    )
    .await;
    let bob = create_customer(
        &app,
        "default",
        json!({"externalId": "bob", "firstName": "Bob", "phones": [{"number": "+1 555 000 1234"}], "managerId": other.id}),
    )
    .await;
    let nomgr = create_customer(&app, "default", json!({"firstName": "Lone", "phones": ["8 800 100-20-30"]})).await;

    let key = app.key.clone();
    let b = manager_for(&app, &key, "%2B7%20(912)%20345-67-89").await;
    assert_eq!(
        b["manager"],
        json!({
            "id": olga.id, "firstName": "Olga", "lastName": "Smirnova", "patronymic": "Petrovna",
            "email": "olga@example.com", "code": "101"
        })
    );
    assert_eq!(b["customer"]["id"], ann);
    assert_eq!(b["customer"]["externalId"], "ann");
    assert_eq!(b["customer"]["firstName"], "Ann");
    assert_eq!(b["customer"]["managerId"], olga.id);
    assert_eq!(b["customer"]["type"], "customer");
    assert!(b["links"]["customerLink"].as_str().unwrap().ends_with(&format!("/customers/{ann}")), "{b}");
    assert!(b["links"]["newOrderLink"].as_str().unwrap().contains(&format!("customerId={ann}")), "{b}");
    assert!(b["links"].get("lastOrderLink").is_none(), "no order yet: {b}");
    let order = json!({"customer": {"id": ann}, "firstName": "Ann"}).to_string();
    let (s, o) = app.post("/api/v5/orders/create", &[("order", &order)]).await;
    assert_eq!(s, 201, "{o}");
    let b = manager_for(&app, &key, "79123456789").await;
    let last = b["links"]["lastOrderLink"].as_str().unwrap_or_default().to_string();
    assert!(last.ends_with(&format!("/orders/{}/edit", o["id"])), "{b}");

    // The same number written any other way: only the digits count.
    for q in ["79123456789", "%2B79123456789", "7-912-345-67-89", "%2B7%20912%20345%2067%2089", "+7(912)3456789"] {
        let b = manager_for(&app, &key, q).await;
        assert_eq!(b["customer"]["id"], ann, "{q}");
        assert_eq!(b["manager"]["id"], olga.id, "{q}");
    }
    // The second phone finds her too.
    let b = manager_for(&app, &key, "74951112233").await;
    assert_eq!((b["customer"]["id"].as_i64(), b["manager"]["id"].as_i64()), (Some(ann), Some(olga.id)));
    // Another customer, another manager.
    let b = manager_for(&app, &key, "15550001234").await;
    assert_eq!((b["customer"]["id"].as_i64(), b["manager"]["id"].as_i64()), (Some(bob), Some(other.id)));
    // A customer without a manager: the customer alone.
    let b = manager_for(&app, &key, "8%20(800)%20100-20-30").await;
    assert_eq!(b["customer"]["id"], nomgr);
    assert!(b.get("manager").is_none(), "{b}");

    // Unknown numbers: success, nobody, and where to add the caller.
    for q in ["70000000000", "99999", "12"] {
        let b = manager_for(&app, &key, q).await;
        assert!(b.get("customer").is_none() && b.get("manager").is_none(), "{q}: {b}");
        let link = b["links"]["newCustomerLink"].as_str().unwrap_or_default();
        assert!(link.ends_with(&format!("/customers/add?phone={q}")), "{q}: {b}");
    }
    // A number that only contains a customer's number is not theirs.
    let b = manager_for(&app, &key, "791234567890").await;
    assert!(b.get("customer").is_none(), "{b}");

    let (s, b) = app.get("/api/v5/telephony/manager").await;
    assert_eq!((s.as_u16(), b), (400, json!({"success": false, "errorMsg": "Parameter 'phone' is missing"})));

    // The manager follows the customer's current managerId.
    let (s, _) = app
        .post(
            "/api/v5/customers/ann/edit",
            &[("customer", &json!({"managerId": other.id}).to_string()), ("site", "default")],
        )
        .await;
    assert_eq!(s, 200);
    let b = manager_for(&app, &key, "79123456789").await;
    assert_eq!(b["manager"]["id"], other.id);
    // and a changed phone no longer finds her by the old one.
    let (s, _) = app
        .post(
            "/api/v5/customers/ann/edit",
            &[("customer", r#"{"phones": [{"number": "+7 900 000-00-01"}]}"#), ("site", "default")],
        )
        .await;
    assert_eq!(s, 200);
    let b = manager_for(&app, &key, "79123456789").await;
    assert!(b.get("customer").is_none() && b["links"]["newCustomerLink"].is_string(), "{b}");
    let b = manager_for(&app, &key, "79000000001").await;
    assert_eq!(b["customer"]["id"], ann);
});

both!(manager_lookup_stays_within_the_keys_sites, |app: TestApp| async move {
    app.add_site("shop-a").await;
    app.add_site("shop-b").await;
    let in_b = create_customer(&app, "shop-b", json!({"externalId": "b1", "phones": ["+7 912 000-00-01"]})).await;
    let only_a = app.key_with(&["telephony_read"], &["shop-a"]).await;
    let b = manager_for(&app, &only_a, "79120000001").await;
    assert!(b.get("customer").is_none(), "a shop-b customer is invisible to a shop-a key: {b}");
    let b = manager_for(&app, &app.key.clone(), "79120000001").await;
    assert_eq!(b["customer"]["id"], in_b);

    // With the same number on both sites, each key finds its own site's customer.
    let in_a = create_customer(&app, "shop-a", json!({"externalId": "a1", "phones": ["+7 912 000-00-01"]})).await;
    let b = manager_for(&app, &only_a, "79120000001").await;
    assert_eq!(b["customer"]["id"], in_a);
    assert_eq!(b["customer"]["site"], "shop-a");
});

both!(telephony_scopes, |app: TestApp| async move {
    let denied = json!({"success": false, "errorMsg": "Access denied."});
    let reader = app.key_with(&["telephony_read"], &[]).await;
    let writer = app.key_with(&["telephony_write"], &[]).await;
    let neither = app.key_with(&["customer_read", "customer_write", "order_read", "order_write"], &[]).await;
    let ev = json!({"phone": "+15550001", "type": "in", "codes": ["101"]});

    for key in [&reader, &neither] {
        assert_eq!(upload(&app, key, json!([call("scoped")])).await, (403, denied.clone()));
        assert_eq!(event(&app, key, ev.clone()).await, (403, denied.clone()));
    }
    for key in [&writer, &neither] {
        let (s, b) = app.get_as(key, "/api/v5/telephony/manager?phone=15550001").await;
        assert_eq!((s.as_u16(), &b), (403, &denied));
    }
    // Refused uploads stored nothing: the writer's own upload of the same call is not a duplicate.
    let (s, b) = upload(&app, &writer, json!([call("scoped")])).await;
    assert_eq!((s, b), (200, json!({"success": true, "processedCallsCount": 1, "duplicateCalls": []})));
    assert_eq!(event(&app, &writer, ev).await, (200, json!({"success": true, "notExistCodes": ["101"]})));
    let (s, b) = app.get_as(&reader, "/api/v5/telephony/manager?phone=15550001").await;
    assert_eq!((s.as_u16(), b.get("customer")), (200, None));
});
