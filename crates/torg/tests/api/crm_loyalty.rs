//! Loyalty (`loyalty/*`, `orders/loyalty/*`), segments and SMS verification through the CRM face, on
//! both engines: programmes and their levels, accounts, bonuses credited, charged and expiring, orders
//! spending bonuses, earning them when paid and giving them back when cancelled, segments counting and
//! filtering customers, SMS checks, and the errors.

use crate::common::{TestApp, add_to_counter, both};
use serde_json::{Value, json};
use torg_domain::loyalty::{LoyaltyDefinition, SegmentDefinition};

/// The programme of these tests on `default`: bonuses live 30 days, pay up to half an order; 5 % from
/// the start, 10 % from 1000 paid.
async fn programme(app: &TestApp) -> i64 {
    let def = LoyaltyDefinition::from_json(&json!({
        "site": "default", "name": "Club", "currency": "RUB", "expiryDays": 30, "maxChargePercent": 50,
        "levels": [{"name": "Basic", "sum": 0, "percent": 5}, {"name": "Silver", "sum": 1000, "percent": 10}]
    }))
    .expect("a valid programme");
    app.store.define_loyalty(&def).await.expect("a programme").id
}

/// A customer on `default`; its id.
async fn customer(app: &TestApp, ext: &str, vip: bool) -> i64 {
    let c = json!({"externalId": ext, "firstName": "Ivan", "vip": vip});
    let (s, b) = app.post("/api/v5/customers/create", &[("customer", &c.to_string()), ("site", "default")]).await;
    assert_eq!(s, 201, "{b}");
    b["id"].as_i64().unwrap()
}

/// A loyalty account of customer `ext`, as `loyalty/account/create` takes it; `crm_meta` checks the
/// document describes each of its members.
pub(crate) fn account_doc(ext: &str) -> Value {
    json!({"customer": {"externalId": ext}, "phoneNumber": "+7 900 000-00-01"})
}

/// An active account of customer `ext`; its id.
async fn active_account(app: &TestApp, ext: &str) -> i64 {
    let doc = account_doc(ext).to_string();
    let (s, b) = app.post("/api/v5/loyalty/account/create", &[("site", "default"), ("loyaltyAccount", &doc)]).await;
    assert_eq!(s, 201, "{b}");
    let id = b["loyaltyAccount"]["id"].as_i64().unwrap();
    let (s, b) = app.post(&format!("/api/v5/loyalty/account/{id}/activate"), &[]).await;
    assert_eq!(s, 200, "{b}");
    id
}

async fn account(app: &TestApp, id: i64) -> Value {
    let (s, b) = app.get(&format!("/api/v5/loyalty/account/{id}")).await;
    assert_eq!(s, 200, "{b}");
    b["loyaltyAccount"].clone()
}

async fn credit(app: &TestApp, id: i64, form: &[(&str, &str)]) -> (u16, Value) {
    let (s, b) = app.post(&format!("/api/v5/loyalty/account/{id}/bonus/credit"), form).await;
    (s.as_u16(), b)
}

fn types(body: &Value) -> Vec<String> {
    body["bonusOperations"].as_array().unwrap().iter().map(|o| o["type"].as_str().unwrap().to_string()).collect()
}

