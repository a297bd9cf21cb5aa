//! Customer interaction (`customer-interaction/{site}/…`): the cart a shop reports for its customer
//! (set, read, cleared) and the customer's favourite offers. The site is named by code, or by id with
//! `siteBy=id`; the customer by external id on that site, or by id with `by=id`.

use super::entities;
use super::field_error as invalid;
use super::member_text as text;
use super::scope::{CUSTOMER_READ, CUSTOMER_WRITE};
use super::{Crm, CrmError, CrmResult, ok};
use crate::AppState;
use crate::kit::{BY, Field, Route};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use torg_domain::FieldErrors;
use torg_store::{CartInput, CartLine, CustomerLookup, OfferRef, OrderLookup};

/// The group's routes.
pub fn routes() -> Vec<Route> {
    const BASE: &str = "/api/v5/customer-interaction/{site}";
    vec![
        Route::get(format!("{BASE}/cart/{{customerId}}"), CUSTOMER_READ, get_cart)
            .doc("customer-interaction", "get_cart", "A customer's cart in the shop")
            .fields(&[SITE_BY, BY])
            .answers(&[Field::object("cart")]),
        Route::post(format!("{BASE}/cart/set"), CUSTOMER_WRITE, set_cart)
            .doc("customer-interaction", "set_cart", "Replace a customer's cart")
            .fields(&[SITE_BY, Field::entity("cart", entities::CART).required()]),
        Route::post(format!("{BASE}/cart/clear"), CUSTOMER_WRITE, clear_cart)
            .doc("customer-interaction", "clear_cart", "Clear a customer's cart (emptied, or turned into an order)")
            .fields(&[SITE_BY, Field::entity("cart", entities::CART_CLEARED).required()]),
        Route::get(format!("{BASE}/favorites/{{customerId}}"), CUSTOMER_READ, favorites)
            .doc("customer-interaction", "get_favorites", "A customer's favourite offers")
            .fields(&[SITE_BY, BY]),
        Route::post(format!("{BASE}/favorites/{{customerId}}/add"), CUSTOMER_WRITE, add_favorite)
            .doc("customer-interaction", "add_favorite", "Add an offer to a customer's favourites")
            .fields(&[SITE_BY, BY, Field::entity("favorite", entities::FAVORITE).required()]),
        Route::post(format!("{BASE}/favorites/{{customerId}}/remove"), CUSTOMER_WRITE, remove_favorite)
            .doc("customer-interaction", "remove_favorite", "Remove an offer from a customer's favourites")
            .fields(&[SITE_BY, BY, Field::entity("favorite", entities::FAVORITE).required()]),
    ]
}

/// What the path's `{site}` is.
const SITE_BY: Field = Field::one_of("siteBy", &["code", "id"]).about("What the path's site is.");

/// The site of the path (`siteBy=code|id`), which the key must reach.
fn site(crm: &Crm, path_site: &str) -> Result<String, CrmError> {
    let code = match crm.input.text("siteBy").as_deref() {
        None | Some("code") => path_site.to_string(),
        Some("id") => {
            let id: i64 = path_site.parse().map_err(|_| CrmError::not_found())?;
            crm.books.sites().iter().find(|s| s.id == id).map(|s| s.code.clone()).ok_or_else(CrmError::not_found)?
        }
        Some(_) => {
            return Err(CrmError::parameter(
                "siteBy",
                "The value you selected is not a valid choice. Allowed: code, id.",
            ));
        }
    };
    if crm.sites.contains(&code) { Ok(code) } else { Err(CrmError::access_denied()) }
}

/// The customer a path or body names, on `site`; 404 when there is none there.
async fn customer(state: &AppState, site: &str, lookup: CustomerLookup) -> Result<i64, CrmError> {
    match state.store.get_customer(&lookup).await? {
        Some((c, _)) if c.site == site => Ok(c.id),
        _ => Err(CrmError::not_found()),
    }
}

fn path_lookup(crm: &Crm, site: &str, uid: &str) -> Result<CustomerLookup, CrmError> {
    if crm.by_id()? {
        uid.parse().map(CustomerLookup::Id).map_err(|_| CrmError::not_found())
    } else {
        Ok(CustomerLookup::ExternalId { site: site.to_string(), external_id: uid.to_string() })
    }
}

