//! Combining duplicates (`orders/combine`, `customers/combine`), linking orders (`orders/links/create`)
//! and a customer's subscriptions (`customers/{externalId}/subscriptions`).

use super::entities;
use super::field_error as invalid;
use super::scope::{CUSTOMER_WRITE, ORDER_WRITE};
use super::{Crm, CrmError, CrmResult, ok};
use crate::AppState;
use crate::kit::{BY, Field, Route, SITE};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use torg_domain::combine::Technique;
use torg_domain::reference::ReferenceKind;
use torg_store::{CustomerLookup, OrderLookup};

/// The group's routes.
pub fn routes() -> Vec<Route> {
    vec![
        Route::post("/api/v5/orders/combine", ORDER_WRITE, combine_orders)
            .doc("orders", "combine_orders", "Combine an order into another (technique merge, ours, summ or theirs)")
            .fields(&[
                Field::text("technique"),
                Field::entity("order", entities::ID).required(),
                Field::entity("resultOrder", entities::ID).required(),
            ]),
        Route::post("/api/v5/orders/links/create", ORDER_WRITE, link_orders)
            .doc("orders", "create_order_link", "Link two or more orders with a comment")
            .fields(&[Field::entity("link", entities::ORDER_LINK).required(), SITE]),
        Route::post("/api/v5/customers/combine", CUSTOMER_WRITE, combine_customers)
            .doc("customers", "combine_customers", "Combine customers into one")
            .fields(&[
                Field::entity("resultCustomer", entities::ID).required(),
                Field::entities("customers", entities::ID).required(),
            ]),
        Route::post("/api/v5/customers/{externalId}/subscriptions", CUSTOMER_WRITE, subscriptions)
            .doc(
                "customers",
                "set_customer_subscriptions",
                "Subscribe a customer to categories of channels, or unsubscribe",
            )
            .fields(&[Field::entities("subscriptions", entities::SUBSCRIPTION).required(), SITE, BY]),
    ]
}

/// The `id` of a `{id}` reference field.
fn id_of(m: &Map<String, Value>, field: &str) -> Result<i64, CrmError> {
    m.get("id")
        .and_then(crate::params::as_i64)
        .ok_or_else(|| invalid(format!("{field}.id"), "This value should not be blank."))
}

/// `POST /api/v5/orders/combine`: `order` (`{id}`) goes into `resultOrder` (`{id}`).
async fn combine_orders(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let technique = match crm.input.text("technique") {
        None => Technique::Ours,
        Some(t) => Technique::parse(&t).ok_or_else(|| {
            CrmError::parameter(
                "technique",
                "The value you selected is not a valid choice. Allowed: merge, ours, summ, theirs.",
            )
        })?,
    };
    let source = id_of(&crm.json_object("order")?, "order")?;
    let result = id_of(&crm.json_object("resultOrder")?, "resultOrder")?;
    state.store.combine_orders(source, result, technique, crm.actor(), &crm.sites).await?;
    ok(StatusCode::OK, json!({}))
}

/// `POST /api/v5/customers/combine`: `customers` (a list of `{id}`) go into `resultCustomer` (`{id}`).
async fn combine_customers(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let list = crm.json_list("customers", 50)?;
    let mut sources = Vec::with_capacity(list.len());
    for (i, m) in list.iter().enumerate() {
        let id = id_of(m, &format!("customers[{i}]"))?;
        if !sources.contains(&id) {
            sources.push(id);
        }
    }
    let result = id_of(&crm.json_object("resultCustomer")?, "resultCustomer")?;
    state.store.combine_customers(&sources, result, crm.actor(), &crm.sites).await?;
    ok(StatusCode::OK, json!({}))
}

/// `POST /api/v5/orders/links/create`: `link` = `{comment, orders: [{id} | {externalId} | {number}]}`,
/// two orders or more; external ids are looked up on `site`.
async fn link_orders(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let link = crm.json_object("link")?;
    let comment = link.get("comment").and_then(Value::as_str).map(str::to_owned);
    let refs: Vec<Value> = match link.get("orders") {
        Some(Value::Array(a)) => a.clone(),
        Some(Value::Object(o)) => o.values().cloned().collect(),
        _ => Vec::new(),
    };
    let mut ids = Vec::new();
    for (i, r) in refs.iter().enumerate() {
        let field = format!("link.orders[{i}]");
        let text = |k: &str| match r.get(k) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let lookup = if let Some(id) = r.get("id").and_then(crate::params::as_i64) {
            OrderLookup::Id(id)
        } else if let Some(ext) = text("externalId").or_else(|| text("externalID")) {
            OrderLookup::ExternalId { site: crm.site()?, external_id: ext }
        } else if let Some(number) = text("number") {
            OrderLookup::Number(number)
        } else {
            return Err(invalid(field, "Set one of the following fields: id, externalId, number"));
        };
        match state.store.get_order(&lookup).await?.filter(|o| crm.sites.contains(&o.site)) {
            Some(o) if !ids.contains(&o.id) => ids.push(o.id),
            Some(_) => {}
            None => return Err(invalid(field, "Order not found.")),
        }
    }
    if ids.len() < 2 {
        return Err(invalid("link.orders", "This collection should contain 2 elements or more."));
    }
    state.store.link_orders(&ids, comment.as_deref(), &crm.sites).await?;
    ok(StatusCode::CREATED, json!({}))
}

/// `POST /api/v5/customers/{externalId}/subscriptions`: `subscriptions` = `[{channel, subscription,
/// active}]`, each naming a subscription category of the reference book; `by` and `site` as for a
/// customer edit. The customer's `customerSubscriptions` are replaced by the categories given.
async fn subscriptions(State(state): State<AppState>, Path(uid): Path<String>, crm: Crm) -> CrmResult {
    let given = crm.json_list("subscriptions", 100)?;
    let lookup = if crm.by_id()? {
        CustomerLookup::Id(uid.parse().map_err(|_| CrmError::not_found())?)
    } else {
        CustomerLookup::ExternalId { site: crm.site()?, external_id: uid }
    };
    let now = torg_domain::time::now();
    let mut out = Vec::with_capacity(given.len());
    for (i, s) in given.iter().enumerate() {
        let channel = s.get("channel").and_then(Value::as_str).unwrap_or_default();
        let code = s.get("subscription").and_then(Value::as_str).unwrap_or_default();
        let Some(category) =
            crm.books.refs(ReferenceKind::Subscription).iter().find(|e| e.code == format!("{channel}/{code}"))
        else {
            return Err(invalid(
                format!("subscriptions[{i}].subscription"),
                format!("Subscription '{code}' of channel '{channel}' does not exist."),
            ));
        };
        let active = match s.get("active") {
            None => true,
            Some(v) => crate::params::as_bool(v)
                .ok_or_else(|| invalid(format!("subscriptions[{i}].active"), "This value should be of type bool."))?,
        };
        out.push(json!({
            "subscription": {
                "id": category.id, "channel": channel, "code": code, "name": category.name,
                "active": category.active,
                "autoSubscribe": category.attrs.get("autoSubscribe").cloned().unwrap_or(json!(false)),
                "ordering": category.ordering,
            },
            "subscribed": active,
            "changedAt": now,
        }));
    }
    let found = state.store.set_customer_subscriptions(&lookup, Value::Array(out), crm.actor(), &crm.sites).await;
    match found {
        Err(torg_store::StoreError::Domain(torg_domain::DomainError::NotFound(_))) => Err(CrmError::not_found()),
        other => other.map(|_| ()).map_err(CrmError::from).and_then(|()| ok(StatusCode::OK, json!({}))),
    }
}
