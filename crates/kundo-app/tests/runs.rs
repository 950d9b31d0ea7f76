//! What a voucher run may be asked to do, and how it ends (DOMAIN §4), on both backends: a
//! bonus run is for the month whose balances it reads, its vouchers are valid from the day of
//! the run, settings and dates are checked before anything is booked, and a run that fails or
//! loses its caller ends `failed` or finishes — it never stays `running` half-way.

use chrono::{Datelike, Days, Months, NaiveDate, Utc};
use kundo_app::runs::RunLimit;
use kundo_app::{Actor, App, AppError};
use kundo_core::loyalty_runs::{BirthdayConfig, BonusConfig};
use kundo_store::testing;
use kundo_store::vouchers::day_start;

mod common;
use common::{START, setup, this_month};

fn month(d: NaiveDate) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}

/// The fields a refusal names, and whether anything at all was refused.
fn fields(r: Result<impl std::fmt::Debug, AppError>) -> Vec<String> {
    match r {
        Err(AppError::Invalid(errors)) => errors.into_iter().map(|e| e.field).collect(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn bonus(
    app: &App,
    period: &str,
    cfg: &BonusConfig,
) -> Result<kundo_store::vouchers::RunRow, AppError> {
    app.bonus_run(&Actor::cli(), period, cfg, RunLimit::default())
        .await
}

#[tokio::test]
async fn a_bonus_run_for_a_month_other_than_the_current_or_the_last_is_refused() {
    for (store, _dir) in testing::all().await {
        let db = store.backend().name();
        let app = App::new(store);
        let (_, numbers) = setup(&app, 1).await;
        let today = Utc::now().date_naive();
        let this = today.with_day(1).unwrap();
        for period in [
            "2025-02".to_string(),
            "2030-01".to_string(),
            month(this.checked_sub_months(Months::new(2)).unwrap()),
            month(this.checked_add_months(Months::new(1)).unwrap()),
            month(this.checked_sub_months(Months::new(12)).unwrap()),
        ] {
            let refused = bonus(&app, &period, &BonusConfig::default()).await;
            assert_eq!(fields(refused), ["period"], "{db}: {period}");
        }
        let message = match bonus(&app, "2030-01", &BonusConfig::default()).await {
            Err(AppError::Invalid(e)) => e[0].message.clone(),
            other => panic!("{other:?}"),
        };
        assert!(
            message.starts_with(&format!("must be the current month ({})", month(this))),
            "{db}: {message}"
        );
        // Nothing was converted, and no run was made.
        assert_eq!(
            app.points(&numbers[0], None, 10).await.unwrap().balance,
            START,
            "{db}"
        );
        assert!(
            app.customer_vouchers(&numbers[0]).await.unwrap().is_empty(),
            "{db}"
        );
        assert!(app.runs(10).await.unwrap().is_empty(), "{db}");
        // The month that just ended is open.
        let last = month(this.checked_sub_months(Months::new(1)).unwrap());
        let run = bonus(&app, &last, &BonusConfig::default()).await.unwrap();
        assert_eq!(
            (run.state.as_str(), run.vouchers_issued),
            ("done", 1),
            "{db}"
        );
    }
}

#[tokio::test]
async fn bonus_vouchers_are_valid_from_the_day_of_the_run_and_a_month_has_one_run() {
    for (store, _dir) in testing::all().await {
        let db = store.backend().name();
        let app = App::new(store);
        let (_, numbers) = setup(&app, 1).await;
        let today = Utc::now().date_naive();
        let run = bonus(&app, &this_month(), &BonusConfig::default())
            .await
            .unwrap();
        let v = app.customer_vouchers(&numbers[0]).await.unwrap();
        assert_eq!(v.len(), 1, "{db}");
        assert_eq!(
            (v[0].valid_from, v[0].valid_until, v[0].value),
            (
                day_start(today),
                day_start(today.checked_add_days(Days::new(90)).unwrap()),
                2_000
            ),
            "{db}: valid 90 days from today, not from the first of the month"
        );
        // The same month written with spaces around it is the same run.
        let again = bonus(
            &app,
            &format!(" {} ", this_month()),
            &BonusConfig::default(),
        )
        .await
        .unwrap();
        assert_eq!(
            (again.id, again.period.as_str()),
            (run.id, run.period.as_str()),
            "{db}"
        );
        assert_eq!(app.runs(10).await.unwrap().len(), 1, "{db}");
    }
}

#[tokio::test]
async fn run_settings_are_checked_naming_each_field_before_anything_is_booked() {
    for (store, _dir) in testing::all().await {
        let db = store.backend().name();
        let app = App::new(store);
        let (_, numbers) = setup(&app, 1).await;
        for (validity_days, why) in [(100_000_000, "overflows the calendar"), (-5, "expired")] {
            let cfg = BonusConfig {
                validity_days,
                ..BonusConfig::default()
            };
            let refused = bonus(&app, &this_month(), &cfg).await;
            assert_eq!(fields(refused), ["config.validity_days"], "{db}: {why}");
        }
        let all_bad = BonusConfig {
            threshold_points: -1,
            points_per_step: 0,
            value_per_step: 0,
            currency: "chf".into(),
            reset_to_zero: true,
            validity_days: 0,
        };
        assert_eq!(
            fields(bonus(&app, "1999-13", &all_bad).await),
            [
                "period",
                "config.threshold_points",
                "config.points_per_step",
                "config.value_per_step",
                "config.currency",
                "config.validity_days"
            ],
            "{db}"
        );
        let today = Utc::now().date_naive().to_string();
        for (cfg, field) in [
            (
                BirthdayConfig {
                    value: -1000,
                    ..BirthdayConfig::default()
                },
                "config.value",
            ),
            (
                BirthdayConfig {
                    validity_days: 100_000_000,
                    ..BirthdayConfig::default()
                },
                "config.validity_days",
            ),
            (
                BirthdayConfig {
                    lead_days: 400,
                    ..BirthdayConfig::default()
                },
                "config.lead_days",
            ),
        ] {
            let refused = app.birthday_run(&today, &cfg, RunLimit::default()).await;
            assert_eq!(fields(refused), [field], "{db}");
        }
        // Nothing was converted or issued, and no run was left behind.
        assert_eq!(
            app.points(&numbers[0], None, 10).await.unwrap().balance,
            START,
            "{db}"
        );
        assert!(
            app.customer_vouchers(&numbers[0]).await.unwrap().is_empty(),
            "{db}"
        );
        assert!(app.runs(10).await.unwrap().is_empty(), "{db}");
    }
}

#[tokio::test]
async fn a_birthday_run_dated_far_from_today_is_refused_naming_the_date() {
    for (store, _dir) in testing::all().await {
        let db = store.backend().name();
        let app = App::new(store);
        let today = Utc::now().date_naive();
        let cfg = BirthdayConfig::default();
        for date in [
            "0001-01-01".to_string(),
            "9999-12-31".to_string(),
            today.checked_sub_days(Days::new(32)).unwrap().to_string(),
            today.checked_add_days(Days::new(32)).unwrap().to_string(),
            "2020-02-29".to_string(),
        ] {
            let refused = app.birthday_run(&date, &cfg, RunLimit::default()).await;
            assert_eq!(fields(refused), ["date"], "{db}: {date}");
        }
        assert!(app.runs(10).await.unwrap().is_empty(), "{db}");
        // A missed month of daily runs can be caught up; letters can be made a month early.
        for date in [
            today.checked_sub_days(Days::new(31)).unwrap(),
            today,
            today.checked_add_days(Days::new(31)).unwrap(),
        ] {
            let run = app
                .birthday_run(&date.to_string(), &cfg, RunLimit::default())
                .await
                .unwrap();
            assert_eq!(run.state, "done", "{db}: {date}");
        }
    }
}

#[tokio::test]
async fn a_run_that_fails_ends_failed_with_its_error_and_continues_when_started_again() {
    for (store, _dir) in testing::all().await {
        let db = store.backend().name();
        let app = App::new(store.clone());
        // Two steps' worth of customers; the database refuses vouchers past the first step.
        let (ids, numbers) = setup(&app, 2_500).await;
        let first_step_ends = ids[1_999];
        testing::refuse_inserts(
            &store,
            "vouchers",
            &format!("NEW.customer_id > {first_step_ends}"),
        )
        .await;
        let failed = bonus(&app, &this_month(), &BonusConfig::default()).await;
        assert!(failed.is_err(), "{db}: {failed:?}");
        let runs = app.runs(10).await.unwrap();
        assert_eq!(runs.len(), 1, "{db}");
        let shown = serde_json::to_value(&runs[0]).unwrap();
        assert_eq!(
            (shown["state"].as_str(), shown["vouchers_issued"].as_i64()),
            (Some("failed"), Some(2_000)),
            "{db}: {shown}"
        );
        assert!(
            shown["error"]
                .as_str()
                .is_some_and(|e| e.contains("injected failure")),
            "{db}: {shown}"
        );
        // Started again while the fault lasts: failed again, nothing lost or doubled.
        assert!(
            bonus(&app, &this_month(), &BonusConfig::default())
                .await
                .is_err()
        );
        assert_eq!(app.runs(10).await.unwrap()[0].state, "failed", "{db}");

        testing::allow_inserts(&store, "vouchers").await;
        let done = bonus(&app, &this_month(), &BonusConfig::default())
            .await
            .unwrap();
        assert_eq!(
            (
                done.id,
                done.state.as_str(),
                done.vouchers_issued,
                done.points_converted
            ),
            (runs[0].id, "done", 2_500, 2_500 * START),
            "{db}"
        );
        let shown = serde_json::to_value(&done).unwrap();
        assert!(shown["error"].is_null(), "{db}: {shown}");
        for n in [
            &numbers[0],
            &numbers[1_999],
            &numbers[2_000],
            &numbers[2_499],
        ] {
            assert_eq!(
                app.customer_vouchers(n).await.unwrap().len(),
                1,
                "{db}: {n}"
            );
            assert_eq!(
                app.points(n, None, 10).await.unwrap().balance,
                0,
                "{db}: {n}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_caller_goes_away_half_way_finishes_all_the_same() {
    for (store, _dir) in testing::all().await {
        let db = store.backend().name();
        let app = App::new(store);
        setup(&app, 4_500).await;
        let period = this_month();
        let cfg = BonusConfig::default();
        let mut run = Box::pin(bonus(&app, &period, &cfg));
        // The caller (a request that times out, a client that hangs up) goes away as soon as
        // the first step has committed.
        loop {
            tokio::select! {
                r = &mut run => panic!("{db}: the run finished before its caller went away: {r:?}"),
                _ = tokio::time::sleep(std::time::Duration::from_millis(2)) => {
                    let runs = app.runs(1).await.unwrap();
                    if runs.first().is_some_and(|r| r.vouchers_issued > 0) {
                        break;
                    }
                }
            }
        }
        drop(run);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let finished = loop {
            let r = app.runs(1).await.unwrap().remove(0);
            if r.state != "running" || std::time::Instant::now() > deadline {
                break r;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        };
        assert_eq!(
            (finished.state.as_str(), finished.vouchers_issued),
            ("done", 4_500),
            "{db}"
        );
    }
}

#[tokio::test]
async fn a_scores_run_that_fails_ends_failed_with_its_error() {
    for (store, _dir) in testing::all().await {
        let db = store.backend().name();
        let app = App::new(store.clone());
        testing::refuse_inserts(&store, "score_models", "1 = 1").await;
        let today = Utc::now().date_naive();
        let failed = app.run_scores(&Actor::cli(), today, &|_, _, _| {}).await;
        assert!(failed.is_err(), "{db}");
        let run = serde_json::to_value(app.runs(1).await.unwrap().remove(0)).unwrap();
        assert_eq!(run["kind"], "scores", "{db}");
        assert_eq!(run["state"], "failed", "{db}: {run}");
        assert!(
            run["error"]
                .as_str()
                .is_some_and(|e| e.contains("injected failure")),
            "{db}: {run}"
        );
        testing::allow_inserts(&store, "score_models").await;
        app.run_scores(&Actor::cli(), today, &|_, _, _| {})
            .await
            .unwrap();
        let run = serde_json::to_value(app.runs(1).await.unwrap().remove(0)).unwrap();
        assert_eq!(
            (&run["state"], &run["error"]),
            (&"done".into(), &serde_json::Value::Null),
            "{db}: {run}"
        );
    }
}
