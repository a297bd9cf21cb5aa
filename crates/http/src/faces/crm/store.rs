//! Store methods (docs/crm.md): inventories and their upload, price upload, products and offers
//! lists, products created and edited in batches.

use super::{Crm, CrmError, CrmResult, FilterReader, ok, pagination};
use crate::AppState;
use crate::kit::Kind;
use axum::extract::State;
use axum::http::StatusCode;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use torg_domain::FieldErrors;
use torg_domain::books::Books;
use torg_domain::page::STORE_LIMITS;
use torg_domain::product::{PriceUpload, Product, ProductRef, StockUpload};
use torg_domain::reference::ReferenceKind;
use torg_store::{InventoryFilter, OfferFilter, ProductFilter, StoreOffer, StoreProduct};

/// Most entries one upload or batch takes.
const BATCH_CAP: usize = 250;

/// The `filter[…]` keys of `GET /api/v5/store/inventories` and what each holds.
pub(super) const INVENTORIES_FILTER: &[(&str, Kind)] = &[
    ("ids", Kind::Integers),
    ("offerExternalId", Kind::Texts),
    ("offerXmlId", Kind::Texts),
    ("offerArticle", Kind::Texts),
    ("productExternalId", Kind::Texts),
    ("productArticle", Kind::Texts),
    ("offerActive", Kind::Boolean),
    ("productActive", Kind::Boolean),
    ("details", Kind::Boolean),
    ("sites", Kind::Texts),
];

/// The `filter[…]` keys of `GET /api/v5/store/products` and what each holds.
pub(super) const PRODUCTS_FILTER: &[(&str, Kind)] = &[
    ("ids", Kind::Integers),
    ("offerIds", Kind::Integers),
    ("externalId", Kind::Texts),
    ("offerExternalId", Kind::Texts),
    ("offerXmlId", Kind::Texts),
    ("name", Kind::Text),
    ("article", Kind::Text),
    ("minPrice", Kind::Number),
    ("maxPrice", Kind::Number),
    ("active", Kind::Boolean),
    ("sinceId", Kind::Integer),
    ("groupExternalId", Kind::Texts),
    ("sites", Kind::Texts),
    ("groups", Kind::Texts),
    ("properties", Kind::Object),
];

/// The `filter[…]` keys of `GET /api/v5/store/offers` and what each holds.
pub(super) const OFFERS_FILTER: &[(&str, Kind)] = &[
    ("ids", Kind::Integers),
    ("externalIds", Kind::Texts),
    ("xmlIds", Kind::Texts),
    ("name", Kind::Text),
    ("active", Kind::Boolean),
    ("minPrice", Kind::Number),
    ("maxPrice", Kind::Number),
    ("sinceId", Kind::Integer),
    ("sites", Kind::Texts),
    ("groups", Kind::Texts),
    ("properties", Kind::Object),
];

/// Sets `key` when there is a value.
fn put<T: Into<Value>>(m: &mut Map<String, Value>, key: &str, v: Option<T>) {
    if let Some(v) = v {
        m.insert(key.into(), v.into());
    }
}

fn money(d: Decimal) -> Value {
    json!(d)
}

/// `sites[]` may only name sites the key reaches (offers belong to no site, so it filters nothing more;
/// it names the sites whose product groups count). The sites to use: those named, else the key's.
fn check_sites(crm: &Crm, r: &FilterReader<'_>) -> Result<Vec<String>, CrmError> {
    let wanted = r.texts("sites");
    if wanted.iter().any(|s| !crm.sites.contains(s)) {
        return Err(CrmError::access_denied());
    }
    Ok(if wanted.is_empty() { crm.sites.clone() } else { wanted })
}

/// `groups`: group ids as a list (PHP) or one comma-separated text (Go's `ProductsFilter.Groups`).
fn group_ids(r: &mut FilterReader<'_>) -> Vec<i64> {
    let mut out = Vec::new();
    for text in r.texts("groups") {
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part.parse() {
                Ok(id) => out.push(id),
                Err(_) => {
                    r.errors.insert("filter[groups]".into(), "This value should be of type integer.".into());
                }
            }
        }
    }
    out
}

