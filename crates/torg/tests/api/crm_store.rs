//! Store methods through the CRM face: products and offers created in batches and listed, stock and
//! prices uploaded, and the stock an inventories upload sets being the stock orders reserve.

use crate::common::{Reply, TestApp, both};
use serde_json::{Value, json};

async fn batch_create(app: &TestApp, products: Value) -> Reply {
    app.post("/api/v5/store/products/batch/create", &[("products", &products.to_string())]).await
}

async fn created(app: &TestApp, products: Value) -> Vec<i64> {
    let (s, b) = batch_create(app, products).await;
    assert_eq!(s, 200, "{b}");
    b["addedProducts"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect()
}

async fn upload_stock(app: &TestApp, offers: Value) -> Reply {
    app.post("/api/v5/store/inventories/upload", &[("offers", &offers.to_string())]).await
}

async fn upload_prices(app: &TestApp, prices: Value) -> Reply {
    app.post("/api/v5/store/prices/upload", &[("prices", &prices.to_string())]).await
}

/// A successful GET's body.
async fn get_ok(app: &TestApp, path: &str) -> Value {
    let (s, b) = app.get(path).await;
    assert_eq!(s, 200, "{path}: {b}");
    assert_eq!(b["success"], true);
    b
}

/// The `key` member of every element of `list` in `body`, in order.
fn column(body: &Value, list: &str, key: &str) -> Vec<Value> {
    body[list].as_array().unwrap_or_else(|| panic!("no {list} in {body}")).iter().map(|x| x[key].clone()).collect()
}

/// External ids of the inventories a query finds.
async fn inventory_ids(app: &TestApp, query: &str) -> Vec<Value> {
    column(&get_ok(app, &format!("/api/v5/store/inventories?limit=100&{query}")).await, "offers", "externalId")
}

/// Free stock of one offer (by external id), total and per store.
async fn free(app: &TestApp, external_id: &str) -> (Value, Value) {
    let b = get_ok(app, &format!("/api/v5/store/inventories?filter[offerExternalId]={external_id}&filter[details]=1"))
        .await;
    assert_eq!(b["offers"].as_array().unwrap().len(), 1, "{b}");
    (b["offers"][0]["quantity"].clone(), b["offers"][0]["stores"].clone())
}

async fn add_store(app: &TestApp, code: &str) {
    let store = json!({"code": code, "name": format!("Store {code}")}).to_string();
    let (s, b) = app.post(&format!("/api/v5/reference/stores/{code}/edit"), &[("store", &store)]).await;
    assert!(s.is_success(), "{b}");
}

/// Two products: a filter with offers `f-1`, `f-2`, and a plug whose one offer is made from it.
async fn seed(app: &TestApp) -> (i64, i64) {
    let ids = created(
        app,
        json!([
            {"externalId": "filter", "name": "Фильтр масляный", "article": "OC 47", "manufacturer": "Knecht", "description": "Для двигателя",
             "offers": [{"externalId": "f-1", "xmlId": "x-f-1", "name": "Фильтр OC47", "article": "OC47", "price": 450.5, "purchasePrice": 300},
                        {"externalId": "f-2", "xmlId": "x-f-2", "name": "Фильтр OC47 (2 шт.)", "article": "OC47-2", "price": 880}]},
            {"externalId": "plug", "name": "Свеча зажигания", "article": "BKR6E", "manufacturer": "NGK", "price": 320, "active": false}
        ]),
    )
    .await;
    (ids[0], ids[1])
}

both!(batch_create_and_products_list, |app: TestApp| async move {
    let (filter, plug) = seed(&app).await;
    assert!(plug > filter);
    let b = get_ok(&app, "/api/v5/store/products").await;
    assert_eq!(b["pagination"], json!({"limit": 20, "totalCount": 2, "currentPage": 1, "totalPageCount": 1}));
    let p = &b["products"][0];
    assert_eq!(p["id"], filter);
    assert_eq!(p["externalId"], "filter");
    assert_eq!(p["name"], "Фильтр масляный");
    assert_eq!(p["article"], "OC 47");
    assert_eq!(p["manufacturer"], "Knecht");
    assert_eq!(p["description"], "Для двигателя");
    assert_eq!(p["type"], "product");
    assert_eq!(p["active"], true);
    assert_eq!((&p["minPrice"], &p["maxPrice"]), (&json!(450.5), &json!(880)));
    assert_eq!(p["quantity"], 0);
    let offers = p["offers"].as_array().unwrap();
    assert_eq!(offers.len(), 2);
    assert_eq!(offers[0]["externalId"], "f-1");
    assert_eq!(offers[0]["xmlId"], "x-f-1");
    assert_eq!(offers[0]["article"], "OC47");
    assert_eq!(offers[0]["price"], json!(450.5));
    assert_eq!(offers[0]["purchasePrice"], json!(300));
    assert_eq!(offers[0]["prices"], json!([{"priceType": "base", "price": 450.5, "ordering": 1}]));
    assert_eq!(offers[0]["active"], true);
    // A product listed without offers got one offer made from itself.
    let p = &b["products"][1];
    assert_eq!(p["active"], false);
    assert_eq!(p["offers"].as_array().unwrap().len(), 1);
    let o = &p["offers"][0];
    assert_eq!(
        (&o["externalId"], &o["name"], &o["article"], &o["price"]),
        (&json!("plug"), &json!("Свеча зажигания"), &json!("BKR6E"), &json!(320))
    );
    assert_eq!(o["active"], false);

    let names = |b: Value| column(&b, "products", "externalId");
    let q = |f: &str| format!("/api/v5/store/products?{f}");
    assert_eq!(names(get_ok(&app, &q(&format!("filter[ids][]={plug}"))).await), vec![json!("plug")]);
    assert_eq!(names(get_ok(&app, &q("filter[externalId]=filter")).await), vec![json!("filter")]);
    // Name: a substring in any case, Cyrillic included.
    assert_eq!(names(get_ok(&app, &q("filter[name]=МАСЛЯН")).await), vec![json!("filter")]);
    assert_eq!(names(get_ok(&app, &q("filter[name]=свеча")).await), vec![json!("plug")]);
    assert_eq!(names(get_ok(&app, &q("filter[name]=%25")).await), Vec::<Value>::new(), "LIKE characters are literal");
    assert_eq!(names(get_ok(&app, &q("filter[name]=нет такого")).await), Vec::<Value>::new());
    // Article: the product's or one of its offers'.
    assert_eq!(names(get_ok(&app, &q("filter[article]=OC47-2")).await), vec![json!("filter")]);
    assert_eq!(names(get_ok(&app, &q("filter[article]=BKR6E")).await), vec![json!("plug")]);
    assert_eq!(names(get_ok(&app, &q("filter[article]=OC4")).await), Vec::<Value>::new());
    // Price range: products with an offer inside it.
    assert_eq!(names(get_ok(&app, &q("filter[minPrice]=400&filter[maxPrice]=500")).await), vec![json!("filter")]);
    assert_eq!(names(get_ok(&app, &q("filter[maxPrice]=400")).await), vec![json!("plug")]);
    assert_eq!(names(get_ok(&app, &q("filter[minPrice]=900")).await), Vec::<Value>::new());
    assert_eq!(names(get_ok(&app, &q("filter[active]=0")).await), vec![json!("plug")]);
    assert_eq!(names(get_ok(&app, &q("filter[active]=true")).await), vec![json!("filter")]);
    assert_eq!(names(get_ok(&app, &q(&format!("filter[sinceId]={filter}"))).await), vec![json!("plug")]);
    assert_eq!(names(get_ok(&app, &q("filter[offerExternalId][]=f-2")).await), vec![json!("filter")]);
    assert_eq!(names(get_ok(&app, &q("filter=None&limit=20&page=1")).await).len(), 2);
    let (s, b) = app.get(&q("filter[minPrice]=cheap")).await;
    assert_eq!(s, 400, "{b}");
    assert!(b["errors"]["filter[minPrice]"].is_string());

    // Products written by other paths (demo offers, catalogue loads) are found by name too.
    app.add_offer("ЩЁТКА-1", "99").await;
    assert_eq!(names(get_ok(&app, &q("filter[name]=щётка")).await), vec![json!("ЩЁТКА-1")]);
    let b = get_ok(&app, &q("filter[externalId]=ЩЁТКА-1")).await;
    assert_eq!(b["products"][0]["offers"][0]["prices"], json!([{"priceType": "base", "price": 99, "ordering": 1}]));
});

both!(batch_create_is_all_or_nothing, |app: TestApp| async move {
    seed(&app).await;
    let count = |b: Value| b["pagination"]["totalCount"].clone();
    // A duplicate external id, of a stored product or within the batch, names its field; nothing of the
    // batch is written.
    let (s, b) =
        batch_create(&app, json!([{"externalId": "new-1", "name": "New"}, {"externalId": "filter", "name": "Again"}]))
            .await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(b["success"], false);
    assert_eq!(b["errorMsg"], "Errors in the entity format");
    assert_eq!(b["errors"], json!({"products[1].externalId": "Product with this externalId already exists."}));
    let (s, b) =
        batch_create(&app, json!([{"externalId": "new-1", "name": "New"}, {"externalId": "new-1", "name": "Twin"}]))
            .await;
    assert_eq!(s, 400, "{b}");
    assert!(b["errors"]["products[1].externalId"].is_string(), "{b}");
    let (s, b) = batch_create(
        &app,
        json!([{"externalId": "new-2", "name": "New", "offers": [{"externalId": "f-1"}, {"xmlId": "dup"}, {"xmlId": "dup"}]}]),
    )
    .await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(b["errors"]["products[0].offers[0].externalId"], "Offer with this externalId already exists.");
    assert_eq!(b["errors"]["products[0].offers[2].xmlId"], "Offer with this xmlId already exists.");
    // Field checks name every bad field at once.
    let (s, b) =
        batch_create(&app, json!([{"externalId": "ok"}, {"name": "X", "price": -5, "active": "perhaps"}])).await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(
        b["errors"].as_object().unwrap().keys().collect::<Vec<_>>(),
        vec!["products[0].name", "products[1].active", "products[1].price"]
    );
    // Same manufacturer and part number as a stored product (the parts face finds products by these).
    let (s, b) = batch_create(&app, json!([{"name": "Копия", "article": "oc-47", "manufacturer": "KNECHT"}])).await;
    assert_eq!(s, 400, "{b}");
    assert!(b["errors"]["products[0].article"].is_string(), "{b}");
    assert_eq!(count(get_ok(&app, "/api/v5/store/products").await), 2);
    assert_eq!(count(get_ok(&app, "/api/v5/store/offers").await), 3);

    // More than 250 is refused before anything is read.
    let many: Vec<Value> =
        (0..251).map(|i| json!({"externalId": format!("m-{i}"), "name": format!("M {i}")})).collect();
    let (s, b) = batch_create(&app, Value::Array(many)).await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(b["errors"]["products"], "This collection should contain 250 elements or less.");
    let (s, b) = app.post("/api/v5/store/products/batch/create", &[]).await;
    assert_eq!((s.as_u16(), &b["errorMsg"]), (400, &json!("Parameter 'products' is missing")));
    assert_eq!(count(get_ok(&app, "/api/v5/store/products").await), 2);
});

both!(batch_edit, |app: TestApp| async move {
    let (filter, plug) = seed(&app).await;
    let edits = json!([
        {"id": filter, "name": "Фильтр топливный", "externalId": "filter-2", "description": null},
        {"externalId": "plug", "active": true, "manufacturer": "Denso", "url": "https://shop/plug"},
        {"id": 999999, "name": "Nobody"},
        {"externalId": "ghost", "name": "Nobody"}
    ]);
    let (s, b) = app.post("/api/v5/store/products/batch/edit", &[("products", &edits.to_string())]).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["processedProductsCount"], 2);
    assert_eq!(b["notFoundProducts"], json!([{"id": "999999"}, {"externalId": "ghost"}]));
    let b = get_ok(&app, "/api/v5/store/products").await;
    let p = &b["products"][0];
    assert_eq!(
        (&p["name"], &p["externalId"], &p["article"]),
        (&json!("Фильтр топливный"), &json!("filter-2"), &json!("OC 47"))
    );
    assert!(p.get("description").is_none(), "{p}");
    let p = &b["products"][1];
    assert_eq!(
        (&p["id"], &p["active"], &p["manufacturer"], &p["url"]),
        (&json!(plug), &json!(true), &json!("Denso"), &json!("https://shop/plug"))
    );
    assert_eq!(
        column(&get_ok(&app, "/api/v5/store/products?filter[name]=топлив").await, "products", "id"),
        vec![json!(filter)]
    );
    assert!(column(&get_ok(&app, "/api/v5/store/products?filter[name]=масл").await, "products", "id").is_empty());

    // A bad entry fails the batch: the good entry before it is not written either.
    let edits = json!([{"id": plug, "name": "Renamed"}, {"id": filter, "name": ""}]);
    let (s, b) = app.post("/api/v5/store/products/batch/edit", &[("products", &edits.to_string())]).await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(b["errors"], json!({"products[1].name": "This value should not be blank."}));
    let edits = json!([{"id": plug, "name": "Renamed"}, {"id": filter, "externalId": "plug"}]);
    let (s, b) = app.post("/api/v5/store/products/batch/edit", &[("products", &edits.to_string())]).await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(b["errors"], json!({"products[1].externalId": "Product with this externalId already exists."}));
    let (s, b) = app.post("/api/v5/store/products/batch/edit", &[("products", r#"[{"name": "no address"}]"#)]).await;
    assert_eq!(s, 400, "{b}");
    assert!(b["errors"]["products[0]"].is_string());
    let b = get_ok(&app, &format!("/api/v5/store/products?filter[ids][]={plug}")).await;
    assert_eq!(b["products"][0]["name"], "Свеча зажигания");
    let many: Vec<Value> = (0..251).map(|i| json!({"id": i + 1, "name": "x"})).collect();
    let (s, _) = app.post("/api/v5/store/products/batch/edit", &[("products", &Value::Array(many).to_string())]).await;
    assert_eq!(s, 400);
});

both!(offers_list, |app: TestApp| async move {
    let (filter, _) = seed(&app).await;
    let b = get_ok(&app, "/api/v5/store/offers").await;
    assert_eq!(b["pagination"]["totalCount"], 3);
    let o = &b["offers"][0];
    assert_eq!(
        (&o["externalId"], &o["xmlId"], &o["name"], &o["article"]),
        (&json!("f-1"), &json!("x-f-1"), &json!("Фильтр OC47"), &json!("OC47"))
    );
    assert_eq!(
        (&o["price"], &o["purchasePrice"], &o["quantity"], &o["active"]),
        (&json!(450.5), &json!(300), &json!(0), &json!(true))
    );
    assert_eq!(o["prices"], json!([{"priceType": "base", "price": 450.5, "ordering": 1}]));
    assert_eq!(
        o["product"],
        json!({"id": filter, "externalId": "filter", "name": "Фильтр масляный", "manufacturer": "Knecht"})
    );
    let f1 = o["id"].as_i64().unwrap();

    let ext = |b: Value| column(&b, "offers", "externalId");
    let q = |f: &str| format!("/api/v5/store/offers?{f}");
    assert_eq!(ext(get_ok(&app, &q(&format!("filter[ids][]={f1}"))).await), vec![json!("f-1")]);
    assert_eq!(
        ext(get_ok(&app, &q("filter[externalIds][]=f-2&filter[externalIds][]=plug")).await),
        vec![json!("f-2"), json!("plug")]
    );
    assert_eq!(ext(get_ok(&app, &q("filter[xmlIds][]=x-f-2")).await), vec![json!("f-2")]);
    assert_eq!(ext(get_ok(&app, &q("filter[name]=(2 ШТ.)")).await), vec![json!("f-2")]);
    assert_eq!(ext(get_ok(&app, &q("filter[name]=фильтр")).await), vec![json!("f-1"), json!("f-2")]);
    assert_eq!(ext(get_ok(&app, &q("filter[active]=0")).await), vec![json!("plug")]);
    assert_eq!(
        ext(get_ok(&app, &q("filter[minPrice]=450.5&filter[maxPrice]=880")).await),
        vec![json!("f-1"), json!("f-2")]
    );
    assert_eq!(ext(get_ok(&app, &q("filter[maxPrice]=450")).await), vec![json!("plug")]);
    assert_eq!(ext(get_ok(&app, &q(&format!("filter[sinceId]={f1}"))).await), vec![json!("f-2"), json!("plug")]);
    assert!(ext(get_ok(&app, &q("filter[externalIds][]=none")).await).is_empty());
    let (s, _) = app.get(&q("filter[sites][]=elsewhere")).await;
    assert_eq!(s, 403);
});

both!(inventories_upload_and_list, |app: TestApp| async move {
    seed(&app).await;
    add_store(&app, "south").await;
    let (s, b) = upload_stock(
        &app,
        json!([
            {"externalId": "f-1", "stores": [{"code": "main", "available": 7, "purchasePrice": 310}, {"code": "south", "available": 3}]},
            {"xmlId": "x-f-2", "stores": [{"code": "south", "available": 12}]},
            {"externalId": "missing", "stores": [{"code": "main", "available": 1}]},
            {"xmlId": "missing-xml", "stores": []},
            {"id": 999999, "stores": [{"code": "main", "available": 1}]}
        ]),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["success"], true);
    assert_eq!(b["processedOffersCount"], 2);
    assert_eq!(b["notFoundOffers"], json!([{"externalId": "missing"}, {"xmlId": "missing-xml"}, {"id": 999999}]));

    let b = get_ok(&app, "/api/v5/store/inventories?filter[details]=1").await;
    assert_eq!(b["pagination"]["totalCount"], 3);
    let o = &b["offers"][0];
    assert_eq!(
        (&o["externalId"], &o["xmlId"], &o["quantity"], &o["purchasePrice"]),
        (&json!("f-1"), &json!("x-f-1"), &json!(10), &json!(310))
    );
    assert_eq!(
        o["stores"],
        json!([{"store": "main", "quantity": 7, "purchasePrice": 310}, {"store": "south", "quantity": 3}])
    );
    assert_eq!(b["offers"][1]["quantity"], 12);
    assert_eq!((&b["offers"][2]["quantity"], &b["offers"][2]["stores"]), (&json!(0), &json!([])));
    // Stores only with details=1.
    let b = get_ok(&app, "/api/v5/store/inventories").await;
    assert!(b["offers"][0].get("stores").is_none(), "{b}");
    // Products and offers count the same free stock.
    let b = get_ok(&app, "/api/v5/store/products?filter[externalId]=filter").await;
    assert_eq!(b["products"][0]["quantity"], 22);
    assert_eq!(
        column(&get_ok(&app, "/api/v5/store/offers").await, "offers", "quantity"),
        vec![json!(10), json!(12), json!(0)]
    );

    // Filters, in the list and the single-value forms, including and excluding.
    let f1 = get_ok(&app, "/api/v5/store/offers?filter[externalIds][]=f-1").await["offers"][0]["id"].clone();
    assert_eq!(inventory_ids(&app, &format!("filter[ids][]={f1}")).await, vec![json!("f-1")]);
    assert_eq!(
        inventory_ids(&app, "filter[offerExternalId][]=f-2&filter[offerExternalId][]=plug").await,
        vec![json!("f-2"), json!("plug")]
    );
    assert_eq!(inventory_ids(&app, "filter[offerExternalId]=f-2").await, vec![json!("f-2")]);
    assert_eq!(inventory_ids(&app, "filter%5BofferExternalId%5D%5B0%5D=plug").await, vec![json!("plug")]);
    assert_eq!(inventory_ids(&app, "filter[offerArticle][]=OC47-2").await, vec![json!("f-2")]);
    assert_eq!(inventory_ids(&app, "filter[productExternalId]=filter").await, vec![json!("f-1"), json!("f-2")]);
    assert_eq!(
        inventory_ids(&app, "filter[productExternalId]=plug&filter[offerArticle][]=OC47").await,
        Vec::<Value>::new()
    );
    assert!(inventory_ids(&app, "filter[ids][]=999999").await.is_empty());
    let (s, b) = app.get("/api/v5/store/inventories?filter[ids][]=abc").await;
    assert_eq!(s, 400, "{b}");

    // A new upload replaces the level at that store and keeps the others.
    let (s, b) =
        upload_stock(&app, json!([{"externalId": "f-1", "stores": [{"code": "south", "available": 0}]}])).await;
    assert_eq!((s.as_u16(), &b["processedOffersCount"]), (200, &json!(1)));
    assert_eq!(free(&app, "f-1").await.0, 7);

    // An unknown store fails the whole upload, naming the field; nothing is written.
    let (s, b) = upload_stock(
        &app,
        json!([{"externalId": "f-1", "stores": [{"code": "main", "available": 100}]},
               {"externalId": "f-2", "stores": [{"code": "main", "available": 1}, {"code": "north", "available": 5}]}]),
    )
    .await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(b["errorMsg"], "Errors in the entity format");
    assert_eq!(b["errors"], json!({"offers[1].stores[1].code": "Store 'north' does not exist."}));
    let (s, b) = upload_stock(
        &app,
        json!([{"externalId": "f-1", "stores": [{"code": "main", "available": -1}]}, {"stores": []}]),
    )
    .await;
    assert_eq!(s, 400, "{b}");
    assert!(b["errors"]["offers[0].stores[0].available"].is_string() && b["errors"]["offers[1]"].is_string(), "{b}");
    assert_eq!(free(&app, "f-1").await.0, 7);
    // At most 250 offers per call.
    let many: Vec<Value> =
        (0..251).map(|_| json!({"externalId": "f-1", "stores": [{"code": "main", "available": 1}]})).collect();
    let (s, b) = upload_stock(&app, Value::Array(many)).await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(b["errors"]["offers"], "This collection should contain 250 elements or less.");
    assert_eq!(free(&app, "f-1").await.0, 7);
    // `site`, when given, must be one the key reaches.
    let body = json!([{"externalId": "f-1", "stores": [{"code": "main", "available": 2}]}]).to_string();
    let (s, _) = app.post("/api/v5/store/inventories/upload", &[("offers", &body), ("site", "elsewhere")]).await;
    assert_eq!(s, 403);
    let (s, _) = app.post("/api/v5/store/inventories/upload", &[("offers", &body), ("site", "default")]).await;
    assert_eq!(s, 200);
    assert_eq!(free(&app, "f-1").await.0, 2);
});

both!(prices_upload, |app: TestApp| async move {
    seed(&app).await;
    let (s, b) = app
        .post("/api/v5/reference/price-types/wholesale/edit", &[("priceType", r#"{"name": "Опт", "ordering": 5}"#)])
        .await;
    assert!(s.is_success(), "{b}");
    let (s, b) = upload_prices(
        &app,
        json!([
            {"externalId": "f-1", "site": "default", "prices": [{"code": "base", "price": 500}, {"code": "wholesale", "price": 420.25}]},
            {"xmlId": "x-f-2", "prices": [{"code": "wholesale", "price": 800}]},
            {"externalId": "nope", "prices": [{"code": "base", "price": 1}]}
        ]),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["processedOffersCount"], 2);
    assert_eq!(b["notFoundOffers"], json!([{"externalId": "nope"}]));
    let b = get_ok(&app, "/api/v5/store/offers?filter[externalIds][]=f-1&filter[externalIds][]=f-2").await;
    assert_eq!(b["offers"][0]["price"], json!(500), "the base price type is the offer's price");
    assert_eq!(
        b["offers"][0]["prices"],
        json!([{"priceType": "base", "price": 500, "ordering": 1}, {"priceType": "wholesale", "price": 420.25, "ordering": 5}])
    );
    assert_eq!(b["offers"][1]["price"], json!(880));
    assert_eq!(
        b["offers"][1]["prices"],
        json!([{"priceType": "base", "price": 880, "ordering": 1}, {"priceType": "wholesale", "price": 800, "ordering": 5}])
    );
    let b = get_ok(&app, "/api/v5/store/products?filter[externalId]=filter").await;
    assert_eq!((&b["products"][0]["minPrice"], &b["products"][0]["maxPrice"]), (&json!(500), &json!(880)));

    // Removing a price.
    let (s, b) =
        upload_prices(&app, json!([{"externalId": "f-1", "prices": [{"code": "wholesale", "remove": true}]}])).await;
    assert_eq!(s, 200, "{b}");
    let b = get_ok(&app, "/api/v5/store/offers?filter[externalIds][]=f-1").await;
    assert_eq!(b["offers"][0]["prices"], json!([{"priceType": "base", "price": 500, "ordering": 1}]));

    // An unknown price type fails the upload, naming the field; nothing is written.
    let (s, b) = upload_prices(
        &app,
        json!([{"externalId": "f-1", "prices": [{"code": "base", "price": 1}]}, {"externalId": "f-2", "prices": [{"code": "vip", "price": 1}]}]),
    )
    .await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(b["errors"], json!({"prices[1].prices[0].code": "Price type 'vip' does not exist."}));
    let (s, b) = upload_prices(&app, json!([{"externalId": "f-1", "prices": [{"code": "base"}]}])).await;
    assert_eq!(s, 400, "{b}");
    assert!(b["errors"]["prices[0].prices[0].price"].is_string());
    let (s, _) = upload_prices(
        &app,
        json!([{"externalId": "f-1", "site": "elsewhere", "prices": [{"code": "base", "price": 1}]}]),
    )
    .await;
    assert_eq!(s, 403);
    let many: Vec<Value> =
        (0..251).map(|_| json!({"externalId": "f-1", "prices": [{"code": "base", "price": 1}]})).collect();
    let (s, b) = upload_prices(&app, Value::Array(many)).await;
    assert_eq!(s, 400, "{b}");
    let b = get_ok(&app, "/api/v5/store/offers?filter[externalIds][]=f-1").await;
    assert_eq!(b["offers"][0]["price"], json!(500));
});

both!(pages_of_250, |app: TestApp| async move {
    let batch = |from: usize, to: usize| -> Value {
        (from..to)
            .map(|i| json!({"externalId": format!("p-{i:03}"), "name": format!("Деталь {i}"), "price": i + 1}))
            .collect()
    };
    assert_eq!(created(&app, batch(0, 250)).await.len(), 250);
    assert_eq!(created(&app, batch(250, 260)).await.len(), 10);
    for path in ["products", "offers", "inventories"] {
        let list = if path == "products" { "products" } else { "offers" };
        let b = get_ok(&app, &format!("/api/v5/store/{path}?limit=250")).await;
        assert_eq!(
            b["pagination"],
            json!({"limit": 250, "totalCount": 260, "currentPage": 1, "totalPageCount": 2}),
            "{path}"
        );
        assert_eq!(b[list].as_array().unwrap().len(), 250);
        assert_eq!(b[list][0]["externalId"], "p-000");
        let b = get_ok(&app, &format!("/api/v5/store/{path}?limit=250&page=2")).await;
        assert_eq!(b["pagination"]["currentPage"], 2);
        assert_eq!(column(&b, list, "externalId").first(), Some(&json!("p-250")));
        assert_eq!(b[list].as_array().unwrap().len(), 10);
        let b = get_ok(&app, &format!("/api/v5/store/{path}?limit=100&page=4")).await;
        assert_eq!(b[list], json!([]));
        let (s, b) = app.get(&format!("/api/v5/store/{path}?limit=500")).await;
        assert_eq!(s, 400, "{b}");
        assert!(b["errors"]["limit"].is_string());
    }
    let b = get_ok(&app, "/api/v5/store/products?limit=50&filter[name]=деталь 25").await;
    assert_eq!(b["pagination"]["totalCount"], 11, "{b}");
    // The other lists keep their smaller page sizes.
    let (s, _) = app.get("/api/v5/orders?limit=250").await;
    assert_eq!(s, 400);
});

both!(scopes, |app: TestApp| async move {
    seed(&app).await;
    let reader = app.key_with(&["store_read"], &[]).await;
    let writer = app.key_with(&["store_write"], &[]).await;
    let other = app.key_with(&["order_read", "order_write", "reference_read"], &[]).await;
    let reads = ["/api/v5/store/inventories", "/api/v5/store/products", "/api/v5/store/offers"];
    let writes = [
        (
            "/api/v5/store/inventories/upload",
            "offers",
            r#"[{"externalId":"f-1","stores":[{"code":"main","available":9}]}]"#,
        ),
        ("/api/v5/store/prices/upload", "prices", r#"[{"externalId":"f-1","prices":[{"code":"base","price":9}]}]"#),
        ("/api/v5/store/products/batch/create", "products", r#"[{"externalId":"by-scope","name":"X"}]"#),
        ("/api/v5/store/products/batch/edit", "products", r#"[{"externalId":"plug","name":"X"}]"#),
    ];
    for path in reads {
        assert_eq!(app.get_as(&reader, path).await.0, 200, "{path}");
        for key in [&writer, &other] {
            let (s, b) = app.get_as(key, path).await;
            assert_eq!((s.as_u16(), b), (403, json!({"success": false, "errorMsg": "Access denied."})), "{path}");
        }
    }
    for (path, field, body) in writes {
        for key in [&reader, &other] {
            let (s, b) = app.post_as(key, path, &[(field, body)]).await;
            assert_eq!((s.as_u16(), &b["errorMsg"]), (403, &json!("Access denied.")), "{path}");
        }
    }
    // Nothing the refused writes carried arrived.
    let (q, _) = free(&app, "f-1").await;
    assert_eq!(q, 0);
    let b = get_ok(&app, "/api/v5/store/offers?filter[externalIds][]=f-1").await;
    assert_eq!(b["offers"][0]["price"], json!(450.5));
    assert_eq!(get_ok(&app, "/api/v5/store/products").await["pagination"]["totalCount"], 2);
    for (path, field, body) in writes {
        let (s, b) = app.post_as(&writer, path, &[(field, body)]).await;
        assert_eq!(s, 200, "{path}: {b}");
    }
    assert_eq!(free(&app, "f-1").await.0, 9);
    let (s, b) = app.get_as(&reader, "/api/credentials").await;
    assert_eq!(s, 200);
    let creds = b["credentials"].as_array().unwrap();
    assert!(
        creds.contains(&json!("/api/store/inventories")) && !creds.contains(&json!("/api/store/inventories/upload"))
    );
});

both!(uploaded_stock_is_what_orders_reserve, |app: TestApp| async move {
    created(&app, json!([{"externalId": "sku-r", "name": "Ремень ГРМ", "article": "CT1028", "manufacturer": "Contitech", "price": 1500}])).await;
    let (s, b) =
        upload_stock(&app, json!([{"externalId": "sku-r", "stores": [{"code": "main", "available": 5}]}])).await;
    assert_eq!((s.as_u16(), &b["processedOffersCount"]), (200, &json!(1)), "{b}");
    assert_eq!(free(&app, "sku-r").await, (json!(5), json!([{"store": "main", "quantity": 5}])));

    let order = |ext: &str, qty: i64| {
        json!({"externalId": ext, "firstName": "Ann", "shipmentStore": "main",
               "items": [{"offer": {"externalId": "sku-r"}, "quantity": qty}]})
        .to_string()
    };
    let (s, b) = app.post("/api/v5/orders/create", &[("order", &order("r-1", 3)), ("site", "default")]).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["order"]["items"][0]["initialPrice"], json!(1500), "the offer's price comes from the store methods");
    assert_eq!(free(&app, "sku-r").await, (json!(2), json!([{"store": "main", "quantity": 2}])));
    let b = get_ok(&app, "/api/v5/store/products?filter[externalId]=sku-r").await;
    assert_eq!((&b["products"][0]["quantity"], &b["products"][0]["offers"][0]["quantity"]), (&json!(2), &json!(2)));

    // More than is free is refused and reserves nothing.
    let (s, b) = app.post("/api/v5/orders/create", &[("order", &order("r-2", 10)), ("site", "default")]).await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(b["success"], false);
    assert_eq!(b["errors"], json!({"quantity": "Not enough stock: 2 left, 10 more wanted."}), "{b}");
    assert_eq!(free(&app, "sku-r").await.0, 2);
    let (_, b) = app.get("/api/v5/orders?filter[externalIds][]=r-2").await;
    assert_eq!(b["orders"], json!([]));
    // Raising a line's quantity past what is free is refused too, and the line keeps what it held.
    let (s, b) = app
        .post(
            "/api/v5/orders/r-1/edit",
            &[("order", r#"{"items": [{"offer": {"externalId": "sku-r"}, "quantity": 6}]}"#), ("site", "default")],
        )
        .await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(b["errors"], json!({"quantity": "Not enough stock: 2 left, 3 more wanted."}), "{b}");
    assert_eq!(free(&app, "sku-r").await.0, 2);
    // An offer without stock at the warehouse is a back-order: taken, nothing held.
    created(&app, json!([{"externalId": "sku-b", "name": "Ремень", "article": "CT1029", "manufacturer": "Contitech", "price": 900}])).await;
    let (s, b) = app
        .post(
            "/api/v5/orders/create",
            &[
                (
                    "order",
                    &json!({"externalId": "r-b", "firstName": "Ann", "shipmentStore": "main",
                                  "items": [{"offer": {"externalId": "sku-b"}, "quantity": 4},
                                            {"offer": {"externalId": "sku-r"}, "quantity": 1}]})
                    .to_string(),
                ),
                ("site", "default"),
            ],
        )
        .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(free(&app, "sku-r").await.0, 1);
    let (s, b) =
        app.post("/api/v5/orders/r-b/edit", &[("order", r#"{"status": "cancel-other"}"#), ("site", "default")]).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(free(&app, "sku-r").await.0, 2);

    // Cancelling the order frees its stock.
    let (s, b) =
        app.post("/api/v5/orders/r-1/edit", &[("order", r#"{"status": "cancel-other"}"#), ("site", "default")]).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(free(&app, "sku-r").await.0, 5);
    // And the freed stock can be ordered again, up to the last unit.
    let (s, b) = app.post("/api/v5/orders/create", &[("order", &order("r-3", 5)), ("site", "default")]).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(free(&app, "sku-r").await.0, 0);
    // A lower stock upload never reports less than nothing.
    let (s, _) =
        upload_stock(&app, json!([{"externalId": "sku-r", "stores": [{"code": "main", "available": 3}]}])).await;
    assert_eq!(s, 200);
    assert_eq!(free(&app, "sku-r").await.0, 0);
});
