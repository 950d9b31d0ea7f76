//! What one sale may claim (DOMAIN §2): when it happened, how much it was, how many points it
//! earns. A receipt outside these bounds is syntactically fine but cannot be true — a till with a
//! reset clock sending year 1, an amount in the wrong unit, a misconfigured promotion — and
//! booking it would put points on a customer's account and a first purchase in year 1 into
//! every segment and score. Such a receipt is refused, naming the field, so the sender fixes it.
//!
//! The defaults (docs/loyalty.md) are set in the configuration (`receipt_max_age_years`,
//! `receipt_max_points`); the amounts are fixed because they protect the arithmetic.

use chrono::{DateTime, Months, NaiveDate, Utc};

use crate::error::{Errors, FieldError};
use crate::points::MAX_MINUTES_AHEAD;

/// Largest amount of one line, in minor units: 1,000,000.00.
pub const MAX_LINE_AMOUNT: i64 = 100_000_000;
/// Largest total of one receipt, in minor units: 1,000,000.00. With at most 500 lines of at
/// most this much each, sums in `i64` can never overflow.
pub const MAX_RECEIPT_AMOUNT: i64 = 100_000_000;
/// Largest quantity of one line.
pub const MAX_QUANTITY: i64 = 1_000_000;

/// Default for [`SaleBounds::max_age_years`]: the longest time books must be kept in
/// Switzerland and Germany (Art. 958f OR, §147 AO); an older sale would be erased as soon as
/// it was booked.
pub const DEFAULT_MAX_AGE_YEARS: u32 = 10;
/// Default for [`SaleBounds::max_points_per_receipt`]: what CHF 100,000 earns at the base
/// rate; far above a shop's largest real basket, far below what a unit error produces.
pub const DEFAULT_MAX_POINTS_PER_RECEIPT: i64 = 100_000;

/// The configurable part of the bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaleBounds {
    /// A sale may be at most this many years old (late tills, migrated history).
    pub max_age_years: u32,
    /// A receipt earning more points than this is refused.
    pub max_points_per_receipt: i64,
}

impl Default for SaleBounds {
    fn default() -> Self {
        Self {
            max_age_years: DEFAULT_MAX_AGE_YEARS,
            max_points_per_receipt: DEFAULT_MAX_POINTS_PER_RECEIPT,
        }
    }
}

impl SaleBounds {
    /// Checks configured values: 1 to 100 years, 1 to 1,000,000,000 points.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut e = Errors::default();
        if !(1..=100).contains(&self.max_age_years) {
            e.push("receipt_max_age_years", "must be between 1 and 100");
        }
        if !(1..=1_000_000_000).contains(&self.max_points_per_receipt) {
            e.push("receipt_max_points", "must be between 1 and 1000000000");
        }
        e.into_result(())
    }

    /// The oldest instant a sale booked at `now` may have.
    pub fn earliest(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now.checked_sub_months(Months::new(self.max_age_years.saturating_mul(12)))
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// The latest instant: tills' clocks drift by minutes, and segments rely on no sale lying
    /// later than this (see [`MAX_MINUTES_AHEAD`]).
    pub fn latest(now: DateTime<Utc>) -> DateTime<Utc> {
        now + chrono::Duration::minutes(MAX_MINUTES_AHEAD)
    }

    /// The time of a sale (or return) booked at `now`.
    pub fn check_time(&self, t: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), String> {
        if t > Self::latest(now) {
            return Err("lies in the future".into());
        }
        let earliest = self.earliest(now);
        if t < earliest {
            return Err(format!(
                "is more than {} years ago (the earliest accepted is {})",
                self.max_age_years,
                earliest.date_naive()
            ));
        }
        Ok(())
    }

    /// The day of a sale that is known by its day only (a purchase log), booked at midnight UTC.
    pub fn check_day(&self, d: NaiveDate, now: DateTime<Utc>) -> Result<(), String> {
        self.check_time(d.and_time(chrono::NaiveTime::MIN).and_utc(), now)
    }

    /// The points one receipt earns.
    pub fn check_points(&self, points: i64) -> Result<(), String> {
        if points > self.max_points_per_receipt {
            return Err(format!(
                "would earn {points} points, more than the {} one receipt may earn; check the amounts and their unit (minor units: 1990 = 19.90)",
                self.max_points_per_receipt
            ));
        }
        Ok(())
    }
}

