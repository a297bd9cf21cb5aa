//! The billing face: Invoicebox API v3 (docs/billing.md), under `/v3/` and `/l3/` alike.
//!
//! Bodies are JSON; answers are `{"data": …, "extendedData": []}` (lists add `metaData`); failures are
//! `{"error": {"message", "code", "fields"}}` with the codes of A.6. The key comes as
//! `Authorization: Bearer <key>` and needs the `billing` scope; a merchant (`merchantId`) is a site's
//! billing settings, and the key must reach that site. A site with a signing key requires
//! `X-Signature` = hex HMAC-SHA1 of the raw body on every request about it.

pub mod gate;
mod orders;
pub mod page;
mod refunds;
pub mod render;
mod shipments;

use crate::AppState;
use crate::envelope::Envelope;
use crate::input::Input;
use crate::json_response;
use crate::kit::{Access, Denied, Face, Field, Gate, KeySource, Kind, OwnerRule, Prefix, Route, Security};
use crate::ratelimit::Class;
use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use torg_domain::DomainError;
use torg_domain::history::Actor;
use torg_domain::invoice::{BillingError, BillingSettings, Doc, FieldProblem, Invoice};
use torg_domain::invoice::{INVOICE_FIELDS, REFUND_FIELDS, SHIPMENT_FIELDS};
use torg_domain::key::ApiKey;
use torg_store::StoreError;

pub use orders::issue_for_order;

/// The face: a bearer key with the `billing` scope, every API path also under `/l3/`, and the
/// hosted payment page (public, limited per IP like the other pages).
pub static FACE: Face = Face {
    name: "billing",
    title: "Invoicebox API v3: invoices, refunds, shipments and the notification gate",
    prefixes: &[
        Prefix { path: "/v3/", rate: Class::Billing },
        Prefix { path: "/l3/", rate: Class::Billing },
        Prefix { path: "/pay/", rate: Class::Api },
    ],
    envelope: Envelope::Billing,
    keys: &[KeySource::Bearer],
    owner: OwnerRule::Any,
    security: Security::Bearer,
    routes,
    aliases: under_l3,
};

/// Invoicebox serves the same API under `/l3/`.
fn under_l3(path: &str) -> Vec<String> {
    if path.starts_with("/v3/gate/") {
        // The WebSocket gate is v3 only.
        return Vec::new();
    }
    path.strip_prefix("/v3/").map(|rest| format!("/l3/{rest}")).into_iter().collect()
}

const BILLING: Access = Access::Scope("billing");

/// The list language over `fields`, as one declared field (its filters, sorting and paging).
fn listing(fields: &'static [torg_domain::listing::FieldSpec]) -> Field {
    Field::new("fields", Kind::Listing(fields))
        .about("Filters `field=v`, `field[_op]=v`; `_order[field]`; `pageSize`, `page`.")
}

