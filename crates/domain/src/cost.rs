//! Costs: money spent on a cost item (reference book `cost_item`) over a period, optionally of an order
//! or a user, on one site or more (RetailCRM's `costs`).

use crate::books::Books;
use crate::error::{DomainError, FieldErrors};
use crate::money::max_amount;
use crate::reference::ReferenceKind;
use crate::task::{OrderLink, OrderRef, SHORT, id_member, order_member, text_member};
use rust_decimal::Decimal;
use serde_json::{Map, Value};

/// Longest comment.
pub const COMMENT: usize = 65_535;

/// The members of a cost's `source` (where the money went to attract buyers).
pub const SOURCE_MEMBERS: &[&str] = &["source", "medium", "campaign", "keyword", "content"];

/// A cost as stored.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Cost {
    /// Id.
    pub id: i64,
    /// First day, `Y-m-d`.
    pub date_from: String,
    /// Last day, `Y-m-d`.
    pub date_to: String,
    /// Amount.
    pub summ: Decimal,
    /// Cost item code.
    pub cost_item: String,
    /// Comment.
    pub comment: Option<String>,
    /// When it was created (Unix seconds).
    pub created_at: i64,
    /// The user who created it (none when an API key did).
    pub created_by: Option<i64>,
    /// The order it is a cost of.
    pub order: Option<OrderLink>,
    /// The user it is a cost of.
    pub user_id: Option<i64>,
    /// Sites it belongs to (at least one).
    pub sites: Vec<String>,
    /// Source, medium, campaign, keyword, content.
    pub source: Option<Map<String, Value>>,
}

/// The fields a create or edit document gives: `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CostPatch {
    /// First day, `Y-m-d`.
    pub date_from: Option<String>,
    /// Last day, `Y-m-d`.
    pub date_to: Option<String>,
    /// Amount, 0 or more.
    pub summ: Option<Decimal>,
    /// Cost item code.
    pub cost_item: Option<String>,
    /// Comment.
    pub comment: Option<Option<String>>,
    /// The order.
    pub order: Option<Option<OrderRef>>,
    /// The user.
    pub user_id: Option<Option<i64>>,
    /// Sites (never empty once given).
    pub sites: Option<Vec<String>>,
    /// Source.
    pub source: Option<Option<Map<String, Value>>>,
}

fn decimal_of(v: &Value) -> Option<Decimal> {
    match v {
        Value::Number(n) => {
            let s = n.to_string();
            s.parse().ok().or_else(|| Decimal::from_scientific(&s).ok())
        }
        Value::String(s) => s.trim().replace(',', ".").parse().ok(),
        _ => None,
    }
}

/// A calendar date member, `Y-m-d` (a date-time's date is taken).
fn date_member(doc: &Map<String, Value>, prefix: &str, key: &str, errors: &mut FieldErrors) -> Option<String> {
    let field = format!("{prefix}.{key}");
    match text_member(doc, prefix, key, SHORT, errors)? {
        None => {
            errors.insert(field, "This value should not be blank.".into());
            None
        }
        Some(t) => {
            let day: String = t.chars().take(10).collect();
            let rest = &t[day.len()..];
            let time_ok = rest.is_empty() || crate::time::time_of_day(rest).is_some();
            match crate::time::parse_date(&day).filter(|_| time_ok) {
                Some(d) => Some(d.strftime("%Y-%m-%d").to_string()),
                None => {
                    errors.insert(field, "This value is not a valid date (expected Y-m-d).".into());
                    None
                }
            }
        }
    }
}

