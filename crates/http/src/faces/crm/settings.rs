//! The account's settings as RetailCRM reports them, and `statistic/update`.

use super::scope::{ANALYTICS_WRITE, REFERENCE_READ};
use super::{Crm, CrmResult, ok};
use crate::AppState;
use crate::kit::Route;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};
use torg_domain::reference::ReferenceKind;

/// The group's routes.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/api/v5/settings", REFERENCE_READ, settings).doc(
            "settings",
            "get_settings",
            "Currency, language, time zone, work times and order defaults of the account",
        ),
        Route::get("/api/v5/statistic/update", ANALYTICS_WRITE, statistic_update).doc(
            "settings",
            "update_statistic",
            "Recalculate statistics (torg's are always current)",
        ),
    ]
}

/// The working week a new account starts with: Monday to Friday, 09:00–18:00, lunch 13:00–14:00.
fn default_work_times() -> Value {
    let days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"];
    Value::Array(
        days.iter()
            .map(|d| {
                json!({ "day_type": d, "start_time": "09:00", "end_time": "18:00",
                        "lunch_start_time": "13:00", "lunch_end_time": "14:00" })
            })
            .collect(),
    )
}

/// `GET /api/v5/settings`: read from what torg runs with (the configured zone, the base currency of
/// the currency book, the default order type and method, the first site) and from the account's own
/// settings (`work_times`, `non_working_days` as JSON in the store's settings).
async fn settings(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let zone = &state.config.zone;
    let since = state.store.meta_init("settings_updated_at", &torg_domain::time::now().to_string()).await?;
    let updated_at = zone.datetime(since.parse().unwrap_or_default());
    let at = |value: Value| json!({ "value": value, "updated_at": updated_at });
    let books = &crm.books;
    let currency = books
        .refs(ReferenceKind::Currency)
        .iter()
        .find(|c| c.attr_bool("isBase"))
        .map_or_else(|| "RUB".to_string(), |c| c.code.clone());
    let default = |kind| books.refs(kind).iter().find(|e| e.attr_bool("defaultForApi")).map(|e| e.code.clone());
    let work_times = match state.store.meta("settings.work_times").await? {
        Some(text) => serde_json::from_str(&text).unwrap_or_else(|_| default_work_times()),
        None => default_work_times(),
    };
    let non_working = match state.store.meta("settings.non_working_days").await? {
        Some(text) => serde_json::from_str(&text).unwrap_or_else(|_| json!([])),
        None => json!([]),
    };
    let body = json!({
        "settings": {
            "default_currency": at(json!(currency)),
            "system_language": at(json!("RU")),
            "timezone": at(json!(zone.0.iana_name().unwrap_or("UTC"))),
            "work_times": work_times,
            "non_working_days": non_working,
            "mg": { "order_creation": {
                "default": {
                    "site": crm.sites.first(),
                    "order_type": default(ReferenceKind::OrderType),
                    "order_method": default(ReferenceKind::OrderMethod),
                },
                "channels": {},
            } },
        }
    });
    ok(StatusCode::OK, body)
}

/// `GET /api/v5/statistic/update`: torg computes customer and order statistics when they are read,
/// so there is nothing to recalculate; the call succeeds as RetailCRM's does.
async fn statistic_update(_crm: Crm) -> CrmResult {
    ok(StatusCode::OK, json!({}))
}
