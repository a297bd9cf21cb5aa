//! What office requests carry besides the key: rows to write (`data`, or the resource's own name as
//! in the answer), filters (`filter[field][i]=v`, `{"filter": {"field": [v]}}`, the documentation's
//! `{"filter": [{"field": v}]}`, or `<filter><field>v</field></filter>`), and paging (`limit`, `page`).

use super::envelope::php_json;
use crate::params::{as_i64, as_list, is_none_literal};
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use torg_domain::catalogue::{normalize_brand, normalize_number};

/// Largest page a list returns.
pub const MAX_LIMIT: u32 = 10_000;
/// Page size when none is asked for.
pub const DEFAULT_LIMIT: u32 = 1_000;
/// Most rows one write takes.
pub const MAX_ROWS: usize = 10_000;

/// Accepted values per field; a row matches when every field has one of its values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter(pub Vec<(String, Vec<String>)>);

impl Filter {
    /// Values asked for `field`.
    pub fn values(&self, field: &str) -> Vec<String> {
        self.0.iter().filter(|(f, _)| f == field).flat_map(|(_, v)| v.iter().cloned()).collect()
    }

    /// Values asked for `field`, each a whole number.
    pub fn ids(&self, field: &str) -> Result<Vec<i64>, String> {
        self.values(field)
            .iter()
            .map(|v| v.trim().parse::<i64>().map_err(|_| format!("Значение фильтра `{field}` `{v}` не число.")))
            .collect()
    }

    /// Whether nothing is filtered.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether a rendered row passes. Part numbers and brands compare as search does.
    pub fn matches(&self, row: &Value) -> bool {
        self.0.iter().all(|(field, wanted)| {
            let have: Vec<String> = match row.get(field) {
                Some(Value::Array(list)) => list.iter().filter_map(scalar).collect(),
                Some(v) => scalar(v).into_iter().collect(),
                None => Vec::new(),
            };
            let norm: fn(&str) -> String = match field.as_str() {
                "article" | "cross_article" => normalize_number,
                "brand" | "cross_brand" => normalize_brand,
                _ => |s: &str| s.trim().to_string(),
            };
            have.iter().any(|h| wanted.iter().any(|w| norm(h) == norm(w)))
        })
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "1" } else { "0" }.into()),
        _ => None,
    }
}

fn flatten(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Array(_) | Value::Object(_) => as_list(v).iter().for_each(|x| flatten(x, out)),
        other => out.extend(scalar(other)),
    }
}

/// Reads `filter` from the request, allowing only `fields`.
pub fn filter(tree: &Map<String, Value>, fields: &[&str]) -> Result<Filter, String> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    let mut add = |field: &str, v: &Value| -> Result<(), String> {
        if !fields.contains(&field) {
            return Err(format!("Неизвестное поле фильтра `{field}`; доступны: {}.", fields.join(", ")));
        }
        let mut values = Vec::new();
        flatten(v, &mut values);
        match out.iter_mut().find(|(f, _)| f == field) {
            Some((_, existing)) => existing.extend(values),
            None => out.push((field.to_string(), values)),
        }
        Ok(())
    };
    match tree.get("filter") {
        None => {}
        Some(v) if is_none_literal(v) => {}
        Some(Value::Object(map)) if map.keys().all(|k| k.parse::<usize>().is_ok()) => {
            for entry in map.values() {
                filter_entry(entry, &mut add)?;
            }
        }
        Some(Value::Object(map)) => {
            for (k, v) in map {
                add(k, v)?;
            }
        }
        Some(Value::Array(list)) => {
            for entry in list {
                filter_entry(entry, &mut add)?;
            }
        }
        Some(_) => return Err("Фильтр `filter` должен быть набором полей.".into()),
    }
    Ok(Filter(out))
}

