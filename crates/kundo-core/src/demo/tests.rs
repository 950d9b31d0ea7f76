use std::collections::{HashMap, HashSet};

use chrono::{Datelike, NaiveDate};

use super::data::{self, Place};
use super::*;

fn table(country: &str) -> &'static [Place] {
    match country {
        "CH" => CH_PLACES,
        "DE" => DE_PLACES,
        "AT" => AT_PLACES,
        other => panic!("unexpected country {other}"),
    }
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// EAN-13 check digit computed from scratch (weights 1,3,1,3,... over the first 12 digits).
fn ean13_ok(card: &str) -> bool {
    let digits: Vec<u32> = card.chars().filter_map(|c| c.to_digit(10)).collect();
    if digits.len() != 13 || card.len() != 13 {
        return false;
    }
    let mut sum = 0;
    for (i, d) in digits[..12].iter().enumerate() {
        sum += if i % 2 == 1 { d * 3 } else { *d };
    }
    (10 - sum % 10) % 10 == digits[12]
}

#[test]
fn splitmix_reference_value() {
    // Published first output of SplitMix64 seeded with 0.
    let mut state = 0;
    assert_eq!(splitmix64(&mut state), 0xE220_A839_7B1D_CDAF);
}

#[test]
fn rng_is_deterministic_and_bounded() {
    let mut a = DemoRng::new(7);
    let mut b = DemoRng::new(7);
    let mut c = DemoRng::new(8);
    let xs: Vec<u64> = (0..100).map(|_| a.next_u64()).collect();
    let ys: Vec<u64> = (0..100).map(|_| b.next_u64()).collect();
    let zs: Vec<u64> = (0..100).map(|_| c.next_u64()).collect();
    assert_eq!(xs, ys);
    assert_ne!(xs, zs);

    let mut rng = DemoRng::new(0);
    assert_eq!(rng.below(0), 0);
    assert_eq!(rng.below(1), 0);
    let mut counts = [0u32; 7];
    for _ in 0..70_000 {
        let v = rng.below(7);
        assert!(v < 7);
        counts[v as usize] += 1;
    }
    for c in counts {
        assert!((9_000..11_000).contains(&c), "{counts:?}");
    }
    for _ in 0..1000 {
        assert!(rng.below(u64::MAX) < u64::MAX);
        assert!(!rng.chance(0, 10));
        assert!(rng.chance(10, 10));
        assert!(!rng.chance(5, 0));
    }
    let hits = (0..100_000).filter(|_| rng.chance(1, 4)).count();
    assert!((24_000..26_000).contains(&hits), "{hits}");
    let items = ["a", "b", "c"];
    let picked: HashSet<&str> = (0..100).map(|_| *rng.pick(&items)).collect();
    assert_eq!(picked.len(), 3);
}

#[test]
#[should_panic]
fn pick_on_empty_slice_panics() {
    let empty: [u8; 0] = [];
    DemoRng::new(1).pick(&empty);
}

#[test]
fn customers_are_deterministic() {
    for i in 0..500 {
        assert_eq!(demo_customer(42, i, 20), demo_customer(42, i, 20));
    }
    let differing = (0..200)
        .filter(|&i| demo_customer(1, i, 20) != demo_customer(2, i, 20))
        .count();
    assert!(differing >= 195, "{differing}");
    // Neighbouring indices differ, too.
    let differing = (0..200)
        .filter(|&i| demo_customer(1, i, 20) != demo_customer(1, i + 1, 20))
        .count();
    assert!(differing >= 195, "{differing}");
}

#[test]
fn n_stores_only_changes_home_store() {
    for i in 0..300 {
        let mut a = demo_customer(9, i, 3);
        let b = demo_customer(9, i, 400);
        assert!(a.home_store < 3);
        assert!(b.home_store < 400);
        a.home_store = b.home_store;
        assert_eq!(a, b);
        assert_eq!(demo_customer(9, i, 0).home_store, 0);
    }
}

