//! Orders: list with filters, create, get, edit, upload, fix-external-ids, statuses, history.

use super::customers::{
    absent_dates, absent_flag, absent_value, contragent, history_filter, id_pairs, reject_extra_keys, source,
    tasks_counts,
};
use super::shown_cache::{Kept, ShownCache, Under};
use super::{Crm, CrmError, CrmResult, FilterReader, answer, ok, pagination, render, upload_answer};
use crate::AppState;
use crate::kit::Kind;
use crate::reshape::{Array, Object, Reshaped};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use torg_domain::delivery::DeliveryState;
use torg_domain::order::Order;
use torg_domain::time::Zone;
use torg_store::{NumberRange, OrderFilter, OrderLookup, OrderStamp, ShownOrders, StampedOrders};

/// Most orders one upload takes.
const UPLOAD_CAP: usize = 50;

/// Orders ready to be shown: with their customers, contact persons, corporate customers and companies,
/// and the statuses that count a payment as paid.
struct Shown {
    all: ShownOrders,
    paid: Arc<[String]>,
}

impl Shown {
    fn new(all: ShownOrders, crm: &Crm) -> Shown {
        Shown { all, paid: crm.books.paid().clone() }
    }

    /// Orders just written, with their customers and parties read for them.
    async fn of(state: &AppState, crm: &Crm, orders: Vec<Order>) -> Result<Shown, CrmError> {
        Ok(Shown::new(state.store.show_orders(orders).await?, crm))
    }

    fn order<'a>(&'a self, o: &'a Order, zone: &'a Zone) -> Reshaped<'a, Order> {
        render::order(o, &self.all.customers, &self.all.parties, &self.paid, zone)
    }

    fn orders<'a>(&'a self, zone: &'a Zone) -> Vec<Reshaped<'a, Order>> {
        self.all.orders.iter().map(|o| self.order(o, zone)).collect()
    }
}

/// A read of orders through the orders the face keeps shown ([`ShownCache`]): the store is told
/// which it holds (and at what stamp), and reads whole only the others.
struct Through<'c> {
    cache: &'c ShownCache,
    under: Under,
    /// What the store was told is held: these are shown as kept when their stamp is still current
    /// (an id may be asked for more than once). A list, not a map: a page is at most a hundred, and
    /// hashing each id was a visible part of a kept page's time.
    hits: Mutex<Vec<(i64, Arc<Kept>)>>,
}

