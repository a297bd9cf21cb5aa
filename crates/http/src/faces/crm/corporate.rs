//! Corporate customers (`customers-corporate`): list, create, get, edit, upload, fix-external-ids,
//! history, combine, and each one's addresses, companies and contacts (notes are in `notes.rs`).
//! The decisions where RetailCRM's behaviour is not public are in `docs/crm.md`.

use super::customers::{absent_flag, absent_value, contragent, history_filter, id_pairs, lookup, tasks_counts};
use super::entities;
use super::scope::{CUSTOMER_READ, CUSTOMER_WRITE};
use super::{Crm, CrmError, CrmResult, FilterReader, ok, pagination, render, upload_answer};
use crate::AppState;
use crate::kit::{BY, Field, Kind, PAGING, Route, SITE};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use torg_domain::corporate::{Company, CorporateAddress, EntityRef};
use torg_domain::time::Zone;
use torg_store::{ContactView, CorporateFilter, CorporateView, MemberFilter, TaskCondition};

/// Most corporate customers one upload takes.
const UPLOAD_CAP: usize = 50;

/// The `filter[…]` keys of `GET /api/v5/customers-corporate` and what each holds.
pub(super) const LIST_FILTER: &[(&str, Kind)] = &[
    ("sites", Kind::Texts),
    ("minCostSumm", Kind::Number),
    ("maxCostSumm", Kind::Number),
    ("name", Kind::Text),
    ("companyName", Kind::Text),
    ("ids", Kind::Integers),
    ("externalIds", Kind::Texts),
    ("city", Kind::Text),
    ("region", Kind::Text),
    ("email", Kind::Text),
    ("notes", Kind::Text),
    ("managers", Kind::Integers),
    ("managerGroups", Kind::Texts),
    ("contactIds", Kind::Integers),
    ("dateFrom", Kind::DateTime),
    ("dateTo", Kind::DateTime),
    ("vip", Kind::Boolean),
    ("bad", Kind::Boolean),
    ("discountCardNumber", Kind::Text),
    ("minOrdersCount", Kind::Integer),
    ("maxOrdersCount", Kind::Integer),
    ("minTotalSumm", Kind::Number),
    ("maxTotalSumm", Kind::Number),
    ("minAverageSumm", Kind::Number),
    ("maxAverageSumm", Kind::Number),
    ("firstOrderFrom", Kind::DateTime),
    ("firstOrderTo", Kind::DateTime),
    ("lastOrderFrom", Kind::DateTime),
    ("lastOrderTo", Kind::DateTime),
    ("customFields", Kind::Object),
    ("classSegment", Kind::Text),
    ("attachments", Kind::Text),
    ("tasksCounts", Kind::Integer),
    ("contragentName", Kind::Text),
    ("contragentTypes", Kind::Texts),
    ("contragentInn", Kind::Text),
    ("contragentKpp", Kind::Text),
    ("contragentBik", Kind::Text),
    ("contragentCorrAccount", Kind::Text),
    ("contragentBankAccount", Kind::Text),
];

/// The `filter[…]` keys of `GET /api/v5/customers-corporate/history` and what each holds.
pub(super) const HISTORY_FILTER: &[(&str, Kind)] = &[
    ("contactIds", Kind::Integers),
    ("sinceId", Kind::Integer),
    ("startDate", Kind::DateTime),
    ("endDate", Kind::DateTime),
    ("customerId", Kind::Integer),
    ("customerExternalId", Kind::Text),
];

/// The `filter[…]` keys of `GET /api/v5/customers-corporate/{externalId}/addresses` and what each holds.
pub(super) const ADDRESSES_FILTER: &[(&str, Kind)] = &[
    ("ids", Kind::Integers),
    ("externalIds", Kind::Texts),
    ("name", Kind::Text),
    ("city", Kind::Text),
    ("region", Kind::Text),
];

/// The `filter[…]` keys of `GET /api/v5/customers-corporate/{externalId}/companies` and what each holds.
pub(super) const COMPANIES_FILTER: &[(&str, Kind)] = &[
    ("ids", Kind::Integers),
    ("externalIds", Kind::Texts),
    ("name", Kind::Text),
    ("city", Kind::Text),
    ("region", Kind::Text),
];

