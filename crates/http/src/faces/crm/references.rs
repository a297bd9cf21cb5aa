//! Reference books: listed in RetailCRM's shapes (maps keyed by code; arrays for stores and price
//! types) and upserted by `/{code}/edit` (201 created, 200 updated).

use super::entities;
use super::{Crm, CrmError, CrmResult, ok};
use crate::AppState;
use crate::kit::{Access, Field, Kind, Route};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use torg_domain::reference::{ReferenceEntry, ReferenceKind, Site, Warehouse};

/// How one book is spoken: its path segment, response member, edit form field, whether it is listed
/// as an array (else keyed by code), and what the document calls it.
struct Book {
    kind: ReferenceKind,
    path: &'static str,
    member: &'static str,
    field: &'static str,
    listed: bool,
    title: &'static str,
}

const fn book_of(
    kind: ReferenceKind,
    path: &'static str,
    member: &'static str,
    field: &'static str,
    listed: bool,
    title: &'static str,
) -> Book {
    Book { kind, path, member, field, listed, title }
}

use ReferenceKind as K;

const BOOKS: &[Book] = &[
    book_of(K::Status, "statuses", "statuses", "status", false, "Order statuses"),
    book_of(K::StatusGroup, "status-groups", "statusGroups", "statusGroup", false, "Status groups"),
    book_of(K::OrderType, "order-types", "orderTypes", "orderType", false, "Order types"),
    book_of(K::OrderMethod, "order-methods", "orderMethods", "orderMethod", false, "Order methods"),
    book_of(K::PaymentType, "payment-types", "paymentTypes", "paymentType", false, "Payment types"),
    book_of(K::PaymentStatus, "payment-statuses", "paymentStatuses", "paymentStatus", false, "Payment statuses"),
    book_of(K::DeliveryType, "delivery-types", "deliveryTypes", "deliveryType", false, "Delivery types"),
    book_of(K::ProductStatus, "product-statuses", "productStatuses", "productStatus", false, "Order line statuses"),
    book_of(K::PriceType, "price-types", "priceTypes", "priceType", true, "Price types"),
    book_of(K::Unit, "units", "units", "unit", false, "Units of measure"),
    book_of(K::CostGroup, "cost-groups", "costGroups", "costGroup", true, "Cost groups"),
    book_of(K::CostItem, "cost-items", "costItems", "costItem", true, "Cost items"),
    book_of(K::LegalEntity, "legal-entities", "legalEntities", "legalEntity", true, "Legal entities"),
    book_of(K::DeliveryService, "delivery-services", "deliveryServices", "deliveryService", false, "Delivery services"),
];

/// The types a store may have.
pub(super) const STORE_TYPES: &[&str] =
    &["store-type-online", "store-type-retail", "store-type-supplier", "store-type-warehouse"];

/// `priceType` → `price_type`, for operation ids.
fn snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn book(kind: ReferenceKind) -> &'static Book {
    BOOKS.iter().find(|b| b.kind == kind).unwrap_or(&BOOKS[0])
}

const READ: Access = Access::Scope("reference_read");
const WRITE: Access = Access::Scope("reference_write");

/// Routes of the books.
pub fn routes() -> Vec<Route> {
    let mut routes = vec![
        Route::get("/api/v5/reference/sites", READ, list_sites)
            .doc("reference", "list_sites", "Sites (stores fronts), keyed by code")
            .answers(&[Field::new("sites", Kind::Any).required()]),
        Route::post("/api/v5/reference/sites/{code}/edit", WRITE, edit_site)
            .doc("reference", "edit_site", "Create or update a site")
            .fields(&[Field::entity("site", entities::SITE_ENTRY).required()]),
        Route::get("/api/v5/reference/stores", READ, list_stores)
            .doc("reference", "list_stores", "Stores (warehouses), as a list")
            .answers(&[Field::new("stores", Kind::Any).required()]),
        Route::post("/api/v5/reference/stores/{code}/edit", WRITE, edit_store)
            .doc("reference", "edit_store", "Create or update a store")
            .fields(&[Field::entity("store", entities::STORE_ENTRY).required()]),
    ];
    for b in BOOKS {
        let kind = b.kind;
        let op = b.path.replace('-', "_");
        let shape = if b.listed { "as a list" } else { "keyed by code" };
        routes.push(
            Route::get(format!("/api/v5/reference/{}", b.path), READ, move |state: State<AppState>, crm: Crm| {
                list(state, crm, kind)
            })
            .doc("reference", format!("list_{op}"), format!("{}, {shape}", b.title))
            .answers(&[Field::new(b.member, if b.listed { Kind::List } else { Kind::Object }).required()]),
        );
        if kind != ReferenceKind::StatusGroup {
            routes.push(
                Route::post(
                    format!("/api/v5/reference/{}/{{code}}/edit", b.path),
                    WRITE,
                    move |state: State<AppState>, path: Path<String>, crm: Crm| edit(state, path, crm, kind),
                )
                .doc("reference", format!("edit_{}", snake(b.field)), format!("Create or update: {}", b.title))
                .fields(&match edit_fields(kind) {
                    [] => vec![Field::entity(b.field, entities::book(kind)).required()],
                    both => both
                        .iter()
                        .map(|n| Field::entity(n, entities::book(kind)).about("One of the two names."))
                        .collect(),
                }),
            );
        }
    }
    routes.extend(super::books::routes());
    routes
}

