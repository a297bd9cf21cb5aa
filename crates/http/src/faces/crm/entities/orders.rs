//! Orders and what hangs off them: lines, delivery, payments, packs, costs, tasks, links.

use super::{ADDRESS, CONTRAGENT, OFFER_REF, ORDER_REF, REF, SOURCE};
use crate::kit::{Kind, Members};
use torg_domain::task::PERFORMER_TYPES;

use Kind::{Boolean, Date, DateTime, Entities, Entity, Integer, Number, Object, Text};

/// An order line.
pub const ORDER_ITEM: Members = &[
    ("id", Integer),
    ("offer", Entity(OFFER_REF)),
    ("productName", Text),
    ("initialPrice", Number),
    ("purchasePrice", Number),
    ("quantity", Number),
    ("status", Text),
    ("discountManualAmount", Number),
    ("discountManualPercent", Number),
    ("vatRate", Text),
    ("comment", Text),
    ("warehouse", Text),
    ("properties", Object),
];

/// An order's delivery.
pub const DELIVERY: Members = &[
    ("code", Text),
    ("cost", Number),
    ("netCost", Number),
    ("date", Date),
    ("time", Entity(&[("from", Text), ("to", Text), ("custom", Text)])),
    ("address", Entity(ADDRESS)),
    ("service", Entity(&[("code", Text), ("name", Text)])),
    ("data", Entity(&[("trackNumber", Text), ("externalId", Text), ("courierId", Integer), ("status", Text)])),
    ("vatRate", Text),
];

/// A payment, inside an order or on its own (`payment` of `orders/payments/create`, which names its
/// order too).
pub const PAYMENT: Members = &[
    ("externalId", Text),
    ("type", Text),
    ("status", Text),
    ("amount", Number),
    ("paidAt", DateTime),
    ("comment", Text),
    ("order", Entity(ORDER_REF)),
];

/// Who an order is for: an individual customer, or a corporate one with `type`.
const ORDER_CUSTOMER: Members =
    &[("id", Integer), ("externalId", Text), ("type", Kind::OneOf(&["customer", "customer_corporate"]))];

/// An order (`orders/create`, `orders/{externalId}/edit`, `orders/upload`).
pub const ORDER: Members = &[
    ("externalId", Text),
    ("number", Text),
    ("createdAt", DateTime),
    ("status", Text),
    ("statusComment", Text),
    ("orderType", Text),
    ("orderMethod", Text),
    ("countryIso", Text),
    ("firstName", Text),
    ("lastName", Text),
    ("patronymic", Text),
    ("phone", Text),
    ("additionalPhone", Text),
    ("email", Text),
    ("managerId", Integer),
    ("managerComment", Text),
    ("customerComment", Text),
    ("discountManualAmount", Number),
    ("discountManualPercent", Number),
    ("shipmentStore", Text),
    ("shipmentDate", Date),
    ("shipped", Boolean),
    ("call", Boolean),
    ("expired", Boolean),
    ("uploadedToExternalStoreSystem", Boolean),
    ("customFields", Object),
    ("contragent", Entity(CONTRAGENT)),
    ("source", Entity(SOURCE)),
    ("customer", Entity(ORDER_CUSTOMER)),
    ("contact", Entity(REF)),
    ("company", Entity(REF)),
    ("items", Entities(ORDER_ITEM)),
    ("delivery", Entity(DELIVERY)),
    ("payments", Entities(PAYMENT)),
];

/// A task.
pub const TASK: Members = &[
    ("text", Text),
    ("commentary", Text),
    ("datetime", Text),
    ("complete", Boolean),
    ("performerId", Integer),
    ("performer", Integer),
    ("performerType", Kind::OneOf(PERFORMER_TYPES)),
    ("order", Entity(ORDER_REF)),
    ("customer", Entity(REF)),
    ("phone", Text),
    ("phoneSite", Text),
];

/// A cost.
pub const COST: Members = &[
    ("dateFrom", Date),
    ("dateTo", Date),
    ("summ", Number),
    ("costItem", Text),
    ("comment", Text),
    ("order", Entity(ORDER_REF)),
    ("userId", Integer),
    ("sites", Kind::Texts),
    ("source", Entity(SOURCE)),
];

/// A pack: a quantity of an order line shipped from a store.
pub const PACK: Members = &[
    ("itemId", Integer),
    ("store", Text),
    ("quantity", Number),
    ("purchasePrice", Number),
    ("shipmentDate", Date),
    ("invoiceNumber", Text),
    ("deliveryNoteNumber", Text),
];

/// A link between orders (`orders/links/create`): two orders or more, and why.
pub const ORDER_LINK: Members = &[("comment", Text), ("orders", Entities(ORDER_REF))];
