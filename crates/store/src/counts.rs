//! Exact row counts without scans: the `row_counts` table that triggers keep in the writing transaction
//! (migration 0007), summed over the sites a list is filtered by. A list filtered by anything more
//! counts its matches with the filter's own indexes.

use crate::sql::{Arg, Sql};
use crate::{Store, StoreResult};

/// What the counters count.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Counted {
    Orders,
    Customers,
}

impl Counted {
    fn entity(self) -> &'static str {
        match self {
            Counted::Orders => "orders",
            Counted::Customers => "customers",
        }
    }
}

impl Store {
    /// The exact size of a filtered list: from the counters when the filter is the sites alone, else
    /// `SELECT COUNT(*) FROM {from}` with the filter's WHERE clause `wh`.
    pub(crate) async fn list_total(
        &self,
        conn: &mut crate::db::Conn,
        what: Counted,
        sites_only: bool,
        sites: &[String],
        from: &str,
        wh: &Sql,
    ) -> StoreResult<u64> {
        if sites_only {
            return self.site_count(conn, what, sites).await;
        }
        let (n,): (i64,) = wh.with_prefix(&format!("SELECT COUNT(*) FROM {from}")).query_as().fetch_one(conn).await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// How many rows of `what` belong to these sites.
    async fn site_count(&self, conn: &mut crate::db::Conn, what: Counted, sites: &[String]) -> StoreResult<u64> {
        if sites.is_empty() {
            return Ok(0);
        }
        let mut q = Sql::new("SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM row_counts WHERE entity = ");
        q.bind(Arg::Text(what.entity().into())).push(" AND site IN ").bind_list(sites.iter().cloned().map(Arg::Text));
        let (n,): (i64,) = q.query_as().fetch_one(conn).await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
