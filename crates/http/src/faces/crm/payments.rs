//! Payments of orders (docs/crm.md): `orders/payments/create`, `orders/payments/{id}/edit`,
//! `orders/payments/{id}/delete`. Each goes through the order, which keeps its paid sums and history.

use super::{Crm, CrmError, CrmResult, ok};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use torg_domain::FieldErrors;
use torg_store::{OrderLookup, PaymentLookup, StoreError};

/// `POST /api/v5/orders/payments/create`: `payment` names its order by `order.id`, `order.externalId`
/// (on `site`) or `order.number`; 201 with the payment's id.
pub async fn create(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let doc = crm.json_object("payment")?;
    let order = doc.get("order").and_then(Value::as_object).cloned().unwrap_or_default();
    let text = |k: &str| match order.get(k) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let lookup = if let Some(id) = text("id") {
        OrderLookup::Id(id.parse().map_err(|_| field("payment.order.id", "This value should be an integer."))?)
    } else if let Some(ext) = text("externalId") {
        OrderLookup::ExternalId { site: crm.site()?, external_id: ext }
    } else if let Some(number) = text("number") {
        OrderLookup::Number(number)
    } else {
        return Err(field("payment.order", "The order must be given by id, externalId or number."));
    };
    let id = state.store.create_payment(&lookup, &doc, crm.actor(), &crm.sites, &state.config.zone).await?;
    ok(StatusCode::CREATED, json!({ "id": id }))
}

fn field(name: &str, message: &str) -> CrmError {
    CrmError::entity(FieldErrors::from([(name.to_string(), message.to_string())]))
}

/// The payment a path names: by `by` (`id` or `externalId`); without `by`, a numeric segment is tried
/// as an id first and then as an external id (the Python client sends no `by`).
fn lookups(crm: &Crm, uid: &str) -> Result<Vec<PaymentLookup>, CrmError> {
    match crm.input.text("by").as_deref() {
        Some("id") => Ok(vec![PaymentLookup::Id(uid.parse().map_err(|_| CrmError::not_found())?)]),
        Some("externalId") => Ok(vec![PaymentLookup::ExternalId(uid.into())]),
        Some(_) => {
            Err(CrmError::parameter("by", "The value you selected is not a valid choice. Allowed: id, externalId."))
        }
        None => Ok(match uid.parse() {
            Ok(id) => vec![PaymentLookup::Id(id), PaymentLookup::ExternalId(uid.into())],
            Err(_) => vec![PaymentLookup::ExternalId(uid.into())],
        }),
    }
}

fn is_not_found(e: &StoreError) -> bool {
    matches!(e, StoreError::Domain(torg_domain::DomainError::NotFound(_)))
}

/// `POST /api/v5/orders/payments/{id}/edit`.
pub async fn edit(State(state): State<AppState>, Path(uid): Path<String>, crm: Crm) -> CrmResult {
    let doc = crm.json_object("payment")?;
    for l in lookups(&crm, &uid)? {
        match state.store.edit_payment(&l, &doc, crm.actor(), &crm.sites, &state.config.zone).await {
            Ok(id) => return ok(StatusCode::OK, json!({ "id": id })),
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(CrmError::not_found())
}

/// `POST /api/v5/orders/payments/{id}/delete`.
pub async fn delete(State(state): State<AppState>, Path(uid): Path<String>, crm: Crm) -> CrmResult {
    for l in lookups(&crm, &uid)? {
        match state.store.delete_payment(&l, crm.actor(), &crm.sites).await {
            Ok(()) => return ok(StatusCode::OK, json!({})),
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(CrmError::not_found())
}
