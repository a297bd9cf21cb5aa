//! Warehouses (the CRM's stores) and the distributors that own them: the warehouse book, delivery
//! terms, and a distributor's own warehouses.
//!
//! A distributor only ever reaches warehouses whose `distributor` is its code; every batch is one
//! transaction, and per-row outcomes say what happened to each row. A warehouse row is never deleted,
//! because orders and history name its code.

use crate::batch::RowOutcome;
use crate::stock::take_off_sale_in;
use crate::{Store, StoreResult, Tx, flag, json_map, json_text};
use serde_json::{Map, Value, json};
use torg_domain::catalogue::Display;
use torg_domain::reference::Warehouse;

/// Warehouse delivery terms and how it shows stock.
#[derive(Debug, Clone, PartialEq)]
pub struct WarehouseTerms {
    /// Delivery days, least.
    pub period_min: i64,
    /// Delivery days, most.
    pub period_max: i64,
    /// Supply probability, percent.
    pub probability: Option<i64>,
    /// How exact stock is shown.
    pub display: Display,
}

/// A distributor's warehouse.
#[derive(Debug, Clone, PartialEq)]
pub struct OfficeWarehouse {
    /// Internal id.
    pub id: i64,
    /// Code (also the CRM store code and the parts face's `source`).
    pub code: String,
    /// Name.
    pub name: String,
    /// Contacts, free text.
    pub contacts: Option<String>,
    /// Address, free text.
    pub address: Option<String>,
    /// Delivery days, least.
    pub period_min: i64,
    /// Delivery days, most.
    pub period_max: i64,
}

/// A warehouse write: `None` keeps what is stored (or the default, on creation).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WarehouseInput {
    /// Code.
    pub code: String,
    /// Name (the code when never given).
    pub name: Option<String>,
    /// Contacts.
    pub contacts: Option<String>,
    /// Address.
    pub address: Option<String>,
    /// Delivery days, least.
    pub period_min: Option<i64>,
    /// Delivery days, most.
    pub period_max: Option<i64>,
}

const WAREHOUSE_COLUMNS: &str = "SELECT id, code, name, attrs, period_min, period_max FROM warehouses";

fn warehouse_from_row(r: &crate::db::Row) -> StoreResult<OfficeWarehouse> {
    let attrs = json_map(&r.try_get::<String, _>("attrs")?);
    let address = match attrs.get("address") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Object(a)) => a.get("text").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    };
    Ok(OfficeWarehouse {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        contacts: attrs.get("contacts").and_then(Value::as_str).map(str::to_owned),
        address,
        period_min: r.try_get("period_min")?,
        period_max: r.try_get("period_max")?,
    })
}

/// The warehouse's attributes with the office fields laid over: the address in RetailCRM's shape
/// (`address.text`), so the CRM face's stores show it too.
fn warehouse_attrs(mut attrs: Map<String, Value>, w: &WarehouseInput) -> String {
    if let Some(a) = &w.address {
        let mut address = attrs.get("address").and_then(Value::as_object).cloned().unwrap_or_default();
        address.insert("text".into(), json!(a));
        attrs.insert("address".into(), Value::Object(address));
    }
    if let Some(c) = &w.contacts {
        attrs.insert("contacts".into(), json!(c));
    }
    Value::Object(attrs).to_string()
}

