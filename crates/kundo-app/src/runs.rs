//! The automatic voucher runs (DOMAIN §4): the monthly bonus run and birthday vouchers. A run
//! is a row per kind and period; it works through the eligible customers in id order, one
//! transaction per step, each step moving the cursor with the vouchers it issued. So a second
//! run of a period issues nothing, and a run killed half-way finishes exactly the rest.
//!
//! A run that fails ends as `failed` with its error, and starting it again continues from its
//! cursor; it works in a task of its own, so that a caller who goes away (a request timing out,
//! a client hanging up) does not stop it between steps, and a panic ends it as `failed`.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use kundo_core::error::{Errors, FieldError};
use kundo_core::loyalty_runs::{
    BirthdayConfig, BonusConfig, birthday_targets, bonus_conversion, check_birthday_run_date,
    check_bonus_period, parse_period, validity_end,
};
use kundo_store::Db;
use kundo_store::loyalty::LedgerEntry;
use kundo_store::vouchers::{self as store, RunRow, day_start};
use serde_json::json;

use crate::vouchers::{VoucherTemplate, issue, last_valid_day};
use crate::{Actor, App, AppError, Result};

/// Customers per step (one transaction each).
const STEP: i64 = 2_000;

/// The longest error text a failed run keeps.
const ERROR_LEN: usize = 1_000;

/// Lettershop columns (DOMAIN §8).
pub const LETTERSHOP_COLUMNS: &[&str] = &[
    "customer_number",
    "salutation",
    "title",
    "first_name",
    "last_name",
    "company",
    "street",
    "house_number",
    "address_line2",
    "postcode",
    "city",
    "country",
    "voucher_code",
    "barcode_value",
    "voucher_value",
    "currency",
    "valid_until",
    "campaign",
    "letter_template",
    "reference",
];

/// Optional stop after a number of steps: lets tests interrupt a run the way a crash would.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunLimit {
    pub max_steps: Option<u32>,
}

fn money(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, (minor % 100).abs())
}

/// A run's settings' errors as the API names the fields (`config.validity_days`).
fn in_config(checked: std::result::Result<(), Vec<FieldError>>) -> Vec<FieldError> {
    checked
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|e| FieldError::new(format!("config.{}", e.field), e.message))
        .collect()
}

/// From the start of `from` for `days` days, in checked date arithmetic.
fn validity(from: NaiveDate, days: i64) -> Result<Validity> {
    let until =
        validity_end(from, days).map_err(|m| AppError::invalid("config.validity_days", m))?;
    Ok((day_start(from), day_start(until)))
}

/// `valid_from` and (exclusive) `valid_until` of a run's vouchers.
type Validity = (DateTime<Utc>, DateTime<Utc>);

/// What a run does in each step, owning all it needs (the run works in a task of its own).
enum Job {
    Bonus {
        cfg: BonusConfig,
        actor: String,
        valid: Validity,
    },
    Birthday {
        cfg: BirthdayConfig,
        target: NaiveDate,
        month_days: Vec<String>,
        from_month: String,
        valid: Validity,
    },
}

impl App {
    /// Checks a bonus run request as a whole, naming every bad field (`period`,
    /// `config.validity_days`): the edges call it before they start a run, and the run calls
    /// it again. The period must be the current month or the one that just ended in the
    /// company's calendar, since the run converts today's balances. Answers the period's first
    /// day.
    pub fn check_bonus_request(&self, period: &str, cfg: &BonusConfig) -> Result<NaiveDate> {
        let today = self.company_today();
        let mut e = Errors::default();
        let first_day = e.check(
            "period",
            parse_period(period).and_then(|d| check_bonus_period(d, today).map(|()| d)),
        );
        e.0.extend(in_config(cfg.validate()));
        first_day
            .filter(|_| e.is_empty())
            .ok_or(AppError::Invalid(e.0))
    }

