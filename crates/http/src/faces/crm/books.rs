//! The reference books that RetailCRM does not key by code: countries (a list of ISO codes),
//! currencies and couriers (created, then edited by id), messenger channels (the MG transports that
//! integration modules register) and subscription categories (edited by channel and code).

use super::entities;
use super::field_error as invalid;
use super::references::{check_code, entry_json, take_bool, take_i64};
use super::scope::{REFERENCE_READ, REFERENCE_WRITE};
use super::{Crm, CrmError, CrmResult, ok};
use crate::AppState;
use crate::kit::{Field, Route};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use torg_domain::reference::{ReferenceEntry, ReferenceKind};

/// The books' routes.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/api/v5/reference/countries", REFERENCE_READ, countries).doc(
            "reference",
            "list_countries",
            "ISO codes of the countries the account works in",
        ),
        Route::get("/api/v5/reference/currencies", REFERENCE_READ, currencies).doc(
            "reference",
            "list_currencies",
            "Currencies, as a list",
        ),
        Route::post("/api/v5/reference/currencies/create", REFERENCE_WRITE, create_currency)
            .idempotent()
            .doc("reference", "create_currency", "Add a currency")
            .answers(&[Field::int("id").required()])
            .fields(&[Field::entity("currency", entities::CURRENCY).required()]),
        Route::post("/api/v5/reference/currencies/{id}/edit", REFERENCE_WRITE, edit_currency)
            .doc("reference", "edit_currency", "Change a currency, by id")
            .fields(&[Field::entity("currency", entities::CURRENCY).required()]),
        Route::get("/api/v5/reference/couriers", REFERENCE_READ, couriers).doc(
            "reference",
            "list_couriers",
            "Couriers, as a list",
        ),
        Route::post("/api/v5/reference/couriers/create", REFERENCE_WRITE, create_courier)
            .idempotent()
            .doc("reference", "create_courier", "Add a courier")
            .answers(&[Field::int("id").required()])
            .fields(&[Field::entity("courier", entities::COURIER).required()]),
        Route::post("/api/v5/reference/couriers/{id}/edit", REFERENCE_WRITE, edit_courier)
            .doc("reference", "edit_courier", "Change a courier, by id")
            .fields(&[Field::entity("courier", entities::COURIER).required()]),
        Route::get("/api/v5/reference/mg-channels", REFERENCE_READ, mg_channels).doc(
            "reference",
            "list_mg_channels",
            "Messenger channels registered by integration modules",
        ),
        Route::get("/api/v5/reference/subscriptions", REFERENCE_READ, subscriptions).doc(
            "reference",
            "list_subscriptions",
            "Subscription categories per channel",
        ),
        Route::post("/api/v5/reference/subscriptions/{channel}/{code}/edit", REFERENCE_WRITE, edit_subscription)
            .doc("reference", "edit_subscription", "Create or update a subscription category of a channel")
            .fields(&[Field::entity("subscription", entities::SUBSCRIPTION_CATEGORY).required()]),
    ]
}

/// `GET /api/v5/reference/countries`: `countriesIso`, the active countries' codes.
async fn countries(crm: Crm) -> CrmResult {
    let codes: Vec<&str> =
        crm.books.refs(ReferenceKind::Country).iter().filter(|c| c.active).map(|c| c.code.as_str()).collect();
    ok(StatusCode::OK, json!({ "countriesIso": codes }))
}

fn currency_json(e: &ReferenceEntry) -> Value {
    let mut m = e.attrs.clone();
    m.insert("id".into(), json!(e.id));
    m.insert("code".into(), json!(e.code));
    m.entry("isBase").or_insert(json!(false));
    m.entry("isAutoConvert").or_insert(json!(false));
    Value::Object(m)
}

/// `GET /api/v5/reference/currencies`.
async fn currencies(crm: Crm) -> CrmResult {
    let list: Vec<Value> = crm.books.refs(ReferenceKind::Currency).iter().map(currency_json).collect();
    ok(StatusCode::OK, json!({ "currencies": list }))
}

