//! The parts-search benchmark's helpers: a generated catalogue of N offers with 2N cross-references
//! (written as the CSV files `torg import` reads, so the load is timed through the real import), a
//! buyer with a parts key, and the in-process latency of a search, both through the store alone and
//! through the whole router without a socket. `wrk` measures the same searches over HTTP
//! (`wrk/search.lua` builds its numbers with the same formula as [`article`]).

use anyhow::Context;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::{Duration, Instant};
use torg_domain::history::Actor;
use torg_store::{NewKey, Store};

/// Brands of the generated catalogue; part `i` is of brand `i % len`.
const BRANDS: &[&str] = &[
    "KNECHT/MAHLE",
    "MANN-FILTER",
    "BOSCH",
    "TRW",
    "NGK",
    "CONTITECH",
    "SKF",
    "FEBI",
    "LEMFORDER",
    "SACHS",
    "VALEO",
    "DENSO",
];
const NAMES: &[&str] =
    &["Фильтр масляный", "Фильтр воздушный", "Колодки тормозные", "Свеча зажигания", "Ремень ГРМ", "Амортизатор"];
/// Warehouses; part `i` is stocked at warehouse `i % len`.
const WAREHOUSES: &[&str] = &["msk-main", "spb-north", "ekb-hub"];
/// Cross-reference multipliers: part `i` is an analogue of `(i * m + 1) % n` for each `m`.
const CROSS_STEPS: &[u64] = &[7_919, 104_729];

/// The part number of part `i`, as the supplier lists it (search folds the dash away).
pub fn article(i: u64) -> String {
    format!("TB-{i:07}")
}

/// Writes `catalogue.csv` (`offers` rows) and `crosses.csv` (`2 * offers` pairs) into `dir`.
pub fn write_files(dir: &Path, offers: u64) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut cat = BufWriter::new(std::fs::File::create(dir.join("catalogue.csv"))?);
    writeln!(cat, "article;brand;name;warehouse;quantity;price;min_qty")?;
    for i in 0..offers {
        let quantity = match i % 10 {
            0 => "<10".to_string(),
            1 => ">50".to_string(),
            2 => "Есть".to_string(),
            k => (k * 7 + i % 13).to_string(),
        };
        let price = 150 + (i * 37) % 9_000;
        let min_qty = if i % 20 == 0 { 4 } else { 1 };
        writeln!(
            cat,
            "{};{};{} {};{};{};{},{:02};{}",
            article(i),
            BRANDS[(i % BRANDS.len() as u64) as usize],
            NAMES[(i % NAMES.len() as u64) as usize],
            i,
            WAREHOUSES[(i % WAREHOUSES.len() as u64) as usize],
            quantity,
            price,
            i % 100,
            min_qty
        )?;
    }
    cat.flush()?;
    let mut crosses = BufWriter::new(std::fs::File::create(dir.join("crosses.csv"))?);
    writeln!(crosses, "article;brand;cross_article;cross_brand")?;
    for i in 0..offers {
        for m in CROSS_STEPS {
            let j = (i * m + 1) % offers;
            if j == i {
                continue;
            }
            writeln!(
                crosses,
                "{};{};{};{}",
                article(i),
                BRANDS[(i % BRANDS.len() as u64) as usize],
                article(j),
                BRANDS[(j % BRANDS.len() as u64) as usize]
            )?;
        }
    }
    crosses.flush()?;
    Ok(())
}

/// Creates the benchmark's buyer and a parts key for it (rate limits are the server's business);
/// returns the plain key.
pub async fn make_key(database: &str) -> anyhow::Result<String> {
    let store = Store::open(database).await.context("open the database")?;
    let doc = json!({"externalId": "bench-buyer", "firstName": "Бенч", "email": "bench@example.ru"});
    let input = doc.as_object().cloned().unwrap_or_default();
    store.create_customer("default", &input, Actor::User(None)).await.context("create the buyer")?;
    let plain = format!("bench-parts-{}", rand::rng().random::<u64>());
    store
        .create_key(NewKey {
            plain: plain.clone(),
            name: "search benchmark".into(),
            scopes: vec!["parts".into()],
            sites: torg_domain::key::SiteAccess::Full,
            allowed_ips: Vec::new(),
            customer_external_id: Some("bench-buyer".into()),
            distributor: None,
        })
        .await
        .context("create the key")?;
    Ok(plain)
}

/// Latency figures of one series of calls.
struct Series(Vec<Duration>);

impl Series {
    fn report(mut self, what: &str, rows: usize) {
        self.0.sort();
        let n = self.0.len().max(1);
        let total: Duration = self.0.iter().sum();
        let pick = |q: f64| self.0[((n as f64 * q) as usize).min(n - 1)].as_secs_f64() * 1000.0;
        println!(
            "{what:<8} {:>6} searches  p50 {:>7.3} ms  p99 {:>7.3} ms  max {:>7.3} ms  {:>8.0} searches/s (one at a time)  {:.1} rows per answer",
            self.0.len(),
            pick(0.50),
            pick(0.99),
            pick(1.0),
            self.0.len() as f64 / total.as_secs_f64(),
            rows as f64 / n as f64,
        );
    }
}

