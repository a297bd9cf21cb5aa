//! The authorization matrix: every keyed route of every face, read from the same declarations the
//! router is built from, called with no key, a wrong key, a revoked key, a key without the route's
//! scope, a key used from an address outside its allow-list, and a key of the wrong kind of owner.
//! Each answer must be the face's refusal (401 or 403 in its own envelope) and carry no data.

use crate::common::{TestApp, both};
use serde_json::Value;
use std::net::IpAddr;
use torg_domain::key::{ALL_SCOPES, SiteAccess};
use torg_http::kit::{Access, KeySource, all_routes};
use torg_store::NewKey;

/// A key made for the matrix.
async fn key(
    app: &TestApp,
    scopes: &[&str],
    ips: &[&str],
    customer: Option<&str>,
    distributor: Option<&str>,
) -> String {
    let plain = format!("authz-{}", uuid::Uuid::new_v4().simple());
    app.store
        .create_key(NewKey {
            plain: plain.clone(),
            name: plain.clone(),
            scopes: scopes.iter().map(|s| (*s).to_string()).collect(),
            sites: SiteAccess::Full,
            allowed_ips: ips.iter().map(|i| i.parse::<IpAddr>().expect("ip")).collect(),
            customer_external_id: customer.map(str::to_owned),
            distributor: distributor.map(str::to_owned),
        })
        .await
        .expect("key");
    plain
}

/// A concrete path for a declared one: every `{param}` filled (the office call with a real one).
fn concrete(path: &str) -> String {
    if path.starts_with("/restapi/office/") {
        return "/restapi/office/orders.list.json".into();
    }
    filled(path, "1")
}

