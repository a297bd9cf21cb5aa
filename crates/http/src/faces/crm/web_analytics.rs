//! Web analytics (`web-analytics/client-ids|sources|visits/upload`) and `notifications/send`.
//!
//! A client id and a traffic source belong to an order or a customer: they are written onto it (its
//! `clientId`, its `source`), through the same edit as any other change, so they show on the entity,
//! in its history, and in the lists' source filters. Visits are kept per client id. An entry that
//! names nothing torg knows comes back in `failed_…`, the rest are stored (201).

use super::entities;
use super::member_text as text;
use super::scope::{ANALYTICS_WRITE, NOTIFICATION_WRITE};
use super::{Crm, CrmError, CrmResult, ok};
use crate::AppState;
use crate::kit::{Field, Route, SITE};
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use torg_domain::FieldErrors;
use torg_store::{CustomerLookup, OrderLookup, Visit};

/// The group's routes.
pub fn routes() -> Vec<Route> {
    vec![
        Route::post("/api/v5/web-analytics/client-ids/upload", ANALYTICS_WRITE, client_ids)
            .doc("web-analytics", "upload_client_ids", "Attach web analytics client ids to orders and customers")
            .fields(&[Field::entities("clientIds", entities::CLIENT_ID).required(), SITE]),
        Route::post("/api/v5/web-analytics/sources/upload", ANALYTICS_WRITE, sources)
            .doc("web-analytics", "upload_sources", "Set the traffic source of orders and customers")
            .fields(&[Field::entities("sources", entities::WEB_SOURCE).required(), SITE]),
        Route::post("/api/v5/web-analytics/visits/upload", ANALYTICS_WRITE, visits)
            .doc("web-analytics", "upload_visits", "Store site visits by client id")
            .fields(&[Field::entities("visits", entities::VISIT).required(), SITE]),
        Route::post("/api/v5/notifications/send", NOTIFICATION_WRITE, send_notification)
            .doc("notifications", "send_notification", "Notify users and user groups")
            .fields(&[Field::entity("notification", entities::NOTIFICATION).required()]),
    ]
}

/// Where an entry goes: the order it names, else the customer, on the entry's site or the key's only
/// one. `None` when it names neither, or one that is not there.
enum Target {
    Order(OrderLookup),
    Customer(CustomerLookup),
}

fn target(crm: &Crm, entry: &Map<String, Value>) -> Option<Target> {
    let site = text(entry, "site").filter(|s| crm.sites.contains(s)).or_else(|| crm.site().ok());
    if let Some(o) = entry.get("order").and_then(Value::as_object).filter(|o| !o.is_empty()) {
        if let Some(id) = o.get("id").and_then(crate::params::as_i64) {
            return Some(Target::Order(OrderLookup::Id(id)));
        }
        if let (Some(ext), Some(site)) = (text(o, "externalId").or_else(|| text(o, "externalID")), site.clone()) {
            return Some(Target::Order(OrderLookup::ExternalId { site, external_id: ext }));
        }
        return text(o, "number").map(|n| Target::Order(OrderLookup::Number(n)));
    }
    if let Some(c) = entry.get("customer").and_then(Value::as_object).filter(|c| !c.is_empty()) {
        if let Some(id) = c.get("id").and_then(crate::params::as_i64) {
            return Some(Target::Customer(CustomerLookup::Id(id)));
        }
        if let (Some(ext), Some(site)) = (text(c, "externalId"), site) {
            return Some(Target::Customer(CustomerLookup::ExternalId { site, external_id: ext }));
        }
    }
    None
}

/// Writes `doc` onto the entry's order or customer; false when there is none to write to.
async fn apply(
    state: &AppState,
    crm: &Crm,
    entry: &Map<String, Value>,
    doc: &Map<String, Value>,
) -> Result<bool, CrmError> {
    let written = match target(crm, entry) {
        None => return Ok(false),
        Some(Target::Order(lookup)) => {
            state.store.edit_order(&lookup, doc, crm.actor(), &crm.sites, &state.config.zone).await.map(|_| ())
        }
        Some(Target::Customer(lookup)) => {
            state.store.edit_customer(&lookup, doc, crm.actor(), &crm.sites).await.map(|_| ())
        }
    };
    match written {
        Ok(()) => Ok(true),
        Err(torg_store::StoreError::Domain(_)) => Ok(false),
        Err(other) => Err(other.into()),
    }
}