    /// Checks a birthday run request as [`App::check_bonus_request`] does: `date` a day within
    /// a month of today. Answers the run's date.
    pub fn check_birthday_request(&self, date: &str, cfg: &BirthdayConfig) -> Result<NaiveDate> {
        let today = self.company_today();
        let mut e = Errors::default();
        let run_date = e.check(
            "date",
            NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
                .map_err(|_| "must be a date YYYY-MM-DD".to_string())
                .and_then(|d| check_birthday_run_date(d, today).map(|()| d)),
        );
        e.0.extend(in_config(cfg.validate()));
        run_date
            .filter(|_| e.is_empty())
            .ok_or(AppError::Invalid(e.0))
    }

    /// The bonus run of `period` ("YYYY-MM", see [`App::check_bonus_request`]); its vouchers
    /// are valid from today (DOMAIN §4), whichever of the two months it converts.
    pub async fn bonus_run(
        &self,
        actor: &Actor,
        period: &str,
        cfg: &BonusConfig,
        limit: RunLimit,
    ) -> Result<RunRow> {
        let first_day = self.check_bonus_request(period, cfg)?;
        let job = Job::Bonus {
            cfg: cfg.clone(),
            actor: actor.name.clone(),
            valid: validity(self.company_today(), cfg.validity_days)?,
        };
        // One spelling per month, so " 2026-11" is the run of "2026-11".
        let period = first_day.format("%Y-%m").to_string();
        self.run_job("bonus", period, job, limit).await
    }

    /// The birthday run of the day `date` ("YYYY-MM-DD", see
    /// [`App::check_birthday_request`]): vouchers valid from the birthday `lead_days` later.
    pub async fn birthday_run(
        &self,
        date: &str,
        cfg: &BirthdayConfig,
        limit: RunLimit,
    ) -> Result<RunRow> {
        let run_date = self.check_birthday_request(date, cfg)?;
        let (target, pairs) = birthday_targets(run_date, cfg.lead_days);
        let job = Job::Birthday {
            cfg: cfg.clone(),
            target,
            month_days: pairs
                .iter()
                .map(|(m, d)| format!("{m:02}-{d:02}"))
                .collect(),
            // The revenue threshold reads "the last 12 months" of the run date.
            from_month: kundo_core::twelve_months::months(run_date).0,
            valid: validity(target, cfg.validity_days)?,
        };
        let period = run_date.format("%Y-%m-%d").to_string();
        self.run_job("birthday", period, job, limit).await
    }

    /// Opens (or reopens) the run and works it in a task of its own, supervised by another:
    /// whatever becomes of the caller, the run ends `done` or `failed`, or stays `running`
    /// only when the process itself dies (and then the next start continues it).
    async fn run_job(
        &self,
        kind: &'static str,
        period: String,
        job: Job,
        limit: RunLimit,
    ) -> Result<RunRow> {
        let run = self.open_run(kind, &period).await?;
        if run.state == "done" {
            return Ok(run);
        }
        let (app, id) = (self.clone(), run.id);
        let supervisor = tokio::spawn(async move {
            let worker = {
                let app = app.clone();
                tokio::spawn(async move { app.work(&job, id, kind, &period, limit).await })
            };
            match worker.await {
                Ok(outcome) => outcome,
                Err(stopped) => {
                    let e = AppError::Io(format!("the run stopped: {stopped}"));
                    Err(app.failed(id, e).await)
                }
            }
        });
        supervisor
            .await
            .map_err(|e| AppError::Io(format!("the run stopped: {e}")))?
    }

    async fn work(
        &self,
        job: &Job,
        id: i64,
        kind: &str,
        period: &str,
        limit: RunLimit,
    ) -> Result<RunRow> {
        let mut steps = 0;
        loop {
            if limit.max_steps.is_some_and(|m| steps >= m) {
                return self.run_state(id).await;
            }
            steps += 1;
            match self.step(job, id).await {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => return Err(self.failed(id, e).await),
            }
        }
        match self.finish_run(id, kind, period).await {
            Ok(run) => Ok(run),
            Err(e) => Err(self.failed(id, e).await),
        }
    }

