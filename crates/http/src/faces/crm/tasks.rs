//! Tasks (`tasks`): list, create, get, edit, history and comments. A task is about nothing, an order or
//! a customer; a key sees tasks about something on its sites and tasks about nothing (see
//! `docs/crm.md`).

use super::scope::{TASK_READ, TASK_WRITE};
use super::{Crm, CrmError, CrmResult, FilterReader, ok, pagination, render};
use crate::AppState;
use crate::kit::{Field, Kind, PAGING, Route, SITE};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use torg_domain::DomainError;
use torg_domain::task::{Task, TaskPatch, parse_due};
use torg_domain::time::Zone;
use torg_store::{StoreError, TaskFilter, TaskHistoryFilter};

/// The `filter[…]` keys of `GET /api/v5/tasks` and what each holds.
pub(super) const LIST_FILTER: &[(&str, Kind)] = &[
    ("ids", Kind::Integers),
    ("performers", Kind::Integers),
    ("creators", Kind::Integers),
    ("text", Kind::Text),
    ("orderNumber", Kind::Text),
    ("customer", Kind::Text),
    ("createdAtFrom", Kind::DateTime),
    ("createdAtTo", Kind::DateTime),
    ("completedAtFrom", Kind::DateTime),
    ("completedAtTo", Kind::DateTime),
    ("status", Kind::Text),
    ("performerType", Kind::Text),
    ("dateFrom", Kind::Text),
    ("dateTo", Kind::Text),
];

/// The `filter[…]` keys of `GET /api/v5/tasks/history` and what each holds.
pub(super) const HISTORY_FILTER: &[(&str, Kind)] = &[
    ("taskIds", Kind::Integers),
    ("taskId", Kind::Integer),
    ("sinceId", Kind::Integer),
    ("startDate", Kind::DateTime),
    ("endDate", Kind::DateTime),
];

/// Routes of the group; `/tasks/history` is matched before `/tasks/{id}` (static segments win).
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/api/v5/tasks", TASK_READ, list)
            .doc("tasks", "list_tasks", "Tasks, filtered and paged")
            .answers(&[Field::object("pagination").required(), Field::list("tasks").required()])
            .fields(&[Field::filter(LIST_FILTER), PAGING[0], PAGING[1]]),
        Route::post("/api/v5/tasks/create", TASK_WRITE, create)
            .idempotent()
            .doc("tasks", "create_task", "Create a task for a user or a user group")
            .answers(&[Field::int("id").required()])
            .fields(&[SITE, Field::entity("task", super::entities::TASK).required()]),
        Route::get("/api/v5/tasks/history", TASK_READ, history)
            .doc("tasks", "list_task_history", "Task changes since an id or date")
            .answers(&[
                Field::new("generatedAt", Kind::DateTime).required(),
                Field::list("history").required(),
                Field::object("pagination").required(),
            ])
            .fields(&[Field::filter(HISTORY_FILTER), PAGING[0], PAGING[1]]),
        Route::get("/api/v5/tasks/{id}", TASK_READ, get)
            .doc("tasks", "get_task", "One task by id")
            .answers(&[Field::object("task").required()]),
        Route::post("/api/v5/tasks/{id}/edit", TASK_WRITE, edit)
            .doc("tasks", "edit_task", "Change a task's given fields")
            .fields(&[SITE, Field::entity("task", super::entities::TASK).required()]),
        Route::get("/api/v5/tasks/{id}/comments", TASK_READ, comments)
            .doc("tasks", "list_task_comments", "Comments on a task, newest first")
            .answers(&[Field::object("pagination").required(), Field::list("comments").required()])
            .fields(&[PAGING[0], PAGING[1]]),
    ]
}

