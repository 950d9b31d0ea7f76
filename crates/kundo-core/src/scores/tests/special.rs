use std::f64::consts::PI;

use crate::scores::special::{hyp2f1, ln_gamma, ln_hyp2f1};

fn close(actual: f64, expected: f64, relative: f64) -> bool {
    (actual - expected).abs() <= relative * expected.abs().max(1.0)
}

#[test]
fn ln_gamma_matches_known_values() {
    let cases = [
        (1.0, 0.0),
        (2.0, 0.0),
        (0.5, PI.sqrt().ln()),
        (10.0, 362_880.0_f64.ln()),
        (100.0, 359.134_205_369_575_4),
        (0.1, 2.252_712_651_734_206),
        (1e-8, 18.420_680_738_180_21),
        (-0.5, (2.0 * PI.sqrt()).ln()),
    ];
    for (x, expected) in cases {
        assert!(
            close(ln_gamma(x), expected, 1e-13),
            "ln_gamma({x}) = {}, expected {expected}",
            ln_gamma(x)
        );
    }
}

#[test]
fn ln_gamma_satisfies_the_recurrence() {
    // Γ(x+1) = x Γ(x) across the range the likelihoods use.
    for i in 1..400 {
        let x = f64::from(i) * 0.37;
        let lhs = ln_gamma(x + 1.0);
        let rhs = ln_gamma(x) + x.ln();
        assert!(close(lhs, rhs, 1e-13), "x = {x}: {lhs} vs {rhs}");
    }
}

#[test]
fn ln_gamma_is_total() {
    assert!(ln_gamma(f64::NAN).is_nan());
    assert_eq!(ln_gamma(0.0), f64::INFINITY);
    assert_eq!(ln_gamma(-3.0), f64::INFINITY);
    assert_eq!(ln_gamma(f64::INFINITY), f64::INFINITY);
}

#[test]
fn hyp2f1_matches_closed_forms() {
    for z in [-0.9_f64, -0.3, 0.0, 0.1, 0.5, 0.9, 0.99] {
        // 2F1(1, 1; 2; z) = −ln(1 − z) / z
        let expected = if z == 0.0 { 1.0 } else { -(1.0 - z).ln() / z };
        let got = hyp2f1(1.0, 1.0, 2.0, z).expect("converges");
        assert!(close(got, expected, 1e-13), "z = {z}: {got} vs {expected}");
        // 2F1(a, b; b; z) = (1 − z)^(−a)
        let got = hyp2f1(2.5, 1.7, 1.7, z).expect("converges");
        let expected = (1.0 - z).powf(-2.5);
        assert!(close(got, expected, 1e-12), "z = {z}: {got} vs {expected}");
    }
    // 2F1(1/2, 1/2; 3/2; s²) = arcsin(s) / s
    for s in [0.2_f64, 0.7, 0.95] {
        let got = hyp2f1(0.5, 0.5, 1.5, s * s).expect("converges");
        assert!(close(got, s.asin() / s, 1e-13), "s = {s}");
    }
    // A non-positive integer parameter ends the series: a polynomial.
    let (b, c, z) = (1.3, 2.2, 0.8);
    let polynomial = 1.0 - 2.0 * b * z / c + b * (b + 1.0) * z * z / (c * (c + 1.0));
    let got = hyp2f1(-2.0, b, c, z).expect("terminates");
    assert!(close(got, polynomial, 1e-14));
}

#[test]
fn hyp2f1_refuses_what_it_cannot_sum() {
    assert_eq!(hyp2f1(1.0, 1.0, 2.0, 1.0), None);
    assert_eq!(hyp2f1(1.0, 1.0, 2.0, -1.5), None);
    assert_eq!(hyp2f1(1.0, 1.0, -3.0, 0.5), None);
    assert_eq!(hyp2f1(f64::NAN, 1.0, 2.0, 0.5), None);
    assert_eq!(ln_hyp2f1(1.0, 1.0, 2.0, -0.5), None);
    assert_eq!(ln_hyp2f1(1.0, 1.0, 2.0, 1.0), None);
}

#[test]
fn euler_transformed_log_agrees_with_the_plain_series() {
    // c − a − b < 0 takes the Euler path; compare with the direct sum where that still works.
    for (a, b, c, z) in [
        (3.0, 4.0, 2.0, 0.3),
        (2.2426, 4.4258, 4.2187, 0.5),
        (0.2426, 2.4258, 2.2187, 0.6),
        (1.5, 1.5, 1.0, 0.9),
    ] {
        let direct = hyp2f1(a, b, c, z).expect("converges");
        let via_log = ln_hyp2f1(a, b, c, z).expect("converges").exp();
        assert!(
            close(via_log, direct, 1e-11),
            "{a} {b} {c} {z}: {via_log} vs {direct}"
        );
    }
}

#[test]
fn ln_hyp2f1_survives_large_purchase_counts() {
    // The BG/NBD arguments for x = 400 repeat purchases: the plain series overflows here.
    let (r, a, b, x) = (0.24, 0.79, 2.43, 400.0);
    let value = ln_hyp2f1(r + x, b + x, a + b + x - 1.0, 0.6).expect("converges");
    assert!(value.is_finite() && value > 0.0);
}
