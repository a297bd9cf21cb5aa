//! Orders kept as the CRM shows them, between requests.
//!
//! Showing an order reads its row, lines, payments and customer and writes a few kilobytes of JSON:
//! most of an order read's time, and twenty times over for a page of a list. Integrations read the
//! same orders again and again (a list's first page, an order polled by id), so the face keeps each
//! order it has shown, rendered, with the store's stamp of what it read ([`torg_store::OrderStamp`]).
//! A read asks the store for the current stamps (one narrow statement, or none when the store kept
//! the page or order at the generation the key check read) and shows a kept order only when its
//! stamp is still the current one; the stamps move with every write to what an order shows,
//! by any writer, so an answer is never older than the database it was read from.
//!
//! The rest of what a rendering reads is fixed per server (the time zone) or per set of books (which
//! payment statuses count as paid): a kept order also remembers the latter and is shown only to a
//! request whose books say the same.

use quick_cache::Weighter;
use quick_cache::sync::Cache;
use serde_json::value::RawValue;
use std::sync::{Arc, Mutex, PoisonError};
use torg_store::OrderStamp;

/// One order as it was shown.
#[derive(Debug)]
pub struct Kept {
    /// None for an order that is shown but not kept.
    stamp: Option<OrderStamp>,
    paid: Arc<[String]>,
    site: Box<str>,
    json: Box<RawValue>,
}

impl Kept {
    /// The order's JSON, as it was written into an answer.
    pub fn json(&self) -> &RawValue {
        &self.json
    }

    /// The order's site (for a key's site access).
    pub fn site(&self) -> &str {
        &self.site
    }

    /// The stamp it was shown at (none: not kept).
    pub fn stamp(&self) -> Option<OrderStamp> {
        self.stamp
    }
}

/// Weighs a kept order by its JSON and what keeping it costs besides (the entry, the `Kept` and its
/// site: about the same for every order).
#[derive(Debug, Clone)]
struct ByLength;

/// What an entry costs besides its JSON, in bytes.
const ENTRY_BYTES: u64 = 160;

impl Weighter<i64, Arc<Kept>> for ByLength {
    fn weight(&self, _: &i64, kept: &Arc<Kept>) -> u64 {
        kept.json.get().len() as u64 + ENTRY_BYTES
    }
}

/// The kept orders, by id, within a memory budget (least recently and least often shown go first).
pub struct ShownCache {
    orders: Option<Cache<i64, Arc<Kept>, ByLength>>,
    /// The paid statuses the last request came with, shared by the entries made under them.
    paid: Mutex<Arc<[String]>>,
    /// Orders answered as kept, and read whole, since start (for `/metrics`).
    answered: torg_store::Outcomes,
}

/// What the cache has done and holds, for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShownStats {
    /// Orders answered as kept, since start.
    pub kept: u64,
    /// Orders read whole to be answered, since start.
    pub read: u64,
    /// Orders kept now.
    pub orders: u64,
    /// Their weight: their JSON and what each entry costs besides, in bytes.
    pub bytes: u64,
}

impl std::fmt::Debug for ShownCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShownCache").field("orders", &self.orders.as_ref().map(|c| c.len())).finish()
    }
}

/// What a request has to say to the cache: its books' paid statuses.
#[derive(Debug, Clone)]
pub struct Under {
    paid: Arc<[String]>,
}

impl Under {
    /// The payment statuses the request's books count as paid (what its orders are rendered with).
    pub fn paid(&self) -> &Arc<[String]> {
        &self.paid
    }
}

impl ShownCache {
    /// A cache of about `bytes` of JSON; 0 keeps nothing.
    pub fn new(bytes: usize) -> ShownCache {
        // About 2.5 kB per order; the estimate only sizes the table up front.
        let orders = (bytes > 0).then(|| Cache::with_weighter(bytes / 2500 + 1, bytes as u64, ByLength));
        ShownCache { orders, paid: Mutex::new(Arc::from(Vec::new())), answered: torg_store::Outcomes::default() }
    }

    /// Notes an answer of `kept` orders as kept and `read` read whole.
    pub fn note(&self, kept: usize, read: usize) {
        self.answered.add(kept as u64, read as u64);
    }

    /// What the cache has done and holds.
    pub fn stats(&self) -> ShownStats {
        let (orders, bytes) = self.orders.as_ref().map_or((0, 0), |c| (c.len() as u64, c.weight()));
        ShownStats { kept: self.answered.kept(), read: self.answered.read(), orders, bytes }
    }

