//! The OpenAPI document at `/openapi.json`, built from the faces' route tables.

use crate::kit::{self, Security};
use axum::http::StatusCode;
use axum::response::Response;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{ComponentsBuilder, InfoBuilder, OpenApiBuilder, PathsBuilder, ResponseBuilder};

fn method(m: &str) -> HttpMethod {
    match m {
        "POST" => HttpMethod::Post,
        "PUT" => HttpMethod::Put,
        "DELETE" => HttpMethod::Delete,
        "PATCH" => HttpMethod::Patch,
        _ => HttpMethod::Get,
    }
}

/// The security schemes of a face, named after the face.
fn schemes(face: &kit::Face) -> Vec<(String, SecurityScheme)> {
    match face.security {
        Security::None | Security::BodyField(_) => Vec::new(),
        Security::HeaderOrQuery(header, query) => vec![
            (format!("{}_header", face.name), SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new(header)))),
            (format!("{}_query", face.name), SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::new(query)))),
        ],
        Security::Query(name) => {
            vec![(face.name.to_string(), SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::new(name))))]
        }
        Security::Bearer => {
            vec![(
                face.name.to_string(),
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            )]
        }
    }
}

/// The document for every route of every face, read from the same declarations the router is built
/// from.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut paths = PathsBuilder::new();
    let mut components = ComponentsBuilder::new();
    for face in crate::faces::FACES {
        for (name, scheme) in schemes(face) {
            components = components.security_scheme(name, scheme);
        }
    }
    for (face, route) in kit::all_routes() {
        if !route.documented {
            continue;
        }
        let mut description = match route.access.scope() {
            Some(s) => format!("Needs the `{s}` scope."),
            None if route.access == kit::Access::AnyKey => "Needs any valid key.".to_string(),
            None => "Public: no key.".to_string(),
        };
        if let Security::BodyField(field) = face.security {
            description.push_str(&format!(" The key is the `{field}` field of the body."));
        }
        let mut operation = OperationBuilder::new()
            .operation_id(Some(route.doc.operation.clone()))
            .summary(Some(route.doc.summary.clone()))
            .description(Some(description))
            .tag(route.doc.tag.clone())
            .response("200", ResponseBuilder::new().description("Success"))
            .response("400", ResponseBuilder::new().description("Invalid parameters, in the face's error envelope"));
        if route.access != kit::Access::Public {
            operation =
                operation.response("403", ResponseBuilder::new().description("Missing or wrong key, scope or site"));
            let requirements: Vec<SecurityRequirement> =
                schemes(face).into_iter().map(|(name, _)| SecurityRequirement::new::<_, _, &str>(name, [])).collect();
            if !requirements.is_empty() {
                operation = operation.securities(Some(requirements));
            }
        }
        paths = paths.path(route.path.clone(), PathItem::new(method(route.method), operation));
    }
    OpenApiBuilder::new()
        .info(InfoBuilder::new().title("torg").version(env!("CARGO_PKG_VERSION")).description(Some(
            "One commerce backend, several API dialects: RetailCRM v5 (crm), an auto-parts supplier (parts), \
             Invoicebox v3 (billing), the KEAZ distributor office (office) and the order-status page (track).",
        )))
        .paths(paths)
        .components(Some(components.build()))
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
