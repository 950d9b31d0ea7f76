use serde_json::{Value, json};

use super::*;
use crate::attributes::{AttrType, AttributeDefinition};

fn defs() -> Vec<AttributeDefinition> {
    vec![
        AttributeDefinition {
            name: "branche".into(),
            label: None,
            attr_type: AttrType::Enum,
            allowed_values: vec!["Architektur".into(), "Schule".into(), "Bank".into()],
            required: false,
        },
        AttributeDefinition {
            name: "mitarbeitende".into(),
            label: None,
            attr_type: AttrType::Integer,
            allowed_values: vec![],
            required: false,
        },
    ]
}

fn ok(v: Value) -> Segment {
    let d = defs();
    parse(&v, "definition", Context { attributes: &d }).unwrap_or_else(|e| panic!("{v}: {e:?}"))
}

fn errs(v: Value) -> Vec<String> {
    let d = defs();
    parse(&v, "definition", Context { attributes: &d })
        .expect_err("should be refused")
        .into_iter()
        .map(|e| e.field)
        .collect()
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

pub fn seed_1() -> Value {
    json!({"and": [
        {"purchases": {"metric": "receipts", "store": "ZH01", "op": "gte", "value": 1}},
        {"purchases": {"metric": "revenue", "window": {"last_months": 12}, "op": "gte", "value": 100000}},
        {"last_purchase": {"op": "before", "days": 60}}
    ]})
}

#[test]
fn the_three_seed_examples_parse() {
    let s = ok(seed_1());
    assert_eq!(s.conditions().len(), 3);
    let s2 = ok(json!({"and": [
        {"purchases": {"metric": "online_share", "window": {"last_months": 12}, "op": "gte", "value": 500}},
        {"purchases": {"metric": "average_basket", "window": {"last_months": 12}, "op": "gte", "value": 8000}},
        {"field": "gender", "op": "eq", "value": "female"},
        {"bought": {"category": "Papier", "min_times": 2}}
    ]}));
    assert!(matches!(
        s2.conditions()[3],
        Condition::Bought(Bought {
            min_times: 2,
            negate: false,
            ..
        })
    ));
    let s3 = ok(json!({"and": [
        {"bought": {"category": "Möbel", "window": {"from": "2025-01-01", "to": "2025-12-31"}}},
        {"bought": {"category": "Möbel", "window": {"last_months": 3}, "negate": true}},
        {"purchases": {"metric": "receipts", "op": "lte", "value": 3}},
        {"purchases": {"metric": "revenue", "op": "gte", "value": 150000}}
    ]}));
    assert_eq!(s3.conditions().len(), 4);
}

#[test]
fn groups_nest_and_leaves_take_every_kind() {
    let s = ok(json!({"or": [
        {"not": {"field": "gender", "op": "in", "value": ["male", "diverse"]}},
        {"and": [
            {"attribute": "branche", "op": "in", "value": ["Architektur", "Schule"]},
            {"attribute": "mitarbeitende", "op": "gte", "value": 10},
            {"consent": {"channel": "email", "status": "granted"}},
            {"postal_status": "ok"},
            {"loyalty": {"metric": "balance", "op": "gte", "value": 500}},
            {"score": {"metric": "rfm", "op": "in", "value": ["545", "555"]}},
            {"score": {"metric": "clv_predicted", "op": "gt", "value": 10000}},
            {"last_purchase": {"op": "within", "days": 30}},
            {"field": "age", "op": "gte", "value": 30},
            {"field": "postcode", "op": "eq", "value": "8001"}
        ]}
    ]}));
    let Segment::Or(items) = &s else {
        panic!("{s:?}")
    };
    assert!(matches!(items[0], Segment::Not(_)));
    assert_eq!(s.conditions().len(), 11);
}

#[test]
fn errors_name_the_bad_node() {
    assert_eq!(
        errs(json!({"and": [
            {"field": "gender", "op": "eq", "value": "female"},
            {"purchases": {"metric": "revenue", "op": "bigger", "value": 1}}
        ]})),
        vec!["definition.and[1].purchases.op"]
    );
    assert_eq!(
        errs(json!({"or": [{"not": {"field": "shoe_size", "op": "eq", "value": "42"}}]})),
        vec!["definition.or[0].not.field"]
    );
    assert_eq!(
        errs(json!({"attribute": "hobby", "op": "eq", "value": "x"})),
        vec!["definition.attribute"]
    );
    assert_eq!(
        errs(json!({"attribute": "branche", "op": "eq", "value": "Zoo"})),
        vec!["definition.value"]
    );
    assert_eq!(
        errs(json!({"attribute": "branche", "op": "gt", "value": "Bank"})),
        vec!["definition.op"]
    );
    assert_eq!(
        errs(json!({"and": [{"field": "gender", "op": "in", "value": ["female", "alien"]}]})),
        vec!["definition.and[0].value[1]"]
    );
    assert_eq!(
        errs(
            json!({"purchases": {"metric": "revenue", "window": {"last_weeks": 3}, "op": "gte", "value": 1}})
        ),
        vec!["definition.purchases.window"]
    );
    assert_eq!(
        errs(
            json!({"purchases": {"metric": "revenue", "window": {"from": "2025-12-01", "to": "2025-01-01"}, "op": "gte", "value": 1}})
        ),
        vec!["definition.purchases.window.to"]
    );
    assert_eq!(
        errs(json!({"purchases": {"metric": "revenue", "op": "gte", "value": "a lot"}})),
        vec!["definition.purchases.value"]
    );
    assert_eq!(
        errs(json!({"bought": {"category": "Papier", "sku": "1"}})),
        vec!["definition.bought"]
    );
    assert_eq!(
        errs(json!({"bought": {"category": "Papier", "colour": "red"}})),
        vec!["definition.bought.colour"]
    );
    assert_eq!(
        errs(json!({"consent": {"channel": "pigeon"}})),
        vec!["definition.consent.channel"]
    );
    assert_eq!(
        errs(json!({"score": {"metric": "rfm", "op": "eq", "value": "565"}})),
        vec!["definition.score.value"]
    );
    assert_eq!(errs(json!({"and": []})), vec!["definition.and"]);
    assert_eq!(errs(json!([1, 2])), vec!["definition"]);
    assert_eq!(errs(json!({"xor": []})), vec!["definition"]);
    // Several errors at once, each with its own path.
    assert_eq!(
        errs(json!({"and": [
            {"postal_status": "lost"},
            {"loyalty": {"metric": "karma", "op": "gte", "value": 1}},
            {"last_purchase": {"op": "within", "days": 0}}
        ]})),
        vec![
            "definition.and[0].postal_status",
            "definition.and[1].loyalty.metric",
            "definition.and[2].last_purchase.days"
        ]
    );
}

#[test]
fn a_share_of_all_purchases_names_the_narrowing_key_it_was_given() {
    // Issue 18 item 7: a store used to be reported as a wrong channel.
    assert_eq!(
        errs(
            json!({"not": {"purchases": {"metric": "online_share", "store": "ZH01", "op": "gte", "value": 500}}})
        ),
        vec!["definition.not.purchases.store"]
    );
    assert_eq!(
        errs(
            json!({"purchases": {"metric": "online_share", "channel": "online", "op": "gte", "value": 500}})
        ),
        vec!["definition.purchases.channel"]
    );
    assert_eq!(
        errs(
            json!({"purchases": {"metric": "online_share", "store": "ZH01", "channel": "store", "op": "gte", "value": 500}})
        ),
        vec!["definition.purchases.store", "definition.purchases.channel"]
    );
}

#[test]
fn deep_or_huge_definitions_are_refused_without_overflowing_the_stack() {
    let mut v = json!({"postal_status": "ok"});
    for _ in 0..100 {
        v = json!({ "not": v });
    }
    let e = errs(v);
    assert_eq!(e.len(), 1);
    assert!(e[0].starts_with("definition.not.not"), "{e:?}");
    let many: Vec<Value> = (0..MAX_NODES + 5)
        .map(|_| json!({"postal_status": "ok"}))
        .collect();
    let e = errs(json!({ "or": many }));
    assert_eq!(e, vec![format!("definition.or[{}]", MAX_NODES - 1)]);
    // Just inside both limits is fine.
    let mut v = json!({"postal_status": "ok"});
    for _ in 1..MAX_DEPTH {
        v = json!({ "not": v });
    }
    ok(v);
}

#[test]
fn windows_resolve_against_as_of() {
    let as_of = d("2026-11-25");
    let s = Window::LastMonths(12).resolve(as_of);
    assert_eq!(
        (s.from, s.to, s.whole_months),
        (Some(d("2025-12-01")), as_of, true)
    );
    assert_eq!(s.months(), (Some("2025-12".into()), "2026-11".into()));
    let s = Window::LastDays(60).resolve(as_of);
    assert_eq!((s.from, s.whole_months), (Some(d("2026-09-27")), false));
    let s = Window::Range {
        from: Some(d("2025-01-01")),
        to: Some(d("2025-12-31")),
    }
    .resolve(as_of);
    assert!(s.whole_months);
    let s = Window::Range {
        from: Some(d("2025-01-15")),
        to: Some(d("2025-12-31")),
    }
    .resolve(as_of);
    assert!(!s.whole_months);
    let s = Window::Range {
        from: Some(d("2026-01-01")),
        to: Some(d("2027-12-31")),
    }
    .resolve(as_of);
    assert_eq!((s.to, s.whole_months), (as_of, true));
}

#[test]
fn ages_count_29_february_as_28_february() {
    assert_eq!(born_by(d("2026-11-25"), 30), Some(d("1996-11-25")));
    assert_eq!(born_by(d("2026-02-28"), 26), Some(d("2000-02-29")));
    assert_eq!(born_by(d("2028-02-28"), 28), Some(d("2000-02-28")));
    assert_eq!(born_by(d("2026-03-01"), 26), Some(d("2000-03-01")));
}

#[test]
fn comparisons() {
    assert!(Cmp::Gte.test(5, 5));
    assert!(!Cmp::Gt.test(5, 5));
    assert!(Cmp::Ne.test(4, 5));
    assert!(
        Comparison {
            cmp: Cmp::Lte,
            value: 3
        }
        .test(3)
    );
}

#[test]
fn month_numbers_count_across_year_ends() {
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    assert_eq!(month_number(d(2025, 3, 31)), 202503);
    assert_eq!(month_number_key(202503), month_key(d(2025, 3, 31)));
    assert_eq!(
        month_numbers_between(202411, 202502),
        vec![202411, 202412, 202501, 202502]
    );
    assert_eq!(month_numbers_between(202505, 202505), vec![202505]);
    assert!(month_numbers_between(202506, 202505).is_empty());
    let span = Window::LastMonths(3).resolve(d(2026, 1, 15));
    assert_eq!(span.month_numbers(), (Some(202511), 202601));
}

#[test]
fn only_asks_whether_any_tells_none_or_some_from_counting() {
    let c = |cmp, value| Comparison { cmp, value };
    // (comparison, whether only none or some matters); the last three are always or never
    // true for a count that is never negative.
    let cases = [
        (c(Cmp::Gte, 1), true),
        (c(Cmp::Gt, 0), true),
        (c(Cmp::Lt, 1), true),
        (c(Cmp::Lte, 0), true),
        (c(Cmp::Eq, 0), true),
        (c(Cmp::Ne, 0), true),
        (c(Cmp::Gte, 2), false),
        (c(Cmp::Gt, 1), false),
        (c(Cmp::Lt, 2), false),
        (c(Cmp::Lte, 1), false),
        (c(Cmp::Eq, 1), false),
        (c(Cmp::Ne, 3), false),
        (c(Cmp::Gte, 0), true),
        (c(Cmp::Lt, 0), true),
        (c(Cmp::Eq, -1), true),
    ];
    for (comparison, whether) in cases {
        assert_eq!(
            comparison.only_asks_whether_any(),
            whether,
            "{comparison:?}"
        );
    }
}
