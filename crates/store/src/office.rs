//! What the distributor office face (seed 004) reads and writes: a distributor's warehouses, the stock
//! at them, the shared catalogue (products, cross-references), the orders shipped from its warehouses,
//! and the public order-status lookup.
//!
//! Stock goes into the same `stock` rows `torg import catalogue` and the CRM store methods write, with
//! the same products and offers, so the parts face sells it and CRM inventories report it as soon as
//! the write commits. A distributor only ever reaches warehouses whose `distributor` is its code; every
//! batch is one transaction, and per-row outcomes say what happened to each row.

use crate::sql::{Arg, Sql};
use crate::{Store, StoreResult, Tx, flag, json_map};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use torg_domain::DomainError;
use torg_domain::catalogue::{Availability, normalize_number};
use torg_domain::history::Actor;
use torg_domain::money::{from_units, to_units};
use torg_domain::order::Order;
use torg_domain::reference::ReferenceKind;
use torg_domain::time::Zone;

use crate::OrderLookup;

/// What became of one row of a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum RowOutcome<T> {
    /// Written; the row as stored now.
    Written(T),
    /// `add` of something that is already there; the row as stored (unchanged).
    Exists(T),
    /// `add` of a code another distributor holds.
    Taken,
    /// Nothing of this caller's matches the row.
    NotFound,
}

/// A distributor's warehouse.
#[derive(Debug, Clone, PartialEq)]
pub struct OfficeWarehouse {
    /// Internal id.
    pub id: i64,
    /// Code (also the CRM store code and the parts face's `source`).
    pub code: String,
    /// Name.
    pub name: String,
    /// Contacts, free text.
    pub contacts: Option<String>,
    /// Address, free text.
    pub address: Option<String>,
    /// Delivery days, least.
    pub period_min: i64,
    /// Delivery days, most.
    pub period_max: i64,
}

/// A warehouse write: `None` keeps what is stored (or the default, on creation).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WarehouseInput {
    /// Code.
    pub code: String,
    /// Name (the code when never given).
    pub name: Option<String>,
    /// Contacts.
    pub contacts: Option<String>,
    /// Address.
    pub address: Option<String>,
    /// Delivery days, least.
    pub period_min: Option<i64>,
    /// Delivery days, most.
    pub period_max: Option<i64>,
}

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

/// An order as the public status page shows it: no personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackView {
    /// Internal id («ID заказа»).
    pub id: i64,
    /// Order number.
    pub number: String,
    /// Invoice number («№ счета»), once the order has one.
    pub invoice_number: Option<String>,
    /// Status code.
    pub status_code: String,
    /// Status name («Статус»).
    pub status: String,
    /// Warehouses it ships from, by name («Склад»).
    pub warehouses: Vec<String>,
    /// Tracking numbers («Трек-номера»).
    pub track_numbers: Vec<String>,
}

/// A stock row's own values: available, reported, price, min quantity, delivery days.
type StockRow = (i64, Option<String>, Option<i64>, Option<i64>, Option<i64>, Option<i64>);

/// A product: id, article, brand, name, description.
type ProductRow = (i64, Option<String>, Option<String>, String, Option<String>);

const WAREHOUSE_COLUMNS: &str = "SELECT id, code, name, attrs, period_min, period_max FROM warehouses";

fn warehouse_from_row(r: &crate::db::Row) -> StoreResult<OfficeWarehouse> {
    let attrs = json_map(&r.try_get::<String, _>("attrs")?);
    let address = match attrs.get("address") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Object(a)) => a.get("text").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    };
    Ok(OfficeWarehouse {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        contacts: attrs.get("contacts").and_then(Value::as_str).map(str::to_owned),
        address,
        period_min: r.try_get("period_min")?,
        period_max: r.try_get("period_max")?,
    })
}

