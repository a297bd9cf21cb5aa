//! Delivery integration: shipments (orders handed to a delivery service on a date) and the status
//! updates a delivery service sends about the orders it carries.

use crate::books::Books;
use crate::order::Order;
use crate::reference::ReferenceKind;
use crate::task::{OrderRef, id_member, order_member, text_member};
use crate::{DomainError, FieldErrors};
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde_json::{Map, Value};

/// The status a new shipment gets when none is given.
pub const NEW_SHIPMENT_STATUS: &str = "created";

/// The delivery status an order's cancelled delivery gets.
pub const CANCELLED: &str = "cancelled";

/// An order's delivery integration state, RetailCRM's `deliveryStates` (PHP's `DeliveryState`), as torg
/// derives it: `none` when no integration carries the order's delivery type; once one does,
/// `processing` until the service reports a status, `success` after, `cancel` once cancelled. torg
/// asks no service, so none ever refuses an order or a cancel: `error` and `cancel_force` are never
/// anyone's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// No delivery integration carries the order.
    None,
    /// Carried; the service has reported no status yet.
    Processing,
    /// Carried; the service has reported a status.
    Success,
    /// The service refused the order.
    Error,
    /// The delivery was cancelled.
    Cancel,
    /// The delivery was cancelled in the CRM although the service refused.
    CancelForce,
}

impl DeliveryState {
    /// Every state's code, as the filter takes them.
    pub const CODES: &'static str = "none, processing, success, error, cancel, cancel_force";

    /// The state a code names.
    pub fn from_code(code: &str) -> Option<Self> {
        Some(match code {
            "none" => Self::None,
            "processing" => Self::Processing,
            "success" => Self::Success,
            "error" => Self::Error,
            "cancel" => Self::Cancel,
            "cancel_force" => Self::CancelForce,
            _ => return None,
        })
    }
}

/// The members of a `deliveryShipment` document, each `None` when absent (`Some(None)`: cleared).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShipmentPatch {
    /// The delivery service's id of the shipment.
    pub external_id: Option<Option<String>>,
    /// The delivery integration's code.
    pub integration_code: Option<Option<String>>,
    /// Delivery type code.
    pub delivery_type: Option<String>,
    /// Warehouse code the orders leave from.
    pub store: Option<Option<String>>,
    /// Responsible manager.
    pub manager_id: Option<Option<i64>>,
    /// Status code.
    pub status: Option<String>,
    /// Date, `Y-m-d`.
    pub date: Option<String>,
    /// `{from, to, custom}`.
    pub time: Option<Map<String, Value>>,
    /// Lunch break, as text.
    pub lunch_time: Option<Option<String>>,
    /// Comment.
    pub comment: Option<Option<String>>,
    /// The service's own data.
    pub extra_data: Option<Map<String, Value>>,
    /// The orders in it (replacing the list).
    pub orders: Option<Vec<OrderRef>>,
}

const P: &str = "deliveryShipment";

