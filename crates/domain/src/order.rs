//! Orders: contact data, lines, delivery, payments, status; how totals are derived and how an edit applies.

use crate::error::{DomainError, FieldErrors};
use crate::patch;
use crate::time::Zone;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// How an order line names its catalogue offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OfferRef {
    /// By internal id.
    Id(i64),
    /// By the catalogue's external id.
    ExternalId(String),
    /// By the feed's XML id.
    XmlId(String),
}

impl OfferRef {
    /// Reads `{"id"|"externalId"|"xmlId": …}`.
    pub fn parse(value: &Value) -> Option<OfferRef> {
        let m = value.as_object()?;
        if let Some(id) = m.get("id").and_then(as_i64) {
            return Some(OfferRef::Id(id));
        }
        if let Some(s) = m.get("externalId").and_then(as_text) {
            return Some(OfferRef::ExternalId(s));
        }
        m.get("xmlId").and_then(as_text).map(OfferRef::XmlId)
    }

    /// The field path and value, for messages: (`id`, `123`).
    pub fn describe(&self) -> (&'static str, String) {
        match self {
            OfferRef::Id(i) => ("id", i.to_string()),
            OfferRef::ExternalId(s) => ("externalId", s.clone()),
            OfferRef::XmlId(s) => ("xmlId", s.clone()),
        }
    }
}

/// How an order or payment names its customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomerRef {
    /// By internal id.
    Id(i64),
    /// By external id, within the order's site.
    ExternalId(String),
}

impl CustomerRef {
    /// Reads `{"id"|"externalId": …}`.
    pub fn parse(value: &Value) -> Option<CustomerRef> {
        let m = value.as_object()?;
        if let Some(id) = m.get("id").and_then(as_i64) {
            return Some(CustomerRef::Id(id));
        }
        m.get("externalId").and_then(as_text).map(CustomerRef::ExternalId)
    }
}

fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// What an order line keeps of its catalogue offer, as it was when ordered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct OfferSnapshot {
    /// Offer id.
    pub id: i64,
    /// Offer external id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Offer XML id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xml_id: Option<String>,
    /// Offer name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Part number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub article: Option<String>,
}

/// An order line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct OrderItem {
    /// Line id, stable across edits.
    pub id: i64,
    /// The catalogue offer, if the line is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer: Option<OfferSnapshot>,
    /// Free-text name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_name: Option<String>,
    /// Unit price before discounts.
    #[serde(serialize_with = "crate::money::exact")]
    pub initial_price: Decimal,
    /// Unit purchase price.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "crate::money::exact_opt")]
    pub purchase_price: Option<Decimal>,
    /// Quantity.
    #[serde(serialize_with = "crate::money::exact")]
    pub quantity: Decimal,
    /// Line status (product-status code).
    pub status: String,
    /// Discount per unit, as an amount.
    #[serde(serialize_with = "crate::money::exact")]
    pub discount_manual_amount: Decimal,
    /// Discount per unit, in percent.
    #[serde(serialize_with = "crate::money::exact")]
    pub discount_manual_percent: Decimal,
    /// VAT rate (`none`, `0`, `10`, `20`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vat_rate: Option<String>,
    /// Comment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Warehouse it ships from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warehouse: Option<String>,
    /// Every other attribute given (properties, priceType, externalIds, …).
    #[serde(flatten)]
    pub attrs: Map<String, Value>,
}

impl OrderItem {
    /// Discount per unit, both kinds together.
    pub fn unit_discount(&self) -> Decimal {
        self.discount_manual_amount + (self.initial_price * self.discount_manual_percent / Decimal::ONE_HUNDRED)
    }

    /// Price per unit after discounts, never below zero.
    pub fn unit_price(&self) -> Decimal {
        (self.initial_price - self.unit_discount()).max(Decimal::ZERO).round_dp(2).normalize()
    }

    /// Line total.
    pub fn total(&self) -> Decimal {
        (self.unit_price() * self.quantity).normalize()
    }
}

