//! Packs: part of an order line's quantity taken from one warehouse's stock to be shipped (RetailCRM's
//! `orders/packs`). A line may be packed in several packs, from several warehouses, but never beyond
//! its quantity; the store keeps that rule and the stock the packs take.

use crate::error::{DomainError, FieldErrors};
use crate::history::Change;
use crate::money::{from_units, max_amount};
use crate::order::OfferSnapshot;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// Longest store code, invoice or delivery note number.
const SHORT: usize = 255;

/// A pack as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Pack {
    /// Pack id.
    pub id: i64,
    /// The order line it packs.
    pub item_id: i64,
    /// The line's order.
    pub order_id: i64,
    /// The order's external id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_external_id: Option<String>,
    /// The order's site.
    pub site: String,
    /// The line's catalogue offer, if it has one (only then does the pack take stock).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer: Option<OfferSnapshot>,
    /// Warehouse code the quantity is taken from.
    pub store: String,
    /// Quantity packed.
    #[serde(serialize_with = "crate::money::exact")]
    pub quantity: Decimal,
    /// Unit purchase price.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "crate::money::exact_opt")]
    pub purchase_price: Option<Decimal>,
    /// Shipment date, `Y-m-d` (a calendar date: no zone applies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipment_date: Option<String>,
    /// Invoice number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoice_number: Option<String>,
    /// Delivery note number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_note_number: Option<String>,
}

/// The fields a create or edit document gives: `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PackPatch {
    /// The order line (create only).
    pub item_id: Option<i64>,
    /// Warehouse code.
    pub store: Option<String>,
    /// Quantity, above zero.
    pub quantity: Option<Decimal>,
    /// Unit purchase price.
    pub purchase_price: Option<Option<Decimal>>,
    /// Shipment date, `Y-m-d`.
    pub shipment_date: Option<Option<String>>,
    /// Invoice number.
    pub invoice_number: Option<Option<String>>,
    /// Delivery note number.
    pub delivery_note_number: Option<Option<String>>,
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

/// A text field: absent → `None`, null or blank → `Some(None)`; numbers become text.
fn text(doc: &Map<String, Value>, key: &str, errors: &mut FieldErrors) -> Option<Option<String>> {
    let t = match doc.get(key)? {
        Value::Null => return Some(None),
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => {
            errors.insert(key.into(), "This value should be of type string.".into());
            return None;
        }
    };
    if t.chars().count() > SHORT {
        errors.insert(key.into(), format!("This value is too long. It should have {SHORT} characters or less."));
        return None;
    }
    Some(Some(t).filter(|t| !t.is_empty()))
}

impl PackPatch {
    /// Reads a `pack` document; messages name the fields as the document does (`quantity`).
    pub fn from_doc(doc: &Map<String, Value>) -> Result<PackPatch, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut p = PackPatch::default();
        match doc.get("itemId") {
            None | Some(Value::Null) => {}
            Some(v) => match decimal_of(v).filter(|d| d.fract().is_zero() && *d > Decimal::ZERO) {
                Some(d) => p.item_id = d.to_string().parse().ok(),
                None => {
                    errors.insert("itemId".into(), "This value should be a positive integer.".into());
                }
            },
        }
        match text(doc, "store", &mut errors) {
            Some(Some(s)) => p.store = Some(s),
            Some(None) => {
                errors.insert("store".into(), "This value should not be blank.".into());
            }
            None => {}
        }
        match doc.get("quantity") {
            None => {}
            Some(v) => match decimal_of(v) {
                Some(d) if d > Decimal::ZERO && d <= max_amount() => p.quantity = Some(d.normalize()),
                Some(_) => {
                    errors.insert("quantity".into(), "This value should be greater than 0.".into());
                }
                None => {
                    errors.insert("quantity".into(), "This value should be a number.".into());
                }
            },
        }
        match doc.get("purchasePrice") {
            None => {}
            Some(Value::Null) => p.purchase_price = Some(None),
            Some(v) => match decimal_of(v) {
                Some(d) if d >= Decimal::ZERO && d <= max_amount() => p.purchase_price = Some(Some(d.normalize())),
                Some(_) => {
                    errors.insert("purchasePrice".into(), "This value should be between 0 and 900000000000000.".into());
                }
                None => {
                    errors.insert("purchasePrice".into(), "This value should be a number.".into());
                }
            },
        }
        match text(doc, "shipmentDate", &mut errors) {
            Some(Some(d)) if crate::time::parse_date(&d).is_some() => p.shipment_date = Some(Some(d)),
            Some(Some(_)) => {
                errors.insert("shipmentDate".into(), "This value is not a valid date (expected Y-m-d).".into());
            }
            Some(None) => p.shipment_date = Some(None),
            None => {}
        }
        p.invoice_number = text(doc, "invoiceNumber", &mut errors);
        p.delivery_note_number = text(doc, "deliveryNoteNumber", &mut errors);
        if errors.is_empty() { Ok(p) } else { Err(errors) }
    }

    /// What a new pack must give: its line and quantity.
    pub fn check_new(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if self.item_id.is_none() {
            errors.insert("itemId".into(), "This value should not be blank.".into());
        }
        if self.quantity.is_none() {
            errors.insert("quantity".into(), "This value should not be blank.".into());
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }

    /// The line and quantity a new pack gives; either missing is refused (as a blank line).
    pub fn line_and_quantity(&self) -> Result<(i64, Decimal), DomainError> {
        match (self.item_id, self.quantity) {
            (Some(item_id), Some(quantity)) => Ok((item_id, quantity)),
            _ => Err(DomainError::invalid("itemId", "This value should not be blank.")),
        }
    }
}

