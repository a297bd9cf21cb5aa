//! Users (the people who work in the account: managers, administrators, couriers) and their groups.

use crate::db::{self, Row};
use crate::sql::{Arg, Sql};
use crate::{Store, StoreResult, flag, json_map, json_text};
use std::collections::BTreeMap;
use torg_domain::page::{PageRequest, Pagination};
use torg_domain::telephony::{User, UserGroup};
use torg_domain::user;

const COLUMNS: &str = "id, first_name, last_name, patronymic, email, code, active, phone, position, status, online, is_admin, is_manager, created_at";

/// Which users a list shows; every condition given must hold.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    /// E-mail, exactly.
    pub email: Option<String>,
    /// Status (`free`, `busy`, …).
    pub status: Option<String>,
    /// Signed in or not.
    pub online: Option<bool>,
    /// Active or not.
    pub active: Option<bool>,
    /// Managers or not.
    pub is_manager: Option<bool>,
    /// Administrators or not.
    pub is_admin: Option<bool>,
    /// Added at or after (Unix seconds).
    pub created_from: Option<i64>,
    /// Added at or before (Unix seconds).
    pub created_to: Option<i64>,
    /// Members of any of these groups (codes).
    pub groups: Vec<String>,
}

pub(crate) fn user_from_row(r: &Row) -> StoreResult<User> {
    Ok(User {
        id: r.try_get("id")?,
        first_name: r.try_get("first_name")?,
        last_name: r.try_get("last_name")?,
        patronymic: r.try_get("patronymic")?,
        email: r.try_get("email")?,
        code: r.try_get("code")?,
        active: flag(r.try_get("active")?),
        phone: r.try_get("phone")?,
        position: r.try_get("position")?,
        status: r.try_get("status")?,
        online: flag(r.try_get("online")?),
        is_admin: flag(r.try_get("is_admin")?),
        is_manager: flag(r.try_get("is_manager")?),
        created_at: r.try_get("created_at")?,
        groups: Vec::new(),
    })
}

fn group_from_row(r: &Row) -> StoreResult<UserGroup> {
    Ok(UserGroup {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        is_manager: flag(r.try_get("is_manager")?),
        is_delivery_men: flag(r.try_get("is_delivery_men")?),
        attrs: json_map(&r.try_get::<String, _>("attrs")?),
    })
}

fn flag_arg(b: bool) -> Arg {
    Arg::Int(i64::from(b))
}

impl Store {
    /// A page of users matching `f`, by id, each with its groups' codes.
    pub async fn list_users(&self, f: &UserFilter, page: PageRequest) -> StoreResult<(Vec<User>, Pagination)> {
        let mut wh = Sql::new(" WHERE 1 = 1");
        if let Some(e) = &f.email {
            wh.push(" AND email = ").bind(Arg::Text(e.clone()));
        }
        if let Some(s) = &f.status {
            wh.push(" AND status = ").bind(Arg::Text(s.clone()));
        }
        for (column, value) in
            [("online", f.online), ("active", f.active), ("is_manager", f.is_manager), ("is_admin", f.is_admin)]
        {
            if let Some(v) = value {
                wh.push(&format!(" AND {column} = ")).bind(flag_arg(v));
            }
        }
        if let Some(t) = f.created_from {
            wh.push(" AND created_at >= ").bind(Arg::Int(t));
        }
        if let Some(t) = f.created_to {
            wh.push(" AND created_at <= ").bind(Arg::Int(t));
        }
        if !f.groups.is_empty() {
            wh.push(" AND id IN (SELECT m.user_id FROM user_group_members m JOIN user_groups g ON g.id = m.group_id WHERE g.code IN ")
                .bind_list(f.groups.iter().cloned().map(Arg::Text))
                .push(")");
        }
        let (total,): (i64,) = wh.with_prefix("SELECT COUNT(*) FROM users").query_as().fetch_one(self.reader()).await?;
        let mut select = wh.with_prefix(&format!("SELECT {COLUMNS} FROM users"));
        select.push(" ORDER BY id");
        crate::sql::page(&mut select, page.limit, page.offset());
        let rows = select.query().fetch_all(self.reader()).await?;
        let mut users = rows.iter().map(user_from_row).collect::<StoreResult<Vec<_>>>()?;
        self.attach_groups(&mut users).await?;
        Ok((users, page.meta(total.max(0) as u64)))
    }

    /// One user with its groups' codes.
    pub async fn get_user(&self, id: i64) -> StoreResult<Option<User>> {
        let row = db::query(format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.reader())
            .await?;
        let Some(row) = row else { return Ok(None) };
        let mut users = vec![user_from_row(&row)?];
        self.attach_groups(&mut users).await?;
        Ok(users.pop())
    }

    async fn attach_groups(&self, users: &mut [User]) -> StoreResult<()> {
        if users.is_empty() {
            return Ok(());
        }
        let mut q = Sql::new(
            "SELECT m.user_id, g.code FROM user_group_members m JOIN user_groups g ON g.id = m.group_id WHERE m.user_id IN ",
        );
        q.bind_list(users.iter().map(|u| Arg::Int(u.id)));
        q.push(" ORDER BY g.id");
        let rows: Vec<(i64, String)> = q.query_as().fetch_all(self.reader()).await?;
        let mut by_user: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        for (user, code) in rows {
            by_user.entry(user).or_default().push(code);
        }
        for u in users {
            u.groups = by_user.remove(&u.id).unwrap_or_default();
        }
        Ok(())
    }

    /// Refuses a user id (`field`) that names no user, inside a write.
    pub(crate) async fn check_user_in(&self, tx: &mut crate::Tx, id: i64, field: &str) -> StoreResult<()> {
        let found: Option<i64> =
            db::query_scalar("SELECT id FROM users WHERE id = $1").bind(id).fetch_optional(&mut **tx).await?;
        if found.is_none() {
            return Err(user::unknown_at(field, id).into());
        }
        Ok(())
    }

