//! The CRM lists as the official clients filter them: every key of the order and customer filters
//! (each with a case that includes and one that excludes), unknown keys refused; products and offers
//! with their groups, properties, images, units and VAT rates; payments in order history.

use crate::common::{TestApp, both};
use serde_json::{Value, json};
use torg_domain::telephony::{User, UserGroup};

/// A manager, in the user group `group` when given.
async fn manager(app: &TestApp, first: &str, group: Option<&str>) -> i64 {
    if let Some(code) = group {
        app.store
            .put_user_group(&UserGroup { code: code.into(), name: code.into(), is_manager: true, ..Default::default() })
            .await
            .expect("group");
    }
    app.store
        .create_user(&User {
            first_name: first.into(),
            last_name: "Manager".into(),
            active: true,
            groups: group.map(|g| vec![g.to_string()]).unwrap_or_default(),
            ..Default::default()
        })
        .await
        .expect("user")
        .id
}

async fn post_ok(app: &TestApp, path: &str, field: &str, doc: Value) -> Value {
    let (s, b) = app.post(path, &[(field, &doc.to_string()), ("site", "default")]).await;
    assert!(s.is_success(), "{path}: {s} {b}");
    b
}

/// External ids (sorted) of what a list query returns; 200 asserted.
async fn listed(app: &TestApp, entity: &str, query: &str) -> Vec<String> {
    let (s, b) = app.get(&format!("/api/v5/{entity}?limit=100&{query}")).await;
    assert_eq!(s, 200, "{query}: {b}");
    let mut ext: Vec<String> =
        b[entity].as_array().unwrap().iter().map(|o| o["externalId"].as_str().unwrap_or("").to_string()).collect();
    ext.sort();
    ext
}

