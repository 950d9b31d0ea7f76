//! Tasks (Aufgaben) for staff: created by postal returns, by the duplicates review, by hand.

use chrono::{DateTime, NaiveDate, Utc};

use crate::{Db, with_db};

#[derive(Debug, Clone)]
pub struct NewTask<'a> {
    pub customer_id: Option<i64>,
    /// e.g. `address_research`, `duplicate_review`, `callback`, `general`.
    pub kind: &'a str,
    pub title: &'a str,
    pub description: Option<&'a str>,
    pub team: Option<&'a str>,
    pub assignee: Option<&'a str>,
    pub due_date: Option<NaiveDate>,
    /// Who or what created it: `manual`, `postal_return`, `duplicates`.
    pub source: &'a str,
    pub source_ref: Option<&'a str>,
    pub created_by: &'a str,
}

/// Creates an open task and returns its id.
pub async fn insert(db: &mut Db<'_>, t: &NewTask<'_>, now: DateTime<Utc>) -> crate::Result<i64> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_scalar(
            "INSERT INTO tasks (customer_id, kind, title, description, team, assignee, due_date, status, source, source_ref, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $9, $10, $11, $11) RETURNING id")
            .bind(t.customer_id).bind(t.kind).bind(t.title).bind(t.description).bind(t.team)
            .bind(t.assignee).bind(t.due_date).bind(t.source).bind(t.source_ref).bind(t.created_by).bind(now)
            .fetch_one(&mut *c).await?
    }))
}
