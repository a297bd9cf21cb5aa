//! Invoices (payment orders) and refunds: amounts, VAT and basket rules of docs/billing.md's error codes checked with
//! decimal arithmetic, statuses and their transitions, and the A.7 notification signature.

use crate::DomainError;
use crate::listing::{FieldKind, FieldSpec};
use hmac::{Hmac, KeyInit, Mac};
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Map, Value};
use sha1::Sha1;

/// Currencies an invoice may be in.
pub const CURRENCIES: &[&str] = &["RUB", "USD", "EUR", "GBP", "CNY"];
/// Languages of the payment page.
pub const LANGUAGES: &[&str] = &["ru", "en"];
/// VAT codes and their rate in percent.
pub const VAT_CODES: &[(&str, u32)] = &[("VATNONE", 0), ("RUS_VAT0", 0), ("RUS_VAT10", 10), ("RUS_VAT20", 20)];
/// Payment types of a basket line.
pub const PAYMENT_TYPES: &[&str] = &["full_prepayment", "prepayment", "advance", "full_payment"];

/// An invoice's status (docs/billing.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InvoiceStatus {
    /// Issued, unpaid.
    Created,
    /// Paid.
    Completed,
    /// Cancelled by the merchant before payment.
    Canceled,
    /// Past its expiration date unpaid.
    Expired,
    /// Paid with a guarantee instrument: the money is held, captured on shipment or released on cancel.
    Hold,
}

impl InvoiceStatus {
    /// Every status.
    pub const ALL: [InvoiceStatus; 5] = [
        InvoiceStatus::Created,
        InvoiceStatus::Completed,
        InvoiceStatus::Canceled,
        InvoiceStatus::Expired,
        InvoiceStatus::Hold,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            InvoiceStatus::Created => "created",
            InvoiceStatus::Completed => "completed",
            InvoiceStatus::Canceled => "canceled",
            InvoiceStatus::Expired => "expired",
            InvoiceStatus::Hold => "hold",
        }
    }

    /// Reads a wire name; `cancelled` (the status endpoint's spelling) means `canceled`.
    pub fn parse(s: &str) -> Option<InvoiceStatus> {
        Some(match s {
            "created" => InvoiceStatus::Created,
            "completed" => InvoiceStatus::Completed,
            "canceled" | "cancelled" => InvoiceStatus::Canceled,
            "expired" => InvoiceStatus::Expired,
            "hold" => InvoiceStatus::Hold,
            _ => return None,
        })
    }

    /// Whether a processable invoice may move from this status to `to` by itself (payment, hold,
    /// cancel, expiry): an unpaid invoice moves once; a held one is captured (`completed`) or released
    /// (`canceled`).
    pub fn can_become(self, to: InvoiceStatus) -> bool {
        match self {
            InvoiceStatus::Created => to != InvoiceStatus::Created,
            InvoiceStatus::Hold => matches!(to, InvoiceStatus::Completed | InvoiceStatus::Canceled),
            _ => false,
        }
    }

    /// Whether the payer's money is taken or held: what shipments and refunds need.
    pub fn is_paid(self) -> bool {
        matches!(self, InvoiceStatus::Completed | InvoiceStatus::Hold)
    }
}

/// A field-level problem inside a [`BillingError`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    /// Field path, e.g. `basketItems[0].totalAmount`.
    pub name: String,
    /// `required`, `wrong_value`, `wrong_type`, `too_long`.
    pub code: &'static str,
    /// Explanation.
    pub message: String,
}

/// A refused billing request: the A.6 code, a message and the fields concerned. All are HTTP 422.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct BillingError {
    /// A.6 code (`wrong_total_amount`, …) or `validation` for malformed input.
    pub code: &'static str,
    /// Message.
    pub message: String,
    /// Fields concerned.
    pub fields: Vec<FieldProblem>,
}

impl BillingError {
    /// An error about one field.
    pub fn field(code: &'static str, message: impl Into<String>, name: &str, field_code: &'static str) -> Self {
        let message = message.into();
        BillingError {
            code,
            fields: vec![FieldProblem { name: name.to_string(), code: field_code, message: message.clone() }],
            message,
        }
    }

    /// A malformed or missing field.
    pub fn validation(name: &str, field_code: &'static str, message: impl Into<String>) -> Self {
        BillingError::field("validation", message, name, field_code)
    }

    /// An operation the invoice's status does not allow.
    pub fn wrong_status(message: impl Into<String>) -> Self {
        BillingError { code: "wrong_order_status", message: message.into(), fields: Vec::new() }
    }
}

/// A checked basket line: the amounts as decimals, and the line as the client sent it.
#[derive(Debug, Clone, PartialEq)]
pub struct BasketLine {
    /// SKU.
    pub sku: String,
    /// Name.
    pub name: String,
    /// Quantity.
    pub quantity: Decimal,
    /// Unit price with VAT.
    pub amount: Decimal,
    /// Line total with VAT.
    pub total_amount: Decimal,
    /// Line VAT.
    pub total_vat_amount: Decimal,
    /// VAT code.
    pub vat_code: String,
    /// The whole line, amounts normalised, as it is stored and echoed.
    pub doc: Map<String, Value>,
}

