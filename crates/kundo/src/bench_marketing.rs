//! `kundo bench segments`: count and first page of the three seed segments of DOMAIN §5, each
//! next to a hand-written SQL query for the same question, measured in the same run.

use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate, TimeZone, Utc};
use kundo_app::App;
use kundo_core::segment::{Context, Window, parse};
use kundo_store::segments::months_array;
use kundo_store::{Db, with_db};
use serde_json::json;

use crate::bench::summarize;

/// Hand-written SQL for one seed: the count and the first page of 50 member ids.
struct HandQuery {
    count: String,
    page: String,
    binds: Vec<Bind>,
}

#[derive(Clone)]
enum Bind {
    Text(String),
    Time(chrono::DateTime<Utc>),
}

fn month_back(as_of: NaiveDate, months: i32) -> String {
    let total = as_of.year() * 12 + as_of.month0() as i32 - months;
    format!(
        "{:04}-{:02}",
        total.div_euclid(12),
        total.rem_euclid(12) + 1
    )
}

fn day_start(d: NaiveDate) -> chrono::DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
}

/// `$N` for PostgreSQL, `?N` for SQLite (numbered, so a query may use them out of order).
fn placeholders(sql: &str, pg: bool) -> String {
    if pg {
        sql.to_string()
    } else {
        sql.replace('$', "?")
    }
}

/// Count and first page over `customers c` with `filter` (joins and WHERE).
fn hand(filter: &str, binds: Vec<Bind>) -> HandQuery {
    HandQuery {
        count: format!("SELECT COUNT(*) FROM customers c {filter}"),
        page: format!("SELECT c.id FROM customers c {filter} ORDER BY c.id LIMIT 50"),
        binds,
    }
}

fn hand_queries(
    store: &str,
    as_of: NaiveDate,
    pg: bool,
) -> Vec<(&'static str, serde_json::Value, HandQuery)> {
    let from3 = month_back(as_of, 2);
    let last_year = as_of.year() - 1;
    vec![
        (
            "1 store, revenue, lapsed",
            json!({"and": [
                {"purchases": {"metric": "receipts", "store": store, "op": "gte", "value": 1}},
                {"purchases": {"metric": "revenue", "window": {"last_months": 12}, "op": "gte", "value": 100000}},
                {"last_purchase": {"op": "before", "days": 60}}
            ]}),
            hand(
                &format!(
                    "JOIN customer_stats s ON s.customer_id = c.id WHERE c.status = 'active' \
                     AND s.revenue_12m >= 100000 AND s.last_purchase < $2 AND {}",
                    // PostgreSQL keeps the stores with a sale on the figure row (ADR 17).
                    if pg {
                        "$1 = ANY(s.stores)"
                    } else {
                        "EXISTS (SELECT 1 FROM customer_stores t WHERE t.customer_id = c.id AND t.store_code = $1 AND t.receipts >= 1)"
                    }
                ),
                vec![
                    Bind::Text(store.to_string()),
                    Bind::Time(day_start(as_of - chrono::Duration::days(59))),
                ],
            ),
        ),
        (
            "2 online, basket, Papier",
            json!({"and": [
                {"purchases": {"metric": "online_share", "window": {"last_months": 12}, "op": "gte", "value": 500}},
                {"purchases": {"metric": "average_basket", "window": {"last_months": 12}, "op": "gte", "value": 8000}},
                {"field": "gender", "op": "eq", "value": "female"},
                {"bought": {"category": "Papier", "min_times": 2}}
            ]}),
            hand(
                "JOIN customer_stats s ON s.customer_id = c.id WHERE c.status = 'active' AND s.gender = 'female' \
                 AND s.revenue_12m > 0 AND s.online_revenue_12m * 1000 >= 500 * s.revenue_12m \
                 AND s.receipts_12m > 0 AND s.revenue_12m >= 8000 * s.receipts_12m \
                 AND EXISTS (SELECT 1 FROM customer_category_totals k WHERE k.customer_id = c.id AND k.category = 'Papier' AND k.receipts >= 2)",
                vec![],
            ),
        ),
        (
            "3 Möbel last year, not lately",
            json!({"and": [
                {"bought": {"category": "Möbel", "window": {"from": format!("{last_year}-01-01"), "to": format!("{last_year}-12-31")}}},
                {"bought": {"category": "Möbel", "window": {"last_months": 3}, "negate": true}},
                {"purchases": {"metric": "receipts", "op": "lte", "value": 3}},
                {"purchases": {"metric": "revenue", "op": "gte", "value": 150000}}
            ]}),
            seed3_hand(pg, last_year, &from3, as_of),
        ),
    ]
}

