//! Loyalty (`loyalty/*`, `orders/loyalty/*`): programmes, accounts, bonus credit and charge, their
//! operations and details, what an order may spend and earn, and bonuses spent on orders. Programmes
//! are defined outside the API (CLI, demo data), as RetailCRM defines them in its UI; see `docs/crm.md`.

use super::entities;
use super::scope::{LOYALTY_READ, LOYALTY_WRITE, ORDER_WRITE};
use super::{Crm, CrmError, CrmResult, FilterReader, field_error, ok, pagination};
use crate::AppState;
use crate::kit::{Field, Kind, PAGING, Route, SITE};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use torg_domain::loyalty::{AccountPatch, BonusOperation, LEVEL_TYPE, Level, Loyalty, LoyaltyAccount, parse_bonuses};
use torg_domain::order::{CustomerRef, Order, OrderItem, item_from_doc};
use torg_domain::time::Zone;
use torg_store::{AccountFilter, BonusStatus, LoyaltyFilter, LoyaltyQuote, OrderLookup};

/// The `filter[…]` keys of `GET /api/v5/loyalty/loyalties` and what each holds.
pub(super) const LOYALTIES_FILTER: &[(&str, Kind)] =
    &[("active", Kind::Boolean), ("blocked", Kind::Boolean), ("ids", Kind::Integers), ("sites", Kind::Texts)];

/// The `filter[…]` keys of `GET /api/v5/loyalty/accounts` and what each holds.
pub(super) const ACCOUNTS_FILTER: &[(&str, Kind)] = &[
    ("status", Kind::Text),
    ("ids", Kind::Integers),
    ("id", Kind::Integer),
    ("sites", Kind::Texts),
    ("loyalties", Kind::Integers),
    ("customerId", Kind::Integer),
    ("customerExternalId", Kind::Text),
    ("customer", Kind::Text),
    ("phoneNumber", Kind::Text),
    ("cardNumber", Kind::Text),
    ("level", Kind::Integer),
    ("minOrdersSum", Kind::Number),
    ("maxOrdersSum", Kind::Number),
    ("minAmount", Kind::Number),
    ("maxAmount", Kind::Number),
    ("createdAtFrom", Kind::DateTime),
    ("createdAtTo", Kind::DateTime),
    ("burnDateFrom", Kind::DateTime),
    ("burnDateTo", Kind::DateTime),
    ("customFields", Kind::Texts),
];

/// The `filter[…]` keys of `GET /api/v5/loyalty/account/{id}/bonus/operations` and what each holds.
pub(super) const ACCOUNT_OPERATIONS_FILTER: &[(&str, Kind)] =
    &[("createdAtFrom", Kind::DateTime), ("createdAtTo", Kind::DateTime)];

/// The `filter[…]` keys of `GET /api/v5/loyalty/account/{id}/bonus/{status}/details` and what each holds.
pub(super) const DETAILS_FILTER: &[(&str, Kind)] = &[("date", Kind::DateTime)];

/// The `filter[…]` keys of `GET /api/v5/loyalty/bonus/operations` and what each holds.
pub(super) const OPERATIONS_FILTER: &[(&str, Kind)] = &[("loyalties", Kind::Integers)];

