//! The CRM's integration payment API (`payment/check`, `payment/create-invoice`,
//! `payment/update-invoice`, `payment/invoice/{uuid}`, `payment/invoice/import`), wired to the billing
//! face's invoices: an invoice issued here is an Invoicebox invoice of the order's site, paid on its
//! payment page or through the billing API, and paying it marks the CRM payment paid. Decisions are in
//! docs/crm.md ("Payment integration").

use super::{Crm, CrmError, CrmResult, field_error, member_text, ok};
use crate::AppState;
use crate::faces::billing::render::payment_url;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use torg_domain::invoice::{Invoice, InvoiceStatus, decimal_of, money_value, round2};
use torg_store::{CRM_PAYMENT_MEMBER, IssuedInvoice, StoreError};

/// How long an invoice issued for a payment stays payable (RetailCRM leaves it to the module).
const INVOICE_LIFETIME_SECS: i64 = 3 * 24 * 3600;

/// Currency of invoices issued for payments: torg's orders are in roubles.
const CURRENCY: &str = "RUB";

/// RetailCRM's invoice status for a billing invoice status.
fn crm_status(s: InvoiceStatus) -> &'static str {
    match s {
        InvoiceStatus::Created => "pending",
        InvoiceStatus::Hold => "waitingForCapture",
        InvoiceStatus::Completed => "succeeded",
        InvoiceStatus::Canceled | InvoiceStatus::Expired => "canceled",
    }
}

/// The billing status a RetailCRM invoice status names (`pending` is the created invoice).
pub(super) fn billing_status(field: &str, s: &str) -> Result<InvoiceStatus, CrmError> {
    match s {
        "pending" => Ok(InvoiceStatus::Created),
        "waitingForCapture" => Ok(InvoiceStatus::Hold),
        "succeeded" => Ok(InvoiceStatus::Completed),
        "canceled" => Ok(InvoiceStatus::Canceled),
        _ => Err(field_error(
            field,
            "The value you selected is not a valid choice. Allowed: pending, waitingForCapture, succeeded, canceled.",
        )),
    }
}

/// A billing rule broken (wrong status, duplicate) is the caller's mistake: 400 with its message.
fn store_error(e: StoreError) -> CrmError {
    match e {
        StoreError::Billing(b) => CrmError::new(StatusCode::BAD_REQUEST, b.message),
        other => other.into(),
    }
}

/// A positive integer member.
fn id_member(doc: &Map<String, Value>, key: &str, path: &str) -> Result<Option<i64>, CrmError> {
    match member_text(doc, key) {
        None => Ok(None),
        Some(t) => t
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .map(Some)
            .ok_or_else(|| field_error(path, "This value should be a positive integer.")),
    }
}

/// A money member (0 or more, kopecks).
fn money_member(doc: &Map<String, Value>, key: &str, path: &str) -> Result<Option<Decimal>, CrmError> {
    match doc.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => decimal_of(v)
            .filter(|d| *d >= Decimal::ZERO && d.scale() <= 2 && *d <= torg_domain::money::max_amount())
            .map(Some)
            .ok_or_else(|| field_error(path, "This value should be a sum of money, 0 or more, in kopecks at most.")),
    }
}

/// A text member of at most `max` characters.
fn text_member(doc: &Map<String, Value>, key: &str, path: &str, max: usize) -> Result<Option<String>, CrmError> {
    match doc.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() <= max => Ok(Some(s.trim().to_string()).filter(|s| !s.is_empty())),
        Some(Value::String(_)) => Err(field_error(path, format!("This value is too long (at most {max} characters)."))),
        Some(_) => Err(field_error(path, "This value should be a string.")),
    }
}

