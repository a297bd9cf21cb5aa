//! Packs: part of an order line's quantity taken from one warehouse's stock.
//!
//! A pack write checks the line (it exists, on a site the caller reaches; the line's packs never hold
//! more than its quantity) and the stock (free stock covers what the pack takes beyond the order's own
//! reservation), then writes the pack; the stock follows through migration 0010's triggers, which also
//! settle it when an order edit later changes the order's reservations or removes a packed line. Each
//! write is one transaction with its history record. On PostgreSQL the line's row, then the stock
//! row, are locked before anything is read, so concurrent packs of one line take turns and none reads
//! stock another is about to take.

use crate::history::HistoryFilter;
use crate::sql::{Arg, Sql};
use crate::{Backend, Store, StoreResult, Tx};
use rust_decimal::Decimal;
use torg_domain::DomainError;
use torg_domain::history::{Actor, Change, HistoryRecord};
use torg_domain::money::{from_units, to_units};
use torg_domain::order::{OfferSnapshot, OrderItem};
use torg_domain::pack::{Pack, PackPatch};
use torg_domain::page::PageRequest;
use torg_domain::stock::StockRow;

/// Filters of the pack list; empty lists and `None` do not filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PackFilter {
    /// Only packs of orders on these sites (always set: the sites the caller reaches).
    pub sites: Vec<String>,
    /// Pack ids.
    pub ids: Vec<i64>,
    /// Warehouse codes.
    pub stores: Vec<String>,
    /// The order line.
    pub item_id: Option<i64>,
    /// The line's offer, by XML id.
    pub offer_xml_id: Option<String>,
    /// The line's offer, by external id.
    pub offer_external_id: Option<String>,
    /// The order, by id.
    pub order_id: Option<i64>,
    /// The order, by external id.
    pub order_external_id: Option<String>,
    /// Shipment date on or after (`Y-m-d`).
    pub shipment_date_from: Option<String>,
    /// Shipment date on or before (`Y-m-d`).
    pub shipment_date_to: Option<String>,
    /// Invoice number, exact.
    pub invoice_number: Option<String>,
    /// Delivery note number, exact.
    pub delivery_note_number: Option<String>,
}

const PACK_SELECT: &str = "SELECT p.id, p.item_id, p.order_id, o.external_id AS order_external_id, o.site,
       p.offer_id, f.external_id AS offer_external_id, f.xml_id AS offer_xml_id, f.name AS offer_name,
       f.article AS offer_article, w.code AS store, p.quantity, p.purchase_price, p.shipment_date,
       p.invoice_number, p.delivery_note_number
FROM packs p
JOIN orders o ON o.id = p.order_id
JOIN warehouses w ON w.id = p.warehouse_id
LEFT JOIN offers f ON f.id = p.offer_id";

fn pack_from_row(r: &crate::db::Row) -> StoreResult<Pack> {
    let offer = match r.try_get::<Option<i64>, _>("offer_id")? {
        Some(id) => Some(OfferSnapshot {
            id,
            external_id: r.try_get("offer_external_id")?,
            xml_id: r.try_get("offer_xml_id")?,
            name: r.try_get("offer_name")?,
            article: r.try_get("offer_article")?,
        }),
        None => None,
    };
    Ok(Pack {
        id: r.try_get("id")?,
        item_id: r.try_get("item_id")?,
        order_id: r.try_get("order_id")?,
        order_external_id: r.try_get("order_external_id")?,
        site: r.try_get("site")?,
        offer,
        store: r.try_get("store")?,
        quantity: from_units(r.try_get("quantity")?),
        purchase_price: r.try_get::<Option<i64>, _>("purchase_price")?.map(from_units),
        shipment_date: r.try_get("shipment_date")?,
        invoice_number: r.try_get("invoice_number")?,
        delivery_note_number: r.try_get("delivery_note_number")?,
    })
}

/// What a pack write needs of its order line.
struct Line {
    order_id: i64,
    offer_id: Option<i64>,
    /// In 1/10,000 units.
    quantity: i64,
    /// The line's warehouse, else the order's shipment store.
    store: Option<String>,
    purchase_price: Option<Decimal>,
}

fn not_found() -> crate::StoreError {
    DomainError::NotFound("pack".into()).into()
}

