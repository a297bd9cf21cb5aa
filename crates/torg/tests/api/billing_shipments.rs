//! The billing face's shipments and holds (issue 14): an order paid "on shipment" is held, shipped in
//! parts (each shipment on the CRM order's delivery and on `/track`), captured by its last shipment;
//! a hold is released by a cancel or by the merchant's `shipping_unavailable` reply; other final
//! replies are recorded and not retried.

use crate::billing_support::{MERCHANT, Receiver, call, create, fast_webhooks, invoice_body, line, merchant, worker};
use crate::common::{TestApp, both};
use axum::extract::State;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Presses "pay on shipment" (`mode=hold`) or "pay now" on the payment page, as a browser posts it.
pub async fn pay_on_page_as(app: &TestApp, payment_url: &str, mode: &str) {
    let html = app.client.get(payment_url).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("name=\"mode\" value=\"hold\"") && html.contains("value=\"now\""), "{html}");
    let action = html.split("<form method=\"post\" action=\"").nth(1).and_then(|r| r.split('"').next()).unwrap();
    let no_redirect = crate::common::http().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = no_redirect.post(format!("{}{action}", app.base)).form(&[("mode", mode)]).send().await.unwrap();
    assert_eq!(r.status(), 303);
}

/// A CRM order on the default site: 2 × 500 and 1 × 300; returns (id, number).
async fn crm_order(app: &TestApp, external_id: &str) -> (i64, String) {
    let o = json!({"externalId": external_id, "firstName": "Олег", "email": "oleg@example.ru",
                   "items": [{"productName": "Фильтр", "initialPrice": 500, "quantity": 2},
                             {"productName": "Масло", "initialPrice": 300, "quantity": 1}]});
    let (s, b) = app.post("/api/v5/orders/create", &[("order", &o.to_string()), ("site", "default")]).await;
    assert_eq!(s, 201, "{b}");
    (b["id"].as_i64().unwrap(), b["order"]["number"].as_str().unwrap().to_string())
}

/// An invoice for a CRM order, its basket taken from the order.
async fn invoice_for(app: &TestApp, external_id: &str) -> Value {
    let body = json!({"merchantId": MERCHANT, "merchantOrderId": external_id, "description": "Заказ",
                      "currencyId": "RUB", "expirationDate": "2099-01-01T00:00:00+00:00"});
    create(app, &body).await
}

/// One basket line of an invoice with another quantity.
fn part(line: &Value, qty: u32) -> Value {
    let mut l = line.clone();
    let unit: rust_decimal::Decimal = l["amount"].to_string().parse().unwrap();
    let total = unit * rust_decimal::Decimal::from(qty);
    l["quantity"] = json!(qty);
    l["totalAmount"] = total.normalize().to_string().parse().unwrap();
    l["totalVatAmount"] = json!(0);
    l["amountWoVat"] = l["amount"].clone();
    l
}

async fn get_invoice(app: &TestApp, id: &str) -> Value {
    let (s, b) = call(app, "GET", &format!("/v3/billing/api/order/order/{id}"), None).await;
    assert_eq!(s, 200, "{b}");
    b["data"].clone()
}