fn routes() -> Vec<Route> {
    vec![
        Route::get("/v3/security/api/auth/auth", Access::ScopeIfKeyed("billing"), orders::auth_check).doc(
            "billing",
            "billing_auth_check",
            "Check the bearer token: the key's user id",
        ),
        Route::post("/v3/billing/api/order/order", BILLING, orders::create)
            .idempotent()
            .doc("billing", "create_payment_order", "Create a payment order (invoice)")
            .fields(orders::CREATE_FIELDS)
            .answers(&[Field::object("data").about("The payment order.")]),
        Route::get("/v3/billing/api/order/order/{id}", BILLING, orders::get)
            .doc("billing", "get_payment_order", "One payment order")
            .answers(&[Field::object("data").about("The payment order.")]),
        Route::put("/v3/billing/api/order/order/{id}", BILLING, orders::update)
            .doc("billing", "update_payment_order", "Change an unpaid payment order")
            .fields(orders::UPDATE_FIELDS)
            .answers(&[Field::object("data").about("The payment order.")]),
        Route::delete("/v3/billing/api/order/order/{id}", BILLING, orders::cancel)
            .doc("billing", "cancel_payment_order", "Cancel an unpaid payment order")
            .answers(&[Field::object("data").about("The payment order.")]),
        Route::get("/v3/filter/api/order/order", BILLING, orders::list)
            .doc("billing", "list_payment_orders", "Payment orders: filters, sorting, paging")
            .fields(&[listing(INVOICE_FIELDS)])
            .answers(&[Field::list("data"), Field::object("metaData")]),
        Route::put("/v3/billing/api/order/{id}/status", BILLING, orders::set_status)
            .doc("billing", "set_payment_order_status", "Set the status of a non-processable payment order")
            .fields(orders::STATUS_FIELDS)
            .answers(&[Field::object("data").about("The payment order.")]),
        Route::get("/v3/billing/api/order/order/{id}/refund-basket-item", BILLING, refunds::basket)
            .doc("billing", "list_refundable_items", "Basket items of a paid order with what is left to refund")
            .answers(&[Field::list("data").about("Basket lines with `availableAmount`.")]),
        Route::post("/v3/billing/api/order/refund-order", BILLING, refunds::create)
            .idempotent()
            .doc("billing", "create_refund_order", "Refund a paid order, whole or by items")
            .fields(refunds::CREATE_FIELDS)
            .answers(&[Field::object("data").about("The refund.")]),
        Route::get("/v3/filter/api/order/refund-order", BILLING, refunds::list)
            .doc("billing", "list_refund_orders", "Refunds: filters, sorting, paging")
            .fields(&[listing(REFUND_FIELDS)])
            .answers(&[Field::list("data"), Field::object("metaData")]),
        Route::post("/v3/billing/api/order/correction-order", BILLING, orders::create_correction)
            .idempotent()
            .doc(
                "billing",
                "create_correction_order",
                "A correction order: the fee withheld from a draft refund, which it then carries out",
            )
            .fields(orders::CREATE_FIELDS)
            .answers(&[Field::object("data").about("The payment order.")]),
        Route::post("/v3/billing/api/order/shipment", BILLING, shipments::create)
            .idempotent()
            .doc("billing", "create_shipment", "Ship lines of an order (the last shipment captures a hold)")
            .fields(shipments::CREATE_FIELDS)
            .answers(&[Field::object("data").about("The shipment.")]),
        Route::get("/v3/billing/api/order/shipment", BILLING, shipments::list_of_order)
            .doc("billing", "list_order_shipments", "The shipments of one order (orderId)")
            .fields(&[Field::text("orderId").required(), listing(SHIPMENT_FIELDS)])
            .answers(&[Field::list("data"), Field::object("metaData")]),
        Route::get("/v3/filter/api/order/shipment", BILLING, shipments::list)
            .doc("billing", "list_shipments", "Shipments: filters, sorting, paging")
            .fields(&[listing(SHIPMENT_FIELDS)])
            .answers(&[Field::list("data"), Field::object("metaData")]),
        Route::put("/v3/billing/api/order/order-merchant-move", BILLING, orders::merchant_move)
            .doc("billing", "move_payment_order", "Hand an order to another merchant of the key")
            .fields(orders::MOVE_FIELDS)
            .answers(&[Field::object("data").about("The payment order.")]),
        Route::post("/v3/payment/api/invoice/confirm", BILLING, orders::confirm)
            .doc(
                "billing",
                "confirm_invoice_payment",
                "A partner's signed confirmation of payment from a guarantee fund (test mode): the money is held",
            )
            .fields(orders::CONFIRM_FIELDS)
            .answers(&[Field::object("data").about("The payment order.")]),
        Route::get("/v3/filter/api/counterparty-detail", BILLING, orders::counterparty)
            .doc("billing", "get_counterparty_detail", "Companies torg knows by INN (vatNumber)")
            .fields(&[Field::text("vatNumber").required().about("The INN to look up.")])
            .answers(&[Field::list("data")]),
        Route::get("/v3/gate/rpc", Access::Scope("billing"), gate::rpc)
            .doc(
                "billing",
                "notification_gate",
                "WebSocket gate (JSON-RPC 2.0): onOrderStatusChange for every status change, getStatus",
            )
            .fields(&[Field::text("token").about("The key, for clients that cannot send headers on a WebSocket.")]),
        Route::get("/pay/{container}", Access::Public, page::show).doc(
            "billing",
            "show_payment_page",
            "The hosted payment page of an invoice (test mode)",
        ),
        Route::post("/pay/{container}", Access::Public, page::pay)
            .doc("billing", "pay_on_payment_page", "Pay an invoice on the hosted page (test mode)")
            .fields(&[Field::one_of("mode", &["pay", "hold"]).about("`hold`: pay on shipment (the money is held).")]),
    ]
}

