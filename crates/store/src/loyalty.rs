//! Loyalty programmes, accounts and bonus operations.
//!
//! Bonuses are kept as lots: every credit is a lot alive from its activation to its expiry, charges
//! take from the lots alive at that moment (the one expiring first first), and an account's balance is
//! what its live lots still hold at the time of reading. Expiry thus needs no background job: an
//! expired lot simply stops counting. Every write is one transaction; on PostgreSQL the account's row is
//! locked so two charges never spend the same bonuses.

use crate::counts::Counted;
use crate::db;
use crate::orders::OrderLookup;
use crate::sql::{Arg, Sql, any_of, text_args};
use crate::{Backend, Store, StoreResult, Tx, flag, json_map, json_text};
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use std::collections::HashMap;
use torg_domain::DomainError;
use torg_domain::history::{Actor, diff_orders};
use torg_domain::loyalty::{
    self as rules, AccountPatch, BonusOperation, Level, Loyalty, LoyaltyAccount, LoyaltyDefinition, op,
};
use torg_domain::money::{from_units, to_units};
use torg_domain::order::{CustomerRef, Order, OrderLoyaltyAccount};
use torg_domain::page::{PageRequest, Pagination};

/// Which programmes a list shows.
#[derive(Debug, Clone, Default)]
pub struct LoyaltyFilter {
    /// Ids.
    pub ids: Vec<i64>,
    /// Sites.
    pub sites: Vec<String>,
    /// Running or not.
    pub active: Option<bool>,
    /// Blocked or not.
    pub blocked: Option<bool>,
}

/// Which accounts a list shows.
#[derive(Debug, Clone, Default)]
pub struct AccountFilter {
    /// Ids.
    pub ids: Vec<i64>,
    /// Programme ids.
    pub loyalties: Vec<i64>,
    /// Sites.
    pub sites: Vec<String>,
    /// Activated (`Some(true)`) or not confirmed.
    pub active: Option<bool>,
    /// Customer id.
    pub customer_id: Option<i64>,
    /// Customer external id.
    pub customer_external_id: Option<String>,
    /// Phone number, exact.
    pub phone_number: Option<String>,
    /// Card number, exact.
    pub card_number: Option<String>,
    /// Level id.
    pub level: Option<i64>,
    /// Paid orders' sum range.
    pub orders_sum: (Option<Decimal>, Option<Decimal>),
    /// Balance range.
    pub amount: (Option<Decimal>, Option<Decimal>),
    /// Created at or after / before (Unix seconds).
    pub created: (Option<i64>, Option<i64>),
    /// Unspent bonuses burning (expiring) at or after / before (Unix seconds), both ends on one lot.
    pub burn: (Option<i64>, Option<i64>),
    /// Conditions on the account's custom fields (`customFields[code]`).
    pub custom_fields: Vec<crate::orders::CustomFieldCondition>,
    /// Custom fields the account must have a value for (Go's `customFields[]`, a list of codes).
    pub with_custom_fields: Vec<String>,
}

/// Whether an account's custom fields meet the filter's conditions: values compare as text in any
/// case (a list value meets a condition when one of its items does), bounds as numbers.
fn custom_fields_match(fields: &Map<String, Value>, f: &AccountFilter) -> bool {
    use crate::orders::CustomFieldCondition as C;
    fn texts(v: Option<&Value>) -> Vec<String> {
        match v {
            Some(Value::String(s)) => vec![s.trim().to_lowercase()],
            Some(Value::Number(n)) => vec![n.to_string()],
            Some(Value::Bool(b)) => vec![if *b { "1" } else { "0" }.to_string(), b.to_string()],
            Some(Value::Array(a)) => a.iter().flat_map(|x| texts(Some(x))).collect(),
            _ => Vec::new(),
        }
    }
    let number = |code: &str| texts(fields.get(code)).first().and_then(|t| t.replace(',', ".").parse::<Decimal>().ok());
    f.with_custom_fields.iter().all(|code| !texts(fields.get(code)).iter().all(String::is_empty))
        && f.custom_fields.iter().all(|c| match c {
            C::OneOf(code, wanted) => {
                let have = texts(fields.get(code));
                wanted.iter().any(|w| have.contains(&w.trim().to_lowercase()))
            }
            C::Min(code, min) => number(code).is_some_and(|n| n >= *min),
            C::Max(code, max) => number(code).is_some_and(|n| n <= *max),
        })
}

/// What `loyalty/calculate` answers for an order.
#[derive(Debug, Clone, PartialEq)]
pub struct LoyaltyQuote {
    /// The programme.
    pub loyalty: Loyalty,
    /// The customer's account.
    pub account: LoyaltyAccount,
    /// Most bonuses the order may take.
    pub max_charge: Decimal,
    /// Bonuses taken (those asked, if allowed).
    pub charge: Decimal,
    /// Bonuses the order would earn once paid.
    pub credit: Decimal,
    /// The order's sum before bonuses.
    pub summ: Decimal,
}

/// Which bonuses `bonus/{status}/details` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BonusStatus {
    /// Credited but not yet spendable.
    WaitingActivation,
    /// Spendable and with an expiry date.
    BurnSoon,
}

const LOYALTY_SELECT: &str = "SELECT id, site, name, currency, active, blocked, expiry_days, max_charge_percent, \
     created_at, activated_at FROM loyalties";

const OPERATION_SELECT: &str = "SELECT b.id, b.account_id, b.loyalty_id, b.type, b.amount, b.created_at, \
     b.activation_at, b.expire_at, b.order_id, o.external_id AS order_external_id, b.comment \
     FROM bonus_operations b LEFT JOIN orders o ON o.id = b.order_id";

/// SQL for the live balance of account `a` at the instant bound as `now` (appended by the caller).
fn balance_sql(q: &mut Sql, now: i64) {
    q.push("(SELECT CAST(COALESCE(SUM(l.remaining), 0) AS BIGINT) FROM bonus_operations l WHERE l.account_id = a.id")
        .push(" AND l.remaining > 0 AND l.activation_at <= ")
        .bind(Arg::Int(now))
        .push(" AND (l.expire_at IS NULL OR l.expire_at > ")
        .bind(Arg::Int(now))
        .push("))");
}

fn not_found(what: &str) -> crate::StoreError {
    DomainError::NotFound(what.into()).into()
}

