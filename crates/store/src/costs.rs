//! Costs: sums spent on a cost item over a period, optionally of an order or a user, on one site or
//! more (`cost_sites`). A key sees a cost when it reaches one of the cost's sites. Every write is one
//! transaction; on PostgreSQL an edit locks the cost's row first, so concurrent edits take turns.

use crate::db;
use crate::sql::{Arg, Sql, any_of, contains_pattern, text_args};
use crate::{Backend, Store, StoreResult, Tx, json_map};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use torg_domain::DomainError;
use torg_domain::cost::{self, Cost, CostPatch};
use torg_domain::history::Actor;
use torg_domain::money::{from_units, to_units};
use torg_domain::page::{PageRequest, Pagination};

/// Which costs a list shows; empty lists and `None` do not filter.
#[derive(Debug, Clone, Default)]
pub struct CostFilter {
    /// Cost ids.
    pub ids: Vec<i64>,
    /// Costs on one of these sites.
    pub sites: Vec<String>,
    /// Costs of these orders (ids).
    pub order_ids: Vec<i64>,
    /// Costs of these orders (external ids).
    pub order_external_ids: Vec<String>,
    /// Cost of the order with this number.
    pub order_number: Option<String>,
    /// Cost item codes.
    pub cost_items: Vec<String>,
    /// The cost items of the groups asked for (`costGroups`); `Some` of an empty list matches nothing.
    pub group_items: Option<Vec<String>>,
    /// Costs of these users.
    pub users: Vec<i64>,
    /// Costs created by these users.
    pub created_by: Vec<i64>,
    /// The period starts on or after (`Y-m-d`).
    pub date_from: Option<String>,
    /// The period ends on or before (`Y-m-d`).
    pub date_to: Option<String>,
    /// Created at or after (Unix seconds).
    pub created_from: Option<i64>,
    /// Created at or before (Unix seconds).
    pub created_to: Option<i64>,
    /// At least this amount.
    pub min_summ: Option<Decimal>,
    /// At most this amount.
    pub max_summ: Option<Decimal>,
    /// The comment contains (any case).
    pub comment: Option<String>,
}

const SELECT: &str = "SELECT c.id, c.date_from, c.date_to, c.summ, c.cost_item, c.comment, c.created_at, c.created_by,
       c.order_id, o.number AS order_number, o.external_id AS order_external_id, o.site AS order_site, c.user_id,
       c.source
FROM costs c LEFT JOIN orders o ON o.id = c.order_id";

fn cost_from_row(r: &db::Row) -> StoreResult<Cost> {
    let order = crate::tasks::order_link_from_row(r)?;
    Ok(Cost {
        id: r.try_get("id")?,
        date_from: r.try_get("date_from")?,
        date_to: r.try_get("date_to")?,
        summ: from_units(r.try_get("summ")?),
        cost_item: r.try_get("cost_item")?,
        comment: r.try_get("comment")?,
        created_at: r.try_get("created_at")?,
        created_by: r.try_get("created_by")?,
        order,
        user_id: r.try_get("user_id")?,
        sites: Vec::new(),
        source: r.try_get::<Option<String>, _>("source")?.map(|s| json_map(&s)).filter(|m| !m.is_empty()),
    })
}

/// ` AND c.id IN (costs with a site of `sites`)`.
fn visible(q: &mut Sql, sites: &[String]) {
    q.push(" AND c.id IN (SELECT cost_id FROM cost_sites WHERE site IN ").bind_list(text_args(sites)).push(")");
}

fn not_found() -> crate::StoreError {
    DomainError::NotFound("cost".into()).into()
}

