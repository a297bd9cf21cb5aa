//! The billing face's WebSocket gate (JSON-RPC 2.0), driven through a WebSocket client: the server
//! calls `onOrderStatusChange` with the webhook's body, a listener that drops misses nothing it had not
//! acknowledged, and `getStatus` both ways.

use crate::billing_shipments::pay_on_page_as;
use crate::billing_support::{call, create, invoice_body, line, merchant};
use crate::common::{TestApp, both};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(app: &TestApp) -> Socket {
    let url = format!("ws://{}/v3/gate/rpc?token={}", app.addr, app.key);
    let (ws, _) = tokio_tungstenite::connect_async(url).await.expect("gate");
    ws
}

/// The next JSON-RPC frame within `wait`, skipping (and answering) the server's `getStatus` probe.
async fn next(ws: &mut Socket, wait: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let frame = tokio::time::timeout_at(deadline, ws.next()).await.ok()??.expect("frame");
        let Message::Text(text) = frame else { continue };
        let v: Value = serde_json::from_str(text.as_str()).expect("JSON");
        if v["method"] == "getStatus" {
            let answer = json!({"jsonrpc": "2.0", "id": v["id"], "result": {"version": "test", "type": "listener"}});
            ws.send(Message::Text(answer.to_string().into())).await.unwrap();
            continue;
        }
        return Some(v);
    }
}

async fn ack(ws: &mut Socket, call: &Value) {
    let answer = json!({"jsonrpc": "2.0", "id": call["id"], "result": {"status": "success"}});
    ws.send(Message::Text(answer.to_string().into())).await.unwrap();
}

/// The order a notification is about.
fn about(call: &Value) -> (String, String) {
    assert_eq!((&call["jsonrpc"], &call["method"]), (&json!("2.0"), &json!("onOrderStatusChange")), "{call}");
    let n = &call["params"][0];
    (n["id"].as_str().unwrap().to_string(), n["status"].as_str().unwrap().to_string())
}

async fn paid_invoice(app: &TestApp, merchant_order_id: &str) -> String {
    let inv = create(app, &invoice_body(merchant_order_id, &[line("A", "100", 1)])).await;
    pay_on_page_as(app, inv["paymentUrl"].as_str().unwrap(), "now").await;
    inv["id"].as_str().unwrap().to_string()
}

both!(gate_delivers_and_resumes, |app: TestApp| async move {
    merchant(&app, None).await;
    // Wrong tokens and plain HTTP are refused.
    let bad = format!("ws://{}/v3/gate/rpc?token=ffffffffffffffffffffffffffffffff", app.addr);
    assert!(tokio_tungstenite::connect_async(bad).await.is_err());
    let (s, b) = call(&app, "GET", &format!("/v3/gate/rpc?token={}", app.key), None).await;
    assert_eq!((s.as_u16(), b["error"]["code"].clone()), (400, json!("invalid_argument")), "{b}");
    let mut ws = connect(&app).await;
    // The listener asks the gate's status.
    ws.send(Message::Text(json!({"jsonrpc": "2.0", "id": 7, "method": "getStatus"}).to_string().into())).await.unwrap();
    let status = next(&mut ws, Duration::from_secs(5)).await.expect("status");
    assert_eq!((&status["id"], &status["result"]["type"]), (&json!(7), &json!("gate")), "{status}");
    ws.send(Message::Text(json!({"jsonrpc": "2.0", "id": 8, "method": "nope"}).to_string().into())).await.unwrap();
    let unknown = next(&mut ws, Duration::from_secs(5)).await.expect("error");
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");
    // A payment is announced with the webhook's body.
    let first = paid_invoice(&app, "gate-1").await;
    let call1 = next(&mut ws, Duration::from_secs(10)).await.expect("notification");
    assert_eq!(about(&call1), (first.clone(), "completed".to_string()));
    assert_eq!(call1["params"][0]["merchantOrderId"], "gate-1");
    ack(&mut ws, &call1).await;
    // The next one is not acknowledged before the listener drops; a third comes while it is away.
    let second = paid_invoice(&app, "gate-2").await;
    let call2 = next(&mut ws, Duration::from_secs(10)).await.expect("notification");
    assert_eq!(about(&call2).0, second);
    ws.close(None).await.unwrap();
    drop(ws);
    let third = paid_invoice(&app, "gate-3").await;
    // Back again: the unacknowledged one first, then what happened meanwhile, in order.
    let mut ws = connect(&app).await;
    let again = next(&mut ws, Duration::from_secs(10)).await.expect("resent");
    assert_eq!(about(&again), (second.clone(), "completed".to_string()));
    ack(&mut ws, &again).await;
    let call3 = next(&mut ws, Duration::from_secs(10)).await.expect("missed one");
    assert_eq!(about(&call3).0, third);
    // A listener that fails a call gets it again a little later; a result settles it.
    let failed = json!({"jsonrpc": "2.0", "id": call3["id"], "error": {"code": 1, "message": "busy"}});
    ws.send(Message::Text(failed.to_string().into())).await.unwrap();
    let retried = next(&mut ws, Duration::from_secs(10)).await.expect("retried");
    assert_eq!((&retried["id"], about(&retried).0), (&call3["id"], third.clone()));
    ack(&mut ws, &retried).await;
    // Cancels are status changes too.
    let inv = create(&app, &invoice_body("gate-4", &[line("A", "100", 1)])).await;
    let id4 = inv["id"].as_str().unwrap().to_string();
    let (s, _) = call(&app, "DELETE", &format!("/v3/billing/api/order/order/{id4}"), None).await;
    assert_eq!(s, 200);
    let call4 = next(&mut ws, Duration::from_secs(10)).await.expect("cancel");
    assert_eq!(about(&call4), (id4, "canceled".to_string()));
    ack(&mut ws, &call4).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    ws.close(None).await.unwrap();
    // Everything was acknowledged: a new connection has nothing to say.
    let mut ws = connect(&app).await;
    assert!(next(&mut ws, Duration::from_millis(2500)).await.is_none());
});
