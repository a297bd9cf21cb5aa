//! Tasks (`tasks`) and costs (`costs`) through the CRM face, on both engines: the wire shapes of
//! RetailCRM's clients, every filter, history and comments, deletes and uploads, the errors, and what
//! keys limited to a site or a scope see.

use crate::common::{Reply, TestApp, add_to_counter, both};
use serde_json::{Value, json};
use torg_domain::history::Actor;
use torg_domain::telephony::{User, UserGroup};

/// A user; returns its id.
async fn user(app: &TestApp, first: &str) -> i64 {
    let u = User { first_name: first.into(), last_name: "Test".into(), active: true, ..Default::default() };
    app.store.create_user(&u).await.expect("a user").id
}

/// An order on `site` with this external id and customer name; (id, number).
async fn order(app: &TestApp, ext: &str, name: &str, site: &str) -> (i64, String) {
    let o = json!({"externalId": ext, "firstName": name, "email": format!("{ext}@example.com")});
    let (s, b) = app.post("/api/v5/orders/create", &[("order", &o.to_string()), ("site", site)]).await;
    assert_eq!(s, 201, "{b}");
    (b["id"].as_i64().unwrap(), b["order"]["number"].as_str().unwrap().to_string())
}

/// A customer on `site`; its id.
async fn customer(app: &TestApp, ext: &str, name: &str, site: &str) -> i64 {
    let c = json!({"externalId": ext, "firstName": name, "phones": [{"number": "+7 999 123-45-67"}]});
    let (s, b) = app.post("/api/v5/customers/create", &[("customer", &c.to_string()), ("site", site)]).await;
    assert_eq!(s, 201, "{b}");
    b["id"].as_i64().unwrap()
}

async fn create_task(app: &TestApp, task: Value, site: Option<&str>) -> Reply {
    let doc = task.to_string();
    let mut form = vec![("task", doc.as_str())];
    if let Some(s) = site {
        form.push(("site", s));
    }
    app.post("/api/v5/tasks/create", &form).await
}

async fn task_id(app: &TestApp, task: Value) -> i64 {
    let (s, b) = create_task(app, task, None).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["success"], true);
    b["id"].as_i64().unwrap()
}

/// Ids of the tasks a list query finds, in the order listed.
async fn tasks_listed(app: &TestApp, query: &str) -> Vec<i64> {
    let (s, b) = app.get(&format!("/api/v5/tasks?{query}")).await;
    assert_eq!(s, 200, "{query}: {b}");
    b["tasks"].as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()).collect()
}