/// A date-time member in the CRM's format (`Y-m-d H:i:s`, the configured zone).
fn time_member(
    zone: &torg_domain::time::Zone,
    doc: &Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<i64>, CrmError> {
    match text_member(doc, key, path, 40)? {
        None => Ok(None),
        Some(t) => zone
            .parse_start(&t)
            .map(Some)
            .ok_or_else(|| field_error(path, "This value is not a valid datetime (expected Y-m-d H:i:s).")),
    }
}

/// A flag member.
fn flag_member(doc: &Map<String, Value>, key: &str, path: &str) -> Result<Option<bool>, CrmError> {
    match doc.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::Number(n)) if n.as_i64() == Some(0) || n.as_i64() == Some(1) => Ok(Some(n.as_i64() == Some(1))),
        Some(Value::String(s)) if matches!(s.as_str(), "true" | "false" | "1" | "0") => {
            Ok(Some(matches!(s.as_str(), "true" | "1")))
        }
        Some(_) => Err(field_error(path, "This value should be of type boolean.")),
    }
}

/// The one basket line of an invoice for a payment: the payment itself, without VAT (the order's
/// lines and their VAT belong to the shipment documents, not to a part payment).
fn payment_line(payment_id: i64, order_number: &str, amount: Decimal) -> Value {
    let amount = round2(amount);
    json!({
        "sku": format!("payment-{payment_id}"), "name": format!("Оплата заказа {order_number}"),
        "measure": "шт.", "measureCode": "796", "quantity": 1, "amount": money_value(amount),
        "amountWoVat": money_value(amount), "totalAmount": money_value(amount), "totalVatAmount": 0,
        "vatCode": "VATNONE", "type": "payment", "paymentType": "full_prepayment",
    })
}

/// An invoice the caller's sites reach, by uuid.
async fn invoice_of(state: &AppState, crm: &Crm, uuid: &str) -> Result<Invoice, CrmError> {
    match state.store.get_invoice(uuid).await? {
        Some(inv) if crm.sites.contains(&inv.site) => Ok(inv),
        _ => Err(CrmError::new(StatusCode::NOT_FOUND, "Invoice not found")),
    }
}

/// Issues a billing invoice for a CRM payment of `order` on the merchant of `settings`: the payment's
/// amount, one basket line, payable for [`INVOICE_LIFETIME_SECS`] (also used by the demo data); or
/// finds the payment's pending or paid invoice instead (see [`torg_store::Store::issue_payment_invoice`]).
pub async fn issue_for_payment(
    store: &torg_store::Store,
    settings: &torg_domain::invoice::BillingSettings,
    order: &torg_domain::order::Order,
    payment: &torg_domain::order::Payment,
    return_url: Option<String>,
) -> Result<IssuedInvoice, StoreError> {
    let now = torg_domain::time::now();
    let mut extra = Map::new();
    extra.insert(CRM_PAYMENT_MEMBER.into(), json!(payment.id));
    extra.insert("basketItems".into(), json!([payment_line(payment.id, &order.number, payment.amount)]));
    // The payment page shows the order's number, not the internal merchant order id.
    extra.insert("merchantOrderIdVisible".into(), json!(order.number));
    if let Some(url) = return_url {
        extra.insert("successUrl".into(), json!(url.clone()));
        extra.insert("returnUrl".into(), json!(url));
    }
    let inv = Invoice {
        id: uuid::Uuid::new_v4().to_string(),
        container_id: uuid::Uuid::new_v4().to_string(),
        site: settings.site.clone(),
        merchant_id: settings.merchant_id.clone(),
        // Numbered by the store, in the transaction that checks the payment's other invoices.
        merchant_order_id: String::new(),
        order_id: Some(order.id),
        status: InvoiceStatus::Created,
        amount: round2(payment.amount),
        vat_amount: Decimal::ZERO,
        currency: CURRENCY.into(),
        language: "ru".into(),
        description: format!("Оплата заказа {}", order.number),
        processable: true,
        notification_url: None,
        created_at: now,
        expires_at: now + INVOICE_LIFETIME_SECS,
        paid_at: None,
        doc: extra,
    };
    // Such an invoice has no payer, so no order edit follows (as `create_invoice` makes for one).
    store.issue_payment_invoice(inv, payment.id).await
}

