//! Every failure in docs/crm.md's error table gets its exact status and body, and changes nothing.

use crate::common::{TestApp, both};
use serde_json::json;

async fn order_count(app: &TestApp) -> u64 {
    let (_, b) = app.get("/api/v5/orders?limit=100").await;
    b["pagination"]["totalCount"].as_u64().unwrap()
}

both!(routes_verbs_keys_and_scopes, |app: TestApp| async move {
    let (s, b) = app.get("/api/v5/no-such-method").await;
    assert_eq!((s.as_u16(), b), (404, json!({"success": false, "errorMsg": "API method not found"})));

    let (s, b) = app.get("/api/v5/orders/create").await;
    assert_eq!((s.as_u16(), b), (405, json!({"success": false, "errorMsg": "Method Not Allowed"})));
    let r = app.client.delete(format!("{}/api/v5/orders", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["errorMsg"], "Method Not Allowed");

    let (s, b) = app.get_as("WRONG", "/api/v5/orders").await;
    assert_eq!((s.as_u16(), b), (403, json!({"success": false, "errorMsg": "Wrong \"apiKey\" value."})));

    let (s, b) = app.get_raw("/api/v5/orders").await;
    assert_eq!((s.as_u16(), b), (403, json!({"success": false, "errorMsg": "\"apiKey\" is missing."})));

    // The key also works as a query parameter and as a form field.
    let (s, _) = app.get_raw(&format!("/api/v5/orders?apiKey={}", app.key)).await;
    assert_eq!(s, 200);
    let form = format!("apiKey={}&order=%7B%22firstName%22%3A%22Tom%22%7D", app.key);
    let (s, b) = app.post_raw("/api/v5/orders/create", "application/x-www-form-urlencoded", form.into_bytes()).await;
    assert_eq!(s, 201, "{b}");

    let reader = app.key_with(&["order_read"], &[]).await;
    let before = order_count(&app).await;
    let (s, b) = app.post_as(&reader, "/api/v5/orders/create", &[("order", r#"{"firstName":"Ann"}"#)]).await;
    assert_eq!((s.as_u16(), b), (403, json!({"success": false, "errorMsg": "Access denied."})));
    assert_eq!(order_count(&app).await, before);
});

both!(sites_missing_and_foreign, |app: TestApp| async move {
    app.add_site("shop-a").await;
    app.add_site("shop-b").await;
    let before = order_count(&app).await;
    // The test key reaches three sites: a write must name one.
    let (s, b) = app.post("/api/v5/orders/create", &[("order", r#"{"firstName":"Ann"}"#)]).await;
    assert_eq!((s.as_u16(), b), (400, json!({"success": false, "errorMsg": "Parameter 'site' is missing"})));

    let only_a = app.key_with(&["order_read", "order_write"], &["shop-a"]).await;
    let (s, b) =
        app.post_as(&only_a, "/api/v5/orders/create", &[("order", r#"{"firstName":"Ann"}"#), ("site", "shop-b")]).await;
    assert_eq!((s.as_u16(), b), (403, json!({"success": false, "errorMsg": "Access denied."})));
    assert_eq!(order_count(&app).await, before);

    // A one-site key needs no site parameter.
    let (s, b) = app.post_as(&only_a, "/api/v5/orders/create", &[("order", r#"{"externalId":"x1"}"#)]).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["order"]["site"], "shop-a");
    // and sees only its site's orders.
    let (_, b) = app.get_as(&only_a, "/api/v5/orders").await;
    assert_eq!(b["pagination"]["totalCount"], 1);
    let (s, _) = app.get_as(&only_a, "/api/v5/orders?filter[sites][]=shop-b").await;
    assert_eq!(s, 403);
});

both!(bad_parameters_and_payloads, |app: TestApp| async move {
    let (s, b) = app.get("/api/v5/orders?limit=30").await;
    assert_eq!(s, 400);
    assert_eq!(b["success"], false);
    assert_eq!(b["errorMsg"], "Errors in the input parameters");
    assert!(b["errors"]["limit"].as_str().unwrap().contains("20, 50, 100"));
    let (s, b) = app.get("/api/v5/orders?page=0").await;
    assert_eq!((s.as_u16(), b["errors"]["page"].is_string()), (400, true));
    let (s, b) = app.get("/api/v5/orders?filter[createdAtFrom]=yesterday").await;
    assert_eq!(s, 400);
    assert!(b["errors"]["filter[createdAtFrom]"].is_string());

    let before = order_count(&app).await;
    let (s, b) = app.post("/api/v5/orders/create", &[("order", "{not json"), ("site", "default")]).await;
    assert_eq!(s, 400);
    assert_eq!(b["errorMsg"], "Errors in the entity format");
    assert!(b["errors"]["order"].as_str().unwrap().starts_with("Invalid JSON"));

    let (s, b) = app.post("/api/v5/orders/create", &[("site", "default")]).await;
    assert_eq!((s.as_u16(), b["errorMsg"].as_str().unwrap()), (400, "Parameter 'order' is missing"));

    let order = r#"{"items":[{"offer":{"id":123},"quantity":1}]}"#;
    let (s, b) = app.post("/api/v5/orders/create", &[("order", order), ("site", "default")]).await;
    assert_eq!(s, 400);
    assert_eq!(b["errors"]["items[0].offer.id"], "Offer with id 123 not found.");

    let order = r#"{"customer":{"externalId":"nobody"}}"#;
    let (s, b) = app.post("/api/v5/orders/create", &[("order", order), ("site", "default")]).await;
    assert_eq!(
        (s.as_u16(), b),
        (
            400,
            json!({"success": false, "errorMsg": "Order is not loaded",
                   "errors": {"customer.externalId": "Customer with externalId=nobody not found."}})
        )
    );
    let (s, b) = app.post("/api/v5/orders/create", &[("order", r#"{"customer":{"id":987654}}"#)]).await;
    assert_eq!((s.as_u16(), &b["errors"]["customer.id"]), (400, &json!("Customer with id=987654 not found.")));

    let order = r#"{"email":"not-an-email","status":"no-such-status"}"#;
    let (s, b) = app.post("/api/v5/orders/create", &[("order", order), ("site", "default")]).await;
    assert_eq!(s, 400);
    assert!(b["errors"]["email"].is_string(), "{b}");
    assert_eq!(order_count(&app).await, before, "no failure may leave an order behind");

    // Over the body limit (10 MB by default): 413 in the CRM envelope.
    let big = format!("site=default&order={}", "a".repeat(10 * 1024 * 1024 + 10));
    let (s, b) = app
        .post_raw(
            &format!("/api/v5/orders/create?apiKey={}", app.key),
            "application/x-www-form-urlencoded",
            big.into_bytes(),
        )
        .await;
    assert_eq!((s.as_u16(), b), (413, json!({"success": false, "errorMsg": "Request entity too large"})));
    assert_eq!(order_count(&app).await, before);
});

both!(ip_allow_list, |app: TestApp| async move {
    let plain = |p: &str| p.to_string();
    let make = |ips: Vec<std::net::IpAddr>, name: &str| torg_store::NewKey {
        plain: plain(name),
        name: name.into(),
        scopes: vec!["order_read".into()],
        sites: torg_domain::key::SiteAccess::Full,
        allowed_ips: ips,
        customer_external_id: None,
        distributor: None,
    };
    app.store.create_key(make(vec!["127.0.0.1".parse().unwrap()], "local-only-key")).await.unwrap();
    app.store.create_key(make(vec!["10.1.2.3".parse().unwrap()], "office-only-key")).await.unwrap();
    let (s, _) = app.get_as("local-only-key", "/api/v5/orders").await;
    assert_eq!(s, 200);
    let (s, b) = app.get_as("office-only-key", "/api/v5/orders").await;
    assert_eq!((s.as_u16(), b), (403, json!({"success": false, "errorMsg": "Access denied."})));
});
