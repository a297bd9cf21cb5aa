//! Key checks shared by the requests that arrive together (PostgreSQL). Every request's key must be
//! checked against the database as it is after the request arrived (a key revoked on any instance is
//! refused on the next request), but nothing says each request needs a statement of its own: a round
//! reads the generations of the keys, the books and the orders' tables in one small statement, sent
//! only after every request it answers had arrived, so each of them sees every commit made before it
//! came. Requests that arrive while a round is out wait for the next one. With many requests in flight
//! one statement answers all of them; alone, a request pays the one statement it always paid.
//!
//! A key read at the keys' generation a round finds is answered without reading its row again
//! (`key_checks`): a trigger moves that generation on any change to `api_keys` (migration
//! `key_generation`), by whoever writes it.

use crate::{Store, StoreResult};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use tokio::sync::oneshot;

/// What one round read, all in one snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Generations {
    /// Of `api_keys`.
    pub(crate) keys: i64,
    /// Of the books ([`crate::book_cache`]).
    pub(crate) books: i64,
    /// Of what pages of orders are read from ([`crate::keys::ShownGeneration`]).
    pub(crate) shown: i64,
}

/// The statement of a round.
fn round_sql() -> String {
    format!(
        "SELECT {KEYS_GENERATION}, {}, ({})",
        crate::book_cache::GENERATION,
        crate::orders::shown_generation_sql(crate::Backend::Postgres)
    )
}

/// The keys' generation, as a sub-query other statements can carry.
pub(crate) const KEYS_GENERATION: &str = "(SELECT n FROM cache_generations WHERE name = 'keys')";

/// The requests waiting for the next round, and whether a driver is sending rounds.
#[derive(Default)]
struct Waiting {
    driving: bool,
    members: Vec<oneshot::Sender<Generations>>,
}

/// Rounds of key checks shared by the requests waiting for them.
#[derive(Default)]
pub(crate) struct KeyRounds {
    waiting: Mutex<Waiting>,
    /// Rounds sent since start (`/metrics`).
    sent: AtomicU64,
}

impl KeyRounds {
    fn waiting(&self) -> std::sync::MutexGuard<'_, Waiting> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Rounds sent since start.
    pub(crate) fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// The generations as a statement sent after this call read them; `None` when the round could not
    /// read them (the caller then reads on its own, and meets the error itself).
    pub(crate) async fn join(&self, store: &Store) -> Option<Generations> {
        let (sender, answer) = oneshot::channel();
        let start = {
            let mut waiting = self.waiting();
            waiting.members.push(sender);
            !std::mem::replace(&mut waiting.driving, true)
        };
        if start {
            tokio::spawn(drive(store.clone()));
        }
        answer.await.ok()
    }
}

/// Sends rounds while requests wait for one, then stops (the next request starts another driver).
async fn drive(store: Store) {
    let rounds = store.key_rounds.clone();
    let mut guard = Unwind { rounds: &rounds, finished: false };
    loop {
        let members = {
            let mut waiting = rounds.waiting();
            if waiting.members.is_empty() {
                waiting.driving = false;
                guard.finished = true;
                return;
            }
            std::mem::take(&mut waiting.members)
        };
        rounds.sent.fetch_add(1, Ordering::Relaxed);
        // Dropping the senders on an error answers `None`: each member reads on its own.
        if let Ok(generations) = read(&store).await {
            for member in members {
                let _ = member.send(generations);
            }
        }
    }
}

/// Lets the next request start a driver if this one stops other than by finding no one waiting (a
/// panic, or the runtime shutting down); the requests it held read on their own.
struct Unwind<'a> {
    rounds: &'a KeyRounds,
    finished: bool,
}

impl Drop for Unwind<'_> {
    fn drop(&mut self) {
        if !self.finished {
            let mut waiting = self.rounds.waiting();
            waiting.driving = false;
            waiting.members.clear();
        }
    }
}

async fn read(store: &Store) -> StoreResult<Generations> {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(round_sql);
    let (keys, books, shown): (i64, i64, i64) = crate::db::query_as(SQL.as_str()).fetch_one(store.reader()).await?;
    Ok(Generations { keys, books, shown })
}
