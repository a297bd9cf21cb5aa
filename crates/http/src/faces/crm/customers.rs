//! Customers: list, create, get, edit, upload, fix-external-ids, history.

use super::{Crm, CrmError, CrmResult, FilterReader, ok, pagination, render, upload_answer};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use torg_domain::page::PageRequest;
use torg_store::{CustomerFilter, CustomerLookup, HistoryFilter};

/// Most customers one upload takes.
const UPLOAD_CAP: usize = 50;

/// `GET /api/v5/customers`.
pub async fn list(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let page = crm.default_page()?;
    let filter = crm.filter()?;
    let zone = &state.config.zone;
    let mut r = FilterReader::new(&filter, zone);
    let wanted = r.texts("sites");
    if wanted.iter().any(|s| !crm.sites.contains(s)) {
        return Err(CrmError::access_denied());
    }
    let f = CustomerFilter {
        sites: if wanted.is_empty() { crm.sites.clone() } else { wanted },
        ids: r.ints("ids"),
        external_ids: r.texts("externalIds"),
        name: r.text("name"),
        email: r.text("email"),
        city: r.text("city"),
        region: r.text("region"),
        managers: r.ints("managers"),
        created_from: r.date_from("dateFrom"),
        created_to: r.date_to("dateTo"),
        vip: r.flag("vip"),
        bad: r.flag("bad"),
        sex: r.text("sex"),
        orders_count: (r.int("minOrdersCount"), r.int("maxOrdersCount")),
        total_summ: (r.decimal("minTotalSumm"), r.decimal("maxTotalSumm")),
        custom_fields: r.custom_fields(),
    };
    r.finish()?;
    let (rows, total) = state.store.list_customers(&f, page).await?;
    let customers: Vec<Value> = rows.iter().map(|(c, s)| render::customer(c, Some(s), zone)).collect();
    ok(StatusCode::OK, json!({ "pagination": pagination(page.meta(total)), "customers": customers }))
}

/// `POST /api/v5/customers/create`: 201 with the new id.
pub async fn create(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let doc = crm.json_object("customer")?;
    let site = crm.site()?;
    let c = state.store.create_customer(&site, &doc, crm.actor()).await?;
    ok(StatusCode::CREATED, json!({ "id": c.id }))
}

/// The customer a path names, by `by`.
fn lookup(crm: &Crm, uid: &str) -> Result<CustomerLookup, CrmError> {
    if crm.by_id()? {
        uid.parse().map(CustomerLookup::Id).map_err(|_| CrmError::not_found())
    } else {
        Ok(CustomerLookup::ExternalId { site: crm.site()?, external_id: uid.to_string() })
    }
}

/// `GET /api/v5/customers/{externalId}`.
pub async fn get(State(state): State<AppState>, Path(uid): Path<String>, crm: Crm) -> CrmResult {
    let lookup = lookup(&crm, &uid)?;
    match state.store.get_customer(&lookup).await? {
        Some((c, s)) if crm.sites.contains(&c.site) => {
            ok(StatusCode::OK, json!({ "customer": render::customer(&c, Some(&s), &state.config.zone) }))
        }
        _ => {
            let parts = match &lookup {
                CustomerLookup::Id(id) => (Some(*id), None),
                CustomerLookup::ExternalId { site, external_id } => (None, Some((site.clone(), external_id.clone()))),
            };
            Err(super::not_found_or_combined(&state, "customer", &parts).await)
        }
    }
}

/// `POST /api/v5/customers/{externalId}/edit`.
pub async fn edit(State(state): State<AppState>, Path(uid): Path<String>, crm: Crm) -> CrmResult {
    let doc = crm.json_object("customer")?;
    let lookup = lookup(&crm, &uid)?;
    let c = state.store.edit_customer(&lookup, &doc, crm.actor(), &crm.sites).await?;
    ok(StatusCode::OK, json!({ "id": c.id }))
}

/// `POST /api/v5/customers/upload`: 200 when all went in, 460 with both lists when some did not.
pub async fn upload(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let docs = crm.json_list("customers", UPLOAD_CAP)?;
    let site = crm.site()?;
    let out = state.store.upload_customers(&site, &docs, crm.actor()).await?;
    upload_answer(&out, "Customers", None)
}

/// Reads `[{id, externalId}]` pairs.
pub(super) fn id_pairs(crm: &Crm, field: &str) -> Result<Vec<(i64, String)>, CrmError> {
    let list = crm.json_list(field, 250)?;
    let mut pairs = Vec::with_capacity(list.len());
    for (i, m) in list.iter().enumerate() {
        let id = m.get("id").and_then(crate::params::as_i64);
        let ext = m
            .get("externalId")
            .and_then(|v| v.as_str().map(str::to_owned).or_else(|| v.as_i64().map(|n| n.to_string())));
        match (id, ext) {
            (Some(id), Some(ext)) if !ext.is_empty() => pairs.push((id, ext)),
            _ => {
                return Err(CrmError::entity(
                    [(format!("{field}[{i}]"), "Both id and externalId are required.".to_string())].into(),
                ));
            }
        }
    }
    Ok(pairs)
}

/// `POST /api/v5/customers/fix-external-ids`.
pub async fn fix_external_ids(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let pairs = id_pairs(&crm, "customers")?;
    state.store.fix_customer_external_ids(&pairs, &crm.sites, crm.actor()).await?;
    ok(StatusCode::OK, json!({}))
}

/// Reads the history filter shared by orders and customers.
pub(super) fn history_filter(
    crm: &Crm,
    state: &AppState,
    id_key: &str,
    ext_key: &str,
) -> Result<(HistoryFilter, PageRequest), CrmError> {
    let page = crm.default_page()?;
    let filter = crm.filter()?;
    let mut r = FilterReader::new(&filter, &state.config.zone);
    let f = HistoryFilter {
        since_id: r.int("sinceId"),
        start: r.date_from("startDate"),
        end: r.date_to("endDate"),
        entity_id: r.int(id_key),
        entity_external_id: r.text(ext_key),
        sites: crm.sites.clone(),
    };
    r.finish()?;
    Ok((f, page))
}

/// `GET /api/v5/customers/history`.
pub async fn history(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let (f, page) = history_filter(&crm, &state, "customerId", "customerExternalId")?;
    let (records, total) = state.store.customer_history(&f, page).await?;
    let zone = &state.config.zone;
    let history: Vec<Value> = records
        .iter()
        .filter(|h| h.entity.get("site").and_then(Value::as_str).is_none_or(|s| crm.sites.iter().any(|x| x == s)))
        .map(|h| {
            render::history(h, crm.key.id, "customer", zone, |snap| {
                let mut v = snap.clone();
                if let Some(t) = v.get("createdAt").and_then(Value::as_i64) {
                    v["createdAt"] = json!(zone.datetime(t));
                }
                v["type"] = json!("customer");
                v
            })
        })
        .collect();
    ok(
        StatusCode::OK,
        json!({ "generatedAt": zone.datetime(torg_domain::time::now()), "history": history, "pagination": pagination(page.meta(total)) }),
    )
}