/// Sends the route's request with `plain` where the face takes its key (or no key at all).
async fn call(
    app: &TestApp,
    face: &torg_http::kit::Face,
    method: &str,
    path: &str,
    plain: Option<&str>,
) -> (u16, Value) {
    let method = if method == "ANY" { "POST" } else { method };
    let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut url = format!("{}{path}", app.base);
    let mut req = app.client.request(m.clone(), &url).header("Accept", "application/json");
    let mut form: Vec<(String, String)> = Vec::new();
    if let Some(k) = plain {
        match face.keys.first() {
            Some(KeySource::Header(h)) => req = req.header(*h, k),
            Some(KeySource::Bearer) => req = req.header("Authorization", format!("Bearer {k}")),
            Some(KeySource::Query(q)) => {
                url = format!("{url}{}{q}={k}", if url.contains('?') { '&' } else { '?' });
                req = app.client.request(m.clone(), &url).header("Accept", "application/json");
            }
            Some(KeySource::Body(b)) => form.push(((*b).to_string(), k.to_string())),
            None => {}
        }
    }
    if face.name == "billing" && matches!(method, "POST" | "PUT") {
        req = req.header("Content-Type", "application/json").body("{}");
    } else if matches!(method, "POST" | "PUT") {
        req = req.form(&form);
    }
    let r = req.send().await.expect("send");
    let status = r.status().as_u16();
    let text = r.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// A refusal in the face's envelope, with nothing else in it.
fn refused(face: &str, status: u16, body: &Value) -> bool {
    let only = |keys: &[&str]| body.as_object().is_some_and(|o| o.keys().all(|k| keys.contains(&k.as_str())));
    let status_ok = status == 401 || status == 403;
    status_ok
        && match face {
            "crm" => body["success"] == false && body["errorMsg"].is_string() && only(&["success", "errorMsg"]),
            "billing" => body["error"]["code"].is_string() && only(&["error"]),
            "parts" => body["error"].is_string() && only(&["error"]),
            // The office's envelope names the resource beside the status; on a refusal its rows are empty.
            "office" => {
                body["status"]["code"] == "error"
                    && body.as_object().is_some_and(|o| {
                        o.iter().all(|(k, v)| k == "status" || v.as_array().is_some_and(Vec::is_empty))
                    })
            }
            _ => false,
        }
}

both!(every_keyed_route_refuses_every_wrong_key, |app: TestApp| async move {
    let (s, b) =
        app.post("/api/v5/customers/create", &[("customer", r#"{"externalId":"authz-buyer","firstName":"B"}"#)]).await;
    assert_eq!(s, 201, "{b}");
    let all: Vec<&str> = ALL_SCOPES.to_vec();
    let revoked = key(&app, &all, &[], None, None).await;
    assert_eq!(app.store.revoke_key(&revoked).await.expect("revoke"), 1);
    let elsewhere = key(&app, &all, &["10.255.255.1"], None, None).await;
    // Owners of the wrong kind: a distributor's key on the parts face, a buyer's on the office face.
    let distributor = key(&app, &all, &[], None, Some("authz-dist")).await;
    let buyer = key(&app, &all, &[], Some("authz-buyer"), None).await;

    let mut checked = 0;
    for (face, route) in all_routes() {
        if !route.documented && route.method != "ANY" {
            continue;
        }
        let scope = match route.access {
            Access::Public => continue,
            Access::AnyKey => None,
            Access::Scope(s) | Access::ScopeIfKeyed(s) => Some(s),
        };
        // A documented office call is served by the dispatcher route, checked once through it.
        if face.name == "office" && route.method != "ANY" {
            continue;
        }
        let path = concrete(&route.path);
        let without_scope: Vec<&str> = all.iter().copied().filter(|s| Some(*s) != scope).collect();
        let (customer, dist) = match face.name {
            "parts" => (Some("authz-buyer"), None),
            "office" => (None, Some("authz-dist")),
            _ => (None, None),
        };
        let lacking = key(&app, &without_scope, &[], customer, dist).await;
        let mut cases: Vec<(&str, Option<String>)> = vec![
            ("wrong key", Some("no-such-key-0000000000000000000000".into())),
            ("revoked key", Some(revoked.clone())),
            ("address outside the allow-list", Some(elsewhere.clone())),
        ];
        if !matches!(route.access, Access::ScopeIfKeyed(_)) {
            cases.push(("no key", None));
        }
        if scope.is_some() {
            cases.push(("key without the scope", Some(lacking)));
        }
        match face.name {
            "parts" => cases.push(("a distributor's key", Some(distributor.clone()))),
            "office" => cases.push(("a buyer's key", Some(buyer.clone()))),
            _ => {}
        }
        for (case, plain) in cases {
            let (status, body) = call(&app, face, route.method, &path, plain.as_deref()).await;
            assert!(
                refused(face.name, status, &body),
                "{} {} ({}), {case}: {status} {body}",
                route.method,
                path,
                face.name
            );
            checked += 1;
        }
    }
    assert!(checked > 500, "{checked} refusals checked");
});

/// `path` with every `{param}` set to `id`.
fn filled(path: &str, id: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        out.push_str(id);
        rest = rest[start..].find('}').map_or("", |e| &rest[start + e + 1..]);
    }
    out + rest
}

/// The marker every entity of the guarded owner carries; it must never appear in another's answer.
const MARK: &str = "GUARDEDMARK7";

both!(no_route_shows_another_sites_or_buyers_data, |app: TestApp| async move {
    // The guarded data on the `default` site: a customer and an order both with externalId "1" (so
    // every `{id}` path reaches them by either lookup), an invoice, and a parts buyer's order.
    let customer = format!(r#"{{"externalId":"1","firstName":"{MARK}","email":"{MARK}@example.com"}}"#);
    let (s, b) = app.post("/api/v5/customers/create", &[("customer", &customer), ("site", "default")]).await;
    assert_eq!(s, 201, "{b}");
    let order = format!(
        r#"{{"externalId":"1","firstName":"{MARK}","customerComment":"{MARK}","customer":{{"externalId":"1"}}}}"#
    );
    let (s, b) = app.post("/api/v5/orders/create", &[("order", &order), ("site", "default")]).await;
    assert_eq!(s, 201, "{b}");
    crate::billing_support::merchant(&app, None).await;
    let mut invoice = crate::billing_support::invoice_body("1", &[crate::billing_support::line("A-1", "100.00", 1)]);
    invoice["description"] = Value::String(MARK.into());
    let invoice_id = crate::billing_support::create(&app, &invoice).await["id"].as_str().unwrap().to_string();
    let (s, b) =
        app.post("/api/v5/customers/create", &[("customer", r#"{"externalId":"buyer-a","firstName":"A"}"#)]).await;
    assert_eq!(s, 201, "{b}");
    let (s, b) =
        app.post("/api/v5/customers/create", &[("customer", r#"{"externalId":"buyer-b","firstName":"B"}"#)]).await;
    assert_eq!(s, 201, "{b}");
    let buyer_a = key(&app, &["parts"], &[], Some("buyer-a"), None).await;
    let buyer_b = key(&app, &["parts"], &[], Some("buyer-b"), None).await;
    let stock = serde_json::json!([{"externalId": "authz-o", "stores": [{"code": "main", "available": 5}]}]);
    let products = serde_json::json!([{"externalId": "authz-p", "name": "Guarded", "article": "AUTHZ-1",
        "manufacturer": "ACME", "offers": [{"externalId": "authz-o", "name": "Guarded", "price": 10}]}]);
    assert_eq!(app.post("/api/v5/store/products/batch/create", &[("products", &products.to_string())]).await.0, 200);
    assert_eq!(app.post("/api/v5/store/inventories/upload", &[("offers", &stock.to_string())]).await.0, 200);
    let r = app.client.get(format!("{}/v1/search/?q=AUTHZ-1&api_key={buyer_a}", app.base)).send().await.unwrap();
    let rows: Value = r.json().await.unwrap();
    let mut row = rows["objects"][0].clone();
    assert!(row.is_object(), "the buyer finds the part: {rows}");
    row["order_qty"] = Value::from(1);
    row["client_comment"] = Value::String(MARK.into());
    let r = app.client.post(format!("{}/v1/order/?api_key={buyer_a}", app.base)).json(&row).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let parts_order = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap().to_string();

    let before = app.get("/api/v5/orders/1?by=id").await;
    // The other owners: a key of another site with every scope, and another buyer.
    app.add_site("elsewhere").await;
    let plain = format!("authz-site-{}", uuid::Uuid::new_v4().simple());
    app.store
        .create_key(NewKey {
            plain: plain.clone(),
            name: plain.clone(),
            scopes: ALL_SCOPES.iter().map(|s| (*s).to_string()).collect(),
            sites: SiteAccess::Selective(vec!["elsewhere".into()]),
            allowed_ips: Vec::new(),
            customer_external_id: None,
            distributor: None,
        })
        .await
        .expect("key");

    let mut checked = 0;
    for (face, route) in all_routes() {
        if !route.documented || matches!(route.access, Access::Public) {
            continue;
        }
        let (other, id) = match face.name {
            "crm" => (plain.as_str(), "1"),
            "billing" => (plain.as_str(), invoice_id.as_str()),
            "parts" => (buyer_b.as_str(), parts_order.as_str()),
            // Distributors' isolation, call by call, is `office::distributors_are_isolated`.
            _ => continue,
        };
        let path = filled(&route.path, id);
        let variants: &[&str] =
            if face.name == "crm" { &["", "?by=id", "?site=default", "?by=id&site=default"] } else { &[""] };
        for v in variants {
            let (status, body) = call(&app, face, route.method, &format!("{path}{v}"), Some(other)).await;
            let text = body.to_string();
            assert!(
                status < 500 && !text.contains(MARK),
                "{} {path}{v} ({}) with another owner's key: {status} {text}",
                route.method,
                face.name
            );
            checked += 1;
        }
    }
    assert!(checked > 300, "{checked} calls checked");
    // Nothing the other keys sent changed the guarded order.
    assert_eq!(app.get("/api/v5/orders/1?by=id").await, before);
});
