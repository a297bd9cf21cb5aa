//! The unversioned methods and the OpenAPI document.

use crate::common::{Backend, both, spawn};
use serde_json::{Value, json};

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
        for field in &route.fields {
            assert!(
                described_field(item, field, route.method),
                "{} {}: {} is not described",
                route.method,
                route.path,
                field.name
            );
        }
        described += 1;
    }
    assert!(described > 60, "{described}");
    for schema in ["CrmError", "BillingError", "OfficeError", "PlainError"] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }
    operations_have_their_own_fields_and_answers(&doc);
}

/// Whether the operation `item` describes `field`: a parameter of its name (a list as `name[]`, a
/// listing as its fields), or a property of every body type.
fn described_field(item: &Value, field: &torg_http::kit::Field, method: &str) -> bool {
    use torg_http::kit::{Kind, Place};
    let parameters = item["parameters"].as_array().cloned().unwrap_or_default();
    let named = |name: &str, place: &str| {
        parameters
            .iter()
            .find(|p| p["name"] == name && p["in"] == place)
            .is_some_and(|p| p["required"] == field.required)
    };
    match (field.kind, field.place_on(method)) {
        (Kind::Listing(specs), _) => specs.iter().all(|s| parameters.iter().any(|p| p["name"] == s.name)),
        (Kind::Texts | Kind::Integers, Place::Query) => named(&format!("{}[]", field.name), "query"),
        (_, Place::Query) => named(field.name, "query"),
        (_, Place::Header) => named(field.name, "header"),
        (_, Place::Body) => item["requestBody"]["content"].as_object().is_some_and(|types| {
            !types.is_empty()
                && types.values().all(|t| {
                    let schema = &t["schema"];
                    schema["properties"][field.name].is_object()
                        && schema["required"].as_array().is_some_and(|r| r.contains(&json!(field.name)))
                            == field.required
                })
        }),
    }
}

