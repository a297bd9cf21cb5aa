//! The billing face's list language (docs/billing.md), written once: filters `field=value`, sets as
//! `k[]=`, `k[0]=` or a repeated key, operators `k[_eq|_ne|_gt|_ge|_lt|_le|_start]=`, sorting by
//! `_order[field]=asc|desc`, paging by `pageSize`/`_pageSize` and `page`/`_page`.
//!
//! Parsed by hand from the raw query pairs because the PHP bracket parser keeps only the last of a
//! repeated plain key, which this language gives a meaning to. The store turns a [`ListQuery`] into SQL.

use rust_decimal::Decimal;

/// Default page size (Invoicebox documents 30).
pub const DEFAULT_PAGE_SIZE: u32 = 30;
/// Largest page size accepted.
pub const MAX_PAGE_SIZE: u32 = 1000;

/// What kind of value a listable field holds, which decides its operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Text: `_eq`, `_ne`, `_start`.
    Text,
    /// A decimal amount: `_eq`, `_ne`, `_gt`, `_ge`, `_lt`, `_le`.
    Number,
    /// An instant (RFC 3339, or a date-time without offset read as UTC): like numbers.
    Time,
}

/// A field a list may be filtered and sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    /// Wire name, e.g. `merchantOrderId`.
    pub name: &'static str,
    /// Value kind.
    pub kind: FieldKind,
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Equal to one of the values.
    Eq,
    /// Equal to none of the values (a missing value counts as different).
    Ne,
    /// Greater than.
    Gt,
    /// Greater or equal.
    Ge,
    /// Less than.
    Lt,
    /// Less or equal.
    Le,
    /// Text starts with.
    Start,
}

impl Op {
    fn parse(s: &str) -> Option<Op> {
        Some(match s {
            "_eq" => Op::Eq,
            "_ne" => Op::Ne,
            "_gt" => Op::Gt,
            "_ge" => Op::Ge,
            "_lt" => Op::Lt,
            "_le" => Op::Le,
            "_start" => Op::Start,
            _ => return None,
        })
    }

    fn allowed(self, kind: FieldKind) -> bool {
        match self {
            Op::Eq | Op::Ne => true,
            Op::Start => kind == FieldKind::Text,
            Op::Gt | Op::Ge | Op::Lt | Op::Le => kind != FieldKind::Text,
        }
    }
}

/// A value compared against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand {
    /// Text.
    Text(String),
    /// Decimal.
    Number(Decimal),
    /// Unix seconds.
    Time(i64),
}

/// One condition; a query holds all of them (AND).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// Wire field name.
    pub field: &'static str,
    /// Its kind.
    pub kind: FieldKind,
    /// Comparison.
    pub op: Op,
    /// Values: several only for `_eq` (any of) and `_ne` (none of).
    pub values: Vec<Operand>,
}

/// A sort key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    /// Wire field name.
    pub field: &'static str,
    /// Descending.
    pub desc: bool,
}

/// A parsed list request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// Conditions, all of which must hold.
    pub conditions: Vec<Condition>,
    /// Sort keys in order; none means newest first.
    pub sort: Vec<Sort>,
    /// Page, from 1.
    pub page: u32,
    /// Page size.
    pub page_size: u32,
}

impl ListQuery {
    /// Rows to skip.
    pub fn offset(&self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.page_size)
    }
}

/// Why a list request was refused: the parameter and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListError {
    /// The parameter as written (e.g. `amount[_start]`).
    pub parameter: String,
    /// Message naming it.
    pub message: String,
}

fn err(parameter: &str, message: String) -> ListError {
    ListError { parameter: parameter.to_string(), message }
}

/// Reads an instant: RFC 3339 with offset, or `YYYY-MM-DDTHH:MM:SS` / `YYYY-MM-DD` read as UTC.
pub fn parse_instant(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Ok(ts) = t.parse::<jiff::Timestamp>() {
        return Some(ts.as_second());
    }
    let civil = t
        .parse::<jiff::civil::DateTime>()
        .ok()
        .or_else(|| t.parse::<jiff::civil::Date>().ok().map(|d| d.to_datetime(jiff::civil::Time::midnight())))?;
    civil.to_zoned(jiff::tz::TimeZone::UTC).ok().map(|z| z.timestamp().as_second())
}

fn operand(kind: FieldKind, raw: &str, parameter: &str) -> Result<Operand, ListError> {
    match kind {
        FieldKind::Text => Ok(Operand::Text(raw.to_string())),
        FieldKind::Number => raw
            .trim()
            .parse::<Decimal>()
            .map(Operand::Number)
            .map_err(|_| err(parameter, format!("Filter '{parameter}' expects a number, got '{raw}'."))),
        FieldKind::Time => parse_instant(raw)
            .map(Operand::Time)
            .ok_or_else(|| err(parameter, format!("Filter '{parameter}' expects a date-time, got '{raw}'."))),
    }
}