/// Routes of the group (static segments win over `{id}`).
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/api/v5/loyalty/loyalties", LOYALTY_READ, loyalties)
            .doc("loyalty", "list_loyalties", "Loyalty programmes, filtered and paged")
            .answers(&[Field::object("pagination").required(), Field::new("loyalties", Kind::Any).required()])
            .fields(&[Field::filter(LOYALTIES_FILTER), PAGING[0], PAGING[1]]),
        Route::get("/api/v5/loyalty/loyalties/{id}", LOYALTY_READ, loyalty)
            .doc("loyalty", "get_loyalty", "One loyalty programme with its levels")
            .answers(&[Field::new("loyalty", Kind::Any).required()]),
        Route::get("/api/v5/loyalty/accounts", LOYALTY_READ, accounts)
            .doc("loyalty", "list_loyalty_accounts", "Loyalty accounts, filtered and paged")
            .answers(&[Field::object("pagination").required(), Field::new("loyaltyAccounts", Kind::Any).required()])
            .fields(&[Field::filter(ACCOUNTS_FILTER), PAGING[0], PAGING[1]]),
        Route::post("/api/v5/loyalty/account/create", LOYALTY_WRITE, create_account)
            .idempotent()
            .doc("loyalty", "create_loyalty_account", "Enrol a customer in the site's loyalty programme")
            .answers(&[
                Field::new("site", Kind::Any).required(),
                Field::new("loyaltyAccount", Kind::Any).required(),
                Field::new("warnings", Kind::Any).required(),
            ])
            .fields(&[SITE, Field::entity("loyaltyAccount", entities::LOYALTY_ACCOUNT).required()]),
        Route::get("/api/v5/loyalty/account/{id}", LOYALTY_READ, account)
            .doc("loyalty", "get_loyalty_account", "One loyalty account with its balance and level")
            .answers(&[Field::new("loyaltyAccount", Kind::Any).required()]),
        Route::post("/api/v5/loyalty/account/{id}/edit", LOYALTY_WRITE, edit_account)
            .doc("loyalty", "edit_loyalty_account", "Change a loyalty account's phone, card or custom fields")
            .answers(&[Field::new("loyaltyAccount", Kind::Any).required()])
            .fields(&[Field::entity("loyaltyAccount", entities::LOYALTY_ACCOUNT).required()]),
        Route::post("/api/v5/loyalty/account/{id}/activate", LOYALTY_WRITE, activate_account)
            .doc("loyalty", "activate_loyalty_account", "Activate a loyalty account")
            .answers(&[Field::new("loyaltyAccount", Kind::Any).required()]),
        Route::post("/api/v5/loyalty/account/{id}/bonus/charge", LOYALTY_WRITE, charge)
            .doc("loyalty", "charge_bonuses", "Charge bonuses from an account by hand")
            .fields(&[Field::number("amount").required(), Field::text("comment")]),
        Route::post("/api/v5/loyalty/account/{id}/bonus/credit", LOYALTY_WRITE, credit)
            .doc("loyalty", "credit_bonuses", "Credit bonuses to an account by hand")
            .answers(&[Field::new("loyaltyBonus", Kind::Any).required()])
            .fields(&[
                Field::number("amount").required(),
                Field::text("comment"),
                Field::new("activationDate", Kind::Date),
                Field::new("expireDate", Kind::Date),
            ]),
        Route::get("/api/v5/loyalty/account/{id}/bonus/operations", LOYALTY_READ, account_operations)
            .doc("loyalty", "list_account_bonus_operations", "Bonus operations of one account, paged")
            .answers(&[Field::object("pagination").required(), Field::new("bonusOperations", Kind::Any).required()])
            .fields(&[Field::filter(ACCOUNT_OPERATIONS_FILTER), PAGING[0], PAGING[1]]),
        Route::get("/api/v5/loyalty/account/{id}/bonus/{status}/details", LOYALTY_READ, details)
            .doc("loyalty", "list_bonus_details", "Bonuses waiting for activation or about to expire, by date")
            .answers(&[
                Field::object("pagination").required(),
                Field::new("statistic", Kind::Any).required(),
                Field::new("bonuses", Kind::Any).required(),
            ])
            .fields(&[Field::filter(DETAILS_FILTER), PAGING[0], PAGING[1]]),
        Route::get("/api/v5/loyalty/bonus/operations", LOYALTY_READ, operations)
            .doc("loyalty", "list_bonus_operations", "Bonus operations of every account, by cursor")
            .answers(&[Field::object("pagination").required(), Field::new("bonusOperations", Kind::Any).required()])
            .fields(&[Field::filter(OPERATIONS_FILTER), Field::text("cursor"), PAGING[0], PAGING[1]]),
        Route::post("/api/v5/loyalty/calculate", LOYALTY_READ, calculate)
            .doc("loyalty", "calculate_loyalty", "What an order may spend in bonuses and would earn")
            .answers(&[
                Field::object("order").required(),
                Field::new("calculations", Kind::Any).required(),
                Field::new("loyalty", Kind::Any).required(),
            ])
            .fields(&[Field::entity("order", entities::ORDER).required(), SITE, Field::number("bonuses")]),
        Route::post("/api/v5/orders/loyalty/apply", ORDER_WRITE, apply)
            .doc("orders", "apply_order_bonuses", "Spend bonuses on an order")
            .answers(&[Field::object("order").required()])
            .fields(&[Field::entity("order", entities::ORDER_REF).required(), SITE, Field::number("bonuses")]),
        Route::post("/api/v5/orders/loyalty/cancel-bonus-operations", ORDER_WRITE, cancel)
            .doc("orders", "cancel_order_bonus_operations", "Cancel an order's bonus operations")
            .fields(&[Field::entity("order", entities::ORDER_REF).required(), SITE]),
    ]
}

