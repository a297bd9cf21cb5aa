//! Delivery integration: shipments, status updates from a delivery service, and cancelling an
//! order's delivery.
//!
//! An order's delivery status lives in `delivery.data.status` (with `statusDate` and
//! `statusComment`), its tracking numbers in `delivery.data.trackNumber`; both change through the
//! same order edit as everywhere else, so the order's history records who changed them, and the
//! office face and `/track` show them.

use crate::counts::{Counted, UNFILTERED};
use crate::db;
use crate::orders::OrderLookup;
use crate::sql::{Arg, Sql, any_of, text_args};
use crate::{Backend, Store, StoreResult, Tx, json_map};
use serde_json::{Map, Value, json};
use torg_domain::DomainError;
use torg_domain::delivery::{self, CANCELLED, NEW_SHIPMENT_STATUS, ShipmentPatch, TrackingUpdate};
use torg_domain::history::Actor;
use torg_domain::order::Order;
use torg_domain::page::{PageRequest, Pagination};
use torg_domain::task::OrderLink;
use torg_domain::time::Zone;

/// A shipment: orders handed to a delivery service on a date.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Shipment {
    /// Id.
    pub id: i64,
    /// The delivery service's id of it.
    pub external_id: Option<String>,
    /// The delivery integration's code.
    pub integration_code: Option<String>,
    /// Delivery type code.
    pub delivery_type: String,
    /// Warehouse code.
    pub store: Option<String>,
    /// Responsible manager.
    pub manager_id: Option<i64>,
    /// Status code.
    pub status: String,
    /// Date, `Y-m-d`.
    pub date: String,
    /// `{from, to, custom}`.
    pub time: Map<String, Value>,
    /// Lunch break.
    pub lunch_time: Option<String>,
    /// Comment.
    pub comment: Option<String>,
    /// The service's own data.
    pub extra_data: Map<String, Value>,
    /// Its orders (those on the reader's sites).
    pub orders: Vec<OrderLink>,
}

/// Which shipments a list shows; empty lists and `None` do not filter.
#[derive(Debug, Clone, Default)]
pub struct ShipmentFilter {
    /// Ids.
    pub ids: Vec<i64>,
    /// External id.
    pub external_id: Option<String>,
    /// Holding the order with this number.
    pub order_number: Option<String>,
    /// On or after (`Y-m-d`).
    pub date_from: Option<String>,
    /// On or before (`Y-m-d`).
    pub date_to: Option<String>,
    /// Warehouse codes.
    pub stores: Vec<String>,
    /// Managers.
    pub managers: Vec<i64>,
    /// Delivery type codes.
    pub delivery_types: Vec<String>,
    /// Statuses.
    pub statuses: Vec<String>,
}

const SELECT: &str = "SELECT id, external_id, integration_code, delivery_type, store, manager_id, status, date, doc
FROM delivery_shipments s";

type ShipmentRow = (i64, Option<String>, Option<String>, String, Option<String>, Option<i64>, String, String, String);

impl Store {
    /// Rows to shipments with their orders on `sites`.
    async fn with_orders(
        &self,
        exec: db::Exec<'_>,
        rows: Vec<ShipmentRow>,
        sites: &[String],
    ) -> StoreResult<Vec<Shipment>> {
        let links: Vec<(i64, i64, String, Option<String>, String)> = if rows.is_empty() {
            Vec::new()
        } else {
            let mut q = Sql::new(
                "SELECT so.shipment_id, o.id, o.number, o.external_id, o.site FROM delivery_shipment_orders so
                 JOIN orders o ON o.id = so.order_id WHERE so.shipment_id IN ",
            );
            q.bind_list(rows.iter().map(|r| Arg::Int(r.0)));
            q.push(" AND o.site IN ").bind_list(text_args(sites)).push(" ORDER BY so.shipment_id, o.id");
            q.query_as().fetch_all(exec).await?
        };
        Ok(rows
            .into_iter()
            .map(|(id, external_id, integration_code, delivery_type, store, manager_id, status, date, doc)| {
                let doc = json_map(&doc);
                let text = |k: &str| doc.get(k).and_then(Value::as_str).map(str::to_owned);
                let object = |k: &str| doc.get(k).and_then(Value::as_object).cloned().unwrap_or_default();
                Shipment {
                    id,
                    external_id,
                    integration_code,
                    delivery_type,
                    store,
                    manager_id,
                    status,
                    date,
                    time: object("time"),
                    lunch_time: text("lunchTime"),
                    comment: text("comment"),
                    extra_data: object("extraData"),
                    orders: links
                        .iter()
                        .filter(|l| l.0 == id)
                        .map(|(_, oid, number, ext, site)| OrderLink {
                            id: *oid,
                            number: number.clone(),
                            external_id: ext.clone(),
                            site: site.clone(),
                        })
                        .collect(),
                }
            })
            .collect())
    }

