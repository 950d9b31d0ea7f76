use crate::scores::{
    BgNbdParams, Discount, GammaGammaParams, Rft, expected_average_value, expected_purchases,
    predictive_clv,
};

const BG: BgNbdParams = BgNbdParams {
    r: 0.2426,
    alpha: 4.4135,
    a: 0.7929,
    b: 2.4258,
};
const GG: GammaGammaParams = GammaGammaParams {
    p: 6.25,
    q: 3.74,
    v: 15.45,
};

const HISTORY: Rft = Rft {
    x: 2,
    t_x: 30.43,
    t_cal: 38.86,
};

#[test]
fn undiscounted_value_is_purchases_times_spend() {
    let clv = predictive_clv(&BG, &GG, &HISTORY, 22.35, 52.0, Discount::None);
    let expected = expected_purchases(&BG, 52.0, &HISTORY) * expected_average_value(&GG, 2, 22.35);
    assert_eq!(clv, expected);
    assert!(clv > 0.0);
}

#[test]
fn discounting_at_zero_changes_nothing_and_positive_rates_lower_the_value() {
    let plain = predictive_clv(&BG, &GG, &HISTORY, 22.35, 52.0, Discount::None);
    let monthly = 52.0 / 12.0;
    let zero = predictive_clv(
        &BG,
        &GG,
        &HISTORY,
        22.35,
        52.0,
        Discount::PerStep {
            step: monthly,
            rate: 0.0,
        },
    );
    assert!((zero - plain).abs() < 1e-9 * plain, "{zero} vs {plain}");
    let discounted = predictive_clv(
        &BG,
        &GG,
        &HISTORY,
        22.35,
        52.0,
        Discount::PerStep {
            step: monthly,
            rate: 0.01,
        },
    );
    assert!(
        discounted < plain && discounted > 0.88 * plain,
        "{discounted} vs {plain}"
    );
    // A horizon that is not a whole number of steps still ends at the horizon.
    let partial = predictive_clv(
        &BG,
        &GG,
        &HISTORY,
        22.35,
        50.0,
        Discount::PerStep {
            step: 8.0,
            rate: 0.0,
        },
    );
    let whole = predictive_clv(&BG, &GG, &HISTORY, 22.35, 50.0, Discount::None);
    assert!((partial - whole).abs() < 1e-9 * whole);
}

#[test]
fn nonsense_gives_nan() {
    let bad_step = Discount::PerStep {
        step: 0.0,
        rate: 0.01,
    };
    assert!(predictive_clv(&BG, &GG, &HISTORY, 22.35, 52.0, bad_step).is_nan());
    let bad_rate = Discount::PerStep {
        step: 4.0,
        rate: -1.0,
    };
    assert!(predictive_clv(&BG, &GG, &HISTORY, 22.35, 52.0, bad_rate).is_nan());
    let tiny_step = Discount::PerStep {
        step: 1e-9,
        rate: 0.0,
    };
    assert!(predictive_clv(&BG, &GG, &HISTORY, 22.35, 52.0, tiny_step).is_nan());
    assert!(predictive_clv(&BG, &GG, &HISTORY, f64::NAN, 52.0, Discount::None).is_nan());
    assert!(predictive_clv(&BG, &GG, &HISTORY, 22.35, -5.0, Discount::None).is_nan());
}
