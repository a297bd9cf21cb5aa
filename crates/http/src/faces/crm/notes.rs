//! Notes managers keep about customers (`customers/notes`) and corporate customers
//! (`customers-corporate/notes`): one set of handlers, told whom the notes are about.

use super::field_error as invalid;
use super::scope::{CUSTOMER_READ, CUSTOMER_WRITE};
use super::{Crm, CrmError, CrmResult, FilterReader, ok, pagination};
use crate::AppState;
use crate::kit::{Field, Kind, PAGING, Route, SITE};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use torg_store::{CustomerLookup, NoteFilter, NoteOwner};

/// The `filter[…]` keys of `GET /api/v5/customers/notes` and what each holds.
pub(super) const LIST_FILTER: &[(&str, Kind)] = &[
    ("ids", Kind::Integers),
    ("customerIds", Kind::Integers),
    ("customerExternalIds", Kind::Texts),
    ("managerIds", Kind::Integers),
    ("text", Kind::Text),
    ("createdAtFrom", Kind::DateTime),
    ("createdAtTo", Kind::DateTime),
];

/// The `filter[…]` keys of `GET /api/v5/customers-corporate/notes` and what each holds.
pub(super) const LIST_CORPORATE_FILTER: &[(&str, Kind)] = &[
    ("ids", Kind::Integers),
    ("customerIds", Kind::Integers),
    ("customerExternalIds", Kind::Texts),
    ("managerIds", Kind::Integers),
    ("text", Kind::Text),
    ("createdAtFrom", Kind::DateTime),
    ("createdAtTo", Kind::DateTime),
];

/// The group's routes.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/api/v5/customers/notes", CUSTOMER_READ, list)
            .doc("customers", "list_customer_notes", "Notes about customers, filtered and paged")
            .fields(&[Field::filter(LIST_FILTER), PAGING[0], PAGING[1]]),
        Route::post("/api/v5/customers/notes/create", CUSTOMER_WRITE, create)
            .idempotent()
            .doc("customers", "create_customer_note", "Write a note about a customer")
            .answers(&[Field::int("id").required()])
            .fields(&[Field::entity("note", super::entities::NOTE).required(), SITE]),
        Route::post("/api/v5/customers/notes/{id}/delete", CUSTOMER_WRITE, delete).doc(
            "customers",
            "delete_customer_note",
            "Delete a note",
        ),
        Route::get("/api/v5/customers-corporate/notes", CUSTOMER_READ, list_corporate)
            .doc(
                "customers-corporate",
                "list_corporate_customer_notes",
                "Notes about corporate customers, filtered and paged",
            )
            .fields(&[Field::filter(LIST_CORPORATE_FILTER), PAGING[0], PAGING[1]]),
        Route::post("/api/v5/customers-corporate/notes/create", CUSTOMER_WRITE, create_corporate)
            .idempotent()
            .doc("customers-corporate", "create_corporate_customer_note", "Write a note about a corporate customer")
            .answers(&[Field::int("id").required()])
            .fields(&[Field::entity("note", super::entities::NOTE).required(), SITE]),
        Route::post("/api/v5/customers-corporate/notes/{id}/delete", CUSTOMER_WRITE, delete_corporate).doc(
            "customers-corporate",
            "delete_corporate_customer_note",
            "Delete a note about a corporate customer",
        ),
    ]
}

/// How notes about `owner` name it: its `type` and its name in messages.
fn owner_words(owner: NoteOwner) -> (&'static str, &'static str) {
    match owner {
        NoteOwner::Customer => ("customer", "Customer"),
        NoteOwner::Corporate => ("customer_corporate", "Corporate customer"),
    }
}

/// `GET /api/v5/customers/notes`.
async fn list(state: State<AppState>, crm: Crm) -> CrmResult {
    list_of(NoteOwner::Customer, state, crm).await
}

/// `GET /api/v5/customers-corporate/notes`.
async fn list_corporate(state: State<AppState>, crm: Crm) -> CrmResult {
    list_of(NoteOwner::Corporate, state, crm).await
}

/// `POST /api/v5/customers/notes/create`.
async fn create(state: State<AppState>, crm: Crm) -> CrmResult {
    create_of(NoteOwner::Customer, state, crm).await
}

/// `POST /api/v5/customers-corporate/notes/create`.
async fn create_corporate(state: State<AppState>, crm: Crm) -> CrmResult {
    create_of(NoteOwner::Corporate, state, crm).await
}

/// `POST /api/v5/customers/notes/{id}/delete`.
async fn delete(state: State<AppState>, id: Path<String>, crm: Crm) -> CrmResult {
    delete_of(NoteOwner::Customer, state, id, crm).await
}

/// `POST /api/v5/customers-corporate/notes/{id}/delete`.
async fn delete_corporate(state: State<AppState>, id: Path<String>, crm: Crm) -> CrmResult {
    delete_of(NoteOwner::Corporate, state, id, crm).await
}

/// A page of notes about `owner`s.
async fn list_of(owner: NoteOwner, State(state): State<AppState>, crm: Crm) -> CrmResult {
    let page = crm.default_page()?;
    let filter = crm.filter()?;
    let zone = &state.config.zone;
    let mut r = FilterReader::new(&filter, zone).noting(&crm.input);
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
    let (notes, meta) = state.store.list_notes(owner, &f, &crm.sites, page).await?;
    let notes: Vec<Value> = notes
        .iter()
        .map(|n| {
            let mut v = json!({
                "id": n.id,
                "text": n.text,
                "createdAt": zone.datetime(n.created_at),
                "customer": { "id": n.customer_id, "externalId": n.customer_external_id, "site": n.site, "type": owner_words(owner).0 },
            });
            if let Some(m) = n.manager_id {
                v["managerId"] = json!(m);
            }
            v
        })
        .collect();
    ok(StatusCode::OK, json!({ "pagination": pagination(meta), "notes": notes }))
}

/// Writes a note: `note` = `{customer: {id | externalId}, managerId, text}`; an external id is looked up
/// on `site`.
async fn create_of(owner: NoteOwner, State(state): State<AppState>, crm: Crm) -> CrmResult {
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
    let found = state.store.note_owner(owner, &lookup).await?.filter(|(_, site)| crm.sites.contains(site));
    let Some((owner_id, _)) = found else {
        let named = match &lookup {
            CustomerLookup::Id(id) => format!("id={id}"),
            CustomerLookup::ExternalId { external_id, .. } => format!("externalId={external_id}"),
        };
        return Err(invalid("customer", format!("{} with {named} not found.", owner_words(owner).1)));
    };
    let manager = match note.get("managerId") {
        None | Some(Value::Null) => None,
        Some(v) => match crate::params::as_i64(v) {
            Some(m) => Some(m),
            None => return Err(invalid("managerId", "This value should be of type integer.")),
        },
    };
    let id = state.store.create_note(owner, owner_id, manager, text).await?;
    ok(StatusCode::CREATED, json!({ "id": id }))
}

/// Deletes a note about an `owner`.
async fn delete_of(owner: NoteOwner, State(state): State<AppState>, Path(id): Path<String>, crm: Crm) -> CrmResult {
    let deleted = match id.parse::<i64>() {
        Ok(id) => state.store.delete_note(owner, id, &crm.sites).await?,
        Err(_) => false,
    };
    if !deleted {
        return Err(CrmError::new(StatusCode::NOT_FOUND, "Note not found map"));
    }
    ok(StatusCode::OK, json!({}))
}
