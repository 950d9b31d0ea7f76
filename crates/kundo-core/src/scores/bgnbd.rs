//! The BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005, "Counting Your Customers
//! the Easy Way: An Alternative to the Pareto/NBD Model", Marketing Science 24(2), 275–284).
//!
//! Why this model: a retail chain never learns that a customer has left, it only stops seeing
//! receipts. BG/NBD explains a purchase history (x, t_x, T) by a Poisson purchase rate λ
//! (gamma-distributed across customers with shape r and scale α) and a chance p of dropping out
//! after each purchase (beta-distributed with a, b). It needs only the three sufficient
//! statistics per customer, fits in well under a second on thousands of customers, and predicts
//! the number of future purchases as well as the costlier Pareto/NBD model.

use serde::{Deserialize, Serialize};

use super::optimize::{self, Settings};
use super::special::{ln_gamma, ln_hyp2f1};
use super::{FitError, Rft};

/// The four population parameters. `r`/`alpha` describe how often people buy (mean rate
/// r/alpha per period), `a`/`b` how quickly they drop out (mean dropout chance a/(a+b) per
/// purchase).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BgNbdParams {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
}

impl BgNbdParams {
    /// The model is only defined for strictly positive, finite parameters.
    fn is_valid(&self) -> bool {
        [self.r, self.alpha, self.a, self.b]
            .iter()
            .all(|v| v.is_finite() && *v > 0.0)
    }
}

/// Result of a maximum-likelihood fit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BgNbdFit {
    pub params: BgNbdParams,
    /// Maximised log-likelihood, summed over customers (comparable with the paper's −9582.4).
    pub log_likelihood: f64,
    /// Customers the fit was computed from.
    pub customers: usize,
    /// Likelihood evaluations the optimizer used; a cost figure for logs.
    pub evaluations: usize,
}

/// Identical histories share one likelihood term: summary data are rounded (CDNOW's 2,357
/// customers have far fewer distinct histories), so counting them once with a weight saves
/// most of the work, and the sum no longer depends on the order of the caller's rows.
struct Pattern {
    x: f64,
    /// Index into the table of per-x log-gamma terms.
    x_slot: usize,
    t_x: f64,
    t_cal: f64,
    weight: f64,
}

/// The data arranged for fast likelihood evaluation.
struct Compressed {
    patterns: Vec<Pattern>,
    /// Distinct purchase counts; the log-gamma terms depend on x only, so they are computed
    /// once per distinct x per evaluation instead of once per customer.
    xs: Vec<u32>,
}

fn compress(data: &[Rft]) -> Compressed {
    let mut sorted: Vec<Rft> = data.to_vec();
    sorted.sort_by(|p, q| {
        p.x.cmp(&q.x)
            .then(p.t_x.total_cmp(&q.t_x))
            .then(p.t_cal.total_cmp(&q.t_cal))
    });
    let mut xs: Vec<u32> = Vec::new();
    let mut patterns: Vec<Pattern> = Vec::new();
    for rft in sorted {
        if let Some(last) = patterns.last_mut()
            && last.x == f64::from(rft.x)
            && last.t_x == rft.t_x
            && last.t_cal == rft.t_cal
        {
            last.weight += 1.0;
            continue;
        }
        if xs.last() != Some(&rft.x) {
            xs.push(rft.x);
        }
        patterns.push(Pattern {
            x: f64::from(rft.x),
            x_slot: xs.len() - 1,
            t_x: rft.t_x,
            t_cal: rft.t_cal,
            weight: 1.0,
        });
    }
    Compressed { patterns, xs }
}

/// ln(eᵘ + eᵛ) without overflow or loss of the smaller term.
fn ln_add_exp(u: f64, v: f64) -> f64 {
    let (hi, lo) = if u >= v { (u, v) } else { (v, u) };
    if hi == f64::NEG_INFINITY {
        return hi;
    }
    hi + (lo - hi).exp().ln_1p()
}

/// Sum of the individual log-likelihoods, eq. (6)–(7) of the paper in the log form of
/// Fader, Hardie & Lee's note "Implementing the BG/NBD Model for Customer Base Analysis in
/// Excel": ln L = A₁ + A₂ + ln(A₃ + δ_{x>0} A₄) with
/// A₁ = ln Γ(r+x) − ln Γ(r) + r ln α,
/// A₂ = ln Γ(a+b) + ln Γ(b+x) − ln Γ(b) − ln Γ(a+b+x),
/// A₃ = −(r+x) ln(α+T),
/// A₄ = ln a − ln(b+x−1) − (r+x) ln(α+t_x).
/// The A₄ branch exists only for x > 0 (a customer who never came back cannot have dropped out
/// right after a repeat purchase); evaluating it at x = 0 would take ln(b−1), which is NaN for
/// b < 1, so it is skipped rather than masked.
fn log_likelihood(params: &BgNbdParams, data: &Compressed, ln_gammas: &mut Vec<[f64; 3]>) -> f64 {
    let BgNbdParams { r, alpha, a, b } = *params;
    if !params.is_valid() {
        return f64::NAN;
    }
    ln_gammas.clear();
    ln_gammas.extend(data.xs.iter().map(|&x| {
        let x = f64::from(x);
        [ln_gamma(r + x), ln_gamma(b + x), ln_gamma(a + b + x)]
    }));
    let common = -ln_gamma(r) + r * alpha.ln() + ln_gamma(a + b) - ln_gamma(b);
    let ln_a = a.ln();
    let mut total = 0.0;
    for p in &data.patterns {
        let [lg_rx, lg_bx, lg_abx] = ln_gammas[p.x_slot];
        let a1_a2 = common + lg_rx + lg_bx - lg_abx;
        let a3 = -(r + p.x) * (alpha + p.t_cal).ln();
        let tail = if p.x > 0.0 {
            let a4 = ln_a - (b + p.x - 1.0).ln() - (r + p.x) * (alpha + p.t_x).ln();
            ln_add_exp(a3, a4)
        } else {
            a3
        };
        total += p.weight * (a1_a2 + tail);
    }
    total
}