/// A failure in the face's shape.
#[derive(Debug)]
pub struct BillingErr {
    status: StatusCode,
    code: String,
    message: String,
    fields: Vec<FieldProblem>,
}

impl BillingErr {
    /// A failure with no field details.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        BillingErr { status, code: code.into(), message: message.into(), fields: Vec::new() }
    }

    /// 401 `unauthorized`.
    pub fn unauthorized() -> Self {
        BillingErr::new(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized")
    }

    /// 403 `forbidden`.
    pub fn forbidden(message: &str) -> Self {
        BillingErr::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404 `not_found`.
    pub fn not_found() -> Self {
        BillingErr::new(StatusCode::NOT_FOUND, "not_found", "Not found")
    }

    /// 400 for a request the transport rules refuse (a missing header, a body that is not JSON).
    pub fn bad_request(message: impl Into<String>, field: &str) -> Self {
        let message = message.into();
        BillingErr {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_argument".into(),
            fields: vec![FieldProblem { name: field.into(), code: "required", message: message.clone() }],
            message,
        }
    }
}

impl From<BillingError> for BillingErr {
    fn from(e: BillingError) -> Self {
        BillingErr {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: e.code.into(),
            message: e.message,
            fields: e.fields,
        }
    }
}

impl From<StoreError> for BillingErr {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Billing(b) => b.into(),
            StoreError::Domain(DomainError::NotFound(_)) => BillingErr::not_found(),
            StoreError::Domain(
                e @ (DomainError::Invalid(_) | DomainError::Unresolved(_) | DomainError::Refused(_)),
            ) => {
                let f = e.into_fields();
                let message = f.values().next().cloned().unwrap_or_else(|| "Invalid request.".into());
                let fields =
                    f.into_iter().map(|(name, message)| FieldProblem { name, code: "wrong_value", message }).collect();
                BillingErr { status: StatusCode::UNPROCESSABLE_ENTITY, code: "validation".into(), message, fields }
            }
            StoreError::Domain(DomainError::MissingParameter(p)) => {
                BillingError::validation(&p, "required", format!("{p} is required.")).into()
            }
            other => {
                tracing::error!(error = %other, "store failed");
                BillingErr::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "Internal server error")
            }
        }
    }
}

impl IntoResponse for BillingErr {
    fn into_response(self) -> Response {
        let fields: Vec<Value> =
            self.fields.iter().map(|f| json!({ "name": f.name, "code": f.code, "message": f.message })).collect();
        json_response(
            self.status,
            &json!({ "error": { "message": self.message, "code": self.code, "fields": fields } }),
        )
    }
}

/// Result of a billing handler.
pub type BillingResult = Result<Response, BillingErr>;

/// `{"data": …, "extendedData": []}`.
pub fn data(value: Value) -> BillingResult {
    Ok(json_response(StatusCode::OK, &json!({ "data": value, "extendedData": [] })))
}

/// A page of a list with its `metaData`.
pub fn page(items: Vec<Value>, total: u64, q: &torg_domain::listing::ListQuery) -> BillingResult {
    let meta = json!({ "totalCount": total, "pageSize": q.page_size, "page": q.page });
    Ok(json_response(StatusCode::OK, &json!({ "data": items, "metaData": meta, "extendedData": [] })))
}

/// An authenticated billing request.
pub struct Billing {
    /// The caller's key (none only on the auth check without a token).
    pub key: Option<std::sync::Arc<ApiKey>>,
    /// Parameters and the raw body.
    pub input: Input,
    /// The raw query string.
    pub raw_query: String,
    /// Existing sites the key reaches.
    pub sites: Vec<String>,
}