both!(programmes_accounts_and_bonuses, |app: TestApp| async move {
    let loyalty = programme(&app).await;
    let (s, b) = app.get("/api/v5/loyalty/loyalties?filter[active]=1").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["pagination"]["totalCount"], 1);
    let l = &b["loyalties"][0];
    assert_eq!(
        (l["id"].as_i64(), l["name"].as_str(), l["currency"].as_str()),
        (Some(loyalty), Some("Club"), Some("RUB"))
    );
    assert_eq!(l["levels"][1]["sum"], json!(1000));
    assert_eq!(l["levels"][1]["privilegeSize"], json!(10));
    assert_eq!(l["levels"][1]["type"], "bonus_percent");
    let (s, b) = app.get("/api/v5/loyalty/loyalties?filter[blocked]=1").await;
    assert_eq!((s.as_u16(), b["loyalties"].as_array().map(Vec::len)), (200, Some(0)));
    let (s, b) = app.get(&format!("/api/v5/loyalty/loyalties/{loyalty}")).await;
    assert_eq!((s.as_u16(), b["loyalty"]["name"].as_str()), (200, Some("Club")));
    assert_eq!(app.get("/api/v5/loyalty/loyalties/999999").await.0, 404);
    let (s, b) = app.get("/api/v5/loyalty/loyalties?filter[color]=red").await;
    assert_eq!(s, 400, "{b}");

    customer(&app, "loy-1", false).await;
    // Creating: the customer is required and must exist; one account per customer and programme.
    let create = |doc: Value| {
        let app = &app;
        async move {
            app.post("/api/v5/loyalty/account/create", &[("site", "default"), ("loyaltyAccount", &doc.to_string())])
                .await
        }
    };
    let (s, b) = create(json!({"phoneNumber": "+79000000001"})).await;
    assert_eq!(s, 400, "{b}");
    assert!(b["errors"]["loyaltyAccount.customer"].is_string(), "{b}");
    let (s, b) = create(json!({"customer": {"externalId": "nobody"}})).await;
    assert_eq!(s, 400, "{b}");
    let (s, b) = create(json!({"customer": {"externalId": "loy-1"}, "phoneNumber": "12"})).await;
    assert_eq!(s, 400, "{b}");
    assert!(b["errors"]["loyaltyAccount.phoneNumber"].is_string(), "{b}");
    let (s, b) =
        create(json!({"customer": {"externalId": "loy-1"}, "cardNumber": "C-1", "customFields": {"tier": "x"}})).await;
    assert_eq!(s, 201, "{b}");
    let a = &b["loyaltyAccount"];
    let id = a["id"].as_i64().unwrap();
    assert_eq!((a["active"].as_bool(), a["status"].as_str()), (Some(false), Some("not_confirmed")));
    assert_eq!((a["cardNumber"].as_str(), a["customer"]["externalId"].as_str()), (Some("C-1"), Some("loy-1")));
    assert_eq!(a["level"]["name"], "Basic");
    assert_eq!(a["nextLevelSum"], json!(1000));
    let (s, b) = create(json!({"customer": {"externalId": "loy-1"}})).await;
    assert_eq!(s, 400, "a second account: {b}");

    // Nothing moves on an account that is not activated.
    let (s, b) = credit(&app, id, &[("amount", "100")]).await;
    assert_eq!(s, 400, "{b}");
    let (s, b) = app.post(&format!("/api/v5/loyalty/account/{id}/activate"), &[]).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        (b["loyaltyAccount"]["active"].as_bool(), b["loyaltyAccount"]["status"].as_str()),
        (Some(true), Some("activated"))
    );

    // Credits: checked amounts and dates; the programme's expiry by default.
    assert_eq!(credit(&app, id, &[]).await.0, 400);
    let (s, b) = credit(&app, id, &[("amount", "abc")]).await;
    assert_eq!((s, b["errors"]["amount"].is_string()), (400, true), "{b}");
    assert_eq!(credit(&app, id, &[("amount", "-5")]).await.0, 400);
    assert_eq!(credit(&app, id, &[("amount", "5"), ("activationDate", "tomorrow")]).await.0, 400);
    assert_eq!(
        credit(&app, id, &[("amount", "5"), ("activationDate", "2030-01-02"), ("expireDate", "2030-01-01")]).await.0,
        400
    );
    let (s, b) = credit(&app, id, &[("amount", "100"), ("comment", "welcome")]).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["loyaltyBonus"]["amount"], json!(100));
    let today = b["loyaltyBonus"]["activationDate"].as_str().unwrap().to_string();
    assert!(b["loyaltyBonus"]["expiredDate"].as_str().unwrap() > today.as_str(), "{b}");
    // A lot that starts later waits; one that already expired never counts.
    let (s, b) = credit(&app, id, &[("amount", "50"), ("activationDate", "2099-01-01")]).await;
    assert_eq!(s, 200, "{b}");
    let (s, b) =
        credit(&app, id, &[("amount", "40"), ("activationDate", "2020-01-01"), ("expireDate", "2020-02-01")]).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(account(&app, id).await["amount"], json!(100));

    // Charges: no more than the live balance.
    let charge = |amount: &'static str| {
        let app = &app;
        async move { app.post(&format!("/api/v5/loyalty/account/{id}/bonus/charge"), &[("amount", amount)]).await }
    };
    let (s, b) = charge("150").await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(charge("0").await.0, 400);
    let (s, b) = charge("30").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(account(&app, id).await["amount"], json!(70));

    // Operations and details.
    let (s, b) = app.get(&format!("/api/v5/loyalty/account/{id}/bonus/operations")).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(types(&b), ["credit_manual", "credit_manual", "credit_manual", "charge_manual"]);
    assert_eq!(b["bonusOperations"][0]["comment"], "welcome");
    assert_eq!(b["bonusOperations"][0]["loyalty"]["id"], json!(loyalty));
    let (_, b) =
        app.get(&format!("/api/v5/loyalty/account/{id}/bonus/operations?filter[createdAtFrom]=2099-01-01")).await;
    assert_eq!(b["bonusOperations"].as_array().map(Vec::len), Some(0), "{b}");
    let (s, b) = app.get(&format!("/api/v5/loyalty/account/{id}/bonus/waiting_activation/details")).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        (b["statistic"]["totalAmount"].clone(), b["bonuses"][0]["date"].clone()),
        (json!(50), json!("2099-01-01"))
    );
    let (_, b) = app.get(&format!("/api/v5/loyalty/account/{id}/bonus/burn_soon/details")).await;
    assert_eq!(b["statistic"]["totalAmount"], json!(70), "{b}");
    let (_, b) =
        app.get(&format!("/api/v5/loyalty/account/{id}/bonus/burn_soon/details?filter[date]=2000-01-01")).await;
    assert_eq!(b["statistic"]["totalAmount"], json!(0), "{b}");
    assert_eq!(app.get(&format!("/api/v5/loyalty/account/{id}/bonus/gone/details")).await.0, 400);
    assert_eq!(app.get("/api/v5/loyalty/account/999999/bonus/operations").await.0, 404);
    let (s, b) = app.get(&format!("/api/v5/loyalty/bonus/operations?filter[loyalties][]={loyalty}")).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(types(&b).len(), 4);
    assert!(b["pagination"].get("nextCursor").is_none(), "{b}");
    assert_eq!(app.get("/api/v5/loyalty/bonus/operations?cursor=x").await.0, 400);

    // The account list and its filters.
    let listed = |query: &'static str| {
        let app = &app;
        async move {
            let (s, b) = app.get(&format!("/api/v5/loyalty/accounts?{query}")).await;
            assert_eq!(s, 200, "{query}: {b}");
            b["loyaltyAccounts"].as_array().unwrap().iter().map(|a| a["id"].as_i64().unwrap()).collect::<Vec<_>>()
        }
    };
    assert_eq!(listed("filter[status]=activated").await, [id]);
    assert_eq!(listed("filter[status]=not_confirmed").await, Vec::<i64>::new());
    assert_eq!(listed("filter[customerExternalId]=loy-1").await, [id]);
    assert_eq!(listed("filter[cardNumber]=C-1&filter[minAmount]=70&filter[maxAmount]=70").await, [id]);
    assert_eq!(listed("filter[minAmount]=71").await, Vec::<i64>::new());
    assert_eq!(listed("filter[loyalties][]=999999").await, Vec::<i64>::new());
    // Burn dates: unspent bonuses expiring in the range (the 40 that burned on 2020-02-01, the 70 left
    // of the welcome credit within the programme's 30 days, the 50 waiting until 2099).
    assert_eq!(listed("filter[burnDateFrom]=2020-01-01&filter[burnDateTo]=2020-02-01").await, [id]);
    assert_eq!(listed("filter[burnDateFrom]=2020-02-02&filter[burnDateTo]=2020-12-31").await, Vec::<i64>::new());
    assert_eq!(listed("filter[burnDateFrom]=2099-01-01").await, [id]);
    assert_eq!(listed("filter[burnDateFrom]=2200-01-01").await, Vec::<i64>::new());
    assert_eq!(listed("filter[burnDateTo]=2019-12-31").await, Vec::<i64>::new());
    assert_eq!(app.get("/api/v5/loyalty/accounts?filter[burnDateFrom]=soon").await.0, 400);
    // Custom fields: `[code]=value` (any case), or Go's bare list of codes the account has a value for.
    assert_eq!(listed("filter[customFields][tier]=X").await, [id]);
    assert_eq!(listed("filter[customFields][tier][]=y&filter[customFields][tier][]=x").await, [id]);
    assert_eq!(listed("filter[customFields][tier]=y").await, Vec::<i64>::new());
    assert_eq!(listed("filter[customFields][]=tier").await, [id]);
    assert_eq!(listed("filter[customFields][]=tier&filter[customFields][]=colour").await, Vec::<i64>::new());
    assert_eq!(listed("filter[customFields][tier]=x&filter[status]=not_confirmed").await, Vec::<i64>::new());
    assert_eq!(app.get("/api/v5/loyalty/accounts?filter[status]=gone").await.0, 400);
    assert_eq!(app.get("/api/v5/loyalty/accounts?filter[minAmount]=lots").await.0, 400);

    // Editing the phone, the card and custom fields; the customer is fixed.
    let edit = |doc: Value| {
        let app = &app;
        async move { app.post(&format!("/api/v5/loyalty/account/{id}/edit"), &[("loyaltyAccount", &doc.to_string())]).await }
    };
    let (s, b) = edit(json!({"phoneNumber": "+7 900 111-22-33", "cardNumber": null})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["loyaltyAccount"]["phoneNumber"], "+7 900 111-22-33");
    assert!(b["loyaltyAccount"].get("cardNumber").is_none(), "{b}");
    assert_eq!(b["loyaltyAccount"]["customFields"]["tier"], "x");
    assert_eq!(edit(json!({"customer": {"id": 1}})).await.0, 400);
    assert_eq!(edit(json!({"customFields": "x"})).await.0, 400);
    assert_eq!(app.post("/api/v5/loyalty/account/999999/edit", &[("loyaltyAccount", "{}")]).await.0, 404);

    // Scopes and sites.
    let no_scope = app.key_with(&["customer_read"], &[]).await;
    assert_eq!(app.get_as(&no_scope, &format!("/api/v5/loyalty/account/{id}")).await.0, 403);
    app.add_site("other").await;
    let elsewhere = app.key_with(&["loyalty_read", "loyalty_write"], &["other"]).await;
    assert_eq!(app.get_as(&elsewhere, &format!("/api/v5/loyalty/account/{id}")).await.0, 404);
    let (_, b) = app.get_as(&elsewhere, "/api/v5/loyalty/loyalties").await;
    assert_eq!(b["loyalties"].as_array().map(Vec::len), Some(0), "{b}");
    assert_eq!(
        app.post_as(&elsewhere, &format!("/api/v5/loyalty/account/{id}/bonus/charge"), &[("amount", "1")]).await.0,
        404
    );
    assert_eq!(account(&app, id).await["amount"], json!(70));
});

