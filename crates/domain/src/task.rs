//! Tasks: something for a user (or a user group) to do, by a time, optionally about one order or one
//! customer (RetailCRM's `tasks`). Also the order and customer references that tasks and costs share.

use crate::error::{DomainError, FieldErrors};
use crate::history::Change;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// Longest task text or commentary.
pub const LONG: usize = 65_535;
/// Longest phone, site code or external id.
pub const SHORT: usize = 255;

/// Who performs a task: a user, or a user group.
pub const PERFORMER_TYPES: &[&str] = &["user", "group"];

/// An order as a task or a cost names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct OrderLink {
    /// Internal id.
    pub id: i64,
    /// Order number.
    pub number: String,
    /// External id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Site code.
    pub site: String,
}

/// A customer as a task names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct CustomerLink {
    /// Internal id.
    pub id: i64,
    /// External id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Site code.
    pub site: String,
}

/// How a document names an order: `{id}`, `{externalId}` (on the request's site) or `{number}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderRef {
    /// Internal id.
    Id(i64),
    /// External id.
    ExternalId(String),
    /// Order number.
    Number(String),
}

/// How a document names a customer: `{id}` or `{externalId}` (on the request's site).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomerRef {
    /// Internal id.
    Id(i64),
    /// External id.
    ExternalId(String),
}

/// A task as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Task {
    /// Id.
    pub id: i64,
    /// What to do.
    pub text: String,
    /// A longer note.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commentary: Option<String>,
    /// When it is due: `Y-m-d H:i`, a wall-clock time in the configured zone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datetime: Option<String>,
    /// Done.
    pub complete: bool,
    /// When it was created (Unix seconds).
    pub created_at: i64,
    /// When it was marked done (Unix seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<i64>,
    /// The user who created it (none when an API key did).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creator: Option<i64>,
    /// The performer's id: a user's, or a user group's.
    pub performer: i64,
    /// `user` or `group`.
    pub performer_type: String,
    /// The order it is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<OrderLink>,
    /// The customer it is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<CustomerLink>,
    /// A phone number it is about (a call to make).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// The site the phone number belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_site: Option<String>,
}

/// A comment on a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskComment {
    /// Id.
    pub id: i64,
    /// The task.
    pub task_id: i64,
    /// The user who wrote it.
    pub creator: Option<i64>,
    /// Its text.
    pub text: String,
    /// Written (Unix seconds).
    pub created_at: i64,
    /// Last changed (Unix seconds).
    pub updated_at: i64,
}

/// The fields a create or edit document gives: `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TaskPatch {
    /// What to do (never blank).
    pub text: Option<String>,
    /// A longer note.
    pub commentary: Option<Option<String>>,
    /// Due, `Y-m-d H:i`.
    pub datetime: Option<Option<String>>,
    /// Done.
    pub complete: Option<bool>,
    /// The performer's id.
    pub performer: Option<i64>,
    /// `user` or `group`.
    pub performer_type: Option<String>,
    /// The order it is about.
    pub order: Option<Option<OrderRef>>,
    /// The customer it is about.
    pub customer: Option<Option<CustomerRef>>,
    /// A phone number.
    pub phone: Option<Option<String>>,
    /// The phone number's site.
    pub phone_site: Option<Option<String>>,
}

/// A text member: absent → `None`, null or blank → `Some(None)`; numbers become text. Messages go
/// under `{prefix}.{key}`.
pub(crate) fn text_member(
    doc: &Map<String, Value>,
    prefix: &str,
    key: &str,
    max: usize,
    errors: &mut FieldErrors,
) -> Option<Option<String>> {
    let t = match doc.get(key)? {
        Value::Null => return Some(None),
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => {
            errors.insert(format!("{prefix}.{key}"), "This value should be of type string.".into());
            return None;
        }
    };
    if t.chars().count() > max {
        errors.insert(
            format!("{prefix}.{key}"),
            format!("This value is too long. It should have {max} characters or less."),
        );
        return None;
    }
    Some(Some(t).filter(|t| !t.is_empty()))
}

/// A positive integer id from a number or numeric text.
pub(crate) fn id_of(v: &Value) -> Option<i64> {
    let n = match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    n.filter(|n| *n > 0)
}