/// The amount of one line of a sale or return, in minor units.
pub fn check_line_amount(amount: i64) -> Result<(), String> {
    if !(0..=MAX_LINE_AMOUNT).contains(&amount) {
        return Err(format!(
            "must be between 0 and {MAX_LINE_AMOUNT} (minor units: 1990 = 19.90)"
        ));
    }
    Ok(())
}

/// The quantity of one line.
pub fn check_quantity(quantity: i64) -> Result<(), String> {
    if !(1..=MAX_QUANTITY).contains(&quantity) {
        return Err(format!("must be between 1 and {MAX_QUANTITY}"));
    }
    Ok(())
}

/// The total of a receipt's lines; `amounts` are each within [`check_line_amount`].
pub fn check_receipt_amount(amounts: impl Iterator<Item = i64>) -> Result<(), String> {
    let total: i128 = amounts.map(i128::from).sum();
    if total > i128::from(MAX_RECEIPT_AMOUNT) {
        return Err(format!(
            "the lines add up to {total}, more than the {MAX_RECEIPT_AMOUNT} one receipt may have"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_sale_lies_between_ten_years_ago_and_five_minutes_ahead() {
        let b = SaleBounds::default();
        let now = at("2026-12-05T12:00:00Z");
        assert_eq!(b.check_time(now, now), Ok(()));
        assert_eq!(b.check_time(at("2026-12-05T12:05:00Z"), now), Ok(()));
        assert_eq!(
            b.check_time(at("2026-12-05T12:05:01Z"), now),
            Err("lies in the future".into())
        );
        assert_eq!(b.check_time(at("2016-12-05T12:00:00Z"), now), Ok(()));
        assert_eq!(
            b.check_time(at("2016-12-05T11:59:59Z"), now),
            Err("is more than 10 years ago (the earliest accepted is 2016-12-05)".into())
        );
        assert!(b.check_time(at("0001-01-01T00:00:00Z"), now).is_err());
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(b.check_day(day("2016-12-06"), now), Ok(()));
        assert!(b.check_day(day("2016-12-05"), now).is_err());
        assert!(b.check_day(day("2026-12-06"), now).is_err());
    }

    #[test]
    fn the_window_is_configurable_and_checked() {
        let b = SaleBounds {
            max_age_years: 40,
            ..SaleBounds::default()
        };
        let now = at("2026-12-05T12:00:00Z");
        assert_eq!(b.check_time(at("1997-01-01T00:00:00Z"), now), Ok(()));
        assert_eq!(b.validate(), Ok(()));
        let bad = SaleBounds {
            max_age_years: 0,
            max_points_per_receipt: 0,
        };
        let fields: Vec<String> = bad
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["receipt_max_age_years", "receipt_max_points"]);
        // Even an absurd window never overflows.
        let wide = SaleBounds {
            max_age_years: u32::MAX,
            ..SaleBounds::default()
        };
        assert_eq!(wide.earliest(now), DateTime::<Utc>::MIN_UTC);
    }

    #[test]
    fn amounts_quantities_and_points_have_ceilings() {
        assert_eq!(check_line_amount(0), Ok(()));
        assert_eq!(check_line_amount(MAX_LINE_AMOUNT), Ok(()));
        assert!(check_line_amount(MAX_LINE_AMOUNT + 1).is_err());
        assert!(check_line_amount(-1).is_err());
        assert!(check_line_amount(i64::MAX).is_err());
        assert_eq!(check_quantity(1), Ok(()));
        assert!(check_quantity(0).is_err());
        assert!(check_quantity(MAX_QUANTITY + 1).is_err());
        assert_eq!(
            check_receipt_amount([60_000_000, 40_000_000].into_iter()),
            Ok(())
        );
        assert_eq!(
            check_receipt_amount([60_000_000, 40_000_001].into_iter()),
            Err(
                "the lines add up to 100000001, more than the 100000000 one receipt may have"
                    .into()
            )
        );
        assert!(check_receipt_amount(std::iter::repeat_n(i64::MAX, 500)).is_err());
        let b = SaleBounds::default();
        assert_eq!(b.check_points(100_000), Ok(()));
        assert!(
            b.check_points(100_001)
                .unwrap_err()
                .starts_with("would earn 100001 points")
        );
    }
}
