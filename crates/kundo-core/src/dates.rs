//! Calendar dates as the API, the CSV import and the CLI take them: ISO 8601 `YYYY-MM-DD`
//! exactly. chrono's `%Y-%m-%d` alone also reads `+1980-01-01`, `1980-1-1` and (after a
//! trim) ` 1980-01-01`; a date written like that is a sign of a hand-made or broken export,
//! and accepting it would make the stored value differ from what the sender believes it sent.

use chrono::NaiveDate;

pub const DATE_MESSAGE: &str = "must be a date YYYY-MM-DD";

/// `YYYY-MM-DD` with four, two and two ASCII digits and nothing around them, naming a real day.
pub fn parse_iso_date(s: &str) -> Result<NaiveDate, String> {
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return Err(DATE_MESSAGE.to_string());
    }
    // The shape is ASCII digits, so the slices and numbers below cannot fail.
    let num = |r: std::ops::Range<usize>| s[r].parse::<u32>().unwrap_or(0);
    i32::try_from(num(0..4))
        .ok()
        .and_then(|y| NaiveDate::from_ymd_opt(y, num(5..7), num(8..10)))
        .ok_or_else(|| format!("{DATE_MESSAGE} naming a day of the calendar"))
}

/// A day that a job computes "as of" (scores, segment counts): strict, and not after `today`,
/// because figures of a day that has not ended would be overwritten by the next run with
/// different ones.
pub fn parse_as_of(s: &str, today: NaiveDate) -> Result<NaiveDate, String> {
    let d = parse_iso_date(s)?;
    if d > today {
        return Err(format!("lies in the future (today is {today})"));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn only_the_exact_iso_form_is_a_date() {
        assert_eq!(parse_iso_date("1980-02-29"), Ok(day(1980, 2, 29)));
        assert_eq!(parse_iso_date("0001-01-01"), Ok(day(1, 1, 1)));
        for bad in [
            " 1980-01-01",
            "1980-01-01 ",
            "+1980-01-01",
            "1980-1-1",
            "1980-01-1",
            "80-01-01",
            "1980/01/01",
            "19800101",
            "1980-01-01T00:00:00Z",
            "１９８０-01-01",
            "",
        ] {
            assert_eq!(
                parse_iso_date(bad),
                Err(DATE_MESSAGE.to_string()),
                "{bad:?}"
            );
        }
        for impossible in ["1981-02-29", "1980-13-01", "1980-00-10", "1980-04-31"] {
            assert!(parse_iso_date(impossible).is_err(), "{impossible}");
        }
    }

    #[test]
    fn an_as_of_day_may_be_today_but_not_later() {
        let today = day(2026, 12, 5);
        assert_eq!(parse_as_of("2026-12-05", today), Ok(today));
        assert_eq!(parse_as_of("2020-01-31", today), Ok(day(2020, 1, 31)));
        assert_eq!(
            parse_as_of("2026-12-06", today),
            Err("lies in the future (today is 2026-12-05)".to_string())
        );
        assert!(parse_as_of("9999-12-31", today).is_err());
        assert!(parse_as_of("2026-12-5", today).is_err());
    }
}
