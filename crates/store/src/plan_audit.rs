//! The query plans of the statements SQLite runs, written down for a test to read (off unless a
//! process turns it on).
//!
//! A statement that reads a whole table is quick on a test's dozen rows and slow on a shop's
//! hundred thousand, so no test's timing can catch it; its plan shows it. Once a process calls
//! [`record_to`], the first time each distinct statement runs SQLite is asked for its plan
//! (`EXPLAIN QUERY PLAN`, with the same values bound, since a plan may depend on them) and the
//! statement goes, with its plan's lines, to a file of the process's own in the named folder. The
//! HTTP suite turns it on; a test after the suite reads the files ([`Seen`]) and fails on each
//! whole read of a table that grows with the business ([`whole_reads`]).
//!
//! What it cannot see: the statements of triggers and the foreign-key checks (SQLite plans them
//! inside the statement that fires them and `EXPLAIN QUERY PLAN` does not show them), and
//! PostgreSQL, whose planner reads small tables whole by choice, so a test database's plans say
//! nothing about a large one's.

use std::collections::{BTreeMap, HashSet};
use std::io::Write as _;
use std::sync::{Mutex, OnceLock};

use crate::db::Query;

/// Where the plans go, once turned on.
struct Audit {
    seen: Mutex<HashSet<String>>,
    file: Mutex<std::fs::File>,
}

static AUDIT: OnceLock<Audit> = OnceLock::new();

/// Turns the audit on for this process: each distinct statement's plan goes to a file of its own in
/// `dir` (named by the process id). Later calls change nothing.
pub fn record_to(dir: &std::path::Path) -> std::io::Result<()> {
    if AUDIT.get().is_some() {
        return Ok(());
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(format!("plans-{}.jsonl", std::process::id())))?;
    let _ = AUDIT.set(Audit { seen: Mutex::default(), file: Mutex::new(file) });
    Ok(())
}

/// Writes down `q`'s plan on `conn` if the audit is on and `q` has not been seen. A statement whose
/// plan cannot be had (one SQLite cannot explain) is written with the reason as its plan.
pub(crate) fn note(conn: &rusqlite::Connection, q: &Query) {
    let Some(audit) = AUDIT.get() else { return };
    {
        let mut seen = audit.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if seen.contains(q.sql()) {
            return;
        }
        seen.insert(q.sql().to_owned());
    }
    let plan = explain(conn, q).unwrap_or_else(|e| vec![format!("(no plan: {e})")]);
    let line = serde_json::json!({ "sql": q.sql(), "plan": plan }).to_string();
    let mut file = audit.file.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    // Not an error of the statement's: the check after the suite misses this one, so say so.
    if let Err(e) = writeln!(file, "{line}") {
        tracing::error!("the plan audit could not write a statement's plan: {e}");
    }
}

/// The lines of `q`'s plan, each indented two spaces per level under its parent.
fn explain(conn: &rusqlite::Connection, q: &Query) -> crate::db::DbResult<Vec<String>> {
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {}", q.sql()))?;
    crate::db::sqlite_bind(&mut stmt, q)?;
    let mut depth: BTreeMap<i64, usize> = BTreeMap::new();
    let mut lines = Vec::new();
    let mut rows = stmt.raw_query();
    while let Some(r) = rows.next()? {
        let (id, parent, detail): (i64, i64, String) = (r.get(0)?, r.get(1)?, r.get(3)?);
        let level = depth.get(&parent).map_or(0, |d| d + 1);
        depth.insert(id, level);
        lines.push(format!("{}{detail}", "  ".repeat(level)));
    }
    Ok(lines)
}

/// A statement and its plan, as the audit wrote them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Seen {
    /// The statement's text.
    pub sql: String,
    /// Its plan's lines.
    pub plan: Vec<String>,
}

impl Seen {
    /// The statements in the audit's files' `text` (one JSON object a line).
    pub fn parse(text: &str) -> Result<Vec<Seen>, String> {
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).map_err(|e| format!("{e}: {l}")))
            .collect()
    }
}

/// The tables of `growing` that `sql`'s `plan` reads whole: a `SCAN` of the table (by its name or an
/// alias `sql` gives it) in its own order or an index's, covering or not, unless the index is one of
/// `partial` (an index with a `WHERE` holds only the rows its condition picks, the few a scan of it
/// is meant to read). A `SEARCH` reads a range of an index and is what a bounded read looks like
/// (though not always one: `id > ?` with a small bound is a `SEARCH` that reads nearly the whole
/// table, which only the statement's use can tell); scans of a statement's own subqueries, views of
/// `WITH`, constant rows and table-valued functions (`json_each`) read no table.
pub fn whole_reads<'g>(sql: &str, plan: &[String], growing: &[&'g str], partial: &[&str]) -> Vec<&'g str> {
    let named: Vec<(String, &'g str)> = growing
        .iter()
        .flat_map(|&table| aliases(sql, table).into_iter().chain([table.to_owned()]).map(move |name| (name, table)))
        .collect();
    plan.iter()
        .filter_map(|line| {
            let rest = line.trim_start().strip_prefix("SCAN ")?;
            let name = rest.split(' ').next()?;
            let index = rest.split_once(" INDEX ").and_then(|(_, i)| i.split(' ').next());
            if index.is_some_and(|i| partial.contains(&i)) {
                return None;
            }
            named.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|&(_, table)| table)
        })
        .collect()
}