/// A line as a client sends it: like [`OrderItem`] but naming its offer by reference.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemInput {
    /// Index in the client's list, for messages.
    pub index: usize,
    /// The existing line it updates, if any.
    pub id: Option<i64>,
    /// The catalogue offer it names, if any.
    pub offer: Option<OfferRef>,
    /// Every field given, still as a document.
    pub doc: Map<String, Value>,
}

/// A payment of an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Payment {
    /// Payment id.
    pub id: i64,
    /// External id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Payment type code.
    #[serde(rename = "type")]
    pub kind: String,
    /// Payment status code.
    pub status: String,
    /// Amount.
    #[serde(serialize_with = "crate::money::exact")]
    pub amount: Decimal,
    /// When it was paid (Unix seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paid_at: Option<i64>,
    /// Comment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// Delivery of an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Delivery {
    /// Delivery type code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Price charged to the buyer.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "crate::money::exact_opt")]
    pub cost: Option<Decimal>,
    /// What delivery costs the seller.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "crate::money::exact_opt")]
    pub net_cost: Option<Decimal>,
    /// Date, `Y-m-d`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// Address (index, countryIso, region, city, street, building, flat, text, …).
    pub address: Map<String, Value>,
    /// Delivery-service data; `trackNumber` holds the tracking numbers, comma-separated.
    pub data: Map<String, Value>,
    /// Every other attribute (time, service, vatRate, …).
    #[serde(flatten)]
    pub attrs: Map<String, Value>,
}

/// The loyalty account an order names (`loyaltyAccount`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct OrderLoyaltyAccount {
    /// Account id.
    pub id: i64,
}

/// An order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Order {
    /// Internal id.
    pub id: i64,
    /// Order number, unique across sites.
    pub number: String,
    /// The integrating system's id, unique per site.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Site code.
    pub site: String,
    /// Status code.
    pub status: String,
    /// Comment on the last status change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_comment: Option<String>,
    /// Order type code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_type: Option<String>,
    /// Order method code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_method: Option<String>,
    /// Owning customer (internal id).
    #[serde(skip)]
    pub customer_id: Option<i64>,
    /// The corporate customer the order is for (internal id), instead of an individual customer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corporate_id: Option<i64>,
    /// The corporate customer's company that buys (internal id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_id: Option<i64>,
    /// The corporate customer's contact person who ordered (an individual customer's internal id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<i64>,
    /// First name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Patronymic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patronymic: Option<String>,
    /// Phone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Additional phone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_phone: Option<String>,
    /// E-mail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Responsible manager (user id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manager_id: Option<i64>,
    /// Manager's comment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manager_comment: Option<String>,
    /// Buyer's comment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_comment: Option<String>,
    /// Order-level discount amount.
    #[serde(serialize_with = "crate::money::exact")]
    pub discount_manual_amount: Decimal,
    /// Order-level discount percent.
    #[serde(serialize_with = "crate::money::exact")]
    pub discount_manual_percent: Decimal,
    /// Bonuses spent on the order (`orders/loyalty/apply`); they lower its sum, one bonus a unit of money.
    #[serde(skip_serializing_if = "Decimal::is_zero", serialize_with = "crate::money::exact")]
    pub bonuses_charge_total: Decimal,
    /// The loyalty account the order's bonuses move on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loyalty_account: Option<OrderLoyaltyAccount>,
    /// Delivery.
    pub delivery: Delivery,
    /// Warehouse the order ships from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipment_store: Option<String>,
    /// Shipment date, `Y-m-d`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipment_date: Option<String>,
    /// Shipped flag.
    pub shipped: bool,
    /// Values of custom fields by code.
    pub custom_fields: Map<String, Value>,
    /// Every other attribute given (countryIso, currency, contragent, source, weight, call, …).
    #[serde(flatten)]
    pub attrs: Map<String, Value>,
    /// Lines.
    #[serde(skip)]
    pub items: Vec<OrderItem>,
    /// Payments.
    #[serde(skip)]
    pub payments: Vec<Payment>,
    /// Created (Unix seconds).
    #[serde(skip)]
    pub created_at: i64,
    /// Last status change (Unix seconds).
    #[serde(skip)]
    pub status_updated_at: i64,
    /// Test orders never reserve stock nor reach fulfilment.
    #[serde(skip)]
    pub is_test: bool,
    /// Created through an API.
    #[serde(skip)]
    pub from_api: bool,
}

