use proptest::prelude::*;

use super::*;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn keep_remainder() -> BonusConfig {
    BonusConfig {
        reset_to_zero: false,
        ..BonusConfig::default()
    }
}

#[test]
fn defaults() {
    let bonus = BonusConfig::default();
    assert_eq!(
        (
            bonus.threshold_points,
            bonus.points_per_step,
            bonus.value_per_step
        ),
        (500, 500, 1000)
    );
    assert_eq!(bonus.currency, "CHF");
    assert!(bonus.reset_to_zero);
    assert_eq!(bonus.validity_days, 90);
    assert_eq!(bonus.validate(), Ok(()));

    let birthday = BirthdayConfig::default();
    assert_eq!(
        (birthday.lead_days, birthday.min_revenue_12m, birthday.value),
        (21, 50_000, 1000)
    );
    assert_eq!(birthday.currency, "CHF");
    assert_eq!(birthday.validity_days, 60);
    assert_eq!(birthday.validate(), Ok(()));
}

#[test]
fn configs_round_trip_through_json_and_refuse_unknown_keys() {
    let bonus = BonusConfig::default();
    let json = serde_json::to_string(&bonus).unwrap();
    assert_eq!(serde_json::from_str::<BonusConfig>(&json).unwrap(), bonus);
    let birthday = BirthdayConfig::default();
    let json = serde_json::to_string(&birthday).unwrap();
    assert_eq!(
        serde_json::from_str::<BirthdayConfig>(&json).unwrap(),
        birthday
    );
    let mut value = serde_json::to_value(&bonus).unwrap();
    value["treshold_points"] = serde_json::json!(1);
    assert!(serde_json::from_value::<BonusConfig>(value).is_err());
}

#[test]
fn conversion_below_threshold_gives_nothing() {
    let cfg = BonusConfig::default();
    assert_eq!(bonus_conversion(&cfg, 499), None);
    assert_eq!(bonus_conversion(&cfg, 0), None);
    assert_eq!(bonus_conversion(&cfg, -1_000), None);
    assert_eq!(bonus_conversion(&cfg, i64::MIN), None);
}

#[test]
fn conversion_at_exactly_the_threshold() {
    assert_eq!(
        bonus_conversion(&BonusConfig::default(), 500),
        Some((1000, 500))
    );
    assert_eq!(bonus_conversion(&keep_remainder(), 500), Some((1000, 500)));
}

#[test]
fn reset_to_zero_converts_the_whole_balance() {
    let cfg = BonusConfig::default();
    assert_eq!(bonus_conversion(&cfg, 999), Some((1000, 999)));
    assert_eq!(bonus_conversion(&cfg, 1000), Some((2000, 1000)));
    assert_eq!(bonus_conversion(&cfg, 1_234), Some((2000, 1_234)));
}

#[test]
fn without_reset_only_whole_steps_are_converted() {
    let cfg = keep_remainder();
    assert_eq!(bonus_conversion(&cfg, 999), Some((1000, 500)));
    assert_eq!(bonus_conversion(&cfg, 1_234), Some((2000, 1000)));
    assert_eq!(bonus_conversion(&cfg, 1_500), Some((3000, 1_500)));
}

#[test]
fn threshold_above_or_below_one_step() {
    let high = BonusConfig {
        threshold_points: 2_000,
        ..BonusConfig::default()
    };
    assert_eq!(bonus_conversion(&high, 1_999), None);
    assert_eq!(bonus_conversion(&high, 2_000), Some((4000, 2_000)));

    let low = BonusConfig {
        threshold_points: 100,
        ..keep_remainder()
    };
    assert_eq!(
        bonus_conversion(&low, 300),
        None,
        "no voucher worth nothing"
    );
    assert_eq!(bonus_conversion(&low, 700), Some((1000, 500)));
}

#[test]
fn huge_balances_do_not_overflow() {
    let cfg = BonusConfig::default();
    let steps = i64::MAX / 500;
    // value = steps × 1000 would overflow: convert only the steps whose value fits.
    let max_steps = i64::MAX / 1000;
    assert!(steps > max_steps);
    assert_eq!(
        bonus_conversion(&cfg, i64::MAX),
        Some((max_steps * 1000, max_steps * 500))
    );
    assert_eq!(
        bonus_conversion(&keep_remainder(), i64::MAX),
        Some((max_steps * 1000, max_steps * 500))
    );
    // A balance whose value still fits converts normally.
    let big = max_steps * 500;
    assert_eq!(bonus_conversion(&cfg, big), Some((max_steps * 1000, big)));
    let one_point_per_rappen = BonusConfig {
        threshold_points: 1,
        points_per_step: 1,
        value_per_step: 1,
        ..BonusConfig::default()
    };
    assert_eq!(
        bonus_conversion(&one_point_per_rappen, i64::MAX),
        Some((i64::MAX, i64::MAX))
    );
}

