//! SMS checks: a code sent to a phone, confirmed by whoever received it. The code is kept as sent (it
//! lives five minutes) so that a test or a demo can read it back; delivering it is the HTTP layer's
//! sender's business.

use crate::{Store, StoreResult, db};
use torg_domain::DomainError;
use torg_domain::loyalty::{SMS_CODE_TTL, SmsCheck};

/// How a confirmation went.
#[derive(Debug, Clone, PartialEq)]
pub enum Confirmation {
    /// The code was right; the check as it now is.
    Verified(SmsCheck),
    /// The code was wrong; tries left.
    WrongCode(i64),
    /// The check expired, ran out of tries, or was already confirmed.
    Closed(SmsCheck),
}

fn check_from_row(r: &db::Row) -> StoreResult<SmsCheck> {
    Ok(SmsCheck {
        check_id: r.try_get("check_id")?,
        phone: r.try_get("phone")?,
        action_type: r.try_get("action_type")?,
        created_at: r.try_get("created_at")?,
        expired_at: r.try_get("expired_at")?,
        verified_at: r.try_get("verified_at")?,
        attempts: r.try_get("attempts")?,
    })
}

const SELECT: &str =
    "SELECT check_id, phone, action_type, created_at, expired_at, verified_at, attempts FROM sms_verifications";
const SELECT_WITH_CODE: &str =
    "SELECT check_id, phone, action_type, created_at, expired_at, verified_at, attempts, code FROM sms_verifications";

impl Store {
    /// Records a code sent to `phone`; the check lives [`SMS_CODE_TTL`] seconds.
    pub async fn create_sms_check(
        &self,
        check_id: &str,
        phone: &str,
        action_type: &str,
        code: &str,
    ) -> StoreResult<SmsCheck> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        db::query(
            "INSERT INTO sms_verifications (check_id, phone, action_type, code, attempts, created_at, expired_at)
             VALUES ($1, $2, $3, $4, 0, $5, $6)",
        )
        .bind(check_id)
        .bind(phone)
        .bind(action_type)
        .bind(code)
        .bind(now)
        .bind(now + SMS_CODE_TTL)
        .execute(&mut tx)
        .await?;
        tx.commit().await?;
        Ok(SmsCheck {
            check_id: check_id.into(),
            phone: phone.into(),
            action_type: action_type.into(),
            created_at: now,
            expired_at: now + SMS_CODE_TTL,
            verified_at: None,
            attempts: 0,
        })
    }

    /// A check by its id.
    pub async fn sms_check(&self, check_id: &str) -> StoreResult<Option<SmsCheck>> {
        let row =
            db::query(format!("{SELECT} WHERE check_id = $1")).bind(check_id).fetch_optional(self.reader()).await?;
        row.as_ref().map(check_from_row).transpose()
    }

    /// The code a check was sent (for tests and the demo's log sender).
    pub async fn sms_code(&self, check_id: &str) -> StoreResult<Option<String>> {
        let row: Option<(String,)> = db::query_as("SELECT code FROM sms_verifications WHERE check_id = $1")
            .bind(check_id)
            .fetch_optional(self.reader())
            .await?;
        Ok(row.map(|r| r.0))
    }

    /// Tries a code against a check: right once, within its life and its tries.
    pub async fn confirm_sms_check(&self, check_id: &str, code: &str) -> StoreResult<Confirmation> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        let row =
            db::query(format!("{SELECT_WITH_CODE} WHERE check_id = $1")).bind(check_id).fetch_optional(&mut tx).await?;
        let Some(row) = row else { return Err(DomainError::NotFound("verification".into()).into()) };
        let mut check = check_from_row(&row)?;
        let sent: String = row.try_get("code")?;
        if check.is_closed(now) {
            return Ok(Confirmation::Closed(check));
        }
        if !SmsCheck::is_right_code(&sent, code) {
            db::query("UPDATE sms_verifications SET attempts = attempts + 1 WHERE check_id = $1")
                .bind(check_id)
                .execute(&mut tx)
                .await?;
            tx.commit().await?;
            return Ok(Confirmation::WrongCode(check.tries_left_after_wrong()));
        }
        db::query("UPDATE sms_verifications SET verified_at = $1 WHERE check_id = $2")
            .bind(now)
            .bind(check_id)
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
        check.verified_at = Some(now);
        Ok(Confirmation::Verified(check))
    }
}
