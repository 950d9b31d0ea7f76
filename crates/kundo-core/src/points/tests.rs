use chrono::TimeZone;
use proptest::prelude::*;

use super::*;

fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).single().unwrap()
}

fn ctx<'a>(occurred_at: DateTime<Utc>, channel: &'a str, segments: &'a [i64]) -> ScoreContext<'a> {
    ScoreContext {
        occurred_at,
        store_code: Some("ZH01"),
        channel,
        segment_ids: segments,
    }
}

fn line(category: &str, amount: i64) -> ScoreLine<'_> {
    ScoreLine { category, amount }
}

fn promotion(name: &str, percent: i64) -> Promotion {
    Promotion {
        name: name.to_owned(),
        valid_from: at(2026, 3, 1, 0),
        valid_until: at(2026, 4, 1, 0),
        multiplier_percent: percent,
        store_codes: Vec::new(),
        channels: Vec::new(),
        categories: Vec::new(),
        segment_ids: Vec::new(),
    }
}

fn march() -> DateTime<Utc> {
    at(2026, 3, 15, 12)
}

fn points(rules: &PointsRules, c: &ScoreContext, lines: &[ScoreLine]) -> i64 {
    score(rules, c, lines).points
}

#[test]
fn defaults_are_one_point_per_franc_without_gift_cards_and_deposits() {
    let rules = PointsRules::default();
    assert_eq!(rules.minor_units_per_point, 100);
    assert_eq!(rules.excluded_categories, vec!["Geschenkkarten", "Pfand"]);
    assert!(rules.category_multipliers.is_empty());
    assert!(rules.promotions.is_empty());
    assert_eq!(rules.validate(), Ok(()));
}

