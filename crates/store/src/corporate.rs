//! Corporate customers: writes with their history, lookups, the filtered list, combining duplicates,
//! and the company a taxpayer number (INN) names.
//!
//! A corporate customer is one row with its document; its addresses, companies and contacts are rows
//! of their own ([`members`]). Every write is one transaction with its history records, and corporate
//! writes run one at a time (SQLite has one writer; on PostgreSQL each takes an advisory lock held to
//! its commit), so a history record's id is its number in commit order.

mod members;
mod orders;
mod payers;

use crate::customers::{CustomerLookup, UploadOutcome, write_custom_fields};
use crate::facets::{self, ContragentFilter, Owner};
use crate::history::HistoryFilter;
use crate::sql::{Arg, Sql, any_of, contains_pattern, text_args};
use crate::{Backend, Store, StoreError, StoreResult, Tx, db};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use torg_domain::DomainError;
use torg_domain::corporate::{self, Company, CorporateAddress, CorporateContact, CorporateCustomer, list_member};
use torg_domain::customer::CustomerStats;
use torg_domain::history::{Actor, Change, HistoryRecord, diff_docs};
use torg_domain::money::{from_units, to_units};
use torg_domain::page::PageRequest;

pub use members::{ContactView, MemberFilter};
pub use orders::OrderParties;

/// Serialises corporate writes on PostgreSQL (released with the transaction).
const CORPORATE_LOCK: &str = "SELECT pg_advisory_xact_lock(7426018)";

/// A corporate customer with everything that belongs to it, as the API shows it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CorporateView {
    /// The corporate customer.
    pub customer: CorporateCustomer,
    /// Its addresses, main first.
    pub addresses: Vec<CorporateAddress>,
    /// Its companies, main first.
    pub companies: Vec<Company>,
    /// Its contact persons, main first.
    pub contacts: Vec<ContactView>,
    /// What it has ordered.
    pub stats: CustomerStats,
}

/// A company found by its taxpayer number, and the corporate customer it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct CompanyOfInn {
    /// The company.
    pub company: Company,
    /// Its corporate customer's internal id.
    pub corporate_id: i64,
    /// Its corporate customer's external id.
    pub corporate_external_id: Option<String>,
    /// Its corporate customer's name.
    pub corporate_name: String,
    /// Its corporate customer's site.
    pub site: String,
}

/// Filters of the corporate customer list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CorporateFilter {
    /// Only these sites (always set: the sites the caller may see).
    pub sites: Vec<String>,
    /// Internal ids.
    pub ids: Vec<i64>,
    /// External ids.
    pub external_ids: Vec<String>,
    /// Substring of the name or of a company's name, any case.
    pub name: Option<String>,
    /// Substring of an address's city, any case.
    pub city: Option<String>,
    /// Substring of an address's region, any case.
    pub region: Option<String>,
    /// E-mail of a contact person, exact (any case).
    pub email: Option<String>,
    /// Substring of one of its notes, any case.
    pub notes: Option<String>,
    /// Responsible managers.
    pub managers: Vec<i64>,
    /// Managers in these user groups.
    pub manager_groups: Vec<String>,
    /// Contact persons (individual customers' internal ids).
    pub contact_ids: Vec<i64>,
    /// Created at or after.
    pub created_from: Option<i64>,
    /// Created at or before.
    pub created_to: Option<i64>,
    /// VIP flag.
    pub vip: Option<bool>,
    /// Bad flag.
    pub bad: Option<bool>,
    /// Discount card number, exact.
    pub discount_card: Option<String>,
    /// Its companies' legal details.
    pub contragent: ContragentFilter,
    /// Orders count range.
    pub orders_count: (Option<i64>, Option<i64>),
    /// Total spent range.
    pub total_summ: (Option<Decimal>, Option<Decimal>),
    /// Average order total range (one without orders averages 0).
    pub average_summ: (Option<Decimal>, Option<Decimal>),
    /// First order created in this range.
    pub first_order: (Option<i64>, Option<i64>),
    /// Last order created in this range.
    pub last_order: (Option<i64>, Option<i64>),
    /// Custom field conditions.
    pub custom_fields: Vec<crate::orders::CustomFieldCondition>,
    /// The sum of the costs of its orders (test orders aside), its `costSumm`.
    pub cost_summ: (Option<Decimal>, Option<Decimal>),
    /// Set when a condition asks for what torg never records (segments, attachments, …): nothing matches.
    pub nothing: bool,
}