impl<'c> Through<'c> {
    fn new(state: &'c AppState, crm: &Crm) -> Through<'c> {
        let cache = &*state.shown_orders;
        Through { cache, under: Under::new(crm.books.paid()), hits: Mutex::default() }
    }

    /// The stamp at which order `id` is held (what the store's `held` asks).
    fn held(&self, id: i64) -> Option<OrderStamp> {
        let kept = self.cache.kept(id, &self.under)?;
        let stamp = kept.stamp();
        self.hits.lock().unwrap_or_else(PoisonError::into_inner).push((id, kept));
        stamp
    }

    /// The stamped orders as shown, in the store's order: the ones read whole rendered now (and
    /// kept), the rest as kept.
    fn shown(self, stamped: StampedOrders, zone: &Zone) -> Result<Vec<Arc<Kept>>, CrmError> {
        // Rendered with the paid statuses the cache was asked under, not worked out again.
        let fresh = Shown { all: stamped.shown, paid: self.under.paid().clone() };
        let mut rendered = HashMap::with_capacity(fresh.all.orders.len());
        for o in &fresh.all.orders {
            let json = serde_json::to_vec(&fresh.order(o, zone)).map_err(CrmError::internal)?;
            rendered.insert(o.id, (o.site.as_str(), json));
        }
        // In id order, to be found by halving: a page holds up to a hundred.
        let mut hits = self.hits.into_inner().unwrap_or_else(PoisonError::into_inner);
        hits.sort_by_key(|(id, _)| *id);
        self.cache.note(stamped.stamps.len().saturating_sub(rendered.len()), rendered.len());
        stamped
            .stamps
            .into_iter()
            .map(|(id, stamp)| {
                // A page served wholly as kept rendered nothing: no id is hashed to find that out.
                let read = if rendered.is_empty() { None } else { rendered.remove(&id) };
                match read {
                    Some((site, json)) => Ok(self.cache.keep(id, stamp, &self.under, site, json)),
                    None => hits[hits.partition_point(|(held, _)| *held < id)..]
                        .iter()
                        .take_while(|(held, _)| *held == id)
                        .map(|(_, k)| k)
                        .find(|k| stamp.is_some() && k.stamp() == stamp)
                        .cloned()
                        .ok_or_else(|| CrmError::internal(format!("order {id} was neither kept nor read"))),
                }
            })
            .collect()
    }
}

/// The `filter[…]` keys of `GET /api/v5/orders` and what each holds.
pub(super) const LIST_FILTER: &[(&str, Kind)] = &[
    ("sites", Kind::Texts),
    ("extendedStatus", Kind::Texts),
    ("statuses", Kind::Texts),
    ("deliveryStates", Kind::Texts),
    ("mgChannels", Kind::Integers),
    ("ids", Kind::Integers),
    ("externalIds", Kind::Texts),
    ("numbers", Kind::Texts),
    ("customer", Kind::Text),
    ("customerId", Kind::Integer),
    ("customerExternalId", Kind::Text),
    ("email", Kind::Text),
    ("createdAtFrom", Kind::DateTime),
    ("createdAtTo", Kind::DateTime),
    ("statusUpdatedAtFrom", Kind::DateTime),
    ("statusUpdatedAtTo", Kind::DateTime),
    ("orderTypes", Kind::Texts),
    ("orderMethods", Kind::Texts),
    ("deliveryTypes", Kind::Texts),
    ("shipmentStores", Kind::Texts),
    ("paymentStatuses", Kind::Texts),
    ("paymentTypes", Kind::Texts),
    ("managers", Kind::Integers),
    ("minPrice", Kind::Number),
    ("maxPrice", Kind::Number),
    ("minPrepaySumm", Kind::Number),
    ("maxPrepaySumm", Kind::Number),
    ("minDeliveryCost", Kind::Number),
    ("maxDeliveryCost", Kind::Number),
    ("minPurchaseSumm", Kind::Number),
    ("maxPurchaseSumm", Kind::Number),
    ("product", Kind::Text),
    ("managerComment", Kind::Text),
    ("customerComment", Kind::Text),
    ("trackNumber", Kind::Text),
    ("city", Kind::Text),
    ("shipped", Kind::Boolean),
    ("attachments", Kind::Boolean),
    ("countries", Kind::Texts),
    ("region", Kind::Text),
    ("index", Kind::Text),
    ("metro", Kind::Text),
    ("vip", Kind::Boolean),
    ("bad", Kind::Boolean),
    ("call", Kind::Boolean),
    ("expired", Kind::Boolean),
    ("uploadedToExtStoreSys", Kind::Boolean),
    ("minDeliveryNetCost", Kind::Number),
    ("maxDeliveryNetCost", Kind::Number),
    ("minMarginSumm", Kind::Number),
    ("maxMarginSumm", Kind::Number),
    ("deliveryExternalId", Kind::Text),
    ("deliveryServices", Kind::Texts),
    ("couriers", Kind::Integers),
    ("managerGroups", Kind::Texts),
    ("paidAtFrom", Kind::DateTime),
    ("paidAtTo", Kind::DateTime),
    ("fullPaidAtFrom", Kind::DateTime),
    ("fullPaidAtTo", Kind::DateTime),
    ("firstOrderFrom", Kind::DateTime),
    ("firstOrderTo", Kind::DateTime),
    ("lastOrderFrom", Kind::DateTime),
    ("lastOrderTo", Kind::DateTime),
    ("companyName", Kind::Text),
    ("customFields", Kind::Object),
    ("online", Kind::Text),
    ("firstWebVisitFrom", Kind::Text),
    ("lastWebVisitFrom", Kind::Text),
    ("dpdParcelDateFrom", Kind::Text),
    ("receiptFiscalDocumentAttribute", Kind::Text),
    ("receiptStatus", Kind::Text),
    ("receiptOperation", Kind::Text),
    ("receiptOrderStatus", Kind::Text),
    ("tasksCounts", Kind::Integer),
    ("minCostSumm", Kind::Number),
    ("deliveryTimeFrom", Kind::Text),
    ("deliveryTimeTo", Kind::Text),
    ("deliveryDateFrom", Kind::Text),
    ("deliveryDateTo", Kind::Text),
    ("shipmentDateFrom", Kind::Text),
    ("shipmentDateTo", Kind::Text),
    ("contragentName", Kind::Text),
    ("contragentTypes", Kind::Texts),
    ("contragentInn", Kind::Text),
    ("contragentKpp", Kind::Text),
    ("contragentBik", Kind::Text),
    ("contragentCorrAccount", Kind::Text),
    ("contragentBankAccount", Kind::Text),
    ("sourceName", Kind::Text),
    ("mediumName", Kind::Text),
    ("campaignName", Kind::Text),
    ("keywordName", Kind::Text),
    ("adContentName", Kind::Text),
    ("customerType", Kind::Text),
    ("maxCostSumm", Kind::Number),
    ("dpdParcelDateTo", Kind::Text),
    ("firstWebVisitTo", Kind::Text),
    ("lastWebVisitTo", Kind::Text),
];

/// The `filter[…]` keys of `GET /api/v5/orders/history` and what each holds.
pub(super) const HISTORY_FILTER: &[(&str, Kind)] = &[
    ("sinceId", Kind::Integer),
    ("startDate", Kind::DateTime),
    ("endDate", Kind::DateTime),
    ("orderId", Kind::Integer),
    ("orderExternalId", Kind::Text),
];

/// `GET /api/v5/orders`.
pub async fn list(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let page = crm.default_page()?;
    let filter = crm.filter()?;
    reject_extra_keys(&filter, LIST_FILTER)?;
    let mut r = FilterReader::new(&filter, &state.config.zone).noting(&crm.input);
    let wanted = r.texts("sites");
    if wanted.iter().any(|s| !crm.sites.contains(s)) {
        return Err(CrmError::access_denied());
    }
    let mut extended = r.texts("extendedStatus");
    extended.extend(r.texts("statuses"));
    // Keys for what torg keeps nothing of (web analytics, fiscal receipts, MessageGateway channels):
    // a condition only "none" meets matches every order, any other matches none. Each is read (and so
    // checked) whatever the others say.
    let nothing = [
        absent_flag(&mut r, "online"),
        absent_dates(&mut r, "firstWebVisitFrom", "firstWebVisitTo"),
        absent_dates(&mut r, "lastWebVisitFrom", "lastWebVisitTo"),
        absent_dates(&mut r, "dpdParcelDateFrom", "dpdParcelDateTo"),
        absent_value(&r, "receiptFiscalDocumentAttribute"),
        absent_value(&r, "receiptStatus"),
        absent_value(&r, "receiptOperation"),
        absent_value(&r, "receiptOrderStatus"),
        !r.ints("mgChannels").is_empty(),
    ]
    .contains(&true);
    let f = OrderFilter {
        sites: if wanted.is_empty() { crm.sites.clone() } else { wanted },
        ids: r.ints("ids"),
        external_ids: r.texts("externalIds"),
        numbers: r.texts("numbers"),
        customer: r.text("customer"),
        customer_id: r.int("customerId"),
        customer_external_id: r.text("customerExternalId"),
        email: r.text("email"),
        created_from: r.date_from("createdAtFrom"),
        created_to: r.date_to("createdAtTo"),
        status_updated_from: r.date_from("statusUpdatedAtFrom"),
        status_updated_to: r.date_to("statusUpdatedAtTo"),
        extended_status: extended,
        order_types: r.texts("orderTypes"),
        order_methods: r.texts("orderMethods"),
        delivery_types: r.texts("deliveryTypes"),
        shipment_stores: r.texts("shipmentStores"),
        payment_statuses: r.texts("paymentStatuses"),
        payment_types: r.texts("paymentTypes"),
        managers: r.ints("managers"),
        price: NumberRange { min: r.decimal("minPrice"), max: r.decimal("maxPrice") },
        prepay: NumberRange { min: r.decimal("minPrepaySumm"), max: r.decimal("maxPrepaySumm") },
        delivery_cost: NumberRange { min: r.decimal("minDeliveryCost"), max: r.decimal("maxDeliveryCost") },
        purchase: NumberRange { min: r.decimal("minPurchaseSumm"), max: r.decimal("maxPurchaseSumm") },
        product: r.text("product"),
        manager_comment: r.text("managerComment"),
        customer_comment: r.text("customerComment"),
        track_number: r.text("trackNumber"),
        city: r.text("city"),
        shipped: r.flag("shipped"),
        attachments: r.flag("attachments"),
        custom_fields: r.custom_fields(),
        countries: r.texts("countries"),
        region: r.text("region"),
        index: r.text("index"),
        metro: r.text("metro"),
        delivery_time_from: time_of_day(&mut r, "deliveryTimeFrom"),
        delivery_time_to: time_of_day(&mut r, "deliveryTimeTo"),
        vip: r.flag("vip"),
        bad: r.flag("bad"),
        call: r.flag("call"),
        expired: r.flag("expired"),
        uploaded_to_ext_store: r.flag("uploadedToExtStoreSys"),
        delivery_net_cost: NumberRange { min: r.decimal("minDeliveryNetCost"), max: r.decimal("maxDeliveryNetCost") },
        margin: NumberRange { min: r.decimal("minMarginSumm"), max: r.decimal("maxMarginSumm") },
        delivery_external_id: r.text("deliveryExternalId"),
        contragent: contragent(&r),
        delivery_services: r.texts("deliveryServices"),
        couriers: r.ints("couriers"),
        manager_groups: r.texts("managerGroups"),
        paid_from: r.date_from("paidAtFrom"),
        paid_to: r.date_to("paidAtTo"),
        full_paid_from: r.date_from("fullPaidAtFrom"),
        full_paid_to: r.date_to("fullPaidAtTo"),
        delivery_date_from: calendar_date(&mut r, "deliveryDateFrom"),
        delivery_date_to: calendar_date(&mut r, "deliveryDateTo"),
        shipment_date_from: calendar_date(&mut r, "shipmentDateFrom"),
        shipment_date_to: calendar_date(&mut r, "shipmentDateTo"),
        first_order_from: r.date_from("firstOrderFrom"),
        first_order_to: r.date_to("firstOrderTo"),
        last_order_from: r.date_from("lastOrderFrom"),
        last_order_to: r.date_to("lastOrderTo"),
        source: source(&r),
        corporate_id: None,
        corporate: customer_type(&mut r),
        company_name: r.text("companyName"),
        tasks: tasks_counts(&mut r),
        cost: NumberRange { min: r.decimal("minCostSumm"), max: r.decimal("maxCostSumm") },
        delivery_states: delivery_states(&mut r),
        nothing,
    };
    r.finish()?;
    let through = Through::new(&state, &crm);
    let held = |id| through.held(id);
    let (stamped, total) = state.store.seeing(&crm.books).as_of(crm.shown).list_stamped_orders(&f, page, &held).await?;
    let orders = through.shown(stamped, &state.config.zone)?;
    let orders = Array(orders.iter().map(|k| k.json()).collect());
    answer(StatusCode::OK, Object::new().with("pagination", pagination(page.meta(total))).with("orders", orders))
}

/// `customerType`: orders for individual customers (`customer`) or corporate ones (`customer_corporate`).
fn customer_type(r: &mut FilterReader<'_>) -> Option<bool> {
    match r.text("customerType").as_deref() {
        None => None,
        Some("customer") => Some(false),
        Some("customer_corporate") => Some(true),
        Some(_) => {
            r.errors.insert(
                "filter[customerType]".into(),
                "The value you selected is not a valid choice. Allowed: customer, customer_corporate.".into(),
            );
            None
        }
    }
}

/// `deliveryStates[]`: the delivery integration states asked for (any unknown one is 400).
fn delivery_states(r: &mut FilterReader<'_>) -> Vec<DeliveryState> {
    let mut out = Vec::new();
    for code in r.texts("deliveryStates") {
        match DeliveryState::from_code(&code) {
            Some(s) => out.push(s),
            None => {
                r.errors.insert(
                    "filter[deliveryStates]".into(),
                    format!("The value you selected is not a valid choice. Allowed: {}.", DeliveryState::CODES),
                );
            }
        }
    }
    out
}

/// A calendar day (`Y-m-d`, or the day of a `Y-m-d H:i:s`) for a filter on a date column.
fn calendar_date(r: &mut FilterReader<'_>, key: &str) -> Option<String> {
    let text = r.text(key)?;
    let day = text.get(..10).and_then(torg_domain::time::parse_date);
    if day.is_none() || (text.len() > 10 && r.zone.parse_start(&text).is_none()) {
        r.errors.insert(format!("filter[{key}]"), "This value is not a valid date (expected Y-m-d).".into());
        return None;
    }
    day.map(|d| d.to_string())
}

/// A time of day (`H:i` or `H:i:s`), as `HH:MM`.
fn time_of_day(r: &mut FilterReader<'_>, key: &str) -> Option<String> {
    let text = r.text(key)?;
    let t = torg_domain::time::time_of_day(&text);
    if t.is_none() {
        r.errors.insert(format!("filter[{key}]"), "This value is not a valid time (expected H:i:s).".into());
    }
    t
}

/// `POST /api/v5/orders/create`: 201 with the id and the whole order.
pub async fn create(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let doc = crm.json_object("order")?;
    let site = crm.site()?;
    let all = state.store.seeing(&crm.books).create_shown_order(&site, &doc, crm.actor(), &state.config.zone).await?;
    let id = all.orders.first().map_or(0, |o| o.id);
    let shown = Shown::new(all, &crm);
    answer(StatusCode::CREATED, Object::new().with("id", id).with("order", shown.orders(&state.config.zone).pop()))
}

/// The order a path names, by `by` (`externalId` unless `by=id`).
pub(super) fn lookup(crm: &Crm, uid: &str) -> Result<OrderLookup, CrmError> {
    if crm.by_id()? {
        return uid.parse().map(OrderLookup::Id).map_err(|_| CrmError::not_found());
    }
    Ok(OrderLookup::ExternalId { site: crm.site()?, external_id: uid.to_string() })
}

fn lookup_parts(lookup: &OrderLookup) -> (Option<i64>, Option<(String, String)>) {
    match lookup {
        OrderLookup::Id(id) => (Some(*id), None),
        OrderLookup::ExternalId { site, external_id } => (None, Some((site.clone(), external_id.clone()))),
        OrderLookup::Number(_) => (None, None),
    }
}

/// `GET /api/v5/orders/{externalId}`.
pub async fn get(State(state): State<AppState>, Path(uid): Path<String>, crm: Crm) -> CrmResult {
    let lookup = lookup(&crm, &uid)?;
    let through = Through::new(&state, &crm);
    let held = |id| through.held(id);
    let shown = match state.store.as_of(crm.shown).show_stamped_order(&lookup, &held).await? {
        Some(stamped) => through.shown(stamped, &state.config.zone)?,
        None => Vec::new(),
    };
    match shown.first() {
        Some(order) if crm.sites.iter().any(|s| s == order.site()) => {
            answer(StatusCode::OK, Object::new().with("order", order.json()))
        }
        _ => Err(super::not_found_or_combined(&state, "order", &lookup_parts(&lookup)).await),
    }
}

/// `POST /api/v5/orders/{externalId}/edit`: 200 with the id and the whole order.
pub async fn edit(State(state): State<AppState>, Path(uid): Path<String>, crm: Crm) -> CrmResult {
    let doc = crm.json_object("order")?;
    let lookup = lookup(&crm, &uid)?;
    let order =
        state.store.seeing(&crm.books).edit_order(&lookup, &doc, crm.actor(), &crm.sites, &state.config.zone).await?;
    let (id, shown) = (order.id, Shown::of(&state, &crm, vec![order]).await?);
    answer(StatusCode::OK, Object::new().with("id", id).with("order", shown.orders(&state.config.zone).pop()))
}

/// `POST /api/v5/orders/upload`: 200, or 460 with both lists when some orders did not go in.
pub async fn upload(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let docs = crm.json_list("orders", UPLOAD_CAP)?;
    let site = crm.site()?;
    let out = state.store.seeing(&crm.books).upload_orders(&site, &docs, crm.actor(), &state.config.zone).await?;
    let mut created = Vec::with_capacity(out.uploaded.len());
    for (id, _) in &out.uploaded {
        if let Some(o) = state.store.get_order(&OrderLookup::Id(*id)).await? {
            created.push(o);
        }
    }
    let shown = Shown::of(&state, &crm, created).await?;
    let rendered = serde_json::to_value(shown.orders(&state.config.zone)).map_err(CrmError::internal)?;
    upload_answer(&out, "Orders", Some(("orders", rendered)))
}

/// `POST /api/v5/orders/fix-external-ids`.
pub async fn fix_external_ids(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let pairs = id_pairs(&crm, "orders")?;
    state.store.fix_order_external_ids(&pairs, &crm.sites, crm.actor()).await?;
    ok(StatusCode::OK, json!({}))
}

/// `GET /api/v5/orders/statuses?ids[]=…&externalIds[]=…`.
pub async fn statuses(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let r = FilterReader::new(&crm.input.query, &state.config.zone).noting_plain(&crm.input);
    let mut reader = r;
    let ids = reader.ints("ids");
    let external_ids = reader.texts("externalIds");
    reader.finish()?;
    if ids.len() + external_ids.len() > 500 {
        return Err(CrmError::parameter("ids", "At most 500 ids and externalIds together."));
    }
    let rows = state.store.order_statuses(&ids, &external_ids, &crm.sites).await?;
    let orders: Vec<Value> = rows
        .iter()
        .map(|r| json!({ "id": r.id, "externalId": r.external_id, "status": r.status, "group": r.group }))
        .collect();
    ok(StatusCode::OK, json!({ "orders": orders }))
}

/// `GET /api/v5/orders/history`.
pub async fn history(State(state): State<AppState>, crm: Crm) -> CrmResult {
    let (f, page) = history_filter(&crm, &state, "orderId", "orderExternalId")?;
    let (records, total) = state.store.order_history(&f, page).await?;
    let zone = &state.config.zone;
    // A created record shows its order whole, its customer included (as the customer is now).
    let customer_ids: Vec<i64> = records
        .iter()
        .filter(|h| h.created)
        .flat_map(|h| ["customerId", "contactId"].map(|k| h.entity.get(k).and_then(Value::as_i64)))
        .flatten()
        .collect();
    let customers = state.store.order_customers(&customer_ids).await?;
    let created: Vec<Order> =
        records.iter().filter(|h| h.created).filter_map(|h| Order::from_snapshot(&h.entity)).collect();
    let parties = state.store.order_parties(&created).await?;
    let shown = Shown::new(ShownOrders { orders: Vec::new(), customers, parties }, &crm);
    let history: Vec<Value> = records
        .iter()
        .filter(|h| h.entity.get("site").and_then(Value::as_str).is_none_or(|s| crm.sites.iter().any(|x| x == s)))
        .map(|h| {
            render::history(h, crm.key.id, "order", zone, |snap| match Order::from_snapshot(snap) {
                Some(o) => serde_json::to_value(shown.order(&o, zone)).unwrap_or_default(),
                None => snap.clone(),
            })
        })
        .collect();
    ok(
        StatusCode::OK,
        json!({ "generatedAt": zone.datetime(torg_domain::time::now()), "history": history, "pagination": pagination(page.meta(total)) }),
    )
}
