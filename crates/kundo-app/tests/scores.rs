//! The scores job on both backends: RFM codes from SQL equal the rule of `kundo_core::scores`
//! computed here over the same generated purchases, purchase histories equal `summarize`,
//! lifetime values exist and are not negative, and a second run gives the same scores. Plus
//! the purchase-log import: exact receipts and figures, idempotency, bad files.

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, Months, NaiveDate};
use kundo_app::purchase_log::PurchaseLogOptions;
use kundo_app::receipts::{LineInput, ReceiptInput};
use kundo_app::{Actor, App};
use kundo_core::customer::customer_number_for;
use kundo_core::demo::DemoRng;
use kundo_core::scores::{PurchaseLogRow, RfmInput, rfm_scores, summarize};
use kundo_store::scores::{self as store, ScoreWindow};
use kundo_store::testing;

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// One generated sale: customer index, day, amount.
struct Sale {
    customer: usize,
    day: NaiveDate,
    amount: i64,
}

/// Deterministic purchases of `n` customers over the three years before `as_of`, drawn the way
/// BG/NBD assumes people buy (a personal Poisson rate, a chance to drop out after each
/// purchase), so the model fit has something to find: some never buy, some lapsed more than
/// 24 months ago, some buy twice on one day, and round amounts make ties.
fn generate(n: usize, as_of: NaiveDate) -> Vec<Sale> {
    let mut rng = DemoRng::new(7);
    let mut uniform = move || (1 + rng.below(1_000_000)) as f64 / 1_000_001.0;
    let mut sales = Vec::new();
    for c in 0..n {
        if uniform() < 0.1 {
            continue;
        }
        let per_week = 0.02 + 0.5 * uniform() * uniform();
        let dropout = 0.05 + 0.4 * uniform();
        let mut day = as_of - Duration::days((uniform() * 1_000.0) as i64);
        let mut k = 0;
        while day <= as_of {
            let amount = if uniform() < 0.3 {
                5_000
            } else {
                100 + (uniform() * 20_000.0) as i64
            };
            sales.push(Sale {
                customer: c,
                day,
                amount,
            });
            if k % 5 == 4 {
                sales.push(Sale {
                    customer: c,
                    day,
                    amount: 990,
                });
            }
            k += 1;
            if uniform() < dropout {
                break;
            }
            let weeks = -uniform().ln() / per_week;
            day += Duration::days(1 + (weeks * 7.0) as i64);
        }
    }
    sales
}

/// The RFM inputs as DOMAIN §7 defines them, computed from the generated sales.
fn expected_inputs(sales: &[Sale], ids: &[i64], w: &ScoreWindow) -> Vec<RfmInput> {
    let month = |d: NaiveDate| format!("{:04}-{:02}", d.year(), d.month());
    let since = w.as_of.checked_sub_months(Months::new(24)).unwrap();
    let mut by: BTreeMap<i64, (NaiveDate, i64, i64)> = BTreeMap::new();
    for s in sales {
        let e = by.entry(ids[s.customer]).or_insert((NaiveDate::MIN, 0, 0));
        e.0 = e.0.max(s.day);
        let m = month(s.day);
        if m >= w.from_month && m <= w.to_month {
            e.1 += 1;
            e.2 += s.amount;
        }
    }
    by.into_iter()
        .filter(|(_, (last, _, _))| *last >= since)
        .map(|(id, (last, f, m))| RfmInput {
            customer_id: id,
            recency_days: (w.as_of - last).num_days(),
            frequency: f,
            monetary: m,
        })
        .collect()
}

async fn setup(n: u64) -> Vec<(App, Option<testing::TempDir>, &'static str, Vec<i64>)> {
    let mut out = Vec::new();
    for (store, dir) in testing::all().await {
        let db = store.backend().name();
        let app = App::new(store);
        let ids = app.generate_demo(n, 42, 3, &|_| {}).await.unwrap();
        out.push((app, dir, db, ids));
    }
    out
}

