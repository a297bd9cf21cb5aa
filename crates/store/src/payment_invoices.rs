//! Invoices issued for one payment of a CRM order (the CRM's integration payment API, `payment/*`).
//! They are ordinary billing invoices: the merchant order id `crm-payment-{payment}-{n}` ties each to
//! its payment without a column of its own, and `crmPaymentId` in the invoice's document tells the
//! paying path to mark that payment paid instead of adding another one to the order.

use crate::{Store, StoreResult, Tx};
use rust_decimal::Decimal;
use serde_json::Value;
use torg_domain::DomainError;
use torg_domain::history::Actor;
use torg_domain::invoice::{Invoice, InvoiceStatus};
use torg_domain::order::{Order, Payment};
use torg_domain::time::Zone;

/// The member of an invoice's document naming the CRM payment it was issued for.
pub const CRM_PAYMENT_MEMBER: &str = "crmPaymentId";

/// What [`Store::issue_payment_invoice`] came to.
#[derive(Debug)]
pub enum IssuedInvoice {
    /// The new invoice.
    Issued(Invoice),
    /// The payment's invoice still waiting to be paid, issued before.
    Pending(Invoice),
    /// The invoice that paid (or holds money for) the payment.
    Paid(Invoice),
}

/// How an invoice of a payment stands: pending, or paid or held; `None` once closed (cancelled,
/// expired), when the payment may have another.
fn in_force(inv: Invoice) -> Option<IssuedInvoice> {
    match inv.status {
        InvoiceStatus::Created => Some(IssuedInvoice::Pending(inv)),
        InvoiceStatus::Completed | InvoiceStatus::Hold => Some(IssuedInvoice::Paid(inv)),
        InvoiceStatus::Canceled | InvoiceStatus::Expired => None,
    }
}

/// The merchant order id prefix of the invoices of payment `id`.
fn prefix(payment_id: i64) -> String {
    format!("crm-payment-{payment_id}-")
}

/// `invoices` rows whose merchant order id begins with `$1` (bound as [`prefix`]), up to `$2` (as
/// [`past_prefix`]): a range over the `invoices_merchant_order` index in byte order, where `LIKE`
/// read every invoice.
fn of_payment(backend: crate::Backend) -> &'static str {
    match backend {
        crate::Backend::Sqlite => "merchant_order_id >= $1 AND merchant_order_id < $2",
        crate::Backend::Postgres => "merchant_order_id COLLATE \"C\" >= $1 AND merchant_order_id COLLATE \"C\" < $2",
    }
}

/// The first text past every text that begins with [`prefix`] in byte order: the prefix with its
/// final `-` as `.`, the next byte.
fn past_prefix(payment_id: i64) -> String {
    let mut past = prefix(payment_id);
    past.pop();
    past.push('.');
    past
}

/// The invoices issued for payment `id`, newest first, read whole in one statement.
async fn invoices_of_payment<'e>(
    backend: crate::Backend,
    exec: impl Into<crate::db::Exec<'e>>,
    payment_id: i64,
) -> StoreResult<Vec<Invoice>> {
    let rows = crate::db::query(format!(
        "SELECT {} FROM invoices WHERE {} ORDER BY seq DESC",
        crate::invoices::INVOICE_COLUMNS,
        of_payment(backend)
    ))
    .bind(prefix(payment_id))
    .bind(past_prefix(payment_id))
    .fetch_all(exec)
    .await?;
    rows.iter().map(crate::invoices::invoice_from_row).collect()
}

impl Store {
    /// The order holding payment `id`, if it is on one of `sites`, and the payment.
    pub async fn order_of_payment(&self, payment_id: i64, sites: &[String]) -> StoreResult<Option<(Order, Payment)>> {
        let row: Option<(i64,)> = crate::db::query_as("SELECT order_id FROM payments WHERE id = $1")
            .bind(payment_id)
            .fetch_optional(self.reader())
            .await?;
        let Some((order_id,)) = row else { return Ok(None) };
        let Some(order) = self.get_order(&crate::OrderLookup::Id(order_id)).await? else { return Ok(None) };
        if !sites.contains(&order.site) {
            return Ok(None);
        }
        let payment = order.payments.iter().find(|p| p.id == payment_id).cloned();
        Ok(payment.map(|p| (order, p)))
    }

    /// The invoices issued for payment `id`, newest first (unpaid ones past their date expired first).
    pub async fn payment_invoices(&self, payment_id: i64) -> StoreResult<Vec<Invoice>> {
        self.expire_due(torg_domain::time::now()).await?;
        invoices_of_payment(self.backend(), self.reader(), payment_id).await
    }

    /// The newest invoice of payment `id` still in force (pending, or paid or held), if any: what
    /// [`Store::issue_payment_invoice`] would answer instead of issuing one, read without writing.
    pub async fn payment_invoice_in_force(&self, payment_id: i64) -> StoreResult<Option<IssuedInvoice>> {
        Ok(self.payment_invoices(payment_id).await?.into_iter().find_map(in_force))
    }

