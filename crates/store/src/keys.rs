//! API keys: stored by hash, looked up on every request.

use crate::book_cache::GENERATION;
use crate::key_checks::{KeyCheck, Mark};
use crate::key_rounds::KEYS_GENERATION;
use crate::{Store, StoreError, StoreResult};
use std::sync::{Arc, LazyLock};
use torg_domain::books::Books;
use torg_domain::key::{ApiKey, KeyOwner, SiteAccess, hash_key};

/// The generation of what pages of orders are read from, as a request's key check read it: for that
/// request's reads of orders ([`Store::as_of`]). Any write to those tables, by anyone, moves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShownGeneration(pub(crate) i64);

/// What a new key is made of; the plain key itself is made by the caller and shown once.
#[derive(Debug, Clone)]
pub struct NewKey {
    /// The plain key (only its hash is stored).
    pub plain: String,
    /// Human name.
    pub name: String,
    /// Scopes.
    pub scopes: Vec<String>,
    /// Sites reached.
    pub sites: SiteAccess,
    /// Allowed addresses.
    pub allowed_ips: Vec<std::net::IpAddr>,
    /// Owner, by customer external id or distributor code (resolved here).
    pub customer_external_id: Option<String>,
    /// Distributor code.
    pub distributor: Option<String>,
}

const COLUMNS: &str =
    "id, name, prefix, scopes, sites, allowed_ips, customer_id, distributor, corporate_id, created_at, revoked_at";

