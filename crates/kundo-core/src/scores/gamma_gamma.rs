//! The Gamma-Gamma model of spend per purchase (Fader, Hardie & Lee 2005, "RFM and CLV: Using
//! Iso-Value Curves for Customer Base Analysis", JMR 42(4), 415–430; derivations in Fader &
//! Hardie 2013, "The Gamma-Gamma Model of Monetary Value"), as implemented in `lifetimes`.
//!
//! Why: a customer's observed average basket is a noisy estimate of what they will spend,
//! especially after one or two repeat purchases. The model treats each purchase value as
//! gamma(p, ν) around the customer's own mean and ν as gamma(q, v) across customers, which
//! yields a shrinkage estimate: few purchases pull the forecast towards the population mean,
//! many purchases let the customer's own average dominate. It assumes spend is independent of
//! purchase frequency, which is what lets it be combined with BG/NBD by a plain product.
//!
//! Money enters as `f64` in whatever unit the caller picks (minor units in Kundo); the model is
//! scale-equivariant (v scales with the unit, p and q do not), so forecasts come out in the same
//! unit and the caller rounds once at the end.

use serde::{Deserialize, Serialize};

use super::FitError;
use super::optimize::{self, Settings};
use super::special::ln_gamma;

/// Population parameters: `p` is the shape of the per-purchase spend distribution, `q` and `v`
/// shape and scale of its rate across customers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GammaGammaParams {
    pub p: f64,
    pub q: f64,
    pub v: f64,
}

impl GammaGammaParams {
    fn is_valid(&self) -> bool {
        [self.p, self.q, self.v]
            .iter()
            .all(|v| v.is_finite() && *v > 0.0)
    }

    /// Mean spend per purchase across the population, p·v/(q−1): what the model expects from a
    /// customer it knows nothing about. Infinite mean for q <= 1, reported as NaN.
    pub fn population_mean(&self) -> f64 {
        if !self.is_valid() || self.q <= 1.0 {
            return f64::NAN;
        }
        self.p * self.v / (self.q - 1.0)
    }
}

/// One customer's spend history: `x` repeat purchases with average value `mean_value`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SpendObservation {
    pub x: u32,
    pub mean_value: f64,
}

/// Result of a maximum-likelihood fit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GammaGammaFit {
    pub params: GammaGammaParams,
    /// Maximised log-likelihood over the customers used.
    pub log_likelihood: f64,
    /// Customers the fit used (those with `x > 0` and a positive mean).
    pub customers: usize,
    /// Customers with `x > 0` left out because their mean is zero or negative (free goods,
    /// returns netted into purchases): the gamma density has no mass there. Reported so the
    /// job can log it; CDNOW's full log has one such customer.
    pub skipped_non_positive: usize,
    /// Likelihood evaluations the optimizer used.
    pub evaluations: usize,
}

/// A customer's data prepared for the likelihood: only x-dependent terms go through log-gamma,
/// so rows are grouped by x and those terms computed once per distinct x.
struct Row {
    x_slot: usize,
    ln_mean: f64,
    x_mean: f64,
}

struct Prepared {
    rows: Vec<Row>,
    skipped_non_positive: usize,
    /// Distinct x values with ln x.
    xs: Vec<(f64, f64)>,
}

/// Keeps the customers with repeat purchases and a positive mean (the others carry no spend
/// information the model can use, see [`GammaGammaFit::skipped_non_positive`]). A mean that is
/// not a finite number is a bug upstream, not a fact about a customer, hence an error.
fn prepare(data: &[SpendObservation]) -> Result<Prepared, FitError> {
    let mut usable: Vec<(u32, f64)> = Vec::new();
    let mut skipped_non_positive = 0;
    for (index, o) in data.iter().enumerate() {
        if !o.mean_value.is_finite() {
            return Err(FitError::InvalidInput {
                index,
                reason: "the mean value of repeat purchases must be a finite number",
            });
        }
        if o.x == 0 {
            continue;
        }
        if o.mean_value <= 0.0 {
            skipped_non_positive += 1;
            continue;
        }
        usable.push((o.x, o.mean_value));
    }
    if usable.is_empty() {
        return Err(FitError::NoData);
    }
    usable.sort_by(|l, r| l.0.cmp(&r.0).then(l.1.total_cmp(&r.1)));
    let mut xs: Vec<(f64, f64)> = Vec::new();
    let mut rows = Vec::with_capacity(usable.len());
    for (x, mean) in usable {
        let x = f64::from(x);
        if xs.last().map(|&(last, _)| last) != Some(x) {
            xs.push((x, x.ln()));
        }
        rows.push(Row {
            x_slot: xs.len() - 1,
            ln_mean: mean.ln(),
            x_mean: x * mean,
        });
    }
    Ok(Prepared {
        rows,
        skipped_non_positive,
        xs,
    })
}