const SELECT: &str = "SELECT k.id, k.site, k.created_at, k.doc,
    (SELECT COUNT(*) FROM orders o WHERE o.corporate_id = k.id AND o.is_test = 0) AS orders_count,
    (SELECT CAST(COALESCE(SUM(o.total_summ), 0) AS BIGINT) FROM orders o WHERE o.corporate_id = k.id AND o.is_test = 0) AS total_summ,
    (SELECT CAST(COALESCE(SUM(o.total_summ - o.purchase_summ), 0) AS BIGINT) FROM orders o WHERE o.corporate_id = k.id AND o.is_test = 0) AS margin_summ,
    (SELECT CAST(COALESCE(SUM(x.summ), 0) AS BIGINT) FROM costs x JOIN orders o ON o.id = x.order_id
     WHERE o.corporate_id = k.id AND o.is_test = 0) AS cost_summ
    FROM corporate_customers k";

fn corporate_from_row(r: &db::Row) -> StoreResult<(CorporateCustomer, CustomerStats)> {
    let doc: String = r.try_get("doc")?;
    let mut c: CorporateCustomer = serde_json::from_str(&doc).unwrap_or_default();
    c.id = r.try_get("id")?;
    c.site = r.try_get("site")?;
    c.created_at = r.try_get("created_at")?;
    let stats = CustomerStats {
        orders_count: r.try_get("orders_count")?,
        total_summ: from_units(r.try_get("total_summ")?),
        margin_summ: from_units(r.try_get("margin_summ")?),
        cost_summ: from_units(r.try_get("cost_summ")?),
        is_contact: false,
    };
    Ok((c, stats))
}

/// A company found by INN and its corporate customer: the company's id, document, address and
/// creation, then the corporate customer's id, site, external id and document.
type InnRow = (i64, String, Option<i64>, i64, i64, String, Option<String>, String);

fn not_found() -> StoreError {
    DomainError::NotFound("customer_corporate".into()).into()
}

/// A record about to be written to a corporate customer's history.
pub(crate) struct CorporateRecord {
    pub created: bool,
    pub deleted: bool,
    pub change: Option<Change>,
    /// The address, company or contact the record is about.
    pub item: Option<Value>,
}

impl CorporateRecord {
    fn change(change: Change, item: Option<Value>) -> Self {
        CorporateRecord { created: false, deleted: false, change: Some(change), item }
    }
}

