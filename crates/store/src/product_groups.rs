//! Product groups (a tree per site) and the product properties the catalogue's offers carry.
//!
//! Properties have no table of their own: they are what the `properties` member of offers' and
//! products' attributes holds (a map of code to value, or a list of `{code, name, value}`), read and
//! counted per request from the rows that carry any (a partial index finds them).

use crate::sql::{Arg, Sql};
use crate::{Store, StoreResult, Tx, flag, json_map};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use torg_domain::DomainError;
use torg_domain::page::PageRequest;

/// A product group.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProductGroup {
    /// Internal id.
    pub id: i64,
    /// Site code.
    pub site: String,
    /// External id, unique on the site.
    pub external_id: Option<String>,
    /// Parent group, if any.
    pub parent_id: Option<i64>,
    /// The parent's external id.
    pub parent_external_id: Option<String>,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Whether it is shown.
    pub active: bool,
    /// Position among its siblings.
    pub ordering: Option<i64>,
    /// Depth in the tree, 1 at the top.
    pub level: i64,
}

/// How a write names a group's parent (on the group's own site): the domain's way of naming a group.
pub use torg_domain::product::ProductGroupRef as GroupRef;

/// The fields a create or edit gives: `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProductGroupPatch {
    /// Name (required on create).
    pub name: Option<String>,
    /// External id.
    pub external_id: Option<Option<String>>,
    /// Parent (`Some(None)`: top level).
    pub parent: Option<Option<GroupRef>>,
    /// Description.
    pub description: Option<Option<String>>,
    /// Whether it is shown.
    pub active: Option<bool>,
    /// Position among its siblings.
    pub ordering: Option<Option<i64>>,
}

/// How an edit names its group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProductGroupLookup {
    /// By internal id.
    Id(i64),
    /// By external id on a site.
    ExternalId {
        /// Site code.
        site: String,
        /// External id.
        external_id: String,
    },
}

/// Filters of the group list; empty lists and `None` do not filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProductGroupFilter {
    /// Only groups on these sites (always set: the sites the caller reaches).
    pub sites: Vec<String>,
    /// Group ids.
    pub ids: Vec<i64>,
    /// Shown or hidden groups.
    pub active: Option<bool>,
    /// Children of this group.
    pub parent_id: Option<i64>,
    /// Depth at least.
    pub min_level: Option<i64>,
    /// Depth at most.
    pub max_level: Option<i64>,
}

/// A product property, as the offers carrying it define it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProductProperty {
    /// Code.
    pub code: String,
    /// Name (the first one given; the code when none is).
    pub name: String,
    /// Every value is a number.
    pub is_numeric: bool,
    /// Its value tells a product's offers apart (two offers of one product differ in it).
    pub variative: bool,
    /// Offers carrying it.
    pub offers_count: u64,
    /// (id, name) of the groups, on the sites asked for, of the products whose offers carry it, by id.
    pub groups: Vec<(i64, String)>,
}

/// One value of a property and how many offers carry it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PropertyValue {
    /// The property.
    pub property: ProductProperty,
    /// The value.
    pub value: String,
    /// Offers carrying this value.
    pub offers_count: u64,
}

/// Filters of properties and property values; `None` does not filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PropertyFilter {
    /// Code, exact.
    pub code: Option<String>,
    /// Substring of the name, any case.
    pub name: Option<String>,
    /// Sites whose groups count (always set: the sites the caller reaches or names).
    pub sites: Vec<String>,
    /// Only offers of products in one of these groups or below them.
    pub groups: Vec<i64>,
}

type GroupRow =
    (i64, String, Option<String>, Option<i64>, Option<String>, String, Option<String>, i64, Option<i64>, i64);

const GROUP_SELECT: &str =
    "SELECT g.id, g.site, g.external_id, g.parent_id, pg.external_id AS parent_external_id, g.name,
       g.description, g.active, g.ordering, g.lvl
FROM product_groups g LEFT JOIN product_groups pg ON pg.id = g.parent_id";

fn group_from_row(r: GroupRow) -> ProductGroup {
    let (id, site, external_id, parent_id, parent_external_id, name, description, active, ordering, level) = r;
    ProductGroup {
        id,
        site,
        external_id,
        parent_id,
        parent_external_id,
        name,
        description,
        active: flag(active),
        ordering,
        level,
    }
}

/// One offer's properties: code → (name, value).
type Properties = BTreeMap<String, (Option<String>, String)>;

