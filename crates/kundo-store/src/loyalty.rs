//! Receipts, the points ledger with the balance beside it, and the per-customer purchase figures
//! that segments and runs read. Everything here is written in multi-row statements so that a
//! batch of receipts costs a handful of round trips, not a handful per receipt.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use kundo_core::segment::{month_number, month_number_key};
use sea_query::{Expr, ExprTrait, Query};
use serde::Serialize;
use sqlx::AssertSqlSafe;

use crate::db::dialect;
use crate::rows::{Val, insert_rows};
use crate::{Db, with_db};

pub struct NewReceipt {
    pub id: i64,
    pub source: String,
    pub external_id: String,
    /// "sale" or "return".
    pub kind: &'static str,
    pub original_receipt_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub store_code: Option<String>,
    pub channel: String,
    pub occurred_at: DateTime<Utc>,
    pub currency: String,
    pub total_amount: i64,
    pub eligible_amount: i64,
    pub weight: i64,
    pub points: i64,
    pub request_hash: String,
    pub response: String,
    pub lines: Vec<NewLine>,
}

pub struct NewLine {
    pub line_no: i64,
    pub sku: String,
    pub category: String,
    pub quantity: i64,
    pub amount: i64,
    pub weight: i64,
    pub original_line_no: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReceiptRow {
    pub id: i64,
    pub source: String,
    pub external_id: String,
    pub kind: String,
    pub customer_id: Option<i64>,
    pub store_code: Option<String>,
    pub channel: String,
    pub occurred_at: DateTime<Utc>,
    pub total_amount: i64,
    pub weight: i64,
    pub points: i64,
    pub request_hash: String,
    pub response: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct LineRow {
    pub line_no: i64,
    pub sku: String,
    pub category: String,
    pub quantity: i64,
    pub amount: i64,
    pub weight: i64,
}

/// Inserts receipts whose `(source, external_id)` is new; returns the ids that were inserted.
/// A pair written meanwhile by a concurrent transaction is skipped (the caller retries and then
/// finds it as a duplicate).
pub async fn insert_receipts(
    db: &mut Db<'_>,
    receipts: &[NewReceipt],
    now: DateTime<Utc>,
) -> crate::Result<Vec<i64>> {
    let mut inserted = Vec::with_capacity(receipts.len());
    for chunk in receipts.chunks(1000) {
        let columns = [
            "id",
            "source",
            "external_id",
            "kind",
            "original_receipt_id",
            "customer_id",
            "store_code",
            "channel",
            "occurred_at",
            "currency",
            "total_amount",
            "eligible_amount",
            "weight",
            "points",
            "request_hash",
            "response",
            "created_at",
        ];
        let pg = db.is_postgres();
        let mut sql = format!("INSERT INTO receipts ({}) VALUES ", columns.join(", "));
        let mut n = 0;
        for (r, _) in chunk.iter().enumerate() {
            if r > 0 {
                sql.push(',');
            }
            sql.push('(');
            for c in 0..columns.len() {
                if c > 0 {
                    sql.push(',');
                }
                n += 1;
                if pg {
                    sql.push_str(&format!("${n}"));
                } else {
                    sql.push('?');
                }
            }
            sql.push(')');
        }
        sql.push_str(" ON CONFLICT (source, external_id) DO NOTHING RETURNING id");
        let ids: Vec<i64> = with_db!(db, c, _pg => {
            let mut q = sqlx::query_scalar(AssertSqlSafe(sql));
            for r in chunk {
                q = q
                    .bind(r.id).bind(&r.source).bind(&r.external_id).bind(r.kind).bind(r.original_receipt_id).bind(r.customer_id)
                    .bind(&r.store_code).bind(&r.channel).bind(r.occurred_at).bind(&r.currency).bind(r.total_amount)
                    .bind(r.eligible_amount).bind(r.weight).bind(r.points).bind(&r.request_hash).bind(&r.response).bind(now);
            }
            q.fetch_all(&mut *c).await?
        });
        inserted.extend(ids);
    }
    let fresh: HashSet<i64> = inserted.iter().copied().collect();
    let lines: Vec<Vec<Val>> = receipts
        .iter()
        .filter(|r| fresh.contains(&r.id))
        .flat_map(|r| {
            r.lines.iter().map(move |l| {
                vec![
                    r.id.into(),
                    l.line_no.into(),
                    Val::OptInt(r.customer_id),
                    l.sku.clone().into(),
                    l.category.clone().into(),
                    l.quantity.into(),
                    l.amount.into(),
                    l.weight.into(),
                    Val::OptInt(l.original_line_no),
                ]
            })
        })
        .collect();
    insert_rows(
        db,
        "receipt_lines",
        &[
            "receipt_id",
            "line_no",
            "customer_id",
            "sku",
            "category",
            "quantity",
            "amount",
            "weight",
            "original_line_no",
        ],
        lines,
    )
    .await?;
    add_categories(db, receipts.iter().filter(|r| fresh.contains(&r.id))).await?;
    Ok(inserted)
}

/// Counts each sale once per category in `customer_categories` (customer, category, month), so
/// that "bought Möbel last year" and "Papier at least twice" read a few rows per customer
/// instead of joining receipt lines to receipts (ADR 8).
async fn add_categories<'r>(
    db: &mut Db<'_>,
    receipts: impl Iterator<Item = &'r NewReceipt>,
) -> crate::Result<()> {
    let mut counts: BTreeMap<(i64, &str, i32), i64> = BTreeMap::new();
    for r in receipts.filter(|r| r.kind == "sale") {
        let Some(customer) = r.customer_id else {
            continue;
        };
        let month = month_number(r.occurred_at.date_naive());
        let categories: BTreeSet<&str> = r.lines.iter().map(|l| l.category.as_str()).collect();
        for category in categories {
            *counts.entry((customer, category, month)).or_default() += 1;
        }
    }
    let mut totals: BTreeMap<(i64, &str), (i64, BTreeSet<i32>)> = BTreeMap::new();
    for ((customer, category, month), n) in &counts {
        let total = totals.entry((*customer, category)).or_default();
        total.0 += n;
        total.1.insert(*month);
    }
    // Sorted keys: concurrent batches lock the rows in the same order (no deadlock).
    let rows: Vec<Vec<Val>> = counts
        .into_iter()
        .map(|((customer, category, month), n)| {
            vec![
                customer.into(),
                category.into(),
                month_number_key(month).into(),
                n.into(),
            ]
        })
        .collect();
    crate::rows::upsert_rows(
        db,
        "customer_categories",
        &["customer_id", "category", "month", "receipts"],
        rows,
        " ON CONFLICT (customer_id, category, month) DO UPDATE SET receipts = customer_categories.receipts + excluded.receipts",
    )
    .await?;
    let pg = db.is_postgres();
    let rows: Vec<Vec<Val>> = totals
        .into_iter()
        .map(|((customer, category), (n, months))| {
            let first = months.first().copied().unwrap_or_default();
            let last = months.last().copied().unwrap_or_default();
            let mut row = vec![
                customer.into(),
                category.into(),
                n.into(),
                i64::from(first).into(),
                i64::from(last).into(),
            ];
            if pg {
                row.push(Val::Ints(months.into_iter().collect()));
            }
            row
        })
        .collect();
    let on_conflict = format!(
        " ON CONFLICT (customer_id, category) DO UPDATE SET {}",
        totals_add(pg)
    );
    crate::rows::upsert_rows(
        db,
        "customer_category_totals",
        totals_columns(pg),
        rows,
        &on_conflict,
    )
    .await
}

/// The columns of a `customer_category_totals` row that ingest and merges write, in this
/// order; the months exist on PostgreSQL only (migration 12).
pub(crate) fn totals_columns(pg: bool) -> &'static [&'static str] {
    const COLUMNS: [&str; 6] = [
        "customer_id",
        "category",
        "receipts",
        "first_month",
        "last_month",
        "months",
    ];
    if pg { &COLUMNS } else { &COLUMNS[..5] }
}

