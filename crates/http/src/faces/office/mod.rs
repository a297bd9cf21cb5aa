//! The office face: the KEAZ distributor office API (docs/office.md).
//!
//! One dispatcher, `POST /restapi/office/{resource}.{action}.{type}`: the body is a form with PHP
//! brackets, JSON, or `<request>` XML; `hash` in it is the API key, which must hold the `office` scope
//! and belong to a distributor. The distributor sees and changes only its own warehouses, the stock at
//! them and the orders shipped from them; products and cross-references are the shared catalogue.
//! Every answer is the documented envelope in JSON or XML; validation failures are HTTP 200 with
//! `status.code = "error"`, a bad key is 403 with the same envelope, and per-row problems are messages
//! while the batch stays `ok`.

mod body;
mod crosses;
pub mod envelope;
mod orders;
mod products;
mod remains;
mod rows;
mod warehouses;
pub mod xml;

use crate::AppState;
use crate::envelope::Envelope as FaceEnvelope;
use crate::kit::{
    self, Access, Denied, Face, Field, Gate, KeySource, Kind, OwnerRule, Prefix, Route, Security, no_aliases,
};
use crate::ratelimit::Class;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use envelope::{Format, Reply};
use serde_json::{Map, Value};
use torg_domain::key::{ApiKey, KeyOwner};
use torg_store::{CatalogueFilter, StoreError};

/// The face: one dispatcher route; `hash` in the body is a distributor's key with the `office` scope.
pub static FACE: Face = Face {
    name: "office",
    title: "KEAZ distributor office API",
    prefixes: &[Prefix { path: "/restapi/", rate: Class::Api }],
    envelope: FaceEnvelope::Office,
    keys: &[KeySource::Body("hash")],
    owner: OwnerRule::Distributor,
    security: Security::BodyField("hash"),
    routes,
    aliases: no_aliases,
};

const OFFICE: Access = Access::Scope("office");

/// Every resource and action with its summary, as the document lists them (all answer on the one
/// dispatcher route, which checks verbs and names in the office's own words).
const CALLS: &[(&str, &str, &str)] = &[
    ("warehouses", "get", "The distributor's warehouses matching a filter"),
    ("warehouses", "list", "The distributor's warehouses"),
    ("warehouses", "add", "Add warehouses (existing codes are reported)"),
    ("warehouses", "update", "Change warehouses by code"),
    ("warehouses", "delete", "Close warehouses and take their stock off sale"),
    ("remains", "get", "Stock matching a filter"),
    ("remains", "list", "Stock at the distributor's warehouses"),
    ("remains", "add", "Set stock (creates parts new to the catalogue)"),
    ("remains", "update", "Change existing stock rows"),
    ("remains", "delete", "Take parts off sale at a warehouse"),
    ("products", "get", "Catalogue products matching a filter"),
    ("products", "list", "Catalogue products"),
    ("products", "add", "Add products (existing ones are reported)"),
    ("products", "update", "Rename or describe products"),
    ("crosses", "get", "Cross-references matching a filter"),
    ("crosses", "list", "Cross-references"),
    ("crosses", "add", "Add cross-references (both directions)"),
    ("crosses", "delete", "Remove cross-references"),
    ("orders", "get", "Orders shipped from the distributor's warehouses, by filter"),
    ("orders", "list", "Orders shipped from the distributor's warehouses"),
    ("orders", "update", "Set order status and tracking numbers"),
];

fn routes() -> Vec<Route> {
    let mut routes = vec![Route::any("/restapi/office/{call}", OFFICE, dispatch).idempotent()];
    for (resource, action, summary) in CALLS {
        let fields = Resource::parse(resource).map(|r| call_fields(r, action)).unwrap_or_default();
        routes.push(
            Route::documented("POST", format!("/restapi/office/{resource}.{action}.{{type}}"), OFFICE)
                .doc("office", format!("office_{action}_{resource}"), *summary)
                .fields(&fields),
        );
    }
    routes
}

/// What a call reads, from the same lists its handler accepts rows and filters by: `hash`, then a
/// filter and paging for `get` and `list`, rows for the writes.
fn call_fields(resource: Resource, action: &str) -> Vec<Field> {
    let (fields, filters) = match resource {
        Resource::Warehouses => (warehouses::FIELDS, warehouses::FIELDS),
        Resource::Remains => (remains::FIELDS, remains::FIELDS),
        Resource::Products => (products::FIELDS, products::FILTERS),
        Resource::Crosses => (crosses::FIELDS, crosses::FILTERS),
        Resource::Orders => (orders::FIELDS, orders::FILTERS),
    };
    let mut out = vec![Field::text("hash").required().about("The API key.")];
    let paging = [Field::int("limit"), Field::int("page").about("From 1.")];
    match action {
        "get" => {
            out.push(Field::new("filter", Kind::Members(filters)).required().about("Values (or lists) per field."));
            out.extend(paging);
        }
        "list" => out.extend(paging),
        _ => out.push(
            Field::new("data", Kind::Rows(fields))
                .required()
                .about("The rows (also accepted under the resource's name)."),
        ),
    }
    out
}

