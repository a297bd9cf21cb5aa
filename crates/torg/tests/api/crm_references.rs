//! Reference books (docs/crm.md): every book in its exact container shape, the defaults a new
//! database starts with, `/{code}/edit` upserts (201 created, 200 updated, `{"success":true}`), the path
//! code winning over the body's, validation errors and the `reference_*` scopes.

use crate::common::{TestApp, both};
use serde_json::{Value, json};

/// The books RetailCRM lists as objects keyed by code: (path, response member).
const MAP_BOOKS: &[(&str, &str)] = &[
    ("sites", "sites"),
    ("statuses", "statuses"),
    ("status-groups", "statusGroups"),
    ("order-types", "orderTypes"),
    ("order-methods", "orderMethods"),
    ("payment-types", "paymentTypes"),
    ("payment-statuses", "paymentStatuses"),
    ("delivery-types", "deliveryTypes"),
    ("product-statuses", "productStatuses"),
];

/// The books RetailCRM lists as arrays: (path, response member).
const LIST_BOOKS: &[(&str, &str)] = &[("stores", "stores"), ("price-types", "priceTypes")];

/// The editable books keyed by code: (path, response member, form field).
const EDITABLE_MAP_BOOKS: &[(&str, &str, &str)] = &[
    ("order-types", "orderTypes", "orderType"),
    ("order-methods", "orderMethods", "orderMethod"),
    ("payment-types", "paymentTypes", "paymentType"),
    ("payment-statuses", "paymentStatuses", "paymentStatus"),
    ("delivery-types", "deliveryTypes", "deliveryType"),
    ("product-statuses", "productStatuses", "productStatus"),
];

async fn book(app: &TestApp, path: &str, member: &str) -> Value {
    let (s, b) = app.get(&format!("/api/v5/reference/{path}")).await;
    assert_eq!(s, 200, "{path}: {b}");
    assert_eq!(b["success"], true, "{path}: {b}");
    b[member].clone()
}

/// Codes of a list book.
fn codes(list: &Value) -> Vec<String> {
    list.as_array().expect("an array").iter().map(|e| e["code"].as_str().expect("code").to_string()).collect()
}

async fn edit(app: &TestApp, path: &str, code: &str, field: &str, entity: Value) -> (u16, Value) {
    let (s, b) = app.post(&format!("/api/v5/reference/{path}/{code}/edit"), &[(field, &entity.to_string())]).await;
    (s.as_u16(), b)
}

both!(every_book_has_its_container_shape, |app: TestApp| async move {
    for (path, member) in MAP_BOOKS {
        let v = book(&app, path, member).await;
        let map = v.as_object().unwrap_or_else(|| panic!("{member} must be an object keyed by code, got {v}"));
        assert!(!map.is_empty(), "{member} starts with defaults");
        for (code, entry) in map {
            assert_eq!(entry["code"], json!(code), "{member}: key is the code");
            assert!(entry["name"].is_string(), "{member}.{code}.name: {entry}");
            if *path != "sites" {
                assert!(entry["active"].is_boolean(), "{member}.{code}: {entry}");
                assert!(entry["ordering"].is_i64(), "{member}.{code}: {entry}");
            }
        }
    }
    for (path, member) in LIST_BOOKS {
        let v = book(&app, path, member).await;
        let list = v.as_array().unwrap_or_else(|| panic!("{member} must be an array, got {v}"));
        assert!(!list.is_empty(), "{member} starts with defaults");
        for entry in list {
            assert!(entry["code"].is_string(), "{member}: {entry}");
            assert!(entry["name"].is_string(), "{member}: {entry}");
            assert!(entry["active"].is_boolean(), "{member}: {entry}");
        }
    }
});

