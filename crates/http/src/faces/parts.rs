//! The parts face: Carreta API v1 (docs/parts.md).
//!
//! A buyer's purchasing software searches by part number, gets one row per offer and warehouse with a
//! sealed `_` token, and orders a row back with `order_qty`. The key is `api_key` in the query; the key
//! must hold the `parts` scope and belong to a customer; the key's IP allow-list is enforced. Paths
//! answer with and without their trailing slash.

use crate::AppState;
use crate::envelope::Envelope;
use crate::input::Input;
use crate::json_response;
use crate::kit::{Access, Admitted, Denied, Face, Field, Gate, KeySource, OwnerRule, Prefix, Route, Security};
use crate::params::as_i64;
use crate::ratelimit::Class;
use axum::body::Body;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use torg_domain::books::Books;
use torg_domain::catalogue::{Availability, check_order_qty, parts_status_display};
use torg_domain::customer::Customer;
use torg_domain::history::Actor;
use torg_domain::key::{ApiKey, KeyOwner};
use torg_domain::money::{from_units, to_units};
use torg_domain::order::Order;
use torg_domain::page::PageRequest;
use torg_domain::reference::ReferenceKind;
use torg_domain::signature::Offered;
use torg_domain::stock::Refusal;
use torg_store::{HistoryFilter, OrderFilter, OrderLookup, PartsOrder, StoreError};

/// The face: the key in `api_key`, owned by the buyer it acts for.
pub static FACE: Face = Face {
    name: "parts",
    title: "Auto-parts supplier: search and orders",
    prefixes: &[Prefix { path: "/v1/", rate: Class::Api }],
    envelope: Envelope::Plain,
    keys: &[KeySource::Query("api_key")],
    owner: OwnerRule::Customer,
    security: Security::Query("api_key"),
    routes,
    aliases: without_slash,
};

/// Every route also answers without its trailing slash.
fn without_slash(path: &str) -> Vec<String> {
    path.strip_suffix('/').map(str::to_owned).into_iter().collect()
}

const PARTS: Access = Access::Scope("parts");

fn routes() -> Vec<Route> {
    vec![
        Route::get("/v1/profile/", PARTS, profile).doc(
            "parts",
            "get_profile",
            "The key's buyer: name, city, e-mail, phone, balance",
        ),
        Route::get("/v1/search/", PARTS, search)
            .doc("parts", "search_parts", "Offers for a part number and its analogues, per warehouse")
            .fields(&[Field::text("q").required().about("The part number.")])
            .answers(&[Field::list("objects").about("Offer rows; echo one, with `_`, to order it.")]),
        Route::post("/v1/order/", PARTS, create)
            .idempotent()
            .doc("parts", "create_parts_order", "Order one signed search row (`test=on` for a test order)")
            .fields(&[
                Field::text("_").required().about("The row's signature from the search."),
                Field::number("price").about("The row's price, as signed."),
                Field::int("qty").about("The row's availability, as signed."),
                Field::int("min_qty"),
                Field::int("period_min"),
                Field::int("period_max"),
                Field::int("order_qty").required(),
                Field::text("client_comment").about("At most 50 characters."),
                Field::one_of("test", &["on", "off"]).in_query().about("`on`: a test order."),
            ]),
        Route::get("/v1/order/", PARTS, list)
            .doc("parts", "list_parts_orders", "The buyer's orders, newest first, 100 a page")
            .fields(&[Field::int("page"), Field::text("client_comment").about("Only orders with this comment.")]),
        Route::get("/v1/order/{id}/", PARTS, one).doc("parts", "get_parts_order", "One order"),
        Route::get("/v1/order/{id}/history/", PARTS, history).doc(
            "parts",
            "list_parts_order_history",
            "What happened to an order",
        ),
    ]
}

/// A failure in the face's shape: `{"error": …}`, with `fields` for field problems.
#[derive(Debug)]
pub struct PartsError(StatusCode, Value);

impl PartsError {
    fn unauthorized() -> Self {
        PartsError(StatusCode::UNAUTHORIZED, json!({ "error": "Unauthorized." }))
    }