both!(order_filters_every_key, |app: TestApp| async move {
    let m1 = manager(&app, "Olga", Some("sales")).await;
    let m2 = manager(&app, "Ivan", None).await;
    post_ok(
        &app,
        "/api/v5/customers/create",
        "customer",
        json!({"externalId": "ca", "firstName": "Anna", "vip": true}),
    )
    .await;
    post_ok(
        &app,
        "/api/v5/customers/create",
        "customer",
        json!({"externalId": "cb", "firstName": "Boris", "bad": true}),
    )
    .await;
    post_ok(&app, "/api/v5/customers/create", "customer", json!({"externalId": "cc", "firstName": "Carl"})).await;
    post_ok(&app, "/api/v5/orders/create", "order", json!({
        "externalId": "a", "customer": {"externalId": "ca"}, "managerId": m1, "countryIso": "RU",
        "createdAt": "2024-05-01 10:00:00", "shipmentDate": "2024-05-08",
        "call": true, "expired": true, "uploadedToExternalStoreSystem": true,
        "items": [{"productName": "Насос", "initialPrice": 1000, "quantity": 1, "purchasePrice": 600}],
        "delivery": {"code": "courier", "cost": 100, "netCost": 40, "date": "2024-05-10",
            "address": {"index": "420000", "region": "Татарстан", "city": "Казань", "metro": "Кремлёвская"},
            "time": {"from": "09:00", "to": "12:00"}, "service": {"code": "cdek", "name": "СДЭК"},
            "data": {"externalId": "DX-1", "courierId": 5}},
        "contragent": {"contragentType": "legal-entity", "legalName": "ООО Ромашка", "INN": "7701", "KPP": "7702",
            "BIK": "044525", "corrAccount": "30101", "bankAccount": "40702"},
        "source": {"source": "Google", "medium": "cpc", "campaign": "spring", "keyword": "насос", "content": "banner"},
        "payments": [{"type": "cash", "status": "paid", "amount": 1100, "paidAt": "2024-05-09 10:00:00"}]
    })).await;
    post_ok(
        &app,
        "/api/v5/orders/create",
        "order",
        json!({
            "externalId": "b", "customer": {"externalId": "cb"}, "managerId": m2, "countryIso": "KZ",
            "createdAt": "2024-06-01 10:00:00", "shipmentDate": "2024-06-08",
            "items": [{"productName": "Фильтр", "initialPrice": 200, "quantity": 1}],
            "delivery": {"code": "self-delivery", "date": "2024-06-10",
                "address": {"index": "050000", "region": "Алматинская", "metro": "Алатау"},
                "time": {"from": "14:00", "to": "18:00"}, "service": {"code": "dhl"},
                "data": {"externalId": "DX-2", "courierId": 6}},
            "contragent": {"contragentType": "individual", "legalName": "ИП Петров", "INN": "5501"},
            "source": {"source": "Yandex", "medium": "organic"},
            "payments": [{"type": "bank-card", "status": "not-paid", "amount": 200, "paidAt": "2024-06-09 10:00:00"}]
        }),
    )
    .await;
    post_ok(
        &app,
        "/api/v5/orders/create",
        "order",
        json!({
            "externalId": "c", "customer": {"externalId": "cc"}, "createdAt": "2024-07-01 10:00:00",
            "items": [{"productName": "Ремень", "initialPrice": 50, "quantity": 1}]
        }),
    )
    .await;
    let all: &[&str] = &["a", "b", "c"];
    let cases: Vec<(String, Vec<&str>)> = vec![
        ("filter[countries][]=ru".into(), vec!["a"]),
        ("filter[countries][]=KZ&filter[countries][]=BY".into(), vec!["b"]),
        ("filter[countries][]=BY".into(), vec![]),
        ("filter[region]=татар".into(), vec!["a"]),
        ("filter[region]=Москва".into(), vec![]),
        ("filter[index]=420000".into(), vec!["a"]),
        ("filter[index]=42000".into(), vec![]),
        ("filter[metro]=КРЕМЛ".into(), vec!["a"]),
        ("filter[metro]=арбат".into(), vec![]),
        ("filter[deliveryTimeFrom]=10:00".into(), vec!["b"]),
        ("filter[deliveryTimeFrom]=9:00:00".into(), vec!["a", "b"]),
        ("filter[deliveryTimeTo]=12:00".into(), vec!["a"]),
        ("filter[deliveryTimeTo]=08:00".into(), vec![]),
        ("filter[vip]=1".into(), vec!["a"]),
        ("filter[vip]=0".into(), vec!["b", "c"]),
        ("filter[bad]=true".into(), vec!["b"]),
        ("filter[bad]=0".into(), vec!["a", "c"]),
        ("filter[call]=1".into(), vec!["a"]),
        ("filter[call]=0".into(), vec!["b", "c"]),
        ("filter[expired]=1".into(), vec!["a"]),
        ("filter[expired]=0".into(), vec!["b", "c"]),
        ("filter[uploadedToExtStoreSys]=1".into(), vec!["a"]),
        ("filter[uploadedToExtStoreSys]=0".into(), vec!["b", "c"]),
        ("filter[minDeliveryNetCost]=40".into(), vec!["a"]),
        ("filter[maxDeliveryNetCost]=39".into(), vec!["b", "c"]),
        ("filter[minMarginSumm]=300".into(), vec!["a"]),
        ("filter[maxMarginSumm]=200".into(), vec!["b", "c"]),
        ("filter[minMarginSumm]=100&filter[maxMarginSumm]=300".into(), vec!["b"]),
        ("filter[deliveryExternalId]=dx-2".into(), vec!["b"]),
        ("filter[deliveryExternalId]=DX-3".into(), vec![]),
        ("filter[contragentName]=ромашка".into(), vec!["a"]),
        ("filter[contragentName]=сидоров".into(), vec![]),
        ("filter[contragentTypes][]=individual".into(), vec!["b"]),
        ("filter[contragentTypes][]=enterpreneur".into(), vec![]),
        ("filter[contragentInn]=7701".into(), vec!["a"]),
        ("filter[contragentInn]=770".into(), vec![]),
        ("filter[contragentKpp]=7702".into(), vec!["a"]),
        ("filter[contragentKpp]=1".into(), vec![]),
        ("filter[contragentBik]=044525".into(), vec!["a"]),
        ("filter[contragentBik]=1".into(), vec![]),
        ("filter[contragentCorrAccount]=30101".into(), vec!["a"]),
        ("filter[contragentCorrAccount]=1".into(), vec![]),
        ("filter[contragentBankAccount]=40702".into(), vec!["a"]),
        ("filter[contragentBankAccount]=1".into(), vec![]),
        ("filter[deliveryServices][]=CDEK".into(), vec!["a"]),
        ("filter[deliveryServices][]=boxberry".into(), vec![]),
        ("filter[couriers][]=6".into(), vec!["b"]),
        ("filter[couriers][]=7".into(), vec![]),
        ("filter[managerGroups][]=sales".into(), vec!["a"]),
        ("filter[managerGroups][]=nobody".into(), vec![]),
        (format!("filter[managers][]={m2}"), vec!["b"]),
        ("filter[paidAtFrom]=2024-05-09&filter[paidAtTo]=2024-05-09".into(), vec!["a"]),
        ("filter[paidAtFrom]=2024-06-01".into(), vec!["b"]),
        ("filter[paidAtTo]=2024-05-01".into(), vec![]),
        ("filter[fullPaidAtFrom]=2024-05-09".into(), vec!["a"]),
        ("filter[fullPaidAtTo]=2024-05-09 09:59:59".into(), vec![]),
        ("filter[fullPaidAtTo]=2024-05-31".into(), vec!["a"]),
        ("filter[deliveryDateFrom]=2024-06-01".into(), vec!["b"]),
        ("filter[deliveryDateTo]=2024-05-10".into(), vec!["a"]),
        ("filter[deliveryDateFrom]=2024-07-01".into(), vec![]),
        ("filter[shipmentDateFrom]=2024-05-08&filter[shipmentDateTo]=2024-05-08 23:00:00".into(), vec!["a"]),
        ("filter[shipmentDateTo]=2024-05-01".into(), vec![]),
        ("filter[firstOrderFrom]=2024-05-15".into(), vec!["b", "c"]),
        ("filter[firstOrderTo]=2024-05-01".into(), vec!["a"]),
        ("filter[lastOrderFrom]=2024-06-01&filter[lastOrderTo]=2024-06-30".into(), vec!["b"]),
        ("filter[lastOrderFrom]=2024-08-01".into(), vec![]),
        ("filter[sourceName]=google".into(), vec!["a"]),
        ("filter[sourceName]=bing".into(), vec![]),
        ("filter[mediumName]=ORGANIC".into(), vec!["b"]),
        ("filter[mediumName]=email".into(), vec![]),
        ("filter[campaignName]=spring".into(), vec!["a"]),
        ("filter[campaignName]=autumn".into(), vec![]),
        ("filter[keywordName]=насос".into(), vec!["a"]),
        ("filter[keywordName]=фильтр".into(), vec![]),
        ("filter[adContentName]=banner".into(), vec!["a"]),
        ("filter[adContentName]=video".into(), vec![]),
        ("filter[customerExternalId]=cb".into(), vec!["b"]),
        ("filter[customerExternalId]=zz".into(), vec![]),
        // What torg keeps nothing of: "none" matches every order, anything else none.
        ("filter[attachments]=0".into(), all.to_vec()),
        ("filter[attachments]=1".into(), vec![]),
        ("filter[online]=0".into(), all.to_vec()),
        ("filter[online]=1".into(), vec![]),
        // No tasks or costs here (crm_tasks_costs has both): no task left to do, every cost 0.
        ("filter[minCostSumm]=0&filter[maxCostSumm]=10".into(), all.to_vec()),
        ("filter[minCostSumm]=0.01".into(), vec![]),
        ("filter[maxCostSumm]=-1".into(), vec![]),
        ("filter[tasksCounts]=1".into(), all.to_vec()),
        ("filter[tasksCounts]=2".into(), vec![]),
        ("filter[customerType]=customer".into(), all.to_vec()),
        ("filter[customerType]=customer_corporate".into(), vec![]),
        ("filter[companyName]=".into(), all.to_vec()),
        ("filter[companyName]=Acme".into(), vec![]),
        ("filter[mgChannels]=".into(), all.to_vec()),
        ("filter[mgChannels][]=3".into(), vec![]),
        ("filter[deliveryStates][]=none".into(), all.to_vec()),
        ("filter[deliveryStates][]=success".into(), vec![]),
        ("filter[receiptFiscalDocumentAttribute]=".into(), all.to_vec()),
        ("filter[receiptFiscalDocumentAttribute]=1".into(), vec![]),
        ("filter[receiptStatus]=".into(), all.to_vec()),
        ("filter[receiptStatus]=done".into(), vec![]),
        ("filter[receiptOperation]=".into(), all.to_vec()),
        ("filter[receiptOperation]=sell".into(), vec![]),
        ("filter[receiptOrderStatus]=".into(), all.to_vec()),
        ("filter[receiptOrderStatus]=complete".into(), vec![]),
        ("filter[dpdParcelDateFrom]=".into(), all.to_vec()),
        ("filter[dpdParcelDateFrom]=2024-01-01".into(), vec![]),
        ("filter[dpdParcelDateTo]=2030-01-01".into(), vec![]),
        ("filter[firstWebVisitFrom]=".into(), all.to_vec()),
        ("filter[firstWebVisitFrom]=2024-01-01".into(), vec![]),
        ("filter[firstWebVisitTo]=2030-01-01".into(), vec![]),
        ("filter[lastWebVisitTo]=".into(), all.to_vec()),
        ("filter[lastWebVisitFrom]=2024-01-01".into(), vec![]),
        ("filter[lastWebVisitTo]=2030-01-01".into(), vec![]),
        // Keys combine with AND.
        ("filter[countries][]=RU&filter[countries][]=KZ&filter[vip]=0".into(), vec!["b"]),
    ];
    for (query, expected) in &cases {
        assert_eq!(listed(&app, "orders", query).await, *expected, "orders?{query}");
    }

    // Rows written before the facets existed get them once, after the migrations.
    let mut tx = app.store.begin().await.unwrap();
    for sql in ["DELETE FROM order_facets", "DELETE FROM customer_facets", "DELETE FROM meta WHERE key = 'list_facets'"]
    {
        torg_store::db::query(sql).execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    assert_eq!(listed(&app, "orders", "filter[contragentInn]=7701").await, Vec::<String>::new());
    app.store.migrate().await.unwrap();
    assert_eq!(listed(&app, "orders", "filter[contragentInn]=7701").await, vec!["a"]);
    assert_eq!(listed(&app, "orders", "filter[metro]=алатау").await, vec!["b"]);

    // Bad values are 400 naming the key.
    for (query, field) in [
        ("filter[deliveryTimeFrom]=late", "filter[deliveryTimeFrom]"),
        ("filter[deliveryDateFrom]=2024-13-01", "filter[deliveryDateFrom]"),
        ("filter[attachments]=7", "filter[attachments]"),
        ("filter[paidAtFrom]=yesterday", "filter[paidAtFrom]"),
        ("filter[customerType]=company", "filter[customerType]"),
        ("filter[couriers][]=x", "filter[couriers]"),
        ("filter[minMarginSumm]=x", "filter[minMarginSumm]"),
        ("filter[firstWebVisitFrom]=someday", "filter[firstWebVisitFrom]"),
    ] {
        let (s, b) = app.get(&format!("/api/v5/orders?{query}")).await;
        assert_eq!(s, 400, "{query}: {b}");
        assert_eq!(b["errorMsg"], "Errors in the input parameters", "{query}");
        assert!(b["errors"][field].is_string(), "{query}: {b}");
    }
});

both!(unknown_filter_keys_are_refused, |app: TestApp| async move {
    for entity in ["orders", "customers"] {
        let (s, b) = app.get(&format!("/api/v5/{entity}?filter[nonsense]=1&filter[ids][]=1")).await;
        assert_eq!(s, 400, "{entity}: {b}");
        assert_eq!(
            b,
            json!({"success": false, "errorMsg": "Errors in the input parameters", "errors": {
                "filter": "This form should not contain extra fields.",
                "filter[nonsense]": "This field was not expected."
            }}),
            "{entity}"
        );
        // A key of the other list is as unknown.
        let other = if entity == "orders" { "dateFrom" } else { "createdAtFrom" };
        let (s, b) = app.get(&format!("/api/v5/{entity}?filter[{other}]=2024-01-01")).await;
        assert_eq!(s, 400, "{entity}: {b}");
        assert!(b["errors"][format!("filter[{other}]")].is_string(), "{b}");
        // Keys of the form are accepted however many, and no filter at all too.
        let (s, _) = app.get(&format!("/api/v5/{entity}?filter[ids][]=1&filter[sites][]=default")).await;
        assert_eq!(s, 200);
        let (s, _) = app.get(&format!("/api/v5/{entity}?filter=None")).await;
        assert_eq!(s, 200);
    }
    // Refused before the sites are looked at: the form is wrong whoever asks.
    let (s, _) = app.get("/api/v5/orders?filter[sites][]=nowhere&filter[bogus]=1").await;
    assert_eq!(s, 400);
});

both!(customer_filters_every_key, |app: TestApp| async move {
    let m1 = manager(&app, "Olga", Some("sales")).await;
    let m2 = manager(&app, "Ivan", None).await;
    post_ok(&app, "/api/v5/customers/create", "customer", json!({
        "externalId": "ca", "firstName": "Anna", "managerId": m1, "address": {"countryIso": "RU", "city": "Казань"},
        "contragent": {"contragentType": "legal-entity", "legalName": "ООО Ромашка", "INN": "7701", "KPP": "7702",
            "BIK": "044525", "corrAccount": "30101", "bankAccount": "40702"},
        "discountCardNumber": "DC-1", "browserId": "br-1", "mgCustomerId": "mg-1", "commentary": "Любит СКИДКИ",
        "source": {"source": "Google", "medium": "cpc", "campaign": "spring", "keyword": "насос", "content": "banner"},
        "tags": ["VIP", {"name": "Опт"}], "emailMarketingUnsubscribedAt": "2024-01-01 00:00:00"
    })).await;
    post_ok(
        &app,
        "/api/v5/customers/create",
        "customer",
        json!({
            "externalId": "cb", "firstName": "Boris", "managerId": m2, "address": {"countryIso": "KZ"},
            "contragent": {"contragentType": "individual", "legalName": "ИП Петров"}, "tags": ["Розница"]
        }),
    )
    .await;
    post_ok(&app, "/api/v5/customers/create", "customer", json!({"externalId": "cc", "firstName": "Carl"})).await;
    for (customer, price, at) in
        [("ca", 100, "2024-05-01 10:00:00"), ("ca", 300, "2024-06-01 10:00:00"), ("cb", 50, "2024-07-01 10:00:00")]
    {
        post_ok(
            &app,
            "/api/v5/orders/create",
            "order",
            json!({"customer": {"externalId": customer}, "createdAt": at,
            "items": [{"productName": "Widget", "initialPrice": price, "quantity": 1}]}),
        )
        .await;
    }
    post_ok(
        &app,
        "/api/v5/customers/notes/create",
        "note",
        json!({"customer": {"externalId": "cb"}, "text": "Звонить ПОСЛЕ обеда"}),
    )
    .await;
    let all: &[&str] = &["ca", "cb", "cc"];
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("filter[notes]=после", vec!["cb"]),
        ("filter[notes]=утром", vec![]),
        ("filter[minAverageSumm]=200", vec!["ca"]),
        ("filter[minAverageSumm]=200.01", vec![]),
        ("filter[maxAverageSumm]=50", vec!["cb", "cc"]),
        ("filter[maxAverageSumm]=199.99", vec!["cb", "cc"]),
        ("filter[countries][]=kz", vec!["cb"]),
        ("filter[countries][]=BY", vec![]),
        ("filter[emailMarketingUnsubscribed]=1", vec!["ca"]),
        ("filter[emailMarketingUnsubscribed]=0", vec!["cb", "cc"]),
        ("filter[discountCardNumber]=dc-1", vec!["ca"]),
        ("filter[discountCardNumber]=DC-2", vec![]),
        ("filter[contragentName]=петров", vec!["cb"]),
        ("filter[contragentName]=сидоров", vec![]),
        ("filter[contragentTypes][]=legal-entity", vec!["ca"]),
        ("filter[contragentTypes][]=enterpreneur", vec![]),
        ("filter[contragentInn]=7701", vec!["ca"]),
        ("filter[contragentInn]=1", vec![]),
        ("filter[contragentKpp]=7702", vec!["ca"]),
        ("filter[contragentKpp]=1", vec![]),
        ("filter[contragentBik]=044525", vec!["ca"]),
        ("filter[contragentBik]=1", vec![]),
        ("filter[contragentCorrAccount]=30101", vec!["ca"]),
        ("filter[contragentCorrAccount]=1", vec![]),
        ("filter[contragentBankAccount]=40702", vec!["ca"]),
        ("filter[contragentBankAccount]=1", vec![]),
        ("filter[managerGroups][]=sales", vec!["ca"]),
        ("filter[managerGroups][]=nobody", vec![]),
        ("filter[firstOrderFrom]=2024-05-02", vec!["cb"]),
        ("filter[firstOrderTo]=2024-05-01", vec!["ca"]),
        ("filter[lastOrderFrom]=2024-06-01&filter[lastOrderTo]=2024-06-01", vec!["ca"]),
        ("filter[lastOrderFrom]=2024-08-01", vec![]),
        ("filter[browserId]=br-1", vec!["ca"]),
        ("filter[browserId]=br-2", vec![]),
        ("filter[commentary]=скидки", vec!["ca"]),
        ("filter[commentary]=доставка", vec![]),
        ("filter[sourceName]=GOOGLE", vec!["ca"]),
        ("filter[sourceName]=bing", vec![]),
        ("filter[mediumName]=cpc", vec!["ca"]),
        ("filter[mediumName]=email", vec![]),
        ("filter[campaignName]=spring", vec!["ca"]),
        ("filter[campaignName]=autumn", vec![]),
        ("filter[keywordName]=насос", vec!["ca"]),
        ("filter[keywordName]=фильтр", vec![]),
        ("filter[adContentName]=banner", vec!["ca"]),
        ("filter[adContentName]=video", vec![]),
        ("filter[mgCustomerId]=mg-1", vec!["ca"]),
        ("filter[mgCustomerId]=mg-2", vec![]),
        ("filter[tags][]=vip", vec!["ca"]),
        ("filter[tags][]=опт&filter[tags][]=Розница", vec!["ca", "cb"]),
        ("filter[tags][]=nobody", vec![]),
        ("filter[attachedTags][]=Розница", vec!["cb"]),
        ("filter[attachedTags][]=nobody", vec![]),
        // No one has asked for a subscription yet: none is subscribed, all are not.
        (
            "filter[subscriptions][0][channel]=email&filter[subscriptions][0][subscription]=news&filter[subscriptions][0][subscribed]=0",
            all.to_vec(),
        ),
        (
            "filter[subscriptions][0][channel]=email&filter[subscriptions][0][subscription]=news&filter[subscriptions][0][subscribed]=1",
            vec![],
        ),
        // What torg keeps nothing of: "none" matches every customer, anything else none.
        ("filter[classSegment]=", all.to_vec()),
        ("filter[classSegment]=champions", vec![]),
        ("filter[segment]=", all.to_vec()),
        ("filter[segment]=loyal", vec![]),
        ("filter[attachments]=0", all.to_vec()),
        ("filter[attachments]=1", vec![]),
        ("filter[online]=0", all.to_vec()),
        ("filter[online]=1", vec![]),
        ("filter[isContact]=0", all.to_vec()),
        ("filter[isContact]=1", vec![]),
        ("filter[minCostSumm]=0", all.to_vec()),
        ("filter[maxCostSumm]=-0.5", vec![]),
        ("filter[minCostSumm]=1", vec![]),
        ("filter[tasksCounts]=1", all.to_vec()),
        ("filter[tasksCounts]=2", vec![]),
        ("filter[mgChannels]=", all.to_vec()),
        ("filter[mgChannels][]=1", vec![]),
        ("filter[firstWebVisitFrom]=", all.to_vec()),
        ("filter[firstWebVisitFrom]=2024-01-01", vec![]),
        ("filter[firstWebVisitTo]=2030-01-01", vec![]),
        ("filter[lastWebVisitFrom]=", all.to_vec()),
        ("filter[lastWebVisitFrom]=2024-01-01", vec![]),
        ("filter[lastWebVisitTo]=2030-01-01", vec![]),
        // Keys combine with AND.
        ("filter[tags][]=vip&filter[tags][]=Розница&filter[countries][]=KZ", vec!["cb"]),
    ];
    for (query, expected) in &cases {
        assert_eq!(listed(&app, "customers", query).await, *expected, "customers?{query}");
    }
    for (query, field) in [
        ("filter[minAverageSumm]=lots", "filter[minAverageSumm]"),
        ("filter[isContact]=maybe", "filter[isContact]"),
        ("filter[lastOrderTo]=tomorrow", "filter[lastOrderTo]"),
        ("filter[subscriptions][0][channel]=email", "filter[subscriptions][0]"),
        ("filter[mgChannels][]=x", "filter[mgChannels]"),
    ] {
        let (s, b) = app.get(&format!("/api/v5/customers?{query}")).await;
        assert_eq!(s, 400, "{query}: {b}");
        assert!(b["errors"][field].is_string(), "{query}: {b}");
    }
});

