//! Custom fields and their dictionaries, customer notes, the reference books RetailCRM keeps by id or
//! as lists, and the account's settings.

use crate::common::{TestApp, both};
use serde_json::{Value, json};

async fn post(app: &TestApp, path: &str, field: &str, doc: Value) -> (u16, Value) {
    let (s, b) = app.post(path, &[(field, &doc.to_string())]).await;
    (s.as_u16(), b)
}

/// The dictionary `colours`, as `custom-fields/dictionaries/create` takes it; `crm_meta` checks the
/// document describes each of its members.
pub(crate) fn colours() -> Value {
    json!({"code": "colours", "name": "Colours", "elements": [
        {"code": "red", "name": "Red", "ordering": 20}, {"code": "green", "name": "Green", "ordering": 10}]})
}

/// Custom fields of orders and customers (one with a flag given as text, which torg reads too), as
/// `custom-fields/{entity}/create` takes them; `crm_meta` checks the document describes their members.
pub(crate) fn colour_fields() -> [(&'static str, Value); 4] {
    [
        ("order", json!({"code": "colour", "name": "Colour", "type": "dictionary", "dictionary": "colours"})),
        (
            "order",
            json!({"code": "boxes", "name": "Boxes", "type": "integer", "inFilter": "1", "displayArea": "delivery"}),
        ),
        ("customer", json!({"code": "birthday", "name": "Birthday", "type": "date"})),
        (
            "customer",
            json!({"code": "tags2", "name": "Tags", "type": "multiselect_dictionary", "dictionary": "colours"}),
        ),
    ]
}

/// A unit of measure, as `reference/units/{code}/edit` takes it; `crm_meta` checks the document
/// describes each of its members.
pub(crate) fn box_unit() -> Value {
    json!({"name": "Коробка", "sym": "кор."})
}

async fn define_colours(app: &TestApp) {
    let (s, b) = post(app, "/api/v5/custom-fields/dictionaries/create", "customDictionary", colours()).await;
    assert_eq!((s, b), (201, json!({"success": true, "code": "colours"})));
    for (entity, field) in colour_fields() {
        let code = field["code"].clone();
        let (s, b) = post(app, &format!("/api/v5/custom-fields/{entity}/create"), "customField", field).await;
        assert_eq!((s, b), (201, json!({"success": true, "code": code})));
    }
}

both!(custom_fields_and_dictionaries_are_defined_read_and_edited, |app: TestApp| async move {
    define_colours(&app).await;
    let (s, b) = app.get("/api/v5/custom-fields/dictionaries/colours").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["customDictionary"]["elements"][0]["code"], "green", "elements in their order");
    let (s, b) = app.get("/api/v5/custom-fields/order/colour").await;
    assert_eq!(s, 200, "{b}");
    let f = &b["customField"];
    assert_eq!(
        (f["type"].as_str(), f["dictionary"].as_str(), f["entity"].as_str()),
        (Some("dictionary"), Some("colours"), Some("order"))
    );
    assert_eq!((f["inFilter"].as_bool(), f["viewMode"].as_str()), (Some(true), Some("editable")));

    let (_, b) = app.get("/api/v5/custom-fields").await;
    assert_eq!(b["pagination"]["totalCount"], 4);
    for (query, count) in [
        ("filter[entity]=customer", 2),
        ("filter[type][]=integer&filter[type][]=date", 2),
        ("filter[type]=dictionary", 1),
        ("filter[name]=COL", 1),
        ("filter[code]=boxes", 1),
        ("filter[displayArea]=delivery", 1),
    ] {
        let (s, b) = app.get(&format!("/api/v5/custom-fields?{query}")).await;
        assert_eq!(s, 200, "{query}: {b}");
        assert_eq!(b["customFields"].as_array().unwrap().len(), count, "{query}: {b}");
    }
    let (_, b) = app.get("/api/v5/custom-fields/dictionaries?filter[name]=colo").await;
    assert_eq!(b["customDictionaries"].as_array().unwrap().len(), 1);

    let (s, b) =
        post(&app, "/api/v5/custom-fields/order/boxes/edit", "customField", json!({"name": "Parcels", "ordering": 5}))
            .await;
    assert_eq!((s, b), (200, json!({"success": true, "code": "boxes"})));
    let (_, b) = app.get("/api/v5/custom-fields/order/boxes").await;
    assert_eq!((b["customField"]["name"].as_str(), b["customField"]["ordering"].as_i64()), (Some("Parcels"), Some(5)));
    assert_eq!(b["customField"]["displayArea"], "delivery", "untouched attributes stay");
    let (s, b) = post(&app, "/api/v5/custom-fields/order/boxes/edit", "customField", json!({"type": "string"})).await;
    assert_eq!(s, 400, "{b}");
    assert!(b["errors"]["customField.type"].is_string());

    let (s, b) = post(
        &app,
        "/api/v5/custom-fields/dictionaries/colours/edit",
        "customDictionary",
        json!({"elements": [{"code": "red", "name": "Red"}, {"code": "blue", "name": "Blue"}]}),
    )
    .await;
    assert_eq!((s, b), (200, json!({"success": true, "code": "colours"})));
    let (_, b) = app.get("/api/v5/custom-fields/dictionaries/colours").await;
    assert_eq!(b["customDictionary"]["name"], "Colours", "the name stays");
    assert_eq!(b["customDictionary"]["elements"].as_array().unwrap().len(), 2);

    for (path, field, doc, error) in [
        (
            "/api/v5/custom-fields/order/create",
            "customField",
            json!({"code": "colour", "name": "Again", "type": "string"}),
            "code",
        ),
        (
            "/api/v5/custom-fields/order/create",
            "customField",
            json!({"code": "1st", "name": "x", "type": "string"}),
            "customField.code",
        ),
        (
            "/api/v5/custom-fields/order/create",
            "customField",
            json!({"code": "x", "name": "x", "type": "colour"}),
            "customField.type",
        ),
        (
            "/api/v5/custom-fields/order/create",
            "customField",
            json!({"code": "x", "name": "x", "type": "dictionary"}),
            "customField.dictionary",
        ),
        (
            "/api/v5/custom-fields/order/create",
            "customField",
            json!({"code": "x", "name": "x", "type": "dictionary", "dictionary": "nope"}),
            "customField.dictionary",
        ),
        (
            "/api/v5/custom-fields/order/create",
            "customField",
            json!({"code": "x", "type": "string"}),
            "customField.name",
        ),
        (
            "/api/v5/custom-fields/dictionaries/create",
            "customDictionary",
            json!({"code": "d", "name": "D", "elements": []}),
            "customDictionary.elements",
        ),
        (
            "/api/v5/custom-fields/dictionaries/create",
            "customDictionary",
            json!({"code": "d", "name": "D", "elements": [{"code": "a", "name": "A"}, {"code": "a", "name": "B"}]}),
            "customDictionary.elements[1].code",
        ),
    ] {
        let (s, b) = post(&app, path, field, doc.clone()).await;
        assert_eq!(s, 400, "{doc}: {b}");
        assert!(b["errors"][error].is_string(), "{doc}: expected {error} in {b}");
    }
    let (s, b) = post(
        &app,
        "/api/v5/custom-fields/loyalty/create",
        "customField",
        json!({"code": "x", "name": "x", "type": "string"}),
    )
    .await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(app.get("/api/v5/custom-fields/order/nope").await.0, 404);
    assert_eq!(app.get("/api/v5/custom-fields/dictionaries/nope").await.0, 404);
    assert_eq!(post(&app, "/api/v5/custom-fields/order/nope/edit", "customField", json!({"name": "x"})).await.0, 404);
    let reader = app.key_with(&["custom_fields_read"], &[]).await;
    let (s, _) = app
        .post_as(
            &reader,
            "/api/v5/custom-fields/order/create",
            &[("customField", r#"{"code":"y","name":"y","type":"string"}"#)],
        )
        .await;
    assert_eq!(s, 403);
});

both!(custom_field_values_are_checked_against_their_definitions, |app: TestApp| async move {
    define_colours(&app).await;
    let order = json!({"externalId": "cf-1", "firstName": "Ivan", "customFields": {"colour": "red", "boxes": "3", "free": "kept"}});
    let (s, b) = post(&app, "/api/v5/orders/create", "order", order).await;
    assert_eq!(s, 201, "{b}");
    let (_, b) = app.get("/api/v5/orders/cf-1").await;
    assert_eq!(b["order"]["customFields"], json!({"colour": "red", "boxes": 3, "free": "kept"}), "normalised");
    let (s, b) = post(
        &app,
        "/api/v5/orders/create",
        "order",
        json!({"externalId": "cf-2", "customFields": {"colour": "purple"}}),
    )
    .await;
    assert_eq!(s, 400, "{b}");
    assert!(b["errors"]["customFields.colour"].as_str().unwrap().contains("purple"), "{b}");
    let (s, b) = post(&app, "/api/v5/orders/cf-1/edit", "order", json!({"customFields": {"boxes": "many"}})).await;
    assert_eq!(s, 400, "{b}");
    let (_, b) = app.get("/api/v5/orders/cf-1").await;
    assert_eq!(b["order"]["customFields"]["boxes"], 3, "nothing changed");
    let (_, b) = app.get("/api/v5/orders?filter[customFields][colour]=red").await;
    assert_eq!(b["pagination"]["totalCount"], 1);

    let customer = json!({"externalId": "c-1", "firstName": "Olga", "customFields": {"birthday": "1990-02-30"}});
    let (s, b) = post(&app, "/api/v5/customers/create", "customer", customer).await;
    assert_eq!(s, 400, "{b}");
    assert!(b["errors"]["customFields.birthday"].is_string(), "{b}");
    let customer =
        json!({"externalId": "c-1", "firstName": "Olga", "customFields": {"birthday": "1990-02-28", "tags2": ["red"]}});
    let (s, b) = post(&app, "/api/v5/customers/create", "customer", customer).await;
    assert_eq!(s, 201, "{b}");
    let (s, b) =
        post(&app, "/api/v5/customers/c-1/edit", "customer", json!({"customFields": {"tags2": ["red", "pink"]}})).await;
    assert_eq!(s, 400, "{b}");
    let (_, b) = app.get("/api/v5/customers/c-1").await;
    assert_eq!(b["customer"]["customFields"], json!({"birthday": "1990-02-28", "tags2": ["red"]}));
});

both!(customer_notes_are_written_listed_and_deleted, |app: TestApp| async move {
    let (s, b) =
        post(&app, "/api/v5/customers/create", "customer", json!({"externalId": "n-1", "firstName": "Pavel"})).await;
    assert_eq!(s, 201, "{b}");
    let pavel = b["id"].as_i64().unwrap();
    let (s, b) =
        post(&app, "/api/v5/customers/create", "customer", json!({"externalId": "n-2", "firstName": "Vera"})).await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = post(
        &app,
        "/api/v5/customers/notes/create",
        "note",
        json!({"customer": {"externalId": "n-1"}, "text": "Prefers calls"}),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let first = b["id"].as_i64().unwrap();
    let (s, _) = post(
        &app,
        "/api/v5/customers/notes/create",
        "note",
        json!({"customer": {"id": pavel}, "text": "Pays by invoice"}),
    )
    .await;
    assert_eq!(s, 201);
    let (s, _) =
        post(&app, "/api/v5/customers/notes/create", "note", json!({"customer": {"externalId": "n-2"}, "text": "VIP"}))
            .await;
    assert_eq!(s, 201);

    let (s, b) = app.get("/api/v5/customers/notes").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["pagination"]["totalCount"], 3);
    let newest = &b["notes"][0];
    assert_eq!(newest["text"], "VIP", "newest first");
    assert_eq!(
        newest["customer"],
        json!({"id": pavel + 1, "externalId": "n-2", "site": "default", "type": "customer"})
    );
    for (query, count) in [
        ("filter[customerExternalIds][]=n-1", 2),
        (&format!("filter[customerIds][]={pavel}") as &str, 2),
        (&format!("filter[ids][]={first}"), 1),
        ("filter[text]=invoice", 1),
        ("filter[createdAtFrom]=2000-01-01", 3),
        ("filter[createdAtTo]=2000-01-01", 0),
    ] {
        let (s, b) = app.get(&format!("/api/v5/customers/notes?{query}")).await;
        assert_eq!(s, 200, "{query}: {b}");
        assert_eq!(b["notes"].as_array().unwrap().len(), count, "{query}: {b}");
    }
    let (s, b) = app.get("/api/v5/customers/notes?filter[createdAtFrom]=yesterday").await;
    assert_eq!(s, 400, "{b}");

    for (doc, field) in [
        (json!({"text": "x"}), "customer"),
        (json!({"customer": {"externalId": "ghost"}, "text": "x"}), "customer"),
        (json!({"customer": {"id": pavel}, "text": " "}), "text"),
        (json!({"customer": {"id": pavel}, "text": "x", "managerId": 777}), "managerId"),
    ] {
        let (s, b) = post(&app, "/api/v5/customers/notes/create", "note", doc.clone()).await;
        assert_eq!(s, 400, "{doc}: {b}");
        assert!(b["errors"][field].is_string(), "{doc}: {b}");
    }
    let (s, b) = app.post(&format!("/api/v5/customers/notes/{first}/delete"), &[]).await;
    assert_eq!((s.as_u16(), b), (200, json!({"success": true})));
    let (s, b) = app.post(&format!("/api/v5/customers/notes/{first}/delete"), &[]).await;
    assert_eq!((s.as_u16(), b), (404, json!({"success": false, "errorMsg": "Note not found map"})));
    let (_, b) = app.get("/api/v5/customers/notes").await;
    assert_eq!(b["pagination"]["totalCount"], 2);

    let other_site = app.add_site("second").await;
    let limited = app.key_with(&["customer_read", "customer_write"], &["second"]).await;
    let _ = other_site;
    let (_, b) = app.get_as(&limited, "/api/v5/customers/notes").await;
    assert_eq!(b["pagination"]["totalCount"], 0, "notes of other sites stay hidden: {b}");
});

both!(books_kept_by_id_or_as_lists, |app: TestApp| async move {
    let (_, b) = app.get("/api/v5/reference/countries").await;
    assert!(b["countriesIso"].as_array().unwrap().contains(&json!("RU")), "{b}");

    let (_, b) = app.get("/api/v5/reference/currencies").await;
    let rub = b["currencies"].as_array().unwrap().iter().find(|c| c["code"] == "RUB").cloned().unwrap();
    assert_eq!(rub["isBase"], true);
    let (s, b) = post(
        &app,
        "/api/v5/reference/currencies/create",
        "currency",
        json!({"code": "kzt", "isAutoConvert": true, "autoConvertExtraPercent": 10}),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let kzt = b["id"].as_i64().unwrap();
    let (s, b) = post(&app, "/api/v5/reference/currencies/create", "currency", json!({"code": "KZT"})).await;
    assert_eq!(s, 400, "no currency twice: {b}");
    let (s, b) = post(
        &app,
        &format!("/api/v5/reference/currencies/{kzt}/edit"),
        "currency",
        json!({"manualConvertValue": "5.25", "isAutoConvert": false}),
    )
    .await;
    assert_eq!((s, b), (200, json!({"success": true})));
    let (_, b) = app.get("/api/v5/reference/currencies").await;
    let kzt_now = b["currencies"].as_array().unwrap().iter().find(|c| c["id"] == kzt).cloned().unwrap();
    assert_eq!((kzt_now["code"].as_str(), kzt_now["isAutoConvert"].as_bool()), (Some("KZT"), Some(false)));
    assert_eq!(kzt_now["manualConvertValue"], "5.25", "a rate stays decimal text");
    let (s, b) = post(&app, "/api/v5/reference/currencies/99999/edit", "currency", json!({"code": "USD"})).await;
    assert_eq!((s, &b["errorMsg"]), (404, &json!("An attempt was made to edit a nonexistent record")));
    let (s, _) = post(&app, "/api/v5/reference/currencies/create", "currency", json!({"code": "dollars"})).await;
    assert_eq!(s, 400);

    let (s, b) = post(&app, "/api/v5/reference/couriers/create", "courier", json!({"lastName": "Nobody"})).await;
    assert_eq!(
        (s, b),
        (
            400,
            json!({"success": false, "errorMsg": "Errors in the entity format", "errors": {"firstName": "Specify the first name"}})
        )
    );
    let (s, b) = post(
        &app,
        "/api/v5/reference/couriers/create",
        "courier",
        json!({"firstName": "Artur", "lastName": "Pirozhkov", "phone": {"number": "88005553535"}}),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let courier = b["id"].as_i64().unwrap();
    let (s, _) =
        post(&app, &format!("/api/v5/reference/couriers/{courier}/edit"), "courier", json!({"active": false})).await;
    assert_eq!(s, 200);
    let (_, b) = app.get("/api/v5/reference/couriers").await;
    assert_eq!(
        b["couriers"],
        json!([{"id": courier, "firstName": "Artur", "lastName": "Pirozhkov", "active": false, "phone": {"number": "88005553535"}}])
    );

    let (_, b) = app.get("/api/v5/reference/units").await;
    assert_eq!(b["units"]["pc"]["sym"], "шт.", "units keyed by code: {b}");
    let (s, _) = post(&app, "/api/v5/reference/units/box/edit", "units", box_unit()).await;
    assert_eq!(s, 201, "the Python client's `units` field");
    let (_, b) = app.get("/api/v5/reference/units").await;
    assert_eq!(b["units"]["box"]["name"], "Коробка");

    let (s, b) =
        post(&app, "/api/v5/reference/cost-items/fuel/edit", "costItem", json!({"name": "Fuel", "group": "nope"}))
            .await;
    assert_eq!(s, 400, "{b}");
    let (s, _) = post(
        &app,
        "/api/v5/reference/cost-items/fuel/edit",
        "costItem",
        json!({"name": "Fuel", "group": "delivery", "type": "var"}),
    )
    .await;
    assert_eq!(s, 201);
    let (_, b) = app.get("/api/v5/reference/cost-items").await;
    assert!(b["costItems"].as_array().unwrap().iter().any(|c| c["code"] == "fuel" && c["id"].is_i64()), "{b}");
    let (_, b) = app.get("/api/v5/reference/cost-groups").await;
    assert!(b["costGroups"].is_array());

    let (s, b) = post(
        &app,
        "/api/v5/reference/legal-entities/torg-llc/edit",
        "legalEntity",
        json!({"contragentType": "legal-entity", "legalName": "ООО Торг", "INN": "7701234567", "countryIso": "RU"}),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let (_, b) = app.get("/api/v5/reference/legal-entities").await;
    let le = &b["legalEntities"][0];
    assert_eq!(
        (le["code"].as_str(), le["legalName"].as_str(), le["INN"].as_str()),
        (Some("torg-llc"), Some("ООО Торг"), Some("7701234567"))
    );
    let (s, _) = post(&app, "/api/v5/reference/legal-entities/x/edit", "legalEntity", json!({"INN": "1"})).await;
    assert_eq!(s, 400, "a legal entity needs its legal name");

    let (_, b) = app.get("/api/v5/reference/delivery-services").await;
    assert_eq!(b["deliveryServices"]["cdek"]["code"], "cdek");

    let (s, _) = post(
        &app,
        "/api/v5/reference/subscriptions/email/news/edit",
        "subscription",
        json!({"name": "News", "autoSubscribe": "1"}),
    )
    .await;
    assert_eq!(s, 201);
    let (_, b) = app.get("/api/v5/reference/subscriptions").await;
    assert_eq!(b["subscriptions"][0]["channel"], "email");
    assert_eq!(
        (b["subscriptions"][0]["code"].as_str(), b["subscriptions"][0]["autoSubscribe"].as_bool()),
        (Some("news"), Some(true))
    );
    let (s, _) =
        post(&app, "/api/v5/reference/subscriptions/pigeon/news/edit", "subscription", json!({"name": "News"})).await;
    assert_eq!(s, 400);

    let (_, b) = app.get("/api/v5/reference/price-types").await;
    let id = b["priceTypes"][0]["id"].clone();
    post(&app, "/api/v5/reference/price-types/wholesale/edit", "priceType", json!({"name": "Опт"})).await;
    let (_, b) = app.get("/api/v5/reference/price-types").await;
    assert_eq!(b["priceTypes"][0]["id"], id, "price type ids are stable");
});

both!(settings_and_statistics, |app: TestApp| async move {
    let (s, b) = app.get("/api/v5/settings").await;
    assert_eq!(s, 200, "{b}");
    let st = &b["settings"];
    assert_eq!(st["default_currency"]["value"], "RUB");
    assert_eq!(st["timezone"]["value"], "Europe/Moscow");
    assert_eq!(st["system_language"]["value"], "RU");
    assert_eq!(st["work_times"][0]["day_type"], "Monday");
    assert_eq!(st["mg"]["order_creation"]["default"]["order_type"], "eshop-individual");
    assert_eq!(st["default_currency"]["updated_at"].as_str().unwrap().len(), 19);
    let (s, b) = app.get("/api/v5/statistic/update").await;
    assert_eq!((s.as_u16(), b), (200, json!({"success": true})));
});
