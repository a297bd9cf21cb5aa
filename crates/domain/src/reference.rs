//! Reference books: the small code-keyed lists (statuses, order types, delivery types, …) that orders
//! point at. Every entry has a code, a name, an active flag and an order; the rest of its attributes are
//! kept as given, since only faces read them.

use crate::DomainError;
use serde_json::{Map, Value, json};

/// The kinds of reference book. Sites and stores are books too but live in their own tables, since
/// keys, stock and billing hang off them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReferenceKind {
    /// Order statuses; attribute `group` names the status group, `partsCode` the parts face's number.
    Status,
    /// Groups of statuses (`new`, `approval`, …, `complete`, `cancel`).
    StatusGroup,
    /// Order types.
    OrderType,
    /// Order methods (how the order came in).
    OrderMethod,
    /// Payment types.
    PaymentType,
    /// Payment statuses; `paymentComplete` marks the ones that mean paid.
    PaymentStatus,
    /// Delivery types.
    DeliveryType,
    /// Statuses of an order line.
    ProductStatus,
    /// Price types; `default` marks the base price.
    PriceType,
    /// Countries the account works in, by ISO code.
    Country,
    /// Currencies by ISO code; `isBase` marks the account's own. Edited by id.
    Currency,
    /// Units of measure; `sym` is the short symbol, `default` the unit of new products.
    Unit,
    /// Couriers (people); keyed by id, which is also their code.
    Courier,
    /// Groups of costs.
    CostGroup,
    /// Cost items; `group` names their cost group.
    CostItem,
    /// The account's legal entities (sellers), with their requisites.
    LegalEntity,
    /// Delivery services (carriers) that delivery types use.
    DeliveryService,
    /// Subscription categories of a channel (`email`, `sms`, `waba`); code `channel/code`.
    Subscription,
}

impl ReferenceKind {
    /// Every kind, in a stable order.
    pub const ALL: [ReferenceKind; 18] = [
        ReferenceKind::Status,
        ReferenceKind::StatusGroup,
        ReferenceKind::OrderType,
        ReferenceKind::OrderMethod,
        ReferenceKind::PaymentType,
        ReferenceKind::PaymentStatus,
        ReferenceKind::DeliveryType,
        ReferenceKind::ProductStatus,
        ReferenceKind::PriceType,
        ReferenceKind::Country,
        ReferenceKind::Currency,
        ReferenceKind::Unit,
        ReferenceKind::Courier,
        ReferenceKind::CostGroup,
        ReferenceKind::CostItem,
        ReferenceKind::LegalEntity,
        ReferenceKind::DeliveryService,
        ReferenceKind::Subscription,
    ];

    /// Stable name used in storage.
    pub fn code(self) -> &'static str {
        match self {
            ReferenceKind::Status => "status",
            ReferenceKind::StatusGroup => "status_group",
            ReferenceKind::OrderType => "order_type",
            ReferenceKind::OrderMethod => "order_method",
            ReferenceKind::PaymentType => "payment_type",
            ReferenceKind::PaymentStatus => "payment_status",
            ReferenceKind::DeliveryType => "delivery_type",
            ReferenceKind::ProductStatus => "product_status",
            ReferenceKind::PriceType => "price_type",
            ReferenceKind::Country => "country",
            ReferenceKind::Currency => "currency",
            ReferenceKind::Unit => "unit",
            ReferenceKind::Courier => "courier",
            ReferenceKind::CostGroup => "cost_group",
            ReferenceKind::CostItem => "cost_item",
            ReferenceKind::LegalEntity => "legal_entity",
            ReferenceKind::DeliveryService => "delivery_service",
            ReferenceKind::Subscription => "subscription",
        }
    }
}

/// One entry of a reference book.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceEntry {
    /// Stable id, unique across books (0 before the entry is stored).
    pub id: i64,
    /// Symbolic code, unique within its book.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Whether it can be chosen.
    pub active: bool,
    /// Position in lists.
    pub ordering: i64,
    /// Every other attribute, as the client gave it.
    pub attrs: Map<String, Value>,
}

impl ReferenceEntry {
    /// A string attribute, if present.
    pub fn attr_str(&self, name: &str) -> Option<&str> {
        self.attrs.get(name).and_then(Value::as_str)
    }

    /// A boolean attribute (absent is false).
    pub fn attr_bool(&self, name: &str) -> bool {
        self.attrs.get(name).and_then(Value::as_bool).unwrap_or(false)
    }
}

