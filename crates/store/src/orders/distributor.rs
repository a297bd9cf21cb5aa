//! A distributor's orders: those shipped from its warehouses, which it may read and move along (status,
//! tracking numbers) but never edit otherwise.

use super::OrderLookup;
use crate::sql::{Arg, Sql, any_of, page, text_args};
use crate::{Store, StoreResult, Tx};
use serde_json::{Map, Value, json};
use torg_domain::DomainError;
use torg_domain::history::Actor;
use torg_domain::order::Order;
use torg_domain::time::Zone;

/// Which of a distributor's orders a list reads: empty lists do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OfficeOrderFilter {
    /// Order ids.
    pub ids: Vec<i64>,
    /// Order numbers.
    pub numbers: Vec<String>,
    /// Status codes.
    pub statuses: Vec<String>,
    /// Warehouse codes the order ships from (its shipment store or a line's warehouse).
    pub warehouses: Vec<String>,
    /// Page size.
    pub limit: u32,
    /// Rows to skip.
    pub offset: u64,
}

/// The orders shipped from a distributor's (active or not) warehouses: by the order's shipment store
/// or by any line's warehouse.
fn shipped_from(q: &mut Sql, distributor: &str) {
    q.push("(o.shipment_store IN (SELECT code FROM warehouses WHERE distributor = ")
        .bind(Arg::Text(distributor.into()))
        .push(") OR o.id IN (SELECT i.order_id FROM order_items i JOIN warehouses w ON w.code = i.warehouse WHERE w.distributor = ")
        .bind(Arg::Text(distributor.into()))
        .push("))");
}

impl Store {
    /// Orders shipped from a distributor's warehouses, newest first, narrowed by `f`.
    pub async fn distributor_orders(&self, distributor: &str, f: &OfficeOrderFilter) -> StoreResult<Vec<Order>> {
        let mut q = Sql::new("SELECT o.id FROM orders o WHERE ");
        shipped_from(&mut q, distributor);
        any_of(&mut q, "o.id", f.ids.iter().copied().map(Arg::Int).collect());
        any_of(&mut q, "o.number", text_args(&f.numbers));
        any_of(&mut q, "o.status", text_args(&f.statuses));
        if !f.warehouses.is_empty() {
            q.push(" AND (o.shipment_store IN ")
                .bind_list(text_args(&f.warehouses))
                .push(" OR o.id IN (SELECT i.order_id FROM order_items i WHERE i.warehouse IN ")
                .bind_list(text_args(&f.warehouses))
                .push("))");
        }
        q.push(" ORDER BY o.id DESC");
        page(&mut q, f.limit, f.offset);
        let found: Vec<(i64,)> = q.query_as().fetch_all(self.reader()).await?;
        let mut out = Vec::with_capacity(found.len());
        for (id,) in found {
            if let Some(o) = self.get_order(&OrderLookup::Id(id)).await? {
                out.push(o);
            }
        }
        Ok(out)
    }

    /// `orders.update`: sets the status and/or the tracking numbers of an order the distributor ships,
    /// through the same edit the CRM face makes (so it keeps one truth, `delivery.data.trackNumber`,
    /// and writes a history record attributed to `actor`). `None` when the order is not the
    /// distributor's. The ownership check and the edit share one transaction, with the order's row
    /// locked first, so a CRM edit moving the order to another warehouse cannot slip in between.
    pub async fn update_distributor_order(
        &self,
        distributor: &str,
        lookup: &OrderLookup,
        status: Option<&str>,
        track_numbers: Option<&[String]>,
        actor: Actor,
        zone: &Zone,
    ) -> StoreResult<Option<Order>> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        let Some(id) = self.order_id_in(&mut tx, lookup).await? else { return Ok(None) };
        if !self.ships_order_in(&mut tx, distributor, id).await? {
            return Ok(None);
        }
        let Some(order) = self.load_orders(&mut tx, &[id]).await?.pop() else { return Ok(None) };
        let mut doc = Map::new();
        if let Some(s) = status {
            doc.insert("status".into(), json!(s));
        }
        if let Some(numbers) = track_numbers {
            let mut with = order.clone();
            with.set_track_numbers(numbers);
            doc.insert("delivery".into(), serde_json::to_value(&with.delivery).unwrap_or(Value::Null));
        }
        if doc.is_empty() {
            return Ok(Some(order));
        }
        let sites: Vec<String> = vec![order.site.clone()];
        match self.edit_order_in(&mut tx, &OrderLookup::Id(id), &doc, actor, &sites, zone, now).await {
            Ok(o) => {
                tx.commit().await?;
                Ok(Some(o))
            }
            Err(crate::StoreError::Domain(DomainError::NotFound(_))) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Whether order `id` ships from one of the distributor's warehouses, inside a write. On
    /// PostgreSQL the order's row is locked first and the check then reads afresh, so what it sees
    /// stays true until the write commits (SQLite's single writer already serialises this).
    async fn ships_order_in(&self, tx: &mut Tx, distributor: &str, id: i64) -> StoreResult<bool> {
        if self.backend() == crate::Backend::Postgres {
            crate::db::query("SELECT id FROM orders WHERE id = $1 FOR UPDATE")
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?;
        }
        let mut q = Sql::new("SELECT o.id FROM orders o WHERE ");
        shipped_from(&mut q, distributor);
        q.push(" AND o.id = ").bind(Arg::Int(id));
        let found: Option<(i64,)> = q.query_as().fetch_optional(&mut **tx).await?;
        Ok(found.is_some())
    }
}
