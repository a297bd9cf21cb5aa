//! An order for one stocked position at the price the buyer was shown (and signed): checked against
//! the stock of the moment and reserved in the same transaction that creates the order, so two buyers
//! cannot both take the last units.

use crate::orders::Known;
use crate::{CustomerLookup, Store, StoreResult};
use rust_decimal::Decimal;
use serde_json::json;
use torg_domain::DomainError;
use torg_domain::history::Actor;
use torg_domain::key::SiteAccess;
use torg_domain::order::Order;
use torg_domain::stock::Refusal;
use torg_domain::time::Zone;

/// A position a buyer orders.
#[derive(Debug, Clone, PartialEq)]
pub struct PartsOrder {
    /// The sites the buyer's key reaches: the order goes to the buyer's site or, when the key does not
    /// reach it, to the first the key names ([`SiteAccess::order_site`]).
    pub sites: SiteAccess,
    /// The buyer (customer id).
    pub customer_id: i64,
    /// The corporate customer the buyer orders for (its contact person), if any.
    pub corporate_id: Option<i64>,
    /// Offer.
    pub offer_id: i64,
    /// Warehouse.
    pub warehouse_id: i64,
    /// The price the buyer was shown (and signed).
    pub price: Decimal,
    /// Delivery days shown, least.
    pub period_min: i64,
    /// Delivery days shown, most.
    pub period_max: i64,
    /// Units.
    pub quantity: i64,
    /// The buyer's comment.
    pub comment: Option<String>,
    /// A test order: validated, stored, never reserving stock.
    pub test: bool,
}

impl Store {
    /// Places a parts order: the offer must still be at the warehouse with enough stock; the order
    /// keeps the signed price; stock is reserved unless it is a test order. `None` when the buyer is
    /// gone. The buyer and the offer are read once, by the order's transaction (as plain reads, before
    /// its `BEGIN` on PostgreSQL: the stock is held by the conditional `UPDATE`, not by this read).
    pub async fn place_parts_order(&self, p: &PartsOrder, actor: Actor, zone: &Zone) -> StoreResult<Option<Order>> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        let Some(buyer) = self.customer_doc_in(&mut tx, &CustomerLookup::Id(p.customer_id)).await? else {
            return Ok(None);
        };
        let site = p.sites.order_site(&buyer.1);
        let Some((row, offer)) = self.part_row_in(&mut tx, p.offer_id, p.warehouse_id).await? else {
            return Err(DomainError::Refused(Refusal::Unoffered).into());
        };
        if let Some(free) = row.free
            && p.quantity > free
        {
            return Err(DomainError::Refused(Refusal::Short { left: free, wanted: p.quantity, store: None }).into());
        }
        let mut doc = json!({
            "customer": {"id": p.customer_id},
            "shipmentStore": row.warehouse,
            "orderMethod": "parts-api",
            "customerComment": p.comment,
            "items": [{
                "offer": {"id": p.offer_id},
                "productName": row.name,
                "initialPrice": p.price,
                "quantity": p.quantity,
                "warehouse": row.warehouse,
                "code": row.article,
                "maker": row.brand,
                "periodMin": p.period_min,
                "periodMax": p.period_max,
            }],
        });
        if let Some(corporate) = p.corporate_id {
            // The order is the corporate customer's, placed by its contact person, for its main company.
            doc["customer"] = json!({"type": "customer_corporate", "id": corporate});
            doc["contact"] = json!({"id": p.customer_id});
        }
        let base = Order { site, is_test: p.test, ..Order::default() };
        let doc = doc.as_object().cloned().unwrap_or_default();
        let input = base.apply(&doc, zone)?;
        let known = Known { offers: vec![offer], customer: Some(buyer) };
        let order = self.create_order_in(&mut tx, input, actor, now, &known).await?;
        tx.commit().await?;
        Ok(Some(order))
    }
}