/// The customer of a cart body (`cart.customer`: `id` or `externalId`).
fn body_lookup(cart: &Map<String, Value>, site: &str) -> Result<CustomerLookup, CrmError> {
    let customer = cart.get("customer").and_then(Value::as_object);
    match customer {
        Some(c) if c.get("id").and_then(crate::params::as_i64).is_some() => {
            Ok(CustomerLookup::Id(c.get("id").and_then(crate::params::as_i64).unwrap_or_default()))
        }
        Some(c) if text(c, "externalId").is_some() => Ok(CustomerLookup::ExternalId {
            site: site.to_string(),
            external_id: text(c, "externalId").unwrap_or_default(),
        }),
        _ => Err(invalid("cart.customer", "Set one of the following fields: id, externalId")),
    }
}

fn offer_ref(v: Option<&Value>) -> OfferRef {
    let m = v.and_then(Value::as_object).cloned().unwrap_or_default();
    OfferRef {
        id: m.get("id").and_then(crate::params::as_i64),
        external_id: text(&m, "externalId"),
        xml_id: text(&m, "xmlId"),
    }
}

fn decimal(v: Option<&Value>) -> Option<Decimal> {
    match v? {
        Value::Number(n) => n.to_string().parse().ok(),
        Value::String(s) => s.trim().replace(',', ".").parse().ok(),
        _ => None,
    }
}

/// `GET …/cart/{customerId}`.
async fn get_cart(State(state): State<AppState>, Path((site_ref, uid)): Path<(String, String)>, crm: Crm) -> CrmResult {
    let site = site(&crm, &site_ref)?;
    let id = customer(&state, &site, path_lookup(&crm, &site, &uid)?).await?;
    let Some(cart) = state.store.get_cart(id).await? else { return Err(CrmError::not_found()) };
    let zone = &state.config.zone;
    let items: Vec<Value> = cart
        .items
        .iter()
        .map(|(n, offer, qty, price)| json!({ "id": n, "offer": offer, "quantity": qty, "price": price }))
        .collect();
    let mut body = json!({ "items": items, "customer": { "id": id, "site": site } });
    for (key, value) in
        [("externalId", cart.external_id.clone()), ("currency", cart.currency.clone()), ("link", cart.link.clone())]
    {
        if let Some(v) = value {
            body[key] = json!(v);
        }
    }
    if let Some(t) = cart.dropped_at {
        body["droppedAt"] = json!(zone.datetime_with_offset(t));
    }
    if let Some(t) = cart.cleared_at {
        body["clearedAt"] = json!(zone.datetime_with_offset(t));
    }
    if let Some(order) = cart.order_id {
        body["order"] = json!({ "id": order });
    }
    ok(StatusCode::OK, json!({ "cart": body }))
}

/// `POST …/cart/set`: `cart` = `{externalId, droppedAt, link, currency, customer, items: [{quantity,
/// price, offer: {id | externalId | xmlId}}]}`.
async fn set_cart(State(state): State<AppState>, Path(site_ref): Path<String>, crm: Crm) -> CrmResult {
    let site = site(&crm, &site_ref)?;
    let cart = crm.json_object("cart")?;
    let id = customer(&state, &site, body_lookup(&cart, &site)?).await?;
    let mut errors = FieldErrors::new();
    let dropped_at = match text(&cart, "droppedAt") {
        None => None,
        Some(t) => {
            let parsed = state.config.zone.parse_with_offset(&t);
            if parsed.is_none() {
                errors.insert("cart.droppedAt".into(), "This value is not a valid datetime (Y-m-d H:i:sP).".into());
            }
            parsed
        }
    };
    let mut items = Vec::new();
    let given: Vec<Value> = cart.get("items").and_then(Value::as_array).cloned().unwrap_or_default();
    for (i, item) in given.iter().enumerate() {
        let quantity = decimal(item.get("quantity")).filter(|q| *q > Decimal::ZERO);
        let price = decimal(item.get("price")).unwrap_or(Decimal::ZERO);
        match quantity {
            Some(quantity) if price >= Decimal::ZERO => {
                items.push(CartLine { offer: offer_ref(item.get("offer")), quantity, price });
            }
            Some(_) => {
                errors.insert(format!("cart.items[{i}].price"), "This value should be 0 or more.".into());
            }
            None => {
                errors.insert(format!("cart.items[{i}].quantity"), "This value should be greater than 0.".into());
            }
        }
    }
    if !errors.is_empty() {
        return Err(CrmError::entity(errors));
    }
    let input = CartInput {
        external_id: text(&cart, "externalId"),
        currency: text(&cart, "currency"),
        link: text(&cart, "link"),
        dropped_at,
        items,
    };
    state.store.set_cart(id, &site, &input).await?;
    ok(StatusCode::OK, json!({}))
}