/// The refusal of an entry whose code its book already has.
pub fn code_taken(code: &str) -> DomainError {
    DomainError::invalid("code", format!("'{code}' already exists."))
}

/// A site (a store front): where orders and customers belong.
#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    /// Internal id.
    pub id: i64,
    /// Symbolic code, used by every face.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Public URL.
    pub url: Option<String>,
    /// Position in lists.
    pub ordering: i64,
    /// Every other attribute (currency, countryIso, contragent, …).
    pub attrs: Map<String, Value>,
}

/// A store in the CRM's words, a warehouse in everyone else's.
#[derive(Debug, Clone, PartialEq)]
pub struct Warehouse {
    /// Internal id.
    pub id: i64,
    /// Symbolic code.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Whether orders may ship from it.
    pub active: bool,
    /// The distributor that owns it, if any.
    pub distributor: Option<String>,
    /// Every other attribute (address, phone, type, …).
    pub attrs: Map<String, Value>,
}

fn entry(code: &str, name: &str, ordering: i64, attrs: Value) -> ReferenceEntry {
    ReferenceEntry {
        id: 0,
        code: code.into(),
        name: name.into(),
        active: true,
        ordering,
        attrs: attrs.as_object().cloned().unwrap_or_default(),
    }
}

/// The books a new database starts with: RetailCRM's usual defaults, statuses carrying the parts face's
/// numeric codes (docs/parts.md, order status codes).
pub fn defaults(kind: ReferenceKind) -> Vec<ReferenceEntry> {
    match kind {
        ReferenceKind::Status => [
            ("new", "Новый", "new", 2),
            ("awaiting-payment", "Ожидает оплаты", "approval", 1),
            ("availability-confirmed", "Наличие подтверждено", "approval", 3),
            ("client-confirmed", "Согласовано с клиентом", "approval", 3),
            ("prepayed", "Предоплата поступила", "approval", 3),
            ("supplier-accepted", "Принят поставщиком", "assembling", 11),
            ("in-transit-from-supplier", "В пути от поставщика", "assembling", 4),
            ("at-branch", "На складе филиала", "assembling", 13),
            ("in-transit-from-branch", "В пути из филиала", "assembling", 12),
            ("assembling", "Комплектуется", "assembling", 3),
            ("assembling-complete", "На складе", "assembling", 14),
            ("send-to-delivery", "Передан в доставку", "delivery", 15),
            ("delivering", "Доставляется", "delivery", 15),
            ("at-pickup-point", "В пункте выдачи", "delivery", 5),
            ("complete", "Выполнен", "complete", 7),
            ("no-product", "Нет в наличии", "cancel", 10),
            ("no-call", "Недозвон", "cancel", 8),
            ("cancel-other", "Отменен", "cancel", 8),
        ]
        .iter()
        .enumerate()
        .map(|(i, (code, name, group, parts))| {
            entry(code, name, i as i64 + 1, json!({"group": group, "partsCode": parts}))
        })
        .collect(),
        ReferenceKind::StatusGroup => [
            ("new", "Новый", true),
            ("approval", "Согласование", true),
            ("assembling", "Комплектация", true),
            ("delivery", "Доставка", true),
            ("complete", "Выполнен", false),
            ("cancel", "Отменен", false),
        ]
        .iter()
        .enumerate()
        .map(|(i, (code, name, process))| entry(code, name, i as i64 + 1, json!({"process": process})))
        .collect(),
        ReferenceKind::OrderType => vec![
            entry("eshop-individual", "Заказ от физ. лица", 1, json!({"defaultForCrm": true, "defaultForApi": true})),
            entry("eshop-legal", "Заказ от юр. лица", 2, json!({"defaultForCrm": false, "defaultForApi": false})),
        ],
        ReferenceKind::OrderMethod => vec![
            entry("shopping-cart", "Оформлен через корзину", 1, json!({"defaultForCrm": false, "defaultForApi": true})),
            entry("phone", "По телефону", 2, json!({"defaultForCrm": true, "defaultForApi": false})),
            entry("one-click", "В один клик", 3, json!({"defaultForCrm": false, "defaultForApi": false})),
            entry("parts-api", "Через API поставщика", 4, json!({"defaultForCrm": false, "defaultForApi": false})),
        ],
        ReferenceKind::PaymentType => vec![
            entry("cash", "Наличными", 1, json!({"defaultForCrm": true, "defaultForApi": false})),
            entry("bank-card", "Банковской картой", 2, json!({"defaultForCrm": false, "defaultForApi": true})),
            entry("bank-transfer", "Безналичный расчет", 3, json!({"defaultForCrm": false, "defaultForApi": false})),
            entry("e-money", "Электронными деньгами", 4, json!({"defaultForCrm": false, "defaultForApi": false})),
        ],
        ReferenceKind::PaymentStatus => vec![
            entry(
                "not-paid",
                "Не оплачен",
                1,
                json!({"paymentComplete": false, "defaultForCrm": true, "defaultForApi": true}),
            ),
            entry("invoice", "Выставлен счет", 2, json!({"paymentComplete": false})),
            entry("paid", "Оплачен", 3, json!({"paymentComplete": true})),
            entry("returned", "Возврат", 4, json!({"paymentComplete": false})),
            entry("fail", "Ошибка оплаты", 5, json!({"paymentComplete": false})),
        ],
        ReferenceKind::DeliveryType => vec![
            entry(
                "courier",
                "Доставка курьером",
                1,
                json!({"defaultCost": 300, "defaultNetCost": 0, "defaultForCrm": true}),
            ),
            entry(
                "self-delivery",
                "Самовывоз",
                2,
                json!({"defaultCost": 0, "defaultNetCost": 0, "defaultForCrm": false}),
            ),
            entry(
                "russian-post",
                "Почта России",
                3,
                json!({"defaultCost": 350, "defaultNetCost": 0, "defaultForCrm": false}),
            ),
            entry(
                "transport-company",
                "Транспортная компания",
                4,
                json!({"defaultCost": 0, "defaultNetCost": 0, "defaultForCrm": false}),
            ),
        ],
        ReferenceKind::ProductStatus => vec![
            entry("new", "Новый", 1, json!({"cancelStatus": false})),
            entry("in-reserve", "В резерве", 2, json!({"cancelStatus": false})),
            entry("sold", "Продан", 3, json!({"cancelStatus": false})),
            entry("canceled", "Отменен", 4, json!({"cancelStatus": true})),
            entry("returned", "Возврат", 5, json!({"cancelStatus": true})),
        ],
        ReferenceKind::PriceType => vec![entry(
            "base",
            "Базовая",
            1,
            json!({"default": true, "currency": "RUB", "description": "Основная цена"}),
        )],
        ReferenceKind::Country => {
            [("RU", "Россия"), ("BY", "Беларусь"), ("KZ", "Казахстан"), ("AM", "Армения"), ("KG", "Киргизия")]
                .iter()
                .enumerate()
                .map(|(i, (code, name))| entry(code, name, i as i64 + 1, json!({})))
                .collect()
        }
        ReferenceKind::Currency => {
            vec![entry("RUB", "Российский рубль", 1, json!({"isBase": true, "isAutoConvert": false}))]
        }
        ReferenceKind::Unit => [
            ("pc", "Штука", "шт.", true),
            ("kg", "Килограмм", "кг", false),
            ("m", "Метр", "м", false),
            ("l", "Литр", "л", false),
            ("set", "Комплект", "компл.", false),
        ]
        .iter()
        .enumerate()
        .map(|(i, (code, name, sym, default))| entry(code, name, i as i64 + 1, json!({"sym": sym, "default": default})))
        .collect(),
        ReferenceKind::CostGroup => vec![
            entry("delivery", "Доставка", 1, json!({"color": "#86c3f7"})),
            entry("commission", "Комиссии", 2, json!({"color": "#ffd298"})),
        ],
        ReferenceKind::CostItem => vec![
            entry(
                "delivery-cost",
                "Стоимость доставки",
                1,
                json!({"group": "delivery", "type": "var", "appliesToOrders": true, "appliesToUsers": false}),
            ),
            entry(
                "payment-commission",
                "Комиссия за приём оплаты",
                2,
                json!({"group": "commission", "type": "var", "appliesToOrders": true, "appliesToUsers": false}),
            ),
        ],
        ReferenceKind::DeliveryService => {
            vec![entry("cdek", "СДЭК", 1, json!({})), entry("russian-post", "Почта России", 2, json!({}))]
        }
        ReferenceKind::Courier | ReferenceKind::LegalEntity | ReferenceKind::Subscription => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_a_taken_code() {
        assert_eq!(code_taken("new"), DomainError::invalid("code", "'new' already exists."));
    }
}