async fn book(app: &App, sales: &[Sale], ids: &[i64]) {
    let inputs: Vec<ReceiptInput> = sales
        .iter()
        .enumerate()
        .map(|(i, s)| ReceiptInput {
            source: "shop".into(),
            external_id: format!("gen-{i}"),
            store_code: None,
            channel: "online".into(),
            occurred_at: format!("{}T{:02}:30:00Z", s.day, 8 + i % 12),
            currency: "CHF".into(),
            card_number: None,
            customer_number: Some(customer_number_for(ids[s.customer])),
            lines: vec![LineInput {
                sku: "SKU1".into(),
                category: "Papier".into(),
                quantity: 1,
                amount: s.amount,
            }],
        })
        .collect();
    for chunk in inputs.chunks(1_000) {
        for outcome in app
            .book_receipts(&Actor::cli(), chunk.to_vec())
            .await
            .unwrap()
        {
            assert_eq!(outcome.unwrap().status, 201);
        }
    }
}

async fn scores(app: &App) -> Vec<store::ScoreRow> {
    let mut conn = app.store.acquire().await.unwrap();
    store::all(&mut conn.db()).await.unwrap()
}

#[tokio::test]
async fn rfm_from_sql_equals_the_core_rule_and_clv_is_complete() {
    let as_of = date("2025-06-30");
    let w = ScoreWindow::new(as_of);
    for (app, _dir, db, ids) in setup(300).await {
        let sales = generate(ids.len(), as_of);
        book(&app, &sales, &ids).await;
        let expected = expected_inputs(&sales, &ids, &w);
        assert!(expected.len() > 150, "{db}: {} active", expected.len());

        // The store's inputs are the domain's figures.
        let mut conn = app.store.acquire().await.unwrap();
        assert_eq!(
            store::rfm_inputs(&mut conn.db(), &w).await.unwrap(),
            expected,
            "{db}"
        );
        drop(conn);

        let run = app
            .run_scores(&Actor::cli(), as_of, &|_, _, _| {})
            .await
            .unwrap();
        assert_eq!(run.customers_scored, expected.len() as i64, "{db}");
        assert_eq!(run.model_error, None, "{db}");
        let rows = scores(&app).await;
        let want = rfm_scores(&expected);
        assert_eq!(rows.len(), want.len(), "{db}");
        for (row, (score, input)) in rows.iter().zip(want.iter().zip(&expected)) {
            assert_eq!(row.customer_id, score.customer_id, "{db}");
            assert_eq!(
                row.rfm.as_deref(),
                Some(score.code().as_str()),
                "{db}: {input:?}"
            );
            assert_eq!(
                (row.r, row.f, row.m),
                (
                    Some(i64::from(score.r)),
                    Some(i64::from(score.f)),
                    Some(i64::from(score.m))
                ),
                "{db}"
            );
            assert_eq!(row.recency_days, Some(input.recency_days), "{db}");
            assert_eq!(row.clv_historic, Some(input.monetary), "{db}");
            let clv = row.clv_predicted.unwrap_or(-1);
            assert!(clv >= 0, "{db}: no or negative CLV for {input:?}");
        }
        let total: i64 = run.rfm_distribution.values().sum();
        assert_eq!(total, run.customers_scored, "{db}");
        let model = run.model.as_ref().expect("models fitted");
        assert_eq!(run.clv_customers, run.customers_scored, "{db}");
        assert!(
            model.bg_nbd.r > 0.0 && model.gamma_gamma.q > 1.0,
            "{db}: {model:?}"
        );

        // The histories the models see are what `summarize` makes of the same purchases.
        let log: Vec<PurchaseLogRow> = sales
            .iter()
            .map(|s| PurchaseLogRow {
                customer: format!("{:08}", ids[s.customer]),
                date: s.day,
                quantity: None,
                amount: s.amount,
            })
            .collect();
        let summaries: BTreeMap<i64, _> = summarize(&log, as_of, 7)
            .into_iter()
            .map(|s| (s.customer.parse::<i64>().unwrap(), s))
            .collect();
        let mut conn = app.store.acquire().await.unwrap();
        let histories = store::purchase_histories(&mut conn.db(), &w, None)
            .await
            .unwrap();
        drop(conn);
        assert_eq!(histories.len(), expected.len(), "{db}");
        for h in &histories {
            let s = &summaries[&h.customer_id];
            assert_eq!(
                h.rft(w.as_of_day()),
                s.rft,
                "{db}: customer {}",
                h.customer_id
            );
            assert_eq!(h.mean_repeat_value(), s.mean_repeat_value, "{db}");
        }

        // Idempotent: a second run of the date gives the same scores and the same run row.
        let again = app
            .run_scores(&Actor::cli(), as_of, &|_, _, _| {})
            .await
            .unwrap();
        assert_eq!(again.run_id, run.run_id, "{db}");
        let strip = |rows: Vec<store::ScoreRow>| -> Vec<_> {
            rows.into_iter()
                .map(|r| {
                    (
                        r.customer_id,
                        r.rfm,
                        r.recency_days,
                        r.frequency,
                        r.monetary,
                        r.clv_historic,
                        r.clv_predicted,
                    )
                })
                .collect()
        };
        assert_eq!(strip(scores(&app).await), strip(rows), "{db}");
        assert!(app.scores_run_done(as_of).await.unwrap(), "{db}");

        // The customer view, with P(alive) from the stored model.
        let first = &expected[0];
        let view = app
            .customer_scores(&customer_number_for(first.customer_id))
            .await
            .unwrap();
        assert_eq!(view.recency_days, Some(first.recency_days), "{db}");
        let p = view.prob_alive.expect("prob_alive");
        assert!((0.0..=1.0).contains(&p), "{db}: {p}");
        assert!(matches!(
            app.customer_scores("99999999").await,
            Err(kundo_app::AppError::NotFound(_))
        ));

        // Lapsed: a date three years on leaves nobody active, and no score behind.
        let later = app
            .run_scores(&Actor::cli(), date("2028-07-31"), &|_, _, _| {})
            .await
            .unwrap();
        assert_eq!(later.customers_scored, 0, "{db}");
        assert!(scores(&app).await.is_empty(), "{db}");
        assert!(later.model_error.is_some(), "{db}");
    }
}

