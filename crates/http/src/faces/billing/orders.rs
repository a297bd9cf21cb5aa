//! Payment orders (invoices): the auth check, create, get, update, cancel, list, and the status PUT of
//! non-processable orders.

use super::{Billing, BillingErr, BillingResult, data, page, render};
use crate::AppState;
use crate::kit::Field;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use sha1::{Digest, Sha1};
use torg_domain::history::Actor;
use torg_domain::invoice::{
    BillingError, BillingSettings, Doc, FieldProblem, INVOICE_FIELDS, Invoice, InvoiceStatus, check_basket,
    check_create, check_expiration, money_value, optional_text, round2, text_at,
};
use torg_domain::order::Order;
use torg_domain::time::Zone;
use torg_store::{OrderLookup, Store};

/// Members a create request may carry (docs/billing.md); anything else is refused, as Invoicebox rejects contract
/// violations.
pub(super) const CREATE_FIELDS: &[Field] = &[
    Field::text("description"),
    Field::text("merchantId").required(),
    Field::text("merchantOrderId").required(),
    Field::text("merchantOrderIdVisible"),
    Field::number("amount").required(),
    Field::number("vatAmount").required(),
    Field::text("currencyId").required(),
    Field::text("languageId"),
    Field::text("expirationDate").required().about("RFC 3339 date-time."),
    Field::list("basketItems").required(),
    Field::object("metaData"),
    Field::object("customer"),
    Field::text("notificationUrl"),
    Field::text("successUrl"),
    Field::text("failUrl"),
    Field::text("returnUrl"),
    Field::object("invoiceSetting"),
    Field::object("orderSetting"),
    Field::text("parentId"),
    Field::text("orderContainerId"),
    Field::text("shopId"),
    Field::text("userAccountId"),
    Field::flag("processable"),
];

/// Members an update may carry (UpdateOrderRequest).
pub(super) const UPDATE_FIELDS: &[Field] = &[
    Field::text("description"),
    Field::number("amount"),
    Field::number("vatAmount"),
    Field::text("expirationDate").about("RFC 3339 date-time."),
    Field::list("basketItems"),
    Field::object("metaData"),
    Field::object("customer"),
    Field::text("shopId"),
];

/// What a status change takes.
pub(super) const STATUS_FIELDS: &[Field] =
    &[Field::one_of("status", &["created", "completed", "canceled", "cancelled", "expired"])
        .required()
        .about("The new status.")];

/// What a move to another merchant takes.
pub(super) const MOVE_FIELDS: &[Field] = &[Field::text("merchantId").required(), Field::text("orderId").required()];

/// What a confirmation takes: the order as `orderId` or `invoiceId`.
pub(super) const CONFIRM_FIELDS: &[Field] = &[
    Field::text("orderId").about("The order; `invoiceId` names it too."),
    Field::text("invoiceId"),
    Field::text("partnerOperationId").required(),
];

/// Members of a create kept in the invoice's document as given (and shown back); the others are
/// read into columns.
const KEPT: &[&str] = &[
    "merchantOrderIdVisible",
    "metaData",
    "customer",
    "successUrl",
    "failUrl",
    "returnUrl",
    "invoiceSetting",
    "orderSetting",
    "parentId",
    "shopId",
    "userAccountId",
];

/// A create body with members filled in over it (the basket of the linked torg order).
struct Filled<'a, D: Doc> {
    over: Map<String, Value>,
    body: &'a D,
}

impl<D: Doc> Doc for Filled<'_, D> {
    fn member(&self, key: &str) -> Option<&Value> {
        self.over.get(key).or_else(|| self.body.member(key))
    }
}

fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// `GET /v3/security/api/auth/auth`: the key's user id (`null` without a token).
pub async fn auth_check(State(state): State<AppState>, billing: Billing) -> BillingResult {
    let Some(key) = &billing.key else { return data(json!({ "userId": null })) };
    let user = match state.store.meta(&format!("billing_user:{}", key.id)).await? {
        Some(u) => u,
        None => {
            // A stable UUID-shaped id per key, so a client sees the same user on every check.
            stable_uuid(&format!("torg-billing-user:{}:{}", key.id, key.created_at))
        }
    };
    data(json!({ "userId": user }))
}

