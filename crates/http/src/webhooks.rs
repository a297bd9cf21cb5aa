//! The webhook worker: claims outbox events, POSTs each status change of an invoice or a refund to the
//! invoice's `notificationUrl` (or its site's) signed as docs/billing.md says (payment notifications), and retries on a
//! schedule until the receiver answers 200 with `{"status": "success"}`. A receiver's final refusal
//! (`shipping_unavailable`, `order_wrong_amount`, …) is not retried: it shows on the invoice as
//! `processingStatus`, and `shipping_unavailable` on a hold releases it. The worker also expires
//! unpaid invoices periodically.
//!
//! Delivery is at least once: an event is settled only after the receiver's answer, so a worker that
//! dies mid-call leaves the event to be claimed again when its lease runs out. A graceful stop lets the
//! call in flight finish and hands back the events not yet tried.

use crate::AppState;
use crate::faces::billing::render;
use std::time::Duration;
use tokio::sync::watch;
use torg_domain::history::Actor;
use torg_domain::invoice::{BillingSettings, DEFAULT_RETRY_SCHEDULE_SECS, InvoiceStatus, sign};
use torg_store::OutboxEvent;

/// Refusals a receiver means for good (A.7 §5): retrying cannot change them.
const FINAL_REPLIES: &[&str] =
    &["shipping_unavailable", "order_wrong_amount", "order_already_paid", "order_not_found", "order_wrong_currency"];

/// What an outbox event announces, ready to send: the body (an OrderNotification, or a refund's), where
/// to, and the site's settings (its notification key).
pub struct Notice {
    /// The notification body.
    pub body: serde_json::Value,
    /// The invoice's notification URL, else its site's.
    pub url: Option<String>,
    /// The site's billing settings.
    pub settings: BillingSettings,
}

/// The notification an event stands for; `None` when what it was about is gone (or the event is not
/// a billing one). The webhook worker and the WebSocket gate send the same body.
pub async fn notification(state: &AppState, e: &OutboxEvent) -> Result<Option<Notice>, String> {
    let payload: serde_json::Value = serde_json::from_str(&e.payload).unwrap_or_default();
    let status = payload.get("status").and_then(|s| s.as_str());
    let store = |err: torg_store::StoreError| format!("store: {err}");
    let (body, own_url, site) = match e.topic.as_str() {
        torg_store::INVOICE_STATUS_TOPIC => {
            let Some(inv) = state.store.get_invoice(&e.subject).await.map_err(store)? else { return Ok(None) };
            let body = render::invoice(&inv, &state.config.public_url, status.and_then(InvoiceStatus::parse));
            (body, inv.notification_url, inv.site)
        }
        torg_store::REFUND_STATUS_TOPIC => {
            let Some(r) = state.store.get_refund(&e.subject).await.map_err(store)? else { return Ok(None) };
            let parent = state.store.get_invoice(&r.parent_id).await.map_err(store)?;
            (render::refund_notification(&r, status), parent.and_then(|i| i.notification_url), r.site)
        }
        _ => return Ok(None),
    };
    let settings = state.store.billing_settings(&site).await.map_err(store)?.unwrap_or_default();
    let url = own_url.or(settings.notification_url.clone());
    Ok(Some(Notice { body, url, settings }))
}

/// How the worker delivers.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Delay before each retry; after the last one the event is given up.
    pub retry_schedule: Vec<Duration>,
    /// Time allowed for one call (Invoicebox: 20 s).
    pub timeout: Duration,
    /// How often to look for due events when there were none.
    pub poll_interval: Duration,
    /// How often to expire unpaid invoices past their date.
    pub sweep_interval: Duration,
    /// How long a claim lasts; longer than `timeout`.
    pub lease: Duration,
    /// How long delivered and given-up events stay in the outbox (for inspection) before the sweep
    /// deletes them; pending events are never deleted.
    pub keep: Duration,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            retry_schedule: DEFAULT_RETRY_SCHEDULE_SECS.iter().map(|s| Duration::from_secs(*s)).collect(),
            timeout: Duration::from_secs(20),
            poll_interval: Duration::from_secs(1),
            sweep_interval: Duration::from_secs(30),
            lease: Duration::from_secs(60),
            keep: Duration::from_secs(30 * 86_400),
        }
    }
}

