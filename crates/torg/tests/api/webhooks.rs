//! Webhooks from the outbox: retries until the receiver accepts, exactly one more delivery after
//! failures, no event lost across a restart, and one delivery per event with two workers on one
//! database.

use crate::billing_support::{
    Instance, NOTIFY_KEY, Receiver, call, create, fast_webhooks, invoice_body, line, merchant, worker,
};
use crate::common::{TestApp, both};
use serde_json::Value;
use std::time::Duration;
use torg_domain::history::Actor;
use torg_domain::invoice::InvoiceStatus;

fn zone() -> torg_domain::time::Zone {
    torg_domain::time::Zone::named("Europe/Moscow").unwrap()
}

both!(failing_receiver_gets_the_event_exactly_once_more, |app: TestApp| async move {
    let receiver = Receiver::start(3).await;
    merchant(&app, Some(&receiver.url)).await;
    let hooks = worker(&app, fast_webhooks(10)).await;
    let inv = create(&app, &invoice_body("w-1", &[line("A", "10", 1)])).await;
    let (s, _) =
        call(&app, "DELETE", &format!("/v3/billing/api/order/order/{}", inv["id"].as_str().unwrap()), None).await;
    assert_eq!(s, 200);
    let seen = receiver.wait_for(|s| s.iter().any(|r| r.accepted)).await;
    // Give a wrong worker every chance to send it again.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let seen_after = receiver.seen();
    assert_eq!(seen_after.len(), 4, "three failures and one success: {seen_after:?}");
    assert_eq!(seen_after.iter().filter(|r| r.accepted).count(), 1);
    assert_eq!(seen.len(), 4);
    for r in &seen_after {
        assert_eq!(
            r.signature.as_deref(),
            Some(torg_domain::invoice::sign(NOTIFY_KEY.as_bytes(), r.body.as_bytes()).as_str())
        );
        let body: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["status"], "canceled");
    }
    let counts = app.store.outbox_counts().await.unwrap();
    assert_eq!((counts.pending, counts.delivered, counts.given_up), (0, 1, 0));
    hooks.stop().await;
});

both!(receiver_that_never_accepts_is_given_up_after_the_schedule, |app: TestApp| async move {
    let receiver = Receiver::start(usize::MAX).await;
    merchant(&app, Some(&receiver.url)).await;
    let hooks = worker(&app, fast_webhooks(3)).await;
    let inv = create(&app, &invoice_body("w-2", &[line("A", "10", 1)])).await;
    app.store
        .set_invoice_status(inv["id"].as_str().unwrap(), InvoiceStatus::Completed, false, Actor::Code, &zone())
        .await
        .unwrap();
    receiver.wait_for(|s| s.len() >= 4).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(receiver.seen().len(), 4, "the first try and three retries");
    let counts = app.store.outbox_counts().await.unwrap();
    assert_eq!((counts.pending, counts.given_up), (0, 1));
    hooks.stop().await;
});

both!(pending_events_survive_a_restart, |app: TestApp| async move {
    let receiver = Receiver::start(usize::MAX).await;
    merchant(&app, Some(&receiver.url)).await;
    // The first instance serves the payment, but the receiver is down while it runs.
    let first = Instance::start(&app.database_url, fast_webhooks(100)).await;
    let body = invoice_body("w-3", &[line("A", "10", 1)]);
    let r = app
        .client
        .post(format!("{}/v3/billing/api/order/order", first.base))
        .header("Authorization", format!("Bearer {}", app.key))
        .header("Accept", "application/json")
        .header("User-Agent", "t/1")
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let inv: Value = r.json().await.unwrap();
    let url = inv["data"]["paymentUrl"].as_str().unwrap().to_string();
    assert!(url.starts_with(&first.base));
    let no_redirect = crate::common::http().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let paid = no_redirect.post(&url).send().await.unwrap();
    assert_eq!(paid.status(), 303);
    receiver.wait_for(|s| !s.is_empty()).await;
    first.stop().await;
    assert_eq!(app.store.outbox_counts().await.unwrap().pending, 1, "stopped with the event pending");
    // The receiver is back; a new instance on the same database delivers the event.
    receiver.set_failing(false);
    let second = Instance::start(&app.database_url, fast_webhooks(100)).await;
    let seen = receiver.wait_for(|s| s.iter().any(|r| r.accepted)).await;
    let accepted: Vec<_> = seen.iter().filter(|r| r.accepted).collect();
    assert_eq!(accepted.len(), 1);
    let body: Value = serde_json::from_str(&accepted[0].body).unwrap();
    assert_eq!(body["id"], inv["data"]["id"]);
    assert_eq!(body["status"], "completed");
    second.stop().await;
    let counts = app.store.outbox_counts().await.unwrap();
    assert_eq!((counts.pending, counts.delivered), (0, 1));
});