    /// `old` with the patch laid over it, checked against the books; the orders resolved.
    async fn patched_shipment(
        &self,
        tx: &mut Tx,
        old: Shipment,
        p: &ShipmentPatch,
        site: Option<&str>,
        sites: &[String],
    ) -> StoreResult<(Shipment, Option<Vec<i64>>)> {
        let mut s = old;
        if let Some(v) = &p.external_id {
            s.external_id.clone_from(v);
        }
        if let Some(v) = &p.delivery_type {
            s.delivery_type.clone_from(v);
        }
        if let Some(v) = &p.store {
            s.store.clone_from(v);
        }
        if let Some(v) = p.manager_id {
            s.manager_id = v;
        }
        if let Some(v) = &p.status {
            s.status.clone_from(v);
        }
        if let Some(v) = &p.date {
            s.date.clone_from(v);
        }
        if let Some(v) = &p.time {
            s.time.clone_from(v);
        }
        if let Some(v) = &p.lunch_time {
            s.lunch_time.clone_from(v);
        }
        if let Some(v) = &p.comment {
            s.comment.clone_from(v);
        }
        if let Some(v) = &p.extra_data {
            s.extra_data.clone_from(v);
        }
        let books = self.books_in(tx).await?;
        delivery::check_shipment_type(&books, &s.delivery_type)?;
        let carrier = delivery::integration_of(&books, &s.delivery_type).map(str::to_owned);
        match &p.integration_code {
            Some(Some(code)) => {
                delivery::check_shipment_carrier(&s.delivery_type, carrier.as_deref(), code)?;
                s.integration_code = Some(code.clone());
            }
            Some(None) => s.integration_code = carrier,
            None => {
                if s.integration_code.is_none() || p.delivery_type.is_some() {
                    s.integration_code = carrier;
                }
            }
        }
        delivery::check_shipment_store(&books, s.store.as_deref())?;
        if let Some(m) = s.manager_id {
            self.check_user_in(tx, m, delivery::SHIPMENT_MANAGER_AT).await?;
        }
        let orders = match &p.orders {
            None => None,
            Some(refs) => {
                let mut ids = Vec::with_capacity(refs.len());
                for (i, r) in refs.iter().enumerate() {
                    let link = self.order_link_in(tx, r, site, sites, &delivery::shipment_order_at(i)).await?;
                    let ty: Option<String> = db::query_scalar("SELECT delivery_type FROM orders WHERE id = $1")
                        .bind(link.id)
                        .fetch_one(&mut **tx)
                        .await?;
                    delivery::check_shipment_order(i, &link.number, &s.delivery_type, ty.as_deref())?;
                    if !ids.contains(&link.id) {
                        ids.push(link.id);
                    }
                }
                Some(ids)
            }
        };
        Ok((s, orders))
    }

    /// Writes a shipment's row (a new one when `s.id` is 0) and, when given, its orders; its id.
    async fn write_shipment(&self, tx: &mut Tx, s: &Shipment, orders: Option<&[i64]>) -> StoreResult<i64> {
        let now = torg_domain::time::now();
        let mut doc = Map::new();
        doc.insert("time".into(), Value::Object(s.time.clone()));
        if let Some(l) = &s.lunch_time {
            doc.insert("lunchTime".into(), json!(l));
        }
        if let Some(c) = &s.comment {
            doc.insert("comment".into(), json!(c));
        }
        doc.insert("extraData".into(), Value::Object(s.extra_data.clone()));
        let doc = Value::Object(doc).to_string();
        let id = if s.id == 0 {
            db::query_scalar(
                "INSERT INTO delivery_shipments (external_id, integration_code, delivery_type, store, manager_id, status,
                 date, doc, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
            )
            .bind(&s.external_id)
            .bind(&s.integration_code)
            .bind(&s.delivery_type)
            .bind(&s.store)
            .bind(s.manager_id)
            .bind(&s.status)
            .bind(&s.date)
            .bind(&doc)
            .bind(now)
            .fetch_one(&mut **tx)
            .await?
        } else {
            db::query(
                "UPDATE delivery_shipments SET external_id = $1, integration_code = $2, delivery_type = $3, store = $4,
                 manager_id = $5, status = $6, date = $7, doc = $8, updated_at = $9 WHERE id = $10",
            )
            .bind(&s.external_id)
            .bind(&s.integration_code)
            .bind(&s.delivery_type)
            .bind(&s.store)
            .bind(s.manager_id)
            .bind(&s.status)
            .bind(&s.date)
            .bind(&doc)
            .bind(now)
            .bind(s.id)
            .execute(&mut **tx)
            .await?;
            s.id
        };
        if let Some(orders) = orders {
            db::query("DELETE FROM delivery_shipment_orders WHERE shipment_id = $1")
                .bind(id)
                .execute(&mut **tx)
                .await?;
            for o in orders {
                db::query("INSERT INTO delivery_shipment_orders (shipment_id, order_id) VALUES ($1, $2)")
                    .bind(id)
                    .bind(*o)
                    .execute(&mut **tx)
                    .await?;
            }
        }
        Ok(id)
    }