impl CostPatch {
    /// Reads a `cost` document; messages go under `{prefix}.<member>` (`cost`, or `costs[i]` in an
    /// upload). `id` and the read-only members a cost reads back with (`createdAt`, `createdBy`) are
    /// ignored.
    pub fn from_doc(doc: &Map<String, Value>, prefix: &str) -> Result<CostPatch, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut p = CostPatch {
            date_from: date_member(doc, prefix, "dateFrom", &mut errors),
            date_to: date_member(doc, prefix, "dateTo", &mut errors),
            ..CostPatch::default()
        };
        match doc.get("summ") {
            None => {}
            Some(v) => match decimal_of(v) {
                Some(d) if d >= Decimal::ZERO && d <= max_amount() => p.summ = Some(d.normalize()),
                Some(_) => {
                    errors
                        .insert(format!("{prefix}.summ"), "This value should be between 0 and 900000000000000.".into());
                }
                None => {
                    errors.insert(format!("{prefix}.summ"), "This value should be a number.".into());
                }
            },
        }
        match text_member(doc, prefix, "costItem", SHORT, &mut errors) {
            Some(Some(c)) => p.cost_item = Some(c),
            Some(None) => {
                errors.insert(format!("{prefix}.costItem"), "This value should not be blank.".into());
            }
            None => {}
        }
        p.comment = text_member(doc, prefix, "comment", COMMENT, &mut errors);
        p.order = order_member(doc, prefix, &mut errors);
        p.user_id = id_member(doc, prefix, "userId", &mut errors);
        match doc.get("sites") {
            None | Some(Value::Null) => {}
            Some(Value::Array(list)) => {
                let mut sites: Vec<String> = Vec::new();
                for (i, v) in list.iter().enumerate() {
                    match v.as_str().map(str::trim).filter(|s| !s.is_empty()) {
                        Some(s) if !sites.iter().any(|x| x == s) => sites.push(s.to_string()),
                        Some(_) => {}
                        None => {
                            errors.insert(format!("{prefix}.sites[{i}]"), "This value should be a site code.".into());
                        }
                    }
                }
                if !sites.is_empty() {
                    p.sites = Some(sites);
                }
            }
            Some(_) => {
                errors.insert(format!("{prefix}.sites"), "This value should be a list.".into());
            }
        }
        match doc.get("source") {
            None => {}
            Some(Value::Null) => p.source = Some(None),
            Some(Value::Object(o)) => {
                let mut source = Map::new();
                for key in SOURCE_MEMBERS {
                    if let Some(Some(v)) = text_member(o, &format!("{prefix}.source"), key, SHORT, &mut errors) {
                        source.insert((*key).to_string(), Value::String(v));
                    }
                }
                p.source = Some(Some(source).filter(|s| !s.is_empty()));
            }
            Some(_) => {
                errors.insert(format!("{prefix}.source"), "This value should be an object.".into());
            }
        }
        if errors.is_empty() { Ok(p) } else { Err(errors) }
    }

    /// What a new cost must give: its dates, amount and cost item.
    pub fn check_new(&self, prefix: &str) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        for (given, key) in [
            (self.date_from.is_some(), "dateFrom"),
            (self.date_to.is_some(), "dateTo"),
            (self.summ.is_some(), "summ"),
            (self.cost_item.is_some(), "costItem"),
        ] {
            if !given {
                errors.insert(format!("{prefix}.{key}"), "This value should not be blank.".into());
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }
}

impl Cost {
    /// A copy with the patch's plain members laid over it (the order and sites are resolved by the
    /// store), checked: the period may not end before it starts.
    pub fn patched(&self, p: &CostPatch, prefix: &str) -> Result<Cost, FieldErrors> {
        let mut new = self.clone();
        if let Some(d) = &p.date_from {
            new.date_from.clone_from(d);
        }
        if let Some(d) = &p.date_to {
            new.date_to.clone_from(d);
        }
        if let Some(s) = p.summ {
            new.summ = s;
        }
        if let Some(c) = &p.cost_item {
            new.cost_item.clone_from(c);
        }
        if let Some(c) = &p.comment {
            new.comment.clone_from(c);
        }
        if let Some(u) = p.user_id {
            new.user_id = u;
        }
        if let Some(s) = &p.source {
            new.source.clone_from(s);
        }
        if new.date_to < new.date_from {
            let mut errors = FieldErrors::new();
            errors.insert(format!("{prefix}.dateTo"), "The period may not end before it starts.".into());
            return Err(errors);
        }
        Ok(new)
    }
}

// ---- refusals ----

/// The member a single cost document comes in, the prefix of its error paths (`cost.summ`).
pub const DOCUMENT: &str = "cost";
/// Where a cost's order reference is refused.
pub const ORDER_AT: &str = "cost.order";
/// Where a cost's user is refused.
pub const USER_AT: &str = "cost.userId";
const SITES_AT: &str = "cost.sites";
const COST_ITEM_AT: &str = "cost.costItem";

/// Every site a cost is put on must be one the caller reaches (`reachable`); the first that is not is
/// refused.
pub fn check_sites(given: &[String], reachable: &[String]) -> Result<(), DomainError> {
    match given.iter().find(|s| !reachable.contains(s)) {
        Some(code) => Err(DomainError::invalid(SITES_AT, format!("Site '{code}' not found."))),
        None => Ok(()),
    }
}

/// A cost is on one site at least.
pub fn check_has_site(sites: &[String]) -> Result<(), DomainError> {
    if sites.is_empty() {
        return Err(DomainError::invalid(SITES_AT, "This value should not be blank."));
    }
    Ok(())
}