/// `properties[code]=value`: offers with every one of these property values.
fn property_values(r: &mut FilterReader<'_>) -> Vec<(String, String)> {
    let Some(v) = r.get("properties") else { return Vec::new() };
    let Value::Object(m) = v else {
        r.errors.insert("filter[properties]".into(), "This value should be of type array.".into());
        return Vec::new();
    };
    let mut out = Vec::with_capacity(m.len());
    for (code, value) in m {
        match value {
            Value::String(s) if !s.trim().is_empty() => out.push((code.clone(), s.trim().to_string())),
            Value::Number(n) => out.push((code.clone(), n.to_string())),
            _ => {
                r.errors.insert(format!("filter[properties][{code}]"), "This value should be of type string.".into());
            }
        }
    }
    out
}

/// Property values by code as text (`{code: value}`), from any shape an attributes document keeps
/// them in (`{code: value}`, `{code: {name, value}}`, `[{code, name, value}]`).
fn properties(attrs: &Map<String, Value>) -> Option<Value> {
    let text = |v: Option<&Value>| match v {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::Bool(b)) => Some(b.to_string()),
        _ => None,
    };
    let mut out = Map::new();
    match attrs.get("properties") {
        Some(Value::Object(m)) => {
            for (code, v) in m {
                let value = match v {
                    Value::Object(p) => text(p.get("value")),
                    other => text(Some(other)),
                };
                if let Some(value) = value {
                    out.insert(code.clone(), Value::String(value));
                }
            }
        }
        Some(Value::Array(a)) => {
            for p in a {
                if let (Some(code), Some(value)) = (text(p.get("code")), text(p.get("value"))) {
                    out.insert(code, Value::String(value));
                }
            }
        }
        _ => {}
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

/// An offer's unit as the clients' `Unit` has it (`{code, name, sym}`), from the Unit book; an offer
/// without one has the book's default unit.
fn unit(o: &StoreOffer, books: &Books) -> Option<Value> {
    let units = books.refs(ReferenceKind::Unit);
    let entry = match o.attrs.get("unit").and_then(Value::as_str) {
        Some(code) => match units.iter().find(|u| u.code == code) {
            Some(u) => u,
            // A unit removed from the book since: its code is all there is.
            None => return Some(json!({ "code": code, "name": code, "sym": "" })),
        },
        None => units.iter().find(|u| u.attr_bool("default"))?,
    };
    Some(json!({ "code": entry.code, "name": entry.name, "sym": entry.attr_str("sym").unwrap_or_default() }))
}

fn prices(o: &StoreOffer) -> Value {
    o.prices
        .iter()
        .map(|p| json!({ "priceType": p.price_type, "price": money(p.price), "ordering": p.ordering }))
        .collect()
}

/// An offer as `store/products` and `store/offers` show it (the clients' `Offer`).
fn offer(o: &StoreOffer, books: &Books) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), json!(o.id));
    put(&mut m, "externalId", o.external_id.clone());
    put(&mut m, "xmlId", o.xml_id.clone());
    m.insert("name".into(), json!(o.name));
    put(&mut m, "article", o.article.clone());
    m.insert("price".into(), money(o.price));
    m.insert("prices".into(), prices(o));
    put(&mut m, "purchasePrice", o.purchase_price.map(money));
    m.insert("quantity".into(), json!(o.quantity));
    m.insert("active".into(), json!(o.active));
    put(&mut m, "properties", properties(&o.attrs));
    if let Some(Value::Array(images)) = o.attrs.get("images").filter(|i| i.as_array().is_some_and(|i| !i.is_empty())) {
        m.insert("images".into(), Value::Array(images.clone()));
    }
    put(&mut m, "unit", unit(o, books));
    for key in ["vatRate", "weight", "length", "width", "height", "barcode"] {
        put(&mut m, key, o.attrs.get(key).filter(|v| !v.is_null()).cloned());
    }
    m
}

/// A product with its offers as `store/products` shows it (the clients' `Product`).
fn product(sp: &StoreProduct, books: &Books) -> Value {
    let p = &sp.product;
    let mut m = Map::new();
    m.insert("id".into(), json!(p.id));
    put(&mut m, "externalId", p.external_id.clone());
    put(&mut m, "article", p.article.clone());
    m.insert("name".into(), json!(p.name));
    put(&mut m, "manufacturer", p.manufacturer.clone());
    put(&mut m, "description", p.description.clone());
    put(&mut m, "url", p.url.clone());
    put(&mut m, "imageUrl", p.image_url.clone());
    m.insert("active".into(), json!(p.active));
    m.insert("type".into(), p.attrs.get("type").cloned().unwrap_or_else(|| json!("product")));
    for flag in ["popular", "stock", "novelty", "recommended", "markable"] {
        m.insert(flag.into(), json!(p.attrs.get(flag).and_then(Value::as_bool).unwrap_or(false)));
    }
    put(&mut m, "properties", properties(&p.attrs));
    // As the PHP client's fixtures show them: `{id, externalId}`.
    let groups: Vec<Value> = sp
        .groups
        .iter()
        .map(|(id, ext)| {
            let mut g = Map::new();
            g.insert("id".into(), json!(id));
            put(&mut g, "externalId", ext.clone());
            Value::Object(g)
        })
        .collect();
    m.insert("groups".into(), Value::Array(groups));
    let min = sp.offers.iter().map(|o| o.price).min().unwrap_or_default();
    let max = sp.offers.iter().map(|o| o.price).max().unwrap_or_default();
    m.insert("minPrice".into(), money(min));
    m.insert("maxPrice".into(), money(max));
    m.insert("quantity".into(), json!(sp.offers.iter().map(|o| o.quantity).sum::<i64>()));
    m.insert("offers".into(), sp.offers.iter().map(|o| Value::Object(offer(o, books))).collect());
    Value::Object(m)
}