/// A currency from the `currency` field over `base`: an ISO 4217 code, the flags, and the manual rate
/// as a decimal string (never a float).
fn currency(crm: &Crm, base: Option<&ReferenceEntry>) -> Result<ReferenceEntry, CrmError> {
    let mut m = crm.json_object("currency")?;
    let code = match m.remove("code") {
        Some(Value::String(c)) => c.trim().to_uppercase(),
        _ => base.map(|b| b.code.clone()).unwrap_or_default(),
    };
    if code.len() != 3 || !code.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(invalid("currency.code", "The code must be a three-letter ISO 4217 code."));
    }
    let mut attrs = base.map(|b| b.attrs.clone()).unwrap_or_default();
    m.remove("id");
    for flag in ["isBase", "isAutoConvert"] {
        if let Some(v) = m.remove(flag) {
            match crate::params::as_bool(&v) {
                Some(b) => attrs.insert(flag.into(), json!(b)),
                None => return Err(invalid(format!("currency.{flag}"), "This value should be of type bool.")),
            };
        }
    }
    for number in ["manualConvertNominal", "autoConvertExtraPercent"] {
        if let Some(v) = m.remove(number) {
            match crate::params::as_i64(&v) {
                Some(n) => attrs.insert(number.into(), json!(n)),
                None => return Err(invalid(format!("currency.{number}"), "This value should be of type integer.")),
            };
        }
    }
    if let Some(v) = m.remove("manualConvertValue") {
        let text = match &v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => String::new(),
        };
        match text.replace(',', ".").parse::<rust_decimal::Decimal>() {
            Ok(d) if d > rust_decimal::Decimal::ZERO => attrs.insert("manualConvertValue".into(), v),
            _ => return Err(invalid("currency.manualConvertValue", "This value should be a positive number.")),
        };
    }
    attrs.extend(m);
    let name = base.map_or_else(|| code.clone(), |b| b.name.clone());
    Ok(ReferenceEntry { id: base.map_or(0, |b| b.id), code, name, active: true, ordering: 1, attrs })
}

/// `POST /api/v5/reference/currencies/create`: 201 with the new currency's id.
async fn create_currency(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let c = currency(&crm, None)?;
    if c.attr_bool("isBase") {
        return Err(invalid("currency.isBase", "The account's base currency cannot be changed."));
    }
    let id = state.store.insert_ref(ReferenceKind::Currency, &c).await.map_err(|e| match e {
        torg_store::StoreError::Domain(torg_domain::DomainError::Invalid(_)) => {
            invalid("currency.code", format!("Currency '{}' already exists.", c.code))
        }
        other => other.into(),
    })?;
    ok(StatusCode::CREATED, json!({ "id": id }))
}

fn id_in(text: &str) -> Option<i64> {
    text.parse().ok()
}

/// `POST /api/v5/reference/currencies/{id}/edit`.
async fn edit_currency(State(state): State<AppState>, Path(id): Path<String>, crm: Crm) -> CrmResult {
    let Some(base) = id_in(&id).and_then(|id| crm.books.ref_by_id(ReferenceKind::Currency, id)).cloned() else {
        return Err(CrmError::new(StatusCode::NOT_FOUND, "An attempt was made to edit a nonexistent record"));
    };
    let c = currency(&crm, Some(&base))?;
    if c.attr_bool("isBase") != base.attr_bool("isBase") {
        return Err(invalid("currency.isBase", "The account's base currency cannot be changed."));
    }
    state.store.update_ref_by_id(ReferenceKind::Currency, &c).await?;
    ok(StatusCode::OK, json!({}))
}

fn courier_json(e: &ReferenceEntry) -> Value {
    let mut m = e.attrs.clone();
    m.insert("id".into(), json!(e.id));
    m.insert("active".into(), json!(e.active));
    Value::Object(m)
}

/// `GET /api/v5/reference/couriers`.
async fn couriers(crm: Crm) -> CrmResult {
    let list: Vec<Value> = crm.books.refs(ReferenceKind::Courier).iter().map(courier_json).collect();
    ok(StatusCode::OK, json!({ "couriers": list }))
}

/// A courier from the `courier` field over `base`: a first name is required, the phone is
/// `{number}`. Couriers have no code of their own; a new one is stored under a fresh one.
fn courier(crm: &Crm, base: Option<&ReferenceEntry>) -> Result<ReferenceEntry, CrmError> {
    let mut m = crm.json_object("courier")?;
    m.remove("id");
    let mut attrs: Map<String, Value> = base.map(|b| b.attrs.clone()).unwrap_or_default();
    let active =
        m.remove("active").map_or(base.is_none_or(|b| b.active), |v| crate::params::as_bool(&v).unwrap_or(true));
    for key in ["firstName", "lastName", "patronymic", "email", "description"] {
        match m.remove(key) {
            None => {}
            Some(Value::String(s)) => {
                attrs.insert(key.into(), json!(s.trim()));
            }
            Some(Value::Null) => {
                attrs.remove(key);
            }
            Some(_) => return Err(invalid(format!("courier.{key}"), "This value should be of type string.")),
        }
    }
    if attrs.get("firstName").and_then(Value::as_str).is_none_or(str::is_empty) {
        return Err(invalid("firstName", "Specify the first name"));
    }
    if attrs.get("email").and_then(Value::as_str).is_some_and(|e| !e.is_empty() && !e.contains('@')) {
        return Err(invalid("courier.email", "This value is not a valid email address."));
    }
    match m.remove("phone") {
        None => {}
        Some(Value::Object(p)) => {
            let number = p.get("number").and_then(Value::as_str).unwrap_or_default().to_string();
            attrs.insert("phone".into(), json!({ "number": number }));
        }
        Some(Value::String(number)) => {
            attrs.insert("phone".into(), json!({ "number": number }));
        }
        Some(_) => return Err(invalid("courier.phone", "This value should be an object.")),
    }
    let first = attrs.get("firstName").and_then(Value::as_str).unwrap_or_default();
    let last = attrs.get("lastName").and_then(Value::as_str).unwrap_or_default();
    let name = format!("{first} {last}").trim().to_string();
    let code = match base {
        Some(b) => b.code.clone(),
        None => {
            use rand::Rng;
            let tail: String = rand::rng().sample_iter(rand::distr::Alphanumeric).take(12).map(char::from).collect();
            format!("courier-{}", tail.to_lowercase())
        }
    };
    Ok(ReferenceEntry { id: base.map_or(0, |b| b.id), code, name, active, ordering: 1, attrs })
}

