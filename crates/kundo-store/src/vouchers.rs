//! Vouchers and the automatic runs that issue them. Redemption is one conditional `UPDATE …
//! WHERE status = 'issued'`: of any number of concurrent attempts exactly one changes the row,
//! on both backends, without explicit locks.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::db::dialect;
use crate::rows::{Val, insert_rows};
use crate::{Db, with_db};

#[derive(Debug, Clone)]
pub struct NewVoucher {
    pub id: i64,
    pub code: String,
    pub kind: String,
    pub customer_id: Option<i64>,
    pub value_type: String,
    pub value: i64,
    pub currency: String,
    pub min_order: i64,
    pub channels: String,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub run_id: Option<i64>,
}

pub async fn insert(
    db: &mut Db<'_>,
    vouchers: &[NewVoucher],
    now: DateTime<Utc>,
) -> crate::Result<()> {
    let rows = vouchers
        .iter()
        .map(|v| {
            vec![
                v.id.into(),
                v.code.clone().into(),
                v.kind.clone().into(),
                Val::OptInt(v.customer_id),
                v.value_type.clone().into(),
                v.value.into(),
                v.currency.clone().into(),
                v.min_order.into(),
                v.channels.clone().into(),
                v.valid_from.into(),
                v.valid_until.into(),
                "issued".into(),
                Val::OptInt(v.run_id),
                now.into(),
                now.into(),
            ]
        })
        .collect();
    insert_rows(
        db,
        "vouchers",
        &[
            "id",
            "code",
            "kind",
            "customer_id",
            "value_type",
            "value",
            "currency",
            "min_order",
            "channels",
            "valid_from",
            "valid_until",
            "status",
            "run_id",
            "issued_at",
            "changed_at",
        ],
        rows,
    )
    .await
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct VoucherRow {
    #[serde(skip)]
    pub id: i64,
    pub code: String,
    pub kind: String,
    #[serde(skip)]
    pub customer_id: Option<i64>,
    pub value_type: String,
    pub value: i64,
    pub currency: String,
    pub min_order: i64,
    pub channels: String,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub status: String,
    #[serde(skip)]
    pub run_id: Option<i64>,
    pub issued_at: DateTime<Utc>,
    pub redeemed_at: Option<DateTime<Utc>>,
    pub redeemed_channel: Option<String>,
    pub redeemed_store: Option<String>,
    pub redeemed_receipt: Option<String>,
}

const COLUMNS: &str = "id, code, kind, customer_id, value_type, value, currency, min_order, channels, valid_from, valid_until, status, run_id, issued_at, redeemed_at, redeemed_channel, redeemed_store, redeemed_receipt";

pub async fn by_code(db: &mut Db<'_>, code: &str) -> crate::Result<Option<VoucherRow>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM vouchers WHERE code = $1"))).bind(code).fetch_optional(&mut *c).await?
    }))
}

pub async fn of_customer(
    db: &mut Db<'_>,
    customer_id: i64,
    only_open: bool,
) -> crate::Result<Vec<VoucherRow>> {
    let filter = if only_open {
        " AND status = 'issued'"
    } else {
        ""
    };
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM vouchers WHERE customer_id = $1{filter} ORDER BY issued_at DESC, id DESC")))
            .bind(customer_id).fetch_all(&mut *c).await?
    }))
}

pub async fn of_run(db: &mut Db<'_>, run_id: i64) -> crate::Result<Vec<VoucherRow>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM vouchers WHERE run_id = $1 ORDER BY customer_id, id"))).bind(run_id).fetch_all(&mut *c).await?
    }))
}

/// Marks an issued voucher redeemed. `false`: it was not `issued` any more (someone else won).
pub async fn redeem(
    db: &mut Db<'_>,
    id: i64,
    channel: &str,
    store: Option<&str>,
    receipt: Option<&str>,
    now: DateTime<Utc>,
) -> crate::Result<bool> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query("UPDATE vouchers SET status = 'redeemed', redeemed_at = $1, redeemed_channel = $2, redeemed_store = $3, redeemed_receipt = $4, changed_at = $1 WHERE id = $5 AND status = 'issued'")
            .bind(now).bind(channel).bind(store).bind(receipt).bind(id).execute(&mut *c).await?.rows_affected() == 1
    }))
}

/// Undoes a redemption (its receipt was cancelled): `redeemed → issued`.
pub async fn unredeem(db: &mut Db<'_>, id: i64, now: DateTime<Utc>) -> crate::Result<bool> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query("UPDATE vouchers SET status = 'issued', redeemed_at = NULL, redeemed_channel = NULL, redeemed_store = NULL, redeemed_receipt = NULL, changed_at = $1 WHERE id = $2 AND status = 'redeemed'")
            .bind(now).bind(id).execute(&mut *c).await?.rows_affected() == 1
    }))
}

