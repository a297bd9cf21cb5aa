//! Customers: writes with their history, lookups, the filtered list, and a buyer's balance.

use crate::history::{Entity, HistoryFilter, NewRecord};
use crate::sql::{Arg, Sql, contains_pattern};
use crate::{Store, StoreError, StoreResult, Tx};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use torg_domain::customer::{Customer, CustomerStats};
use torg_domain::history::{Actor, HistoryRecord, diff_customers};
use torg_domain::money::{from_units, to_units};
use torg_domain::page::PageRequest;
use torg_domain::patch::phone_digits;
use torg_domain::{DomainError, FieldErrors};

mod list_filters;

use list_filters::push_more_conditions;

/// How a request names a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomerLookup {
    /// Internal id.
    Id(i64),
    /// External id within a site.
    ExternalId {
        /// Site code.
        site: String,
        /// External id.
        external_id: String,
    },
}

/// Filters of the customer list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerFilter {
    /// Only these sites (always set: the sites the caller may see).
    pub sites: Vec<String>,
    /// Internal ids.
    pub ids: Vec<i64>,
    /// External ids.
    pub external_ids: Vec<String>,
    /// Substring of name, e-mail or phone.
    pub name: Option<String>,
    /// E-mail, exact (case-insensitive).
    pub email: Option<String>,
    /// City substring.
    pub city: Option<String>,
    /// Region substring.
    pub region: Option<String>,
    /// Responsible managers.
    pub managers: Vec<i64>,
    /// Created at or after.
    pub created_from: Option<i64>,
    /// Created at or before.
    pub created_to: Option<i64>,
    /// VIP flag.
    pub vip: Option<bool>,
    /// Bad flag.
    pub bad: Option<bool>,
    /// `male` / `female`.
    pub sex: Option<String>,
    /// Orders count range.
    pub orders_count: (Option<i64>, Option<i64>),
    /// Total spent range.
    pub total_summ: (Option<Decimal>, Option<Decimal>),
    /// Custom field conditions.
    pub custom_fields: Vec<crate::orders::CustomFieldCondition>,
    /// Substring of one of the customer's notes, any case.
    pub notes: Option<String>,
    /// Average order total range (a customer without orders averages 0).
    pub average_summ: (Option<Decimal>, Option<Decimal>),
    /// Address country ISO codes.
    pub countries: Vec<String>,
    /// Unsubscribed from e-mail marketing (`emailMarketingUnsubscribedAt` set) or not.
    pub email_unsubscribed: Option<bool>,
    /// With files attached (true) or without (false).
    pub attachments: Option<bool>,
    /// Discount card number, exact.
    pub discount_card: Option<String>,
    /// Legal details.
    pub contragent: crate::facets::ContragentFilter,
    /// Managers in these user groups.
    pub manager_groups: Vec<String>,
    /// First order created at or after.
    pub first_order_from: Option<i64>,
    /// First order created at or before.
    pub first_order_to: Option<i64>,
    /// Last order created at or after.
    pub last_order_from: Option<i64>,
    /// Last order created at or before.
    pub last_order_to: Option<i64>,
    /// Browser id, exact.
    pub browser_id: Option<String>,
    /// Substring of the commentary, any case.
    pub commentary: Option<String>,
    /// Where the customer came from.
    pub source: crate::facets::SourceFilter,
    /// MessageGateway customer id, exact.
    pub mg_customer_id: Option<String>,
    /// Customers with any of these tags (by name, any case).
    pub tags: Vec<String>,
    /// Subscriptions the customer has (or has not).
    pub subscriptions: Vec<crate::facets::SubscriptionCondition>,
    /// Contact persons of a corporate customer (true) or not (false).
    pub is_contact: Option<bool>,
    /// What tasks the customer has (`tasksCounts`; tasks about the customer itself).
    pub tasks: Option<crate::tasks::TaskCondition>,
    /// The sum of the costs of their orders (test orders aside), its `costSumm`.
    pub cost_summ: (Option<Decimal>, Option<Decimal>),
    /// Set when a condition asks for what torg never records (class segments, web visits, …): nothing
    /// matches.
    pub nothing: bool,
    /// Further filters every customer listed must also meet (a segment's filter).
    pub within: Vec<CustomerFilter>,
}

