//! Error envelopes: each face answers failures in its own JSON shape, and the shared failures
//! (unknown route, wrong verb, oversize body, rate limit, panic) pick the shape by path.

use crate::json_response;
use axum::http::{Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value, json};

/// The error shapes of the faces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Envelope {
    /// RetailCRM: `{"success": false, "errorMsg": …, "errors": …}`.
    Crm,
    /// Invoicebox (`/v3/`, `/l3/`): `{"error": {"message", "code", "fields"}}`.
    Billing,
    /// The distributor office (`/restapi/`): `{"status": {"code": "error", "messages": […]}}`.
    Office,
    /// The parts face, the order page, and paths no face owns: `{"error": …}`.
    Plain,
}

impl Envelope {
    /// The envelope of the face a path belongs to (see [`crate::kit::face_of`]).
    pub fn of(path: &str) -> Envelope {
        crate::kit::envelope_of(path)
    }

    /// A failure in this face's shape.
    pub fn error(self, status: StatusCode, message: &str) -> Response {
        let body = match self {
            Envelope::Crm => json!({ "success": false, "errorMsg": message }),
            Envelope::Billing => json!({ "error": { "message": message, "code": billing_code(status), "fields": [] } }),
            Envelope::Office => json!({ "status": { "code": "error", "messages": [message] } }),
            Envelope::Plain => json!({ "error": message }),
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
    let face = Envelope::of(uri.path());
    let msg = match face {
        Envelope::Crm => "API method not found",
        Envelope::Billing => "Not found",
        Envelope::Office => "Метод не найден.",
        Envelope::Plain => "Not found.",
    };
    face.error(StatusCode::NOT_FOUND, msg)
}

/// 405 for a known route called with the wrong verb.
pub async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    let _ = method;
    Envelope::of(uri.path()).error(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
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
