//! Unit tests for the contact normalization rules.

use super::*;

/// Odd inputs that every function must survive without panicking.
const ODD_INPUTS: &[&str] = &[
    "",
    " ",
    "\u{0}",
    "\t\n\r",
    "😀",
    "👨‍👩‍👧‍👦 family",
    "🇨🇭",
    "\u{FEFF}bom",
    "\u{202E}evil",
    "e\u{301}\u{301}\u{301}",
    "\u{308}",
    "u\u{308}",
    "İstanbul",
    "ǅemal",
    "ﬁsch",
    "ẞ",
    "Ω≈ç√∫",
    "日本語",
    "العربية",
    "٠١٢٣٤٥٦٧٨٩",
    "１２３４",
    "+",
    "++41",
    "00",
    "0",
    "(0)",
    "@",
    "@@",
    "a@",
    "@b.ch",
    ".",
    "-",
    "\u{10FFFF}",
    "\u{1F600}\u{1F600}\u{1F600}@\u{1F600}.ch",
    "9999999999999999999999999999999999999999",
    "Ä",
    "ÄÖÜäöüß",
];

// ---------------------------------------------------------------- fold

#[test]
fn fold_spec_examples() {
    assert_eq!(fold("Müller-Lüdenscheidt"), "mueller-luedenscheidt");
    assert_eq!(fold("  Zürich "), "zuerich");
    assert_eq!(fold("Straße"), "strasse");
}

#[test]
fn fold_umlauts_both_cases() {
    assert_eq!(fold("Müller"), "mueller");
    assert_eq!(fold("MÜLLER"), "mueller");
    assert_eq!(fold("Müller"), fold("Mueller"));
    assert_eq!(fold("ÄRGER"), "aerger");
    assert_eq!(fold("Öhler"), "oehler");
    assert_eq!(fold("Übersax"), "uebersax");
    assert_eq!(fold("GROẞ"), "gross");
}

#[test]
fn fold_strips_other_diacritics() {
    assert_eq!(fold("Genève"), "geneve");
    assert_eq!(fold("Héloïse"), "heloise");
    assert_eq!(fold("François"), "francois");
    assert_eq!(fold("Peña"), "pena");
    assert_eq!(fold("Ålesund"), "alesund");
    assert_eq!(fold("Côte-d'Or"), "cote-d or");
    assert_eq!(fold("Bâle"), "bale");
    assert_eq!(fold("à la carte"), "a la carte");
    assert_eq!(fold("Noël"), "noel");
    assert_eq!(fold("Würenlingen Brücke"), "wuerenlingen bruecke");
    assert_eq!(fold("Dvořák"), "dvorak");
    assert_eq!(fold("Łódź"), "lodz");
    assert_eq!(fold("Şişli"), "sisli");
    assert_eq!(fold("Graubünden/Grischun"), "graubuenden grischun");
    assert_eq!(fold("Ûnter"), "unter");
}

#[test]
fn fold_ligatures_and_nordic_letters() {
    assert_eq!(fold("Ærø"), "aero");
    assert_eq!(fold("Øster"), "oster");
    assert_eq!(fold("Œuvre"), "oeuvre");
    assert_eq!(fold("Þór"), "thor");
    assert_eq!(fold("ﬁsch"), "fisch");
}

#[test]
fn fold_decomposed_umlauts_match_precomposed() {
    // "u" + COMBINING DIAERESIS, as produced by macOS file names and some keyboards.
    assert_eq!(fold("Mu\u{308}ller"), "mueller");
    assert_eq!(fold_plain("Mu\u{308}ller"), "muller");
    assert_eq!(fold("Ge\u{300}neve"), "geneve");
    assert_eq!(fold("Noe\u{308}l"), "noel");
}

#[test]
fn fold_keeps_email_and_phone_punctuation() {
    assert_eq!(
        fold("Max.Muster+shop@Example.CH"),
        "max.muster+shop@example.ch"
    );
    assert_eq!(fold("+41 79 123-45-67"), "+41 79 123-45-67");
}

#[test]
fn fold_collapses_punctuation_runs_and_whitespace() {
    assert_eq!(
        fold("Bahnhof\u{00A0}\u{00A0}strasse   12,  Bern"),
        "bahnhof strasse 12 bern"
    );
    assert_eq!(fold("a//b__c!!d"), "a b c d");
    assert_eq!(fold("\tMeier\n\r"), "meier");
    assert_eq!(fold("  ,,  "), "");
    assert_eq!(fold(""), "");
    assert_eq!(fold("St. Gallen"), "st. gallen");
}