/// Reads the `properties` member of an attributes document: `{code: value}`, `{code: {name, value}}`
/// or `[{code, name, value}]`; values that are not text, numbers or flags are skipped.
fn properties_of(attrs: &str) -> Properties {
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    let entry = |code: Option<String>, v: &Value| -> Option<(String, (Option<String>, String))> {
        match v {
            Value::Object(m) => {
                let code = code.or_else(|| m.get("code").and_then(text))?;
                let name = m.get("name").and_then(text);
                Some((code, (name, m.get("value").and_then(text)?)))
            }
            other => Some((code?, (None, text(other)?))),
        }
    };
    let mut out = Properties::new();
    match json_map(attrs).get("properties") {
        Some(Value::Object(m)) => out.extend(m.iter().filter_map(|(k, v)| entry(Some(k.clone()), v))),
        Some(Value::Array(a)) => out.extend(a.iter().filter_map(|v| entry(None, v))),
        _ => {}
    }
    out
}

impl Store {
    /// A page of groups in id order, and the size of the filtered set.
    pub async fn list_product_groups(
        &self,
        f: &ProductGroupFilter,
        page: PageRequest,
    ) -> StoreResult<(Vec<ProductGroup>, u64)> {
        let mut wh = Sql::new(" WHERE g.site IN ");
        wh.bind_list(f.sites.iter().cloned().map(Arg::Text));
        if !f.ids.is_empty() {
            wh.push(" AND g.id IN ").bind_list(f.ids.iter().copied().map(Arg::Int));
        }
        if let Some(a) = f.active {
            wh.push(" AND g.active = ").bind(Arg::Int(i64::from(a)));
        }
        for (condition, value) in
            [(" AND g.parent_id = ", f.parent_id), (" AND g.lvl >= ", f.min_level), (" AND g.lvl <= ", f.max_level)]
        {
            if let Some(v) = value {
                wh.push(condition).bind(Arg::Int(v));
            }
        }
        let (total,): (i64,) =
            wh.with_prefix("SELECT COUNT(*) FROM product_groups g").query_as().fetch_one(self.reader()).await?;
        let mut list = wh.with_prefix(GROUP_SELECT);
        list.push(" ORDER BY g.id");
        crate::sql::page(&mut list, page.limit, page.offset());
        let rows: Vec<GroupRow> = list.query_as().fetch_all(self.reader()).await?;
        Ok((rows.into_iter().map(group_from_row).collect(), u64::try_from(total).unwrap_or(0)))
    }

    async fn group_in(&self, tx: &mut Tx, id: i64) -> StoreResult<Option<ProductGroup>> {
        let row: Option<GroupRow> =
            crate::db::query_as(format!("{GROUP_SELECT} WHERE g.id = $1")).bind(id).fetch_optional(&mut **tx).await?;
        Ok(row.map(group_from_row))
    }

    async fn group_id_in(&self, tx: &mut Tx, site: &str, external_id: &str) -> StoreResult<Option<i64>> {
        Ok(crate::db::query_scalar("SELECT id FROM product_groups WHERE site = $1 AND external_id = $2")
            .bind(site)
            .bind(external_id)
            .fetch_optional(&mut **tx)
            .await?)
    }

    /// Lays `patch` over `g` (on `g.site`), checking the external id and the parent; `g.id` is 0 for a
    /// new group.
    async fn patched_group(
        &self,
        tx: &mut Tx,
        mut g: ProductGroup,
        patch: &ProductGroupPatch,
    ) -> StoreResult<ProductGroup> {
        if let Some(name) = &patch.name {
            g.name = name.clone();
        }
        torg_domain::product::check_group_name(&g.name)?;
        if let Some(ext) = &patch.external_id {
            g.external_id = ext.clone();
        }
        if let Some(ext) = &g.external_id
            && self.group_id_in(tx, &g.site, ext).await?.is_some_and(|other| other != g.id)
        {
            return Err(torg_domain::product::group_external_id_taken().into());
        }
        if let Some(d) = &patch.description {
            g.description = d.clone();
        }
        if let Some(a) = patch.active {
            g.active = a;
        }
        if let Some(o) = patch.ordering {
            g.ordering = o;
        }
        match &patch.parent {
            None => {}
            Some(None) => {
                g.parent_id = None;
                g.parent_external_id = None;
            }
            Some(Some(r)) => {
                let id = match r {
                    GroupRef::Id(id) => Some(*id),
                    GroupRef::ExternalId(e) => self.group_id_in(tx, &g.site, e).await?,
                };
                let parent = match id {
                    Some(id) => self.group_in(tx, id).await?.filter(|p| p.site == g.site),
                    None => None,
                };
                let Some(parent) = parent else {
                    return Err(torg_domain::product::unknown_parent_group(r, &g.site).into());
                };
                // The parent's line up to the top, for the domain's check that the group is not in it.
                let mut ancestors = Vec::new();
                let mut up = Some(parent.clone());
                while let Some(a) = up {
                    ancestors.push(a.id);
                    up = match a.parent_id {
                        Some(p) => self.group_in(tx, p).await?,
                        None => None,
                    };
                }
                torg_domain::product::check_group_parent(g.id, r, &ancestors)?;
                g.parent_id = Some(parent.id);
                g.parent_external_id = parent.external_id.clone();
                g.level = parent.level + 1;
            }
        }
        if g.parent_id.is_none() {
            g.level = 1;
        }
        Ok(g)
    }

