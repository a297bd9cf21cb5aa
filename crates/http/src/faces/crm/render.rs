//! Domain entities in RetailCRM's JSON: dates as `Y-m-d H:i:s` in the configured zone, payments keyed
//! by id, customers nested in orders, history records with `apiKey.current` for the reading key.

use crate::reshape::{Array, Object, Reshaped, Shown};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use torg_domain::customer::{Customer, CustomerStats};
use torg_domain::history::HistoryRecord;
use torg_domain::money::Exact;
use torg_domain::order::{Order, OrderItem};
use torg_domain::time::Zone;

/// A customer's tags as RetailCRM's objects, whether they were given as names or as objects.
fn tags(mut tags: Value) -> Value {
    if let Value::Array(list) = &mut tags {
        for t in list.iter_mut() {
            let mut tag = match t.take() {
                Value::String(name) => json!({ "name": name }),
                Value::Object(o) => Value::Object(o),
                other => json!({ "name": other.to_string() }),
            };
            if let Some(o) = tag.as_object_mut() {
                o.entry("color").or_insert(json!("grey"));
                o.entry("attached").or_insert(json!(true));
            }
            *t = tag;
        }
    }
    tags
}

/// `key` of each object in a list, an instant, as `Y-m-d H:i:s` in the zone.
fn dates_in_list(mut list: Value, key: &str, zone: &Zone) -> Value {
    if let Value::Array(items) = &mut list {
        for item in items.iter_mut() {
            if let Some(t) = item.get(key).and_then(Value::as_i64) {
                item[key] = json!(zone.datetime(t));
            }
        }
    }
    list
}

/// An instant as `Y-m-d H:i:s` in the zone; anything else as it is.
fn date(v: Value, zone: &Zone) -> Value {
    match v.as_i64() {
        Some(t) => json!(zone.datetime(t)),
        None => v,
    }
}

/// A customer as RetailCRM shows it.
pub fn customer<'a>(c: &'a Customer, stats: Option<&'a CustomerStats>, zone: &'a Zone) -> Reshaped<'a, Customer> {
    let mut shown = Reshaped::new(c)
        .set("type", "customer")
        .set("id", c.id)
        .set("site", &c.site)
        .set("createdAt", zone.datetime(c.created_at));
    if let Some(s) = stats {
        let avg = if s.orders_count > 0 {
            (s.total_summ / rust_decimal::Decimal::from(s.orders_count)).round_dp(2)
        } else {
            Default::default()
        };
        shown = shown
            .set("ordersCount", s.orders_count)
            .set("totalSumm", Exact(s.total_summ))
            .set("averageSumm", Exact(avg))
            .set("marginSumm", Exact(s.margin_summ))
            .set("costSumm", Exact(s.cost_summ))
            .set("isContact", s.is_contact);
    }
    // Read-only members the official clients' Customer types carry. torg keeps no segments or discount
    // programme for a customer (yet), so these are their true values today.
    shown
        .or_set("segments", [(); 0])
        .or_set("isContact", false)
        .or_set("personalDiscount", 0)
        .or_set("cumulativeDiscount", 0)
        // The one address a v5 customer has is numbered by its customer.
        .with("address", move |mut a| {
            if let Some(a) = a.as_object_mut().filter(|a| !a.is_empty()) {
                a.entry("id").or_insert(json!(c.id));
            }
            a
        })
        .with("customerSubscriptions", move |subs| dates_in_list(subs, "changedAt", zone))
        .with("tags", tags)
}

/// A line of an order as RetailCRM shows it.
fn item<'a>(i: &'a OrderItem, zone: &'a Zone) -> Reshaped<'a, OrderItem> {
    let mut shown = Reshaped::new(i).with("createdAt", move |t| date(t, zone));
    if let Some(offer) = &i.offer {
        shown = shown.set(
            "offer",
            Object::new()
                .with("id", offer.id)
                .with("externalId", &offer.external_id)
                .with("xmlId", &offer.xml_id)
                .with("name", &offer.name)
                .with("displayName", &offer.name)
                .with("article", &offer.article),
        );
    }
    shown
        .set("discountTotal", i.unit_discount())
        .set("prices", Array(vec![Object::new().with("price", i.unit_price()).with("quantity", i.quantity)]))
}