/// The identifiers an entry gave, echoed in `notFoundOffers` / `notFoundProducts`.
fn given_ids(doc: &Map<String, Value>) -> Value {
    let m: Map<String, Value> = ["id", "externalId", "xmlId"]
        .iter()
        .filter_map(|k| doc.get(*k).filter(|v| !v.is_null()).map(|v| ((*k).to_string(), v.clone())))
        .collect();
    Value::Object(m)
}

/// `GET /api/v5/store/inventories`.
pub async fn inventories(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let page = crm.page(STORE_LIMITS)?;
    let filter = crm.filter()?;
    let mut r = FilterReader::new(&filter, &state.config.zone).noting(&crm.input);
    check_sites(&crm, &r)?;
    let f = InventoryFilter {
        ids: r.ints("ids"),
        external_ids: r.texts("offerExternalId"),
        xml_ids: r.texts("offerXmlId"),
        articles: r.texts("offerArticle"),
        product_external_ids: r.texts("productExternalId"),
        product_articles: r.texts("productArticle"),
        offer_active: r.flag("offerActive"),
        product_active: r.flag("productActive"),
    };
    let details = r.flag("details").unwrap_or(false);
    r.finish()?;
    let (offers, total) = state.store.store_inventories(&f, page).await?;
    let offers: Vec<Value> = offers
        .iter()
        .map(|o| {
            let mut m = Map::new();
            m.insert("id".into(), json!(o.id));
            put(&mut m, "externalId", o.external_id.clone());
            put(&mut m, "xmlId", o.xml_id.clone());
            m.insert("quantity".into(), json!(o.quantity));
            put(&mut m, "purchasePrice", o.purchase_price.map(money));
            if details {
                let stores: Vec<Value> = o
                    .stores
                    .iter()
                    .map(|s| {
                        let mut st = Map::new();
                        st.insert("store".into(), json!(s.store));
                        st.insert("quantity".into(), json!(s.quantity));
                        put(&mut st, "purchasePrice", s.purchase_price.map(money));
                        Value::Object(st)
                    })
                    .collect();
                m.insert("stores".into(), Value::Array(stores));
            }
            Value::Object(m)
        })
        .collect();
    ok(StatusCode::OK, json!({ "pagination": pagination(page.meta(total)), "offers": offers }))
}

