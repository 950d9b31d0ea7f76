use super::{assert_sig, cdnow_summary};
use crate::scores::{
    FitError, GammaGammaParams, SpendObservation, expected_average_value, fit_gamma_gamma,
    gamma_gamma_log_likelihood,
};

fn observations() -> Vec<(u32, SpendObservation)> {
    cdnow_summary()
        .iter()
        .map(|row| {
            (
                row.id,
                SpendObservation {
                    x: row.rft.x,
                    mean_value: row.zbar,
                },
            )
        })
        .collect()
}

#[test]
fn fit_reproduces_the_published_cdnow_estimates() {
    let data: Vec<SpendObservation> = observations().into_iter().map(|(_, o)| o).collect();
    let fit = fit_gamma_gamma(&data).expect("fits");
    println!(
        "fitted {:?}, log-likelihood {}",
        fit.params, fit.log_likelihood
    );
    assert_eq!(fit.customers, 946);
    assert_sig(fit.params.p, 6.25, 3, "p");
    assert_sig(fit.params.q, 3.74, 3, "q");
    assert_sig(fit.params.v, 15.45, 3, "v");
    assert_sig(fit.params.population_mean(), 35.1710, 4, "population mean");

    let by_id = observations();
    for (id, published) in [(1, 24.6586), (2, 18.9115), (6, 71.4628)] {
        let (_, o) = by_id
            .iter()
            .find(|(i, _)| *i == id)
            .expect("customer in the sample");
        let value = expected_average_value(&fit.params, o.x, o.mean_value);
        println!("customer {id}: expected average spend {value:.4} (published {published})");
        assert_sig(value, published, 4, "expected average spend");
    }
}

#[test]
fn fit_is_independent_of_the_currency_unit() {
    // Minor units instead of dollars: p and q unchanged, v scales with the unit.
    let dollars: Vec<SpendObservation> = observations().into_iter().map(|(_, o)| o).collect();
    let cents: Vec<SpendObservation> = dollars
        .iter()
        .map(|o| SpendObservation {
            x: o.x,
            mean_value: o.mean_value * 100.0,
        })
        .collect();
    let d = fit_gamma_gamma(&dollars).expect("fits").params;
    let c = fit_gamma_gamma(&cents).expect("fits").params;
    assert!((d.p / c.p - 1.0).abs() < 1e-5, "{d:?} {c:?}");
    assert!((d.q / c.q - 1.0).abs() < 1e-5, "{d:?} {c:?}");
    assert!((100.0 * d.v / c.v - 1.0).abs() < 1e-5, "{d:?} {c:?}");
}

#[test]
fn expected_value_shrinks_towards_the_population_mean() {
    let params = GammaGammaParams {
        p: 6.25,
        q: 3.74,
        v: 15.45,
    };
    let population = params.population_mean();
    assert_eq!(expected_average_value(&params, 0, 1_000.0), population);
    // A customer's own mean counts more the more often they bought.
    let once = expected_average_value(&params, 1, 100.0);
    let often = expected_average_value(&params, 50, 100.0);
    assert!(population < once && once < often && often < 100.0);
}

#[test]
fn bad_input_gives_errors_and_nan_not_panics() {
    assert_eq!(fit_gamma_gamma(&[]), Err(FitError::NoData));
    let only_zero = [SpendObservation {
        x: 0,
        mean_value: 0.0,
    }];
    assert_eq!(fit_gamma_gamma(&only_zero), Err(FitError::NoData));
    let not_a_number = [
        SpendObservation {
            x: 2,
            mean_value: 10.0,
        },
        SpendObservation {
            x: 0,
            mean_value: f64::NAN,
        },
    ];
    assert!(matches!(
        fit_gamma_gamma(&not_a_number),
        Err(FitError::InvalidInput { index: 1, .. })
    ));
    let bad = &not_a_number[..1];
    let params = GammaGammaParams {
        p: 6.25,
        q: 3.74,
        v: 15.45,
    };
    assert!(expected_average_value(&params, 2, f64::NAN).is_nan());
    assert!(expected_average_value(&params, 2, -1.0).is_nan());
    let infinite_mean = GammaGammaParams { q: 0.5, ..params };
    assert!(infinite_mean.population_mean().is_nan());
    assert!(expected_average_value(&infinite_mean, 0, 10.0).is_nan());
    assert!(expected_average_value(&infinite_mean, 3, 10.0).is_finite());
    assert!(
        gamma_gamma_log_likelihood(&GammaGammaParams { p: -1.0, ..params }, &bad[..1]).is_nan()
    );
}

#[test]
fn free_repeat_purchases_are_skipped_and_counted() {
    let mut data: Vec<SpendObservation> = observations().into_iter().map(|(_, o)| o).collect();
    let plain = fit_gamma_gamma(&data).expect("fits");
    data.insert(
        10,
        SpendObservation {
            x: 3,
            mean_value: 0.0,
        },
    );
    let with_free = fit_gamma_gamma(&data).expect("fits");
    assert_eq!(with_free.skipped_non_positive, 1);
    assert_eq!(plain.skipped_non_positive, 0);
    assert_eq!(with_free.params, plain.params);
    assert_eq!(with_free.customers, 946);
}
