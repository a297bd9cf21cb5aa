//! Facets: the values the order and customer list filters compare that live inside the documents
//! (contragent, source, delivery service and time, tags, subscriptions, …), kept one row per value in
//! `order_facets` and `customer_facets` by the writers of the documents.
//!
//! A row of its own per value lets a filter find its orders through an index instead of parsing every
//! document, in the same SQL on both engines; text is lower-cased here, in Rust, because SQLite's
//! `lower()` folds ASCII only.

use crate::sql::{Arg, Sql, contains_pattern};
use crate::{Store, StoreResult, Tx};
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use torg_domain::money::to_units;
use torg_domain::patch::phone_digits;

/// Conditions on a buyer's legal details (`contragent`), shared by the order and customer lists.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContragentFilter {
    /// Substring of the legal name, any case.
    pub name: Option<String>,
    /// Contragent types (`individual`, `legal-entity`, `enterpreneur`).
    pub types: Vec<String>,
    /// INN, exact.
    pub inn: Option<String>,
    /// KPP, exact.
    pub kpp: Option<String>,
    /// BIK, exact.
    pub bik: Option<String>,
    /// Correspondent account, exact.
    pub corr_account: Option<String>,
    /// Bank account, exact.
    pub bank_account: Option<String>,
}

/// Conditions on where a buyer came from (`source`): each a name, exact in any case.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceFilter {
    /// `source.source`.
    pub source: Option<String>,
    /// `source.medium`.
    pub medium: Option<String>,
    /// `source.campaign`.
    pub campaign: Option<String>,
    /// `source.keyword`.
    pub keyword: Option<String>,
    /// `source.content`.
    pub content: Option<String>,
}

/// A customer's subscription to a channel's category, as the `subscriptions` filter asks for it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscriptionCondition {
    /// Channel (`email`, `sms`, `waba`).
    pub channel: String,
    /// Category code within the channel.
    pub subscription: String,
    /// Subscribed (true) or not (false, which a customer never asked about also is).
    pub subscribed: bool,
}

/// Customers by one of their phones, as `SELECT c.… FROM {CUSTOMERS_BY_PHONE} AND f.value = <digits>`:
/// through the index of the phone facets, where matching the digits inside `customers.phones` read
/// every customer.
pub(crate) const CUSTOMERS_BY_PHONE: &str =
    "customer_facets f JOIN customers c ON c.id = f.customer_id WHERE f.name = 'phone'";

/// Whose facets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    /// `order_facets`.
    Order,
    /// `customer_facets`.
    Customer,
    /// `corporate_facets`.
    Corporate,
}

impl Owner {
    fn table(self) -> &'static str {
        match self {
            Owner::Order => "order_facets",
            Owner::Customer => "customer_facets",
            Owner::Corporate => "corporate_facets",
        }
    }

    fn column(self) -> &'static str {
        match self {
            Owner::Order => "order_id",
            Owner::Customer => "customer_id",
            Owner::Corporate => "corporate_id",
        }
    }
}

/// One facet: name, lower-cased text, and a number where a filter asks for a range.
pub(crate) type Facet = (&'static str, String, Option<i64>);

/// What reads an entity's facets out of its stored document.
type FacetsOf = fn(&Map<String, Value>) -> Vec<Facet>;

/// Text of a scalar, trimmed and lower-cased; empty is none.
fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.trim().to_lowercase()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The value at a path of object keys.
fn at<'a>(doc: &'a Map<String, Value>, path: &[&str]) -> Option<&'a Value> {
    let (last, inner) = path.split_last()?;
    let mut m = doc;
    for k in inner {
        m = m.get(*k)?.as_object()?;
    }
    m.get(*last)
}

/// Whether a flag is set: `true`, `1`, `"1"`, `"true"`.
fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_i64() == Some(1),
        Some(Value::String(s)) => matches!(s.trim(), "1" | "true"),
        _ => false,
    }
}

fn amount(v: Option<&Value>) -> Option<i64> {
    let d = match v? {
        Value::Number(n) => n.to_string().parse::<Decimal>().ok(),
        Value::String(s) => s.trim().replace(',', ".").parse::<Decimal>().ok(),
        _ => None,
    }?;
    Some(to_units(d))
}

