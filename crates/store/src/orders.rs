//! Orders: creation (customer attached or created, offers resolved, references checked), partial edits
//! with history, lookups and the filtered list. The narrower ways into orders — a distributor's, the
//! public status, one stocked position — are the submodules, each on top of these.

use crate::counts::Counted;
use crate::customers::{CustomerLookup, UploadOutcome, write_custom_fields};
use crate::history::{Entity, HistoryFilter, NewRecord};
use crate::sql::{Arg, Sql, contains_pattern};
use crate::{Store, StoreError, StoreResult, Tx, flag};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::LazyLock;
use torg_domain::customer::{Customer, Phone};
use torg_domain::history::{Actor, Change, HistoryRecord, diff_orders};
use torg_domain::money::{from_units, to_units};
use torg_domain::order::{
    CustomerRef, DEFAULT_NUMBER_SUFFIX, ItemInput, OfferRef, OfferSnapshot, Order, OrderInput, OrderItem,
    default_number, item_from_doc,
};
use torg_domain::page::PageRequest;
use torg_domain::patch::phone_digits;
use torg_domain::time::Zone;
use torg_domain::{DomainError, FieldErrors};

mod distributor;
mod first_read;
mod kept_pages;
mod list_filters;
mod position;
mod stamps;
mod track;

use crate::facets::CUSTOMERS_BY_PHONE;
pub use distributor::OfficeOrderFilter;
use first_read::{BuyerByContact, FirstRead};
pub use kept_pages::KeptPageStats;
pub(crate) use kept_pages::{KeptPages, shown_generation_sql};
pub use position::PartsOrder;
pub use stamps::{Held, OrderStamp, StampedOrders};
pub use track::TrackView;

/// How a request names an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderLookup {
    /// Internal id.
    Id(i64),
    /// External id within a site.
    ExternalId {
        /// Site code.
        site: String,
        /// External id.
        external_id: String,
    },
    /// Order number.
    Number(String),
}

/// A condition on a custom field.
#[derive(Debug, Clone, PartialEq)]
pub enum CustomFieldCondition {
    /// The value is one of these.
    OneOf(String, Vec<String>),
    /// The numeric value is at least this.
    Min(String, Decimal),
    /// The numeric value is at most this.
    Max(String, Decimal),
}

/// A numeric range on one of the order sums.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct NumberRange {
    /// Lower bound, inclusive.
    pub min: Option<Decimal>,
    /// Upper bound, inclusive.
    pub max: Option<Decimal>,
}

/// Filters of the order list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderFilter {
    /// Only these sites (always set: the sites the caller may see).
    pub sites: Vec<String>,
    /// Internal ids.
    pub ids: Vec<i64>,
    /// External ids.
    pub external_ids: Vec<String>,
    /// Order numbers.
    pub numbers: Vec<String>,
    /// Substring of the buyer's name, e-mail or phone.
    pub customer: Option<String>,
    /// Owning customer's internal id.
    pub customer_id: Option<i64>,
    /// Owning customer's external id.
    pub customer_external_id: Option<String>,
    /// E-mail, exact.
    pub email: Option<String>,
    /// Created at or after.
    pub created_from: Option<i64>,
    /// Created at or before.
    pub created_to: Option<i64>,
    /// Status changed at or after.
    pub status_updated_from: Option<i64>,
    /// Status changed at or before.
    pub status_updated_to: Option<i64>,
    /// Status codes or status-group codes.
    pub extended_status: Vec<String>,
    /// Order types.
    pub order_types: Vec<String>,
    /// Order methods.
    pub order_methods: Vec<String>,
    /// Delivery types.
    pub delivery_types: Vec<String>,
    /// Shipping warehouses.
    pub shipment_stores: Vec<String>,
    /// Orders with a payment of one of these statuses.
    pub payment_statuses: Vec<String>,
    /// Orders with a payment of one of these types.
    pub payment_types: Vec<String>,
    /// Responsible managers.
    pub managers: Vec<i64>,
    /// Total (what the buyer pays).
    pub price: NumberRange,
    /// Paid so far.
    pub prepay: NumberRange,
    /// Delivery cost.
    pub delivery_cost: NumberRange,
    /// Purchase cost.
    pub purchase: NumberRange,
    /// Substring of a line's name or article.
    pub product: Option<String>,
    /// Substring of the manager comment.
    pub manager_comment: Option<String>,
    /// Substring of the buyer's comment.
    pub customer_comment: Option<String>,
    /// A tracking number.
    pub track_number: Option<String>,
    /// City substring.
    pub city: Option<String>,
    /// Shipped flag.
    pub shipped: Option<bool>,
    /// With files attached (true) or without (false).
    pub attachments: Option<bool>,
    /// Custom field conditions.
    pub custom_fields: Vec<CustomFieldCondition>,
    /// Country ISO codes: the order's `countryIso`, else its delivery address's.
    pub countries: Vec<String>,
    /// Region substring of the delivery address.
    pub region: Option<String>,
    /// Postcode of the delivery address, exact.
    pub index: Option<String>,
    /// Metro station substring of the delivery address.
    pub metro: Option<String>,
    /// Delivery time window opening at or after this (`HH:MM`).
    pub delivery_time_from: Option<String>,
    /// Delivery time window closing at or before this (`HH:MM`).
    pub delivery_time_to: Option<String>,
    /// The customer's VIP flag.
    pub vip: Option<bool>,
    /// The customer's "bad" flag.
    pub bad: Option<bool>,
    /// `call` flag ("call the buyer").
    pub call: Option<bool>,
    /// `expired` flag.
    pub expired: Option<bool>,
    /// `uploadedToExternalStoreSystem` flag.
    pub uploaded_to_ext_store: Option<bool>,
    /// What delivery costs the seller (none counts as 0).
    pub delivery_net_cost: NumberRange,
    /// Total less purchase cost.
    pub margin: NumberRange,
    /// Delivery-service's id of the shipment (`delivery.data.externalId`), exact.
    pub delivery_external_id: Option<String>,
    /// Buyer's legal details.
    pub contragent: crate::facets::ContragentFilter,
    /// Delivery services (`delivery.service.code`).
    pub delivery_services: Vec<String>,
    /// Couriers (`delivery.data.courierId`).
    pub couriers: Vec<i64>,
    /// Managers in these user groups.
    pub manager_groups: Vec<String>,
    /// With a payment paid at or after.
    pub paid_from: Option<i64>,
    /// With a payment paid at or before (the same payment as `paid_from`).
    pub paid_to: Option<i64>,
    /// Fully paid (paid sum reaching the total) at or after: the moment of its last paid payment.
    pub full_paid_from: Option<i64>,
    /// Fully paid at or before.
    pub full_paid_to: Option<i64>,
    /// Delivery date (`Y-m-d`) from.
    pub delivery_date_from: Option<String>,
    /// Delivery date (`Y-m-d`) to.
    pub delivery_date_to: Option<String>,
    /// Shipment date (`Y-m-d`) from.
    pub shipment_date_from: Option<String>,
    /// Shipment date (`Y-m-d`) to.
    pub shipment_date_to: Option<String>,
    /// The customer's first order created at or after.
    pub first_order_from: Option<i64>,
    /// The customer's first order created at or before.
    pub first_order_to: Option<i64>,
    /// The customer's last order created at or after.
    pub last_order_from: Option<i64>,
    /// The customer's last order created at or before.
    pub last_order_to: Option<i64>,
    /// Where the order came from.
    pub source: crate::facets::SourceFilter,
    /// Orders of this corporate customer.
    pub corporate_id: Option<i64>,
    /// Orders for corporate customers only (true) or for individual ones only (false).
    pub corporate: Option<bool>,
    /// Substring of the name of the order's corporate customer or of one of its companies, any case.
    pub company_name: Option<String>,
    /// What tasks the order has (`tasksCounts`).
    pub tasks: Option<crate::tasks::TaskCondition>,
    /// The sum of the order's costs (`costs` naming it; none is 0).
    pub cost: NumberRange,
    /// Delivery integration states, any of them (`deliveryStates`).
    pub delivery_states: Vec<torg_domain::delivery::DeliveryState>,
    /// Set when a condition asks for what torg never records (web visits, receipts, …): nothing matches.
    pub nothing: bool,
}

/// Status of an order, as the statuses method reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderStatusRow {
    /// Internal id.
    pub id: i64,
    /// External id.
    pub external_id: Option<String>,
    /// Status code.
    pub status: String,
    /// Status-group code.
    pub group: Option<String>,
}

const ORDER_COLUMNS: &str = "o.id, o.number, o.site, o.customer_id, o.contact_id, o.created_at, o.status_updated_at, \
     o.is_test, o.from_api, o.doc";

/// The columns of orders read to be shown: [`ORDER_COLUMNS`], the hints for their loyalty credits,
/// and their customers (joined as `c`, see [`SHOWN_FROM`]), so that showing an order takes no
/// statements of its own for either.
static SHOWN_COLUMNS: LazyLock<String> = LazyLock::new(|| {
    format!("{ORDER_COLUMNS}, {}, {SHOWN_CUSTOMER}, {}", *crate::loyalty::CREDIT_HINT_COLUMNS, stamps::STAMP_ONLY)
});
/// The joined customer's columns of [`SHOWN_COLUMNS`] and [`SHOWN_EXTRAS`].
const SHOWN_CUSTOMER: &str = "c.site AS customer_site, c.created_at AS customer_created_at, c.doc AS customer_doc";
/// The tables [`SHOWN_COLUMNS`] reads.
const SHOWN_FROM: &str = "orders o LEFT JOIN customers c ON c.id = o.customer_id";

/// What a read of orders to be shown brought besides the orders.
#[derive(Debug, Default)]
struct Prefetched {
    credits: crate::loyalty::CreditHints,
    customers: HashMap<i64, Customer>,
    /// The orders' stamps (none: not to be kept).
    stamps: HashMap<i64, Option<OrderStamp>>,
}

impl Prefetched {
    /// An order from a row of [`SHOWN_COLUMNS`], keeping what else the row said.
    fn order(&mut self, r: &crate::db::Row) -> StoreResult<Order> {
        let o = order_from_row(r)?;
        self.keep(o.id, &o.site, o.customer_id, r)?;
        let (id, stamp) = stamps::stamp_of(r)?;
        self.stamps.insert(id, stamp);
        Ok(o)
    }