both!(a_new_database_has_the_defaults, |app: TestApp| async move {
    let sites = book(&app, "sites", "sites").await;
    assert_eq!(sites.as_object().unwrap().keys().collect::<Vec<_>>(), vec!["default"]);
    let site = &sites["default"];
    assert!(site["id"].is_i64(), "{site}");
    assert_eq!(site["currency"], "RUB");
    assert_eq!(site["countryIso"], "RU");

    let stores = book(&app, "stores", "stores").await;
    assert_eq!(codes(&stores), vec!["main"]);
    assert_eq!(stores[0]["type"], "store-type-warehouse");
    assert_eq!(stores[0]["inventoryType"], "integer");
    assert_eq!(stores[0]["active"], true);

    let statuses = book(&app, "statuses", "statuses").await;
    for (code, group) in [
        ("new", "new"),
        ("awaiting-payment", "approval"),
        ("assembling", "assembling"),
        ("delivering", "delivery"),
        ("complete", "complete"),
        ("cancel-other", "cancel"),
    ] {
        assert_eq!(statuses[code]["group"], group, "status {code}");
        assert_eq!(statuses[code]["active"], true, "status {code}");
    }
    assert_eq!(statuses.as_object().unwrap().len(), 18);

    let groups = book(&app, "status-groups", "statusGroups").await;
    let group_codes: Vec<&String> = groups.as_object().unwrap().keys().collect();
    for g in ["new", "approval", "assembling", "delivery", "complete", "cancel"] {
        assert!(group_codes.iter().any(|c| *c == g), "group {g} in {group_codes:?}");
    }
    assert_eq!(groups["new"]["process"], true);
    assert_eq!(groups["complete"]["process"], false);

    let types = book(&app, "order-types", "orderTypes").await;
    assert_eq!(types["eshop-individual"]["defaultForApi"], true);
    assert_eq!(types["eshop-legal"]["defaultForApi"], false);
    let methods = book(&app, "order-methods", "orderMethods").await;
    assert_eq!(methods["shopping-cart"]["defaultForApi"], true);
    assert!(methods["phone"].is_object());
    let payment_types = book(&app, "payment-types", "paymentTypes").await;
    for code in ["cash", "bank-card", "bank-transfer"] {
        assert!(payment_types[code].is_object(), "payment type {code}");
    }
    let payment_statuses = book(&app, "payment-statuses", "paymentStatuses").await;
    assert_eq!(payment_statuses["paid"]["paymentComplete"], true);
    assert_eq!(payment_statuses["not-paid"]["paymentComplete"], false);
    let delivery = book(&app, "delivery-types", "deliveryTypes").await;
    assert!(delivery["courier"]["defaultCost"].is_number());
    assert!(delivery["self-delivery"].is_object());
    let product_statuses = book(&app, "product-statuses", "productStatuses").await;
    assert_eq!(product_statuses["new"]["cancelStatus"], false);
    assert_eq!(product_statuses["canceled"]["cancelStatus"], true);

    let prices = book(&app, "price-types", "priceTypes").await;
    assert_eq!(codes(&prices), vec!["base"]);
    assert_eq!(prices[0]["default"], true);
    assert!(prices[0]["id"].is_i64(), "{prices}");
});

