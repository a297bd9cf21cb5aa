//! `torg demo`: a believable small auto-parts shop in an empty database, with the vendors' documented example keys,
//! so every example request of the vendors' documentation works as written.

use serde_json::{Map, Value, json};
use torg_domain::custom_field::{CustomField, Dictionary, Element, FieldType};
use torg_domain::history::Actor;
use torg_domain::key::{ALL_SCOPES, SiteAccess};
use torg_domain::reference::{ReferenceEntry, ReferenceKind, Site};
use torg_domain::task::OrderRef;
use torg_domain::telephony::{User, UserGroup};
use torg_domain::time::Zone;
use torg_store::{NewKey, Store};

/// The example key of RetailCRM's API rules page.
pub const CRM_SEED_KEY: &str = "X2EDxEta9U3lcsSV0dwdF38UvtSCxIuGh";

/// The demo buyer's key for the parts face (demo data only; `serve` never creates it).
pub const PARTS_DEMO_KEY: &str = "demo-parts-5f1c9a7e2b4d8c3a";

/// Invoicebox's documented test token: a billing key in the demo.
pub const BILLING_SEED_TOKEN: &str = "b37c4c689295904ed21eee5d9a48d42e";

/// Invoicebox's documented test shop: the merchant id of the demo's `simple-site`.
pub const BILLING_SEED_MERCHANT: &str = "ffffffff-ffff-ffff-ffff-ffffffffffff";

/// The user id Invoicebox's documented auth check answers for its test token.
pub const BILLING_SEED_USER: &str = "01771533-8e75-3234-8e3d-9213ae2d7c52";

/// The example `hash` of KEAZ's office API documentation: the demo distributor's office key.
pub const OFFICE_SEED_KEY: &str = "jqtlkuvhik0o4ogg4wswk4ws0kwww4k";

/// The demo distributor: it owns the `msk` and `ekb` warehouses (`nsk` belongs to nobody).
pub const DEMO_DISTRIBUTOR: &str = "demo-distributor";

/// What the demo holds, to print.
#[derive(Debug, Clone)]
pub struct Report {
    /// Whether this run filled the database (false: it already held the demo).
    pub filled: bool,
    /// Keys to try: (what for, key).
    pub keys: Vec<(String, String)>,
    /// An order with tracking numbers, to look up on `/track`.
    pub tracked: Option<String>,
}

impl Report {
    /// Prints the keys and a few requests to try.
    pub fn print(&self, base: &str) {
        if self.filled {
            println!("demo data loaded");
        } else {
            println!("demo data already present");
        }
        for (what, key) in &self.keys {
            println!("key for {what}: {key}");
        }
        println!("try:");
        println!(
            "  curl '{base}/api/v5/orders?filter[numbers][]=1235C&filter[customFields][nps][min]=5&apiKey={CRM_SEED_KEY}'"
        );
        println!("  curl -H 'X-API-KEY: {CRM_SEED_KEY}' '{base}/api/v5/orders?limit=20'");
        println!("  curl '{base}/v1/search/?q=oc47&api_key={PARTS_DEMO_KEY}'");
        println!("  curl '{base}/v1/profile/?api_key={PARTS_DEMO_KEY}'");
        println!(
            "  curl -H 'Accept: application/json' -H 'Authorization: Bearer {BILLING_SEED_TOKEN}' '{base}/v3/security/api/auth/auth'"
        );
        println!(
            "  curl -H 'Accept: application/json' -H 'User-Agent: demo/1.0' -H 'Authorization: Bearer {BILLING_SEED_TOKEN}' '{base}/v3/filter/api/order/order'"
        );
        println!("  curl -d 'hash={OFFICE_SEED_KEY}&filter[code][0]=msk' '{base}/restapi/office/warehouses.list.json'");
        println!(
            "  curl -H 'Content-Type: application/json' -d '{{\"hash\": \"{OFFICE_SEED_KEY}\"}}' '{base}/restapi/office/orders.list.xml'"
        );
        if let Some(number) = &self.tracked {
            println!("  open {base}/track?number={number}   (or curl '{base}/track/{number}')");
        }
        println!("  curl '{base}/openapi.json'");
    }
}

const FIRST: &[&str] = &["Иван", "Анна", "Пётр", "Мария", "Олег", "Ольга", "Сергей", "Елена", "Дмитрий", "Наталья"];
const LAST: &[&str] =
    &["Иванов", "Смирнова", "Кузнецов", "Попова", "Соколов", "Лебедева", "Козлов", "Новикова", "Морозов", "Волкова"];
const CITIES: &[&str] = &["Москва", "Казань", "Самара", "Пермь"];
/// Parts the demo's CRM orders are made of.
const DEMO_ORDER_PARTS: &[&str] =
    &["OC47", "W712/75", "LX1211", "GDB1330", "BKR6E", "VKMA01250", "0986452041", "C25114"];

