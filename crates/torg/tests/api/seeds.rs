//! Every example request of RetailCRM's API rules page (Russian and English), run verbatim against
//! `torg demo` with only the host changed.

use crate::common::{Backend, fresh_database};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A `torg demo` process; killed on drop.
pub struct Demo {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the real binary: `torg demo --database URL --listen 127.0.0.1:0`.
pub fn start_demo(database: &str) -> Demo {
    start(&["demo", "--database", database, "--listen", "127.0.0.1:0"])
}

/// Starts the real binary with `args` (which listen on port 0) and waits for the address it prints.
pub fn start(args: &[&str]) -> Demo {
    let mut child = Command::new(env!("CARGO_BIN_EXE_torg"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start torg");
    let stdout = child.stdout.take().expect("stdout");
    let mut base = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("read stdout");
        if let Some(url) = line.strip_prefix("torg listening on ") {
            base = Some(url.trim().to_string());
            break;
        }
    }
    Demo { child, base: base.expect("torg printed its address") }
}

const KEY: &str = "X2EDxEta9U3lcsSV0dwdF38UvtSCxIuGh";

async fn run_seed_examples(backend: Backend) {
    let (url, _dir, pg) = fresh_database(backend).await;
    let demo = start_demo(&url);
    let http = crate::common::http().build().unwrap();
    // https://demo.retailcrm.ru/api/v5/orders?apiKey=…
    let r = http.get(format!("{}/api/v5/orders?apiKey={KEY}", demo.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let b: serde_json::Value = r.json().await.unwrap();
    assert_eq!(b["success"], true);
    assert!(b["pagination"]["totalCount"].as_u64().unwrap() >= 20);
    // The same key in the X-API-KEY header.
    let r = http.get(format!("{}/api/v5/orders", demo.base)).header("X-API-KEY", KEY).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // …/api/v5/orders?filter[numbers][]=1235C&filter[customFields][nps][min]=5&apiKey=…
    let url =
        format!("{}/api/v5/orders?filter[numbers][]=1235C&filter[customFields][nps][min]=5&apiKey={KEY}", demo.base);
    let b: serde_json::Value = http.get(url).send().await.unwrap().json().await.unwrap();
    assert_eq!(b["success"], true, "{b}");
    assert_eq!(b["orders"][0]["number"], "1235C");
    assert!(b["orders"][0]["customFields"]["nps"].as_i64().unwrap() >= 5);
    // POST site=simple-site&order=%7B%22externalId%22%3A%22a123%22%2C%22firstName%22%3A%22Tom%22%7D
    let body = "site=simple-site&order=%7B%22externalId%22%3A%22a123%22%2C%22firstName%22%3A%22Tom%22%7D";
    let r = http
        .post(format!("{}/api/v5/orders/create", demo.base))
        .header("X-API-KEY", KEY)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let b: serde_json::Value = r.json().await.unwrap();
    assert_eq!(b["order"]["externalId"], "a123");
    assert_eq!(b["order"]["firstName"], "Tom");
    assert_eq!(b["order"]["site"], "simple-site");
    drop(demo);
    drop(pg);
}

#[tokio::test]
async fn seed_examples_run_against_demo_on_sqlite() {
    run_seed_examples(Backend::Sqlite).await;
}

#[tokio::test]
async fn seed_examples_run_against_demo_on_postgres() {
    run_seed_examples(Backend::Postgres).await;
}
