//! Notes managers keep about customers (`customers/notes`).

use super::field_error as invalid;
use super::scope::{CUSTOMER_READ, CUSTOMER_WRITE};
use super::{Crm, CrmError, CrmResult, FilterReader, ok, pagination};
use crate::AppState;
use crate::kit::Route;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use torg_store::{CustomerLookup, NoteFilter};

/// The group's routes.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/api/v5/customers/notes", CUSTOMER_READ, list).doc(
            "customers",
            "list_customer_notes",
            "Notes about customers, filtered and paged",
        ),
        Route::post("/api/v5/customers/notes/create", CUSTOMER_WRITE, create).idempotent().doc(
            "customers",
            "create_customer_note",
            "Write a note about a customer",
        ),
        Route::post("/api/v5/customers/notes/{id}/delete", CUSTOMER_WRITE, delete).doc(
            "customers",
            "delete_customer_note",
            "Delete a note",
        ),
    ]
}

/// `GET /api/v5/customers/notes`.
async fn list(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let page = crm.default_page()?;
    let filter = crm.filter()?;
    let zone = &state.config.zone;
    let mut r = FilterReader::new(&filter, zone);
    let f = NoteFilter {
        ids: r.ints("ids"),
        customer_ids: r.ints("customerIds"),
        customer_external_ids: r.texts("customerExternalIds"),
        manager_ids: r.ints("managerIds"),
        text: r.text("text"),
        created_from: r.date_from("createdAtFrom"),
        created_to: r.date_to("createdAtTo"),
    };
    r.finish()?;
    let (notes, meta) = state.store.list_notes(&f, &crm.sites, page).await?;
    let notes: Vec<Value> = notes
        .iter()
        .map(|n| {
            let mut v = json!({
                "id": n.id,
                "text": n.text,
                "createdAt": zone.datetime(n.created_at),
                "customer": { "id": n.customer_id, "externalId": n.customer_external_id, "site": n.site, "type": "customer" },
            });
            if let Some(m) = n.manager_id {
                v["managerId"] = json!(m);
            }
            v
        })
        .collect();
    ok(StatusCode::OK, json!({ "pagination": pagination(meta), "notes": notes }))
}

/// `POST /api/v5/customers/notes/create`: `note` = `{customer: {id | externalId}, managerId, text}`;
/// an external id is looked up on `site`.
async fn create(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let note = crm.json_object("note")?;
    let text = note.get("text").and_then(Value::as_str).map(str::trim).unwrap_or_default();
    if text.is_empty() {
        return Err(invalid("text", "This value should not be blank."));
    }
    let customer = note.get("customer").and_then(Value::as_object);
    let id = customer.and_then(|c| c.get("id")).and_then(crate::params::as_i64);
    let external = customer.and_then(|c| c.get("externalId")).and_then(|v| match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    });
    let lookup = match (id, external) {
        (Some(id), _) => CustomerLookup::Id(id),
        (None, Some(external_id)) => CustomerLookup::ExternalId { site: crm.site()?, external_id },
        (None, None) => return Err(invalid("customer", "Set one of the following fields: id, externalId")),
    };
    let found = state.store.get_customer(&lookup).await?.filter(|(c, _)| crm.sites.contains(&c.site));
    let Some((c, _)) = found else {
        let named = match &lookup {
            CustomerLookup::Id(id) => format!("id={id}"),
            CustomerLookup::ExternalId { external_id, .. } => format!("externalId={external_id}"),
        };
        return Err(invalid("customer", format!("Customer with {named} not found.")));
    };
    let manager = match note.get("managerId") {
        None | Some(Value::Null) => None,
        Some(v) => match crate::params::as_i64(v) {
            Some(m) => Some(m),
            None => return Err(invalid("managerId", "This value should be of type integer.")),
        },
    };
    let id = state.store.create_note(c.id, manager, text).await?;
    ok(StatusCode::CREATED, json!({ "id": id }))
}

/// `POST /api/v5/customers/notes/{id}/delete`.
async fn delete(State(state): State<AppState>, Path(id): Path<String>, crm: Crm) -> CrmResult {
    let deleted = match id.parse::<i64>() {
        Ok(id) => state.store.delete_note(id, &crm.sites).await?,
        Err(_) => false,
    };
    if !deleted {
        return Err(CrmError::new(StatusCode::NOT_FOUND, "Note not found map"));
    }
    ok(StatusCode::OK, json!({}))
}
