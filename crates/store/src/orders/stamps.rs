//! Stamps of shown orders: for a caller that keeps the orders it has shown, whether it may show them
//! again unchanged, read in one narrow statement instead of the orders with their lines, payments and
//! customers. The revisions behind a stamp are moved by triggers (migration `shown_revisions`), so a
//! change made by any writer, on any instance, gives a new stamp on the next read.

use super::OrderFilter;
use super::{Prefetched, SHOWN_FROM};
use crate::db::{Conn, Row};
use crate::sql::{Arg, Sql};
use crate::{Store, StoreResult, flag};
use std::sync::LazyLock;
use torg_domain::page::PageRequest;

/// What showing an order reads, as revisions: the order's (its row, lines and payments), its
/// customer's and the bonuses it credited. Two reads of an order with equal stamps show it alike
/// (with the same books). An order whose showing reads more than this covers (a corporate customer's,
/// or one whose loyalty credit is worked out when it is read) has no stamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderStamp {
    order: i64,
    customer: Option<i64>,
    credited: Option<i64>,
}

impl OrderStamp {
    /// A stamp of an order at revision `rev` with no customer and no credit (`testing::order_stamp`).
    pub(crate) fn of_revision(rev: i64) -> OrderStamp {
        OrderStamp { order: rev, customer: None, credited: None }
    }
}

/// Orders to be shown, each with its stamp, and the ones the caller did not hold, read whole.
#[derive(Debug, Default)]
pub struct StampedOrders {
    /// Every order found, in the order asked for, with its stamp (none: not to be kept).
    pub stamps: Vec<(i64, Option<OrderStamp>)>,
    /// The orders the caller did not hold at their current stamp, with what showing them takes.
    pub shown: super::ShownOrders,
}

/// The columns a stamp is made of, as [`stamp_of`] reads them (also part of `SHOWN_COLUMNS`).
pub(super) const STAMP_ONLY: &str = "o.rev, o.corporate_id, c.rev AS customer_rev";

/// The columns of the narrow read: the order's id and what its stamp is made of.
static STAMP_COLUMNS: LazyLock<String> =
    LazyLock::new(|| format!("o.id, o.customer_id, o.is_test, {STAMP_ONLY}, {}", *crate::loyalty::CREDIT_HINT_COLUMNS));

/// The id and stamp of an order from a row holding [`STAMP_COLUMNS`].
pub(super) fn stamp_of(r: &Row) -> StoreResult<(i64, Option<OrderStamp>)> {
    let id: i64 = r.try_get("id")?;
    let corporate: Option<i64> = r.try_get("corporate_id")?;
    let customer: Option<i64> = r.try_get("customer_id")?;
    let credited: Option<i64> = r.try_get("credited")?;
    let running: Option<i64> = r.try_get("running_loyalty")?;
    // What `order_credits` works out at read time (no credit yet, a customer, not a test, a programme
    // running on the site) depends on the customer's account and the programme: not stamped.
    let live_credit = credited.is_none() && customer.is_some() && !flag(r.try_get("is_test")?) && running.is_some();
    if corporate.is_some() || live_credit {
        return Ok((id, None));
    }
    let stamp = OrderStamp { order: r.try_get("rev")?, customer: r.try_get("customer_rev")?, credited };
    Ok((id, Some(stamp)))
}

/// The stamp at which a caller holds an order shown, if it holds it.
pub type Held<'a> = dyn Fn(i64) -> Option<OrderStamp> + Send + Sync + 'a;

/// Whether `held` holds order `id` at `stamp`: the order need not be read (a stampless one always is).
fn is_held(held: &Held<'_>, id: i64, stamp: Option<OrderStamp>) -> bool {
    stamp.is_some() && held(id) == stamp
}

/// Whether `held` holds every one of `stamps`.
fn all_held(stamps: &[(i64, Option<OrderStamp>)], held: &Held<'_>) -> bool {
    stamps.iter().all(|(id, stamp)| is_held(held, *id, *stamp))
}

impl StampedOrders {
    /// `stamps`, every one held: nothing read.
    fn named(stamps: Vec<(i64, Option<OrderStamp>)>) -> StampedOrders {
        StampedOrders { stamps, shown: super::ShownOrders::default() }
    }
}