fn level_json(l: &Level) -> Value {
    json!({ "id": l.id, "name": l.name, "type": LEVEL_TYPE, "sum": l.sum, "privilegeSize": l.percent,
            "privilegeSizePromo": l.percent })
}

/// A programme (Go's `Loyalty`); `site`, `expiryDays` and `maxChargePercent` are torg's additions.
fn loyalty_json(l: &Loyalty, zone: &Zone) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(l.id));
    m.insert("name".into(), json!(l.name));
    m.insert("site".into(), json!(l.site));
    m.insert("active".into(), json!(l.active));
    m.insert("blocked".into(), json!(l.blocked));
    m.insert("confirmSmsCharge".into(), json!(false));
    m.insert("confirmSmsRegistration".into(), json!(false));
    m.insert("createdAt".into(), json!(zone.datetime(l.created_at)));
    if let Some(t) = l.activated_at {
        m.insert("activatedAt".into(), json!(zone.datetime(t)));
    }
    m.insert("currency".into(), json!(l.currency));
    m.insert("expiryDays".into(), json!(l.expiry_days));
    m.insert("maxChargePercent".into(), json!(l.max_charge_percent));
    m.insert("levels".into(), Value::Array(l.levels.iter().map(level_json).collect()));
    Value::Object(m)
}

/// An account (PHP's `LoyaltyAccount`; Go reads the paid sum as `orderSum`, so both are given).
fn account_json(a: &LoyaltyAccount, l: &Loyalty, zone: &Zone) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(a.id));
    m.insert("active".into(), json!(a.active));
    m.insert("status".into(), json!(a.status()));
    if let Some(p) = &a.phone_number {
        m.insert("phoneNumber".into(), json!(p));
    }
    if let Some(c) = &a.card_number {
        m.insert("cardNumber".into(), json!(c));
    }
    m.insert("amount".into(), json!(a.amount));
    m.insert("ordersSum".into(), json!(a.orders_sum));
    m.insert("orderSum".into(), json!(a.orders_sum));
    if let Some(next) = l.next_level_sum(a.orders_sum) {
        m.insert("nextLevelSum".into(), json!(next));
    }
    if let Some(level) = l.level_for(a.orders_sum) {
        m.insert("level".into(), level_json(level));
        m.insert("loyaltyLevelId".into(), json!(level.id));
    }
    m.insert("createdAt".into(), json!(zone.datetime(a.created_at)));
    if let Some(t) = a.activated_at {
        m.insert("activatedAt".into(), json!(zone.datetime(t)));
    }
    m.insert("customFields".into(), Value::Object(a.custom_fields.clone()));
    m.insert("loyalty".into(), json!({ "id": l.id, "name": l.name, "currency": l.currency }));
    let mut customer = Map::new();
    customer.insert("id".into(), json!(a.customer_id));
    if let Some(e) = &a.customer_external_id {
        customer.insert("externalId".into(), json!(e));
    }
    m.insert("customer".into(), Value::Object(customer));
    m.insert("site".into(), json!(a.site));
    Value::Object(m)
}