/// A UUID-shaped id derived from `seed`: the same seed, the same id.
pub fn stable_uuid(seed: &str) -> String {
    let h = hex_string(&Sha1::digest(seed.as_bytes()));
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// VAT code and rate of an order line's `vatRate`.
fn vat_of(rate: Option<&str>) -> (&'static str, u32) {
    match rate {
        Some("20") => ("RUS_VAT20", 20),
        Some("10") => ("RUS_VAT10", 10),
        Some("0") => ("RUS_VAT0", 0),
        _ => ("VATNONE", 0),
    }
}

fn basket_line(sku: &str, name: &str, qty: Decimal, unit: Decimal, vat_rate: Option<&str>, kind: &str) -> Value {
    let total = round2(unit * qty);
    let (code, rate) = vat_of(vat_rate);
    let vat = round2(total * Decimal::from(rate) / Decimal::from(100 + rate));
    let wo = round2((total - vat) / qty);
    json!({
        "sku": sku, "name": name, "measure": "шт.", "measureCode": "796", "quantity": money_value(qty),
        "amount": money_value(unit), "amountWoVat": money_value(wo), "totalAmount": money_value(total),
        "totalVatAmount": money_value(vat), "vatCode": code, "type": kind, "paymentType": "full_prepayment",
    })
}

/// The basket of a torg order: a line per item (price after discounts) and delivery as a service.
pub fn order_basket(o: &Order) -> Vec<Value> {
    let mut lines: Vec<Value> = o
        .items
        .iter()
        .map(|i| {
            let sku = i
                .offer
                .as_ref()
                .and_then(|s| s.article.clone().or(s.external_id.clone()))
                .unwrap_or_else(|| format!("item-{}", i.id));
            let name = i.product_name.clone().unwrap_or_else(|| sku.clone());
            basket_line(&sku, &name, i.quantity, i.unit_price(), i.vat_rate.as_deref(), "commodity")
        })
        .collect();
    if let Some(cost) = o.delivery.cost.filter(|c| *c > Decimal::ZERO) {
        lines.push(basket_line("delivery", "Доставка", Decimal::ONE, cost, None, "service"));
    }
    lines
}

/// Finds the torg order a `merchantOrderId` names on the merchant's site: by number, then externalId.
async fn linked_order(store: &Store, site: &str, merchant_order_id: &str) -> Result<Option<Order>, BillingErr> {
    if let Some(o) = store.get_order(&OrderLookup::Number(merchant_order_id.into())).await?
        && o.site == site
    {
        return Ok(Some(o));
    }
    let by_ext = OrderLookup::ExternalId { site: site.into(), external_id: merchant_order_id.into() };
    Ok(store.get_order(&by_ext).await?)
}

/// Checks and stores a create request for the merchant of `settings`; `actor` and `zone` are for the
/// edit that puts the order it pays under a legal payer's corporate customer (docs/billing.md).
async fn create_invoice(
    store: &Store,
    settings: &BillingSettings,
    body: &impl Doc,
    (actor, zone): (Actor, &Zone),
    now: i64,
) -> Result<Invoice, BillingErr> {
    let inv = build_invoice(store, settings, body, now).await?;
    Ok(store.create_invoice(&inv, actor, zone).await?)
}

/// Checks a create request for the merchant of `settings` and makes the invoice it asks for.
async fn build_invoice(
    store: &Store,
    settings: &BillingSettings,
    given: &impl Doc,
    now: i64,
) -> Result<Invoice, BillingErr> {
    let merchant_order_id = text_at(given, "merchantOrderId", "merchantOrderId", 256)?;
    let order = linked_order(store, &settings.site, &merchant_order_id).await?;
    let mut over = Map::new();
    if given.member("basketItems").is_none_or(Value::is_null) {
        let Some(o) = &order else {
            return Err(BillingError::validation(
                "basketItems",
                "required",
                "basketItems is required unless merchantOrderId names a torg order.",
            )
            .into());
        };
        let lines = order_basket(o);
        let sum = |k: &str| -> Decimal {
            lines.iter().filter_map(|l| l.get(k).and_then(torg_domain::invoice::decimal_of)).sum()
        };
        for (key, total) in [("amount", "totalAmount"), ("vatAmount", "totalVatAmount")] {
            if given.member(key).is_none() {
                over.insert(key.into(), money_value(sum(total)));
            }
        }
        over.insert("basketItems".into(), Value::Array(lines));
    }
    let body = Filled { over, body: given };
    let basket = body.member("basketItems").cloned().unwrap_or(Value::Null);
    let checked = check_create(&body, &basket, now)?;
    let description = text_at(&body, "description", "description", 1000)?;
    let notification_url = optional_text(&body, "notificationUrl", "notificationUrl", 1000)?;
    let processable = body.member("processable").and_then(Value::as_bool).unwrap_or(true);
    // A given container is ignored: every invoice gets its own (docs/billing.md).
    let _ = body.member("orderContainerId");
    let mut doc: Map<String, Value> = KEPT
        .iter()
        .filter_map(|k| body.member(k).filter(|v| !v.is_null()).map(|v| ((*k).to_string(), v.clone())))
        .collect();
    doc.insert(
        "basketItems".into(),
        Value::Array(checked.lines.iter().map(|l| Value::Object(l.doc.clone())).collect()),
    );
    let inv = Invoice {
        id: new_uuid(),
        container_id: new_uuid(),
        site: settings.site.clone(),
        merchant_id: settings.merchant_id.clone(),
        merchant_order_id,
        order_id: order.map(|o| o.id),
        status: InvoiceStatus::Created,
        amount: checked.amount,
        vat_amount: checked.vat_amount,
        currency: checked.currency,
        language: checked.language,
        description,
        processable,
        notification_url,
        created_at: now,
        expires_at: checked.expires_at,
        paid_at: None,
        doc,
    };
    Ok(inv)
}

/// Issues an invoice for a torg order of the merchant's site (the basket taken from the order), as a
/// create request naming the order's number would: what `torg demo` uses.
pub async fn issue_for_order(
    store: &Store,
    settings: &BillingSettings,
    order: &Order,
    expires_at: i64,
    zone: &Zone,
) -> Result<Invoice, String> {
    let body = json!({
        "merchantId": settings.merchant_id,
        "merchantOrderId": order.number,
        "description": format!("Заказ {}", order.number),
        "currencyId": "RUB",
        "languageId": "ru",
        "expirationDate": render::datetime(expires_at),
    });
    let body = body.as_object().cloned().unwrap_or_default();
    create_invoice(store, settings, &body, (Actor::Code, zone), torg_domain::time::now())
        .await
        .map_err(|e| format!("{e:?}"))
}

/// `POST /v3/billing/api/order/order`.
pub async fn create(State(state): State<AppState>, billing: Billing) -> BillingResult {
    billing.key()?;
    let body = billing.body_of(CREATE_FIELDS)?;
    let merchant_id = text_at(&body, "merchantId", "merchantId", 36)?;
    let settings = billing.merchant(&state, &merchant_id).await?;
    let by = (billing.actor(), &state.config.zone);
    let inv = create_invoice(&state.store, &settings, &body, by, torg_domain::time::now()).await?;
    data(render::invoice(&inv, &state.config.public_url, None))
}

/// `GET /v3/billing/api/order/order/{id}`.
pub async fn get(State(state): State<AppState>, Path(id): Path<String>, billing: Billing) -> BillingResult {
    let (inv, _) = billing.invoice(&state, &id).await?;
    data(render::invoice(&inv, &state.config.public_url, None))
}

/// `PUT /v3/billing/api/order/order/{id}`: only before payment.
pub async fn update(State(state): State<AppState>, Path(id): Path<String>, billing: Billing) -> BillingResult {
    billing.invoice(&state, &id).await?;
    let body = billing.body_of(UPDATE_FIELDS)?;
    let now = torg_domain::time::now();
    let inv = state
        .store
        .update_invoice(&id, billing.actor(), &state.config.zone, |old| {
            let mut new = old.clone();
            if body.member("expirationDate").is_some() {
                new.expires_at = check_expiration(&body, now)?;
            }
            if body.member("description").is_some() {
                new.description = text_at(&body, "description", "description", 1000)?;
            }
            let amount = match body.member("amount") {
                Some(v) => torg_domain::invoice::decimal_of(v).filter(|d| *d >= Decimal::ZERO).ok_or_else(|| {
                    BillingError::validation("amount", "wrong_value", "amount must be a number, 0 or more.")
                })?,
                None => old.amount,
            };
            let vat = match body.member("vatAmount") {
                Some(v) => torg_domain::invoice::decimal_of(v).filter(|d| *d >= Decimal::ZERO).ok_or_else(|| {
                    BillingError::validation("vatAmount", "wrong_value", "vatAmount must be a number, 0 or more.")
                })?,
                None => old.vat_amount,
            };
            let basket = body.member("basketItems").cloned().unwrap_or_else(|| json!(old.basket()));
            let lines = check_basket(&basket, amount, vat, "basketItems")?;
            new.amount = amount;
            new.vat_amount = vat;
            new.doc
                .insert("basketItems".into(), Value::Array(lines.into_iter().map(|l| Value::Object(l.doc)).collect()));
            for k in ["metaData", "customer", "shopId"] {
                match body.member(k) {
                    Some(Value::Null) => {
                        new.doc.remove(k);
                    }
                    Some(v) if k != "shopId" && !v.is_object() => {
                        return Err(BillingError::validation(k, "wrong_type", format!("{k} must be an object.")));
                    }
                    Some(v) => {
                        new.doc.insert(k.into(), v.clone());
                    }
                    None => {}
                }
            }
            Ok(new)
        })
        .await?;
    data(render::invoice(&inv, &state.config.public_url, None))
}

/// `DELETE /v3/billing/api/order/order/{id}`: cancels an unpaid order.
pub async fn cancel(State(state): State<AppState>, Path(id): Path<String>, billing: Billing) -> BillingResult {
    billing.invoice(&state, &id).await?;
    let inv = state
        .store
        .set_invoice_status(&id, InvoiceStatus::Canceled, false, billing.actor(), &state.config.zone)
        .await?;
    data(render::invoice(&inv, &state.config.public_url, None))
}

/// `PUT /v3/billing/api/order/{id}/status`: the merchant sets the status of a non-processable order.
pub async fn set_status(State(state): State<AppState>, Path(id): Path<String>, billing: Billing) -> BillingResult {
    billing.invoice(&state, &id).await?;
    let to = match billing.body_of(STATUS_FIELDS)?.member("status").and_then(Value::as_str) {
        Some(s) => InvoiceStatus::parse(s).filter(|s| *s != InvoiceStatus::Hold).ok_or_else(|| {
            BillingError::validation(
                "status",
                "wrong_value",
                "status must be created, completed, expired or cancelled.",
            )
        })?,
        None => return Err(BillingError::validation("status", "required", "status is required.").into()),
    };
    let inv = state.store.set_invoice_status(&id, to, true, billing.actor(), &state.config.zone).await?;
    data(render::invoice(&inv, &state.config.public_url, None))
}

/// `GET /v3/filter/api/order/order`.
pub async fn list(State(state): State<AppState>, billing: Billing) -> BillingResult {
    billing.key()?;
    let q = billing.list_query(INVOICE_FIELDS)?;
    let sites = billing.list_sites(&state).await?;
    let (items, total) = state.store.list_invoices(&sites, &q).await?;
    let items = items.iter().map(|i| render::invoice(i, &state.config.public_url, None)).collect();
    page(items, total, &q)
}

/// `POST /v3/billing/api/order/correction-order`: the fee or penalty withheld from a draft refund
/// (`parentId`), as an order of its own; the refund is recomputed and carried out.
pub async fn create_correction(State(state): State<AppState>, billing: Billing) -> BillingResult {
    billing.key()?;
    let body = billing.body_of(CREATE_FIELDS)?;
    let merchant_id = text_at(&body, "merchantId", "merchantId", 36)?;
    let settings = billing.merchant(&state, &merchant_id).await?;
    text_at(&body, "parentId", "parentId", 36)?;
    if body.member("basketItems").is_none_or(Value::is_null) {
        return Err(BillingError::validation(
            "basketItems",
            "required",
            "basketItems is required: the fee or penalty withheld from the refund.",
        )
        .into());
    }
    let inv = build_invoice(&state.store, &settings, &body, torg_domain::time::now()).await?;
    let (correction, _) = state.store.create_correction(&inv, billing.actor()).await?;
    data(render::invoice(&correction, &state.config.public_url, None))
}

/// `PUT /v3/billing/api/order/order-merchant-move`: hands an order to another merchant (site) the key
/// reaches.
pub async fn merchant_move(State(state): State<AppState>, billing: Billing) -> BillingResult {
    billing.key()?;
    let body = billing.body_of(MOVE_FIELDS)?;
    let merchant_id = text_at(&body, "merchantId", "merchantId", 36)?;
    let order_id = text_at(&body, "orderId", "orderId", 36)?;
    // Both merchants' signing rules apply, and one signature must satisfy them: it is checked once,
    // against either merchant's key, after both are found.
    let inv =
        state.store.get_invoice(&order_id).await?.filter(|i| billing.sites.contains(&i.site)).ok_or_else(|| {
            BillingErr::from(BillingError::validation("orderId", "wrong_value", "The order does not exist."))
        })?;
    let from = state.store.billing_settings(&inv.site).await?.unwrap_or_default();
    let to = match state.store.billing_settings_by_merchant(&merchant_id).await? {
        Some(s) if billing.sites.contains(&s.site) => s,
        _ => {
            billing.verify_signature(&from)?;
            return Err(BillingErr::forbidden(&format!("No access to merchant {merchant_id}.")));
        }
    };
    billing.verify_any_signature(&[&from, &to])?;
    let moved = state.store.move_invoice(&inv.id, &to).await?;
    data(render::invoice(&moved, &state.config.public_url, None))
}

/// `POST /v3/payment/api/invoice/confirm`: a partner (bank) confirms payment of an invoice from a
/// guarantee fund: the money is held until shipment. Signed with the merchant's signing key; test
/// mode only.
pub async fn confirm(State(state): State<AppState>, billing: Billing) -> BillingResult {
    billing.key()?;
    let body = billing.body_of(CONFIRM_FIELDS)?;
    let key = if body.member("orderId").is_some() { "orderId" } else { "invoiceId" };
    let id = text_at(&body, key, key, 36)?;
    let operation = text_at(&body, "partnerOperationId", "partnerOperationId", 36)?;
    let (inv, settings) = billing.invoice(&state, &id).await?;
    if settings.signing_key.is_none() {
        let mut e = BillingErr::new(
            StatusCode::FORBIDDEN,
            "signature_error",
            "Confirmations must be signed: this merchant has no request-signing key.",
        );
        e.fields.push(FieldProblem {
            name: "X-Signature".into(),
            code: "required",
            message: "No signing key is set for this merchant.".into(),
        });
        return Err(e);
    }
    if !settings.test_mode {
        return Err(BillingErr::forbidden("Payment confirmations are taken in test mode only."));
    }
    let held = state.store.hold_invoice(&inv.id, Some(&operation), billing.actor(), &state.config.zone).await?;
    data(render::invoice(&held, &state.config.public_url, None))
}

/// `GET /v3/filter/api/counterparty-detail?vatNumber=`: the companies torg knows with this INN.
pub async fn counterparty(State(state): State<AppState>, billing: Billing) -> BillingResult {
    billing.key()?;
    billing.list_sites(&state).await?;
    let vat = billing.input.query_param("vatNumber").and_then(Value::as_str).unwrap_or_default().trim().to_string();
    if vat.is_empty() {
        return Err(BillingError::validation("vatNumber", "required", "vatNumber (the INN) is required.").into());
    }
    if vat.chars().count() > 20 {
        return Err(BillingError::validation("vatNumber", "too_long", "vatNumber is at most 20 characters.").into());
    }
    let found = state.store.counterparty_by_vat(&vat).await?;
    if found.is_empty() {
        return Err(BillingErr::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("No company with INN {vat} is known."),
        ));
    }
    let items = found
        .iter()
        .map(|c| render::counterparty(c, stable_uuid(&format!("torg-counterparty:{}", c.source))))
        .collect();
    data(Value::Array(items))
}
