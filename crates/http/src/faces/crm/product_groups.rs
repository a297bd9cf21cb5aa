//! Product groups (`store/product-groups`: list, create, edit) and the product properties the
//! catalogue's offers carry (`store/products/properties`, `…/properties/values`).

use super::entities;
use super::scope::{STORE_READ, STORE_WRITE};
use super::{Crm, CrmError, CrmResult, FilterReader, ok, pagination};
use crate::AppState;
use crate::kit::{BY, Field, Kind, Route, SITE, paging};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use torg_domain::page::STORE_LIMITS;
use torg_domain::{DomainError, FieldErrors};
use torg_store::{
    GroupRef, ProductGroup, ProductGroupFilter, ProductGroupLookup, ProductGroupPatch, ProductProperty, PropertyFilter,
    StoreError,
};

/// Longest name, external id or code.
const SHORT: usize = 255;
/// Longest description.
const LONG: usize = 65_535;

/// The `filter[…]` keys of `GET /api/v5/store/product-groups` and what each holds.
pub(super) const LIST_FILTER: &[(&str, Kind)] = &[
    ("sites", Kind::Texts),
    ("ids", Kind::Integers),
    ("active", Kind::Boolean),
    ("parentGroupId", Kind::Integer),
    ("minLevel", Kind::Integer),
    ("maxLevel", Kind::Integer),
];

/// The `filter[…]` keys of `GET /api/v5/store/products/properties` and what each holds.
pub(super) const PROPERTIES_FILTER: &[(&str, Kind)] =
    &[("sites", Kind::Texts), ("groups", Kind::Integers), ("name", Kind::Text), ("code", Kind::Text)];

/// The `filter[…]` keys of `GET /api/v5/store/products/properties/values` and what each holds.
pub(super) const PROPERTY_VALUES_FILTER: &[(&str, Kind)] =
    &[("sites", Kind::Texts), ("groups", Kind::Integers), ("propertyName", Kind::Text), ("propertyCode", Kind::Text)];

/// Routes of the group.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/api/v5/store/product-groups", STORE_READ, list)
            .doc("store", "list_product_groups", "Product groups, filtered and paged")
            .answers(&[Field::object("pagination").required(), Field::new("productGroup", Kind::Any).required()])
            .fields(&[Field::filter(LIST_FILTER)])
            .fields(&paging(STORE_LIMITS)),
        Route::post("/api/v5/store/product-groups/create", STORE_WRITE, create)
            .idempotent()
            .doc("store", "create_product_group", "Create a product group")
            .answers(&[Field::int("id").required()])
            .fields(&[Field::entity("productGroup", entities::PRODUCT_GROUP).required(), SITE]),
        Route::post("/api/v5/store/product-groups/{externalId}/edit", STORE_WRITE, edit)
            .doc("store", "edit_product_group", "Change a product group's given fields, by externalId or id (`by`)")
            .answers(&[Field::int("id").required()])
            .fields(&[SITE, Field::entity("productGroup", entities::PRODUCT_GROUP).required(), BY]),
        Route::get("/api/v5/store/products/properties", STORE_READ, properties)
            .doc("store", "list_product_properties", "Properties the offers carry")
            .answers(&[Field::object("pagination").required(), Field::new("properties", Kind::Any).required()])
            .fields(&[Field::filter(PROPERTIES_FILTER)])
            .fields(&paging(STORE_LIMITS)),
        Route::get("/api/v5/store/products/properties/values", STORE_READ, property_values)
            .doc("store", "list_product_property_values", "Values of the offers' properties, with offer counts")
            .answers(&[
                Field::object("pagination").required(),
                Field::new("productPropertyValues", Kind::Any).required(),
            ])
            .fields(&[Field::filter(PROPERTY_VALUES_FILTER)])
            .fields(&paging(STORE_LIMITS)),
    ]
}

/// A group as `productGroup` lists it.
fn group(g: &ProductGroup) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(g.id));
    if let Some(p) = g.parent_id {
        m.insert("parentId".into(), json!(p));
    }
    if let Some(p) = &g.parent_external_id {
        m.insert("parentExternalId".into(), json!(p));
    }
    m.insert("site".into(), json!(g.site));
    m.insert("name".into(), json!(g.name));
    if let Some(e) = &g.external_id {
        m.insert("externalId".into(), json!(e));
    }
    m.insert("active".into(), json!(g.active));
    m.insert("lvl".into(), json!(g.level));
    if let Some(d) = &g.description {
        m.insert("description".into(), json!(d));
    }
    if let Some(o) = g.ordering {
        m.insert("ordering".into(), json!(o));
    }
    Value::Object(m)
}