/// `contragent` and `source`, the same on orders and customers.
fn shared(doc: &Map<String, Value>, out: &mut Vec<Facet>) {
    for (name, key) in [
        ("contragent_type", "contragentType"),
        ("contragent_name", "legalName"),
        ("contragent_inn", "INN"),
        ("contragent_kpp", "KPP"),
        ("contragent_bik", "BIK"),
        ("contragent_corr_account", "corrAccount"),
        ("contragent_bank_account", "bankAccount"),
    ] {
        if let Some(v) = text(at(doc, &["contragent", key])) {
            out.push((name, v, None));
        }
    }
    for (name, key) in [
        ("source_source", "source"),
        ("source_medium", "medium"),
        ("source_campaign", "campaign"),
        ("source_keyword", "keyword"),
        ("source_content", "content"),
    ] {
        if let Some(v) = text(at(doc, &["source", key])) {
            out.push((name, v, None));
        }
    }
}

/// The members of an order document besides `delivery` that [`order_facets`] reads.
const ORDER_FACET_MEMBERS: [&str; 6] =
    ["countryIso", "call", "expired", "uploadedToExternalStoreSystem", "contragent", "source"];

/// The facets of an order, as [`order_facets`] finds them in its document: only the members they
/// come from are put in a document (every write of an order serialised all of it, lines included,
/// for these few).
pub(crate) fn facets_of_order(o: &torg_domain::order::Order) -> Vec<Facet> {
    let mut doc = Map::new();
    for key in ORDER_FACET_MEMBERS {
        if let Some(v) = o.attrs.get(key) {
            doc.insert(key.to_owned(), v.clone());
        }
    }
    doc.insert("delivery".to_owned(), serde_json::to_value(&o.delivery).unwrap_or_default());
    order_facets(&doc)
}

/// The facets of an order document (an [`Order`](torg_domain::order::Order) serialised).
pub(crate) fn order_facets(doc: &Map<String, Value>) -> Vec<Facet> {
    let mut out = Vec::new();
    // The order's country, else its delivery address's.
    if let Some(c) = text(doc.get("countryIso")).or_else(|| text(at(doc, &["delivery", "address", "countryIso"]))) {
        out.push(("country", c, None));
    }
    for (name, path) in [
        ("index", &["delivery", "address", "index"][..]),
        ("metro", &["delivery", "address", "metro"][..]),
        ("delivery_external_id", &["delivery", "data", "externalId"][..]),
        ("courier", &["delivery", "data", "courierId"][..]),
        ("delivery_status", &["delivery", "data", "status"][..]),
    ] {
        if let Some(v) = text(at(doc, path)) {
            out.push((name, v, None));
        }
    }
    // A delivery service is an object `{code, name}`, or its code alone.
    let service = match at(doc, &["delivery", "service"]) {
        Some(Value::Object(s)) => text(s.get("code")),
        other => text(other),
    };
    if let Some(s) = service {
        out.push(("delivery_service", s, None));
    }
    for (name, key) in [("delivery_time_from", "from"), ("delivery_time_to", "to")] {
        let t = at(doc, &["delivery", "time", key]).and_then(Value::as_str).and_then(torg_domain::time::time_of_day);
        if let Some(t) = t {
            out.push((name, t, None));
        }
    }
    if let Some(n) = amount(at(doc, &["delivery", "netCost"])) {
        out.push(("delivery_net_cost", String::new(), Some(n)));
    }
    for (name, key) in [("call", "call"), ("expired", "expired"), ("uploaded", "uploadedToExternalStoreSystem")] {
        if truthy(doc.get(key)) {
            out.push((name, "1".into(), None));
        }
    }
    shared(doc, &mut out);
    out
}

