//! Unit tests for the duplicate rules.

use chrono::NaiveDate;
use proptest::prelude::*;

use super::*;
use crate::customer::{Address, CustomerData, Kind, Phone};

fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// A person record through `CustomerData`, as the store builds it. Empty strings mean "not given".
#[allow(clippy::too_many_arguments)]
fn person(
    first: &str,
    last: &str,
    birth: &str,
    email: &str,
    phone: &str,
    street: &str,
    house: &str,
    postcode: &str,
    city: &str,
) -> DedupRecord {
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
    let data = CustomerData {
        kind: Kind::Person,
        first_name: opt(first),
        last_name: opt(last),
        birth_date: date(birth),
        email: opt(email),
        phones: opt(phone)
            .map(|n| Phone {
                kind: "mobile".into(),
                number: n,
            })
            .into_iter()
            .collect(),
        addresses: vec![Address {
            kind: "main".into(),
            street: street.into(),
            house_number: opt(house),
            address_line2: None,
            postcode: postcode.into(),
            city: city.into(),
            country: "CH".into(),
        }],
        ..Default::default()
    };
    DedupRecord::from_data(&data)
}

fn anna() -> DedupRecord {
    person(
        "Anna",
        "Müller",
        "1980-02-29",
        "anna.mueller@example.ch",
        "+41791234567",
        "Bahnhofstrasse",
        "12a",
        "8001",
        "Zürich",
    )
}

fn likely(a: &DedupRecord, b: &DedupRecord) -> bool {
    compare(a, b).score >= DEFAULT_THRESHOLD
}

// --- Kölner Phonetik ---------------------------------------------------------------------------

#[test]
fn koelner_phonetik_reference_values() {
    for (name, code) in [
        ("Müller-Lüdenscheidt", "65752682"),
        ("Wikipedia", "3412"),
        ("Breschnew", "17863"),
        ("Xanthippe", "48621"),
        ("deutsch", "28"),
        ("Meier", "67"),
        ("Maier", "67"),
        ("Mair", "67"),
        ("Meyer", "67"),
        ("Meyr", "67"),
        ("Mejer", "67"),
        ("Müller", "657"),
        ("Mueller", "657"),
        ("Muller", "657"),
        ("MÜLLER", "657"),
        ("", ""),
        ("  -- ", ""),
        ("日本語", ""),
    ] {
        assert_eq!(koelner_phonetik(name), code, "{name}");
    }
}

#[test]
fn koelner_phonetik_context_rules() {
    // C at the start before A is hard, after S soft; PH sounds like F; D before S like Z.
    assert_eq!(koelner_phonetik("Carl"), koelner_phonetik("Karl"));
    assert_eq!(koelner_phonetik("Philipp"), koelner_phonetik("Filip"));
    assert_eq!(koelner_phonetik("Schmidt"), koelner_phonetik("Schmitt"));
    assert_eq!(
        koelner_phonetik("Hans-Peter"),
        koelner_phonetik("Hans Peter")
    );
    assert_ne!(koelner_phonetik("Meier"), koelner_phonetik("Huber"));
}

// --- normalizers -------------------------------------------------------------------------------

#[test]
fn streets_are_keyed_whatever_the_spelling() {
    for s in [
        "Bahnhofstraße",
        "Bahnhofstrasse",
        "Bahnhofstr.",
        "Bahnhofstr",
        "Bahnhof Strasse",
        "Bahnhof-Straße",
        "BAHNHOFSTRASSE",
        " bahnhof  str. ",
    ] {
        assert_eq!(normalize_street(s), "bahnhofstr", "{s}");
    }
    assert_eq!(normalize_street("Lange Straße"), "langestr");
    assert_eq!(normalize_street("Lange Str."), "langestr");
    assert_eq!(normalize_street("Marktplatz"), "marktpl");
    assert_eq!(normalize_street("Marktpl."), "marktpl");
    assert_eq!(normalize_street("Südtiroler Platz"), "suedtirolerpl");
    assert_eq!(
        normalize_street("Rämistrasse"),
        normalize_street("Raemistr.")
    );
    assert_eq!(normalize_street("Rennweg"), normalize_street("Renn-Weg"));
    assert_eq!(normalize_street("Straße der Nationen"), "strdernationen");
    assert_eq!(
        normalize_street("Avenue de la Gare"),
        normalize_street("Av. de la Gare")
    );
    assert_ne!(
        normalize_street("Bahnhofstrasse"),
        normalize_street("Bahnhofplatz")
    );
    assert_eq!(normalize_street(""), "");
}