/// The `filter[…]` keys of `GET /api/v5/customers-corporate/{externalId}/contacts` and what each holds.
pub(super) const CONTACTS_FILTER: &[(&str, Kind)] = &[
    ("ids", Kind::Integers),
    ("externalIds", Kind::Texts),
    ("name", Kind::Text),
    ("city", Kind::Text),
    ("region", Kind::Text),
];

/// The group's routes; static segments (`history`, `notes`, `combine`) win over `{externalId}`.
pub fn routes() -> Vec<Route> {
    const TAG: &str = "customers-corporate";
    vec![
        Route::get("/api/v5/customers-corporate", CUSTOMER_READ, list)
            .doc(TAG, "list_corporate_customers", "Corporate customers, filtered and paged")
            .answers(&[Field::object("pagination").required(), Field::list("customersCorporate").required()])
            .fields(&[Field::filter(LIST_FILTER), PAGING[0], PAGING[1]]),
        Route::post("/api/v5/customers-corporate/create", CUSTOMER_WRITE, create)
            .idempotent()
            .doc(
                TAG,
                "create_corporate_customer",
                "Create a corporate customer with its addresses, companies and contacts",
            )
            .answers(&[Field::int("id").required()])
            .fields(&[Field::entity("customerCorporate", super::entities::CORPORATE).required(), SITE]),
        Route::post("/api/v5/customers-corporate/upload", CUSTOMER_WRITE, upload)
            .idempotent()
            .doc(TAG, "upload_corporate_customers", "Create up to 50 corporate customers")
            .answers(&super::UPLOADED_CUSTOMERS)
            .fields(&[Field::entities("customersCorporate", super::entities::CORPORATE).required(), SITE]),
        Route::post("/api/v5/customers-corporate/fix-external-ids", CUSTOMER_WRITE, fix_external_ids)
            .doc(TAG, "fix_corporate_customer_external_ids", "Set corporate customers' external ids")
            .fields(&[Field::entities("customersCorporate", super::entities::ID_PAIR).required()]),
        Route::get("/api/v5/customers-corporate/history", CUSTOMER_READ, history)
            .doc(TAG, "list_corporate_customer_history", "Corporate customer changes since an id or date")
            .answers(&[
                Field::new("generatedAt", Kind::DateTime).required(),
                Field::list("history").required(),
                Field::object("pagination").required(),
            ])
            .fields(&[Field::filter(HISTORY_FILTER), PAGING[0], PAGING[1]]),
        Route::post("/api/v5/customers-corporate/combine", CUSTOMER_WRITE, combine)
            .doc(TAG, "combine_corporate_customers", "Combine corporate customers into one")
            .fields(&[
                Field::entity("resultCustomer", entities::ID).required(),
                Field::entities("customers", entities::ID).required(),
            ]),
        Route::get("/api/v5/customers-corporate/{externalId}", CUSTOMER_READ, get)
            .doc(TAG, "get_corporate_customer", "One corporate customer by externalId or id (`by`)")
            .answers(&[Field::object("customerCorporate").required()])
            .fields(&[SITE, BY]),
        Route::post("/api/v5/customers-corporate/{externalId}/edit", CUSTOMER_WRITE, edit)
            .doc(TAG, "edit_corporate_customer", "Change a corporate customer's given fields")
            .answers(&[Field::int("id").required()])
            .fields(&[
                Field::entity("customerCorporate", super::entities::CORPORATE)
                    .about("The changes; `customersCorporate` is read too."),
                Field::entity("customersCorporate", super::entities::CORPORATE),
                SITE,
                BY,
            ]),
        Route::get("/api/v5/customers-corporate/{externalId}/addresses", CUSTOMER_READ, addresses)
            .doc(TAG, "list_corporate_customer_addresses", "A corporate customer's addresses")
            .answers(&[Field::list("addresses").required(), Field::object("pagination").required()])
            .fields(&[Field::filter(ADDRESSES_FILTER), PAGING[0], PAGING[1], SITE, BY]),
        Route::post("/api/v5/customers-corporate/{externalId}/addresses/create", CUSTOMER_WRITE, address_create)
            .idempotent()
            .doc(TAG, "create_corporate_customer_address", "Add an address to a corporate customer")
            .answers(&[Field::int("id").required()])
            .fields(&[Field::entity("address", super::entities::CORPORATE_ADDRESS).required(), SITE, BY]),
        Route::post("/api/v5/customers-corporate/{externalId}/addresses/{entity}/edit", CUSTOMER_WRITE, address_edit)
            .doc(TAG, "edit_corporate_customer_address", "Change an address of a corporate customer (`entityBy`)")
            .answers(&[Field::int("id").required()])
            .fields(&[
                Field::entity("address", super::entities::CORPORATE_ADDRESS).required(),
                Field::text("entityBy"),
                SITE,
                BY,
            ]),
        Route::get("/api/v5/customers-corporate/{externalId}/companies", CUSTOMER_READ, companies)
            .doc(TAG, "list_corporate_customer_companies", "A corporate customer's companies")
            .answers(&[Field::list("companies").required(), Field::object("pagination").required()])
            .fields(&[Field::filter(COMPANIES_FILTER), PAGING[0], PAGING[1], SITE, BY]),
        Route::post("/api/v5/customers-corporate/{externalId}/companies/create", CUSTOMER_WRITE, company_create)
            .idempotent()
            .doc(TAG, "create_corporate_customer_company", "Add a company to a corporate customer")
            .answers(&[Field::int("id").required()])
            .fields(&[Field::entity("company", super::entities::COMPANY).required(), SITE, BY]),
        Route::post("/api/v5/customers-corporate/{externalId}/companies/{entity}/edit", CUSTOMER_WRITE, company_edit)
            .doc(TAG, "edit_corporate_customer_company", "Change a company of a corporate customer (`entityBy`)")
            .answers(&[Field::int("id").required()])
            .fields(&[
                Field::entity("company", super::entities::COMPANY).required(),
                Field::text("entityBy"),
                SITE,
                BY,
            ]),
        Route::get("/api/v5/customers-corporate/{externalId}/contacts", CUSTOMER_READ, contacts)
            .doc(TAG, "list_corporate_customer_contacts", "A corporate customer's contact persons")
            .answers(&[Field::list("contacts").required(), Field::object("pagination").required()])
            .fields(&[Field::filter(CONTACTS_FILTER), PAGING[0], PAGING[1], SITE, BY]),
        Route::post("/api/v5/customers-corporate/{externalId}/contacts/create", CUSTOMER_WRITE, contact_create)
            .idempotent()
            .doc(TAG, "create_corporate_customer_contact", "Make a customer a contact person of a corporate customer")
            .answers(&[Field::int("id").required()])
            .fields(&[Field::entity("contact", super::entities::CONTACT).required(), SITE, BY]),
        Route::post("/api/v5/customers-corporate/{externalId}/contacts/{entity}/edit", CUSTOMER_WRITE, contact_edit)
            .doc(TAG, "edit_corporate_customer_contact", "Change a contact person of a corporate customer (`entityBy`)")
            .answers(&[Field::int("id").required()])
            .fields(&[
                Field::entity("contact", super::entities::CONTACT).required(),
                Field::text("entityBy"),
                SITE,
                BY,
            ]),
    ]
}

