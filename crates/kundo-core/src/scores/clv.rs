//! Predictive customer lifetime value: expected purchases (BG/NBD) times expected spend per
//! purchase (Gamma-Gamma) over a horizon.
//!
//! The product is legitimate only because Gamma-Gamma assumes spend independent of purchase
//! frequency (Fader, Hardie & Lee 2005, "RFM and CLV"); with that assumption the expected
//! revenue is the product of the two expectations. Kundo uses a finite horizon (e.g. 52 weeks)
//! rather than the "lifetime" of the literature, because marketing plans in years and a finite
//! horizon needs no assumption about the far future.

use super::Rft;
use super::bgnbd::{BgNbdParams, expected_purchases};
use super::gamma_gamma::{GammaGammaParams, expected_average_value};

/// Whether and how later revenue counts for less.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Discount {
    /// Revenue counts the same whenever it happens within the horizon.
    None,
    /// The horizon is cut into steps of `step` periods (e.g. 52/12 weeks for months); the
    /// purchases expected within step k (k = 1, 2, …) are divided by (1 + `rate`)^k. This is
    /// the monthly scheme of `lifetimes`' `customer_lifetime_value`, which marketing teams
    /// already know. A last partial step is discounted like a full one.
    PerStep { step: f64, rate: f64 },
}

/// Expected revenue from `customer` over the next `horizon` periods, in the unit of
/// `mean_value` (minor units in Kundo; the caller rounds once). `mean_value` is the average of
/// the customer's repeat purchases and is ignored when `customer.x = 0`.
///
/// With [`Discount::None`] this is `expected_purchases(bg, horizon, customer) ×
/// expected_average_value(gg, x, mean_value)`. With [`Discount::PerStep`] the expected
/// purchases of each step are E[Y(k·step)] − E[Y((k−1)·step)], so the undiscounted sum is the
/// same number. NaN when any input is outside the models' domain (including a step that is not
/// positive or a rate <= −1), so a caller can skip the customer instead of storing nonsense.
pub fn predictive_clv(
    bg: &BgNbdParams,
    gg: &GammaGammaParams,
    customer: &Rft,
    mean_value: f64,
    horizon: f64,
    discount: Discount,
) -> f64 {
    let value = expected_average_value(gg, customer.x, mean_value);
    match discount {
        Discount::None => expected_purchases(bg, horizon, customer) * value,
        Discount::PerStep { step, rate } => {
            if !(step.is_finite() && step > 0.0 && rate.is_finite() && rate > -1.0) {
                return f64::NAN;
            }
            if !(horizon.is_finite() && horizon >= 0.0) {
                return f64::NAN;
            }
            // Bounded so that an absurdly small step cannot turn one customer into millions of
            // hypergeometric series.
            let steps = (horizon / step).ceil();
            if steps > 10_000.0 {
                return f64::NAN;
            }
            let mut total = 0.0;
            let mut previous = 0.0;
            let mut factor = 1.0;
            for k in 1..=(steps as u32) {
                let until = (f64::from(k) * step).min(horizon);
                let cumulative = expected_purchases(bg, until, customer);
                factor /= 1.0 + rate;
                total += (cumulative - previous) * factor;
                previous = cumulative;
            }
            total * value
        }
    }
}
