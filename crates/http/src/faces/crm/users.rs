//! Users and user groups: who works in the account. Orders and customers name their manager by user
//! id (`managerId`), and telephony answers with these users.

use super::scope::{USER_READ, USER_WRITE};
use super::{Crm, CrmError, CrmResult, FilterReader, ok, pagination};
use crate::AppState;
use crate::kit::{Field, Kind, PAGING, Route};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use torg_domain::telephony::{User, UserGroup};
use torg_store::UserFilter;

/// The `filter[…]` keys of `GET /api/v5/users` and what each holds.
pub(super) const LIST_FILTER: &[(&str, Kind)] = &[
    ("status", Kind::Text),
    ("email", Kind::Text),
    ("online", Kind::Boolean),
    ("active", Kind::Boolean),
    ("isManager", Kind::Boolean),
    ("isAdmin", Kind::Boolean),
    ("createdAtFrom", Kind::DateTime),
    ("createdAtTo", Kind::DateTime),
    ("groups", Kind::Texts),
];

/// The group's routes.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/api/v5/users", USER_READ, list)
            .doc("users", "list_users", "Users, filtered and paged")
            .answers(&[Field::object("pagination").required(), Field::new("users", Kind::Any).required()])
            .fields(&[Field::filter(LIST_FILTER), PAGING[0], PAGING[1]]),
        Route::get("/api/v5/users/{id}", USER_READ, get).doc("users", "get_user", "One user").answers(&[Field::new(
            "user",
            Kind::Any,
        )
        .required()]),
        Route::post("/api/v5/users/{id}/status", USER_WRITE, set_status)
            .doc("users", "set_user_status", "Set a user's status (free, busy, dinner, break)")
            .fields(&[Field::text("status").required().about("`free`, `busy`, `dinner` or `break` in RetailCRM.")]),
        Route::get("/api/v5/user-groups", USER_READ, groups)
            .doc("users", "list_user_groups", "User groups, paged")
            .answers(&[Field::object("pagination").required(), Field::new("groups", Kind::Any).required()])
            .fields(&[PAGING[0], PAGING[1]]),
    ]
}

/// A user as RetailCRM shows one; `groups` are short references `{id, name, code}`.
pub fn user_json(u: &User, groups: &BTreeMap<String, UserGroup>, zone: &torg_domain::time::Zone) -> Value {
    let refs: Vec<Value> = u
        .groups
        .iter()
        .filter_map(|code| groups.get(code))
        .map(|g| json!({ "id": g.id, "name": g.name, "code": g.code }))
        .collect();
    let mut m = json!({
        "id": u.id,
        "createdAt": zone.datetime(u.created_at),
        "active": u.active,
        "online": u.online,
        "isAdmin": u.is_admin,
        "isManager": u.is_manager,
        "firstName": u.first_name,
        "lastName": u.last_name,
        "status": u.status,
        "groups": refs,
    });
    for (key, value) in
        [("patronymic", &u.patronymic), ("email", &u.email), ("phone", &u.phone), ("position", &u.position)]
    {
        if let Some(v) = value {
            m[key] = json!(v);
        }
    }
    m
}

fn group_json(g: &UserGroup) -> Value {
    let mut m = g.attrs.clone();
    m.insert("id".into(), json!(g.id));
    m.insert("code".into(), json!(g.code));
    m.insert("name".into(), json!(g.name));
    m.insert("isManager".into(), json!(g.is_manager));
    m.insert("isDeliveryMen".into(), json!(g.is_delivery_men));
    for list in [
        "deliveryTypes",
        "breakdownOrderTypes",
        "breakdownSites",
        "breakdownOrderMethods",
        "grantedOrderTypes",
        "grantedSites",
    ] {
        m.entry(list).or_insert(json!([]));
    }
    Value::Object(m)
}

/// `GET /api/v5/users`.
async fn list(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let page = crm.default_page()?;
    let filter = crm.filter()?;
    let zone = &state.config.zone;
    let mut r = FilterReader::new(&filter, zone).noting(&crm.input);
    let status = r.text("status");
    if let Some(s) = status.as_deref().filter(|s| !torg_domain::telephony::USER_STATUSES.contains(s)) {
        return Err(CrmError::parameter(
            "filter[status]",
            &format!("Status '{s}' is not one of: free, busy, dinner, break."),
        ));
    }
    let f = UserFilter {
        email: r.text("email"),
        status,
        online: r.flag("online"),
        active: r.flag("active"),
        is_manager: r.flag("isManager"),
        is_admin: r.flag("isAdmin"),
        created_from: r.date_from("createdAtFrom"),
        created_to: r.date_to("createdAtTo"),
        groups: r.texts("groups"),
    };
    r.finish()?;
    let (users, meta) = state.store.list_users(&f, page).await?;
    let groups = state.store.user_groups_by_code().await?;
    let users: Vec<Value> = users.iter().map(|u| user_json(u, &groups, zone)).collect();
    ok(StatusCode::OK, json!({ "pagination": pagination(meta), "users": users }))
}

fn user_id(text: &str) -> Result<i64, CrmError> {
    text.parse::<i64>().map_err(|_| CrmError::not_found())
}

/// `GET /api/v5/users/{id}`.
async fn get(State(state): State<AppState>, Path(id): Path<String>, _crm: Crm) -> CrmResult {
    let Some(user) = state.store.get_user(user_id(&id)?).await? else { return Err(CrmError::not_found()) };
    let groups = state.store.user_groups_by_code().await?;
    ok(StatusCode::OK, json!({ "user": user_json(&user, &groups, &state.config.zone) }))
}

/// `POST /api/v5/users/{id}/status`.
async fn set_status(State(state): State<AppState>, Path(id): Path<String>, crm: Crm) -> CrmResult {
    let id = user_id(&id)?;
    let Some(status) = crm.input.text("status") else { return Err(CrmError::missing("status")) };
    if !state.store.set_user_status(id, &status).await? {
        return Err(CrmError::not_found());
    }
    ok(StatusCode::OK, json!({}))
}

/// `GET /api/v5/user-groups`.
async fn groups(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let page = crm.default_page()?;
    let (groups, meta) = state.store.list_user_groups(page).await?;
    let groups: Vec<Value> = groups.iter().map(group_json).collect();
    ok(StatusCode::OK, json!({ "pagination": pagination(meta), "groups": groups }))
}
