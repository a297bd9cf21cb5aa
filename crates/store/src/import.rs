//! Bulk loading for `torg import` (and [`Store::load_catalogue`], which is one batch of it): the same
//! effect as [`Store::add_crosses`] for crosses, in a few multi-row statements per batch instead of several
//! statements per row.
//!
//! A batch is one transaction. Products are upserted with one multi-row `INSERT … ON CONFLICT … DO UPDATE
//! … RETURNING`, their first offers are read with one `SELECT … IN (…)`, new offers are inserted and
//! changed ones updated in multi-row statements, warehouses are cached across batches, and stock is
//! upserted in multi-row statements. Rows repeating a product (or an offer at a warehouse) within a batch
//! are merged first, the later row winning, since PostgreSQL refuses to update one row twice in one
//! statement. Statements stay far below the bind limits of both engines (SQLite 32,766, PostgreSQL 65,535).

use crate::catalogue::{CatalogueRow, Cross};
use crate::{Backend, Store, StoreResult, Tx};
use rust_decimal::Decimal;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use torg_domain::catalogue::{Availability, normalize_number};
use torg_domain::money::to_units;

/// Most values one statement binds (below both engines' limits, and small enough to prepare quickly).
const MAX_BINDS: usize = 9_000;

/// A placeholder for the `n`th value (from 1). On SQLite an anonymous `?`: sqlx looks up the name of every
/// parameter it binds, which SQLite finds by a linear scan of the named ones, so `$n` makes binding a
/// statement of n values cost n² (a 9,000-value statement took longer to bind than to run).
fn placeholder(backend: Backend, n: usize, out: &mut String) {
    match backend {
        Backend::Sqlite => out.push('?'),
        Backend::Postgres => {
            out.push('$');
            out.push_str(&n.to_string());
        }
    }
}

/// `(…), (…)` for `rows` rows of `cols` placeholders, each row ending in `tail` (constant values such
/// as `, 1`).
fn values(backend: Backend, rows: usize, cols: usize, tail: &str) -> String {
    let mut s = String::with_capacity(rows * (cols * 7 + tail.len() + 4));
    let mut n = 0;
    for r in 0..rows {
        if r > 0 {
            s.push_str(", ");
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push_str(", ");
            }
            n += 1;
            placeholder(backend, n, &mut s);
        }
        s.push_str(tail);
        s.push(')');
    }
    s
}

/// `n` placeholders separated by commas.
fn list(backend: Backend, n: usize) -> String {
    let mut s = String::with_capacity(n * 7);
    for i in 1..=n {
        if i > 1 {
            s.push_str(", ");
        }
        placeholder(backend, i, &mut s);
    }
    s
}

/// One product of a batch, merged over the rows naming it.
struct Product<'a> {
    article: &'a str,
    brand: &'a str,
    name: &'a str,
    description: Option<&'a str>,
    article_norm: String,
    brand_norm: String,
    /// Price of its first row, for a new offer.
    price: Decimal,
    min_qty: i64,
    id: i64,
    offer: i64,
}

/// The offer fields an import keeps current.
struct OfferNow {
    product: i64,
    name: String,
    article: Option<String>,
    min_qty: i64,
}

/// Loads catalogue rows in batches, keeping the warehouses it has seen.
#[derive(Debug)]
pub struct CatalogueImport {
    store: Store,
    warehouses: HashMap<String, i64>,
    created: Vec<String>,
}

impl Store {
    /// A bulk catalogue loader over this store.
    pub fn catalogue_import(&self) -> CatalogueImport {
        CatalogueImport { store: self.clone(), warehouses: HashMap::new(), created: Vec::new() }
    }

