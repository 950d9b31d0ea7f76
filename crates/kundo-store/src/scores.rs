//! Customer scores (DOMAIN §7): RFM codes computed set-based in SQL, the per-customer purchase
//! histories the lifetime-value models are fitted on, and the tables the scores job writes.
//!
//! RFM never leaves the database: one query yields the twelve quintile breakpoints, one
//! `INSERT … SELECT … CASE` scores every customer, so a million customers cost two statements
//! and no round trip per customer. The rule is `kundo_core::scores::rfm` (nearest rank,
//! ties equal); the tests compare this SQL with `kundo_core::scores::rfm_scores`.

use chrono::{DateTime, Months, NaiveDate, Utc};
use kundo_core::scores::{QuintileBreaks, Rft};
use serde::Serialize;
use sqlx::AssertSqlSafe;

use crate::db::dialect;
use crate::rows::Val;
use crate::{Db, with_db};

/// The time frame of one scoring run, derived once from its as-of date so that every query of
/// the run sees the same window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreWindow {
    /// The last day whose purchases count (inclusive).
    pub as_of: NaiveDate,
    /// Start of the day after `as_of`: receipts before it count.
    pub end: DateTime<Utc>,
    /// Start of the day 24 calendar months before `as_of`: customers whose last purchase is
    /// at or after it are "active in 24 months" and get scores.
    pub active_since: DateTime<Utc>,
    /// First and last month ("YYYY-MM") of "the last 12 months" ([`kundo_core::twelve_months`]:
    /// the month of `as_of` and the eleven before), the window of the purchase figures, the
    /// segments and the birthday run, so F and M agree with what the customer view shows.
    pub from_month: String,
    pub to_month: String,
}

fn day_start(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

impl ScoreWindow {
    pub fn new(as_of: NaiveDate) -> ScoreWindow {
        let next = as_of.succ_opt().unwrap_or(as_of);
        let since = as_of
            .checked_sub_months(Months::new(24))
            .unwrap_or(NaiveDate::MIN);
        let (from_month, to_month) = kundo_core::twelve_months::months(as_of);
        ScoreWindow {
            as_of,
            end: day_start(next),
            active_since: day_start(since),
            from_month,
            to_month,
        }
    }

    /// Days since 1970-01-01 of `as_of`, the unit the purchase histories are counted in.
    pub fn as_of_day(&self) -> i64 {
        epoch_day(self.as_of)
    }
}

pub fn epoch_day(d: NaiveDate) -> i64 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()).num_days()
}

/// Days between `as_of` and the (UTC) day of the last purchase, never negative: a purchase
/// booked after the as-of date counts as bought on it.
fn recency_sql(pg: bool) -> &'static str {
    dialect(
        pg,
        "CASE WHEN julianday($1) - julianday(date(s.last_purchase)) < 0 THEN 0 ELSE CAST(julianday($1) - julianday(date(s.last_purchase)) AS BIGINT) END",
        "CASE WHEN $1 - CAST(s.last_purchase AT TIME ZONE 'UTC' AS DATE) < 0 THEN 0 ELSE CAST($1 - CAST(s.last_purchase AT TIME ZONE 'UTC' AS DATE) AS BIGINT) END",
    )
}

/// The RFM input of every customer active in the window, as a sub-select with parameters
/// $1 = as_of (date), $2 = active_since, $3 = from_month, $4 = to_month. F and M sum at most 12
/// monthly rows per customer; a customer without receipts in the months has F = M = 0.
fn input_sql(pg: bool) -> String {
    format!(
        "SELECT s.customer_id, {} AS recency_days, COALESCE(w.receipts, 0) AS frequency, COALESCE(w.revenue, 0) AS monetary \
         FROM customer_stats s LEFT JOIN (SELECT customer_id, CAST(SUM(receipts) AS BIGINT) AS receipts, CAST(SUM(revenue) AS BIGINT) AS revenue \
         FROM customer_monthly WHERE month >= $3 AND month <= $4 GROUP BY customer_id) w ON w.customer_id = s.customer_id \
         WHERE s.last_purchase >= $2",
        recency_sql(pg)
    )
}