/// `POST /api/v5/payment/create-invoice`: `createInvoice` `{paymentId, returnUrl}` issues a billing
/// invoice for the payment's sum on its order's site and answers the payment page's link (and, beyond
/// RetailCRM's shape, the invoice's `invoiceUuid`, so the caller can read it back). A payment
/// whose invoice is still payable gets that invoice's link again; a paid one is refused.
pub async fn create_invoice(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let doc = crm.json_object("createInvoice")?;
    let payment_id = id_member(&doc, "paymentId", "createInvoice.paymentId")?
        .ok_or_else(|| field_error("createInvoice.paymentId", "This value should not be blank."))?;
    let return_url = text_member(&doc, "returnUrl", "createInvoice.returnUrl", 1000)?;
    let (order, payment) = state
        .store
        .order_of_payment(payment_id, &crm.sites)
        .await?
        .ok_or_else(|| CrmError::new(StatusCode::NOT_FOUND, "Payment not found"))?;
    let standing = match state.store.payment_invoice_in_force(payment_id).await? {
        Some(standing) => standing,
        None => {
            if payment.amount <= Decimal::ZERO {
                return Err(field_error("createInvoice.paymentId", "The payment's amount must be more than 0."));
            }
            let settings = state.store.billing_settings(&order.site).await?.ok_or_else(|| {
                CrmError::new(
                    StatusCode::BAD_REQUEST,
                    format!("Site {} takes no payments: it has no billing merchant (torg billing set).", order.site),
                )
            })?;
            // A concurrent call may have issued (or its payer paid) one since the look above.
            issue_for_payment(&state.store, &settings, &order, &payment, return_url).await?
        }
    };
    match standing {
        IssuedInvoice::Issued(inv) | IssuedInvoice::Pending(inv) => ok(
            StatusCode::OK,
            json!({"result": {"link": payment_url(&state.config.public_url, &inv), "invoiceUuid": inv.id}}),
        ),
        IssuedInvoice::Paid(inv) => Err(CrmError::new(
            StatusCode::BAD_REQUEST,
            format!("Payment {payment_id} is already paid by invoice {}.", inv.id),
        )),
    }
}

/// `POST /api/v5/payment/check`: `check` `{invoiceUuid, amount, currency}` asks whether the invoice
/// can still be paid with that sum; the verdict is in `result` (the request itself succeeded).
pub async fn check(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let doc = crm.json_object("check")?;
    let uuid = text_member(&doc, "invoiceUuid", "check.invoiceUuid", 64)?
        .ok_or_else(|| field_error("check.invoiceUuid", "This value should not be blank."))?;
    let amount = money_member(&doc, "amount", "check.amount")?;
    let currency = text_member(&doc, "currency", "check.currency", 3)?;
    let inv = invoice_of(&state, &crm, &uuid).await?;
    let refusal = if inv.status != InvoiceStatus::Created {
        Some(format!("The invoice is {}; only a pending invoice can be paid.", crm_status(inv.status)))
    } else if amount.is_some_and(|a| a != inv.amount) {
        Some(format!("The invoice is for {} {}, not {}.", inv.amount, inv.currency, amount.unwrap_or_default()))
    } else if currency.as_deref().is_some_and(|c| !c.eq_ignore_ascii_case(&inv.currency)) {
        Some(format!("The invoice is in {}.", inv.currency))
    } else {
        None
    };
    let result = match refusal {
        None => json!({"success": true}),
        Some(msg) => json!({"success": false, "errorMsg": msg}),
    };
    ok(StatusCode::OK, json!({ "result": result }))
}

