//! Products and offers as the CRM face's store methods take them (docs/crm.md): documents of a
//! batch create or edit, and the entries of stock and price uploads. Everything here is checked field by
//! field, so a message names the exact path (`products[3].offers[0].price`).

use crate::error::{DomainError, FieldErrors};
use crate::money::max_amount;
use crate::order::OfferRef;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::{Map, Value};

/// Longest id, name, article or manufacturer.
const SHORT: usize = 255;
/// Longest URL.
const URL: usize = 2048;
/// Longest description.
const LONG: usize = 65_535;

/// A catalogue product (what offers are variants of).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Product {
    /// Internal id (0 before it is stored).
    pub id: i64,
    /// External id from the integrating system, unique.
    pub external_id: Option<String>,
    /// Name.
    pub name: String,
    /// Article (part number).
    pub article: Option<String>,
    /// Manufacturer (brand).
    pub manufacturer: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Whether it is on sale.
    pub active: bool,
    /// Page on the shop's site.
    pub url: Option<String>,
    /// Picture.
    pub image_url: Option<String>,
    /// Attributes kept as given: `properties` (code → value, or → `{name, value}`), `type`, and the
    /// flags `popular`, `stock`, `novelty`, `recommended`, `markable`.
    pub attrs: Map<String, Value>,
    /// The groups a document put it in (`None`: the document left them as they are).
    pub groups: Option<Vec<ProductGroupRef>>,
}

/// How a product document names a product group: by id or by external id (on one of the caller's sites).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProductGroupRef {
    /// By internal id.
    Id(i64),
    /// By external id.
    ExternalId(String),
}

/// The product flags kept in its attributes.
const PRODUCT_FLAGS: [&str; 5] = ["popular", "stock", "novelty", "recommended", "markable"];

/// An offer to create with a product.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewOffer {
    /// External id, unique.
    pub external_id: Option<String>,
    /// XML id (catalogue feed), unique.
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
    /// Attributes kept as given: `properties`, `images`, `unit` (a unit code), `vatRate`, `weight`,
    /// `length`, `width`, `height`, `barcode`.
    pub attrs: Map<String, Value>,
}

/// A product to create, with its offers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewProduct {
    /// The product.
    pub product: Product,
    /// Its offers (at least one).
    pub offers: Vec<NewOffer>,
    /// Whether the one offer was made from the product because the document listed none (so a problem
    /// with it is reported on the product's fields).
    pub implicit_offer: bool,
}

/// How a batch edit names its product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProductRef {
    /// By internal id.
    Id(i64),
    /// By external id.
    ExternalId(String),
}

/// Stock of one offer at one store, as an inventories upload gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreStock {
    /// Store (warehouse) code.
    pub code: String,
    /// Units in stock.
    pub available: i64,
    /// Purchase price at that store.
    pub purchase_price: Option<Decimal>,
}

/// One entry of `store/inventories/upload`.
#[derive(Debug, Clone, PartialEq)]
pub struct StockUpload {
    /// The offer.
    pub offer: OfferRef,
    /// Stock per store.
    pub stores: Vec<StoreStock>,
}

/// One price of a price upload: `None` removes the price of that type.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceChange {
    /// Price-type code.
    pub code: String,
    /// New price, or `None` to remove it.
    pub price: Option<Decimal>,
}

/// One entry of `store/prices/upload`.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceUpload {
    /// The offer.
    pub offer: OfferRef,
    /// Site the entry names, if any.
    pub site: Option<String>,
    /// Prices to set or remove.
    pub prices: Vec<PriceChange>,
}

/// Reads a document's fields, collecting one message per bad field under `path`.
struct Reader<'a, 'e> {
    doc: &'a Map<String, Value>,
    path: &'e str,
    errors: &'e mut FieldErrors,
}

