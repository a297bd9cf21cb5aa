//! Pages of orders kept by the generation they were read at: which orders a filter's page holds,
//! with their stamps, and how many orders the filter matches. The generation (migration
//! `shown_generation`) moves with any write to a table such a page is read from, whoever writes, so
//! a page kept at the current generation is the page a fresh read would find, and the exact count
//! and the page statement are skipped.

use super::stamps::OrderStamp;
use crate::db::Conn;
use crate::{Backend, StoreResult};
use std::sync::Arc;

/// A page as read at a generation.
#[derive(Debug)]
pub(super) struct KeptPage {
    /// The generation read before the page: by the request's key check, or first in the page's own
    /// read. A page newer than its generation is only ever read again, never taken for a later state.
    pub generation: i64,
    /// How many orders the filter matched.
    pub total: u64,
    /// The page's orders, in order, with their stamps.
    pub stamps: Vec<(i64, Option<OrderStamp>)>,
}

/// What a kept page weighs, besides its key: its stamps and the cache's own bookkeeping.
fn weight(key: &str, page: &KeptPage) -> u64 {
    (key.len() + page.stamps.len() * std::mem::size_of::<(i64, Option<OrderStamp>)>() + 96) as u64
}

#[derive(Clone)]
struct Weigh;

impl quick_cache::Weighter<String, Arc<KeptPage>> for Weigh {
    fn weight(&self, key: &String, page: &Arc<KeptPage>) -> u64 {
        weight(key, page)
    }
}

/// How much the kept pages may hold: a page of 100 orders weighs ≈ 4 kB, an order by id ≈ 150 bytes,
/// so about four thousand of the largest pages or a hundred thousand orders by id.
const KEPT_PAGES_BYTES: u64 = 16 << 20;

/// The pages of orders a store has read, by their statement and page.
pub(crate) struct KeptPages {
    pages: quick_cache::sync::Cache<String, Arc<KeptPage>, Weigh>,
    /// Reads answered from a kept page, and reads that found none kept at their generation.
    outcomes: crate::Outcomes,
}

impl Default for KeptPages {
    fn default() -> Self {
        KeptPages {
            pages: quick_cache::sync::Cache::with_weighter(KEPT_PAGES_BYTES as usize / 512, KEPT_PAGES_BYTES, Weigh),
            outcomes: crate::Outcomes::default(),
        }
    }
}

/// What the kept pages have done and hold (`/metrics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeptPageStats {
    /// Pages and orders by id answered as kept, since start.
    pub kept: u64,
    /// Pages and orders by id read because none was kept at their generation, since start.
    pub read: u64,
    /// Pages and orders by id kept now.
    pub pages: u64,
    /// Their weight against the budget, in bytes.
    pub bytes: u64,
}

impl KeptPages {
    /// The page kept under `key` at `generation`, if any; counted as kept or read.
    pub(super) fn at(&self, key: &str, generation: i64) -> Option<Arc<KeptPage>> {
        self.outcomes.count(self.pages.get(key).filter(|p| p.generation == generation))
    }

    /// Keeps `page` under `key`.
    pub(super) fn keep(&self, key: String, page: KeptPage) {
        self.pages.insert(key, Arc::new(page));
    }

    /// What they have done and hold.
    pub(crate) fn stats(&self) -> KeptPageStats {
        KeptPageStats {
            kept: self.outcomes.kept(),
            read: self.outcomes.read(),
            pages: self.pages.len() as u64,
            bytes: self.pages.weight(),
        }
    }
}

/// The statement that reads the generation of what pages of orders are read from.
pub(crate) fn shown_generation_sql(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "SELECT gen FROM shown_generation",
        // The sum of the counters writers move (see the migration); each only grows.
        Backend::Postgres => "SELECT CAST(SUM(gen) AS BIGINT) FROM shown_generation",
    }
}

/// The generation of what pages of orders are read from, as `conn` sees the database now.
pub(super) async fn generation(backend: Backend, conn: &mut Conn) -> StoreResult<i64> {
    let (generation,): (i64,) = crate::db::query_as(shown_generation_sql(backend)).fetch_one(conn).await?;
    Ok(generation)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(generation: i64, n: usize) -> KeptPage {
        KeptPage { generation, total: n as u64, stamps: (0..n as i64).map(|id| (id, None)).collect() }
    }

    #[test]
    fn a_page_is_used_only_at_the_generation_it_was_read_at() {
        let kept = KeptPages::default();
        kept.keep("a".into(), page(7, 3));
        assert_eq!(kept.at("a", 7).map(|p| p.stamps.len()), Some(3));
        assert!(kept.at("a", 8).is_none(), "a write since: read again");
        assert!(kept.at("b", 7).is_none());
        kept.keep("a".into(), page(8, 2));
        assert_eq!(kept.at("a", 8).map(|p| p.total), Some(2));
        assert!(kept.at("a", 7).is_none());
        let stats = kept.stats();
        assert_eq!((stats.kept, stats.read, stats.pages), (2, 3, 1));
        assert!(stats.bytes > 0);
    }

    #[test]
    fn the_kept_pages_stay_within_their_budget() {
        let kept = KeptPages::default();
        for i in 0..10_000 {
            kept.keep(format!("page {i}"), page(1, 100));
        }
        assert!(kept.pages.weight() <= KEPT_PAGES_BYTES, "{} bytes kept", kept.pages.weight());
        assert!(kept.pages.len() >= 500, "{} pages kept", kept.pages.len());
    }
}
