//! Corporate customers (`customers-corporate`) through the CRM face, on both engines: create with
//! addresses, companies and contacts, read back, edit, the members' own methods, list filters and
//! pages, history, notes, upload, fix-external-ids, combine, the errors, and what keys limited to a
//! site or a scope see.

use crate::common::{Reply, TestApp, both};
use serde_json::{Value, json};

/// A customer on `site`; its id.
async fn customer(app: &TestApp, ext: &str, name: &str, email: &str) -> i64 {
    let c = json!({"externalId": ext, "firstName": name, "email": email});
    let (s, b) = app.post("/api/v5/customers/create", &[("customer", &c.to_string()), ("site", "default")]).await;
    assert_eq!(s, 201, "{b}");
    b["id"].as_i64().unwrap()
}

async fn create(app: &TestApp, doc: Value) -> Reply {
    app.post("/api/v5/customers-corporate/create", &[("customerCorporate", &doc.to_string()), ("site", "default")])
        .await
}

async fn create_id(app: &TestApp, doc: Value) -> i64 {
    let (s, b) = create(app, doc).await;
    assert_eq!(s, 201, "{b}");
    b["id"].as_i64().unwrap()
}

/// Ids a list query finds, in the order listed.
async fn listed(app: &TestApp, query: &str) -> Vec<i64> {
    let (s, b) = app.get(&format!("/api/v5/customers-corporate?{query}")).await;
    assert_eq!(s, 200, "{query}: {b}");
    b["customersCorporate"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect()
}

fn error_of(b: &Value, field: &str) -> String {
    b["errors"][field].as_str().unwrap_or_else(|| panic!("no error at {field}: {b}")).to_string()
}

/// A corporate customer with two addresses, a company with its legal details and a contact (the
/// customer `anna`); `crm_meta` checks the document describes each of its members.
pub(crate) fn acme(anna: i64) -> Value {
    json!({
        "externalId": "acme", "nickName": "Акме", "vip": true, "discountCardNumber": "D-1",
        "addresses": [{"externalId": "hq", "name": "Офис", "city": "Тверь", "countryIso": "RU", "text": "ул. Мира, 1"},
                      {"externalId": "wh", "name": "Склад", "city": "Клин", "isMain": true}],
        "companies": [{"externalId": "acme-llc", "name": "ООО Акме", "address": {"externalId": "hq"},
                       "contragent": {"contragentType": "legal-entity", "legalName": "ООО «Акме»",
                                      "INN": "7707083893", "KPP": "773601001"}}],
        "customerContacts": [{"customer": {"id": anna}, "isMain": true,
                              "companies": [{"company": {"externalId": "acme-llc"}}]}],
    })
}

both!(corporate_customers_are_created_read_edited_and_listed, |app: TestApp| async move {
    let anna = customer(&app, "cc-anna", "Анна", "anna@acme.example").await;
    let boris = customer(&app, "cc-boris", "Борис", "boris@acme.example").await;
    let acme = create_id(&app, acme(anna)).await;
    let globex = create_id(&app, json!({"externalId": "globex", "nickName": "Globex", "bad": true})).await;

    let (s, b) = app.get("/api/v5/customers-corporate/acme?site=default").await;
    assert_eq!(s, 200, "{b}");
    let c = &b["customerCorporate"];
    assert_eq!(
        (c["id"].as_i64(), c["type"].as_str(), c["nickName"].as_str()),
        (Some(acme), Some("customer_corporate"), Some("Акме"))
    );
    assert_eq!(
        (c["vip"].as_bool(), c["bad"].as_bool(), c["site"].as_str()),
        (Some(true), Some(false), Some("default"))
    );
    assert_eq!(c["discountCardNumber"], "D-1");
    assert_eq!(c["createdAt"].as_str().map(str::len), Some(19), "{c}");
    assert_eq!((c["ordersCount"].as_i64(), c["totalSumm"].as_f64()), (Some(0), Some(0.0)));
    let addresses = c["addresses"].as_array().unwrap();
    assert_eq!(addresses.len(), 2);
    // The one given as main is main, and listed first.
    assert_eq!((addresses[0]["externalId"].as_str(), addresses[0]["isMain"].as_bool()), (Some("wh"), Some(true)));
    assert_eq!(addresses[1]["city"], "Тверь");
    assert_eq!(c["mainAddress"]["externalId"], "wh");
    let company = &c["companies"][0];
    assert_eq!(
        (company["name"].as_str(), company["isMain"].as_bool(), company["active"].as_bool()),
        (Some("ООО Акме"), Some(true), Some(true))
    );
    assert_eq!(company["contragent"]["INN"], "7707083893");
    assert_eq!(company["address"], json!({"id": addresses[1]["id"], "externalId": "hq"}));
    assert_eq!(c["mainCompany"]["id"], company["id"]);
    let contact = &c["customerContacts"][0];
    assert_eq!(contact["customer"], json!({"id": anna, "externalId": "cc-anna", "site": "default"}));
    assert_eq!(
        (contact["isMain"].as_bool(), contact["companies"][0]["company"]["name"].as_str()),
        (Some(true), Some("ООО Акме"))
    );
    assert_eq!(c["mainCustomerContact"]["customer"]["id"], anna);
    // The contact person is one now; the other customer is not.
    let (_, b) = app.get("/api/v5/customers/cc-anna?site=default").await;
    assert_eq!(b["customer"]["isContact"], true, "{b}");
    let (s, b) = app.get("/api/v5/customers?filter[isContact]=1").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        b["customers"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect::<Vec<_>>(),
        vec![anna]
    );
    let (_, b) = app.get("/api/v5/customers?filter[isContact]=0").await;
    assert_eq!(b["customers"][0]["id"].as_i64(), Some(boris));
    assert_eq!(b["customers"][0]["isContact"], false);
    let (s, b) = app.get(&format!("/api/v5/customers-corporate/{acme}?by=id")).await;
    assert_eq!((s.as_u16(), b["customerCorporate"]["externalId"].as_str()), (200, Some("acme")));

    // Edit through `customerCorporate`, and through `customersCorporate` as the Python client sends it.
    let (s, b) = app
        .post(
            "/api/v5/customers-corporate/acme/edit",
            &[("customerCorporate", &json!({"nickName": "Акме Групп", "vip": false}).to_string()), ("site", "default")],
        )
        .await;
    assert_eq!((s.as_u16(), b["id"].as_i64()), (200, Some(acme)), "{b}");
    let (s, _) = app
        .post(
            &format!("/api/v5/customers-corporate/{globex}/edit"),
            &[("customersCorporate", &json!({"bad": false}).to_string()), ("by", "id")],
        )
        .await;
    assert_eq!(s, 200);
    let (_, b) = app.get("/api/v5/customers-corporate/acme?site=default").await;
    assert_eq!(
        (b["customerCorporate"]["nickName"].as_str(), b["customerCorporate"]["vip"].as_bool()),
        (Some("Акме Групп"), Some(false))
    );
    // Members are not replaced by an edit.
    assert_eq!(b["customerCorporate"]["addresses"].as_array().map(Vec::len), Some(2));

    // The list and its filters.
    assert_eq!(listed(&app, "").await, vec![acme, globex]);
    assert_eq!(listed(&app, "filter[name]=групп").await, vec![acme]);
    assert_eq!(
        listed(&app, "filter[name]=%D0%BE%D0%BE%D0%BE%20%D0%B0%D0%BA%D0%BC%D0%B5").await,
        vec![acme],
        "a company's name"
    );
    assert_eq!(listed(&app, "filter[contragentInn]=7707083893").await, vec![acme]);
    assert_eq!(listed(&app, "filter[contragentKpp]=000000000").await, Vec::<i64>::new());
    assert_eq!(listed(&app, "filter[contragentTypes][]=legal-entity").await, vec![acme]);
    assert_eq!(listed(&app, "filter[city]=клин").await, vec![acme]);
    assert_eq!(listed(&app, &format!("filter[contactIds][]={anna}")).await, vec![acme]);
    assert_eq!(listed(&app, &format!("filter[contactIds][]={boris}")).await, Vec::<i64>::new());
    assert_eq!(listed(&app, "filter[email]=ANNA@acme.example").await, vec![acme]);
    assert_eq!(listed(&app, "filter[externalIds][]=globex").await, vec![globex]);
    assert_eq!(listed(&app, &format!("filter[ids][]={globex}&filter[ids][]={acme}")).await, vec![acme, globex]);
    assert_eq!(listed(&app, "filter[discountCardNumber]=d-1").await, vec![acme]);
    assert_eq!(listed(&app, "filter[vip]=0&filter[bad]=0").await, vec![acme, globex]);
    assert_eq!(listed(&app, "filter[dateFrom]=2000-01-01&filter[sites][]=default").await, vec![acme, globex]);
    assert_eq!(listed(&app, "filter[dateTo]=2000-01-01").await, Vec::<i64>::new());
    assert_eq!(listed(&app, "filter[minOrdersCount]=1").await, Vec::<i64>::new());
    assert_eq!(listed(&app, "filter[classSegment]=big").await, Vec::<i64>::new());
    assert_eq!(listed(&app, "filter[tasksCounts]=1").await, vec![acme, globex]);
    assert_eq!(listed(&app, "filter[tasksCounts]=2").await, Vec::<i64>::new());
    let (s, b) = app.get("/api/v5/customers-corporate?limit=20&page=2").await;
    assert_eq!(s, 200);
    assert_eq!(b["pagination"], json!({"limit": 20, "totalCount": 2, "currentPage": 2, "totalPageCount": 1}));
    assert_eq!(b["customersCorporate"], json!([]));
});

both!(corporate_members_have_their_own_methods, |app: TestApp| async move {
    let anna = customer(&app, "m-anna", "Анна", "anna@m.example").await;
    let boris = customer(&app, "m-boris", "Борис", "boris@m.example").await;
    let id = create_id(&app, json!({"externalId": "m1", "nickName": "Members"})).await;
    let post = |path: String, field: &'static str, doc: Value, extra: Vec<(&'static str, &'static str)>| {
        let app = &app;
        async move {
            let doc = doc.to_string();
            let mut form = vec![(field, doc.as_str()), ("site", "default")];
            form.extend(extra);
            app.post(&path, &form).await
        }
    };

    // Addresses: the first is main; making another main moves the flag.
    let (s, b) = post(
        "/api/v5/customers-corporate/m1/addresses/create".into(),
        "address",
        json!({"externalId": "a1", "name": "One", "city": "Пермь"}),
        vec![],
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let a1 = b["id"].as_i64().unwrap();
    let (s, b) = post(
        format!("/api/v5/customers-corporate/{id}/addresses/create"),
        "address",
        json!({"name": "Two", "region": "Тверская обл."}),
        vec![("by", "id")],
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let a2 = b["id"].as_i64().unwrap();
    let (s, b) = post(
        format!("/api/v5/customers-corporate/m1/addresses/{a2}/edit"),
        "address",
        json!({"isMain": true, "city": "Тверь"}),
        vec![("entityBy", "id")],
    )
    .await;
    assert_eq!((s.as_u16(), b["id"].as_i64()), (200, Some(a2)), "{b}");
    let (s, b) = app.get("/api/v5/customers-corporate/m1/addresses?site=default").await;
    assert_eq!(s, 200, "{b}");
    let list = b["addresses"].as_array().unwrap();
    assert_eq!(
        list.iter().map(|a| (a["id"].as_i64().unwrap(), a["isMain"].as_bool().unwrap())).collect::<Vec<_>>(),
        vec![(a2, true), (a1, false)]
    );
    assert_eq!(list[0]["city"], "Тверь");
    let (_, b) = app.get("/api/v5/customers-corporate/m1/addresses?site=default&filter[city]=перм").await;
    assert_eq!(b["addresses"].as_array().map(Vec::len), Some(1));
    let (_, b) = app.get(&format!("/api/v5/customers-corporate/m1/addresses?site=default&filter[ids][]={a2}")).await;
    assert_eq!(b["addresses"][0]["id"], a2);
    let (s, b) =
        post("/api/v5/customers-corporate/m1/addresses/a1/edit".into(), "address", json!({"name": "Первый"}), vec![])
            .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) =
        post("/api/v5/customers-corporate/m1/addresses/nope/edit".into(), "address", json!({"name": "X"}), vec![])
            .await;
    assert_eq!((s.as_u16(), b["errorMsg"].as_str()), (404, Some("Not found")));

    // Companies: details checked, address resolved among the customer's own.
    let (s, b) = post("/api/v5/customers-corporate/m1/companies/create".into(), "company", json!({"externalId": "c1", "name": "ИП Петров", "address": {"id": a1}, "contragent": {"contragentType": "enterpreneur", "INN": "500100732259"}}), vec![]).await;
    assert_eq!(s, 201, "{b}");
    let c1 = b["id"].as_i64().unwrap();
    let (s, b) = post(
        "/api/v5/customers-corporate/m1/companies/create".into(),
        "company",
        json!({"name": "Bad", "contragent": {"INN": "12345"}}),
        vec![],
    )
    .await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(error_of(&b, "contragent.INN"), "This value should be 10 or 12 digits.");
    let (s, b) = post(
        "/api/v5/customers-corporate/m1/companies/create".into(),
        "company",
        json!({"name": "Far", "address": {"externalId": "elsewhere"}}),
        vec![],
    )
    .await;
    assert_eq!((s.as_u16(), error_of(&b, "address")), (400, "Address with externalId=elsewhere not found.".into()));
    let (s, b) = post(
        "/api/v5/customers-corporate/m1/companies/create".into(),
        "company",
        json!({"externalId": "c1", "name": "Twin"}),
        vec![],
    )
    .await;
    assert_eq!((s.as_u16(), error_of(&b, "externalId")), (400, "Company with this externalId already exists.".into()));
    let (s, b) = post(
        "/api/v5/customers-corporate/m1/companies/c1/edit".into(),
        "company",
        json!({"active": false, "brand": "Петров и сыновья"}),
        vec![],
    )
    .await;
    assert_eq!((s.as_u16(), b["id"].as_i64()), (200, Some(c1)), "{b}");
    let (s, b) = app.get("/api/v5/customers-corporate/m1/companies?site=default").await;
    assert_eq!(s, 200, "{b}");
    let c = &b["companies"][0];
    assert_eq!(
        (c["active"].as_bool(), c["brand"].as_str(), c["isMain"].as_bool()),
        (Some(false), Some("Петров и сыновья"), Some(true))
    );
    assert_eq!(c["address"]["id"], a1);
    assert_eq!(b["pagination"]["totalCount"], 1);

    // Contacts: named by the individual customer.
    let (s, b) = post(
        "/api/v5/customers-corporate/m1/contacts/create".into(),
        "contact",
        json!({"customer": {"externalId": "m-anna"}, "companies": [{"id": c1}]}),
        vec![],
    )
    .await;
    assert_eq!((s.as_u16(), b["id"].as_i64()), (201, Some(anna)), "{b}");
    let (s, b) = post(
        "/api/v5/customers-corporate/m1/contacts/create".into(),
        "contact",
        json!({"customer": {"id": boris}, "isMain": true}),
        vec![],
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = post(
        "/api/v5/customers-corporate/m1/contacts/create".into(),
        "contact",
        json!({"customer": {"id": boris}}),
        vec![],
    )
    .await;
    assert_eq!(
        (s.as_u16(), error_of(&b, "customer")),
        (400, "The customer is already a contact of this corporate customer.".into())
    );
    let (s, b) = post(
        "/api/v5/customers-corporate/m1/contacts/create".into(),
        "contact",
        json!({"customer": {"id": 999_999}}),
        vec![],
    )
    .await;
    assert_eq!((s.as_u16(), error_of(&b, "customer")), (400, "Customer with id=999999 not found.".into()));
    let (s, b) = post(
        "/api/v5/customers-corporate/m1/contacts/m-anna/edit".into(),
        "contact",
        json!({"isMain": true, "companies": []}),
        vec![],
    )
    .await;
    assert_eq!((s.as_u16(), b["id"].as_i64()), (200, Some(anna)), "{b}");
    let (_, b) = app.get("/api/v5/customers-corporate/m1/contacts?site=default").await;
    let contacts = b["contacts"].as_array().unwrap();
    assert_eq!(
        contacts
            .iter()
            .map(|c| (c["customer"]["id"].as_i64().unwrap(), c["isMain"].as_bool().unwrap()))
            .collect::<Vec<_>>(),
        vec![(anna, true), (boris, false)]
    );
    assert_eq!(contacts[0]["companies"], json!([]));
    let (_, b) = app.get("/api/v5/customers-corporate/m1/contacts?site=default&filter[externalIds][]=m-boris").await;
    assert_eq!(b["contacts"].as_array().map(Vec::len), Some(1));

    // The members' records in the history, each with its member.
    let (s, b) = app.get(&format!("/api/v5/customers-corporate/history?filter[customerId]={id}&limit=100")).await;
    assert_eq!(s, 200, "{b}");
    let h = b["history"].as_array().unwrap();
    assert_eq!(
        (h[0]["created"].as_bool(), h[0]["corporateCustomer"]["type"].as_str()),
        (Some(true), Some("customer_corporate"))
    );
    let fields: Vec<&str> = h.iter().filter_map(|r| r["field"].as_str()).collect();
    for f in [
        "address",
        "address.city",
        "address.name",
        "company",
        "company.active",
        "company.brand",
        "customer_contact",
        "customer_contact.is_main",
    ] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }
    let city = h.iter().find(|r| r["field"] == "address.city").unwrap();
    assert_eq!((city["newValue"].as_str(), city["address"]["id"].as_i64()), (Some("Тверь"), Some(a2)));
    let company = h.iter().find(|r| r["field"] == "company").unwrap();
    assert_eq!(company["company"]["externalId"], "c1");
    let since = h[2]["id"].as_i64().unwrap();
    let (_, b) = app.get(&format!("/api/v5/customers-corporate/history?filter[sinceId]={since}&limit=100")).await;
    assert!(b["history"].as_array().unwrap().iter().all(|r| r["id"].as_i64().unwrap() > since));
    assert_eq!(b["pagination"]["totalCount"].as_u64(), Some(h.len() as u64 - 3));
    let (_, b) = app.get(&format!("/api/v5/customers-corporate/history?filter[contactIds][]={boris}")).await;
    assert_eq!(b["pagination"]["totalCount"].as_u64(), Some(h.len() as u64));
});

both!(corporate_errors_and_access, |app: TestApp| async move {
    let (s, b) = create(&app, json!({"externalId": "e1"})).await;
    assert_eq!((s.as_u16(), b["errorMsg"].as_str()), (400, Some("Errors in the entity format")));
    assert_eq!(error_of(&b, "nickName"), "This value should not be blank.");
    let (s, b) = create(&app, json!({"nickName": "X", "companies": [{"name": "Y", "contragent": {"KPP": "1"}}]})).await;
    assert_eq!(
        (s.as_u16(), error_of(&b, "companies[0].contragent.KPP")),
        (400, "This value should be 9 digits.".into())
    );
    // Nothing of a refused create is kept.
    assert_eq!(listed(&app, "").await, Vec::<i64>::new());
    let (s, b) =
        create(&app, json!({"nickName": "X", "customerContacts": [{"customer": {"externalId": "ghost"}}]})).await;
    assert_eq!(
        (s.as_u16(), error_of(&b, "customerContacts[0].customer")),
        (400, "Customer with externalId=ghost not found.".into())
    );
    let (s, b) = create(&app, json!({"nickName": "X", "addresses": "Moscow"})).await;
    assert_eq!((s.as_u16(), error_of(&b, "addresses")), (400, "This value should be a list.".into()));
    let (s, b) = app.post("/api/v5/customers-corporate/create", &[("site", "default")]).await;
    assert_eq!((s.as_u16(), b["errorMsg"].as_str()), (400, Some("Parameter 'customerCorporate' is missing")));
    let (s, b) = create(&app, json!({"nickName": "X", "vip": "often"})).await;
    assert_eq!((s.as_u16(), error_of(&b, "vip")), (400, "This value should be of type bool.".into()));
    let one = create_id(&app, json!({"externalId": "e1", "nickName": "One"})).await;
    let (s, b) = create(&app, json!({"externalId": "e1", "nickName": "Again"})).await;
    assert_eq!(
        (s.as_u16(), error_of(&b, "externalId")),
        (400, "Corporate customer with this externalId already exists.".into())
    );

    let (s, b) = app.get("/api/v5/customers-corporate/nobody?site=default").await;
    assert_eq!((s.as_u16(), b["errorMsg"].as_str()), (404, Some("Not found")));
    let (s, _) = app.get("/api/v5/customers-corporate/abc?by=id").await;
    assert_eq!(s, 404);
    let (s, b) = app.get("/api/v5/customers-corporate/e1?by=name").await;
    assert_eq!((s.as_u16(), b["errorMsg"].as_str()), (400, Some("Errors in the input parameters")));
    let (s, _) = app
        .post(
            "/api/v5/customers-corporate/nobody/edit",
            &[("customerCorporate", r#"{"vip":true}"#), ("site", "default")],
        )
        .await;
    assert_eq!(s, 404);
    let (s, _) = app.get("/api/v5/customers-corporate/nobody/addresses?site=default").await;
    assert_eq!(s, 404);
    let (s, b) = app.get("/api/v5/customers-corporate?filter[shoeSize]=42").await;
    assert_eq!((s.as_u16(), error_of(&b, "filter[shoeSize]")), (400, "This field was not expected.".into()));
    let (s, b) = app.get("/api/v5/customers-corporate?filter[dateFrom]=yesterday").await;
    assert_eq!(s, 400, "{b}");
    let (s, b) = app
        .post(
            "/api/v5/customers-corporate/e1/addresses/1/edit",
            &[("address", "{}"), ("entityBy", "code"), ("site", "default")],
        )
        .await;
    assert_eq!((s.as_u16(), b["errorMsg"].as_str()), (400, Some("Errors in the input parameters")));

    // Scopes and sites.
    let reader = app.key_with(&["customer_read"], &[]).await;
    let (s, _) = app.get_as(&reader, "/api/v5/customers-corporate").await;
    assert_eq!(s, 200);
    let (s, b) = app
        .post_as(&reader, "/api/v5/customers-corporate/create", &[("customerCorporate", r#"{"nickName":"N"}"#)])
        .await;
    assert_eq!((s.as_u16(), b["errorMsg"].as_str()), (403, Some("Access denied.")));
    let orders_only = app.key_with(&["order_read"], &[]).await;
    let (s, _) = app.get_as(&orders_only, "/api/v5/customers-corporate").await;
    assert_eq!(s, 403);
    app.add_site("other").await;
    let (s, b) = app
        .post(
            "/api/v5/customers-corporate/create",
            &[("customerCorporate", r#"{"nickName":"Elsewhere","externalId":"far"}"#), ("site", "other")],
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let far = b["id"].as_i64().unwrap();
    let local = app.key_with(&["customer_read", "customer_write"], &["default"]).await;
    let (s, b) = app.get_as(&local, "/api/v5/customers-corporate").await;
    assert_eq!(s, 200);
    let ids: Vec<i64> = b["customersCorporate"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![one]);
    let (s, _) = app.get_as(&local, &format!("/api/v5/customers-corporate/{far}?by=id")).await;
    assert_eq!(s, 404);
    let (s, _) = app.get_as(&local, "/api/v5/customers-corporate?filter[sites][]=other").await;
    assert_eq!(s, 403);
    let (s, _) = app
        .post_as(
            &local,
            &format!("/api/v5/customers-corporate/{far}/addresses/create"),
            &[("address", r#"{"name":"x"}"#), ("by", "id")],
        )
        .await;
    assert_eq!(s, 404);
});

both!(corporate_upload_fix_notes_and_combine, |app: TestApp| async move {
    // Upload: one refused, the others stay (460).
    let docs =
        json!([{"externalId": "u1", "nickName": "U1"}, {"externalId": "u2"}, {"externalId": "u3", "nickName": "U3"}]);
    let (s, b) = app
        .post("/api/v5/customers-corporate/upload", &[("customersCorporate", &docs.to_string()), ("site", "default")])
        .await;
    assert_eq!(s.as_u16(), 460, "{b}");
    assert_eq!(b["uploadedCustomers"].as_array().map(Vec::len), Some(2));
    assert_eq!(b["failedCustomers"], json!([{"externalId": "u2"}]));
    let u1 = b["uploadedCustomers"][0]["id"].as_i64().unwrap();
    let u3 = b["uploadedCustomers"][1]["id"].as_i64().unwrap();
    let docs = json!([{"nickName": "U4"}]);
    let (s, b) = app
        .post("/api/v5/customers-corporate/upload", &[("customersCorporate", &docs.to_string()), ("site", "default")])
        .await;
    assert_eq!((s.as_u16(), b["failedCustomers"].clone()), (200, json!([])), "{b}");
    let u4 = b["uploadedCustomers"][0]["id"].as_i64().unwrap();

    // Fix external ids: all or nothing.
    let pairs = json!([{"id": u4, "externalId": "u4"}, {"id": 999_999, "externalId": "ghost"}]);
    let (s, b) =
        app.post("/api/v5/customers-corporate/fix-external-ids", &[("customersCorporate", &pairs.to_string())]).await;
    assert_eq!(
        (s.as_u16(), error_of(&b, "customersCorporate[1].id")),
        (400, "Corporate customer with id 999999 not found.".into())
    );
    let (s, _) = app.get("/api/v5/customers-corporate/u4?site=default").await;
    assert_eq!(s, 404);
    let pairs = json!([{"id": u4, "externalId": "u4"}]);
    let (s, _) =
        app.post("/api/v5/customers-corporate/fix-external-ids", &[("customersCorporate", &pairs.to_string())]).await;
    assert_eq!(s, 200);
    let (s, b) = app.get("/api/v5/customers-corporate/u4?site=default").await;
    assert_eq!((s.as_u16(), b["customerCorporate"]["id"].as_i64()), (200, Some(u4)));

    // Notes.
    let note = json!({"customer": {"externalId": "u1"}, "text": "Платят в срок"});
    let (s, b) =
        app.post("/api/v5/customers-corporate/notes/create", &[("note", &note.to_string()), ("site", "default")]).await;
    assert_eq!(s, 201, "{b}");
    let n1 = b["id"].as_i64().unwrap();
    let note = json!({"customer": {"id": u3}, "text": "Second"});
    let (s, _) = app.post("/api/v5/customers-corporate/notes/create", &[("note", &note.to_string())]).await;
    assert_eq!(s, 201);
    let note = json!({"customer": {"id": 999_999}, "text": "Nobody"});
    let (s, b) = app.post("/api/v5/customers-corporate/notes/create", &[("note", &note.to_string())]).await;
    assert_eq!((s.as_u16(), error_of(&b, "customer")), (400, "Corporate customer with id=999999 not found.".into()));
    let (s, b) = app.get("/api/v5/customers-corporate/notes?filter[customerExternalIds][]=u1").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["notes"][0]["id"], n1);
    assert_eq!(
        b["notes"][0]["customer"],
        json!({"id": u1, "externalId": "u1", "site": "default", "type": "customer_corporate"})
    );
    let (_, b) = app.get("/api/v5/customers-corporate?filter[notes]=%D0%B2%20%D1%81%D1%80%D0%BE%D0%BA").await;
    assert_eq!(b["customersCorporate"][0]["id"], u1);
    // Corporate notes and individual customers' notes are apart.
    let (_, b) = app.get("/api/v5/customers/notes").await;
    assert_eq!(b["notes"], json!([]));
    let (s, _) = app.post(&format!("/api/v5/customers/notes/{n1}/delete"), &[]).await;
    assert_eq!(s, 404);
    let (s, _) = app.post(&format!("/api/v5/customers-corporate/notes/{n1}/delete"), &[]).await;
    assert_eq!(s, 200);
    let (_, b) = app.get("/api/v5/customers-corporate/notes").await;
    assert_eq!(b["pagination"]["totalCount"], 1);

    // Combine: u3 into u1, with its address and note; u3 is then gone, naming where it went.
    let addr = json!({"externalId": "same", "name": "Shared"});
    for owner in ["u1", "u3"] {
        let (s, _) = app
            .post(
                &format!("/api/v5/customers-corporate/{owner}/addresses/create"),
                &[("address", &addr.to_string()), ("site", "default")],
            )
            .await;
        assert_eq!(s, 201);
    }
    let (s, b) = app
        .post(
            "/api/v5/customers-corporate/combine",
            &[("customers", &json!([{"id": u3}]).to_string()), ("resultCustomer", &json!({"id": u3}).to_string())],
        )
        .await;
    assert_eq!(
        (s.as_u16(), error_of(&b, "resultCustomer.id")),
        (400, "A corporate customer cannot be combined with itself.".into())
    );
    let (s, b) = app
        .post(
            "/api/v5/customers-corporate/combine",
            &[("customers", &json!([{"id": u3}]).to_string()), ("resultCustomer", &json!({"id": u1}).to_string())],
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = app.get("/api/v5/customers-corporate/u3?site=default").await;
    assert_eq!((s.as_u16(), b["combinedTo"].clone()), (404, json!({"id": u1, "externalId": "u1"})));
    let (_, b) = app.get("/api/v5/customers-corporate/u1?site=default").await;
    let addresses = b["customerCorporate"]["addresses"].as_array().unwrap();
    assert_eq!(addresses.len(), 2);
    assert_eq!(addresses.iter().filter(|a| a["isMain"] == true).count(), 1);
    assert_eq!(addresses.iter().filter(|a| a["externalId"] == "same").count(), 1, "{addresses:?}");
    let (_, b) = app.get(&format!("/api/v5/customers-corporate/notes?filter[customerIds][]={u1}")).await;
    assert_eq!(b["notes"][0]["text"], "Second");
    let (_, b) = app.get("/api/v5/customers-corporate/history?filter[customerExternalId]=u3&limit=100").await;
    let last = b["history"].as_array().unwrap().last().cloned().unwrap();
    assert_eq!((last["deleted"].as_bool(), last["combinedTo"]["id"].as_i64()), (Some(true), Some(u1)));
});

both!(a_company_is_found_by_its_inn, |app: TestApp| async move {
    create_id(
        &app,
        json!({"externalId": "inn1", "nickName": "Holder", "companies": [
            {"name": "Old", "active": false, "contragent": {"INN": "7707083893"}},
            {"externalId": "live", "name": "Live", "contragent": {"INN": "7707083893", "KPP": "773601001"}}]}),
    )
    .await;
    let found = app.store.company_by_inn("7707083893").await.expect("lookup").expect("a company");
    assert_eq!(
        (found.company.name.as_str(), found.corporate_external_id.as_deref(), found.site.as_str()),
        ("Live", Some("inn1"), "default")
    );
    assert_eq!(found.corporate_name, "Holder");
    assert!(app.store.company_by_inn("0000000000").await.expect("lookup").is_none());
    assert!(app.store.company_by_inn(" ").await.expect("lookup").is_none());
});

both!(orders_can_be_for_a_corporate_customer, |app: TestApp| async move {
    let anna = customer(&app, "o-anna", "Анна", "anna@o.example").await;
    let boris = customer(&app, "o-boris", "Борис", "boris@o.example").await;
    let acme = create_id(
        &app,
        json!({"externalId": "o-acme", "nickName": "Акме",
               "companies": [{"externalId": "main", "name": "ООО Акме", "contragent": {"INN": "7707083893"}},
                             {"externalId": "second", "name": "АО Акме"}],
               "customerContacts": [{"customer": {"id": anna}}]}),
    )
    .await;
    let order = |doc: Value| {
        let app = &app;
        async move { app.post("/api/v5/orders/create", &[("order", &doc.to_string()), ("site", "default")]).await }
    };
    let (s, b) =
        order(json!({"externalId": "co-1", "customer": {"type": "customer_corporate", "externalId": "o-acme"},
                              "items": [{"productName": "Bolts", "initialPrice": 100, "quantity": 3}]}))
        .await;
    assert_eq!(s, 201, "{b}");
    let o = &b["order"];
    assert_eq!(
        o["customer"],
        json!({"type": "customer_corporate", "id": acme, "externalId": "o-acme", "site": "default", "nickName": "Акме"})
    );
    assert_eq!((o["contact"]["id"].as_i64(), o["contact"]["type"].as_str()), (Some(anna), Some("customer")));
    assert_eq!(
        (o["company"]["externalId"].as_str(), o["company"]["contragent"]["INN"].as_str()),
        (Some("main"), Some("7707083893"))
    );
    assert_eq!(
        (o["firstName"].as_str(), o["email"].as_str()),
        (Some("Анна"), Some("anna@o.example")),
        "filled from the contact"
    );
    assert!(o.get("corporateId").is_none() && o.get("contactId").is_none(), "{o}");
    let (s, b) = order(json!({"externalId": "co-2", "customer": {"type": "customer_corporate", "id": acme},
                              "contact": {"id": boris}}))
    .await;
    assert_eq!(
        (s.as_u16(), error_of(&b, "contact")),
        (400, format!("Customer with id={boris} is not a contact person of the corporate customer."))
    );
    let (s, b) =
        order(json!({"externalId": "co-2", "customer": {"type": "customer_corporate", "externalId": "ghost"}})).await;
    assert_eq!((s.as_u16(), b["errorMsg"].as_str()), (400, Some("Order is not loaded")));
    let (s, b) = order(json!({"externalId": "co-2", "firstName": "Solo", "company": {"externalId": "main"}})).await;
    assert_eq!(
        (s.as_u16(), error_of(&b, "company")),
        (400, "Only an order for a corporate customer has a contact person and a company.".into())
    );
    let (s, b) = order(json!({"externalId": "io-1", "firstName": "Иван", "email": "ivan@o.example"})).await;
    assert_eq!(s, 201, "{b}");

    // The corporate customer's figures and the order list's filters.
    let (_, b) = app.get("/api/v5/customers-corporate/o-acme?site=default").await;
    assert_eq!(
        (b["customerCorporate"]["ordersCount"].as_i64(), b["customerCorporate"]["totalSumm"].as_f64()),
        (Some(1), Some(300.0))
    );
    assert_eq!(listed(&app, "filter[minOrdersCount]=1&filter[minTotalSumm]=300").await, vec![acme]);
    let numbers = |q: &'static str| {
        let app = &app;
        async move {
            let (s, b) = app.get(&format!("/api/v5/orders?{q}")).await;
            assert_eq!(s, 200, "{b}");
            b["orders"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["externalId"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(numbers("filter[customerType]=customer_corporate").await, vec!["co-1"]);
    assert_eq!(numbers("filter[customerType]=customer").await, vec!["io-1"]);
    assert_eq!(numbers("filter[companyName]=%D0%B0%D0%BA%D0%BC%D0%B5").await, vec!["co-1"]);

    // Edit: another company; then an individual customer instead.
    let (s, b) = app
        .post("/api/v5/orders/co-1/edit", &[("order", r#"{"company":{"externalId":"second"}}"#), ("site", "default")])
        .await;
    assert_eq!(s, 200, "{b}");
    let (_, b) = app.get("/api/v5/orders/co-1?site=default").await;
    assert_eq!(
        (b["order"]["company"]["name"].as_str(), b["order"]["contact"]["id"].as_i64()),
        (Some("АО Акме"), Some(anna))
    );
    let (s, b) = app
        .post(
            "/api/v5/orders/co-1/edit",
            &[("order", &json!({"customer": {"id": boris}}).to_string()), ("site", "default")],
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (_, b) = app.get("/api/v5/orders/co-1?site=default").await;
    assert_eq!(
        (b["order"]["customer"]["type"].as_str(), b["order"]["customer"]["id"].as_i64()),
        (Some("customer"), Some(boris))
    );
    assert!(b["order"].get("company").is_none() && b["order"].get("contact").is_none(), "{}", b["order"]);
    assert_eq!(numbers("filter[customerType]=customer_corporate").await, Vec::<String>::new());
});

both!(odd_input_never_fails_the_server, |app: TestApp| async move {
    create_id(&app, json!({"externalId": "odd", "nickName": "Odd"})).await;
    let odd = [
        "[]",
        "1",
        "null",
        "\"text\"",
        "{",
        r#"{"nickName": {}}"#,
        r#"{"nickName": "N", "managerId": "x"}"#,
        r#"{"nickName": "N", "customFields": [1]}"#,
        r#"{"name": "N", "contragent": [1], "isMain": "yes"}"#,
        r#"{"name": "N", "address": 7, "customFields": "x"}"#,
        r#"{"customer": {"id": "abc"}, "companies": 3}"#,
        r#"{"city": {"a": 1}, "countryIso": 7, "isMain": 1}"#,
        r#"{"customer": 1, "companies": [[1]]}"#,
    ];
    let posts = [
        ("/api/v5/customers-corporate/create", "customerCorporate"),
        ("/api/v5/customers-corporate/upload", "customersCorporate"),
        ("/api/v5/customers-corporate/fix-external-ids", "customersCorporate"),
        ("/api/v5/customers-corporate/odd/edit", "customerCorporate"),
        ("/api/v5/customers-corporate/odd/addresses/create", "address"),
        ("/api/v5/customers-corporate/odd/addresses/x/edit", "address"),
        ("/api/v5/customers-corporate/odd/companies/create", "company"),
        ("/api/v5/customers-corporate/odd/companies/x/edit", "company"),
        ("/api/v5/customers-corporate/odd/contacts/create", "contact"),
        ("/api/v5/customers-corporate/odd/contacts/x/edit", "contact"),
        ("/api/v5/customers-corporate/notes/create", "note"),
        ("/api/v5/customers-corporate/combine", "customers"),
    ];
    for (path, field) in posts {
        for value in odd {
            let (s, b) = app.post(path, &[(field, value), ("site", "default"), ("resultCustomer", value)]).await;
            assert!(s.is_client_error() || s.is_success(), "{path} {field}={value}: {s} {b}");
            assert_eq!(b["success"], s.is_success(), "{path}: {b}");
        }
    }
    for query in
        ["filter[ids][]=x", "filter[contactIds]=y", "filter[customFields][a][min]=z", "limit=0", "page=-1", "filter=1"]
    {
        for path in [
            "/api/v5/customers-corporate",
            "/api/v5/customers-corporate/history",
            "/api/v5/customers-corporate/odd/addresses",
        ] {
            let (s, b) = app.get(&format!("{path}?site=default&{query}")).await;
            assert!(s.is_client_error() || s.is_success(), "{path}?{query}: {s} {b}");
        }
    }
});
