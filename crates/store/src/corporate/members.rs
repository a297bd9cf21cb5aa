//! What belongs to a corporate customer: its addresses, companies and contacts. Each kind keeps
//! exactly one main member once it has any; every change is a history record of the corporate
//! customer carrying the member in its `item`.

use super::{CorporateRecord, contact_stub, corporate_stub, not_found};
use crate::customers::CustomerLookup;
use crate::sql::{Arg, Sql, any_of, contains_pattern, text_args};
use crate::{Store, StoreError, StoreResult, Tx, db, flag};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use torg_domain::DomainError;
use torg_domain::corporate::{
    self, Company, CorporateAddress, CorporateContact, EntityRef, contact_is_main, list_member,
};
use torg_domain::history::{Actor, Change, diff_docs};
use torg_domain::page::PageRequest;

/// Which members a list shows; empty lists and `None` do not filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemberFilter {
    /// Internal ids (of contacts: of the individual customers).
    pub ids: Vec<i64>,
    /// External ids (of contacts: of the individual customers).
    pub external_ids: Vec<String>,
    /// Substring of the name, any case (addresses and companies).
    pub name: Option<String>,
    /// Substring of the city, any case (addresses).
    pub city: Option<String>,
    /// Substring of the region, any case (addresses).
    pub region: Option<String>,
}

/// A contact with what the API shows of its customer and companies.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContactView {
    /// The contact.
    pub contact: CorporateContact,
    /// The individual customer's external id.
    pub customer_external_id: Option<String>,
    /// The individual customer's site.
    pub site: String,
    /// (id, external id, name) of each company the contact acts for.
    pub companies: Vec<(i64, Option<String>, String)>,
}