/// An operation (Go's `BonusOperation`); amounts are positive, the type says which way they went.
fn operation_json(o: &BonusOperation, zone: &Zone) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), json!(o.kind));
    m.insert("createdAt".into(), json!(zone.datetime(o.created_at)));
    m.insert("amount".into(), json!(o.amount));
    if let Some(id) = o.order_id {
        let mut order = Map::new();
        order.insert("id".into(), json!(id));
        if let Some(e) = &o.order_external_id {
            order.insert("externalId".into(), json!(e));
        }
        m.insert("order".into(), Value::Object(order));
    }
    if let Some(t) = o.activation_at {
        let mut bonus = Map::new();
        bonus.insert("activationDate".into(), json!(zone.date(t)));
        if let Some(e) = o.expire_at {
            bonus.insert("expireDate".into(), json!(zone.date(e)));
        }
        m.insert("bonus".into(), Value::Object(bonus));
    }
    if let Some(c) = &o.comment {
        m.insert("comment".into(), json!(c));
    }
    m.insert("loyaltyAccount".into(), json!({ "id": o.account_id }));
    m.insert("loyalty".into(), json!({ "id": o.loyalty_id }));
    Value::Object(m)
}

/// An id path segment; anything else is not there.
fn path_id(uid: &str) -> Result<i64, CrmError> {
    uid.parse::<i64>().map_err(|_| CrmError::not_found())
}

/// `GET /api/v5/loyalty/loyalties`.
async fn loyalties(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let page = crm.default_page()?;
    let filter = crm.filter()?;
    super::customers::reject_extra_keys(&filter, LOYALTIES_FILTER)?;
    let zone = &state.config.zone;
    let mut r = FilterReader::new(&filter, zone).noting(&crm.input);
    let f = LoyaltyFilter {
        ids: r.ints("ids"),
        sites: r.texts("sites"),
        active: r.flag("active"),
        blocked: r.flag("blocked"),
    };
    r.finish()?;
    let (list, meta) = state.store.list_loyalties(&f, &crm.sites, page).await?;
    let list: Vec<Value> = list.iter().map(|l| loyalty_json(l, zone)).collect();
    ok(StatusCode::OK, json!({ "pagination": pagination(meta), "loyalties": list }))
}

/// `GET /api/v5/loyalty/loyalties/{id}`.
async fn loyalty(State(state): State<AppState>, Path(uid): Path<String>, crm: Crm) -> CrmResult {
    let id = path_id(&uid)?;
    match state.store.get_loyalty(id, &crm.sites).await? {
        Some(l) => ok(StatusCode::OK, json!({ "loyalty": loyalty_json(&l, &state.config.zone) })),
        None => Err(CrmError::not_found()),
    }
}

