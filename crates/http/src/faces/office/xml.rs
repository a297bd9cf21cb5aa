//! XML in and out for the office face.
//!
//! Requests are read by a guarded pass over quick-xml's events rather than a general deserializer:
//! any DOCTYPE (and with it every DTD, internal or external) is refused, only the five predefined
//! entities and character references are resolved, and depth, element count, text and total size are
//! capped, so billion-laughs, external-entity and deeply nested documents fail fast with a message.
//! The tree comes out as the same JSON shape a form or JSON body gives: an element with children is an
//! object, repeated names and `<item>` children are lists, a leaf is its text.

use quick_xml::Reader;
use quick_xml::events::Event;
use serde_json::{Map, Value};

/// Caps on a request document.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Bytes in the whole document.
    pub max_bytes: usize,
    /// Element nesting.
    pub max_depth: usize,
    /// Elements in the whole document.
    pub max_elements: usize,
    /// Characters of text in one element.
    pub max_text: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_bytes: 8 * 1024 * 1024, max_depth: 16, max_elements: 200_000, max_text: 64 * 1024 }
    }
}

struct Frame {
    name: String,
    children: Vec<(String, Value)>,
    text: String,
}

impl Frame {
    fn new(name: &str) -> Frame {
        Frame { name: name.to_string(), children: Vec::new(), text: String::new() }
    }

    /// The element as a value: text for a leaf, a list for `<item>` children, else an object whose
    /// repeated names become lists.
    fn into_value(self) -> Value {
        if self.children.is_empty() {
            return Value::String(self.text.trim().to_string());
        }
        if self.children.iter().all(|(n, _)| n == "item") {
            return Value::Array(self.children.into_iter().map(|(_, v)| v).collect());
        }
        let mut grouped: Vec<(String, Vec<Value>)> = Vec::new();
        // Indexed, so a document of many distinct names stays linear.
        let mut at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for (name, value) in self.children {
            match at.get(&name) {
                Some(&i) => grouped[i].1.push(value),
                None => {
                    at.insert(name.clone(), grouped.len());
                    grouped.push((name, vec![value]));
                }
            }
        }
        let map = grouped
            .into_iter()
            .map(|(name, mut values)| {
                let value = if values.len() == 1 { values.remove(0) } else { Value::Array(values) };
                (name, value)
            })
            .collect();
        Value::Object(map)
    }
}

/// Parses a `<request>` document into its tree; the message says what was refused.
pub fn parse(bytes: &[u8], limits: Limits) -> Result<Map<String, Value>, String> {
    match parse_document(bytes, limits)? {
        (name, Value::Object(map)) if name == "request" => Ok(map),
        (name, _) if name == "request" => Ok(Map::new()),
        _ => Err("Корневой элемент XML-запроса должен быть <request>.".into()),
    }
}

