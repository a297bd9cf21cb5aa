//! Idempotency keys: a create retried with the same `Idempotency-Key` gets the first answer back. The
//! first request claims the key (one `INSERT … ON CONFLICT DO NOTHING`, atomic on both engines, so
//! concurrent retries and other instances see one winner); its answer is stored when it is done.

use crate::db;
use crate::{Store, StoreResult};

/// How long a key and its answer are kept (seconds).
pub const RETENTION_SECS: i64 = 24 * 60 * 60;

/// How long a claim may stay pending before another request may take it over (seconds): the first
/// request's process died before answering.
pub const ABANDONED_SECS: i64 = 120;

/// A stored answer.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAnswer {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// Body.
    pub body: String,
}

/// What a request with an idempotency key should do.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// It is the first: run, then [`Store::idempotency_finish`] (or [`Store::idempotency_release`]).
    Fresh,
    /// It was answered before: send this answer again.
    Replay(StoredAnswer),
    /// The key was used for a different request.
    Conflict,
    /// The first request with this key is still running.
    InFlight,
}

impl Store {
    /// Claims `key` for `scope` (the caller) and a request with `fingerprint`, at `now`.
    pub async fn idempotency_claim(&self, scope: &str, key: &str, fingerprint: &str, now: i64) -> StoreResult<Claim> {
        for _ in 0..3 {
            let mut tx = self.begin().await?;
            let inserted = db::query(
                "INSERT INTO idempotency_keys (scope, key, fingerprint, state, created_at, updated_at)
                 VALUES ($1, $2, $3, 'pending', $4, $4) ON CONFLICT (scope, key) DO NOTHING",
            )
            .bind(scope)
            .bind(key)
            .bind(fingerprint)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if inserted.rows_affected() == 1 {
                // Expired keys go in passing; the index on created_at keeps this cheap.
                if now % 64 == 0 {
                    db::query("DELETE FROM idempotency_keys WHERE created_at < $1")
                        .bind(now - RETENTION_SECS)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                return Ok(Claim::Fresh);
            }
            type Row = (String, String, Option<i64>, Option<String>, Option<String>, i64, i64);
            let row: Option<Row> = db::query_as(
                "SELECT fingerprint, state, status, content_type, body, created_at, updated_at
                 FROM idempotency_keys WHERE scope = $1 AND key = $2",
            )
            .bind(scope)
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((stored, state, status, content_type, body, created_at, updated_at)) = row else {
                // Deleted between the two statements: try the claim again.
                continue;
            };
            let expired = created_at < now - RETENTION_SECS;
            let abandoned = state == "pending" && updated_at < now - ABANDONED_SECS;
            if expired || abandoned {
                // Take the key over: the old answer is too old to replay, or nobody is producing it.
                let taken = db::query(
                    "UPDATE idempotency_keys SET fingerprint = $1, state = 'pending', status = NULL, content_type = NULL,
                     body = NULL, created_at = $2, updated_at = $2
                     WHERE scope = $3 AND key = $4 AND created_at = $5 AND updated_at = $6",
                )
                .bind(fingerprint)
                .bind(now)
                .bind(scope)
                .bind(key)
                .bind(created_at)
                .bind(updated_at)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                if taken.rows_affected() == 1 {
                    return Ok(Claim::Fresh);
                }
                continue;
            }
            tx.commit().await?;
            if stored != fingerprint {
                return Ok(Claim::Conflict);
            }
            return Ok(match (state.as_str(), status, body) {
                ("done", Some(status), Some(body)) => {
                    Claim::Replay(StoredAnswer { status: u16::try_from(status).unwrap_or(500), content_type, body })
                }
                _ => Claim::InFlight,
            });
        }
        Ok(Claim::InFlight)
    }

    /// Stores the answer of a claimed key.
    pub async fn idempotency_finish(&self, scope: &str, key: &str, answer: &StoredAnswer, now: i64) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        db::query(
            "UPDATE idempotency_keys SET state = 'done', status = $1, content_type = $2, body = $3, updated_at = $4
             WHERE scope = $5 AND key = $6",
        )
        .bind(i64::from(answer.status))
        .bind(&answer.content_type)
        .bind(&answer.body)
        .bind(now)
        .bind(scope)
        .bind(key)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Gives a claimed key up (the request failed inside torg): a retry runs afresh.
    pub async fn idempotency_release(&self, scope: &str, key: &str) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        db::query("DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND state = 'pending'")
            .bind(scope)
            .bind(key)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
