//! Reading a request's parameters once: the query string and the body (form, multipart or JSON),
//! each as a PHP-style tree, with the body size capped.

use crate::envelope::Envelope;
use crate::params::{boundary, parse_multipart, parse_urlencoded};
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use axum::response::Response;
use http_body_util::{BodyExt, Limited};
use serde_json::{Map, Value};
use std::net::IpAddr;
use std::sync::Arc;

/// A request's parameters and the facts about it that faces need.
#[derive(Debug, Clone)]
pub struct Input {
    /// Verb.
    pub method: Method,
    /// Path.
    pub path: String,
    /// Query parameters.
    pub query: Map<String, Value>,
    /// Body parameters (form fields, multipart fields, or a JSON object's members).
    pub body: Map<String, Value>,
    /// The raw body, for faces that sign it.
    pub raw_body: bytes::Bytes,
    /// Headers.
    pub headers: HeaderMap,
    /// Client address.
    pub ip: IpAddr,
    /// Where reads of undeclared names are noted, with the route's place, when the server checks.
    check: Option<(Arc<crate::fields::Undeclared>, usize)>,
}

impl Input {
    /// Reads everything, answering 413 in the face's shape past `limit` bytes and 400 for a body that
    /// does not parse.
    pub async fn read(req: Request<Body>, limit: usize) -> Result<Input, Response> {
        let ip = crate::client_ip(&req);
        let (parts, body) = req.into_parts();
        let check = parts
            .extensions
            .get::<Arc<crate::fields::Undeclared>>()
            .cloned()
            .zip(parts.extensions.get::<crate::kit::Gate>().map(|g| g.route));
        let path = parts.uri.path().to_string();
        let face = Envelope::of(&path);
        let query = parse_urlencoded(parts.uri.query().unwrap_or("").as_bytes());
        let raw_body = match Limited::new(body, limit).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => {
                return Err(face.error(StatusCode::PAYLOAD_TOO_LARGE, "Request entity too large"));
            }
            Err(_) => {
                return Err(face.error(StatusCode::BAD_REQUEST, "Could not read the request body"));
            }
        };
        let given_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let content_type = given_type.to_ascii_lowercase();
        let body = if raw_body.is_empty() {
            Map::new()
        } else if content_type.starts_with("multipart/form-data") {
            // The boundary is case-sensitive: it is read from the header as given.
            let Some(b) = boundary(given_type) else {
                return Err(face.error(StatusCode::BAD_REQUEST, "Multipart body without a boundary"));
            };
            parse_multipart(raw_body.clone(), &b)
                .await
                .map_err(|e| face.error(StatusCode::BAD_REQUEST, &format!("Malformed multipart body: {e}")))?
        } else if content_type.starts_with("application/json") {
            match serde_json::from_slice::<Value>(&raw_body) {
                Ok(Value::Object(m)) => m,
                Ok(_) => {
                    return Err(face.error(StatusCode::BAD_REQUEST, "The JSON body must be an object"));
                }
                Err(e) => {
                    return Err(face.error(StatusCode::BAD_REQUEST, &format!("Malformed JSON body: {e}")));
                }
            }
        } else {
            parse_urlencoded(&raw_body)
        };
        Ok(Input { method: parts.method, path, query, body, raw_body, headers: parts.headers, ip, check })
    }

    /// Notes that the handler reads `name` (`filter[key]` for a filter key): a test server collects
    /// the names the route does not declare (`crate::fields`).
    pub fn note(&self, name: &str) {
        if let Some((log, route)) = &self.check {
            log.note(*route, name);
        }
    }

    /// Notes that the handler reads the filter key `key` (`filter[key]`); the name is only made when
    /// a test server collects them (made per key of every list request, it was a tenth of a kept list's time).
    pub fn note_filter(&self, key: &str) {
        if let Some((log, route)) = &self.check {
            log.note(*route, &format!("filter[{key}]"));
        }
    }

    /// A parameter from the body, else the query.
    pub fn param(&self, name: &str) -> Option<&Value> {
        self.note(name);
        self.body.get(name).or_else(|| self.query.get(name))
    }

    /// A query parameter.
    pub fn query_param(&self, name: &str) -> Option<&Value> {
        self.note(name);
        self.query.get(name)
    }

    /// A body member.
    pub fn body_param(&self, name: &str) -> Option<&Value> {
        self.note(name);
        self.body.get(name)
    }

    /// A parameter as text, ignoring the Python client's `None`.
    pub fn text(&self, name: &str) -> Option<String> {
        match self.param(name)? {
            Value::String(s) if s.is_empty() || s == "None" => None,
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}
