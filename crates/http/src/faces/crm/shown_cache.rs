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
//!
//! An eighth of the budget keeps orders rendered; an order they push out is kept packed (LZ4 against
//! a dictionary of orders shown earlier, a fraction of its size) and unpacked when asked for again,
//! which costs a few microseconds where reading and rendering it again costs ten times that. A
//! client reading any of many orders by id (one integration polling each order it knows) finds
//! nearly all of them kept where, rendered, a quarter would fit.

use crate::reshape::RawText;
use quick_cache::sync::Cache;
use quick_cache::{DefaultHashBuilder, Lifecycle, Weighter};
use std::sync::{Arc, OnceLock};
use torg_store::OrderStamp;

/// One order as it was shown.
#[derive(Debug)]
pub struct Kept {
    /// None for an order that is shown but not kept.
    stamp: Option<OrderStamp>,
    paid: Arc<[String]>,
    site: Box<str>,
    /// The JSON text as it was written, neither parsed nor checked again when it is shown.
    json: Box<[u8]>,
}

impl Kept {
    /// The order's JSON, as it was written into an answer.
    pub fn json(&self) -> RawText<'_> {
        RawText(&self.json)
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

/// One order pushed out of the rendered ones, its JSON packed.
#[derive(Debug)]
struct PackedOrder {
    stamp: OrderStamp,
    paid: Arc<[String]>,
    site: Box<str>,
    /// LZ4 against the packed orders' dictionary, the JSON's length first.
    bytes: Box<[u8]>,
}

/// Weighs a kept order by its JSON and what keeping it costs besides (the entry, the `Kept` and its
/// site: about the same for every order).
#[derive(Debug, Clone)]
struct ByLength;

/// What an entry costs besides its JSON, in bytes.
const ENTRY_BYTES: u64 = 160;

impl Weighter<i64, Arc<Kept>> for ByLength {
    fn weight(&self, _: &i64, kept: &Arc<Kept>) -> u64 {
        kept.json.len() as u64 + ENTRY_BYTES
    }
}

impl Weighter<i64, Arc<PackedOrder>> for ByLength {
    fn weight(&self, _: &i64, packed: &Arc<PackedOrder>) -> u64 {
        packed.bytes.len() as u64 + ENTRY_BYTES
    }
}

/// Hands the orders the rendered cache pushes out to the request that pushed them, which packs them
/// once the cache's lock is released.
#[derive(Debug, Clone, Default)]
struct Spill;

impl Lifecycle<i64, Arc<Kept>> for Spill {
    type RequestState = Vec<(i64, Arc<Kept>)>;

    fn on_evict(&self, pushed: &mut Self::RequestState, id: i64, kept: Arc<Kept>) {
        pushed.push((id, kept));
    }
}

/// How much of the budget holds orders rendered (the rest holds them packed): a page of a list is
/// answered from rendered orders without unpacking twenty, and a read of any one order of many
/// finds it packed rather than reads it again. An eighth of the default 64 MB renders ≈ 3,000 orders
/// (150 pages), and a read that misses every kept order costs as much as several that unpack one, so
/// the packed part gets the rest (a quarter rendered kept 86,000 of 100,000 orders, an eighth keeps
/// nearly all; docs/BENCHMARKS.md).
const RENDERED_SHARE: u64 = 8;

/// How many bytes of orders shown earlier the packed orders are compressed against. Orders repeat
/// their members' names and most of their values (statuses, sites, delivery and payment codes), so
/// with a few of them as a dictionary an order packs to a fraction of what it packs to alone.
const DICTIONARY_BYTES: usize = 32 * 1024;

/// The orders pushed out of the rendered ones, packed; the dictionary is set once, from the orders
/// rendered when the first is packed, and every packed order needs the same one.
struct Packed {
    orders: Cache<i64, Arc<PackedOrder>, ByLength>,
    dictionary: OnceLock<Box<[u8]>>,
}

impl Packed {
    /// Packs `kept` under `id`; an order shown but not kept (no stamp) is not, and one still packed
    /// as it is (it was unpacked to be shown again) is not packed twice.
    fn keep(&self, id: i64, kept: &Kept, rendered: &Rendered) {
        let Some(stamp) = kept.stamp else { return };
        if self.orders.peek(&id).is_some_and(|p| p.stamp == stamp && Arc::ptr_eq(&p.paid, &kept.paid)) {
            return;
        }
        let dictionary = self.dictionary.get_or_init(|| {
            let mut d = kept.json.to_vec();
            for (_, k) in rendered.iter() {
                if d.len() + k.json.len() > DICTIONARY_BYTES {
                    break;
                }
                d.extend_from_slice(&k.json);
            }
            d.into_boxed_slice()
        });
        let bytes = lz4_flex::block::compress_prepend_size_with_dict(&kept.json, dictionary);
        let packed = PackedOrder { stamp, paid: kept.paid.clone(), site: kept.site.clone(), bytes: bytes.into() };
        self.orders.insert(id, Arc::new(packed));
    }