    /// Keeps what a row of [`SHOWN_COLUMNS`] (or of [`SHOWN_EXTRAS`]) says besides the order.
    fn keep(&mut self, order_id: i64, site: &str, customer_id: Option<i64>, r: &crate::db::Row) -> StoreResult<()> {
        self.credits.add(order_id, site, r)?;
        if let Some(id) = customer_id
            && let Some(doc) = r.opt_text("customer_doc")?
        {
            self.customers
                .insert(id, customer_of(id, r.try_get("customer_site")?, r.try_get("customer_created_at")?, doc));
        }
        Ok(())
    }
}

/// A customer as an order shows it: its stored document with the columns kept beside it.
fn customer_of(id: i64, site: String, created_at: i64, doc: &str) -> Customer {
    let mut c: Customer = serde_json::from_str(doc).unwrap_or_default();
    c.id = id;
    c.site = site;
    c.created_at = created_at;
    c
}

/// The start of a statement reading orders (`SELECT … FROM …`, alias `o`): with what showing them
/// takes when they are read for that, and with their lines and payments when `nested`
/// ([`NESTED_LINES`]).
fn order_select(shown: bool, nested: bool) -> String {
    let nested = if nested { NESTED_LINES } else { "" };
    if shown {
        format!("SELECT {}{nested} FROM {SHOWN_FROM}", *SHOWN_COLUMNS)
    } else {
        format!("SELECT {ORDER_COLUMNS}{nested} FROM orders o")
    }
}

/// `select` (`SELECT … FROM …`, orders as `o`) of a page of the orders `wh` finds, newest first. The
/// page's ids are found first (a sort over narrow rows), and its rows read in the same statement.
fn page_of(wh: &Sql, select: &str, page: PageRequest) -> Sql {
    let mut q = wh.with_prefix(&format!("{select} WHERE o.id IN (SELECT o.id FROM orders o"));
    q.push(" ORDER BY o.created_at DESC, o.id DESC");
    crate::sql::page(&mut q, page.limit, page.offset());
    q.push(") ORDER BY o.created_at DESC, o.id DESC");
    q
}

/// PostgreSQL: an order's lines and payments as two JSON arrays in its own row, so orders are read in
/// one round trip, which is most of what a read costs there (and in one state of the database, which
/// two statements outside a transaction would not share). SQLite answers in process: a second
/// statement costs it less than building and parsing the arrays.
const NESTED_LINES: &str =
    ", (SELECT CAST(json_agg(json_build_array(i.id, CAST(i.doc AS json)) ORDER BY i.position, i.id) AS TEXT)
     FROM order_items i WHERE i.order_id = o.id) AS lines_json,
     (SELECT CAST(json_agg(json_build_array(p.id, p.external_id, p.type, p.status, p.amount, p.paid_at, p.comment)
     ORDER BY p.id) AS TEXT) FROM payments p WHERE p.order_id = o.id) AS payments_json";

/// A payment as [`NESTED_LINES`] gives it: id, external id, type, status, amount in kopecks, paid at,
/// comment.
type NestedPayment = (i64, Option<String>, String, String, i64, Option<i64>, Option<String>);

/// An order from a row of [`order_select`], keeping in `pre` what else the row said; with its lines
/// and payments when the row nests them.
fn order_of(pre: &mut Option<&mut Prefetched>, r: &crate::db::Row, nested: bool) -> StoreResult<Order> {
    let mut o = match pre.as_deref_mut() {
        Some(p) => p.order(r)?,
        None => order_from_row(r)?,
    };
    if nested {
        let decode = |column: &str, e: serde_json::Error| crate::db::DbError::decode(column, e.to_string());
        if let Some(text) = r.try_get::<Option<String>, _>("lines_json")? {
            let lines: Vec<(i64, OrderItem)> = serde_json::from_str(&text).map_err(|e| decode("lines_json", e))?;
            o.items = lines.into_iter().map(|(id, item)| OrderItem { id, ..item }).collect();
        }
        if let Some(text) = r.try_get::<Option<String>, _>("payments_json")? {
            let payments: Vec<NestedPayment> = serde_json::from_str(&text).map_err(|e| decode("payments_json", e))?;
            o.payments = payments
                .into_iter()
                .map(|(id, external_id, kind, status, amount, paid_at, comment)| torg_domain::order::Payment {
                    id,
                    external_id,
                    kind,
                    status,
                    amount: from_units(amount),
                    paid_at,
                    comment,
                })
                .collect();
        }
    }
    Ok(o)
}

/// [`SHOWN_COLUMNS`] without the order's own: for orders already in hand.
static SHOWN_EXTRAS: LazyLock<String> =
    LazyLock::new(|| format!("o.id, o.customer_id, {}, {SHOWN_CUSTOMER}", *crate::loyalty::CREDIT_HINT_COLUMNS));

/// What showing orders in hand takes, in one statement, as a read of them to be shown brings it.
fn shown_extras(orders: &[Order]) -> Sql {
    let mut q = Sql::new(&format!("SELECT {} FROM {SHOWN_FROM} WHERE o.id IN ", *SHOWN_EXTRAS));
    q.bind_list(orders.iter().map(|o| Arg::Int(o.id)));
    q
}

/// [`shown_extras`] of orders just written, from the orders in hand rather than their rows: on
/// PostgreSQL the read goes in the statement that writes them, which does not see its own writes.
fn shown_extras_in_hand(orders: &[Order]) -> Sql {
    let mut q = Sql::new(&format!("SELECT {} FROM (VALUES ", *SHOWN_EXTRAS));
    for (i, o) in orders.iter().enumerate() {
        q.push(if i == 0 { "(CAST(" } else { ", (CAST(" }).bind(Arg::Int(o.id)).push(" AS BIGINT), ");
        match o.customer_id {
            Some(c) => q.push("CAST(").bind(Arg::Int(c)).push(" AS BIGINT), "),
            None => q.push("CAST(NULL AS BIGINT), "),
        };
        q.push("CAST(").bind(Arg::Text(o.site.clone())).push(" AS TEXT))");
    }
    q.push(") AS o (id, customer_id, site) LEFT JOIN customers c ON c.id = o.customer_id");
    q
}

/// What the rows of [`shown_extras`] say of `orders`.
fn prefetched(orders: &[Order], rows: &[crate::db::Row]) -> StoreResult<Prefetched> {
    let mut pre = Prefetched::default();
    for r in rows {
        let id: i64 = r.try_get("id")?;
        // The stored customer is the one joined; an order in hand naming another is left to `shown`.
        let Some(o) = orders.iter().find(|o| o.id == id) else { continue };
        let stored: Option<i64> = r.try_get("customer_id")?;
        pre.keep(id, &o.site, stored.filter(|c| Some(*c) == o.customer_id), r)?;
    }
    Ok(pre)
}

/// The INSERT of a new order on `backend`: `$1` is the number or NULL for the default one (the
/// allocated id and the suffix in `$37`), the rest as the UPDATE of [`Store::write_order_row`] binds them.
/// On PostgreSQL it also draws the ids of the order's new lines (`$38` of them) and payments (`$39`)
/// from their sequences, so that those rows can be written with the ones after them in one statement
/// ([`crate::db::Query::execute_later`]) instead of each in a round trip that returns its id. `drawn_before`
/// (PostgreSQL): the order's id was drawn before (`$38`) and nothing is returned, for an INSERT queued
/// with the order's other writes ([`RowWrite::InsertLater`]).
fn insert_order_sql(backend: crate::Backend, drawn_before: bool) -> String {
    let (id, returning) = match (backend, drawn_before) {
        (crate::Backend::Postgres, true) => ("CAST($38 AS BIGINT)".to_owned(), String::new()),
        (crate::Backend::Postgres, false) => (
            crate::sql::next_id(backend, "orders"),
            format!(
                " RETURNING id, {} AS line_ids, {} AS payment_ids",
                draw_ids("order_items", "$38"),
                draw_ids("payments", "$39")
            ),
        ),
        (crate::Backend::Sqlite, _) => (crate::sql::next_id(backend, "orders"), " RETURNING id".to_owned()),
    };
    format!(
        "INSERT INTO orders (id, number, site, external_id, status, customer_id, email, phones, search, order_type,
         order_method, delivery_type, shipment_store, manager_id, payment_status, payment_type, summ, total_summ,
         prepay_sum, purchase_summ, delivery_cost, track_numbers, city, region, manager_comment, customer_comment,
         is_test, from_api, shipment_date, delivery_date, created_at, updated_at, status_updated_at, doc, corporate_id,
         company_id, contact_id)
         SELECT n.id, COALESCE($1, CAST(n.id AS TEXT) || $37), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
         $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36
         FROM (SELECT {id} AS id) n{returning}"
    )
}

/// How [`Store::write_order_row`] writes an order's row. A new row's ids (PostgreSQL) may have been
/// drawn before, by the create's first read (`Store::first_read`); they are used when there is one
/// for each new line and payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RowWrite {
    /// The row exists: an UPDATE.
    Update,
    /// A new row, inserted at once (with the ids drawn before; or its id and its lines' and
    /// payments' ids come back with it).
    Insert(Option<OrderRow>),
    /// A new row whose transaction has sent nothing that began it and will send nothing before its
    /// commit: on PostgreSQL the ids are those drawn before or drawn now by a read, and the INSERT is
    /// queued with the order's other writes, so the whole write is one statement with no `BEGIN` or
    /// `COMMIT` (on SQLite, as `Insert`).
    InsertLater(Option<OrderRow>),
}

/// The refusal a broken constraint of the order's own row reads as: its number or its external id
/// taken by another order.
fn order_row_refusal(e: &crate::db::DbError) -> Option<torg_domain::DomainError> {
    if !e.is_unique_violation() || e.table().is_some_and(|t| t != "orders") {
        return None;
    }
    Some(if e.message().contains("number") {
        torg_domain::order::number_taken()
    } else {
        torg_domain::order::external_id_taken()
    })
}

/// PostgreSQL: `count` (a placeholder's text, e.g. `$38`) new ids of `table`, comma-separated, in the
/// order drawn.
fn draw_ids(table: &str, count: &str) -> String {
    format!(
        "array_to_string(ARRAY(SELECT {} FROM generate_series(CAST(1 AS BIGINT), CAST({count} AS BIGINT)) g ORDER BY g), ',')",
        crate::sql::next_id(crate::Backend::Postgres, table)
    )
}

