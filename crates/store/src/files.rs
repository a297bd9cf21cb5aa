//! Files and their attachments to orders and customers.
//!
//! The bytes are never read by listings: on SQLite they are files in a folder beside the database file
//! (`<db>.files/<id>`), on PostgreSQL the row's `content` (bytea). A file is seen by keys reaching its site (a file
//! uploaded without a site, by every key). Uploading writes the bytes before the row commits and
//! removes them if it does not; deleting removes them after the row is gone, so a listed file always
//! has its bytes.

use crate::db::{self, SqlitePath};
use crate::sql::{Arg, Sql, any_of, contains_pattern, text_args};
use crate::{Backend, Store, StoreResult, Tx};
use std::path::{Path, PathBuf};
use torg_domain::DomainError;
use torg_domain::file::{AttachRef, FilePatch};
use torg_domain::page::{PageRequest, Pagination};
use torg_domain::task::{CustomerLink, OrderLink};

/// Where SQLite keeps file bytes: beside the database file, or a private temporary folder for an
/// in-memory database.
pub(crate) fn files_dir(path: &SqlitePath) -> PathBuf {
    match path {
        SqlitePath::File(p) => {
            let mut name = p.file_name().map(|n| n.to_os_string()).unwrap_or_else(|| "torg.db".into());
            name.push(".files");
            p.with_file_name(name)
        }
        SqlitePath::Memory => {
            let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
            std::env::temp_dir().join(format!("torg-memory-files-{}-{nanos}", std::process::id()))
        }
    }
}

/// A file as stored, without its bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFile {
    /// Id.
    pub id: i64,
    /// Name.
    pub filename: String,
    /// Media type.
    pub media_type: String,
    /// Size in bytes.
    pub size: i64,
    /// The site it was uploaded for, if any.
    pub site: Option<String>,
    /// Uploaded (Unix seconds).
    pub created_at: i64,
    /// Orders it is attached to.
    pub orders: Vec<OrderLink>,
    /// Customers it is attached to.
    pub customers: Vec<CustomerLink>,
}

/// A file being uploaded.
#[derive(Debug, Clone)]
pub struct NewFile {
    /// Name.
    pub filename: String,
    /// Media type.
    pub media_type: String,
    /// The site it is for, if any.
    pub site: Option<String>,
    /// The bytes.
    pub content: Vec<u8>,
}

/// Which files a list shows; empty lists and `None` do not filter.
#[derive(Debug, Clone, Default)]
pub struct FileFilter {
    /// File ids.
    pub ids: Vec<i64>,
    /// Attached to one of these orders (ids).
    pub order_ids: Vec<i64>,
    /// Attached to one of these orders (external ids).
    pub order_external_ids: Vec<String>,
    /// Attached to one of these customers (ids).
    pub customer_ids: Vec<i64>,
    /// Attached to one of these customers (external ids).
    pub customer_external_ids: Vec<String>,
    /// Uploaded at or after (Unix seconds).
    pub created_from: Option<i64>,
    /// Uploaded at or before (Unix seconds).
    pub created_to: Option<i64>,
    /// At least this many bytes.
    pub size_from: Option<i64>,
    /// At most this many bytes.
    pub size_to: Option<i64>,
    /// Media types.
    pub types: Vec<String>,
    /// Name contains (any case).
    pub filename: Option<String>,
    /// Attached to something (true) or to nothing (false).
    pub attached: Option<bool>,
    /// Uploaded for one of these sites.
    pub sites: Vec<String>,
}

fn not_found() -> crate::StoreError {
    DomainError::NotFound("file".into()).into()
}

/// ` AND (f.site IS NULL OR f.site IN (sites))`.
fn visible(q: &mut Sql, sites: &[String]) {
    q.push(" AND (f.site IS NULL OR f.site IN ").bind_list(text_args(sites)).push(")");
}

const SELECT: &str = "SELECT f.id, f.filename, f.type, f.size, f.site, f.created_at FROM files f";

type FileRow = (i64, String, String, i64, Option<String>, i64);