/// Times `queries` searches for random numbers of a catalogue of `offers` parts, one at a time: through
/// the store, then through the router (parameters, key, signing, JSON) without a socket.
pub async fn measure(database: &str, key: &str, offers: u64, queries: usize) -> anyhow::Result<()> {
    let store = Store::open(database).await.context("open the database")?;
    let mut rng = StdRng::seed_from_u64(42);
    let numbers: Vec<String> = (0..queries).map(|_| article(rng.random_range(0..offers))).collect();
    for n in numbers.iter().take(200) {
        store.search_parts(n).await?; // warm the page cache, untimed
    }
    let mut times = Vec::with_capacity(queries);
    let mut rows = 0;
    for n in &numbers {
        let start = Instant::now();
        let found = store.search_parts(n).await?;
        times.push(start.elapsed());
        anyhow::ensure!(!found.is_empty(), "search for {n} found nothing: is the catalogue loaded?");
        rows += found.len();
    }
    Series(times).report("store", rows);

    let app = router(store).await?;
    let mut times = Vec::with_capacity(queries);
    let mut bytes = 0;
    for n in &numbers {
        let start = Instant::now();
        let body = search_via(&app, key, n).await?;
        times.push(start.elapsed());
        bytes += body.len();
    }
    Series(times).report("router", bytes / 1000);
    println!("(router: the last column is kilobytes of JSON per answer)");
    Ok(())
}

/// torg's whole router over `store`, rate limits off, to call without a socket.
async fn router(store: Store) -> anyhow::Result<axum::Router> {
    let config = torg_http::HttpConfig { rate_per_second: 0, telephony_rate_per_second: 0, ..Default::default() };
    let state = torg_http::AppState::new(store, config).await.map_err(anyhow::Error::msg)?;
    Ok(torg_http::router(state))
}

/// One parts search for `number` through `app`; the answer's body.
async fn search_via(app: &axum::Router, key: &str, number: &str) -> anyhow::Result<axum::body::Bytes> {
    use tower::ServiceExt;
    let req =
        axum::http::Request::get(format!("/v1/search/?api_key={key}&q={number}")).body(axum::body::Body::empty())?;
    let resp = app.clone().oneshot(req).await?;
    anyhow::ensure!(resp.status() == 200, "search for {number} answered {}", resp.status());
    Ok(axum::body::to_bytes(resp.into_body(), usize::MAX).await?)
}

/// The least stock of a row the parts orders take units from: 15 s of orders at 8,800/s take about 26
/// units from each of 5,000 rows, and a row that ran out would answer "not enough stock" (rightly, but
/// then the run measures refusals, not orders).
const ORDER_ROW_MIN_STOCK: u64 = 40;

/// Writes `count` parts-order bodies (`_=<token>&order_qty=1`) for rows with an exact stock of
/// [`ORDER_ROW_MIN_STOCK`] or more, found by searching random part numbers through the router (so the
/// tokens are signed with the database's own secret, as a running server signs them); prints how many
/// units those rows hold.
pub async fn parts_tokens(database: &str, key: &str, offers: u64, count: usize, out: &Path) -> anyhow::Result<()> {
    let store = Store::open(database).await.context("open the database")?;
    let app = router(store).await?;
    let mut rng = StdRng::seed_from_u64(7);
    let mut bodies = Vec::with_capacity(count);
    let mut seen = std::collections::HashSet::new();
    let mut units = 0_u64;
    let mut tries = 0;
    while bodies.len() < count {
        tries += 1;
        anyhow::ensure!(tries < count * 50, "found only {} rows with exact stock", bodies.len());
        let n = article(rng.random_range(0..offers));
        let body = search_via(&app, key, &n).await?;
        let answer: serde_json::Value = serde_json::from_slice(&body)?;
        for row in answer.get("objects").and_then(serde_json::Value::as_array).into_iter().flatten() {
            let qty = row.get("qty").and_then(|q| q.as_str().map(str::to_owned).or_else(|| Some(q.to_string())));
            let Some(qty) = qty.and_then(|q| q.trim().parse::<u64>().ok()).filter(|q| *q >= ORDER_ROW_MIN_STOCK) else {
                continue;
            };
            let Some(token) = row.get("_").and_then(serde_json::Value::as_str) else { continue };
            if bodies.len() < count && seen.insert(token.to_owned()) {
                let encoded: String = token
                    .bytes()
                    .map(|b| match b {
                        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
                        _ => format!("%{b:02X}"),
                    })
                    .collect();
                bodies.push(format!("_={encoded}&order_qty=1"));
                units += qty;
            }
        }
    }
    std::fs::write(out, bodies.join("\n") + "\n")?;
    println!("{} order bodies for rows holding {units} units, in {}", bodies.len(), out.display());
    Ok(())
}

/// The resident memory of a process: current (its own and mapped files) and peak, in MB, from /proc.
pub fn rss(pid: u32) -> anyhow::Result<()> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).context("read /proc/PID/status")?;
    let field = |name: &str| -> f64 {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    // SQLite asked for a memory map (`?mmap_mb=N`) reads the file through it: the mapped pages it touched
    // count in the resident set (as file pages, which the kernel shares and reclaims), so the process's
    // own memory is shown apart.
    println!(
        "rss {:.0} MB (own {:.0} MB, mapped file {:.0} MB), peak {:.0} MB",
        field("VmRSS:"),
        field("RssAnon:"),
        field("RssFile:"),
        field("VmHWM:")
    );
    Ok(())
}