fn validate(data: &[Rft]) -> Result<(), FitError> {
    if data.is_empty() {
        return Err(FitError::NoData);
    }
    match data
        .iter()
        .enumerate()
        .find_map(|(i, d)| d.problem().map(|reason| (i, reason)))
    {
        Some((index, reason)) => Err(FitError::InvalidInput { index, reason }),
        None => Ok(()),
    }
}

/// The model's log-likelihood of `data` at `params` (eq. (7): the sum over customers of the
/// log of eq. (6)). Lets callers compare fits or check a stored parameter set against new data.
/// NaN when the parameters or any history are outside the model's domain.
pub fn bg_nbd_log_likelihood(params: &BgNbdParams, data: &[Rft]) -> f64 {
    if validate(data).is_err() {
        return f64::NAN;
    }
    log_likelihood(params, &compress(data), &mut Vec::new())
}

/// Maximum-likelihood estimate of r, α, a, b.
///
/// The search runs over the logarithms of the parameters, so every point it tries is a valid
/// (positive) parameter set and parameters of very different size (α ≈ 4, r ≈ 0.2 on CDNOW)
/// look alike to the optimizer. It starts from r = α = a = b = 1. Deterministic: the same
/// data, in any order, give bit-identical estimates.
pub fn fit_bg_nbd(data: &[Rft]) -> Result<BgNbdFit, FitError> {
    validate(data)?;
    let compressed = compress(data);
    let mut scratch = Vec::with_capacity(compressed.xs.len());
    let objective = |log_params: &[f64]| -> f64 {
        let params = BgNbdParams {
            r: log_params[0].exp(),
            alpha: log_params[1].exp(),
            a: log_params[2].exp(),
            b: log_params[3].exp(),
        };
        -log_likelihood(&params, &compressed, &mut scratch)
    };
    let minimum = optimize::minimize(objective, &[0.0; 4], &Settings::default())?;
    let p = &minimum.point;
    Ok(BgNbdFit {
        params: BgNbdParams {
            r: p[0].exp(),
            alpha: p[1].exp(),
            a: p[2].exp(),
            b: p[3].exp(),
        },
        log_likelihood: -minimum.value,
        customers: data.len(),
        evaluations: minimum.evaluations,
    })
}

/// Expected number of purchases in the next `horizon` periods by a customer with history
/// `customer`: eq. (10) of the paper,
/// E[Y(t) | x, t_x, T] = (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) ·
///   ₂F₁(r+x, b+x; a+b+x−1; t/(α+T+t))] / (1 + δ_{x>0} · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)).
///
/// This is what turns a purchase history into a forecast: frequent recent buyers are expected
/// to keep buying, frequent buyers who went quiet are probably gone. NaN when the parameters
/// or the history are outside the model's domain, when `horizon` is negative or not finite,
/// or in the measure-zero case a = 1 where the formula is 0/0.
pub fn expected_purchases(params: &BgNbdParams, horizon: f64, customer: &Rft) -> f64 {
    if !params.is_valid() || customer.problem().is_some() || !horizon.is_finite() || horizon < 0.0 {
        return f64::NAN;
    }
    if horizon == 0.0 {
        return 0.0;
    }
    let BgNbdParams { r, alpha, a, b } = *params;
    let x = f64::from(customer.x);
    let t_cal = customer.t_cal;
    let z = horizon / (alpha + t_cal + horizon);
    let Some(ln_f) = ln_hyp2f1(r + x, b + x, a + b + x - 1.0, z) else {
        return f64::NAN;
    };
    // 1 − e^s with s = ln 2F1 + (r+x)·ln(1−z); expm1 keeps the digits when s is near 0,
    // i.e. for short horizons.
    let bracket = -(ln_f + (r + x) * (1.0 - z).ln()).exp_m1();
    let lead = (a + b + x - 1.0) / (a - 1.0);
    let denominator = if customer.x > 0 {
        1.0 + (a / (b + x - 1.0))
            * ((r + x) * ((alpha + t_cal) / (alpha + customer.t_x)).ln()).exp()
    } else {
        1.0
    };
    lead * bracket / denominator
}

/// Probability that the customer has not yet dropped out at the end of the observation
/// (Fader, Hardie & Lee, note "Computing P(alive) Using the BG/NBD Model"):
/// P = 1 / (1 + δ_{x>0} · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)).
/// A customer without repeat purchases cannot have dropped out yet under BG/NBD (dropout
/// happens only right after a purchase), hence 1. Computed as a logistic of the log-odds so a
/// long silence after many purchases gives 0 instead of overflowing. NaN when the parameters or
/// the history are outside the model's domain.
pub fn prob_alive(params: &BgNbdParams, customer: &Rft) -> f64 {
    if !params.is_valid() || customer.problem().is_some() {
        return f64::NAN;
    }
    if customer.x == 0 {
        return 1.0;
    }
    let BgNbdParams { r, alpha, a, b } = *params;
    let x = f64::from(customer.x);
    let log_odds_dead = (a / (b + x - 1.0)).ln()
        + (r + x) * ((alpha + customer.t_cal) / (alpha + customer.t_x)).ln();
    1.0 / (1.0 + log_odds_dead.exp())
}