/// `GET /api/v5/customers-corporate`.
async fn list(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let page = crm.default_page()?;
    let filter = crm.filter()?;
    super::customers::reject_extra_keys(&filter, LIST_FILTER)?;
    let zone = &state.config.zone;
    let mut r = FilterReader::new(&filter, zone).noting(&crm.input);
    let wanted = r.texts("sites");
    if wanted.iter().any(|s| !crm.sites.contains(s)) {
        return Err(CrmError::access_denied());
    }
    // What torg keeps nothing of for corporate customers (class segments, files, tasks: files and
    // tasks attach to orders and individual customers): a condition only "none" meets matches
    // everything, any other nothing.
    let nothing = [
        absent_value(&r, "classSegment"),
        absent_flag(&mut r, "attachments"),
        matches!(tasks_counts(&mut r), Some(TaskCondition::Open | TaskCondition::Overdue(_))),
    ]
    .contains(&true);
    let mut name = r.text("name");
    if name.is_none() {
        name = r.text("companyName");
    }
    let f = CorporateFilter {
        sites: if wanted.is_empty() { crm.sites.clone() } else { wanted },
        ids: r.ints("ids"),
        external_ids: r.texts("externalIds"),
        name,
        city: r.text("city"),
        region: r.text("region"),
        email: r.text("email"),
        notes: r.text("notes"),
        managers: r.ints("managers"),
        manager_groups: r.texts("managerGroups"),
        contact_ids: r.ints("contactIds"),
        created_from: r.date_from("dateFrom"),
        created_to: r.date_to("dateTo"),
        vip: r.flag("vip"),
        bad: r.flag("bad"),
        discount_card: r.text("discountCardNumber"),
        contragent: contragent(&r),
        orders_count: (r.int("minOrdersCount"), r.int("maxOrdersCount")),
        total_summ: (r.decimal("minTotalSumm"), r.decimal("maxTotalSumm")),
        average_summ: (r.decimal("minAverageSumm"), r.decimal("maxAverageSumm")),
        first_order: (r.date_from("firstOrderFrom"), r.date_to("firstOrderTo")),
        last_order: (r.date_from("lastOrderFrom"), r.date_to("lastOrderTo")),
        custom_fields: r.custom_fields(),
        cost_summ: (r.decimal("minCostSumm"), r.decimal("maxCostSumm")),
        nothing,
    };
    r.finish()?;
    let (rows, total) = state.store.list_corporate(&f, page).await?;
    let list: Vec<Value> = rows.iter().map(|v| corporate(v, zone)).collect();
    ok(StatusCode::OK, json!({ "pagination": pagination(page.meta(total)), "customersCorporate": list }))
}