/// An order as RetailCRM shows it; `customers` holds the customers (and contact persons) of the orders
/// being shown, `parties` their corporate customers and companies.
pub fn order<'a>(
    o: &'a Order,
    customers: &'a HashMap<i64, Customer>,
    parties: &'a torg_store::OrderParties,
    paid: &[String],
    zone: &'a Zone,
) -> Reshaped<'a, Order> {
    let person = |id: i64| -> Shown<'a> {
        match customers.get(&id) {
            Some(c) => Box::new(customer(c, None, zone)),
            None => Box::new(Object::new().with("type", "customer").with("id", id)),
        }
    };
    let mut shown = Reshaped::new(o)
        .set("id", o.id)
        .set("slug", o.id)
        .set("number", &o.number)
        .set("site", &o.site)
        .set("createdAt", zone.datetime(o.created_at))
        .set("statusUpdatedAt", zone.datetime(o.status_updated_at))
        .set("summ", Exact(o.summ()))
        .set("totalSumm", Exact(o.total_summ()))
        .set("prepaySum", Exact(o.prepay_sum(paid)))
        .set("purchaseSumm", Exact(o.purchase_summ()))
        .set("fromApi", o.from_api);
    if o.is_test {
        shown = shown.set("isTest", true);
    }
    if let Some(id) = o.customer_id {
        shown = shown.set("customer", person(id));
    }
    if let Some(credit) = parties.bonuses_credit.get(&o.id) {
        shown = shown.set("bonusesCreditTotal", credit);
    }
    shown = shown.remove("corporateId").remove("companyId").remove("contactId");
    if let Some(id) = o.corporate_id {
        let c = match parties.corporates.get(&id) {
            Some((ext, site, name)) => {
                json!({ "type": "customer_corporate", "id": id, "externalId": ext, "site": site, "nickName": name })
            }
            None => json!({ "type": "customer_corporate", "id": id }),
        };
        shown = shown.set("customer", c);
        if let Some(cid) = o.contact_id {
            shown = shown.set("contact", person(cid));
        }
        if let Some(k) = o.company_id {
            let c = match parties.companies.get(&k) {
                Some(c) => json!({ "id": k, "externalId": c.external_id, "name": c.name, "brand": c.brand,
                                   "active": c.active, "isMain": c.is_main, "contragent": c.contragent }),
                None => json!({ "id": k }),
            };
            shown = shown.set("company", c);
        }
    }
    let items: Vec<_> = o.items.iter().map(|i| item(i, zone)).collect();
    let payments = Object(
        o.payments
            .iter()
            .map(|p| {
                let mut shown = Reshaped::new(p);
                if let Some(t) = p.paid_at {
                    shown = shown.set("paidAt", zone.datetime(t));
                }
                (p.id.to_string().into(), Box::new(shown) as Shown<'a>)
            })
            .collect(),
    );
    shown
        .set("items", items)
        .set("payments", payments)
        .with("links", move |links| dates_in_list(links, "createdAt", zone))
}

