use std::time::Instant;

use super::{assert_sig, cdnow_summary};
use crate::scores::{
    BgNbdParams, FitError, Rft, bg_nbd_log_likelihood, expected_purchases, fit_bg_nbd, prob_alive,
};

/// Fader, Hardie & Lee (2005), table/text of the BG/NBD paper on the CDNOW sample.
const PUBLISHED: BgNbdParams = BgNbdParams {
    r: 0.2426,
    alpha: 4.4135,
    a: 0.7929,
    b: 2.4258,
};
const PUBLISHED_LL: f64 = -9582.4;

fn rft(x: u32, t_x: f64, t_cal: f64) -> Rft {
    Rft { x, t_x, t_cal }
}

#[test]
fn fit_reproduces_the_published_cdnow_estimates() {
    let data: Vec<Rft> = cdnow_summary().iter().map(|row| row.rft).collect();
    assert_eq!(data.len(), 2357);
    let started = Instant::now();
    let fit = fit_bg_nbd(&data).expect("fits");
    let elapsed = started.elapsed();
    println!(
        "BG/NBD fit on {} customers: {:?} ({} likelihood evaluations; this is a {} build)",
        fit.customers,
        elapsed,
        fit.evaluations,
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    println!(
        "fitted {:?}, log-likelihood {}",
        fit.params, fit.log_likelihood
    );
    assert_sig(fit.params.r, PUBLISHED.r, 3, "r");
    assert_sig(fit.params.alpha, PUBLISHED.alpha, 3, "alpha");
    assert_sig(fit.params.a, PUBLISHED.a, 3, "a");
    assert_sig(fit.params.b, PUBLISHED.b, 3, "b");
    assert!(
        (fit.log_likelihood - PUBLISHED_LL).abs() <= 0.1,
        "log-likelihood {} vs {PUBLISHED_LL}",
        fit.log_likelihood
    );
    assert_eq!(fit.customers, 2357);
}

#[test]
fn fit_does_not_depend_on_row_order() {
    let data: Vec<Rft> = cdnow_summary().iter().map(|row| row.rft).collect();
    let mut reversed = data.clone();
    reversed.reverse();
    let forward = fit_bg_nbd(&data).expect("fits");
    let backward = fit_bg_nbd(&reversed).expect("fits");
    assert_eq!(forward, backward);
}

#[test]
fn log_likelihood_at_the_published_estimates_is_the_published_value() {
    let data: Vec<Rft> = cdnow_summary().iter().map(|row| row.rft).collect();
    let ll = bg_nbd_log_likelihood(&PUBLISHED, &data);
    assert!((ll - PUBLISHED_LL).abs() <= 0.1, "{ll}");
}

#[test]
fn conditional_expectation_matches_the_excel_note() {
    // Fader, Hardie & Lee's note "Implementing the BG/NBD Model for Customer Base Analysis in
    // Excel": a customer with x = 2, t_x = 30.43, T = 38.86 is expected to make 1.226 purchases
    // in the next 39 weeks.
    let e = expected_purchases(&PUBLISHED, 39.0, &rft(2, 30.43, 38.86));
    assert!((e - 1.226).abs() < 0.0005, "{e}");
}

#[test]
fn conditional_expectation_behaves() {
    let history = rft(3, 20.0, 38.0);
    assert_eq!(expected_purchases(&PUBLISHED, 0.0, &history), 0.0);
    let mut previous = 0.0;
    for weeks in [1.0, 5.0, 13.0, 26.0, 52.0, 104.0, 520.0] {
        let e = expected_purchases(&PUBLISHED, weeks, &history);
        assert!(e.is_finite() && e > previous, "{weeks}: {e}");
        previous = e;
    }
    // Someone who went quiet long ago is expected to buy less than someone who just bought.
    let quiet = expected_purchases(&PUBLISHED, 52.0, &rft(3, 5.0, 38.0));
    let recent = expected_purchases(&PUBLISHED, 52.0, &rft(3, 37.0, 38.0));
    assert!(quiet < recent, "{quiet} vs {recent}");
    // A heavy buyer must not overflow the hypergeometric series.
    let heavy = expected_purchases(&PUBLISHED, 52.0, &rft(400, 38.0, 38.0));
    assert!(heavy.is_finite() && heavy > 100.0, "{heavy}");
    // For x = 0 the formula has no denominator term.
    let never = expected_purchases(&PUBLISHED, 52.0, &rft(0, 0.0, 38.0));
    assert!(never.is_finite() && never > 0.0 && never < 0.5, "{never}");
}

#[test]
fn short_horizons_keep_their_digits() {
    // E[Y(t)] is linear for tiny t; catastrophic cancellation in 1 − (…) would break this.
    let history = rft(2, 30.43, 38.86);
    let tiny = expected_purchases(&PUBLISHED, 1e-9, &history);
    let small = expected_purchases(&PUBLISHED, 2e-9, &history);
    assert!(tiny > 0.0);
    assert!((small / tiny - 2.0).abs() < 1e-6, "{tiny} {small}");
}

#[test]
fn prob_alive_behaves() {
    assert_eq!(prob_alive(&PUBLISHED, &rft(0, 0.0, 38.0)), 1.0);
    let recent = prob_alive(&PUBLISHED, &rft(5, 37.0, 38.0));
    let quiet = prob_alive(&PUBLISHED, &rft(5, 2.0, 38.0));
    assert!(
        recent > quiet && quiet > 0.0 && recent < 1.0,
        "{recent} {quiet}"
    );
    // Bought just now: P(alive) = 1 / (1 + a/(b+x−1)).
    let now = prob_alive(&PUBLISHED, &rft(1, 38.0, 38.0));
    let expected = 1.0 / (1.0 + PUBLISHED.a / PUBLISHED.b);
    assert!((now - expected).abs() < 1e-12);
    // Many purchases then a very long silence: 0, not NaN from an overflow.
    assert_eq!(prob_alive(&PUBLISHED, &rft(1_000, 1.0, 10_000.0)), 0.0);
}

#[test]
fn bad_input_gives_errors_and_nan_not_panics() {
    assert_eq!(fit_bg_nbd(&[]), Err(FitError::NoData));
    let bad = [rft(1, 5.0, 10.0), rft(2, 12.0, 10.0)];
    assert!(matches!(
        fit_bg_nbd(&bad),
        Err(FitError::InvalidInput { index: 1, .. })
    ));
    assert!(matches!(
        fit_bg_nbd(&[rft(0, 1.0, 10.0)]),
        Err(FitError::InvalidInput { index: 0, .. })
    ));
    assert!(matches!(
        fit_bg_nbd(&[rft(1, f64::NAN, 10.0)]),
        Err(FitError::InvalidInput { index: 0, .. })
    ));
    let nan_params = BgNbdParams {
        r: f64::NAN,
        ..PUBLISHED
    };
    let negative = BgNbdParams {
        a: -1.0,
        ..PUBLISHED
    };
    let history = rft(1, 5.0, 10.0);
    assert!(expected_purchases(&nan_params, 10.0, &history).is_nan());
    assert!(expected_purchases(&negative, 10.0, &history).is_nan());
    assert!(expected_purchases(&PUBLISHED, -1.0, &history).is_nan());
    assert!(expected_purchases(&PUBLISHED, f64::INFINITY, &history).is_nan());
    assert!(expected_purchases(&PUBLISHED, 1.0, &rft(1, 11.0, 10.0)).is_nan());
    assert!(prob_alive(&nan_params, &history).is_nan());
    assert!(bg_nbd_log_likelihood(&negative, &[history]).is_nan());
}

#[test]
fn a_first_purchase_on_the_last_day_is_harmless() {
    let data: Vec<Rft> = cdnow_summary().iter().map(|row| row.rft).collect();
    let mut with_newcomer = data.clone();
    with_newcomer.push(rft(0, 0.0, 0.0));
    let ll = bg_nbd_log_likelihood(&PUBLISHED, &data);
    let ll_newcomer = bg_nbd_log_likelihood(&PUBLISHED, &with_newcomer);
    assert!((ll - ll_newcomer).abs() < 1e-9);
}
