//! Custom fields of orders and customers, and the dictionaries their choices come from. Definitions
//! live with the cached books; values on orders and customers are checked against them on every write
//! (see `torg_domain::custom_field`).

use super::entities;
use super::scope::{CUSTOM_FIELDS_READ, CUSTOM_FIELDS_WRITE};
use super::{Crm, CrmError, CrmResult, FilterReader, ok, pagination};
use crate::AppState;
use crate::kit::{Field, Kind, PAGING, Route};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use torg_domain::FieldErrors;
use torg_domain::custom_field::{CustomField, Dictionary, ENTITIES, Element, FieldType};
use torg_domain::page::Pagination;

/// The `filter[…]` keys of `GET /api/v5/custom-fields` and what each holds.
pub(super) const LIST_FILTER: &[(&str, Kind)] = &[
    ("name", Kind::Text),
    ("code", Kind::Text),
    ("entity", Kind::Text),
    ("inFilter", Kind::Boolean),
    ("type", Kind::Text),
    ("viewMode", Kind::Text),
    ("displayArea", Kind::Text),
];

/// The `filter[…]` keys of `GET /api/v5/custom-fields/dictionaries` and what each holds.
pub(super) const LIST_DICTIONARIES_FILTER: &[(&str, Kind)] = &[("name", Kind::Text), ("code", Kind::Text)];

/// The group's routes.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/api/v5/custom-fields", CUSTOM_FIELDS_READ, list)
            .doc("custom-fields", "list_custom_fields", "Custom field definitions, filtered and paged")
            .answers(&[Field::object("pagination").required(), Field::new("customFields", Kind::Any).required()])
            .fields(&[Field::filter(LIST_FILTER), PAGING[0], PAGING[1]]),
        Route::get("/api/v5/custom-fields/dictionaries", CUSTOM_FIELDS_READ, list_dictionaries)
            .doc("custom-fields", "list_custom_dictionaries", "Dictionaries of custom fields, filtered and paged")
            .answers(&[Field::object("pagination").required(), Field::new("customDictionaries", Kind::Any).required()])
            .fields(&[Field::filter(LIST_DICTIONARIES_FILTER), PAGING[0], PAGING[1]]),
        Route::post("/api/v5/custom-fields/dictionaries/create", CUSTOM_FIELDS_WRITE, create_dictionary)
            .idempotent()
            .doc("custom-fields", "create_custom_dictionary", "Create a dictionary")
            .answers(&[Field::new("code", Kind::Any).required()])
            .fields(&[Field::entity("customDictionary", entities::CUSTOM_DICTIONARY).required()]),
        Route::get("/api/v5/custom-fields/dictionaries/{code}", CUSTOM_FIELDS_READ, get_dictionary)
            .doc("custom-fields", "get_custom_dictionary", "One dictionary")
            .answers(&[Field::new("customDictionary", Kind::Any).required()]),
        Route::post("/api/v5/custom-fields/dictionaries/{code}/edit", CUSTOM_FIELDS_WRITE, edit_dictionary)
            .doc("custom-fields", "edit_custom_dictionary", "Change a dictionary's name and elements")
            .answers(&[Field::new("code", Kind::Any).required()])
            .fields(&[Field::entity("customDictionary", entities::CUSTOM_DICTIONARY).required()]),
        Route::post("/api/v5/custom-fields/{entity}/create", CUSTOM_FIELDS_WRITE, create)
            .idempotent()
            .doc("custom-fields", "create_custom_field", "Define a custom field of orders or customers")
            .answers(&[Field::new("code", Kind::Any).required()])
            .fields(&[Field::entity("customField", entities::CUSTOM_FIELD).required()]),
        Route::get("/api/v5/custom-fields/{entity}/{code}", CUSTOM_FIELDS_READ, get)
            .doc("custom-fields", "get_custom_field", "One custom field definition")
            .answers(&[Field::new("customField", Kind::Any).required()]),
        Route::post("/api/v5/custom-fields/{entity}/{code}/edit", CUSTOM_FIELDS_WRITE, edit)
            .doc("custom-fields", "edit_custom_field", "Change a custom field definition")
            .answers(&[Field::new("code", Kind::Any).required()])
            .fields(&[Field::entity("customField", entities::CUSTOM_FIELD).required()]),
    ]
}

