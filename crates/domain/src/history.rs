//! Change history: every write to an order or customer leaves records of what changed, who changed it,
//! and the old and new values, so integrations can poll for changes since the last record they saw.

use crate::customer::Customer;
use crate::order::{Order, OrderItem, Payment};
use crate::patch::snake_case;
use serde_json::{Map, Value, json};

/// Who made a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// An API key (by id).
    Api(i64),
    /// A person working in the system (user id); the CLI acts as such.
    User(Option<i64>),
    /// An automatic rule or background job.
    Code,
}

impl Actor {
    /// The `source` name of the record.
    pub fn source(self) -> &'static str {
        match self {
            Actor::Api(_) => "api",
            Actor::User(_) => "user",
            Actor::Code => "code",
        }
    }

    /// The key behind the change, if an API key made it.
    pub fn api_key_id(self) -> Option<i64> {
        match self {
            Actor::Api(id) => Some(id),
            _ => None,
        }
    }
}

/// One changed field: the snake_case name RetailCRM uses, and the values before and after.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Field name, e.g. `status`, `delivery_address.city`, `custom_nps`, `order_product.quantity`.
    pub field: String,
    /// Value before (`null` for none).
    pub old_value: Value,
    /// Value after (`null` for none).
    pub new_value: Value,
    /// The order line concerned, for `order_product*` fields.
    pub item: Option<Value>,
}

/// A stored history record, as the store returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRecord {
    /// Record id, increasing in commit order.
    pub id: i64,
    /// When (Unix seconds).
    pub created_at: i64,
    /// Who made it.
    pub source: String,
    /// Key behind it, if any.
    pub api_key_id: Option<i64>,
    /// User behind it, if any.
    pub user_id: Option<i64>,
    /// The entity was created by this change.
    pub created: bool,
    /// The entity was deleted by this change.
    pub deleted: bool,
    /// Changed field; none on `created` records.
    pub field: Option<String>,
    /// Old value.
    pub old_value: Value,
    /// New value.
    pub new_value: Value,
    /// The entity as stored with the record: whole on `created`, a stub otherwise.
    pub entity: Value,
    /// The order line concerned, if any.
    pub item: Option<Value>,
}

/// Fields whose values are reference codes and are written as `{"code": …}`.
const CODE_FIELDS: &[&str] =
    &["status", "order_type", "order_method", "delivery_type", "shipment_store", "payment_type"];

fn wrap(field: &str, v: Option<&Value>) -> Value {
    match v {
        None | Some(Value::Null) => Value::Null,
        Some(v) if CODE_FIELDS.contains(&field) => json!({ "code": v }),
        Some(v) if field == "manager" || field == "customer" => json!({ "id": v }),
        Some(v) => v.clone(),
    }
}

/// Flattens a document into the history's field names.
fn flatten(doc: &Map<String, Value>, out: &mut Vec<(String, Value)>) {
    for (k, v) in doc {
        match (k.as_str(), v) {
            ("customFields", Value::Object(m)) => {
                out.extend(m.iter().map(|(ck, cv)| (format!("custom_{ck}"), cv.clone())));
            }
            ("delivery", Value::Object(d)) => {
                for (dk, dv) in d {
                    match (dk.as_str(), dv) {
                        ("code", _) => out.push(("delivery_type".into(), dv.clone())),
                        ("address", Value::Object(a)) => {
                            out.extend(
                                a.iter().map(|(ak, av)| (format!("delivery_address.{}", snake_case(ak)), av.clone())),
                            );
                        }
                        ("data", Value::Object(data)) => {
                            for (xk, xv) in data {
                                let name = if xk == "trackNumber" {
                                    "track_number".into()
                                } else {
                                    format!("delivery_data.{}", snake_case(xk))
                                };
                                out.push((name, xv.clone()));
                            }
                        }
                        _ => out.push((format!("delivery_{}", snake_case(dk)), dv.clone())),
                    }
                }
            }
            ("address", Value::Object(a)) => {
                out.extend(a.iter().map(|(ak, av)| (format!("address.{}", snake_case(ak)), av.clone())));
            }
            ("managerId", _) => out.push(("manager".into(), v.clone())),
            _ => out.push((snake_case(k), v.clone())),
        }
    }
}

