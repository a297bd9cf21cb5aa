//! PostgreSQL: what a create reads before it writes — the offers its lines name, its buyer by
//! e-mail, and the ids of its row, lines and payments — in one statement, where each was a round
//! trip of its own (on SQLite a statement is a function call, and each is read where it is needed).

use super::{FoundOffer, OFFER_COLUMNS, OrderRow, drawn_row, found_offer, offers_left, offers_named, select_order_ids};
use crate::sql::{Arg, Sql};
use crate::{Store, StoreResult, Tx};
use torg_domain::order::OrderInput;

/// A look-up of the buyer by e-mail on a site, as made: the site, the e-mail in lower case, and the
/// buyer found (id and stored document).
#[derive(Debug, Clone)]
pub(crate) struct BuyerByEmail {
    site: String,
    email: String,
    found: Option<(i64, String)>,
}

impl BuyerByEmail {
    /// What the look-up found, when it is the one of `site` and `email` (in lower case).
    pub(crate) fn answer(&self, site: &str, email: &str) -> Option<Option<(i64, String)>> {
        (self.site == site && self.email == email).then(|| self.found.clone())
    }
}

/// What a create's first statement read (all empty when it made none).
#[derive(Debug, Default)]
pub(crate) struct FirstRead {
    /// Offers the lines name that were not known already.
    pub(crate) offers: Vec<FoundOffer>,
    /// The buyer looked up by the order's e-mail, when the order names no customer.
    pub(crate) buyer: Option<BuyerByEmail>,
    /// The order's id and ids for its new lines and payments.
    pub(crate) ids: Option<OrderRow>,
}

impl Store {
    /// PostgreSQL: reads in one plain read what creating `input` would read first (offers not in
    /// `known`, the buyer by e-mail) and draws its ids with them. Nothing is read when there is
    /// neither an offer nor a buyer to look up (drawing the ids alone saves no round trip), nor on
    /// SQLite. Ids drawn for a create that is then refused are not used again (PostgreSQL's
    /// sequences never give an id twice, and a rolled-back INSERT leaves the same gap).
    pub(super) async fn first_read(
        &self,
        tx: &mut Tx,
        input: &OrderInput,
        known: &[FoundOffer],
    ) -> StoreResult<FirstRead> {
        if self.backend() != crate::Backend::Postgres {
            return Ok(FirstRead::default());
        }
        let o = &input.order;
        let items = input.items.as_deref().unwrap_or_default();
        let refs = offers_left(items.iter().filter(|i| i.id.is_none()).filter_map(|i| i.offer.as_ref()), known);
        let names_no_customer = input.customer.is_none()
            && input.corporate.is_none()
            && input.contact.is_none()
            && input.company.is_none()
            && o.customer_id.is_none();
        let email = o.email.as_deref().filter(|e| names_no_customer && !e.is_empty()).map(str::to_lowercase);
        if refs.is_empty() && email.is_none() {
            return Ok(FirstRead::default());
        }
        let new_lines = items.iter().filter(|i| i.id.is_none()).count();
        let new_payments = input.payments.iter().filter(|p| p.id == 0).count();
        let mut q = Sql::default();
        let (lines, payments) = (
            q.placeholder(Arg::Int(super::count_arg(new_lines))),
            q.placeholder(Arg::Int(super::count_arg(new_payments))),
        );
        // The ids' CTE is materialized: drawn once, whatever the joins after it make of its row.
        q.push(&format!(
            "WITH ids AS MATERIALIZED ({})
             SELECT ids.id AS order_id, ids.line_ids, ids.payment_ids, b.id AS buyer_id, b.doc AS buyer_doc,
             f.id, f.external_id, f.xml_id, f.name, f.article, f.price, f.purchase_price FROM ids",
            select_order_ids(&lines, &payments)
        ));
        // Left joins: the one row of ids comes back whether or not a buyer or an offer is found.
        match &email {
            Some(email) => {
                q.push(" LEFT JOIN LATERAL (SELECT id, doc FROM customers WHERE site = ")
                    .bind(Arg::Text(o.site.clone()))
                    .push(" AND email = ")
                    .bind(Arg::Text(email.clone()))
                    .push(" ORDER BY id LIMIT 1) b ON TRUE");
            }
            None => {
                q.push(" LEFT JOIN (SELECT CAST(NULL AS BIGINT) AS id, CAST(NULL AS TEXT) AS doc) b ON FALSE");
            }
        }
        q.push(" LEFT JOIN offers f ON ");
        if refs.is_empty() {
            q.push("FALSE");
        } else {
            q.push("(");
            offers_named(&mut q, "f.", &refs);
            q.push(")");
        }
        let rows = q.query().plain_read().fetch_all(&mut **tx).await?;
        let Some(first) = rows.first() else {
            return Err(crate::db::DbError::decode("order_id", "the first read of a create returned no row").into());
        };
        let mut offers = Vec::with_capacity(rows.len());
        for r in &rows {
            if r.try_get::<Option<i64>, _>("id")?.is_some() {
                offers.push(found_offer(r, &OFFER_COLUMNS)?);
            }
        }
        let buyer = match email {
            Some(email) => {
                let id: Option<i64> = first.try_get("buyer_id")?;
                let found = match id {
                    Some(id) => Some((id, first.try_get("buyer_doc")?)),
                    None => None,
                };
                Some(BuyerByEmail { site: o.site.clone(), email, found })
            }
            None => None,
        };
        Ok(FirstRead { offers, buyer, ids: Some(drawn_row(first, "order_id")?) })
    }
}