pub(super) fn entry_json(e: &ReferenceEntry) -> Value {
    let mut m = e.attrs.clone();
    m.insert("code".into(), json!(e.code));
    m.insert("name".into(), json!(e.name));
    m.insert("active".into(), json!(e.active));
    m.insert("ordering".into(), json!(e.ordering));
    Value::Object(m)
}

async fn list(State(state): State<AppState>, _crm: Crm, kind: ReferenceKind) -> CrmResult {
    let entries = state.store.list_refs(kind).await?;
    let b = book(kind);
    let body = match kind {
        _ if b.listed => {
            let list: Vec<Value> = entries
                .iter()
                .map(|e| {
                    let mut v = entry_json(e);
                    v["id"] = json!(e.id);
                    if kind == ReferenceKind::LegalEntity {
                        v.as_object_mut().map(|m| m.remove("name"));
                    }
                    v
                })
                .collect();
            json!({ b.member: list })
        }
        ReferenceKind::StatusGroup => {
            let statuses = state.store.list_refs(ReferenceKind::Status).await?;
            let map: Map<String, Value> = entries
                .iter()
                .map(|e| {
                    let mut v = entry_json(e);
                    let members: Vec<&str> = statuses
                        .iter()
                        .filter(|s| s.attr_str("group") == Some(e.code.as_str()))
                        .map(|s| s.code.as_str())
                        .collect();
                    v["statuses"] = json!(members);
                    (e.code.clone(), v)
                })
                .collect();
            json!({ b.member: map })
        }
        _ => {
            let map: Map<String, Value> = entries.iter().map(|e| (e.code.clone(), entry_json(e))).collect();
            json!({ b.member: map })
        }
    };
    ok(StatusCode::OK, body)
}

/// The entity of an edit: its JSON field, with the path's code winning over the body's. Its name
/// must be given (`legalName` for a legal entity).
pub(super) fn edit_entity(crm: &Crm, fields: &[&str], code: &str, legal: bool) -> Result<Map<String, Value>, CrmError> {
    let name = fields.iter().find(|f| crm.input.param(f).is_some()).copied().unwrap_or(fields[0]);
    let mut m = crm.json_object(name)?;
    m.insert("code".into(), json!(code));
    let name_key = if legal { "legalName" } else { "name" };
    if m.get(name_key).and_then(Value::as_str).is_none_or(|s| s.trim().is_empty()) {
        return Err(CrmError::entity(
            [(format!("{name}.{name_key}"), "This value should not be blank.".to_string())].into(),
        ));
    }
    Ok(m)
}

pub(super) fn check_code(code: &str) -> Result<(), CrmError> {
    let ok = !code.is_empty()
        && code.len() <= 255
        && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if ok {
        Ok(())
    } else {
        Err(CrmError::entity(
            [("code".to_string(), "Code may hold only latin letters, digits, '-', '_' and '.'.".to_string())].into(),
        ))
    }
}

pub(super) fn take_bool(m: &mut Map<String, Value>, key: &str, default: bool) -> bool {
    match m.remove(key) {
        Some(Value::Bool(b)) => b,
        Some(v) => crate::params::as_bool(&v).unwrap_or(default),
        None => default,
    }
}

pub(super) fn take_i64(m: &mut Map<String, Value>, key: &str, default: i64) -> i64 {
    m.remove(key).as_ref().and_then(crate::params::as_i64).unwrap_or(default)
}

/// The names an edit reads its entry from where there are two (the Python client sends `priceTypes` for
/// price types and `units` for units; both are accepted); none means the book's own field.
fn edit_fields(kind: ReferenceKind) -> &'static [&'static str] {
    match kind {
        ReferenceKind::PriceType => &["priceType", "priceTypes"],
        ReferenceKind::Unit => &["unit", "units"],
        _ => &[],
    }
}