fn key_from_row(row: &crate::db::Row) -> StoreResult<ApiKey> {
    let scopes: String = row.try_get("scopes")?;
    let sites: String = row.try_get("sites")?;
    let ips: String = row.try_get("allowed_ips")?;
    let customer: Option<i64> = row.try_get("customer_id")?;
    let distributor: Option<String> = row.try_get("distributor")?;
    Ok(ApiKey {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        prefix: row.try_get("prefix")?,
        scopes: scopes.split_whitespace().map(str::to_owned).collect(),
        sites: serde_json::from_str(&sites).unwrap_or(SiteAccess::Selective(Vec::new())),
        allowed_ips: serde_json::from_str(&ips).unwrap_or_default(),
        owner: customer.map(KeyOwner::Customer).or(distributor.map(KeyOwner::Distributor)),
        corporate_id: row.try_get("corporate_id")?,
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

impl Store {
    /// Stores a new key. Sites must exist; a customer owner must exist on one of the key's sites.
    pub async fn create_key(&self, new: NewKey) -> StoreResult<ApiKey> {
        let mut tx = self.begin().await?;
        let key = create_key_in(&mut tx, new).await?;
        tx.commit().await?;
        Ok(key)
    }

    /// The active key with this plain value, if any.
    pub async fn find_key(&self, plain: &str) -> StoreResult<Option<ApiKey>> {
        let row =
            crate::db::query(format!("SELECT {COLUMNS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL"))
                .bind(hash_key(plain))
                .fetch_optional(self.reader())
                .await?;
        row.as_ref().map(key_from_row).transpose()
    }

    /// The active key with this plain value, and the books as they are now: one statement when the
    /// cached books are current, so a request's key check, site access and reference lookups cost one
    /// read, and a key revoked anywhere is refused on the next request. On SQLite a key checked since
    /// the database's last commit is answered as then, with no statement (`key_checks`); on
    /// PostgreSQL the requests in flight share one statement (`key_rounds`), and a key is read again
    /// only when the keys have changed since it was.
    ///
    /// The same statement reads the generation of what pages of orders are read from, for the
    /// request's reads of orders ([`Store::as_of`]).
    pub async fn authenticate(&self, plain: &str) -> StoreResult<Option<(Arc<ApiKey>, Arc<Books>, ShownGeneration)>> {
        static SQL: LazyLock<[String; 2]> = LazyLock::new(|| {
            [(crate::Backend::Sqlite, "NULL"), (crate::Backend::Postgres, KEYS_GENERATION)].map(|(backend, keys)| {
                format!(
                    "SELECT {COLUMNS}, {GENERATION} AS books_generation, ({}) AS shown_generation, \
                     {keys} AS keys_generation FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
                    crate::orders::shown_generation_sql(backend)
                )
            })
        });
        let hash = hash_key(plain);
        let postgres = self.backend() == crate::Backend::Postgres;
        // SQLite: read before the statement, so a commit between the two is a mark this check is
        // not kept at.
        let commit = self.db.last_commit().map(Mark::Commit);
        let kept = if postgres { self.kept_in_round(&hash).await? } else { self.key_checks.at(commit, &hash) };
        if let Some(kept) = kept {
            return Ok(Some(kept));
        }
        let sql = &SQL[usize::from(postgres)];
        let mut conn = self.reader().acquire().await?;
        let Some(row) = crate::db::query(sql.as_str()).bind(&hash).fetch_optional(&mut conn).await? else {
            return Ok(None);
        };
        let key = Arc::new(key_from_row(&row)?);
        let books = self.books_at(row.try_get("books_generation")?, &mut conn).await?;
        let check = (key, books, ShownGeneration(row.try_get("shown_generation")?));
        // On PostgreSQL the key is kept at the keys' generation this statement read with it.
        let mark = if postgres { Some(Mark::Keys(row.try_get("keys_generation")?)) } else { commit };
        self.key_checks.keep(mark, hash, &check);
        Ok(Some(check))
    }

    /// On PostgreSQL, the check of the key with this hash from the next shared round, when the key
    /// was read at the keys' generation the round found: the books and the orders' generation are
    /// the round's.
    async fn kept_in_round(&self, hash: &str) -> StoreResult<Option<KeyCheck>> {
        let round = self.key_rounds.join(self).await;
        let kept = self.key_checks.at(round.map(|round| Mark::Keys(round.keys)), hash);
        let (Some(round), Some((key, _, _))) = (round, kept) else { return Ok(None) };
        Ok(Some((key, self.books_now(round.books).await?, ShownGeneration(round.shown))))
    }

    /// Every key, revoked ones included, oldest first.
    pub async fn list_keys(&self) -> StoreResult<Vec<ApiKey>> {
        let rows =
            crate::db::query(format!("SELECT {COLUMNS} FROM api_keys ORDER BY id")).fetch_all(self.reader()).await?;
        rows.iter().map(key_from_row).collect()
    }

    /// Makes the buyer's key with this id or name order for the corporate customer with this external
    /// id (or for its buyer alone again, with `None`). The buyer must be a contact person of it, so
    /// that its orders name who ordered.
    pub async fn set_key_corporate(&self, id_or_name: &str, corporate_external_id: Option<&str>) -> StoreResult<()> {
        let id: i64 = id_or_name.parse().unwrap_or(-1);
        let mut tx = self.begin().await?;
        let key: Option<(i64, Option<i64>)> = crate::db::query_as(
            "SELECT id, customer_id FROM api_keys WHERE (id = $1 OR name = $2) AND revoked_at IS NULL ORDER BY id LIMIT 1",
        )
        .bind(id)
        .bind(id_or_name)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((key_id, Some(customer_id))) = key else {
            return Err(torg_domain::key::no_buyer_key(id_or_name).into());
        };
        let corporate = match corporate_external_id {
            None => None,
            Some(ext) => {
                let found: Option<(i64,)> = crate::db::query_as(
                    "SELECT k.id FROM corporate_customers k JOIN customers c ON c.site = k.site
                     WHERE k.external_id = $1 AND c.id = $2",
                )
                .bind(ext)
                .bind(customer_id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((corporate,)) = found else { return Err(torg_domain::key::unknown_corporate(ext).into()) };
                let contact: Option<(i64,)> = crate::db::query_as(
                    "SELECT id FROM corporate_contacts WHERE corporate_id = $1 AND customer_id = $2",
                )
                .bind(corporate)
                .bind(customer_id)
                .fetch_optional(&mut *tx)
                .await?;
                if contact.is_none() {
                    return Err(torg_domain::key::not_a_contact(ext).into());
                }
                Some(corporate)
            }
        };
        crate::db::query("UPDATE api_keys SET corporate_id = $1 WHERE id = $2")
            .bind(corporate)
            .bind(key_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Revokes the key with this id or name; returns how many keys were revoked.
    pub async fn revoke_key(&self, id_or_name: &str) -> StoreResult<u64> {
        let id: i64 = id_or_name.parse().unwrap_or(-1);
        let mut tx = self.begin().await?;
        let done =
            crate::db::query("UPDATE api_keys SET revoked_at = $1 WHERE (id = $2 OR name = $3) AND revoked_at IS NULL")
                .bind(torg_domain::time::now())
                .bind(id)
                .bind(id_or_name)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        tx.commit().await?;
        Ok(done)
    }
}

/// Stores a new key inside a transaction (a module's scope update makes one with its other writes).
pub(crate) async fn create_key_in(tx: &mut crate::Tx, new: NewKey) -> StoreResult<ApiKey> {
    if let SiteAccess::Selective(codes) = &new.sites {
        for code in codes {
            let found: Option<(i64,)> = crate::db::query_as("SELECT id FROM sites WHERE code = $1")
                .bind(code)
                .fetch_optional(&mut **tx)
                .await?;
            if found.is_none() {
                return Err(torg_domain::key::unknown_site(code).into());
            }
        }
    }
    let customer_id = match &new.customer_external_id {
        None => None,
        Some(ext) => {
            let row: Option<(i64, String)> =
                crate::db::query_as("SELECT id, site FROM customers WHERE external_id = $1 ORDER BY id LIMIT 1")
                    .bind(ext)
                    .fetch_optional(&mut **tx)
                    .await?;
            match row {
                Some((id, _)) => Some(id),
                None => return Err(torg_domain::key::unknown_customer(ext).into()),
            }
        }
    };
    if let Some(code) = &new.distributor {
        // The first key for a new code creates the distributor.
        crate::warehouses::ensure_distributor_in(tx, code).await?;
    }
    let ips: Vec<String> = new.allowed_ips.iter().map(ToString::to_string).collect();
    let now = torg_domain::time::now();
    let id: i64 = crate::db::query_scalar(
            "INSERT INTO api_keys (name, key_hash, prefix, scopes, sites, allowed_ips, customer_id, distributor, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(&new.name)
        .bind(hash_key(&new.plain))
        .bind(new.plain.chars().take(6).collect::<String>())
        .bind(new.scopes.join(" "))
        .bind(serde_json::to_string(&new.sites).unwrap_or_default())
        .bind(serde_json::to_string(&ips).unwrap_or_default())
        .bind(customer_id)
        .bind(&new.distributor)
        .bind(now)
        .fetch_one(&mut **tx)
        .await
        .map_err(|e| StoreError::unique_as(e, torg_domain::key::key_taken))?;
    let row =
        crate::db::query(format!("SELECT {COLUMNS} FROM api_keys WHERE id = $1")).bind(id).fetch_one(&mut **tx).await?;
    key_from_row(&row)
}