#[test]
fn fold_emoji_and_foreign_scripts() {
    assert_eq!(fold("😀"), "");
    assert_eq!(fold("Café ☕ Zürich"), "cafe zuerich");
    assert_eq!(fold("👨‍👩‍👧‍👦Huber"), "huber");
    assert_eq!(fold("日本語"), "日本語");
    assert_eq!(fold("ΑΘΗΝΑ"), "αθηνα");
    assert_eq!(fold("İstanbul"), "istanbul");
}

#[test]
fn fold_plain_drops_dots() {
    assert_eq!(fold_plain("Müller"), "muller");
    assert_eq!(fold_plain("MÜLLER"), "muller");
    assert_eq!(fold_plain("Müller"), fold_plain("Muller"));
    assert_eq!(fold_plain("Österreich"), "osterreich");
    assert_eq!(fold_plain("Ärzte"), "arzte");
    assert_eq!(fold_plain("Straße"), "strasse");
    assert_eq!(fold_plain("Müller-Lüdenscheidt"), "muller-ludenscheidt");
    assert_eq!(fold_plain("  Zürich "), "zurich");
    assert_eq!(fold_plain("Ærø"), "aero");
    assert_eq!(fold_plain("Genève"), "geneve");
}

#[test]
fn fold_is_idempotent_and_total() {
    for s in ODD_INPUTS
        .iter()
        .chain(["Müller-Lüdenscheidt", "Ærø", "  Zürich ", "Café ☕"].iter())
    {
        let f = fold(s);
        assert_eq!(fold(&f), f, "fold not idempotent for {s:?}");
        let p = fold_plain(s);
        assert_eq!(fold_plain(&p), p, "fold_plain not idempotent for {s:?}");
        assert_eq!(f.trim(), f);
        assert!(!f.contains("  "));
    }
}

// ---------------------------------------------------------------- email

#[test]
fn email_normalizes_case_and_space() {
    assert_eq!(
        normalize_email("  Max.Muster@Example.CH \n").as_deref(),
        Ok("max.muster@example.ch")
    );
    assert_eq!(
        normalize_email("ANNA+Shop@Post.Migros.ch").as_deref(),
        Ok("anna+shop@post.migros.ch")
    );
    assert_eq!(normalize_email("a@b.de").as_deref(), Ok("a@b.de"));
    assert_eq!(
        normalize_email("o'brien@my-shop.co.uk").as_deref(),
        Ok("o'brien@my-shop.co.uk")
    );
    assert_eq!(
        normalize_email("info@123.example.at").as_deref(),
        Ok("info@123.example.at")
    );
}

#[test]
fn email_rejects_malformed() {
    let bad = [
        "max@@example.ch",
        "max@muster@example.ch",
        "maxexample.ch",
        "max@examplech",
        "max@example.ch.",
        "max@.example.ch",
        "max@example..ch",
        "@example.ch",
        "max@",
        "max@-example.ch",
        "max@example-.ch",
        "max@example.c",
        "max@example.c0m",
        "max@example.123",
        "max@exa_mple.ch",
        ".max@example.ch",
        "max.@example.ch",
        "max..muster@example.ch",
        "max(comment)@example.ch",
        "\"max\"@example.ch",
        "müller@example.ch",
        "max@müller.ch",
        "max@example.ch\u{0}",
    ];
    for b in bad {
        assert_eq!(
            normalize_email(b),
            Err("is not a valid email address".to_string()),
            "{b:?} should be rejected"
        );
    }
}

#[test]
fn email_rejects_spaces_inside_and_empty() {
    assert_eq!(
        normalize_email("max muster@example.ch"),
        Err("must not contain spaces".into())
    );
    assert_eq!(
        normalize_email("max@exa mple.ch"),
        Err("must not contain spaces".into())
    );
    assert_eq!(
        normalize_email("max@example.ch\u{00A0}x"),
        Err("must not contain spaces".into())
    );
    assert_eq!(normalize_email(""), Err("must not be empty".into()));
    assert_eq!(normalize_email("   "), Err("must not be empty".into()));
}

#[test]
fn email_length_limits() {
    let local64 = "a".repeat(64);
    assert!(normalize_email(&format!("{local64}@example.ch")).is_ok());
    let local65 = "a".repeat(65);
    assert!(normalize_email(&format!("{local65}@example.ch")).is_err());

    let label63 = "b".repeat(63);
    assert!(normalize_email(&format!("x@{label63}.ch")).is_ok());
    let label64 = "b".repeat(64);
    assert!(normalize_email(&format!("x@{label64}.ch")).is_err());

    // 64 + 1 + 63 + 1 + 63 + 1 + 61 = 254 characters: the maximum.
    let at_limit = format!(
        "{}@{}.{}.{}",
        "a".repeat(64),
        "b".repeat(63),
        "c".repeat(63),
        "d".repeat(61)
    );
    assert_eq!(at_limit.len(), 254);
    assert!(normalize_email(&at_limit).is_ok());
    let over = format!(
        "{}@{}.{}.{}",
        "a".repeat(64),
        "b".repeat(63),
        "c".repeat(63),
        "d".repeat(62)
    );
    assert_eq!(normalize_email(&over), Err("is too long".into()));
}

