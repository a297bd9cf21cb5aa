//! Shipments of invoices: what left the warehouse against an invoice, never more than the invoice
//! holds. A shipment of an invoice linked to a torg order writes the order's delivery (its document
//! number as a tracking number, the delivery status) through the order edit path, and the last one
//! captures a hold.

use crate::invoices::{RefundLine, basket_totals, line_totals, lines_left};
use crate::{Store, StoreResult, Tx, json_map};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use torg_domain::history::Actor;
use torg_domain::invoice::{self, BillingError, Invoice, InvoiceStatus, Shipment, money_value};
use torg_domain::listing::ListQuery;
use torg_domain::money::{from_units, to_units};
use torg_domain::time::Zone;

const SHIPMENT_COLUMNS: &str = "id, invoice_id, site, merchant_id, document_number, document_date, is_final, amount, \
     vat_amount, created_at, doc";

/// The order's delivery status once everything (or the final part) is shipped.
pub const SHIPPED: &str = "shipped";
/// The order's delivery status while part of it is shipped.
pub const PARTLY_SHIPPED: &str = "partially-shipped";

fn shipment_from_row(r: &crate::db::Row) -> StoreResult<Shipment> {
    Ok(Shipment {
        id: r.try_get("id")?,
        invoice_id: r.try_get("invoice_id")?,
        site: r.try_get("site")?,
        merchant_id: r.try_get("merchant_id")?,
        document_number: r.try_get("document_number")?,
        document_date: r.try_get("document_date")?,
        is_final: crate::flag(r.try_get("is_final")?),
        amount: from_units(r.try_get("amount")?),
        vat_amount: from_units(r.try_get("vat_amount")?),
        created_at: r.try_get("created_at")?,
        doc: json_map(&r.try_get::<String, _>("doc")?),
    })
}

impl Store {
    /// An invoice's lines with what is left to ship of each.
    pub(crate) async fn shipment_lines_in(
        &self,
        conn: &mut crate::db::Conn,
        inv: &Invoice,
    ) -> StoreResult<Vec<RefundLine>> {
        let rows: Vec<(String,)> = crate::db::query_as("SELECT doc FROM invoice_shipments WHERE invoice_id = $1")
            .bind(&inv.id)
            .fetch_all(&mut *conn)
            .await?;
        let shipped = line_totals(&rows.into_iter().map(|r| r.0).collect::<Vec<_>>());
        Ok(lines_left(basket_totals(inv), &shipped))
    }

    /// The lines of an invoice with what is left to ship of each.
    pub async fn shipment_lines(&self, inv: &Invoice) -> StoreResult<Vec<RefundLine>> {
        let mut conn = self.reader().acquire().await?;
        self.shipment_lines_in(&mut conn, inv).await
    }

    /// Records a shipment of an unpaid, held or paid invoice: `check` gets what is left to ship per
    /// line and vets the shipment's lines against it inside the transaction, so two shipments cannot
    /// both ship the same goods. When the invoice is then wholly shipped, or the shipment is final, a
    /// hold is captured: the invoice becomes `completed` for what was shipped (the rest is released)
    /// and its torg order gets that payment. Returns the shipment and the invoice after it.
    pub async fn create_invoice_shipment(
        &self,
        shipment: &Shipment,
        actor: Actor,
        zone: &Zone,
        check: impl FnOnce(&Invoice, &[RefundLine]) -> Result<(), BillingError>,
    ) -> StoreResult<(Shipment, Invoice)> {
        let now = shipment.created_at;
        let mut tx = self.begin().await?;
        let mut inv = invoice::shipped_invoice(self.invoice_in(&mut tx, &shipment.invoice_id).await?, &shipment.site)?;
        invoice::check_shippable(&inv)?;
        let (finals,): (i64,) = crate::db::query_as(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM invoice_shipments WHERE invoice_id = $1 AND is_final = 1",
        )
        .bind(&inv.id)
        .fetch_one(&mut *tx)
        .await?;
        let left = self.shipment_lines_in(&mut tx, &inv).await?;
        invoice::check_open_to_ship(&inv, finals, left.iter().map(|l| l.available))?;
        check(&inv, &left)?;
        let left_total: Decimal = left.iter().map(|l| l.available).sum();
        invoice::check_ship_total(shipment.amount, left_total)?;
        let (id,): (i64,) = crate::db::query_as(
            "INSERT INTO invoice_shipments (invoice_id, site, merchant_id, document_number, document_date, is_final,
             amount, vat_amount, created_at, doc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(&inv.id)
        .bind(&inv.site)
        .bind(&inv.merchant_id)
        .bind(&shipment.document_number)
        .bind(&shipment.document_date)
        .bind(i64::from(shipment.is_final))
        .bind(to_units(shipment.amount))
        .bind(to_units(shipment.vat_amount))
        .bind(now)
        .bind(Value::Object(shipment.doc.clone()).to_string())
        .fetch_one(&mut *tx)
        .await?;
        let done = shipment.is_final || shipment.amount == left_total;
        if let Some(order_id) = inv.order_id {
            let status = if done { SHIPPED } else { PARTLY_SHIPPED };
            self.record_shipment_on_order_in(
                &mut tx,
                order_id,
                shipment.document_number.as_deref(),
                status,
                actor,
                zone,
            )
            .await?;
        }
        if done && inv.status == InvoiceStatus::Hold {
            let captured = inv.amount - (left_total - shipment.amount);
            inv.doc.insert("capturedAmount".into(), money_value(captured));
            self.change_status_in(&mut tx, &mut inv, InvoiceStatus::Completed, captured, actor, zone, now).await?;
        }
        tx.commit().await?;
        let mut stored = shipment.clone();
        stored.id = id;
        stored.merchant_id = inv.merchant_id.clone();
        Ok((stored, inv))
    }

    /// Writes a shipment onto a torg order's delivery: its document number joins the tracking numbers
    /// (`delivery.data.trackNumber`, what `/track` shows) and `delivery.data.status` becomes `status`,
    /// through the order edit path (history included).
    pub(crate) async fn record_shipment_on_order_in(
        &self,
        tx: &mut Tx,
        order_id: i64,
        track_number: Option<&str>,
        status: &str,
        actor: Actor,
        zone: &Zone,
    ) -> StoreResult<()> {
        let Some(mut order) = self.load_orders(tx, &[order_id]).await?.pop() else { return Ok(()) };
        let mut numbers = order.track_numbers();
        if let Some(n) = track_number.map(str::trim).filter(|n| !n.is_empty())
            && !numbers.iter().any(|t| t == n)
        {
            numbers.push(n.to_string());
        }
        order.set_track_numbers(&numbers);
        order.delivery.data.insert("status".into(), json!(status));
        let mut doc = Map::new();
        doc.insert("delivery".into(), serde_json::to_value(&order.delivery).unwrap_or(Value::Null));
        let sites = vec![order.site.clone()];
        let now = torg_domain::time::now();
        self.edit_order_in(tx, &crate::OrderLookup::Id(order_id), &doc, actor, &sites, zone, now).await?;
        Ok(())
    }

    /// A page of the shipments of `sites` matching `q`, and the size of the filtered set.
    pub async fn list_invoice_shipments(&self, sites: &[String], q: &ListQuery) -> StoreResult<(Vec<Shipment>, u64)> {
        self.list_rows(
            crate::counts::Counted::Shipments,
            SHIPMENT_COLUMNS,
            torg_domain::invoice::SHIPMENT_FIELDS,
            sites,
            q,
            shipment_from_row,
            "id",
        )
        .await
    }
}
