//! `warehouses`: the distributor's warehouses (code, name, contacts, address, delivery days).

use super::rows::{known, page, required, text, whole};
use super::{CallResult, Ctx, Done, Failed};
use serde_json::{Map, Value, json};
use torg_store::{OfficeWarehouse, RowOutcome, WarehouseInput};

pub(super) const FIELDS: &[&str] = &["id", "code", "name", "contacts", "address", "period_min", "period_max"];

/// A warehouse row.
fn render(w: &OfficeWarehouse) -> Value {
    json!({
        "id": w.id,
        "code": w.code,
        "name": w.name,
        "contacts": w.contacts.clone().unwrap_or_default(),
        "address": w.address.clone().unwrap_or_default(),
        "period_min": w.period_min,
        "period_max": w.period_max,
    })
}

fn limited(row: &Map<String, Value>, field: &str, max: usize) -> Result<Option<String>, String> {
    match text(row, field)? {
        Some(s) if s.chars().count() > max => Err(format!("поле `{field}` длиннее {max} символов")),
        other => Ok(other),
    }
}

fn parse(row: &Map<String, Value>) -> Result<WarehouseInput, String> {
    known(row, FIELDS)?;
    let code = required(row, "code")?;
    if code.chars().count() > 64 {
        return Err("поле `code` длиннее 64 символов".into());
    }
    let w = WarehouseInput {
        code,
        name: limited(row, "name", 255)?,
        contacts: limited(row, "contacts", 1000)?,
        address: limited(row, "address", 1000)?,
        period_min: whole(row, "period_min", 0)?,
        period_max: whole(row, "period_max", 0)?,
    };
    if let (Some(a), Some(b)) = (w.period_min, w.period_max)
        && a > b
    {
        return Err("`period_min` больше `period_max`".into());
    }
    Ok(w)
}

pub(super) async fn run(ctx: &Ctx<'_>) -> CallResult {
    let store = &ctx.state.store;
    match ctx.action {
        "get" | "list" => {
            let filter = ctx.filter(FIELDS)?;
            let (limit, offset) = ctx.paging()?;
            let all = store.distributor_warehouses(&ctx.distributor).await?;
            let rows = page(all.iter().map(render).filter(|r| filter.matches(r)), limit, offset);
            Ok(Done { rows, messages: Vec::new() })
        }
        "add" | "update" => {
            let given = ctx.parsed("warehouses", "склада", parse)?;
            let outcomes = if ctx.action == "add" {
                store.add_office_warehouses(&ctx.distributor, &given).await?
            } else {
                store.update_office_warehouses(&ctx.distributor, &given).await?
            };
            Ok(report(&given.iter().map(|w| w.code.clone()).collect::<Vec<_>>(), outcomes))
        }
        "delete" => {
            let codes = ctx.parsed("warehouses", "склада", |row| {
                known(row, FIELDS)?;
                required(row, "code")
            })?;
            let outcomes = store.delete_office_warehouses(&ctx.distributor, &codes).await?;
            Ok(report(&codes, outcomes))
        }
        other => Err(Failed::invalid(format!("Действие `{other}` недоступно."))),
    }
}

fn report(codes: &[String], outcomes: Vec<RowOutcome<OfficeWarehouse>>) -> Done {
    let mut done = Done::default();
    for (code, outcome) in codes.iter().zip(outcomes) {
        match outcome {
            RowOutcome::Written(w) => done.rows.push(render(&w)),
            RowOutcome::Exists(w) => {
                done.rows.push(render(&w));
                done.messages.push(format!("Склад `{code}` уже существует!"));
            }
            // A code another distributor holds reads the same as one's own: nothing about others leaks.
            RowOutcome::Taken => done.messages.push(format!("Склад `{code}` уже существует!")),
            RowOutcome::NotFound => done.messages.push(format!("Склад `{code}` не найден!")),
        }
    }
    done
}