/// Reads a decimal from a JSON number or numeric string.
pub fn decimal_of(v: &Value) -> Option<Decimal> {
    match v {
        Value::Number(n) => {
            let s = n.to_string();
            s.parse().ok().or_else(|| Decimal::from_scientific(&s).ok())
        }
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A JSON object's members as the checks below read them: a map, or a reader that notes each member
/// read (the billing face's request body, so that a declared member no handler reads is found).
pub trait Doc {
    /// The member `key`, if given.
    fn member(&self, key: &str) -> Option<&Value>;
}

impl Doc for Map<String, Value> {
    fn member(&self, key: &str) -> Option<&Value> {
        self.get(key)
    }
}

/// Rounds to kopecks, half away from zero.
pub fn round2(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// A JSON number for an amount, exact (no float on the way).
pub fn money_value(d: Decimal) -> Value {
    let text = d.normalize().to_string();
    text.parse::<serde_json::Number>().map(Value::Number).unwrap_or(Value::Null)
}

fn amount_at(doc: &impl Doc, key: &str, path: &str, positive: bool) -> Result<Decimal, BillingError> {
    match doc.member(key) {
        None | Some(Value::Null) => Err(BillingError::validation(path, "required", format!("{path} is required."))),
        Some(v) => match decimal_of(v) {
            Some(d) if d > crate::money::max_amount() => {
                Err(BillingError::validation(path, "wrong_value", format!("{path} is too large.")))
            }
            Some(d) if (positive && d > Decimal::ZERO) || (!positive && d >= Decimal::ZERO) => Ok(d),
            Some(_) => Err(BillingError::validation(
                path,
                "wrong_value",
                format!("{path} must be {}.", if positive { "greater than 0" } else { "0 or more" }),
            )),
            None => Err(BillingError::validation(path, "wrong_type", format!("{path} must be a number."))),
        },
    }
}

/// A required string of at most `max` characters.
pub fn text_at(doc: &impl Doc, key: &str, path: &str, max: usize) -> Result<String, BillingError> {
    match optional_text(doc, key, path, max)? {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(BillingError::validation(path, "required", format!("{path} is required."))),
    }
}

/// An optional string of at most `max` characters (numbers are taken as their text).
pub fn optional_text(doc: &impl Doc, key: &str, path: &str, max: usize) -> Result<Option<String>, BillingError> {
    let s = match doc.member(key) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => return Err(BillingError::validation(path, "wrong_type", format!("{path} must be a string."))),
    };
    if s.chars().count() > max {
        return Err(BillingError::validation(path, "too_long", format!("{path} must be at most {max} characters.")));
    }
    Ok(Some(s))
}

/// Checks one basket line: required fields, enums, and the three consistency rules of A.6.
pub fn check_line(raw: &Value, index: usize, prefix: &str) -> Result<BasketLine, BillingError> {
    let path = |k: &str| format!("{prefix}[{index}].{k}");
    let Some(doc) = raw.as_object() else {
        return Err(BillingError::validation(
            &format!("{prefix}[{index}]"),
            "wrong_type",
            "A basket item must be an object.",
        ));
    };
    let sku = text_at(doc, "sku", &path("sku"), 500)?;
    let name = text_at(doc, "name", &path("name"), 500)?;
    text_at(doc, "measure", &path("measure"), 10)?;
    text_at(doc, "measureCode", &path("measureCode"), 4)?;
    let quantity = amount_at(doc, "quantity", &path("quantity"), true)?;
    let amount = amount_at(doc, "amount", &path("amount"), false)?;
    let amount_wo_vat = amount_at(doc, "amountWoVat", &path("amountWoVat"), false)?;
    let total_amount = amount_at(doc, "totalAmount", &path("totalAmount"), false)?;
    let total_vat_amount = amount_at(doc, "totalVatAmount", &path("totalVatAmount"), false)?;
    let vat_code = text_at(doc, "vatCode", &path("vatCode"), 20)?;
    let Some(rate) = VAT_CODES.iter().find(|(c, _)| *c == vat_code).map(|(_, r)| *r) else {
        let known: Vec<&str> = VAT_CODES.iter().map(|(c, _)| *c).collect();
        return Err(BillingError::validation(
            &path("vatCode"),
            "wrong_value",
            format!("{} must be one of {}.", path("vatCode"), known.join(", ")),
        ));
    };
    match doc.get("type") {
        Some(Value::String(s)) if s == "commodity" || s == "service" => {}
        Some(v) if v.as_i64().is_some_and(|n| (1..=33).contains(&n)) => {}
        None | Some(Value::Null) => {
            return Err(BillingError::validation(&path("type"), "required", format!("{} is required.", path("type"))));
        }
        Some(_) => {
            return Err(BillingError::validation(
                &path("type"),
                "wrong_value",
                format!("{} must be commodity, service or a tag-1212 number 1-33.", path("type")),
            ));
        }
    }
    let payment_type = text_at(doc, "paymentType", &path("paymentType"), 20)?;
    if !PAYMENT_TYPES.contains(&payment_type.as_str()) {
        return Err(BillingError::validation(
            &path("paymentType"),
            "wrong_value",
            format!("{} must be one of {}.", path("paymentType"), PAYMENT_TYPES.join(", ")),
        ));
    }
    if round2(amount * quantity) != round2(total_amount) {
        return Err(BillingError::field(
            "wrong_basket_item_total_amount",
            format!("{} must equal amount × quantity = {}.", path("totalAmount"), round2(amount * quantity)),
            &path("totalAmount"),
            "wrong_value",
        ));
    }
    let cent = Decimal::new(1, 2);
    let expected_vat = round2(total_amount * Decimal::from(rate) / Decimal::from(100 + rate));
    if total_vat_amount > total_amount || (total_vat_amount - expected_vat).abs() > cent {
        return Err(BillingError::field(
            "wrong_basket_item_total_vat_amount",
            format!("{} must be {expected_vat} for {vat_code}.", path("totalVatAmount")),
            &path("totalVatAmount"),
            "wrong_value",
        ));
    }
    // A unit price without VAT rounded to kopecks may be off by half a kopeck per unit.
    let tolerance = cent + quantity * Decimal::new(5, 3);
    if (amount_wo_vat * quantity + total_vat_amount - total_amount).abs() > tolerance {
        return Err(BillingError::field(
            "wrong_basket_item_amount_wo_vat",
            format!("{} × quantity + totalVatAmount must equal totalAmount.", path("amountWoVat")),
            &path("amountWoVat"),
            "wrong_value",
        ));
    }
    let mut doc = doc.clone();
    for (k, d) in [
        ("quantity", quantity),
        ("amount", amount),
        ("amountWoVat", amount_wo_vat),
        ("totalAmount", total_amount),
        ("totalVatAmount", total_vat_amount),
    ] {
        doc.insert(k.into(), money_value(d));
    }
    Ok(BasketLine { sku, name, quantity, amount, total_amount, total_vat_amount, vat_code, doc })
}

/// Checks a basket and that the order's `amount` and `vatAmount` are its sums.
pub fn check_basket(
    items: &Value,
    amount: Decimal,
    vat_amount: Decimal,
    prefix: &str,
) -> Result<Vec<BasketLine>, BillingError> {
    let Some(list) = items.as_array() else {
        return Err(BillingError::validation(prefix, "wrong_type", format!("{prefix} must be a list.")));
    };
    if list.is_empty() {
        return Err(BillingError::validation(prefix, "required", format!("{prefix} must hold at least one item.")));
    }
    let lines = list.iter().enumerate().map(|(i, v)| check_line(v, i, prefix)).collect::<Result<Vec<_>, _>>()?;
    let total: Decimal = lines.iter().map(|l| l.total_amount).sum();
    if round2(total) != round2(amount) {
        return Err(BillingError::field("wrong_total_amount", "Calculation Error", "amount", "wrong_value"));
    }
    let vat: Decimal = lines.iter().map(|l| l.total_vat_amount).sum();
    if round2(vat) != round2(vat_amount) || vat_amount > amount {
        return Err(BillingError::field("wrong_total_vat_amount", "Calculation Error", "vatAmount", "wrong_value"));
    }
    Ok(lines)
}

/// The checked top-level amounts and enums of a create or update request.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedInvoice {
    /// Total with VAT.
    pub amount: Decimal,
    /// VAT.
    pub vat_amount: Decimal,
    /// Currency.
    pub currency: String,
    /// Language.
    pub language: String,
    /// Expiration (Unix seconds).
    pub expires_at: i64,
    /// Basket.
    pub lines: Vec<BasketLine>,
}

/// Reads `expirationDate`; it must lie in the future.
pub fn check_expiration(doc: &impl Doc, now: i64) -> Result<i64, BillingError> {
    let wrong = |m: &str| BillingError::field("wrong_expiration_date", m, "expirationDate", "wrong_value");
    match doc.member("expirationDate") {
        None | Some(Value::Null) => Err(BillingError::field(
            "wrong_expiration_date",
            "expirationDate is required.",
            "expirationDate",
            "required",
        )),
        Some(Value::String(s)) => match crate::listing::parse_instant(s) {
            Some(t) if t > now => Ok(t),
            Some(_) => Err(wrong("expirationDate must be in the future.")),
            None => Err(wrong("expirationDate must be a date-time such as 2030-01-31T21:00:00+00:00.")),
        },
        Some(_) => Err(wrong("expirationDate must be a date-time string.")),
    }
}

/// Reads `currencyId`.
pub fn check_currency(doc: &impl Doc) -> Result<String, BillingError> {
    match doc.member("currencyId").and_then(Value::as_str) {
        Some(c) if CURRENCIES.contains(&c) => Ok(c.to_string()),
        Some(c) => Err(BillingError::field(
            "wrong_currency",
            format!("Unknown currency '{c}'; use one of {}.", CURRENCIES.join(", ")),
            "currencyId",
            "wrong_value",
        )),
        None => Err(BillingError::field("wrong_currency", "currencyId is required.", "currencyId", "required")),
    }
}

/// Reads `languageId` (default `ru`).
pub fn check_language(doc: &impl Doc) -> Result<String, BillingError> {
    match doc.member("languageId") {
        None | Some(Value::Null) => Ok("ru".into()),
        Some(Value::String(l)) if LANGUAGES.contains(&l.as_str()) => Ok(l.clone()),
        Some(other) => Err(BillingError::field(
            "language_not_found",
            format!("Unknown language {other}; use ru or en."),
            "languageId",
            "wrong_value",
        )),
    }
}

/// Checks a create request's rules that need no stored data (A.6 order: dates, currency, language,
/// basket lines, then totals). `basket` is the request's or, when it gave none, one built from the
/// linked torg order.
pub fn check_create(doc: &impl Doc, basket: &Value, now: i64) -> Result<CheckedInvoice, BillingError> {
    text_at(doc, "description", "description", 1000)?;
    text_at(doc, "merchantOrderId", "merchantOrderId", 256)?;
    let amount = amount_at(doc, "amount", "amount", false)?;
    let vat_amount = amount_at(doc, "vatAmount", "vatAmount", false)?;
    for (k, max) in [
        ("merchantOrderIdVisible", 256),
        ("notificationUrl", 1000),
        ("successUrl", 1000),
        ("failUrl", 1000),
        ("returnUrl", 1000),
    ] {
        optional_text(doc, k, k, max)?;
    }
    if let Some(url) = optional_text(doc, "notificationUrl", "notificationUrl", 1000)?
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        return Err(BillingError::validation(
            "notificationUrl",
            "wrong_value",
            "notificationUrl must be an http(s) URL.",
        ));
    }
    for k in ["customer", "metaData", "invoiceSetting", "orderSetting"] {
        if doc.member(k).is_some_and(|v| !v.is_object() && !v.is_null()) {
            return Err(BillingError::validation(k, "wrong_type", format!("{k} must be an object.")));
        }
    }
    if doc.member("processable").is_some_and(|v| !v.is_boolean() && !v.is_null()) {
        return Err(BillingError::validation("processable", "wrong_type", "processable must be true or false."));
    }
    let expires_at = check_expiration(doc, now)?;
    let currency = check_currency(doc)?;
    let language = check_language(doc)?;
    let lines = check_basket(basket, amount, vat_amount, "basketItems")?;
    Ok(CheckedInvoice { amount, vat_amount, currency, language, expires_at, lines })
}