/// A cost's item must be in the books and apply to what the cost is of (an order, a user).
pub fn check_item(cost: &Cost, books: &Books) -> Result<(), DomainError> {
    let item = books.refs(ReferenceKind::CostItem).iter().find(|e| e.code == cost.cost_item);
    let Some(item) = item else {
        return Err(DomainError::invalid(COST_ITEM_AT, format!("Cost item '{}' not found.", cost.cost_item)));
    };
    if cost.order.is_some() && !item.attr_bool("appliesToOrders") {
        return Err(DomainError::invalid(ORDER_AT, format!("Cost item '{}' does not apply to orders.", item.code)));
    }
    if cost.user_id.is_some() && !item.attr_bool("appliesToUsers") {
        return Err(DomainError::invalid(USER_AT, format!("Cost item '{}' does not apply to users.", item.code)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn reads_a_cost_document() {
        let p = CostPatch::from_doc(
            &map(json!({"dateFrom": "2026-03-01", "dateTo": "2026-03-31 10:00:00", "summ": "1500,5",
                "costItem": "delivery-cost", "order": {"externalId": "e1"}, "userId": 4, "sites": ["a", "a", "b"],
                "source": {"source": "ya", "medium": "cpc", "other": 1}, "comment": ""})),
            "cost",
        )
        .unwrap();
        assert_eq!((p.date_from.as_deref(), p.date_to.as_deref()), (Some("2026-03-01"), Some("2026-03-31")));
        assert_eq!(p.summ, Some(Decimal::new(15005, 1)));
        assert_eq!(p.order, Some(Some(OrderRef::ExternalId("e1".into()))));
        assert_eq!(p.sites, Some(vec!["a".to_string(), "b".to_string()]));
        assert_eq!(p.source, Some(Some(map(json!({"source": "ya", "medium": "cpc"})))));
        assert_eq!(p.comment, Some(None));
        assert!(p.check_new("cost").is_ok());
        let e = CostPatch::from_doc(
            &map(json!({"dateFrom": "01.03.2026", "dateTo": "", "summ": -1, "costItem": "", "userId": "x",
                "sites": "a", "order": 5})),
            "costs[2]",
        )
        .unwrap_err();
        for f in ["dateFrom", "dateTo", "summ", "costItem", "userId", "sites", "order"] {
            assert!(e.contains_key(&format!("costs[2].{f}")), "{f}: {e:?}");
        }
        assert_eq!(CostPatch::default().check_new("cost").unwrap_err().len(), 4);
    }

    #[test]
    fn a_period_may_not_end_before_it_starts() {
        let c = Cost { date_from: "2026-03-01".into(), date_to: "2026-03-02".into(), ..Cost::default() };
        let p = CostPatch { date_to: Some("2026-02-28".into()), ..CostPatch::default() };
        assert!(c.patched(&p, "cost").unwrap_err().contains_key("cost.dateTo"));
        let p = CostPatch { summ: Some(Decimal::TEN), ..CostPatch::default() };
        assert_eq!(c.patched(&p, "cost").unwrap().summ, Decimal::TEN);
    }

    use crate::error::testing::{invalid, one};

    #[test]
    fn a_cost_is_on_reachable_sites_and_on_one_at_least() {
        let reach = vec!["a".to_string(), "b".to_string()];
        assert_eq!(check_sites(&["b".into(), "a".into()], &reach), Ok(()));
        assert_eq!(
            invalid(check_sites(&["a".into(), "x".into(), "y".into()], &reach).unwrap_err()),
            one("cost.sites", "Site 'x' not found.")
        );
        assert_eq!(check_has_site(&reach), Ok(()));
        assert_eq!(invalid(check_has_site(&[]).unwrap_err()), one("cost.sites", "This value should not be blank."));
    }

    #[test]
    fn a_cost_item_must_exist_and_apply() {
        let entry = |code: &str, attrs: Value| crate::reference::ReferenceEntry {
            id: 1,
            code: code.into(),
            name: code.into(),
            active: true,
            ordering: 1,
            attrs: map(attrs),
        };
        let books = Books::new(
            Vec::new(),
            Vec::new(),
            [
                (ReferenceKind::CostItem, entry("ads", json!({}))),
                (ReferenceKind::CostItem, entry("ship", json!({"appliesToOrders": true, "appliesToUsers": true}))),
            ],
        );
        let link = OrderLink { id: 1, number: "1A".into(), external_id: None, site: "a".into() };
        let of_order = Cost { cost_item: "ads".into(), order: Some(link.clone()), ..Cost::default() };
        let of_user = Cost { cost_item: "ads".into(), user_id: Some(3), ..Cost::default() };
        assert_eq!(check_item(&Cost { cost_item: "ads".into(), ..Cost::default() }, &books), Ok(()));
        assert_eq!(
            check_item(
                &Cost { cost_item: "ship".into(), order: Some(link), user_id: Some(3), ..Cost::default() },
                &books
            ),
            Ok(())
        );
        assert_eq!(
            invalid(check_item(&Cost { cost_item: "none".into(), ..Cost::default() }, &books).unwrap_err()),
            one("cost.costItem", "Cost item 'none' not found.")
        );
        assert_eq!(
            invalid(check_item(&of_order, &books).unwrap_err()),
            one("cost.order", "Cost item 'ads' does not apply to orders.")
        );
        assert_eq!(
            invalid(check_item(&of_user, &books).unwrap_err()),
            one("cost.userId", "Cost item 'ads' does not apply to users.")
        );
    }

    #[test]
    fn a_cost_names_its_fields_under_its_document() {
        assert_eq!((DOCUMENT, ORDER_AT, USER_AT), ("cost", "cost.order", "cost.userId"));
        assert!(CostPatch::default().check_new(DOCUMENT).unwrap_err().contains_key("cost.summ"));
    }
}
