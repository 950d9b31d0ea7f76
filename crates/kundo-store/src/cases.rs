//! Cases: complaints and service requests with a status and a history of their own
//! (`case_events`). Each change of status is a conditional update on the status read, so two
//! clerks cannot both move the same case.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{Db, with_db};

#[derive(Debug, Clone)]
pub struct NewCase<'a> {
    pub customer_id: i64,
    /// `complaint` or `service_request`.
    pub kind: &'a str,
    pub subject: &'a str,
    pub team: Option<&'a str>,
    pub assignee: Option<&'a str>,
    pub created_by: &'a str,
}

/// Opens a case and returns its id.
pub async fn insert(db: &mut Db<'_>, c: &NewCase<'_>, now: DateTime<Utc>) -> crate::Result<i64> {
    Ok(with_db!(db, conn, _pg => {
        sqlx::query_scalar(
            "INSERT INTO cases (customer_id, kind, subject, status, team, assignee, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, 'open', $4, $5, $6, $7, $7) RETURNING id")
            .bind(c.customer_id).bind(c.kind).bind(c.subject).bind(c.team).bind(c.assignee).bind(c.created_by).bind(now)
            .fetch_one(&mut *conn).await?
    }))
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CaseRow {
    pub id: i64,
    #[serde(skip)]
    pub customer_id: i64,
    pub customer_number: String,
    pub kind: String,
    pub subject: String,
    pub status: String,
    pub team: Option<String>,
    pub assignee: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

const CASE_COLUMNS: &str = "k.id, k.customer_id, c.customer_number, k.kind, k.subject, k.status, k.team, k.assignee, k.created_by, \
     k.created_at, k.updated_at, k.closed_at";

pub async fn get(db: &mut Db<'_>, id: i64) -> crate::Result<Option<CaseRow>> {
    Ok(with_db!(db, conn, _pg => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {CASE_COLUMNS} FROM cases k JOIN customers c ON c.id = k.customer_id WHERE k.id = $1"
        )))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    }))
}

/// The cases of one customer, newest first, before the cursor id.
pub async fn of_customer(
    db: &mut Db<'_>,
    customer_id: i64,
    before_id: Option<i64>,
    limit: i64,
) -> crate::Result<Vec<CaseRow>> {
    Ok(with_db!(db, conn, _pg => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {CASE_COLUMNS} FROM cases k JOIN customers c ON c.id = k.customer_id \
             WHERE k.customer_id = $1 AND k.id < $2 ORDER BY k.id DESC LIMIT $3"
        )))
        .bind(customer_id)
        .bind(before_id.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?
    }))
}

/// Moves a case from `from` to `to`. `false`: its status was no longer `from`.
pub async fn set_status(
    db: &mut Db<'_>,
    id: i64,
    from: &str,
    to: &str,
    now: DateTime<Utc>,
) -> crate::Result<bool> {
    let closed_at = (to == "closed").then_some(now);
    Ok(with_db!(db, conn, _pg => {
        sqlx::query("UPDATE cases SET status = $1, updated_at = $2, closed_at = $3 WHERE id = $4 AND status = $5")
            .bind(to).bind(now).bind(closed_at).bind(id).bind(from)
            .execute(&mut *conn).await?.rows_affected() == 1
    }))
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CaseEventRow {
    pub id: i64,
    #[serde(skip)]
    pub case_id: i64,
    pub status: String,
    pub note: Option<String>,
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// Records one step of a case's history.
pub async fn add_event(
    db: &mut Db<'_>,
    case_id: i64,
    customer_id: i64,
    status: &str,
    note: Option<&str>,
    actor: &str,
    now: DateTime<Utc>,
) -> crate::Result<i64> {
    Ok(with_db!(db, conn, _pg => {
        sqlx::query_scalar(
            "INSERT INTO case_events (case_id, customer_id, status, note, actor, at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
            .bind(case_id).bind(customer_id).bind(status).bind(note).bind(actor).bind(now)
            .fetch_one(&mut *conn).await?
    }))
}

/// The history of a case, oldest first.
pub async fn events(db: &mut Db<'_>, case_id: i64) -> crate::Result<Vec<CaseEventRow>> {
    Ok(with_db!(db, conn, _pg => {
        sqlx::query_as("SELECT id, case_id, status, note, actor, at FROM case_events WHERE case_id = $1 ORDER BY id")
            .bind(case_id).fetch_all(&mut *conn).await?
    }))
}