/// The warehouse's attributes with the office fields laid over: the address in RetailCRM's shape
/// (`address.text`), so the CRM face's stores show it too.
fn warehouse_attrs(mut attrs: Map<String, Value>, w: &WarehouseInput) -> String {
    if let Some(a) = &w.address {
        let mut address = attrs.get("address").and_then(Value::as_object).cloned().unwrap_or_default();
        address.insert("text".into(), json!(a));
        attrs.insert("address".into(), Value::Object(address));
    }
    if let Some(c) = &w.contacts {
        attrs.insert("contacts".into(), json!(c));
    }
    Value::Object(attrs).to_string()
}

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

fn norm_list(values: &[String], f: impl Fn(&str) -> String) -> Vec<Arg> {
    values.iter().map(|v| Arg::Text(f(v))).collect()
}

fn texts(values: &[String]) -> Vec<Arg> {
    values.iter().cloned().map(Arg::Text).collect()
}

/// ` AND column IN (values)`, unless `values` is empty: an empty filter list does not filter.
fn any_of(q: &mut Sql, column: &str, values: Vec<Arg>) {
    if !values.is_empty() {
        q.push(" AND ").push(column).push(" IN ").bind_list(values);
    }
}

fn page(q: &mut Sql, limit: u32, offset: u64) {
    q.push(" LIMIT ")
        .bind(Arg::Int(i64::from(limit.max(1))))
        .push(" OFFSET ")
        .bind(Arg::Int(i64::try_from(offset).unwrap_or(i64::MAX)));
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
    /// Records a distributor (when new); the first office key for a code does this.
    pub async fn ensure_distributor(&self, code: &str) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        ensure_distributor_in(&mut tx, code).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Gives warehouse `code` to `distributor` (or to nobody); false when there is no such warehouse.
    pub async fn set_warehouse_distributor(&self, code: &str, distributor: Option<&str>) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        if let Some(d) = distributor {
            ensure_distributor_in(&mut tx, d).await?;
        }
        let done = crate::db::query("UPDATE warehouses SET distributor = $1 WHERE code = $2")
            .bind(distributor)
            .bind(code)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(done > 0)
    }

    /// A distributor's active warehouses, by id.
    pub async fn distributor_warehouses(&self, distributor: &str) -> StoreResult<Vec<OfficeWarehouse>> {
        let rows = crate::db::query(format!("{WAREHOUSE_COLUMNS} WHERE distributor = $1 AND active = 1 ORDER BY id"))
            .bind(distributor)
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(warehouse_from_row).collect()
    }

    /// `warehouses.add`: creates each new code for the distributor (a code it deleted comes back);
    /// a code it already has is reported as existing, one another distributor holds as taken.
    pub async fn add_office_warehouses(
        &self,
        distributor: &str,
        rows: &[WarehouseInput],
    ) -> StoreResult<Vec<RowOutcome<OfficeWarehouse>>> {
        let mut tx = self.begin().await?;
        ensure_distributor_in(&mut tx, distributor).await?;
        let now = torg_domain::time::now();
        let mut out = Vec::with_capacity(rows.len());
        for w in rows {
            let existing: Option<(i64, Option<String>, i64, String)> =
                crate::db::query_as("SELECT id, distributor, active, attrs FROM warehouses WHERE code = $1")
                    .bind(&w.code)
                    .fetch_optional(&mut *tx)
                    .await?;
            let outcome = match existing {
                None => {
                    let id: i64 = crate::db::query_scalar(
                        "INSERT INTO warehouses (code, name, active, distributor, attrs, created_at, period_min, period_max)
                         VALUES ($1, $2, 1, $3, $4, $5, $6, $7) RETURNING id",
                    )
                    .bind(&w.code)
                    .bind(w.name.as_deref().unwrap_or(&w.code))
                    .bind(distributor)
                    .bind(warehouse_attrs(Map::new(), w))
                    .bind(now)
                    .bind(w.period_min.unwrap_or(0))
                    .bind(w.period_max.unwrap_or(0))
                    .fetch_one(&mut *tx)
                    .await?;
                    RowOutcome::Written(warehouse_in(&mut tx, id).await?)
                }
                Some((id, Some(owner), active, _)) if owner == distributor && flag(active) => {
                    RowOutcome::Exists(warehouse_in(&mut tx, id).await?)
                }
                Some((id, Some(owner), _, attrs)) if owner == distributor => {
                    crate::db::query("UPDATE warehouses SET active = 1 WHERE id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    update_warehouse_in(&mut tx, id, &attrs, w).await?;
                    RowOutcome::Written(warehouse_in(&mut tx, id).await?)
                }
                Some(_) => RowOutcome::Taken,
            };
            out.push(outcome);
        }
        tx.commit().await?;
        Ok(out)
    }

    /// `warehouses.update`: changes the given fields of the distributor's warehouses.
    pub async fn update_office_warehouses(
        &self,
        distributor: &str,
        rows: &[WarehouseInput],
    ) -> StoreResult<Vec<RowOutcome<OfficeWarehouse>>> {
        let mut tx = self.begin().await?;
        let mut out = Vec::with_capacity(rows.len());
        for w in rows {
            let Some((id, attrs)) = own_warehouse_in(&mut tx, distributor, &w.code).await? else {
                out.push(RowOutcome::NotFound);
                continue;
            };
            update_warehouse_in(&mut tx, id, &attrs, w).await?;
            out.push(RowOutcome::Written(warehouse_in(&mut tx, id).await?));
        }
        tx.commit().await?;
        Ok(out)
    }

    /// `warehouses.delete`: deactivates the distributor's warehouses and takes their stock off sale
    /// (stock that orders hold stays, at zero, so those orders can still release it). The row itself
    /// stays because orders and history name its code.
    pub async fn delete_office_warehouses(
        &self,
        distributor: &str,
        codes: &[String],
    ) -> StoreResult<Vec<RowOutcome<OfficeWarehouse>>> {
        let mut tx = self.begin().await?;
        let mut out = Vec::with_capacity(codes.len());
        for code in codes {
            let Some((id, _)) = own_warehouse_in(&mut tx, distributor, code).await? else {
                out.push(RowOutcome::NotFound);
                continue;
            };
            let row = warehouse_in(&mut tx, id).await?;
            crate::db::query("UPDATE warehouses SET active = 0 WHERE id = $1").bind(id).execute(&mut *tx).await?;
            take_off_sale_in(&mut tx, id, None).await?;
            out.push(RowOutcome::Written(row));
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Stock at a distributor's active warehouses, by warehouse, brand and part number.
    pub async fn distributor_remains(&self, distributor: &str, f: &CatalogueFilter) -> StoreResult<Vec<Remain>> {
        let aliases = self.brand_aliases().await?;
        let mut q = Sql::new(REMAIN_COLUMNS);
        q.push(" WHERE w.distributor = ").bind(Arg::Text(distributor.into())).push(" AND w.active = 1");
        any_of(&mut q, "p.article_norm", norm_list(&f.articles, normalize_number));
        any_of(&mut q, "p.brand_norm", norm_list(&f.brands, |b| aliases.canonical(b)));
        any_of(&mut q, "w.code", texts(&f.warehouses));
        any_of(&mut q, "p.name", texts(&f.names));
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

    /// Catalogue products, by id.
    pub async fn office_products(&self, f: &CatalogueFilter) -> StoreResult<Vec<OfficeProduct>> {
        let aliases = self.brand_aliases().await?;
        let mut q = Sql::new("SELECT id, article, brand, name, description FROM products WHERE active = 1");
        any_of(&mut q, "id", f.ids.iter().copied().map(Arg::Int).collect());
        any_of(&mut q, "article_norm", norm_list(&f.articles, normalize_number));
        any_of(&mut q, "brand_norm", norm_list(&f.brands, |b| aliases.canonical(b)));
        any_of(&mut q, "name", texts(&f.names));
        any_of(&mut q, "description", texts(&f.descriptions));
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
    pub async fn office_crosses(&self, f: &CatalogueFilter) -> StoreResult<Vec<crate::Cross>> {
        let aliases = self.brand_aliases().await?;
        let mut q = Sql::new(
            "SELECT COALESCE(a.article, c.article_norm), COALESCE(a.brand, c.brand_norm),
                    COALESCE(b.article, c.cross_norm), COALESCE(b.brand, c.cross_brand_norm)
             FROM crosses c
             LEFT JOIN products a ON a.article_norm = c.article_norm AND a.brand_norm = c.brand_norm
             LEFT JOIN products b ON b.article_norm = c.cross_norm AND b.brand_norm = c.cross_brand_norm
             WHERE 1 = 1",
        );
        any_of(&mut q, "c.article_norm", norm_list(&f.articles, normalize_number));
        any_of(&mut q, "c.brand_norm", norm_list(&f.brands, |b| aliases.canonical(b)));
        any_of(&mut q, "c.cross_norm", norm_list(&f.cross_articles, normalize_number));
        any_of(&mut q, "c.cross_brand_norm", norm_list(&f.cross_brands, |b| aliases.canonical(b)));
        q.push(" ORDER BY c.article_norm, c.brand_norm, c.cross_norm, c.cross_brand_norm");
        page(&mut q, f.limit, f.offset);
        let rows: Vec<(String, String, String, String)> = q.query_as().fetch_all(self.reader()).await?;
        Ok(rows
            .into_iter()
            .map(|(article, brand, cross_article, cross_brand)| crate::Cross {
                article,
                brand,
                cross_article,
                cross_brand,
            })
            .collect())
    }

    /// `crosses.add` (`remove` false) and `crosses.delete` (`remove` true), both directions at once:
    /// per row, whether it changed anything.
    pub async fn put_office_crosses(&self, rows: &[crate::Cross], remove: bool) -> StoreResult<Vec<bool>> {
        let mut tx = self.begin().await?;
        let aliases = crate::brands::brand_aliases_in(&mut tx).await?;
        let mut out = Vec::with_capacity(rows.len());
        for c in rows {
            let a = (normalize_number(&c.article), aliases.canonical(&c.brand));
            let b = (normalize_number(&c.cross_article), aliases.canonical(&c.cross_brand));
            let mut changed = 0;
            for (x, y) in [(&a, &b), (&b, &a)] {
                let sql = if remove {
                    "DELETE FROM crosses WHERE article_norm = $1 AND brand_norm = $2 AND cross_norm = $3 AND cross_brand_norm = $4"
                } else {
                    "INSERT INTO crosses (article_norm, brand_norm, cross_norm, cross_brand_norm) VALUES ($1, $2, $3, $4)
                     ON CONFLICT DO NOTHING"
                };
                changed += crate::db::query(sql)
                    .bind(&x.0)
                    .bind(&x.1)
                    .bind(&y.0)
                    .bind(&y.1)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            out.push(changed > 0);
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Orders shipped from a distributor's warehouses, newest first, narrowed by `f`.
    pub async fn distributor_orders(&self, distributor: &str, f: &OfficeOrderFilter) -> StoreResult<Vec<Order>> {
        let mut q = Sql::new("SELECT o.id FROM orders o WHERE ");
        shipped_from(&mut q, distributor);
        any_of(&mut q, "o.id", f.ids.iter().copied().map(Arg::Int).collect());
        any_of(&mut q, "o.number", texts(&f.numbers));
        any_of(&mut q, "o.status", texts(&f.statuses));
        if !f.warehouses.is_empty() {
            q.push(" AND (o.shipment_store IN ")
                .bind_list(texts(&f.warehouses))
                .push(" OR o.id IN (SELECT i.order_id FROM order_items i WHERE i.warehouse IN ")
                .bind_list(texts(&f.warehouses))
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

    /// The public status of order `number` (case and surrounding spaces ignored).
    pub async fn track_order(&self, number: &str) -> StoreResult<Option<TrackView>> {
        let number = number.trim();
        if number.is_empty() {
            return Ok(None);
        }
        let mut order = self.get_order(&OrderLookup::Number(number.to_string())).await?;
        if order.is_none() && number.to_uppercase() != number {
            order = self.get_order(&OrderLookup::Number(number.to_uppercase())).await?;
        }
        let Some(o) = order else { return Ok(None) };
        let status = self
            .list_refs(ReferenceKind::Status)
            .await?
            .into_iter()
            .find(|s| s.code == o.status)
            .map_or_else(|| o.status.clone(), |s| s.name);
        let mut codes: Vec<String> = o.shipment_store.iter().cloned().collect();
        for i in &o.items {
            if let Some(w) = &i.warehouse
                && !codes.contains(w)
            {
                codes.push(w.clone());
            }
        }
        let mut warehouses = Vec::with_capacity(codes.len());
        for code in codes {
            let name: Option<(String,)> = crate::db::query_as("SELECT name FROM warehouses WHERE code = $1")
                .bind(&code)
                .fetch_optional(self.reader())
                .await?;
            warehouses.push(name.map_or(code, |n| n.0));
        }
        Ok(Some(TrackView {
            id: o.id,
            number: o.number.clone(),
            invoice_number: self.latest_invoice_number(o.id).await?,
            status_code: o.status.clone(),
            status,
            warehouses,
            track_numbers: o.track_numbers(),
        }))
    }
}

/// Records distributor `code` when new, inside a write.
pub(crate) async fn ensure_distributor_in(tx: &mut Tx, code: &str) -> StoreResult<()> {
    crate::db::query(
        "INSERT INTO distributors (code, name, created_at) VALUES ($1, $1, $2) ON CONFLICT (code) DO NOTHING",
    )
    .bind(code)
    .bind(torg_domain::time::now())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Takes the stock at `warehouse` (of one offer, or all) off sale: rows nothing reserves go, and
/// reserved ones keep their reservations with nothing more to sell.
async fn take_off_sale_in(tx: &mut Tx, warehouse: i64, offer: Option<i64>) -> StoreResult<()> {
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

async fn warehouse_in(tx: &mut Tx, id: i64) -> StoreResult<OfficeWarehouse> {
    let row = crate::db::query(format!("{WAREHOUSE_COLUMNS} WHERE id = $1")).bind(id).fetch_one(&mut **tx).await?;
    warehouse_from_row(&row)
}

/// The distributor's active warehouse `code`: (id, attrs).
async fn own_warehouse_in(tx: &mut Tx, distributor: &str, code: &str) -> StoreResult<Option<(i64, String)>> {
    Ok(crate::db::query_as("SELECT id, attrs FROM warehouses WHERE code = $1 AND distributor = $2 AND active = 1")
        .bind(code)
        .bind(distributor)
        .fetch_optional(&mut **tx)
        .await?)
}

async fn update_warehouse_in(tx: &mut Tx, id: i64, attrs: &str, w: &WarehouseInput) -> StoreResult<()> {
    crate::db::query(
        "UPDATE warehouses SET name = COALESCE($1, name), attrs = $2, period_min = COALESCE($3, period_min),
         period_max = COALESCE($4, period_max) WHERE id = $5",
    )
    .bind(&w.name)
    .bind(warehouse_attrs(json_map(attrs), w))
    .bind(w.period_min)
    .bind(w.period_max)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn product_id_in(tx: &mut Tx, article: &str, brand: &str) -> StoreResult<Option<i64>> {
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
async fn offer_id_in(tx: &mut Tx, product: i64) -> StoreResult<Option<i64>> {
    let row: Option<(i64,)> = crate::db::query_as("SELECT id FROM offers WHERE product_id = $1 ORDER BY id LIMIT 1")
        .bind(product)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.map(|r| r.0))
}

async fn new_offer_in(tx: &mut Tx, product: i64, price_units: i64, min_qty: i64) -> StoreResult<i64> {
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

async fn remain_in(tx: &mut Tx, offer: i64, warehouse: i64) -> StoreResult<Remain> {
    let sql = format!("{REMAIN_COLUMNS} WHERE s.offer_id = $1 AND s.warehouse_id = $2");
    let row = crate::db::query(sql).bind(offer).bind(warehouse).fetch_one(&mut **tx).await?;
    remain_from_row(&row)
}