    /// Adds cross-references in both directions with multi-row inserts, in one transaction; returns how
    /// many directed references were new. Pairs of a number with itself or with an empty number are skipped.
    pub async fn import_crosses(&self, crosses: &[Cross]) -> StoreResult<u64> {
        let aliases = self.brand_aliases().await?;
        let mut pairs: Vec<[String; 4]> = Vec::with_capacity(crosses.len() * 2);
        for c in crosses {
            let (a, b) = (normalize_number(&c.article), aliases.canonical(&c.brand));
            let (x, y) = (normalize_number(&c.cross_article), aliases.canonical(&c.cross_brand));
            if (&a, &b) == (&x, &y) || a.is_empty() || x.is_empty() {
                continue;
            }
            pairs.push([x.clone(), y.clone(), a.clone(), b.clone()]);
            pairs.push([a, b, x, y]);
        }
        // In index order: each page of the key is visited once per batch rather than at random.
        pairs.sort_unstable();
        pairs.dedup();
        let mut tx = self.begin().await?;
        let mut added = 0;
        for chunk in pairs.chunks(MAX_BINDS / 4) {
            let sql = format!(
                "INSERT INTO crosses (article_norm, brand_norm, cross_norm, cross_brand_norm) VALUES {} ON CONFLICT DO NOTHING",
                values(self.backend(), chunk.len(), 4, "")
            );
            let mut q = crate::db::query(sql);
            for p in chunk {
                q = q.bind(&p[0]).bind(&p[1]).bind(&p[2]).bind(&p[3]);
            }
            added += q.execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        Ok(added)
    }
}

impl Store {
    /// Refreshes the planner's statistics of the catalogue tables after a bulk load. PostgreSQL plans
    /// from statistics, and until autovacuum catches up with a million new rows it takes the tables
    /// for nearly empty and plans a search as scans of whole warehouses (seconds instead of a
    /// millisecond). SQLite is left alone: without statistics it already plans every query by its
    /// indexes, and the CRM lists were tuned that way.
    pub async fn refresh_catalogue_statistics(&self) -> StoreResult<()> {
        if self.backend() == Backend::Postgres {
            crate::db::query("ANALYZE products, offers, stock, crosses, warehouses").execute(self.reader()).await?;
        }
        Ok(())
    }
}

impl CatalogueImport {
    /// Warehouse codes this import created, in order.
    pub fn created_warehouses(&self) -> &[String] {
        &self.created
    }

    /// Loads one batch in one transaction: products by brand and number (updated in place), one offer
    /// per product, warehouses created when new, stock and price per warehouse.
    pub async fn load(&mut self, rows: &[CatalogueRow]) -> StoreResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let now = torg_domain::time::now();
        let aliases = self.store.brand_aliases().await?;
        let mut products: Vec<Product<'_>> = Vec::new();
        let mut by_key: HashMap<(String, String), usize> = HashMap::new();
        let mut row_product = Vec::with_capacity(rows.len());
        for row in rows {
            let key = (aliases.canonical(&row.brand), normalize_number(&row.article));
            let i = match by_key.entry(key) {
                Entry::Occupied(e) => {
                    let p = &mut products[*e.get()];
                    p.article = row.article.trim();
                    p.brand = row.brand.trim();
                    p.name = row.name.trim();
                    p.description = row.description.as_deref().or(p.description);
                    p.min_qty = row.min_qty.max(1);
                    *e.get()
                }
                Entry::Vacant(e) => {
                    let (brand_norm, article_norm) = e.key().clone();
                    products.push(Product {
                        article: row.article.trim(),
                        brand: row.brand.trim(),
                        name: row.name.trim(),
                        description: row.description.as_deref(),
                        article_norm,
                        brand_norm,
                        price: row.price,
                        min_qty: row.min_qty.max(1),
                        id: 0,
                        offer: 0,
                    });
                    *e.insert(products.len() - 1)
                }
            };
            row_product.push(i);
        }
        // Products in key order, so the upsert walks the unique index in order rather than at random.
        let mut order: Vec<usize> = (0..products.len()).collect();
        order.sort_unstable_by(|&a, &b| {
            let (a, b) = (&products[a], &products[b]);
            (&a.brand_norm, &a.article_norm).cmp(&(&b.brand_norm, &b.article_norm))
        });
        let mut rank = vec![0; products.len()];
        for (new, &old) in order.iter().enumerate() {
            rank[old] = new;
        }
        let mut slots: Vec<Option<Product<'_>>> = products.into_iter().map(Some).collect();
        let mut products: Vec<Product<'_>> = order.iter().filter_map(|&old| slots[old].take()).collect();
        for i in row_product.iter_mut() {
            *i = rank[*i];
        }
        for i in by_key.values_mut() {
            *i = rank[*i];
        }

        let mut tx = self.store.begin().await?;
        upsert_products(&mut tx, self.store.backend(), &mut products, &by_key, now).await?;
        resolve_offers(&mut tx, self.store.backend(), &mut products).await?;
        self.resolve_warehouses(&mut tx, rows, now).await?;

