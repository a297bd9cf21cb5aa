//! The CRM face's store methods (docs/crm.md): offers and products listed with their stock and
//! prices, stock and price uploads, products created and edited in batches.
//!
//! Stock lives in the catalogue's `stock` table, the one order reservations draw on, so what an
//! inventories upload sets is what an order can reserve, and what inventories report is the free stock
//! (`available - reserved`). Every write is one transaction: a batch that fails anywhere leaves nothing.

use crate::counts::{Counted, UNFILTERED};
use crate::sql::{Arg, Sql, contains_pattern};
use crate::{Store, StoreResult, Tx, flag, json_map};
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use std::collections::HashMap;
use torg_domain::catalogue::{BrandAliases, normalize_number};
use torg_domain::money::{from_units, to_units};
use torg_domain::order::OfferRef;
use torg_domain::page::PageRequest;
use torg_domain::product::{NewProduct, PriceUpload, Product, ProductGroupRef, ProductRef, StockUpload};
use torg_domain::reference::ReferenceKind;
use torg_domain::{DomainError, FieldErrors};

/// Stock of an offer at one store.
#[derive(Debug, Clone, PartialEq)]
pub struct OfferStock {
    /// Store (warehouse) code.
    pub store: String,
    /// Free units: in stock less reserved by orders, never below zero.
    pub quantity: i64,
    /// Purchase price at that store.
    pub purchase_price: Option<Decimal>,
}

/// A price of an offer by price type.
#[derive(Debug, Clone, PartialEq)]
pub struct OfferPrice {
    /// Price-type code.
    pub price_type: String,
    /// Price.
    pub price: Decimal,
    /// The price type's ordering.
    pub ordering: i64,
}

/// An offer with its stock and prices, as the store methods show it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreOffer {
    /// Offer id.
    pub id: i64,
    /// Its product.
    pub product_id: i64,
    /// External id.
    pub external_id: Option<String>,
    /// XML id.
    pub xml_id: Option<String>,
    /// Name.
    pub name: String,
    /// Article.
    pub article: Option<String>,
    /// Base price.
    pub price: Decimal,
    /// Purchase price.
    pub purchase_price: Option<Decimal>,
    /// Whether it can be sold.
    pub active: bool,
    /// Free units over every store.
    pub quantity: i64,
    /// Stock per store, by store code.
    pub stores: Vec<OfferStock>,
    /// Prices by price type, in the types' order.
    pub prices: Vec<OfferPrice>,
    /// Attributes kept as given (`properties`, `images`, `unit`, `vatRate`, dimensions, `barcode`).
    pub attrs: Map<String, Value>,
}

/// A product with its offers.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreProduct {
    /// The product.
    pub product: Product,
    /// Its offers, by id.
    pub offers: Vec<StoreOffer>,
    /// (id, external id) of the groups it is in, on the sites asked for, by id.
    pub groups: Vec<(i64, Option<String>)>,
}

/// Filters of `store/inventories`; empty lists and `None` do not filter.
#[derive(Debug, Clone, Default)]
pub struct InventoryFilter {
    /// Offer ids.
    pub ids: Vec<i64>,
    /// Offer external ids.
    pub external_ids: Vec<String>,
    /// Offer XML ids.
    pub xml_ids: Vec<String>,
    /// Offer articles.
    pub articles: Vec<String>,
    /// Product external ids.
    pub product_external_ids: Vec<String>,
    /// Product articles.
    pub product_articles: Vec<String>,
    /// Offer active flag.
    pub offer_active: Option<bool>,
    /// Product active flag.
    pub product_active: Option<bool>,
}

/// Filters of `store/products`.
#[derive(Debug, Clone, Default)]
pub struct ProductFilter {
    /// Product ids.
    pub ids: Vec<i64>,
    /// Products having one of these offers.
    pub offer_ids: Vec<i64>,
    /// Product external ids.
    pub external_ids: Vec<String>,
    /// Products having an offer with one of these external ids.
    pub offer_external_ids: Vec<String>,
    /// Products having an offer with one of these XML ids.
    pub offer_xml_ids: Vec<String>,
    /// Substring of the name, any case.
    pub name: Option<String>,
    /// The product's article or one of its offers'.
    pub article: Option<String>,
    /// Products having an offer priced from this.
    pub min_price: Option<Decimal>,
    /// … up to this.
    pub max_price: Option<Decimal>,
    /// Active flag.
    pub active: Option<bool>,
    /// Ids above this.
    pub since_id: Option<i64>,
    /// Sites whose product groups the answer shows and the group filters look in.
    pub sites: Vec<String>,
    /// Products in one of these groups or below them.
    pub groups: Vec<i64>,
    /// Products in the group with this external id or below it.
    pub group_external_ids: Vec<String>,
    /// Products having an offer with all these property values (code, value; any case).
    pub properties: Vec<(String, String)>,
}

