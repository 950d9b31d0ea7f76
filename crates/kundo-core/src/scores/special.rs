//! Special functions the models need: the log-gamma function and the Gauss hypergeometric
//! function 2F1. Written here because Rust's standard library has neither and one small,
//! tested implementation is cheaper than a dependency.

use std::f64::consts::PI;

/// Godfrey's Lanczos coefficients for g = 7, n = 9: about 15 significant digits for
/// arguments >= 0.5, which is all the likelihoods can use.
const LANCZOS_G: f64 = 7.0;
const LANCZOS: [f64; 9] = [
    0.999_999_999_999_809_9,
    676.520_368_121_885_1,
    -1_259.139_216_722_402_8,
    771.323_428_777_653_1,
    -176.615_029_162_140_6,
    12.507_343_278_686_905,
    -0.138_571_095_265_720_12,
    9.984_369_578_019_572e-6,
    1.505_632_735_149_311_6e-7,
];

/// ln Γ(x). The likelihoods only ever need Γ of positive arguments, and only as ratios, so the
/// logarithm avoids the overflow Γ itself hits beyond x ≈ 171. Negative non-integers use the
/// reflection formula Γ(x)Γ(1−x) = π / sin(πx) and give ln|Γ(x)|; the poles (0, −1, …) give +∞.
pub(crate) fn ln_gamma(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x == f64::INFINITY {
        return f64::INFINITY;
    }
    if x <= 0.0 && x == x.floor() {
        return f64::INFINITY;
    }
    if x < 0.5 {
        return (PI / (PI * x).sin().abs()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + LANCZOS_G + 0.5;
    let mut sum = LANCZOS[0];
    for (i, c) in LANCZOS.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    0.5 * (2.0 * PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// Hard cap on series terms: at |z| = 0.999 the series needs a few tens of thousands of terms
/// for full precision; beyond the cap we report failure instead of spinning.
const MAX_SERIES_TERMS: usize = 200_000;

/// Relative precision the series is summed to.
const SERIES_EPS: f64 = 1e-15;

/// Gauss's hypergeometric series Σ (a)ₙ(b)ₙ / ((c)ₙ n!) zⁿ for |z| < 1, summed until the
/// remaining tail is provably below the working precision. `None` when the series does not
/// converge (|z| >= 1, c a non-positive integer) or does not settle within the term budget,
/// so callers never mistake a truncated sum for a value.
fn series(a: f64, b: f64, c: f64, z: f64) -> Option<f64> {
    if !(a.is_finite() && b.is_finite() && c.is_finite() && z.is_finite()) || z.abs() >= 1.0 {
        return None;
    }
    if c <= 0.0 && c == c.floor() {
        return None;
    }
    let mut term = 1.0_f64;
    let mut sum = 1.0_f64;
    // Past this index every factor (a+n), (b+n), (c+n) has its final sign and the term ratio
    // moves monotonically towards z, so the geometric tail bound below is valid.
    let settled = a.abs().max(b.abs()).max(c.abs()) + 2.0;
    for n in 0..MAX_SERIES_TERMS {
        let nf = n as f64;
        let ratio = (a + nf) * (b + nf) / ((c + nf) * (nf + 1.0)) * z;
        term *= ratio;
        sum += term;
        if term == 0.0 {
            // a or b is a non-positive integer: the series is a polynomial and has ended.
            return Some(sum);
        }
        if !sum.is_finite() {
            return None;
        }
        if nf > settled {
            let q = ratio.abs().max(z.abs());
            if q < 1.0 {
                let tail = term.abs() * q / (1.0 - q);
                if tail <= SERIES_EPS * sum.abs() {
                    return Some(sum);
                }
            }
        }
    }
    None
}

/// ln 2F1(a, b; c; z) for 0 <= z < 1 where the function is positive (as it is for the model's
/// arguments). When c − a − b < 0 the direct series has growing terms before it decays, and for
/// large purchase counts it overflows; Euler's transformation
/// 2F1(a, b; c; z) = (1 − z)^(c−a−b) · 2F1(c − a, c − b; c; z)
/// gives a series with shrinking terms instead, and working in logarithms keeps the large
/// prefactor from overflowing. `None` when the value is not a finite positive number.
pub(crate) fn ln_hyp2f1(a: f64, b: f64, c: f64, z: f64) -> Option<f64> {
    if !(0.0..1.0).contains(&z) {
        return None;
    }
    let excess = c - a - b;
    let (prefactor, value) = if excess < 0.0 {
        (excess * (1.0 - z).ln(), series(c - a, c - b, c, z)?)
    } else {
        (0.0, series(a, b, c, z)?)
    };
    if value > 0.0 && value.is_finite() {
        Some(prefactor + value.ln())
    } else {
        None
    }
}

/// 2F1(a, b; c; z) by the plain series, for |z| < 1. Kept for tests of the series itself and
/// for callers whose arguments do not make the function positive.
#[cfg(test)]
pub(crate) fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> Option<f64> {
    series(a, b, c, z)
}
