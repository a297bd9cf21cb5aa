//! Costs (`costs`): list, create, get, edit, delete one or many, upload. A cost belongs to one site or
//! more; a key sees the costs on a site it reaches (see `docs/crm.md`).

use super::scope::{COST_READ, COST_WRITE};
use super::tasks::lookup_site;
use super::{Crm, CrmError, CrmResult, FilterReader, ok, pagination};
use crate::AppState;
use crate::kit::{Field, Kind, PAGING, Route, SITE};
use crate::params::{as_i64, as_list};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use torg_domain::cost::{Cost, CostPatch};
use torg_domain::reference::ReferenceKind;
use torg_domain::time::Zone;
use torg_domain::{DomainError, FieldErrors};
use torg_store::{CostFilter, StoreError};

/// Most costs one `costs/upload` takes.
const UPLOAD_CAP: usize = 50;
/// Most ids one `costs/delete` takes.
const DELETE_CAP: usize = 250;

/// The `filter[…]` keys of `GET /api/v5/costs` and what each holds.
pub(super) const LIST_FILTER: &[(&str, Kind)] = &[
    ("sites", Kind::Texts),
    ("costGroups", Kind::Texts),
    ("ids", Kind::Integers),
    ("orderIds", Kind::Integers),
    ("orderExternalIds", Kind::Texts),
    ("orderNumber", Kind::Text),
    ("costItems", Kind::Texts),
    ("users", Kind::Integers),
    ("createdBy", Kind::Integers),
    ("dateFrom", Kind::DateTime),
    ("dateTo", Kind::DateTime),
    ("createdAtFrom", Kind::DateTime),
    ("createdAtTo", Kind::DateTime),
    ("minSumm", Kind::Number),
    ("maxSumm", Kind::Number),
    ("comment", Kind::Text),
];

/// Routes of the group; `/costs/create`, `/costs/delete` and `/costs/upload` are matched before
/// `/costs/{id}` (static segments win).
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/api/v5/costs", COST_READ, list)
            .doc("costs", "list_costs", "Costs, filtered and paged")
            .answers(&[Field::object("pagination").required(), Field::list("costs").required()])
            .fields(&[Field::filter(LIST_FILTER), PAGING[0], PAGING[1]]),
        Route::post("/api/v5/costs/create", COST_WRITE, create)
            .idempotent()
            .doc("costs", "create_cost", "Record a cost")
            .answers(&[Field::int("id").required()])
            .fields(&[SITE, Field::entity("cost", super::entities::COST).required()]),
        Route::post("/api/v5/costs/delete", COST_WRITE, delete_many)
            .doc("costs", "delete_costs", "Delete costs by id")
            .answers(&[Field::int("count").required(), Field::list("notRemovedIds").required()])
            .fields(&[Field::json_ids("ids").required()]),
        Route::post("/api/v5/costs/upload", COST_WRITE, upload)
            .idempotent()
            .doc("costs", "upload_costs", "Record up to 50 costs")
            .answers(&[Field::list("uploadedCosts").required()])
            .fields(&[Field::entities("costs", super::entities::COST).required(), SITE]),
        Route::get("/api/v5/costs/{id}", COST_READ, get)
            .doc("costs", "get_cost", "One cost by id")
            .answers(&[Field::object("cost").required()]),
        Route::post("/api/v5/costs/{id}/delete", COST_WRITE, delete).doc("costs", "delete_cost", "Delete a cost"),
        Route::post("/api/v5/costs/{id}/edit", COST_WRITE, edit)
            .doc("costs", "edit_cost", "Change a cost's given fields")
            .answers(&[Field::int("id").required()])
            .fields(&[SITE, Field::entity("cost", super::entities::COST).required()]),
    ]
}

