//! Property-based fuzzing of every parser that takes hostile input, bounded for CI (`TORG_FUZZ_CASES`
//! raises the case count for a long local run):
//! - the PHP-bracket query and form parser, multipart, and the office face's XML: never a panic, the
//!   XML guards hold;
//! - the parts face's `_` token: any text is refused or opened, never a panic;
//! - whole requests to every face (random paths, query strings, form, JSON, multipart and XML bodies,
//!   JSON-in-form fields, billing list filters) through the real router: never a 500 and never an
//!   answer outside the face's envelope.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use proptest::prelude::*;
use serde_json::Value;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use torg_http::faces::office::xml::{self, Limits};
use torg_http::params::{parse_multipart, parse_urlencoded};
use tower::ServiceExt;

fn cases() -> u32 {
    std::env::var("TORG_FUZZ_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(64)
}

/// Query and form text built from the characters that matter to the bracket parser.
fn bracketed() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9\\[\\]=&%+._;{}\":, -]{0,300}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn brackets_never_panic(text in bracketed(), raw in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = parse_urlencoded(text.as_bytes());
        let _ = parse_urlencoded(&raw);
    }

    #[test]
    fn xml_never_panics_and_keeps_its_guards(text in "[<>/a-z =\"'!\\[\\]&;#0-9A-Zа-я?-]{0,600}",
                                             raw in prop::collection::vec(any::<u8>(), 0..600)) {
        let limits = Limits::default();
        for input in [text.as_bytes(), &raw[..]] {
            let started = Instant::now();
            let _ = xml::parse(input, limits);
            prop_assert!(started.elapsed() < Duration::from_secs(2), "parsing took {:?}", started.elapsed());
        }
        // Nesting past the guard is refused, not followed.
        let deep = format!("<request>{}{}</request>", "<a>".repeat(limits.max_depth + 5), "</a>".repeat(limits.max_depth + 5));
        prop_assert!(xml::parse(deep.as_bytes(), limits).is_err());
    }

    #[test]
    fn parts_tokens_never_panic(token in "[A-Za-z0-9_.-]{0,200}") {
        let _ = torg_domain::signature::Offered::open(&token, b"secret", 1, 1_800_000_000, 3600);
    }
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]
    #[test]
    fn multipart_never_panics(body in prop::collection::vec(any::<u8>(), 0..800), boundary in "[a-zA-Z0-9-]{1,20}",
                              field in "[a-z\\[\\]]{0,10}", value in ".{0,40}") {
        let framed = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"\r\n\r\n{value}\r\n--{boundary}--\r\n");
        runtime().block_on(async {
            let _ = parse_multipart(bytes::Bytes::from(body.clone()), &boundary).await;
            let _ = parse_multipart(bytes::Bytes::from(framed.into_bytes()), &boundary).await;
        });
    }
}

/// The app, once per test binary: SQLite in memory, the demo's books, a key with every scope.
struct App {
    router: axum::Router,
    key: String,
}

fn app() -> &'static App {
    static APP: OnceLock<App> = OnceLock::new();
    APP.get_or_init(|| {
        runtime().block_on(async {
            let store = torg_store::Store::open("sqlite::memory:").await.expect("store");
            let key = "fuzz-key-0123456789abcdefghijklmnop".to_string();
            store
                .create_key(torg_store::NewKey {
                    plain: key.clone(),
                    name: "fuzz".into(),
                    scopes: torg_domain::key::ALL_SCOPES.iter().map(|s| s.to_string()).collect(),
                    sites: torg_domain::key::SiteAccess::Full,
                    allowed_ips: Vec::new(),
                    customer_external_id: None,
                    distributor: Some("fuzz-dist".into()),
                })
                .await
                .expect("key");
            let config = torg_http::HttpConfig {
                rate_per_second: 0,
                telephony_rate_per_second: 0,
                billing_per_key: 0,
                billing_per_ip: 0,
                ..Default::default()
            };
            let state = torg_http::AppState::new(store, config).await.expect("state");
            App { router: torg_http::router(state), key }
        })
    })
}