/// Result of a batch upload: what went in, what did not and why.
#[derive(Debug, Clone, Default)]
pub struct UploadOutcome {
    /// (internal id, external id) of every entity stored.
    pub uploaded: Vec<(i64, Option<String>)>,
    /// (external id, messages) of every entity refused.
    pub failed: Vec<(Option<String>, FieldErrors)>,
}

impl UploadOutcome {
    /// Records what creating `input` came to, in an upload where each entity stands on its own: made,
    /// or refused under its `externalId`; any other failure ends the upload.
    pub(crate) fn record(
        &mut self,
        input: &Map<String, Value>,
        made: StoreResult<(i64, Option<String>)>,
    ) -> StoreResult<()> {
        match made {
            Ok(made) => self.uploaded.push(made),
            Err(StoreError::Domain(e)) => {
                let ext = input
                    .get("externalId")
                    .and_then(|v| v.as_str().map(str::to_owned).or_else(|| v.as_i64().map(|i| i.to_string())));
                self.failed.push((ext, e.into_fields()));
            }
            Err(other) => return Err(other),
        }
        Ok(())
    }
}

const SELECT: &str = "SELECT c.id, c.site, c.created_at, c.doc,
    (SELECT COUNT(*) FROM orders o WHERE o.customer_id = c.id AND o.is_test = 0) AS orders_count,
    (SELECT CAST(COALESCE(SUM(o.total_summ), 0) AS BIGINT) FROM orders o WHERE o.customer_id = c.id AND o.is_test = 0) AS total_summ,
    (SELECT CAST(COALESCE(SUM(o.total_summ - o.purchase_summ), 0) AS BIGINT) FROM orders o WHERE o.customer_id = c.id AND o.is_test = 0) AS margin_summ,
    (SELECT CAST(COALESCE(SUM(k.summ), 0) AS BIGINT) FROM costs k JOIN orders o ON o.id = k.order_id
     WHERE o.customer_id = c.id AND o.is_test = 0) AS cost_summ,
    (SELECT COUNT(*) FROM corporate_contacts cc WHERE cc.customer_id = c.id) AS contacts
    FROM customers c";

fn customer_from_row(r: &crate::db::Row) -> StoreResult<(Customer, CustomerStats)> {
    let doc: String = r.try_get("doc")?;
    let mut c: Customer = serde_json::from_str(&doc).unwrap_or_default();
    c.id = r.try_get("id")?;
    c.site = r.try_get("site")?;
    c.created_at = r.try_get("created_at")?;
    let stats = CustomerStats {
        orders_count: r.try_get("orders_count")?,
        total_summ: from_units(r.try_get("total_summ")?),
        margin_summ: from_units(r.try_get("margin_summ")?),
        cost_summ: from_units(r.try_get("cost_summ")?),
        is_contact: r.try_get::<i64, _>("contacts")? > 0,
    };
    Ok((c, stats))
}

/// Lower-cased name, e-mail and phone digits: what the `name` filter searches.
fn search_text(c: &Customer) -> String {
    let phones: Vec<String> = c.phones.iter().map(|p| phone_digits(&p.number)).collect();
    format!("{} {} {}", c.full_name(), c.email.as_deref().unwrap_or(""), phones.join(" ")).to_lowercase()
}

/// A lower-cased address part: the `city` and `region` filters match any case, and SQL `LOWER` folds only
/// ASCII on SQLite (and under a C locale on PostgreSQL).
fn address_part(c: &Customer, key: &str) -> Option<String> {
    c.address.get(key).and_then(Value::as_str).map(str::to_lowercase)
}

/// The parts of a custom-field value that filters use: its text and, when numeric, its number.
pub(crate) fn custom_value_columns(v: &Value) -> (Option<String>, Option<i64>) {
    let text = match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Array(a) => Some(
            a.iter()
                .map(|x| x.as_str().map(str::to_owned).unwrap_or_else(|| x.to_string()))
                .collect::<Vec<_>>()
                .join(","),
        ),
        other => Some(other.to_string()),
    };
    let num = match v {
        Value::Number(n) => n.to_string().parse::<Decimal>().ok(),
        Value::String(s) => s.trim().parse::<Decimal>().ok(),
        Value::Bool(b) => Some(Decimal::from(i64::from(*b))),
        _ => None,
    };
    (text, num.map(to_units))
}