const SMALL_LOG: &str = "customer_id date number_of_cds dollar_value
A1 19970101 1 11.77
A1 19970101 2 5.00

A1 19970315 1 20.00
B2 19970102 1 0.00
";

fn opts(create: bool) -> PurchaseLogOptions {
    PurchaseLogOptions {
        source: "legacy".into(),
        currency: "USD".into(),
        store_code: None,
        create_customers: create,
    }
}

#[tokio::test]
async fn a_purchase_log_becomes_receipts_exactly_once() {
    for (store, _dir) in testing::all().await {
        let db = store.backend().name();
        let mut app = App::new(store);
        let none = |_: u64, _: u64| {};

        // A history from 1997 is older than the default window of sales (10 years): refused
        // line by line at the date, nothing imported.
        let r = app
            .import_purchase_log(&Actor::cli(), SMALL_LOG, &opts(true), &none)
            .await
            .unwrap();
        assert!(r.aborted, "{db}");
        let at: Vec<(usize, usize)> = r.errors.iter().map(|e| (e.line, e.column)).collect();
        assert_eq!(at, [(2, 4), (3, 4), (5, 4), (6, 4)], "{db}: {r:?}");
        assert!(
            r.errors[0]
                .message
                .starts_with("the date 1997-01-01 is more than 10 years ago"),
            "{db}: {r:?}"
        );
        assert!(app.purchase_figures("A1").await.is_err(), "{db}");
        // Migrating an old history is what the configurable window is for.
        app.sale_bounds.max_age_years = 40;

        // Unknown customers without --create-customers: reported, nothing imported.
        let r = app
            .import_purchase_log(&Actor::cli(), SMALL_LOG, &opts(false), &none)
            .await
            .unwrap();
        assert!(r.aborted, "{db}");
        assert_eq!(r.unknown_customers, ["A1", "B2"], "{db}");
        assert!(app.purchase_figures("A1").await.is_err(), "{db}");

        let r = app
            .import_purchase_log(&Actor::cli(), SMALL_LOG, &opts(true), &none)
            .await
            .unwrap();
        assert!(!r.aborted && r.errors.is_empty(), "{db}: {r:?}");
        assert_eq!(
            (r.rows, r.customers, r.customers_created, r.booked),
            (4, 2, 2, 4),
            "{db}"
        );
        let f = app.purchase_figures("A1").await.unwrap();
        assert_eq!((f.receipts_total, f.revenue_total), (3, 3677), "{db}");
        assert_eq!(
            f.first_purchase.unwrap().to_rfc3339(),
            "1997-01-01T00:00:00+00:00",
            "{db}"
        );
        assert_eq!(
            f.last_purchase.unwrap().to_rfc3339(),
            "1997-03-15T00:00:00+00:00",
            "{db}"
        );
        // Points per receipt, rounded down: 11 + 5 + 20.
        let points = app.points("A1", None, 10).await.unwrap();
        assert_eq!(points.balance, 36, "{db}");
        let b = app.purchase_figures("B2").await.unwrap();
        assert_eq!((b.receipts_total, b.revenue_total), (1, 0), "{db}");
        let c = app.customer("A1").await.unwrap();
        assert_eq!(c.last_name.as_deref(), Some("Kunde A1"), "{db}");

        // The same file again books nothing new.
        let again = app
            .import_purchase_log(&Actor::cli(), SMALL_LOG, &opts(true), &none)
            .await
            .unwrap();
        assert_eq!(
            (again.booked, again.already_booked, again.customers_created),
            (0, 4, 0),
            "{db}"
        );
        assert_eq!(
            app.purchase_figures("A1").await.unwrap().receipts_total,
            3,
            "{db}"
        );

        // A bad line anywhere: located, and nothing of the file is booked.
        let bad = "C3 19970101 1 1.00\nC3 19970102 1 -4.00\n";
        let r = app
            .import_purchase_log(&Actor::cli(), bad, &opts(true), &none)
            .await
            .unwrap();
        assert!(r.aborted, "{db}");
        assert_eq!(
            (r.errors[0].line, r.errors[0].column),
            (2, 15),
            "{db}: {r:?}"
        );
        let garbled = "C3 19970101 1 1.00\nC3 1997-13-01 1 4.00\n";
        let r = app
            .import_purchase_log(&Actor::cli(), garbled, &opts(true), &none)
            .await
            .unwrap();
        assert!(r.aborted, "{db}");
        assert_eq!(
            (r.errors[0].line, r.errors[0].column),
            (2, 4),
            "{db}: {r:?}"
        );
        assert!(app.purchase_figures("C3").await.is_err(), "{db}");
    }
}

