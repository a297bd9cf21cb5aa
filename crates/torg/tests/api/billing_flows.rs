//! The billing face's other calls of issue 14: refund drafts and correction orders, notifications of
//! refunds, moving an order between the key's merchants, a partner's signed payment confirmation, and
//! the counterparty lookup by INN, and invoices to legal payers putting orders under their corporate
//! customers.

use crate::billing_shipments::pay_on_page_as;
use crate::billing_support::{
    MERCHANT, NOTIFY_KEY, Received, Receiver, call, create, fast_webhooks, invoice_body, line, merchant, worker,
};
use crate::common::{Reply, TestApp, both};
use serde_json::{Value, json};
use torg_store::BillingSettingsPatch;

/// The second merchant's id (on the `north` site), which signs requests.
const NORTH: &str = "22222222-3333-4444-8555-666666666666";
const SIGNING_KEY: &str = "north-signing";
/// A third merchant (the `south` site), signing with a key of its own.
const SOUTH: &str = "33333333-4444-4555-8666-777777777777";

/// A billing request signed with `key` (hex HMAC-SHA1 of the body, or of nothing).
async fn signed(app: &TestApp, method: &str, path: &str, body: Option<&Value>, key: &str) -> Reply {
    let raw = body.map(Value::to_string).unwrap_or_default();
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = app
        .client
        .request(m, format!("{}{path}", app.base))
        .header("Accept", "application/json")
        .header("Authorization", format!("Bearer {}", app.key))
        .header("X-Signature", torg_domain::invoice::sign(key.as_bytes(), raw.as_bytes()));
    if body.is_some() {
        req = req.header("Content-Type", "application/json").body(raw);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap())
}

async fn north(app: &TestApp) {
    app.add_site("north").await;
    let patch = BillingSettingsPatch {
        merchant_id: Some(NORTH.into()),
        signing_key: Some(SIGNING_KEY.into()),
        test_mode: Some(true),
        ..Default::default()
    };
    app.store.set_billing_settings("north", &patch, NORTH).await.unwrap();
}