impl<'a> Reader<'a, '_> {
    fn at(&self, key: &str) -> String {
        if self.path.is_empty() { key.to_string() } else { format!("{}.{key}", self.path) }
    }

    fn fail(&mut self, key: &str, message: &str) {
        let at = self.at(key);
        self.errors.entry(at).or_insert_with(|| message.to_string());
    }

    fn given(&self, key: &str) -> bool {
        self.doc.contains_key(key)
    }

    /// A text field: absent → `None`; null or blank → `Some(None)`; numbers become text.
    fn text(&mut self, key: &str, max: usize) -> Option<Option<String>> {
        let v = self.doc.get(key)?;
        let text = match v {
            Value::Null => return Some(None),
            Value::String(s) => s.trim().to_string(),
            Value::Number(n) => n.to_string(),
            _ => {
                self.fail(key, "This value should be of type string.");
                return None;
            }
        };
        if text.chars().count() > max {
            self.fail(key, &format!("This value is too long. It should have {max} characters or less."));
            return None;
        }
        Some(Some(text).filter(|t| !t.is_empty()))
    }

    /// A flag: booleans, 0/1 and their spellings.
    fn flag(&mut self, key: &str) -> Option<bool> {
        let v = self.doc.get(key)?;
        let parsed = match v {
            Value::Null => return None,
            Value::Bool(b) => Some(*b),
            Value::Number(n) => n.as_i64().and_then(|i| match i {
                0 => Some(false),
                1 => Some(true),
                _ => None,
            }),
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "y" | "yes" => Some(true),
                "0" | "false" | "n" | "no" => Some(false),
                _ => None,
            },
            _ => None,
        };
        if parsed.is_none() {
            self.fail(key, "This value should be of type boolean.");
        }
        parsed
    }

    /// An amount: a number from 0 to what storage holds; null reads as absent.
    fn amount(&mut self, key: &str) -> Option<Decimal> {
        let v = self.doc.get(key)?;
        if v.is_null() {
            return None;
        }
        match decimal_of(v) {
            Some(d) if d >= Decimal::ZERO && d <= max_amount() => Some(d),
            Some(_) => {
                self.fail(key, "This value should be between 0 and 900000000000000.");
                None
            }
            None => {
                self.fail(key, "This value should be a number.");
                None
            }
        }
    }

    /// A whole number of units, 0 or more.
    fn count(&mut self, key: &str) -> Option<i64> {
        let v = self.doc.get(key)?;
        if v.is_null() {
            return None;
        }
        match decimal_of(v) {
            Some(d) if d.fract().is_zero() && d >= Decimal::ZERO && d <= Decimal::from(i64::MAX / 10_000) => d.to_i64(),
            Some(d) if d < Decimal::ZERO => {
                self.fail(key, "This value should be greater than or equal to 0.");
                None
            }
            _ => {
                self.fail(key, "This value should be a whole number.");
                None
            }
        }
    }

    /// A list of objects.
    fn objects(&mut self, key: &str) -> Option<Vec<&'a Map<String, Value>>> {
        let v = self.doc.get(key)?;
        let items: Vec<&'a Value> = match v {
            Value::Null => return Some(Vec::new()),
            Value::Array(a) => a.iter().collect(),
            Value::Object(m) => m.values().collect(),
            _ => {
                self.fail(key, "This value should be a list.");
                return None;
            }
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            match item {
                Value::Object(m) => out.push(m),
                _ => self.fail(&format!("{key}[{i}]"), "This value should be an object."),
            }
        }
        Some(out)
    }

    /// The offer an entry names by `id`, `externalId` or `xmlId`.
    fn offer_ref(&mut self) -> Option<OfferRef> {
        let r = OfferRef::parse(&Value::Object(self.doc.clone()));
        if r.is_none() {
            let at = if self.path.is_empty() { "offer".to_string() } else { self.path.to_string() };
            self.errors.entry(at).or_insert_with(|| "One of id, externalId or xmlId is required.".to_string());
        }
        r
    }

    /// `properties`: `{code: value}`, `{code: {name, value}}` or `[{code, name, value}]`, kept as `{code:
    /// value}` or, with a name, `{code: {name, value}}`; null clears them.
    fn properties(&mut self, key: &str) -> Option<Value> {
        let v = self.doc.get(key)?;
        let entries: Vec<(Option<String>, &Value)> = match v {
            Value::Null => return Some(Value::Object(Map::new())),
            Value::Object(m) => m.iter().map(|(k, v)| (Some(k.clone()), v)).collect(),
            Value::Array(a) => a.iter().map(|v| (None, v)).collect(),
            _ => {
                self.fail(key, "This value should be an object.");
                return None;
            }
        };
        let scalar = |v: Option<&Value>| match v {
            Some(Value::String(s)) => Some(s.trim().to_string()),
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(Value::Bool(b)) => Some(b.to_string()),
            _ => None,
        };
        let mut out = Map::new();
        for (i, (code, v)) in entries.into_iter().enumerate() {
            let (code, name, value) = match v {
                Value::Object(m) => {
                    (code.or_else(|| scalar(m.get("code"))), scalar(m.get("name")), scalar(m.get("value")))
                }
                other => (code, None, scalar(Some(other))),
            };
            let at = format!("{key}[{}]", code.clone().unwrap_or_else(|| i.to_string()));
            match (code.filter(|c| !c.is_empty() && c.chars().count() <= SHORT), value) {
                (Some(code), Some(value)) if value.chars().count() <= SHORT => {
                    let kept = match name.filter(|n| !n.is_empty()) {
                        Some(name) => serde_json::json!({ "name": name, "value": value }),
                        None => Value::String(value),
                    };
                    out.insert(code, kept);
                }
                (None, _) => self.fail(&at, "A property needs a code of 1 to 255 characters."),
                (Some(_), _) => self.fail(&at, "A property value should be text of 255 characters or less."),
            }
        }
        Some(Value::Object(out))
    }

    /// `groups`: `[{id} | {externalId}]`.
    fn groups(&mut self, key: &str) -> Option<Vec<ProductGroupRef>> {
        let docs = self.objects(key)?;
        let mut out = Vec::with_capacity(docs.len());
        for (i, g) in docs.into_iter().enumerate() {
            let id = match g.get("id") {
                Some(Value::Number(n)) => n.as_i64(),
                Some(Value::String(s)) => s.trim().parse().ok(),
                _ => None,
            };
            let ext = match g.get("externalId") {
                Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            };
            match (id, ext) {
                (Some(id), _) => out.push(ProductGroupRef::Id(id)),
                (None, Some(e)) => out.push(ProductGroupRef::ExternalId(e)),
                (None, None) => self.fail(&format!("{key}[{i}]"), "One of id or externalId is required."),
            }
        }
        Some(out)
    }

    /// The attributes an offer keeps (`images`, `unit`, `vatRate`, dimensions, `barcode`) and its
    /// `properties`, from this document.
    fn offer_attrs(&mut self, with_properties: bool) -> Map<String, Value> {
        let mut m = Map::new();
        if with_properties
            && let Some(p) = self.properties("properties").filter(|p| p.as_object().is_some_and(|p| !p.is_empty()))
        {
            m.insert("properties".into(), p);
        }
        match self.doc.get("images") {
            None | Some(Value::Null) => {}
            Some(Value::Array(a)) => {
                let mut urls = Vec::with_capacity(a.len());
                for (i, v) in a.iter().enumerate() {
                    match v.as_str().map(str::trim) {
                        Some(u) if !u.is_empty() && u.chars().count() <= URL => urls.push(Value::String(u.into())),
                        _ => self.fail(&format!("images[{i}]"), "An image should be a URL of 2048 characters or less."),
                    }
                }
                m.insert("images".into(), Value::Array(urls));
            }
            Some(_) => self.fail("images", "This value should be a list."),
        }
        // A unit is given as `{code}` or as its code; the store checks it against the book.
        let unit = match self.doc.get("unit") {
            Some(Value::Object(u)) => u.get("code").and_then(Value::as_str).map(str::trim).map(str::to_owned),
            Some(Value::String(s)) => Some(s.trim().to_string()),
            _ => None,
        };
        match unit {
            Some(code) if !code.is_empty() => {
                m.insert("unit".into(), Value::String(code));
            }
            Some(_) => self.fail("unit", "This value should not be blank."),
            None if self.doc.get("unit").is_some_and(|u| !u.is_null()) => {
                self.fail("unit", "This value should be a unit code.")
            }
            None => {}
        }
        if let Some(v) = self.doc.get("vatRate").filter(|v| !v.is_null()) {
            match vat_rate(v) {
                Some(rate) => {
                    m.insert("vatRate".into(), Value::String(rate));
                }
                None => self.fail("vatRate", "This value should be none or a rate from 0 to 100."),
            }
        }
        for key in ["weight", "length", "width", "height"] {
            if let Some(d) = self.amount(key) {
                m.insert(key.into(), serde_json::json!(d));
            }
        }
        if let Some(Some(b)) = self.text("barcode", SHORT) {
            m.insert("barcode".into(), Value::String(b));
        }
        m
    }

    /// `type` and the product flags, into `attrs`; `properties` too when given.
    fn product_attrs(&mut self, attrs: &mut Map<String, Value>) {
        for key in PRODUCT_FLAGS {
            if let Some(f) = self.flag(key) {
                attrs.insert(key.into(), Value::Bool(f));
            }
        }
        match self.text("type", SHORT) {
            Some(Some(t)) if t == "product" || t == "service" => {
                attrs.insert("type".into(), Value::String(t));
            }
            Some(Some(_)) => {
                self.fail("type", "The value you selected is not a valid choice. Allowed: product, service.")
            }
            _ => {}
        }
        if let Some(p) = self.properties("properties") {
            attrs.insert("properties".into(), p);
        }
    }
}

