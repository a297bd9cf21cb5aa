//! Prometheus metrics: the process's recorder, and the listener that serves `/metrics` on an address of
//! its own, never on the public one (the metrics name every route and key-less counts an outsider
//! should not see).
//!
//! Counters and histograms are recorded where things happen (requests in [`crate::observe`], rate
//! refusals, webhook deliveries, database statements in the store); the gauges that describe a state
//! (connection pool, outbox depth) are read when Prometheus scrapes, so they are never stale.

use crate::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use tokio::net::TcpListener;

/// Latency buckets in seconds: from a cached read (0.5 ms) to a slow bulk upload (10 s).
const BUCKETS: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// How often the metrics listener drains the recorder's histogram samples when nobody scrapes.
const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Installs the Prometheus recorder for this process (once; later calls return the same handle) and
/// describes torg's metrics.
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new();
            // Only a bucket list that is empty or not finite is refused, and this one is neither.
            let builder = builder
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("another metrics recorder was installed first; /metrics stays empty");
            }
            describe();
            handle
        })
        .clone()
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!("torg_http_requests_total", "Requests answered, by face, route template, method and status.");
    describe_histogram!(
        "torg_http_request_duration_seconds",
        metrics::Unit::Seconds,
        "Time from a request's arrival to its answer, by face, route template and method."
    );
    describe_counter!("torg_rate_limited_total", "Requests refused by a rate limit, by face and limit.");
    describe_histogram!(
        "torg_db_query_duration_seconds",
        metrics::Unit::Seconds,
        "Time of database statements by engine and operation (fetch, execute, begin: waiting for a connection or the writer, commit)."
    );
    describe_gauge!("torg_db_connections", "Database connections by state (in_use, idle, max); SQLite: readers.");
    describe_gauge!("torg_db_writer_busy", "SQLite: 1 while a transaction holds the writer.");
    describe_gauge!("torg_db_writer_waiting", "SQLite: transactions waiting for the writer.");
    describe_gauge!("torg_outbox_events", "Webhook events in the outbox by state (pending, delivered, given_up).");
    describe_counter!(
        "torg_webhook_deliveries_total",
        "Webhook delivery attempts by outcome (delivered, retry, given_up)."
    );
    describe_counter!("torg_import_rows_total", "Rows of bulk imports by kind and outcome (loaded, rejected).");
    describe_counter!(
        "torg_shown_orders_total",
        "Orders the CRM face answered, by outcome: kept (its kept JSON, the stamp unchanged) or read (read whole)."
    );
    describe_gauge!("torg_shown_cache_orders", "Orders the CRM face keeps as it showed them, rendered or packed.");
    describe_gauge!(
        "torg_shown_cache_packed",
        "Of the orders the CRM face keeps, the ones pushed out of the rendered eighth of shown_cache_bytes and kept packed."
    );
    describe_counter!(
        "torg_kept_pages_total",
        "Pages of orders and orders by id the store looked up by generation, by outcome: kept (no count or page statement) or read."
    );
    describe_gauge!("torg_kept_pages", "Pages of orders and orders by id the store keeps by generation.");
    describe_gauge!("torg_kept_pages_bytes", "What the kept pages weigh against their 16 MB, in bytes.");
    describe_counter!(
        "torg_key_checks_total",
        "API key checks by outcome: kept (SQLite: nothing committed since the same key's last check, no statement) or read."
    );
    describe_gauge!(
        "torg_shown_cache_bytes",
        "What the kept orders weigh against shown_cache_bytes, in bytes: their JSON and each entry's own cost."
    );
}

/// Reads the state gauges, then renders every metric as Prometheus text.
async fn scrape(State((state, handle)): State<(AppState, PrometheusHandle)>) -> Response {
    let pool = state.store.pool_stats();
    for (which, n) in [("in_use", pool.in_use), ("idle", pool.idle), ("max", pool.max)] {
        metrics::gauge!("torg_db_connections", "engine" => pool.engine, "state" => which).set(n as f64);
    }
    if pool.engine == "sqlite" {
        metrics::gauge!("torg_db_writer_busy").set(if pool.writer_busy { 1.0 } else { 0.0 });
        metrics::gauge!("torg_db_writer_waiting").set(pool.waiting as f64);
    }
    let shown = state.shown_orders.stats();
    metrics::counter!("torg_shown_orders_total", "outcome" => "kept").absolute(shown.kept);
    metrics::counter!("torg_shown_orders_total", "outcome" => "read").absolute(shown.read);
    metrics::gauge!("torg_shown_cache_orders").set(shown.orders as f64);
    metrics::gauge!("torg_shown_cache_packed").set(shown.packed as f64);
    metrics::gauge!("torg_shown_cache_bytes").set(shown.bytes as f64);
    let pages = state.store.kept_page_stats();
    metrics::counter!("torg_kept_pages_total", "outcome" => "kept").absolute(pages.kept);
    metrics::counter!("torg_kept_pages_total", "outcome" => "read").absolute(pages.read);
    metrics::gauge!("torg_kept_pages").set(pages.pages as f64);
    metrics::gauge!("torg_kept_pages_bytes").set(pages.bytes as f64);
    let keys = state.store.key_check_stats();
    metrics::counter!("torg_key_checks_total", "outcome" => "kept").absolute(keys.kept);
    metrics::counter!("torg_key_checks_total", "outcome" => "read").absolute(keys.read);
    metrics::counter!("torg_key_check_rounds_total").absolute(keys.rounds);
    match state.store.outbox_counts().await {
        Ok(c) => {
            for (which, n) in [("pending", c.pending), ("delivered", c.delivered), ("given_up", c.given_up)] {
                metrics::gauge!("torg_outbox_events", "state" => which).set(n as f64);
            }
        }
        Err(e) => tracing::warn!(error = %e, "metrics: cannot count the outbox"),
    }
    handle.run_upkeep();
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], handle.render())
        .into_response()
}

/// The metrics listener's router: `/metrics` and nothing else.
pub fn router(state: AppState, handle: PrometheusHandle) -> Router {
    Router::new().route("/metrics", axum::routing::get(scrape)).with_state((state, handle))
}

/// Serves `/metrics` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    handle: PrometheusHandle,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Histogram samples wait in the recorder until something drains them. A scrape does, but nothing
    // promises a scrape (Prometheus down or not yet pointed here), and undrained they grow by a sample
    // per request: the listener drains them itself every few seconds.
    let upkeep = handle.clone();
    let drain = tokio::spawn(async move {
        let mut every = tokio::time::interval(UPKEEP_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            every.tick().await;
            upkeep.run_upkeep();
        }
    });
    let served = axum::serve(listener, router(state, handle)).with_graceful_shutdown(shutdown).await;
    drain.abort();
    served
}