#[test]
fn house_numbers_are_keyed_whatever_the_suffix_style() {
    for s in ["12a", "12 a", "12A", "12-a", " 12 A ", "012a"] {
        assert_eq!(normalize_house_number(s), "12a", "{s}");
    }
    assert_eq!(normalize_house_number("12/1"), "12/1");
    assert_eq!(normalize_house_number("12 / 01"), "12/1");
    assert_eq!(normalize_house_number("12-14"), "12-14");
    assert_eq!(normalize_house_number("0"), "0");
    assert_eq!(normalize_house_number("007"), "7");
    assert_eq!(normalize_house_number(""), "");
}

#[test]
fn addresses_keep_postcodes_as_they_are() {
    let a = DedupAddress::new("Prager Straße", Some("3 b"), " 01067 ", "Dresden", "de");
    assert_eq!(a.postcode, "01067");
    assert_eq!(a.street, "pragerstr");
    assert_eq!(a.house_number.as_deref(), Some("3b"));
    assert_eq!(a.city, "dresden");
    assert_eq!(a.country, "DE");
    let b = DedupAddress::new("Prager Str.", Some("3B"), "01067", "DRESDEN", "DE");
    assert_eq!(a, b);
    assert_ne!(
        a,
        DedupAddress::new("Prager Str.", Some("3B"), "1067", "Dresden", "DE")
    );
    assert_eq!(
        DedupAddress::new("Gasse", Some(" "), "8001", "Zürich", "CH").house_number,
        None
    );
}

#[test]
fn from_data_collects_the_comparable_parts() {
    let data = CustomerData {
        kind: Kind::Person,
        first_name: Some(" Anna ".into()),
        last_name: Some("Müller".into()),
        email: Some("Anna.Mueller@Example.CH".into()),
        phones: vec![
            Phone {
                kind: "mobile".into(),
                number: "+41791234567".into(),
            },
            Phone {
                kind: "home".into(),
                number: "+41791234567".into(),
            },
        ],
        ..Default::default()
    };
    let r = DedupRecord::from_data(&data);
    assert_eq!(r.first_name.as_deref(), Some("Anna"));
    assert_eq!(r.emails, vec!["anna.mueller@example.ch"]);
    assert_eq!(r.phones, vec!["+41791234567"]);
    assert!(r.addresses.is_empty());
}

// --- compare -----------------------------------------------------------------------------------

