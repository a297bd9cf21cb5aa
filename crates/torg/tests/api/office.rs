//! The office face (docs/office.md): every resource and action in form, JSON and XML requests with JSON and
//! XML answers; distributor isolation; stock written here sold by the parts face at once; order status
//! and tracking numbers shared with the CRM face.

use crate::common::{TestApp, both};
use reqwest::StatusCode;
use serde_json::{Value, json};
use torg_domain::key::SiteAccess;
use torg_http::faces::office::xml;
use torg_store::NewKey;

/// How a request body is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// `application/x-www-form-urlencoded` with PHP brackets.
    Form,
    /// `application/json`.
    Json,
    /// `application/xml`, `<request>` root.
    Xml,
}

/// An office key for `distributor` (the first one creates it).
pub async fn office_key(app: &TestApp, distributor: &str) -> String {
    let plain = format!("office-{distributor}-{}", uuid::Uuid::new_v4().simple());
    app.store
        .create_key(NewKey {
            plain: plain.clone(),
            name: plain.clone(),
            scopes: vec!["office".into()],
            sites: SiteAccess::Full,
            allowed_ips: Vec::new(),
            customer_external_id: None,
            distributor: Some(distributor.into()),
        })
        .await
        .expect("office key");
    plain
}

/// PHP bracket form pairs for a JSON tree: `data[0][code]=…`.
pub fn form_pairs(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}[{k}]") };
                form_pairs(&key, v, out);
            }
        }
        Value::Array(list) => {
            for (i, v) in list.iter().enumerate() {
                form_pairs(&format!("{prefix}[{i}]"), v, out);
            }
        }
        Value::String(s) => out.push((prefix.to_string(), s.clone())),
        Value::Null => out.push((prefix.to_string(), String::new())),
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A JSON tree as `<request>` XML: lists as `<item>`s.
pub fn xml_of(name: &str, v: &Value) -> String {
    let inner = match v {
        Value::Object(m) => m.iter().map(|(k, v)| xml_of(k, v)).collect::<String>(),
        Value::Array(list) => list.iter().map(|v| xml_of("item", v)).collect::<String>(),
        Value::String(s) => escape(s),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    format!("<{name}>{inner}</{name}>")
}

/// A JSON answer as its XML twin reads back: scalars as text, empty lists as empty text.
pub fn as_xml_tree(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), as_xml_tree(v))).collect()),
        Value::Array(list) if list.is_empty() => json!(""),
        Value::Array(list) => Value::Array(list.iter().map(as_xml_tree).collect()),
        Value::Null => json!(""),
        Value::String(s) => json!(s),
        other => json!(other.to_string()),
    }
}

/// Sends `body` (with `hash`) as `how` to `/restapi/office/{call}`; returns the status and the raw text.
pub async fn send_raw(app: &TestApp, call: &str, how: Body, body: &Value) -> (StatusCode, String) {
    let url = format!("{}/restapi/office/{call}", app.base);
    let req = match how {
        Body::Form => {
            let mut pairs = Vec::new();
            form_pairs("", body, &mut pairs);
            app.client.post(url).form(&pairs)
        }
        Body::Json => app.client.post(url).header("Content-Type", "application/json").body(body.to_string()),
        Body::Xml => app.client.post(url).header("Content-Type", "application/xml").body(xml_of("request", body)),
    };
    let r = req.send().await.expect("send");
    (r.status(), r.text().await.expect("body"))
}

/// Parses an answer of either type into one tree (XML as `as_xml_tree` shapes JSON).
pub fn parse_answer(call: &str, text: &str) -> Value {
    if call.ends_with(".xml") {
        assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"), "{text}");
        let (root, tree) = xml::parse_document(text.as_bytes(), xml::Limits::default()).expect("XML answer");
        assert_eq!(root, "response");
        tree
    } else {
        assert!(text.is_ascii(), "JSON answers escape non-ASCII as PHP does: {text}");
        serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }
}

/// Calls `resource.action.json` and `.xml` alike, checks both answers agree, and returns the JSON one.
pub async fn call(app: &TestApp, key: &str, resource_action: &str, how: Body, body: Value) -> (StatusCode, Value) {
    let mut body = body;
    body["hash"] = json!(key);
    let json_call = format!("{resource_action}.json");
    let (status, text) = send_raw(app, &json_call, how, &body).await;
    let answer = parse_answer(&json_call, &text);
    // Reads (and idempotent answers) must agree across types; writes are only sent once.
    if resource_action.ends_with(".list") || resource_action.ends_with(".get") {
        let xml_call = format!("{resource_action}.xml");
        let (xml_status, xml_text) = send_raw(app, &xml_call, how, &body).await;
        assert_eq!(xml_status, status);
        assert_eq!(parse_answer(&xml_call, &xml_text), as_xml_tree(&answer), "{xml_text}");
    }
    (status, answer)
}

