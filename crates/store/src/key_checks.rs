//! Key checks kept while what they read has not changed. On SQLite a request whose key was checked
//! at the database's current [`CommitMark`] is answered the same key, books and generation without a
//! statement: any commit, by any connection or process (a key revoked by `torg keys revoke`, an order
//! created by another server on the same file), moves the mark, and the next check reads again.
//! PostgreSQL has no such mark to read without a statement; there a key is kept by the keys'
//! generation, which a round of checks shared by the requests in flight reads (`key_rounds`), and
//! the books and generation come from that round.

use crate::keys::ShownGeneration;
use crate::last_commit::CommitMark;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use torg_domain::books::Books;
use torg_domain::key::ApiKey;

/// What a key check found: the key, the books and the generation of the orders' tables.
pub(crate) type KeyCheck = (Arc<ApiKey>, Arc<Books>, ShownGeneration);

/// What a kept check is kept by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mark {
    /// The SQLite file's last commit.
    Commit(CommitMark),
    /// The keys' generation (PostgreSQL).
    Keys(i64),
}

/// Most keys kept at one mark; a key found is kept only while there is room (unknown keys never are,
/// so guessing keys cannot fill it).
const MOST_KEPT: usize = 1024;

/// The checks read at one mark, by the key's hash.
#[derive(Default)]
struct AtMark {
    mark: Option<Mark>,
    checks: HashMap<String, KeyCheck>,
}

/// Key checks kept by the mark they were read at.
#[derive(Default)]
pub(crate) struct KeptKeyChecks {
    held: Mutex<AtMark>,
    /// Checks answered as kept, and checks that read the database.
    outcomes: crate::Outcomes,
}

/// How many key checks were answered as kept and how many read the database (`/metrics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyCheckStats {
    /// Checks answered without reading the key's row (on PostgreSQL, from a shared round), since
    /// start.
    pub kept: u64,
    /// Checks that read the database, since start.
    pub read: u64,
    /// Statements shared by the checks in flight (PostgreSQL), since start.
    pub rounds: u64,
}

impl KeptKeyChecks {
    /// The check of the key with this hash kept at `mark`, if any; counted as kept or read.
    pub(crate) fn at(&self, mark: Option<Mark>, hash: &str) -> Option<KeyCheck> {
        self.outcomes.count(mark.and_then(|mark| {
            let held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
            if held.mark == Some(mark) { held.checks.get(hash).cloned() } else { None }
        }))
    }

    /// Keeps a check read after the mark was `mark`: the checks kept at an earlier mark go.
    pub(crate) fn keep(&self, mark: Option<Mark>, hash: String, check: &KeyCheck) {
        let Some(mark) = mark else { return };
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        if held.mark != Some(mark) {
            held.mark = Some(mark);
            held.checks.clear();
        }
        if held.checks.len() < MOST_KEPT {
            held.checks.insert(hash, check.clone());
        }
    }

    /// What the kept checks have done.
    pub(crate) fn stats(&self, rounds: u64) -> KeyCheckStats {
        KeyCheckStats { kept: self.outcomes.kept(), read: self.outcomes.read(), rounds }
    }
}