/// The columns of a `customer_stats` row that ingest and merges write, in this order: the
/// figures, and on PostgreSQL the stores with a sale (migration 13).
pub(crate) fn stats_columns(pg: bool) -> &'static [&'static str] {
    const COLUMNS: [&str; 12] = [
        "customer_id",
        "first_purchase",
        "last_purchase",
        "receipts",
        "revenue",
        "online_receipts",
        "online_revenue",
        "receipts_12m",
        "revenue_12m",
        "online_receipts_12m",
        "online_revenue_12m",
        "stores",
    ];
    if pg { &COLUMNS } else { &COLUMNS[..11] }
}

/// The scalar minimum and maximum of two values: SQLite's are the multi-argument MIN and MAX.
fn least_greatest(pg: bool) -> (&'static str, &'static str) {
    if pg {
        ("LEAST", "GREATEST")
    } else {
        ("MIN", "MAX")
    }
}

/// PostgreSQL: `column` becomes the sorted union of the row's array and the proposed row's
/// (`excluded`), or stays as it is — no new array written — when it holds them all already.
fn array_union(table: &str, column: &str) -> String {
    format!(
        ", {column} = CASE WHEN {table}.{column} @> excluded.{column} THEN {table}.{column} \
         ELSE ARRAY(SELECT DISTINCT u.x FROM unnest({table}.{column} || excluded.{column}) AS u(x) ORDER BY u.x) END"
    )
}