    /// Creates a group on `site`; returns its id.
    pub async fn create_product_group(&self, site: &str, patch: &ProductGroupPatch) -> StoreResult<i64> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        let base = ProductGroup { site: site.to_string(), active: true, level: 1, ..ProductGroup::default() };
        let g = self.patched_group(&mut tx, base, patch).await?;
        let id: i64 = crate::db::query_scalar(
            "INSERT INTO product_groups (site, external_id, parent_id, name, description, active, ordering, lvl,
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
        )
        .bind(&g.site)
        .bind(&g.external_id)
        .bind(g.parent_id)
        .bind(&g.name)
        .bind(&g.description)
        .bind(g.active)
        .bind(g.ordering)
        .bind(g.level)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| crate::StoreError::unique_as(e, torg_domain::product::group_external_id_taken))?;
        tx.commit().await?;
        Ok(id)
    }

    /// Changes the given fields of a group on one of `sites`; returns its id. A group moved to another
    /// parent takes its subtree's depths along.
    pub async fn edit_product_group(
        &self,
        lookup: &ProductGroupLookup,
        patch: &ProductGroupPatch,
        sites: &[String],
    ) -> StoreResult<i64> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        let id = match lookup {
            ProductGroupLookup::Id(id) => Some(*id),
            ProductGroupLookup::ExternalId { site, external_id } => {
                self.group_id_in(&mut tx, site, external_id).await?
            }
        };
        let old = match id {
            Some(id) => self.group_in(&mut tx, id).await?.filter(|g| sites.contains(&g.site)),
            None => None,
        };
        let old = old.ok_or_else(|| DomainError::NotFound("product group".into()))?;
        let g = self.patched_group(&mut tx, old.clone(), patch).await?;
        crate::db::query(
            "UPDATE product_groups SET external_id = $1, parent_id = $2, name = $3, description = $4, active = $5,
             ordering = $6, lvl = $7, updated_at = $8 WHERE id = $9",
        )
        .bind(&g.external_id)
        .bind(g.parent_id)
        .bind(&g.name)
        .bind(&g.description)
        .bind(g.active)
        .bind(g.ordering)
        .bind(g.level)
        .bind(now)
        .bind(g.id)
        .execute(&mut *tx)
        .await
        .map_err(|e| crate::StoreError::unique_as(e, torg_domain::product::group_external_id_taken))?;
        if g.level != old.level {
            // Depths below follow, level by level (trees are shallow).
            let mut parents = vec![g.id];
            let mut level = g.level;
            while !parents.is_empty() {
                level += 1;
                let mut q = Sql::new("UPDATE product_groups SET lvl = ");
                q.bind(Arg::Int(level)).push(" WHERE parent_id IN ").bind_list(parents.iter().copied().map(Arg::Int));
                q.query().execute(&mut *tx).await?;
                let mut q = Sql::new("SELECT id FROM product_groups WHERE parent_id IN ");
                q.bind_list(parents.iter().copied().map(Arg::Int));
                parents = q.query_as::<(i64,)>().fetch_all(&mut *tx).await?.into_iter().map(|r| r.0).collect();
            }
        }
        tx.commit().await?;
        Ok(g.id)
    }

    /// Every offer that carries properties (its own laid over its product's): offer id → (product
    /// id, properties).
    async fn offer_properties(&self) -> StoreResult<HashMap<i64, (i64, Properties)>> {
        let own: Vec<(i64, i64, String)> =
            crate::db::query_as("SELECT id, product_id, attrs FROM offers WHERE attrs LIKE '%\"properties\"%'")
                .fetch_all(self.reader())
                .await?;
        let products: Vec<(i64, String)> =
            crate::db::query_as("SELECT id, attrs FROM products WHERE attrs LIKE '%\"properties\"%'")
                .fetch_all(self.reader())
                .await?;
        let mut out: HashMap<i64, (i64, Properties)> = HashMap::new();
        if !products.is_empty() {
            let by_product: HashMap<i64, Properties> =
                products.iter().map(|(id, attrs)| (*id, properties_of(attrs))).collect();
            let mut q = Sql::new("SELECT id, product_id FROM offers WHERE product_id IN ");
            q.bind_list(by_product.keys().copied().map(Arg::Int));
            for (offer, product) in q.query_as::<(i64, i64)>().fetch_all(self.reader()).await? {
                out.insert(offer, (product, by_product.get(&product).cloned().unwrap_or_default()));
            }
        }
        for (offer, product, attrs) in own {
            out.entry(offer).or_insert_with(|| (product, Properties::new())).1.extend(properties_of(&attrs));
        }
        out.retain(|_, (_, p)| !p.is_empty());
        Ok(out)
    }

    /// The offers whose properties (their own laid over their product's) have every one of `wanted`
    /// (code, value; the value in any case), by id, and their products, by id.
    pub(crate) async fn with_properties(&self, wanted: &[(String, String)]) -> StoreResult<(Vec<i64>, Vec<i64>)> {
        let mut offers = Vec::new();
        let mut products = BTreeSet::new();
        for (offer, (product, props)) in self.offer_properties().await? {
            let has = |(code, value): &(String, String)| {
                props.get(code).is_some_and(|(_, v)| v.to_lowercase() == value.trim().to_lowercase())
            };
            if wanted.iter().all(has) {
                offers.push(offer);
                products.insert(product);
            }
        }
        offers.sort_unstable();
        Ok((offers, products.into_iter().collect()))
    }

    /// The groups on `sites` of each of `products`: product id → (group id, name).
    async fn groups_of(
        &self,
        products: &BTreeSet<i64>,
        sites: &[String],
    ) -> StoreResult<HashMap<i64, Vec<(i64, String)>>> {
        let mut out: HashMap<i64, Vec<(i64, String)>> = HashMap::new();
        if products.is_empty() {
            return Ok(out);
        }
        let mut q = Sql::new(
            "SELECT m.product_id, g.id, g.name FROM product_group_members m JOIN product_groups g ON g.id = m.group_id
             WHERE g.site IN ",
        );
        q.bind_list(sites.iter().cloned().map(Arg::Text))
            .push(" AND m.product_id IN ")
            .bind_list(products.iter().copied().map(Arg::Int));
        for (product, id, name) in q.query_as::<(i64, i64, String)>().fetch_all(self.reader()).await? {
            out.entry(product).or_default().push((id, name));
        }
        Ok(out)
    }

    /// `groups` on `sites` and every group below them.
    async fn groups_below(&self, groups: &[i64], sites: &[String]) -> StoreResult<BTreeSet<i64>> {
        let mut found: BTreeSet<i64> = BTreeSet::new();
        let mut q = Sql::new("SELECT id FROM product_groups WHERE site IN ");
        q.bind_list(sites.iter().cloned().map(Arg::Text))
            .push(" AND id IN ")
            .bind_list(groups.iter().copied().map(Arg::Int));
        let mut level: Vec<i64> =
            q.query_as::<(i64,)>().fetch_all(self.reader()).await?.into_iter().map(|r| r.0).collect();
        // Level by level: trees are shallow, and a parent is always on its child's site.
        while !level.is_empty() {
            found.extend(level.iter().copied());
            let mut q = Sql::new("SELECT id FROM product_groups WHERE parent_id IN ");
            q.bind_list(level.iter().copied().map(Arg::Int));
            level = q
                .query_as::<(i64,)>()
                .fetch_all(self.reader())
                .await?
                .into_iter()
                .map(|r| r.0)
                .filter(|id| !found.contains(id))
                .collect();
        }
        Ok(found)
    }

    /// Every property with its values and their offer counts, by code, over the offers of the products
    /// in `f.groups` (all offers when it names none), with the groups on `f.sites` of their products.
    async fn properties_with_values(
        &self,
        f: &PropertyFilter,
    ) -> StoreResult<Vec<(ProductProperty, BTreeMap<String, u64>)>> {
        let mut offers = self.offer_properties().await?;
        let products: BTreeSet<i64> = offers.values().map(|(p, _)| *p).collect();
        let groups = self.groups_of(&products, &f.sites).await?;
        if !f.groups.is_empty() {
            let wanted = self.groups_below(&f.groups, &f.sites).await?;
            offers.retain(|_, (p, _)| groups.get(p).is_some_and(|gs| gs.iter().any(|(g, _)| wanted.contains(g))));
        }
        let mut props: BTreeMap<String, (ProductProperty, BTreeMap<String, u64>)> = BTreeMap::new();
        // Values per (property, product), to tell which properties set a product's offers apart.
        let mut per_product: HashMap<(String, i64), BTreeSet<String>> = HashMap::new();
        let mut property_groups: HashMap<String, BTreeMap<i64, String>> = HashMap::new();
        for (product, properties) in offers.values() {
            for (code, (name, value)) in properties {
                let (p, values) = props.entry(code.clone()).or_insert_with(|| {
                    (
                        ProductProperty { code: code.clone(), is_numeric: true, ..ProductProperty::default() },
                        BTreeMap::new(),
                    )
                });
                if p.name.is_empty()
                    && let Some(n) = name
                {
                    p.name = n.clone();
                }
                p.offers_count += 1;
                if let Some(gs) = groups.get(product) {
                    property_groups.entry(code.clone()).or_default().extend(gs.iter().cloned());
                }
                p.is_numeric &= value.replace(',', ".").parse::<rust_decimal::Decimal>().is_ok();
                *values.entry(value.clone()).or_default() += 1;
                per_product.entry((code.clone(), *product)).or_default().insert(value.clone());
            }
        }
        for ((code, _), values) in per_product {
            if values.len() > 1
                && let Some((p, _)) = props.get_mut(&code)
            {
                p.variative = true;
            }
        }
        Ok(props
            .into_values()
            .map(|(mut p, v)| {
                if p.name.is_empty() {
                    p.name = p.code.clone();
                }
                p.groups = property_groups.remove(&p.code).map(|g| g.into_iter().collect()).unwrap_or_default();
                (p, v)
            })
            .collect())
    }

    /// A page of the properties offers carry, by code, and the size of the filtered set.
    pub async fn product_properties(
        &self,
        f: &PropertyFilter,
        page: PageRequest,
    ) -> StoreResult<(Vec<ProductProperty>, u64)> {
        let all: Vec<ProductProperty> =
            self.properties_with_values(f).await?.into_iter().map(|(p, _)| p).filter(|p| matches(p, f)).collect();
        Ok(paged(all, page))
    }

    /// A page of property values (by property code, then value) with their offer counts, and the size
    /// of the filtered set.
    pub async fn product_property_values(
        &self,
        f: &PropertyFilter,
        page: PageRequest,
    ) -> StoreResult<(Vec<PropertyValue>, u64)> {
        let all: Vec<PropertyValue> = self
            .properties_with_values(f)
            .await?
            .into_iter()
            .filter(|(p, _)| matches(p, f))
            .flat_map(|(p, values)| {
                values.into_iter().map(move |(value, offers_count)| PropertyValue {
                    property: p.clone(),
                    value,
                    offers_count,
                })
            })
            .collect();
        Ok(paged(all, page))
    }
}