impl Store {
    /// Fills each cost's `sites` (in code order).
    async fn attach_cost_sites<'e>(&self, exec: impl Into<db::Exec<'e>>, costs: &mut [Cost]) -> StoreResult<()> {
        if costs.is_empty() {
            return Ok(());
        }
        let mut q = Sql::new("SELECT cost_id, site FROM cost_sites WHERE cost_id IN ");
        q.bind_list(costs.iter().map(|c| Arg::Int(c.id))).push(" ORDER BY cost_id, site");
        let rows: Vec<(i64, String)> = q.query_as().fetch_all(exec).await?;
        let mut by_cost: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        for (id, site) in rows {
            by_cost.entry(id).or_default().push(site);
        }
        for c in costs {
            c.sites = by_cost.remove(&c.id).unwrap_or_default();
        }
        Ok(())
    }

    /// The cost `id` inside a write (its row locked on PostgreSQL), if a key reaching `sites` sees it.
    async fn cost_in(&self, tx: &mut Tx, id: i64, sites: &[String]) -> StoreResult<Option<Cost>> {
        if self.backend() == Backend::Postgres {
            db::query("SELECT id FROM costs WHERE id = $1 FOR UPDATE").bind(id).fetch_optional(&mut **tx).await?;
        }
        let mut q = Sql::new(SELECT);
        q.push(" WHERE c.id = ").bind(Arg::Int(id));
        visible(&mut q, sites);
        let Some(row) = q.query().fetch_optional(&mut **tx).await? else { return Ok(None) };
        let mut costs = vec![cost_from_row(&row)?];
        self.attach_cost_sites(&mut **tx, &mut costs).await?;
        Ok(costs.pop())
    }

    /// `old` with the patch laid over it, its references resolved and checked against the books.
    async fn patched_cost(
        &self,
        tx: &mut Tx,
        old: &Cost,
        p: &CostPatch,
        site: Option<&str>,
        sites: &[String],
    ) -> StoreResult<Cost> {
        let mut new = old.patched(p, cost::DOCUMENT).map_err(DomainError::Invalid)?;
        match &p.order {
            Some(Some(r)) => new.order = Some(self.order_link_in(tx, r, site, sites, cost::ORDER_AT).await?),
            Some(None) => new.order = None,
            None => {}
        }
        if let Some(u) = new.user_id.filter(|_| p.user_id.is_some()) {
            self.check_user_in(tx, u, cost::USER_AT).await?;
        }
        match &p.sites {
            Some(given) => {
                cost::check_sites(given, sites)?;
                new.sites.clone_from(given);
            }
            // An order given without sites: the cost is on the order's site.
            None if new.order != old.order && new.order.is_some() => {
                new.sites = new.order.iter().map(|o| o.site.clone()).collect();
            }
            None if new.sites.is_empty() => {
                new.sites = match site {
                    Some(s) => vec![s.to_string()],
                    None => sites.to_vec(),
                };
            }
            None => {}
        }
        new.sites.sort();
        cost::check_has_site(&new.sites)?;
        let books = self.books_in(tx).await?;
        cost::check_item(&new, &books)?;
        Ok(new)
    }

    /// Writes the cost's row and sites (insert when its id is 0); returns its id.
    async fn write_cost_row(&self, tx: &mut Tx, c: &Cost, now: i64) -> StoreResult<i64> {
        let order = c.order.as_ref().map(|o| o.id);
        let source = c.source.as_ref().map(|s| serde_json::Value::Object(s.clone()).to_string());
        let comment_lower = c.comment.as_ref().map(|s| s.to_lowercase());
        let id = if c.id == 0 {
            db::query_scalar::<i64>(
                "INSERT INTO costs (date_from, date_to, summ, cost_item, comment, comment_lower, order_id, user_id,
                 source, created_at, updated_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                 RETURNING id",
            )
            .bind(&c.date_from)
            .bind(&c.date_to)
            .bind(to_units(c.summ))
            .bind(&c.cost_item)
            .bind(&c.comment)
            .bind(comment_lower)
            .bind(order)
            .bind(c.user_id)
            .bind(source)
            .bind(c.created_at)
            .bind(now)
            .bind(c.created_by)
            .fetch_one(&mut **tx)
            .await?
        } else {
            db::query(
                "UPDATE costs SET date_from = $1, date_to = $2, summ = $3, cost_item = $4, comment = $5,
                 comment_lower = $6, order_id = $7, user_id = $8, source = $9, updated_at = $10 WHERE id = $11",
            )
            .bind(&c.date_from)
            .bind(&c.date_to)
            .bind(to_units(c.summ))
            .bind(&c.cost_item)
            .bind(&c.comment)
            .bind(comment_lower)
            .bind(order)
            .bind(c.user_id)
            .bind(source)
            .bind(now)
            .bind(c.id)
            .execute(&mut **tx)
            .await?;
            db::query("DELETE FROM cost_sites WHERE cost_id = $1").bind(c.id).execute(&mut **tx).await?;
            c.id
        };
        for s in &c.sites {
            db::query("INSERT INTO cost_sites (cost_id, site) VALUES ($1, $2)")
                .bind(id)
                .bind(s)
                .execute(&mut **tx)
                .await?;
        }
        Ok(id)
    }

    /// Creates a cost. `site` is where an order's external id is looked up and, when neither the
    /// document's `sites` nor an order says otherwise, the cost's site; without it the cost is on every
    /// site of `sites` (the sites the caller reaches).
    pub async fn create_cost(
        &self,
        patch: &CostPatch,
        site: Option<&str>,
        actor: Actor,
        sites: &[String],
    ) -> StoreResult<Cost> {
        patch.check_new(cost::DOCUMENT).map_err(DomainError::Invalid)?;
        let now = torg_domain::time::now();
        let created_by = match actor {
            Actor::User(u) => u,
            _ => None,
        };
        let mut tx = self.begin().await?;
        let blank = Cost { created_at: now, created_by, ..Cost::default() };
        let mut cost = self.patched_cost(&mut tx, &blank, patch, site, sites).await?;
        cost.id = self.write_cost_row(&mut tx, &cost, now).await?;
        tx.commit().await?;
        Ok(cost)
    }

    /// Changes the given fields of cost `id`; not found unless a key reaching `sites` sees it.
    pub async fn edit_cost(
        &self,
        id: i64,
        patch: &CostPatch,
        site: Option<&str>,
        sites: &[String],
    ) -> StoreResult<Cost> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        let old = self.cost_in(&mut tx, id, sites).await?.ok_or_else(not_found)?;
        let new = self.patched_cost(&mut tx, &old, patch, site, sites).await?;
        if new != old {
            self.write_cost_row(&mut tx, &new, now).await?;
            tx.commit().await?;
        }
        Ok(new)
    }

    /// One cost, if a key reaching `sites` sees it.
    pub async fn get_cost(&self, id: i64, sites: &[String]) -> StoreResult<Option<Cost>> {
        let mut q = Sql::new(SELECT);
        q.push(" WHERE c.id = ").bind(Arg::Int(id));
        visible(&mut q, sites);
        let Some(row) = q.query().fetch_optional(self.reader()).await? else { return Ok(None) };
        let mut costs = vec![cost_from_row(&row)?];
        self.attach_cost_sites(self.reader(), &mut costs).await?;
        Ok(costs.pop())
    }

    /// A page of the costs a key reaching `sites` sees, newest first.
    pub async fn list_costs(
        &self,
        f: &CostFilter,
        sites: &[String],
        page: PageRequest,
    ) -> StoreResult<(Vec<Cost>, Pagination)> {
        let mut wh = Sql::new(" WHERE 1 = 1");
        visible(&mut wh, sites);
        if !f.sites.is_empty() {
            visible(&mut wh, &f.sites);
        }
        any_of(&mut wh, "c.id", f.ids.iter().copied().map(Arg::Int).collect());
        any_of(&mut wh, "c.order_id", f.order_ids.iter().copied().map(Arg::Int).collect());
        any_of(&mut wh, "o.external_id", text_args(&f.order_external_ids));
        any_of(&mut wh, "c.cost_item", text_args(&f.cost_items));
        if let Some(items) = &f.group_items {
            wh.push(" AND c.cost_item IN ").bind_list(text_args(items));
        }
        any_of(&mut wh, "c.user_id", f.users.iter().copied().map(Arg::Int).collect());
        any_of(&mut wh, "c.created_by", f.created_by.iter().copied().map(Arg::Int).collect());
        for (column, value) in
            [("o.number = ", &f.order_number), ("c.date_from >= ", &f.date_from), ("c.date_to <= ", &f.date_to)]
        {
            if let Some(v) = value {
                wh.push(" AND ").push(column).bind(Arg::Text(v.clone()));
            }
        }
        for (column, value) in [
            ("c.created_at >= ", f.created_from),
            ("c.created_at <= ", f.created_to),
            ("c.summ >= ", f.min_summ.map(to_units)),
            ("c.summ <= ", f.max_summ.map(to_units)),
        ] {
            if let Some(v) = value {
                wh.push(" AND ").push(column).bind(Arg::Int(v));
            }
        }
        if let Some(t) = &f.comment {
            wh.push(" AND c.comment_lower LIKE ")
                .bind(Arg::Text(contains_pattern(&t.to_lowercase())))
                .push(" ESCAPE '\\'");
        }
        let (total,): (i64,) = wh
            .with_prefix("SELECT COUNT(*) FROM costs c LEFT JOIN orders o ON o.id = c.order_id")
            .query_as()
            .fetch_one(self.reader())
            .await?;
        let mut select = wh.with_prefix(SELECT);
        select.push(" ORDER BY c.id DESC");
        crate::sql::page(&mut select, page.limit, page.offset());
        let rows = select.query().fetch_all(self.reader()).await?;
        let mut costs = rows.iter().map(cost_from_row).collect::<StoreResult<Vec<_>>>()?;
        self.attach_cost_sites(self.reader(), &mut costs).await?;
        Ok((costs, page.meta(total.max(0) as u64)))
    }

    /// Deletes the costs of `ids` a key reaching `sites` sees, in one transaction; returns how many went
    /// and the ids that were not there (or not seen), in the order given.
    pub async fn delete_costs(&self, ids: &[i64], sites: &[String]) -> StoreResult<(u64, Vec<i64>)> {
        let mut tx = self.begin().await?;
        let mut q = Sql::new("SELECT c.id FROM costs c WHERE c.id IN ");
        q.bind_list(ids.iter().copied().map(Arg::Int));
        visible(&mut q, sites);
        if self.backend() == Backend::Postgres {
            q.push(" FOR UPDATE");
        }
        let found: Vec<(i64,)> = q.query_as().fetch_all(&mut *tx).await?;
        let found: Vec<i64> = found.into_iter().map(|(id,)| id).collect();
        if !found.is_empty() {
            for table in ["DELETE FROM cost_sites WHERE cost_id IN ", "DELETE FROM costs WHERE id IN "] {
                let mut d = Sql::new(table);
                d.bind_list(found.iter().copied().map(Arg::Int));
                d.query().execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
        let mut missing: Vec<i64> = Vec::new();
        for id in ids {
            if !found.contains(id) && !missing.contains(id) {
                missing.push(*id);
            }
        }
        Ok((found.len() as u64, missing))
    }
}