/// The ids [`insert_order_sql`] drew, as numbers.
fn drawn_ids(row: &crate::db::Row, column: &str) -> StoreResult<Vec<i64>> {
    let text: String = row.try_get(column)?;
    let mut ids = text
        .split(',')
        .filter(|t| !t.is_empty())
        .map(|t| t.parse::<i64>().map_err(|e| crate::db::DbError::decode(column, e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    // Ascending, as when each row's own insert took its id: a later line has the larger id.
    ids.sort_unstable();
    Ok(ids)
}

/// `drawn` when it holds one id for each of `new` new rows (and there are some): the ids to write
/// them with; otherwise `None`, and each row's insert returns its id.
fn drawn_for(drawn: &[i64], new: usize) -> Option<&[i64]> {
    Some(drawn).filter(|d| new > 0 && d.len() == new)
}

/// The ids a statement drew for an order (its own in column `id`, its lines' and payments' in
/// `line_ids` and `payment_ids`).
fn drawn_row(row: &crate::db::Row, id: &str) -> StoreResult<OrderRow> {
    Ok(OrderRow {
        id: row.try_get(id)?,
        line_ids: drawn_ids(row, "line_ids")?,
        payment_ids: drawn_ids(row, "payment_ids")?,
    })
}

/// A count of rows as the statements that draw ids bind it.
fn count_arg(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// PostgreSQL: a `SELECT` of one row drawing an order's id (`id`) and ids for as many new lines
/// (`line_ids`) and payments (`payment_ids`) as the placeholders `lines` and `payments` say.
fn select_order_ids(lines: &str, payments: &str) -> String {
    format!(
        "SELECT {} AS id, {} AS line_ids, {} AS payment_ids",
        crate::sql::next_id(crate::Backend::Postgres, "orders"),
        draw_ids("order_items", lines),
        draw_ids("payments", payments)
    )
}

/// PostgreSQL: an order's id and ids for its `lines` new lines and `payments` new payments, drawn by a
/// plain read.
async fn draw_order_ids(tx: &mut Tx, lines: usize, payments: usize) -> StoreResult<OrderRow> {
    static DRAW: LazyLock<String> = LazyLock::new(|| select_order_ids("$1", "$2"));
    let row = crate::db::query(DRAW.as_str())
        .plain_read()
        .bind(count_arg(lines))
        .bind(count_arg(payments))
        .fetch_one(&mut **tx)
        .await?;
    drawn_row(&row, "id")
}

/// A payment's own values bound in their order: external id, type, status, amount, paid at, comment.
fn payment_values(q: crate::db::Query, p: &torg_domain::order::Payment) -> crate::db::Query {
    q.bind(&p.external_id).bind(&p.kind).bind(&p.status).bind(to_units(p.amount)).bind(p.paid_at).bind(&p.comment)
}

/// What writing an order's row gave: its id and, for a new order on PostgreSQL, the ids drawn for
/// its new lines and payments (empty otherwise: each is then written at once, returning its id).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct OrderRow {
    /// The order's id.
    pub(crate) id: i64,
    /// Ids for the new lines, in their order.
    pub(crate) line_ids: Vec<i64>,
    /// Ids for the new payments, in their order.
    pub(crate) payment_ids: Vec<i64>,
}

/// An order from a row of [`ORDER_COLUMNS`], without its lines and payments.
fn order_from_row(r: &crate::db::Row) -> StoreResult<Order> {
    let mut o: Order = serde_json::from_str(r.text("doc")?).unwrap_or_default();
    o.id = r.try_get("id")?;
    o.number = r.try_get("number")?;
    o.site = r.try_get("site")?;
    o.customer_id = r.try_get("customer_id")?;
    // The column, not the document: combining customers moves a contact person by its column.
    o.contact_id = r.try_get("contact_id")?;
    o.created_at = r.try_get("created_at")?;
    o.status_updated_at = r.try_get("status_updated_at")?;
    o.is_test = flag(r.try_get("is_test")?);
    o.from_api = flag(r.try_get("from_api")?);
    Ok(o)
}

/// Appends custom-field conditions as `EXISTS` sub-queries on a `*_custom_fields` table.
pub(crate) fn push_custom_field_conditions(
    wh: &mut Sql,
    table: &str,
    owner: &str,
    owner_expr: &str,
    conds: &[CustomFieldCondition],
) {
    for c in conds {
        wh.push(&format!(" AND EXISTS (SELECT 1 FROM {table} cf WHERE cf.{owner} = {owner_expr} AND cf.code = "));
        match c {
            CustomFieldCondition::OneOf(code, values) => {
                wh.bind(Arg::Text(code.clone()))
                    .push(" AND cf.value_text IN ")
                    .bind_list(values.iter().cloned().map(Arg::Text));
            }
            CustomFieldCondition::Min(code, v) => {
                wh.bind(Arg::Text(code.clone())).push(" AND cf.value_num >= ").bind(Arg::Int(to_units(*v)));
            }
            CustomFieldCondition::Max(code, v) => {
                wh.bind(Arg::Text(code.clone())).push(" AND cf.value_num <= ").bind(Arg::Int(to_units(*v)));
            }
        }
        wh.push(")");
    }
}

fn push_range(wh: &mut Sql, column: &str, r: NumberRange) {
    if let Some(min) = r.min {
        wh.push(&format!(" AND {column} >= ")).bind(Arg::Int(to_units(min)));
    }
    if let Some(max) = r.max {
        wh.push(&format!(" AND {column} <= ")).bind(Arg::Int(to_units(max)));
    }
}

/// A substring condition on a column that holds lower-cased text: SQLite's `LOWER()` folds only
/// ASCII, so text filters compare with copies lower-cased in Rust when written.
fn like(wh: &mut Sql, column: &str, needle: &str) {
    wh.push(&format!(" AND {column} LIKE "))
        .bind(Arg::Text(contains_pattern(&needle.to_lowercase())))
        .push(" ESCAPE '\\'");
}

/// Orders with what showing them takes: their customers and contact persons (without order
/// statistics), and their corporate customers and companies.
#[derive(Debug, Clone, Default)]
pub struct ShownOrders {
    /// The orders, in the order asked for.
    pub orders: Vec<Order>,
    /// Customers and contact persons of the orders, by id.
    pub customers: HashMap<i64, Customer>,
    /// Corporate customers and companies of the orders.
    pub parties: crate::OrderParties,
}

/// An offer a line names: its snapshot, price and purchase price.
pub(crate) type FoundOffer = (OfferSnapshot, Decimal, Option<Decimal>);

/// What a transaction has already read that creating an order in it would read again.
#[derive(Debug, Default)]
pub(crate) struct Known {
    /// Offers the lines may name.
    pub(crate) offers: Vec<FoundOffer>,
    /// The buyer the order names by id, as `customer_doc_in` reads it: id, site and stored document.
    pub(crate) customer: Option<(i64, String, String)>,
}

/// What a transaction has read already of an order's buyer, so that finding it reads nothing again.
#[derive(Debug, Default, Clone, Copy)]
struct BuyerRead<'a> {
    /// The buyer the order names by id, as `customer_doc_in` reads it: id, site and stored document.
    named: Option<&'a (i64, String, String)>,
    /// The look-up by the order's e-mail or phone.
    by_contact: Option<&'a BuyerByContact>,
}

/// The contacts an order's buyer is looked up by: its e-mail in lower case, and its phone's digits
/// when there are enough of them to name one person (five).
fn contact_keys(o: &Order) -> (Option<String>, Option<String>) {
    let email = o.email.as_deref().filter(|e| !e.is_empty()).map(str::to_lowercase);
    let phone = o.phone.as_deref().map(phone_digits).filter(|d| d.len() >= 5);
    (email, phone)
}

/// Whether `r` names the offer `o`.
fn offer_named(r: &OfferRef, o: &OfferSnapshot) -> bool {
    match r {
        OfferRef::Id(i) => o.id == *i,
        OfferRef::ExternalId(e) => o.external_id.as_ref() == Some(e),
        OfferRef::XmlId(x) => o.xml_id.as_ref() == Some(x),
    }
}

/// The references of `refs` that name none of the offers in `known`.
fn offers_left<'a>(refs: impl Iterator<Item = &'a OfferRef>, known: &[FoundOffer]) -> Vec<&'a OfferRef> {
    refs.filter(|r| !known.iter().any(|(o, _, _)| offer_named(r, o))).collect()
}

/// Appends the condition that an offer (of the table named `alias`, e.g. `f.`, or `""`) is one of
/// those `refs` name (which must not be empty), its values bound.
fn offers_named(q: &mut Sql, alias: &str, refs: &[&OfferRef]) {
    let of_kind = |pick: fn(&OfferRef) -> Option<Arg>| refs.iter().filter_map(|r| pick(r)).collect::<Vec<_>>();
    let by = [
        ("id", of_kind(|r| if let OfferRef::Id(i) = r { Some(Arg::Int(*i)) } else { None })),
        ("external_id", of_kind(|r| if let OfferRef::ExternalId(e) = r { Some(Arg::Text(e.clone())) } else { None })),
        ("xml_id", of_kind(|r| if let OfferRef::XmlId(x) = r { Some(Arg::Text(x.clone())) } else { None })),
    ];
    for (n, (column, args)) in by.into_iter().filter(|(_, args)| !args.is_empty()).enumerate() {
        q.push(if n == 0 { "" } else { " OR " }).push(alias).push(column).push(" IN ").bind_list(args);
    }
}

/// The columns an offer is read from, as [`Store::find_offers`] names them.
const OFFER_COLUMNS: [&str; 7] = ["id", "external_id", "xml_id", "name", "article", "price", "purchase_price"];

/// An offer read from the columns named by `cols` (id, external id, XML id, name, article, price and
/// purchase price, in this order: [`OFFER_COLUMNS`] or another statement's names for them).
pub(crate) fn found_offer(r: &crate::db::Row, cols: &[&str; 7]) -> StoreResult<FoundOffer> {
    let [id, external_id, xml_id, name, article, price, purchase_price] = *cols;
    Ok((
        OfferSnapshot {
            id: r.try_get(id)?,
            external_id: r.try_get(external_id)?,
            xml_id: r.try_get(xml_id)?,
            name: r.try_get(name)?,
            article: r.try_get(article)?,
        },
        from_units(r.try_get(price)?),
        r.try_get::<Option<i64>, _>(purchase_price)?.map(from_units),
    ))
}

