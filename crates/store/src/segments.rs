//! Customer segments: named customer list filters. The store keeps them; whoever lists them reads the
//! filter as the customer list does and counts its customers, so a segment is always up to date.

use crate::db;
use crate::sql::{Arg, Sql, any_of};
use crate::{Store, StoreResult, flag, json_map, json_text};
use torg_domain::loyalty::{Segment, SegmentDefinition};

/// Which segments a list shows (the customer counts are filtered by the caller, who computes them).
#[derive(Debug, Clone, Default)]
pub struct SegmentFilter {
    /// Ids.
    pub ids: Vec<i64>,
    /// Active or not.
    pub active: Option<bool>,
    /// Name contains (any case).
    pub name: Option<String>,
    /// Dynamic (`Some(true)`) or static.
    pub dynamic: Option<bool>,
    /// Created at or after / before (Unix seconds).
    pub created: (Option<i64>, Option<i64>),
}

fn segment_from_row(r: &db::Row) -> StoreResult<Segment> {
    let filter: String = r.try_get("filter")?;
    Ok(Segment {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        is_dynamic: flag(r.try_get("is_dynamic")?),
        active: flag(r.try_get("active")?),
        created_at: r.try_get("created_at")?,
        filter: json_map(&filter),
    })
}

const SELECT: &str = "SELECT id, code, name, is_dynamic, active, created_at, filter FROM segments";

impl Store {
    /// Stores a segment, or replaces the name, state and filter of the one with its code.
    pub async fn define_segment(&self, d: &SegmentDefinition) -> StoreResult<Segment> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        db::query(
            "INSERT INTO segments (code, name, is_dynamic, active, created_at, filter) VALUES ($1, $2, 1, $3, $4, $5)
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, active = excluded.active, filter = excluded.filter",
        )
        .bind(&d.code)
        .bind(d.name.trim())
        .bind(d.active)
        .bind(now)
        .bind(json_text(&d.filter))
        .execute(&mut tx)
        .await?;
        let row = db::query(format!("{SELECT} WHERE code = $1")).bind(&d.code).fetch_one(&mut tx).await?;
        let segment = segment_from_row(&row)?;
        tx.commit().await?;
        Ok(segment)
    }

    /// Every segment the filter selects, by id.
    pub async fn list_segments(&self, f: &SegmentFilter) -> StoreResult<Vec<Segment>> {
        let mut q = Sql::new(SELECT);
        q.push(" WHERE 1 = 1");
        any_of(&mut q, "id", f.ids.iter().copied().map(Arg::Int).collect());
        if let Some(a) = f.active {
            q.push(" AND active = ").bind(Arg::Int(i64::from(a)));
        }
        if let Some(d) = f.dynamic {
            q.push(" AND is_dynamic = ").bind(Arg::Int(i64::from(d)));
        }
        if let Some(t) = f.created.0 {
            q.push(" AND created_at >= ").bind(Arg::Int(t));
        }
        if let Some(t) = f.created.1 {
            q.push(" AND created_at <= ").bind(Arg::Int(t));
        }
        q.push(" ORDER BY id");
        let rows = q.query().fetch_all(self.reader()).await?;
        let all = rows.iter().map(segment_from_row).collect::<StoreResult<Vec<_>>>()?;
        // Compared in Rust: SQLite's LOWER folds ASCII only, and segments are few.
        let name = f.name.as_ref().map(|n| n.to_lowercase());
        Ok(all.into_iter().filter(|s| name.as_ref().is_none_or(|n| s.name.to_lowercase().contains(n))).collect())
    }

    /// The segment with this code.
    pub async fn segment_by_code(&self, code: &str) -> StoreResult<Option<Segment>> {
        let row = db::query(format!("{SELECT} WHERE code = $1")).bind(code).fetch_optional(self.reader()).await?;
        row.as_ref().map(segment_from_row).transpose()
    }
}
