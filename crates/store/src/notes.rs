//! Notes managers keep about customers and corporate customers: the same mechanics over two tables.

use crate::db;
use crate::sql::{Arg, Sql, any_of, contains_pattern, text_args};
use crate::{Store, StoreResult};
use torg_domain::page::{PageRequest, Pagination};

/// A note and the customer (or corporate customer) it is about.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    /// Id.
    pub id: i64,
    /// The customer's internal id.
    pub customer_id: i64,
    /// The customer's external id.
    pub customer_external_id: Option<String>,
    /// The customer's site.
    pub site: String,
    /// The manager who wrote it.
    pub manager_id: Option<i64>,
    /// Its text.
    pub text: String,
    /// When it was written (Unix seconds).
    pub created_at: i64,
}

/// Which notes a list shows.
#[derive(Debug, Clone, Default)]
pub struct NoteFilter {
    /// Note ids.
    pub ids: Vec<i64>,
    /// Customers by internal id.
    pub customer_ids: Vec<i64>,
    /// Customers by external id.
    pub customer_external_ids: Vec<String>,
    /// Authors.
    pub manager_ids: Vec<i64>,
    /// Text the note contains.
    pub text: Option<String>,
    /// Written at or after (Unix seconds).
    pub created_from: Option<i64>,
    /// Written at or before (Unix seconds).
    pub created_to: Option<i64>,
}

/// Whom notes are about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteOwner {
    /// Individual customers (`customers/notes`).
    Customer,
    /// Corporate customers (`customers-corporate/notes`).
    Corporate,
}

impl NoteOwner {
    /// (notes table, its owner column, the owners' table).
    fn tables(self) -> (&'static str, &'static str, &'static str) {
        match self {
            NoteOwner::Customer => ("customer_notes", "customer_id", "customers"),
            NoteOwner::Corporate => ("corporate_notes", "corporate_id", "corporate_customers"),
        }
    }

    /// `FROM notes n JOIN owners c ON …`.
    fn from(self) -> String {
        let (notes, column, owners) = self.tables();
        format!(" FROM {notes} n JOIN {owners} c ON c.id = n.{column}")
    }
}

type NoteRow = (i64, i64, Option<String>, String, Option<i64>, String, i64);

fn note((id, customer_id, customer_external_id, site, manager_id, text, created_at): NoteRow) -> Note {
    Note { id, customer_id, customer_external_id, site, manager_id, text, created_at }
}

impl Store {
    /// The id and site of the owner a lookup names, if there is one.
    pub async fn note_owner(
        &self,
        owner: NoteOwner,
        lookup: &crate::CustomerLookup,
    ) -> StoreResult<Option<(i64, String)>> {
        let (_, _, owners) = owner.tables();
        let mut q = Sql::new(&format!("SELECT id, site FROM {owners}"));
        match lookup {
            crate::CustomerLookup::Id(id) => q.push(" WHERE id = ").bind(Arg::Int(*id)),
            crate::CustomerLookup::ExternalId { site, external_id } => q
                .push(" WHERE site = ")
                .bind(Arg::Text(site.clone()))
                .push(" AND external_id = ")
                .bind(Arg::Text(external_id.clone())),
        };
        Ok(q.query_as().fetch_optional(self.reader()).await?)
    }

    /// Writes a note about an owner; the manager, when given, must exist.
    pub async fn create_note(
        &self,
        owner: NoteOwner,
        owner_id: i64,
        manager_id: Option<i64>,
        text: &str,
    ) -> StoreResult<i64> {
        let (notes, column, _) = owner.tables();
        let mut tx = self.begin().await?;
        if let Some(m) = manager_id {
            self.check_user_in(&mut tx, m, "managerId").await?;
        }
        let id: i64 = db::query_scalar(format!(
            "INSERT INTO {notes} ({column}, manager_id, text, created_at, text_lower) VALUES ($1, $2, $3, $4, $5)
             RETURNING id"
        ))
        .bind(owner_id)
        .bind(manager_id)
        .bind(text)
        .bind(torg_domain::time::now())
        // The customers' `notes` filter compares this copy (SQLite's lower() folds ASCII only).
        .bind(text.to_lowercase())
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A page of the notes about owners on `sites`, newest first.
    pub async fn list_notes(
        &self,
        owner: NoteOwner,
        f: &NoteFilter,
        sites: &[String],
        page: PageRequest,
    ) -> StoreResult<(Vec<Note>, Pagination)> {
        let mut wh = Sql::new(" WHERE c.site IN ");
        wh.bind_list(text_args(sites));
        any_of(&mut wh, "n.id", f.ids.iter().copied().map(Arg::Int).collect());
        let (_, column, _) = owner.tables();
        any_of(&mut wh, &format!("n.{column}"), f.customer_ids.iter().copied().map(Arg::Int).collect());
        any_of(&mut wh, "c.external_id", text_args(&f.customer_external_ids));
        any_of(&mut wh, "n.manager_id", f.manager_ids.iter().copied().map(Arg::Int).collect());
        if let Some(t) = &f.text {
            wh.push(" AND n.text LIKE ").bind(Arg::Text(contains_pattern(t))).push(" ESCAPE '\\'");
        }
        if let Some(t) = f.created_from {
            wh.push(" AND n.created_at >= ").bind(Arg::Int(t));
        }
        if let Some(t) = f.created_to {
            wh.push(" AND n.created_at <= ").bind(Arg::Int(t));
        }
        let (total,): (i64,) =
            wh.with_prefix(&format!("SELECT COUNT(*){}", owner.from())).query_as().fetch_one(self.reader()).await?;
        let mut select = wh.with_prefix(&format!(
            "SELECT n.id, n.{column}, c.external_id, c.site, n.manager_id, n.text, n.created_at{}",
            owner.from()
        ));
        select.push(" ORDER BY n.id DESC");
        crate::sql::page(&mut select, page.limit, page.offset());
        let rows: Vec<NoteRow> = select.query_as().fetch_all(self.reader()).await?;
        Ok((rows.into_iter().map(note).collect(), page.meta(total.max(0) as u64)))
    }

    /// Deletes a note about an owner on `sites`; false when there is none.
    pub async fn delete_note(&self, owner: NoteOwner, id: i64, sites: &[String]) -> StoreResult<bool> {
        let (notes, column, owners) = owner.tables();
        let mut tx = self.begin().await?;
        let mut q = Sql::new(&format!("DELETE FROM {notes} WHERE id = "));
        q.bind(Arg::Int(id)).push(&format!(" AND {column} IN (SELECT id FROM {owners} WHERE site IN "));
        q.bind_list(text_args(sites)).push(")");
        let done = q.query().execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }
}