/// Creates an order of one line at `price` for customer `ext`; its id.
async fn order(app: &TestApp, ext: &str, customer: &str, price: i64) -> i64 {
    let o = json!({"externalId": ext, "customer": {"externalId": customer},
                   "items": [{"productName": "Filter", "initialPrice": price, "quantity": 1}]});
    let (s, b) = app.post("/api/v5/orders/create", &[("order", &o.to_string()), ("site", "default")]).await;
    assert_eq!(s, 201, "{b}");
    b["id"].as_i64().unwrap()
}

async fn get_order(app: &TestApp, ext: &str) -> Value {
    let (s, b) = app.get(&format!("/api/v5/orders/{ext}")).await;
    assert_eq!(s, 200, "{b}");
    b["order"].clone()
}

both!(orders_spend_earn_and_give_back_bonuses, |app: TestApp| async move {
    programme(&app).await;
    customer(&app, "loy-2", false).await;
    customer(&app, "loy-none", false).await;
    let id = active_account(&app, "loy-2").await;
    assert_eq!(credit(&app, id, &[("amount", "300")]).await.0, 200);

    // What an order may spend and would earn.
    let calc = |bonuses: &'static str, customer: &'static str| {
        let app = &app;
        async move {
            let o = json!({"customer": {"externalId": customer},
                           "items": [{"initialPrice": 500, "quantity": 2}]});
            app.post(
                "/api/v5/loyalty/calculate",
                &[("site", "default"), ("order", &o.to_string()), ("bonuses", bonuses)],
            )
            .await
        }
    };
    let (s, b) = calc("100", "loy-2").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["calculations"][0]["maxChargeBonuses"], json!(300), "{b}");
    assert_eq!(b["calculations"][0]["creditBonuses"], json!(50), "{b}");
    assert_eq!(
        (b["order"]["bonusesChargeTotal"].clone(), b["order"]["bonusesCreditTotal"].clone()),
        (json!(100), json!(45))
    );
    assert_eq!(b["order"]["totalSumm"], json!(900));
    assert_eq!(b["loyalty"]["name"], "Club");
    let (s, b) = calc("301", "loy-2").await;
    assert_eq!((s.as_u16(), b["errors"]["bonuses"].is_string()), (400, true), "{b}");
    assert_eq!(calc("1", "loy-none").await.0, 400);
    let (s, b) = app.post("/api/v5/loyalty/calculate", &[("site", "default"), ("order", "{\"items\": []}")]).await;
    assert_eq!(s, 400, "{b}");

    // Spending on an order lowers its sum; spending again replaces what it spent.
    order(&app, "lo-1", "loy-2", 1000).await;
    let apply = |bonuses: &'static str, ext: &'static str| {
        let app = &app;
        async move {
            let o = json!({"externalId": ext}).to_string();
            app.post("/api/v5/orders/loyalty/apply", &[("site", "default"), ("order", &o), ("bonuses", bonuses)]).await
        }
    };
    let (s, b) = apply("200", "lo-1").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!((b["order"]["bonusesChargeTotal"].clone(), b["order"]["totalSumm"].clone()), (json!(200), json!(800)));
    let o = get_order(&app, "lo-1").await;
    assert_eq!((o["bonusesChargeTotal"].clone(), o["totalSumm"].clone()), (json!(200), json!(800)));
    assert_eq!(o["bonusesCreditTotal"], json!(40), "what it will earn at the account's level (5 %): {o}");
    assert_eq!(o["loyaltyAccount"]["id"], json!(id));
    assert_eq!(account(&app, id).await["amount"], json!(100));
    let (s, b) = apply("600", "lo-1").await;
    assert_eq!(s, 400, "more than half the order: {b}");
    assert_eq!(account(&app, id).await["amount"], json!(100), "a refused apply changes nothing");
    let (s, b) = apply("250", "lo-1").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(get_order(&app, "lo-1").await["totalSumm"], json!(750));
    assert_eq!(account(&app, id).await["amount"], json!(50));
    // A client cannot set what bonuses paid by editing the order.
    let edit = json!({"bonusesChargeTotal": 0}).to_string();
    app.post("/api/v5/orders/lo-1/edit", &[("order", &edit), ("site", "default")]).await;
    assert_eq!(get_order(&app, "lo-1").await["bonusesChargeTotal"], json!(250));

    // Paid in full: the order earns its level's percent of what was paid, once.
    let pay = json!({"order": {"externalId": "lo-1"}, "type": "cash", "status": "paid", "amount": 750});
    let (s, b) =
        app.post("/api/v5/orders/payments/create", &[("payment", &pay.to_string()), ("site", "default")]).await;
    assert_eq!(s, 201, "{b}");
    let a = account(&app, id).await;
    assert_eq!((a["amount"].clone(), a["ordersSum"].clone()), (json!(87.5), json!(750)), "{a}");
    let edit = json!({"managerComment": "paid"}).to_string();
    let (s, _) = app.post("/api/v5/orders/lo-1/edit", &[("order", &edit), ("site", "default")]).await;
    assert_eq!(s, 200);
    assert_eq!(account(&app, id).await["amount"], json!(87.5), "a later edit earns nothing more");
    assert_eq!(get_order(&app, "lo-1").await["bonusesCreditTotal"], json!(37.5), "what it earned");
    let (_, b) = app.get("/api/v5/orders?filter[externalIds][]=lo-1").await;
    assert_eq!(b["orders"][0]["bonusesCreditTotal"], json!(37.5), "{b}");
    let (_, b) = app.get(&format!("/api/v5/loyalty/account/{id}/bonus/operations")).await;
    let ops = &b["bonusOperations"];
    let credit_op =
        ops.as_array().unwrap().iter().find(|o| o["type"] == "credit_for_order").expect("a credit for the order");
    assert_eq!((credit_op["amount"].clone(), credit_op["order"]["externalId"].clone()), (json!(37.5), json!("lo-1")));

    // Cancelled: what was spent comes back, what was earned goes.
    let edit = json!({"status": "cancel-other"}).to_string();
    let (s, b) = app.post("/api/v5/orders/lo-1/edit", &[("order", &edit), ("site", "default")]).await;
    assert_eq!(s, 200, "{b}");
    let a = account(&app, id).await;
    assert_eq!((a["amount"].clone(), a["ordersSum"].clone()), (json!(300), json!(0)), "{a}");
    let o = get_order(&app, "lo-1").await;
    assert_eq!((o.get("bonusesChargeTotal"), o["totalSumm"].clone()), (None, json!(1000)), "{o}");
    assert_eq!(o.get("bonusesCreditTotal"), None, "a cancelled order earns nothing: {o}");
    let (_, b) = app.get(&format!("/api/v5/loyalty/account/{id}/bonus/operations")).await;
    let t = types(&b);
    assert!(t.ends_with(&["cancel_of_charge".to_string(), "cancel_of_credit".to_string()]), "{t:?}");
    assert_eq!(apply("10", "lo-1").await.0, 400, "a cancelled order spends nothing");
    let edit = json!({"status": "new"}).to_string();
    assert_eq!(app.post("/api/v5/orders/lo-1/edit", &[("order", &edit), ("site", "default")]).await.0, 200);
    assert_eq!(get_order(&app, "lo-1").await["totalSumm"], json!(1000), "reopened, it spends nothing again");
    assert_eq!(get_order(&app, "lo-1").await["bonusesCreditTotal"], json!(50), "and would earn 5 % of it");
    assert_eq!(account(&app, id).await["amount"], json!(300));

    // orders/loyalty/cancel-bonus-operations gives back an order's bonuses by hand.
    order(&app, "lo-2", "loy-2", 400).await;
    assert_eq!(apply("100", "lo-2").await.0, 200);
    assert_eq!(account(&app, id).await["amount"], json!(200));
    let o = json!({"externalId": "lo-2"}).to_string();
    let (s, b) =
        app.post("/api/v5/orders/loyalty/cancel-bonus-operations", &[("site", "default"), ("order", &o)]).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(account(&app, id).await["amount"], json!(300));
    let o = get_order(&app, "lo-2").await;
    assert_eq!((o.get("bonusesChargeTotal"), o["totalSumm"].clone()), (None, json!(400)));

    // An order without an account, an unknown order, a bad amount.
    order(&app, "lo-3", "loy-none", 400).await;
    assert_eq!(get_order(&app, "lo-3").await.get("bonusesCreditTotal"), None, "no account, no programme");
    assert_eq!(apply("10", "lo-3").await.0, 400);
    assert_eq!(apply("10", "lo-404").await.0, 400);
    assert_eq!(apply("ten", "lo-2").await.0, 400);
    let (s, _) = app.post("/api/v5/orders/loyalty/apply", &[("site", "default"), ("order", "{}")]).await;
    assert_eq!(s, 400);
});