#[test]
fn emails_and_cards_are_unique_and_valid() {
    let domains = [
        "example.ch",
        "example.de",
        "example.com",
        "example.net",
        "example.org",
    ];
    let mut emails = HashSet::new();
    let mut cards = HashSet::new();
    let mut feb29 = 0;
    for i in 0..200_000 {
        let c = demo_customer(2026, i, 50);
        if let Some(email) = &c.email {
            let (local, domain) = email.split_once('@').expect("has @");
            assert!(domains.contains(&domain), "{email}");
            assert!(!local.is_empty() && local.len() <= 64, "{email}");
            assert!(
                !local.starts_with(['.', '-']) && !local.ends_with('.'),
                "{email}"
            );
            assert!(!local.contains(".."), "{email}");
            assert!(
                local.bytes().all(|b| b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || matches!(b, b'.' | b'-' | b'_')),
                "{email}"
            );
            assert!(
                local.ends_with(&(i + 1).to_string()),
                "{email} should embed {}",
                i + 1
            );
            assert!(emails.insert(email.clone()), "duplicate email {email}");
        }
        assert!(c.card_number.starts_with("29"), "{}", c.card_number);
        assert!(ean13_ok(&c.card_number), "{}", c.card_number);
        assert!(
            cards.insert(c.card_number.clone()),
            "duplicate card {}",
            c.card_number
        );
        if let Some(d) = c.birth_date
            && d.month() == 2
            && d.day() == 29
        {
            assert!(is_leap(d.year()), "{d}");
            feb29 += 1;
        }
    }
    assert!(feb29 > 0, "no 29 February birth dates in 200,000 customers");
}

#[test]
fn addresses_exist_in_the_tables() {
    let mut seen_langs: HashMap<&str, usize> = HashMap::new();
    for i in 0..20_000 {
        let c = demo_customer(5, i, 100);
        let places = table(c.country);
        let place = places
            .iter()
            .find(|p| p.postcode == c.postcode && p.city == c.city)
            .unwrap_or_else(|| panic!("{} {} not in {}", c.postcode, c.city, c.country));
        assert!(
            place.streets.contains(&c.street.as_str()),
            "{} not in {}",
            c.street,
            c.city
        );
        assert!(c.language == place.lang || c.language == "en", "{c:?}");
        *seen_langs.entry(c.language).or_default() += 1;
        let hn = &c.house_number;
        let digits = hn.trim_end_matches(['a', 'b', 'c']);
        assert!(
            digits.parse::<u32>().is_ok_and(|n| (1..=200).contains(&n)),
            "{hn}"
        );
        assert!(hn.len() - digits.len() <= 1);
        if c.country == "CH" {
            assert!(!c.street.contains('ß'), "{}", c.street);
        } else {
            assert!(!c.street.contains("strasse"), "{}", c.street);
        }
    }
    for lang in ["de", "fr", "it", "en"] {
        assert!(seen_langs.get(lang).copied().unwrap_or(0) > 0, "{lang}");
    }
}

