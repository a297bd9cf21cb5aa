//! Whole reads of the tables that grow. Once `TORG_PLANS_SEEN` names a folder, the first server the
//! harness starts turns on the store's plan audit (`torg_store::plan_audit`): every distinct
//! statement the suite runs on SQLite goes there with its query plan. `scripts/test` empties the
//! folder, runs the suite, then runs the ignored test below, which fails on each statement that
//! reads a whole table of the business (orders, customers, the catalogue…) and is not listed here
//! with its reason: quick on a test's dozen rows, such a read is what makes a page slow on a shop's
//! hundred thousand.

use crate::common::{Backend, fresh_database};

/// The variable naming the folder.
pub const DIR: &str = "TORG_PLANS_SEEN";

/// Turns the audit on for this process when `TORG_PLANS_SEEN` names a folder (once; later calls do
/// nothing).
pub fn turn_on() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if let Some(dir) = std::env::var_os(DIR) {
            torg_store::plan_audit::record_to(std::path::Path::new(&dir))
                .unwrap_or_else(|e| panic!("writing plans to {}: {e}", dir.to_string_lossy()));
        }
    });
}

/// Tables that stay small whatever the business does (books, settings, users, counters): reading
/// one whole is as cheap as finding a row in it.
const SMALL: &[&str] = &[
    "_sqlx_migrations",
    "api_keys",
    "billing_settings",
    "brand_aliases",
    "cache_generations",
    "custom_dictionaries",
    "custom_fields",
    "distributors",
    "gate_cursors",
    "integration_modules",
    "loyalties",
    "loyalty_levels",
    "meta",
    "reference_entries",
    "row_counts",
    "segments",
    "sqlite_sequence",
    "shown_generation",
    "sites",
    "user_group_members",
    "user_groups",
    "users",
    "warehouses",
];

/// Whole reads that are what their statement is for, as (table, a piece of the statement's text
/// that tells it apart, the reason). Each is a filter the face offers on a column no index serves, a
/// search inside text, or work done once or in the background. The first entry whose piece a
/// statement holds excuses it, so a narrower piece comes before a wider one.
const WHOLE_BY_DESIGN: &[(&str, &str, &str)] = &[
    // The faces' list filters: a filter on a column without an index (or with an operator no index
    // answers: `not in`, a prefix of a name) reads the key's sites' rows of that entity, as the
    // vendor's own service would. An unfiltered page reads its rows in key order and stops at the
    // page's end; its total comes from counters.
    (
        "tasks",
        "FROM task_history h WHERE h.task_id IN (SELECT t.id FROM tasks t",
        "CRM: tasks/history limited to the key's sites",
    ),
    ("tasks", "FROM tasks t", "CRM: tasks list filters"),
    ("files", "FROM files f WHERE 1 = 1", "CRM: files list filters"),
    ("delivery_shipments", "FROM delivery_shipments s WHERE 1 = 1", "CRM: delivery shipments list filters"),
    ("loyalty_accounts", "FROM loyalty_accounts a JOIN customers c", "CRM: loyalty accounts list filters"),
    ("products", "FROM products p WHERE 1 = 1", "CRM: store/products filters (name inside the text, active)"),
    ("offers", "FROM offers o JOIN products p ON p.id = o.product_id WHERE 1 = 1", "CRM: store/offers filters"),
    ("offers", "FROM offers po WHERE 1 = 1", "CRM: store/products filtered by its offers' prices"),
    (
        "products",
        "SELECT id, article, brand, name, description FROM products WHERE active = 1",
        "office: products by exact name or description",
    ),
    (
        "tasks",
        "FROM tasks WHERE customer_id IS NOT NULL AND complete = 0",
        "CRM: customers with (or without) an open task",
    ),
    ("tasks", "FROM tasks WHERE order_id IS NOT NULL AND complete = 0", "CRM: orders with (or without) an open task"),
    (
        "bonus_operations",
        "SELECT b.account_id FROM bonus_operations b WHERE b.remaining > 0",
        "CRM: loyalty accounts with bonuses expiring in a range",
    ),
    ("file_attachments", "SELECT file_id FROM file_attachments)", "CRM: files attached (or not) to anything"),
    // A search for a piece of text anywhere in a field reads every row's text (there is no full-text
    // index; the CRM's `name` and `text` filters match inside words).
    ("customers", "FROM customers WHERE search LIKE", "a search inside customers' text"),
    ("orders", "FROM orders WHERE search LIKE", "a search inside orders' text"),
    ("corporate_customers", "FROM corporate_customers WHERE search LIKE", "a search inside corporate customers' text"),
    ("customer_notes", "FROM customer_notes WHERE text_lower LIKE", "a search inside customers' notes"),
    ("corporate_notes", "FROM corporate_notes WHERE text_lower LIKE", "a search inside corporate customers' notes"),
    // Done once when a database is taken forward (each marked done in `meta`).
    ("customer_notes", "WHERE text_lower IS NULL", "once: notes' lowered copies"),
    ("products", "WHERE name_lower_of IS NULL", "once: products' lowered names"),
    ("offers", "WHERE name_lower_of IS NULL", "once: offers' lowered names"),
    ("order_facets", "DELETE FROM order_facets", "once: the order facets rebuilt"),
    // A brand merged into another: every cross of the old brand is rewritten (an operator's rare act).
    ("crosses", "FROM crosses WHERE brand_norm = ", "a brand alias: crosses of the old brand"),
    ("crosses", "FROM crosses WHERE cross_brand_norm = ", "a brand alias: crosses to the old brand"),
    ("crosses", "FROM crosses WHERE article_norm = cross_norm", "a brand alias: crosses that became self-crosses"),
    // The office face's full export of cross-references, paged by its protocol's offset.
    ("crosses", "COALESCE(b.article, c.cross_norm)", "office: crosses.list pages through every pair"),
    // The webhook outbox in the background: pruning past the retention, and the metrics' counts.
    ("outbox", "DELETE FROM outbox WHERE (delivered_at IS NOT NULL", "the outbox pruned past its retention"),
    ("outbox", "SUM(CASE WHEN delivered_at IS NULL", "/metrics: the outbox's counts by state"),
];

