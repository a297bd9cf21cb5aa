//! Payments of an order on their own (the CRM's `orders/payments/create|edit|delete`): each change goes
//! through the order, so its paid sums are refreshed and a history record is written.

use crate::orders::OrderLookup;
use crate::{Store, StoreResult};
use serde_json::{Map, Value, json};
use torg_domain::history::Actor;
use torg_domain::order::Payment;
use torg_domain::time::Zone;
use torg_domain::{DomainError, FieldErrors};

/// How a request names a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentLookup {
    /// Internal id.
    Id(i64),
    /// External id.
    ExternalId(String),
}

fn parse_payment(doc: &Map<String, Value>, zone: &Zone) -> StoreResult<Payment> {
    let mut errors = FieldErrors::new();
    match Payment::from_input(&Value::Object(doc.clone()), "payment", zone, &mut errors) {
        Some(p) if errors.is_empty() => Ok(p),
        _ => Err(DomainError::Invalid(errors).into()),
    }
}

impl Store {
    /// Adds a payment to an order the caller may reach; returns the payment's id.
    pub async fn create_payment(
        &self,
        order: &OrderLookup,
        doc: &Map<String, Value>,
        actor: Actor,
        allowed_sites: &[String],
        zone: &Zone,
    ) -> StoreResult<i64> {
        let mut p = parse_payment(doc, zone)?;
        p.id = 0;
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        let not_found = torg_domain::order::unknown_payment_order;
        let id = self.order_id_in(&mut tx, order).await?.ok_or_else(not_found)?;
        let old = self.load_orders(&mut tx, &[id]).await?.pop().ok_or_else(not_found)?;
        if !allowed_sites.contains(&old.site) {
            return Err(not_found().into());
        }
        let mut payments = old.payments.clone();
        payments.push(p);
        let new = self.save_payments_in(&mut tx, &old, payments, actor, now).await?;
        tx.commit().await?;
        let created = new.payments.iter().map(|p| p.id).find(|id| !old.payments.iter().any(|o| o.id == *id));
        Ok(created.unwrap_or_default())
    }

    /// Finds the order holding a payment, among the caller's sites.
    async fn payment_order(
        &self,
        tx: &mut crate::Tx,
        lookup: &PaymentLookup,
        allowed_sites: &[String],
    ) -> StoreResult<(torg_domain::order::Order, i64)> {
        let rows: Vec<(i64, i64)> = match lookup {
            PaymentLookup::Id(id) => {
                crate::db::query_as("SELECT id, order_id FROM payments WHERE id = $1")
                    .bind(*id)
                    .fetch_all(&mut **tx)
                    .await?
            }
            PaymentLookup::ExternalId(e) => {
                crate::db::query_as("SELECT id, order_id FROM payments WHERE external_id = $1 ORDER BY id")
                    .bind(e)
                    .fetch_all(&mut **tx)
                    .await?
            }
        };
        for (payment_id, order_id) in rows {
            if let Some(o) = self.load_orders(tx, &[order_id]).await?.pop()
                && allowed_sites.contains(&o.site)
            {
                return Ok((o, payment_id));
            }
        }
        Err(DomainError::NotFound("payment".into()).into())
    }

    /// Changes the fields of a payment that `doc` gives; returns the payment's id.
    pub async fn edit_payment(
        &self,
        lookup: &PaymentLookup,
        doc: &Map<String, Value>,
        actor: Actor,
        allowed_sites: &[String],
        zone: &Zone,
    ) -> StoreResult<i64> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        let (old, payment_id) = self.payment_order(&mut tx, lookup, allowed_sites).await?;
        let mut payments = old.payments.clone();
        let Some(slot) = payments.iter_mut().find(|p| p.id == payment_id) else {
            return Err(DomainError::NotFound("payment".into()).into());
        };
        let mut merged = json!({
            "externalId": slot.external_id, "type": slot.kind, "status": slot.status, "amount": slot.amount,
            "paidAt": slot.paid_at.map(|t| zone.datetime(t)), "comment": slot.comment,
        })
        .as_object()
        .cloned()
        .unwrap_or_default();
        for (k, v) in doc {
            if k != "id" && k != "order" {
                merged.insert(k.clone(), v.clone());
            }
        }
        let mut p = parse_payment(&merged, zone)?;
        p.id = payment_id;
        *slot = p;
        self.save_payments_in(&mut tx, &old, payments, actor, now).await?;
        tx.commit().await?;
        Ok(payment_id)
    }

    /// Deletes a payment.
    pub async fn delete_payment(
        &self,
        lookup: &PaymentLookup,
        actor: Actor,
        allowed_sites: &[String],
    ) -> StoreResult<()> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        let (old, payment_id) = self.payment_order(&mut tx, lookup, allowed_sites).await?;
        let payments = old.payments.iter().filter(|p| p.id != payment_id).cloned().collect();
        self.save_payments_in(&mut tx, &old, payments, actor, now).await?;
        tx.commit().await?;
        Ok(())
    }
}