/// Writes the searchable copies of an owner's custom fields, all in one statement; `fresh` for a new
/// owner, which has none to replace.
pub(crate) async fn write_custom_fields(
    tx: &mut Tx,
    (table, owner): (&str, &str),
    id: i64,
    fields: &Map<String, Value>,
    fresh: bool,
) -> StoreResult<()> {
    if !fresh {
        crate::db::query(format!("DELETE FROM {table} WHERE {owner} = $1")).bind(id).execute(&mut **tx).await?;
    }
    if fields.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO {table} ({owner}, code, value_text, value_num) VALUES {}",
        crate::sql::values_rows(fields.len(), 4)
    );
    let mut q = Vec::with_capacity(fields.len() * 4);
    for (code, value) in fields {
        use crate::db::Encode as _;
        let (text, num) = custom_value_columns(value);
        q.extend([id.encode(), code.as_str().encode(), text.encode(), num.encode()]);
    }
    crate::db::Query::with_args(sql, q).execute_later(tx).await?;
    Ok(())
}

impl Store {
    /// Inserts a customer row (history is the caller's); returns the id.
    pub(crate) async fn insert_customer(&self, tx: &mut Tx, c: &Customer, now: i64) -> StoreResult<i64> {
        let created_at = if c.created_at > 0 { c.created_at } else { now };
        let id: i64 = crate::db::query_scalar(
            "INSERT INTO customers (site, external_id, email, phones, search, manager_id, vip, bad, sex, city, region, created_at, updated_at, doc)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
        )
        .bind(&c.site)
        .bind(&c.external_id)
        .bind(c.email.as_deref().map(str::to_lowercase))
        .bind(c.phones.iter().map(|p| phone_digits(&p.number)).collect::<Vec<_>>().join(" "))
        .bind(search_text(c))
        .bind(c.manager_id)
        .bind(i64::from(c.vip))
        .bind(i64::from(c.bad))
        .bind(&c.sex)
        .bind(address_part(c, "city"))
        .bind(address_part(c, "region"))
        .bind(created_at)
        .bind(now)
        .bind(serde_json::to_string(c).unwrap_or_default())
        .fetch_one(&mut **tx)
        .await
        .map_err(|e| StoreError::unique_as(e, torg_domain::customer::external_id_taken))?;
        write_custom_fields(tx, ("customer_custom_fields", "customer_id"), id, &c.custom_fields, true).await?;
        self.write_customer_facets(tx, id, c, true).await?;
        Ok(id)
    }

    /// Keeps the facets the list filters read (see [`crate::facets`]) with the document.
    async fn write_customer_facets(&self, tx: &mut Tx, id: i64, c: &Customer, fresh: bool) -> StoreResult<()> {
        let doc = match serde_json::to_value(c) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        let facets = crate::facets::customer_facets(&doc);
        self.write_facets(tx, crate::facets::Owner::Customer, id, &facets, fresh).await
    }

    async fn update_customer_row(&self, tx: &mut Tx, c: &Customer, now: i64) -> StoreResult<()> {
        crate::db::query(
            "UPDATE customers SET external_id = $1, email = $2, phones = $3, search = $4, manager_id = $5, vip = $6, bad = $7,
             sex = $8, city = $9, region = $10, updated_at = $11, doc = $12 WHERE id = $13",
        )
        .bind(&c.external_id)
        .bind(c.email.as_deref().map(str::to_lowercase))
        .bind(c.phones.iter().map(|p| phone_digits(&p.number)).collect::<Vec<_>>().join(" "))
        .bind(search_text(c))
        .bind(c.manager_id)
        .bind(i64::from(c.vip))
        .bind(i64::from(c.bad))
        .bind(&c.sex)
        .bind(address_part(c, "city"))
        .bind(address_part(c, "region"))
        .bind(now)
        .bind(serde_json::to_string(c).unwrap_or_default())
        .bind(c.id)
        .execute(&mut **tx)
        .await
        .map_err(|e| StoreError::unique_as(e, torg_domain::customer::external_id_taken))?;
        write_custom_fields(tx, ("customer_custom_fields", "customer_id"), c.id, &c.custom_fields, false).await?;
        self.write_customer_facets(tx, c.id, c, false).await
    }

