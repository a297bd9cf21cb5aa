//! Error envelopes: each face answers failures in its own JSON shape, and the shared failures
//! (unknown route, wrong verb, oversize body, rate limit, panic) pick the shape by path.

use crate::json_response;
use axum::http::{Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value, json};

/// The faces, as far as error shapes go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    /// RetailCRM: `{"success": false, "errorMsg": …, "errors": …}`.
    Crm,
    /// Invoicebox (`/v3/`, `/l3/`): `{"error": {"message", "code", "fields"}}`.
    Billing,
    /// The distributor office (`/restapi/`): `{"status": {"code": "error", "messages": […]}}`.
    Office,
    /// Everything else until its face exists: `{"error": …}`.
    Plain,
}

impl Face {
    /// The face a path belongs to.
    pub fn of(path: &str) -> Face {
        if path.starts_with("/api/") || path == "/api" {
            Face::Crm
        } else if path.starts_with("/v3/") || path.starts_with("/l3/") {
            Face::Billing
        } else if path.starts_with("/restapi/") || path == "/restapi" {
            Face::Office
        } else {
            Face::Plain
        }
    }

    /// A failure in this face's shape.
    pub fn error(self, status: StatusCode, message: &str) -> Response {
        let body = match self {
            Face::Crm => json!({ "success": false, "errorMsg": message }),
            Face::Billing => json!({ "error": { "message": message, "code": billing_code(status), "fields": [] } }),
            Face::Office => json!({ "status": { "code": "error", "messages": [message] } }),
            Face::Plain => json!({ "error": message }),
        };
        json_response(status, &body)
    }
}

/// The billing face's error code for a shared failure's status.
fn billing_code(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        413 => "payload_too_large",
        429 => "too_many_requests",
        400..=499 => "bad_request",
        _ => "internal_error",
    }
}

/// 404 for a route nobody serves.
pub async fn not_found(uri: Uri) -> Response {
    let face = Face::of(uri.path());
    let msg = match face {
        Face::Crm => "API method not found",
        Face::Billing => "Not found",
        Face::Office => "Метод не найден.",
        Face::Plain => "Not found.",
    };
    face.error(StatusCode::NOT_FOUND, msg)
}

/// 405 for a known route called with the wrong verb.
pub async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    let _ = method;
    Face::of(uri.path()).error(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
}

/// 500 for a handler that panicked; the panic itself goes to the log.
pub fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = err
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| (*s).to_string()))
        .unwrap_or_default();
    tracing::error!(panic = %detail, "handler panicked");
    json_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        &json!({ "success": false, "errorMsg": "Internal server error", "error": "Internal server error" }),
    )
}

/// A JSON value with `errors` added when there are any.
pub fn with_errors(mut body: Value, errors: Option<Value>) -> Value {
    if let Some(e) = errors {
        body["errors"] = e;
    }
    body
}