/// `POST …/cart/clear`: `cart` = `{clearedAt, customer, order: {id | externalId | number}}`.
async fn clear_cart(State(state): State<AppState>, Path(site_ref): Path<String>, crm: Crm) -> CrmResult {
    let site = site(&crm, &site_ref)?;
    let cart = crm.json_object("cart")?;
    let id = customer(&state, &site, body_lookup(&cart, &site)?).await?;
    let cleared_at = match text(&cart, "clearedAt") {
        None => torg_domain::time::now(),
        Some(t) => state
            .config
            .zone
            .parse_with_offset(&t)
            .ok_or_else(|| invalid("cart.clearedAt", "This value is not a valid datetime (Y-m-d H:i:sP)."))?,
    };
    let order = match cart.get("order").and_then(Value::as_object) {
        None => None,
        Some(o) => {
            let lookup = if let Some(id) = o.get("id").and_then(crate::params::as_i64) {
                OrderLookup::Id(id)
            } else if let Some(ext) = text(o, "externalId") {
                OrderLookup::ExternalId { site: site.clone(), external_id: ext }
            } else if let Some(n) = text(o, "number") {
                OrderLookup::Number(n)
            } else {
                return Err(invalid("cart.order", "Set one of the following fields: id, externalId, number"));
            };
            match state.store.get_order(&lookup).await?.filter(|o| o.site == site) {
                Some(o) => Some(o.id),
                None => return Err(invalid("cart.order", "Order not found.")),
            }
        }
    };
    if !state.store.clear_cart(id, cleared_at, order).await? {
        return Err(CrmError::not_found());
    }
    ok(StatusCode::OK, json!({}))
}

/// `GET …/favorites/{customerId}`: the list under `favorites`, and under `cart` too, the key the
/// official Go client's `FavoritesResponse` reads.
async fn favorites(
    State(state): State<AppState>,
    Path((site_ref, uid)): Path<(String, String)>,
    crm: Crm,
) -> CrmResult {
    let site = site(&crm, &site_ref)?;
    let id = customer(&state, &site, path_lookup(&crm, &site, &uid)?).await?;
    let zone = &state.config.zone;
    let list: Vec<Value> = state
        .store
        .favorites(id)
        .await?
        .iter()
        .map(|f| json!({ "offer": f.offer, "createdAt": zone.datetime_with_offset(f.created_at) }))
        .collect();
    ok(StatusCode::OK, json!({ "favorites": list, "cart": list }))
}

async fn change(state: &AppState, crm: &Crm, site_ref: &str, uid: &str, add: bool) -> CrmResult {
    let site = site(crm, site_ref)?;
    let id = customer(state, &site, path_lookup(crm, &site, uid)?).await?;
    let favorite = crm.json_object("favorite")?;
    let offer = offer_ref(favorite.get("offer"));
    if offer.id.is_none() && offer.external_id.is_none() && offer.xml_id.is_none() {
        return Err(invalid("favorite.offer", "Set one of the following fields: id, externalId, xmlId"));
    }
    state.store.change_favorite(id, &offer, add).await?;
    ok(StatusCode::OK, json!({}))
}

/// `POST …/favorites/{customerId}/add`: `favorite` = `{offer: {id | externalId | xmlId}}`.
async fn add_favorite(State(state): State<AppState>, Path((site, uid)): Path<(String, String)>, crm: Crm) -> CrmResult {
    change(&state, &crm, &site, &uid, true).await
}

/// `POST …/favorites/{customerId}/remove`.
async fn remove_favorite(
    State(state): State<AppState>,
    Path((site, uid)): Path<(String, String)>,
    crm: Crm,
) -> CrmResult {
    change(&state, &crm, &site, &uid, false).await
}