    /// Checks a customer's references (manager) and custom field values inside a write.
    async fn check_customer_refs(&self, tx: &mut Tx, c: &mut Customer) -> StoreResult<()> {
        let books = self.books_in(tx).await?;
        let mut errors = torg_domain::FieldErrors::new();
        books.check_custom_fields("customer", &mut c.custom_fields, &mut errors);
        if !errors.is_empty() {
            return Err(DomainError::Invalid(errors).into());
        }
        if let Some(m) = c.manager_id {
            self.check_user_in(tx, m, torg_domain::customer::MANAGER_AT).await?;
        }
        Ok(())
    }

    /// Creates a customer inside `tx`, with its `created` history record.
    pub(crate) async fn create_customer_in(
        &self,
        tx: &mut Tx,
        mut c: Customer,
        actor: Actor,
        now: i64,
    ) -> StoreResult<Customer> {
        self.check_customer_refs(tx, &mut c).await?;
        c.id = self.insert_customer(tx, &c, now).await?;
        if c.created_at == 0 {
            c.created_at = now;
        }
        let entity = customer_snapshot(&c);
        self.write_history(
            tx,
            Entity::Customer,
            now,
            &[NewRecord { entity_id: c.id, actor, created: true, deleted: false, change: None, entity: &entity }],
        )
        .await?;
        Ok(c)
    }

    /// Creates a customer from a client's document.
    pub async fn create_customer(&self, site: &str, input: &Map<String, Value>, actor: Actor) -> StoreResult<Customer> {
        let c = Customer::from_input(site, input)?;
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        let c = self.create_customer_in(&mut tx, c, actor, now).await?;
        tx.commit().await?;
        Ok(c)
    }

    /// The id of the customer a lookup names.
    pub(crate) async fn customer_id_in(&self, tx: &mut Tx, lookup: &CustomerLookup) -> StoreResult<Option<i64>> {
        Ok(customer_by::<(i64,)>(tx, "id", lookup).await?.map(|r| r.0))
    }

    /// The id, site and stored document of the customer a lookup names.
    pub(crate) async fn customer_doc_in(
        &self,
        tx: &mut Tx,
        lookup: &CustomerLookup,
    ) -> StoreResult<Option<(i64, String, String)>> {
        customer_by(tx, "id, site, doc", lookup).await
    }

    async fn load_customer_in(&self, tx: &mut Tx, id: i64) -> StoreResult<Customer> {
        let row = crate::db::query(format!("{SELECT} WHERE c.id = $1")).bind(id).fetch_one(&mut **tx).await?;
        Ok(customer_from_row(&row)?.0)
    }

    /// One customer with its order statistics.
    pub async fn get_customer(&self, lookup: &CustomerLookup) -> StoreResult<Option<(Customer, CustomerStats)>> {
        let mut q = Sql::new(SELECT);
        match lookup {
            CustomerLookup::Id(id) => q.push(" WHERE c.id = ").bind(Arg::Int(*id)),
            CustomerLookup::ExternalId { site, external_id } => q
                .push(" WHERE c.site = ")
                .bind(Arg::Text(site.clone()))
                .push(" AND c.external_id = ")
                .bind(Arg::Text(external_id.clone())),
        };
        let row = q.query().fetch_optional(self.reader()).await?;
        row.as_ref().map(customer_from_row).transpose()
    }

