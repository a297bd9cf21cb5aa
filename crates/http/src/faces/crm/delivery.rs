//! Delivery integration (`delivery`): cost calculation from the delivery types book, status updates
//! from a delivery service (`delivery/generic/{code}/tracking`), shipments, and cancelling an order's
//! delivery (`orders/{externalId}/delivery/cancel`). See `docs/crm.md` for what torg decides where
//! RetailCRM asks a delivery service.

use super::entities;
use super::scope::{DELIVERY_READ, DELIVERY_WRITE, ORDER_WRITE};
use super::tasks::lookup_site;
use super::{Crm, CrmError, CrmResult, FilterReader, field_error, ok, pagination};
use crate::AppState;
use crate::kit::{BY, Field, Kind, PAGING, Route, SITE};
use crate::params::as_bool;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use torg_domain::delivery::{ShipmentPatch, parse_status_updates};
use torg_domain::reference::ReferenceKind;
use torg_store::{Shipment, ShipmentFilter};

/// Most delivery types one calculation asks about, and most status updates one request carries.
const CAP: usize = 100;

/// What a shipment's create and edits take (the edit under both its paths).
const SHIPMENT_FIELDS: [Field; 3] =
    [SITE, Field::text("deliveryType"), Field::entity("deliveryShipment", entities::SHIPMENT).required()];

/// The `filter[…]` keys of `GET /api/v5/delivery/shipments` and what each holds.
pub(super) const LIST_FILTER: &[(&str, Kind)] = &[
    ("ids", Kind::Integers),
    ("externalId", Kind::Text),
    ("orderNumber", Kind::Text),
    ("stores", Kind::Texts),
    ("managers", Kind::Integers),
    ("deliveryTypes", Kind::Texts),
    ("statuses", Kind::Texts),
    ("dateFrom", Kind::DateTime),
    ("dateTo", Kind::DateTime),
];

/// Routes of the group. The Python client edits a shipment at `delivery/shipment/{id}/edit`
/// (singular), the Go and PHP clients at `delivery/shipments/{id}/edit`: both answer.
pub fn routes() -> Vec<Route> {
    vec![
        Route::post("/api/v5/delivery/calculate", DELIVERY_READ, calculate)
            .doc("delivery", "calculate_delivery", "Delivery costs of the given delivery types")
            .answers(&[Field::new("calculations", Kind::Any).required()])
            .fields(&[Field::json_object("order").required(), Field::json_texts("deliveryTypeCodes").required()]),
        Route::post("/api/v5/delivery/generic/{code}/tracking", DELIVERY_WRITE, tracking)
            .doc("delivery", "update_delivery_tracking", "A delivery service's status updates of orders it carries")
            .fields(&[Field::entities("statusUpdate", entities::STATUS_UPDATE).required()]),
        Route::get("/api/v5/delivery/shipments", DELIVERY_READ, list)
            .doc("delivery", "list_delivery_shipments", "Shipments, filtered and paged")
            .answers(&[Field::object("pagination").required(), Field::new("deliveryShipments", Kind::Any).required()])
            .fields(&[Field::filter(LIST_FILTER), PAGING[0], PAGING[1]]),
        Route::post("/api/v5/delivery/shipments/create", DELIVERY_WRITE, create)
            .idempotent()
            .doc("delivery", "create_delivery_shipment", "Create a shipment of orders")
            .answers(&[Field::int("id").required(), Field::new("status", Kind::Any).required()])
            .fields(&SHIPMENT_FIELDS),
        Route::get("/api/v5/delivery/shipments/{id}", DELIVERY_READ, get)
            .doc("delivery", "get_delivery_shipment", "One shipment")
            .answers(&[Field::new("deliveryShipment", Kind::Any).required()]),
        Route::post("/api/v5/delivery/shipments/{id}/edit", DELIVERY_WRITE, edit)
            .doc("delivery", "edit_delivery_shipment", "Change a shipment's given fields")
            .answers(&[Field::int("id").required(), Field::new("status", Kind::Any).required()])
            .fields(&SHIPMENT_FIELDS),
        Route::post("/api/v5/delivery/shipment/{id}/edit", DELIVERY_WRITE, edit)
            .doc(
                "delivery",
                "edit_delivery_shipment_singular",
                "Change a shipment's given fields (the Python client's path)",
            )
            .answers(&[Field::int("id").required(), Field::new("status", Kind::Any).required()])
            .fields(&SHIPMENT_FIELDS),
        Route::post("/api/v5/orders/{externalId}/delivery/cancel", ORDER_WRITE, cancel)
            .doc("orders", "cancel_order_delivery", "Cancel an order's delivery")
            .fields(&[Field::flag("force"), SITE, BY]),
    ]
}