#[test]
fn persons_and_organizations_have_the_right_fields() {
    let reference = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    for i in 0..20_000 {
        let c = demo_customer(11, i, 10);
        match c.kind {
            "person" => {
                let first = c.first_name.as_deref().expect("first name");
                let last = c.last_name.as_deref().expect("last name");
                assert!(!first.is_empty() && !last.is_empty());
                assert!(c.company_name.is_none());
                let gender = c.gender.expect("gender");
                let expected = match (gender, c.language) {
                    ("female", "fr") => Some("Madame"),
                    ("male", "fr") => Some("Monsieur"),
                    ("female", _) => Some("Frau"),
                    ("male", _) => Some("Herr"),
                    ("diverse", _) => None,
                    other => panic!("unexpected {other:?}"),
                };
                assert_eq!(c.salutation, expected);
                if let Some(d) = c.birth_date {
                    let age = reference.years_since(d).expect("born before 2026");
                    assert!((18..90).contains(&age), "{d} gives age {age}");
                }
                assert!(matches!(c.title, None | Some("Dr.") | Some("Prof. Dr.")));
                // The first name comes from the table of the customer's gender.
                let tables: &[&[data::Name]] = match gender {
                    "female" => &[DE_FEMALE, FR_FEMALE, IT_FEMALE, EN_FEMALE],
                    "male" => &[DE_MALE, FR_MALE, IT_MALE, EN_MALE],
                    _ => &[UNISEX],
                };
                assert!(
                    tables.iter().any(|t| t.iter().any(|n| n.name == first)),
                    "{first} is not a {gender} name"
                );
            }
            "organization" => {
                let name = c.company_name.as_deref().expect("company name");
                assert!(name.len() > 3);
                assert!(c.first_name.is_none() && c.last_name.is_none());
                assert!(c.salutation.is_none() && c.title.is_none() && c.gender.is_none());
                assert!(c.birth_date.is_none());
                assert!(name.contains(' '), "{name} reads like a person");
            }
            other => panic!("unexpected kind {other}"),
        }
        if c.consent_email {
            assert!(c.email.is_some());
        }
        match c.preferred_channel {
            Some("email") => assert!(c.email.is_some() && c.consent_email),
            Some("sms" | "phone") => assert!(c.phone.is_some()),
            Some("letter") => assert!(c.consent_letter),
            None => {}
            Some(other) => panic!("unexpected channel {other}"),
        }
        if let Some(phone) = &c.phone {
            assert!(phone.starts_with('+') && phone[1..].bytes().all(|b| b.is_ascii_digit()));
            match c.country {
                "CH" => {
                    assert_eq!(phone.len(), 3 + 9, "{phone}");
                    assert!(
                        ["+4179", "+4178", "+4176", "+4177"].contains(&&phone[..5]),
                        "{phone}"
                    );
                }
                "DE" => {
                    assert_eq!(phone.len(), 3 + 11, "{phone}");
                    assert!(
                        phone.starts_with("+4915")
                            || phone.starts_with("+4916")
                            || phone.starts_with("+4917"),
                        "{phone}"
                    );
                }
                _ => {
                    assert!(phone.starts_with("+436"), "{phone}");
                    assert_eq!(phone.len(), 3 + 10, "{phone}");
                }
            }
        }
    }
}

#[test]
fn proportions_are_sane() {
    const N: u64 = 10_000;
    let mut persons = 0;
    let mut by_country: HashMap<&str, u32> = HashMap::new();
    let mut by_lang: HashMap<&str, u32> = HashMap::new();
    let mut by_gender: HashMap<&str, u32> = HashMap::new();
    let (mut email, mut phone, mut birth_missing, mut titled) = (0, 0, 0, 0);
    let (mut consent_email, mut consent_letter, mut channel) = (0, 0, 0);
    let mut zurich = 0;
    let mut villages = 0;
    for i in 0..N {
        let c = demo_customer(77, i, 30);
        *by_country.entry(c.country).or_default() += 1;
        *by_lang.entry(c.language).or_default() += 1;
        if c.kind == "person" {
            persons += 1;
            *by_gender.entry(c.gender.unwrap()).or_default() += 1;
            birth_missing += u32::from(c.birth_date.is_none());
            titled += u32::from(c.title.is_some());
        }
        email += u32::from(c.email.is_some());
        phone += u32::from(c.phone.is_some());
        consent_email += u32::from(c.consent_email);
        consent_letter += u32::from(c.consent_letter);
        channel += u32::from(c.preferred_channel.is_some());
        zurich += u32::from(c.city == "Zürich");
        villages += u32::from(c.city == "Appenzell" || c.city == "Zermatt");
    }
    let pct = |x: u32| f64::from(x) * 100.0 / N as f64;
    let within = |name: &str, x: u32, lo: f64, hi: f64| {
        let p = pct(x);
        assert!((lo..=hi).contains(&p), "{name}: {p:.1}% not in {lo}..={hi}");
    };
    within("persons", persons, 91.0, 95.0);
    within("CH", by_country["CH"], 62.0, 68.0);
    within("DE", by_country["DE"], 27.0, 33.0);
    within("AT", by_country["AT"], 3.5, 6.5);
    within("de", by_lang["de"], 70.0, 90.0);
    within("fr", by_lang["fr"], 8.0, 22.0);
    within("it", by_lang["it"], 1.5, 8.0);
    within("en", by_lang["en"], 0.5, 4.0);
    within("email", email, 82.0, 88.0);
    within("phone", phone, 67.0, 73.0);
    within("consent_email", consent_email, 40.0, 75.0);
    within("consent_letter", consent_letter, 60.0, 90.0);
    within("channel", channel, 55.0, 85.0);
    let of_persons = |x: u32| f64::from(x) * 100.0 / f64::from(persons);
    let missing = of_persons(birth_missing);
    assert!(
        (6.0..10.0).contains(&missing),
        "birth date missing {missing:.1}%"
    );
    let female = of_persons(by_gender["female"]);
    assert!((47.0..54.0).contains(&female), "female {female:.1}%");
    let diverse = of_persons(by_gender.get("diverse").copied().unwrap_or(0));
    assert!((0.1..1.5).contains(&diverse), "diverse {diverse:.2}%");
    let titled = of_persons(titled);
    assert!((1.0..5.0).contains(&titled), "titled {titled:.1}%");
    // Big cities are weighted higher than villages.
    assert!(zurich > 10 * villages.max(1), "{zurich} vs {villages}");
}

