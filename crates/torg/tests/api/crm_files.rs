//! Files (`files/*`) through the CRM face, on both engines: the three ways clients upload (a raw body,
//! a multipart part, the Python client's form field), the size limit, download with its name, the
//! attachments to orders and customers, the filters, edit and delete, and what a key limited to a site
//! sees.

use crate::common::{Reply, TestApp, add_to_counter, both};
use serde_json::{Value, json};

/// POSTs `body` as the raw file.
async fn upload_raw(app: &TestApp, query: &str, content_type: &str, body: &[u8]) -> Reply {
    let r = app
        .client
        .post(format!("{}/api/v5/files/upload{query}", app.base))
        .header("X-API-KEY", &app.key)
        .header("Content-Type", content_type)
        .body(body.to_vec())
        .send()
        .await
        .expect("send");
    let status = r.status();
    (status, r.json().await.expect("JSON"))
}

async fn files_listed(app: &TestApp, query: &str) -> Vec<i64> {
    let (s, b) = app.get(&format!("/api/v5/files?{query}")).await;
    assert_eq!(s, 200, "{query}: {b}");
    b["files"].as_array().unwrap().iter().map(|f| f["id"].as_i64().unwrap()).collect()
}

both!(upload_download_edit_delete, |app: TestApp| async move {
    let o = json!({"externalId": "f-o1", "firstName": "Ann"});
    let (s, b) = app.post("/api/v5/orders/create", &[("order", &o.to_string()), ("site", "default")]).await;
    assert_eq!(s, 201, "{b}");
    let order_id = b["id"].as_i64().unwrap();
    let c = json!({"externalId": "f-c1", "firstName": "Bob"});
    let (s, b) = app.post("/api/v5/customers/create", &[("customer", &c.to_string()), ("site", "default")]).await;
    assert_eq!(s, 201, "{b}");
    let customer_id = b["id"].as_i64().unwrap();

    // Go's way: the body is the file.
    let bytes: Vec<u8> = (0u8..=255).cycle().take(3000).collect();
    let (s, b) = upload_raw(&app, "?filename=scan.pdf", "application/octet-stream", &bytes).await;
    assert_eq!(s, 200, "{b}");
    let raw = &b["file"];
    assert_eq!(
        (&raw["filename"], &raw["type"], &raw["size"]),
        (&json!("scan.pdf"), &json!("application/pdf"), &json!(3000))
    );
    assert_eq!(raw["createdAt"].as_str().unwrap().len(), 19);
    assert_eq!(raw["attachment"], json!([]));
    let raw_id = raw["id"].as_i64().unwrap();
    let r = app
        .client
        .get(format!("{}/api/v5/files/{raw_id}/download", app.base))
        .header("X-API-KEY", &app.key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let disposition = r.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(disposition.starts_with("attachment;") && disposition.contains("filename=\"scan.pdf\""), "{disposition}");
    assert_eq!(r.bytes().await.unwrap().to_vec(), bytes, "the bytes come back unchanged");

    // PHP's way: a multipart part named `file`.
    // Written by hand: the workspace's reqwest has no multipart feature.
    let mut body = b"--XyZ\r\nContent-Disposition: form-data; name=\"site\"\r\n\r\ndefault\r\n--XyZ\r\n".to_vec();
    body.extend_from_slice("Content-Disposition: form-data; name=\"file\"; filename=\"Отчёт.csv\"\r\n".as_bytes());
    body.extend_from_slice(b"Content-Type: text/csv\r\n\r\na;b\n1;2\n\r\n--XyZ--\r\n");
    let r = app
        .client
        .post(format!("{}/api/v5/files/upload", app.base))
        .header("X-API-KEY", &app.key)
        .header("Content-Type", "multipart/form-data; boundary=XyZ")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let b: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{b}");
    let csv_id = b["file"]["id"].as_i64().unwrap();
    assert_eq!((&b["file"]["filename"], &b["file"]["type"]), (&json!("Отчёт.csv"), &json!("text/csv")));
    let r = app
        .client
        .get(format!("{}/api/v5/files/{csv_id}/download", app.base))
        .header("X-API-KEY", &app.key)
        .send()
        .await
        .unwrap();
    let disposition = r.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(disposition.contains("filename*=UTF-8''%D0%9E%D1%82%D1%87%D1%91%D1%82.csv"), "{disposition}");

    // The Python client's way: form field `file` with JSON, attached to an order at once.
    let doc = json!({"filename": "note.txt", "content": "привет", "attachment": [{"order": {"externalId": "f-o1"}}]});
    let (s, b) = app.post("/api/v5/files/upload", &[("file", &doc.to_string()), ("site", "default")]).await;
    assert_eq!(s, 200, "{b}");
    let note = &b["file"];
    let note_id = note["id"].as_i64().unwrap();
    assert_eq!(note["size"], "привет".len());
    assert_eq!(note["attachment"][0]["order"]["id"], order_id);
    assert_eq!(note["attachment"][0]["order"]["externalId"], "f-o1");
    let b64 = json!({"filename": "b.bin", "contentBase64": "AAEC"});
    let (s, b) = app.post("/api/v5/files/upload", &[("file", &b64.to_string())]).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["file"]["size"], 3);
    let b64_id = b["file"]["id"].as_i64().unwrap();

    // Get, filters.
    let (s, b) = app.get(&format!("/api/v5/files/{note_id}")).await;
    assert_eq!(s, 200);
    assert_eq!(b["file"]["filename"], "note.txt");
    assert_eq!(files_listed(&app, "").await, vec![b64_id, note_id, csv_id, raw_id]);
    assert_eq!(files_listed(&app, &format!("filter[orderIds][]={order_id}")).await, vec![note_id]);
    assert_eq!(files_listed(&app, "filter[orderExternalIds][]=f-o1").await, vec![note_id]);
    assert_eq!(files_listed(&app, "filter[isAttached]=1").await, vec![note_id]);
    assert_eq!(files_listed(&app, "filter[isAttached]=0").await, vec![b64_id, csv_id, raw_id]);
    assert_eq!(files_listed(&app, "filter[filename]=SCAN").await, vec![raw_id]);
    assert_eq!(files_listed(&app, "filter[sizeFrom]=100").await, vec![raw_id]);
    assert_eq!(files_listed(&app, "filter[sizeTo]=3").await, vec![b64_id]);
    assert_eq!(files_listed(&app, "filter[type][]=text/csv").await, vec![csv_id]);
    assert_eq!(files_listed(&app, "filter[sites][]=default").await, vec![note_id, csv_id]);
    assert_eq!(
        files_listed(&app, &format!("filter[ids][]={raw_id}&filter[ids][]={csv_id}")).await,
        vec![csv_id, raw_id]
    );
    let (_, b) = app.get("/api/v5/files?limit=20&page=1").await;
    assert_eq!(b["pagination"]["totalCount"], 4);

    // Edit: rename, attach to the customer instead.
    let edit = json!({"id": raw_id, "filename": "act.pdf", "attachment": [{"customer": {"id": customer_id}}]});
    let (s, b) = app.post(&format!("/api/v5/files/{raw_id}/edit"), &[("file", &edit.to_string())]).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["file"]["filename"], "act.pdf");
    assert_eq!(
        b["file"]["attachment"],
        json!([{"customer": {"id": customer_id, "externalId": "f-c1", "site": "default"}}])
    );
    assert_eq!(files_listed(&app, "filter[customerExternalIds][]=f-c1").await, vec![raw_id]);
    assert_eq!(files_listed(&app, &format!("filter[customerIds][]={customer_id}")).await, vec![raw_id]);
    // The order and customer lists' `attachments` filter reads the attachments.
    let ids = |b: &Value, key: &str| -> Vec<i64> {
        b[key].as_array().unwrap().iter().map(|x| x["id"].as_i64().unwrap()).collect()
    };
    let (_, b) = app.get("/api/v5/orders?filter[attachments]=1").await;
    assert_eq!(ids(&b, "orders"), vec![order_id]);
    let (_, b) = app.get("/api/v5/orders?filter[attachments]=0").await;
    assert!(ids(&b, "orders").is_empty(), "{b}");
    let (_, b) = app.get("/api/v5/customers?filter[attachments]=1").await;
    assert_eq!(ids(&b, "customers"), vec![customer_id]);
    let (_, b) = app.get("/api/v5/customers?filter[attachments]=0").await;
    assert!(!ids(&b, "customers").contains(&customer_id), "{b}");

    // Errors name the field; nothing half-written.
    let bad = json!({"attachment": [{"order": {"externalId": "nope"}}]});
    let (s, b) = app.post(&format!("/api/v5/files/{raw_id}/edit"), &[("file", &bad.to_string())]).await;
    assert_eq!(s, 400);
    assert!(b["errors"]["file.attachment[0]"].as_str().unwrap().contains("not found"), "{b}");
    let (_, b) = app.get(&format!("/api/v5/files/{raw_id}")).await;
    assert_eq!(b["file"]["attachment"][0]["customer"]["id"], customer_id, "a failed edit changed nothing");
    let (s, b) = app.post(&format!("/api/v5/files/{raw_id}/edit"), &[("file", r#"{"filename": "a/b"}"#)]).await;
    assert_eq!(s, 400);
    assert!(b["errors"]["file.filename"].is_string());
    let (s, _) = app.post("/api/v5/files/99999/edit", &[("file", r#"{"filename": "x"}"#)]).await;
    assert_eq!(s, 404);
    let (s, b) = upload_raw(&app, "", "application/octet-stream", b"").await;
    assert_eq!(s, 400, "{b}");
    let (s, b) = app.post("/api/v5/files/upload", &[("site", "default")]).await;
    assert_eq!((s.as_u16(), b["errorMsg"].as_str()), (400, Some("Parameter 'file' is missing")));
    let bad = json!({"filename": "x.txt", "content": "x", "attachment": [{"customer": {"externalId": "nope"}}]});
    let (s, _) = app.post("/api/v5/files/upload", &[("file", &bad.to_string())]).await;
    assert_eq!(s, 400);
    let (s, _) = app.post("/api/v5/files/upload", &[("file", r#"{"contentBase64": "@@@"}"#)]).await;
    assert_eq!(s, 400);
    assert_eq!(files_listed(&app, "").await.len(), 4, "no failed upload was kept");
    let (s, _) = app.get("/api/v5/files?filter[sizeFrom]=big").await;
    assert_eq!(s, 400);
    assert_eq!(app.get("/api/v5/files/0").await.0, 404);
    assert_eq!(app.get("/api/v5/files/abc").await.0, 404);

    // A key limited to another site sees files without a site only, and cannot reach this one's.
    app.add_site("other").await;
    let limited = app.key_with(&["file_read", "file_write"], &["other"]).await;
    let (_, b) = app.get_as(&limited, "/api/v5/files").await;
    let seen: Vec<i64> = b["files"].as_array().unwrap().iter().map(|f| f["id"].as_i64().unwrap()).collect();
    assert_eq!(seen, vec![b64_id, raw_id]);
    assert_eq!(b["pagination"]["totalCount"], 2, "the files of no site only: {b}");
    assert_eq!(app.get_as(&limited, &format!("/api/v5/files/{note_id}")).await.0, 404);
    assert_eq!(app.post_as(&limited, &format!("/api/v5/files/{note_id}/delete"), &[]).await.0, 404);
    let reader = app.key_with(&["file_read"], &[]).await;
    assert_eq!(app.post_as(&reader, &format!("/api/v5/files/{raw_id}/delete"), &[]).await.0, 403);

    // Delete.
    let (s, b) = app.post(&format!("/api/v5/files/{raw_id}/delete"), &[]).await;
    assert_eq!((s.as_u16(), &b), (200, &json!({"success": true})));
    assert_eq!(app.get(&format!("/api/v5/files/{raw_id}")).await.0, 404);
    assert_eq!(app.get("/api/v5/files").await.1["pagination"]["totalCount"], 3, "one fewer");
    let r = app
        .client
        .get(format!("{}/api/v5/files/{raw_id}/download", app.base))
        .header("X-API-KEY", &app.key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(app.post(&format!("/api/v5/files/{raw_id}/delete"), &[]).await.0, 404);
});

both!(the_size_limit_holds, |c: &mut torg_http::HttpConfig| c.file_limit = 10, |app: TestApp| async move {
    let (s, _) = upload_raw(&app, "?filename=a.txt", "text/plain", b"0123456789").await;
    assert_eq!(s, 200);
    let (s, b) = upload_raw(&app, "?filename=b.txt", "text/plain", b"0123456789X").await;
    assert_eq!(s, 400, "{b}");
    assert!(b["errors"]["file"].as_str().unwrap().contains("too large"), "{b}");
    let (s, b) = app.get("/api/v5/files").await;
    assert_eq!((s.as_u16(), b["pagination"]["totalCount"].as_i64()), (200, Some(1)));
});

both!(unfiltered_file_lists_count_from_the_counters, |app: TestApp| async move {
    for name in ["count.pdf", "other.txt"] {
        let (s, b) = upload_raw(&app, &format!("?filename={name}"), "application/octet-stream", b"bytes").await;
        assert_eq!(s, 200, "{b}");
    }
    let (all, filtered) = ("/api/v5/files", "/api/v5/files?filter[filename]=count");
    assert_eq!((app.total_count(all).await, app.total_count(filtered).await), (2, 1));
    // The unfiltered total is the counters' (of the key's sites and of no site), moved by hand here.
    add_to_counter(&app, "files", "", 1000).await;
    assert_eq!((app.total_count(all).await, app.total_count(filtered).await), (1002, 1));
});