/// A member naming a user: absent → `None`, null → `Some(None)`.
pub(crate) fn id_member(
    doc: &Map<String, Value>,
    prefix: &str,
    key: &str,
    errors: &mut FieldErrors,
) -> Option<Option<i64>> {
    match doc.get(key)? {
        Value::Null => Some(None),
        v => match id_of(v) {
            Some(id) => Some(Some(id)),
            None => {
                errors.insert(format!("{prefix}.{key}"), "This value should be a positive integer.".into());
                None
            }
        },
    }
}

/// A text value of a reference object (`externalId`, `number`), numbers as text.
fn ref_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `order`: `{id}`, `{externalId}` or `{number}` (the first given wins); null clears.
pub(crate) fn order_member(
    doc: &Map<String, Value>,
    prefix: &str,
    errors: &mut FieldErrors,
) -> Option<Option<OrderRef>> {
    let field = format!("{prefix}.order");
    match doc.get("order")? {
        Value::Null => Some(None),
        Value::Object(o) => {
            if let Some(v) = o.get("id").filter(|v| !v.is_null()) {
                return match id_of(v) {
                    Some(id) => Some(Some(OrderRef::Id(id))),
                    None => {
                        errors.insert(format!("{field}.id"), "This value should be a positive integer.".into());
                        None
                    }
                };
            }
            if let Some(e) = ref_text(o.get("externalId")) {
                return Some(Some(OrderRef::ExternalId(e)));
            }
            if let Some(n) = ref_text(o.get("number")) {
                return Some(Some(OrderRef::Number(n)));
            }
            if o.is_empty() {
                return Some(None);
            }
            errors.insert(field, "Set one of the following fields: id, externalId, number".into());
            None
        }
        _ => {
            errors.insert(field, "This value should be an object.".into());
            None
        }
    }
}

/// `customer`: `{id}` or `{externalId}`; null clears.
pub(crate) fn customer_member(
    doc: &Map<String, Value>,
    prefix: &str,
    errors: &mut FieldErrors,
) -> Option<Option<CustomerRef>> {
    let field = format!("{prefix}.customer");
    match doc.get("customer")? {
        Value::Null => Some(None),
        Value::Object(o) => {
            if let Some(v) = o.get("id").filter(|v| !v.is_null()) {
                return match id_of(v) {
                    Some(id) => Some(Some(CustomerRef::Id(id))),
                    None => {
                        errors.insert(format!("{field}.id"), "This value should be a positive integer.".into());
                        None
                    }
                };
            }
            if let Some(e) = ref_text(o.get("externalId")) {
                return Some(Some(CustomerRef::ExternalId(e)));
            }
            if o.is_empty() {
                return Some(None);
            }
            errors.insert(field, "Set one of the following fields: id, externalId".into());
            None
        }
        _ => {
            errors.insert(field, "This value should be an object.".into());
            None
        }
    }
}