/// Fills an empty database (one with no orders) with the demo; does nothing to one that has data.
pub async fn load(store: &Store) -> anyhow::Result<Report> {
    let keys = vec![
        ("the CRM face (RetailCRM v5), every scope".to_string(), CRM_SEED_KEY.to_string()),
        ("the parts face (Carreta v1), buyer demo-c1".to_string(), PARTS_DEMO_KEY.to_string()),
        (format!("the billing face (Invoicebox v3), merchant {BILLING_SEED_MERCHANT}"), BILLING_SEED_TOKEN.to_string()),
        (format!("the office face (KEAZ), distributor {DEMO_DISTRIBUTOR}"), OFFICE_SEED_KEY.to_string()),
    ];
    if store.meta("demo").await?.is_some() {
        let tracked = store.meta("demo_tracked").await?;
        return Ok(Report { filled: false, keys, tracked });
    }
    let zone = Zone::named("Europe/Moscow").map_err(anyhow::Error::msg)?;
    let actor = Actor::User(None);
    store
        .upsert_site(&Site {
            id: 0,
            code: "simple-site".into(),
            name: "Simple site".into(),
            url: Some("https://simple-site.example".into()),
            ordering: 2,
            attrs: json!({"currency": "RUB", "countryIso": "RU"}).as_object().cloned().unwrap_or_default(),
        })
        .await?;
    for (code, name, is_manager) in [("manager", "Менеджеры", true), ("director", "Руководители", false)]
    {
        let attrs = json!({"grantedSites": ["default", "simple-site"]}).as_object().cloned().unwrap_or_default();
        let group = UserGroup { code: code.into(), name: name.into(), is_manager, attrs, ..UserGroup::default() };
        store.put_user_group(&group).await?;
    }
    let mut managers = Vec::new();
    for (i, (first, last)) in [("Алексей", "Петров"), ("Светлана", "Орлова"), ("Николай", "Фёдоров")].iter().enumerate()
    {
        let mut groups = vec!["manager".to_string()];
        if i == 0 {
            groups.push("director".into());
        }
        let u = store
            .create_user(&User {
                id: 0,
                first_name: (*first).into(),
                last_name: (*last).into(),
                email: Some(format!("manager{}@torg.example", i + 1)),
                code: Some(format!("10{}", i + 1)),
                phone: Some(format!("+7495000000{}", i + 1)),
                position: Some(if i == 0 { "Руководитель отдела продаж" } else { "Менеджер" }.into()),
                active: true,
                is_manager: true,
                is_admin: i == 0,
                groups,
                ..User::default()
            })
            .await?;
        managers.push(u.id);
    }
    // The custom fields the demo orders and customers carry, defined as RetailCRM defines them.
    let delivery_windows = Dictionary {
        code: "delivery_window".into(),
        name: "Окно доставки".into(),
        elements: [("morning", "09:00–12:00"), ("day", "12:00–18:00"), ("evening", "18:00–21:00")]
            .iter()
            .enumerate()
            .map(|(i, (code, name))| Element {
                code: (*code).into(),
                name: (*name).into(),
                ordering: (i as i64 + 1) * 10,
            })
            .collect(),
    };
    store.create_dictionary(&delivery_windows).await?;
    for (entity, code, name, kind, dictionary) in [
        ("order", "nps", "Оценка NPS", FieldType::Integer, None),
        ("order", "delivery_window", "Окно доставки", FieldType::Dictionary, Some("delivery_window")),
        ("customer", "inn", "ИНН", FieldType::String, None),
    ] {
        let attrs = json!({"inFilter": true, "inList": true}).as_object().cloned().unwrap_or_default();
        let field = CustomField {
            entity: entity.into(),
            code: code.into(),
            name: name.into(),
            kind,
            dictionary: dictionary.map(str::to_owned),
            ordering: 10,
            attrs,
        };
        store.create_custom_field(&field).await?;
    }
    let legal = ReferenceEntry {
        id: 0,
        code: "torg-llc".into(),
        name: "ООО «Торг»".into(),
        active: true,
        ordering: 1,
        attrs: json!({"legalName": "ООО «Торг»", "contragentType": "legal-entity", "countryIso": "RU",
                      "INN": "7701234567", "KPP": "770101001", "vatRate": "20.00"})
        .as_object()
        .cloned()
        .unwrap_or_default(),
    };
    store.upsert_ref(ReferenceKind::LegalEntity, &legal).await?;
    crate::demo_catalogue::load(store, 600).await?;
    // The CRM demo orders name the hand-picked parts, as stocked at the main warehouse.
    let mut offers = Vec::new();
    for article in DEMO_ORDER_PARTS {
        let rows = store.search_parts(article).await?;
        if let Some(row) = rows.iter().find(|r| !r.is_cross) {
            offers.push(row.offer_id);
        }
    }
    let mut customers = Vec::new();
    for i in 0..20 {
        let doc = json!({
            "externalId": format!("demo-c{}", i + 1),
            "firstName": FIRST[i % FIRST.len()],
            "lastName": LAST[(i * 3) % LAST.len()],
            "email": format!("buyer{}@example.ru", i + 1),
            "phones": [{"number": format!("+7 (9{:02}) 555-{:02}-{:02}", 10 + i, i, 30 + i)}],
            "managerId": managers[i % managers.len()],
            "address": {"city": CITIES[i % CITIES.len()], "countryIso": "RU"},
            "vip": i % 7 == 0,
        });
        let site = if i % 2 == 0 { "simple-site" } else { "default" };
        let c = store.create_customer(site, &obj(doc), actor).await?;
        customers.push((c.id, site));
    }
    loyalty(store, &customers).await?;
    let statuses = ["new", "availability-confirmed", "assembling", "send-to-delivery", "complete", "cancel-other"];
    for i in 0..60usize {
        let (customer, site) = customers[i % customers.len()];
        let mut doc = json!({
            "externalId": format!("demo-o{}", i + 1),
            "customer": {"id": customer},
            "status": statuses[i % statuses.len()],
            "createdAt": zone.datetime(torg_domain::time::now() - 3600 * (60 - i as i64) * 11),
            "items": [
                {"offer": {"id": offers[i % offers.len()]}, "quantity": 1 + i % 3},
                {"offer": {"id": offers[(i * 5 + 1) % offers.len()]}, "quantity": 1},
            ],
            "delivery": {"code": if i % 3 == 0 { "self-delivery" } else { "courier" }, "cost": if i % 3 == 0 { 0 } else { 300 },
                         "address": {"city": CITIES[i % CITIES.len()]}},
            "customFields": {"nps": (i * 7) % 11},
            "managerId": managers[i % managers.len()],
        });
        if i == 0 {
            doc["number"] = json!("1235C");
            doc["customFields"] = json!({"nps": 9});
        }
        store.create_order(site, &obj(doc), actor, &zone).await?;
    }
    // A shipment of two courier orders for tomorrow and a file attached to the first order, so
    // `delivery/shipments` and `files` have something to show.
    let all_sites = store.books().await?.site_codes();
    let shipment = torg_domain::delivery::ShipmentPatch {
        delivery_type: Some("courier".into()),
        date: Some(zone.date(torg_domain::time::now() + 86_400)),
        comment: Some(Some("Утренний рейс".into())),
        orders: Some(vec![OrderRef::ExternalId("demo-o2".into()), OrderRef::ExternalId("demo-o3".into())]),
        ..Default::default()
    };
    store.create_shipment(&shipment, None, &all_sites).await?;
    let contract = torg_store::NewFile {
        filename: "Договор поставки.txt".into(),
        media_type: "text/plain".into(),
        site: None,
        content: "Договор поставки № 1 (демо)\n".as_bytes().to_vec(),
    };
    let attach = [torg_domain::file::AttachRef::Order(OrderRef::ExternalId("demo-o1".into()))];
    store.upload_file(&contract, &attach, None, &all_sites).await?;
    store
        .create_key(NewKey {
            plain: CRM_SEED_KEY.into(),
            name: "seed example key (demo)".into(),
            scopes: ALL_SCOPES.iter().map(|s| (*s).to_string()).collect(),
            sites: SiteAccess::Full,
            allowed_ips: Vec::new(),
            customer_external_id: None,
            distributor: None,
        })
        .await?;
    store
        .create_key(NewKey {
            plain: PARTS_DEMO_KEY.into(),
            name: "demo buyer (parts face)".into(),
            scopes: vec!["parts".into()],
            sites: SiteAccess::Full,
            allowed_ips: Vec::new(),
            customer_external_id: Some("demo-c1".into()),
            distributor: None,
        })
        .await?;
    store
        .create_key(NewKey {
            plain: OFFICE_SEED_KEY.into(),
            name: "office documentation example key (demo distributor)".into(),
            scopes: vec!["office".into()],
            sites: SiteAccess::Full,
            allowed_ips: Vec::new(),
            customer_external_id: None,
            distributor: Some(DEMO_DISTRIBUTOR.into()),
        })
        .await?;
    let tracked = crate::demo_office::load(store, &zone).await?;
    if let Some(number) = &tracked {
        store.meta_init("demo_tracked", number).await?;
    }
    load_billing(store, tracked.as_deref()).await?;
    store.meta_init("demo", "1").await?;
    Ok(Report { filled: true, keys, tracked })
}

