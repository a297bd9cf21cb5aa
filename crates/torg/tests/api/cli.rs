//! The command line as README.md gives it: `migrate`, `key create|list|revoke`, `--database`.

use crate::common::{TestApp, both};
use std::process::Command;

fn torg(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_torg")).args(args).output().expect("run torg");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

both!(keys_from_the_command_line, |app: TestApp| async move {
    let db = app.database_url.clone();
    let (ok, out, err) = torg(&["migrate", "--database", &db]);
    assert!(ok, "{err}");
    assert!(out.contains("up to date"));

    let (ok, out, err) =
        torg(&["key", "create", "--name", "reader", "--scope", "order_read", "--site", "default", "--database", &db]);
    assert!(ok, "{err}");
    let key = out.lines().last().unwrap().trim().to_string();
    assert_eq!(key.len(), 32, "the key alone on the last line: {out}");
    let (s, b) = app.get_as(&key, "/api/credentials").await;
    assert_eq!(s, 200);
    assert_eq!(b["scopes"], serde_json::json!(["order_read"]));
    assert_eq!(b["siteAccess"], "access_selective");
    let (s, _) = app.post_as(&key, "/api/v5/orders/create", &[("order", "{}")]).await;
    assert_eq!(s, 403);

    let (ok, out, _) = torg(&["key", "list", "--database", &db]);
    assert!(ok);
    assert!(out.contains("reader") && out.contains(&key[..6]) && !out.contains(&key), "{out}");

    let (ok, _, err) = torg(&["key", "revoke", "reader", "--database", &db]);
    assert!(ok, "{err}");
    let (s, b) = app.get_as(&key, "/api/credentials").await;
    assert_eq!((s.as_u16(), b["errorMsg"].as_str().unwrap()), (403, "Wrong \"apiKey\" value."));

    let (ok, _, err) = torg(&["key", "create", "--name", "x", "--scope", "everything", "--database", &db]);
    assert!(!ok && err.contains("unknown scope"), "{err}");
    let (ok, _, err) = torg(&["key", "create", "--name", "x", "--all-scopes", "--site", "nowhere", "--database", &db]);
    assert!(!ok && err.contains("nowhere"), "{err}");
    let (ok, out, _) =
        torg(&["key", "create", "--name", "all", "--all-scopes", "--ip", "127.0.0.1", "--database", &db]);
    assert!(ok);
    let all = out.lines().last().unwrap().trim().to_string();
    let (s, _) = app.get_as(&all, "/api/credentials").await;
    assert_eq!(s, 200);
});

#[test]
fn bad_database_url_is_a_clear_error() {
    let (ok, _, err) = torg(&["migrate", "--database", "mysql://nowhere"]);
    assert!(!ok);
    assert!(err.contains("unsupported database URL"), "{err}");
}

both!(users_from_the_command_line, |app: TestApp| async move {
    let db = app.database_url.clone();
    let (ok, _, err) = torg(&["user", "group", "sales", "--name", "Продажи", "--manager", "--database", &db]);
    assert!(ok, "{err}");
    let (ok, out, err) = torg(&[
        "user",
        "add",
        "--first-name",
        "Ира",
        "--last-name",
        "Котова",
        "--email",
        "ira@example.com",
        "--code",
        "201",
        "--group",
        "sales",
        "--database",
        &db,
    ]);
    assert!(ok, "{err}");
    let id: i64 = out.lines().last().unwrap().trim().parse().expect("the id alone on the last line");
    let (s, b) = app.get(&format!("/api/v5/users/{id}")).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["user"]["groups"][0]["code"], "sales");
    assert_eq!(b["user"]["isManager"], true);
    let (ok, _, err) =
        torg(&["user", "add", "--first-name", "X", "--last-name", "Y", "--group", "nope", "--database", &db]);
    assert!(!ok && err.contains("nope"), "an unknown group is refused: {err}");
    let (ok, out, _) = torg(&["user", "list", "--database", &db]);
    assert!(ok && out.contains("ira@example.com") && out.contains("sales"), "{out}");
});
