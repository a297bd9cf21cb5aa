//! Sites, reference books and users: the small tables everything else points at. The default
//! warehouse is seeded here with the books, since a fresh database needs one; warehouses themselves
//! are in `warehouses.rs`.

use crate::{Store, StoreError, StoreResult, Tx, json_text};
use torg_domain::reference::{self, ReferenceEntry, ReferenceKind, Site, defaults};

impl Store {
    /// Fills empty reference books with their defaults and makes sure one site and one warehouse exist.
    pub(crate) async fn seed_defaults(&self) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        if self.backend() == crate::Backend::Postgres {
            // Two servers starting on a fresh database at once would both find the books empty.
            crate::db::query("SELECT pg_advisory_xact_lock(7426003)").execute(&mut *tx).await?;
        }
        for kind in ReferenceKind::ALL {
            let (count,): (i64,) = crate::db::query_as("SELECT COUNT(*) FROM reference_entries WHERE kind = $1")
                .bind(kind.code())
                .fetch_one(&mut *tx)
                .await?;
            if count == 0 {
                for entry in defaults(kind) {
                    upsert_ref(&mut tx, kind, &entry).await?;
                }
            }
        }
        let (sites,): (i64,) = crate::db::query_as("SELECT COUNT(*) FROM sites").fetch_one(&mut *tx).await?;
        if sites == 0 {
            let attrs = serde_json::json!({"currency": "RUB", "countryIso": "RU", "defaultForCrm": true});
            crate::db::query(
                "INSERT INTO sites (code, name, url, ordering, attrs, created_at) VALUES ($1, $2, $3, 1, $4, $5)",
            )
            .bind("default")
            .bind("Основной магазин")
            .bind(None::<String>)
            .bind(attrs.to_string())
            .bind(torg_domain::time::now())
            .execute(&mut *tx)
            .await?;
        }
        let (stores,): (i64,) = crate::db::query_as("SELECT COUNT(*) FROM warehouses").fetch_one(&mut *tx).await?;
        if stores == 0 {
            let attrs = serde_json::json!({"type": "store-type-warehouse", "inventoryType": "integer"});
            crate::db::query(
                "INSERT INTO warehouses (code, name, active, attrs, created_at) VALUES ($1, $2, 1, $3, $4)",
            )
            .bind("main")
            .bind("Основной склад")
            .bind(attrs.to_string())
            .bind(torg_domain::time::now())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every entry of a book, in display order.
    pub async fn list_refs(&self, kind: ReferenceKind) -> StoreResult<Vec<ReferenceEntry>> {
        Ok(self.books().await?.refs(kind).to_vec())
    }

    /// Creates or replaces an entry; true when it was created.
    pub async fn upsert_ref(&self, kind: ReferenceKind, entry: &ReferenceEntry) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let created = upsert_ref(&mut tx, kind, entry).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Adds an entry whose code must be new to its book; returns its id.
    pub async fn insert_ref(&self, kind: ReferenceKind, entry: &ReferenceEntry) -> StoreResult<i64> {
        let mut tx = self.begin().await?;
        let taken: Option<(i64,)> =
            crate::db::query_as("SELECT 1 FROM reference_entries WHERE kind = $1 AND code = $2")
                .bind(kind.code())
                .bind(&entry.code)
                .fetch_optional(&mut *tx)
                .await?;
        if taken.is_some() {
            return Err(reference::code_taken(&entry.code).into());
        }
        upsert_ref(&mut tx, kind, entry).await?;
        let id: i64 = crate::db::query_scalar("SELECT id FROM reference_entries WHERE kind = $1 AND code = $2")
            .bind(kind.code())
            .bind(&entry.code)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Replaces the entry with this id (its code included); false when there is none.
    pub async fn update_ref_by_id(&self, kind: ReferenceKind, entry: &ReferenceEntry) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let done = crate::db::query(
            "UPDATE reference_entries SET code = $1, name = $2, active = $3, ordering = $4, attrs = $5 WHERE kind = $6 AND id = $7",
        )
        .bind(&entry.code)
        .bind(&entry.name)
        .bind(i64::from(entry.active))
        .bind(entry.ordering)
        .bind(json_text(&entry.attrs))
        .bind(kind.code())
        .bind(entry.id)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::unique_as(e, || reference::code_taken(&entry.code)))?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// Every site, in display order.
    pub async fn list_sites(&self) -> StoreResult<Vec<Site>> {
        Ok(self.books().await?.sites().to_vec())
    }

    /// Creates or replaces a site; true when it was created.
    pub async fn upsert_site(&self, site: &Site) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let existing: Option<(i64,)> = crate::db::query_as("SELECT id FROM sites WHERE code = $1")
            .bind(&site.code)
            .fetch_optional(&mut *tx)
            .await?;
        if existing.is_some() {
            crate::db::query("UPDATE sites SET name = $1, url = $2, ordering = $3, attrs = $4 WHERE code = $5")
                .bind(&site.name)
                .bind(&site.url)
                .bind(site.ordering)
                .bind(json_text(&site.attrs))
                .bind(&site.code)
                .execute(&mut *tx)
                .await?;
        } else {
            crate::db::query(
                "INSERT INTO sites (code, name, url, ordering, attrs, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&site.code)
            .bind(&site.name)
            .bind(&site.url)
            .bind(site.ordering)
            .bind(json_text(&site.attrs))
            .bind(torg_domain::time::now())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(existing.is_none())
    }
}

async fn upsert_ref(tx: &mut Tx, kind: ReferenceKind, entry: &ReferenceEntry) -> StoreResult<bool> {
    let existing: Option<(String,)> =
        crate::db::query_as("SELECT code FROM reference_entries WHERE kind = $1 AND code = $2")
            .bind(kind.code())
            .bind(&entry.code)
            .fetch_optional(&mut **tx)
            .await?;
    if existing.is_some() {
        crate::db::query("UPDATE reference_entries SET name = $1, active = $2, ordering = $3, attrs = $4 WHERE kind = $5 AND code = $6")
            .bind(&entry.name)
            .bind(i64::from(entry.active))
            .bind(entry.ordering)
            .bind(json_text(&entry.attrs))
            .bind(kind.code())
            .bind(&entry.code)
            .execute(&mut **tx)
            .await?;
    } else {
        let id = next_ref_id(tx).await?;
        crate::db::query(
            "INSERT INTO reference_entries (kind, code, name, active, ordering, attrs, id) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(kind.code())
        .bind(&entry.code)
        .bind(&entry.name)
        .bind(i64::from(entry.active))
        .bind(entry.ordering)
        .bind(json_text(&entry.attrs))
        .bind(id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(existing.is_none())
}

/// A new entry id: from the sequence on PostgreSQL; on SQLite the one writer makes the next number
/// after the largest safe.
async fn next_ref_id(tx: &mut Tx) -> StoreResult<i64> {
    let sql = if tx.is_postgres() {
        "SELECT nextval('reference_entry_ids')"
    } else {
        "SELECT COALESCE(MAX(id), 0) + 1 FROM reference_entries"
    };
    Ok(crate::db::query_scalar(sql).fetch_one(&mut **tx).await?)
}