/// `POST /api/v5/reference/couriers/create`: 201 with the courier's id.
async fn create_courier(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let c = courier(&crm, None)?;
    let id = state.store.insert_ref(ReferenceKind::Courier, &c).await?;
    ok(StatusCode::CREATED, json!({ "id": id }))
}

/// `POST /api/v5/reference/couriers/{id}/edit`.
async fn edit_courier(State(state): State<AppState>, Path(id): Path<String>, crm: Crm) -> CrmResult {
    let Some(base) = id_in(&id).and_then(|id| crm.books.ref_by_id(ReferenceKind::Courier, id)).cloned() else {
        return Err(CrmError::new(StatusCode::NOT_FOUND, "An attempt was made to edit a nonexistent record"));
    };
    let c = courier(&crm, Some(&base))?;
    state.store.update_ref_by_id(ReferenceKind::Courier, &c).await?;
    ok(StatusCode::OK, json!({}))
}

/// `GET /api/v5/reference/mg-channels`: one channel per integration module that registered an MG
/// transport; its id is the module's position, stable while modules are only added.
async fn mg_channels(State(state): State<AppState>, _crm: Crm) -> CrmResult {
    let modules = state.store.list_modules().await?;
    let channels: Vec<Value> = modules
        .iter()
        .filter(|m| m.doc.get("integrations").and_then(|i| i.get("mgTransport")).is_some_and(Value::is_object))
        .map(|m| {
            let active = m.doc.get("active").and_then(Value::as_bool).unwrap_or(true);
            let name = m.doc.get("name").and_then(Value::as_str).unwrap_or(&m.code);
            json!({
                "id": m.created_at,
                "externalId": m.created_at,
                "type": m.doc.get("integrationCode").and_then(Value::as_str).unwrap_or(&m.code),
                "name": name,
                "active": active,
                "allowedSendByPhone": false,
            })
        })
        .collect();
    ok(StatusCode::OK, json!({ "mgChannels": channels }))
}

/// `GET /api/v5/reference/subscriptions`.
async fn subscriptions(crm: Crm) -> CrmResult {
    let list: Vec<Value> = crm
        .books
        .refs(ReferenceKind::Subscription)
        .iter()
        .map(|e| {
            let mut v = entry_json(e);
            v["id"] = json!(e.id);
            let (channel, code) = e.code.split_once('/').unwrap_or(("", &e.code));
            v["channel"] = json!(channel);
            v["code"] = json!(code);
            v.as_object_mut().map(|m| m.entry("autoSubscribe").or_insert(json!(false)));
            v
        })
        .collect();
    ok(StatusCode::OK, json!({ "subscriptions": list }))
}

/// The channels subscription categories belong to.
pub(super) const CHANNELS: &[&str] = &["email", "sms", "waba", "telegram", "viber", "whatsapp", "vk", "push"];

/// `POST /api/v5/reference/subscriptions/{channel}/{code}/edit`.
async fn edit_subscription(
    State(state): State<AppState>,
    Path((channel, code)): Path<(String, String)>,
    crm: Crm,
) -> CrmResult {
    if !CHANNELS.contains(&channel.as_str()) {
        return Err(CrmError::parameter(
            "channel",
            &format!("Channel '{channel}' is not one of: {}.", CHANNELS.join(", ")),
        ));
    }
    check_code(&code)?;
    let mut m = super::references::edit_entity(&crm, &["subscription"], &code, false)?;
    m.remove("code");
    m.remove("channel");
    let name = m.remove("name").and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    if let Some(v) = m.remove("autoSubscribe") {
        m.insert("autoSubscribe".into(), json!(crate::params::as_bool(&v).unwrap_or(false)));
    }
    let entry = ReferenceEntry {
        id: 0,
        code: format!("{channel}/{code}"),
        name,
        active: take_bool(&mut m, "active", true),
        ordering: take_i64(&mut m, "ordering", 990),
        attrs: m,
    };
    let created = state.store.upsert_ref(ReferenceKind::Subscription, &entry).await?;
    ok(if created { StatusCode::CREATED } else { StatusCode::OK }, json!({}))
}
