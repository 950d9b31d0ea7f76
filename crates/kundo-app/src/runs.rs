//! The automatic voucher runs (DOMAIN §4): the monthly bonus run and birthday vouchers. A run
//! is a row per kind and period; it works through the eligible customers in id order, one
//! transaction per step, each step moving the cursor with the vouchers it issued. So a second
//! run of a period issues nothing, and a run killed half-way finishes exactly the rest.

use chrono::{Datelike, Duration, NaiveDate, Utc};
use kundo_core::loyalty_runs::{
    BirthdayConfig, BonusConfig, birthday_targets, bonus_conversion, parse_period,
};
use kundo_store::loyalty::LedgerEntry;
use kundo_store::vouchers::{self as store, RunRow, day_start};
use serde_json::json;

use crate::vouchers::{VoucherTemplate, issue};
use crate::{Actor, App, AppError, Result};

/// Customers per step (one transaction each).
const STEP: i64 = 2_000;

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

impl App {
    pub async fn bonus_run(
        &self,
        actor: &Actor,
        period: &str,
        cfg: &BonusConfig,
        limit: RunLimit,
    ) -> Result<RunRow> {
        let first_day = parse_period(period).map_err(|m| AppError::invalid("period", m))?;
        let run = self.open_run("bonus", period).await?;
        if run.state == "done" {
            return Ok(run);
        }
        let valid_from = day_start(first_day);
        let mut cursor = run.cursor;
        let mut steps = 0;
        loop {
            if limit.max_steps.is_some_and(|m| steps >= m) {
                return self.run_state(run.id).await;
            }
            steps += 1;
            let now = Utc::now();
            let mut tx = self.store.begin_write().await?;
            // Locked until the step commits: each balance is converted as it is (DOMAIN §4).
            let candidates = store::lock_bonus_candidates(
                &mut tx.db(),
                run.id,
                cfg.threshold_points,
                cursor,
                STEP,
            )
            .await?;
            let Some(last) = candidates.last().map(|c| c.0) else {
                tx.commit().await?;
                break;
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
                let template = VoucherTemplate {
                    kind: "bonus".into(),
                    value_type: "amount".into(),
                    value,
                    currency: cfg.currency.clone(),
                    min_order: 0,
                    channels: "both".into(),
                    valid_from,
                    valid_until: valid_from + Duration::days(cfg.validity_days),
                };
                let customers: Vec<Option<i64>> = members.iter().map(|(c, _)| Some(*c)).collect();
                let vouchers =
                    issue(&mut tx.db(), &template, &customers, Some(run.id), now).await?;
                for ((customer, points), (_, voucher_id, _)) in members.iter().zip(vouchers) {
                    entries.push(LedgerEntry {
                        customer_id: *customer,
                        kind: "convert",
                        points: -points,
                        receipt_id: None,
                        voucher_id: Some(voucher_id),
                        run_id: Some(run.id),
                        reason: Some(format!("bonus run {period}")),
                        actor: actor.name.clone(),
                    });
                    items.push((*customer, voucher_id));
                    issued += 1;
                    converted += points;
                }
            }
            kundo_store::loyalty::append(&mut tx.db(), &entries, now).await?;
            store::add_run_items(&mut tx.db(), run.id, &items).await?;
            store::advance_run(
                &mut tx.db(),
                run.id,
                last,
                issued,
                converted,
                candidates.len() as i64,
                now,
            )
            .await?;
            tx.commit().await?;
            cursor = last;
        }
        self.finish_run(run.id, "bonus", period).await
    }

    pub async fn birthday_run(
        &self,
        date: &str,
        cfg: &BirthdayConfig,
        limit: RunLimit,
    ) -> Result<RunRow> {
        let run_date = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
            .map_err(|_| AppError::invalid("date", "must be a date YYYY-MM-DD"))?;
        let (target, pairs) = birthday_targets(run_date, cfg.lead_days);
        let month_days: Vec<String> = pairs
            .iter()
            .map(|(m, d)| format!("{m:02}-{d:02}"))
            .collect();
        let from = run_date - Duration::days(365);
        let from_month = format!("{:04}-{:02}", from.year(), from.month());
        let period = run_date.format("%Y-%m-%d").to_string();
        let run = self.open_run("birthday", &period).await?;
        if run.state == "done" {
            return Ok(run);
        }
        let valid_from = day_start(target);
        let mut cursor = run.cursor;
        let mut steps = 0;
        loop {
            if limit.max_steps.is_some_and(|m| steps >= m) {
                return self.run_state(run.id).await;
            }
            steps += 1;
            let now = Utc::now();
            let mut tx = self.store.begin_write().await?;
            let candidates = store::birthday_candidates(
                &mut tx.db(),
                &month_days,
                &from_month,
                cfg.min_revenue_12m,
                target.year(),
                cursor,
                STEP,
            )
            .await?;
            let Some(last) = candidates.last().copied() else {
                tx.commit().await?;
                break;
            };
            let template = VoucherTemplate {
                kind: "birthday".into(),
                value_type: "amount".into(),
                value: cfg.value,
                currency: cfg.currency.clone(),
                min_order: 0,
                channels: "both".into(),
                valid_from,
                valid_until: valid_from + Duration::days(cfg.validity_days),
            };
            let customers: Vec<Option<i64>> = candidates.iter().map(|c| Some(*c)).collect();
            let vouchers = issue(&mut tx.db(), &template, &customers, Some(run.id), now).await?;
            let items: Vec<(i64, i64)> = vouchers
                .iter()
                .filter_map(|(c, v, _)| Some(((*c)?, *v)))
                .collect();
            store::add_run_items(&mut tx.db(), run.id, &items).await?;
            store::add_birthday_vouchers(&mut tx.db(), target.year(), &items).await?;
            store::advance_run(
                &mut tx.db(),
                run.id,
                last,
                items.len() as i64,
                0,
                candidates.len() as i64,
                now,
            )
            .await?;
            tx.commit().await?;
            cursor = last;
        }
        self.finish_run(run.id, "birthday", &period).await
    }

    async fn open_run(&self, kind: &str, period: &str) -> Result<RunRow> {
        let now = Utc::now();
        let mut tx = self.store.begin_write().await?;
        let run = store::run_for(&mut tx.db(), kind, period, now).await?;
        tx.commit().await?;
        Ok(run)
    }

    async fn run_state(&self, id: i64) -> Result<RunRow> {
        let mut conn = self.store.acquire().await?;
        store::run_by_id(&mut conn.db(), id)
            .await?
            .ok_or(AppError::NotFound("run"))
    }

    /// Writes the run's lettershop batch and marks it done.
    async fn finish_run(&self, run_id: i64, kind: &str, period: &str) -> Result<RunRow> {
        let now = Utc::now();
        let mut tx = self.store.begin_write().await?;
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
            (v.valid_until - Duration::days(1))
                .format("%Y-%m-%d")
                .to_string(),
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
