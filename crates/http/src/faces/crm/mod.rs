//! The CRM face: RetailCRM API v5 (docs/crm.md).
//!
//! Parameters come as PHP-style query strings or form fields whose nested values are JSON strings; the
//! key comes as `X-API-KEY` or `apiKey`; every answer carries `success`; errors are
//! `{"success": false, "errorMsg": …, "errors": …}` with RetailCRM's exact messages.

mod books;
mod combine;
mod corporate;
mod costs;
mod custom_fields;
mod customers;
mod delivery;
mod entities;
mod files;
mod interaction;
mod loyalty;
mod meta;
mod modules;
mod notes;
mod orders;
mod packs;
mod payment_api;
pub use payment_api::issue_for_payment;
mod payments;
mod plates;
mod product_groups;
mod references;
mod render;
mod segments;
mod settings;
pub mod shown_cache;
mod store;
mod tasks;
mod telephony;
mod users;
mod verification;
mod web_analytics;

pub use customers::check_segment_filter;

use crate::AppState;
use crate::envelope::Envelope;
use crate::input::Input;
use crate::json_response;
use crate::kit::{
    Access, Admitted, BY, Denied, Face, Field, Gate, KeySource, Kind, OwnerRule, PAGING, Prefix, Route, SITE, Security,
    no_aliases, paging,
};
use crate::params::{as_bool, as_i64, is_none_literal, list_items};
use crate::ratelimit::Class;
use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use std::borrow::Cow;
use torg_domain::history::Actor;
use torg_domain::key::ApiKey;
use torg_domain::page::{LIMITS, PageRequest, Pagination, STORE_LIMITS};
use torg_domain::{DomainError, FieldErrors};
use torg_store::StoreError;

/// The face: the key as `X-API-KEY`, `apiKey` in the query or `apiKey` in the form; telephony has a
/// rate limit of its own.
pub static FACE: Face = Face {
    name: "crm",
    title: "RetailCRM API v5",
    prefixes: &[
        Prefix { path: "/api/telephony/", rate: Class::Telephony },
        Prefix { path: "/api/v5/telephony/", rate: Class::Telephony },
        Prefix { path: "/api/", rate: Class::Api },
    ],
    envelope: Envelope::Crm,
    keys: &[KeySource::Header("x-api-key"), KeySource::Query("apiKey"), KeySource::Body("apiKey")],
    owner: OwnerRule::Any,
    security: Security::HeaderOrQuery("X-API-KEY", "apiKey"),
    routes,
    aliases: no_aliases,
};

/// RetailCRM's scopes, as the routes need them.
pub(crate) mod scope {
    use crate::kit::Access::{self, Scope};
    pub const ORDER_READ: Access = Scope("order_read");
    pub const ORDER_WRITE: Access = Scope("order_write");
    pub const CUSTOMER_READ: Access = Scope("customer_read");
    pub const CUSTOMER_WRITE: Access = Scope("customer_write");
    pub const STORE_READ: Access = Scope("store_read");
    pub const STORE_WRITE: Access = Scope("store_write");
    pub const TELEPHONY_READ: Access = Scope("telephony_read");
    pub const TELEPHONY_WRITE: Access = Scope("telephony_write");
    pub const USER_READ: Access = Scope("user_read");
    pub const USER_WRITE: Access = Scope("user_write");
    pub const INTEGRATION_READ: Access = Scope("integration_read");
    pub const INTEGRATION_WRITE: Access = Scope("integration_write");
    pub const CUSTOM_FIELDS_READ: Access = Scope("custom_fields_read");
    pub const CUSTOM_FIELDS_WRITE: Access = Scope("custom_fields_write");
    pub const REFERENCE_READ: Access = Scope("reference_read");
    pub const REFERENCE_WRITE: Access = Scope("reference_write");
    pub const ANALYTICS_WRITE: Access = Scope("analytics_write");
    pub const NOTIFICATION_WRITE: Access = Scope("notification_write");
    pub const TASK_READ: Access = Scope("task_read");
    pub const TASK_WRITE: Access = Scope("task_write");
    pub const COST_READ: Access = Scope("cost_read");
    pub const COST_WRITE: Access = Scope("cost_write");
    pub const LOYALTY_READ: Access = Scope("loyalty_read");
    pub const LOYALTY_WRITE: Access = Scope("loyalty_write");
    pub const SEGMENTS_READ: Access = Scope("segments_read");
    pub const VERIFICATION_READ: Access = Scope("verification_read");
    pub const VERIFICATION_WRITE: Access = Scope("verification_write");
    pub const DELIVERY_READ: Access = Scope("delivery_read");
    pub const DELIVERY_WRITE: Access = Scope("delivery_write");
    pub const FILE_READ: Access = Scope("file_read");
    pub const FILE_WRITE: Access = Scope("file_write");
    pub const PAYMENTS_READ: Access = Scope("payments_read");
    pub const PAYMENTS_WRITE: Access = Scope("payments_write");
}