/// The whole CDNOW log (69,659 purchases of 23,570 customers) imported on SQLite and scored as
/// of 1998-07-01: every customer with purchases has an RFM code and a lifetime value. About 12 s
/// in a debug build (import 10.5 s, scores 1.2 s), so it runs with the others.
#[tokio::test]
async fn the_cdnow_log_is_imported_and_scored() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/cdnow/CDNOW_master.txt"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let (store, _dir) = testing::sqlite().await;
    let mut app = App::new(store);
    // The log is from 1997/98: wider than the default window of sales.
    app.sale_bounds.max_age_years = 40;
    let started = std::time::Instant::now();
    let report = app
        .import_purchase_log(
            &Actor::cli(),
            &text,
            &PurchaseLogOptions {
                source: "cdnow".into(),
                currency: "USD".into(),
                store_code: None,
                create_customers: true,
            },
            &|_, _| {},
        )
        .await
        .unwrap();
    let imported = started.elapsed();
    assert!(
        report.errors.is_empty(),
        "{:?}",
        &report.errors[..report.errors.len().min(5)]
    );
    assert_eq!(
        (report.rows, report.customers, report.booked),
        (69_659, 23_570, 69_659)
    );
    let started = std::time::Instant::now();
    let run = app
        .run_scores(&Actor::cli(), date("1998-07-01"), &|_, _, _| {})
        .await
        .unwrap();
    let scored = started.elapsed();
    println!(
        "CDNOW: import {imported:?}, scores {scored:?} (rfm {} ms, clv {} ms); {:?}",
        run.rfm_ms, run.clv_ms, run.model
    );
    assert_eq!(run.customers_scored, 23_570);
    assert_eq!(run.clv_customers, 23_570);
    let rows = scores(&app).await;
    assert_eq!(rows.len(), 23_570);
    assert!(
        rows.iter()
            .all(|r| r.rfm.is_some() && r.clv_predicted.is_some_and(|v| v >= 0))
    );
}
