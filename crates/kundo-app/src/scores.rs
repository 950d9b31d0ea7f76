//! The scores job (DOMAIN §7): RFM codes for every customer active in 24 months, and the
//! predictive lifetime value from BG/NBD + Gamma-Gamma fitted on the customer base.
//!
//! A run is a row in `runs` (kind `scores`, period = the as-of date). Unlike the voucher runs
//! it issues nothing, so running a date again simply recomputes it: the result is a function of
//! the receipts and the date, and late receipts should be reflected. The work is three steps,
//! each its own transaction so the tills are never blocked for long: RFM (two statements), the
//! model fit (in memory, off the async threads), and the predictions (batched upserts). A run
//! killed between steps leaves its row `running`; the next run of any date recomputes all.
//! Two runs at once compute the same thing; they waste work but cannot disagree.

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::{DateTime, NaiveDate, Utc};
use kundo_core::scores::{
    BgNbdParams, Discount, GammaGammaParams, QuintileBreaks, Rft, SpendObservation, fit_bg_nbd,
    fit_gamma_gamma, predictive_clv, prob_alive,
};
use kundo_store::scores::{self as store, ModelRow, PurchaseHistory, ScoreWindow};
use serde::Serialize;
use serde_json::json;

use crate::{Actor, App, AppError, Result};

/// Forecast horizon of `clv_predicted`: marketing plans in years (see `kundo_core::scores::clv`).
pub const HORIZON_WEEKS: f64 = 52.0;
/// At most this many customers enter the model fit. The likelihood is a sum over customers, so
/// a random sample of this size pins the four parameters far more tightly than their drift
/// from month to month, while the fit stays a few seconds on any base.
pub const FIT_SAMPLE: usize = 200_000;
/// Predictions per write transaction.
const CLV_BATCH: usize = 10_000;

/// What a scores run did.
#[derive(Debug, Clone, Serialize)]
pub struct ScoresRun {
    pub run_id: i64,
    pub as_of: NaiveDate,
    /// Customers with an RFM code (active in the 24 months before `as_of`).
    pub customers_scored: i64,
    /// Customers per RFM code, e.g. {"555": 1203, …}.
    pub rfm_distribution: BTreeMap<String, i64>,
    pub rfm_breaks: Option<QuintileBreaks>,
    /// Customers that got a predicted lifetime value.
    pub clv_customers: i64,
    pub model: Option<ModelSummary>,
    /// Why the models could not be fitted; the previous predictions were kept.
    pub model_error: Option<String>,
    pub rfm_ms: u64,
    pub clv_ms: u64,
    pub duration_ms: u64,
}

/// The fitted models of a run.
#[derive(Debug, Clone, Serialize)]
pub struct ModelSummary {
    pub model_id: i64,
    pub bg_nbd: BgNbdParams,
    pub bg_nbd_log_likelihood: f64,
    /// Customers in the BG/NBD fit (a sample when the base is larger than [`FIT_SAMPLE`]).
    pub bg_nbd_customers: usize,
    pub gamma_gamma: GammaGammaParams,
    pub gamma_gamma_log_likelihood: f64,
    /// Customers with repeat purchases of positive value in the Gamma-Gamma fit.
    pub gamma_gamma_customers: usize,
    pub horizon_weeks: f64,
}

/// A customer's scores as the customer view shows them; all `None` when the customer is not
/// scored (no purchase in 24 months, or no run yet).
#[derive(Debug, Clone, Default, Serialize)]
pub struct CustomerScores {
    pub recency_days: Option<i64>,
    pub frequency: Option<i64>,
    pub monetary: Option<i64>,
    pub r: Option<i64>,
    pub f: Option<i64>,
    pub m: Option<i64>,
    pub rfm: Option<String>,
    pub clv_historic: Option<i64>,
    pub clv_predicted: Option<i64>,
    pub scored_at: Option<DateTime<Utc>>,
    /// Probability that the customer still buys (BG/NBD), as of the latest fit's date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prob_alive: Option<f64>,
}