/// The answer's status code and messages.
pub fn status(answer: &Value) -> (&str, Vec<String>) {
    let code = answer["status"]["code"].as_str().unwrap_or("");
    let messages = answer["status"]["messages"]
        .as_array()
        .map(|l| l.iter().filter_map(|m| m.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    (code, messages)
}

fn ok(answer: &Value) {
    assert_eq!(status(answer).0, "ok", "{answer}");
}

fn codes(answer: &Value, resource: &str) -> Vec<String> {
    answer[resource].as_array().unwrap().iter().map(|w| w["code"].as_str().unwrap().to_string()).collect()
}

/// A parts-face buyer key (customer on the default site).
async fn buyer(app: &TestApp, external_id: &str) -> String {
    app.buyer(json!({"externalId": external_id, "firstName": "Олег"})).await
}

async fn search(app: &TestApp, key: &str, q: &str) -> Vec<Value> {
    let r = app.client.get(format!("{}/v1/search/?q={q}&api_key={key}", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let b: Value = r.json().await.unwrap();
    b["objects"].as_array().unwrap().clone()
}

both!(warehouses_every_action_in_every_format, |app: TestApp| async move {
    let key = office_key(&app, "dist-a").await;
    // add in JSON; the answer lists the rows as stored.
    let rows = json!([{"code": "3", "contacts": "3", "address": "Курск, ул. Луначарского, 8"},
                      {"code": "111111", "contacts": "test", "address": "Курск", "period_min": 1, "period_max": 2}]);
    let (s, a) = call(&app, &key, "warehouses.add", Body::Json, json!({"data": rows})).await;
    assert_eq!(s, 200);
    ok(&a);
    assert_eq!(codes(&a, "warehouses"), ["3", "111111"]);
    assert_eq!(a["warehouses"][0]["address"], "Курск, ул. Луначарского, 8");
    assert_eq!(a["warehouses"][1]["period_max"], 2);
    // add again, as a form, with one new row: ok, the documentation's message for the existing one.
    let again = json!({"warehouses": [{"code": "111111", "contacts": "x"}, {"code": "w-form", "name": "Форма"}]});
    let (_, a) = call(&app, &key, "warehouses.add", Body::Form, again).await;
    ok(&a);
    assert_eq!(status(&a).1, ["Склад `111111` уже существует!"]);
    assert_eq!(codes(&a, "warehouses"), ["111111", "w-form"]);
    assert_eq!(a["warehouses"][0]["contacts"], "test", "an existing warehouse is not changed by add");
    // add in XML.
    let (_, a) =
        call(&app, &key, "warehouses.add", Body::Xml, json!({"data": [{"code": "w-xml", "address": "Тула"}]})).await;
    ok(&a);
    assert_eq!(a["warehouses"][0]["address"], "Тула");
    // list in all three request formats, both answer types (call compares them).
    for how in [Body::Form, Body::Json, Body::Xml] {
        let (_, a) = call(&app, &key, "warehouses.list", how, json!({})).await;
        ok(&a);
        assert_eq!(codes(&a, "warehouses"), ["3", "111111", "w-form", "w-xml"]);
    }
    // get by filter: the form's brackets, JSON's two shapes, XML.
    let id = a_id(&app, &key, "111111").await;
    let (_, a) = call(&app, &key, "warehouses.get", Body::Form, json!({"filter": {"id": [id]}})).await;
    assert_eq!(codes(&a, "warehouses"), ["111111"]);
    let (_, a) = call(&app, &key, "warehouses.get", Body::Json, json!({"filter": [{"id": id}]})).await;
    assert_eq!(codes(&a, "warehouses"), ["111111"]);
    let (_, a) = call(&app, &key, "warehouses.get", Body::Json, json!({"filter": {"code": ["3", "w-xml"]}})).await;
    assert_eq!(codes(&a, "warehouses"), ["3", "w-xml"]);
    let (_, a) = call(&app, &key, "warehouses.get", Body::Xml, json!({"filter": {"address": "Курск"}})).await;
    assert_eq!(codes(&a, "warehouses"), ["111111"]);
    // get without a filter, or with an unknown field, is an error naming it.
    let (s, a) = call(&app, &key, "warehouses.get", Body::Json, json!({})).await;
    assert_eq!((s.as_u16(), status(&a).0), (200, "error"));
    let (_, a) = call(&app, &key, "warehouses.list", Body::Form, json!({"filter": {"colour": ["red"]}})).await;
    assert!(status(&a).1[0].contains("`colour`"), "{a}");
    // paging.
    let (_, a) = call(&app, &key, "warehouses.list", Body::Json, json!({"limit": 2, "page": 2})).await;
    assert_eq!(codes(&a, "warehouses"), ["w-form", "w-xml"]);
    // update in form, JSON and XML.
    let (_, a) =
        call(&app, &key, "warehouses.update", Body::Form, json!({"data": [{"code": "3", "address": "Орёл"}]})).await;
    ok(&a);
    assert_eq!(a["warehouses"][0]["address"], "Орёл");
    assert_eq!(a["warehouses"][0]["contacts"], "3", "fields not given are kept");
    let (_, a) =
        call(&app, &key, "warehouses.update", Body::Json, json!({"data": [{"code": "3", "name": "Третий"}]})).await;
    assert_eq!(a["warehouses"][0]["name"], "Третий");
    let (_, a) =
        call(&app, &key, "warehouses.update", Body::Xml, json!({"data": [{"code": "nope", "name": "x"}]})).await;
    ok(&a);
    assert_eq!(status(&a).1, ["Склад `nope` не найден!"]);
    // The CRM face sees the same warehouse with the address in RetailCRM's shape.
    let (_, stores) = app.get("/api/v5/reference/stores").await;
    let crm = stores["stores"].as_array().unwrap().iter().find(|s| s["code"] == "3").cloned().unwrap();
    assert_eq!(crm["address"]["text"], "Орёл");
    assert_eq!(crm["name"], "Третий");
    // delete in XML, form and JSON; deleted ones leave the list and can be added back.
    let (_, a) = call(&app, &key, "warehouses.delete", Body::Xml, json!({"data": [{"code": "w-xml"}]})).await;
    ok(&a);
    assert_eq!(codes(&a, "warehouses"), ["w-xml"]);
    let (_, a) = call(&app, &key, "warehouses.delete", Body::Form, json!({"data": [{"code": "w-form"}]})).await;
    assert_eq!(codes(&a, "warehouses"), ["w-form"]);
    let (_, a) = call(&app, &key, "warehouses.delete", Body::Json, json!({"data": [{"code": "w-form"}]})).await;
    assert_eq!(status(&a).1, ["Склад `w-form` не найден!"]);
    let (_, a) = call(&app, &key, "warehouses.list", Body::Json, json!({})).await;
    assert_eq!(codes(&a, "warehouses"), ["3", "111111"]);
    let (_, a) = call(&app, &key, "warehouses.add", Body::Json, json!({"data": [{"code": "w-xml"}]})).await;
    assert_eq!(status(&a).1, Vec::<String>::new());
    assert_eq!(codes(&a, "warehouses"), ["w-xml"]);
});

async fn a_id(app: &TestApp, key: &str, code: &str) -> i64 {
    let (_, a) = call(app, key, "warehouses.list", Body::Json, json!({})).await;
    a["warehouses"].as_array().unwrap().iter().find(|w| w["code"] == code).unwrap()["id"].as_i64().unwrap()
}

both!(invalid_rows_write_nothing, |app: TestApp| async move {
    let key = office_key(&app, "dist-v").await;
    // One good row and one without a code: the documentation's wording, the field named, nothing stored.
    let body = json!({"data": [{"code": "good"}, {"contacts": "test", "address": "Курск"}]});
    let (s, a) = call(&app, &key, "warehouses.add", Body::Json, body).await;
    assert_eq!(s, 200);
    let (code, messages) = status(&a);
    assert_eq!(code, "error");
    assert!(
        messages[0].starts_with("Не корректные данные склада в строке `1`: поле `code` обязательно"),
        "{messages:?}"
    );
    // The row is quoted as the documentation quotes it: PHP's json_encode, non-ASCII escaped.
    assert!(
        messages[0].ends_with(r#": `{"contacts":"test","address":"\u041a\u0443\u0440\u0441\u043a"}`"#),
        "{messages:?}"
    );
    assert_eq!(a["warehouses"], json!([]));
    let (_, a) = call(&app, &key, "warehouses.list", Body::Json, json!({})).await;
    assert_eq!(a["warehouses"], json!([]));
    // Bad numbers, unknown fields, missing data.
    let (_, a) =
        call(&app, &key, "warehouses.add", Body::Form, json!({"data": [{"code": "x", "period_min": "-1"}]})).await;
    assert!(status(&a).1[0].contains("`period_min`"), "{a}");
    let (_, a) = call(&app, &key, "warehouses.add", Body::Xml, json!({"data": [{"code": "x", "colour": "red"}]})).await;
    assert!(status(&a).1[0].contains("`colour`"), "{a}");
    let (_, a) = call(&app, &key, "warehouses.add", Body::Json, json!({})).await;
    assert_eq!(status(&a).0, "error");
    let (_, a) = call(
        &app,
        &key,
        "remains.add",
        Body::Json,
        json!({"data": [{"article": "A1", "brand": "B", "warehouse": "good", "quantity": "many", "price": 1}]}),
    )
    .await;
    assert!(status(&a).1[0].contains("`quantity`"), "{a}");
    let (_, a) = call(
        &app,
        &key,
        "remains.add",
        Body::Json,
        json!({"data": [{"article": "A1", "brand": "B", "warehouse": "good", "quantity": 1, "price": "-5"}]}),
    )
    .await;
    assert!(status(&a).1[0].contains("`price`"), "{a}");
});

both!(errors_and_auth_in_the_envelope, |app: TestApp| async move {
    let key = office_key(&app, "dist-e").await;
    // No hash, a wrong hash: 403 with the envelope, in the type asked for.
    let (s, text) = send_raw(&app, "warehouses.list.json", Body::Json, &json!({})).await;
    assert_eq!(s, 403);
    let a = parse_answer("warehouses.list.json", &text);
    assert_eq!(status(&a).0, "error");
    assert_eq!(a["warehouses"], json!([]));
    let (s, text) = send_raw(&app, "warehouses.list.xml", Body::Xml, &json!({"hash": "wrong"})).await;
    assert_eq!(s, 403);
    assert!(text.contains("<status><code>error</code>"), "{text}");
    // A key without the office scope, and one with it but no distributor.
    let crm_key = app.key.clone();
    let (s, a) = call(&app, &crm_key, "warehouses.list", Body::Form, json!({})).await;
    assert_eq!((s.as_u16(), status(&a).0), (403, "error"));
    let ownerless = app.key_with(&["office"], &[]).await;
    let (s, a) = call(&app, &ownerless, "warehouses.list", Body::Form, json!({})).await;
    assert_eq!(s, 403);
    assert!(status(&a).1[0].contains("дистрибьютор"), "{a}");
    // Other verbs, unknown resources, actions and types.
    let r = app.client.get(format!("{}/restapi/office/warehouses.list.json", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 405);
    let a: Value = r.json().await.unwrap();
    assert_eq!(status(&a).0, "error");
    let (s, a) = call(&app, &key, "widgets.list", Body::Json, json!({})).await;
    assert_eq!(s, 404);
    assert!(status(&a).1[0].contains("`widgets`"), "{a}");
    assert!(a.get("widgets").is_none());
    let (s, a) = call(&app, &key, "orders.delete", Body::Json, json!({})).await;
    assert_eq!(s, 404);
    assert!(status(&a).1[0].contains("`delete`"), "{a}");
    let (s, text) = send_raw(&app, "warehouses.list.yaml", Body::Json, &json!({"hash": key})).await;
    assert_eq!(s, 404);
    assert!(parse_answer("x.json", &text)["status"]["messages"][0].as_str().unwrap().contains("yaml"));
    // The type defaults to JSON.
    let (s, text) = send_raw(&app, "warehouses.list", Body::Json, &json!({"hash": key})).await;
    assert_eq!(s, 200);
    assert_eq!(parse_answer("x.json", &text)["status"]["code"], "ok");
    // Unknown paths under /restapi/ answer in the office envelope too.
    let r = app.client.post(format!("{}/restapi/other", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let a: Value = r.json().await.unwrap();
    assert_eq!(a["status"]["code"], "error");
    // Malformed JSON is an error in the envelope, not a 500.
    let r = app
        .client
        .post(format!("{}/restapi/office/warehouses.list.json", app.base))
        .header("Content-Type", "application/json")
        .body("{\"hash\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let a: Value = r.json().await.unwrap();
    assert!(status(&a).1[0].contains("JSON"), "{a}");
    // JSON and XML sent as a form (PHP's curl does that) are recognised by their first byte.
    for body in [format!("{{\"hash\": \"{key}\"}}"), format!("<request><hash>{key}</hash></request>")] {
        let r = app
            .client
            .post(format!("{}/restapi/office/warehouses.list.json", app.base))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let a: Value = r.json().await.unwrap();
        assert_eq!(a["status"]["code"], "ok", "{a}");
    }
});

both!(remains_are_sold_and_reported_at_once, |app: TestApp| async move {
    let key = office_key(&app, "dist-r").await;
    let buyer_key = buyer(&app, "b-r").await;
    call(&app, &key, "warehouses.add", Body::Json, json!({"data": [{"code": "r1", "period_min": 2, "period_max": 4}]}))
        .await;
    // A part new to the catalogue, uploaded as a form.
    let row = json!({"article": "ZX-100/5", "brand": "Acme", "name": "Фильтр ZX", "warehouse": "r1",
                     "quantity": "7", "price": "123.45", "min_qty": "1"});
    let (_, a) = call(&app, &key, "remains.add", Body::Form, json!({"data": [row]})).await;
    ok(&a);
    assert_eq!(a["remains"][0]["quantity"], "7");
    assert_eq!(a["remains"][0]["price"], "123.45");
    // The parts face sells it at once, with the warehouse's delivery days.
    let found = search(&app, &buyer_key, "zx1005").await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0]["source"].as_str(), found[0]["qty"].as_str()), (Some("r1"), Some("7")));
    assert_eq!(found[0]["price"], "123.45");
    assert_eq!(found[0]["period_max"], 4);
    // The CRM face reports it.
    let (_, inv) = app.get("/api/v5/store/inventories?filter[details]=1").await;
    let offer = inv["offers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["stores"].as_array().is_some_and(|s| s.iter().any(|s| s["store"] == "r1")))
        .cloned();
    let offer = offer.unwrap_or_else(|| panic!("inventories: {inv}"));
    assert_eq!(offer["quantity"], 7);
    // Upload again in JSON (add replaces) and change only the quantity in XML (update keeps the rest).
    let row = json!({"article": "zx1005", "brand": "ACME", "warehouse": "r1", "quantity": 9, "price": 99.5, "period_min": 1, "period_max": 1});
    let (_, a) = call(&app, &key, "remains.add", Body::Json, json!({"data": [row]})).await;
    assert_eq!(
        (a["remains"][0]["quantity"].as_str(), a["remains"][0]["article"].as_str()),
        (Some("9"), Some("ZX-100/5"))
    );
    let (_, a) = call(
        &app,
        &key,
        "remains.update",
        Body::Xml,
        json!({"data": [{"article": "ZX-100/5", "brand": "Acme", "warehouse": "r1", "quantity": "<10"}]}),
    )
    .await;
    ok(&a);
    assert_eq!(a["remains"][0]["quantity"], "<10");
    assert_eq!(a["remains"][0]["price"], "99.50");
    assert_eq!(a["remains"][0]["period_max"], 1);
    let found = search(&app, &buyer_key, "ZX1005").await;
    assert_eq!((found[0]["qty"].as_str(), found[0]["period_max"].as_i64()), (Some("<10"), Some(1)));
    // A second part, "Есть"; list and get with filters in every format.
    let row = json!({"article": "QQ-7", "brand": "Other", "warehouse": "r1", "quantity": "Есть", "price": "10"});
    call(&app, &key, "remains.add", Body::Xml, json!({"data": [row]})).await;
    for how in [Body::Form, Body::Json, Body::Xml] {
        let (_, a) = call(&app, &key, "remains.list", how, json!({})).await;
        assert_eq!(a["remains"].as_array().unwrap().len(), 2, "{a}");
        let (_, a) = call(&app, &key, "remains.get", how, json!({"filter": {"article": ["qq 7"]}})).await;
        assert_eq!(a["remains"].as_array().unwrap().len(), 1, "{a}");
        assert_eq!(a["remains"][0]["quantity"], "Есть");
    }
    let (_, a) = call(&app, &key, "remains.get", Body::Json, json!({"filter": [{"warehouse": "nope"}]})).await;
    assert_eq!(a["remains"], json!([]));
    // update of a row that is not there, add at a warehouse that is not the distributor's.
    let (_, a) = call(
        &app,
        &key,
        "remains.update",
        Body::Json,
        json!({"data": [{"article": "NONE1", "brand": "X", "warehouse": "r1", "quantity": 1}]}),
    )
    .await;
    assert_eq!(status(&a).1, ["Остаток `NONE1` `X` на складе `r1` не найден!"]);
    let (_, a) = call(
        &app,
        &key,
        "remains.add",
        Body::Form,
        json!({"data": [{"article": "A", "brand": "X", "warehouse": "zz", "quantity": 1, "price": 1}]}),
    )
    .await;
    assert_eq!(status(&a).1, ["Склад `zz` не найден!"]);
    // delete in form and JSON: off sale at once.
    let (_, a) = call(
        &app,
        &key,
        "remains.delete",
        Body::Form,
        json!({"data": [{"article": "ZX-100/5", "brand": "Acme", "warehouse": "r1"}]}),
    )
    .await;
    ok(&a);
    assert_eq!(a["remains"].as_array().unwrap().len(), 1);
    assert!(search(&app, &buyer_key, "ZX1005").await.is_empty());
    let (_, a) = call(
        &app,
        &key,
        "remains.delete",
        Body::Json,
        json!({"data": [{"article": "ZX-100/5", "brand": "Acme", "warehouse": "r1"}]}),
    )
    .await;
    assert_eq!(status(&a).1.len(), 1);
    // Deleting a warehouse takes its stock off sale too.
    assert_eq!(search(&app, &buyer_key, "QQ7").await.len(), 1);
    call(&app, &key, "warehouses.delete", Body::Json, json!({"data": [{"code": "r1"}]})).await;
    assert!(search(&app, &buyer_key, "QQ7").await.is_empty());
});

both!(products_and_crosses, |app: TestApp| async move {
    let key = office_key(&app, "dist-p").await;
    let buyer_key = buyer(&app, "b-p").await;
    let (_, a) = call(
        &app,
        &key,
        "products.add",
        Body::Json,
        json!({"data": [{"article": "PX-1", "brand": "Acme", "name": "Колодки", "description": "передние"}]}),
    )
    .await;
    ok(&a);
    let id = a["products"][0]["id"].as_i64().unwrap();
    let (_, a) = call(&app, &key, "products.add", Body::Form, json!({"data": [{"article": "px1", "brand": "ACME", "name": "Другое"}, {"article": "PY-2", "brand": "Acme", "name": "Диск"}]})).await;
    ok(&a);
    assert_eq!(status(&a).1, ["Товар `px1` `ACME` уже существует!"]);
    assert_eq!(a["products"][0]["name"], "Колодки");
    let (_, a) = call(
        &app,
        &key,
        "products.update",
        Body::Xml,
        json!({"data": [{"article": "PX-1", "brand": "Acme", "name": "Колодки тормозные"}]}),
    )
    .await;
    assert_eq!(
        (a["products"][0]["name"].as_str(), a["products"][0]["description"].as_str()),
        (Some("Колодки тормозные"), Some("передние"))
    );
    let (_, a) = call(
        &app,
        &key,
        "products.update",
        Body::Json,
        json!({"data": [{"article": "NOPE", "brand": "Acme", "name": "x"}]}),
    )
    .await;
    assert_eq!(status(&a).1, ["Товар `NOPE` `Acme` не найден!"]);
    for how in [Body::Form, Body::Json, Body::Xml] {
        let (_, a) = call(&app, &key, "products.get", how, json!({"filter": {"id": [id]}})).await;
        assert_eq!(a["products"][0]["article"], "PX-1");
        let (_, a) = call(&app, &key, "products.list", how, json!({"filter": {"brand": "acme"}})).await;
        assert_eq!(a["products"].as_array().unwrap().len(), 2);
    }
    // Crosses: add in every format, duplicates reported, list both directions, search finds analogues.
    let (_, a) = call(
        &app,
        &key,
        "crosses.add",
        Body::Json,
        json!({"data": [{"article": "PX-1", "brand": "Acme", "cross_article": "PY-2", "cross_brand": "Acme"}]}),
    )
    .await;
    ok(&a);
    let (_, a) = call(
        &app,
        &key,
        "crosses.add",
        Body::Form,
        json!({"data": [{"article": "py2", "brand": "acme", "cross_article": "px1", "cross_brand": "ACME"}]}),
    )
    .await;
    assert_eq!(status(&a).1.len(), 1, "{a}");
    assert!(status(&a).1[0].ends_with("уже существует!"));
    let (_, a) = call(
        &app,
        &key,
        "crosses.add",
        Body::Xml,
        json!({"data": [{"article": "PX-1", "brand": "Acme", "cross_article": "PZ-3", "cross_brand": "Other"}]}),
    )
    .await;
    ok(&a);
    for how in [Body::Form, Body::Json, Body::Xml] {
        let (_, a) = call(&app, &key, "crosses.get", how, json!({"filter": {"article": "PX-1"}})).await;
        let list = a["crosses"].as_array().unwrap();
        assert_eq!(list.len(), 2, "{a}");
        assert_eq!(list[0]["cross_article"], "PY-2");
        assert_eq!(list[1]["cross_article"], "PZ3", "a part the catalogue lacks shows its normalised number");
        let (_, a) = call(&app, &key, "crosses.list", how, json!({})).await;
        assert_eq!(a["crosses"].as_array().unwrap().len(), 4);
    }
    call(&app, &key, "warehouses.add", Body::Json, json!({"data": [{"code": "p1"}]})).await;
    call(
        &app,
        &key,
        "remains.add",
        Body::Json,
        json!({"data": [{"article": "PY-2", "brand": "Acme", "warehouse": "p1", "quantity": 3, "price": 5}]}),
    )
    .await;
    let found = search(&app, &buyer_key, "PX1").await;
    assert_eq!(found.len(), 1);
    assert_eq!((found[0]["code"].as_str(), found[0]["is_cross"].as_bool()), (Some("PY-2"), Some(true)));
    let (_, a) = call(
        &app,
        &key,
        "crosses.delete",
        Body::Form,
        json!({"data": [{"article": "PY-2", "brand": "Acme", "cross_article": "PX-1", "cross_brand": "Acme"}]}),
    )
    .await;
    ok(&a);
    assert!(search(&app, &buyer_key, "PX1").await.is_empty());
    let (_, a) = call(
        &app,
        &key,
        "crosses.delete",
        Body::Json,
        json!({"data": [{"article": "PY-2", "brand": "Acme", "cross_article": "PX-1", "cross_brand": "Acme"}]}),
    )
    .await;
    assert!(status(&a).1[0].ends_with("не найден!"));
    let (_, a) = call(
        &app,
        &key,
        "crosses.delete",
        Body::Xml,
        json!({"data": [{"article": "PX-1", "brand": "Acme", "cross_article": "PZ-3", "cross_brand": "Other"}]}),
    )
    .await;
    assert_eq!(a["crosses"].as_array().unwrap().len(), 1);
});

/// An order on the default site shipped from `warehouse`, through the CRM face.
pub async fn shipped_order(app: &TestApp, warehouse: &str, number: &str) -> i64 {
    let order = json!({"number": number, "firstName": "Анна", "phone": "+79990001122", "email": "anna@example.ru",
                       "shipmentStore": warehouse, "items": [{"productName": "Фильтр", "quantity": 2, "initialPrice": 100}]});
    let (s, b) = app.post("/api/v5/orders/create", &[("order", &order.to_string()), ("site", "default")]).await;
    assert_eq!(s, 201, "{b}");
    b["id"].as_i64().unwrap()
}

both!(orders_status_and_tracks_are_the_crm_ones, |app: TestApp| async move {
    let key = office_key(&app, "dist-o").await;
    call(&app, &key, "warehouses.add", Body::Json, json!({"data": [{"code": "o1", "name": "Склад О"}]})).await;
    let id = shipped_order(&app, "o1", "7001A").await;
    for how in [Body::Form, Body::Json, Body::Xml] {
        let (_, a) = call(&app, &key, "orders.list", how, json!({})).await;
        ok(&a);
        let list = a["orders"].as_array().unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!((list[0]["number"].as_str(), list[0]["warehouse"].as_str()), (Some("7001A"), Some("o1")));
        assert_eq!(list[0]["items"][0]["quantity"], "2");
        let text = list[0].to_string();
        assert!(
            !text.contains("Анна") && !text.contains("anna@") && !text.contains("7999"),
            "no personal data: {text}"
        );
        let (_, a) = call(&app, &key, "orders.get", how, json!({"filter": {"number": ["7001A"]}})).await;
        assert_eq!(a["orders"][0]["id"], id);
    }
    // Tracking numbers as a list (JSON), as text (form), and a status (XML).
    let (_, a) =
        call(&app, &key, "orders.update", Body::Json, json!({"data": [{"id": id, "track_numbers": ["RA1", "RA2"]}]}))
            .await;
    ok(&a);
    assert_eq!(a["orders"][0]["track_numbers"], json!(["RA1", "RA2"]));
    let (_, crm) = app.get(&format!("/api/v5/orders/{id}?by=id")).await;
    assert_eq!(crm["order"]["delivery"]["data"]["trackNumber"], "RA1,RA2");
    let (_, a) = call(
        &app,
        &key,
        "orders.update",
        Body::Form,
        json!({"data": [{"number": "7001A", "track_numbers": "RA1, RA3"}]}),
    )
    .await;
    assert_eq!(a["orders"][0]["track_numbers"], json!(["RA1", "RA3"]));
    let (_, a) =
        call(&app, &key, "orders.update", Body::Xml, json!({"data": [{"id": id, "status": "assembling"}]})).await;
    ok(&a);
    assert_eq!(
        (a["orders"][0]["status"].as_str(), a["orders"][0]["track_numbers"][1].as_str()),
        (Some("assembling"), Some("RA3"))
    );
    let (_, crm) = app.get(&format!("/api/v5/orders/{id}?by=id")).await;
    assert_eq!(crm["order"]["status"], "assembling");
    // Each change has a history record attributed to the office key.
    let office_key_id = app.store.find_key(&key).await.unwrap().unwrap().id;
    let filter = torg_store::HistoryFilter { entity_id: Some(id), ..Default::default() };
    let (records, _) =
        app.store.order_history(&filter, torg_domain::page::PageRequest { limit: 100, page: 1 }).await.unwrap();
    let by_key: Vec<_> = records.iter().filter(|h| h.api_key_id == Some(office_key_id)).collect();
    assert!(by_key.iter().any(|h| h.field.as_deref() == Some("status")), "{records:?}");
    assert!(by_key.len() >= 3, "{records:?}");
    // Invalid status: error, nothing changed; unknown order: a message.
    let (_, a) = call(&app, &key, "orders.update", Body::Json, json!({"data": [{"id": id, "status": "flying"}]})).await;
    assert!(status(&a).1[0].contains("`flying`"), "{a}");
    let (_, a) =
        call(&app, &key, "orders.update", Body::Json, json!({"data": [{"id": 999999, "status": "new"}]})).await;
    assert_eq!(status(&a).1, ["Заказ `999999` не найден!"]);
    // A CRM edit of the tracking numbers shows here: one truth.
    let edit = json!({"delivery": {"data": {"trackNumber": "CRM9"}}});
    let (s, b) = app
        .post(&format!("/api/v5/orders/{id}/edit"), &[("by", "id"), ("order", &edit.to_string()), ("site", "default")])
        .await;
    assert_eq!(s, 200, "{b}");
    let (_, a) = call(&app, &key, "orders.get", Body::Json, json!({"filter": {"id": id}})).await;
    assert_eq!(a["orders"][0]["track_numbers"], json!(["CRM9"]));
});

both!(taking_stock_off_sale_keeps_what_orders_hold, |app: TestApp| async move {
    let key = office_key(&app, "dist-h").await;
    let buyer_key = buyer(&app, "b-h").await;
    call(&app, &key, "warehouses.add", Body::Json, json!({"data": [{"code": "h1"}, {"code": "h2"}]})).await;
    let rows = json!({"data": [
        {"article": "HOLD-1", "brand": "Acme", "warehouse": "h1", "quantity": 5, "price": 10},
        {"article": "FREE-1", "brand": "Acme", "warehouse": "h1", "quantity": 5, "price": 10},
        {"article": "HOLD-1", "brand": "Acme", "warehouse": "h2", "quantity": 4, "price": 10},
    ]});
    ok(&call(&app, &key, "remains.add", Body::Json, rows).await.1);
    // The buyer orders 2 of HOLD-1 at h1: they are reserved there.
    let found = search(&app, &buyer_key, "HOLD1").await;
    let mut row = found.iter().find(|r| r["source"] == "h1").cloned().unwrap_or_else(|| panic!("{found:?}"));
    row["order_qty"] = json!(2);
    let r = app.client.post(format!("{}/v1/order/?api_key={buyer_key}", app.base)).json(&row).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let held = |a: &Value, article: &str, warehouse: &str| {
        a["remains"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["article"] == article && r["warehouse"] == warehouse)
            .cloned()
    };
    // Off sale at h1: the unreserved part goes, the reserved one stays with nothing more to sell.
    let gone = json!({"data": [{"article": "HOLD-1", "brand": "Acme", "warehouse": "h1"},
                               {"article": "FREE-1", "brand": "Acme", "warehouse": "h1"}]});
    ok(&call(&app, &key, "remains.delete", Body::Json, gone).await.1);
    let (_, a) = call(&app, &key, "remains.list", Body::Json, json!({})).await;
    assert!(held(&a, "FREE-1", "h1").is_none(), "{a}");
    let kept = held(&a, "HOLD-1", "h1").unwrap_or_else(|| panic!("{a}"));
    assert_eq!((kept["quantity"].as_str(), kept["reserved"].as_i64()), (Some("0"), Some(2)), "{a}");
    assert_eq!(held(&a, "HOLD-1", "h2").unwrap()["quantity"], "4");
    let sources: Vec<Value> = search(&app, &buyer_key, "HOLD1").await.iter().map(|r| r["source"].clone()).collect();
    assert_eq!(sources, [json!("h2")]);
    // Closing h2 takes its stock off sale the same way.
    ok(&call(&app, &key, "warehouses.delete", Body::Json, json!({"data": [{"code": "h2"}]})).await.1);
    assert!(search(&app, &buyer_key, "HOLD1").await.is_empty());
});

/// `orders.update` checks that the order is the distributor's in the transaction that edits it: a
/// write moving the order to another distributor's warehouse, committed while the update waits for it,
/// is seen (the order is no longer this distributor's) and not overwritten. PostgreSQL only: SQLite's
/// single writer never lets the two interleave.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_update_sees_a_warehouse_move_committed_while_it_waits() {
    let app = crate::common::spawn(crate::common::Backend::Postgres).await;
    let key = office_key(&app, "dist-r").await;
    call(&app, &key, "warehouses.add", Body::Json, json!({"data": [{"code": "r1"}]})).await;
    let other = office_key(&app, "dist-s").await;
    call(&app, &other, "warehouses.add", Body::Json, json!({"data": [{"code": "s1"}]})).await;
    let id = shipped_order(&app, "r1", "9001A").await;
    // Another writer moves the order to s1, says so once its row is locked, and commits two seconds on.
    let dir = tempfile::tempdir().unwrap();
    let locked = dir.path().join("locked");
    let script = format!(
        "BEGIN;\nUPDATE orders SET shipment_store = 's1' WHERE id = {id};\n\\! touch '{}'\nSELECT pg_sleep(2);\nCOMMIT;\n",
        locked.display()
    );
    let mut psql = std::process::Command::new("psql")
        .args([app.database_url.as_str(), "-q", "-X", "-v", "ON_ERROR_STOP=1", "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("psql");
    std::io::Write::write_all(&mut psql.stdin.take().unwrap(), script.as_bytes()).unwrap();
    for _ in 0..200 {
        if locked.exists() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(locked.exists(), "the other writer never locked the order");
    let (_, a) =
        call(&app, &key, "orders.update", Body::Json, json!({"data": [{"id": id, "status": "assembling"}]})).await;
    assert!(psql.wait().unwrap().success());
    assert_eq!(status(&a).1, [format!("Заказ `{id}` не найден!")], "{a}");
    let order = app.store.get_order(&torg_store::OrderLookup::Id(id)).await.unwrap().unwrap();
    assert_eq!(order.status, "new");
    let (_, a) = call(&app, &other, "orders.get", Body::Json, json!({"filter": {"id": id}})).await;
    assert_eq!(a["orders"][0]["id"], id, "{a}");
}

both!(distributors_are_isolated, |app: TestApp| async move {
    let a_key = office_key(&app, "dist-one").await;
    let b_key = office_key(&app, "dist-two").await;
    call(&app, &a_key, "warehouses.add", Body::Json, json!({"data": [{"code": "a1", "contacts": "A"}]})).await;
    call(
        &app,
        &a_key,
        "remains.add",
        Body::Json,
        json!({"data": [{"article": "ISO-1", "brand": "X", "warehouse": "a1", "quantity": 5, "price": 10}]}),
    )
    .await;
    let id = shipped_order(&app, "a1", "8001A").await;
    // B sees none of A's warehouses, stock or orders.
    let (_, a) = call(&app, &b_key, "warehouses.list", Body::Json, json!({})).await;
    assert_eq!(a["warehouses"], json!([]));
    let (_, a) = call(&app, &b_key, "remains.list", Body::Form, json!({})).await;
    assert_eq!(a["remains"], json!([]));
    let (_, a) = call(&app, &b_key, "orders.list", Body::Xml, json!({})).await;
    assert_eq!(a["orders"], json!([]));
    let (_, a) = call(&app, &b_key, "orders.get", Body::Json, json!({"filter": {"id": id}})).await;
    assert_eq!(a["orders"], json!([]));
    // B cannot change them either: each attempt is "not found" (or "exists" for add), and A's data stays.
    let (_, a) =
        call(&app, &b_key, "warehouses.add", Body::Json, json!({"data": [{"code": "a1", "contacts": "B"}]})).await;
    assert_eq!((status(&a).1, a["warehouses"].clone()), (vec!["Склад `a1` уже существует!".to_string()], json!([])));
    let (_, a) =
        call(&app, &b_key, "warehouses.update", Body::Json, json!({"data": [{"code": "a1", "contacts": "B"}]})).await;
    assert_eq!(status(&a).1, ["Склад `a1` не найден!"]);
    let (_, a) = call(&app, &b_key, "warehouses.delete", Body::Form, json!({"data": [{"code": "a1"}]})).await;
    assert_eq!(status(&a).1, ["Склад `a1` не найден!"]);
    let (_, a) = call(
        &app,
        &b_key,
        "remains.add",
        Body::Json,
        json!({"data": [{"article": "ISO-1", "brand": "X", "warehouse": "a1", "quantity": 0, "price": 1}]}),
    )
    .await;
    assert_eq!(status(&a).1, ["Склад `a1` не найден!"]);
    let (_, a) = call(
        &app,
        &b_key,
        "remains.update",
        Body::Xml,
        json!({"data": [{"article": "ISO-1", "brand": "X", "warehouse": "a1", "quantity": 0}]}),
    )
    .await;
    assert_eq!(status(&a).1.len(), 1);
    let (_, a) = call(
        &app,
        &b_key,
        "remains.delete",
        Body::Json,
        json!({"data": [{"article": "ISO-1", "brand": "X", "warehouse": "a1"}]}),
    )
    .await;
    assert_eq!(status(&a).1.len(), 1);
    let (_, a) = call(
        &app,
        &b_key,
        "orders.update",
        Body::Json,
        json!({"data": [{"id": id, "status": "cancel-other", "track_numbers": ["B1"]}]}),
    )
    .await;
    assert_eq!(status(&a).1, [format!("Заказ `{id}` не найден!")]);
    // A's data is untouched.
    let (_, a) = call(&app, &a_key, "warehouses.list", Body::Json, json!({})).await;
    assert_eq!(a["warehouses"][0]["contacts"], "A");
    let (_, a) = call(&app, &a_key, "remains.list", Body::Json, json!({})).await;
    assert_eq!(a["remains"][0]["quantity"], "5");
    let (_, a) = call(&app, &a_key, "orders.list", Body::Json, json!({})).await;
    assert_eq!((a["orders"][0]["status"].as_str(), a["orders"][0]["track_numbers"].clone()), (Some("new"), json!([])));
});

both!(first_key_creates_the_distributor_and_its_warehouses_answer_once, |app: TestApp| async move {
    // Store-level: the office functions on both engines, a batch per transaction.
    let store = &app.store;
    office_key(&app, "dist-s").await;
    let rows = vec![
        torg_store::WarehouseInput { code: "s1".into(), ..Default::default() },
        torg_store::WarehouseInput { code: "s1".into(), ..Default::default() },
    ];
    let out = store.add_office_warehouses("dist-s", &rows).await.unwrap();
    assert!(matches!(out[0], torg_store::RowOutcome::Written(_)));
    assert!(matches!(out[1], torg_store::RowOutcome::Exists(_)));
    let out = store.add_office_warehouses("dist-t", &rows[..1]).await.unwrap();
    assert_eq!(out, vec![torg_store::RowOutcome::Taken]);
    assert_eq!(store.distributor_warehouses("dist-s").await.unwrap().len(), 1);
    assert!(store.distributor_warehouses("dist-t").await.unwrap().is_empty());
});

both!(key_create_with_distributor_from_the_command_line, |app: TestApp| async move {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_torg"))
        .args(["key", "create", "--name", "acme office", "--scope", "office", "--distributor", "acme"])
        .args(["--database", &app.database_url])
        .output()
        .expect("run torg");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let key = stdout.lines().last().unwrap().trim().to_string();
    // The first key for a new code made the distributor; its warehouses are its own.
    let (s, a) = call(&app, &key, "warehouses.add", Body::Form, json!({"data": [{"code": "acme-1"}]})).await;
    assert_eq!((s.as_u16(), status(&a).0), (200, "ok"), "{a}");
    assert_eq!(app.store.distributor_warehouses("acme").await.unwrap().len(), 1);
    let other = office_key(&app, "acme").await;
    let (_, a) = call(&app, &other, "warehouses.list", Body::Json, json!({})).await;
    assert_eq!(codes(&a, "warehouses"), ["acme-1"], "a second key of the same distributor sees the same warehouses");
});

/// Sends a write once, asking for the XML answer; returns the answer's tree.
async fn call_xml(app: &TestApp, key: &str, resource_action: &str, how: Body, mut body: Value) -> Value {
    body["hash"] = json!(key);
    let xml_call = format!("{resource_action}.xml");
    let (s, text) = send_raw(app, &xml_call, how, &body).await;
    assert_eq!(s, 200, "{text}");
    let tree = parse_answer(&xml_call, &text);
    assert_eq!(tree["status"]["code"], "ok", "{text}");
    tree
}

both!(every_write_answers_in_xml_too, |app: TestApp| async move {
    let key = office_key(&app, "dist-xw").await;
    let t =
        call_xml(&app, &key, "warehouses.add", Body::Form, json!({"data": [{"code": "x1", "period_max": 3}]})).await;
    assert_eq!(
        (t["warehouses"][0]["code"].as_str(), t["warehouses"][0]["period_max"].as_str()),
        (Some("x1"), Some("3"))
    );
    let t = call_xml(&app, &key, "warehouses.add", Body::Json, json!({"data": [{"code": "x1"}]})).await;
    assert_eq!(t["status"]["messages"], json!(["Склад `x1` уже существует!"]));
    let t = call_xml(&app, &key, "warehouses.update", Body::Xml, json!({"data": [{"code": "x1", "address": "Псков"}]}))
        .await;
    assert_eq!(t["warehouses"][0]["address"], "Псков");
    let row = json!({"article": "XW-1", "brand": "B", "warehouse": "x1", "quantity": ">50", "price": "1.5"});
    let t = call_xml(&app, &key, "remains.add", Body::Xml, json!({"data": [row]})).await;
    assert_eq!((t["remains"][0]["quantity"].as_str(), t["remains"][0]["price"].as_str()), (Some(">50"), Some("1.50")));
    let t = call_xml(
        &app,
        &key,
        "remains.update",
        Body::Form,
        json!({"data": [{"article": "XW-1", "brand": "B", "warehouse": "x1", "min_qty": 2}]}),
    )
    .await;
    assert_eq!(t["remains"][0]["min_qty"], "2");
    let t = call_xml(
        &app,
        &key,
        "remains.delete",
        Body::Json,
        json!({"data": [{"article": "XW-1", "brand": "B", "warehouse": "x1"}]}),
    )
    .await;
    assert_eq!(t["remains"][0]["article"], "XW-1");
    let t = call_xml(
        &app,
        &key,
        "products.add",
        Body::Json,
        json!({"data": [{"article": "XW-2", "brand": "B", "name": "Ремень"}]}),
    )
    .await;
    assert_eq!(t["products"][0]["name"], "Ремень");
    let t = call_xml(
        &app,
        &key,
        "products.update",
        Body::Form,
        json!({"data": [{"article": "XW-2", "brand": "B", "description": "узкий"}]}),
    )
    .await;
    assert_eq!(t["products"][0]["description"], "узкий");
    let cross = json!({"data": [{"article": "XW-1", "brand": "B", "cross_article": "XW-2", "cross_brand": "B"}]});
    let t = call_xml(&app, &key, "crosses.add", Body::Xml, cross.clone()).await;
    assert_eq!(t["crosses"][0]["cross_article"], "XW-2");
    let t = call_xml(&app, &key, "crosses.delete", Body::Form, cross).await;
    assert_eq!(t["crosses"][0]["article"], "XW-1");
    let id = shipped_order(&app, "x1", "7301X").await;
    let t =
        call_xml(&app, &key, "orders.update", Body::Xml, json!({"data": [{"id": id, "track_numbers": ["Z1", "Z2"]}]}))
            .await;
    assert_eq!(t["orders"][0]["track_numbers"], json!(["Z1", "Z2"]));
    let t = call_xml(&app, &key, "warehouses.delete", Body::Xml, json!({"data": [{"code": "x1"}]})).await;
    assert_eq!(t["warehouses"][0]["code"], "x1");
});

both!(filters_by_any_listed_field, |app: TestApp| async move {
    let key = office_key(&app, "dist-f").await;
    call(&app, &key, "warehouses.add", Body::Json, json!({"data": [{"code": "f1"}, {"code": "f2"}]})).await;
    let rows = json!([
        {"article": "F-1", "brand": "A", "name": "Фильтр", "warehouse": "f1", "quantity": "Есть", "price": "10"},
        {"article": "F-2", "brand": "A", "name": "Диск", "warehouse": "f1", "quantity": 3, "price": "20", "min_qty": 2},
        {"article": "F-3", "brand": "B", "name": "Диск", "warehouse": "f2", "quantity": 3, "price": "30"},
    ]);
    call(&app, &key, "remains.add", Body::Json, json!({"data": rows})).await;
    let articles = |a: &Value, field: &str| -> Vec<String> {
        a[field].as_array().unwrap().iter().map(|r| r["article"].as_str().unwrap().to_string()).collect()
    };
    let (_, a) = call(&app, &key, "remains.list", Body::Form, json!({"filter": {"quantity": ["Есть"]}})).await;
    assert_eq!(articles(&a, "remains"), ["F-1"]);
    let (_, a) =
        call(&app, &key, "remains.list", Body::Xml, json!({"filter": {"quantity": "3", "price": "30.00"}})).await;
    assert_eq!(articles(&a, "remains"), ["F-3"]);
    let (_, a) =
        call(&app, &key, "remains.list", Body::Json, json!({"filter": [{"name": "Диск"}], "limit": 1, "page": 2}))
            .await;
    assert_eq!(articles(&a, "remains"), ["F-3"]);
    let (_, a) = call(&app, &key, "remains.get", Body::Json, json!({"filter": {"min_qty": [2]}})).await;
    assert_eq!(articles(&a, "remains"), ["F-2"]);
    let (_, a) = call(&app, &key, "products.list", Body::Form, json!({"filter": {"name": ["Диск"]}})).await;
    assert_eq!(articles(&a, "products"), ["F-2", "F-3"]);
    call(
        &app,
        &key,
        "crosses.add",
        Body::Json,
        json!({"data": [{"article": "F-1", "brand": "A", "cross_article": "F-3", "cross_brand": "B"}]}),
    )
    .await;
    let (_, a) = call(&app, &key, "crosses.list", Body::Xml, json!({"filter": {"cross_article": "f3"}})).await;
    assert_eq!(articles(&a, "crosses"), ["F-1"]);
    let one = shipped_order(&app, "f1", "7401F").await;
    let two = shipped_order(&app, "f2", "7402F").await;
    call(&app, &key, "orders.update", Body::Json, json!({"data": [{"id": two, "status": "assembling"}]})).await;
    let (_, a) = call(&app, &key, "orders.list", Body::Form, json!({"filter": {"status": ["new"]}})).await;
    assert_eq!(a["orders"].as_array().unwrap().iter().map(|o| o["id"].as_i64().unwrap()).collect::<Vec<_>>(), [one]);
    let (_, a) = call(&app, &key, "orders.list", Body::Xml, json!({"filter": {"warehouse": "f2"}})).await;
    assert_eq!(a["orders"].as_array().unwrap().iter().map(|o| o["id"].as_i64().unwrap()).collect::<Vec<_>>(), [two]);
});
