//! `orders`: the orders shipped from the distributor's warehouses (by the order's shipment store or a
//! line's warehouse). A distributor reads them without the buyer's personal data and sets their status
//! and tracking numbers; the change goes through the same order edit as the CRM face's, so the CRM
//! face shows the numbers in `delivery.data.trackNumber` and a history record names the key.

use super::rows::{known, money_text, text};
use super::{CallResult, Ctx, Done, Failed};
use serde_json::{Map, Value, json};
use torg_domain::history::Actor;
use torg_domain::order::Order;
use torg_domain::reference::ReferenceKind;
use torg_store::{OfficeOrderFilter, OrderLookup};

pub(super) const FIELDS: &[&str] = &["id", "number", "status", "track_numbers"];
pub(super) const FILTERS: &[&str] = &["id", "number", "status", "warehouse"];

/// Most tracking numbers on one order, and the longest one.
const MAX_TRACKS: usize = 20;
const MAX_TRACK_LEN: usize = 64;

/// An order as the distributor sees it: its lines from the distributor's warehouses only.
fn render(o: &Order, statuses: &[(String, String)], own: &[String], zone: &torg_domain::time::Zone) -> Value {
    let items: Vec<Value> = o
        .items
        .iter()
        .filter(|i| i.warehouse.as_ref().or(o.shipment_store.as_ref()).is_some_and(|w| own.contains(w)))
        .map(|i| {
            let attr = |k: &str| i.attrs.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let article = i.attrs.get("code").and_then(Value::as_str).map(str::to_owned);
            json!({
                "article": article.or_else(|| i.offer.as_ref().and_then(|o| o.article.clone())).unwrap_or_default(),
                "brand": attr("maker"),
                "name": i.product_name.clone().unwrap_or_default(),
                "quantity": i.quantity.normalize().to_string(),
                "price": money_text(i.initial_price),
                "warehouse": i.warehouse.clone().or_else(|| o.shipment_store.clone()).unwrap_or_default(),
            })
        })
        .collect();
    let mut out = json!({
        "id": o.id,
        "number": o.number,
        "status": o.status,
        "status_name": statuses.iter().find(|(c, _)| *c == o.status).map_or("", |(_, n)| n.as_str()),
        "created_at": zone.datetime(o.created_at),
        "warehouse": o.shipment_store.clone().unwrap_or_default(),
        "track_numbers": o.track_numbers(),
        "test": o.is_test,
        "items": items,
    });
    // The delivery service's last status, once an integration reported one (`delivery/generic/{code}/tracking`).
    if let (Some(m), Some(status)) = (out.as_object_mut(), o.delivery.data.get("status")) {
        m.insert("delivery_status".into(), status.clone());
    }
    out
}

/// Tracking numbers as a list or as RetailCRM's comma-separated text.
fn track_numbers(row: &Map<String, Value>) -> Result<Option<Vec<String>>, String> {
    let raw: Vec<String> = match row.get("track_numbers") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.split(',').map(str::to_owned).collect(),
        Some(Value::Number(n)) => vec![n.to_string()],
        Some(Value::Array(list)) => list
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                _ => Err("поле `track_numbers` должно быть списком строк".to_string()),
            })
            .collect::<Result<_, _>>()?,
        Some(Value::Object(m)) => m.values().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        Some(_) => return Err("поле `track_numbers` должно быть списком строк".into()),
    };
    let mut out: Vec<String> = Vec::new();
    for n in raw.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        if n.chars().count() > MAX_TRACK_LEN || n.contains(',') {
            return Err(format!("трек-номер `{n}` длиннее {MAX_TRACK_LEN} символов"));
        }
        if !out.iter().any(|o| o == n) {
            out.push(n.to_string());
        }
    }
    if out.len() > MAX_TRACKS {
        return Err(format!("не больше {MAX_TRACKS} трек-номеров"));
    }
    Ok(Some(out))
}

struct Update {
    lookup: OrderLookup,
    name: String,
    status: Option<String>,
    tracks: Option<Vec<String>>,
}

pub(super) async fn run(ctx: &Ctx<'_>) -> CallResult {
    let store = &ctx.state.store;
    let statuses: Vec<(String, String)> =
        store.list_refs(ReferenceKind::Status).await?.into_iter().map(|s| (s.code, s.name)).collect();
    let own: Vec<String> = store.distributor_warehouses(&ctx.distributor).await?.into_iter().map(|w| w.code).collect();
    let zone = &ctx.state.config.zone;
    match ctx.action {
        "get" | "list" => {
            let filter = ctx.filter(FILTERS)?;
            let (limit, offset) = ctx.paging()?;
            let trimmed = |field: &str| filter.values(field).iter().map(|v| v.trim().to_string()).collect::<Vec<_>>();
            let f = OfficeOrderFilter {
                ids: filter.ids("id")?,
                numbers: trimmed("number"),
                statuses: trimmed("status"),
                warehouses: trimmed("warehouse"),
                limit: limit.min(500),
                offset,
            };
            let orders = store.distributor_orders(&ctx.distributor, &f).await?;
            let rows = orders.iter().map(|o| render(o, &statuses, &own, zone)).collect();
            Ok(Done { rows, messages: Vec::new() })
        }
        "update" => {
            let given = ctx.parsed("orders", "заказа", |row| {
                known(row, FIELDS)?;
                let (lookup, name) = match (text(row, "id")?, text(row, "number")?) {
                    (Some(id), _) => match id.parse::<i64>() {
                        Ok(n) => (OrderLookup::Id(n), id),
                        Err(_) => return Err("поле `id` должно быть числом".into()),
                    },
                    (None, Some(number)) => (OrderLookup::Number(number.clone()), number),
                    (None, None) => return Err("нужно поле `id` или `number`".into()),
                };
                let status = text(row, "status")?;
                if let Some(s) = &status
                    && !statuses.iter().any(|(c, _)| c == s)
                {
                    return Err(format!("неизвестный статус `{s}`"));
                }
                let tracks = track_numbers(row)?;
                if status.is_none() && tracks.is_none() {
                    return Err("нужно поле `status` или `track_numbers`".into());
                }
                Ok(Update { lookup, name, status, tracks })
            })?;
            let mut done = Done::default();
            for u in &given {
                let result = store
                    .update_distributor_order(
                        &ctx.distributor,
                        &u.lookup,
                        u.status.as_deref(),
                        u.tracks.as_deref(),
                        Actor::Api(ctx.key.id),
                        zone,
                    )
                    .await;
                match result {
                    Ok(Some(o)) => done.rows.push(render(&o, &statuses, &own, zone)),
                    Ok(None) => done.messages.push(format!("Заказ `{}` не найден!", u.name)),
                    // Each order is its own write: a rule one order breaks is that order's message.
                    Err(torg_store::StoreError::Domain(e)) => {
                        done.messages.push(format!("Заказ `{}` не изменён: {}", u.name, super::domain_text(e)));
                    }
                    Err(e) => return Err(Failed::from(e)),
                }
            }
            Ok(done)
        }
        other => Err(Failed::invalid(format!("Действие `{other}` недоступно."))),
    }
}
