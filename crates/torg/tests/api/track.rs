//! The public order-status page `/track` and its JSON twin `/track/{number}`.

use crate::common::{Backend, TestApp, both, spawn_with};
use crate::office::{Body, call, office_key, shipped_order};
use serde_json::json;

/// An order shipped from a distributor's warehouse with two tracking numbers; returns (id, number).
pub async fn tracked_order(app: &TestApp, number: &str) -> i64 {
    let key = office_key(app, "dist-track").await;
    call(app, &key, "warehouses.add", Body::Json, json!({"data": [{"code": "t1", "name": "Склад Тверь"}]})).await;
    let id = shipped_order(app, "t1", number).await;
    let (_, a) = call(
        app,
        &key,
        "orders.update",
        Body::Json,
        json!({"data": [{"id": id, "status": "send-to-delivery", "track_numbers": ["RA1", "CDEK2"]}]}),
    )
    .await;
    assert_eq!(a["status"]["code"], "ok", "{a}");
    id
}

async fn html(app: &TestApp, path: &str) -> (u16, String, String) {
    let r = app.client.get(format!("{}{path}", app.base)).send().await.expect("send");
    let code = r.status().as_u16();
    let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    (code, ct, r.text().await.expect("body"))
}

both!(page_shows_the_five_fields, |app: TestApp| async move {
    let id = tracked_order(&app, "9001T").await;
    let (code, ct, page) = html(&app, "/track").await;
    assert_eq!(code, 200);
    assert!(ct.starts_with("text/html"), "{ct}");
    assert!(page.contains("<title>Узнать статус заказа</title>"));
    assert!(page.contains("Введите номер заказа"));
    assert!(page.contains("name=\"viewport\""));
    assert!(!page.contains("Заказ не найден"));
    let (_, _, page) = html(&app, "/track?number=9001t").await;
    for label in ["ID заказа", "№ счета", "Статус", "Склад", "Трек-номера"] {
        assert!(page.contains(label), "{label} missing: {page}");
    }
    assert!(page.contains(&format!("<dd id=\"order-id\">{id}</dd>")), "{page}");
    assert!(page.contains("<dd id=\"invoice\">—</dd>"), "{page}");
    assert!(page.contains("<dd id=\"status\">Передан в доставку</dd>"), "{page}");
    assert!(page.contains("<dd id=\"warehouse\">Склад Тверь</dd>"), "{page}");
    assert!(page.contains("<dd id=\"tracks\">RA1, CDEK2</dd>"), "{page}");
    assert!(!page.contains("Анна") && !page.contains("anna@") && !page.contains("79990001122"), "no personal data");
    let (_, _, page) = html(&app, "/track?number=NOPE-1").await;
    assert!(page.contains("Заказ не найден"));
    assert!(!page.contains("ID заказа"));
    // Input is escaped, never markup.
    let (_, _, page) = html(&app, "/track?number=%3Cscript%3Ex%3C%2Fscript%3E").await;
    assert!(!page.contains("<script>"), "{page}");
    assert!(page.contains("script&gt;") || page.contains("script&#62;"), "{page}");
    // Odd input still gets the page.
    for odd in ["/track?number=%FF%FE", "/track?number[]=1", "/track?number="] {
        let (code, ct, page) = html(&app, odd).await;
        assert_eq!(code, 200, "{odd}");
        assert!(ct.starts_with("text/html") && page.contains("Введите номер заказа"), "{odd}");
    }
    // JSON.
    let (s, b) = app.get_raw("/track/9001T").await;
    assert_eq!(s, 200);
    assert_eq!(
        b,
        json!({"id": id, "number": "9001T", "invoice_number": null, "status": "Передан в доставку",
               "status_code": "send-to-delivery", "warehouses": ["Склад Тверь"], "track_numbers": ["RA1", "CDEK2"],
               "delivery_status": null})
    );
    for unknown in ["/track/NOPE-1", "/track/%FF"] {
        let (s, b) = app.get_raw(unknown).await;
        assert_eq!(s, 404);
        assert_eq!(b["error"], "Заказ не найден");
    }
});

#[tokio::test]
async fn track_is_rate_limited_per_ip() {
    let app = spawn_with(Backend::Sqlite, |c| c.rate_per_second = 2).await;
    let mut codes = Vec::new();
    for _ in 0..6 {
        codes.push(app.client.get(format!("{}/track?number=1", app.base)).send().await.unwrap().status().as_u16());
    }
    assert!(codes.contains(&503), "{codes:?}");
    assert_eq!(codes[0], 200);
}
