//! The dashboard's monthly figures (`kundo_store::dashboard`) on SQLite and PostgreSQL: data
//! booked through the use cases, a few states set directly (a last purchase a year ago, an
//! expired and a redeemed voucher, RFM scores).

use chrono::{DateTime, Datelike, Duration, Utc};
use kundo_app::customers::{Created, DuplicateCheck};
use kundo_app::runs::RunLimit;
use kundo_app::{Actor, App};
use kundo_core::loyalty_runs::BonusConfig;
use kundo_store::dashboard::{add_months, monthly};
use kundo_store::testing;
use serde_json::json;

async fn customer(app: &App, last: &str) -> String {
    let input = serde_json::from_value(json!({"first_name": "Eva", "last_name": last,
        "addresses": [{"street": "Hauptstrasse", "house_number": "1", "postcode": "3011", "city": "Bern"}]}))
    .unwrap();
    match app
        .create_customer(&Actor::cli(), input, None, DuplicateCheck::CreateAnyway)
        .await
        .unwrap()
    {
        Created::New(v) => v.customer_number,
        Created::Replayed { .. } => unreachable!(),
    }
}

/// Runs one statement with binds `$1` (text) and `$2` (time) on either backend.
async fn exec(app: &App, sql: &str, text: &str, at: DateTime<Utc>) {
    let mut tx = app.store.begin_write().await.unwrap();
    match tx.db() {
        kundo_store::Db::Sqlite(c) => {
            sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
                .bind(text)
                .bind(at)
                .execute(&mut *c)
                .await
                .unwrap();
        }
        kundo_store::Db::Postgres(c) => {
            sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
                .bind(text)
                .bind(at)
                .execute(&mut *c)
                .await
                .unwrap();
        }
    }
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn monthly_figures_on_both_databases() {
    for (store, _dir) in testing::all().await {
        let db = store.backend().name();
        let app = App::new(store);
        let now = Utc::now();
        let this = format!("{:04}-{:02}", now.year(), now.month());
        let from = add_months(&this, -11).unwrap();
        let a = customer(&app, "Aebi").await;
        let b = customer(&app, "Baumann").await;
        let c = customer(&app, "Christen").await;
        for n in [&a, &b] {
            app.adjust_points(&Actor::cli(), n, 700, "Start")
                .await
                .unwrap();
        }
        app.bonus_run(
            &Actor::cli(),
            &this,
            &BonusConfig::default(),
            RunLimit::default(),
        )
        .await
        .unwrap();
        // Active this month: one sale row; lost this month: last purchase a year ago.
        exec(
            &app,
            "INSERT INTO customer_monthly (customer_id, month, receipts, revenue, online_receipts, online_revenue) \
             SELECT id, $1, 1, 1000, 0, 0 FROM customers WHERE customer_number = '{A}' AND $2 IS NOT NULL"
                .replace("{A}", &a)
                .as_str(),
            &this,
            now,
        )
        .await;
        exec(
            &app,
            "INSERT INTO customer_stats (customer_id, first_purchase, last_purchase, receipts, revenue, online_receipts, online_revenue) \
             SELECT id, $2, $2, 1, 1000, 0, 0 FROM customers WHERE customer_number = $1",
            &c,
            now - Duration::days(366),
        )
        .await;
        // One voucher redeemed now, the other expired this month.
        exec(
            &app,
            "UPDATE vouchers SET status = 'redeemed', redeemed_at = $2 WHERE id = (SELECT MIN(id) FROM vouchers) AND $1 = $1",
            "",
            now,
        )
        .await;
        exec(
            &app,
            "UPDATE vouchers SET status = 'expired', valid_until = $2 WHERE id = (SELECT MAX(id) FROM vouchers) AND $1 = $1",
            "",
            now,
        )
        .await;
        exec(
            &app,
            "INSERT INTO customer_scores (customer_id, r, f, m, rfm, scored_at) \
             SELECT id, 5, 4, 3, '543', $2 FROM customers WHERE customer_number <> $1",
            &c,
            now,
        )
        .await;

        let mut tx = app.store.begin_read().await.unwrap();
        let d = monthly(&mut tx.db(), &from, &this).await.unwrap();
        tx.commit().await.unwrap();
        let at = |s: &kundo_store::dashboard::Series| s.get(&this).copied().unwrap_or(0);
        assert_eq!(at(&d.new_customers), 3, "{db}");
        assert_eq!(at(&d.active_customers), 1, "{db}");
        assert_eq!(at(&d.lost_customers), 1, "{db}: {:?}", d.lost_customers);
        assert_eq!(
            at(&d.points_earned),
            0,
            "{db}: adjustments are not earnings"
        );
        assert_eq!(at(&d.points_converted), 1400, "{db}");
        assert_eq!(at(&d.vouchers_issued), 2, "{db}");
        assert_eq!(at(&d.vouchers_redeemed), 1, "{db}");
        assert_eq!(at(&d.vouchers_expired), 1, "{db}");
        assert_eq!(d.rfm.get(&(5, 4)).copied(), Some(2), "{db}");
        assert!(
            d.new_customers.keys().all(|m| *m >= from && *m <= this),
            "{db}"
        );
    }
}
