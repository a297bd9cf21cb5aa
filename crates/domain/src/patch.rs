//! Partial updates and field checks on entity documents.
//!
//! Clients send entities as JSON objects and edits as the subset of fields that change. Rather than a
//! hand-written "patch" type per entity, the entity is serialised, the given top-level fields are laid
//! over it, the result is checked field by field (so every message names its field), and then turned back
//! into the typed entity.

use crate::error::{DomainError, FieldErrors};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// Lays the fields of `input` over `doc`, skipping read-only ones. Nested objects are replaced whole,
/// except `null`, which clears a field.
pub fn merge_top_level(doc: &mut Map<String, Value>, input: &Map<String, Value>, read_only: &[&str]) {
    for (k, v) in input {
        if read_only.contains(&k.as_str()) {
            continue;
        }
        if v.is_null() {
            doc.remove(k);
        } else {
            doc.insert(k.clone(), v.clone());
        }
    }
}

/// Turns a checked document into its typed entity; a type mismatch names the field it is in.
pub fn typed<T: DeserializeOwned>(doc: Map<String, Value>) -> Result<T, DomainError> {
    let value = Value::Object(doc);
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "entity".to_string() } else { path };
        DomainError::invalid(field, e.into_inner().to_string())
    })
}

/// A string field: numbers are accepted and turned into strings, anything else is an error; longer than
/// `max` characters is an error.
pub fn check_string(doc: &Map<String, Value>, field: &str, max: usize, errors: &mut FieldErrors) {
    check_string_at(doc, field, field, max, errors);
}

/// As [`check_string`], reporting the error under `path`.
pub fn check_string_at(doc: &Map<String, Value>, field: &str, path: &str, max: usize, errors: &mut FieldErrors) {
    match doc.get(field) {
        None | Some(Value::Null) | Some(Value::Number(_)) => {}
        Some(Value::String(s)) if s.chars().count() > max => {
            errors.insert(path.into(), format!("This value is too long. It should have {max} characters or less."));
        }
        Some(Value::String(_)) => {}
        Some(_) => {
            errors.insert(path.into(), "This value should be of type string.".into());
        }
    }
}

/// Rewrites numbers in string fields as strings, so `"externalId": 42` means `"42"`.
pub fn stringify_numbers(doc: &mut Map<String, Value>, fields: &[&str]) {
    for f in fields {
        if let Some(Value::Number(n)) = doc.get(*f) {
            let s = n.to_string();
            doc.insert((*f).into(), Value::String(s));
        }
    }
}

/// A plausible e-mail address when present.
pub fn check_email(doc: &Map<String, Value>, field: &str, errors: &mut FieldErrors) {
    if let Some(Value::String(s)) = doc.get(field) {
        let ok = !s.is_empty() && {
            let mut parts = s.splitn(2, '@');
            let local = parts.next().unwrap_or("");
            let domain = parts.next().unwrap_or("");
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !s.contains(char::is_whitespace)
        };
        if !ok && !errors.contains_key(field) {
            errors.insert(field.into(), "This value is not a valid email address.".into());
        }
    }
}

/// One of a fixed set of values when present.
pub fn check_one_of(doc: &Map<String, Value>, field: &str, allowed: &[&str], errors: &mut FieldErrors) {
    match doc.get(field) {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if allowed.contains(&s.as_str()) => {}
        Some(_) => {
            errors.insert(field.into(), format!("The value must be one of: {}.", allowed.join(", ")));
        }
    }
}

/// A `Y-m-d` date when present.
pub fn check_date(doc: &Map<String, Value>, field: &str, errors: &mut FieldErrors) {
    check_date_at(doc, field, field, errors);
}

/// As [`check_date`], reporting the error under `path`.
pub fn check_date_at(doc: &Map<String, Value>, field: &str, path: &str, errors: &mut FieldErrors) {
    match doc.get(field) {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if crate::time::parse_date(s).is_some() => {}
        Some(_) => {
            errors.insert(path.into(), "This value is not a valid date (expected Y-m-d).".into());
        }
    }
}

/// Accepts `phones` as `[{"number": …}]`, `["…"]` or a single string, and checks each number.
pub fn normalise_phones(doc: &mut Map<String, Value>, errors: &mut FieldErrors) {
    let Some(value) = doc.get("phones").cloned() else {
        return;
    };
    let list = match value {
        Value::Null => Vec::new(),
        Value::String(s) => vec![Value::String(s)],
        Value::Array(a) => a,
        _ => {
            errors.insert("phones".into(), "This value should be a list of phones.".into());
            return;
        }
    };
    let mut out = Vec::new();
    for (i, p) in list.into_iter().enumerate() {
        let number = match p {
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            Value::Object(ref m) => match m.get("number") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => {
                    errors.insert(format!("phones[{i}].number"), "This value should not be blank.".into());
                    continue;
                }
            },
            _ => {
                errors.insert(format!("phones[{i}]"), "This value should be a phone.".into());
                continue;
            }
        };
        if !is_plausible_phone(&number) {
            errors.insert(format!("phones[{i}].number"), "This value is not a valid phone number.".into());
            continue;
        }
        out.push(serde_json::json!({ "number": number }));
    }
    doc.insert("phones".into(), Value::Array(out));
}

/// Digits with the usual separators, 3 to 20 digits.
fn is_plausible_phone(s: &str) -> bool {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    (3..=20).contains(&digits) && s.chars().all(|c| c.is_ascii_digit() || " +-()./".contains(c))
}

/// Only the digits of a phone number: how phones are matched.
pub fn phone_digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// camelCase to snake_case: history field names.
pub fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn phones_in_every_shape() {
        let mut errors = FieldErrors::new();
        let mut doc = json!({"phones": ["+7 (900) 000-00-00", {"number": 12345}]}).as_object().cloned().unwrap();
        normalise_phones(&mut doc, &mut errors);
        assert!(errors.is_empty());
        assert_eq!(doc["phones"], json!([{"number": "+7 (900) 000-00-00"}, {"number": "12345"}]));
        let mut bad = json!({"phones": [{"number": "call me"}]}).as_object().cloned().unwrap();
        normalise_phones(&mut bad, &mut errors);
        assert!(errors.contains_key("phones[0].number"));
    }

    #[test]
    fn names() {
        assert_eq!(snake_case("managerComment"), "manager_comment");
        assert_eq!(phone_digits("+7 (900) 1"), "79001");
    }
}