/// A well-mixed 64-bit hash (SplitMix64's finalizer): orders customers for the fit sample
/// independently of how ids were assigned, and identically in every run.
fn mix(id: i64) -> u64 {
    let mut z = (id as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The models fitted on a base, or why not.
struct Fitted {
    bg: kundo_core::scores::BgNbdFit,
    gg: kundo_core::scores::GammaGammaFit,
    predictions: Vec<(i64, Option<i64>)>,
}

/// Fits both models on (a sample of) `base` and predicts every customer's next
/// [`HORIZON_WEEKS`]. CPU work only; the caller runs it off the async threads.
fn fit_and_predict(
    base: &[PurchaseHistory],
    as_of_day: i64,
) -> std::result::Result<Fitted, String> {
    let mut sample: Vec<&PurchaseHistory> = base.iter().collect();
    if sample.len() > FIT_SAMPLE {
        sample.sort_unstable_by_key(|h| (mix(h.customer_id), h.customer_id));
        sample.truncate(FIT_SAMPLE);
    }
    let rfts: Vec<Rft> = sample.iter().map(|h| h.rft(as_of_day)).collect();
    let bg = fit_bg_nbd(&rfts).map_err(|e| format!("BG/NBD: {e}"))?;
    let spend: Vec<SpendObservation> = sample
        .iter()
        .map(|h| SpendObservation {
            x: u32::try_from(h.days - 1).unwrap_or(0),
            mean_value: h.mean_repeat_value(),
        })
        .collect();
    let gg = fit_gamma_gamma(&spend).map_err(|e| format!("Gamma-Gamma: {e}"))?;
    let predictions = base
        .iter()
        .map(|h| {
            let v = predictive_clv(
                &bg.params,
                &gg.params,
                &h.rft(as_of_day),
                h.mean_repeat_value(),
                HORIZON_WEEKS,
                Discount::None,
            );
            // NaN: the customer is outside the models' domain; store no number rather than
            // a made-up one. Rounded once, here, to minor units.
            let value = v.is_finite().then(|| v.max(0.0).round() as i64);
            (h.customer_id, value)
        })
        .collect();
    Ok(Fitted {
        bg,
        gg,
        predictions,
    })
}

/// The day a scores run is for, as the API and the CLI take it: strictly `YYYY-MM-DD` and not
/// in the future (a run for a day to come would overwrite today's scores with figures of a day
/// that has not happened).
pub fn parse_as_of(date: &str) -> Result<NaiveDate> {
    kundo_core::dates::parse_as_of(date, Utc::now().date_naive())
        .map_err(|m| AppError::invalid("date", m))
}

impl App {
    /// Recomputes every customer's scores as of the end of `as_of` (UTC). `progress(step,
    /// done, total)` reports `rfm`, `fit` and `clv` as they happen.
    pub async fn run_scores(
        &self,
        actor: &Actor,
        as_of: NaiveDate,
        progress: &(dyn Fn(&'static str, u64, u64) + Sync),
    ) -> Result<ScoresRun> {
        let started = Instant::now();
        let window = ScoreWindow::new(as_of);
        let period = as_of.format("%Y-%m-%d").to_string();
        let now = Utc::now();
        let mut tx = self.store.begin_write().await?;
        let run = kundo_store::vouchers::run_for(&mut tx.db(), "scores", &period, now).await?;
        store::restart_run(&mut tx.db(), run.id, now).await?;
        tx.commit().await?;
        // A run that fails ends as `failed` with its error, not `running`.
        let scored = self
            .score(actor, as_of, &window, run.id, started, progress)
            .await;
        match scored {
            Ok(done) => Ok(done),
            Err(e) => Err(self.failed(run.id, e).await),
        }
    }

    /// The work of a scores run (the row `run_id`, started at `started`).
    async fn score(
        &self,
        actor: &Actor,
        as_of: NaiveDate,
        window: &ScoreWindow,
        run_id: i64,
        started: Instant,
        progress: &(dyn Fn(&'static str, u64, u64) + Sync),
    ) -> Result<ScoresRun> {
        let period = as_of.format("%Y-%m-%d").to_string();
        let now = Utc::now();
        // RFM: breakpoints and scores in one transaction, so no reader sees a half-scored base.
        progress("rfm", 0, 1);
        let mut tx = self.store.begin_write().await?;
        let (scored, breaks) = match store::rfm_breaks(&mut tx.db(), window).await? {
            Some((_, breaks)) => (
                store::write_rfm(&mut tx.db(), window, &breaks, now).await?,
                Some(breaks),
            ),
            None => {
                store::clear(&mut tx.db()).await?;
                (0, None)
            }
        };
        tx.commit().await?;
        let rfm_ms = started.elapsed().as_millis() as u64;
        progress("rfm", 1, 1);

        // CLV: histories of the scored customers, the fit, then the predictions.
        let clv_started = Instant::now();
        let mut conn = self.store.acquire().await?;
        let base = store::purchase_histories(&mut conn.db(), window, None).await?;
        drop(conn);
        progress("fit", 0, base.len() as u64);
        let as_of_day = window.as_of_day();
        let base_len = base.len();
        let fitted = tokio::task::spawn_blocking(move || fit_and_predict(&base, as_of_day))
            .await
            .map_err(|e| AppError::Io(format!("the model fit stopped: {e}")))?;
        let mut model_row = ModelRow {
            id: 0,
            run_id: Some(run_id),
            as_of: period.clone(),
            fitted_at: Utc::now(),
            base_customers: base_len as i64,
            customers: 0,
            bg_r: None,
            bg_alpha: None,
            bg_a: None,
            bg_b: None,
            bg_log_likelihood: None,
            gg_customers: None,
            gg_p: None,
            gg_q: None,
            gg_v: None,
            gg_log_likelihood: None,
            horizon_weeks: HORIZON_WEEKS,
            rfm_breaks: breaks.and_then(|b| serde_json::to_string(&b).ok()),
            error: None,
        };
        let mut clv_customers = 0i64;
        let mut fits = None;
        match fitted {
            Ok(f) => {
                progress("clv", 0, f.predictions.len() as u64);
                let mut done = 0u64;
                for chunk in f.predictions.chunks(CLV_BATCH) {
                    let mut tx = self.store.begin_write().await?;
                    store::write_clv(&mut tx.db(), chunk, now).await?;
                    tx.commit().await?;
                    done += chunk.len() as u64;
                    progress("clv", done, f.predictions.len() as u64);
                }
                clv_customers = f.predictions.iter().filter(|(_, v)| v.is_some()).count() as i64;
                let (bg, gg) = (f.bg.params, f.gg.params);
                model_row.customers = f.bg.customers as i64;
                (
                    model_row.bg_r,
                    model_row.bg_alpha,
                    model_row.bg_a,
                    model_row.bg_b,
                ) = (Some(bg.r), Some(bg.alpha), Some(bg.a), Some(bg.b));
                model_row.bg_log_likelihood = Some(f.bg.log_likelihood);
                model_row.gg_customers = Some(f.gg.customers as i64);
                (model_row.gg_p, model_row.gg_q, model_row.gg_v) =
                    (Some(gg.p), Some(gg.q), Some(gg.v));
                model_row.gg_log_likelihood = Some(f.gg.log_likelihood);
                fits = Some((f.bg, f.gg));
            }
            Err(e) => {
                tracing::warn!(error = %e, as_of = %period, "the lifetime-value models could not be fitted; previous predictions are kept");
                model_row.error = Some(e);
            }
        }
        let clv_ms = clv_started.elapsed().as_millis() as u64;

        let finished = Utc::now();
        let mut tx = self.store.begin_write().await?;
        let model_id = store::save_model(&mut tx.db(), &model_row).await?;
        store::finish_run(&mut tx.db(), run_id, scored as i64, finished).await?;
        let rfm_distribution: BTreeMap<String, i64> = store::rfm_distribution(&mut tx.db())
            .await?
            .into_iter()
            .collect();
        let model = fits.map(|(bg, gg)| ModelSummary {
            model_id,
            bg_nbd: bg.params,
            bg_nbd_log_likelihood: bg.log_likelihood,
            bg_nbd_customers: bg.customers,
            gamma_gamma: gg.params,
            gamma_gamma_log_likelihood: gg.log_likelihood,
            gamma_gamma_customers: gg.customers,
            horizon_weeks: HORIZON_WEEKS,
        });
        let summary = json!({
            "run_id": run_id, "kind": "scores", "period": period, "customers_scored": scored,
            "clv_customers": clv_customers, "model_id": model_id, "model_error": model_row.error,
        });
        kundo_store::audit::record(&mut tx.db(), &actor.name, "scores.run", None, &summary, now)
            .await?;
        kundo_store::audit::emit(&mut tx.db(), "run.finished", None, &summary, finished).await?;
        tx.commit().await?;
        Ok(ScoresRun {
            run_id,
            as_of,
            customers_scored: scored as i64,
            rfm_distribution,
            rfm_breaks: breaks,
            clv_customers,
            model,
            model_error: model_row.error,
            rfm_ms,
            clv_ms,
            duration_ms: started.elapsed().as_millis() as u64,
        })
    }

    /// Brings the rolling twelve-month purchase figures to the months of `today` (a no-op when
    /// they are current). Answers whether they were recomputed.
    pub async fn roll_figures(&self, today: NaiveDate) -> Result<bool> {
        let mut tx = self.store.begin_write().await?;
        let rolled = kundo_store::rolling::roll(&mut tx.db(), today).await?;
        tx.commit().await?;
        Ok(rolled)
    }

    /// The finished scores run of `as_of`, if there is one (the scheduler runs each date once).
    pub async fn scores_run_done(&self, as_of: NaiveDate) -> Result<bool> {
        let mut conn = self.store.acquire().await?;
        let period = as_of.format("%Y-%m-%d").to_string();
        Ok(store::run_state(&mut conn.db(), &period).await?.as_deref() == Some("done"))
    }

    /// One customer's scores, with P(alive) from the latest model fit.
    pub async fn customer_scores(&self, customer_number: &str) -> Result<CustomerScores> {
        let mut tx = self.store.begin_read().await?;
        let id = kundo_store::customers::resolve_number(&mut tx.db(), customer_number.trim())
            .await?
            .ok_or(AppError::NotFound("customer"))?;
        let Some(row) = store::of_customer(&mut tx.db(), id).await? else {
            tx.commit().await?;
            return Ok(CustomerScores::default());
        };
        let mut prob = None;
        if let Some(model) = store::latest_model(&mut tx.db()).await?
            && let (Some(r), Some(alpha), Some(a), Some(b)) =
                (model.bg_r, model.bg_alpha, model.bg_a, model.bg_b)
            && let Ok(as_of) = NaiveDate::parse_from_str(&model.as_of, "%Y-%m-%d")
        {
            let window = ScoreWindow::new(as_of);
            if let Some(h) = store::purchase_histories(&mut tx.db(), &window, Some(id))
                .await?
                .first()
            {
                let p = prob_alive(&BgNbdParams { r, alpha, a, b }, &h.rft(window.as_of_day()));
                prob = p.is_finite().then_some(p);
            }
        }
        tx.commit().await?;
        Ok(CustomerScores {
            recency_days: row.recency_days,
            frequency: row.frequency,
            monetary: row.monetary,
            r: row.r,
            f: row.f,
            m: row.m,
            rfm: row.rfm,
            clv_historic: row.clv_historic,
            clv_predicted: row.clv_predicted,
            scored_at: Some(row.scored_at),
            prob_alive: prob,
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_fit_sample_does_not_follow_id_order() {
        let mut ids: Vec<i64> = (1..=1000).collect();
        ids.sort_by_key(|i| super::mix(*i));
        let first_half_low = ids[..500].iter().filter(|i| **i <= 500).count();
        assert!((200..300).contains(&first_half_low), "{first_half_low}");
    }
}