/// `GET /api/v5/loyalty/accounts`: oldest first.
async fn accounts(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let page = crm.default_page()?;
    let filter = crm.filter()?;
    super::customers::reject_extra_keys(&filter, ACCOUNTS_FILTER)?;
    let zone = &state.config.zone;
    let mut r = FilterReader::new(&filter, zone).noting(&crm.input);
    let active = match r.text("status").as_deref() {
        None => None,
        Some("activated") => Some(true),
        Some("not_confirmed") => Some(false),
        Some(_) => {
            return Err(CrmError::parameter(
                "filter[status]",
                "The value you selected is not a valid choice. Allowed: activated, not_confirmed.",
            ));
        }
    };
    let mut ids = r.ints("ids");
    ids.extend(r.int("id"));
    let sites = r.texts("sites");
    if sites.iter().any(|s| !crm.sites.contains(s)) {
        return Err(CrmError::access_denied());
    }
    let mut f = AccountFilter {
        ids,
        loyalties: r.ints("loyalties"),
        sites,
        active,
        customer_id: r.int("customerId"),
        customer_external_id: r.text("customerExternalId").or_else(|| r.text("customer")),
        phone_number: r.text("phoneNumber"),
        card_number: r.text("cardNumber"),
        level: r.int("level"),
        orders_sum: (r.decimal("minOrdersSum"), r.decimal("maxOrdersSum")),
        amount: (r.decimal("minAmount"), r.decimal("maxAmount")),
        created: (r.date_from("createdAtFrom"), r.date_to("createdAtTo")),
        burn: (r.date_from("burnDateFrom"), r.date_to("burnDateTo")),
        custom_fields: Vec::new(),
        with_custom_fields: Vec::new(),
    };
    // `customFields[code]=…` as on the other lists; Go's client sends a bare list (`customFields[]`),
    // which can only name fields: those the account has a value for.
    match r.get("customFields") {
        Some(Value::Object(_)) => f.custom_fields = r.custom_fields(),
        Some(_) => f.with_custom_fields = r.texts("customFields"),
        None => {}
    }
    r.finish()?;
    let (list, meta) = state.store.list_loyalty_accounts(&f, &crm.sites, page).await?;
    let mut out = Vec::with_capacity(list.len());
    for a in &list {
        if let Some(l) = state.store.get_loyalty(a.loyalty_id, &crm.sites).await? {
            out.push(account_json(a, &l, zone));
        }
    }
    ok(StatusCode::OK, json!({ "pagination": pagination(meta), "loyaltyAccounts": out }))
}

/// The `loyaltyAccount` form field, read.
fn account_patch(crm: &Crm) -> Result<(AccountPatch, Map<String, Value>), CrmError> {
    let doc = crm.json_object("loyaltyAccount")?;
    let patch = AccountPatch::from_doc(&doc).map_err(CrmError::entity)?;
    Ok((patch, doc))
}

/// `POST /api/v5/loyalty/account/create`: form `site` and `loyaltyAccount` with its `customer`; 201.
async fn create_account(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let (patch, doc) = account_patch(&crm)?;
    let site = crm.site()?;
    let customer = match doc.get("customer") {
        None | Some(Value::Null) => {
            return Err(field_error("loyaltyAccount.customer", "This value should not be blank."));
        }
        Some(v) => CustomerRef::parse(v)
            .ok_or_else(|| field_error("loyaltyAccount.customer", "Give the customer's id or externalId."))?,
    };
    let (a, l) = state.store.create_loyalty_account(&site, &customer, &patch).await?;
    let zone = &state.config.zone;
    ok(StatusCode::CREATED, json!({ "site": site, "loyaltyAccount": account_json(&a, &l, zone), "warnings": [] }))
}

/// `GET /api/v5/loyalty/account/{id}`.
async fn account(State(state): State<AppState>, Path(uid): Path<String>, crm: Crm) -> CrmResult {
    let id = path_id(&uid)?;
    match state.store.get_loyalty_account(id, &crm.sites).await? {
        Some((a, l)) => ok(StatusCode::OK, json!({ "loyaltyAccount": account_json(&a, &l, &state.config.zone) })),
        None => Err(CrmError::not_found()),
    }
}

/// `POST /api/v5/loyalty/account/{id}/edit`.
async fn edit_account(State(state): State<AppState>, Path(uid): Path<String>, crm: Crm) -> CrmResult {
    let id = path_id(&uid)?;
    let (patch, doc) = account_patch(&crm)?;
    if doc.contains_key("customer") {
        return Err(field_error("loyaltyAccount.customer", "The customer of an account cannot change."));
    }
    let (a, l) = state.store.edit_loyalty_account(id, &patch, &crm.sites).await?;
    ok(StatusCode::OK, json!({ "loyaltyAccount": account_json(&a, &l, &state.config.zone) }))
}