    /// Records `e` as the reason the run failed and hands it back. If even that cannot be
    /// written (the database is gone), the run stays `running`; starting it again continues
    /// it all the same.
    pub(crate) async fn failed(&self, id: i64, e: AppError) -> AppError {
        let text: String = e.to_string().chars().take(ERROR_LEN).collect();
        tracing::error!(run = id, error = %text, "run failed; starting it again continues it");
        let recorded = async {
            let mut tx = self.store.begin_write().await?;
            store::fail_run(&mut tx.db(), id, &text, Utc::now()).await?;
            tx.commit().await?;
            Ok::<_, AppError>(())
        }
        .await;
        if let Err(w) = recorded {
            tracing::error!(run = id, error = %w, "could not record the failure of the run");
        }
        e
    }

    /// One step: the next customers after the run's cursor, booked in one transaction with
    /// the cursor. `false` when none are left, or another instance finished the run.
    async fn step(&self, job: &Job, id: i64) -> Result<bool> {
        let now = Utc::now();
        let mut tx = self.store.begin_write().await?;
        let run = store::lock_run(&mut tx.db(), id)
            .await?
            .ok_or(AppError::NotFound("run"))?;
        let more = run.state != "done"
            && match job {
                Job::Bonus { cfg, actor, valid } => {
                    bonus_step(&mut tx.db(), &run, cfg, actor, *valid, now).await?
                }
                Job::Birthday {
                    cfg,
                    target,
                    month_days,
                    from_month,
                    valid,
                } => {
                    let when = (*target, month_days.as_slice(), from_month.as_str());
                    birthday_step(&mut tx.db(), &run, cfg, when, *valid, now).await?
                }
            };
        tx.commit().await?;
        Ok(more)
    }

    /// The run of `kind` for `period`, made if new; a failed one is `running` again, to be
    /// continued from its cursor.
    async fn open_run(&self, kind: &str, period: &str) -> Result<RunRow> {
        let now = Utc::now();
        let mut tx = self.store.begin_write().await?;
        let mut run = store::run_for(&mut tx.db(), kind, period, now).await?;
        if run.state == "failed" {
            store::reopen_run(&mut tx.db(), run.id, now).await?;
            run.state = "running".into();
            run.error = None;
        }
        tx.commit().await?;
        Ok(run)
    }

    async fn run_state(&self, id: i64) -> Result<RunRow> {
        let mut conn = self.store.acquire().await?;
        store::run_by_id(&mut conn.db(), id)
            .await?
            .ok_or(AppError::NotFound("run"))
    }

    /// Writes the run's lettershop batch and marks it done (once: a run another instance
    /// finished is answered as it is).
    async fn finish_run(&self, run_id: i64, kind: &str, period: &str) -> Result<RunRow> {
        let now = Utc::now();
        let mut tx = self.store.begin_write().await?;
        let run = store::lock_run(&mut tx.db(), run_id)
            .await?
            .ok_or(AppError::NotFound("run"))?;
        if run.state == "done" {
            tx.commit().await?;
            return Ok(run);
        }
        let vouchers = store::of_run(&mut tx.db(), run_id).await?;
        let batch = write_lettershop(
            &mut tx.db(),
            &vouchers,
            &format!("{kind} {period}"),
            &format!("{kind}-voucher"),
            &format!("{kind}-{period}"),
        )
        .await?;
        let (letters, no_address, no_consent, content) = (
            batch.letters,
            batch.left_out_address,
            batch.left_out_consent,
            batch.content,
        );
        store::save_lettershop_batch(&mut tx.db(), run_id, letters, &content, now).await?;
        store::finish_run(&mut tx.db(), run_id, letters, no_address, no_consent, now).await?;
        kundo_store::audit::emit(
            &mut tx.db(),
            "run.finished",
            None,
            &json!({"run_id": run_id, "kind": kind, "period": period, "letters": letters}),
            now,
        )
        .await?;
        let run = store::run_by_id(&mut tx.db(), run_id)
            .await?
            .ok_or(AppError::NotFound("run"))?;
        tx.commit().await?;
        if let Some(dir) = &self.files_dir {
            let dir = dir.join("lettershop");
            let path = dir.join(format!("{kind}-{period}.csv"));
            if let Err(e) =
                std::fs::create_dir_all(&dir).and_then(|_| std::fs::write(&path, &content))
            {
                tracing::warn!(error = %e, path = %path.display(), "could not write the lettershop file; it stays downloadable");
            }
        }
        Ok(run)
    }