#[test]
fn email_never_panics() {
    for s in ODD_INPUTS {
        let _ = normalize_email(s);
    }
}

// ---------------------------------------------------------------- phone

#[test]
fn phone_swiss_formats() {
    let want = Ok("+41791234567".to_string());
    assert_eq!(normalize_phone("079 123 45 67", "CH"), want);
    assert_eq!(normalize_phone("+41 (0)79 123 45 67", "CH"), want);
    assert_eq!(normalize_phone("0041791234567", "CH"), want);
    assert_eq!(normalize_phone("+41 79 123 45 67", "DE"), want);
    assert_eq!(normalize_phone("0041 (0)79 123 45 67", "DE"), want);
    assert_eq!(normalize_phone("079/123.45.67", "ch"), want);
    assert_eq!(normalize_phone("(079) 123-45-67", " CH "), want);
    assert_eq!(
        normalize_phone("  +41\u{00A0}79\u{2009}123 45 67  ", "CH"),
        want
    );
    assert_eq!(normalize_phone("+41 79 123–45–67", "CH"), want);
    assert_eq!(
        normalize_phone("044 668 18 00", "CH").as_deref(),
        Ok("+41446681800")
    );
}

#[test]
fn phone_german_austrian_and_others() {
    assert_eq!(
        normalize_phone("030 1234567", "DE").as_deref(),
        Ok("+49301234567")
    );
    assert_eq!(
        normalize_phone("+49 (0)30 1234567", "CH").as_deref(),
        Ok("+49301234567")
    );
    assert_eq!(
        normalize_phone("0151 23456789", "DE").as_deref(),
        Ok("+4915123456789")
    );
    assert_eq!(
        normalize_phone("01 5125000", "AT").as_deref(),
        Ok("+4315125000")
    );
    assert_eq!(
        normalize_phone("0664 1234567", "AT").as_deref(),
        Ok("+436641234567")
    );
    assert_eq!(
        normalize_phone("+43 1 234", "CH"),
        Err("is too short".into())
    );
    assert_eq!(
        normalize_phone("235 12 34", "LI").as_deref(),
        Ok("+4232351234")
    );
    assert_eq!(
        normalize_phone("0235 12 34", "LI").as_deref(),
        Ok("+4232351234")
    );
    assert_eq!(
        normalize_phone("(+41) 79 123 45 67", "DE").as_deref(),
        Ok("+41791234567")
    );
    assert_eq!(
        normalize_phone("(0041) 79 123 45 67", "DE").as_deref(),
        Ok("+41791234567")
    );
    assert_eq!(
        normalize_phone("+423 235 12 34", "CH").as_deref(),
        Ok("+4232351234")
    );
    assert_eq!(
        normalize_phone("01 23 45 67 89", "FR").as_deref(),
        Ok("+33123456789")
    );
}

#[test]
fn phone_italy_keeps_leading_zero() {
    assert_eq!(
        normalize_phone("06 1234 5678", "IT").as_deref(),
        Ok("+390612345678")
    );
    assert_eq!(
        normalize_phone("+39 06 1234 5678", "CH").as_deref(),
        Ok("+390612345678")
    );
    assert_eq!(
        normalize_phone("333 123 4567", "IT").as_deref(),
        Ok("+393331234567")
    );
}

#[test]
fn phone_needs_prefix_for_unknown_default_country() {
    let e = Err("needs an international prefix".to_string());
    assert_eq!(normalize_phone("0612345678", "NL"), e);
    assert_eq!(normalize_phone("0612345678", ""), e);
    assert_eq!(normalize_phone("0612345678", "ZZZ"), e);
    assert_eq!(normalize_phone("791234567", "CH"), e);
    assert_eq!(
        normalize_phone("+31 6 12345678", "").as_deref(),
        Ok("+31612345678")
    );
}