both!(two_workers_deliver_each_event_once, |app: TestApp| async move {
    let receiver = Receiver::start(0).await;
    merchant(&app, Some(&receiver.url)).await;
    let a = worker(&app, fast_webhooks(10)).await;
    let b = worker(&app, fast_webhooks(10)).await;
    let mut ids = Vec::new();
    for i in 0..12 {
        let inv = create(&app, &invoice_body(&format!("w-4-{i}"), &[line("A", "10", 1)])).await;
        let id = inv["id"].as_str().unwrap().to_string();
        app.store.set_invoice_status(&id, InvoiceStatus::Completed, false, Actor::Code, &zone()).await.unwrap();
        ids.push(id);
    }
    receiver.wait_for(|s| s.len() >= 12).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let seen = receiver.seen();
    assert_eq!(seen.len(), 12, "{seen:?}");
    for id in &ids {
        let n = seen.iter().filter(|r| r.body.contains(id.as_str())).count();
        assert_eq!(n, 1, "{id}");
    }
    a.stop().await;
    b.stop().await;
});

both!(worker_expires_unpaid_invoices_and_notifies, |app: TestApp| async move {
    let receiver = Receiver::start(0).await;
    merchant(&app, Some(&receiver.url)).await;
    let hooks = worker(&app, fast_webhooks(10)).await;
    let mut body = invoice_body("w-5", &[line("A", "10", 1)]);
    body["expirationDate"] =
        serde_json::json!(torg_http::faces::billing::render::datetime(torg_domain::time::now() + 2));
    let inv = create(&app, &body).await;
    // Nobody reads the invoice: the worker's sweep expires it and the receiver hears of it.
    let seen = receiver.wait_for(|s| !s.is_empty()).await;
    let note: Value = serde_json::from_str(&seen[0].body).unwrap();
    assert_eq!(note["id"], inv["id"]);
    assert_eq!(note["status"], "expired");
    hooks.stop().await;
});

both!(delivered_events_are_pruned_after_the_keep_time, |app: TestApp| async move {
    let receiver = Receiver::start(0).await;
    merchant(&app, Some(&receiver.url)).await;
    let hooks = worker(&app, torg_http::webhooks::WebhookConfig { keep: Duration::ZERO, ..fast_webhooks(10) }).await;
    let inv = create(&app, &invoice_body("w-prune", &[line("A", "10", 1)])).await;
    let (s, _) =
        call(&app, "DELETE", &format!("/v3/billing/api/order/order/{}", inv["id"].as_str().unwrap()), None).await;
    assert_eq!(s, 200);
    receiver.wait_for(|s| s.iter().any(|r| r.accepted)).await;
    // A sweep (every 200 ms here) deletes the delivered event.
    let mut counts = app.store.outbox_counts().await.unwrap();
    for _ in 0..50 {
        if counts.delivered == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        counts = app.store.outbox_counts().await.unwrap();
    }
    assert_eq!((counts.pending, counts.delivered, counts.given_up), (0, 0, 0));
    hooks.stop().await;
});

both!(pending_events_are_never_pruned, |app: TestApp| async move {
    let receiver = Receiver::start(usize::MAX).await;
    merchant(&app, Some(&receiver.url)).await;
    let config = torg_http::webhooks::WebhookConfig {
        keep: Duration::ZERO,
        retry_schedule: vec![Duration::from_secs(600)],
        ..fast_webhooks(1)
    };
    let hooks = worker(&app, config).await;
    let inv = create(&app, &invoice_body("w-keep", &[line("A", "10", 1)])).await;
    let (s, _) =
        call(&app, "DELETE", &format!("/v3/billing/api/order/order/{}", inv["id"].as_str().unwrap()), None).await;
    assert_eq!(s, 200);
    receiver.wait_for(|s| !s.is_empty()).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(app.store.prune_events(i64::MAX).await.unwrap(), 0);
    let counts = app.store.outbox_counts().await.unwrap();
    assert_eq!((counts.pending, counts.delivered, counts.given_up), (1, 0, 0));
    hooks.stop().await;
});
