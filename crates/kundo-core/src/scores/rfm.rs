//! RFM scores (DOMAIN §7): recency, frequency and monetary value, each scored 1–5 by quintiles
//! over the customers the caller passes (those active in the last 24 months), shown as "545".
//!
//! # The exact rule (the store reproduces it in SQL)
//!
//! Let n be the number of customers given. For each percentile P in 20, 40, 60, 80 the
//! *nearest-rank* position is k_P = ⌈P·n / 100⌉, in integer arithmetic `(P*n + 99) / 100`
//! (1-based, always between 1 and n).
//!
//! * Frequency and monetary: sort the values ascending; breakpoint b_P is the value at position
//!   k_P. Score = 1 + the number of breakpoints the value is strictly greater than.
//! * Recency (days since the last purchase; fewer is better): sort the values *descending*
//!   (worst first); breakpoint b_P is the value at position k_P. Score = 1 + the number of
//!   breakpoints the value is strictly smaller than.
//!
//! So 5 is always best, equal values always get equal scores, and a better value never gets a
//! lower score. Unlike `NTILE(5)`, which splits tied customers across buckets depending on row
//! order, this rule is stable under ties and under reordering. The price: when many customers
//! share a value the buckets are uneven — if everyone bought exactly once, every F score is 1
//! (nobody is measurably more frequent than anybody else). A single customer scores "111".
//!
//! In SQL, one query per dimension yields the breakpoints, e.g. for monetary:
//!
//! ```sql
//! SELECT MAX(CASE WHEN rn = (20 * n + 99) / 100 THEN monetary END) AS b20, -- … b40, b60, b80
//! FROM (SELECT monetary, ROW_NUMBER() OVER (ORDER BY monetary) AS rn, COUNT(*) OVER () AS n
//!       FROM rfm_input) AS ranked
//! ```
//!
//! (recency with `ORDER BY recency_days DESC`), and scoring is set-based:
//! `1 + (CASE WHEN monetary > b20 THEN 1 ELSE 0 END) + … + (CASE WHEN monetary > b80 …)`,
//! with `<` for recency. Ties in `ROW_NUMBER` do not matter: tied rows hold the same value.

use serde::{Deserialize, Serialize};

/// One customer's raw RFM figures, as the store computes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RfmInput {
    pub customer_id: i64,
    /// Days since the last purchase.
    pub recency_days: i64,
    /// Receipts in the last 12 months.
    pub frequency: i64,
    /// Revenue in the last 12 months, in minor units.
    pub monetary: i64,
}

/// Scores 1–5 per dimension, 5 best.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RfmScore {
    pub customer_id: i64,
    pub r: u8,
    pub f: u8,
    pub m: u8,
}

impl RfmScore {
    /// The three digits as marketing reads them, e.g. "545".
    pub fn code(&self) -> String {
        format!("{}{}{}", self.r, self.f, self.m)
    }
}

/// The 20th, 40th, 60th and 80th percentile breakpoints of each dimension (see the module
/// documentation for the rule). `frequency` and `monetary` are non-decreasing; `recency` is
/// non-increasing, because its percentiles are taken worst (longest ago) first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuintileBreaks {
    pub recency: [i64; 4],
    pub frequency: [i64; 4],
    pub monetary: [i64; 4],
}

/// Percentiles whose nearest-rank values are the breakpoints.
const PERCENTILES: [u128; 4] = [20, 40, 60, 80];

/// The nearest-rank breakpoints of `sorted` (already in worst-to-best order).
fn breaks_of(sorted: &[i64]) -> [i64; 4] {
    let n = sorted.len() as u128;
    PERCENTILES.map(|p| {
        // ⌈p·n/100⌉ is in 1..=n for n >= 1, so the index is in range; `get` keeps an empty
        // slice (which callers rule out) from panicking all the same.
        let rank = (p * n).div_ceil(100);
        let index = usize::try_from(rank.saturating_sub(1)).unwrap_or(usize::MAX);
        sorted.get(index).copied().unwrap_or_default()
    })
}

/// Breakpoints over `inputs`; `None` when there are no customers (no quintiles exist).
pub fn quintile_breaks(inputs: &[RfmInput]) -> Option<QuintileBreaks> {
    if inputs.is_empty() {
        return None;
    }
    let mut recency: Vec<i64> = inputs.iter().map(|i| i.recency_days).collect();
    let mut frequency: Vec<i64> = inputs.iter().map(|i| i.frequency).collect();
    let mut monetary: Vec<i64> = inputs.iter().map(|i| i.monetary).collect();
    recency.sort_unstable_by(|a, b| b.cmp(a));
    frequency.sort_unstable();
    monetary.sort_unstable();
    Some(QuintileBreaks {
        recency: breaks_of(&recency),
        frequency: breaks_of(&frequency),
        monetary: breaks_of(&monetary),
    })
}

/// 1 + the number of breakpoints `value` beats.
fn score(breaks: &[i64; 4], beats: impl Fn(i64) -> bool) -> u8 {
    1 + breaks.iter().filter(|&&b| beats(b)).count() as u8
}

/// Scores one customer against breakpoints computed earlier (possibly by the store), so new or
/// changed customers can be scored without re-ranking everybody.
pub fn score_with(breaks: &QuintileBreaks, input: &RfmInput) -> RfmScore {
    RfmScore {
        customer_id: input.customer_id,
        r: score(&breaks.recency, |b| input.recency_days < b),
        f: score(&breaks.frequency, |b| input.frequency > b),
        m: score(&breaks.monetary, |b| input.monetary > b),
    }
}

/// Scores every customer in `inputs` against the quintiles of `inputs` itself, in input order.
pub fn rfm_scores(inputs: &[RfmInput]) -> Vec<RfmScore> {
    match quintile_breaks(inputs) {
        Some(breaks) => inputs.iter().map(|i| score_with(&breaks, i)).collect(),
        None => Vec::new(),
    }
}
