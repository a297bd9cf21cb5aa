//! The WebSocket gate (`/v3/gate/rpc?token=…`, JSON-RPC 2.0): for listeners without a public address.
//! The server calls `onOrderStatusChange` with the webhook's body for every status change of the
//! key's orders and refunds, one at a time, and moves the key's place in the outbox only when the
//! listener answers with a `result`; so a listener that drops and reconnects gets again what it had
//! not acknowledged, and everything written meanwhile. The server also calls `getStatus` once on
//! connect (the vendor's diagnostic) and answers a listener's own `getStatus`.

use super::BillingErr;
use crate::AppState;
use crate::kit::{Denied, Gate};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade, rejection::WebSocketUpgradeRejection};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::time::Instant;
use torg_domain::key::ApiKey;

/// How often the gate looks for new events.
const POLL: Duration = Duration::from_millis(200);
/// How old an event must be before the gate hands it out: a transaction that took an earlier id but
/// committed later is visible by then, so the cursor never steps over it.
const SETTLE_MS: i64 = 1_000;
/// When an unacknowledged notification is sent again within a connection.
const RESEND: Duration = Duration::from_secs(30);
/// When a notification the listener answered with an error is sent again.
const RETRY: Duration = Duration::from_secs(5);

/// `GET /v3/gate/rpc?token=…`: upgrades to a WebSocket for a key with the `billing` scope.
pub async fn rpc(
    State(state): State<AppState>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    req: Request,
) -> Response {
    let refuse = |e: Denied| match e {
        Denied::Scope(s) => BillingErr::forbidden(&format!("The key lacks the '{s}' scope.")).into_response(),
        Denied::Address => BillingErr::forbidden("This key may not be used from your address.").into_response(),
        Denied::Failed(e) => BillingErr::from(e).into_response(),
        _ => BillingErr::unauthorized().into_response(),
    };
    let gate = match Gate::of(req.extensions()) {
        Ok(g) => g,
        Err(e) => return refuse(e),
    };
    let query = req.uri().query().unwrap_or("");
    let token = crate::params::pairs(query.as_bytes()).into_iter().find(|(k, _)| k == "token").map(|(_, v)| v);
    let admitted = match gate.admit(&state, token.as_deref(), crate::client_ip(&req)).await {
        Ok(Some(a)) => a,
        Ok(None) => return BillingErr::unauthorized().into_response(),
        Err(e) => return refuse(e),
    };
    let ws = match ws {
        Ok(ws) => ws,
        Err(_) => {
            return BillingErr::new(
                StatusCode::BAD_REQUEST,
                "invalid_argument",
                "This is a WebSocket endpoint: connect with an Upgrade: websocket request.",
            )
            .into_response();
        }
    };
    ws.on_upgrade(move |socket| session(state, admitted.key, admitted.sites, socket))
}

/// A notification sent and not yet acknowledged.
struct InFlight {
    event: i64,
    send_again_at: Instant,
}

/// One listener's connection.
struct Session {
    state: AppState,
    key: std::sync::Arc<ApiKey>,
    sites: Vec<String>,
    cursor: i64,
    in_flight: Option<InFlight>,
}

async fn session(state: AppState, key: std::sync::Arc<ApiKey>, sites: Vec<String>, mut socket: WebSocket) {
    let cursor = match state.store.gate_cursor(key.id).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            // A listener's first connection starts from now; from then on nothing is skipped.
            let last = state.store.last_event_id().await.unwrap_or(0);
            if let Err(e) = state.store.set_gate_cursor(key.id, last).await {
                tracing::warn!(error = %e, "gate cannot record a listener's start");
            }
            last
        }
        Err(e) => {
            tracing::warn!(error = %e, "gate cannot read a listener's place");
            return;
        }
    };
    let mut s = Session { state, key, sites, cursor, in_flight: None };
    let probe = json!({"jsonrpc": "2.0", "id": "status", "method": "getStatus", "params": {"logQuantity": 40}});
    if socket.send(Message::Text(probe.to_string().into())).await.is_err() {
        return;
    }
    let mut tick = tokio::time::interval(POLL);
    loop {
        tokio::select! {
            msg = socket.recv() => match msg {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                Some(Ok(Message::Text(text))) => {
                    if let Some(reply) = s.handle(text.as_str()).await
                        && socket.send(Message::Text(reply.to_string().into())).await.is_err()
                    {
                        break;
                    }
                }
                // Pings are answered by the WebSocket layer; binary frames mean nothing here.
                Some(Ok(_)) => {}
            },
            _ = tick.tick() => {
                if let Some(call) = s.next_call().await
                    && socket.send(Message::Text(call.to_string().into())).await.is_err()
                {
                    break;
                }
            }
        }
    }
}

