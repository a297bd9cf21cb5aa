//! The face kit. A face is declared once ([`Face`]): its path prefixes with their rate-limit class, its
//! error envelope, where it takes the key from, whom the key must act for, and its routes. Each
//! [`Route`] carries its verb, path, handler, required [`Access`] and documentation together, so the
//! router, `/openapi.json` and `/api/credentials` are all read from the same list, and a route cannot
//! be built without saying what access it needs.
//!
//! Every keyed route passes the one authentication step, [`Gate::admit`]: key from the face's sources,
//! revocation, IP allow-list, scope, owner, site access. It fails closed: a handler whose route was
//! not declared through the kit finds no [`Gate`] and refuses.

use crate::AppState;
use crate::envelope::Envelope;
pub use crate::fields::{BY, Field, Kind, Members, PAGING, Place, SITE, Shape, paging};
use crate::input::Input;
use crate::ratelimit::Class;
use axum::Router;
use axum::handler::Handler;
use axum::http::{Extensions, HeaderMap};
use axum::routing::{MethodFilter, MethodRouter, on};
use serde_json::{Map, Value};
use std::sync::Arc;
use torg_domain::books::Books;
use torg_domain::key::{ApiKey, KeyOwner};
use torg_store::StoreError;

/// Where a face reads the key from, tried in the declared order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// A header holding the key itself (`X-API-KEY`).
    Header(&'static str),
    /// `Authorization: Bearer <key>`.
    Bearer,
    /// A query parameter (`apiKey`, `api_key`).
    Query(&'static str),
    /// A body field (`apiKey` in a form, `hash` in the office's XML or JSON).
    Body(&'static str),
}

/// Whom a face's keys must act for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerRule {
    /// Any key (or none) with the scope.
    Any,
    /// A key owned by a customer (a parts buyer).
    Customer,
    /// A key owned by a distributor (the office).
    Distributor,
}

/// What a route asks of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No key: public pages and documents.
    Public,
    /// Any live key, whatever its scopes (RetailCRM's `credentials` and `api-versions`).
    AnyKey,
    /// A key that holds this scope.
    Scope(&'static str),
    /// A key that holds this scope when one is sent; without one the handler runs keyless
    /// (Invoicebox's token check answers both).
    ScopeIfKeyed(&'static str),
}

impl Access {
    /// The scope the route names, if any.
    pub fn scope(self) -> Option<&'static str> {
        match self {
            Access::Public | Access::AnyKey => None,
            Access::Scope(s) | Access::ScopeIfKeyed(s) => Some(s),
        }
    }
}

/// A path prefix of a face and the rate limit its requests fall under.
#[derive(Debug, Clone, Copy)]
pub struct Prefix {
    /// Where the face's paths start (`/api/`), or a whole path (`/track`).
    pub path: &'static str,
    /// The limit requests under it count against.
    pub rate: Class,
}

/// How the OpenAPI document names a face's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// No key.
    None,
    /// A header (and, equivalently, a query parameter of another name).
    HeaderOrQuery(&'static str, &'static str),
    /// A query parameter.
    Query(&'static str),
    /// A bearer token.
    Bearer,
    /// A field of the body (described in words: OpenAPI has no scheme for it).
    BodyField(&'static str),
}

/// One API dialect, declared once.
pub struct Face {
    /// Short name: the OpenAPI tag prefix and the log field.
    pub name: &'static str,
    /// What the face is, for the document.
    pub title: &'static str,
    /// Its paths, most specific first.
    pub prefixes: &'static [Prefix],
    /// The shape its failures take.
    pub envelope: Envelope,
    /// Where its key comes from.
    pub keys: &'static [KeySource],
    /// Whom its keys must act for.
    pub owner: OwnerRule,
    /// The security scheme the document names.
    pub security: Security,
    /// Its routes.
    pub routes: fn() -> Vec<Route>,
    /// Other paths each route also answers on (`/l3/` for `/v3/`, no trailing slash).
    pub aliases: fn(&str) -> Vec<String>,
}

impl Face {
    /// Whether `path` belongs to this face.
    pub fn owns(&self, path: &str) -> bool {
        self.prefix(path).is_some()
    }

    fn prefix(&self, path: &str) -> Option<&Prefix> {
        self.prefixes
            .iter()
            .find(|p| path.starts_with(p.path) || p.path.strip_suffix('/').is_some_and(|bare| path == bare))
    }
}

/// No other paths.
pub fn no_aliases(_: &str) -> Vec<String> {
    Vec::new()
}

/// The face a path belongs to.
pub fn face_of(path: &str) -> Option<&'static Face> {
    crate::faces::FACES.iter().copied().find(|f| f.owns(path))
}

/// The error envelope for a path: its face's, or the plain one.
pub fn envelope_of(path: &str) -> Envelope {
    face_of(path).map_or(Envelope::Plain, |f| f.envelope)
}

/// The rate-limit class of a path: its face's prefix's, or none.
pub fn rate_of(path: &str) -> Class {
    face_of(path).and_then(|f| f.prefix(path)).map_or(Class::None, |p| p.rate)
}

/// The documentation of a route.
#[derive(Debug, Clone, Default)]
pub struct Doc {
    /// Operation id.
    pub operation: String,
    /// One-line summary.
    pub summary: String,
    /// Group in the document.
    pub tag: String,
}

/// One route: verb, path, access, documentation and handler, together.
pub struct Route {
    /// HTTP verb, upper case (`ANY` for a dispatcher).
    pub method: &'static str,
    /// Path with `{param}` segments.
    pub path: String,
    /// What the caller needs.
    pub access: Access,
    /// What the document says.
    pub doc: Doc,
    /// Served by this route, or documented only (an office call served by the face's dispatcher).
    handler: Option<MethodRouter<AppState>>,
    /// Listed in the document.
    pub documented: bool,
    /// Retries with an `Idempotency-Key` get the first answer (`crate::idempotency`).
    pub idempotent: bool,
    /// What the handler reads besides path parameters and the key.
    pub fields: Vec<Field>,
    /// The members of a successful answer besides the face's envelope (`success`, `data`, `status`).
    pub answers: Vec<Field>,
}

fn make<H, T>(method: &'static str, filter: MethodFilter, path: impl Into<String>, access: Access, handler: H) -> Route
where
    H: Handler<T, AppState>,
    T: 'static,
{
    Route {
        method,
        path: path.into(),
        access,
        doc: Doc::default(),
        handler: Some(on(filter, handler)),
        documented: true,
        idempotent: false,
        fields: Vec::new(),
        answers: Vec::new(),
    }
}

impl Route {
    /// A `GET` route.
    pub fn get<H: Handler<T, AppState>, T: 'static>(path: impl Into<String>, access: Access, handler: H) -> Route {
        make("GET", MethodFilter::GET, path, access, handler)
    }

    /// A `POST` route.
    pub fn post<H: Handler<T, AppState>, T: 'static>(path: impl Into<String>, access: Access, handler: H) -> Route {
        make("POST", MethodFilter::POST, path, access, handler)
    }

    /// A `PUT` route.
    pub fn put<H: Handler<T, AppState>, T: 'static>(path: impl Into<String>, access: Access, handler: H) -> Route {
        make("PUT", MethodFilter::PUT, path, access, handler)
    }

    /// A `DELETE` route.
    pub fn delete<H: Handler<T, AppState>, T: 'static>(path: impl Into<String>, access: Access, handler: H) -> Route {
        make("DELETE", MethodFilter::DELETE, path, access, handler)
    }

    /// A route answering every verb itself (a dispatcher that checks verbs in its own words); not
    /// in the document, whose entries for it come from [`Route::documented`].
    pub fn any<H: Handler<T, AppState>, T: 'static>(path: impl Into<String>, access: Access, handler: H) -> Route {
        Route {
            method: "ANY",
            path: path.into(),
            access,
            doc: Doc::default(),
            handler: Some(axum::routing::any(handler)),
            documented: false,
            idempotent: false,
            fields: Vec::new(),
            answers: Vec::new(),
        }
    }

    /// A documented operation that a dispatcher route of the same face serves.
    pub fn documented(method: &'static str, path: impl Into<String>, access: Access) -> Route {
        Route {
            method,
            path: path.into(),
            access,
            doc: Doc::default(),
            handler: None,
            documented: true,
            idempotent: false,
            fields: Vec::new(),
            answers: Vec::new(),
        }
    }

    /// Makes retries with an `Idempotency-Key` safe: the first answer is kept and given again.
    pub fn idempotent(mut self) -> Route {
        self.idempotent = true;
        self
    }

    /// Sets the operation id, summary and group.
    pub fn doc(mut self, tag: &str, operation: impl Into<String>, summary: impl Into<String>) -> Route {
        self.doc = Doc { operation: operation.into(), summary: summary.into(), tag: tag.into() };
        self
    }

    /// Declares fields the handler reads (added to any declared before).
    pub fn fields(mut self, fields: &[Field]) -> Route {
        self.fields.extend_from_slice(fields);
        self
    }

    /// Declares members a successful answer carries.
    pub fn answers(mut self, members: &[Field]) -> Route {
        self.answers.extend_from_slice(members);
        self
    }
}