/// Fields a client may not set on an order document.
const READ_ONLY: &[&str] = &[
    "id",
    "site",
    "slug",
    "summ",
    "totalSumm",
    "prepaySum",
    "purchaseSumm",
    "statusUpdatedAt",
    "fromApi",
    "items",
    "payments",
    "customer",
    "contact",
    "company",
    "corporateId",
    "companyId",
    "contactId",
    "createdAt",
    "number",
    "bonusesChargeTotal",
    "bonusesCreditTotal",
    "loyaltyAccount",
];

/// The string fields of an order and their longest length.
pub const STRING_FIELDS: &[(&str, usize)] = &[
    ("externalId", 255),
    ("status", 255),
    ("statusComment", 1000),
    ("orderType", 255),
    ("orderMethod", 255),
    ("firstName", 255),
    ("lastName", 255),
    ("patronymic", 255),
    ("phone", 255),
    ("additionalPhone", 255),
    ("email", 255),
    ("managerComment", 10_000),
    ("customerComment", 10_000),
    ("shipmentStore", 255),
];

/// The parsed parts of an order document that need the store to resolve.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderInput {
    /// The order with every plain field applied.
    pub order: Order,
    /// Lines, when the document had `items`.
    pub items: Option<Vec<ItemInput>>,
    /// Customer, when the document named an individual one.
    pub customer: Option<CustomerRef>,
    /// Corporate customer, when the document named one (`customer` with `type: customer_corporate`).
    pub corporate: Option<CustomerRef>,
    /// The corporate customer's contact person, when given.
    pub contact: Option<CustomerRef>,
    /// The corporate customer's company, when given.
    pub company: Option<CustomerRef>,
    /// `number`, when given.
    pub number: Option<String>,
    /// `createdAt`, when given.
    pub created_at: Option<i64>,
    /// Payments given on creation.
    pub payments: Vec<Payment>,
}

