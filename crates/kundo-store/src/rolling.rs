//! The rolling twelve-month purchase figures in `customer_stats` (`*_12m`, ADR 8).
//!
//! "Revenue in the last 12 months" is the most common purchase condition of a segment. Summing
//! `customer_monthly` for it costs a range probe per customer; the rolling columns make it one
//! row read beside the all-time figures. They cover the months of [`months_for`] as stored in
//! `rolling_window`: ingest and merges add to them what falls into those months, and [`roll`]
//! recomputes them from `customer_monthly` when the month changes (the nightly job). Readers
//! use them only when the stored window is exactly the one they need, so a late roll makes
//! segments slower, never wrong.
//!
//! Locking on PostgreSQL: writers of the figures lock the window row `FOR SHARE` before they
//! touch `customer_stats`; the roll locks it `FOR UPDATE` first, so it waits for the writers in
//! flight and its recompute sees their monthly rows. On SQLite the single writer serialises.

use chrono::NaiveDate;

use crate::{Db, with_db};

/// First and last month ("YYYY-MM") of the rolling figures for a day: "the last 12 months"
/// ([`kundo_core::twelve_months`], the segment window `{"last_months": 12}`) on that day.
pub fn months_for(as_of: NaiveDate) -> (String, String) {
    kundo_core::twelve_months::months(as_of)
}

/// The stored window as is (empty months before the first roll), with the row lock that
/// PostgreSQL should take (`""`, `" FOR SHARE"`, `" FOR UPDATE"`; SQLite's writer lock serialises).
async fn read_window(
    db: &mut Db<'_>,
    pg_lock: &'static str,
) -> crate::Result<Option<(String, String)>> {
    Ok(with_db!(db, c, pg => {
        let lock = if pg { pg_lock } else { "" };
        let sql = format!("SELECT from_month, to_month FROM rolling_window WHERE id = 1{lock}");
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_optional(&mut *c).await?
    }))
}

/// The months the rolling figures cover, `None` before the first roll.
pub async fn current(db: &mut Db<'_>) -> crate::Result<Option<(String, String)>> {
    Ok(read_window(db, "")
        .await?
        .filter(|(from, _)| !from.is_empty()))
}

/// The window for a writer of the figures, locked against a concurrent roll (PostgreSQL).
pub(crate) async fn lock_shared(db: &mut Db<'_>) -> crate::Result<Option<(String, String)>> {
    Ok(read_window(db, " FOR SHARE")
        .await?
        .filter(|(from, _)| !from.is_empty()))
}

/// Does `month` fall into the window?
pub(crate) fn covers(window: &Option<(String, String)>, month: &str) -> bool {
    window
        .as_ref()
        .is_some_and(|(from, to)| from.as_str() <= month && month <= to.as_str())
}

/// Recomputes the rolling figures for the months of `as_of` unless they are current already.
/// Answers whether it rolled. Run it in a write transaction.
pub async fn roll(db: &mut Db<'_>, as_of: NaiveDate) -> crate::Result<bool> {
    let (from, to) = months_for(as_of);
    let locked = read_window(db, " FOR UPDATE").await?;
    if locked.as_ref() == Some(&(from.clone(), to.clone())) {
        return Ok(false);
    }
    with_db!(db, c, _pg => {
        sqlx::query("UPDATE rolling_window SET from_month = $1, to_month = $2 WHERE id = 1")
            .bind(&from).bind(&to).execute(&mut *c).await?;
        sqlx::query(
            "UPDATE customer_stats SET receipts_12m = 0, revenue_12m = 0, online_receipts_12m = 0, online_revenue_12m = 0 \
             WHERE receipts_12m <> 0 OR revenue_12m <> 0 OR online_receipts_12m <> 0 OR online_revenue_12m <> 0",
        )
        .execute(&mut *c).await?;
        sqlx::query(
            "UPDATE customer_stats SET receipts_12m = w.receipts, revenue_12m = w.revenue, \
             online_receipts_12m = w.online_receipts, online_revenue_12m = w.online_revenue \
             FROM (SELECT customer_id, CAST(SUM(receipts) AS BIGINT) AS receipts, CAST(SUM(revenue) AS BIGINT) AS revenue, \
                   CAST(SUM(online_receipts) AS BIGINT) AS online_receipts, CAST(SUM(online_revenue) AS BIGINT) AS online_revenue \
                   FROM customer_monthly WHERE month >= $1 AND month <= $2 GROUP BY customer_id) w \
             WHERE customer_stats.customer_id = w.customer_id",
        )
        .bind(&from).bind(&to).execute(&mut *c).await?;
    });
    Ok(true)
}
