//! The catalogue: products by brand and part number, their offers, cross-references, stock per
//! warehouse, prices; part-number search; stock reservations for orders.

use crate::sql::{Arg, Sql};
use crate::{Store, StoreResult, Tx, flag};
use rust_decimal::Decimal;
use torg_domain::DomainError;
use torg_domain::catalogue::{Availability, Display, normalize_number};
use torg_domain::money::from_units;

/// One line of a catalogue load: a part at a warehouse with its stock and price.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogueRow {
    /// Part number as the supplier lists it.
    pub article: String,
    /// Brand.
    pub brand: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Warehouse code (created if new).
    pub warehouse: String,
    /// Stock as reported.
    pub quantity: Availability,
    /// Selling price at that warehouse.
    pub price: Decimal,
    /// Minimum order quantity and step.
    pub min_qty: i64,
    /// Delivery days, least.
    pub period_min: Option<i64>,
    /// Delivery days, most.
    pub period_max: Option<i64>,
}

/// A cross-reference between two part numbers of (possibly) different brands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cross {
    /// Part number.
    pub article: String,
    /// Its brand.
    pub brand: String,
    /// The analogue's part number.
    pub cross_article: String,
    /// The analogue's brand.
    pub cross_brand: String,
}

/// One offer at one warehouse, as search finds it.
#[derive(Debug, Clone, PartialEq)]
pub struct PartRow {
    /// Whether the row is an analogue of the number searched.
    pub is_cross: bool,
    /// Offer id.
    pub offer_id: i64,
    /// Warehouse id.
    pub warehouse_id: i64,
    /// Warehouse code.
    pub warehouse: String,
    /// Part number as listed.
    pub article: String,
    /// Brand.
    pub brand: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Price.
    pub price: Decimal,
    /// Availability as buyers see it.
    pub shown: Availability,
    /// Units free to sell when known exactly.
    pub free: Option<i64>,
    /// Minimum order quantity.
    pub min_qty: i64,
    /// Delivery days, least.
    pub period_min: i64,
    /// Delivery days, most.
    pub period_max: i64,
    /// Supply probability, percent.
    pub probability: Option<i64>,
}

/// Warehouse delivery terms and how it shows stock.
#[derive(Debug, Clone, PartialEq)]
pub struct WarehouseTerms {
    /// Delivery days, least.
    pub period_min: i64,
    /// Delivery days, most.
    pub period_max: i64,
    /// Supply probability, percent.
    pub probability: Option<i64>,
    /// How exact stock is shown.
    pub display: Display,
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

const SEARCH: &str = "
SELECT 0 AS is_cross, o.id AS offer_id, w.id AS warehouse_id, w.code AS warehouse, p.article, p.brand, p.name,
       p.description, COALESCE(s.price, o.price) AS price, s.available, s.reserved, s.reported,
       COALESCE(s.min_qty, o.min_qty) AS min_qty, COALESCE(s.period_min, w.period_min) AS period_min,
       COALESCE(s.period_max, w.period_max) AS period_max, w.probability, w.display
FROM products p
JOIN offers o ON o.product_id = p.id AND o.active = 1
JOIN stock s ON s.offer_id = o.id
JOIN warehouses w ON w.id = s.warehouse_id AND w.active = 1
WHERE p.article_norm = $1 AND p.active = 1
UNION ALL
SELECT 1 AS is_cross, o.id, w.id, w.code, p.article, p.brand, p.name,
       p.description, COALESCE(s.price, o.price), s.available, s.reserved, s.reported,
       COALESCE(s.min_qty, o.min_qty), COALESCE(s.period_min, w.period_min),
       COALESCE(s.period_max, w.period_max), w.probability, w.display
FROM crosses c
JOIN products p ON p.article_norm = c.cross_norm AND p.brand_norm = c.cross_brand_norm AND p.active = 1
JOIN offers o ON o.product_id = p.id AND o.active = 1
JOIN stock s ON s.offer_id = o.id
JOIN warehouses w ON w.id = s.warehouse_id AND w.active = 1
WHERE c.article_norm = $1 AND c.cross_norm <> $1";

/// Reads a search row; a sold-out row is `None` unless `keep_sold_out` (an order check wants to say
/// how many are left rather than that the offer is gone).
fn part_row(r: &crate::db::Row, keep_sold_out: bool) -> StoreResult<Option<PartRow>> {
    let available: i64 = r.try_get("available")?;
    let reserved: i64 = r.try_get("reserved")?;
    let reported: Option<String> = r.try_get("reported")?;
    let display = Display::parse(&r.try_get::<String, _>("display")?).unwrap_or_default();
    let (shown, free) = match reported.as_deref().and_then(Availability::parse) {
        Some(a) if !matches!(a, Availability::Exact(_)) => (a, None),
        _ => {
            let free = (available - reserved).max(0);
            if free == 0 && !keep_sold_out {
                return Ok(None);
            }
            (display.show(free), Some(free))
        }
    };
    Ok(Some(PartRow {
        is_cross: flag(r.try_get("is_cross")?),
        offer_id: r.try_get("offer_id")?,
        warehouse_id: r.try_get("warehouse_id")?,
        warehouse: r.try_get("warehouse")?,
        article: r.try_get::<Option<String>, _>("article")?.unwrap_or_default(),
        brand: r.try_get::<Option<String>, _>("brand")?.unwrap_or_default(),
        name: r.try_get("name")?,
        description: r.try_get::<Option<String>, _>("description")?.unwrap_or_default(),
        price: from_units(r.try_get("price")?),
        shown,
        free,
        min_qty: r.try_get::<i64, _>("min_qty")?.max(1),
        period_min: r.try_get("period_min")?,
        period_max: r.try_get("period_max")?,
        probability: r.try_get("probability")?,
    }))
}

impl Store {
    /// How many stock rows have more reserved than is on hand where the quantity is exact: never, by
    /// the reservation rule; the benchmarks and tests check it after a race.
    pub async fn oversold_stock(&self) -> StoreResult<i64> {
        Ok(crate::db::query_scalar("SELECT COUNT(*) FROM stock WHERE reported IS NULL AND reserved > available")
            .fetch_one(self.reader())
            .await?)
    }