/// `POST /api/v5/customers-corporate/create`: 201 with the new id.
async fn create(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let doc = crm.json_object("customerCorporate")?;
    let site = crm.site()?;
    let c = state.store.create_corporate(&site, &doc, crm.actor()).await?;
    ok(StatusCode::CREATED, json!({ "id": c.id }))
}

/// `POST /api/v5/customers-corporate/upload`: 200 when all went in, 460 with both lists when some did not.
async fn upload(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let docs = crm.json_list("customersCorporate", UPLOAD_CAP)?;
    let site = crm.site()?;
    let out = state.store.upload_corporate(&site, &docs, crm.actor()).await?;
    upload_answer(&out, "Customers", None)
}

/// `POST /api/v5/customers-corporate/fix-external-ids`.
async fn fix_external_ids(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let pairs = id_pairs(&crm, "customersCorporate")?;
    state.store.fix_corporate_external_ids(&pairs, &crm.sites, crm.actor()).await?;
    ok(StatusCode::OK, json!({}))
}

/// `GET /api/v5/customers-corporate/{externalId}`.
async fn get(State(state): State<AppState>, Path(uid): Path<String>, crm: Crm) -> CrmResult {
    let lookup = lookup(&crm, &uid)?;
    match state.store.get_corporate(&lookup).await? {
        Some(v) if crm.sites.contains(&v.customer.site) => {
            ok(StatusCode::OK, json!({ "customerCorporate": corporate(&v, &state.config.zone) }))
        }
        _ => {
            let parts = match &lookup {
                torg_store::CustomerLookup::Id(id) => (Some(*id), None),
                torg_store::CustomerLookup::ExternalId { site, external_id } => {
                    (None, Some((site.clone(), external_id.clone())))
                }
            };
            Err(super::not_found_or_combined(&state, "customer_corporate", &parts).await)
        }
    }
}

/// `POST /api/v5/customers-corporate/{externalId}/edit`. The document is `customerCorporate`; the
/// Python client 5.3.0 sends it as `customersCorporate`, which is read too.
async fn edit(State(state): State<AppState>, Path(uid): Path<String>, crm: Crm) -> CrmResult {
    let field = if crm.input.param("customerCorporate").is_none() && crm.input.param("customersCorporate").is_some() {
        "customersCorporate"
    } else {
        "customerCorporate"
    };
    let doc = crm.json_object(field)?;
    let lookup = lookup(&crm, &uid)?;
    let c = state.store.edit_corporate(&lookup, &doc, crm.actor(), &crm.sites).await?;
    ok(StatusCode::OK, json!({ "id": c.id }))
}

