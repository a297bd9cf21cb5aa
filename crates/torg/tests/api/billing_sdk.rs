//! The official Invoicebox PHP SDK's calls (InvoiceBox/invoicebox-sdk-php, `InvoiceboxClient`),
//! reproduced byte for byte in their headers: plain cURL, so no `User-Agent`; `Authorization: Bearer`,
//! `Content-Type: application/json` and `Accept: application/json` on every call, bodies as JSON, the
//! filter as a query string.

use crate::billing_support::{MERCHANT, invoice_body, line, merchant, pay_on_page};
use crate::common::{TestApp, both};
use serde_json::{Value, json};

/// One SDK call: `apiUrl/v3{path}` with the SDK's three headers and nothing else.
async fn sdk(app: &TestApp, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let bare = crate::common::http().build().expect("client without a user agent");
    let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = bare
        .request(m, format!("{}/v3{path}", app.base))
        .header("Authorization", format!("Bearer {}", app.key))
        .header("Content-Type", "application/json")
        .header("Accept", "application/json");
    if let Some(b) = body {
        req = req.body(b.to_string());
    }
    let built = req.build().expect("request");
    assert!(built.headers().get("user-agent").is_none(), "the SDK sends no User-Agent");
    let r = bare.execute(built).await.expect("send");
    let status = r.status().as_u16();
    let text = r.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}), {status}: {text}")))
}

both!(the_official_sdk_is_served_without_a_user_agent, |app: TestApp| async move {
    merchant(&app, None).await;
    let (s, b) = sdk(&app, "GET", "/security/api/auth/auth", None).await;
    assert_eq!(s, 200, "checkAuth: {b}");
    assert!(b["data"]["userId"].is_string(), "{b}");

    let (s, b) =
        sdk(&app, "POST", "/billing/api/order/order", Some(invoice_body("sdk-1", &[line("A", "100", 2)]))).await;
    assert_eq!(s, 200, "createOrder: {b}");
    let id = b["data"]["id"].as_str().unwrap().to_string();

    let (s, b) =
        sdk(&app, "GET", &format!("/filter/api/order/order?merchantOrderId=sdk-1&merchantId={MERCHANT}"), None).await;
    assert_eq!(s, 200, "findOrderByFilter: {b}");
    assert_eq!(b["data"][0]["id"], json!(id));

    let update = json!({"description": "Изменённый заказ"});
    let (s, b) = sdk(&app, "PUT", &format!("/billing/api/order/order/{id}"), Some(update)).await;
    assert_eq!(s, 200, "updateOrder: {b}");
    assert_eq!(b["data"]["description"], "Изменённый заказ");

    let (s, b) = sdk(&app, "DELETE", &format!("/billing/api/order/order/{id}"), None).await;
    assert_eq!(s, 200, "deleteOrder: {b}");
    assert_eq!(b["data"]["status"], "canceled", "{b}");

    let (_, b) =
        sdk(&app, "POST", "/billing/api/order/order", Some(invoice_body("sdk-2", &[line("B", "50", 1)]))).await;
    let paid = b["data"]["id"].as_str().unwrap().to_string();
    pay_on_page(&app, b["data"]["paymentUrl"].as_str().unwrap()).await;
    let (s, b) = sdk(&app, "GET", &format!("/billing/api/order/order/{paid}/refund-basket-item"), None).await;
    assert_eq!(s, 200, "findAvailableRefundBasketItems: {b}");
    assert_eq!(b["data"].as_array().map(Vec::len), Some(1), "{b}");
});