/// A history record as RetailCRM shows it. `entity_key` is `order` or `customer`; `render_entity`
/// turns a `created` record's snapshot into its full form.
pub fn history(
    h: &HistoryRecord,
    reader_key: i64,
    entity_key: &str,
    zone: &Zone,
    render_entity: impl Fn(&Value) -> Value,
) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(h.id));
    m.insert("createdAt".into(), json!(zone.datetime(h.created_at)));
    if h.created {
        m.insert("created".into(), json!(true));
    }
    if h.deleted {
        m.insert("deleted".into(), json!(true));
    }
    m.insert("source".into(), json!(h.source));
    if h.source == "api" {
        m.insert("apiKey".into(), json!({ "current": h.api_key_id == Some(reader_key) }));
    }
    if let Some(u) = h.user_id {
        m.insert("user".into(), json!({ "id": u }));
    }
    match &h.field {
        // Payment dates are kept as instants and shown as RetailCRM shows dates, in the zone.
        Some(f) if f == "payments.paid_at" => {
            let date = |v: &Value| v.as_i64().map_or_else(|| v.clone(), |t| json!(zone.datetime(t)));
            m.insert("field".into(), json!(f));
            m.insert("oldValue".into(), date(&h.old_value));
            m.insert("newValue".into(), date(&h.new_value));
        }
        Some(f) if f == "payments" => {
            m.insert("field".into(), json!(f));
            m.insert("oldValue".into(), payment(&h.old_value, zone));
            m.insert("newValue".into(), payment(&h.new_value, zone));
        }
        Some(f) => {
            m.insert("field".into(), json!(f));
            m.insert("oldValue".into(), h.old_value.clone());
            m.insert("newValue".into(), h.new_value.clone());
        }
        // RetailCRM opens an order's history with its first status; a customer's with its id.
        None if entity_key == "order" && h.created => {
            m.insert("field".into(), json!("status"));
            m.insert("oldValue".into(), Value::Null);
            m.insert("newValue".into(), json!({ "code": h.entity.get("status").cloned().unwrap_or(Value::Null) }));
        }
        None => {
            m.insert("field".into(), json!("id"));
            m.insert("oldValue".into(), Value::Null);
            m.insert("newValue".into(), h.entity.get("id").cloned().unwrap_or(Value::Null));
        }
    }
    let mut entity = if h.created { render_entity(&h.entity) } else { h.entity.clone() };
    // A record of a combined entity names what it went into beside the entity, as RetailCRM does.
    if let Some(into) = entity.as_object_mut().and_then(|e| e.remove("combinedTo")) {
        m.insert("combinedTo".into(), into);
    }
    m.insert(entity_key.into(), entity);
    if let Some(item) = &h.item {
        // Payment records carry the payment in the item slot; RetailCRM names it `payment`.
        if h.field.as_deref().is_some_and(|f| f.starts_with("payments")) {
            m.insert("payment".into(), payment(item, zone));
        } else {
            m.insert("item".into(), item.clone());
        }
    }
    Value::Object(m)
}