/// Every change from one entity document to another, named as history names fields (`custom_x`,
/// `manager`, snake case).
pub fn diff_docs(old: &Value, new: &Value) -> Vec<Change> {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    if let (Value::Object(o), Value::Object(n)) = (old, new) {
        flatten(o, &mut a);
        flatten(n, &mut b);
    }
    let mut changes = Vec::new();
    for (field, nv) in &b {
        let ov = a.iter().find(|(f, _)| f == field).map(|(_, v)| v);
        if ov != Some(nv) && !(ov.is_none() && nv.is_null()) {
            changes.push(Change {
                field: field.clone(),
                old_value: wrap(field, ov),
                new_value: wrap(field, Some(nv)),
                item: None,
            });
        }
    }
    for (field, ov) in &a {
        if !b.iter().any(|(f, _)| f == field) && !ov.is_null() {
            changes.push(Change {
                field: field.clone(),
                old_value: wrap(field, Some(ov)),
                new_value: Value::Null,
                item: None,
            });
        }
    }
    changes
}

/// What a line looks like inside a history record.
pub fn item_stub(item: &OrderItem) -> Value {
    let mut v =
        json!({ "id": item.id, "initialPrice": item.initial_price, "quantity": item.quantity, "status": item.status });
    if let Some(o) = &item.offer {
        v["offer"] = json!({ "id": o.id, "externalId": o.external_id, "xmlId": o.xml_id });
    }
    if let Some(n) = &item.product_name {
        v["productName"] = json!(n);
    }
    v
}

/// Every change from `old` to `new` of an order, lines included.
pub fn diff_orders(old: &Order, new: &Order) -> Vec<Change> {
    let mut changes =
        diff_docs(&serde_json::to_value(old).unwrap_or_default(), &serde_json::to_value(new).unwrap_or_default());
    if old.customer_id != new.customer_id {
        changes.push(Change {
            field: "customer".into(),
            old_value: old.customer_id.map_or(Value::Null, |id| json!({ "id": id })),
            new_value: new.customer_id.map_or(Value::Null, |id| json!({ "id": id })),
            item: None,
        });
    }
    for item in &new.items {
        match old.items.iter().find(|o| o.id == item.id) {
            None => changes.push(Change {
                field: "order_product".into(),
                old_value: Value::Null,
                new_value: item_stub(item),
                item: Some(item_stub(item)),
            }),
            Some(before) => {
                let pairs = [
                    ("quantity", json!(before.quantity), json!(item.quantity)),
                    ("status", json!(before.status), json!(item.status)),
                    ("initial_price", json!(before.initial_price), json!(item.initial_price)),
                    (
                        "discount_manual_amount",
                        json!(before.discount_manual_amount),
                        json!(item.discount_manual_amount),
                    ),
                    (
                        "discount_manual_percent",
                        json!(before.discount_manual_percent),
                        json!(item.discount_manual_percent),
                    ),
                    ("purchase_price", json!(before.purchase_price), json!(item.purchase_price)),
                    ("vat_rate", json!(before.vat_rate), json!(item.vat_rate)),
                    ("comment", json!(before.comment), json!(item.comment)),
                ];
                for (name, a, b) in pairs {
                    if a != b {
                        let field = format!("order_product.{name}");
                        let (old_value, new_value) =
                            if name == "status" { (json!({"code": a}), json!({"code": b})) } else { (a, b) };
                        changes.push(Change { field, old_value, new_value, item: Some(item_stub(item)) });
                    }
                }
            }
        }
    }
    for item in old.items.iter().filter(|o| !new.items.iter().any(|n| n.id == o.id)) {
        changes.push(Change {
            field: "order_product".into(),
            old_value: item_stub(item),
            new_value: Value::Null,
            item: Some(item_stub(item)),
        });
    }
    changes.extend(diff_payments(&old.payments, &new.payments));
    changes
}

/// What a payment looks like inside a history record (RetailCRM's `payment` member), with when it was
/// paid (Unix seconds here; the face writes `Y-m-d H:i:s` in its zone) and its comment when it has them.
pub fn payment_stub(p: &Payment) -> Value {
    let mut v =
        json!({ "id": p.id, "type": p.kind, "status": p.status, "amount": p.amount, "externalId": p.external_id });
    if let Some(t) = p.paid_at {
        v["paidAt"] = json!(t);
    }
    if let Some(c) = &p.comment {
        v["comment"] = json!(c);
    }
    v
}