impl Store {
    /// Locks a row for the rest of the write on PostgreSQL (SQLite's single writer already serialises).
    async fn lock_in(&self, tx: &mut Tx, sql: &'static str, a: i64, b: Option<i64>) -> StoreResult<()> {
        if self.backend() == Backend::Postgres {
            let mut q = crate::db::query(sql).bind(a);
            if let Some(b) = b {
                q = q.bind(b);
            }
            q.fetch_optional(&mut **tx).await?;
        }
        Ok(())
    }

    /// The order line `item_id` (locked on PostgreSQL), if it exists on one of `sites`.
    async fn pack_line_in(&self, tx: &mut Tx, item_id: i64, sites: &[String]) -> StoreResult<Option<Line>> {
        self.lock_in(tx, "SELECT id FROM order_items WHERE id = $1 FOR UPDATE", item_id, None).await?;
        let row = crate::db::query(
            "SELECT i.order_id, i.offer_id, i.quantity, i.warehouse, i.doc, o.site, o.shipment_store
             FROM order_items i JOIN orders o ON o.id = i.order_id WHERE i.id = $1",
        )
        .bind(item_id)
        .fetch_optional(&mut **tx)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let site: String = r.try_get("site")?;
        if !sites.contains(&site) {
            return Ok(None);
        }
        let item: OrderItem = serde_json::from_str(&r.try_get::<String, _>("doc")?).unwrap_or_default();
        let warehouse: Option<String> = r.try_get("warehouse")?;
        Ok(Some(Line {
            order_id: r.try_get("order_id")?,
            offer_id: r.try_get("offer_id")?,
            quantity: r.try_get("quantity")?,
            store: warehouse.or(r.try_get("shipment_store")?),
            purchase_price: item.purchase_price,
        }))
    }

    /// The id of warehouse `code`, or an error naming the `store` field.
    async fn pack_warehouse_in(&self, tx: &mut Tx, code: &str) -> StoreResult<i64> {
        let id: Option<i64> = crate::db::query_scalar("SELECT id FROM warehouses WHERE code = $1")
            .bind(code)
            .fetch_optional(&mut **tx)
            .await?;
        Ok(id.ok_or_else(|| torg_domain::pack::unknown_store(code))?)
    }

    /// Refuses `q` (1/10,000 units) for a pack of the line (other than pack `except`) when the line's
    /// packs would then hold more than the line's quantity.
    async fn check_line_quantity(
        &self,
        tx: &mut Tx,
        item_id: i64,
        line: &Line,
        except: i64,
        q: i64,
    ) -> StoreResult<()> {
        let others: i64 = crate::db::query_scalar(
            "SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT) FROM packs WHERE item_id = $1 AND id <> $2",
        )
        .bind(item_id)
        .bind(except)
        .fetch_one(&mut **tx)
        .await?;
        Ok(torg_domain::pack::check_line_quantity(line.quantity, others, q)?)
    }

    /// Refuses a change of the group (order, offer, warehouse) from its packed sum to that sum
    /// `- removed + added` (1/10,000 units) when free stock does not cover what the group would take
    /// beyond the order's reservation there. The stock row is locked first on PostgreSQL, and the
    /// triggers that then move the stock read the same sums.
    #[allow(clippy::too_many_arguments)]
    async fn check_pack_stock(
        &self,
        tx: &mut Tx,
        order: i64,
        offer: i64,
        warehouse: i64,
        code: &str,
        removed: i64,
        added: i64,
    ) -> StoreResult<()> {
        self.lock_in(
            tx,
            "SELECT offer_id FROM stock WHERE offer_id = $1 AND warehouse_id = $2 FOR UPDATE",
            offer,
            Some(warehouse),
        )
        .await?;
        let sum: i64 = crate::db::query_scalar(
            "SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT) FROM packs WHERE order_id = $1 AND offer_id = $2 AND warehouse_id = $3",
        )
        .bind(order)
        .bind(offer)
        .bind(warehouse)
        .fetch_one(&mut **tx)
        .await?;
        let held: i64 = crate::db::query_scalar(
            "SELECT COALESCE(MAX(quantity), 0) FROM reservations WHERE order_id = $1 AND offer_id = $2 AND warehouse_id = $3",
        )
        .bind(order)
        .bind(offer)
        .bind(warehouse)
        .fetch_one(&mut **tx)
        .await?;
        let need = torg_domain::pack::stock_needed(sum, removed, added, held);
        if need <= 0 {
            return Ok(());
        }
        let stock: Option<(i64, i64, Option<String>)> = crate::db::query_as(
            "SELECT available, reserved, reported FROM stock WHERE offer_id = $1 AND warehouse_id = $2",
        )
        .bind(offer)
        .bind(warehouse)
        .fetch_optional(&mut **tx)
        .await?;
        let row =
            stock.map(|(available, reserved, reported)| StockRow { available, reserved, exact: reported.is_none() });
        torg_domain::stock::take(row, need, code).map_err(|r| DomainError::Refused(r).into())
    }