/// Makes the lowest member of `corporate_id` in `table` main when none is.
pub(crate) async fn ensure_main(tx: &mut Tx, table: &str, corporate_id: i64) -> StoreResult<()> {
    let mains: i64 = db::query_scalar(format!("SELECT COUNT(*) FROM {table} WHERE corporate_id = $1 AND is_main = 1"))
        .bind(corporate_id)
        .fetch_one(&mut **tx)
        .await?;
    if mains > 1 {
        db::query(format!(
            "UPDATE {table} SET is_main = 0 WHERE corporate_id = $1 AND is_main = 1 AND id <> (SELECT MIN(id) FROM {table}
             WHERE corporate_id = $1 AND is_main = 1)"
        ))
        .bind(corporate_id)
        .execute(&mut **tx)
        .await?;
    } else if mains == 0 {
        db::query(format!(
            "UPDATE {table} SET is_main = 1 WHERE id = (SELECT MIN(id) FROM {table} WHERE corporate_id = $1)"
        ))
        .bind(corporate_id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Clears the other members' main flag when `id` is made main.
async fn take_main(tx: &mut Tx, table: &str, corporate_id: i64, id: i64, is_main: bool) -> StoreResult<()> {
    if is_main {
        db::query(format!("UPDATE {table} SET is_main = 0 WHERE corporate_id = $1 AND id <> $2"))
            .bind(corporate_id)
            .bind(id)
            .execute(&mut **tx)
            .await?;
    }
    ensure_main(tx, table, corporate_id).await
}

/// The `isMain` of a member as stored (which [`ensure_main`] may have set).
async fn is_main_now(tx: &mut Tx, table: &str, id: i64) -> StoreResult<bool> {
    let v: i64 =
        db::query_scalar(format!("SELECT is_main FROM {table} WHERE id = $1")).bind(id).fetch_one(&mut **tx).await?;
    Ok(flag(v))
}

fn address_stub(a: &CorporateAddress) -> Value {
    json!({ "id": a.id, "externalId": a.external_id, "name": a.name })
}

fn company_stub(c: &Company) -> Value {
    json!({ "id": c.id, "externalId": c.external_id, "name": c.name })
}

/// History records of a member's change: `prefix.field` for each changed field.
fn member_changes(prefix: &str, old: &Value, new: &Value, item: &Value) -> Vec<CorporateRecord> {
    diff_docs(old, new)
        .into_iter()
        .map(|mut c| {
            c.field = format!("{prefix}.{}", c.field);
            CorporateRecord::change(c, Some(item.clone()))
        })
        .collect()
}

/// The record of a member added.
fn member_added(field: &str, item: Value) -> CorporateRecord {
    let change = Change { field: field.into(), old_value: Value::Null, new_value: item.clone(), item: None };
    CorporateRecord::change(change, Some(item))
}

fn parse_address(id: i64, is_main: i64, doc: &str) -> CorporateAddress {
    let mut a: CorporateAddress = serde_json::from_str(doc).unwrap_or_default();
    a.id = id;
    a.is_main = flag(is_main);
    a
}

type CompanyRow = (i64, i64, i64, Option<i64>, i64, String);

fn parse_company((id, _, is_main, address_id, created_at, doc): CompanyRow) -> Company {
    let mut c: Company = serde_json::from_str(&doc).unwrap_or_default();
    c.id = id;
    c.is_main = flag(is_main);
    c.address_id = address_id;
    c.created_at = created_at;
    c
}

const COMPANY_COLUMNS: &str = "m.id, m.corporate_id, m.is_main, m.address_id, m.created_at, m.doc";

impl Store {
    // ---- addresses ----

    /// Adds an address to corporate customer `corporate_id` inside a write; `path` prefixes error names.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn add_address_in(
        &self,
        tx: &mut Tx,
        corporate_id: i64,
        stub: &Value,
        input: &Map<String, Value>,
        path: &str,
        actor: Actor,
        now: i64,
    ) -> StoreResult<i64> {
        let mut given = input.clone();
        given.remove("id");
        let mut a = CorporateAddress::default().patched(&given, path)?;
        a.id = db::query_scalar(
            "INSERT INTO corporate_addresses (corporate_id, external_id, name, is_main, city, region, doc)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(corporate_id)
        .bind(&a.external_id)
        .bind(&a.name)
        .bind(i64::from(a.is_main))
        .bind(a.part_lower("city"))
        .bind(a.part_lower("region"))
        .bind(json!(a).to_string())
        .fetch_one(&mut **tx)
        .await
        .map_err(|e| StoreError::unique_as(e, || corporate::address_external_id_taken(path)))?;
        take_main(tx, "corporate_addresses", corporate_id, a.id, a.is_main).await?;
        let record = member_added("address", address_stub(&a));
        self.write_corporate_history(tx, corporate_id, stub, actor, now, &[record]).await?;
        Ok(a.id)
    }

    async fn address_in(&self, tx: &mut Tx, corporate_id: i64, r: &EntityRef) -> StoreResult<Option<CorporateAddress>> {
        let mut q = Sql::new("SELECT id, is_main, doc FROM corporate_addresses WHERE corporate_id = ");
        q.bind(Arg::Int(corporate_id));
        match r {
            EntityRef::Id(id) => q.push(" AND id = ").bind(Arg::Int(*id)),
            EntityRef::ExternalId(e) => q.push(" AND external_id = ").bind(Arg::Text(e.clone())),
        };
        let row: Option<(i64, i64, String)> = q.query_as().fetch_optional(&mut **tx).await?;
        Ok(row.map(|(id, main, doc)| parse_address(id, main, &doc)))
    }

    /// Adds an address to the corporate customer a lookup names (on `sites`); returns its id.
    pub async fn create_corporate_address(
        &self,
        lookup: &CustomerLookup,
        sites: &[String],
        input: &Map<String, Value>,
        actor: Actor,
    ) -> StoreResult<i64> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        self.corporate_write_lock(&mut tx).await?;
        let corporate = self.corporate_id_in(&mut tx, lookup, sites).await?;
        let stub = corporate_stub(&self.load_corporate_in(&mut tx, corporate).await?);
        let id = self.add_address_in(&mut tx, corporate, &stub, input, "", actor, now).await?;
        self.refresh_corporate_search(&mut tx, corporate).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Changes the given fields of an address of the corporate customer a lookup names; returns its id.
    pub async fn edit_corporate_address(
        &self,
        lookup: &CustomerLookup,
        sites: &[String],
        address: &EntityRef,
        input: &Map<String, Value>,
        actor: Actor,
    ) -> StoreResult<i64> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        self.corporate_write_lock(&mut tx).await?;
        let corporate = self.corporate_id_in(&mut tx, lookup, sites).await?;
        let old = self.address_in(&mut tx, corporate, address).await?.ok_or_else(member_not_found)?;
        let mut given = input.clone();
        if matches!(address, EntityRef::ExternalId(_)) {
            // The path names the address by this external id; the body repeats it.
            given.remove("externalId");
        }
        let mut new = old.patched(&given, "")?;
        db::query(
            "UPDATE corporate_addresses SET external_id = $1, name = $2, is_main = $3, city = $4, region = $5, doc = $6
             WHERE id = $7",
        )
        .bind(&new.external_id)
        .bind(&new.name)
        .bind(i64::from(new.is_main))
        .bind(new.part_lower("city"))
        .bind(new.part_lower("region"))
        .bind(json!(new).to_string())
        .bind(old.id)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::unique_as(e, || corporate::address_external_id_taken("")))?;
        take_main(&mut tx, "corporate_addresses", corporate, old.id, new.is_main && !old.is_main).await?;
        new.is_main = is_main_now(&mut tx, "corporate_addresses", old.id).await?;
        let stub = corporate_stub(&self.load_corporate_in(&mut tx, corporate).await?);
        let records = member_changes("address", &json!(old), &json!(new), &address_stub(&new));
        self.write_corporate_history(&mut tx, corporate, &stub, actor, now, &records).await?;
        self.refresh_corporate_search(&mut tx, corporate).await?;
        tx.commit().await?;
        Ok(old.id)
    }

    /// A page of the addresses of the corporate customer a lookup names, main first.
    pub async fn corporate_addresses(
        &self,
        lookup: &CustomerLookup,
        sites: &[String],
        f: &MemberFilter,
        page: PageRequest,
    ) -> StoreResult<(Vec<CorporateAddress>, u64)> {
        let corporate = self.visible_corporate(lookup, sites).await?;
        let mut wh = Sql::new(" WHERE corporate_id = ");
        wh.bind(Arg::Int(corporate));
        any_of(&mut wh, "id", f.ids.iter().copied().map(Arg::Int).collect());
        any_of(&mut wh, "external_id", text_args(&f.external_ids));
        if let Some(n) = &f.name {
            // Names are few and short: compared in any case here, as SQLite's lower() folds ASCII only.
            wh.push(" AND LOWER(name) LIKE ").bind(Arg::Text(contains_pattern(&n.to_lowercase()))).push(" ESCAPE '\\'");
        }
        for (column, v) in [("city", &f.city), ("region", &f.region)] {
            if let Some(v) = v {
                wh.push(&format!(" AND {column} LIKE "))
                    .bind(Arg::Text(contains_pattern(&v.to_lowercase())))
                    .push(" ESCAPE '\\'");
            }
        }
        let (total,): (i64,) =
            wh.with_prefix("SELECT COUNT(*) FROM corporate_addresses").query_as().fetch_one(self.reader()).await?;
        let mut q = wh.with_prefix("SELECT id, is_main, doc FROM corporate_addresses");
        q.push(" ORDER BY is_main DESC, id");
        crate::sql::page(&mut q, page.limit, page.offset());
        let rows: Vec<(i64, i64, String)> = q.query_as().fetch_all(self.reader()).await?;
        let list = rows.iter().map(|(id, main, doc)| parse_address(*id, *main, doc)).collect();
        Ok((list, u64::try_from(total).unwrap_or(0)))
    }

    /// The addresses of each of these corporate customers, main first.
    pub(crate) async fn addresses_of(&self, ids: &[i64]) -> StoreResult<HashMap<i64, Vec<CorporateAddress>>> {
        let mut q = Sql::new("SELECT corporate_id, id, is_main, doc FROM corporate_addresses WHERE corporate_id IN ");
        q.bind_list(ids.iter().copied().map(Arg::Int)).push(" ORDER BY is_main DESC, id");
        let rows: Vec<(i64, i64, i64, String)> = q.query_as().fetch_all(self.reader()).await?;
        let mut out: HashMap<i64, Vec<CorporateAddress>> = HashMap::new();
        for (owner, id, main, doc) in rows {
            out.entry(owner).or_default().push(parse_address(id, main, &doc));
        }
        Ok(out)
    }

    // ---- companies ----

    /// Resolves a company's `address` (`{id | externalId}`) among the corporate customer's addresses.
    async fn company_address(
        &self,
        tx: &mut Tx,
        corporate_id: i64,
        input: &Map<String, Value>,
        path: &str,
    ) -> StoreResult<Option<Option<i64>>> {
        let r = match corporate::company_address_ref(input, path)? {
            None => return Ok(None),
            Some(None) => return Ok(Some(None)),
            Some(Some(r)) => r,
        };
        match self.address_in(tx, corporate_id, &r).await? {
            Some(a) => Ok(Some(Some(a.id))),
            None => Err(corporate::unknown_address(path, &r).into()),
        }
    }

    async fn check_company_fields(&self, tx: &mut Tx, c: &mut Company, path: &str) -> StoreResult<()> {
        let books = self.books_in(tx).await?;
        let mut errors = torg_domain::FieldErrors::new();
        books.check_custom_fields("company", &mut c.custom_fields, &mut errors);
        Ok(corporate::check_fields_at(path, errors)?)
    }

    /// Adds a company to corporate customer `corporate_id` inside a write; `path` prefixes error names.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn add_company_in(
        &self,
        tx: &mut Tx,
        corporate_id: i64,
        stub: &Value,
        input: &Map<String, Value>,
        path: &str,
        actor: Actor,
        now: i64,
    ) -> StoreResult<i64> {
        let mut given = input.clone();
        given.remove("id");
        let mut c = Company::from_input(&given, path)?;
        c.address_id = self.company_address(tx, corporate_id, input, path).await?.flatten();
        c.created_at = now;
        self.check_company_fields(tx, &mut c, path).await?;
        c.id = db::query_scalar(
            "INSERT INTO corporate_companies (corporate_id, external_id, name, is_main, active, inn, address_id, created_at,
             doc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(corporate_id)
        .bind(&c.external_id)
        .bind(&c.name)
        .bind(i64::from(c.is_main))
        .bind(i64::from(c.active))
        .bind(c.inn().map(str::to_owned))
        .bind(c.address_id)
        .bind(now)
        .bind(json!(c).to_string())
        .fetch_one(&mut **tx)
        .await
        .map_err(|e| StoreError::unique_as(e, || corporate::company_external_id_taken(path)))?;
        take_main(tx, "corporate_companies", corporate_id, c.id, c.is_main).await?;
        let record = member_added("company", company_stub(&c));
        self.write_corporate_history(tx, corporate_id, stub, actor, now, &[record]).await?;
        Ok(c.id)
    }

    async fn company_in(&self, tx: &mut Tx, corporate_id: i64, r: &EntityRef) -> StoreResult<Option<Company>> {
        let mut q = Sql::new(&format!("SELECT {COMPANY_COLUMNS} FROM corporate_companies m WHERE m.corporate_id = "));
        q.bind(Arg::Int(corporate_id));
        match r {
            EntityRef::Id(id) => q.push(" AND m.id = ").bind(Arg::Int(*id)),
            EntityRef::ExternalId(e) => q.push(" AND m.external_id = ").bind(Arg::Text(e.clone())),
        };
        let row: Option<CompanyRow> = q.query_as().fetch_optional(&mut **tx).await?;
        Ok(row.map(parse_company))
    }

    /// Adds a company to the corporate customer a lookup names (on `sites`); returns its id.
    pub async fn create_corporate_company(
        &self,
        lookup: &CustomerLookup,
        sites: &[String],
        input: &Map<String, Value>,
        actor: Actor,
    ) -> StoreResult<i64> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        self.corporate_write_lock(&mut tx).await?;
        let corporate = self.corporate_id_in(&mut tx, lookup, sites).await?;
        let stub = corporate_stub(&self.load_corporate_in(&mut tx, corporate).await?);
        let id = self.add_company_in(&mut tx, corporate, &stub, input, "", actor, now).await?;
        self.refresh_corporate_search(&mut tx, corporate).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Changes the given fields of a company of the corporate customer a lookup names; returns its id.
    pub async fn edit_corporate_company(
        &self,
        lookup: &CustomerLookup,
        sites: &[String],
        company: &EntityRef,
        input: &Map<String, Value>,
        actor: Actor,
    ) -> StoreResult<i64> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        self.corporate_write_lock(&mut tx).await?;
        let corporate = self.corporate_id_in(&mut tx, lookup, sites).await?;
        let old = self.company_in(&mut tx, corporate, company).await?.ok_or_else(member_not_found)?;
        let mut given = input.clone();
        if matches!(company, EntityRef::ExternalId(_)) {
            given.remove("externalId");
        }
        let mut new = old.patched(&given, "")?;
        if let Some(address) = self.company_address(&mut tx, corporate, input, "").await? {
            new.address_id = address;
        }
        self.check_company_fields(&mut tx, &mut new, "").await?;
        db::query(
            "UPDATE corporate_companies SET external_id = $1, name = $2, is_main = $3, active = $4, inn = $5,
             address_id = $6, doc = $7 WHERE id = $8",
        )
        .bind(&new.external_id)
        .bind(&new.name)
        .bind(i64::from(new.is_main))
        .bind(i64::from(new.active))
        .bind(new.inn().map(str::to_owned))
        .bind(new.address_id)
        .bind(json!(new).to_string())
        .bind(old.id)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::unique_as(e, || corporate::company_external_id_taken("")))?;
        take_main(&mut tx, "corporate_companies", corporate, old.id, new.is_main && !old.is_main).await?;
        new.is_main = is_main_now(&mut tx, "corporate_companies", old.id).await?;
        let stub = corporate_stub(&self.load_corporate_in(&mut tx, corporate).await?);
        let with_address = |c: &Company| {
            let mut v = json!(c);
            v["address"] = json!(c.address_id);
            v
        };
        let records = member_changes("company", &with_address(&old), &with_address(&new), &company_stub(&new));
        self.write_corporate_history(&mut tx, corporate, &stub, actor, now, &records).await?;
        self.refresh_corporate_search(&mut tx, corporate).await?;
        tx.commit().await?;
        Ok(old.id)
    }

    /// A page of the companies of the corporate customer a lookup names, main first.
    pub async fn corporate_companies(
        &self,
        lookup: &CustomerLookup,
        sites: &[String],
        f: &MemberFilter,
        page: PageRequest,
    ) -> StoreResult<(Vec<Company>, u64)> {
        let corporate = self.visible_corporate(lookup, sites).await?;
        let mut wh = Sql::new(" WHERE m.corporate_id = ");
        wh.bind(Arg::Int(corporate));
        any_of(&mut wh, "m.id", f.ids.iter().copied().map(Arg::Int).collect());
        any_of(&mut wh, "m.external_id", text_args(&f.external_ids));
        if let Some(n) = &f.name {
            wh.push(" AND LOWER(m.name) LIKE ")
                .bind(Arg::Text(contains_pattern(&n.to_lowercase())))
                .push(" ESCAPE '\\'");
        }
        let (total,): (i64,) =
            wh.with_prefix("SELECT COUNT(*) FROM corporate_companies m").query_as().fetch_one(self.reader()).await?;
        let mut q = wh.with_prefix(&format!("SELECT {COMPANY_COLUMNS} FROM corporate_companies m"));
        q.push(" ORDER BY m.is_main DESC, m.id");
        crate::sql::page(&mut q, page.limit, page.offset());
        let rows: Vec<CompanyRow> = q.query_as().fetch_all(self.reader()).await?;
        Ok((rows.into_iter().map(parse_company).collect(), u64::try_from(total).unwrap_or(0)))
    }

    /// The companies of each of these corporate customers, main first.
    pub(crate) async fn companies_of(&self, ids: &[i64]) -> StoreResult<HashMap<i64, Vec<Company>>> {
        let mut q = Sql::new(&format!("SELECT {COMPANY_COLUMNS} FROM corporate_companies m WHERE m.corporate_id IN "));
        q.bind_list(ids.iter().copied().map(Arg::Int)).push(" ORDER BY m.is_main DESC, m.id");
        let rows: Vec<CompanyRow> = q.query_as().fetch_all(self.reader()).await?;
        let mut out: HashMap<i64, Vec<Company>> = HashMap::new();
        for row in rows {
            out.entry(row.1).or_default().push(parse_company(row));
        }
        Ok(out)
    }

    /// Companies by id.
    pub(crate) async fn companies_by_id(
        &self,
        conn: &mut crate::db::Conn,
        ids: &[i64],
    ) -> StoreResult<HashMap<i64, Company>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let mut q = Sql::new(&format!("SELECT {COMPANY_COLUMNS} FROM corporate_companies m WHERE m.id IN "));
        q.bind_list(ids.iter().copied().map(Arg::Int));
        let rows: Vec<CompanyRow> = q.query_as().fetch_all(conn).await?;
        Ok(rows.into_iter().map(|r| (r.0, parse_company(r))).collect())
    }

    // ---- contacts ----

    /// Resolves a contact's `companies` (`[{id | externalId}]` or `[{company: {id | externalId}}]`).
    async fn contact_companies(
        &self,
        tx: &mut Tx,
        corporate_id: i64,
        list: &[Map<String, Value>],
        path: &str,
    ) -> StoreResult<Vec<i64>> {
        let mut out = Vec::new();
        for (i, m) in list.iter().enumerate() {
            let r = corporate::contact_company_ref(m, path, i)?;
            match self.company_in(tx, corporate_id, &r).await? {
                Some(c) if !out.contains(&c.id) => out.push(c.id),
                Some(_) => {}
                None => return Err(corporate::unknown_contact_company(path, i, &r).into()),
            }
        }
        Ok(out)
    }

    /// The individual customer a contact names (`customer: {id | externalId}`), on `site` for an external id.
    async fn contact_customer(
        &self,
        tx: &mut Tx,
        input: &Map<String, Value>,
        site: &str,
        path: &str,
    ) -> StoreResult<i64> {
        let (r, named_site) = corporate::contact_customer_ref(input, path)?;
        let lookup = match &r {
            EntityRef::Id(id) => CustomerLookup::Id(*id),
            EntityRef::ExternalId(e) => {
                CustomerLookup::ExternalId { site: named_site.unwrap_or(site).into(), external_id: e.clone() }
            }
        };
        match self.customer_id_in(tx, &lookup).await? {
            Some(id) => Ok(id),
            None => Err(corporate::unknown_contact_customer(path, &r).into()),
        }
    }

    /// Adds a contact to corporate customer `corporate_id` (on `site`) inside a write.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn add_contact_in(
        &self,
        tx: &mut Tx,
        corporate_id: i64,
        site: &str,
        stub: &Value,
        input: &Map<String, Value>,
        path: &str,
        actor: Actor,
        now: i64,
    ) -> StoreResult<i64> {
        let is_main = contact_is_main(input, path)?.unwrap_or(false);
        let customer_id = self.contact_customer(tx, input, site, path).await?;
        let companies = self.contact_companies(tx, corporate_id, &list_member(input, "companies")?, path).await?;
        let id: i64 = db::query_scalar(
            "INSERT INTO corporate_contacts (corporate_id, customer_id, is_main, companies) VALUES ($1, $2, $3, $4)
             RETURNING id",
        )
        .bind(corporate_id)
        .bind(customer_id)
        .bind(i64::from(is_main))
        .bind(json!(companies).to_string())
        .fetch_one(&mut **tx)
        .await
        .map_err(|e| StoreError::unique_as(e, || corporate::contact_taken(path)))?;
        take_main(tx, "corporate_contacts", corporate_id, id, is_main).await?;
        let contact = CorporateContact { id, customer_id, is_main, companies };
        let record = member_added("customer_contact", contact_stub(&contact));
        self.write_corporate_history(tx, corporate_id, stub, actor, now, &[record]).await?;
        Ok(id)
    }

    /// Makes an individual customer a contact of the corporate customer a lookup names; returns the
    /// customer's id.
    pub async fn create_corporate_contact(
        &self,
        lookup: &CustomerLookup,
        sites: &[String],
        input: &Map<String, Value>,
        actor: Actor,
    ) -> StoreResult<i64> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        self.corporate_write_lock(&mut tx).await?;
        let corporate = self.corporate_id_in(&mut tx, lookup, sites).await?;
        let c = self.load_corporate_in(&mut tx, corporate).await?;
        let id = self.add_contact_in(&mut tx, corporate, &c.site, &corporate_stub(&c), input, "", actor, now).await?;
        let (customer,): (i64,) = db::query_as("SELECT customer_id FROM corporate_contacts WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(customer)
    }

    /// Changes a contact (named by its individual customer) of the corporate customer a lookup names:
    /// `isMain` and `companies`. Returns the customer's id.
    pub async fn edit_corporate_contact(
        &self,
        lookup: &CustomerLookup,
        sites: &[String],
        customer: &EntityRef,
        input: &Map<String, Value>,
        actor: Actor,
    ) -> StoreResult<i64> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        self.corporate_write_lock(&mut tx).await?;
        let corporate = self.corporate_id_in(&mut tx, lookup, sites).await?;
        let c = self.load_corporate_in(&mut tx, corporate).await?;
        let mut q = Sql::new(
            "SELECT cc.id, cc.customer_id, cc.is_main, cc.companies FROM corporate_contacts cc
             JOIN customers cu ON cu.id = cc.customer_id WHERE cc.corporate_id = ",
        );
        q.bind(Arg::Int(corporate));
        match customer {
            EntityRef::Id(id) => q.push(" AND cu.id = ").bind(Arg::Int(*id)),
            EntityRef::ExternalId(e) => q.push(" AND cu.external_id = ").bind(Arg::Text(e.clone())),
        };
        let row: Option<(i64, i64, i64, String)> = q.query_as().fetch_optional(&mut *tx).await?;
        let Some((id, customer_id, main, companies)) = row else { return Err(member_not_found()) };
        let old = CorporateContact {
            id,
            customer_id,
            is_main: flag(main),
            companies: serde_json::from_str(&companies).unwrap_or_default(),
        };
        let mut new = old.clone();
        if let Some(m) = contact_is_main(input, "")? {
            new.is_main = m;
        }
        if input.contains_key("companies") {
            new.companies = self.contact_companies(&mut tx, corporate, &list_member(input, "companies")?, "").await?;
        }
        db::query("UPDATE corporate_contacts SET is_main = $1, companies = $2 WHERE id = $3")
            .bind(i64::from(new.is_main))
            .bind(json!(new.companies).to_string())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        take_main(&mut tx, "corporate_contacts", corporate, id, new.is_main && !old.is_main).await?;
        new.is_main = is_main_now(&mut tx, "corporate_contacts", id).await?;
        let as_doc = |x: &CorporateContact| json!({ "isMain": x.is_main, "companies": x.companies });
        let records = member_changes("customer_contact", &as_doc(&old), &as_doc(&new), &contact_stub(&new));
        self.write_corporate_history(&mut tx, corporate, &corporate_stub(&c), actor, now, &records).await?;
        tx.commit().await?;
        Ok(customer_id)
    }

    /// A page of the contacts of the corporate customer a lookup names, main first; the filter's ids
    /// and external ids are the individual customers'.
    pub async fn corporate_contacts(
        &self,
        lookup: &CustomerLookup,
        sites: &[String],
        f: &MemberFilter,
        page: PageRequest,
    ) -> StoreResult<(Vec<ContactView>, u64)> {
        let corporate = self.visible_corporate(lookup, sites).await?;
        let mut wh = Sql::new(" WHERE cc.corporate_id = ");
        wh.bind(Arg::Int(corporate));
        any_of(&mut wh, "cu.id", f.ids.iter().copied().map(Arg::Int).collect());
        any_of(&mut wh, "cu.external_id", text_args(&f.external_ids));
        let from = " FROM corporate_contacts cc JOIN customers cu ON cu.id = cc.customer_id";
        let (total,): (i64,) =
            wh.with_prefix(&format!("SELECT COUNT(*){from}")).query_as().fetch_one(self.reader()).await?;
        let mut q = wh.with_prefix(&format!(
            "SELECT cc.corporate_id, cc.id, cc.customer_id, cc.is_main, cc.companies, cu.external_id, cu.site{from}"
        ));
        q.push(" ORDER BY cc.is_main DESC, cc.id");
        crate::sql::page(&mut q, page.limit, page.offset());
        let rows: Vec<ContactRow> = q.query_as().fetch_all(self.reader()).await?;
        let views = self.contact_views(rows).await?;
        Ok((views.into_values().flatten().collect(), u64::try_from(total).unwrap_or(0)))
    }

    /// The contacts of each of these corporate customers, main first.
    pub(crate) async fn contacts_of(&self, ids: &[i64]) -> StoreResult<HashMap<i64, Vec<ContactView>>> {
        let mut q = Sql::new(
            "SELECT cc.corporate_id, cc.id, cc.customer_id, cc.is_main, cc.companies, cu.external_id, cu.site
             FROM corporate_contacts cc JOIN customers cu ON cu.id = cc.customer_id WHERE cc.corporate_id IN ",
        );
        q.bind_list(ids.iter().copied().map(Arg::Int)).push(" ORDER BY cc.is_main DESC, cc.id");
        let rows: Vec<ContactRow> = q.query_as().fetch_all(self.reader()).await?;
        self.contact_views(rows).await
    }

    async fn contact_views(&self, rows: Vec<ContactRow>) -> StoreResult<HashMap<i64, Vec<ContactView>>> {
        let mut wanted: Vec<i64> = Vec::new();
        let mut parsed = Vec::with_capacity(rows.len());
        for (owner, id, customer_id, main, companies, ext, site) in rows {
            let companies: Vec<i64> = serde_json::from_str(&companies).unwrap_or_default();
            wanted.extend(&companies);
            let contact = CorporateContact { id, customer_id, is_main: flag(main), companies };
            parsed.push((owner, ContactView { contact, customer_external_id: ext, site, companies: Vec::new() }));
        }
        let mut names: HashMap<i64, (Option<String>, String)> = HashMap::new();
        if !wanted.is_empty() {
            let mut q = Sql::new("SELECT id, external_id, name FROM corporate_companies WHERE id IN ");
            q.bind_list(wanted.iter().copied().map(Arg::Int));
            let rows: Vec<(i64, Option<String>, String)> = q.query_as().fetch_all(self.reader()).await?;
            names = rows.into_iter().map(|(id, ext, name)| (id, (ext, name))).collect();
        }
        let mut out: HashMap<i64, Vec<ContactView>> = HashMap::new();
        for (owner, mut view) in parsed {
            view.companies = view
                .contact
                .companies
                .iter()
                .filter_map(|id| names.get(id).map(|(ext, name)| (*id, ext.clone(), name.clone())))
                .collect();
            out.entry(owner).or_default().push(view);
        }
        Ok(out)
    }

    /// The id of the corporate customer a lookup names, on `sites`, outside a write.
    async fn visible_corporate(&self, lookup: &CustomerLookup, sites: &[String]) -> StoreResult<i64> {
        let mut q = Sql::new("SELECT id, site FROM corporate_customers");
        match lookup {
            CustomerLookup::Id(id) => q.push(" WHERE id = ").bind(Arg::Int(*id)),
            CustomerLookup::ExternalId { site, external_id } => q
                .push(" WHERE site = ")
                .bind(Arg::Text(site.clone()))
                .push(" AND external_id = ")
                .bind(Arg::Text(external_id.clone())),
        };
        let row: Option<(i64, String)> = q.query_as().fetch_optional(self.reader()).await?;
        match row {
            Some((id, site)) if sites.contains(&site) => Ok(id),
            _ => Err(not_found()),
        }
    }
}

type ContactRow = (i64, i64, i64, i64, String, Option<String>, String);

/// An address, company or contact the path names that the corporate customer does not have.
fn member_not_found() -> StoreError {
    DomainError::NotFound("member".into()).into()
}