/// The raw RFM figures of every active customer, by customer id. Used by tests and tools that
/// check the SQL rule against `kundo_core::scores`; the job itself never loads them.
pub async fn rfm_inputs(
    db: &mut Db<'_>,
    w: &ScoreWindow,
) -> crate::Result<Vec<kundo_core::scores::RfmInput>> {
    let rows: Vec<(i64, i64, i64, i64)> = with_db!(db, c, pg => {
        let sql = format!("SELECT customer_id, recency_days, frequency, monetary FROM ({}) i ORDER BY customer_id", input_sql(pg));
        sqlx::query_as(AssertSqlSafe(sql)).bind(w.as_of).bind(w.active_since).bind(&w.from_month).bind(&w.to_month).fetch_all(&mut *c).await?
    });
    Ok(rows
        .into_iter()
        .map(
            |(customer_id, recency_days, frequency, monetary)| kundo_core::scores::RfmInput {
                customer_id,
                recency_days,
                frequency,
                monetary,
            },
        )
        .collect())
}

/// The twelve nearest-rank breakpoints over the active customers (see `kundo_core::scores::rfm`
/// for the rule), with the number of customers; `None` when nobody is active. One statement:
/// three window sorts over the same input, each breakpoint picked at rank ⌈P·n/100⌉. Ties in
/// `ROW_NUMBER` do not matter, tied rows hold the same value.
pub async fn rfm_breaks(
    db: &mut Db<'_>,
    w: &ScoreWindow,
) -> crate::Result<Option<(i64, QuintileBreaks)>> {
    let pick = |rank: &str, value: &str| -> String {
        [20, 40, 60, 80]
            .iter()
            .map(|p| format!("MAX(CASE WHEN {rank} = ({p} * n + 99) / 100 THEN {value} END)"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    type Row = (
        Option<i64>,
        [Option<i64>; 4],
        [Option<i64>; 4],
        [Option<i64>; 4],
    );
    let row: Row = with_db!(db, c, pg => {
        let sql = format!(
            "SELECT MAX(n), {}, {}, {} FROM (SELECT recency_days, frequency, monetary, \
             ROW_NUMBER() OVER (ORDER BY recency_days DESC) AS rr, ROW_NUMBER() OVER (ORDER BY frequency) AS fr, \
             ROW_NUMBER() OVER (ORDER BY monetary) AS mr, COUNT(*) OVER () AS n FROM ({}) i) ranked",
            pick("rr", "recency_days"), pick("fr", "frequency"), pick("mr", "monetary"), input_sql(pg)
        );
        let r = sqlx::query(AssertSqlSafe(sql)).bind(w.as_of).bind(w.active_since).bind(&w.from_month).bind(&w.to_month).fetch_one(&mut *c).await?;
        use sqlx::Row as _;
        let get = |i: usize| -> Result<Option<i64>, sqlx::Error> { r.try_get::<Option<i64>, _>(i) };
        (get(0)?, [get(1)?, get(2)?, get(3)?, get(4)?], [get(5)?, get(6)?, get(7)?, get(8)?], [get(9)?, get(10)?, get(11)?, get(12)?])
    });
    let (Some(n), recency, frequency, monetary) = row else {
        return Ok(None);
    };
    let all = |b: [Option<i64>; 4]| -> Option<[i64; 4]> { Some([b[0]?, b[1]?, b[2]?, b[3]?]) };
    match (all(recency), all(frequency), all(monetary)) {
        (Some(recency), Some(frequency), Some(monetary)) => Ok(Some((
            n,
            QuintileBreaks {
                recency,
                frequency,
                monetary,
            },
        ))),
        _ => Err(crate::StoreError::Corrupt(
            "RFM breakpoints are incomplete".into(),
        )),
    }
}

/// Scores every active customer against `breaks` in one `INSERT … SELECT … CASE` (upsert) and
/// removes the rows of customers no longer active (their `scored_at` is not this run's). Sets
/// `clv_historic` = revenue of the last 12 months (= M, DOMAIN §7); leaves `clv_predicted` of
/// existing rows alone (the model step writes it). Returns the number of customers scored.
pub async fn write_rfm(
    db: &mut Db<'_>,
    w: &ScoreWindow,
    breaks: &QuintileBreaks,
    now: DateTime<Utc>,
) -> crate::Result<u64> {
    // $5..$16: the breakpoints, $17: now.
    let count = |column: &str, op: &str, first: usize| -> String {
        (0..4)
            .map(|k| format!("CASE WHEN {column} {op} ${} THEN 1 ELSE 0 END", first + k))
            .collect::<Vec<_>>()
            .join(" + ")
    };
    let scored = with_db!(db, c, pg => {
        let sql = format!(
            "INSERT INTO customer_scores (customer_id, recency_days, frequency, monetary, r, f, m, rfm, clv_historic, clv_predicted, scored_at) \
             SELECT customer_id, recency_days, frequency, monetary, r, f, m, CAST(r AS TEXT) || CAST(f AS TEXT) || CAST(m AS TEXT), monetary, NULL, $17 \
             FROM (SELECT i.*, 1 + {} AS r, 1 + {} AS f, 1 + {} AS m FROM ({}) i) scored WHERE 1 = 1 \
             ON CONFLICT (customer_id) DO UPDATE SET recency_days = excluded.recency_days, frequency = excluded.frequency, monetary = excluded.monetary, \
             r = excluded.r, f = excluded.f, m = excluded.m, rfm = excluded.rfm, clv_historic = excluded.clv_historic, scored_at = excluded.scored_at",
            count("recency_days", "<", 5), count("frequency", ">", 9), count("monetary", ">", 13), input_sql(pg)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(w.as_of).bind(w.active_since).bind(&w.from_month).bind(&w.to_month);
        for b in breaks.recency.iter().chain(&breaks.frequency).chain(&breaks.monetary) {
            q = q.bind(*b);
        }
        let scored = q.bind(now).execute(&mut *c).await?.rows_affected();
        sqlx::query("DELETE FROM customer_scores WHERE scored_at <> $1").bind(now).execute(&mut *c).await?;
        scored
    });
    Ok(scored)
}

/// Removes every score (nobody is active in the window).
pub async fn clear(db: &mut Db<'_>) -> crate::Result<()> {
    with_db!(db, c, _pg => {
        sqlx::query("DELETE FROM customer_scores").execute(&mut *c).await?;
    });
    Ok(())
}

/// One customer's sales up to the as-of date, reduced to purchase days (all receipts of one
/// UTC day are one purchase, as in `kundo_core::scores::summarize`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurchaseHistory {
    pub customer_id: i64,
    /// Distinct purchase days.
    pub days: i64,
    /// Days since 1970-01-01 of the first and the last purchase day.
    pub first_day: i64,
    pub last_day: i64,
    /// Revenue of the purchase days after the first one, in minor units.
    pub repeat_total: i64,
}

impl PurchaseHistory {
    /// The BG/NBD statistics in weeks: x = purchase days − 1, t_x = (last − first) / 7,
    /// T = (as_of − first) / 7 — exactly what `summarize(rows, as_of, 7)` computes.
    pub fn rft(&self, as_of_day: i64) -> Rft {
        Rft {
            x: u32::try_from(self.days - 1).unwrap_or(0),
            t_x: (self.last_day - self.first_day) as f64 / 7.0,
            t_cal: (as_of_day - self.first_day).max(0) as f64 / 7.0,
        }
    }

    /// Mean value of the repeat purchase days (0 without repeat purchases), the Gamma-Gamma
    /// model's m_x.
    pub fn mean_repeat_value(&self) -> f64 {
        if self.days > 1 {
            self.repeat_total as f64 / (self.days - 1) as f64
        } else {
            0.0
        }
    }
}

/// The purchase histories of the scored customers (those with a row in `customer_scores`), or
/// of one customer, from sales (`kind = 'sale'`) before the window's end; returns do not make a
/// purchase day. One aggregate statement, ordered by customer id.
pub async fn purchase_histories(
    db: &mut Db<'_>,
    w: &ScoreWindow,
    only: Option<i64>,
) -> crate::Result<Vec<PurchaseHistory>> {
    let rows: Vec<(i64, i64, i64, i64, i64)> = with_db!(db, c, pg => {
        let day = dialect(pg,
            "CAST(julianday(date(r.occurred_at)) - 2440587.5 AS BIGINT)",
            "CAST(CAST(r.occurred_at AT TIME ZONE 'UTC' AS DATE) - DATE '1970-01-01' AS BIGINT)");
        let who = if only.is_some() { "r.customer_id = $2" } else { "r.customer_id IN (SELECT customer_id FROM customer_scores)" };
        let sql = format!(
            "SELECT customer_id, CAST(COUNT(*) AS BIGINT), MIN(day), MAX(day), CAST(SUM(CASE WHEN day > first_day THEN amount ELSE 0 END) AS BIGINT) \
             FROM (SELECT customer_id, day, amount, MIN(day) OVER (PARTITION BY customer_id) AS first_day \
                   FROM (SELECT r.customer_id, {day} AS day, CAST(SUM(r.total_amount) AS BIGINT) AS amount FROM receipts r \
                         WHERE r.kind = 'sale' AND r.customer_id IS NOT NULL AND r.occurred_at < $1 AND {who} \
                         GROUP BY r.customer_id, {day}) daily) d \
             GROUP BY customer_id ORDER BY customer_id"
        );
        let q = sqlx::query_as(AssertSqlSafe(sql)).bind(w.end);
        match only {
            Some(id) => q.bind(id).fetch_all(&mut *c).await?,
            None => q.fetch_all(&mut *c).await?,
        }
    });
    Ok(rows
        .into_iter()
        .map(
            |(customer_id, days, first_day, last_day, repeat_total)| PurchaseHistory {
                customer_id,
                days,
                first_day,
                last_day,
                repeat_total,
            },
        )
        .collect())
}

/// Writes predicted lifetime values (`None`: the model gave no number for the customer) in
/// multi-row upserts; only `clv_predicted` of existing rows changes.
pub async fn write_clv(
    db: &mut Db<'_>,
    values: &[(i64, Option<i64>)],
    now: DateTime<Utc>,
) -> crate::Result<()> {
    let rows = values
        .iter()
        .map(|(id, v)| vec![Val::Int(*id), Val::OptInt(*v), Val::Time(now)])
        .collect();
    crate::rows::upsert_rows(
        db,
        "customer_scores",
        &["customer_id", "clv_predicted", "scored_at"],
        rows,
        " ON CONFLICT (customer_id) DO UPDATE SET clv_predicted = excluded.clv_predicted",
    )
    .await
}

/// How many customers hold each RFM code, by code.
pub async fn rfm_distribution(db: &mut Db<'_>) -> crate::Result<Vec<(String, i64)>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as("SELECT rfm, CAST(COUNT(*) AS BIGINT) FROM customer_scores WHERE rfm IS NOT NULL GROUP BY rfm ORDER BY rfm")
            .fetch_all(&mut *c).await?
    }))
}