/// `POST /api/v5/loyalty/account/{id}/activate`: no SMS confirmation (programmes never ask for one).
async fn activate_account(State(state): State<AppState>, Path(uid): Path<String>, crm: Crm) -> CrmResult {
    let id = path_id(&uid)?;
    let (a, l) = state.store.activate_loyalty_account(id, &crm.sites).await?;
    ok(StatusCode::OK, json!({ "loyaltyAccount": account_json(&a, &l, &state.config.zone) }))
}

/// `amount`: required, above zero.
fn amount(crm: &Crm) -> Result<Decimal, CrmError> {
    match parse_bonuses(crm.input.param("amount"), "amount").map_err(CrmError::entity)? {
        None => Err(CrmError::missing("amount")),
        Some(a) if a.is_zero() => Err(field_error("amount", "This value should be greater than 0.")),
        Some(a) => Ok(a),
    }
}

/// `comment`, at most 500 characters.
fn comment(crm: &Crm) -> Result<Option<String>, CrmError> {
    match crm.input.text("comment").map(|c| c.trim().to_string()).filter(|c| !c.is_empty()) {
        Some(c) if c.chars().count() > 500 => {
            Err(field_error("comment", "This value is too long. It should have 500 characters or less."))
        }
        other => Ok(other),
    }
}

/// `POST /api/v5/loyalty/account/{id}/bonus/charge`: form `amount`, `comment`.
async fn charge(State(state): State<AppState>, Path(uid): Path<String>, crm: Crm) -> CrmResult {
    let id = path_id(&uid)?;
    let amount = amount(&crm)?;
    let comment = comment(&crm)?;
    state.store.charge_bonuses(id, amount, comment.as_deref(), &crm.sites).await?;
    ok(StatusCode::OK, json!({}))
}

/// A `Y-m-d` form field as the start of that day.
fn date_param(crm: &Crm, zone: &Zone, name: &str) -> Result<Option<i64>, CrmError> {
    match crm.input.text(name) {
        None => Ok(None),
        Some(t) => match torg_domain::time::parse_date(t.trim()).and_then(|_| zone.parse_start(t.trim())) {
            Some(at) => Ok(Some(at)),
            None => Err(field_error(name, "This value is not a valid date (expected Y-m-d).")),
        },
    }
}

/// `POST /api/v5/loyalty/account/{id}/bonus/credit`: form `amount`, `activationDate`, `expireDate`
/// (`Y-m-d`), `comment`.
async fn credit(State(state): State<AppState>, Path(uid): Path<String>, crm: Crm) -> CrmResult {
    let id = path_id(&uid)?;
    let zone = &state.config.zone;
    let amount = amount(&crm)?;
    let activation = date_param(&crm, zone, "activationDate")?;
    let expire = date_param(&crm, zone, "expireDate")?;
    let comment = comment(&crm)?;
    let op = state.store.credit_bonuses(id, amount, activation, expire, comment.as_deref(), &crm.sites).await?;
    let mut bonus = Map::new();
    bonus.insert("amount".into(), json!(op.amount));
    bonus.insert("activationDate".into(), json!(op.activation_at.map(|t| zone.date(t))));
    if let Some(e) = op.expire_at {
        bonus.insert("expiredDate".into(), json!(zone.date(e)));
    }
    ok(StatusCode::OK, json!({ "loyaltyBonus": bonus }))
}

/// `GET /api/v5/loyalty/account/{id}/bonus/operations`: oldest first.
async fn account_operations(State(state): State<AppState>, Path(uid): Path<String>, crm: Crm) -> CrmResult {
    let id = path_id(&uid)?;
    let page = crm.default_page()?;
    let filter = crm.filter()?;
    super::customers::reject_extra_keys(&filter, ACCOUNT_OPERATIONS_FILTER)?;
    let zone = &state.config.zone;
    let mut r = FilterReader::new(&filter, zone).noting(&crm.input);
    let created = (r.date_from("createdAtFrom"), r.date_to("createdAtTo"));
    r.finish()?;
    let Some((ops, meta)) = state.store.account_operations(id, created, &crm.sites, page).await? else {
        return Err(CrmError::not_found());
    };
    let ops: Vec<Value> = ops.iter().map(|o| operation_json(o, zone)).collect();
    ok(StatusCode::OK, json!({ "pagination": pagination(meta), "bonusOperations": ops }))
}