#[test]
fn phone_wrong_lengths() {
    assert_eq!(
        normalize_phone("079 123 45 6", "CH"),
        Err("must have 9 digits after +41".into())
    );
    assert_eq!(
        normalize_phone("079 123 45 678", "CH"),
        Err("must have 9 digits after +41".into())
    );
    assert_eq!(
        normalize_phone("+49 30123", "CH"),
        Err("must have 6 to 13 digits after +49".into())
    );
    assert!(normalize_phone("+49 30 123456", "CH").is_ok());
    assert!(normalize_phone("+49 1234567890123", "CH").is_ok());
    assert!(normalize_phone("+49 12345678901234", "CH").is_err());
    assert_eq!(normalize_phone("+1 234", "CH"), Err("is too short".into()));
    assert_eq!(
        normalize_phone("+1234567", "CH"),
        Err("is too short".into())
    );
    assert_eq!(
        normalize_phone("+12345678", "CH").as_deref(),
        Ok("+12345678")
    );
    assert_eq!(
        normalize_phone("+123456789012345", "CH").as_deref(),
        Ok("+123456789012345")
    );
    assert_eq!(
        normalize_phone("+1234567890123456", "CH"),
        Err("is too long".into())
    );
}

#[test]
fn phone_rejects_letters_and_junk() {
    assert_eq!(
        normalize_phone("079 CALL ME", "CH"),
        Err("must not contain letters".into())
    );
    assert_eq!(
        normalize_phone("+41 79 123 45 67 ext 2", "CH"),
        Err("must not contain letters".into())
    );
    assert_eq!(
        normalize_phone("O79 123 45 67", "CH"),
        Err("must not contain letters".into())
    );
    assert_eq!(
        normalize_phone("079 123 45 67 ☎", "CH"),
        Err("contains invalid characters".into())
    );
    assert_eq!(
        normalize_phone("079#1234567", "CH"),
        Err("contains invalid characters".into())
    );
    assert_eq!(
        normalize_phone("٠٧٩١٢٣٤٥٦٧", "CH"),
        Err("contains invalid characters".into())
    );
    assert_eq!(
        normalize_phone("+41 79+123 45 67", "CH"),
        Err("is not a valid phone number".into())
    );
    assert_eq!(
        normalize_phone("+", "CH"),
        Err("is not a valid phone number".into())
    );
    assert_eq!(
        normalize_phone("--", "CH"),
        Err("is not a valid phone number".into())
    );
    assert_eq!(
        normalize_phone("+0 79 123 45 67", "CH"),
        Err("is not a valid phone number".into())
    );
    assert_eq!(
        normalize_phone("000 41 79 123 45", "CH"),
        Err("is not a valid phone number".into())
    );
    assert_eq!(normalize_phone("", "CH"), Err("must not be empty".into()));
    assert_eq!(
        normalize_phone("   ", "CH"),
        Err("must not be empty".into())
    );
}

#[test]
fn phone_rejects_trunk_zero_after_country_code() {
    assert_eq!(
        normalize_phone("+41 079 123 45 67", "CH"),
        Err("must not have a 0 after +41".into())
    );
    assert_eq!(
        normalize_phone("0049 030 1234567", "CH"),
        Err("must not have a 0 after +49".into())
    );
}

#[test]
fn phone_results_are_e164() {
    let inputs = [
        ("079 123 45 67", "CH"),
        ("030 1234567", "DE"),
        ("+43 664 1234567", ""),
        ("06 1234 5678", "IT"),
    ];
    for (s, c) in inputs {
        let p = normalize_phone(s, c).unwrap_or_default();
        assert!(p.starts_with('+'), "{p}");
        let digits = p.get(1..).unwrap_or_default();
        assert!((8..=15).contains(&digits.len()));
        assert!(digits.bytes().all(|b| b.is_ascii_digit()));
        assert!(!digits.starts_with('0'));
        // Normalizing again is a no-op.
        assert_eq!(normalize_phone(&p, "CH").as_deref(), Ok(p.as_str()));
    }
}

#[test]
fn phone_never_panics() {
    for s in ODD_INPUTS {
        for c in ["CH", "DE", "AT", "LI", "FR", "IT", "XX", "", "😀", "ü"] {
            let _ = normalize_phone(s, c);
            let _ = normalize_phone(c, s);
        }
    }
}

// ---------------------------------------------------------------- postcode

#[test]
fn postcode_switzerland_and_liechtenstein() {
    assert_eq!(normalize_postcode("CH", "8001").as_deref(), Ok("8001"));
    assert_eq!(normalize_postcode("ch", " 3000 ").as_deref(), Ok("3000"));
    assert_eq!(normalize_postcode("CH", "1000").as_deref(), Ok("1000"));
    assert_eq!(normalize_postcode("CH", "9999").as_deref(), Ok("9999"));
    assert_eq!(normalize_postcode("LI", "9490").as_deref(), Ok("9490"));
    let e = Err("must be 4 digits from 1000 to 9999".to_string());
    assert_eq!(normalize_postcode("CH", "800"), e);
    assert_eq!(normalize_postcode("CH", "80010"), e);
    assert_eq!(normalize_postcode("CH", "0999"), e);
    assert_eq!(normalize_postcode("CH", "80 01"), e);
    assert_eq!(normalize_postcode("CH", "CH-8001"), e);
    assert_eq!(normalize_postcode("CH", "８００１"), e);
    assert_eq!(normalize_postcode("LI", "094"), e);
}