/// One customer's stored scores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ScoreRow {
    #[serde(skip)]
    pub customer_id: i64,
    pub recency_days: Option<i64>,
    pub frequency: Option<i64>,
    pub monetary: Option<i64>,
    pub r: Option<i64>,
    pub f: Option<i64>,
    pub m: Option<i64>,
    pub rfm: Option<String>,
    pub clv_historic: Option<i64>,
    pub clv_predicted: Option<i64>,
    pub scored_at: DateTime<Utc>,
}

const SCORE_COLUMNS: &str = "customer_id, recency_days, frequency, monetary, r, f, m, rfm, clv_historic, clv_predicted, scored_at";

pub async fn of_customer(db: &mut Db<'_>, customer_id: i64) -> crate::Result<Option<ScoreRow>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as(AssertSqlSafe(format!("SELECT {SCORE_COLUMNS} FROM customer_scores WHERE customer_id = $1")))
            .bind(customer_id).fetch_optional(&mut *c).await?
    }))
}

/// Every stored score, by customer id (tests and exports).
pub async fn all(db: &mut Db<'_>) -> crate::Result<Vec<ScoreRow>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as(AssertSqlSafe(format!("SELECT {SCORE_COLUMNS} FROM customer_scores ORDER BY customer_id")))
            .fetch_all(&mut *c).await?
    }))
}

