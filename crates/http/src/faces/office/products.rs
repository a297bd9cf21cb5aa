//! `products`: the shared catalogue, by brand and part number. A distributor may add parts it stocks
//! and name or describe them; it cannot delete them, since other distributors' stock and past orders
//! point at them.

use super::rows::{known, required, text};
use super::{CallResult, Ctx, Done, Failed};
use serde_json::{Map, Value, json};
use torg_store::{OfficeProduct, RowOutcome};

pub(super) const FIELDS: &[&str] = &["id", "article", "brand", "name", "description"];
pub(super) const FILTERS: &[&str] = FIELDS;

fn render(p: &OfficeProduct) -> Value {
    json!({
        "id": p.id,
        "article": p.article,
        "brand": p.brand,
        "name": p.name,
        "description": p.description.clone().unwrap_or_default(),
    })
}

fn parse(row: &Map<String, Value>, adding: bool) -> Result<OfficeProduct, String> {
    known(row, FIELDS)?;
    let article = required(row, "article")?;
    let brand = required(row, "brand")?;
    let name = if adding { required(row, "name")? } else { text(row, "name")?.unwrap_or_default() };
    for (field, value, max) in [("article", &article, 100), ("brand", &brand, 100), ("name", &name, 255)] {
        if value.chars().count() > max {
            return Err(format!("поле `{field}` длиннее {max} символов"));
        }
    }
    if torg_domain::catalogue::normalize_number(&article).is_empty() {
        return Err("поле `article` не содержит ни букв, ни цифр".into());
    }
    Ok(OfficeProduct { id: 0, article, brand, name, description: text(row, "description")? })
}

pub(super) async fn run(ctx: &Ctx<'_>) -> CallResult {
    let store = &ctx.state.store;
    match ctx.action {
        "get" | "list" => {
            let (_, f) = ctx.catalogue_filter(FILTERS)?;
            let rows = store.office_products(&f).await?.iter().map(render).collect();
            Ok(Done { rows, messages: Vec::new() })
        }
        "add" | "update" => {
            let adding = ctx.action == "add";
            let given = ctx.parsed("products", "товара", |row| parse(row, adding))?;
            let outcomes = store.put_office_products(&given, !adding).await?;
            let mut done = Done::default();
            for (p, outcome) in given.iter().zip(outcomes) {
                match outcome {
                    RowOutcome::Written(row) => done.rows.push(render(&row)),
                    RowOutcome::Exists(row) => {
                        done.rows.push(render(&row));
                        done.messages.push(format!("Товар `{}` `{}` уже существует!", p.article, p.brand));
                    }
                    RowOutcome::Taken | RowOutcome::NotFound => {
                        done.messages.push(format!("Товар `{}` `{}` не найден!", p.article, p.brand));
                    }
                }
            }
            Ok(done)
        }
        other => Err(Failed::invalid(format!("Действие `{other}` недоступно."))),
    }
}