    /// Puts `kept` among the rendered orders under `id` and packs what that pushes out. The showing
    /// it replaces may be reported as pushed out too; it is out of date and is not packed.
    fn put(&self, rendered: &Rendered, id: i64, kept: &Arc<Kept>) {
        let mut pushed = Vec::new();
        rendered.insert_with_lifecycle(id, kept.clone(), &mut pushed);
        for (pushed_id, old) in pushed {
            if pushed_id != id || Arc::ptr_eq(&old, kept) {
                self.keep(pushed_id, &old, rendered);
            }
        }
    }

    /// The order packed under `id` as shown, if it was shown with these books; a packed order that
    /// does not unpack (it always should) is dropped and counts as not kept. What unpacks is the text
    /// that was packed, byte for byte (LZ4 is lossless), so it is not checked as JSON again.
    fn kept(&self, id: i64, under: &Under) -> Option<Arc<Kept>> {
        let packed = self.orders.get(&id)?;
        if !under.counts_paid(&packed.paid) {
            return None;
        }
        let json = self
            .dictionary
            .get()
            .and_then(|d| lz4_flex::block::decompress_size_prepended_with_dict(&packed.bytes, d).ok())
            .map(Vec::into_boxed_slice);
        let Some(json) = json else {
            self.orders.remove(&id);
            return None;
        };
        Some(Arc::new(Kept { stamp: Some(packed.stamp), paid: packed.paid.clone(), site: packed.site.clone(), json }))
    }
}

/// The rendered orders: the ones they push out are packed.
type Rendered = Cache<i64, Arc<Kept>, ByLength, DefaultHashBuilder, Spill>;

/// The kept orders, by id, within a memory budget (least recently and least often shown go first):
/// an eighth of it rendered, the rest packed.
pub struct ShownCache {
    orders: Option<Rendered>,
    packed: Option<Packed>,
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
    /// Orders kept now, rendered and packed (one unpacked to be shown again counts in both).
    pub orders: u64,
    /// Of those, the ones kept packed.
    pub packed: u64,
    /// Their weight: their JSON (packed or not) and what each entry costs besides, in bytes.
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
    /// What a request whose books count `paid` as paid reads and keeps under: the books' own list,
    /// shared by every request that reads them.
    pub fn new(paid: &Arc<[String]>) -> Under {
        Under { paid: paid.clone() }
    }

    /// The payment statuses the request's books count as paid (what its orders are rendered with).
    pub fn paid(&self) -> &Arc<[String]> {
        &self.paid
    }

    /// Whether an order shown with `paid` as the paid statuses may be shown to this request.
    fn counts_paid(&self, paid: &Arc<[String]>) -> bool {
        Arc::ptr_eq(paid, &self.paid) || *paid == self.paid
    }
}

impl ShownCache {
    /// A cache of about `bytes` of JSON; 0 keeps nothing.
    pub fn new(bytes: usize) -> ShownCache {
        let bytes = bytes as u64;
        let rendered = bytes / RENDERED_SHARE;
        // About 2.5 kB per order rendered, 0.5 kB packed; the estimates only size the tables up front.
        let orders = (bytes > 0).then(|| {
            Cache::with((rendered / 2500 + 1) as usize, rendered, ByLength, DefaultHashBuilder::default(), Spill)
        });
        let packed = (bytes > 0).then(|| Packed {
            orders: Cache::with_weighter(((bytes - rendered) / 500 + 1) as usize, bytes - rendered, ByLength),
            dictionary: OnceLock::new(),
        });
        ShownCache { orders, packed, answered: torg_store::Outcomes::default() }
    }

