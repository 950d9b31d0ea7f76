//! Rules of the automatic voucher runs: the bonus run that turns points into vouchers and the
//! birthday run that sends a voucher ahead of a good customer's birthday.
//!
//! Only the decisions live here (who gets what, which dates a run serves, which period a
//! run is for); the runs themselves, with their idempotency and bookings, live in the app.
//! Every function is total: odd configuration or input never panics.

mod calendar;
#[cfg(test)]
mod tests;

pub use calendar::{
    BIRTHDAY_RUN_DAYS_AHEAD, BIRTHDAY_RUN_DAYS_BACK, check_birthday_run_date, check_bonus_period,
    validity_end,
};

use chrono::{Datelike, Days, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::error::{Errors, FieldError};

/// Earliest bonus period accepted, so a typo like "0202-03" is refused instead of booked.
const MIN_PERIOD_YEAR: i32 = 2000;
/// Latest bonus period accepted, for the same reason.
const MAX_PERIOD_YEAR: i32 = 2100;

/// The most an amount voucher may be worth, in minor units (CHF 1,000,000.00): any voucher,
/// and so a run's voucher per step or per birthday.
pub const MAX_VOUCHER_VALUE: i64 = 100_000_000;

/// How the bonus run converts points into vouchers (e.g. every 500 points = CHF 10.00).
/// Stored as JSON in the settings, hence `deny_unknown_fields`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BonusConfig {
    /// Minimum balance for a voucher (default 500), so nobody gets a voucher worth cents.
    pub threshold_points: i64,
    /// Points per voucher step (default 500).
    pub points_per_step: i64,
    /// Voucher value per step in minor units (default 1000 = CHF 10.00).
    pub value_per_step: i64,
    /// ISO 4217 currency of the voucher (default "CHF").
    pub currency: String,
    /// Whether the remainder below one step is forfeited (default true): many programmes
    /// reset the account to zero at each conversion; otherwise the remainder carries over.
    pub reset_to_zero: bool,
    /// Days the voucher stays valid (default 90).
    pub validity_days: i64,
}

impl Default for BonusConfig {
    /// The usual Swiss programme: from 500 points, CHF 10.00 per 500 points, account reset to
    /// zero, voucher valid 90 days.
    fn default() -> Self {
        Self {
            threshold_points: 500,
            points_per_step: 500,
            value_per_step: 1000,
            currency: "CHF".to_owned(),
            reset_to_zero: true,
            validity_days: 90,
        }
    }
}

impl BonusConfig {
    /// Checks the configuration before it is saved, so a run never meets a config it cannot
    /// use: steps positive, values 1..=MAX_VOUCHER_VALUE, threshold non-negative, validity
    /// 1..=3660 days, currency three upper-case letters.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Errors::default();
        if self.threshold_points < 0 {
            errors.push("threshold_points", "must not be negative");
        }
        if self.points_per_step <= 0 {
            errors.push("points_per_step", "must be positive");
        }
        check_value(&mut errors, "value_per_step", self.value_per_step);
        check_currency(&mut errors, &self.currency);
        check_validity_days(&mut errors, self.validity_days);
        errors.into_result(())
    }
}

/// For a balance: None if below threshold; else Some((voucher_value, points_converted)).
/// value = (balance / points_per_step) * value_per_step; points_converted = balance if
/// reset_to_zero else (balance / points_per_step) * points_per_step. Never converts more than
/// the balance; negative or zero balance → None.
///
/// Also None when the balance reaches the threshold but not one whole step (no voucher worth
/// nothing) and for an unusable config (non-positive step or value). For astronomically large
/// balances whose value would not fit an i64, only as many steps as fit are converted and the
/// rest stays on the account (even with reset_to_zero), so no point is lost to an overflow.
pub fn bonus_conversion(cfg: &BonusConfig, balance: i64) -> Option<(i64, i64)> {
    if balance <= 0 || balance < cfg.threshold_points {
        return None;
    }
    if cfg.points_per_step <= 0 || cfg.value_per_step <= 0 {
        return None;
    }
    let steps = balance / cfg.points_per_step;
    if steps == 0 {
        return None;
    }
    let max_steps = i64::MAX / cfg.value_per_step;
    if steps > max_steps {
        return Some((
            max_steps * cfg.value_per_step,
            max_steps * cfg.points_per_step,
        ));
    }
    let value = steps * cfg.value_per_step;
    let converted = if cfg.reset_to_zero {
        balance
    } else {
        steps * cfg.points_per_step
    };
    Some((value, converted))
}