    pub async fn lettershop_batch(&self, run_id: i64) -> Result<String> {
        let mut conn = self.store.acquire().await?;
        store::lettershop_batch(&mut conn.db(), run_id)
            .await?
            .ok_or(AppError::NotFound("lettershop batch"))
    }

    pub async fn runs(&self, limit: i64) -> Result<Vec<RunRow>> {
        let mut conn = self.store.acquire().await?;
        Ok(store::runs(&mut conn.db(), limit).await?)
    }

    pub async fn run(&self, id: i64) -> Result<RunRow> {
        self.run_state(id).await
    }
}

fn template(kind: &str, value: i64, currency: &str, valid: Validity) -> VoucherTemplate {
    VoucherTemplate {
        kind: kind.into(),
        value_type: "amount".into(),
        value,
        currency: currency.into(),
        min_order: 0,
        channels: "both".into(),
        valid_from: valid.0,
        valid_until: valid.1,
    }
}

/// Converts the points of the next customers of a bonus run; `false` when none are left.
async fn bonus_step(
    db: &mut Db<'_>,
    run: &RunRow,
    cfg: &BonusConfig,
    actor: &str,
    valid: Validity,
    now: DateTime<Utc>,
) -> Result<bool> {
    // Locked until the step commits: each balance is converted as it is (DOMAIN §4).
    let candidates =
        store::lock_bonus_candidates(db, run.id, cfg.threshold_points, run.cursor, STEP).await?;
    let Some(last) = candidates.last().map(|c| c.0) else {
        return Ok(false);
    };
    // All vouchers of one step share a value only per customer; group by value.
    let mut issued = 0i64;
    let mut converted = 0i64;
    let mut entries = Vec::new();
    let mut items = Vec::new();
    let mut by_value: std::collections::BTreeMap<i64, Vec<(i64, i64)>> = Default::default();
    for (customer, balance) in &candidates {
        if let Some((value, points)) = bonus_conversion(cfg, *balance) {
            by_value.entry(value).or_default().push((*customer, points));
        }
    }
    for (value, members) in by_value {
        let template = template("bonus", value, &cfg.currency, valid);
        let customers: Vec<Option<i64>> = members.iter().map(|(c, _)| Some(*c)).collect();
        let vouchers = issue(db, &template, &customers, Some(run.id), now).await?;
        for ((customer, points), (_, voucher_id, _)) in members.iter().zip(vouchers) {
            entries.push(LedgerEntry {
                customer_id: *customer,
                kind: "convert",
                points: -points,
                receipt_id: None,
                voucher_id: Some(voucher_id),
                run_id: Some(run.id),
                reason: Some(format!("bonus run {}", run.period)),
                actor: actor.to_string(),
            });
            items.push((*customer, voucher_id));
            issued += 1;
            converted += points;
        }
    }
    kundo_store::loyalty::append(db, &entries, now).await?;
    store::add_run_items(db, run.id, &items).await?;
    let considered = candidates.len() as i64;
    store::advance_run(db, run.id, last, issued, converted, considered, now).await?;
    Ok(true)
}

