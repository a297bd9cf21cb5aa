//! History records of orders and customers: written inside the change's transaction, read in id order.

use crate::sql::{Arg, Sql};
use crate::{Store, StoreResult, Tx, flag};
use serde_json::Value;
use std::str::FromStr;
use torg_domain::history::{Actor, Change, HistoryRecord};
use torg_domain::page::PageRequest;

/// Which entity's history a call is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entity {
    Order,
    Customer,
}

impl Entity {
    fn table(self) -> &'static str {
        match self {
            Entity::Order => "order_history",
            Entity::Customer => "customer_history",
        }
    }

    fn id_column(self) -> &'static str {
        match self {
            Entity::Order => "order_id",
            Entity::Customer => "customer_id",
        }
    }
}

/// Filters of a history listing.
#[derive(Debug, Clone, Default)]
pub struct HistoryFilter {
    /// Only records with a greater id.
    pub since_id: Option<i64>,
    /// Only records at or after this instant.
    pub start: Option<i64>,
    /// Only records at or before this instant.
    pub end: Option<i64>,
    /// Only records of this entity (internal id).
    pub entity_id: Option<i64>,
    /// Only records of the entity with this external id.
    pub entity_external_id: Option<String>,
    /// Only records of entities on these sites (the caller's); empty means no restriction.
    pub sites: Vec<String>,
}

/// A record about to be written.
pub(crate) struct NewRecord<'a> {
    pub entity_id: i64,
    pub actor: Actor,
    pub created: bool,
    pub deleted: bool,
    pub change: Option<&'a Change>,
    pub entity: &'a Value,
}

impl Store {
    /// Writes history records in the caller's transaction, in the order given.
    pub(crate) async fn write_history(
        &self,
        tx: &mut Tx,
        kind: Entity,
        now: i64,
        records: &[NewRecord<'_>],
    ) -> StoreResult<()> {
        if records.is_empty() {
            return Ok(());
        }
        self.serialize_history(tx).await?;
        let sql = format!(
            "INSERT INTO {} ({}, created_at, source, api_key_id, user_id, created, deleted, field, old_value, new_value, entity, item)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            kind.table(),
            kind.id_column()
        );
        for r in records {
            let user_id = match r.actor {
                Actor::User(u) => u,
                _ => None,
            };
            crate::db::query(sql.clone())
                .bind(r.entity_id)
                .bind(now)
                .bind(r.actor.source())
                .bind(r.actor.api_key_id())
                .bind(user_id)
                .bind(i64::from(r.created))
                .bind(i64::from(r.deleted))
                .bind(r.change.map(|c| c.field.clone()))
                .bind(r.change.map(|c| c.old_value.to_string()))
                .bind(r.change.map(|c| c.new_value.to_string()))
                .bind(r.entity.to_string())
                .bind(r.change.and_then(|c| c.item.as_ref()).map(Value::to_string))
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// A page of history in id order, and the size of the filtered set.
    pub(crate) async fn read_history(
        &self,
        kind: Entity,
        filter: &HistoryFilter,
        page: PageRequest,
    ) -> StoreResult<(Vec<HistoryRecord>, u64)> {
        let mut wh = Sql::new(" WHERE 1 = 1");
        if let Some(id) = filter.since_id {
            wh.push(" AND h.id > ").bind(Arg::Int(id));
        }
        if let Some(t) = filter.start {
            wh.push(" AND h.created_at >= ").bind(Arg::Int(t));
        }
        if let Some(t) = filter.end {
            wh.push(" AND h.created_at <= ").bind(Arg::Int(t));
        }
        if let Some(id) = filter.entity_id {
            wh.push(&format!(" AND h.{} = ", kind.id_column())).bind(Arg::Int(id));
        }
        if let Some(ext) = &filter.entity_external_id {
            let parent = match kind {
                Entity::Order => "orders",
                Entity::Customer => "customers",
            };
            wh.push(&format!(" AND h.{} IN (SELECT id FROM {parent} WHERE external_id = ", kind.id_column()))
                .bind(Arg::Text(ext.clone()))
                .push(")");
        }
        if !filter.sites.is_empty() {
            let parent = match kind {
                Entity::Order => "orders",
                Entity::Customer => "customers",
            };
            wh.push(&format!(" AND h.{} IN (SELECT id FROM {parent} WHERE site IN ", kind.id_column()))
                .bind_list(filter.sites.iter().cloned().map(Arg::Text))
                .push(")");
        }
        let count = wh.with_prefix(&format!("SELECT COUNT(*) FROM {} h", kind.table()));
        let (total,): (i64,) = count.query_as().fetch_one(self.reader()).await?;
        let mut list = wh.with_prefix(&format!(
            "SELECT h.id, h.created_at, h.source, h.api_key_id, h.user_id, h.created, h.deleted, h.field, h.old_value, h.new_value, h.entity, h.item FROM {} h",
            kind.table()
        ));
        list.push(" ORDER BY h.id LIMIT ")
            .bind(Arg::Int(i64::from(page.limit)))
            .push(" OFFSET ")
            .bind(Arg::Int(i64::try_from(page.offset()).unwrap_or(i64::MAX)));
        let rows = list.query().fetch_all(self.reader()).await?;
        let parse = |s: Option<String>| s.and_then(|t| Value::from_str(&t).ok()).unwrap_or(Value::Null);
        let records = rows
            .iter()
            .map(|r| {
                Ok(HistoryRecord {
                    id: r.try_get("id")?,
                    created_at: r.try_get("created_at")?,
                    source: r.try_get("source")?,
                    api_key_id: r.try_get("api_key_id")?,
                    user_id: r.try_get("user_id")?,
                    created: flag(r.try_get("created")?),
                    deleted: flag(r.try_get("deleted")?),
                    field: r.try_get("field")?,
                    old_value: parse(r.try_get("old_value")?),
                    new_value: parse(r.try_get("new_value")?),
                    entity: parse(r.try_get("entity")?),
                    item: r.try_get::<Option<String>, _>("item")?.and_then(|t| Value::from_str(&t).ok()),
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok((records, u64::try_from(total).unwrap_or(0)))
    }
}
