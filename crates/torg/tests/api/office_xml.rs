//! Hostile XML against the office face: billion laughs, external entities, undefined entities, deep
//! nesting, too many elements and oversize bodies are refused with an error envelope, never expanded,
//! never a hang.

use crate::common::{Backend, TestApp, both, spawn_with};
use crate::office::{office_key, status};
use serde_json::Value;

async fn post_xml(app: &TestApp, call: &str, body: String) -> (u16, Value) {
    let r = app
        .client
        .post(format!("{}/restapi/office/{call}", app.base))
        .header("Content-Type", "text/xml")
        .body(body)
        .send()
        .await
        .expect("send");
    let code = r.status().as_u16();
    let text = r.text().await.expect("body");
    (code, serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")))
}

both!(hostile_documents_are_refused, |app: TestApp| async move {
    let key = office_key(&app, "dist-x").await;
    // Ten levels of ten: a billion "lol"s if anything expanded them.
    let mut dtd = String::from("<!ENTITY lol0 \"lol\">");
    for i in 1..10 {
        dtd.push_str(&format!("<!ENTITY lol{i} \"{}\">", format!("&lol{};", i - 1).repeat(10)));
    }
    let laughs = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE lolz [{dtd}]><request><hash>{key}</hash><filter><code>&lol9;</code></filter></request>"
    );
    let (code, a) = post_xml(&app, "warehouses.list.json", laughs).await;
    assert_eq!(code, 200);
    assert_eq!(status(&a).0, "error");
    assert!(status(&a).1[0].contains("DOCTYPE"), "{a}");
    let xxe = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><request><hash>{key}</hash><data><item><code>&xxe;</code></item></data></request>"
    );
    let (_, a) = post_xml(&app, "warehouses.add.json", xxe).await;
    assert!(status(&a).1[0].contains("DOCTYPE"), "{a}");
    let external_dtd =
        format!("<!DOCTYPE request SYSTEM \"http://127.0.0.1:9/x.dtd\"><request><hash>{key}</hash></request>");
    let (_, a) = post_xml(&app, "warehouses.list.json", external_dtd).await;
    assert!(status(&a).1[0].contains("DOCTYPE"), "{a}");
    let undefined = format!("<request><hash>{key}</hash><data><item><code>&passwd;</code></item></data></request>");
    let (_, a) = post_xml(&app, "warehouses.add.json", undefined).await;
    assert!(status(&a).1[0].contains("&passwd;"), "{a}");
    let deep = format!("<request><hash>{key}</hash>{}{}</request>", "<a>".repeat(50_000), "</a>".repeat(50_000));
    let (_, a) = post_xml(&app, "warehouses.list.json", deep).await;
    assert!(status(&a).1[0].contains("Вложенность"), "{a}");
    let many = format!("<request><hash>{key}</hash><data>{}</data></request>", "<item/>".repeat(300_000));
    let (_, a) = post_xml(&app, "warehouses.add.json", many).await;
    assert!(status(&a).1[0].contains("элементов"), "{a}");
    let unclosed = format!("<request><hash>{key}</hash><data>");
    let (_, a) = post_xml(&app, "warehouses.add.json", unclosed).await;
    assert_eq!(status(&a).0, "error");
    // Nothing of it was written.
    let (_, a) = post_xml(&app, "warehouses.list.json", format!("<request><hash>{key}</hash></request>")).await;
    assert_eq!(status(&a).0, "ok");
    assert_eq!(a["warehouses"], serde_json::json!([]));
    // Predefined entities and character references are fine.
    let fine = format!(
        "<request><hash>{key}</hash><data><item><code>a&amp;b</code><address>&#1050;&#x443;&lt;</address></item></data></request>"
    );
    let (_, a) = post_xml(&app, "warehouses.add.json", fine).await;
    assert_eq!(status(&a).0, "ok", "{a}");
    assert_eq!(a["warehouses"][0]["code"], "a&b");
    assert_eq!(a["warehouses"][0]["address"], "Ку<");
});

#[tokio::test]
async fn oversize_bodies_get_413_in_the_office_envelope() {
    let app = spawn_with(Backend::Sqlite, |c| {
        c.rate_per_second = 0;
        c.body_limit = 64 * 1024;
    })
    .await;
    let key = office_key(&app, "dist-big").await;
    let big = format!("<request><hash>{key}</hash><x>{}</x></request>", "a".repeat(100 * 1024));
    let (code, a) = post_xml(&app, "warehouses.list.json", big).await;
    assert_eq!(code, 413);
    assert_eq!(status(&a).0, "error");
}
