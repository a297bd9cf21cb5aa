//! SQLite's raw commit rate for an order: one transaction holding one `orders` row and three
//! `order_items` rows, on torg's own schema (its first migration, indexes included), in WAL mode with
//! `synchronous = NORMAL` as torg runs it. No validation, no history, no HTTP: the ceiling the create
//! target is a quarter of.
//!
//! It is measured through rusqlite (SQLite's C API with cached statements, the driver torg uses) on a
//! minimal schema (primary keys and the lines' `order_id` index only) and on torg's schema, which shows
//! what torg's indexes cost per commit.

use anyhow::Context;
use rusqlite::{Connection, TransactionBehavior, params};
use std::time::Instant;

/// torg's SQLite schema.
const SCHEMA: &str = include_str!("../../store/migrations/sqlite/0001_init.sql");

/// The same columns with primary keys and the lines' `order_id` index only.
const MINIMAL_SCHEMA: &str = "CREATE TABLE orders (id INTEGER PRIMARY KEY AUTOINCREMENT, number TEXT NOT NULL, \
     site TEXT NOT NULL, external_id TEXT, status TEXT NOT NULL, customer_id BIGINT, email TEXT, phones TEXT, search TEXT, \
     order_type TEXT, order_method TEXT, delivery_type TEXT, summ BIGINT, total_summ BIGINT, delivery_cost BIGINT, \
     city TEXT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, status_updated_at BIGINT NOT NULL, doc TEXT NOT NULL);
     CREATE TABLE order_items (id INTEGER PRIMARY KEY AUTOINCREMENT, order_id BIGINT NOT NULL REFERENCES orders (id), \
     position BIGINT NOT NULL, offer_id BIGINT, product_name TEXT, quantity BIGINT NOT NULL, initial_price BIGINT NOT NULL, \
     status TEXT NOT NULL, doc TEXT NOT NULL);
     CREATE INDEX order_items_order ON order_items (order_id);";

const PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                       PRAGMA cache_size = -32000;";

const INSERT_ORDER: &str = "INSERT INTO orders (number, site, external_id, status, customer_id, email, phones, search, \
     order_type, order_method, delivery_type, summ, total_summ, delivery_cost, city, created_at, updated_at, \
     status_updated_at, doc) VALUES ($1, 'default', $2, 'new', $3, $4, '79161234567', $5, 'eshop-individual', \
     'shopping-cart', 'courier', $6, $7, 3000000, 'москва', $8, $8, $8, $9) RETURNING id";

const INSERT_ITEM: &str = "INSERT INTO order_items (order_id, position, offer_id, product_name, quantity, initial_price, \
     status, doc) VALUES ($1, $2, $3, $4, $5, $6, 'new', $7) RETURNING id";

/// An order document about the size torg stores.
fn order_doc(i: u64) -> String {
    serde_json::json!({
        "externalId": format!("raw-{i}"), "status": "new", "firstName": "Иван", "lastName": "Иванов",
        "email": format!("buyer{}@bench.example", i % 5000), "phone": "+7 (916) 123-45-67",
        "orderType": "eshop-individual", "orderMethod": "shopping-cart",
        "delivery": {"code": "courier", "cost": 300, "address": {"city": "Москва", "text": "ул. Тверская, 1"}},
        "customFields": {"nps": i % 11, "source": "yandex"}, "contragent": {"contragentType": "individual"},
    })
    .to_string()
}

/// A line document about the size torg stores.
fn item_doc(i: u64, pos: u64) -> String {
    serde_json::json!({
        "productName": "Фильтр масляный KNECHT/MAHLE OC47", "quantity": 1 + (i + pos) % 3, "initialPrice": 520,
        "status": "new", "createdAt": 1_700_000_000 + i, "offer": {"id": 1 + pos, "externalId": format!("sku-{pos}")},
    })
    .to_string()
}

/// Commits `orders` orders through rusqlite; returns orders per second.
fn rusqlite_rate(path: &std::path::Path, schema: &str, orders: u64) -> anyhow::Result<f64> {
    let mut conn = Connection::open(path)?;
    conn.execute_batch(PRAGMAS)?;
    conn.execute_batch(schema)?;
    let started = Instant::now();
    for i in 0..orders {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let id: i64 = tx.prepare_cached(INSERT_ORDER)?.query_row(
            params![
                format!("R{i}"),
                format!("raw-{i}"),
                (i % 5000) as i64 + 1,
                format!("buyer{}@bench.example", i % 5000),
                "иванов иван 79161234567",
                31_200_000_i64,
                34_200_000_i64,
                1_700_000_000 + i as i64,
                order_doc(i)
            ],
            |r| r.get(0),
        )?;
        for pos in 0..3u64 {
            tx.prepare_cached(INSERT_ITEM)?.query_row(
                params![
                    id,
                    pos as i64,
                    pos as i64 + 1,
                    "фильтр масляный oc47",
                    10_000_i64,
                    5_200_000_i64,
                    item_doc(i, pos)
                ],
                |r| r.get::<_, i64>(0),
            )?;
        }
        tx.commit()?;
    }
    Ok(orders as f64 / started.elapsed().as_secs_f64())
}

/// Measures both schemas, each in a fresh file of a temporary folder (on the disk `TMPDIR` names,
/// as torg's database would be), and prints orders/s.
pub async fn run(orders: u64) -> anyhow::Result<()> {
    let dir = tempfile::tempdir().context("temporary folder")?;
    for (name, schema) in [("minimal", MINIMAL_SCHEMA), ("torg", SCHEMA)] {
        let path = dir.path().join(format!("{name}.db"));
        let rate = tokio::task::spawn_blocking(move || rusqlite_rate(&path, schema, orders)).await??;
        println!("sqlite-raw rusqlite, {name} schema: {orders} orders of 3 lines, {rate:.0} orders/s");
    }
    Ok(())
}