impl Store {
    /// Every warehouse (CRM store).
    pub async fn list_warehouses(&self) -> StoreResult<Vec<Warehouse>> {
        let rows = crate::db::query("SELECT id, code, name, active, distributor, attrs FROM warehouses ORDER BY id")
            .fetch_all(self.reader())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Warehouse {
                    id: r.try_get("id")?,
                    code: r.try_get("code")?,
                    name: r.try_get("name")?,
                    active: flag(r.try_get("active")?),
                    distributor: r.try_get("distributor")?,
                    attrs: json_map(&r.try_get::<String, _>("attrs")?),
                })
            })
            .collect()
    }

    /// Creates or replaces a warehouse; true when it was created. Its owning distributor is kept.
    pub async fn upsert_warehouse(&self, w: &Warehouse) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let existing: Option<(i64,)> = crate::db::query_as("SELECT id FROM warehouses WHERE code = $1")
            .bind(&w.code)
            .fetch_optional(&mut *tx)
            .await?;
        if existing.is_some() {
            crate::db::query("UPDATE warehouses SET name = $1, active = $2, attrs = $3 WHERE code = $4")
                .bind(&w.name)
                .bind(i64::from(w.active))
                .bind(json_text(&w.attrs))
                .bind(&w.code)
                .execute(&mut *tx)
                .await?;
        } else {
            crate::db::query(
                "INSERT INTO warehouses (code, name, active, distributor, attrs, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&w.code)
            .bind(&w.name)
            .bind(i64::from(w.active))
            .bind(&w.distributor)
            .bind(json_text(&w.attrs))
            .bind(torg_domain::time::now())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(existing.is_none())
    }

    /// Sets a warehouse's delivery terms and display; false when no such warehouse.
    pub async fn set_warehouse_terms(&self, code: &str, terms: &WarehouseTerms) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let done = crate::db::query(
            "UPDATE warehouses SET period_min = $1, period_max = $2, probability = $3, display = $4 WHERE code = $5",
        )
        .bind(terms.period_min)
        .bind(terms.period_max)
        .bind(terms.probability)
        .bind(terms.display.name())
        .bind(code)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(done > 0)
    }

    /// Records a distributor (when new); the first office key for a code does this.
    pub async fn ensure_distributor(&self, code: &str) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        ensure_distributor_in(&mut tx, code).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Gives warehouse `code` to `distributor` (or to nobody); false when there is no such warehouse.
    pub async fn set_warehouse_distributor(&self, code: &str, distributor: Option<&str>) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        if let Some(d) = distributor {
            ensure_distributor_in(&mut tx, d).await?;
        }
        let done = crate::db::query("UPDATE warehouses SET distributor = $1 WHERE code = $2")
            .bind(distributor)
            .bind(code)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(done > 0)
    }

    /// A distributor's active warehouses, by id.
    pub async fn distributor_warehouses(&self, distributor: &str) -> StoreResult<Vec<OfficeWarehouse>> {
        let rows = crate::db::query(format!("{WAREHOUSE_COLUMNS} WHERE distributor = $1 AND active = 1 ORDER BY id"))
            .bind(distributor)
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(warehouse_from_row).collect()
    }

    /// `warehouses.add`: creates each new code for the distributor (a code it deleted comes back);
    /// a code it already has is reported as existing, one another distributor holds as taken.
    pub async fn add_office_warehouses(
        &self,
        distributor: &str,
        rows: &[WarehouseInput],
    ) -> StoreResult<Vec<RowOutcome<OfficeWarehouse>>> {
        let mut tx = self.begin().await?;
        ensure_distributor_in(&mut tx, distributor).await?;
        let now = torg_domain::time::now();
        let mut out = Vec::with_capacity(rows.len());
        for w in rows {
            let existing: Option<(i64, Option<String>, i64, String)> =
                crate::db::query_as("SELECT id, distributor, active, attrs FROM warehouses WHERE code = $1")
                    .bind(&w.code)
                    .fetch_optional(&mut *tx)
                    .await?;
            let outcome = match existing {
                None => {
                    let id: i64 = crate::db::query_scalar(
                        "INSERT INTO warehouses (code, name, active, distributor, attrs, created_at, period_min, period_max)
                         VALUES ($1, $2, 1, $3, $4, $5, $6, $7) RETURNING id",
                    )
                    .bind(&w.code)
                    .bind(w.name.as_deref().unwrap_or(&w.code))
                    .bind(distributor)
                    .bind(warehouse_attrs(Map::new(), w))
                    .bind(now)
                    .bind(w.period_min.unwrap_or(0))
                    .bind(w.period_max.unwrap_or(0))
                    .fetch_one(&mut *tx)
                    .await?;
                    RowOutcome::Written(warehouse_in(&mut tx, id).await?)
                }
                Some((id, Some(owner), active, _)) if owner == distributor && flag(active) => {
                    RowOutcome::Exists(warehouse_in(&mut tx, id).await?)
                }
                Some((id, Some(owner), _, attrs)) if owner == distributor => {
                    crate::db::query("UPDATE warehouses SET active = 1 WHERE id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    update_warehouse_in(&mut tx, id, &attrs, w).await?;
                    RowOutcome::Written(warehouse_in(&mut tx, id).await?)
                }
                Some(_) => RowOutcome::Taken,
            };
            out.push(outcome);
        }
        tx.commit().await?;
        Ok(out)
    }

    /// `warehouses.update`: changes the given fields of the distributor's warehouses.
    pub async fn update_office_warehouses(
        &self,
        distributor: &str,
        rows: &[WarehouseInput],
    ) -> StoreResult<Vec<RowOutcome<OfficeWarehouse>>> {
        let mut tx = self.begin().await?;
        let mut out = Vec::with_capacity(rows.len());
        for w in rows {
            let Some((id, attrs)) = own_warehouse_in(&mut tx, distributor, &w.code).await? else {
                out.push(RowOutcome::NotFound);
                continue;
            };
            update_warehouse_in(&mut tx, id, &attrs, w).await?;
            out.push(RowOutcome::Written(warehouse_in(&mut tx, id).await?));
        }
        tx.commit().await?;
        Ok(out)
    }

    /// `warehouses.delete`: deactivates the distributor's warehouses and takes their stock off sale
    /// (stock that orders hold stays, at zero, so those orders can still release it). The row itself
    /// stays because orders and history name its code.
    pub async fn delete_office_warehouses(
        &self,
        distributor: &str,
        codes: &[String],
    ) -> StoreResult<Vec<RowOutcome<OfficeWarehouse>>> {
        let mut tx = self.begin().await?;
        let mut out = Vec::with_capacity(codes.len());
        for code in codes {
            let Some((id, _)) = own_warehouse_in(&mut tx, distributor, code).await? else {
                out.push(RowOutcome::NotFound);
                continue;
            };
            let row = warehouse_in(&mut tx, id).await?;
            crate::db::query("UPDATE warehouses SET active = 0 WHERE id = $1").bind(id).execute(&mut *tx).await?;
            take_off_sale_in(&mut tx, id, None).await?;
            out.push(RowOutcome::Written(row));
        }
        tx.commit().await?;
        Ok(out)
    }
}