impl Store {
    /// The offers `refs` name, in their order (`None` for one not found); those in `known` (read
    /// earlier in the same transaction) are not read again.
    async fn find_offers(
        &self,
        tx: &mut Tx,
        refs: &[&OfferRef],
        known: &[FoundOffer],
    ) -> StoreResult<Vec<Option<FoundOffer>>> {
        let refs_left = offers_left(refs.iter().copied(), known);
        let mut found = known.to_vec();
        found.extend(self.read_offers(tx, &refs_left).await?);
        Ok(refs.iter().map(|r| found.iter().find(|(o, _, _)| offer_named(r, o)).cloned()).collect())
    }

    /// The offers `refs` name, found in one statement (a create's lines are one round trip, however
    /// many), in no particular order.
    async fn read_offers(&self, tx: &mut Tx, refs: &[&OfferRef]) -> StoreResult<Vec<FoundOffer>> {
        if refs.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Sql::new("SELECT id, external_id, xml_id, name, article, price, purchase_price FROM offers WHERE ");
        offers_named(&mut q, "", refs);
        q.query().plain_read().fetch_all(&mut **tx).await?.iter().map(|r| found_offer(r, &OFFER_COLUMNS)).collect()
    }

    /// Builds the new line list from the client's: existing lines by id are updated, offers resolved.
    async fn build_items(
        &self,
        tx: &mut Tx,
        old: &[OrderItem],
        inputs: &[ItemInput],
        known: &[FoundOffer],
    ) -> StoreResult<Vec<OrderItem>> {
        let mut errors = FieldErrors::new();
        let mut items = Vec::with_capacity(inputs.len());
        let wanted: Vec<&OfferRef> =
            inputs.iter().filter(|i| i.id.is_none()).filter_map(|i| i.offer.as_ref()).collect();
        let mut found = self.find_offers(tx, &wanted, known).await?.into_iter();
        for input in inputs {
            let i = input.index;
            let base = match input.id {
                Some(id) => match old.iter().find(|o| o.id == id) {
                    Some(existing) => existing.clone(),
                    None => {
                        errors.extend([torg_domain::order::unknown_item(i, id)]);
                        continue;
                    }
                },
                None => {
                    let mut base = OrderItem::default();
                    if let Some(r) = &input.offer {
                        match found.next().flatten() {
                            Some((snapshot, price, purchase)) => {
                                base.product_name = snapshot.name.clone();
                                base.initial_price = price;
                                base.purchase_price = purchase;
                                base.offer = Some(snapshot);
                            }
                            None => {
                                errors.extend([torg_domain::order::unknown_offer(i, r)]);
                                continue;
                            }
                        }
                    }
                    base
                }
            };
            match item_from_doc(&base, &input.doc, i) {
                Ok(item) => items.push(item),
                Err(DomainError::Invalid(f)) => errors.extend(f),
                Err(other) => return Err(other.into()),
            }
        }
        if errors.is_empty() { Ok(items) } else { Err(DomainError::Invalid(errors).into()) }
    }

    /// Finds the order's customer, or attaches one by e-mail or phone, or creates one from the contact
    /// fields; fills the order's contact fields from the customer where they are empty.
    /// `read` is what `tx` has read of the buyer already, used where finding the buyer would read it.
    async fn resolve_customer(
        &self,
        tx: &mut Tx,
        o: &mut Order,
        given: Option<&CustomerRef>,
        read: BuyerRead<'_>,
        actor: Actor,
        now: i64,
    ) -> StoreResult<()> {
        let mut known: Option<Customer> = None;
        // The site and stored document of a buyer the order names, read with its id.
        let mut named: Option<(String, String)> = None;
        if let Some(r) = given {
            let lookup = match r {
                CustomerRef::Id(id) => CustomerLookup::Id(*id),
                CustomerRef::ExternalId(e) => {
                    CustomerLookup::ExternalId { site: o.site.clone(), external_id: e.clone() }
                }
            };
            // The buyer's site and document come with its id: one round trip for finding and reading it
            // (none when the transaction read it already).
            let found = match (r, read.named) {
                (CustomerRef::Id(id), Some(row)) if row.0 == *id => Some(row.clone()),
                _ => self.customer_doc_in(tx, &lookup).await?,
            };
            let Some((id, site, doc)) = found else {
                return Err(torg_domain::order::unknown_customer(r).into());
            };
            named = Some((site, doc));
            o.customer_id = Some(id);
        } else if o.customer_id.is_none() {
            let mut found = self.customer_by_contact(tx, o, read.by_contact).await?;
            if found.is_none() && self.backend() == crate::Backend::Postgres {
                // Concurrent orders by one new buyer would each find no customer and each create one:
                // transactions that are about to create a buyer with the same e-mail (or phone) on a
                // site take turns, and each looks again once it holds the lock (a new statement sees
                // what the one before it committed). A returning buyer is found without the lock: one
                // round trip less for most orders.
                let (email, phone) = contact_keys(o);
                if let Some(contact) = email.or(phone) {
                    crate::db::query("SELECT pg_advisory_xact_lock(7426004, hashtext($1))")
                        .bind(format!("{}\n{contact}", o.site))
                        .execute(&mut **tx)
                        .await?;
                    found = self.customer_by_contact(tx, o, None).await?;
                }
            }
            o.customer_id = match found {
                Some((id, doc)) => {
                    known = Some(serde_json::from_str(&doc).unwrap_or_default());
                    Some(id)
                }
                None => {
                    let c = Customer {
                        site: o.site.clone(),
                        first_name: o.first_name.clone(),
                        last_name: o.last_name.clone(),
                        patronymic: o.patronymic.clone(),
                        email: o.email.clone(),
                        phones: o.phone.iter().map(|p| Phone { number: p.clone() }).collect(),
                        manager_id: o.manager_id,
                        ..Customer::default()
                    };
                    let created = self.create_customer_in(tx, c, actor, now).await?;
                    let id = created.id;
                    known = Some(created);
                    Some(id)
                }
            };
        }
        if let Some(id) = o.customer_id {
            let c = match known {
                // Found on the order's site, or made there just now.
                Some(c) => c,
                None => {
                    let (site, doc) = match named {
                        Some(row) => row,
                        None => {
                            crate::db::query_as("SELECT site, doc FROM customers WHERE id = $1")
                                .plain_read()
                                .bind(id)
                                .fetch_one(&mut **tx)
                                .await?
                        }
                    };
                    torg_domain::order::check_customer_site(id, &site, &o.site)?;
                    serde_json::from_str(&doc).unwrap_or_default()
                }
            };
            fill(&mut o.first_name, &c.first_name);
            fill(&mut o.last_name, &c.last_name);
            fill(&mut o.patronymic, &c.patronymic);
            fill(&mut o.email, &c.email);
            fill(&mut o.phone, &c.phones.first().map(|p| p.number.clone()));
        }
        Ok(())
    }

    /// The buyer an order's e-mail (or else phone) names on its site, with its stored document.
    /// `made`: the look-up as made already in `tx` (used when it is this one).
    async fn customer_by_contact(
        &self,
        tx: &mut Tx,
        o: &Order,
        made: Option<&BuyerByContact>,
    ) -> StoreResult<Option<(i64, String)>> {
        let (email, phone) = contact_keys(o);
        if let Some(found) = made.and_then(|b| b.answer(&o.site, email.as_deref(), phone.as_deref())) {
            return Ok(found);
        }
        // The buyer's document comes with its id: one round trip for finding and reading it.
        let mut found: Option<(i64, String)> = None;
        if let Some(email) = email {
            found =
                crate::db::query_as("SELECT id, doc FROM customers WHERE site = $1 AND email = $2 ORDER BY id LIMIT 1")
                    .plain_read()
                    .bind(&o.site)
                    .bind(email)
                    .fetch_optional(&mut **tx)
                    .await?;
        }
        if found.is_none()
            && let Some(digits) = phone
        {
            found = crate::db::query_as(format!(
                "SELECT c.id, c.doc FROM {CUSTOMERS_BY_PHONE} AND f.value = $2 AND c.site = $1 ORDER BY c.id LIMIT 1"
            ))
            .plain_read()
            .bind(&o.site)
            .bind(digits)
            .fetch_optional(&mut **tx)
            .await?;
        }
        Ok(found)
    }

