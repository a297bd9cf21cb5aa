//! PHP-style request parameters, parsed into a dynamic [`serde_json::Value`] tree.
//!
//! RetailCRM v5 is a PHP application, so its clients send parameters the way
//! PHP's `$_GET`/`$_POST` read them: `filter[ids][]=1`, `order=<json text>`,
//! brackets sometimes raw and sometimes percent-encoded, and, from the Python
//! client, the literal strings `None`, `True` and `False`.
//!
//! This is hand-written rather than built on `serde_qs` because `serde_qs`
//! needs a target type and silently drops percent-encoded brackets unless
//! configured for them, while we need one loosely-typed tree that every
//! endpoint can read, with PHP's rule that a hash keyed `0..n-1` is a list,
//! plus lenient readers that tolerate the Python client's literals.

use std::borrow::Cow;
use std::collections::HashMap;
use std::convert::Infallible;

use bytes::Bytes;
use serde_json::{Map, Value};

/// Deepest bracket nesting honoured; anything below it stays in the last key as text.
const MAX_DEPTH: usize = 10;

/// Most parameters read from one request, like PHP's `max_input_vars`.
const MAX_PAIRS: usize = 10_000;

/// Parses a query string or `application/x-www-form-urlencoded` body with PHP bracket semantics.
pub fn parse_urlencoded(input: &[u8]) -> Map<String, Value> {
    let mut root = Branch::default();
    let pairs = input.split(|&b| b == b'&').filter(|pair| !pair.is_empty()).take(MAX_PAIRS);
    for pair in pairs {
        let (key, value) = match pair.iter().position(|&b| b == b'=') {
            Some(eq) => (&pair[..eq], &pair[eq + 1..]),
            None => (pair, &[][..]),
        };
        insert(&mut root, &decode(key), decode(value));
    }
    root.into_map()
}

/// Decodes a query string into its key/value pairs in order, repeated keys kept (the billing face's
/// list language gives a repeated plain key a meaning that PHP semantics would lose).
pub fn pairs(input: &[u8]) -> Vec<(String, String)> {
    input
        .split(|&b| b == b'&')
        .filter(|pair| !pair.is_empty())
        .take(MAX_PAIRS)
        .map(|pair| match pair.iter().position(|&b| b == b'=') {
            Some(eq) => (decode(&pair[..eq]), decode(&pair[eq + 1..])),
            None => (decode(pair), String::new()),
        })
        .collect()
}

