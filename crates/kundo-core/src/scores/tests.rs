//! Tests of the scores module, one file per idea, plus the CDNOW data shared by several of them.

mod bgnbd;
mod clv;
mod end_to_end;
mod gamma_gamma;
mod optimize;
mod purchase_log;
mod rfm;
mod special;

use super::Rft;

/// The published CDNOW figures live in the shared data folder, next to the worktrees, so they
/// are read at test time instead of being embedded in the crate.
const CDNOW_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/cdnow");

/// One row of `cdnow_customers_summary_with_transactions.csv`.
pub(super) struct SummaryRow {
    pub id: u32,
    pub rft: Rft,
    pub zbar: f64,
}

pub(super) fn cdnow_summary() -> Vec<SummaryRow> {
    let path = format!("{CDNOW_DIR}/cdnow_customers_summary_with_transactions.csv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.trim().split(',').collect();
            assert_eq!(f.len(), 5, "{line}");
            SummaryRow {
                id: f[0].parse().expect("ID"),
                rft: Rft {
                    x: f[1].parse().expect("x"),
                    t_x: f[2].parse().expect("t_x"),
                    t_cal: f[3].parse().expect("T"),
                },
                zbar: f[4].parse().expect("zbar"),
            }
        })
        .collect()
}

pub(super) fn cdnow_master() -> String {
    let path = format!("{CDNOW_DIR}/CDNOW_master.txt");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `actual` equals `expected` when both are rounded to `digits` significant digits (the way
/// published figures are quoted), with a hair of slack for values right at a rounding edge.
pub(super) fn assert_sig(actual: f64, expected: f64, digits: i32, what: &str) {
    let magnitude = expected.abs().log10().floor() as i32;
    let half_ulp = 0.5 * 10f64.powi(magnitude - digits + 1);
    assert!(
        (actual - expected).abs() <= half_ulp * 1.0001,
        "{what}: got {actual}, published {expected} ({digits} significant digits)"
    );
}