/// Words that may follow a table's name in a statement and are not an alias of it.
const NOT_ALIASES: &[&str] = &[
    "AND",
    "CROSS",
    "DEFAULT",
    "EXCEPT",
    "FULL",
    "GROUP",
    "HAVING",
    "INDEXED",
    "INNER",
    "INTERSECT",
    "JOIN",
    "LEFT",
    "LIMIT",
    "NATURAL",
    "NOT",
    "ON",
    "OR",
    "ORDER",
    "RETURNING",
    "RIGHT",
    "SELECT",
    "SET",
    "UNION",
    "USING",
    "VALUES",
    "WHERE",
    "WINDOW",
];

/// The names `sql` gives `table` (`orders o`, `orders AS o`): SQLite's plans name a table by its
/// alias. Read from the words of the text, because SQLite does not say which table an alias stands
/// for; a word inside a string literal could be taken for one, which at worst flags a scan twice.
fn aliases(sql: &str, table: &str) -> Vec<String> {
    let words: Vec<(usize, usize)> = {
        let mut out = Vec::new();
        let mut start = None;
        for (i, c) in sql.char_indices().chain([(sql.len(), ' ')]) {
            match (c.is_alphanumeric() || c == '_', start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    out.push((s, i));
                    start = None;
                }
                _ => {}
            }
        }
        out
    };
    let word = |i: usize| words.get(i).map(|&(s, e)| &sql[s..e]);
    // Only blanks between two words make them one phrase (`orders.id` or `orders (` are not).
    let spaced = |i: usize| match (words.get(i), words.get(i + 1)) {
        (Some(&(_, end)), Some(&(next, _))) => sql[end..next].chars().all(char::is_whitespace),
        _ => false,
    };
    let mut found = Vec::new();
    for i in (0..words.len()).filter(|&i| word(i).is_some_and(|w| w.eq_ignore_ascii_case(table))) {
        let mut j = i;
        if spaced(j) && word(j + 1).is_some_and(|w| w.eq_ignore_ascii_case("AS")) {
            j += 1;
        }
        if let Some(alias) = word(j + 1).filter(|_| spaced(j))
            && !NOT_ALIASES.iter().any(|k| k.eq_ignore_ascii_case(alias))
        {
            found.push(alias.to_owned());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Value;

    fn plan_of(conn: &rusqlite::Connection, sql: &str, args: Vec<crate::db::Value>) -> Vec<String> {
        explain(conn, &Query::with_args(sql.to_owned(), args)).unwrap()
    }

    #[test]
    fn whole_reads_are_the_scans_of_growing_tables_only() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, site TEXT, number TEXT);
             CREATE INDEX orders_number ON orders (number);
             CREATE INDEX orders_open ON orders (id) WHERE site IS NULL;
             CREATE TABLE sites (code TEXT PRIMARY KEY, name TEXT);",
        )
        .unwrap();
        let growing = ["orders"];
        let text = |t: &str| Value::Text(t.to_owned());
        let reads = |sql: &str, args: Vec<Value>| {
            let plan = plan_of(&conn, sql, args);
            (whole_reads(sql, &plan, &growing, &["orders_open"]), plan)
        };
        let (read, plan) = reads("SELECT id FROM orders WHERE number = ?1", vec![text("A-1")]);
        assert!(plan.iter().any(|l| l.starts_with("SEARCH orders")) && read.is_empty(), "{plan:?}");
        let (read, plan) = reads("SELECT id FROM orders WHERE site = ?1", vec![text("s")]);
        assert_eq!(read, ["orders"], "{plan:?}");
        // In an index's order is still the whole table; an alias is the table's.
        let (read, plan) = reads("SELECT number FROM orders ORDER BY number", vec![]);
        assert_eq!(read, ["orders"], "{plan:?}");
        let (read, plan) = reads("SELECT o.id FROM sites s JOIN orders AS o ON o.site = s.code", vec![]);
        assert_eq!(read, ["orders"], "{plan:?}");
        // Through a partial index, only the rows its condition holds.
        let (read, plan) = reads("SELECT id FROM orders WHERE site IS NULL ORDER BY id", vec![]);
        assert!(plan.iter().any(|l| l.contains("orders_open")) && read.is_empty(), "{plan:?}");
        // A small table read whole, a subquery's rows and a JSON array's elements are not flagged.
        let (read, plan) = reads(
            "WITH s AS (SELECT code FROM sites) SELECT o.id FROM s, json_each(?1) j \
             JOIN orders o ON o.number = j.value WHERE o.site = s.code",
            vec![text("[\"A-1\"]")],
        );
        assert!(read.is_empty(), "{plan:?}");
    }

    #[test]
    fn the_audit_writes_each_statement_once_with_its_plan() {
        let dir = tempfile::tempdir().unwrap();
        record_to(dir.path()).unwrap();
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE orders (id INTEGER PRIMARY KEY, site TEXT)").unwrap();
        let sql = "SELECT id FROM orders WHERE site = ?1 -- the_audit_writes_each_statement_once";
        for site in ["a", "b"] {
            note(&conn, &Query::with_args(sql, vec![Value::Text(site.to_owned())]));
        }
        let written = std::fs::read_to_string(dir.path().join(format!("plans-{}.jsonl", std::process::id()))).unwrap();
        let seen: Vec<Seen> = Seen::parse(&written).unwrap().into_iter().filter(|s| s.sql == sql).collect();
        assert_eq!(seen.len(), 1, "{written}");
        assert_eq!(whole_reads(sql, &seen[0].plan, &["orders"], &[]), ["orders"], "{seen:?}");
    }
}