pub async fn cancel(db: &mut Db<'_>, id: i64, now: DateTime<Utc>) -> crate::Result<bool> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query("UPDATE vouchers SET status = 'cancelled', changed_at = $1 WHERE id = $2 AND status = 'issued'")
            .bind(now).bind(id).execute(&mut *c).await?.rows_affected() == 1
    }))
}

/// Expires issued vouchers whose validity ended before `now`; returns `(id, code)` of each.
pub async fn expire_due(
    db: &mut Db<'_>,
    now: DateTime<Utc>,
    limit: i64,
) -> crate::Result<Vec<(i64, String, Option<i64>)>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as(
            "UPDATE vouchers SET status = 'expired', changed_at = $1 WHERE id IN (SELECT id FROM vouchers WHERE status = 'issued' AND valid_until < $1 ORDER BY id LIMIT $2) \
             RETURNING id, code, customer_id")
            .bind(now).bind(limit).fetch_all(&mut *c).await?
    }))
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RunRow {
    pub id: i64,
    pub kind: String,
    pub period: String,
    pub state: String,
    #[serde(skip)]
    pub cursor: i64,
    pub vouchers_issued: i64,
    pub points_converted: i64,
    pub customers_considered: i64,
    pub letters: i64,
    pub left_out_address: i64,
    pub left_out_consent: i64,
    pub started_at: DateTime<Utc>,
    #[serde(skip)]
    pub heartbeat_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Why a `failed` run stopped; cleared when it is started again.
    pub error: Option<String>,
}

/// The states of a run: `running` (working, or stopped by a crash: starting it again
/// continues), `failed` (stopped by an error, recorded in `error`; starting it again continues
/// from its cursor) and `done`.
pub const RUN_STATES: &[&str] = &["running", "failed", "done"];

const RUN_COLUMNS: &str = "id, kind, period, state, cursor, vouchers_issued, points_converted, customers_considered, letters, left_out_address, left_out_consent, started_at, heartbeat_at, finished_at, error";

/// The run of `kind` for `period`, created if it does not exist. Its row is what makes the run
/// idempotent (one per kind and period) and resumable (the cursor).
pub async fn run_for(
    db: &mut Db<'_>,
    kind: &str,
    period: &str,
    now: DateTime<Utc>,
) -> crate::Result<RunRow> {
    with_db!(db, c, _pg => {
        sqlx::query("INSERT INTO runs (kind, period, state, started_at, heartbeat_at) VALUES ($1, $2, 'running', $3, $3) ON CONFLICT (kind, period) DO NOTHING")
            .bind(kind).bind(period).bind(now).execute(&mut *c).await?;
    });
    let run: RunRow = with_db!(db, c, pg => {
        let sql = if pg { format!("SELECT {RUN_COLUMNS} FROM runs WHERE kind = $1 AND period = $2 FOR UPDATE") } else { format!("SELECT {RUN_COLUMNS} FROM runs WHERE kind = $1 AND period = $2") };
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(kind).bind(period).fetch_one(&mut *c).await?
    });
    Ok(run)
}

/// A run again after it failed: `running`, its error cleared, its cursor and counts kept.
pub async fn reopen_run(db: &mut Db<'_>, id: i64, now: DateTime<Utc>) -> crate::Result<()> {
    with_db!(db, c, _pg => {
        sqlx::query("UPDATE runs SET state = 'running', error = NULL, heartbeat_at = $1 WHERE id = $2 AND state = 'failed'")
            .bind(now).bind(id).execute(&mut *c).await?;
    });
    Ok(())
}

/// Records why a running run stopped. A run that another instance finished meanwhile stays
/// `done`.
pub async fn fail_run(
    db: &mut Db<'_>,
    id: i64,
    error: &str,
    now: DateTime<Utc>,
) -> crate::Result<()> {
    with_db!(db, c, _pg => {
        sqlx::query("UPDATE runs SET state = 'failed', error = $1, heartbeat_at = $2 WHERE id = $3 AND state = 'running'")
            .bind(error).bind(now).bind(id).execute(&mut *c).await?;
    });
    Ok(())
}

/// The run, locked until the transaction ends (PostgreSQL; SQLite's write transaction holds
/// the database): two instances of one run take its steps in turn, each from the cursor the
/// other left, instead of working on the same customers.
pub async fn lock_run(db: &mut Db<'_>, id: i64) -> crate::Result<Option<RunRow>> {
    Ok(with_db!(db, c, pg => {
        let lock = if pg { " FOR UPDATE" } else { "" };
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = $1{lock}"))).bind(id).fetch_optional(&mut *c).await?
    }))
}

