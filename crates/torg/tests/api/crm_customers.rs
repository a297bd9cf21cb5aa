//! Customers (docs/crm.md): create, get (by externalId and by id), partial edit, the list with every
//! supported filter and its pagination, PHP bracket forms, upload (all, partial 460, over the cap),
//! fix-external-ids, externalId uniqueness per site, history, multi-site key rules and multipart posts.

use crate::common::{TestApp, both};
use serde_json::{Value, json};
use torg_domain::telephony::User;

/// Creates a customer on `site` and returns its id (asserting the exact 201 body).
async fn create(app: &TestApp, site: &str, customer: Value) -> i64 {
    let (s, b) = app.post("/api/v5/customers/create", &[("customer", &customer.to_string()), ("site", site)]).await;
    assert_eq!(s, 201, "{b}");
    let id = b["id"].as_i64().unwrap_or_else(|| panic!("id in {b}"));
    assert_eq!(b, json!({"success": true, "id": id}));
    id
}

/// Ids of the customers a list query returns (200 asserted), in the order given.
async fn ids(app: &TestApp, query: &str) -> Vec<i64> {
    let (s, b) = app.get(&format!("/api/v5/customers?{query}")).await;
    assert_eq!(s, 200, "{query}: {b}");
    b["customers"]
        .as_array()
        .unwrap_or_else(|| panic!("customers in {b}"))
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect()
}

fn sorted(mut v: Vec<i64>) -> Vec<i64> {
    v.sort_unstable();
    v
}

async fn get_ext(app: &TestApp, ext: &str, site: &str) -> Value {
    let (s, b) = app.get(&format!("/api/v5/customers/{ext}?site={site}")).await;
    assert_eq!(s, 200, "{b}");
    b["customer"].clone()
}

async fn manager(app: &TestApp, first: &str) -> i64 {
    app.store
        .create_user(&User {
            first_name: first.into(),
            last_name: "Manager".into(),
            active: true,
            ..Default::default()
        })
        .await
        .expect("user")
        .id
}

async fn history(app: &TestApp, key: &str, query: &str) -> Value {
    let (s, b) = app.get_as(key, &format!("/api/v5/customers/history?{query}")).await;
    assert_eq!(s, 200, "{query}: {b}");
    b
}

both!(create_get_and_not_found, |app: TestApp| async move {
    let id = create(
        &app,
        "default",
        json!({
            "externalId": "c-1", "firstName": "Ann", "lastName": "Lee", "patronymic": "M",
            "email": "ann@example.com", "phones": [{"number": "+1 555 0001"}],
            "sex": "female", "birthday": "1990-05-17", "vip": true,
            "address": {"city": "Tver", "street": "Main"},
            "customFields": {"nps": 9}, "personalDiscount": 5
        }),
    )
    .await;

    // By externalId, the default.
    let (s, b) = app.get("/api/v5/customers/c-1").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["success"], true);
    let c = &b["customer"];
    assert_eq!(c["id"], id);
    assert_eq!(c["externalId"], "c-1");
    assert_eq!(c["type"], "customer");
    assert_eq!(c["site"], "default");
    assert_eq!(c["firstName"], "Ann");
    assert_eq!(c["lastName"], "Lee");
    assert_eq!(c["patronymic"], "M");
    assert_eq!(c["email"], "ann@example.com");
    assert_eq!(c["phones"], json!([{"number": "+1 555 0001"}]));
    assert_eq!(c["sex"], "female");
    assert_eq!(c["birthday"], "1990-05-17");
    assert_eq!(c["vip"], true);
    assert_eq!(c["bad"], false);
    assert_eq!(c["address"]["city"], "Tver");
    assert_eq!(c["customFields"], json!({"nps": 9}));
    assert_eq!(c["personalDiscount"], 5);
    assert_eq!(c["ordersCount"], 0);
    assert!(c["totalSumm"].is_number(), "{c}");
    let created = c["createdAt"].as_str().unwrap();
    assert_eq!(created.len(), 19, "Y-m-d H:i:s: {created}");
    assert_eq!(&created[4..5], "-");
    assert_eq!(&created[10..11], " ");

    // By id.
    let (s, b2) = app.get(&format!("/api/v5/customers/{id}?by=id")).await;
    assert_eq!(s, 200);
    assert_eq!(b2, b);
    // `by=externalId` spelled out.
    let (s, b3) = app.get("/api/v5/customers/c-1?by=externalId").await;
    assert_eq!((s.as_u16(), &b3), (200, &b));

    // The id is not an externalId, and the externalId is not an id.
    let not_found = json!({"success": false, "errorMsg": "Not found"});
    for path in [
        format!("/api/v5/customers/{id}"),
        "/api/v5/customers/nobody".to_string(),
        "/api/v5/customers/c-1?by=id".to_string(),
        "/api/v5/customers/999999?by=id".to_string(),
    ] {
        let (s, b) = app.get(&path).await;
        assert_eq!((s.as_u16(), &b), (404, &not_found), "{path}");
    }
    let (s, b) = app.get("/api/v5/customers/c-1?by=name").await;
    assert_eq!(s, 400, "{b}");
    assert!(b["errors"]["by"].is_string());

    // A customer without externalId has none in its body.
    let id2 = create(&app, "default", json!({"firstName": "Bob"})).await;
    let (_, b) = app.get(&format!("/api/v5/customers/{id2}?by=id")).await;
    assert!(b["customer"].get("externalId").is_none(), "{b}");
    assert_eq!(b["customer"]["customFields"], json!({}));
    assert_eq!(b["customer"]["phones"], json!([]));
});