/// An invoice (an Invoicebox "payment order").
#[derive(Debug, Clone, PartialEq)]
pub struct Invoice {
    /// UUID.
    pub id: String,
    /// The container (payment page) UUID; the payment URL ends in it.
    pub container_id: String,
    /// Site the merchant is.
    pub site: String,
    /// Merchant UUID of the site.
    pub merchant_id: String,
    /// The merchant's own id: a torg order's number or externalId links the invoice to that order.
    pub merchant_order_id: String,
    /// The linked torg order.
    pub order_id: Option<i64>,
    /// Status.
    pub status: InvoiceStatus,
    /// Total with VAT.
    pub amount: Decimal,
    /// VAT.
    pub vat_amount: Decimal,
    /// Currency.
    pub currency: String,
    /// Payment page language.
    pub language: String,
    /// Description.
    pub description: String,
    /// False for "non-processable" invoices whose status the merchant sets.
    pub processable: bool,
    /// Where notifications go (else the site's URL).
    pub notification_url: Option<String>,
    /// Created (Unix seconds).
    pub created_at: i64,
    /// Expires (Unix seconds).
    pub expires_at: i64,
    /// Paid (Unix seconds).
    pub paid_at: Option<i64>,
    /// The rest of the request as given: `basketItems`, `customer`, URLs, settings, `metaData`, ….
    pub doc: Map<String, Value>,
}