pub async fn run_by_id(db: &mut Db<'_>, id: i64) -> crate::Result<Option<RunRow>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = $1"))).bind(id).fetch_optional(&mut *c).await?
    }))
}

pub async fn runs(db: &mut Db<'_>, limit: i64) -> crate::Result<Vec<RunRow>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {RUN_COLUMNS} FROM runs ORDER BY id DESC LIMIT $1"))).bind(limit).fetch_all(&mut *c).await?
    }))
}

/// Records progress of one step: the cursor moves and the counts grow, in the step's transaction.
pub async fn advance_run(
    db: &mut Db<'_>,
    id: i64,
    cursor: i64,
    issued: i64,
    points: i64,
    considered: i64,
    now: DateTime<Utc>,
) -> crate::Result<()> {
    with_db!(db, c, _pg => {
        sqlx::query("UPDATE runs SET cursor = $1, vouchers_issued = vouchers_issued + $2, points_converted = points_converted + $3, customers_considered = customers_considered + $4, heartbeat_at = $5 WHERE id = $6")
            .bind(cursor).bind(issued).bind(points).bind(considered).bind(now).bind(id).execute(&mut *c).await?;
    });
    Ok(())
}

pub async fn finish_run(
    db: &mut Db<'_>,
    id: i64,
    letters: i64,
    left_out_address: i64,
    left_out_consent: i64,
    now: DateTime<Utc>,
) -> crate::Result<()> {
    with_db!(db, c, _pg => {
        sqlx::query("UPDATE runs SET state = 'done', letters = $1, left_out_address = $2, left_out_consent = $3, finished_at = $4, heartbeat_at = $4 WHERE id = $5")
            .bind(letters).bind(left_out_address).bind(left_out_consent).bind(now).bind(id).execute(&mut *c).await?;
    });
    Ok(())
}

pub async fn add_run_items(
    db: &mut Db<'_>,
    run_id: i64,
    items: &[(i64, i64)],
) -> crate::Result<()> {
    let rows = items
        .iter()
        .map(|(customer, voucher)| vec![run_id.into(), (*customer).into(), (*voucher).into()])
        .collect();
    insert_rows(
        db,
        "run_items",
        &["run_id", "customer_id", "voucher_id"],
        rows,
    )
    .await
}

/// The next customers the bonus run converts, with their balances as they are now: active,
/// at least `threshold` points, after `cursor`, without a voucher of this run yet (a merge may
/// have brought over the duplicate's).
///
/// The conversion must read and change each balance in one locked step (DOMAIN §4), so
/// PostgreSQL locks these accounts until the step commits: `FOR UPDATE` waits for a booking in
/// flight and then reads (and re-checks against the threshold) the balance it left, and every
/// later booking waits for the conversion. Accounts are locked in id order, as every other
/// writer of balances does, so nobody deadlocks with the run. SQLite's write transaction
/// (`BEGIN IMMEDIATE`) holds the whole database already.
pub async fn lock_bonus_candidates(
    db: &mut Db<'_>,
    run_id: i64,
    threshold: i64,
    cursor: i64,
    limit: i64,
) -> crate::Result<Vec<(i64, i64)>> {
    Ok(with_db!(db, c, pg => {
        let sql = dialect(pg,
            "SELECT a.customer_id, a.balance FROM points_accounts a JOIN customers c ON c.id = a.customer_id \
             WHERE a.balance >= $1 AND a.customer_id > $2 AND c.status = 'active' \
             AND NOT EXISTS (SELECT 1 FROM run_items r WHERE r.run_id = $3 AND r.customer_id = a.customer_id) \
             ORDER BY a.customer_id LIMIT $4",
            "SELECT a.customer_id, a.balance FROM points_accounts a JOIN customers c ON c.id = a.customer_id \
             WHERE a.balance >= $1 AND a.customer_id > $2 AND c.status = 'active' \
             AND NOT EXISTS (SELECT 1 FROM run_items r WHERE r.run_id = $3 AND r.customer_id = a.customer_id) \
             ORDER BY a.customer_id LIMIT $4 FOR UPDATE OF a");
        sqlx::query_as(sql).bind(threshold).bind(cursor).bind(run_id).bind(limit).fetch_all(&mut *c).await?
    }))
}

