//! Integration modules: a store module, a telephony or a delivery integration registers itself
//! (`edit`), reads its registration back, and asks for the scopes it needs, which gives it a key of
//! its own (`update-scopes`, RetailCRM's "simple connection").

use super::entities;
use super::scope::{INTEGRATION_READ, INTEGRATION_WRITE};
use super::{Crm, CrmError, CrmResult, ok};
use crate::AppState;
use crate::kit::{Field, Kind, Route};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use torg_domain::FieldErrors;
use torg_domain::key::validate_scope;
use torg_domain::reference::{ReferenceEntry, ReferenceKind};

/// The group's routes.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/api/v5/integration-modules/{code}", INTEGRATION_READ, get)
            .doc("integration", "get_integration_module", "A registered integration module")
            .answers(&[Field::new("integrationModule", Kind::Any).required()]),
        Route::post("/api/v5/integration-modules/{code}/edit", INTEGRATION_WRITE, edit)
            .doc("integration", "edit_integration_module", "Register an integration module or change its configuration")
            .answers(&[Field::new("info", Kind::Any).required()])
            .fields(&[Field::entity("integrationModule", entities::INTEGRATION_MODULE).required()]),
        Route::post("/api/v5/integration-modules/{code}/update-scopes", INTEGRATION_WRITE, update_scopes)
            .doc("integration", "update_integration_module_scopes", "Give a module a key with the scopes it requires")
            .answers(&[Field::new("apiKey", Kind::Any).required()])
            .fields(&[Field::entity("requires", entities::REQUIRES).required()]),
    ]
}

/// The module as RetailCRM answers it: its configuration with the flags it always carries.
fn module_json(m: &torg_store::Module) -> Value {
    let mut doc = m.doc.clone();
    doc.insert("code".into(), json!(m.code));
    doc.entry("integrationCode").or_insert(json!(m.code));
    doc.entry("active").or_insert(json!(true));
    doc.entry("freeze").or_insert(json!(false));
    doc.entry("native").or_insert(json!(false));
    doc.entry("availableCountries").or_insert(json!([]));
    doc.entry("actions").or_insert(json!({}));
    doc.entry("integrations").or_insert(json!({}));
    Value::Object(doc)
}

/// `GET /api/v5/integration-modules/{code}`.
async fn get(State(state): State<AppState>, Path(code): Path<String>, _crm: Crm) -> CrmResult {
    let Some(module) = state.store.get_module(&code).await? else { return Err(CrmError::not_found()) };
    ok(StatusCode::OK, json!({ "integrationModule": module_json(&module) }))
}

fn invalid(field: &str, message: &str) -> CrmError {
    CrmError::entity(FieldErrors::from([(format!("integrationModule.{field}"), message.to_string())]))
}

/// Checks a configuration's fields that other calls rely on.
fn check(doc: &Map<String, Value>, new: bool) -> Result<(), CrmError> {
    let blank = |k: &str| doc.get(k).and_then(Value::as_str).is_none_or(|s| s.trim().is_empty());
    if new && blank("name") {
        return Err(invalid("name", "This value should not be blank."));
    }
    for key in ["name", "integrationCode", "clientId", "baseUrl", "accountUrl", "logo"] {
        if doc.get(key).is_some_and(|v| !v.is_string()) {
            return Err(invalid(key, "This value should be of type string."));
        }
    }
    for key in ["baseUrl", "accountUrl"] {
        let url = doc.get(key).and_then(Value::as_str).unwrap_or_default();
        if !url.is_empty() && !url.starts_with("https://") && !url.starts_with("http://") {
            return Err(invalid(key, "This value is not a valid URL."));
        }
    }
    if doc.get("active").is_some_and(|v| !v.is_boolean()) {
        return Err(invalid("active", "This value should be of type bool."));
    }
    for key in ["actions", "integrations"] {
        if doc.get(key).is_some_and(|v| !v.is_object() && v.as_array().is_none_or(|a| !a.is_empty())) {
            return Err(invalid(key, "This value should be an object."));
        }
    }
    Ok(())
}

/// `POST /api/v5/integration-modules/{code}/edit`: the path's code wins over the body's; given
/// fields replace the stored ones. A delivery integration gets a delivery type of its own, named in
/// `info.deliveryType`.
async fn edit(State(state): State<AppState>, Path(code): Path<String>, crm: Crm) -> CrmResult {
    let given = crm.json_object("integrationModule")?;
    let existing = state.store.get_module(&code).await?;
    check(&given, existing.is_none())?;
    let mut doc = existing.map(|m| m.doc).unwrap_or_default();
    doc.extend(given);
    doc.remove("code");
    let mut info = Map::new();
    if doc.get("integrations").and_then(|i| i.get("delivery")).is_some_and(Value::is_object) {
        let type_code = doc.get("integrationCode").and_then(Value::as_str).unwrap_or(&code).to_string();
        let name = doc.get("name").and_then(Value::as_str).unwrap_or(&code).to_string();
        let mut attrs = Map::new();
        attrs.insert("integrationCode".into(), json!(code));
        let entry = ReferenceEntry { id: 0, code: type_code.clone(), name, active: true, ordering: 990, attrs };
        state.store.upsert_ref(ReferenceKind::DeliveryType, &entry).await?;
        let books = state.store.books().await?;
        let id = books.refs(ReferenceKind::DeliveryType).iter().find(|e| e.code == type_code).map_or(0, |e| e.id);
        info.insert("deliveryType".into(), json!({ "id": id, "code": type_code }));
    }
    let created = state.store.put_module(&code, &doc).await?;
    ok(if created { StatusCode::CREATED } else { StatusCode::OK }, json!({ "info": info }))
}

/// `POST /api/v5/integration-modules/{code}/update-scopes`: `requires` = `{"scopes": [...]}`. The
/// module must be registered for a simple connection (it sent its `clientId`); its previous key
/// stops working.
async fn update_scopes(State(state): State<AppState>, Path(code): Path<String>, crm: Crm) -> CrmResult {
    let requires = crm.json_object("requires")?;
    let scopes: Vec<String> = match requires.get("scopes") {
        Some(Value::Array(list)) if !list.is_empty() => {
            let mut out = Vec::new();
            for (i, s) in list.iter().enumerate() {
                match s.as_str().filter(|s| validate_scope(s).is_ok()) {
                    Some(scope) => out.push(scope.to_string()),
                    None => {
                        return Err(CrmError::entity(FieldErrors::from([(
                            format!("requires.scopes[{i}]"),
                            format!("Unknown scope {s}."),
                        )])));
                    }
                }
            }
            out
        }
        _ => {
            return Err(CrmError::entity(FieldErrors::from([(
                "requires.scopes".to_string(),
                "This value should not be blank.".to_string(),
            )])));
        }
    };
    let Some(module) = state.store.get_module(&code).await? else { return Err(CrmError::not_found()) };
    if module.doc.get("clientId").and_then(Value::as_str).is_none_or(str::is_empty) {
        return Err(CrmError::new(StatusCode::BAD_REQUEST, "Not enabled simple connection"));
    }
    let plain: String = {
        use rand::Rng;
        rand::rng().sample_iter(rand::distr::Alphanumeric).take(32).map(char::from).collect()
    };
    state.store.module_key(&code, &scopes, &plain).await?;
    ok(StatusCode::OK, json!({ "apiKey": plain }))
}