/// A VAT rate: `none`, or a percentage from 0 to 100 (`20`, `10`, `0`), as text.
fn vat_rate(v: &Value) -> Option<String> {
    let text = match v {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    if text == "none" {
        return Some(text);
    }
    let d = text.replace(',', ".").parse::<Decimal>().ok()?;
    (d >= Decimal::ZERO && d <= Decimal::ONE_HUNDRED).then(|| d.normalize().to_string())
}

fn decimal_of(v: &Value) -> Option<Decimal> {
    match v {
        Value::Number(n) => {
            let s = n.to_string();
            s.parse().ok().or_else(|| Decimal::from_scientific(&s).ok())
        }
        Value::String(s) => s.trim().replace(',', ".").parse().ok(),
        _ => None,
    }
}

/// Errors or the value.
fn finish<T>(value: T, errors: FieldErrors) -> Result<T, FieldErrors> {
    if errors.is_empty() { Ok(value) } else { Err(errors) }
}

impl Product {
    /// A new product and its offers from a batch-create document at `path` (`products[3]`). A product
    /// without offers gets one offer with its own external id, name, article and price.
    pub fn from_new(doc: &Map<String, Value>, path: &str) -> Result<NewProduct, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut r = Reader { doc, path, errors: &mut errors };
        let mut p = Product { active: true, ..Product::default() };
        p.external_id = r.text("externalId", SHORT).flatten();
        match r.text("name", SHORT).flatten() {
            Some(n) => p.name = n,
            None if !r.errors.contains_key(&r.at("name")) => r.fail("name", "This value should not be blank."),
            None => {}
        }
        p.article = r.text("article", SHORT).flatten();
        p.manufacturer = r.text("manufacturer", SHORT).flatten();
        p.description = r.text("description", LONG).flatten();
        p.url = r.text("url", URL).flatten();
        p.image_url = r.text("imageUrl", URL).flatten();
        if let Some(a) = r.flag("active") {
            p.active = a;
        }
        r.product_attrs(&mut p.attrs);
        p.groups = r.groups("groups");
        let price = r.amount("price").unwrap_or_default();
        let purchase_price = r.amount("purchasePrice");
        let mut offers = Vec::new();
        let docs = r.objects("offers").unwrap_or_default();
        let implicit_offer = docs.is_empty();
        if implicit_offer {
            // The offer made from the product takes the offer attributes the product document gives;
            // its properties stay the product's (an offer's properties lie over its product's).
            let attrs = r.offer_attrs(false);
            offers.push(NewOffer {
                external_id: p.external_id.clone(),
                xml_id: None,
                name: p.name.clone(),
                article: p.article.clone(),
                price,
                purchase_price,
                active: p.active,
                attrs,
            });
        }
        for (j, o) in docs.into_iter().enumerate() {
            let at = if path.is_empty() { format!("offers[{j}]") } else { format!("{path}.offers[{j}]") };
            let mut r = Reader { doc: o, path: &at, errors: &mut errors };
            offers.push(NewOffer {
                external_id: r.text("externalId", SHORT).flatten(),
                xml_id: r.text("xmlId", SHORT).flatten(),
                name: r.text("name", SHORT).flatten().unwrap_or_else(|| p.name.clone()),
                article: r.text("article", SHORT).flatten().or_else(|| p.article.clone()),
                price: r.amount("price").unwrap_or(price),
                purchase_price: r.amount("purchasePrice").or(purchase_price),
                active: r.flag("active").unwrap_or(p.active),
                attrs: r.offer_attrs(true),
            });
        }
        finish(NewProduct { product: p, offers, implicit_offer }, errors)
    }

    /// A copy with the fields present in an edit document at `path` replaced. `externalId` changes only
    /// when the product is addressed by id (otherwise it is the address).
    pub fn patched(&self, doc: &Map<String, Value>, path: &str, by_id: bool) -> Result<Product, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut r = Reader { doc, path, errors: &mut errors };
        let mut p = self.clone();
        if by_id && let Some(ext) = r.text("externalId", SHORT) {
            p.external_id = ext;
        }
        if r.given("name") {
            match r.text("name", SHORT) {
                Some(Some(n)) => p.name = n,
                Some(None) => r.fail("name", "This value should not be blank."),
                None => {}
            }
        }
        for (key, slot, max) in [
            ("article", &mut p.article, SHORT),
            ("manufacturer", &mut p.manufacturer, SHORT),
            ("description", &mut p.description, LONG),
            ("url", &mut p.url, URL),
            ("imageUrl", &mut p.image_url, URL),
        ] {
            if let Some(v) = r.text(key, max) {
                *slot = v;
            }
        }
        if let Some(a) = r.flag("active") {
            p.active = a;
        }
        r.product_attrs(&mut p.attrs);
        p.groups = r.groups("groups");
        finish(p, errors)
    }
}

