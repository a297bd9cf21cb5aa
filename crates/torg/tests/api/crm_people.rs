//! Users, user groups and integration modules: stored, listed with RetailCRM's filters and shapes,
//! with their scopes; a module's scope request gives it a working key and revokes its last one.

use crate::common::{TestApp, both};
use serde_json::{Value, json};
use torg_domain::telephony::{User, UserGroup};

async fn seed_people(app: &TestApp) -> (i64, i64) {
    let attrs = json!({"grantedSites": ["default"], "breakdownOrderTypes": []}).as_object().cloned().unwrap();
    app.store
        .put_user_group(&UserGroup {
            code: "manager".into(),
            name: "Менеджеры".into(),
            is_manager: true,
            attrs,
            ..Default::default()
        })
        .await
        .unwrap();
    app.store
        .put_user_group(&UserGroup {
            code: "director".into(), name: "Руководители".into(), ..Default::default()
        })
        .await
        .unwrap();
    let anna = app
        .store
        .create_user(&User {
            first_name: "Anna".into(),
            last_name: "Smirnova".into(),
            email: Some("anna@example.com".into()),
            phone: Some("+79001112233".into()),
            active: true,
            is_manager: true,
            online: true,
            groups: vec!["manager".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    let boris = app
        .store
        .create_user(&User {
            first_name: "Boris".into(),
            last_name: "Ivanov".into(),
            email: Some("boris@example.com".into()),
            active: false,
            is_admin: true,
            groups: vec!["director".into(), "manager".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    (anna.id, boris.id)
}

fn ids(list: &Value) -> Vec<i64> {
    list.as_array().unwrap().iter().map(|u| u["id"].as_i64().unwrap()).collect()
}

both!(users_are_listed_filtered_and_read, |app: TestApp| async move {
    let (anna, boris) = seed_people(&app).await;
    let (s, b) = app.get("/api/v5/users").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(ids(&b["users"]), vec![anna, boris]);
    assert_eq!(b["pagination"], json!({"limit": 20, "totalCount": 2, "currentPage": 1, "totalPageCount": 1}));
    let first = &b["users"][0];
    assert_eq!(first["firstName"], "Anna");
    assert_eq!(first["phone"], "+79001112233", "a user's phone is one string");
    assert_eq!(first["status"], "free");
    assert_eq!(first["online"], true);
    assert!(first["createdAt"].as_str().unwrap().len() == 19, "Y-m-d H:i:s: {first}");
    assert_eq!(first["groups"][0]["code"], "manager");
    assert!(first["groups"][0]["id"].is_i64() && first["groups"][0]["name"] == "Менеджеры");

    for (query, expected) in [
        ("filter[active]=1", vec![anna]),
        ("filter[active]=0", vec![boris]),
        ("filter[isAdmin]=1", vec![boris]),
        ("filter[online]=1", vec![anna]),
        ("filter[email]=boris@example.com", vec![boris]),
        ("filter[groups][]=director", vec![boris]),
        ("filter[groups][]=manager", vec![anna, boris]),
        ("filter[status]=free", vec![anna, boris]),
        ("filter[createdAtFrom]=2000-01-01", vec![anna, boris]),
        ("filter[createdAtTo]=2000-01-01", vec![]),
    ] {
        let (s, b) = app.get(&format!("/api/v5/users?{query}")).await;
        assert_eq!(s, 200, "{query}: {b}");
        assert_eq!(ids(&b["users"]), expected, "{query}");
    }
    let (s, b) = app.get("/api/v5/users?filter[active]=3").await;
    assert_eq!((s.as_u16(), &b["errorMsg"]), (400, &json!("Errors in the input parameters")), "{b}");
    assert!(b["errors"]["filter[active]"].is_string(), "{b}");

    let (s, b) = app.get(&format!("/api/v5/users/{boris}")).await;
    assert_eq!(s, 200);
    assert_eq!(b["user"]["isAdmin"], true);
    assert_eq!(b["user"]["groups"].as_array().unwrap().len(), 2);
    let (s, b) = app.get("/api/v5/users/99999").await;
    assert_eq!((s.as_u16(), b), (404, json!({"success": false, "errorMsg": "Not found"})));
});

both!(user_status_changes_and_groups_list, |app: TestApp| async move {
    let (anna, _) = seed_people(&app).await;
    let (s, b) = app.post(&format!("/api/v5/users/{anna}/status"), &[("status", "busy")]).await;
    assert_eq!((s.as_u16(), b), (200, json!({"success": true})));
    let (_, b) = app.get(&format!("/api/v5/users/{anna}")).await;
    assert_eq!(b["user"]["status"], "busy");
    let (s, b) = app.post(&format!("/api/v5/users/{anna}/status"), &[("status", "asleep")]).await;
    assert_eq!(s, 400, "{b}");
    assert!(b["errors"]["status"].as_str().unwrap().contains("free, busy, dinner, break"), "{b}");
    let (s, _) = app.post("/api/v5/users/99999/status", &[("status", "busy")]).await;
    assert_eq!(s, 404);
    let (s, b) = app.post(&format!("/api/v5/users/{anna}/status"), &[]).await;
    assert_eq!((s.as_u16(), &b["errorMsg"]), (400, &json!("Parameter 'status' is missing")));

    let (s, b) = app.get("/api/v5/user-groups").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["pagination"]["totalCount"], 2);
    let manager = &b["groups"][0];
    assert_eq!(manager["code"], "manager");
    assert_eq!(manager["isManager"], true);
    assert_eq!(manager["grantedSites"], json!(["default"]));
    assert_eq!(manager["deliveryTypes"], json!([]));

    let reader = app.key_with(&["order_read"], &[]).await;
    let (s, _) = app.get_as(&reader, "/api/v5/users").await;
    assert_eq!(s, 403, "users need user_read");
    let users_only = app.key_with(&["user_read"], &[]).await;
    let (s, _) = app.post_as(&users_only, &format!("/api/v5/users/{anna}/status"), &[("status", "free")]).await;
    assert_eq!(s, 403, "a status change needs user_write");
});

both!(managers_of_orders_and_customers_are_users, |app: TestApp| async move {
    let (anna, _) = seed_people(&app).await;
    let order = json!({"externalId": "m-1", "firstName": "Ivan", "managerId": anna});
    let (s, b) = app.post("/api/v5/orders/create", &[("order", &order.to_string())]).await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = app.post("/api/v5/orders/create", &[("order", r#"{"externalId":"m-2","managerId":424242}"#)]).await;
    assert_eq!(s, 400, "{b}");
    assert!(b["errors"]["managerId"].is_string(), "{b}");
    let (_, b) = app.get(&format!("/api/v5/users/{anna}")).await;
    assert_eq!(b["user"]["id"], anna);
});

async fn module(app: &TestApp, key: Option<&str>, code: &str, doc: Value) -> (u16, Value) {
    let path = format!("/api/v5/integration-modules/{code}/edit");
    let body = doc.to_string();
    let (s, b) = match key {
        Some(k) => app.post_as(k, &path, &[("integrationModule", &body)]).await,
        None => app.post(&path, &[("integrationModule", &body)]).await,
    };
    (s.as_u16(), b)
}

both!(integration_modules_register_and_get_their_own_key, |app: TestApp| async move {
    let doc = json!({
        "code": "ignored-body-code", "integrationCode": "woo-torg", "active": true, "name": "WooCommerce",
        "clientId": "client-1", "baseUrl": "https://shop.example/", "accountUrl": "https://shop.example/settings",
        "actions": {"activity": "/activity"}, "availableCountries": ["RU"],
    });
    assert_eq!(module(&app, None, "woo", doc.clone()).await.0, 201, "registered");
    assert_eq!(module(&app, None, "woo", json!({"name": "WooCommerce 2"})).await.0, 200, "changed");
    let (s, b) = app.get("/api/v5/integration-modules/woo").await;
    assert_eq!(s, 200, "{b}");
    let m = &b["integrationModule"];
    assert_eq!((m["code"].as_str(), m["name"].as_str()), (Some("woo"), Some("WooCommerce 2")));
    assert_eq!((m["clientId"].as_str(), m["freeze"].as_bool()), (Some("client-1"), Some(false)));
    assert_eq!(m["actions"], json!({"activity": "/activity"}));
    let (s, _) = app.get("/api/v5/integration-modules/nope").await;
    assert_eq!(s, 404);

    let (s, b) = module(&app, None, "bad", json!({"baseUrl": "https://x.example"})).await;
    assert_eq!(s, 400, "a new module needs a name: {b}");
    assert!(b["errors"]["integrationModule.name"].is_string());
    let (s, b) = module(&app, None, "bad", json!({"name": "Bad", "baseUrl": "ftp:/x"})).await;
    assert_eq!(s, 400, "{b}");

    let requires = json!({"scopes": ["order_read", "integration_read"]}).to_string();
    let (s, b) = app.post("/api/v5/integration-modules/woo/update-scopes", &[("requires", &requires)]).await;
    assert_eq!(s, 200, "{b}");
    let first = b["apiKey"].as_str().unwrap().to_string();
    let (s, b) = app.get_as(&first, "/api/credentials").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["scopes"], json!(["order_read", "integration_read"]));
    let (s, _) = app.get_as(&first, "/api/v5/integration-modules/woo").await;
    assert_eq!(s, 200, "the module reads itself with its own key");
    let (s, _) = app.get_as(&first, "/api/v5/customers").await;
    assert_eq!(s, 403, "only the scopes it asked for");

    let (s, b) = app.post("/api/v5/integration-modules/woo/update-scopes", &[("requires", &requires)]).await;
    assert_eq!(s, 200);
    let second = b["apiKey"].as_str().unwrap().to_string();
    assert_ne!(first, second);
    let (s, b) = app.get_as(&first, "/api/credentials").await;
    assert_eq!((s.as_u16(), &b["errorMsg"]), (403, &json!("Wrong \"apiKey\" value.")), "the old key is revoked");
    assert_eq!(app.get_as(&second, "/api/credentials").await.0, 200);

    let (s, b) = app
        .post("/api/v5/integration-modules/woo/update-scopes", &[("requires", r#"{"scopes":["everything"]}"#)])
        .await;
    assert_eq!(s, 400, "{b}");
    assert!(b["errors"]["requires.scopes[0]"].is_string(), "{b}");
    assert_eq!(module(&app, None, "plain", json!({"name": "No client id"})).await.0, 201);
    let (s, b) = app.post("/api/v5/integration-modules/plain/update-scopes", &[("requires", &requires)]).await;
    assert_eq!((s.as_u16(), b), (400, json!({"success": false, "errorMsg": "Not enabled simple connection"})));
    let (s, _) = app.post("/api/v5/integration-modules/nope/update-scopes", &[("requires", &requires)]).await;
    assert_eq!(s, 404);

    let reader = app.key_with(&["integration_read"], &[]).await;
    assert_eq!(module(&app, Some(&reader), "woo", json!({"name": "x"})).await.0, 403);
});

both!(a_delivery_module_gets_a_delivery_type_and_an_mg_module_a_channel, |app: TestApp| async move {
    let doc = json!({"name": "Carrier", "integrationCode": "carrier-x", "integrations": {"delivery": {"actions": {}}}});
    let (s, b) = module(&app, None, "carrier", doc).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["info"]["deliveryType"]["code"], "carrier-x");
    assert!(b["info"]["deliveryType"]["id"].as_i64().unwrap() > 0);
    let (_, b) = app.get("/api/v5/reference/delivery-types").await;
    assert_eq!(b["deliveryTypes"]["carrier-x"]["name"], "Carrier");

    let (_, b) = app.get("/api/v5/reference/mg-channels").await;
    assert_eq!(b["mgChannels"], json!([]));
    let doc = json!({"name": "Telegram", "integrationCode": "telegram", "integrations": {"mgTransport": {"webhookUrl": "https://t.example/hook"}}});
    assert_eq!(module(&app, None, "mg-telegram", doc).await.0, 201);
    let (_, b) = app.get("/api/v5/reference/mg-channels").await;
    let channels = b["mgChannels"].as_array().unwrap();
    assert_eq!(channels.len(), 1, "{b}");
    assert_eq!((channels[0]["type"].as_str(), channels[0]["active"].as_bool()), (Some("telegram"), Some(true)));
});