/// Filters of `store/offers`.
#[derive(Debug, Clone, Default)]
pub struct OfferFilter {
    /// Offer ids.
    pub ids: Vec<i64>,
    /// External ids.
    pub external_ids: Vec<String>,
    /// XML ids.
    pub xml_ids: Vec<String>,
    /// Substring of the name, any case.
    pub name: Option<String>,
    /// Active flag.
    pub active: Option<bool>,
    /// Price from.
    pub min_price: Option<Decimal>,
    /// Price up to.
    pub max_price: Option<Decimal>,
    /// Ids above this.
    pub since_id: Option<i64>,
    /// Sites the group filter looks in.
    pub sites: Vec<String>,
    /// Offers of products in one of these groups or below them.
    pub groups: Vec<i64>,
    /// Offers with all these property values (code, value; any case).
    pub properties: Vec<(String, String)>,
}

/// What an upload or a batch edit did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BatchOutcome {
    /// Entries whose target was found and changed.
    pub processed: usize,
    /// Indexes of the entries whose target does not exist.
    pub not_found: Vec<usize>,
}

type OfferRow = (i64, i64, Option<String>, Option<String>, String, Option<String>, i64, Option<i64>, i64, String);
type ProductRow = (i64, Option<String>, Option<String>, Option<String>, String, Option<String>, i64, String);

/// The offer lists' tables: each offer with its product.
const OFFERS_JOINED: &str = "offers o JOIN products p ON p.id = o.product_id";
const OFFER_COLUMNS: &str = "SELECT o.id, o.product_id, o.external_id, o.xml_id, o.name, o.article, o.price, \
    o.purchase_price, o.active, o.attrs";
const PRODUCT_COLUMNS: &str =
    "SELECT p.id, p.external_id, p.article, p.brand, p.name, p.description, p.active, p.attrs FROM products p";

fn offer_from_row(r: OfferRow) -> StoreOffer {
    let (id, product_id, external_id, xml_id, name, article, price, purchase_price, active, attrs) = r;
    StoreOffer {
        id,
        product_id,
        external_id,
        xml_id,
        name,
        article,
        price: from_units(price),
        purchase_price: purchase_price.map(from_units),
        active: flag(active),
        quantity: 0,
        stores: Vec::new(),
        prices: Vec::new(),
        attrs: json_map(&attrs),
    }
}

fn product_from_row(r: ProductRow) -> Product {
    let (id, external_id, article, brand, name, description, active, attrs) = r;
    let mut attrs = json_map(&attrs);
    let attr = |k: &str| attrs.get(k).and_then(Value::as_str).map(str::to_owned);
    let (url, image_url) = (attr("url"), attr("imageUrl"));
    attrs.remove("url");
    attrs.remove("imageUrl");
    Product {
        id,
        external_id,
        name,
        article,
        manufacturer: brand,
        description,
        active: flag(active),
        url,
        image_url,
        attrs,
        groups: None,
    }
}

fn texts(wh: &mut Sql, column: &str, values: &[String]) {
    if !values.is_empty() {
        wh.push(&format!(" AND {column} IN ")).bind_list(values.iter().cloned().map(Arg::Text));
    }
}

fn ints(wh: &mut Sql, column: &str, values: &[i64]) {
    if !values.is_empty() {
        wh.push(&format!(" AND {column} IN ")).bind_list(values.iter().copied().map(Arg::Int));
    }
}

fn flag_is(wh: &mut Sql, column: &str, value: Option<bool>) {
    if let Some(v) = value {
        wh.push(&format!(" AND {column} = ")).bind(Arg::Int(i64::from(v)));
    }
}

/// A condition on a column holding a Rust-lower-cased copy (see [`Store::refresh_name_copies`]).
fn name_like(wh: &mut Sql, column: &str, needle: &str) {
    wh.push(&format!(" AND {column} LIKE "))
        .bind(Arg::Text(contains_pattern(&needle.to_lowercase())))
        .push(" ESCAPE '\\'");
}

/// ` AND {column} IN (ids)`, which no row meets when there are none (PostgreSQL types the NULL of an
/// empty list as text, which no id compares with).
fn ids_in(wh: &mut Sql, column: &str, ids: &[i64]) {
    if ids.is_empty() {
        wh.push(" AND 1 = 0");
    } else {
        wh.push(&format!(" AND {column} IN ")).bind_list(ids.iter().copied().map(Arg::Int));
    }
}

/// Products (`product_expr`, a product id) in one of the groups `ids` or `external_ids` on `sites`, or
/// in a group below one of them.
fn in_groups(wh: &mut Sql, product_expr: &str, sites: &[String], ids: &[i64], external_ids: &[String]) {
    if ids.is_empty() && external_ids.is_empty() {
        return;
    }
    wh.push(&format!(
        " AND {product_expr} IN (SELECT m.product_id FROM product_group_members m WHERE m.group_id IN (
          WITH RECURSIVE below(id) AS (SELECT id FROM product_groups WHERE site IN "
    ))
    .bind_list(sites.iter().cloned().map(Arg::Text))
    .push(" AND (1 = 0");
    // Only lists with items: PostgreSQL types an empty list's NULL as text, which no id compares with.
    if !ids.is_empty() {
        wh.push(" OR id IN ").bind_list(ids.iter().copied().map(Arg::Int));
    }
    if !external_ids.is_empty() {
        wh.push(" OR external_id IN ").bind_list(external_ids.iter().cloned().map(Arg::Text));
    }
    wh.push(
        ") UNION SELECT g.id FROM product_groups g JOIN below b ON g.parent_id = b.id)
          SELECT id FROM below))",
    );
}

