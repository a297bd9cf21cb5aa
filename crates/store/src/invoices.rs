//! Invoices, refunds and sites' billing settings. Every status change of an invoice writes an outbox
//! event in the same transaction; paying an invoice also adds a payment to its torg order through the
//! order edit path (so the order's paid sums, the buyer's balance and the order history follow).

use crate::sql::{Arg, Sql};
use crate::{Backend, Store, StoreError, StoreResult, Tx, flag, json_map};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use torg_domain::DomainError;
use torg_domain::history::Actor;
use torg_domain::invoice::{self, BillingError, BillingSettings, Invoice, InvoiceStatus, Refund};
use torg_domain::listing::{Condition, FieldKind, ListQuery, Op, Operand};
use torg_domain::money::{from_units, to_units};
use torg_domain::time::Zone;

/// Changes to a site's billing settings; `None` leaves a setting as it is, `Some("")` clears a key or URL.
#[derive(Debug, Clone, Default)]
pub struct BillingSettingsPatch {
    /// Merchant UUID.
    pub merchant_id: Option<String>,
    /// Notification signing key.
    pub notification_key: Option<String>,
    /// Request signing key.
    pub signing_key: Option<String>,
    /// Default notification URL.
    pub notification_url: Option<String>,
    /// Test mode.
    pub test_mode: Option<bool>,
}

/// A basket line of a paid invoice with what is left to refund of it.
#[derive(Debug, Clone, PartialEq)]
pub struct RefundLine {
    /// The line as stored.
    pub line: serde_json::Map<String, Value>,
    /// Refundable remainder of its total.
    pub available: Decimal,
}

pub(crate) const INVOICE_COLUMNS: &str = "id, container_id, site, merchant_id, merchant_order_id, order_id, status, amount, vat_amount, \
     currency, language, description, processable, notification_url, created_at, expires_at, paid_at, doc";

const REFUND_COLUMNS: &str = "id, parent_id, site, merchant_id, merchant_order_id, status, amount, vat_amount, currency, \
     description, created_at, doc";

/// The topic of invoice status events.
pub const INVOICE_STATUS_TOPIC: &str = "invoice.status";
/// The topic of refund status events.
pub const REFUND_STATUS_TOPIC: &str = "refund.status";

/// Starting amounts per basket line less what was `taken` from them (refunded, shipped), matched by
/// sku; a sku on several lines is used up in line order.
pub(crate) fn lines_left(
    start: Vec<(serde_json::Map<String, Value>, Decimal)>,
    taken: &[(String, Decimal)],
) -> Vec<RefundLine> {
    let mut taken = taken.to_vec();
    start
        .into_iter()
        .map(|(line, total)| {
            let sku = line.get("sku").and_then(Value::as_str).unwrap_or_default().to_string();
            let mut available = total;
            for (_, amount) in taken.iter_mut().filter(|(s, _)| *s == sku) {
                let take = (*amount).min(available);
                available -= take;
                *amount -= take;
            }
            RefundLine { line, available }
        })
        .collect()
}

/// (sku, totalAmount) of each line in `basketItems` of stored documents.
pub(crate) fn line_totals(docs: &[String]) -> Vec<(String, Decimal)> {
    let mut out = Vec::new();
    for doc in docs {
        let doc = json_map(doc);
        for line in doc.get("basketItems").and_then(Value::as_array).into_iter().flatten() {
            let sku = line.get("sku").and_then(Value::as_str).unwrap_or_default().to_string();
            let total = line.get("totalAmount").and_then(torg_domain::invoice::decimal_of).unwrap_or_default();
            out.push((sku, total));
        }
    }
    out
}

/// An invoice's lines with their totals.
pub(crate) fn basket_totals(inv: &Invoice) -> Vec<(serde_json::Map<String, Value>, Decimal)> {
    inv.basket()
        .into_iter()
        .map(|l| {
            let total = l.get("totalAmount").and_then(torg_domain::invoice::decimal_of).unwrap_or_default();
            (l, total)
        })
        .collect()
}

pub(crate) fn invoice_from_row(r: &crate::db::Row) -> StoreResult<Invoice> {
    let status: String = r.try_get("status")?;
    Ok(Invoice {
        id: r.try_get("id")?,
        container_id: r.try_get("container_id")?,
        site: r.try_get("site")?,
        merchant_id: r.try_get("merchant_id")?,
        merchant_order_id: r.try_get("merchant_order_id")?,
        order_id: r.try_get("order_id")?,
        status: InvoiceStatus::parse(&status).unwrap_or(InvoiceStatus::Created),
        amount: from_units(r.try_get("amount")?),
        vat_amount: from_units(r.try_get("vat_amount")?),
        currency: r.try_get("currency")?,
        language: r.try_get("language")?,
        description: r.try_get("description")?,
        processable: flag(r.try_get("processable")?),
        notification_url: r.try_get("notification_url")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        paid_at: r.try_get("paid_at")?,
        doc: json_map(&r.try_get::<String, _>("doc")?),
    })
}

