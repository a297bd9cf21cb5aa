//! `Idempotency-Key` on the creates of every face (routes declared `.idempotent()` in the kit): a
//! retry with the same key and request gets the first answer back (`Idempotent-Replayed: true`) and
//! creates nothing; the same key with another request is refused; a retry while the first is still
//! running waits for its answer. Keys belong to the caller (the face and the API key the request
//! carries) and are kept 24 hours, in the database, so they hold across instances.

use crate::AppState;
use crate::envelope::Envelope;
use crate::kit::{Gate, key_from};
use crate::params::parse_urlencoded;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, Limited};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::time::Duration;
use torg_store::{Claim, StoredAnswer};

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// Marks an answer given again.
pub const REPLAYED: &str = "idempotent-replayed";

/// How long a retry waits for the first request's answer before it is told to come back.
const WAIT: Duration = Duration::from_secs(15);
const POLL: Duration = Duration::from_millis(50);

fn valid(key: &str) -> bool {
    (1..=255).contains(&key.len()) && key.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

/// The body's fields where the face may carry its key (a form or a JSON object).
fn body_fields(content_type: &str, body: &[u8]) -> Map<String, Value> {
    if content_type.starts_with("application/x-www-form-urlencoded") {
        parse_urlencoded(body)
    } else if content_type.starts_with("application/json") {
        serde_json::from_slice::<Value>(body).ok().and_then(|v| v.as_object().cloned()).unwrap_or_default()
    } else {
        Map::new()
    }
}

/// Whether an answer is kept for replay: not a failure of torg's own, nor a refusal that a retry may
/// overcome (a conflict in flight, a rate limit).
fn keep(status: StatusCode) -> bool {
    !(status.is_server_error() || status == StatusCode::CONFLICT || status == StatusCode::TOO_MANY_REQUESTS)
}

/// The layer the kit puts on idempotent routes.
pub async fn middleware(State(state): State<AppState>, req: Request<Body>, next: Next) -> Response {
    let Some(raw) = req.headers().get(HEADER).cloned() else { return next.run(req).await };
    let gate = Gate::of(req.extensions()).ok();
    let envelope = gate.map_or(Envelope::of(req.uri().path()), |g| g.face.envelope);
    let key = match raw.to_str() {
        Ok(k) if valid(k.trim()) => k.trim().to_string(),
        _ => {
            return envelope.error(
                StatusCode::BAD_REQUEST,
                "The Idempotency-Key header must be 1 to 255 visible ASCII characters.",
            );
        }
    };
    let (parts, body) = req.into_parts();
    let bytes = match Limited::new(body, state.config.body_limit).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => {
            return envelope.error(StatusCode::PAYLOAD_TOO_LARGE, "Request entity too large");
        }
        Err(_) => return envelope.error(StatusCode::BAD_REQUEST, "Could not read the request body"),
    };
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let query = parts.uri.query().unwrap_or("");
    // The caller: the face and whatever key the request carries where that face takes it. A face whose
    // key is inside a body torg cannot read here (office XML) falls back to the face alone; the body,
    // key included, is in the fingerprint, so another caller's request is refused, never answered.
    let caller = gate
        .and_then(|g| {
            key_from(
                g.face.keys,
                &parts.headers,
                &parse_urlencoded(query.as_bytes()),
                &body_fields(&content_type, &bytes),
            )
        })
        .unwrap_or_default();
    let face = gate.map_or("-", |g| g.face.name);
    let scope = hex::encode(Sha256::digest(format!("{face}\n{caller}").as_bytes()));
    let mut print = Sha256::new();
    print.update(format!("{} {}?{query}\n{content_type}\n", parts.method, parts.uri.path()).as_bytes());
    print.update(&bytes);
    let fingerprint = hex::encode(print.finalize());

    let started = std::time::Instant::now();
    loop {
        let claim = state.store.idempotency_claim(&scope, &key, &fingerprint, torg_domain::time::now()).await;
        match claim {
            Err(e) => {
                tracing::error!(error = %e, "idempotency claim failed");
                return envelope.error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error");
            }
            Ok(Claim::Replay(answer)) => return replay(answer),
            Ok(Claim::Conflict) => {
                return envelope.error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "This Idempotency-Key was used with a different request.",
                );
            }
            Ok(Claim::InFlight) if started.elapsed() < WAIT => tokio::time::sleep(POLL).await,
            Ok(Claim::InFlight) => {
                return envelope.error(
                    StatusCode::CONFLICT,
                    "A request with this Idempotency-Key is still being processed; retry later.",
                );
            }
            Ok(Claim::Fresh) => {
                let resp = next.run(Request::from_parts(parts, Body::from(bytes))).await;
                return settle(&state, &scope, &key, resp).await;
            }
        }
    }
}

/// Keeps the first answer (or gives the key up), and sends it.
async fn settle(state: &AppState, scope: &str, key: &str, resp: Response) -> Response {
    let status = resp.status();
    if !keep(status) {
        if let Err(e) = state.store.idempotency_release(scope, key).await {
            tracing::error!(error = %e, "idempotency release failed");
        }
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let bytes = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            tracing::error!(error = %e, "reading an answer to keep failed");
            let _ = state.store.idempotency_release(scope, key).await;
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    match String::from_utf8(bytes.to_vec()) {
        Ok(text) => {
            let answer = StoredAnswer { status: status.as_u16(), content_type, body: text };
            if let Err(e) = state.store.idempotency_finish(scope, key, &answer, torg_domain::time::now()).await {
                tracing::error!(error = %e, "keeping an idempotent answer failed");
            }
        }
        // Every face answers text; a binary answer is not kept, and a retry runs again.
        Err(_) => {
            let _ = state.store.idempotency_release(scope, key).await;
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn replay(answer: StoredAnswer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut resp = (status, answer.body).into_response();
    if let Some(ct) = answer.content_type.and_then(|c| HeaderValue::from_str(&c).ok()) {
        resp.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    resp.headers_mut().insert(REPLAYED, HeaderValue::from_static("true"));
    resp
}
