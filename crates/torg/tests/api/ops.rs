//! Running torg as a service: metrics on their own listener (parsed as Prometheus text after real
//! requests), request ids followed from request to JSON log line, logs free of keys, personal data and
//! colour codes, the health probes, and SIGTERM: requests in flight finish, the process exits 0. The
//! real binary, on both engines.

use crate::common::{Backend, fresh_database, spawn_with};
use serde_json::Value;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};
use torg_store::Store;

const KEY: &str = "ops-key-0123456789abcdefghijklmnopq";
const KEY_NAME: &str = "ops reader";

/// `torg serve` with stderr in a file; SIGKILLed on drop if still running.
struct Server {
    child: Child,
    base: String,
    metrics: Option<String>,
    log: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Starts `torg serve --database URL --listen 127.0.0.1:0` with `extra` arguments and a config
    /// file holding `config`, after giving the database a key named [`KEY_NAME`].
    async fn start(database: &str, config: &str, extra: &[&str]) -> Server {
        let store = Store::open(database).await.expect("store");
        crate::common::full_key(&store, KEY, KEY_NAME).await;
        store.close().await;
        let dir = tempfile::tempdir().expect("temp dir");
        let config_path = dir.path().join("torg.toml");
        std::fs::write(&config_path, config).expect("config");
        let log = dir.path().join("stderr.log");
        let config_arg = config_path.to_string_lossy().into_owned();
        let mut args = vec!["serve", "--database", database, "--listen", "127.0.0.1:0", "--config", &config_arg];
        args.extend_from_slice(extra);
        let mut child = Command::new(env!("CARGO_BIN_EXE_torg"))
            .args(&args)
            .env_remove("TORG_LOG")
            .env_remove("TORG_LOG_FORMAT")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("start torg");
        let stdout = child.stdout.take().expect("stdout");
        let (mut base, mut metrics) = (None, None);
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("read stdout");
            if let Some(url) = line.strip_prefix("torg metrics on ") {
                metrics = Some(url.trim().to_string());
            }
            if let Some(url) = line.strip_prefix("torg listening on ") {
                base = Some(url.trim().to_string());
                break;
            }
        }
        Server { child, base: base.expect("torg printed its address"), metrics, log, _dir: dir }
    }

    fn signal(&self, name: &str) {
        let ok = Command::new("kill").args([&format!("-{name}"), &self.child.id().to_string()]).status();
        assert!(ok.is_ok_and(|s| s.success()), "kill -{name}");
    }

    /// Waits up to `limit` for the process to end.
    fn wait(&mut self, limit: Duration) -> ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(started.elapsed() < limit, "torg still runs {limit:?} after the signal");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).expect("log")
    }

    fn port(&self) -> u16 {
        self.base.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One sample of the Prometheus text format: name, labels, value.
type Sample = (String, HashMap<String, String>, f64);

/// Parses Prometheus text exposition (format 0.0.4) strictly: every line is a `# HELP`/`# TYPE`
/// comment or `name{label="value",…} number`; anything else fails the test. Hand-written: the parser
/// crates on crates.io bring chrono and regex for what a test needs in forty lines.
fn parse_prometheus(text: &str) -> Vec<Sample> {
    let mut samples = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        if let Some(comment) = line.strip_prefix("# ") {
            assert!(comment.starts_with("HELP ") || comment.starts_with("TYPE "), "comment: {line}");
            continue;
        }
        let name_end = line.find(['{', ' ']).unwrap_or_else(|| panic!("no value: {line}"));
        let name = &line[..name_end];
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "metric name: {line}"
        );
        let mut labels = HashMap::new();
        let mut rest = &line[name_end..];
        if let Some(inner) = rest.strip_prefix('{') {
            let mut chars = inner.char_indices();
            let mut end = None;
            loop {
                // label="value", with \" \\ \n escapes in the value
                let Some((start, c)) = chars.next() else { panic!("unclosed labels: {line}") };
                if c == '}' {
                    end = Some(start + 1);
                    break;
                }
                if c == ',' {
                    continue;
                }
                let eq = inner[start..].find("=\"").unwrap_or_else(|| panic!("label: {line}")) + start;
                let label = inner[start..eq].to_string();
                while chars.next().is_some_and(|(i, _)| i < eq + 1) {}
                let mut value = String::new();
                loop {
                    match chars.next() {
                        Some((_, '\\')) => match chars.next() {
                            Some((_, 'n')) => value.push('\n'),
                            Some((_, c)) => value.push(c),
                            None => panic!("escape: {line}"),
                        },
                        Some((_, '"')) => break,
                        Some((_, c)) => value.push(c),
                        None => panic!("unclosed value: {line}"),
                    }
                }
                labels.insert(label, value);
                if end.is_some() {
                    break;
                }
            }
            rest = &inner[end.expect("labels end")..];
        }
        let value = rest.trim();
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("value {v:?}: {line}")),
        };
        samples.push((name.to_string(), labels, value));
    }
    samples
}

