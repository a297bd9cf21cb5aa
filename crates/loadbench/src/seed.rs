//! `seed`: a believable shop in a fresh database, written through the store API (so every row,
//! index, custom field and history record is what torg itself writes): three sites, 60 offers, one
//! customer per 20 orders, and orders of three lines spread over the past year. Recent orders are in
//! the working statuses (new, approval, assembling, delivery), older ones mostly complete or cancelled.
//! Every order is generated from its own number, so a seed of N orders is the same on every run.

use anyhow::Context;
use futures::StreamExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};
use std::io::Write;
use std::time::Instant;
use torg_domain::catalogue::Offer;
use torg_domain::history::Actor;
use torg_domain::key::{ALL_SCOPES, SiteAccess};
use torg_domain::reference::Site;
use torg_domain::time::Zone;
use torg_store::{Backend, NewKey, Store};

const FIRST: &[&str] = &["Иван", "Анна", "Пётр", "Мария", "Олег", "Ольга", "Сергей", "Елена", "Дмитрий", "Наталья"];
const LAST: &[&str] =
    &["Иванов", "Смирнова", "Кузнецов", "Попова", "Соколов", "Лебедева", "Козлов", "Новикова", "Морозов", "Волкова"];
const CITIES: &[&str] = &["Москва", "Казань", "Самара", "Пермь", "Тверь", "Екатеринбург"];
const PARTS: &[(&str, &str, u32)] = &[
    ("Фильтр масляный", "KNECHT/MAHLE", 520),
    ("Фильтр воздушный", "MANN-FILTER", 940),
    ("Колодки тормозные передние", "TRW", 2350),
    ("Свеча зажигания", "NGK", 310),
    ("Ремень ГРМ", "CONTITECH", 3150),
    ("Комплект ГРМ", "SKF", 7420),
];
/// Offers in the catalogue: each part in ten variants (`sku-1` … `sku-60`).
pub const OFFERS: usize = 60;
/// Sites and the share of customers (out of 10) on each.
const SITES: &[(&str, u64)] = &[("default", 5), ("msk-shop", 3), ("spb-shop", 2)];
/// Where buyers came from (the custom field `source`).
const SOURCES: &[&str] = &["yandex", "google", "avito", "direct", "repeat"];

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The price of offer `sku-{n}` (1-based), in roubles.
fn offer_price(n: usize) -> u32 {
    let (_, _, base) = PARTS[(n - 1) % PARTS.len()];
    base + 37 * ((n as u32 - 1) / PARTS.len() as u32)
}

/// The site of customer `i` (0-based).
fn customer_site(i: u64) -> &'static str {
    let mut slot = i % 10;
    for (code, share) in SITES {
        if slot < *share {
            return code;
        }
        slot -= share;
    }
    "default"
}

/// A status for an order `age_days` old.
fn status(rng: &mut StdRng, age_days: i64) -> &'static str {
    let pick = |rng: &mut StdRng, list: &[&'static str]| list[rng.random_range(0..list.len())];
    match age_days {
        0..3 => {
            pick(rng, &["new", "new", "awaiting-payment", "availability-confirmed", "client-confirmed", "prepayed"])
        }
        3..10 => pick(
            rng,
            &[
                "supplier-accepted",
                "in-transit-from-supplier",
                "at-branch",
                "assembling",
                "assembling-complete",
                "send-to-delivery",
            ],
        ),
        10..30 => {
            pick(rng, &["send-to-delivery", "delivering", "at-pickup-point", "complete", "complete", "cancel-other"])
        }
        _ => match rng.random_range(0..100) {
            0..82 => "complete",
            82..90 => "cancel-other",
            90..95 => "no-product",
            _ => "no-call",
        },
    }
}

/// The document of order `i`, whose customer (id, index) is picked from `customers`.
fn order_doc(i: u64, customers: &[i64], now: i64, zone: &Zone) -> (String, Map<String, Value>) {
    let mut rng = StdRng::seed_from_u64(i);
    let c = rng.random_range(0..customers.len());
    let site = customer_site(c as u64);
    let age = rng.random_range(0..365 * 86_400_i64);
    let status = status(&mut rng, age / 86_400);
    let mut offers: Vec<usize> = Vec::with_capacity(3);
    while offers.len() < 3 {
        let o = rng.random_range(1..=OFFERS);
        if !offers.contains(&o) {
            offers.push(o);
        }
    }
    let quantities: Vec<u32> = offers.iter().map(|_| rng.random_range(1..=4)).collect();
    let (delivery, cost) = match rng.random_range(0..20) {
        0..10 => ("courier", 300),
        10..15 => ("self-delivery", 0),
        15..18 => ("russian-post", 350),
        _ => ("transport-company", 900),
    };
    let total: u32 = offers.iter().zip(&quantities).map(|(o, q)| offer_price(*o) * q).sum::<u32>() + cost;
    let items: Vec<Value> = offers
        .iter()
        .zip(&quantities)
        .map(|(o, q)| json!({"offer": {"externalId": format!("sku-{o}")}, "quantity": q}))
        .collect();
    let method = ["shopping-cart", "shopping-cart", "phone", "one-click"][rng.random_range(0..4)];
    let city = CITIES[rng.random_range(0..CITIES.len())];
    let source = SOURCES[rng.random_range(0..SOURCES.len())];
    let mut doc = json!({
        "externalId": format!("bench-{i}"),
        "customer": {"id": customers[c]},
        "status": status,
        "createdAt": zone.datetime(now - age),
        "orderMethod": method,
        "items": items,
        "delivery": {"code": delivery, "cost": cost, "address": {"city": city}},
        "customFields": {"source": source},
    });
    if status == "complete" {
        doc["customFields"]["nps"] = json!(rng.random_range(0..=10));
    }
    if rng.random_bool(0.6) {
        let paid = matches!(status, "complete" | "prepayed" | "delivering" | "at-pickup-point");
        doc["payments"] =
            json!([{"type": "bank-card", "status": if paid { "paid" } else { "not-paid" }, "amount": total}]);
    }
    if rng.random_bool(0.2) {
        doc["managerComment"] = json!(format!("Перезвонить после {} часов", rng.random_range(10..19)));
    }
    (site.to_string(), obj(doc))
}

