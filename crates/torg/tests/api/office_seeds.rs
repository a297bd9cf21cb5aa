//! Seed 004's three example requests (form, JSON, XML), run verbatim against `torg demo`, whose
//! distributor key is the seed's example `hash`, in both answer types; and the seed's duplicate
//! warehouse message.

use crate::common::{Backend, fresh_database};
use crate::office::{parse_answer, status};
use crate::seeds::start_demo;
use serde_json::{Value, json};

const HASH: &str = "jqtlkuvhik0o4ogg4wswk4ws0kwww4k";

const FORM_RAW: &str = "hash=jqtlkuvhik0o4ogg4wswk4ws0kwww4k&filter[id][0]=2916";
const FORM_ENCODED: &str = "hash=jqtlkuvhik0o4ogg4wswk4ws0kwww4k&filter%5Bid%5D%5B0%5D=2916";
const JSON_BODY: &str = r#"{
   "hash": "jqtlkuvhik0o4ogg4wswk4ws0kwww4k", 
   "filter": [
       {
           "id": 2619
       }
    ]
}"#;
const XML_BODY: &str = "
<request>
    <hash>jqtlkuvhik0o4ogg4wswk4ws0kwww4k</hash>
    <filter>
       <id>2619</id>
    </filter>
</request>";

async fn post(http: &reqwest::Client, url: &str, content_type: &str, body: &str) -> (u16, Value) {
    // The demo serves with the seed's limits (10 requests a second per address): stay under them.
    tokio::time::sleep(std::time::Duration::from_millis(120)).await;
    let r = http.post(url).header("Content-Type", content_type).body(body.to_string()).send().await.unwrap();
    let code = r.status().as_u16();
    let text = r.text().await.unwrap();
    (code, parse_answer(url, &text))
}

async fn run(backend: Backend) {
    let (url, _dir, pg) = fresh_database(backend).await;
    let demo = start_demo(&url);
    let http = crate::common::http().build().unwrap();
    let bodies = [
        ("application/x-www-form-urlencoded", FORM_RAW),
        ("application/x-www-form-urlencoded", FORM_ENCODED),
        ("application/json", JSON_BODY),
        ("application/xml", XML_BODY),
        // 1C and PHP's curl may send JSON without saying so.
        ("text/plain", JSON_BODY),
    ];
    for ty in ["json", "xml"] {
        let endpoint = format!("{}/restapi/office/warehouses.list.{ty}", demo.base);
        for (content_type, body) in bodies {
            let (code, a) = post(&http, &endpoint, content_type, body).await;
            assert_eq!(code, 200, "{content_type}: {a}");
            assert_eq!(status(&a).0, "ok", "{content_type}: {a}");
            // The demo's warehouses have small ids: the seed's id filter matches none of them.
            assert!(a["warehouses"] == json!([]) || a["warehouses"] == json!(""), "{a}");
        }
        // Without the filter: the demo distributor's warehouses, and only those.
        let (_, a) = post(&http, &endpoint, "application/json", &format!("{{\"hash\": \"{HASH}\"}}")).await;
        let codes: Vec<&str> = a["warehouses"].as_array().unwrap().iter().filter_map(|w| w["code"].as_str()).collect();
        assert_eq!(codes, ["msk", "ekb"], "{a}");
        // Their orders include the demo's tracked order.
        let orders = format!("{}/restapi/office/orders.list.{ty}", demo.base);
        let (_, a) = post(&http, &orders, "application/x-www-form-urlencoded", &format!("hash={HASH}")).await;
        assert!(!a["orders"].as_array().unwrap().is_empty(), "{a}");
    }
    // The seed's sample: adding warehouses 3 and 111111 when 111111 exists answers ok with its message.
    let add = format!("{}/restapi/office/warehouses.add.xml", demo.base);
    let first = format!(
        "<request><hash>{HASH}</hash><data><item><code>111111</code><contacts>test</contacts><address>Курск</address></item></data></request>"
    );
    let (_, a) = post(&http, &add, "application/xml", &first).await;
    assert_eq!(status(&a), ("ok", Vec::new()));
    let both = json!({"hash": HASH, "data": [{"code": "3", "contacts": "3", "address": "Курск, ул. Луначарского, 8"},
                                               {"code": "111111", "contacts": "test", "address": "Курск"}]});
    for ty in ["xml", "json"] {
        let add = format!("{}/restapi/office/warehouses.add.{ty}", demo.base);
        let (code, a) = post(&http, &add, "application/json", &both.to_string()).await;
        assert_eq!(code, 200);
        let (state, messages) = status(&a);
        assert_eq!(state, "ok");
        assert!(messages.contains(&"Склад `111111` уже существует!".to_string()), "{a}");
        let rows = a["warehouses"].as_array().unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1]["address"], "Курск");
    }
    drop(demo);
    drop(pg);
}

#[tokio::test]
async fn office_seed_examples_run_against_demo_on_sqlite() {
    run(Backend::Sqlite).await;
}

#[tokio::test]
async fn office_seed_examples_run_against_demo_on_postgres() {
    run(Backend::Postgres).await;
}