/// A definition as RetailCRM answers it, with the flags it always carries.
fn field_json(f: &CustomField) -> Value {
    let mut m = f.attrs.clone();
    m.insert("name".into(), json!(f.name));
    m.insert("code".into(), json!(f.code));
    m.insert("type".into(), json!(f.kind.code()));
    m.insert("entity".into(), json!(f.entity));
    m.insert("ordering".into(), json!(f.ordering));
    if let Some(d) = &f.dictionary {
        m.insert("dictionary".into(), json!(d));
    }
    for (key, default) in [("required", false), ("inFilter", true), ("inList", true), ("inGroupActions", false)] {
        m.entry(key).or_insert(json!(default));
    }
    m.entry("displayArea").or_insert(json!("customer"));
    m.entry("viewMode").or_insert(json!("editable"));
    Value::Object(m)
}

fn dictionary_json(d: &Dictionary) -> Value {
    let elements: Vec<Value> =
        d.elements.iter().map(|e| json!({ "name": e.name, "code": e.code, "ordering": e.ordering })).collect();
    json!({ "name": d.name, "code": d.code, "elements": elements })
}

/// One page of an in-memory list (definitions are few and cached).
fn page_of<T: Clone>(all: Vec<T>, crm: &Crm) -> Result<(Vec<T>, Pagination), CrmError> {
    let page = crm.default_page()?;
    let total = all.len() as u64;
    let items = all.into_iter().skip(page.offset() as usize).take(page.limit as usize).collect();
    Ok((items, page.meta(total)))
}

/// A filter value that may be one text or a list.
fn one_or_many(r: &FilterReader<'_>, key: &str) -> Vec<String> {
    let many = r.texts(key);
    if many.is_empty() { r.text(key).into_iter().collect() } else { many }
}

/// `GET /api/v5/custom-fields`.
async fn list(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let filter = crm.filter()?;
    let mut r = FilterReader::new(&filter, &state.config.zone).noting(&crm.input);
    let name = r.text("name").map(|n| n.to_lowercase());
    let code = r.text("code");
    let entity = r.text("entity");
    let types = one_or_many(&r, "type");
    let view_modes = one_or_many(&r, "viewMode");
    let areas = one_or_many(&r, "displayArea");
    let in_filter = r.flag("inFilter");
    r.finish()?;
    let attr_in = |f: &CustomField, key: &str, wanted: &[String], default: &str| {
        wanted.is_empty() || wanted.iter().any(|w| f.attrs.get(key).and_then(Value::as_str).unwrap_or(default) == w)
    };
    let all: Vec<CustomField> = crm
        .books
        .custom_fields()
        .iter()
        .filter(|f| name.as_ref().is_none_or(|n| f.name.to_lowercase().contains(n)))
        .filter(|f| code.as_ref().is_none_or(|c| &f.code == c))
        .filter(|f| entity.as_ref().is_none_or(|e| &f.entity == e))
        .filter(|f| types.is_empty() || types.iter().any(|t| t == f.kind.code()))
        .filter(|f| attr_in(f, "viewMode", &view_modes, "editable") && attr_in(f, "displayArea", &areas, "customer"))
        .filter(|f| {
            in_filter.is_none_or(|want| f.attrs.get("inFilter").and_then(Value::as_bool).unwrap_or(true) == want)
        })
        .cloned()
        .collect();
    let (items, meta) = page_of(all, &crm)?;
    let items: Vec<Value> = items.iter().map(field_json).collect();
    ok(StatusCode::OK, json!({ "pagination": pagination(meta), "customFields": items }))
}

fn check_entity(entity: &str) -> Result<(), CrmError> {
    if ENTITIES.contains(&entity) {
        Ok(())
    } else {
        Err(CrmError::parameter("entity", &format!("Entity '{entity}' is not one of: {}.", ENTITIES.join(", "))))
    }
}

/// `GET /api/v5/custom-fields/{entity}/{code}`.
async fn get(Path((entity, code)): Path<(String, String)>, crm: Crm) -> CrmResult {
    check_entity(&entity)?;
    let Some(f) = crm.books.custom_fields().iter().find(|f| f.entity == entity && f.code == code) else {
        return Err(CrmError::not_found());
    };
    ok(StatusCode::OK, json!({ "customField": field_json(f) }))
}