/// A task as RetailCRM shows it (PHP's `Task`: `datetime` `Y-m-d H:i`, other dates `Y-m-d H:i:s`).
pub(super) fn task_json(t: &Task, zone: &Zone) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(t.id));
    m.insert("text".into(), json!(t.text));
    if let Some(c) = &t.commentary {
        m.insert("commentary".into(), json!(c));
    }
    if let Some(d) = &t.datetime {
        m.insert("datetime".into(), json!(d));
    }
    m.insert("createdAt".into(), json!(zone.datetime(t.created_at)));
    m.insert("complete".into(), json!(t.complete));
    if let Some(c) = t.completed_at {
        m.insert("completedAt".into(), json!(zone.datetime(c)));
    }
    if let Some(c) = t.creator {
        m.insert("creator".into(), json!(c));
    }
    m.insert("performer".into(), json!(t.performer));
    m.insert("performerType".into(), json!(t.performer_type));
    if let Some(o) = &t.order {
        let mut order = Map::new();
        order.insert("id".into(), json!(o.id));
        order.insert("number".into(), json!(o.number));
        if let Some(e) = &o.external_id {
            order.insert("externalId".into(), json!(e));
        }
        order.insert("site".into(), json!(o.site));
        m.insert("order".into(), Value::Object(order));
    }
    if let Some(c) = &t.customer {
        let mut customer = Map::new();
        customer.insert("type".into(), json!("customer"));
        customer.insert("id".into(), json!(c.id));
        if let Some(e) = &c.external_id {
            customer.insert("externalId".into(), json!(e));
        }
        customer.insert("site".into(), json!(c.site));
        m.insert("customer".into(), Value::Object(customer));
    }
    if let Some(p) = &t.phone {
        m.insert("phone".into(), json!(p));
    }
    if let Some(s) = &t.phone_site {
        m.insert("phoneSite".into(), json!(s));
    }
    Value::Object(m)
}

/// The `site` parameter, if given: where external ids are looked up. A site the key does not reach is
/// refused as RetailCRM refuses it.
pub(super) fn lookup_site(crm: &Crm) -> Result<Option<String>, CrmError> {
    match crm.input.text("site") {
        Some(code) if crm.sites.contains(&code) => Ok(Some(code)),
        Some(_) => Err(CrmError::access_denied()),
        None => Ok(None),
    }
}

/// An id path segment; anything else is not a task.
fn path_id(uid: &str) -> Result<i64, CrmError> {
    uid.parse::<i64>().map_err(|_| CrmError::not_found())
}

fn is_not_found(e: &StoreError) -> bool {
    matches!(e, StoreError::Domain(DomainError::NotFound(_)))
}

/// The `task` form field, read.
fn patch(crm: &Crm) -> Result<TaskPatch, CrmError> {
    let doc = crm.json_object("task")?;
    TaskPatch::from_doc(&doc).map_err(CrmError::entity)
}

/// A bound of the `datetime` filters as `Y-m-d H:i`: that form itself, or a date / date-time read in the
/// zone (a bare date's upper bound is its last minute).
fn due_bound(r: &mut FilterReader<'_>, zone: &Zone, key: &str, end: bool) -> Option<String> {
    let text = r.text(key)?;
    if let Some(d) = parse_due(&text) {
        return Some(d);
    }
    let t = if end { r.date_to(key) } else { r.date_from(key) }?;
    Some(zone.datetime(t).chars().take(16).collect())
}

/// A filter value that must be one of `allowed`.
fn choice(r: &FilterReader<'_>, key: &str, allowed: &[&str]) -> Result<Option<String>, CrmError> {
    match r.text(key) {
        None => Ok(None),
        Some(v) if allowed.contains(&v.as_str()) => Ok(Some(v)),
        Some(_) => Err(CrmError::parameter(
            &format!("filter[{key}]"),
            &format!("The value you selected is not a valid choice. Allowed: {}.", allowed.join(", ")),
        )),
    }
}

/// `GET /api/v5/tasks`: newest first.
async fn list(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let page = crm.default_page()?;
    let filter = crm.filter()?;
    let zone = &state.config.zone;
    let mut r = FilterReader::new(&filter, zone).noting(&crm.input);
    let complete = choice(&r, "status", &["completed", "performing"])?.map(|s| s == "completed");
    let performer_type = choice(&r, "performerType", torg_domain::task::PERFORMER_TYPES)?;
    let f = TaskFilter {
        ids: r.ints("ids"),
        performers: r.ints("performers"),
        performer_type,
        creators: r.ints("creators"),
        complete,
        text: r.text("text"),
        order_number: r.text("orderNumber"),
        customer: r.text("customer"),
        due_from: due_bound(&mut r, zone, "dateFrom", false),
        due_to: due_bound(&mut r, zone, "dateTo", true),
        created_from: r.date_from("createdAtFrom"),
        created_to: r.date_to("createdAtTo"),
        completed_from: r.date_from("completedAtFrom"),
        completed_to: r.date_to("completedAtTo"),
    };
    r.finish()?;
    let (tasks, meta) = state.store.list_tasks(&f, &crm.sites, page).await?;
    let tasks: Vec<Value> = tasks.iter().map(|t| task_json(t, zone)).collect();
    ok(StatusCode::OK, json!({ "pagination": pagination(meta), "tasks": tasks }))
}