    /// Loads packs by id inside a write.
    async fn packs_in(&self, tx: &mut Tx, ids: &[i64]) -> StoreResult<Vec<Pack>> {
        let mut q = Sql::new(PACK_SELECT);
        q.push(" WHERE p.id IN ").bind_list(ids.iter().copied().map(Arg::Int)).push(" ORDER BY p.id");
        q.query().fetch_all(&mut **tx).await?.iter().map(pack_from_row).collect()
    }

    /// Creates a pack of one order line on one of `sites`.
    pub async fn create_pack(&self, patch: &PackPatch, actor: Actor, sites: &[String]) -> StoreResult<Pack> {
        patch.check_new().map_err(DomainError::Invalid)?;
        let (item_id, quantity) = patch.line_and_quantity()?;
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        let Some(line) = self.pack_line_in(&mut tx, item_id, sites).await? else {
            return Err(torg_domain::pack::unknown_item(item_id).into());
        };
        let code = torg_domain::pack::store_of(patch.store.as_deref(), line.store.as_deref())?;
        let warehouse = self.pack_warehouse_in(&mut tx, &code).await?;
        let q = to_units(quantity);
        self.check_line_quantity(&mut tx, item_id, &line, 0, q).await?;
        if let Some(offer) = line.offer_id {
            self.check_pack_stock(&mut tx, line.order_id, offer, warehouse, &code, 0, q).await?;
        }
        let purchase_price = match patch.purchase_price {
            Some(p) => p,
            None => line.purchase_price,
        };
        let id: i64 = crate::db::query_scalar(
            "INSERT INTO packs (order_id, item_id, offer_id, warehouse_id, quantity, purchase_price, shipment_date,
             invoice_number, delivery_note_number, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
        )
        .bind(line.order_id)
        .bind(item_id)
        .bind(line.offer_id)
        .bind(warehouse)
        .bind(q)
        .bind(purchase_price.map(to_units))
        .bind(patch.shipment_date.clone().flatten())
        .bind(patch.invoice_number.clone().flatten())
        .bind(patch.delivery_note_number.clone().flatten())
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let pack = self.packs_in(&mut tx, &[id]).await?.pop().ok_or_else(not_found)?;
        self.write_pack_history(&mut tx, &pack, actor, now, &[(true, false, pack.created_change())]).await?;
        tx.commit().await?;
        Ok(pack)
    }