/// What an office resource is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resource {
    Warehouses,
    Remains,
    Products,
    Crosses,
    Orders,
}

impl Resource {
    fn parse(s: &str) -> Option<Resource> {
        Some(match s {
            "warehouses" => Resource::Warehouses,
            "remains" => Resource::Remains,
            "products" => Resource::Products,
            "crosses" => Resource::Crosses,
            "orders" => Resource::Orders,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Resource::Warehouses => "warehouses",
            Resource::Remains => "remains",
            Resource::Products => "products",
            Resource::Crosses => "crosses",
            Resource::Orders => "orders",
        }
    }

    fn actions(self) -> &'static [&'static str] {
        match self {
            Resource::Warehouses | Resource::Remains => &["get", "list", "add", "update", "delete"],
            Resource::Products => &["get", "list", "add", "update"],
            Resource::Crosses => &["get", "list", "add", "delete"],
            Resource::Orders => &["get", "list", "update"],
        }
    }
}

/// An authenticated office call.
pub(crate) struct Ctx<'a> {
    state: &'a AppState,
    key: std::sync::Arc<ApiKey>,
    distributor: String,
    tree: Map<String, Value>,
    action: &'static str,
}

/// The outcome of a call that ran: rows, and messages about single rows.
#[derive(Debug, Default)]
pub(crate) struct Done {
    rows: Vec<Value>,
    messages: Vec<String>,
}

/// A call that failed as a whole, with HTTP 200 (validation) unless said otherwise.
#[derive(Debug)]
pub(crate) struct Failed(StatusCode, Vec<String>);

impl Failed {
    fn invalid(message: impl Into<String>) -> Failed {
        Failed(StatusCode::OK, vec![message.into()])
    }
}

impl From<String> for Failed {
    fn from(message: String) -> Failed {
        Failed::invalid(message)
    }
}

/// A broken rule as the office words it: per-field messages as "`field`: message" joined by "; ",
/// any other rule by its own message.
fn domain_text(e: torg_domain::DomainError) -> String {
    match e {
        torg_domain::DomainError::Invalid(_) | torg_domain::DomainError::Refused(_) => {
            e.into_fields().iter().map(|(f, m)| format!("`{f}`: {m}")).collect::<Vec<_>>().join("; ")
        }
        other => other.to_string(),
    }
}

impl From<StoreError> for Failed {
    fn from(e: StoreError) -> Failed {
        match e {
            StoreError::Domain(e) => Failed::invalid(domain_text(e)),
            other => {
                tracing::error!(error = %other, "office store call failed");
                Failed(StatusCode::INTERNAL_SERVER_ERROR, vec!["Внутренняя ошибка сервера.".into()])
            }
        }
    }
}

type CallResult = Result<Done, Failed>;

/// `{resource}.{action}[.{type}]` from the last path segment.
fn split_call(call: &str) -> (String, String, Option<String>) {
    let mut parts = call.splitn(3, '.');
    let resource = parts.next().unwrap_or("").to_string();
    let action = parts.next().unwrap_or("").to_string();
    (resource, action, parts.next().map(str::to_owned))
}

/// `POST /restapi/office/{resource}.{action}.{type}`.
async fn dispatch(State(state): State<AppState>, Path(call): Path<String>, req: Request<Body>) -> Response {
    let (resource_name, action_name, type_name) = split_call(&call);
    let format = match type_name.as_deref() {
        None | Some("") => Format::Json,
        Some(t) => match Format::parse(t) {
            Some(f) => f,
            None => {
                return Reply::error(
                    StatusCode::NOT_FOUND,
                    None,
                    format!("Неизвестный тип ответа `{t}`: json или xml."),
                )
                .into_response(Format::Json);
            }
        },
    };
    let Some(resource) = Resource::parse(&resource_name) else {
        let msg =
            format!("Неизвестный ресурс `{resource_name}`; доступны: warehouses, remains, products, crosses, orders.");
        return Reply::error(StatusCode::NOT_FOUND, None, msg).into_response(format);
    };
    let Some(&action) = resource.actions().iter().find(|a| **a == action_name) else {
        let msg = format!(
            "Ресурс `{}` не поддерживает действие `{action_name}`; доступны: {}.",
            resource.name(),
            resource.actions().join(", ")
        );
        return Reply::error(StatusCode::NOT_FOUND, Some(resource.name()), msg).into_response(format);
    };
    if req.method() != Method::POST {
        let mut resp = Reply::error(
            StatusCode::METHOD_NOT_ALLOWED,
            Some(resource.name()),
            format!("Метод {} не поддерживается: данные передаются POST-запросом.", req.method()),
        )
        .into_response(format);
        resp.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
        return resp;
    }
    let ip = crate::client_ip(&req);
    let gate = Gate::of(req.extensions());
    let headers = req.headers().clone();
    let query = crate::params::parse_urlencoded(req.uri().query().unwrap_or("").as_bytes());
    let tree = match body::read(req, state.config.body_limit).await {
        Ok(t) => t,
        Err(body::BodyError::TooLarge) => {
            return Reply::error(StatusCode::PAYLOAD_TOO_LARGE, Some(resource.name()), "Запрос слишком большой.")
                .into_response(format);
        }
        Err(body::BodyError::Malformed(m)) => {
            return Reply::error(StatusCode::OK, Some(resource.name()), m).into_response(format);
        }
    };
    let hash = kit::key_from(FACE.keys, &headers, &query, &tree);
    let (key, distributor) = match authenticate(&state, gate, hash.as_deref(), ip).await {
        Ok(k) => k,
        Err(Failed(http, m)) => return Reply::failed(http, Some(resource.name()), m).into_response(format),
    };
    let ctx = Ctx { state: &state, key, distributor, tree, action };
    let result = match resource {
        Resource::Warehouses => warehouses::run(&ctx).await,
        Resource::Remains => remains::run(&ctx).await,
        Resource::Products => products::run(&ctx).await,
        Resource::Crosses => crosses::run(&ctx).await,
        Resource::Orders => orders::run(&ctx).await,
    };
    let reply = match result {
        Ok(done) => Reply {
            http: StatusCode::OK,
            rows: Some((resource.name(), done.rows)),
            error: false,
            messages: done.messages,
        },
        Err(Failed(http, m)) => Reply::failed(http, Some(resource.name()), m),
    };
    reply.into_response(format)
}

