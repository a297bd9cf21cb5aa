//! The OpenAPI document at `/openapi.json`, built from the faces' route tables.

use crate::envelope::Envelope;
use crate::kit::{self, Field, Kind, Place, Security, Shape};
use axum::http::StatusCode;
use axum::response::Response;
use torg_domain::listing::{FieldKind, FieldSpec};
use utoipa::openapi::RefOr;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, Parameter, ParameterBuilder, ParameterIn, ParameterStyle, PathItem,
};
use utoipa::openapi::request_body::{RequestBody, RequestBodyBuilder};
use utoipa::openapi::schema::{
    AdditionalProperties, AllOfBuilder, ArrayBuilder, ArrayItems, KnownFormat, ObjectBuilder, Ref, Schema,
    SchemaFormat, Type,
};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{ComponentsBuilder, InfoBuilder, OpenApiBuilder, PathsBuilder};
use utoipa::openapi::{Required, ResponseBuilder as Answer};

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

fn text() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

/// The error envelopes of the faces, as reusable schemas.
fn envelopes() -> Vec<(&'static str, Schema)> {
    let obj = |b: ObjectBuilder| Schema::Object(b.build());
    vec![
        (
            "CrmError",
            obj(ObjectBuilder::new()
                .schema_type(Type::Object)
                .property("success", ObjectBuilder::new().schema_type(Type::Boolean).enum_values(Some([false])))
                .required("success")
                .property("errorMsg", text())
                .required("errorMsg")
                .property("errors", any_value().description(Some("Messages per field, or a list")))),
        ),
        (
            "BillingError",
            obj(ObjectBuilder::new().schema_type(Type::Object).required("error").property(
                "error",
                ObjectBuilder::new()
                    .schema_type(Type::Object)
                    .property("message", text())
                    .required("message")
                    .property("code", text())
                    .required("code")
                    .property(
                        "fields",
                        ArrayBuilder::new().items(
                            ObjectBuilder::new()
                                .schema_type(Type::Object)
                                .property("name", text())
                                .property("code", text())
                                .property("message", text()),
                        ),
                    ),
            )),
        ),
        (
            "OfficeError",
            obj(ObjectBuilder::new().schema_type(Type::Object).required("status").property(
                "status",
                ObjectBuilder::new()
                    .schema_type(Type::Object)
                    .property("code", text().enum_values(Some(["error"])))
                    .property("messages", ArrayBuilder::new().items(text())),
            )),
        ),
        ("PlainError", obj(ObjectBuilder::new().schema_type(Type::Object).property("error", text()).required("error"))),
        (
            "CrmSuccess",
            obj(ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some("`success: true` beside the method's members"))
                .property("success", ObjectBuilder::new().schema_type(Type::Boolean).enum_values(Some([true])))
                .required("success")),
        ),
        (
            "BillingSuccess",
            obj(ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some("`data` (an order, a refund, a list), `extendedData`, and `metaData` on lists"))
                .property("data", any_value())
                .required("data")
                .property("extendedData", any_value())
                .property(
                    "metaData",
                    ObjectBuilder::new()
                        .schema_type(Type::Object)
                        .property("totalCount", ObjectBuilder::new().schema_type(Type::Integer))
                        .property("pageSize", ObjectBuilder::new().schema_type(Type::Integer))
                        .property("page", ObjectBuilder::new().schema_type(Type::Integer)),
                )),
        ),
        (
            "OfficeSuccess",
            obj(ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some("The resource's rows beside `status` (`ok`, or `error` with messages)"))
                .required("status")
                .property(
                    "status",
                    ObjectBuilder::new()
                        .schema_type(Type::Object)
                        .property("code", text().enum_values(Some(["ok", "error"])))
                        .required("code")
                        .property("messages", ArrayBuilder::new().items(text())),
                )),
        ),
        ("PartsAnswer", obj(ObjectBuilder::new().schema_type(Type::Object))),
    ]
}

/// A member of any JSON type (an object, a list, or `[]` where the service sends an empty array).
fn any_value() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(utoipa::openapi::schema::SchemaType::AnyValue)
}

