//! Rate limits per client IP: 10 requests/s on the API, 40/s under telephony, 503 in the CRM envelope
//! with `Retry-After`; another IP is not affected; with Redis the limit holds across instances.

use crate::common::{Backend, TestApp, spawn_with};
use futures::future::join_all;
use std::net::IpAddr;
use std::time::Instant;

fn client_from(ip: &str) -> reqwest::Client {
    crate::common::http().local_address(ip.parse::<IpAddr>().unwrap()).build().unwrap()
}

/// Fires `n` requests at once from `client`; returns (successes, refusals, seconds taken).
async fn burst(app: &TestApp, client: &reqwest::Client, path: &str, n: usize) -> (usize, usize, f64) {
    let started = Instant::now();
    let replies = join_all((0..n).map(|_| async {
        let r = client.get(format!("{}{path}", app.base)).header("X-API-KEY", &app.key).send().await.unwrap();
        let status = r.status().as_u16();
        let retry = r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
        let body: serde_json::Value = r.json().await.expect("every answer is JSON");
        if status == 503 {
            assert_eq!(body, serde_json::json!({"success": false, "errorMsg": "Service Unavailable"}));
            assert_eq!(retry.as_deref(), Some("1"));
        } else {
            assert_eq!(status, 200, "{body}");
        }
        status
    }))
    .await;
    let secs = started.elapsed().as_secs_f64();
    let ok = replies.iter().filter(|s| **s == 200).count();
    (ok, replies.len() - ok, secs)
}

/// How many requests a limit of `rate`/s with a burst of `rate` may let through in `secs`.
fn allowed(rate: usize, secs: f64) -> usize {
    rate + (secs * rate as f64).ceil() as usize
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eleventh_request_in_a_second_is_refused_per_ip() {
    let app = spawn_with(Backend::Sqlite, |_| {}).await;
    let a = client_from("127.0.0.1");
    let (ok, refused, secs) = burst(&app, &a, "/api/v5/orders", 11).await;
    assert!(ok >= 10 && ok <= allowed(10, secs), "{ok} passed in {secs}s");
    if secs < 0.1 {
        assert_eq!((ok, refused), (10, 1), "the 11th request within a second gets 503");
    }
    // Another address has its own allowance.
    let b = client_from("127.0.0.2");
    let (ok, _, _) = burst(&app, &b, "/api/v5/orders", 5).await;
    assert_eq!(ok, 5);
    // The limit refuses for as long as requests keep coming too fast.
    let (ok, refused, secs) = burst(&app, &a, "/api/v5/orders", 20).await;
    assert!(ok <= allowed(0, secs) + 1 && refused >= 19 - allowed(0, secs), "{ok} passed in {secs}s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telephony_allows_forty() {
    let app = spawn_with(Backend::Sqlite, |_| {}).await;
    let a = client_from("127.0.0.4");
    let (ok, refused, secs) = burst(&app, &a, "/api/v5/telephony/manager?phone=123456", 45).await;
    assert!(ok >= 40 && ok <= allowed(40, secs), "{ok} passed in {secs}s");
    assert!(refused >= 45 - allowed(40, secs));
    // Telephony has its own allowance: the general one is untouched.
    let (ok, _, _) = burst(&app, &a, "/api/v5/orders", 5).await;
    assert_eq!(ok, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_holds_the_limit_across_instances() {
    let redis =
        std::env::var("TORG_TEST_REDIS_URL").expect("TORG_TEST_REDIS_URL must point at Redis (scripts/test sets it)");
    let one = spawn_with(Backend::Sqlite, |c| c.redis_url = Some(redis.clone())).await;
    let two = spawn_with(Backend::Sqlite, |c| c.redis_url = Some(redis.clone())).await;
    // A fresh address so earlier runs' counters do not matter.
    let ip = format!("127.0.{}.{}", 10 + std::process::id() % 200, 1 + std::process::id() % 250);
    let client = client_from(&ip);
    let started = Instant::now();
    let (ok1, _, _) = burst(&one, &client, "/api/v5/orders", 6).await;
    let (ok2, _, _) = burst(&two, &client, "/api/v5/orders", 6).await;
    let secs = started.elapsed().as_secs_f64();
    assert!(ok1 + ok2 >= 10 && ok1 + ok2 <= allowed(10, secs), "{ok1} + {ok2} passed in {secs}s");
    if secs < 0.1 {
        assert_eq!(ok1 + ok2, 10, "two instances share one allowance");
    }
}
