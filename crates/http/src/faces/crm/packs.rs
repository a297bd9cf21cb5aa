//! Packs of order lines (`orders/packs`): list, create, get, edit, delete, history. A pack takes part
//! of a line's quantity from a store's stock (the store keeps the rule and the stock; see
//! `docs/crm.md`). Only packs of orders on the key's sites are seen or touched.

use super::customers::history_filter;
use super::scope::{ORDER_READ, ORDER_WRITE};
use super::{Crm, CrmError, CrmResult, FilterReader, ok, pagination, render};
use crate::AppState;
use crate::kit::{Field, Kind, PAGING, Route};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use torg_domain::pack::{Pack, PackPatch};
use torg_domain::{DomainError, FieldErrors};
use torg_store::{PackFilter, StoreError};

/// The `filter[…]` keys of `GET /api/v5/orders/packs` and what each holds.
pub(super) const LIST_FILTER: &[(&str, Kind)] = &[
    ("ids", Kind::Integers),
    ("stores", Kind::Texts),
    ("itemId", Kind::Integer),
    ("offerXmlId", Kind::Text),
    ("offerExternalId", Kind::Text),
    ("orderId", Kind::Integer),
    ("orderExternalId", Kind::Text),
    ("invoiceNumber", Kind::Text),
    ("deliveryNoteNumber", Kind::Text),
    ("shipmentDateFrom", Kind::Text),
    ("shipmentDateTo", Kind::Text),
];

/// The `filter[…]` keys of `GET /api/v5/orders/packs/history` and what each holds.
pub(super) const HISTORY_FILTER: &[(&str, Kind)] = &[
    ("sinceId", Kind::Integer),
    ("startDate", Kind::DateTime),
    ("endDate", Kind::DateTime),
    ("orderId", Kind::Integer),
    ("orderExternalId", Kind::Text),
];

/// Routes of the group; `/orders/packs…` is matched before `/orders/{externalId}` (static segments win).
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/api/v5/orders/packs", ORDER_READ, list)
            .doc("packs", "list_packs", "Packs, filtered and paged")
            .answers(&[Field::object("pagination").required(), Field::list("packs").required()])
            .fields(&[Field::filter(LIST_FILTER), PAGING[0], PAGING[1]]),
        Route::post("/api/v5/orders/packs/create", ORDER_WRITE, create)
            .idempotent()
            .doc("packs", "create_pack", "Pack part of an order line from a store's stock")
            .answers(&[Field::int("id").required()])
            .fields(&[Field::entity("pack", super::entities::PACK).required()]),
        Route::get("/api/v5/orders/packs/history", ORDER_READ, history)
            .doc("packs", "list_pack_history", "Pack changes since an id or date")
            .answers(&[
                Field::new("generatedAt", Kind::DateTime).required(),
                Field::list("history").required(),
                Field::object("pagination").required(),
            ])
            .fields(&[Field::filter(HISTORY_FILTER), PAGING[0], PAGING[1]]),
        Route::get("/api/v5/orders/packs/{id}", ORDER_READ, get)
            .doc("packs", "get_pack", "One pack by id")
            .answers(&[Field::object("pack").required()]),
        Route::post("/api/v5/orders/packs/{id}/edit", ORDER_WRITE, edit)
            .doc("packs", "edit_pack", "Change a pack's given fields")
            .answers(&[Field::int("id").required()])
            .fields(&[Field::entity("pack", super::entities::PACK).required()]),
        Route::post("/api/v5/orders/packs/{id}/delete", ORDER_WRITE, delete).doc(
            "packs",
            "delete_pack",
            "Delete a pack, handing its stock back",
        ),
    ]
}

