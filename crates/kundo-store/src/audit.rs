//! The audit log (who changed what on a customer, old and new values) and the outbox of events
//! (written in the same transaction as the change they announce).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{Db, with_db};

pub async fn record(
    db: &mut Db<'_>,
    actor: &str,
    action: &str,
    customer_id: Option<i64>,
    changes: &serde_json::Value,
    now: DateTime<Utc>,
) -> crate::Result<()> {
    with_db!(db, c, _pg => {
        sqlx::query("INSERT INTO audit_log (at, actor, action, customer_id, changes) VALUES ($1, $2, $3, $4, $5)")
            .bind(now).bind(actor).bind(action).bind(customer_id).bind(changes.to_string())
            .execute(&mut *c).await?;
    });
    Ok(())
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    #[serde(skip)]
    pub customer_id: Option<i64>,
    #[serde(skip)]
    pub changes: String,
}

/// Audit entries of one customer (or all, with `None`), newest first, before the cursor id.
pub async fn entries(
    db: &mut Db<'_>,
    customer_id: Option<i64>,
    before_id: Option<i64>,
    limit: i64,
) -> crate::Result<Vec<AuditEntry>> {
    let before = before_id.unwrap_or(i64::MAX);
    Ok(with_db!(db, c, _pg => {
        match customer_id {
            Some(id) => sqlx::query_as("SELECT id, at, actor, action, customer_id, changes FROM audit_log WHERE customer_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3")
                .bind(id).bind(before).bind(limit).fetch_all(&mut *c).await?,
            None => sqlx::query_as("SELECT id, at, actor, action, customer_id, changes FROM audit_log WHERE id < $1 ORDER BY id DESC LIMIT $2")
                .bind(before).bind(limit).fetch_all(&mut *c).await?,
        }
    }))
}

pub async fn emit(
    db: &mut Db<'_>,
    event_type: &str,
    customer_id: Option<i64>,
    payload: &serde_json::Value,
    now: DateTime<Utc>,
) -> crate::Result<i64> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_scalar("INSERT INTO events (at, event_type, customer_id, payload) VALUES ($1, $2, $3, $4) RETURNING id")
            .bind(now).bind(event_type).bind(customer_id).bind(payload.to_string())
            .fetch_one(&mut *c).await?
    }))
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub event_type: String,
    pub payload: String,
}

/// Events after a cursor, oldest first: how systems pull what they missed.
pub async fn events_after(
    db: &mut Db<'_>,
    after_id: i64,
    limit: i64,
) -> crate::Result<Vec<EventRow>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as("SELECT id, at, event_type, payload FROM events WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(after_id).bind(limit).fetch_all(&mut *c).await?
    }))
}

/// Many events in one statement (runs issue thousands of vouchers at once).
pub async fn emit_many(
    db: &mut Db<'_>,
    events: &[(&str, Option<i64>, serde_json::Value)],
    now: DateTime<Utc>,
) -> crate::Result<()> {
    let rows = events
        .iter()
        .map(|(t, customer, payload)| {
            vec![
                now.into(),
                (*t).into(),
                crate::rows::Val::OptInt(*customer),
                payload.to_string().into(),
            ]
        })
        .collect();
    crate::rows::insert_rows(
        db,
        "events",
        &["at", "event_type", "customer_id", "payload"],
        rows,
    )
    .await
}