/// A cost as RetailCRM shows it (PHP's `Cost`: dates `Y-m-d`, `createdBy` a string, the order
/// `{id, number, externalId}`).
fn cost_json(c: &Cost, zone: &Zone) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(c.id));
    m.insert("dateFrom".into(), json!(c.date_from));
    m.insert("dateTo".into(), json!(c.date_to));
    m.insert("summ".into(), json!(c.summ));
    m.insert("costItem".into(), json!(c.cost_item));
    if let Some(t) = &c.comment {
        m.insert("comment".into(), json!(t));
    }
    m.insert("createdAt".into(), json!(zone.datetime(c.created_at)));
    if let Some(u) = c.created_by {
        m.insert("createdBy".into(), json!(u.to_string()));
    }
    if let Some(o) = &c.order {
        let mut order = Map::new();
        order.insert("id".into(), json!(o.id));
        order.insert("number".into(), json!(o.number));
        if let Some(e) = &o.external_id {
            order.insert("externalId".into(), json!(e));
        }
        m.insert("order".into(), Value::Object(order));
    }
    if let Some(u) = c.user_id {
        m.insert("userId".into(), json!(u));
    }
    m.insert("sites".into(), json!(c.sites));
    if let Some(s) = &c.source {
        m.insert("source".into(), Value::Object(s.clone()));
    }
    Value::Object(m)
}

/// An id path segment; anything else is not a cost.
fn path_id(uid: &str) -> Result<i64, CrmError> {
    uid.parse::<i64>().map_err(|_| CrmError::not_found())
}

/// The `cost` form field, read.
fn patch(crm: &Crm) -> Result<CostPatch, CrmError> {
    let doc = crm.json_object("cost")?;
    CostPatch::from_doc(&doc, "cost").map_err(CrmError::entity)
}

/// PHP's `CostFilter` types its dates, amounts and texts as lists: one value given as a list is that
/// value.
fn unwrap_singles(mut filter: Map<String, Value>) -> Map<String, Value> {
    for key in ["dateFrom", "dateTo", "createdAtFrom", "createdAtTo", "minSumm", "maxSumm", "orderNumber", "comment"] {
        if let Some(v @ (Value::Array(_) | Value::Object(_))) = filter.get(key) {
            let items = as_list(v);
            if let [only] = items.as_slice() {
                filter.insert(key.into(), only.clone());
            }
        }
    }
    filter
}

/// `GET /api/v5/costs`: newest first.
async fn list(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let page = crm.default_page()?;
    let filter = unwrap_singles(crm.filter()?.into_owned());
    let zone = &state.config.zone;
    let mut r = FilterReader::new(&filter, zone).noting(&crm.input);
    let sites = r.texts("sites");
    if sites.iter().any(|s| !crm.sites.contains(s)) {
        return Err(CrmError::access_denied());
    }
    let groups = r.texts("costGroups");
    let group_items = (!groups.is_empty()).then(|| {
        crm.books
            .refs(ReferenceKind::CostItem)
            .iter()
            .filter(|e| e.attr_str("group").is_some_and(|g| groups.iter().any(|x| x == g)))
            .map(|e| e.code.clone())
            .collect()
    });
    let f = CostFilter {
        ids: r.ints("ids"),
        sites,
        order_ids: r.ints("orderIds"),
        order_external_ids: r.texts("orderExternalIds"),
        order_number: r.text("orderNumber"),
        cost_items: r.texts("costItems"),
        group_items,
        users: r.ints("users"),
        created_by: r.ints("createdBy"),
        date_from: r.date_from("dateFrom").map(|t| zone.date(t)),
        date_to: r.date_to("dateTo").map(|t| zone.date(t)),
        created_from: r.date_from("createdAtFrom"),
        created_to: r.date_to("createdAtTo"),
        min_summ: r.decimal("minSumm"),
        max_summ: r.decimal("maxSumm"),
        comment: r.text("comment"),
    };
    r.finish()?;
    let (costs, meta) = state.store.list_costs(&f, &crm.sites, page).await?;
    let costs: Vec<Value> = costs.iter().map(|c| cost_json(c, zone)).collect();
    ok(StatusCode::OK, json!({ "pagination": pagination(meta), "costs": costs }))
}

/// `POST /api/v5/costs/create`: form `cost`, `site`; 201 with the cost's id.
async fn create(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let patch = patch(&crm)?;
    let site = lookup_site(&crm)?;
    let c = state.store.create_cost(&patch, site.as_deref(), crm.actor(), &crm.sites).await?;
    ok(StatusCode::CREATED, json!({ "id": c.id }))
}

/// `GET /api/v5/costs/{id}`.
async fn get(State(state): State<AppState>, Path(uid): Path<String>, crm: Crm) -> CrmResult {
    let id = path_id(&uid)?;
    match state.store.get_cost(id, &crm.sites).await? {
        Some(c) => ok(StatusCode::OK, json!({ "cost": cost_json(&c, &state.config.zone) })),
        None => Err(CrmError::not_found()),
    }
}

