//! Calls reported by telephony and the lookup of who is responsible for a caller.

use crate::{Store, StoreResult};
use serde_json::{Map, Value};
use torg_domain::customer::{Customer, CustomerStats};
use torg_domain::patch::phone_digits;
use torg_domain::telephony::User;

/// A call to store.
#[derive(Debug, Clone)]
pub struct CallUpload {
    /// When (Unix seconds).
    pub date: i64,
    /// `in` or `out`.
    pub kind: String,
    /// The other party.
    pub phone: String,
    /// Manager's extension.
    pub code: Option<String>,
    /// Manager's user id.
    pub user_id: Option<i64>,
    /// Result.
    pub result: Option<String>,
    /// Seconds talked.
    pub duration: Option<i64>,
    /// Telephony's id.
    pub external_id: Option<String>,
    /// Site.
    pub site: Option<String>,
    /// Everything else given.
    pub attrs: Map<String, Value>,
}

/// Who answers for a phone number.
#[derive(Debug, Clone)]
pub struct ManagerMatch {
    /// The customer with that phone, if any.
    pub customer: Option<(Customer, CustomerStats)>,
    /// Their responsible manager, if any.
    pub manager: Option<User>,
}

impl Store {
    /// Stores calls; returns how many were stored and the external ids already known (duplicates).
    pub async fn upload_calls(&self, calls: &[CallUpload]) -> StoreResult<(u64, Vec<String>)> {
        let mut tx = self.begin().await?;
        let mut stored = 0;
        let mut duplicates = Vec::new();
        let now = torg_domain::time::now();
        for c in calls {
            if let Some(ext) = &c.external_id {
                let known: Option<(i64,)> = crate::db::query_as("SELECT id FROM calls WHERE external_id = $1")
                    .bind(ext)
                    .fetch_optional(&mut *tx)
                    .await?;
                if known.is_some() {
                    duplicates.push(ext.clone());
                    continue;
                }
            }
            crate::db::query(
                "INSERT INTO calls (date, kind, phone, code, user_id, result, duration, external_id, site, attrs, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(c.date)
            .bind(&c.kind)
            .bind(&c.phone)
            .bind(&c.code)
            .bind(c.user_id)
            .bind(&c.result)
            .bind(c.duration)
            .bind(&c.external_id)
            .bind(&c.site)
            .bind(Value::Object(c.attrs.clone()).to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            stored += 1;
        }
        tx.commit().await?;
        Ok((stored, duplicates))
    }

    /// Records a call event (a ringing, answered or hung-up call).
    pub async fn record_call_event(
        &self,
        phone: &str,
        kind: &str,
        codes: &[String],
        user_ids: &[i64],
        site: Option<&str>,
        attrs: &Map<String, Value>,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        crate::db::query("INSERT INTO call_events (phone, kind, codes, user_ids, site, attrs, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(phone)
            .bind(kind)
            .bind(serde_json::to_string(codes).unwrap_or_default())
            .bind(serde_json::to_string(user_ids).unwrap_or_default())
            .bind(site)
            .bind(Value::Object(attrs.clone()).to_string())
            .bind(torg_domain::time::now())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The customer whose phone matches (by digits, within the allowed sites) and their manager.
    pub async fn manager_for_phone(&self, phone: &str, allowed_sites: &[String]) -> StoreResult<ManagerMatch> {
        let digits = phone_digits(phone);
        if digits.len() < 3 {
            return Ok(ManagerMatch { customer: None, manager: None });
        }
        let candidates: Vec<(i64, String)> = crate::db::query_as(format!(
            "SELECT c.id, c.site FROM {} AND f.value = $1 ORDER BY c.id",
            crate::facets::CUSTOMERS_BY_PHONE
        ))
        .bind(digits)
        .fetch_all(self.reader())
        .await?;
        let Some((id, _)) = candidates.into_iter().find(|(_, site)| allowed_sites.contains(site)) else {
            return Ok(ManagerMatch { customer: None, manager: None });
        };
        let customer = self.get_customer(&crate::CustomerLookup::Id(id)).await?;
        let manager = match customer.as_ref().and_then(|c| c.0.manager_id) {
            Some(m) => self.get_user(m).await?,
            None => None,
        };
        Ok(ManagerMatch { customer, manager })
    }
}
