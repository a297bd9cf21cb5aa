//! `crm`: the CRM's reads timed one at a time in this process, stage by stage, against a seeded
//! database: the store alone, then torg's whole router without a socket, next to a bare axum router
//! called the same way in the same run. With no sockets, threads or wrk in the way, the ratio between
//! the bare router and torg's is the CPU cost of torg's own work per request, and `perf record` on this
//! command sees only that work. `criterion` was not used: its statistics need many short iterations on
//! a fixture it builds itself, and what matters here is the 100,000-order database `scripts/bench`
//! seeds, read at random places.

use anyhow::Context;
use axum::Router;
use axum::body::Body;
use axum::http::Request;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::{Duration, Instant};
use torg_domain::page::PageRequest;
use torg_store::{OrderFilter, OrderLookup, Store};
use tower::ServiceExt;

/// Times of one stage, reported as percentiles and as a rate one at a time.
struct Stage {
    name: &'static str,
    times: Vec<Duration>,
    bytes: usize,
}

impl Stage {
    fn new(name: &'static str) -> Stage {
        Stage { name, times: Vec::new(), bytes: 0 }
    }

    fn mean(&self) -> f64 {
        let total: Duration = self.times.iter().sum();
        total.as_secs_f64() / self.times.len().max(1) as f64
    }

    fn report(&mut self, bare: f64) {
        self.times.sort();
        let n = self.times.len().max(1);
        let pick = |q: f64| self.times[((n as f64 * q) as usize).min(n - 1)].as_secs_f64() * 1e6;
        let mean = self.mean();
        println!(
            "{:<22} {:>6}  p50 {:>9.1} µs  p99 {:>9.1} µs  mean {:>9.1} µs  {:>9.0}/s  {:>7.1} % of bare  {:>7} bytes",
            self.name,
            self.times.len(),
            pick(0.50),
            pick(0.99),
            mean * 1e6,
            1.0 / mean,
            bare / mean * 100.0,
            self.bytes / n,
        );
    }
}

/// Runs `requests` of each stage (after as many untimed ones to warm caches) and prints the table.
///
/// With `only`, just the stages whose name contains it run (besides bare), e.g. for `perf record`.
pub async fn measure(
    database: &str,
    key: &str,
    orders: i64,
    requests: usize,
    only: Option<&str>,
) -> anyhow::Result<()> {
    let wanted = |name: &str| only.is_none_or(|o| name.contains(o));
    let store = Store::open(database).await.context("open the database")?;
    let sites: Vec<String> = store.list_sites().await?.into_iter().map(|s| s.code).collect();
    let mut rng = StdRng::seed_from_u64(9);
    let ids: Vec<i64> = (0..requests).map(|_| rng.random_range(1..=orders)).collect();
    let all = OrderFilter { sites, ..OrderFilter::default() };
    let page = PageRequest { limit: 20, page: 1 };

    let bare =
        Router::new().route("/", axum::routing::get(|| async { r#"{"success":true,"bare":"axum"}"# })).with_state(());
    let config = torg_http::HttpConfig { rate_per_second: 0, telephony_rate_per_second: 0, ..Default::default() };
    let state = torg_http::AppState::new(store.clone(), config).await.map_err(anyhow::Error::msg)?;
    let app = torg_http::router(state);
    let filtered = format!(
        "/api/v5/orders?filter%5BextendedStatus%5D%5B%5D=assembling&filter%5BcreatedAtFrom%5D={}&limit=20",
        jiff::Zoned::now().date().checked_sub(jiff::Span::new().days(30))?
    );

    for warm in [true, false] {
        let n = if warm { requests.min(500) } else { requests };
        let ids = &ids[..n];
        let baseline = timed("bare router", ids, async |_| call(&bare, "/", key).await).await?;
        let bare_mean = baseline.mean();
        let mut out = vec![baseline];
        if wanted("store show_order") {
            out.push(
                timed("store show_order", ids, async |id| {
                    let shown = store.show_order(&OrderLookup::Id(id)).await?;
                    anyhow::ensure!(shown.is_some(), "order {id} not found: is the database seeded with {orders}?");
                    Ok(0)
                })
                .await?,
            );
        }
        if wanted("store list page") {
            out.push(
                timed("store list page", ids, async |_| {
                    let (shown, _) = store.list_shown_orders(&all, page).await?;
                    anyhow::ensure!(shown.orders.len() == 20, "the list page has {} orders", shown.orders.len());
                    Ok(0)
                })
                .await?,
            );
        }
        let lists = [
            ("router order by id", None),
            ("router list", Some("/api/v5/orders?limit=20")),
            ("router list filtered", Some(filtered.as_str())),
        ];
        for (name, path) in lists.into_iter().filter(|(name, _)| wanted(name)) {
            out.push(
                timed(name, ids, async |id| {
                    let uri = path.map_or_else(|| format!("/api/v5/orders/{id}?by=id"), str::to_owned);
                    call(&app, &uri, key).await
                })
                .await?,
            );
        }
        if !warm {
            println!("one request at a time in this process; {n} of each; % of bare = bare's mean time / the stage's");
            for s in &mut out {
                s.report(bare_mean);
            }
        }
    }
    Ok(())
}

/// Runs `one` for each of `ids` (a random order each time), timing each call; `one` answers the
/// bytes it got back.
async fn timed(
    name: &'static str,
    ids: &[i64],
    mut one: impl AsyncFnMut(i64) -> anyhow::Result<usize>,
) -> anyhow::Result<Stage> {
    let mut stage = Stage::new(name);
    for &id in ids {
        let started = Instant::now();
        stage.bytes += one(id).await?;
        stage.times.push(started.elapsed());
    }
    Ok(stage)
}

/// One GET through `app` with the key; the answer's length. Anything but 200 is an error.
async fn call(app: &Router, uri: &str, key: &str) -> anyhow::Result<usize> {
    let req = Request::get(uri).header("X-API-KEY", key).body(Body::empty())?;
    let resp = app.clone().oneshot(req).await?;
    let status = resp.status();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX).await?;
    anyhow::ensure!(status == 200, "GET {uri} answered {status}: {}", String::from_utf8_lossy(&body));
    Ok(body.len())
}