/// Adds a proposed `customer_stats` row (`excluded`) to the customer's: sums, the earlier first
/// and later last purchase, and on PostgreSQL the union of the stores. COALESCE keeps NULL out
/// of SQLite's scalar MIN/MAX, which return NULL if any argument is.
pub(crate) fn stats_add(pg: bool) -> String {
    let (least, greatest) = least_greatest(pg);
    let stores = if pg {
        array_union("customer_stats", "stores")
    } else {
        String::new()
    };
    format!(
        "first_purchase = COALESCE({least}(customer_stats.first_purchase, excluded.first_purchase), customer_stats.first_purchase, excluded.first_purchase), \
         last_purchase = COALESCE({greatest}(customer_stats.last_purchase, excluded.last_purchase), customer_stats.last_purchase, excluded.last_purchase), \
         receipts = customer_stats.receipts + excluded.receipts, revenue = customer_stats.revenue + excluded.revenue, \
         online_receipts = customer_stats.online_receipts + excluded.online_receipts, online_revenue = customer_stats.online_revenue + excluded.online_revenue, \
         receipts_12m = customer_stats.receipts_12m + excluded.receipts_12m, revenue_12m = customer_stats.revenue_12m + excluded.revenue_12m, \
         online_receipts_12m = customer_stats.online_receipts_12m + excluded.online_receipts_12m, \
         online_revenue_12m = customer_stats.online_revenue_12m + excluded.online_revenue_12m{stores}"
    )
}

/// Adds the `excluded` row's sales and months to the existing totals row (ingest and merges).
pub(crate) fn totals_add(pg: bool) -> String {
    let (least, greatest) = least_greatest(pg);
    let months = if pg {
        array_union("customer_category_totals", "months")
    } else {
        String::new()
    };
    format!(
        "receipts = customer_category_totals.receipts + excluded.receipts, \
         first_month = {least}(customer_category_totals.first_month, excluded.first_month), \
         last_month = {greatest}(customer_category_totals.last_month, excluded.last_month){months}"
    )
}

const RECEIPT_COLUMNS: &str = "id, source, external_id, kind, customer_id, store_code, channel, occurred_at, total_amount, weight, points, request_hash, response";

