//! The office face's answer: `{"<resource>": [rows], "status": {"code": "ok"|"error", "messages": […]}}`
//! in JSON (non-ASCII and `/` escaped as PHP's `json_encode` does, as the documentation's sample shows) or the same tree
//! as `<response>` XML.

use super::xml;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// The answer type, from the URL's last segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `json` (the default).
    Json,
    /// `xml`.
    Xml,
}

impl Format {
    /// Reads `json` / `xml` (any case).
    pub fn parse(s: &str) -> Option<Format> {
        match s.to_ascii_lowercase().as_str() {
            "json" => Some(Format::Json),
            "xml" => Some(Format::Xml),
            _ => None,
        }
    }
}

/// An answer about to be written.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub http: StatusCode,
    /// The resource key and its rows; none when the resource itself is unknown.
    pub rows: Option<(&'static str, Vec<Value>)>,
    /// Whether the call failed as a whole.
    pub error: bool,
    /// Messages, per row or for the whole call.
    pub messages: Vec<String>,
}

impl Reply {
    /// A failure of the whole call.
    pub fn error(http: StatusCode, resource: Option<&'static str>, message: impl Into<String>) -> Reply {
        Reply { http, rows: resource.map(|r| (r, Vec::new())), error: true, messages: vec![message.into()] }
    }

    /// A failure of the whole call, with several messages.
    pub fn failed(http: StatusCode, resource: Option<&'static str>, messages: Vec<String>) -> Reply {
        Reply { http, rows: resource.map(|r| (r, Vec::new())), error: true, messages }
    }

    /// The body as a tree.
    pub fn tree(&self) -> Map<String, Value> {
        let mut body = Map::new();
        if let Some((name, rows)) = &self.rows {
            body.insert((*name).to_string(), Value::Array(rows.clone()));
        }
        body.insert(
            "status".into(),
            json!({ "code": if self.error { "error" } else { "ok" }, "messages": self.messages }),
        );
        body
    }

    /// The HTTP response in `format`.
    pub fn into_response(self, format: Format) -> Response {
        let tree = self.tree();
        let (body, content_type) = match format {
            Format::Json => (php_json(&Value::Object(tree)), "application/json; charset=utf-8"),
            Format::Xml => (xml::write_response(&tree), "application/xml; charset=utf-8"),
        };
        let mut resp = (self.http, body).into_response();
        resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        resp
    }
}

/// JSON as PHP's `json_encode` writes it by default: every non-ASCII character as `\uXXXX` (UTF-16,
/// so surrogate pairs beyond the BMP) and `/` as `\/`. Both occur only inside strings, so escaping
/// the serialised text is exact.
pub fn php_json(v: &Value) -> String {
    let plain = v.to_string();
    let mut out = String::with_capacity(plain.len() + plain.len() / 4);
    for c in plain.chars() {
        if c == '/' {
            out.push_str("\\/");
        } else if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_php() {
        assert_eq!(
            php_json(&json!({"a": "Курск", "b": "W712/75", "c": "😀"})),
            r#"{"a":"\u041a\u0443\u0440\u0441\u043a","b":"W712\/75","c":"\ud83d\ude00"}"#
        );
        let back: Value = serde_json::from_str(&php_json(&json!(["Склад `1` уже существует!"]))).unwrap();
        assert_eq!(back[0], "Склад `1` уже существует!");
    }
}