fn page_number(raw: &str, parameter: &str, max: u32) -> Result<u32, ListError> {
    match raw.trim().parse::<u32>() {
        Ok(n) if n >= 1 && n <= max => Ok(n),
        _ => Err(err(parameter, format!("'{parameter}' must be a whole number from 1 to {max}, got '{raw}'."))),
    }
}

/// Splits `name[a][b]` into `name` and its bracket segments; `None` for unbalanced brackets.
fn split(key: &str) -> Option<(&str, Vec<&str>)> {
    let Some(open) = key.find('[') else { return Some((key, Vec::new())) };
    let name = &key[..open];
    let mut rest = &key[open..];
    let mut segments = Vec::new();
    while !rest.is_empty() {
        let inner = rest.strip_prefix('[')?;
        let close = inner.find(']')?;
        segments.push(&inner[..close]);
        rest = &inner[close + 1..];
    }
    Some((name, segments))
}

/// Parses the raw (decoded) query pairs against the fields a list offers. Parameters outside the
/// language (an unknown field, a malformed operator or value) are refused, never ignored.
pub fn parse(pairs: &[(String, String)], fields: &[FieldSpec]) -> Result<ListQuery, ListError> {
    let mut q = ListQuery { conditions: Vec::new(), sort: Vec::new(), page: 1, page_size: DEFAULT_PAGE_SIZE };
    // Plain and array forms of one field gather into one `_eq` set.
    let mut sets: Vec<(usize, Vec<Operand>)> = Vec::new();
    for (key, raw) in pairs {
        let Some((name, segments)) = split(key) else {
            return Err(err(key, format!("Malformed parameter '{key}'.")));
        };
        match (name, segments.as_slice()) {
            ("pageSize" | "_pageSize", []) => q.page_size = page_number(raw, key, MAX_PAGE_SIZE)?,
            ("page" | "_page", []) => q.page = page_number(raw, key, u32::MAX / MAX_PAGE_SIZE)?,
            ("_order", [field]) => {
                let Some(spec) = fields.iter().find(|f| f.name == *field) else {
                    return Err(err(key, format!("Cannot sort by unknown field '{field}'.")));
                };
                let desc = match raw.to_ascii_lowercase().as_str() {
                    "asc" => false,
                    "desc" => true,
                    _ => return Err(err(key, format!("Sort order of '{field}' must be asc or desc, got '{raw}'."))),
                };
                q.sort.retain(|s| s.field != spec.name);
                q.sort.push(Sort { field: spec.name, desc });
            }
            ("_order", _) => {
                return Err(err(key, format!("Malformed sort parameter '{key}': use _order[field]=asc|desc.")));
            }
            _ => {
                let Some((index, spec)) = fields.iter().enumerate().find(|(_, f)| f.name == name) else {
                    return Err(err(key, format!("Unknown filter field '{name}'.")));
                };
                let (op, in_set) = match segments.as_slice() {
                    [] => (Op::Eq, true),
                    [s] if s.is_empty() || s.bytes().all(|b| b.is_ascii_digit()) => (Op::Eq, true),
                    [op] | [op, ""] => match Op::parse(op) {
                        Some(op) => (op, false),
                        None => return Err(err(key, format!("Unknown operator '{op}' in '{key}'."))),
                    },
                    _ => return Err(err(key, format!("Malformed filter parameter '{key}'."))),
                };
                if !op.allowed(spec.kind) {
                    return Err(err(key, format!("Operator in '{key}' does not apply to field '{name}'.")));
                }
                let value = operand(spec.kind, raw, key)?;
                if in_set {
                    match sets.iter_mut().find(|(i, _)| *i == index) {
                        Some((_, values)) => values.push(value),
                        None => sets.push((index, vec![value])),
                    }
                } else if let Some(c) = q.conditions.iter_mut().find(|c| c.field == spec.name && c.op == op)
                    && matches!(op, Op::Eq | Op::Ne)
                {
                    c.values.push(value);
                } else {
                    q.conditions.push(Condition { field: spec.name, kind: spec.kind, op, values: vec![value] });
                }
            }
        }
    }
    for (index, values) in sets {
        let spec = fields[index];
        q.conditions.push(Condition { field: spec.name, kind: spec.kind, op: Op::Eq, values });
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: &[FieldSpec] = &[
        FieldSpec { name: "status", kind: FieldKind::Text },
        FieldSpec { name: "amount", kind: FieldKind::Number },
        FieldSpec { name: "createdAt", kind: FieldKind::Time },
    ];

    fn p(pairs: &[(&str, &str)]) -> Result<ListQuery, ListError> {
        let owned: Vec<(String, String)> = pairs.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        parse(&owned, FIELDS)
    }

    #[test]
    fn three_array_spellings_are_one_set() {
        for pairs in [
            vec![("status[]", "created"), ("status[]", "completed")],
            vec![("status[0]", "created"), ("status[1]", "completed")],
            vec![("status", "created"), ("status", "completed")],
        ] {
            let q = p(&pairs).unwrap();
            assert_eq!(q.conditions.len(), 1);
            assert_eq!(q.conditions[0].op, Op::Eq);
            assert_eq!(q.conditions[0].values.len(), 2);
        }
    }

    #[test]
    fn operators_sorting_and_paging() {
        let q = p(&[
            ("amount[_ge]", "10.5"),
            ("status[_ne]", "canceled"),
            ("createdAt[_lt]", "2021-01-27T00:00:00"),
            ("_order[amount]", "desc"),
            ("_pageSize", "5"),
            ("page", "2"),
        ])
        .unwrap();
        assert_eq!(q.conditions.len(), 3);
        assert_eq!(q.sort, vec![Sort { field: "amount", desc: true }]);
        assert_eq!((q.page, q.page_size, q.offset()), (2, 5, 5));
        assert_eq!(p(&[]).unwrap().page_size, DEFAULT_PAGE_SIZE);
        assert_eq!(p(&[("status[_eq]", "x")]).unwrap().conditions[0].op, Op::Eq);
    }

    #[test]
    fn refusals_name_the_parameter() {
        for (k, v) in [
            ("colour", "red"),
            ("amount[_start]", "1"),
            ("status[_gt]", "a"),
            ("status[_like]", "a"),
            ("amount", "ten"),
            ("_order[colour]", "asc"),
            ("_order[amount]", "up"),
            ("_order", "createdAt:desc"),
            ("pageSize", "0"),
            ("page", "-1"),
            ("status[", "x"),
        ] {
            let e = p(&[(k, v)]).unwrap_err();
            assert_eq!(e.parameter, k, "{k}");
        }
    }

    proptest::proptest! {
        /// Any well-formed condition parses to the operator and values written, in every array
        /// spelling; an operator that does not fit the field's kind is refused naming the parameter.
        #[test]
        fn conditions_parse_as_written(
            field in 0usize..3,
            op in proptest::sample::select(vec!["", "_eq", "_ne", "_gt", "_ge", "_lt", "_le", "_start", "_like"]),
            spelling in 0usize..3,
            values in proptest::collection::vec(1u32..100_000, 1..4),
        ) {
            let spec = FIELDS[field];
            let text = |v: u32| match spec.kind {
                FieldKind::Time => format!("2020-01-01T00:00:{:02}+00:00", v % 60),
                _ => v.to_string(),
            };
            let pairs: Vec<(String, String)> = values
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let key = match (op, spelling) {
                        ("", 0) => spec.name.to_string(),
                        ("", 1) => format!("{}[]", spec.name),
                        ("", _) => format!("{}[{i}]", spec.name),
                        (op, _) => format!("{}[{op}]", spec.name),
                    };
                    (key, text(*v))
                })
                .collect();
            let fits = match op {
                "" | "_eq" | "_ne" => true,
                "_start" => spec.kind == FieldKind::Text,
                "_like" => false,
                _ => spec.kind != FieldKind::Text,
            };
            match parse(&pairs, FIELDS) {
                Ok(q) if fits => {
                    let wanted = match op { "" | "_eq" => Op::Eq, other => Op::parse(other).unwrap() };
                    let n: usize = q.conditions.iter().map(|c| c.values.len()).sum();
                    proptest::prop_assert_eq!(n, values.len());
                    proptest::prop_assert!(q.conditions.iter().all(|c| c.op == wanted && c.field == spec.name));
                    if matches!(wanted, Op::Eq | Op::Ne) {
                        proptest::prop_assert_eq!(q.conditions.len(), 1);
                    }
                }
                Err(e) if !fits => proptest::prop_assert_eq!(&e.parameter, &pairs[0].0),
                other => proptest::prop_assert!(false, "{:?} for {:?}", other, pairs),
            }
        }
    }

    #[test]
    fn instants() {
        assert_eq!(parse_instant("1970-01-01T00:01:00+00:00"), Some(60));
        assert_eq!(parse_instant("1970-01-01T03:01:00+03:00"), Some(60));
        assert_eq!(parse_instant("1970-01-01T00:01:00"), Some(60));
        assert_eq!(parse_instant("1970-01-02"), Some(86_400));
        assert_eq!(parse_instant("soon"), None);
    }
}