#[test]
fn realistic_variants_are_likely_duplicates() {
    let a = anna();
    let cases: Vec<(&str, DedupRecord, &str)> = vec![
        (
            "spelling, no contact, no birth date",
            person(
                "Anna",
                "Mueller",
                "",
                "",
                "",
                "Bahnhofstr.",
                "12 a",
                "8001",
                "Zürich",
            ),
            "same street and house number",
        ),
        (
            "Muller, other street spelling",
            person(
                "Anna",
                "Muller",
                "1980-02-29",
                "",
                "",
                "Bahnhof Strasse",
                "12A",
                "8001",
                "Zurich",
            ),
            "surname sounds alike (Kölner Phonetik 657)",
        ),
        (
            "swapped names",
            person(
                "Müller",
                "Anna",
                "",
                "",
                "",
                "Bahnhofstrasse",
                "12a",
                "8001",
                "Zürich",
            ),
            "first and last name swapped",
        ),
        (
            "typo in the surname",
            person(
                "Anna",
                "Müler",
                "1980-02-29",
                "",
                "",
                "Bahnhofstrasse",
                "12a",
                "8001",
                "Zürich",
            ),
            "same birth date",
        ),
        (
            "typo in the first name",
            person(
                "Anan",
                "Müller",
                "",
                "",
                "+41791234567",
                "Bahnhofstrasse",
                "12a",
                "8001",
                "Zürich",
            ),
            "similar first name (Jaro-Winkler",
        ),
        (
            "moved, same email",
            person(
                "Anna",
                "Müller",
                "",
                "anna.mueller@example.ch",
                "",
                "Hauptstrasse",
                "3",
                "3011",
                "Bern",
            ),
            "same email",
        ),
        (
            "moved, same phone",
            person(
                "Anna",
                "Müller",
                "",
                "",
                "+41791234567",
                "Hauptstrasse",
                "3",
                "3011",
                "Bern",
            ),
            "same phone",
        ),
        (
            "moved, same birth date",
            person(
                "Anna",
                "Müller",
                "1980-02-29",
                "",
                "",
                "Hauptstrasse",
                "3",
                "3011",
                "Bern",
            ),
            "same birth date",
        ),
        (
            "second email, no phone",
            person(
                "Anna",
                "Müller",
                "1980-02-29",
                "anna@example.org",
                "",
                "Bahnhofstrasse",
                "12a",
                "8001",
                "Zürich",
            ),
            "same first name",
        ),
    ];
    for (what, b, reason) in cases {
        let m = compare(&a, &b);
        assert!(m.score >= DEFAULT_THRESHOLD, "{what}: {m:?}");
        assert!(
            m.reasons.iter().any(|r| r.starts_with(reason)),
            "{what}: no reason {reason:?} in {m:?}"
        );
        assert_eq!(compare(&b, &a).score, m.score, "{what}: not symmetric");
    }
}

#[test]
fn family_members_namesakes_and_neighbours_are_not() {
    let a = anna();
    let cases: Vec<(&str, DedupRecord)> = vec![
        (
            "common surname and postcode only",
            person(
                "Peter",
                "Müller",
                "",
                "",
                "",
                "Limmatquai",
                "4",
                "8001",
                "Zürich",
            ),
        ),
        (
            "spouse at the same address, family phone and email",
            person(
                "Thomas",
                "Müller",
                "",
                "anna.mueller@example.ch",
                "+41791234567",
                "Bahnhofstrasse",
                "12a",
                "8001",
                "Zürich",
            ),
        ),
        (
            "child at the same address, other birth date",
            person(
                "Lena",
                "Müller",
                "2004-05-17",
                "",
                "+41791234567",
                "Bahnhofstrasse",
                "12a",
                "8001",
                "Zürich",
            ),
        ),
        (
            "twin sister at the same address with the family phone",
            person(
                "Laura",
                "Müller",
                "1980-02-29",
                "",
                "+41791234567",
                "Bahnhofstrasse",
                "12a",
                "8001",
                "Zürich",
            ),
        ),
        (
            "namesake in another town",
            person(
                "Anna",
                "Müller",
                "1975-06-01",
                "",
                "",
                "Hauptstrasse",
                "3",
                "3011",
                "Bern",
            ),
        ),
        (
            "namesake in another town, birth date unknown",
            person(
                "Anna",
                "Müller",
                "",
                "",
                "",
                "Hauptstrasse",
                "3",
                "3011",
                "Bern",
            ),
        ),
        (
            "namesake in the same postcode, other birth date",
            person(
                "Anna",
                "Müller",
                "1966-11-30",
                "",
                "",
                "Limmatquai",
                "4",
                "8001",
                "Zürich",
            ),
        ),
        (
            "other person sounding alike in the same postcode",
            person(
                "Anna",
                "Miller",
                "",
                "",
                "",
                "Talstrasse",
                "9",
                "8001",
                "Zürich",
            ),
        ),
        (
            "neighbour in the same house",
            person(
                "Jan",
                "Keller",
                "",
                "",
                "",
                "Bahnhofstrasse",
                "12a",
                "8001",
                "Zürich",
            ),
        ),
    ];
    for (what, b) in cases {
        let m = compare(&a, &b);
        assert!(m.score < DEFAULT_THRESHOLD, "{what}: {m:?}");
    }
}