/// `POST /api/v5/costs/{id}/edit`: the given members change; answers the id.
async fn edit(State(state): State<AppState>, Path(uid): Path<String>, crm: Crm) -> CrmResult {
    let id = path_id(&uid)?;
    let patch = patch(&crm)?;
    let site = lookup_site(&crm)?;
    match state.store.edit_cost(id, &patch, site.as_deref(), &crm.sites).await {
        Ok(c) => ok(StatusCode::OK, json!({ "id": c.id })),
        Err(StoreError::Domain(DomainError::NotFound(_))) => Err(CrmError::not_found()),
        Err(e) => Err(e.into()),
    }
}

/// `POST /api/v5/costs/{id}/delete`: `{}`; 404 `Not found` for a cost that is not there.
async fn delete(State(state): State<AppState>, Path(uid): Path<String>, crm: Crm) -> CrmResult {
    let id = path_id(&uid)?;
    let (count, _) = state.store.delete_costs(&[id], &crm.sites).await?;
    if count == 0 {
        return Err(CrmError::not_found());
    }
    ok(StatusCode::OK, json!({}))
}

/// `POST /api/v5/costs/delete`: form `ids`, a JSON list (or a bracket list); answers how many went and
/// the ids that were not there.
async fn delete_many(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let invalid = |field: String, message: &str| CrmError::entity(FieldErrors::from([(field, message.to_string())]));
    let list = match crm.json_field("ids")? {
        None => return Err(CrmError::missing("ids")),
        Some(v @ (Value::Array(_) | Value::Object(_))) => as_list(&v),
        Some(_) => return Err(invalid("ids".into(), "This value should be a list.")),
    };
    if list.is_empty() {
        return Err(invalid("ids".into(), "This value should not be blank."));
    }
    if list.len() > DELETE_CAP {
        return Err(invalid("ids".into(), &format!("This collection should contain {DELETE_CAP} elements or less.")));
    }
    let mut ids = Vec::with_capacity(list.len());
    for (i, v) in list.iter().enumerate() {
        match as_i64(v) {
            Some(id) => ids.push(id),
            None => return Err(invalid(format!("ids[{i}]"), "This value should be of type integer.")),
        }
    }
    let (count, missing) = state.store.delete_costs(&ids, &crm.sites).await?;
    ok(StatusCode::OK, json!({ "count": count, "notRemovedIds": missing }))
}

/// `POST /api/v5/costs/upload`: form `costs`, at most 50; each is created in its own transaction, so
/// good ones stay. All in: 200 `uploadedCosts` (ids, in the order given). Some refused: 460 `Costs are
/// loaded with errors`, `errors` one line per problem naming `costs[i].<member>`, and `uploadedCosts`.
async fn upload(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let docs = crm.json_list("costs", UPLOAD_CAP)?;
    let site = lookup_site(&crm)?;
    let mut uploaded: Vec<i64> = Vec::new();
    let mut errors: Vec<Value> = Vec::new();
    for (i, doc) in docs.iter().enumerate() {
        let prefix = format!("costs[{i}]");
        let failed = match CostPatch::from_doc(doc, &prefix) {
            Err(f) => f,
            Ok(p) => match state.store.create_cost(&p, site.as_deref(), crm.actor(), &crm.sites).await {
                Ok(c) => {
                    uploaded.push(c.id);
                    continue;
                }
                Err(StoreError::Domain(DomainError::Invalid(f))) => f
                    .into_iter()
                    .map(|(k, v)| (k.strip_prefix("cost").map_or(k.clone(), |rest| format!("{prefix}{rest}")), v))
                    .collect(),
                Err(e) => return Err(e.into()),
            },
        };
        errors.extend(failed.into_iter().map(|(k, v)| json!(format!("{k}: {v}"))));
    }
    if errors.is_empty() {
        return ok(StatusCode::OK, json!({ "uploadedCosts": uploaded }));
    }
    let status = StatusCode::from_u16(460).unwrap_or(StatusCode::BAD_REQUEST);
    Err(CrmError::new(status, "Costs are loaded with errors")
        .with_errors(Value::Array(errors))
        .with("uploadedCosts", json!(uploaded)))
}
