//! Invoices to legal payers: the torg order an invoice pays is put under the corporate customer whose
//! company the payer is (docs/billing.md "Legal payers").

use crate::orders::OrderLookup;
use crate::{Store, StoreResult, Tx, db, json_map};
use serde_json::{Map, Value, json};
use torg_domain::corporate::{PayerCompany, pick_payer_company};
use torg_domain::history::Actor;
use torg_domain::invoice::Invoice;
use torg_domain::time::Zone;

/// `customer.type: legal` with a `vatNumber`: the payer's INN and KPP (`taxRegistrationReasonCode`).
fn legal_payer(inv: &Invoice) -> Option<(String, Option<String>)> {
    let c = inv.doc.get("customer")?.as_object()?;
    if c.get("type").and_then(Value::as_str) != Some("legal") {
        return None;
    }
    let text = |k: &str| c.get(k).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    Some((text("vatNumber")?, text("taxRegistrationReasonCode")))
}

impl Store {
    /// Puts the order `inv` pays under the corporate customer of its site whose company has the legal
    /// payer's INN, with that company, through the order edit (history names `actor`), inside the
    /// invoice's transaction. Among several such companies: the one whose KPP is the payer's, then an
    /// active one, the main one, the oldest. An order already its corporate customer's keeps it and only
    /// takes that company; an order of another corporate customer with no company of that INN is
    /// refused (the payer is not its buyer); an individual's order keeps the individual as contact
    /// person when they are one of its contact persons. Nothing changes for a private payer, an invoice
    /// linked to no order, or an INN no company of the site has.
    pub(crate) async fn attach_legal_payer_in(
        &self,
        tx: &mut Tx,
        inv: &Invoice,
        actor: Actor,
        zone: &Zone,
    ) -> StoreResult<()> {
        let (Some(order_id), Some((inn, kpp))) = (inv.order_id, legal_payer(inv)) else { return Ok(()) };
        let Some(order) = self.load_orders(tx, &[order_id]).await?.pop() else { return Ok(()) };
        let rows: Vec<(i64, i64, i64, i64, String)> = db::query_as(
            "SELECT m.id, m.corporate_id, m.active, m.is_main, m.doc FROM corporate_companies m
             JOIN corporate_customers k ON k.id = m.corporate_id WHERE m.inn = $1 AND k.site = $2 ORDER BY m.id",
        )
        .bind(&inn)
        .bind(&order.site)
        .fetch_all(&mut **tx)
        .await?;
        let candidates: Vec<PayerCompany> = rows
            .into_iter()
            .map(|(id, corporate_id, active, main, doc)| {
                let kpp = json_map(&doc)
                    .get("contragent")
                    .and_then(|c| c.get("KPP"))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                PayerCompany { id, corporate_id, active: active != 0, is_main: main != 0, kpp }
            })
            .collect();
        let picked = pick_payer_company(candidates, order.corporate_id, kpp.as_deref(), &order.number, &inn)?;
        let Some(PayerCompany { id: company, corporate_id: corporate, .. }) = picked else { return Ok(()) };
        if order.corporate_id == Some(corporate) && order.company_id == Some(company) {
            return Ok(());
        }
        let mut doc = Map::new();
        doc.insert("customer".into(), json!({"type": "customer_corporate", "id": corporate}));
        doc.insert("company".into(), json!({"id": company}));
        let contact = match order.corporate_id {
            Some(_) => order.contact_id,
            None => match order.customer_id {
                Some(customer) => {
                    let is_contact: Option<(i64,)> =
                        db::query_as("SELECT id FROM corporate_contacts WHERE corporate_id = $1 AND customer_id = $2")
                            .bind(corporate)
                            .bind(customer)
                            .fetch_optional(&mut **tx)
                            .await?;
                    is_contact.map(|_| customer)
                }
                None => None,
            },
        };
        if let Some(c) = contact {
            doc.insert("contact".into(), json!({"id": c}));
        }
        let sites = [order.site.clone()];
        let now = torg_domain::time::now();
        self.edit_order_in(tx, &OrderLookup::Id(order_id), &doc, actor, &sites, zone, now).await?;
        Ok(())
    }
}
