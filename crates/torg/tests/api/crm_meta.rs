//! The unversioned methods and the OpenAPI document.

use crate::common::{Backend, both, spawn};
use serde_json::json;

both!(versions_credentials_system_info, |app: crate::common::TestApp| async move {
    let (s, b) = app.get("/api/api-versions").await;
    assert_eq!(s, 200);
    assert_eq!(b, json!({"success": true, "versions": ["3.0", "4.0", "5.0"]}));

    let (s, b) = app.get("/api/credentials").await;
    assert_eq!(s, 200);
    assert_eq!(b["siteAccess"], "access_full");
    assert_eq!(b["sitesAvailable"], json!(["default"]));
    assert!(b["scopes"].as_array().unwrap().contains(&json!("order_read")));
    assert!(b["credentials"].as_array().unwrap().contains(&json!("/api/orders/create")));

    app.add_site("shop2").await;
    let limited = app.key_with(&["order_read"], &["shop2"]).await;
    let (s, b) = app.get_as(&limited, "/api/credentials").await;
    assert_eq!(s, 200);
    assert_eq!(b["siteAccess"], "access_selective");
    assert_eq!(b["sitesAvailable"], json!(["shop2"]));
    assert_eq!(b["scopes"], json!(["order_read"]));
    assert!(!b["credentials"].as_array().unwrap().contains(&json!("/api/orders/create")));

    let (s, b) = app.get("/api/system-info").await;
    assert_eq!(s, 200);
    assert_eq!(b["publicUrl"], app.base);
    assert!(b["systemVersion"].is_string());
});

#[tokio::test]
async fn openapi_describes_every_route_of_every_face() {
    let app = spawn(Backend::Sqlite).await;
    let (s, doc) = app.get_raw("/openapi.json").await;
    assert_eq!(s, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let mut described = 0;
    for (face, route) in torg_http::kit::all_routes() {
        if !route.documented {
            continue;
        }
        let item = &doc["paths"][&route.path][route.method.to_lowercase()];
        assert_eq!(item["operationId"], json!(route.doc.operation), "{} {}", route.method, route.path);
        if route.access != torg_http::kit::Access::Public && face.name != "office" {
            assert!(item["security"].is_array(), "{} {} names no key", route.method, route.path);
        }
        for name in torg_http::openapi::path_parameter_names(&route.path) {
            let defined = item["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["name"] == name && p["in"] == "path" && p["required"] == true));
            assert!(defined, "{} {}: path parameter {name} is described", route.method, route.path);
        }
        if route.access != torg_http::kit::Access::Public {
            let error = &item["responses"]["403"]["content"]["application/json"]["schema"]["$ref"];
            assert!(error.as_str().is_some_and(|r| r.ends_with("Error")), "{} {}: {item}", route.method, route.path);
        }
        described += 1;
    }
    assert!(described > 60, "{described}");
    for schema in ["CrmError", "BillingError", "OfficeError", "PlainError"] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }
}
