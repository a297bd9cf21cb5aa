//! torg's HTTP layer: the mechanics every API face shares (reading parameters and bodies, API keys,
//! rate limits, error envelopes, the OpenAPI document) and one module per face under [`faces`].
//!
//! Each face is declared once through the [`kit`]. A request goes: rate limiter (per client IP, by the
//! face's prefix) → router → the face's extractor, which reads the parameters once and passes the key
//! through the kit's one gate (key, revocation, IP allow-list, scope, owner, sites) → handler → store
//! → the face's renderer. Every failure on that way, 404/405/413/500 included, leaves as the face's own JSON.

pub mod config;
pub mod envelope;
pub mod faces;
pub mod fields;
pub mod health;
pub mod idempotency;
pub mod input;
pub mod kit;
pub mod observe;
pub mod openapi;
pub mod params;
pub mod ratelimit;
pub mod reshape;
pub mod sms;
pub mod telemetry;
pub mod webhooks;

use axum::Router;
use axum::extract::connect_info::ConnectInfo;
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use torg_store::Store;

pub use config::HttpConfig;

/// Everything a handler can reach: one shared [`Shared`], so that handing it to a handler (every
/// request, often more than once) is one reference count, not one per member (≈ 5 % of a kept list
/// page's time, by profile).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] shares.
pub struct Shared {
    /// The persistent state.
    pub store: Store,
    /// Settings.
    pub config: Arc<HttpConfig>,
    /// Rate limiters.
    pub limiter: Arc<ratelimit::Limiter>,
    /// The server secret that seals parts-face position signatures; made once per database.
    pub secret: Arc<Vec<u8>>,
    /// Where SMS codes go (the log, unless a deployment plugs in a gateway).
    pub sms: Arc<dyn sms::SmsSender>,
    /// Names handlers read that their routes do not declare, when `check_fields` is on.
    pub undeclared: Option<Arc<fields::Undeclared>>,
    /// Orders kept as the CRM face shows them.
    pub shown_orders: Arc<faces::crm::shown_cache::ShownCache>,
}

impl AppState {
    /// Builds the state; connects to Redis when the config names it.
    pub async fn new(store: Store, config: HttpConfig) -> Result<AppState, String> {
        let limiter = ratelimit::Limiter::new(&config).await?;
        let fresh: String = {
            use rand::Rng;
            rand::rng().sample_iter(rand::distr::Alphanumeric).take(48).map(char::from).collect()
        };
        let undeclared = config.check_fields.then(Arc::default);
        let shown_orders = Arc::new(faces::crm::shown_cache::ShownCache::new(config.shown_cache_bytes));
        let secret = store.meta_init("parts_secret", &fresh).await.map_err(|e| e.to_string())?;
        Ok(AppState(Arc::new(Shared {
            store,
            config: Arc::new(config),
            limiter: Arc::new(limiter),
            secret: Arc::new(secret.into_bytes()),
            sms: Arc::new(sms::LogSender),
            undeclared,
            shown_orders,
        })))
    }
}

/// The whole application: every face, the OpenAPI document, and the shared layers.
pub fn router(state: AppState) -> Router {
    let mut routes = kit::router(&state);
    if let Some(log) = &state.undeclared {
        routes = routes.layer(axum::Extension(log.clone()));
    }
    let api = routes
        .route("/openapi.json", axum::routing::get(openapi::serve))
        .route("/docs", axum::routing::get(openapi::docs_page))
        .route("/docs/{file}", axum::routing::get(openapi::docs))
        .route("/healthz", axum::routing::get(health::healthz))
        .route("/readyz", axum::routing::get(health::readyz))
        .fallback(envelope::not_found)
        .method_not_allowed_fallback(envelope::method_not_allowed)
        .with_state(state.clone());
    api.layer(axum::middleware::from_fn_with_state(state, ratelimit::middleware))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(envelope::panic_response))
        .layer(axum::middleware::from_fn(observe::middleware))
}

/// Serves until `shutdown` resolves, with each client's address available to the handlers.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

