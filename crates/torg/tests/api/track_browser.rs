//! `/track` in a real browser: Debian's `chromium`, headless, driven over the DevTools protocol (a small
//! client over tokio-tungstenite: no WebDriver download is possible here). It types an order number
//! into the field, submits the form, and reads the five fields; and the same for an unknown number.
//! Without chromium the test fails (scripts/services installs it).

use crate::common::{Backend, spawn};
use crate::track::tracked_order;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// A headless chromium, killed on drop.
struct Browser {
    child: Child,
    port: u16,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn launch() -> Browser {
    let profile = tempfile::tempdir().expect("profile dir");
    let mut child = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            "--remote-debugging-port=0",
            "--remote-debugging-address=127.0.0.1",
            "--window-size=420,800",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("about:blank")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium must be installed (scripts/services installs Debian's chromium)");
    let stderr = child.stderr.take().expect("stderr");
    let mut port = None;
    for line in BufReader::new(stderr).lines() {
        let line = line.expect("chromium stderr");
        if let Some(rest) = line.strip_prefix("DevTools listening on ws://127.0.0.1:") {
            port = rest.split('/').next().and_then(|p| p.parse().ok());
            break;
        }
    }
    Browser { child, port: port.expect("chromium printed its DevTools address"), _profile: profile }
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// One page's DevTools session.
struct Page {
    ws: Socket,
    next: u64,
    events: Vec<Value>,
}

impl Page {
    async fn open(browser: &Browser) -> Page {
        let list: Value = reqwest::get(format!("http://127.0.0.1:{}/json/list", browser.port))
            .await
            .expect("DevTools HTTP")
            .json()
            .await
            .expect("target list");
        let url = list
            .as_array()
            .and_then(|l| l.iter().find(|t| t["type"] == "page"))
            .and_then(|t| t["webSocketDebuggerUrl"].as_str())
            .expect("a page target")
            .to_string();
        let (ws, _) = tokio_tungstenite::connect_async(url).await.expect("DevTools websocket");
        let mut page = Page { ws, next: 0, events: Vec::new() };
        page.send("Page.enable", json!({})).await;
        page
    }

    async fn read(&mut self) -> Value {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(30), self.ws.next())
                .await
                .expect("chromium answered within 30 s")
                .expect("websocket open")
                .expect("websocket message");
            if let Message::Text(t) = msg {
                return serde_json::from_str(&t).expect("CDP JSON");
            }
        }
    }

    async fn send(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        let msg = json!({"id": id, "method": method, "params": params}).to_string();
        self.ws.send(Message::Text(msg.into())).await.expect("send CDP");
        loop {
            let v = self.read().await;
            if v["id"] == id {
                assert!(v.get("error").is_none(), "{method}: {v}");
                return v["result"].clone();
            }
            self.events.push(v);
        }
    }

    async fn wait_event(&mut self, method: &str) {
        if let Some(i) = self.events.iter().position(|e| e["method"] == method) {
            self.events.drain(..=i);
            return;
        }
        loop {
            let v = self.read().await;
            if v["method"] == method {
                self.events.clear();
                return;
            }
        }
    }

    async fn eval(&mut self, expression: &str) -> Value {
        let r = self.send("Runtime.evaluate", json!({"expression": expression, "returnByValue": true})).await;
        r["result"]["value"].clone()
    }

    async fn goto(&mut self, url: &str) {
        self.events.clear();
        self.send("Page.navigate", json!({"url": url})).await;
        self.wait_event("Page.loadEventFired").await;
    }

    /// Types into the number field as a user would, then submits with the button or the Enter key.
    async fn type_and_submit(&mut self, text: &str, with_enter: bool) {
        self.eval("document.getElementById('number').focus()").await;
        self.send("Input.insertText", json!({"text": text})).await;
        self.events.clear();
        if with_enter {
            for kind in ["keyDown", "keyUp"] {
                let key =
                    json!({"type": kind, "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13, "text": "\r"});
                self.send("Input.dispatchKeyEvent", key).await;
            }
        } else {
            self.eval("document.querySelector('button[type=submit]').click()").await;
        }
        self.wait_event("Page.loadEventFired").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_types_a_number_and_reads_the_status() {
    let app = spawn(Backend::Sqlite).await;
    let id = tracked_order(&app, "7777B").await;
    let browser = launch();
    let mut page = Page::open(&browser).await;
    page.goto(&format!("{}/track", app.base)).await;
    assert_eq!(page.eval("document.title").await, "Узнать статус заказа");
    assert_eq!(page.eval("document.querySelector('label[for=number]').textContent").await, "Введите номер заказа");
    page.type_and_submit("7777B", false).await;
    let shown = page
        .eval(
            "JSON.stringify({href: location.href, labels: [...document.querySelectorAll('dt')].map(e => e.textContent), \
             values: ['order-id', 'invoice', 'status', 'warehouse', 'tracks'].map(i => document.getElementById(i).textContent)})",
        )
        .await;
    let shown: Value = serde_json::from_str(shown.as_str().expect("a string")).expect("JSON");
    assert!(shown["href"].as_str().unwrap().ends_with("/track?number=7777B"), "{shown}");
    assert_eq!(shown["labels"], json!(["ID заказа", "№ счета", "Статус", "Склад", "Трек-номера"]));
    assert_eq!(shown["values"], json!([id.to_string(), "—", "Передан в доставку", "Склад Тверь", "RA1, CDEK2"]));
    // An unknown number, submitted with the Enter key.
    page.goto(&format!("{}/track", app.base)).await;
    page.type_and_submit("NO-SUCH-1", true).await;
    assert_eq!(page.eval("document.getElementById('not-found').textContent").await, "Заказ не найден");
    assert_eq!(page.eval("document.querySelectorAll('dt').length").await, 0);
    assert_eq!(page.eval("document.getElementById('number').value").await, "NO-SUCH-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_renders_the_api_docs_from_torg_alone() {
    let app = spawn(Backend::Sqlite).await;
    let browser = launch();
    let mut page = Page::open(&browser).await;
    page.goto(&format!("{}/docs", app.base)).await;
    let mut ready = Value::Null;
    for _ in 0..100 {
        ready = page.eval("document.body.getAttribute('data-ready')").await;
        if ready.is_string() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let shown: usize = ready.as_str().expect("the page rendered the document").parse().expect("a count");
    let documented = torg_http::kit::all_routes().iter().filter(|(_, r)| r.documented).count();
    assert_eq!(shown, documented, "every documented operation is on the page");
    let orders = page.eval("document.querySelector('[data-operation=list_orders]').textContent").await;
    let orders = orders.as_str().expect("list_orders is shown");
    assert!(orders.contains("/api/v5/orders") && orders.contains("order_read") && orders.contains("limit"), "{orders}");
    let external = page
        .eval("performance.getEntriesByType('resource').filter(e => !e.name.startsWith(location.origin)).length")
        .await;
    assert_eq!(external, 0, "nothing fetched from elsewhere");
    page.eval("const s = document.getElementById('search'); s.value = 'packs'; s.dispatchEvent(new Event('input'))")
        .await;
    let visible = page
        .eval("[...document.querySelectorAll('details.operation')].filter(d => !d.classList.contains('hidden')).length")
        .await;
    assert!(
        visible.as_u64().is_some_and(|n| (6..documented as u64).contains(&n)),
        "the filter narrows the list: {visible}"
    );
}