both!(hold_is_shipped_in_parts_and_captured, |app: TestApp| async move {
    let receiver = Receiver::start(0).await;
    merchant(&app, Some(&receiver.url)).await;
    let hooks = worker(&app, fast_webhooks(3)).await;
    let (crm_id, number) = crm_order(&app, "ship-1").await;
    let inv = invoice_for(&app, "ship-1").await;
    let id = inv["id"].as_str().unwrap().to_string();
    assert_eq!(inv["amount"], json!(1300));
    let (filter, oil) = (inv["basketItems"][0].clone(), inv["basketItems"][1].clone());
    // Paid "on shipment": the money is held; nothing reaches the CRM order yet.
    pay_on_page_as(&app, inv["paymentUrl"].as_str().unwrap(), "hold").await;
    let held = get_invoice(&app, &id).await;
    assert_eq!(held["status"], "hold");
    assert!(held["paidAt"].is_string(), "{held}");
    let page = app.client.get(inv["paymentUrl"].as_str().unwrap()).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("заблокирована") && !page.contains("<form"), "{page}");
    let (_, b) = app.get(&format!("/api/v5/orders/{crm_id}?by=id")).await;
    assert_eq!(b["order"]["prepaySum"], json!(0), "{b}");
    // A hold is not refunded (it is released by a cancel).
    let refund = json!({"parentId": id, "merchantOrderId": "r-hold", "amount": 300, "vatAmount": 0,
                        "description": "Возврат", "basketItems": [part(&oil, 1)]});
    let (s, b) = call(&app, "POST", "/v3/billing/api/order/refund-order", Some(&refund)).await;
    assert_eq!((s.as_u16(), b["error"]["code"].clone()), (422, json!("wrong_order_status")), "{b}");
    // First shipment: one filter of two, with a waybill number.
    let first = json!({"orderId": id, "documentNumber": "TN-1", "documentDate": "2026-11-30",
                       "basketItems": [part(&filter, 1)]});
    let (s, b) = call(&app, "POST", "/v3/billing/api/order/shipment", Some(&first)).await;
    assert_eq!(s, 200, "{b}");
    let shipment = b["data"].clone();
    assert!(shipment["id"].is_i64(), "{shipment}");
    assert_eq!(
        (&shipment["orderId"], &shipment["merchantId"], &shipment["amount"], &shipment["documentNumber"]),
        (&json!(id), &json!(MERCHANT), &json!(500), &json!("TN-1"))
    );
    assert_eq!(get_invoice(&app, &id).await["status"], "hold");
    // The CRM order's delivery carries it, and `/track` shows the tracking number.
    let (_, b) = app.get(&format!("/api/v5/orders/{crm_id}?by=id")).await;
    assert_eq!(b["order"]["delivery"]["data"]["status"], "partially-shipped", "{b}");
    let tracked: Value =
        app.client.get(format!("{}/track/{number}", app.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(tracked["track_numbers"], json!(["TN-1"]), "{tracked}");
    // More than is left of a line is refused; so is a sku the order does not have, and bad input.
    let (s, b) = call(
        &app,
        "POST",
        "/v3/billing/api/order/shipment",
        Some(&json!({"orderId": id,
        "basketItems": [part(&filter, 2)]})),
    )
    .await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["error"]["fields"][0]["name"], "basketItems[0].totalAmount", "{b}");
    let mut stranger = part(&filter, 1);
    stranger["sku"] = json!("nope");
    let (s, b) = call(
        &app,
        "POST",
        "/v3/billing/api/order/shipment",
        Some(&json!({"orderId": id,
        "basketItems": [stranger]})),
    )
    .await;
    assert_eq!((s.as_u16(), b["error"]["fields"][0]["name"].clone()), (422, json!("basketItems[0].sku")), "{b}");
    for (bad, field) in [
        (json!({"orderId": id, "basketItems": []}), "basketItems"),
        (json!({"orderId": id, "basketItems": [part(&oil, 1)], "documentDate": "30.11.2026"}), "documentDate"),
        (json!({"orderId": id, "basketItems": [part(&oil, 1)], "final": "yes"}), "final"),
        (json!({"orderId": id, "basketItems": [part(&oil, 1)], "tracking": "x"}), "tracking"),
        (json!({"orderId": "00000000-0000-0000-0000-000000000000", "basketItems": [part(&oil, 1)]}), "orderId"),
    ] {
        let (s, b) = call(&app, "POST", "/v3/billing/api/order/shipment", Some(&bad)).await;
        assert_eq!((s.as_u16(), b["error"]["fields"][0]["name"].clone()), (422, json!(field)), "{bad}: {b}");
    }
    // Both lists show it; the order's list needs orderId.
    let (s, b) = call(&app, "GET", &format!("/v3/billing/api/order/shipment?orderId={id}"), None).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!((b["metaData"]["totalCount"].clone(), b["data"][0]["id"].clone()), (json!(1), shipment["id"].clone()));
    let (_, b) = call(&app, "GET", &format!("/v3/filter/api/order/shipment?id={}", shipment["id"]), None).await;
    assert_eq!(b["metaData"]["totalCount"], 1, "{b}");
    let (_, b) = call(&app, "GET", "/v3/filter/api/order/shipment?orderId=someone-else", None).await;
    assert_eq!(b["metaData"]["totalCount"], 0, "{b}");
    let (s, b) = call(&app, "GET", "/v3/billing/api/order/shipment", None).await;
    assert_eq!((s.as_u16(), b["error"]["fields"][0]["name"].clone()), (422, json!("orderId")), "{b}");
    // The last shipment (final: the second filter is not coming) captures what was shipped.
    let last = json!({"orderId": id, "documentNumber": "TN-2", "final": true, "basketItems": [part(&oil, 1)]});
    let (s, b) = call(&app, "POST", "/v3/billing/api/order/shipment", Some(&last)).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["data"]["final"], true);
    let paid = get_invoice(&app, &id).await;
    assert_eq!((paid["status"].clone(), paid["capturedAmount"].clone()), (json!("completed"), json!(800)), "{paid}");
    let (_, b) = app.get(&format!("/api/v5/orders/{crm_id}?by=id")).await;
    assert_eq!(b["order"]["prepaySum"], json!(800), "{b}");
    assert_eq!(b["order"]["delivery"]["data"]["status"], "shipped", "{b}");
    let tracked: Value =
        app.client.get(format!("{}/track/{number}", app.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(tracked["track_numbers"], json!(["TN-1", "TN-2"]), "{tracked}");
    // Only what was captured can go back; nothing more ships.
    let (_, b) = call(&app, "GET", &format!("/v3/billing/api/order/order/{id}/refund-basket-item"), None).await;
    let available: Vec<Value> = b["data"].as_array().unwrap().iter().map(|l| l["availableAmount"].clone()).collect();
    assert_eq!(available, vec![json!(500), json!(300)], "{b}");
    let (s, b) = call(
        &app,
        "POST",
        "/v3/billing/api/order/shipment",
        Some(&json!({"orderId": id,
        "basketItems": [part(&filter, 1)]})),
    )
    .await;
    assert_eq!((s.as_u16(), b["error"]["code"].clone()), (422, json!("wrong_order_status")), "{b}");
    // The merchant heard of the hold and of the capture.
    let seen = receiver
        .wait_for(|s| s.iter().filter(|r| r.body.contains(&id) && r.body.contains("\"completed\"")).count() == 1)
        .await;
    let statuses: Vec<String> = seen
        .iter()
        .map(|r| serde_json::from_str::<Value>(&r.body).unwrap())
        .filter(|n| n["id"] == json!(id))
        .map(|n| n["status"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(statuses, vec!["hold", "completed"]);
    hooks.stop().await;
});

/// The reply a [`Replier`] gives, and the bodies it got.
type Replies = Arc<Mutex<(Value, Vec<Value>)>>;

/// A receiver answering every notification with a fixed reply (200), and remembering the bodies.
#[derive(Clone)]
struct Replier {
    url: String,
    state: Replies,
}

async fn reply(State(state): State<Replies>, body: String) -> String {
    let mut s = state.lock().unwrap();
    s.1.push(serde_json::from_str(&body).unwrap_or_default());
    s.0.to_string()
}

impl Replier {
    async fn start(answer: Value) -> Replier {
        let state = Arc::new(Mutex::new((answer, Vec::new())));
        let router = axum::Router::new().route("/hook", axum::routing::post(reply)).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Replier { url, state }
    }

    fn answer(&self, answer: Value) {
        self.state.lock().unwrap().0 = answer;
    }

    fn seen(&self) -> Vec<Value> {
        self.state.lock().unwrap().1.clone()
    }
}

async fn wait_until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..150 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never happened: {what}");
}

both!(holds_are_released_and_refusals_recorded, |app: TestApp| async move {
    let replier = Replier::start(json!({"status": "success"})).await;
    merchant(&app, Some(&replier.url)).await;
    let hooks = worker(&app, fast_webhooks(3)).await;
    // A cancel releases a hold: full reversal, the merchant is told.
    let a = create(&app, &invoice_body("hold-a", &[line("A", "100", 1)])).await;
    let a_id = a["id"].as_str().unwrap().to_string();
    pay_on_page_as(&app, a["paymentUrl"].as_str().unwrap(), "hold").await;
    let (s, b) = call(&app, "DELETE", &format!("/v3/billing/api/order/order/{a_id}"), None).await;
    assert_eq!((s.as_u16(), b["data"]["status"].clone()), (200, json!("canceled")), "{b}");
    assert!(b["data"].get("paidAt").is_none(), "{b}");
    let (s, b) = call(
        &app,
        "POST",
        "/v3/billing/api/order/shipment",
        Some(&json!({"orderId": a_id, "basketItems": [line("A", "100", 1)]})),
    )
    .await;
    assert_eq!((s.as_u16(), b["error"]["code"].clone()), (422, json!("wrong_order_status")), "{b}");
    // Once something shipped, a hold is not cancelled: the final shipment settles it.
    let b_inv = create(&app, &invoice_body("hold-b", &[line("A", "100", 2)])).await;
    let b_id = b_inv["id"].as_str().unwrap().to_string();
    pay_on_page_as(&app, b_inv["paymentUrl"].as_str().unwrap(), "hold").await;
    let (s, _) = call(
        &app,
        "POST",
        "/v3/billing/api/order/shipment",
        Some(&json!({"orderId": b_id, "basketItems": [line("A", "100", 1)]})),
    )
    .await;
    assert_eq!(s, 200);
    let (s, b) = call(&app, "DELETE", &format!("/v3/billing/api/order/order/{b_id}"), None).await;
    assert_eq!((s.as_u16(), b["error"]["code"].clone()), (422, json!("wrong_order_status")), "{b}");
    // The merchant cannot ship: its reply to the hold releases it.
    replier.answer(json!({"status": "error", "code": "shipping_unavailable", "message": "Нет на складе"}));
    let c = create(&app, &invoice_body("hold-c", &[line("A", "100", 1)])).await;
    let c_id = c["id"].as_str().unwrap().to_string();
    pay_on_page_as(&app, c["paymentUrl"].as_str().unwrap(), "hold").await;
    wait_until("the hold is released", async || get_invoice(&app, &c_id).await["status"] == "canceled").await;
    let released = get_invoice(&app, &c_id).await;
    assert_eq!(released["processingStatus"], "shipping_unavailable", "{released}");
    // Another final refusal of a paid order is recorded, not retried, and moves no money.
    replier.answer(json!({"status": "error", "code": "order_wrong_amount"}));
    let d = create(&app, &invoice_body("paid-d", &[line("A", "100", 1)])).await;
    let d_id = d["id"].as_str().unwrap().to_string();
    pay_on_page_as(&app, d["paymentUrl"].as_str().unwrap(), "now").await;
    wait_until("the refusal is recorded", async || {
        get_invoice(&app, &d_id).await["processingStatus"] == "order_wrong_amount"
    })
    .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let about_d = replier.seen().iter().filter(|n| n["id"] == json!(d_id)).count();
    assert_eq!(about_d, 1, "a final refusal is not retried");
    assert_eq!(get_invoice(&app, &d_id).await["status"], "completed");
    // `out_of_service` is retried.
    replier.answer(json!({"status": "error", "code": "out_of_service"}));
    let e = create(&app, &invoice_body("paid-e", &[line("A", "100", 1)])).await;
    let e_id = e["id"].as_str().unwrap().to_string();
    pay_on_page_as(&app, e["paymentUrl"].as_str().unwrap(), "now").await;
    wait_until("retries", async || replier.seen().iter().filter(|n| n["id"] == json!(e_id)).count() >= 2).await;
    hooks.stop().await;
});

both!(racing_shipments_never_exceed_the_order, |app: TestApp| async move {
    merchant(&app, None).await;
    let inv = create(&app, &invoice_body("race-1", &[line("A", "100", 3)])).await;
    let id = inv["id"].as_str().unwrap().to_string();
    // Eight shipments of one unit at once, for three units: exactly three get through.
    let tries = (0..8).map(|_| {
        let body = json!({"orderId": id, "basketItems": [line("A", "100", 1)]});
        let app = &app;
        async move { call(app, "POST", "/v3/billing/api/order/shipment", Some(&body)).await }
    });
    let results = futures::future::join_all(tries).await;
    let ok = results.iter().filter(|(s, _)| s.as_u16() == 200).count();
    assert_eq!(ok, 3, "{results:?}");
    assert!(results.iter().all(|(s, _)| s.as_u16() == 200 || s.as_u16() == 422), "{results:?}");
    let (_, b) = call(&app, "GET", &format!("/v3/filter/api/order/shipment?orderId={id}"), None).await;
    assert_eq!(b["metaData"]["totalCount"], 3, "{b}");
    // Unfiltered, the total is the site's counter: the same three.
    let (_, b) = call(&app, "GET", "/v3/filter/api/order/shipment", None).await;
    assert_eq!(b["metaData"]["totalCount"], 3, "{b}");
});
