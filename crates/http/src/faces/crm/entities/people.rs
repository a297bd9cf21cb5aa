//! Customers, corporate customers and what a shop reports about them: notes, loyalty accounts,
//! subscriptions, carts and favourites.

use super::{ADDRESS, CONTRAGENT, OFFER_REF, ORDER_REF, REF, SOURCE};
use crate::faces::crm::books::CHANNELS;
use crate::kit::{Kind, Members};

use Kind::{Boolean, Date, DateTime, Entities, Entity, Integer, Number, Object, Text};

/// A customer (`customers/create`, `customers/{externalId}/edit`, `customers/upload`).
pub const CUSTOMER: Members = &[
    ("externalId", Text),
    ("firstName", Text),
    ("lastName", Text),
    ("patronymic", Text),
    ("email", Text),
    ("phones", Entities(&[("number", Text)])),
    ("managerId", Integer),
    ("vip", Boolean),
    ("bad", Boolean),
    ("sex", Kind::OneOf(&["male", "female"])),
    ("birthday", Date),
    ("address", Entity(ADDRESS)),
    ("customFields", Object),
    ("contragent", Entity(CONTRAGENT)),
    ("source", Entity(SOURCE)),
    ("tags", Kind::List),
    ("discountCardNumber", Text),
    ("personalDiscount", Number),
    ("browserId", Text),
    ("mgCustomerId", Text),
    ("commentary", Text),
    ("emailMarketingUnsubscribedAt", DateTime),
];

/// An address of a corporate customer.
pub const CORPORATE_ADDRESS: Members = &[
    ("externalId", Text),
    ("name", Text),
    ("isMain", Boolean),
    ("index", Text),
    ("countryIso", Text),
    ("region", Text),
    ("city", Text),
    ("cityType", Text),
    ("street", Text),
    ("streetType", Text),
    ("building", Text),
    ("flat", Text),
    ("house", Text),
    ("housing", Text),
    ("metro", Text),
    ("intercomCode", Text),
    ("notes", Text),
    ("text", Text),
];

/// A company of a corporate customer.
pub const COMPANY: Members = &[
    ("externalId", Text),
    ("name", Text),
    ("brand", Text),
    ("active", Boolean),
    ("isMain", Boolean),
    ("contragent", Entity(CONTRAGENT)),
    ("customFields", Object),
    ("address", Entity(REF)),
];

/// A contact person of a corporate customer: an individual customer, and the companies they act for.
pub const CONTACT: Members = &[
    ("customer", Entity(&[("id", Integer), ("externalId", Text), ("site", Text)])),
    ("isMain", Boolean),
    ("companies", Entities(&[("id", Integer), ("externalId", Text), ("company", Entity(REF))])),
];

/// A corporate customer (`customers-corporate/create`, its edit and upload); its addresses, companies
/// and contacts are taken on creation.
pub const CORPORATE: Members = &[
    ("externalId", Text),
    ("nickName", Text),
    ("managerId", Integer),
    ("vip", Boolean),
    ("bad", Boolean),
    ("customFields", Object),
    ("discountCardNumber", Text),
    ("personalDiscount", Number),
    ("source", Entity(SOURCE)),
    ("tags", Kind::List),
    ("addresses", Entities(CORPORATE_ADDRESS)),
    ("companies", Entities(COMPANY)),
    ("customerContacts", Entities(CONTACT)),
];

/// A note about a customer (or a corporate customer).
pub const NOTE: Members = &[("text", Text), ("customer", Entity(REF)), ("managerId", Integer)];

/// A loyalty account (`loyalty/account/create`, its edit, which cannot change the customer).
pub const LOYALTY_ACCOUNT: Members =
    &[("customer", Entity(REF)), ("phoneNumber", Text), ("cardNumber", Text), ("customFields", Object)];

/// A customer's subscription to a category of a channel (`customers/{externalId}/subscriptions`).
pub const SUBSCRIPTION: Members = &[("channel", Kind::OneOf(CHANNELS)), ("subscription", Text), ("active", Boolean)];

/// The cart a shop reports (`customer-interaction/{site}/cart/set`); `droppedAt` is `Y-m-d H:i:sP`.
pub const CART: Members = &[
    ("externalId", Text),
    ("droppedAt", Text),
    ("link", Text),
    ("currency", Text),
    ("customer", Entity(REF)),
    ("items", Entities(&[("quantity", Number), ("price", Number), ("offer", Entity(OFFER_REF))])),
];

/// A cart cleared (`…/cart/clear`), maybe into an order; `clearedAt` is `Y-m-d H:i:sP`.
pub const CART_CLEARED: Members = &[("clearedAt", Text), ("customer", Entity(REF)), ("order", Entity(ORDER_REF))];

/// A favourite offer added or removed.
pub const FAVORITE: Members = &[("offer", Entity(OFFER_REF))];
