//! Reading an office request: the body as a form (PHP brackets), JSON or `<request>` XML, told apart by
//! Content-Type and, where the type is generic (a form, text, none), by the first byte, since PHP's
//! curl and 1C send JSON and XML strings as forms. Query parameters sit under the body's.

use super::xml;
use crate::params::{boundary, parse_multipart, parse_urlencoded};
use axum::body::Body;
use axum::http::{Request, header};
use http_body_util::{BodyExt, Limited};
use serde_json::{Map, Value};

/// Why a body could not be read.
#[derive(Debug)]
pub enum BodyError {
    /// Over the size limit.
    TooLarge,
    /// Not a form, JSON object or `<request>` document; the message says why.
    Malformed(String),
}

/// Reads and parses the body, at most `limit` bytes.
pub async fn read(req: Request<Body>, limit: usize) -> Result<Map<String, Value>, BodyError> {
    let (parts, body) = req.into_parts();
    let raw = match Limited::new(body, limit).collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => return Err(BodyError::TooLarge),
        Err(_) => return Err(BodyError::Malformed("Не удалось прочитать тело запроса.".into())),
    };
    let content_type =
        parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    let mut tree = parse_urlencoded(parts.uri.query().unwrap_or("").as_bytes());
    let body = parse(&raw, &content_type).await?;
    for (k, v) in body {
        tree.insert(k, v);
    }
    Ok(tree)
}

async fn parse(raw: &bytes::Bytes, content_type: &str) -> Result<Map<String, Value>, BodyError> {
    let first = raw.iter().copied().find(|b| !b.is_ascii_whitespace() && *b != 0xEF && *b != 0xBB && *b != 0xBF);
    let kind = if content_type.contains("json") {
        Kind::Json
    } else if content_type.contains("xml") {
        Kind::Xml
    } else if content_type.starts_with("multipart/form-data") {
        Kind::Multipart
    } else {
        match first {
            Some(b'{' | b'[') => Kind::Json,
            Some(b'<') => Kind::Xml,
            _ => Kind::Form,
        }
    };
    let mut tree = match kind {
        _ if first.is_none() => Map::new(),
        Kind::Json => match serde_json::from_slice::<Value>(raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw)) {
            Ok(Value::Object(m)) => m,
            Ok(_) => return Err(BodyError::Malformed("JSON-запрос должен быть объектом.".into())),
            Err(e) => return Err(BodyError::Malformed(format!("Некорректный JSON: {e}"))),
        },
        Kind::Xml => xml::parse(raw, xml::Limits::default()).map_err(BodyError::Malformed)?,
        Kind::Multipart => {
            let Some(b) = boundary(content_type) else {
                return Err(BodyError::Malformed("В multipart-запросе нет boundary.".into()));
            };
            parse_multipart(raw.clone(), &b).await.map_err(BodyError::Malformed)?
        }
        Kind::Form => parse_urlencoded(raw),
    };
    if matches!(kind, Kind::Form | Kind::Multipart) {
        // A form may carry its rows or filter as a JSON string.
        for field in ["data", "filter"] {
            if let Some(Value::String(s)) = tree.get(field)
                && matches!(s.trim_start().chars().next(), Some('{' | '['))
                && let Ok(v) = serde_json::from_str::<Value>(s)
            {
                tree.insert(field.into(), v);
            }
        }
    }
    Ok(tree)
}

enum Kind {
    Form,
    Multipart,
    Json,
    Xml,
}
