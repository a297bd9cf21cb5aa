//! Customers: list, create, get, edit, upload, fix-external-ids, history.

use super::{Crm, CrmError, CrmResult, FilterReader, answer, ok, pagination, render, upload_answer};
use crate::AppState;
use crate::input::Input;
use crate::kit::Kind;
use crate::params::{as_bool, as_list, is_none_literal};
use crate::reshape::Object;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use torg_domain::page::PageRequest;
use torg_store::{
    ContragentFilter, CustomerFilter, CustomerLookup, HistoryFilter, SourceFilter, SubscriptionCondition, TaskCondition,
};

/// Most customers one upload takes.
const UPLOAD_CAP: usize = 50;

/// The `filter[…]` keys of `GET /api/v5/customers` and what each holds.
pub(super) const LIST_FILTER: &[(&str, Kind)] = &[
    ("sites", Kind::Texts),
    ("segment", Kind::Text),
    ("tags", Kind::Texts),
    ("attachedTags", Kind::Texts),
    ("mgChannels", Kind::Integers),
    ("ids", Kind::Integers),
    ("externalIds", Kind::Texts),
    ("name", Kind::Text),
    ("email", Kind::Text),
    ("city", Kind::Text),
    ("region", Kind::Text),
    ("managers", Kind::Integers),
    ("dateFrom", Kind::DateTime),
    ("dateTo", Kind::DateTime),
    ("vip", Kind::Boolean),
    ("bad", Kind::Boolean),
    ("sex", Kind::Text),
    ("minOrdersCount", Kind::Integer),
    ("maxOrdersCount", Kind::Integer),
    ("minTotalSumm", Kind::Number),
    ("maxTotalSumm", Kind::Number),
    ("notes", Kind::Text),
    ("minAverageSumm", Kind::Number),
    ("maxAverageSumm", Kind::Number),
    ("countries", Kind::Texts),
    ("emailMarketingUnsubscribed", Kind::Boolean),
    ("attachments", Kind::Boolean),
    ("discountCardNumber", Kind::Text),
    ("managerGroups", Kind::Texts),
    ("firstOrderFrom", Kind::DateTime),
    ("firstOrderTo", Kind::DateTime),
    ("lastOrderFrom", Kind::DateTime),
    ("lastOrderTo", Kind::DateTime),
    ("browserId", Kind::Text),
    ("commentary", Kind::Text),
    ("mgCustomerId", Kind::Text),
    ("isContact", Kind::Boolean),
    ("customFields", Kind::Object),
    ("classSegment", Kind::Text),
    ("online", Kind::Text),
    ("firstWebVisitFrom", Kind::Text),
    ("lastWebVisitFrom", Kind::Text),
    ("tasksCounts", Kind::Integer),
    ("minCostSumm", Kind::Number),
    ("contragentName", Kind::Text),
    ("contragentTypes", Kind::Texts),
    ("contragentInn", Kind::Text),
    ("contragentKpp", Kind::Text),
    ("contragentBik", Kind::Text),
    ("contragentCorrAccount", Kind::Text),
    ("contragentBankAccount", Kind::Text),
    ("sourceName", Kind::Text),
    ("mediumName", Kind::Text),
    ("campaignName", Kind::Text),
    ("keywordName", Kind::Text),
    ("adContentName", Kind::Text),
    ("maxCostSumm", Kind::Number),
    ("firstWebVisitTo", Kind::Text),
    ("lastWebVisitTo", Kind::Text),
    ("subscriptions", Kind::Text),
];

/// The `filter[…]` keys of `GET /api/v5/customers/history` and what each holds.
pub(super) const HISTORY_FILTER: &[(&str, Kind)] = &[
    ("sinceId", Kind::Integer),
    ("startDate", Kind::DateTime),
    ("endDate", Kind::DateTime),
    ("customerId", Kind::Integer),
    ("customerExternalId", Kind::Text),
];

/// `GET /api/v5/customers`.
pub async fn list(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let page = crm.default_page()?;
    let filter = crm.filter()?;
    let zone = &state.config.zone;
    let (mut f, segment) = read_filter(&filter, &crm.sites, zone, Some(&crm.input))?;
    if let Some(code) = segment {
        match segment_filter(&state, &code, &crm.sites).await? {
            Some(inner) => f.within.push(inner),
            None => f.nothing = true,
        }
    }
    let (rows, total) = state.store.list_customers(&f, page).await?;
    let customers: Vec<_> = rows.iter().map(|(c, s)| render::customer(c, Some(s), zone)).collect();
    answer(StatusCode::OK, Object::new().with("pagination", pagination(page.meta(total))).with("customers", customers))
}

/// The filter of segment `code` as the customers of `sites` it selects; `None` when there is no such
/// segment. A stored filter the list would refuse selects nobody (and is logged).
pub(super) async fn segment_filter(
    state: &AppState,
    code: &str,
    sites: &[String],
) -> Result<Option<CustomerFilter>, CrmError> {
    let Some(segment) = state.store.segment_by_code(code).await? else { return Ok(None) };
    Ok(Some(stored_filter(&segment, sites, &state.config.zone)))
}

