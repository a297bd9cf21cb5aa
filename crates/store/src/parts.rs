//! Orders placed through the parts face: one signed position, checked against the stock of the moment
//! and reserved in the same transaction that creates the order.

use crate::{Store, StoreResult};
use rust_decimal::Decimal;
use serde_json::json;
use torg_domain::DomainError;
use torg_domain::history::Actor;
use torg_domain::order::Order;
use torg_domain::time::Zone;

/// A position a buyer orders.
#[derive(Debug, Clone, PartialEq)]
pub struct PartsOrder {
    /// The site the order goes to.
    pub site: String,
    /// The buyer (customer id).
    pub customer_id: i64,
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
    /// keeps the signed price; stock is reserved unless it is a test order.
    pub async fn place_parts_order(&self, p: &PartsOrder, actor: Actor, zone: &Zone) -> StoreResult<Order> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        let Some(row) = self.part_row_in(&mut tx, p.offer_id, p.warehouse_id).await? else {
            return Err(DomainError::invalid("_", "This position is no longer offered; search again.").into());
        };
        if let Some(free) = row.free
            && p.quantity > free
        {
            return Err(DomainError::invalid("order_qty", format!("Only {free} left at this warehouse.")).into());
        }
        let doc = json!({
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
        let base = Order { site: p.site.clone(), is_test: p.test, ..Order::default() };
        let doc = doc.as_object().cloned().unwrap_or_default();
        let input = base.apply(&doc, zone)?;
        let order = self.create_order_in(&mut tx, input, actor, now).await?;
        tx.commit().await?;
        Ok(order)
    }

    /// A buyer's balance: what they paid (payments whose status means paid) less what their orders
    /// cost (test and cancelled orders excluded).
    pub async fn customer_balance(&self, customer_id: i64) -> StoreResult<Decimal> {
        let (paid,): (i64,) = crate::db::query_as(
            "SELECT CAST(COALESCE(SUM(p.amount), 0) AS BIGINT) FROM payments p JOIN orders o ON o.id = p.order_id
             WHERE o.customer_id = $1 AND o.is_test = 0 AND p.status IN
             (SELECT code FROM reference_entries WHERE kind = 'payment_status' AND attrs LIKE '%\"paymentComplete\":true%')",
        )
        .bind(customer_id)
        .fetch_one(self.reader())
        .await?;
        let (owed,): (i64,) = crate::db::query_as(
            "SELECT CAST(COALESCE(SUM(o.total_summ), 0) AS BIGINT) FROM orders o WHERE o.customer_id = $1 AND o.is_test = 0
             AND o.status NOT IN (SELECT code FROM reference_entries WHERE kind = 'status' AND attrs LIKE '%\"group\":\"cancel\"%')",
        )
        .bind(customer_id)
        .fetch_one(self.reader())
        .await?;
        Ok(torg_domain::money::from_units(paid - owed))
    }
}