/// The facets of a customer document (a [`Customer`](torg_domain::customer::Customer) serialised).
pub(crate) fn customer_facets(doc: &Map<String, Value>) -> Vec<Facet> {
    let mut out = Vec::new();
    for (name, path) in [
        ("country", &["address", "countryIso"][..]),
        ("discount_card", &["discountCardNumber"][..]),
        ("browser_id", &["browserId"][..]),
        ("mg_customer_id", &["mgCustomerId"][..]),
        ("commentary", &["commentary"][..]),
    ] {
        if let Some(v) = text(at(doc, path)) {
            out.push((name, v, None));
        }
    }
    if text(doc.get("emailMarketingUnsubscribedAt")).is_some() {
        out.push(("email_unsubscribed", "1".into(), None));
    }
    // Tags are names or `{name, color, attached}` objects.
    if let Some(Value::Array(tags)) = doc.get("tags") {
        for t in tags {
            let name = match t {
                Value::Object(o) => text(o.get("name")),
                other => text(Some(other)),
            };
            if let Some(n) = name {
                out.push(("tag", n, None));
            }
        }
    }
    // `customerSubscriptions`: `[{subscription: {channel, code, …}, subscribed}]`.
    if let Some(Value::Array(subs)) = doc.get("customerSubscriptions") {
        for s in subs {
            let channel = text(at_value(s, &["subscription", "channel"]));
            let code = text(at_value(s, &["subscription", "code"]));
            if let (Some(channel), Some(code)) = (channel, code) {
                let subscribed = truthy(s.get("subscribed"));
                out.push(("subscription", format!("{channel}/{code}"), Some(i64::from(subscribed))));
            }
        }
    }
    // Each phone once, as its digits: how an order's phone or a call finds its buyer, by index.
    if let Some(Value::Array(phones)) = doc.get("phones") {
        let mut seen: Vec<String> = Vec::new();
        for p in phones {
            let digits = at_value(p, &["number"]).and_then(Value::as_str).map(phone_digits).unwrap_or_default();
            if !digits.is_empty() && !seen.contains(&digits) {
                seen.push(digits.clone());
                out.push(("phone", digits, None));
            }
        }
    }
    shared(doc, &mut out);
    out
}