#[test]
fn reasons_name_the_evidence() {
    let a = anna();
    let b = person(
        "Anna",
        "Müller",
        "1980-02-29",
        "anna.mueller@example.ch",
        "+41791234567",
        "Bahnhofstr.",
        "12 A",
        "8001",
        "Zürich",
    );
    let m = compare(&a, &b);
    assert_eq!(m.score, 100);
    for r in [
        "same surname",
        "same first name",
        "same birth date",
        "same email",
        "same phone",
        "same street and house number",
    ] {
        assert!(m.reasons.iter().any(|x| x == r), "{r} missing in {m:?}");
    }
    let spouse = person(
        "Thomas",
        "Müller",
        "1978-01-01",
        "",
        "",
        "Bahnhofstrasse",
        "12a",
        "8001",
        "Zürich",
    );
    let m = compare(&a, &spouse);
    assert!(m.reasons.iter().any(|x| x == "different first name"));
    assert!(m.reasons.iter().any(|x| x == "different birth date"));
    assert_eq!(
        compare(&DedupRecord::default(), &DedupRecord::default()).score,
        0
    );
}

#[test]
fn companies_compare_without_their_legal_form() {
    let org = |name: &str, street: &str| DedupRecord {
        company_name: Some(name.into()),
        addresses: vec![DedupAddress::new(street, Some("5"), "8004", "Zürich", "CH")],
        ..Default::default()
    };
    let a = org("Meier Architektur AG", "Langstrasse");
    assert!(likely(&a, &org("Meier Architektur GmbH", "Langstr.")));
    assert!(likely(&a, &org("Meier Architektr AG", "Langstrasse")));
    assert!(!likely(&a, &org("Huber Treuhand AG", "Langstrasse")));
    assert!(!likely(&a, &anna()));
}

// --- blocking ----------------------------------------------------------------------------------

fn share_a_key(a: &DedupRecord, b: &DedupRecord) -> bool {
    let kb = blocking_keys(b);
    blocking_keys(a).iter().any(|k| kb.contains(k))
}

#[test]
fn blocking_keys_have_the_documented_kinds() {
    let keys = blocking_keys(&anna());
    for k in [
        "n:657:8001",
        "a:8001:bahnhofstr:12a",
        "f:06:657",
        "e:anna.mueller@example.ch",
        "p:+41791234567",
        "b:1980-02-29:6",
        "b:1980-02-29:0",
    ] {
        assert!(keys.iter().any(|x| x == k), "{k} missing in {keys:?}");
    }
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(keys, sorted);
    assert!(blocking_keys(&DedupRecord::default()).is_empty());
}

#[test]
fn variants_share_a_blocking_key() {
    let a = anna();
    for b in [
        person(
            "Anna",
            "Mueller",
            "",
            "",
            "",
            "Bahnhofstr.",
            "12 a",
            "8001",
            "Zürich",
        ),
        person(
            "Müller",
            "Anna",
            "",
            "",
            "",
            "Hauptstrasse",
            "3",
            "3011",
            "Bern",
        ),
        person(
            "Anna",
            "Nüller",
            "",
            "",
            "",
            "Bahnhofstrasse",
            "12a",
            "8001",
            "Zürich",
        ),
        person(
            "Anna",
            "Nüller",
            "",
            "",
            "+41791234567",
            "Hauptstrasse",
            "3",
            "3011",
            "Bern",
        ),
        person(
            "Anna",
            "Mülelr",
            "1980-02-29",
            "",
            "",
            "Hauptstrasse",
            "3",
            "3011",
            "Bern",
        ),
    ] {
        assert!(share_a_key(&a, &b), "{b:?}");
    }
    assert!(!share_a_key(
        &a,
        &person(
            "Peter",
            "Keller",
            "",
            "",
            "",
            "Hauptstrasse",
            "3",
            "3011",
            "Bern"
        )
    ));
}

