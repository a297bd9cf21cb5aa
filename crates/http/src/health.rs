//! Probes for load balancers and orchestrators, outside every face's rate limit and key: `/healthz`
//! answers while the process serves; `/readyz` answers 200 only when the database answers with its
//! schema current (no migration this build carries is missing) and, when configured, Redis answers.
//! Each failing check is named in the body; the answer is 503 then.

use crate::{AppState, json_response};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Map, Value, json};
use std::time::Duration;

/// How long a check may take before it counts as failed: a probe must answer before its own timeout.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

fn uncached(mut resp: Response) -> Response {
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// `GET /healthz`: the process answers.
pub async fn healthz() -> Response {
    uncached(json_response(StatusCode::OK, &json!({ "status": "ok" })))
}

/// `GET /readyz`: the database answers and its schema is current; Redis answers when configured.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let mut checks = Map::new();
    let mut ready = true;
    let mut fail = |checks: &mut Map<String, Value>, name: &str, why: String| {
        ready = false;
        checks.insert(name.into(), Value::String(why));
    };
    match tokio::time::timeout(CHECK_TIMEOUT, state.store.pending_migrations()).await {
        Ok(Ok(pending)) => {
            checks.insert("database".into(), "ok".into());
            if pending.is_empty() {
                checks.insert("migrations".into(), "ok".into());
            } else {
                let list: Vec<String> = pending.iter().map(i64::to_string).collect();
                fail(&mut checks, "migrations", format!("pending: {} (run torg migrate)", list.join(", ")));
            }
        }
        Ok(Err(e)) => fail(&mut checks, "database", format!("error: {e}")),
        Err(_) => fail(&mut checks, "database", "no answer within 3 s".into()),
    }
    match tokio::time::timeout(CHECK_TIMEOUT, state.limiter.ping_redis()).await {
        Ok(None) => {}
        Ok(Some(Ok(()))) => {
            checks.insert("redis".into(), "ok".into());
        }
        Ok(Some(Err(e))) => fail(&mut checks, "redis", format!("error: {e}")),
        Err(_) => fail(&mut checks, "redis", "no answer within 3 s".into()),
    }
    let (status, word) = if ready { (StatusCode::OK, "ready") } else { (StatusCode::SERVICE_UNAVAILABLE, "not ready") };
    uncached(json_response(status, &json!({ "status": word, "checks": checks })))
}
