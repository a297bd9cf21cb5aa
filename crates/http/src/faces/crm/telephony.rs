//! Telephony: calls upload, call events, and the responsible manager for a caller's phone.

use super::{Crm, CrmError, CrmResult, ok, render};
use crate::AppState;
use crate::params::as_i64;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use torg_domain::telephony::CALL_RESULTS;
use torg_domain::{FieldErrors, patch::phone_digits};
use torg_store::CallUpload;

fn text(m: &Map<String, Value>, k: &str) -> Option<String> {
    match m.get(k) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// `POST /api/v5/telephony/calls/upload`: stores calls; known `externalId`s come back as duplicates.
pub async fn upload_calls(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let docs = crm.json_list("calls", 50)?;
    let zone = &state.config.zone;
    let mut errors = FieldErrors::new();
    let mut calls = Vec::with_capacity(docs.len());
    for (i, m) in docs.into_iter().enumerate() {
        let date = match text(&m, "date") {
            Some(d) => zone.parse_start(&d),
            None => Some(torg_domain::time::now()),
        };
        let Some(date) = date else {
            errors.insert(
                format!("calls[{i}].date"),
                "This value is not a valid datetime (expected Y-m-d H:i:s).".into(),
            );
            continue;
        };
        let kind = text(&m, "type").unwrap_or_default();
        if kind != "in" && kind != "out" {
            errors.insert(format!("calls[{i}].type"), "The value must be one of: in, out.".into());
        }
        let phone = text(&m, "phone").unwrap_or_default();
        if phone_digits(&phone).len() < 3 {
            errors.insert(format!("calls[{i}].phone"), "This value is not a valid phone number.".into());
        }
        let result = text(&m, "result");
        if let Some(r) = result.as_deref().filter(|r| !CALL_RESULTS.contains(r)) {
            errors.insert(
                format!("calls[{i}].result"),
                format!("Call result '{r}' is not one of: {}.", CALL_RESULTS.join(", ")),
            );
        }
        let site = text(&m, "site");
        if site.as_ref().is_some_and(|s| !crm.sites.contains(s)) {
            return Err(CrmError::access_denied());
        }
        let mut attrs = m.clone();
        for k in ["date", "type", "phone", "code", "userId", "result", "duration", "externalId", "site"] {
            attrs.remove(k);
        }
        calls.push(CallUpload {
            date,
            kind,
            phone,
            code: text(&m, "code"),
            user_id: m.get("userId").and_then(as_i64),
            result,
            duration: m.get("duration").and_then(as_i64),
            external_id: text(&m, "externalId"),
            site,
            attrs,
        });
    }
    if !errors.is_empty() {
        return Err(CrmError::entity(errors));
    }
    let (stored, duplicates) = state.store.upload_calls(&calls).await?;
    ok(StatusCode::OK, json!({ "processedCallsCount": stored, "duplicateCalls": duplicates }))
}

/// `POST /api/v5/telephony/call/event`: a call rings (`in`/`out`) or ends (`hangup`).
pub async fn call_event(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let m = crm.json_object("event")?;
    let mut errors = FieldErrors::new();
    let phone = text(&m, "phone").unwrap_or_default();
    if phone_digits(&phone).len() < 3 {
        errors.insert("event.phone".into(), "This value is not a valid phone number.".into());
    }
    let kind = text(&m, "type").unwrap_or_default();
    if !["in", "out", "hangup"].contains(&kind.as_str()) {
        errors.insert("event.type".into(), "The value must be one of: in, out, hangup.".into());
    }
    let codes: Vec<String> = crate::params::as_list(m.get("codes").unwrap_or(&Value::Null))
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned).or_else(|| v.as_i64().map(|n| n.to_string())))
        .collect();
    let user_ids: Vec<i64> =
        crate::params::as_list(m.get("userIds").unwrap_or(&Value::Null)).iter().filter_map(as_i64).collect();
    if codes.is_empty() && user_ids.is_empty() {
        errors.insert("event.codes".into(), "Either codes or userIds must be given.".into());
    }
    if !errors.is_empty() {
        return Err(CrmError::entity(errors));
    }
    let site = text(&m, "site");
    if site.as_ref().is_some_and(|s| !crm.sites.contains(s)) {
        return Err(CrmError::access_denied());
    }
    state.store.record_call_event(&phone, &kind, &codes, &user_ids, site.as_deref(), &m).await?;
    // The call still rings for the users that exist; RetailCRM reports the codes and ids it could not
    // match to one.
    let (known_codes, known_ids) = state.store.known_users(&codes, &user_ids).await?;
    let missing_codes: Vec<&String> = codes.iter().filter(|c| !known_codes.contains(c)).collect();
    let missing_users: Vec<i64> = user_ids.iter().copied().filter(|u| !known_ids.contains(u)).collect();
    let mut body = json!({});
    if !missing_codes.is_empty() {
        body["notExistCodes"] = json!(missing_codes);
    }
    if !missing_users.is_empty() {
        body["notExistUsers"] = json!(missing_users);
    }
    ok(StatusCode::OK, body)
}

/// `GET /api/v5/telephony/manager?phone=…`: the customer with that phone and their manager.
pub async fn manager(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let Some(phone) = crm.input.text("phone") else {
        return Err(CrmError::missing("phone"));
    };
    let found = state.store.manager_for_phone(&phone, &crm.sites).await?;
    let zone = &state.config.zone;
    let mut body = json!({});
    if let Some(u) = &found.manager {
        body["manager"] = json!({
            "id": u.id, "firstName": u.first_name, "lastName": u.last_name, "patronymic": u.patronymic,
            "email": u.email, "code": u.code,
        });
    }
    let url = &state.config.public_url;
    match &found.customer {
        Some((c, s)) => {
            body["customer"] = serde_json::to_value(render::customer(c, Some(s), zone)).map_err(CrmError::internal)?;
            body["links"] = json!({
                "customerLink": format!("{url}/customers/{}", c.id),
                "newOrderLink": format!("{url}/orders/add?customerId={}", c.id),
            });
            if let Some(last) = state.store.last_order_of(c.id).await? {
                body["links"]["lastOrderLink"] = json!(format!("{url}/orders/{last}/edit"));
            }
        }
        None => {
            let digits = phone_digits(&phone);
            body["links"] = json!({
                "newCustomerLink": format!("{url}/customers/add?phone={digits}"),
                "newOrderLink": format!("{url}/orders/add?phone={digits}"),
            });
        }
    }
    ok(StatusCode::OK, body)
}