impl Pack {
    /// A copy with the patch's fields laid over it (the line never changes).
    pub fn patched(&self, p: &PackPatch) -> Pack {
        let mut new = self.clone();
        if let Some(s) = &p.store {
            new.store = s.clone();
        }
        if let Some(q) = p.quantity {
            new.quantity = q;
        }
        if let Some(v) = &p.purchase_price {
            new.purchase_price = *v;
        }
        for (slot, v) in [
            (&mut new.shipment_date, &p.shipment_date),
            (&mut new.invoice_number, &p.invoice_number),
            (&mut new.delivery_note_number, &p.delivery_note_number),
        ] {
            if let Some(v) = v {
                slot.clone_from(v);
            }
        }
        new
    }

    /// The history of an edit: one change per field, named as RetailCRM's pack history names them
    /// (camelCase, the store as `{"code": …}`).
    pub fn changes(&self, new: &Pack) -> Vec<Change> {
        let mut out = Vec::new();
        let mut push = |field: &str, old: Value, new: Value| {
            if old != new {
                out.push(Change { field: field.into(), old_value: old, new_value: new, item: None });
            }
        };
        push("store", json!({ "code": self.store }), json!({ "code": new.store }));
        push("quantity", json!(self.quantity), json!(new.quantity));
        push("purchasePrice", json!(self.purchase_price), json!(new.purchase_price));
        push("shipmentDate", json!(self.shipment_date), json!(new.shipment_date));
        push("invoiceNumber", json!(self.invoice_number), json!(new.invoice_number));
        push("deliveryNoteNumber", json!(self.delivery_note_number), json!(new.delivery_note_number));
        out
    }

    /// The record a new pack leaves: its store, as RetailCRM's first record of a pack names it.
    pub fn created_change(&self) -> Change {
        Change { field: "store".into(), old_value: Value::Null, new_value: json!({ "code": self.store }), item: None }
    }

    /// The record a deleted pack leaves.
    pub fn deleted_change(&self) -> Change {
        Change { field: "store".into(), old_value: json!({ "code": self.store }), new_value: Value::Null, item: None }
    }