async fn edit(State(state): State<AppState>, Path(code): Path<String>, crm: Crm, kind: ReferenceKind) -> CrmResult {
    check_code(&code)?;
    let b = book(kind);
    let fields = match edit_fields(kind) {
        [] => std::slice::from_ref(&b.field),
        both => both,
    };
    let mut m = edit_entity(&crm, fields, &code, kind == ReferenceKind::LegalEntity)?;
    if kind == ReferenceKind::CostItem {
        let group = m.get("group").and_then(Value::as_str).map(str::to_owned);
        match group {
            Some(g) if crm.books.refs(ReferenceKind::CostGroup).iter().any(|x| x.code == g) => {}
            Some(g) => {
                return Err(CrmError::entity(
                    [("costItem.group".to_string(), format!("Cost group '{g}' does not exist."))].into(),
                ));
            }
            None => {
                return Err(CrmError::entity(
                    [("costItem.group".to_string(), "This value should not be blank.".to_string())].into(),
                ));
            }
        }
    }
    if kind == ReferenceKind::LegalEntity {
        let legal_name = m.get("legalName").and_then(Value::as_str).unwrap_or_default().to_string();
        m.insert("name".into(), json!(legal_name));
    }
    if kind == ReferenceKind::Status {
        let group = m.get("group").and_then(Value::as_str).map(str::to_owned);
        let groups = state.store.list_refs(ReferenceKind::StatusGroup).await?;
        match group {
            Some(g) if groups.iter().any(|x| x.code == g) => {}
            Some(g) => {
                return Err(CrmError::entity(
                    [("status.group".to_string(), format!("Status group '{g}' does not exist."))].into(),
                ));
            }
            None => {
                return Err(CrmError::entity(
                    [("status.group".to_string(), "This value should not be blank.".to_string())].into(),
                ));
            }
        }
    }
    m.remove("code");
    let name = m.remove("name").and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    let entry = ReferenceEntry {
        id: 0,
        code,
        name,
        active: take_bool(&mut m, "active", true),
        ordering: take_i64(&mut m, "ordering", 990),
        attrs: m,
    };
    let created = state.store.upsert_ref(kind, &entry).await?;
    ok(if created { StatusCode::CREATED } else { StatusCode::OK }, json!({}))
}

async fn list_sites(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let sites = state.store.list_sites().await?;
    let map: Map<String, Value> = sites
        .iter()
        .filter(|s| crm.sites.contains(&s.code))
        .map(|s| {
            let mut m = s.attrs.clone();
            m.insert("id".into(), json!(s.id));
            m.insert("code".into(), json!(s.code));
            m.insert("name".into(), json!(s.name));
            m.insert("url".into(), json!(s.url));
            m.insert("ordering".into(), json!(s.ordering));
            (s.code.clone(), Value::Object(m))
        })
        .collect();
    ok(StatusCode::OK, json!({ "sites": map }))
}

async fn edit_site(State(state): State<AppState>, Path(code): Path<String>, crm: Crm) -> CrmResult {
    check_code(&code)?;
    if !matches!(crm.key.sites, torg_domain::key::SiteAccess::Full) && !crm.sites.contains(&code) {
        return Err(CrmError::access_denied());
    }
    let mut m = edit_entity(&crm, &["site"], &code, false)?;
    m.remove("code");
    m.remove("id");
    let name = m.remove("name").and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    let url = m.remove("url").and_then(|v| v.as_str().map(str::to_owned));
    let ordering = take_i64(&mut m, "ordering", 990);
    let site = Site { id: 0, code, name, url, ordering, attrs: m };
    let created = state.store.upsert_site(&site).await?;
    ok(if created { StatusCode::CREATED } else { StatusCode::OK }, json!({}))
}

async fn list_stores(State(state): State<AppState>, _crm: Crm) -> CrmResult {
    let stores: Vec<Value> = state
        .store
        .list_warehouses()
        .await?
        .iter()
        .map(|w| {
            let mut m = w.attrs.clone();
            m.insert("code".into(), json!(w.code));
            m.insert("name".into(), json!(w.name));
            m.insert("active".into(), json!(w.active));
            m.entry("type").or_insert(json!("store-type-warehouse"));
            m.entry("inventoryType").or_insert(json!("integer"));
            Value::Object(m)
        })
        .collect();
    ok(StatusCode::OK, json!({ "stores": stores }))
}

async fn edit_store(State(state): State<AppState>, Path(code): Path<String>, crm: Crm) -> CrmResult {
    check_code(&code)?;
    let mut m = edit_entity(&crm, &["store"], &code, false)?;
    m.remove("code");
    let name = m.remove("name").and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    let active = take_bool(&mut m, "active", true);
    if let Some(t) = m.get("type").and_then(Value::as_str).filter(|t| !STORE_TYPES.contains(t)) {
        return Err(CrmError::entity(
            [("store.type".to_string(), format!("Store type '{t}' is not one of: {}.", STORE_TYPES.join(", ")))].into(),
        ));
    }
    let w = Warehouse { id: 0, code, name, active, distributor: None, attrs: m };
    let created = state.store.upsert_warehouse(&w).await?;
    ok(if created { StatusCode::CREATED } else { StatusCode::OK }, json!({}))
}
