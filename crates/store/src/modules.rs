//! Integration modules: the store modules, telephony and delivery integrations that register
//! themselves with the account, and the API key a module gets when it asks for its scopes.

use crate::db;
use crate::keys::{NewKey, create_key_in};
use crate::{Store, StoreResult, json_map, json_text};
use serde_json::{Map, Value};
use torg_domain::DomainError;
use torg_domain::key::{ApiKey, SiteAccess};

/// A registered module.
#[derive(Debug, Clone, PartialEq)]
pub struct Module {
    /// The module's code (unique).
    pub code: String,
    /// Its configuration, as the module sent it.
    pub doc: Map<String, Value>,
    /// The key its last scope request made.
    pub key_id: Option<i64>,
    /// When it registered (Unix seconds).
    pub created_at: i64,
    /// When it last changed (Unix seconds).
    pub updated_at: i64,
}

impl Store {
    /// One module.
    pub async fn get_module(&self, code: &str) -> StoreResult<Option<Module>> {
        let row: Option<(String, String, Option<i64>, i64, i64)> =
            db::query_as("SELECT code, doc, key_id, created_at, updated_at FROM integration_modules WHERE code = $1")
                .bind(code)
                .fetch_optional(self.reader())
                .await?;
        Ok(row.map(|(code, doc, key_id, created_at, updated_at)| Module {
            code,
            doc: json_map(&doc),
            key_id,
            created_at,
            updated_at,
        }))
    }

    /// Every module, by code.
    pub async fn list_modules(&self) -> StoreResult<Vec<Module>> {
        let rows: Vec<(String, String, Option<i64>, i64, i64)> =
            db::query_as("SELECT code, doc, key_id, created_at, updated_at FROM integration_modules ORDER BY code")
                .fetch_all(self.reader())
                .await?;
        Ok(rows
            .into_iter()
            .map(|(code, doc, key_id, created_at, updated_at)| Module {
                code,
                doc: json_map(&doc),
                key_id,
                created_at,
                updated_at,
            })
            .collect())
    }

    /// Registers a module or replaces its configuration; true when it was new.
    pub async fn put_module(&self, code: &str, doc: &Map<String, Value>) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let now = torg_domain::time::now();
        let done = db::query("UPDATE integration_modules SET doc = $1, updated_at = $2 WHERE code = $3")
            .bind(json_text(doc))
            .bind(now)
            .bind(code)
            .execute(&mut *tx)
            .await?;
        let created = done.rows_affected() == 0;
        if created {
            db::query("INSERT INTO integration_modules (code, doc, created_at, updated_at) VALUES ($1, $2, $3, $3)")
                .bind(code)
                .bind(json_text(doc))
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(created)
    }

    /// Gives a registered module a new key holding `scopes` (on every site), revoking the key its
    /// previous request made, in one transaction; `plain` is the new key's secret.
    pub async fn module_key(&self, code: &str, scopes: &[String], plain: &str) -> StoreResult<ApiKey> {
        let mut tx = self.begin().await?;
        let old: Option<Option<i64>> = db::query_scalar("SELECT key_id FROM integration_modules WHERE code = $1")
            .bind(code)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(old) = old else { return Err(DomainError::NotFound(format!("module {code}")).into()) };
        let now = torg_domain::time::now();
        if let Some(old) = old {
            db::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(now)
                .bind(old)
                .execute(&mut *tx)
                .await?;
        }
        let key = create_key_in(
            &mut tx,
            NewKey {
                plain: plain.to_string(),
                name: format!("module:{code}"),
                scopes: scopes.to_vec(),
                sites: SiteAccess::Full,
                allowed_ips: Vec::new(),
                customer_external_id: None,
                distributor: None,
            },
        )
        .await?;
        db::query("UPDATE integration_modules SET key_id = $1, updated_at = $2 WHERE code = $3")
            .bind(key.id)
            .bind(now)
            .bind(code)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(key)
    }
}
