//! Exact row counts without scans: the `row_counts` table that triggers keep in the writing transaction
//! (migration 0007; the catalogue's since SQLite 0028, PostgreSQL 0030; the billing lists' since SQLite
//! 0030, PostgreSQL 0032; tasks' and files' since SQLite 0031, PostgreSQL 0033; loyalty accounts' and delivery
//! shipments' since SQLite 0032, PostgreSQL 0034), summed over the sites a list is filtered by. A list filtered by anything more counts its matches with the filter's own indexes.

use crate::sql::{Arg, Sql};
use crate::{Store, StoreResult};

/// The WHERE clause a list starts from, before any condition.
pub(crate) const UNFILTERED: &str = " WHERE 1 = 1";

/// What the counters count.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Counted {
    Orders,
    Customers,
    /// The catalogue's products (one counter for every site, site '').
    Products,
    /// The catalogue's offers (one counter for every site, site '').
    Offers,
    /// Invoicebox's invoices (its payment orders).
    Invoices,
    /// Refunds of invoices.
    Refunds,
    /// Shipments of invoices.
    Shipments,
    /// The CRM's tasks (those of no site under site '').
    Tasks,
    /// The CRM's files (those of no site under site '').
    Files,
    /// The CRM's loyalty accounts.
    LoyaltyAccounts,
    /// The CRM's delivery shipments (of no site: one counter, site '').
    DeliveryShipments,
}

impl Counted {
    /// The counted table, which is also its entity in `row_counts`.
    pub(crate) fn entity(self) -> &'static str {
        match self {
            Counted::Orders => "orders",
            Counted::Customers => "customers",
            Counted::Products => "products",
            Counted::Offers => "offers",
            Counted::Invoices => "invoices",
            Counted::Refunds => "invoice_refunds",
            Counted::Shipments => "invoice_shipments",
            Counted::Tasks => "tasks",
            Counted::Files => "files",
            Counted::LoyaltyAccounts => "loyalty_accounts",
            Counted::DeliveryShipments => "delivery_shipments",
        }
    }
}

impl Store {
    /// The exact size of a filtered list: from the counters when the filter is the sites alone (the
    /// catalogue's: site `''`), else `SELECT COUNT(*) FROM {from}` with the filter's WHERE clause `wh`.
    pub(crate) async fn list_total<'e>(
        &self,
        exec: impl Into<crate::db::Exec<'e>>,
        what: Counted,
        sites_only: bool,
        sites: &[String],
        from: &str,
        wh: &Sql,
    ) -> StoreResult<u64> {
        if sites_only {
            return self.site_count(exec, what, sites).await;
        }
        let (n,): (i64,) = wh.with_prefix(&format!("SELECT COUNT(*) FROM {from}")).query_as().fetch_one(exec).await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The exact size of a list of rows of no site (`what` is products, offers or delivery shipments,
    /// counted under site `''`) whose WHERE clause `wh` starts as [`UNFILTERED`]: the counter when `wh`
    /// adds no condition.
    pub(crate) async fn unsited_total(&self, what: Counted, from: &str, wh: &Sql) -> StoreResult<u64> {
        self.list_total(self.reader(), what, wh.text == UNFILTERED, &[String::new()], from, wh).await
    }

    /// The exact size of a list of rows a key sees when they are on its `sites` or on none (tasks,
    /// files), whose WHERE clause `wh` was `visible_only` long once it held the sites' condition:
    /// the counters of those sites and of site `''` when `wh` adds nothing after it.
    pub(crate) async fn visible_total(
        &self,
        what: Counted,
        sites: &[String],
        visible_only: usize,
        from: &str,
        wh: &Sql,
    ) -> StoreResult<u64> {
        let counted: Vec<String> = sites.iter().cloned().chain([String::new()]).collect();
        self.list_total(self.reader(), what, wh.text.len() == visible_only, &counted, from, wh).await
    }

    /// How many rows of `what` belong to these sites.
    pub(crate) async fn site_count<'e>(
        &self,
        exec: impl Into<crate::db::Exec<'e>>,
        what: Counted,
        sites: &[String],
    ) -> StoreResult<u64> {
        if sites.is_empty() {
            return Ok(0);
        }
        let mut q = Sql::new("SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM row_counts WHERE entity = ");
        q.bind(Arg::Text(what.entity().into())).push(" AND site IN ").bind_list(sites.iter().cloned().map(Arg::Text));
        let (n,): (i64,) = q.query_as().fetch_one(exec).await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