both!(status_groups_list_their_statuses, |app: TestApp| async move {
    let groups = book(&app, "status-groups", "statusGroups").await;
    let statuses = book(&app, "statuses", "statuses").await;
    // Every group lists exactly the statuses that name it.
    for (g, entry) in groups.as_object().unwrap() {
        let mut listed: Vec<String> = entry["statuses"]
            .as_array()
            .unwrap_or_else(|| panic!("statusGroups.{g}.statuses must be an array: {entry}"))
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect();
        listed.sort();
        let mut expected: Vec<String> = statuses
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, s)| s["group"] == json!(g))
            .map(|(c, _)| c.clone())
            .collect();
        expected.sort();
        assert_eq!(listed, expected, "group {g}");
    }
    let mut cancel: Vec<Value> = groups["cancel"]["statuses"].as_array().unwrap().clone();
    cancel.sort_by_key(|v| v.as_str().unwrap().to_string());
    assert_eq!(cancel, vec![json!("cancel-other"), json!("no-call"), json!("no-product")]);

    // A new status joins its group; moving it moves it between groups.
    let (s, b) =
        edit(&app, "statuses", "waiting-parts", "status", json!({"name": "Ждём запчасти", "group": "assembling"}))
            .await;
    assert_eq!((s, &b), (201, &json!({"success": true})));
    let groups = book(&app, "status-groups", "statusGroups").await;
    assert!(groups["assembling"]["statuses"].as_array().unwrap().contains(&json!("waiting-parts")));
    let (s, _) =
        edit(&app, "statuses", "waiting-parts", "status", json!({"name": "Ждём запчасти", "group": "delivery"})).await;
    assert_eq!(s, 200);
    let groups = book(&app, "status-groups", "statusGroups").await;
    assert!(!groups["assembling"]["statuses"].as_array().unwrap().contains(&json!("waiting-parts")));
    assert!(groups["delivery"]["statuses"].as_array().unwrap().contains(&json!("waiting-parts")));
    let statuses = book(&app, "statuses", "statuses").await;
    assert_eq!(statuses["waiting-parts"]["group"], "delivery");
    assert_eq!(statuses["waiting-parts"]["name"], "Ждём запчасти");
});

both!(edits_create_then_update, |app: TestApp| async move {
    for (path, member, field) in EDITABLE_MAP_BOOKS {
        let (s, b) =
            edit(&app, path, "t-new", field, json!({"code": "t-new", "name": "First name", "ordering": 7})).await;
        assert_eq!((s, &b), (201, &json!({"success": true})), "{path} create");
        let v = book(&app, path, member).await;
        assert_eq!(v["t-new"]["name"], "First name", "{path}");
        assert_eq!(v["t-new"]["code"], "t-new", "{path}");
        assert_eq!(v["t-new"]["ordering"], 7, "{path}");
        assert_eq!(v["t-new"]["active"], true, "{path}");

        let (s, b) = edit(&app, path, "t-new", field, json!({"name": "Second name", "active": false})).await;
        assert_eq!((s, &b), (200, &json!({"success": true})), "{path} update");
        let v = book(&app, path, member).await;
        assert_eq!(v["t-new"]["name"], "Second name", "{path}");
        assert_eq!(v["t-new"]["active"], false, "{path}");
        let count = v.as_object().unwrap().keys().filter(|k| *k == "t-new").count();
        assert_eq!(count, 1, "{path}: an update does not add an entry");
    }

    // Statuses (with their group).
    let (s, b) = edit(&app, "statuses", "t-status", "status", json!({"name": "T", "group": "new"})).await;
    assert_eq!((s, &b), (201, &json!({"success": true})));
    let (s, b) = edit(&app, "statuses", "t-status", "status", json!({"name": "T2", "group": "new"})).await;
    assert_eq!((s, &b), (200, &json!({"success": true})));
    assert_eq!(book(&app, "statuses", "statuses").await["t-status"]["name"], "T2");

    // Sites (the form field `site` holds the entity).
    let (s, b) =
        edit(&app, "sites", "shop", "site", json!({"name": "Shop", "url": "https://shop.example", "currency": "EUR"}))
            .await;
    assert_eq!((s, &b), (201, &json!({"success": true})));
    let sites = book(&app, "sites", "sites").await;
    assert_eq!(sites["shop"]["name"], "Shop");
    assert_eq!(sites["shop"]["url"], "https://shop.example");
    assert_eq!(sites["shop"]["currency"], "EUR");
    assert!(sites["shop"]["id"].is_i64());
    assert_ne!(sites["shop"]["id"], sites["default"]["id"]);
    let (s, b) = edit(&app, "sites", "shop", "site", json!({"name": "Shop 2"})).await;
    assert_eq!((s, &b), (200, &json!({"success": true})));
    assert_eq!(book(&app, "sites", "sites").await["shop"]["name"], "Shop 2");

    // Stores: an array, so look the entry up.
    let (s, b) = edit(
        &app,
        "stores",
        "north",
        "store",
        json!({"name": "North", "type": "store-type-retail", "address": {"city": "Тверь"}}),
    )
    .await;
    assert_eq!((s, &b), (201, &json!({"success": true})));
    let stores = book(&app, "stores", "stores").await;
    assert_eq!(codes(&stores), vec!["main", "north"]);
    let north = &stores[1];
    assert_eq!(north["name"], "North");
    assert_eq!(north["type"], "store-type-retail");
    assert_eq!(north["address"]["city"], "Тверь");
    let (s, b) = edit(&app, "stores", "north", "store", json!({"name": "North 2"})).await;
    assert_eq!((s, &b), (200, &json!({"success": true})));
    let stores = book(&app, "stores", "stores").await;
    assert_eq!(codes(&stores), vec!["main", "north"]);
    assert_eq!(stores[1]["name"], "North 2");

    // Price types: an array too.
    let (s, b) = edit(&app, "price-types", "wholesale", "priceType", json!({"name": "Опт", "currency": "RUB"})).await;
    assert_eq!((s, &b), (201, &json!({"success": true})));
    let (s, b) = edit(&app, "price-types", "wholesale", "priceType", json!({"name": "Оптовая"})).await;
    assert_eq!((s, &b), (200, &json!({"success": true})));
    let prices = book(&app, "price-types", "priceTypes").await;
    assert_eq!(codes(&prices), vec!["base", "wholesale"]);
    assert_eq!(prices[1]["name"], "Оптовая");
    assert_ne!(prices[0]["id"], prices[1]["id"]);
});