impl Invoice {
    /// The basket as stored.
    pub fn basket(&self) -> Vec<Map<String, Value>> {
        match self.doc.get("basketItems") {
            Some(Value::Array(a)) => a.iter().filter_map(|v| v.as_object().cloned()).collect(),
            _ => Vec::new(),
        }
    }
}

/// A refund of a paid invoice.
#[derive(Debug, Clone, PartialEq)]
pub struct Refund {
    /// UUID.
    pub id: String,
    /// The refunded invoice.
    pub parent_id: String,
    /// Site.
    pub site: String,
    /// Merchant UUID.
    pub merchant_id: String,
    /// The merchant's id of the refund, unique per merchant.
    pub merchant_order_id: String,
    /// `draft`, `created`, `completed` or `canceled`.
    pub status: String,
    /// Total with VAT.
    pub amount: Decimal,
    /// VAT.
    pub vat_amount: Decimal,
    /// Currency (the invoice's).
    pub currency: String,
    /// Description.
    pub description: String,
    /// Created (Unix seconds).
    pub created_at: i64,
    /// The rest of the request (`basketItems`).
    pub doc: Map<String, Value>,
}

/// A site's billing settings: the payment service's "integration settings".
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BillingSettings {
    /// Site code.
    pub site: String,
    /// The merchant UUID clients send as `merchantId`.
    pub merchant_id: String,
    /// Key that signs notifications (docs/billing.md); none sends them unsigned.
    pub notification_key: Option<String>,
    /// Key that incoming requests must be signed with in `X-Signature`; none turns request signing off.
    pub signing_key: Option<String>,
    /// Default notification URL.
    pub notification_url: Option<String>,
    /// Test mode: invoices can be paid with the payment page's button or `torg invoice pay`.
    pub test_mode: bool,
}

/// Checks a refund's basket against what is left to refund per line of the invoice, by `sku`:
/// `available[i]` is (sku, refundable remainder).
pub fn check_refund_lines(lines: &[BasketLine], available: &[(String, Decimal)]) -> Result<(), BillingError> {
    check_lines_left(lines, available, "refund")
}

/// Checks lines against what is left of each invoice line by `sku` (to refund, to ship): `what` names
/// the act in the message.
pub fn check_lines_left(lines: &[BasketLine], available: &[(String, Decimal)], what: &str) -> Result<(), BillingError> {
    let mut left: Vec<(String, Decimal)> = available.to_vec();
    for (i, l) in lines.iter().enumerate() {
        let path = format!("basketItems[{i}].totalAmount");
        match left.iter_mut().find(|(sku, _)| *sku == l.sku) {
            None => {
                return Err(BillingError::validation(
                    &format!("basketItems[{i}].sku"),
                    "wrong_value",
                    format!("The invoice has no basket item with sku '{}'.", l.sku),
                ));
            }
            Some((_, rest)) if l.total_amount > *rest => {
                return Err(BillingError::validation(
                    &path,
                    "wrong_value",
                    format!("Only {} is left to {what} for sku '{}'.", rest.normalize(), l.sku),
                ));
            }
            Some((_, rest)) => *rest -= l.total_amount,
        }
    }
    Ok(())
}

// ---- refusals of stored invoices, refunds and shipments ----

/// The refusal of a `merchantOrderId` the merchant already used (for an invoice or a refund).
pub fn merchant_order_id_taken(id: &str) -> BillingError {
    BillingError::field(
        "merchant_order_id_duplicate",
        format!("merchantOrderId '{id}' is already used by this merchant."),
        "merchantOrderId",
        "wrong_value",
    )
}

/// The refusal of a merchant UUID that another site's billing settings hold.
pub fn merchant_id_taken() -> DomainError {
    DomainError::invalid("merchant_id", "Another site already has this merchant id.")
}

/// Refuses `inv` in its status (`wrong_order_status`, "Invoice X is S; `rule`.") unless `allowed`.
fn allowed_only_if(inv: &Invoice, allowed: bool, rule: &str) -> Result<(), BillingError> {
    if allowed {
        return Ok(());
    }
    Err(BillingError::wrong_status(format!("Invoice {} is {}; {rule}.", inv.id, inv.status.as_str())))
}

/// Checks that an invoice may be changed: only a created one may.
pub fn check_changeable(inv: &Invoice) -> Result<(), BillingError> {
    allowed_only_if(inv, inv.status == InvoiceStatus::Created, "only a created invoice can be changed")
}

/// Vets moving `inv` to `to`; `Ok(false)` when there is nothing to write (the merchant repeats the status).
pub fn check_status_change(inv: &Invoice, to: InvoiceStatus, by_merchant: bool) -> Result<bool, BillingError> {
    // The merchant sets any status, but only of an invoice the payment service does not move itself.
    if by_merchant {
        if inv.processable {
            return Err(BillingError::wrong_status(
                "Only a non-processable invoice (processable: false) takes its status from the merchant.",
            ));
        }
        return Ok(inv.status != to);
    }
    if !inv.status.can_become(to) {
        return Err(BillingError::wrong_status(format!(
            "Invoice {} is {}; it cannot become {}.",
            inv.id,
            inv.status.as_str(),
            to.as_str()
        )));
    }
    Ok(true)
}

/// Whether moving from `from` to `to` releases a hold (see [`check_release`]).
pub fn releases_hold(from: InvoiceStatus, to: InvoiceStatus) -> bool {
    from == InvoiceStatus::Hold && to == InvoiceStatus::Canceled
}

/// Checks that a hold may be released, given how many `shipments` it has: once goods left, only a final
/// shipment ends it.
pub fn check_release(inv: &Invoice, shipments: i64) -> Result<(), BillingError> {
    if shipments > 0 {
        return Err(BillingError::wrong_status(format!(
            "Invoice {} has shipments; its hold ends with a final shipment, not a cancel.",
            inv.id
        )));
    }
    Ok(())
}