both!(create_validation, |app: TestApp| async move {
    let (s, b) = app.post("/api/v5/customers/create", &[("site", "default")]).await;
    assert_eq!((s.as_u16(), b), (400, json!({"success": false, "errorMsg": "Parameter 'customer' is missing"})));
    let bad = json!({
        "externalId": "bad", "email": "not-an-email", "sex": "other", "birthday": "17.05.1990",
        "phones": [{"number": "12"}]
    });
    let (s, b) = app.post("/api/v5/customers/create", &[("customer", &bad.to_string()), ("site", "default")]).await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(b["errorMsg"], "Errors in the entity format");
    for field in ["email", "sex", "birthday", "phones[0].number"] {
        assert!(b["errors"][field].is_string(), "{field}: {b}");
    }
    let (s, b) =
        app.post("/api/v5/customers/create", &[("customer", r#"{"managerId": 4242}"#), ("site", "default")]).await;
    assert_eq!(s, 400);
    assert!(b["errors"]["managerId"].is_string(), "{b}");
    let (_, b) = app.get("/api/v5/customers").await;
    assert_eq!(b["pagination"]["totalCount"], 0, "nothing was stored");
});

both!(edit_is_a_partial_update, |app: TestApp| async move {
    let m = manager(&app, "Olga").await;
    let id = create(
        &app,
        "default",
        json!({
            "externalId": "c-1", "firstName": "Ann", "lastName": "Lee", "email": "ann@example.com",
            "phones": [{"number": "+15550001"}], "address": {"city": "Tver"},
            "customFields": {"nps": 9}
        }),
    )
    .await;

    let (s, b) = app
        .post(
            "/api/v5/customers/c-1/edit",
            &[("customer", r#"{"lastName": "Smith", "vip": true}"#), ("site", "default")],
        )
        .await;
    assert_eq!((s.as_u16(), b), (200, json!({"success": true, "id": id})));
    let c = get_ext(&app, "c-1", "default").await;
    assert_eq!(c["lastName"], "Smith");
    assert_eq!(c["vip"], true);
    // Untouched fields stay.
    assert_eq!(c["firstName"], "Ann");
    assert_eq!(c["email"], "ann@example.com");
    assert_eq!(c["phones"], json!([{"number": "+15550001"}]));
    assert_eq!(c["address"]["city"], "Tver");
    assert_eq!(c["customFields"], json!({"nps": 9}));
    assert_eq!(c["externalId"], "c-1");

    // By id, with a manager.
    let (s, b) = app
        .post(
            &format!("/api/v5/customers/{id}/edit"),
            &[("customer", &json!({"managerId": m, "firstName": "Anna"}).to_string()), ("by", "id")],
        )
        .await;
    assert_eq!((s.as_u16(), b), (200, json!({"success": true, "id": id})));
    let c = get_ext(&app, "c-1", "default").await;
    assert_eq!(c["managerId"], m);
    assert_eq!(c["firstName"], "Anna");
    assert_eq!(c["lastName"], "Smith");
    assert_eq!(c["vip"], true);

    // Read-only fields are ignored.
    let (s, _) = app
        .post(
            "/api/v5/customers/c-1/edit",
            &[("customer", r#"{"id": 777, "site": "elsewhere", "ordersCount": 9}"#), ("site", "default")],
        )
        .await;
    assert_eq!(s, 200);
    let c = get_ext(&app, "c-1", "default").await;
    assert_eq!((c["id"].as_i64(), c["site"].as_str()), (Some(id), Some("default")));
    assert_eq!(c["ordersCount"], 0);

    // An invalid edit changes nothing.
    let (s, b) = app
        .post(
            "/api/v5/customers/c-1/edit",
            &[("customer", r#"{"email": "broken", "firstName": "Zed"}"#), ("site", "default")],
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(b["errorMsg"], "Errors in the entity format");
    assert!(b["errors"]["email"].is_string());
    let c = get_ext(&app, "c-1", "default").await;
    assert_eq!(c["email"], "ann@example.com");
    assert_eq!(c["firstName"], "Anna");

    // Unknown customers are 404, and an edit does not create them.
    let not_found = json!({"success": false, "errorMsg": "Not found"});
    let (s, b) =
        app.post("/api/v5/customers/nobody/edit", &[("customer", r#"{"firstName": "X"}"#), ("site", "default")]).await;
    assert_eq!((s.as_u16(), &b), (404, &not_found));
    let (s, b) =
        app.post("/api/v5/customers/999999/edit", &[("customer", r#"{"firstName": "X"}"#), ("by", "id")]).await;
    assert_eq!((s.as_u16(), &b), (404, &not_found));
    let (_, b) = app.get("/api/v5/customers").await;
    assert_eq!(b["pagination"]["totalCount"], 1);
});

/// The filter tests' customer `a`, with phones, an address, a manager, flags and custom fields;
/// `crm_meta` checks the document describes each of its members.
pub(crate) fn anna(manager: i64) -> Value {
    json!({
        "externalId": "a", "firstName": "Анна", "lastName": "Иванова",
        "email": "anna@example.com", "phones": [{"number": "+7 (912) 345-67-89"}],
        "address": {"city": "Москва", "region": "Московская область"},
        "managerId": manager, "vip": true, "sex": "female",
        "customFields": {"nps": 9, "segment": "gold"}
    })
}

/// Customers for the filter tests: (ids of a, b, c, d, managers m1, m2).
async fn filter_fixture(app: &TestApp) -> (i64, i64, i64, i64, i64, i64) {
    app.add_site("shop-b").await;
    let m1 = manager(app, "Olga").await;
    let m2 = manager(app, "Ivan").await;
    let a = create(app, "default", anna(m1)).await;
    let b = create(
        app,
        "default",
        json!({
            "externalId": "b", "firstName": "Boris", "lastName": "Petrov",
            "email": "BORIS@Example.org", "phones": [{"number": "+7 901 000-11-22"}],
            "address": {"city": "Санкт-Петербург", "region": "Ленинградская область"},
            "managerId": m2, "bad": true, "sex": "male",
            "customFields": {"nps": 3, "segment": "silver"}
        }),
    )
    .await;
    let c = create(
        app,
        "default",
        json!({
            "externalId": "c", "firstName": "Carl", "lastName": "Ivanov",
            "email": "carl@example.com", "address": {"city": "Московский"},
            "customFields": {"nps": 6}
        }),
    )
    .await;
    let d = create(app, "shop-b", json!({"externalId": "d", "firstName": "Dina", "email": "dina@example.net"})).await;
    (a, b, c, d, m1, m2)
}

both!(list_filters_include_and_exclude, |app: TestApp| async move {
    let (a, b, c, d, m1, m2) = filter_fixture(&app).await;
    let cases: Vec<(String, Vec<i64>)> = vec![
        (String::new(), vec![a, b, c, d]),
        ("filter=None".into(), vec![a, b, c, d]),
        (format!("filter[ids][]={a}&filter[ids][]={c}"), vec![a, c]),
        (format!("filter[ids][]={d}"), vec![d]),
        ("filter[ids][]=999999".into(), vec![]),
        ("filter[externalIds][]=b&filter[externalIds][]=d".into(), vec![b, d]),
        ("filter[externalIds][]=zzz".into(), vec![]),
        // name: a substring of the name, e-mail or phone, any case.
        ("filter[name]=иван".into(), vec![a]),
        ("filter[name]=ИВАНОВА".into(), vec![a]),
        ("filter[name]=Иванова%20Анна".into(), vec![a]),
        ("filter[name]=Иванова+Анна".into(), vec![a]),
        ("filter[name]=ivan".into(), vec![c]),
        ("filter[name]=example.com".into(), vec![a, c]),
        ("filter[name]=boris%40example".into(), vec![b]),
        ("filter[name]=3456789".into(), vec![a]),
        ("filter[name]=%2B7%20(912)%20345".into(), vec![a]),
        ("filter[name]=nobody-at-all".into(), vec![]),
        // email: the whole address, any case.
        ("filter[email]=anna%40example.com".into(), vec![a]),
        ("filter[email]=boris%40example.org".into(), vec![b]),
        ("filter[email]=example.com".into(), vec![]),
        // city: a substring, any case.
        ("filter[city]=моск".into(), vec![a, c]),
        ("filter[city]=МОСКВА".into(), vec![a]),
        ("filter[city]=петербург".into(), vec![b]),
        ("filter[city]=Tver".into(), vec![]),
        // region: a substring, any case.
        ("filter[region]=ленинградская".into(), vec![b]),
        // managers.
        (format!("filter[managers][]={m1}"), vec![a]),
        (format!("filter[managers][]={m1}&filter[managers][]={m2}"), vec![a, b]),
        ("filter[managers][]=999999".into(), vec![]),
        // flags, in every spelling the clients send.
        ("filter[vip]=1".into(), vec![a]),
        ("filter[vip]=true".into(), vec![a]),
        ("filter[vip]=True".into(), vec![a]),
        ("filter[vip]=0".into(), vec![b, c, d]),
        ("filter[vip]=False".into(), vec![b, c, d]),
        ("filter[bad]=1".into(), vec![b]),
        ("filter[bad]=0".into(), vec![a, c, d]),
        ("filter[sex]=female".into(), vec![a]),
        ("filter[sex]=male".into(), vec![b]),
        // custom fields: exact, list, and numeric ranges.
        ("filter[customFields][segment]=gold".into(), vec![a]),
        ("filter[customFields][segment][]=gold&filter[customFields][segment][]=silver".into(), vec![a, b]),
        ("filter[customFields][segment]=bronze".into(), vec![]),
        ("filter[customFields][nps][min]=5".into(), vec![a, c]),
        ("filter[customFields][nps][max]=6".into(), vec![b, c]),
        ("filter[customFields][nps][min]=4&filter[customFields][nps][max]=8".into(), vec![c]),
        ("filter[customFields][nps]=9".into(), vec![a]),
        // sites.
        ("filter[sites][]=shop-b".into(), vec![d]),
        ("filter[sites][]=default".into(), vec![a, b, c]),
        ("filter[sites][]=default&filter[sites][]=shop-b".into(), vec![a, b, c, d]),
        // filters combine with AND.
        ("filter[vip]=0&filter[name]=ivan".into(), vec![c]),
        ("filter[vip]=1&filter[name]=ivan".into(), vec![]),
        ("filter[city]=моск&filter[customFields][nps][max]=7".into(), vec![c]),
    ];
    for (query, expected) in cases {
        assert_eq!(sorted(ids(&app, &query).await), expected, "{query}");
    }

    // Bad filter values are 400 naming the filter.
    for (query, field) in [
        ("filter[ids][]=abc", "filter[ids]"),
        ("filter[vip]=maybe", "filter[vip]"),
        ("filter[dateFrom]=yesterday", "filter[dateFrom]"),
        ("filter[minOrdersCount]=x", "filter[minOrdersCount]"),
        ("filter[minTotalSumm]=x", "filter[minTotalSumm]"),
        ("filter[customFields][nps][min]=x", "filter[customFields][nps][min]"),
    ] {
        let (s, b) = app.get(&format!("/api/v5/customers?{query}")).await;
        assert_eq!(s, 400, "{query}: {b}");
        assert_eq!(b["errorMsg"], "Errors in the input parameters", "{query}");
        assert!(b["errors"][field].is_string(), "{query}: {b}");
    }
});

both!(list_filters_by_creation_date, |app: TestApp| async move {
    let first = create(&app, "default", json!({"externalId": "early"})).await;
    // Creation times are kept to the second: make the two customers a second apart.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let second = create(&app, "default", json!({"externalId": "late"})).await;
    let early = get_ext(&app, "early", "default").await["createdAt"].as_str().unwrap().to_string();
    let late = get_ext(&app, "late", "default").await["createdAt"].as_str().unwrap().to_string();
    assert!(early < late, "{early} < {late}");
    let day = &early[..10];
    let enc = |s: &str| s.replace(' ', "%20");

    let cases = vec![
        (format!("filter[dateFrom]={day}"), vec![first, second]),
        (format!("filter[dateTo]={}", &late[..10]), vec![first, second]),
        ("filter[dateFrom]=2100-01-01".to_string(), vec![]),
        ("filter[dateTo]=2000-01-01".to_string(), vec![]),
        ("filter[dateFrom]=2000-01-01&filter[dateTo]=2100-01-01".to_string(), vec![first, second]),
        (format!("filter[dateFrom]={}", enc(&late)), vec![second]),
        (format!("filter[dateTo]={}", enc(&early)), vec![first]),
        (format!("filter[dateFrom]={}&filter[dateTo]={}", enc(&early), enc(&early)), vec![first]),
    ];
    for (query, expected) in cases {
        assert_eq!(sorted(ids(&app, &query).await), expected, "{query}");
    }
});

both!(list_filters_by_orders, |app: TestApp| async move {
    let a = create(&app, "default", json!({"externalId": "a", "firstName": "A"})).await;
    let b = create(&app, "default", json!({"externalId": "b", "firstName": "B"})).await;
    let c = create(&app, "default", json!({"externalId": "c", "firstName": "C"})).await;
    for (customer, price) in [("a", 100), ("a", 50), ("b", 500)] {
        let order = json!({
            "customer": {"externalId": customer},
            "items": [{"productName": "Widget", "initialPrice": price, "quantity": 1}]
        });
        let (s, body) = app.post("/api/v5/orders/create", &[("order", &order.to_string()), ("site", "default")]).await;
        assert_eq!(s, 201, "{body}");
    }
    let got = get_ext(&app, "a", "default").await;
    assert_eq!(got["ordersCount"], 2);
    assert_eq!(got["totalSumm"].as_f64(), Some(150.0));
    assert_eq!(got["averageSumm"].as_f64(), Some(75.0));

    let cases = vec![
        ("filter[minOrdersCount]=1", vec![a, b]),
        ("filter[minOrdersCount]=2", vec![a]),
        ("filter[maxOrdersCount]=1", vec![b, c]),
        ("filter[maxOrdersCount]=0", vec![c]),
        ("filter[minOrdersCount]=1&filter[maxOrdersCount]=1", vec![b]),
        ("filter[minTotalSumm]=200", vec![b]),
        ("filter[minTotalSumm]=150", vec![a, b]),
        ("filter[maxTotalSumm]=150", vec![a, c]),
        ("filter[maxTotalSumm]=149.99", vec![c]),
        ("filter[minTotalSumm]=100&filter[maxTotalSumm]=200", vec![a]),
        ("filter[minTotalSumm]=1000", vec![]),
    ];
    for (query, expected) in cases {
        assert_eq!(sorted(ids(&app, query).await), expected, "{query}");
    }
});

both!(php_bracket_forms_agree, |app: TestApp| async move {
    let mut all = Vec::new();
    for i in 0..4 {
        all.push(create(&app, "default", json!({"externalId": format!("e{i}")})).await);
    }
    let (x, y) = (all[1], all[3]);
    let forms = [
        format!("filter[ids][]={x}&filter[ids][]={y}"),
        format!("filter[ids][0]={x}&filter[ids][1]={y}"),
        format!("filter%5Bids%5D%5B%5D={x}&filter%5Bids%5D%5B%5D={y}"),
        format!("filter%5Bids%5D%5B0%5D={x}&filter%5Bids%5D%5B1%5D={y}"),
        format!("filter%5bids%5d%5b%5d={x}&filter%5bids%5d%5b%5d={y}"),
    ];
    for q in &forms {
        let (s, b) = app.get(&format!("/api/v5/customers?{q}")).await;
        assert_eq!(s, 200, "{q}: {b}");
        let got: Vec<i64> = b["customers"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
        assert_eq!(got, vec![x, y], "{q}");
        assert_eq!(b["pagination"]["totalCount"], 2, "{q}");
    }
    let ext_forms = [
        "filter[externalIds][]=e0&filter[externalIds][]=e2",
        "filter[externalIds][0]=e0&filter[externalIds][1]=e2",
        "filter%5BexternalIds%5D%5B%5D=e0&filter%5BexternalIds%5D%5B%5D=e2",
    ];
    for q in ext_forms {
        assert_eq!(ids(&app, q).await, vec![all[0], all[2]], "{q}");
    }
    // Custom-field ranges nest one more level.
    create(&app, "default", json!({"externalId": "cf", "customFields": {"weight": 3}})).await;
    let a = ids(&app, "filter[customFields][weight][min]=1&filter[customFields][weight][max]=5").await;
    let b =
        ids(&app, "filter%5BcustomFields%5D%5Bweight%5D%5Bmin%5D=1&filter%5BcustomFields%5D%5Bweight%5D%5Bmax%5D=5")
            .await;
    assert_eq!(a.len(), 1);
    assert_eq!(a, b);
});

both!(pagination_is_computed_on_the_filtered_set, |app: TestApp| async move {
    // 23 customers, 12 of them VIP.
    let docs: Vec<Value> = (0..23).map(|i| json!({"externalId": format!("p{i:02}"), "vip": i % 2 == 0})).collect();
    let (s, b) = app
        .post("/api/v5/customers/upload", &[("customers", &Value::Array(docs).to_string()), ("site", "default")])
        .await;
    assert_eq!(s, 200, "{b}");

    let page = |q: &'static str| {
        let app = &app;
        async move {
            let (s, b) = app.get(&format!("/api/v5/customers?{q}")).await;
            assert_eq!(s, 200, "{q}: {b}");
            (b["pagination"].clone(), b["customers"].as_array().unwrap().len())
        }
    };
    let p = |limit: u64, total: u64, current: u64, pages: u64| json!({"limit": limit, "totalCount": total, "currentPage": current, "totalPageCount": pages});
    assert_eq!(page("").await, (p(20, 23, 1, 2), 20));
    assert_eq!(page("page=2").await, (p(20, 23, 2, 2), 3));
    assert_eq!(page("limit=50").await, (p(50, 23, 1, 1), 23));
    assert_eq!(page("limit=20&page=3").await, (p(20, 23, 3, 2), 0));
    assert_eq!(page("filter[vip]=1").await, (p(20, 12, 1, 1), 12));
    assert_eq!(page("filter[vip]=0&limit=20").await, (p(20, 11, 1, 1), 11));
    assert_eq!(page("filter[externalIds][]=p00&filter[externalIds][]=p01").await, (p(20, 2, 1, 1), 2));
    assert_eq!(page("filter[externalIds][]=none").await, (p(20, 0, 1, 0), 0));

    // Pages do not overlap and cover the whole set, in id order.
    let first = ids(&app, "page=1").await;
    let second = ids(&app, "page=2").await;
    let mut all = first.clone();
    all.extend(&second);
    assert_eq!(all.len(), 23);
    assert_eq!(sorted(all.clone()), all);
    all.dedup();
    assert_eq!(all.len(), 23);

    for bad in ["limit=30", "limit=0", "page=0", "page=-1"] {
        let (s, b) = app.get(&format!("/api/v5/customers?{bad}")).await;
        assert_eq!(s, 400, "{bad}: {b}");
        assert_eq!(b["errorMsg"], "Errors in the input parameters");
    }
});

both!(upload_all_partial_and_capped, |app: TestApp| async move {
    // All good: 200 with every uploaded customer.
    let docs = json!([
        {"externalId": "u1", "firstName": "One"},
        {"externalId": "u2", "firstName": "Two", "email": "two@example.com"}
    ]);
    let (s, b) = app.post("/api/v5/customers/upload", &[("customers", &docs.to_string()), ("site", "default")]).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["success"], true);
    let uploaded = b["uploadedCustomers"].as_array().unwrap();
    assert_eq!(uploaded.len(), 2);
    assert_eq!(uploaded[0]["externalId"], "u1");
    assert_eq!(uploaded[1]["externalId"], "u2");
    let u1 = uploaded[0]["id"].as_i64().unwrap();
    assert_eq!(get_ext(&app, "u1", "default").await["id"], u1);
    assert_eq!(get_ext(&app, "u2", "default").await["email"], "two@example.com");
    assert_eq!(b["failedCustomers"], json!([]), "{b}");

    // Partly good: 460, the good ones stored, the bad ones named.
    let docs = json!([
        {"externalId": "u3", "firstName": "Three"},
        {"externalId": "u4", "email": "not-an-email"},
        {"externalId": "u1", "firstName": "Duplicate"},
        {"externalId": "u5", "firstName": "Five"}
    ]);
    let (s, b) = app.post("/api/v5/customers/upload", &[("customers", &docs.to_string()), ("site", "default")]).await;
    assert_eq!(s.as_u16(), 460, "{b}");
    assert_eq!(b["success"], false);
    assert_eq!(b["errorMsg"], "Customers are loaded with errors");
    let uploaded: Vec<&str> =
        b["uploadedCustomers"].as_array().unwrap().iter().map(|u| u["externalId"].as_str().unwrap()).collect();
    assert_eq!(uploaded, vec!["u3", "u5"]);
    assert!(b["uploadedCustomers"][0]["id"].is_i64());
    assert_eq!(b["failedCustomers"], json!([{"externalId": "u4"}, {"externalId": "u1"}]));
    let errors = b["errors"].as_array().expect("errors list");
    assert_eq!(errors.len(), 2, "{b}");
    assert!(errors[0].as_str().unwrap().contains("email"), "{b}");
    assert_eq!(get_ext(&app, "u3", "default").await["firstName"], "Three");
    assert_eq!(get_ext(&app, "u5", "default").await["firstName"], "Five");
    assert_eq!(get_ext(&app, "u1", "default").await["firstName"], "One");
    let (s, _) = app.get("/api/v5/customers/u4").await;
    assert_eq!(s, 404);

    // Over 50: refused whole.
    let docs: Vec<Value> = (0..51).map(|i| json!({"externalId": format!("big{i}")})).collect();
    let (s, b) = app
        .post("/api/v5/customers/upload", &[("customers", &Value::Array(docs).to_string()), ("site", "default")])
        .await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(b["errorMsg"], "Errors in the entity format");
    assert!(b["errors"]["customers"].as_str().unwrap().contains("50"), "{b}");
    let (_, b) = app.get("/api/v5/customers?filter[externalIds][]=big0").await;
    assert_eq!(b["pagination"]["totalCount"], 0);
    // Exactly 50 is fine.
    let docs: Vec<Value> = (0..50).map(|i| json!({"externalId": format!("fifty{i}")})).collect();
    let (s, b) = app
        .post("/api/v5/customers/upload", &[("customers", &Value::Array(docs).to_string()), ("site", "default")])
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["uploadedCustomers"].as_array().unwrap().len(), 50);

    let (s, b) = app.post("/api/v5/customers/upload", &[("site", "default")]).await;
    assert_eq!((s.as_u16(), b), (400, json!({"success": false, "errorMsg": "Parameter 'customers' is missing"})));
    let (s, b) = app.post("/api/v5/customers/upload", &[("customers", "[]"), ("site", "default")]).await;
    assert_eq!(s, 400);
    assert!(b["errors"]["customers"].is_string(), "{b}");
});

both!(fix_external_ids, |app: TestApp| async move {
    let a = create(&app, "default", json!({"firstName": "A"})).await;
    let b = create(&app, "default", json!({"externalId": "old-b"})).await;
    let body = json!([{"id": a, "externalId": "fixed-a"}, {"id": b, "externalId": "fixed-b"}]);
    let (s, r) = app.post("/api/v5/customers/fix-external-ids", &[("customers", &body.to_string())]).await;
    assert_eq!((s.as_u16(), r), (200, json!({"success": true})));
    assert_eq!(get_ext(&app, "fixed-a", "default").await["id"], a);
    assert_eq!(get_ext(&app, "fixed-b", "default").await["id"], b);
    let (s, _) = app.get("/api/v5/customers/old-b").await;
    assert_eq!(s, 404);

    // All or nothing: one unknown id refuses the whole call.
    let body = json!([{"id": a, "externalId": "again-a"}, {"id": 999999, "externalId": "x"}]);
    let (s, r) = app.post("/api/v5/customers/fix-external-ids", &[("customers", &body.to_string())]).await;
    assert_eq!(s, 400, "{r}");
    assert_eq!(r["errorMsg"], "Errors in the entity format");
    assert!(r["errors"]["customers[1].id"].is_string(), "{r}");
    assert_eq!(get_ext(&app, "fixed-a", "default").await["id"], a);

    let (s, r) = app.post("/api/v5/customers/fix-external-ids", &[("customers", r#"[{"id": 1}]"#)]).await;
    assert_eq!(s, 400);
    assert!(r["errors"]["customers[0]"].is_string(), "{r}");

    // The change is in the history.

    let h = history(&app, &app.key, &format!("filter[customerId]={a}")).await;
    let change = h["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["field"] == "external_id")
        .unwrap_or_else(|| panic!("external_id record in {h}"));
    assert_eq!(change["oldValue"], Value::Null);
    assert_eq!(change["newValue"], "fixed-a");
});

both!(external_ids_are_unique_per_site, |app: TestApp| async move {
    app.add_site("shop-b").await;
    let first = create(&app, "default", json!({"externalId": "same", "firstName": "A"})).await;
    let (s, b) = app
        .post(
            "/api/v5/customers/create",
            &[("customer", r#"{"externalId": "same", "firstName": "B"}"#), ("site", "default")],
        )
        .await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(b["errorMsg"], "Errors in the entity format");
    assert!(b["errors"]["externalId"].is_string(), "{b}");
    assert_eq!(get_ext(&app, "same", "default").await["firstName"], "A");

    // Another site may use the same externalId.
    let other = create(&app, "shop-b", json!({"externalId": "same", "firstName": "C"})).await;
    assert_ne!(first, other);
    assert_eq!(get_ext(&app, "same", "default").await["id"], first);
    assert_eq!(get_ext(&app, "same", "shop-b").await["id"], other);
    assert_eq!(get_ext(&app, "same", "shop-b").await["firstName"], "C");

    // An edit may not take another customer's externalId either.
    create(&app, "default", json!({"externalId": "other"})).await;
    let (s, b) = app
        .post("/api/v5/customers/other/edit", &[("customer", r#"{"externalId": "same"}"#), ("site", "default")])
        .await;
    assert_eq!(s, 400, "{b}");
    assert!(b["errors"]["externalId"].is_string(), "{b}");
    let (s, _) = app.get("/api/v5/customers/other?site=default").await;
    assert_eq!(s, 200);
});

both!(customer_history, |app: TestApp| async move {
    let id = create(
        &app,
        "default",
        json!({
            "externalId": "h-1", "firstName": "Ann", "lastName": "Lee", "email": "ann@example.com",
            "phones": [{"number": "+15550001"}], "customFields": {"nps": 5}
        }),
    )
    .await;
    let (s, _) = app
        .post(
            "/api/v5/customers/h-1/edit",
            &[
                (
                    "customer",
                    r#"{"firstName": "Anna", "email": "anna@example.com", "address": {"city": "Tver"}, "customFields": {"nps": 8}}"#,
                ),
                ("site", "default"),
            ],
        )
        .await;
    assert_eq!(s, 200);
    let other = create(&app, "default", json!({"externalId": "h-2"})).await;

    let h = history(&app, &app.key, "").await;
    assert_eq!(h["success"], true);
    let generated = h["generatedAt"].as_str().unwrap();
    assert_eq!(generated.len(), 19, "{generated}");
    let records = h["history"].as_array().unwrap().clone();
    let rec_ids: Vec<i64> = records.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(sorted(rec_ids.clone()), rec_ids, "ids ascending");
    let mut dedup = rec_ids.clone();
    dedup.dedup();
    assert_eq!(dedup, rec_ids, "ids unique");

    // The created record carries the whole customer.
    let created = &records[0];
    assert_eq!(created["created"], true);
    assert_eq!(created["source"], "api");
    assert_eq!(created["apiKey"], json!({"current": true}));
    let c = &created["customer"];
    assert_eq!(c["id"], id);
    assert_eq!(c["externalId"], "h-1");
    assert_eq!(c["firstName"], "Ann");
    assert_eq!(c["lastName"], "Lee");
    assert_eq!(c["email"], "ann@example.com");
    assert_eq!(c["phones"], json!([{"number": "+15550001"}]));
    assert_eq!(c["site"], "default");
    assert_eq!(c["type"], "customer");
    assert_eq!(c["customFields"], json!({"nps": 5}));
    assert_eq!(c["createdAt"].as_str().map(str::len), Some(19), "{c}");
    assert_eq!(created["createdAt"].as_str().map(str::len), Some(19));

    // Edits: one record per field, snake_case names, old and new values.
    let edits: Vec<&Value> =
        records.iter().filter(|r| r["customer"]["id"] == id && r.get("created").is_none()).collect();
    let field = |name: &str| edits.iter().find(|r| r["field"] == name).unwrap_or_else(|| panic!("{name} in {edits:?}"));
    let r = field("first_name");
    assert_eq!((&r["oldValue"], &r["newValue"]), (&json!("Ann"), &json!("Anna")));
    assert_eq!(r["source"], "api");
    assert_eq!(r["apiKey"], json!({"current": true}));
    assert_eq!(r["customer"]["externalId"], "h-1");
    let r = field("email");
    assert_eq!((&r["oldValue"], &r["newValue"]), (&json!("ann@example.com"), &json!("anna@example.com")));
    let r = field("address.city");
    assert_eq!((&r["oldValue"], &r["newValue"]), (&Value::Null, &json!("Tver")));
    let r = field("custom_nps");
    assert_eq!((&r["oldValue"], &r["newValue"]), (&json!(5), &json!(8)));
    assert_eq!(edits.len(), 4, "only changed fields: {edits:?}");
    assert!(records.iter().all(|r| r["field"] != "last_name"));
    // The second customer's created record comes last.
    assert_eq!(records.last().unwrap()["customer"]["id"], other);
    assert_eq!(records.last().unwrap()["created"], true);
    assert_eq!(h["pagination"]["totalCount"], records.len());

    // Another key reads the same records as not its own.
    let reader = app.key_with(&["customer_read"], &[]).await;
    let theirs = history(&app, &reader, "").await;
    let theirs = theirs["history"].as_array().unwrap();
    assert_eq!(theirs.len(), records.len());
    for (mine, seen) in records.iter().zip(theirs) {
        assert_eq!(mine["id"], seen["id"]);
        assert_eq!(seen["apiKey"], json!({"current": false}));
    }
    // and a record it writes is its own, not the first key's.
    let writer = app.key_with(&["customer_read", "customer_write"], &[]).await;
    let (s, _) = app.post_as(&writer, "/api/v5/customers/h-2/edit", &[("customer", r#"{"firstName": "Zed"}"#)]).await;
    assert_eq!(s, 200);
    let last = *rec_ids.last().unwrap();
    let by_writer = history(&app, &writer, &format!("filter[sinceId]={last}")).await;
    assert_eq!(by_writer["history"].as_array().unwrap().len(), 1);
    assert_eq!(by_writer["history"][0]["apiKey"], json!({"current": true}));
    assert_eq!(by_writer["history"][0]["field"], "first_name");
    let by_first = history(&app, &app.key, &format!("filter[sinceId]={last}")).await;
    assert_eq!(by_first["history"][0]["apiKey"], json!({"current": false}));

    // sinceId is exclusive, and pagination counts only what follows it.
    let since = rec_ids[1];
    let after = history(&app, &app.key, &format!("filter[sinceId]={since}")).await;
    let after_ids: Vec<i64> = after["history"].as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert!(after_ids.iter().all(|i| *i > since), "{after_ids:?}");
    let expected: Vec<i64> = rec_ids
        .iter()
        .copied()
        .filter(|i| *i > since)
        .chain([by_writer["history"][0]["id"].as_i64().unwrap()])
        .collect();
    assert_eq!(after_ids, expected);
    assert_eq!(after["pagination"]["totalCount"], expected.len());
    assert_eq!(after["pagination"]["totalPageCount"], 1);
    let none = history(&app, &app.key, "filter[sinceId]=999999").await;
    assert_eq!(none["history"], json!([]));
    assert_eq!(none["pagination"], json!({"limit": 20, "totalCount": 0, "currentPage": 1, "totalPageCount": 0}));

    // By customer.
    let one = history(&app, &app.key, &format!("filter[customerId]={other}")).await;
    assert!(one["history"].as_array().unwrap().iter().all(|r| r["customer"]["id"] == other));
    assert_eq!(one["history"].as_array().unwrap().len(), 2);
    let one = history(&app, &app.key, "filter[customerExternalId]=h-1").await;
    assert_eq!(one["history"].as_array().unwrap().len(), 5);
});

both!(history_pages_follow_since_id, |app: TestApp| async move {
    let docs: Vec<Value> = (0..25).map(|i| json!({"externalId": format!("hp{i}")})).collect();
    let (s, _) = app
        .post("/api/v5/customers/upload", &[("customers", &Value::Array(docs).to_string()), ("site", "default")])
        .await;
    assert_eq!(s, 200);
    // The Bitrix loop: re-query with the last id until one page suffices.
    let mut since = 0;
    let mut seen = Vec::new();
    let mut rounds = 0;
    loop {
        rounds += 1;
        assert!(rounds < 10, "the loop must end");
        let h = history(&app, &app.key, &format!("filter[sinceId]={since}&limit=20")).await;
        let list = h["history"].as_array().unwrap();
        if list.is_empty() {
            break;
        }
        seen.extend(list.iter().map(|r| r["id"].as_i64().unwrap()));
        since = list.last().unwrap()["id"].as_i64().unwrap();
        if h["pagination"]["totalPageCount"] == 1 {
            break;
        }
    }
    assert_eq!(rounds, 2);
    assert_eq!(seen.len(), 25);
    assert_eq!(sorted(seen.clone()), seen);
});

both!(multi_site_key_rules, |app: TestApp| async move {
    app.add_site("shop-a").await;
    app.add_site("shop-b").await;
    let missing_site = json!({"success": false, "errorMsg": "Parameter 'site' is missing"});
    let denied = json!({"success": false, "errorMsg": "Access denied."});

    // The test key reaches three sites: writes by externalId must name one.
    let (s, b) = app.post("/api/v5/customers/create", &[("customer", r#"{"externalId": "m1"}"#)]).await;
    assert_eq!((s.as_u16(), &b), (400, &missing_site));
    let (s, b) = app.post("/api/v5/customers/upload", &[("customers", r#"[{"externalId": "m1"}]"#)]).await;
    assert_eq!((s.as_u16(), &b), (400, &missing_site));
    let id = create(&app, "shop-a", json!({"externalId": "m1", "firstName": "A"})).await;
    let (s, b) = app.post("/api/v5/customers/m1/edit", &[("customer", r#"{"firstName": "B"}"#)]).await;
    assert_eq!((s.as_u16(), &b), (400, &missing_site));
    let (s, b) = app.get("/api/v5/customers/m1").await;
    assert_eq!((s.as_u16(), &b), (400, &missing_site));
    // by=id needs no site.
    let (s, b) = app.get(&format!("/api/v5/customers/{id}?by=id")).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["customer"]["site"], "shop-a");
    let (s, _) =
        app.post(&format!("/api/v5/customers/{id}/edit"), &[("customer", r#"{"firstName": "B"}"#), ("by", "id")]).await;
    assert_eq!(s, 200);
    // An unknown site is not reachable.
    let (s, b) = app
        .post("/api/v5/customers/create", &[("customer", r#"{"externalId": "m2"}"#), ("site", "no-such-site")])
        .await;
    assert_eq!((s.as_u16(), &b), (403, &denied));

    // A key for shop-a only.
    let only_a = app.key_with(&["customer_read", "customer_write"], &["shop-a"]).await;
    for (path, form) in [
        ("/api/v5/customers/create", vec![("customer", r#"{"externalId": "m3"}"#), ("site", "shop-b")]),
        ("/api/v5/customers/upload", vec![("customers", r#"[{"externalId": "m3"}]"#), ("site", "shop-b")]),
    ] {
        let (s, b) = app.post_as(&only_a, path, &form).await;
        assert_eq!((s.as_u16(), &b), (403, &denied), "{path}");
    }
    let (s, b) = app.get_as(&only_a, "/api/v5/customers?filter[sites][]=shop-b").await;
    assert_eq!((s.as_u16(), &b), (403, &denied));
    let (s, b) = app.get_as(&only_a, "/api/v5/customers/m1?site=shop-b").await;
    assert_eq!((s.as_u16(), &b), (403, &denied));
    // One site: no `site` needed, and it is where the customer goes.
    let (s, b) = app.post_as(&only_a, "/api/v5/customers/create", &[("customer", r#"{"externalId": "m4"}"#)]).await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = app.get_as(&only_a, "/api/v5/customers/m4").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["customer"]["site"], "shop-a");

    // It sees only its site's customers, even by id, and cannot edit the others.
    let b_id = create(&app, "shop-b", json!({"externalId": "mb"})).await;
    let (s, b) = app.get_as(&only_a, "/api/v5/customers").await;
    assert_eq!(s, 200);
    let sites: Vec<&str> = b["customers"].as_array().unwrap().iter().map(|c| c["site"].as_str().unwrap()).collect();
    assert_eq!(sites, vec!["shop-a", "shop-a"]);
    assert_eq!(b["pagination"]["totalCount"], 2);
    let (s, _) = app.get_as(&only_a, &format!("/api/v5/customers/{b_id}?by=id")).await;
    assert_eq!(s, 404);
    let (s, _) = app
        .post_as(
            &only_a,
            &format!("/api/v5/customers/{b_id}/edit"),
            &[("customer", r#"{"firstName": "Hijack"}"#), ("by", "id")],
        )
        .await;
    assert_eq!(s, 404);
    assert!(get_ext(&app, "mb", "shop-b").await.get("firstName").is_none());
    let body = json!([{"id": b_id, "externalId": "stolen"}]);
    let (s, _) = app.post_as(&only_a, "/api/v5/customers/fix-external-ids", &[("customers", &body.to_string())]).await;
    assert_eq!(s, 400);
    assert_eq!(get_ext(&app, "mb", "shop-b").await["id"], b_id);
    // Its history holds only its site's customers.
    let h = history(&app, &only_a, "").await;
    assert!(h["history"].as_array().unwrap().iter().all(|r| r["customer"]["site"] == "shop-a"), "{h}");
    assert_eq!(h["history"].as_array().unwrap().len(), 3, "{h}");
});

both!(customer_scopes, |app: TestApp| async move {
    let denied = json!({"success": false, "errorMsg": "Access denied."});
    create(&app, "default", json!({"externalId": "s1"})).await;
    let reader = app.key_with(&["customer_read"], &[]).await;
    let writer = app.key_with(&["customer_write"], &[]).await;
    for (path, form) in [
        ("/api/v5/customers/create", vec![("customer", r#"{"externalId": "s2"}"#)]),
        ("/api/v5/customers/s1/edit", vec![("customer", r#"{"firstName": "X"}"#)]),
        ("/api/v5/customers/upload", vec![("customers", r#"[{"externalId": "s3"}]"#)]),
        ("/api/v5/customers/fix-external-ids", vec![("customers", r#"[{"id": 1, "externalId": "s4"}]"#)]),
    ] {
        let (s, b) = app.post_as(&reader, path, &form).await;
        assert_eq!((s.as_u16(), &b), (403, &denied), "{path}");
    }
    for path in ["/api/v5/customers", "/api/v5/customers/s1", "/api/v5/customers/history"] {
        let (s, b) = app.get_as(&writer, path).await;
        assert_eq!((s.as_u16(), &b), (403, &denied), "{path}");
        let (s, _) = app.get_as(&reader, path).await;
        assert_eq!(s, 200, "{path}");
    }
    let (_, b) = app.get("/api/v5/customers").await;
    assert_eq!(b["pagination"]["totalCount"], 1);
    assert!(get_ext(&app, "s1", "default").await.get("firstName").is_none());
});

/// A multipart/form-data body as PHP's cURL builds it from an array.
fn multipart(boundary: &str, fields: &[(&str, &str)]) -> Vec<u8> {
    let mut out = String::new();
    for (name, value) in fields {
        out.push_str(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"));
    }
    out.push_str(&format!("--{boundary}--\r\n"));
    out.into_bytes()
}

both!(multipart_posts_with_api_key_field, |app: TestApp| async move {
    let boundary = "------------------------d74496d66958873e";
    let customer = json!({"externalId": "mp-1", "firstName": "Пётр", "email": "petr@example.com"});
    let body = multipart(boundary, &[("apiKey", &app.key), ("customer", &customer.to_string()), ("site", "default")]);
    let (s, b) =
        app.post_raw("/api/v5/customers/create", &format!("multipart/form-data; boundary={boundary}"), body).await;
    assert_eq!(s, 201, "{b}");
    let id = b["id"].as_i64().unwrap();
    let c = get_ext(&app, "mp-1", "default").await;
    assert_eq!(c["id"], id);
    assert_eq!(c["firstName"], "Пётр");
    assert_eq!(c["email"], "petr@example.com");

    // An edit the same way.
    let body =
        multipart(boundary, &[("apiKey", &app.key), ("customer", r#"{"lastName": "Петров"}"#), ("site", "default")]);
    let (s, b) =
        app.post_raw("/api/v5/customers/mp-1/edit", &format!("multipart/form-data; boundary={boundary}"), body).await;
    assert_eq!(s, 200, "{b}");
    let c = get_ext(&app, "mp-1", "default").await;
    assert_eq!((c["firstName"].as_str(), c["lastName"].as_str()), (Some("Пётр"), Some("Петров")));

    // A wrong key in the form field is refused.
    let body =
        multipart(boundary, &[("apiKey", "WRONG"), ("customer", r#"{"externalId": "mp-2"}"#), ("site", "default")]);
    let (s, b) =
        app.post_raw("/api/v5/customers/create", &format!("multipart/form-data; boundary={boundary}"), body).await;
    assert_eq!((s.as_u16(), b), (403, json!({"success": false, "errorMsg": "Wrong \"apiKey\" value."})));
    let (s, _) = app.get("/api/v5/customers/mp-2").await;
    assert_eq!(s, 404);
});