/// Billing settings of the demo sites, Invoicebox's test token, and invoices: three for CRM demo orders
/// (one paid) and a paid one for the tracked order, so `/track` shows an invoice number.
async fn load_billing(store: &Store, tracked: Option<&str>) -> anyhow::Result<()> {
    let patch = torg_store::BillingSettingsPatch { test_mode: Some(true), ..Default::default() };
    store.set_billing_settings("simple-site", &patch, BILLING_SEED_MERCHANT).await?;
    store.set_billing_settings("default", &patch, &crate::billing::random_uuid()).await?;
    let key = store
        .create_key(NewKey {
            plain: BILLING_SEED_TOKEN.into(),
            name: "Invoicebox documentation test token (demo)".into(),
            scopes: vec!["billing".into()],
            sites: SiteAccess::Full,
            allowed_ips: Vec::new(),
            customer_external_id: None,
            distributor: None,
        })
        .await?;
    store.meta_init(&format!("billing_user:{}", key.id), BILLING_SEED_USER).await?;
    let zone = Zone::named("Europe/Moscow").map_err(anyhow::Error::msg)?;
    let week = torg_domain::time::now() + 7 * 86_400;
    let mut lookups: Vec<torg_store::OrderLookup> = ["demo-o1", "demo-o3", "demo-o5"]
        .iter()
        .map(|ext| torg_store::OrderLookup::ExternalId { site: "simple-site".into(), external_id: (*ext).into() })
        .collect();
    lookups.extend(tracked.map(|n| torg_store::OrderLookup::Number(n.to_string())));
    for (i, lookup) in lookups.iter().enumerate() {
        let Some(order) = store.get_order(lookup).await? else { continue };
        let Some(settings) = store.billing_settings(&order.site).await? else { continue };
        let inv = torg_http::faces::billing::issue_for_order(store, &settings, &order, week, &zone)
            .await
            .map_err(anyhow::Error::msg)?;
        if i == 1 || i == 3 {
            store
                .set_invoice_status(&inv.id, torg_domain::invoice::InvoiceStatus::Completed, false, Actor::Code, &zone)
                .await?;
        }
    }
    payment_invoice(store, &zone).await
}

