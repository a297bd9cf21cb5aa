//! What the billing tests share: a merchant on the test app, requests with the documented headers, valid
//! invoice bodies, a webhook receiver inside the test, and whole torg instances (server and webhook
//! worker) started and stopped over one database.

use crate::common::{Reply, TestApp};
use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use torg_http::webhooks::WebhookConfig;
use torg_http::{AppState, HttpConfig};
use torg_store::{BillingSettingsPatch, Store};

/// The test merchant's id (on the `default` site).
pub const MERCHANT: &str = "11111111-2222-4333-8444-555555555555";
/// The key its notifications are signed with.
pub const NOTIFY_KEY: &str = "notify-secret";

/// Configures the `default` site as the test merchant, in test mode, notifications to `url`.
pub async fn merchant(app: &TestApp, url: Option<&str>) {
    let patch = BillingSettingsPatch {
        merchant_id: Some(MERCHANT.into()),
        notification_key: Some(NOTIFY_KEY.into()),
        notification_url: url.map(str::to_owned),
        test_mode: Some(true),
        ..Default::default()
    };
    app.store.set_billing_settings("default", &patch, MERCHANT).await.expect("billing settings");
}

/// A billing request with the headers Invoicebox's documentation requires and the test key as bearer.
pub async fn call(app: &TestApp, method: &str, path: &str, body: Option<&Value>) -> Reply {
    call_as(app, &app.key.clone(), method, path, body).await
}

/// A billing request with a given bearer token.
pub async fn call_as(app: &TestApp, token: &str, method: &str, path: &str, body: Option<&Value>) -> Reply {
    let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = app
        .client
        .request(m, format!("{}{path}", app.base))
        .header("Accept", "application/json")
        .header("User-Agent", "TorgTests/1.0 (Invoicebox 3.0)")
        .header("Authorization", format!("Bearer {token}"));
    if let Some(b) = body {
        req = req.header("Content-Type", "application/json").body(b.to_string());
    }
    let r = req.send().await.expect("send");
    let status = r.status();
    let text = r.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}), {status}: {text}")))
}

/// A basket line: `qty` units at `unit` with VAT 20 % included.
pub fn line(sku: &str, unit: &str, qty: u32) -> Value {
    use rust_decimal::Decimal;
    let unit: Decimal = unit.parse().expect("unit");
    let total = (unit * Decimal::from(qty)).round_dp(2);
    let vat = (total * Decimal::from(20) / Decimal::from(120)).round_dp(2);
    let wo = ((total - vat) / Decimal::from(qty)).round_dp(2);
    let n = |d: Decimal| -> Value { d.normalize().to_string().parse().expect("number") };
    json!({"sku": sku, "name": format!("Товар {sku}"), "measure": "шт.", "measureCode": "796", "quantity": qty,
           "amount": n(unit), "amountWoVat": n(wo), "totalAmount": n(total), "totalVatAmount": n(vat),
           "vatCode": "RUS_VAT20", "type": "commodity", "paymentType": "full_prepayment"})
}

/// A valid create request over `lines`.
pub fn invoice_body(merchant_order_id: &str, lines: &[Value]) -> Value {
    use rust_decimal::Decimal;
    let sum = |k: &str| -> Decimal { lines.iter().map(|l| l[k].to_string().parse::<Decimal>().expect("amount")).sum() };
    let n = |d: Decimal| -> Value { d.normalize().to_string().parse().expect("number") };
    json!({"merchantId": MERCHANT, "merchantOrderId": merchant_order_id, "description": "Тестовый заказ",
           "amount": n(sum("totalAmount")), "vatAmount": n(sum("totalVatAmount")), "currencyId": "RUB", "languageId": "ru",
           "expirationDate": "2099-12-31T21:00:00+00:00", "basketItems": lines,
           "customer": {"type": "legal", "name": "ООО Тест", "phone": "79001112233", "email": "buyer@example.ru", "vatNumber": "7804445210"}})
}

/// Creates an invoice and returns its `data`.
pub async fn create(app: &TestApp, body: &Value) -> Value {
    let (s, b) = call(app, "POST", "/v3/billing/api/order/order", Some(body)).await;
    assert_eq!(s, 200, "{b}");
    b["data"].clone()
}

/// Presses the payment page's button (a plain form POST, as a browser without JS sends it).
pub async fn pay_on_page(app: &TestApp, payment_url: &str) {
    let page = app.client.get(payment_url).send().await.expect("page");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    let action = html.split("<form method=\"post\" action=\"").nth(1).and_then(|r| r.split('"').next()).expect("form");
    let no_redirect = crate::common::http().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let r = no_redirect.post(format!("{}{action}", app.base)).form(&[("pay", "1")]).send().await.expect("post");
    assert_eq!(r.status(), 303);
}

