//! Merging a duplicate into its survivor: everything the duplicate owns moves, the duplicate
//! stays as a tombstone that points to the survivor (its number and cards keep resolving).
//!
//! Locking (ADR 6): the merge locks both customer rows `FOR UPDATE` in id order before it reads
//! anything; receipt ingest locks the customers it books on `FOR SHARE` after resolving their
//! cards and follows `merged_into` if it finds a tombstone. So a receipt either commits before
//! the merge (and is moved by it) or waits and is booked on the survivor. The merge then locks
//! both points accounts (in id order, like every writer of balances), so the points it moves
//! are the ones there are: a bonus run converts them before or finds them gone (DOMAIN §4).
//! SQLite serializes all writers anyway.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::AssertSqlSafe;

use crate::loyalty::LedgerEntry;
use crate::{Db, with_db};

/// How many rows of each kind moved, for the audit entry and the answer.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Moved {
    pub cards: u64,
    pub addresses: u64,
    pub consents: u64,
    pub receipts: u64,
    pub vouchers: u64,
    pub activities: u64,
    pub tasks: u64,
    pub cases: u64,
    pub points: i64,
}

/// Locks the customer rows for the rest of the transaction (PostgreSQL; SQLite's writer lock
/// covers it), in id order so that two merges cannot deadlock.
pub async fn lock_customers(db: &mut Db<'_>, ids: &[i64]) -> crate::Result<()> {
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    if let Db::Postgres(c) = db {
        for id in sorted {
            sqlx::query("SELECT id FROM customers WHERE id = $1 FOR UPDATE")
                .bind(id)
                .execute(&mut **c)
                .await?;
        }
    }
    Ok(())
}

async fn exec(db: &mut Db<'_>, sql: &'static str, from: i64, to: i64) -> crate::Result<u64> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query(sql).bind(from).bind(to).execute(&mut *c).await?.rows_affected()
    }))
}