/// An error with its causes (reqwest's own message hides them: refused, timed out, certificate…).
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A receiver's URL as logs and the outbox show it: without user info, query or fragment, where a
/// merchant may have put a token.
fn shown(url: &str) -> String {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    let url = &url[..end];
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}{}", &url[..scheme + 3], &url[at + 1..]),
        _ => url.to_string(),
    }
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Runs until `shutdown` turns true.
pub async fn run(state: AppState, config: WebhookConfig, mut shutdown: watch::Receiver<bool>) {
    crate::install_tls_provider();
    let client = match reqwest::Client::builder().timeout(config.timeout).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "webhook worker cannot build its HTTP client");
            return;
        }
    };
    let token = uuid::Uuid::new_v4().to_string();
    let mut last_sweep: Option<tokio::time::Instant> = None;
    while !*shutdown.borrow() {
        if last_sweep.is_none_or(|t| t.elapsed() >= config.sweep_interval) {
            last_sweep = Some(tokio::time::Instant::now());
            match state.store.expire_due(torg_domain::time::now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(expired = n, "expired unpaid invoices"),
                Err(e) => tracing::warn!(error = %e, "invoice expiry sweep failed"),
            }
            match state.store.prune_events(torg_store::now_ms() - ms(config.keep)).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(pruned = n, "deleted old delivered and given-up events"),
                Err(e) => tracing::warn!(error = %e, "outbox pruning failed"),
            }
        }
        let events = match state.store.claim_events(10, ms(config.lease), &token).await {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(error = %e, "cannot claim outbox events");
                Vec::new()
            }
        };
        if events.is_empty() {
            tokio::select! {
                () = tokio::time::sleep(config.poll_interval) => {}
                _ = shutdown.changed() => {}
            }
            continue;
        }
        for e in events {
            if *shutdown.borrow() {
                if let Err(err) = state.store.release_event(&e).await {
                    tracing::warn!(error = %err, event = e.id, "cannot release an event");
                }
                continue;
            }
            deliver(&state, &client, &config, &e).await;
        }
    }
    tracing::info!("webhook worker stopped");
}

/// What a delivery came to.
enum Outcome {
    Delivered,
    Retry(String),
    GiveUp(String),
    /// The receiver refused for good, with this code.
    Refused(String),
}

async fn attempt(state: &AppState, client: &reqwest::Client, e: &OutboxEvent) -> Outcome {
    let notice = match notification(state, e).await {
        Ok(Some(n)) => n,
        Ok(None) => return Outcome::GiveUp("what the event announced no longer exists".into()),
        Err(err) => return Outcome::Retry(err),
    };
    let Some(url) = notice.url.clone() else {
        return Outcome::GiveUp("neither the invoice nor its site has a notification URL".into());
    };
    let body = notice.body.to_string();
    let mut req = client
        .post(&url)
        .header("Content-Type", "application/json")
        .header("Accept", "application/json")
        .header("User-Agent", concat!("torg/", env!("CARGO_PKG_VERSION"), " (Invoicebox 3.0 notifications)"));
    if let Some(key) = notice.settings.notification_key.as_deref() {
        req = req.header("X-Signature", sign(key.as_bytes(), body.as_bytes()));
    }
    let resp = match req.body(body).send().await {
        Ok(r) => r,
        Err(err) => {
            return Outcome::Retry(format!("POST {}: {}", shown(&url), error_chain(&err).replace(&url, &shown(&url))));
        }
    };
    let code = resp.status();
    let text = resp.text().await.unwrap_or_default();
    let answer: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    if code == reqwest::StatusCode::OK {
        match answer.get("status").and_then(|s| s.as_str()) {
            Some("success") => return Outcome::Delivered,
            Some("error") => {
                let reply = answer.get("code").and_then(|c| c.as_str()).unwrap_or("out_of_service");
                if FINAL_REPLIES.contains(&reply) {
                    return Outcome::Refused(reply.to_string());
                }
            }
            _ => {}
        }
    }
    let snippet: String = text.chars().take(200).collect();
    Outcome::Retry(format!("{} answered {code}: {snippet}", shown(&url)))
}