/// Whether a partner's hold confirmation repeats the one that held (or paid) `inv`: answered as it is.
pub fn repeats_hold(inv: &Invoice, partner_operation_id: Option<&str>) -> bool {
    partner_operation_id.is_some()
        && inv.doc.get("partnerOperationId").and_then(Value::as_str) == partner_operation_id
        && inv.status.is_paid()
}

/// Checks that an invoice's money may be held: only a created invoice's.
pub fn check_holdable(inv: &Invoice) -> Result<(), BillingError> {
    allowed_only_if(inv, inv.status.can_become(InvoiceStatus::Hold), "only a created invoice can be paid")
}

/// Checks that an invoice may move to another site: one paying a torg order stays with the order's site,
/// where its payments live.
pub fn check_movable(inv: &Invoice) -> Result<(), DomainError> {
    match inv.order_id {
        Some(order_id) => Err(DomainError::invalid(
            "orderId",
            format!("The invoice pays torg order {order_id} of site {}; it cannot leave that site.", inv.site),
        )),
        None => Ok(()),
    }
}

/// The invoice a refund on `site` refunds, `found` by its id: another site's invoice is as good as none.
pub fn refund_parent(found: Option<Invoice>, site: &str) -> Result<Invoice, DomainError> {
    found
        .filter(|inv| inv.site == site)
        .ok_or_else(|| DomainError::invalid("parentId", "The invoice to refund does not exist."))
}

/// Checks that an invoice may be refunded: only a paid (completed) one.
pub fn check_refundable(inv: &Invoice) -> Result<(), BillingError> {
    allowed_only_if(inv, inv.status == InvoiceStatus::Completed, "only a paid (completed) invoice can be refunded")
}

/// The refund a correction order on `site` corrects, `found` by its id: another site's is as good as none.
pub fn corrected_refund(found: Option<Refund>, site: &str) -> Result<Refund, DomainError> {
    found
        .filter(|r| r.site == site)
        .ok_or_else(|| DomainError::invalid("parentId", "The refund to correct does not exist."))
}

/// Checks a correction order against the refund it corrects: a draft refund, an amount within the
/// refund's, the refund's currency.
pub fn check_correction(correction: &Invoice, refund: &Refund) -> Result<(), BillingError> {
    if refund.status != "draft" {
        return Err(BillingError::wrong_status(format!(
            "Refund {} is {}; only a draft refund takes a correction order.",
            refund.id, refund.status
        )));
    }
    if correction.amount > refund.amount {
        return Err(BillingError::field(
            "wrong_total_amount",
            format!(
                "The correction order ({}) exceeds the refund ({}).",
                correction.amount.normalize(),
                refund.amount.normalize()
            ),
            "amount",
            "wrong_value",
        ));
    }
    if correction.currency != refund.currency {
        return Err(BillingError::field(
            "wrong_currency",
            format!("The refund is in {}; its correction order must be too.", refund.currency),
            "currencyId",
            "wrong_value",
        ));
    }
    Ok(())
}

/// The invoice a shipment on `site` ships, `found` by its id: another site's invoice is as good as none.
pub fn shipped_invoice(found: Option<Invoice>, site: &str) -> Result<Invoice, DomainError> {
    found
        .filter(|inv| inv.site == site)
        .ok_or_else(|| DomainError::invalid("orderId", "The order to ship does not exist."))
}

/// Checks that an invoice may be shipped: a created, held or paid one.
pub fn check_shippable(inv: &Invoice) -> Result<(), BillingError> {
    allowed_only_if(
        inv,
        matches!(inv.status, InvoiceStatus::Created | InvoiceStatus::Hold | InvoiceStatus::Completed),
        "only a created, held or paid invoice can be shipped",
    )
}

/// Checks that an invoice is still open to shipping, given its count of `finals` (final shipments) and
/// what is `left` to ship of each line.
pub fn check_open_to_ship(
    inv: &Invoice,
    finals: i64,
    left: impl IntoIterator<Item = Decimal>,
) -> Result<(), BillingError> {
    if finals > 0 || left.into_iter().all(|l| l <= Decimal::ZERO) {
        return Err(BillingError::wrong_status(format!(
            "Invoice {} is shipped in full, or closed by a final shipment.",
            inv.id
        )));
    }
    Ok(())
}

/// Checks a shipment's `amount` against the `left_total` of the invoice still to ship.
pub fn check_ship_total(amount: Decimal, left_total: Decimal) -> Result<(), BillingError> {
    if amount > left_total {
        return Err(BillingError::field(
            "wrong_total_amount",
            format!("Only {} of the order is left to ship.", left_total.normalize()),
            "basketItems",
            "wrong_value",
        ));
    }
    Ok(())
}

/// The comment of the payment a paid invoice adds to its torg order.
pub fn paid_comment(inv: &Invoice) -> String {
    format!("Invoice {} paid", inv.id)
}

/// The comment of the `returned` payment a refund adds to the refunded invoice's torg order.
pub fn refund_comment(refund: &Refund, parent: &Invoice) -> String {
    format!("Refund {} of invoice {}", refund.merchant_order_id, parent.id)
}

/// What invoice lists can be filtered and sorted by.
pub const INVOICE_FIELDS: &[FieldSpec] = &[
    FieldSpec { name: "id", kind: FieldKind::Text },
    FieldSpec { name: "status", kind: FieldKind::Text },
    FieldSpec { name: "merchantId", kind: FieldKind::Text },
    FieldSpec { name: "merchantOrderId", kind: FieldKind::Text },
    FieldSpec { name: "description", kind: FieldKind::Text },
    FieldSpec { name: "currencyId", kind: FieldKind::Text },
    FieldSpec { name: "amount", kind: FieldKind::Number },
    FieldSpec { name: "vatAmount", kind: FieldKind::Number },
    FieldSpec { name: "createdAt", kind: FieldKind::Time },
    FieldSpec { name: "expirationDate", kind: FieldKind::Time },
    FieldSpec { name: "paidAt", kind: FieldKind::Time },
];