/// `GET /api/v5/loyalty/account/{id}/bonus/{status}/details`: `waiting_activation` (by activation date)
/// or `burn_soon` (by expiry date); `filter[date]` keeps those up to that day.
async fn details(State(state): State<AppState>, Path((uid, status)): Path<(String, String)>, crm: Crm) -> CrmResult {
    let id = path_id(&uid)?;
    let status = match status.as_str() {
        "waiting_activation" => BonusStatus::WaitingActivation,
        "burn_soon" => BonusStatus::BurnSoon,
        _ => {
            return Err(CrmError::parameter(
                "status",
                "The value you selected is not a valid choice. Allowed: waiting_activation, burn_soon.",
            ));
        }
    };
    let page = crm.default_page()?;
    let filter = crm.filter()?;
    super::customers::reject_extra_keys(&filter, DETAILS_FILTER)?;
    let zone = &state.config.zone;
    let mut r = FilterReader::new(&filter, zone).noting(&crm.input);
    let until = r.date_to("date");
    r.finish()?;
    let Some((list, total, meta)) = state.store.bonus_details(id, status, until, &crm.sites, page).await? else {
        return Err(CrmError::not_found());
    };
    let bonuses: Vec<Value> =
        list.iter().map(|(at, amount)| json!({ "date": zone.date(*at), "amount": amount })).collect();
    ok(
        StatusCode::OK,
        json!({ "pagination": pagination(meta), "statistic": { "totalAmount": total }, "bonuses": bonuses }),
    )
}

/// `GET /api/v5/loyalty/bonus/operations`: oldest first, by cursor (`pagination.nextCursor` while
/// there are more).
async fn operations(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let limit = crm.default_page()?.limit;
    let filter = crm.filter()?;
    super::customers::reject_extra_keys(&filter, OPERATIONS_FILTER)?;
    let zone = &state.config.zone;
    let mut r = FilterReader::new(&filter, zone).noting(&crm.input);
    let loyalties = r.ints("loyalties");
    r.finish()?;
    let after = match crm.input.text("cursor") {
        None => 0,
        Some(c) => c
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|c| *c >= 0)
            .ok_or_else(|| CrmError::parameter("cursor", "This value is not a cursor this API gave."))?,
    };
    let (ops, next) = state.store.bonus_operations(&loyalties, &crm.sites, after, limit).await?;
    let ops: Vec<Value> = ops.iter().map(|o| operation_json(o, zone)).collect();
    let mut page = Map::new();
    if let Some(n) = next {
        page.insert("nextCursor".into(), json!(n.to_string()));
    }
    ok(StatusCode::OK, json!({ "pagination": page, "bonusOperations": ops }))
}

/// `bonuses`: absent is none.
fn bonuses(crm: &Crm) -> Result<Decimal, CrmError> {
    Ok(parse_bonuses(crm.input.param("bonuses"), "bonuses").map_err(CrmError::entity)?.unwrap_or_default())
}

/// The order of `loyalty/calculate`: its sum from its lines and discounts, before bonuses (prices as
/// given: the catalogue is not consulted), and its customer.
fn order_to_quote(doc: &Map<String, Value>, zone: &Zone) -> Result<(Decimal, CustomerRef), CrmError> {
    let mut doc = doc.clone();
    // A line only priced for the calculation needs no name.
    if let Some(Value::Array(items)) = doc.get_mut("items") {
        for item in items.iter_mut().filter_map(Value::as_object_mut).filter(|i| !i.contains_key("offer")) {
            item.entry("productName").or_insert_with(|| json!("-"));
        }
    }
    let input = Order::default().apply(&doc, zone)?;
    let mut order = input.order;
    let base = OrderItem { quantity: Decimal::ONE, ..OrderItem::default() };
    for i in input.items.unwrap_or_default() {
        order.items.push(item_from_doc(&base, &i.doc, i.index)?);
    }
    let customer = input.customer.ok_or_else(|| field_error("order.customer", "This value should not be blank."))?;
    Ok((order.summ(), customer))
}