both!(segments_count_and_filter_customers, |app: TestApp| async move {
    let vip_a = customer(&app, "seg-1", true).await;
    let vip_b = customer(&app, "seg-2", true).await;
    customer(&app, "seg-3", false).await;
    for (code, name, filter) in [("vip", "VIP", json!({"vip": 1})), ("plain", "Everybody else", json!({"vip": 0}))] {
        let def = SegmentDefinition::from_json(&json!({"code": code, "name": name, "filter": filter})).unwrap();
        app.store.define_segment(&def).await.expect("a segment");
    }
    let (s, b) = app.get("/api/v5/segments").await;
    assert_eq!(s, 200, "{b}");
    let counts: Vec<(String, i64)> = b["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["code"].as_str().unwrap().to_string(), s["customersCount"].as_i64().unwrap()))
        .collect();
    assert_eq!(counts, [("vip".to_string(), 2), ("plain".to_string(), 1)]);
    assert_eq!(
        (b["segments"][0]["isDynamic"].as_bool(), b["segments"][0]["active"].as_bool()),
        (Some(true), Some(true))
    );
    let (_, b) = app.get("/api/v5/segments?filter[minCustomersCount]=2").await;
    assert_eq!(b["pagination"]["totalCount"], 1, "{b}");
    let (_, b) = app.get("/api/v5/segments?filter[name]=vip&filter[type]=dynamic").await;
    assert_eq!(b["segments"][0]["code"], "vip", "{b}");
    assert_eq!(app.get("/api/v5/segments?filter[type]=odd").await.0, 400);
    assert_eq!(app.get("/api/v5/segments?filter[maxCustomersCount]=x").await.0, 400);
    assert_eq!(app.get_as(&app.key_with(&["customer_read"], &[]).await, "/api/v5/segments").await.0, 403);

    let ids = |query: &'static str| {
        let app = &app;
        async move {
            let (s, b) = app.get(&format!("/api/v5/customers?{query}")).await;
            assert_eq!(s, 200, "{b}");
            b["customers"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect::<Vec<_>>()
        }
    };
    assert_eq!(ids("filter[segment]=vip").await, [vip_a, vip_b]);
    assert_eq!(ids("filter[segment]=vip&filter[externalIds][]=seg-2").await, [vip_b]);
    assert_eq!(ids("filter[segment]=nope").await, Vec::<i64>::new());
});

both!(sms_verification, |app: TestApp| async move {
    let send = |doc: Value| {
        let app = &app;
        async move { app.post("/api/v5/verification/sms/send", &[("verification", &doc.to_string())]).await }
    };
    let (s, b) = send(json!({"phone": "+7 900 000-00-01"})).await;
    assert_eq!(s, 200, "{b}");
    let check = b["verification"]["checkId"].as_str().unwrap().to_string();
    assert_eq!(b["verification"]["actionType"], "verify_customer");
    assert!(b["verification"].get("verifiedAt").is_none());
    assert_eq!(send(json!({"phone": "call me"})).await.0, 400);
    assert_eq!(send(json!({"phone": "+79000000001", "actionType": "dance"})).await.0, 400);
    assert_eq!(send(json!({})).await.0, 400);

    let (s, b) = app.get(&format!("/api/v5/verification/sms/{check}/status")).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["verification"]["checkId"], json!(check));
    assert_eq!(app.get("/api/v5/verification/sms/unknown/status").await.0, 404);

    let code = app.store.sms_code(&check).await.unwrap().expect("the code sent");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let confirm = |code: String| {
        let app = &app;
        let check = check.clone();
        async move {
            let doc = json!({"checkId": check, "code": code}).to_string();
            app.post("/api/v5/verification/sms/confirm", &[("verification", &doc)]).await
        }
    };
    let (s, b) = confirm(wrong.to_string()).await;
    assert_eq!(s, 400, "{b}");
    assert!(b["errors"]["verification.code"].is_string(), "{b}");
    let (s, b) = confirm(code.clone()).await;
    assert_eq!(s, 200, "{b}");
    assert!(b["verification"]["verifiedAt"].is_string(), "{b}");
    let (s, _) = confirm(code).await;
    assert_eq!(s, 400, "a code confirms once");
    let (_, b) = app.get(&format!("/api/v5/verification/sms/{check}/status")).await;
    assert!(b["verification"]["verifiedAt"].is_string(), "{b}");
    let doc = json!({"checkId": "unknown", "code": "1"}).to_string();
    assert_eq!(app.post("/api/v5/verification/sms/confirm", &[("verification", &doc)]).await.0, 404);
});