both!(draft_refund_with_a_correction_order, |app: TestApp| async move {
    let receiver = Receiver::start(0).await;
    merchant(&app, Some(&receiver.url)).await;
    let hooks = worker(&app, fast_webhooks(3)).await;
    let inv = create(&app, &invoice_body("corr-1", &[line("A", "100", 2), line("B", "50", 1)])).await;
    let id = inv["id"].as_str().unwrap().to_string();
    pay_on_page_as(&app, inv["paymentUrl"].as_str().unwrap(), "now").await;
    // A draft refund of both A units: nothing moves yet, but the units are spoken for.
    let draft = json!({"parentId": id, "merchantOrderId": "r-draft", "amount": 200, "vatAmount": 33.33,
                       "description": "Возврат с удержанием", "status": "draft", "basketItems": [line("A", "100", 2)]});
    let (s, b) = call(&app, "POST", "/v3/billing/api/order/refund-order", Some(&draft)).await;
    assert_eq!((s.as_u16(), b["data"]["status"].clone()), (200, json!("draft")), "{b}");
    let refund_id = b["data"]["id"].as_str().unwrap().to_string();
    let (_, b) = call(&app, "GET", &format!("/v3/billing/api/order/order/{id}/refund-basket-item"), None).await;
    assert_eq!(b["data"][0]["availableAmount"], json!(0), "{b}");
    // The correction order: a 20.00 fee kept from it.
    let mut fee = invoice_body("fee-1", &[line("FEE", "20", 1)]);
    fee["parentId"] = json!(refund_id);
    let (s, b) = call(&app, "POST", "/v3/billing/api/order/correction-order", Some(&fee)).await;
    assert_eq!(s, 200, "{b}");
    let correction = b["data"].clone();
    assert_eq!(
        (&correction["subtype"], &correction["status"], &correction["parentId"], &correction["amount"]),
        (&json!("correction"), &json!("completed"), &json!(refund_id), &json!(20))
    );
    let (_, b) = call(&app, "GET", &format!("/v3/filter/api/order/refund-order?id={refund_id}"), None).await;
    let refund = &b["data"][0];
    assert_eq!(
        (&refund["status"], &refund["amount"], &refund["vatAmount"]),
        (&json!("completed"), &json!(180), &json!(30))
    );
    // Only a draft takes a correction; the correction may not exceed the refund; parentId must be one.
    let mut again = invoice_body("fee-2", &[line("FEE", "20", 1)]);
    again["parentId"] = json!(refund_id);
    let (s, b) = call(&app, "POST", "/v3/billing/api/order/correction-order", Some(&again)).await;
    assert_eq!((s.as_u16(), b["error"]["code"].clone()), (422, json!("wrong_order_status")), "{b}");
    let small = json!({"parentId": id, "merchantOrderId": "r-small", "amount": 50, "vatAmount": 8.33,
                       "description": "Возврат", "status": "draft", "basketItems": [line("B", "50", 1)]});
    let (s, b) = call(&app, "POST", "/v3/billing/api/order/refund-order", Some(&small)).await;
    assert_eq!(s, 200, "{b}");
    let mut big = invoice_body("fee-3", &[line("FEE", "60", 1)]);
    big["parentId"] = b["data"]["id"].clone();
    let (s, b) = call(&app, "POST", "/v3/billing/api/order/correction-order", Some(&big)).await;
    assert_eq!((s.as_u16(), b["error"]["code"].clone()), (422, json!("wrong_total_amount")), "{b}");
    let mut orphan = invoice_body("fee-4", &[line("FEE", "1", 1)]);
    orphan["parentId"] = json!(id);
    let (s, b) = call(&app, "POST", "/v3/billing/api/order/correction-order", Some(&orphan)).await;
    assert_eq!((s.as_u16(), b["error"]["fields"][0]["name"].clone()), (422, json!("parentId")), "{b}");
    let (s, b) = call(
        &app,
        "POST",
        "/v3/billing/api/order/correction-order",
        Some(&invoice_body("fee-5", &[line("FEE", "1", 1)])),
    )
    .await;
    assert_eq!((s.as_u16(), b["error"]["fields"][0]["name"].clone()), (422, json!("parentId")), "{b}");
    // Refunds are announced too (draft, then carried out), signed like the orders' notifications. The
    // correction order's own notification names the refund too (its parentId) and may come between.
    let about_refund = |r: &Received| r.body.contains(&refund_id) && r.body.contains("\"refund\"");
    let seen = receiver.wait_for(|s| s.iter().filter(|r| about_refund(r)).count() >= 2).await;
    let about: Vec<Value> = seen
        .iter()
        .filter(|r| about_refund(r))
        .map(|r| {
            assert_eq!(
                r.signature.as_deref(),
                Some(torg_domain::invoice::sign(NOTIFY_KEY.as_bytes(), r.body.as_bytes()).as_str())
            );
            serde_json::from_str(&r.body).unwrap()
        })
        .collect();
    let statuses: Vec<&str> = about.iter().map(|n| n["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, vec!["draft", "completed"], "{about:?}");
    assert_eq!(
        (&about[1]["subtype"], &about[1]["parentId"], &about[1]["amount"]),
        (&json!("refund"), &json!(id), &json!(180))
    );
    receiver.wait_for(|s| s.iter().any(|r| r.body.contains(correction["id"].as_str().unwrap()))).await;
    hooks.stop().await;
});

both!(merchant_move_and_signed_confirmation, |app: TestApp| async move {
    merchant(&app, None).await;
    north(&app).await;
    let inv = create(&app, &invoice_body("move-1", &[line("A", "100", 1)])).await;
    let id = inv["id"].as_str().unwrap().to_string();
    let body = json!({"merchantId": NORTH, "orderId": id});
    // The target merchant signs requests: unsigned is refused.
    let (s, b) = call(&app, "PUT", "/v3/billing/api/order/order-merchant-move", Some(&body)).await;
    assert_eq!((s.as_u16(), b["error"]["code"].clone()), (403, json!("signature_error")), "{b}");
    let (s, b) = signed(&app, "PUT", "/v3/billing/api/order/order-merchant-move", Some(&body), SIGNING_KEY).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["data"]["merchantId"], NORTH);
    let (_, b) = signed(&app, "GET", &format!("/v3/billing/api/order/order/{id}"), None, SIGNING_KEY).await;
    assert_eq!(b["data"]["merchantId"], NORTH, "{b}");
    // Between two signing merchants one signature serves: it must match either's key.
    app.add_site("south").await;
    let south = BillingSettingsPatch {
        merchant_id: Some(SOUTH.into()),
        signing_key: Some("south-signing".into()),
        ..Default::default()
    };
    app.store.set_billing_settings("south", &south, SOUTH).await.unwrap();
    let other = create(&app, &invoice_body("move-3", &[line("A", "100", 1)])).await;
    let hop = json!({"merchantId": NORTH, "orderId": other["id"]});
    let (s, _) = signed(&app, "PUT", "/v3/billing/api/order/order-merchant-move", Some(&hop), SIGNING_KEY).await;
    assert_eq!(s, 200);
    let hop = json!({"merchantId": SOUTH, "orderId": other["id"]});
    let (s, b) = signed(&app, "PUT", "/v3/billing/api/order/order-merchant-move", Some(&hop), "neither").await;
    assert_eq!((s.as_u16(), b["error"]["code"].clone()), (403, json!("signature_error")), "{b}");
    let (s, b) = signed(&app, "PUT", "/v3/billing/api/order/order-merchant-move", Some(&hop), "south-signing").await;
    assert_eq!((s.as_u16(), b["data"]["merchantId"].clone()), (200, json!(SOUTH)), "{b}");
    // Unknown merchants, unknown orders, and orders paying a torg order are refused.
    let (s, b) = signed(
        &app,
        "PUT",
        "/v3/billing/api/order/order-merchant-move",
        Some(&json!({"merchantId": "99999999-9999-4999-8999-999999999999", "orderId": id})),
        SIGNING_KEY,
    )
    .await;
    assert_eq!((s.as_u16(), b["error"]["code"].clone()), (403, json!("forbidden")), "{b}");
    let (s, b) = call(
        &app,
        "PUT",
        "/v3/billing/api/order/order-merchant-move",
        Some(&json!({"merchantId": MERCHANT, "orderId": "00000000-0000-0000-0000-000000000000"})),
    )
    .await;
    assert_eq!((s.as_u16(), b["error"]["fields"][0]["name"].clone()), (422, json!("orderId")), "{b}");
    let o = json!({"externalId": "move-linked", "firstName": "Олег",
                   "items": [{"productName": "Фильтр", "initialPrice": 500, "quantity": 1}]});
    let (s, _) = app.post("/api/v5/orders/create", &[("order", &o.to_string()), ("site", "default")]).await;
    assert_eq!(s, 201);
    let linked = create(
        &app,
        &json!({"merchantId": MERCHANT, "merchantOrderId": "move-linked", "description": "З",
        "currencyId": "RUB", "expirationDate": "2099-01-01T00:00:00+00:00"}),
    )
    .await;
    let (s, b) = signed(
        &app,
        "PUT",
        "/v3/billing/api/order/order-merchant-move",
        Some(&json!({"merchantId": NORTH, "orderId": linked["id"]})),
        SIGNING_KEY,
    )
    .await;
    assert_eq!((s.as_u16(), b["error"]["fields"][0]["name"].clone()), (422, json!("orderId")), "{b}");
    // A partner confirms payment of the moved order from a guarantee fund: the money is held.
    let confirm = json!({"orderId": id, "partnerOperationId": "117a58b0-7dc9-424c-8f07-b8a865e8bcc7"});
    let (s, b) = call(&app, "POST", "/v3/payment/api/invoice/confirm", Some(&confirm)).await;
    assert_eq!((s.as_u16(), b["error"]["code"].clone()), (403, json!("signature_error")), "{b}");
    let (s, b) = signed(&app, "POST", "/v3/payment/api/invoice/confirm", Some(&confirm), "wrong-key").await;
    assert_eq!((s.as_u16(), b["error"]["code"].clone()), (403, json!("signature_error")), "{b}");
    let (s, b) = signed(&app, "POST", "/v3/payment/api/invoice/confirm", Some(&confirm), SIGNING_KEY).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        (&b["data"]["status"], &b["data"]["partnerOperationId"]),
        (&json!("hold"), &confirm["partnerOperationId"])
    );
    // The same operation again (naming the order as `invoiceId`) is answered as done; another one is
    // refused.
    let again = json!({"invoiceId": id, "partnerOperationId": confirm["partnerOperationId"]});
    let (s, b) = signed(&app, "POST", "/v3/payment/api/invoice/confirm", Some(&again), SIGNING_KEY).await;
    assert_eq!((s.as_u16(), b["data"]["status"].clone()), (200, json!("hold")), "{b}");
    let other = json!({"orderId": id, "partnerOperationId": "other-op"});
    let (s, b) = signed(&app, "POST", "/v3/payment/api/invoice/confirm", Some(&other), SIGNING_KEY).await;
    assert_eq!((s.as_u16(), b["error"]["code"].clone()), (422, json!("wrong_order_status")), "{b}");
    // Shipped in full: captured.
    let ship = json!({"orderId": id, "basketItems": [line("A", "100", 1)]});
    let (s, b) = signed(&app, "POST", "/v3/billing/api/order/shipment", Some(&ship), SIGNING_KEY).await;
    assert_eq!(s, 200, "{b}");
    let (_, b) = signed(&app, "GET", &format!("/v3/billing/api/order/order/{id}"), None, SIGNING_KEY).await;
    assert_eq!(b["data"]["status"], "completed", "{b}");
    // A merchant without a signing key takes no confirmations.
    let plain = create(&app, &invoice_body("move-2", &[line("A", "100", 1)])).await;
    let (s, b) = call(
        &app,
        "POST",
        "/v3/payment/api/invoice/confirm",
        Some(&json!({"orderId": plain["id"], "partnerOperationId": "op-2"})),
    )
    .await;
    assert_eq!((s.as_u16(), b["error"]["code"].clone()), (403, json!("signature_error")), "{b}");
    assert_eq!(app.store.get_invoice(plain["id"].as_str().unwrap()).await.unwrap().unwrap().status.as_str(), "created");
});