/// What an upload of customers (individual or corporate) answers: each created one's `id` and
/// `externalId`, and those that were refused (with a 460).
pub(crate) const UPLOADED_CUSTOMERS: [Field; 2] = [
    Field::new("uploadedCustomers", Kind::Entities(UPLOADED)).required(),
    Field::new("failedCustomers", Kind::Entities(&[("externalId", Kind::Any)])).required(),
];

/// An uploaded entity: its id, and its external id (`null` when it was given none).
const UPLOADED: crate::kit::Members = &[("id", Kind::Integer), ("externalId", Kind::Any)];

/// What an upload of orders answers: as [`UPLOADED_CUSTOMERS`], and the created orders whole.
const UPLOADED_ORDERS: [Field; 3] = [
    Field::new("uploadedOrders", Kind::Entities(UPLOADED)).required(),
    Field::new("failedOrders", Kind::Entities(&[("externalId", Kind::Any)])).required(),
    Field::list("orders").required(),
];

fn routes() -> Vec<Route> {
    use scope::*;
    let mut routes = vec![
        Route::get("/api/api-versions", Access::AnyKey, meta::api_versions)
            .doc("meta", "list_api_versions", "API versions available")
            .answers(&[Field::new("versions", Kind::Any).required()]),
        Route::get("/api/credentials", Access::AnyKey, meta::credentials)
            .doc("meta", "get_credentials", "Scopes and sites of the key")
            .answers(&[
                Field::new("credentials", Kind::Any).required(),
                Field::new("scopes", Kind::Any).required(),
                Field::new("siteAccess", Kind::Any).required(),
                Field::new("sitesAvailable", Kind::Any).required(),
            ]),
        Route::get("/api/system-info", Access::AnyKey, meta::system_info)
            .doc("meta", "get_system_info", "System version and URLs")
            .answers(&[
                Field::new("systemVersion", Kind::Any).required(),
                Field::new("publicUrl", Kind::Any).required(),
                Field::new("technicalUrl", Kind::Any).required(),
            ]),
        Route::get("/api/v5/customers", CUSTOMER_READ, customers::list)
            .doc("customers", "list_customers", "Customers, filtered and paged")
            .answers(&[Field::object("pagination").required(), Field::list("customers").required()])
            .fields(&[Field::filter(customers::LIST_FILTER), PAGING[0], PAGING[1]]),
        Route::post("/api/v5/customers/create", CUSTOMER_WRITE, customers::create)
            .idempotent()
            .doc("customers", "create_customer", "Create a customer")
            .answers(&[Field::int("id").required()])
            .fields(&[Field::entity("customer", entities::CUSTOMER).required(), SITE]),
        Route::post("/api/v5/customers/upload", CUSTOMER_WRITE, customers::upload)
            .idempotent()
            .doc("customers", "upload_customers", "Create up to 50 customers")
            .answers(&UPLOADED_CUSTOMERS)
            .fields(&[Field::entities("customers", entities::CUSTOMER).required(), SITE]),
        Route::post("/api/v5/customers/fix-external-ids", CUSTOMER_WRITE, customers::fix_external_ids)
            .doc("customers", "fix_customer_external_ids", "Set customers' external ids")
            .fields(&[Field::entities("customers", entities::ID_PAIR).required()]),
        Route::get("/api/v5/customers/history", CUSTOMER_READ, customers::history)
            .doc("customers", "list_customer_history", "Customer changes since an id or date")
            .answers(&[
                Field::new("generatedAt", Kind::DateTime).required(),
                Field::list("history").required(),
                Field::object("pagination").required(),
            ])
            .fields(&[Field::filter(customers::HISTORY_FILTER), PAGING[0], PAGING[1]]),
        Route::get("/api/v5/customers/{externalId}", CUSTOMER_READ, customers::get)
            .doc("customers", "get_customer", "One customer by externalId or id (`by`)")
            .answers(&[Field::object("customer").required()])
            .fields(&[SITE, BY]),
        Route::post("/api/v5/customers/{externalId}/edit", CUSTOMER_WRITE, customers::edit)
            .doc("customers", "edit_customer", "Change a customer's given fields")
            .answers(&[Field::int("id").required()])
            .fields(&[Field::entity("customer", entities::CUSTOMER).required(), SITE, BY]),
        Route::get("/api/v5/orders", ORDER_READ, orders::list)
            .doc("orders", "list_orders", "Orders, filtered and paged")
            .answers(&[Field::object("pagination").required(), Field::list("orders").required()])
            .fields(&[Field::filter(orders::LIST_FILTER), PAGING[0], PAGING[1]]),
        Route::post("/api/v5/orders/create", ORDER_WRITE, orders::create)
            .idempotent()
            .doc("orders", "create_order", "Create an order")
            .answers(&[Field::int("id").required(), Field::object("order").required()])
            .fields(&[Field::entity("order", entities::ORDER).required(), SITE]),
        Route::post("/api/v5/orders/upload", ORDER_WRITE, orders::upload)
            .idempotent()
            .doc("orders", "upload_orders", "Create up to 50 orders")
            .answers(&UPLOADED_ORDERS)
            .fields(&[Field::entities("orders", entities::ORDER).required(), SITE]),
        Route::post("/api/v5/orders/payments/create", ORDER_WRITE, payments::create)
            .idempotent()
            .doc("orders", "create_payment", "Add a payment to an order")
            .answers(&[Field::int("id").required()])
            .fields(&[Field::entity("payment", entities::PAYMENT).required(), SITE]),
        Route::post("/api/v5/orders/payments/{id}/edit", ORDER_WRITE, payments::edit)
            .doc("orders", "edit_payment", "Change a payment")
            .answers(&[Field::int("id").required()])
            .fields(&[Field::entity("payment", entities::PAYMENT).required(), BY]),
        Route::post("/api/v5/orders/payments/{id}/delete", ORDER_WRITE, payments::delete)
            .doc("orders", "delete_payment", "Delete a payment")
            .fields(&[BY]),
        Route::post("/api/v5/payment/check", PAYMENTS_WRITE, payment_api::check)
            .doc("payments", "check_payment_invoice", "Ask whether an invoice can be paid with a sum")
            .answers(&[Field::new("result", Kind::Any).required()])
            .fields(&[Field::entity("check", entities::INVOICE_CHECK).required()]),
        Route::post("/api/v5/payment/create-invoice", PAYMENTS_WRITE, payment_api::create_invoice)
            .idempotent()
            .doc("payments", "create_payment_invoice", "Issue an invoice for a payment and get its link")
            .answers(&[Field::new("result", Kind::Any).required()])
            .fields(&[Field::entity("createInvoice", entities::INVOICE_CREATE).required()]),
        Route::post("/api/v5/payment/update-invoice", PAYMENTS_WRITE, payment_api::update_invoice)
            .doc("payments", "update_payment_invoice", "Change a payment's invoice or move its status")
            .fields(&[Field::entity("updateInvoice", entities::INVOICE_UPDATE).required()]),
        Route::post("/api/v5/payment/invoice/import", PAYMENTS_WRITE, payment_api::import)
            .idempotent()
            .doc("payments", "import_payment_invoice", "Record an invoice made outside torg for a payment")
            .answers(&[Field::new("invoice", Kind::Any).required()])
            .fields(&[Field::entity("invoice", entities::INVOICE_IMPORT).required()]),
        Route::get("/api/v5/payment/invoice/{uuid}", PAYMENTS_READ, payment_api::get)
            .doc("payments", "get_payment_invoice", "Get a payment's invoice")
            .answers(&[Field::new("invoice", Kind::Any).required()]),
        Route::post("/api/v5/orders/fix-external-ids", ORDER_WRITE, orders::fix_external_ids)
            .doc("orders", "fix_order_external_ids", "Set orders' external ids")
            .fields(&[Field::entities("orders", entities::ID_PAIR).required()]),
        Route::get("/api/v5/orders/statuses", ORDER_READ, orders::statuses)
            .doc("orders", "list_order_statuses", "Statuses of orders by ids")
            .answers(&[Field::list("orders").required()])
            .fields(&[Field::new("ids", Kind::Integers), Field::new("externalIds", Kind::Texts)]),
        Route::get("/api/v5/orders/history", ORDER_READ, orders::history)
            .doc("orders", "list_order_history", "Order changes since an id or date")
            .answers(&[
                Field::new("generatedAt", Kind::DateTime).required(),
                Field::list("history").required(),
                Field::object("pagination").required(),
            ])
            .fields(&[Field::filter(orders::HISTORY_FILTER), PAGING[0], PAGING[1]]),
        Route::get("/api/v5/orders/{externalId}", ORDER_READ, orders::get)
            .doc("orders", "get_order", "One order by externalId or id (`by`)")
            .answers(&[Field::object("order").required()])
            .fields(&[SITE, BY]),
        Route::post("/api/v5/orders/{externalId}/edit", ORDER_WRITE, orders::edit)
            .doc("orders", "edit_order", "Change an order's given fields")
            .answers(&[Field::int("id").required(), Field::object("order").required()])
            .fields(&[Field::entity("order", entities::ORDER).required(), SITE, BY]),
        Route::get("/api/v5/store/inventories", STORE_READ, store::inventories)
            .doc("store", "list_inventories", "Offers' free stock, per store with details=1")
            .answers(&[Field::object("pagination").required(), Field::new("offers", Kind::Any).required()])
            .fields(&[Field::filter(store::INVENTORIES_FILTER)])
            .fields(&paging(STORE_LIMITS)),
        Route::post("/api/v5/store/inventories/upload", STORE_WRITE, store::upload_inventories)
            .doc("store", "upload_inventories", "Set stock of up to 250 offers per store")
            .answers(&[
                Field::new("processedOffersCount", Kind::Any).required(),
                Field::new("notFoundOffers", Kind::Any).required(),
            ])
            .fields(&[SITE, Field::entities("offers", entities::OFFER_STOCK).required()]),
        Route::post("/api/v5/store/prices/upload", STORE_WRITE, store::upload_prices)
            .doc("store", "upload_prices", "Set prices of up to 250 offers by price type")
            .answers(&[
                Field::new("processedOffersCount", Kind::Any).required(),
                Field::new("notFoundOffers", Kind::Any).required(),
            ])
            .fields(&[Field::entities("prices", entities::OFFER_PRICES).required()]),
        Route::get("/api/v5/store/products", STORE_READ, store::products)
            .doc("store", "list_products", "Products with offers, filtered and paged")
            .answers(&[Field::object("pagination").required(), Field::new("products", Kind::Any).required()])
            .fields(&[Field::filter(store::PRODUCTS_FILTER)])
            .fields(&paging(STORE_LIMITS)),
        Route::get("/api/v5/store/offers", STORE_READ, store::offers)
            .doc("store", "list_offers", "Offers, filtered and paged")
            .answers(&[Field::object("pagination").required(), Field::new("offers", Kind::Any).required()])
            .fields(&[Field::filter(store::OFFERS_FILTER)])
            .fields(&paging(STORE_LIMITS)),
        Route::post("/api/v5/store/products/batch/create", STORE_WRITE, store::batch_create)
            .idempotent()
            .doc("store", "create_products", "Create up to 250 products with offers")
            .answers(&[
                Field::new("processedProductsCount", Kind::Any).required(),
                Field::new("addedProducts", Kind::Any).required(),
            ])
            .fields(&[Field::entities("products", entities::NEW_PRODUCT).required()]),
        Route::post("/api/v5/store/products/batch/edit", STORE_WRITE, store::batch_edit)
            .doc("store", "edit_products", "Change given fields of up to 250 products")
            .answers(&[
                Field::new("processedProductsCount", Kind::Any).required(),
                Field::new("notFoundProducts", Kind::Any).required(),
            ])
            .fields(&[Field::entities("products", entities::PRODUCT_EDIT).required()]),
        Route::post("/api/v5/telephony/calls/upload", TELEPHONY_WRITE, telephony::upload_calls)
            .doc("telephony", "upload_calls", "Store calls made or received")
            .answers(&[
                Field::new("processedCallsCount", Kind::Any).required(),
                Field::new("duplicateCalls", Kind::Any).required(),
            ])
            .fields(&[Field::entities("calls", entities::CALL).required()]),
        Route::post("/api/v5/telephony/call/event", TELEPHONY_WRITE, telephony::call_event)
            .doc("telephony", "create_call_event", "A call rings, is answered or hangs up")
            .fields(&[Field::entity("event", entities::CALL_EVENT).required()]),
        Route::get("/api/v5/telephony/manager", TELEPHONY_READ, telephony::manager)
            .doc("telephony", "get_responsible_manager", "Customer and manager for a phone")
            .fields(&[Field::text("phone").required()]),
    ];
    routes.extend(references::routes());
    routes.extend(packs::routes());
    routes.extend(product_groups::routes());
    routes.extend(users::routes());
    routes.extend(modules::routes());
    routes.extend(custom_fields::routes());
    routes.extend(notes::routes());
    routes.extend(settings::routes());
    routes.extend(combine::routes());
    routes.extend(tasks::routes());
    routes.extend(costs::routes());
    routes.extend(interaction::routes());
    routes.extend(plates::routes());
    routes.extend(web_analytics::routes());
    routes.extend(loyalty::routes());
    routes.extend(segments::routes());
    routes.extend(verification::routes());
    routes.extend(delivery::routes());
    routes.extend(files::routes());
    routes.extend(corporate::routes());
    routes
}