/// Parses a `multipart/form-data` body, giving text fields PHP bracket semantics and skipping files.
pub async fn parse_multipart(body: Bytes, boundary: &str) -> Result<Map<String, Value>, String> {
    let stream = futures::stream::once(async move { Ok::<Bytes, Infallible>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut root = Branch::default();
    let mut seen = 0;
    while let Some(field) = multipart.next_field().await.map_err(|e| format!("malformed multipart body: {e}"))? {
        // Counting file parts too keeps a body of endless tiny files bounded.
        if seen == MAX_PAIRS {
            break;
        }
        seen += 1;
        // PHP sends parts with a filename to `$_FILES`, never to `$_POST`.
        if field.file_name().is_some() {
            continue;
        }
        let Some(name) = field.name().map(str::to_owned) else {
            continue;
        };
        let text = field.text().await.map_err(|e| format!("malformed multipart field {name:?}: {e}"))?;
        insert(&mut root, &name, text);
    }
    Ok(root.into_map())
}

/// Extracts the boundary from a `multipart/form-data` content type.
pub fn boundary(content_type: &str) -> Option<String> {
    multer::parse_boundary(content_type).ok()
}

/// Whether a value means "absent": JSON null, an empty string, or the literal `None`/`null`.
pub fn is_none_literal(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => matches!(s.as_str(), "" | "None" | "null"),
        _ => false,
    }
}

/// Reads a boolean from a JSON bool or from the spellings PHP and Python clients send.
pub fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim() {
            "1" | "true" | "True" | "TRUE" | "on" | "yes" => Some(true),
            "0" | "false" | "False" | "off" | "no" | "" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Reads an integer from a JSON number or a (trimmed) numeric string.
pub fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Reads a list leniently: arrays as is, object values in order, a scalar as one item, none as empty.
pub fn as_list(v: &Value) -> Vec<Value> {
    list_items(v).into_iter().cloned().collect()
}

/// [`as_list`]'s items, borrowed: for a reader that copies only what it keeps.
pub fn list_items(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(items) => items.iter().collect(),
        Value::Object(map) => map.values().collect(),
        v if is_none_literal(v) => Vec::new(),
        v => vec![v],
    }
}

/// A PHP array under construction: ordered keys plus the next free integer index for `[]`.
#[derive(Default)]
struct Branch {
    entries: Vec<(String, Node)>,
    /// Built once a branch holds [`INDEXED_FROM`] keys, so thousands of `a[]=` pairs stay linear; a
    /// request's few parameters are found by comparing (a hash map per branch, with its random keys
    /// and SipHash, was most of a filtered list's query parse).
    index: Option<HashMap<String, usize>>,
    next: u64,
}

/// How many keys a branch holds before it indexes them.
const INDEXED_FROM: usize = 16;

enum Node {
    Leaf(String),
    Branch(Branch),
}

impl Branch {
    /// The slot for `key`, created empty at the end if missing so updates keep PHP's key order.
    fn slot(&mut self, key: &str) -> &mut Node {
        let found = match &self.index {
            Some(index) => index.get(key).copied(),
            None => self.entries.iter().position(|(k, _)| k == key),
        };
        let pos = match found {
            Some(pos) => pos,
            None => {
                // PHP bumps the next free index past any explicit integer key.
                if let Some(n) = canonical_index(key) {
                    self.next = self.next.max(n.saturating_add(1));
                }
                let pos = self.entries.len();
                if let Some(index) = &mut self.index {
                    index.insert(key.to_owned(), pos);
                }
                self.entries.push((key.to_owned(), Node::Leaf(String::new())));
                if self.index.is_none() && self.entries.len() >= INDEXED_FROM {
                    self.index = Some(self.entries.iter().enumerate().map(|(i, (k, _))| (k.clone(), i)).collect());
                }
                pos
            }
        };
        &mut self.entries[pos].1
    }

    /// Turns an empty `[]` segment into the next free index, as PHP does.
    fn resolve<'s>(&self, segment: &'s str) -> Cow<'s, str> {
        if segment.is_empty() { Cow::Owned(self.next.to_string()) } else { Cow::Borrowed(segment) }
    }

    fn into_map(self) -> Map<String, Value> {
        self.entries.into_iter().map(|(key, node)| (key, node.into_value())).collect()
    }

    fn into_value(self) -> Value {
        // Keys are unique, so n distinct indices below n are exactly 0..n-1.
        let len = self.entries.len() as u64;
        let is_list = self.entries.iter().all(|(key, _)| canonical_index(key).is_some_and(|i| i < len));
        if !is_list {
            return Value::Object(self.into_map());
        }
        let mut indexed: Vec<(u64, Node)> =
            self.entries.into_iter().filter_map(|(key, node)| canonical_index(&key).map(|i| (i, node))).collect();
        indexed.sort_unstable_by_key(|(i, _)| *i);
        Value::Array(indexed.into_iter().map(|(_, node)| node.into_value()).collect())
    }
}

impl Node {
    fn into_value(self) -> Value {
        match self {
            Node::Leaf(s) => Value::String(s),
            Node::Branch(b) => b.into_value(),
        }
    }
}

/// Stores `value` under a PHP-style key such as `filter[ids][]`, shared by both body formats.
fn insert(map: &mut Branch, raw_key: &str, value: String) {
    if let Some((base, segments)) = split_key(raw_key) {
        descend(map, base, &segments, value);
    }
}