/// Every route of every face, with its face.
pub fn all_routes() -> Vec<(&'static Face, Route)> {
    crate::faces::FACES.iter().flat_map(|f| (f.routes)().into_iter().map(move |r| (*f, r))).collect()
}

/// The router of every face: each route carries its [`Gate`]; idempotent ones keep their answers.
pub fn router(state: &AppState) -> Router<AppState> {
    let mut router = Router::new();
    for (index, (face, route)) in all_routes().into_iter().enumerate() {
        let Some(mut handler) = route.handler else { continue };
        if route.idempotent {
            handler =
                handler.layer(axum::middleware::from_fn_with_state(state.clone(), crate::idempotency::middleware));
        }
        // Added last, so it runs first: the idempotency layer reads the gate too.
        let handler = handler.layer(axum::Extension(Gate { face, access: route.access, route: index }));
        for path in std::iter::once(route.path.clone()).chain((face.aliases)(&route.path)) {
            router = router.route(&path, handler.clone());
        }
    }
    router
}

/// What the kit attaches to each route it builds: the face and the access the route needs.
#[derive(Clone, Copy)]
pub struct Gate {
    /// The face.
    pub face: &'static Face,
    /// What the route asks.
    pub access: Access,
    /// The route's place in [`crate::fields::declared`].
    pub route: usize,
}