#[test]
fn postcode_germany_keeps_leading_zero() {
    assert_eq!(normalize_postcode("DE", "01067").as_deref(), Ok("01067"));
    assert_eq!(normalize_postcode("DE", "10115").as_deref(), Ok("10115"));
    let e = Err("must be 5 digits".to_string());
    assert_eq!(normalize_postcode("DE", "1067"), e);
    assert_eq!(normalize_postcode("DE", "101155"), e);
    assert_eq!(normalize_postcode("DE", "D-10115"), e);
    assert_eq!(normalize_postcode("DE", "1O115"), e);
}

#[test]
fn postcode_austria_france_italy_spain() {
    assert_eq!(normalize_postcode("AT", "1010").as_deref(), Ok("1010"));
    assert_eq!(
        normalize_postcode("AT", "101"),
        Err("must be 4 digits".into())
    );
    assert_eq!(
        normalize_postcode("AT", "10100"),
        Err("must be 4 digits".into())
    );
    assert_eq!(normalize_postcode("FR", "75001").as_deref(), Ok("75001"));
    assert_eq!(normalize_postcode("IT", "00184").as_deref(), Ok("00184"));
    assert_eq!(normalize_postcode("ES", "28013").as_deref(), Ok("28013"));
    assert_eq!(
        normalize_postcode("FR", "7500"),
        Err("must be 5 digits".into())
    );
}

#[test]
fn postcode_netherlands() {
    assert_eq!(
        normalize_postcode("NL", "1234 AB").as_deref(),
        Ok("1234 AB")
    );
    assert_eq!(normalize_postcode("NL", "1234ab").as_deref(), Ok("1234 AB"));
    assert_eq!(
        normalize_postcode("NL", " 1234   ab ").as_deref(),
        Ok("1234 AB")
    );
    let e = Err("must look like 1234 AB".to_string());
    assert_eq!(normalize_postcode("NL", "123 AB"), e);
    assert_eq!(normalize_postcode("NL", "1234 A"), e);
    assert_eq!(normalize_postcode("NL", "12 34 AB"), e);
    assert_eq!(normalize_postcode("NL", "ABCD 12"), e);
    assert_eq!(normalize_postcode("NL", "1234 ÄB"), e);
}

#[test]
fn postcode_great_britain() {
    assert_eq!(
        normalize_postcode("GB", "SW1A 1AA").as_deref(),
        Ok("SW1A 1AA")
    );
    assert_eq!(
        normalize_postcode("GB", "sw1a1aa").as_deref(),
        Ok("SW1A 1AA")
    );
    assert_eq!(normalize_postcode("GB", "M1 1AE").as_deref(), Ok("M1 1AE"));
    assert_eq!(
        normalize_postcode("GB", "B33 8TH").as_deref(),
        Ok("B33 8TH")
    );
    assert_eq!(
        normalize_postcode("GB", "EC1A  1BB").as_deref(),
        Ok("EC1A 1BB")
    );
    let e = Err("must look like SW1A 1AA".to_string());
    assert_eq!(normalize_postcode("GB", "SW1A1AAA"), e);
    assert_eq!(normalize_postcode("GB", "1AA"), e);
    assert_eq!(normalize_postcode("GB", "SW 1A1AA"), e);
    assert_eq!(normalize_postcode("GB", "SW1A-1AA"), e);
    assert_eq!(normalize_postcode("GB", "11 1AA"), e);
    assert_eq!(normalize_postcode("GB", "SW1A 11A"), e);
}

#[test]
fn postcode_other_countries() {
    assert_eq!(
        normalize_postcode("US", "90210-1234").as_deref(),
        Ok("90210-1234")
    );
    assert_eq!(normalize_postcode("PL", "00-950").as_deref(), Ok("00-950"));
    assert_eq!(
        normalize_postcode("ca", "k1a  0b1").as_deref(),
        Ok("K1A 0B1")
    );
    assert_eq!(normalize_postcode("", "12").as_deref(), Ok("12"));
    let e = Err("must be 2 to 10 letters, digits, spaces or dashes".to_string());
    assert_eq!(normalize_postcode("US", "1"), e);
    assert_eq!(normalize_postcode("US", "12345678901"), e);
    assert_eq!(normalize_postcode("US", "123_45"), e);
    assert_eq!(normalize_postcode("SE", "ÅÄÖ 12"), e);
    assert_eq!(normalize_postcode("US", "--"), e);
}

