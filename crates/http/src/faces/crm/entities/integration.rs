//! Integrations: delivery services and shipments, integration modules, telephony, web analytics,
//! notifications, SMS verification, the payment API's invoices, files.

use super::{ORDER_REF, REF};
use crate::kit::{Kind, Members};
use torg_domain::loyalty::SMS_ACTIONS;
use torg_domain::telephony::CALL_RESULTS;

use Kind::{Boolean, Date, DateTime, Entities, Entity, Integer, Integers, List, Number, Object, Text, Texts};

/// A shipment of orders (`delivery/shipments/create`, its edits); `time` is `H:i` from and to.
pub const SHIPMENT: Members = &[
    ("externalId", Text),
    ("integrationCode", Text),
    ("deliveryType", Text),
    ("store", Text),
    ("managerId", Integer),
    ("status", Text),
    ("date", Date),
    ("time", Entity(&[("from", Text), ("to", Text), ("custom", Text)])),
    ("lunchTime", Text),
    ("comment", Text),
    ("extraData", Object),
    ("orders", Entities(ORDER_REF)),
];

/// A delivery service's update of one delivery (`delivery/generic/{code}/tracking`); `updatedAt` is
/// `Y-m-d\TH:i:sP`.
pub const STATUS_UPDATE: Members = &[
    ("deliveryId", Text),
    ("trackNumber", Text),
    ("history", Entities(&[("code", Text), ("updatedAt", Text), ("comment", Text)])),
    ("cost", Number),
    ("extraData", Object),
];

/// An integration module's registration (`integration-modules/{code}/edit`). Its configuration is
/// kept as given; torg reads whether it integrates a delivery service or a messenger transport. The
/// path's code wins over `code`.
pub const INTEGRATION_MODULE: Members = &[
    ("code", Text),
    ("name", Text),
    ("integrationCode", Text),
    ("clientId", Text),
    ("baseUrl", Text),
    ("accountUrl", Text),
    ("logo", Text),
    ("active", Boolean),
    ("actions", Object),
    ("integrations", Entity(&[("delivery", Object), ("mgTransport", Object)])),
];

/// The scopes a module asks for (`integration-modules/{code}/update-scopes`).
pub const REQUIRES: Members = &[("scopes", Texts)];

/// A call made or received (`telephony/calls/upload`).
pub const CALL: Members = &[
    ("date", DateTime),
    ("type", Kind::OneOf(&["in", "out"])),
    ("phone", Text),
    ("code", Text),
    ("userId", Integer),
    ("result", Kind::OneOf(CALL_RESULTS)),
    ("duration", Integer),
    ("externalId", Text),
    ("site", Text),
];

/// A call ringing or ending (`telephony/call/event`), for the users named by code or id.
pub const CALL_EVENT: Members = &[
    ("phone", Text),
    ("type", Kind::OneOf(&["in", "out", "hangup"])),
    ("codes", Texts),
    ("userIds", Integers),
    ("site", Text),
];

/// A web analytics client id (`web-analytics/client-ids/upload`) for an order, else a customer.
pub const CLIENT_ID: Members =
    &[("value", Text), ("site", Text), ("order", Entity(ORDER_REF)), ("customer", Entity(REF))];

/// Where a buyer came from (`web-analytics/sources/upload`), for an order, else a customer.
pub const WEB_SOURCE: Members = &[
    ("source", Text),
    ("medium", Text),
    ("campaign", Text),
    ("keyword", Text),
    ("content", Text),
    ("client_id", Text),
    ("site", Text),
    ("order", Entity(ORDER_REF)),
    ("customer", Entity(REF)),
];

/// A visit (`web-analytics/visits/upload`); `createdAt` is `Y-m-d H:i:sP`. Its other members are
/// kept as given.
pub const VISIT: Members =
    &[("createdAt", Text), ("clientId", Text), ("site", Text), ("customer", Entity(REF)), ("order", Entity(ORDER_REF))];

/// A notification to users (`notifications/send`), by id or group.
pub const NOTIFICATION: Members = &[
    ("type", Kind::OneOf(&["api.info", "api.error"])),
    ("message", Text),
    ("userIds", Integers),
    ("userGroups", Texts),
];

/// An SMS check asked for (`verification/sms/send`).
pub const SMS_SEND: Members = &[("phone", Text), ("actionType", Kind::OneOf(SMS_ACTIONS))];

/// An SMS check answered (`verification/sms/confirm`).
pub const SMS_CONFIRM: Members = &[("checkId", Text), ("code", Text)];

/// A payment API invoice's statuses, as RetailCRM names them.
pub const INVOICE_STATUSES: &[&str] = &["pending", "waitingForCapture", "succeeded", "canceled"];

/// Whether an invoice can be paid with a sum (`payment/check`).
pub const INVOICE_CHECK: Members = &[("invoiceUuid", Text), ("amount", Number), ("currency", Text)];

/// An invoice issued for a payment (`payment/create-invoice`).
pub const INVOICE_CREATE: Members = &[("paymentId", Integer), ("returnUrl", Text)];

/// An invoice changed or moved (`payment/update-invoice`), by `invoiceUuid` or `paymentId`; dates
/// are `Y-m-d H:i:s`.
pub const INVOICE_UPDATE: Members = &[
    ("invoiceUuid", Text),
    ("paymentId", Integer),
    ("amount", Number),
    ("discountAmount", Number),
    ("status", Kind::OneOf(INVOICE_STATUSES)),
    ("cancellationDetails", Text),
    ("invoiceUrl", Text),
    ("expiredAt", DateTime),
    ("paidAt", DateTime),
    ("refundable", Boolean),
    ("cancellable", Boolean),
];

/// An invoice made outside torg (`payment/invoice/import`); its `refunds` are kept as given.
pub const INVOICE_IMPORT: Members = &[
    ("paymentId", Integer),
    ("externalId", Text),
    ("amount", Number),
    ("currency", Text),
    ("status", Kind::OneOf(INVOICE_STATUSES)),
    ("createdAt", DateTime),
    ("paidAt", DateTime),
    ("discountAmount", Number),
    ("refundable", Boolean),
    ("refunds", List),
];

/// A file renamed or attached (`files/{id}/edit`): each attachment names an order or a customer.
pub const FILE: Members =
    &[("filename", Text), ("attachment", Entities(&[("order", Entity(ORDER_REF)), ("customer", Entity(REF))]))];