both!(counterparty_by_inn, |app: TestApp| async move {
    merchant(&app, None).await;
    let entity = json!({"contragentType": "legal-entity", "legalName": "ООО «Северный склад»", "INN": "7701234567",
                        "KPP": "770101001", "OGRN": "1027700132195", "legalAddress": "Москва, ул. Складская, 1",
                        "countryIso": "RU"});
    let (s, b) =
        app.post("/api/v5/reference/legal-entities/north-llc/edit", &[("legalEntity", &entity.to_string())]).await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = call(&app, "GET", "/v3/filter/api/counterparty-detail?vatNumber=7701234567", None).await;
    assert_eq!(s, 200, "{b}");
    let c = &b["data"][0];
    assert_eq!(
        (&c["vatNumber"], &c["taxRegistrationReasonCode"], &c["name"], &c["registrationNumber"], &c["registered"]),
        (
            &json!("7701234567"),
            &json!("770101001"),
            &json!("ООО «Северный склад»"),
            &json!("1027700132195"),
            &json!(true)
        )
    );
    assert_eq!(c["registrationAddress"], "Москва, ул. Складская, 1");
    assert_eq!(c["id"].as_str().map(str::len), Some(36), "{c}");
    // The id is stable.
    let (_, again) = call(&app, "GET", "/l3/filter/api/counterparty-detail?vatNumber=7701234567", None).await;
    assert_eq!(again["data"][0]["id"], c["id"]);
    // A corporate customer's company is a counterparty too.
    let corporate = json!({"externalId": "acme", "nickName": "Акме",
        "companies": [{"externalId": "acme-llc", "name": "ООО Акме", "contragent": {"contragentType": "legal-entity",
            "legalName": "ООО «Акме»", "INN": "7707083893", "KPP": "773601001", "OGRN": "1027700132195"}}]});
    let (s, b) = app.post("/api/v5/customers-corporate/create", &[("customerCorporate", &corporate.to_string())]).await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = call(&app, "GET", "/v3/filter/api/counterparty-detail?vatNumber=7707083893", None).await;
    assert_eq!(s, 200, "{b}");
    let c = &b["data"][0];
    assert_eq!(
        (&c["vatNumber"], &c["taxRegistrationReasonCode"], &c["name"], &c["registrationNumber"]),
        (&json!("7707083893"), &json!("773601001"), &json!("ООО Акме"), &json!("1027700132195")),
        "{b}"
    );
    let (s, b) = call(&app, "GET", "/v3/filter/api/counterparty-detail?vatNumber=5000000000", None).await;
    assert_eq!((s.as_u16(), b["error"]["code"].clone()), (404, json!("not_found")), "{b}");
    let (s, b) = call(&app, "GET", "/v3/filter/api/counterparty-detail", None).await;
    assert_eq!((s.as_u16(), b["error"]["fields"][0]["name"].clone()), (422, json!("vatNumber")), "{b}");
});

