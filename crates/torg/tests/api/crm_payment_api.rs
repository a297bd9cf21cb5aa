//! The CRM's integration payment API (`payment/*`, docs/crm.md "Payment integration"): invoices for
//! an order's payment are billing invoices; paying one marks that payment paid, on both engines.

use crate::billing_support::merchant;
use crate::common::{TestApp, both};
use serde_json::{Value, json};

/// An order of 1000 with one unpaid payment of 600; (order id, payment id).
async fn order_with_payment(app: &TestApp, ext: &str) -> (i64, i64) {
    let o = json!({"externalId": ext, "firstName": "Олег", "email": "oleg@example.ru", "phone": "+79001234567",
                   "items": [{"productName": "Фильтр", "initialPrice": 500, "quantity": 2}]});
    let (s, b) = app.post("/api/v5/orders/create", &[("order", &o.to_string()), ("site", "default")]).await;
    assert_eq!(s, 201, "{b}");
    let id = b["id"].as_i64().unwrap();
    let p = json!({"order": {"id": id}, "type": "bank-card", "amount": 600});
    let (s, b) = app.post("/api/v5/orders/payments/create", &[("payment", &p.to_string())]).await;
    assert_eq!(s, 201, "{b}");
    (id, b["id"].as_i64().unwrap())
}

async fn payments(app: &TestApp, id: i64) -> (Vec<Value>, Value) {
    let (_, b) = app.get(&format!("/api/v5/orders/{id}?by=id")).await;
    (b["order"]["payments"].as_object().unwrap().values().cloned().collect(), b["order"]["prepaySum"].clone())
}

async fn list_number(app: &TestApp, id: i64) -> String {
    let (_, b) = app.get(&format!("/api/v5/orders/{id}?by=id")).await;
    b["order"]["number"].as_str().unwrap().to_string()
}

async fn create_invoice(app: &TestApp, doc: Value) -> (u16, Value) {
    let (s, b) = app.post("/api/v5/payment/create-invoice", &[("createInvoice", &doc.to_string())]).await;
    (s.as_u16(), b)
}

async fn update(app: &TestApp, doc: Value) -> (u16, Value) {
    let (s, b) = app.post("/api/v5/payment/update-invoice", &[("updateInvoice", &doc.to_string())]).await;
    (s.as_u16(), b)
}

async fn check(app: &TestApp, doc: Value) -> Value {
    let (s, b) = app.post("/api/v5/payment/check", &[("check", &doc.to_string())]).await;
    assert_eq!(s, 200, "{b}");
    b["result"].clone()
}

both!(invoice_for_a_payment_is_issued_checked_changed_and_paid, |app: TestApp| async move {
    let (order, pid) = order_with_payment(&app, "pi-1").await;
    // No billing merchant on the site: no invoice.
    let (s, b) = create_invoice(&app, json!({"paymentId": pid})).await;
    assert_eq!(s, 400, "{b}");
    assert!(b["errorMsg"].as_str().unwrap().contains("billing"), "{b}");
    merchant(&app, None).await;
    let (s, b) = create_invoice(&app, json!({"paymentId": pid, "returnUrl": "https://shop.example/back"})).await;
    assert_eq!(s, 200, "{b}");
    let uuid = b["result"]["invoiceUuid"].as_str().unwrap().to_string();
    let link = b["result"]["link"].as_str().unwrap().to_string();
    assert!(link.contains("/pay/"), "{b}");
    // Asking again while it is payable answers the same invoice.
    let (_, again) = create_invoice(&app, json!({"paymentId": pid})).await;
    assert_eq!(again["result"]["invoiceUuid"], json!(uuid));
    // The billing face sees the same invoice, linked to the order.
    let inv = app.store.get_invoice(&uuid).await.unwrap().unwrap();
    assert_eq!((inv.order_id, inv.amount), (Some(order), "600".parse().unwrap()));

    let (s, b) = app.get(&format!("/api/v5/payment/invoice/{uuid}")).await;
    assert_eq!(s, 200, "{b}");
    let i = &b["invoice"];
    assert_eq!(i["status"], json!("pending"));
    assert_eq!(i["paymentId"], json!(pid.to_string()));
    assert_eq!(i["orderId"], json!(order));
    assert_eq!(i["amount"], json!("600"));
    assert_eq!(i["email"], json!("oleg@example.ru"));
    assert_eq!(i["link"], json!(link));
    assert_eq!(i["paidAt"], Value::Null);

    assert_eq!(
        check(&app, json!({"invoiceUuid": uuid, "amount": 600, "currency": "RUB"})).await,
        json!({"success": true})
    );
    let wrong = check(&app, json!({"invoiceUuid": uuid, "amount": 599.5})).await;
    assert_eq!(wrong["success"], json!(false));
    assert!(wrong["errorMsg"].as_str().unwrap().contains("600"), "{wrong}");
    assert_eq!(check(&app, json!({"invoiceUuid": uuid, "currency": "EUR"})).await["success"], json!(false));

    // A pending invoice takes a new sum and link; the payment page reads it.
    let (s, b) =
        update(&app, json!({"invoiceUuid": uuid, "amount": 550, "invoiceUrl": "https://psp.example/i/1"})).await;
    assert_eq!(s, 200, "{b}");
    let (_, b) = app.get(&format!("/api/v5/payment/invoice/{uuid}")).await;
    assert_eq!(
        (b["invoice"]["amount"].clone(), b["invoice"]["link"].clone()),
        (json!("550"), json!("https://psp.example/i/1"))
    );

    // Paid: the payment itself becomes paid with the sum received; no second payment appears.
    let (s, b) = update(&app, json!({"paymentId": pid, "status": "succeeded"})).await;
    assert_eq!(s, 200, "{b}");
    let (list, prepay) = payments(&app, order).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!((list[0]["status"].clone(), list[0]["amount"].clone()), (json!("paid"), json!(550)));
    assert_eq!(prepay, json!(550));
    let (_, b) = app.get(&format!("/api/v5/payment/invoice/{uuid}")).await;
    assert_eq!(b["invoice"]["status"], json!("succeeded"));
    assert!(b["invoice"]["paidAt"].is_string(), "{b}");
    assert_eq!(check(&app, json!({"invoiceUuid": uuid, "amount": 550})).await["success"], json!(false));
    // A paid invoice keeps its terms; its payment takes no second invoice.
    let (s, b) = update(&app, json!({"invoiceUuid": uuid, "amount": 1})).await;
    assert_eq!(s, 400, "{b}");
    let (s, b) = update(&app, json!({"invoiceUuid": uuid, "status": "pending"})).await;
    assert_eq!(s, 400, "{b}");
    let (s, b) = create_invoice(&app, json!({"paymentId": pid})).await;
    assert_eq!(s, 400, "{b}");
    assert!(b["errorMsg"].as_str().unwrap().contains("already paid"), "{b}");
});

