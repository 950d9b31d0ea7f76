//! The text a customer is found by, and how a typed query becomes search terms. Both sides are
//! folded the same way, so "Müller", "Mueller" and "MUELLER" meet in the middle; the document also
//! carries the dot-less variant so that "Muller" finds "Müller" too.

use crate::contact::{fold, fold_plain};
use crate::customer::CustomerData;

/// Builds the search document of one customer.
pub fn search_doc(customer_number: &str, d: &CustomerData) -> String {
    let mut parts: Vec<String> = Vec::with_capacity(16);
    parts.push(customer_number.to_lowercase());
    for name in [&d.first_name, &d.last_name, &d.company_name]
        .into_iter()
        .flatten()
    {
        let folded = fold(name);
        let plain = fold_plain(name);
        if plain != folded {
            parts.push(plain);
        }
        parts.push(folded);
    }
    if let Some(email) = &d.email {
        parts.push(email.clone());
    }
    for p in &d.phones {
        let digits: String = p.number.chars().filter(char::is_ascii_digit).collect();
        parts.push(national_form(&p.number).unwrap_or_default());
        parts.push(digits);
    }
    for a in &d.addresses {
        parts.push(a.postcode.to_lowercase());
        parts.push(fold(&a.city));
        parts.push(fold(&a.street));
    }
    for c in &d.card_numbers {
        parts.push(c.clone());
    }
    for contact in &d.contacts {
        parts.push(fold(&contact.last_name));
    }
    parts.retain(|p| !p.is_empty());
    parts.join(" ")
}

/// "+41791234567" → "0791234567": how people in CH, DE and AT type their own numbers.
fn national_form(e164: &str) -> Option<String> {
    for cc in ["+41", "+49", "+43", "+423"] {
        if let Some(rest) = e164.strip_prefix(cc) {
            return Some(format!("0{rest}"));
        }
    }
    None
}

/// Digits of the shortest query that is read as an international number with `00`.
const MIN_INTERNATIONAL_DIGITS: usize = 10;

/// Splits a query into folded terms. Phone-like terms lose their separators and a leading `+`.
pub fn search_terms(query: &str) -> Vec<String> {
    let q = query.trim();
    if !q.is_empty()
        && q.chars()
            .all(|c| c.is_ascii_digit() || " +-/().".contains(c))
    {
        let digits: String = q.chars().filter(char::is_ascii_digit).collect();
        // "0041 79 …" is an international prefix; "007" or "0012" are not (the shortest
        // international number has 00, a country code and some seven digits).
        let digits = match digits.strip_prefix("00") {
            Some(rest) if digits.len() >= MIN_INTERNATIONAL_DIGITS => rest.to_string(),
            _ => digits,
        };
        return if digits.is_empty() {
            Vec::new()
        } else {
            vec![digits]
        };
    }
    fold(q)
        .split_whitespace()
        .map(|t| t.trim_matches(|c: char| "-.+".contains(c)).to_string())
        .filter(|t| !t.is_empty())
        .take(8)
        .collect()
}

/// Ranks a candidate found for `terms` by its search document and display name: whole-word
/// hits beat prefixes, prefixes beat substrings, and the name's Jaro-Winkler similarity to the
/// query breaks ties. 0..=1000.
pub fn score(terms: &[String], doc: &str, display_name: &str) -> u32 {
    if terms.is_empty() {
        return 0;
    }
    let mut hits = 0u32;
    for t in terms {
        hits += if doc.split(' ').any(|w| w == t) {
            3
        } else if doc.split(' ').any(|w| w.starts_with(t.as_str())) {
            2
        } else {
            1
        };
    }
    let per_term = hits * 600 / (3 * terms.len() as u32);
    let name = fold(display_name);
    let query = terms.join(" ");
    let similarity = strsim::jaro_winkler(&query, &name);
    // jaro_winkler is within 0.0..=1.0; the cast cannot overflow.
    per_term + (similarity * 400.0).round() as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::customer::{Address, Phone};

    fn mueller() -> CustomerData {
        CustomerData {
            first_name: Some("Jürg".into()),
            last_name: Some("Müller".into()),
            email: Some("j.mueller@example.ch".into()),
            phones: vec![Phone {
                kind: "mobile".into(),
                number: "+41791234567".into(),
            }],
            addresses: vec![Address {
                kind: "main".into(),
                street: "Bahnhofstrasse".into(),
                house_number: Some("1".into()),
                address_line2: None,
                postcode: "8001".into(),
                city: "Zürich".into(),
                country: "CH".into(),
            }],
            card_numbers: vec!["2900000000018".into()],
            ..Default::default()
        }
    }

    #[test]
    fn umlaut_spellings_meet() {
        let doc = search_doc("10000011", &mueller());
        for q in [
            "Müller", "Mueller", "MUELLER", "Muller", "zürich", "Zuerich",
        ] {
            for t in search_terms(q) {
                assert!(doc.contains(&t), "{q} → {t} not in {doc}");
            }
        }
    }

    #[test]
    fn phone_queries_match_both_forms() {
        let doc = search_doc("10000011", &mueller());
        for q in ["079 123 45 67", "+41 79 123 45 67", "0041791234567"] {
            let t = search_terms(q);
            assert_eq!(t.len(), 1);
            assert!(doc.contains(&t[0]), "{q}");
        }
    }

    #[test]
    fn leading_zeros_of_short_numbers_stay() {
        assert_eq!(search_terms("007"), ["007"]);
        assert_eq!(search_terms("0000"), ["0000"]);
        assert_eq!(search_terms("0012 34"), ["001234"]);
        assert_eq!(search_terms("0049 30 1234567"), ["49301234567"]);
    }

    #[test]
    fn whole_words_and_close_names_rank_first() {
        let terms = search_terms("Müller");
        let exact = score(&terms, "10000011 jurg juerg muller mueller", "Jürg Müller");
        let prefix = score(&terms, "10000012 anna muellerova", "Anna Muellerova");
        let inner = score(&terms, "10000013 hans schmueller", "Hans Schmueller");
        assert!(exact > prefix && prefix > inner, "{exact} {prefix} {inner}");
        assert!(exact <= 1000);
        assert_eq!(score(&[], "x", "y"), 0);
    }
}
