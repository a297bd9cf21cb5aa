//! Files (`files`): upload, list, get, download, edit, delete; a file is attached to orders and
//! customers. The upload body is the file itself (Go's `application/octet-stream`), a multipart part
//! named `file` (PHP, HTML forms), or the Python client's form field `file` holding JSON (see
//! `docs/crm.md`).

use super::entities;
use super::scope::{FILE_READ, FILE_WRITE};
use super::tasks::lookup_site;
use super::{Crm, CrmError, CrmResult, FilterReader, field_error, ok, pagination};
use crate::AppState;
use crate::kit::{Field, Kind, PAGING, Route, SITE};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Map, Value, json};
use torg_domain::DomainError;
use torg_domain::file::{AttachRef, FilePatch, check_filename, media_type};
use torg_domain::time::Zone;
use torg_store::{FileFilter, NewFile, StoreError, StoredFile};

/// The `filter[…]` keys of `GET /api/v5/files` and what each holds.
pub(super) const LIST_FILTER: &[(&str, Kind)] = &[
    ("ids", Kind::Integers),
    ("orderIds", Kind::Integers),
    ("orderExternalIds", Kind::Texts),
    ("customerIds", Kind::Integers),
    ("customerExternalIds", Kind::Texts),
    ("createdAtFrom", Kind::DateTime),
    ("createdAtTo", Kind::DateTime),
    ("sizeFrom", Kind::Integer),
    ("sizeTo", Kind::Integer),
    ("type", Kind::Texts),
    ("filename", Kind::Text),
    ("isAttached", Kind::Boolean),
    ("sites", Kind::Texts),
];

/// Routes of the group.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/api/v5/files", FILE_READ, list).doc("files", "list_files", "Files, filtered and paged").answers(&[Field::object("pagination").required(), Field::new("files", Kind::Any).required()]).fields(&[Field::filter(LIST_FILTER), PAGING[0], PAGING[1]]),
        Route::post("/api/v5/files/upload", FILE_WRITE, upload).idempotent().doc(
            "files",
            "upload_file",
            "Upload a file (the body is the file)",
        ).answers(&[Field::new("file", Kind::Any).required()]).fields(&[SITE, Field::text("file").about("The file: a multipart part (its filename kept) or the form field's text; a body of another type is the file itself."), Field::text("filename").in_query().about("The file's name when the body is the file itself (else the Content-Disposition header's filename).")]),
        Route::get("/api/v5/files/{id}", FILE_READ, get).doc("files", "get_file", "One file's description").answers(&[Field::new("file", Kind::Any).required()]),
        Route::get("/api/v5/files/{id}/download", FILE_READ, download).doc(
            "files",
            "download_file",
            "A file's bytes, as an attachment",
        ),
        Route::post("/api/v5/files/{id}/edit", FILE_WRITE, edit).doc(
            "files",
            "edit_file",
            "Rename a file or change what it is attached to",
        ).answers(&[Field::new("file", Kind::Any).required()]).fields(&[Field::entity("file", entities::FILE).required(), SITE]),
        Route::post("/api/v5/files/{id}/delete", FILE_WRITE, delete).doc("files", "delete_file", "Delete a file"),
    ]
}

/// A file as RetailCRM shows it (PHP's `File`: `createdAt` `Y-m-d H:i:s`, `attachment` a list of
/// `{order}` / `{customer}`).
fn file_json(f: &StoredFile, zone: &Zone) -> Value {
    let mut attachment = Vec::new();
    for o in &f.orders {
        let mut m = Map::new();
        m.insert("id".into(), json!(o.id));
        m.insert("number".into(), json!(o.number));
        if let Some(e) = &o.external_id {
            m.insert("externalId".into(), json!(e));
        }
        m.insert("site".into(), json!(o.site));
        attachment.push(json!({ "order": m }));
    }
    for c in &f.customers {
        let mut m = Map::new();
        m.insert("id".into(), json!(c.id));
        if let Some(e) = &c.external_id {
            m.insert("externalId".into(), json!(e));
        }
        m.insert("site".into(), json!(c.site));
        attachment.push(json!({ "customer": m }));
    }
    json!({
        "id": f.id,
        "filename": f.filename,
        "type": f.media_type,
        "createdAt": zone.datetime(f.created_at),
        "size": f.size,
        "attachment": attachment,
    })
}

fn path_id(uid: &str) -> Result<i64, CrmError> {
    uid.parse::<i64>().ok().filter(|i| *i > 0).ok_or_else(CrmError::not_found)
}