/// What shipment lists can be filtered and sorted by (`orderId` is the invoice).
pub const SHIPMENT_FIELDS: &[FieldSpec] = &[
    FieldSpec { name: "id", kind: FieldKind::Number },
    FieldSpec { name: "orderId", kind: FieldKind::Text },
    FieldSpec { name: "merchantId", kind: FieldKind::Text },
    FieldSpec { name: "documentNumber", kind: FieldKind::Text },
    FieldSpec { name: "amount", kind: FieldKind::Number },
    FieldSpec { name: "createdAt", kind: FieldKind::Time },
];

/// A shipment of (part of) an invoice's basket.
#[derive(Debug, Clone, PartialEq)]
pub struct Shipment {
    /// Number, given by the store (0 before).
    pub id: i64,
    /// The invoice shipped.
    pub invoice_id: String,
    /// Site.
    pub site: String,
    /// Merchant UUID.
    pub merchant_id: String,
    /// Waybill or other document number; also the order's tracking number.
    pub document_number: Option<String>,
    /// Document date, `YYYY-MM-DD`.
    pub document_date: Option<String>,
    /// The last shipment: the order is closed and what is left of a hold is released.
    pub is_final: bool,
    /// Total of its lines.
    pub amount: Decimal,
    /// VAT of its lines.
    pub vat_amount: Decimal,
    /// Created (Unix seconds).
    pub created_at: i64,
    /// `basketItems`.
    pub doc: Map<String, Value>,
}

/// A company known by its tax number (INN), as the counterparty lookup answers it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Counterparty {
    /// Where torg knows it from, with the record's id (`legal-entity:CODE`): a stable identity.
    pub source: String,
    /// INN.
    pub vat_number: String,
    /// KPP.
    pub kpp: Option<String>,
    /// Short name.
    pub name: String,
    /// Full name.
    pub name_full: Option<String>,
    /// OGRN (or OGRNIP).
    pub registration_number: Option<String>,
    /// Legal address.
    pub registration_address: Option<String>,
}

/// What refund lists can be filtered and sorted by.
pub const REFUND_FIELDS: &[FieldSpec] = &[
    FieldSpec { name: "id", kind: FieldKind::Text },
    FieldSpec { name: "parentId", kind: FieldKind::Text },
    FieldSpec { name: "status", kind: FieldKind::Text },
    FieldSpec { name: "merchantId", kind: FieldKind::Text },
    FieldSpec { name: "merchantOrderId", kind: FieldKind::Text },
    FieldSpec { name: "currencyId", kind: FieldKind::Text },
    FieldSpec { name: "amount", kind: FieldKind::Number },
    FieldSpec { name: "vatAmount", kind: FieldKind::Number },
    FieldSpec { name: "createdAt", kind: FieldKind::Time },
];