both!(definitions_from_the_command_line, |app: TestApp| async move {
    let db = app.database_url.clone();
    let dir = tempfile::tempdir().expect("a folder");
    let define = |what: &str, doc: Value| {
        let path = dir.path().join(format!("{what}-{}.json", uuid::Uuid::new_v4().simple()));
        std::fs::write(&path, doc.to_string()).expect("write the definition");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_torg"))
            .args(["define", what, path.to_str().unwrap(), "--database", &db])
            .output()
            .expect("run torg");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, out, err) =
        define("loyalty", json!({"site": "default", "name": "CLI club", "levels": [{"name": "All", "percent": 2}]}));
    assert!(ok, "{err}");
    let id: i64 = out.lines().last().unwrap().trim().parse().expect("the id on the last line");
    let (_, b) = app.get(&format!("/api/v5/loyalty/loyalties/{id}")).await;
    assert_eq!(
        (b["loyalty"]["name"].as_str(), b["loyalty"]["maxChargePercent"].clone()),
        (Some("CLI club"), json!(100))
    );
    let (ok, _, err) =
        define("loyalty", json!({"site": "nowhere", "name": "X", "levels": [{"name": "A", "percent": 1}]}));
    assert!(!ok && err.contains("site"), "{err}");
    let (ok, _, err) =
        define("loyalty", json!({"site": "default", "name": "X", "levels": [{"name": "A", "percent": 120}]}));
    assert!(!ok && err.contains("levels[0].percent"), "{err}");

    let (ok, _, err) = define("segment", json!({"code": "odd", "name": "Odd", "filter": {"colour": "red"}}));
    assert!(!ok && err.contains("filter"), "{err}");
    let (ok, _, err) = define("segment", json!({"code": "men", "name": "Men", "filter": {"sex": "male"}}));
    assert!(ok, "{err}");
    let (ok, _, err) = define("segment", json!({"code": "men", "name": "Male customers", "filter": {"sex": "male"}}));
    assert!(ok, "a code defined again replaces: {err}");
    let (_, b) = app.get("/api/v5/segments").await;
    assert_eq!(b["segments"].as_array().map(Vec::len), Some(1), "{b}");
    assert_eq!(b["segments"][0]["name"], "Male customers");
});