/// `GET /api/v5/files`: newest first.
async fn list(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let page = crm.default_page()?;
    let filter = crm.filter()?;
    let zone = &state.config.zone;
    let mut r = FilterReader::new(&filter, zone).noting(&crm.input);
    let f = FileFilter {
        ids: r.ints("ids"),
        order_ids: r.ints("orderIds"),
        order_external_ids: r.texts("orderExternalIds"),
        customer_ids: r.ints("customerIds"),
        customer_external_ids: r.texts("customerExternalIds"),
        created_from: r.date_from("createdAtFrom"),
        created_to: r.date_to("createdAtTo"),
        size_from: r.int("sizeFrom"),
        size_to: r.int("sizeTo"),
        types: r.texts("type"),
        filename: r.text("filename"),
        attached: r.flag("isAttached"),
        sites: r.texts("sites"),
    };
    r.finish()?;
    let (files, meta) = state.store.list_files(&f, &crm.sites, page).await?;
    let files: Vec<Value> = files.iter().map(|f| file_json(f, zone)).collect();
    ok(StatusCode::OK, json!({ "pagination": pagination(meta), "files": files }))
}

/// What an upload carries.
struct Upload {
    filename: Option<String>,
    media_type: Option<String>,
    content: Vec<u8>,
    attachments: Vec<AttachRef>,
}

/// The Python client's `file` form field: a JSON string (the content, as text) or an object
/// `{filename, content | contentBase64, type, attachment}`; text that is not JSON is the content.
fn from_form_field(v: &Value) -> Result<Upload, CrmError> {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Object(_) => v.to_string(),
        _ => return Err(field_error("file", "This value should be a file.")),
    };
    let doc = match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(m)) => m,
        Ok(Value::String(s)) => {
            return Ok(Upload { filename: None, media_type: None, content: s.into_bytes(), attachments: Vec::new() });
        }
        _ => {
            return Ok(Upload {
                filename: None,
                media_type: None,
                content: text.into_bytes(),
                attachments: Vec::new(),
            });
        }
    };
    let content = match (doc.get("content"), doc.get("contentBase64")) {
        (Some(Value::String(s)), None) => s.clone().into_bytes(),
        (None, Some(Value::String(b))) => base64::engine::general_purpose::STANDARD
            .decode(b.trim())
            .map_err(|e| field_error("file.contentBase64", format!("This value is not valid base64: {e}.")))?,
        (Some(_), Some(_)) => return Err(field_error("file", "Give content or contentBase64, not both.")),
        _ => return Err(field_error("file.content", "This value should not be blank.")),
    };
    let patch = FilePatch::from_doc(&doc).map_err(CrmError::entity)?;
    let media_type = match doc.get("type") {
        Some(Value::String(t)) if !t.trim().is_empty() => Some(t.trim().to_string()),
        _ => None,
    };
    Ok(Upload { filename: patch.filename, media_type, content, attachments: patch.attachments.unwrap_or_default() })
}