/// What the birthday run gives (e.g. CHF 10.00 three weeks ahead to customers with at least
/// CHF 500 revenue in the last 12 months). Stored as JSON, hence `deny_unknown_fields`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BirthdayConfig {
    /// Days before the birthday the voucher is sent (default 21), so it arrives in time to be
    /// used around the birthday.
    pub lead_days: i64,
    /// Minimum revenue of the last 12 months in minor units (default 50_000 = CHF 500), so
    /// the voucher rewards customers rather than sign-ups.
    pub min_revenue_12m: i64,
    /// Voucher value in minor units (default 1000 = CHF 10.00).
    pub value: i64,
    /// ISO 4217 currency of the voucher (default "CHF").
    pub currency: String,
    /// Days the voucher stays valid (default 60).
    pub validity_days: i64,
}

impl Default for BirthdayConfig {
    /// CHF 10.00 sent 21 days ahead to customers with CHF 500 revenue in 12 months, valid 60
    /// days.
    fn default() -> Self {
        Self {
            lead_days: 21,
            min_revenue_12m: 50_000,
            value: 1000,
            currency: "CHF".to_owned(),
            validity_days: 60,
        }
    }
}

impl BirthdayConfig {
    /// Checks the configuration before it is saved: lead 0..=366 days, revenue non-negative,
    /// value 1..=MAX_VOUCHER_VALUE, validity 1..=3660 days, currency three upper-case letters.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Errors::default();
        if !(0..=366).contains(&self.lead_days) {
            errors.push("lead_days", "must be between 0 and 366");
        }
        if self.min_revenue_12m < 0 {
            errors.push("min_revenue_12m", "must not be negative");
        }
        check_value(&mut errors, "value", self.value);
        check_currency(&mut errors, &self.currency);
        check_validity_days(&mut errors, self.validity_days);
        errors.into_result(())
    }
}

/// Records an error unless the value is one a voucher may have.
fn check_value(errors: &mut Errors, field: &str, value: i64) {
    if !(1..=MAX_VOUCHER_VALUE).contains(&value) {
        errors.push(
            field,
            format!("must be 1 to {MAX_VOUCHER_VALUE} minor units"),
        );
    }
}

/// Records an error unless `currency` looks like an ISO 4217 code.
fn check_currency(errors: &mut Errors, currency: &str) {
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        errors.push(
            "currency",
            "must be a three-letter currency code such as CHF",
        );
    }
}

/// Records an error unless the validity is between one day and about ten years.
fn check_validity_days(errors: &mut Errors, days: i64) {
    if !(1..=3660).contains(&days) {
        errors.push("validity_days", "must be between 1 and 3660");
    }
}

/// The birthdays a run on `run_date` serves: the day `run_date + lead_days`. Returns
/// (target_date, list of (month, day) pairs to match against birth dates): normally one pair;
/// when the target date is 28 February of a non-leap year, also (2, 29) — a 29 February
/// birthday counts as 28 February in other years.
///
/// A daily run thus serves every birthday exactly once a year. A lead so large that the date
/// leaves chrono's range saturates at the first or last representable date.
pub fn birthday_targets(run_date: NaiveDate, lead_days: i64) -> (NaiveDate, Vec<(u32, u32)>) {
    let target = if lead_days >= 0 {
        run_date
            .checked_add_days(Days::new(lead_days.unsigned_abs()))
            .unwrap_or(NaiveDate::MAX)
    } else {
        run_date
            .checked_sub_days(Days::new(lead_days.unsigned_abs()))
            .unwrap_or(NaiveDate::MIN)
    };
    let mut pairs = vec![(target.month(), target.day())];
    let leap_year = NaiveDate::from_ymd_opt(target.year(), 2, 29).is_some();
    if target.month() == 2 && target.day() == 28 && !leap_year {
        pairs.push((2, 29));
    }
    (target, pairs)
}

/// Parses a bonus period "YYYY-MM" (month 01..12, year 2000..=2100) into its first day; error
/// message for the user otherwise. The period keys the bonus run, so a month is converted at
/// most once; surrounding whitespace is ignored, anything else must match exactly.
pub fn parse_period(s: &str) -> Result<NaiveDate, String> {
    const FORMAT: &str = "must be a month in the form YYYY-MM, e.g. 2026-03";
    let s = s.trim();
    let (year, month) = s.split_once('-').ok_or(FORMAT)?;
    let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if year.len() != 4 || month.len() != 2 || !all_digits(year) || !all_digits(month) {
        return Err(FORMAT.to_owned());
    }
    let year: i32 = year.parse().map_err(|_| FORMAT)?;
    let month: u32 = month.parse().map_err(|_| FORMAT)?;
    if !(1..=12).contains(&month) {
        return Err("the month must be between 01 and 12".to_owned());
    }
    if !(MIN_PERIOD_YEAR..=MAX_PERIOD_YEAR).contains(&year) {
        return Err(format!(
            "the year must be between {MIN_PERIOD_YEAR} and {MAX_PERIOD_YEAR}"
        ));
    }
    NaiveDate::from_ymd_opt(year, month, 1).ok_or_else(|| FORMAT.to_owned())
}
