//! Reference books, custom fields and their dictionaries: what an edit or a create takes. A book
//! entry keeps the members it is given beside these; the ones listed are those torg reads. The path's
//! code wins over a `code` in the body.

use crate::faces::crm::references::STORE_TYPES;
use crate::kit::{Kind, Members};
use torg_domain::reference::ReferenceKind;

use Kind::{Boolean, Entities, Entity, Integer, Number, Text};

/// An entry of a book with nothing of its own.
const PLAIN: Members = &[("code", Text), ("name", Text), ("active", Boolean), ("ordering", Integer)];

/// An order status: its group (which must exist), and the parts face's state code.
const STATUS: Members = &[
    ("code", Text),
    ("name", Text),
    ("active", Boolean),
    ("ordering", Integer),
    ("group", Text),
    ("partsCode", Integer),
];

/// An order type or method, a payment type: the one new orders and payments get without one.
const DEFAULTABLE: Members =
    &[("code", Text), ("name", Text), ("active", Boolean), ("ordering", Integer), ("defaultForApi", Boolean)];

/// A payment status: the default, and whether it means the money arrived.
const PAYMENT_STATUS: Members = &[
    ("code", Text),
    ("name", Text),
    ("active", Boolean),
    ("ordering", Integer),
    ("defaultForApi", Boolean),
    ("paymentComplete", Boolean),
];

/// A delivery type: what `delivery/calculate` answers, and the integration that carries it.
const DELIVERY_TYPE: Members = &[
    ("code", Text),
    ("name", Text),
    ("active", Boolean),
    ("ordering", Integer),
    ("defaultCost", Number),
    ("vatRate", Text),
    ("integrationCode", Text),
];

/// A price type: the default one is the offers' base price.
const PRICE_TYPE: Members =
    &[("code", Text), ("name", Text), ("active", Boolean), ("ordering", Integer), ("default", Boolean)];

/// A unit of measure: its symbol, and the one offers get without one.
const UNIT: Members =
    &[("code", Text), ("name", Text), ("active", Boolean), ("ordering", Integer), ("sym", Text), ("default", Boolean)];

/// A cost item: its group (which must exist) and what costs of it may name.
const COST_ITEM: Members = &[
    ("code", Text),
    ("name", Text),
    ("active", Boolean),
    ("ordering", Integer),
    ("group", Text),
    ("appliesToOrders", Boolean),
    ("appliesToUsers", Boolean),
];

/// A legal entity: named by `legalName`; the billing face's counterparty lookup reads its details.
const LEGAL_ENTITY: Members = &[
    ("code", Text),
    ("legalName", Text),
    ("active", Boolean),
    ("ordering", Integer),
    ("INN", Text),
    ("KPP", Text),
    ("OGRN", Text),
    ("OGRNIP", Text),
    ("legalAddress", Text),
];

/// What `reference/{book}/{code}/edit` takes for the book of `kind`.
pub fn book(kind: ReferenceKind) -> Members {
    use ReferenceKind as K;
    match kind {
        K::Status => STATUS,
        K::OrderType | K::OrderMethod | K::PaymentType => DEFAULTABLE,
        K::PaymentStatus => PAYMENT_STATUS,
        K::DeliveryType => DELIVERY_TYPE,
        K::PriceType => PRICE_TYPE,
        K::Unit => UNIT,
        K::CostItem => COST_ITEM,
        K::LegalEntity => LEGAL_ENTITY,
        _ => PLAIN,
    }
}

/// A site (`reference/sites/{code}/edit`).
pub const SITE_ENTRY: Members = &[("code", Text), ("name", Text), ("url", Text), ("ordering", Integer)];

/// A store, a warehouse (`reference/stores/{code}/edit`); the office face reads `address.text` and
/// `contacts`.
pub const STORE_ENTRY: Members = &[
    ("code", Text),
    ("name", Text),
    ("active", Boolean),
    ("type", Kind::OneOf(STORE_TYPES)),
    ("address", Entity(&[("text", Text)])),
    ("contacts", Text),
];

/// A currency (`reference/currencies/create`, edit by id): an ISO 4217 code and its conversion.
pub const CURRENCY: Members = &[
    ("code", Text),
    ("isBase", Boolean),
    ("isAutoConvert", Boolean),
    ("manualConvertNominal", Integer),
    ("autoConvertExtraPercent", Integer),
    ("manualConvertValue", Number),
];

/// A courier (`reference/couriers/create`, edit by id).
pub const COURIER: Members = &[
    ("firstName", Text),
    ("lastName", Text),
    ("patronymic", Text),
    ("email", Text),
    ("description", Text),
    ("active", Boolean),
    ("phone", Entity(&[("number", Text)])),
];

/// A subscription category of a channel (`reference/subscriptions/{channel}/{code}/edit`).
pub const SUBSCRIPTION_CATEGORY: Members =
    &[("code", Text), ("name", Text), ("active", Boolean), ("ordering", Integer), ("autoSubscribe", Boolean)];

/// The types of custom fields (`torg_domain::custom_field::FieldType`'s codes).
pub const FIELD_TYPES: &[&str] =
    &["boolean", "date", "dictionary", "multiselect_dictionary", "email", "integer", "numeric", "string", "text"];

/// A custom field definition (`custom-fields/{entity}/create`, its edit; the path's code wins).
pub const CUSTOM_FIELD: Members = &[
    ("code", Text),
    ("name", Text),
    ("type", Kind::OneOf(FIELD_TYPES)),
    ("dictionary", Text),
    ("ordering", Integer),
    ("required", Boolean),
    ("inFilter", Boolean),
    ("inList", Boolean),
    ("inGroupActions", Boolean),
    ("displayArea", Text),
    ("viewMode", Text),
];

/// A dictionary of custom fields' choices (`custom-fields/dictionaries/create`, its edit).
pub const CUSTOM_DICTIONARY: Members =
    &[("code", Text), ("name", Text), ("elements", Entities(&[("code", Text), ("name", Text), ("ordering", Integer)]))];
