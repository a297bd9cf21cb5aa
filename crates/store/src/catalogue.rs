//! The catalogue: products by brand and part number, their offers, cross-references, and the
//! part-number search over them. (The CRM store methods on products and offers are in `products.rs`;
//! stock and reservations in `stock.rs`.)

use crate::batch::RowOutcome;
use crate::sql::{Arg, Sql, any_of, norm_args, page, text_args};
use crate::{Store, StoreResult, Tx, flag};
use rust_decimal::Decimal;
use std::sync::LazyLock;
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

/// A catalogue product as the office face shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeProduct {
    /// Internal id.
    pub id: i64,
    /// Part number.
    pub article: String,
    /// Brand.
    pub brand: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
}

/// Which catalogue rows a list reads: empty lists do not filter. Articles and brands are compared in
/// their normalised forms, as search does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogueFilter {
    /// Product ids.
    pub ids: Vec<i64>,
    /// Part numbers.
    pub articles: Vec<String>,
    /// Brands.
    pub brands: Vec<String>,
    /// Warehouse codes (stock only).
    pub warehouses: Vec<String>,
    /// Product names, exactly.
    pub names: Vec<String>,
    /// Product descriptions, exactly (products only).
    pub descriptions: Vec<String>,
    /// The analogues' part numbers (crosses only).
    pub cross_articles: Vec<String>,
    /// The analogues' brands (crosses only).
    pub cross_brands: Vec<String>,
    /// Page size.
    pub limit: u32,
    /// Rows to skip.
    pub offset: u64,
}