    /// Notes an answer of `kept` orders as kept and `read` read whole.
    pub fn note(&self, kept: usize, read: usize) {
        self.answered.add(kept as u64, read as u64);
    }

    /// What the cache has done and holds.
    pub fn stats(&self) -> ShownStats {
        let (rendered, rendered_bytes) = self.orders.as_ref().map_or((0, 0), |c| (c.len() as u64, c.weight()));
        let (packed, packed_bytes) =
            self.packed.as_ref().map_or((0, 0), |p| (p.orders.len() as u64, p.orders.weight()));
        ShownStats {
            kept: self.answered.kept(),
            read: self.answered.read(),
            orders: rendered + packed,
            packed,
            bytes: rendered_bytes + packed_bytes,
        }
    }

    /// The order kept under `id`, rendered or packed, if it was shown with these books. A packed one
    /// goes back among the rendered ones, so an order asked for often (a list's page, polled) is not
    /// unpacked each time; its packed copy stays, so pushing it out again packs nothing.
    pub fn kept(&self, id: i64, under: &Under) -> Option<Arc<Kept>> {
        let orders = self.orders.as_ref()?;
        if let Some(kept) = orders.get(&id) {
            return under.counts_paid(&kept.paid).then_some(kept);
        }
        let packed = self.packed.as_ref()?;
        let kept = packed.kept(id, under)?;
        packed.put(orders, id, &kept);
        Some(kept)
    }