#[test]
fn long_input_gives_short_keys() {
    let long = "ä".repeat(300);
    let r = DedupRecord {
        last_name: Some(long.clone()),
        first_name: Some(long.clone()),
        emails: vec![format!("{}@example.ch", "a".repeat(200))],
        addresses: vec![DedupAddress::new(&long, Some(&long), &long, &long, "CH")],
        ..Default::default()
    };
    for k in blocking_keys(&r) {
        assert!(k.len() <= MAX_KEY_BYTES, "{k}");
    }
}

// --- scan --------------------------------------------------------------------------------------

#[test]
fn scan_finds_the_pairs_without_comparing_everything() {
    let records = vec![
        anna(),
        person(
            "Peter",
            "Keller",
            "1970-01-01",
            "",
            "",
            "Hauptstrasse",
            "3",
            "3011",
            "Bern",
        ),
        person(
            "Anna",
            "Mueller",
            "",
            "",
            "",
            "Bahnhofstr.",
            "12 a",
            "8001",
            "Zürich",
        ),
        person(
            "Thomas",
            "Müller",
            "",
            "",
            "+41791234567",
            "Bahnhofstrasse",
            "12a",
            "8001",
            "Zürich",
        ),
        person(
            "Peter",
            "Keler",
            "1970-01-01",
            "",
            "",
            "Hauptstr.",
            "3",
            "3011",
            "Bern",
        ),
    ];
    let r = scan(&records, DEFAULT_THRESHOLD, DEFAULT_MAX_BLOCK);
    let pairs: Vec<(usize, usize)> = r.pairs.iter().map(|(i, j, _)| (*i, *j)).collect();
    assert_eq!(pairs, vec![(0, 2), (1, 4)]);
    // Keller never meets Müller: 4 pairs compared (0-2, 0-3, 2-3, 1-4) out of 10.
    assert_eq!(r.comparisons, 4);
    // With blocks of at most one record nothing is compared at all.
    assert_eq!(scan(&records, DEFAULT_THRESHOLD, 1).comparisons, 0);
}

#[test]
fn a_huge_block_is_skipped() {
    // 150 different people who typed the same placeholder address: one block, too big to mean
    // anything; without their own shared keys they are never compared.
    let records: Vec<DedupRecord> = (0..150)
        .map(|i| DedupRecord {
            last_name: Some(format!("Person{i}")),
            emails: vec!["keine@example.ch".into()],
            ..Default::default()
        })
        .collect();
    assert_eq!(scan(&records, 0, DEFAULT_MAX_BLOCK).comparisons, 0);
    assert_eq!(scan(&records, 0, 150).comparisons, 150 * 149 / 2);
}

// --- quality -----------------------------------------------------------------------------------

#[test]
fn labelled_set_is_deterministic_and_has_hard_negatives() {
    let a = labelled_set(7, 300);
    assert_eq!(a, labelled_set(7, 300));
    let ids: std::collections::HashSet<u64> = a.iter().map(|(_, id)| *id).collect();
    assert_eq!(ids.len(), 300);
    assert!(a.len() > 300 + 60, "too few duplicates: {}", a.len());
    // Different people at the same address with the same surname: the family members.
    let mut families = 0;
    for (i, (x, idx)) in a.iter().enumerate() {
        for (y, idy) in &a[i + 1..] {
            if idx != idy && x.last_name == y.last_name && x.addresses == y.addresses {
                families += 1;
            }
        }
    }
    assert!(families > 30, "only {families} family pairs");
}

#[test]
fn precision_and_recall_on_the_labelled_set() {
    let set = labelled_set(42, 5000);
    let q = evaluate(&set, DEFAULT_THRESHOLD);
    println!(
        "dedup quality on labelled_set(42, 5000): {} records, threshold {}: \
         true pairs {}, found {}, correct {}, precision {:.4}, recall {:.4}, comparisons {}",
        set.len(),
        DEFAULT_THRESHOLD,
        q.true_pairs,
        q.found_pairs,
        q.correct_pairs,
        q.precision,
        q.recall,
        q.comparisons
    );
    let n = set.len() as u64;
    assert!(q.comparisons < n * (n - 1) / 2 / 100, "{q:?}");
    assert!(q.precision >= 0.95, "{q:?}");
    assert!(q.recall >= 0.95, "{q:?}");
}

