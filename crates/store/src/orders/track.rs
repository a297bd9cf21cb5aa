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
    /// The delivery's status as its delivery service last reported it («Доставка»): the name the
    /// integration gives the code in its `statusList`, else the code.
    pub delivery_status: Option<String>,
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
        let delivery_status = match o.delivery.data.get("status").and_then(serde_json::Value::as_str) {
            Some(code) => Some(self.delivery_status_name(o.delivery.code.as_deref(), code).await?),
            None => None,
        };
        Ok(Some(TrackView {
            id: o.id,
            number: o.number.clone(),
            invoice_number: self.latest_invoice_number(o.id).await?,
            status_code: o.status.clone(),
            status,
            warehouses,
            track_numbers: o.track_numbers(),
            delivery_status,
        }))
    }

    /// The name the integration carrying delivery type `delivery_type` gives status `code`, else
    /// the code.
    async fn delivery_status_name(&self, delivery_type: Option<&str>, code: &str) -> StoreResult<String> {
        let books = self.books().await?;
        let integration = delivery_type.and_then(|t| {
            books
                .refs(ReferenceKind::DeliveryType)
                .iter()
                .find(|e| e.code == t)
                .and_then(|e| e.attrs.get("integrationCode"))
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        });
        let Some(integration) = integration else { return Ok(code.to_string()) };
        let module = self.get_module(&integration).await?;
        let name = module.as_ref().and_then(|m| {
            m.doc
                .get("integrations")?
                .get("delivery")?
                .get("statusList")?
                .as_array()?
                .iter()
                .find(|s| s.get("code").and_then(serde_json::Value::as_str) == Some(code))?
                .get("name")?
                .as_str()
                .map(str::to_owned)
        });
        Ok(name.unwrap_or_else(|| code.to_string()))
    }
}