// Keys stay borrowed from the request until a branch keeps one: a query's few pairs made several
// short-lived copies of each segment before.
fn descend(branch: &mut Branch, key: &str, rest: &[Cow<'_, str>], value: String) {
    match rest.split_first() {
        // A later scalar replaces whatever was there, array or not, as in PHP.
        None => *branch.slot(key) = Node::Leaf(value),
        Some((segment, tail)) => {
            let slot = branch.slot(key);
            // PHP discards an earlier scalar when the same name gains brackets.
            if let Node::Leaf(_) = slot {
                *slot = Node::Branch(Branch::default());
            }
            if let Node::Branch(child) = slot {
                let key = child.resolve(segment);
                descend(child, &key, tail, value);
            }
        }
    }
}

/// Splits `a[b][]` into `("a", ["b", ""])`; `None` means PHP would drop the parameter.
fn split_key(raw: &str) -> Option<(&str, Vec<Cow<'_, str>>)> {
    if raw.is_empty() {
        return None;
    }
    let Some(open) = raw.find('[') else {
        return Some((raw, Vec::new()));
    };
    let mut segments: Vec<Cow<'_, str>> = Vec::new();
    // Invariant: `raw[pos]` is a `[`; every slice point is an ASCII bracket, so on a char boundary.
    let mut pos = open;
    loop {
        if segments.len() == MAX_DEPTH {
            if let Some(last) = segments.last_mut() {
                last.to_mut().push_str(&raw[pos..]);
            }
            break;
        }
        let Some(len) = raw[pos + 1..].find(']') else {
            // Simpler than PHP's `[`-to-`_` mangling, and no real client relies on either.
            return Some((raw, Vec::new()));
        };
        let close = pos + 1 + len;
        segments.push(Cow::Borrowed(&raw[pos + 1..close]));
        pos = close + 1;
        // PHP ignores anything after a `]` that does not open another bracket.
        if !raw[pos..].starts_with('[') {
            break;
        }
    }
    let base = &raw[..open];
    if base.is_empty() { None } else { Some((base, segments)) }
}

/// The integer a key denotes in PHP (`"7"`, not `"07"` or `"+7"`), if any.
fn canonical_index(key: &str) -> Option<u64> {
    let bytes = key.as_bytes();
    let canonical = !bytes.is_empty() && bytes.iter().all(u8::is_ascii_digit) && (bytes.len() == 1 || bytes[0] != b'0');
    if canonical { key.parse().ok() } else { None }
}

/// Form-decodes one key or value; malformed escapes stay literal and bad UTF-8 becomes U+FFFD.
fn decode(raw: &[u8]) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = raw.get(i + 1).and_then(hex_value);
                let lo = raw.get(i + 2).and_then(hex_value);
                if let (Some(hi), Some(lo)) = (hi, lo) {
                    out.push(hi << 4 | lo);
                    i += 2;
                } else {
                    out.push(b'%');
                }
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn hex_value(b: &u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {

    use serde_json::json;

    use super::*;

    fn q(input: &str) -> Value {
        Value::Object(parse_urlencoded(input.as_bytes()))
    }

    fn keys(v: &Value) -> Vec<&str> {
        v.as_object().unwrap().keys().map(String::as_str).collect()
    }

    #[test]
    fn plain_pair() {
        assert_eq!(q("a=1"), json!({"a": "1"}));
        assert_eq!(q("a=1&b=two"), json!({"a": "1", "b": "two"}));
    }

    #[test]
    fn plus_is_space_and_keys_and_values_are_percent_decoded() {
        assert_eq!(q("a+b=c+d%20e%2B"), json!({"a b": "c d e+"}));
        assert_eq!(q("%D0%B8%D0%BC%D1%8F=%D0%A2%D0%BE%D0%BC"), json!({"имя": "Том"}));
    }

    #[test]
    fn malformed_escapes_stay_literal() {
        assert_eq!(q("a=%zz%4&b=%"), json!({"a": "%zz%4", "b": "%"}));
    }

    #[test]
    fn invalid_utf8_is_decoded_lossily() {
        assert_eq!(q("a=%FF%FE"), json!({"a": "\u{FFFD}\u{FFFD}"}));
        let raw = Value::Object(parse_urlencoded(b"k\xff=v\xfe"));
        assert_eq!(raw, json!({"k\u{FFFD}": "v\u{FFFD}"}));
    }

    #[test]
    fn empty_brackets_push() {
        assert_eq!(q("a[]=1&a[]=2"), json!({"a": ["1", "2"]}));
    }

    #[test]
    fn explicit_indices_make_a_list() {
        assert_eq!(q("a[0]=1&a[1]=2"), json!({"a": ["1", "2"]}));
    }

    #[test]
    fn indices_in_any_order_make_a_list_in_index_order() {
        assert_eq!(q("a[2]=z&a[0]=x&a[1]=y"), json!({"a": ["x", "y", "z"]}));
    }

    #[test]
    fn non_contiguous_or_non_canonical_indices_stay_an_object() {
        assert_eq!(q("a[0]=x&a[2]=y"), json!({"a": {"0": "x", "2": "y"}}));
        assert_eq!(q("a[1]=x"), json!({"a": {"1": "x"}}));
        assert_eq!(q("a[0]=x&a[01]=y"), json!({"a": {"0": "x", "01": "y"}}));
        assert_eq!(q("a[0]=x&a[b]=y"), json!({"a": {"0": "x", "b": "y"}}));
    }

    #[test]
    fn push_continues_after_the_highest_explicit_index() {
        assert_eq!(q("a[5]=x&a[]=y"), json!({"a": {"5": "x", "6": "y"}}));
        assert_eq!(q("a[1]=x&a[]=y&a[0]=z"), json!({"a": ["z", "x", "y"]}));
        assert_eq!(q("a[b]=x&a[]=y"), json!({"a": {"b": "x", "0": "y"}}));
    }

    #[test]
    fn nested_objects() {
        assert_eq!(q("a[b][c]=1"), json!({"a": {"b": {"c": "1"}}}));
        assert_eq!(q("filter[customFields][nps][min]=5"), json!({"filter": {"customFields": {"nps": {"min": "5"}}}}));
    }

    #[test]
    fn mixed_objects_and_lists() {
        assert_eq!(q("a[x][]=1&a[x][]=2&a[y]=3"), json!({"a": {"x": ["1", "2"], "y": "3"}}));
        assert_eq!(q("a[][b]=1&a[][b]=2"), json!({"a": [{"b": "1"}, {"b": "2"}]}));
    }

    #[test]
    fn list_conversion_is_recursive() {
        assert_eq!(q("a[0][0]=x&a[0][1]=y&a[1][k]=z"), json!({"a": [["x", "y"], {"k": "z"}]}));
    }

    #[test]
    fn top_level_stays_an_object_even_with_integer_keys() {
        assert_eq!(q("0=a&1=b"), json!({"0": "a", "1": "b"}));
    }

    #[test]
    fn later_values_override_earlier_ones() {
        assert_eq!(q("a=1&a=2"), json!({"a": "2"}));
        assert_eq!(q("a=1&a[b]=2"), json!({"a": {"b": "2"}}));
        assert_eq!(q("a[b]=2&a=1"), json!({"a": "1"}));
        assert_eq!(q("a[b]=1&a[b][c]=2"), json!({"a": {"b": {"c": "2"}}}));
        assert_eq!(q("a[0]=x&a[0]=y"), json!({"a": ["y"]}));
    }

    #[test]
    fn insertion_order_is_kept_and_overrides_keep_their_place() {
        assert_eq!(keys(&q("z=1&a=2&m=3")), ["z", "a", "m"]);
        assert_eq!(keys(&q("a=1&b=2&a=3")), ["a", "b"]);
    }

    #[test]
    fn a_branch_indexed_past_its_first_keys_finds_them_all() {
        // Keys before and after the branch starts indexing, each set twice: the later value wins in
        // the first value's place.
        let names: Vec<String> = (0..40).map(|i| format!("k{i}")).collect();
        let first: Vec<String> = names.iter().map(|n| format!("f[{n}]=1")).collect();
        let again: Vec<String> = names.iter().rev().map(|n| format!("f[{n}]=2")).collect();
        let v = q(&[first, again].concat().join("&"));
        assert_eq!(keys(&v["f"]), names.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(v["f"].as_object().unwrap().values().all(|x| x == "2"));
        let pushed: Vec<String> = (0..40).map(|i| format!("a[]={i}")).collect();
        let v = q(&(pushed.join("&") + "&a[3]=x"));
        assert_eq!(v["a"].as_array().map(Vec::len), Some(40));
        assert_eq!((&v["a"][3], &v["a"][39]), (&json!("x"), &json!("39")));
    }

    #[test]
    fn empty_names_and_empty_pairs_are_skipped() {
        assert_eq!(q("=1&&[x]=2&%5B%5D=3&b=4&"), json!({"b": "4"}));
        assert_eq!(q(""), json!({}));
    }

    #[test]
    fn pair_without_equals_sign_is_empty_string() {
        assert_eq!(q("flag&x="), json!({"flag": "", "x": ""}));
        assert_eq!(q("a[]"), json!({"a": [""]}));
    }

    #[test]
    fn unbalanced_brackets_keep_the_raw_key() {
        assert_eq!(q("a[b=1"), json!({"a[b": "1"}));
        assert_eq!(q("a%5Bb=1"), json!({"a[b": "1"}));
        assert_eq!(q("a[b][c=1"), json!({"a[b][c": "1"}));
        assert_eq!(q("[a=1"), json!({"[a": "1"}));
    }

    #[test]
    fn text_after_a_closing_bracket_is_ignored_like_php() {
        assert_eq!(q("a[b]c=1"), json!({"a": {"b": "1"}}));
        assert_eq!(q("a[b]]=1"), json!({"a": {"b": "1"}}));
    }

    #[test]
    fn nesting_deeper_than_the_limit_stays_in_the_last_key() {
        let v = q("a[1][2][3][4][5][6][7][8][9][x][y][z]=v");
        let mut node = &v["a"];
        for key in ["1", "2", "3", "4", "5", "6", "7", "8", "9"] {
            node = &node[key];
        }
        assert_eq!(node, &json!({"x[y][z]": "v"}));
    }

    #[test]
    fn percent_encoded_brackets() {
        let expected = json!({"filter": {
            "numbers": ["1235C"],
            "customFields": {"nps": {"min": "5"}},
        }});
        assert_eq!(q("filter%5Bnumbers%5D%5B%5D=1235C&filter%5BcustomFields%5D%5Bnps%5D%5Bmin%5D=5"), expected);
        assert_eq!(q("filter[numbers][]=1235C&filter[customFields][nps][min]=5"), expected);
    }

    #[test]
    fn python_client_none_literal() {
        let v = q("filter=None&limit=20&page=1");
        assert_eq!(v, json!({"filter": "None", "limit": "20", "page": "1"}));
        assert!(is_none_literal(&v["filter"]));
        assert!(as_list(&v["filter"]).is_empty());
        assert_eq!(as_i64(&v["limit"]), Some(20));
        assert_eq!(as_i64(&v["page"]), Some(1));
    }

    #[test]
    fn encoded_id_lists() {
        assert_eq!(
            q("ids%5B%5D=1&ids%5B%5D=2&externalIds%5B%5D=o-1"),
            json!({"ids": ["1", "2"], "externalIds": ["o-1"]})
        );
    }

    #[test]
    fn json_valued_field_stays_a_string() {
        let v = q("site=simple-site&order=%7B%22externalId%22%3A%22a123%22%2C%22firstName%22%3A%22Tom%22%7D");
        assert_eq!(v["site"], json!("simple-site"));
        assert_eq!(v["order"], json!(r#"{"externalId":"a123","firstName":"Tom"}"#));
        let order: Value = serde_json::from_str(v["order"].as_str().unwrap()).unwrap();
        assert_eq!(order, json!({"externalId": "a123", "firstName": "Tom"}));
    }

    /// Hostile inputs must parse (not hang, not panic); how fast is the benchmarks' business.
    fn hostile(input: &str) -> Value {
        q(input)
    }

    #[test]
    fn hostile_brackets_do_not_panic() {
        let opens = "[".repeat(10_000);
        assert_eq!(hostile(&format!("{opens}=1")), json!({opens.clone(): "1"}));
        let key = format!("a{opens}");
        assert_eq!(hostile(&format!("{key}=1")), json!({key: "1"}));
        let v = hostile(&format!("a{opens}{}=1", "]".repeat(10_000)));
        assert_eq!(v, json!({"a": {opens[1..].to_owned(): "1"}}));
        let v = hostile(&format!("a{}=1", "[]".repeat(10_000)));
        let mut node = &v["a"];
        for _ in 0..MAX_DEPTH - 1 {
            node = &node[0];
        }
        // The tenth `[]` keeps the rest as text instead of pushing, so its key is the literal suffix.
        assert_eq!(node, &json!({"[]".repeat(10_000 - MAX_DEPTH): "1"}));
    }

    #[test]
    fn hostile_pair_counts_are_capped() {
        let v = hostile(&"a[]=1&".repeat(100_000));
        assert_eq!(v["a"].as_array().unwrap().len(), MAX_PAIRS);
        let many: String = (0..100_000).map(|i| format!("k{i}=v&")).collect();
        let v = hostile(&many);
        assert_eq!(v.as_object().unwrap().len(), MAX_PAIRS);
        assert!(v.get("k9999").is_some());
        assert!(v.get("k10000").is_none());
    }

    #[test]
    fn hostile_bytes_do_not_panic() {
        let noise: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
        let _ = parse_urlencoded(&noise);
        let _ = parse_urlencoded(b"%%%[=]&=&&[]&%5B&a[%5D=%");
    }

    fn multipart_body(parts: &[(&str, Option<&str>, &str)]) -> Bytes {
        let mut body = String::new();
        for (name, file_name, value) in parts {
            body.push_str("--XBOUNDARY\r\n");
            body.push_str(&format!("Content-Disposition: form-data; name=\"{name}\""));
            if let Some(file_name) = file_name {
                body.push_str(&format!("; filename=\"{file_name}\""));
            }
            body.push_str(&format!("\r\n\r\n{value}\r\n"));
        }
        body.push_str("--XBOUNDARY--\r\n");
        Bytes::from(body)
    }

    #[tokio::test]
    async fn multipart_fields_use_bracket_semantics() {
        let body = multipart_body(&[("order", None, r#"{"externalId":"a123"}"#), ("filter[ids][]", None, "7")]);
        let map = parse_multipart(body, "XBOUNDARY").await.unwrap();
        assert_eq!(Value::Object(map), json!({"order": r#"{"externalId":"a123"}"#, "filter": {"ids": ["7"]}}));
    }

    #[tokio::test]
    async fn multipart_skips_files_and_repeats_push() {
        let body = multipart_body(&[
            ("ids[]", None, "1"),
            ("upload", Some("a.txt"), "file contents"),
            ("ids[]", None, "2"),
            ("", None, "nameless"),
        ]);
        let map = parse_multipart(body, "XBOUNDARY").await.unwrap();
        assert_eq!(Value::Object(map), json!({"ids": ["1", "2"]}));
    }

    #[tokio::test]
    async fn malformed_multipart_is_an_error() {
        let body = Bytes::from_static(b"--XBOUNDARY\r\nno headers end here");
        let err = parse_multipart(body, "XBOUNDARY").await.unwrap_err();
        assert!(!err.is_empty());
        let err = parse_multipart(Bytes::from_static(b"garbage"), "XBOUNDARY").await.unwrap_err();
        assert!(!err.is_empty());
    }

    #[test]
    fn boundary_from_content_type() {
        assert_eq!(boundary("multipart/form-data; boundary=XBOUNDARY").as_deref(), Some("XBOUNDARY"));
        assert_eq!(boundary("multipart/form-data; boundary=\"quoted b\"").as_deref(), Some("quoted b"));
        assert_eq!(boundary("application/x-www-form-urlencoded"), None);
        assert_eq!(boundary("multipart/form-data"), None);
        assert_eq!(boundary("not a mime type"), None);
    }

    #[test]
    fn none_literals() {
        for v in [json!(null), json!(""), json!("None"), json!("null")] {
            assert!(is_none_literal(&v), "{v}");
        }
        for v in [json!("0"), json!(0), json!(false), json!("none"), json!([]), json!({})] {
            assert!(!is_none_literal(&v), "{v}");
        }
    }

    #[test]
    fn lenient_bools() {
        for s in ["1", "true", "True", "TRUE", "on", "yes", " true "] {
            assert_eq!(as_bool(&json!(s)), Some(true), "{s}");
        }
        for s in ["0", "false", "False", "off", "no", ""] {
            assert_eq!(as_bool(&json!(s)), Some(false), "{s}");
        }
        assert_eq!(as_bool(&json!(true)), Some(true));
        assert_eq!(as_bool(&json!(false)), Some(false));
        for v in [json!("None"), json!("maybe"), json!(null), json!(1), json!([])] {
            assert_eq!(as_bool(&v), None, "{v}");
        }
    }

    #[test]
    fn lenient_integers() {
        assert_eq!(as_i64(&json!("42")), Some(42));
        assert_eq!(as_i64(&json!(" -7 ")), Some(-7));
        assert_eq!(as_i64(&json!(42)), Some(42));
        assert_eq!(as_i64(&json!(i64::MIN)), Some(i64::MIN));
        for v in [json!("4.2"), json!(4.2), json!("x"), json!(""), json!("None"), json!(null), json!(true)] {
            assert_eq!(as_i64(&v), None, "{v}");
        }
        assert_eq!(as_i64(&json!("99999999999999999999")), None);
    }

    #[test]
    fn lenient_lists() {
        assert_eq!(as_list(&json!(["a", "b"])), [json!("a"), json!("b")]);
        assert_eq!(as_list(&q("ids[3]=c&ids[1]=a")["ids"]), [json!("c"), json!("a")]);
        assert_eq!(as_list(&json!("x")), [json!("x")]);
        assert_eq!(as_list(&json!(5)), [json!(5)]);
        assert!(as_list(&json!("None")).is_empty());
        assert!(as_list(&json!(null)).is_empty());
        assert!(as_list(&json!("")).is_empty());
    }
}
