//! Custom fields: definitions per entity (orders, customers), the dictionaries their choices come
//! from, and the check a value passes before it is stored on an order or a customer.

use crate::{DomainError, FieldErrors};
use serde_json::{Map, Value};

/// What a custom field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// `true`/`false`.
    Boolean,
    /// A date, `Y-m-d`.
    Date,
    /// One element code of a dictionary.
    Dictionary,
    /// A list of element codes of a dictionary.
    MultiselectDictionary,
    /// An e-mail address.
    Email,
    /// A whole number.
    Integer,
    /// A decimal number.
    Numeric,
    /// A line of text (255 characters at most).
    String,
    /// Free text.
    Text,
}

impl FieldType {
    /// Every type, as RetailCRM names them.
    pub const ALL: [FieldType; 9] = [
        FieldType::Boolean,
        FieldType::Date,
        FieldType::Dictionary,
        FieldType::MultiselectDictionary,
        FieldType::Email,
        FieldType::Integer,
        FieldType::Numeric,
        FieldType::String,
        FieldType::Text,
    ];

    /// RetailCRM's name of the type.
    pub fn code(self) -> &'static str {
        match self {
            FieldType::Boolean => "boolean",
            FieldType::Date => "date",
            FieldType::Dictionary => "dictionary",
            FieldType::MultiselectDictionary => "multiselect_dictionary",
            FieldType::Email => "email",
            FieldType::Integer => "integer",
            FieldType::Numeric => "numeric",
            FieldType::String => "string",
            FieldType::Text => "text",
        }
    }

    /// The type named `code`.
    pub fn parse(code: &str) -> Option<FieldType> {
        FieldType::ALL.into_iter().find(|t| t.code() == code)
    }

    /// Whether values come from a dictionary.
    pub fn uses_dictionary(self) -> bool {
        matches!(self, FieldType::Dictionary | FieldType::MultiselectDictionary)
    }
}

/// The entities that carry custom fields.
pub const ENTITIES: &[&str] = &["order", "customer", "customer_corporate", "company"];

/// A custom field's definition.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomField {
    /// `order` or `customer`.
    pub entity: String,
    /// Symbolic code, unique per entity; the key of the value in `customFields`.
    pub code: String,
    /// Display name.
    pub name: String,
    /// What it holds.
    pub kind: FieldType,
    /// The dictionary of a dictionary field.
    pub dictionary: Option<String>,
    /// Position in lists.
    pub ordering: i64,
    /// Every other attribute as given (`required`, `inFilter`, `inList`, `displayArea`, `viewMode`,
    /// `default`, …).
    pub attrs: Map<String, Value>,
}

/// One choice of a dictionary.
#[derive(Debug, Clone, PartialEq)]
pub struct Element {
    /// Code stored as the value.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Position in lists.
    pub ordering: i64,
}

/// A dictionary: the choices of dictionary fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Dictionary {
    /// Symbolic code.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Its elements, in display order.
    pub elements: Vec<Element>,
}