/// SerializedLoyaltyOrder: the order as the programme sees it.
fn loyalty_order(q: &LoyaltyQuote, site: &str, customer: Value) -> Value {
    json!({
        "bonusesCreditTotal": q.credit,
        "bonusesChargeTotal": q.charge,
        "privilegeType": "loyalty_level",
        "totalSumm": (q.summ - q.charge).max(Decimal::ZERO).normalize(),
        "loyaltyAccount": { "id": q.account.id, "amount": (q.account.amount - q.charge).normalize() },
        "customer": customer,
        "site": site,
        "currency": q.loyalty.currency,
    })
}

/// `POST /api/v5/loyalty/calculate`: form `site`, `order` (customer and lines), `bonuses` to spend.
async fn calculate(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let doc = crm.json_object("order")?;
    let site = crm.site()?;
    let bonuses = bonuses(&crm)?;
    let (summ, customer) = order_to_quote(&doc, &state.config.zone)?;
    let q = state.store.loyalty_quote(&site, &customer, summ, bonuses).await?;
    let customer = json!({ "id": q.account.customer_id, "externalId": q.account.customer_external_id });
    let calculation = json!({
        "privilegeType": "loyalty_level",
        "discount": 0,
        "creditBonuses": q.loyalty.credit_for(q.account.orders_sum, summ),
        "maxChargeBonuses": q.max_charge,
        "maximum": true,
        "loyalty": { "name": q.loyalty.name, "chargeRate": 1 },
    });
    ok(
        StatusCode::OK,
        json!({
            "order": loyalty_order(&q, &site, customer),
            "calculations": [calculation],
            "loyalty": { "name": q.loyalty.name, "chargeRate": 1 },
        }),
    )
}

/// The `order` form field as a lookup: `id`, else `externalId` on the site, else `number`.
fn order_lookup(crm: &Crm) -> Result<OrderLookup, CrmError> {
    let doc = crm.json_object("order")?;
    if let Some(id) = doc.get("id").and_then(crate::params::as_i64) {
        return Ok(OrderLookup::Id(id));
    }
    if let Some(ext) = super::member_text(&doc, "externalId") {
        return Ok(OrderLookup::ExternalId { site: crm.site()?, external_id: ext });
    }
    if let Some(n) = super::member_text(&doc, "number") {
        return Ok(OrderLookup::Number(n));
    }
    Err(field_error("order", "Give the order's id, externalId or number."))
}

/// `POST /api/v5/orders/loyalty/apply`: form `order` ({id|externalId|number}), `site`, `bonuses`. The
/// order spends `bonuses` (replacing what it spent before) and names the customer's account.
async fn apply(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let lookup = order_lookup(&crm)?;
    let bonuses = bonuses(&crm)?;
    let (order, q) = state.store.apply_order_bonuses(&lookup, bonuses, crm.actor(), &crm.sites).await?;
    let customer = json!({ "id": q.account.customer_id, "externalId": q.account.customer_external_id });
    let mut body = loyalty_order(&q, &order.site, customer);
    if let Some(m) = body.as_object_mut() {
        m.insert("id".into(), json!(order.id));
        m.insert("number".into(), json!(order.number));
        if let Some(e) = &order.external_id {
            m.insert("externalId".into(), json!(e));
        }
        m.insert("totalSumm".into(), json!(order.total_summ()));
    }
    ok(StatusCode::OK, json!({ "order": body }))
}

/// `POST /api/v5/orders/loyalty/cancel-bonus-operations`: form `order`, `site`.
async fn cancel(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let lookup = order_lookup(&crm)?;
    state.store.cancel_order_bonuses(&lookup, crm.actor(), &crm.sites).await?;
    ok(StatusCode::OK, json!({}))
}