/// A failure in RetailCRM's shape.
#[derive(Debug)]
pub struct CrmError(Box<CrmFailure>);

/// What a [`CrmError`] carries; boxed so results stay small on the happy path.
#[derive(Debug)]
struct CrmFailure {
    status: StatusCode,
    message: String,
    errors: Option<Value>,
    extra: Map<String, Value>,
}

impl CrmError {
    /// A failure with a status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        CrmError(Box::new(CrmFailure { status, message: message.into(), errors: None, extra: Map::new() }))
    }

    /// `Access denied.` (403).
    pub fn access_denied() -> Self {
        CrmError::new(StatusCode::FORBIDDEN, "Access denied.")
    }

    /// `Not found` (404).
    pub fn not_found() -> Self {
        CrmError::new(StatusCode::NOT_FOUND, "Not found")
    }

    /// `Parameter '<name>' is missing` (400).
    pub fn missing(name: &str) -> Self {
        CrmError::new(StatusCode::BAD_REQUEST, format!("Parameter '{name}' is missing"))
    }

    /// `Errors in the entity format` (400) with per-field messages.
    pub fn entity(errors: FieldErrors) -> Self {
        CrmError::new(StatusCode::BAD_REQUEST, "Errors in the entity format").with_errors(field_errors(errors))
    }

    /// One invalid input parameter (400).
    pub fn parameter(name: &str, message: &str) -> Self {
        CrmError::new(StatusCode::BAD_REQUEST, "Errors in the input parameters").with_errors(json!({ name: message }))
    }

    /// A failure of torg's own (500), logged with its cause.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "answer failed");
        CrmError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
    }

    /// Whether this refuses access (403).
    pub fn is_access_denied(&self) -> bool {
        self.0.status == StatusCode::FORBIDDEN
    }

    /// The message and the per-field errors as one line.
    pub fn describe(&self) -> String {
        match &self.0.errors {
            Some(e) => format!("{} {e}", self.0.message),
            None => self.0.message.clone(),
        }
    }

    /// Adds the `errors` member.
    pub fn with_errors(mut self, errors: Value) -> Self {
        self.0.errors = Some(errors);
        self
    }

    /// Adds another member (uploaded/failed lists of a 460).
    pub fn with(mut self, key: &str, value: Value) -> Self {
        self.0.extra.insert(key.into(), value);
        self
    }
}