fn refund_from_row(r: &crate::db::Row) -> StoreResult<Refund> {
    Ok(Refund {
        id: r.try_get("id")?,
        parent_id: r.try_get("parent_id")?,
        site: r.try_get("site")?,
        merchant_id: r.try_get("merchant_id")?,
        merchant_order_id: r.try_get("merchant_order_id")?,
        status: r.try_get("status")?,
        amount: from_units(r.try_get("amount")?),
        vat_amount: from_units(r.try_get("vat_amount")?),
        currency: r.try_get("currency")?,
        description: r.try_get("description")?,
        created_at: r.try_get("created_at")?,
        doc: json_map(&r.try_get::<String, _>("doc")?),
    })
}

fn settings_from_row(r: &crate::db::Row) -> StoreResult<BillingSettings> {
    Ok(BillingSettings {
        site: r.try_get("site")?,
        merchant_id: r.try_get("merchant_id")?,
        notification_key: r.try_get("notification_key")?,
        signing_key: r.try_get("signing_key")?,
        notification_url: r.try_get("notification_url")?,
        test_mode: flag(r.try_get("test_mode")?),
    })
}

/// The column of a listable field (the domain's field names, Invoicebox's).
fn invoice_column(field: &str) -> &'static str {
    match field {
        "id" => "id",
        "status" => "status",
        "merchantId" => "merchant_id",
        "merchantOrderId" => "merchant_order_id",
        "parentId" => "parent_id",
        "description" => "description",
        "currencyId" => "currency",
        "amount" => "amount",
        "vatAmount" => "vat_amount",
        "createdAt" => "created_at",
        "expirationDate" => "expires_at",
        "paidAt" => "paid_at",
        "orderId" => "invoice_id",
        "documentNumber" => "document_number",
        _ => "seq",
    }
}

fn operand_arg(col: &str, o: &Operand) -> Arg {
    match o {
        // A numeric id (shipments') is a plain integer, not money.
        Operand::Number(d) if col == "id" => {
            Arg::Int(rust_decimal::prelude::ToPrimitive::to_i64(&d.trunc()).unwrap_or(i64::MAX))
        }
        Operand::Text(t) => Arg::Text(t.clone()),
        Operand::Number(d) => Arg::Int(to_units(*d)),
        Operand::Time(t) => Arg::Int(*t),
    }
}

/// Appends a list query's conditions to a WHERE clause.
fn push_conditions(wh: &mut Sql, conditions: &[Condition]) {
    for c in conditions {
        let col = invoice_column(c.field);
        match c.op {
            Op::Eq => {
                wh.push(&format!(" AND {col} IN ")).bind_list(c.values.iter().map(|v| operand_arg(col, v)));
            }
            Op::Ne => {
                wh.push(&format!(" AND ({col} IS NULL OR {col} NOT IN "))
                    .bind_list(c.values.iter().map(|v| operand_arg(col, v)))
                    .push(")");
            }
            Op::Start => {
                for v in &c.values {
                    if let Operand::Text(t) = v {
                        // The length is a number we computed, so it is written inline: PostgreSQL's
                        // SUBSTR takes an integer, and a bound BIGINT would not match it.
                        let n = t.chars().count();
                        wh.push(&format!(" AND SUBSTR({col}, 1, {n}) = ")).bind(Arg::Text(t.clone()));
                    }
                }
            }
            op => {
                let sign = match op {
                    Op::Gt => ">",
                    Op::Ge => ">=",
                    Op::Lt => "<",
                    _ => "<=",
                };
                for v in &c.values {
                    wh.push(&format!(" AND {col} {sign} ")).bind(operand_arg(col, v));
                }
            }
        }
    }
}

impl Store {
    fn order_by(&self, q: &ListQuery, kinds: &[torg_domain::listing::FieldSpec], key: &str) -> String {
        if q.sort.is_empty() {
            return format!(" ORDER BY {key} DESC");
        }
        let keys: Vec<String> = q
            .sort
            .iter()
            .map(|s| {
                let col = if s.field == "id" && key == "id" { "id" } else { invoice_column(s.field) };
                let text = kinds.iter().any(|k| k.name == s.field && k.kind == FieldKind::Text);
                // Byte order on both engines, so text sorts the same on SQLite and PostgreSQL; missing
                // values go last either way.
                let collated = if text && self.backend() == Backend::Postgres {
                    format!("{col} COLLATE \"C\"")
                } else {
                    col.to_string()
                };
                format!("({col} IS NULL), {collated} {}", if s.desc { "DESC" } else { "ASC" })
            })
            .collect();
        format!(" ORDER BY {}, {key} ASC", keys.join(", "))
    }