/// A product: id, article, brand, name, description.
type ProductRow = (i64, Option<String>, Option<String>, String, Option<String>);

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

    /// One offer at one warehouse, read inside a write (to check an order against the current state),
    /// with the offer as an order's line takes it (so that the order does not read it again).
    pub(crate) async fn part_row_in(
        &self,
        tx: &mut Tx,
        offer_id: i64,
        warehouse_id: i64,
    ) -> StoreResult<Option<(PartRow, crate::orders::FoundOffer)>> {
        static SQL: LazyLock<String> = LazyLock::new(|| {
            // The search's own rows (before its analogues), for one offer at one warehouse, with the
            // offer's columns as `find_offers` reads them.
            SEARCH
                .split("UNION ALL")
                .next()
                .unwrap_or(SEARCH)
                .replace(
                    "FROM products p",
                    ", o.external_id AS offer_external_id, o.xml_id AS offer_xml_id, o.name AS offer_name,
       o.article AS offer_article, o.price AS offer_price, o.purchase_price AS offer_purchase_price
FROM products p",
                )
                .replace("WHERE p.article_norm = $1 AND p.active = 1", "WHERE o.id = $1 AND w.id = $2")
        });
        const OFFER: [&str; 7] = [
            "offer_id",
            "offer_external_id",
            "offer_xml_id",
            "offer_name",
            "offer_article",
            "offer_price",
            "offer_purchase_price",
        ];
        let row = crate::db::query(SQL.as_str())
            .plain_read()
            .bind(offer_id)
            .bind(warehouse_id)
            .fetch_optional(&mut **tx)
            .await?;
        let Some(r) = row else { return Ok(None) };
        let Some(part) = part_row(&r, true)? else { return Ok(None) };
        Ok(Some((part, crate::orders::found_offer(&r, &OFFER)?)))
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
                added += cross_in(&mut tx, ADD_CROSS, x, y).await?;
            }
        }
        tx.commit().await?;
        Ok(added / 2)
    }

    /// Catalogue products, by id.
    pub async fn office_products(&self, f: &CatalogueFilter) -> StoreResult<Vec<OfficeProduct>> {
        let aliases = self.brand_aliases().await?;
        let mut q = Sql::new("SELECT id, article, brand, name, description FROM products WHERE active = 1");
        any_of(&mut q, "id", f.ids.iter().copied().map(Arg::Int).collect());
        any_of(&mut q, "article_norm", norm_args(&f.articles, normalize_number));
        any_of(&mut q, "brand_norm", norm_args(&f.brands, |b| aliases.canonical(b)));
        any_of(&mut q, "name", text_args(&f.names));
        any_of(&mut q, "description", text_args(&f.descriptions));
        q.push(" ORDER BY id");
        page(&mut q, f.limit, f.offset);
        let rows: Vec<ProductRow> = q.query_as().fetch_all(self.reader()).await?;
        Ok(rows
            .into_iter()
            .map(|(id, article, brand, name, description)| OfficeProduct {
                id,
                article: article.unwrap_or_default(),
                brand: brand.unwrap_or_default(),
                name,
                description,
            })
            .collect())
    }

    /// `products.add` (new brand and part number only; an existing one is reported) and
    /// `products.update` (name and description of an existing one).
    pub async fn put_office_products(
        &self,
        rows: &[OfficeProduct],
        only_existing: bool,
    ) -> StoreResult<Vec<RowOutcome<OfficeProduct>>> {
        let mut tx = self.begin().await?;
        let now = torg_domain::time::now();
        let mut out = Vec::with_capacity(rows.len());
        for p in rows {
            let existing = product_id_in(&mut tx, &p.article, &p.brand).await?;
            let outcome = match (existing, only_existing) {
                (Some(id), false) => RowOutcome::Exists(product_in(&mut tx, id).await?),
                (None, true) => RowOutcome::NotFound,
                (None, false) => {
                    let id = self
                        .upsert_product_in(&mut tx, &p.article, &p.brand, &p.name, p.description.as_deref(), now)
                        .await?;
                    RowOutcome::Written(product_in(&mut tx, id).await?)
                }
                (Some(id), true) => {
                    let old = product_in(&mut tx, id).await?;
                    let name = if p.name.is_empty() { old.name } else { p.name.clone() };
                    crate::db::query(
                        "UPDATE products SET name = $1, description = $2, name_lower = $3, name_lower_of = $1
                         WHERE id = $4",
                    )
                    .bind(&name)
                    .bind(p.description.as_ref().or(old.description.as_ref()))
                    .bind(name.to_lowercase())
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    crate::db::query(
                        "UPDATE offers SET name = $1, name_lower = $2, name_lower_of = $1 WHERE product_id = $3",
                    )
                    .bind(&name)
                    .bind(name.to_lowercase())
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    RowOutcome::Written(product_in(&mut tx, id).await?)
                }
            };
            out.push(outcome);
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Cross-references, each pair once per direction, with part numbers as the catalogue lists them
    /// (their normalised forms where the catalogue has no such product).
    pub async fn office_crosses(&self, f: &CatalogueFilter) -> StoreResult<Vec<Cross>> {
        let aliases = self.brand_aliases().await?;
        let mut q = Sql::new(
            "SELECT COALESCE(a.article, c.article_norm), COALESCE(a.brand, c.brand_norm),
                    COALESCE(b.article, c.cross_norm), COALESCE(b.brand, c.cross_brand_norm)
             FROM crosses c
             LEFT JOIN products a ON a.article_norm = c.article_norm AND a.brand_norm = c.brand_norm
             LEFT JOIN products b ON b.article_norm = c.cross_norm AND b.brand_norm = c.cross_brand_norm
             WHERE 1 = 1",
        );
        any_of(&mut q, "c.article_norm", norm_args(&f.articles, normalize_number));
        any_of(&mut q, "c.brand_norm", norm_args(&f.brands, |b| aliases.canonical(b)));
        any_of(&mut q, "c.cross_norm", norm_args(&f.cross_articles, normalize_number));
        any_of(&mut q, "c.cross_brand_norm", norm_args(&f.cross_brands, |b| aliases.canonical(b)));
        q.push(" ORDER BY c.article_norm, c.brand_norm, c.cross_norm, c.cross_brand_norm");
        page(&mut q, f.limit, f.offset);
        let rows: Vec<(String, String, String, String)> = q.query_as().fetch_all(self.reader()).await?;
        Ok(rows
            .into_iter()
            .map(|(article, brand, cross_article, cross_brand)| Cross { article, brand, cross_article, cross_brand })
            .collect())
    }

    /// `crosses.add` (`remove` false) and `crosses.delete` (`remove` true), both directions at once:
    /// per row, whether it changed anything.
    pub async fn put_office_crosses(&self, rows: &[Cross], remove: bool) -> StoreResult<Vec<bool>> {
        let mut tx = self.begin().await?;
        let aliases = crate::brands::brand_aliases_in(&mut tx).await?;
        let mut out = Vec::with_capacity(rows.len());
        for c in rows {
            let a = (normalize_number(&c.article), aliases.canonical(&c.brand));
            let b = (normalize_number(&c.cross_article), aliases.canonical(&c.cross_brand));
            let mut changed = 0;
            for (x, y) in [(&a, &b), (&b, &a)] {
                changed += cross_in(&mut tx, if remove { REMOVE_CROSS } else { ADD_CROSS }, x, y).await?;
            }
            out.push(changed > 0);
        }
        tx.commit().await?;
        Ok(out)
    }
}

pub(crate) async fn product_id_in(tx: &mut Tx, article: &str, brand: &str) -> StoreResult<Option<i64>> {
    let brand_norm = crate::brands::canonical_brand_in(tx, brand).await?;
    let row: Option<(i64,)> =
        crate::db::query_as("SELECT id FROM products WHERE article_norm = $1 AND brand_norm = $2")
            .bind(normalize_number(article))
            .bind(brand_norm)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(row.map(|r| r.0))
}

async fn product_in(tx: &mut Tx, id: i64) -> StoreResult<OfficeProduct> {
    let (id, article, brand, name, description): ProductRow =
        crate::db::query_as("SELECT id, article, brand, name, description FROM products WHERE id = $1")
            .bind(id)
            .fetch_one(&mut **tx)
            .await?;
    Ok(OfficeProduct { id, article: article.unwrap_or_default(), brand: brand.unwrap_or_default(), name, description })
}

/// The product's first offer: the one the catalogue import and the parts face use.
pub(crate) async fn offer_id_in(tx: &mut Tx, product: i64) -> StoreResult<Option<i64>> {
    let row: Option<(i64,)> = crate::db::query_as("SELECT id FROM offers WHERE product_id = $1 ORDER BY id LIMIT 1")
        .bind(product)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.map(|r| r.0))
}