// --- robustness --------------------------------------------------------------------------------

const ODD: &[&str] = &[
    "",
    " ",
    "\u{0}",
    "😀",
    "👨‍👩‍👧‍👦",
    "e\u{301}\u{301}",
    "\u{308}",
    "u\u{308}",
    "İstanbul",
    "ẞ",
    "日本語",
    "العربية",
    "１２３４",
    "-",
    "/",
    "0",
    "00-",
    "-0-",
    "x",
    "c",
    "ﬃ",
    "ǅ",
];

fn odd_record(a: &str, b: &str) -> DedupRecord {
    DedupRecord {
        first_name: Some(a.into()),
        last_name: Some(b.into()),
        company_name: Some(b.into()),
        birth_date: None,
        emails: vec![a.into()],
        phones: vec![b.into()],
        addresses: vec![DedupAddress::new(a, Some(b), b, a, a)],
    }
}

#[test]
fn odd_input_never_panics() {
    for a in ODD {
        koelner_phonetik(a);
        normalize_street(a);
        normalize_house_number(a);
        for b in ODD {
            let x = odd_record(a, b);
            let y = odd_record(b, a);
            assert!(compare(&x, &y).score <= 100);
            blocking_keys(&x);
        }
    }
}

proptest! {
    #[test]
    fn arbitrary_input_never_panics(a in "\\PC{0,40}", b in "\\PC{0,40}", c in ".{0,20}") {
        let code = koelner_phonetik(&a);
        prop_assert!(code.bytes().all(|d| d.is_ascii_digit()));
        normalize_street(&b);
        normalize_house_number(&c);
        let x = odd_record(&a, &b);
        let y = odd_record(&b, &c);
        prop_assert!(compare(&x, &y).score <= 100);
        for k in blocking_keys(&x) {
            prop_assert!(k.len() <= MAX_KEY_BYTES);
        }
        let r = scan(&[x.clone(), y, x], 0, DEFAULT_MAX_BLOCK);
        prop_assert!(r.comparisons <= 3);
    }
}

#[test]
fn every_likely_pair_of_the_labelled_set_passes_the_candidate_filter() {
    let set = labelled_set(42, 5000);
    let records: Vec<DedupRecord> = set.iter().map(|(r, _)| r.clone()).collect();
    let keys: Vec<Vec<String>> = records.iter().map(blocking_keys).collect();
    let found = scan(&records, DEFAULT_THRESHOLD, usize::MAX);
    assert!(found.pairs.len() > 1000, "{}", found.pairs.len());
    let mut missed = Vec::new();
    for (i, j, _) in &found.pairs {
        let shared = keys[*i]
            .iter()
            .filter(|k| keys[*j].contains(k))
            .map(String::as_str);
        if !worth_comparing(shared) {
            missed.push((keys[*i].clone(), keys[*j].clone()));
        }
    }
    // What the filter loses (check and scan alike): swapped names with a typo after a move,
    // sharing one birth-date key. Measured: 3 of 2,246.
    println!(
        "{} of {} likely pairs share too little for the check at creation",
        missed.len(),
        found.pairs.len()
    );
    assert!(
        missed.len() * 200 <= found.pairs.len(),
        "{} of {} likely pairs filtered out: {:?}",
        missed.len(),
        found.pairs.len(),
        missed.first()
    );
}

#[test]
fn one_weak_key_alone_is_not_worth_a_comparison() {
    assert!(!worth_comparing(["n:657:8001"]));
    assert!(!worth_comparing(["f:067:657"]));
    assert!(!worth_comparing(["b:1980-02-29:6"]));
    assert!(worth_comparing(["b:1980-02-29:6", "b:1980-02-29:0"]));
    assert!(worth_comparing(["n:657:8001", "b:1980-02-29:6"]));
    assert!(worth_comparing(["e:anna@example.ch"]));
    assert!(worth_comparing(["a:8001:bahnhofstr:12a"]));
    assert!(worth_comparing(["p:+41791234567"]));
}
