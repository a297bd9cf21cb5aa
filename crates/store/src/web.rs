//! Web analytics visits as the site's tracker uploads them, and notifications sent to users.

use crate::db;
use crate::sql::{Arg, Sql};
use crate::{Store, StoreResult, json_text};
use serde_json::{Map, Value};
use torg_domain::user;

/// A visit to store.
#[derive(Debug, Clone, PartialEq)]
pub struct Visit {
    /// The site's code, as the tracker names it.
    pub site: Option<String>,
    /// The visitor's client id.
    pub client_id: String,
    /// The customer, when known.
    pub customer_id: Option<i64>,
    /// When the visit began (Unix seconds).
    pub created_at: i64,
    /// Everything else (pages, source, length, landing and exit page).
    pub doc: Map<String, Value>,
}

/// A stored notification.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// Id.
    pub id: i64,
    /// To whom.
    pub user_id: i64,
    /// `api.info` or `api.error`.
    pub kind: String,
    /// Text.
    pub message: String,
    /// When (Unix seconds).
    pub created_at: i64,
}

impl Store {
    /// Stores visits, all or none.
    pub async fn store_visits(&self, visits: &[Visit]) -> StoreResult<usize> {
        let mut tx = self.begin().await?;
        for v in visits {
            db::query(
                "INSERT INTO web_visits (site, client_id, customer_id, created_at, doc) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&v.site)
            .bind(&v.client_id)
            .bind(v.customer_id)
            .bind(v.created_at)
            .bind(json_text(&v.doc))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(visits.len())
    }

    /// The visits of a client id, oldest first.
    pub async fn visits_of(&self, client_id: &str) -> StoreResult<Vec<Visit>> {
        type Row = (Option<String>, String, Option<i64>, i64, String);
        let rows: Vec<Row> = db::query_as(
            "SELECT site, client_id, customer_id, created_at, doc FROM web_visits WHERE client_id = $1 ORDER BY created_at, id",
        )
        .bind(client_id)
        .fetch_all(self.reader())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(site, client_id, customer_id, created_at, doc)| Visit {
                site,
                client_id,
                customer_id,
                created_at,
                doc: crate::json_map(&doc),
            })
            .collect())
    }

    /// Sends a notification to users and to the members of user groups (each user once); every user
    /// and group must exist. Returns how many users got it.
    pub async fn send_notification(
        &self,
        kind: &str,
        message: &str,
        user_ids: &[i64],
        groups: &[String],
    ) -> StoreResult<usize> {
        let mut tx = self.begin().await?;
        let mut users: Vec<i64> = Vec::new();
        for (i, id) in user_ids.iter().enumerate() {
            self.check_user_in(&mut tx, *id, &user::recipient_at(i)).await?;
            users.push(*id);
        }
        for (i, code) in groups.iter().enumerate() {
            let group: Option<i64> = db::query_scalar("SELECT id FROM user_groups WHERE code = $1")
                .bind(code)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(group) = group else { return Err(user::unknown_recipient_group(i, code).into()) };
            let members: Vec<(i64,)> = db::query_as("SELECT user_id FROM user_group_members WHERE group_id = $1")
                .bind(group)
                .fetch_all(&mut *tx)
                .await?;
            users.extend(members.into_iter().map(|m| m.0));
        }
        users.sort_unstable();
        users.dedup();
        let now = torg_domain::time::now();
        for user in &users {
            db::query("INSERT INTO notifications (user_id, type, message, created_at) VALUES ($1, $2, $3, $4)")
                .bind(*user)
                .bind(kind)
                .bind(message)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(users.len())
    }

    /// A user's notifications, newest first.
    pub async fn notifications_of(&self, user_id: i64) -> StoreResult<Vec<Notification>> {
        let mut q = Sql::new("SELECT id, user_id, type, message, created_at FROM notifications WHERE user_id = ");
        q.bind(Arg::Int(user_id)).push(" ORDER BY id DESC");
        let rows: Vec<(i64, i64, String, String, i64)> = q.query_as().fetch_all(self.reader()).await?;
        Ok(rows
            .into_iter()
            .map(|(id, user_id, kind, message, created_at)| Notification { id, user_id, kind, message, created_at })
            .collect())
    }
}