fn matches(p: &ProductProperty, f: &PropertyFilter) -> bool {
    f.code.as_ref().is_none_or(|c| *c == p.code)
        && f.name.as_ref().is_none_or(|n| p.name.to_lowercase().contains(&n.to_lowercase()))
}

fn paged<T>(all: Vec<T>, page: PageRequest) -> (Vec<T>, u64) {
    let total = u64::try_from(all.len()).unwrap_or(u64::MAX);
    let skip = usize::try_from(page.offset()).unwrap_or(usize::MAX);
    let limit = usize::try_from(page.limit).unwrap_or(usize::MAX);
    (all.into_iter().skip(skip).take(limit).collect(), total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_in_every_shape() {
        let p =
            properties_of(r#"{"properties": {"color": "red", "size": {"name": "Размер", "value": 42}, "x": null}}"#);
        assert_eq!(p.get("color"), Some(&(None, "red".to_string())));
        assert_eq!(p.get("size"), Some(&(Some("Размер".to_string()), "42".to_string())));
        assert!(!p.contains_key("x"));
        let p = properties_of(r#"{"properties": [{"code": "w", "name": "Вес", "value": "1,5"}, {"name": "no code"}]}"#);
        assert_eq!(p.len(), 1);
        assert!(properties_of("{}").is_empty() && properties_of("not json").is_empty());
    }
}