    fn not_found() -> Self {
        PartsError(StatusCode::NOT_FOUND, json!({ "error": "Not found." }))
    }

    fn field(field: &str, message: &str) -> Self {
        PartsError(StatusCode::BAD_REQUEST, json!({ "error": message, "fields": { field: [message] } }))
    }
}

impl IntoResponse for PartsError {
    fn into_response(self) -> Response {
        json_response(self.0, &self.1)
    }
}

impl From<StoreError> for PartsError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Domain(torg_domain::DomainError::Invalid(f)) => {
                let message = f.values().next().cloned().unwrap_or_else(|| "Invalid request.".into());
                let fields: Map<String, Value> = f.into_iter().map(|(k, v)| (k, json!([v]))).collect();
                PartsError(StatusCode::BAD_REQUEST, json!({ "error": message, "fields": fields }))
            }
            StoreError::Domain(torg_domain::DomainError::NotFound(_)) => PartsError::not_found(),
            // The row the buyer ordered from is refused under the fields the parts dialect names:
            // the sealed row (`_`) or the quantity (`order_qty`), also when another buyer took the
            // stock between the check and the reservation.
            StoreError::Domain(torg_domain::DomainError::Refused(r)) => match r {
                Refusal::Unoffered => PartsError::field("_", "This position is no longer offered; search again."),
                Refusal::Short { left, .. } => {
                    PartsError::field("order_qty", &format!("Only {left} left at this warehouse."))
                }
            },
            StoreError::Domain(other) => PartsError(StatusCode::BAD_REQUEST, json!({ "error": other.to_string() })),
            other => {
                tracing::error!(error = %other, "store failed");
                PartsError(StatusCode::INTERNAL_SERVER_ERROR, json!({ "error": "Internal server error." }))
            }
        }
    }
}

type PartsResult = Result<Response, PartsError>;

/// An authenticated buyer. The customer record itself is read only by the calls that need it
/// ([`Parts::customer`]): a search needs the key alone.
pub struct Parts {
    key: std::sync::Arc<ApiKey>,
    customer_id: i64,
    input: Input,
    /// Sites, warehouses and reference books as of this request's key check.
    books: std::sync::Arc<Books>,
}

impl Parts {
    /// The buyer, with the site their orders go to: the customer's own, unless the key reaches only
    /// other sites, in which case its first.
    async fn customer(&self, state: &AppState) -> Result<(Customer, String), PartsError> {
        // Without the order statistics: those add up every order the buyer ever placed, which for a
        // busy B2B buyer made each order slower than the last.
        let Some(customer) = state.store.order_customers(&[self.customer_id]).await?.remove(&self.customer_id) else {
            return Err(PartsError::unauthorized());
        };
        let site = self.key.sites.order_site(&customer.site);
        Ok((customer, site))
    }
}

impl FromRequest<AppState> for Parts {
    type Rejection = Response;

    async fn from_request(req: Request<Body>, state: &AppState) -> Result<Self, Self::Rejection> {
        let gate = Gate::of(req.extensions());
        let input = Input::read(req, state.config.body_limit).await?;
        let denied = |e: Denied| match e {
            Denied::Failed(e) => PartsError::from(e).into_response(),
            _ => PartsError::unauthorized().into_response(),
        };
        let gate = gate.map_err(denied)?;
        let admitted = gate.admit(state, gate.key_in(&input).as_deref(), input.ip).await.map_err(denied)?;
        let Some(Admitted { key, books, .. }) = admitted else { return Err(denied(Denied::Undeclared)) };
        let Some(KeyOwner::Customer(customer_id)) = key.owner else { return Err(denied(Denied::Owner)) };
        Ok(Parts { key, customer_id, input, books })
    }
}

fn money(d: Decimal) -> String {
    format!("{:.2}", d.round_dp(2))
}

/// `GET /v1/profile/`.
async fn profile(State(state): State<AppState>, parts: Parts) -> PartsResult {
    let (c, _) = parts.customer(&state).await?;
    let balance = state.store.customer_balance(c.id).await?;
    let body = json!({
        "balance": money(balance),
        "city": c.address.get("city").and_then(Value::as_str).unwrap_or(""),
        "email": c.email.clone().unwrap_or_default(),
        "name": c.full_name(),
        "phone": c.phones.first().map(|p| p.number.clone()).unwrap_or_default(),
    });
    Ok(json_response(StatusCode::OK, &body))
}