/// Reads the `productGroup` document's fields, one message per bad field.
struct Doc<'a> {
    doc: &'a Map<String, Value>,
    errors: FieldErrors,
}

impl Doc<'_> {
    fn fail(&mut self, key: &str, message: &str) {
        self.errors.insert(format!("productGroup.{key}"), message.into());
    }

    /// Absent → `None`; null or blank → `Some(None)`; numbers become text.
    fn text(&mut self, key: &str, max: usize) -> Option<Option<String>> {
        let t = match self.doc.get(key)? {
            Value::Null => return Some(None),
            Value::String(s) => s.trim().to_string(),
            Value::Number(n) => n.to_string(),
            _ => {
                self.fail(key, "This value should be of type string.");
                return None;
            }
        };
        if t.chars().count() > max {
            self.fail(key, &format!("This value is too long. It should have {max} characters or less."));
            return None;
        }
        Some(Some(t).filter(|t| !t.is_empty()))
    }

    /// Absent → `None`; null, blank or 0 → `Some(None)`.
    fn int(&mut self, key: &str) -> Option<Option<i64>> {
        let parsed = match self.doc.get(key)? {
            Value::Null => return Some(None),
            Value::Number(n) => n.as_i64(),
            Value::String(s) if s.trim().is_empty() => return Some(None),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        if parsed.is_none() {
            self.fail(key, "This value should be of type integer.");
        }
        parsed.map(|i| Some(i).filter(|i| *i != 0))
    }

    fn flag(&mut self, key: &str) -> Option<bool> {
        let parsed = match self.doc.get(key)? {
            Value::Null => return None,
            Value::Bool(b) => Some(*b),
            Value::Number(n) => n.as_i64().and_then(|i| [false, true].get(usize::try_from(i).ok()?).copied()),
            Value::String(s) => match s.trim() {
                "1" | "true" => Some(true),
                "0" | "false" => Some(false),
                _ => None,
            },
            _ => None,
        };
        if parsed.is_none() {
            self.fail(key, "This value should be of type boolean.");
        }
        parsed
    }
}

/// The patch a document gives. `externalId` is read only when it is not the edit's address.
fn patch(doc: &Map<String, Value>, external_id_is_data: bool) -> Result<ProductGroupPatch, CrmError> {
    let mut d = Doc { doc, errors: FieldErrors::new() };
    let mut p = ProductGroupPatch::default();
    match d.text("name", SHORT) {
        Some(Some(n)) => p.name = Some(n),
        Some(None) => d.fail("name", "This value should not be blank."),
        None => {}
    }
    if external_id_is_data {
        p.external_id = d.text("externalId", SHORT);
    }
    p.description = d.text("description", LONG);
    p.active = d.flag("active");
    p.ordering = d.int("ordering");
    p.parent = match (d.int("parentId"), d.text("parentExternalId", SHORT)) {
        (Some(Some(id)), _) => Some(Some(GroupRef::Id(id))),
        (_, Some(Some(ext))) => Some(Some(GroupRef::ExternalId(ext))),
        (Some(None), _) | (_, Some(None)) => Some(None),
        (None, None) => None,
    };
    if d.errors.is_empty() { Ok(p) } else { Err(CrmError::entity(d.errors)) }
}

/// The store's per-field messages under `productGroup.`.
fn group_error(e: StoreError) -> CrmError {
    match e {
        StoreError::Domain(DomainError::Invalid(f)) => {
            CrmError::entity(f.into_iter().map(|(k, v)| (format!("productGroup.{k}"), v)).collect())
        }
        other => other.into(),
    }
}

/// `GET /api/v5/store/product-groups`: the list under the singular key `productGroup`, as RetailCRM
/// names it.
pub async fn list(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let page = crm.page(STORE_LIMITS)?;
    let filter = crm.filter()?;
    let mut r = FilterReader::new(&filter, &state.config.zone).noting(&crm.input);
    let wanted = r.texts("sites");
    if wanted.iter().any(|s| !crm.sites.contains(s)) {
        return Err(CrmError::access_denied());
    }
    let f = ProductGroupFilter {
        sites: if wanted.is_empty() { crm.sites.clone() } else { wanted },
        ids: r.ints("ids"),
        active: r.flag("active"),
        parent_id: r.int("parentGroupId"),
        min_level: r.int("minLevel"),
        max_level: r.int("maxLevel"),
    };
    r.finish()?;
    let (groups, total) = state.store.list_product_groups(&f, page).await?;
    let groups: Vec<Value> = groups.iter().map(group).collect();
    ok(StatusCode::OK, json!({ "pagination": pagination(page.meta(total)), "productGroup": groups }))
}