/// The facets of a corporate customer: its own document's (discount card, tags, source), each of its
/// companies' legal details, and its addresses' countries, cities and regions.
pub(crate) fn corporate_facets(
    doc: &Map<String, Value>,
    companies: &[Map<String, Value>],
    addresses: &[Map<String, Value>],
) -> Vec<Facet> {
    let mut out = Vec::new();
    if let Some(v) = text(doc.get("discountCardNumber")) {
        out.push(("discount_card", v, None));
    }
    if let Some(Value::Array(tags)) = doc.get("tags") {
        for t in tags {
            let name = match t {
                Value::Object(o) => text(o.get("name")),
                other => text(Some(other)),
            };
            if let Some(n) = name {
                out.push(("tag", n, None));
            }
        }
    }
    shared(doc, &mut out);
    for c in companies {
        let mut legal = Map::new();
        legal.insert("contragent".into(), c.get("contragent").cloned().unwrap_or(Value::Null));
        shared(&legal, &mut out);
    }
    for a in addresses {
        for (name, key) in [("country", "countryIso"), ("city", "city"), ("region", "region")] {
            if let Some(v) = text(a.get(key)) {
                out.push((name, v, None));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn at_value<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    at(v.as_object()?, path)
}

impl Store {
    /// Replaces the facets of one entity inside a write; `fresh` skips the delete for a new row.
    pub(crate) async fn write_facets(
        &self,
        tx: &mut Tx,
        owner: Owner,
        id: i64,
        facets: &[Facet],
        fresh: bool,
    ) -> StoreResult<()> {
        let (table, column) = (owner.table(), owner.column());
        if !fresh {
            crate::db::query(format!("DELETE FROM {table} WHERE {column} = $1")).bind(id).execute(&mut **tx).await?;
        }
        if facets.is_empty() {
            return Ok(());
        }
        // One statement for all of them: an order carries a handful.
        let sql = format!(
            "INSERT INTO {table} ({column}, name, value, num) VALUES {}",
            crate::sql::values_rows(facets.len(), 4)
        );
        let mut q = crate::db::query(sql);
        for (name, value, num) in facets {
            q = q.bind(id).bind(*name).bind(value.as_str()).bind(*num);
        }
        q.execute_later(tx).await?;
        Ok(())
    }

    /// Facets of every order and customer, and the lower-cased copies of note texts, for rows written
    /// before the writers kept them; runs once after migrations.
    pub(crate) async fn refresh_facets(&self) -> StoreResult<()> {
        self.refresh_facets_of(&[Owner::Order, Owner::Customer]).await?;
        self.refresh_note_copies().await
    }

    /// Rewrites the facets of every order or customer from its document, in batches; for a facet the
    /// writers began to keep after rows were written.
    pub(crate) async fn refresh_facets_of(&self, owners: &[Owner]) -> StoreResult<()> {
        const BATCH: i64 = 500;
        for &owner in owners {
            let (select, facets_of): (&str, FacetsOf) = match owner {
                Owner::Order => ("SELECT id, doc FROM orders WHERE id > $1 ORDER BY id LIMIT $2", order_facets),
                Owner::Customer => {
                    ("SELECT id, doc FROM customers WHERE id > $1 ORDER BY id LIMIT $2", customer_facets)
                }
                // Written with their facets since the table came (migration 0018).
                Owner::Corporate => continue,
            };
            let mut after = 0;
            loop {
                let rows: Vec<(i64, String)> =
                    crate::db::query_as(select).bind(after).bind(BATCH).fetch_all(self.reader()).await?;
                let Some(last) = rows.last().map(|r| r.0) else { break };
                let mut tx = self.begin().await?;
                for (id, doc) in &rows {
                    let doc = crate::json_map(doc);
                    self.write_facets(&mut tx, owner, *id, &facets_of(&doc), false).await?;
                }
                tx.commit().await?;
                after = last;
            }
        }
        Ok(())
    }

    /// The lower-cased copies of note texts written before the writers kept them.
    async fn refresh_note_copies(&self) -> StoreResult<()> {
        let notes: Vec<(i64, String)> =
            crate::db::query_as("SELECT id, text FROM customer_notes WHERE text_lower IS NULL")
                .fetch_all(self.reader())
                .await?;
        if !notes.is_empty() {
            let mut tx = self.begin().await?;
            for (id, text) in notes {
                crate::db::query("UPDATE customer_notes SET text_lower = $1 WHERE id = $2")
                    .bind(text.to_lowercase())
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        }
        Ok(())
    }
}

/// ` AND {owner_expr} IN (SELECT … FROM the facets WHERE name = … AND {condition})`.
fn facet_subquery(wh: &mut Sql, owner: Owner, owner_expr: &str, name: &str, negate: bool) {
    let not = if negate { " NOT" } else { "" };
    wh.push(&format!(" AND {owner_expr}{not} IN (SELECT {} FROM {} WHERE name = ", owner.column(), owner.table()))
        .bind(Arg::Text(name.to_string()));
}

/// Entities having a facet `name` equal (in any case) to one of `values`; an empty list does not filter.
pub(crate) fn facet_in(wh: &mut Sql, owner: Owner, owner_expr: &str, name: &str, values: &[String]) {
    if values.is_empty() {
        return;
    }
    facet_subquery(wh, owner, owner_expr, name, false);
    wh.push(" AND value IN ").bind_list(values.iter().map(|v| Arg::Text(v.trim().to_lowercase()))).push(")");
}

/// Entities having a facet `name` equal to `value`, in any case.
pub(crate) fn facet_eq(wh: &mut Sql, owner: Owner, owner_expr: &str, name: &str, value: Option<&String>) {
    if let Some(v) = value {
        facet_in(wh, owner, owner_expr, name, std::slice::from_ref(v));
    }
}

/// Entities having a facet `name` that contains `needle`, in any case.
pub(crate) fn facet_like(wh: &mut Sql, owner: Owner, owner_expr: &str, name: &str, needle: Option<&String>) {
    if let Some(n) = needle {
        facet_subquery(wh, owner, owner_expr, name, false);
        wh.push(" AND value LIKE ").bind(Arg::Text(contains_pattern(&n.to_lowercase()))).push(" ESCAPE '\\')");
    }
}

/// Entities with (true) or without (false) the flag facet `name`.
pub(crate) fn facet_flag(wh: &mut Sql, owner: Owner, owner_expr: &str, name: &str, flag: Option<bool>) {
    if let Some(f) = flag {
        facet_subquery(wh, owner, owner_expr, name, !f);
        wh.push(")");
    }
}

/// Entities whose number facet `name` (0 when they have none) lies in `[min, max]`.
pub(crate) fn facet_range(
    wh: &mut Sql,
    owner: Owner,
    owner_expr: &str,
    name: &str,
    min: Option<Decimal>,
    max: Option<Decimal>,
) {
    for (op, bound) in [(">=", min), ("<=", max)] {
        if let Some(b) = bound {
            wh.push(&format!(
                " AND COALESCE((SELECT MAX(f.num) FROM {} f WHERE f.{} = {owner_expr} AND f.name = ",
                owner.table(),
                owner.column()
            ))
            .bind(Arg::Text(name.to_string()))
            .push(&format!("), 0) {op} "))
            .bind(Arg::Int(to_units(b)));
        }
    }
}

/// The conditions of a [`ContragentFilter`].
pub(crate) fn contragent(wh: &mut Sql, owner: Owner, owner_expr: &str, f: &ContragentFilter) {
    facet_like(wh, owner, owner_expr, "contragent_name", f.name.as_ref());
    facet_in(wh, owner, owner_expr, "contragent_type", &f.types);
    for (name, v) in [
        ("contragent_inn", &f.inn),
        ("contragent_kpp", &f.kpp),
        ("contragent_bik", &f.bik),
        ("contragent_corr_account", &f.corr_account),
        ("contragent_bank_account", &f.bank_account),
    ] {
        facet_eq(wh, owner, owner_expr, name, v.as_ref());
    }
}

/// The conditions of a [`SourceFilter`].
pub(crate) fn source(wh: &mut Sql, owner: Owner, owner_expr: &str, f: &SourceFilter) {
    for (name, v) in [
        ("source_source", &f.source),
        ("source_medium", &f.medium),
        ("source_campaign", &f.campaign),
        ("source_keyword", &f.keyword),
        ("source_content", &f.content),
    ] {
        facet_eq(wh, owner, owner_expr, name, v.as_ref());
    }
}

/// Buyers (`customer_expr`, a customer id) whose first and last orders (test orders aside) fall in
/// the given ranges of instants.
pub(crate) fn order_dates(
    wh: &mut Sql,
    customer_expr: &str,
    first: (Option<i64>, Option<i64>),
    last: (Option<i64>, Option<i64>),
) {
    let bounds = [("MIN", ">=", first.0), ("MIN", "<=", first.1), ("MAX", ">=", last.0), ("MAX", "<=", last.1)];
    if bounds.iter().all(|b| b.2.is_none()) {
        return;
    }
    wh.push(&format!(
        " AND {customer_expr} IN (SELECT fo.customer_id FROM orders fo WHERE fo.customer_id IS NOT NULL AND fo.is_test = 0
          GROUP BY fo.customer_id HAVING 1 = 1"
    ));
    for (agg, op, v) in bounds {
        if let Some(t) = v {
            wh.push(&format!(" AND {agg}(fo.created_at) {op} ")).bind(Arg::Int(t));
        }
    }
    wh.push(")");
}

/// Entities whose manager (`manager_expr`, a user id) is in one of the user groups `codes`.
pub(crate) fn manager_groups(wh: &mut Sql, manager_expr: &str, codes: &[String]) {
    if !codes.is_empty() {
        wh.push(&format!(
            " AND {manager_expr} IN (SELECT m.user_id FROM user_group_members m JOIN user_groups g ON g.id = m.group_id
              WHERE g.code IN "
        ))
        .bind_list(codes.iter().cloned().map(Arg::Text))
        .push(")");
    }
}

/// Customers subscribed (or not) to each of `conditions`.
pub(crate) fn subscriptions(wh: &mut Sql, customer_expr: &str, conditions: &[SubscriptionCondition]) {
    for c in conditions {
        // Not subscribed is everyone without a subscribed entry: a customer never asked is not subscribed.
        facet_subquery(wh, Owner::Customer, customer_expr, "subscription", !c.subscribed);
        wh.push(" AND value = ")
            .bind(Arg::Text(format!("{}/{}", c.channel.trim().to_lowercase(), c.subscription.trim().to_lowercase())))
            .push(" AND num = 1)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn order_facets_read_nested_members() {
        let f = order_facets(&map(json!({
            "countryIso": "RU", "call": true, "expired": false,
            "delivery": {"address": {"index": "420000", "metro": "Кремлёвская"}, "service": {"code": "CDEK"},
                "time": {"from": "9:00", "to": "18:00:00"}, "netCost": "150.5", "data": {"courierId": 7}},
            "contragent": {"contragentType": "legal-entity", "legalName": "ООО Ромашка", "INN": "7701"},
            "source": {"source": "Google", "medium": ""}
        })));
        let has = |n: &str, v: &str| f.iter().any(|(a, b, _)| *a == n && b == v);
        assert!(has("country", "ru") && has("index", "420000") && has("metro", "кремлёвская"));
        assert!(has("delivery_service", "cdek") && has("courier", "7"));
        assert!(has("delivery_time_from", "09:00") && has("delivery_time_to", "18:00"));
        assert!(has("call", "1") && !f.iter().any(|(a, _, _)| *a == "expired"));
        assert!(has("contragent_name", "ооо ромашка") && has("contragent_inn", "7701"));
        assert!(has("source_source", "google") && !f.iter().any(|(a, _, _)| *a == "source_medium"));
        assert!(f.contains(&("delivery_net_cost", String::new(), Some(1_505_000))));
    }

    /// The facets written with an order are those its whole document gives (the back-fill's way).
    #[test]
    fn an_orders_facets_are_those_of_its_document() {
        let doc = map(json!({
            "number": "1A", "site": "shop", "status": "new", "countryIso": "RU", "call": true,
            "uploadedToExternalStoreSystem": true, "expired": true,
            "delivery": {"code": "courier", "netCost": 150.5, "address": {"index": "420000", "metro": "Кремлёвская"},
                "service": {"code": "CDEK"}, "time": {"from": "9:00", "to": "18:00"},
                "data": {"courierId": 7, "externalId": "D-1", "status": "sent"}},
            "contragent": {"contragentType": "legal-entity", "legalName": "ООО Ромашка", "INN": "7701", "KPP": "1",
                "BIK": "2", "corrAccount": "3", "bankAccount": "4"},
            "source": {"source": "Google", "medium": "cpc", "campaign": "c", "keyword": "k", "content": "x"}
        }));
        let order: torg_domain::order::Order = serde_json::from_value(Value::Object(doc)).unwrap();
        let whole = order_facets(&map(serde_json::to_value(&order).unwrap()));
        assert_eq!(whole.len(), 25, "every facet is set: {whole:?}");
        assert_eq!(facets_of_order(&order), whole);
        let bare = torg_domain::order::Order::default();
        assert_eq!(facets_of_order(&bare), order_facets(&map(serde_json::to_value(&bare).unwrap())));
    }

    #[test]
    fn customer_facets_read_tags_and_subscriptions() {
        let f = customer_facets(&map(json!({
            "tags": ["VIP", {"name": "Опт", "color": "red"}], "emailMarketingUnsubscribedAt": "2024-01-01 00:00:00",
            "customerSubscriptions": [{"subscription": {"channel": "email", "code": "news"}, "subscribed": false}],
            "address": {"countryIso": "KZ"}, "discountCardNumber": "DC-1"
        })));
        assert!(f.contains(&("tag", "vip".into(), None)) && f.contains(&("tag", "опт".into(), None)));
        assert!(f.contains(&("email_unsubscribed", "1".into(), None)));
        assert!(f.contains(&("subscription", "email/news".into(), Some(0))));
        assert!(f.contains(&("country", "kz".into(), None)) && f.contains(&("discount_card", "dc-1".into(), None)));
    }

    #[test]
    fn customer_facets_keep_each_phone_once_as_digits() {
        let f = customer_facets(&map(json!({
            "phones": [{"number": "+7 (495) 123-45-67"}, {"number": "74951234567"}, {"number": "8-800"}, {"number": "—"}]
        })));
        let phones: Vec<&str> = f.iter().filter(|(n, _, _)| *n == "phone").map(|(_, v, _)| v.as_str()).collect();
        assert_eq!(phones, ["74951234567", "8800"]);
    }
}