/// Issues the birthday vouchers of the next customers; `false` when none are left. `when`:
/// the birthday served, its "MM-DD" forms and the first month of the revenue counted.
async fn birthday_step(
    db: &mut Db<'_>,
    run: &RunRow,
    cfg: &BirthdayConfig,
    (target, month_days, from_month): (NaiveDate, &[String], &str),
    valid: Validity,
    now: DateTime<Utc>,
) -> Result<bool> {
    let candidates = store::birthday_candidates(
        db,
        month_days,
        from_month,
        cfg.min_revenue_12m,
        target.year(),
        run.cursor,
        STEP,
    )
    .await?;
    let Some(last) = candidates.last().copied() else {
        return Ok(false);
    };
    let template = template("birthday", cfg.value, &cfg.currency, valid);
    let customers: Vec<Option<i64>> = candidates.iter().map(|c| Some(*c)).collect();
    let vouchers = issue(db, &template, &customers, Some(run.id), now).await?;
    let items: Vec<(i64, i64)> = vouchers
        .iter()
        .filter_map(|(c, v, _)| Some(((*c)?, *v)))
        .collect();
    store::add_run_items(db, run.id, &items).await?;
    store::add_birthday_vouchers(db, target.year(), &items).await?;
    let considered = candidates.len() as i64;
    store::advance_run(db, run.id, last, items.len() as i64, 0, considered, now).await?;
    Ok(true)
}

/// A lettershop batch (DOMAIN §8) and what was left out of it.
pub(crate) struct LetterBatch {
    pub content: String,
    pub letters: i64,
    pub left_out_address: i64,
    pub left_out_consent: i64,
}

/// Writes the lettershop CSV for vouchers (runs and campaigns share it, so that the lettershop
/// gets one format): one row per voucher whose customer's current main address is `ok`, who
/// has not refused letters (latest statement granted) and has no mail block (reported
/// deceased, postal advertising refused); the others are counted. `batch` goes into each
/// letter's machine-readable reference after the customer number, so a return matches exactly.
pub(crate) async fn write_lettershop(
    db: &mut kundo_store::Db<'_>,
    vouchers: &[store::VoucherRow],
    campaign: &str,
    template: &str,
    batch: &str,
) -> Result<LetterBatch> {
    let ids: Vec<i64> = vouchers.iter().filter_map(|v| v.customer_id).collect();
    let people: std::collections::HashMap<i64, store::LetterRow> = store::letter_rows(db, &ids)
        .await?
        .into_iter()
        .map(|r| (r.customer_id, r))
        .collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(LETTERSHOP_COLUMNS)
        .map_err(|e| AppError::Io(e.to_string()))?;
    let (mut letters, mut no_address, mut no_consent) = (0i64, 0i64, 0i64);
    for v in vouchers {
        let Some(p) = v.customer_id.and_then(|c| people.get(&c)) else {
            continue;
        };
        if p.postal_status.as_deref() != Some("ok") {
            no_address += 1;
            continue;
        }
        if p.letter_consent.as_deref() != Some("granted") || p.mail_blocked {
            no_consent += 1;
            continue;
        }
        let s = |o: &Option<String>| o.clone().unwrap_or_default();
        let value = if v.value_type == "percent" {
            format!("{}%", money(v.value))
        } else {
            money(v.value)
        };
        w.write_record([
            p.customer_number.clone(),
            s(&p.salutation),
            s(&p.title),
            s(&p.first_name),
            s(&p.last_name),
            s(&p.company_name),
            s(&p.street),
            s(&p.house_number),
            s(&p.address_line2),
            s(&p.postcode),
            s(&p.city),
            s(&p.country),
            kundo_core::voucher_code::display(&v.code),
            v.code.clone(),
            value,
            v.currency.clone(),
            last_valid_day(v.valid_until),
            campaign.to_string(),
            template.to_string(),
            // Machine-readable on the letter (e.g. KdInfoDMC), so a return matches exactly.
            format!("{}/{batch}", p.customer_number),
        ])
        .map_err(|e| AppError::Io(e.to_string()))?;
        letters += 1;
    }
    let content = String::from_utf8(w.into_inner().map_err(|e| AppError::Io(e.to_string()))?)
        .map_err(|e| AppError::Io(e.to_string()))?;
    Ok(LetterBatch {
        content,
        letters,
        left_out_address: no_address,
        left_out_consent: no_consent,
    })
}