#[test]
fn postcode_empty_and_odd_input() {
    for c in ["CH", "DE", "AT", "NL", "GB", "US", ""] {
        assert_eq!(normalize_postcode(c, ""), Err("must not be empty".into()));
        assert_eq!(
            normalize_postcode(c, " \t "),
            Err("must not be empty".into())
        );
        for s in ODD_INPUTS {
            let _ = normalize_postcode(c, s);
            let _ = normalize_postcode(s, s);
        }
    }
}

// ---------------------------------------------------------------- country

#[test]
fn country_accepts_assigned_codes() {
    assert_eq!(normalize_country("CH").as_deref(), Ok("CH"));
    assert_eq!(normalize_country(" de ").as_deref(), Ok("DE"));
    assert_eq!(normalize_country("At").as_deref(), Ok("AT"));
    assert_eq!(normalize_country("li").as_deref(), Ok("LI"));
    for code in ["AQ", "AX", "BQ", "CW", "SS", "SX", "ZW", "AD", "GB", "VA"] {
        assert_eq!(normalize_country(code).as_deref(), Ok(code));
    }
}

#[test]
fn country_list_is_complete_and_sorted() {
    assert_eq!(ISO_3166_ALPHA2.len(), 249);
    assert!(ISO_3166_ALPHA2.windows(2).all(|w| w[0] < w[1]));
    for code in ISO_3166_ALPHA2 {
        assert_eq!(normalize_country(code).as_deref(), Ok(code));
    }
}

#[test]
fn country_rejects_unknown_and_malformed() {
    let unknown = Err("is not a known country code".to_string());
    for code in ["XX", "UK", "EU", "XK", "AN", "YU", "ZZ", "AA"] {
        assert_eq!(normalize_country(code), unknown, "{code}");
    }
    let malformed = Err("must be a two-letter country code".to_string());
    for code in ["CHE", "C", "C1", "12", "Ch!", "ÜB", "C H", "🇨🇭"] {
        assert_eq!(normalize_country(code), malformed, "{code}");
    }
    assert_eq!(normalize_country(""), Err("must not be empty".into()));
    assert_eq!(normalize_country("  "), Err("must not be empty".into()));
    for s in ODD_INPUTS {
        let _ = normalize_country(s);
    }
}

// ---------------------------------------------------------------- luhn / ean

#[test]
fn luhn_check_digit_examples() {
    assert_eq!(luhn_check_digit("7992739871"), Some(3));
    assert_eq!(luhn_check_digit("0"), Some(0));
    assert_eq!(luhn_check_digit("1"), Some(8));
    assert_eq!(luhn_check_digit("453201511283036"), Some(6));
    assert_eq!(luhn_check_digit(""), None);
    assert_eq!(luhn_check_digit("79927 39871"), None);
    assert_eq!(luhn_check_digit("7992739871a"), None);
    assert_eq!(luhn_check_digit("٧٩٩"), None);
}

#[test]
fn luhn_valid_examples() {
    assert!(luhn_valid("79927398713"));
    assert!(luhn_valid("4532015112830366"));
    assert!(luhn_valid("00"));
    assert!(!luhn_valid("79927398710"));
    assert!(!luhn_valid("79927398731"));
    assert!(!luhn_valid(""));
    assert!(!luhn_valid("3"));
    assert!(!luhn_valid("7992739871x"));
    assert!(!luhn_valid("7992739871😀"));
    assert!(!luhn_valid(" 79927398713"));
}

#[test]
fn luhn_detects_every_single_digit_error() {
    let valid = "79927398713";
    for i in 0..valid.len() {
        for d in b'0'..=b'9' {
            let mut bytes = valid.as_bytes().to_vec();
            if bytes[i] == d {
                continue;
            }
            bytes[i] = d;
            let changed = String::from_utf8(bytes).unwrap_or_default();
            assert!(!luhn_valid(&changed), "{changed} should be invalid");
        }
    }
}

#[test]
fn luhn_long_input_does_not_overflow() {
    let long = "9".repeat(100_000);
    assert!(luhn_check_digit(&long).is_some());
    for s in ODD_INPUTS {
        let _ = luhn_check_digit(s);
        let _ = luhn_valid(s);
    }
}

#[test]
fn ean13_check_digit_examples() {
    assert_eq!(ean13_check_digit("400638133393"), Some(1));
    assert_eq!(ean13_check_digit("761234567890"), Some(0));
    assert_eq!(ean13_check_digit("000000000000"), Some(0));
    assert_eq!(ean13_check_digit("978030640615"), Some(7));
    assert_eq!(ean13_check_digit("40063813339"), None);
    assert_eq!(ean13_check_digit("4006381333931"), None);
    assert_eq!(ean13_check_digit("40063813339a"), None);
    assert_eq!(ean13_check_digit(""), None);
    assert_eq!(ean13_check_digit("４００６３８１３３３９３"), None);
    for s in ODD_INPUTS {
        let _ = ean13_check_digit(s);
    }
}