impl Store {
    /// Takes the corporate write lock (PostgreSQL; SQLite has one writer anyway).
    pub(crate) async fn corporate_write_lock(&self, tx: &mut Tx) -> StoreResult<()> {
        if self.backend() == Backend::Postgres {
            db::query(CORPORATE_LOCK).execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Writes history records of corporate customer `id` in the write's transaction; `entity` is what
    /// the records keep of it.
    pub(crate) async fn write_corporate_history(
        &self,
        tx: &mut Tx,
        id: i64,
        entity: &Value,
        actor: Actor,
        now: i64,
        records: &[CorporateRecord],
    ) -> StoreResult<()> {
        let user = match actor {
            Actor::User(u) => u,
            _ => None,
        };
        let entity = entity.to_string();
        for r in records {
            db::query(
                "INSERT INTO corporate_history (corporate_id, created_at, source, api_key_id, user_id, created, deleted,
                 field, old_value, new_value, entity, item) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(id)
            .bind(now)
            .bind(actor.source())
            .bind(actor.api_key_id())
            .bind(user)
            .bind(i64::from(r.created))
            .bind(i64::from(r.deleted))
            .bind(r.change.as_ref().map(|c| c.field.clone()))
            .bind(r.change.as_ref().map(|c| c.old_value.to_string()))
            .bind(r.change.as_ref().map(|c| c.new_value.to_string()))
            .bind(&entity)
            .bind(r.item.as_ref().map(Value::to_string))
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }

    /// The id and site of the corporate customer a lookup names, inside a write.
    pub(crate) async fn corporate_id_in(
        &self,
        tx: &mut Tx,
        lookup: &CustomerLookup,
        sites: &[String],
    ) -> StoreResult<i64> {
        let row: Option<(i64, String)> = match lookup {
            CustomerLookup::Id(id) => {
                db::query_as("SELECT id, site FROM corporate_customers WHERE id = $1")
                    .bind(*id)
                    .fetch_optional(&mut **tx)
                    .await?
            }
            CustomerLookup::ExternalId { site, external_id } => {
                db::query_as("SELECT id, site FROM corporate_customers WHERE site = $1 AND external_id = $2")
                    .bind(site)
                    .bind(external_id)
                    .fetch_optional(&mut **tx)
                    .await?
            }
        };
        match row {
            Some((id, site)) if sites.contains(&site) => Ok(id),
            _ => Err(not_found()),
        }
    }

    async fn load_corporate_in(&self, tx: &mut Tx, id: i64) -> StoreResult<CorporateCustomer> {
        let row = db::query(format!("{SELECT} WHERE k.id = $1")).bind(id).fetch_one(&mut **tx).await?;
        Ok(corporate_from_row(&row)?.0)
    }

    /// Checks a corporate customer's manager and custom field values inside a write.
    async fn check_corporate_refs(&self, tx: &mut Tx, c: &mut CorporateCustomer) -> StoreResult<()> {
        let books = self.books_in(tx).await?;
        let mut errors = torg_domain::FieldErrors::new();
        books.check_custom_fields("customer_corporate", &mut c.custom_fields, &mut errors);
        if !errors.is_empty() {
            return Err(DomainError::Invalid(errors).into());
        }
        if let Some(m) = c.manager_id {
            self.check_user_in(tx, m, corporate::MANAGER_AT).await?;
        }
        Ok(())
    }

    /// Writes the corporate customer's row (insert when its id is 0); returns its id.
    async fn write_corporate_row(&self, tx: &mut Tx, c: &CorporateCustomer, now: i64) -> StoreResult<i64> {
        let doc = serde_json::to_string(c).unwrap_or_default();
        let card = c.attrs.get("discountCardNumber").and_then(Value::as_str).map(str::to_owned);
        let id = if c.id == 0 {
            db::query_scalar(
                "INSERT INTO corporate_customers (site, external_id, manager_id, vip, bad, discount_card, created_at,
                 updated_at, doc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            )
            .bind(&c.site)
            .bind(&c.external_id)
            .bind(c.manager_id)
            .bind(i64::from(c.vip))
            .bind(i64::from(c.bad))
            .bind(card)
            .bind(c.created_at)
            .bind(now)
            .bind(doc)
            .fetch_one(&mut **tx)
            .await
            .map_err(|e| StoreError::unique_as(e, corporate::external_id_taken))?
        } else {
            db::query(
                "UPDATE corporate_customers SET external_id = $1, manager_id = $2, vip = $3, bad = $4, discount_card = $5,
                 updated_at = $6, doc = $7 WHERE id = $8",
            )
            .bind(&c.external_id)
            .bind(c.manager_id)
            .bind(i64::from(c.vip))
            .bind(i64::from(c.bad))
            .bind(card)
            .bind(now)
            .bind(doc)
            .bind(c.id)
            .execute(&mut **tx)
            .await
            .map_err(|e| StoreError::unique_as(e, corporate::external_id_taken))?;
            c.id
        };
        write_custom_fields(tx, ("corporate_custom_fields", "corporate_id"), id, &c.custom_fields, false).await?;
        Ok(id)
    }

    /// Rewrites what the list filters read of corporate customer `id` (its search text and facets)
    /// from its document, companies and addresses.
    pub(crate) async fn refresh_corporate_search(&self, tx: &mut Tx, id: i64) -> StoreResult<()> {
        let (doc,): (String,) =
            db::query_as("SELECT doc FROM corporate_customers WHERE id = $1").bind(id).fetch_one(&mut **tx).await?;
        let doc: Map<String, Value> = serde_json::from_str(&doc).unwrap_or_default();
        let companies: Vec<(String, String)> =
            db::query_as("SELECT name, doc FROM corporate_companies WHERE corporate_id = $1")
                .bind(id)
                .fetch_all(&mut **tx)
                .await?;
        let addresses: Vec<(String,)> = db::query_as("SELECT doc FROM corporate_addresses WHERE corporate_id = $1")
            .bind(id)
            .fetch_all(&mut **tx)
            .await?;
        let parse = |s: &str| serde_json::from_str::<Map<String, Value>>(s).unwrap_or_default();
        let company_docs: Vec<_> = companies.iter().map(|(_, d)| parse(d)).collect();
        let address_docs: Vec<_> = addresses.iter().map(|(d,)| parse(d)).collect();
        let mut search = doc.get("nickName").and_then(Value::as_str).unwrap_or_default().to_lowercase();
        for (name, _) in &companies {
            search.push('\n');
            search.push_str(&name.to_lowercase());
        }
        db::query("UPDATE corporate_customers SET search = $1 WHERE id = $2")
            .bind(search)
            .bind(id)
            .execute(&mut **tx)
            .await?;
        let facets = facets::corporate_facets(&doc, &company_docs, &address_docs);
        self.write_facets(tx, Owner::Corporate, id, &facets, false).await
    }

    /// Creates a corporate customer inside `tx` with the addresses, companies and contacts its
    /// document names, and its history records.
    async fn create_corporate_in(
        &self,
        tx: &mut Tx,
        site: &str,
        input: &Map<String, Value>,
        actor: Actor,
        now: i64,
    ) -> StoreResult<CorporateCustomer> {
        let mut c = CorporateCustomer::from_input(site, input)?;
        if c.created_at == 0 {
            c.created_at = now;
        }
        self.check_corporate_refs(tx, &mut c).await?;
        c.id = self.write_corporate_row(tx, &c, now).await?;
        let snapshot = corporate_snapshot(&c);
        let created = CorporateRecord { created: true, deleted: false, change: None, item: None };
        self.write_corporate_history(tx, c.id, &snapshot, actor, now, &[created]).await?;
        let stub = corporate_stub(&c);
        for (i, a) in list_member(input, "addresses")?.iter().enumerate() {
            self.add_address_in(tx, c.id, &stub, a, &corporate::address_at(i), actor, now).await?;
        }
        for (i, m) in list_member(input, "companies")?.iter().enumerate() {
            self.add_company_in(tx, c.id, &stub, m, &corporate::company_at(i), actor, now).await?;
        }
        for (i, m) in list_member(input, "customerContacts")?.iter().enumerate() {
            self.add_contact_in(tx, c.id, site, &stub, m, &corporate::contact_at(i), actor, now).await?;
        }
        self.refresh_corporate_search(tx, c.id).await?;
        Ok(c)
    }

    /// Creates a corporate customer (with the addresses, companies and contacts its document names).
    pub async fn create_corporate(
        &self,
        site: &str,
        input: &Map<String, Value>,
        actor: Actor,
    ) -> StoreResult<CorporateCustomer> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        self.corporate_write_lock(&mut tx).await?;
        let c = self.create_corporate_in(&mut tx, site, input, actor, now).await?;
        tx.commit().await?;
        Ok(c)
    }

    /// Creates up to 50 corporate customers, each on its own: those that fail are reported, the others stay.
    pub async fn upload_corporate(
        &self,
        site: &str,
        inputs: &[Map<String, Value>],
        actor: Actor,
    ) -> StoreResult<UploadOutcome> {
        let mut out = UploadOutcome::default();
        for input in inputs {
            out.record(input, self.create_corporate(site, input, actor).await.map(|c| (c.id, c.external_id)))?;
        }
        Ok(out)
    }

    /// Changes the given fields of a corporate customer on `sites` (its addresses, companies and
    /// contacts change through their own methods).
    pub async fn edit_corporate(
        &self,
        lookup: &CustomerLookup,
        input: &Map<String, Value>,
        actor: Actor,
        sites: &[String],
    ) -> StoreResult<CorporateCustomer> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        self.corporate_write_lock(&mut tx).await?;
        let id = self.corporate_id_in(&mut tx, lookup, sites).await?;
        let old = self.load_corporate_in(&mut tx, id).await?;
        let mut new = old.patched(input)?;
        self.check_corporate_refs(&mut tx, &mut new).await?;
        self.save_corporate_change(&mut tx, &old, &new, actor, now).await?;
        tx.commit().await?;
        Ok(new)
    }

    async fn save_corporate_change(
        &self,
        tx: &mut Tx,
        old: &CorporateCustomer,
        new: &CorporateCustomer,
        actor: Actor,
        now: i64,
    ) -> StoreResult<()> {
        let changes = diff_docs(&json!(old), &json!(new));
        if changes.is_empty() {
            return Ok(());
        }
        self.write_corporate_row(tx, new, now).await?;
        self.refresh_corporate_search(tx, new.id).await?;
        let records: Vec<_> = changes.into_iter().map(|c| CorporateRecord::change(c, None)).collect();
        self.write_corporate_history(tx, new.id, &corporate_stub(new), actor, now, &records).await
    }

    /// Sets external ids by internal id, all or nothing.
    pub async fn fix_corporate_external_ids(
        &self,
        pairs: &[(i64, String)],
        sites: &[String],
        actor: Actor,
    ) -> StoreResult<()> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        self.corporate_write_lock(&mut tx).await?;
        for (i, (id, ext)) in pairs.iter().enumerate() {
            let Ok(id) = self.corporate_id_in(&mut tx, &CustomerLookup::Id(*id), sites).await else {
                return Err(corporate::unknown_id_at(i, *id).into());
            };
            let old = self.load_corporate_in(&mut tx, id).await?;
            let mut new = old.clone();
            new.external_id = Some(ext.clone());
            self.save_corporate_change(&mut tx, &old, &new, actor, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// One corporate customer with everything that belongs to it.
    pub async fn get_corporate(&self, lookup: &CustomerLookup) -> StoreResult<Option<CorporateView>> {
        let mut q = Sql::new(SELECT);
        match lookup {
            CustomerLookup::Id(id) => q.push(" WHERE k.id = ").bind(Arg::Int(*id)),
            CustomerLookup::ExternalId { site, external_id } => q
                .push(" WHERE k.site = ")
                .bind(Arg::Text(site.clone()))
                .push(" AND k.external_id = ")
                .bind(Arg::Text(external_id.clone())),
        };
        let Some(row) = q.query().fetch_optional(self.reader()).await? else { return Ok(None) };
        let found = corporate_from_row(&row)?;
        Ok(self.corporate_views(vec![found]).await?.pop())
    }

    /// Adds the addresses, companies and contacts of each corporate customer, in three queries.
    async fn corporate_views(&self, rows: Vec<(CorporateCustomer, CustomerStats)>) -> StoreResult<Vec<CorporateView>> {
        let ids: Vec<i64> = rows.iter().map(|(c, _)| c.id).collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut addresses = self.addresses_of(&ids).await?;
        let mut companies = self.companies_of(&ids).await?;
        let mut contacts = self.contacts_of(&ids).await?;
        Ok(rows
            .into_iter()
            .map(|(customer, stats)| CorporateView {
                addresses: addresses.remove(&customer.id).unwrap_or_default(),
                companies: companies.remove(&customer.id).unwrap_or_default(),
                contacts: contacts.remove(&customer.id).unwrap_or_default(),
                customer,
                stats,
            })
            .collect())
    }

    /// A page of corporate customers and the size of the filtered set.
    pub async fn list_corporate(
        &self,
        f: &CorporateFilter,
        page: PageRequest,
    ) -> StoreResult<(Vec<CorporateView>, u64)> {
        let mut wh = Sql::new(" WHERE k.site IN ");
        wh.bind_list(text_args(&f.sites));
        if f.nothing {
            wh.push(" AND 1 = 0");
        }
        any_of(&mut wh, "k.id", f.ids.iter().copied().map(Arg::Int).collect());
        any_of(&mut wh, "k.external_id", text_args(&f.external_ids));
        any_of(&mut wh, "k.manager_id", f.managers.iter().copied().map(Arg::Int).collect());
        if let Some(name) = &f.name {
            wh.push(" AND k.search LIKE ").bind(Arg::Text(contains_pattern(&name.to_lowercase()))).push(" ESCAPE '\\'");
        }
        facets::facet_like(&mut wh, Owner::Corporate, "k.id", "city", f.city.as_ref());
        facets::facet_like(&mut wh, Owner::Corporate, "k.id", "region", f.region.as_ref());
        facets::facet_eq(&mut wh, Owner::Corporate, "k.id", "discount_card", f.discount_card.as_ref());
        facets::contragent(&mut wh, Owner::Corporate, "k.id", &f.contragent);
        if let Some(email) = &f.email {
            wh.push(
                " AND k.id IN (SELECT cc.corporate_id FROM corporate_contacts cc JOIN customers cu ON cu.id = cc.customer_id
                 WHERE cu.email = ",
            )
            .bind(Arg::Text(email.to_lowercase()))
            .push(")");
        }
        if !f.contact_ids.is_empty() {
            wh.push(" AND k.id IN (SELECT corporate_id FROM corporate_contacts WHERE customer_id IN ")
                .bind_list(f.contact_ids.iter().copied().map(Arg::Int))
                .push(")");
        }
        if let Some(n) = &f.notes {
            wh.push(" AND k.id IN (SELECT corporate_id FROM corporate_notes WHERE text_lower LIKE ")
                .bind(Arg::Text(contains_pattern(&n.to_lowercase())))
                .push(" ESCAPE '\\')");
        }
        facets::manager_groups(&mut wh, "k.manager_id", &f.manager_groups);
        for (op, v) in [(">=", f.created_from), ("<=", f.created_to)] {
            if let Some(t) = v {
                wh.push(&format!(" AND k.created_at {op} ")).bind(Arg::Int(t));
            }
        }
        if let Some(v) = f.vip {
            wh.push(" AND k.vip = ").bind(Arg::Int(i64::from(v)));
        }
        if let Some(v) = f.bad {
            wh.push(" AND k.bad = ").bind(Arg::Int(i64::from(v)));
        }
        let orders = "FROM orders o WHERE o.corporate_id = k.id AND o.is_test = 0";
        let count = format!("(SELECT COUNT(*) {orders})");
        let sum = format!("(SELECT CAST(COALESCE(SUM(o.total_summ), 0) AS BIGINT) {orders})");
        let avg = format!("(SELECT CAST(COALESCE(AVG(o.total_summ), 0) AS BIGINT) {orders})");
        for (expr, (min, max)) in [(&count, f.orders_count)] {
            for (op, v) in [(">=", min), ("<=", max)] {
                if let Some(v) = v {
                    wh.push(&format!(" AND {expr} {op} ")).bind(Arg::Int(v));
                }
            }
        }
        let cost = "(SELECT CAST(COALESCE(SUM(x.summ), 0) AS BIGINT) FROM costs x JOIN orders o ON o.id = x.order_id
            WHERE o.corporate_id = k.id AND o.is_test = 0)"
            .to_string();
        for (expr, (min, max)) in [(&sum, f.total_summ), (&avg, f.average_summ), (&cost, f.cost_summ)] {
            for (op, v) in [(">=", min), ("<=", max)] {
                if let Some(v) = v {
                    wh.push(&format!(" AND {expr} {op} ")).bind(Arg::Int(to_units(v)));
                }
            }
        }
        for (agg, (from, to)) in [("MIN", f.first_order), ("MAX", f.last_order)] {
            for (op, v) in [(">=", from), ("<=", to)] {
                if let Some(t) = v {
                    wh.push(&format!(" AND (SELECT {agg}(o.created_at) {orders}) {op} ")).bind(Arg::Int(t));
                }
            }
        }
        crate::orders::push_custom_field_conditions(
            &mut wh,
            "corporate_custom_fields",
            "corporate_id",
            "k.id",
            &f.custom_fields,
        );
        let (total,): (i64,) =
            wh.with_prefix("SELECT COUNT(*) FROM corporate_customers k").query_as().fetch_one(self.reader()).await?;
        let mut list = wh.with_prefix(SELECT);
        list.push(" ORDER BY k.id");
        crate::sql::page(&mut list, page.limit, page.offset());
        let rows = list.query().fetch_all(self.reader()).await?;
        let rows = rows.iter().map(corporate_from_row).collect::<StoreResult<Vec<_>>>()?;
        Ok((self.corporate_views(rows).await?, u64::try_from(total).unwrap_or(0)))
    }

    /// A page of corporate customer history in number order, of corporate customers on `filter.sites`
    /// (and of those combined into others from them).
    pub async fn corporate_history(
        &self,
        filter: &HistoryFilter,
        contact_ids: &[i64],
        page: PageRequest,
    ) -> StoreResult<(Vec<HistoryRecord>, u64)> {
        let mut wh = Sql::new(" WHERE (h.corporate_id IN (SELECT id FROM corporate_customers WHERE site IN ");
        wh.bind_list(text_args(&filter.sites))
            .push(
                ") OR h.corporate_id IN (SELECT old_id FROM combined_entities WHERE entity = 'customer_corporate' AND site IN ",
            )
            .bind_list(text_args(&filter.sites))
            .push("))");
        if let Some(id) = filter.since_id {
            wh.push(" AND h.id > ").bind(Arg::Int(id));
        }
        if let Some(t) = filter.start {
            wh.push(" AND h.created_at >= ").bind(Arg::Int(t));
        }
        if let Some(t) = filter.end {
            wh.push(" AND h.created_at <= ").bind(Arg::Int(t));
        }
        if let Some(id) = filter.entity_id {
            wh.push(" AND h.corporate_id = ").bind(Arg::Int(id));
        }
        if let Some(ext) = &filter.entity_external_id {
            // External ids are unique per site: the look-up is the index's (site, external_id).
            wh.push(" AND (h.corporate_id IN (SELECT id FROM corporate_customers WHERE site IN ")
                .bind_list(text_args(&filter.sites))
                .push(" AND external_id = ")
                .bind(Arg::Text(ext.clone()))
                .push(
                    ") OR h.corporate_id IN (SELECT old_id FROM combined_entities WHERE entity = 'customer_corporate'
                     AND old_external_id = ",
                )
                .bind(Arg::Text(ext.clone()))
                .push("))");
        }
        if !contact_ids.is_empty() {
            wh.push(" AND h.corporate_id IN (SELECT corporate_id FROM corporate_contacts WHERE customer_id IN ")
                .bind_list(contact_ids.iter().copied().map(Arg::Int))
                .push(")");
        }
        let (total,): (i64,) =
            wh.with_prefix("SELECT COUNT(*) FROM corporate_history h").query_as().fetch_one(self.reader()).await?;
        let mut list = wh.with_prefix(
            "SELECT h.id, h.created_at, h.source, h.api_key_id, h.user_id, h.created, h.deleted, h.field, h.old_value,
             h.new_value, h.entity, h.item FROM corporate_history h",
        );
        list.push(" ORDER BY h.id");
        crate::sql::page(&mut list, page.limit, page.offset());
        let rows = list.query().fetch_all(self.reader()).await?;
        let records = rows
            .iter()
            .map(|r| crate::history::record_from_row(r, true, Some("item")))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok((records, u64::try_from(total).unwrap_or(0)))
    }

    /// Combines corporate customers `sources` into `result` in one transaction: their addresses,
    /// companies, contacts, notes, orders and the keys acting for them move to the result, and they are
    /// deleted. A moved address or company whose external id the result already uses loses it; a
    /// contact the result already has is dropped; what moves is never main. All must be on `sites`.
    pub async fn combine_corporate(
        &self,
        sources: &[i64],
        result: i64,
        actor: Actor,
        sites: &[String],
    ) -> StoreResult<()> {
        torg_domain::combine::check_corporates_distinct(sources, result)?;
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        self.corporate_write_lock(&mut tx).await?;
        let Ok(result) = self.corporate_id_in(&mut tx, &CustomerLookup::Id(result), sites).await else {
            return Err(torg_domain::combine::unknown_result_corporate(result).into());
        };
        for (i, id) in sources.iter().enumerate() {
            if self.corporate_id_in(&mut tx, &CustomerLookup::Id(*id), sites).await.is_err() {
                return Err(torg_domain::combine::unknown_source_corporate(i, *id).into());
            }
        }
        let into = self.load_corporate_in(&mut tx, result).await?;
        for &id in sources {
            let gone = self.load_corporate_in(&mut tx, id).await?;
            for table in ["corporate_addresses", "corporate_companies"] {
                let clashing: Vec<(i64, String)> = db::query_as(format!(
                    "SELECT id, doc FROM {table} WHERE corporate_id = $1 AND external_id IN
                     (SELECT external_id FROM {table} WHERE corporate_id = $2 AND external_id IS NOT NULL)"
                ))
                .bind(id)
                .bind(result)
                .fetch_all(&mut *tx)
                .await?;
                for (member, doc) in clashing {
                    let mut doc: Map<String, Value> = serde_json::from_str(&doc).unwrap_or_default();
                    doc.remove("externalId");
                    db::query(format!("UPDATE {table} SET external_id = NULL, doc = $1 WHERE id = $2"))
                        .bind(Value::Object(doc).to_string())
                        .bind(member)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            db::query(
                "DELETE FROM corporate_contacts WHERE corporate_id = $1 AND customer_id IN
                 (SELECT customer_id FROM corporate_contacts WHERE corporate_id = $2)",
            )
            .bind(id)
            .bind(result)
            .execute(&mut *tx)
            .await?;
            for sql in [
                "UPDATE corporate_addresses SET corporate_id = $1, is_main = 0 WHERE corporate_id = $2",
                "UPDATE corporate_companies SET corporate_id = $1, is_main = 0 WHERE corporate_id = $2",
                "UPDATE corporate_contacts SET corporate_id = $1, is_main = 0 WHERE corporate_id = $2",
                "UPDATE corporate_notes SET corporate_id = $1 WHERE corporate_id = $2",
                "UPDATE orders SET corporate_id = $1 WHERE corporate_id = $2",
                "UPDATE api_keys SET corporate_id = $1 WHERE corporate_id = $2",
            ] {
                db::query(sql).bind(result).bind(id).execute(&mut *tx).await?;
            }
            for table in ["corporate_custom_fields", "corporate_facets"] {
                db::query(format!("DELETE FROM {table} WHERE corporate_id = $1")).bind(id).execute(&mut *tx).await?;
            }
            db::query("DELETE FROM corporate_customers WHERE id = $1").bind(id).execute(&mut *tx).await?;
            self.note_combined(&mut tx, "customer_corporate", &gone.site, id, gone.external_id.as_deref(), result, now)
                .await?;
            let mut stub = corporate_stub(&gone);
            stub["combinedTo"] = json!({ "id": into.id, "externalId": into.external_id });
            let deleted = CorporateRecord { created: false, deleted: true, change: None, item: None };
            self.write_corporate_history(&mut tx, id, &stub, actor, now, &[deleted]).await?;
        }
        // Each kind of member keeps one main one: the result's own.
        for table in ["corporate_addresses", "corporate_companies", "corporate_contacts"] {
            members::ensure_main(&mut tx, table, result).await?;
        }
        self.refresh_corporate_search(&mut tx, result).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The company whose taxpayer number is `inn`, with its corporate customer: an active one before an
    /// inactive one, a main one before the others, then the oldest. What the billing face's legal
    /// customers are matched by.
    pub async fn company_by_inn(&self, inn: &str) -> StoreResult<Option<CompanyOfInn>> {
        let inn = inn.trim();
        if inn.is_empty() {
            return Ok(None);
        }
        let row: Option<InnRow> = db::query_as(
            "SELECT m.id, m.doc, m.address_id, m.created_at, m.corporate_id, k.site, k.external_id, k.doc
             FROM corporate_companies m JOIN corporate_customers k ON k.id = m.corporate_id
             WHERE m.inn = $1 ORDER BY m.active DESC, m.is_main DESC, m.id LIMIT 1",
        )
        .bind(inn)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.map(|(id, doc, address_id, created_at, corporate_id, site, corporate_external_id, corporate_doc)| {
            let mut company: Company = serde_json::from_str(&doc).unwrap_or_default();
            company.id = id;
            company.address_id = address_id;
            company.created_at = created_at;
            let corporate: CorporateCustomer = serde_json::from_str(&corporate_doc).unwrap_or_default();
            CompanyOfInn { company, corporate_id, corporate_external_id, corporate_name: corporate.nick_name, site }
        }))
    }

    /// Corporate customers by id with their external ids and sites: what orders and keys show of them.
    pub(crate) async fn corporate_refs(
        &self,
        conn: &mut crate::db::Conn,
        ids: &[i64],
    ) -> StoreResult<HashMap<i64, (Option<String>, String, String)>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let mut q = Sql::new("SELECT id, external_id, site, doc FROM corporate_customers WHERE id IN ");
        q.bind_list(ids.iter().copied().map(Arg::Int));
        let rows: Vec<(i64, Option<String>, String, String)> = q.query_as().fetch_all(conn).await?;
        Ok(rows
            .into_iter()
            .map(|(id, ext, site, doc)| {
                let c: CorporateCustomer = serde_json::from_str(&doc).unwrap_or_default();
                (id, (ext, site, c.nick_name))
            })
            .collect())
    }
}

/// The whole corporate customer as a history `created` record keeps it.
fn corporate_snapshot(c: &CorporateCustomer) -> Value {
    let mut v = json!(c);
    v["id"] = json!(c.id);
    v["site"] = json!(c.site);
    v["createdAt"] = json!(c.created_at);
    v
}

/// What later history records keep of the corporate customer.
pub(crate) fn corporate_stub(c: &CorporateCustomer) -> Value {
    json!({ "id": c.id, "externalId": c.external_id, "site": c.site, "nickName": c.nick_name })
}

/// A contact as its own rows keep it.
pub(crate) fn contact_stub(c: &CorporateContact) -> Value {
    json!({ "id": c.id, "customer": { "id": c.customer_id }, "isMain": c.is_main, "companies": c.companies })
}
