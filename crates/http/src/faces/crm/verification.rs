//! SMS verification (`verification/sms/*`): a code sent to a phone through the state's [`SmsSender`]
//! (the log, unless a gateway is plugged in), confirmed with the check id the send answered, and the
//! check's status.
//!
//! [`SmsSender`]: crate::sms::SmsSender

use super::entities;
use super::scope::{VERIFICATION_READ, VERIFICATION_WRITE};
use super::{Crm, CrmError, CrmResult, field_error, member_text, ok};
use crate::AppState;
use crate::kit::{Field, Kind, Route};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use torg_domain::loyalty::{SMS_ACTIONS, SmsCheck};
use torg_domain::time::Zone;
use torg_store::Confirmation;

/// Routes of the group.
pub fn routes() -> Vec<Route> {
    vec![
        Route::post("/api/v5/verification/sms/send", VERIFICATION_WRITE, send)
            .doc("verification", "send_sms_verification", "Send a confirmation code by SMS")
            .answers(&[Field::new("verification", Kind::Any).required()])
            .fields(&[Field::entity("verification", entities::SMS_SEND).required()]),
        Route::post("/api/v5/verification/sms/confirm", VERIFICATION_WRITE, confirm)
            .doc("verification", "confirm_sms_verification", "Confirm a code sent by SMS")
            .answers(&[Field::new("verification", Kind::Any).required()])
            .fields(&[Field::entity("verification", entities::SMS_CONFIRM).required()]),
        Route::get("/api/v5/verification/sms/{checkId}/status", VERIFICATION_READ, status)
            .doc("verification", "get_sms_verification_status", "The state of an SMS check")
            .answers(&[Field::new("verification", Kind::Any).required()]),
    ]
}

/// A check (PHP's `SmsVerification`).
fn check_json(c: &SmsCheck, zone: &Zone) -> Value {
    let mut m = Map::new();
    m.insert("checkId".into(), json!(c.check_id));
    m.insert("actionType".into(), json!(c.action_type));
    m.insert("createdAt".into(), json!(zone.datetime(c.created_at)));
    m.insert("expiredAt".into(), json!(zone.datetime(c.expired_at)));
    if let Some(v) = c.verified_at {
        m.insert("verifiedAt".into(), json!(zone.datetime(v)));
    }
    Value::Object(m)
}

/// `POST /api/v5/verification/sms/send`: form `verification` with `phone` and `actionType`
/// (`verify_customer`, the default, or `verify_privilege`).
async fn send(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let doc = crm.json_object("verification")?;
    let Some(phone) = member_text(&doc, "phone") else {
        return Err(field_error("verification.phone", "This value should not be blank."));
    };
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    if !(5..=20).contains(&digits) || phone.chars().any(|c| !(c.is_ascii_digit() || " +-()".contains(c))) {
        return Err(field_error("verification.phone", "This value is not a valid phone number."));
    }
    let action = member_text(&doc, "actionType").unwrap_or_else(|| SMS_ACTIONS[0].to_string());
    if !SMS_ACTIONS.contains(&action.as_str()) {
        return Err(field_error(
            "verification.actionType",
            format!("The value you selected is not a valid choice. Allowed: {}.", SMS_ACTIONS.join(", ")),
        ));
    }
    let code = {
        use rand::Rng;
        format!("{:06}", rand::rng().random_range(0..1_000_000u32))
    };
    let check_id = uuid::Uuid::new_v4().simple().to_string();
    let check = state.store.create_sms_check(&check_id, &phone, &action, &code).await?;
    if let Err(e) = state.sms.send(&phone, &format!("Code: {code}")) {
        tracing::warn!(error = %e, "SMS not delivered");
        return Err(CrmError::new(StatusCode::SERVICE_UNAVAILABLE, "The SMS could not be sent."));
    }
    ok(StatusCode::OK, json!({ "verification": check_json(&check, &state.config.zone) }))
}

/// `POST /api/v5/verification/sms/confirm`: form `verification` with `checkId` and `code`.
async fn confirm(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let doc = crm.json_object("verification")?;
    let Some(check_id) = member_text(&doc, "checkId") else {
        return Err(field_error("verification.checkId", "This value should not be blank."));
    };
    let Some(code) = member_text(&doc, "code") else {
        return Err(field_error("verification.code", "This value should not be blank."));
    };
    let zone = &state.config.zone;
    match state.store.confirm_sms_check(&check_id, &code).await? {
        Confirmation::Verified(c) => ok(StatusCode::OK, json!({ "verification": check_json(&c, zone) })),
        Confirmation::WrongCode(left) => Err(CrmError::new(StatusCode::BAD_REQUEST, "Wrong verification code.")
            .with_errors(json!({ "verification.code": format!("The code is wrong; {left} tries left.") }))),
        Confirmation::Closed(c) => {
            let why =
                if c.verified_at.is_some() { "The code was already confirmed." } else { "The check has expired." };
            Err(CrmError::new(StatusCode::BAD_REQUEST, why).with("verification", check_json(&c, zone)))
        }
    }
}

/// `GET /api/v5/verification/sms/{checkId}/status`.
async fn status(State(state): State<AppState>, Path(check_id): Path<String>, _crm: Crm) -> CrmResult {
    match state.store.sms_check(&check_id).await? {
        Some(c) => ok(StatusCode::OK, json!({ "verification": check_json(&c, &state.config.zone) })),
        None => Err(CrmError::not_found()),
    }
}