/// Moves what `from` owns to `to` and books the points over with two `merge` ledger entries
/// (the ledger stays append-only; both accounts stay equal to their ledger sums).
pub async fn move_owned(
    db: &mut Db<'_>,
    from: i64,
    to: i64,
    actor: &str,
    now: DateTime<Utc>,
) -> crate::Result<Moved> {
    // Both accounts first: a bonus run step that holds them finishes before anything moves
    // (its voucher item included), and the balance moved below is the one left after it.
    let balances = crate::loyalty::lock_balances(db, &[from, to]).await?;
    let mut moved = Moved {
        cards: exec(
            db,
            "UPDATE cards SET customer_id = $2 WHERE customer_id = $1",
            from,
            to,
        )
        .await?,
        consents: exec(
            db,
            "UPDATE consents SET customer_id = $2 WHERE customer_id = $1",
            from,
            to,
        )
        .await?,
        receipts: exec(
            db,
            "UPDATE receipts SET customer_id = $2 WHERE customer_id = $1",
            from,
            to,
        )
        .await?,
        vouchers: exec(
            db,
            "UPDATE vouchers SET customer_id = $2 WHERE customer_id = $1",
            from,
            to,
        )
        .await?,
        activities: exec(
            db,
            "UPDATE activities SET customer_id = $2 WHERE customer_id = $1",
            from,
            to,
        )
        .await?,
        tasks: exec(
            db,
            "UPDATE tasks SET customer_id = $2 WHERE customer_id = $1",
            from,
            to,
        )
        .await?,
        cases: exec(
            db,
            "UPDATE cases SET customer_id = $2 WHERE customer_id = $1",
            from,
            to,
        )
        .await?,
        ..Moved::default()
    };
    // The duplicate's addresses become the survivor's history.
    with_db!(db, c, _pg => {
        sqlx::query("UPDATE addresses SET valid_until = $1 WHERE customer_id = $2 AND valid_until IS NULL")
            .bind(now).bind(from).execute(&mut *c).await?;
    });
    moved.addresses = exec(
        db,
        "UPDATE addresses SET customer_id = $2 WHERE customer_id = $1",
        from,
        to,
    )
    .await?;
    for sql in [
        "UPDATE receipt_lines SET customer_id = $2 WHERE customer_id = $1",
        "UPDATE task_comments SET customer_id = $2 WHERE customer_id = $1",
        "UPDATE case_events SET customer_id = $2 WHERE customer_id = $1",
        // One voucher per customer and run / birthday year: rows the survivor has already stay
        // with the tombstone as a record of what was issued.
        "UPDATE run_items SET customer_id = $2 WHERE customer_id = $1 AND NOT EXISTS \
         (SELECT 1 FROM run_items o WHERE o.customer_id = $2 AND o.run_id = run_items.run_id)",
        "UPDATE birthday_vouchers SET customer_id = $2 WHERE customer_id = $1 AND NOT EXISTS \
         (SELECT 1 FROM birthday_vouchers o WHERE o.customer_id = $2 AND o.year = birthday_vouchers.year)",
        // Static lists keep their members: the survivor takes the duplicate's place.
        "UPDATE segment_members SET customer_id = $2 WHERE customer_id = $1 AND NOT EXISTS \
         (SELECT 1 FROM segment_members o WHERE o.customer_id = $2 AND o.snapshot_id = segment_members.snapshot_id)",
        // Where both were members, one member less.
        "UPDATE segment_snapshots SET member_count = member_count - 1 WHERE id IN \
         (SELECT snapshot_id FROM segment_members WHERE customer_id = $1) AND $2 = $2",
        "DELETE FROM segment_members WHERE customer_id = $1 AND $2 = $2",
        // Campaign membership follows the person (results count the survivor's purchases);
        // where both were members, the duplicate's row stays as the record of what it got.
        "UPDATE campaign_members SET customer_id = $2 WHERE customer_id = $1 AND NOT EXISTS \
         (SELECT 1 FROM campaign_members o WHERE o.customer_id = $2 AND o.campaign_id = campaign_members.campaign_id)",
        // Scores are recomputed for the survivor by the next scoring run.
        "DELETE FROM customer_scores WHERE customer_id = $1 AND $2 = $2",
        "DELETE FROM dedup_keys WHERE customer_id = $1 AND $2 = $2",
    ] {
        exec(db, sql, from, to).await?;
    }
    move_figures(db, from, to).await?;
    let balance = balances.get(&from).copied().unwrap_or(0);
    if balance != 0 {
        let entry = |customer_id, points| LedgerEntry {
            customer_id,
            kind: "merge",
            points,
            receipt_id: None,
            voucher_id: None,
            run_id: None,
            reason: Some(format!("merge of customer {from} into {to}")),
            actor: actor.to_string(),
        };
        crate::loyalty::append(db, &[entry(from, -balance), entry(to, balance)], now).await?;
    }
    moved.points = balance;
    Ok(moved)
}

