//! A small builder for SQL whose WHERE clause depends on the request (list filters).

use crate::db::{self, FromRow, Query, QueryAs, Value};

/// A value bound to a placeholder.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Int(i64),
    Text(String),
}

/// SQL text with `$n` placeholders and their values, built in order.
#[derive(Debug, Default, Clone)]
pub(crate) struct Sql {
    pub text: String,
    args: Vec<Arg>,
}

impl Sql {
    /// Starts with fixed text.
    pub fn new(text: &str) -> Sql {
        Sql { text: text.to_string(), args: Vec::new() }
    }

    /// A new statement: `prefix` followed by this one's text, with the same values.
    pub fn with_prefix(&self, prefix: &str) -> Sql {
        Sql { text: format!("{prefix}{}", self.text), args: self.args.clone() }
    }

    /// Appends text.
    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder bound to `arg` (written in place: a filtered list binds a dozen, and the
    /// text made for each was a visible part of a kept page's time).
    pub fn bind(&mut self, arg: Arg) -> &mut Self {
        self.args.push(arg);
        push_placeholder(&mut self.text, self.args.len());
        self
    }

    /// Binds `arg` to the next placeholder and returns that placeholder's text without appending it,
    /// for text that names it inside a fragment written elsewhere.
    pub fn placeholder(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        let mut p = String::with_capacity(4);
        push_placeholder(&mut p, self.args.len());
        p
    }

    /// Appends `(p1, p2, …)` bound to `args`. An empty list becomes an empty sub-query, which `IN`
    /// matches nothing with and `NOT IN` everything, on both engines (PostgreSQL refuses `IN ()`).
    pub fn bind_list(&mut self, args: impl IntoIterator<Item = Arg>) -> &mut Self {
        let mut args = args.into_iter().peekable();
        if args.peek().is_none() {
            self.text.push_str("(SELECT NULL WHERE 1 = 0)");
            return self;
        }
        self.text.push('(');
        for (i, a) in args.enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.bind(a);
        }
        self.text.push(')');
        self
    }

    /// The texts of `head`, then the statement and its values, as one text in one allocation: equal
    /// for two `Sql`s (after the same head) only when both are.
    pub fn key_after(&self, head: &[&str]) -> String {
        let args: usize = self.args.iter().map(|a| if let Arg::Text(t) = a { t.len() + 24 } else { 24 }).sum();
        let head_len: usize = head.iter().map(|h| h.len()).sum();
        let mut key = String::with_capacity(head_len + self.text.len() + args);
        head.iter().for_each(|h| key.push_str(h));
        key.push_str(&self.text);
        for a in &self.args {
            // Texts are preceded by their length, so no value can pass for two.
            match a {
                Arg::Int(i) => {
                    key.push_str("\u{1}i");
                    push_int(&mut key, *i);
                }
                Arg::Text(t) => {
                    key.push_str("\u{1}t");
                    push_int(&mut key, t.len() as i64);
                    key.push(':');
                    key.push_str(t);
                }
            }
        }
        key
    }

    /// A query with every value bound.
    pub fn query(&self) -> Query {
        Query::with_args(self.text.clone(), self.args.iter().map(Arg::value).collect())
    }

    /// A typed query with every value bound.
    pub fn query_as<T: FromRow>(&self) -> QueryAs<T> {
        self.args.iter().fold(db::query_as(self.text.clone()), |q, a| q.bind(a.value()))
    }
}

/// Appends `n` in decimal, without the formatting machinery's detour through `fmt::Write`.
fn push_int(out: &mut String, n: i64) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// Appends the placeholder `$n`.
fn push_placeholder(out: &mut String, n: usize) {
    out.push('$');
    out.push_str(itoa::Buffer::new().format(n));
}

impl Arg {
    fn value(&self) -> Value {
        match self {
            Arg::Int(i) => Value::Int(*i),
            Arg::Text(s) => Value::Text(s.clone()),
        }
    }
}