/// `Y-m-d H:i` (or `Y-m-d H:i:s`, its seconds dropped) as `Y-m-d H:i`.
pub fn parse_due(text: &str) -> Option<String> {
    let text = text.trim();
    let dt = jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M", text)
        .or_else(|_| jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", text))
        .ok()?;
    Some(dt.strftime("%Y-%m-%d %H:%M").to_string())
}

impl TaskPatch {
    /// Reads a `task` document; messages go under `task.<member>`. `performerId` names the performer
    /// (`performer`, as a task reads back, is taken too); `id` and the read-only members a task reads
    /// back with (`createdAt`, `creator`, `completedAt`) are ignored.
    pub fn from_doc(doc: &Map<String, Value>) -> Result<TaskPatch, FieldErrors> {
        const P: &str = "task";
        let mut errors = FieldErrors::new();
        let mut p = TaskPatch::default();
        match text_member(doc, P, "text", LONG, &mut errors) {
            Some(Some(t)) => p.text = Some(t),
            Some(None) => {
                errors.insert("task.text".into(), "This value should not be blank.".into());
            }
            None => {}
        }
        p.commentary = text_member(doc, P, "commentary", LONG, &mut errors);
        match text_member(doc, P, "datetime", SHORT, &mut errors) {
            Some(Some(t)) => match parse_due(&t) {
                Some(d) => p.datetime = Some(Some(d)),
                None => {
                    errors.insert(
                        "task.datetime".into(),
                        "This value is not a valid datetime (expected Y-m-d H:i).".into(),
                    );
                }
            },
            Some(None) => p.datetime = Some(None),
            None => {}
        }
        match doc.get("complete") {
            None | Some(Value::Null) => {}
            Some(v) => match flag_of(v) {
                Some(b) => p.complete = Some(b),
                None => {
                    errors.insert("task.complete".into(), "This value should be of type boolean.".into());
                }
            },
        }
        let key = if doc.get("performerId").is_some_and(|v| !v.is_null()) { "performerId" } else { "performer" };
        match doc.get(key) {
            None | Some(Value::Null) => {}
            Some(v) => match id_of(v) {
                Some(id) => p.performer = Some(id),
                None => {
                    errors.insert("task.performerId".into(), "This value should be a positive integer.".into());
                }
            },
        }
        match text_member(doc, P, "performerType", SHORT, &mut errors) {
            Some(Some(t)) if PERFORMER_TYPES.contains(&t.as_str()) => p.performer_type = Some(t),
            Some(Some(_)) => {
                errors.insert(
                    "task.performerType".into(),
                    "The value you selected is not a valid choice. Allowed: user, group.".into(),
                );
            }
            Some(None) | None => {}
        }
        p.order = order_member(doc, P, &mut errors);
        p.customer = customer_member(doc, P, &mut errors);
        if matches!((&p.order, &p.customer), (Some(Some(_)), Some(Some(_)))) {
            errors.insert("task.customer".into(), "A task is about an order or a customer, not both.".into());
        }
        p.phone = text_member(doc, P, "phone", SHORT, &mut errors);
        p.phone_site = text_member(doc, P, "phoneSite", SHORT, &mut errors);
        if errors.is_empty() { Ok(p) } else { Err(errors) }
    }

    /// What a new task must give: its text and performer.
    pub fn check_new(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if self.text.is_none() {
            errors.insert("task.text".into(), "This value should not be blank.".into());
        }
        if self.performer.is_none() {
            errors.insert("task.performerId".into(), "This value should not be blank.".into());
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }
}

/// A flag from a boolean, 0/1 or their text.
fn flag_of(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_i64() {
            Some(0) => Some(false),
            Some(1) => Some(true),
            _ => None,
        },
        Value::String(s) => match s.trim() {
            "1" | "true" => Some(true),
            "0" | "false" | "" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

impl Task {
    /// The history of an edit: one change per changed member, named as the task's members are.
    pub fn changes(&self, new: &Task) -> Vec<Change> {
        let mut out = Vec::new();
        let mut push = |field: &str, old: Value, new: Value| {
            if old != new {
                out.push(Change { field: field.into(), old_value: old, new_value: new, item: None });
            }
        };
        push("text", json!(self.text), json!(new.text));
        push("commentary", json!(self.commentary), json!(new.commentary));
        push("datetime", json!(self.datetime), json!(new.datetime));
        push("complete", json!(self.complete), json!(new.complete));
        push("performer", json!(self.performer), json!(new.performer));
        push("performerType", json!(self.performer_type), json!(new.performer_type));
        push("order", order_value(self.order.as_ref()), order_value(new.order.as_ref()));
        push("customer", customer_value(self.customer.as_ref()), customer_value(new.customer.as_ref()));
        push("phone", json!(self.phone), json!(new.phone));
        push("phoneSite", json!(self.phone_site), json!(new.phone_site));
        out
    }

    /// The record a new task leaves: its id, as RetailCRM's first record of a task names it.
    pub fn created_change(&self) -> Change {
        Change { field: "id".into(), old_value: Value::Null, new_value: json!(self.id), item: None }
    }

    /// The site the task is about: its order's, its customer's, else its phone's.
    pub fn site(&self) -> Option<&str> {
        self.order
            .as_ref()
            .map(|o| o.site.as_str())
            .or_else(|| self.customer.as_ref().map(|c| c.site.as_str()))
            .or(self.phone_site.as_deref())
    }

    /// The task as history keeps it.
    pub fn snapshot(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// A task back from [`Task::snapshot`].
    pub fn from_snapshot(v: &Value) -> Option<Task> {
        serde_json::from_value(v.clone()).ok()
    }
}

// ---- refusals ----

/// Where a task's performer (a user or a user group) is refused.
pub const PERFORMER_AT: &str = "task.performerId";
/// Where a task's order reference is refused.
pub const ORDER_AT: &str = "task.order";
/// Where a task's customer reference is refused.
pub const CUSTOMER_AT: &str = "task.customer";

/// How a refusal names an order reference: `id=5`, `number=7A`, `externalId=e1`.
fn order_named(r: &OrderRef) -> String {
    match r {
        OrderRef::Id(id) => format!("id={id}"),
        OrderRef::Number(n) => format!("number={n}"),
        OrderRef::ExternalId(e) => format!("externalId={e}"),
    }
}

/// How a refusal names a customer reference: `id=5`, `externalId=c1`.
fn customer_named(r: &CustomerRef) -> String {
    match r {
        CustomerRef::Id(id) => format!("id={id}"),
        CustomerRef::ExternalId(e) => format!("externalId={e}"),
    }
}

/// The one order `r` names among those `found` on the caller's sites; none, or several (an external
/// id on more than one site), is refused under `field`.
pub fn one_order(field: &str, r: &OrderRef, mut found: Vec<OrderLink>) -> Result<OrderLink, DomainError> {
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(DomainError::invalid(field, format!("Order with {} not found.", order_named(r)))),
        _ => Err(DomainError::invalid(
            field,
            format!("Orders with {} are on several sites: give the site.", order_named(r)),
        )),
    }
}

/// The one customer `r` names among those `found` on the caller's sites; none, or several (an
/// external id on more than one site), is refused under `field`.
pub fn one_customer(field: &str, r: &CustomerRef, mut found: Vec<CustomerLink>) -> Result<CustomerLink, DomainError> {
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(DomainError::invalid(field, format!("Customer with {} not found.", customer_named(r)))),
        _ => Err(DomainError::invalid(
            field,
            format!("Customers with {} are on several sites: give the site.", customer_named(r)),
        )),
    }
}

/// The refusal of a performer group id that names no user group.
pub fn unknown_group(id: i64) -> DomainError {
    DomainError::invalid(PERFORMER_AT, format!("User group with id {id} not found."))
}

/// Refuses a phone site the caller does not reach (`sites`); no phone site passes.
pub fn check_phone_site(site: Option<&str>, sites: &[String]) -> Result<(), DomainError> {
    match site.filter(|c| !sites.iter().any(|x| x == c)) {
        Some(code) => Err(DomainError::invalid("task.phoneSite", format!("Site '{code}' not found."))),
        None => Ok(()),
    }
}

/// A comment's text, trimmed; blank is refused.
pub fn comment_text(text: &str) -> Result<&str, DomainError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(DomainError::invalid("comment.text", "This value should not be blank."));
    }
    Ok(text)
}

/// An order in a history value: `{id, number, externalId}`.
fn order_value(o: Option<&OrderLink>) -> Value {
    o.map_or(Value::Null, |o| json!({ "id": o.id, "number": o.number, "externalId": o.external_id }))
}

/// A customer in a history value: `{id, externalId}`.
fn customer_value(c: Option<&CustomerLink>) -> Value {
    c.map_or(Value::Null, |c| json!({ "id": c.id, "externalId": c.external_id }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn reads_a_task_document() {
        let p =
            TaskPatch::from_doc(&map(json!({"text": " Call ", "performerId": "7", "datetime": "2026-03-01 10:30:15",
            "complete": "1", "order": {"number": 12}, "phone": 79990001122_i64, "commentary": ""})))
            .unwrap();
        assert_eq!(p.text.as_deref(), Some("Call"));
        assert_eq!(p.performer, Some(7));
        assert_eq!(p.datetime, Some(Some("2026-03-01 10:30".into())));
        assert_eq!(p.complete, Some(true));
        assert_eq!(p.order, Some(Some(OrderRef::Number("12".into()))));
        assert_eq!(p.phone, Some(Some("79990001122".into())));
        assert_eq!(p.commentary, Some(None));
        assert!(p.check_new().is_ok());
        let p = TaskPatch::from_doc(&map(json!({"performer": 3, "customer": {"externalId": "c1"}}))).unwrap();
        assert_eq!((p.performer, p.customer.clone()), (Some(3), Some(Some(CustomerRef::ExternalId("c1".into())))));
        assert!(p.check_new().unwrap_err().contains_key("task.text"));
        let e = TaskPatch::from_doc(&map(json!({"text": "", "performerId": 0, "datetime": "01.03.2026",
            "complete": "maybe", "performerType": "robot", "order": {"id": 1}, "customer": {"id": 2}})))
        .unwrap_err();
        for f in
            ["task.text", "task.performerId", "task.datetime", "task.complete", "task.performerType", "task.customer"]
        {
            assert!(e.contains_key(f), "{f}: {e:?}");
        }
    }

    #[test]
    fn edits_record_each_changed_member() {
        let old = Task { id: 1, text: "a".into(), performer: 2, performer_type: "user".into(), ..Task::default() };
        let mut new = old.clone();
        new.text = "b".into();
        new.complete = true;
        new.order = Some(OrderLink { id: 5, number: "5A".into(), external_id: None, site: "default".into() });
        let fields: Vec<String> = old.changes(&new).into_iter().map(|c| c.field).collect();
        assert_eq!(fields, vec!["text", "complete", "order"]);
        assert_eq!(new.site(), Some("default"));
        assert_eq!(Task::from_snapshot(&new.snapshot()), Some(new));
    }

    fn invalid(field: &str, message: &str) -> DomainError {
        DomainError::invalid(field, message)
    }

    #[test]
    fn a_reference_names_one_order() {
        let link = |id: i64, site: &str| OrderLink { id, number: "7A".into(), external_id: None, site: site.into() };
        let r = OrderRef::ExternalId("e1".into());
        assert_eq!(one_order(ORDER_AT, &r, vec![link(3, "a")]), Ok(link(3, "a")));
        assert_eq!(one_order(ORDER_AT, &r, vec![]), Err(invalid("task.order", "Order with externalId=e1 not found.")));
        assert_eq!(
            one_order("cost.order", &r, vec![link(3, "a"), link(4, "b")]),
            Err(invalid("cost.order", "Orders with externalId=e1 are on several sites: give the site."))
        );
        assert_eq!(
            one_order(ORDER_AT, &OrderRef::Id(5), vec![]),
            Err(invalid("task.order", "Order with id=5 not found."))
        );
        assert_eq!(
            one_order(ORDER_AT, &OrderRef::Number("7A".into()), vec![]),
            Err(invalid("task.order", "Order with number=7A not found."))
        );
    }

    #[test]
    fn a_reference_names_one_customer() {
        let link = |id: i64| CustomerLink { id, external_id: Some("c1".into()), site: "a".into() };
        let r = CustomerRef::ExternalId("c1".into());
        assert_eq!(one_customer(CUSTOMER_AT, &r, vec![link(2)]), Ok(link(2)));
        assert_eq!(
            one_customer(CUSTOMER_AT, &CustomerRef::Id(9), vec![]),
            Err(invalid("task.customer", "Customer with id=9 not found."))
        );
        assert_eq!(
            one_customer(CUSTOMER_AT, &r, vec![link(2), link(3)]),
            Err(invalid("task.customer", "Customers with externalId=c1 are on several sites: give the site."))
        );
    }

    #[test]
    fn words_the_refusals_of_a_task_write() {
        assert_eq!(unknown_group(4), invalid("task.performerId", "User group with id 4 not found."));
        let sites = vec!["a".to_string(), "b".to_string()];
        assert_eq!(check_phone_site(Some("b"), &sites), Ok(()));
        assert_eq!(check_phone_site(None, &sites), Ok(()));
        assert_eq!(check_phone_site(Some("c"), &sites), Err(invalid("task.phoneSite", "Site 'c' not found.")));
        assert_eq!(comment_text("  Called back "), Ok("Called back"));
        assert_eq!(comment_text(" \n "), Err(invalid("comment.text", "This value should not be blank.")));
    }
}