/// `POST /api/v5/delivery/calculate`: form `deliveryTypeCodes` (JSON list) and `order` (JSON
/// object); one calculation per code, in the order asked, from the delivery types book: an active
/// type is available at its `defaultCost`.
async fn calculate(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let codes = match crm.json_field("deliveryTypeCodes")? {
        None => return Err(CrmError::missing("deliveryTypeCodes")),
        Some(Value::Array(list)) => list,
        Some(Value::String(s)) => vec![Value::String(s)],
        Some(_) => return Err(field_error("deliveryTypeCodes", "This value should be a list.")),
    };
    if codes.is_empty() {
        return Err(field_error("deliveryTypeCodes", "This value should not be blank."));
    }
    if codes.len() > CAP {
        return Err(field_error(
            "deliveryTypeCodes",
            format!("This collection should contain {CAP} elements or less."),
        ));
    }
    crm.json_object("order")?;
    let books = state.store.books().await?;
    let mut calculations = Vec::with_capacity(codes.len());
    for (i, c) in codes.iter().enumerate() {
        let Some(code) = c.as_str().map(str::trim).filter(|c| !c.is_empty()) else {
            return Err(field_error(format!("deliveryTypeCodes[{i}]"), "This value should be a delivery type code."));
        };
        let entry = books.refs(ReferenceKind::DeliveryType).iter().find(|e| e.code == code);
        let mut m = Map::new();
        m.insert("code".into(), json!(code));
        match entry {
            Some(e) if e.active => {
                m.insert("available".into(), json!(true));
                m.insert("cost".into(), e.attrs.get("defaultCost").cloned().unwrap_or(json!(0)));
                if let Some(v) = e.attrs.get("vatRate").filter(|v| !v.is_null()) {
                    m.insert("vatRate".into(), json!(v.as_str().map_or_else(|| v.to_string(), str::to_owned)));
                }
            }
            _ => {
                m.insert("available".into(), json!(false));
            }
        }
        calculations.push(Value::Object(m));
    }
    ok(StatusCode::OK, json!({ "calculations": calculations }))
}

/// `POST /api/v5/delivery/generic/{code}/tracking`: form `statusUpdate` (JSON list); all or nothing.
async fn tracking(State(state): State<AppState>, Path(code): Path<String>, crm: Crm) -> CrmResult {
    let list = match crm.json_field("statusUpdate")? {
        None => return Err(CrmError::missing("statusUpdate")),
        Some(Value::Array(list)) => list,
        Some(Value::Object(m)) => vec![Value::Object(m)],
        Some(_) => return Err(field_error("statusUpdate", "This value should be a list.")),
    };
    if list.is_empty() {
        return Err(field_error("statusUpdate", "This value should not be blank."));
    }
    if list.len() > CAP {
        return Err(field_error("statusUpdate", format!("This collection should contain {CAP} elements or less.")));
    }
    let updates = parse_status_updates(&list).map_err(CrmError::entity)?;
    state.store.apply_tracking(&code, &updates, crm.actor(), &crm.sites, &state.config.zone).await?;
    ok(StatusCode::OK, json!({}))
}

/// A shipment as the Go client's `DeliveryShipment` reads it.
fn shipment_json(s: &Shipment) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(s.id));
    if let Some(e) = &s.external_id {
        m.insert("externalId".into(), json!(e));
    }
    if let Some(c) = &s.integration_code {
        m.insert("integrationCode".into(), json!(c));
    }
    m.insert("deliveryType".into(), json!(s.delivery_type));
    if let Some(st) = &s.store {
        m.insert("store".into(), json!(st));
    }
    if let Some(id) = s.manager_id {
        m.insert("managerId".into(), json!(id));
    }
    m.insert("status".into(), json!(s.status));
    m.insert("date".into(), json!(s.date));
    if !s.time.is_empty() {
        m.insert("time".into(), Value::Object(s.time.clone()));
    }
    if let Some(l) = &s.lunch_time {
        m.insert("lunchTime".into(), json!(l));
    }
    if let Some(c) = &s.comment {
        m.insert("comment".into(), json!(c));
    }
    let orders: Vec<Value> = s
        .orders
        .iter()
        .map(|o| {
            let mut om = Map::new();
            om.insert("id".into(), json!(o.id));
            om.insert("number".into(), json!(o.number));
            if let Some(e) = &o.external_id {
                om.insert("externalId".into(), json!(e));
            }
            om.insert("site".into(), json!(o.site));
            Value::Object(om)
        })
        .collect();
    m.insert("orders".into(), Value::Array(orders));
    if !s.extra_data.is_empty() {
        m.insert("extraData".into(), Value::Object(s.extra_data.clone()));
    }
    Value::Object(m)
}

