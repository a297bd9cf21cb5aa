//! Stock rules: what a write may take from a warehouse's free stock, and what a refusal reports.
//!
//! The store takes stock with conditional statements (so a check and its reservation cannot be split
//! by another buyer) and reports a refusal by these rules; it carries no wording of its own. Each face
//! puts a [`Refusal`] in its own dialect, or takes the domain's wording from [`Refusal::fields`].

use crate::error::FieldErrors;
use std::fmt;

/// A write refused by the stock it needed (nothing was written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Too little free stock: `left` units free, `wanted` more asked; `store` is the warehouse's code
    /// where the write named it (a pack), none where it follows from the line (a reservation).
    Short {
        /// Free units (never negative).
        left: i64,
        /// Units the write wanted beyond what it already held.
        wanted: i64,
        /// The warehouse's code, when the write named it.
        store: Option<String>,
    },
    /// The offer is no longer stocked at the warehouse the buyer was shown.
    Unoffered,
}

/// A warehouse's stock row as the rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockRow {
    /// Units on hand.
    pub available: i64,
    /// Units reserved by orders.
    pub reserved: i64,
    /// Whether the stock is counted exactly (`false`: reported as `<N`, `>N` or `Есть`, taken unchecked).
    pub exact: bool,
}

impl StockRow {
    /// Units free to take, never negative.
    pub fn free(&self) -> i64 {
        (self.available - self.reserved).max(0)
    }
}

/// Takes `wanted` more units from `row` at warehouse `store`: a row not counted exactly gives them
/// unchecked, a missing row has nothing to give.
pub fn take(row: Option<StockRow>, wanted: i64, store: &str) -> Result<(), Refusal> {
    let left = match row {
        Some(r) if !r.exact => return Ok(()),
        Some(r) => r.free(),
        None => 0,
    };
    if left < wanted {
        return Err(Refusal::Short { left, wanted, store: Some(store.to_string()) });
    }
    Ok(())
}

impl Refusal {
    /// A reservation of `wanted` more units refused by a counted row of `available` and `reserved`.
    pub fn short(row: StockRow, wanted: i64) -> Refusal {
        Refusal::Short { left: row.free(), wanted, store: None }
    }

    /// The domain's wording, under the order line's field it is about.
    pub fn fields(&self) -> FieldErrors {
        let field = match self {
            Refusal::Short { .. } => "quantity",
            Refusal::Unoffered => "offer",
        };
        FieldErrors::from([(field.to_string(), self.to_string())])
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Short { left, wanted, store: None } => {
                write!(f, "Not enough stock: {left} left, {wanted} more wanted.")
            }
            Refusal::Short { left, wanted, store: Some(code) } => {
                write!(f, "Not enough stock at store '{code}': {left} left, {wanted} more wanted.")
            }
            Refusal::Unoffered => f.write_str("The offer is no longer stocked at this warehouse."),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(available: i64, reserved: i64) -> StockRow {
        StockRow { available, reserved, exact: true }
    }

    #[test]
    fn counted_stock_gives_what_is_free_and_no_more() {
        assert_eq!(take(Some(row(10, 3)), 7, "main"), Ok(()));
        assert_eq!(
            take(Some(row(10, 3)), 8, "main"),
            Err(Refusal::Short { left: 7, wanted: 8, store: Some("main".into()) })
        );
        // Reserved beyond what is on hand (stock lowered by an import) leaves nothing, not less.
        assert_eq!(
            take(Some(row(2, 5)), 1, "main"),
            Err(Refusal::Short { left: 0, wanted: 1, store: Some("main".into()) })
        );
    }

    #[test]
    fn reported_stock_is_taken_unchecked_and_a_missing_row_has_nothing() {
        assert_eq!(take(Some(StockRow { available: 0, reserved: 9, exact: false }), 100, "w"), Ok(()));
        assert_eq!(take(None, 1, "w"), Err(Refusal::Short { left: 0, wanted: 1, store: Some("w".into()) }));
        assert_eq!(take(None, 0, "w"), Ok(()));
    }

    #[test]
    fn refusals_are_worded_under_the_line_field() {
        let short = Refusal::short(row(4, 2), 10);
        assert_eq!(
            short.fields(),
            FieldErrors::from([("quantity".into(), "Not enough stock: 2 left, 10 more wanted.".into())])
        );
        let at = Refusal::Short { left: 7, wanted: 8, store: Some("main".into()) };
        assert_eq!(at.to_string(), "Not enough stock at store 'main': 7 left, 8 more wanted.");
        assert_eq!(Refusal::Unoffered.fields().keys().collect::<Vec<_>>(), ["offer"]);
    }
}