/// A CRM order on `default` for the customer `customer` (external id), 2 × 500.
async fn order_of(app: &TestApp, ext: &str, customer: Value) -> Value {
    let o = json!({"externalId": ext, "customer": customer, "items": [{"productName": "Фильтр", "initialPrice": 500, "quantity": 2}]});
    let (s, b) = app.post("/api/v5/orders/create", &[("order", &o.to_string()), ("site", "default")]).await;
    assert_eq!(s, 201, "{b}");
    b["order"].clone()
}

async fn crm_order(app: &TestApp, ext: &str) -> Value {
    let (s, b) = app.get(&format!("/api/v5/orders/{ext}?site=default")).await;
    assert_eq!(s, 200, "{b}");
    b["order"].clone()
}

/// An invoice for torg order `ext` (basket from the order) to `payer`.
async fn invoice_to(app: &TestApp, ext: &str, payer: Value) -> Reply {
    let body = json!({"merchantId": MERCHANT, "merchantOrderId": ext, "description": "Заказ", "currencyId": "RUB",
                      "expirationDate": "2099-01-01T00:00:00+00:00", "customer": payer});
    call(app, "POST", "/v3/billing/api/order/order", Some(&body)).await
}

fn legal(inn: &str, kpp: Option<&str>) -> Value {
    let mut c = json!({"type": "legal", "name": "ООО Акме", "vatNumber": inn});
    if let Some(k) = kpp {
        c["taxRegistrationReasonCode"] = json!(k);
    }
    c
}