    fn row_lock(&self) -> &'static str {
        match self.backend() {
            Backend::Postgres => " FOR UPDATE",
            Backend::Sqlite => "",
        }
    }

    /// A site's billing settings.
    pub async fn billing_settings(&self, site: &str) -> StoreResult<Option<BillingSettings>> {
        let row = crate::db::query("SELECT * FROM billing_settings WHERE site = $1")
            .bind(site)
            .fetch_optional(self.reader())
            .await?;
        row.as_ref().map(settings_from_row).transpose()
    }

    /// The billing settings of the site with this merchant UUID.
    pub async fn billing_settings_by_merchant(&self, merchant_id: &str) -> StoreResult<Option<BillingSettings>> {
        let row = crate::db::query("SELECT * FROM billing_settings WHERE merchant_id = $1")
            .bind(merchant_id.to_ascii_lowercase())
            .fetch_optional(self.reader())
            .await?;
        row.as_ref().map(settings_from_row).transpose()
    }

    /// Every site's billing settings.
    pub async fn all_billing_settings(&self) -> StoreResult<Vec<BillingSettings>> {
        let rows = crate::db::query("SELECT * FROM billing_settings ORDER BY site").fetch_all(self.reader()).await?;
        rows.iter().map(settings_from_row).collect()
    }

    /// Changes a site's billing settings, creating them with `fresh_merchant_id` (and test mode on) the
    /// first time; the site must exist.
    pub async fn set_billing_settings(
        &self,
        site: &str,
        patch: &BillingSettingsPatch,
        fresh_merchant_id: &str,
    ) -> StoreResult<BillingSettings> {
        let mut tx = self.begin().await?;
        let exists: Option<(i64,)> =
            crate::db::query_as("SELECT id FROM sites WHERE code = $1").bind(site).fetch_optional(&mut *tx).await?;
        if exists.is_none() {
            return Err(torg_domain::key::unknown_site(site).into());
        }
        let row = crate::db::query("SELECT * FROM billing_settings WHERE site = $1")
            .bind(site)
            .fetch_optional(&mut *tx)
            .await?;
        let current = row.as_ref().map(settings_from_row).transpose()?;
        let is_new = current.is_none();
        let mut s = current.unwrap_or(BillingSettings {
            site: site.into(),
            merchant_id: fresh_merchant_id.to_ascii_lowercase(),
            test_mode: true,
            ..BillingSettings::default()
        });
        let clearable = |v: &Option<String>, old: Option<String>| match v {
            None => old,
            Some(t) if t.is_empty() => None,
            Some(t) => Some(t.clone()),
        };
        if let Some(m) = &patch.merchant_id {
            s.merchant_id = m.to_ascii_lowercase();
        }
        s.notification_key = clearable(&patch.notification_key, s.notification_key);
        s.signing_key = clearable(&patch.signing_key, s.signing_key);
        s.notification_url = clearable(&patch.notification_url, s.notification_url);
        if let Some(t) = patch.test_mode {
            s.test_mode = t;
        }
        let sql = if is_new {
            "INSERT INTO billing_settings (merchant_id, notification_key, signing_key, notification_url, test_mode, updated_at, site)
             VALUES ($1, $2, $3, $4, $5, $6, $7)"
        } else {
            "UPDATE billing_settings SET merchant_id = $1, notification_key = $2, signing_key = $3, notification_url = $4,
             test_mode = $5, updated_at = $6 WHERE site = $7"
        };
        crate::db::query(sql)
            .bind(&s.merchant_id)
            .bind(&s.notification_key)
            .bind(&s.signing_key)
            .bind(&s.notification_url)
            .bind(i64::from(s.test_mode))
            .bind(torg_domain::time::now())
            .bind(site)
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::unique_as(e, invoice::merchant_id_taken))?;
        tx.commit().await?;
        Ok(s)
    }

    /// Stores a new invoice; `merchantOrderId` must be new for the merchant. An invoice to a legal
    /// payer puts the order it pays under the payer's corporate customer in the same transaction (see
    /// `attach_legal_payer_in`); `actor` and `zone` are that order edit's.
    pub async fn create_invoice(&self, inv: &Invoice, actor: Actor, zone: &Zone) -> StoreResult<Invoice> {
        let mut tx = self.begin().await?;
        self.insert_invoice_in(&mut tx, inv).await?;
        self.attach_legal_payer_in(&mut tx, inv, actor, zone).await?;
        tx.commit().await?;
        Ok(inv.clone())
    }

    pub(crate) async fn insert_invoice_in(&self, tx: &mut Tx, inv: &Invoice) -> StoreResult<()> {
        let dup: Option<(String,)> =
            crate::db::query_as("SELECT id FROM invoices WHERE merchant_id = $1 AND merchant_order_id = $2")
                .bind(&inv.merchant_id)
                .bind(&inv.merchant_order_id)
                .fetch_optional(&mut **tx)
                .await?;
        if dup.is_some() {
            return Err(invoice::merchant_order_id_taken(&inv.merchant_order_id).into());
        }
        crate::db::query(
            "INSERT INTO invoices (id, container_id, site, merchant_id, merchant_order_id, order_id, status, amount, vat_amount,
             currency, language, description, processable, notification_url, created_at, expires_at, paid_at, updated_at, doc)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
        )
        .bind(&inv.id)
        .bind(&inv.container_id)
        .bind(&inv.site)
        .bind(&inv.merchant_id)
        .bind(&inv.merchant_order_id)
        .bind(inv.order_id)
        .bind(inv.status.as_str())
        .bind(to_units(inv.amount))
        .bind(to_units(inv.vat_amount))
        .bind(&inv.currency)
        .bind(&inv.language)
        .bind(&inv.description)
        .bind(i64::from(inv.processable))
        .bind(&inv.notification_url)
        .bind(inv.created_at)
        .bind(inv.expires_at)
        .bind(inv.paid_at)
        .bind(inv.created_at)
        .bind(Value::Object(inv.doc.clone()).to_string())
        .execute(&mut **tx)
        .await
        .map_err(|e| match e {
            d if d.is_unique_violation() => {
                StoreError::Billing(invoice::merchant_order_id_taken(&inv.merchant_order_id))
            }
            other => other.into(),
        })?;
        Ok(())
    }

    pub(crate) async fn invoice_in(&self, tx: &mut Tx, id: &str) -> StoreResult<Option<Invoice>> {
        let row = crate::db::query(format!("SELECT {INVOICE_COLUMNS} FROM invoices WHERE id = $1{}", self.row_lock()))
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
        row.as_ref().map(invoice_from_row).transpose()
    }

    /// One invoice by id (an unpaid one past its expiration date is expired first).
    pub async fn get_invoice(&self, id: &str) -> StoreResult<Option<Invoice>> {
        self.expire_due(torg_domain::time::now()).await?;
        let row = crate::db::query(format!("SELECT {INVOICE_COLUMNS} FROM invoices WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.reader())
            .await?;
        row.as_ref().map(invoice_from_row).transpose()
    }

    /// One invoice by its container id (the payment page's address).
    pub async fn get_invoice_by_container(&self, container_id: &str) -> StoreResult<Option<Invoice>> {
        self.expire_due(torg_domain::time::now()).await?;
        let row = crate::db::query(format!("SELECT {INVOICE_COLUMNS} FROM invoices WHERE container_id = $1"))
            .bind(container_id)
            .fetch_optional(self.reader())
            .await?;
        row.as_ref().map(invoice_from_row).transpose()
    }

    /// The number (id) of the latest invoice issued for a torg order, for pages that show an order's
    /// invoice (`/track`). Cancelled invoices count too: the newest one is what the buyer last saw.
    pub async fn latest_invoice_number(&self, order_id: i64) -> StoreResult<Option<String>> {
        let row: Option<(String,)> =
            crate::db::query_as("SELECT id FROM invoices WHERE order_id = $1 ORDER BY seq DESC LIMIT 1")
                .bind(order_id)
                .fetch_optional(self.reader())
                .await?;
        Ok(row.map(|r| r.0))
    }

    /// A page of the invoices of `sites` matching `q`, and the size of the filtered set.
    pub async fn list_invoices(&self, sites: &[String], q: &ListQuery) -> StoreResult<(Vec<Invoice>, u64)> {
        self.expire_due(torg_domain::time::now()).await?;
        self.list_rows(
            crate::counts::Counted::Invoices,
            INVOICE_COLUMNS,
            torg_domain::invoice::INVOICE_FIELDS,
            sites,
            q,
            invoice_from_row,
            "seq",
        )
        .await
    }

    /// A page of the refunds of `sites` matching `q`, and the size of the filtered set.
    pub async fn list_refunds(&self, sites: &[String], q: &ListQuery) -> StoreResult<(Vec<Refund>, u64)> {
        self.list_rows(
            crate::counts::Counted::Refunds,
            REFUND_COLUMNS,
            torg_domain::invoice::REFUND_FIELDS,
            sites,
            q,
            refund_from_row,
            "seq",
        )
        .await
    }

    /// One refund by id.
    pub async fn get_refund(&self, id: &str) -> StoreResult<Option<Refund>> {
        let row = crate::db::query(format!("SELECT {REFUND_COLUMNS} FROM invoice_refunds WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.reader())
            .await?;
        row.as_ref().map(refund_from_row).transpose()
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn list_rows<T>(
        &self,
        counted: crate::counts::Counted,
        columns: &str,
        fields: &[torg_domain::listing::FieldSpec],
        sites: &[String],
        q: &ListQuery,
        read: fn(&crate::db::Row) -> StoreResult<T>,
        key: &str,
    ) -> StoreResult<(Vec<T>, u64)> {
        if sites.is_empty() {
            return Ok((Vec::new(), 0));
        }
        let table = counted.entity();
        let mut wh = Sql::new(" WHERE site IN ");
        wh.bind_list(sites.iter().cloned().map(Arg::Text));
        push_conditions(&mut wh, &q.conditions);
        let total = self.list_total(self.reader(), counted, q.conditions.is_empty(), sites, table, &wh).await?;
        let mut page = wh.with_prefix(&format!("SELECT {columns} FROM {table}"));
        page.push(&self.order_by(q, fields, key));
        page.push(&format!(" LIMIT {} OFFSET {}", q.page_size, q.offset()));
        let rows = page.query().fetch_all(self.reader()).await?;
        let items = rows.iter().map(read).collect::<StoreResult<Vec<_>>>()?;
        Ok((items, total))
    }

    /// Changes an unpaid invoice with `change`; anything else is `wrong_order_status`. A changed `customer`
    /// may be a legal payer (see `create_invoice`); `actor` and `zone` are for that order edit.
    pub async fn update_invoice(
        &self,
        id: &str,
        actor: Actor,
        zone: &Zone,
        change: impl FnOnce(&Invoice) -> Result<Invoice, BillingError>,
    ) -> StoreResult<Invoice> {
        self.expire_due(torg_domain::time::now()).await?;
        let mut tx = self.begin().await?;
        let old = self.invoice_in(&mut tx, id).await?.ok_or_else(|| DomainError::NotFound("invoice".into()))?;
        invoice::check_changeable(&old)?;
        let new = change(&old)?;
        crate::db::query(
            "UPDATE invoices SET amount = $1, vat_amount = $2, description = $3, expires_at = $4, updated_at = $5, doc = $6
             WHERE id = $7",
        )
        .bind(to_units(new.amount))
        .bind(to_units(new.vat_amount))
        .bind(&new.description)
        .bind(new.expires_at)
        .bind(torg_domain::time::now())
        .bind(Value::Object(new.doc.clone()).to_string())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        // A new payer may be a legal one whose corporate customer the order then belongs to.
        if new.doc.get("customer") != old.doc.get("customer") {
            self.attach_legal_payer_in(&mut tx, &new, actor, zone).await?;
        }
        tx.commit().await?;
        Ok(new)
    }

    /// Moves an invoice to `to`. `by_merchant` is the status endpoint, which only non-processable
    /// invoices accept; otherwise a created invoice moves once (paid, held, cancelled, expired) and a
    /// held one is released (`canceled`, only before anything was shipped; capture is the shipments'
    /// business). Paying adds a payment to the linked torg order in the same transaction; every change
    /// writes an outbox event.
    pub async fn set_invoice_status(
        &self,
        id: &str,
        to: InvoiceStatus,
        by_merchant: bool,
        actor: Actor,
        zone: &Zone,
    ) -> StoreResult<Invoice> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        let mut inv = self.invoice_in(&mut tx, id).await?.ok_or_else(|| DomainError::NotFound("invoice".into()))?;
        if !invoice::check_status_change(&inv, to, by_merchant)? {
            return Ok(inv);
        }
        if invoice::releases_hold(inv.status, to) {
            let (shipped,): (i64,) =
                crate::db::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM invoice_shipments WHERE invoice_id = $1")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
            invoice::check_release(&inv, shipped)?;
            inv.paid_at = None;
        }
        let amount = inv.amount;
        self.change_status_in(&mut tx, &mut inv, to, amount, actor, zone, now).await?;
        tx.commit().await?;
        Ok(inv)
    }

    /// Holds a created invoice's money (a guarantee instrument: the payment page's "pay on shipment",
    /// or a partner's confirmation carrying `partner_operation_id`). Repeating a confirmation with the
    /// same operation id answers the invoice as it is.
    pub async fn hold_invoice(
        &self,
        id: &str,
        partner_operation_id: Option<&str>,
        actor: Actor,
        zone: &Zone,
    ) -> StoreResult<Invoice> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        let mut inv = self.invoice_in(&mut tx, id).await?.ok_or_else(|| DomainError::NotFound("invoice".into()))?;
        if invoice::repeats_hold(&inv, partner_operation_id) {
            return Ok(inv);
        }
        invoice::check_holdable(&inv)?;
        if let Some(op) = partner_operation_id {
            inv.doc.insert("partnerOperationId".into(), json!(op));
        }
        inv.paid_at = Some(now);
        let amount = inv.amount;
        self.change_status_in(&mut tx, &mut inv, InvoiceStatus::Hold, amount, actor, zone, now).await?;
        tx.commit().await?;
        Ok(inv)
    }

    /// Writes a status change: `completed` sets `paidAt` (unless a hold set it) and gives the linked
    /// torg order a paid payment of `paid`; the row (status, paidAt, document) and an outbox event
    /// follow in the caller's transaction.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn change_status_in(
        &self,
        tx: &mut Tx,
        inv: &mut Invoice,
        to: InvoiceStatus,
        paid: Decimal,
        actor: Actor,
        zone: &Zone,
        now: i64,
    ) -> StoreResult<()> {
        if to == InvoiceStatus::Completed {
            inv.paid_at = Some(inv.paid_at.filter(|_| inv.status == InvoiceStatus::Hold).unwrap_or(now));
            let crm_payment = crate::payment_invoices::crm_payment_of(inv);
            let marked = match crm_payment {
                Some(pid) => self.pay_crm_payment_in(tx, inv, pid, paid, actor, now).await?,
                None => false,
            };
            if let Some(order_id) = inv.order_id.filter(|_| !marked) {
                let doc = json!({"payments": [{
                    "type": "bank-card",
                    "status": "paid",
                    "amount": paid,
                    "paidAt": zone.datetime(now),
                    "externalId": inv.id,
                    "comment": invoice::paid_comment(inv),
                }]});
                let doc = doc.as_object().cloned().unwrap_or_default();
                let sites = vec![inv.site.clone()];
                self.edit_order_in(tx, &crate::OrderLookup::Id(order_id), &doc, actor, &sites, zone, now).await?;
            }
        }
        inv.status = to;
        crate::db::query("UPDATE invoices SET status = $1, paid_at = $2, updated_at = $3, doc = $4 WHERE id = $5")
            .bind(to.as_str())
            .bind(inv.paid_at)
            .bind(now)
            .bind(Value::Object(inv.doc.clone()).to_string())
            .bind(&inv.id)
            .execute(&mut **tx)
            .await?;
        let payload = json!({"status": to.as_str(), "at": now}).to_string();
        self.enqueue_in(tx, INVOICE_STATUS_TOPIC, &inv.id, &inv.site, &payload).await?;
        Ok(())
    }

    /// Records the merchant's refusal of a notification (`order_wrong_amount`, …) as the invoice's
    /// `processingStatus`, where the merchant's next read shows it.
    pub async fn set_processing_status(&self, id: &str, code: &str) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let Some(mut inv) = self.invoice_in(&mut tx, id).await? else { return Ok(()) };
        inv.doc.insert("processingStatus".into(), json!(code));
        crate::db::query("UPDATE invoices SET doc = $1, updated_at = $2 WHERE id = $3")
            .bind(Value::Object(inv.doc).to_string())
            .bind(torg_domain::time::now())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Moves an invoice, its refunds and shipments to the merchant of `to` (another site). An invoice
    /// linked to a torg order stays with the order's site: its payments live on that order.
    pub async fn move_invoice(&self, id: &str, to: &BillingSettings) -> StoreResult<Invoice> {
        let mut tx = self.begin().await?;
        let mut inv = self.invoice_in(&mut tx, id).await?.ok_or_else(|| DomainError::NotFound("invoice".into()))?;
        if inv.site == to.site {
            return Ok(inv);
        }
        invoice::check_movable(&inv)?;
        let dup: Option<(String,)> =
            crate::db::query_as("SELECT id FROM invoices WHERE merchant_id = $1 AND merchant_order_id = $2")
                .bind(&to.merchant_id)
                .bind(&inv.merchant_order_id)
                .fetch_optional(&mut *tx)
                .await?;
        if dup.is_some() {
            return Err(invoice::merchant_order_id_taken(&inv.merchant_order_id).into());
        }
        let now = torg_domain::time::now();
        for table in ["invoices", "invoice_refunds", "invoice_shipments"] {
            let key = if table == "invoices" {
                "id"
            } else if table == "invoice_refunds" {
                "parent_id"
            } else {
                "invoice_id"
            };
            crate::db::query(format!("UPDATE {table} SET site = $1, merchant_id = $2 WHERE {key} = $3"))
                .bind(&to.site)
                .bind(&to.merchant_id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        crate::db::query("UPDATE invoices SET updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        inv.site = to.site.clone();
        inv.merchant_id = to.merchant_id.clone();
        Ok(inv)
    }

    /// Expires every processable unpaid invoice past its expiration date; returns how many.
    pub async fn expire_due(&self, now: i64) -> StoreResult<u64> {
        // A cheap read first: reads call this, and most of the time nothing is due.
        let due: Vec<(String, String)> = crate::db::query_as(
            "SELECT id, site FROM invoices WHERE status = 'created' AND processable = 1 AND expires_at <= $1 ORDER BY seq LIMIT 500",
        )
        .bind(now)
        .fetch_all(self.reader())
        .await?;
        if due.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin().await?;
        let mut n = 0;
        for (id, site) in due {
            let done = crate::db::query(
                "UPDATE invoices SET status = 'expired', updated_at = $1 WHERE id = $2 AND status = 'created' AND expires_at <= $1",
            )
            .bind(now)
            .bind(&id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done == 1 {
                let payload = json!({"status": "expired", "at": now}).to_string();
                self.enqueue_in(&mut tx, INVOICE_STATUS_TOPIC, &id, &site, &payload).await?;
                n += 1;
            }
        }
        tx.commit().await?;
        Ok(n)
    }

    async fn refund_lines_in(&self, conn: &mut crate::db::Conn, inv: &Invoice) -> StoreResult<Vec<RefundLine>> {
        let rows: Vec<(String,)> =
            crate::db::query_as("SELECT doc FROM invoice_refunds WHERE parent_id = $1 AND status <> 'canceled'")
                .bind(&inv.id)
                .fetch_all(&mut *conn)
                .await?;
        let refunded = line_totals(&rows.into_iter().map(|r| r.0).collect::<Vec<_>>());
        // A hold captured by a final partial shipment took only what was shipped: that is what can
        // go back.
        let start = if inv.doc.contains_key("capturedAmount") {
            let to_ship = self.shipment_lines_in(&mut *conn, inv).await?;
            basket_totals(inv)
                .into_iter()
                .zip(to_ship)
                .map(|((line, total), left)| (line, total - left.available))
                .collect()
        } else {
            basket_totals(inv)
        };
        Ok(lines_left(start, &refunded))
    }

    /// The lines of an invoice with what is left to refund of each.
    pub async fn refund_lines(&self, inv: &Invoice) -> StoreResult<Vec<RefundLine>> {
        let mut conn = self.reader().acquire().await?;
        self.refund_lines_in(&mut conn, inv).await
    }

    /// Records a refund of a paid invoice: `check` gets the refundable remainder per line and vets the
    /// refund's lines against it, inside the transaction, so two refunds cannot both take the same money.
    pub async fn create_refund(
        &self,
        refund: &Refund,
        actor: Actor,
        check: impl FnOnce(&Invoice, &[RefundLine]) -> Result<(), BillingError>,
    ) -> StoreResult<Refund> {
        let mut tx = self.begin().await?;
        let parent = invoice::refund_parent(self.invoice_in(&mut tx, &refund.parent_id).await?, &refund.site)?;
        invoice::check_refundable(&parent)?;
        let dup: Option<(String,)> =
            crate::db::query_as("SELECT id FROM invoice_refunds WHERE merchant_id = $1 AND merchant_order_id = $2")
                .bind(&parent.merchant_id)
                .bind(&refund.merchant_order_id)
                .fetch_optional(&mut *tx)
                .await?;
        if dup.is_some() {
            return Err(invoice::merchant_order_id_taken(&refund.merchant_order_id).into());
        }
        let lines = self.refund_lines_in(&mut tx, &parent).await?;
        check(&parent, &lines)?;
        let mut r = refund.clone();
        r.merchant_id = parent.merchant_id.clone();
        r.currency = parent.currency.clone();
        crate::db::query(
            "INSERT INTO invoice_refunds (id, parent_id, site, merchant_id, merchant_order_id, status, amount, vat_amount,
             currency, description, created_at, doc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&r.id)
        .bind(&r.parent_id)
        .bind(&r.site)
        .bind(&r.merchant_id)
        .bind(&r.merchant_order_id)
        .bind(&r.status)
        .bind(to_units(r.amount))
        .bind(to_units(r.vat_amount))
        .bind(&r.currency)
        .bind(&r.description)
        .bind(r.created_at)
        .bind(Value::Object(r.doc.clone()).to_string())
        .execute(&mut *tx)
        .await
        .map_err(|e| match e {
            d if d.is_unique_violation() => {
                StoreError::Billing(invoice::merchant_order_id_taken(&r.merchant_order_id))
            }
            other => other.into(),
        })?;
        if r.status == "completed"
            && let Some(order_id) = parent.order_id
        {
            self.refund_payment_in(&mut tx, order_id, &parent, &r, actor).await?;
        }
        let payload = json!({"status": r.status, "at": r.created_at}).to_string();
        self.enqueue_in(&mut tx, REFUND_STATUS_TOPIC, &r.id, &r.site, &payload).await?;
        tx.commit().await?;
        Ok(r)
    }

    /// Stores a correction order (`inv`, its `parentId` a draft refund): the fee or penalty withheld
    /// from that refund. In one transaction the correction order is stored paid (`completed`: the
    /// money is kept from the refund), and the refund is recomputed (less the correction order) and
    /// carried out, its money leaving the linked torg order's payment. Both changes are announced.
    pub async fn create_correction(&self, inv: &Invoice, actor: Actor) -> StoreResult<(Invoice, Refund)> {
        let refund_id = inv.doc.get("parentId").and_then(Value::as_str).unwrap_or_default().to_string();
        let mut tx = self.begin().await?;
        let row =
            crate::db::query(format!("SELECT {REFUND_COLUMNS} FROM invoice_refunds WHERE id = $1{}", self.row_lock()))
                .bind(&refund_id)
                .fetch_optional(&mut *tx)
                .await?;
        let mut r = invoice::corrected_refund(row.as_ref().map(refund_from_row).transpose()?, &inv.site)?;
        invoice::check_correction(inv, &r)?;
        let mut c = inv.clone();
        c.status = InvoiceStatus::Completed;
        c.paid_at = Some(c.created_at);
        c.order_id = None;
        c.doc.insert("subtype".into(), json!("correction"));
        self.insert_invoice_in(&mut tx, &c).await?;
        let payload = json!({"status": "completed", "at": c.created_at}).to_string();
        self.enqueue_in(&mut tx, INVOICE_STATUS_TOPIC, &c.id, &c.site, &payload).await?;
        r.amount -= c.amount;
        r.vat_amount = (r.vat_amount - c.vat_amount).max(Decimal::ZERO);
        r.status = "completed".into();
        r.doc.insert("correctionOrderId".into(), json!(c.id));
        r.doc.insert("withheldAmount".into(), torg_domain::invoice::money_value(c.amount));
        crate::db::query(
            "UPDATE invoice_refunds SET status = $1, amount = $2, vat_amount = $3, doc = $4 WHERE id = $5",
        )
        .bind(&r.status)
        .bind(to_units(r.amount))
        .bind(to_units(r.vat_amount))
        .bind(Value::Object(r.doc.clone()).to_string())
        .bind(&r.id)
        .execute(&mut *tx)
        .await?;
        if let Some(parent) = self.invoice_in(&mut tx, &r.parent_id).await?
            && let Some(order_id) = parent.order_id
        {
            self.refund_payment_in(&mut tx, order_id, &parent, &r, actor).await?;
        }
        let payload = json!({"status": "completed", "at": c.created_at}).to_string();
        self.enqueue_in(&mut tx, REFUND_STATUS_TOPIC, &r.id, &r.site, &payload).await?;
        tx.commit().await?;
        Ok((c, r))
    }

    /// Moves a refund's money out of the invoice's payment on its order: the `paid` payment shrinks by
    /// the refund and a `returned` payment of the refund's amount joins it, so the order's paid sum and
    /// the buyer's balance drop while the order still shows what was paid and what went back.
    pub(crate) async fn refund_payment_in(
        &self,
        tx: &mut Tx,
        order_id: i64,
        parent: &Invoice,
        r: &Refund,
        actor: Actor,
    ) -> StoreResult<()> {
        let Some(old) = self.load_orders(tx, &[order_id]).await?.pop() else { return Ok(()) };
        let mut payments = old.payments.clone();
        let Some(paid) = payments.iter_mut().find(|p| p.external_id.as_deref() == Some(parent.id.as_str())) else {
            return Ok(());
        };
        paid.amount = (paid.amount - r.amount).max(Decimal::ZERO);
        let returned = torg_domain::order::Payment {
            id: 0,
            external_id: Some(r.id.clone()),
            kind: paid.kind.clone(),
            status: "returned".into(),
            amount: r.amount,
            paid_at: Some(r.created_at),
            comment: Some(invoice::refund_comment(r, parent)),
        };
        payments.push(returned);
        self.save_payments_in(tx, &old, payments, actor, r.created_at).await?;
        Ok(())
    }
}