/// The schema of a face's successful JSON answer.
fn success_name(e: Envelope) -> &'static str {
    match e {
        Envelope::Crm => "CrmSuccess",
        Envelope::Billing => "BillingSuccess",
        Envelope::Office => "OfficeSuccess",
        Envelope::Plain => "PartsAnswer",
    }
}

fn envelope_name(e: Envelope) -> &'static str {
    match e {
        Envelope::Crm => "CrmError",
        Envelope::Billing => "BillingError",
        Envelope::Office => "OfficeError",
        Envelope::Plain => "PlainError",
    }
}

/// The `{name}` parts of a path (whole segments, or inside one as the office's `.{type}`).
pub fn path_parameter_names(path: &str) -> Vec<&str> {
    path.split('{').skip(1).filter_map(|rest| rest.split_once('}').map(|(name, _)| name)).collect()
}

/// The `{name}` parts of a path, as required path parameters; the office's answer type is `json` or
/// `xml`.
fn path_parameters(path: &str) -> Vec<utoipa::openapi::path::Parameter> {
    path_parameter_names(path)
        .into_iter()
        .map(|name| {
            let schema = if name == "type" && path.starts_with("/restapi/") {
                text().enum_values(Some(["json", "xml"]))
            } else {
                text()
            };
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(schema))
                .build()
        })
        .collect()
}

/// A decimal as text reads it (`12.5`, `12,5`): no exponent.
const DECIMAL: &str = r"^-?[0-9]{1,15}([.,][0-9]{1,6})?$";

/// The schema of a declared field's value; `form` when it travels as text (a query string, a form),
/// where a JSON-in-form field is a string holding JSON.
fn schema_of(kind: Kind, form: bool) -> Schema {
    let obj = |b: ObjectBuilder| Schema::Object(b.build());
    let array = |items: Schema| {
        Schema::Array(ArrayBuilder::new().items(ArrayItems::RefOrSchema(Box::new(items.into()))).build())
    };
    let members = |names: &[&str], strict: bool| {
        let mut b = ObjectBuilder::new().schema_type(Type::Object);
        for name in names {
            b = b.property(*name, any_value());
        }
        if strict {
            b = b.additional_properties(Some(AdditionalProperties::FreeForm(false)));
        }
        b
    };
    match kind {
        Kind::Text => obj(text()),
        Kind::Integer => {
            obj(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(i64::MIN)).maximum(Some(i64::MAX)))
        }
        // A form's decimals are read as text (`12.5`, `12,5`), never in exponent notation.
        Kind::Number if form => obj(text().pattern(Some(DECIMAL))),
        Kind::Number => obj(ObjectBuilder::new().schema_type(Type::Number)),
        Kind::Boolean => obj(ObjectBuilder::new().schema_type(Type::Boolean)),
        Kind::Date => obj(text().format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))),
        Kind::DateTime => obj(text()
            .pattern(Some(r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2})?)?$"))
            .description(Some("`Y-m-d H:i:s` (or `Y-m-d`) in the server's zone"))),
        Kind::OneOf(values) => obj(text().enum_values(Some(values.iter().copied()))),
        Kind::Limit(sizes) => {
            obj(ObjectBuilder::new().schema_type(Type::Integer).enum_values(Some(sizes.iter().copied())))
        }
        Kind::Texts => array(obj(text())),
        Kind::Integers => {
            array(obj(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(i64::MIN)).maximum(Some(i64::MAX))))
        }
        Kind::Page => obj(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)).maximum(Some(u32::MAX))),
        Kind::Object => obj(ObjectBuilder::new().schema_type(Type::Object)),
        Kind::List => array(Schema::Object(any_value().build())),
        Kind::Entity(known) => entity(known),
        Kind::Entities(known) => array(entity(known)),
        Kind::Json(shape) => {
            let inner = match shape {
                Shape::Object(known) => entity(known),
                Shape::List(known) => array(entity(known)),
                Shape::Ids => schema_of(Kind::Integers, false),
                Shape::Texts => schema_of(Kind::Texts, false),
            };
            if form { obj(text().content_media_type("application/json").content_schema(Some(inner))) } else { inner }
        }
        Kind::Filter(keys) => {
            let mut b = ObjectBuilder::new()
                .schema_type(Type::Object)
                .additional_properties(Some(AdditionalProperties::FreeForm(false)));
            for (key, kind) in keys {
                b = b.property(*key, schema_of(*kind, form));
            }
            obj(b)
        }
        Kind::Rows(names) => array(obj(members(names, true))),
        Kind::Members(names) => obj(members(names, true)),
        Kind::Listing(_) | Kind::Any => obj(any_value()),
    }
}