/// A status or code: letters, digits, `-` and `_`, at most 64.
fn is_code(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn object_member(doc: &Map<String, Value>, key: &str, errors: &mut FieldErrors) -> Option<Map<String, Value>> {
    match doc.get(key)? {
        Value::Null => Some(Map::new()),
        Value::Object(m) => Some(m.clone()),
        Value::Array(a) if a.is_empty() => Some(Map::new()),
        _ => {
            errors.insert(format!("{P}.{key}"), "This value should be an object.".into());
            None
        }
    }
}

impl ShipmentPatch {
    /// Reads a `deliveryShipment` document; messages go under `deliveryShipment.<member>`.
    pub fn from_doc(doc: &Map<String, Value>) -> Result<ShipmentPatch, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut p = ShipmentPatch {
            external_id: text_member(doc, P, "externalId", 255, &mut errors),
            integration_code: text_member(doc, P, "integrationCode", 64, &mut errors),
            store: text_member(doc, P, "store", 64, &mut errors),
            manager_id: id_member(doc, P, "managerId", &mut errors),
            lunch_time: text_member(doc, P, "lunchTime", 255, &mut errors),
            comment: text_member(doc, P, "comment", 2000, &mut errors),
            extra_data: object_member(doc, "extraData", &mut errors),
            ..ShipmentPatch::default()
        };
        match text_member(doc, P, "deliveryType", 64, &mut errors) {
            Some(Some(t)) => p.delivery_type = Some(t),
            Some(None) => {
                errors.insert(format!("{P}.deliveryType"), "This value should not be blank.".into());
            }
            None => {}
        }
        match text_member(doc, P, "status", 64, &mut errors) {
            Some(Some(s)) if is_code(&s) => p.status = Some(s),
            Some(_) => {
                errors.insert(format!("{P}.status"), "This value should be a code (letters, digits, - and _).".into());
            }
            None => {}
        }
        match doc.get("date") {
            None => {}
            Some(Value::String(s)) if crate::time::parse_date(s).is_some() => p.date = Some(s.trim().to_string()),
            Some(_) => {
                errors.insert(format!("{P}.date"), "This value is not a valid date (expected Y-m-d).".into());
            }
        }
        if let Some(t) = object_member(doc, "time", &mut errors) {
            let mut time = Map::new();
            for (k, v) in &t {
                match (k.as_str(), v) {
                    (_, Value::Null) => {}
                    ("from" | "to", Value::String(s)) => match crate::time::time_of_day(s) {
                        Some(hm) => {
                            time.insert(k.clone(), Value::String(hm));
                        }
                        None => {
                            errors.insert(
                                format!("{P}.time.{k}"),
                                "This value is not a valid time (expected H:i).".into(),
                            );
                        }
                    },
                    ("custom", Value::String(s)) => {
                        time.insert(k.clone(), Value::String(s.trim().to_string()));
                    }
                    _ => {
                        errors.insert(format!("{P}.time.{k}"), "This field was not expected.".into());
                    }
                }
            }
            if let (Some(Value::String(f)), Some(Value::String(t))) = (time.get("from"), time.get("to"))
                && f > t
            {
                errors.insert(format!("{P}.time.to"), "The end of the interval is before its start.".into());
            }
            p.time = Some(time);
        }
        match doc.get("orders") {
            None => {}
            Some(Value::Null) => p.orders = Some(Vec::new()),
            Some(Value::Array(list)) => {
                let mut orders = Vec::new();
                for (i, o) in list.iter().enumerate() {
                    let prefix = format!("{P}.orders[{i}]");
                    let mut wrapper = Map::new();
                    wrapper.insert("order".into(), o.clone());
                    match order_member(&wrapper, &prefix, &mut errors) {
                        Some(Some(r)) if orders.contains(&r) => {}
                        Some(Some(r)) => orders.push(r),
                        Some(None) => {
                            errors.insert(prefix, "Set one of the following fields: id, externalId, number".into());
                        }
                        None => {}
                    }
                }
                p.orders = Some(orders);
            }
            Some(_) => {
                errors.insert(format!("{P}.orders"), "This value should be a list.".into());
            }
        }
        if errors.is_empty() { Ok(p) } else { Err(errors) }
    }

    /// What a new shipment must have: a delivery type and a date.
    pub fn check_new(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if self.delivery_type.is_none() {
            errors.insert(format!("{P}.deliveryType"), "This value should not be blank.".into());
        }
        if self.date.is_none() {
            errors.insert(format!("{P}.date"), "This value should not be blank.".into());
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }
}

/// The integration that carries delivery type `code`, if one does.
pub fn integration_of<'b>(books: &'b Books, code: &str) -> Option<&'b str> {
    books
        .refs(ReferenceKind::DeliveryType)
        .iter()
        .find(|e| e.code == code)
        .and_then(|e| e.attrs.get("integrationCode"))
        .and_then(Value::as_str)
}

// ---- refusals of a shipment write ----

/// Where a shipment's manager is refused.
pub const SHIPMENT_MANAGER_AT: &str = "deliveryShipment.managerId";