#[test]
fn unusable_configs_convert_nothing() {
    for cfg in [
        BonusConfig {
            points_per_step: 0,
            ..BonusConfig::default()
        },
        BonusConfig {
            points_per_step: -500,
            ..BonusConfig::default()
        },
        BonusConfig {
            value_per_step: 0,
            ..BonusConfig::default()
        },
        BonusConfig {
            value_per_step: -1,
            ..BonusConfig::default()
        },
    ] {
        assert_eq!(bonus_conversion(&cfg, 10_000), None, "{cfg:?}");
        assert!(cfg.validate().is_err());
    }
    let negative_threshold = BonusConfig {
        threshold_points: -5,
        ..BonusConfig::default()
    };
    assert_eq!(bonus_conversion(&negative_threshold, 0), None);
    assert_eq!(
        bonus_conversion(&negative_threshold, 500),
        Some((1000, 500))
    );
}

#[test]
fn voucher_values_are_bounded_like_every_voucher() {
    let bonus = BonusConfig {
        value_per_step: MAX_VOUCHER_VALUE + 1,
        ..BonusConfig::default()
    };
    assert_eq!(
        bonus.validate(),
        Err(vec![FieldError::new(
            "value_per_step",
            "must be 1 to 100000000 minor units"
        )])
    );
    let birthday = BirthdayConfig {
        value: MAX_VOUCHER_VALUE + 1,
        ..BirthdayConfig::default()
    };
    assert_eq!(
        birthday.validate(),
        Err(vec![FieldError::new(
            "value",
            "must be 1 to 100000000 minor units"
        )])
    );
    let most = BirthdayConfig {
        value: MAX_VOUCHER_VALUE,
        ..BirthdayConfig::default()
    };
    assert_eq!(most.validate(), Ok(()));
}

#[test]
fn config_validation_names_the_fields() {
    let bonus = BonusConfig {
        threshold_points: -1,
        points_per_step: 0,
        value_per_step: 0,
        currency: "chf".to_owned(),
        reset_to_zero: true,
        validity_days: 0,
    };
    let fields: Vec<String> = bonus
        .validate()
        .unwrap_err()
        .into_iter()
        .map(|e| e.field)
        .collect();
    assert_eq!(
        fields,
        [
            "threshold_points",
            "points_per_step",
            "value_per_step",
            "currency",
            "validity_days"
        ]
    );
    let birthday = BirthdayConfig {
        lead_days: -1,
        min_revenue_12m: -1,
        value: 0,
        currency: "EURO".to_owned(),
        validity_days: 3661,
    };
    let fields: Vec<String> = birthday
        .validate()
        .unwrap_err()
        .into_iter()
        .map(|e| e.field)
        .collect();
    assert_eq!(
        fields,
        [
            "lead_days",
            "min_revenue_12m",
            "value",
            "currency",
            "validity_days"
        ]
    );
}

#[test]
fn birthday_on_28_february_of_a_common_year_also_serves_29_february() {
    let (target, pairs) = birthday_targets(date(2027, 2, 7), 21);
    assert_eq!(target, date(2027, 2, 28));
    assert_eq!(pairs, vec![(2, 28), (2, 29)]);
    // 2027-03-01 serves only 1 March: the 29 February people were served the day before.
    let (target, pairs) = birthday_targets(date(2027, 2, 8), 21);
    assert_eq!(target, date(2027, 3, 1));
    assert_eq!(pairs, vec![(3, 1)]);
}

#[test]
fn in_a_leap_year_28_and_29_february_are_separate_days() {
    let (target, pairs) = birthday_targets(date(2028, 2, 8), 21);
    assert_eq!(target, date(2028, 2, 29));
    assert_eq!(pairs, vec![(2, 29)]);
    let (target, pairs) = birthday_targets(date(2028, 2, 7), 21);
    assert_eq!(target, date(2028, 2, 28));
    assert_eq!(pairs, vec![(2, 28)]);
}

#[test]
fn century_years_follow_the_gregorian_rule() {
    // 2100 is not a leap year, 2000 was.
    assert_eq!(
        birthday_targets(date(2100, 2, 28), 0).1,
        vec![(2, 28), (2, 29)]
    );
    assert_eq!(birthday_targets(date(2000, 2, 28), 0).1, vec![(2, 28)]);
}

