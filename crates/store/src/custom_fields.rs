//! Custom field definitions and dictionaries. They are read through the cached books (a write bumps
//! the books' generation through the tables' triggers), so this module only writes them and turns
//! their rows into domain values.

use crate::db::{self, Row};
use crate::{Store, StoreError, StoreResult, json_map};
use serde_json::{Value, json};
use torg_domain::custom_field::{self, CustomField, Dictionary, Element, FieldType};

pub(crate) fn field_from_row(r: &Row) -> StoreResult<CustomField> {
    let kind: String = r.try_get("type")?;
    Ok(CustomField {
        entity: r.try_get("entity")?,
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        kind: FieldType::parse(&kind).unwrap_or(FieldType::String),
        dictionary: r.try_get("dictionary")?,
        ordering: r.try_get("ordering")?,
        attrs: json_map(&r.try_get::<String, _>("doc")?),
    })
}

pub(crate) fn dictionary_from_row(r: &Row) -> StoreResult<Dictionary> {
    let text: String = r.try_get("elements")?;
    let elements = match serde_json::from_str::<Value>(&text) {
        Ok(Value::Array(items)) => items
            .iter()
            .map(|e| Element {
                code: e["code"].as_str().unwrap_or_default().to_string(),
                name: e["name"].as_str().unwrap_or_default().to_string(),
                ordering: e["ordering"].as_i64().unwrap_or_default(),
            })
            .collect(),
        _ => Vec::new(),
    };
    Ok(Dictionary { code: r.try_get("code")?, name: r.try_get("name")?, elements })
}

fn elements_text(d: &Dictionary) -> String {
    Value::Array(d.elements.iter().map(|e| json!({ "code": e.code, "name": e.name, "ordering": e.ordering })).collect())
        .to_string()
}

impl Store {
    /// Adds a custom field definition; its code must be new for its entity.
    pub async fn create_custom_field(&self, f: &CustomField) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        db::query(
            "INSERT INTO custom_fields (entity, code, name, type, dictionary, ordering, doc) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&f.entity)
        .bind(&f.code)
        .bind(&f.name)
        .bind(f.kind.code())
        .bind(&f.dictionary)
        .bind(f.ordering)
        .bind(crate::json_text(&f.attrs))
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::unique_as(e, || custom_field::field_code_taken(&f.code)))?;
        tx.commit().await?;
        Ok(())
    }

    /// Replaces a definition's name, dictionary, ordering and attributes; false when there is none.
    pub async fn update_custom_field(&self, f: &CustomField) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let changed = db::query(
            "UPDATE custom_fields SET name = $1, dictionary = $2, ordering = $3, doc = $4 WHERE entity = $5 AND code = $6",
        )
        .bind(&f.name)
        .bind(&f.dictionary)
        .bind(f.ordering)
        .bind(crate::json_text(&f.attrs))
        .bind(&f.entity)
        .bind(&f.code)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(changed.rows_affected() > 0)
    }

    /// Adds a dictionary; its code must be new.
    pub async fn create_dictionary(&self, d: &Dictionary) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        db::query("INSERT INTO custom_dictionaries (code, name, elements) VALUES ($1, $2, $3)")
            .bind(&d.code)
            .bind(&d.name)
            .bind(elements_text(d))
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::unique_as(e, || custom_field::dictionary_code_taken(&d.code)))?;
        tx.commit().await?;
        Ok(())
    }

    /// Replaces a dictionary's name and elements; false when there is none.
    pub async fn update_dictionary(&self, d: &Dictionary) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let changed = db::query("UPDATE custom_dictionaries SET name = $1, elements = $2 WHERE code = $3")
            .bind(&d.name)
            .bind(elements_text(d))
            .bind(&d.code)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(changed.rows_affected() > 0)
    }
}