/// `GET /v1/search/?q=`.
async fn search(State(state): State<AppState>, parts: Parts) -> PartsResult {
    let q = parts.input.query_param("q").and_then(Value::as_str).unwrap_or("").to_string();
    let rows = state.store.search_parts(&q).await?;
    let now = torg_domain::time::now();
    let objects: Vec<SearchRow> = rows
        .iter()
        .map(|row| {
            let qty = row.shown.display();
            let offered = Offered {
                offer_id: row.offer_id,
                warehouse_id: row.warehouse_id,
                price_units: to_units(row.price),
                period_min: row.period_min,
                period_max: row.period_max,
                min_qty: row.min_qty,
                qty: qty.clone(),
                key_id: parts.key.id,
                issued_at: now,
            };
            SearchRow {
                token: offered.seal(&state.secret),
                code: &row.article,
                desc: &row.description,
                is_cross: row.is_cross,
                maker: &row.brand,
                min_qty: row.min_qty,
                name: &row.name,
                period_max: row.period_max,
                period_min: row.period_min,
                price: money(row.price),
                qty,
                source: &row.warehouse,
                stat: row.probability,
            }
        })
        .collect();
    Ok(json_response(StatusCode::OK, &SearchAnswer { objects }))
}

/// The search's answer, `{"objects": […]}`.
#[derive(serde::Serialize)]
struct SearchAnswer<'a> {
    objects: Vec<SearchRow<'a>>,
}

/// One row of a search answer, written straight to the wire (the busiest answer of the face: no
/// `Value` tree is built for it). Members in the supplier's order.
#[derive(serde::Serialize)]
struct SearchRow<'a> {
    /// The signed position a buyer orders back (`_`).
    #[serde(rename = "_")]
    token: String,
    code: &'a str,
    desc: &'a str,
    is_cross: bool,
    maker: &'a str,
    min_qty: i64,
    name: &'a str,
    period_max: i64,
    period_min: i64,
    price: String,
    qty: String,
    source: &'a str,
    stat: Option<i64>,
}

/// Reads a whole number given as a JSON number or a string.
fn whole(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        other => as_i64(other),
    }
}