impl ProductRef {
    /// Reads `{"id": …}` or `{"externalId": …}` from an edit document at `path`.
    pub fn parse(doc: &Map<String, Value>, path: &str) -> Result<ProductRef, FieldErrors> {
        let id = match doc.get("id") {
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        };
        if let Some(id) = id {
            return Ok(ProductRef::Id(id));
        }
        let ext = match doc.get("externalId") {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        match ext {
            Some(e) => Ok(ProductRef::ExternalId(e)),
            None => Err(FieldErrors::from([(path.to_string(), "One of id or externalId is required.".to_string())])),
        }
    }
}

impl StockUpload {
    /// Reads `{id|externalId|xmlId, stores: [{code, available, purchasePrice}]}` at `path`.
    pub fn from_doc(doc: &Map<String, Value>, path: &str) -> Result<StockUpload, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut r = Reader { doc, path, errors: &mut errors };
        let offer = r.offer_ref();
        let docs = r.objects("stores").unwrap_or_default();
        let mut stores = Vec::with_capacity(docs.len());
        for (j, s) in docs.into_iter().enumerate() {
            let at = format!("{path}.stores[{j}]");
            let mut r = Reader { doc: s, path: &at, errors: &mut errors };
            let code = r.text("code", SHORT).flatten();
            if code.is_none() {
                r.fail("code", "This value should not be blank.");
            }
            let available = r.count("available");
            if available.is_none() && !r.given("available") {
                r.fail("available", "This value should not be blank.");
            }
            let purchase_price = r.amount("purchasePrice");
            if let (Some(code), Some(available)) = (code, available) {
                stores.push(StoreStock { code, available, purchase_price });
            }
        }
        match offer {
            Some(offer) if errors.is_empty() => Ok(StockUpload { offer, stores }),
            _ => Err(errors),
        }
    }
}