/// Active customers born on one of `month_days` ("MM-DD"), with at least `min_revenue` since
/// `from_month`, who have no birthday voucher for `year` yet.
pub async fn birthday_candidates(
    db: &mut Db<'_>,
    month_days: &[String],
    from_month: &str,
    min_revenue: i64,
    year: i32,
    cursor: i64,
    limit: i64,
) -> crate::Result<Vec<i64>> {
    let md_a = month_days.first().cloned().unwrap_or_default();
    let md_b = month_days.get(1).cloned().unwrap_or_else(|| md_a.clone());
    Ok(with_db!(db, c, pg => {
        let sql = dialect(pg,
            "SELECT c.id FROM customers c WHERE c.status = 'active' AND c.id > $1 AND substr(c.birth_date, 6, 5) IN ($2, $3) \
             AND (SELECT COALESCE(SUM(m.revenue), 0) FROM customer_monthly m WHERE m.customer_id = c.id AND m.month >= $4) >= $5 \
             AND NOT EXISTS (SELECT 1 FROM birthday_vouchers b WHERE b.customer_id = c.id AND b.year = $6) ORDER BY c.id LIMIT $7",
            "SELECT c.id FROM customers c WHERE c.status = 'active' AND c.id > $1 AND to_char(c.birth_date, 'MM-DD') IN ($2, $3) \
             AND (SELECT COALESCE(SUM(m.revenue), 0) FROM customer_monthly m WHERE m.customer_id = c.id AND m.month >= $4) >= $5 \
             AND NOT EXISTS (SELECT 1 FROM birthday_vouchers b WHERE b.customer_id = c.id AND b.year = $6) ORDER BY c.id LIMIT $7");
        sqlx::query_scalar(sql).bind(cursor).bind(md_a).bind(md_b).bind(from_month).bind(min_revenue).bind(i64::from(year)).bind(limit).fetch_all(&mut *c).await?
    }))
}

pub async fn add_birthday_vouchers(
    db: &mut Db<'_>,
    year: i32,
    items: &[(i64, i64)],
) -> crate::Result<()> {
    let rows = items
        .iter()
        .map(|(customer, voucher)| {
            vec![
                (*customer).into(),
                i64::from(year).into(),
                (*voucher).into(),
            ]
        })
        .collect();
    insert_rows(
        db,
        "birthday_vouchers",
        &["customer_id", "year", "voucher_id"],
        rows,
    )
    .await
}

/// What a letter needs about a customer: name, current main address and its status, and the
/// latest statement on letters.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LetterRow {
    pub customer_id: i64,
    pub customer_number: String,
    pub salutation: Option<String>,
    pub title: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company_name: Option<String>,
    pub street: Option<String>,
    pub house_number: Option<String>,
    pub address_line2: Option<String>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub postal_status: Option<String>,
    pub letter_consent: Option<String>,
    /// Reportedly deceased or postal advertising refused: no marketing letter goes out.
    pub mail_blocked: bool,
}

pub async fn letter_rows(db: &mut Db<'_>, customer_ids: &[i64]) -> crate::Result<Vec<LetterRow>> {
    let mut out = Vec::with_capacity(customer_ids.len());
    for chunk in customer_ids.chunks(500) {
        let ids = chunk
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        // The id list is made of integers formatted here, not of input.
        let sql = format!(
            "SELECT c.id AS customer_id, c.customer_number, c.salutation, c.title, c.first_name, c.last_name, c.company_name, \
             a.street, a.house_number, a.address_line2, a.postcode, a.city, a.country, a.postal_status, \
             (SELECT s.status FROM consents s WHERE s.customer_id = c.id AND s.channel = 'letter' ORDER BY s.recorded_at DESC, s.id DESC LIMIT 1) AS letter_consent, \
             (c.reported_deceased_at IS NOT NULL OR c.postal_ads_blocked) AS mail_blocked \
             FROM customers c LEFT JOIN addresses a ON a.customer_id = c.id AND a.kind = 'main' AND a.valid_until IS NULL WHERE c.id IN ({ids}) ORDER BY c.id"
        );
        let rows: Vec<LetterRow> = with_db!(db, c, _pg => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *c).await?);
        out.extend(rows);
    }
    Ok(out)
}

pub async fn save_lettershop_batch(
    db: &mut Db<'_>,
    run_id: i64,
    rows: i64,
    content: &str,
    now: DateTime<Utc>,
) -> crate::Result<()> {
    with_db!(db, c, _pg => {
        sqlx::query("INSERT INTO lettershop_batches (run_id, rows, content, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (run_id) DO NOTHING")
            .bind(run_id).bind(rows).bind(content).bind(now).execute(&mut *c).await?;
    });
    Ok(())
}

pub async fn lettershop_batch(db: &mut Db<'_>, run_id: i64) -> crate::Result<Option<String>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_scalar("SELECT content FROM lettershop_batches WHERE run_id = $1").bind(run_id).fetch_optional(&mut *c).await?
    }))
}

/// A date at midnight UTC, the boundary of validity periods.
pub fn day_start(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or_default()
}
