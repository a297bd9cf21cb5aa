//! Brand aliases as data (docs/IMPORT.md): the `brand_aliases` table maps a normalised alias to the
//! normalised brand it stands for. Every writer of products and cross-references keys them by the
//! canonical name, and setting an alias re-keys what was already stored under it.

use crate::{Store, StoreResult, Tx};
use torg_domain::catalogue::{BrandAliases, normalize_brand};

/// What setting aliases did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AliasReport {
    /// Aliases stored (new or changed).
    pub stored: u64,
    /// Products moved from an alias to its brand.
    pub products_moved: u64,
    /// Products left under an alias because the brand already has a product with the same number
    /// (merging them would merge their stock and orders): (alias, number).
    pub conflicts: Vec<(String, String)>,
    /// Cross-references re-keyed.
    pub crosses_moved: u64,
}

impl Store {
    /// Every brand alias.
    pub async fn brand_aliases(&self) -> StoreResult<BrandAliases> {
        let rows: Vec<(String, String)> =
            crate::db::query_as("SELECT alias, brand FROM brand_aliases").fetch_all(self.reader()).await?;
        Ok(BrandAliases::new(rows))
    }

    /// Stores (alias, brand) pairs in one transaction and re-keys products and cross-references stored
    /// under an alias. A brand that is itself an alias resolves to its own brand, so no chain forms.
    pub async fn set_brand_aliases(&self, pairs: &[(String, String)]) -> StoreResult<AliasReport> {
        let mut tx = self.begin().await?;
        let mut report = AliasReport::default();
        let before = brand_aliases_in(&mut tx).await?;
        for (alias, brand) in pairs {
            let (alias, brand) = (normalize_brand(alias), before.canonical(brand));
            if alias.is_empty() || brand.is_empty() || alias == brand {
                continue;
            }
            report.stored += crate::db::query(
                "INSERT INTO brand_aliases (alias, brand) VALUES ($1, $2)
                 ON CONFLICT (alias) DO UPDATE SET brand = excluded.brand",
            )
            .bind(&alias)
            .bind(&brand)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            // Aliases that pointed at this alias now point at its brand.
            crate::db::query("UPDATE brand_aliases SET brand = $1 WHERE brand = $2")
                .bind(&brand)
                .bind(&alias)
                .execute(&mut *tx)
                .await?;
            report.products_moved += crate::db::query(
                "UPDATE products SET brand_norm = $1, brand = $1 WHERE brand_norm = $2 AND NOT EXISTS
                 (SELECT 1 FROM products q WHERE q.brand_norm = $1 AND q.article_norm = products.article_norm)",
            )
            .bind(&brand)
            .bind(&alias)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let left: Vec<(String,)> =
                crate::db::query_as("SELECT article FROM products WHERE brand_norm = $1 ORDER BY article_norm")
                    .bind(&alias)
                    .fetch_all(&mut *tx)
                    .await?;
            report.conflicts.extend(left.into_iter().map(|(a,)| (alias.clone(), a)));
            for column in ["brand_norm", "cross_brand_norm"] {
                let copy = format!(
                    "INSERT INTO crosses (article_norm, brand_norm, cross_norm, cross_brand_norm)
                     SELECT article_norm, {b}, cross_norm, {cb} FROM crosses WHERE {column} = $2
                     ON CONFLICT DO NOTHING",
                    b = if column == "brand_norm" { "$1" } else { "brand_norm" },
                    cb = if column == "brand_norm" { "cross_brand_norm" } else { "$1" },
                );
                crate::db::query(copy).bind(&brand).bind(&alias).execute(&mut *tx).await?;
                report.crosses_moved += crate::db::query(format!("DELETE FROM crosses WHERE {column} = $1"))
                    .bind(&alias)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
        }
        // A part crossed with its own alias is now crossed with itself.
        crate::db::query("DELETE FROM crosses WHERE article_norm = cross_norm AND brand_norm = cross_brand_norm")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(report)
    }
}

/// Every brand alias, read inside a write.
pub(crate) async fn brand_aliases_in(tx: &mut Tx) -> StoreResult<BrandAliases> {
    let rows: Vec<(String, String)> =
        crate::db::query_as("SELECT alias, brand FROM brand_aliases").fetch_all(&mut **tx).await?;
    Ok(BrandAliases::new(rows))
}

/// The canonical normalised name of `brand`, read inside a write.
pub(crate) async fn canonical_brand_in(tx: &mut Tx, brand: &str) -> StoreResult<String> {
    let norm = normalize_brand(brand);
    let target: Option<(String,)> = crate::db::query_as("SELECT brand FROM brand_aliases WHERE alias = $1")
        .bind(&norm)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(target.map_or(norm, |t| t.0))
}

/// The brand a product shows: as the price list spells it, unless that is an alias, which shows as
/// the brand it stands for.
pub(crate) fn shown_brand<'a>(raw: &'a str, canonical: &'a str) -> &'a str {
    if normalize_brand(raw) == canonical { raw.trim() } else { canonical }
}