#[test]
fn names_transliterate_to_ascii() {
    let mut s = String::new();
    push_ascii(&mut s, "Müller", true, false);
    assert_eq!(s, "mueller");
    for (input, expected) in [
        ("Jürg", "juerg"),
        ("Björn", "bjoern"),
        ("Zoë", "zoe"),
        ("Anaïs", "anais"),
        ("Noémie", "noemie"),
        ("Groß", "gross"),
        ("Hans-Peter", "hans-peter"),
        ("De Luca", "deluca"),
        ("O'Brien", "obrien"),
        ("Jovanović", "jovanovic"),
        ("Özdemir", "oezdemir"),
    ] {
        let mut s = String::new();
        push_ascii(&mut s, input, true, false);
        assert_eq!(s, expected);
    }
    let mut s = String::new();
    push_ascii(&mut s, "Studio d'architettura Keller & Söhne", true, true);
    assert_eq!(s, "studio-darchitettura-keller-soehne");
}

#[test]
fn table_sizes_and_contents() {
    let count = |t: &[data::Name]| t.len();
    let female = count(DE_FEMALE) + count(FR_FEMALE) + count(IT_FEMALE) + count(EN_FEMALE);
    let male = count(DE_MALE) + count(FR_MALE) + count(IT_MALE) + count(EN_MALE);
    let surnames: HashSet<&str> = [DE_SURNAMES, FR_SURNAMES, IT_SURNAMES, EN_SURNAMES]
        .iter()
        .flat_map(|t| t.iter().map(|n| n.name))
        .collect();
    assert!(female >= 60 && male >= 60, "{female} {male}");
    assert!(surnames.len() >= 150, "{}", surnames.len());
    for name in [
        "Müller",
        "Meier",
        "Meyer",
        "Maier",
        "Schmid",
        "Schneider",
        "Keller",
        "Weber",
        "Huber",
        "Brunner",
        "Baumann",
        "Gerber",
        "Frei",
        "Zimmermann",
        "Moser",
        "Fischer",
        "Wagner",
        "Becker",
        "Schulz",
        "Hoffmann",
        "Koch",
        "Bauer",
        "Richter",
        "Klein",
        "Wolf",
        "Schröder",
        "Neumann",
        "Schwarz",
        "Krüger",
        "Hofmann",
        "Hartmann",
        "Lange",
        "Schmitt",
        "Werner",
        "Krause",
        "Lehmann",
        "Köhler",
        "Bachmann",
        "Steiner",
        "Graf",
        "Widmer",
        "Bühler",
        "Brügger",
        "Favre",
        "Rochat",
        "Bernasconi",
        "Rossi",
        "Ferrari",
        "Bianchi",
        "Morel",
        "Dubois",
    ] {
        assert!(surnames.contains(name), "{name}");
    }
    let firsts: HashSet<&str> = [
        DE_FEMALE, DE_MALE, FR_FEMALE, FR_MALE, IT_FEMALE, IT_MALE, EN_FEMALE, EN_MALE,
    ]
    .iter()
    .flat_map(|t| t.iter().map(|n| n.name))
    .collect();
    for name in ["Jürg", "Björn", "Jörg", "Zoë", "Anaïs", "Noémie", "Léa"] {
        assert!(firsts.contains(name), "{name}");
    }

    assert!(CH_PLACES.len() >= 80, "{}", CH_PLACES.len());
    assert!(DE_PLACES.len() >= 60, "{}", DE_PLACES.len());
    assert!(AT_PLACES.len() >= 15, "{}", AT_PLACES.len());
    for (country, postcode, city) in [
        ("CH", "1201", "Genève"),
        ("CH", "1003", "Lausanne"),
        ("CH", "1700", "Fribourg"),
        ("CH", "2000", "Neuchâtel"),
        ("CH", "1950", "Sion"),
        ("CH", "6900", "Lugano"),
        ("CH", "6500", "Bellinzona"),
        ("CH", "6600", "Locarno"),
        ("DE", "10115", "Berlin"),
        ("DE", "80331", "München"),
        ("DE", "20095", "Hamburg"),
        ("DE", "50667", "Köln"),
        ("DE", "60311", "Frankfurt am Main"),
        ("DE", "70173", "Stuttgart"),
        ("DE", "01067", "Dresden"),
        ("DE", "04109", "Leipzig"),
        ("AT", "1010", "Wien"),
        ("AT", "8010", "Graz"),
        ("AT", "4020", "Linz"),
        ("AT", "5020", "Salzburg"),
        ("AT", "6020", "Innsbruck"),
    ] {
        assert!(
            table(country)
                .iter()
                .any(|p| p.postcode == postcode && p.city == city),
            "{postcode} {city}"
        );
    }
    for (country, digits) in [("CH", 4), ("DE", 5), ("AT", 4)] {
        let mut pairs = HashSet::new();
        for p in table(country) {
            assert_eq!(p.postcode.len(), digits, "{}", p.postcode);
            assert!(p.postcode.bytes().all(|b| b.is_ascii_digit()));
            assert!(
                pairs.insert((p.postcode, p.city)),
                "duplicate {}",
                p.postcode
            );
            assert!(!p.streets.is_empty() && p.weight > 0);
            assert!(matches!(p.lang, "de" | "fr" | "it"));
            for street in p.streets {
                if country == "CH" {
                    assert!(!street.contains('ß'), "{street}");
                } else {
                    assert!(!street.contains("strasse"), "{street}");
                }
            }
        }
    }
    let langs: HashSet<&str> = CH_PLACES.iter().map(|p| p.lang).collect();
    assert_eq!(langs.len(), 3);

    // Rejection sampling in pick_name needs names for every region in every table used with it.
    for t in [
        DE_FEMALE,
        DE_MALE,
        FR_FEMALE,
        FR_MALE,
        IT_FEMALE,
        IT_MALE,
        EN_FEMALE,
        EN_MALE,
        UNISEX,
        DE_SURNAMES,
        FR_SURNAMES,
        IT_SURNAMES,
        EN_SURNAMES,
        DE_TRADES,
        DE_BRANCHES,
        FR_TRADES,
        IT_TRADES,
    ] {
        for region in [data::CH, data::DE, data::AT] {
            assert!(t.iter().any(|n| n.mask & region != 0 && n.weight > 0));
        }
    }
}