/// Payments added (`payments`, new value the payment), removed (old value the payment) and changed
/// (`payments.status`, `payments.amount`, …); the payment rides in the record's `item` slot.
fn diff_payments(old: &[Payment], new: &[Payment]) -> Vec<Change> {
    let mut changes = Vec::new();
    for p in new {
        match old.iter().find(|o| o.id == p.id && p.id != 0) {
            None => changes.push(Change {
                field: "payments".into(),
                old_value: Value::Null,
                new_value: payment_stub(p),
                item: Some(payment_stub(p)),
            }),
            Some(before) => {
                let pairs = [
                    ("status", json!({"code": before.status}), json!({"code": p.status})),
                    ("type", json!({"code": before.kind}), json!({"code": p.kind})),
                    ("amount", json!(before.amount), json!(p.amount)),
                    ("paid_at", json!(before.paid_at), json!(p.paid_at)),
                    ("external_id", json!(before.external_id), json!(p.external_id)),
                    ("comment", json!(before.comment), json!(p.comment)),
                ];
                for (name, a, b) in pairs {
                    if a != b {
                        changes.push(Change {
                            field: format!("payments.{name}"),
                            old_value: a,
                            new_value: b,
                            item: Some(payment_stub(p)),
                        });
                    }
                }
            }
        }
    }
    for p in old.iter().filter(|o| !new.iter().any(|n| n.id == o.id)) {
        changes.push(Change {
            field: "payments".into(),
            old_value: payment_stub(p),
            new_value: Value::Null,
            item: Some(payment_stub(p)),
        });
    }
    changes
}

/// Every change from `old` to `new` of a customer. Phones are recorded one per record, as RetailCRM
/// does: a removed number as `phones` from the number to null, an added one from null to the number.
pub fn diff_customers(old: &Customer, new: &Customer) -> Vec<Change> {
    let without_phones = |c: &Customer| {
        let mut v = serde_json::to_value(c).unwrap_or_default();
        if let Some(m) = v.as_object_mut() {
            m.remove("phones");
        }
        v
    };
    let mut changes = diff_docs(&without_phones(old), &without_phones(new));
    let has = |c: &Customer, n: &str| c.phones.iter().any(|p| p.number == n);
    for gone in old.phones.iter().filter(|p| !has(new, &p.number)) {
        changes.push(Change {
            field: "phones".into(),
            old_value: json!(gone.number),
            new_value: Value::Null,
            item: None,
        });
    }
    for added in new.phones.iter().filter(|p| !has(old, &p.number)) {
        changes.push(Change {
            field: "phones".into(),
            old_value: Value::Null,
            new_value: json!(added.number),
            item: None,
        });
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_changes_are_named_as_retailcrm_names_them() {
        let old = Order { status: "new".into(), ..Default::default() };
        let mut new = old.clone();
        new.status = "complete".into();
        new.manager_comment = Some("paid".into());
        new.delivery.address.insert("city".into(), json!("Moscow"));
        new.custom_fields.insert("nps".into(), json!(9));
        new.set_track_numbers(&["RA1".into()]);
        let fields: Vec<_> = diff_orders(&old, &new).into_iter().map(|c| (c.field, c.old_value, c.new_value)).collect();
        assert!(fields.contains(&("status".into(), json!({"code": "new"}), json!({"code": "complete"}))));
        assert!(fields.contains(&("manager_comment".into(), Value::Null, json!("paid"))));
        assert!(fields.contains(&("delivery_address.city".into(), Value::Null, json!("Moscow"))));
        assert!(fields.contains(&("custom_nps".into(), Value::Null, json!(9))));
        assert!(fields.contains(&("track_number".into(), Value::Null, json!("RA1"))));
        assert_eq!(fields.len(), 5);
    }

    #[test]
    fn customer_phones_are_one_record_each() {
        use crate::customer::Phone;
        let phone = |n: &str| Phone { number: n.into() };
        let old = Customer { phones: vec![phone("+71"), phone("+72")], ..Default::default() };
        let new = Customer { phones: vec![phone("+72"), phone("+73"), phone("+74")], ..Default::default() };
        let changes: Vec<_> =
            diff_customers(&old, &new).into_iter().map(|c| (c.field, c.old_value, c.new_value)).collect();
        assert_eq!(
            changes,
            vec![
                ("phones".into(), json!("+71"), Value::Null),
                ("phones".into(), Value::Null, json!("+73")),
                ("phones".into(), Value::Null, json!("+74")),
            ]
        );
    }

    #[test]
    fn lines_added_removed_and_changed() {
        let item = OrderItem { id: 1, quantity: 1.into(), status: "new".into(), ..Default::default() };
        let old = Order { items: vec![item.clone()], ..Default::default() };
        let mut new = old.clone();
        new.items[0].quantity = 3.into();
        new.items.push(OrderItem { id: 2, quantity: 1.into(), ..Default::default() });
        let changes = diff_orders(&old, &new);
        assert_eq!(changes.iter().filter(|c| c.field == "order_product").count(), 1);
        assert!(changes.iter().any(|c| c.field == "order_product.quantity" && c.new_value == json!(3)));
        let removed = diff_orders(&new, &old);
        assert!(removed.iter().any(|c| c.field == "order_product" && c.new_value.is_null()));
    }
}
