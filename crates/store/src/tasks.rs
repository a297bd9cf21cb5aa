//! Tasks, their comments and their history.
//!
//! A task is about nothing, one order or one customer; it is seen by keys that reach that site (a task
//! about nothing by every key). Every write is one transaction with its history records. Task writes
//! run one at a time: SQLite has one writer, and on PostgreSQL each takes an advisory lock held to its
//! commit, so a history record's id is its number in commit order and an edit never works from a copy
//! another edit is about to change.

use crate::db;
use crate::sql::{Arg, Sql, any_of, contains_pattern, text_args};
use crate::{Backend, Store, StoreResult, Tx, flag};
use serde_json::{Value, json};
use torg_domain::DomainError;
use torg_domain::history::{Actor, Change, HistoryRecord};
use torg_domain::page::{PageRequest, Pagination};
use torg_domain::task::{self, CustomerLink, CustomerRef, OrderLink, OrderRef, Task, TaskComment, TaskPatch};

/// Serialises task writes on PostgreSQL (released with the transaction).
const TASK_LOCK: &str = "SELECT pg_advisory_xact_lock(7426014)";

/// Which tasks a list shows; empty lists and `None` do not filter.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    /// Task ids.
    pub ids: Vec<i64>,
    /// Performers' ids.
    pub performers: Vec<i64>,
    /// `user` or `group`.
    pub performer_type: Option<String>,
    /// Creators (users).
    pub creators: Vec<i64>,
    /// Done (`completed`) or not (`performing`).
    pub complete: Option<bool>,
    /// Text or commentary contains (any case).
    pub text: Option<String>,
    /// About the order with this number.
    pub order_number: Option<String>,
    /// About a customer (or an order of a customer) whose name, e-mail or phone contains this.
    pub customer: Option<String>,
    /// Due at or after (`Y-m-d H:i`).
    pub due_from: Option<String>,
    /// Due at or before (`Y-m-d H:i`).
    pub due_to: Option<String>,
    /// Created at or after (Unix seconds).
    pub created_from: Option<i64>,
    /// Created at or before (Unix seconds).
    pub created_to: Option<i64>,
    /// Completed at or after (Unix seconds).
    pub completed_from: Option<i64>,
    /// Completed at or before (Unix seconds).
    pub completed_to: Option<i64>,
}

/// RetailCRM's `tasksCounts` list condition (PHP's `TasksCountsStatus`): what tasks an order or a
/// customer has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskCondition {
    /// No task left to do (`1`): none at all, or every one complete.
    NoneOpen,
    /// A task left to do (`2`).
    Open,
    /// A task left to do whose deadline has passed (`3`): due before this wall-clock time (`Y-m-d H:i`,
    /// the configured zone's, as deadlines are kept).
    Overdue(String),
}

/// The [`TaskCondition`] on what `owner_expr` names, through the tasks' `column` (`order_id` or
/// `customer_id`).
pub(crate) fn push_task_condition(wh: &mut Sql, column: &str, owner_expr: &str, cond: Option<&TaskCondition>) {
    let Some(cond) = cond else { return };
    let not = if *cond == TaskCondition::NoneOpen { " NOT" } else { "" };
    // `IS NOT NULL`: a NULL in a `NOT IN` list would make the condition unknown for every row.
    wh.push(&format!(
        " AND {owner_expr}{not} IN (SELECT {column} FROM tasks WHERE {column} IS NOT NULL AND complete = 0"
    ));
    if let TaskCondition::Overdue(now) = cond {
        wh.push(" AND due < ").bind(Arg::Text(now.clone()));
    }
    wh.push(")");
}

/// Which task history records a listing shows.
#[derive(Debug, Clone, Default)]
pub struct TaskHistoryFilter {
    /// Only records with a greater id.
    pub since_id: Option<i64>,
    /// Only records of these tasks.
    pub task_ids: Vec<i64>,
    /// Only records at or after (Unix seconds).
    pub start: Option<i64>,
    /// Only records at or before (Unix seconds).
    pub end: Option<i64>,
}