/// The pack's line: `{id, order: {id, externalId}, offer: {id, externalId, xmlId}}`.
fn item(p: &Pack) -> Value {
    let mut order = Map::new();
    order.insert("id".into(), json!(p.order_id));
    if let Some(e) = &p.order_external_id {
        order.insert("externalId".into(), json!(e));
    }
    let mut m = Map::new();
    m.insert("id".into(), json!(p.item_id));
    m.insert("order".into(), Value::Object(order));
    if let Some(o) = &p.offer {
        let mut offer = Map::new();
        offer.insert("id".into(), json!(o.id));
        if let Some(e) = &o.external_id {
            offer.insert("externalId".into(), json!(e));
        }
        if let Some(x) = &o.xml_id {
            offer.insert("xmlId".into(), json!(x));
        }
        m.insert("offer".into(), Value::Object(offer));
    }
    Value::Object(m)
}

/// A pack as `packs` and `pack` show it (the store a code), or as a history record's `created` pack
/// shows it (the store `{"code": …}`, no purchase price when there is none), after RetailCRM's
/// fixtures.
fn pack(p: &Pack, in_history: bool) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(p.id));
    match (p.purchase_price, in_history) {
        (Some(price), _) => {
            m.insert("purchasePrice".into(), json!(price));
        }
        (None, false) => {
            m.insert("purchasePrice".into(), json!(0));
        }
        (None, true) => {}
    }
    m.insert("quantity".into(), json!(p.quantity));
    m.insert("store".into(), if in_history { json!({ "code": p.store }) } else { json!(p.store) });
    m.insert("item".into(), item(p));
    m.insert("itemId".into(), json!(p.item_id));
    for (key, value) in [
        ("shipmentDate", &p.shipment_date),
        ("invoiceNumber", &p.invoice_number),
        ("deliveryNoteNumber", &p.delivery_note_number),
    ] {
        if let Some(v) = value {
            m.insert(key.into(), json!(v));
        }
    }
    Value::Object(m)
}

/// The store's per-field messages under `pack.` (the form field they came in).
fn pack_error(e: StoreError) -> CrmError {
    match e {
        StoreError::Domain(DomainError::Invalid(f)) => CrmError::entity(prefixed(f)),
        StoreError::Domain(DomainError::Refused(r)) => CrmError::entity(prefixed(r.fields())),
        other => other.into(),
    }
}

fn prefixed(f: FieldErrors) -> FieldErrors {
    f.into_iter().map(|(k, v)| (format!("pack.{k}"), v)).collect()
}

fn is_not_found(e: &StoreError) -> bool {
    matches!(e, StoreError::Domain(DomainError::NotFound(_)))
}

/// The `pack` form field, read.
fn patch(crm: &Crm) -> Result<PackPatch, CrmError> {
    let doc = crm.json_object("pack")?;
    PackPatch::from_doc(&doc).map_err(|f| CrmError::entity(prefixed(f)))
}

/// A shipment-date bound: a calendar date, so a date-time given is checked as one and its date used.
fn shipment_date(r: &mut FilterReader<'_>, key: &str, end: bool) -> Option<String> {
    let text = r.text(key);
    let valid = if end { r.date_to(key).is_some() } else { r.date_from(key).is_some() };
    text.filter(|_| valid).map(|t| t.chars().take(10).collect())
}

/// `GET /api/v5/orders/packs`.
pub async fn list(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let page = crm.default_page()?;
    let filter = crm.filter()?;
    let mut r = FilterReader::new(&filter, &state.config.zone).noting(&crm.input);
    let f = PackFilter {
        sites: crm.sites.clone(),
        ids: r.ints("ids"),
        stores: r.texts("stores"),
        item_id: r.int("itemId"),
        offer_xml_id: r.text("offerXmlId"),
        offer_external_id: r.text("offerExternalId"),
        order_id: r.int("orderId"),
        order_external_id: r.text("orderExternalId"),
        shipment_date_from: shipment_date(&mut r, "shipmentDateFrom", false),
        shipment_date_to: shipment_date(&mut r, "shipmentDateTo", true),
        invoice_number: r.text("invoiceNumber"),
        delivery_note_number: r.text("deliveryNoteNumber"),
    };
    r.finish()?;
    let (packs, total) = state.store.list_packs(&f, page).await?;
    let packs: Vec<Value> = packs.iter().map(|p| pack(p, false)).collect();
    ok(StatusCode::OK, json!({ "pagination": pagination(page.meta(total)), "packs": packs }))
}