both!(a_legal_payer_puts_the_order_under_its_corporate_customer, |app: TestApp| async move {
    merchant(&app, None).await;
    for (ext, name) in [("anna", "Анна"), ("boris", "Борис")] {
        let c = json!({"externalId": ext, "firstName": name});
        let (s, b) = app.post("/api/v5/customers/create", &[("customer", &c.to_string()), ("site", "default")]).await;
        assert_eq!(s, 201, "{b}");
    }
    // Acme: its head office (main) and a branch under one INN with their own KPP; Anna is its contact.
    let company = |ext: &str, inn: &str, kpp: &str| json!({"externalId": ext, "name": ext, "contragent": {"contragentType": "legal-entity", "INN": inn, "KPP": kpp}});
    let acme = json!({"externalId": "acme", "nickName": "Акме",
        "companies": [company("acme-msk", "7707083893", "773601001"), company("acme-spb", "7707083893", "781001001")],
        "customerContacts": [{"customer": {"externalId": "anna"}}]});
    let globex = json!({"externalId": "globex", "nickName": "Глобэкс",
        "companies": [company("globex-llc", "7728168971", "772801001")]});
    let mut corporate = Vec::new();
    for doc in [acme, globex] {
        let form = [("customerCorporate", doc.to_string()), ("site", "default".to_string())];
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (s, b) = app.post("/api/v5/customers-corporate/create", &form).await;
        assert_eq!(s, 201, "{b}");
        corporate.push(b["id"].as_i64().unwrap());
    }
    let (acme, globex) = (corporate[0], corporate[1]);

    // Anna's order, invoiced to Acme's branch: Acme's now, the branch buying, Anna its contact.
    let anna = order_of(&app, "p-1", json!({"externalId": "anna"})).await["customer"]["id"].clone();
    let (s, b) = invoice_to(&app, "p-1", legal("7707083893", Some("781001001"))).await;
    assert_eq!(s, 200, "{b}");
    let o = crm_order(&app, "p-1").await;
    assert_eq!((&o["customer"]["type"], &o["customer"]["id"]), (&json!("customer_corporate"), &json!(acme)), "{o}");
    assert_eq!(o["company"]["externalId"], "acme-spb", "{o}");
    assert_eq!(o["contact"]["id"], anna, "{o}");
    // The move is in the order's history, as the billing key's edit.
    let (_, h) = app.get(&format!("/api/v5/orders/history?filter[orderId]={}", o["id"])).await;
    let moved = h["history"].as_array().unwrap().iter().find(|r| r["field"] == "corporate_id").expect("a record");
    assert_eq!(moved["source"], "api", "{moved}");

    // Boris is no contact of Acme, and no KPP is named: the main company, the main contact.
    order_of(&app, "p-2", json!({"externalId": "boris"})).await;
    assert_eq!(invoice_to(&app, "p-2", legal("7707083893", None)).await.0, 200);
    let o = crm_order(&app, "p-2").await;
    assert_eq!((&o["customer"]["id"], &o["company"]["externalId"]), (&json!(acme), &json!("acme-msk")), "{o}");
    assert_eq!(o["contact"]["id"], anna, "{o}");

    // An order of Globex invoiced to Acme: refused, nothing written.
    order_of(&app, "p-3", json!({"type": "customer_corporate", "externalId": "globex"})).await;
    let (s, b) = invoice_to(&app, "p-3", legal("7707083893", None)).await;
    assert_eq!((s.as_u16(), b["error"]["code"].clone()), (422, json!("validation")), "{b}");
    assert_eq!(b["error"]["fields"][0]["name"], "customer.vatNumber", "{b}");
    assert_eq!(crm_order(&app, "p-3").await["customer"]["id"], json!(globex));
    // Invoiced to Globex's own INN it stays Globex's (its one company).
    assert_eq!(invoice_to(&app, "p-3", legal("7728168971", None)).await.0, 200, "the refused one left no invoice");
    assert_eq!(crm_order(&app, "p-3").await["company"]["externalId"], "globex-llc");

    // An INN no company has, or a private payer: the order stays Boris's.
    order_of(&app, "p-4", json!({"externalId": "boris"})).await;
    let (s, b) = invoice_to(&app, "p-4", legal("5000000000", None)).await;
    assert_eq!(s, 200, "{b}");
    let o = crm_order(&app, "p-4").await;
    assert_eq!((&o["customer"]["type"], &o["customer"]["externalId"]), (&json!("customer"), &json!("boris")), "{o}");
    order_of(&app, "p-5", json!({"externalId": "boris"})).await;
    let private = json!({"type": "private", "name": "Борис", "vatNumber": "7707083893"});
    assert_eq!(invoice_to(&app, "p-5", private).await.0, 200);
    assert_eq!(crm_order(&app, "p-5").await["customer"]["externalId"], "boris");

    // Naming the payer later, before payment: the update moves the order.
    let id = b["data"]["id"].as_str().unwrap().to_string();
    let (s, b) = call(
        &app,
        "PUT",
        &format!("/v3/billing/api/order/order/{id}"),
        Some(&json!({"customer": legal("7728168971", None)})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(crm_order(&app, "p-4").await["customer"]["id"], json!(globex));
});