both!(odd_input_never_fails_the_server, |app: TestApp| async move {
    programme(&app).await;
    customer(&app, "odd-1", false).await;
    let id = active_account(&app, "odd-1").await;
    let gets = [
        "/api/v5/loyalty/loyalties?filter=abc".to_string(),
        "/api/v5/loyalty/loyalties?limit=7&page=0".into(),
        "/api/v5/loyalty/loyalties?filter[ids][]=x&filter[active]=maybe".into(),
        "/api/v5/loyalty/loyalties/99999999999999999999".into(),
        "/api/v5/loyalty/accounts?filter[level]=x&filter[createdAtFrom]=never".into(),
        "/api/v5/loyalty/accounts?filter[maxOrdersSum]=1e400&filter[minAmount]=99999999999999999999999".into(),
        "/api/v5/loyalty/accounts?filter[level]=1&page=99999".into(),
        format!("/api/v5/loyalty/account/{id}/bonus/operations?filter[createdAtTo]=9999-99-99"),
        format!("/api/v5/loyalty/account/{id}/bonus/burn_soon/details?filter[date]=0"),
        "/api/v5/loyalty/account/abc/bonus/waiting_activation/details".into(),
        "/api/v5/loyalty/bonus/operations?cursor=-1&limit=250".into(),
        "/api/v5/loyalty/bonus/operations?cursor=99999999999999999999".into(),
        "/api/v5/segments?filter[ids][]=a&filter[dateFrom]=x".into(),
        "/api/v5/verification/sms/%00/status".into(),
    ];
    for path in &gets {
        let (s, b) = app.get(path).await;
        assert!(s.as_u16() < 500 && b["success"].is_boolean(), "{path}: {s} {b}");
    }
    let huge = "99999999999999999999999999";
    let order = |v: Value| v.to_string();
    let posts: Vec<(String, Vec<(&str, String)>)> = vec![
        (format!("/api/v5/loyalty/account/{id}/bonus/credit"), vec![("amount", huge.into())]),
        (format!("/api/v5/loyalty/account/{id}/bonus/credit"), vec![("amount", "1e30".into())]),
        (
            format!("/api/v5/loyalty/account/{id}/bonus/credit"),
            vec![("amount", "1".into()), ("activationDate", "9999-12-31".into()), ("expireDate", "9999-12-31".into())],
        ),
        (format!("/api/v5/loyalty/account/{id}/bonus/charge"), vec![("amount", huge.into())]),
        (format!("/api/v5/loyalty/account/{id}/edit"), vec![("loyaltyAccount", "[1, 2]".into())]),
        (format!("/api/v5/loyalty/account/{id}/edit"), vec![("loyaltyAccount", "{\"phoneNumber\": 1e400}".into())]),
        ("/api/v5/loyalty/account/create".into(), vec![("loyaltyAccount", "{\"customer\": 5}".into())]),
        ("/api/v5/loyalty/account/create".into(), vec![("site", "nowhere".into()), ("loyaltyAccount", "{}".into())]),
        (
            "/api/v5/loyalty/calculate".into(),
            vec![
                ("site", "default".into()),
                (
                    "order",
                    order(
                        json!({"customer": {"externalId": "odd-1"}, "items": [{"initialPrice": huge, "quantity": huge}]}),
                    ),
                ),
            ],
        ),
        (
            "/api/v5/loyalty/calculate".into(),
            vec![
                ("site", "default".into()),
                ("order", order(json!({"customer": {"id": "x"}, "items": {"a": 1}}))),
                ("bonuses", huge.into()),
            ],
        ),
        ("/api/v5/loyalty/calculate".into(), vec![("order", "\"text\"".into())]),
        ("/api/v5/orders/loyalty/apply".into(), vec![("order", order(json!({"id": "abc"}))), ("bonuses", "-1".into())]),
        (
            "/api/v5/orders/loyalty/apply".into(),
            vec![("order", order(json!({"number": huge}))), ("bonuses", huge.into())],
        ),
        ("/api/v5/orders/loyalty/cancel-bonus-operations".into(), vec![("order", order(json!({"id": 99999999})))]),
        ("/api/v5/verification/sms/send".into(), vec![("verification", order(json!({"phone": 79001234567i64})))]),
        ("/api/v5/verification/sms/confirm".into(), vec![("verification", order(json!({"checkId": 1, "code": null})))]),
    ];
    for (path, form) in &posts {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (s, b) = app.post(path, &form).await;
        assert!(s.as_u16() < 500 && b["success"].is_boolean(), "{path} {form:?}: {s} {b}");
    }
    let (_, b) = app.get(&format!("/api/v5/loyalty/account/{id}")).await;
    assert!(b["loyaltyAccount"]["amount"].is_number(), "{b}");
});

both!(unfiltered_account_lists_count_from_the_counters, |app: TestApp| async move {
    programme(&app).await;
    customer(&app, "count-1", false).await;
    customer(&app, "count-2", false).await;
    active_account(&app, "count-1").await;
    let doc = account_doc("count-2").to_string();
    let (s, b) = app.post("/api/v5/loyalty/account/create", &[("site", "default"), ("loyaltyAccount", &doc)]).await;
    assert_eq!(s, 201, "{b}");
    let (all, filtered) = ("/api/v5/loyalty/accounts", "/api/v5/loyalty/accounts?filter[status]=activated");
    assert_eq!((app.total_count(all).await, app.total_count(filtered).await), (2, 1));
    // The unfiltered total is the counters' (of the key's sites), moved by hand here; another site's
    // counter is not the key's.
    add_to_counter(&app, "loyalty_accounts", "default", 1000).await;
    add_to_counter(&app, "loyalty_accounts", "elsewhere", 50).await;
    assert_eq!((app.total_count(all).await, app.total_count(filtered).await), (1002, 1));
});