    /// Every offer at every warehouse with stock for a part number and its analogues: the number's own
    /// rows first, then analogues, each group cheapest first.
    pub async fn search_parts(&self, query: &str) -> StoreResult<Vec<PartRow>> {
        let norm = normalize_number(query);
        if norm.is_empty() {
            return Ok(Vec::new());
        }
        let rows = crate::db::query(SEARCH).bind(&norm).fetch_all(self.reader()).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            if let Some(row) = part_row(r, false)? {
                out.push(row);
            }
        }
        out.sort_by(|a, b| a.is_cross.cmp(&b.is_cross).then(a.price.cmp(&b.price)).then(a.offer_id.cmp(&b.offer_id)));
        Ok(out)
    }

    /// One offer at one warehouse, read inside a write (to check an order against the current state).
    pub(crate) async fn part_row_in(
        &self,
        tx: &mut Tx,
        offer_id: i64,
        warehouse_id: i64,
    ) -> StoreResult<Option<PartRow>> {
        let sql = SEARCH
            .split("UNION ALL")
            .next()
            .unwrap_or(SEARCH)
            .replace("WHERE p.article_norm = $1 AND p.active = 1", "WHERE o.id = $1 AND w.id = $2");
        let row = crate::db::query(sql).bind(offer_id).bind(warehouse_id).fetch_optional(&mut **tx).await?;
        match row {
            Some(r) => part_row(&r, true),
            None => Ok(None),
        }
    }

    /// Loads catalogue rows in one transaction: products by brand and number (updated in place), one
    /// offer per product, warehouses created when new, stock and price per warehouse. It is one batch
    /// of the bulk import, so small loads and `torg import` write exactly the same rows.
    pub async fn load_catalogue(&self, rows: &[CatalogueRow]) -> StoreResult<()> {
        self.catalogue_import().load(rows).await
    }

