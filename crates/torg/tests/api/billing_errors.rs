//! Every error code of docs/billing.md's table from a request that should produce it, each changing nothing;
//! the documented transport rules (headers, bearer, signature) and the shared failures in the billing
//! envelope.

use crate::billing_support::{MERCHANT, call, call_as, create, invoice_body, line, merchant};
use crate::common::{TestApp, both, spawn_with};
use serde_json::{Value, json};
use torg_store::BillingSettingsPatch;

/// Every invoice the test key sees, as stored.
async fn snapshot(app: &TestApp) -> Value {
    let (s, b) = call(app, "GET", "/v3/filter/api/order/order?_order[createdAt]=asc&pageSize=1000", None).await;
    assert_eq!(s, 200, "{b}");
    b["data"].clone()
}

fn assert_error(reply: &(reqwest::StatusCode, Value), status: u16, code: &str) {
    assert_eq!(reply.0.as_u16(), status, "{}", reply.1);
    assert_eq!(reply.1["error"]["code"], code, "{}", reply.1);
    assert!(reply.1["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", reply.1);
    assert!(reply.1["error"]["fields"].is_array(), "{}", reply.1);
}

both!(every_a6_code_changes_nothing, |app: TestApp| async move {
    merchant(&app, None).await;
    let paid = create(&app, &invoice_body("e-paid", &[line("A", "100", 1)])).await;
    let open = create(&app, &invoice_body("e-open", &[line("A", "100", 1)])).await;
    let pay = std::process::Command::new(env!("CARGO_BIN_EXE_torg"))
        .args(["invoice", "pay", paid["id"].as_str().unwrap(), "--database", &app.database_url])
        .output()
        .unwrap();
    assert!(pay.status.success());
    let before = snapshot(&app).await;
    let base = invoice_body("e-new", &[line("A", "100", 2)]);
    let with = |f: &dyn Fn(&mut Value)| {
        let mut b = base.clone();
        f(&mut b);
        b
    };
    let post = |body: Value| {
        let app = &app;
        async move { call(app, "POST", "/v3/billing/api/order/order", Some(&body)).await }
    };
    // unauthorized: no token, a wrong token.
    let r = app
        .client
        .post(format!("{}/v3/billing/api/order/order", app.base))
        .header("Accept", "application/json")
        .header("User-Agent", "t/1")
        .header("Content-Type", "application/json")
        .body(base.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status();
    assert_error(&(status, r.json().await.unwrap()), 401, "unauthorized");
    assert_error(
        &call_as(&app, "no-such-key", "POST", "/v3/billing/api/order/order", Some(&base)).await,
        401,
        "unauthorized",
    );
    // forbidden: a key without the billing scope; a key that does not reach the merchant's site; an
    // unknown merchant.
    let crm_only = app.key_with(&["order_read"], &[]).await;
    assert_error(&call_as(&app, &crm_only, "POST", "/v3/billing/api/order/order", Some(&base)).await, 403, "forbidden");
    app.add_site("other").await;
    let other_site = app.key_with(&["billing"], &["other"]).await;
    assert_error(
        &call_as(&app, &other_site, "POST", "/v3/billing/api/order/order", Some(&base)).await,
        403,
        "forbidden",
    );
    let path = format!("/v3/billing/api/order/order/{}", open["id"].as_str().unwrap());
    assert_error(&call_as(&app, &other_site, "GET", &path, None).await, 403, "forbidden");
    assert_error(
        &post(with(&|b| b["merchantId"] = json!("99999999-9999-4999-8999-999999999999"))).await,
        403,
        "forbidden",
    );
    // wrong_expiration_date: past, malformed.
    assert_error(
        &post(with(&|b| b["expirationDate"] = json!("2001-01-01T00:00:00+00:00"))).await,
        422,
        "wrong_expiration_date",
    );
    assert_error(&post(with(&|b| b["expirationDate"] = json!("tomorrow"))).await, 422, "wrong_expiration_date");
    // wrong_currency, language_not_found.
    assert_error(&post(with(&|b| b["currencyId"] = json!("XYZ"))).await, 422, "wrong_currency");
    assert_error(&post(with(&|b| b["languageId"] = json!("de"))).await, 422, "language_not_found");
    // The three line rules.
    let r = post(with(&|b| b["basketItems"][0]["totalAmount"] = json!(201))).await;
    assert_error(&r, 422, "wrong_basket_item_total_amount");
    assert_eq!(r.1["error"]["fields"][0]["name"], "basketItems[0].totalAmount");
    assert_error(
        &post(with(&|b| b["basketItems"][0]["totalVatAmount"] = json!(10))).await,
        422,
        "wrong_basket_item_total_vat_amount",
    );
    assert_error(
        &post(with(&|b| b["basketItems"][0]["amountWoVat"] = json!(50))).await,
        422,
        "wrong_basket_item_amount_wo_vat",
    );
    // The order totals.
    let r = post(with(&|b| b["amount"] = json!(199.99))).await;
    assert_error(&r, 422, "wrong_total_amount");
    assert_eq!(r.1["error"]["message"], "Calculation Error");
    assert_eq!(
        r.1["error"]["fields"],
        json!([{"name": "amount", "code": "wrong_value", "message": "Calculation Error"}])
    );
    assert_error(&post(with(&|b| b["vatAmount"] = json!(1))).await, 422, "wrong_total_vat_amount");
    // merchant_order_id_duplicate.
    assert_error(&post(with(&|b| b["merchantOrderId"] = json!("e-open"))).await, 422, "merchant_order_id_duplicate");
    // wrong_order_status: update, cancel a paid order.
    let paid_path = format!("/v3/billing/api/order/order/{}", paid["id"].as_str().unwrap());
    assert_error(&call(&app, "PUT", &paid_path, Some(&json!({"description": "x"}))).await, 422, "wrong_order_status");
    assert_error(&call(&app, "DELETE", &paid_path, None).await, 422, "wrong_order_status");
    // validation: a missing required field, an unknown one, a wrong type.
    let r = post(with(&|b| {
        b.as_object_mut().unwrap().remove("description");
    }))
    .await;
    assert_error(&r, 422, "validation");
    assert_eq!(r.1["error"]["fields"][0]["name"], "description");
    let r = post(with(&|b| b["colour"] = json!("red"))).await;
    assert_error(&r, 422, "validation");
    assert_eq!(r.1["error"]["fields"][0]["name"], "colour");
    let r = post(with(&|b| b["basketItems"][0]["quantity"] = json!("lots"))).await;
    assert_eq!(r.1["error"]["fields"][0]["name"], "basketItems[0].quantity");
    // not_found.
    let r = call(&app, "GET", "/v3/billing/api/order/order/00000000-0000-0000-0000-000000000000", None).await;
    assert_error(&r, 404, "not_found");
    assert_error(&call(&app, "GET", "/v3/no/such/route", None).await, 404, "not_found");
    assert_error(&call(&app, "PATCH", &path, None).await, 405, "method_not_allowed");
    // wrong_filter_format.
    let r = call(&app, "GET", "/v3/filter/api/order/order?colour=red", None).await;
    assert_error(&r, 422, "wrong_filter_format");
    assert_eq!(r.1["error"]["fields"][0]["name"], "colour");
    // Nothing changed.
    assert_eq!(snapshot(&app).await, before);
});

both!(seed_headers_and_request_signing, |app: TestApp| async move {
    merchant(&app, None).await;
    let body = invoice_body("h-1", &[line("A", "10", 1)]);
    let url = format!("{}/v3/billing/api/order/order", app.base);
    let send = |headers: Vec<(&'static str, String)>, body: String| {
        let mut r = app.client.post(&url);
        for (k, v) in headers {
            r = r.header(k, v);
        }
        async move {
            let r = r.body(body).send().await.unwrap();
            let s = r.status();
            (s, r.json::<Value>().await.unwrap())
        }
    };
    let all = || {
        vec![
            ("Authorization", format!("Bearer {}", app.key)),
            ("Accept", "application/json".to_string()),
            ("User-Agent", "Shop/1.0 (Invoicebox 3.0)".to_string()),
            ("Content-Type", "application/json".to_string()),
        ]
    };
    // reqwest always sends `Accept: */*`, so a request without Accept goes over a bare socket.
    let raw = raw_post(&app, &body.to_string()).await;
    assert!(raw.starts_with("HTTP/1.1 400"), "{raw}");
    assert!(raw.contains("The Accept header is required"), "{raw}");
    let mut html_only = all();
    html_only[1].1 = "text/html".into();
    let r = send(html_only, body.to_string()).await;
    assert_eq!(r.0, 400, "{}", r.1);
    assert_eq!(r.1["error"]["fields"][0]["name"], "Accept");
    // No User-Agent is served (Invoicebox's own SDK sends none): a valid request without one creates.
    let without_agent: Vec<_> = all().into_iter().filter(|(k, _)| *k != "User-Agent").collect();
    let mut agentless = body.clone();
    agentless["merchantOrderId"] = json!("h-no-agent");
    let r = send(without_agent, agentless.to_string()).await;
    assert_eq!(r.0, 200, "no User-Agent is served: {}", r.1);
    for missing in ["Content-Type"] {
        let headers: Vec<_> = all().into_iter().filter(|(k, _)| *k != missing).collect();
        let r = send(headers, body.to_string()).await;
        assert_eq!(r.0, 400, "{missing}: {}", r.1);
        assert!(r.1["error"]["message"].as_str().unwrap().contains(missing), "{}", r.1);
        assert_eq!(r.1["error"]["fields"][0]["name"], missing);
    }
    let r = send(all(), "{not json".into()).await;
    assert_eq!(r.0, 400);
    assert!(r.1["error"]["message"].is_string(), "{}", r.1);
    // Signing on: X-Signature over the raw body is required and checked.
    let patch = BillingSettingsPatch { signing_key: Some("sign-key".into()), ..Default::default() };
    app.store.set_billing_settings("default", &patch, MERCHANT).await.unwrap();
    let text = body.to_string();
    let r = send(all(), text.clone()).await;
    assert_eq!((r.0.as_u16(), r.1["error"]["code"].clone()), (403, json!("signature_error")), "{}", r.1);
    let mut wrong = all();
    wrong.push(("X-Signature", torg_domain::invoice::sign(b"other", text.as_bytes())));
    assert_eq!(send(wrong, text.clone()).await.0, 403);
    let mut right = all();
    right.push(("X-Signature", torg_domain::invoice::sign(b"sign-key", text.as_bytes())));
    let r = send(right, text.clone()).await;
    assert_eq!(r.0, 200, "{}", r.1);
    // A bodiless GET signs the empty string.
    let id = r.1["data"]["id"].as_str().unwrap().to_string();
    let get = |sig: Option<String>| {
        let mut r = app
            .client
            .get(format!("{}/v3/billing/api/order/order/{id}", app.base))
            .header("Authorization", format!("Bearer {}", app.key))
            .header("Accept", "application/json")
            .header("User-Agent", "t/1");
        if let Some(s) = sig {
            r = r.header("X-Signature", s);
        }
        async move { r.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(get(None).await, 403);
    assert_eq!(get(Some(torg_domain::invoice::sign(b"sign-key", b""))).await, 200);
});

/// POSTs an invoice with every required header but Accept, over a bare socket; returns the raw answer.
async fn raw_post(app: &TestApp, body: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let req = format!(
        "POST /v3/billing/api/order/order HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nUser-Agent: t/1\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        app.addr,
        app.key,
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_is_429_in_the_billing_envelope() {
    let app = spawn_with(crate::common::Backend::Sqlite, |c| {
        c.rate_per_second = 0;
        c.billing_per_key = 3;
        c.billing_per_ip = 100;
        c.billing_window_secs = 30;
    })
    .await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(call(&app, "GET", "/v3/security/api/auth/auth", None).await);
    }
    assert!(statuses[..3].iter().all(|r| r.0 == 200), "{statuses:?}");
    let last = &statuses[4];
    assert_eq!(last.0, 429);
    assert_eq!(last.1["error"]["code"], "too_many_requests");
    // Another key has its own allowance.
    let other = app.key_with(&["billing"], &[]).await;
    assert_eq!(call_as(&app, &other, "GET", "/v3/security/api/auth/auth", None).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_ip_limit_and_oversize_bodies_in_the_billing_envelope() {
    let app = spawn_with(crate::common::Backend::Sqlite, |c| {
        c.rate_per_second = 0;
        c.billing_per_key = 100;
        c.billing_per_ip = 2;
        c.body_limit = 1024;
    })
    .await;
    let other = app.key_with(&["billing"], &[]).await;
    let big = json!({"description": "x".repeat(2000)});
    let r = call(&app, "POST", "/v3/billing/api/order/order", Some(&big)).await;
    assert_eq!(r.0, 413, "{}", r.1);
    assert_eq!(r.1["error"]["code"], "payload_too_large");
    assert_eq!(call_as(&app, &other, "GET", "/v3/security/api/auth/auth", None).await.0, 200);
    // Two keys, one address: the address's allowance is spent whichever key asks.
    let r = call_as(&app, &other, "GET", "/v3/security/api/auth/auth", None).await;
    assert_eq!(r.0, 429, "{}", r.1);
    assert_eq!(r.1["error"]["code"], "too_many_requests");
    // The other faces are not counted against it, and the OpenAPI document lists the billing routes.
    let (s, doc) = app.get_raw("/openapi.json").await;
    assert_eq!(s, 200);
    for path in ["/v3/billing/api/order/order", "/v3/filter/api/order/order", "/v3/billing/api/order/refund-order"] {
        assert!(doc["paths"][path].is_object(), "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_holds_the_billing_key_limit_across_instances() {
    let redis =
        std::env::var("TORG_TEST_REDIS_URL").expect("TORG_TEST_REDIS_URL must point at Redis (scripts/test sets it)");
    let limited = |c: &mut torg_http::HttpConfig| {
        c.rate_per_second = 0;
        c.billing_per_key = 4;
        c.billing_per_ip = 1000;
        c.redis_url = Some(redis.clone());
    };
    let one = spawn_with(crate::common::Backend::Sqlite, limited).await;
    let two = spawn_with(crate::common::Backend::Sqlite, limited).await;
    // A fresh key in both databases, so earlier runs' counters do not matter.
    let plain = format!("billing-{}", uuid::Uuid::new_v4().simple());
    for app in [&one, &two] {
        app.store
            .create_key(torg_store::NewKey {
                plain: plain.clone(),
                name: plain.clone(),
                scopes: vec!["billing".into()],
                sites: torg_domain::key::SiteAccess::Full,
                allowed_ips: Vec::new(),
                customer_external_id: None,
                distributor: None,
            })
            .await
            .unwrap();
    }
    let mut ok = 0;
    for app in [&one, &two, &one, &two, &one, &two] {
        if call_as(app, &plain, "GET", "/v3/security/api/auth/auth", None).await.0 == 200 {
            ok += 1;
        }
    }
    assert_eq!(ok, 4, "two instances share one allowance per key");
}

both!(a_payment_page_post_of_any_bytes_pays_or_refuses_in_html, |app: TestApp| async move {
    merchant(&app, None).await;
    let inv = create(&app, &invoice_body("bytes-1", &[line("A", "10", 1)])).await;
    let container = inv["paymentUrl"].as_str().unwrap().rsplit("/pay/").next().unwrap().to_string();
    let no_redirect = crate::common::http().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    // Bytes that are not UTF-8 are an unreadable form, not a refusal in plain text: the button pays.
    let r = no_redirect
        .post(format!("{}/pay/{container}", app.base))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(vec![0xF1u8, 0x82, 0xBA, 0x89, b'=', 0xFF])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (s, b) = call(&app, "GET", &format!("/v3/billing/api/order/order/{}", inv["id"].as_str().unwrap()), None).await;
    assert_eq!((s.as_u16(), b["data"]["status"].clone()), (200, json!("completed")), "{b}");
    // An unknown container is the page's own 404, whatever the body.
    let r = no_redirect.post(format!("{}/pay/no-such", app.base)).body(vec![0xFFu8]).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
});