/// A product group on the default site; its id.
async fn group(app: &TestApp, doc: Value) -> i64 {
    post_ok(app, "/api/v5/store/product-groups/create", "productGroup", doc).await["id"].as_i64().unwrap()
}

async fn products(app: &TestApp, query: &str) -> Vec<Value> {
    let (s, b) = app.get(&format!("/api/v5/store/products?limit=100&{query}")).await;
    assert_eq!(s, 200, "{query}: {b}");
    b["products"].as_array().unwrap().clone()
}

async fn product_ext(app: &TestApp, query: &str) -> Vec<String> {
    let mut ext: Vec<String> =
        products(app, query).await.iter().map(|p| p["externalId"].as_str().unwrap_or("").to_string()).collect();
    ext.sort();
    ext
}

both!(products_and_offers_as_the_clients_type_them, |app: TestApp| async move {
    let top = group(&app, json!({"name": "Насосы", "externalId": "pumps"})).await;
    let sub = group(&app, json!({"name": "Погружные", "externalId": "sub", "parentId": top})).await;
    let other = group(&app, json!({"name": "Фильтры", "externalId": "filters"})).await;
    let batch = json!([
        {"externalId": "p1", "name": "Насос", "groups": [{"id": top}], "properties": {"color": "red"},
         "popular": true, "novelty": 1, "type": "product",
         "offers": [{"externalId": "o1", "name": "Насос L", "price": 10, "properties": {"size": "L", "brand": {"name": "Бренд", "value": "Aqua"}},
                     "images": ["https://img.example/1.jpg"], "unit": {"code": "kg"}, "vatRate": "20",
                     "weight": 1.5, "length": 10, "width": 20, "height": 30, "barcode": "4600001"}]},
        {"externalId": "p2", "name": "Насос мини", "groups": [{"externalId": "sub"}], "price": 5, "vatRate": "none"},
        {"externalId": "p3", "name": "Фильтр", "properties": [{"code": "color", "name": "Цвет", "value": "Blue"}]}
    ]);
    let (s, b) = app.post("/api/v5/store/products/batch/create", &[("products", &batch.to_string())]).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["processedProductsCount"], 3);

    let all = products(&app, "").await;
    let p1 = all.iter().find(|p| p["externalId"] == "p1").unwrap();
    assert_eq!(p1["groups"], json!([{"id": top, "externalId": "pumps"}]));
    assert_eq!(p1["properties"], json!({"color": "red"}));
    assert_eq!(
        (p1["popular"].clone(), p1["novelty"].clone(), p1["stock"].clone()),
        (json!(true), json!(true), json!(false))
    );
    assert_eq!(p1["type"], "product");
    let o1 = &p1["offers"][0];
    assert_eq!(o1["properties"], json!({"size": "L", "brand": "Aqua"}));
    assert_eq!(o1["images"], json!(["https://img.example/1.jpg"]));
    assert_eq!(o1["unit"], json!({"code": "kg", "name": "Килограмм", "sym": "кг"}));
    assert_eq!(o1["vatRate"], "20");
    assert_eq!((o1["weight"].clone(), o1["height"].clone()), (json!(1.5), json!(30)));
    assert_eq!(o1["barcode"], "4600001");
    let p2 = all.iter().find(|p| p["externalId"] == "p2").unwrap();
    assert_eq!(p2["groups"], json!([{"id": sub, "externalId": "sub"}]));
    assert!(p2.get("properties").is_none(), "{p2}");
    // The offer made from the product: the product's VAT rate, the default unit.
    assert_eq!(p2["offers"][0]["vatRate"], "none");
    assert_eq!(p2["offers"][0]["unit"], json!({"code": "pc", "name": "Штука", "sym": "шт."}));
    let p3 = all.iter().find(|p| p["externalId"] == "p3").unwrap();
    assert_eq!((p3["groups"].clone(), p3["properties"].clone()), (json!([]), json!({"color": "Blue"})));

    // Groups: a group holds what is in it and below it; Go sends them comma-separated, PHP as a list.
    for (query, expected) in [
        (format!("filter[groups]={top}"), vec!["p1", "p2"]),
        (format!("filter[groups][]={sub}"), vec!["p2"]),
        (format!("filter[groups]={sub},{other}"), vec!["p2"]),
        (format!("filter[groups][]={other}"), vec![]),
        ("filter[groupExternalId]=pumps".to_string(), vec!["p1", "p2"]),
        ("filter[groupExternalId]=filters".to_string(), vec![]),
        // Properties: an offer's own over its product's, values in any case.
        ("filter[properties][color]=RED".to_string(), vec!["p1"]),
        ("filter[properties][color]=blue".to_string(), vec!["p3"]),
        ("filter[properties][size]=l&filter[properties][color]=red".to_string(), vec!["p1"]),
        ("filter[properties][size]=l&filter[properties][color]=blue".to_string(), vec![]),
        ("filter[properties][brand]=Aqua".to_string(), vec!["p1"]),
        ("filter[properties][material]=steel".to_string(), vec![]),
    ] {
        assert_eq!(product_ext(&app, &query).await, expected, "{query}");
    }
    // Properties list the groups of the products carrying them, and filter by them.
    let (_, b) = app.get("/api/v5/store/products/properties?filter[code]=color").await;
    assert_eq!(b["properties"][0]["groups"], json!([{"id": top, "name": "Насосы"}]), "{b}");
    let codes = |b: &Value| b["properties"].as_array().unwrap().iter().map(|p| p["code"].clone()).collect::<Vec<_>>();
    let (_, b) = app.get(&format!("/api/v5/store/products/properties?filter[groups][]={top}")).await;
    assert_eq!(codes(&b), vec![json!("brand"), json!("color"), json!("size")]);
    let (_, b) = app.get(&format!("/api/v5/store/products/properties?filter[groups][]={other}")).await;
    assert_eq!(codes(&b), Vec::<Value>::new());
    let (_, b) = app
        .get(&format!("/api/v5/store/products/properties/values?filter[groups][]={top}&filter[propertyCode]=color"))
        .await;
    assert_eq!(b["productPropertyValues"].as_array().unwrap().len(), 1, "{b}");
    assert_eq!(b["productPropertyValues"][0]["value"], "red");

    let (s, b) = app.get("/api/v5/store/products?filter[groups]=x").await;
    assert_eq!(s, 400, "{b}");
    assert!(b["errors"]["filter[groups]"].is_string());
    // Offers filter the same way.
    for (query, expected) in [
        ("filter[properties][size]=L".to_string(), vec!["o1"]),
        ("filter[properties][size]=XL".to_string(), vec![]),
        (format!("filter[groups][]={sub}"), vec!["p2"]),
        (format!("filter[groups][]={other}"), vec![]),
    ] {
        let (s, b) = app.get(&format!("/api/v5/store/offers?{query}")).await;
        assert_eq!(s, 200, "{b}");
        let ext: Vec<&str> =
            b["offers"].as_array().unwrap().iter().map(|o| o["externalId"].as_str().unwrap()).collect();
        assert_eq!(ext, expected, "{query}");
    }
    let (_, b) = app.get("/api/v5/store/offers?filter[ids][]=0&filter[properties][size]=L").await;
    assert_eq!(b["offers"], json!([]));
    let (_, b) = app.get("/api/v5/store/offers?filter[properties][size]=L").await;
    assert_eq!(b["offers"][0]["unit"]["code"], "kg");
    assert_eq!(b["offers"][0]["properties"]["size"], "L");

    // Edits: groups given replace the product's, properties and flags are kept as given.
    let edit = json!([
        {"externalId": "p3", "groups": [{"externalId": "sub"}, {"id": other}], "properties": {"material": "steel"}, "stock": true},
        {"externalId": "p1", "groups": []}
    ]);
    let (s, b) = app.post("/api/v5/store/products/batch/edit", &[("products", &edit.to_string())]).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(product_ext(&app, &format!("filter[groups]={top}")).await, vec!["p2", "p3"]);
    assert_eq!(product_ext(&app, "filter[properties][material]=steel").await, vec!["p3"]);
    assert_eq!(product_ext(&app, "filter[properties][color]=blue").await, Vec::<String>::new());
    let p3 = products(&app, "filter[externalId]=p3").await.remove(0);
    assert_eq!(p3["groups"], json!([{"id": sub, "externalId": "sub"}, {"id": other, "externalId": "filters"}]));
    assert_eq!((p3["stock"].clone(), p3["popular"].clone()), (json!(true), json!(false)));
    assert_eq!(products(&app, "filter[externalId]=p1").await[0]["groups"], json!([]));

    // What cannot be resolved fails the whole batch, naming the field.
    for (path, doc, field) in [
        ("create", json!([{"name": "X", "groups": [{"externalId": "nowhere"}]}]), "products[0].groups[0]"),
        (
            "create",
            json!([{"name": "X", "offers": [{"name": "X1", "unit": {"code": "parsec"}}]}]),
            "products[0].offers[0].unit",
        ),
        ("create", json!([{"name": "X", "vatRate": "120"}]), "products[0].vatRate"),
        ("create", json!([{"name": "X", "properties": {"": "v"}}]), "products[0].properties[]"),
        ("create", json!([{"name": "X", "type": "thing"}]), "products[0].type"),
        ("edit", json!([{"externalId": "p2", "groups": [{"id": 999_999}]}]), "products[0].groups[0]"),
    ] {
        let (s, b) = app.post(&format!("/api/v5/store/products/batch/{path}"), &[("products", &doc.to_string())]).await;
        assert_eq!(s, 400, "{doc}: {b}");
        assert!(b["errors"][field].is_string(), "{field}: {b}");
    }
    assert_eq!(products(&app, "").await.len(), 3);
    assert_eq!(product_ext(&app, &format!("filter[groups]={sub}")).await, vec!["p2", "p3"]);

    // A key limited to another site sees no groups of this one.
    app.add_site("shop-b").await;
    let b_only = app.key_with(&["store_read"], &["shop-b"]).await;
    let (_, b) = app.get_as(&b_only, "/api/v5/store/products?filter[externalId]=p3").await;
    assert_eq!(b["products"][0]["groups"], json!([]));
    let (_, b) = app.get_as(&b_only, &format!("/api/v5/store/products?filter[groups]={sub}")).await;
    assert_eq!(b["products"], json!([]));
});