// ---------------------------------------------------------------- card numbers

#[test]
fn card_number_accepts_and_strips_spaces() {
    assert_eq!(
        normalize_card_number(" 1234 5678 ").as_deref(),
        Ok("12345678")
    );
    assert_eq!(
        normalize_card_number("1234567890123456789").as_deref(),
        Ok("1234567890123456789")
    );
    // 13 digits not in the in-store range: no EAN check.
    assert_eq!(
        normalize_card_number("4006381333932").as_deref(),
        Ok("4006381333932")
    );
}

#[test]
fn card_numbers_of_any_scheme_are_accepted() {
    // Retailers print their own card schemes; API.md's own example has no EAN-13 check digit.
    assert_eq!(
        normalize_card_number("2900123456789").as_deref(),
        Ok("2900123456789")
    );
    assert_eq!(
        normalize_card_number("2 0001 2345 678 2").as_deref(),
        Ok("2000123456782")
    );
}

#[test]
fn card_number_rejects_bad_input() {
    assert_eq!(normalize_card_number(""), Err("must not be empty".into()));
    assert_eq!(
        normalize_card_number("   "),
        Err("must not be empty".into())
    );
    assert_eq!(
        normalize_card_number("1234567"),
        Err("must have 8 to 19 digits".into())
    );
    assert_eq!(
        normalize_card_number("12345678901234567890"),
        Err("must have 8 to 19 digits".into())
    );
    assert_eq!(
        normalize_card_number("1234-5678"),
        Err("must contain only digits".into())
    );
    assert_eq!(
        normalize_card_number("1234567A"),
        Err("must contain only digits".into())
    );
    assert_eq!(
        normalize_card_number("１２３４５６７８"),
        Err("must contain only digits".into())
    );
    for s in ODD_INPUTS {
        let _ = normalize_card_number(s);
    }
}

// ---------------------------------------------------------------- names

#[test]
fn name_trims_and_collapses() {
    assert_eq!(
        normalize_name("  Anna   Maria  ", 50).as_deref(),
        Ok("Anna Maria")
    );
    assert_eq!(
        normalize_name("Anna\tMaria\nMeier", 50).as_deref(),
        Ok("Anna Maria Meier")
    );
    assert_eq!(
        normalize_name("Müller-Lüdenscheidt", 50).as_deref(),
        Ok("Müller-Lüdenscheidt")
    );
    assert_eq!(normalize_name("O'Brien", 50).as_deref(), Ok("O'Brien"));
    assert_eq!(
        normalize_name("Bahnhofstrasse 12", 50).as_deref(),
        Ok("Bahnhofstrasse 12")
    );
    assert_eq!(normalize_name("李小龙", 50).as_deref(), Ok("李小龙"));
    assert_eq!(normalize_name("Zoë 😀", 50).as_deref(), Ok("Zoë 😀"));
    assert_eq!(
        normalize_name("Jean\u{00A0}Luc", 50).as_deref(),
        Ok("Jean Luc")
    );
}

#[test]
fn name_length_counts_chars_not_bytes() {
    // "Ä" is two bytes but one character.
    let s = "Ä".repeat(10);
    assert_eq!(normalize_name(&s, 10).as_deref(), Ok(s.as_str()));
    assert_eq!(
        normalize_name(&"Ä".repeat(11), 10),
        Err("is too long (at most 10 characters)".into())
    );
    // Collapsed spaces do not count against the limit.
    assert!(normalize_name("ab      cd", 5).is_ok());
    assert!(normalize_name("a", 0).is_err());
}

#[test]
fn name_rejects_controls_and_letterless() {
    assert_eq!(normalize_name("", 50), Err("must not be empty".into()));
    assert_eq!(
        normalize_name(" \t\n ", 50),
        Err("must not be empty".into())
    );
    assert_eq!(
        normalize_name("Anna\u{0}", 50),
        Err("contains invalid characters".into())
    );
    assert_eq!(
        normalize_name("Anna\u{1B}[31m", 50),
        Err("contains invalid characters".into())
    );
    assert_eq!(
        normalize_name("Anna\u{7F}", 50),
        Err("contains invalid characters".into())
    );
    assert_eq!(normalize_name("Anna\u{85}x", 50), Ok("Anna x".into()));
    assert_eq!(
        normalize_name("Anna\u{9B}x", 50),
        Err("contains invalid characters".into())
    );
    assert_eq!(
        normalize_name("Anna\u{202E}reieM", 50),
        Err("contains invalid characters".into())
    );
    assert_eq!(
        normalize_name("12345", 50),
        Err("must contain a letter".into())
    );
    assert_eq!(
        normalize_name("---", 50),
        Err("must contain a letter".into())
    );
    assert_eq!(
        normalize_name("😀😀", 50),
        Err("must contain a letter".into())
    );
}