    /// The pack `id` inside a write, with its line locked, if it is on one of `sites`.
    async fn pack_for_write(&self, tx: &mut Tx, id: i64, sites: &[String]) -> StoreResult<(Pack, Line)> {
        let item: Option<i64> = crate::db::query_scalar("SELECT item_id FROM packs WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
        let item = item.ok_or_else(not_found)?;
        let line = self.pack_line_in(tx, item, sites).await?.ok_or_else(not_found)?;
        // Read again under the line's lock: a concurrent write may have changed or removed it.
        let pack = self.packs_in(tx, &[id]).await?.pop().ok_or_else(not_found)?;
        Ok((pack, line))
    }

    /// Changes the given fields of pack `id`; its line never changes. Not found unless it is on one
    /// of `sites`.
    pub async fn edit_pack(&self, id: i64, patch: &PackPatch, actor: Actor, sites: &[String]) -> StoreResult<Pack> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        let (old, line) = self.pack_for_write(&mut tx, id, sites).await?;
        torg_domain::pack::check_same_item(&old, patch)?;
        let new = old.patched(patch);
        let changes = old.changes(&new);
        if changes.is_empty() {
            return Ok(old);
        }
        let old_warehouse = self.pack_warehouse_in(&mut tx, &old.store).await?;
        let warehouse = self.pack_warehouse_in(&mut tx, &new.store).await?;
        let (old_q, q) = (to_units(old.quantity), to_units(new.quantity));
        self.check_line_quantity(&mut tx, old.item_id, &line, id, q).await?;
        if let Some(offer) = line.offer_id {
            let removed = if warehouse == old_warehouse { old_q } else { 0 };
            self.check_pack_stock(&mut tx, line.order_id, offer, warehouse, &new.store, removed, q).await?;
        }
        crate::db::query(
            "UPDATE packs SET warehouse_id = $1, quantity = $2, purchase_price = $3, shipment_date = $4,
             invoice_number = $5, delivery_note_number = $6, updated_at = $7 WHERE id = $8",
        )
        .bind(warehouse)
        .bind(q)
        .bind(new.purchase_price.map(to_units))
        .bind(&new.shipment_date)
        .bind(&new.invoice_number)
        .bind(&new.delivery_note_number)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let records: Vec<(bool, bool, Change)> = changes.into_iter().map(|c| (false, false, c)).collect();
        self.write_pack_history(&mut tx, &new, actor, now, &records).await?;
        tx.commit().await?;
        Ok(new)
    }