    /// Issues `inv` for CRM payment `payment_id`, its merchant order id numbered after the payment's
    /// closed invoices, unless the payment has an invoice still pending (that one is the answer) or
    /// paid or held (refused). One transaction looks and writes, the payment's row locked on
    /// PostgreSQL (SQLite has one writer), so concurrent requests for one payment share one invoice;
    /// and the answer is committed, so it can be read back at once.
    pub async fn issue_payment_invoice(&self, mut inv: Invoice, payment_id: i64) -> StoreResult<IssuedInvoice> {
        self.expire_due(torg_domain::time::now()).await?;
        let mut tx = self.begin().await?;
        if self.backend() == crate::Backend::Postgres {
            crate::db::query("SELECT id FROM payments WHERE id = $1 FOR UPDATE")
                .bind(payment_id)
                .execute(&mut *tx)
                .await?;
        }
        let mut closed = 0;
        for issued in invoices_of_payment(self.backend(), &mut *tx, payment_id).await? {
            match in_force(issued) {
                Some(standing) => {
                    tx.commit().await?;
                    return Ok(standing);
                }
                None => closed += 1,
            }
        }
        inv.merchant_order_id = format!("{}{}", prefix(payment_id), closed + 1);
        self.insert_invoice_in(&mut tx, &inv).await?;
        tx.commit().await?;
        Ok(IssuedInvoice::Issued(inv))
    }

    /// The merchant order id an invoice of payment `id` brought from elsewhere gets: numbered after
    /// all of the payment's invoices.
    pub async fn next_payment_invoice_ref(&self, payment_id: i64) -> StoreResult<String> {
        let (n,): (i64,) = crate::db::query_as(format!(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM invoices WHERE {}",
            of_payment(self.backend())
        ))
        .bind(prefix(payment_id))
        .bind(past_prefix(payment_id))
        .fetch_one(self.reader())
        .await?;
        Ok(format!("{}{}", prefix(payment_id), n + 1))
    }

    /// Stores an invoice brought from elsewhere (`payment/invoice/import`) and moves it to `status` in
    /// the same transaction, so a paid import marks its payment paid or nothing is written.
    pub async fn import_payment_invoice(
        &self,
        inv: &Invoice,
        status: InvoiceStatus,
        paid_at: Option<i64>,
        actor: Actor,
        zone: &Zone,
    ) -> StoreResult<Invoice> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        self.insert_invoice_in(&mut tx, inv).await?;
        let mut stored = inv.clone();
        if status != InvoiceStatus::Created {
            let amount = stored.amount;
            self.change_status_in(&mut tx, &mut stored, status, amount, actor, zone, paid_at.unwrap_or(now)).await?;
        }
        tx.commit().await?;
        Ok(stored)
    }

    /// Marks the CRM payment a paid invoice was issued for paid with the sum received (the payment
    /// deleted since: the sum is added as a new payment, as for any other paid invoice).
    pub(crate) async fn pay_crm_payment_in(
        &self,
        tx: &mut Tx,
        inv: &Invoice,
        payment_id: i64,
        paid: Decimal,
        actor: Actor,
        now: i64,
    ) -> StoreResult<bool> {
        let Some(order_id) = inv.order_id else { return Ok(false) };
        let old =
            self.load_orders(tx, &[order_id]).await?.pop().ok_or_else(|| DomainError::NotFound("order".into()))?;
        let mut payments = old.payments.clone();
        let Some(p) = payments.iter_mut().find(|p| p.id == payment_id) else { return Ok(false) };
        p.status = "paid".into();
        p.amount = paid;
        p.paid_at = Some(now);
        if p.external_id.is_none() {
            p.external_id = Some(inv.id.clone());
        }
        self.save_payments_in(tx, &old, payments, actor, now).await?;
        Ok(true)
    }
}

/// The CRM payment an invoice was issued for, if any.
pub(crate) fn crm_payment_of(inv: &Invoice) -> Option<i64> {
    inv.doc.get(CRM_PAYMENT_MEMBER).and_then(Value::as_i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The range holds the merchant order ids of its payment's invoices and no other payment's, in
    /// byte order (as SQLite's BINARY and PostgreSQL's "C" compare).
    #[test]
    fn a_payments_range_holds_its_invoices_only() {
        let ids = [1_i64, 5, 50, 55, 5_000, 51];
        for p in ids {
            let (lo, hi) = (prefix(p), past_prefix(p));
            for q in ids {
                for n in [1, 2, 10, 999] {
                    let id = format!("{}{n}", prefix(q));
                    let inside = lo.as_bytes() <= id.as_bytes() && id.as_bytes() < hi.as_bytes();
                    assert_eq!(inside, p == q, "{id} in the range of payment {p}");
                }
            }
            for other in ["crm-payment-", "crm-payment-5", "crm-payment-5.", "crm-payment-5-", "shop-42"] {
                let inside = lo.as_bytes() <= other.as_bytes() && other.as_bytes() < hi.as_bytes();
                assert_eq!(inside, other.starts_with(&lo), "{other} for payment {p}");
            }
        }
    }
}