fn field_errors(errors: FieldErrors) -> Value {
    Value::Object(errors.into_iter().map(|(k, v)| (k, Value::String(v))).collect())
}

impl IntoResponse for CrmError {
    fn into_response(self) -> Response {
        let failure = *self.0;
        let mut body = json!({ "success": false, "errorMsg": failure.message });
        if let Some(e) = failure.errors {
            body["errors"] = e;
        }
        for (k, v) in failure.extra {
            body[k] = v;
        }
        json_response(failure.status, &body)
    }
}

impl From<StoreError> for CrmError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Domain(d) => d.into(),
            other => {
                tracing::error!(error = %other, "store failed");
                CrmError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
            }
        }
    }
}

impl From<DomainError> for CrmError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Invalid(f) => CrmError::entity(f),
            DomainError::Refused(r) => CrmError::entity(r.fields()),
            DomainError::NotFound(_) => CrmError::not_found(),
            DomainError::MissingParameter(p) => CrmError::missing(&p),
            // RetailCRM words this one for orders, the only entity whose references are resolved so.
            DomainError::Unresolved(f) => {
                CrmError::new(StatusCode::BAD_REQUEST, "Order is not loaded").with_errors(field_errors(f))
            }
        }
    }
}

/// Result of a CRM handler.
pub type CrmResult = Result<Response, CrmError>;