/// A segment's stored filter read as the customer list reads its own.
pub(super) fn stored_filter(
    segment: &torg_domain::loyalty::Segment,
    sites: &[String],
    zone: &torg_domain::time::Zone,
) -> CustomerFilter {
    match read_filter(&as_query(&segment.filter), sites, zone, None) {
        Ok((f, _)) => f,
        Err(e) => {
            tracing::warn!(segment = %segment.code, error = ?e, "segment filter refused");
            CustomerFilter { sites: sites.to_vec(), nothing: true, ..CustomerFilter::default() }
        }
    }
}

/// Checks a segment's filter as the customer list would read it; the message on refusal.
pub fn check_segment_filter(filter: &Map<String, Value>) -> Result<(), String> {
    let zone = torg_domain::time::Zone(jiff::tz::TimeZone::UTC);
    match read_filter(&as_query(filter), &[], &zone, None) {
        Ok(_) => Ok(()),
        Err(e) if e.is_access_denied() => Ok(()),
        Err(e) => Err(e.describe()),
    }
}

/// A stored filter as a query string would carry it: numbers and flags as text (`1`/`0`).
fn as_query(filter: &Map<String, Value>) -> Map<String, Value> {
    fn text(v: &Value) -> Value {
        match v {
            Value::Bool(b) => Value::String(if *b { "1" } else { "0" }.into()),
            Value::Number(n) => Value::String(n.to_string()),
            Value::Array(a) => Value::Array(a.iter().map(text).collect()),
            Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), text(v))).collect()),
            other => other.clone(),
        }
    }
    filter.iter().map(|(k, v)| (k.clone(), text(v))).collect()
}

/// Reads the customer list's `filter` for a key reaching `allowed` sites: the store's filter and the
/// segment code asked for, if any.
fn read_filter(
    filter: &Map<String, Value>,
    allowed: &[String],
    zone: &torg_domain::time::Zone,
    input: Option<&Input>,
) -> Result<(CustomerFilter, Option<String>), CrmError> {
    reject_extra_keys(filter, LIST_FILTER)?;
    let mut r = FilterReader::new(filter, zone);
    if let Some(input) = input {
        r = r.noting(input);
    }
    let wanted = r.texts("sites");
    if wanted.iter().any(|s| !allowed.contains(s)) {
        return Err(CrmError::access_denied());
    }
    let segment = r.text("segment");
    let mut tags = r.texts("tags");
    tags.extend(r.texts("attachedTags"));
    // Keys for what torg keeps nothing of (class segments, web analytics, MessageGateway channels): a
    // condition only "none" meets matches every customer, any other matches none. Each is read (and
    // so checked) whatever the others say.
    let nothing = [
        absent_value(&r, "classSegment"),
        absent_flag(&mut r, "online"),
        absent_dates(&mut r, "firstWebVisitFrom", "firstWebVisitTo"),
        absent_dates(&mut r, "lastWebVisitFrom", "lastWebVisitTo"),
        !r.ints("mgChannels").is_empty(),
    ]
    .contains(&true);
    let f = CustomerFilter {
        sites: if wanted.is_empty() { allowed.to_vec() } else { wanted },
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
        notes: r.text("notes"),
        average_summ: (r.decimal("minAverageSumm"), r.decimal("maxAverageSumm")),
        countries: r.texts("countries"),
        email_unsubscribed: r.flag("emailMarketingUnsubscribed"),
        attachments: r.flag("attachments"),
        discount_card: r.text("discountCardNumber"),
        contragent: contragent(&r),
        manager_groups: r.texts("managerGroups"),
        first_order_from: r.date_from("firstOrderFrom"),
        first_order_to: r.date_to("firstOrderTo"),
        last_order_from: r.date_from("lastOrderFrom"),
        last_order_to: r.date_to("lastOrderTo"),
        browser_id: r.text("browserId"),
        commentary: r.text("commentary"),
        source: source(&r),
        mg_customer_id: r.text("mgCustomerId"),
        tags,
        subscriptions: subscriptions(&mut r),
        is_contact: r.flag("isContact"),
        tasks: tasks_counts(&mut r),
        cost_summ: (r.decimal("minCostSumm"), r.decimal("maxCostSumm")),
        nothing,
        within: Vec::new(),
    };
    r.finish()?;
    Ok((f, segment))
}

/// Refuses keys a list's filter form does not have (`known`, separated by white space), as RetailCRM's
/// forms do (Symfony forms without extra fields): 400 `Errors in the input parameters`, the form's own
/// message under `filter` and one per key under `filter[key]`.
pub(super) fn reject_extra_keys(filter: &Map<String, Value>, known: &[(&str, Kind)]) -> Result<(), CrmError> {
    let extra: Vec<&String> = filter.keys().filter(|k| !known.iter().any(|(n, _)| n == k)).collect();
    if extra.is_empty() {
        return Ok(());
    }
    let mut errors = Map::new();
    errors.insert("filter".into(), json!("This form should not contain extra fields."));
    for k in extra {
        errors.insert(format!("filter[{k}]"), json!("This field was not expected."));
    }
    Err(CrmError::new(StatusCode::BAD_REQUEST, "Errors in the input parameters").with_errors(Value::Object(errors)))
}