/// The JSON body as the handlers read it: each member read is noted like any other parameter
/// (`Input::body_param`), so that a member a route declares and no handler reads any more is found
/// (`fields::unread`). Members outside the declaration are refused first ([`Billing::body_of`]).
pub struct JsonBody<'a>(&'a Input);

impl Doc for JsonBody<'_> {
    fn member(&self, key: &str) -> Option<&Value> {
        self.0.body_param(key)
    }
}

/// Whether an `Accept` header admits JSON.
fn accepts_json(accept: &str) -> bool {
    accept.split(',').map(|p| p.split(';').next().unwrap_or("").trim().to_ascii_lowercase()).any(|m| {
        m == "application/json"
            || m == "*/*"
            || m == "application/*"
            || (m.starts_with("application/") && m.ends_with("+json"))
    })
}

impl FromRequest<AppState> for Billing {
    type Rejection = Response;

    async fn from_request(req: Request<Body>, state: &AppState) -> Result<Self, Self::Rejection> {
        let gate = Gate::of(req.extensions());
        let raw_query = req.uri().query().unwrap_or("").to_string();
        let input = Input::read(req, state.config.body_limit).await?;
        let refuse = |e: Denied| match e {
            Denied::Failed(e) => BillingErr::from(e).into_response(),
            Denied::Address => BillingErr::forbidden("This key may not be used from your address.").into_response(),
            Denied::Scope(s) => BillingErr::forbidden(&format!("The key lacks the '{s}' scope.")).into_response(),
            _ => BillingErr::unauthorized().into_response(),
        };
        let gate = gate.map_err(refuse)?;
        let token = gate.key_in(&input);
        // An Authorization header that is not a bearer token is a wrong token, not an absent one.
        if token.is_none() && input.header("authorization").is_some() {
            return Err(refuse(Denied::Wrong));
        }
        let admitted = gate.admit(state, token.as_deref(), input.ip).await.map_err(refuse)?;
        if gate.access != Access::ScopeIfKeyed("billing") {
            check_headers(&input).map_err(IntoResponse::into_response)?;
        }
        let (key, sites) = match admitted {
            Some(a) => (Some(a.key), a.sites),
            None => (None, Vec::new()),
        };
        Ok(Billing { key, input, raw_query, sites })
    }
}

/// The headers Invoicebox's documentation makes mandatory: `Accept` (admitting JSON) and `Content-Type: application/json`
/// on requests with a body. The documentation calls `User-Agent` mandatory too, but Invoicebox's own PHP SDK
/// (InvoiceBox/invoicebox-sdk-php, plain cURL) sends none, and the vendor's client is the stronger
/// evidence of what the service accepts: a request without one is served.
fn check_headers(input: &Input) -> Result<(), BillingErr> {
    match input.header("accept") {
        None => return Err(BillingErr::bad_request("The Accept header is required (application/json).", "Accept")),
        Some(a) if !accepts_json(a) => {
            return Err(BillingErr::bad_request("The Accept header must admit application/json.", "Accept"));
        }
        Some(_) => {}
    }
    if matches!(input.method, Method::POST | Method::PUT) {
        let ct = input.header("content-type").unwrap_or("").to_ascii_lowercase();
        if ct.is_empty() {
            return Err(BillingErr::bad_request(
                "The Content-Type header is required (application/json).",
                "Content-Type",
            ));
        }
        if !ct.starts_with("application/json") {
            return Err(BillingErr::bad_request("The Content-Type header must be application/json.", "Content-Type"));
        }
    }
    Ok(())
}