impl Store {
    fn file_path(&self, id: i64) -> Option<PathBuf> {
        self.files_dir.as_ref().map(|d| d.join(id.to_string()))
    }

    /// Rows to files, with their attachments.
    async fn with_attachments(&self, exec: db::Exec<'_>, rows: Vec<FileRow>) -> StoreResult<Vec<StoredFile>> {
        let ids: Vec<Arg> = rows.iter().map(|r| Arg::Int(r.0)).collect();
        let mut q = Sql::new(
            "SELECT a.file_id, o.id, o.number, o.external_id, o.site, c.id, c.external_id, c.site
             FROM file_attachments a LEFT JOIN orders o ON o.id = a.order_id LEFT JOIN customers c ON c.id = a.customer_id
             WHERE a.file_id IN ",
        );
        q.bind_list(ids).push(" ORDER BY a.file_id, o.id, c.id");
        #[allow(clippy::type_complexity)]
        let links: Vec<(
            i64,
            Option<i64>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<i64>,
            Option<String>,
            Option<String>,
        )> = if rows.is_empty() { Vec::new() } else { q.query_as().fetch_all(exec).await? };
        Ok(rows
            .into_iter()
            .map(|(id, filename, media_type, size, site, created_at)| {
                let mut f = StoredFile {
                    id,
                    filename,
                    media_type,
                    size,
                    site,
                    created_at,
                    orders: Vec::new(),
                    customers: Vec::new(),
                };
                for (file, oid, number, oext, osite, cid, cext, csite) in &links {
                    if *file != id {
                        continue;
                    }
                    if let Some(oid) = oid {
                        f.orders.push(OrderLink {
                            id: *oid,
                            number: number.clone().unwrap_or_default(),
                            external_id: oext.clone(),
                            site: osite.clone().unwrap_or_default(),
                        });
                    }
                    if let Some(cid) = cid {
                        f.customers.push(CustomerLink {
                            id: *cid,
                            external_id: cext.clone(),
                            site: csite.clone().unwrap_or_default(),
                        });
                    }
                }
                f
            })
            .collect())
    }

