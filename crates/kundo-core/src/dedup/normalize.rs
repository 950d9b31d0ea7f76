//! Comparison keys for the parts of an address and of a name. They exist only to be compared:
//! nobody reads them, so they may drop whatever varies between two spellings of the same thing.

use crate::contact::{fold, fold_plain};

/// Street key: "Bahnhofstraße" == "Bahnhofstr." == "Bahnhof Strasse" → "bahnhofstr".
///
/// Staff and customers abbreviate the generic part of a street name freely and split or join
/// it at will, so that part is reduced to one short form and all spaces and punctuation go.
/// Umlauts fold to "ae" (`fold`), so "Rämistrasse" and "Raemistrasse" match too.
pub fn normalize_street(s: &str) -> String {
    let folded = fold(s);
    let mut out = String::with_capacity(folded.len());
    for word in folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        match word {
            "strasse" | "str" => out.push_str("str"),
            "platz" | "pl" => out.push_str("pl"),
            "avenue" | "av" => out.push_str("av"),
            _ => {
                if let Some(stem) = word.strip_suffix("strasse") {
                    out.push_str(stem);
                    out.push_str("str");
                } else if let Some(stem) = word.strip_suffix("platz") {
                    out.push_str(stem);
                    out.push_str("pl");
                } else {
                    out.push_str(word);
                }
            }
        }
    }
    out
}

/// House number key: "12 a", "12A", "12-a" → "12a"; "12/1" stays; "012" → "12"; "12-14" stays.
///
/// The letter suffix is written with or without a space or hyphen and in either case, so only
/// letters, digits and the slash count. A hyphen between two digits is a range, not a
/// separator, and is kept so that "12-14" does not turn into house number 1214.
pub fn normalize_house_number(s: &str) -> String {
    let kept: Vec<char> = s
        .chars()
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric() || matches!(c, '/' | '-'))
        .collect();
    let mut out = String::with_capacity(kept.len());
    for (i, &c) in kept.iter().enumerate() {
        if c == '-' {
            let prev_digit = i
                .checked_sub(1)
                .and_then(|p| kept.get(p))
                .is_some_and(char::is_ascii_digit);
            let next_digit = kept.get(i + 1).is_some_and(char::is_ascii_digit);
            if prev_digit && next_digit {
                out.push('-');
            }
            continue;
        }
        // A zero that starts a number (at the start or after a separator) is padding, unless
        // the number is zero itself.
        let starts_number = out.is_empty() || out.ends_with(['/', '-']);
        let more_digits_follow = kept.get(i + 1).is_some_and(char::is_ascii_digit);
        if c == '0' && starts_number && more_digits_follow {
            continue;
        }
        out.push(c);
    }
    out
}

/// Postcode as compared: upper case without spaces, digits untouched ("01067" stays "01067").
pub(super) fn postcode_key(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

/// A name for comparison: folded, every run of non-letters (hyphen, dot, apostrophe) one space,
/// so that "Hans-Peter" and "Hans Peter" are the same name. `plain` selects `fold_plain`.
pub(super) fn name_key(s: &str, plain: bool) -> String {
    let folded = if plain { fold_plain(s) } else { fold(s) };
    folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Legal forms that say nothing about which company it is ("Meier AG" is "Meier GmbH").
const LEGAL_FORMS: &[&str] = &[
    "ag",
    "gmbh",
    "sa",
    "sarl",
    "sagl",
    "kg",
    "og",
    "ohg",
    "ek",
    "eu",
    "ug",
    "haftungsbeschraenkt",
    "co",
    "gbr",
    "se",
    "ltd",
    "inc",
    "llc",
];

/// Company name key: as [`name_key`], with trailing legal forms removed (unless nothing else is
/// left), so "Meier Architektur AG" and "Meier Architektur GmbH" compare equal.
pub(super) fn company_key(s: &str) -> String {
    let key = name_key(s, false);
    let mut words: Vec<&str> = key.split(' ').filter(|w| !w.is_empty()).collect();
    // "e.K." and "e.U." fold into two one-letter words.
    while words.len() > 1 {
        let n = words.len();
        let last = words[n - 1];
        if LEGAL_FORMS.contains(&last) {
            words.pop();
        } else if n > 2 && words[n - 2] == "e" && matches!(last, "k" | "u") {
            words.truncate(n - 2);
        } else {
            break;
        }
    }
    words.join(" ")
}
