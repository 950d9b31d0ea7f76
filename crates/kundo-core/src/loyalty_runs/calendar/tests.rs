use proptest::prelude::*;

use super::*;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn a_bonus_run_is_for_the_current_month_or_the_one_that_just_ended() {
    let today = date(2026, 12, 5);
    assert_eq!(check_bonus_period(date(2026, 12, 1), today), Ok(()));
    assert_eq!(check_bonus_period(date(2026, 11, 1), today), Ok(()));
    let refused = "must be the current month (2026-12) or the one that just ended (2026-11): a bonus run converts today's balances";
    for period in [
        date(2026, 10, 1),
        date(2025, 2, 1),
        date(2025, 12, 1),
        date(2027, 1, 1),
        date(2030, 1, 1),
    ] {
        assert_eq!(
            check_bonus_period(period, today),
            Err(refused.into()),
            "{period}"
        );
    }
}

#[test]
fn bonus_periods_at_month_and_year_boundaries() {
    // First and last day of a month: the same two months are open all month long.
    for today in [date(2026, 12, 1), date(2026, 12, 31)] {
        assert_eq!(check_bonus_period(date(2026, 12, 1), today), Ok(()));
        assert_eq!(check_bonus_period(date(2026, 11, 1), today), Ok(()));
        assert!(check_bonus_period(date(2027, 1, 1), today).is_err());
        assert!(check_bonus_period(date(2026, 10, 1), today).is_err());
    }
    // New Year's Day: December of the year before has just ended.
    let today = date(2027, 1, 1);
    assert_eq!(check_bonus_period(date(2027, 1, 1), today), Ok(()));
    assert_eq!(check_bonus_period(date(2026, 12, 1), today), Ok(()));
    assert_eq!(
        check_bonus_period(date(2026, 11, 1), today),
        Err("must be the current month (2027-01) or the one that just ended (2026-12): a bonus run converts today's balances".into())
    );
    assert!(check_bonus_period(date(2026, 1, 1), today).is_err());
    // New Year's Eve: January of the next year has not begun.
    let today = date(2026, 12, 31);
    assert!(check_bonus_period(date(2027, 12, 1), today).is_err());
    // 1 March of a leap year: February has just ended.
    let today = date(2024, 3, 1);
    assert_eq!(check_bonus_period(date(2024, 2, 1), today), Ok(()));
    assert!(check_bonus_period(date(2024, 1, 1), today).is_err());
}

#[test]
fn bonus_periods_at_the_ends_of_the_calendar_do_not_panic() {
    let first = NaiveDate::MIN.with_day(1).unwrap();
    assert_eq!(check_bonus_period(first, NaiveDate::MIN), Ok(()));
    assert!(check_bonus_period(date(2026, 1, 1), NaiveDate::MIN).is_err());
    let last = NaiveDate::MAX.with_day(1).unwrap();
    assert_eq!(check_bonus_period(last, NaiveDate::MAX), Ok(()));
}

#[test]
fn a_birthday_run_is_dated_within_a_month_of_today() {
    let today = date(2026, 12, 5);
    for ok in [
        today,
        date(2026, 11, 4),
        date(2027, 1, 5),
        date(2026, 12, 31),
        date(2027, 1, 1),
    ] {
        assert_eq!(check_birthday_run_date(ok, today), Ok(()), "{ok}");
    }
    let refused = "must be a day from 2026-11-04 to 2027-01-05: at most 31 days before or 31 days after today";
    for bad in [
        date(2026, 11, 3),
        date(2027, 1, 6),
        date(1, 1, 1),
        date(9999, 12, 31),
        date(2027, 2, 7),
    ] {
        assert_eq!(
            check_birthday_run_date(bad, today),
            Err(refused.into()),
            "{bad}"
        );
    }
    // Across a year boundary and at the ends of the calendar.
    assert_eq!(
        check_birthday_run_date(date(2026, 12, 1), date(2027, 1, 1)),
        Ok(())
    );
    assert_eq!(
        check_birthday_run_date(NaiveDate::MAX, NaiveDate::MAX),
        Ok(())
    );
    assert_eq!(
        check_birthday_run_date(NaiveDate::MIN, NaiveDate::MIN),
        Ok(())
    );
    assert!(check_birthday_run_date(NaiveDate::MIN, NaiveDate::MAX).is_err());
}

#[test]
fn validity_ends_the_given_number_of_days_later() {
    assert_eq!(validity_end(date(2026, 12, 5), 90), Ok(date(2027, 3, 5)));
    assert_eq!(validity_end(date(2024, 2, 28), 1), Ok(date(2024, 2, 29)));
    assert_eq!(validity_end(date(2026, 12, 31), 1), Ok(date(2027, 1, 1)));
    for bad in [0, -5, i64::MIN] {
        assert_eq!(
            validity_end(date(2026, 12, 5), bad),
            Err(format!(
                "{bad} days from 2026-12-05 is not a validity period"
            ))
        );
    }
    assert!(validity_end(date(2026, 12, 5), 100_000_000).is_err());
    assert!(validity_end(date(2026, 12, 5), i64::MAX).is_err());
    assert!(validity_end(NaiveDate::MAX, 1).is_err());
}

proptest! {
    #[test]
    fn the_calendar_rules_never_panic(a in any::<i32>(), b in any::<i32>(), days in any::<i64>()) {
        let day = |n| NaiveDate::from_num_days_from_ce_opt(n).unwrap_or(NaiveDate::MIN);
        let (x, y) = (day(a), day(b));
        let _ = check_bonus_period(x, y);
        let _ = check_birthday_run_date(x, y);
        if let Ok(end) = validity_end(x, days) {
            prop_assert!(end > x);
        }
    }

    #[test]
    fn exactly_two_months_are_open_on_any_day(n in 0i32..=1_000_000) {
        let today = NaiveDate::from_num_days_from_ce_opt(n).unwrap();
        let mut open = 0;
        let mut month = date(today.year() - 1, 1, 1);
        while month <= today {
            open += usize::from(check_bonus_period(month, today).is_ok());
            month = month.checked_add_months(Months::new(1)).unwrap();
        }
        prop_assert_eq!(open, 2);
    }
}
