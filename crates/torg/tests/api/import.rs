//! `torg import catalogue|crosses FILE.csv` (docs/IMPORT.md): the real binary loads CSV files in
//! either separator and encoding, rejects bad rows by line number, and the parts face finds what it loaded.

use crate::common::{TestApp, both};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

fn torg(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_torg")).args(args).output().expect("run torg");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn import(kind: &str, file: &Path, db: &str) -> (bool, String, String) {
    torg(&["import", kind, file.to_str().unwrap(), "--database", db])
}

/// A buyer: a customer on the default site and a parts key of theirs.
async fn buyer(app: &TestApp, external_id: &str) -> String {
    app.buyer(json!({"externalId": external_id, "firstName": "Иван", "lastName": "Петров",
                     "email": format!("{external_id}@example.ru")}))
        .await
}

async fn search(app: &TestApp, key: &str, q: &str) -> (Vec<Value>, Vec<Value>) {
    let q: String = q
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect();
    let r = app.client.get(format!("{}/v1/search/?q={q}&api_key={key}", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let b: Value = r.json().await.unwrap();
    let rows = b["objects"].as_array().unwrap().clone();
    rows.into_iter().partition(|r| r["is_cross"] == false)
}

fn fields(row: &Value) -> (String, String, String, String) {
    let s = |k: &str| row[k].as_str().unwrap_or_default().to_string();
    (s("code"), s("source"), s("qty"), s("price"))
}

/// Header in another order and case, a BOM, every quantity form, a quoted field holding the separator
/// and another spanning two lines, and bad rows.
const UTF8_SEMICOLON: &str =
    "\u{feff}Warehouse;PRICE;Quantity;Name;Brand;Article;Min_Qty;period_min;PERIOD_MAX;Description
nsk;152,02;500;Фильтр масляный;KNECHT/MAHLE;OC47;1;7;7;Lada 2101-2107
msk;149.50;<10;Фильтр масляный;KNECHT/MAHLE;OC47;;;;
nsk;210,00;>50;Фильтр масляный;MANN-FILTER;W712/75;;;;
nsk;180;Есть;\"Фильтр масляный; с клапаном\";BOSCH;0986452041;2;;;
nsk;99;lots;Свеча зажигания;NGK;BKR6E;;;;
msk;10;5;Свеча зажигания;NGK;;;;;
msk;abc;5;Свеча зажигания;NGK;BKR7E;;;;
msk;10;5;Свеча зажигания;NGK;BKR8E;0;;;
\"spb\";\"1 890,00\";\"8\";\"Колодки
тормозные\";TRW;GDB1550;;3;5;
spb;10;5;Свеча зажигания;NGK;BKR9E;;5;3;
";

/// Comma-separated, so the decimal comma is quoted; Cyrillic in a brand, a name and `есть`.
const CP1251_COMMA: &str = "article,brand,name,warehouse,quantity,price
GDB1550,TRW,Колодки тормозные передние,msk,12,\"2140,00\"
2108-3501070,АВТОВАЗ,Колодки тормозные передние,msk,есть,720
BAD1,,Колодки тормозные,msk,1,1
";

const CROSSES: &str = "article;brand;cross_article;cross_brand
OC47;KNECHT/MAHLE;W712/75;MANN-FILTER
0986452041;BOSCH;OC 47;knecht/mahle
GDB1550;TRW;;BOSCH
OC47;KNECHT/MAHLE;oc-47;KNECHT/MAHLE
";

both!(catalogue_and_crosses_from_csv, |app: TestApp| async move {
    let db = app.database_url.clone();
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);

    std::fs::write(path("utf8.csv"), UTF8_SEMICOLON).unwrap();
    let (ok, out, err) = import("catalogue", &path("utf8.csv"), &db);
    assert!(ok, "{out}\n{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "loaded 5 rows, rejected 5 rows", "{out}");
    assert_eq!(
        lines[1..6],
        [
            "line 6: quantity 'lots' is not a number, <N, >N or Есть",
            "line 7: article is empty",
            "line 8: price 'abc' is not a decimal number",
            "line 9: min_qty '0' is not a positive whole number",
            "line 12: period_min 5 is greater than period_max 3",
        ],
        "{out}"
    );
    assert!(out.contains("new warehouses: nsk, msk, spb"), "{out}");

    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1251.encode(CP1251_COMMA);
    assert!(!unmappable);
    std::fs::write(path("cp1251.csv"), &bytes).unwrap();
    let (ok, out, err) = import("catalogue", &path("cp1251.csv"), &db);
    assert!(ok, "{out}\n{err}");
    assert!(err.contains("Windows-1251, ','-separated"), "{err}");
    assert_eq!(out.lines().take(2).collect::<Vec<_>>(), ["loaded 2 rows, rejected 1 rows", "line 4: brand is empty"]);

    std::fs::write(path("crosses.csv"), CROSSES).unwrap();
    let (ok, out, err) = import("crosses", &path("crosses.csv"), &db);
    assert!(ok, "{out}\n{err}");
    assert_eq!(
        out.lines().take(3).collect::<Vec<_>>(),
        ["loaded 2 rows, rejected 2 rows", "line 4: cross_article is empty", "line 5: the part is crossed with itself"]
    );

    // Fatal errors: a header without a required column, a missing file.
    std::fs::write(path("no-price.csv"), "article;brand;name;warehouse;quantity\nX1;Y;Z;nsk;1\n").unwrap();
    let (ok, out, err) = import("catalogue", &path("no-price.csv"), &db);
    assert!(!ok && err.contains("missing required column 'price'"), "{out}\n{err}");
    std::fs::write(path("no-cross.csv"), "Article,Brand,Cross_Brand\nX1,Y,Z\n").unwrap();
    let (ok, _, err) = import("crosses", &path("no-cross.csv"), &db);
    assert!(!ok && err.contains("'cross_article'"), "{err}");
    let (ok, _, err) = import("catalogue", &path("nowhere.csv"), &db);
    assert!(!ok && err.contains("nowhere.csv"), "{err}");

    // Many bad rows: the first hundred are listed, the rest counted.
    let mut many = String::from("article;brand;name;warehouse;quantity;price\n");
    for i in 0..130 {
        many.push_str(&format!("M{i};NGK;Свеча;nsk;{};1\n", if i % 10 == 0 { "1" } else { "-1" }));
    }
    std::fs::write(path("many.csv"), many).unwrap();
    let (ok, out, _) = import("catalogue", &path("many.csv"), &db);
    assert!(ok);
    assert!(out.starts_with("loaded 13 rows, rejected 117 rows\nline 3: quantity '-1'"), "{out}");
    assert_eq!(out.lines().filter(|l| l.starts_with("line ")).count(), 100);
    assert!(out.contains("… and 17 more rejected rows"), "{out}");

    // The parts face finds it all, analogues both ways.
    let key = buyer(&app, "imp1").await;
    let (own, crosses) = search(&app, &key, "oc47").await;
    let got: Vec<_> = own.iter().map(fields).collect();
    let want = |c: &str, w: &str, q: &str, p: &str| (c.to_string(), w.to_string(), q.to_string(), p.to_string());
    assert_eq!(got, [want("OC47", "msk", "<10", "149.50"), want("OC47", "nsk", "500", "152.02")]);
    assert_eq!(own[1]["maker"], "KNECHT/MAHLE");
    assert_eq!(own[1]["period_min"], 7);
    assert_eq!(own[1]["name"], "Фильтр масляный");
    let got: Vec<_> = crosses.iter().map(fields).collect();
    assert_eq!(got, [want("0986452041", "nsk", "Есть", "180.00"), want("W712/75", "nsk", ">50", "210.00")]);
    assert!(crosses.iter().all(|r| r["is_cross"] == true));
    assert_eq!(crosses[0]["min_qty"], 2);
    assert_eq!(crosses[0]["name"], "Фильтр масляный; с клапаном");

    let (own, crosses) = search(&app, &key, "W712-75").await;
    assert_eq!(own.iter().map(fields).collect::<Vec<_>>(), [want("W712/75", "nsk", ">50", "210.00")]);
    let codes: Vec<&str> = crosses.iter().map(|r| r["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["OC47", "OC47"], "the cross is stored the other way too");
    let (_, crosses) = search(&app, &key, "0986452041").await;
    assert_eq!(crosses.len(), 2, "{crosses:?}");

    // The Windows-1251 rows, merged with the UTF-8 ones for the same part.
    let (own, _) = search(&app, &key, "gdb1550").await;
    let got: Vec<_> = own.iter().map(fields).collect();
    assert_eq!(got, [want("GDB1550", "spb", "8", "1890.00"), want("GDB1550", "msk", "12", "2140.00")]);
    assert_eq!(own[0]["name"], "Колодки тормозные передние");
    assert_eq!((own[0]["period_min"].clone(), own[0]["period_max"].clone()), (json!(3), json!(5)));
    let (own, _) = search(&app, &key, "2108-3501070").await;
    assert_eq!(own.iter().map(fields).collect::<Vec<_>>(), [want("2108-3501070", "msk", "Есть", "720.00")]);
    assert_eq!(own[0]["maker"], "АВТОВАЗ");

    // Loading a file again updates in place.
    let (ok, out, _) = import("catalogue", &path("cp1251.csv"), &db);
    assert!(ok && out.starts_with("loaded 2 rows, rejected 1 rows"), "{out}");
    let (own, _) = search(&app, &key, "gdb1550").await;
    assert_eq!(own.len(), 2);
});

both!(brand_aliases_key_parts_by_their_brand, |app: TestApp| async move {
    let db = app.database_url.clone();
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    let write = |name: &str, text: &str| std::fs::write(path(name), text).unwrap();
    // Before any alias, `Mahle` and `KNECHT/MAHLE` are two brands: OC47 exists under both, C25114 is
    // under MANN, and crosses naming `Mahle` or `mann-filter` miss the parts they mean.
    write(
        "before.csv",
        "article;brand;name;warehouse;quantity;price\nOC47;KNECHT/MAHLE;Фильтр;nsk;5;150\nOC47;Mahle;Фильтр;msk;3;140\n\
         LX1211;KNECHT/MAHLE;Фильтр воздушный;nsk;2;890\nW712/75;MANN-FILTER;Фильтр;nsk;4;210\n\
         C25114;MANN;Фильтр воздушный;nsk;2;700\n",
    );
    write(
        "crosses.csv",
        "article;brand;cross_article;cross_brand\nW712/75;MANN-FILTER;LX1211;Mahle\nLX1211;KNECHT/MAHLE;C25114;mann-filter\n",
    );
    assert!(import("catalogue", &path("before.csv"), &db).0);
    assert!(import("crosses", &path("crosses.csv"), &db).0);
    let key = buyer(&app, "alias1").await;
    let codes = |rows: &[Value]| rows.iter().map(|r| r["code"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    let (_, crosses) = search(&app, &key, "W712/75").await;
    assert!(crosses.is_empty(), "Mahle is not yet KNECHT/MAHLE: {crosses:?}");
    let (_, crosses) = search(&app, &key, "LX1211").await;
    assert_eq!(codes(&crosses), ["W712/75"]);

    write("brands.csv", "alias;brand\nMAHLE;KNECHT/MAHLE\nMann;mann-filter\nX;\nVAG;vag\n");
    let (ok, out, err) = import("brands", &path("brands.csv"), &db);
    assert!(ok, "{out}\n{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[..3],
        ["loaded 2 rows, rejected 2 rows", "line 4: brand is empty", "line 5: the alias is the brand itself"]
    );
    assert!(out.contains("aliases stored: 2; parts moved to their brand: 1;"), "{out}");
    assert!(out.contains("kept under alias MAHLE: OC47 (the brand already has a part with this number)"), "{out}");

    // The re-keyed crosses find the parts they meant, both ways; C25114 moved to MANN-FILTER.
    let (_, crosses) = search(&app, &key, "W712/75").await;
    assert_eq!(codes(&crosses), ["LX1211"]);
    let (_, crosses) = search(&app, &key, "LX1211").await;
    assert_eq!(codes(&crosses), ["W712/75", "C25114"]);
    let (own, _) = search(&app, &key, "C25114").await;
    assert_eq!(own[0]["maker"], "MANN-FILTER");

    // Loaded after the alias, a `mann` row updates the MANN-FILTER product: no new product appears.
    write("after.csv", "article;brand;name;warehouse;quantity;price\nC25114;mann;Фильтр воздушный;msk;7;720\n");
    assert!(import("catalogue", &path("after.csv"), &db).0);
    let (own, _) = search(&app, &key, "C25114").await;
    assert_eq!(own.len(), 2, "one product at two warehouses: {own:?}");
    assert!(own.iter().all(|r| r["maker"] == "MANN-FILTER"), "an alias shows as its brand: {own:?}");
    assert_eq!(app.store.brand_aliases().await.unwrap().canonical("mahle"), "KNECHT/MAHLE");
    // The office face filters by brand through the aliases too.
    let office = crate::office::office_key(&app, "alias-dist").await;
    let (_, a) = crate::office::call(
        &app,
        &office,
        "products.list",
        crate::office::Body::Json,
        json!({"filter": {"brand": ["mann"]}}),
    )
    .await;
    let articles: Vec<&str> =
        a["products"].as_array().unwrap().iter().map(|p| p["article"].as_str().unwrap()).collect();
    assert_eq!(articles, ["C25114", "W712/75"], "{a}");
});