/// The client address of a request (loopback when the server runs without connect info, as in
/// in-process tests).
pub fn client_ip<B>(req: &Request<B>) -> std::net::IpAddr {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_canonical())
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
}

/// Makes ring the process's TLS crypto provider. reqwest is built with rustls but without a provider
/// of its own (aws-lc-rs, its default, is a slow C build), so every process that builds a reqwest
/// client (the webhook worker, the tests) calls this first; later calls do nothing.
pub fn install_tls_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // An error means something else installed a provider first, which serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

thread_local! {
    /// The buffer each thread writes JSON answers into, kept at the largest size it needed. A page
    /// of orders is ≈ 50 kB: grown from a small buffer it was reallocated six times, each time onto
    /// fresh pages (≈ 4 % of a list page's time); copying the finished answer out once is cheaper.
    static ANSWER: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(Vec::with_capacity(ANSWER_START));
}

/// What a thread's answer buffer starts at.
const ANSWER_START: usize = 64 * 1024;
/// A thread's answer buffer grown past this (an export, say) is not kept.
const ANSWER_KEEP: usize = 1024 * 1024;
/// Answers of this size or more leave in the buffer they were written into.
const ANSWER_HANDED: usize = 16 * 1024;

/// `body` written as JSON into a buffer of its exact size.
fn answer_bytes(body: &(impl reshape::Json + ?Sized)) -> serde_json::Result<bytes::Bytes> {
    ANSWER.with(|cell| {
        // Taken already only if a `Serialize` writes an answer of its own; it gets a buffer of its own.
        let Ok(mut buf) = cell.try_borrow_mut() else {
            let mut own = Vec::new();
            body.write_json(&mut own)?;
            return Ok(bytes::Bytes::from(own));
        };
        buf.clear();
        body.write_json(&mut buf)?;
        if buf.len() >= ANSWER_HANDED {
            // A large answer (a page of orders) leaves in the buffer it was written into, and the
            // thread takes a fresh one: one copy of it less, where a new block costs no more.
            let fresh = Vec::with_capacity(ANSWER_START.max(buf.len()).min(ANSWER_KEEP));
            return Ok(bytes::Bytes::from(std::mem::replace(&mut *buf, fresh)));
        }
        let written = bytes::Bytes::copy_from_slice(&buf);
        if buf.capacity() > ANSWER_KEEP {
            *buf = Vec::with_capacity(ANSWER_START);
        }
        Ok(written)
    })
}

/// A response with a JSON body and status.
pub fn json_response(status: StatusCode, body: &(impl reshape::Json + ?Sized)) -> Response {
    match answer_bytes(body) {
        Ok(bytes) => {
            (status, [(axum::http::header::CONTENT_TYPE, "application/json; charset=utf-8")], bytes).into_response()
        }
        // Only a reshaped answer can fail (a member that is not an object): a bug, answered as one.
        Err(e) => {
            tracing::error!("an answer could not be written: {e}");
            let text = r#"{"error":"The answer could not be written"}"#;
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(axum::http::header::CONTENT_TYPE, "application/json; charset=utf-8")],
                text,
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes an answer of its own while it is itself being written.
    struct Nested;

    impl serde::Serialize for Nested {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let inner = answer_bytes(&serde_json::json!({"inner": [1, 2, 3]})).map_err(serde::ser::Error::custom)?;
            s.serialize_str(std::str::from_utf8(&inner).map_err(serde::ser::Error::custom)?)
        }
    }

    #[test]
    fn answers_written_one_after_another_are_each_whole() {
        let big = serde_json::json!({"rows": vec!["строка"; 200_000]});
        let small = serde_json::json!({"success": true});
        for body in [&big, &small, &big, &small] {
            assert_eq!(answer_bytes(body).unwrap(), serde_json::to_vec(body).unwrap());
        }
        // The 2.6 MB answer's buffer was not kept.
        ANSWER.with(|b| assert!(b.borrow().capacity() <= ANSWER_KEEP));
        assert_eq!(&answer_bytes(&Nested).unwrap()[..], br#""{\"inner\":[1,2,3]}""#);
    }
}