/// The invoice as RetailCRM's `ApiGetInvoiceResponse` shows it.
async fn render(state: &AppState, inv: &Invoice) -> Result<Value, CrmError> {
    let zone = &state.config.zone;
    let order = match inv.order_id {
        Some(id) => state.store.get_order(&torg_store::OrderLookup::Id(id)).await?,
        None => None,
    };
    let payment_id = inv.doc.get(CRM_PAYMENT_MEMBER).and_then(Value::as_i64);
    let external = payment_id
        .and_then(|pid| order.as_ref().and_then(|o| o.payments.iter().find(|p| p.id == pid)))
        .and_then(|p| p.external_id.clone());
    let cancellation = match inv.status {
        InvoiceStatus::Expired => Some(Value::String("expired".into())),
        InvoiceStatus::Canceled => Some(inv.doc.get("cancellationDetails").cloned().unwrap_or(json!("canceled"))),
        _ => None,
    };
    let flag = |k: &str, default: bool| inv.doc.get(k).and_then(Value::as_bool).unwrap_or(default);
    Ok(json!({
        "invoiceUuid": inv.id,
        "invoiceType": "link",
        "link": inv.doc.get("invoiceUrl").cloned().unwrap_or_else(|| json!(payment_url(&state.config.public_url, inv))),
        "status": crm_status(inv.status),
        "createdAt": zone.datetime(inv.created_at),
        "expiredAt": zone.datetime(inv.expires_at),
        "paidAt": inv.paid_at.map(|t| zone.datetime(t)),
        "amount": inv.amount.normalize().to_string(),
        "discountAmount": inv.doc.get("discountAmount").cloned().unwrap_or(json!(0)),
        "currency": inv.currency,
        "orderId": order.as_ref().map(|o| o.id),
        "customerId": order.as_ref().and_then(|o| o.customer_id),
        "email": order.as_ref().and_then(|o| o.email.clone()),
        "phone": order.as_ref().and_then(|o| o.phone.clone()),
        "paymentId": payment_id.map(|p| p.to_string()),
        "externalId": inv.doc.get("externalId").cloned().or(external.map(Value::String)),
        "cancellationDetails": cancellation,
        "refundable": flag("refundable", inv.status == InvoiceStatus::Completed),
        "cancellable": flag("cancellable", matches!(inv.status, InvoiceStatus::Created | InvoiceStatus::Hold)),
        "refunds": inv.doc.get("refunds").cloned().unwrap_or(json!([])),
    }))
}

/// `GET /api/v5/payment/invoice/{uuid}`.
pub async fn get(State(state): State<AppState>, Path(uuid): Path<String>, crm: Crm) -> CrmResult {
    let inv = invoice_of(&state, &crm, &uuid).await?;
    ok(StatusCode::OK, json!({ "invoice": render(&state, &inv).await? }))
}

