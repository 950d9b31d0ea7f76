//! The contact history: activities that are not purchases or voucher events (those are read
//! from their own tables when the timeline is built).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{Db, with_db};

/// One contact to record on a customer's timeline.
#[derive(Debug, Clone)]
pub struct NewActivity<'a> {
    pub customer_id: i64,
    /// letter, email, call, visit, complaint, service_request, note, postal_return, merge, …
    pub kind: &'a str,
    pub occurred_at: DateTime<Utc>,
    pub channel: Option<&'a str>,
    /// `inbound` (the customer contacted us) or `outbound`.
    pub direction: Option<&'a str>,
    pub subject: &'a str,
    pub body: Option<&'a str>,
    pub case_id: Option<i64>,
    /// What the activity refers to, e.g. `run:12`, `campaign:3`, `postal_return:7`.
    pub reference: Option<&'a str>,
    pub actor: &'a str,
}

/// Records an activity and returns its id.
pub async fn insert(
    db: &mut Db<'_>,
    a: &NewActivity<'_>,
    now: DateTime<Utc>,
) -> crate::Result<i64> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_scalar(
            "INSERT INTO activities (customer_id, kind, occurred_at, channel, direction, subject, body, case_id, ref, actor, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id")
            .bind(a.customer_id).bind(a.kind).bind(a.occurred_at).bind(a.channel).bind(a.direction)
            .bind(a.subject).bind(a.body).bind(a.case_id).bind(a.reference).bind(a.actor).bind(now)
            .fetch_one(&mut *c).await?
    }))
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ActivityRow {
    pub id: i64,
    #[serde(skip)]
    pub customer_id: i64,
    pub kind: String,
    pub occurred_at: DateTime<Utc>,
    pub channel: Option<String>,
    pub direction: Option<String>,
    pub subject: String,
    pub body: Option<String>,
    pub case_id: Option<i64>,
    #[sqlx(rename = "ref")]
    pub reference: Option<String>,
    pub actor: String,
    pub created_at: DateTime<Utc>,
}

pub async fn get(db: &mut Db<'_>, id: i64) -> crate::Result<Option<ActivityRow>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as(
            "SELECT id, customer_id, kind, occurred_at, channel, direction, subject, body, case_id, ref, actor, created_at \
             FROM activities WHERE id = $1")
            .bind(id).fetch_optional(&mut *c).await?
    }))
}