/// The site a document names (`site` in it, else the `site` parameter, else the key's only site).
fn site_of(crm: &Crm, doc: &Map<String, Value>) -> Result<String, CrmError> {
    match doc.get("site").and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) if crm.sites.iter().any(|x| x == s) => Ok(s.to_string()),
        Some(_) => Err(CrmError::access_denied()),
        None => crm.site(),
    }
}

/// `POST /api/v5/store/product-groups/create`: 201 with the group's id.
pub async fn create(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let doc = crm.json_object("productGroup")?;
    let p = patch(&doc, true)?;
    let site = site_of(&crm, &doc)?;
    let id = state.store.create_product_group(&site, &p).await.map_err(group_error)?;
    ok(StatusCode::CREATED, json!({ "id": id }))
}

/// `POST /api/v5/store/product-groups/{externalId}/edit`: by `externalId` on `site` unless `by=id`
/// (the Python client sends `by` only when it is not `externalId`). A group stays on its site.
pub async fn edit(State(state): State<AppState>, Path(uid): Path<String>, crm: Crm) -> CrmResult {
    let doc = crm.json_object("productGroup")?;
    let by_id = crm.by_id()?;
    let p = patch(&doc, by_id)?;
    let lookup = if by_id {
        ProductGroupLookup::Id(uid.parse().map_err(|_| CrmError::not_found())?)
    } else {
        let site = match crm.input.text("site") {
            Some(_) => crm.site()?,
            None => site_of(&crm, &doc)?,
        };
        ProductGroupLookup::ExternalId { site, external_id: uid }
    };
    match state.store.edit_product_group(&lookup, &p, &crm.sites).await {
        Ok(id) => ok(StatusCode::OK, json!({ "id": id })),
        Err(StoreError::Domain(DomainError::NotFound(_))) => Err(CrmError::not_found()),
        Err(e) => Err(group_error(e)),
    }
}

/// A property as PHP's `ProductProperty` has it. The catalogue is every site's, so a property is on
/// each site the key reaches; `groups` are those (`{id, name}`) of the products whose offers carry it.
fn property(p: &ProductProperty, sites: &[String]) -> Value {
    let groups: Vec<Value> = p.groups.iter().map(|(id, name)| json!({ "id": id, "name": name })).collect();
    json!({ "sites": sites, "groups": groups, "code": p.code, "name": p.name, "isNumeric": p.is_numeric,
            "visible": true, "variative": p.variative, "offersCount": p.offers_count })
}

/// The filter both property lists share; `groups[]` keeps the offers of products in those groups (or
/// below them) on the sites named or reached.
fn property_filter(crm: &Crm, state: &AppState, code: &str, name: &str) -> Result<PropertyFilter, CrmError> {
    let filter = crm.filter()?;
    let mut r = FilterReader::new(&filter, &state.config.zone).noting(&crm.input);
    let wanted = r.texts("sites");
    if wanted.iter().any(|s| !crm.sites.contains(s)) {
        return Err(CrmError::access_denied());
    }
    let f = PropertyFilter {
        code: r.text(code),
        name: r.text(name),
        sites: if wanted.is_empty() { crm.sites.clone() } else { wanted },
        groups: r.ints("groups"),
    };
    r.finish()?;
    Ok(f)
}

/// `GET /api/v5/store/products/properties`.
pub async fn properties(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let page = crm.page(STORE_LIMITS)?;
    let f = property_filter(&crm, &state, "code", "name")?;
    let (list, total) = state.store.product_properties(&f, page).await?;
    let list: Vec<Value> = list.iter().map(|p| property(p, &crm.sites)).collect();
    ok(StatusCode::OK, json!({ "pagination": pagination(page.meta(total)), "properties": list }))
}

/// `GET /api/v5/store/products/properties/values`.
pub async fn property_values(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let page = crm.page(STORE_LIMITS)?;
    let f = property_filter(&crm, &state, "propertyCode", "propertyName")?;
    let (list, total) = state.store.product_property_values(&f, page).await?;
    let list: Vec<Value> = list
        .iter()
        .map(|v| json!({ "property": property(&v.property, &crm.sites), "value": v.value, "offersCount": v.offers_count }))
        .collect();
    ok(StatusCode::OK, json!({ "pagination": pagination(page.meta(total)), "productPropertyValues": list }))
}