/// Existing receipts among these `(source, external_id)` pairs. Queried per source with an
/// `IN` list, which both planners serve from the unique index; a long `OR` of pairs made
/// PostgreSQL scan the table (measured: 1,600 receipts/s batched). Unprepared, so that the plan
/// fits the table as it is now (ADR 10).
pub async fn find_receipts(
    db: &mut Db<'_>,
    keys: &[(String, String)],
) -> crate::Result<Vec<ReceiptRow>> {
    let mut by_source: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (s, e) in keys {
        by_source.entry(s.as_str()).or_default().push(e.clone());
    }
    let mut out = Vec::new();
    for (source, ids) in by_source {
        for chunk in ids.chunks(500) {
            let mut q = Query::select();
            q.expr(Expr::cust(RECEIPT_COLUMNS))
                .from("receipts")
                .and_where(Expr::col("source").eq(source))
                .and_where(Expr::col("external_id").is_in(chunk.iter().cloned()));
            out.extend(crate::select::all::<ReceiptRow>(db, &q).await?);
        }
    }
    Ok(out)
}

/// One receipt, locked against concurrent returns on PostgreSQL (SQLite's write transaction
/// holds the whole database already).
pub async fn receipt_for_return(
    db: &mut Db<'_>,
    source: &str,
    external_id: &str,
) -> crate::Result<Option<ReceiptRow>> {
    Ok(with_db!(db, c, pg => {
        let sql = dialect(pg,
            "SELECT id, source, external_id, kind, customer_id, store_code, channel, occurred_at, total_amount, weight, points, request_hash, response FROM receipts WHERE source = $1 AND external_id = $2",
            "SELECT id, source, external_id, kind, customer_id, store_code, channel, occurred_at, total_amount, weight, points, request_hash, response FROM receipts WHERE source = $1 AND external_id = $2 FOR UPDATE");
        sqlx::query_as(sql).bind(source).bind(external_id).fetch_optional(&mut *c).await?
    }))
}

pub async fn lines(db: &mut Db<'_>, receipt_id: i64) -> crate::Result<Vec<LineRow>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as("SELECT line_no, sku, category, quantity, amount, weight FROM receipt_lines WHERE receipt_id = $1 ORDER BY line_no")
            .bind(receipt_id).fetch_all(&mut *c).await?
    }))
}

/// What earlier returns took back, per original line: `line_no → (quantity, amount, weight)`.
pub async fn returned_so_far(
    db: &mut Db<'_>,
    original_id: i64,
) -> crate::Result<HashMap<i64, (i64, i64, i64)>> {
    let rows: Vec<(i64, i64, i64, i64)> = with_db!(db, c, _pg => {
        sqlx::query_as(
            "SELECT l.original_line_no, CAST(SUM(l.quantity) AS BIGINT), CAST(SUM(l.amount) AS BIGINT), CAST(SUM(l.weight) AS BIGINT) FROM receipts r JOIN receipt_lines l ON l.receipt_id = r.id \
             WHERE r.original_receipt_id = $1 AND r.kind = 'return' AND l.original_line_no IS NOT NULL GROUP BY l.original_line_no")
            .bind(original_id).fetch_all(&mut *c).await?
    });
    Ok(rows
        .into_iter()
        .map(|(l, q, a, w)| (l, (q, a, w)))
        .collect())
}

/// A ledger entry to append.
#[derive(Debug, Clone)]
pub struct LedgerEntry {
    pub customer_id: i64,
    /// earn, reverse, convert, adjust, expire, merge
    pub kind: &'static str,
    pub points: i64,
    pub receipt_id: Option<i64>,
    pub voucher_id: Option<i64>,
    pub run_id: Option<i64>,
    pub reason: Option<String>,
    pub actor: String,
}

/// Appends entries and moves each affected balance by the sum of its entries, in the caller's
/// transaction. Returns the new balance per customer.
pub async fn append(
    db: &mut Db<'_>,
    entries: &[LedgerEntry],
    now: DateTime<Utc>,
) -> crate::Result<HashMap<i64, i64>> {
    if entries.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = entries
        .iter()
        .map(|e| {
            vec![
                e.customer_id.into(),
                e.kind.into(),
                e.points.into(),
                Val::OptInt(e.receipt_id),
                Val::OptInt(e.voucher_id),
                Val::OptInt(e.run_id),
                e.reason.clone().into(),
                e.actor.clone().into(),
                now.into(),
            ]
        })
        .collect();
    insert_rows(
        db,
        "points_ledger",
        &[
            "customer_id",
            "kind",
            "points",
            "receipt_id",
            "voucher_id",
            "run_id",
            "reason",
            "actor",
            "created_at",
        ],
        rows,
    )
    .await?;
    let mut deltas: BTreeMap<i64, i64> = BTreeMap::new();
    for e in entries {
        *deltas.entry(e.customer_id).or_default() += e.points;
    }
    add_to_balances(db, &deltas).await
}