/// Records distributor `code` when new, inside a write.
pub(crate) async fn ensure_distributor_in(tx: &mut Tx, code: &str) -> StoreResult<()> {
    crate::db::query(
        "INSERT INTO distributors (code, name, created_at) VALUES ($1, $1, $2) ON CONFLICT (code) DO NOTHING",
    )
    .bind(code)
    .bind(torg_domain::time::now())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn warehouse_in(tx: &mut Tx, id: i64) -> StoreResult<OfficeWarehouse> {
    let row = crate::db::query(format!("{WAREHOUSE_COLUMNS} WHERE id = $1")).bind(id).fetch_one(&mut **tx).await?;
    warehouse_from_row(&row)
}

/// The distributor's active warehouse `code`: (id, attrs).
pub(crate) async fn own_warehouse_in(tx: &mut Tx, distributor: &str, code: &str) -> StoreResult<Option<(i64, String)>> {
    Ok(crate::db::query_as("SELECT id, attrs FROM warehouses WHERE code = $1 AND distributor = $2 AND active = 1")
        .bind(code)
        .bind(distributor)
        .fetch_optional(&mut **tx)
        .await?)
}

async fn update_warehouse_in(tx: &mut Tx, id: i64, attrs: &str, w: &WarehouseInput) -> StoreResult<()> {
    crate::db::query(
        "UPDATE warehouses SET name = COALESCE($1, name), attrs = $2, period_min = COALESCE($3, period_min),
         period_max = COALESCE($4, period_max) WHERE id = $5",
    )
    .bind(&w.name)
    .bind(warehouse_attrs(json_map(attrs), w))
    .bind(w.period_min)
    .bind(w.period_max)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
