//! Stock: what each offer has at each warehouse, and the reservations orders hold on it.
//!
//! Every writer — `torg import catalogue`, the CRM store methods, a distributor's stock batches — puts
//! stock into the same `stock` rows, with the same products and offers, so search sells it, orders
//! reserve it and inventories report it as soon as the write commits.

use crate::batch::RowOutcome;
use crate::catalogue::{CatalogueFilter, new_offer_in, offer_id_in, product_id_in};
use crate::sql::{Arg, Sql, any_of, norm_args, page, text_args};
use crate::warehouses::own_warehouse_in;
use crate::{Store, StoreResult, Tx};
use rust_decimal::Decimal;
use torg_domain::DomainError;
use torg_domain::catalogue::{Availability, normalize_number};
use torg_domain::money::{from_units, to_units};
use torg_domain::stock::{self, Refusal};

/// Stock of one part at one of the distributor's warehouses.
#[derive(Debug, Clone, PartialEq)]
pub struct Remain {
    /// Part number.
    pub article: String,
    /// Brand.
    pub brand: String,
    /// Product name.
    pub name: String,
    /// Warehouse code.
    pub warehouse: String,
    /// Stock as reported (an exact count, `<N`, `>N` or `Есть`).
    pub quantity: Availability,
    /// Units held by orders.
    pub reserved: i64,
    /// Selling price at this warehouse.
    pub price: Decimal,
    /// Minimum order quantity.
    pub min_qty: i64,
    /// Delivery days, least (the warehouse's when not set).
    pub period_min: Option<i64>,
    /// Delivery days, most (the warehouse's when not set).
    pub period_max: Option<i64>,
}

/// A stock write; `None` keeps what is stored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RemainInput {
    /// Part number.
    pub article: String,
    /// Brand.
    pub brand: String,
    /// Warehouse code.
    pub warehouse: String,
    /// Product name, used when the product is new.
    pub name: Option<String>,
    /// Stock.
    pub quantity: Option<Availability>,
    /// Price.
    pub price: Option<Decimal>,
    /// Minimum order quantity.
    pub min_qty: Option<i64>,
    /// Delivery days, least.
    pub period_min: Option<i64>,
    /// Delivery days, most.
    pub period_max: Option<i64>,
}

/// The stock of an offer across warehouses, as inventories report it.
#[derive(Debug, Clone, PartialEq)]
pub struct Inventory {
    /// Offer id.
    pub offer_id: i64,
    /// Offer external id.
    pub external_id: Option<String>,
    /// Offer XML id.
    pub xml_id: Option<String>,
    /// Per warehouse: (code, available, reserved, purchase price).
    pub stores: Vec<(String, i64, i64, Option<Decimal>)>,
}

/// A stock row's own values: available, reported, price, min quantity, delivery days.
type StockRow = (i64, Option<String>, Option<i64>, Option<i64>, Option<i64>, Option<i64>);

const REMAIN_COLUMNS: &str =
    "SELECT p.article, p.brand, p.name, w.code AS warehouse, s.available, s.reserved, s.reported,
       COALESCE(s.price, o.price) AS price, COALESCE(s.min_qty, o.min_qty) AS min_qty, s.period_min, s.period_max
FROM stock s
JOIN offers o ON o.id = s.offer_id
JOIN products p ON p.id = o.product_id
JOIN warehouses w ON w.id = s.warehouse_id";

fn remain_from_row(r: &crate::db::Row) -> StoreResult<Remain> {
    let reported: Option<String> = r.try_get("reported")?;
    let available: i64 = r.try_get("available")?;
    Ok(Remain {
        article: r.try_get::<Option<String>, _>("article")?.unwrap_or_default(),
        brand: r.try_get::<Option<String>, _>("brand")?.unwrap_or_default(),
        name: r.try_get("name")?,
        warehouse: r.try_get("warehouse")?,
        quantity: reported.as_deref().and_then(Availability::parse).unwrap_or(Availability::Exact(available)),
        reserved: r.try_get("reserved")?,
        price: from_units(r.try_get("price")?),
        min_qty: r.try_get::<i64, _>("min_qty")?.max(1),
        period_min: r.try_get("period_min")?,
        period_max: r.try_get("period_max")?,
    })
}

impl Store {
    /// How many stock rows have more reserved than is on hand where the quantity is exact: never, by
    /// the reservation rule; the benchmarks and tests check it after a race.
    pub async fn oversold_stock(&self) -> StoreResult<i64> {
        Ok(crate::db::query_scalar("SELECT COUNT(*) FROM stock WHERE reported IS NULL AND reserved > available")
            .fetch_one(self.reader())
            .await?)
    }