fn loyalty_from_row(r: &db::Row) -> StoreResult<Loyalty> {
    Ok(Loyalty {
        id: r.try_get("id")?,
        site: r.try_get("site")?,
        name: r.try_get("name")?,
        currency: r.try_get("currency")?,
        active: flag(r.try_get("active")?),
        blocked: flag(r.try_get("blocked")?),
        expiry_days: r.try_get("expiry_days")?,
        max_charge_percent: from_units(r.try_get("max_charge_percent")?),
        created_at: r.try_get("created_at")?,
        activated_at: r.try_get("activated_at")?,
        levels: Vec::new(),
    })
}

fn account_from_row(r: &db::Row) -> StoreResult<LoyaltyAccount> {
    let fields: String = r.try_get("custom_fields")?;
    Ok(LoyaltyAccount {
        id: r.try_get("id")?,
        loyalty_id: r.try_get("loyalty_id")?,
        customer_id: r.try_get("customer_id")?,
        customer_external_id: r.try_get("customer_external_id")?,
        site: r.try_get("site")?,
        phone_number: r.try_get("phone_number")?,
        card_number: r.try_get("card_number")?,
        custom_fields: json_map(&fields),
        active: flag(r.try_get("active")?),
        created_at: r.try_get("created_at")?,
        activated_at: r.try_get("activated_at")?,
        orders_sum: from_units(r.try_get("orders_sum")?),
        amount: from_units(r.try_get("amount")?),
    })
}

fn operation_from_row(r: &db::Row) -> StoreResult<BonusOperation> {
    Ok(BonusOperation {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        loyalty_id: r.try_get("loyalty_id")?,
        kind: r.try_get("type")?,
        amount: from_units(r.try_get("amount")?),
        created_at: r.try_get("created_at")?,
        activation_at: r.try_get("activation_at")?,
        expire_at: r.try_get("expire_at")?,
        order_id: r.try_get("order_id")?,
        order_external_id: r.try_get("order_external_id")?,
        comment: r.try_get("comment")?,
    })
}

/// An account query with its balance as `amount`, rows filtered by what the caller appends.
fn account_query(now: i64) -> Sql {
    let mut q = Sql::new("SELECT * FROM (SELECT a.*, c.external_id AS customer_external_id, ");
    balance_sql(&mut q, now);
    q.push(" AS amount FROM loyalty_accounts a JOIN customers c ON c.id = a.customer_id) a WHERE 1 = 1");
    q
}

/// The running programme of each of `sites` that has one, as (site, programme id): a site's newest
/// active, unblocked programme.
/// Two columns an order read adds (the order's alias is `o`) so that showing the orders needs no
/// statement of its own for their loyalty credits unless a programme runs: what the order was credited
/// (`credited`, NULL if nothing) and its site's running programme (`running_loyalty`, NULL if none),
/// the same as [`Store::order_credits`] and [`running_loyalties`] would read.
pub(crate) static CREDIT_HINT_COLUMNS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "(SELECT CAST(SUM(b.amount) AS BIGINT) FROM bonus_operations b WHERE b.order_id = o.id AND b.type = '{}' \
         AND b.reversed_by IS NULL) AS credited, \
         (SELECT MAX(l.id) FROM loyalties l WHERE l.site = o.site AND l.active = 1 AND l.blocked = 0) AS running_loyalty",
        op::CREDIT_FOR_ORDER
    )
});

/// What the columns of [`CREDIT_HINT_COLUMNS`] said of a set of orders.
#[derive(Debug, Default, Clone)]
pub(crate) struct CreditHints {
    /// What each order credited (orders with no credit are absent).
    credited: HashMap<i64, Decimal>,
    /// Each site's running programme (sites with none are absent).
    running: HashMap<String, i64>,
}

impl CreditHints {
    /// Takes the hint columns of an order's row.
    pub(crate) fn add(&mut self, order_id: i64, site: &str, r: &db::Row) -> StoreResult<()> {
        if let Some(units) = r.try_get::<Option<i64>, _>("credited")? {
            self.credited.insert(order_id, from_units(units));
        }
        if let Some(id) = r.try_get::<Option<i64>, _>("running_loyalty")? {
            self.running.insert(site.to_owned(), id);
        }
        Ok(())
    }
}

async fn running_loyalties(conn: &mut db::Conn, sites: &[&str]) -> StoreResult<Vec<(String, i64)>> {
    let mut q = Sql::new("SELECT site, MAX(id) FROM loyalties WHERE active = 1 AND blocked = 0 AND site IN ");
    q.bind_list(sites.iter().map(|s| Arg::Text((*s).to_owned()))).push(" GROUP BY site");
    Ok(q.query_as().fetch_all(conn).await?)
}

