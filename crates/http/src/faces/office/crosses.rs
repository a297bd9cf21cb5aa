//! `crosses`: cross-references between part numbers, stored in both directions (what search uses to
//! find analogues).

use super::rows::{known, required};
use super::{CallResult, Ctx, Done, Failed};
use serde_json::{Map, Value, json};
use torg_domain::catalogue::{normalize_brand, normalize_number};
use torg_store::Cross;

pub(super) const FIELDS: &[&str] = &["article", "brand", "cross_article", "cross_brand"];
pub(super) const FILTERS: &[&str] = FIELDS;

fn render(c: &Cross) -> Value {
    json!({ "article": c.article, "brand": c.brand, "cross_article": c.cross_article, "cross_brand": c.cross_brand })
}

fn parse(row: &Map<String, Value>) -> Result<Cross, String> {
    known(row, FIELDS)?;
    let c = Cross {
        article: required(row, "article")?,
        brand: required(row, "brand")?,
        cross_article: required(row, "cross_article")?,
        cross_brand: required(row, "cross_brand")?,
    };
    for (field, value) in [("article", &c.article), ("cross_article", &c.cross_article)] {
        if normalize_number(value).is_empty() {
            return Err(format!("поле `{field}` не содержит ни букв, ни цифр"));
        }
    }
    if normalize_number(&c.article) == normalize_number(&c.cross_article)
        && normalize_brand(&c.brand) == normalize_brand(&c.cross_brand)
    {
        return Err("кросс ссылается сам на себя".into());
    }
    Ok(c)
}

pub(super) async fn run(ctx: &Ctx<'_>) -> CallResult {
    let store = &ctx.state.store;
    match ctx.action {
        "get" | "list" => {
            let (_, f) = ctx.catalogue_filter(FILTERS)?;
            let rows = store.office_crosses(&f).await?.iter().map(render).collect();
            Ok(Done { rows, messages: Vec::new() })
        }
        "add" | "delete" => {
            let removing = ctx.action == "delete";
            let given = ctx.parsed("crosses", "кросса", parse)?;
            let changed = store.put_office_crosses(&given, removing).await?;
            let mut done = Done::default();
            for (c, changed) in given.iter().zip(changed) {
                let name = format!("`{}` `{}` → `{}` `{}`", c.article, c.brand, c.cross_article, c.cross_brand);
                match (changed, removing) {
                    (true, _) => done.rows.push(render(c)),
                    (false, false) => {
                        done.rows.push(render(c));
                        done.messages.push(format!("Кросс {name} уже существует!"));
                    }
                    (false, true) => done.messages.push(format!("Кросс {name} не найден!")),
                }
            }
            Ok(done)
        }
        other => Err(Failed::invalid(format!("Действие `{other}` недоступно."))),
    }
}