/// A JSON entity with its known members, each as JSON carries it; open to others (RetailCRM ignores
/// members it does not know, and a client may send them).
fn entity(known: &[(&str, Kind)]) -> Schema {
    let mut b = ObjectBuilder::new().schema_type(Type::Object);
    for (name, kind) in known {
        b = b.property(*name, schema_of(*kind, false));
    }
    Schema::Object(b.build())
}

/// The schema of a field: its kind's, and a required text is not empty (an empty one is absent).
fn field_schema(field: &Field, form: bool) -> Schema {
    let mut schema = schema_of(field.kind, form);
    if let Schema::Object(o) = &mut schema {
        if field.required && field.kind == Kind::Text {
            o.min_length = Some(1);
        }
        if !field.about.is_empty() {
            o.description = Some(field.about.to_string());
        }
    }
    schema
}

/// A parameter outside the body.
fn parameter(field: &Field, place: ParameterIn) -> Parameter {
    let mut b = ParameterBuilder::new()
        .parameter_in(place)
        .required(if field.required { Required::True } else { Required::False })
        .schema(Some(field_schema(field, true)));
    if !field.about.is_empty() {
        b = b.description(Some(field.about));
    }
    b = match field.kind {
        // PHP reads a list from `name[]=a&name[]=b`, which is how its clients send one.
        Kind::Texts | Kind::Integers => b.name(format!("{}[]", field.name)).explode(Some(true)),
        Kind::Filter(_) | Kind::Object | Kind::Members(_) => {
            b.name(field.name).style(Some(ParameterStyle::DeepObject)).explode(Some(true))
        }
        _ => b.name(field.name),
    };
    b.build()
}

/// The query parameters of the billing face's list language over `specs`: a filter per field, the
/// sort order and the page.
fn listing_parameters(specs: &[FieldSpec]) -> Vec<Parameter> {
    let optional = |name: &str, schema: ObjectBuilder, about: &str| {
        ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Query)
            .required(Required::False)
            .description(Some(about))
            .schema(Some(schema))
            .build()
    };
    let mut out: Vec<Parameter> = specs
        .iter()
        .map(|spec| {
            let schema = match spec.kind {
                FieldKind::Text => text(),
                // Read as decimal text, never in exponent notation, with a point.
                FieldKind::Number => text().pattern(Some(r"^-?[0-9]{1,15}(\.[0-9]{1,6})?$")),
                FieldKind::Time => text().format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))),
            };
            optional(spec.name, schema, "Equal to; `field[_ne|_gt|_ge|_lt|_le|_start]=` compare otherwise.")
        })
        .collect();
    out.push(optional(
        "pageSize",
        ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)).maximum(Some(1000)),
        "Rows a page.",
    ));
    out.push(optional(
        "page",
        ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)).maximum(Some(u32::MAX / 1000)),
        "Page, from 1.",
    ));
    let mut order = ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(AdditionalProperties::FreeForm(false)));
    for spec in specs {
        order = order.property(spec.name, text().enum_values(Some(["asc", "desc"])));
    }
    out.push(
        ParameterBuilder::new()
            .name("_order")
            .parameter_in(ParameterIn::Query)
            .required(Required::False)
            .description(Some("Sort: `_order[field]=asc|desc`."))
            .style(Some(ParameterStyle::DeepObject))
            .explode(Some(true))
            .schema(Some(order))
            .build(),
    );
    out
}

