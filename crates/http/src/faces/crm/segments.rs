//! Segments (`segments`): named customer filters, defined outside the API (CLI, demo data). A segment
//! is dynamic: its customers are counted when it is listed, with the customer list's own filter.

use super::scope::SEGMENTS_READ;
use super::{Crm, CrmResult, FilterReader, ok, pagination};
use crate::AppState;
use crate::kit::{Field, Kind, PAGING, Route};
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};
use torg_domain::page::PageRequest;
use torg_store::SegmentFilter;

/// The `filter[…]` keys of `GET /api/v5/segments` and what each holds.
pub(super) const LIST_FILTER: &[(&str, Kind)] = &[
    ("ids", Kind::Integers),
    ("active", Kind::Boolean),
    ("name", Kind::Text),
    ("type", Kind::Text),
    ("minCustomersCount", Kind::Integer),
    ("maxCustomersCount", Kind::Integer),
    ("dateFrom", Kind::DateTime),
    ("dateTo", Kind::DateTime),
];

/// Routes of the group.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/api/v5/segments", SEGMENTS_READ, list)
            .doc("segments", "list_segments", "Customer segments with their customer counts, filtered and paged")
            .answers(&[Field::object("pagination").required(), Field::new("segments", Kind::Any).required()])
            .fields(&[Field::filter(LIST_FILTER), PAGING[0], PAGING[1]]),
    ]
}

/// `GET /api/v5/segments`: by id. The customer counts are those of the customers the key sees; the
/// count filters are applied once they are known (segments are few, so all are counted).
async fn list(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let page = crm.default_page()?;
    let filter = crm.filter()?;
    super::customers::reject_extra_keys(&filter, LIST_FILTER)?;
    let zone = &state.config.zone;
    let mut r = FilterReader::new(&filter, zone).noting(&crm.input);
    let dynamic = match r.text("type").as_deref() {
        None => None,
        Some("dynamic") => Some(true),
        Some("static") => Some(false),
        Some(_) => {
            return Err(super::CrmError::parameter(
                "filter[type]",
                "The value you selected is not a valid choice. Allowed: dynamic, static.",
            ));
        }
    };
    let f = SegmentFilter {
        ids: r.ints("ids"),
        active: r.flag("active"),
        name: r.text("name"),
        dynamic,
        created: (r.date_from("dateFrom"), r.date_to("dateTo")),
    };
    let counts = (r.int("minCustomersCount"), r.int("maxCustomersCount"));
    r.finish()?;
    let mut rows = Vec::new();
    for s in state.store.list_segments(&f).await? {
        let customers = super::customers::stored_filter(&s, &crm.sites, zone);
        let (_, count) = state.store.list_customers(&customers, PageRequest { limit: 1, page: 1 }).await?;
        let count = i64::try_from(count).unwrap_or(i64::MAX);
        if counts.0.is_some_and(|min| count < min) || counts.1.is_some_and(|max| count > max) {
            continue;
        }
        rows.push(json!({
            "id": s.id, "code": s.code, "name": s.name, "createdAt": zone.datetime(s.created_at),
            "isDynamic": s.is_dynamic, "customersCount": count, "active": s.active,
        }));
    }
    let total = rows.len() as u64;
    let shown: Vec<Value> =
        rows.into_iter().skip(usize::try_from(page.offset()).unwrap_or(usize::MAX)).take(page.limit as usize).collect();
    ok(StatusCode::OK, json!({ "pagination": pagination(page.meta(total)), "segments": shown }))
}