/// Spot checks of what the declarations make of the main operations.
fn operations_have_their_own_fields_and_answers(doc: &Value) {
    let op = |path: &str, method: &str| doc["paths"][path][method].clone();
    // A CRM list: paging, and a filter whose keys are the list's, nothing else.
    let list = op("/api/v5/orders", "get");
    let params = list["parameters"].as_array().unwrap();
    let filter = params.iter().find(|p| p["name"] == "filter").unwrap();
    assert_eq!(filter["style"], "deepObject");
    assert_eq!(filter["schema"]["additionalProperties"], false);
    assert_eq!(filter["schema"]["properties"]["numbers"]["type"], "array");
    assert_eq!(filter["schema"]["properties"]["ids"]["items"]["type"], "integer");
    assert!(params.iter().any(|p| p["name"] == "limit" && p["schema"]["type"] == "integer"));
    let answer = &list["responses"]["200"]["content"]["application/json"]["schema"]["allOf"];
    assert_eq!(answer[0]["$ref"], "#/components/schemas/CrmSuccess");
    assert_eq!(answer[1]["properties"]["orders"]["type"], "array");
    assert!(answer[1]["properties"]["pagination"].is_object());
    // A CRM write: its entity is JSON text in a form field, the object itself in a JSON body.
    let create = op("/api/v5/orders/create", "post");
    let form = &create["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"];
    assert_eq!(form["properties"]["order"]["type"], "string");
    assert_eq!(form["properties"]["order"]["contentMediaType"], "application/json");
    assert_eq!(form["properties"]["order"]["contentSchema"]["type"], "object");
    assert_eq!(form["required"], json!(["order"]));
    let json_body = &create["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(json_body["properties"]["order"]["type"], "object");
    let answer = &create["responses"]["200"]["content"]["application/json"]["schema"]["allOf"][1];
    assert_eq!(answer["properties"]["id"]["type"], "integer");
    assert!(answer["properties"]["order"].is_object());
    // A create answers 201 with the same members; every CRM create names what it answers (the new
    // entity's id, mostly), but linking orders, which answers `success` alone.
    let created = &create["responses"]["201"]["content"]["application/json"]["schema"]["allOf"];
    assert_eq!(created[0]["$ref"], "#/components/schemas/CrmSuccess");
    assert_eq!(created[1]["properties"]["id"]["type"], "integer");
    assert_eq!(created[1]["properties"]["order"]["type"], "object");
    for (face, route) in torg_http::kit::all_routes() {
        if face.name != "crm" || !route.path.ends_with("/create") || route.path == "/api/v5/orders/links/create" {
            continue;
        }
        let members = &op(&route.path, "post")["responses"]["201"]["content"]["application/json"]["schema"]["allOf"][1];
        assert!(members["properties"].as_object().is_some_and(|m| !m.is_empty()), "{}: {members}", route.path);
    }
    // A JSON list of ids is a list of whole numbers.
    let delete = op("/api/v5/costs/delete", "post");
    let ids = &delete["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]["properties"]["ids"];
    assert_eq!(ids["contentSchema"]["items"]["type"], "integer", "{ids}");
    let upload = op("/api/v5/orders/upload", "post");
    let uploaded = &upload["responses"]["200"]["content"]["application/json"]["schema"]["allOf"][1]["properties"];
    assert_eq!(uploaded["uploadedOrders"]["items"]["properties"]["id"]["type"], "integer");
    assert!(uploaded["failedOrders"]["items"]["properties"]["externalId"].is_object());
    assert_eq!(uploaded["orders"]["type"], "array");
    let upload = op("/api/v5/customers-corporate/upload", "post");
    let uploaded = &upload["responses"]["200"]["content"]["application/json"]["schema"]["allOf"][1]["properties"];
    assert!(uploaded["uploadedCustomers"]["items"]["properties"]["externalId"].is_object(), "text, or null");
    // `by` on a path with an external id.
    let by = op("/api/v5/customers/{externalId}", "get");
    let by = by["parameters"].as_array().unwrap().iter().find(|p| p["name"] == "by").cloned().unwrap();
    assert_eq!(by["schema"]["enum"], json!(["externalId", "id"]));
    // Billing: the body's members are exactly those the handler takes.
    let invoice = op("/v3/billing/api/order/order", "post");
    let body = &invoice["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(body["additionalProperties"], false);
    assert_eq!(body["properties"]["amount"]["type"], "number");
    assert!(body["required"].as_array().unwrap().contains(&json!("merchantId")));
    let list = op("/v3/filter/api/order/order", "get");
    let names: Vec<&str> = list["parameters"].as_array().unwrap().iter().filter_map(|p| p["name"].as_str()).collect();
    for name in ["merchantOrderId", "status", "pageSize", "page", "_order"] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    // Office: rows with the members the handler accepts.
    let add = op("/restapi/office/warehouses.add.{type}", "post");
    let rows = &add["requestBody"]["content"]["application/json"]["schema"]["properties"]["data"];
    assert_eq!(rows["items"]["additionalProperties"], false);
    assert!(rows["items"]["properties"]["code"].is_object());
    // Parts: the search's query and the order's signed row.
    let search = op("/v1/search/", "get");
    assert!(search["parameters"].as_array().unwrap().iter().any(|p| p["name"] == "q" && p["required"] == true));
}

/// The contentSchema of JSON-in-form field `field` of `POST path` in the form body, and its schema in
/// the JSON body (the same).
fn entity_schema(doc: &Value, path: &str, field: &str) -> Value {
    let body = &doc["paths"][path]["post"]["requestBody"]["content"];
    let form = &body["application/x-www-form-urlencoded"]["schema"]["properties"][field];
    assert_eq!(form["contentMediaType"], "application/json", "{path} {field}");
    assert_eq!(body["multipart/form-data"]["schema"]["properties"][field], *form, "{path} {field}");
    // The JSON body's member is the entity itself, carrying the field's description (if any).
    let mut member = body["application/json"]["schema"]["properties"][field].clone();
    member.as_object_mut().map(|m| m.remove("description"));
    assert_eq!(member, form["contentSchema"], "{path} {field}");
    form["contentSchema"].clone()
}

/// The members of `value` (at `at`) that `schema` does not describe, or describes with another JSON
/// type: nested objects and lists are followed while the schema names their members (an object
/// described without members, such as `customFields`, takes any).
fn undescribed(value: &Value, schema: &Value, at: &str, out: &mut Vec<String>) {
    let fits = match schema["type"].as_str() {
        None => true,
        Some("string") => value.is_string(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        Some("boolean") => value.is_boolean(),
        Some("object") => value.is_object(),
        Some("array") => value.is_array(),
        Some(other) => panic!("{at}: type {other}"),
    };
    let in_enum = schema["enum"].as_array().is_none_or(|values| values.contains(value));
    if !fits || !in_enum {
        out.push(format!("{at}: {value} is not {schema}"));
        return;
    }
    match value {
        Value::Object(members) if schema["properties"].is_object() => {
            assert_ne!(schema["additionalProperties"], false, "{at}: a CRM entity stays open to other members");
            for (name, v) in members {
                let path = if at.is_empty() { name.clone() } else { format!("{at}.{name}") };
                match schema["properties"].get(name) {
                    Some(s) => undescribed(v, s, &path, out),
                    None => out.push(format!("{path} is not described")),
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                undescribed(v, &schema["items"], &format!("{at}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// CRM writes describe their entities member by member (nested objects and lists too), so a client
/// generator can build them: every member of the suite's real creates is described with its type.
#[tokio::test]
async fn crm_write_entities_are_described_by_member() {
    let app = spawn(Backend::Sqlite).await;
    let (s, doc) = app.get_raw("/openapi.json").await;
    assert_eq!(s, 200);
    let order = entity_schema(&doc, "/api/v5/orders/create", "order");
    assert_eq!(order["type"], "object");
    for name in ["externalId", "items", "customer", "delivery", "payments", "customFields", "contragent"] {
        assert!(order["properties"][name].is_object(), "order.{name}: {order}");
    }
    assert_eq!(
        order["properties"]["items"]["items"]["properties"]["offer"]["properties"]["externalId"]["type"],
        "string"
    );
    assert_eq!(order["properties"]["items"]["items"]["properties"]["quantity"]["type"], "number");
    assert_eq!(order["properties"]["delivery"]["properties"]["address"]["properties"]["city"]["type"], "string");
    assert_eq!(order["properties"]["payments"]["items"]["properties"]["amount"]["type"], "number");
    assert_eq!(entity_schema(&doc, "/api/v5/orders/{externalId}/edit", "order"), order);
    let upload = entity_schema(&doc, "/api/v5/orders/upload", "orders");
    assert_eq!((upload["type"].as_str(), &upload["items"]), (Some("array"), &order));

    let customer = entity_schema(&doc, "/api/v5/customers/create", "customer");
    let corporate = entity_schema(&doc, "/api/v5/customers-corporate/create", "customerCorporate");
    for (path, field, name) in [
        ("/api/v5/tasks/create", "task", "performerId"),
        ("/api/v5/costs/create", "cost", "costItem"),
        ("/api/v5/orders/packs/create", "pack", "itemId"),
        ("/api/v5/customers/notes/create", "note", "text"),
        ("/api/v5/orders/payments/create", "payment", "order"),
    ] {
        let schema = entity_schema(&doc, path, field);
        assert!(schema["properties"][name].is_object(), "{path} {field}.{name}: {schema}");
    }

    // The suite's real creates, member by member.
    let mut missing = Vec::new();
    undescribed(&crate::crm_orders::first_order(), &order, "order", &mut missing);
    undescribed(&crate::crm_customers::anna(1), &customer, "customer", &mut missing);
    undescribed(&crate::crm_corporate::acme(1), &corporate, "customerCorporate", &mut missing);
    assert!(missing.is_empty(), "members of real creates the document does not describe:\n{}", missing.join("\n"));

    // The smaller writes describe their entities too: the suite's real bodies, member by member.
    for (path, field, body) in [
        ("/api/v5/loyalty/account/create", "loyaltyAccount", crate::crm_loyalty::account_doc("c-1")),
        ("/api/v5/reference/units/{code}/edit", "units", crate::crm_definitions::box_unit()),
        ("/api/v5/reference/stores/{code}/edit", "store", crate::crm_packs::north_store()),
        ("/api/v5/integration-modules/{code}/edit", "integrationModule", crate::crm_delivery::delivery_module_doc()),
        ("/api/v5/delivery/generic/{code}/tracking", "statusUpdate", crate::crm_delivery::status_updates("1A")),
        ("/api/v5/custom-fields/dictionaries/create", "customDictionary", crate::crm_definitions::colours()),
    ] {
        let schema = entity_schema(&doc, path, field);
        assert!(schema["properties"].is_object() || schema["items"]["properties"].is_object(), "{path}: {schema}");
        undescribed(&body, &schema, field, &mut missing);
    }
    let custom_field = entity_schema(&doc, "/api/v5/custom-fields/{entity}/create", "customField");
    assert_eq!(custom_field["properties"]["type"]["enum"].as_array().map(Vec::len), Some(9), "{custom_field}");
    for (_, body) in crate::crm_definitions::colour_fields() {
        undescribed(&body, &custom_field, "customField", &mut missing);
    }
    // torg reads a flag given as text as well (`"1"`), which the document, saying boolean, does not
    // promise: the one difference from the suite's bodies.
    let lenient = missing.iter().position(|m| m.starts_with(r#"customField.inFilter: "1" is not"#));
    missing.remove(lenient.expect("the boxes field's inFilter is text"));
    assert!(missing.is_empty(), "members of real writes the document does not describe:\n{}", missing.join("\n"));
    let products = entity_schema(&doc, "/api/v5/store/products/batch/create", "products");
    let offer = &products["items"]["properties"]["offers"]["items"]["properties"];
    assert_eq!(offer["unit"]["properties"]["code"]["type"], "string", "{products}");
    assert_eq!(offer["price"]["type"], "number");
    let calculate = entity_schema(&doc, "/api/v5/delivery/calculate", "deliveryTypeCodes");
    assert_eq!(calculate["items"]["type"], "string", "{calculate}");

    // A member the document does not list is still taken (RetailCRM ignores what it does not know).
    app.add_offer("sku-1", "10.50").await;
    let mut given = crate::crm_orders::first_order();
    given["notInTheDocument"] = json!({"any": 1});
    let (s, b) = app.post("/api/v5/orders/create", &[("order", &given.to_string()), ("site", "default")]).await;
    assert_eq!(s, 201, "{b}");
}
