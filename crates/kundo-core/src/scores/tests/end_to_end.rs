//! From the raw CDNOW log to a lifetime value, the way the background job will run it.

use std::time::Instant;

use chrono::NaiveDate;

use super::cdnow_master;
use crate::scores::{
    Discount, Rft, SpendObservation, fit_bg_nbd, fit_gamma_gamma, parse_purchase_log,
    predictive_clv, summarize,
};

#[test]
fn full_cdnow_log_to_lifetime_values() {
    let rows = parse_purchase_log(&cdnow_master()).expect("parses");
    let end = NaiveDate::from_ymd_opt(1997, 9, 30).expect("date");
    let summaries = summarize(&rows, end, 7);
    let data: Vec<Rft> = summaries.iter().map(|s| s.rft).collect();

    let started = Instant::now();
    let bg = fit_bg_nbd(&data).expect("BG/NBD fits");
    let spend: Vec<SpendObservation> = summaries
        .iter()
        .map(|s| SpendObservation {
            x: s.rft.x,
            mean_value: s.mean_repeat_value,
        })
        .collect();
    let gg = fit_gamma_gamma(&spend).expect("Gamma-Gamma fits");
    println!(
        "full CDNOW ({} customers): both fits in {:?}; {:?}; {:?}",
        bg.customers,
        started.elapsed(),
        bg.params,
        gg.params
    );
    // No published figures for all 23,570 customers; the 1/10 sample's estimates
    // (r 0.243, α 4.41, a 0.793, b 2.43) must be in the same region.
    assert!((0.2..0.3).contains(&bg.params.r), "{:?}", bg.params);
    assert!((3.5..5.5).contains(&bg.params.alpha), "{:?}", bg.params);
    assert!((0.6..1.0).contains(&bg.params.a), "{:?}", bg.params);
    assert!((1.8..3.0).contains(&bg.params.b), "{:?}", bg.params);
    // One customer's repeat purchases were all free: skipped, not fatal.
    assert_eq!(gg.skipped_non_positive, 1);
    // Means in cents now: the population mean is in cents too (the sample's is $35.17).
    let population_cents = gg.params.population_mean();
    assert!((2_500.0..4_500.0).contains(&population_cents), "{gg:?}");

    let total: f64 = summaries
        .iter()
        .map(|s| {
            predictive_clv(
                &bg.params,
                &gg.params,
                &s.rft,
                s.mean_repeat_value,
                39.0,
                Discount::None,
            )
        })
        .sum();
    assert!(total.is_finite() && total > 0.0);
    println!(
        "expected revenue of the cohort in the next 39 weeks: ${:.0}",
        total / 100.0
    );
}