    pub(crate) async fn write_order_row(
        &self,
        tx: &mut Tx,
        o: &Order,
        paid: &[String],
        now: i64,
        how: RowWrite,
    ) -> StoreResult<OrderRow> {
        let insert = how != RowWrite::Update;
        // A cancelled order spends no bonuses: what it spent is given back below, so its sum is whole again.
        let cleared;
        let o = match self.cleared_of_bonuses(tx, o).await? {
            Some(c) => {
                cleared = c;
                &cleared
            }
            None => o,
        };
        // A new order's id is allocated in its INSERT (or drawn before it), so a number the client did
        // not give (made of the id) is written with the row rather than by an UPDATE after it.
        static INSERT: [LazyLock<String>; 3] = [
            LazyLock::new(|| insert_order_sql(crate::Backend::Sqlite, false)),
            LazyLock::new(|| insert_order_sql(crate::Backend::Postgres, false)),
            LazyLock::new(|| insert_order_sql(crate::Backend::Postgres, true)),
        ];
        let pg = self.backend() == crate::Backend::Postgres;
        let new_lines = o.items.iter().filter(|i| i.id == 0).count();
        let new_payments = o.payments.iter().filter(|p| p.id == 0).count();
        let (before, later) = match how {
            RowWrite::Update => (None, false),
            RowWrite::Insert(d) => (d, false),
            RowWrite::InsertLater(d) => (d, true),
        };
        // PostgreSQL: ids drawn before (by the create's first read; or now, for a row queued: a read
        // outside the transaction, as sequences are not transactional anyway) go into the INSERT;
        // otherwise the INSERT draws them and returns them.
        let drawn = match before.filter(|d| pg && d.line_ids.len() == new_lines && d.payment_ids.len() == new_payments)
        {
            Some(d) => Some(d),
            None if pg && later => Some(draw_order_ids(tx, new_lines, new_payments).await?),
            None => None,
        };
        let sql: &str = if insert {
            match (self.backend(), &drawn) {
                (crate::Backend::Sqlite, _) => &INSERT[0],
                (crate::Backend::Postgres, Some(_)) => &INSERT[2],
                (crate::Backend::Postgres, None) => &INSERT[1],
            }
        } else {
            "UPDATE orders SET number = $1, site = $2, external_id = $3, status = $4, customer_id = $5, email = $6, phones = $7,
             search = $8, order_type = $9, order_method = $10, delivery_type = $11, shipment_store = $12, manager_id = $13,
             payment_status = $14, payment_type = $15, summ = $16, total_summ = $17, prepay_sum = $18, purchase_summ = $19,
             delivery_cost = $20, track_numbers = $21, city = $22, region = $23, manager_comment = $24, customer_comment = $25,
             is_test = $26, from_api = $27, shipment_date = $28, delivery_date = $29, created_at = $30, updated_at = $31,
             status_updated_at = $32, doc = $33, corporate_id = $35, company_id = $36, contact_id = $37 WHERE id = $34
             RETURNING id"
        };
        let name = [&o.last_name, &o.first_name, &o.patronymic]
            .iter()
            .filter_map(|p| p.as_deref())
            .collect::<Vec<_>>()
            .join(" ");
        let phones = [&o.phone, &o.additional_phone]
            .iter()
            .filter_map(|p| p.as_deref())
            .map(phone_digits)
            .collect::<Vec<_>>()
            .join(" ");
        let search = format!("{name} {} {phones}", o.email.as_deref().unwrap_or("")).to_lowercase();
        let last_payment = o.payments.last();
        let address = |k: &str| o.delivery.address.get(k).and_then(Value::as_str).map(str::to_owned);
        let track = o.track_numbers();
        // Empty on an insert: the statement makes the default number of the id it allocates.
        let number = Some(o.number.clone()).filter(|n| !n.is_empty());
        let mut q = crate::db::query(sql)
            .bind(number)
            .bind(&o.site)
            .bind(&o.external_id)
            .bind(&o.status)
            .bind(o.customer_id)
            .bind(o.email.as_deref().map(str::to_lowercase))
            .bind(phones)
            .bind(search)
            .bind(&o.order_type)
            .bind(&o.order_method)
            .bind(&o.delivery.code)
            .bind(&o.shipment_store)
            .bind(o.manager_id)
            .bind(last_payment.map(|p| p.status.clone()))
            .bind(last_payment.map(|p| p.kind.clone()))
            .bind(to_units(o.summ()))
            .bind(to_units(o.total_summ()))
            .bind(to_units(o.prepay_sum(paid)))
            .bind(to_units(o.purchase_summ()))
            .bind(to_units(o.delivery.cost.unwrap_or_default()))
            .bind(if track.is_empty() { String::new() } else { format!(",{},", track.join(",")) })
            .bind(address("city").map(|t| t.to_lowercase()))
            .bind(address("region").map(|t| t.to_lowercase()))
            .bind(o.manager_comment.as_deref().map(str::to_lowercase))
            .bind(o.customer_comment.as_deref().map(str::to_lowercase))
            .bind(i64::from(o.is_test))
            .bind(i64::from(o.from_api))
            .bind(&o.shipment_date)
            .bind(&o.delivery.date)
            .bind(o.created_at)
            .bind(now)
            .bind(o.status_updated_at)
            .bind(o.document());
        if !insert {
            q = q.bind(o.id);
        }
        q = q.bind(o.corporate_id).bind(o.company_id).bind(o.contact_id);
        if insert {
            q = q.bind(DEFAULT_NUMBER_SUFFIX);
        }
        let refused =
            |e: crate::db::DbError| order_row_refusal(&e).map_or_else(|| StoreError::from(e), StoreError::Domain);
        let (id, line_ids, payment_ids) = match drawn {
            Some(ids) => {
                let q = q.bind(ids.id);
                if later {
                    q.refused_as(order_row_refusal).execute_later(tx).await?;
                } else {
                    q.execute(&mut **tx).await.map_err(refused)?;
                }
                (ids.id, ids.line_ids, ids.payment_ids)
            }
            None => {
                let returns_ids = insert && pg;
                if returns_ids {
                    q = q.bind(count_arg(new_lines)).bind(count_arg(new_payments));
                }
                let row = q.fetch_one(&mut **tx).await.map_err(refused)?;
                if returns_ids {
                    let r = drawn_row(&row, "id")?;
                    (r.id, r.line_ids, r.payment_ids)
                } else {
                    (row.try_get("id")?, Vec::new(), Vec::new())
                }
            }
        };
        self.write_facets(tx, crate::facets::Owner::Order, id, &crate::facets::facets_of_order(o), insert).await?;
        // Every write of an order passes here, so bonuses follow payment and cancellation whichever face
        // made the change.
        self.settle_order_loyalty(tx, o, id, paid, now).await?;
        Ok(OrderRow { id, line_ids, payment_ids })
    }

    /// Writes the line list: updates kept lines, deletes dropped ones, inserts new ones (assigning ids:
    /// `drawn` when it has one for each new line, written later in the transaction; otherwise each
    /// returned by the insert).
    pub(crate) async fn write_items(
        &self,
        tx: &mut Tx,
        order_id: i64,
        old: &[OrderItem],
        items: &mut [OrderItem],
        now: i64,
        drawn: &[i64],
    ) -> StoreResult<()> {
        let drawn = drawn_for(drawn, items.iter().filter(|i| i.id == 0).count());
        for gone in old.iter().filter(|o| !items.iter().any(|n| n.id == o.id)) {
            crate::db::query("DELETE FROM order_items WHERE id = $1").bind(gone.id).execute(&mut **tx).await?;
        }
        // New lines go in one statement (a create's three lines are one round trip); each comes back
        // with its position, which is unique within the order, to match it with its id.
        let mut insert: Vec<crate::db::Value> = Vec::new();
        let mut fresh = 0;
        for (pos, item) in items.iter_mut().enumerate() {
            if item.attrs.get("createdAt").is_none() {
                item.attrs.insert("createdAt".into(), json!(now));
            }
            let doc = serde_json::to_string(&*item).unwrap_or_default();
            let position = i64::try_from(pos).unwrap_or(0);
            if item.id == 0 {
                use crate::db::Encode as _;
                if let Some(ids) = drawn {
                    item.id = ids[fresh];
                    insert.push(item.id.encode());
                }
                insert.extend([
                    order_id.encode(),
                    position.encode(),
                    item.offer.as_ref().map(|o| o.id).encode(),
                    item_search(item).encode(),
                    to_units(item.quantity).encode(),
                    to_units(item.initial_price).encode(),
                    item.status.as_str().encode(),
                    item.warehouse.as_deref().encode(),
                    doc.encode(),
                ]);
                fresh += 1;
            } else if old.iter().find(|o| o.id == item.id) != Some(item) {
                crate::db::query(
                    "UPDATE order_items SET position = $1, product_name = $2, quantity = $3, initial_price = $4, status = $5,
                     warehouse = $6, doc = $7 WHERE id = $8",
                )
                .bind(position)
                .bind(item_search(item))
                .bind(to_units(item.quantity))
                .bind(to_units(item.initial_price))
                .bind(&item.status)
                .bind(&item.warehouse)
                .bind(doc)
                .bind(item.id)
                .execute(&mut **tx)
                .await?;
            }
        }
        if fresh == 0 {
            return Ok(());
        }
        // With drawn ids each row starts with its id; without, the statement returns the ids it took.
        let (id_column, columns, returning) =
            if drawn.is_some() { ("id, ", 10, "") } else { ("", 9, " RETURNING id, position") };
        let sql = format!(
            "INSERT INTO order_items ({id_column}order_id, position, offer_id, product_name, quantity, initial_price, \
             status, warehouse, doc) VALUES {}{returning}",
            crate::sql::values_rows(fresh, columns)
        );
        let insert = crate::db::Query::with_args(sql, insert);
        if drawn.is_some() {
            insert.execute_later(tx).await?;
        } else {
            for r in insert.fetch_all(&mut **tx).await? {
                let (id, position): (i64, i64) = (r.try_get("id")?, r.try_get("position")?);
                if let Some(item) = usize::try_from(position).ok().and_then(|p| items.get_mut(p)) {
                    item.id = id;
                }
            }
        }
        Ok(())
    }

    /// Replaces an order's payments with `payments` (new ones have id 0): references checked, rows
    /// inserted, updated or deleted, the order's paid sums refreshed, and history written.
    pub(crate) async fn save_payments_in(
        &self,
        tx: &mut Tx,
        old: &Order,
        payments: Vec<torg_domain::order::Payment>,
        actor: Actor,
        now: i64,
    ) -> StoreResult<Order> {
        let mut new = old.clone();
        new.payments = payments;
        let books = self.books_in(tx).await?;
        let mut errors = FieldErrors::new();
        books.check(&mut new, &mut errors);
        if !errors.is_empty() {
            return Err(DomainError::Invalid(errors).into());
        }
        for gone in old.payments.iter().filter(|p| !new.payments.iter().any(|n| n.id == p.id)) {
            crate::db::query("DELETE FROM payments WHERE id = $1").bind(gone.id).execute(&mut **tx).await?;
        }
        for p in new.payments.iter().filter(|p| p.id != 0) {
            if old.payments.iter().find(|o| o.id == p.id) != Some(p) {
                let q = crate::db::query(
                    "UPDATE payments SET external_id = $1, type = $2, status = $3, amount = $4, paid_at = $5, comment = $6
                     WHERE id = $7",
                );
                payment_values(q, p).bind(p.id).execute(&mut **tx).await?;
            }
        }
        self.insert_payments(tx, old.id, &mut new, now, &[]).await?;
        let changes = diff_orders(old, &new);
        if !changes.is_empty() {
            self.write_order_row(tx, &new, books.paid(), now, RowWrite::Update).await?;
            self.write_order_changes(tx, old.id, &new, &changes, actor, now).await?;
        }
        Ok(new)
    }