/// `POST /api/v5/payment/update-invoice`: `updateInvoice` names the invoice by `invoiceUuid` (else the
/// newest invoice of `paymentId`). Sums, dates and the link change only while it is pending; `status`
/// then moves it (`succeeded` pays it and marks the payment paid, `waitingForCapture` holds it,
/// `canceled` cancels it). Refunds go through the billing face's refund API.
pub async fn update_invoice(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let doc = crm.json_object("updateInvoice")?;
    let zone = &state.config.zone;
    let uuid = text_member(&doc, "invoiceUuid", "updateInvoice.invoiceUuid", 64)?;
    let by_payment = id_member(&doc, "paymentId", "updateInvoice.paymentId")?;
    let amount = money_member(&doc, "amount", "updateInvoice.amount")?;
    let discount = money_member(&doc, "discountAmount", "updateInvoice.discountAmount")?;
    let status = match text_member(&doc, "status", "updateInvoice.status", 40)? {
        Some(s) => Some(billing_status("updateInvoice.status", &s)?),
        None => None,
    };
    let details = text_member(&doc, "cancellationDetails", "updateInvoice.cancellationDetails", 255)?;
    let url = text_member(&doc, "invoiceUrl", "updateInvoice.invoiceUrl", 1000)?;
    let expires = time_member(zone, &doc, "expiredAt", "updateInvoice.expiredAt")?;
    // The payment time is torg's own clock when the invoice is paid here; the member is only checked.
    time_member(zone, &doc, "paidAt", "updateInvoice.paidAt")?;
    let refundable = flag_member(&doc, "refundable", "updateInvoice.refundable")?;
    let cancellable = flag_member(&doc, "cancellable", "updateInvoice.cancellable")?;
    if doc.get("refund").is_some_and(|v| !v.is_null()) {
        return Err(field_error(
            "updateInvoice.refund",
            "Refunds of an invoice are made with the billing face's refund API.",
        ));
    }
    if amount == Some(Decimal::ZERO) {
        return Err(field_error("updateInvoice.amount", "The amount must be more than 0."));
    }
    let now = torg_domain::time::now();
    if expires.is_some_and(|t| t <= now) {
        return Err(field_error("updateInvoice.expiredAt", "This value should be in the future."));
    }
    let inv = match (uuid, by_payment) {
        (Some(u), _) => invoice_of(&state, &crm, &u).await?,
        (None, Some(pid)) => {
            state.store.order_of_payment(pid, &crm.sites).await?.ok_or_else(CrmError::not_found)?;
            state.store.payment_invoices(pid).await?.into_iter().next().ok_or_else(CrmError::not_found)?
        }
        (None, None) => {
            return Err(field_error(
                "updateInvoice.invoiceUuid",
                "The invoice must be given by invoiceUuid or paymentId.",
            ));
        }
    };
    // An invoice made in the billing face has a basket of its own: it is changed there.
    let Some(own) = inv.doc.get(CRM_PAYMENT_MEMBER).and_then(Value::as_i64) else {
        return Err(CrmError::new(
            StatusCode::BAD_REQUEST,
            "The invoice was not issued for a CRM payment; change it through the billing API.",
        ));
    };
    if by_payment.is_some_and(|pid| pid != own) {
        return Err(field_error("updateInvoice.paymentId", format!("The invoice was issued for payment {own}.")));
    }
    let changes_terms = amount.is_some() || discount.is_some() || url.is_some() || expires.is_some();
    let changes_doc = changes_terms || details.is_some() || refundable.is_some() || cancellable.is_some();
    if changes_doc {
        let order_number = match inv.order_id {
            Some(id) => state.store.get_order(&torg_store::OrderLookup::Id(id)).await?.map(|o| o.number),
            None => None,
        };
        let id = inv.id.clone();
        state
            .store
            .update_invoice(&id, crm.actor(), &state.config.zone, |old| {
                let mut new = old.clone();
                if let Some(a) = amount {
                    new.amount = round2(a);
                    new.vat_amount = Decimal::ZERO;
                    let number = order_number.clone().unwrap_or_else(|| old.merchant_order_id.clone());
                    new.doc.insert("basketItems".into(), json!([payment_line(own, &number, a)]));
                }
                if let Some(t) = expires {
                    new.expires_at = t;
                }
                for (k, v) in [
                    ("discountAmount", discount.map(money_value)),
                    ("invoiceUrl", url.clone().map(Value::String)),
                    ("cancellationDetails", details.clone().map(Value::String)),
                    ("refundable", refundable.map(Value::Bool)),
                    ("cancellable", cancellable.map(Value::Bool)),
                ] {
                    if let Some(v) = v {
                        new.doc.insert(k.into(), v);
                    }
                }
                Ok(new)
            })
            .await
            .map_err(store_error)?;
    }
    if let Some(to) = status.filter(|to| *to != inv.status) {
        match to {
            InvoiceStatus::Created => {
                return Err(CrmError::new(
                    StatusCode::BAD_REQUEST,
                    format!("The invoice is {}; it cannot become pending again.", crm_status(inv.status)),
                ));
            }
            InvoiceStatus::Hold => {
                state.store.hold_invoice(&inv.id, None, crm.actor(), zone).await.map_err(store_error)?;
            }
            _ => {
                state
                    .store
                    .set_invoice_status(&inv.id, to, !inv.processable, crm.actor(), zone)
                    .await
                    .map_err(store_error)?;
            }
        }
    }
    ok(StatusCode::OK, json!({}))
}

