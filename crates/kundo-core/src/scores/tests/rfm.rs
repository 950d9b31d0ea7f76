use proptest::prelude::*;

use crate::scores::{QuintileBreaks, RfmInput, quintile_breaks, rfm_scores, score_with};

fn input(customer_id: i64, recency_days: i64, frequency: i64, monetary: i64) -> RfmInput {
    RfmInput {
        customer_id,
        recency_days,
        frequency,
        monetary,
    }
}

fn codes(inputs: &[RfmInput]) -> Vec<String> {
    rfm_scores(inputs).iter().map(|s| s.code()).collect()
}

#[test]
fn five_distinct_customers_get_one_score_each() {
    let inputs = [
        input(1, 10, 12, 150_000),
        input(2, 400, 1, 2_000),
        input(3, 30, 6, 40_000),
        input(4, 200, 2, 9_000),
        input(5, 90, 4, 20_000),
    ];
    assert_eq!(codes(&inputs), ["555", "111", "444", "222", "333"]);
    let scores = rfm_scores(&inputs);
    assert_eq!(scores[0].customer_id, 1);
    assert_eq!(scores[4].customer_id, 5);
}

#[test]
fn breakpoints_are_nearest_rank_percentiles() {
    // Ten customers: ranks ⌈0.2·10⌉ = 2, 4, 6, 8.
    let inputs: Vec<RfmInput> = (1..=10).map(|i| input(i, i, i, i * 100)).collect();
    let breaks = quintile_breaks(&inputs).expect("not empty");
    assert_eq!(
        breaks,
        QuintileBreaks {
            // Recency is ranked worst (largest) first: 10, 9, 8, …
            recency: [9, 7, 5, 3],
            frequency: [2, 4, 6, 8],
            monetary: [200, 400, 600, 800],
        }
    );
    // Two customers per score in every dimension.
    assert_eq!(
        codes(&inputs),
        [
            "511", "511", "422", "422", "333", "333", "244", "244", "155", "155"
        ]
    );
    // Seven customers: ranks ⌈1.4⌉ = 2, ⌈2.8⌉ = 3, ⌈4.2⌉ = 5, ⌈5.6⌉ = 6.
    let seven: Vec<RfmInput> = (1..=7).map(|i| input(i, i, i, i)).collect();
    let breaks = quintile_breaks(&seven).expect("not empty");
    assert_eq!(breaks.frequency, [2, 3, 5, 6]);
    assert_eq!(breaks.recency, [6, 5, 3, 2]);
    // Recency is ranked from the other end, so its uneven buckets mirror frequency's.
    assert_eq!(
        codes(&seven),
        ["511", "411", "322", "333", "233", "144", "155"]
    );
}

#[test]
fn ties_get_equal_scores() {
    let inputs = [
        input(1, 5, 3, 1_000),
        input(2, 5, 3, 1_000),
        input(3, 5, 1, 500),
        input(4, 60, 1, 500),
        input(5, 60, 8, 9_999),
        input(6, 300, 1, 500),
    ];
    // n = 6: ranks 2, 3, 4, 5.
    // Recency worst first: 300 60 60 5 5 5 → breaks [60, 60, 5, 5].
    // Frequency ascending: 1 1 1 3 3 8 → breaks [1, 1, 3, 3].
    // Monetary ascending: 500 500 500 1000 1000 9999 → breaks [500, 500, 1000, 1000].
    // Half the customers share the best recency, so none of them beats the 60th and 80th
    // percentile: they all get 3, and 60 and 300 days both get 1.
    assert_eq!(codes(&inputs), ["333", "333", "311", "111", "155", "111"]);
}

#[test]
fn everyone_equal_scores_one() {
    let inputs: Vec<RfmInput> = (1..=20).map(|i| input(i, 30, 2, 5_000)).collect();
    assert!(codes(&inputs).iter().all(|c| c == "111"));
}

#[test]
fn a_single_customer_scores_111() {
    assert_eq!(codes(&[input(7, 3, 50, 1_000_000)]), ["111"]);
}

#[test]
fn no_customers_no_breaks() {
    assert_eq!(quintile_breaks(&[]), None);
    assert!(rfm_scores(&[]).is_empty());
}

#[test]
fn stored_breaks_score_new_customers() {
    let inputs: Vec<RfmInput> = (1..=10).map(|i| input(i, i, i, i * 100)).collect();
    let breaks = quintile_breaks(&inputs).expect("not empty");
    assert_eq!(score_with(&breaks, &input(99, 0, 1_000, 1)).code(), "551");
    assert_eq!(
        score_with(&breaks, &input(99, 10_000, 0, 1_000_000)).code(),
        "115"
    );
    assert_eq!(
        score_with(&breaks, &input(99, i64::MIN, i64::MAX, i64::MAX)).code(),
        "555"
    );
}

fn arbitrary_inputs() -> impl Strategy<Value = Vec<RfmInput>> {
    prop::collection::vec((0i64..800, 0i64..40, -5_000i64..500_000), 1..60).prop_map(|rows| {
        rows.into_iter()
            .enumerate()
            .map(|(i, (r, f, m))| input(i as i64, r, f, m))
            .collect()
    })
}

proptest! {
    #[test]
    fn scores_are_in_range_and_monotone(inputs in arbitrary_inputs()) {
        let scores = rfm_scores(&inputs);
        prop_assert_eq!(scores.len(), inputs.len());
        for s in &scores {
            prop_assert!((1..=5).contains(&s.r) && (1..=5).contains(&s.f) && (1..=5).contains(&s.m));
        }
        for (i, a) in inputs.iter().enumerate() {
            for (j, b) in inputs.iter().enumerate() {
                let (sa, sb) = (&scores[i], &scores[j]);
                if a.monetary > b.monetary { prop_assert!(sa.m >= sb.m); }
                if a.monetary == b.monetary { prop_assert_eq!(sa.m, sb.m); }
                if a.frequency > b.frequency { prop_assert!(sa.f >= sb.f); }
                if a.frequency == b.frequency { prop_assert_eq!(sa.f, sb.f); }
                if a.recency_days < b.recency_days { prop_assert!(sa.r >= sb.r); }
                if a.recency_days == b.recency_days { prop_assert_eq!(sa.r, sb.r); }
            }
        }
    }

    #[test]
    fn order_of_customers_does_not_matter(inputs in arbitrary_inputs()) {
        let mut reversed = inputs.clone();
        reversed.reverse();
        let forward = rfm_scores(&inputs);
        let mut backward = rfm_scores(&reversed);
        backward.reverse();
        prop_assert_eq!(forward, backward);
    }

    #[test]
    fn distinct_values_fill_the_top_and_bottom(n in 5usize..200) {
        // With all values distinct, the best customer scores 5 and the worst 1.
        let inputs: Vec<RfmInput> =
            (0..n as i64).map(|i| input(i, 1_000 - i, i, i * 10)).collect();
        let scores = rfm_scores(&inputs);
        prop_assert_eq!(scores[0].code(), "111");
        prop_assert_eq!(scores[n - 1].code(), "555");
    }
}