/// The part number and brand the parts face searches by, when the product has an article.
fn norms(p: &Product, aliases: &BrandAliases) -> (Option<String>, Option<String>) {
    let article = p.article.as_deref().map(normalize_number).filter(|a| !a.is_empty());
    match article {
        Some(a) => (Some(a), Some(aliases.canonical(p.manufacturer.as_deref().unwrap_or("")))),
        None => (None, None),
    }
}

/// The product's free-form attributes with its URL fields laid over them.
fn product_attrs(p: &Product) -> String {
    let mut attrs = p.attrs.clone();
    for (k, v) in [("url", &p.url), ("imageUrl", &p.image_url)] {
        match v {
            Some(v) => attrs.insert(k.into(), Value::String(v.clone())),
            None => attrs.remove(k),
        };
    }
    Value::Object(attrs).to_string()
}

/// The base price type (the first marked `default`), read inside a write.
async fn base_price_type_in(tx: &mut Tx) -> StoreResult<Option<String>> {
    let types: Vec<(String, String)> =
        crate::db::query_as("SELECT code, attrs FROM reference_entries WHERE kind = $1 ORDER BY ordering, code")
            .bind(ReferenceKind::PriceType.code())
            .fetch_all(&mut **tx)
            .await?;
    Ok(types
        .into_iter()
        .find(|(_, attrs)| json_map(attrs).get("default").and_then(Value::as_bool) == Some(true))
        .map(|t| t.0))
}

/// The domain's refusal of a field at a path (the field's key and message).
type FieldRefusal = fn(&str) -> (String, String);

fn invalid(errors: FieldErrors) -> crate::StoreError {
    DomainError::Invalid(errors).into()
}