        // Stock per offer and warehouse, the later row winning.
        let mut stock: Vec<(i64, i64, &CatalogueRow)> = Vec::with_capacity(rows.len());
        let mut seen: HashMap<(i64, i64), usize> = HashMap::with_capacity(rows.len());
        for (row, &p) in rows.iter().zip(&row_product) {
            let key = (products[p].offer, self.warehouses[&row.warehouse]);
            match seen.entry(key) {
                Entry::Occupied(e) => stock[*e.get()].2 = row,
                Entry::Vacant(e) => {
                    e.insert(stock.len());
                    stock.push((key.0, key.1, row));
                }
            }
        }
        stock.sort_unstable_by_key(|s| (s.0, s.1));
        for chunk in stock.chunks(MAX_BINDS / 9) {
            let sql = format!(
                "INSERT INTO stock (offer_id, warehouse_id, available, reported, price, min_qty, period_min, period_max, updated_at, reserved)
                 VALUES {}
                 ON CONFLICT (offer_id, warehouse_id) DO UPDATE SET available = excluded.available, reported = excluded.reported,
                 price = excluded.price, min_qty = excluded.min_qty, period_min = excluded.period_min,
                 period_max = excluded.period_max, updated_at = excluded.updated_at",
                values(self.store.backend(), chunk.len(), 9, ", 0")
            );
            let mut q = crate::db::query(sql);
            for &(offer, warehouse, row) in chunk {
                let (available, reported) = match row.quantity {
                    Availability::Exact(n) => (n, None),
                    other => (0, Some(other.display())),
                };
                q = q
                    .bind(offer)
                    .bind(warehouse)
                    .bind(available)
                    .bind(reported)
                    .bind(to_units(row.price))
                    .bind(row.min_qty.max(1))
                    .bind(row.period_min)
                    .bind(row.period_max)
                    .bind(now);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Makes sure every warehouse the rows name is known (created when new) and cached.
    async fn resolve_warehouses(&mut self, tx: &mut Tx, rows: &[CatalogueRow], now: i64) -> StoreResult<()> {
        let mut missing: Vec<&str> = Vec::new();
        let mut seen = HashSet::new();
        for row in rows {
            if !self.warehouses.contains_key(&row.warehouse) && seen.insert(row.warehouse.as_str()) {
                missing.push(&row.warehouse);
            }
        }
        for chunk in missing.chunks(MAX_BINDS) {
            let sql =
                format!("SELECT id, code FROM warehouses WHERE code IN ({})", list(self.store.backend(), chunk.len()));
            let mut q = crate::db::query(sql);
            for code in chunk {
                q = q.bind(*code);
            }
            for r in q.fetch_all(&mut **tx).await? {
                self.warehouses.insert(r.try_get("code")?, r.try_get("id")?);
            }
        }
        for code in missing {
            if self.warehouses.contains_key(code) {
                continue;
            }
            let id: i64 = crate::db::query_scalar(
                "INSERT INTO warehouses (code, name, active, attrs, created_at) VALUES ($1, $2, 1, '{}', $3) RETURNING id",
            )
            .bind(code)
            .bind(code)
            .bind(now)
            .fetch_one(&mut **tx)
            .await?;
            self.warehouses.insert(code.to_string(), id);
            self.created.push(code.to_string());
        }
        Ok(())
    }
}

/// Upserts the batch's products and notes their ids.
async fn upsert_products(
    tx: &mut Tx,
    backend: Backend,
    products: &mut [Product<'_>],
    by_key: &HashMap<(String, String), usize>,
    now: i64,
) -> StoreResult<()> {
    let mut ids: Vec<(usize, i64)> = Vec::with_capacity(products.len());
    for chunk in products.chunks(MAX_BINDS / 9) {
        let sql = format!(
            "INSERT INTO products (article, brand, name, description, article_norm, brand_norm, created_at, name_lower,
             name_lower_of, active)
             VALUES {}
             ON CONFLICT (brand_norm, article_norm) DO UPDATE SET article = excluded.article, brand = excluded.brand,
             name = excluded.name, description = COALESCE(excluded.description, products.description),
             name_lower = excluded.name_lower, name_lower_of = excluded.name_lower_of
             RETURNING id, brand_norm, article_norm",
            values(backend, chunk.len(), 9, ", 1")
        );
        let mut q = crate::db::query(sql);
        for p in chunk {
            q = q
                .bind(p.article)
                .bind(crate::brands::shown_brand(p.brand, &p.brand_norm))
                .bind(p.name)
                .bind(p.description)
                .bind(&p.article_norm)
                .bind(&p.brand_norm)
                .bind(now)
                .bind(p.name.to_lowercase())
                .bind(p.name);
        }
        for r in q.fetch_all(&mut **tx).await? {
            let key: (String, String) = (r.try_get("brand_norm")?, r.try_get("article_norm")?);
            if let Some(&i) = by_key.get(&key) {
                ids.push((i, r.try_get("id")?));
            }
        }
    }
    for (i, id) in ids {
        products[i].id = id;
    }
    Ok(())
}

/// Finds each product's first offer (one `SELECT … IN (…)` per chunk), updates the offers whose name,
/// number or step changed, and creates the missing ones.
async fn resolve_offers(tx: &mut Tx, backend: Backend, products: &mut [Product<'_>]) -> StoreResult<()> {
    let mut first: HashMap<i64, (i64, OfferNow)> = HashMap::with_capacity(products.len());
    for chunk in products.chunks(MAX_BINDS) {
        let sql = format!(
            "SELECT id, product_id, name, article, min_qty FROM offers WHERE product_id IN ({}) ORDER BY id",
            list(backend, chunk.len())
        );
        let mut q = crate::db::query(sql);
        for p in chunk {
            q = q.bind(p.id);
        }
        for r in q.fetch_all(&mut **tx).await? {
            let offer = OfferNow {
                product: r.try_get("product_id")?,
                name: r.try_get("name")?,
                article: r.try_get("article")?,
                min_qty: r.try_get("min_qty")?,
            };
            first.entry(offer.product).or_insert((r.try_get("id")?, offer));
        }
    }
    let mut changed: Vec<(i64, usize)> = Vec::new();
    let mut new: Vec<usize> = Vec::new();
    for (i, p) in products.iter_mut().enumerate() {
        match first.get(&p.id) {
            Some((id, now)) => {
                p.offer = *id;
                if now.name != p.name || now.article.as_deref() != Some(p.article) || now.min_qty != p.min_qty {
                    changed.push((*id, i));
                }
            }
            None => new.push(i),
        }
    }
    for chunk in changed.chunks(MAX_BINDS / 5) {
        // `(VALUES …)` names its columns column1, column2, … on both engines.
        let sql = format!(
            "UPDATE offers SET name = v.column2, article = v.column3, min_qty = v.column4, name_lower = v.column5,
             name_lower_of = v.column2
             FROM (VALUES {}) AS v WHERE offers.id = v.column1",
            values(backend, chunk.len(), 5, "")
        );
        let mut q = crate::db::query(sql);
        for &(id, i) in chunk {
            let p = &products[i];
            q = q.bind(id).bind(p.name).bind(p.article).bind(p.min_qty).bind(p.name.to_lowercase());
        }
        q.execute(&mut **tx).await?;
    }
    let mut created: Vec<(i64, i64)> = Vec::with_capacity(new.len());
    for chunk in new.chunks(MAX_BINDS / 7) {
        let sql = format!(
            "INSERT INTO offers (product_id, name, article, price, min_qty, name_lower, name_lower_of, active)
             VALUES {} RETURNING id, product_id",
            values(backend, chunk.len(), 7, ", 1")
        );
        let mut q = crate::db::query(sql);
        for &i in chunk {
            let p = &products[i];
            q = q
                .bind(p.id)
                .bind(p.name)
                .bind(p.article)
                .bind(to_units(p.price))
                .bind(p.min_qty)
                .bind(p.name.to_lowercase())
                .bind(p.name);
        }
        for r in q.fetch_all(&mut **tx).await? {
            created.push((r.try_get("product_id")?, r.try_get("id")?));
        }
    }
    if !created.is_empty() {
        let offers: HashMap<i64, i64> = created.into_iter().collect();
        for &i in &new {
            let p = &mut products[i];
            if let Some(&offer) = offers.get(&p.id) {
                p.offer = offer;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_number_across_rows() {
        use crate::Backend::{Postgres, Sqlite};
        assert_eq!(super::values(Postgres, 2, 3, ", 1"), "($1, $2, $3, 1), ($4, $5, $6, 1)");
        assert_eq!(super::values(Sqlite, 2, 2, ""), "(?, ?), (?, ?)");
        assert_eq!(super::list(Postgres, 3), "$1, $2, $3");
    }
}