/// A successful answer written from typed members, `success: true` first (no `Value` tree built).
pub fn answer(status: StatusCode, members: crate::reshape::Object<'_>) -> CrmResult {
    let mut all = crate::reshape::Object::new().with("success", true);
    all.0.extend(members.0);
    Ok(json_response(status, &all))
}

/// A successful answer: `success: true` plus the given members.
pub fn ok(status: StatusCode, body: Value) -> CrmResult {
    let mut out = json!({ "success": true });
    if let (Some(o), Value::Object(b)) = (out.as_object_mut(), body) {
        o.extend(b);
    }
    Ok(json_response(status, &out))
}

/// An authenticated CRM request: the key, its parameters, and the route's scope already checked.
pub struct Crm {
    /// The caller's key.
    pub key: std::sync::Arc<ApiKey>,
    /// Parameters.
    pub input: Input,
    /// Sites that exist and the key reaches.
    pub sites: Vec<String>,
    /// Sites, warehouses and reference books as of this request.
    pub books: std::sync::Arc<torg_domain::books::Books>,
    /// The generation of what pages of orders are read from, as the key check read it.
    pub shown: torg_store::ShownGeneration,
}

impl FromRequest<AppState> for Crm {
    type Rejection = Response;

    async fn from_request(req: Request<Body>, state: &AppState) -> Result<Self, Self::Rejection> {
        let gate = Gate::of(req.extensions());
        let input = Input::read(req, state.config.body_limit).await?;
        let refuse = |e: Denied| {
            match e {
                Denied::Missing => CrmError::new(StatusCode::FORBIDDEN, "\"apiKey\" is missing."),
                Denied::Wrong => CrmError::new(StatusCode::FORBIDDEN, "Wrong \"apiKey\" value."),
                Denied::Failed(e) => CrmError::from(e),
                Denied::Undeclared | Denied::Address | Denied::Scope(_) | Denied::Owner => CrmError::access_denied(),
            }
            .into_response()
        };
        let gate = gate.map_err(refuse)?;
        let admitted = gate.admit(state, gate.key_in(&input).as_deref(), input.ip).await.map_err(refuse)?;
        let Some(Admitted { key, books, sites, shown }) = admitted else { return Err(refuse(Denied::Undeclared)) };
        Ok(Crm { key, input, sites, books, shown })
    }
}

