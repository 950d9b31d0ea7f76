//! "The last 12 months", one definition for everything that speaks of them: the calendar month
//! of the day and the eleven months before it, up to and including the day. On 2026-12-05 that
//! is 2026-01-01 … 2026-12-05, so a sale on 2025-12-10 no longer counts although it is less than
//! 365 days old.
//!
//! It is the segment window `{"last_months": 12}`, and the rolling figures on the customer's
//! figure row cover exactly these months (ADR 8), so segments answer it from one row. The
//! customer's purchase figures, the birthday run's revenue threshold, RFM's F and M, the
//! historic lifetime value and the campaign breakdowns by orders and revenue all use it, so
//! that "receipts in 12 months" is the same number wherever a user reads or selects it.

use chrono::NaiveDate;

use crate::segment::{Span, Window};

/// The window as a segment would write it.
pub const WINDOW: Window = Window::LastMonths(12);

/// The days of the last 12 months on `as_of`.
pub fn span(as_of: NaiveDate) -> Span {
    WINDOW.resolve(as_of)
}

/// The first day of the last 12 months on `as_of` (the 1st of the month eleven months before).
pub fn start(as_of: NaiveDate) -> NaiveDate {
    span(as_of).from.unwrap_or(NaiveDate::MIN)
}

/// The first and last month (`"YYYY-MM"`) of the last 12 months on `as_of`, for the monthly
/// figures.
pub fn months(as_of: NaiveDate) -> (String, String) {
    let (from, to) = span(as_of).months();
    (
        from.unwrap_or_else(|| crate::segment::month_key(NaiveDate::MIN)),
        to,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_month_of_the_day_and_the_eleven_before() {
        assert_eq!(start(d("2026-12-05")), d("2026-01-01"));
        assert_eq!(
            months(d("2026-12-05")),
            ("2026-01".to_string(), "2026-12".to_string())
        );
        // Issue 18 item 9: of 2025-11-30, 2025-12-10, 2026-01-01 and the day itself, two count.
        let in_window = ["2025-11-30", "2025-12-10", "2026-01-01", "2026-12-05"]
            .iter()
            .filter(|s| d(s) >= start(d("2026-12-05")))
            .count();
        assert_eq!(in_window, 2);
        assert_eq!(start(d("2026-01-31")), d("2025-02-01"));
        assert_eq!(start(d("2028-02-29")), d("2027-03-01"));
        assert_eq!(months(d("2026-12-31")).0, "2026-01");
    }

    #[test]
    fn the_earliest_days_do_not_panic() {
        assert_eq!(start(NaiveDate::MIN), NaiveDate::MIN);
        let _ = months(NaiveDate::MIN);
    }
}
