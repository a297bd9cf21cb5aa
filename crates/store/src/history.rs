//! History records of orders and customers: written inside the change's transaction, read in id order.

use crate::sql::{Arg, Sql};
use crate::{Backend, Store, StoreResult, Tx, flag};
use serde_json::Value;
use std::str::FromStr;
use torg_domain::history::{Actor, Change, HistoryRecord};
use torg_domain::page::PageRequest;

/// PostgreSQL: numbers every committed record queued in `history_pending` (orders', customers' and
/// packs'), in id order after the highest number given so far, in one transaction (migration 0021's
/// `torg_number_queued`). Returns at once, without a lock, when nothing is queued.
const NUMBER_QUEUED: &str = "SELECT torg_number_queued()";

/// Clears the numbering queue's deleted rows. Every pass deletes what it numbers and then scans the
/// queue's index past every row deleted since the last vacuum; autovacuum visits a table about once
/// a minute (never, where it is off), by which time concurrent creates have left tens of thousands
/// (2.4 ms of a 6 ms pass, by `EXPLAIN ANALYZE`). `SKIP_LOCKED`: another instance's vacuum is as good;
/// `TRUNCATE OFF`: giving back the table's empty tail pages takes a lock every queued write waits on
/// (vacuums with it took 440 ms each under creates), and the queue fills them again within a second.
const VACUUM_QUEUE: &str = "VACUUM (SKIP_LOCKED, INDEX_CLEANUP ON, TRUNCATE OFF) history_pending";

/// Records numbered by this instance between two vacuums of the queue.
const VACUUM_QUEUE_AFTER: i64 = 2_000;

/// How long the numberer waits after a failed pass before it tries again.
const NUMBERER_RETRY: std::time::Duration = std::time::Duration::from_secs(1);

/// The least time from one pass's start to the next's. A pass costs about the same for one record as
/// for thirty (a lock, a transaction and its flush), and under creates the numberer passed after
/// every few commits: about 140 passes a second at 1,200 creates/s, 5 % of PostgreSQL's time. Nothing
/// waits for a pass (a history read numbers what is queued first, on any instance), so passes are
/// spaced: alone, a commit is numbered at once; under load, a pass takes what 20 ms of commits queued.
const NUMBERER_PACE: std::time::Duration = std::time::Duration::from_millis(20);

/// PostgreSQL's history numberer: a task of this instance that numbers the queued records whenever
/// a writer has committed some. A writer wakes it and goes on; the wake-ups that come while a pass
/// runs make one more pass, at least [`NUMBERER_PACE`] after the last began, so under load each pass
/// (one transaction, one flush) numbers the records of every commit since the last. Ended when the
/// last handle to the store is dropped.
pub(crate) struct Numberer {
    wake: std::sync::Arc<tokio::sync::Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Numberer {
    /// Starts the task on the current runtime.
    pub(crate) fn start(pool: sqlx::postgres::PgPool) -> Numberer {
        let wake = std::sync::Arc::new(tokio::sync::Notify::new());
        let woken = wake.clone();
        let task = tokio::spawn(async move {
            let mut since_vacuum = 0;
            loop {
                woken.notified().await;
                if pool.is_closed() {
                    return;
                }
                // Wake-ups while this pass runs or the pace holds are kept (one permit): they make the
                // next pass, once the pace allows it.
                let next = tokio::time::Instant::now() + NUMBERER_PACE;
                let pass = sqlx::query_scalar::<_, i64>(NUMBER_QUEUED).fetch_one(&pool).await;
                tokio::time::sleep_until(next).await;
                match pass {
                    Ok(numbered) => {
                        since_vacuum += numbered;
                        if since_vacuum >= VACUUM_QUEUE_AFTER {
                            since_vacuum = 0;
                            if let Err(e) = sqlx::raw_sql(VACUUM_QUEUE).execute(&pool).await {
                                tracing::warn!("vacuuming the history queue failed: {e}");
                            }
                        }
                    }
                    Err(e) => {
                        // The records stay queued: the next pass, or the next history read, numbers them.
                        tracing::warn!("numbering history failed: {e}");
                        tokio::time::sleep(NUMBERER_RETRY).await;
                        woken.notify_one();
                    }
                }
            }
        });
        Numberer { wake, task }
    }

    /// Asks for a pass; never waits.
    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }
}