impl PriceUpload {
    /// Reads `{id|externalId|xmlId, site, prices: [{code, price, remove}]}` at `path`.
    pub fn from_doc(doc: &Map<String, Value>, path: &str) -> Result<PriceUpload, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut r = Reader { doc, path, errors: &mut errors };
        let offer = r.offer_ref();
        let site = r.text("site", SHORT).flatten();
        let docs = r.objects("prices").unwrap_or_default();
        let mut prices = Vec::with_capacity(docs.len());
        for (j, p) in docs.into_iter().enumerate() {
            let at = format!("{path}.prices[{j}]");
            let mut r = Reader { doc: p, path: &at, errors: &mut errors };
            let code = r.text("code", SHORT).flatten();
            if code.is_none() {
                r.fail("code", "This value should not be blank.");
            }
            let remove = r.flag("remove").unwrap_or(false);
            let price = if remove { None } else { r.amount("price") };
            if !remove && price.is_none() {
                r.fail("price", "This value should not be blank.");
            }
            if let Some(code) = code {
                prices.push(PriceChange { code, price });
            }
        }
        match offer {
            Some(offer) if errors.is_empty() => Ok(PriceUpload { offer, site, prices }),
            _ => Err(errors),
        }
    }
}

// ---- refusals: what a catalogue write names and the store cannot find, or finds taken ----