/// Parses any document under the same guards: its root's name and value.
pub fn parse_document(bytes: &[u8], limits: Limits) -> Result<(String, Value), String> {
    if bytes.len() > limits.max_bytes {
        return Err(format!("XML-документ больше {} байт.", limits.max_bytes));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|_| "XML-документ должен быть в кодировке UTF-8.".to_string())?;
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<(String, Value)> = None;
    let mut elements = 0usize;
    loop {
        let event = reader.read_event().map_err(|e| format!("Некорректный XML: {e}"))?;
        match event {
            Event::DocType(_) => return Err("DOCTYPE и DTD в запросе не допускаются.".into()),
            Event::Start(_) | Event::Empty(_) if root.is_some() => {
                return Err("В XML-документе должен быть один корневой элемент.".into());
            }
            Event::Start(e) => {
                elements += 1;
                if elements > limits.max_elements {
                    return Err(format!("В XML-документе больше {} элементов.", limits.max_elements));
                }
                if stack.len() + 1 > limits.max_depth {
                    return Err(format!("Вложенность XML глубже {} уровней.", limits.max_depth));
                }
                stack.push(Frame::new(e.local_name().as_ref()));
            }
            Event::Empty(e) => {
                elements += 1;
                if elements > limits.max_elements {
                    return Err(format!("В XML-документе больше {} элементов.", limits.max_elements));
                }
                let name = e.local_name().as_ref().to_string();
                match stack.last_mut() {
                    Some(parent) => parent.children.push((name, Value::String(String::new()))),
                    None => root = Some((name, Value::Object(Map::new()))),
                }
            }
            Event::End(_) => {
                let Some(frame) = stack.pop() else {
                    return Err("Некорректный XML: лишний закрывающий тег.".into());
                };
                let name = frame.name.clone();
                let value = frame.into_value();
                match stack.last_mut() {
                    Some(parent) => parent.children.push((name, value)),
                    None => root = Some((name, value)),
                }
            }
            Event::Text(t) => push_text(&mut stack, &t.xml10_content(), limits)?,
            Event::CData(c) => push_text(&mut stack, &c.xml10_content(), limits)?,
            Event::GeneralRef(r) => {
                let ch = if r.is_char_ref() {
                    match r.resolve_char_ref() {
                        Ok(Some(c)) => c,
                        _ => return Err(format!("Некорректная ссылка на символ &{};", r.xml10_content())),
                    }
                } else {
                    match r.xml10_content().as_ref() {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "apos" => '\'',
                        "quot" => '"',
                        other => {
                            return Err(format!(
                                "Сущность &{other}; не допускается: только &lt; &gt; &amp; &apos; &quot;."
                            ));
                        }
                    }
                };
                push_text(&mut stack, ch.encode_utf8(&mut [0; 4]), limits)?;
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err("Некорректный XML: документ оборван.".into());
    }
    root.ok_or_else(|| "XML-документ пуст.".to_string())
}

fn push_text(stack: &mut [Frame], text: &str, limits: Limits) -> Result<(), String> {
    match stack.last_mut() {
        Some(frame) => {
            if frame.text.len() + text.len() > limits.max_text {
                return Err(format!("Текст элемента <{}> длиннее {} байт.", frame.name, limits.max_text));
            }
            frame.text.push_str(text);
            Ok(())
        }
        // Whitespace around the root is fine; anything else is not XML.
        None if text.trim().is_empty() => Ok(()),
        None => Err("Некорректный XML: текст вне корневого элемента.".into()),
    }
}

/// Writes `<?xml …?><response>…</response>` for a tree: objects as elements, lists as `<item>`s.
pub fn write_response(body: &Map<String, Value>) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response>");
    for (k, v) in body {
        write_element(&mut out, k, v);
    }
    out.push_str("</response>\n");
    out
}

fn write_element(out: &mut String, name: &str, v: &Value) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    match v {
        Value::Null => {}
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => out.push_str(&escape_text(s)),
        Value::Array(list) => {
            for item in list {
                write_element(out, "item", item);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                write_element(out, k, v);
            }
        }
    }
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// Escapes text for XML 1.0, dropping the control characters it cannot carry at all.
fn escape_text(s: &str) -> String {
    let kept: String =
        s.chars().filter(|&c| !matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}')).collect();
    quick_xml::escape::escape(kept.as_str()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(s: &str) -> Result<Map<String, Value>, String> {
        parse(s.as_bytes(), Limits::default())
    }

    #[test]
    fn reads_the_seed_request() {
        let m = p("<request>\n <hash>abc</hash>\n <filter>\n <id>2619</id>\n </filter>\n</request>").unwrap();
        assert_eq!(Value::Object(m), json!({"hash": "abc", "filter": {"id": "2619"}}));
    }

    #[test]
    fn lists_from_items_and_repeats() {
        let m = p("<request><data><item><code>1</code></item><item><code>2</code></item></data>\
                   <filter><id>1</id><id>2</id><code><item>a</item></code></filter></request>")
        .unwrap();
        assert_eq!(
            Value::Object(m),
            json!({"data": [{"code": "1"}, {"code": "2"}], "filter": {"id": ["1", "2"], "code": ["a"]}})
        );
    }

    #[test]
    fn predefined_entities_and_char_refs() {
        let m = p("<request><a>x &amp; y &lt;&#1050;&#x443;&gt;</a><b><![CDATA[<z>]]></b></request>").unwrap();
        assert_eq!(m["a"], "x & y <Ку>");
        assert_eq!(m["b"], "<z>");
    }

    #[test]
    fn refuses_hostile_documents() {
        let laughs = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;\">]>\
                      <request><hash>&lol2;</hash></request>";
        assert!(p(laughs).unwrap_err().contains("DOCTYPE"));
        let xxe = "<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><request><hash>&x;</hash></request>";
        assert!(p(xxe).unwrap_err().contains("DOCTYPE"));
        assert!(p("<request><hash>&x;</hash></request>").unwrap_err().contains("&x;"));
        let deep = format!("<request>{}{}</request>", "<a>".repeat(100), "</a>".repeat(100));
        assert!(p(&deep).unwrap_err().contains("16"));
        let limits = Limits { max_bytes: 100, ..Limits::default() };
        assert!(parse(&[b' '; 101], limits).is_err());
        assert!(p("<other/>").is_err());
        assert!(p("<request><a></request>").is_err());
    }

    #[test]
    fn writes_the_seed_shape() {
        let body =
            json!({"warehouses": [{"code": "3", "address": "Курск <1>"}], "status": {"code": "ok", "messages": ["m"]}});
        let xml = write_response(body.as_object().unwrap());
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response><warehouses><item><code>3</code>\
             <address>Курск &lt;1&gt;</address></item></warehouses><status><code>ok</code><messages><item>m</item>\
             </messages></status></response>\n"
        );
    }
}