    /// Stock at a distributor's active warehouses, by warehouse, brand and part number.
    pub async fn distributor_remains(&self, distributor: &str, f: &CatalogueFilter) -> StoreResult<Vec<Remain>> {
        let aliases = self.brand_aliases().await?;
        let mut q = Sql::new(REMAIN_COLUMNS);
        q.push(" WHERE w.distributor = ").bind(Arg::Text(distributor.into())).push(" AND w.active = 1");
        any_of(&mut q, "p.article_norm", norm_args(&f.articles, normalize_number));
        any_of(&mut q, "p.brand_norm", norm_args(&f.brands, |b| aliases.canonical(b)));
        any_of(&mut q, "w.code", text_args(&f.warehouses));
        any_of(&mut q, "p.name", text_args(&f.names));
        q.push(" ORDER BY w.code, p.brand_norm, p.article_norm");
        page(&mut q, f.limit, f.offset);
        let rows = q.query().fetch_all(self.reader()).await?;
        rows.iter().map(remain_from_row).collect()
    }

    /// `remains.add` (create or replace) and `remains.update` (only rows that exist): sets stock at the
    /// distributor's warehouses. A new part becomes a catalogue product with one offer, as an import
    /// makes it; fields not given keep what is stored.
    pub async fn put_office_remains(
        &self,
        distributor: &str,
        rows: &[RemainInput],
        only_existing: bool,
    ) -> StoreResult<Vec<RowOutcome<Remain>>> {
        let mut tx = self.begin().await?;
        let now = torg_domain::time::now();
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let Some((warehouse, _)) = own_warehouse_in(&mut tx, distributor, &r.warehouse).await? else {
                out.push(RowOutcome::NotFound);
                continue;
            };
            let product = product_id_in(&mut tx, &r.article, &r.brand).await?;
            let offer = match product {
                Some(p) => offer_id_in(&mut tx, p).await?,
                None => None,
            };
            let current: Option<StockRow> = match offer {
                Some(o) => {
                    crate::db::query_as(
                        "SELECT available, reported, price, min_qty, period_min, period_max FROM stock
                             WHERE offer_id = $1 AND warehouse_id = $2",
                    )
                    .bind(o)
                    .bind(warehouse)
                    .fetch_optional(&mut *tx)
                    .await?
                }
                None => None,
            };
            if only_existing && current.is_none() {
                out.push(RowOutcome::NotFound);
                continue;
            }
            let product = match product {
                Some(p) => p,
                None => {
                    let name = r.name.clone().unwrap_or_else(|| r.article.trim().to_string());
                    self.upsert_product_in(&mut tx, &r.article, &r.brand, &name, None, now).await?
                }
            };
            let price = r.price.map(to_units);
            let offer = match offer {
                Some(o) => o,
                None => new_offer_in(&mut tx, product, price.unwrap_or(0), r.min_qty.unwrap_or(1)).await?,
            };
            let (old_available, old_reported, old_price, old_min, old_pmin, old_pmax) =
                current.unwrap_or((0, None, None, None, None, None));
            let (available, reported) = match r.quantity {
                Some(Availability::Exact(n)) => (n, None),
                Some(other) => (0, Some(other.display())),
                None => (old_available, old_reported),
            };
            crate::db::query(
                "INSERT INTO stock (offer_id, warehouse_id, available, reserved, reported, price, min_qty, period_min, period_max, updated_at)
                 VALUES ($1, $2, $3, 0, $4, $5, $6, $7, $8, $9)
                 ON CONFLICT (offer_id, warehouse_id) DO UPDATE SET available = excluded.available, reported = excluded.reported,
                 price = excluded.price, min_qty = excluded.min_qty, period_min = excluded.period_min,
                 period_max = excluded.period_max, updated_at = excluded.updated_at",
            )
            .bind(offer)
            .bind(warehouse)
            .bind(available)
            .bind(reported)
            .bind(price.or(old_price))
            .bind(r.min_qty.map(|m| m.max(1)).or(old_min))
            .bind(r.period_min.or(old_pmin))
            .bind(r.period_max.or(old_pmax))
            .bind(now)
            .execute(&mut *tx)
            .await?;
            out.push(RowOutcome::Written(remain_in(&mut tx, offer, warehouse).await?));
        }
        tx.commit().await?;
        Ok(out)
    }

    /// `remains.delete`: takes parts off sale at the distributor's warehouses (stock that orders hold
    /// stays, at zero, so those orders can still release it).
    pub async fn delete_office_remains(
        &self,
        distributor: &str,
        rows: &[RemainInput],
    ) -> StoreResult<Vec<RowOutcome<Remain>>> {
        let mut tx = self.begin().await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let Some((warehouse, _)) = own_warehouse_in(&mut tx, distributor, &r.warehouse).await? else {
                out.push(RowOutcome::NotFound);
                continue;
            };
            let offer = match product_id_in(&mut tx, &r.article, &r.brand).await? {
                Some(p) => offer_id_in(&mut tx, p).await?,
                None => None,
            };
            let Some(offer) = offer else {
                out.push(RowOutcome::NotFound);
                continue;
            };
            let row = match remain_in(&mut tx, offer, warehouse).await {
                Ok(row) => row,
                Err(crate::StoreError::Database(crate::db::DbError::RowNotFound)) => {
                    out.push(RowOutcome::NotFound);
                    continue;
                }
                Err(e) => return Err(e),
            };
            take_off_sale_in(&mut tx, warehouse, Some(offer)).await?;
            out.push(RowOutcome::Written(row));
        }
        tx.commit().await?;
        Ok(out)
    }

    /// A page of inventories: offers with their stock per warehouse.
    pub async fn list_inventories(
        &self,
        offer_ids: &[i64],
        external_ids: &[String],
        articles: &[String],
        limit: u32,
        offset: u64,
    ) -> StoreResult<(Vec<Inventory>, u64)> {
        let mut wh = Sql::new(" WHERE 1 = 1");
        if !offer_ids.is_empty() {
            wh.push(" AND o.id IN ").bind_list(offer_ids.iter().copied().map(Arg::Int));
        }
        if !external_ids.is_empty() {
            wh.push(" AND o.external_id IN ").bind_list(external_ids.iter().cloned().map(Arg::Text));
        }
        if !articles.is_empty() {
            wh.push(" AND o.article IN ").bind_list(articles.iter().cloned().map(Arg::Text));
        }
        let (total,): (i64,) =
            wh.with_prefix("SELECT COUNT(*) FROM offers o").query_as().fetch_one(self.reader()).await?;
        let mut list = wh.with_prefix("SELECT o.id, o.external_id, o.xml_id FROM offers o");
        list.push(" ORDER BY o.id");
        crate::sql::page(&mut list, limit, offset);
        let offers: Vec<(i64, Option<String>, Option<String>)> = list.query_as().fetch_all(self.reader()).await?;
        let mut out: Vec<Inventory> = offers
            .into_iter()
            .map(|(offer_id, external_id, xml_id)| Inventory { offer_id, external_id, xml_id, stores: Vec::new() })
            .collect();
        if !out.is_empty() {
            let mut q = Sql::new(
                "SELECT s.offer_id, w.code, s.available, s.reserved, s.purchase_price FROM stock s JOIN warehouses w ON w.id = s.warehouse_id WHERE s.offer_id IN ",
            );
            q.bind_list(out.iter().map(|i| Arg::Int(i.offer_id))).push(" ORDER BY w.code");
            let rows: Vec<(i64, String, i64, i64, Option<i64>)> = q.query_as().fetch_all(self.reader()).await?;
            for (offer, code, available, reserved, purchase) in rows {
                if let Some(inv) = out.iter_mut().find(|i| i.offer_id == offer) {
                    inv.stores.push((code, available, reserved, purchase.map(from_units)));
                }
            }
        }
        Ok((out, u64::try_from(total).unwrap_or(0)))
    }

    /// Brings an order's stock reservations in line with its lines, inside the order's write: `wanted`
    /// is (offer, warehouse id, quantity) per line. Fails, leaving the write to roll back, when a
    /// warehouse that counts its stock exactly has too little free.
    pub(crate) async fn sync_reservations(
        &self,
        tx: &mut Tx,
        order_id: i64,
        wanted: &[(i64, i64, i64)],
        fresh: bool,
    ) -> StoreResult<()> {
        let mut merged: Vec<(i64, i64, i64)> = Vec::new();
        for &(o, w, q) in wanted {
            match merged.iter_mut().find(|(mo, mw, _)| *mo == o && *mw == w) {
                Some(m) => m.2 += q,
                None => merged.push((o, w, q)),
            }
        }
        // A new order holds nothing yet: nothing to read or release.
        if fresh && merged.is_empty() {
            return Ok(());
        }
        let current: Vec<(i64, i64, i64)> = if fresh {
            Vec::new()
        } else {
            crate::db::query_as("SELECT offer_id, warehouse_id, quantity FROM reservations WHERE order_id = $1")
                .bind(order_id)
                .fetch_all(&mut **tx)
                .await?
        };
        // Releases first, so a line moved between warehouses never needs both at once.
        for &(o, w, q) in &current {
            let want = merged.iter().find(|(mo, mw, _)| *mo == o && *mw == w).map_or(0, |m| m.2);
            if want < q {
                crate::db::query("UPDATE stock SET reserved = reserved - $1 WHERE offer_id = $2 AND warehouse_id = $3")
                    .bind(q - want)
                    .bind(o)
                    .bind(w)
                    .execute(&mut **tx)
                    .await?;
            }
        }
        let mut held = Vec::with_capacity(merged.len());
        for &(o, w, want) in &merged {
            let have = current.iter().find(|(co, cw, _)| *co == o && *cw == w).map_or(0, |c| c.2);
            if want > have {
                let extra = want - have;
                // One conditional statement: the check and the reservation cannot be split by another
                // buyer, on either engine. Stock reported as `<N`, `>N` or `Есть` is not counted exactly
                // and reserves without a check.
                let done = crate::db::query(
                    "UPDATE stock SET reserved = reserved + $1
                     WHERE offer_id = $2 AND warehouse_id = $3 AND (reported IS NOT NULL OR available - reserved >= $1)",
                )
                .bind(extra)
                .bind(o)
                .bind(w)
                .execute(&mut **tx)
                .await?
                .rows_affected();
                if done == 0 {
                    // Read only when the reservation failed, to tell why: no stock row at that
                    // warehouse is a back-order (nothing to hold), a row is too little stock.
                    let Some((available, reserved)) = stock_in(tx, o, w).await? else { continue };
                    let row = stock::StockRow { available, reserved, exact: true };
                    return Err(DomainError::Refused(Refusal::short(row, extra)).into());
                }
            } else if stock_in(tx, o, w).await?.is_none() {
                // A line whose offer has no stock row at that warehouse is a back-order: nothing to hold.
                continue;
            }
            held.push((o, w, want));
        }
        if !fresh {
            crate::db::query("DELETE FROM reservations WHERE order_id = $1").bind(order_id).execute(&mut **tx).await?;
        }
        for &(o, w, q) in held.iter().filter(|m| m.2 > 0) {
            crate::db::query(
                "INSERT INTO reservations (order_id, offer_id, warehouse_id, quantity) VALUES ($1, $2, $3, $4)",
            )
            .bind(order_id)
            .bind(o)
            .bind(w)
            .bind(q)
            .execute_later(tx)
            .await?;
        }
        Ok(())
    }
}