/// Where a shipment's `i`th order reference is refused.
pub fn shipment_order_at(i: usize) -> String {
    format!("{P}.orders[{i}]")
}

/// Refuses a shipment's delivery type that is not in the books.
pub fn check_shipment_type(books: &Books, delivery_type: &str) -> Result<(), DomainError> {
    if books.refs(ReferenceKind::DeliveryType).iter().any(|e| e.code == delivery_type) {
        return Ok(());
    }
    Err(DomainError::invalid(format!("{P}.deliveryType"), format!("Delivery type '{delivery_type}' not found.")))
}

/// Refuses an integration `code` other than the `carrier` of the shipment's delivery type (a type
/// no integration carries takes any).
pub fn check_shipment_carrier(delivery_type: &str, carrier: Option<&str>, code: &str) -> Result<(), DomainError> {
    match carrier {
        Some(c) if c != code => Err(DomainError::invalid(
            format!("{P}.integrationCode"),
            format!("Delivery type '{delivery_type}' is carried by integration '{c}'."),
        )),
        _ => Ok(()),
    }
}

/// Refuses a shipment's store that is not a warehouse in the books; no store passes.
pub fn check_shipment_store(books: &Books, store: Option<&str>) -> Result<(), DomainError> {
    match store {
        Some(code) if books.warehouse_id(code).is_none() => {
            Err(DomainError::invalid(format!("{P}.store"), format!("Store '{code}' not found.")))
        }
        _ => Ok(()),
    }
}

/// Refuses the shipment's `i`th order, number `number`, when its delivery type (`order_type`) is not
/// the shipment's.
pub fn check_shipment_order(
    i: usize,
    number: &str,
    delivery_type: &str,
    order_type: Option<&str>,
) -> Result<(), DomainError> {
    if order_type == Some(delivery_type) {
        return Ok(());
    }
    Err(DomainError::invalid(
        shipment_order_at(i),
        format!(
            "Order {number} is not delivered by '{delivery_type}' (its delivery type: {}).",
            order_type.unwrap_or("none")
        ),
    ))
}

// ---- refusals of status updates and cancels ----

/// The refusal of status update `i`, whose delivery id names no order on the caller's sites.
pub fn unknown_tracked_order(i: usize, delivery_id: &str) -> DomainError {
    DomainError::invalid(format!("statusUpdate[{i}].deliveryId"), format!("Order with number {delivery_id} not found."))
}

/// Refuses status update `i` about `order` unless integration `code` carries the order's delivery.
pub fn check_tracking_carrier(books: &Books, i: usize, order: &Order, code: &str) -> Result<(), DomainError> {
    if order.delivery.code.as_deref().and_then(|t| integration_of(books, t)) == Some(code) {
        return Ok(());
    }
    Err(DomainError::invalid(
        format!("statusUpdate[{i}].deliveryId"),
        format!("The delivery of order {} is not carried by '{code}'.", order.number),
    ))
}

/// Refuses cancelling `order`'s delivery when no integration carries it or it is cancelled already,
/// unless `force`d (torg asks no service, so nothing else can refuse).
pub fn check_cancellable(books: &Books, order: &Order, force: bool) -> Result<(), DomainError> {
    if force {
        return Ok(());
    }
    if order.delivery.code.as_deref().and_then(|t| integration_of(books, t)).is_none() {
        return Err(DomainError::invalid("delivery", "The order's delivery is not carried by a delivery integration."));
    }
    if order.delivery.data.get("status").and_then(Value::as_str) == Some(CANCELLED) {
        return Err(DomainError::invalid("delivery", "The order's delivery is already cancelled."));
    }
    Ok(())
}

/// One entry of a delivery's status history.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusInfo {
    /// The service's status code.
    pub code: String,
    /// When the status was reached (Unix seconds), if told.
    pub updated_at: Option<i64>,
    /// The service's comment.
    pub comment: Option<String>,
}