both!(paying_on_the_billing_page_marks_the_payment_and_cancel_allows_a_new_invoice, |app: TestApp| async move {
    merchant(&app, None).await;
    let (order, pid) = order_with_payment(&app, "pi-2").await;
    let (_, b) = create_invoice(&app, json!({"paymentId": pid})).await;
    let first = b["result"]["invoiceUuid"].as_str().unwrap().to_string();
    let (s, b) =
        update(&app, json!({"invoiceUuid": first, "status": "canceled", "cancellationDetails": "buyer left"})).await;
    assert_eq!(s, 200, "{b}");
    let (_, b) = app.get(&format!("/api/v5/payment/invoice/{first}")).await;
    assert_eq!(
        (b["invoice"]["status"].clone(), b["invoice"]["cancellationDetails"].clone()),
        (json!("canceled"), json!("buyer left"))
    );
    let (_, b) = create_invoice(&app, json!({"paymentId": pid})).await;
    let second = b["result"]["invoiceUuid"].as_str().unwrap().to_string();
    assert_ne!(first, second);
    let link = b["result"]["link"].as_str().unwrap();
    let path = &link[link.find("/pay/").unwrap()..];
    // The buyer presses "pay" on the test-mode payment page, which shows the order's number.
    let page = crate::common::http().build().unwrap().post(format!("{}{path}", app.base)).send().await.unwrap();
    assert!(page.status().is_success(), "{}", page.status());
    let html = page.text().await.unwrap();
    let number = list_number(&app, order).await;
    assert!(html.contains(&format!("Заказ {number}")), "{html}");
    let (list, prepay) = payments(&app, order).await;
    assert_eq!((list.len(), list[0]["status"].clone(), prepay), (1, json!("paid"), json!(600)));
    assert_eq!(list[0]["externalId"], json!(second));
});