impl Crm {
    /// Who history records name for this request's changes.
    pub fn actor(&self) -> Actor {
        Actor::Api(self.key.id)
    }

    /// The site a write goes to: the `site` parameter if the key reaches it, else the key's only site.
    pub fn site(&self) -> Result<String, CrmError> {
        match self.input.text("site") {
            Some(code) if self.sites.contains(&code) => Ok(code),
            Some(_) => Err(CrmError::access_denied()),
            None => match self.sites.as_slice() {
                [only] => Ok(only.clone()),
                [] => Err(CrmError::access_denied()),
                _ => Err(CrmError::missing("site")),
            },
        }
    }

    /// The `filter` parameter as an object (absent or `None` is empty).
    pub fn filter(&self) -> Result<Cow<'_, Map<String, Value>>, CrmError> {
        match self.input.param("filter") {
            None => Ok(Cow::Owned(Map::new())),
            Some(v) if is_none_literal(v) => Ok(Cow::Owned(Map::new())),
            // Borrowed: a copy of the filter was a visible part of a kept list page's time.
            Some(Value::Object(m)) => Ok(Cow::Borrowed(m)),
            Some(_) => Err(CrmError::parameter("filter", "This value should be of type array.")),
        }
    }

    /// `limit` and `page`, checked against the allowed page sizes.
    pub fn page(&self, limits: &[u32]) -> Result<PageRequest, CrmError> {
        let limit = match self.input.param("limit") {
            None => 20,
            Some(v) if is_none_literal(v) => 20,
            Some(v) => match as_i64(v).and_then(|l| u32::try_from(l).ok()).filter(|l| limits.contains(l)) {
                Some(l) => l,
                None => {
                    let allowed: Vec<String> = limits.iter().map(ToString::to_string).collect();
                    return Err(CrmError::parameter(
                        "limit",
                        &format!("The value you selected is not a valid choice. Allowed: {}.", allowed.join(", ")),
                    ));
                }
            },
        };
        let page = match self.input.param("page") {
            None => 1,
            Some(v) if is_none_literal(v) => 1,
            Some(v) => match as_i64(v).and_then(|p| u32::try_from(p).ok()).filter(|p| *p >= 1) {
                Some(p) => p,
                None => {
                    return Err(CrmError::parameter("page", "This value should be greater than or equal to 1."));
                }
            },
        };
        Ok(PageRequest { limit, page })
    }

    /// The default page sizes.
    pub fn default_page(&self) -> Result<PageRequest, CrmError> {
        self.page(LIMITS)
    }

    /// A form field holding JSON text (or, from a JSON body, the value itself).
    pub fn json_field(&self, name: &str) -> Result<Option<Value>, CrmError> {
        match self.input.param(name) {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() || s == "None" => Ok(None),
            Some(Value::String(s)) => serde_json::from_str(s)
                .map(Some)
                .map_err(|e| CrmError::entity(FieldErrors::from([(name.to_string(), format!("Invalid JSON: {e}"))]))),
            Some(other) => Ok(Some(other.clone())),
        }
    }

    /// A required JSON object field.
    pub fn json_object(&self, name: &str) -> Result<Map<String, Value>, CrmError> {
        match self.json_field(name)? {
            None => Err(CrmError::missing(name)),
            Some(Value::Object(m)) => Ok(m),
            Some(_) => Err(CrmError::entity(FieldErrors::from([(
                name.to_string(),
                "This value should be an object.".to_string(),
            )]))),
        }
    }

    /// A required JSON list field of objects, at most `cap` long.
    pub fn json_list(&self, name: &str, cap: usize) -> Result<Vec<Map<String, Value>>, CrmError> {
        let list = match self.json_field(name)? {
            None => return Err(CrmError::missing(name)),
            Some(Value::Array(a)) => a,
            Some(Value::Object(m)) => m.into_values().collect(),
            Some(_) => {
                return Err(CrmError::entity(FieldErrors::from([(
                    name.to_string(),
                    "This value should be a list.".to_string(),
                )])));
            }
        };
        if list.is_empty() {
            return Err(CrmError::entity(FieldErrors::from([(
                name.to_string(),
                "This value should not be blank.".to_string(),
            )])));
        }
        if list.len() > cap {
            return Err(CrmError::entity(FieldErrors::from([(
                name.to_string(),
                format!("This collection should contain {cap} elements or less."),
            )])));
        }
        let mut out = Vec::with_capacity(list.len());
        for (i, v) in list.into_iter().enumerate() {
            match v {
                Value::Object(m) => out.push(m),
                _ => {
                    return Err(CrmError::entity(FieldErrors::from([(
                        format!("{name}[{i}]"),
                        "This value should be an object.".to_string(),
                    )])));
                }
            }
        }
        Ok(out)
    }

    /// `by`: `externalId` (default) or `id`.
    pub fn by_id(&self) -> Result<bool, CrmError> {
        match self.input.text("by").as_deref() {
            None | Some("externalId") => Ok(false),
            Some("id") => Ok(true),
            Some(_) => {
                Err(CrmError::parameter("by", "The value you selected is not a valid choice. Allowed: id, externalId."))
            }
        }
    }
}

