//! Figures per month for the staff dashboard: new customers, active and lost customers, points
//! earned and converted, vouchers issued, redeemed and expired, and the RFM grid.
//!
//! Definitions: a customer is **active** in a month when they have a sale in it (from
//! `customer_monthly`); a customer is **lost** in month M when their last purchase was in
//! M − 12 (nothing since, so they count once, twelve months after they stopped buying).
//! Months are UTC calendar months `YYYY-MM`. The only dialect difference is how a timestamp
//! becomes its month: `substr(t, 1, 7)` on SQLite's RFC 3339 text, `to_char(t AT TIME ZONE
//! 'UTC', 'YYYY-MM')` on PostgreSQL.

use std::collections::BTreeMap;

use crate::db::dialect;
use crate::{Db, with_db};

/// `month → count`, ordered by month.
pub type Series = BTreeMap<String, i64>;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Monthly {
    pub new_customers: Series,
    pub active_customers: Series,
    pub lost_customers: Series,
    pub points_earned: Series,
    pub points_converted: Series,
    pub vouchers_issued: Series,
    pub vouchers_redeemed: Series,
    pub vouchers_expired: Series,
    /// `(r, f) → customers` from `customer_scores`; empty when nothing was scored.
    pub rfm: BTreeMap<(i64, i64), i64>,
}

/// The month `n` months after `month` (`YYYY-MM`); `None` for a malformed month.
pub fn add_months(month: &str, n: i32) -> Option<String> {
    let (y, m) = month.split_once('-')?;
    let (y, m): (i32, i32) = (y.parse().ok()?, m.parse().ok()?);
    if !(1..=12).contains(&m) {
        return None;
    }
    let total = y * 12 + (m - 1) + n;
    Some(format!(
        "{:04}-{:02}",
        total.div_euclid(12),
        total.rem_euclid(12) + 1
    ))
}

async fn series(
    db: &mut Db<'_>,
    sqlite_sql: &'static str,
    pg_sql: &'static str,
    from: &str,
) -> crate::Result<Series> {
    let rows: Vec<(Option<String>, Option<i64>)> = with_db!(db, c, pg => {
        sqlx::query_as(dialect(pg, sqlite_sql, pg_sql)).bind(from).fetch_all(&mut *c).await?
    });
    Ok(rows
        .into_iter()
        .filter_map(|(m, n)| Some((m?, n.unwrap_or(0))))
        .collect())
}