/// Seed 3 as an expert would ask it of this schema: on PostgreSQL the set of months on the
/// category totals row (migration 12), on SQLite, which has no arrays, the monthly figures.
fn seed3_hand(pg: bool, last_year: i32, from3: &str, as_of: NaiveDate) -> HandQuery {
    let filter = |test: &str| {
        format!(
            "JOIN customer_stats s ON s.customer_id = c.id WHERE c.status = 'active' AND s.receipts <= 3 AND s.revenue >= 150000 AND {test}"
        )
    };
    if pg {
        let (quarter_from, to) = Window::LastMonths(3).resolve(as_of).month_numbers();
        return hand(
            &filter(
                "EXISTS (SELECT 1 FROM customer_category_totals k WHERE k.customer_id = c.id AND k.category = 'Möbel' \
                 AND k.months && CAST($1 AS INTEGER[]) AND NOT k.months && CAST($2 AS INTEGER[]))",
            ),
            vec![
                Bind::Text(months_array(last_year * 100 + 1, last_year * 100 + 12)),
                Bind::Text(months_array(quarter_from.unwrap_or(to), to)),
            ],
        );
    }
    hand(
        &filter(
            "EXISTS (SELECT 1 FROM customer_categories k WHERE k.customer_id = c.id AND k.category = 'Möbel' \
             AND k.month >= $1 AND k.month <= $2) \
             AND NOT EXISTS (SELECT 1 FROM customer_categories k WHERE k.customer_id = c.id AND k.category = 'Möbel' AND k.month >= $3)",
        ),
        vec![
            Bind::Text(format!("{last_year}-01")),
            Bind::Text(format!("{last_year}-12")),
            Bind::Text(from3.to_string()),
        ],
    )
}

/// Unprepared, as the segment statements run: a cached statement would get PostgreSQL's generic
/// plan after five runs.
async fn run_hand(db: &mut Db<'_>, h: &HandQuery) -> Result<(i64, usize), sqlx::Error> {
    with_db!(db, c, pg => {
        let count_sql = placeholders(&h.count, pg);
        let mut q = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql)).persistent(false);
        for b in &h.binds {
            q = match b { Bind::Text(t) => q.bind(t.clone()), Bind::Time(t) => q.bind(*t) };
        }
        let n = q.fetch_one(&mut *c).await?;
        let page_sql = placeholders(&h.page, pg);
        let mut q = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(page_sql)).persistent(false);
        for b in &h.binds {
            q = match b { Bind::Text(t) => q.bind(t.clone()), Bind::Time(t) => q.bind(*t) };
        }
        let page = q.fetch_all(&mut *c).await?;
        Ok((n, page.len()))
    })
}

pub async fn segments(
    app: &App,
    customers: u64,
    runs: usize,
    parts: Option<usize>,
) -> Result<(), String> {
    let err = |e: kundo_store::StoreError| e.to_string();
    let mut conn = app.store.acquire().await.map_err(err)?;
    let have = kundo_store::customers::count(&mut conn.db())
        .await
        .map_err(err)? as u64;
    drop(conn);
    if have < customers {
        crate::make_demo_with(app, customers - have, 42, 36, true).await?;
        app.store.optimize().await.map_err(err)?;
    }
    let mut conn = app.store.acquire().await.map_err(err)?;
    let lines: i64 = with_db!(&mut conn.db(), c, _pg => {
        sqlx::query_scalar("SELECT COUNT(*) FROM receipt_lines").fetch_one(&mut *c).await.map_err(|e| e.to_string())?
    });
    // The store with the most customers, so that seed 1 has members.
    let store: String = with_db!(&mut conn.db(), c, _pg => {
        sqlx::query_scalar("SELECT store_code FROM customer_stores GROUP BY store_code ORDER BY COUNT(*) DESC LIMIT 1")
            .fetch_optional(&mut *c).await.map_err(|e| e.to_string())?.unwrap_or_default()
    });
    let as_of = Utc::now().date_naive();
    // The nightly job keeps the rolling figures current; a fresh database gets them here.
    let t = Instant::now();
    let rolled = app.roll_figures(as_of).await.map_err(|e| e.to_string())?;
    if rolled {
        println!(
            "rolled the twelve-month figures in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    println!(
        "{have} customers before the run, {lines} receipt lines; store {store}; as of {as_of}; {runs} runs each"
    );
    // As the API previews: spread over connections on SQLite (ADR 12).
    let split = match parts {
        Some(n) => kundo_store::segments::Split {
            parts: n.max(1),
            min_ids_per_part: 50_000,
        },
        None => kundo_store::segments::Split::for_store(&app.store),
    };
    println!("preview parts: up to {}", split.parts);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let pg = app.store.backend() == kundo_store::Backend::Postgres;
    for (name, definition, hand) in hand_queries(&store, as_of, pg) {
        let seg = parse(&definition, "definition", Context { attributes: &[] })
            .map_err(|e| format!("{name}: {e:?}"))?;
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        let (mut n_ours, mut n_hand) = (0, 0);
        let start = Instant::now();
        for _ in 0..runs {
            let t = Instant::now();
            let (n, page) = kundo_store::segments::preview(&app.store, &seg, as_of, 50, split)
                .await
                .map_err(err)?;
            ours.push(t.elapsed());
            n_ours = n;
            let _ = page;
            let t = Instant::now();
            let (n, _) = run_hand(&mut conn.db(), &hand)
                .await
                .map_err(|e| e.to_string())?;
            theirs.push(t.elapsed());
            n_hand = n;
        }
        let elapsed = start.elapsed();
        let (a, b) = (summarize(ours, elapsed), summarize(theirs, elapsed));
        println!(
            "seed {name:<30} members {n_ours:>7} (hand SQL {n_hand:>7})  preview p50 {:>8.1} ms  max {:>8.1} ms | hand SQL p50 {:>8.1} ms | ratio {:.2}",
            ms(a.p50),
            ms(a.p999),
            ms(b.p50),
            ms(a.p50) / ms(b.p50).max(1e-9)
        );
    }
    Ok(())
}