pub(crate) async fn new_offer_in(tx: &mut Tx, product: i64, price_units: i64, min_qty: i64) -> StoreResult<i64> {
    let (name, article): (String, Option<String>) =
        crate::db::query_as("SELECT name, article FROM products WHERE id = $1")
            .bind(product)
            .fetch_one(&mut **tx)
            .await?;
    Ok(crate::db::query_scalar(
        "INSERT INTO offers (product_id, name, article, price, active, min_qty, name_lower, name_lower_of)
         VALUES ($1, $2, $3, $4, 1, $5, $6, $2) RETURNING id",
    )
    .bind(product)
    .bind(&name)
    .bind(article)
    .bind(price_units)
    .bind(min_qty.max(1))
    .bind(name.to_lowercase())
    .fetch_one(&mut **tx)
    .await?)
}

/// Stores one direction of a cross-reference pair (a pair is stored both ways).
const ADD_CROSS: &str = "INSERT INTO crosses (article_norm, brand_norm, cross_norm, cross_brand_norm) \
    VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";
/// Removes one direction of a cross-reference pair.
const REMOVE_CROSS: &str =
    "DELETE FROM crosses WHERE article_norm = $1 AND brand_norm = $2 AND cross_norm = $3 AND cross_brand_norm = $4";

/// Runs [`ADD_CROSS`] or [`REMOVE_CROSS`] for part `x` and its analogue `y` (normalised number and
/// brand each); returns the rows changed.
async fn cross_in(tx: &mut Tx, sql: &'static str, x: &(String, String), y: &(String, String)) -> StoreResult<u64> {
    Ok(crate::db::query(sql).bind(&x.0).bind(&x.1).bind(&y.0).bind(&y.1).execute(&mut **tx).await?.rows_affected())
}
