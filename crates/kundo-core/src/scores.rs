//! Customer scores (DOMAIN §7): RFM codes, and the predictive lifetime value built from the
//! BG/NBD purchase-count model and the Gamma-Gamma spend model.
//!
//! Everything here is pure computation over numbers the caller hands in, so the background job
//! that recomputes the scores decides where data comes from and the store can reproduce the RFM
//! rule in SQL. The statistical models are fitted with our own numerics (log-gamma, Gauss
//! hypergeometric series, Nelder-Mead) rather than a dependency: they are small, and owning
//! them keeps every fit deterministic, which matters when two runs of the job must agree.
//!
//! Time in the models is measured in abstract *periods* (weeks in the literature and in the
//! tests); the caller picks the unit once in [`summarize`] and must use the same
//! unit for every horizon it asks about.

mod bgnbd;
mod clv;
mod gamma_gamma;
mod optimize;
mod purchase_log;
mod rfm;
mod special;

#[cfg(test)]
mod tests;

pub use bgnbd::{
    BgNbdFit, BgNbdParams, bg_nbd_log_likelihood, expected_purchases, fit_bg_nbd, prob_alive,
};
pub use clv::{Discount, predictive_clv};
pub use gamma_gamma::{
    GammaGammaFit, GammaGammaParams, SpendObservation, expected_average_value, fit_gamma_gamma,
    gamma_gamma_log_likelihood,
};
pub use purchase_log::{
    CustomerSummary, LineError, PurchaseLogError, PurchaseLogRow, parse_purchase_log,
    parse_purchase_log_line, summarize,
};
pub use rfm::{QuintileBreaks, RfmInput, RfmScore, quintile_breaks, rfm_scores, score_with};

/// One customer's purchase history as the BG/NBD model sees it: the sufficient statistics
/// (frequency, recency, age). Keeping only these three numbers is what makes the model cheap
/// enough to refit on the whole customer base.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Rft {
    /// Repeat purchases: purchase *days* after the first one (the paper's `x`).
    pub x: u32,
    /// Time of the last purchase, in periods since the first purchase (`t_x`; 0 when `x = 0`).
    pub t_x: f64,
    /// Length of the observation, in periods from the first purchase to the end of the
    /// calibration window (the paper's `T`).
    pub t_cal: f64,
}

impl Rft {
    /// Why a history cannot come from the model, if it cannot: the likelihood is only defined
    /// for `0 <= t_x <= T`. T = 0 (first purchase on the last day of the window) is allowed: its
    /// likelihood is 1, so it neither helps nor disturbs a fit, and the caller need not filter.
    pub fn problem(&self) -> Option<&'static str> {
        if !self.t_x.is_finite() || !self.t_cal.is_finite() {
            Some("t_x and T must be finite")
        } else if self.t_x < 0.0 || self.t_x > self.t_cal {
            Some("t_x must lie between 0 and T")
        } else if self.x == 0 && self.t_x != 0.0 {
            Some("t_x must be 0 when there is no repeat purchase")
        } else {
            None
        }
    }
}

/// Why a model could not be fitted. The background job logs it and keeps the previous scores
/// rather than writing nonsense.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    /// No usable observation: there is nothing to estimate from.
    #[error("no observations to fit the model on")]
    NoData,
    /// Observation `index` (position in the caller's slice) is impossible under the model.
    #[error("observation {index}: {reason}")]
    InvalidInput { index: usize, reason: &'static str },
    /// The optimizer used up its budget without settling; the data probably do not identify
    /// the parameters (e.g. almost nobody bought twice).
    #[error("the likelihood did not converge after {evaluations} evaluations")]
    NotConverged { evaluations: usize },
}