impl Dictionary {
    fn has(&self, code: &str) -> bool {
        self.elements.iter().any(|e| e.code == code)
    }
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Checks one value against its field and gives it back in the field's own form (a flag as a
/// boolean, a whole number as a number); `null` and an empty string clear the field and pass.
pub fn check_value(field: &CustomField, dictionaries: &[Dictionary], value: &Value) -> Result<Value, String> {
    if value.is_null() || value.as_str().is_some_and(str::is_empty) {
        return Ok(Value::Null);
    }
    let dictionary = || {
        let code = field.dictionary.as_deref().unwrap_or_default();
        dictionaries.iter().find(|d| d.code == code)
    };
    match field.kind {
        FieldType::Boolean => match value {
            Value::Bool(b) => Ok(Value::Bool(*b)),
            other => match text_of(other).as_deref() {
                Some("1" | "true") => Ok(Value::Bool(true)),
                Some("0" | "false") => Ok(Value::Bool(false)),
                _ => Err("This value should be of type boolean.".into()),
            },
        },
        FieldType::Integer => match text_of(value).and_then(|t| t.parse::<i64>().ok()) {
            Some(i) => Ok(Value::from(i)),
            None => Err("This value should be of type integer.".into()),
        },
        FieldType::Numeric => {
            let text = text_of(value).map(|t| t.replace(',', "."));
            match text.as_deref().map(str::parse::<rust_decimal::Decimal>) {
                Some(Ok(_)) => Ok(value.clone()),
                _ => Err("This value should be of type numeric.".into()),
            }
        }
        FieldType::String | FieldType::Text => match text_of(value) {
            Some(t) if field.kind == FieldType::String && t.chars().count() > 255 => {
                Err("This value is too long. It should have 255 characters or less.".into())
            }
            Some(_) => Ok(value.clone()),
            None => Err("This value should be of type string.".into()),
        },
        FieldType::Email => match text_of(value) {
            Some(t) if is_email(&t) => Ok(Value::String(t)),
            _ => Err("This value is not a valid email address.".into()),
        },
        FieldType::Date => match text_of(value) {
            Some(t) if jiff::civil::Date::strptime("%Y-%m-%d", &t).is_ok() => Ok(Value::String(t)),
            _ => Err("This value is not a valid date (expected Y-m-d).".into()),
        },
        FieldType::Dictionary => {
            let Some(d) = dictionary() else { return Err("The field's dictionary does not exist.".into()) };
            match text_of(value) {
                Some(code) if d.has(&code) => Ok(Value::String(code)),
                Some(code) => Err(format!("Element '{code}' is not in dictionary '{}'.", d.code)),
                None => Err("This value should be an element code.".into()),
            }
        }
        FieldType::MultiselectDictionary => {
            let Some(d) = dictionary() else { return Err("The field's dictionary does not exist.".into()) };
            let codes: Vec<String> = match value {
                Value::Array(a) => a.iter().filter_map(text_of).collect(),
                Value::Object(m) => m.values().filter_map(text_of).collect(),
                other => text_of(other).into_iter().collect(),
            };
            match codes.iter().find(|c| !d.has(c)) {
                Some(c) => Err(format!("Element '{c}' is not in dictionary '{}'.", d.code)),
                None => Ok(Value::Array(codes.into_iter().map(Value::String).collect())),
            }
        }
    }
}

fn is_email(t: &str) -> bool {
    let Some((local, domain)) = t.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !t.chars().any(char::is_whitespace)
}

/// Checks every value of `values` that has a definition for `entity`, normalising them in place;
/// problems are reported per `customFields.<code>`. Values without a definition are kept as given
/// (an account may send fields it has not defined yet, as the CRM's own module exchanges do).
pub fn check_values(
    entity: &str,
    fields: &[CustomField],
    dictionaries: &[Dictionary],
    values: &mut Map<String, Value>,
    errors: &mut FieldErrors,
) {
    for (code, value) in values.iter_mut() {
        let Some(field) = fields.iter().find(|f| f.entity == entity && &f.code == code) else { continue };
        match check_value(field, dictionaries, value) {
            Ok(v) => *value = v,
            Err(message) => {
                errors.insert(format!("customFields.{code}"), message);
            }
        }
    }
}

/// The refusal of a new custom field whose code its entity already has.
pub fn field_code_taken(code: &str) -> DomainError {
    code_taken("Custom field", code)
}

/// The refusal of a new dictionary whose code is already taken.
pub fn dictionary_code_taken(code: &str) -> DomainError {
    code_taken("Dictionary", code)
}

fn code_taken(what: &str, code: &str) -> DomainError {
    DomainError::invalid("code", format!("{what} with code '{code}' already exists."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(kind: FieldType, dictionary: Option<&str>) -> CustomField {
        CustomField {
            entity: "order".into(),
            code: "f".into(),
            name: "F".into(),
            kind,
            dictionary: dictionary.map(str::to_owned),
            ordering: 1,
            attrs: Map::new(),
        }
    }

    fn colours() -> Vec<Dictionary> {
        vec![Dictionary {
            code: "colours".into(),
            name: "Colours".into(),
            elements: ["red", "green"]
                .iter()
                .enumerate()
                .map(|(i, c)| Element { code: (*c).into(), name: c.to_uppercase(), ordering: i as i64 })
                .collect(),
        }]
    }

    #[test]
    fn values_are_checked_and_normalised_by_type() {
        let d = colours();
        let ok = |kind, dict, v: Value| check_value(&field(kind, dict), &d, &v);
        assert_eq!(ok(FieldType::Boolean, None, json!("1")), Ok(json!(true)));
        assert_eq!(ok(FieldType::Boolean, None, json!(false)), Ok(json!(false)));
        assert!(ok(FieldType::Boolean, None, json!("yes")).is_err());
        assert_eq!(ok(FieldType::Integer, None, json!("42")), Ok(json!(42)));
        assert!(ok(FieldType::Integer, None, json!("4.2")).is_err());
        assert_eq!(ok(FieldType::Numeric, None, json!("4.25")), Ok(json!("4.25")));
        assert!(ok(FieldType::Numeric, None, json!("four")).is_err());
        assert!(ok(FieldType::String, None, json!("x".repeat(256))).is_err());
        assert!(ok(FieldType::Text, None, json!("x".repeat(256))).is_ok());
        assert!(ok(FieldType::Email, None, json!("a@b.ru")).is_ok());
        assert!(ok(FieldType::Email, None, json!("a@b")).is_err());
        assert!(ok(FieldType::Date, None, json!("2026-02-30")).is_err());
        assert!(ok(FieldType::Date, None, json!("2026-02-28")).is_ok());
        assert_eq!(ok(FieldType::Dictionary, Some("colours"), json!("red")), Ok(json!("red")));
        assert!(ok(FieldType::Dictionary, Some("colours"), json!("blue")).unwrap_err().contains("blue"));
        assert!(ok(FieldType::Dictionary, Some("nope"), json!("red")).is_err());
        assert_eq!(
            ok(FieldType::MultiselectDictionary, Some("colours"), json!(["red", "green"])),
            Ok(json!(["red", "green"]))
        );
        assert!(ok(FieldType::MultiselectDictionary, Some("colours"), json!(["red", "blue"])).is_err());
        assert_eq!(ok(FieldType::Integer, None, json!(null)), Ok(Value::Null));
    }

    #[test]
    fn only_defined_fields_of_the_entity_are_checked() {
        let fields = vec![field(FieldType::Integer, None)];
        let mut values: Map<String, Value> = serde_json::from_value(json!({"f": "x", "other": "free"})).unwrap();
        let mut errors = FieldErrors::new();
        check_values("customer", &fields, &[], &mut values, &mut errors);
        assert!(errors.is_empty(), "the definition is for orders");
        check_values("order", &fields, &[], &mut values, &mut errors);
        assert_eq!(errors.get("customFields.f").map(String::as_str), Some("This value should be of type integer."));
        assert_eq!(values["other"], json!("free"));
    }

    #[test]
    fn words_a_taken_code() {
        assert_eq!(
            field_code_taken("vip"),
            DomainError::invalid("code", "Custom field with code 'vip' already exists.")
        );
        assert_eq!(
            dictionary_code_taken("colors"),
            DomainError::invalid("code", "Dictionary with code 'colors' already exists.")
        );
    }
}