async fn add_to_balances(
    db: &mut Db<'_>,
    deltas: &BTreeMap<i64, i64>,
) -> crate::Result<HashMap<i64, i64>> {
    let mut out = HashMap::with_capacity(deltas.len());
    let items: Vec<(i64, i64)> = deltas.iter().map(|(k, v)| (*k, *v)).collect();
    for chunk in items.chunks(5000) {
        let pg = db.is_postgres();
        let mut sql = String::from("INSERT INTO points_accounts (customer_id, balance) VALUES ");
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push(',');
            }
            if pg {
                sql.push_str(&format!("(${}, ${})", 2 * i + 1, 2 * i + 2));
            } else {
                sql.push_str("(?, ?)");
            }
        }
        sql.push_str(" ON CONFLICT (customer_id) DO UPDATE SET balance = points_accounts.balance + excluded.balance RETURNING customer_id, balance");
        let rows: Vec<(i64, i64)> = with_db!(db, c, _pg => {
            let mut q = sqlx::query_as(AssertSqlSafe(sql));
            for (id, delta) in chunk {
                q = q.bind(*id).bind(*delta);
            }
            q.fetch_all(&mut *c).await?
        });
        out.extend(rows);
    }
    Ok(out)
}

pub async fn balance(db: &mut Db<'_>, customer_id: i64) -> crate::Result<i64> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_scalar::<_, i64>("SELECT balance FROM points_accounts WHERE customer_id = $1").bind(customer_id).fetch_optional(&mut *c).await?.unwrap_or(0)
    }))
}

/// The balances of these customers, locked until the transaction ends (PostgreSQL, in id order
/// like every other writer of balances; SQLite's write transaction holds the database), for a
/// change that depends on the balance it reads. Customers without an account are left out.
pub async fn lock_balances(db: &mut Db<'_>, ids: &[i64]) -> crate::Result<HashMap<i64, i64>> {
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut q = Query::select();
    q.columns(["customer_id", "balance"])
        .from("points_accounts")
        .and_where(Expr::col("customer_id").is_in(sorted))
        .order_by("customer_id", sea_query::Order::Asc);
    if db.is_postgres() {
        q.lock_exclusive();
    }
    let rows: Vec<(i64, i64)> = crate::select::all(db, &q).await?;
    Ok(rows.into_iter().collect())
}

/// The sum of the ledger, to check the balance against.
pub async fn ledger_sum(db: &mut Db<'_>, customer_id: i64) -> crate::Result<i64> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_scalar::<_, Option<i64>>("SELECT CAST(SUM(points) AS BIGINT) FROM points_ledger WHERE customer_id = $1").bind(customer_id).fetch_one(&mut *c).await?.unwrap_or(0)
    }))
}

/// Customers whose stored balance differs from their ledger sum (should always be none).
pub async fn unbalanced_accounts(db: &mut Db<'_>) -> crate::Result<Vec<(i64, i64, i64)>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as(
            "SELECT a.customer_id, a.balance, COALESCE(l.total, 0) FROM points_accounts a \
             LEFT JOIN (SELECT customer_id, CAST(SUM(points) AS BIGINT) AS total FROM points_ledger GROUP BY customer_id) l ON l.customer_id = a.customer_id \
             WHERE a.balance <> COALESCE(l.total, 0)")
            .fetch_all(&mut *c).await?
    }))
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct LedgerRow {
    pub id: i64,
    pub kind: String,
    pub points: i64,
    #[serde(skip)]
    pub receipt_id: Option<i64>,
    #[serde(skip)]
    pub voucher_id: Option<i64>,
    #[serde(skip)]
    pub run_id: Option<i64>,
    pub reason: Option<String>,
    pub actor: String,
    pub created_at: DateTime<Utc>,
}