#[test]
fn empty_json_gives_the_defaults_and_unknown_keys_are_refused() {
    let rules: PointsRules = serde_json::from_str("{}").unwrap();
    assert_eq!(rules, PointsRules::default());
    assert!(serde_json::from_str::<PointsRules>(r#"{"minor_units_per_pont": 5}"#).is_err());
    let mut with_promo = PointsRules::default();
    with_promo.promotions.push(promotion("März", 200));
    let json = serde_json::to_string(&with_promo).unwrap();
    assert_eq!(
        serde_json::from_str::<PointsRules>(&json).unwrap(),
        with_promo
    );
}

#[test]
fn rounds_down_once_per_receipt_not_per_line() {
    let rules = PointsRules::default();
    let c = ctx(march(), "store", &[]);
    let s = score(
        &rules,
        &c,
        &[line("Lebensmittel", 60), line("Lebensmittel", 60)],
    );
    assert_eq!(s.points, 1);
    assert_eq!(s.eligible_amount, 120);
    assert_eq!(s.line_weights, vec![60, 60]);
    assert_eq!(points(&rules, &c, &[line("Lebensmittel", 99)]), 0);
    assert_eq!(points(&rules, &c, &[line("Lebensmittel", 12_345)]), 123);
    assert_eq!(points(&rules, &c, &[]), 0);
}

#[test]
fn excluded_categories_earn_nothing_and_are_not_eligible() {
    let rules = PointsRules::default();
    let c = ctx(march(), "store", &[]);
    let s = score(
        &rules,
        &c,
        &[
            line("Lebensmittel", 1_000),
            line("Geschenkkarten", 5_000),
            line("  pfand ", 300),
        ],
    );
    assert_eq!(s.points, 10);
    assert_eq!(s.eligible_amount, 1_000);
    assert_eq!(s.line_weights, vec![1_000, 0, 0]);
}

#[test]
fn excluded_categories_stay_excluded_under_multipliers_and_promotions() {
    let mut rules = PointsRules::default();
    rules
        .category_multipliers
        .insert("Geschenkkarten".to_owned(), 300);
    let mut promo = promotion("Alles doppelt", 200);
    promo.categories = vec!["GESCHENKKARTEN".to_owned()];
    rules.promotions.push(promo);
    let c = ctx(march(), "store", &[]);
    assert_eq!(points(&rules, &c, &[line("Geschenkkarten", 10_000)]), 0);
}

#[test]
fn category_multipliers_apply_case_insensitively() {
    let mut rules = PointsRules::default();
    rules.category_multipliers.insert("Wein".to_owned(), 300);
    rules.category_multipliers.insert("Tabak".to_owned(), 0);
    let c = ctx(march(), "store", &[]);
    let s = score(
        &rules,
        &c,
        &[
            line(" wein ", 1_000),
            line("TABAK", 2_000),
            line("Brot", 550),
        ],
    );
    // 30 + 0 + 5.5 → 35 points, rounded once.
    assert_eq!(s.points, 35);
    assert_eq!(
        s.eligible_amount, 3_550,
        "multiplier 0 is still eligible revenue"
    );
    assert_eq!(s.line_weights, vec![3_000, 0, 550]);
}

#[test]
fn other_base_rates() {
    let rules = PointsRules {
        minor_units_per_point: 500,
        ..PointsRules::default()
    };
    let c = ctx(march(), "store", &[]);
    assert_eq!(points(&rules, &c, &[line("Brot", 2_499)]), 4);
    assert_eq!(points(&rules, &c, &[line("Brot", 2_500)]), 5);
}

#[test]
fn negative_amounts_count_as_zero() {
    let rules = PointsRules::default();
    let c = ctx(march(), "store", &[]);
    let s = score(&rules, &c, &[line("Brot", -5_000), line("Brot", 250)]);
    assert_eq!(s.points, 2);
    assert_eq!(s.eligible_amount, 250);
    assert_eq!(s.line_weights, vec![0, 250]);
}

#[test]
fn overlapping_promotions_best_wins_without_compounding() {
    let mut rules = PointsRules::default();
    rules.category_multipliers.insert("Wein".to_owned(), 200);
    rules.promotions.push(promotion("Doppelt", 200));
    rules.promotions.push(promotion("Dreifach", 300));
    rules.promotions.push(promotion("Anderthalb", 150));
    let c = ctx(march(), "store", &[]);
    // 300 %, not 200 × 300 × 150 %.
    assert_eq!(points(&rules, &c, &[line("Brot", 1_000)]), 30);
    // Category multiplier and the best promotion do multiply: 10 × 2 × 3.
    let s = score(&rules, &c, &[line("Wein", 1_000)]);
    assert_eq!(s.points, 60);
    assert_eq!(s.line_weights, vec![6_000]);
}

#[test]
fn the_highest_applicable_promotion_is_chosen_per_line() {
    let mut rules = PointsRules::default();
    let mut wine = promotion("Wein fünffach", 500);
    wine.categories = vec!["wein".to_owned()];
    rules.promotions.push(wine);
    rules.promotions.push(promotion("Doppelt", 200));
    let c = ctx(march(), "store", &[]);
    let s = score(&rules, &c, &[line("Wein", 1_000), line("Brot", 1_000)]);
    assert_eq!(s.line_weights, vec![5_000, 2_000]);
    assert_eq!(s.points, 70);
}

#[test]
fn promotion_time_bounds_from_inclusive_until_exclusive() {
    let mut rules = PointsRules::default();
    rules.promotions.push(promotion("März", 200));
    let buy = [line("Brot", 1_000)];
    let before = at(2026, 3, 1, 0) - chrono::TimeDelta::seconds(1);
    let start = at(2026, 3, 1, 0);
    let last = at(2026, 4, 1, 0) - chrono::TimeDelta::seconds(1);
    let end = at(2026, 4, 1, 0);
    assert_eq!(points(&rules, &ctx(before, "store", &[]), &buy), 10);
    assert_eq!(points(&rules, &ctx(start, "store", &[]), &buy), 20);
    assert_eq!(points(&rules, &ctx(last, "store", &[]), &buy), 20);
    assert_eq!(points(&rules, &ctx(end, "store", &[]), &buy), 10);
}

#[test]
fn promotion_filtered_by_channel() {
    let mut rules = PointsRules::default();
    let mut promo = promotion("Online im März", 200);
    promo.channels = vec!["online".to_owned()];
    rules.promotions.push(promo);
    let buy = [line("Brot", 1_000)];
    assert_eq!(points(&rules, &ctx(march(), "online", &[]), &buy), 20);
    assert_eq!(points(&rules, &ctx(march(), "Online", &[]), &buy), 20);
    assert_eq!(points(&rules, &ctx(march(), "store", &[]), &buy), 10);
}

#[test]
fn promotion_filtered_by_store() {
    let mut rules = PointsRules::default();
    let mut promo = promotion("Neueröffnung Bern", 300);
    promo.store_codes = vec!["BE02".to_owned(), "BE03".to_owned()];
    rules.promotions.push(promo);
    let buy = [line("Brot", 1_000)];
    let mut c = ctx(march(), "store", &[]);
    assert_eq!(points(&rules, &c, &buy), 10, "ZH01 is not in the list");
    c.store_code = Some("be03");
    assert_eq!(points(&rules, &c, &buy), 30);
    c.store_code = None;
    assert_eq!(points(&rules, &c, &buy), 10, "no store never matches");
}

#[test]
fn promotion_filtered_by_category() {
    let mut rules = PointsRules::default();
    let mut promo = promotion("Käsewochen", 400);
    promo.categories = vec!["Käse".to_owned()];
    rules.promotions.push(promo);
    let c = ctx(march(), "store", &[]);
    let s = score(&rules, &c, &[line("KÄSE", 1_000), line("Brot", 1_000)]);
    assert_eq!(s.line_weights, vec![4_000, 1_000]);
    assert_eq!(s.points, 50);
}

#[test]
fn promotion_filtered_by_segment() {
    let mut rules = PointsRules::default();
    let mut promo = promotion("Nur für Stammkunden", 200);
    promo.segment_ids = vec![7, 9];
    rules.promotions.push(promo);
    let buy = [line("Brot", 1_000)];
    assert_eq!(points(&rules, &ctx(march(), "store", &[]), &buy), 10);
    assert_eq!(points(&rules, &ctx(march(), "store", &[1, 2]), &buy), 10);
    assert_eq!(points(&rules, &ctx(march(), "store", &[1, 9]), &buy), 20);
}

#[test]
fn only_segments_that_could_change_the_points_are_tested() {
    let mut rules = PointsRules::default();
    let c = ctx(march(), "store", &[]);
    let buy = [line("Brot", 1_000), line("Pfand", 500)];
    assert!(
        segments_to_test(&rules, &c, &buy).is_empty(),
        "no promotion"
    );
    let mut members = promotion("Stammkunden", 200);
    members.segment_ids = vec![9, 7, 9];
    rules.promotions.push(members);
    assert_eq!(segments_to_test(&rules, &c, &buy), vec![7, 9]);
    // Not in force, another channel, or only on categories not bought: nothing to test.
    let april = at(2026, 4, 2, 0);
    assert!(segments_to_test(&rules, &ctx(april, "store", &[]), &buy).is_empty());
    assert_eq!(
        segments_to_test(&rules, &ctx(march(), "online", &[]), &buy),
        vec![7, 9]
    );
    rules.promotions[0].channels = vec!["online".to_owned()];
    assert!(segments_to_test(&rules, &c, &buy).is_empty(), "online only");
    rules.promotions[0].channels.clear();
    rules.promotions[0].categories = vec!["Wein".to_owned()];
    assert!(segments_to_test(&rules, &c, &buy).is_empty(), "not bought");
    rules.promotions[0].categories = vec!["pfand".to_owned()];
    assert!(segments_to_test(&rules, &c, &buy).is_empty(), "excluded");
    assert!(
        segments_to_test(&rules, &c, &[line("Brot", 1_000), line("Pfand", 0)]).is_empty(),
        "nothing paid"
    );
    rules.promotions[0].categories.clear();
    // An open promotion at least as good leaves nothing to win; a better one for members does.
    rules.promotions.push(promotion("Alle", 300));
    assert!(segments_to_test(&rules, &c, &buy).is_empty(), "beaten");
    rules.promotions[1].multiplier_percent = 150;
    assert_eq!(segments_to_test(&rules, &c, &buy), vec![7, 9]);
    // A reducing promotion for members matters where nothing else applies.
    let mut rules = PointsRules::default();
    let mut half = promotion("Halbe", 50);
    half.segment_ids = vec![4];
    rules.promotions.push(half);
    assert_eq!(segments_to_test(&rules, &c, &buy), vec![4]);
}

#[test]
fn a_segment_is_in_use_while_a_sale_could_still_get_its_promotion() {
    let with = |segment: i64, from: DateTime<Utc>, until: DateTime<Utc>| {
        let mut p = promotion("Stammkunden", 200);
        p.segment_ids = vec![segment];
        p.valid_from = from;
        p.valid_until = until;
        PointsRules {
            promotions: vec![p],
            ..PointsRules::default()
        }
    };
    let now = at(2026, 3, 15, 0);
    let names = |versions: &[(DateTime<Utc>, PointsRules)], segment: i64| -> usize {
        promotions_ahead_for_segment(versions, segment, now).len()
    };
    // In force now, or from later: in use; ended, or of another segment: not.
    let running = [(
        at(2026, 1, 1, 0),
        with(7, at(2026, 3, 1, 0), at(2026, 4, 1, 0)),
    )];
    assert_eq!(names(&running, 7), 1);
    assert_eq!(names(&running, 8), 0);
    let later = [(
        at(2026, 1, 1, 0),
        with(7, at(2026, 5, 1, 0), at(2026, 6, 1, 0)),
    )];
    assert_eq!(names(&later, 7), 1);
    let ended = [(
        at(2026, 1, 1, 0),
        with(7, at(2026, 2, 1, 0), at(2026, 3, 1, 0)),
    )];
    assert_eq!(names(&ended, 7), 0);
    // A version replaced before its promotion would start never reaches a sale from now on.
    let replaced = [
        (
            at(2026, 1, 1, 0),
            with(7, at(2026, 5, 1, 0), at(2026, 6, 1, 0)),
        ),
        (at(2026, 3, 10, 0), PointsRules::default()),
    ];
    assert_eq!(names(&replaced, 7), 0);
    // A version that takes over later brings its promotion with it.
    let coming = [
        (at(2026, 1, 1, 0), PointsRules::default()),
        (
            at(2026, 4, 1, 0),
            with(7, at(2026, 1, 1, 0), at(2026, 12, 1, 0)),
        ),
    ];
    assert_eq!(names(&coming, 7), 1);
}

#[test]
fn all_promotion_filters_must_hold_together() {
    let mut rules = PointsRules::default();
    let mut promo = promotion("Eng", 200);
    promo.channels = vec!["store".to_owned()];
    promo.store_codes = vec!["ZH01".to_owned()];
    promo.segment_ids = vec![3];
    rules.promotions.push(promo);
    let buy = [line("Brot", 1_000)];
    assert_eq!(points(&rules, &ctx(march(), "store", &[3]), &buy), 20);
    assert_eq!(points(&rules, &ctx(march(), "online", &[3]), &buy), 10);
    assert_eq!(points(&rules, &ctx(march(), "store", &[4]), &buy), 10);
}

#[test]
fn a_single_reducing_promotion_applies_as_specified() {
    let mut rules = PointsRules::default();
    rules.promotions.push(promotion("Halbe Punkte", 50));
    let c = ctx(march(), "store", &[]);
    assert_eq!(points(&rules, &c, &[line("Brot", 1_000)]), 5);
}

#[test]
fn large_amounts_do_not_overflow() {
    let mut rules = PointsRules::default();
    rules.category_multipliers.insert("Gold".to_owned(), 10_000);
    rules.promotions.push(promotion("Hundertfach", 10_000));
    let c = ctx(march(), "store", &[]);
    let s = score(
        &rules,
        &c,
        &[line("Gold", i64::MAX), line("Gold", i64::MAX)],
    );
    // Each line: MAX × 100 × 100 / 100 (per point) overflows i64 → saturates.
    assert_eq!(s.points, i64::MAX);
    assert_eq!(s.eligible_amount, i64::MAX);
    assert_eq!(s.line_weights, vec![i64::MAX, i64::MAX]);

    // Without multipliers, one big line is exact.
    let plain = PointsRules::default();
    let s = score(&plain, &c, &[line("Brot", i64::MAX)]);
    assert_eq!(s.points, i64::MAX / 100);
    assert_eq!(s.line_weights, vec![i64::MAX]);
}

#[test]
fn invalid_rules_do_not_panic() {
    let rules = PointsRules {
        minor_units_per_point: 0,
        category_multipliers: [("Brot".to_owned(), -500), ("Wein".to_owned(), i64::MAX)]
            .into_iter()
            .collect(),
        excluded_categories: Vec::new(),
        promotions: vec![promotion("Kaputt", i64::MAX)],
    };
    let c = ctx(march(), "store", &[]);
    let s = score(&rules, &c, &[line("Brot", 1_000), line("Wein", i64::MAX)]);
    assert_eq!(s.points, 0, "a zero base rate earns nothing");
    assert_eq!(s.line_weights, vec![0, i64::MAX]);
    let negative = PointsRules {
        minor_units_per_point: -100,
        ..PointsRules::default()
    };
    assert_eq!(points(&negative, &c, &[line("Brot", 1_000)]), 0);
}

#[test]
fn validate_reports_every_field() {
    let mut bad = promotion("  ", 10_001);
    bad.valid_until = bad.valid_from;
    bad.channels = vec!["online".to_owned(), "telefon".to_owned()];
    bad.store_codes = vec![String::new()];
    bad.categories = vec![" ".to_owned()];
    let rules = PointsRules {
        minor_units_per_point: 0,
        category_multipliers: [
            ("Wein".to_owned(), -1),
            ("wein".to_owned(), 200),
            (String::new(), 100),
        ]
        .into_iter()
        .collect(),
        excluded_categories: vec!["Pfand".to_owned(), String::new()],
        promotions: vec![promotion("ok", 200), bad],
    };
    let errors = rules.validate().unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    for expected in [
        "minor_units_per_point",
        "category_multipliers[\"Wein\"]",
        "category_multipliers[\"wein\"]",
        "category_multipliers[\"\"]",
        "excluded_categories[1]",
        "promotions[1].name",
        "promotions[1].valid_until",
        "promotions[1].multiplier_percent",
        "promotions[1].channels[1]",
        "promotions[1].store_codes[0]",
        "promotions[1].categories[0]",
    ] {
        assert!(
            fields.contains(&expected),
            "{expected} missing in {fields:?}"
        );
    }
    assert!(!fields.iter().any(|f| f.starts_with("promotions[0]")));
    assert!(!fields.contains(&"promotions[1].channels[0]"));
}

#[test]
fn validate_accepts_the_bounds() {
    let mut promo = promotion("Grenzen", 0);
    promo.channels = vec!["store".to_owned(), "online".to_owned()];
    let mut rules = PointsRules {
        minor_units_per_point: 1_000_000,
        ..PointsRules::default()
    };
    rules.category_multipliers.insert("A".to_owned(), 0);
    rules.category_multipliers.insert("B".to_owned(), 10_000);
    rules.promotions.push(promo);
    assert_eq!(rules.validate(), Ok(()));
    rules.minor_units_per_point = 1;
    assert_eq!(rules.validate(), Ok(()));
    rules.minor_units_per_point = 1_000_001;
    assert!(rules.validate().is_err());
}

#[test]
fn partial_then_full_return_reverses_exactly_the_earned_points() {
    let rules = PointsRules::default();
    let c = ctx(march(), "store", &[]);
    let s = score(
        &rules,
        &c,
        &[line("Brot", 333), line("Wein", 333), line("Käse", 334)],
    );
    assert_eq!(s.points, 10);
    let total: i64 = s.line_weights.iter().sum();
    let first = points_to_reverse(s.points, total, 0, 333);
    let second = points_to_reverse(s.points, total, 333, 333);
    let rest = points_to_reverse(s.points, total, 666, 334);
    assert_eq!((first, second, rest), (3, 3, 4));
    assert_eq!(first + second + rest, s.points);
    assert_eq!(points_to_reverse(s.points, total, 0, total), s.points);
}

#[test]
fn reversal_edge_cases() {
    assert_eq!(points_to_reverse(10, 0, 0, 5), 0);
    assert_eq!(points_to_reverse(10, -5, 0, 5), 0);
    assert_eq!(points_to_reverse(0, 100, 0, 100), 0);
    assert_eq!(points_to_reverse(-10, 100, 0, 100), 0);
    assert_eq!(
        points_to_reverse(10, 100, 0, 1_000),
        10,
        "over-return clamps"
    );
    assert_eq!(
        points_to_reverse(10, 100, 100, 50),
        0,
        "already fully returned"
    );
    assert_eq!(points_to_reverse(10, 100, 200, 50), 0);
    assert_eq!(points_to_reverse(10, 100, 50, -20), 0);
    assert_eq!(points_to_reverse(10, 100, -50, 50), 5);
    assert_eq!(points_to_reverse(i64::MAX, i64::MAX, 0, i64::MAX), i64::MAX);
    assert_eq!(points_to_reverse(i64::MAX, i64::MAX, i64::MAX, i64::MAX), 0);
    assert_eq!(
        points_to_reverse(i64::MAX, i64::MAX, i64::MAX - 1, i64::MAX),
        1
    );
}

proptest! {
    #[test]
    fn partial_returns_never_reverse_more_than_earned(
        earned in 0i64..=1_000_000_000_000,
        parts in proptest::collection::vec(0i64..=1_000_000_000, 1..12),
        return_everything in any::<bool>(),
        extra in 0i64..=1_000,
    ) {
        let total: i64 = parts.iter().sum::<i64>() + extra;
        let mut before = 0i64;
        let mut reversed = 0i64;
        // Return all parts but the extra (partial), then optionally the rest.
        for part in &parts {
            let r = points_to_reverse(earned, total, before, *part);
            prop_assert!(r >= 0);
            reversed += r;
            before += part;
            prop_assert!(reversed <= earned);
        }
        if return_everything {
            reversed += points_to_reverse(earned, total, before, extra);
            if total > 0 {
                prop_assert_eq!(reversed, earned);
            } else {
                prop_assert_eq!(reversed, 0);
            }
        }
        prop_assert!(reversed <= earned);
    }

    #[test]
    fn scoring_never_panics_and_weights_match_points(
        amounts in proptest::collection::vec(any::<i64>(), 0..8),
        percent in -100i64..=20_000,
        base in -10i64..=2_000_000,
    ) {
        let mut rules = PointsRules {
            minor_units_per_point: base,
            ..PointsRules::default()
        };
        rules.category_multipliers.insert("Wein".to_owned(), percent);
        rules.promotions.push(promotion("P", percent));
        let c = ctx(march(), "store", &[]);
        let lines: Vec<ScoreLine> = amounts
            .iter()
            .enumerate()
            .map(|(i, &a)| line(if i % 2 == 0 { "Wein" } else { "Pfand" }, a))
            .collect();
        let s = score(&rules, &c, &lines);
        prop_assert_eq!(s.line_weights.len(), lines.len());
        prop_assert!(s.points >= 0);
        prop_assert!(s.eligible_amount >= 0);
        prop_assert!(s.line_weights.iter().all(|&w| w >= 0));
    }

    #[test]
    fn the_segments_left_untested_never_change_the_points(
        promos in proptest::collection::vec(
            (0i64..=400, proptest::collection::vec(1i64..=4, 0..3), 0usize..3, any::<bool>()),
            0..5,
        ),
        amounts in proptest::collection::vec((0usize..3, 0i64..=10_000), 1..5),
        customer_in in proptest::collection::vec(1i64..=4, 0..4),
    ) {
        const CATS: [&str; 3] = ["Brot", "Wein", "Pfand"];
        let mut rules = PointsRules::default();
        rules.category_multipliers.insert("Wein".to_owned(), 200);
        for (i, (percent, segments, cat, everything)) in promos.iter().enumerate() {
            let mut p = promotion(&format!("P{i}"), *percent);
            p.segment_ids = segments.clone();
            if !everything {
                p.categories = vec![CATS[*cat].to_owned()];
            }
            rules.promotions.push(p);
        }
        let lines: Vec<ScoreLine> = amounts.iter().map(|(c, a)| line(CATS[*c], *a)).collect();
        let tested = segments_to_test(&rules, &ctx(march(), "store", &[]), &lines);
        let known: Vec<i64> = customer_in.iter().copied().filter(|s| tested.contains(s)).collect();
        prop_assert_eq!(
            score(&rules, &ctx(march(), "store", &customer_in), &lines),
            score(&rules, &ctx(march(), "store", &known), &lines)
        );
    }

    #[test]
    fn splitting_a_line_never_loses_points(
        a in 0i64..=10_000_000,
        b in 0i64..=10_000_000,
    ) {
        let rules = PointsRules::default();
        let c = ctx(march(), "store", &[]);
        let split = points(&rules, &c, &[line("Brot", a), line("Brot", b)]);
        let joined = points(&rules, &c, &[line("Brot", a + b)]);
        prop_assert_eq!(split, joined);
    }
}
