//! Files: what a `file` document may change, what a file may be attached to, and the media type a
//! file's name implies.

use crate::FieldErrors;
use crate::task::{CustomerRef, OrderRef, customer_member, order_member, text_member};
use serde_json::{Map, Value};

/// Longest file name kept.
pub const MAX_FILENAME: usize = 255;

/// What a file is attached to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachRef {
    /// An order.
    Order(OrderRef),
    /// A customer.
    Customer(CustomerRef),
}

/// The members of a `file` document: `filename` and `attachment` (a list that replaces the file's
/// attachments; empty detaches it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilePatch {
    /// New name.
    pub filename: Option<String>,
    /// New attachments.
    pub attachments: Option<Vec<AttachRef>>,
}

/// A file name as given, checked: not blank, no path separators, at most [`MAX_FILENAME`] characters.
pub fn check_filename(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("This value should not be blank.".into());
    }
    if name.chars().count() > MAX_FILENAME {
        return Err(format!("This value is too long. It should have {MAX_FILENAME} characters or less."));
    }
    if name.contains(['/', '\\', '\0']) || name == "." || name == ".." {
        return Err("A file name cannot contain a path.".into());
    }
    Ok(name.to_string())
}

impl FilePatch {
    /// Reads a `file` document; messages go under `file.<member>`.
    pub fn from_doc(doc: &Map<String, Value>) -> Result<FilePatch, FieldErrors> {
        let mut errors = FieldErrors::new();
        let filename = match text_member(doc, "file", "filename", MAX_FILENAME, &mut errors) {
            None => None,
            Some(None) => {
                errors.insert("file.filename".into(), "This value should not be blank.".into());
                None
            }
            Some(Some(n)) => match check_filename(&n) {
                Ok(n) => Some(n),
                Err(e) => {
                    errors.insert("file.filename".into(), e);
                    None
                }
            },
        };
        let attachments = match doc.get("attachment") {
            None => None,
            Some(Value::Null) => Some(Vec::new()),
            Some(Value::Array(list)) => Some(attachments(list, &mut errors)),
            Some(_) => {
                errors.insert("file.attachment".into(), "This value should be a list.".into());
                None
            }
        };
        if errors.is_empty() { Ok(FilePatch { filename, attachments }) } else { Err(errors) }
    }
}

/// `[{order: {...}}, {customer: {...}}, ...]`: each entry names one order or one customer.
fn attachments(list: &[Value], errors: &mut FieldErrors) -> Vec<AttachRef> {
    let mut out = Vec::new();
    for (i, entry) in list.iter().enumerate() {
        let prefix = format!("file.attachment[{i}]");
        let Value::Object(m) = entry else {
            errors.insert(prefix, "This value should be an object.".into());
            continue;
        };
        let before = errors.len();
        let order = order_member(m, &prefix, errors).flatten();
        let customer = customer_member(m, &prefix, errors).flatten();
        if errors.len() > before {
            continue;
        }
        match (order, customer) {
            (Some(o), None) => out.push(AttachRef::Order(o)),
            (None, Some(c)) => out.push(AttachRef::Customer(c)),
            (Some(_), Some(_)) => {
                errors.insert(prefix, "Attach to an order or to a customer, not both.".into());
            }
            (None, None) => {
                errors.insert(prefix, "Set one of the following fields: order, customer".into());
            }
        }
    }
    out
}

/// The media type a file name implies, `application/octet-stream` when unknown. A short table is
/// enough for what a CRM keeps (documents, images, archives), so no MIME database is pulled in.
pub fn media_type(filename: &str) -> &'static str {
    let ext = filename.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "txt" | "log" => "text/plain",
        "csv" => "text/csv",
        "html" | "htm" => "text/html",
        "xml" => "application/xml",
        "json" => "application/json",
        "pdf" => "application/pdf",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "odt" => "application/vnd.oasis.opendocument.text",
        "ods" => "application/vnd.oasis.opendocument.spreadsheet",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn reads_a_file_document() {
        let p = FilePatch::from_doc(&doc(json!({"filename": " act.pdf ", "attachment": [
            {"order": {"number": "7A"}}, {"customer": {"externalId": "c1"}}]})))
        .unwrap();
        assert_eq!(p.filename.as_deref(), Some("act.pdf"));
        assert_eq!(
            p.attachments.unwrap(),
            vec![
                AttachRef::Order(OrderRef::Number("7A".into())),
                AttachRef::Customer(CustomerRef::ExternalId("c1".into()))
            ]
        );
        let e = FilePatch::from_doc(&doc(json!({"filename": "../x", "attachment": [{}, 5]}))).unwrap_err();
        assert!(
            e.contains_key("file.filename")
                && e.contains_key("file.attachment[0]")
                && e.contains_key("file.attachment[1]")
        );
        assert_eq!(media_type("A.PDF"), "application/pdf");
        assert_eq!(media_type("noext"), "application/octet-stream");
    }
}
