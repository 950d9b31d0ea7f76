//! Webhook subscriptions, their cursors in the event outbox, and the delivery log.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{Db, with_db};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct WebhookRow {
    pub id: i64,
    pub url: String,
    #[serde(skip)]
    pub secret: String,
    pub event_types: String,
    pub active: bool,
    pub cursor: i64,
    pub failures: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str =
    "id, url, secret, event_types, active, cursor, failures, next_attempt_at, created_at";

/// A new subscription starts after the newest event: it receives what happens from now on.
pub async fn create(
    db: &mut Db<'_>,
    url: &str,
    secret: &str,
    event_types: &str,
    now: DateTime<Utc>,
) -> crate::Result<i64> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_scalar(
            "INSERT INTO webhooks (url, secret, event_types, active, cursor, failures, next_attempt_at, created_at) \
             VALUES ($1, $2, $3, TRUE, (SELECT COALESCE(MAX(id), 0) FROM events), 0, $4, $4) RETURNING id")
            .bind(url).bind(secret).bind(event_types).bind(now).fetch_one(&mut *c).await?
    }))
}

pub async fn list(db: &mut Db<'_>) -> crate::Result<Vec<WebhookRow>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM webhooks ORDER BY id"))).fetch_all(&mut *c).await?
    }))
}

pub async fn due(db: &mut Db<'_>, now: DateTime<Utc>) -> crate::Result<Vec<WebhookRow>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM webhooks WHERE active AND next_attempt_at <= $1 ORDER BY id")))
            .bind(now).fetch_all(&mut *c).await?
    }))
}

pub async fn deactivate(db: &mut Db<'_>, id: i64) -> crate::Result<bool> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query("UPDATE webhooks SET active = FALSE WHERE id = $1 AND active").bind(id).execute(&mut *c).await?.rows_affected() == 1
    }))
}

/// Moves the cursor past delivered (or not subscribed) events and clears the failure count.
pub async fn advance(
    db: &mut Db<'_>,
    id: i64,
    cursor: i64,
    now: DateTime<Utc>,
) -> crate::Result<()> {
    with_db!(db, c, _pg => {
        sqlx::query("UPDATE webhooks SET cursor = $1, failures = 0, next_attempt_at = $2 WHERE id = $3 AND cursor <= $1")
            .bind(cursor).bind(now).bind(id).execute(&mut *c).await?;
    });
    Ok(())
}

pub async fn postpone(
    db: &mut Db<'_>,
    id: i64,
    failures: i64,
    next_attempt_at: DateTime<Utc>,
) -> crate::Result<()> {
    with_db!(db, c, _pg => {
        sqlx::query("UPDATE webhooks SET failures = $1, next_attempt_at = $2 WHERE id = $3").bind(failures).bind(next_attempt_at).bind(id).execute(&mut *c).await?;
    });
    Ok(())
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: i64,
    #[serde(skip)]
    pub webhook_id: i64,
    pub event_id: i64,
    pub attempt: i64,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub delivered: bool,
    pub at: DateTime<Utc>,
}

/// One delivery attempt for the log.
#[derive(Debug, Clone)]
pub struct Attempt<'a> {
    pub webhook_id: i64,
    pub event_id: i64,
    pub attempt: i64,
    pub status: Option<i64>,
    pub error: Option<&'a str>,
    pub delivered: bool,
}

pub async fn log_delivery(
    db: &mut Db<'_>,
    a: &Attempt<'_>,
    now: DateTime<Utc>,
) -> crate::Result<()> {
    with_db!(db, c, _pg => {
        sqlx::query("INSERT INTO webhook_deliveries (webhook_id, event_id, attempt, status_code, error, delivered, at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(a.webhook_id).bind(a.event_id).bind(a.attempt).bind(a.status).bind(a.error).bind(a.delivered).bind(now).execute(&mut *c).await?;
    });
    Ok(())
}

pub async fn deliveries(
    db: &mut Db<'_>,
    webhook_id: i64,
    limit: i64,
) -> crate::Result<Vec<DeliveryRow>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as("SELECT id, webhook_id, event_id, attempt, status_code, error, delivered, at FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2")
            .bind(webhook_id).bind(limit).fetch_all(&mut *c).await?
    }))
}