    async fn shipment_in(&self, tx: &mut Tx, id: i64, sites: &[String]) -> StoreResult<Option<Shipment>> {
        let mut q = Sql::new(SELECT);
        q.push(" WHERE s.id = ").bind(Arg::Int(id));
        let rows: Vec<ShipmentRow> = q.query_as().fetch_all(&mut **tx).await?;
        Ok(self.with_orders(db::Exec::from(&mut **tx), rows, sites).await?.pop())
    }

    /// Creates a shipment; external ids of orders are looked up on `site` when given.
    pub async fn create_shipment(
        &self,
        p: &ShipmentPatch,
        site: Option<&str>,
        sites: &[String],
    ) -> StoreResult<Shipment> {
        p.check_new().map_err(DomainError::Invalid)?;
        let mut tx = self.begin().await?;
        let base = Shipment { status: NEW_SHIPMENT_STATUS.into(), ..Shipment::default() };
        let (s, orders) = self.patched_shipment(&mut tx, base, p, site, sites).await?;
        let id = self.write_shipment(&mut tx, &s, Some(orders.as_deref().unwrap_or_default())).await?;
        let stored =
            self.shipment_in(&mut tx, id, sites).await?.ok_or_else(|| DomainError::NotFound("shipment".into()))?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Changes a shipment's given members; the order list, when given, replaces the old one.
    pub async fn edit_shipment(
        &self,
        id: i64,
        p: &ShipmentPatch,
        site: Option<&str>,
        sites: &[String],
    ) -> StoreResult<Shipment> {
        let mut tx = self.begin().await?;
        if self.backend() == Backend::Postgres {
            db::query("SELECT id FROM delivery_shipments WHERE id = $1 FOR UPDATE").bind(id).execute(&mut *tx).await?;
        }
        let old =
            self.shipment_in(&mut tx, id, sites).await?.ok_or_else(|| DomainError::NotFound("shipment".into()))?;
        let (s, orders) = self.patched_shipment(&mut tx, old, p, site, sites).await?;
        self.write_shipment(&mut tx, &s, orders.as_deref()).await?;
        let stored =
            self.shipment_in(&mut tx, id, sites).await?.ok_or_else(|| DomainError::NotFound("shipment".into()))?;
        tx.commit().await?;
        Ok(stored)
    }

    /// One shipment, with its orders on `sites`.
    pub async fn get_shipment(&self, id: i64, sites: &[String]) -> StoreResult<Option<Shipment>> {
        let mut q = Sql::new(SELECT);
        q.push(" WHERE s.id = ").bind(Arg::Int(id));
        let rows: Vec<ShipmentRow> = q.query_as().fetch_all(self.reader()).await?;
        Ok(self.with_orders(self.reader().into(), rows, sites).await?.pop())
    }

    /// A page of shipments, newest first.
    pub async fn list_shipments(
        &self,
        f: &ShipmentFilter,
        sites: &[String],
        page: PageRequest,
    ) -> StoreResult<(Vec<Shipment>, Pagination)> {
        let mut wh = Sql::new(UNFILTERED);
        any_of(&mut wh, "s.id", f.ids.iter().copied().map(Arg::Int).collect());
        any_of(&mut wh, "s.store", text_args(&f.stores));
        any_of(&mut wh, "s.manager_id", f.managers.iter().copied().map(Arg::Int).collect());
        any_of(&mut wh, "s.delivery_type", text_args(&f.delivery_types));
        any_of(&mut wh, "s.status", text_args(&f.statuses));
        if let Some(e) = &f.external_id {
            wh.push(" AND s.external_id = ").bind(Arg::Text(e.clone()));
        }
        if let Some(n) = &f.order_number {
            wh.push(
                " AND s.id IN (SELECT so.shipment_id FROM delivery_shipment_orders so JOIN orders o ON o.id = so.order_id
                 WHERE o.number = ",
            )
            .bind(Arg::Text(n.clone()))
            .push(" AND o.site IN ")
            .bind_list(text_args(sites))
            .push(")");
        }
        if let Some(d) = &f.date_from {
            wh.push(" AND s.date >= ").bind(Arg::Text(d.clone()));
        }
        if let Some(d) = &f.date_to {
            wh.push(" AND s.date <= ").bind(Arg::Text(d.clone()));
        }
        let total = self.unsited_total(Counted::DeliveryShipments, "delivery_shipments s", &wh).await?;
        let mut select = wh.with_prefix(SELECT);
        select.push(" ORDER BY s.id DESC");
        crate::sql::page(&mut select, page.limit, page.offset());
        let rows: Vec<ShipmentRow> = select.query_as().fetch_all(self.reader()).await?;
        let shipments = self.with_orders(self.reader().into(), rows, sites).await?;
        Ok((shipments, page.meta(total)))
    }

    /// The order a delivery is, inside a write, row locked on PostgreSQL; `None` when it is not on
    /// `sites`.
    async fn delivery_order_in(
        &self,
        tx: &mut Tx,
        lookup: &OrderLookup,
        sites: &[String],
    ) -> StoreResult<Option<Order>> {
        let Some(id) = self.order_id_in(tx, lookup).await? else { return Ok(None) };
        if self.backend() == Backend::Postgres {
            db::query("SELECT id FROM orders WHERE id = $1 FOR UPDATE").bind(id).execute(&mut **tx).await?;
        }
        Ok(self.load_orders(tx, &[id]).await?.pop().filter(|o| sites.contains(&o.site)))
    }

    /// Applies a delivery service's status updates, all or nothing; the orders as changed. `code` is the delivery
    /// integration (a registered module with `integrations.delivery`); each update names an order by
    /// its number, and that order's delivery type must be one the integration carries.
    pub async fn apply_tracking(
        &self,
        code: &str,
        updates: &[TrackingUpdate],
        actor: Actor,
        sites: &[String],
        zone: &Zone,
    ) -> StoreResult<Vec<Order>> {
        let is_delivery = self
            .get_module(code)
            .await?
            .is_some_and(|m| m.doc.get("integrations").and_then(|i| i.get("delivery")).is_some_and(Value::is_object));
        if !is_delivery {
            return Err(DomainError::NotFound("delivery integration".into()).into());
        }
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        let books = self.books_in(&mut tx).await?;
        let mut out = Vec::with_capacity(updates.len());
        for (i, u) in updates.iter().enumerate() {
            let lookup = OrderLookup::Number(u.delivery_id.clone());
            let Some(order) = self.delivery_order_in(&mut tx, &lookup, sites).await? else {
                return Err(delivery::unknown_tracked_order(i, &u.delivery_id).into());
            };
            delivery::check_tracking_carrier(&books, i, &order, code)?;
            let mut with = order.clone();
            if let Some(t) = &u.track_number {
                let mut numbers = with.track_numbers();
                if !numbers.contains(t) {
                    numbers.push(t.clone());
                }
                with.set_track_numbers(&numbers);
            }
            if let Some(s) = u.latest() {
                let data = &mut with.delivery.data;
                data.insert("status".into(), json!(s.code));
                data.insert("statusDate".into(), json!(zone.datetime(s.updated_at.unwrap_or(now))));
                match &s.comment {
                    Some(c) => data.insert("statusComment".into(), json!(c)),
                    None => data.remove("statusComment"),
                };
            }
            if !u.extra_data.is_empty() {
                let mut extra =
                    with.delivery.data.get("extraData").and_then(Value::as_object).cloned().unwrap_or_default();
                extra.extend(u.extra_data.clone());
                with.delivery.data.insert("extraData".into(), Value::Object(extra));
            }
            if let Some(c) = u.cost {
                with.delivery.net_cost = Some(c);
            }
            let mut doc = Map::new();
            doc.insert("delivery".into(), serde_json::to_value(&with.delivery).unwrap_or(Value::Null));
            let order = self.edit_order_in(&mut tx, &OrderLookup::Id(order.id), &doc, actor, sites, zone, now).await?;
            out.push(order);
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Cancels an order's delivery: its status becomes `cancelled`. The delivery must be carried by
    /// an integration and not be cancelled already; `force` cancels even then (torg asks no service,
    /// so nothing can refuse).
    pub async fn cancel_delivery(
        &self,
        lookup: &OrderLookup,
        force: bool,
        actor: Actor,
        sites: &[String],
        zone: &Zone,
    ) -> StoreResult<Order> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        let Some(order) = self.delivery_order_in(&mut tx, lookup, sites).await? else {
            return Err(DomainError::NotFound("order".into()).into());
        };
        let books = self.books_in(&mut tx).await?;
        delivery::check_cancellable(&books, &order, force)?;
        let mut with = order.clone();
        with.delivery.data.insert("status".into(), json!(CANCELLED));
        with.delivery.data.insert("statusDate".into(), json!(zone.datetime(now)));
        with.delivery.data.remove("statusComment");
        let mut doc = Map::new();
        doc.insert("delivery".into(), serde_json::to_value(&with.delivery).unwrap_or(Value::Null));
        let order = self.edit_order_in(&mut tx, &OrderLookup::Id(order.id), &doc, actor, sites, zone, now).await?;
        tx.commit().await?;
        Ok(order)
    }
}