    /// The pack as history keeps it.
    pub fn snapshot(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// A pack back from [`Pack::snapshot`].
    pub fn from_snapshot(v: &Value) -> Option<Pack> {
        serde_json::from_value(v.clone()).ok()
    }
}

/// Whole units that changing a group of packs (one order, offer and warehouse) from `packed` to
/// `packed - removed + added` (1/10,000 units each) takes from free stock: packs up to the `held`
/// whole units the order has reserved there take from its reservation, beyond it from free stock,
/// and stock counts whole units only.
pub fn stock_needed(packed: i64, removed: i64, added: i64, held: i64) -> i64 {
    let beyond = |units: i64| (units / 10_000 - held).max(0);
    beyond(packed - removed + added) - beyond(packed)
}

// ---- refusals ----

/// The refusal of an order line id that names no line on the caller's sites.
pub fn unknown_item(item_id: i64) -> DomainError {
    DomainError::invalid("itemId", format!("Order item with id {item_id} not found."))
}

/// The refusal of a warehouse code that names no warehouse.
pub fn unknown_store(code: &str) -> DomainError {
    DomainError::invalid("store", format!("Store '{code}' does not exist."))
}

/// The warehouse a new pack takes from: the one given, else its line's; neither is refused.
pub fn store_of(given: Option<&str>, line: Option<&str>) -> Result<String, DomainError> {
    given.or(line).map(str::to_owned).ok_or_else(|| DomainError::invalid("store", "This value should not be blank."))
}

/// Refuses an edit that would move a pack to another order line.
pub fn check_same_item(old: &Pack, p: &PackPatch) -> Result<(), DomainError> {
    if p.item_id.is_some_and(|i| i != old.item_id) {
        return Err(DomainError::invalid("itemId", "A pack stays with its order item."));
    }
    Ok(())
}

/// Refuses a pack of `wanted` (1/10,000 units) when, with the line's `others` packs, it would hold
/// more than the line's `quantity`.
pub fn check_line_quantity(quantity: i64, others: i64, wanted: i64) -> Result<(), DomainError> {
    if others + wanted > quantity {
        let left = from_units((quantity - others).max(0));
        return Err(DomainError::invalid(
            "quantity",
            format!(
                "The order item's packs may hold at most its quantity {}: {left} left to pack, {} wanted.",
                from_units(quantity),
                from_units(wanted)
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_take_free_stock_only_beyond_the_reservation() {
        // Three units reserved: packing 2 then 1 more takes nothing free; a fourth takes one.
        assert_eq!(stock_needed(0, 0, 20_000, 3), 0);
        assert_eq!(stock_needed(20_000, 0, 10_000, 3), 0);
        assert_eq!(stock_needed(30_000, 0, 10_000, 3), 1);
        // Nothing reserved: whole units count, a fraction takes none until it makes a unit.
        assert_eq!(stock_needed(0, 0, 35_000, 0), 3);
        assert_eq!(stock_needed(0, 0, 9_999, 0), 0);
        // Moving 2 of 5 packed units to a smaller pack frees stock: nothing more is needed.
        assert_eq!(stock_needed(50_000, 20_000, 10_000, 0), -1);
    }

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn reads_a_pack_document() {
        let p = PackPatch::from_doc(&map(json!({"itemId": "7", "store": "main", "quantity": "1,5",
            "purchasePrice": 100, "shipmentDate": "2021-03-03", "invoiceNumber": 123, "deliveryNoteNumber": ""})))
        .unwrap();
        assert_eq!(p.item_id, Some(7));
        assert_eq!(p.quantity, Some(Decimal::new(15, 1)));
        assert_eq!(p.purchase_price, Some(Some(Decimal::from(100))));
        assert_eq!(p.invoice_number, Some(Some("123".into())));
        assert_eq!(p.delivery_note_number, Some(None));
        assert!(p.check_new().is_ok());
        let e = PackPatch::from_doc(&map(json!({"itemId": 1.5, "store": "", "quantity": 0,
            "purchasePrice": -1, "shipmentDate": "03.03.2021", "invoiceNumber": []})))
        .unwrap_err();
        for f in ["itemId", "store", "quantity", "purchasePrice", "shipmentDate", "invoiceNumber"] {
            assert!(e.contains_key(f), "{f}: {e:?}");
        }
        let e = PackPatch::default().check_new().unwrap_err();
        assert!(e.contains_key("itemId") && e.contains_key("quantity"));
    }

    #[test]
    fn edits_record_each_changed_field() {
        let old = Pack { id: 1, store: "main".into(), quantity: Decimal::ONE, ..Pack::default() };
        let patch = PackPatch {
            store: Some("north".into()),
            quantity: Some(Decimal::ONE),
            invoice_number: Some(Some("A-1".into())),
            ..PackPatch::default()
        };
        let new = old.patched(&patch);
        let changes = old.changes(&new);
        let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, vec!["store", "invoiceNumber"]);
        assert_eq!(changes[0].old_value, json!({"code": "main"}));
        assert_eq!(Pack::from_snapshot(&new.snapshot()), Some(new));
    }

    #[test]
    fn words_the_refusals_of_a_pack_write() {
        let blank = DomainError::invalid("itemId", "This value should not be blank.");
        let p = PackPatch { item_id: Some(7), quantity: Some(Decimal::ONE), ..PackPatch::default() };
        assert_eq!(p.line_and_quantity(), Ok((7, Decimal::ONE)));
        assert_eq!(PackPatch { quantity: None, ..p.clone() }.line_and_quantity(), Err(blank.clone()));
        assert_eq!(PackPatch { item_id: None, ..p }.line_and_quantity(), Err(blank));
        assert_eq!(unknown_item(12), DomainError::invalid("itemId", "Order item with id 12 not found."));
        assert_eq!(unknown_store("north"), DomainError::invalid("store", "Store 'north' does not exist."));
    }

    #[test]
    fn a_new_pack_takes_the_given_store_else_its_lines() {
        assert_eq!(store_of(Some("north"), Some("main")), Ok("north".to_string()));
        assert_eq!(store_of(None, Some("main")), Ok("main".to_string()));
        assert_eq!(store_of(None, None), Err(DomainError::invalid("store", "This value should not be blank.")));
    }

    #[test]
    fn a_pack_stays_with_its_line() {
        let old = Pack { id: 1, item_id: 5, ..Pack::default() };
        assert_eq!(check_same_item(&old, &PackPatch::default()), Ok(()));
        assert_eq!(check_same_item(&old, &PackPatch { item_id: Some(5), ..PackPatch::default() }), Ok(()));
        assert_eq!(
            check_same_item(&old, &PackPatch { item_id: Some(6), ..PackPatch::default() }),
            Err(DomainError::invalid("itemId", "A pack stays with its order item."))
        );
    }

    #[test]
    fn a_lines_packs_hold_at_most_its_quantity() {
        // A line of 3, packed 2: one more fits, 1.5 does not.
        assert_eq!(check_line_quantity(30_000, 20_000, 10_000), Ok(()));
        assert_eq!(
            check_line_quantity(30_000, 20_000, 15_000),
            Err(DomainError::invalid(
                "quantity",
                "The order item's packs may hold at most its quantity 3: 1 left to pack, 1.5 wanted."
            ))
        );
        // Packed beyond the line (it was made smaller): nothing is left, not a negative amount.
        assert_eq!(
            check_line_quantity(10_000, 20_000, 10_000),
            Err(DomainError::invalid(
                "quantity",
                "The order item's packs may hold at most its quantity 1: 0 left to pack, 1 wanted."
            ))
        );
    }
}