/// Entries newest first, before the cursor id.
pub async fn entries(
    db: &mut Db<'_>,
    customer_id: i64,
    before: Option<i64>,
    limit: i64,
) -> crate::Result<Vec<LedgerRow>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as("SELECT id, kind, points, receipt_id, voucher_id, run_id, reason, actor, created_at FROM points_ledger WHERE customer_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3")
            .bind(customer_id).bind(before.unwrap_or(i64::MAX)).bind(limit).fetch_all(&mut *c).await?
    }))
}

/// A purchase (positive amount) or a return (negative amount, no receipt count) as it moves the
/// per-customer figures.
#[derive(Debug, Clone)]
pub struct PurchaseDelta {
    pub customer_id: i64,
    pub occurred_at: DateTime<Utc>,
    /// "YYYY-MM" of the month the revenue belongs to.
    pub month: String,
    pub amount: i64,
    pub receipts: i64,
    pub online: bool,
    pub store_code: Option<String>,
}

/// Moves `customer_stats`, `customer_monthly` and `customer_stores` by the deltas, aggregated per
/// row first (PostgreSQL refuses to touch one row twice in one upsert).
pub async fn add_purchases(db: &mut Db<'_>, deltas: &[PurchaseDelta]) -> crate::Result<()> {
    #[derive(Default)]
    struct Agg {
        first: Option<DateTime<Utc>>,
        last: Option<DateTime<Utc>>,
        receipts: i64,
        revenue: i64,
        online_receipts: i64,
        online_revenue: i64,
        /// The same four figures for the months of the rolling window.
        rolling: [i64; 4],
    }
    let window = crate::rolling::lock_shared(db).await?;
    let mut stats: BTreeMap<i64, Agg> = BTreeMap::new();
    let mut monthly: BTreeMap<(i64, String), Agg> = BTreeMap::new();
    let mut stores: BTreeMap<(i64, String), (i64, i64)> = BTreeMap::new();
    for d in deltas {
        for agg in [
            stats.entry(d.customer_id).or_default(),
            monthly.entry((d.customer_id, d.month.clone())).or_default(),
        ] {
            if d.receipts > 0 {
                agg.first = Some(
                    agg.first
                        .map_or(d.occurred_at, |f| Ord::min(f, d.occurred_at)),
                );
                agg.last = Some(
                    agg.last
                        .map_or(d.occurred_at, |l| Ord::max(l, d.occurred_at)),
                );
            }
            agg.receipts += d.receipts;
            agg.revenue += d.amount;
            if d.online {
                agg.online_receipts += d.receipts;
                agg.online_revenue += d.amount;
            }
        }
        if crate::rolling::covers(&window, &d.month) {
            let r = &mut stats.entry(d.customer_id).or_default().rolling;
            r[0] += d.receipts;
            r[1] += d.amount;
            if d.online {
                r[2] += d.receipts;
                r[3] += d.amount;
            }
        }
        if let Some(store) = &d.store_code {
            let e = stores.entry((d.customer_id, store.clone())).or_default();
            e.0 += d.receipts;
            e.1 += d.amount;
        }
    }
    let pg = db.is_postgres();
    // The stores of this batch's sales per customer, sorted (PostgreSQL keeps them on the
    // figure row, migration 13).
    let mut sold_at: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for ((id, store), (receipts, _)) in &stores {
        if *receipts > 0 {
            sold_at.entry(*id).or_default().push(store.clone());
        }
    }
    let stats_rows: Vec<Vec<Val>> = stats
        .iter()
        .map(|(id, a)| {
            let mut row = vec![
                (*id).into(),
                Val::OptTime(a.first),
                Val::OptTime(a.last),
                a.receipts.into(),
                a.revenue.into(),
                a.online_receipts.into(),
                a.online_revenue.into(),
                a.rolling[0].into(),
                a.rolling[1].into(),
                a.rolling[2].into(),
                a.rolling[3].into(),
            ];
            if pg {
                row.push(Val::Texts(sold_at.remove(id).unwrap_or_default()));
            }
            row
        })
        .collect();
    crate::rows::upsert_rows(
        db,
        "customer_stats",
        stats_columns(pg),
        stats_rows,
        &format!(" ON CONFLICT (customer_id) DO UPDATE SET {}", stats_add(pg)),
    )
    .await?;
    let monthly_rows: Vec<Vec<Val>> = monthly
        .iter()
        .map(|((id, m), a)| {
            vec![
                (*id).into(),
                m.clone().into(),
                a.receipts.into(),
                a.revenue.into(),
                a.online_receipts.into(),
                a.online_revenue.into(),
            ]
        })
        .collect();
    crate::rows::upsert_rows(
        db,
        "customer_monthly",
        &["customer_id", "month", "receipts", "revenue", "online_receipts", "online_revenue"],
        monthly_rows,
        " ON CONFLICT (customer_id, month) DO UPDATE SET receipts = customer_monthly.receipts + excluded.receipts, revenue = customer_monthly.revenue + excluded.revenue, \
         online_receipts = customer_monthly.online_receipts + excluded.online_receipts, online_revenue = customer_monthly.online_revenue + excluded.online_revenue",
    )
    .await?;
    let store_rows: Vec<Vec<Val>> = stores
        .iter()
        .map(|((id, s), (n, r))| vec![(*id).into(), s.clone().into(), (*n).into(), (*r).into()])
        .collect();
    crate::rows::upsert_rows(
        db,
        "customer_stores",
        &["customer_id", "store_code", "receipts", "revenue"],
        store_rows,
        " ON CONFLICT (customer_id, store_code) DO UPDATE SET receipts = customer_stores.receipts + excluded.receipts, revenue = customer_stores.revenue + excluded.revenue",
    )
    .await?;
    Ok(())
}