/// One request a receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// `X-Signature`.
    pub signature: Option<String>,
    /// Raw body.
    pub body: String,
    /// Whether it was answered with success.
    pub accepted: bool,
}

#[derive(Default)]
struct ReceiverState {
    fail_first: usize,
    seen: Vec<Received>,
}

/// A webhook receiver: fails the first N calls with 500, then answers `{"status": "success"}`.
#[derive(Clone)]
pub struct Receiver {
    /// Its URL.
    pub url: String,
    state: Arc<Mutex<ReceiverState>>,
}

async fn receive(
    State(state): State<Arc<Mutex<ReceiverState>>>,
    headers: HeaderMap,
    body: String,
) -> (axum::http::StatusCode, String) {
    let mut s = state.lock().expect("lock");
    let failing = s.seen.len() < s.fail_first;
    let signature = headers.get("x-signature").and_then(|v| v.to_str().ok()).map(str::to_owned);
    s.seen.push(Received { signature, body, accepted: !failing });
    if failing {
        (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            json!({"status": "error", "code": "out_of_service"}).to_string(),
        )
    } else {
        (axum::http::StatusCode::OK, json!({"status": "success"}).to_string())
    }
}

impl Receiver {
    /// Starts a receiver that fails its first `fail_first` calls.
    pub async fn start(fail_first: usize) -> Receiver {
        let state = Arc::new(Mutex::new(ReceiverState { fail_first, seen: Vec::new() }));
        let app = axum::Router::new().route("/hook", axum::routing::post(receive)).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { url, state }
    }

    /// Every call so far.
    pub fn seen(&self) -> Vec<Received> {
        self.state.lock().expect("lock").seen.clone()
    }

    /// Makes every call from now on fail (`true`) or succeed.
    pub fn set_failing(&self, failing: bool) {
        let mut s = self.state.lock().expect("lock");
        s.fail_first = if failing { usize::MAX } else { s.seen.len() };
    }

    /// Waits until `pred` holds of the calls (at most 20 s).
    pub async fn wait_for(&self, pred: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        for _ in 0..200 {
            let seen = self.seen();
            if pred(&seen) {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the receiver never saw what was expected: {:?}", self.seen());
    }
}

/// A fast webhook schedule for tests: retries 100 ms apart.
pub fn fast_webhooks(retries: usize) -> WebhookConfig {
    WebhookConfig {
        retry_schedule: vec![Duration::from_millis(100); retries],
        timeout: Duration::from_secs(5),
        poll_interval: Duration::from_millis(50),
        sweep_interval: Duration::from_millis(200),
        lease: Duration::from_secs(10),
        keep: Duration::from_secs(3600),
    }
}

/// A torg instance: server and webhook worker over a database, stopped together.
pub struct Instance {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Instance {
    /// Starts an instance on `database_url` (which must be migrated), with rate limits off.
    pub async fn start(database_url: &str, webhooks: WebhookConfig) -> Instance {
        let unlimited = HttpConfig {
            rate_per_second: 0,
            telephony_rate_per_second: 0,
            billing_per_key: 0,
            billing_per_ip: 0,
            ..HttpConfig::default()
        };
        Instance::start_with(database_url, webhooks, unlimited).await
    }

    /// Starts an instance on `database_url` with `config` (its `public_url` set to the instance's address).
    pub async fn start_with(database_url: &str, webhooks: WebhookConfig, config: HttpConfig) -> Instance {
        let store = Store::open(database_url).await.expect("store");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let config = HttpConfig { public_url: format!("http://{addr}"), ..config };
        let state = AppState::new(store, config).await.expect("state");
        let (stop, stopped) = watch::channel(false);
        let worker = tokio::spawn(torg_http::webhooks::run(state.clone(), webhooks, stopped.clone()));
        let mut server_stop = stopped;
        let server = tokio::spawn(async move {
            let _ = torg_http::serve(listener, state, async move {
                let _ = server_stop.changed().await;
            })
            .await;
        });
        Instance { base: format!("http://{addr}"), stop, tasks: vec![worker, server] }
    }

    /// Stops gracefully and waits until both tasks ended.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// Starts only a webhook worker for the test app's database (its public URL is the app's).
pub async fn worker(app: &TestApp, webhooks: WebhookConfig) -> Instance {
    let config = HttpConfig { public_url: app.base.clone(), ..HttpConfig::default() };
    let state = AppState::new(app.store.clone(), config).await.expect("state");
    let (stop, stopped) = watch::channel(false);
    let worker = tokio::spawn(torg_http::webhooks::run(state, webhooks, stopped));
    Instance { base: app.base.clone(), stop, tasks: vec![worker] }
}