/// `POST /api/v5/web-analytics/client-ids/upload`: `clientIds` = `[{value, createAt, site, order,
/// customer}]`.
async fn client_ids(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let entries = crm.json_list("clientIds", 50)?;
    let mut failed = Vec::new();
    for entry in &entries {
        let Some(value) = text(entry, "value") else {
            failed.push(Value::Object(entry.clone()));
            continue;
        };
        let doc: Map<String, Value> = [("clientId".to_string(), json!(value))].into_iter().collect();
        if !apply(&state, &crm, entry, &doc).await? {
            failed.push(Value::Object(entry.clone()));
        }
    }
    answer("failed_client_ids", failed)
}

/// `POST /api/v5/web-analytics/sources/upload`: `sources` = `[{source, medium, campaign, keyword,
/// content, client_id, site, order, customer}]`.
async fn sources(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let entries = crm.json_list("sources", 50)?;
    let mut failed = Vec::new();
    for entry in &entries {
        let source: Map<String, Value> = ["source", "medium", "campaign", "keyword", "content"]
            .iter()
            .filter_map(|k| text(entry, k).map(|v| ((*k).to_string(), json!(v))))
            .collect();
        if source.is_empty() {
            failed.push(Value::Object(entry.clone()));
            continue;
        }
        let mut doc: Map<String, Value> = [("source".to_string(), Value::Object(source))].into_iter().collect();
        if let Some(client) = text(entry, "client_id") {
            doc.insert("clientId".into(), json!(client));
        }
        if !apply(&state, &crm, entry, &doc).await? {
            failed.push(Value::Object(entry.clone()));
        }
    }
    answer("failed_sources", failed)
}

/// `POST /api/v5/web-analytics/visits/upload`: `visits` = `[{createdAt, clientId, site, customer,
/// source, pages, visitLength, pageViews, pageDepth, landingPage, exitPage}]`.
async fn visits(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let entries = crm.json_list("visits", 250)?;
    let mut failed = Vec::new();
    let mut keep = Vec::new();
    for entry in &entries {
        let created_at = text(entry, "createdAt").and_then(|t| state.config.zone.parse_with_offset(&t));
        let (Some(client_id), Some(created_at)) = (text(entry, "clientId"), created_at) else {
            failed.push(Value::Object(entry.clone()));
            continue;
        };
        let customer_id = match target(&crm, entry) {
            Some(Target::Customer(lookup)) => match state.store.get_customer(&lookup).await? {
                Some((c, _)) if crm.sites.contains(&c.site) => Some(c.id),
                _ => {
                    failed.push(Value::Object(entry.clone()));
                    continue;
                }
            },
            _ => None,
        };
        let mut doc = entry.clone();
        for k in ["createdAt", "clientId", "site", "customer"] {
            doc.remove(k);
        }
        keep.push(Visit { site: text(entry, "site"), client_id, customer_id, created_at, doc });
    }
    state.store.store_visits(&keep).await?;
    answer("failed_visits", failed)
}

fn answer(key: &str, failed: Vec<Value>) -> CrmResult {
    if failed.is_empty() { ok(StatusCode::CREATED, json!({})) } else { ok(StatusCode::CREATED, json!({ key: failed })) }
}

/// `POST /api/v5/notifications/send`: `notification` = `{type, message, userIds, userGroups}`.
async fn send_notification(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let n = crm.json_object("notification")?;
    let mut errors = FieldErrors::new();
    let kind = text(&n, "type").unwrap_or_default();
    if !["api.info", "api.error"].contains(&kind.as_str()) {
        errors.insert("notification.type".into(), "The value must be one of: api.info, api.error.".into());
    }
    let message = text(&n, "message").unwrap_or_default();
    if message.is_empty() {
        errors.insert("notification.message".into(), "This value should not be blank.".into());
    }
    let users: Vec<i64> = crate::params::as_list(n.get("userIds").unwrap_or(&Value::Null))
        .iter()
        .filter_map(crate::params::as_i64)
        .collect();
    let groups: Vec<String> = crate::params::as_list(n.get("userGroups").unwrap_or(&Value::Null))
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    if users.is_empty() && groups.is_empty() {
        errors.insert("notification.userIds".into(), "Either userIds or userGroups must be given.".into());
    }
    if !errors.is_empty() {
        return Err(CrmError::entity(errors));
    }
    state.store.send_notification(&kind, &message, &users, &groups).await?;
    ok(StatusCode::OK, json!({}))
}