both!(python_price_types_field_is_accepted, |app: TestApp| async move {
    // retailcrm 5.3.0's price_types_edit sends the entity as `priceTypes`.
    let (s, b) =
        edit(&app, "price-types", "retail", "priceTypes", json!({"code": "retail", "name": "Розница", "active": true}))
            .await;
    assert_eq!((s, &b), (201, &json!({"success": true})));
    let prices = book(&app, "price-types", "priceTypes").await;
    let retail = prices
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "retail")
        .unwrap_or_else(|| panic!("retail in {prices}"));
    assert_eq!(retail["name"], "Розница");
    let (s, _) =
        edit(&app, "price-types", "retail", "priceTypes", json!({"code": "retail", "name": "Розничная"})).await;
    assert_eq!(s, 200);
    let prices = book(&app, "price-types", "priceTypes").await;
    assert!(prices.as_array().unwrap().iter().any(|p| p["code"] == "retail" && p["name"] == "Розничная"));
});

both!(path_code_wins_over_body_code, |app: TestApp| async move {
    let (s, _) =
        edit(&app, "order-types", "from-path", "orderType", json!({"code": "from-body", "name": "Path wins"})).await;
    assert_eq!(s, 201);
    let types = book(&app, "order-types", "orderTypes").await;
    assert_eq!(types["from-path"]["name"], "Path wins");
    assert_eq!(types["from-path"]["code"], "from-path");
    assert!(types.get("from-body").is_none(), "{types}");

    let (s, _) = edit(&app, "stores", "path-store", "store", json!({"code": "body-store", "name": "S"})).await;
    assert_eq!(s, 201);
    let stores = codes(&book(&app, "stores", "stores").await);
    assert!(stores.contains(&"path-store".to_string()), "{stores:?}");
    assert!(!stores.contains(&"body-store".to_string()), "{stores:?}");

    let (s, _) = edit(&app, "sites", "path-site", "site", json!({"code": "body-site", "name": "S"})).await;
    assert_eq!(s, 201);
    let sites = book(&app, "sites", "sites").await;
    assert!(sites.get("path-site").is_some() && sites.get("body-site").is_none());

    // An existing code in the path updates that entry, whatever the body says.
    let (s, _) =
        edit(&app, "statuses", "new", "status", json!({"code": "renamed", "name": "Новенький", "group": "new"})).await;
    assert_eq!(s, 200);
    let statuses = book(&app, "statuses", "statuses").await;
    assert_eq!(statuses["new"]["name"], "Новенький");
    assert!(statuses.get("renamed").is_none());
});