impl ProductGroupRef {
    /// How a message names the group: `id 5`, `externalId 'g-1'`.
    pub fn describe(&self) -> String {
        match self {
            ProductGroupRef::Id(id) => format!("id {id}"),
            ProductGroupRef::ExternalId(e) => format!("externalId '{e}'"),
        }
    }

    /// The field a group's parent was named by: `parentId` or `parentExternalId`.
    fn parent_field(&self) -> &'static str {
        match self {
            ProductGroupRef::Id(_) => "parentId",
            ProductGroupRef::ExternalId(_) => "parentExternalId",
        }
    }
}

/// The path of the `index`th product of a batch (`products[3]`), which its messages start with.
pub fn batch_path(index: usize) -> String {
    format!("products[{index}]")
}

/// The path of a product's `index`th offer; an offer made from the product itself has the product's.
pub fn offer_path(product: &str, implicit: bool, index: usize) -> String {
    if implicit { product.to_string() } else { format!("{product}.offers[{index}]") }
}

/// Every store an inventories upload names must exist; `known` tells whether a store code does.
pub fn check_upload_stores(entries: &[StockUpload], known: impl Fn(&str) -> bool) -> Result<(), DomainError> {
    let mut errors = FieldErrors::new();
    for (i, e) in entries.iter().enumerate() {
        for (j, s) in e.stores.iter().enumerate() {
            if !known(&s.code) {
                errors.insert(format!("offers[{i}].stores[{j}].code"), format!("Store '{}' does not exist.", s.code));
            }
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(DomainError::Invalid(errors)) }
}

/// Every price type a price upload names must exist; `known` tells whether a type code does.
pub fn check_upload_price_types(entries: &[PriceUpload], known: impl Fn(&str) -> bool) -> Result<(), DomainError> {
    let mut errors = FieldErrors::new();
    for (i, e) in entries.iter().enumerate() {
        for (j, p) in e.prices.iter().enumerate() {
            if !known(&p.code) {
                errors.insert(
                    format!("prices[{i}].prices[{j}].code"),
                    format!("Price type '{}' does not exist.", p.code),
                );
            }
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(DomainError::Invalid(errors)) }
}

/// Another product of a batch write has this external id (`{path}.externalId`).
pub fn external_id_taken_at(path: &str) -> (String, String) {
    (format!("{path}.externalId"), "Product with this externalId already exists.".into())
}

/// Product `other` has this brand and part number already (`{path}.article`).
pub fn article_taken_at(path: &str, other: i64) -> (String, String) {
    (format!("{path}.article"), format!("Product {other} already has this manufacturer and article."))
}

/// A group a product names is not on the caller's sites (`{path}.groups[k]`).
pub fn unknown_group_at(path: &str, index: usize, group: &ProductGroupRef) -> (String, String) {
    (format!("{path}.groups[{index}]"), format!("Product group with {} not found.", group.describe()))
}

/// A group named by external id is on more than one of the caller's sites (`{path}.groups[k]`).
pub fn ambiguous_group_at(path: &str, index: usize, group: &ProductGroupRef) -> (String, String) {
    (
        format!("{path}.groups[{index}]"),
        format!("Product groups with {} are on several sites: give the id.", group.describe()),
    )
}

/// An offer's unit is not in the units book (`{offer path}.unit`).
pub fn unknown_unit_at(offer: &str, code: &str) -> (String, String) {
    (format!("{offer}.unit"), format!("Unit '{code}' does not exist."))
}

/// Another offer (stored, or earlier in the same product) has this external id (`{offer path}.externalId`).
pub fn offer_external_id_taken_at(offer: &str) -> (String, String) {
    (format!("{offer}.externalId"), "Offer with this externalId already exists.".into())
}

/// Another offer (stored, or earlier in the same product) has this XML id (`{offer path}.xmlId`).
pub fn offer_xml_id_taken_at(offer: &str) -> (String, String) {
    (format!("{offer}.xmlId"), "Offer with this xmlId already exists.".into())
}

/// Another product has this external id (a single product's write).
pub fn external_id_taken() -> DomainError {
    DomainError::invalid("externalId", "Product with this externalId already exists.")
}

/// Another offer has this external id (a single offer's write).
pub fn offer_external_id_taken() -> DomainError {
    DomainError::invalid("externalId", "Offer with this externalId already exists.")
}

/// A product group has a name.
pub fn check_group_name(name: &str) -> Result<(), DomainError> {
    if name.is_empty() { Err(DomainError::invalid("name", "This value should not be blank.")) } else { Ok(()) }
}

/// Another group on the site has this external id.
pub fn group_external_id_taken() -> DomainError {
    DomainError::invalid("externalId", "Product group with this externalId already exists.")
}

/// The parent a group names is not on the group's site.
pub fn unknown_parent_group(parent: &ProductGroupRef, site: &str) -> DomainError {
    DomainError::invalid(
        parent.parent_field(),
        format!("Product group with {} not found on site '{site}'.", parent.describe()),
    )
}

/// A group cannot sit under itself or under one of its own descendants; `ancestors` are the ids from
/// the named parent up to the top.
pub fn check_group_parent(group: i64, parent: &ProductGroupRef, ancestors: &[i64]) -> Result<(), DomainError> {
    if group != 0 && ancestors.contains(&group) {
        return Err(DomainError::invalid(parent.parent_field(), "A product group cannot be placed under itself."));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn a_product_without_offers_gets_one_like_itself() {
        let doc = map(json!({"externalId": 42, "name": " Фильтр ", "article": "OC47", "price": "12,5", "active": 0}));
        let NewProduct { product: p, offers, implicit_offer } = Product::from_new(&doc, "products[0]").unwrap();
        assert!(implicit_offer);
        assert_eq!(p.external_id.as_deref(), Some("42"));
        assert_eq!(p.name, "Фильтр");
        assert!(!p.active);
        assert_eq!(offers.len(), 1);
        assert_eq!(offers[0].external_id.as_deref(), Some("42"));
        assert_eq!(offers[0].article.as_deref(), Some("OC47"));
        assert_eq!(offers[0].price, Decimal::new(125, 1));
    }

    #[test]
    fn product_errors_name_their_fields() {
        let doc = map(json!({"offers": [{"price": -1}, 5], "active": "maybe"}));
        let e = Product::from_new(&doc, "products[2]").unwrap_err();
        assert!(e.contains_key("products[2].name"));
        assert!(e.contains_key("products[2].active"));
        assert!(e.contains_key("products[2].offers[0].price"));
        assert!(e.contains_key("products[2].offers[1]"));
    }

    #[test]
    fn edits_change_only_given_fields() {
        let p = Product { id: 1, name: "A".into(), article: Some("X".into()), active: true, ..Product::default() };
        let q = p.patched(&map(json!({"externalId": "e", "description": "d", "article": null})), "products[0]", false);
        let q = q.unwrap();
        assert_eq!(q.external_id, None, "externalId is the address, not a change");
        assert_eq!(q.article, None);
        assert_eq!(q.description.as_deref(), Some("d"));
        assert_eq!(q.name, "A");
        assert!(p.patched(&map(json!({"name": ""})), "products[0]", true).is_err());
        assert_eq!(
            ProductRef::parse(&map(json!({"externalId": "e"})), "p").unwrap(),
            ProductRef::ExternalId("e".into())
        );
        assert!(ProductRef::parse(&map(json!({"name": "x"})), "p").is_err());
    }

    #[test]
    fn uploads() {
        let s = StockUpload::from_doc(
            &map(json!({"externalId": "a", "stores": [{"code": "main", "available": 7, "purchasePrice": 3.2}]})),
            "offers[0]",
        )
        .unwrap();
        assert_eq!(s.stores[0].available, 7);
        let e = StockUpload::from_doc(&map(json!({"stores": [{"code": "main", "available": 1.5}]})), "offers[1]")
            .unwrap_err();
        assert!(e.contains_key("offers[1]") && e.contains_key("offers[1].stores[0].available"), "{e:?}");
        let p = PriceUpload::from_doc(
            &map(json!({"id": 3, "site": "shop", "prices": [{"code": "base", "price": 10}, {"code": "old", "remove": true}]})),
            "prices[0]",
        )
        .unwrap();
        assert_eq!(p.prices[1].price, None);
        assert!(PriceUpload::from_doc(&map(json!({"id": 3, "prices": [{"code": "base"}]})), "prices[0]").is_err());
    }

    #[test]
    fn catalogue_refusals_name_the_field() {
        let path = batch_path(2);
        assert_eq!(path, "products[2]");
        assert_eq!(offer_path(&path, true, 0), "products[2]");
        assert_eq!(offer_path(&path, false, 1), "products[2].offers[1]");
        assert_eq!(
            external_id_taken_at(&path),
            ("products[2].externalId".into(), "Product with this externalId already exists.".into())
        );
        assert_eq!(
            article_taken_at(&path, 17),
            ("products[2].article".into(), "Product 17 already has this manufacturer and article.".into())
        );
        let by_ext = ProductGroupRef::ExternalId("g-1".into());
        assert_eq!(
            unknown_group_at(&path, 0, &ProductGroupRef::Id(5)),
            ("products[2].groups[0]".into(), "Product group with id 5 not found.".into())
        );
        assert_eq!(
            ambiguous_group_at(&path, 1, &by_ext),
            (
                "products[2].groups[1]".into(),
                "Product groups with externalId 'g-1' are on several sites: give the id.".into()
            )
        );
        assert_eq!(
            unknown_unit_at("products[2].offers[0]", "kg"),
            ("products[2].offers[0].unit".into(), "Unit 'kg' does not exist.".into())
        );
        assert_eq!(
            offer_external_id_taken_at("p"),
            ("p.externalId".into(), "Offer with this externalId already exists.".into())
        );
        assert_eq!(offer_xml_id_taken_at("p"), ("p.xmlId".into(), "Offer with this xmlId already exists.".into()));
        assert_eq!(
            external_id_taken(),
            DomainError::invalid("externalId", "Product with this externalId already exists.")
        );
        assert_eq!(
            offer_external_id_taken(),
            DomainError::invalid("externalId", "Offer with this externalId already exists.")
        );
    }

    #[test]
    fn uploads_name_every_unknown_store_and_price_type() {
        let stock = |codes: &[&str]| StockUpload {
            offer: OfferRef::Id(1),
            stores: codes
                .iter()
                .map(|c| StoreStock { code: (*c).into(), available: 1, purchase_price: None })
                .collect(),
        };
        let known = |c: &str| c == "main";
        assert_eq!(check_upload_stores(&[stock(&["main"])], known), Ok(()));
        let Err(DomainError::Invalid(f)) = check_upload_stores(&[stock(&["main"]), stock(&["x", "main", "y"])], known)
        else {
            panic!("unknown stores pass")
        };
        assert_eq!(
            f,
            FieldErrors::from([
                ("offers[1].stores[0].code".into(), "Store 'x' does not exist.".into()),
                ("offers[1].stores[2].code".into(), "Store 'y' does not exist.".into()),
            ])
        );
        let prices = PriceUpload {
            offer: OfferRef::Id(1),
            site: None,
            prices: vec![
                PriceChange { code: "base".into(), price: None },
                PriceChange { code: "vip".into(), price: None },
            ],
        };
        assert_eq!(check_upload_price_types(std::slice::from_ref(&prices), |c| c != "nope"), Ok(()));
        assert_eq!(
            check_upload_price_types(&[prices], |c| c == "base"),
            Err(DomainError::invalid("prices[0].prices[1].code", "Price type 'vip' does not exist."))
        );
    }

    #[test]
    fn a_group_needs_a_name_a_parent_on_its_site_and_no_loop() {
        assert_eq!(check_group_name("Filters"), Ok(()));
        assert_eq!(check_group_name(""), Err(DomainError::invalid("name", "This value should not be blank.")));
        assert_eq!(
            group_external_id_taken(),
            DomainError::invalid("externalId", "Product group with this externalId already exists.")
        );
        assert_eq!(
            unknown_parent_group(&ProductGroupRef::ExternalId("top".into()), "shop"),
            DomainError::invalid("parentExternalId", "Product group with externalId 'top' not found on site 'shop'.")
        );
        let parent = ProductGroupRef::Id(3);
        assert_eq!(check_group_parent(7, &parent, &[3, 2, 1]), Ok(()));
        // A new group (id 0) has no descendants.
        assert_eq!(check_group_parent(0, &parent, &[3, 0]), Ok(()));
        assert_eq!(
            check_group_parent(2, &parent, &[3, 2, 1]),
            Err(DomainError::invalid("parentId", "A product group cannot be placed under itself."))
        );
    }
}
