use crate::scores::optimize::{Failure, Settings, minimize};

#[test]
fn finds_the_rosenbrock_minimum() {
    let rosenbrock = |p: &[f64]| (1.0 - p[0]).powi(2) + 100.0 * (p[1] - p[0] * p[0]).powi(2);
    let min = minimize(rosenbrock, &[-1.2, 1.0], &Settings::default()).expect("converges");
    assert!((min.point[0] - 1.0).abs() < 1e-6, "{:?}", min.point);
    assert!((min.point[1] - 1.0).abs() < 1e-6, "{:?}", min.point);
    assert!(min.value < 1e-12);
}

#[test]
fn treats_nan_as_worse_than_anything() {
    // Undefined left of 0, minimum at 2: NaN must steer the search away, not break the sort.
    let f = |p: &[f64]| {
        if p[0] <= 0.0 {
            f64::NAN
        } else {
            (p[0] - 2.0).powi(2) + (p[1] + 1.0).powi(2)
        }
    };
    let min = minimize(f, &[0.1, 0.0], &Settings::default()).expect("converges");
    assert!((min.point[0] - 2.0).abs() < 1e-6 && (min.point[1] + 1.0).abs() < 1e-6);
}

#[test]
fn reports_an_unusable_start() {
    let f = |_: &[f64]| f64::NAN;
    assert_eq!(
        minimize(f, &[0.0, 0.0], &Settings::default()),
        Err(Failure::BadStart)
    );
}

#[test]
fn reports_an_exhausted_budget() {
    let settings = Settings {
        max_evaluations: 20,
        ..Settings::default()
    };
    let rosenbrock = |p: &[f64]| (1.0 - p[0]).powi(2) + 100.0 * (p[1] - p[0] * p[0]).powi(2);
    assert!(matches!(
        minimize(rosenbrock, &[-1.2, 1.0], &settings),
        Err(Failure::Budget { .. })
    ));
}

#[test]
fn is_deterministic() {
    let f = |p: &[f64]| (p[0] - 0.3).powi(2) + (p[0] * p[1] - 2.0).powi(2) + p[2].cosh();
    let first = minimize(f, &[1.0, 1.0, 1.0], &Settings::default()).expect("converges");
    let second = minimize(f, &[1.0, 1.0, 1.0], &Settings::default()).expect("converges");
    assert_eq!(first, second);
}