#[test]
fn ordinary_targets_and_year_boundaries() {
    assert_eq!(
        birthday_targets(date(2026, 12, 20), 21),
        (date(2027, 1, 10), vec![(1, 10)])
    );
    assert_eq!(
        birthday_targets(date(2026, 6, 1), 0),
        (date(2026, 6, 1), vec![(6, 1)])
    );
    assert_eq!(
        birthday_targets(date(2026, 6, 22), -21),
        (date(2026, 6, 1), vec![(6, 1)])
    );
}

#[test]
fn absurd_leads_saturate() {
    assert_eq!(
        birthday_targets(date(2026, 1, 1), i64::MAX).0,
        NaiveDate::MAX
    );
    assert_eq!(
        birthday_targets(date(2026, 1, 1), i64::MIN).0,
        NaiveDate::MIN
    );
}

#[test]
fn every_birthday_is_served_exactly_once_a_year_by_daily_runs() {
    // The runs whose targets fall in one year serve every (month, day) of the leap calendar
    // exactly once, also in common years.
    for year in [2027, 2028] {
        let mut served = std::collections::BTreeMap::new();
        let mut day = date(year, 1, 1) - Days::new(21);
        loop {
            let (target, pairs) = birthday_targets(day, 21);
            if target.year() > year {
                break;
            }
            for pair in pairs {
                *served.entry(pair).or_insert(0) += 1;
            }
            day = day.succ_opt().unwrap();
        }
        assert_eq!(served.len(), 366, "{year}");
        assert!(served.values().all(|&n| n == 1), "{year}");
    }
}

#[test]
fn periods_parse_to_their_first_day() {
    assert_eq!(parse_period("2026-03"), Ok(date(2026, 3, 1)));
    assert_eq!(parse_period(" 2026-12 "), Ok(date(2026, 12, 1)));
    assert_eq!(parse_period("2000-01"), Ok(date(2000, 1, 1)));
    assert_eq!(parse_period("2100-12"), Ok(date(2100, 12, 1)));
}

#[test]
fn bad_periods_are_refused_with_a_message() {
    for bad in [
        "",
        "2026",
        "2026-3",
        "2026-003",
        "26-03",
        "2026/03",
        "2026-03-01",
        "März 2026",
        "2026-0a",
        "+202-03",
        "2026-+3",
        "２０２６-03",
        "-2026-03",
        "2026--3",
        "2026-03 x",
    ] {
        let err = parse_period(bad).unwrap_err();
        assert!(err.contains("YYYY-MM"), "{bad:?}: {err}");
    }
    assert_eq!(
        parse_period("2026-00").unwrap_err(),
        "the month must be between 01 and 12"
    );
    assert_eq!(
        parse_period("2026-13").unwrap_err(),
        "the month must be between 01 and 12"
    );
    assert_eq!(
        parse_period("1999-12").unwrap_err(),
        "the year must be between 2000 and 2100"
    );
    assert_eq!(
        parse_period("2101-01").unwrap_err(),
        "the year must be between 2000 and 2100"
    );
}

proptest! {
    #[test]
    fn conversion_never_exceeds_the_balance(
        balance in any::<i64>(),
        threshold in -10i64..=5_000,
        step in -10i64..=5_000,
        value in -10i64..=100_000,
        reset in any::<bool>(),
    ) {
        let cfg = BonusConfig {
            threshold_points: threshold,
            points_per_step: step,
            value_per_step: value,
            reset_to_zero: reset,
            ..BonusConfig::default()
        };
        if let Some((voucher, converted)) = bonus_conversion(&cfg, balance) {
            prop_assert!(balance > 0 && balance >= threshold);
            prop_assert!(voucher > 0);
            prop_assert!(converted > 0 && converted <= balance);
            prop_assert_eq!(voucher % value, 0);
            if !reset {
                prop_assert_eq!(converted % step, 0);
                prop_assert!(balance - converted < step || voucher > i64::MAX - value);
            }
        }
    }

    #[test]
    fn periods_never_panic(s in "\\PC{0,12}") {
        let _ = parse_period(&s);
    }

    #[test]
    fn birthday_targets_never_panic(days in any::<i32>(), lead in any::<i64>()) {
        let run = NaiveDate::from_num_days_from_ce_opt(days).unwrap_or(NaiveDate::MIN);
        let (_, pairs) = birthday_targets(run, lead);
        prop_assert!(!pairs.is_empty() && pairs.len() <= 2);
    }
}