/// The key in `hash`, through the kit's gate, with the refusals worded as the office words them.
async fn authenticate(
    state: &AppState,
    gate: Result<Gate, Denied>,
    hash: Option<&str>,
    ip: std::net::IpAddr,
) -> Result<(std::sync::Arc<ApiKey>, String), Failed> {
    let refuse = |e: Denied| match e {
        Denied::Failed(e) => Failed::from(e),
        other => {
            let message = match other {
                Denied::Missing => "Не передан обязательный параметр hash (api-ключ).",
                Denied::Scope(_) => "Api-ключ не даёт доступа к офису дистрибьютора (нужно право office).",
                Denied::Owner => "Api-ключ не принадлежит дистрибьютору.",
                Denied::Address => "Доступ с этого IP-адреса для api-ключа запрещён.",
                _ => "Неверный api-ключ (hash).",
            };
            Failed(StatusCode::FORBIDDEN, vec![message.to_string()])
        }
    };
    let gate = gate.map_err(refuse)?;
    let Some(admitted) = gate.admit(state, hash, ip).await.map_err(refuse)? else {
        return Err(refuse(Denied::Undeclared));
    };
    let Some(KeyOwner::Distributor(code)) = admitted.key.owner.clone() else { return Err(refuse(Denied::Owner)) };
    Ok((admitted.key, code))
}

impl Ctx<'_> {
    /// The filter, allowing `fields`; `get` needs one.
    fn filter(&self, fields: &[&str]) -> Result<rows::Filter, Failed> {
        let f = rows::filter(&self.tree, fields)?;
        if self.action == "get" && f.is_empty() {
            return Err(Failed::invalid(format!(
                "Для действия get нужен фильтр `filter` по одному из полей: {}.",
                fields.join(", ")
            )));
        }
        Ok(f)
    }

    /// The filter over `fields`, the page, and the catalogue query they make: each list holds the
    /// filter's values for the field of its name (`id` values must be numbers).
    fn catalogue_filter(&self, fields: &[&str]) -> Result<(rows::Filter, CatalogueFilter), Failed> {
        let filter = self.filter(fields)?;
        let (limit, offset) = self.paging()?;
        let f = CatalogueFilter {
            ids: filter.ids("id")?,
            articles: filter.values("article"),
            brands: filter.values("brand"),
            warehouses: filter.values("warehouse"),
            names: filter.values("name"),
            descriptions: filter.values("description"),
            cross_articles: filter.values("cross_article"),
            cross_brands: filter.values("cross_brand"),
            limit,
            offset,
        };
        Ok((filter, f))
    }

    /// `limit` and `page`.
    fn paging(&self) -> Result<(u32, u64), Failed> {
        Ok(rows::paging(&self.tree)?)
    }

    /// Rows to write, each checked by `parse`; every bad row is reported and nothing is written.
    fn parsed<T>(
        &self,
        resource: &str,
        entity: &str,
        parse: impl Fn(&Map<String, Value>) -> Result<T, String>,
    ) -> Result<Vec<T>, Failed> {
        let given = self.rows(resource)?;
        let mut out = Vec::with_capacity(given.len());
        let mut bad = Vec::new();
        for (i, row) in given.iter().enumerate() {
            match parse(row) {
                Ok(t) => out.push(t),
                Err(why) => bad.push(rows::bad_row(entity, i, row, &why)),
            }
        }
        if bad.is_empty() { Ok(out) } else { Err(Failed(StatusCode::OK, bad)) }
    }

    /// The rows given to write.
    fn rows(&self, resource: &str) -> Result<Vec<Map<String, Value>>, Failed> {
        Ok(rows::rows(&self.tree, resource)?)
    }
}