/// The object schema of body fields; `form` for a form's text values.
fn body_schema(fields: &[&Field], form: bool, strict: bool) -> Schema {
    let mut b = ObjectBuilder::new().schema_type(Type::Object);
    for f in fields {
        b = b.property(f.name, field_schema(f, form));
        if f.required {
            b = b.required(f.name);
        }
    }
    if strict {
        // The billing face refuses a member it does not know.
        b = b.additional_properties(Some(AdditionalProperties::FreeForm(false)));
    }
    Schema::Object(b.build())
}

/// What a route takes as a body: its declared body fields in each type the face reads.
fn request_body(face: &kit::Face, path: &str, fields: &[&Field]) -> RequestBody {
    let content = |schema: Schema| ContentBuilder::new().schema(Some(schema)).build();
    let required = fields.iter().any(|f| f.required);
    let builder = RequestBodyBuilder::new().required(Some(if required { Required::True } else { Required::False }));
    match face.envelope {
        // The hosted payment page takes the browser's form.
        Envelope::Billing if path.starts_with("/pay/") => {
            builder.content("application/x-www-form-urlencoded", content(body_schema(fields, true, false)))
        }
        Envelope::Billing => builder
            .description(Some("A JSON object; a member not listed is refused"))
            .content("application/json", content(body_schema(fields, false, true))),
        Envelope::Office => builder
            .description(Some("A form with PHP brackets, a JSON object or a `<request>` XML document"))
            .content("application/x-www-form-urlencoded", content(body_schema(fields, true, false)))
            .content("application/json", content(body_schema(fields, false, false)))
            .content("application/xml", content(body_schema(fields, false, false))),
        _ if fields.iter().all(|f| !matches!(f.kind, Kind::Json(_))) && face.name != "crm" => builder
            .content("application/x-www-form-urlencoded", content(body_schema(fields, true, false)))
            .content("application/json", content(body_schema(fields, false, false))),
        _ => builder
            .description(Some(
                "Form fields; entities as JSON text in one field (`order={…}`), or a JSON object of the same members",
            ))
            .content("application/x-www-form-urlencoded", content(body_schema(fields, true, false)))
            .content("multipart/form-data", content(body_schema(fields, true, false)))
            .content("application/json", content(body_schema(fields, false, false))),
    }
    .build()
}