const SELECT: &str = "SELECT t.id, t.text, t.commentary, t.due, t.complete, t.created_at, t.completed_at, t.creator_id,
       t.performer_id, t.performer_type, t.order_id, o.number AS order_number, o.external_id AS order_external_id,
       o.site AS order_site, t.customer_id, c.external_id AS customer_external_id, c.site AS customer_site, t.phone,
       t.phone_site
FROM tasks t LEFT JOIN orders o ON o.id = t.order_id LEFT JOIN customers c ON c.id = t.customer_id";

/// The order a task or a cost is about, from the `order_id`, `order_number`, `order_external_id` and
/// `order_site` columns of a row joined with `orders`.
pub(crate) fn order_link_from_row(r: &db::Row) -> StoreResult<Option<OrderLink>> {
    Ok(match r.try_get::<Option<i64>, _>("order_id")? {
        Some(id) => Some(OrderLink {
            id,
            number: r.try_get::<Option<String>, _>("order_number")?.unwrap_or_default(),
            external_id: r.try_get("order_external_id")?,
            site: r.try_get::<Option<String>, _>("order_site")?.unwrap_or_default(),
        }),
        None => None,
    })
}

fn task_from_row(r: &db::Row) -> StoreResult<Task> {
    let order = order_link_from_row(r)?;
    let customer = match r.try_get::<Option<i64>, _>("customer_id")? {
        Some(id) => Some(CustomerLink {
            id,
            external_id: r.try_get("customer_external_id")?,
            site: r.try_get::<Option<String>, _>("customer_site")?.unwrap_or_default(),
        }),
        None => None,
    };
    Ok(Task {
        id: r.try_get("id")?,
        text: r.try_get("text")?,
        commentary: r.try_get("commentary")?,
        datetime: r.try_get("due")?,
        complete: flag(r.try_get("complete")?),
        created_at: r.try_get("created_at")?,
        completed_at: r.try_get("completed_at")?,
        creator: r.try_get("creator_id")?,
        performer: r.try_get("performer_id")?,
        performer_type: r.try_get("performer_type")?,
        order,
        customer,
        phone: r.try_get("phone")?,
        phone_site: r.try_get("phone_site")?,
    })
}

/// ` AND (t.site IS NULL OR t.site IN (sites))`: tasks about nothing, or about something on `sites`.
fn visible(q: &mut Sql, sites: &[String]) {
    q.push(" AND (t.site IS NULL OR t.site IN ").bind_list(text_args(sites)).push(")");
}

fn not_found() -> crate::StoreError {
    DomainError::NotFound("task".into()).into()
}

/// What the `text` filter compares.
fn search(t: &Task) -> String {
    format!("{} {}", t.text, t.commentary.as_deref().unwrap_or_default()).to_lowercase()
}

/// The user behind a change, if a user made it.
fn user_of(actor: Actor) -> Option<i64> {
    match actor {
        Actor::User(u) => u,
        _ => None,
    }
}