both!(payments_in_order_history_carry_dates_and_comments, |app: TestApp| async move {
    let o = json!({"externalId": "ph-1", "firstName": "Олег",
                   "items": [{"productName": "Фильтр", "initialPrice": 500, "quantity": 1}]});
    let b = post_ok(&app, "/api/v5/orders/create", "order", o).await;
    let id = b["id"].as_i64().unwrap();
    let p = json!({"order": {"externalId": "ph-1"}, "type": "cash", "status": "paid", "amount": 500,
                   "paidAt": "2024-03-01 12:30:00", "comment": "наличными"});
    let pid = post_ok(&app, "/api/v5/orders/payments/create", "payment", p).await["id"].as_i64().unwrap();
    let (s, b) = app
        .post(
            &format!("/api/v5/orders/payments/{pid}/edit"),
            &[("payment", r#"{"paidAt": "2024-03-02 09:15:00"}"#), ("by", "id")],
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = app
        .post(&format!("/api/v5/orders/payments/{pid}/edit"), &[("payment", r#"{"paidAt": null}"#), ("by", "id")])
        .await;
    assert_eq!(s, 200, "{b}");

    let (_, h) = app.get(&format!("/api/v5/orders/history?filter[orderId]={id}")).await;
    let records: Vec<&Value> = h["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["field"].as_str().unwrap_or("").starts_with("payments"))
        .collect();
    let fields: Vec<&str> = records.iter().map(|r| r["field"].as_str().unwrap()).collect();
    assert_eq!(fields, vec!["payments", "payments.paid_at", "payments.paid_at"], "{h}");
    // Added: the payment whole, its date in the zone's `Y-m-d H:i:s`, in the value and the record's payment.
    let added = json!({"id": pid, "type": "cash", "status": "paid", "amount": 500, "externalId": null,
                       "paidAt": "2024-03-01 12:30:00", "comment": "наличными"});
    assert_eq!(records[0]["oldValue"], Value::Null);
    assert_eq!(records[0]["newValue"], added);
    assert_eq!(records[0]["payment"], added);
    // Changed: the dates as dates, the payment as it is after the change.
    assert_eq!(
        (records[1]["oldValue"].clone(), records[1]["newValue"].clone()),
        (json!("2024-03-01 12:30:00"), json!("2024-03-02 09:15:00"))
    );
    assert_eq!(records[1]["payment"]["paidAt"], "2024-03-02 09:15:00");
    assert_eq!(records[1]["payment"]["comment"], "наличными");
    assert_eq!(
        (records[2]["oldValue"].clone(), records[2]["newValue"].clone()),
        (json!("2024-03-02 09:15:00"), Value::Null)
    );
    assert!(records[2]["payment"].get("paidAt").is_none(), "{}", records[2]);
});