/// The sum of the samples named `name` whose labels include `want`.
fn total(samples: &[Sample], name: &str, want: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|(n, labels, _)| n == name && want.iter().all(|(k, v)| labels.get(*k).map(String::as_str) == Some(*v)))
        .map(|s| s.2)
        .sum()
}

async fn metrics_logs_and_request_ids(backend: Backend) {
    let (url, _dir, _pg) = fresh_database(backend).await;
    let mut server =
        Server::start(&url, "rate_per_second = 5\n", &["--metrics-listen", "127.0.0.1:0", "--log-format", "json"])
            .await;
    let http = crate::common::http().timeout(Duration::from_secs(10)).build().expect("client");
    let get = |path: &str| http.get(format!("{}{path}", server.base)).header("X-API-KEY", KEY);

    let r = get("/api/v5/orders").header("X-Request-Id", "ops-trace-42").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-request-id"], "ops-trace-42", "the client's id comes back");
    let r = get("/api/v5/customers/secret.person@example.com?by=externalId").send().await.unwrap();
    assert_eq!(r.status(), 404);
    let generated = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(uuid::Uuid::parse_str(&generated).is_ok(), "a new id when the client sends none: {generated}");
    let r = get("/api/v5/orders").header("X-Request-Id", "bad id with spaces").send().await.unwrap();
    assert_ne!(r.headers()["x-request-id"], "bad id with spaces", "an unusable id is replaced");
    let r = http.get(format!("{}/api/v5/orders?apiKey=wrong-key-value-123", server.base)).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(http.get(format!("{}/metrics", server.base)).send().await.unwrap().status(), 404, "not public");

    // Health probes answer outside the rate limit: more of them than the limit allows.
    for _ in 0..6 {
        assert_eq!(http.get(format!("{}/healthz", server.base)).send().await.unwrap().status(), 200);
    }
    let r = http.get(format!("{}/readyz", server.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!((body["checks"]["database"].as_str(), body["checks"]["migrations"].as_str()), (Some("ok"), Some("ok")));

    // A burst over the limit of 5 a second (4 requests above already count against it).
    let mut refused = 0;
    for _ in 0..8 {
        if get("/api/credentials").send().await.unwrap().status() == 503 {
            refused += 1;
        }
    }
    assert!(refused > 0, "the burst hit the limit");

    let metrics = server.metrics.clone().expect("torg printed its metrics address");
    let r = http.get(&metrics).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let samples = parse_prometheus(&r.text().await.unwrap());
    let orders = [("face", "crm"), ("route", "/api/v5/orders"), ("method", "GET")];
    assert_eq!(total(&samples, "torg_http_requests_total", &[orders[0], orders[1], ("status", "200")]), 2.0);
    assert_eq!(total(&samples, "torg_http_request_duration_seconds_count", &orders), 3.0);
    assert!(total(&samples, "torg_http_request_duration_seconds_sum", &orders) > 0.0);
    let le_inf = [orders[1], ("le", "+Inf")];
    assert_eq!(total(&samples, "torg_http_request_duration_seconds_bucket", &le_inf), 3.0);
    let by_template = [("route", "/api/v5/customers/{externalId}"), ("status", "404")];
    assert_eq!(total(&samples, "torg_http_requests_total", &by_template), 1.0, "labelled by template, not path");
    assert_eq!(total(&samples, "torg_http_requests_total", &[("route", "/healthz")]), 6.0);
    assert_eq!(total(&samples, "torg_rate_limited_total", &[("face", "crm"), ("limit", "api")]), f64::from(refused));
    let engine = if backend == Backend::Sqlite { "sqlite" } else { "postgres" };
    assert!(total(&samples, "torg_db_query_duration_seconds_count", &[("engine", engine), ("op", "fetch")]) > 0.0);
    assert!(total(&samples, "torg_db_connections", &[("engine", engine), ("state", "max")]) > 0.0);
    assert_eq!(total(&samples, "torg_outbox_events", &[("state", "pending")]), 0.0);
    assert!(samples.iter().any(|(n, l, _)| n == "torg_outbox_events" && l["state"] == "given_up"));
    // No orders yet: both lists answered none, kept or read.
    assert_eq!(total(&samples, "torg_shown_orders_total", &[("outcome", "read")]), 0.0);
    assert_eq!(total(&samples, "torg_shown_orders_total", &[("outcome", "kept")]), 0.0);
    assert_eq!(total(&samples, "torg_shown_cache_bytes", &[]), 0.0);
    assert!(samples.iter().any(|(n, _, _)| n == "torg_shown_cache_orders"));
    assert!(samples.iter().any(|(n, _, _)| n == "torg_shown_cache_packed"));
    assert!(samples.iter().any(|(n, l, _)| n == "torg_shown_orders_total" && l["outcome"] == "kept"));
    // The two lists asked the same page with nothing written between them: read, then kept.
    assert_eq!(total(&samples, "torg_kept_pages_total", &[("outcome", "read")]), 1.0);
    assert_eq!(total(&samples, "torg_kept_pages_total", &[("outcome", "kept")]), 1.0);
    assert_eq!(total(&samples, "torg_kept_pages", &[]), 1.0);
    assert!(total(&samples, "torg_kept_pages_bytes", &[]) > 0.0);
    // Nothing was committed between the requests: on SQLite the key's first check read the database
    // and the later ones were kept. On PostgreSQL no key changed: each check's round (one each, the
    // requests came one after another) found the keys' generation its key was read at.
    let key_checks = |outcome| total(&samples, "torg_key_checks_total", &[("outcome", outcome)]);
    let (kept, read) = (key_checks("kept"), key_checks("read"));
    let rounds = total(&samples, "torg_key_check_rounds_total", &[]);
    assert!(kept >= 2.0 && read >= 1.0, "key checks kept {kept}, read {read}");
    if backend == Backend::Sqlite {
        assert!(read >= 2.0, "key checks read {read}");
        assert_eq!(rounds, 0.0);
    } else {
        assert_eq!(rounds, kept + read, "a round for each check");
    }
    assert!(!samples.iter().any(|(_, l, _)| l.values().any(|v| v.contains("secret.person"))), "no paths as labels");

    server.signal("TERM");
    assert!(server.wait(Duration::from_secs(20)).success(), "SIGTERM ends torg with status 0");
    let log = server.log();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("a log line that is not JSON ({e}): {l}")))
        .collect();
    let traced: Vec<&Value> = lines.iter().filter(|l| l["request_id"] == "ops-trace-42").collect();
    assert_eq!(traced.len(), 1, "one line per request:\n{log}");
    let line = traced[0];
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["target"], "torg::request");
    assert_eq!((line["face"].as_str(), line["route"].as_str()), (Some("crm"), Some("/api/v5/orders")));
    assert_eq!((line["method"].as_str(), line["status"].as_u64()), (Some("GET"), Some(200)));
    assert_eq!(line["key"], KEY_NAME, "the key's name");
    assert!(line["latency_ms"].as_f64().is_some_and(|l| l >= 0.0), "{line}");
    assert!(line["timestamp"].is_string());
    let generated_line =
        lines.iter().find(|l| l["request_id"] == generated.as_str()).expect("the generated id is logged");
    assert_eq!(generated_line["route"], "/api/v5/customers/{externalId}");
    let refused_line = lines.iter().find(|l| l["status"] == 403).expect("the refused request is logged");
    assert_eq!(refused_line["key"], "-", "no key name for a refused key");
    assert!(lines.iter().any(|l| l["signal"] == "SIGTERM"), "the stop is logged");
    for secret in [KEY, "wrong-key-value-123", "secret.person", "example.com"] {
        assert!(!log.contains(secret), "{secret} reached the log:\n{log}");
    }
}