/// A `LIKE` pattern that matches `needle` anywhere, with the pattern characters escaped.
pub(crate) fn contains_pattern(needle: &str) -> String {
    let escaped = needle.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// Values for a filter list, each passed through `f` (a normalisation) so they compare as the stored
/// normalised column does.
pub(crate) fn norm_args(values: &[String], f: impl Fn(&str) -> String) -> Vec<Arg> {
    values.iter().map(|v| Arg::Text(f(v))).collect()
}

/// Values for a filter list of text, as given.
pub(crate) fn text_args(values: &[String]) -> Vec<Arg> {
    values.iter().cloned().map(Arg::Text).collect()
}

/// ` AND column IN (values)`, unless `values` is empty: an empty filter list does not filter.
pub(crate) fn any_of(q: &mut Sql, column: &str, values: Vec<Arg>) {
    if !values.is_empty() {
        q.push(" AND ").push(column).push(" IN ").bind_list(values);
    }
}

/// `($1, …, $c), ($c+1, …, $2c), …`: the placeholders of a multi-row `VALUES` of `rows` rows of
/// `columns` values each, bound row by row.
pub(crate) fn values_rows(rows: usize, columns: usize) -> String {
    let mut out = String::with_capacity(rows * columns * 5);
    for r in 0..rows {
        out.push_str(if r == 0 { "(" } else { ", (" });
        for c in 1..=columns {
            if c > 1 {
                out.push_str(", ");
            }
            push_placeholder(&mut out, r * columns + c);
        }
        out.push(')');
    }
    out
}

/// An expression for the id the next row of `table` gets, for a statement that needs it before the row
/// exists (an order's default number is made of it). PostgreSQL takes it from the identity's
/// sequence; SQLite (`AUTOINCREMENT`, one writer at a time) computes what it would assign itself:
/// one past the larger of the highest id ever handed out and the highest id present.
pub(crate) fn next_id(backend: crate::Backend, table: &str) -> String {
    match backend {
        crate::Backend::Postgres => format!("nextval(pg_get_serial_sequence('{table}', 'id'))"),
        crate::Backend::Sqlite => format!(
            "MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = '{table}'), 0), \
             COALESCE((SELECT MAX(id) FROM {table}), 0)) + 1"
        ),
    }
}

/// ` LIMIT n OFFSET m` of a list page (the limit at least 1), the numbers written into the statement
/// rather than bound to it. A bound LIMIT costs a plan on every run on both engines: SQLite (3.51)
/// plans with the bound limit's value and so compiles the statement again whenever it is bound anew
/// (a tenth of an order list page's time, by profile), and PostgreSQL's generic plan assumes an
/// unknown LIMIT or OFFSET fetches a tenth of the table, so its plan cache keeps planning the
/// statement afresh for every run (half a millisecond for an order list page). Written in, a page
/// size and offset make one statement each, planned once per connection; they are integers, so
/// nothing a client sends reaches the SQL text.
pub(crate) fn page(q: &mut Sql, limit: u32, offset: u64) {
    q.push(&format!(" LIMIT {} OFFSET {}", limit.max(1), i64::try_from(offset).unwrap_or(i64::MAX)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_written_into_the_statement() {
        let mut q = Sql::new("SELECT id FROM t WHERE site = ");
        q.bind(Arg::Text("a".into()));
        page(&mut q, 0, 40);
        assert_eq!(q.text, "SELECT id FROM t WHERE site = $1 LIMIT 1 OFFSET 40");
        assert_eq!(q.args.len(), 1, "only the filter's value is bound");
        page(&mut q, 21, u64::MAX);
        assert!(q.text.ends_with(&format!(" LIMIT 21 OFFSET {}", i64::MAX)));
    }

    #[test]
    fn a_key_names_the_statement_and_every_value() {
        let mut q = Sql::new("SELECT id FROM t WHERE a = ");
        q.bind(Arg::Int(-7)).push(" AND b IN ").bind_list([Arg::Text("x:y".into()), Arg::Int(12)]);
        assert_eq!(q.text, "SELECT id FROM t WHERE a = $1 AND b IN ($2, $3)");
        assert_eq!(q.key_after(&[]), "SELECT id FROM t WHERE a = $1 AND b IN ($2, $3)\u{1}i-7\u{1}t3:x:y\u{1}i12");
        let mut other = Sql::new("SELECT id FROM t WHERE a = ");
        other.bind(Arg::Int(-7)).push(" AND b IN ").bind_list([Arg::Text("x".into()), Arg::Text("y:".into())]);
        assert_ne!(q.key_after(&[]), other.key_after(&[]), "a text's length keeps two values from passing for one");
        assert_eq!(q.key_after(&["page ", "20"]), format!("page 20{}", q.key_after(&[])));
    }

    #[test]
    fn multi_row_values_number_their_placeholders_row_by_row() {
        assert_eq!(values_rows(1, 2), "($1, $2)");
        assert_eq!(values_rows(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(values_rows(0, 3), "");
    }
}