/// Ids of the costs a list query finds, in the order listed.
async fn costs_listed(app: &TestApp, query: &str) -> Vec<i64> {
    let (s, b) = app.get(&format!("/api/v5/costs?{query}")).await;
    assert_eq!(s, 200, "{query}: {b}");
    b["costs"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect()
}

async fn create_cost(app: &TestApp, cost: Value, site: Option<&str>) -> Reply {
    let doc = cost.to_string();
    let mut form = vec![("cost", doc.as_str())];
    if let Some(s) = site {
        form.push(("site", s));
    }
    app.post("/api/v5/costs/create", &form).await
}

async fn cost_id(app: &TestApp, cost: Value, site: Option<&str>) -> i64 {
    let (s, b) = create_cost(app, cost, site).await;
    assert_eq!(s, 201, "{b}");
    b["id"].as_i64().unwrap()
}

/// The one error a 400 names.
fn error_of(b: &Value, field: &str) -> String {
    b["errors"][field].as_str().unwrap_or_else(|| panic!("no error at {field}: {b}")).to_string()
}

both!(tasks_are_created_read_edited_and_listed, |app: TestApp| async move {
    let mira = user(&app, "Mira").await;
    let oleg = user(&app, "Oleg").await;
    let (order_id, number) = order(&app, "t-o1", "Семён", "default").await;
    let customer_id = customer(&app, "t-c1", "Зинаида", "default").await;

    let a = task_id(
        &app,
        json!({"text": "Позвонить КЛИЕНТУ", "commentary": "про доставку", "performerId": mira,
               "datetime": "2030-05-01 10:30", "order": {"externalId": "t-o1"}}),
    )
    .await;
    let b = task_id(
        &app,
        json!({"text": "Send the invoice", "performerId": oleg, "customer": {"id": customer_id},
               "phone": "+79990001122", "phoneSite": "default", "datetime": "2030-06-01 09:00"}),
    )
    .await;
    let c = task_id(&app, json!({"text": "Plan the week", "performerId": mira, "complete": true})).await;

    let (s, body) = app.get(&format!("/api/v5/tasks/{a}")).await;
    assert_eq!(s, 200, "{body}");
    let t = &body["task"];
    assert_eq!(t["id"], a);
    assert_eq!(t["text"], "Позвонить КЛИЕНТУ");
    assert_eq!(t["commentary"], "про доставку");
    assert_eq!(t["datetime"], "2030-05-01 10:30");
    assert_eq!((t["complete"].as_bool(), t["performer"].as_i64()), (Some(false), Some(mira)));
    assert_eq!(t["performerType"], "user");
    assert_eq!(t["order"], json!({"id": order_id, "number": number, "externalId": "t-o1", "site": "default"}));
    assert!(t.get("customer").is_none() && t.get("completedAt").is_none() && t.get("creator").is_none(), "{t}");
    assert_eq!(t["createdAt"].as_str().map(str::len), Some(19), "{t}");
    let (_, body) = app.get(&format!("/api/v5/tasks/{b}")).await;
    assert_eq!(
        body["task"]["customer"],
        json!({"type": "customer", "id": customer_id, "externalId": "t-c1", "site": "default"})
    );
    assert_eq!(
        (body["task"]["phone"].as_str(), body["task"]["phoneSite"].as_str()),
        (Some("+79990001122"), Some("default"))
    );
    let (_, body) = app.get(&format!("/api/v5/tasks/{c}")).await;
    assert_eq!(body["task"]["complete"], true);
    assert_eq!(body["task"]["completedAt"].as_str().map(str::len), Some(19));

    // Edit: only the given members change (Go and Python send the id inside; it is ignored).
    let edit = json!({"id": a, "text": "Позвонить клиенту ещё раз", "complete": true});
    let (s, body) = app.post(&format!("/api/v5/tasks/{a}/edit"), &[("task", &edit.to_string())]).await;
    assert_eq!((s.as_u16(), body), (200, json!({"success": true})));
    let (_, body) = app.get(&format!("/api/v5/tasks/{a}")).await;
    let t = &body["task"];
    assert_eq!(
        (t["text"].as_str(), t["commentary"].as_str()),
        (Some("Позвонить клиенту ещё раз"), Some("про доставку"))
    );
    assert_eq!(t["complete"], true);
    assert!(t["completedAt"].is_string());
    // Linking a customer unlinks the order; null clears.
    let edit = json!({"customer": {"externalId": "t-c1"}, "commentary": null, "complete": false});
    let (s, body) =
        app.post(&format!("/api/v5/tasks/{a}/edit"), &[("task", &edit.to_string()), ("site", "default")]).await;
    assert_eq!(s, 200, "{body}");
    let (_, body) = app.get(&format!("/api/v5/tasks/{a}")).await;
    let t = &body["task"];
    assert!(t.get("order").is_none() && t.get("commentary").is_none() && t.get("completedAt").is_none(), "{t}");
    assert_eq!(t["customer"]["id"], customer_id);
    // Put the order back for the filters below.
    let edit = json!({"order": {"id": order_id}});
    let (s, body) = app.post(&format!("/api/v5/tasks/{a}/edit"), &[("task", &edit.to_string())]).await;
    assert_eq!(s, 200, "{body}");

    let (s, body) = app.get("/api/v5/tasks").await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["pagination"], json!({"limit": 20, "totalCount": 3, "currentPage": 1, "totalPageCount": 1}));
    assert_eq!(tasks_listed(&app, "").await, vec![c, b, a], "newest first");
    assert_eq!(tasks_listed(&app, "limit=20&page=2").await, Vec::<i64>::new());
    for (query, expected) in [
        (format!("filter[ids][]={a}&filter[ids][]={c}"), vec![c, a]),
        (format!("filter[performers][]={oleg}"), vec![b]),
        (format!("filter[performers][]={mira}&filter[performers][]={oleg}"), vec![c, b, a]),
        ("filter[performerType]=user".into(), vec![c, b, a]),
        ("filter[performerType]=group".into(), vec![]),
        ("filter[creators][]=1".into(), vec![]),
        ("filter[status]=completed".into(), vec![c]),
        ("filter[status]=performing".into(), vec![b, a]),
        ("filter[text]=ЕЩЁ РАЗ".into(), vec![a]),
        ("filter[text]=invoice".into(), vec![b]),
        (format!("filter[orderNumber]={number}"), vec![a]),
        ("filter[customer]=зинаида".into(), vec![b]),
        ("filter[customer]=семён".into(), vec![a]),
        ("filter[dateFrom]=2030-05-01 10:30".into(), vec![b, a]),
        ("filter[dateFrom]=2030-05-01 10:31".into(), vec![b]),
        ("filter[dateTo]=2030-05-01".into(), vec![a]),
        ("filter[dateFrom]=2030-05-02&filter[dateTo]=2030-06-01 09:00:00".into(), vec![b]),
        ("filter[createdAtFrom]=2000-01-01".into(), vec![c, b, a]),
        ("filter[createdAtTo]=2000-01-01".into(), vec![]),
        ("filter[completedAtFrom]=2000-01-01".into(), vec![c]),
        ("filter[completedAtTo]=2000-01-01".into(), vec![]),
    ] {
        assert_eq!(tasks_listed(&app, &query).await, expected, "{query}");
    }
    let (s, body) = app.get("/api/v5/tasks?limit=20&page=1&filter=None").await;
    assert_eq!((s.as_u16(), body["tasks"].as_array().map(Vec::len)), (200, Some(3)));

    // A task for a user group.
    let group = UserGroup { code: "sales".into(), name: "Sales".into(), ..Default::default() };
    let group_id = app.store.put_user_group(&group).await.expect("a group");
    let g = task_id(&app, json!({"text": "For the team", "performerId": group_id, "performerType": "group"})).await;
    assert_eq!(tasks_listed(&app, "filter[performerType]=group").await, vec![g]);
    let (_, body) = app.get(&format!("/api/v5/tasks/{g}")).await;
    assert_eq!(
        (body["task"]["performer"].as_i64(), body["task"]["performerType"].as_str()),
        (Some(group_id), Some("group"))
    );
});