#[test]
fn name_never_panics() {
    for s in ODD_INPUTS {
        for max in [0, 1, 2, 100, usize::MAX] {
            let _ = normalize_name(s, max);
        }
    }
}

// ---------------------------------------------------------------- property-ish

/// Tiny deterministic xorshift generator so the random tests are reproducible without deps.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n.max(1)).unwrap_or(1)).unwrap_or(0)
    }

    /// A random string mixing digits, separators, umlauts, combining marks, emoji and controls.
    fn string(&mut self) -> String {
        const POOL: &[char] = &[
            '0',
            '1',
            '2',
            '4',
            '7',
            '9',
            '+',
            '(',
            ')',
            ' ',
            '-',
            '.',
            '/',
            '@',
            'a',
            'Z',
            'e',
            'u',
            'ä',
            'Ö',
            'ü',
            'ß',
            'ẞ',
            'é',
            'Æ',
            'ø',
            'İ',
            'ǅ',
            'ﬁ',
            '\u{308}',
            '\u{301}',
            '\u{0}',
            '\t',
            '\n',
            '\u{85}',
            '\u{A0}',
            '\u{202E}',
            '\u{FEFF}',
            '😀',
            '🇨',
            '日',
            '٣',
            '１',
            'Ω',
            '\u{10FFFF}',
            '_',
            '\'',
            '"',
        ];
        let len = self.below(24);
        (0..len)
            .map(|_| POOL.get(self.below(POOL.len())).copied().unwrap_or('x'))
            .collect()
    }
}

#[test]
fn random_inputs_never_panic_and_outputs_are_stable() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let countries = ["CH", "DE", "AT", "LI", "IT", "NL", "GB", "US", "", "xx"];
    for _ in 0..20_000 {
        let s = rng.string();
        let country = countries
            .get(rng.below(countries.len()))
            .copied()
            .unwrap_or("CH");

        let f = fold(&s);
        assert_eq!(fold(&f), f, "fold {s:?}");
        let p = fold_plain(&s);
        assert_eq!(fold_plain(&p), p, "fold_plain {s:?}");

        if let Ok(e) = normalize_email(&s) {
            assert_eq!(normalize_email(&e).as_deref(), Ok(e.as_str()));
        }
        if let Ok(n) = normalize_phone(&s, country) {
            assert_eq!(normalize_phone(&n, "").as_deref(), Ok(n.as_str()), "{s:?}");
        }
        if let Ok(pc) = normalize_postcode(country, &s) {
            assert_eq!(normalize_postcode(country, &pc).as_deref(), Ok(pc.as_str()));
        }
        let _ = normalize_country(&s);
        let _ = luhn_check_digit(&s);
        let _ = luhn_valid(&s);
        let _ = ean13_check_digit(&s);
        if let Ok(c) = normalize_card_number(&s) {
            assert_eq!(normalize_card_number(&c).as_deref(), Ok(c.as_str()));
        }
        let max = rng.below(30);
        if let Ok(n) = normalize_name(&s, max) {
            assert!(n.chars().count() <= max);
            assert_eq!(normalize_name(&n, max).as_deref(), Ok(n.as_str()));
        }
    }
}

#[test]
fn random_digit_strings_roundtrip_through_check_digits() {
    let mut rng = Rng(42);
    for _ in 0..2_000 {
        let len = 1 + rng.below(30);
        let digits: String = (0..len)
            .map(|_| char::from(b'0' + u8::try_from(rng.below(10)).unwrap_or(0)))
            .collect();
        let check = luhn_check_digit(&digits);
        assert!(check.is_some_and(|c| c <= 9));
        let full = format!("{digits}{}", check.unwrap_or(0));
        assert!(luhn_valid(&full), "{full}");

        let twelve: String = digits.chars().cycle().take(12).collect();
        let ean = ean13_check_digit(&twelve);
        assert!(ean.is_some_and(|c| c <= 9));
        let with2 = format!("2{}", twelve.get(1..).unwrap_or_default());
        let ean2 = ean13_check_digit(&with2).unwrap_or(0);
        let card = format!("{with2}{ean2}");
        assert_eq!(normalize_card_number(&card).as_deref(), Ok(card.as_str()));
    }
}