fn filter_entry(entry: &Value, add: &mut impl FnMut(&str, &Value) -> Result<(), String>) -> Result<(), String> {
    match entry {
        Value::Object(map) => map.iter().try_for_each(|(k, v)| add(k, v)),
        _ => Err("Элементы фильтра `filter` должны быть объектами {\"поле\": значение}.".into()),
    }
}

/// `limit` and `page` (1-based): (limit, offset).
pub fn paging(tree: &Map<String, Value>) -> Result<(u32, u64), String> {
    let limit = match tree.get("limit") {
        None => DEFAULT_LIMIT,
        Some(v) if is_none_literal(v) => DEFAULT_LIMIT,
        Some(v) => match as_i64(v) {
            Some(n) if (1..=i64::from(MAX_LIMIT)).contains(&n) => u32::try_from(n).unwrap_or(DEFAULT_LIMIT),
            _ => return Err(format!("Параметр `limit` должен быть числом от 1 до {MAX_LIMIT}.")),
        },
    };
    let page = match tree.get("page") {
        None => 1,
        Some(v) if is_none_literal(v) => 1,
        Some(v) => match as_i64(v) {
            Some(n) if n >= 1 => n,
            _ => return Err("Параметр `page` должен быть числом от 1.".into()),
        },
    };
    let offset = u64::try_from(page - 1).unwrap_or(0).saturating_mul(u64::from(limit));
    Ok((limit, offset))
}

/// One page of rows filtered here rather than by the database.
pub fn page<T>(rows: impl IntoIterator<Item = T>, limit: u32, offset: u64) -> Vec<T> {
    rows.into_iter().skip(usize::try_from(offset).unwrap_or(usize::MAX)).take(limit as usize).collect()
}

/// A price as the office shows it: two decimals.
pub fn money_text(d: Decimal) -> String {
    format!("{:.2}", d.round_dp(2))
}

/// The rows to write: `data` or the resource's own key; a list, a PHP hash keyed 0..n, or one object.
pub fn rows(tree: &Map<String, Value>, resource: &str) -> Result<Vec<Map<String, Value>>, String> {
    let Some(v) = tree.get("data").or_else(|| tree.get(resource)) else {
        return Err(format!("Нет данных: передайте строки в `data` (или `{resource}`)."));
    };
    let list = match v {
        Value::Array(list) => list.clone(),
        Value::Object(map) if !map.is_empty() && map.keys().all(|k| k.parse::<usize>().is_ok()) => {
            map.values().cloned().collect()
        }
        Value::Object(_) => vec![v.clone()],
        _ => return Err("Данные `data` должны быть списком строк.".into()),
    };
    if list.is_empty() {
        return Err("Данные `data` пусты.".into());
    }
    if list.len() > MAX_ROWS {
        return Err(format!("Не больше {MAX_ROWS} строк за один запрос."));
    }
    list.into_iter()
        .enumerate()
        .map(|(i, row)| match row {
            Value::Object(m) => Ok(m),
            other => Err(format!("Строка `{i}` должна быть объектом, а не `{}`.", php_json(&other))),
        })
        .collect()
}

/// A row problem, worded as the documentation words it: `Не корректные данные склада в строке `0`: …`.
pub fn bad_row(entity: &str, index: usize, row: &Map<String, Value>, why: &str) -> String {
    format!("Не корректные данные {entity} в строке `{index}`: {why}: `{}`", php_json(&Value::Object(row.clone())))
}

/// A text field; numbers count as text. `Err` names the field.
pub fn text(row: &Map<String, Value>, field: &str) -> Result<Option<String>, String> {
    match row.get(field) {
        None => Ok(None),
        Some(v) if v.is_null() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string()).filter(|s| !s.is_empty())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(format!("поле `{field}` должно быть строкой")),
    }
}

/// A required text field.
pub fn required(row: &Map<String, Value>, field: &str) -> Result<String, String> {
    text(row, field)?.ok_or_else(|| format!("поле `{field}` обязательно"))
}