/// RetailCRM's codes: a latin letter, then latin letters, digits, `_` and `-`.
fn valid_code(code: &str) -> bool {
    code.len() <= 64
        && code.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn take_text(m: &mut Map<String, Value>, key: &str) -> Option<String> {
    match m.remove(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    }
}

/// Reads a definition from `customField`, over `base` when editing; every problem names its field.
fn definition(
    crm: &Crm,
    entity: &str,
    path_code: Option<&str>,
    base: Option<&CustomField>,
) -> Result<CustomField, CrmError> {
    let mut m = crm.json_object("customField")?;
    let mut errors = FieldErrors::new();
    let code = path_code.map(str::to_owned).or_else(|| take_text(&mut m, "code")).unwrap_or_default();
    m.remove("code");
    m.remove("entity");
    if !valid_code(&code) {
        errors.insert(
            "customField.code".into(),
            "The code must start with a latin letter and hold only latin letters, digits, '_' and '-'.".into(),
        );
    }
    let name = take_text(&mut m, "name").or_else(|| base.map(|b| b.name.clone()));
    if name.is_none() {
        errors.insert("customField.name".into(), "This value should not be blank.".into());
    }
    let kind = match (take_text(&mut m, "type"), base) {
        (None, Some(b)) => Some(b.kind),
        (Some(t), Some(b)) if t != b.kind.code() => {
            errors.insert("customField.type".into(), "The type of a custom field cannot be changed.".into());
            None
        }
        (Some(t), _) => match FieldType::parse(&t) {
            Some(k) => Some(k),
            None => {
                let all: Vec<&str> = FieldType::ALL.iter().map(|t| t.code()).collect();
                errors.insert("customField.type".into(), format!("Type '{t}' is not one of: {}.", all.join(", ")));
                None
            }
        },
        (None, None) => {
            errors.insert("customField.type".into(), "This value should not be blank.".into());
            None
        }
    };
    let dictionary = take_text(&mut m, "dictionary").or_else(|| base.and_then(|b| b.dictionary.clone()));
    if kind.is_some_and(FieldType::uses_dictionary) {
        match &dictionary {
            None => {
                errors.insert("customField.dictionary".into(), "A dictionary field needs its dictionary.".into());
            }
            Some(d) if !crm.books.dictionaries().iter().any(|x| &x.code == d) => {
                errors.insert("customField.dictionary".into(), format!("Dictionary '{d}' does not exist."));
            }
            Some(_) => {}
        }
    }
    let ordering = match m.remove("ordering") {
        None => base.map_or(50, |b| b.ordering),
        Some(v) => match crate::params::as_i64(&v) {
            Some(o) => o,
            None => {
                errors.insert("customField.ordering".into(), "This value should be of type integer.".into());
                0
            }
        },
    };
    for flag in ["required", "inFilter", "inList", "inGroupActions"] {
        if let Some(v) = m.get(flag).cloned() {
            match crate::params::as_bool(&v) {
                Some(b) => {
                    m.insert(flag.into(), json!(b));
                }
                None => {
                    errors.insert(format!("customField.{flag}"), "This value should be of type bool.".into());
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(CrmError::entity(errors));
    }
    let mut attrs = base.map(|b| b.attrs.clone()).unwrap_or_default();
    attrs.extend(m);
    Ok(CustomField {
        entity: entity.to_string(),
        code,
        name: name.unwrap_or_default(),
        kind: kind.unwrap_or(FieldType::String),
        dictionary: dictionary.filter(|_| kind.is_some_and(FieldType::uses_dictionary)),
        ordering,
        attrs,
    })
}

/// `POST /api/v5/custom-fields/{entity}/create`.
async fn create(State(state): State<AppState>, Path(entity): Path<String>, crm: Crm) -> CrmResult {
    check_entity(&entity)?;
    let field = definition(&crm, &entity, None, None)?;
    state.store.create_custom_field(&field).await?;
    ok(StatusCode::CREATED, json!({ "code": field.code }))
}

/// `POST /api/v5/custom-fields/{entity}/{code}/edit`.
async fn edit(State(state): State<AppState>, Path((entity, code)): Path<(String, String)>, crm: Crm) -> CrmResult {
    check_entity(&entity)?;
    let Some(base) = crm.books.custom_fields().iter().find(|f| f.entity == entity && f.code == code).cloned() else {
        return Err(CrmError::not_found());
    };
    let field = definition(&crm, &entity, Some(&code), Some(&base))?;
    if !state.store.update_custom_field(&field).await? {
        return Err(CrmError::not_found());
    }
    ok(StatusCode::OK, json!({ "code": field.code }))
}

/// `GET /api/v5/custom-fields/dictionaries`.
async fn list_dictionaries(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let filter = crm.filter()?;
    let r = FilterReader::new(&filter, &state.config.zone).noting(&crm.input);
    let name = r.text("name").map(|n| n.to_lowercase());
    let code = r.text("code");
    r.finish()?;
    let all: Vec<Dictionary> = crm
        .books
        .dictionaries()
        .iter()
        .filter(|d| name.as_ref().is_none_or(|n| d.name.to_lowercase().contains(n)))
        .filter(|d| code.as_ref().is_none_or(|c| &d.code == c))
        .cloned()
        .collect();
    let (items, meta) = page_of(all, &crm)?;
    let items: Vec<Value> = items.iter().map(dictionary_json).collect();
    ok(StatusCode::OK, json!({ "pagination": pagination(meta), "customDictionaries": items }))
}

/// `GET /api/v5/custom-fields/dictionaries/{code}`.
async fn get_dictionary(Path(code): Path<String>, crm: Crm) -> CrmResult {
    let Some(d) = crm.books.dictionaries().iter().find(|d| d.code == code) else {
        return Err(CrmError::not_found());
    };
    ok(StatusCode::OK, json!({ "customDictionary": dictionary_json(d) }))
}

/// Reads a dictionary from `customDictionary`, over `base` when editing.
fn dictionary(crm: &Crm, path_code: Option<&str>, base: Option<&Dictionary>) -> Result<Dictionary, CrmError> {
    let mut m = crm.json_object("customDictionary")?;
    let mut errors = FieldErrors::new();
    let code = path_code.map(str::to_owned).or_else(|| take_text(&mut m, "code")).unwrap_or_default();
    if !valid_code(&code) {
        errors.insert(
            "customDictionary.code".into(),
            "The code must start with a latin letter and hold only latin letters, digits, '_' and '-'.".into(),
        );
    }
    let name = take_text(&mut m, "name").or_else(|| base.map(|b| b.name.clone()));
    if name.is_none() {
        errors.insert("customDictionary.name".into(), "This value should not be blank.".into());
    }
    let elements = match m.remove("elements") {
        None => match base {
            Some(b) => b.elements.clone(),
            None => {
                errors.insert("customDictionary.elements".into(), "This value should not be blank.".into());
                Vec::new()
            }
        },
        Some(v) => {
            let list: Vec<Value> = match v {
                Value::Array(a) => a,
                Value::Object(o) => o.into_values().collect(),
                _ => Vec::new(),
            };
            if list.is_empty() {
                errors.insert("customDictionary.elements".into(), "This value should not be blank.".into());
            }
            let mut out: Vec<Element> = Vec::new();
            for (i, e) in list.iter().enumerate() {
                let code = e.get("code").and_then(Value::as_str).map(str::trim).unwrap_or_default();
                let name = e.get("name").and_then(Value::as_str).map(str::trim).unwrap_or_default();
                if code.is_empty() || code.len() > 64 {
                    errors.insert(
                        format!("customDictionary.elements[{i}].code"),
                        "This value should not be blank.".into(),
                    );
                } else if out.iter().any(|x| x.code == code) {
                    errors.insert(format!("customDictionary.elements[{i}].code"), format!("Code '{code}' repeats."));
                }
                if name.is_empty() {
                    errors.insert(
                        format!("customDictionary.elements[{i}].name"),
                        "This value should not be blank.".into(),
                    );
                }
                let ordering = e.get("ordering").and_then(crate::params::as_i64).unwrap_or((i as i64 + 1) * 10);
                out.push(Element { code: code.to_string(), name: name.to_string(), ordering });
            }
            out.sort_by_key(|e| e.ordering);
            out
        }
    };
    if !errors.is_empty() {
        return Err(CrmError::entity(errors));
    }
    Ok(Dictionary { code, name: name.unwrap_or_default(), elements })
}

/// `POST /api/v5/custom-fields/dictionaries/create`.
async fn create_dictionary(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let d = dictionary(&crm, None, None)?;
    state.store.create_dictionary(&d).await?;
    ok(StatusCode::CREATED, json!({ "code": d.code }))
}

/// `POST /api/v5/custom-fields/dictionaries/{code}/edit`.
async fn edit_dictionary(State(state): State<AppState>, Path(code): Path<String>, crm: Crm) -> CrmResult {
    let Some(base) = crm.books.dictionaries().iter().find(|d| d.code == code).cloned() else {
        return Err(CrmError::not_found());
    };
    let d = dictionary(&crm, Some(&code), Some(&base))?;
    if !state.store.update_dictionary(&d).await? {
        return Err(CrmError::not_found());
    }
    ok(StatusCode::OK, json!({ "code": d.code }))
}
