//! How the lookups of something kept in process turned out: answered from what was kept, or read.
//! The kept pages, the kept key checks and the CRM face's kept orders count theirs with it for
//! `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering};

/// Lookups answered as kept and lookups that had to read, since start.
#[derive(Debug, Default)]
pub struct Outcomes {
    kept: AtomicU64,
    read: AtomicU64,
}

impl Outcomes {
    /// Counts one lookup, kept when it `found` something, and passes what it found on.
    pub fn count<T>(&self, found: Option<T>) -> Option<T> {
        self.add(u64::from(found.is_some()), u64::from(found.is_none()));
        found
    }

    /// Counts `kept` lookups answered as kept and `read` that read.
    pub fn add(&self, kept: u64, read: u64) {
        self.kept.fetch_add(kept, Ordering::Relaxed);
        self.read.fetch_add(read, Ordering::Relaxed);
    }

    /// Lookups answered as kept, since start.
    pub fn kept(&self) -> u64 {
        self.kept.load(Ordering::Relaxed)
    }

    /// Lookups that read, since start.
    pub fn read(&self) -> u64 {
        self.read.load(Ordering::Relaxed)
    }
}