    /// `json` (JSON text, as serde_json wrote it) as order `id` of `site` shown at `stamp` with these
    /// books, kept when it has a stamp.
    pub fn keep(&self, id: i64, stamp: Option<OrderStamp>, under: &Under, site: &str, json: Vec<u8>) -> Arc<Kept> {
        let (Some(orders), Some(packed)) = (self.orders.as_ref().filter(|_| stamp.is_some()), self.packed.as_ref())
        else {
            return Arc::new(Kept { stamp, paid: under.paid.clone(), site: site.into(), json: json.into() });
        };
        // serde_json writes the text into a buffer that grew by doubling, and mimalloc keeps a block
        // that shrinks by less than half, so a 2.6 kB order held a 4 kB block (a full cache took half
        // as much again as its budget). A copy is allocated at the text's length.
        let json = Box::<[u8]>::from(json.as_slice());
        let kept = Arc::new(Kept { stamp, paid: under.paid.clone(), site: site.into(), json });
        // A packed copy of an earlier showing is out of date now.
        packed.orders.remove(&id);
        packed.put(orders, id, &kept);
        kept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Vec<u8> {
        text.as_bytes().to_vec()
    }

    /// The text a kept order is shown as.
    fn text(kept: &Kept) -> &str {
        std::str::from_utf8(kept.json().0).expect("UTF-8")
    }

    fn paid(codes: &[&str]) -> Arc<[String]> {
        codes.iter().map(|c| (*c).to_owned()).collect()
    }

    #[test]
    fn a_kept_order_is_shown_only_under_the_books_it_was_shown_with() {
        let cache = ShownCache::new(1 << 20);
        let stamp = torg_store::testing::order_stamp(1);
        let under = Under::new(&paid(&["paid"]));
        cache.keep(7, Some(stamp), &under, "default", json(r#"{"id":7}"#));
        let kept = cache.kept(7, &under).expect("kept");
        assert_eq!((kept.stamp(), kept.site(), text(&kept)), (Some(stamp), "default", r#"{"id":7}"#));
        assert!(cache.kept(7, &Under::new(&paid(&["paid", "prepaid"]))).is_none(), "other paid statuses");
        assert!(cache.kept(7, &Under::new(&paid(&["paid"]))).is_some(), "the same statuses again");
        assert!(cache.kept(8, &under).is_none());
    }

    #[test]
    fn an_order_without_a_stamp_or_a_cache_of_nothing_keeps_nothing() {
        let cache = ShownCache::new(1 << 20);
        let under = Under::new(&paid(&[]));
        let shown = cache.keep(7, None, &under, "default", json("{}"));
        assert_eq!(text(&shown), "{}");
        assert!(cache.kept(7, &under).is_none());
        let off = ShownCache::new(0);
        assert_eq!((off.stats().orders, off.stats().bytes), (0, 0));
        off.keep(7, Some(torg_store::testing::order_stamp(1)), &under, "default", json("{}"));
        assert!(off.kept(7, &Under::new(&paid(&[]))).is_none());
    }

    #[test]
    fn the_budget_bounds_what_is_kept() {
        let cache = ShownCache::new(64 * 1024);
        let under = Under::new(&paid(&[]));
        let body = |id: i64| format!("\"{id:04}{}\"", "x".repeat(996));
        for id in 0..1000 {
            cache.keep(id, Some(torg_store::testing::order_stamp(id)), &under, "default", json(&body(id)));
        }
        let stats = cache.stats();
        let (rendered, packed) = (cache.orders.as_ref().unwrap(), cache.packed.as_ref().unwrap());
        let in_rendered = (0..1000).filter(|id| rendered.peek(id).is_some()).count() as u64;
        let in_packed = (0..1000).filter(|id| packed.orders.peek(id).is_some()).count() as u64;
        assert_eq!((stats.orders, stats.packed), (in_rendered + in_packed, in_packed));
        // An eighth of 64 kB holds at most 8 rendered orders of 1 kB; packed, they take a fraction.
        assert!(in_rendered <= 8, "{stats:?}");
        let kept = (0..1000).filter(|id| cache.kept(*id, &under).is_some()).count();
        assert!(in_packed > 8 && kept > 64, "{kept} kept, {stats:?}");
        assert!(stats.bytes <= 64 * 1024 + 2 * 1162, "{stats:?}");
        cache.note(3, 2);
        cache.note(1, 0);
        assert_eq!((cache.stats().kept, cache.stats().read), (4, 2));
    }

    #[test]
    fn an_order_pushed_out_is_kept_packed_as_it_was_shown() {
        let cache = ShownCache::new(64 * 1024);
        let under = Under::new(&paid(&["paid"]));
        let order = |id: i64| {
            format!(
                r#"{{"id":{id},"number":"{id}A","status":"new","site":"shop","items":[{{"quantity":{id},"offer":{{"name":"Фильтр {id}"}}}}],"x":"{}"}}"#,
                "y".repeat(900)
            )
        };
        let stamp = |id: i64| torg_store::testing::order_stamp(id + 10);
        for id in 0..200 {
            cache.keep(id, Some(stamp(id)), &under, "shop", json(&order(id)));
        }
        let (rendered, packed) = (cache.orders.as_ref().unwrap(), cache.packed.as_ref().unwrap());
        let packed_only: Vec<i64> =
            (0..200).filter(|id| rendered.peek(id).is_none() && packed.orders.peek(id).is_some()).collect();
        assert!(packed_only.len() > 16, "{} packed, {:?}", packed_only.len(), cache.stats());
        // Unpacked as shown, without moving anything.
        for id in &packed_only {
            let kept = packed.kept(*id, &under).expect("unpacks");
            assert_eq!(text(&kept), order(*id), "order {id} as shown");
            assert_eq!((kept.stamp(), kept.site()), (Some(stamp(*id)), "shop"));
        }
        // Not shown to a request whose books count other statuses as paid.
        let id = packed_only[0];
        assert!(cache.kept(id, &Under::new(&paid(&["prepaid"]))).is_none());
        // Asked for again: back among the rendered, its packed copy kept.
        let under = Under::new(&paid(&["paid"]));
        assert_eq!(cache.kept(id, &under).map(|k| text(&k).to_owned()), Some(order(id)));
        assert!(rendered.peek(&id).is_some() && packed.orders.peek(&id).is_some());
        // Shown again at a later stamp: the packed copy of the earlier showing goes.
        let later = torg_store::testing::order_stamp(999);
        cache.keep(id, Some(later), &under, "shop", json(r#"{"id":0}"#));
        assert!(packed.orders.peek(&id).is_none_or(|p| p.stamp == later));
        assert_eq!(cache.kept(id, &under).map(|k| k.stamp()), Some(Some(later)));
    }
}