#[tokio::test]
async fn metrics_logs_and_request_ids_on_sqlite() {
    metrics_logs_and_request_ids(Backend::Sqlite).await;
}

#[tokio::test]
async fn metrics_logs_and_request_ids_on_postgres() {
    metrics_logs_and_request_ids(Backend::Postgres).await;
}

/// Text logs written to a file carry no terminal colour codes.
#[tokio::test]
async fn text_logs_in_a_file_have_no_colour_codes() {
    let (url, _dir, _pg) = fresh_database(Backend::Sqlite).await;
    let mut server = Server::start(&url, "log_format = \"text\"\n", &[]).await;
    let http = crate::common::http().build().expect("client");
    let r = http
        .get(format!("{}/api/credentials", server.base))
        .header("X-API-KEY", KEY)
        .header("X-Request-Id", "plain-text-7")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    server.signal("INT");
    assert!(server.wait(Duration::from_secs(20)).success(), "SIGINT ends torg with status 0");
    let log = server.log();
    assert!(!log.contains('\u{1b}'), "colour codes in a file:\n{log}");
    let line = log.lines().find(|l| l.contains("request_id=plain-text-7")).unwrap_or_else(|| panic!("{log}"));
    assert!(
        line.contains("route=/api/credentials") && line.contains("status=200") && line.contains(KEY_NAME),
        "{line}"
    );
}

