//! The office face: the KEAZ distributor office API (seed 004, `spec/office.md`).
//!
//! One dispatcher, `POST /restapi/office/{resource}.{action}.{type}`: the body is a form with PHP
//! brackets, JSON, or `<request>` XML; `hash` in it is the API key, which must hold the `office` scope
//! and belong to a distributor. The distributor sees and changes only its own warehouses, the stock at
//! them and the orders shipped from them; products and cross-references are the shared catalogue.
//! Every answer is the seed's envelope in JSON or XML; validation failures are HTTP 200 with
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
use crate::faces::RouteSpec;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use axum::routing::any;
use envelope::{Format, Reply};
use serde_json::{Map, Value};
use torg_domain::key::{ApiKey, KeyOwner};
use torg_store::{CatalogueFilter, StoreError};

/// One call on the dispatcher route, for the OpenAPI document: its path and operation id both follow
/// from the resource and the action.
macro_rules! r {
    ($resource:literal, $action:literal, $summary:literal) => {
        RouteSpec {
            method: "POST",
            path: concat!("/restapi/office/", $resource, ".", $action, ".{type}"),
            operation: concat!("office_", $action, "_", $resource),
            summary: $summary,
            scope: Some("office"),
            tag: "office",
        }
    };
}

/// Every resource and action, for the OpenAPI document (all answer on the one dispatcher route).
pub const ROUTES: &[RouteSpec] = &[
    r!("warehouses", "get", "The distributor's warehouses matching a filter"),
    r!("warehouses", "list", "The distributor's warehouses"),
    r!("warehouses", "add", "Add warehouses (existing codes are reported)"),
    r!("warehouses", "update", "Change warehouses by code"),
    r!("warehouses", "delete", "Close warehouses and take their stock off sale"),
    r!("remains", "get", "Stock matching a filter"),
    r!("remains", "list", "Stock at the distributor's warehouses"),
    r!("remains", "add", "Set stock (creates parts new to the catalogue)"),
    r!("remains", "update", "Change existing stock rows"),
    r!("remains", "delete", "Take parts off sale at a warehouse"),
    r!("products", "get", "Catalogue products matching a filter"),
    r!("products", "list", "Catalogue products"),
    r!("products", "add", "Add products (existing ones are reported)"),
    r!("products", "update", "Rename or describe products"),
    r!("crosses", "get", "Cross-references matching a filter"),
    r!("crosses", "list", "Cross-references"),
    r!("crosses", "add", "Add cross-references (both directions)"),
    r!("crosses", "delete", "Remove cross-references"),
    r!("orders", "get", "Orders shipped from the distributor's warehouses, by filter"),
    r!("orders", "list", "Orders shipped from the distributor's warehouses"),
    r!("orders", "update", "Set order status and tracking numbers"),
];

/// The face's router.
pub fn routes() -> Router<AppState> {
    Router::new().route("/restapi/office/{call}", any(dispatch))
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
    key: ApiKey,
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

impl From<StoreError> for Failed {
    fn from(e: StoreError) -> Failed {
        match e {
            StoreError::Domain(torg_domain::DomainError::Invalid(fields)) => {
                Failed::invalid(fields.iter().map(|(f, m)| format!("`{f}`: {m}")).collect::<Vec<_>>().join("; "))
            }
            StoreError::Domain(other) => Failed::invalid(other.to_string()),
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
    let (key, distributor) = match authenticate(&state, &tree, ip).await {
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

/// The key in `hash`: it must exist, hold `office`, belong to a distributor, and allow this address.
async fn authenticate(
    state: &AppState,
    tree: &Map<String, Value>,
    ip: std::net::IpAddr,
) -> Result<(ApiKey, String), Failed> {
    let denied = |m: &str| Failed(StatusCode::FORBIDDEN, vec![m.to_string()]);
    let hash = match tree.get("hash") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(denied("Не передан обязательный параметр hash (api-ключ).")),
    };
    let key = match state.store.find_key(&hash).await {
        Ok(Some(k)) => k,
        Ok(None) => return Err(denied("Неверный api-ключ (hash).")),
        Err(e) => return Err(e.into()),
    };
    if !key.has_scope("office") {
        return Err(denied("Api-ключ не даёт доступа к офису дистрибьютора (нужно право office)."));
    }
    let Some(KeyOwner::Distributor(code)) = key.owner.clone() else {
        return Err(denied("Api-ключ не принадлежит дистрибьютору."));
    };
    if !key.allows_ip(ip) {
        return Err(denied("Доступ с этого IP-адреса для api-ключа запрещён."));
    }
    Ok((key, code))
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