/// Parses every entry of a batch, collecting the messages of all of them.
fn parse_all<T>(
    docs: &[Map<String, Value>],
    field: &str,
    parse: impl Fn(&Map<String, Value>, &str) -> Result<T, FieldErrors>,
) -> Result<Vec<T>, CrmError> {
    let mut errors = FieldErrors::new();
    let mut out = Vec::with_capacity(docs.len());
    for (i, doc) in docs.iter().enumerate() {
        match parse(doc, &format!("{field}[{i}]")) {
            Ok(v) => out.push(v),
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(CrmError::entity(errors)) }
}

/// `POST /api/v5/store/inventories/upload`.
pub async fn upload_inventories(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let docs = crm.json_list("offers", BATCH_CAP)?;
    if crm.input.text("site").is_some() {
        crm.site()?;
    }
    let entries = parse_all(&docs, "offers", StockUpload::from_doc)?;
    let out = state.store.upload_inventories(&entries).await?;
    let not_found: Vec<Value> = out.not_found.iter().map(|&i| given_ids(&docs[i])).collect();
    ok(StatusCode::OK, json!({ "processedOffersCount": out.processed, "notFoundOffers": not_found }))
}

/// `POST /api/v5/store/prices/upload`.
pub async fn upload_prices(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let docs = crm.json_list("prices", BATCH_CAP)?;
    let entries = parse_all(&docs, "prices", PriceUpload::from_doc)?;
    if entries.iter().filter_map(|e| e.site.as_ref()).any(|s| !crm.sites.contains(s)) {
        return Err(CrmError::access_denied());
    }
    let out = state.store.upload_prices(&entries).await?;
    let not_found: Vec<Value> = out.not_found.iter().map(|&i| given_ids(&docs[i])).collect();
    ok(StatusCode::OK, json!({ "processedOffersCount": out.processed, "notFoundOffers": not_found }))
}

/// `GET /api/v5/store/products`.
pub async fn products(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let page = crm.page(STORE_LIMITS)?;
    let filter = crm.filter()?;
    let mut r = FilterReader::new(&filter, &state.config.zone).noting(&crm.input);
    let sites = check_sites(&crm, &r)?;
    let f = ProductFilter {
        ids: r.ints("ids"),
        offer_ids: r.ints("offerIds"),
        external_ids: r.texts("externalId"),
        offer_external_ids: r.texts("offerExternalId"),
        offer_xml_ids: r.texts("offerXmlId"),
        name: r.text("name"),
        article: r.text("article"),
        min_price: r.decimal("minPrice"),
        max_price: r.decimal("maxPrice"),
        active: r.flag("active"),
        since_id: r.int("sinceId"),
        sites,
        groups: group_ids(&mut r),
        group_external_ids: r.texts("groupExternalId"),
        properties: property_values(&mut r),
    };
    r.finish()?;
    let (rows, total) = state.store.store_products(&f, page).await?;
    let products: Vec<Value> = rows.iter().map(|p| product(p, &crm.books)).collect();
    ok(StatusCode::OK, json!({ "pagination": pagination(page.meta(total)), "products": products }))
}

/// `GET /api/v5/store/offers`.
pub async fn offers(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let page = crm.page(STORE_LIMITS)?;
    let filter = crm.filter()?;
    let mut r = FilterReader::new(&filter, &state.config.zone).noting(&crm.input);
    let sites = check_sites(&crm, &r)?;
    let f = OfferFilter {
        ids: r.ints("ids"),
        external_ids: r.texts("externalIds"),
        xml_ids: r.texts("xmlIds"),
        name: r.text("name"),
        active: r.flag("active"),
        min_price: r.decimal("minPrice"),
        max_price: r.decimal("maxPrice"),
        since_id: r.int("sinceId"),
        sites,
        groups: group_ids(&mut r),
        properties: property_values(&mut r),
    };
    r.finish()?;
    let (rows, total) = state.store.store_offers(&f, page).await?;
    let offers: Vec<Value> = rows
        .iter()
        .map(|(o, p)| {
            let mut m = offer(o, &crm.books);
            let mut prod = Map::new();
            prod.insert("id".into(), json!(p.id));
            put(&mut prod, "externalId", p.external_id.clone());
            prod.insert("name".into(), json!(p.name));
            put(&mut prod, "manufacturer", p.manufacturer.clone());
            m.insert("product".into(), Value::Object(prod));
            Value::Object(m)
        })
        .collect();
    ok(StatusCode::OK, json!({ "pagination": pagination(page.meta(total)), "offers": offers }))
}

/// `POST /api/v5/store/products/batch/create`.
pub async fn batch_create(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let docs = crm.json_list("products", BATCH_CAP)?;
    let batch = parse_all(&docs, "products", Product::from_new)?;
    let added = state.store.create_products(&batch, &crm.sites).await?;
    ok(StatusCode::OK, json!({ "processedProductsCount": added.len(), "addedProducts": added }))
}

/// `POST /api/v5/store/products/batch/edit`.
pub async fn batch_edit(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let docs = crm.json_list("products", BATCH_CAP)?;
    let batch = parse_all(&docs, "products", |doc, path| Ok((ProductRef::parse(doc, path)?, doc.clone())))?;
    let out = state.store.edit_products(&batch, &crm.sites).await?;
    let not_found: Vec<Value> = out
        .not_found
        .iter()
        .map(|&i| match &batch[i].0 {
            // The official Go client reads both as strings (`ProductEditNotFoundResponse`).
            ProductRef::Id(id) => json!({ "id": id.to_string() }),
            ProductRef::ExternalId(e) => json!({ "externalId": e }),
        })
        .collect();
    ok(StatusCode::OK, json!({ "processedProductsCount": out.processed, "notFoundProducts": not_found }))
}