/// `POST /api/v5/tasks/create`: form `task`, `site` for external ids; 201 with the task's id.
async fn create(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let patch = patch(&crm)?;
    let site = lookup_site(&crm)?;
    let t = state.store.create_task(&patch, site.as_deref(), crm.actor(), &crm.sites).await?;
    ok(StatusCode::CREATED, json!({ "id": t.id }))
}

/// `GET /api/v5/tasks/{id}`.
async fn get(State(state): State<AppState>, Path(uid): Path<String>, crm: Crm) -> CrmResult {
    let id = path_id(&uid)?;
    match state.store.get_task(id, &crm.sites).await? {
        Some(t) => ok(StatusCode::OK, json!({ "task": task_json(&t, &state.config.zone) })),
        None => Err(CrmError::not_found()),
    }
}

/// `POST /api/v5/tasks/{id}/edit`: the given members change; `{}` on success.
async fn edit(State(state): State<AppState>, Path(uid): Path<String>, crm: Crm) -> CrmResult {
    let id = path_id(&uid)?;
    let patch = patch(&crm)?;
    let site = lookup_site(&crm)?;
    match state.store.edit_task(id, &patch, site.as_deref(), crm.actor(), &crm.sites).await {
        Ok(_) => ok(StatusCode::OK, json!({})),
        Err(e) if is_not_found(&e) => Err(CrmError::not_found()),
        Err(e) => Err(e.into()),
    }
}

/// `GET /api/v5/tasks/history`: records in number order, each with the task as it was after the change
/// (PHP's `TaskHistory`); a comment's record carries it as `comment: {id, text}`.
async fn history(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let page = crm.default_page()?;
    let filter = crm.filter()?;
    let zone = &state.config.zone;
    let mut r = FilterReader::new(&filter, zone).noting(&crm.input);
    let mut task_ids = r.ints("taskIds");
    task_ids.extend(r.int("taskId"));
    let f = TaskHistoryFilter {
        since_id: r.int("sinceId"),
        task_ids,
        start: r.date_from("startDate"),
        end: r.date_to("endDate"),
    };
    r.finish()?;
    let (records, total) = state.store.task_history(&f, &crm.sites, page).await?;
    let history: Vec<Value> = records
        .iter()
        .map(|h| {
            let mut v = render::history(h, crm.key.id, "task", zone, Clone::clone);
            if let Some(m) = v.as_object_mut() {
                if let Some(t) = Task::from_snapshot(&h.entity) {
                    m.insert("task".into(), task_json(&t, zone));
                }
                if let Some(c) = m.remove("item") {
                    m.insert("comment".into(), c);
                }
            }
            v
        })
        .collect();
    ok(
        StatusCode::OK,
        json!({ "generatedAt": zone.datetime(torg_domain::time::now()), "history": history, "pagination": pagination(page.meta(total)) }),
    )
}

/// `GET /api/v5/tasks/{id}/comments`: newest first (PHP's `TaskComment`).
async fn comments(State(state): State<AppState>, Path(uid): Path<String>, crm: Crm) -> CrmResult {
    let id = path_id(&uid)?;
    let page = crm.default_page()?;
    let Some((comments, meta)) = state.store.task_comments(id, &crm.sites, page).await? else {
        return Err(CrmError::not_found());
    };
    let zone = &state.config.zone;
    let comments: Vec<Value> = comments
        .iter()
        .map(|c| {
            let mut m = Map::new();
            m.insert("id".into(), json!(c.id));
            if let Some(u) = c.creator {
                m.insert("creator".into(), json!(u));
            }
            m.insert("text".into(), json!(c.text));
            m.insert("createdAt".into(), json!(zone.datetime(c.created_at)));
            m.insert("updatedAt".into(), json!(zone.datetime(c.updated_at)));
            Value::Object(m)
        })
        .collect();
    ok(StatusCode::OK, json!({ "pagination": pagination(meta), "comments": comments }))
}