/// Per-customer figures as the API shows them.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PurchaseFigures {
    pub first_purchase: Option<DateTime<Utc>>,
    pub last_purchase: Option<DateTime<Utc>>,
    pub receipts_total: i64,
    pub revenue_total: i64,
    pub receipts_12m: i64,
    pub revenue_12m: i64,
    /// Average basket over the last 12 months in minor units (rounded down).
    pub average_basket_12m: i64,
    /// Share of online revenue in the last 12 months, in per mille.
    pub online_share_12m_permille: i64,
    pub favourite_store: Option<String>,
}

/// The customer's figures; the 12-month ones sum the months `from_month..=to_month`
/// ([`kundo_core::twelve_months::months`]).
pub async fn figures(
    db: &mut Db<'_>,
    customer_id: i64,
    from_month: &str,
    to_month: &str,
) -> crate::Result<PurchaseFigures> {
    #[derive(sqlx::FromRow)]
    struct Stats {
        first_purchase: Option<DateTime<Utc>>,
        last_purchase: Option<DateTime<Utc>>,
        receipts: i64,
        revenue: i64,
    }
    let (stats, window, fav) = with_db!(db, c, _pg => {
        let stats: Option<Stats> = sqlx::query_as("SELECT first_purchase, last_purchase, receipts, revenue FROM customer_stats WHERE customer_id = $1")
            .bind(customer_id).fetch_optional(&mut *c).await?;
        let window: (Option<i64>, Option<i64>, Option<i64>) = sqlx::query_as(
            "SELECT CAST(SUM(receipts) AS BIGINT), CAST(SUM(revenue) AS BIGINT), CAST(SUM(online_revenue) AS BIGINT) FROM customer_monthly WHERE customer_id = $1 AND month >= $2 AND month <= $3")
            .bind(customer_id).bind(from_month).bind(to_month).fetch_one(&mut *c).await?;
        let fav: Option<String> = sqlx::query_scalar("SELECT store_code FROM customer_stores WHERE customer_id = $1 ORDER BY receipts DESC, revenue DESC, store_code LIMIT 1")
            .bind(customer_id).fetch_optional(&mut *c).await?;
        (stats, window, fav)
    });
    let (r12, rev12, online12) = (
        window.0.unwrap_or(0),
        window.1.unwrap_or(0),
        window.2.unwrap_or(0),
    );
    Ok(PurchaseFigures {
        first_purchase: stats.as_ref().and_then(|s| s.first_purchase),
        last_purchase: stats.as_ref().and_then(|s| s.last_purchase),
        receipts_total: stats.as_ref().map_or(0, |s| s.receipts),
        revenue_total: stats.as_ref().map_or(0, |s| s.revenue),
        receipts_12m: r12,
        revenue_12m: rev12,
        average_basket_12m: if r12 > 0 { rev12 / r12 } else { 0 },
        online_share_12m_permille: if rev12 > 0 {
            online12 * 1000 / rev12
        } else {
            0
        },
        favourite_store: fav,
    })
}