/// The part named `file` of a multipart body.
async fn from_multipart(body: bytes::Bytes, boundary: &str) -> Result<Upload, CrmError> {
    let stream = futures::stream::once(async move { Ok::<bytes::Bytes, std::convert::Infallible>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    while let Some(field) =
        multipart.next_field().await.map_err(|e| field_error("file", format!("Malformed multipart body: {e}")))?
    {
        if field.name() != Some("file") {
            continue;
        }
        let filename = field.file_name().map(str::to_owned);
        let media_type = field.content_type().map(ToString::to_string);
        let content =
            field.bytes().await.map_err(|e| field_error("file", format!("Malformed multipart body: {e}")))?.to_vec();
        return Ok(Upload { filename, media_type, content, attachments: Vec::new() });
    }
    Err(CrmError::missing("file"))
}

/// `filename="…"` of a Content-Disposition header, if any.
fn disposition_name(value: &str) -> Option<String> {
    value.split(';').find_map(|part| {
        let (k, v) = part.trim().split_once('=')?;
        (k.trim().eq_ignore_ascii_case("filename")).then(|| v.trim().trim_matches('"').to_string())
    })
}

/// `POST /api/v5/files/upload`: 200 with the file.
async fn upload(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let content_type = crm.input.header("content-type").unwrap_or("").to_ascii_lowercase();
    let raw = !["multipart/form-data", "application/x-www-form-urlencoded", "application/json"]
        .iter()
        .any(|t| content_type.starts_with(t));
    // Whichever way it comes, the handler reads the file.
    crm.input.note("file");
    let mut up = if content_type.starts_with("multipart/form-data") {
        let given = crm.input.header("content-type").unwrap_or("");
        let boundary = crate::params::boundary(given).ok_or_else(|| CrmError::missing("file"))?;
        from_multipart(crm.input.raw_body.clone(), &boundary).await?
    } else if content_type.starts_with("application/x-www-form-urlencoded")
        || content_type.starts_with("application/json")
    {
        let v = crm.input.body.get("file").ok_or_else(|| CrmError::missing("file"))?;
        from_form_field(v)?
    } else {
        let media_type =
            Some(content_type.clone()).filter(|t| !t.is_empty() && !t.starts_with("application/octet-stream"));
        let filename = crm
            .input
            .query_param("filename")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| crm.input.header("content-disposition").and_then(disposition_name));
        Upload { filename, media_type, content: crm.input.raw_body.to_vec(), attachments: Vec::new() }
    };
    if up.content.is_empty() {
        return Err(field_error("file", "The file is empty."));
    }
    let limit = state.config.file_limit;
    if up.content.len() > limit {
        return Err(field_error(
            "file",
            format!("The file is too large ({} bytes); the limit is {limit} bytes.", up.content.len()),
        ));
    }
    let filename = match up.filename.take() {
        Some(n) => check_filename(&n).map_err(|e| field_error("file.filename", e))?,
        None => "file".to_string(),
    };
    let media_type = up.media_type.take().unwrap_or_else(|| media_type(&filename).to_string());
    // A raw body is the file, not parameters: only the query names the site then.
    let site = if raw {
        match crm.input.query.get("site").and_then(Value::as_str).filter(|s| !s.is_empty() && *s != "None") {
            Some(code) if crm.sites.iter().any(|s| s == code) => Some(code.to_string()),
            Some(_) => return Err(CrmError::access_denied()),
            None => None,
        }
    } else {
        lookup_site(&crm)?
    };
    let new = NewFile { filename, media_type, site: site.clone(), content: up.content };
    let stored = state.store.upload_file(&new, &up.attachments, site.as_deref(), &crm.sites).await?;
    ok(StatusCode::OK, json!({ "file": file_json(&stored, &state.config.zone) }))
}

/// `GET /api/v5/files/{id}`.
async fn get(State(state): State<AppState>, Path(uid): Path<String>, crm: Crm) -> CrmResult {
    let id = path_id(&uid)?;
    match state.store.get_file(id, &crm.sites).await? {
        Some(f) => ok(StatusCode::OK, json!({ "file": file_json(&f, &state.config.zone) })),
        None => Err(CrmError::not_found()),
    }
}

/// `attachment; filename="…"; filename*=UTF-8''…` (RFC 6266): the plain name keeps ASCII only, the
/// extended one is percent-encoded by hand, as only the RFC 5987 attribute characters pass.
fn content_disposition(name: &str) -> String {
    let plain: String =
        name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' }).collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{plain}\"; filename*=UTF-8''{encoded}")
}

/// `GET /api/v5/files/{id}/download`: the bytes, with the file's type and name.
async fn download(State(state): State<AppState>, Path(uid): Path<String>, crm: Crm) -> Result<Response, CrmError> {
    let id = path_id(&uid)?;
    let Some((f, bytes)) = state.store.file_content(id, &crm.sites).await? else { return Err(CrmError::not_found()) };
    let mut resp = (StatusCode::OK, bytes).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&f.media_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Ok(v) = HeaderValue::from_str(&content_disposition(&f.filename)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    Ok(resp)
}

/// `POST /api/v5/files/{id}/edit`: form `file` = `{filename, attachment}`; the file back.
async fn edit(State(state): State<AppState>, Path(uid): Path<String>, crm: Crm) -> CrmResult {
    let id = path_id(&uid)?;
    let doc = crm.json_object("file")?;
    let patch = FilePatch::from_doc(&doc).map_err(CrmError::entity)?;
    let site = lookup_site(&crm)?;
    match state.store.edit_file(id, &patch, site.as_deref(), &crm.sites).await {
        Ok(f) => ok(StatusCode::OK, json!({ "file": file_json(&f, &state.config.zone) })),
        Err(StoreError::Domain(DomainError::NotFound(_))) => Err(CrmError::not_found()),
        Err(e) => Err(e.into()),
    }
}

/// `POST /api/v5/files/{id}/delete`: `{}` on success.
async fn delete(State(state): State<AppState>, Path(uid): Path<String>, crm: Crm) -> CrmResult {
    let id = path_id(&uid)?;
    if state.store.delete_file(id, &crm.sites).await? {
        ok(StatusCode::OK, json!({}))
    } else {
        Err(CrmError::not_found())
    }
}
