//! The OpenAPI document at `/openapi.json`, built from the faces' route tables.

use crate::faces::{RouteSpec, billing, crm, office, parts, track};
use axum::http::StatusCode;
use axum::response::Response;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem};
use utoipa::openapi::{InfoBuilder, OpenApiBuilder, PathsBuilder, ResponseBuilder};

fn method(m: &str) -> HttpMethod {
    match m {
        "POST" => HttpMethod::Post,
        "PUT" => HttpMethod::Put,
        "DELETE" => HttpMethod::Delete,
        "PATCH" => HttpMethod::Patch,
        _ => HttpMethod::Get,
    }
}

/// The document for every route of every face.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut paths = PathsBuilder::new();
    let tables: [&[RouteSpec]; 5] = [crm::ROUTES, parts::ROUTES, billing::ROUTES, office::ROUTES, track::ROUTES];
    for spec in tables.into_iter().flatten() {
        let description = spec.scope.map(|s| format!("Needs the `{s}` scope."));
        let operation = OperationBuilder::new()
            .operation_id(Some(spec.operation))
            .summary(Some(spec.summary))
            .description(description)
            .tag(spec.tag)
            .response("200", ResponseBuilder::new().description("Success"))
            .response("400", ResponseBuilder::new().description("Invalid parameters, in the face's error envelope"))
            .response("403", ResponseBuilder::new().description("Missing or wrong key, scope or site"));
        paths = paths.path(spec.path, PathItem::new(method(spec.method), operation));
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("torg")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some("One commerce backend, several API dialects: RetailCRM v5 (crm).")),
        )
        .paths(paths)
        .build()
}

/// `GET /openapi.json`.
pub async fn serve() -> Response {
    match document().to_json() {
        Ok(text) => {
            let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            crate::json_response(StatusCode::OK, &value)
        }
        Err(e) => {
            crate::json_response(StatusCode::INTERNAL_SERVER_ERROR, &serde_json::json!({ "error": e.to_string() }))
        }
    }
}