    /// Deletes pack `id`, handing its stock back. Not found unless it is on one of `sites`.
    pub async fn delete_pack(&self, id: i64, actor: Actor, sites: &[String]) -> StoreResult<()> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        let (old, _) = self.pack_for_write(&mut tx, id, sites).await?;
        crate::db::query("DELETE FROM packs WHERE id = $1").bind(id).execute(&mut *tx).await?;
        self.write_pack_history(&mut tx, &old, actor, now, &[(false, true, old.deleted_change())]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// One pack (whatever its site: the caller checks).
    pub async fn get_pack(&self, id: i64) -> StoreResult<Option<Pack>> {
        let sql = format!("{PACK_SELECT} WHERE p.id = $1");
        let row = crate::db::query(sql).bind(id).fetch_optional(self.reader()).await?;
        row.as_ref().map(pack_from_row).transpose()
    }

    /// A page of packs in id order, and the size of the filtered set.
    pub async fn list_packs(&self, f: &PackFilter, page: PageRequest) -> StoreResult<(Vec<Pack>, u64)> {
        let mut wh = Sql::new(" WHERE o.site IN ");
        wh.bind_list(f.sites.iter().cloned().map(Arg::Text));
        if !f.ids.is_empty() {
            wh.push(" AND p.id IN ").bind_list(f.ids.iter().copied().map(Arg::Int));
        }
        if !f.stores.is_empty() {
            wh.push(" AND w.code IN ").bind_list(f.stores.iter().cloned().map(Arg::Text));
        }
        for (column, value) in [("p.item_id", f.item_id), ("p.order_id", f.order_id)] {
            if let Some(v) = value {
                wh.push(&format!(" AND {column} = ")).bind(Arg::Int(v));
            }
        }
        for (column, value) in [
            ("f.xml_id = ", &f.offer_xml_id),
            ("f.external_id = ", &f.offer_external_id),
            ("o.external_id = ", &f.order_external_id),
            ("p.shipment_date >= ", &f.shipment_date_from),
            ("p.shipment_date <= ", &f.shipment_date_to),
            ("p.invoice_number = ", &f.invoice_number),
            ("p.delivery_note_number = ", &f.delivery_note_number),
        ] {
            if let Some(v) = value {
                wh.push(" AND ").push(column).bind(Arg::Text(v.clone()));
            }
        }
        let from = "FROM packs p JOIN orders o ON o.id = p.order_id JOIN warehouses w ON w.id = p.warehouse_id
                    LEFT JOIN offers f ON f.id = p.offer_id";
        let total: i64 =
            wh.with_prefix(&format!("SELECT COUNT(*) {from}")).query_as::<(i64,)>().fetch_one(self.reader()).await?.0;
        let mut list = wh.with_prefix(PACK_SELECT);
        list.push(" ORDER BY p.id");
        crate::sql::page(&mut list, page.limit, page.offset());
        let rows = list.query().fetch_all(self.reader()).await?;
        let packs = rows.iter().map(pack_from_row).collect::<StoreResult<Vec<_>>>()?;
        Ok((packs, u64::try_from(total).unwrap_or(0)))
    }

    /// Writes history records of one pack: (created, deleted, change) each, the pack as it is now (or
    /// was, when deleted) kept with every record. Numbered as order history is (see `history.rs`).
    async fn write_pack_history(
        &self,
        tx: &mut Tx,
        pack: &Pack,
        actor: Actor,
        now: i64,
        records: &[(bool, bool, Change)],
    ) -> StoreResult<()> {
        let entity = pack.snapshot().to_string();
        let user_id = match actor {
            Actor::User(u) => u,
            _ => None,
        };
        for (created, deleted, change) in records {
            let seq: Option<i64> = match self.backend() {
                Backend::Sqlite => Some(
                    crate::db::query_scalar::<i64>("SELECT COALESCE(MAX(seq), 0) + 1 FROM pack_history")
                        .fetch_one(&mut **tx)
                        .await?,
                ),
                Backend::Postgres => None,
            };
            crate::db::query(
                "INSERT INTO pack_history (pack_id, order_id, created_at, source, api_key_id, user_id, created, deleted,
                 field, old_value, new_value, entity, seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            )
            .bind(pack.id)
            .bind(pack.order_id)
            .bind(now)
            .bind(actor.source())
            .bind(actor.api_key_id())
            .bind(user_id)
            .bind(*created)
            .bind(*deleted)
            .bind(&change.field)
            .bind(change.old_value.to_string())
            .bind(change.new_value.to_string())
            .bind(&entity)
            .bind(seq)
            .execute(&mut **tx)
            .await?;
        }
        self.number_after_commit(tx);
        Ok(())
    }

    /// A page of pack history in number order. The filter's entity is the order (`orderId`,
    /// `orderExternalId`); its sites are the orders' sites.
    pub async fn pack_history(&self, f: &HistoryFilter, page: PageRequest) -> StoreResult<(Vec<HistoryRecord>, u64)> {
        self.number_history().await?;
        let mut wh = Sql::new(" WHERE h.seq IS NOT NULL");
        if let Some(id) = f.since_id {
            wh.push(" AND h.seq > ").bind(Arg::Int(id));
        }
        if let Some(t) = f.start {
            wh.push(" AND h.created_at >= ").bind(Arg::Int(t));
        }
        if let Some(t) = f.end {
            wh.push(" AND h.created_at <= ").bind(Arg::Int(t));
        }
        if let Some(id) = f.entity_id {
            wh.push(" AND h.order_id = ").bind(Arg::Int(id));
        }
        if let Some(ext) = &f.entity_external_id {
            wh.push(" AND h.order_id IN (SELECT id FROM orders WHERE ");
            // External ids are unique per site: with the sites named, the look-up is the index's.
            if !f.sites.is_empty() {
                wh.push("site IN ").bind_list(f.sites.iter().cloned().map(Arg::Text)).push(" AND ");
            }
            wh.push("external_id = ").bind(Arg::Text(ext.clone())).push(")");
        }
        if !f.sites.is_empty() {
            wh.push(" AND h.order_id IN (SELECT id FROM orders WHERE site IN ")
                .bind_list(f.sites.iter().cloned().map(Arg::Text))
                .push(")");
        }
        let (total,): (i64,) =
            wh.with_prefix("SELECT COUNT(*) FROM pack_history h").query_as().fetch_one(self.reader()).await?;
        let mut list = wh.with_prefix(
            "SELECT h.seq AS id, h.created_at, h.source, h.api_key_id, h.user_id, h.created, h.deleted, h.field,
             h.old_value, h.new_value, h.entity FROM pack_history h",
        );
        list.push(" ORDER BY h.seq");
        crate::sql::page(&mut list, page.limit, page.offset());
        let rows = list.query().fetch_all(self.reader()).await?;
        let records =
            rows.iter().map(|r| crate::history::record_from_row(r, true, None)).collect::<StoreResult<Vec<_>>>()?;
        Ok((records, u64::try_from(total).unwrap_or(0)))
    }
}
