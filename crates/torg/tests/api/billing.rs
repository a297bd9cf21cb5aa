//! The billing face (docs/billing.md): the documented auth check against the demo, the golden path
//! end to end (create, pay, webhook), and the life of an invoice (get, update, cancel, status of non-processable orders,
//! refunds).

use crate::billing_support::{
    MERCHANT, NOTIFY_KEY, Receiver, call, call_as, create, fast_webhooks, invoice_body, line, merchant, pay_on_page,
    worker,
};
use crate::common::{TestApp, both};
use crate::office::{Body, call as office_call, office_key};
use serde_json::{Value, json};

both!(seed_auth_check_against_the_demo, |app: TestApp| async move {
    torg::demo::load(&app.store).await.expect("demo");
    // Exactly the documentation's request: Accept and Authorization, nothing else.
    let r = app
        .client
        .get(format!("{}/v3/security/api/auth/auth", app.base))
        .header("Accept", "application/json")
        .header("Authorization", "Bearer b37c4c689295904ed21eee5d9a48d42e")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["data"], json!({"userId": "01771533-8e75-3234-8e3d-9213ae2d7c52"}));
    // The same under /l3/.
    let (s, b) = call_as(&app, "b37c4c689295904ed21eee5d9a48d42e", "GET", "/l3/security/api/auth/auth", None).await;
    assert_eq!((s.as_u16(), &b["data"]["userId"]), (200, &json!("01771533-8e75-3234-8e3d-9213ae2d7c52")));
    // No token: 200 with no user; a wrong one: 401 unauthorized.
    let r = app.client.get(format!("{}/v3/security/api/auth/auth", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["data"]["userId"], Value::Null);
    let (s, b) = call_as(&app, "ffffffffffffffffffffffffffffffff", "GET", "/v3/security/api/auth/auth", None).await;
    assert_eq!(s, 401);
    assert_eq!(b["error"]["code"], "unauthorized");
    // The test shop has demo invoices: two paid (one for the order `/track` shows), two waiting.
    let token = "b37c4c689295904ed21eee5d9a48d42e";
    let (s, b) =
        call_as(&app, token, "GET", "/v3/filter/api/order/order?merchantId=ffffffff-ffff-ffff-ffff-ffffffffffff", None)
            .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["metaData"]["totalCount"], 4);
    let statuses: Vec<&str> = b["data"].as_array().unwrap().iter().map(|i| i["status"].as_str().unwrap()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == "completed").count(), 2, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == "created").count(), 2, "{statuses:?}");
    // The documented test shop accepts a new invoice with the documented token.
    let mut body = invoice_body("seed-1", &[line("A1", "100", 1)]);
    body["merchantId"] = json!("ffffffff-ffff-ffff-ffff-ffffffffffff");
    let (s, b) = call_as(&app, token, "POST", "/v3/billing/api/order/order", Some(&body)).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["data"]["status"], "created");
});

/// A buyer on the default site with a parts key.
async fn buyer(app: &TestApp) -> String {
    app.buyer(json!({"externalId": "gold", "firstName": "Анна", "lastName": "Смирнова", "email": "gold@example.ru"}))
        .await
}

