//! The jobs inside `serve`: the rolling twelve-month figures when the month changes, the monthly bonus run on the 1st, birthday vouchers and voucher
//! expiry every day, and the scores of the day that just ended every night. Each job is idempotent per period, so checking once a minute is safe, a
//! restart catches up, and a second instance that races for the same run takes its steps in
//! turn with the first (each step locks the run's row) instead of issuing twice. A run that
//! failed is started again a minute later and continues from its cursor.

use std::time::Duration;

use chrono::{Datelike, NaiveDate};
use kundo_app::{Actor, App};

pub async fn run(app: App) {
    let actor = Actor {
        name: "scheduler".into(),
        scopes: vec!["admin".into()],
        csrf_token: None,
    };
    let mut done_for: Option<NaiveDate> = None;
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        let today = app.company_today();
        if done_for == Some(today) {
            continue;
        }
        let mut ok = true;
        // First, so that segments of the new month read the rolling figures again.
        match app.roll_figures(today).await {
            Ok(true) => tracing::info!(%today, "rolling twelve-month figures recomputed"),
            Ok(false) => {}
            Err(e) => {
                tracing::error!(error = %e, "rolling the twelve-month figures failed; retrying in a minute");
                ok = false;
            }
        }
        if today.day() == 1 {
            let period = format!("{:04}-{:02}", today.year(), today.month());
            if let Err(e) = app
                .bonus_run(&actor, &period, &Default::default(), Default::default())
                .await
            {
                tracing::error!(error = %e, %period, "bonus run failed; retrying in a minute");
                ok = false;
            }
        }
        if let Err(e) = app
            .birthday_run(&today.to_string(), &Default::default(), Default::default())
            .await
        {
            tracing::error!(error = %e, "birthday run failed; retrying in a minute");
            ok = false;
        }
        // Scores as of yesterday, the last complete day; a restart during the day does not
        // score it again (a run of a date recomputes it, so skipping is only about cost).
        if let Some(yesterday) = today.pred_opt() {
            match app.scores_run_done(yesterday).await {
                Ok(true) => {}
                Ok(false) => match app.run_scores(&actor, yesterday, &|_, _, _| {}).await {
                    Ok(run) => tracing::info!(
                        as_of = %yesterday,
                        customers = run.customers_scored,
                        model_error = ?run.model_error,
                        duration_ms = run.duration_ms,
                        "scores recomputed"
                    ),
                    Err(e) => {
                        tracing::error!(error = %e, "scores run failed; retrying in a minute");
                        ok = false;
                    }
                },
                Err(e) => {
                    tracing::error!(error = %e, "scores run state unreadable; retrying in a minute");
                    ok = false;
                }
            }
        }
        match app.expire_vouchers().await {
            Ok(n) if n > 0 => tracing::info!(expired = n, "vouchers expired"),
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, "voucher expiry failed; retrying in a minute");
                ok = false;
            }
        }
        if ok {
            done_for = Some(today);
        }
    }
}

/// Delivers the event outbox to webhook subscribers, once a second.
pub async fn webhooks(app: App) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        if let Err(e) = app.dispatch_webhooks().await {
            tracing::warn!(error = %e, "webhook dispatch failed; retrying");
        }
    }
}

/// Starts scheduled campaigns when their time has come and resumes interrupted starts, once a
/// minute. A start that runs at the same time elsewhere is safe: each step locks the campaign.
pub async fn campaigns(app: App) {
    let actor = Actor {
        name: "scheduler".into(),
        scopes: vec!["admin".into()],
        csrf_token: None,
    };
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        match app.start_due_campaigns(&actor).await {
            Ok(n) if n > 0 => tracing::info!(campaigns = n, "campaigns started or resumed"),
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, "starting a campaign failed; retrying in a minute")
            }
        }
    }
}