impl Drop for Numberer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

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

    /// Its name in `combined_entities`.
    fn combined_name(self) -> &'static str {
        match self {
            Entity::Order => "order",
            Entity::Customer => "customer",
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
    /// Writes history records in the caller's transaction, in the order given, in one statement.
    ///
    /// Each record's public number (`seq`) follows commit order. SQLite has one writer, so a record is
    /// numbered as it is written. On PostgreSQL concurrent transactions commit in any order, so records
    /// are written unnumbered and the commit wakes the [`Numberer`].
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
        const COLUMNS: usize = 13;
        let sql = format!(
            "INSERT INTO {} ({}, created_at, source, api_key_id, user_id, created, deleted, field, old_value, new_value, entity, item, seq) VALUES {}",
            kind.table(),
            kind.id_column(),
            crate::sql::values_rows(records.len(), COLUMNS)
        );
        let first_seq = match self.backend() {
            Backend::Sqlite => {
                let last: i64 = crate::db::query_scalar(format!("SELECT COALESCE(MAX(seq), 0) FROM {}", kind.table()))
                    .fetch_one(&mut **tx)
                    .await?;
                Some(last + 1)
            }
            Backend::Postgres => None,
        };
        let mut q = crate::db::query(sql);
        for (i, r) in records.iter().enumerate() {
            let user_id = match r.actor {
                Actor::User(u) => u,
                _ => None,
            };
            q = q
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
                .bind(first_seq.map(|f| f + i64::try_from(i).unwrap_or(0)));
        }
        q.execute_later(tx).await?;
        self.number_after_commit(tx);
        Ok(())
    }

    /// Has the history records `tx` wrote numbered once it commits (PostgreSQL; SQLite numbers them
    /// as they are written).
    pub(crate) fn number_after_commit(&self, tx: &mut Tx) {
        if let Some(numberer) = self.numberer() {
            tx.after_commit(Box::new(move || numberer.wake()));
        }
    }

    /// Numbers every committed history record still unnumbered (PostgreSQL), before a history read
    /// (so a change is there as soon as its write answered, on whichever instance) and when the store
    /// opens (records of a writer that stopped before its numberer's pass).
    pub(crate) async fn number_history(&self) -> StoreResult<()> {
        if self.backend() == Backend::Postgres {
            crate::db::query(NUMBER_QUEUED).execute(self.reader()).await?;
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
        self.number_history().await?;
        let mut wh = Sql::new(" WHERE h.seq IS NOT NULL");
        if let Some(id) = filter.since_id {
            wh.push(" AND h.seq > ").bind(Arg::Int(id));
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
            // An entity combined into another is gone from its table; its history stays findable.
            let column = kind.id_column();
            wh.push(&format!(" AND (h.{column} IN (SELECT id FROM {parent} WHERE "));
            // External ids are unique per site: with the sites named, the look-up is the index's
            // (site, external_id) instead of a read of every entry of that index.
            if !filter.sites.is_empty() {
                wh.push("site IN ").bind_list(filter.sites.iter().cloned().map(Arg::Text)).push(" AND ");
            }
            wh.push("external_id = ")
                .bind(Arg::Text(ext.clone()))
                .push(&format!(
                    ") OR h.{column} IN (SELECT old_id FROM combined_entities WHERE entity = '{}' AND old_external_id = ",
                    kind.combined_name()
                ))
                .bind(Arg::Text(ext.clone()))
                .push("))");
        }
        if !filter.sites.is_empty() {
            let parent = match kind {
                Entity::Order => "orders",
                Entity::Customer => "customers",
            };
            let column = kind.id_column();
            wh.push(&format!(" AND (h.{column} IN (SELECT id FROM {parent} WHERE site IN "))
                .bind_list(filter.sites.iter().cloned().map(Arg::Text))
                .push(&format!(
                    ") OR h.{column} IN (SELECT old_id FROM combined_entities WHERE entity = '{}' AND site IN ",
                    kind.combined_name()
                ))
                .bind_list(filter.sites.iter().cloned().map(Arg::Text))
                .push("))");
        }
        let count = wh.with_prefix(&format!("SELECT COUNT(*) FROM {} h", kind.table()));
        let (total,): (i64,) = count.query_as().fetch_one(self.reader()).await?;
        let mut list = wh.with_prefix(&format!(
            "SELECT h.seq AS id, h.created_at, h.source, h.api_key_id, h.user_id, h.created, h.deleted, h.field, h.old_value, h.new_value, h.entity, h.item FROM {} h",
            kind.table()
        ));
        list.push(" ORDER BY h.seq");
        crate::sql::page(&mut list, page.limit, page.offset());
        let rows = list.query().fetch_all(self.reader()).await?;
        let records = rows.iter().map(|r| record_from_row(r, true, Some("item"))).collect::<StoreResult<Vec<_>>>()?;
        Ok((records, u64::try_from(total).unwrap_or(0)))
    }
}

/// A history record from a row of `SELECT … AS id, created_at, source, api_key_id, user_id, created,
/// [deleted,] field, old_value, new_value, entity[, item]`: the orders', customers', packs' and tasks'
/// histories share the shape; `has_deleted` and `item` say which optional columns the table has.
pub(crate) fn record_from_row(r: &crate::db::Row, has_deleted: bool, item: Option<&str>) -> StoreResult<HistoryRecord> {
    let parse = |s: Option<String>| s.and_then(|t| Value::from_str(&t).ok()).unwrap_or(Value::Null);
    Ok(HistoryRecord {
        id: r.try_get("id")?,
        created_at: r.try_get("created_at")?,
        source: r.try_get("source")?,
        api_key_id: r.try_get("api_key_id")?,
        user_id: r.try_get("user_id")?,
        created: flag(r.try_get("created")?),
        deleted: has_deleted && flag(r.try_get("deleted")?),
        field: r.try_get("field")?,
        old_value: parse(r.try_get("old_value")?),
        new_value: parse(r.try_get("new_value")?),
        entity: parse(r.try_get("entity")?),
        item: match item {
            Some(column) => r.try_get::<Option<String>, _>(column)?.and_then(|t| Value::from_str(&t).ok()),
            None => None,
        },
    })
}