/// A whole number field, at least `min`.
pub fn whole(row: &Map<String, Value>, field: &str, min: i64) -> Result<Option<i64>, String> {
    match text(row, field)? {
        None => Ok(None),
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n >= min => Ok(Some(n)),
            _ => Err(format!("поле `{field}` должно быть целым числом не меньше {min}")),
        },
    }
}

/// A money field: a decimal, not negative, at most 4 places.
pub fn money(row: &Map<String, Value>, field: &str) -> Result<Option<Decimal>, String> {
    match text(row, field)? {
        None => Ok(None),
        Some(s) => match s.replace(',', ".").parse::<Decimal>() {
            Ok(d) if !d.is_sign_negative() && d.scale() <= 4 && d < Decimal::from(1_000_000_000_000i64) => Ok(Some(d)),
            _ => Err(format!("поле `{field}` должно быть неотрицательным числом")),
        },
    }
}

/// Checks that a row names only `fields`.
pub fn known(row: &Map<String, Value>, fields: &[&str]) -> Result<(), String> {
    match row.keys().find(|k| !fields.contains(&k.as_str())) {
        Some(k) => Err(format!("неизвестное поле `{k}` (доступны: {})", fields.join(", "))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tree(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn filters_in_every_shape() {
        let fields = &["id", "code"];
        let want = Filter(vec![("id".into(), vec!["2916".into()])]);
        assert_eq!(filter(&tree(json!({"filter": {"id": ["2916"]}})), fields).unwrap(), want);
        assert_eq!(filter(&tree(json!({"filter": {"id": 2916}})), fields).unwrap(), want);
        assert_eq!(filter(&tree(json!({"filter": [{"id": 2916}]})), fields).unwrap(), want);
        assert_eq!(filter(&tree(json!({"filter": {"0": {"id": "2916"}}})), fields).unwrap(), want);
        assert!(filter(&tree(json!({"filter": {"nope": 1}})), fields).unwrap_err().contains("`nope`"));
        let f = filter(&tree(json!({"filter": [{"id": 1}, {"id": 2}]})), fields).unwrap();
        assert!(f.matches(&json!({"id": 2})));
        assert!(!f.matches(&json!({"id": 3})));
    }

    #[test]
    fn articles_match_as_search_does() {
        let f = Filter(vec![("article".into(), vec!["w 712-75".into()])]);
        assert!(f.matches(&json!({"article": "W712/75"})));
    }

    #[test]
    fn rows_and_paging() {
        assert_eq!(rows(&tree(json!({"data": {"code": "1"}})), "warehouses").unwrap().len(), 1);
        assert_eq!(rows(&tree(json!({"warehouses": [{"code": "1"}, {"code": "2"}]})), "warehouses").unwrap().len(), 2);
        assert!(rows(&tree(json!({})), "warehouses").is_err());
        assert_eq!(paging(&tree(json!({"limit": "10", "page": 3}))).unwrap(), (10, 20));
        assert!(paging(&tree(json!({"limit": 0}))).is_err());
    }

    #[test]
    fn ids_pages_and_prices() {
        let f = Filter(vec![("id".into(), vec![" 7".into(), "8".into()])]);
        assert_eq!(f.ids("id"), Ok(vec![7, 8]));
        assert_eq!(f.ids("other"), Ok(vec![]));
        let bad = Filter(vec![("id".into(), vec!["7x".into()])]);
        assert_eq!(bad.ids("id"), Err("Значение фильтра `id` `7x` не число.".to_string()));
        assert_eq!(page(1..=10, 3, 6), vec![7, 8, 9]);
        assert_eq!(page(1..=10, 3, 9), vec![10]);
        assert!(page(1..=10, 3, u64::MAX).is_empty());
        assert_eq!(money_text(Decimal::new(12346, 3)), "12.35");
        assert_eq!(money_text(Decimal::from(5)), "5.00");
    }
}