/// One member of `statusUpdate`: what a delivery service says about one delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackingUpdate {
    /// The delivery the update is about (torg: the order's number).
    pub delivery_id: String,
    /// Its tracking number, when the service assigned one.
    pub track_number: Option<String>,
    /// Status changes, in any order.
    pub history: Vec<StatusInfo>,
    /// What the delivery costs, as the service now says.
    pub cost: Option<Decimal>,
    /// The service's own data.
    pub extra_data: Map<String, Value>,
}

impl TrackingUpdate {
    /// The latest status: the entry with the latest `updatedAt` (entries without one count as given
    /// in order, after those with one only when none has one).
    pub fn latest(&self) -> Option<&StatusInfo> {
        let mut best: Option<&StatusInfo> = None;
        for s in &self.history {
            best = match best {
                None => Some(s),
                Some(b) => match (b.updated_at, s.updated_at) {
                    (Some(x), Some(y)) if y >= x => Some(s),
                    (None, _) => Some(s),
                    _ => Some(b),
                },
            };
        }
        best
    }
}

/// Reads `statusUpdate` (a list of `{deliveryId, trackNumber, history: [{code, updatedAt, comment}],
/// cost, extraData}`); `updatedAt` is `Y-m-d\TH:i:sP` as the PHP client writes it, or RFC 3339.
pub fn parse_status_updates(list: &[Value]) -> Result<Vec<TrackingUpdate>, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut out = Vec::new();
    for (i, v) in list.iter().enumerate() {
        let prefix = format!("statusUpdate[{i}]");
        let Value::Object(m) = v else {
            errors.insert(prefix, "This value should be an object.".into());
            continue;
        };
        let delivery_id = match text_member(m, &prefix, "deliveryId", 255, &mut errors) {
            Some(Some(d)) => d,
            Some(None) | None => {
                errors
                    .entry(format!("{prefix}.deliveryId"))
                    .or_insert_with(|| "This value should not be blank.".into());
                continue;
            }
        };
        let track_number = text_member(m, &prefix, "trackNumber", 255, &mut errors).flatten();
        if let Some(t) = &track_number
            && t.contains(',')
        {
            errors.insert(format!("{prefix}.trackNumber"), "A tracking number cannot contain a comma.".into());
        }
        let mut history = Vec::new();
        match m.get("history") {
            None | Some(Value::Null) => {}
            Some(Value::Array(list)) => {
                for (j, h) in list.iter().enumerate() {
                    let hp = format!("{prefix}.history[{j}]");
                    let Value::Object(h) = h else {
                        errors.insert(hp, "This value should be an object.".into());
                        continue;
                    };
                    let code = match text_member(h, &hp, "code", 64, &mut errors) {
                        Some(Some(c)) if is_code(&c) => c,
                        Some(Some(_)) => {
                            errors.insert(
                                format!("{hp}.code"),
                                "This value should be a code (letters, digits, - and _).".into(),
                            );
                            continue;
                        }
                        _ => {
                            errors
                                .entry(format!("{hp}.code"))
                                .or_insert_with(|| "This value should not be blank.".into());
                            continue;
                        }
                    };
                    let updated_at = match h.get("updatedAt") {
                        None | Some(Value::Null) => None,
                        Some(Value::String(s)) => match s.trim().parse::<Timestamp>() {
                            Ok(t) => Some(t.as_second()),
                            Err(_) => {
                                errors.insert(
                                    format!("{hp}.updatedAt"),
                                    "This value is not a valid date-time (expected Y-m-d\\TH:i:sP).".into(),
                                );
                                continue;
                            }
                        },
                        Some(_) => {
                            errors.insert(format!("{hp}.updatedAt"), "This value should be of type string.".into());
                            continue;
                        }
                    };
                    let comment = text_member(h, &hp, "comment", 2000, &mut errors).flatten();
                    history.push(StatusInfo { code, updated_at, comment });
                }
            }
            Some(_) => {
                errors.insert(format!("{prefix}.history"), "This value should be a list.".into());
            }
        }
        let cost = match m.get("cost") {
            None | Some(Value::Null) => None,
            Some(v) => {
                let d = match v {
                    Value::Number(n) => n.to_string().parse::<Decimal>().ok(),
                    Value::String(s) => s.trim().parse::<Decimal>().ok(),
                    _ => None,
                };
                match d.filter(|d| !d.is_sign_negative()) {
                    Some(d) => Some(d),
                    None => {
                        errors.insert(format!("{prefix}.cost"), "This value should be a non-negative number.".into());
                        None
                    }
                }
            }
        };
        let extra_data = match m.get("extraData") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(x)) => x.clone(),
            Some(Value::Array(a)) if a.is_empty() => Map::new(),
            Some(_) => {
                errors.insert(format!("{prefix}.extraData"), "This value should be an object.".into());
                Map::new()
            }
        };
        if track_number.is_none() && history.is_empty() && cost.is_none() && extra_data.is_empty() {
            errors
                .entry(prefix)
                .or_insert_with(|| "The update says nothing: give trackNumber, history, cost or extraData.".into());
            continue;
        }
        out.push(TrackingUpdate { delivery_id, track_number, history, cost, extra_data });
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_a_shipment_document() {
        let doc = json!({"deliveryType": "courier", "date": "2030-01-02", "time": {"from": "9:00", "to": "18:00"},
                          "orders": [{"id": 5}, {"number": "7A"}, {"id": 5}], "managerId": 3});
        let p = ShipmentPatch::from_doc(doc.as_object().unwrap()).unwrap();
        assert_eq!(p.orders.unwrap(), vec![OrderRef::Id(5), OrderRef::Number("7A".into())]);
        assert_eq!(p.time.unwrap()["from"], json!("09:00"));
        let bad =
            json!({"date": "2030-13-01", "time": {"from": "18:00", "to": "09:00"}, "orders": [{}], "status": "a b"});
        let e = ShipmentPatch::from_doc(bad.as_object().unwrap()).unwrap_err();
        for k in [
            "deliveryShipment.date",
            "deliveryShipment.time.to",
            "deliveryShipment.orders[0]",
            "deliveryShipment.status",
        ] {
            assert!(e.contains_key(k), "{k} in {e:?}");
        }
        assert!(ShipmentPatch::default().check_new().unwrap_err().contains_key("deliveryShipment.deliveryType"));
    }

    #[test]
    fn reads_status_updates() {
        let list = json!([{"deliveryId": "7A", "trackNumber": "RA1", "history": [
            {"code": "delivering", "updatedAt": "2030-01-02T10:00:00+03:00"},
            {"code": "accepted", "updatedAt": "2030-01-01T10:00:00+03:00"}]}]);
        let u = parse_status_updates(list.as_array().unwrap()).unwrap();
        assert_eq!(u[0].latest().unwrap().code, "delivering");
        let bad = json!([{"deliveryId": ""}, {"deliveryId": "1", "history": [{"code": "x", "updatedAt": "yesterday"}]}, {"deliveryId": "2"}]);
        let e = parse_status_updates(bad.as_array().unwrap()).unwrap_err();
        assert!(e.contains_key("statusUpdate[0].deliveryId") && e.contains_key("statusUpdate[1].history[0].updatedAt"));
        assert!(e.contains_key("statusUpdate[2]"));
    }

    fn books() -> Books {
        let ty = |code: &str, attrs: Value| crate::reference::ReferenceEntry {
            id: 0,
            code: code.into(),
            name: code.into(),
            active: true,
            ordering: 1,
            attrs: attrs.as_object().cloned().unwrap(),
        };
        Books::new(
            Vec::new(),
            vec![("main".into(), 1)],
            [
                (ReferenceKind::DeliveryType, ty("courier", json!({}))),
                (ReferenceKind::DeliveryType, ty("cdek", json!({"integrationCode": "cdek-app"}))),
            ],
        )
    }

    #[test]
    fn a_shipment_is_checked_against_the_books() {
        let b = books();
        assert_eq!(integration_of(&b, "cdek"), Some("cdek-app"));
        assert_eq!(integration_of(&b, "courier"), None);
        assert_eq!(check_shipment_type(&b, "cdek"), Ok(()));
        assert_eq!(
            check_shipment_type(&b, "drone"),
            Err(DomainError::invalid("deliveryShipment.deliveryType", "Delivery type 'drone' not found."))
        );
        assert_eq!(check_shipment_carrier("cdek", Some("cdek-app"), "cdek-app"), Ok(()));
        assert_eq!(check_shipment_carrier("courier", None, "any"), Ok(()));
        assert_eq!(
            check_shipment_carrier("cdek", Some("cdek-app"), "boxberry"),
            Err(DomainError::invalid(
                "deliveryShipment.integrationCode",
                "Delivery type 'cdek' is carried by integration 'cdek-app'."
            ))
        );
        assert_eq!(check_shipment_store(&b, Some("main")), Ok(()));
        assert_eq!(check_shipment_store(&b, None), Ok(()));
        assert_eq!(
            check_shipment_store(&b, Some("north")),
            Err(DomainError::invalid("deliveryShipment.store", "Store 'north' not found."))
        );
        assert_eq!(SHIPMENT_MANAGER_AT, "deliveryShipment.managerId");
        assert_eq!(shipment_order_at(2), "deliveryShipment.orders[2]");
    }

    #[test]
    fn a_shipment_holds_orders_of_its_delivery_type() {
        assert_eq!(check_shipment_order(0, "7A", "cdek", Some("cdek")), Ok(()));
        assert_eq!(
            check_shipment_order(1, "7A", "cdek", Some("courier")),
            Err(DomainError::invalid(
                "deliveryShipment.orders[1]",
                "Order 7A is not delivered by 'cdek' (its delivery type: courier)."
            ))
        );
        assert_eq!(
            check_shipment_order(0, "8", "cdek", None),
            Err(DomainError::invalid(
                "deliveryShipment.orders[0]",
                "Order 8 is not delivered by 'cdek' (its delivery type: none)."
            ))
        );
    }

    fn order(delivery_type: Option<&str>, status: Option<&str>) -> Order {
        let mut o = Order { number: "7A".into(), ..Order::default() };
        o.delivery.code = delivery_type.map(str::to_owned);
        if let Some(s) = status {
            o.delivery.data.insert("status".into(), json!(s));
        }
        o
    }

    #[test]
    fn a_status_update_is_about_an_order_its_integration_carries() {
        let b = books();
        assert_eq!(
            unknown_tracked_order(3, "7A"),
            DomainError::invalid("statusUpdate[3].deliveryId", "Order with number 7A not found.")
        );
        assert_eq!(check_tracking_carrier(&b, 0, &order(Some("cdek"), None), "cdek-app"), Ok(()));
        let refused = Err(DomainError::invalid(
            "statusUpdate[1].deliveryId",
            "The delivery of order 7A is not carried by 'cdek-app'.",
        ));
        assert_eq!(check_tracking_carrier(&b, 1, &order(Some("courier"), None), "cdek-app"), refused);
        assert_eq!(check_tracking_carrier(&b, 1, &order(None, None), "cdek-app"), refused);
    }

    #[test]
    fn a_delivery_is_cancelled_once_unless_forced() {
        let b = books();
        let not_carried =
            Err(DomainError::invalid("delivery", "The order's delivery is not carried by a delivery integration."));
        let cancelled = Err(DomainError::invalid("delivery", "The order's delivery is already cancelled."));
        assert_eq!(check_cancellable(&b, &order(Some("cdek"), Some("delivering")), false), Ok(()));
        assert_eq!(check_cancellable(&b, &order(Some("courier"), None), false), not_carried);
        // Not carried is told before cancelled already.
        assert_eq!(check_cancellable(&b, &order(Some("courier"), Some(CANCELLED)), false), not_carried);
        assert_eq!(check_cancellable(&b, &order(Some("cdek"), Some(CANCELLED)), false), cancelled);
        assert_eq!(check_cancellable(&b, &order(Some("courier"), Some(CANCELLED)), true), Ok(()));
    }
}
