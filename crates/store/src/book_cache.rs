//! The in-process copy of the books (sites, warehouses, reference books, custom field definitions and
//! their dictionaries): read on nearly every request
//! and written rarely. A trigger on each of their tables bumps the `books` row of `cache_generations` in
//! the writing transaction, whoever writes (this server, another instance, the CLI); a reader compares
//! that number with its copy's and reloads when they differ, so a change is seen by the next request on
//! every instance. The number rides along with the key check, so a warm request pays no statement for it.

use crate::db::{self, Exec};
use crate::{Store, StoreResult, flag, json_map};
use std::sync::{Arc, Mutex};
use torg_domain::books::Books;
use torg_domain::reference::{ReferenceEntry, ReferenceKind, Site};

/// The current generation of the books, as a sub-query other statements can carry.
pub(crate) const GENERATION: &str = "(SELECT n FROM cache_generations WHERE name = 'books')";
/// [`GENERATION`] on its own.
const READ_GENERATION: &str = "SELECT n FROM cache_generations WHERE name = 'books'";

/// The cached copy and the generation it was loaded at.
#[derive(Debug, Default)]
pub(crate) struct BookCache {
    slot: Mutex<Option<(i64, Arc<Books>)>>,
}

impl BookCache {
    fn get(&self, generation: i64) -> Option<Arc<Books>> {
        let slot = self.slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        slot.as_ref().filter(|(g, _)| *g == generation).map(|(_, b)| b.clone())
    }

    /// Keeps `books` unless a copy of a later generation is already there (a slow loader must not put
    /// back older books).
    fn put(&self, generation: i64, books: Arc<Books>) {
        let mut slot = self.slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if slot.as_ref().is_none_or(|(g, _)| *g <= generation) {
            *slot = Some((generation, books));
        }
    }
}

/// Reads every book. The generation is read before (by the caller), so the books are at least as new as
/// the number they are kept under; a change in between only causes one more reload.
async fn load(exec: &mut db::Conn) -> StoreResult<Books> {
    let sites = db::query("SELECT id, code, name, url, ordering, attrs FROM sites ORDER BY ordering, id")
        .fetch_all(&mut *exec)
        .await?
        .iter()
        .map(|r| {
            Ok(Site {
                id: r.try_get("id")?,
                code: r.try_get("code")?,
                name: r.try_get("name")?,
                url: r.try_get("url")?,
                ordering: r.try_get("ordering")?,
                attrs: json_map(&r.try_get::<String, _>("attrs")?),
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let warehouses: Vec<(String, i64)> =
        db::query_as("SELECT code, id FROM warehouses ORDER BY id").fetch_all(&mut *exec).await?;
    let rows = db::query(
        "SELECT kind, id, code, name, active, ordering, attrs FROM reference_entries ORDER BY kind, ordering, code",
    )
    .fetch_all(&mut *exec)
    .await?;
    let mut entries = Vec::with_capacity(rows.len());
    for r in &rows {
        let kind: String = r.try_get("kind")?;
        let Some(kind) = ReferenceKind::ALL.into_iter().find(|k| k.code() == kind) else { continue };
        entries.push((
            kind,
            ReferenceEntry {
                id: r.try_get::<Option<i64>, _>("id")?.unwrap_or_default(),
                code: r.try_get("code")?,
                name: r.try_get("name")?,
                active: flag(r.try_get("active")?),
                ordering: r.try_get("ordering")?,
                attrs: json_map(&r.try_get::<String, _>("attrs")?),
            },
        ));
    }
    let fields = db::query(
        "SELECT entity, code, name, type, dictionary, ordering, doc FROM custom_fields ORDER BY entity, ordering, code",
    )
    .fetch_all(&mut *exec)
    .await?
    .iter()
    .map(crate::custom_fields::field_from_row)
    .collect::<StoreResult<Vec<_>>>()?;
    let dictionaries = db::query("SELECT code, name, elements FROM custom_dictionaries ORDER BY code")
        .fetch_all(&mut *exec)
        .await?
        .iter()
        .map(crate::custom_fields::dictionary_from_row)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Books::new(sites, warehouses, entries).with_custom_fields(fields, dictionaries))
}

/// A held connection the books are read on: a plain one, or a write transaction, which keeps what it
/// read for its later statements (its own writes never touch the books, and a change committed by
/// another meanwhile is seen by the next transaction).
pub(crate) trait HeldForBooks: Send {
    /// The connection to read on.
    fn conn(&mut self) -> &mut db::Conn;
    /// The books read earlier on it, if it keeps them.
    fn kept_books(&self) -> Option<Arc<Books>> {
        None
    }
    /// Keeps the books just read, if it keeps them.
    fn keep_books(&mut self, _books: &Arc<Books>) {}
}

impl HeldForBooks for db::Conn {
    fn conn(&mut self) -> &mut db::Conn {
        self
    }
}

impl HeldForBooks for db::Tx {
    fn conn(&mut self) -> &mut db::Conn {
        self
    }
    fn kept_books(&self) -> Option<Arc<Books>> {
        self.kept::<Books>()
    }
    fn keep_books(&mut self, books: &Arc<Books>) {
        self.keep(books.clone());
    }
}

impl Store {
    /// The books as they are now: one statement when the cached copy is current, none for a
    /// request's view of the store ([`Store::seeing`]), which reads the books of its key check.
    pub async fn books(&self) -> StoreResult<Arc<Books>> {
        if let Some(seen) = self.seen_books() {
            return Ok(seen);
        }
        let mut conn = self.reader().acquire().await?;
        self.books_in(&mut conn).await
    }

    /// The books as a held connection (a write transaction's, say) sees them; a transaction reads them
    /// once and keeps them.
    pub(crate) async fn books_in<C: HeldForBooks>(&self, on: &mut C) -> StoreResult<Arc<Books>> {
        if let Some(books) = on.kept_books() {
            return Ok(books);
        }
        let conn = on.conn();
        let generation: i64 = db::query_scalar(READ_GENERATION).fetch_one(Exec::Conn(conn)).await?;
        let books = self.books_at(generation, conn).await?;
        on.keep_books(&books);
        Ok(books)
    }

    /// The books at `generation`: the cached copy when it is that one, else read on a connection of
    /// its own (only then is one taken).
    pub(crate) async fn books_now(&self, generation: i64) -> StoreResult<Arc<Books>> {
        if let Some(b) = self.book_cache().get(generation) {
            return Ok(b);
        }
        let mut conn = self.reader().acquire().await?;
        self.books_at(generation, &mut conn).await
    }

    /// The books of `generation` (a number read with the key check): the cached copy, or loaded afresh.
    pub(crate) async fn books_at(&self, generation: i64, conn: &mut db::Conn) -> StoreResult<Arc<Books>> {
        if let Some(b) = self.book_cache().get(generation) {
            return Ok(b);
        }
        let books = Arc::new(load(conn).await?);
        self.book_cache().put(generation, books.clone());
        Ok(books)
    }
}
