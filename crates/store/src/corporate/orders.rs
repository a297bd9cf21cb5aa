//! Orders for corporate customers: the corporate customer an order names, the company that buys and
//! the contact person who ordered.

use crate::customers::CustomerLookup;
use crate::orders::fill;
use crate::sql::{Arg, Sql};
use crate::{Store, StoreResult, Tx, db};
use std::collections::HashMap;
use torg_domain::corporate::{self, Company};
use torg_domain::customer::Customer;
use torg_domain::order::{CustomerRef, Order};

/// What orders show beside themselves: the corporate customers and companies they name, and the
/// bonuses they earn.
#[derive(Debug, Clone, Default)]
pub struct OrderParties {
    /// (external id, site, name) of each corporate customer, by id.
    pub corporates: HashMap<i64, (Option<String>, String, String)>,
    /// Each company, by id.
    pub companies: HashMap<i64, Company>,
    /// The bonuses each order in a loyalty programme earned or will earn, by order id.
    pub bonuses_credit: HashMap<i64, rust_decimal::Decimal>,
}

impl Store {
    /// Resolves an order's corporate customer, company and contact person (each `{id | externalId}`,
    /// external ids on the order's site). Naming another corporate customer drops the company and
    /// contact it had; a company or contact not named is the corporate customer's main one. The
    /// company and contact must be the corporate customer's own. The order's contact fields are
    /// filled from the contact person where empty.
    pub(crate) async fn resolve_order_corporate(
        &self,
        tx: &mut Tx,
        o: &mut Order,
        [corporate, contact, company]: [&Option<CustomerRef>; 3],
    ) -> StoreResult<()> {
        if let Some(r) = corporate {
            let lookup = match r {
                CustomerRef::Id(id) => CustomerLookup::Id(*id),
                CustomerRef::ExternalId(e) => {
                    CustomerLookup::ExternalId { site: o.site.clone(), external_id: e.clone() }
                }
            };
            let Ok(id) = self.corporate_id_in(tx, &lookup, std::slice::from_ref(&o.site)).await else {
                return Err(corporate::unknown_order_corporate(r).into());
            };
            if o.corporate_id != Some(id) {
                (o.company_id, o.contact_id) = (None, None);
            }
            o.corporate_id = Some(id);
            o.customer_id = None;
        }
        let corporate_id = corporate::order_corporate_id(o.corporate_id, contact.is_some())?;
        if let Some(r) = contact {
            let mut q = Sql::new(
                "SELECT cu.id FROM corporate_contacts cc JOIN customers cu ON cu.id = cc.customer_id WHERE cc.corporate_id = ",
            );
            q.bind(Arg::Int(corporate_id));
            match r {
                CustomerRef::Id(id) => q.push(" AND cu.id = ").bind(Arg::Int(*id)),
                CustomerRef::ExternalId(e) => q.push(" AND cu.external_id = ").bind(Arg::Text(e.clone())),
            };
            let found: Option<(i64,)> = q.query_as().fetch_optional(&mut **tx).await?;
            let Some((id,)) = found else { return Err(corporate::not_a_contact(r).into()) };
            o.contact_id = Some(id);
        }
        if let Some(r) = company {
            let mut q = Sql::new("SELECT id FROM corporate_companies WHERE corporate_id = ");
            q.bind(Arg::Int(corporate_id));
            match r {
                CustomerRef::Id(id) => q.push(" AND id = ").bind(Arg::Int(*id)),
                CustomerRef::ExternalId(e) => q.push(" AND external_id = ").bind(Arg::Text(e.clone())),
            };
            let found: Option<(i64,)> = q.query_as().fetch_optional(&mut **tx).await?;
            let Some((id,)) = found else { return Err(corporate::unknown_order_company(r).into()) };
            o.company_id = Some(id);
        }
        if o.contact_id.is_none() {
            o.contact_id = db::query_scalar(
                "SELECT customer_id FROM corporate_contacts WHERE corporate_id = $1 ORDER BY is_main DESC, id LIMIT 1",
            )
            .bind(corporate_id)
            .fetch_optional(&mut **tx)
            .await?;
        }
        if o.company_id.is_none() {
            o.company_id = db::query_scalar(
                "SELECT id FROM corporate_companies WHERE corporate_id = $1 ORDER BY is_main DESC, id LIMIT 1",
            )
            .bind(corporate_id)
            .fetch_optional(&mut **tx)
            .await?;
        }
        if let Some(id) = o.contact_id {
            let (doc,): (String,) =
                db::query_as("SELECT doc FROM customers WHERE id = $1").bind(id).fetch_one(&mut **tx).await?;
            let c: Customer = serde_json::from_str(&doc).unwrap_or_default();
            fill(&mut o.first_name, &c.first_name);
            fill(&mut o.last_name, &c.last_name);
            fill(&mut o.patronymic, &c.patronymic);
            fill(&mut o.email, &c.email);
            fill(&mut o.phone, &c.phones.first().map(|p| p.number.clone()));
        }
        Ok(())
    }

    /// The corporate customers and companies a page of orders names, in two queries.
    pub async fn order_parties(&self, orders: &[Order]) -> StoreResult<OrderParties> {
        self.order_parties_on(&mut self.reader().acquire().await?, orders, None).await
    }

    pub(crate) async fn order_parties_on(
        &self,
        conn: &mut crate::db::Conn,
        orders: &[Order],
        hints: Option<&crate::loyalty::CreditHints>,
    ) -> StoreResult<OrderParties> {
        let corporate_ids: Vec<i64> = orders.iter().filter_map(|o| o.corporate_id).collect();
        let company_ids: Vec<i64> = orders.iter().filter_map(|o| o.company_id).collect();
        Ok(OrderParties {
            corporates: self.corporate_refs(conn, &corporate_ids).await?,
            companies: self.companies_by_id(conn, &company_ids).await?,
            bonuses_credit: self.order_credits(conn, orders, hints).await?,
        })
    }
}