/// Acts on a receiver's final refusal of an invoice's notification: `shipping_unavailable` about a
/// hold releases it (nothing can be shipped, so nothing may be captured); otherwise the refusal is
/// recorded as the invoice's `processingStatus` and the money stays where it is (a paid invoice is
/// the merchant's to refund).
async fn refused(state: &AppState, e: &OutboxEvent, reply: &str) -> Result<(), torg_store::StoreError> {
    if e.topic != torg_store::INVOICE_STATUS_TOPIC {
        return Ok(());
    }
    let payload: serde_json::Value = serde_json::from_str(&e.payload).unwrap_or_default();
    let announced = payload.get("status").and_then(|s| s.as_str()).and_then(InvoiceStatus::parse);
    state.store.set_processing_status(&e.subject, reply).await?;
    if reply == "shipping_unavailable" && announced == Some(InvoiceStatus::Hold) {
        match state
            .store
            .set_invoice_status(&e.subject, InvoiceStatus::Canceled, false, Actor::Code, &state.config.zone)
            .await
        {
            // Captured or released meanwhile: nothing left to release.
            Ok(_) | Err(torg_store::StoreError::Billing(_)) => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

async fn deliver(state: &AppState, client: &reqwest::Client, config: &WebhookConfig, e: &OutboxEvent) {
    let outcome = attempt(state, client, e).await;
    let label = match &outcome {
        Outcome::Delivered => "delivered",
        Outcome::Retry(_) if usize::try_from(e.attempts).is_ok_and(|i| i < config.retry_schedule.len()) => "retry",
        Outcome::Retry(_) | Outcome::GiveUp(_) => "given_up",
        Outcome::Refused(_) => "refused",
    };
    metrics::counter!("torg_webhook_deliveries_total", "outcome" => label).increment(1);
    let result = match outcome {
        Outcome::Delivered => state.store.event_delivered(e).await.map(|settled| {
            if !settled {
                tracing::warn!(event = e.id, "delivered an event whose claim had lapsed");
            }
        }),
        Outcome::Retry(why) => {
            let next = usize::try_from(e.attempts).ok().and_then(|i| config.retry_schedule.get(i));
            let at = next.map(|d| torg_store::now_ms() + ms(*d));
            match at {
                Some(_) => {
                    tracing::info!(event = e.id, attempt = e.attempts + 1, error = %why, "webhook failed; will retry")
                }
                None => tracing::warn!(event = e.id, error = %why, "webhook failed for the last time; giving up"),
            }
            state.store.event_failed(e, &why, at).await
        }
        Outcome::GiveUp(why) => {
            tracing::warn!(event = e.id, error = %why, "webhook cannot be delivered");
            state.store.event_failed(e, &why, None).await
        }
        Outcome::Refused(reply) => {
            tracing::warn!(event = e.id, reply = %reply, "the receiver refused the notification");
            match refused(state, e, &reply).await {
                Ok(()) => state.store.event_failed(e, &format!("the receiver refused: {reply}"), None).await,
                Err(err) => Err(err),
            }
        }
    };
    if let Err(err) = result {
        tracing::warn!(error = %err, event = e.id, "cannot settle an outbox event");
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncReadExt;

    #[test]
    fn receiver_urls_are_shown_without_secrets() {
        assert_eq!(super::shown("https://u:p@shop.example/ib?token=s#x"), "https://shop.example/ib");
        assert_eq!(super::shown("http://shop.example/ib"), "http://shop.example/ib");
    }

    /// An `https://` receiver is spoken to in TLS: the first bytes on the wire are a TLS handshake
    /// record (0x16), where a client without TLS would send a plain `POST`.
    #[tokio::test]
    async fn https_receivers_get_tls() {
        crate::install_tls_provider();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("accept");
            let mut first = [0u8; 1];
            socket.read_exact(&mut first).await.expect("read");
            first[0]
        });
        let client = reqwest::Client::builder().build().expect("client");
        let err = client.post(format!("https://127.0.0.1:{port}/hook")).send().await.expect_err("no TLS server");
        assert_eq!(server.await.expect("server"), 0x16, "{}", super::error_chain(&err));
    }
}