impl Store {
    /// A page of orders as [`list_shown_orders`](Store::list_shown_orders) finds it, and the size of
    /// the filtered set, all from one state of the database. The orders `held` holds at their current
    /// stamps are only named; the others are read whole. A page read before at the current generation
    /// (nothing it is read from written since) is taken as kept, without counting or reading it again.
    pub async fn list_stamped_orders(
        &self,
        f: &OrderFilter,
        page: PageRequest,
        held: &Held<'_>,
    ) -> StoreResult<(StampedOrders, u64)> {
        let wh = self.order_where(f).await?;
        let (mut limit, mut number) = (itoa::Buffer::new(), itoa::Buffer::new());
        let key = wh.key_after(&["page ", limit.format(page.limit), " ", number.format(page.page), " "]);
        let known = self.shown_at();
        let kept = known.and_then(|g| self.kept_pages.at(&key, g));
        if let Some(kept) = &kept
            && all_held(&kept.stamps, held)
        {
            // Kept at the generation the key check read, and every order held as it was: nothing to read.
            return Ok((StampedOrders::named(kept.stamps.clone()), kept.total));
        }
        let mut conn = self.reader().snapshot().await?;
        // Read before the page (in the same state of the database on SQLite): a page newer than its
        // generation is only ever read again, never taken for a later state.
        let (generation, kept) = match known {
            Some(g) => (g, kept),
            None => {
                let g = super::kept_pages::generation(self.backend, &mut conn).await?;
                (g, self.kept_pages.at(&key, g))
            }
        };
        if let Some(kept) = kept {
            // Nothing a page is read from has changed since it was kept: the same orders at the same
            // stamps, and the same count.
            return Ok((self.stamped(&mut conn, kept.stamps.clone(), held).await?, kept.total));
        }
        let total = self.order_total(&mut conn, f, &wh).await?;
        let q = super::page_of(&wh, &format!("SELECT {} FROM {SHOWN_FROM}", *STAMP_COLUMNS), page);
        let stamps: Vec<_> = q.query().fetch_all(&mut conn).await?.iter().map(stamp_of).collect::<StoreResult<_>>()?;
        self.kept_pages.keep(key, super::kept_pages::KeptPage { generation, total, stamps: stamps.clone() });
        Ok((self.stamped(&mut conn, stamps, held).await?, total))
    }

    /// One order as [`show_order`](Store::show_order) finds it, read whole unless `held` holds it at
    /// its current stamp. A request's view ([`Store::as_of`]) keeps the order's id and stamp under the
    /// generation its key check read, and takes them as they are while that generation lasts.
    pub async fn show_stamped_order(
        &self,
        lookup: &super::OrderLookup,
        held: &Held<'_>,
    ) -> StoreResult<Option<StampedOrders>> {
        let key = format!("order {lookup:?}");
        let generation = self.shown_at();
        if let Some(kept) = generation.and_then(|g| self.kept_pages.at(&key, g))
            && all_held(&kept.stamps, held)
        {
            return Ok(Some(StampedOrders::named(kept.stamps.clone())));
        }
        let mut conn = self.reader().snapshot().await?;
        let Some(id) = self.order_id(&mut conn, lookup, false).await? else { return Ok(None) };
        let stamps = if held(id).is_some() {
            // Held: the narrow read tells whether it is still as held.
            let mut q = Sql::new(&format!("SELECT {} FROM {SHOWN_FROM} WHERE o.id = ", *STAMP_COLUMNS));
            q.bind(Arg::Int(id));
            match q.query().fetch_optional(&mut conn).await? {
                Some(r) => vec![stamp_of(&r)?],
                None => return Ok(None),
            }
        } else {
            // Not held: no stamp yet, so it is read whole at once, its stamp with it.
            vec![(id, None)]
        };
        let out = self.stamped(&mut conn, stamps, held).await?;
        if let (Some(generation), [(_, Some(_))]) = (generation, out.stamps.as_slice()) {
            // The generation was read before the order: kept under it, the order is at least as new.
            let page = super::kept_pages::KeptPage { generation, total: 1, stamps: out.stamps.clone() };
            self.kept_pages.keep(key, page);
        }
        Ok((!out.stamps.is_empty()).then_some(out))
    }

    /// `stamps` with the orders among them that `held` does not hold at those stamps read whole.
    async fn stamped(
        &self,
        conn: &mut Conn,
        stamps: Vec<(i64, Option<OrderStamp>)>,
        held: &Held<'_>,
    ) -> StoreResult<StampedOrders> {
        let unknown: Vec<i64> = stamps.iter().filter(|(id, s)| !is_held(held, *id, *s)).map(|(id, _)| *id).collect();
        if unknown.is_empty() {
            return Ok(StampedOrders::named(stamps));
        }
        let mut pre = Prefetched::default();
        let orders = self.load_orders_with(conn, &unknown, Some(&mut pre)).await?;
        // On PostgreSQL each statement sees the database as it is then, so an order may have changed
        // or gone since the narrow read: one read whole goes with the stamp read beside it (in the same
        // row), and one gone is left out.
        let read = std::mem::take(&mut pre.stamps);
        let stamps = stamps
            .into_iter()
            .filter_map(|(id, stamp)| match read.get(&id) {
                Some(fresh) => Some((id, *fresh)),
                None if unknown.contains(&id) => None,
                None => Some((id, stamp)),
            })
            .collect();
        Ok(StampedOrders { stamps, shown: self.shown(conn, orders, Some(pre)).await? })
    }
}