/// `POST /api/v5/orders/packs/create`: 201 with the pack's id.
pub async fn create(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let patch = patch(&crm)?;
    let p = state.store.create_pack(&patch, crm.actor(), &crm.sites).await.map_err(pack_error)?;
    ok(StatusCode::CREATED, json!({ "id": p.id }))
}

/// `GET /api/v5/orders/packs/{id}`.
pub async fn get(State(state): State<AppState>, Path(id): Path<String>, crm: Crm) -> CrmResult {
    let Ok(id) = id.parse::<i64>() else { return Err(CrmError::not_found()) };
    match state.store.get_pack(id).await? {
        Some(p) if crm.sites.contains(&p.site) => ok(StatusCode::OK, json!({ "pack": pack(&p, false) })),
        _ => Err(CrmError::not_found()),
    }
}

/// `POST /api/v5/orders/packs/{id}/edit`: the id; 404 `Pack with id N not found`, as RetailCRM says it.
pub async fn edit(State(state): State<AppState>, Path(uid): Path<String>, crm: Crm) -> CrmResult {
    let missing = || CrmError::new(StatusCode::NOT_FOUND, format!("Pack with id {uid} not found"));
    let Ok(id) = uid.parse::<i64>() else { return Err(missing()) };
    let patch = patch(&crm)?;
    match state.store.edit_pack(id, &patch, crm.actor(), &crm.sites).await {
        Ok(p) => ok(StatusCode::OK, json!({ "id": p.id })),
        Err(e) if is_not_found(&e) => Err(missing()),
        Err(e) => Err(pack_error(e)),
    }
}

/// `POST /api/v5/orders/packs/{id}/delete`; an unknown pack is a 400 `Pack not found`, as RetailCRM
/// answers it.
pub async fn delete(State(state): State<AppState>, Path(uid): Path<String>, crm: Crm) -> CrmResult {
    let missing = || CrmError::new(StatusCode::BAD_REQUEST, "Pack not found");
    let Ok(id) = uid.parse::<i64>() else { return Err(missing()) };
    match state.store.delete_pack(id, crm.actor(), &crm.sites).await {
        Ok(()) => ok(StatusCode::OK, json!({})),
        Err(e) if is_not_found(&e) => Err(missing()),
        Err(e) => Err(pack_error(e)),
    }
}

/// `GET /api/v5/orders/packs/history`: records in number order; a `created` record carries the whole
/// pack, the others its id and line (RetailCRM's fixtures).
pub async fn history(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let (f, page) = history_filter(&crm, &state, "orderId", "orderExternalId")?;
    let (records, total) = state.store.pack_history(&f, page).await?;
    let zone = &state.config.zone;
    let history: Vec<Value> = records
        .iter()
        .map(|h| {
            let mut v = render::history(h, crm.key.id, "pack", zone, Clone::clone);
            if let Some(m) = v.as_object_mut() {
                if let Some(p) = Pack::from_snapshot(&h.entity) {
                    let shown = if h.created { pack(&p, true) } else { json!({ "id": p.id, "item": item(&p) }) };
                    m.insert("pack".into(), shown);
                }
                // A new pack has no old value, a deleted one no new value: the fixtures leave them out.
                if h.created {
                    m.remove("oldValue");
                }
                if h.deleted {
                    m.remove("newValue");
                }
            }
            v
        })
        .collect();
    ok(
        StatusCode::OK,
        json!({ "generatedAt": zone.datetime(torg_domain::time::now()), "history": history, "pagination": pagination(page.meta(total)) }),
    )
}
