//! Combining two orders into one: which lines the surviving order keeps, by RetailCRM's techniques.

use crate::error::DomainError;
use crate::order::{Order, OrderItem};

/// How the lines of two combined orders come together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Technique {
    /// The result keeps its own lines; the combined order's are dropped (RetailCRM's default).
    Ours,
    /// The result takes the combined order's lines instead of its own.
    Theirs,
    /// Both orders' lines; a line of an offer the result already has is not added again.
    Merge,
    /// Both orders' lines; a line of an offer the result already has adds its quantity to it.
    Summ,
}

impl Technique {
    /// Every technique, as RetailCRM names them.
    pub const ALL: [Technique; 4] = [Technique::Merge, Technique::Ours, Technique::Summ, Technique::Theirs];

    /// RetailCRM's name.
    pub fn code(self) -> &'static str {
        match self {
            Technique::Ours => "ours",
            Technique::Theirs => "theirs",
            Technique::Merge => "merge",
            Technique::Summ => "summ",
        }
    }

    /// The technique named `code`.
    pub fn parse(code: &str) -> Option<Technique> {
        Technique::ALL.into_iter().find(|t| t.code() == code)
    }
}

/// A line moved from another order: it becomes a new line of the result (id 0).
fn moved(item: &OrderItem) -> OrderItem {
    let mut i = item.clone();
    i.id = 0;
    i.attrs.remove("createdAt");
    i
}

fn same_offer(a: &OrderItem, b: &OrderItem) -> bool {
    matches!((&a.offer, &b.offer), (Some(x), Some(y)) if x.id == y.id)
}

/// The lines of the surviving order when `theirs` (the combined order's lines) joins `ours` (its own).
pub fn combine_items(ours: &[OrderItem], theirs: &[OrderItem], technique: Technique) -> Vec<OrderItem> {
    match technique {
        Technique::Ours => ours.to_vec(),
        Technique::Theirs => theirs.iter().map(moved).collect(),
        Technique::Merge => {
            let mut out = ours.to_vec();
            out.extend(theirs.iter().filter(|t| !ours.iter().any(|o| same_offer(o, t))).map(moved));
            out
        }
        Technique::Summ => {
            let mut out = ours.to_vec();
            for t in theirs {
                match out.iter_mut().find(|o| same_offer(o, t)) {
                    Some(o) => o.quantity += t.quantity,
                    None => out.push(moved(t)),
                }
            }
            out
        }
    }
}

// ---- refusals ----

/// An order is not combined with itself.
pub fn check_orders_distinct(source: i64, result: i64) -> Result<(), DomainError> {
    if source == result {
        return Err(DomainError::invalid("resultOrder.id", "An order cannot be combined with itself."));
    }
    Ok(())
}

/// The order to combine (`source`) and the one it goes into (`result`) among the orders `found` that the
/// caller may see, cloned; the source is looked for first.
pub fn pick_orders(found: &[Order], source: i64, result: i64) -> Result<(Order, Order), DomainError> {
    let Some(from) = found.iter().find(|o| o.id == source) else {
        return Err(DomainError::invalid("order.id", format!("Order with id={source} not found.")));
    };
    let Some(into) = found.iter().find(|o| o.id == result) else {
        return Err(DomainError::invalid("resultOrder.id", format!("Order with id={result} not found.")));
    };
    Ok((from.clone(), into.clone()))
}

/// An order with packs is not combined: its packs hold stock of its own lines.
pub fn check_no_packs(packs: i64) -> Result<(), DomainError> {
    if packs > 0 {
        return Err(DomainError::invalid(
            "order.id",
            "An order with packs cannot be combined: delete its packs first.",
        ));
    }
    Ok(())
}

/// A customer is not combined with itself.
pub fn check_customers_distinct(sources: &[i64], result: i64) -> Result<(), DomainError> {
    if sources.contains(&result) {
        return Err(DomainError::invalid("resultCustomer.id", "A customer cannot be combined with itself."));
    }
    Ok(())
}

/// The customers to combine and the result are all among those `visible` (found, and the caller's);
/// the result is checked first, then each source in turn.
pub fn check_customers_found(sources: &[i64], result: i64, visible: &[i64]) -> Result<(), DomainError> {
    if !visible.contains(&result) {
        return Err(DomainError::invalid("resultCustomer.id", format!("Customer with id={result} not found.")));
    }
    for (i, id) in sources.iter().enumerate() {
        if !visible.contains(id) {
            return Err(DomainError::invalid(
                format!("customers[{i}].id"),
                format!("Customer with id={id} not found."),
            ));
        }
    }
    Ok(())
}

/// A corporate customer is not combined with itself.
pub fn check_corporates_distinct(sources: &[i64], result: i64) -> Result<(), DomainError> {
    if sources.contains(&result) {
        return Err(DomainError::invalid("resultCustomer.id", "A corporate customer cannot be combined with itself."));
    }
    Ok(())
}

/// The corporate customer to combine into, `id`, is not there (or not the caller's).
pub fn unknown_result_corporate(id: i64) -> DomainError {
    unknown_corporate("resultCustomer.id".into(), id)
}

/// Source `index` of a corporate combine, `id`, is not there (or not the caller's).
pub fn unknown_source_corporate(index: usize, id: i64) -> DomainError {
    unknown_corporate(format!("customers[{index}].id"), id)
}

