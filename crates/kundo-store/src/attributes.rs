//! Custom attribute definitions.

use chrono::{DateTime, Utc};
use kundo_core::attributes::{AttrType, AttributeDefinition};

use crate::{Db, StoreError, with_db};

pub async fn list(db: &mut Db<'_>) -> crate::Result<Vec<AttributeDefinition>> {
    let rows: Vec<(String, Option<String>, String, String, bool)> = with_db!(db, c, _pg => {
        sqlx::query_as("SELECT name, label, attr_type, allowed_values, required FROM attribute_definitions ORDER BY name")
            .fetch_all(&mut *c).await?
    });
    rows.into_iter()
        .map(|(name, label, t, allowed, required)| {
            Ok(AttributeDefinition {
                attr_type: AttrType::parse(&t)
                    .ok_or_else(|| StoreError::Corrupt(format!("attribute {name} has type {t}")))?,
                allowed_values: serde_json::from_str(&allowed)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                name,
                label,
                required,
            })
        })
        .collect()
}

/// Inserts a definition; `false` if the name exists already.
pub async fn create(
    db: &mut Db<'_>,
    def: &AttributeDefinition,
    now: DateTime<Utc>,
) -> crate::Result<bool> {
    let allowed = serde_json::to_string(&def.allowed_values)
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let n = with_db!(db, c, _pg => {
        sqlx::query("INSERT INTO attribute_definitions (name, label, attr_type, allowed_values, required, created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING")
            .bind(&def.name).bind(&def.label).bind(def.attr_type.as_str()).bind(allowed).bind(def.required).bind(now)
            .execute(&mut *c).await?.rows_affected()
    });
    Ok(n == 1)
}

/// How many customers carry a value for the attribute (a definition in use is not deleted).
pub async fn usage(db: &mut Db<'_>, name: &str) -> crate::Result<i64> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_scalar("SELECT COUNT(*) FROM customer_attributes WHERE name = $1").bind(name).fetch_one(&mut *c).await?
    }))
}

pub async fn delete(db: &mut Db<'_>, name: &str) -> crate::Result<bool> {
    let n = with_db!(db, c, _pg => {
        sqlx::query("DELETE FROM attribute_definitions WHERE name = $1").bind(name).execute(&mut *c).await?.rows_affected()
    });
    Ok(n == 1)
}