/// Sends the headers of a customer create and half its body; returns the connection and the rest.
fn half_a_request(port: u16, external_id: &str) -> (TcpStream, Vec<u8>) {
    let customer = format!("{{\"externalId\":\"{external_id}\",\"firstName\":\"Slow\"}}");
    let body =
        format!("site=default&customer={}", customer.replace('{', "%7B").replace('}', "%7D").replace('"', "%22"));
    let head = format!(
        "POST /api/v5/customers/create HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-KEY: {KEY}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
    let (first, rest) = body.as_bytes().split_at(body.len() / 2);
    stream.write_all(head.as_bytes()).expect("headers");
    stream.write_all(first).expect("first half");
    (stream, rest.to_vec())
}

async fn sigterm_lets_a_slow_request_finish(backend: Backend) {
    let (url, _dir, _pg) = fresh_database(backend).await;
    let mut server = Server::start(&url, "", &["--shutdown-grace", "20"]).await;
    let (mut stream, rest) = half_a_request(server.port(), "slow-1");
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.signal("TERM");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(server.child.try_wait().expect("wait").is_none(), "torg waits for the request in flight");
    assert!(TcpStream::connect(("127.0.0.1", server.port())).is_err(), "no new connections after SIGTERM");
    stream.write_all(&rest).expect("second half");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("answer");
    assert!(answer.starts_with("HTTP/1.1 201"), "the request in flight was answered: {answer}");
    assert!(server.wait(Duration::from_secs(20)).success(), "exit status 0 after the drain");
    let store = Store::open(&url).await.expect("store");
    let lookup = torg_store::CustomerLookup::ExternalId { site: "default".into(), external_id: "slow-1".into() };
    let found = store.get_customer(&lookup).await.map(|c| c.map(|(c, _)| c.id));
    assert!(matches!(found, Ok(Some(_))), "the slow request's customer is stored: {found:?}");
    store.close().await;
}

#[tokio::test]
async fn sigterm_lets_a_slow_request_finish_on_sqlite() {
    sigterm_lets_a_slow_request_finish(Backend::Sqlite).await;
}

#[tokio::test]
async fn sigterm_lets_a_slow_request_finish_on_postgres() {
    sigterm_lets_a_slow_request_finish(Backend::Postgres).await;
}

/// A request that never completes is cut at the end of the grace period; torg still exits 0.
#[tokio::test]
async fn the_grace_period_bounds_the_drain() {
    let (url, _dir, _pg) = fresh_database(Backend::Sqlite).await;
    let mut server = Server::start(&url, "shutdown_grace_secs = 1\n", &[]).await;
    let (_stream, _) = half_a_request(server.port(), "stuck-1");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    server.signal("TERM");
    assert!(server.wait(Duration::from_secs(10)).success(), "exit status 0");
    assert!(started.elapsed() >= Duration::from_millis(900), "the request got its grace: {:?}", started.elapsed());
    assert!(server.log().contains("cut"), "the cut is logged: {}", server.log());
}

/// `/readyz` checks Redis when torg is configured with it.
#[tokio::test]
async fn readyz_checks_redis_when_configured() {
    let redis = std::env::var("TORG_TEST_REDIS_URL").expect("TORG_TEST_REDIS_URL (scripts/test sets it)");
    let app = spawn_with(Backend::Sqlite, |c| c.redis_url = Some(redis)).await;
    let (status, body) = app.get_raw("/readyz").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["checks"]["redis"], "ok");
    assert_eq!(body["status"], "ready");
}

/// `torg import … --metrics-file` leaves the import's row counts as Prometheus text.
#[tokio::test]
async fn an_import_writes_its_counts_for_the_textfile_collector() {
    let (url, _dir, _pg) = fresh_database(Backend::Sqlite).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let prom = dir.path().join("torg-import.prom");
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/samples/catalogue-with-errors.csv");
    let out = Command::new(env!("CARGO_BIN_EXE_torg"))
        .args(["import", "catalogue", sample, "--database", &url, "--metrics-file"])
        .arg(&prom)
        .output()
        .expect("run torg import");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let summary = stdout.lines().next().expect("summary");
    let counts: Vec<f64> = summary.split(' ').filter_map(|w| w.parse().ok()).collect();
    let samples = parse_prometheus(&std::fs::read_to_string(&prom).expect("the metrics file"));
    let rows = |outcome| total(&samples, "torg_import_rows_total", &[("kind", "catalogue"), ("outcome", outcome)]);
    assert_eq!(vec![rows("loaded"), rows("rejected")], counts, "the file agrees with the summary: {summary}");
    assert!(rows("rejected") > 0.0, "the sample has bad rows");
}