/// Known store codes among `codes`.
pub async fn known_stores(db: &mut Db<'_>, codes: &[String]) -> crate::Result<Vec<String>> {
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Query::select();
    q.column("code")
        .from("stores")
        .and_where(Expr::col("code").is_in(codes.iter().cloned()));
    crate::select::column(db, &q).await
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, sqlx::FromRow)]
pub struct StoreRow {
    pub code: String,
    pub name: String,
    pub channel: String,
    pub street: Option<String>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
}

pub async fn upsert_stores(
    db: &mut Db<'_>,
    stores: &[StoreRow],
    now: DateTime<Utc>,
) -> crate::Result<()> {
    let rows = stores
        .iter()
        .map(|s| {
            vec![
                s.code.clone().into(),
                s.name.clone().into(),
                s.channel.clone().into(),
                s.street.clone().into(),
                s.postcode.clone().into(),
                s.city.clone().into(),
                s.country.clone().into(),
                now.into(),
            ]
        })
        .collect();
    crate::rows::upsert_rows(
        db,
        "stores",
        &["code", "name", "channel", "street", "postcode", "city", "country", "created_at"],
        rows,
        " ON CONFLICT (code) DO UPDATE SET name = excluded.name, channel = excluded.channel, street = excluded.street, postcode = excluded.postcode, city = excluded.city, country = excluded.country",
    )
    .await
}

pub async fn stores(db: &mut Db<'_>) -> crate::Result<Vec<StoreRow>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as("SELECT code, name, channel, street, postcode, city, country FROM stores ORDER BY code").fetch_all(&mut *c).await?
    }))
}

/// Active card → customer, for many cards at once.
pub async fn customers_by_card(
    db: &mut Db<'_>,
    cards: &[String],
) -> crate::Result<HashMap<String, i64>> {
    let mut out = HashMap::new();
    for chunk in cards.chunks(500) {
        let mut q = Query::select();
        q.columns(["card_number", "customer_id"])
            .from("cards")
            .and_where(Expr::col("card_number").is_in(chunk.iter().cloned()))
            .and_where(Expr::col("status").eq("active"));
        out.extend(crate::select::all::<(String, i64)>(db, &q).await?);
    }
    Ok(out)
}

/// Points rules versions, oldest first: `(valid_from, rules JSON)`.
pub async fn rules_versions(
    db: &mut Db<'_>,
) -> crate::Result<Vec<(i64, DateTime<Utc>, String, String, DateTime<Utc>)>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as("SELECT id, valid_from, rules, created_by, created_at FROM points_rules ORDER BY valid_from, id").fetch_all(&mut *c).await?
    }))
}

pub async fn add_rules_version(
    db: &mut Db<'_>,
    valid_from: DateTime<Utc>,
    rules: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> crate::Result<i64> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_scalar("INSERT INTO points_rules (valid_from, rules, created_by, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
            .bind(valid_from).bind(rules).bind(actor).bind(now).fetch_one(&mut *c).await?
    }))
}