/// Adds the duplicate's purchase figures to the survivor's and removes them from the tombstone.
async fn move_figures(db: &mut Db<'_>, from: i64, to: i64) -> crate::Result<()> {
    let pg = db.is_postgres();
    // The rolling figures move with the rest; the shared lock keeps a roll out meanwhile.
    crate::rolling::lock_shared(db).await?;
    // The duplicate's row proposed for the survivor, added to the survivor's row if it has one.
    // `WHERE` before `ON CONFLICT` also keeps SQLite's parser from reading ON as a join clause.
    let move_row = |table: &str, columns: &[&str], key: &str, add: String| {
        format!(
            "INSERT INTO {table} ({}) SELECT $2, {} FROM {table} WHERE customer_id = $1 \
             ON CONFLICT ({key}) DO UPDATE SET {add}",
            columns.join(", "),
            columns[1..].join(", "),
        )
    };
    let statements = [
        move_row(
            "customer_stats",
            crate::loyalty::stats_columns(pg),
            "customer_id",
            crate::loyalty::stats_add(pg),
        ),
        move_row(
            "customer_monthly",
            &["customer_id", "month", "receipts", "revenue", "online_receipts", "online_revenue"],
            "customer_id, month",
            "receipts = customer_monthly.receipts + excluded.receipts, revenue = customer_monthly.revenue + excluded.revenue, \
             online_receipts = customer_monthly.online_receipts + excluded.online_receipts, online_revenue = customer_monthly.online_revenue + excluded.online_revenue"
                .to_string(),
        ),
        move_row(
            "customer_stores",
            &["customer_id", "store_code", "receipts", "revenue"],
            "customer_id, store_code",
            "receipts = customer_stores.receipts + excluded.receipts, revenue = customer_stores.revenue + excluded.revenue"
                .to_string(),
        ),
        move_row(
            "customer_categories",
            &["customer_id", "category", "month", "receipts"],
            "customer_id, category, month",
            "receipts = customer_categories.receipts + excluded.receipts".to_string(),
        ),
        move_row(
            "customer_category_totals",
            crate::loyalty::totals_columns(pg),
            "customer_id, category",
            crate::loyalty::totals_add(pg),
        ),
        "DELETE FROM customer_stats WHERE customer_id = $1 AND $2 = $2".to_string(),
        "DELETE FROM customer_categories WHERE customer_id = $1 AND $2 = $2".to_string(),
        "DELETE FROM customer_category_totals WHERE customer_id = $1 AND $2 = $2".to_string(),
        "DELETE FROM customer_monthly WHERE customer_id = $1 AND $2 = $2".to_string(),
        "DELETE FROM customer_stores WHERE customer_id = $1 AND $2 = $2".to_string(),
    ];
    for sql in statements {
        with_db!(db, c, _pg => {
            sqlx::query(AssertSqlSafe(sql)).bind(from).bind(to).execute(&mut *c).await?;
        });
    }
    Ok(())
}

/// Turns the duplicate into a tombstone pointing to the survivor, takes it out of search and
/// records the merge.
pub async fn finish(
    db: &mut Db<'_>,
    from: i64,
    to: i64,
    choices: &BTreeMap<String, String>,
    moved: &Moved,
    actor: &str,
    now: DateTime<Utc>,
) -> crate::Result<()> {
    let choices = serde_json::to_string(choices).unwrap_or_default();
    let moved = serde_json::to_string(moved).unwrap_or_default();
    with_db!(db, c, pg => {
        sqlx::query("UPDATE customers SET status = 'merged', merged_into = $1, version = version + 1, updated_at = $2 WHERE id = $3")
            .bind(to).bind(now).bind(from).execute(&mut *c).await?;
        sqlx::query(crate::db::dialect(pg, "DELETE FROM customer_search WHERE rowid = $1", "DELETE FROM customer_search WHERE customer_id = $1"))
            .bind(from).execute(&mut *c).await?;
        sqlx::query("UPDATE duplicate_pairs SET status = 'merged', decided_at = $1, decided_by = $2 \
                     WHERE status = 'open' AND ((customer_a = $3 AND customer_b = $4) OR (customer_a = $4 AND customer_b = $3))")
            .bind(now).bind(actor).bind(from).bind(to).execute(&mut *c).await?;
        // Pairs with the tombstone are moot now.
        sqlx::query("UPDATE duplicate_pairs SET status = 'obsolete', decided_at = $1 WHERE status = 'open' AND (customer_a = $2 OR customer_b = $2)")
            .bind(now).bind(from).execute(&mut *c).await?;
        sqlx::query("INSERT INTO merges (survivor_id, merged_id, field_choices, moved, actor, merged_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(to).bind(from).bind(choices).bind(moved).bind(actor).bind(now).execute(&mut *c).await?;
    });
    Ok(())
}