impl Order {
    /// Applies a client's order document over this order (an empty one for creation) and checks it.
    pub fn apply(&self, input: &Map<String, Value>, zone: &Zone) -> Result<OrderInput, DomainError> {
        let mut errors = FieldErrors::new();
        let mut doc = match serde_json::to_value(self) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        let mut given = input.clone();
        patch::stringify_numbers(&mut given, &["externalId", "phone", "additionalPhone", "number"]);
        patch::merge_top_level(&mut doc, &given, READ_ONLY);
        for (field, max) in STRING_FIELDS {
            patch::check_string(&doc, field, *max, &mut errors);
        }
        patch::check_email(&doc, "email", &mut errors);
        patch::check_date(&doc, "shipmentDate", &mut errors);
        for f in ["discountManualAmount", "discountManualPercent"] {
            check_amount(&doc, f, f, &mut errors);
        }
        if let Some(Value::Object(d)) = doc.get("delivery") {
            patch::check_date_at(d, "date", "delivery.date", &mut errors);
            check_amount(d, "cost", "delivery.cost", &mut errors);
            check_amount(d, "netCost", "delivery.netCost", &mut errors);
            if let Some(v) = d.get("address").filter(|v| !v.is_object() && !v.is_null()) {
                let _ = v;
                errors.insert("delivery.address".into(), "This value should be an object.".into());
            }
        } else if doc.get("delivery").is_some_and(|d| !d.is_null()) {
            errors.insert("delivery".into(), "This value should be an object.".into());
        }
        if let Some(v) = doc.get("customFields").filter(|v| !v.is_object() && !v.is_null()) {
            let _ = v;
            errors.insert("customFields".into(), "This value should be an object.".into());
        }
        let percent = doc.get("discountManualPercent").and_then(decimal_of).unwrap_or_default();
        if percent > Decimal::ONE_HUNDRED {
            errors.insert("discountManualPercent".into(), "This value should be 100 or less.".into());
        }

        let mut reference = |field: &str, what: &str| match input.get(field) {
            None | Some(Value::Null) => None,
            Some(v) => match CustomerRef::parse(v) {
                Some(r) => Some(r),
                None => {
                    errors.insert(field.into(), format!("{what} must be given by id or externalId."));
                    None
                }
            },
        };
        let mut customer = reference("customer", "Customer");
        let contact = reference("contact", "Contact");
        let company = reference("company", "Company");
        let corporate_type =
            input.get("customer").and_then(|c| c.get("type")).and_then(Value::as_str) == Some("customer_corporate");
        let corporate = if corporate_type { customer.take() } else { None };
        let items = match input.get("items") {
            None => None,
            Some(Value::Array(list)) => Some(parse_items(list, &mut errors)),
            Some(_) => {
                errors.insert("items".into(), "This value should be a list.".into());
                None
            }
        };
        let payment_docs: Vec<Value> = match input.get("payments") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(list)) => list.clone(),
            Some(Value::Object(map)) => map.values().cloned().collect(),
            Some(_) => {
                errors.insert("payments".into(), "This value should be a list.".into());
                Vec::new()
            }
        };
        let payments: Vec<Payment> = payment_docs
            .iter()
            .enumerate()
            .filter_map(|(i, p)| Payment::from_input(p, &format!("payments[{i}]"), zone, &mut errors))
            .collect();
        let number = input.get("number").and_then(as_text);
        let created_at = match input.get("createdAt") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if zone.parse_start(s).is_some() => zone.parse_start(s),
            Some(_) => {
                errors.insert("createdAt".into(), "This value is not a valid datetime (expected Y-m-d H:i:s).".into());
                None
            }
        };
        if !errors.is_empty() {
            return Err(DomainError::Invalid(errors));
        }
        let mut order: Order = patch::typed(doc)?;
        order.id = self.id;
        order.number = self.number.clone();
        order.site = self.site.clone();
        order.customer_id = self.customer_id;
        order.items = self.items.clone();
        order.payments = self.payments.clone();
        order.created_at = self.created_at;
        order.status_updated_at = self.status_updated_at;
        order.is_test = self.is_test;
        order.from_api = self.from_api;
        Ok(OrderInput { order, items, customer, corporate, contact, company, number, created_at, payments })
    }

    /// Sum of the lines after their discounts, less the order-level discount.
    pub fn summ(&self) -> Decimal {
        let lines: Decimal = self.items.iter().map(OrderItem::total).sum();
        let discount = self.discount_manual_amount + (lines * self.discount_manual_percent / Decimal::ONE_HUNDRED);
        (lines - discount - self.bonuses_charge_total).max(Decimal::ZERO).round_dp(2).normalize()
    }

    /// What the buyer pays: lines plus delivery.
    pub fn total_summ(&self) -> Decimal {
        (self.summ() + self.delivery.cost.unwrap_or_default()).normalize()
    }

    /// What the seller paid for the goods.
    pub fn purchase_summ(&self) -> Decimal {
        self.items.iter().map(|i| i.purchase_price.unwrap_or_default() * i.quantity).sum::<Decimal>().normalize()
    }

    /// Sum of the payments whose status means paid.
    pub fn prepay_sum(&self, paid_statuses: &[String]) -> Decimal {
        self.payments
            .iter()
            .filter(|p| paid_statuses.contains(&p.status))
            .map(|p| p.amount)
            .sum::<Decimal>()
            .normalize()
    }

    /// Tracking numbers (RetailCRM keeps them comma-separated in `delivery.data.trackNumber`).
    pub fn track_numbers(&self) -> Vec<String> {
        match self.delivery.data.get("trackNumber") {
            Some(Value::String(s)) => {
                s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
            }
            Some(Value::Array(a)) => a.iter().filter_map(as_text).collect(),
            _ => Vec::new(),
        }
    }

    /// Replaces the tracking numbers.
    pub fn set_track_numbers(&mut self, numbers: &[String]) {
        if numbers.is_empty() {
            self.delivery.data.remove("trackNumber");
        } else {
            self.delivery.data.insert("trackNumber".into(), Value::String(numbers.join(",")));
        }
    }
}