    /// Replaces the attachments of file `id` with those `refs` name.
    async fn attach_file(
        &self,
        tx: &mut Tx,
        id: i64,
        refs: &[AttachRef],
        site: Option<&str>,
        sites: &[String],
    ) -> StoreResult<()> {
        db::query("DELETE FROM file_attachments WHERE file_id = $1").bind(id).execute(&mut **tx).await?;
        let mut seen = Vec::new();
        for (i, r) in refs.iter().enumerate() {
            let field = format!("file.attachment[{i}]");
            let (order, customer) = match r {
                AttachRef::Order(o) => (Some(self.order_link_in(tx, o, site, sites, &field).await?.id), None),
                AttachRef::Customer(c) => (None, Some(self.customer_link_in(tx, c, site, sites, &field).await?.id)),
            };
            if seen.contains(&(order, customer)) {
                continue;
            }
            seen.push((order, customer));
            db::query("INSERT INTO file_attachments (file_id, order_id, customer_id) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(order)
                .bind(customer)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Stores a file with its attachments; external ids are looked up on `site` when given.
    pub async fn upload_file(
        &self,
        file: &NewFile,
        attachments: &[AttachRef],
        site: Option<&str>,
        sites: &[String],
    ) -> StoreResult<StoredFile> {
        let now = torg_domain::time::now();
        let size = i64::try_from(file.content.len()).unwrap_or(i64::MAX);
        let mut tx = self.begin().await?;
        let id: i64 = db::query_scalar(
            "INSERT INTO files (filename, type, size, site, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(&file.filename)
        .bind(&file.media_type)
        .bind(size)
        .bind(&file.site)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        self.attach_file(&mut tx, id, attachments, site, sites).await?;
        let written = match self.backend() {
            Backend::Postgres => {
                db::query("UPDATE files SET content = decode($1, 'hex') WHERE id = $2")
                    .bind(hex::encode(&file.content))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                None
            }
            Backend::Sqlite => {
                let path = self.file_path(id).ok_or_else(|| crate::StoreError::Files("no folder for files".into()))?;
                write_file(&path, &file.content).await.map_err(|e| io_error(&path, &e))?;
                Some(path)
            }
        };
        let mut rows: Vec<FileRow> = Vec::new();
        let mut q = Sql::new(SELECT);
        q.push(" WHERE f.id = ").bind(Arg::Int(id));
        rows.extend(q.query_as::<FileRow>().fetch_all(&mut *tx).await?);
        let stored = self.with_attachments(db::Exec::from(&mut *tx), rows).await?.pop().ok_or_else(not_found)?;
        if let Err(e) = tx.commit().await {
            if let Some(p) = written {
                let _ = tokio::fs::remove_file(p).await;
            }
            return Err(e.into());
        }
        Ok(stored)
    }

    /// One file, if a key reaching `sites` sees it.
    pub async fn get_file(&self, id: i64, sites: &[String]) -> StoreResult<Option<StoredFile>> {
        let mut q = Sql::new(SELECT);
        q.push(" WHERE f.id = ").bind(Arg::Int(id));
        visible(&mut q, sites);
        let rows: Vec<FileRow> = q.query_as().fetch_all(self.reader()).await?;
        Ok(self.with_attachments(self.reader().into(), rows).await?.pop())
    }

    /// A file's bytes, if a key reaching `sites` sees it.
    pub async fn file_content(&self, id: i64, sites: &[String]) -> StoreResult<Option<(StoredFile, Vec<u8>)>> {
        let Some(file) = self.get_file(id, sites).await? else { return Ok(None) };
        let bytes = match self.backend() {
            Backend::Postgres => {
                let text: Option<String> = db::query_scalar("SELECT encode(content, 'hex') FROM files WHERE id = $1")
                    .bind(id)
                    .fetch_optional(self.reader())
                    .await?;
                hex::decode(text.unwrap_or_default())
                    .map_err(|e| crate::StoreError::Files(format!("file {id}: stored bytes unreadable: {e}")))?
            }
            Backend::Sqlite => {
                let path = self.file_path(id).ok_or_else(not_found)?;
                tokio::fs::read(&path).await.map_err(|e| io_error(&path, &e))?
            }
        };
        Ok(Some((file, bytes)))
    }

    /// A page of the files a key reaching `sites` sees, newest first.
    pub async fn list_files(
        &self,
        f: &FileFilter,
        sites: &[String],
        page: PageRequest,
    ) -> StoreResult<(Vec<StoredFile>, Pagination)> {
        let mut wh = Sql::new(" WHERE 1 = 1");
        visible(&mut wh, sites);
        let visible_only = wh.text.len();
        any_of(&mut wh, "f.id", f.ids.iter().copied().map(Arg::Int).collect());
        any_of(&mut wh, "f.type", text_args(&f.types));
        any_of(&mut wh, "f.site", text_args(&f.sites));
        if !f.order_ids.is_empty() {
            wh.push(" AND f.id IN (SELECT file_id FROM file_attachments WHERE order_id IN ")
                .bind_list(f.order_ids.iter().copied().map(Arg::Int))
                .push(")");
        }
        if !f.order_external_ids.is_empty() {
            // External ids are unique per site: an order is looked up by the index's (site,
            // external_id) on the key's sites (one elsewhere is not the key's to name).
            wh.push(" AND f.id IN (SELECT a.file_id FROM file_attachments a JOIN orders o ON o.id = a.order_id WHERE o.site IN ")
                .bind_list(text_args(sites))
                .push(" AND o.external_id IN ")
                .bind_list(text_args(&f.order_external_ids))
                .push(")");
        }
        if !f.customer_ids.is_empty() {
            wh.push(" AND f.id IN (SELECT file_id FROM file_attachments WHERE customer_id IN ")
                .bind_list(f.customer_ids.iter().copied().map(Arg::Int))
                .push(")");
        }
        if !f.customer_external_ids.is_empty() {
            wh.push(
                " AND f.id IN (SELECT a.file_id FROM file_attachments a JOIN customers c ON c.id = a.customer_id WHERE c.site IN ",
            )
            .bind_list(text_args(sites))
            .push(" AND c.external_id IN ")
            .bind_list(text_args(&f.customer_external_ids))
            .push(")");
        }
        for (column, value) in [
            ("f.created_at >= ", f.created_from),
            ("f.created_at <= ", f.created_to),
            ("f.size >= ", f.size_from),
            ("f.size <= ", f.size_to),
        ] {
            if let Some(v) = value {
                wh.push(" AND ").push(column).bind(Arg::Int(v));
            }
        }
        if let Some(n) = &f.filename {
            // File names are few and short: lowering both sides in SQL is enough for ASCII, and the
            // pattern is lowered the same way.
            wh.push(" AND LOWER(f.filename) LIKE ")
                .bind(Arg::Text(contains_pattern(&n.to_lowercase())))
                .push(" ESCAPE '\\'");
        }
        match f.attached {
            Some(true) => {
                wh.push(" AND f.id IN (SELECT file_id FROM file_attachments)");
            }
            Some(false) => {
                wh.push(" AND f.id NOT IN (SELECT file_id FROM file_attachments)");
            }
            None => {}
        }
        let total = self.visible_total(crate::counts::Counted::Files, sites, visible_only, "files f", &wh).await?;
        let mut select = wh.with_prefix(SELECT);
        select.push(" ORDER BY f.id DESC");
        crate::sql::page(&mut select, page.limit, page.offset());
        let rows: Vec<FileRow> = select.query_as().fetch_all(self.reader()).await?;
        let files = self.with_attachments(self.reader().into(), rows).await?;
        Ok((files, page.meta(total)))
    }

    /// Renames a file and/or replaces its attachments.
    pub async fn edit_file(
        &self,
        id: i64,
        p: &FilePatch,
        site: Option<&str>,
        sites: &[String],
    ) -> StoreResult<StoredFile> {
        let mut tx = self.begin().await?;
        let mut q = Sql::new(SELECT);
        q.push(" WHERE f.id = ").bind(Arg::Int(id));
        visible(&mut q, sites);
        let rows: Vec<FileRow> = q.query_as().fetch_all(&mut *tx).await?;
        if rows.is_empty() {
            return Err(not_found());
        }
        if let Some(name) = &p.filename {
            db::query("UPDATE files SET filename = $1 WHERE id = $2").bind(name).bind(id).execute(&mut *tx).await?;
        }
        if let Some(refs) = &p.attachments {
            self.attach_file(&mut tx, id, refs, site, sites).await?;
        }
        let rows: Vec<FileRow> = q.query_as().fetch_all(&mut *tx).await?;
        let stored = self.with_attachments(db::Exec::from(&mut *tx), rows).await?.pop().ok_or_else(not_found)?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Deletes a file a key reaching `sites` sees; false when there is none.
    pub async fn delete_file(&self, id: i64, sites: &[String]) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let mut q = Sql::new("SELECT f.id FROM files f WHERE f.id = ");
        q.bind(Arg::Int(id));
        visible(&mut q, sites);
        let found: Vec<(i64,)> = q.query_as().fetch_all(&mut *tx).await?;
        if found.is_empty() {
            return Ok(false);
        }
        db::query("DELETE FROM file_attachments WHERE file_id = $1").bind(id).execute(&mut *tx).await?;
        db::query("DELETE FROM files WHERE id = $1").bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        if let Some(path) = self.file_path(id) {
            // The row is gone, so nothing refers to the bytes; a failure leaves an orphan, not a hole.
            if let Err(e) = tokio::fs::remove_file(&path).await {
                tracing::warn!(file = %path.display(), error = %e, "could not remove a deleted file's bytes");
            }
        }
        Ok(true)
    }
}

/// Writes the bytes to a temporary name, then renames into place: a crash never leaves half a file
/// under a file's id.
async fn write_file(path: &Path, content: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    let mut part = path.as_os_str().to_os_string();
    part.push(".part");
    tokio::fs::write(&part, content).await?;
    tokio::fs::rename(&part, path).await
}

fn io_error(path: &Path, e: &std::io::Error) -> crate::StoreError {
    crate::StoreError::Files(format!("{}: {e}", path.display()))
}