fn path_id(uid: &str) -> Result<i64, CrmError> {
    uid.parse::<i64>().ok().filter(|i| *i > 0).ok_or_else(CrmError::not_found)
}

/// The `deliveryShipment` field, with Go's separate `deliveryType` field when the document has none.
fn shipment_patch(crm: &Crm) -> Result<ShipmentPatch, CrmError> {
    let mut doc = crm.json_object("deliveryShipment")?;
    if !doc.contains_key("deliveryType")
        && let Some(t) = crm.input.text("deliveryType")
    {
        doc.insert("deliveryType".into(), json!(t));
    }
    ShipmentPatch::from_doc(&doc).map_err(CrmError::entity)
}

/// `GET /api/v5/delivery/shipments`: newest first.
async fn list(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let page = crm.default_page()?;
    let filter = crm.filter()?;
    let zone = &state.config.zone;
    let mut r = FilterReader::new(&filter, zone).noting(&crm.input);
    let date = |key: &str| match r.text(key) {
        Some(d) if torg_domain::time::parse_date(&d).is_some() => Ok(Some(d)),
        Some(_) => {
            Err(CrmError::parameter(&format!("filter[{key}]"), "This value is not a valid date (expected Y-m-d)."))
        }
        None => Ok(None),
    };
    let (date_from, date_to) = (date("dateFrom")?, date("dateTo")?);
    let f = ShipmentFilter {
        ids: r.ints("ids"),
        external_id: r.text("externalId"),
        order_number: r.text("orderNumber"),
        date_from,
        date_to,
        stores: r.texts("stores"),
        managers: r.ints("managers"),
        delivery_types: r.texts("deliveryTypes"),
        statuses: r.texts("statuses"),
    };
    r.finish()?;
    let (shipments, meta) = state.store.list_shipments(&f, &crm.sites, page).await?;
    let shipments: Vec<Value> = shipments.iter().map(shipment_json).collect();
    ok(StatusCode::OK, json!({ "pagination": pagination(meta), "deliveryShipments": shipments }))
}

/// `POST /api/v5/delivery/shipments/create`: 201 with the id and status.
async fn create(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let patch = shipment_patch(&crm)?;
    let site = lookup_site(&crm)?;
    let s = state.store.create_shipment(&patch, site.as_deref(), &crm.sites).await?;
    ok(StatusCode::CREATED, json!({ "id": s.id, "status": s.status }))
}

/// `GET /api/v5/delivery/shipments/{id}`.
async fn get(State(state): State<AppState>, Path(uid): Path<String>, crm: Crm) -> CrmResult {
    let id = path_id(&uid)?;
    match state.store.get_shipment(id, &crm.sites).await? {
        Some(s) => ok(StatusCode::OK, json!({ "deliveryShipment": shipment_json(&s) })),
        None => Err(CrmError::not_found()),
    }
}

/// `POST /api/v5/delivery/shipments/{id}/edit` (and `shipment/{id}/edit`): the path's id wins.
async fn edit(State(state): State<AppState>, Path(uid): Path<String>, crm: Crm) -> CrmResult {
    let id = path_id(&uid)?;
    let patch = shipment_patch(&crm)?;
    let site = lookup_site(&crm)?;
    let s = state.store.edit_shipment(id, &patch, site.as_deref(), &crm.sites).await?;
    ok(StatusCode::OK, json!({ "id": s.id, "status": s.status }))
}

/// `POST /api/v5/orders/{externalId}/delivery/cancel`: `by`, `site`, `force`; `{}` on success.
async fn cancel(State(state): State<AppState>, Path(uid): Path<String>, crm: Crm) -> CrmResult {
    let lookup = super::orders::lookup(&crm, &uid)?;
    let force = match crm.input.param("force") {
        None => false,
        Some(v) if crate::params::is_none_literal(v) => false,
        Some(v) => as_bool(v).ok_or_else(|| CrmError::parameter("force", "This value should be true or false."))?,
    };
    state.store.cancel_delivery(&lookup, force, crm.actor(), &crm.sites, &state.config.zone).await?;
    ok(StatusCode::OK, json!({}))
}
