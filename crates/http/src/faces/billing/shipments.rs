//! Shipments: what left the warehouse against an invoice (a hold is captured by the last one), and
//! their lists.

use super::{Billing, BillingErr, BillingResult, data, page, render};
use crate::AppState;
use crate::kit::{Field, Kind};
use axum::extract::State;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use torg_domain::invoice::{
    BillingError, Doc, SHIPMENT_FIELDS, Shipment, check_line, check_lines_left, optional_text, text_at,
};

/// What a shipment takes (anything else is refused).
pub(super) const CREATE_FIELDS: &[Field] = &[
    Field::text("orderId").required(),
    Field::text("documentNumber"),
    Field::new("documentDate", Kind::Date),
    Field::list("basketItems").required(),
    Field::flag("final"),
];

/// `documentDate`: a calendar date, `YYYY-MM-DD`.
fn document_date(body: &impl Doc) -> Result<Option<String>, BillingError> {
    match body.member("documentDate") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.parse::<jiff::civil::Date>().is_ok() && s.len() == 10 => Ok(Some(s.clone())),
        Some(_) => {
            Err(BillingError::validation("documentDate", "wrong_value", "documentDate must be a date, YYYY-MM-DD."))
        }
    }
}

/// `POST /v3/billing/api/order/shipment`: ships lines of an invoice (`orderId`); never more than is
/// left of each line.
pub async fn create(State(state): State<AppState>, billing: Billing) -> BillingResult {
    billing.key()?;
    let body = billing.body_of(CREATE_FIELDS)?;
    let order_id = text_at(&body, "orderId", "orderId", 36)?;
    let (inv, _) = billing.invoice(&state, &order_id).await.map_err(|e| match e.code.as_str() {
        "not_found" => BillingError::validation("orderId", "wrong_value", "The order to ship does not exist.").into(),
        _ => e,
    })?;
    let document_number = optional_text(&body, "documentNumber", "documentNumber", 36)?;
    let document_date = document_date(&body)?;
    let is_final = match body.member("final") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(BillingError::validation("final", "wrong_type", "final must be true or false.").into()),
    };
    let raw = match body.member("basketItems") {
        Some(Value::Array(a)) if !a.is_empty() => a.clone(),
        Some(Value::Array(_)) => {
            return Err(BillingError::validation("basketItems", "required", "basketItems may not be empty.").into());
        }
        None | Some(Value::Null) => {
            return Err(BillingError::validation("basketItems", "required", "basketItems is required.").into());
        }
        Some(_) => {
            return Err(BillingError::validation("basketItems", "wrong_type", "basketItems must be a list.").into());
        }
    };
    let lines = raw.iter().enumerate().map(|(i, l)| check_line(l, i, "basketItems")).collect::<Result<Vec<_>, _>>()?;
    let amount: Decimal = lines.iter().map(|l| l.total_amount).sum();
    let vat_amount: Decimal = lines.iter().map(|l| l.total_vat_amount).sum();
    let shipment = Shipment {
        id: 0,
        invoice_id: inv.id.clone(),
        site: inv.site.clone(),
        merchant_id: inv.merchant_id.clone(),
        document_number,
        document_date,
        is_final,
        amount,
        vat_amount,
        created_at: torg_domain::time::now(),
        doc: json!({ "basketItems": lines.iter().map(|l| Value::Object(l.doc.clone())).collect::<Vec<_>>() })
            .as_object()
            .cloned()
            .unwrap_or_default(),
    };
    let (stored, _) = state
        .store
        .create_invoice_shipment(&shipment, billing.actor(), &state.config.zone, |_, left| {
            let left: Vec<(String, Decimal)> = left
                .iter()
                .map(|l| (l.line.get("sku").and_then(Value::as_str).unwrap_or_default().to_string(), l.available))
                .collect();
            check_lines_left(&lines, &left, "ship")
        })
        .await?;
    data(render::shipment(&stored))
}

/// `GET /v3/filter/api/order/shipment`: shipments, filtered, sorted and paged like the other lists.
pub async fn list(State(state): State<AppState>, billing: Billing) -> BillingResult {
    billing.key()?;
    let q = billing.list_query(SHIPMENT_FIELDS)?;
    let sites = billing.list_sites(&state).await?;
    let (items, total) = state.store.list_invoice_shipments(&sites, &q).await?;
    page(items.iter().map(render::shipment).collect(), total, &q)
}

/// `GET /v3/billing/api/order/shipment?orderId=`: the shipments of one order (`orderId` required).
pub async fn list_of_order(state: State<AppState>, billing: Billing) -> BillingResult {
    if billing.input.query_param("orderId").and_then(Value::as_str).is_none_or(|v| v.trim().is_empty()) {
        return Err(BillingErr::from(BillingError::validation("orderId", "required", "orderId is required.")));
    }
    list(state, billing).await
}
