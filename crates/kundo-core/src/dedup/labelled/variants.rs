//! How the same name or street comes out when someone types it again: the spelling, typing and
//! abbreviation habits the duplicate rules have to see through.

use crate::demo::DemoRng;

/// Umlaut transliterations as people type them without a German keyboard or on a form that
/// refuses umlauts: "Müller" becomes "Mueller" or "Muller".
const UMLAUTS: &[(char, &[&str])] = &[
    ('ä', &["ae", "a"]),
    ('ö', &["oe", "o"]),
    ('ü', &["ue", "u"]),
    ('Ä', &["Ae", "A"]),
    ('Ö', &["Oe", "O"]),
    ('Ü', &["Ue", "U"]),
    ('ß', &["ss"]),
    ('é', &["e"]),
    ('è', &["e"]),
];

/// German spelling alternations heard the same and written either way ("Meier"/"Maier",
/// "Schmidt"/"Schmitt", "Philipp"/"Filipp", "Claudia"/"Klaudia").
const ALTERNATIONS: &[(&str, &str)] = &[
    ("ei", "ai"),
    ("ai", "ei"),
    ("ey", "ei"),
    ("ay", "ai"),
    ("dt", "tt"),
    ("th", "t"),
    ("ph", "f"),
    ("Ph", "F"),
    ("ck", "k"),
    ("tz", "z"),
    ("ff", "f"),
    ("mm", "m"),
    ("nn", "n"),
    ("ll", "l"),
    ("ie", "i"),
    ("C", "K"),
    ("K", "C"),
    ("y", "i"),
];

/// The same name spelt another way: an umlaut transliterated, else a spelling alternation,
/// else typed in capitals.
pub(super) fn spelling(rng: &mut DemoRng, name: &str) -> String {
    let umlauts: Vec<(usize, char)> = name
        .char_indices()
        .filter(|(_, c)| UMLAUTS.iter().any(|(u, _)| u == c))
        .collect();
    if !umlauts.is_empty() {
        let (at, c) = *rng.pick(&umlauts);
        let choices = UMLAUTS
            .iter()
            .find(|(u, _)| *u == c)
            .map_or(&[][..], |(_, r)| *r);
        if !choices.is_empty() {
            let replacement = *rng.pick(choices);
            return format!(
                "{}{}{}",
                &name[..at],
                replacement,
                &name[at + c.len_utf8()..]
            );
        }
    }
    let options: Vec<&(&str, &str)> = ALTERNATIONS
        .iter()
        .filter(|(from, _)| name.contains(from))
        .collect();
    if options.is_empty() {
        return name.to_uppercase();
    }
    let (from, to) = **rng.pick(&options);
    name.replacen(from, to, 1)
}

/// Rows of a Swiss/German QWERTZ keyboard: a slipped finger hits a neighbour on the same row.
const KEY_ROWS: [&str; 3] = ["qwertzuiopü", "asdfghjklöä", "yxcvbnm"];

/// A letter next to `c` on the keyboard (a random letter if `c` is not on it).
fn neighbour(rng: &mut DemoRng, c: char) -> char {
    let lower: char = c.to_lowercase().next().unwrap_or(c);
    let mut candidates: Vec<char> = Vec::new();
    for row in KEY_ROWS {
        let keys: Vec<char> = row.chars().collect();
        if let Some(i) = keys.iter().position(|&k| k == lower) {
            if let Some(&k) = i.checked_sub(1).and_then(|p| keys.get(p)) {
                candidates.push(k);
            }
            if let Some(&k) = keys.get(i + 1) {
                candidates.push(k);
            }
        }
    }
    let picked = if candidates.is_empty() {
        char::from(b'a' + rng.below(26) as u8)
    } else {
        *rng.pick(&candidates)
    };
    if c.is_uppercase() {
        picked.to_uppercase().next().unwrap_or(picked)
    } else {
        picked
    }
}

/// One typing error anywhere in the name: a neighbouring key, a dropped letter or two letters
/// swapped. Names of fewer than three letters are left alone (nobody mistypes "Li" unnoticed).
pub(super) fn typo(rng: &mut DemoRng, name: &str) -> String {
    let mut chars: Vec<char> = name.chars().collect();
    let n = chars.len();
    if n < 3 {
        return name.to_string();
    }
    let kind = rng.below(10);
    if kind < 4 {
        let at = rng.below(n as u64) as usize;
        if let Some(c) = chars.get_mut(at) {
            *c = neighbour(rng, *c);
        }
    } else if kind < 7 {
        let at = rng.below(n as u64) as usize;
        chars.remove(at);
    } else {
        // Swap two different neighbours, or it would be no typo at all.
        let spots: Vec<usize> = (0..n - 1)
            .filter(|&i| chars.get(i) != chars.get(i + 1))
            .collect();
        if spots.is_empty() {
            return name.to_string();
        }
        let at = *rng.pick(&spots);
        chars.swap(at, at + 1);
        // Keep the capital where it was: "Mleier" → "mLeier" is not how people mistype.
        if at == 0 {
            let (a, b) = (chars[0], chars[1]);
            chars[0] = a.to_uppercase().next().unwrap_or(a);
            chars[1] = b.to_lowercase().next().unwrap_or(b);
        }
    }
    chars.into_iter().collect()
}

/// The same address written another way: the generic street part abbreviated, spelt out,
/// with or without ß or split off; else the house number suffix spaced or in capitals; else the
/// street in lower case.
pub(super) fn street(rng: &mut DemoRng, street: &str, house: &str) -> (String, String) {
    for (long, forms) in [
        ("straße", &["str.", "strasse", "str", " Strasse"][..]),
        ("strasse", &["str.", "straße", "str", " Strasse"][..]),
        ("Straße", &["Str.", "Strasse"][..]),
        ("Strasse", &["Str.", "Straße"][..]),
        ("platz", &["pl.", " Platz"][..]),
        ("Platz", &["Pl."][..]),
    ] {
        if let Some(stem) = street.strip_suffix(long) {
            let form = *rng.pick(forms);
            return (format!("{stem}{form}"), house.to_string());
        }
        if let Some(at) = street.find(&format!("{long} ")) {
            let form = *rng.pick(forms);
            let rest = &street[at + long.len()..];
            return (format!("{}{form}{rest}", &street[..at]), house.to_string());
        }
    }
    if let Some(last) = house.chars().last()
        && last.is_alphabetic()
    {
        let digits = &house[..house.len() - last.len_utf8()];
        let upper = last.to_uppercase().to_string();
        let form = match rng.below(3) {
            0 => format!("{digits} {last}"),
            1 => format!("{digits}{upper}"),
            _ => format!("{digits} {upper}"),
        };
        return (street.to_string(), form);
    }
    (street.to_lowercase(), house.to_string())
}