    /// Inserts the order's new payments: with the ids in `drawn` when it has one for each, written
    /// later in the transaction; otherwise each returning its id.
    async fn insert_payments(
        &self,
        tx: &mut Tx,
        order_id: i64,
        o: &mut Order,
        now: i64,
        drawn: &[i64],
    ) -> StoreResult<()> {
        let new = o.payments.iter().filter(|p| p.id == 0).count();
        let drawn = drawn_for(drawn, new);
        // With a drawn id the id is the last value; without, the statement returns the one it took.
        let (id_column, id_value, returning) = match drawn {
            Some(_) => ("id, ", "$9, ", ""),
            None => ("", "", " RETURNING id"),
        };
        let sql = format!(
            "INSERT INTO payments ({id_column}order_id, external_id, type, status, amount, paid_at, comment, created_at)
             VALUES ({id_value}$1, $2, $3, $4, $5, $6, $7, $8){returning}"
        );
        for (k, p) in o.payments.iter_mut().filter(|p| p.id == 0).enumerate() {
            let q = payment_values(crate::db::query(sql.clone()).bind(order_id), p).bind(now);
            match drawn {
                Some(ids) => {
                    p.id = ids[k];
                    q.bind(p.id).execute_later(tx).await?;
                }
                None => p.id = q.fetch_one(&mut **tx).await?.try_get(0)?,
            }
        }
        Ok(())
    }

    /// Creates an order inside `tx` from a parsed document; the order's site must be set. What `known`
    /// holds was read earlier in `tx` and is not read again.
    pub(crate) async fn create_order_in(
        &self,
        tx: &mut Tx,
        mut input: OrderInput,
        actor: Actor,
        now: i64,
        known: &Known,
    ) -> StoreResult<Order> {
        let books = self.books_in(tx).await?;
        let FirstRead { offers, buyer, ids } = self.first_read(tx, &input, &known.offers).await?;
        let offers: std::borrow::Cow<[FoundOffer]> =
            if offers.is_empty() { (&known.offers[..]).into() } else { [&known.offers[..], &offers].concat().into() };
        let mut o = input.order;
        o.created_at = input.created_at.unwrap_or(now);
        o.status_updated_at = o.created_at;
        o.from_api = matches!(actor, Actor::Api(_));
        o.payments = std::mem::take(&mut input.payments);
        if let Some(n) = input.number.take() {
            o.number = n;
        }
        o.items = match &input.items {
            Some(list) => self.build_items(tx, &[], list, &offers).await?,
            None => Vec::new(),
        };
        let mut errors = FieldErrors::new();
        books.check(&mut o, &mut errors);
        if !errors.is_empty() {
            return Err(DomainError::Invalid(errors).into());
        }
        if input.corporate.is_some() || input.contact.is_some() || input.company.is_some() {
            self.resolve_order_corporate(tx, &mut o, [&input.corporate, &input.contact, &input.company]).await?;
        } else {
            let read = BuyerRead { named: known.customer.as_ref(), by_contact: buyer.as_ref() };
            self.resolve_customer(tx, &mut o, input.customer.as_ref(), read, actor, now).await?;
        }
        let reservations = books.wanted_reservations(&o);
        // Reserving stock waits for its answers; with none to reserve and nothing sent that began the
        // transaction, the row goes with the order's other writes (PostgreSQL: one statement in all).
        let how =
            if reservations.is_empty() && tx.not_begun() { RowWrite::InsertLater(ids) } else { RowWrite::Insert(ids) };
        let row = self.write_order_row(tx, &o, books.paid(), now, how).await?;
        o.id = row.id;
        if o.number.is_empty() {
            o.number = default_number(o.id);
        }
        // Stock is reserved before the lines are written: its statements wait for their answers,
        // while the lines, the reservations and the rest are sent together (on PostgreSQL) at commit.
        self.sync_reservations(tx, o.id, &reservations, true).await?;
        let mut items = std::mem::take(&mut o.items);
        self.write_items(tx, o.id, &[], &mut items, now, &row.line_ids).await?;
        o.items = items;
        self.insert_payments(tx, o.id, &mut o, now, &row.payment_ids).await?;
        write_custom_fields(tx, ("order_custom_fields", "order_id"), o.id, &o.custom_fields, true).await?;
        let snapshot = o.snapshot();
        self.write_history(
            tx,
            Entity::Order,
            now,
            &[NewRecord { entity_id: o.id, actor, created: true, deleted: false, change: None, entity: &snapshot }],
        )
        .await?;
        Ok(o)
    }

    /// Creates an order on `site` from a client's document.
    pub async fn create_order(
        &self,
        site: &str,
        doc: &Map<String, Value>,
        actor: Actor,
        zone: &Zone,
    ) -> StoreResult<Order> {
        let (tx, order) = self.create_uncommitted(site, doc, actor, zone).await?;
        tx.commit().await?;
        Ok(order)
    }

    /// An order created from a client's document in a transaction left open for the caller to commit.
    async fn create_uncommitted(
        &self,
        site: &str,
        doc: &Map<String, Value>,
        actor: Actor,
        zone: &Zone,
    ) -> StoreResult<(Tx, Order)> {
        let base = Order { site: site.into(), ..Order::default() };
        let input = base.apply(doc, zone)?;
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        let order = self.create_order_in(&mut tx, input, actor, now, &Known::default()).await?;
        Ok((tx, order))
    }

    /// Creates many orders, each in its own transaction.
    pub async fn upload_orders(
        &self,
        site: &str,
        docs: &[Map<String, Value>],
        actor: Actor,
        zone: &Zone,
    ) -> StoreResult<UploadOutcome> {
        let mut out = UploadOutcome::default();
        for doc in docs {
            out.record(doc, self.create_order(site, doc, actor, zone).await.map(|o| (o.id, o.external_id)))?;
        }
        Ok(out)
    }

    pub(crate) async fn order_id_in(&self, tx: &mut Tx, lookup: &OrderLookup) -> StoreResult<Option<i64>> {
        self.order_id(tx, lookup, true).await
    }

    /// The id of the order a lookup names; an id is looked up only when `check_id` (loading an
    /// unknown id finds nothing anyway, so reads skip the statement).
    async fn order_id(
        &self,
        conn: &mut crate::db::Conn,
        lookup: &OrderLookup,
        check_id: bool,
    ) -> StoreResult<Option<i64>> {
        let row: Option<(i64,)> = match lookup {
            OrderLookup::Id(id) if !check_id => Some((*id,)),
            OrderLookup::Id(id) => {
                crate::db::query_as("SELECT id FROM orders WHERE id = $1").bind(*id).fetch_optional(conn).await?
            }
            OrderLookup::ExternalId { site, external_id } => {
                crate::db::query_as("SELECT id FROM orders WHERE site = $1 AND external_id = $2")
                    .bind(site)
                    .bind(external_id)
                    .fetch_optional(conn)
                    .await?
            }
            OrderLookup::Number(n) => {
                crate::db::query_as("SELECT id FROM orders WHERE number = $1").bind(n).fetch_optional(conn).await?
            }
        };
        Ok(row.map(|r| r.0))
    }