#[test]
fn stores_are_deterministic_and_unique() {
    assert!(demo_stores(0).is_empty());
    let stores = demo_stores(500);
    assert_eq!(stores.len(), 500);
    assert_eq!(stores, demo_stores(500));
    assert_eq!(stores[0].code, "ZH01");
    assert_eq!(&demo_stores(37)[..], &stores[..37]);
    let codes: HashSet<&str> = stores.iter().map(|s| s.code.as_str()).collect();
    assert_eq!(codes.len(), 500);
    let names: HashSet<&str> = stores.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names.len(), 500);
    for s in &stores {
        let prefix = s.code.trim_end_matches(|c: char| c.is_ascii_digit());
        let number = &s.code[prefix.len()..];
        assert!(prefix.len() <= 3 && prefix.bytes().all(|b| b.is_ascii_uppercase()));
        assert!(number.len() >= 2 && number.parse::<u32>().unwrap() >= 1);
        let place = table(&s.country)
            .iter()
            .find(|p| p.postcode == s.postcode && p.city == s.city)
            .unwrap_or_else(|| panic!("{s:?}"));
        assert!(place.streets.contains(&s.street.as_str()), "{s:?}");
    }
    // Every store city of the table gets at least one store within 500.
    let prefixes: HashSet<&str> = stores
        .iter()
        .map(|s| s.code.trim_end_matches(|c: char| c.is_ascii_digit()))
        .collect();
    assert_eq!(prefixes.len(), STORE_CITIES.len());
    // Numbers run 01, 02, ... per city without gaps.
    let mut per_prefix: HashMap<&str, u32> = HashMap::new();
    for s in &stores {
        let prefix = s.code.trim_end_matches(|c: char| c.is_ascii_digit());
        let next = per_prefix.entry(prefix).or_default();
        *next += 1;
        assert_eq!(s.code, format!("{prefix}{:02}", *next));
    }
    // More than one plan length also works and stays unique.
    let many = demo_stores(1200);
    assert_eq!(&many[..500], &stores[..]);
    let codes: HashSet<&str> = many.iter().map(|s| s.code.as_str()).collect();
    assert_eq!(codes.len(), 1200);
    let names: HashSet<&str> = many.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names.len(), 1200);
}