/// `GET /api/v5/customers-corporate/history`: records in number order, each with the corporate
/// customer (Go's `CorporateCustomerHistoryRecord`) and, for a change of one of its members, that
/// member as `address`, `company` or `customerContact`.
async fn history(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let (f, page) = history_filter(&crm, &state, "customerId", "customerExternalId")?;
    let filter = crm.filter()?;
    let mut r = FilterReader::new(&filter, &state.config.zone).noting(&crm.input);
    let contacts = r.ints("contactIds");
    r.finish()?;
    let (records, total) = state.store.corporate_history(&f, &contacts, page).await?;
    let zone = &state.config.zone;
    let history: Vec<Value> = records
        .iter()
        .map(|h| {
            let mut v = render::history(h, crm.key.id, "corporateCustomer", zone, |snap| {
                let mut v = snap.clone();
                if let Some(t) = v.get("createdAt").and_then(Value::as_i64) {
                    v["createdAt"] = json!(zone.datetime(t));
                }
                v["type"] = json!("customer_corporate");
                v
            });
            if let (Some(m), Some(field)) = (v.as_object_mut(), h.field.as_deref()) {
                let member = match field.split('.').next() {
                    Some("address") => "address",
                    Some("company") => "company",
                    _ => "customerContact",
                };
                if let Some(item) = m.remove("item") {
                    m.insert(member.into(), item);
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

/// `POST /api/v5/customers-corporate/combine`: `customers` (a list of `{id}`) go into `resultCustomer` (`{id}`).
async fn combine(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let list = crm.json_list("customers", 50)?;
    let id_of = |m: &Map<String, Value>, field: String| {
        m.get("id")
            .and_then(crate::params::as_i64)
            .ok_or_else(|| super::field_error(format!("{field}.id"), "This value should not be blank."))
    };
    let mut sources = Vec::with_capacity(list.len());
    for (i, m) in list.iter().enumerate() {
        let id = id_of(m, format!("customers[{i}]"))?;
        if !sources.contains(&id) {
            sources.push(id);
        }
    }
    let result = id_of(&crm.json_object("resultCustomer")?, "resultCustomer".into())?;
    state.store.combine_corporate(&sources, result, crm.actor(), &crm.sites).await?;
    ok(StatusCode::OK, json!({}))
}

/// `entityBy`: how the path names an address, company or contact (`externalId`, the default, or `id`).
fn entity_ref(crm: &Crm, entity: &str) -> Result<EntityRef, CrmError> {
    match crm.input.text("entityBy").as_deref() {
        None | Some("externalId") => Ok(EntityRef::ExternalId(entity.to_string())),
        Some("id") => entity.parse().map(EntityRef::Id).map_err(|_| CrmError::not_found()),
        Some(_) => Err(CrmError::parameter(
            "entityBy",
            "The value you selected is not a valid choice. Allowed: id, externalId.",
        )),
    }
}

/// The filter of a member list: `ids`, `externalIds`, `name`, `city`, `region` (each list reads
/// what applies to it).
fn member_filter(crm: &Crm, state: &AppState) -> Result<MemberFilter, CrmError> {
    let filter = crm.filter()?;
    let mut r = FilterReader::new(&filter, &state.config.zone).noting(&crm.input);
    let f = MemberFilter {
        ids: r.ints("ids"),
        external_ids: r.texts("externalIds"),
        name: r.text("name"),
        city: r.text("city"),
        region: r.text("region"),
    };
    r.finish()?;
    Ok(f)
}

/// `GET /api/v5/customers-corporate/{externalId}/addresses`.
async fn addresses(State(state): State<AppState>, Path(uid): Path<String>, crm: Crm) -> CrmResult {
    let page = crm.default_page()?;
    let f = member_filter(&crm, &state)?;
    let (list, total) = state.store.corporate_addresses(&lookup(&crm, &uid)?, &crm.sites, &f, page).await?;
    let list: Vec<Value> = list.iter().map(address).collect();
    ok(StatusCode::OK, json!({ "addresses": list, "pagination": pagination(page.meta(total)) }))
}

/// `POST /api/v5/customers-corporate/{externalId}/addresses/create`: 201 with the address's id.
async fn address_create(State(state): State<AppState>, Path(uid): Path<String>, crm: Crm) -> CrmResult {
    let doc = member_doc(&crm, "address", &uid)?;
    let id = state.store.create_corporate_address(&lookup(&crm, &uid)?, &crm.sites, &doc, crm.actor()).await?;
    ok(StatusCode::CREATED, json!({ "id": id }))
}

/// `POST /api/v5/customers-corporate/{externalId}/addresses/{entity}/edit`.
async fn address_edit(
    State(state): State<AppState>,
    Path((uid, entity)): Path<(String, String)>,
    crm: Crm,
) -> CrmResult {
    let doc = crm.json_object("address")?;
    let r = entity_ref(&crm, &entity)?;
    let id = state.store.edit_corporate_address(&lookup(&crm, &uid)?, &crm.sites, &r, &doc, crm.actor()).await?;
    ok(StatusCode::OK, json!({ "id": id }))
}

/// `GET /api/v5/customers-corporate/{externalId}/companies`.
async fn companies(State(state): State<AppState>, Path(uid): Path<String>, crm: Crm) -> CrmResult {
    let page = crm.default_page()?;
    let f = member_filter(&crm, &state)?;
    let (list, total) = state.store.corporate_companies(&lookup(&crm, &uid)?, &crm.sites, &f, page).await?;
    let zone = &state.config.zone;
    let list: Vec<Value> = list.iter().map(|c| company(c, &[], zone)).collect();
    ok(StatusCode::OK, json!({ "companies": list, "pagination": pagination(page.meta(total)) }))
}

/// `POST /api/v5/customers-corporate/{externalId}/companies/create`: 201 with the company's id.
async fn company_create(State(state): State<AppState>, Path(uid): Path<String>, crm: Crm) -> CrmResult {
    let doc = member_doc(&crm, "company", &uid)?;
    let id = state.store.create_corporate_company(&lookup(&crm, &uid)?, &crm.sites, &doc, crm.actor()).await?;
    ok(StatusCode::CREATED, json!({ "id": id }))
}

/// `POST /api/v5/customers-corporate/{externalId}/companies/{entity}/edit`.
async fn company_edit(
    State(state): State<AppState>,
    Path((uid, entity)): Path<(String, String)>,
    crm: Crm,
) -> CrmResult {
    let doc = crm.json_object("company")?;
    let r = entity_ref(&crm, &entity)?;
    let id = state.store.edit_corporate_company(&lookup(&crm, &uid)?, &crm.sites, &r, &doc, crm.actor()).await?;
    ok(StatusCode::OK, json!({ "id": id }))
}

/// `GET /api/v5/customers-corporate/{externalId}/contacts`.
async fn contacts(State(state): State<AppState>, Path(uid): Path<String>, crm: Crm) -> CrmResult {
    let page = crm.default_page()?;
    let f = member_filter(&crm, &state)?;
    let (list, total) = state.store.corporate_contacts(&lookup(&crm, &uid)?, &crm.sites, &f, page).await?;
    let list: Vec<Value> = list.iter().map(contact).collect();
    ok(StatusCode::OK, json!({ "contacts": list, "pagination": pagination(page.meta(total)) }))
}

/// `POST /api/v5/customers-corporate/{externalId}/contacts/create`: 201 with the contact's customer id.
async fn contact_create(State(state): State<AppState>, Path(uid): Path<String>, crm: Crm) -> CrmResult {
    let doc = member_doc(&crm, "contact", &uid)?;
    let id = state.store.create_corporate_contact(&lookup(&crm, &uid)?, &crm.sites, &doc, crm.actor()).await?;
    ok(StatusCode::CREATED, json!({ "id": id }))
}

/// `POST /api/v5/customers-corporate/{externalId}/contacts/{entity}/edit`: the contact is named by its
/// individual customer's external id or id (`entityBy`).
async fn contact_edit(
    State(state): State<AppState>,
    Path((uid, entity)): Path<(String, String)>,
    crm: Crm,
) -> CrmResult {
    let doc = crm.json_object("contact")?;
    let r = entity_ref(&crm, &entity)?;
    let id = state.store.edit_corporate_contact(&lookup(&crm, &uid)?, &crm.sites, &r, &doc, crm.actor()).await?;
    ok(StatusCode::OK, json!({ "id": id }))
}

/// A member's document for a create. The Python client 5.3.0 builds the path from the document's own
/// `externalId` (or `id` with `by=id`), so a document whose identifier equals the path's is the
/// client naming the corporate customer, not the member: that member is dropped.
fn member_doc(crm: &Crm, field: &str, uid: &str) -> Result<Map<String, Value>, CrmError> {
    let mut doc = crm.json_object(field)?;
    let key = if crm.by_id()? { "id" } else { "externalId" };
    let same = match doc.get(key) {
        Some(Value::String(s)) => s == uid,
        Some(Value::Number(n)) => n.to_string() == uid,
        _ => false,
    };
    if same {
        doc.remove(key);
    }
    Ok(doc)
}

/// A corporate customer as RetailCRM shows it, with its addresses, companies and contacts and the
/// main one of each.
pub fn corporate(v: &CorporateView, zone: &Zone) -> Value {
    let c = &v.customer;
    let mut m = match serde_json::to_value(c) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    m.insert("type".into(), json!("customer_corporate"));
    m.insert("id".into(), json!(c.id));
    m.insert("site".into(), json!(c.site));
    m.insert("createdAt".into(), json!(zone.datetime(c.created_at)));
    let s = &v.stats;
    m.insert("ordersCount".into(), json!(s.orders_count));
    m.insert("totalSumm".into(), json!(s.total_summ));
    let avg =
        if s.orders_count > 0 { (s.total_summ / Decimal::from(s.orders_count)).round_dp(2) } else { Decimal::ZERO };
    m.insert("averageSumm".into(), json!(avg));
    m.insert("marginSumm".into(), json!(s.margin_summ));
    m.insert("costSumm".into(), json!(s.cost_summ));
    m.entry("personalDiscount").or_insert(json!(0));
    m.insert("addresses".into(), v.addresses.iter().map(address).collect());
    m.insert("companies".into(), v.companies.iter().map(|x| company(x, &v.addresses, zone)).collect());
    m.insert("customerContacts".into(), v.contacts.iter().map(contact).collect());
    if let Some(a) = v.addresses.iter().find(|a| a.is_main) {
        m.insert("mainAddress".into(), json!({ "id": a.id, "externalId": a.external_id, "name": a.name }));
    }
    if let Some(x) = v.companies.iter().find(|x| x.is_main) {
        m.insert("mainCompany".into(), json!({ "id": x.id, "externalId": x.external_id, "name": x.name }));
    }
    if let Some(x) = v.contacts.iter().find(|x| x.contact.is_main) {
        m.insert(
            "mainCustomerContact".into(),
            json!({ "id": x.contact.id, "customer": { "id": x.contact.customer_id, "externalId": x.customer_external_id } }),
        );
    }
    Value::Object(m)
}

/// An address as RetailCRM shows it.
fn address(a: &CorporateAddress) -> Value {
    let mut v = json!(a);
    v["id"] = json!(a.id);
    v
}

/// A company as RetailCRM shows it; its address by id (and external id, when among `addresses`).
fn company(c: &Company, addresses: &[CorporateAddress], zone: &Zone) -> Value {
    let mut v = json!(c);
    v["id"] = json!(c.id);
    v["createdAt"] = json!(zone.datetime(c.created_at));
    if let Some(a) = c.address_id {
        let ext = addresses.iter().find(|x| x.id == a).and_then(|x| x.external_id.clone());
        v["address"] = json!({ "id": a, "externalId": ext });
    }
    v
}

/// A contact as RetailCRM shows it: the customer and the companies the contact acts for.
fn contact(x: &ContactView) -> Value {
    let companies: Vec<Value> = x
        .companies
        .iter()
        .map(|(id, ext, name)| json!({ "id": id, "externalId": ext, "company": { "id": id, "externalId": ext, "name": name } }))
        .collect();
    json!({
        "id": x.contact.id,
        "isMain": x.contact.is_main,
        "customer": { "id": x.contact.customer_id, "externalId": x.customer_external_id, "site": x.site },
        "companies": companies,
    })
}
