//! A check over the store's own source: refusals are worded by the domain (issue 9, point 5), so no
//! store module may carry a message. It reads the files rather than the binary because a message is
//! text in the source, and a reviewer would look for it the same way.

use std::path::Path;

/// Phrases that only a refusal's message has.
const PHRASES: [&str; 6] =
    ["not found", "already exists", "does not exist", "should not be blank", "Set one of", "should be an"];

/// The string literals of one line of Rust (comments and `#[...]` attributes skipped), naively: a
/// literal holding an escaped quote is cut there, which only shortens what is looked at.
fn literals(line: &str) -> Vec<&str> {
    let code = line.trim_start();
    if code.starts_with("//") || code.starts_with("#[") {
        return Vec::new();
    }
    let code = code.split(" //").next().unwrap_or(code);
    code.split('"').skip(1).step_by(2).collect()
}

/// Whether a literal reads as a message: a phrase of a refusal, or a capitalised sentence with a full stop.
fn is_message(text: &str) -> bool {
    let sentence = text.starts_with(|c: char| c.is_ascii_uppercase()) && text.contains(' ') && text.ends_with('.');
    sentence || PHRASES.iter().any(|p| text.contains(p))
}

/// Every message literal in the `.rs` files under `dir`, as `file:line: text`; test modules are not read.
fn messages_under(dir: &Path, out: &mut Vec<String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("the store's source is readable").flatten().collect();
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            messages_under(&path, out);
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") || path.ends_with("wording_guard.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("a source file is readable");
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("#[cfg(test)]") {
                break;
            }
            for lit in literals(line).into_iter().filter(|l| is_message(l)) {
                out.push(format!("{}:{}: {lit}", path.display(), n + 1));
            }
        }
    }
}

#[test]
fn the_store_words_no_refusal() {
    let mut found = Vec::new();
    messages_under(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut found);
    assert!(found.is_empty(), "messages belong to the domain:\n{}", found.join("\n"));
}

#[test]
fn the_guard_sees_a_message_and_passes_sql() {
    assert!(is_message("Order not found."));
    assert!(is_message("Invoice {id} is {}; only a created invoice can be changed."));
    assert!(is_message("'{}' already exists."));
    assert!(!is_message("SELECT id FROM orders WHERE id = $1"));
    assert!(!is_message("externalId"));
    assert_eq!(literals(r#"let x = f("a", "b"); // "c""#), vec!["a", "b"]);
    assert!(literals(r#"    /// "Order not found." is the domain's"#).is_empty());
}