/// Hex HMAC-SHA1 of `body` under `key`: the `X-Signature` of notifications and signed requests (docs/billing.md).
pub fn sign(key: &[u8], body: &[u8]) -> String {
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `signature` (hex, either case) is the signature of `body` under `key`, compared in constant
/// time.
pub fn verify(key: &[u8], body: &[u8], signature: &str) -> bool {
    use subtle::ConstantTimeEq;
    let expected = sign(key, body);
    let given = signature.trim().to_ascii_lowercase();
    expected.len() == given.len() && bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

/// The delays before each retry of a failed notification: ten retries spread over about 23 hours, as
/// Invoicebox does (docs/billing.md).
pub const DEFAULT_RETRY_SCHEDULE_SECS: &[u64] = &[60, 300, 900, 1800, 3600, 7200, 10_800, 14_400, 21_600, 21_600];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn signature_test_vectors() {
        let body = br#"{"id":"ffffffff-ffff-ffff-ffff-ffffffffffff","status":"completed","merchantOrderId":"","amount":100.5,"currencyId":"RUB"}"#;
        assert_eq!(sign(b"secret", body), "fae0b879b50ec3a55a4cfa49c06de44683af09ae");
        assert!(verify(b"secret", body, "FAE0B879B50EC3A55A4CFA49C06DE44683AF09AE"));
        assert!(!verify(b"secret2", body, "fae0b879b50ec3a55a4cfa49c06de44683af09ae"));
        // RFC 2202 test case 2 for HMAC-SHA1.
        assert_eq!(sign(b"Jefe", b"what do ya want for nothing?"), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    }

    #[test]
    fn retry_schedule_is_ten_retries_within_a_day() {
        assert!(DEFAULT_RETRY_SCHEDULE_SECS.len() >= 10);
        let total: u64 = DEFAULT_RETRY_SCHEDULE_SECS.iter().sum();
        assert!((20 * 3600..=24 * 3600).contains(&total), "{total}");
    }

    fn line(amount: f64, qty: f64, total: f64, vat: f64, wo: f64, code: &str) -> Value {
        json!({"sku": "1", "name": "n", "measure": "шт.", "measureCode": "796", "quantity": qty, "amount": amount,
               "amountWoVat": wo, "totalAmount": total, "totalVatAmount": vat, "vatCode": code,
               "type": "commodity", "paymentType": "full_prepayment"})
    }

    fn amount(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn basket_rules() {
        let ok = check_basket(
            &json!([line(120.0, 2.0, 240.0, 40.0, 100.0, "RUS_VAT20")]),
            amount("240"),
            amount("40"),
            "basketItems",
        )
        .unwrap();
        assert_eq!(ok[0].total_amount, amount("240"));
        let code = |items: Value, a: &str, v: &str| check_basket(&items, amount(a), amount(v), "b").unwrap_err().code;
        assert_eq!(
            code(json!([line(120.0, 2.0, 241.0, 40.0, 100.0, "RUS_VAT20")]), "241", "40"),
            "wrong_basket_item_total_amount"
        );
        assert_eq!(
            code(json!([line(120.0, 2.0, 240.0, 30.0, 100.0, "RUS_VAT20")]), "240", "30"),
            "wrong_basket_item_total_vat_amount"
        );
        assert_eq!(
            code(json!([line(120.0, 2.0, 240.0, 40.0, 90.0, "RUS_VAT20")]), "240", "40"),
            "wrong_basket_item_amount_wo_vat"
        );
        assert_eq!(code(json!([line(120.0, 2.0, 240.0, 40.0, 100.0, "RUS_VAT20")]), "250", "40"), "wrong_total_amount");
        assert_eq!(
            code(json!([line(120.0, 2.0, 240.0, 40.0, 100.0, "RUS_VAT20")]), "240", "41"),
            "wrong_total_vat_amount"
        );
        assert_eq!(code(json!([line(120.0, 2.0, 240.0, 40.0, 100.0, "VAT99")]), "240", "40"), "validation");
        // Decimal, not float: 0.1 × 3 is exactly 0.3.
        check_basket(&json!([line(0.1, 3.0, 0.3, 0.0, 0.1, "VATNONE")]), amount("0.3"), amount("0"), "b").unwrap();
        // 100 units at 1.00 with 20 % VAT: amountWoVat 0.83 is half a kopeck off per unit, tolerated.
        check_basket(&json!([line(1.0, 100.0, 100.0, 16.67, 0.83, "RUS_VAT20")]), amount("100"), amount("16.67"), "b")
            .unwrap();
    }

    #[test]
    fn statuses() {
        assert_eq!(InvoiceStatus::parse("cancelled"), Some(InvoiceStatus::Canceled));
        assert!(InvoiceStatus::Created.can_become(InvoiceStatus::Completed));
        assert!(!InvoiceStatus::Completed.can_become(InvoiceStatus::Canceled));
        // A hold is captured or released, never expired or held again.
        assert!(InvoiceStatus::Created.can_become(InvoiceStatus::Hold));
        assert!(InvoiceStatus::Hold.can_become(InvoiceStatus::Completed));
        assert!(InvoiceStatus::Hold.can_become(InvoiceStatus::Canceled));
        assert!(!InvoiceStatus::Hold.can_become(InvoiceStatus::Expired));
        assert!(!InvoiceStatus::Hold.can_become(InvoiceStatus::Hold));
        assert!(InvoiceStatus::Hold.is_paid() && !InvoiceStatus::Created.is_paid());
        for s in InvoiceStatus::ALL {
            assert_eq!(InvoiceStatus::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn create_checks_in_order() {
        let now = 1_000_000;
        let base = json!({"description": "d", "merchantOrderId": "1", "amount": 10, "vatAmount": 0,
            "currencyId": "RUB", "expirationDate": "2030-01-01T00:00:00+00:00"});
        let basket = json!([line(10.0, 1.0, 10.0, 0.0, 10.0, "VATNONE")]);
        let doc = base.as_object().unwrap().clone();
        assert!(check_create(&doc, &basket, now).is_ok());
        let mut d = doc.clone();
        d.insert("expirationDate".into(), json!("1970-01-01T00:00:00+00:00"));
        assert_eq!(check_create(&d, &basket, now).unwrap_err().code, "wrong_expiration_date");
        let mut d = doc.clone();
        d.insert("currencyId".into(), json!("XXX"));
        assert_eq!(check_create(&d, &basket, now).unwrap_err().code, "wrong_currency");
        let mut d = doc.clone();
        d.insert("languageId".into(), json!("de"));
        assert_eq!(check_create(&d, &basket, now).unwrap_err().code, "language_not_found");
        let mut d = doc;
        d.remove("description");
        let e = check_create(&d, &basket, now).unwrap_err();
        assert_eq!((e.code, e.fields[0].name.as_str()), ("validation", "description"));
    }

    fn stored(status: InvoiceStatus) -> Invoice {
        Invoice {
            id: "inv-1".into(),
            container_id: "c-1".into(),
            site: "shop".into(),
            merchant_id: "m-1".into(),
            merchant_order_id: "1".into(),
            order_id: None,
            status,
            amount: amount("100"),
            vat_amount: amount("0"),
            currency: "RUB".into(),
            language: "ru".into(),
            description: "d".into(),
            processable: true,
            notification_url: None,
            created_at: 0,
            expires_at: 10,
            paid_at: None,
            doc: Map::new(),
        }
    }

    fn refund(status: &str) -> Refund {
        Refund {
            id: "ref-1".into(),
            parent_id: "inv-1".into(),
            site: "shop".into(),
            merchant_id: "m-1".into(),
            merchant_order_id: "r1".into(),
            status: status.into(),
            amount: amount("50.50"),
            vat_amount: amount("0"),
            currency: "RUB".into(),
            description: "d".into(),
            created_at: 0,
            doc: Map::new(),
        }
    }

    fn invalid(e: DomainError) -> Vec<(String, String)> {
        match e {
            DomainError::Invalid(f) => f.into_iter().collect(),
            other => panic!("not Invalid: {other:?}"),
        }
    }

    fn one(field: &str, message: &str) -> Vec<(String, String)> {
        vec![(field.to_string(), message.to_string())]
    }

    fn status_refusal(e: BillingError) -> String {
        assert_eq!((e.code, e.fields.len()), ("wrong_order_status", 0));
        e.message
    }

    #[test]
    fn taken_ids_wording() {
        let e = merchant_order_id_taken("42");
        assert_eq!(e.code, "merchant_order_id_duplicate");
        assert_eq!(e.message, "merchantOrderId '42' is already used by this merchant.");
        assert_eq!(
            e.fields,
            vec![FieldProblem {
                name: "merchantOrderId".into(),
                code: "wrong_value",
                message: "merchantOrderId '42' is already used by this merchant.".into(),
            }]
        );
        assert_eq!(invalid(merchant_id_taken()), one("merchant_id", "Another site already has this merchant id."));
    }

    #[test]
    fn only_a_created_invoice_changes() {
        assert!(check_changeable(&stored(InvoiceStatus::Created)).is_ok());
        assert_eq!(
            status_refusal(check_changeable(&stored(InvoiceStatus::Completed)).unwrap_err()),
            "Invoice inv-1 is completed; only a created invoice can be changed."
        );
    }

    #[test]
    fn status_changes() {
        let created = stored(InvoiceStatus::Created);
        assert_eq!(check_status_change(&created, InvoiceStatus::Completed, false), Ok(true));
        assert_eq!(
            status_refusal(
                check_status_change(&stored(InvoiceStatus::Expired), InvoiceStatus::Completed, false).unwrap_err()
            ),
            "Invoice inv-1 is expired; it cannot become completed."
        );
        // The merchant moves only a non-processable invoice, and repeating its status writes nothing.
        assert_eq!(
            status_refusal(check_status_change(&created, InvoiceStatus::Completed, true).unwrap_err()),
            "Only a non-processable invoice (processable: false) takes its status from the merchant."
        );
        let mut manual = stored(InvoiceStatus::Expired);
        manual.processable = false;
        assert_eq!(check_status_change(&manual, InvoiceStatus::Completed, true), Ok(true));
        assert_eq!(check_status_change(&manual, InvoiceStatus::Expired, true), Ok(false));
    }

    #[test]
    fn releasing_a_hold() {
        assert!(releases_hold(InvoiceStatus::Hold, InvoiceStatus::Canceled));
        assert!(!releases_hold(InvoiceStatus::Hold, InvoiceStatus::Completed));
        assert!(!releases_hold(InvoiceStatus::Created, InvoiceStatus::Canceled));
        let held = stored(InvoiceStatus::Hold);
        assert!(check_release(&held, 0).is_ok());
        assert_eq!(
            status_refusal(check_release(&held, 2).unwrap_err()),
            "Invoice inv-1 has shipments; its hold ends with a final shipment, not a cancel."
        );
    }

    #[test]
    fn holding() {
        assert!(check_holdable(&stored(InvoiceStatus::Created)).is_ok());
        assert_eq!(
            status_refusal(check_holdable(&stored(InvoiceStatus::Canceled)).unwrap_err()),
            "Invoice inv-1 is canceled; only a created invoice can be paid."
        );
        let mut held = stored(InvoiceStatus::Hold);
        held.doc.insert("partnerOperationId".into(), json!("op-1"));
        assert!(repeats_hold(&held, Some("op-1")));
        assert!(!repeats_hold(&held, Some("op-2")));
        assert!(!repeats_hold(&held, None));
        let mut unpaid = held.clone();
        unpaid.status = InvoiceStatus::Created;
        assert!(!repeats_hold(&unpaid, Some("op-1")));
    }

    #[test]
    fn moving_to_another_site() {
        let mut inv = stored(InvoiceStatus::Created);
        assert!(check_movable(&inv).is_ok());
        inv.order_id = Some(7);
        assert_eq!(
            invalid(check_movable(&inv).unwrap_err()),
            one("orderId", "The invoice pays torg order 7 of site shop; it cannot leave that site.")
        );
    }

    #[test]
    fn refunding() {
        let paid = stored(InvoiceStatus::Completed);
        assert_eq!(refund_parent(Some(paid.clone()), "shop"), Ok(paid.clone()));
        let missing = one("parentId", "The invoice to refund does not exist.");
        assert_eq!(invalid(refund_parent(None, "shop").unwrap_err()), missing);
        assert_eq!(invalid(refund_parent(Some(paid.clone()), "other").unwrap_err()), missing);
        assert!(check_refundable(&paid).is_ok());
        assert_eq!(
            status_refusal(check_refundable(&stored(InvoiceStatus::Hold)).unwrap_err()),
            "Invoice inv-1 is hold; only a paid (completed) invoice can be refunded."
        );
    }

    #[test]
    fn correction_orders() {
        let draft = refund("draft");
        assert_eq!(corrected_refund(Some(draft.clone()), "shop"), Ok(draft.clone()));
        let missing = one("parentId", "The refund to correct does not exist.");
        assert_eq!(invalid(corrected_refund(None, "shop").unwrap_err()), missing);
        assert_eq!(invalid(corrected_refund(Some(draft.clone()), "other").unwrap_err()), missing);

        let mut c = stored(InvoiceStatus::Created);
        c.amount = amount("10.00");
        assert!(check_correction(&c, &draft).is_ok());
        assert_eq!(
            status_refusal(check_correction(&c, &refund("completed")).unwrap_err()),
            "Refund ref-1 is completed; only a draft refund takes a correction order."
        );
        c.amount = amount("60.00");
        let e = check_correction(&c, &draft).unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            ("wrong_total_amount", "The correction order (60) exceeds the refund (50.5).")
        );
        assert_eq!((e.fields[0].name.as_str(), e.fields[0].code), ("amount", "wrong_value"));
        c.amount = amount("10");
        c.currency = "EUR".into();
        let e = check_correction(&c, &draft).unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            ("wrong_currency", "The refund is in RUB; its correction order must be too.")
        );
        assert_eq!((e.fields[0].name.as_str(), e.fields[0].code), ("currencyId", "wrong_value"));
    }

    #[test]
    fn shipping() {
        let inv = stored(InvoiceStatus::Hold);
        assert_eq!(shipped_invoice(Some(inv.clone()), "shop"), Ok(inv.clone()));
        let missing = one("orderId", "The order to ship does not exist.");
        assert_eq!(invalid(shipped_invoice(None, "shop").unwrap_err()), missing);
        assert_eq!(invalid(shipped_invoice(Some(inv.clone()), "other").unwrap_err()), missing);

        for s in [InvoiceStatus::Created, InvoiceStatus::Hold, InvoiceStatus::Completed] {
            assert!(check_shippable(&stored(s)).is_ok());
        }
        assert_eq!(
            status_refusal(check_shippable(&stored(InvoiceStatus::Expired)).unwrap_err()),
            "Invoice inv-1 is expired; only a created, held or paid invoice can be shipped."
        );

        let closed = "Invoice inv-1 is shipped in full, or closed by a final shipment.";
        assert!(check_open_to_ship(&inv, 0, [amount("0"), amount("5")]).is_ok());
        assert_eq!(status_refusal(check_open_to_ship(&inv, 1, [amount("5")]).unwrap_err()), closed);
        assert_eq!(status_refusal(check_open_to_ship(&inv, 0, [amount("0"), amount("0")]).unwrap_err()), closed);

        assert!(check_ship_total(amount("5"), amount("5")).is_ok());
        let e = check_ship_total(amount("6"), amount("5.00")).unwrap_err();
        assert_eq!((e.code, e.message.as_str()), ("wrong_total_amount", "Only 5 of the order is left to ship."));
        assert_eq!((e.fields[0].name.as_str(), e.fields[0].code), ("basketItems", "wrong_value"));
    }

    #[test]
    fn payment_comments() {
        let inv = stored(InvoiceStatus::Completed);
        assert_eq!(paid_comment(&inv), "Invoice inv-1 paid");
        assert_eq!(refund_comment(&refund("completed"), &inv), "Refund r1 of invoice inv-1");
    }
}
