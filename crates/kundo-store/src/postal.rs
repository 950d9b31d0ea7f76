//! What postal returns change on a customer: the postal status of the current addresses, the
//! "reportedly deceased" mark, the block on postal advertising, and the log of returns.

use chrono::{DateTime, Utc};

use crate::{Db, with_db};

/// Sets the postal status of the customer's current addresses; returns how many changed.
pub async fn set_postal_status(
    db: &mut Db<'_>,
    customer_id: i64,
    status: &str,
) -> crate::Result<u64> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query("UPDATE addresses SET postal_status = $1 WHERE customer_id = $2 AND valid_until IS NULL")
            .bind(status).bind(customer_id).execute(&mut *c).await?.rows_affected()
    }))
}

/// Marks a customer reportedly deceased (all marketing stops; nothing is deleted).
pub async fn mark_deceased(
    db: &mut Db<'_>,
    customer_id: i64,
    now: DateTime<Utc>,
) -> crate::Result<()> {
    with_db!(db, c, _pg => {
        sqlx::query("UPDATE customers SET reported_deceased_at = COALESCE(reported_deceased_at, $1), version = version + 1, updated_at = $1 WHERE id = $2")
            .bind(now).bind(customer_id).execute(&mut *c).await?;
    });
    Ok(())
}

/// Blocks postal advertising after a refused letter.
pub async fn block_postal_ads(
    db: &mut Db<'_>,
    customer_id: i64,
    now: DateTime<Utc>,
) -> crate::Result<()> {
    with_db!(db, c, _pg => {
        sqlx::query("UPDATE customers SET postal_ads_blocked = TRUE, version = version + 1, updated_at = $1 WHERE id = $2")
            .bind(now).bind(customer_id).execute(&mut *c).await?;
    });
    Ok(())
}

/// `(reported deceased, postal advertising blocked)` of a customer.
pub async fn marketing_blocks(db: &mut Db<'_>, customer_id: i64) -> crate::Result<(bool, bool)> {
    let row: Option<(Option<DateTime<Utc>>, bool)> = with_db!(db, c, _pg => {
        sqlx::query_as("SELECT reported_deceased_at, postal_ads_blocked FROM customers WHERE id = $1")
            .bind(customer_id).fetch_optional(&mut *c).await?
    });
    Ok(row.map_or((false, false), |(d, b)| (d.is_some(), b)))
}

pub struct ReturnRow<'a> {
    pub import_id: &'a str,
    pub line_no: i64,
    pub reference: &'a str,
    pub customer_id: Option<i64>,
    pub reason_code: &'a str,
    pub outcome: &'a str,
}

pub async fn record_return(
    db: &mut Db<'_>,
    r: &ReturnRow<'_>,
    now: DateTime<Utc>,
) -> crate::Result<()> {
    with_db!(db, c, _pg => {
        sqlx::query("INSERT INTO postal_returns (import_id, line_no, reference, customer_id, reason_code, outcome, imported_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(r.import_id).bind(r.line_no).bind(r.reference).bind(r.customer_id).bind(r.reason_code).bind(r.outcome).bind(now)
            .execute(&mut *c).await?;
    });
    Ok(())
}