/// The available and reserved units of an offer at a warehouse, if it has a stock row there.
async fn stock_in(tx: &mut Tx, offer: i64, warehouse: i64) -> StoreResult<Option<(i64, i64)>> {
    Ok(crate::db::query_as("SELECT available, reserved FROM stock WHERE offer_id = $1 AND warehouse_id = $2")
        .bind(offer)
        .bind(warehouse)
        .fetch_optional(&mut **tx)
        .await?)
}

/// Takes the stock at `warehouse` (of one offer, or all) off sale: rows nothing reserves go, and
/// reserved ones keep their reservations with nothing more to sell.
pub(crate) async fn take_off_sale_in(tx: &mut Tx, warehouse: i64, offer: Option<i64>) -> StoreResult<()> {
    for statement in [
        "DELETE FROM stock WHERE reserved = 0 AND warehouse_id = ",
        "UPDATE stock SET available = 0, reported = NULL WHERE warehouse_id = ",
    ] {
        let mut q = Sql::new(statement);
        q.bind(Arg::Int(warehouse));
        if let Some(offer) = offer {
            q.push(" AND offer_id = ").bind(Arg::Int(offer));
        }
        q.query().execute(&mut **tx).await?;
    }
    Ok(())
}

async fn remain_in(tx: &mut Tx, offer: i64, warehouse: i64) -> StoreResult<Remain> {
    let sql = format!("{REMAIN_COLUMNS} WHERE s.offer_id = $1 AND s.warehouse_id = $2");
    let row = crate::db::query(sql).bind(offer).bind(warehouse).fetch_one(&mut **tx).await?;
    remain_from_row(&row)
}