fn unknown_corporate(field: String, id: i64) -> DomainError {
    DomainError::invalid(field, format!("Corporate customer with id={id} not found."))
}

/// Every order to link is among those `visible` (found, and the caller's); the first missing one is named.
pub fn check_linked_found(ids: &[i64], visible: &[i64]) -> Result<(), DomainError> {
    match ids.iter().enumerate().find(|(_, id)| !visible.contains(id)) {
        Some((i, id)) => Err(DomainError::invalid(format!("orders[{i}]"), format!("Order with id={id} not found."))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::OfferSnapshot;
    use rust_decimal::Decimal;

    fn line(id: i64, offer: Option<i64>, qty: i64) -> OrderItem {
        OrderItem {
            id,
            offer: offer.map(|o| OfferSnapshot { id: o, ..Default::default() }),
            quantity: Decimal::from(qty),
            status: "new".into(),
            ..Default::default()
        }
    }

    fn shape(items: &[OrderItem]) -> Vec<(i64, Option<i64>, Decimal)> {
        items.iter().map(|i| (i.id, i.offer.as_ref().map(|o| o.id), i.quantity)).collect()
    }

    #[test]
    fn each_technique_keeps_its_lines() {
        let ours = [line(1, Some(10), 1), line(2, None, 1)];
        let theirs = [line(7, Some(10), 2), line(8, Some(11), 3)];
        let d = Decimal::from;
        assert_eq!(shape(&combine_items(&ours, &theirs, Technique::Ours)), vec![(1, Some(10), d(1)), (2, None, d(1))]);
        assert_eq!(
            shape(&combine_items(&ours, &theirs, Technique::Theirs)),
            vec![(0, Some(10), d(2)), (0, Some(11), d(3))]
        );
        assert_eq!(
            shape(&combine_items(&ours, &theirs, Technique::Merge)),
            vec![(1, Some(10), d(1)), (2, None, d(1)), (0, Some(11), d(3))]
        );
        assert_eq!(
            shape(&combine_items(&ours, &theirs, Technique::Summ)),
            vec![(1, Some(10), d(3)), (2, None, d(1)), (0, Some(11), d(3))]
        );
        assert_eq!(Technique::parse("summ"), Some(Technique::Summ));
        assert_eq!(Technique::parse("sum"), None);
    }

    fn order(id: i64) -> Order {
        Order { id, ..Default::default() }
    }

    #[test]
    fn orders_combine_only_with_another_visible_order_without_packs() {
        assert_eq!(check_orders_distinct(1, 2), Ok(()));
        assert_eq!(
            check_orders_distinct(3, 3),
            Err(DomainError::invalid("resultOrder.id", "An order cannot be combined with itself."))
        );
        let found = [order(2), order(1)];
        let (from, into) = pick_orders(&found, 1, 2).unwrap();
        assert_eq!((from.id, into.id), (1, 2));
        assert_eq!(
            pick_orders(&[order(2)], 1, 2).unwrap_err(),
            DomainError::invalid("order.id", "Order with id=1 not found.")
        );
        // Both missing: the source is named.
        assert_eq!(pick_orders(&[], 1, 2).unwrap_err(), DomainError::invalid("order.id", "Order with id=1 not found."));
        assert_eq!(
            pick_orders(&[order(1)], 1, 2).unwrap_err(),
            DomainError::invalid("resultOrder.id", "Order with id=2 not found.")
        );
        assert_eq!(check_no_packs(0), Ok(()));
        assert_eq!(
            check_no_packs(2),
            Err(DomainError::invalid("order.id", "An order with packs cannot be combined: delete its packs first."))
        );
    }

    #[test]
    fn customers_combine_only_with_others_all_visible() {
        assert_eq!(check_customers_distinct(&[1, 2], 3), Ok(()));
        assert_eq!(
            check_customers_distinct(&[1, 3], 3),
            Err(DomainError::invalid("resultCustomer.id", "A customer cannot be combined with itself."))
        );
        assert_eq!(check_customers_found(&[1, 2], 3, &[1, 2, 3]), Ok(()));
        assert_eq!(
            check_customers_found(&[1, 2], 3, &[2]),
            Err(DomainError::invalid("resultCustomer.id", "Customer with id=3 not found."))
        );
        assert_eq!(
            check_customers_found(&[1, 2, 4], 3, &[1, 3]),
            Err(DomainError::invalid("customers[1].id", "Customer with id=2 not found."))
        );
    }

    #[test]
    fn corporate_combine_refusals() {
        assert_eq!(check_corporates_distinct(&[1], 2), Ok(()));
        assert_eq!(
            check_corporates_distinct(&[2], 2),
            Err(DomainError::invalid("resultCustomer.id", "A corporate customer cannot be combined with itself."))
        );
        assert_eq!(
            unknown_result_corporate(5),
            DomainError::invalid("resultCustomer.id", "Corporate customer with id=5 not found.")
        );
        assert_eq!(
            unknown_source_corporate(1, 6),
            DomainError::invalid("customers[1].id", "Corporate customer with id=6 not found.")
        );
    }

    #[test]
    fn linked_orders_must_all_be_visible() {
        assert_eq!(check_linked_found(&[1, 2], &[2, 1]), Ok(()));
        assert_eq!(
            check_linked_found(&[1, 2, 3], &[1]),
            Err(DomainError::invalid("orders[1]", "Order with id=2 not found."))
        );
    }
}
