//! Combining two orders into one: which lines the surviving order keeps, by RetailCRM's techniques.

use crate::order::OrderItem;

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
}