#[test]
#[ignore = "run by scripts/test after the suite, over the plans the suite's servers wrote"]
fn no_statement_reads_a_whole_growing_table() {
    let dir = std::env::var_os(DIR).expect("TORG_PLANS_SEEN names the folder the suite wrote its plans to");
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("the folder of plans") {
        let path = entry.expect("an entry").path();
        let text = std::fs::read_to_string(&path).expect("a file of plans");
        seen.extend(torg_store::plan_audit::Seen::parse(&text).expect("plans as the audit writes them"));
    }
    assert!(seen.len() > 500, "{} statements: was the suite run?", seen.len());
    let tables = tables();
    let growing: Vec<&str> = tables.iter().map(String::as_str).filter(|t| !SMALL.contains(t)).collect();
    let partial = partial_indexes();
    let partial: Vec<&str> = partial.iter().map(String::as_str).collect();
    let mut found: Vec<String> = Vec::new();
    let mut excused = vec![false; WHOLE_BY_DESIGN.len()];
    for s in &seen {
        for table in torg_store::plan_audit::whole_reads(&s.sql, &s.plan, &growing, &partial) {
            match WHOLE_BY_DESIGN.iter().position(|(t, piece, _)| *t == table && s.sql.contains(piece)) {
                Some(i) => excused[i] = true,
                None => found.push(format!(
                    "{table}: {}\n  {}",
                    s.sql.split_whitespace().collect::<Vec<_>>().join(" "),
                    s.plan.join("\n  ")
                )),
            }
        }
    }
    found.sort();
    found.dedup();
    assert!(
        found.is_empty(),
        "{} statements read a whole table that grows with the business: give them an index, or list \
         them in WHOLE_BY_DESIGN with the reason ({} statements seen):\n{}",
        found.len(),
        seen.len(),
        found.join("\n")
    );
    let unused: Vec<String> = WHOLE_BY_DESIGN
        .iter()
        .zip(&excused)
        .filter(|(_, used)| !**used)
        .map(|((t, piece, _), _)| format!("{t}: {piece}"))
        .collect();
    assert!(
        unused.is_empty(),
        "WHOLE_BY_DESIGN excuses reads no statement of the suite made (now served by an index, or \
         the statement changed): drop or correct them:\n{}",
        unused.join("\n")
    );
}

/// The SQLite schema's tables, from a fresh database.
fn tables() -> Vec<String> {
    schema("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
}

/// The SQLite schema's partial indexes (those with a `WHERE`).
fn partial_indexes() -> Vec<String> {
    schema("SELECT name FROM sqlite_master WHERE type = 'index' AND sql LIKE '% WHERE %' ORDER BY name")
}

/// The names `sql` reads from a fresh SQLite database's catalogue.
fn schema(sql: &'static str) -> Vec<String> {
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    rt.block_on(async {
        let (url, _dir, _) = fresh_database(Backend::Sqlite).await;
        let store = torg_store::Store::open(&url).await.expect("open a fresh store");
        let mut tx = store.begin().await.expect("a transaction");
        let names: Vec<String> =
            torg_store::db::query_scalar(sql).fetch_all(&mut *tx).await.expect("the schema's names");
        tx.rollback().await.expect("rollback");
        names
    })
}
