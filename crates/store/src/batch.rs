//! What a per-row batch write reports for each row. Warehouses, stock and catalogue products all take
//! such batches, so the outcome lives apart from any one of them.

/// What became of one row of a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum RowOutcome<T> {
    /// Written; the row as stored now.
    Written(T),
    /// `add` of something that is already there; the row as stored (unchanged).
    Exists(T),
    /// `add` of a code another distributor holds.
    Taken,
    /// Nothing of this caller's matches the row.
    NotFound,
}