    /// Creates or updates a product by brand and number; returns its id.
    pub(crate) async fn upsert_product_in(
        &self,
        tx: &mut Tx,
        article: &str,
        brand: &str,
        name: &str,
        description: Option<&str>,
        now: i64,
    ) -> StoreResult<i64> {
        let brand_norm = crate::brands::canonical_brand_in(tx, brand).await?;
        let id: i64 = crate::db::query_scalar(
            "INSERT INTO products (article, brand, name, description, article_norm, brand_norm, active, created_at,
             name_lower, name_lower_of)
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8, $3)
             ON CONFLICT (brand_norm, article_norm) DO UPDATE SET article = excluded.article, brand = excluded.brand,
             name = excluded.name, description = COALESCE(excluded.description, products.description),
             name_lower = excluded.name_lower, name_lower_of = excluded.name_lower_of
             RETURNING id",
        )
        .bind(article.trim())
        .bind(crate::brands::shown_brand(brand, &brand_norm))
        .bind(name.trim())
        .bind(description)
        .bind(normalize_number(article))
        .bind(&brand_norm)
        .bind(now)
        .bind(name.trim().to_lowercase())
        .fetch_one(&mut **tx)
        .await?;
        Ok(id)
    }

    /// Adds cross-references (both directions); returns how many pairs were new.
    pub async fn add_crosses(&self, crosses: &[Cross]) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        let aliases = crate::brands::brand_aliases_in(&mut tx).await?;
        let mut added = 0;
        for c in crosses {
            let a = (normalize_number(&c.article), aliases.canonical(&c.brand));
            let b = (normalize_number(&c.cross_article), aliases.canonical(&c.cross_brand));
            if a == b || a.0.is_empty() || b.0.is_empty() {
                continue;
            }
            for (x, y) in [(&a, &b), (&b, &a)] {
                added += crate::db::query(
                    "INSERT INTO crosses (article_norm, brand_norm, cross_norm, cross_brand_norm) VALUES ($1, $2, $3, $4)
                     ON CONFLICT DO NOTHING",
                )
                .bind(&x.0)
                .bind(&x.1)
                .bind(&y.0)
                .bind(&y.1)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
        }
        tx.commit().await?;
        Ok(added / 2)
    }

    /// Sets a warehouse's delivery terms and display; false when no such warehouse.
    pub async fn set_warehouse_terms(&self, code: &str, terms: &WarehouseTerms) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let done = crate::db::query(
            "UPDATE warehouses SET period_min = $1, period_max = $2, probability = $3, display = $4 WHERE code = $5",
        )
        .bind(terms.period_min)
        .bind(terms.period_max)
        .bind(terms.probability)
        .bind(terms.display.name())
        .bind(code)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(done > 0)
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
        list.push(" ORDER BY o.id LIMIT ")
            .bind(Arg::Int(i64::from(limit)))
            .push(" OFFSET ")
            .bind(Arg::Int(i64::try_from(offset).unwrap_or(i64::MAX)));
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
    ) -> StoreResult<()> {
        let mut merged: Vec<(i64, i64, i64)> = Vec::new();
        for &(o, w, q) in wanted {
            match merged.iter_mut().find(|(mo, mw, _)| *mo == o && *mw == w) {
                Some(m) => m.2 += q,
                None => merged.push((o, w, q)),
            }
        }
        let current: Vec<(i64, i64, i64)> =
            crate::db::query_as("SELECT offer_id, warehouse_id, quantity FROM reservations WHERE order_id = $1")
                .bind(order_id)
                .fetch_all(&mut **tx)
                .await?;
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
            let stock: Option<(i64, i64, Option<String>)> = crate::db::query_as(
                "SELECT available, reserved, reported FROM stock WHERE offer_id = $1 AND warehouse_id = $2",
            )
            .bind(o)
            .bind(w)
            .fetch_optional(&mut **tx)
            .await?;
            // A line whose offer has no stock row at that warehouse is a back-order: nothing to hold.
            if stock.is_none() {
                continue;
            }
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
                    let (available, reserved, _) = stock.unwrap_or_default();
                    let left = (available - reserved).max(0);
                    return Err(DomainError::invalid(
                        "quantity",
                        format!("Not enough stock: {left} left, {extra} more wanted."),
                    )
                    .into());
                }
            }
            held.push((o, w, want));
        }
        crate::db::query("DELETE FROM reservations WHERE order_id = $1").bind(order_id).execute(&mut **tx).await?;
        for &(o, w, q) in held.iter().filter(|m| m.2 > 0) {
            crate::db::query(
                "INSERT INTO reservations (order_id, offer_id, warehouse_id, quantity) VALUES ($1, $2, $3, $4)",
            )
            .bind(order_id)
            .bind(o)
            .bind(w)
            .bind(q)
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }
}
