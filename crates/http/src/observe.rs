//! What each request leaves for the operator: a request id, one log line at its end, and its count and
//! latency in the metrics.
//!
//! The id is the client's `X-Request-Id` when it sends a usable one (so a proxy's or a caller's id can be
//! followed into torg's log), a new UUID otherwise, and is returned in `X-Request-Id` either way. The
//! log line names the face, the route *template* (never the path or query itself: they carry customer
//! names, e-mail addresses, phone numbers and, on some faces, the key), the status, the latency and
//! the name of the key the request was admitted with (never the key). Probes (`/healthz`, `/readyz`)
//! are logged at debug level only, so a load balancer's polling does not drown the log.

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

/// The request id header.
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest client-sent request id kept; a longer one is replaced.
const MAX_ID_LEN: usize = 128;

tokio::task_local! {
    /// The name of the key the request being served was admitted with, filled in by the kit's gate.
    static CALLER: Arc<Mutex<Option<String>>>;
}

/// The id of the request being served, in the request's extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Notes the name of the key the current request was admitted with, for its log line.
pub fn note_caller(name: &str) {
    let _ = CALLER.try_with(|c| *c.lock().unwrap_or_else(PoisonError::into_inner) = Some(name.to_owned()));
}

/// The client's request id when it is usable: 1 to 128 characters from letters, digits and `-_.:/+=@`.
/// Anything else (spaces, quotes, control characters) is replaced, so an id can neither break a log
/// line nor forge one.
fn client_id(req: &Request) -> Option<String> {
    let id = req.headers().get(&REQUEST_ID)?.to_str().ok()?;
    let usable = !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:/+=@".contains(&b));
    usable.then(|| id.to_owned())
}

/// The route label of a request: its matched template, or `unmatched` (a path nobody serves must not
/// become a label of its own, or a scanner would fill the metrics with every path it tries).
fn route_of(req: &Request) -> String {
    req.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned())
}

/// Gives the request its id, and logs and counts it when its answer is ready.
pub async fn middleware(mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = client_id(&req).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().as_str().to_owned();
    let route = route_of(&req);
    let face = crate::kit::face_of(req.uri().path()).map_or("torg", |f| f.name);
    let caller = Arc::new(Mutex::new(None));
    let mut resp = CALLER.scope(caller.clone(), next.run(req)).await;
    let elapsed = started.elapsed();
    if let Ok(value) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(REQUEST_ID.clone(), value);
    }
    let status = resp.status().as_u16();
    let key = caller.lock().unwrap_or_else(PoisonError::into_inner).take().unwrap_or_else(|| "-".to_owned());
    let latency_ms = (elapsed.as_secs_f64() * 1_000_000.0).round() / 1_000.0;
    if matches!(route.as_str(), "/healthz" | "/readyz") {
        tracing::debug!(target: "torg::request", request_id = %id, method = %method, face, route = %route, status, latency_ms, key = %key, "request");
    } else {
        tracing::info!(target: "torg::request", request_id = %id, method = %method, face, route = %route, status, latency_ms, key = %key, "request");
    }
    let labels = [("face", face.to_owned()), ("route", route), ("method", method)];
    metrics::histogram!("torg_http_request_duration_seconds", &labels[..]).record(elapsed.as_secs_f64());
    let mut labels = labels.to_vec();
    labels.push(("status", status.to_string()));
    metrics::counter!("torg_http_requests_total", &labels[..]).increment(1);
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    #[test]
    fn only_plain_request_ids_are_kept() {
        let with = |id: &str| Request::get("/").header("x-request-id", id).body(Body::empty()).unwrap();
        assert_eq!(client_id(&with("abc-123_X.y:z/+=@")).as_deref(), Some("abc-123_X.y:z/+=@"));
        assert_eq!(client_id(&with("two words")), None);
        assert_eq!(client_id(&with("a\"b")), None);
        assert_eq!(client_id(&with(&"x".repeat(MAX_ID_LEN + 1))), None);
        assert_eq!(client_id(&with("")), None);
    }
}