impl Billing {
    /// The JSON body, read member by member, once it holds no member outside `allowed` (the route's
    /// declaration, which is the list of what it takes).
    pub fn body_of(&self, allowed: &[Field]) -> Result<JsonBody<'_>, BillingErr> {
        match self.input.body.keys().find(|k| !allowed.iter().any(|f| f.name == k.as_str())) {
            Some(k) => Err(BillingError::validation(k, "unknown_field", format!("Unknown field '{k}'.")).into()),
            None => Ok(JsonBody(&self.input)),
        }
    }

    /// The key; every route but the auth check has one.
    pub fn key(&self) -> Result<&ApiKey, BillingErr> {
        self.key.as_deref().ok_or_else(BillingErr::unauthorized)
    }

    /// Who history records name.
    pub fn actor(&self) -> Actor {
        self.key.as_ref().map_or(Actor::Code, |k| Actor::Api(k.id))
    }

    /// Checks `X-Signature` when the site signs requests: hex HMAC-SHA1 of the raw body (of the empty
    /// string for requests without one) under the site's signing key.
    pub fn verify_signature(&self, settings: &BillingSettings) -> Result<(), BillingErr> {
        let Some(key) = settings.signing_key.as_deref() else { return Ok(()) };
        let bad = |m: &str| {
            let mut e = BillingErr::new(StatusCode::FORBIDDEN, "signature_error", m);
            e.fields.push(FieldProblem { name: "X-Signature".into(), code: "wrong_value", message: m.into() });
            e
        };
        match self.input.header("x-signature") {
            None => Err(bad("This merchant signs requests: the X-Signature header is required.")),
            Some(sig) if torg_domain::invoice::verify(key.as_bytes(), &self.input.raw_body, sig) => Ok(()),
            Some(_) => Err(bad("X-Signature does not match the request body.")),
        }
    }

    /// The merchant's settings, if the key reaches its site: unknown merchants and other sites are
    /// `forbidden`.
    pub async fn merchant(&self, state: &AppState, merchant_id: &str) -> Result<BillingSettings, BillingErr> {
        match state.store.billing_settings_by_merchant(merchant_id).await? {
            Some(s) if self.sites.contains(&s.site) => {
                self.verify_signature(&s)?;
                Ok(s)
            }
            _ => Err(BillingErr::forbidden(&format!("No access to merchant {merchant_id}."))),
        }
    }

    /// Checks `X-Signature` for a request about several merchants: when any of them signs requests,
    /// the signature must match one of their keys (one request carries one signature).
    pub fn verify_any_signature(&self, merchants: &[&BillingSettings]) -> Result<(), BillingErr> {
        let signing: Vec<&&BillingSettings> = merchants.iter().filter(|s| s.signing_key.is_some()).collect();
        match signing.first() {
            Some(first) if !signing.iter().any(|s| self.verify_signature(s).is_ok()) => self.verify_signature(first),
            _ => Ok(()),
        }
    }

    /// An invoice the caller may see (404 if none, 403 if another site's), signature checked.
    pub async fn invoice(&self, state: &AppState, id: &str) -> Result<(Invoice, BillingSettings), BillingErr> {
        let inv = state.store.get_invoice(id).await?.ok_or_else(BillingErr::not_found)?;
        if !self.sites.contains(&inv.site) {
            return Err(BillingErr::forbidden("No access to this order."));
        }
        let settings = state.store.billing_settings(&inv.site).await?.unwrap_or_default();
        self.verify_signature(&settings)?;
        Ok((inv, settings))
    }

    /// For lists: the sites covered, with the signature checked when any of them signs requests (it
    /// must match one of their keys).
    pub async fn list_sites(&self, state: &AppState) -> Result<Vec<String>, BillingErr> {
        let all = state.store.all_billing_settings().await?;
        let covered: Vec<&BillingSettings> = all.iter().filter(|s| self.sites.contains(&s.site)).collect();
        let signing: Vec<&&BillingSettings> = covered.iter().filter(|s| s.signing_key.is_some()).collect();
        if !signing.is_empty() && !signing.iter().any(|s| self.verify_signature(s).is_ok()) {
            self.verify_signature(signing[0])?;
        }
        Ok(covered.iter().map(|s| s.site.clone()).collect())
    }

    /// The list query, parsed from the raw query string.
    pub fn list_query(
        &self,
        fields: &[torg_domain::listing::FieldSpec],
    ) -> Result<torg_domain::listing::ListQuery, BillingErr> {
        let pairs = crate::params::pairs(self.raw_query.as_bytes());
        torg_domain::listing::parse(&pairs, fields).map_err(|e| {
            BillingError::field("wrong_filter_format", e.message.clone(), &e.parameter, "wrong_value").into()
        })
    }
}