both!(golden_path_from_stock_to_signed_webhook, |app: TestApp| async move {
    let receiver = Receiver::start(0).await;
    merchant(&app, Some(&receiver.url)).await;
    let hooks = worker(&app, fast_webhooks(10)).await;
    // 1. A distributor uploads a warehouse and its stock through the office face.
    let office = office_key(&app, "golden-dist").await;
    let (_, a) = office_call(
        &app,
        &office,
        "warehouses.add",
        Body::Json,
        json!({"data": [{"code": "gold", "name": "Склад Голд"}]}),
    )
    .await;
    assert_eq!(a["status"]["code"], "ok", "{a}");
    let stock = json!({"data": [{"article": "OC47", "brand": "KNECHT/MAHLE", "name": "Фильтр масляный",
                                  "warehouse": "gold", "quantity": 40, "price": "152.02"}]});
    let (_, a) = office_call(&app, &office, "remains.add", Body::Json, stock).await;
    assert_eq!(a["status"]["code"], "ok", "{a}");
    // 2. The buyer searches and orders one signed position.
    let key = buyer(&app).await;
    let rows: Value = app
        .client
        .get(format!("{}/v1/search/?q=oc47&api_key={key}", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut row = rows["objects"][0].clone();
    row["order_qty"] = json!(3);
    let r = app.client.post(format!("{}/v1/order/?api_key={key}", app.base)).json(&row).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let parts_order: Value = r.json().await.unwrap();
    let number = parts_order["number"].as_str().unwrap().to_string();
    // 3. The CRM face sees the order.
    let (_, b) = app.get(&format!("/api/v5/orders?filter[numbers][]={number}")).await;
    assert_eq!(b["orders"][0]["totalSumm"], json!(456.06), "{b}");
    let crm_id = b["orders"][0]["id"].as_i64().unwrap();
    // 4. An invoice for it, its basket taken from the order.
    let body = json!({"merchantId": MERCHANT, "merchantOrderId": number, "description": format!("Заказ {number}"),
                      "currencyId": "RUB", "expirationDate": "2099-01-01T00:00:00+00:00"});
    let inv = create(&app, &body).await;
    assert_eq!(inv["status"], "created");
    assert_eq!(inv["amount"], json!(456.06));
    assert_eq!(inv["basketItems"][0]["sku"], "OC47");
    assert_eq!(inv["basketItems"][0]["quantity"], json!(3));
    // What `/track` will show as the order's invoice number.
    assert_eq!(app.store.latest_invoice_number(crm_id).await.unwrap().as_deref(), inv["id"].as_str());
    assert_eq!(app.store.latest_invoice_number(crm_id + 1000).await.unwrap(), None);
    let url = inv["paymentUrl"].as_str().unwrap();
    assert!(url.ends_with(inv["orderContainerId"].as_str().unwrap()), "{url}");
    // 5. Paid on the payment page.
    let page = app.client.get(url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("456.06") && page.contains("Ожидает оплаты"), "{page}");
    pay_on_page(&app, url).await;
    let page = app.client.get(url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Оплачен") && !page.contains("<form"), "{page}");
    let (_, got) =
        call(&app, "GET", &format!("/v3/billing/api/order/order/{}", inv["id"].as_str().unwrap()), None).await;
    assert_eq!(got["data"]["status"], "completed");
    assert!(got["data"]["paidAt"].as_str().is_some_and(|p| p.ends_with("+00:00")), "{got}");
    // 6. The CRM order has the payment (and a history record of it); the buyer's balance is square.
    let (_, b) = app.get(&format!("/api/v5/orders/{crm_id}?by=id")).await;
    let payments: Vec<&Value> = b["order"]["payments"].as_object().unwrap().values().collect();
    assert_eq!(payments.len(), 1, "{b}");
    assert_eq!(payments[0]["status"], "paid");
    assert_eq!(payments[0]["amount"], json!(456.06));
    assert_eq!(payments[0]["externalId"], inv["id"]);
    let (_, h) = app.get(&format!("/api/v5/orders/history?filter[orderId]={crm_id}")).await;
    let record = h["history"].as_array().unwrap().iter().find(|r| r["field"] == "payments").expect("payment history");
    assert_eq!(record["payment"]["amount"], json!(456.06), "{record}");
    let profile: Value =
        app.client.get(format!("{}/v1/profile/?api_key={key}", app.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(profile["balance"], "0.00");
    // 7. The receiver got the notification, signed with the merchant's key.
    let seen = receiver.wait_for(|s| !s.is_empty()).await;
    let hook = &seen[0];
    let sig = hook.signature.as_deref().expect("X-Signature");
    assert_eq!(sig, torg_domain::invoice::sign(NOTIFY_KEY.as_bytes(), hook.body.as_bytes()));
    let note: Value = serde_json::from_str(&hook.body).unwrap();
    assert_eq!(note["id"], inv["id"]);
    assert_eq!(note["status"], "completed");
    assert_eq!(note["merchantOrderId"], json!(number));
    assert_eq!(note["amount"], json!(456.06));
    // 8. A refund of one unit moves its money back: the order shows what was paid and what returned,
    // and the buyer's balance owes the refunded unit again.
    let unit = json!({"sku": "OC47", "name": "Фильтр масляный", "measure": "шт.", "measureCode": "796", "quantity": 1,
                      "amount": 152.02, "amountWoVat": 152.02, "totalAmount": 152.02, "totalVatAmount": 0,
                      "vatCode": "VATNONE", "type": "commodity", "paymentType": "full_prepayment"});
    let refund = json!({"parentId": inv["id"], "merchantOrderId": "ref-1", "amount": 152.02, "vatAmount": 0,
                        "description": "Возврат одной штуки", "basketItems": [unit]});
    let (s, b) = call(&app, "POST", "/v3/billing/api/order/refund-order", Some(&refund)).await;
    assert_eq!(s, 200, "{b}");
    let (_, b) = app.get(&format!("/api/v5/orders/{crm_id}?by=id")).await;
    assert_eq!(b["order"]["prepaySum"], json!(304.04), "{b}");
    let mut amounts: Vec<(String, String)> = b["order"]["payments"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| (p["status"].as_str().unwrap().to_string(), p["amount"].to_string()))
        .collect();
    amounts.sort();
    assert_eq!(amounts, vec![("paid".into(), "304.04".into()), ("returned".into(), "152.02".into())]);
    let profile: Value =
        app.client.get(format!("{}/v1/profile/?api_key={key}", app.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(profile["balance"], "-152.02");
    // 9. The distributor ships it with a tracking number, and `/track` shows the order to anyone with
    // its number: status, invoice, warehouse and tracking number.
    let (_, a) = office_call(
        &app,
        &office,
        "orders.update",
        Body::Json,
        json!({"data": [{"number": number, "status": "send-to-delivery", "track_numbers": ["RA123456789RU"]}]}),
    )
    .await;
    assert_eq!(a["status"]["code"], "ok", "{a}");
    let tracked: Value =
        app.client.get(format!("{}/track/{number}", app.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(tracked["id"], json!(crm_id), "{tracked}");
    assert_eq!(tracked["invoice_number"], inv["id"], "{tracked}");
    assert_eq!(tracked["status"], "Передан в доставку", "{tracked}");
    assert_eq!(tracked["track_numbers"], json!(["RA123456789RU"]), "{tracked}");
    assert!(tracked["warehouses"].to_string().contains("Склад Голд"), "{tracked}");
    let page =
        app.client.get(format!("{}/track?number={number}", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(inv["id"].as_str().unwrap()) && page.contains("RA123456789RU"), "{page}");
    hooks.stop().await;
});

both!(invoice_life_update_cancel_status_refunds, |app: TestApp| async move {
    merchant(&app, None).await;
    let inv = create(&app, &invoice_body("life-1", &[line("A", "100", 2), line("B", "50.5", 1)])).await;
    let id = inv["id"].as_str().unwrap().to_string();
    assert_eq!(inv["amount"], json!(250.5));
    assert_eq!(inv["subtype"], "order");
    assert_eq!(inv["processable"], true);
    assert_eq!(inv["fileIds"], json!([]));
    // Update before payment: a new basket and amounts.
    let upd =
        json!({"description": "Новое описание", "amount": 300, "vatAmount": 50, "basketItems": [line("A", "100", 3)]});
    let (s, b) = call(&app, "PUT", &format!("/v3/billing/api/order/order/{id}"), Some(&upd)).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!((b["data"]["amount"].clone(), b["data"]["description"].clone()), (json!(300), json!("Новое описание")));
    // Refunds need a paid order.
    let refund = json!({"parentId": id, "merchantOrderId": "r-1", "amount": 100, "vatAmount": 16.67,
                        "description": "Возврат", "basketItems": [line("A", "100", 1)]});
    let (s, b) = call(&app, "POST", "/v3/billing/api/order/refund-order", Some(&refund)).await;
    assert_eq!((s.as_u16(), b["error"]["code"].clone()), (422, json!("wrong_order_status")), "{b}");
    pay_on_page(&app, inv["paymentUrl"].as_str().unwrap()).await;
    let (s, b) = call(&app, "GET", &format!("/v3/billing/api/order/order/{id}/refund-basket-item"), None).await;
    assert_eq!(s, 200);
    assert_eq!(b["data"][0]["availableAmount"], json!(300));
    let (s, b) = call(&app, "POST", "/v3/billing/api/order/refund-order", Some(&refund)).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["data"]["status"], "completed");
    assert_eq!(b["data"]["parentId"], json!(id));
    let (_, b) = call(&app, "GET", &format!("/v3/billing/api/order/order/{id}/refund-basket-item"), None).await;
    assert_eq!(b["data"][0]["availableAmount"], json!(200));
    // More than is left is refused; a reused refund merchantOrderId too.
    let mut too_much = refund.clone();
    too_much["merchantOrderId"] = json!("r-2");
    too_much["basketItems"] = json!([line("A", "100", 3)]);
    too_much["amount"] = json!(300);
    too_much["vatAmount"] = json!(50);
    let (s, b) = call(&app, "POST", "/v3/billing/api/order/refund-order", Some(&too_much)).await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["error"]["fields"][0]["name"], "basketItems[0].totalAmount");
    let (s, b) = call(&app, "POST", "/v3/billing/api/order/refund-order", Some(&refund)).await;
    assert_eq!((s.as_u16(), b["error"]["code"].clone()), (422, json!("merchant_order_id_duplicate")));
    let (_, b) = call(&app, "GET", &format!("/v3/filter/api/order/refund-order?parentId={id}"), None).await;
    assert_eq!(b["metaData"]["totalCount"], 1);
    // Unfiltered, the total is the site's counter.
    let (_, b) = call(&app, "GET", "/v3/filter/api/order/refund-order", None).await;
    assert_eq!(b["metaData"]["totalCount"], 1, "{b}");
    assert_eq!(b["data"][0]["merchantOrderId"], "r-1");
    // Paid orders cannot be changed or cancelled.
    let (s, b) = call(&app, "DELETE", &format!("/v3/billing/api/order/order/{id}"), None).await;
    assert_eq!((s.as_u16(), b["error"]["code"].clone()), (422, json!("wrong_order_status")));
    // Cancel an unpaid one.
    let other = create(&app, &invoice_body("life-2", &[line("A", "10", 1)])).await;
    let (s, b) =
        call(&app, "DELETE", &format!("/v3/billing/api/order/order/{}", other["id"].as_str().unwrap()), None).await;
    assert_eq!(s, 200);
    assert_eq!(b["data"]["status"], "canceled");
    // A non-processable order takes its status from the merchant; a processable one refuses.
    let mut np = invoice_body("life-3", &[line("A", "10", 1)]);
    np["processable"] = json!(false);
    let np = create(&app, &np).await;
    let path = format!("/v3/billing/api/order/{}/status", np["id"].as_str().unwrap());
    let (s, b) = call(&app, "PUT", &path, Some(&json!({"status": "cancelled"}))).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["data"]["status"], "canceled");
    let (s, b) =
        call(&app, "PUT", &format!("/v3/billing/api/order/{id}/status"), Some(&json!({"status": "expired"}))).await;
    assert_eq!((s.as_u16(), b["error"]["code"].clone()), (422, json!("wrong_order_status")));
    // An unpaid invoice past its date expires on read.
    let soon = create(&app, &{
        let mut b = invoice_body("life-4", &[line("A", "10", 1)]);
        b["expirationDate"] = json!(torg_http::faces::billing::render::datetime(torg_domain::time::now() + 2));
        b
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    let (_, b) =
        call(&app, "GET", &format!("/v3/billing/api/order/order/{}", soon["id"].as_str().unwrap()), None).await;
    assert_eq!(b["data"]["status"], "expired");
    // CLI: `torg invoice pay` refuses it now.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_torg"))
        .args(["invoice", "pay", soon["id"].as_str().unwrap(), "--database", &app.database_url])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("expired"));
});

both!(cli_sets_billing_settings_and_pays, |app: TestApp| async move {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_torg"))
        .args(["site", "billing", "default", "--merchant-id", MERCHANT, "--notification-key", "k1"])
        .args(["--notification-url", "http://127.0.0.1:9/hook", "--test-mode", "true", "--database", &app.database_url])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        text.contains(MERCHANT) && text.contains("http://127.0.0.1:9/hook") && text.contains("test mode: true"),
        "{text}"
    );
    let s = app.store.billing_settings("default").await.unwrap().unwrap();
    assert_eq!(s.notification_key.as_deref(), Some("k1"));
    let inv = create(&app, &invoice_body("cli-1", &[line("A", "10", 1)])).await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_torg"))
        .args(["invoice", "pay", inv["id"].as_str().unwrap(), "--database", &app.database_url])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (_, b) = call(&app, "GET", &format!("/v3/billing/api/order/order/{}", inv["id"].as_str().unwrap()), None).await;
    assert_eq!(b["data"]["status"], "completed");
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_torg"))
        .args(["site", "billing", "nowhere", "--database", &app.database_url])
        .output()
        .unwrap();
    assert!(!bad.status.success());
});

both!(a_create_keeps_the_members_it_stores_as_given, |app: TestApp| async move {
    // Each member a create keeps in the invoice's document (rather than in a column) is shown back as
    // given, by the create's answer and by a later read: a member the create stopped keeping fails here.
    merchant(&app, None).await;
    let kept = json!({
        "merchantOrderIdVisible": "Заказ № 7",
        "metaData": {"source": "tests", "n": 7},
        "successUrl": "https://shop.example/ok",
        "failUrl": "https://shop.example/fail",
        "returnUrl": "https://shop.example/back",
        "invoiceSetting": {"invoiceMetaData": {"k": "v"}},
        "orderSetting": {"refundable": true},
        "shopId": "9b2c4a1e-5d6f-4a8b-9c0d-1e2f3a4b5c6d",
        "userAccountId": "2f1e0d9c-8b7a-4c6d-9e5f-4a3b2c1d0e9f",
    });
    let mut body = invoice_body("kept-1", &[line("A", "10", 1)]);
    for (k, v) in kept.as_object().unwrap() {
        body[k] = v.clone();
    }
    let created = create(&app, &body).await;
    let id = created["id"].as_str().unwrap().to_string();
    let (s, read) = call(&app, "GET", &format!("/v3/filter/api/order/order?id={id}"), None).await;
    assert_eq!(s, 200, "{read}");
    for (k, v) in kept.as_object().unwrap() {
        assert_eq!(&created[k], v, "{k} in the create's answer: {created}");
        assert_eq!(&read["data"][0][k], v, "{k} read back: {read}");
    }
    assert_eq!(read["data"][0]["customer"], body["customer"]);
});