/// A caller the gate let in.
#[derive(Debug, Clone)]
pub struct Admitted {
    /// The key.
    pub key: Arc<ApiKey>,
    /// Sites, warehouses and reference books as of this request.
    pub books: Arc<Books>,
    /// Existing sites the key reaches.
    pub sites: Vec<String>,
    /// The generation of what pages of orders are read from, as the key check read it.
    pub shown: torg_store::ShownGeneration,
}

/// Why the gate refused; each face words it in its own envelope.
#[derive(Debug)]
pub enum Denied {
    /// The route was not built by the kit: nobody said what it needs.
    Undeclared,
    /// No key where the face takes it.
    Missing,
    /// No such key, or a revoked one.
    Wrong,
    /// The key may not be used from this address.
    Address,
    /// The key lacks the scope.
    Scope(&'static str),
    /// The key does not act for the kind of owner the face needs.
    Owner,
    /// The store could not answer.
    Failed(StoreError),
}

impl Gate {
    /// The gate of the route a request matched; [`Denied::Undeclared`] when there is none.
    pub fn of(extensions: &Extensions) -> Result<Gate, Denied> {
        extensions.get::<Gate>().copied().ok_or(Denied::Undeclared)
    }

    /// The key text, from the first of the face's sources that holds one.
    pub fn key_in(&self, input: &Input) -> Option<String> {
        key_from(self.face.keys, &input.headers, &input.query, &input.body)
    }

    /// Checks `key` (as found in the request) for this route: none is needed on a public route
    /// (and none is looked at); otherwise it must exist, be live, allow `ip`, hold the scope and act
    /// for the face's kind of owner. A checking server notes the route as reached when it admits.
    pub async fn admit(
        &self,
        state: &AppState,
        key: Option<&str>,
        ip: std::net::IpAddr,
    ) -> Result<Option<Admitted>, Denied> {
        let admitted = self.check(state, key, ip).await;
        if let (Ok(_), Some(log)) = (&admitted, &state.undeclared) {
            log.reached(self.route);
        }
        admitted
    }