    /// Sets a user's status; false when there is no such user.
    pub async fn set_user_status(&self, id: i64, status: &str) -> StoreResult<bool> {
        user::check_status(status)?;
        let mut tx = self.begin().await?;
        let done =
            db::query("UPDATE users SET status = $1 WHERE id = $2").bind(status).bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// Adds a user with the groups it names (by code; every one must exist); returns it with its id.
    pub async fn create_user(&self, user: &User) -> StoreResult<User> {
        let mut tx = self.begin().await?;
        let created_at = if user.created_at > 0 { user.created_at } else { torg_domain::time::now() };
        let status = if user.status.is_empty() { "free" } else { user.status.as_str() };
        let id: i64 = db::query_scalar(
            "INSERT INTO users (first_name, last_name, patronymic, email, code, active, phone, position, status, online, is_admin, is_manager, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
        )
        .bind(&user.first_name)
        .bind(&user.last_name)
        .bind(&user.patronymic)
        .bind(&user.email)
        .bind(&user.code)
        .bind(i64::from(user.active))
        .bind(&user.phone)
        .bind(&user.position)
        .bind(status)
        .bind(i64::from(user.online))
        .bind(i64::from(user.is_admin))
        .bind(i64::from(user.is_manager || user.groups.is_empty()))
        .bind(created_at)
        .fetch_one(&mut *tx)
        .await?;
        for code in &user.groups {
            let group: Option<i64> = db::query_scalar("SELECT id FROM user_groups WHERE code = $1")
                .bind(code)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(group) = group else { return Err(user::unknown_group(code).into()) };
            db::query("INSERT INTO user_group_members (user_id, group_id) VALUES ($1, $2)")
                .bind(id)
                .bind(group)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(User { id, created_at, status: status.to_string(), ..user.clone() })
    }

    /// A page of user groups, by id.
    pub async fn list_user_groups(&self, page: PageRequest) -> StoreResult<(Vec<UserGroup>, Pagination)> {
        let total: i64 = db::query_scalar("SELECT COUNT(*) FROM user_groups").fetch_one(self.reader()).await?;
        let mut list = crate::sql::Sql::new(
            "SELECT id, code, name, is_manager, is_delivery_men, attrs FROM user_groups ORDER BY id",
        );
        crate::sql::page(&mut list, page.limit, page.offset());
        let rows = list.query().fetch_all(self.reader()).await?;
        let groups = rows.iter().map(group_from_row).collect::<StoreResult<Vec<_>>>()?;
        Ok((groups, page.meta(total.max(0) as u64)))
    }

    /// Creates or replaces a user group by code; returns its id.
    pub async fn put_user_group(&self, g: &UserGroup) -> StoreResult<i64> {
        let mut tx = self.begin().await?;
        let existing: Option<i64> = db::query_scalar("SELECT id FROM user_groups WHERE code = $1")
            .bind(&g.code)
            .fetch_optional(&mut *tx)
            .await?;
        let id = match existing {
            Some(id) => {
                db::query("UPDATE user_groups SET name = $1, is_manager = $2, is_delivery_men = $3, attrs = $4 WHERE id = $5")
                    .bind(&g.name)
                    .bind(i64::from(g.is_manager))
                    .bind(i64::from(g.is_delivery_men))
                    .bind(json_text(&g.attrs))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                id
            }
            None => {
                db::query_scalar(
                    "INSERT INTO user_groups (code, name, is_manager, is_delivery_men, attrs) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(&g.code)
                .bind(&g.name)
                .bind(i64::from(g.is_manager))
                .bind(i64::from(g.is_delivery_men))
                .bind(json_text(&g.attrs))
                .fetch_one(&mut *tx)
                .await?
            }
        };
        tx.commit().await?;
        Ok(id)
    }

    /// Which of these telephony codes and user ids belong to users: (codes found, ids found).
    pub async fn known_users(&self, codes: &[String], ids: &[i64]) -> StoreResult<(Vec<String>, Vec<i64>)> {
        let mut found_codes = Vec::new();
        if !codes.is_empty() {
            let mut q = Sql::new("SELECT DISTINCT code FROM users WHERE code IN ");
            q.bind_list(codes.iter().cloned().map(Arg::Text));
            let rows: Vec<(String,)> = q.query_as().fetch_all(self.reader()).await?;
            found_codes = rows.into_iter().map(|r| r.0).collect();
        }
        let mut found_ids = Vec::new();
        if !ids.is_empty() {
            let mut q = Sql::new("SELECT id FROM users WHERE id IN ");
            q.bind_list(ids.iter().copied().map(Arg::Int));
            let rows: Vec<(i64,)> = q.query_as().fetch_all(self.reader()).await?;
            found_ids = rows.into_iter().map(|r| r.0).collect();
        }
        Ok((found_codes, found_ids))
    }

    /// The customer's latest order (by creation), if any.
    pub async fn last_order_of(&self, customer_id: i64) -> StoreResult<Option<i64>> {
        Ok(db::query_scalar("SELECT id FROM orders WHERE customer_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1")
            .bind(customer_id)
            .fetch_optional(self.reader())
            .await?)
    }

    /// Every group by code (for a user's short group references).
    pub async fn user_groups_by_code(&self) -> StoreResult<BTreeMap<String, UserGroup>> {
        let rows = db::query("SELECT id, code, name, is_manager, is_delivery_men, attrs FROM user_groups ORDER BY id")
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(|r| group_from_row(r).map(|g| (g.code.clone(), g))).collect()
    }
}