    /// Applies a partial update; `allowed_sites` limits which customers the caller may touch.
    pub async fn edit_customer(
        &self,
        lookup: &CustomerLookup,
        input: &Map<String, Value>,
        actor: Actor,
        allowed_sites: &[String],
    ) -> StoreResult<Customer> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        let id = self.customer_id_in(&mut tx, lookup).await?.ok_or_else(|| DomainError::NotFound("customer".into()))?;
        let old = self.load_customer_in(&mut tx, id).await?;
        if !allowed_sites.contains(&old.site) {
            return Err(DomainError::NotFound("customer".into()).into());
        }
        let mut new = old.patched(input)?;
        self.check_customer_refs(&mut tx, &mut new).await?;
        self.save_customer_change(&mut tx, &old, &new, actor, now).await?;
        tx.commit().await?;
        Ok(new)
    }

    /// Writes a changed customer (`old` → `new`) with one history record per changed field; nothing
    /// when nothing changed.
    async fn save_customer_change(
        &self,
        tx: &mut Tx,
        old: &Customer,
        new: &Customer,
        actor: Actor,
        now: i64,
    ) -> StoreResult<()> {
        let changes = diff_customers(old, new);
        if changes.is_empty() {
            return Ok(());
        }
        self.update_customer_row(tx, new, now).await?;
        let entity = customer_stub(new);
        let records: Vec<_> = changes
            .iter()
            .map(|c| NewRecord {
                entity_id: new.id,
                actor,
                created: false,
                deleted: false,
                change: Some(c),
                entity: &entity,
            })
            .collect();
        self.write_history(tx, Entity::Customer, now, &records).await
    }

    /// Creates many customers, each in its own transaction, so one bad entry does not stop the rest.
    pub async fn upload_customers(
        &self,
        site: &str,
        inputs: &[Map<String, Value>],
        actor: Actor,
    ) -> StoreResult<UploadOutcome> {
        let mut out = UploadOutcome::default();
        for input in inputs {
            out.record(input, self.create_customer(site, input, actor).await.map(|c| (c.id, c.external_id)))?;
        }
        Ok(out)
    }

    /// Sets external ids by internal id, all or nothing.
    pub async fn fix_customer_external_ids(
        &self,
        pairs: &[(i64, String)],
        allowed_sites: &[String],
        actor: Actor,
    ) -> StoreResult<()> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        for (i, (id, ext)) in pairs.iter().enumerate() {
            let old = match self.customer_id_in(&mut tx, &CustomerLookup::Id(*id)).await? {
                Some(_) => self.load_customer_in(&mut tx, *id).await?,
                None => return Err(torg_domain::customer::unknown_id_at(i, *id).into()),
            };
            if !allowed_sites.contains(&old.site) {
                return Err(torg_domain::customer::unknown_id_at(i, *id).into());
            }
            let mut new = old.clone();
            new.external_id = Some(ext.clone());
            let changes = diff_customers(&old, &new);
            self.update_customer_row(&mut tx, &new, now).await?;
            let entity = customer_stub(&new);
            let records: Vec<_> = changes
                .iter()
                .map(|c| NewRecord {
                    entity_id: *id,
                    actor,
                    created: false,
                    deleted: false,
                    change: Some(c),
                    entity: &entity,
                })
                .collect();
            self.write_history(&mut tx, Entity::Customer, now, &records).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A page of customers and the size of the filtered set.
    pub async fn list_customers(
        &self,
        f: &CustomerFilter,
        page: PageRequest,
    ) -> StoreResult<(Vec<(Customer, CustomerStats)>, u64)> {
        let mut wh = Sql::new(" WHERE 1 = 1");
        push_customer_conditions(&mut wh, f);
        let sites_only = *f == CustomerFilter { sites: f.sites.clone(), ..CustomerFilter::default() };
        // The page and its total from one state of the database.
        let mut conn = self.reader().snapshot().await?;
        let total = self
            .list_total(&mut conn, crate::counts::Counted::Customers, sites_only, &f.sites, "customers c", &wh)
            .await?;
        let mut list = wh.with_prefix(SELECT);
        list.push(" ORDER BY c.id");
        crate::sql::page(&mut list, page.limit, page.offset());
        let rows = list.query().fetch_all(&mut conn).await?;
        let customers = rows.iter().map(customer_from_row).collect::<StoreResult<Vec<_>>>()?;
        Ok((customers, total))
    }

    /// A page of customer history.
    pub async fn customer_history(
        &self,
        filter: &HistoryFilter,
        page: PageRequest,
    ) -> StoreResult<(Vec<HistoryRecord>, u64)> {
        self.read_history(Entity::Customer, filter, page).await
    }

    /// Replaces a customer's subscriptions (`customerSubscriptions`), with a history record when they
    /// change; `allowed_sites` limits which customers the caller may touch.
    pub async fn set_customer_subscriptions(
        &self,
        lookup: &CustomerLookup,
        subscriptions: Value,
        actor: Actor,
        allowed_sites: &[String],
    ) -> StoreResult<Customer> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        let id = self.customer_id_in(&mut tx, lookup).await?.ok_or_else(|| DomainError::NotFound("customer".into()))?;
        let old = self.load_customer_in(&mut tx, id).await?;
        if !allowed_sites.contains(&old.site) {
            return Err(DomainError::NotFound("customer".into()).into());
        }
        let mut new = old.clone();
        new.attrs.insert("customerSubscriptions".into(), subscriptions);
        self.save_customer_change(&mut tx, &old, &new, actor, now).await?;
        tx.commit().await?;
        Ok(new)
    }

    /// A buyer's balance: what they paid (payments whose status means paid) less what their orders
    /// cost (test and cancelled orders excluded).
    pub async fn customer_balance(&self, customer_id: i64) -> StoreResult<Decimal> {
        let (paid,): (i64,) = crate::db::query_as(
            "SELECT CAST(COALESCE(SUM(p.amount), 0) AS BIGINT) FROM payments p JOIN orders o ON o.id = p.order_id
             WHERE o.customer_id = $1 AND o.is_test = 0 AND p.status IN
             (SELECT code FROM reference_entries WHERE kind = 'payment_status' AND attrs LIKE '%\"paymentComplete\":true%')",
        )
        .bind(customer_id)
        .fetch_one(self.reader())
        .await?;
        let (owed,): (i64,) = crate::db::query_as(
            "SELECT CAST(COALESCE(SUM(o.total_summ), 0) AS BIGINT) FROM orders o WHERE o.customer_id = $1 AND o.is_test = 0
             AND o.status NOT IN (SELECT code FROM reference_entries WHERE kind = 'status' AND attrs LIKE '%\"group\":\"cancel\"%')",
        )
        .bind(customer_id)
        .fetch_one(self.reader())
        .await?;
        Ok(torg_domain::money::from_units(paid - owed))
    }
}