both!(imported_invoices_record_payments_made_elsewhere, |app: TestApp| async move {
    merchant(&app, None).await;
    let (order, pid) = order_with_payment(&app, "pi-3").await;
    let imp = |doc: Value| {
        let app = &app;
        async move {
            let (s, b) = app.post("/api/v5/payment/invoice/import", &[("invoice", &doc.to_string())]).await;
            (s.as_u16(), b)
        }
    };
    let (s, b) = imp(json!({"paymentId": pid, "status": "succeeded", "currency": "rub!"})).await;
    assert_eq!((s, b["errors"]["invoice.currency"].is_string()), (400, true), "{b}");
    let (s, b) = imp(json!({"paymentId": pid, "status": "paid"})).await;
    assert_eq!((s, b["errors"]["invoice.status"].is_string()), (400, true), "{b}");
    let (s, b) = imp(json!({"paymentId": pid, "status": "succeeded", "createdAt": "yesterday"})).await;
    assert_eq!((s, b["errors"]["invoice.createdAt"].is_string()), (400, true), "{b}");
    let (s, _) = imp(json!({"paymentId": 999999, "status": "succeeded"})).await;
    assert_eq!(s, 404);
    // Nothing of the refused imports was kept.
    assert!(app.store.payment_invoices(pid).await.unwrap().is_empty());
    // A pending import first: the paid one below is the payment's second invoice.
    let (s, b) = imp(json!({"paymentId": pid, "status": "pending"})).await;
    assert_eq!(s, 200, "{b}");
    let doc = json!({"paymentId": pid, "externalId": "psp-77", "status": "succeeded", "amount": 600, "currency": "RUB",
                     "createdAt": "2026-07-08 00:00:00", "paidAt": "2026-07-08 00:10:00", "refundable": true});
    let (s, b) = imp(doc.clone()).await;
    assert_eq!(s, 200, "{b}");
    let uuid = b["invoice"]["invoiceUuid"].as_str().unwrap().to_string();
    let (_, b) = app.get(&format!("/api/v5/payment/invoice/{uuid}")).await;
    let i = &b["invoice"];
    assert_eq!(
        (i["status"].clone(), i["externalId"].clone(), i["createdAt"].clone()),
        (json!("succeeded"), json!("psp-77"), json!("2026-07-08 00:00:00"))
    );
    assert_eq!(i["paidAt"], json!("2026-07-08 00:10:00"));
    let (list, prepay) = payments(&app, order).await;
    assert_eq!((list.len(), list[0]["status"].clone(), prepay), (1, json!("paid"), json!(600)));
    // The same payment cannot be paid twice.
    let (s, b) = imp(doc).await;
    assert_eq!(s, 400, "{b}");
});