    /// Applies a partial update. `allowed_sites` limits which orders the caller may touch.
    pub async fn edit_order(
        &self,
        lookup: &OrderLookup,
        doc: &Map<String, Value>,
        actor: Actor,
        allowed_sites: &[String],
        zone: &Zone,
    ) -> StoreResult<Order> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        let new = self.edit_order_in(&mut tx, lookup, doc, actor, allowed_sites, zone, now).await?;
        tx.commit().await?;
        Ok(new)
    }

    /// [`Store::edit_order`] inside the caller's transaction, so other writes can commit with it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn edit_order_in(
        &self,
        tx: &mut Tx,
        lookup: &OrderLookup,
        doc: &Map<String, Value>,
        actor: Actor,
        allowed_sites: &[String],
        zone: &Zone,
        now: i64,
    ) -> StoreResult<Order> {
        let id = self.order_id_in(tx, lookup).await?.ok_or_else(|| DomainError::NotFound("order".into()))?;
        let old = self.load_orders(tx, &[id]).await?.pop().ok_or_else(|| DomainError::NotFound("order".into()))?;
        if !allowed_sites.contains(&old.site) {
            return Err(DomainError::NotFound("order".into()).into());
        }
        let mut input = old.apply(doc, zone)?;
        let mut new = input.order.clone();
        if let Some(list) = &input.items {
            new.items = self.build_items(tx, &old.items, list, &[]).await?;
        }
        if let Some(n) = input.number.take() {
            new.number = n;
        }
        if let Some(t) = input.created_at {
            new.created_at = t;
        }
        new.payments.extend(std::mem::take(&mut input.payments));
        let books = self.books_in(tx).await?;
        let mut errors = FieldErrors::new();
        books.check(&mut new, &mut errors);
        if input.items.is_some() {
            // Packed units have left the warehouse: a line cannot shrink below them (removing the
            // line removes its packs and hands their stock back).
            let packed: Vec<(i64, i64)> = crate::db::query_as(
                "SELECT item_id, CAST(SUM(quantity) AS BIGINT) FROM packs WHERE order_id = $1 GROUP BY item_id",
            )
            .bind(id)
            .fetch_all(&mut **tx)
            .await?;
            torg_domain::order::check_packed(&new.items, &packed, &mut errors);
        }
        if !errors.is_empty() {
            return Err(DomainError::Invalid(errors).into());
        }
        if input.customer.is_some() {
            new.customer_id = None;
            (new.corporate_id, new.company_id, new.contact_id) = (None, None, None);
            self.resolve_customer(tx, &mut new, input.customer.as_ref(), BuyerRead::default(), actor, now).await?;
        } else if input.corporate.is_some() || input.contact.is_some() || input.company.is_some() {
            self.resolve_order_corporate(tx, &mut new, [&input.corporate, &input.contact, &input.company]).await?;
        }
        if new.status != old.status {
            new.status_updated_at = now;
        }
        let mut items = std::mem::take(&mut new.items);
        self.write_items(tx, id, &old.items, &mut items, now, &[]).await?;
        new.items = items;
        self.sync_reservations(tx, id, &books.wanted_reservations(&new), false).await?;
        self.insert_payments(tx, id, &mut new, now, &[]).await?;
        let changes = diff_orders(&old, &new);
        if !changes.is_empty() {
            self.write_order_row(tx, &new, books.paid(), now, RowWrite::Update).await?;
            write_custom_fields(tx, ("order_custom_fields", "order_id"), id, &new.custom_fields, false).await?;
            self.write_order_changes(tx, id, &new, &changes, actor, now).await?;
        }
        Ok(new)
    }

    /// Sets external ids by internal id, all or nothing.
    pub async fn fix_order_external_ids(
        &self,
        pairs: &[(i64, String)],
        allowed_sites: &[String],
        actor: Actor,
    ) -> StoreResult<()> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        for (i, (id, ext)) in pairs.iter().enumerate() {
            let Some(old) = self.load_orders(&mut tx, &[*id]).await?.pop().filter(|o| allowed_sites.contains(&o.site))
            else {
                return Err(torg_domain::order::unknown_in_batch(i, *id).into());
            };
            let mut new = old.clone();
            new.external_id = Some(ext.clone());
            let books = self.books_in(&mut tx).await?;
            self.write_order_row(&mut tx, &new, books.paid(), now, RowWrite::Update).await?;
            self.write_order_changes(&mut tx, *id, &new, &diff_orders(&old, &new), actor, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records `changes` to order `id` (now `new`) in its history, attributed to `actor`.
    pub(crate) async fn write_order_changes(
        &self,
        tx: &mut Tx,
        id: i64,
        new: &Order,
        changes: &[Change],
        actor: Actor,
        now: i64,
    ) -> StoreResult<()> {
        let stub = order_stub(new);
        let records: Vec<_> = changes
            .iter()
            .map(|c| NewRecord { entity_id: id, actor, created: false, deleted: false, change: Some(c), entity: &stub })
            .collect();
        self.write_history(tx, Entity::Order, now, &records).await
    }

    /// Loads whole orders (lines and payments included) by id, in the order given.
    pub(crate) async fn load_orders(&self, conn: &mut crate::db::Conn, ids: &[i64]) -> StoreResult<Vec<Order>> {
        self.load_orders_with(conn, ids, None).await
    }

    /// [`load_orders`](Store::load_orders), keeping in `pre` (when given) what showing them takes.
    async fn load_orders_with(
        &self,
        conn: &mut crate::db::Conn,
        ids: &[i64],
        mut pre: Option<&mut Prefetched>,
    ) -> StoreResult<Vec<Order>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let nested = self.backend() == crate::Backend::Postgres;
        let mut q = Sql::new(&format!("{} WHERE o.id IN ", order_select(pre.is_some(), nested)));
        q.bind_list(ids.iter().copied().map(Arg::Int));
        let mut orders: HashMap<i64, Order> = HashMap::with_capacity(ids.len());
        for r in &q.query().fetch_all(&mut *conn).await? {
            let o = order_of(&mut pre, r, nested)?;
            orders.insert(o.id, o);
        }
        let orders = ids.iter().filter_map(|id| orders.remove(id)).collect();
        if nested { Ok(orders) } else { self.with_lines(conn, orders).await }
    }

    /// Orders read without their lines and payments, with them.
    async fn with_lines(&self, conn: &mut crate::db::Conn, mut orders: Vec<Order>) -> StoreResult<Vec<Order>> {
        if orders.is_empty() {
            return Ok(orders);
        }
        let at: HashMap<i64, usize> = orders.iter().enumerate().map(|(i, o)| (o.id, i)).collect();
        let ids = || orders.iter().map(|o| Arg::Int(o.id)).collect::<Vec<_>>();
        const LINES: &str = "SELECT order_id, CAST(0 AS BIGINT) AS part, position AS at, id, doc, NULL AS external_id, \
             NULL AS type, NULL AS status, NULL AS amount, NULL AS paid_at, NULL AS comment FROM order_items WHERE order_id IN ";
        const PAYMENTS: &str = "SELECT order_id, 1 AS part, 0 AS at, id, NULL AS doc, external_id, type, status, amount, \
             paid_at, comment FROM payments WHERE order_id IN ";
        let (items, payments) = match self.backend() {
            // Lines and payments in one statement (one round trip less for every order read, which on
            // PostgreSQL is most of its cost): `part` 0 rows are lines, 1 rows payments, each branch
            // leaving the other's columns empty.
            crate::Backend::Postgres => {
                let mut q = Sql::new(LINES);
                q.bind_list(ids()).push(" UNION ALL ").push(PAYMENTS).bind_list(ids());
                let rows = q.push(" ORDER BY order_id, part, at, id").query().fetch_all(&mut *conn).await?;
                rows.into_iter().partition(|r| r.try_get::<i64, _>("part").is_ok_and(|p| p == 0))
            }
            // SQLite has no round trip to save, but sorted the union's two halves in temporary
            // b-trees (the statement took longer than the order's row with its customer): each half
            // is read in order from its index instead (`order_items (order_id, position)`,
            // `payments (order_id)`, whose entries end with the row id).
            crate::Backend::Sqlite => {
                let mut lines = Sql::new(LINES);
                lines.bind_list(ids()).push(" ORDER BY order_id, position, id");
                let mut payments = Sql::new(PAYMENTS);
                payments.bind_list(ids()).push(" ORDER BY order_id, id");
                (lines.query().fetch_all(&mut *conn).await?, payments.query().fetch_all(&mut *conn).await?)
            }
        };
        for r in items {
            let order_id: i64 = r.try_get("order_id")?;
            let mut item: OrderItem = serde_json::from_str(r.text("doc")?).unwrap_or_default();
            item.id = r.try_get("id")?;
            if let Some(&i) = at.get(&order_id) {
                orders[i].items.push(item);
            }
        }
        for r in payments {
            let order_id: i64 = r.try_get("order_id")?;
            let p = torg_domain::order::Payment {
                id: r.try_get("id")?,
                external_id: r.try_get("external_id")?,
                kind: r.try_get("type")?,
                status: r.try_get("status")?,
                amount: from_units(r.try_get("amount")?),
                paid_at: r.try_get("paid_at")?,
                comment: r.try_get("comment")?,
            };
            if let Some(&i) = at.get(&order_id) {
                orders[i].payments.push(p);
            }
        }
        Ok(orders)
    }

    /// The customers of a page of orders, by id, in one query: what an order listing nests (the
    /// customer's document without its order statistics).
    pub async fn order_customers(&self, ids: &[i64]) -> StoreResult<HashMap<i64, Customer>> {
        self.customers_by_id(&mut self.reader().acquire().await?, ids).await
    }

    async fn customers_by_id(&self, conn: &mut crate::db::Conn, ids: &[i64]) -> StoreResult<HashMap<i64, Customer>> {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let mut q = Sql::new("SELECT id, site, created_at, doc FROM customers WHERE id IN ");
        q.bind_list(ids.into_iter().map(Arg::Int));
        let mut out = HashMap::new();
        for r in q.query().fetch_all(conn).await? {
            let c = customer_of(r.try_get("id")?, r.try_get("site")?, r.try_get("created_at")?, r.text("doc")?);
            out.insert(c.id, c);
        }
        Ok(out)
    }

    /// One whole order.
    pub async fn get_order(&self, lookup: &OrderLookup) -> StoreResult<Option<Order>> {
        let mut conn = self.reader().snapshot().await?;
        match self.order_id(&mut conn, lookup, false).await? {
            Some(id) => Ok(self.load_orders(&mut conn, &[id]).await?.pop()),
            None => Ok(None),
        }
    }

    /// The WHERE clause of an order list. Built before a list takes its snapshot connection: it may
    /// read the books, and a request that held one pooled connection while waiting for another
    /// could starve the pool under load.
    async fn order_where(&self, f: &OrderFilter) -> StoreResult<Sql> {
        let mut wh = Sql::new(" WHERE o.site IN ");
        wh.bind_list(f.sites.iter().cloned().map(Arg::Text));
        if !f.ids.is_empty() {
            wh.push(" AND o.id IN ").bind_list(f.ids.iter().copied().map(Arg::Int));
        }
        if !f.external_ids.is_empty() {
            wh.push(" AND o.external_id IN ").bind_list(f.external_ids.iter().cloned().map(Arg::Text));
        }
        if !f.numbers.is_empty() {
            wh.push(" AND o.number IN ").bind_list(f.numbers.iter().cloned().map(Arg::Text));
        }
        if let Some(c) = &f.customer {
            let digits = phone_digits(c);
            wh.push(" AND (o.search LIKE ").bind(Arg::Text(contains_pattern(&c.to_lowercase()))).push(" ESCAPE '\\'");
            if digits.len() >= 3 {
                wh.push(" OR o.phones LIKE ").bind(Arg::Text(contains_pattern(&digits))).push(" ESCAPE '\\'");
            }
            wh.push(")");
        }
        if let Some(id) = f.customer_id {
            wh.push(" AND o.customer_id = ").bind(Arg::Int(id));
        }
        if let Some(ext) = &f.customer_external_id {
            wh.push(" AND o.customer_id IN (SELECT id FROM customers WHERE external_id = ")
                .bind(Arg::Text(ext.clone()))
                .push(")");
        }
        if let Some(e) = &f.email {
            wh.push(" AND o.email = ").bind(Arg::Text(e.to_lowercase()));
        }
        for (col, v, op) in [
            ("o.created_at", f.created_from, ">="),
            ("o.created_at", f.created_to, "<="),
            ("o.status_updated_at", f.status_updated_from, ">="),
            ("o.status_updated_at", f.status_updated_to, "<="),
        ] {
            if let Some(t) = v {
                wh.push(" AND ").push(col).push(" ").push(op).push(" ").bind(Arg::Int(t));
            }
        }
        if !f.extended_status.is_empty() {
            let statuses = self.books().await?.expand_statuses(&f.extended_status);
            if statuses.is_empty() {
                wh.push(" AND 1 = 0");
            } else {
                wh.push(" AND o.status IN ").bind_list(statuses.into_iter().map(Arg::Text));
            }
        }
        for (col, list) in [
            ("o.order_type", &f.order_types),
            ("o.order_method", &f.order_methods),
            ("o.delivery_type", &f.delivery_types),
            ("o.shipment_store", &f.shipment_stores),
        ] {
            if !list.is_empty() {
                wh.push(" AND ").push(col).push(" IN ").bind_list(list.iter().cloned().map(Arg::Text));
            }
        }
        for (col, list) in [("status", &f.payment_statuses), ("type", &f.payment_types)] {
            if !list.is_empty() {
                wh.push(&format!(" AND EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id AND p.{col} IN "))
                    .bind_list(list.iter().cloned().map(Arg::Text))
                    .push(")");
            }
        }
        if !f.managers.is_empty() {
            wh.push(" AND o.manager_id IN ").bind_list(f.managers.iter().copied().map(Arg::Int));
        }
        push_range(&mut wh, "o.total_summ", f.price);
        push_range(&mut wh, "o.prepay_sum", f.prepay);
        push_range(&mut wh, "o.delivery_cost", f.delivery_cost);
        push_range(&mut wh, "o.purchase_summ", f.purchase);
        if let Some(p) = &f.product {
            wh.push(" AND EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = o.id AND i.product_name LIKE ")
                .bind(Arg::Text(contains_pattern(&p.to_lowercase())))
                .push(" ESCAPE '\\')");
        }
        if let Some(c) = &f.manager_comment {
            like(&mut wh, "o.manager_comment", c);
        }
        if let Some(c) = &f.customer_comment {
            like(&mut wh, "o.customer_comment", c);
        }
        if let Some(c) = &f.city {
            like(&mut wh, "o.city", c);
        }
        if let Some(t) = &f.track_number {
            wh.push(" AND o.track_numbers LIKE ")
                .bind(Arg::Text(contains_pattern(&format!(",{t},"))))
                .push(" ESCAPE '\\'");
        }
        if let Some(s) = f.shipped {
            wh.push(" AND o.doc LIKE ").bind(Arg::Text(format!("%\"shipped\":{s}%")));
        }
        if let Some(a) = f.attachments {
            wh.push(if a { " AND o.id IN " } else { " AND o.id NOT IN " })
                .push("(SELECT order_id FROM file_attachments WHERE order_id IS NOT NULL)");
        }
        push_custom_field_conditions(&mut wh, "order_custom_fields", "order_id", "o.id", &f.custom_fields);
        self.push_more_conditions(&mut wh, f).await?;
        Ok(wh)
    }

    /// The size of the filtered set of orders: the sites' counters when only sites filter it.
    async fn order_total(&self, conn: &mut crate::db::Conn, f: &OrderFilter, wh: &Sql) -> StoreResult<u64> {
        let sites_only = *f == OrderFilter { sites: f.sites.clone(), ..OrderFilter::default() };
        self.list_total(conn, Counted::Orders, sites_only, &f.sites, "orders o", wh).await
    }

    /// A page of whole orders, newest first, and the size of the filtered set, on one connection.
    async fn order_page(
        &self,
        conn: &mut crate::db::Conn,
        f: &OrderFilter,
        wh: &Sql,
        page: PageRequest,
        mut pre: Option<&mut Prefetched>,
    ) -> StoreResult<(Vec<Order>, u64)> {
        let total = self.order_total(&mut *conn, f, wh).await?;
        let nested = self.backend() == crate::Backend::Postgres;
        let q = page_of(wh, &order_select(pre.is_some(), nested), page);
        let orders = q
            .query()
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| order_of(&mut pre, r, nested))
            .collect::<StoreResult<_>>()?;
        Ok((if nested { orders } else { self.with_lines(conn, orders).await? }, total))
    }

    /// A page of whole orders, newest first, and the size of the filtered set.
    pub async fn list_orders(&self, f: &OrderFilter, page: PageRequest) -> StoreResult<(Vec<Order>, u64)> {
        let wh = self.order_where(f).await?;
        self.order_page(&mut self.reader().snapshot().await?, f, &wh, page, None).await
    }

    /// A page of orders as [`list_orders`](Store::list_orders) finds it, with what showing them takes,
    /// all read from one state of the database.
    pub async fn list_shown_orders(&self, f: &OrderFilter, page: PageRequest) -> StoreResult<(ShownOrders, u64)> {
        let wh = self.order_where(f).await?;
        let mut conn = self.reader().snapshot().await?;
        let mut pre = Prefetched::default();
        let (orders, total) = self.order_page(&mut conn, f, &wh, page, Some(&mut pre)).await?;
        Ok((self.shown(&mut conn, orders, Some(pre)).await?, total))
    }

    /// One whole order with what showing it takes, read from one state of the database.
    pub async fn show_order(&self, lookup: &OrderLookup) -> StoreResult<Option<ShownOrders>> {
        let mut conn = self.reader().snapshot().await?;
        match self.order_id(&mut conn, lookup, false).await? {
            Some(id) => {
                let mut pre = Prefetched::default();
                let orders = self.load_orders_with(&mut conn, &[id], Some(&mut pre)).await?;
                if orders.is_empty() {
                    return Ok(None);
                }
                Ok(Some(self.shown(&mut conn, orders, Some(pre)).await?))
            }
            None => Ok(None),
        }
    }

    /// Orders already in hand (just written, say) with what showing them takes, read from one state
    /// of the database.
    pub async fn show_orders(&self, orders: Vec<Order>) -> StoreResult<ShownOrders> {
        let mut conn = self.reader().snapshot().await?;
        if orders.is_empty() {
            return self.shown(&mut conn, orders, None).await;
        }
        let rows = shown_extras(&orders).query().fetch_all(&mut conn).await?;
        let pre = prefetched(&orders, &rows)?;
        self.shown(&mut conn, orders, Some(pre)).await
    }

    /// Creates an order on `site` from a client's document, with what showing it takes (as
    /// [`Store::show_orders`] reads it). On PostgreSQL that read goes with the transaction's last
    /// writes, as one statement (a round trip less per create; with the order's row queued among those
    /// writes, that statement is the whole commit); on SQLite it is made on a reader after the commit,
    /// so that the one writer is not held for it.
    pub async fn create_shown_order(
        &self,
        site: &str,
        doc: &Map<String, Value>,
        actor: Actor,
        zone: &Zone,
    ) -> StoreResult<ShownOrders> {
        let (tx, order) = self.create_uncommitted(site, doc, actor, zone).await?;
        if self.backend() == crate::Backend::Sqlite {
            tx.commit().await?;
            return self.show_orders(vec![order]).await;
        }
        let orders = vec![order];
        // The read need not see the writes sent with it: the order comes from hand, and what it reads
        // (its buyer, credits and the site's programme) was written by statements already sent.
        let rows = tx.commit_beside(shown_extras_in_hand(&orders).query()).await?;
        let pre = prefetched(&orders, &rows)?;
        let mut conn = self.reader().acquire().await?;
        self.shown(&mut conn, orders, Some(pre)).await
    }

    /// Orders with their customers and contact persons, corporate customers and companies.
    /// `pre` is what reading them brought, when they were read to be shown.
    async fn shown(
        &self,
        conn: &mut crate::db::Conn,
        orders: Vec<Order>,
        pre: Option<Prefetched>,
    ) -> StoreResult<ShownOrders> {
        let (mut customers, hints) = match pre {
            Some(p) => (p.customers, Some(p.credits)),
            None => (HashMap::new(), None),
        };
        let people: Vec<i64> = orders
            .iter()
            .flat_map(|o| o.customer_id.into_iter().chain(o.contact_id))
            .filter(|id| !customers.contains_key(id))
            .collect();
        customers.extend(self.customers_by_id(conn, &people).await?);
        let parties = self.order_parties_on(conn, &orders, hints.as_ref()).await?;
        Ok(ShownOrders { orders, customers, parties })
    }

    /// Statuses of the orders with these ids or external ids, within the allowed sites.
    pub async fn order_statuses(
        &self,
        ids: &[i64],
        external_ids: &[String],
        allowed_sites: &[String],
    ) -> StoreResult<Vec<OrderStatusRow>> {
        if ids.is_empty() && external_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Sql::new("SELECT o.id, o.external_id, o.status FROM orders o WHERE o.site IN ");
        q.bind_list(allowed_sites.iter().cloned().map(Arg::Text)).push(" AND (1 = 0");
        if !ids.is_empty() {
            q.push(" OR o.id IN ").bind_list(ids.iter().copied().map(Arg::Int));
        }
        if !external_ids.is_empty() {
            q.push(" OR o.external_id IN ").bind_list(external_ids.iter().cloned().map(Arg::Text));
        }
        q.push(") ORDER BY o.id");
        let rows: Vec<(i64, Option<String>, String)> = q.query_as().fetch_all(self.reader()).await?;
        let books = self.books().await?;
        Ok(rows
            .into_iter()
            .map(|(id, external_id, status)| {
                let group = books.status_group(&status).map(str::to_owned);
                OrderStatusRow { id, external_id, status, group }
            })
            .collect())
    }

    /// A page of order history.
    pub async fn order_history(
        &self,
        filter: &HistoryFilter,
        page: PageRequest,
    ) -> StoreResult<(Vec<HistoryRecord>, u64)> {
        self.read_history(Entity::Order, filter, page).await
    }

    /// Creates an offer with its product; for demo data and tests until the catalogue has its own face.
    pub async fn create_offer(&self, offer: &torg_domain::catalogue::Offer) -> StoreResult<i64> {
        let mut tx = self.begin().await?;
        let product_id: i64 = crate::db::query_scalar(
            "INSERT INTO products (external_id, article, name, created_at, name_lower, name_lower_of)
             VALUES ($1, $2, $3, $4, $5, $3) RETURNING id",
        )
        .bind(&offer.external_id)
        .bind(&offer.article)
        .bind(&offer.name)
        .bind(torg_domain::time::now())
        .bind(offer.name.to_lowercase())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| StoreError::unique_as(e, torg_domain::product::external_id_taken))?;
        let id: i64 = crate::db::query_scalar(
            "INSERT INTO offers (product_id, external_id, xml_id, name, article, price, purchase_price, active,
             name_lower, name_lower_of) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $4) RETURNING id",
        )
        .bind(product_id)
        .bind(&offer.external_id)
        .bind(&offer.xml_id)
        .bind(&offer.name)
        .bind(&offer.article)
        .bind(to_units(offer.price))
        .bind(offer.purchase_price.map(to_units))
        .bind(i64::from(offer.active))
        .bind(offer.name.to_lowercase())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| StoreError::unique_as(e, torg_domain::product::offer_external_id_taken))?;
        tx.commit().await?;
        Ok(id)
    }
}

/// What the `product` filter searches in a line: its name and article, lower-cased.
fn item_search(item: &OrderItem) -> String {
    let article = item.offer.as_ref().and_then(|o| o.article.as_deref()).unwrap_or("");
    format!("{} {article}", item.product_name.as_deref().unwrap_or("")).to_lowercase()
}

pub(crate) fn fill(target: &mut Option<String>, from: &Option<String>) {
    if target.as_deref().is_none_or(str::is_empty)
        && let Some(v) = from.as_deref().filter(|v| !v.is_empty())
    {
        *target = Some(v.to_string());
    }
}

/// What later history records keep of the order.
pub(crate) fn order_stub(o: &Order) -> Value {
    json!({ "id": o.id, "externalId": o.external_id, "number": o.number, "managerId": o.manager_id, "site": o.site, "status": o.status })
}