/// Prints `done/total (rate/s)` on one line of stderr.
fn progress(what: &str, done: u64, total: u64, started: Instant) {
    let rate = done as f64 / started.elapsed().as_secs_f64().max(1e-9);
    eprint!("\r{what}: {done}/{total} ({rate:.0}/s)   ");
    let _ = std::io::stderr().flush();
}

/// Runs `make(i)` for every `i < total` with `concurrency` at once, each on a task of its own (so the
/// work before and after the store runs on every core, and SQLite's group commit has company), with a
/// progress line.
async fn fill<F, Fut>(what: &str, total: u64, concurrency: usize, make: F) -> anyhow::Result<Vec<i64>>
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = anyhow::Result<(u64, i64)>> + Send + 'static,
{
    let started = Instant::now();
    let mut ids = vec![0; usize::try_from(total)?];
    let mut done = 0u64;
    let mut last = Instant::now();
    let mut results =
        futures::stream::iter(0..total).map(|i| tokio::spawn(make(i))).buffer_unordered(concurrency.max(1));
    while let Some(joined) = results.next().await {
        let (i, id) = joined??;
        ids[usize::try_from(i)?] = id;
        done += 1;
        if last.elapsed().as_millis() >= 500 || done == total {
            progress(what, done, total, started);
            last = Instant::now();
        }
    }
    eprintln!("in {:.1} s", started.elapsed().as_secs_f64());
    Ok(ids)
}

/// Seeds `orders` orders into the database at `url` (which must hold no loadbench data yet) and prints
/// a new key with every scope on the last line of stdout.
pub async fn run(url: &str, orders: u64, concurrency: Option<usize>) -> anyhow::Result<()> {
    let store = Store::open(url).await.context("open the database")?;
    if store.meta("loadbench").await?.is_some() {
        anyhow::bail!("this database is already seeded; give a fresh one");
    }
    let concurrency = concurrency.unwrap_or(match store.backend() {
        // SQLite commits every write waiting for the writer together: with 64 in flight instead of
        // 16 a commit carries about four times as many orders, and 100,000 seed ≈ 1.8× as fast.
        Backend::Sqlite => 64,
        Backend::Postgres => 16,
    });
    let zone = Zone::named("Europe/Moscow").map_err(anyhow::Error::msg)?;
    let now = torg_domain::time::now();
    for (i, (code, _)) in SITES.iter().enumerate().skip(1) {
        let site = Site {
            id: 0,
            code: (*code).into(),
            name: format!("Магазин {code}"),
            url: Some(format!("https://{code}.example")),
            ordering: i as i64 + 1,
            attrs: obj(json!({"currency": "RUB", "countryIso": "RU"})),
        };
        store.upsert_site(&site).await?;
    }
    for n in 1..=OFFERS {
        let (name, brand, _) = PARTS[(n - 1) % PARTS.len()];
        let price = rust_decimal::Decimal::from(offer_price(n));
        store
            .create_offer(&Offer {
                external_id: Some(format!("sku-{n}")),
                name: format!("{name} {brand} v{}", (n - 1) / PARTS.len() + 1),
                article: Some(format!("ART-{n:04}")),
                price,
                purchase_price: Some(price * rust_decimal::Decimal::new(7, 1)),
                active: true,
                ..Offer::default()
            })
            .await?;
    }
    let customer_count = (orders / 20).max(1);
    let customers = fill("customers", customer_count, concurrency, |i| {
        let store = store.clone();
        async move {
            let doc = json!({
                "externalId": format!("c{i}"),
                "firstName": FIRST[(i % 10) as usize],
                "lastName": LAST[(i / 10 % 10) as usize],
                "email": format!("buyer{i}@bench.example"),
                "phones": [{"number": format!("+7 (9{:02}) {:03}-{:02}-{:02}", 10 + i % 90, i % 1000, i % 97, i % 89)}],
                "address": {"city": CITIES[(i % CITIES.len() as u64) as usize], "countryIso": "RU"},
            });
            let c = store.create_customer(customer_site(i), &obj(doc), Actor::Code).await?;
            Ok((i, c.id))
        }
    })
    .await?;
    fill("orders", orders, concurrency, |i| {
        let store = store.clone();
        let (site, doc) = order_doc(i, &customers, now, &zone);
        let zone = zone.clone();
        async move {
            let o = store.create_order(&site, &doc, Actor::Code, &zone).await?;
            Ok((i, o.id))
        }
    })
    .await?;
    let plain = format!("bench-{:032x}", rand::rng().random::<u128>());
    let key = store
        .create_key(NewKey {
            plain: plain.clone(),
            name: format!("loadbench {}", key_suffix(&plain)),
            scopes: ALL_SCOPES.iter().map(|s| (*s).to_string()).collect(),
            sites: SiteAccess::Full,
            allowed_ips: Vec::new(),
            customer_external_id: None,
            distributor: None,
        })
        .await?;
    store.meta_init("loadbench", &orders.to_string()).await?;
    store.close().await;
    println!("seeded {orders} orders and {customer_count} customers; key {} has every scope", key.id);
    println!("{plain}");
    Ok(())
}

fn key_suffix(plain: &str) -> &str {
    &plain[plain.len().saturating_sub(6)..]
}