/// One fit of the lifetime-value models, as stored in `score_models`.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ModelRow {
    pub id: i64,
    pub run_id: Option<i64>,
    pub as_of: String,
    pub fitted_at: DateTime<Utc>,
    /// Customers whose histories were summarized (the scored base).
    pub base_customers: i64,
    /// Customers the BG/NBD fit used (a deterministic sample when the base is large).
    pub customers: i64,
    pub bg_r: Option<f64>,
    pub bg_alpha: Option<f64>,
    pub bg_a: Option<f64>,
    pub bg_b: Option<f64>,
    pub bg_log_likelihood: Option<f64>,
    pub gg_customers: Option<i64>,
    pub gg_p: Option<f64>,
    pub gg_q: Option<f64>,
    pub gg_v: Option<f64>,
    pub gg_log_likelihood: Option<f64>,
    pub horizon_weeks: f64,
    /// `QuintileBreaks` as JSON, so new customers can be scored with `score_with` between runs.
    pub rfm_breaks: Option<String>,
    pub error: Option<String>,
}

const MODEL_COLUMNS: &str = "run_id, as_of, fitted_at, base_customers, customers, bg_r, bg_alpha, bg_a, bg_b, bg_log_likelihood, gg_customers, gg_p, gg_q, gg_v, gg_log_likelihood, horizon_weeks, rfm_breaks, error";

