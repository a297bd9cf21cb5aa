//! The public order-status page (the manufacturer's «Узнать статус заказа» widget, docs/office.md): `GET /track` renders a
//! form and, for `?number=`, the order's id, invoice number, status, warehouse and tracking numbers;
//! `GET /track/{number}` answers the same as JSON. No key, no personal data, rate-limited per IP like
//! the APIs (see `ratelimit.rs`). Server-rendered with askama: works without JavaScript.

use crate::AppState;
use crate::envelope::Envelope;
use crate::kit::{Access, Face, Field, OwnerRule, Prefix, Route, Security};
use crate::ratelimit::Class;
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use torg_store::TrackView;

/// The face: a public page and its JSON twin, rate-limited per IP like the APIs.
pub static FACE: Face = Face {
    name: "track",
    title: "Order-status page",
    prefixes: &[Prefix { path: "/track/", rate: Class::Api }],
    envelope: Envelope::Plain,
    keys: &[],
    owner: OwnerRule::Any,
    security: Security::None,
    routes,
    aliases: with_slash,
};

/// The page also answers at `/track/`.
fn with_slash(path: &str) -> Vec<String> {
    if path == "/track" { vec!["/track/".to_string()] } else { Vec::new() }
}

fn routes() -> Vec<Route> {
    vec![
        Route::get("/track", Access::Public, page)
            .doc("track", "show_track_page", "Order-status page (HTML; `?number=` shows an order)")
            .fields(&[Field::text("number").about("The order number to look up.")]),
        Route::get("/track/{number}", Access::Public, json_status).doc(
            "track",
            "get_track",
            "Order status as JSON (404 when unknown)",
        ),
    ]
}

/// What the page shows when nothing is known: a dash.
const NONE: &str = "—";

/// The longest order number looked up; longer input is not an order number.
const MAX_NUMBER: usize = 64;

/// One order, as the page prints it.
struct Shown {
    id: i64,
    invoice: String,
    status: String,
    warehouse: String,
    tracks: String,
    delivery: Option<String>,
}

#[derive(Template)]
#[template(path = "track.html")]
struct Page {
    query: String,
    searched: bool,
    order: Option<Shown>,
}

fn shown(v: &TrackView) -> Shown {
    let or_dash = |s: String| if s.is_empty() { NONE.to_string() } else { s };
    Shown {
        id: v.id,
        invoice: v.invoice_number.clone().unwrap_or_else(|| NONE.to_string()),
        status: v.status.clone(),
        warehouse: or_dash(v.warehouses.join(", ")),
        tracks: or_dash(v.track_numbers.join(", ")),
        delivery: v.delivery_status.clone(),
    }
}

async fn lookup(state: &AppState, number: &str) -> Result<Option<TrackView>, Response> {
    if number.chars().count() > MAX_NUMBER {
        return Ok(None);
    }
    state.store.track_order(number).await.map_err(|e| {
        tracing::error!(error = %e, "track lookup failed");
        crate::json_response(StatusCode::INTERNAL_SERVER_ERROR, &json!({ "error": "Internal server error." }))
    })
}

fn private(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    resp
}

/// `GET /track[?number=…]`. The query is read leniently (PHP rules, bad UTF-8 replaced), so odd input
/// gets the page rather than a bare 400.
async fn page(State(state): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let params = crate::params::parse_urlencoded(q.unwrap_or_default().as_bytes());
    let query = match params.get("number") {
        Some(serde_json::Value::String(s)) => s.trim().to_string(),
        _ => String::new(),
    };
    let searched = !query.is_empty();
    let order = if searched {
        match lookup(&state, &query).await {
            Ok(v) => v.as_ref().map(shown),
            Err(resp) => return resp,
        }
    } else {
        None
    };
    let page = Page { query, searched, order };
    match page.render() {
        Ok(html) => {
            let mut resp = (StatusCode::OK, html).into_response();
            let h = resp.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"),
            );
            private(resp)
        }
        Err(e) => {
            tracing::error!(error = %e, "track page did not render");
            crate::json_response(StatusCode::INTERNAL_SERVER_ERROR, &json!({ "error": "Internal server error." }))
        }
    }
}

/// `GET /track/{number}`; a number that is not even text (bad percent-encoding) is simply not found.
async fn json_status(
    State(state): State<AppState>,
    number: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Response {
    let number = number.map(|p| p.0).unwrap_or_default();
    let resp = match lookup(&state, &number).await {
        Err(resp) => return resp,
        Ok(None) => crate::json_response(StatusCode::NOT_FOUND, &json!({ "error": "Заказ не найден" })),
        Ok(Some(v)) => crate::json_response(
            StatusCode::OK,
            &json!({
                "id": v.id,
                "number": v.number,
                "invoice_number": v.invoice_number,
                "status": v.status,
                "status_code": v.status_code,
                "warehouses": v.warehouses,
                "track_numbers": v.track_numbers,
                "delivery_status": v.delivery_status,
            }),
        ),
    };
    private(resp)
}