both!(validation_errors, |app: TestApp| async move {
    let before_types = book(&app, "order-types", "orderTypes").await;
    let before_statuses = book(&app, "statuses", "statuses").await;

    // Blank or missing name.
    for entity in [json!({"name": "  "}), json!({"active": true}), json!({"name": ""})] {
        let (s, b) = edit(&app, "order-types", "no-name", "orderType", entity).await;
        assert_eq!(s, 400, "{b}");
        assert_eq!(b["success"], false);
        assert_eq!(b["errorMsg"], "Errors in the entity format");
        assert!(b["errors"]["orderType.name"].is_string(), "{b}");
    }
    let (s, b) = edit(&app, "statuses", "no-name", "status", json!({"group": "new"})).await;
    assert_eq!(s, 400);
    assert!(b["errors"]["status.name"].is_string(), "{b}");

    // Unknown (or missing) status group.
    let (s, b) = edit(&app, "statuses", "lost", "status", json!({"name": "Lost", "group": "no-such-group"})).await;
    assert_eq!(s, 400);
    assert_eq!(b["errorMsg"], "Errors in the entity format");
    assert!(b["errors"]["status.group"].as_str().unwrap().contains("no-such-group"), "{b}");
    let (s, b) = edit(&app, "statuses", "lost", "status", json!({"name": "Lost"})).await;
    assert_eq!(s, 400);
    assert!(b["errors"]["status.group"].is_string(), "{b}");

    // Codes with characters a code may not hold.
    for bad in ["bad%20code", "%D0%BA%D0%BE%D0%B4", "a%2Cb", "semi%3Bcolon"] {
        let (s, b) =
            app.post(&format!("/api/v5/reference/order-types/{bad}/edit"), &[("orderType", r#"{"name":"X"}"#)]).await;
        assert_eq!(s, 400, "{bad}: {b}");
        assert_eq!(b["errorMsg"], "Errors in the entity format", "{bad}");
        assert!(b["errors"]["code"].is_string(), "{bad}: {b}");
    }
    let (s, b) = app.post("/api/v5/reference/stores/bad%20store/edit", &[("store", r#"{"name":"X"}"#)]).await;
    assert_eq!(s, 400);
    assert!(b["errors"]["code"].is_string(), "{b}");
    let (s, b) = app.post("/api/v5/reference/sites/bad%20site/edit", &[("site", r#"{"name":"X"}"#)]).await;
    assert_eq!(s, 400);
    assert!(b["errors"]["code"].is_string(), "{b}");

    // A store type outside the four RetailCRM knows.
    let (s, b) = edit(&app, "stores", "odd", "store", json!({"name": "Odd", "type": "store-type-spaceship"})).await;
    assert_eq!(s, 400);
    assert!(b["errors"]["store.type"].is_string(), "{b}");

    // No entity, or an entity that is not JSON / not an object.
    let (s, b) = app.post("/api/v5/reference/order-types/x/edit", &[]).await;
    assert_eq!((s.as_u16(), b), (400, json!({"success": false, "errorMsg": "Parameter 'orderType' is missing"})));
    let (s, b) = app.post("/api/v5/reference/order-types/x/edit", &[("orderType", "{broken")]).await;
    assert_eq!(s, 400);
    assert_eq!(b["errorMsg"], "Errors in the entity format");
    assert!(b["errors"]["orderType"].is_string(), "{b}");
    let (s, b) = app.post("/api/v5/reference/order-types/x/edit", &[("orderType", "[1]")]).await;
    assert_eq!(s, 400);
    assert!(b["errors"]["orderType"].is_string(), "{b}");

    // Nothing of the above was written.
    assert_eq!(book(&app, "order-types", "orderTypes").await, before_types);
    assert_eq!(book(&app, "statuses", "statuses").await, before_statuses);
    assert_eq!(codes(&book(&app, "stores", "stores").await), vec!["main".to_string()]);
    assert_eq!(book(&app, "sites", "sites").await.as_object().unwrap().len(), 1);
});

both!(reference_scopes_are_enforced, |app: TestApp| async move {
    let reader = app.key_with(&["reference_read"], &[]).await;
    let denied = json!({"success": false, "errorMsg": "Access denied."});
    let writes: &[(&str, &str)] = &[
        ("sites", "site"),
        ("stores", "store"),
        ("statuses", "status"),
        ("order-types", "orderType"),
        ("order-methods", "orderMethod"),
        ("payment-types", "paymentType"),
        ("payment-statuses", "paymentStatus"),
        ("delivery-types", "deliveryType"),
        ("product-statuses", "productStatus"),
        ("price-types", "priceType"),
    ];
    for (path, field) in writes {
        let (s, b) = app
            .post_as(
                &reader,
                &format!("/api/v5/reference/{path}/denied/edit"),
                &[(field, r#"{"name":"Denied","group":"new"}"#)],
            )
            .await;
        assert_eq!((s.as_u16(), &b), (403, &denied), "{path}");
    }
    // Nothing was written: the full key sees no `denied` entry anywhere.
    for (path, member) in MAP_BOOKS {
        let v = book(&app, path, member).await;
        assert!(v.get("denied").is_none(), "{path}: {v}");
    }
    for (path, member) in LIST_BOOKS {
        let v = book(&app, path, member).await;
        assert!(!codes(&v).contains(&"denied".to_string()), "{path}");
    }

    // The reader reads every book.
    for (path, _) in MAP_BOOKS.iter().chain(LIST_BOOKS) {
        let (s, b) = app.get_as(&reader, &format!("/api/v5/reference/{path}")).await;
        assert_eq!(s, 200, "{path}: {b}");
    }

    // A key with only reference_write, or only other scopes, cannot read.
    let writer = app.key_with(&["reference_write"], &[]).await;
    let other = app.key_with(&["order_read", "customer_read"], &[]).await;
    for key in [&writer, &other] {
        for (path, _) in MAP_BOOKS.iter().chain(LIST_BOOKS) {
            let (s, b) = app.get_as(key, &format!("/api/v5/reference/{path}")).await;
            assert_eq!((s.as_u16(), &b), (403, &denied), "{path}");
        }
    }
    // and the writer writes.
    let (s, _) =
        app.post_as(&writer, "/api/v5/reference/order-types/by-writer/edit", &[("orderType", r#"{"name":"W"}"#)]).await;
    assert_eq!(s, 201);
    assert!(book(&app, "order-types", "orderTypes").await["by-writer"].is_object());
});

both!(site_keys_see_and_edit_their_sites_only, |app: TestApp| async move {
    app.add_site("shop-a").await;
    app.add_site("shop-b").await;
    let only_a = app.key_with(&["reference_read", "reference_write"], &["shop-a"]).await;
    let (s, b) = app.get_as(&only_a, "/api/v5/reference/sites").await;
    assert_eq!(s, 200);
    assert_eq!(b["sites"].as_object().unwrap().keys().collect::<Vec<_>>(), vec!["shop-a"]);
    let (s, _) = app.post_as(&only_a, "/api/v5/reference/sites/shop-a/edit", &[("site", r#"{"name":"Mine"}"#)]).await;
    assert_eq!(s, 200);
    let (s, b) =
        app.post_as(&only_a, "/api/v5/reference/sites/shop-b/edit", &[("site", r#"{"name":"Not mine"}"#)]).await;
    assert_eq!((s.as_u16(), b), (403, json!({"success": false, "errorMsg": "Access denied."})));
    let sites = book(&app, "sites", "sites").await;
    assert_eq!(sites["shop-a"]["name"], "Mine");
    assert_eq!(sites["shop-b"]["name"], "Site shop-b");
    assert_eq!(sites.as_object().unwrap().len(), 3);
});
