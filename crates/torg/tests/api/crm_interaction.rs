//! Customer interaction: a shop's cart for its customer (set, read back with its offers, cleared by an
//! order) and favourites, by site code or id and customer external id or id; errors and site access.

use crate::common::{TestApp, both};
use serde_json::{Value, json};

async fn offer(app: &TestApp, ext: &str) -> i64 {
    let products = json!([{"externalId": format!("p-{ext}"), "name": ext, "offers": [{"externalId": ext, "xmlId": format!("x-{ext}"), "name": format!("Товар {ext}"), "price": 10}]}]);
    let (s, b) = app.post("/api/v5/store/products/batch/create", &[("products", &products.to_string())]).await;
    assert_eq!(s, 200, "{b}");
    let (_, b) = app.get(&format!("/api/v5/store/offers?filter[externalIds][]={ext}")).await;
    b["offers"][0]["id"].as_i64().unwrap()
}

both!(a_cart_is_set_read_and_cleared, |app: TestApp| async move {
    let a = offer(&app, "cart-a").await;
    offer(&app, "cart-b").await;
    let (s, c) =
        app.post("/api/v5/customers/create", &[("customer", r#"{"externalId":"shopper","firstName":"Ira"}"#)]).await;
    assert_eq!(s, 201, "{c}");
    let id = c["id"].as_i64().unwrap();
    let cart = json!({"externalId": "cart-1", "droppedAt": "2024-05-08 15:10:30-05:00", "link": "https://shop.example/cart/1",
        "currency": "RUB", "customer": {"externalId": "shopper"},
        "items": [{"quantity": 2, "price": 24.99, "offer": {"id": a}}, {"quantity": "1.5", "price": "10", "offer": {"xmlId": "x-cart-b"}}]});
    let (s, b) = app.post("/api/v5/customer-interaction/default/cart/set", &[("cart", &cart.to_string())]).await;
    assert_eq!((s.as_u16(), b), (200, json!({"success": true})));
    let (s, b) = app.get("/api/v5/customer-interaction/default/cart/shopper").await;
    assert_eq!(s, 200, "{b}");
    let got = &b["cart"];
    assert_eq!((got["externalId"].as_str(), got["currency"].as_str()), (Some("cart-1"), Some("RUB")));
    assert_eq!(got["droppedAt"], "2024-05-08 23:10:30+03:00", "in the configured zone, with its offset");
    assert_eq!(got["items"][0]["offer"]["externalId"], "cart-a");
    assert_eq!(got["items"][0]["price"], json!(24.99));
    assert_eq!(got["items"][1]["offer"]["xmlId"], "x-cart-b");
    let site_id = app.get("/api/v5/reference/sites").await.1["sites"]["default"]["id"].as_i64().unwrap();
    let (s, b) = app.get(&format!("/api/v5/customer-interaction/{site_id}/cart/{id}?siteBy=id&by=id")).await;
    assert_eq!((s.as_u16(), &b["cart"]["externalId"]), (200, &json!("cart-1")), "by ids: {b}");

    let (s, o) = app
        .post(
            "/api/v5/orders/create",
            &[("order", r#"{"externalId":"from-cart","customer":{"externalId":"shopper"}}"#)],
        )
        .await;
    assert_eq!(s, 201, "{o}");
    let clear =
        json!({"clearedAt": "2024-05-09 10:00:00+03:00", "customer": {"id": id}, "order": {"externalId": "from-cart"}});
    let (s, _) = app.post("/api/v5/customer-interaction/default/cart/clear", &[("cart", &clear.to_string())]).await;
    assert_eq!(s, 200);
    let (_, b) = app.get("/api/v5/customer-interaction/default/cart/shopper").await;
    assert_eq!(b["cart"]["items"], json!([]));
    assert_eq!(b["cart"]["order"]["id"], o["id"]);
    assert_eq!(b["cart"]["clearedAt"], "2024-05-09 10:00:00+03:00");

    for (doc, field) in [
        (json!({"items": []}), "cart.customer"),
        (
            json!({"customer": {"id": id}, "items": [{"quantity": 1, "offer": {"externalId": "ghost"}}]}),
            "cart.items[0].offer",
        ),
        (json!({"customer": {"id": id}, "items": [{"quantity": 0, "offer": {"id": a}}]}), "cart.items[0].quantity"),
        (json!({"customer": {"id": id}, "droppedAt": "yesterday"}), "cart.droppedAt"),
    ] {
        let (s, b) = app.post("/api/v5/customer-interaction/default/cart/set", &[("cart", &doc.to_string())]).await;
        assert_eq!(s, 400, "{doc}: {b}");
        assert!(b["errors"][field].is_string(), "{doc}: {b}");
    }
    let (_, b) = app.get("/api/v5/customer-interaction/default/cart/shopper").await;
    assert_eq!(b["cart"]["items"], json!([]), "a refused cart changed nothing");
    assert_eq!(app.get("/api/v5/customer-interaction/default/cart/nobody").await.0, 404);
    app.add_site("other").await;
    let limited = app.key_with(&["customer_read", "customer_write"], &["other"]).await;
    assert_eq!(app.get_as(&limited, "/api/v5/customer-interaction/default/cart/shopper").await.0, 403);
});

both!(favorites_are_added_listed_and_removed, |app: TestApp| async move {
    offer(&app, "fav-a").await;
    let b_id = offer(&app, "fav-b").await;
    let (s, _) =
        app.post("/api/v5/customers/create", &[("customer", r#"{"externalId":"fan","firstName":"Oleg"}"#)]).await;
    assert_eq!(s, 201);
    let add = |o: Value| json!({"offer": o}).to_string();
    for o in [json!({"externalId": "fav-a"}), json!({"id": b_id}), json!({"xmlId": "x-fav-a"})] {
        let (s, b) = app.post("/api/v5/customer-interaction/default/favorites/fan/add", &[("favorite", &add(o))]).await;
        assert_eq!((s.as_u16(), b), (200, json!({"success": true})));
    }
    let (s, b) = app.get("/api/v5/customer-interaction/default/favorites/fan").await;
    assert_eq!(s, 200, "{b}");
    let list = b["favorites"].as_array().unwrap();
    assert_eq!(list.len(), 2, "adding twice keeps one: {b}");
    assert_eq!(b["cart"], b["favorites"], "the Go client reads `cart`");
    assert!(list.iter().all(|f| f["createdAt"].as_str().unwrap().len() == 25), "{b}");
    let (s, _) = app
        .post(
            "/api/v5/customer-interaction/default/favorites/fan/remove",
            &[("favorite", &add(json!({"externalId": "fav-a"})))],
        )
        .await;
    assert_eq!(s, 200);
    let (_, b) = app.get("/api/v5/customer-interaction/default/favorites/fan").await;
    assert_eq!(b["favorites"][0]["offer"]["id"], b_id);
    let (s, b) = app
        .post(
            "/api/v5/customer-interaction/default/favorites/fan/add",
            &[("favorite", &add(json!({"externalId": "ghost"})))],
        )
        .await;
    assert_eq!(s, 400, "{b}");
    assert!(b["errors"]["favorite.offer"].is_string());
    let (s, _) =
        app.post("/api/v5/customer-interaction/default/favorites/fan/add", &[("favorite", &add(json!({})))]).await;
    assert_eq!(s, 400);

    // Combining keeps the survivor's favourites and adds the other's.
    let (s, keep) =
        app.post("/api/v5/customers/create", &[("customer", r#"{"externalId":"keeper","firstName":"K"}"#)]).await;
    assert_eq!(s, 201);
    let (_, fan) = app.get("/api/v5/customers/fan").await;
    let customers = json!([{"id": fan["customer"]["id"]}]).to_string();
    let result = json!({"id": keep["id"]}).to_string();
    let (s, b) = app.post("/api/v5/customers/combine", &[("customers", &customers), ("resultCustomer", &result)]).await;
    assert_eq!(s, 200, "{b}");
    let (_, b) = app.get("/api/v5/customer-interaction/default/favorites/keeper").await;
    assert_eq!(b["favorites"].as_array().map(Vec::len), Some(1), "{b}");
});

both!(web_analytics_writes_onto_orders_and_customers, |app: TestApp| async move {
    let (s, o) = app.post("/api/v5/orders/create", &[("order", r#"{"externalId":"wa-1","firstName":"Web"}"#)]).await;
    assert_eq!(s, 201, "{o}");
    let (s, _) =
        app.post("/api/v5/customers/create", &[("customer", r#"{"externalId":"wa-c","firstName":"Web"}"#)]).await;
    assert_eq!(s, 201);
    let ids = json!([{"value": "GA1.2.3", "order": {"externalId": "wa-1"}}, {"value": "GA1.9.9", "customer": {"externalId": "wa-c"}},
                     {"value": "GA1.0.0", "order": {"id": 999999}}]);
    let (s, b) = app.post("/api/v5/web-analytics/client-ids/upload", &[("clientIds", &ids.to_string())]).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["failed_client_ids"].as_array().map(Vec::len), Some(1), "the unknown order comes back: {b}");
    assert_eq!(app.get("/api/v5/orders/wa-1").await.1["order"]["clientId"], "GA1.2.3");
    assert_eq!(app.get("/api/v5/customers/wa-c").await.1["customer"]["clientId"], "GA1.9.9");

    let sources = json!([{"source": "yandex", "medium": "cpc", "campaign": "spring", "order": {"externalId": "wa-1"}}]);
    let (s, b) = app.post("/api/v5/web-analytics/sources/upload", &[("sources", &sources.to_string())]).await;
    assert_eq!((s.as_u16(), b), (201, json!({"success": true})));
    let (_, b) = app.get("/api/v5/orders/wa-1").await;
    assert_eq!(b["order"]["source"]["source"], "yandex");
    let (_, b) = app.get("/api/v5/orders?filter[sourceName]=yandex").await;
    assert_eq!(b["pagination"]["totalCount"], 1, "the source is filterable: {b}");

    let visits = json!([{"createdAt": "2026-03-01 12:00:00", "clientId": "GA1.2.3", "visitLength": 120, "pages": [{"url": "/a", "title": "A"}]},
                        {"clientId": "GA1.2.3"}]);
    let (s, b) = app.post("/api/v5/web-analytics/visits/upload", &[("visits", &visits.to_string())]).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["failed_visits"].as_array().map(Vec::len), Some(1), "a visit without a date: {b}");
    let stored = app.store.visits_of("GA1.2.3").await.unwrap();
    assert_eq!((stored.len(), &stored[0].doc["visitLength"]), (1, &json!(120)));
});

both!(notifications_reach_users_and_groups, |app: TestApp| async move {
    use torg_domain::telephony::{User, UserGroup};
    app.store
        .put_user_group(&UserGroup { code: "sales".into(), name: "Sales".into(), ..Default::default() })
        .await
        .unwrap();
    let a = app
        .store
        .create_user(&User {
            first_name: "A".into(),
            last_name: "A".into(),
            active: true,
            groups: vec!["sales".into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .id;
    let b_id = app
        .store
        .create_user(&User { first_name: "B".into(), last_name: "B".into(), active: true, ..Default::default() })
        .await
        .unwrap()
        .id;
    let n = json!({"type": "api.info", "message": "Новый заказ", "userIds": [a, b_id], "userGroups": ["sales"]});
    let (s, b) = app.post("/api/v5/notifications/send", &[("notification", &n.to_string())]).await;
    assert_eq!((s.as_u16(), b), (200, json!({"success": true})));
    assert_eq!(app.store.notifications_of(a).await.unwrap().len(), 1, "once, though named twice");
    assert_eq!(app.store.notifications_of(b_id).await.unwrap()[0].message, "Новый заказ");
    for (doc, field) in [
        (json!({"type": "api.shout", "message": "x", "userIds": [a]}), "notification.type"),
        (json!({"type": "api.info", "message": "", "userIds": [a]}), "notification.message"),
        (json!({"type": "api.info", "message": "x"}), "notification.userIds"),
        (json!({"type": "api.info", "message": "x", "userIds": [987654]}), "notification.userIds[0]"),
        (json!({"type": "api.info", "message": "x", "userGroups": ["nobody"]}), "notification.userGroups[0]"),
    ] {
        let (s, b) = app.post("/api/v5/notifications/send", &[("notification", &doc.to_string())]).await;
        assert_eq!(s, 400, "{doc}: {b}");
        assert!(b["errors"][field].is_string(), "{doc}: {b}");
    }
    assert_eq!(app.store.notifications_of(a).await.unwrap().len(), 1, "refusals sent nothing");
});

both!(a_nul_character_is_stored_not_a_server_error, |app: TestApp| async move {
    let customer = json!({"externalId": "nul", "firstName": "A\u{0}B"}).to_string();
    let (s, b) = app.post("/api/v5/customers/create", &[("customer", &customer)]).await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = app.get("/api/v5/customers/nul").await;
    assert_eq!(s, 200, "{b}");
    let name = b["customer"]["firstName"].as_str().unwrap();
    assert!(name == "A\u{0}B" || name == "A\u{fffd}B", "{name:?}");
});

both!(an_order_prints_its_plates, |app: TestApp| async move {
    let order = json!({"externalId": "print-1", "firstName": "Анна", "lastName": "Смирнова",
        "delivery": {"cost": 300, "address": {"text": "Москва, Тверская 1"}},
        "items": [{"productName": "Фильтр масляный", "initialPrice": 450, "quantity": 2}]});
    let (s, o) = app.post("/api/v5/orders/create", &[("order", &order.to_string())]).await;
    assert_eq!(s, 201, "{o}");
    let number = o["order"]["number"].as_str().unwrap().to_string();
    let fetch = |plate: &str, by_id: bool| {
        let path = if by_id {
            format!("{}/api/v5/orders/{}/plates/{plate}/print?by=id", app.base, o["id"])
        } else {
            format!("{}/api/v5/orders/print-1/plates/{plate}/print", app.base)
        };
        app.client.get(path).header("X-API-KEY", app.key.clone()).send()
    };
    let r = fetch("1", false).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(r.headers()["content-disposition"].to_str().unwrap().starts_with("attachment; filename="));
    let html = r.text().await.unwrap();
    for part in [
        number.as_str(),
        "Счёт на оплату",
        "Фильтр масляный",
        "900.00",
        "300.00",
        "1200.00",
        "Смирнова Анна",
        "Тверская",
    ] {
        assert!(html.contains(part), "{part} in {html}");
    }
    let html = fetch("2", true).await.unwrap().text().await.unwrap();
    assert!(
        html.contains("Упаковочный лист") && html.contains("Фильтр масляный") && !html.contains("Всего к оплате"),
        "{html}"
    );
    let r = fetch("9", false).await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"success": false, "errorMsg": "Plate not found"}));
    let (s, _) = app.get("/api/v5/orders/nobody/plates/1/print").await;
    assert_eq!(s, 404);
    let stranger = app.key_with(&["customer_read"], &[]).await;
    assert_eq!(app.get_as(&stranger, "/api/v5/orders/print-1/plates/1/print").await.0, 403);
});