impl Payment {
    /// Reads a payment document (`type`, `status`, `amount`, `paidAt`, `comment`, `externalId`); problems
    /// go into `errors` under `path`.
    pub fn from_input(doc: &Value, path: &str, zone: &Zone, errors: &mut FieldErrors) -> Option<Payment> {
        let Some(m) = doc.as_object() else {
            errors.insert(path.into(), "This value should be an object.".into());
            return None;
        };
        let text = |k: &str| m.get(k).and_then(as_text);
        let amount = match m.get("amount") {
            None | Some(Value::Null) => Decimal::ZERO,
            Some(v) => match decimal_of(v) {
                Some(d) if d >= Decimal::ZERO && d <= crate::money::max_amount() => d,
                _ => {
                    errors.insert(format!("{path}.amount"), "This value should be a non-negative number.".into());
                    return None;
                }
            },
        };
        let paid_at = match m.get("paidAt") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => match zone.parse_start(s) {
                Some(t) => Some(t),
                None => {
                    errors.insert(
                        format!("{path}.paidAt"),
                        "This value is not a valid datetime (expected Y-m-d H:i:s).".into(),
                    );
                    return None;
                }
            },
            Some(_) => {
                errors.insert(
                    format!("{path}.paidAt"),
                    "This value is not a valid datetime (expected Y-m-d H:i:s).".into(),
                );
                return None;
            }
        };
        Some(Payment {
            id: m.get("id").and_then(as_i64).unwrap_or(0),
            external_id: text("externalId"),
            kind: text("type").unwrap_or_default(),
            status: text("status").unwrap_or_default(),
            amount,
            paid_at,
            comment: text("comment"),
        })
    }
}

/// Keys the snapshot adds beside the order's own document.
const SNAPSHOT_KEYS: &[&str] =
    &["id", "number", "site", "items", "payments", "customerId", "createdAt", "statusUpdatedAt", "isTest", "fromApi"];

impl Order {
    /// The whole order as one document: what a `created` history record keeps.
    pub fn snapshot(&self) -> Value {
        let mut v = serde_json::to_value(self).unwrap_or_else(|_| json!({}));
        v["items"] = serde_json::to_value(&self.items).unwrap_or_default();
        v["payments"] = serde_json::to_value(&self.payments).unwrap_or_default();
        v["customerId"] = json!(self.customer_id);
        v["createdAt"] = json!(self.created_at);
        v["statusUpdatedAt"] = json!(self.status_updated_at);
        v["isTest"] = json!(self.is_test);
        v["fromApi"] = json!(self.from_api);
        v
    }

    /// Reads back a [`Order::snapshot`].
    pub fn from_snapshot(v: &Value) -> Option<Order> {
        let mut doc = v.as_object()?.clone();
        let take = |doc: &mut Map<String, Value>, k: &str| doc.remove(k).unwrap_or(Value::Null);
        let items = take(&mut doc, "items");
        let payments = take(&mut doc, "payments");
        let customer_id = take(&mut doc, "customerId");
        let created_at = take(&mut doc, "createdAt");
        let status_updated_at = take(&mut doc, "statusUpdatedAt");
        let is_test = take(&mut doc, "isTest");
        let from_api = take(&mut doc, "fromApi");
        let mut o: Order = serde_json::from_value(Value::Object(doc)).ok()?;
        o.items = serde_json::from_value(items).unwrap_or_default();
        o.payments = serde_json::from_value(payments).unwrap_or_default();
        o.customer_id = customer_id.as_i64();
        o.created_at = created_at.as_i64().unwrap_or_default();
        o.status_updated_at = status_updated_at.as_i64().unwrap_or_default();
        o.is_test = is_test.as_bool().unwrap_or(false);
        o.from_api = from_api.as_bool().unwrap_or(false);
        Some(o)
    }