fn rpc_error(id: Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

impl Session {
    /// The next `onOrderStatusChange` call due, if any.
    async fn next_call(&mut self) -> Option<Value> {
        if self.in_flight.as_ref().is_some_and(|f| Instant::now() < f.send_again_at) {
            return None;
        }
        let events = match self.state.store.events_after(self.cursor, &self.sites, SETTLE_MS, 1).await {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(error = %e, "gate cannot read the outbox");
                return None;
            }
        };
        let event = events.into_iter().next()?;
        match crate::webhooks::notification(&self.state, &event).await {
            Ok(Some(n)) => {
                self.in_flight = Some(InFlight { event: event.id, send_again_at: Instant::now() + RESEND });
                Some(json!({
                    "jsonrpc": "2.0",
                    "id": event.id.to_string(),
                    "method": "onOrderStatusChange",
                    "params": [n.body],
                }))
            }
            // What the event was about is gone: nothing to say, move on.
            Ok(None) => {
                self.acknowledge(event.id).await;
                None
            }
            Err(e) => {
                tracing::warn!(error = %e, event = event.id, "gate cannot render a notification");
                None
            }
        }
    }

    async fn acknowledge(&mut self, event: i64) {
        self.cursor = self.cursor.max(event);
        self.in_flight = None;
        if let Err(e) = self.state.store.set_gate_cursor(self.key.id, self.cursor).await {
            tracing::warn!(error = %e, "gate cannot record an acknowledgement");
        }
    }

    /// A frame from the listener: an answer to one of our calls, or a call of its own.
    async fn handle(&mut self, text: &str) -> Option<Value> {
        let Ok(msg) = serde_json::from_str::<Value>(text) else {
            return Some(rpc_error(Value::Null, -32700, "Parse error: not JSON."));
        };
        let id = msg.get("id").cloned().unwrap_or(Value::Null);
        if let Some(method) = msg.get("method").and_then(Value::as_str) {
            if id.is_null() {
                return None;
            }
            return Some(match method {
                "getStatus" => json!({"jsonrpc": "2.0", "id": id, "result": self.status()}),
                other => rpc_error(id, -32601, &format!("Method not found: {other}.")),
            });
        }
        if msg.get("result").is_none() && msg.get("error").is_none() {
            return Some(rpc_error(id, -32600, "Invalid request: neither a call nor an answer."));
        }
        if id == json!("status") {
            tracing::info!(key = self.key.id, answer = %msg, "gate listener status");
            return None;
        }
        let answered = match &id {
            Value::String(s) => s.parse::<i64>().ok(),
            Value::Number(n) => n.as_i64(),
            _ => None,
        };
        // An answer to anything but the call in flight (a late duplicate) changes nothing.
        let event = answered.filter(|e| self.in_flight.as_ref().is_some_and(|f| f.event == *e))?;
        if msg.get("result").is_some() {
            self.acknowledge(event).await;
        } else if let Some(f) = self.in_flight.as_mut() {
            tracing::info!(key = self.key.id, event, answer = %msg, "gate listener failed a notification");
            f.send_again_at = Instant::now() + RETRY;
        }
        None
    }

    fn status(&self) -> Value {
        json!({
            "version": env!("CARGO_PKG_VERSION"),
            "type": "gate",
            "settings": {"sites": self.sites},
            "log": [
                format!("acknowledged up to event {}", self.cursor),
                match &self.in_flight {
                    Some(f) => format!("event {} sent, awaiting an answer", f.event),
                    None => "nothing awaiting an answer".to_string(),
                },
            ],
        })
    }
}
