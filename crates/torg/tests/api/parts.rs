//! The parts face (docs/parts.md): search by part number with analogues, signed rows, ordering, auth.

use crate::common::{TestApp, both};
use serde_json::{Value, json};
use torg_domain::catalogue::Availability;
use torg_store::{CatalogueRow, Cross, NewKey, WarehouseTerms};

/// A buyer: a customer on the default site and a parts key of theirs.
async fn buyer(app: &TestApp, external_id: &str) -> String {
    app.buyer(json!({"externalId": external_id, "firstName": "Иван", "lastName": "Петров", "email": format!("{external_id}@example.ru"),
                     "phones": [{"number": "+7-987-1234567"}], "address": {"city": "Новосибирск"}})).await
}

fn row(article: &str, brand: &str, warehouse: &str, qty: Availability, price: &str, min_qty: i64) -> CatalogueRow {
    CatalogueRow {
        article: article.into(),
        brand: brand.into(),
        name: "Фильтр масляный".into(),
        description: None,
        warehouse: warehouse.into(),
        quantity: qty,
        price: price.parse().unwrap(),
        min_qty,
        period_min: None,
        period_max: None,
    }
}

async fn catalogue(app: &TestApp) {
    app.store
        .load_catalogue(&[
            row("OC47", "KNECHT/MAHLE", "nsk", Availability::Exact(500), "152.02", 1),
            row("OC47", "KNECHT/MAHLE", "msk", Availability::Exact(30), "149.50", 1),
            row("W712/75", "MANN-FILTER", "nsk", Availability::Below(10), "210.00", 1),
            row("0986452041", "BOSCH", "nsk", Availability::Present, "180.00", 2),
            row("SP-100", "NGK", "nsk", Availability::Above(50), "99.00", 1),
        ])
        .await
        .unwrap();
    let terms = WarehouseTerms {
        period_min: 7,
        period_max: 7,
        probability: Some(97),
        display: torg_domain::catalogue::Display::Exact,
    };
    assert!(app.store.set_warehouse_terms("nsk", &terms).await.unwrap());
    let terms = WarehouseTerms {
        period_min: 1,
        period_max: 2,
        probability: None,
        display: torg_domain::catalogue::Display::Exact,
    };
    assert!(app.store.set_warehouse_terms("msk", &terms).await.unwrap());
    let cross = |a: &str, b: &str, c: &str, d: &str| Cross {
        article: a.into(),
        brand: b.into(),
        cross_article: c.into(),
        cross_brand: d.into(),
    };
    app.store
        .add_crosses(&[
            cross("OC47", "KNECHT/MAHLE", "W712/75", "MANN-FILTER"),
            cross("0986452041", "BOSCH", "OC47", "KNECHT/MAHLE"),
        ])
        .await
        .unwrap();
}

async fn get(app: &TestApp, path: &str) -> (u16, Value) {
    let r = app.client.get(format!("{}{path}", app.base)).send().await.unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.expect("JSON"))
}

async fn post(app: &TestApp, path: &str, body: &Value) -> (u16, Value) {
    let r = app.client.post(format!("{}{path}", app.base)).json(body).send().await.unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.expect("JSON"))
}