    async fn check(
        &self,
        state: &AppState,
        key: Option<&str>,
        ip: std::net::IpAddr,
    ) -> Result<Option<Admitted>, Denied> {
        let scope = match self.access {
            Access::Public => return Ok(None),
            Access::ScopeIfKeyed(_) if key.is_none() => return Ok(None),
            Access::AnyKey => None,
            Access::Scope(s) | Access::ScopeIfKeyed(s) => Some(s),
        };
        let Some(plain) = key else { return Err(Denied::Missing) };
        let (key, books, shown) = match state.store.authenticate(plain).await {
            Ok(Some(found)) => found,
            Ok(None) => return Err(Denied::Wrong),
            Err(e) => return Err(Denied::Failed(e)),
        };
        if !key.allows_ip(ip) {
            return Err(Denied::Address);
        }
        if let Some(scope) = scope.filter(|s| !key.has_scope(s)) {
            return Err(Denied::Scope(scope));
        }
        let owner_fits = match self.face.owner {
            OwnerRule::Any => true,
            OwnerRule::Customer => matches!(key.owner, Some(KeyOwner::Customer(_))),
            OwnerRule::Distributor => matches!(key.owner, Some(KeyOwner::Distributor(_))),
        };
        if !owner_fits {
            return Err(Denied::Owner);
        }
        let sites = key.reachable_sites(books.sites().iter().map(|s| s.code.as_str()));
        crate::observe::note_caller(&key.name);
        Ok(Some(Admitted { key, books, sites, shown }))
    }
}

/// The key text from `sources`, reading body fields from `body` (a form, a JSON object, or a face's
/// own parsed body such as the office's XML). Empty values count as absent.
pub fn key_from(
    sources: &[KeySource],
    headers: &HeaderMap,
    query: &Map<String, Value>,
    body: &Map<String, Value>,
) -> Option<String> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    sources.iter().find_map(|source| {
        match source {
            KeySource::Header(name) => header(name).map(|h| h.trim().to_string()),
            KeySource::Bearer => header("authorization")
                .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
                .map(|t| t.trim().to_string()),
            KeySource::Query(name) => query.get(*name).and_then(text),
            KeySource::Body(name) => body.get(*name).and_then(text),
        }
        .filter(|k| !k.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use std::collections::HashSet;
    use tower::ServiceExt;

    #[test]
    fn every_route_is_documented_once_and_names_its_access() {
        let mut operations = HashSet::new();
        let mut routes = HashSet::new();
        for (face, route) in all_routes() {
            assert!(route.path.starts_with('/'), "{}", route.path);
            assert!(face.owns(&route.path), "{} is outside the {} face's prefixes", route.path, face.name);
            assert!(routes.insert((route.method, route.path.clone())), "{} {} twice", route.method, route.path);
            if route.documented {
                assert!(!route.doc.summary.is_empty() && !route.doc.tag.is_empty(), "{} undocumented", route.path);
                assert!(operations.insert(route.doc.operation.clone()), "operation {} twice", route.doc.operation);
            }
            if route.access != Access::Public {
                assert!(!face.keys.is_empty(), "{} needs a key its face has no source for", route.path);
            }
        }
    }

    #[test]
    fn paths_find_their_face_envelope_and_limit() {
        assert_eq!(envelope_of("/api/v5/orders"), Envelope::Crm);
        assert_eq!(envelope_of("/api"), Envelope::Crm);
        assert_eq!(envelope_of("/l3/filter/api/order/order"), Envelope::Billing);
        assert_eq!(envelope_of("/restapi/office/x"), Envelope::Office);
        assert_eq!(envelope_of("/elsewhere"), Envelope::Plain);
        assert_eq!(rate_of("/api/v5/telephony/manager"), Class::Telephony);
        assert_eq!(rate_of("/api/v5/orders"), Class::Api);
        assert_eq!(rate_of("/v3/billing/api/order/order"), Class::Billing);
        assert_eq!(rate_of("/track"), Class::Api);
        assert_eq!(rate_of("/openapi.json"), Class::None);
    }

    #[test]
    fn keys_come_from_the_declared_sources_in_order() {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", "Bearer  tok ".parse().unwrap());
        headers.insert("x-api-key", "".parse().unwrap());
        let query: Map<String, Value> = serde_json::from_str(r#"{"apiKey": "q"}"#).unwrap();
        let body: Map<String, Value> = serde_json::from_str(r#"{"hash": 123}"#).unwrap();
        let crm = [KeySource::Header("x-api-key"), KeySource::Query("apiKey"), KeySource::Body("apiKey")];
        assert_eq!(key_from(&crm, &headers, &query, &body).as_deref(), Some("q"), "an empty header is no key");
        assert_eq!(key_from(&[KeySource::Bearer], &headers, &query, &body).as_deref(), Some("tok"));
        assert_eq!(key_from(&[KeySource::Body("hash")], &headers, &query, &body).as_deref(), Some("123"));
        assert_eq!(key_from(&[KeySource::Query("api_key")], &headers, &query, &body), None);
    }

    /// A handler reached by a route the kit did not build finds no gate and refuses, even with a
    /// valid key.
    #[tokio::test]
    async fn a_route_outside_the_kit_fails_closed() {
        let store = torg_store::Store::open("sqlite::memory:").await.unwrap();
        let plain = "kit-test-key-0123456789abcdefghijklmnop".to_string();
        store
            .create_key(torg_store::NewKey {
                plain: plain.clone(),
                name: "all".into(),
                scopes: torg_domain::key::ALL_SCOPES.iter().map(|s| s.to_string()).collect(),
                sites: torg_domain::key::SiteAccess::Full,
                allowed_ips: Vec::new(),
                customer_external_id: None,
                distributor: None,
            })
            .await
            .unwrap();
        let state = AppState::new(store, crate::HttpConfig::default()).await.unwrap();
        async fn handler(_crm: crate::faces::crm::Crm) -> &'static str {
            "reached"
        }
        let app = crate::router(state.clone());
        let stray: Router = Router::new().route("/api/v5/stray", axum::routing::get(handler)).with_state(state);
        for (router, expected) in [(stray, StatusCode::FORBIDDEN), (app, StatusCode::OK)] {
            let path = if expected == StatusCode::OK { "/api/credentials" } else { "/api/v5/stray" };
            let req = Request::get(path).header("x-api-key", &plain).body(Body::empty()).unwrap();
            let resp = router.oneshot(req).await.unwrap();
            assert_eq!(resp.status(), expected, "{path}");
        }
    }
}