/// `POST /v1/order/`: orders a search row back, checked against its `_` token.
async fn create(State(state): State<AppState>, parts: Parts) -> PartsResult {
    let token = parts
        .input
        .body_param("_")
        .and_then(Value::as_str)
        .ok_or_else(|| PartsError::field("_", "The position signature \"_\" is required."))?;
    let now = torg_domain::time::now();
    let offered = Offered::open(token, &state.secret, parts.key.id, now, state.config.token_lifetime_secs)
        .map_err(|e| PartsError::field("_", &e.to_string()))?;
    // The echoed row must be the row that was signed: a changed price or availability is tampering.
    let price = match parts.input.body_param("price") {
        None => None,
        Some(Value::String(s)) => Some(
            s.trim().parse::<Decimal>().map_err(|_| PartsError::field("price", "price must be a decimal number."))?,
        ),
        Some(Value::Number(n)) => Some(
            n.to_string()
                .parse::<Decimal>()
                .map_err(|_| PartsError::field("price", "price must be a decimal number."))?,
        ),
        Some(_) => return Err(PartsError::field("price", "price must be a decimal number.")),
    };
    if price.is_some_and(|p| to_units(p) != offered.price_units) {
        return Err(PartsError::field("price", "The row was altered: price differs from the signed offer."));
    }
    if let Some(q) = parts.input.body_param("qty") {
        let shown = q.as_str().map(str::to_owned).unwrap_or_else(|| q.to_string());
        if shown.trim() != offered.qty {
            return Err(PartsError::field("qty", "The row was altered: qty differs from the signed offer."));
        }
    }
    for (field, signed) in
        [("min_qty", offered.min_qty), ("period_min", offered.period_min), ("period_max", offered.period_max)]
    {
        if parts.input.body_param(field).is_some() && whole(parts.input.body_param(field)) != Some(signed) {
            return Err(PartsError::field(
                field,
                &format!("The row was altered: {field} differs from the signed offer."),
            ));
        }
    }
    let order_qty = match parts.input.body_param("order_qty") {
        None => return Err(PartsError::field("order_qty", "order_qty is required.")),
        v => whole(v).ok_or_else(|| PartsError::field("order_qty", "order_qty must be a whole number."))?,
    };
    let shown = Availability::parse(&offered.qty)
        .ok_or_else(|| PartsError::field("_", "The position signature \"_\" is invalid."))?;
    check_order_qty(order_qty, shown, offered.min_qty).map_err(|e| PartsError::field("order_qty", &e.to_string()))?;
    let comment = match parts.input.body_param("client_comment") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.chars().count() > 50 => {
            return Err(PartsError::field("client_comment", "client_comment must be 50 characters or fewer."));
        }
        Some(Value::String(s)) => Some(s.clone()).filter(|s| !s.is_empty()),
        Some(_) => return Err(PartsError::field("client_comment", "client_comment must be a string.")),
    };
    let test = parts.input.query_param("test").and_then(Value::as_str).is_some_and(|t| t.eq_ignore_ascii_case("on"));
    let order = state
        .store
        .seeing(&parts.books)
        .place_parts_order(
            &PartsOrder {
                sites: parts.key.sites.clone(),
                customer_id: parts.customer_id,
                corporate_id: parts.key.corporate_id,
                offer_id: offered.offer_id,
                warehouse_id: offered.warehouse_id,
                price: from_units(offered.price_units),
                period_min: offered.period_min,
                period_max: offered.period_max,
                quantity: order_qty,
                comment,
                test,
            },
            Actor::Api(parts.key.id),
            &state.config.zone,
        )
        .await?
        // The key's buyer is gone: the key no longer stands for anyone.
        .ok_or_else(PartsError::unauthorized)?;
    let codes = status_codes(&parts.books);
    Ok(json_response(StatusCode::CREATED, &render(&order, &codes, &state.config.zone)))
}

/// Status code → parts-face number, from the status reference.
fn status_codes(books: &Books) -> Vec<(String, i64)> {
    books
        .refs(ReferenceKind::Status)
        .iter()
        .map(|s| {
            let n = s.attrs.get("partsCode").and_then(Value::as_i64).unwrap_or(3);
            (s.code.clone(), n)
        })
        .collect()
}

fn iso(zone: &torg_domain::time::Zone, secs: i64) -> String {
    zone.datetime(secs).replacen(' ', "T", 1)
}

/// An order as the parts face shows it: its first line, priced and counted.
fn render(o: &Order, codes: &[(String, i64)], zone: &torg_domain::time::Zone) -> Value {
    let code = codes.iter().find(|(c, _)| *c == o.status).map_or(3, |(_, n)| *n);
    let item = o.items.first();
    let attr = |k: &str| item.and_then(|i| i.attrs.get(k)).cloned().unwrap_or(Value::Null);
    let mut v = json!({
        "id": o.id,
        "number": o.number,
        "status": code,
        "status_display": parts_status_display(code),
        "comment": o.manager_comment.clone().unwrap_or_default(),
        "client_comment": o.customer_comment.clone().unwrap_or_default(),
        "created": iso(zone, o.created_at),
        "code": attr("code"),
        "maker": attr("maker"),
        "name": item.and_then(|i| i.product_name.clone()).unwrap_or_default(),
        "price": money(item.map(|i| i.initial_price).unwrap_or_default()),
        "period_min": attr("periodMin"),
        "period_max": attr("periodMax"),
        "order_qty": item.map(|i| i.quantity.trunc().to_string().parse::<i64>().unwrap_or(0)).unwrap_or(0),
        "total": money(o.total_summ()),
    });
    if o.is_test {
        v["test"] = json!(true);
    }
    v
}

