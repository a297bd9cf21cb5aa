//! The billing list language against a straightforward in-memory evaluation: random filters (all three
//! array spellings, every operator), sorts and pages over invoices of varied data, on both backends.

use crate::billing_support::{MERCHANT, call, create, invoice_body, line, merchant};
use crate::common::{TestApp, add_to_counter, both};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::cmp::Ordering;
use torg_domain::history::Actor;
use torg_domain::invoice::InvoiceStatus;

/// An invoice as the in-memory evaluation sees it.
#[derive(Debug, Clone)]
struct Row {
    seq: usize,
    id: String,
    text: Vec<(&'static str, Option<String>)>,
    number: Vec<(&'static str, Option<Decimal>)>,
    time: Vec<(&'static str, Option<i64>)>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Text,
    Number,
    Time,
}

const FIELDS: &[(&str, Kind)] = &[
    ("status", Kind::Text),
    ("merchantOrderId", Kind::Text),
    ("description", Kind::Text),
    ("currencyId", Kind::Text),
    ("amount", Kind::Number),
    ("vatAmount", Kind::Number),
    ("createdAt", Kind::Time),
    ("expirationDate", Kind::Time),
    ("paidAt", Kind::Time),
];

#[derive(Debug, Clone, PartialEq)]
enum Val {
    Text(String),
    Number(Decimal),
    Time(i64),
}

impl Row {
    fn get(&self, field: &str) -> Option<Val> {
        if let Some((_, v)) = self.text.iter().find(|(f, _)| *f == field) {
            return v.clone().map(Val::Text);
        }
        if let Some((_, v)) = self.number.iter().find(|(f, _)| *f == field) {
            return v.map(Val::Number);
        }
        self.time.iter().find(|(f, _)| *f == field).and_then(|(_, v)| v.map(Val::Time))
    }
}

fn compare(a: &Val, b: &Val) -> Ordering {
    match (a, b) {
        (Val::Text(x), Val::Text(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Val::Number(x), Val::Number(y)) => x.cmp(y),
        (Val::Time(x), Val::Time(y)) => x.cmp(y),
        _ => Ordering::Equal,
    }
}

#[derive(Debug, Clone)]
enum Spelling {
    Plain,
    Brackets,
    Indexed,
    Repeated,
}

#[derive(Debug, Clone)]
struct Cond {
    field: &'static str,
    op: &'static str,
    values: Vec<Val>,
    spelling: Spelling,
}

#[derive(Debug, Clone)]
struct Query {
    conds: Vec<Cond>,
    sort: Vec<(&'static str, bool)>,
    page_size: Option<u32>,
    page: Option<u32>,
    underscore_paging: bool,
}

fn wire(v: &Val) -> String {
    match v {
        Val::Text(t) => t.clone(),
        Val::Number(d) => d.normalize().to_string(),
        Val::Time(t) => torg_http::faces::billing::render::datetime(*t).as_str().unwrap_or_default().to_string(),
    }
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl Query {
    fn url_query(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        for c in &self.conds {
            match (c.op, &c.spelling) {
                ("", Spelling::Plain) => parts.push(format!("{}={}", c.field, enc(&wire(&c.values[0])))),
                ("", Spelling::Brackets) => {
                    parts.extend(c.values.iter().map(|v| format!("{}%5B%5D={}", c.field, enc(&wire(v)))))
                }
                ("", Spelling::Indexed) => parts.extend(
                    c.values.iter().enumerate().map(|(i, v)| format!("{}%5B{i}%5D={}", c.field, enc(&wire(v)))),
                ),
                ("", _) => parts.extend(c.values.iter().map(|v| format!("{}={}", c.field, enc(&wire(v))))),
                (op, _) => parts.extend(c.values.iter().map(|v| format!("{}[{op}]={}", c.field, enc(&wire(v))))),
            }
        }
        for (f, desc) in &self.sort {
            parts.push(format!("_order[{f}]={}", if *desc { "desc" } else { "asc" }));
        }
        let (size, page) = if self.underscore_paging { ("_pageSize", "_page") } else { ("pageSize", "page") };
        if let Some(s) = self.page_size {
            parts.push(format!("{size}={s}"));
        }
        if let Some(p) = self.page {
            parts.push(format!("{page}={p}"));
        }
        parts.join("&")
    }

    /// What the server should answer: (ids of the page, total).
    fn evaluate(&self, rows: &[Row]) -> (Vec<String>, usize) {
        let mut hits: Vec<&Row> = rows
            .iter()
            .filter(|r| {
                self.conds.iter().all(|c| {
                    let v = r.get(c.field);
                    match (c.op, v) {
                        ("" | "_eq", Some(v)) => c.values.iter().any(|x| compare(&v, x) == Ordering::Equal),
                        ("" | "_eq", None) => false,
                        ("_ne", None) => true,
                        ("_ne", Some(v)) => c.values.iter().all(|x| compare(&v, x) != Ordering::Equal),
                        (_, None) => false,
                        ("_gt", Some(v)) => c.values.iter().all(|x| compare(&v, x) == Ordering::Greater),
                        ("_ge", Some(v)) => c.values.iter().all(|x| compare(&v, x) != Ordering::Less),
                        ("_lt", Some(v)) => c.values.iter().all(|x| compare(&v, x) == Ordering::Less),
                        ("_le", Some(v)) => c.values.iter().all(|x| compare(&v, x) != Ordering::Greater),
                        ("_start", Some(Val::Text(t))) => {
                            c.values.iter().all(|x| matches!(x, Val::Text(p) if t.starts_with(p.as_str())))
                        }
                        _ => false,
                    }
                })
            })
            .collect();
        if self.sort.is_empty() {
            hits.sort_by_key(|r| std::cmp::Reverse(r.seq));
        } else {
            hits.sort_by(|a, b| {
                for (f, desc) in &self.sort {
                    let o = match (a.get(f), b.get(f)) {
                        (None, None) => Ordering::Equal,
                        (None, Some(_)) => Ordering::Greater,
                        (Some(_), None) => Ordering::Less,
                        (Some(x), Some(y)) => {
                            let o = compare(&x, &y);
                            if *desc { o.reverse() } else { o }
                        }
                    };
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                a.seq.cmp(&b.seq)
            });
        }
        let total = hits.len();
        let size = self.page_size.unwrap_or(30) as usize;
        let page = self.page.unwrap_or(1) as usize;
        let ids = hits.into_iter().skip((page - 1) * size).take(size).map(|r| r.id.clone()).collect();
        (ids, total)
    }
}

fn query_strategy(rows: Vec<Row>) -> impl Strategy<Value = Query> {
    let rows = std::sync::Arc::new(rows);
    let cond = {
        let rows = rows.clone();
        (0..FIELDS.len(), 0usize..6, 0usize..4, prop::collection::vec(0usize..1000, 1..4), -1i64..=1).prop_map(
            move |(fi, opi, spi, picks, nudge)| {
                let (field, kind) = FIELDS[fi];
                let ops: &[&str] = match kind {
                    Kind::Text => &["", "_eq", "_ne", "_start"],
                    _ => &["", "_eq", "_ne", "_gt", "_ge", "_lt", "_le"],
                };
                let op = ops[opi % ops.len()];
                let mut values: Vec<Val> = picks
                    .iter()
                    .filter_map(|p| rows[p % rows.len()].get(field))
                    .map(|v| match v {
                        Val::Time(t) => Val::Time(t + nudge),
                        Val::Number(d) => Val::Number(d + Decimal::from(nudge)),
                        Val::Text(t) if op == "_start" => Val::Text(t.chars().take(1 + picks[0] % 3).collect()),
                        other => other,
                    })
                    .collect();
                if values.is_empty() {
                    values.push(match kind {
                        Kind::Text => Val::Text("created".into()),
                        Kind::Number => Val::Number(Decimal::from(10)),
                        Kind::Time => Val::Time(0),
                    });
                }
                if !matches!(op, "" | "_eq" | "_ne") {
                    values.truncate(1);
                }
                let spelling = match (op, spi) {
                    ("", 0) => {
                        values.truncate(1);
                        Spelling::Plain
                    }
                    ("", 1) => Spelling::Brackets,
                    ("", 2) => Spelling::Indexed,
                    _ => Spelling::Repeated,
                };
                Cond { field, op, values, spelling }
            },
        )
    };
    (
        prop::collection::vec(cond, 0..4),
        prop::collection::vec((0..FIELDS.len(), any::<bool>()), 0..3),
        prop::option::of(1u32..8),
        prop::option::of(1u32..5),
        any::<bool>(),
    )
        .prop_map(|(mut conds, sort, page_size, page, underscore_paging)| {
            // One condition per field: plain and array forms of one field form one set by design.
            let mut seen = Vec::new();
            conds.retain(|c| {
                let fresh = !seen.contains(&c.field);
                seen.push(c.field);
                fresh
            });
            let mut keys: Vec<(&'static str, bool)> = Vec::new();
            for (i, desc) in sort {
                if !keys.iter().any(|(f, _)| *f == FIELDS[i].0) {
                    keys.push((FIELDS[i].0, desc));
                }
            }
            Query { conds, sort: keys, page_size, page, underscore_paging }
        })
}

fn row_of(seq: usize, v: &Value) -> Row {
    let text = |k: &str| v[k].as_str().map(str::to_owned);
    let num = |k: &str| v[k].as_number().map(|n| n.to_string().parse::<Decimal>().expect("decimal"));
    let time = |k: &str| v[k].as_str().and_then(torg_domain::listing::parse_instant);
    Row {
        seq,
        id: text("id").expect("id"),
        text: vec![
            ("status", text("status")),
            ("merchantOrderId", text("merchantOrderId")),
            ("description", text("description")),
            ("currencyId", text("currencyId")),
        ],
        number: vec![("amount", num("amount")), ("vatAmount", num("vatAmount"))],
        time: vec![
            ("createdAt", time("createdAt")),
            ("expirationDate", time("expirationDate")),
            ("paidAt", time("paidAt")),
        ],
    }
}

both!(list_language_agrees_with_in_memory_evaluation, |app: TestApp| async move {
    merchant(&app, None).await;
    let descriptions = ["Заказ", "заказ", "Order", "order", "Ёлка", "Zebra"];
    let ids_prefix = ["a", "ab", "b", "ba", "Б", "abc"];
    let currencies = ["RUB", "USD", "EUR"];
    let units = ["10", "10.5", "99.99", "10", "250"];
    let mut created = Vec::new();
    for i in 0..24usize {
        let mut body = invoice_body(
            &format!("{}{i}", ids_prefix[i % ids_prefix.len()]),
            &[line("A", units[(i * 7) % units.len()], 1 + (i % 3) as u32)],
        );
        body["description"] = json!(descriptions[(i * 5) % descriptions.len()]);
        body["currencyId"] = json!(currencies[i % currencies.len()]);
        body["expirationDate"] = json!(format!("2099-01-{:02}T00:00:00+00:00", 1 + (i * 11) % 28));
        let inv = create(&app, &body).await;
        let id = inv["id"].as_str().unwrap().to_string();
        let zone = torg_domain::time::Zone::named("Europe/Moscow").unwrap();
        match i % 4 {
            1 => {
                app.store.set_invoice_status(&id, InvoiceStatus::Completed, false, Actor::Code, &zone).await.unwrap();
            }
            2 => {
                app.store.set_invoice_status(&id, InvoiceStatus::Canceled, false, Actor::Code, &zone).await.unwrap();
            }
            _ => {}
        }
        created.push(id);
        if i % 8 == 7 {
            // A second passes now and then, so createdAt has ties and differences.
            tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
        }
    }
    let (s, all) = call(&app, "GET", "/v3/filter/api/order/order?pageSize=1000", None).await;
    assert_eq!(s, 200);
    let rows: Vec<Row> = created
        .iter()
        .enumerate()
        .map(|(seq, id)| {
            row_of(seq, all["data"].as_array().unwrap().iter().find(|v| v["id"] == json!(id)).expect("listed"))
        })
        .collect();
    assert_eq!(rows.len(), 24);
    assert!(all["data"].as_array().unwrap().iter().all(|v| v["merchantId"] == MERCHANT));
    let handle = tokio::runtime::Handle::current();
    let strategy = query_strategy(rows.clone());
    let result = tokio::task::spawn_blocking(move || {
        let mut runner = TestRunner::new(Config { cases: 120, failure_persistence: None, ..Config::default() });
        runner.run(&strategy, |q| {
            let url = format!("/v3/filter/api/order/order?{}", q.url_query());
            let (status, body) = handle.block_on(call(&app, "GET", &url, None));
            prop_assert_eq!(status.as_u16(), 200, "{} -> {}", url, body);
            let (want, total) = q.evaluate(&rows);
            let got: Vec<String> =
                body["data"].as_array().unwrap().iter().map(|v| v["id"].as_str().unwrap().to_string()).collect();
            prop_assert_eq!(body["metaData"]["totalCount"].as_u64(), Some(total as u64), "{}", url);
            prop_assert_eq!(
                body["metaData"]["pageSize"].as_u64(),
                Some(u64::from(q.page_size.unwrap_or(30))),
                "{}",
                url
            );
            let names = |ids: &[String]| -> Vec<usize> {
                ids.iter().map(|id| rows.iter().position(|r| &r.id == id).unwrap_or(usize::MAX)).collect()
            };
            prop_assert_eq!(names(&got), names(&want), "{}", url);
            Ok::<(), TestCaseError>(())
        })
    })
    .await
    .unwrap();
    if let Err(e) = result {
        panic!("{e}");
    }
});

both!(unfiltered_lists_count_from_the_counters, |app: TestApp| async move {
    merchant(&app, None).await;
    let total = |path: &'static str| {
        let app = &app;
        async move {
            let (s, b) = call(app, "GET", path, None).await;
            assert_eq!(s, 200, "{path}: {b}");
            b["metaData"]["totalCount"].as_u64().expect("totalCount")
        }
    };
    let all = "/v3/filter/api/order/order";
    let filtered = "/v3/filter/api/order/order?description=Counted";
    let before = total(all).await;
    for i in 0..3 {
        let mut body = invoice_body(&format!("counted-{i}"), &[line("A", "10", 1)]);
        body["description"] = json!(if i == 0 { "Counted" } else { "Other" });
        create(&app, &body).await;
    }
    assert_eq!((total(all).await, total(filtered).await), (before + 3, 1));
    // The unfiltered total is the counters' (moved by hand here), the filtered one a count of rows.
    add_to_counter(&app, "invoices", "default", 1000).await;
    assert_eq!((total(all).await, total(filtered).await), (before + 1003, 1));
});