/// Stores a fit (the `id` of `m` is ignored) and returns its id.
pub async fn save_model(db: &mut Db<'_>, m: &ModelRow) -> crate::Result<i64> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_scalar(AssertSqlSafe(format!("INSERT INTO score_models ({MODEL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING id")))
            .bind(m.run_id).bind(&m.as_of).bind(m.fitted_at).bind(m.base_customers).bind(m.customers)
            .bind(m.bg_r).bind(m.bg_alpha).bind(m.bg_a).bind(m.bg_b).bind(m.bg_log_likelihood)
            .bind(m.gg_customers).bind(m.gg_p).bind(m.gg_q).bind(m.gg_v).bind(m.gg_log_likelihood)
            .bind(m.horizon_weeks).bind(&m.rfm_breaks).bind(&m.error)
            .fetch_one(&mut *c).await?
    }))
}

/// The newest fit whose parameters are complete (a failed fit does not replace a good one).
pub async fn latest_model(db: &mut Db<'_>) -> crate::Result<Option<ModelRow>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as(AssertSqlSafe(format!("SELECT id, {MODEL_COLUMNS} FROM score_models WHERE error IS NULL ORDER BY id DESC LIMIT 1")))
            .fetch_optional(&mut *c).await?
    }))
}

/// Opens a scores run again: unlike the voucher runs, scoring a date twice recomputes it (late
/// receipts may have arrived), and the `runs` row of that date shows the latest computation.
pub async fn restart_run(db: &mut Db<'_>, run_id: i64, now: DateTime<Utc>) -> crate::Result<()> {
    with_db!(db, c, _pg => {
        sqlx::query("UPDATE runs SET state = 'running', cursor = 0, customers_considered = 0, started_at = $1, heartbeat_at = $1, finished_at = NULL, error = NULL WHERE id = $2")
            .bind(now).bind(run_id).execute(&mut *c).await?;
    });
    Ok(())
}

/// The state of the scores run of `period`, if it was ever started.
pub async fn run_state(db: &mut Db<'_>, period: &str) -> crate::Result<Option<String>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_scalar("SELECT state FROM runs WHERE kind = 'scores' AND period = $1")
            .bind(period).fetch_optional(&mut *c).await?
    }))
}

/// Marks a scores run done with the number of customers scored.
pub async fn finish_run(
    db: &mut Db<'_>,
    run_id: i64,
    customers: i64,
    now: DateTime<Utc>,
) -> crate::Result<()> {
    with_db!(db, c, _pg => {
        sqlx::query("UPDATE runs SET state = 'done', customers_considered = $1, finished_at = $2, heartbeat_at = $2 WHERE id = $3")
            .bind(customers).bind(now).bind(run_id).execute(&mut *c).await?;
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_covers_24_months_and_12_calendar_months() {
        let w = ScoreWindow::new(NaiveDate::from_ymd_opt(1998, 7, 1).unwrap_or_default());
        assert_eq!(w.end.to_rfc3339(), "1998-07-02T00:00:00+00:00");
        assert_eq!(w.active_since.to_rfc3339(), "1996-07-01T00:00:00+00:00");
        assert_eq!(
            (w.from_month.as_str(), w.to_month.as_str()),
            ("1997-08", "1998-07")
        );
    }

    #[test]
    fn histories_become_weeks_as_summarize_counts_them() {
        let h = PurchaseHistory {
            customer_id: 1,
            days: 3,
            first_day: 100,
            last_day: 114,
            repeat_total: 3000,
        };
        let rft = h.rft(128);
        assert_eq!((rft.x, rft.t_x, rft.t_cal), (2, 2.0, 4.0));
        assert_eq!(h.mean_repeat_value(), 1500.0);
    }
}
