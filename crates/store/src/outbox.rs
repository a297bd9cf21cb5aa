//! The durable event outbox: events are written in the transaction of the change they announce, and
//! workers claim them with a lease, so an event is handed to one worker at a time even when several
//! torg instances share a PostgreSQL database (`FOR UPDATE SKIP LOCKED`; SQLite's single writer
//! serialises claims by itself). Times here are Unix milliseconds.

use crate::{Backend, Store, StoreResult, Tx};

/// An event claimed for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEvent {
    /// Event id, increasing in commit order per subject.
    pub id: i64,
    /// What happened, e.g. `invoice.status`.
    pub topic: String,
    /// What it happened to, e.g. an invoice id.
    pub subject: String,
    /// Details, JSON text.
    pub payload: String,
    /// Deliveries tried before this one.
    pub attempts: i64,
    /// The claim's token: settling the event needs it, so a worker whose lease ran out cannot settle
    /// an event another worker has claimed since.
    pub lease_token: String,
}

/// Counts of the outbox, for diagnostics and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutboxCounts {
    /// Waiting for (another) delivery.
    pub pending: i64,
    /// Delivered.
    pub delivered: i64,
    /// Given up after the last retry.
    pub given_up: i64,
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

impl Store {
    /// Adds an event about something of `site` inside the caller's transaction.
    pub(crate) async fn enqueue_in(
        &self,
        tx: &mut Tx,
        topic: &str,
        subject: &str,
        site: &str,
        payload: &str,
    ) -> StoreResult<()> {
        let now = now_ms();
        crate::db::query(
            "INSERT INTO outbox (topic, subject, payload, attempts, next_attempt_at, created_at, site)
             VALUES ($1, $2, $3, 0, $4, $5, $6)",
        )
        .bind(topic)
        .bind(subject)
        .bind(payload)
        .bind(now)
        .bind(now)
        .bind(site)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Claims up to `limit` due events for `lease_ms`, oldest first. An event whose lease ran out (its
    /// worker died) is due again.
    pub async fn claim_events(&self, limit: i64, lease_ms: i64, token: &str) -> StoreResult<Vec<OutboxEvent>> {
        let now = now_ms();
        let lock = match self.backend() {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE outbox SET lease_token = $1, lease_until = $2 WHERE id IN (
               SELECT id FROM outbox WHERE delivered_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= $3
               AND (lease_until IS NULL OR lease_until < $3) ORDER BY id LIMIT $4{lock})
             RETURNING id, topic, subject, payload, attempts, lease_token"
        );
        let mut tx = self.begin().await?;
        let rows =
            crate::db::query(sql).bind(token).bind(now + lease_ms).bind(now).bind(limit).fetch_all(&mut *tx).await?;
        tx.commit().await?;
        let mut out = rows
            .iter()
            .map(|r| {
                Ok(OutboxEvent {
                    id: r.try_get("id")?,
                    topic: r.try_get("topic")?,
                    subject: r.try_get("subject")?,
                    payload: r.try_get("payload")?,
                    attempts: r.try_get("attempts")?,
                    lease_token: r.try_get("lease_token")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        out.sort_by_key(|e| e.id);
        Ok(out)
    }

    /// Deletes events delivered or given up before `before_ms`; pending ones are kept whatever their age.
    /// Returns how many went.
    pub async fn prune_events(&self, before_ms: i64) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        let gone = crate::db::query(
            "DELETE FROM outbox WHERE (delivered_at IS NOT NULL AND delivered_at < $1)
             OR (gave_up_at IS NOT NULL AND gave_up_at < $1)",
        )
        .bind(before_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(gone)
    }

    /// Marks a claimed event delivered; false if the claim was lost meanwhile.
    pub async fn event_delivered(&self, e: &OutboxEvent) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let done = crate::db::query(
            "UPDATE outbox SET delivered_at = $1, attempts = attempts + 1, lease_token = NULL, lease_until = NULL,
             last_error = NULL WHERE id = $2 AND lease_token = $3",
        )
        .bind(now_ms())
        .bind(e.id)
        .bind(&e.lease_token)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(done == 1)
    }

    /// Records a failed delivery: the event is due again at `retry_at`, or given up when `None`.
    pub async fn event_failed(&self, e: &OutboxEvent, error: &str, retry_at: Option<i64>) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let error: String = error.chars().take(1000).collect();
        match retry_at {
            Some(at) => {
                crate::db::query(
                    "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2, lease_token = NULL,
                     lease_until = NULL WHERE id = $3 AND lease_token = $4",
                )
                .bind(at)
                .bind(error)
                .bind(e.id)
                .bind(&e.lease_token)
                .execute(&mut *tx)
                .await?;
            }
            None => {
                crate::db::query(
                    "UPDATE outbox SET attempts = attempts + 1, gave_up_at = $1, last_error = $2, lease_token = NULL,
                     lease_until = NULL WHERE id = $3 AND lease_token = $4",
                )
                .bind(now_ms())
                .bind(error)
                .bind(e.id)
                .bind(&e.lease_token)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Gives a claimed event back untouched (a worker shutting down), so it is due at once elsewhere.
    pub async fn release_event(&self, e: &OutboxEvent) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        crate::db::query("UPDATE outbox SET lease_token = NULL, lease_until = NULL WHERE id = $1 AND lease_token = $2")
            .bind(e.id)
            .bind(&e.lease_token)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// How many events wait, were delivered, or were given up.
    pub async fn outbox_counts(&self) -> StoreResult<OutboxCounts> {
        let row = crate::db::query(
            "SELECT CAST(COALESCE(SUM(CASE WHEN delivered_at IS NULL AND gave_up_at IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS p,
                    CAST(COALESCE(SUM(CASE WHEN delivered_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS d,
                    CAST(COALESCE(SUM(CASE WHEN gave_up_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS g FROM outbox",
        )
        .fetch_one(self.reader())
        .await?;
        Ok(OutboxCounts { pending: row.try_get("p")?, delivered: row.try_get("d")?, given_up: row.try_get("g")? })
    }

    /// The newest event's id (0 when there is none): where a gate listener that never connected starts.
    pub async fn last_event_id(&self) -> StoreResult<i64> {
        let (id,): (i64,) = crate::db::query_as("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM outbox")
            .fetch_one(self.reader())
            .await?;
        Ok(id)
    }

    /// Up to `limit` events of `sites` after event `after`, oldest first, written at least `settle_ms`
    /// ago: a transaction that took its id earlier but commits later is then visible before the
    /// listener moves past it. Delivery state does not matter: the gate and webhooks are two channels.
    pub async fn events_after(
        &self,
        after: i64,
        sites: &[String],
        settle_ms: i64,
        limit: i64,
    ) -> StoreResult<Vec<OutboxEvent>> {
        if sites.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = crate::sql::Sql::new("SELECT id, topic, subject, payload, attempts FROM outbox WHERE id > ");
        q.bind(crate::sql::Arg::Int(after))
            .push(" AND created_at <= ")
            .bind(crate::sql::Arg::Int(now_ms() - settle_ms));
        q.push(" AND site IN ").bind_list(sites.iter().cloned().map(crate::sql::Arg::Text));
        q.push(&format!(" ORDER BY id LIMIT {limit}"));
        let rows = q.query().fetch_all(self.reader()).await?;
        rows.iter()
            .map(|r| {
                Ok(OutboxEvent {
                    id: r.try_get("id")?,
                    topic: r.try_get("topic")?,
                    subject: r.try_get("subject")?,
                    payload: r.try_get("payload")?,
                    attempts: r.try_get("attempts")?,
                    lease_token: String::new(),
                })
            })
            .collect()
    }

    /// The last event a key's gate listener acknowledged, if it ever connected.
    pub async fn gate_cursor(&self, key_id: i64) -> StoreResult<Option<i64>> {
        let row: Option<(i64,)> = crate::db::query_as("SELECT event_id FROM gate_cursors WHERE key_id = $1")
            .bind(key_id)
            .fetch_optional(self.reader())
            .await?;
        Ok(row.map(|r| r.0))
    }

    /// Moves a key's gate cursor forward to `event_id` (never back).
    pub async fn set_gate_cursor(&self, key_id: i64, event_id: i64) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        crate::db::query(
            "INSERT INTO gate_cursors (key_id, event_id, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (key_id) DO UPDATE SET event_id = excluded.event_id, updated_at = excluded.updated_at
             WHERE gate_cursors.event_id < excluded.event_id",
        )
        .bind(key_id)
        .bind(event_id)
        .bind(torg_domain::time::now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