/// A request to a face: (verb, path and query, content type, body).
fn requests() -> impl Strategy<Value = (String, String, String, Vec<u8>)> {
    let crm = prop::sample::select(vec![
        "/api/v5/orders",
        "/api/v5/orders/create",
        "/api/v5/orders/upload",
        "/api/v5/customers",
        "/api/v5/customers/create",
        "/api/v5/orders/history",
        "/api/v5/store/inventories/upload",
        "/api/v5/custom-fields/order/create",
        "/api/v5/orders/packs/create",
        "/api/v5/orders/combine",
        "/api/v5/users",
        "/api/v5/reference/statuses/x/edit",
        "/api/v5/customers/notes",
        "/api/v5/integration-modules/m/edit",
        "/api/v5/orders/x1",
        "/api/v5/nowhere",
    ]);
    let other = prop::sample::select(vec![
        "/v1/search/",
        "/v1/order/",
        "/v3/filter/api/order/order",
        "/v3/billing/api/order/order",
        "/v3/billing/api/order/refund-order",
        "/restapi/office/remains.add.xml",
        "/restapi/office/orders.list.json",
        "/restapi/office/nothing.here",
        "/track/abc",
    ]);
    let path = prop_oneof![crm, other];
    let verb = prop::sample::select(vec!["GET", "POST", "PUT", "DELETE"]);
    let ct = prop::sample::select(vec![
        "application/x-www-form-urlencoded",
        "application/json",
        "application/xml",
        "multipart/form-data; boundary=zz",
        "text/plain",
    ]);
    let field = prop::sample::select(vec![
        "order",
        "customer",
        "orders",
        "filter",
        "customField",
        "pack",
        "offers",
        "hash",
        "link",
    ]);
    let json_text = "[\\[\\]{}\":,a-z0-9.-]{0,120}";
    let body = prop_oneof![
        (field.clone(), json_text).prop_map(|(f, j)| format!("{f}={}", j.replace('&', "%26")).into_bytes()),
        bracketed().prop_map(String::into_bytes),
        "[<>/a-z =\"]{0,200}".prop_map(|x| format!("<request>{x}</request>").into_bytes()),
        prop::collection::vec(any::<u8>(), 0..300),
    ];
    (verb, path, bracketed(), ct, body)
        .prop_map(|(v, p, q, c, b)| (v.to_string(), format!("{p}?{q}"), c.to_string(), b))
}

/// Percent-encodes what a URI may not carry raw (the bracket parser decodes it again).
fn encode_query(uri: &str) -> String {
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
    let mut out = format!("{path}?");
    for b in query.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~=&%+".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The shape an answer of this path must have.
fn in_envelope(path: &str, status: StatusCode, content_type: &str, body: &[u8]) -> bool {
    if path.starts_with("/restapi/") && content_type.contains("xml") {
        let text = String::from_utf8_lossy(body);
        return text.contains("<response") || text.contains("<status");
    }
    if path.starts_with("/track") && content_type.contains("html") {
        return true;
    }
    let Ok(v) = serde_json::from_slice::<Value>(body) else { return false };
    if status.is_success() {
        return true;
    }
    if path.starts_with("/api/") {
        v["success"] == false && v["errorMsg"].is_string()
    } else if path.starts_with("/v3/") {
        v["error"]["message"].is_string() && v["error"]["code"].is_string()
    } else if path.starts_with("/restapi/") {
        v["status"]["code"] == "error"
    } else {
        v["error"].is_string() || v["error"].is_object()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases() * 4))]
    #[test]
    fn every_face_answers_in_its_envelope((verb, path, content_type, body) in requests(), keyed in any::<bool>()) {
        let app = app();
        let key = if keyed { app.key.as_str() } else { "wrong" };
        let mut uri = path.clone();
        if path.starts_with("/v1/") {
            uri.push_str(&format!("&api_key={key}"));
        }
        let req = Request::builder()
            .method(verb.as_str())
            .uri(encode_query(&uri))
            .header("content-type", &content_type)
            .header("accept", "application/json")
            .header("x-api-key", key)
            .header("authorization", format!("Bearer {key}"))
            .body(Body::from(body.clone()))
            .expect("every generated request is a valid HTTP request");
        let (status, ct, bytes) = runtime().block_on(async {
            let resp = app.router.clone().oneshot(req).await.expect("infallible");
            let status = resp.status();
            let ct = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
            let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.expect("body");
            (status, ct, bytes)
        });
        prop_assert!(status != StatusCode::INTERNAL_SERVER_ERROR, "{verb} {path}: 500 {}", String::from_utf8_lossy(&bytes));
        prop_assert!(in_envelope(&path, status, &ct, &bytes), "{verb} {path} ({content_type}): {status} {ct} {}",
                     String::from_utf8_lossy(&bytes));
    }
}