/// `GET /v1/order/?page=&client_comment=`: the buyer's orders, newest first, 100 a page.
async fn list(State(state): State<AppState>, parts: Parts) -> PartsResult {
    let page = whole(parts.input.query_param("page")).unwrap_or(1);
    if page < 1 {
        return Err(PartsError::field("page", "page must be 1 or more."));
    }
    let filter = OrderFilter {
        sites: parts.books.site_codes(),
        // A key ordering for a corporate customer sees all of its orders, whoever placed them.
        customer_id: if parts.key.corporate_id.is_some() { None } else { Some(parts.customer_id) },
        corporate_id: parts.key.corporate_id,
        customer_comment: parts
            .input
            .query_param("client_comment")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .filter(|c| !c.is_empty()),
        ..OrderFilter::default()
    };
    let (orders, _) = state
        .store
        .list_orders(&filter, PageRequest { limit: 100, page: u32::try_from(page).unwrap_or(u32::MAX) })
        .await?;
    let codes = status_codes(&parts.books);
    let objects: Vec<Value> = orders.iter().map(|o| render(o, &codes, &state.config.zone)).collect();
    Ok(json_response(StatusCode::OK, &json!({ "objects": objects })))
}

/// The buyer's order `id`, or 404 (another buyer's order is not found either).
async fn own_order(state: &AppState, parts: &Parts, id: &str) -> Result<Order, PartsError> {
    let id: i64 = id.parse().map_err(|_| PartsError::not_found())?;
    match state.store.get_order(&OrderLookup::Id(id)).await? {
        Some(o)
            if o.customer_id == Some(parts.customer_id)
                || (parts.key.corporate_id.is_some() && o.corporate_id == parts.key.corporate_id) =>
        {
            Ok(o)
        }
        _ => Err(PartsError::not_found()),
    }
}

/// `GET /v1/order/<id>/`.
async fn one(State(state): State<AppState>, Path(id): Path<String>, parts: Parts) -> PartsResult {
    let order = own_order(&state, &parts, &id).await?;
    let codes = status_codes(&parts.books);
    Ok(json_response(StatusCode::OK, &render(&order, &codes, &state.config.zone)))
}

/// `GET /v1/order/<id>/history/`: the order's history records, told as sentences.
async fn history(State(state): State<AppState>, Path(id): Path<String>, parts: Parts) -> PartsResult {
    let order = own_order(&state, &parts, &id).await?;
    let codes = status_codes(&parts.books);
    let statuses = parts.books.refs(ReferenceKind::Status);
    let name_of = |v: &Value| {
        let code = v.get("code").and_then(Value::as_str).unwrap_or("");
        statuses.iter().find(|s| s.code == code).map_or(code.to_string(), |s| s.name.clone())
    };
    let filter = HistoryFilter { entity_id: Some(order.id), ..HistoryFilter::default() };
    let mut objects = Vec::new();
    let mut page = 1;
    loop {
        let (records, total) = state.store.order_history(&filter, PageRequest { limit: 100, page }).await?;
        for h in &records {
            let comment = if h.created {
                let code = codes
                    .iter()
                    .find(|(c, _)| Some(c.as_str()) == h.entity.get("status").and_then(Value::as_str))
                    .map_or(2, |(_, n)| *n);
                let total = Order::from_snapshot(&h.entity).map(|o| o.total_summ()).unwrap_or_default();
                format!("Создан со статусом \"{}\" на сумму {} руб.", parts_status_display(code), money(total))
            } else {
                match h.field.as_deref() {
                    Some("status") => {
                        format!("Статус изменён: \"{}\" → \"{}\"", name_of(&h.old_value), name_of(&h.new_value))
                    }
                    Some("track_number") => format!("Трек-номер: {}", h.new_value.as_str().unwrap_or("")),
                    Some("manager_comment") => format!("Комментарий: {}", h.new_value.as_str().unwrap_or("")),
                    Some(f) => format!("Изменено: {f}"),
                    None => "Изменён".to_string(),
                }
            };
            objects.push(json!({ "comment": comment, "created": iso(&state.config.zone, h.created_at) }));
        }
        if u64::from(page) * 100 >= total {
            break;
        }
        page += 1;
    }
    Ok(json_response(StatusCode::OK, &json!({ "objects": objects })))
}
