//! An order's public status: what anyone holding its number may see, with no personal data.

use super::OrderLookup;
use crate::{Store, StoreResult};
use torg_domain::reference::ReferenceKind;

/// An order as the public status page shows it: no personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackView {
    /// Internal id («ID заказа»).
    pub id: i64,
    /// Order number.
    pub number: String,
    /// Invoice number («№ счета»), once the order has one.
    pub invoice_number: Option<String>,
    /// Status code.
    pub status_code: String,
    /// Status name («Статус»).
    pub status: String,
    /// Warehouses it ships from, by name («Склад»).
    pub warehouses: Vec<String>,
    /// Tracking numbers («Трек-номера»).
    pub track_numbers: Vec<String>,
}

impl Store {
    /// The public status of order `number` (case and surrounding spaces ignored).
    pub async fn track_order(&self, number: &str) -> StoreResult<Option<TrackView>> {
        let number = number.trim();
        if number.is_empty() {
            return Ok(None);
        }
        let mut order = self.get_order(&OrderLookup::Number(number.to_string())).await?;
        if order.is_none() && number.to_uppercase() != number {
            order = self.get_order(&OrderLookup::Number(number.to_uppercase())).await?;
        }
        let Some(o) = order else { return Ok(None) };
        let status = self
            .list_refs(ReferenceKind::Status)
            .await?
            .into_iter()
            .find(|s| s.code == o.status)
            .map_or_else(|| o.status.clone(), |s| s.name);
        let mut codes: Vec<String> = o.shipment_store.iter().cloned().collect();
        for i in &o.items {
            if let Some(w) = &i.warehouse
                && !codes.contains(w)
            {
                codes.push(w.clone());
            }
        }
        let mut warehouses = Vec::with_capacity(codes.len());
        for code in codes {
            let name: Option<(String,)> = crate::db::query_as("SELECT name FROM warehouses WHERE code = $1")
                .bind(&code)
                .fetch_optional(self.reader())
                .await?;
            warehouses.push(name.map_or(code, |n| n.0));
        }
        Ok(Some(TrackView {
            id: o.id,
            number: o.number.clone(),
            invoice_number: self.latest_invoice_number(o.id).await?,
            status_code: o.status.clone(),
            status,
            warehouses,
            track_numbers: o.track_numbers(),
        }))
    }
}
