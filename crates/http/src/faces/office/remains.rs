//! `remains`: stock by part number, brand and warehouse code, with price, minimum order quantity and
//! delivery days. It is the catalogue's own stock: the parts face sells it and CRM inventories report
//! it as soon as a write returns.

use super::rows::{known, money, money_text, page, required, text, whole};
use super::{CallResult, Ctx, Done, Failed};
use serde_json::{Map, Value, json};
use torg_domain::catalogue::Availability;
use torg_store::{Remain, RemainInput, RowOutcome};

pub(super) const FIELDS: &[&str] =
    &["article", "brand", "name", "warehouse", "quantity", "reserved", "price", "min_qty", "period_min", "period_max"];

/// Filters the database applies; the other fields are matched on the rows it returns.
const SQL_FILTERS: &[&str] = &["article", "brand", "warehouse", "name"];

/// Most rows read to filter by a field the database does not (a distributor's stock is bounded).
const SCAN_LIMIT: u32 = 1_000_000;

fn render(r: &Remain) -> Value {
    json!({
        "article": r.article,
        "brand": r.brand,
        "name": r.name,
        "warehouse": r.warehouse,
        "quantity": r.quantity.display(),
        "reserved": r.reserved,
        "price": money_text(r.price),
        "min_qty": r.min_qty,
        "period_min": r.period_min,
        "period_max": r.period_max,
    })
}

fn key_fields(row: &Map<String, Value>) -> Result<RemainInput, String> {
    known(row, FIELDS)?;
    Ok(RemainInput {
        article: required(row, "article")?,
        brand: required(row, "brand")?,
        warehouse: required(row, "warehouse")?,
        ..RemainInput::default()
    })
}

fn parse(row: &Map<String, Value>, adding: bool) -> Result<RemainInput, String> {
    let mut r = key_fields(row)?;
    r.name = text(row, "name")?;
    r.quantity = match text(row, "quantity")? {
        None => None,
        Some(q) => Some(
            Availability::parse(&q)
                .ok_or_else(|| "поле `quantity` должно быть числом, `<N`, `>N` или `Есть`".to_string())?,
        ),
    };
    r.price = money(row, "price")?;
    r.min_qty = whole(row, "min_qty", 1)?;
    r.period_min = whole(row, "period_min", 0)?;
    r.period_max = whole(row, "period_max", 0)?;
    if let (Some(a), Some(b)) = (r.period_min, r.period_max)
        && a > b
    {
        return Err("`period_min` больше `period_max`".into());
    }
    if adding && r.quantity.is_none() {
        return Err("поле `quantity` обязательно".into());
    }
    if adding && r.price.is_none() {
        return Err("поле `price` обязательно".into());
    }
    Ok(r)
}

pub(super) async fn run(ctx: &Ctx<'_>) -> CallResult {
    let store = &ctx.state.store;
    match ctx.action {
        "get" | "list" => {
            let (filter, mut f) = ctx.catalogue_filter(FIELDS)?;
            let (limit, offset) = (f.limit, f.offset);
            let in_rust = filter.0.iter().any(|(field, _)| !SQL_FILTERS.contains(&field.as_str()));
            if in_rust {
                (f.limit, f.offset) = (SCAN_LIMIT, 0);
            }
            let found = store.distributor_remains(&ctx.distributor, &f).await?;
            let rows = found.iter().map(render).filter(|r| filter.matches(r));
            let rows = if in_rust { page(rows, limit, offset) } else { rows.collect() };
            Ok(Done { rows, messages: Vec::new() })
        }
        "add" | "update" => {
            let adding = ctx.action == "add";
            let given = ctx.parsed("remains", "остатка", |row| parse(row, adding))?;
            let outcomes = store.put_office_remains(&ctx.distributor, &given, !adding).await?;
            Ok(report(&given, outcomes, adding))
        }
        "delete" => {
            let given = ctx.parsed("remains", "остатка", key_fields)?;
            let outcomes = store.delete_office_remains(&ctx.distributor, &given).await?;
            Ok(report(&given, outcomes, false))
        }
        other => Err(Failed::invalid(format!("Действие `{other}` недоступно."))),
    }
}

fn report(given: &[RemainInput], outcomes: Vec<RowOutcome<Remain>>, adding: bool) -> Done {
    let mut done = Done::default();
    for (r, outcome) in given.iter().zip(outcomes) {
        match outcome {
            RowOutcome::Written(row) | RowOutcome::Exists(row) => done.rows.push(render(&row)),
            RowOutcome::NotFound if adding => done.messages.push(format!("Склад `{}` не найден!", r.warehouse)),
            RowOutcome::Taken | RowOutcome::NotFound => done
                .messages
                .push(format!("Остаток `{}` `{}` на складе `{}` не найден!", r.article, r.brand, r.warehouse)),
        }
    }
    done
}
