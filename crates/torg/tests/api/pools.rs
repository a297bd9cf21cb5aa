//! More requests at once than the store has connections: every one is answered, none waits for a
//! connection another request holds while that request waits for one too. A list once held its read
//! snapshot while building its filter, which read the reference books through a second connection;
//! under load every PostgreSQL connection was held by a request waiting for another, and the pool
//! starved until its acquire timeout turned the wait into a 500 (the benchmark's filtered list stalled).

use crate::common::{TestApp, both};
use futures::future::join_all;
use serde_json::json;

/// Four times the larger pool (PostgreSQL's 16 connections; SQLite has 8 readers).
const AT_ONCE: usize = 64;

both!(more_requests_than_connections, |app: TestApp| async move {
    let mut ids = Vec::new();
    for i in 0..6 {
        let order = json!({"externalId": format!("p-{i}"), "firstName": format!("Buyer {i}"),
                           "status": if i % 2 == 0 { "new" } else { "complete" }});
        let (s, b) = app.post("/api/v5/orders/create", &[("order", &order.to_string()), ("site", "default")]).await;
        assert_eq!(s, 201, "{b}");
        ids.push(b["id"].as_i64().expect("id"));
    }
    // A burst of one kind that reads the books (the status group) beside the orders…
    let filtered = "/api/v5/orders?filter%5BextendedStatus%5D%5B%5D=new&limit=20";
    let replies = join_all((0..AT_ONCE).map(|_| app.get(filtered))).await;
    for (status, body) in &replies {
        assert_eq!(*status, 200, "{body}");
        assert_eq!(body["pagination"]["totalCount"], 3, "{body}");
    }
    // …and of several kinds, each of which reads the books (status groups, the bonuses of a page) as
    // well as the orders.
    let paths: Vec<String> = (0..AT_ONCE)
        .map(|i| match i % 4 {
            0 => "/api/v5/orders?filter%5BextendedStatus%5D%5B%5D=new&limit=20".to_string(),
            1 => "/api/v5/orders?limit=20".to_string(),
            2 => format!("/api/v5/orders/{}?by=id", ids[i % ids.len()]),
            _ => "/api/v5/customers?limit=20".to_string(),
        })
        .collect();
    let replies = join_all(paths.iter().map(|p| app.get(p))).await;
    for (path, (status, body)) in paths.iter().zip(&replies) {
        assert_eq!(*status, 200, "{path}: {body}");
        if path.contains("extendedStatus") {
            assert_eq!(body["pagination"]["totalCount"], 3, "{path}: {body}");
        }
    }
    // Writes and reads together.
    let app = &app;
    let creates = (0..AT_ONCE / 4).map(|i| {
        let order = json!({"externalId": format!("q-{i}"), "firstName": "Later"});
        async move { app.post("/api/v5/orders/create", &[("order", &order.to_string()), ("site", "default")]).await }
    });
    let (written, read) = futures::join!(join_all(creates), join_all(paths.iter().map(|p| app.get(p))));
    assert!(written.iter().all(|(s, _)| *s == 201), "{written:?}");
    assert!(read.iter().all(|(s, _)| *s == 200), "{read:?}");
    let (_, b) = app.get("/api/v5/orders?limit=20").await;
    assert_eq!(b["pagination"]["totalCount"], 6 + AT_ONCE / 4);
});