/// Sum over customers of the log marginal density of the observed mean m given x purchases:
/// ln f = ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln v + (px−1) ln m + px ln x − (px+q) ln(v + x m),
/// which is gamma(px, νx) for the mean integrated over ν ~ gamma(q, v).
fn log_likelihood(params: &GammaGammaParams, data: &Prepared, per_x: &mut Vec<[f64; 2]>) -> f64 {
    if !params.is_valid() {
        return f64::NAN;
    }
    let GammaGammaParams { p, q, v } = *params;
    per_x.clear();
    per_x.extend(
        data.xs
            .iter()
            .map(|&(x, ln_x)| [ln_gamma(p * x + q) - ln_gamma(p * x) + p * x * ln_x, p * x]),
    );
    let common = -ln_gamma(q) + q * v.ln();
    let mut total = 0.0;
    for row in &data.rows {
        let [x_terms, px] = per_x[row.x_slot];
        total += common + x_terms + (px - 1.0) * row.ln_mean - (px + q) * (v + row.x_mean).ln();
    }
    total
}

/// The model's log-likelihood of `data` at `params`, over the customers [`fit_gamma_gamma`]
/// uses. NaN when the parameters are invalid or no customer is usable.
pub fn gamma_gamma_log_likelihood(params: &GammaGammaParams, data: &[SpendObservation]) -> f64 {
    match prepare(data) {
        Ok(prepared) => log_likelihood(params, &prepared, &mut Vec::new()),
        Err(_) => f64::NAN,
    }
}

/// Maximum-likelihood estimate of p, q, v from the customers with `x > 0` and a positive mean
/// (the others are skipped and the non-positive ones counted, so one free repeat purchase does
/// not stop the nightly job).
///
/// Searches over log-parameters from p = 1, q = 2, v = the average observed mean, i.e. from a
/// population mean equal to the observed one, so the start is in the right scale whatever
/// currency unit the caller uses.
pub fn fit_gamma_gamma(data: &[SpendObservation]) -> Result<GammaGammaFit, FitError> {
    let prepared = prepare(data)?;
    let customers = prepared.rows.len();
    let average_mean = prepared
        .rows
        .iter()
        .map(|row| row.ln_mean.exp())
        .sum::<f64>()
        / customers as f64;
    let start = [0.0, 2.0_f64.ln(), average_mean.ln()];
    let mut scratch = Vec::with_capacity(prepared.xs.len());
    let objective = |log_params: &[f64]| -> f64 {
        let params = GammaGammaParams {
            p: log_params[0].exp(),
            q: log_params[1].exp(),
            v: log_params[2].exp(),
        };
        -log_likelihood(&params, &prepared, &mut scratch)
    };
    let minimum = optimize::minimize(objective, &start, &Settings::default())?;
    let m = &minimum.point;
    Ok(GammaGammaFit {
        params: GammaGammaParams {
            p: m[0].exp(),
            q: m[1].exp(),
            v: m[2].exp(),
        },
        log_likelihood: -minimum.value,
        customers,
        skipped_non_positive: prepared.skipped_non_positive,
        evaluations: minimum.evaluations,
    })
}

/// Expected spend per future purchase of a customer with `x` repeat purchases averaging
/// `mean_value`: eq. (4) of Fader, Hardie & Lee (2005, "RFM and CLV"),
/// E[M | p, q, v, m_x, x] = p (v + x m_x) / (p x + q − 1),
/// a weighted average of the population mean p v/(q−1) and the customer's own mean with
/// weight p x/(p x + q − 1) on the latter. For `x = 0` the mean is ignored and the population
/// mean returned. NaN when parameters are invalid, `mean_value` is negative or not finite (for
/// x > 0), or p x + q <= 1 (the posterior mean does not exist).
pub fn expected_average_value(params: &GammaGammaParams, x: u32, mean_value: f64) -> f64 {
    if !params.is_valid() {
        return f64::NAN;
    }
    let GammaGammaParams { p, q, v } = *params;
    let x = f64::from(x);
    let mean = if x == 0.0 { 0.0 } else { mean_value };
    if !mean.is_finite() || mean < 0.0 {
        return f64::NAN;
    }
    let denominator = p * x + q - 1.0;
    if denominator <= 0.0 {
        return f64::NAN;
    }
    p * (v + x * mean) / denominator
}