#[test]
fn store_cities_resolve_and_codes_are_unique() {
    let mut codes = HashSet::new();
    for sc in STORE_CITIES {
        assert!(codes.insert(sc.code), "duplicate code {}", sc.code);
        let places = PLACE_TABLES[sc.country]
            .iter()
            .filter(|p| p.city == sc.city)
            .count();
        assert!(places > 0, "{} not in the place table", sc.city);
    }
}

#[test]
fn home_store_is_near() {
    let stores = demo_stores(500);
    let mut same_city = 0;
    let mut total = 0;
    for i in 0..5_000 {
        let c = demo_customer(3, i, 500);
        let store = &stores[c.home_store];
        if matches!(
            c.city.as_str(),
            "Zürich" | "Genève" | "Berlin" | "Wien" | "Lugano"
        ) {
            assert_eq!(store.city, c.city, "{c:?} -> {store:?}");
            if ["Zürich", "Genève", "Berlin"].contains(&c.city.as_str()) {
                // Big cities have stores in every postcode area listed.
                assert_eq!(store.postcode, c.postcode, "{c:?} -> {store:?}");
            }
        }
        total += 1;
        same_city += u32::from(store.city == c.city);
    }
    assert!(same_city * 2 > total, "{same_city}/{total}");
    // With a single store everyone goes there.
    for i in 0..100 {
        assert_eq!(demo_customer(3, i, 1).home_store, 0);
    }
}

#[test]
#[ignore = "timing only; run with --release -- --ignored --nocapture"]
fn generate_one_million_customers() {
    let start = std::time::Instant::now();
    let mut checksum = 0usize;
    for i in 0..1_000_000 {
        let c = demo_customer(1, i, 200);
        checksum = checksum.wrapping_add(c.card_number.len() + c.home_store);
    }
    println!(
        "1,000,000 customers in {:.2?} (checksum {checksum})",
        start.elapsed()
    );
}

#[test]
#[ignore = "prints samples; run with -- --ignored --nocapture"]
fn print_samples() {
    println!(
        "first names: female {} (de {}, fr {}, it {}, en {}), male {} (de {}, fr {}, it {}, en {}), unisex {}",
        DE_FEMALE.len() + FR_FEMALE.len() + IT_FEMALE.len() + EN_FEMALE.len(),
        DE_FEMALE.len(),
        FR_FEMALE.len(),
        IT_FEMALE.len(),
        EN_FEMALE.len(),
        DE_MALE.len() + FR_MALE.len() + IT_MALE.len() + EN_MALE.len(),
        DE_MALE.len(),
        FR_MALE.len(),
        IT_MALE.len(),
        EN_MALE.len(),
        UNISEX.len()
    );
    println!(
        "surnames: de {}, fr {}, it {}, en {}; places: CH {}, DE {}, AT {}; store cities {}",
        DE_SURNAMES.len(),
        FR_SURNAMES.len(),
        IT_SURNAMES.len(),
        EN_SURNAMES.len(),
        CH_PLACES.len(),
        DE_PLACES.len(),
        AT_PLACES.len(),
        STORE_CITIES.len()
    );
    for s in demo_stores(40) {
        println!("{s:?}");
    }
    for i in 0..40 {
        println!("{:?}", demo_customer(1, i, 40));
    }
    let orgs = (0..3000)
        .map(|i| demo_customer(1, i, 40))
        .filter(|c| c.kind == "organization");
    for c in orgs.take(40) {
        println!(
            "{} | {} | {:?} | {}",
            c.company_name.unwrap_or_default(),
            c.language,
            c.email,
            c.city
        );
    }
}