/// The answer to a batch upload: 200 with the uploaded (and an empty failed) list when everything went
/// in, else 460 with both lists and one message per problem. `entity` is `Orders` or `Customers`;
/// `created`, when given, is added as the member it names (`orders`: the created orders, whole).
pub fn upload_answer(out: &torg_store::UploadOutcome, entity: &str, created: Option<(&str, Value)>) -> CrmResult {
    let uploaded: Vec<Value> = out.uploaded.iter().map(|(id, ext)| json!({ "id": id, "externalId": ext })).collect();
    let failed: Vec<Value> = out.failed.iter().map(|(ext, _)| json!({ "externalId": ext })).collect();
    let (uploaded_key, failed_key) = (format!("uploaded{entity}"), format!("failed{entity}"));
    if out.failed.is_empty() {
        let mut body = json!({ uploaded_key: uploaded, failed_key: failed });
        if let Some((key, value)) = created {
            body[key] = value;
        }
        return ok(StatusCode::OK, body);
    }
    let errors: Vec<Value> = out
        .failed
        .iter()
        .flat_map(|(ext, f)| f.iter().map(move |(k, v)| json!(format!("{}: {k}: {v}", ext.as_deref().unwrap_or("-")))))
        .collect();
    let status = StatusCode::from_u16(460).unwrap_or(StatusCode::BAD_REQUEST);
    let mut failure = CrmError::new(status, format!("{entity} are loaded with errors"))
        .with_errors(Value::Array(errors))
        .with(&uploaded_key, Value::Array(uploaded))
        .with(&failed_key, Value::Array(failed));
    if let Some((key, value)) = created {
        failure = failure.with(key, value);
    }
    Err(failure)
}

/// `Not found` (404) for an order or customer that is not there; one that was combined into another
/// names it in `combinedTo`, as RetailCRM does.
pub async fn not_found_or_combined(
    state: &AppState,
    entity: &str,
    (id, site_external): &(Option<i64>, Option<(String, String)>),
) -> CrmError {
    let by_external = site_external.as_ref().map(|(s, e)| (s.as_str(), e.as_str()));
    match state.store.combined_into(entity, *id, by_external).await {
        Ok(Some(into)) => {
            CrmError::not_found().with("combinedTo", json!({ "id": into.id, "externalId": into.external_id }))
        }
        Ok(None) => CrmError::not_found(),
        Err(e) => CrmError::from(e),
    }
}

/// `Errors in the entity format` (400) naming one field.
pub fn field_error(field: impl Into<String>, message: impl Into<String>) -> CrmError {
    CrmError::entity(FieldErrors::from([(field.into(), message.into())]))
}

/// A member of an entity object as trimmed text (a number as its digits); blank or absent is none.
pub fn member_text(m: &Map<String, Value>, key: &str) -> Option<String> {
    match m.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// The `pagination` member, written as it is: built as a map first, it was a visible part of a kept
/// list page's time.
pub fn pagination(p: Pagination) -> PaginationMember {
    PaginationMember {
        limit: p.limit,
        total_count: p.total_count,
        current_page: p.current_page,
        total_page_count: p.total_page_count,
    }
}

/// A list answer's `pagination` member, its keys in RetailCRM's order.
#[derive(Debug, Clone, Copy, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaginationMember {
    limit: u32,
    total_count: u64,
    current_page: u32,
    total_page_count: u64,
}

/// Filters of at most this many keys are searched member by member rather than by hash.
const SCANNED_FILTER: usize = 8;

/// Reads filter values leniently: lists, single values and the Python client's literals.
pub struct FilterReader<'a> {
    map: &'a Map<String, Value>,
    zone: &'a torg_domain::time::Zone,
    errors: FieldErrors,
    input: Option<&'a Input>,
    plain: bool,
}

impl<'a> FilterReader<'a> {
    /// Reads `map` with dates in `zone`.
    pub fn new(map: &'a Map<String, Value>, zone: &'a torg_domain::time::Zone) -> Self {
        FilterReader { map, zone, errors: FieldErrors::new(), input: None, plain: false }
    }

    /// Notes each key read as `filter[key]` of `input`'s route (`crate::fields`).
    pub fn noting(mut self, input: &'a Input) -> Self {
        self.input = Some(input);
        self
    }