    /// What a request whose books count `paid` as paid reads and keeps under.
    pub fn under(&self, paid: &[String]) -> Under {
        let mut current = self.paid.lock().unwrap_or_else(PoisonError::into_inner);
        if **current != *paid {
            *current = Arc::from(paid.to_vec());
        }
        Under { paid: current.clone() }
    }

    /// The order kept under `id`, if it was shown with these books.
    pub fn kept(&self, id: i64, under: &Under) -> Option<Arc<Kept>> {
        let kept = self.orders.as_ref()?.get(&id)?;
        (Arc::ptr_eq(&kept.paid, &under.paid) || kept.paid == under.paid).then_some(kept)
    }

    /// `json` as order `id` of `site` shown at `stamp` with these books, kept when it has a stamp.
    pub fn keep(
        &self,
        id: i64,
        stamp: Option<OrderStamp>,
        under: &Under,
        site: &str,
        json: Box<RawValue>,
    ) -> Arc<Kept> {
        let Some(orders) = self.orders.as_ref().filter(|_| stamp.is_some()) else {
            return Arc::new(Kept { stamp, paid: under.paid.clone(), site: site.into(), json });
        };
        // serde_json writes the text into a buffer that grew by doubling, and mimalloc keeps a block
        // that shrinks by less than half, so a 2.6 kB order held a 4 kB block (a full cache took half
        // as much again as its budget). A clone is allocated at the text's length.
        let json = json.clone();
        let kept = Arc::new(Kept { stamp, paid: under.paid.clone(), site: site.into(), json });
        orders.insert(id, kept.clone());
        kept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).expect("JSON")
    }

    fn paid(codes: &[&str]) -> Vec<String> {
        codes.iter().map(|c| (*c).to_owned()).collect()
    }

    #[test]
    fn a_kept_order_is_shown_only_under_the_books_it_was_shown_with() {
        let cache = ShownCache::new(1 << 20);
        let stamp = torg_store::testing::order_stamp(1);
        let under = cache.under(&paid(&["paid"]));
        cache.keep(7, Some(stamp), &under, "default", json(r#"{"id":7}"#));
        let kept = cache.kept(7, &under).expect("kept");
        assert_eq!((kept.stamp(), kept.site(), kept.json().get()), (Some(stamp), "default", r#"{"id":7}"#));
        assert!(cache.kept(7, &cache.under(&paid(&["paid", "prepaid"]))).is_none(), "other paid statuses");
        assert!(cache.kept(7, &cache.under(&paid(&["paid"]))).is_some(), "the same statuses again");
        assert!(cache.kept(8, &under).is_none());
    }

    #[test]
    fn an_order_without_a_stamp_or_a_cache_of_nothing_keeps_nothing() {
        let cache = ShownCache::new(1 << 20);
        let under = cache.under(&[]);
        let shown = cache.keep(7, None, &under, "default", json("{}"));
        assert_eq!(shown.json().get(), "{}");
        assert!(cache.kept(7, &under).is_none());
        let off = ShownCache::new(0);
        assert_eq!((off.stats().orders, off.stats().bytes), (0, 0));
        off.keep(7, Some(torg_store::testing::order_stamp(1)), &under, "default", json("{}"));
        assert!(off.kept(7, &off.under(&[])).is_none());
    }

    #[test]
    fn the_budget_bounds_what_is_kept() {
        let cache = ShownCache::new(64 * 1024);
        let under = cache.under(&[]);
        let body = format!("\"{}\"", "x".repeat(1000));
        for id in 0..1000 {
            cache.keep(id, Some(torg_store::testing::order_stamp(id)), &under, "default", json(&body));
        }
        let kept = (0..1000).filter(|id| cache.kept(*id, &under).is_some()).count();
        assert!(kept > 0 && kept <= 64 * 1024 / 1000, "{kept} orders of 1 kB kept in 64 kB");
        let stats = cache.stats();
        assert_eq!(stats.orders, kept as u64);
        assert_eq!(stats.bytes, kept as u64 * (1002 + ENTRY_BYTES));
        cache.note(3, 2);
        cache.note(1, 0);
        assert_eq!((cache.stats().kept, cache.stats().read), (4, 2));
    }
}