/// The success schema of a route: the face's envelope, with the members the route declares.
fn success_schema(face: &kit::Face, answers: &[Field]) -> RefOr<Schema> {
    let envelope = Ref::from_schema_name(success_name(face.envelope));
    if answers.is_empty() {
        return envelope.into();
    }
    let mut members = ObjectBuilder::new().schema_type(Type::Object);
    for m in answers {
        let mut schema = schema_of(m.kind, false);
        if !m.about.is_empty()
            && let Schema::Object(o) = &mut schema
        {
            o.description = Some(m.about.to_string());
        }
        members = members.property(m.name, schema);
        if m.required {
            members = members.required(m.name);
        }
    }
    Schema::AllOf(AllOfBuilder::new().item(envelope).item(members).build()).into()
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
    for (name, schema) in envelopes() {
        components = components.schema(name, schema);
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
        if route.idempotent {
            description.push_str(" Takes an `Idempotency-Key` header: a retry gets the first answer.");
        }
        let error = || ContentBuilder::new().schema(Some(Ref::from_schema_name(envelope_name(face.envelope)))).build();
        let html_page = matches!(route.path.as_str(), "/track" | "/pay/{container}");
        let failure = |what: &str| {
            let answer = Answer::new().description(what).content("application/json", error());
            if html_page {
                answer.content("text/html", ContentBuilder::new().schema(Some(ObjectBuilder::new())).build())
            } else if face.name == "office" {
                // The office answers in the type its path asks for.
                answer.content("application/xml", ContentBuilder::new().schema(Some(ObjectBuilder::new())).build())
            } else {
                answer
            }
        };
        let mut parameters = path_parameters(&route.path);
        let mut body_fields = Vec::new();
        for field in &route.fields {
            match (field.kind, field.place_on(route.method)) {
                (Kind::Listing(specs), _) => parameters.extend(listing_parameters(specs)),
                (_, Place::Query) => parameters.push(parameter(field, ParameterIn::Query)),
                (_, Place::Header) => parameters.push(parameter(field, ParameterIn::Header)),
                (_, Place::Body) => body_fields.push(field),
            }
        }
        let success = |what: &str| {
            let any = || ContentBuilder::new().schema(Some(ObjectBuilder::new())).build();
            let json = || ContentBuilder::new().schema(Some(success_schema(face, &route.answers))).build();
            let answer = Answer::new().description(what);
            match (face.name, route.path.as_str()) {
                ("track", "/track") | ("billing", "/pay/{container}") => answer.content("text/html", any()),
                ("crm", path) if path.ends_with("/print") => answer.content("text/html", any()),
                ("office", _) => answer.content("application/json", json()).content("application/xml", any()),
                ("track", _) => answer.content("application/json", any()),
                _ => answer.content("application/json", json()),
            }
        };
        let mut operation = OperationBuilder::new()
            .operation_id(Some(route.doc.operation.clone()))
            .summary(Some(route.doc.summary.clone()))
            .description(Some(description))
            .tag(route.doc.tag.clone())
            .parameters(Some(parameters))
            .response("200", success("Success"))
            .response("400", failure("Invalid parameters, in the face's error envelope"))
            .response("404", failure("Not found, in the face's error envelope"))
            .response("405", failure("Wrong verb"))
            .response("503", failure("Over the rate limit (`Retry-After`)"));
        if face.name == "billing" {
            operation = operation
                .response("422", failure("Refused by the payment service's rules"))
                .response("429", failure("Over the rate limit (`Retry-After`)"));
        }
        if face.name == "crm" && route.method == "POST" {
            operation = operation.response("201", success("Created"));
        }
        if route.path.ends_with("/upload") {
            operation = operation.response("460", failure("Some entries were refused; the rest were stored"));
        }
        if matches!(route.method, "POST" | "PUT") {
            operation = operation.response("413", failure("Body over the limit"));
        }
        if route.idempotent {
            operation = operation
                .response("409", failure("A request with the same Idempotency-Key is still running"))
                .response("422", failure("The Idempotency-Key was used with a different request"));
        }
        if !body_fields.is_empty() {
            operation = operation.request_body(Some(request_body(face, &route.path, &body_fields)));
        }
        if route.access != kit::Access::Public {
            operation = operation
                .response("401", failure("Missing or wrong key (parts, billing)"))
                .response("403", failure("Missing or wrong key, scope, address or site"));
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

/// `GET /openapi.json`: the document is fixed for the life of the process (the route tables are
/// static), so it is built and serialised once.
pub async fn serve() -> Response {
    use axum::response::IntoResponse;
    static TEXT: std::sync::OnceLock<Result<String, String>> = std::sync::OnceLock::new();
    match TEXT.get_or_init(|| document().to_json().map_err(|e| e.to_string())) {
        Ok(text) => {
            (StatusCode::OK, [(axum::http::header::CONTENT_TYPE, "application/json; charset=utf-8")], text.clone())
                .into_response()
        }
        Err(e) => crate::json_response(StatusCode::INTERNAL_SERVER_ERROR, &serde_json::json!({ "error": e })),
    }
}

/// `GET /docs` and its two assets: a page that renders `/openapi.json` in a browser, served by torg
/// itself (nothing is fetched from the internet).
pub async fn docs(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    let (body, content_type) = match file.as_str() {
        "docs.js" => (include_str!("../assets/docs/docs.js"), "text/javascript; charset=utf-8"),
        "docs.css" => (include_str!("../assets/docs/docs.css"), "text/css; charset=utf-8"),
        _ => return crate::envelope::Envelope::Plain.error(StatusCode::NOT_FOUND, "Not found."),
    };
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// `GET /docs`.
pub async fn docs_page() -> Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], include_str!("../assets/docs/index.html")).into_response()
}