/// An unpaid card payment of demo-o2 (on `default`) with an invoice issued for it, as the CRM's
/// `payment/create-invoice` issues one, so `payment/invoice/{uuid}` and the payment page have one to show.
async fn payment_invoice(store: &Store, zone: &Zone) -> anyhow::Result<()> {
    let order = torg_store::OrderLookup::ExternalId { site: "default".into(), external_id: "demo-o2".into() };
    let Some(o) = store.get_order(&order).await? else { return Ok(()) };
    let Some(settings) = store.billing_settings(&o.site).await? else { return Ok(()) };
    let doc = obj(json!({"type": "bank-card", "amount": o.total_summ()}));
    let sites = vec![o.site.clone()];
    let id = store.create_payment(&order, &doc, Actor::Code, &sites, zone).await?;
    let Some((o, p)) = store.order_of_payment(id, &sites).await? else { return Ok(()) };
    torg_http::faces::crm::issue_for_payment(store, &settings, &o, &p, None).await?;
    Ok(())
}

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

/// A loyalty programme on `default` with three levels, five enrolled customers holding a welcome bonus
/// (their paid orders then earn more), and two segments.
async fn loyalty(store: &Store, customers: &[(i64, &str)]) -> anyhow::Result<()> {
    use torg_domain::loyalty::AccountPatch;
    use torg_domain::order::CustomerRef;
    crate::definitions::define_loyalty(
        store,
        &json!({
            "site": "default", "name": "Клуб покупателей", "currency": "RUB", "expiryDays": 365,
            "maxChargePercent": 30,
            "levels": [
                {"name": "Базовый", "sum": 0, "percent": 3},
                {"name": "Серебряный", "sum": 20000, "percent": 5},
                {"name": "Золотой", "sum": 100000, "percent": 7}
            ]
        }),
    )
    .await?;
    for (id, site) in customers.iter().filter(|(_, s)| *s == "default").take(5) {
        let sites = vec![(*site).to_string()];
        let (account, _) = store.create_loyalty_account(site, &CustomerRef::Id(*id), &AccountPatch::default()).await?;
        store.activate_loyalty_account(account.id, &sites).await?;
        let welcome = rust_decimal::Decimal::from(500);
        store.credit_bonuses(account.id, welcome, None, None, Some("Welcome bonus"), &sites).await?;
    }
    for segment in [
        json!({"code": "vip", "name": "VIP customers", "filter": {"vip": 1}}),
        json!({"code": "moscow", "name": "Customers in Moscow", "filter": {"city": "Москва"}}),
    ] {
        crate::definitions::define_segment(store, &segment).await?;
    }
    Ok(())
}