/// A flag asking for what torg keeps nothing of: `1` matches nothing, `0` everything.
pub(super) fn absent_flag(r: &mut FilterReader<'_>, key: &str) -> bool {
    r.flag(key) == Some(true)
}

/// A value naming what torg keeps nothing of (a segment, a channel, a receipt status): any matches nothing.
pub(super) fn absent_value(r: &FilterReader<'_>, key: &str) -> bool {
    !r.texts(key).is_empty()
}

/// A date range over what torg keeps nothing of (web visits, DPD parcels): either end, once checked,
/// matches nothing.
pub(super) fn absent_dates(r: &mut FilterReader<'_>, from: &str, to: &str) -> bool {
    let from = r.date_from(from).is_some();
    let to = r.date_to(to).is_some();
    from || to
}

/// `tasksCounts` (PHP's `TasksCountsStatus`): 1 no task left to do, 2 a task left to do, 3 a task left
/// to do past its deadline (by the configured zone's clock, as deadlines are kept).
pub(super) fn tasks_counts(r: &mut FilterReader<'_>) -> Option<TaskCondition> {
    match r.int("tasksCounts")? {
        1 => Some(TaskCondition::NoneOpen),
        2 => Some(TaskCondition::Open),
        3 => {
            let now = r.zone.datetime(torg_domain::time::now());
            Some(TaskCondition::Overdue(now.get(..16).unwrap_or(&now).to_string()))
        }
        _ => {
            r.errors.insert(
                "filter[tasksCounts]".into(),
                "The value you selected is not a valid choice. Allowed: 1, 2, 3.".into(),
            );
            None
        }
    }
}

/// `contragentName`, `contragentTypes`, `contragentInn`, … of a list filter.
pub(super) fn contragent(r: &FilterReader<'_>) -> ContragentFilter {
    ContragentFilter {
        name: r.text("contragentName"),
        types: r.texts("contragentTypes"),
        inn: r.text("contragentInn"),
        kpp: r.text("contragentKpp"),
        bik: r.text("contragentBik"),
        corr_account: r.text("contragentCorrAccount"),
        bank_account: r.text("contragentBankAccount"),
    }
}

/// `sourceName`, `mediumName`, `campaignName`, `keywordName`, `adContentName` of a list filter.
pub(super) fn source(r: &FilterReader<'_>) -> SourceFilter {
    SourceFilter {
        source: r.text("sourceName"),
        medium: r.text("mediumName"),
        campaign: r.text("campaignName"),
        keyword: r.text("keywordName"),
        content: r.text("adContentName"),
    }
}

/// `subscriptions[i][channel|subscription|subscribed]` (PHP's `CustomerSubscriptionFilter`).
fn subscriptions(r: &mut FilterReader<'_>) -> Vec<SubscriptionCondition> {
    let mut out = Vec::new();
    for (i, v) in r.get("subscriptions").map(as_list).unwrap_or_default().into_iter().enumerate() {
        let Value::Object(m) = v else {
            r.errors.insert(format!("filter[subscriptions][{i}]"), "This value should be of type array.".into());
            continue;
        };
        let text = |k: &str| m.get(k).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
        let (Some(channel), Some(subscription)) = (text("channel"), text("subscription")) else {
            r.errors
                .insert(format!("filter[subscriptions][{i}]"), "Both channel and subscription are required.".into());
            continue;
        };
        let subscribed = match m.get("subscribed").filter(|v| !is_none_literal(v)) {
            None => true,
            Some(v) => match as_bool(v) {
                Some(b) => b,
                None => {
                    r.errors.insert(
                        format!("filter[subscriptions][{i}][subscribed]"),
                        "This value should be 0 or 1.".into(),
                    );
                    continue;
                }
            },
        };
        out.push(SubscriptionCondition { channel: channel.into(), subscription: subscription.into(), subscribed });
    }
    out
}

/// `POST /api/v5/customers/create`: 201 with the new id.
pub async fn create(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let doc = crm.json_object("customer")?;
    let site = crm.site()?;
    let c = state.store.create_customer(&site, &doc, crm.actor()).await?;
    ok(StatusCode::CREATED, json!({ "id": c.id }))
}

/// The customer a path names, by `by`.
pub(super) fn lookup(crm: &Crm, uid: &str) -> Result<CustomerLookup, CrmError> {
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
            answer(StatusCode::OK, Object::new().with("customer", render::customer(&c, Some(&s), &state.config.zone)))
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
    let mut r = FilterReader::new(&filter, &state.config.zone).noting(&crm.input);
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