both!(task_errors_and_access, |app: TestApp| async move {
    let mira = user(&app, "Mira").await;
    app.add_site("other").await;
    order(&app, "te-o1", "Ann", "other").await;
    customer(&app, "te-c1", "Bob", "default").await;
    let (s, body) = app.post("/api/v5/tasks/create", &[]).await;
    assert_eq!((s.as_u16(), body["errorMsg"].as_str()), (400, Some("Parameter 'task' is missing")));
    for (task, field, message) in [
        (json!({"performerId": mira}), "task.text", "This value should not be blank."),
        (json!({"text": "x"}), "task.performerId", "This value should not be blank."),
        (json!({"text": "x", "performerId": 999_999}), "task.performerId", "User with id 999999 not found."),
        (
            json!({"text": "x", "performerId": 999_999, "performerType": "group"}),
            "task.performerId",
            "User group with id 999999 not found.",
        ),
        (json!({"text": "x", "performerId": "abc"}), "task.performerId", "This value should be a positive integer."),
        (
            json!({"text": "x", "performerId": mira, "datetime": "01.05.2030"}),
            "task.datetime",
            "This value is not a valid datetime (expected Y-m-d H:i).",
        ),
        (
            json!({"text": "x", "performerId": mira, "order": {"externalId": "nope"}}),
            "task.order",
            "Order with externalId=nope not found.",
        ),
        (
            json!({"text": "x", "performerId": mira, "customer": {"id": 999_999}}),
            "task.customer",
            "Customer with id=999999 not found.",
        ),
        (
            json!({"text": "x", "performerId": mira, "order": {"id": 1}, "customer": {"id": 1}}),
            "task.customer",
            "A task is about an order or a customer, not both.",
        ),
        (
            json!({"text": "x", "performerId": mira, "phoneSite": "nowhere"}),
            "task.phoneSite",
            "Site 'nowhere' not found.",
        ),
        (
            json!({"text": "x", "performerId": mira, "complete": "maybe"}),
            "task.complete",
            "This value should be of type boolean.",
        ),
    ] {
        let (s, body) = create_task(&app, task.clone(), None).await;
        assert_eq!(
            (s.as_u16(), body["errorMsg"].as_str()),
            (400, Some("Errors in the entity format")),
            "{task}: {body}"
        );
        assert_eq!(error_of(&body, field), message, "{task}");
    }
    let (s, body) = app.post("/api/v5/tasks/create", &[("task", "{not json")]).await;
    assert_eq!(s, 400, "{body}");
    // An external id is looked up on `site`.
    let (s, body) =
        create_task(&app, json!({"text": "x", "performerId": mira, "order": {"externalId": "te-o1"}}), Some("default"))
            .await;
    assert_eq!((s.as_u16(), error_of(&body, "task.order")), (400, "Order with externalId=te-o1 not found.".into()));
    let (s, body) =
        create_task(&app, json!({"text": "x", "performerId": mira, "order": {"externalId": "te-o1"}}), Some("other"))
            .await;
    assert_eq!(s, 201, "{body}");
    let on_other = body["id"].as_i64().unwrap();
    let free = task_id(&app, json!({"text": "about nothing", "performerId": mira})).await;
    let on_default =
        task_id(&app, json!({"text": "about Bob", "performerId": mira, "customer": {"externalId": "te-c1"}})).await;

    for path in ["/api/v5/tasks/999999", "/api/v5/tasks/abc", "/api/v5/tasks/999999/comments"] {
        let (s, body) = app.get(path).await;
        assert_eq!((s.as_u16(), body), (404, json!({"success": false, "errorMsg": "Not found"})), "{path}");
    }
    let (s, body) = app.post("/api/v5/tasks/999999/edit", &[("task", r#"{"text": "y"}"#)]).await;
    assert_eq!((s.as_u16(), body["errorMsg"].as_str()), (404, Some("Not found")));
    let (s, body) = app.post(&format!("/api/v5/tasks/{free}/edit"), &[("task", r#"{"text": ""}"#)]).await;
    assert_eq!((s.as_u16(), error_of(&body, "task.text")), (400, "This value should not be blank.".into()));
    let (s, body) = app.get("/api/v5/tasks?filter[status]=done").await;
    assert_eq!((s.as_u16(), body["errorMsg"].as_str()), (400, Some("Errors in the input parameters")));
    assert!(body["errors"]["filter[status]"].is_string(), "{body}");
    let (s, body) = app.get("/api/v5/tasks?filter[performers][]=x").await;
    assert_eq!((s.as_u16(), body["errors"]["filter[performers]"].is_string()), (400, true), "{body}");
    let (s, body) = app.get("/api/v5/tasks?filter[dateFrom]=soon").await;
    assert_eq!(s, 400, "{body}");
    let (s, _) = app.get("/api/v5/tasks?limit=7").await;
    assert_eq!(s, 400);

    // Scopes and sites.
    let reader = app.key_with(&["task_read"], &["default"]).await;
    let (s, body) = app.get_as(&reader, "/api/v5/tasks").await;
    assert_eq!(s, 200, "{body}");
    let mut seen: Vec<i64> = body["tasks"].as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()).collect();
    seen.sort_unstable();
    assert_eq!(seen, vec![free, on_default], "a key on `default` sees tasks about nothing and about `default`");
    let (s, _) = app.get_as(&reader, &format!("/api/v5/tasks/{on_other}")).await;
    assert_eq!(s, 404);
    let (s, body) = app.post_as(&reader, "/api/v5/tasks/create", &[("task", r#"{"text": "x"}"#)]).await;
    assert_eq!((s.as_u16(), body["errorMsg"].as_str()), (403, Some("Access denied.")));
    let writer = app.key_with(&["task_write", "task_read"], &["default"]).await;
    let doc = json!({"text": "x", "performerId": mira, "order": {"externalId": "te-o1"}}).to_string();
    let (s, _) = app.post_as(&writer, "/api/v5/tasks/create", &[("task", &doc), ("site", "other")]).await;
    assert_eq!(s, 403, "a site the key does not reach");
    let (s, body) = app.post_as(&writer, "/api/v5/tasks/create", &[("task", &doc)]).await;
    assert_eq!((s.as_u16(), error_of(&body, "task.order")), (400, "Order with externalId=te-o1 not found.".into()));
    let (s, _) = app.post_as(&writer, &format!("/api/v5/tasks/{on_other}/edit"), &[("task", r#"{"text": "y"}"#)]).await;
    assert_eq!(s, 404);
    let costs_only = app.key_with(&["cost_read"], &[]).await;
    let (s, _) = app.get_as(&costs_only, "/api/v5/tasks").await;
    assert_eq!(s, 403);
});

both!(task_history_and_comments, |app: TestApp| async move {
    let mira = user(&app, "Mira").await;
    let oleg = user(&app, "Oleg").await;
    let a = task_id(&app, json!({"text": "First", "performerId": mira})).await;
    let b = task_id(&app, json!({"text": "Second", "performerId": mira})).await;
    let edit = json!({"text": "First, changed", "performerId": oleg, "datetime": "2030-01-02 03:04"});
    let (s, body) = app.post(&format!("/api/v5/tasks/{a}/edit"), &[("task", &edit.to_string())]).await;
    assert_eq!(s, 200, "{body}");
    // An edit that changes nothing leaves no record.
    let (s, _) = app.post(&format!("/api/v5/tasks/{a}/edit"), &[("task", &edit.to_string())]).await;
    assert_eq!(s, 200);
    let sites = vec!["default".to_string()];
    let first = app.store.add_task_comment(a, Actor::User(Some(mira)), "Called, no answer", &sites).await.unwrap();
    let second = app.store.add_task_comment(a, Actor::User(Some(oleg)), "Called again", &sites).await.unwrap();

    let (s, body) = app.get("/api/v5/tasks/history").await;
    assert_eq!(s, 200, "{body}");
    assert!(body["generatedAt"].is_string());
    let h = body["history"].as_array().unwrap();
    let fields: Vec<(i64, &str)> =
        h.iter().map(|r| (r["task"]["id"].as_i64().unwrap(), r["field"].as_str().unwrap())).collect();
    assert_eq!(
        fields,
        vec![(a, "id"), (b, "id"), (a, "text"), (a, "datetime"), (a, "performer"), (a, "comment"), (a, "comment")]
    );
    let ids: Vec<i64> = h.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids ascend: {ids:?}");
    assert_eq!(body["pagination"]["totalCount"], 7);
    let created = &h[0];
    assert_eq!((created["created"].as_bool(), created["source"].as_str()), (Some(true), Some("api")));
    assert_eq!((created["oldValue"].clone(), created["newValue"].clone()), (Value::Null, json!(a)));
    assert_eq!(created["apiKey"], json!({"current": true}));
    assert_eq!(created["task"]["text"], "First");
    let text = &h[2];
    assert!(text.get("created").is_none());
    assert_eq!((text["oldValue"].as_str(), text["newValue"].as_str()), (Some("First"), Some("First, changed")));
    assert_eq!(text["task"]["performer"], oleg, "the task as it was after the change");
    assert_eq!((h[4]["oldValue"].as_i64(), h[4]["newValue"].as_i64()), (Some(mira), Some(oleg)));
    let comment = &h[5];
    assert_eq!(comment["comment"], json!({"id": first.id, "text": "Called, no answer"}));
    assert_eq!((comment["source"].as_str(), comment["user"]["id"].as_i64()), (Some("user"), Some(mira)));
    assert!(comment.get("apiKey").is_none());

    let since = ids[2];
    let (_, body) = app.get(&format!("/api/v5/tasks/history?filter[sinceId]={since}")).await;
    assert_eq!(body["history"].as_array().unwrap().len(), 4);
    let (_, body) = app.get(&format!("/api/v5/tasks/history?filter[taskId]={b}")).await;
    assert_eq!(body["history"].as_array().unwrap().len(), 1);
    let (_, body) = app.get(&format!("/api/v5/tasks/history?filter[taskIds][]={b}&filter[taskIds][]={a}")).await;
    assert_eq!(body["history"].as_array().unwrap().len(), 7);
    let (_, body) = app.get("/api/v5/tasks/history?filter[startDate]=2000-01-01&filter[endDate]=2000-01-02").await;
    assert_eq!(body["history"].as_array().unwrap().len(), 0);
    let (_, body) = app.get("/api/v5/tasks/history?filter[startDate]=2000-01-01&limit=20&page=1").await;
    assert_eq!(body["history"].as_array().unwrap().len(), 7);
    let (s, body) = app.get("/api/v5/tasks/history?filter[sinceId]=x").await;
    assert_eq!((s.as_u16(), body["errorMsg"].as_str()), (400, Some("Errors in the input parameters")));

    let (s, body) = app.get(&format!("/api/v5/tasks/{a}/comments")).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["pagination"]["totalCount"], 2);
    let c = body["comments"].as_array().unwrap();
    assert_eq!(c[0]["id"], second.id, "newest first");
    assert_eq!((c[0]["creator"].as_i64(), c[0]["text"].as_str()), (Some(oleg), Some("Called again")));
    assert!(c[0]["createdAt"].is_string() && c[0]["updatedAt"].is_string());
    let (_, body) = app.get(&format!("/api/v5/tasks/{b}/comments?limit=50")).await;
    assert_eq!(body["comments"], json!([]));

    // A key on another site sees neither a task about `default` nor its history or comments.
    let c_id = customer(&app, "th-c1", "Dora", "default").await;
    let about = task_id(&app, json!({"text": "About Dora", "performerId": mira, "customer": {"id": c_id}})).await;
    app.add_site("other").await;
    let other = app.key_with(&["task_read"], &["other"]).await;
    let (_, body) = app.get_as(&other, "/api/v5/tasks/history").await;
    let seen: Vec<i64> =
        body["history"].as_array().unwrap().iter().map(|r| r["task"]["id"].as_i64().unwrap()).collect();
    assert!(!seen.contains(&about) && seen.contains(&a), "{seen:?}");
    let (s, _) = app.get_as(&other, &format!("/api/v5/tasks/{about}/comments")).await;
    assert_eq!(s, 404);
});

both!(costs_are_created_read_edited_listed_and_deleted, |app: TestApp| async move {
    let mira = user(&app, "Mira").await;
    app.add_site("other").await;
    let (order_id, number) = order(&app, "c-o1", "Ann", "default").await;
    // Reference data: a cost item for orders (the default `delivery-cost`), one for users.
    let item = json!({"code": "salary", "name": "Salary", "group": "commission", "appliesToUsers": true});
    let (s, body) = app.post("/api/v5/reference/cost-items/salary/edit", &[("costItem", &item.to_string())]).await;
    assert!(s.is_success(), "{body}");

    let a = cost_id(
        &app,
        json!({"dateFrom": "2030-03-01", "dateTo": "2030-03-01", "summ": 350.5, "costItem": "delivery-cost",
               "order": {"externalId": "c-o1"}, "comment": "Курьер СДЭК",
               "source": {"source": "yandex", "medium": "cpc", "campaign": "spring"}}),
        Some("default"),
    )
    .await;
    let b = cost_id(
        &app,
        json!({"dateFrom": "2030-03-01", "dateTo": "2030-03-31", "summ": "60000", "costItem": "salary", "userId": mira,
               "sites": ["other"]}),
        None,
    )
    .await;
    let c = cost_id(
        &app,
        json!({"dateFrom": "2030-04-01", "dateTo": "2030-04-02", "summ": 10, "costItem": "payment-commission"}),
        None,
    )
    .await;

    let (s, body) = app.get(&format!("/api/v5/costs/{a}")).await;
    assert_eq!(s, 200, "{body}");
    let cost = &body["cost"];
    assert_eq!(cost["id"], a);
    assert_eq!((cost["dateFrom"].as_str(), cost["dateTo"].as_str()), (Some("2030-03-01"), Some("2030-03-01")));
    assert_eq!(cost["summ"], json!(350.5));
    assert_eq!(cost["costItem"], "delivery-cost");
    assert_eq!(cost["comment"], "Курьер СДЭК");
    assert_eq!(cost["order"], json!({"id": order_id, "number": number, "externalId": "c-o1"}));
    assert_eq!(cost["sites"], json!(["default"]), "an order's cost is on the order's site");
    assert_eq!(cost["source"], json!({"source": "yandex", "medium": "cpc", "campaign": "spring"}));
    assert_eq!(cost["createdAt"].as_str().map(str::len), Some(19));
    assert!(cost.get("createdBy").is_none() && cost.get("userId").is_none(), "{cost}");
    let (_, body) = app.get(&format!("/api/v5/costs/{b}")).await;
    assert_eq!((body["cost"]["userId"].as_i64(), body["cost"]["sites"].clone()), (Some(mira), json!(["other"])));
    assert_eq!(body["cost"]["summ"], json!(60000));
    let (_, body) = app.get(&format!("/api/v5/costs/{c}")).await;
    assert_eq!(body["cost"]["sites"], json!(["default", "other"]), "no site given: every site the key reaches");

    let (s, body) = app.get("/api/v5/costs").await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["pagination"]["totalCount"], 3);
    assert_eq!(costs_listed(&app, "").await, vec![c, b, a], "newest first");
    for (query, expected) in [
        (format!("filter[ids][]={a}&filter[ids][]={b}"), vec![b, a]),
        ("filter[sites][]=other".into(), vec![c, b]),
        ("filter[sites][]=default".into(), vec![c, a]),
        (format!("filter[orderIds][]={order_id}"), vec![a]),
        ("filter[orderExternalIds][]=c-o1".into(), vec![a]),
        (format!("filter[orderNumber]={number}"), vec![a]),
        ("filter[costItems][]=salary&filter[costItems][]=payment-commission".into(), vec![c, b]),
        ("filter[costGroups][]=delivery".into(), vec![a]),
        ("filter[costGroups][]=commission".into(), vec![c, b]),
        ("filter[costGroups][]=nothing".into(), vec![]),
        (format!("filter[users][]={mira}"), vec![b]),
        ("filter[createdBy][]=1".into(), vec![]),
        ("filter[dateFrom]=2030-03-01".into(), vec![c, b, a]),
        ("filter[dateFrom]=2030-03-02".into(), vec![c]),
        ("filter[dateTo]=2030-03-31".into(), vec![b, a]),
        ("filter[dateFrom][]=2030-03-01&filter[dateTo][]=2030-03-30".into(), vec![a]),
        ("filter[createdAtFrom]=2000-01-01".into(), vec![c, b, a]),
        ("filter[createdAtTo]=2000-01-01".into(), vec![]),
        ("filter[minSumm]=350.5".into(), vec![b, a]),
        ("filter[maxSumm]=350,5".into(), vec![c, a]),
        ("filter[minSumm]=11&filter[maxSumm]=1000".into(), vec![a]),
        ("filter[comment]=сдэк".into(), vec![a]),
    ] {
        assert_eq!(costs_listed(&app, &query).await, expected, "{query}");
    }
    let (_, body) = app.get("/api/v5/costs?limit=20&page=2").await;
    assert_eq!((body["costs"].clone(), body["pagination"]["currentPage"].as_i64()), (json!([]), Some(2)));

    // Edit: the given members change; answers the id.
    let edit = json!({"id": a, "summ": 400, "comment": null, "dateTo": "2030-03-05"});
    let (s, body) = app.post(&format!("/api/v5/costs/{a}/edit"), &[("cost", &edit.to_string())]).await;
    assert_eq!((s.as_u16(), body), (200, json!({"success": true, "id": a})));
    let (_, body) = app.get(&format!("/api/v5/costs/{a}")).await;
    let cost = &body["cost"];
    assert_eq!((cost["summ"].clone(), cost["dateTo"].as_str()), (json!(400), Some("2030-03-05")));
    assert!(cost.get("comment").is_none() && cost["order"]["id"] == order_id, "{cost}");
    let edit = json!({"order": null, "sites": ["other", "default"]});
    let (s, body) = app.post(&format!("/api/v5/costs/{a}/edit"), &[("cost", &edit.to_string())]).await;
    assert_eq!(s, 200, "{body}");
    let (_, body) = app.get(&format!("/api/v5/costs/{a}")).await;
    assert!(body["cost"].get("order").is_none());
    assert_eq!(body["cost"]["sites"], json!(["default", "other"]));

    // A key on `default` sees costs with that site.
    let reader = app.key_with(&["cost_read"], &["default"]).await;
    let (_, body) = app.get_as(&reader, "/api/v5/costs").await;
    let seen: Vec<i64> = body["costs"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
    assert_eq!(seen, vec![c, a]);
    let (s, _) = app.get_as(&reader, &format!("/api/v5/costs/{b}")).await;
    assert_eq!(s, 404);
    let (s, _) = app.get_as(&reader, "/api/v5/costs?filter[sites][]=other").await;
    assert_eq!(s, 403, "a filter naming a site the key does not reach");
    let (s, _) = app.post_as(&reader, &format!("/api/v5/costs/{a}/delete"), &[]).await;
    assert_eq!(s, 403, "cost_write is needed");

    // Deletes.
    let (s, body) = app.post(&format!("/api/v5/costs/{c}/delete"), &[]).await;
    assert_eq!((s.as_u16(), body), (200, json!({"success": true})));
    let (s, body) = app.post(&format!("/api/v5/costs/{c}/delete"), &[]).await;
    assert_eq!((s.as_u16(), body["errorMsg"].as_str()), (404, Some("Not found")));
    let (s, _) = app.get(&format!("/api/v5/costs/{c}")).await;
    assert_eq!(s, 404);
    let ids = json!([a, 999_999, c]).to_string();
    let (s, body) = app.post("/api/v5/costs/delete", &[("ids", &ids)]).await;
    assert_eq!((s.as_u16(), body), (200, json!({"success": true, "count": 1, "notRemovedIds": [999_999, c]})));
    // PHP sends the ids as a bracket list.
    let (s, body) = app.post("/api/v5/costs/delete", &[("ids[0]", &b.to_string()), ("ids[1]", "5")]).await;
    assert_eq!((s.as_u16(), body), (200, json!({"success": true, "count": 1, "notRemovedIds": [5]})));
    assert_eq!(costs_listed(&app, "").await, Vec::<i64>::new());
    let (s, body) = app.post("/api/v5/costs/delete", &[]).await;
    assert_eq!((s.as_u16(), body["errorMsg"].as_str()), (400, Some("Parameter 'ids' is missing")));
    let (s, body) = app.post("/api/v5/costs/delete", &[("ids", r#"[1, "x"]"#)]).await;
    assert_eq!((s.as_u16(), error_of(&body, "ids[1]")), (400, "This value should be of type integer.".into()));
    let (s, body) = app.post("/api/v5/costs/delete", &[("ids", "[]")]).await;
    assert_eq!(s, 400, "{body}");
});

both!(cost_errors_and_uploads, |app: TestApp| async move {
    let mira = user(&app, "Mira").await;
    order(&app, "ce-o1", "Ann", "default").await;
    let (s, body) = app.post("/api/v5/costs/create", &[]).await;
    assert_eq!((s.as_u16(), body["errorMsg"].as_str()), (400, Some("Parameter 'cost' is missing")));
    let good = json!({"dateFrom": "2030-01-01", "dateTo": "2030-01-31", "summ": 5, "costItem": "payment-commission"});
    let with = |patch: Value| {
        let mut c = good.clone();
        for (k, v) in patch.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    for (cost, field, message) in [
        (json!({"summ": 5, "costItem": "delivery-cost"}), "cost.dateFrom", "This value should not be blank."),
        (with(json!({"dateFrom": "2030/01/01"})), "cost.dateFrom", "This value is not a valid date (expected Y-m-d)."),
        (with(json!({"dateTo": "2029-12-31"})), "cost.dateTo", "The period may not end before it starts."),
        (with(json!({"summ": -1})), "cost.summ", "This value should be between 0 and 900000000000000."),
        (with(json!({"summ": "a lot"})), "cost.summ", "This value should be a number."),
        (with(json!({"costItem": "nope"})), "cost.costItem", "Cost item 'nope' not found."),
        (with(json!({"costItem": ""})), "cost.costItem", "This value should not be blank."),
        (with(json!({"order": {"number": "nope"}})), "cost.order", "Order with number=nope not found."),
        (with(json!({"userId": 999_999})), "cost.userId", "User with id 999999 not found."),
        (with(json!({"userId": mira})), "cost.userId", "Cost item 'payment-commission' does not apply to users."),
        (with(json!({"sites": ["nowhere"]})), "cost.sites", "Site 'nowhere' not found."),
        (with(json!({"source": "ads"})), "cost.source", "This value should be an object."),
    ] {
        let (s, body) = create_cost(&app, cost.clone(), None).await;
        assert_eq!(
            (s.as_u16(), body["errorMsg"].as_str()),
            (400, Some("Errors in the entity format")),
            "{cost}: {body}"
        );
        assert_eq!(error_of(&body, field), message, "{cost}");
    }
    let item = json!({"code": "rent", "name": "Rent", "group": "delivery"});
    let (s, body) = app.post("/api/v5/reference/cost-items/rent/edit", &[("costItem", &item.to_string())]).await;
    assert!(s.is_success(), "{body}");
    let (s, body) = create_cost(&app, with(json!({"costItem": "rent", "order": {"externalId": "ce-o1"}})), None).await;
    assert_eq!(
        (s.as_u16(), error_of(&body, "cost.order")),
        (400, "Cost item 'rent' does not apply to orders.".into()),
        "{body}"
    );
    let (s, _) = create_cost(&app, good.clone(), Some("nowhere")).await;
    assert_eq!(s, 403, "a site the key does not reach");
    for path in ["/api/v5/costs/999999", "/api/v5/costs/abc"] {
        let (s, body) = app.get(path).await;
        assert_eq!((s.as_u16(), body["errorMsg"].as_str()), (404, Some("Not found")), "{path}");
    }
    let (s, _) = app.post("/api/v5/costs/999999/edit", &[("cost", r#"{"summ": 1}"#)]).await;
    assert_eq!(s, 404);
    let id = cost_id(&app, good.clone(), None).await;
    let (s, body) = app.post(&format!("/api/v5/costs/{id}/edit"), &[("cost", r#"{"dateFrom": "2030-02-01"}"#)]).await;
    assert_eq!((s.as_u16(), error_of(&body, "cost.dateTo")), (400, "The period may not end before it starts.".into()));
    for (query, field) in [
        ("filter[minSumm]=x", "filter[minSumm]"),
        ("filter[ids][]=x", "filter[ids]"),
        ("filter[dateFrom]=x", "filter[dateFrom]"),
    ] {
        let (s, body) = app.get(&format!("/api/v5/costs?{query}")).await;
        assert_eq!((s.as_u16(), body["errors"][field].is_string()), (400, true), "{query}: {body}");
    }

    // Upload: all in.
    let costs = json!([good, with(json!({"summ": 7, "order": {"externalId": "ce-o1"}, "costItem": "delivery-cost"}))]);
    let (s, body) = app.post("/api/v5/costs/upload", &[("costs", &costs.to_string()), ("site", "default")]).await;
    assert_eq!(s, 200, "{body}");
    let uploaded: Vec<i64> = body["uploadedCosts"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
    assert_eq!(uploaded.len(), 2);
    assert_eq!(body.as_object().unwrap().len(), 2, "success and uploadedCosts: {body}");
    let (_, body) = app.get(&format!("/api/v5/costs/{}", uploaded[1])).await;
    assert_eq!(body["cost"]["summ"], json!(7));
    // Some refused: 460, the good ones stay.
    let costs = json!([good, with(json!({"costItem": "nope"})), {"summ": 1}]);
    let (s, body) = app.post("/api/v5/costs/upload", &[("costs", &costs.to_string())]).await;
    assert_eq!((s.as_u16(), body["errorMsg"].as_str()), (460, Some("Costs are loaded with errors")), "{body}");
    assert_eq!(body["success"], false);
    assert_eq!(body["uploadedCosts"].as_array().map(Vec::len), Some(1));
    let errors: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e.as_str().unwrap()).collect();
    assert!(errors.contains(&"costs[1].costItem: Cost item 'nope' not found."), "{errors:?}");
    assert!(errors.iter().any(|e| e.starts_with("costs[2].dateFrom: ")), "{errors:?}");
    assert_eq!(costs_listed(&app, "").await.len(), 4);
    let many: Vec<Value> = (0..51).map(|_| good.clone()).collect();
    let (s, body) = app.post("/api/v5/costs/upload", &[("costs", &json!(many).to_string())]).await;
    assert_eq!((s.as_u16(), body["errorMsg"].as_str()), (400, Some("Errors in the entity format")), "{body}");
    let (s, body) = app.post("/api/v5/costs/upload", &[]).await;
    assert_eq!((s.as_u16(), body["errorMsg"].as_str()), (400, Some("Parameter 'costs' is missing")));
    let no_scope = app.key_with(&["task_read"], &[]).await;
    let (s, _) = app.get_as(&no_scope, "/api/v5/costs").await;
    assert_eq!(s, 403);
});

both!(combining_orders_and_customers_moves_their_tasks_and_costs, |app: TestApp| async move {
    let mira = user(&app, "Mira").await;
    let (keep, _) = order(&app, "cm-keep", "Keep", "default").await;
    let (gone, _) = order(&app, "cm-gone", "Gone", "default").await;
    let t = task_id(&app, json!({"text": "About the gone order", "performerId": mira, "order": {"id": gone}})).await;
    let c = cost_id(
        &app,
        json!({"dateFrom": "2030-01-01", "dateTo": "2030-01-01", "summ": 1, "costItem": "delivery-cost", "order": {"id": gone}}),
        None,
    )
    .await;
    let (s, body) = app
        .post(
            "/api/v5/orders/combine",
            &[("order", &json!({"id": gone}).to_string()), ("resultOrder", &json!({"id": keep}).to_string())],
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let (_, body) = app.get(&format!("/api/v5/tasks/{t}")).await;
    assert_eq!(body["task"]["order"]["id"], keep);
    let (_, body) = app.get(&format!("/api/v5/costs/{c}")).await;
    assert_eq!(body["cost"]["order"]["id"], keep);

    let one = customer(&app, "cm-c1", "One", "default").await;
    let two = customer(&app, "cm-c2", "Two", "default").await;
    let t = task_id(&app, json!({"text": "About two", "performerId": mira, "customer": {"id": two}})).await;
    let (s, body) = app
        .post(
            "/api/v5/customers/combine",
            &[("customers", &json!([{"id": two}]).to_string()), ("resultCustomer", &json!({"id": one}).to_string())],
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let (_, body) = app.get(&format!("/api/v5/tasks/{t}")).await;
    assert_eq!(body["task"]["customer"]["id"], one);
});

/// External ids (sorted) of the orders or customers a list query finds; 200 asserted.
async fn ext_listed(app: &TestApp, entity: &str, query: &str) -> Vec<String> {
    let (s, b) = app.get(&format!("/api/v5/{entity}?limit=100&{query}")).await;
    assert_eq!(s, 200, "{entity}?{query}: {b}");
    let mut ext: Vec<String> =
        b[entity].as_array().unwrap().iter().map(|e| e["externalId"].as_str().unwrap().to_string()).collect();
    ext.sort();
    ext
}

both!(lists_filter_by_tasks_and_costs_and_customers_show_their_costs, |app: TestApp| async move {
    let mira = user(&app, "Mira").await;
    let c1 = customer(&app, "k-c1", "Анна", "default").await;
    let c2 = customer(&app, "k-c2", "Борис", "default").await;
    let c3 = customer(&app, "k-c3", "Вера", "default").await;
    for (ext, c) in [("k-o1", c1), ("k-o2", c1), ("k-o3", c2)] {
        let o = json!({"externalId": ext, "customer": {"id": c}});
        let (s, b) = app.post("/api/v5/orders/create", &[("order", &o.to_string()), ("site", "default")]).await;
        assert_eq!(s, 201, "{b}");
    }
    // o1: a task left to do, past its deadline; o2: its only task done; o3: none. c2: a task not yet
    // due; c3: one past due. Tasks about orders are not their customers'.
    task_id(
        &app,
        json!({"text": "a", "performerId": mira, "datetime": "2001-01-01 10:00", "order": {"externalId": "k-o1"}}),
    )
    .await;
    task_id(&app, json!({"text": "b", "performerId": mira, "complete": true, "order": {"externalId": "k-o2"}})).await;
    task_id(&app, json!({"text": "c", "performerId": mira, "datetime": "2999-01-01 10:00", "customer": {"id": c2}}))
        .await;
    task_id(&app, json!({"text": "d", "performerId": mira, "datetime": "2001-01-01 10:00", "customer": {"id": c3}}))
        .await;
    // Costs: 100 + 50.25 on o1, 10 on o3.
    for (summ, order) in [(json!(100), "k-o1"), (json!(50.25), "k-o1"), (json!(10), "k-o3")] {
        cost_id(
            &app,
            json!({"dateFrom": "2030-03-01", "dateTo": "2030-03-01", "summ": summ, "costItem": "delivery-cost",
                   "order": {"externalId": order}}),
            Some("default"),
        )
        .await;
    }

    let orders = |q: &'static str| ext_listed(&app, "orders", q);
    assert_eq!(orders("filter[tasksCounts]=1").await, ["k-o2", "k-o3"]);
    assert_eq!(orders("filter[tasksCounts]=2").await, ["k-o1"]);
    assert_eq!(orders("filter[tasksCounts]=3").await, ["k-o1"]);
    assert_eq!(orders("filter[minCostSumm]=150.25").await, ["k-o1"]);
    assert_eq!(orders("filter[minCostSumm]=150.26").await, Vec::<String>::new());
    assert_eq!(orders("filter[maxCostSumm]=0").await, ["k-o2"]);
    assert_eq!(orders("filter[minCostSumm]=10&filter[maxCostSumm]=10").await, ["k-o3"]);
    assert_eq!(orders("filter[minCostSumm]=0").await, ["k-o1", "k-o2", "k-o3"]);
    assert_eq!(orders("filter[tasksCounts]=1&filter[minCostSumm]=1").await, ["k-o3"]);

    let customers = |q: &'static str| ext_listed(&app, "customers", q);
    assert_eq!(customers("filter[tasksCounts]=1").await, ["k-c1"]);
    assert_eq!(customers("filter[tasksCounts]=2").await, ["k-c2", "k-c3"]);
    assert_eq!(customers("filter[tasksCounts]=3").await, ["k-c3"]);
    assert_eq!(customers("filter[minCostSumm]=150.25").await, ["k-c1"]);
    assert_eq!(customers("filter[minCostSumm]=5&filter[maxCostSumm]=150").await, ["k-c2"]);
    assert_eq!(customers("filter[maxCostSumm]=0").await, ["k-c3"]);

    // `costSumm`: the costs of the customer's orders, on get and in the list.
    for (ext, sum) in [("k-c1", 150.25), ("k-c2", 10.0), ("k-c3", 0.0)] {
        let (s, b) = app.get(&format!("/api/v5/customers/{ext}?site=default")).await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["customer"]["costSumm"].as_f64(), Some(sum), "{ext}: {b}");
    }
    let (_, b) = app.get("/api/v5/customers?filter[externalIds][]=k-c1").await;
    assert_eq!(b["customers"][0]["costSumm"].as_f64(), Some(150.25), "{b}");

    // A value that is none of PHP's `TasksCountsStatus` is refused, naming the key.
    for q in ["filter[tasksCounts]=0", "filter[tasksCounts]=4"] {
        for entity in ["orders", "customers", "customers-corporate"] {
            let (s, b) = app.get(&format!("/api/v5/{entity}?{q}")).await;
            assert_eq!(s, 400, "{entity}?{q}: {b}");
            assert!(b["errors"]["filter[tasksCounts]"].is_string(), "{b}");
        }
    }

    // A corporate customer's `costSumm` and cost range count the orders naming it.
    let corp = json!({"nickName": "Acme", "externalId": "k-acme"});
    let (s, b) = app
        .post("/api/v5/customers-corporate/create", &[("customerCorporate", &corp.to_string()), ("site", "default")])
        .await;
    assert_eq!(s, 201, "{b}");
    let corp_id = b["id"].as_i64().unwrap();
    let o = json!({"externalId": "k-o4", "customer": {"type": "customer_corporate", "id": corp_id}});
    let (s, b) = app.post("/api/v5/orders/create", &[("order", &o.to_string()), ("site", "default")]).await;
    assert_eq!(s, 201, "{b}");
    cost_id(
        &app,
        json!({"dateFrom": "2030-03-01", "dateTo": "2030-03-01", "summ": 7.5, "costItem": "delivery-cost",
               "order": {"externalId": "k-o4"}}),
        Some("default"),
    )
    .await;
    let (s, b) = app.get("/api/v5/customers-corporate/k-acme?site=default").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["customerCorporate"]["costSumm"].as_f64(), Some(7.5), "{b}");
    for (q, expected) in [
        ("filter[minCostSumm]=7.5", vec![corp_id]),
        ("filter[maxCostSumm]=7.49", vec![]),
        ("filter[tasksCounts]=1", vec![corp_id]),
        ("filter[tasksCounts]=2", vec![]),
    ] {
        let (s, b) = app.get(&format!("/api/v5/customers-corporate?{q}")).await;
        assert_eq!(s, 200, "{q}: {b}");
        let ids: Vec<i64> =
            b["customersCorporate"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
        assert_eq!(ids, expected, "{q}");
    }
});

both!(unfiltered_task_lists_count_from_the_counters, |app: TestApp| async move {
    let mira = user(&app, "Mira").await;
    order(&app, "cnt-o1", "Ann", "default").await;
    task_id(&app, json!({"text": "Of no site", "performerId": mira})).await;
    task_id(&app, json!({"text": "About the order", "performerId": mira, "order": {"externalId": "cnt-o1"}})).await;
    let (all, filtered) = ("/api/v5/tasks", "/api/v5/tasks?filter[text]=order");
    assert_eq!((app.total_count(all).await, app.total_count(filtered).await), (2, 1));
    // The unfiltered total is the counters' (of the key's sites and of no site), moved by hand here.
    add_to_counter(&app, "tasks", "", 1000).await;
    assert_eq!((app.total_count(all).await, app.total_count(filtered).await), (1002, 1));
});