impl Store {
    /// Takes the task write lock (PostgreSQL; SQLite's single writer already serialises).
    async fn task_write_lock(&self, tx: &mut Tx) -> StoreResult<()> {
        if self.backend() == Backend::Postgres {
            db::query(TASK_LOCK).execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// The order `r` names, on one of `sites` (and on `site`, when given, for an external id).
    /// Not found, or found on several sites, is refused under `field`.
    pub(crate) async fn order_link_in(
        &self,
        tx: &mut Tx,
        r: &OrderRef,
        site: Option<&str>,
        sites: &[String],
        field: &str,
    ) -> StoreResult<OrderLink> {
        let mut q = match r {
            OrderRef::Id(id) => {
                let mut q = Sql::new("SELECT id, number, external_id, site FROM orders WHERE id = ");
                q.bind(Arg::Int(*id));
                q
            }
            OrderRef::Number(n) => {
                let mut q = Sql::new("SELECT id, number, external_id, site FROM orders WHERE number = ");
                q.bind(Arg::Text(n.clone()));
                q
            }
            OrderRef::ExternalId(e) => {
                let mut q = Sql::new("SELECT id, number, external_id, site FROM orders WHERE external_id = ");
                q.bind(Arg::Text(e.clone()));
                if let Some(s) = site {
                    q.push(" AND site = ").bind(Arg::Text(s.to_string()));
                }
                q
            }
        };
        q.push(" AND site IN ").bind_list(text_args(sites)).push(" ORDER BY id");
        let rows: Vec<(i64, String, Option<String>, String)> = q.query_as().fetch_all(&mut **tx).await?;
        let found = rows
            .into_iter()
            .map(|(id, number, external_id, site)| OrderLink { id, number, external_id, site })
            .collect();
        Ok(task::one_order(field, r, found)?)
    }

    /// The customer `r` names, on one of `sites` (and on `site`, when given, for an external id); not
    /// found, or found on several sites, is refused under `field`.
    pub(crate) async fn customer_link_in(
        &self,
        tx: &mut Tx,
        r: &CustomerRef,
        site: Option<&str>,
        sites: &[String],
        field: &str,
    ) -> StoreResult<CustomerLink> {
        let mut q = Sql::new("SELECT id, external_id, site FROM customers WHERE ");
        match r {
            CustomerRef::Id(id) => {
                q.push("id = ").bind(Arg::Int(*id));
            }
            CustomerRef::ExternalId(e) => {
                q.push("external_id = ").bind(Arg::Text(e.clone()));
                if let Some(s) = site {
                    q.push(" AND site = ").bind(Arg::Text(s.to_string()));
                }
            }
        }
        q.push(" AND site IN ").bind_list(text_args(sites)).push(" ORDER BY id");
        let rows: Vec<(i64, Option<String>, String)> = q.query_as().fetch_all(&mut **tx).await?;
        let found = rows.into_iter().map(|(id, external_id, site)| CustomerLink { id, external_id, site }).collect();
        Ok(task::one_customer(field, r, found)?)
    }

    /// The task `id` inside a write, if a key reaching `sites` sees it.
    async fn task_in(&self, tx: &mut Tx, id: i64, sites: &[String]) -> StoreResult<Option<Task>> {
        let mut q = Sql::new(SELECT);
        q.push(" WHERE t.id = ").bind(Arg::Int(id));
        visible(&mut q, sites);
        let row = q.query().fetch_optional(&mut **tx).await?;
        row.as_ref().map(task_from_row).transpose()
    }

    /// `old` with the patch laid over it, its references resolved and checked.
    async fn patched_task(
        &self,
        tx: &mut Tx,
        old: &Task,
        p: &TaskPatch,
        site: Option<&str>,
        sites: &[String],
        now: i64,
    ) -> StoreResult<Task> {
        let mut new = old.clone();
        if let Some(t) = &p.text {
            new.text.clone_from(t);
        }
        if let Some(c) = &p.commentary {
            new.commentary.clone_from(c);
        }
        if let Some(d) = &p.datetime {
            new.datetime.clone_from(d);
        }
        if let Some(c) = p.complete {
            if c != old.complete {
                new.completed_at = c.then_some(now);
            }
            new.complete = c;
        }
        if let Some(id) = p.performer {
            new.performer = id;
        }
        if let Some(t) = &p.performer_type {
            new.performer_type.clone_from(t);
        }
        if p.performer.is_some() || p.performer_type.is_some() {
            if new.performer_type == "group" {
                let found: Option<i64> = db::query_scalar("SELECT id FROM user_groups WHERE id = $1")
                    .bind(new.performer)
                    .fetch_optional(&mut **tx)
                    .await?;
                if found.is_none() {
                    return Err(task::unknown_group(new.performer).into());
                }
            } else {
                self.check_user_in(tx, new.performer, task::PERFORMER_AT).await?;
            }
        }
        match &p.order {
            Some(Some(r)) => {
                new.order = Some(self.order_link_in(tx, r, site, sites, task::ORDER_AT).await?);
                new.customer = None;
            }
            Some(None) => new.order = None,
            None => {}
        }
        match &p.customer {
            Some(Some(r)) => {
                new.customer = Some(self.customer_link_in(tx, r, site, sites, task::CUSTOMER_AT).await?);
                new.order = None;
            }
            Some(None) => new.customer = None,
            None => {}
        }
        if let Some(ph) = &p.phone {
            new.phone.clone_from(ph);
        }
        if let Some(s) = &p.phone_site {
            task::check_phone_site(s.as_deref(), sites)?;
            new.phone_site.clone_from(s);
        }
        Ok(new)
    }

    /// Writes history records of one task in the write's transaction: each change, with the task as it
    /// is now, and a comment when the record is about one.
    #[allow(clippy::too_many_arguments)]
    async fn write_task_history(
        &self,
        tx: &mut Tx,
        task: &Task,
        actor: Actor,
        now: i64,
        created: bool,
        changes: &[Change],
        comment: Option<&Value>,
    ) -> StoreResult<()> {
        let entity = task.snapshot().to_string();
        for change in changes {
            db::query(
                "INSERT INTO task_history (task_id, created_at, source, api_key_id, user_id, created, field, old_value,
                 new_value, entity, comment) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(task.id)
            .bind(now)
            .bind(actor.source())
            .bind(actor.api_key_id())
            .bind(user_of(actor))
            .bind(created)
            .bind(&change.field)
            .bind(change.old_value.to_string())
            .bind(change.new_value.to_string())
            .bind(&entity)
            .bind(comment.map(Value::to_string))
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }

    /// Writes the task's row (insert when its id is 0); returns its id.
    async fn write_task_row(&self, tx: &mut Tx, t: &Task, now: i64) -> StoreResult<i64> {
        let order = t.order.as_ref().map(|o| o.id);
        let customer = t.customer.as_ref().map(|c| c.id);
        let site = t.site().map(str::to_owned);
        if t.id == 0 {
            let id: i64 = db::query_scalar(
                "INSERT INTO tasks (text, commentary, due, complete, created_at, completed_at, updated_at, creator_id,
                 performer_id, performer_type, order_id, customer_id, phone, phone_site, site, search)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id",
            )
            .bind(&t.text)
            .bind(&t.commentary)
            .bind(&t.datetime)
            .bind(t.complete)
            .bind(t.created_at)
            .bind(t.completed_at)
            .bind(now)
            .bind(t.creator)
            .bind(t.performer)
            .bind(&t.performer_type)
            .bind(order)
            .bind(customer)
            .bind(&t.phone)
            .bind(&t.phone_site)
            .bind(site)
            .bind(search(t))
            .fetch_one(&mut **tx)
            .await?;
            return Ok(id);
        }
        db::query(
            "UPDATE tasks SET text = $1, commentary = $2, due = $3, complete = $4, completed_at = $5, updated_at = $6,
             performer_id = $7, performer_type = $8, order_id = $9, customer_id = $10, phone = $11, phone_site = $12,
             site = $13, search = $14 WHERE id = $15",
        )
        .bind(&t.text)
        .bind(&t.commentary)
        .bind(&t.datetime)
        .bind(t.complete)
        .bind(t.completed_at)
        .bind(now)
        .bind(t.performer)
        .bind(&t.performer_type)
        .bind(order)
        .bind(customer)
        .bind(&t.phone)
        .bind(&t.phone_site)
        .bind(site)
        .bind(search(t))
        .bind(t.id)
        .execute(&mut **tx)
        .await?;
        Ok(t.id)
    }

    /// Creates a task. `site` is where external ids are looked up (else on every site of `sites`, the
    /// sites the caller reaches, which the order or customer must be on).
    pub async fn create_task(
        &self,
        patch: &TaskPatch,
        site: Option<&str>,
        actor: Actor,
        sites: &[String],
    ) -> StoreResult<Task> {
        patch.check_new().map_err(DomainError::Invalid)?;
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        self.task_write_lock(&mut tx).await?;
        let blank = Task { created_at: now, creator: user_of(actor), performer_type: "user".into(), ..Task::default() };
        let mut task = self.patched_task(&mut tx, &blank, patch, site, sites, now).await?;
        task.id = self.write_task_row(&mut tx, &task, now).await?;
        self.write_task_history(&mut tx, &task, actor, now, true, &[task.created_change()], None).await?;
        tx.commit().await?;
        Ok(task)
    }

    /// Changes the given fields of task `id`; not found unless a key reaching `sites` sees it.
    pub async fn edit_task(
        &self,
        id: i64,
        patch: &TaskPatch,
        site: Option<&str>,
        actor: Actor,
        sites: &[String],
    ) -> StoreResult<Task> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        self.task_write_lock(&mut tx).await?;
        let old = self.task_in(&mut tx, id, sites).await?.ok_or_else(not_found)?;
        let new = self.patched_task(&mut tx, &old, patch, site, sites, now).await?;
        let changes = old.changes(&new);
        if changes.is_empty() {
            return Ok(old);
        }
        self.write_task_row(&mut tx, &new, now).await?;
        self.write_task_history(&mut tx, &new, actor, now, false, &changes, None).await?;
        tx.commit().await?;
        Ok(new)
    }

    /// One task, if a key reaching `sites` sees it.
    pub async fn get_task(&self, id: i64, sites: &[String]) -> StoreResult<Option<Task>> {
        let mut q = Sql::new(SELECT);
        q.push(" WHERE t.id = ").bind(Arg::Int(id));
        visible(&mut q, sites);
        let row = q.query().fetch_optional(self.reader()).await?;
        row.as_ref().map(task_from_row).transpose()
    }

    /// A page of the tasks a key reaching `sites` sees, newest first.
    pub async fn list_tasks(
        &self,
        f: &TaskFilter,
        sites: &[String],
        page: PageRequest,
    ) -> StoreResult<(Vec<Task>, Pagination)> {
        let mut wh = Sql::new(" WHERE 1 = 1");
        visible(&mut wh, sites);
        let visible_only = wh.text.len();
        any_of(&mut wh, "t.id", f.ids.iter().copied().map(Arg::Int).collect());
        any_of(&mut wh, "t.performer_id", f.performers.iter().copied().map(Arg::Int).collect());
        any_of(&mut wh, "t.creator_id", f.creators.iter().copied().map(Arg::Int).collect());
        if let Some(t) = &f.performer_type {
            wh.push(" AND t.performer_type = ").bind(Arg::Text(t.clone()));
        }
        if let Some(c) = f.complete {
            wh.push(" AND t.complete = ").bind(Arg::Int(i64::from(c)));
        }
        if let Some(t) = &f.text {
            wh.push(" AND t.search LIKE ").bind(Arg::Text(contains_pattern(&t.to_lowercase()))).push(" ESCAPE '\\'");
        }
        if let Some(n) = &f.order_number {
            wh.push(" AND t.order_id IN (SELECT id FROM orders WHERE number = ").bind(Arg::Text(n.clone())).push(")");
        }
        if let Some(c) = &f.customer {
            let pattern = contains_pattern(&c.to_lowercase());
            wh.push(" AND (t.customer_id IN (SELECT id FROM customers WHERE search LIKE ")
                .bind(Arg::Text(pattern.clone()))
                .push(" ESCAPE '\\') OR t.order_id IN (SELECT id FROM orders WHERE search LIKE ")
                .bind(Arg::Text(pattern))
                .push(" ESCAPE '\\'))");
        }
        for (column, value) in [("t.due >= ", &f.due_from), ("t.due <= ", &f.due_to)] {
            if let Some(v) = value {
                wh.push(" AND ").push(column).bind(Arg::Text(v.clone()));
            }
        }
        for (column, value) in [
            ("t.created_at >= ", f.created_from),
            ("t.created_at <= ", f.created_to),
            ("t.completed_at >= ", f.completed_from),
            ("t.completed_at <= ", f.completed_to),
        ] {
            if let Some(v) = value {
                wh.push(" AND ").push(column).bind(Arg::Int(v));
            }
        }
        let total = self.visible_total(crate::counts::Counted::Tasks, sites, visible_only, "tasks t", &wh).await?;
        let mut select = wh.with_prefix(SELECT);
        select.push(" ORDER BY t.id DESC");
        crate::sql::page(&mut select, page.limit, page.offset());
        let rows = select.query().fetch_all(self.reader()).await?;
        let tasks = rows.iter().map(task_from_row).collect::<StoreResult<Vec<_>>>()?;
        Ok((tasks, page.meta(total)))
    }

    /// Adds a comment to task `task_id` (seen by a key reaching `sites`), with its history record.
    /// RetailCRM's API has no method that writes comments; people do, so only the store (tests, tools)
    /// writes them.
    pub async fn add_task_comment(
        &self,
        task_id: i64,
        actor: Actor,
        text: &str,
        sites: &[String],
    ) -> StoreResult<TaskComment> {
        let text = task::comment_text(text)?;
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        self.task_write_lock(&mut tx).await?;
        let task = self.task_in(&mut tx, task_id, sites).await?.ok_or_else(not_found)?;
        let creator = user_of(actor);
        let id: i64 = db::query_scalar(
            "INSERT INTO task_comments (task_id, creator_id, text, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
             RETURNING id",
        )
        .bind(task_id)
        .bind(creator)
        .bind(text)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let change = Change { field: "comment".into(), old_value: Value::Null, new_value: json!(text), item: None };
        let comment = json!({ "id": id, "text": text });
        self.write_task_history(&mut tx, &task, actor, now, false, &[change], Some(&comment)).await?;
        tx.commit().await?;
        Ok(TaskComment { id, task_id, creator, text: text.to_string(), created_at: now, updated_at: now })
    }

    /// A page of the comments on task `task_id`, newest first; `None` unless a key reaching `sites`
    /// sees the task.
    pub async fn task_comments(
        &self,
        task_id: i64,
        sites: &[String],
        page: PageRequest,
    ) -> StoreResult<Option<(Vec<TaskComment>, Pagination)>> {
        if self.get_task(task_id, sites).await?.is_none() {
            return Ok(None);
        }
        let (total,): (i64,) = db::query_as("SELECT COUNT(*) FROM task_comments WHERE task_id = $1")
            .bind(task_id)
            .fetch_one(self.reader())
            .await?;
        let mut q = Sql::new(
            "SELECT id, task_id, creator_id, text, created_at, updated_at FROM task_comments WHERE task_id = ",
        );
        q.bind(Arg::Int(task_id)).push(" ORDER BY id DESC");
        crate::sql::page(&mut q, page.limit, page.offset());
        let rows: Vec<(i64, i64, Option<i64>, String, i64, i64)> = q.query_as().fetch_all(self.reader()).await?;
        let comments = rows
            .into_iter()
            .map(|(id, task_id, creator, text, created_at, updated_at)| TaskComment {
                id,
                task_id,
                creator,
                text,
                created_at,
                updated_at,
            })
            .collect();
        Ok(Some((comments, page.meta(total.max(0) as u64))))
    }

    /// A page of task history in number order, of the tasks a key reaching `sites` sees. A record
    /// about a comment carries `{id, text}` in its `item`.
    pub async fn task_history(
        &self,
        f: &TaskHistoryFilter,
        sites: &[String],
        page: PageRequest,
    ) -> StoreResult<(Vec<HistoryRecord>, u64)> {
        let mut wh = Sql::new(" WHERE h.task_id IN (SELECT t.id FROM tasks t WHERE 1 = 1");
        visible(&mut wh, sites);
        wh.push(")");
        if let Some(id) = f.since_id {
            wh.push(" AND h.id > ").bind(Arg::Int(id));
        }
        any_of(&mut wh, "h.task_id", f.task_ids.iter().copied().map(Arg::Int).collect());
        if let Some(t) = f.start {
            wh.push(" AND h.created_at >= ").bind(Arg::Int(t));
        }
        if let Some(t) = f.end {
            wh.push(" AND h.created_at <= ").bind(Arg::Int(t));
        }
        let (total,): (i64,) =
            wh.with_prefix("SELECT COUNT(*) FROM task_history h").query_as().fetch_one(self.reader()).await?;
        let mut list = wh.with_prefix(
            "SELECT h.id, h.created_at, h.source, h.api_key_id, h.user_id, h.created, h.field, h.old_value,
             h.new_value, h.entity, h.comment FROM task_history h",
        );
        list.push(" ORDER BY h.id");
        crate::sql::page(&mut list, page.limit, page.offset());
        let rows = list.query().fetch_all(self.reader()).await?;
        let records = rows
            .iter()
            .map(|r| crate::history::record_from_row(r, false, Some("comment")))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok((records, u64::try_from(total).unwrap_or(0)))
    }
}