impl Store {
    /// Stores a new programme for a site that exists, running from now.
    pub async fn define_loyalty(&self, d: &LoyaltyDefinition) -> StoreResult<Loyalty> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        let site: Option<(i64,)> =
            db::query_as("SELECT id FROM sites WHERE code = $1").bind(&d.site).fetch_optional(&mut *tx).await?;
        if site.is_none() {
            return Err(rules::unknown_site(&d.site).into());
        }
        let id: i64 = db::query_scalar(
            "INSERT INTO loyalties (site, name, currency, active, blocked, expiry_days, max_charge_percent, created_at,
             activated_at) VALUES ($1, $2, $3, 1, 0, $4, $5, $6, $6) RETURNING id",
        )
        .bind(&d.site)
        .bind(d.name.trim())
        .bind(d.currency.to_uppercase())
        .bind(d.expiry_days)
        .bind(to_units(d.max_charge_percent))
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let mut levels = d.levels.clone();
        levels.sort_by_key(|a| a.sum);
        for l in &levels {
            db::query(
                "INSERT INTO loyalty_levels (loyalty_id, name, threshold, privilege_size) VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(l.name.trim())
            .bind(to_units(l.sum))
            .bind(to_units(l.percent))
            .execute(&mut *tx)
            .await?;
        }
        let loyalty = self.loyalty_in(&mut tx, id).await?.ok_or_else(|| not_found("loyalty"))?;
        tx.commit().await?;
        Ok(loyalty)
    }

    async fn levels_of(&self, conn: &mut db::Conn, loyalty: &mut Loyalty) -> StoreResult<()> {
        let rows: Vec<(i64, String, i64, i64)> = db::query_as(
            "SELECT id, name, threshold, privilege_size FROM loyalty_levels WHERE loyalty_id = $1 ORDER BY threshold, id",
        )
        .bind(loyalty.id)
        .fetch_all(&mut *conn)
        .await?;
        loyalty.levels = rows
            .into_iter()
            .map(|(id, name, sum, size)| Level { id, name, sum: from_units(sum), percent: from_units(size) })
            .collect();
        Ok(())
    }

    async fn loyalty_in(&self, conn: &mut db::Conn, id: i64) -> StoreResult<Option<Loyalty>> {
        let row = db::query(format!("{LOYALTY_SELECT} WHERE id = $1")).bind(id).fetch_optional(&mut *conn).await?;
        let Some(row) = row else { return Ok(None) };
        let mut l = loyalty_from_row(&row)?;
        self.levels_of(conn, &mut l).await?;
        Ok(Some(l))
    }

    /// The running programme of a site (the newest, if several were defined).
    async fn site_loyalty_in(&self, conn: &mut db::Conn, site: &str) -> StoreResult<Option<Loyalty>> {
        match running_loyalties(conn, &[site]).await?.first() {
            Some(&(_, id)) => self.loyalty_in(conn, id).await,
            None => Ok(None),
        }
    }

    /// A page of the programmes on `sites`.
    pub async fn list_loyalties(
        &self,
        f: &LoyaltyFilter,
        sites: &[String],
        page: PageRequest,
    ) -> StoreResult<(Vec<Loyalty>, Pagination)> {
        let mut wh = Sql::new(" WHERE site IN ");
        wh.bind_list(text_args(sites));
        any_of(&mut wh, "id", f.ids.iter().copied().map(Arg::Int).collect());
        any_of(&mut wh, "site", text_args(&f.sites));
        if let Some(a) = f.active {
            wh.push(" AND active = ").bind(Arg::Int(i64::from(a)));
        }
        if let Some(b) = f.blocked {
            wh.push(" AND blocked = ").bind(Arg::Int(i64::from(b)));
        }
        let (total,): (i64,) =
            wh.with_prefix("SELECT COUNT(*) FROM loyalties").query_as().fetch_one(self.reader()).await?;
        let mut q = wh.with_prefix("SELECT id FROM loyalties");
        q.push(" ORDER BY id");
        crate::sql::page(&mut q, page.limit, page.offset());
        let ids: Vec<(i64,)> = q.query_as().fetch_all(self.reader()).await?;
        let mut conn = self.reader().acquire().await?;
        let mut out = Vec::with_capacity(ids.len());
        for (id,) in ids {
            if let Some(l) = self.loyalty_in(&mut conn, id).await? {
                out.push(l);
            }
        }
        Ok((out, page.meta(u64::try_from(total).unwrap_or(0))))
    }

    /// One programme, if it is on one of `sites`.
    pub async fn get_loyalty(&self, id: i64, sites: &[String]) -> StoreResult<Option<Loyalty>> {
        let mut conn = self.reader().acquire().await?;
        Ok(self.loyalty_in(&mut conn, id).await?.filter(|l| sites.contains(&l.site)))
    }

    async fn account_in(
        &self,
        conn: &mut db::Conn,
        id: i64,
        sites: &[String],
        now: i64,
    ) -> StoreResult<Option<LoyaltyAccount>> {
        let mut q = account_query(now);
        q.push(" AND a.id = ").bind(Arg::Int(id)).push(" AND a.site IN ").bind_list(text_args(sites));
        let row = q.query().fetch_optional(&mut *conn).await?;
        row.as_ref().map(account_from_row).transpose()
    }

    /// The account `id` inside a write, its row locked on PostgreSQL.
    async fn account_for_update(
        &self,
        tx: &mut Tx,
        id: i64,
        sites: &[String],
        now: i64,
    ) -> StoreResult<LoyaltyAccount> {
        if self.backend() == Backend::Postgres {
            db::query("SELECT id FROM loyalty_accounts WHERE id = $1 FOR UPDATE")
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?;
        }
        self.account_in(tx, id, sites, now).await?.ok_or_else(|| not_found("loyalty account"))
    }

    /// One account with its programme, if it is on one of `sites`.
    pub async fn get_loyalty_account(
        &self,
        id: i64,
        sites: &[String],
    ) -> StoreResult<Option<(LoyaltyAccount, Loyalty)>> {
        let mut conn = self.reader().acquire().await?;
        let Some(a) = self.account_in(&mut conn, id, sites, torg_domain::time::now()).await? else { return Ok(None) };
        let l = self.loyalty_in(&mut conn, a.loyalty_id).await?.ok_or_else(|| not_found("loyalty"))?;
        Ok(Some((a, l)))
    }

    /// Enrols a customer of `site` in the site's programme; the account waits for activation.
    pub async fn create_loyalty_account(
        &self,
        site: &str,
        customer: &CustomerRef,
        patch: &AccountPatch,
    ) -> StoreResult<(LoyaltyAccount, Loyalty)> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        let loyalty = self.site_loyalty_in(&mut tx, site).await?.ok_or_else(|| rules::no_programme_on(site))?;
        let found: Option<(i64,)> = match customer {
            CustomerRef::Id(id) => {
                db::query_as("SELECT id FROM customers WHERE id = $1 AND site = $2")
                    .bind(*id)
                    .bind(site)
                    .fetch_optional(&mut *tx)
                    .await?
            }
            CustomerRef::ExternalId(e) => {
                db::query_as("SELECT id FROM customers WHERE external_id = $1 AND site = $2")
                    .bind(e)
                    .bind(site)
                    .fetch_optional(&mut *tx)
                    .await?
            }
        };
        let Some((customer_id,)) = found else { return Err(rules::unknown_enrolled_customer().into()) };
        let taken: Option<(i64,)> =
            db::query_as("SELECT id FROM loyalty_accounts WHERE loyalty_id = $1 AND customer_id = $2")
                .bind(loyalty.id)
                .bind(customer_id)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some((other,)) = taken {
            return Err(rules::already_enrolled(other).into());
        }
        let mut account = LoyaltyAccount { site: site.to_string(), ..LoyaltyAccount::default() };
        patch.apply(&mut account);
        let id: i64 = db::query_scalar(
            "INSERT INTO loyalty_accounts (loyalty_id, customer_id, site, phone_number, card_number, custom_fields,
             active, created_at, orders_sum) VALUES ($1, $2, $3, $4, $5, $6, 0, $7, 0) RETURNING id",
        )
        .bind(loyalty.id)
        .bind(customer_id)
        .bind(site)
        .bind(&account.phone_number)
        .bind(&account.card_number)
        .bind(json_text(&account.custom_fields))
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let account =
            self.account_in(&mut tx, id, &[site.to_string()], now).await?.ok_or_else(|| not_found("account"))?;
        tx.commit().await?;
        Ok((account, loyalty))
    }

    /// Changes the given members of an account.
    pub async fn edit_loyalty_account(
        &self,
        id: i64,
        patch: &AccountPatch,
        sites: &[String],
    ) -> StoreResult<(LoyaltyAccount, Loyalty)> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        let mut account = self.account_for_update(&mut tx, id, sites, now).await?;
        patch.apply(&mut account);
        db::query("UPDATE loyalty_accounts SET phone_number = $1, card_number = $2, custom_fields = $3 WHERE id = $4")
            .bind(&account.phone_number)
            .bind(&account.card_number)
            .bind(json_text(&account.custom_fields))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let loyalty = self.loyalty_in(&mut tx, account.loyalty_id).await?.ok_or_else(|| not_found("loyalty"))?;
        tx.commit().await?;
        Ok((account, loyalty))
    }

    /// Activates an account (again: a no-op).
    pub async fn activate_loyalty_account(&self, id: i64, sites: &[String]) -> StoreResult<(LoyaltyAccount, Loyalty)> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        let mut account = self.account_for_update(&mut tx, id, sites, now).await?;
        if !account.active {
            db::query("UPDATE loyalty_accounts SET active = 1, activated_at = $1 WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            account.active = true;
            account.activated_at = Some(now);
        }
        let loyalty = self.loyalty_in(&mut tx, account.loyalty_id).await?.ok_or_else(|| not_found("loyalty"))?;
        tx.commit().await?;
        Ok((account, loyalty))
    }

    /// A page of the accounts on `sites`, oldest first.
    pub async fn list_loyalty_accounts(
        &self,
        f: &AccountFilter,
        sites: &[String],
        page: PageRequest,
    ) -> StoreResult<(Vec<LoyaltyAccount>, Pagination)> {
        let now = torg_domain::time::now();
        let mut wh = account_query(now);
        wh.push(" AND a.site IN ").bind_list(text_args(sites));
        let sites_only = wh.text.len();
        any_of(&mut wh, "a.id", f.ids.iter().copied().map(Arg::Int).collect());
        any_of(&mut wh, "a.loyalty_id", f.loyalties.iter().copied().map(Arg::Int).collect());
        any_of(&mut wh, "a.site", text_args(&f.sites));
        if let Some(a) = f.active {
            wh.push(" AND a.active = ").bind(Arg::Int(i64::from(a)));
        }
        if let Some(c) = f.customer_id {
            wh.push(" AND a.customer_id = ").bind(Arg::Int(c));
        }
        if let Some(e) = &f.customer_external_id {
            wh.push(" AND a.customer_external_id = ").bind(Arg::Text(e.clone()));
        }
        if let Some(p) = &f.phone_number {
            wh.push(" AND a.phone_number = ").bind(Arg::Text(p.clone()));
        }
        if let Some(c) = &f.card_number {
            wh.push(" AND a.card_number = ").bind(Arg::Text(c.clone()));
        }
        for (column, bound) in [
            ("a.orders_sum >= ", f.orders_sum.0),
            ("a.orders_sum <= ", f.orders_sum.1),
            ("a.amount >= ", f.amount.0),
            ("a.amount <= ", f.amount.1),
        ] {
            if let Some(v) = bound {
                wh.push(" AND ").push(column).bind(Arg::Int(to_units(v)));
            }
        }
        for (column, bound) in [("a.created_at >= ", f.created.0), ("a.created_at <= ", f.created.1)] {
            if let Some(v) = bound {
                wh.push(" AND ").push(column).bind(Arg::Int(v));
            }
        }
        if f.burn.0.is_some() || f.burn.1.is_some() {
            wh.push(" AND a.id IN (SELECT b.account_id FROM bonus_operations b WHERE b.remaining > 0 AND b.expire_at IS NOT NULL");
            for (op, bound) in [(">=", f.burn.0), ("<=", f.burn.1)] {
                if let Some(t) = bound {
                    wh.push(&format!(" AND b.expire_at {op} ")).bind(Arg::Int(t));
                }
            }
            wh.push(")");
        }
        let in_rust = f.level.is_some() || !f.custom_fields.is_empty() || !f.with_custom_fields.is_empty();
        let (rows, total) = if in_rust {
            // The level follows from the paid sum and the programme's thresholds, and custom fields
            // are a JSON document whose reading differs per engine: read, then filter.
            wh.push(" ORDER BY a.id");
            let rows = wh.query().fetch_all(self.reader()).await?;
            let mut conn = self.reader().acquire().await?;
            let mut programmes: HashMap<i64, Option<Loyalty>> = HashMap::new();
            let mut matching = Vec::new();
            for r in &rows {
                let a = account_from_row(r)?;
                if let Some(level) = f.level {
                    if let std::collections::hash_map::Entry::Vacant(e) = programmes.entry(a.loyalty_id) {
                        e.insert(self.loyalty_in(&mut conn, a.loyalty_id).await?);
                    }
                    let l = programmes.get(&a.loyalty_id).and_then(Option::as_ref);
                    if l.and_then(|l| l.level_for(a.orders_sum).map(|x| x.id)) != Some(level) {
                        continue;
                    }
                }
                if custom_fields_match(&a.custom_fields, f) {
                    matching.push(a);
                }
            }
            let total = matching.len() as u64;
            let page_rows: Vec<LoyaltyAccount> = matching
                .into_iter()
                .skip(usize::try_from(page.offset()).unwrap_or(usize::MAX))
                .take(page.limit as usize)
                .collect();
            (page_rows, total)
        } else {
            let total = if wh.text.len() == sites_only {
                self.site_count(self.reader(), Counted::LoyaltyAccounts, sites).await?
            } else {
                let mut count = wh.with_prefix("SELECT COUNT(*) FROM (");
                count.push(") t");
                let (n,): (i64,) = count.query_as().fetch_one(self.reader()).await?;
                u64::try_from(n).unwrap_or(0)
            };
            let mut q = wh.clone();
            q.push(" ORDER BY a.id");
            crate::sql::page(&mut q, page.limit, page.offset());
            let rows = q.query().fetch_all(self.reader()).await?;
            (rows.iter().map(account_from_row).collect::<StoreResult<Vec<_>>>()?, total)
        };
        Ok((rows, page.meta(total)))
    }

    /// Inserts an operation; a credit becomes a lot holding its whole amount.
    #[allow(clippy::too_many_arguments)]
    async fn insert_operation(
        &self,
        tx: &mut Tx,
        account: &LoyaltyAccount,
        kind: &str,
        amount: Decimal,
        now: i64,
        life: (Option<i64>, Option<i64>),
        order_id: Option<i64>,
        base: Decimal,
        comment: Option<&str>,
    ) -> StoreResult<i64> {
        let remaining = if op::is_credit(kind) { to_units(amount) } else { 0 };
        let id: i64 = db::query_scalar(
            "INSERT INTO bonus_operations (account_id, loyalty_id, type, amount, remaining, created_at, activation_at,
             expire_at, order_id, base, comment) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(account.id)
        .bind(account.loyalty_id)
        .bind(kind)
        .bind(to_units(amount))
        .bind(remaining)
        .bind(now)
        .bind(life.0)
        .bind(life.1)
        .bind(order_id)
        .bind(to_units(base))
        .bind(comment)
        .fetch_one(&mut **tx)
        .await?;
        Ok(id)
    }

    /// Takes `amount` from the account's live lots, the one expiring first first; the caller has
    /// checked the balance.
    async fn consume(&self, tx: &mut Tx, account_id: i64, amount: Decimal, now: i64) -> StoreResult<()> {
        let lots: Vec<(i64, i64)> = db::query_as(
            "SELECT id, remaining FROM bonus_operations WHERE account_id = $1 AND remaining > 0 AND activation_at <= $2
             AND (expire_at IS NULL OR expire_at > $2)
             ORDER BY CASE WHEN expire_at IS NULL THEN 1 ELSE 0 END, expire_at, id",
        )
        .bind(account_id)
        .bind(now)
        .fetch_all(&mut **tx)
        .await?;
        let mut left = to_units(amount);
        for (id, remaining) in lots {
            if left <= 0 {
                break;
            }
            let take = remaining.min(left);
            db::query("UPDATE bonus_operations SET remaining = remaining - $1 WHERE id = $2")
                .bind(take)
                .bind(id)
                .execute(&mut **tx)
                .await?;
            left -= take;
        }
        Ok(())
    }

    /// Credits bonuses by hand, spendable from `activation` (default now) to `expire` (default the
    /// programme's expiry from the activation).
    pub async fn credit_bonuses(
        &self,
        id: i64,
        amount: Decimal,
        activation: Option<i64>,
        expire: Option<i64>,
        comment: Option<&str>,
        sites: &[String],
    ) -> StoreResult<BonusOperation> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        let account = self.account_for_update(&mut tx, id, sites, now).await?;
        let loyalty = self.usable_loyalty(&mut tx, &account).await?;
        let from = activation.unwrap_or(now);
        let until = expire.or_else(|| loyalty.expiry_from(from));
        rules::check_credit_life(from, until)?;
        let op_id = self
            .insert_operation(
                &mut tx,
                &account,
                op::CREDIT_MANUAL,
                amount,
                now,
                (Some(from), until),
                None,
                Decimal::ZERO,
                comment,
            )
            .await?;
        tx.commit().await?;
        Ok(BonusOperation {
            id: op_id,
            account_id: account.id,
            loyalty_id: account.loyalty_id,
            kind: op::CREDIT_MANUAL.into(),
            amount,
            created_at: now,
            activation_at: Some(from),
            expire_at: until,
            comment: comment.map(str::to_owned),
            ..BonusOperation::default()
        })
    }

    /// The account's programme, if operations may run on it; the account must be active.
    async fn usable_loyalty(&self, tx: &mut Tx, account: &LoyaltyAccount) -> StoreResult<Loyalty> {
        rules::check_account_active(account)?;
        let loyalty = self.loyalty_in(tx, account.loyalty_id).await?.ok_or_else(|| not_found("loyalty"))?;
        rules::check_programme_running(&loyalty)?;
        Ok(loyalty)
    }

    /// Charges bonuses by hand; no more than the live balance.
    pub async fn charge_bonuses(
        &self,
        id: i64,
        amount: Decimal,
        comment: Option<&str>,
        sites: &[String],
    ) -> StoreResult<()> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        let account = self.account_for_update(&mut tx, id, sites, now).await?;
        self.usable_loyalty(&mut tx, &account).await?;
        rules::check_charge(&account, amount)?;
        self.consume(&mut tx, id, amount, now).await?;
        self.insert_operation(
            &mut tx,
            &account,
            op::CHARGE_MANUAL,
            amount,
            now,
            (None, None),
            None,
            Decimal::ZERO,
            comment,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A page of one account's operations, oldest first; `None` unless the account is on `sites`.
    pub async fn account_operations(
        &self,
        id: i64,
        created: (Option<i64>, Option<i64>),
        sites: &[String],
        page: PageRequest,
    ) -> StoreResult<Option<(Vec<BonusOperation>, Pagination)>> {
        let mut conn = self.reader().acquire().await?;
        if self.account_in(&mut conn, id, sites, 0).await?.is_none() {
            return Ok(None);
        }
        let mut wh = Sql::new(" WHERE b.account_id = ");
        wh.bind(Arg::Int(id));
        if let Some(t) = created.0 {
            wh.push(" AND b.created_at >= ").bind(Arg::Int(t));
        }
        if let Some(t) = created.1 {
            wh.push(" AND b.created_at <= ").bind(Arg::Int(t));
        }
        let (total,): (i64,) =
            wh.with_prefix("SELECT COUNT(*) FROM bonus_operations b").query_as().fetch_one(&mut conn).await?;
        let mut q = wh.with_prefix(OPERATION_SELECT);
        q.push(" ORDER BY b.id");
        crate::sql::page(&mut q, page.limit, page.offset());
        let rows = q.query().fetch_all(&mut conn).await?;
        let ops = rows.iter().map(operation_from_row).collect::<StoreResult<Vec<_>>>()?;
        Ok(Some((ops, page.meta(u64::try_from(total).unwrap_or(0)))))
    }

    /// Operations of every account on `sites` (of `loyalties`, if given) after operation `after`, oldest
    /// first, at most `limit`; the id to continue after when there may be more.
    pub async fn bonus_operations(
        &self,
        loyalties: &[i64],
        sites: &[String],
        after: i64,
        limit: u32,
    ) -> StoreResult<(Vec<BonusOperation>, Option<i64>)> {
        let mut q = Sql::new(OPERATION_SELECT);
        q.push(" WHERE b.id > ").bind(Arg::Int(after));
        q.push(" AND b.loyalty_id IN (SELECT id FROM loyalties WHERE site IN ").bind_list(text_args(sites)).push(")");
        any_of(&mut q, "b.loyalty_id", loyalties.iter().copied().map(Arg::Int).collect());
        q.push(&format!(" ORDER BY b.id LIMIT {}", i64::from(limit) + 1));
        let rows = q.query().fetch_all(self.reader()).await?;
        let mut ops = rows.iter().map(operation_from_row).collect::<StoreResult<Vec<_>>>()?;
        let more = ops.len() > limit as usize;
        ops.truncate(limit as usize);
        let next = if more { ops.last().map(|o| o.id) } else { None };
        Ok((ops, next))
    }

    /// Bonuses of one account by date: waiting for activation (by activation date) or spendable with an
    /// expiry (by expiry date), optionally only up to `until`; the page and the total of all of them.
    pub async fn bonus_details(
        &self,
        id: i64,
        status: BonusStatus,
        until: Option<i64>,
        sites: &[String],
        page: PageRequest,
    ) -> StoreResult<Option<(Vec<(i64, Decimal)>, Decimal, Pagination)>> {
        let now = torg_domain::time::now();
        let mut conn = self.reader().acquire().await?;
        if self.account_in(&mut conn, id, sites, now).await?.is_none() {
            return Ok(None);
        }
        let (column, condition) = match status {
            BonusStatus::WaitingActivation => ("activation_at", " AND activation_at > "),
            BonusStatus::BurnSoon => ("expire_at", " AND activation_at <= "),
        };
        let mut wh = Sql::new(" WHERE account_id = ");
        wh.bind(Arg::Int(id)).push(" AND remaining > 0").push(condition).bind(Arg::Int(now));
        if status == BonusStatus::BurnSoon {
            wh.push(" AND expire_at IS NOT NULL AND expire_at > ").bind(Arg::Int(now));
        }
        if let Some(u) = until {
            wh.push(&format!(" AND {column} <= ")).bind(Arg::Int(u));
        }
        let (count, sum): (i64, i64) = wh
            .with_prefix("SELECT COUNT(*), CAST(COALESCE(SUM(remaining), 0) AS BIGINT) FROM bonus_operations")
            .query_as()
            .fetch_one(&mut conn)
            .await?;
        let mut q = wh.with_prefix(&format!("SELECT {column}, remaining FROM bonus_operations"));
        q.push(&format!(" ORDER BY {column}, id"));
        crate::sql::page(&mut q, page.limit, page.offset());
        let rows: Vec<(i64, i64)> = q.query_as().fetch_all(&mut conn).await?;
        let list = rows.into_iter().map(|(at, units)| (at, from_units(units))).collect();
        Ok(Some((list, from_units(sum), page.meta(u64::try_from(count).unwrap_or(0)))))
    }

    /// The active account of a customer in the running programme of `site`, inside a read or write.
    async fn customer_account_in(
        &self,
        conn: &mut db::Conn,
        site: &str,
        customer_id: i64,
        now: i64,
    ) -> StoreResult<Option<(LoyaltyAccount, Loyalty)>> {
        let Some(loyalty) = self.site_loyalty_in(conn, site).await? else { return Ok(None) };
        let mut q = account_query(now);
        q.push(" AND a.loyalty_id = ")
            .bind(Arg::Int(loyalty.id))
            .push(" AND a.customer_id = ")
            .bind(Arg::Int(customer_id));
        let row = q.query().fetch_optional(&mut *conn).await?;
        Ok(match row {
            Some(r) => Some((account_from_row(&r)?, loyalty)),
            None => None,
        })
    }

    /// The bonuses each of `orders` earned or will earn (its `bonusesCreditTotal`), by order id, for the
    /// orders in a programme: what its live `credit_for_order` credited; else, while it is not
    /// cancelled, what its total would earn at its customer's level now (an activated account in its
    /// site's running programme), as `loyalty/calculate` says. Orders in no programme are absent.
    ///
    /// Every order read pays for this, so its statements are few whatever the number of orders or
    /// sites: the credits, then the running programmes of the orders' sites in one statement; only
    /// where a programme runs, the books (is the order cancelled?), its levels and the accounts.
    /// Where the orders were read with [`CREDIT_HINT_COLUMNS`], `hints` holds what those said, and the
    /// first two statements are not needed.
    pub(crate) async fn order_credits(
        &self,
        conn: &mut crate::db::Conn,
        orders: &[Order],
        hints: Option<&CreditHints>,
    ) -> StoreResult<HashMap<i64, Decimal>> {
        let mut out = HashMap::new();
        if orders.is_empty() {
            return Ok(out);
        }
        if let Some(h) = hints {
            out.extend(h.credited.iter().map(|(id, sum)| (*id, *sum)));
        } else {
            let mut q = Sql::new("SELECT order_id, CAST(SUM(amount) AS BIGINT) FROM bonus_operations WHERE type = ");
            q.bind(Arg::Text(op::CREDIT_FOR_ORDER.into()))
                .push(" AND reversed_by IS NULL AND order_id IN ")
                .bind_list(orders.iter().map(|o| Arg::Int(o.id)))
                .push(" GROUP BY order_id");
            let credited: Vec<(i64, i64)> = q.query_as().fetch_all(&mut *conn).await?;
            out.extend(credited.into_iter().map(|(id, units)| (id, from_units(units))));
        }
        let pending: Vec<&Order> =
            orders.iter().filter(|o| !out.contains_key(&o.id) && o.customer_id.is_some() && !o.is_test).collect();
        if pending.is_empty() {
            return Ok(out);
        }
        let mut sites: Vec<&str> = pending.iter().map(|o| o.site.as_str()).collect();
        sites.sort_unstable();
        sites.dedup();
        let running = match hints {
            Some(h) => h
                .running
                .iter()
                .filter(|(site, _)| sites.contains(&site.as_str()))
                .map(|(s, id)| (s.clone(), *id))
                .collect(),
            None => running_loyalties(conn, &sites).await?,
        };
        if running.is_empty() {
            return Ok(out);
        }
        // On the held connection: waiting for a second one from the pool could starve it under load.
        let books = self.books_in(conn).await?;
        let mut programmes: HashMap<String, Loyalty> = HashMap::new();
        for (site, id) in running {
            if let Some(l) = self.loyalty_in(conn, id).await? {
                programmes.insert(site, l);
            }
        }
        let pending: Vec<&Order> = pending
            .into_iter()
            .filter(|o| programmes.contains_key(&o.site) && !books.is_cancelled(&o.status))
            .collect();
        if pending.is_empty() {
            return Ok(out);
        }
        let mut q = Sql::new(
            "SELECT loyalty_id, customer_id, orders_sum FROM loyalty_accounts WHERE active = 1 AND loyalty_id IN ",
        );
        q.bind_list(programmes.values().map(|l| Arg::Int(l.id)))
            .push(" AND customer_id IN ")
            .bind_list(pending.iter().filter_map(|o| o.customer_id).map(Arg::Int));
        let accounts: Vec<(i64, i64, i64)> = q.query_as().fetch_all(conn).await?;
        for o in pending {
            let Some(l) = programmes.get(&o.site) else { continue };
            let account = accounts.iter().find(|(lid, cid, _)| *lid == l.id && Some(*cid) == o.customer_id);
            if let Some((_, _, orders_sum)) = account {
                out.insert(o.id, l.credit_for(from_units(*orders_sum), o.total_summ().max(Decimal::ZERO)));
            }
        }
        Ok(out)
    }

    /// What an order of `summ` (before bonuses) for a customer of `site` may spend and would earn.
    pub async fn loyalty_quote(
        &self,
        site: &str,
        customer: &CustomerRef,
        summ: Decimal,
        bonuses: Decimal,
    ) -> StoreResult<LoyaltyQuote> {
        let now = torg_domain::time::now();
        let mut conn = self.reader().acquire().await?;
        let found: Option<(i64,)> = match customer {
            CustomerRef::Id(id) => {
                db::query_as("SELECT id FROM customers WHERE id = $1 AND site = $2")
                    .bind(*id)
                    .bind(site)
                    .fetch_optional(&mut conn)
                    .await?
            }
            CustomerRef::ExternalId(e) => {
                db::query_as("SELECT id FROM customers WHERE external_id = $1 AND site = $2")
                    .bind(e)
                    .bind(site)
                    .fetch_optional(&mut conn)
                    .await?
            }
        };
        let Some((customer_id,)) = found else { return Err(rules::unknown_order_customer().into()) };
        let (account, loyalty) =
            rules::active_account(self.customer_account_in(&mut conn, site, customer_id, now).await?)?;
        quote(loyalty, account, summ, bonuses)
    }

    /// Spends `bonuses` on an order (replacing what it spent before): the order's sum drops by them
    /// and it names the account. Returns the order and the quote it was made with.
    pub async fn apply_order_bonuses(
        &self,
        lookup: &OrderLookup,
        bonuses: Decimal,
        actor: Actor,
        sites: &[String],
    ) -> StoreResult<(Order, LoyaltyQuote)> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        let old = self.order_for_loyalty(&mut tx, lookup, sites).await?;
        let books = self.books_in(&mut tx).await?;
        let customer_id = rules::spending_customer(&old, &books)?;
        let (account, loyalty) =
            rules::active_account(self.customer_account_in(&mut tx, &old.site, customer_id, now).await?)?;
        if self.backend() == Backend::Postgres {
            db::query("SELECT id FROM loyalty_accounts WHERE id = $1 FOR UPDATE")
                .bind(account.id)
                .fetch_optional(&mut *tx)
                .await?;
        }
        // What the order spent before comes back first, so the new charge is checked against it too.
        self.reverse_order_operations(&mut tx, old.id, &loyalty, now, true).await?;
        let account = self
            .account_in(&mut tx, account.id, std::slice::from_ref(&old.site), now)
            .await?
            .ok_or_else(|| not_found("loyalty account"))?;
        let mut before = old.clone();
        before.bonuses_charge_total = Decimal::ZERO;
        let q = quote(loyalty, account, before.summ(), bonuses)?;
        if q.charge > Decimal::ZERO {
            self.consume(&mut tx, q.account.id, q.charge, now).await?;
            self.insert_operation(
                &mut tx,
                &q.account,
                op::CHARGE_FOR_ORDER,
                q.charge,
                now,
                (None, None),
                Some(old.id),
                Decimal::ZERO,
                None,
            )
            .await?;
        }
        let mut new = old.clone();
        new.bonuses_charge_total = q.charge;
        new.loyalty_account = Some(OrderLoyaltyAccount { id: q.account.id });
        let changes = diff_orders(&old, &new);
        if !changes.is_empty() {
            self.write_order_row(&mut tx, &new, books.paid(), now, crate::orders::RowWrite::Update).await?;
            self.write_order_changes(&mut tx, old.id, &new, &changes, actor, now).await?;
        }
        tx.commit().await?;
        Ok((new, q))
    }

    /// Cancels every bonus operation of an order: spent bonuses come back, credited ones are taken
    /// back, and the order no longer spends bonuses.
    pub async fn cancel_order_bonuses(
        &self,
        lookup: &OrderLookup,
        actor: Actor,
        sites: &[String],
    ) -> StoreResult<Order> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        let old = self.order_for_loyalty(&mut tx, lookup, sites).await?;
        let loyalty_id: Option<(i64,)> =
            db::query_as("SELECT loyalty_id FROM bonus_operations WHERE order_id = $1 ORDER BY id LIMIT 1")
                .bind(old.id)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some((loyalty_id,)) = loyalty_id
            && let Some(loyalty) = self.loyalty_in(&mut tx, loyalty_id).await?
        {
            self.reverse_order_operations(&mut tx, old.id, &loyalty, now, false).await?;
        }
        let mut new = old.clone();
        new.bonuses_charge_total = Decimal::ZERO;
        let changes = diff_orders(&old, &new);
        if !changes.is_empty() {
            let books = self.books_in(&mut tx).await?;
            self.write_order_row(&mut tx, &new, books.paid(), now, crate::orders::RowWrite::Update).await?;
            self.write_order_changes(&mut tx, old.id, &new, &changes, actor, now).await?;
        }
        tx.commit().await?;
        Ok(new)
    }

    async fn order_for_loyalty(&self, tx: &mut Tx, lookup: &OrderLookup, sites: &[String]) -> StoreResult<Order> {
        let id = self.order_id_in(tx, lookup).await?.ok_or_else(rules::unknown_order)?;
        let order = self.load_orders(tx, &[id]).await?.pop().ok_or_else(rules::unknown_order)?;
        rules::check_order_reach(&order, sites)?;
        Ok(order)
    }

    /// Reverses the live operations of an order (only its charges when `charges_only`): a charge comes
    /// back as a new lot living the programme's expiry from now, a credit's lot is emptied and the paid
    /// sum it added leaves the account.
    async fn reverse_order_operations(
        &self,
        tx: &mut Tx,
        order_id: i64,
        loyalty: &Loyalty,
        now: i64,
        charges_only: bool,
    ) -> StoreResult<()> {
        let ops: Vec<(i64, i64, String, i64, i64, i64)> = db::query_as(
            "SELECT id, account_id, type, amount, remaining, base FROM bonus_operations
             WHERE order_id = $1 AND reversed_by IS NULL AND type IN ($2, $3) ORDER BY id",
        )
        .bind(order_id)
        .bind(op::CHARGE_FOR_ORDER)
        .bind(op::CREDIT_FOR_ORDER)
        .fetch_all(&mut **tx)
        .await?;
        for (id, account_id, kind, amount, remaining, base) in ops {
            if charges_only && kind != op::CHARGE_FOR_ORDER {
                continue;
            }
            let account = LoyaltyAccount { id: account_id, loyalty_id: loyalty.id, ..LoyaltyAccount::default() };
            let reversal = if kind == op::CHARGE_FOR_ORDER {
                let life = (Some(now), loyalty.expiry_from(now));
                self.insert_operation(
                    tx,
                    &account,
                    op::CANCEL_OF_CHARGE,
                    from_units(amount),
                    now,
                    life,
                    Some(order_id),
                    Decimal::ZERO,
                    None,
                )
                .await?
            } else {
                db::query("UPDATE bonus_operations SET remaining = 0 WHERE id = $1")
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
                db::query("UPDATE loyalty_accounts SET orders_sum = orders_sum - $1 WHERE id = $2")
                    .bind(base)
                    .bind(account_id)
                    .execute(&mut **tx)
                    .await?;
                // What was already spent of the credit stays spent: only what the lot still held goes.
                self.insert_operation(
                    tx,
                    &account,
                    op::CANCEL_OF_CREDIT,
                    from_units(remaining),
                    now,
                    (None, None),
                    Some(order_id),
                    Decimal::ZERO,
                    None,
                )
                .await?
            };
            db::query("UPDATE bonus_operations SET reversed_by = $1 WHERE id = $2")
                .bind(reversal)
                .bind(id)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// The order without the bonuses it spends, if it is cancelled and spends some.
    pub(crate) async fn cleared_of_bonuses(&self, tx: &mut Tx, order: &Order) -> StoreResult<Option<Order>> {
        if order.bonuses_charge_total.is_zero() || !self.books_in(tx).await?.is_cancelled(&order.status) {
            return Ok(None);
        }
        Ok(Some(Order { bonuses_charge_total: Decimal::ZERO, ..order.clone() }))
    }

    /// Brings an order's bonuses in line with it after every write of the order: a cancelled order
    /// gives back what it spent and takes back what it earned; a fully paid one earns its level's
    /// percent of what was paid once, which also counts towards the account's level.
    pub(crate) async fn settle_order_loyalty(
        &self,
        tx: &mut Tx,
        order: &Order,
        order_id: i64,
        paid: &[String],
        now: i64,
    ) -> StoreResult<()> {
        let books = self.books_in(tx).await?;
        if books.is_cancelled(&order.status) {
            let live: Option<(i64,)> = db::query_as(
                "SELECT loyalty_id FROM bonus_operations WHERE order_id = $1 AND reversed_by IS NULL
                 AND type IN ($2, $3) LIMIT 1",
            )
            .bind(order_id)
            .bind(op::CHARGE_FOR_ORDER)
            .bind(op::CREDIT_FOR_ORDER)
            .fetch_optional(&mut **tx)
            .await?;
            if let Some((loyalty_id,)) = live
                && let Some(loyalty) = self.loyalty_in(tx, loyalty_id).await?
            {
                self.reverse_order_operations(tx, order_id, &loyalty, now, false).await?;
            }
            return Ok(());
        }
        let total = order.total_summ();
        let Some(customer_id) = order.customer_id else { return Ok(()) };
        if order.is_test || total <= Decimal::ZERO || order.prepay_sum(paid) < total {
            return Ok(());
        }
        let credited: Option<(i64,)> = db::query_as(
            "SELECT id FROM bonus_operations WHERE order_id = $1 AND type = $2 AND reversed_by IS NULL LIMIT 1",
        )
        .bind(order_id)
        .bind(op::CREDIT_FOR_ORDER)
        .fetch_optional(&mut **tx)
        .await?;
        if credited.is_some() {
            return Ok(());
        }
        let Some((account, loyalty)) = self.customer_account_in(tx, &order.site, customer_id, now).await? else {
            return Ok(());
        };
        if !account.active {
            return Ok(());
        }
        let credit = loyalty.credit_for(account.orders_sum, total);
        let life = (Some(now), loyalty.expiry_from(now));
        self.insert_operation(tx, &account, op::CREDIT_FOR_ORDER, credit, now, life, Some(order_id), total, None)
            .await?;
        db::query("UPDATE loyalty_accounts SET orders_sum = orders_sum + $1 WHERE id = $2")
            .bind(to_units(total))
            .bind(account.id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}

/// The quote for an order of `summ` asking for `bonuses`.
fn quote(loyalty: Loyalty, account: LoyaltyAccount, summ: Decimal, bonuses: Decimal) -> StoreResult<LoyaltyQuote> {
    let max_charge = loyalty.max_charge(summ, account.amount);
    rules::check_order_charge(bonuses, max_charge)?;
    let credit = loyalty.credit_for(account.orders_sum, summ - bonuses);
    Ok(LoyaltyQuote { loyalty, account, max_charge, charge: bonuses, credit, summ })
}
