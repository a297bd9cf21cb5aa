//! Refunds of paid orders: what is left to refund per basket item, refund creation, and the list.

use super::{Billing, BillingErr, BillingResult, data, page, render};
use crate::AppState;
use crate::kit::Field;
use axum::extract::{Path, State};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use torg_domain::invoice::{
    BillingError, Doc, InvoiceStatus, REFUND_FIELDS, Refund, check_basket, check_refund_lines, decimal_of, money_value,
    text_at,
};

/// What a refund takes (anything else is refused).
pub(super) const CREATE_FIELDS: &[Field] = &[
    Field::text("parentId").required().about("The paid order."),
    Field::text("merchantOrderId").required(),
    Field::number("amount").required(),
    Field::number("vatAmount").required(),
    Field::list("basketItems"),
    Field::text("description"),
    Field::one_of("status", &["draft", "created", "completed"]),
];

/// `GET /v3/billing/api/order/order/{id}/refund-basket-item`: the basket with `availableAmount`.
pub async fn basket(State(state): State<AppState>, Path(id): Path<String>, billing: Billing) -> BillingResult {
    let (inv, _) = billing.invoice(&state, &id).await?;
    let lines = state.store.refund_lines(&inv).await?;
    let paid = inv.status == InvoiceStatus::Completed;
    let items: Vec<Value> = lines
        .into_iter()
        .map(|l| {
            let mut m = l.line;
            m.insert("availableAmount".into(), money_value(if paid { l.available } else { Decimal::ZERO }));
            Value::Object(m)
        })
        .collect();
    data(Value::Array(items))
}

/// `POST /v3/billing/api/order/refund-order`: a refund of a paid order, by items. It is carried out at
/// once (`completed`, the money leaving the linked torg order's payment) unless `status: draft` asks for
/// a draft.
pub async fn create(State(state): State<AppState>, billing: Billing) -> BillingResult {
    billing.key()?;
    let body = billing.body_of(CREATE_FIELDS)?;
    let parent_id = text_at(&body, "parentId", "parentId", 36)?;
    let (inv, _) = billing.invoice(&state, &parent_id).await.map_err(|e| match e.code.as_str() {
        "not_found" => {
            BillingError::validation("parentId", "wrong_value", "The order to refund does not exist.").into()
        }
        _ => e,
    })?;
    let merchant_order_id = text_at(&body, "merchantOrderId", "merchantOrderId", 100)?;
    let description = text_at(&body, "description", "description", 1000)?;
    let amount_of = |k: &str| -> Result<Decimal, BillingErr> {
        match body.member(k).and_then(decimal_of) {
            Some(d) if d >= Decimal::ZERO => Ok(d),
            Some(_) => Err(BillingError::validation(k, "wrong_value", format!("{k} must be 0 or more.")).into()),
            None => Err(BillingError::validation(k, "required", format!("{k} is required (a number).")).into()),
        }
    };
    let amount = amount_of("amount")?;
    let vat_amount = amount_of("vatAmount")?;
    let status = match body.member("status").and_then(Value::as_str) {
        None => "completed",
        Some("draft") => "draft",
        Some("created" | "completed") => "completed",
        Some(other) => {
            return Err(BillingError::validation(
                "status",
                "wrong_value",
                format!("status must be created or draft, not '{other}'."),
            )
            .into());
        }
    };
    let lines = check_basket(body.member("basketItems").unwrap_or(&Value::Null), amount, vat_amount, "basketItems")?;
    let refund = Refund {
        id: uuid::Uuid::new_v4().to_string(),
        parent_id: inv.id.clone(),
        site: inv.site.clone(),
        merchant_id: inv.merchant_id.clone(),
        merchant_order_id,
        status: status.into(),
        amount,
        vat_amount,
        currency: inv.currency.clone(),
        description,
        created_at: torg_domain::time::now(),
        doc: json!({ "basketItems": lines.iter().map(|l| Value::Object(l.doc.clone())).collect::<Vec<_>>() })
            .as_object()
            .cloned()
            .unwrap_or_default(),
    };
    let stored = state
        .store
        .create_refund(&refund, billing.actor(), |_, available| {
            let left: Vec<(String, Decimal)> = available
                .iter()
                .map(|l| (l.line.get("sku").and_then(Value::as_str).unwrap_or_default().to_string(), l.available))
                .collect();
            check_refund_lines(&lines, &left)
        })
        .await?;
    data(render::refund(&stored))
}

/// `GET /v3/filter/api/order/refund-order`.
pub async fn list(State(state): State<AppState>, billing: Billing) -> BillingResult {
    billing.key()?;
    let q = billing.list_query(REFUND_FIELDS)?;
    let sites = billing.list_sites(&state).await?;
    let (items, total) = state.store.list_refunds(&sites, &q).await?;
    page(items.iter().map(render::refund).collect(), total, &q)
}