    /// Notes each key read as a parameter of `input`'s own (a reader over the query itself).
    pub fn noting_plain(mut self, input: &'a Input) -> Self {
        self.input = Some(input);
        self.plain = true;
        self
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        match self.input {
            Some(input) if self.plain => input.note(key),
            Some(input) => input.note_filter(key),
            None => {}
        }
        // A list reads some eighty keys of a filter that holds a few: comparing with each member is
        // cheaper than hashing the key (SipHash, in serde_json's map) eighty times.
        let found = if self.map.len() <= SCANNED_FILTER {
            self.map.iter().find_map(|(k, v)| (k == key).then_some(v))
        } else {
            self.map.get(key)
        };
        found.filter(|v| !is_none_literal(v))
    }

    /// A text value.
    pub fn text(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// A list of texts.
    pub fn texts(&self, key: &str) -> Vec<String> {
        self.get(key)
            .map(list_items)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|v| match v {
                Value::String(s) if !s.is_empty() => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect()
    }

    /// A list of integers; a non-integer is an error naming the filter.
    pub fn ints(&mut self, key: &str) -> Vec<i64> {
        let mut out = Vec::new();
        for v in self.get(key).map(list_items).unwrap_or_default() {
            match as_i64(v) {
                Some(i) => out.push(i),
                None => {
                    self.errors.insert(format!("filter[{key}]"), "This value should be of type integer.".into());
                }
            }
        }
        out
    }

    /// An integer.
    pub fn int(&mut self, key: &str) -> Option<i64> {
        let v = self.get(key)?;
        let parsed = as_i64(v);
        if parsed.is_none() {
            self.errors.insert(format!("filter[{key}]"), "This value should be of type integer.".into());
        }
        parsed
    }

    /// A decimal.
    pub fn decimal(&mut self, key: &str) -> Option<Decimal> {
        let text = self.text(key)?;
        let parsed = text.replace(',', ".").parse::<Decimal>().ok();
        if parsed.is_none() {
            self.errors.insert(format!("filter[{key}]"), "This value should be a number.".into());
        }
        parsed
    }

    /// A flag (1/0/true/false).
    pub fn flag(&mut self, key: &str) -> Option<bool> {
        let v = self.get(key)?;
        let parsed = as_bool(v);
        if parsed.is_none() {
            self.errors.insert(format!("filter[{key}]"), "This value should be 0 or 1.".into());
        }
        parsed
    }

    /// The start of a date range (`Y-m-d` or `Y-m-d H:i:s`).
    pub fn date_from(&mut self, key: &str) -> Option<i64> {
        let text = self.text(key)?;
        let parsed = self.zone.parse_start(&text);
        if parsed.is_none() {
            self.errors.insert(
                format!("filter[{key}]"),
                "This value is not a valid date (expected Y-m-d or Y-m-d H:i:s).".into(),
            );
        }
        parsed
    }

    /// The end of a date range, inclusive of the whole day for a bare date.
    pub fn date_to(&mut self, key: &str) -> Option<i64> {
        let text = self.text(key)?;
        let parsed = self.zone.parse_end(&text);
        if parsed.is_none() {
            self.errors.insert(
                format!("filter[{key}]"),
                "This value is not a valid date (expected Y-m-d or Y-m-d H:i:s).".into(),
            );
        }
        parsed
    }

    /// `customFields[code]=v`, `customFields[code][]=v`, `customFields[code][min|max]=n`.
    pub fn custom_fields(&mut self) -> Vec<torg_store::CustomFieldCondition> {
        use torg_store::CustomFieldCondition as C;
        let Some(Value::Object(fields)) = self.get("customFields") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (code, v) in fields {
            match v {
                Value::Object(m) if m.contains_key("min") || m.contains_key("max") => {
                    for (bound, value) in m {
                        let parsed = value.as_str().and_then(|s| s.trim().replace(',', ".").parse::<Decimal>().ok());
                        match (bound.as_str(), parsed) {
                            ("min", Some(d)) => out.push(C::Min(code.clone(), d)),
                            ("max", Some(d)) => out.push(C::Max(code.clone(), d)),
                            _ => {
                                self.errors.insert(
                                    format!("filter[customFields][{code}][{bound}]"),
                                    "This value should be a number.".into(),
                                );
                            }
                        }
                    }
                }
                other => {
                    let values: Vec<String> =
                        list_items(other).into_iter().filter_map(|x| x.as_str().map(str::to_owned)).collect();
                    if !values.is_empty() {
                        out.push(C::OneOf(code.clone(), values));
                    }
                }
            }
        }
        out
    }

    /// Any error met so far, as a 400.
    pub fn finish(self) -> Result<(), CrmError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(CrmError::new(StatusCode::BAD_REQUEST, "Errors in the input parameters")
                .with_errors(field_errors(self.errors)))
        }
    }
}