both!(payment_api_refuses_odd_input_and_other_sites, |app: TestApp| async move {
    merchant(&app, None).await;
    let (_, pid) = order_with_payment(&app, "pi-4").await;
    for (path, field, value) in [
        ("/api/v5/payment/create-invoice", "createInvoice", "{not json"),
        ("/api/v5/payment/create-invoice", "createInvoice", "[1]"),
        ("/api/v5/payment/create-invoice", "createInvoice", r#"{"paymentId": "x"}"#),
        ("/api/v5/payment/create-invoice", "createInvoice", r#"{"returnUrl": 5}"#),
        ("/api/v5/payment/check", "check", r#"{"amount": 5}"#),
        ("/api/v5/payment/update-invoice", "updateInvoice", r#"{"amount": 5}"#),
        ("/api/v5/payment/update-invoice", "updateInvoice", r#"{"invoiceUuid": "x", "status": "lost"}"#),
        ("/api/v5/payment/update-invoice", "updateInvoice", r#"{"invoiceUuid": "x", "amount": -1}"#),
        ("/api/v5/payment/update-invoice", "updateInvoice", r#"{"invoiceUuid": "x", "amount": 1e40}"#),
        ("/api/v5/payment/check", "check", r#"{"invoiceUuid": "x", "amount": 0.001}"#),
        ("/api/v5/payment/invoice/import", "invoice", r#"{"paymentId": 1, "status": "succeeded", "amount": 1e27}"#),
        ("/api/v5/payment/update-invoice", "updateInvoice", r#"{"invoiceUuid": "x", "refund": {"amount": 1}}"#),
        (
            "/api/v5/payment/update-invoice",
            "updateInvoice",
            r#"{"invoiceUuid": "x", "expiredAt": "2001-01-01 00:00:00"}"#,
        ),
        ("/api/v5/payment/invoice/import", "invoice", r#"{"status": "succeeded"}"#),
    ] {
        let (s, b) = app.post(path, &[(field, value)]).await;
        assert_eq!(s, 400, "{path} {value}: {b}");
        assert_eq!(b["success"], json!(false));
    }
    let (s, b) = app.get("/api/v5/payment/invoice/a%00b").await;
    assert_eq!(s, 404, "{b}");
    let (s, _) = app.post("/api/v5/payment/check", &[]).await;
    assert_eq!(s, 400);
    let (s, b) = app.get("/api/v5/payment/invoice/00000000-0000-0000-0000-000000000000").await;
    assert_eq!((s.as_u16(), b["success"].clone()), (404, json!(false)));
    let (s, _) = create_invoice(&app, json!({"paymentId": 424242})).await;
    assert_eq!(s, 404);
    let (_, b) = create_invoice(&app, json!({"paymentId": pid})).await;
    let uuid = b["result"]["invoiceUuid"].as_str().unwrap().to_string();
    let (s, _) = update(&app, json!({"invoiceUuid": uuid, "paymentId": pid + 1000})).await;
    assert_eq!(s, 400);
    // An invoice made in the billing face is read and checked here, but changed only there.
    let body = crate::billing_support::invoice_body("bf-1", &[crate::billing_support::line("A1", "100", 1)]);
    let made = crate::billing_support::create(&app, &body).await;
    let billing_uuid = made["id"].as_str().unwrap().to_string();
    let (s, b) = app.get(&format!("/api/v5/payment/invoice/{billing_uuid}")).await;
    assert_eq!((s.as_u16(), b["invoice"]["paymentId"].clone()), (200, Value::Null), "{b}");
    let (s, b) = update(&app, json!({"invoiceUuid": billing_uuid, "amount": 5})).await;
    assert_eq!(s, 400, "{b}");
    assert!(b["errorMsg"].as_str().unwrap().contains("billing API"), "{b}");
    // A key of another site sees neither the payment nor its invoice; reading needs payments_read.
    app.add_site("other").await;
    let other = app.key_with(&["payments_read", "payments_write"], &["other"]).await;
    let (s, _) = app.get_as(&other, &format!("/api/v5/payment/invoice/{uuid}")).await;
    assert_eq!(s, 404);
    let doc = json!({"paymentId": pid}).to_string();
    let (s, _) = app.post_as(&other, "/api/v5/payment/create-invoice", &[("createInvoice", &doc)]).await;
    assert_eq!(s, 404);
    let orders_only = app.key_with(&["order_read"], &["default"]).await;
    let (s, _) = app.get_as(&orders_only, &format!("/api/v5/payment/invoice/{uuid}")).await;
    assert_eq!(s, 403);
});

both!(concurrent_invoice_requests_for_one_payment_share_one_invoice, |app: TestApp| async move {
    merchant(&app, None).await;
    let (_, pid) = order_with_payment(&app, "pi-5").await;
    let calls = (0..6).map(|_| create_invoice(&app, json!({"paymentId": pid})));
    let answers = futures::future::join_all(calls).await;
    let mut uuids: Vec<String> = answers
        .iter()
        .map(|(s, b)| {
            assert_eq!(*s, 200, "{b}");
            b["result"]["invoiceUuid"].as_str().unwrap().to_string()
        })
        .collect();
    uuids.sort();
    uuids.dedup();
    assert_eq!(uuids.len(), 1, "{answers:?}");
    assert_eq!(app.store.payment_invoices(pid).await.unwrap().len(), 1);
});

both!(the_demo_has_a_payment_with_an_invoice, |app: TestApp| async move {
    torg::demo::load(&app.store).await.expect("demo");
    let (s, b) = app.get("/api/v5/orders/demo-o2?site=default").await;
    assert_eq!(s, 200, "{b}");
    let payment: Vec<Value> = b["order"]["payments"].as_object().unwrap().values().cloned().collect();
    assert_eq!(payment.len(), 1, "{b}");
    let pid = payment[0]["id"].as_i64().unwrap();
    assert_eq!(payment[0]["amount"], b["order"]["totalSumm"]);
    let invoices = app.store.payment_invoices(pid).await.unwrap();
    assert_eq!(invoices.len(), 1);
    let (s, b) = app.get(&format!("/api/v5/payment/invoice/{}", invoices[0].id)).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        (b["invoice"]["status"].clone(), b["invoice"]["paymentId"].clone()),
        (json!("pending"), json!(pid.to_string()))
    );
});

both!(held_money_pays_the_payment_when_captured, |app: TestApp| async move {
    merchant(&app, None).await;
    let (order, pid) = order_with_payment(&app, "pi-6").await;
    let (_, b) = create_invoice(&app, json!({"paymentId": pid})).await;
    let uuid = b["result"]["invoiceUuid"].as_str().unwrap().to_string();
    let (s, b) = update(&app, json!({"invoiceUuid": uuid, "status": "waitingForCapture"})).await;
    assert_eq!(s, 200, "{b}");
    let (_, b) = app.get(&format!("/api/v5/payment/invoice/{uuid}")).await;
    assert_eq!(
        (b["invoice"]["status"].clone(), b["invoice"]["cancellable"].clone()),
        (json!("waitingForCapture"), json!(true))
    );
    // Held is not yet paid: the payment waits.
    let (list, _) = payments(&app, order).await;
    assert_eq!(list[0]["status"], json!("not-paid"));
    let (s, b) = create_invoice(&app, json!({"paymentId": pid})).await;
    assert_eq!(s, 400, "{b}");
    let (s, b) = update(&app, json!({"invoiceUuid": uuid, "status": "succeeded"})).await;
    assert_eq!(s, 200, "{b}");
    let (list, prepay) = payments(&app, order).await;
    assert_eq!((list.len(), list[0]["status"].clone(), prepay), (1, json!("paid"), json!(600)));
});