/// Every figure for the months from `from` (`YYYY-MM`, included) up to `to` (included).
pub async fn monthly(db: &mut Db<'_>, from: &str, to: &str) -> crate::Result<Monthly> {
    let mut out = Monthly {
        new_customers: series(
            db,
            "SELECT substr(created_at, 1, 7) AS m, CAST(COUNT(*) AS BIGINT) FROM customers WHERE substr(created_at, 1, 7) >= $1 GROUP BY m",
            "SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM') AS m, COUNT(*) FROM customers WHERE to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM') >= $1 GROUP BY m",
            from,
        )
        .await?,
        active_customers: series(
            db,
            "SELECT month, CAST(COUNT(*) AS BIGINT) FROM customer_monthly WHERE month >= $1 AND receipts > 0 GROUP BY month",
            "SELECT month, COUNT(*) FROM customer_monthly WHERE month >= $1 AND receipts > 0 GROUP BY month",
            from,
        )
        .await?,
        points_earned: series(
            db,
            "SELECT substr(created_at, 1, 7) AS m, CAST(SUM(points) AS BIGINT) FROM points_ledger WHERE kind = 'earn' AND substr(created_at, 1, 7) >= $1 GROUP BY m",
            "SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM') AS m, CAST(SUM(points) AS BIGINT) FROM points_ledger WHERE kind = 'earn' AND to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM') >= $1 GROUP BY m",
            from,
        )
        .await?,
        points_converted: series(
            db,
            "SELECT substr(created_at, 1, 7) AS m, CAST(-SUM(points) AS BIGINT) FROM points_ledger WHERE kind = 'convert' AND substr(created_at, 1, 7) >= $1 GROUP BY m",
            "SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM') AS m, CAST(-SUM(points) AS BIGINT) FROM points_ledger WHERE kind = 'convert' AND to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM') >= $1 GROUP BY m",
            from,
        )
        .await?,
        vouchers_issued: series(
            db,
            "SELECT substr(issued_at, 1, 7) AS m, CAST(COUNT(*) AS BIGINT) FROM vouchers WHERE substr(issued_at, 1, 7) >= $1 GROUP BY m",
            "SELECT to_char(issued_at AT TIME ZONE 'UTC', 'YYYY-MM') AS m, COUNT(*) FROM vouchers WHERE to_char(issued_at AT TIME ZONE 'UTC', 'YYYY-MM') >= $1 GROUP BY m",
            from,
        )
        .await?,
        vouchers_redeemed: series(
            db,
            "SELECT substr(redeemed_at, 1, 7) AS m, CAST(COUNT(*) AS BIGINT) FROM vouchers WHERE status = 'redeemed' AND substr(redeemed_at, 1, 7) >= $1 GROUP BY m",
            "SELECT to_char(redeemed_at AT TIME ZONE 'UTC', 'YYYY-MM') AS m, COUNT(*) FROM vouchers WHERE status = 'redeemed' AND to_char(redeemed_at AT TIME ZONE 'UTC', 'YYYY-MM') >= $1 GROUP BY m",
            from,
        )
        .await?,
        vouchers_expired: series(
            db,
            "SELECT substr(valid_until, 1, 7) AS m, CAST(COUNT(*) AS BIGINT) FROM vouchers WHERE status = 'expired' AND substr(valid_until, 1, 7) >= $1 GROUP BY m",
            "SELECT to_char(valid_until AT TIME ZONE 'UTC', 'YYYY-MM') AS m, COUNT(*) FROM vouchers WHERE status = 'expired' AND to_char(valid_until AT TIME ZONE 'UTC', 'YYYY-MM') >= $1 GROUP BY m",
            from,
        )
        .await?,
        ..Monthly::default()
    };
    // Lost in M = last purchase in M − 12: read the last purchases from twelve months earlier.
    let lost_from = add_months(from, -12).unwrap_or_default();
    let last = series(
        db,
        "SELECT substr(s.last_purchase, 1, 7) AS m, CAST(COUNT(*) AS BIGINT) FROM customer_stats s JOIN customers c ON c.id = s.customer_id WHERE c.status = 'active' AND s.last_purchase IS NOT NULL AND substr(s.last_purchase, 1, 7) >= $1 GROUP BY m",
        "SELECT to_char(s.last_purchase AT TIME ZONE 'UTC', 'YYYY-MM') AS m, COUNT(*) FROM customer_stats s JOIN customers c ON c.id = s.customer_id WHERE c.status = 'active' AND s.last_purchase IS NOT NULL AND to_char(s.last_purchase AT TIME ZONE 'UTC', 'YYYY-MM') >= $1 GROUP BY m",
        &lost_from,
    )
    .await?;
    out.lost_customers = last
        .into_iter()
        .filter_map(|(m, n)| Some((add_months(&m, 12)?, n)))
        .collect();
    let rfm: Vec<(i64, i64, i64)> = with_db!(db, c, _pg => {
        sqlx::query_as("SELECT r, f, CAST(COUNT(*) AS BIGINT) FROM customer_scores WHERE r IS NOT NULL AND f IS NOT NULL GROUP BY r, f")
            .fetch_all(&mut *c).await?
    });
    out.rfm = rfm.into_iter().map(|(r, f, n)| ((r, f), n)).collect();
    for s in [
        &mut out.new_customers,
        &mut out.active_customers,
        &mut out.lost_customers,
        &mut out.points_earned,
        &mut out.points_converted,
        &mut out.vouchers_issued,
        &mut out.vouchers_redeemed,
        &mut out.vouchers_expired,
    ] {
        s.retain(|m, _| m.as_str() >= from && m.as_str() <= to);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::add_months;

    #[test]
    fn months_add_across_years() {
        assert_eq!(add_months("2026-11", 12).as_deref(), Some("2027-11"));
        assert_eq!(add_months("2026-01", -1).as_deref(), Some("2025-12"));
        assert_eq!(add_months("2026-12", 1).as_deref(), Some("2027-01"));
        assert_eq!(add_months("2026-13", 1), None);
        assert_eq!(add_months("x", 1), None);
    }
}