async fn search(app: &TestApp, key: &str, q: &str) -> Vec<Value> {
    let (s, b) = get(app, &format!("/v1/search/?q={}&api_key={key}", urlencode(q))).await;
    assert_eq!(s, 200, "{b}");
    b["objects"].as_array().unwrap().clone()
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

fn ordered(row: &Value, qty: i64) -> Value {
    let mut r = row.clone();
    r["order_qty"] = json!(qty);
    r
}

both!(seed_examples_search_and_order, |app: TestApp| async move {
    catalogue(&app).await;
    let key = buyer(&app, "b1").await;
    let (s, b) = get(&app, &format!("/v1/profile/?api_key={key}")).await;
    assert_eq!(s, 200);
    assert_eq!(
        b,
        json!({"balance": "0.00", "city": "Новосибирск", "email": "b1@example.ru", "name": "Петров Иван", "phone": "+7-987-1234567"})
    );

    let rows = search(&app, &key, "oc47").await;
    let own: Vec<&Value> = rows.iter().filter(|r| r["is_cross"] == false).collect();
    assert_eq!(own.len(), 2, "{rows:?}");
    assert_eq!(own[0]["code"], "OC47");
    assert_eq!(own[0]["maker"], "KNECHT/MAHLE");
    assert_eq!(own[0]["price"], "149.50", "cheapest first");
    assert_eq!(own[1]["price"], "152.02");
    assert_eq!(own[1]["qty"], "500");
    assert_eq!(own[1]["period_min"], 7);
    assert_eq!(own[1]["stat"], 97);
    assert_eq!(own[0]["stat"], Value::Null);
    assert_eq!(own[1]["source"], "nsk");
    assert!(own[1]["_"].as_str().unwrap().len() > 20);
    let crosses: Vec<&str> =
        rows.iter().filter(|r| r["is_cross"] == true).map(|r| r["code"].as_str().unwrap()).collect();
    assert_eq!(crosses, vec!["0986452041", "W712/75"], "analogues after the number itself, cheapest first");

    let nsk = own[1].clone();
    let (s, order) = post(&app, &format!("/v1/order/?api_key={key}"), &ordered(&nsk, 10)).await;
    assert_eq!(s, 201, "{order}");
    assert_eq!(order["status"], 2);
    assert_eq!(order["status_display"], "Получен в заказ");
    assert_eq!(order["code"], "OC47");
    assert_eq!(order["order_qty"], 10);
    assert_eq!(order["price"], "152.02");
    assert_eq!(order["total"], "1520.20");
    // The CRM face lists it, on the buyer's site, shipped from the warehouse, stock reserved.
    let (_, b) = app.get(&format!("/api/v5/orders?filter[numbers][]={}", order["number"].as_str().unwrap())).await;
    let crm = &b["orders"][0];
    assert_eq!(crm["customer"]["externalId"], "b1");
    assert_eq!(crm["shipmentStore"], "nsk");
    assert_eq!(crm["orderMethod"], "parts-api");
    assert_eq!(crm["items"][0]["offer"]["article"], "OC47");
    assert_eq!(crm["items"][0]["initialPrice"], json!(152.02));
    let again = search(&app, &key, "OC47").await;
    assert!(again.iter().any(|r| r["source"] == "nsk" && r["qty"] == "490"), "{again:?}");
    // The balance now owes the order.
    let (_, b) = get(&app, &format!("/v1/profile?api_key={key}")).await;
    assert_eq!(b["balance"], "-1520.20");
});

both!(number_forms_and_crosses_both_ways, |app: TestApp| async move {
    catalogue(&app).await;
    let key = buyer(&app, "b2").await;
    for q in ["oc-47", "OC 47", "ос47", "ОС-47"] {
        let rows = search(&app, &key, q).await;
        assert!(rows.iter().any(|r| r["code"] == "OC47" && r["is_cross"] == false), "{q}: {rows:?}");
    }
    let rows = search(&app, &key, "w712-75").await;
    assert_eq!(rows[0]["code"], "W712/75");
    assert_eq!(rows[0]["is_cross"], false);
    assert!(rows.iter().any(|r| r["code"] == "OC47" && r["is_cross"] == true), "crosses are symmetric: {rows:?}");
    assert!(search(&app, &key, "nothing-like-this").await.is_empty());
    assert!(search(&app, &key, "").await.is_empty());
});

both!(every_broken_order_is_refused_and_moves_no_stock, |app: TestApp| async move {
    catalogue(&app).await;
    let key = buyer(&app, "b3").await;
    let other = buyer(&app, "b4").await;
    let rows = search(&app, &key, "OC47").await;
    let exact = rows.iter().find(|r| r["source"] == "nsk" && r["code"] == "OC47").unwrap().clone();
    let below = rows.iter().find(|r| r["qty"] == "<10").unwrap().clone();
    let present = search(&app, &key, "0986452041").await.into_iter().find(|r| r["qty"] == "Есть").unwrap();
    let url = format!("/v1/order/?api_key={key}");
    let refused = |b: &Value, field: &str| {
        assert!(b["error"].as_str().is_some_and(|e| !e.is_empty()), "{b}");
        assert!(b["fields"][field].is_array(), "{field}: {b}");
    };
    let mut altered = ordered(&exact, 1);
    altered["price"] = json!("1.00");
    let (s, b) = post(&app, &url, &altered).await;
    assert_eq!(s, 400);
    refused(&b, "price");
    let mut altered = ordered(&exact, 1);
    altered["qty"] = json!("5000");
    let (s, b) = post(&app, &url, &altered).await;
    assert_eq!(s, 400);
    refused(&b, "qty");
    let (s, b) = post(&app, &format!("/v1/order/?api_key={other}"), &ordered(&exact, 1)).await;
    assert_eq!(s, 400);
    assert!(b["error"].as_str().unwrap().contains("another account"), "{b}");
    let secret = app.store.meta("parts_secret").await.unwrap().unwrap();
    let token = exact["_"].as_str().unwrap();
    let key_id = app.store.find_key(&key).await.unwrap().unwrap().id;
    let mut opened =
        torg_domain::signature::Offered::open(token, secret.as_bytes(), key_id, torg_domain::time::now(), 3600)
            .unwrap();
    opened.issued_at -= 7200;
    let mut expired = ordered(&exact, 1);
    expired["_"] = json!(opened.seal(secret.as_bytes()));
    let (s, b) = post(&app, &url, &expired).await;
    assert_eq!(s, 400);
    assert!(b["error"].as_str().unwrap().contains("expired"), "{b}");
    let mut forged = ordered(&exact, 1);
    forged["_"] =
        json!("DqYXihjdqSPM4OKLl9uE6piTekMMfMSYhkNNgDbhOzVDDWD+JdDi28ZxGbbDkXBvUw7Yu6q69MiKBaDSnYdY6imQkzWYQFw=");
    let (s, b) = post(&app, &url, &forged).await;
    assert_eq!(s, 400);
    refused(&b, "_");
    for (row, qty) in [(&exact, 0), (&exact, -1), (&exact, 501), (&below, 10), (&present, 3), (&present, 10_002)] {
        let (s, b) = post(&app, &url, &ordered(row, qty)).await;
        assert_eq!(s, 400, "{qty} against {}: {b}", row["qty"]);
        refused(&b, "order_qty");
    }
    let mut long = ordered(&exact, 1);
    long["client_comment"] = json!("x".repeat(51));
    let (s, b) = post(&app, &url, &long).await;
    assert_eq!(s, 400);
    refused(&b, "client_comment");
    let mut no_token = ordered(&exact, 1);
    no_token.as_object_mut().unwrap().remove("_");
    let (s, _) = post(&app, &url, &no_token).await;
    assert_eq!(s, 400);
    // Nothing moved: the same availability, no orders.
    let after = search(&app, &key, "OC47").await;
    assert!(after.iter().any(|r| r["source"] == "nsk" && r["code"] == "OC47" && r["qty"] == "500"));
    let (_, b) = get(&app, &format!("/v1/order/?api_key={key}")).await;
    assert_eq!(b["objects"], json!([]));
    // The allowed edges do go through.
    for (row, qty) in [(&below, 9), (&present, 10_000), (&exact, 500)] {
        let (s, b) = post(&app, &url, &ordered(row, qty)).await;
        assert_eq!(s, 201, "{qty} against {}: {b}", row["qty"]);
    }
    // A row whose warehouse closed since the search: the sealed row is refused, nothing is written.
    let msk = rows.iter().find(|r| r["source"] == "msk" && r["code"] == "OC47").unwrap().clone();
    assert!(app.store.set_warehouse_distributor("msk", Some("d-closed")).await.unwrap());
    app.store.delete_office_warehouses("d-closed", &["msk".to_string()]).await.unwrap();
    let (s, b) = post(&app, &url, &ordered(&msk, 1)).await;
    assert_eq!(
        (s, &b),
        (
            400,
            &json!({
                "error": "This position is no longer offered; search again.",
                "fields": {"_": ["This position is no longer offered; search again."]},
            })
        )
    );
    let (_, b) = get(&app, &format!("/v1/order/?api_key={key}")).await;
    assert_eq!(b["objects"].as_array().map(Vec::len), Some(3), "{b}");
});

both!(test_orders_list_history_and_ownership, |app: TestApp| async move {
    catalogue(&app).await;
    let key = buyer(&app, "b5").await;
    let other = buyer(&app, "b6").await;
    let rows = search(&app, &key, "OC47").await;
    let exact = rows.iter().find(|r| r["source"] == "nsk" && r["code"] == "OC47").unwrap().clone();
    let mut test = ordered(&exact, 5);
    test["client_comment"] = json!("Test-Run A");
    let (s, t) = post(&app, &format!("/v1/order/?api_key={key}&test=on"), &test).await;
    assert_eq!(s, 201, "{t}");
    assert_eq!(t["test"], true);
    let after = search(&app, &key, "OC47").await;
    assert!(
        after.iter().any(|r| r["source"] == "nsk" && r["code"] == "OC47" && r["qty"] == "500"),
        "a test order reserves nothing"
    );
    let mut real = ordered(&exact, 2);
    real["client_comment"] = json!("PO-77");
    let (s, o) = post(&app, &format!("/v1/order?api_key={key}"), &real).await;
    assert_eq!(s, 201, "{o}");

    let (_, b) = get(&app, &format!("/v1/order/?api_key={key}")).await;
    let ids: Vec<i64> = b["objects"].as_array().unwrap().iter().map(|o| o["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![o["id"].as_i64().unwrap(), t["id"].as_i64().unwrap()], "newest first");
    let (_, b) = get(&app, &format!("/v1/order/?api_key={key}&client_comment=test-run")).await;
    assert_eq!(b["objects"].as_array().unwrap().len(), 1);
    assert_eq!(b["objects"][0]["client_comment"], "Test-Run A");
    let (_, b) = get(&app, &format!("/v1/order/?api_key={key}&page=2")).await;
    assert_eq!(b["objects"], json!([]));
    let (_, b) = get(&app, &format!("/v1/order/?api_key={other}")).await;
    assert_eq!(b["objects"], json!([]), "another buyer sees none of these");

    let id = o["id"].as_i64().unwrap();
    let (s, one) = get(&app, &format!("/v1/order/{id}/?api_key={key}")).await;
    assert_eq!((s, &one["number"]), (200, &o["number"]));
    let (s, b) = get(&app, &format!("/v1/order/{id}/?api_key={other}")).await;
    assert_eq!((s, b), (404, json!({"error": "Not found."})));
    // A status change in the CRM shows in the parts face and its history.
    let (s, _) =
        app.post(&format!("/api/v5/orders/{id}/edit"), &[("order", r#"{"status":"complete"}"#), ("by", "id")]).await;
    assert_eq!(s, 200);
    let (_, one) = get(&app, &format!("/v1/order/{id}?api_key={key}")).await;
    assert_eq!(one["status"], 7);
    assert_eq!(one["status_display"], "Выдан (Отправлен)");
    let (s, h) = get(&app, &format!("/v1/order/{id}/history/?api_key={key}")).await;
    assert_eq!(s, 200);
    let comments: Vec<&str> = h["objects"].as_array().unwrap().iter().map(|r| r["comment"].as_str().unwrap()).collect();
    assert!(comments[0].starts_with("Создан со статусом \"Получен в заказ\" на сумму 304.04"), "{comments:?}");
    assert!(comments.iter().any(|c| c.contains("Выполнен")), "{comments:?}");
    assert!(h["objects"][0]["created"].as_str().unwrap().contains('T'));
});

both!(auth_is_refused_as_the_seed_says, |app: TestApp| async move {
    catalogue(&app).await;
    buyer(&app, "b7").await;
    let unauthorized = json!({"error": "Unauthorized."});
    assert_eq!(get(&app, "/v1/profile/?api_key=WRONG").await, (401, unauthorized.clone()));
    assert_eq!(get(&app, "/v1/profile/").await, (401, unauthorized.clone()));
    // The CRM test key has every scope but belongs to no customer.
    assert_eq!(get(&app, &format!("/v1/search/?q=oc47&api_key={}", app.key)).await, (401, unauthorized.clone()));
    let mut no_scope = NewKey {
        plain: "no-parts-scope".into(),
        name: "n".into(),
        scopes: vec!["order_read".into()],
        sites: torg_domain::key::SiteAccess::Full,
        allowed_ips: Vec::new(),
        customer_external_id: Some("b7".into()),
        distributor: None,
    };
    app.store.create_key(no_scope.clone()).await.unwrap();
    assert_eq!(get(&app, "/v1/search/?q=oc47&api_key=no-parts-scope").await, (401, unauthorized.clone()));
    no_scope.plain = "elsewhere".into();
    no_scope.name = "elsewhere".into();
    no_scope.scopes = vec!["parts".into()];
    no_scope.allowed_ips = vec!["10.9.8.7".parse().unwrap()];
    app.store.create_key(no_scope.clone()).await.unwrap();
    assert_eq!(get(&app, "/v1/search/?q=oc47&api_key=elsewhere").await, (401, unauthorized.clone()));
    no_scope.plain = "here".into();
    no_scope.name = "here".into();
    no_scope.allowed_ips = vec!["127.0.0.1".parse().unwrap()];
    app.store.create_key(no_scope).await.unwrap();
    let (s, _) = get(&app, "/v1/search/?q=oc47&api_key=here").await;
    assert_eq!(s, 200);
});

both!(fifty_buyers_race_for_the_last_twenty, |app: TestApp| async move {
    app.store.load_catalogue(&[row("LAST20", "ACME", "nsk", Availability::Exact(20), "10.00", 1)]).await.unwrap();
    let mut keys = Vec::new();
    for i in 0..50 {
        keys.push(buyer(&app, &format!("race{i}")).await);
    }
    let mut rows = Vec::new();
    for k in &keys {
        rows.push(search(&app, k, "LAST20").await.into_iter().next().unwrap());
    }
    let app = std::sync::Arc::new(app);
    let tasks: Vec<_> = keys
        .into_iter()
        .zip(rows)
        .map(|(k, r)| {
            let app = app.clone();
            tokio::spawn(async move { post(&app, &format!("/v1/order/?api_key={k}"), &ordered(&r, 1)).await })
        })
        .collect();
    let mut sold = 0;
    for t in tasks {
        let (s, b) = t.await.unwrap();
        match s {
            201 => sold += 1,
            // Refused by the check or by the reservation after it, the dialect's field and words.
            400 => assert_eq!(
                b,
                json!({"error": "Only 0 left at this warehouse.", "fields": {"order_qty": ["Only 0 left at this warehouse."]}})
            ),
            other => panic!("unexpected {other}: {b}"),
        }
    }
    assert_eq!(sold, 20);
    let (_, b) = app.get("/api/v5/orders?limit=100").await;
    assert_eq!(b["pagination"]["totalCount"], 20);
    assert!(search(&app, "parts-race0", "LAST20").await.is_empty(), "no stock left");
    let inventory = app.store.list_inventories(&[], &[], &["LAST20".to_string()], 20, 0).await.unwrap().0;
    assert_eq!(
        inventory[0].stores,
        vec![("nsk".to_string(), 20, 20, None)],
        "available 20, reserved 20: never below zero"
    );
});

both!(a_retried_parts_order_reserves_once, |app: TestApp| async move {
    catalogue(&app).await;
    let key = buyer(&app, "b-idem").await;
    let rows = search(&app, &key, "OC47").await;
    let exact = rows.iter().find(|r| r["source"] == "nsk" && r["code"] == "OC47").unwrap().clone();
    let send = || {
        app.client
            .post(format!("{}/v1/order/?api_key={key}", app.base))
            .header("Idempotency-Key", "parts-1")
            .json(&ordered(&exact, 1))
            .send()
    };
    let first = send().await.unwrap();
    assert!(first.status().is_success(), "{}", first.status());
    let first: Value = first.json().await.unwrap();
    let again = send().await.unwrap();
    assert_eq!(again.headers().get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
    assert_eq!(again.json::<Value>().await.unwrap(), first, "the same order back");
    let (s, list) = get(&app, &format!("/v1/order/?api_key={key}")).await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(list["objects"].as_array().map(Vec::len), Some(1), "one order: {list}");
});

both!(a_key_can_order_for_a_corporate_customer, |app: TestApp| async move {
    catalogue(&app).await;
    let key = buyer(&app, "corp-buyer").await;
    let colleague = buyer(&app, "corp-colleague").await;
    let doc = json!({"externalId": "fleet", "nickName": "Автопарк",
                     "companies": [{"externalId": "fleet-llc", "name": "ООО Автопарк", "contragent": {"INN": "7707083893"}}],
                     "customerContacts": [{"customer": {"externalId": "corp-colleague"}}]});
    let (s, b) = app
        .post("/api/v5/customers-corporate/create", &[("customerCorporate", &doc.to_string()), ("site", "default")])
        .await;
    assert_eq!(s, 201, "{b}");
    // Only a contact person's key may order for it.
    let err = app.store.set_key_corporate(&key, Some("fleet")).await.unwrap_err();
    assert!(err.to_string().contains("not a contact person"), "{err}");
    assert!(app.store.set_key_corporate(&key, Some("nobody")).await.is_err());
    app.store.set_key_corporate(&colleague, Some("fleet")).await.unwrap();

    let rows = search(&app, &colleague, "OC47").await;
    let exact = rows.iter().find(|r| r["source"] == "nsk" && r["code"] == "OC47").unwrap().clone();
    let (s, o) = post(&app, &format!("/v1/order/?api_key={colleague}"), &ordered(&exact, 2)).await;
    assert_eq!(s, 201, "{o}");
    let (_, b) = app.get(&format!("/api/v5/orders?filter[numbers][]={}", o["number"].as_str().unwrap())).await;
    let crm = &b["orders"][0];
    assert_eq!(
        (crm["customer"]["type"].as_str(), crm["customer"]["externalId"].as_str()),
        (Some("customer_corporate"), Some("fleet"))
    );
    assert_eq!(
        (crm["contact"]["externalId"].as_str(), crm["company"]["externalId"].as_str()),
        (Some("corp-colleague"), Some("fleet-llc"))
    );
    let (_, b) = get(&app, &format!("/v1/order/?api_key={colleague}")).await;
    assert_eq!(b["objects"].as_array().map(Vec::len), Some(1));
    let id = o["id"].as_i64().unwrap();
    let (s, _) = get(&app, &format!("/v1/order/{id}/?api_key={colleague}")).await;
    assert_eq!(s, 200);
    let (s, _) = get(&app, &format!("/v1/order/{id}/?api_key={key}")).await;
    assert_eq!(s, 404, "another buyer does not see the company's order");
    // Back to the buyer alone: the company's orders are no longer the key's.
    app.store.set_key_corporate(&colleague, None).await.unwrap();
    let (_, b) = get(&app, &format!("/v1/order/?api_key={colleague}")).await;
    assert_eq!(b["objects"], json!([]));
});

both!(an_order_goes_to_the_buyers_site_and_a_key_whose_buyer_is_gone_is_refused, |app: TestApp| async move {
    catalogue(&app).await;
    buyer(&app, "b8").await;
    let outlet = app.add_site("outlet").await;
    // A second key of the same buyer, limited to two sites, the buyer's second: the order goes to the
    // buyer's own.
    let mut limited = NewKey {
        plain: "b8-outlet".into(),
        name: "b8-outlet".into(),
        scopes: vec!["parts".into()],
        sites: torg_domain::key::SiteAccess::Selective(vec![outlet, "default".into()]),
        allowed_ips: Vec::new(),
        customer_external_id: Some("b8".into()),
        distributor: None,
    };
    app.store.create_key(limited.clone()).await.unwrap();
    let row = search(&app, "b8-outlet", "OC47").await.into_iter().find(|r| r["is_cross"] == false).expect("a row");
    let (s, order) = post(&app, "/v1/order/?api_key=b8-outlet", &ordered(&row, 1)).await;
    assert_eq!(s, 201, "{order}");
    let (_, b) = app.get(&format!("/api/v5/orders/{}?by=id", order["id"])).await;
    assert_eq!(b["order"]["site"], "default", "{b}");
    assert_eq!(b["order"]["customer"]["externalId"], "b8", "{b}");

    // A key pointing at a buyer that no longer exists stands for nobody: the order is refused as
    // unauthorized, and nothing is written.
    limited.plain = "b8-gone".into();
    limited.name = "b8-gone".into();
    app.store.create_key(limited).await.unwrap();
    let row = search(&app, "b8-gone", "OC47").await.into_iter().find(|r| r["is_cross"] == false).expect("a row");
    let mut tx = app.store.begin().await.unwrap();
    torg_store::db::query("UPDATE api_keys SET customer_id = $1 WHERE name = $2")
        .bind(987_654_i64)
        .bind("b8-gone")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let (s, b) = post(&app, "/v1/order/?api_key=b8-gone", &ordered(&row, 1)).await;
    assert_eq!((s, b), (401, json!({"error": "Unauthorized."})));
    let (_, b) = app.get("/api/v5/orders?limit=100").await;
    assert_eq!(b["pagination"]["totalCount"], 1, "only the first order: {b}");
});