    /// The document stored in the order row: the order without what has columns or tables of its own.
    pub fn document(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Whether a key is one the snapshot adds (so never an attribute).
    pub fn is_snapshot_key(key: &str) -> bool {
        SNAPSHOT_KEYS.contains(&key)
    }
}

/// The number an order gets when the client gives none: its id and a letter, as RetailCRM does (`1042A`).
pub fn default_number(id: i64) -> String {
    format!("{id}{DEFAULT_NUMBER_SUFFIX}")
}

/// What follows the id in an order number the client did not give (the store writes it in the
/// statement that allocates the id).
pub const DEFAULT_NUMBER_SUFFIX: &str = "A";

fn decimal_of(v: &Value) -> Option<Decimal> {
    match v {
        Value::Number(n) => n.to_string().parse().ok().or_else(|| Decimal::from_scientific(&n.to_string()).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// An amount: a non-negative number no larger than the storage holds.
fn check_amount(doc: &Map<String, Value>, field: &str, path: &str, errors: &mut FieldErrors) {
    match doc.get(field) {
        None | Some(Value::Null) => {}
        Some(v) => match decimal_of(v) {
            Some(d) if d >= Decimal::ZERO && d <= crate::money::max_amount() => {}
            Some(_) => {
                errors.insert(path.into(), "This value should be between 0 and 900000000000000.".into());
            }
            None => {
                errors.insert(path.into(), "This value should be a number.".into());
            }
        },
    }
}

fn parse_items(list: &[Value], errors: &mut FieldErrors) -> Vec<ItemInput> {
    let mut out = Vec::with_capacity(list.len());
    for (index, raw) in list.iter().enumerate() {
        let Some(doc) = raw.as_object() else {
            errors.insert(format!("items[{index}]"), "This value should be an object.".into());
            continue;
        };
        let offer = match doc.get("offer") {
            None | Some(Value::Null) => None,
            Some(v) => match OfferRef::parse(v) {
                Some(r) => Some(r),
                None => {
                    errors.insert(
                        format!("items[{index}].offer"),
                        "Offer must be given by id, externalId or xmlId.".into(),
                    );
                    None
                }
            },
        };
        for f in ["initialPrice", "purchasePrice", "discountManualAmount", "discountManualPercent"] {
            check_amount(doc, f, &format!("items[{index}].{f}"), errors);
        }
        match doc.get("quantity") {
            None | Some(Value::Null) => {}
            Some(v) => match decimal_of(v) {
                Some(q) if q > Decimal::ZERO && q <= Decimal::from(1_000_000_000) => {}
                _ => {
                    errors.insert(format!("items[{index}].quantity"), "This value should be greater than 0.".into());
                }
            },
        }
        patch::check_string_at(doc, "productName", &format!("items[{index}].productName"), 255, errors);
        patch::check_string_at(doc, "comment", &format!("items[{index}].comment"), 10_000, errors);
        if offer.is_none()
            && doc.get("id").is_none()
            && doc.get("productName").and_then(Value::as_str).is_none_or(str::is_empty)
        {
            errors.insert(format!("items[{index}]"), "An item needs an offer or a productName.".into());
        }
        out.push(ItemInput { index, id: doc.get("id").and_then(as_i64), offer, doc: doc.clone() });
    }
    out
}

/// Builds a line from its document: typed fields checked, the rest kept as attributes.
pub fn item_from_doc(base: &OrderItem, doc: &Map<String, Value>, index: usize) -> Result<OrderItem, DomainError> {
    let mut merged = match serde_json::to_value(base) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    patch::merge_top_level(&mut merged, doc, &["id", "offer", "createdAt", "discountTotal", "discounts", "prices"]);
    let mut item: OrderItem = patch::typed(merged).map_err(|e| match e {
        DomainError::Invalid(f) => {
            DomainError::Invalid(f.into_iter().map(|(k, v)| (format!("items[{index}].{k}"), v)).collect())
        }
        other => other,
    })?;
    item.id = base.id;
    item.offer = base.offer.clone();
    if item.quantity.is_zero() {
        item.quantity = Decimal::ONE;
    }
    if item.status.is_empty() {
        item.status = "new".into();
    }
    Ok(item)
}

// ---- refusals: what an order's write names and the store cannot find, or finds taken ----

/// A line named by id that the order does not have (`items[i].id`).
pub fn unknown_item(index: usize, id: i64) -> (String, String) {
    (format!("items[{index}].id"), format!("Order item with id {id} not found."))
}

/// A new line's offer that the catalogue does not have (`items[i].offer.id|externalId|xmlId`).
pub fn unknown_offer(index: usize, offer: &OfferRef) -> (String, String) {
    let (field, value) = offer.describe();
    (format!("items[{index}].offer.{field}"), format!("Offer with {field} {value} not found."))
}

/// The order's customer, named by id or external id, does not exist: the payload cannot be loaded.
pub fn unknown_customer(customer: &CustomerRef) -> DomainError {
    let (field, message) = match customer {
        CustomerRef::Id(id) => ("customer.id", format!("Customer with id={id} not found.")),
        CustomerRef::ExternalId(e) => ("customer.externalId", format!("Customer with externalId={e} not found.")),
    };
    DomainError::Unresolved(FieldErrors::from([(field.to_string(), message)]))
}

/// An order belongs to one site, and so does the customer it names.
pub fn check_customer_site(customer_id: i64, customer_site: &str, order_site: &str) -> Result<(), DomainError> {
    if customer_site == order_site {
        return Ok(());
    }
    Err(DomainError::invalid("customer", format!("Customer with id {customer_id} belongs to another site.")))
}

/// Another order has this number.
pub fn number_taken() -> DomainError {
    DomainError::invalid("number", "Order with this number already exists.")
}

/// Another order has this external id.
pub fn external_id_taken() -> DomainError {
    DomainError::invalid("externalId", "Order with this externalId already exists.")
}

/// Packed units have left the warehouse: a line cannot shrink below them. `packed` is each line's
/// packed quantity in money units (line id, units), as the packs keep it.
pub fn check_packed(items: &[OrderItem], packed: &[(i64, i64)], errors: &mut FieldErrors) {
    for (i, item) in items.iter().enumerate() {
        let packed_units = packed.iter().find(|(line, _)| *line == item.id).map(|(_, units)| *units);
        if let Some(units) = packed_units.filter(|units| crate::money::to_units(item.quantity) < *units) {
            errors.insert(
                format!("items[{i}].quantity"),
                format!("The quantity cannot be less than the packed {}.", crate::money::from_units(units).normalize()),
            );
        }
    }
}

/// One of the orders of a batch of external ids (`orders[i].id`) is not there, or not on the key's sites.
pub fn unknown_in_batch(index: usize, id: i64) -> DomainError {
    DomainError::invalid(format!("orders[{index}].id"), format!("Order with id {id} not found."))
}

/// The order a payment is added to is not there, or not on the key's sites.
pub fn unknown_payment_order() -> DomainError {
    DomainError::invalid("payment.order", "Order not found.")
}

/// A cart line's offer is not in the catalogue (`cart.items[i].offer`).
pub fn unknown_cart_offer(index: usize) -> (String, String) {
    (format!("cart.items[{index}].offer"), "Offer not found.".into())
}

/// A favourite's offer is not in the catalogue.
pub fn unknown_favorite_offer() -> DomainError {
    DomainError::invalid("favorite.offer", "Offer not found.")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn totals_with_discounts() {
        let mut o = Order {
            items: vec![
                OrderItem {
                    initial_price: "100".parse().unwrap(),
                    quantity: "2".parse().unwrap(),
                    discount_manual_percent: "10".parse().unwrap(),
                    ..Default::default()
                },
                OrderItem {
                    initial_price: "10.50".parse().unwrap(),
                    quantity: "1".parse().unwrap(),
                    discount_manual_amount: "0.5".parse().unwrap(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        o.delivery.cost = Some("300".parse().unwrap());
        assert_eq!(o.summ(), "190".parse::<Decimal>().unwrap());
        assert_eq!(o.total_summ(), "490".parse::<Decimal>().unwrap());
    }

    #[test]
    fn apply_checks_fields() {
        let base = Order { site: "s".into(), ..Default::default() };
        let zone = Zone::named("Europe/Moscow").unwrap();
        let err = base
            .apply(&obj(json!({"email": "nope", "delivery": {"cost": -1}, "items": [{"quantity": 0}]})), &zone)
            .unwrap_err();
        let DomainError::Invalid(f) = err else { panic!() };
        assert!(f.contains_key("email") && f.contains_key("delivery.cost") && f.contains_key("items[0].quantity"));
        let ok =
            base.apply(&obj(json!({"externalId": 42, "firstName": "Tom", "customFields": {"nps": 7}})), &zone).unwrap();
        assert_eq!(ok.order.external_id.as_deref(), Some("42"));
        assert_eq!(ok.order.custom_fields["nps"], json!(7));
        let bad_type = base.apply(&obj(json!({"shipped": "maybe"})), &zone).unwrap_err();
        let mut full = ok.order.clone();
        full.items = vec![OrderItem { id: 5, quantity: 2.into(), ..Default::default() }];
        full.customer_id = Some(3);
        assert_eq!(Order::from_snapshot(&full.snapshot()), Some(full));
        assert!(matches!(bad_type, DomainError::Invalid(f) if f.contains_key("shipped")));
    }

    #[test]
    fn track_numbers() {
        let mut o = Order::default();
        o.set_track_numbers(&["A1".into(), "B2".into()]);
        assert_eq!(o.track_numbers(), vec!["A1", "B2"]);
    }

    #[test]
    fn refusals_name_the_field_and_the_value() {
        assert_eq!(unknown_item(2, 9), ("items[2].id".into(), "Order item with id 9 not found.".into()));
        assert_eq!(
            unknown_offer(0, &OfferRef::XmlId("x-1".into())),
            ("items[0].offer.xmlId".into(), "Offer with xmlId x-1 not found.".into())
        );
        assert_eq!(
            unknown_customer(&CustomerRef::Id(7)),
            DomainError::Unresolved(FieldErrors::from([(
                "customer.id".into(),
                "Customer with id=7 not found.".into()
            )]))
        );
        assert_eq!(
            unknown_customer(&CustomerRef::ExternalId("c-1".into())),
            DomainError::Unresolved(FieldErrors::from([(
                "customer.externalId".into(),
                "Customer with externalId=c-1 not found.".into()
            )]))
        );
        assert_eq!(number_taken(), DomainError::invalid("number", "Order with this number already exists."));
        assert_eq!(
            external_id_taken(),
            DomainError::invalid("externalId", "Order with this externalId already exists.")
        );
        assert_eq!(unknown_in_batch(1, 5), DomainError::invalid("orders[1].id", "Order with id 5 not found."));
        assert_eq!(unknown_payment_order(), DomainError::invalid("payment.order", "Order not found."));
        assert_eq!(unknown_cart_offer(3), ("cart.items[3].offer".into(), "Offer not found.".into()));
        assert_eq!(unknown_favorite_offer(), DomainError::invalid("favorite.offer", "Offer not found."));
    }

    #[test]
    fn a_customer_of_another_site_is_refused() {
        assert_eq!(check_customer_site(4, "shop", "shop"), Ok(()));
        assert_eq!(
            check_customer_site(4, "other", "shop"),
            Err(DomainError::invalid("customer", "Customer with id 4 belongs to another site."))
        );
    }

    #[test]
    fn a_line_cannot_shrink_below_what_is_packed() {
        let line = |id, q: &str| OrderItem { id, quantity: q.parse().unwrap(), ..Default::default() };
        let items = [line(1, "2"), line(2, "1.5"), line(3, "5")];
        // Line 1 has 3 packed, line 2 exactly its 1.5, line 3 nothing.
        let packed =
            [(1, crate::money::to_units("3".parse().unwrap())), (2, crate::money::to_units("1.5".parse().unwrap()))];
        let mut errors = FieldErrors::new();
        check_packed(&items, &packed, &mut errors);
        assert_eq!(
            errors,
            FieldErrors::from([("items[0].quantity".into(), "The quantity cannot be less than the packed 3.".into())])
        );
    }
}
