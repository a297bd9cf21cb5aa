//! Invoices and refunds as the billing face writes them (OrderResponse, RefundOrderResponse; A.4).

use serde_json::{Map, Value, json};
use torg_domain::invoice::{Counterparty, Invoice, InvoiceStatus, Refund, Shipment, money_value};

/// An instant as Invoicebox writes it: RFC 3339 in UTC with a `+00:00` offset.
pub fn datetime(secs: i64) -> Value {
    match jiff::Timestamp::from_second(secs) {
        Ok(ts) => json!(ts.to_zoned(jiff::tz::TimeZone::UTC).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()),
        Err(_) => Value::Null,
    }
}

/// The payment page of an invoice: the server's public URL and the container id.
pub fn payment_url(public_url: &str, inv: &Invoice) -> String {
    format!("{}/pay/{}", public_url.trim_end_matches('/'), inv.container_id)
}

/// An invoice as an OrderResponse; `status` overrides the stored one (a notification reports the
/// status it announces, whatever happened since).
pub fn invoice(inv: &Invoice, public_url: &str, status: Option<InvoiceStatus>) -> Value {
    let mut m: Map<String, Value> = Map::new();
    m.insert("id".into(), json!(inv.id));
    m.insert("merchantId".into(), json!(inv.merchant_id));
    m.insert("merchantOrderId".into(), json!(inv.merchant_order_id));
    m.insert("description".into(), json!(inv.description));
    m.insert("amount".into(), money_value(inv.amount));
    m.insert("vatAmount".into(), money_value(inv.vat_amount));
    m.insert("currencyId".into(), json!(inv.currency));
    m.insert("languageId".into(), json!(inv.language));
    m.insert("expirationDate".into(), datetime(inv.expires_at));
    for (k, v) in &inv.doc {
        if !m.contains_key(k) {
            m.insert(k.clone(), v.clone());
        }
    }
    m.insert("status".into(), json!(status.unwrap_or(inv.status).as_str()));
    m.insert("createdAt".into(), datetime(inv.created_at));
    if let Some(p) = inv.paid_at {
        m.insert("paidAt".into(), datetime(p));
    }
    m.insert("orderContainerId".into(), json!(inv.container_id));
    m.insert("paymentUrl".into(), json!(payment_url(public_url, inv)));
    // Correction orders say so; the merchant's refusal of a notification shows as processingStatus.
    m.entry("subtype").or_insert_with(|| json!("order"));
    m.entry("processingStatus").or_insert_with(|| json!(""));
    m.insert("fileIds".into(), json!([]));
    m.insert("processable".into(), json!(inv.processable));
    if let Some(u) = &inv.notification_url {
        m.insert("notificationUrl".into(), json!(u));
    }
    Value::Object(m)
}

/// A refund as a RefundOrderResponse.
pub fn refund(r: &Refund) -> Value {
    json!({
        "id": r.id,
        "parentId": r.parent_id,
        "description": r.description,
        "merchantOrderId": r.merchant_order_id,
        "merchantId": r.merchant_id,
        "amount": money_value(r.amount),
        "vatAmount": money_value(r.vat_amount),
        "currencyId": r.currency,
        "basketItems": r.doc.get("basketItems").cloned().unwrap_or(json!([])),
        "createdAt": datetime(r.created_at),
        "status": r.status,
    })
}

/// A refund as its status notification: the RefundOrderResponse with the status announced and
/// `subtype: refund`, so one receiver tells refunds from orders.
pub fn refund_notification(r: &Refund, status: Option<&str>) -> Value {
    let mut v = refund(r);
    if let Some(s) = status {
        v["status"] = json!(s);
    }
    v["subtype"] = json!("refund");
    v
}

/// A shipment as a ShipmentResponse.
pub fn shipment(s: &Shipment) -> Value {
    let mut m: Map<String, Value> = Map::new();
    m.insert("id".into(), json!(s.id));
    m.insert("orderId".into(), json!(s.invoice_id));
    m.insert("merchantId".into(), json!(s.merchant_id));
    if let Some(n) = &s.document_number {
        m.insert("documentNumber".into(), json!(n));
    }
    if let Some(d) = &s.document_date {
        m.insert("documentDate".into(), json!(d));
    }
    m.insert("basketItems".into(), s.doc.get("basketItems").cloned().unwrap_or(json!([])));
    m.insert("final".into(), json!(s.is_final));
    m.insert("status".into(), json!("completed"));
    m.insert("amount".into(), money_value(s.amount));
    m.insert("vatAmount".into(), money_value(s.vat_amount));
    m.insert("createdAt".into(), datetime(s.created_at));
    Value::Object(m)
}

/// A company as the counterparty lookup answers it; `id` is stable per source record.
pub fn counterparty(c: &Counterparty, id: String) -> Value {
    json!({
        "id": id,
        "vatNumber": c.vat_number,
        "taxRegistrationReasonCode": c.kpp,
        "name": c.name,
        "nameFull": c.name_full,
        "registrationNumber": c.registration_number,
        "registrationAddress": c.registration_address,
        "registered": true,
    })
}