/// A payment inside a history record, its `paidAt` (kept as an instant) as `Y-m-d H:i:s` in the zone.
fn payment(p: &Value, zone: &Zone) -> Value {
    let mut p = p.clone();
    if let Some(t) = p.get("paidAt").and_then(Value::as_i64) {
        p["paidAt"] = json!(zone.datetime(t));
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use torg_domain::corporate::Company;

    /// The rendering the faces did before answers were written without `Value` trees: the oracle
    /// the reshaped rendering must match byte for byte.
    mod by_value {
        use serde_json::{Map, Value, json};
        use std::collections::HashMap;
        use torg_domain::customer::{Customer, CustomerStats};
        use torg_domain::order::Order;
        use torg_domain::time::Zone;

        fn object(v: Value) -> Map<String, Value> {
            match v {
                Value::Object(m) => m,
                _ => Map::new(),
            }
        }

        /// A customer as RetailCRM shows it.
        pub fn customer(c: &Customer, stats: Option<&CustomerStats>, zone: &Zone) -> Value {
            let mut m = object(serde_json::to_value(c).unwrap_or_default());
            m.insert("type".into(), json!("customer"));
            m.insert("id".into(), json!(c.id));
            m.insert("site".into(), json!(c.site));
            m.insert("createdAt".into(), json!(zone.datetime(c.created_at)));
            if let Some(s) = stats {
                m.insert("ordersCount".into(), json!(s.orders_count));
                m.insert("totalSumm".into(), json!(s.total_summ));
                let avg = if s.orders_count > 0 {
                    (s.total_summ / rust_decimal::Decimal::from(s.orders_count)).round_dp(2)
                } else {
                    Default::default()
                };
                m.insert("averageSumm".into(), json!(avg));
                m.insert("marginSumm".into(), json!(s.margin_summ));
                m.insert("costSumm".into(), json!(s.cost_summ));
                m.insert("isContact".into(), json!(s.is_contact));
            }
            // Read-only members the official clients' Customer types carry. torg keeps no segments or discount
            // programme for a customer (yet), so these are their true values today.
            m.entry("segments").or_insert(json!([]));
            m.entry("isContact").or_insert(json!(false));
            m.entry("personalDiscount").or_insert(json!(0));
            m.entry("cumulativeDiscount").or_insert(json!(0));
            // The one address a v5 customer has is numbered by its customer.
            if let Some(Value::Object(a)) =
                m.get_mut("address").filter(|a| a.as_object().is_some_and(|a| !a.is_empty()))
            {
                a.entry("id").or_insert(json!(c.id));
            }
            if let Some(Value::Array(subs)) = m.get_mut("customerSubscriptions") {
                for s in subs.iter_mut() {
                    if let Some(t) = s.get("changedAt").and_then(Value::as_i64) {
                        s["changedAt"] = json!(zone.datetime(t));
                    }
                }
            }
            // Tags come back as RetailCRM's objects whether they were given as names or as objects.
            if let Some(Value::Array(tags)) = m.get_mut("tags") {
                for t in tags.iter_mut() {
                    let mut tag = match t.take() {
                        Value::String(name) => json!({ "name": name }),
                        Value::Object(o) => Value::Object(o),
                        other => json!({ "name": other.to_string() }),
                    };
                    if let Some(o) = tag.as_object_mut() {
                        o.entry("color").or_insert(json!("grey"));
                        o.entry("attached").or_insert(json!(true));
                    }
                    *t = tag;
                }
            }
            Value::Object(m)
        }

        /// An order as RetailCRM shows it; `customers` holds the customers (and contact persons) of the orders
        /// being shown, `parties` their corporate customers and companies.
        pub fn order(
            o: &Order,
            customers: &HashMap<i64, Customer>,
            parties: &torg_store::OrderParties,
            paid: &[String],
            zone: &Zone,
        ) -> Value {
            let mut m = object(serde_json::to_value(o).unwrap_or_default());
            m.insert("id".into(), json!(o.id));
            m.insert("slug".into(), json!(o.id));
            m.insert("number".into(), json!(o.number));
            m.insert("site".into(), json!(o.site));
            m.insert("createdAt".into(), json!(zone.datetime(o.created_at)));
            m.insert("statusUpdatedAt".into(), json!(zone.datetime(o.status_updated_at)));
            m.insert("summ".into(), json!(o.summ()));
            m.insert("totalSumm".into(), json!(o.total_summ()));
            m.insert("prepaySum".into(), json!(o.prepay_sum(paid)));
            m.insert("purchaseSumm".into(), json!(o.purchase_summ()));
            m.insert("fromApi".into(), json!(o.from_api));
            if o.is_test {
                m.insert("isTest".into(), json!(true));
            }
            if let Some(id) = o.customer_id {
                let c = match customers.get(&id) {
                    Some(c) => customer(c, None, zone),
                    None => json!({ "type": "customer", "id": id }),
                };
                m.insert("customer".into(), c);
            }
            if let Some(credit) = parties.bonuses_credit.get(&o.id) {
                m.insert("bonusesCreditTotal".into(), json!(credit));
            }
            for key in ["corporateId", "companyId", "contactId"] {
                m.remove(key);
            }
            if let Some(id) = o.corporate_id {
                let c = match parties.corporates.get(&id) {
                    Some((ext, site, name)) => {
                        json!({ "type": "customer_corporate", "id": id, "externalId": ext, "site": site, "nickName": name })
                    }
                    None => json!({ "type": "customer_corporate", "id": id }),
                };
                m.insert("customer".into(), c);
                if let Some(cid) = o.contact_id {
                    let c = match customers.get(&cid) {
                        Some(c) => customer(c, None, zone),
                        None => json!({ "type": "customer", "id": cid }),
                    };
                    m.insert("contact".into(), c);
                }
                if let Some(k) = o.company_id {
                    let c = match parties.companies.get(&k) {
                        Some(c) => json!({ "id": k, "externalId": c.external_id, "name": c.name, "brand": c.brand,
                                           "active": c.active, "isMain": c.is_main, "contragent": c.contragent }),
                        None => json!({ "id": k }),
                    };
                    m.insert("company".into(), c);
                }
            }
            let items: Vec<Value> = o
                .items
                .iter()
                .map(|i| {
                    let mut v = object(serde_json::to_value(i).unwrap_or_default());
                    if let Some(t) = v.get("createdAt").and_then(Value::as_i64) {
                        v.insert("createdAt".into(), json!(zone.datetime(t)));
                    }
                    if let Some(offer) = &i.offer {
                        v.insert(
                            "offer".into(),
                            json!({ "id": offer.id, "externalId": offer.external_id, "xmlId": offer.xml_id,
                                    "name": offer.name, "displayName": offer.name, "article": offer.article }),
                        );
                    }
                    v.insert("discountTotal".into(), json!(i.unit_discount()));
                    v.insert("prices".into(), json!([{ "price": i.unit_price(), "quantity": i.quantity }]));
                    Value::Object(v)
                })
                .collect();
            m.insert("items".into(), Value::Array(items));
            let payments: Map<String, Value> = o
                .payments
                .iter()
                .map(|p| {
                    let mut v = object(serde_json::to_value(p).unwrap_or_default());
                    if let Some(t) = p.paid_at {
                        v.insert("paidAt".into(), json!(zone.datetime(t)));
                    }
                    (p.id.to_string(), Value::Object(v))
                })
                .collect();
            m.insert("payments".into(), Value::Object(payments));
            if let Some(Value::Array(links)) = m.get_mut("links") {
                for link in links.iter_mut() {
                    if let Some(t) = link.get("createdAt").and_then(Value::as_i64) {
                        link["createdAt"] = json!(zone.datetime(t));
                    }
                }
            }
            Value::Object(m)
        }
    }

    fn zone() -> Zone {
        Zone::named("Europe/Moscow").expect("a zone")
    }

    fn a_customer() -> Customer {
        let mut c: Customer = serde_json::from_value(json!({
            "externalId": "c-1", "firstName": "Анна", "lastName": "Петрова", "email": "a@example.com",
            "phones": [{ "number": "+79990001122" }], "vip": true,
            "address": { "city": "Москва", "text": "ул. Тверская, 1" },
            "customFields": { "nps": 9 },
            "tags": ["опт", { "name": "b2b", "color": "red" }, 7],
            "customerSubscriptions": [{ "subscription": { "code": "news" }, "subscribed": true, "changedAt": 1_700_000_000 }],
            "contragent": { "contragentType": "individual" }, "source": { "source": "google" }
        }))
        .expect("a customer");
        c.id = 41;
        c.site = "shop".into();
        c.created_at = 1_690_000_000;
        c
    }

    fn an_order(corporate: bool) -> Order {
        let mut o: Order = serde_json::from_value(json!({
            "externalId": "o-1", "status": "new", "orderType": "eshop-individual", "firstName": "Анна",
            "phone": "+79990001122", "email": "a@example.com", "managerComment": "позвонить \"утром\"",
            "discountManualAmount": "10.50", "discountManualPercent": "0",
            "delivery": { "code": "courier", "cost": "300", "address": { "text": "Москва" } },
            "customFields": { "source": "wrk", "nps": 10 }, "countryIso": "RU", "currency": "RUB",
            "contragent": { "contragentType": "individual" },
            "links": [{ "order": { "id": 2 }, "createdAt": 1_700_000_100, "comment": "x" }],
            "corporateId": if corporate { json!(5) } else { Value::Null },
            "companyId": if corporate { json!(6) } else { Value::Null },
            "contactId": if corporate { json!(41) } else { Value::Null },
        }))
        .expect("an order");
        if !corporate {
            (o.corporate_id, o.company_id, o.contact_id) = (None, None, None);
        }
        o.id = 7;
        o.number = "7A".into();
        o.site = "shop".into();
        o.customer_id = (!corporate).then_some(41);
        o.created_at = 1_700_000_000;
        o.status_updated_at = 1_700_000_500;
        o.from_api = true;
        o.is_test = corporate;
        o.items = vec![
            serde_json::from_value(json!({
                "id": 70, "offer": { "id": 3, "externalId": "sku-3", "name": "Фильтр", "article": "F-3" },
                "initialPrice": "1250.00", "quantity": "2", "status": "new", "discountManualAmount": "50",
                "discountManualPercent": "5", "purchasePrice": "800", "createdAt": 1_700_000_000,
                "properties": [{ "code": "size", "name": "Размер", "value": "M" }]
            }))
            .expect("a line"),
            serde_json::from_value(json!({ "id": 71, "productName": "Услуга", "initialPrice": "99.99",
                "quantity": "1.5", "status": "new", "vatRate": "20" }))
            .expect("a line"),
        ];
        o.payments = vec![
            serde_json::from_value(json!({ "id": 9, "type": "cash", "status": "paid", "amount": "2000.5",
                "paidAt": 1_700_000_200, "externalId": "p-9" }))
            .expect("a payment"),
            serde_json::from_value(json!({ "id": 10, "type": "bank-card", "status": "not-paid", "amount": "1" }))
                .expect("a payment"),
        ];
        o
    }

    fn parties() -> torg_store::OrderParties {
        let company: Company = serde_json::from_value(json!({ "id": 6, "name": "ООО Ромашка", "active": true,
            "isMain": true, "contragent": { "INN": "7707083893" }, "externalId": "k-6" }))
        .expect("a company");
        torg_store::OrderParties {
            corporates: HashMap::from([(5, (Some("corp-5".to_string()), "shop".to_string(), "Ромашка".to_string()))]),
            companies: HashMap::from([(6, company)]),
            bonuses_credit: HashMap::from([(7, "12.5".parse().unwrap_or_default())]),
        }
    }

    #[test]
    fn a_customer_is_written_as_the_value_rendering_wrote_it() {
        let (c, zone) = (a_customer(), zone());
        let stats =
            CustomerStats { orders_count: 3, total_summ: "1000.10".parse().unwrap_or_default(), ..Default::default() };
        for s in [None, Some(&stats)] {
            let text = serde_json::to_string(&customer(&c, s, &zone)).unwrap_or_default();
            assert_eq!(text, by_value::customer(&c, s, &zone).to_string());
        }
    }

    #[test]
    fn an_order_is_written_as_the_value_rendering_wrote_it() {
        let (o, zone) = (an_order(false), zone());
        let customers = HashMap::from([(41, a_customer())]);
        let paid = vec!["paid".to_string()];
        for known in [&customers, &HashMap::new()] {
            let text = serde_json::to_string(&order(&o, known, &parties(), &paid, &zone)).unwrap_or_default();
            assert_eq!(text, by_value::order(&o, known, &parties(), &paid, &zone).to_string());
        }
    }

    /// The `Value` rendering removed members by swapping the last one into their place; the reshaped
    /// one keeps the order, so a corporate customer's order has the same members in another order.
    #[test]
    fn a_corporate_order_has_the_members_the_value_rendering_gave() {
        let (o, zone) = (an_order(true), zone());
        let customers = HashMap::from([(41, a_customer())]);
        let paid = vec!["paid".to_string()];
        let shown = serde_json::to_value(order(&o, &customers, &parties(), &paid, &zone)).unwrap_or_default();
        assert_eq!(shown, by_value::order(&o, &customers, &parties(), &paid, &zone));
        assert_eq!(shown["customer"]["nickName"], "Ромашка");
        assert_eq!(shown["contact"]["id"], 41);
        assert!(shown.get("corporateId").is_none());
    }
}