/// The whole customer as a history `created` record keeps it.
pub(crate) fn customer_snapshot(c: &Customer) -> Value {
    let mut v = serde_json::to_value(c).unwrap_or_else(|_| json!({}));
    v["id"] = json!(c.id);
    v["site"] = json!(c.site);
    v["createdAt"] = json!(c.created_at);
    v
}

/// What later history records keep of the customer.
fn customer_stub(c: &Customer) -> Value {
    json!({ "id": c.id, "externalId": c.external_id, "site": c.site })
}

/// The conditions of a customer list filter on `c` (a `customers` row), appended to `wh`.
fn push_customer_conditions(wh: &mut Sql, f: &CustomerFilter) {
    wh.push(" AND c.site IN ");
    wh.bind_list(f.sites.iter().cloned().map(Arg::Text));
    if !f.ids.is_empty() {
        wh.push(" AND c.id IN ").bind_list(f.ids.iter().copied().map(Arg::Int));
    }
    if !f.external_ids.is_empty() {
        wh.push(" AND c.external_id IN ").bind_list(f.external_ids.iter().cloned().map(Arg::Text));
    }
    if let Some(name) = &f.name {
        let digits = phone_digits(name);
        wh.push(" AND (c.search LIKE ").bind(Arg::Text(contains_pattern(&name.to_lowercase()))).push(" ESCAPE '\\'");
        if digits.len() >= 3 {
            wh.push(" OR c.phones LIKE ").bind(Arg::Text(contains_pattern(&digits))).push(" ESCAPE '\\'");
        }
        wh.push(")");
    }
    if let Some(email) = &f.email {
        wh.push(" AND c.email = ").bind(Arg::Text(email.to_lowercase()));
    }
    if let Some(a) = f.attachments {
        wh.push(if a { " AND c.id IN " } else { " AND c.id NOT IN " })
            .push("(SELECT customer_id FROM file_attachments WHERE customer_id IS NOT NULL)");
    }
    if let Some(city) = &f.city {
        wh.push(" AND c.city LIKE ").bind(Arg::Text(contains_pattern(&city.to_lowercase()))).push(" ESCAPE '\\'");
    }
    if let Some(region) = &f.region {
        wh.push(" AND c.region LIKE ").bind(Arg::Text(contains_pattern(&region.to_lowercase()))).push(" ESCAPE '\\'");
    }
    if !f.managers.is_empty() {
        wh.push(" AND c.manager_id IN ").bind_list(f.managers.iter().copied().map(Arg::Int));
    }
    if let Some(t) = f.created_from {
        wh.push(" AND c.created_at >= ").bind(Arg::Int(t));
    }
    if let Some(t) = f.created_to {
        wh.push(" AND c.created_at <= ").bind(Arg::Int(t));
    }
    if let Some(v) = f.vip {
        wh.push(" AND c.vip = ").bind(Arg::Int(i64::from(v)));
    }
    if let Some(v) = f.bad {
        wh.push(" AND c.bad = ").bind(Arg::Int(i64::from(v)));
    }
    match f.is_contact {
        Some(true) => wh.push(" AND c.id IN (SELECT customer_id FROM corporate_contacts)"),
        Some(false) => wh.push(" AND c.id NOT IN (SELECT customer_id FROM corporate_contacts)"),
        None => &mut *wh,
    };
    if let Some(s) = &f.sex {
        wh.push(" AND c.sex = ").bind(Arg::Text(s.clone()));
    }
    let count_expr = "(SELECT COUNT(*) FROM orders o WHERE o.customer_id = c.id AND o.is_test = 0)";
    let sum_expr = "(SELECT CAST(COALESCE(SUM(o.total_summ), 0) AS BIGINT) FROM orders o WHERE o.customer_id = c.id AND o.is_test = 0)";
    if let Some(min) = f.orders_count.0 {
        wh.push(&format!(" AND {count_expr} >= ")).bind(Arg::Int(min));
    }
    if let Some(max) = f.orders_count.1 {
        wh.push(&format!(" AND {count_expr} <= ")).bind(Arg::Int(max));
    }
    if let Some(min) = f.total_summ.0 {
        wh.push(&format!(" AND {sum_expr} >= ")).bind(Arg::Int(to_units(min)));
    }
    if let Some(max) = f.total_summ.1 {
        wh.push(&format!(" AND {sum_expr} <= ")).bind(Arg::Int(to_units(max)));
    }
    crate::orders::push_custom_field_conditions(wh, "customer_custom_fields", "customer_id", "c.id", &f.custom_fields);
    push_more_conditions(wh, f);
    for inner in &f.within {
        // A segment's own filter: the customers it selects, as a sub-query over its own `c`.
        wh.push(" AND c.id IN (SELECT c.id FROM customers c WHERE 1 = 1");
        push_customer_conditions(wh, inner);
        wh.push(")");
    }
}

/// The `columns` of the customer a lookup names, read in the write transaction.
async fn customer_by<T: crate::db::FromRow>(
    tx: &mut Tx,
    columns: &str,
    lookup: &CustomerLookup,
) -> StoreResult<Option<T>> {
    Ok(match lookup {
        CustomerLookup::Id(id) => {
            crate::db::query_as(format!("SELECT {columns} FROM customers WHERE id = $1"))
                .plain_read()
                .bind(*id)
                .fetch_optional(&mut **tx)
                .await?
        }
        CustomerLookup::ExternalId { site, external_id } => {
            crate::db::query_as(format!("SELECT {columns} FROM customers WHERE site = $1 AND external_id = $2"))
                .plain_read()
                .bind(site)
                .bind(external_id)
                .fetch_optional(&mut **tx)
                .await?
        }
    })
}
