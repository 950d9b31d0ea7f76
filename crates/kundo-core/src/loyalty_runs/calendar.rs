//! Which month or day a run may be for, and until when its vouchers are valid. Every decision
//! takes "today" in the company's calendar from the caller, so that the time zone of a company
//! (a later change) is applied in one place outside these rules.

#[cfg(test)]
mod tests;

use chrono::{Datelike, Days, Months, NaiveDate};

/// How far back a birthday run may be dated: a month of missed daily runs can be caught up.
pub const BIRTHDAY_RUN_DAYS_BACK: u64 = 31;
/// How far ahead a birthday run may be dated: letters may be prepared a month early, not more,
/// since the run reads the revenue of the last twelve months as it is today.
pub const BIRTHDAY_RUN_DAYS_AHEAD: u64 = 31;

/// Checks that a bonus run for the month starting `period` may run on `today`: it converts
/// today's balances, so it is for the current month or the one that just ended, never for an
/// older or a future one (DOMAIN §4). The message names the two months allowed.
pub fn check_bonus_period(period: NaiveDate, today: NaiveDate) -> Result<(), String> {
    let current = today.with_day(1).unwrap_or(today);
    let previous = current.checked_sub_months(Months::new(1));
    if period == current || Some(period) == previous {
        return Ok(());
    }
    let month = |d: NaiveDate| d.format("%Y-%m").to_string();
    Err(match previous {
        Some(p) => format!(
            "must be the current month ({}) or the one that just ended ({}): a bonus run converts today's balances",
            month(current),
            month(p)
        ),
        None => format!(
            "must be the current month ({}): a bonus run converts today's balances",
            month(current)
        ),
    })
}

/// Checks that a birthday run dated `date` may run on `today`: from
/// [`BIRTHDAY_RUN_DAYS_BACK`] days before to [`BIRTHDAY_RUN_DAYS_AHEAD`] days after today.
/// Far from today it would serve birthdays long gone (with vouchers expired on arrival, and
/// one more "birthday voucher" per past year) or read revenue that is not there yet.
pub fn check_birthday_run_date(date: NaiveDate, today: NaiveDate) -> Result<(), String> {
    let first = today
        .checked_sub_days(Days::new(BIRTHDAY_RUN_DAYS_BACK))
        .unwrap_or(NaiveDate::MIN);
    let last = today
        .checked_add_days(Days::new(BIRTHDAY_RUN_DAYS_AHEAD))
        .unwrap_or(NaiveDate::MAX);
    if (first..=last).contains(&date) {
        Ok(())
    } else {
        Err(format!(
            "must be a day from {first} to {last}: at most {BIRTHDAY_RUN_DAYS_BACK} days before or {BIRTHDAY_RUN_DAYS_AHEAD} days after today"
        ))
    }
}

/// The first day a voucher valid `validity_days` days from `from` is no longer valid (its
/// `valid_until`, exclusive). Errors for a validity that is not positive or leaves the
/// calendar, instead of overflowing.
pub fn validity_end(from: NaiveDate, validity_days: i64) -> Result<NaiveDate, String> {
    u64::try_from(validity_days)
        .ok()
        .filter(|d| *d > 0)
        .and_then(|d| from.checked_add_days(Days::new(d)))
        .ok_or_else(|| format!("{validity_days} days from {from} is not a validity period"))
}