impl Store {
    /// Brings the lower-cased name copies of `table` (`products` or `offers`) up to date. Every writer
    /// keeps the copy; this runs once after migrations for rows written before the copy existed.
    pub(crate) async fn refresh_name_copies(&self, table: &'static str) -> StoreResult<()> {
        const BATCH: usize = 1000;
        let select = format!(
            "SELECT id, name FROM {table} WHERE name_lower_of IS NULL OR name_lower_of <> name ORDER BY id LIMIT {BATCH}"
        );
        let update = format!("UPDATE {table} SET name_lower = $1, name_lower_of = $2 WHERE id = $3 AND name = $2");
        loop {
            let rows: Vec<(i64, String)> = crate::db::query_as(select.clone()).fetch_all(self.reader()).await?;
            if rows.is_empty() {
                return Ok(());
            }
            let mut tx = self.begin().await?;
            let mut done = 0;
            for (id, name) in &rows {
                done += crate::db::query(update.clone())
                    .bind(name.to_lowercase())
                    .bind(name)
                    .bind(*id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            tx.commit().await?;
            // A row renamed between the read and the write stays stale until the next filter; stopping
            // when nothing moved keeps a busy writer from holding this loop.
            if rows.len() < BATCH || done == 0 {
                return Ok(());
            }
        }
    }

    /// Price types: code → (ordering, whether it is the base price).
    async fn price_types(&self) -> StoreResult<HashMap<String, (i64, bool)>> {
        Ok(self
            .list_refs(ReferenceKind::PriceType)
            .await?
            .into_iter()
            .map(|t| {
                let default = t.attr_bool("default");
                (t.code, (t.ordering, default))
            })
            .collect())
    }

    /// Fills stock and prices of `offers`.
    async fn fill_offers(&self, offers: &mut [StoreOffer]) -> StoreResult<()> {
        if offers.is_empty() {
            return Ok(());
        }
        let ids = || offers.iter().map(|o| Arg::Int(o.id)).collect::<Vec<_>>();
        let mut q = Sql::new(
            "SELECT s.offer_id, w.code, s.available, s.reserved, s.purchase_price FROM stock s \
             JOIN warehouses w ON w.id = s.warehouse_id WHERE s.offer_id IN ",
        );
        q.bind_list(ids()).push(" ORDER BY w.code");
        let stock: Vec<(i64, String, i64, i64, Option<i64>)> = q.query_as().fetch_all(self.reader()).await?;
        let mut q = Sql::new("SELECT offer_id, price_type, price FROM offer_prices WHERE offer_id IN ");
        q.bind_list(ids());
        let prices: Vec<(i64, String, i64)> = q.query_as().fetch_all(self.reader()).await?;
        let types = self.price_types().await?;
        let base = types.iter().filter(|(_, (_, d))| *d).min_by_key(|(c, (o, _))| (*o, (*c).clone()));
        let at: HashMap<i64, usize> = offers.iter().enumerate().map(|(i, o)| (o.id, i)).collect();
        for (offer, store, available, reserved, purchase) in stock {
            if let Some(o) = at.get(&offer).map(|&i| &mut offers[i]) {
                let free = (available - reserved).max(0);
                o.quantity += free;
                o.stores.push(OfferStock { store, quantity: free, purchase_price: purchase.map(from_units) });
            }
        }
        for (offer, price_type, price) in prices {
            if let Some(o) = at.get(&offer).map(|&i| &mut offers[i]) {
                let ordering = types.get(&price_type).map_or(0, |t| t.0);
                o.prices.push(OfferPrice { price_type, price: from_units(price), ordering });
            }
        }
        for o in offers.iter_mut() {
            // Offers loaded by the catalogue have only their own price: it is the base price.
            if let Some((code, (ordering, _))) = base
                && !o.price.is_zero()
                && !o.prices.iter().any(|p| &p.price_type == code)
            {
                o.prices.push(OfferPrice { price_type: code.clone(), price: o.price, ordering: *ordering });
            }
            o.prices.sort_by(|a, b| a.ordering.cmp(&b.ordering).then_with(|| a.price_type.cmp(&b.price_type)));
        }
        Ok(())
    }

    /// Offers matching `wh` (over `offers o JOIN products p`), by id, one page, with the filtered count.
    async fn offer_page(&self, wh: &Sql, page: PageRequest) -> StoreResult<(Vec<StoreOffer>, u64)> {
        let total = self.unsited_total(Counted::Offers, OFFERS_JOINED, wh).await?;
        let mut list = wh.with_prefix(&format!("{OFFER_COLUMNS} FROM {OFFERS_JOINED}"));
        list.push(" ORDER BY o.id");
        crate::sql::page(&mut list, page.limit, page.offset());
        let rows: Vec<OfferRow> = list.query_as().fetch_all(self.reader()).await?;
        let mut offers: Vec<StoreOffer> = rows.into_iter().map(offer_from_row).collect();
        self.fill_offers(&mut offers).await?;
        Ok((offers, total))
    }

    /// A page of inventories: offers with their free stock per store.
    pub async fn store_inventories(
        &self,
        f: &InventoryFilter,
        page: PageRequest,
    ) -> StoreResult<(Vec<StoreOffer>, u64)> {
        let mut wh = Sql::new(UNFILTERED);
        ints(&mut wh, "o.id", &f.ids);
        texts(&mut wh, "o.external_id", &f.external_ids);
        texts(&mut wh, "o.xml_id", &f.xml_ids);
        texts(&mut wh, "o.article", &f.articles);
        texts(&mut wh, "p.external_id", &f.product_external_ids);
        texts(&mut wh, "p.article", &f.product_articles);
        flag_is(&mut wh, "o.active", f.offer_active);
        flag_is(&mut wh, "p.active", f.product_active);
        self.offer_page(&wh, page).await
    }

    /// A page of offers with their stock, prices and products.
    pub async fn store_offers(
        &self,
        f: &OfferFilter,
        page: PageRequest,
    ) -> StoreResult<(Vec<(StoreOffer, Product)>, u64)> {
        let mut wh = Sql::new(UNFILTERED);
        ints(&mut wh, "o.id", &f.ids);
        texts(&mut wh, "o.external_id", &f.external_ids);
        texts(&mut wh, "o.xml_id", &f.xml_ids);
        if let Some(name) = &f.name {
            name_like(&mut wh, "o.name_lower", name);
        }
        flag_is(&mut wh, "o.active", f.active);
        if let Some(min) = f.min_price {
            wh.push(" AND o.price >= ").bind(Arg::Int(to_units(min)));
        }
        if let Some(max) = f.max_price {
            wh.push(" AND o.price <= ").bind(Arg::Int(to_units(max)));
        }
        if let Some(id) = f.since_id {
            wh.push(" AND o.id > ").bind(Arg::Int(id));
        }
        in_groups(&mut wh, "o.product_id", &f.sites, &f.groups, &[]);
        if !f.properties.is_empty() {
            let (offers, _) = self.with_properties(&f.properties).await?;
            ids_in(&mut wh, "o.id", &offers);
        }
        let (offers, total) = self.offer_page(&wh, page).await?;
        let mut products: HashMap<i64, Product> = HashMap::new();
        if !offers.is_empty() {
            let mut q = Sql::new(PRODUCT_COLUMNS);
            q.push(" WHERE p.id IN ").bind_list(offers.iter().map(|o| Arg::Int(o.product_id)));
            let rows: Vec<ProductRow> = q.query_as().fetch_all(self.reader()).await?;
            products = rows.into_iter().map(product_from_row).map(|p| (p.id, p)).collect();
        }
        let out = offers
            .into_iter()
            .map(|o| {
                let p = products.get(&o.product_id).cloned().unwrap_or_default();
                (o, p)
            })
            .collect();
        Ok((out, total))
    }

    /// A page of products with their offers, stock and prices.
    pub async fn store_products(&self, f: &ProductFilter, page: PageRequest) -> StoreResult<(Vec<StoreProduct>, u64)> {
        let mut wh = Sql::new(UNFILTERED);
        ints(&mut wh, "p.id", &f.ids);
        texts(&mut wh, "p.external_id", &f.external_ids);
        if !f.offer_ids.is_empty() {
            wh.push(" AND p.id IN (SELECT po.product_id FROM offers po WHERE po.id IN ")
                .bind_list(f.offer_ids.iter().copied().map(Arg::Int))
                .push(")");
        }
        for (column, values) in [("external_id", &f.offer_external_ids), ("xml_id", &f.offer_xml_ids)] {
            if !values.is_empty() {
                wh.push(&format!(" AND p.id IN (SELECT po.product_id FROM offers po WHERE po.{column} IN "))
                    .bind_list(values.iter().cloned().map(Arg::Text))
                    .push(")");
            }
        }
        if let Some(name) = &f.name {
            name_like(&mut wh, "p.name_lower", name);
        }
        if let Some(article) = &f.article {
            wh.push(" AND (p.article = ")
                .bind(Arg::Text(article.clone()))
                .push(" OR p.id IN (SELECT po.product_id FROM offers po WHERE po.article = ")
                .bind(Arg::Text(article.clone()))
                .push("))");
        }
        if f.min_price.is_some() || f.max_price.is_some() {
            wh.push(" AND p.id IN (SELECT po.product_id FROM offers po WHERE 1 = 1");
            if let Some(min) = f.min_price {
                wh.push(" AND po.price >= ").bind(Arg::Int(to_units(min)));
            }
            if let Some(max) = f.max_price {
                wh.push(" AND po.price <= ").bind(Arg::Int(to_units(max)));
            }
            wh.push(")");
        }
        flag_is(&mut wh, "p.active", f.active);
        if let Some(id) = f.since_id {
            wh.push(" AND p.id > ").bind(Arg::Int(id));
        }
        in_groups(&mut wh, "p.id", &f.sites, &f.groups, &f.group_external_ids);
        if !f.properties.is_empty() {
            let (_, products) = self.with_properties(&f.properties).await?;
            ids_in(&mut wh, "p.id", &products);
        }
        let total = self.unsited_total(Counted::Products, "products p", &wh).await?;
        let mut list = wh.with_prefix(PRODUCT_COLUMNS);
        list.push(" ORDER BY p.id");
        crate::sql::page(&mut list, page.limit, page.offset());
        let rows: Vec<ProductRow> = list.query_as().fetch_all(self.reader()).await?;
        let mut products: Vec<StoreProduct> = rows
            .into_iter()
            .map(|r| StoreProduct { product: product_from_row(r), offers: Vec::new(), groups: Vec::new() })
            .collect();
        if !products.is_empty() {
            let mut q = Sql::new(
                "SELECT m.product_id, g.id, g.external_id FROM product_group_members m
                 JOIN product_groups g ON g.id = m.group_id WHERE g.site IN ",
            );
            q.bind_list(f.sites.iter().cloned().map(Arg::Text))
                .push(" AND m.product_id IN ")
                .bind_list(products.iter().map(|p| Arg::Int(p.product.id)))
                .push(" ORDER BY g.id");
            let rows: Vec<(i64, i64, Option<String>)> = q.query_as().fetch_all(self.reader()).await?;
            let at: HashMap<i64, usize> = products.iter().enumerate().map(|(i, p)| (p.product.id, i)).collect();
            for (product, id, external_id) in rows {
                if let Some(&i) = at.get(&product) {
                    products[i].groups.push((id, external_id));
                }
            }
        }
        if !products.is_empty() {
            let mut q = Sql::new(&format!("{OFFER_COLUMNS} FROM {OFFERS_JOINED} WHERE o.product_id IN "));
            q.bind_list(products.iter().map(|p| Arg::Int(p.product.id))).push(" ORDER BY o.id");
            let rows: Vec<OfferRow> = q.query_as().fetch_all(self.reader()).await?;
            let mut offers: Vec<StoreOffer> = rows.into_iter().map(offer_from_row).collect();
            self.fill_offers(&mut offers).await?;
            let at: HashMap<i64, usize> = products.iter().enumerate().map(|(i, p)| (p.product.id, i)).collect();
            for o in offers {
                if let Some(&i) = at.get(&o.product_id) {
                    products[i].offers.push(o);
                }
            }
        }
        Ok((products, total))
    }

    /// The offer an upload entry names, inside the write.
    async fn offer_id_in(tx: &mut Tx, r: &OfferRef) -> StoreResult<Option<i64>> {
        let row: Option<(i64,)> = match r {
            OfferRef::Id(i) => crate::db::query_as("SELECT id FROM offers WHERE id = $1").bind(*i),
            OfferRef::ExternalId(s) => {
                crate::db::query_as("SELECT id FROM offers WHERE external_id = $1").bind(s.clone())
            }
            OfferRef::XmlId(s) => crate::db::query_as("SELECT id FROM offers WHERE xml_id = $1").bind(s.clone()),
        }
        .fetch_optional(&mut **tx)
        .await?;
        Ok(row.map(|r| r.0))
    }

    /// `store/inventories/upload`: sets each offer's stock per store (and, when given, the purchase
    /// price, which also becomes the offer's). An unknown store code fails the whole upload, naming the
    /// field; offers that do not exist are reported, not failed.
    pub async fn upload_inventories(&self, entries: &[StockUpload]) -> StoreResult<BatchOutcome> {
        let mut tx = self.begin().await?;
        let warehouses: HashMap<String, i64> =
            crate::db::query_as("SELECT code, id FROM warehouses").fetch_all(&mut *tx).await?.into_iter().collect();
        torg_domain::product::check_upload_stores(entries, |code| warehouses.contains_key(code))?;
        let now = torg_domain::time::now();
        let mut out = BatchOutcome::default();
        for (i, e) in entries.iter().enumerate() {
            let Some(offer) = Store::offer_id_in(&mut tx, &e.offer).await? else {
                out.not_found.push(i);
                continue;
            };
            for s in &e.stores {
                crate::db::query(
                    "INSERT INTO stock (offer_id, warehouse_id, available, reserved, reported, purchase_price, updated_at)
                     VALUES ($1, $2, $3, 0, NULL, $4, $5)
                     ON CONFLICT (offer_id, warehouse_id) DO UPDATE SET available = excluded.available, reported = NULL,
                     purchase_price = COALESCE(excluded.purchase_price, stock.purchase_price), updated_at = excluded.updated_at",
                )
                .bind(offer)
                .bind(warehouses[&s.code])
                .bind(s.available)
                .bind(s.purchase_price.map(to_units))
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            if let Some(p) = e.stores.iter().rev().find_map(|s| s.purchase_price) {
                crate::db::query("UPDATE offers SET purchase_price = $1 WHERE id = $2")
                    .bind(to_units(p))
                    .bind(offer)
                    .execute(&mut *tx)
                    .await?;
            }
            out.processed += 1;
        }
        tx.commit().await?;
        Ok(out)
    }

    /// `store/prices/upload`: sets or removes prices by price type; the base type is the offer's own
    /// price too (removing it leaves the offer at 0). An unknown price type fails the whole upload.
    pub async fn upload_prices(&self, entries: &[PriceUpload]) -> StoreResult<BatchOutcome> {
        let mut tx = self.begin().await?;
        let types: Vec<(String, String)> =
            crate::db::query_as("SELECT code, attrs FROM reference_entries WHERE kind = $1")
                .bind(ReferenceKind::PriceType.code())
                .fetch_all(&mut *tx)
                .await?;
        let is_base = |code: &str| {
            types
                .iter()
                .any(|(c, attrs)| c == code && json_map(attrs).get("default").and_then(Value::as_bool) == Some(true))
        };
        torg_domain::product::check_upload_price_types(entries, |code| types.iter().any(|(c, _)| c == code))?;
        let mut out = BatchOutcome::default();
        for (i, e) in entries.iter().enumerate() {
            let Some(offer) = Store::offer_id_in(&mut tx, &e.offer).await? else {
                out.not_found.push(i);
                continue;
            };
            for p in &e.prices {
                match p.price {
                    Some(price) => {
                        crate::db::query(
                            "INSERT INTO offer_prices (offer_id, price_type, price) VALUES ($1, $2, $3)
                             ON CONFLICT (offer_id, price_type) DO UPDATE SET price = excluded.price",
                        )
                        .bind(offer)
                        .bind(&p.code)
                        .bind(to_units(price))
                        .execute(&mut *tx)
                        .await?;
                    }
                    None => {
                        crate::db::query("DELETE FROM offer_prices WHERE offer_id = $1 AND price_type = $2")
                            .bind(offer)
                            .bind(&p.code)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                if is_base(&p.code) {
                    crate::db::query("UPDATE offers SET price = $1 WHERE id = $2")
                        .bind(p.price.map_or(0, to_units))
                        .bind(offer)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            out.processed += 1;
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Whether another product holds this external id or this brand and part number; messages by field.
    async fn product_clashes(
        tx: &mut Tx,
        p: &Product,
        path: &str,
        errors: &mut FieldErrors,
    ) -> StoreResult<(Option<String>, Option<String>)> {
        if let Some(ext) = &p.external_id {
            let other: Option<(i64,)> =
                crate::db::query_as("SELECT id FROM products WHERE external_id = $1 AND id <> $2")
                    .bind(ext)
                    .bind(p.id)
                    .fetch_optional(&mut **tx)
                    .await?;
            if other.is_some() {
                errors.extend([torg_domain::product::external_id_taken_at(path)]);
            }
        }
        let aliases = crate::brands::brand_aliases_in(tx).await?;
        let (article_norm, brand_norm) = norms(p, &aliases);
        if let (Some(a), Some(b)) = (&article_norm, &brand_norm) {
            let other: Option<(i64,)> =
                crate::db::query_as("SELECT id FROM products WHERE article_norm = $1 AND brand_norm = $2 AND id <> $3")
                    .bind(a)
                    .bind(b)
                    .bind(p.id)
                    .fetch_optional(&mut **tx)
                    .await?;
            if let Some((id,)) = other {
                errors.extend([torg_domain::product::article_taken_at(path, id)]);
            }
        }
        Ok((article_norm, brand_norm))
    }

    /// The ids of the groups `refs` name on `sites`, in order and once each; a group not found there
    /// (or, by external id, found on two of them) is a message at `{path}.groups[k]`.
    async fn group_ids_in(
        tx: &mut Tx,
        refs: &[ProductGroupRef],
        sites: &[String],
        path: &str,
        errors: &mut FieldErrors,
    ) -> StoreResult<Vec<i64>> {
        let mut out = Vec::with_capacity(refs.len());
        for (k, r) in refs.iter().enumerate() {
            let mut q = Sql::new("SELECT id FROM product_groups WHERE site IN ");
            q.bind_list(sites.iter().cloned().map(Arg::Text));
            match r {
                ProductGroupRef::Id(id) => q.push(" AND id = ").bind(Arg::Int(*id)),
                ProductGroupRef::ExternalId(e) => q.push(" AND external_id = ").bind(Arg::Text(e.clone())),
            };
            let found: Vec<(i64,)> = q.query_as().fetch_all(&mut **tx).await?;
            match found.as_slice() {
                [(id,)] => {
                    if !out.contains(id) {
                        out.push(*id);
                    }
                }
                [] => errors.extend([torg_domain::product::unknown_group_at(path, k, r)]),
                _ => errors.extend([torg_domain::product::ambiguous_group_at(path, k, r)]),
            }
        }
        Ok(out)
    }

    /// Puts a product in `groups`, which it is not in.
    async fn set_groups(tx: &mut Tx, product: i64, groups: &[i64]) -> StoreResult<()> {
        for g in groups {
            crate::db::query("INSERT INTO product_group_members (product_id, group_id) VALUES ($1, $2)")
                .bind(product)
                .bind(*g)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// `store/products/batch/create`: every product with its offers, or (on any error) none. Groups are
    /// looked for on `sites`; an offer without a unit gets the book's default one.
    pub async fn create_products(&self, batch: &[NewProduct], sites: &[String]) -> StoreResult<Vec<i64>> {
        let mut tx = self.begin().await?;
        let base = base_price_type_in(&mut tx).await?;
        let units: Vec<(String, bool)> = self
            .books_in(&mut tx)
            .await?
            .refs(ReferenceKind::Unit)
            .iter()
            .map(|u| (u.code.clone(), u.attr_bool("default")))
            .collect();
        let default_unit = units.iter().find(|u| u.1).map(|u| u.0.clone());
        let now = torg_domain::time::now();
        let mut errors = FieldErrors::new();
        let mut added = Vec::with_capacity(batch.len());
        for (i, new) in batch.iter().enumerate() {
            let path = torg_domain::product::batch_path(i);
            let before = errors.len();
            let p = &new.product;
            let (article_norm, brand_norm) = Store::product_clashes(&mut tx, p, &path, &mut errors).await?;
            let groups = match &p.groups {
                Some(refs) => Store::group_ids_in(&mut tx, refs, sites, &path, &mut errors).await?,
                None => Vec::new(),
            };
            for (j, o) in new.offers.iter().enumerate() {
                let at = torg_domain::product::offer_path(&path, new.implicit_offer, j);
                if let Some(code) = o.attrs.get("unit").and_then(Value::as_str)
                    && !units.iter().any(|u| u.0 == code)
                {
                    errors.extend([torg_domain::product::unknown_unit_at(&at, code)]);
                }
                let taken: [(&str, &Option<String>, FieldRefusal); 2] = [
                    ("external_id", &o.external_id, torg_domain::product::offer_external_id_taken_at),
                    ("xml_id", &o.xml_id, torg_domain::product::offer_xml_id_taken_at),
                ];
                for (column, value, refusal) in taken {
                    let Some(value) = value else { continue };
                    let sql = format!("SELECT id FROM offers WHERE {column} = $1");
                    let other: Option<(i64,)> = crate::db::query_as(sql).bind(value).fetch_optional(&mut *tx).await?;
                    let seen = new.offers[..j].iter().any(|e| match column {
                        "external_id" => e.external_id.as_ref() == Some(value),
                        _ => e.xml_id.as_ref() == Some(value),
                    });
                    if other.is_some() || seen {
                        let (field, message) = refusal(&at);
                        errors.entry(field).or_insert(message);
                    }
                }
            }
            if errors.len() > before {
                continue;
            }
            let id: i64 = crate::db::query_scalar(
                "INSERT INTO products (external_id, article, brand, name, description, article_norm, brand_norm, active,
                 attrs, created_at, name_lower, name_lower_of)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
            )
            .bind(&p.external_id)
            .bind(&p.article)
            .bind(&p.manufacturer)
            .bind(&p.name)
            .bind(&p.description)
            .bind(article_norm)
            .bind(brand_norm)
            .bind(i64::from(p.active))
            .bind(product_attrs(p))
            .bind(now)
            .bind(p.name.to_lowercase())
            .bind(&p.name)
            .fetch_one(&mut *tx)
            .await?;
            Store::set_groups(&mut tx, id, &groups).await?;
            for o in &new.offers {
                let mut attrs = o.attrs.clone();
                if let Some(unit) = &default_unit {
                    attrs.entry("unit").or_insert_with(|| Value::String(unit.clone()));
                }
                let offer: i64 = crate::db::query_scalar(
                    "INSERT INTO offers (product_id, external_id, xml_id, name, article, price, purchase_price, active,
                     name_lower, name_lower_of, attrs) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
                )
                .bind(id)
                .bind(&o.external_id)
                .bind(&o.xml_id)
                .bind(&o.name)
                .bind(&o.article)
                .bind(to_units(o.price))
                .bind(o.purchase_price.map(to_units))
                .bind(i64::from(o.active))
                .bind(o.name.to_lowercase())
                .bind(&o.name)
                .bind(crate::json_text(&attrs))
                .fetch_one(&mut *tx)
                .await?;
                if let Some(code) = base.as_ref().filter(|_| !o.price.is_zero()) {
                    crate::db::query("INSERT INTO offer_prices (offer_id, price_type, price) VALUES ($1, $2, $3)")
                        .bind(offer)
                        .bind(code)
                        .bind(to_units(o.price))
                        .execute(&mut *tx)
                        .await?;
                }
            }
            added.push(id);
        }
        if !errors.is_empty() {
            return Err(invalid(errors));
        }
        tx.commit().await?;
        Ok(added)
    }

    /// `store/products/batch/edit`: the given fields of each product; products that do not exist are
    /// reported; any invalid entry fails the whole batch. Groups given replace the product's groups on
    /// `sites` (and are looked for there).
    pub async fn edit_products(
        &self,
        batch: &[(ProductRef, Map<String, Value>)],
        sites: &[String],
    ) -> StoreResult<BatchOutcome> {
        let mut tx = self.begin().await?;
        let mut errors = FieldErrors::new();
        let mut out = BatchOutcome::default();
        for (i, (r, doc)) in batch.iter().enumerate() {
            let path = torg_domain::product::batch_path(i);
            let mut q = Sql::new(PRODUCT_COLUMNS);
            let by_id = match r {
                ProductRef::Id(id) => {
                    q.push(" WHERE p.id = ").bind(Arg::Int(*id));
                    true
                }
                ProductRef::ExternalId(e) => {
                    q.push(" WHERE p.external_id = ").bind(Arg::Text(e.clone()));
                    false
                }
            };
            let row: Option<ProductRow> = q.query_as().fetch_optional(&mut *tx).await?;
            let Some(row) = row else {
                out.not_found.push(i);
                continue;
            };
            let old = product_from_row(row);
            let new = match old.patched(doc, &path, by_id) {
                Ok(p) => p,
                Err(e) => {
                    errors.extend(e);
                    continue;
                }
            };
            let before = errors.len();
            let (article_norm, brand_norm) = Store::product_clashes(&mut tx, &new, &path, &mut errors).await?;
            let groups = match &new.groups {
                Some(refs) => Some(Store::group_ids_in(&mut tx, refs, sites, &path, &mut errors).await?),
                None => None,
            };
            if errors.len() > before {
                continue;
            }
            if let Some(groups) = groups {
                // Only the groups on the caller's sites are replaced: others' stay.
                let mut q = Sql::new("DELETE FROM product_group_members WHERE product_id = ");
                q.bind(Arg::Int(new.id))
                    .push(" AND group_id IN (SELECT id FROM product_groups WHERE site IN ")
                    .bind_list(sites.iter().cloned().map(Arg::Text))
                    .push(")");
                q.query().execute(&mut *tx).await?;
                Store::set_groups(&mut tx, new.id, &groups).await?;
            }
            crate::db::query(
                "UPDATE products SET external_id = $1, article = $2, brand = $3, name = $4, description = $5,
                 article_norm = $6, brand_norm = $7, active = $8, attrs = $9, name_lower = $10, name_lower_of = $11
                 WHERE id = $12",
            )
            .bind(&new.external_id)
            .bind(&new.article)
            .bind(&new.manufacturer)
            .bind(&new.name)
            .bind(&new.description)
            .bind(article_norm)
            .bind(brand_norm)
            .bind(i64::from(new.active))
            .bind(product_attrs(&new))
            .bind(new.name.to_lowercase())
            .bind(&new.name)
            .bind(new.id)
            .execute(&mut *tx)
            .await?;
            out.processed += 1;
        }
        if !errors.is_empty() {
            return Err(invalid(errors));
        }
        tx.commit().await?;
        Ok(out)
    }
}
