//! PostgreSQL: what a create reads before it writes — the offers its lines name, its buyer by
//! e-mail or phone, and the ids of its row, lines and payments — in one statement, where each was a
//! round trip of its own (on SQLite a statement is a function call, and each is read where it is
//! needed).

use super::{FoundOffer, OFFER_COLUMNS, OrderRow, drawn_row, found_offer, offers_left, offers_named, select_order_ids};
use crate::facets::CUSTOMERS_BY_PHONE;
use crate::sql::{Arg, Sql};
use crate::{Store, StoreResult, Tx};
use torg_domain::order::OrderInput;

/// A look-up of the buyer by contact on a site, as made: the site, the e-mail in lower case, the
/// phone's digits, and the buyer found (id and stored document) by the e-mail, else by the phone.
#[derive(Debug, Clone)]
pub(crate) struct BuyerByContact {
    site: String,
    email: Option<String>,
    phone: Option<String>,
    found: Option<(i64, String)>,
}

impl BuyerByContact {
    /// What the look-up found, when it is the one of `site`, `email` (in lower case) and `phone`
    /// (digits).
    pub(crate) fn answer(&self, site: &str, email: Option<&str>, phone: Option<&str>) -> Option<Option<(i64, String)>> {
        (self.site == site && self.email.as_deref() == email && self.phone.as_deref() == phone)
            .then(|| self.found.clone())
    }
}

/// What a create's first statement read (all empty when it made none).
#[derive(Debug, Default)]
pub(crate) struct FirstRead {
    /// Offers the lines name that were not known already.
    pub(crate) offers: Vec<FoundOffer>,
    /// The buyer looked up by the order's e-mail or phone, when the order names no customer.
    pub(crate) buyer: Option<BuyerByContact>,
    /// The order's id and ids for its new lines and payments.
    pub(crate) ids: Option<OrderRow>,
}

impl Store {
    /// PostgreSQL: reads in one plain read what creating `input` would read first (offers not in
    /// `known`, the buyer by e-mail or phone) and draws its ids with them. Nothing is read when
    /// there is neither an offer nor a buyer to look up (drawing the ids alone saves no round trip),
    /// nor on SQLite. Ids drawn for a create that is then refused are not used again (PostgreSQL's
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
        let (email, phone) = if names_no_customer { super::contact_keys(o) } else { (None, None) };
        if refs.is_empty() && email.is_none() && phone.is_none() {
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
        if email.is_none() && phone.is_none() {
            q.push(" LEFT JOIN (SELECT CAST(NULL AS BIGINT) AS id, CAST(NULL AS TEXT) AS doc) b ON FALSE");
        } else {
            // The buyer by e-mail, else by phone (`way` orders the two), as `customer_by_contact` looks.
            let site = q.placeholder(Arg::Text(o.site.clone()));
            let mut ways = Vec::new();
            if let Some(email) = &email {
                let email = q.placeholder(Arg::Text(email.clone()));
                ways.push(format!(
                    "(SELECT 0 AS way, id, doc FROM customers WHERE site = {site} AND email = {email} ORDER BY id LIMIT 1)"
                ));
            }
            if let Some(phone) = &phone {
                let phone = q.placeholder(Arg::Text(phone.clone()));
                ways.push(format!(
                    "(SELECT 1 AS way, c.id, c.doc FROM {CUSTOMERS_BY_PHONE} AND f.value = {phone} AND c.site = {site} ORDER BY c.id LIMIT 1)"
                ));
            }
            q.push(&format!(
                " LEFT JOIN LATERAL (SELECT id, doc FROM ({}) w ORDER BY way LIMIT 1) b ON TRUE",
                ways.join(" UNION ALL ")
            ));
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
        let buyer = if email.is_some() || phone.is_some() {
            let id: Option<i64> = first.try_get("buyer_id")?;
            let found = match id {
                Some(id) => Some((id, first.try_get("buyer_doc")?)),
                None => None,
            };
            Some(BuyerByContact { site: o.site.clone(), email, phone, found })
        } else {
            None
        };
        Ok(FirstRead { offers, buyer, ids: Some(drawn_row(first, "order_id")?) })
    }
}