/// `POST /api/v5/payment/invoice/import`: `invoice` `{paymentId, externalId, amount, currency, status,
/// createdAt, paidAt, discountAmount, refunds, refundable}` records an invoice paid or issued outside
/// torg for a payment, as a non-processable billing invoice (its status is the merchant's word); a
/// `succeeded` import marks the payment paid.
pub async fn import(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let doc = crm.json_object("invoice")?;
    let zone = &state.config.zone;
    let payment_id = id_member(&doc, "paymentId", "invoice.paymentId")?
        .ok_or_else(|| field_error("invoice.paymentId", "This value should not be blank."))?;
    let external = text_member(&doc, "externalId", "invoice.externalId", 255)?;
    let amount = money_member(&doc, "amount", "invoice.amount")?;
    let currency = text_member(&doc, "currency", "invoice.currency", 3)?.unwrap_or_else(|| CURRENCY.into());
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(field_error("invoice.currency", "This value is not a valid currency."));
    }
    let status = match text_member(&doc, "status", "invoice.status", 40)? {
        Some(s) => billing_status("invoice.status", &s)?,
        None => return Err(field_error("invoice.status", "This value should not be blank.")),
    };
    let created_at = time_member(zone, &doc, "createdAt", "invoice.createdAt")?;
    let paid_at = time_member(zone, &doc, "paidAt", "invoice.paidAt")?;
    let discount = money_member(&doc, "discountAmount", "invoice.discountAmount")?;
    let refundable = flag_member(&doc, "refundable", "invoice.refundable")?;
    let refunds = match doc.get("refunds") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) if list.iter().all(Value::is_object) && list.len() <= 100 => list.clone(),
        Some(_) => return Err(field_error("invoice.refunds", "This value should be a list of objects (at most 100).")),
    };
    let (order, payment) = state
        .store
        .order_of_payment(payment_id, &crm.sites)
        .await?
        .ok_or_else(|| CrmError::new(StatusCode::NOT_FOUND, "Payment not found"))?;
    if state
        .store
        .payment_invoices(payment_id)
        .await?
        .iter()
        .any(|i| matches!(i.status, InvoiceStatus::Completed | InvoiceStatus::Hold))
    {
        return Err(CrmError::new(StatusCode::BAD_REQUEST, format!("Payment {payment_id} is already paid.")));
    }
    let settings = state.store.billing_settings(&order.site).await?.ok_or_else(|| {
        CrmError::new(
            StatusCode::BAD_REQUEST,
            format!("Site {} takes no payments: it has no billing merchant (torg billing set).", order.site),
        )
    })?;
    let amount = round2(amount.unwrap_or(payment.amount));
    if amount <= Decimal::ZERO {
        return Err(field_error("invoice.amount", "The amount must be more than 0."));
    }
    let now = torg_domain::time::now();
    let created = created_at.unwrap_or(now);
    let mut extra = Map::new();
    extra.insert(CRM_PAYMENT_MEMBER.into(), json!(payment_id));
    extra.insert("basketItems".into(), json!([payment_line(payment_id, &order.number, amount)]));
    extra.insert("merchantOrderIdVisible".into(), json!(order.number));
    extra.insert("imported".into(), json!(true));
    extra.insert("refunds".into(), Value::Array(refunds));
    for (k, v) in [
        ("externalId", external.map(Value::String)),
        ("discountAmount", discount.map(money_value)),
        ("refundable", refundable.map(Value::Bool)),
    ] {
        if let Some(v) = v {
            extra.insert(k.into(), v);
        }
    }
    let inv = Invoice {
        id: uuid::Uuid::new_v4().to_string(),
        container_id: uuid::Uuid::new_v4().to_string(),
        site: settings.site.clone(),
        merchant_id: settings.merchant_id.clone(),
        merchant_order_id: state.store.next_payment_invoice_ref(payment_id).await?,
        order_id: Some(order.id),
        status: InvoiceStatus::Created,
        amount,
        vat_amount: Decimal::ZERO,
        currency: currency.to_ascii_uppercase(),
        language: "ru".into(),
        description: format!("Оплата заказа {}", order.number),
        processable: false,
        notification_url: None,
        created_at: created,
        expires_at: now.max(created) + INVOICE_LIFETIME_SECS,
        paid_at: None,
        doc: extra,
    };
    let stored =
        state.store.import_payment_invoice(&inv, status, paid_at, crm.actor(), zone).await.map_err(store_error)?;
    ok(StatusCode::OK, json!({"invoice": {"invoiceUuid": stored.id}}))
}
