//! Validation and normalization of contact data (names, e-mail, phone, postcode, country,
//! customer card numbers) for Swiss, German and Austrian retail customers.
//!
//! Every function is total: it never panics, whatever the input. Failures are returned as
//! `Err(String)` holding a short English message meant to be shown next to the form field,
//! e.g. "is not a valid email address".

#[cfg(test)]
mod tests;

/// Error message shared by the functions that refuse blank input.
const EMPTY: &str = "must not be empty";

/// Lower-case search key for names, streets and cities: German umlauts become "ae/oe/ue",
/// other diacritics are stripped, punctuation runs become one space.
pub fn fold(s: &str) -> String {
    fold_with(s, true)
}

/// Search key like [`fold`] but umlauts simply lose their dots, so "Muller" also finds "Müller".
pub fn fold_plain(s: &str) -> String {
    fold_with(s, false)
}

/// Shared implementation of [`fold`] and [`fold_plain`]; `umlaut_e` selects ü→ue versus ü→u.
fn fold_with(s: &str, umlaut_e: bool) -> String {
    let mut out = String::with_capacity(s.len());
    // A separator seen since the last kept character; written lazily so that the result is
    // trimmed and runs of separators collapse into one space.
    let mut pending_space = false;
    // Last base letter written, so that a decomposed umlaut ("u" + U+0308) folds like "ü".
    let mut last_base: Option<char> = None;
    for c in s.chars().flat_map(char::to_lowercase) {
        if is_combining_mark(c) {
            if c == '\u{308}' && umlaut_e && matches!(last_base, Some('a' | 'o' | 'u')) {
                out.push('e');
            }
            last_base = None;
            continue;
        }
        let replacement = fold_char(c, umlaut_e);
        let keep =
            replacement.is_some() || c.is_alphanumeric() || matches!(c, '@' | '.' | '+' | '-');
        if !keep {
            pending_space = true;
            last_base = None;
            continue;
        }
        if pending_space && !out.is_empty() {
            out.push(' ');
        }
        pending_space = false;
        match replacement {
            Some(r) => {
                out.push_str(r);
                last_base = None;
            }
            None => {
                out.push(c);
                last_base = Some(c);
            }
        }
    }
    out
}

/// True for combining diacritical marks, which folding drops (they decorate the preceding letter).
fn is_combining_mark(c: char) -> bool {
    matches!(
        c,
        '\u{0300}'..='\u{036F}'
            | '\u{1AB0}'..='\u{1AFF}'
            | '\u{1DC0}'..='\u{1DFF}'
            | '\u{20D0}'..='\u{20FF}'
            | '\u{FE20}'..='\u{FE2F}'
    )
}

/// ASCII replacement of one already lower-cased letter, or `None` if it is kept as it is.
fn fold_char(c: char, umlaut_e: bool) -> Option<&'static str> {
    let r = match c {
        'ä' | 'ǟ' => {
            if umlaut_e {
                "ae"
            } else {
                "a"
            }
        }
        'ö' | 'ȫ' => {
            if umlaut_e {
                "oe"
            } else {
                "o"
            }
        }
        'ü' | 'ǖ' | 'ǘ' | 'ǚ' | 'ǜ' => {
            if umlaut_e {
                "ue"
            } else {
                "u"
            }
        }
        'ß' => "ss",
        'æ' | 'ǽ' | 'ǣ' => "ae",
        'œ' => "oe",
        'þ' => "th",
        'ĳ' => "ij",
        'ﬀ' => "ff",
        'ﬁ' => "fi",
        'ﬂ' => "fl",
        'ﬃ' => "ffi",
        'ﬄ' => "ffl",
        'ﬅ' | 'ﬆ' => "st",
        'à' | 'á' | 'â' | 'ã' | 'å' | 'ā' | 'ă' | 'ą' | 'ǎ' | 'ǻ' | 'ȁ' | 'ȃ' | 'ȧ' | 'ạ' | 'ả'
        | 'ấ' | 'ầ' | 'ẩ' | 'ẫ' | 'ậ' | 'ắ' | 'ằ' | 'ẳ' | 'ẵ' | 'ặ' => "a",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'ð' | 'ď' | 'đ' | 'ḍ' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' | 'ȅ' | 'ȇ' | 'ȩ' | 'ẹ' | 'ẻ' | 'ẽ'
        | 'ế' | 'ề' | 'ể' | 'ễ' | 'ệ' => "e",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' | 'ǧ' => "g",
        'ĥ' | 'ħ' | 'ḥ' => "h",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' | 'ǐ' | 'ȉ' | 'ȋ' | 'ị' | 'ỉ' => {
            "i"
        }
        'ĵ' | 'ǰ' => "j",
        'ķ' | 'ĸ' | 'ǩ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'ṃ' => "m",
        'ñ' | 'ń' | 'ņ' | 'ň' | 'ŉ' | 'ŋ' | 'ǹ' | 'ṇ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ø' | 'ō' | 'ŏ' | 'ő' | 'ơ' | 'ǒ' | 'ǿ' | 'ȍ' | 'ȏ' | 'ȯ' | 'ọ'
        | 'ỏ' | 'ố' | 'ồ' | 'ổ' | 'ỗ' | 'ộ' | 'ớ' | 'ờ' | 'ở' | 'ỡ' | 'ợ' => {
            "o"
        }
        'ŕ' | 'ŗ' | 'ř' | 'ȑ' | 'ȓ' | 'ṛ' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' | 'ș' | 'ſ' | 'ṣ' => "s",
        'ţ' | 'ť' | 'ŧ' | 'ț' | 'ṭ' => "t",
        'ù' | 'ú' | 'û' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' | 'ư' | 'ǔ' | 'ȕ' | 'ȗ' | 'ụ' | 'ủ'
        | 'ứ' | 'ừ' | 'ử' | 'ữ' | 'ự' => "u",
        'ŵ' => "w",
        'ý' | 'ÿ' | 'ŷ' | 'ỳ' | 'ỵ' | 'ỷ' | 'ỹ' => "y",
        'ź' | 'ż' | 'ž' | 'ẓ' => "z",
        _ => return None,
    };
    Some(r)
}

/// Canonical lower-case e-mail address for storage and duplicate detection; rejects malformed input.
///
/// Only plain ASCII addresses are accepted (no quoted local parts, no internationalized
/// addresses); the local part uses the RFC 5322 "atext" characters and single inner dots.
pub fn normalize_email(s: &str) -> Result<String, String> {
    const INVALID: &str = "is not a valid email address";
    let t = s.trim();
    if t.is_empty() {
        return Err(EMPTY.to_string());
    }
    if t.chars().any(char::is_whitespace) {
        return Err("must not contain spaces".to_string());
    }
    if !t.is_ascii() {
        return Err(INVALID.to_string());
    }
    let email = t.to_ascii_lowercase();
    if email.len() > 254 {
        return Err("is too long".to_string());
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err(INVALID.to_string());
    };
    if domain.contains('@') || !valid_email_local(local) || !valid_email_domain(domain) {
        return Err(INVALID.to_string());
    }
    Ok(email)
}

/// Local part check: 1..=64 atext characters, dots only between them.
fn valid_email_local(local: &str) -> bool {
    !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".!#$%&'*+/=?^_`{|}~-".contains(c))
}

/// Domain check: at least two labels of [a-z0-9-] (no edge hyphens, max 63), alphabetic TLD of 2+.
fn valid_email_domain(domain: &str) -> bool {
    if domain.len() > 253 {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return false;
    }
    let labels_ok = labels.iter().all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    });
    let tld_ok = labels
        .last()
        .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
    labels_ok && tld_ok
}

/// Country calling code for the default countries we can interpret national numbers in.
fn calling_code(country: &str) -> Option<&'static str> {
    match country {
        "CH" => Some("41"),
        "DE" => Some("49"),
        "AT" => Some("43"),
        "LI" => Some("423"),
        "FR" => Some("33"),
        "IT" => Some("39"),
        _ => None,
    }
}

/// Phone number in E.164 form ("+41791234567") so that the same number is always stored the same way.
///
/// A national number ("079 123 45 67") is read in `default_country`; Italian numbers keep
/// their leading 0, and Italian mobile ("333 …") and Liechtenstein ("235 12 34") numbers,
/// which have no trunk 0, are accepted as written.
/// A trunk 0 written right after the country code ("+41 079 …") is refused unless it is
/// written as "(0)".
pub fn normalize_phone(s: &str, default_country: &str) -> Result<String, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err(EMPTY.to_string());
    }
    if t.chars().any(char::is_alphabetic) {
        return Err("must not contain letters".to_string());
    }
    // Keep digits, '+' and parentheses; drop separators; refuse everything else.
    let mut compact = String::with_capacity(t.len());
    for c in t.chars() {
        match c {
            '0'..='9' | '+' | '(' | ')' => compact.push(c),
            '-' | '.' | '/' | '\u{2010}'..='\u{2015}' => {}
            c if c.is_whitespace() => {}
            _ => return Err("contains invalid characters".to_string()),
        }
    }
    if !compact.chars().any(|c| c.is_ascii_digit()) {
        return Err("is not a valid phone number".to_string());
    }
    // "(+41) 79 …" and "(0041) 79 …" also occur, so look past opening parentheses.
    let lead = compact.trim_start_matches('(');
    let international = if let Some(rest) = lead.strip_prefix('+') {
        Some(rest)
    } else {
        lead.strip_prefix("00")
    };
    let full: String = match international {
        Some(rest) => {
            // "+41 (0)79 …": the bracketed trunk zero is a common, harmless notation.
            let rest = rest.replace("(0)", "");
            phone_digits(&rest)?
        }
        None => {
            let digits = phone_digits(&compact)?;
            let country = default_country.trim().to_ascii_uppercase();
            let code = calling_code(&country)
                .ok_or_else(|| "needs an international prefix".to_string())?;
            if code == "39" && (digits.starts_with('0') || digits.starts_with('3')) {
                format!("{code}{digits}")
            } else if code == "423" && !digits.starts_with('0') {
                // Liechtenstein has no trunk prefix: "235 12 34" is a complete national number.
                format!("{code}{digits}")
            } else if let Some(national) = digits.strip_prefix('0') {
                format!("{code}{national}")
            } else {
                return Err("needs an international prefix".to_string());
            }
        }
    };
    validate_e164(&full)?;
    Ok(format!("+{full}"))
}

/// Removes parentheses and checks that only ASCII digits remain (a '+' in the middle is refused).
fn phone_digits(s: &str) -> Result<String, String> {
    let digits: String = s.chars().filter(|c| !matches!(c, '(' | ')')).collect();
    if digits.chars().all(|c| c.is_ascii_digit()) {
        Ok(digits)
    } else {
        Err("is not a valid phone number".to_string())
    }
}

/// Checks the E.164 digits (without '+') against the per-country and general length rules
/// (per-country first, since its message is the more helpful one).
fn validate_e164(full: &str) -> Result<(), String> {
    if full.starts_with('0') {
        return Err("is not a valid phone number".to_string());
    }
    // Country calling codes are prefix-free, so a prefix match identifies the country.
    for code in ["423", "41", "43", "49", "33"] {
        if let Some(nsn) = full.strip_prefix(code)
            && nsn.starts_with('0')
        {
            return Err(format!("must not have a 0 after +{code}"));
        }
    }
    let len_rule = |code: &str, min: usize, max: usize| -> Result<(), String> {
        match full.strip_prefix(code) {
            Some(nsn) if nsn.len() < min || nsn.len() > max => Err(if min == max {
                format!("must have {min} digits after +{code}")
            } else {
                format!("must have {min} to {max} digits after +{code}")
            }),
            _ => Ok(()),
        }
    };
    len_rule("41", 9, 9)?;
    len_rule("49", 6, 13)?;
    len_rule("43", 4, 13)?;
    if full.len() < 8 {
        return Err("is too short".to_string());
    }
    if full.len() > 15 {
        return Err("is too long".to_string());
    }
    Ok(())
}

/// Trims, collapses inner whitespace to single ASCII spaces.
fn collapse_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Checks a postcode against the format of `country` and returns it in canonical form.
///
/// GB postcodes are accepted with or without the space and returned as "SW1A 1AA".
pub fn normalize_postcode(country: &str, postcode: &str) -> Result<String, String> {
    let country = country.trim().to_ascii_uppercase();
    let pc = collapse_whitespace(postcode).to_uppercase();
    if pc.is_empty() {
        return Err(EMPTY.to_string());
    }
    let all_digits = |n: usize| pc.len() == n && pc.bytes().all(|b| b.is_ascii_digit());
    match country.as_str() {
        "CH" | "LI" => {
            if all_digits(4) && !pc.starts_with('0') {
                Ok(pc)
            } else {
                Err("must be 4 digits from 1000 to 9999".to_string())
            }
        }
        "AT" => {
            if all_digits(4) {
                Ok(pc)
            } else {
                Err("must be 4 digits".to_string())
            }
        }
        "DE" | "FR" | "IT" | "ES" => {
            if all_digits(5) {
                Ok(pc)
            } else {
                Err("must be 5 digits".to_string())
            }
        }
        "NL" => normalize_nl_postcode(&pc).ok_or_else(|| "must look like 1234 AB".to_string()),
        "GB" => normalize_gb_postcode(&pc).ok_or_else(|| "must look like SW1A 1AA".to_string()),
        _ => {
            let len = pc.chars().count();
            let chars_ok = pc
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == ' ' || c == '-');
            if (2..=10).contains(&len) && chars_ok && pc.chars().any(|c| c.is_ascii_alphanumeric())
            {
                Ok(pc)
            } else {
                Err("must be 2 to 10 letters, digits, spaces or dashes".to_string())
            }
        }
    }
}

/// Dutch postcode: four digits, optional space, two letters → "1234 AB".
fn normalize_nl_postcode(pc: &str) -> Option<String> {
    let compact: String = pc.chars().filter(|c| *c != ' ').collect();
    if pc.matches(' ').count() > 1 || compact.len() != 6 || !compact.is_ascii() {
        return None;
    }
    let (digits, letters) = compact.split_at_checked(4)?;
    if digits.bytes().all(|b| b.is_ascii_digit()) && letters.bytes().all(|b| b.is_ascii_uppercase())
    {
        Some(format!("{digits} {letters}"))
    } else {
        None
    }
}

/// UK postcode: outward code of 2..=4 (starting with a letter), one space, inward code digit+2 letters.
fn normalize_gb_postcode(pc: &str) -> Option<String> {
    let compact: String = pc.chars().filter(|c| *c != ' ').collect();
    if pc.matches(' ').count() > 1
        || !(5..=7).contains(&compact.len())
        || !compact.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return None;
    }
    let (outward, inward) = compact.split_at_checked(compact.len().saturating_sub(3))?;
    // With a space, it has to sit exactly between outward and inward code.
    if pc.contains(' ') && pc != format!("{outward} {inward}") {
        return None;
    }
    let inward_ok = {
        let b = inward.as_bytes();
        matches!(b, [d, l1, l2] if d.is_ascii_digit() && l1.is_ascii_uppercase() && l2.is_ascii_uppercase())
    };
    let outward_ok = outward
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_uppercase());
    (inward_ok && outward_ok).then(|| format!("{outward} {inward}"))
}

/// All officially assigned ISO 3166-1 alpha-2 codes (249), sorted for binary search.
const ISO_3166_ALPHA2: [&str; 249] = [
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

/// Canonical upper-case ISO 3166-1 alpha-2 country code; rejects codes that are not assigned.
pub fn normalize_country(s: &str) -> Result<String, String> {
    let code = s.trim().to_ascii_uppercase();
    if code.is_empty() {
        return Err(EMPTY.to_string());
    }
    if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err("must be a two-letter country code".to_string());
    }
    if ISO_3166_ALPHA2.binary_search(&code.as_str()).is_ok() {
        Ok(code)
    } else {
        Err("is not a known country code".to_string())
    }
}

/// Luhn (mod 10) check digit to append to `digits`; `None` for empty or non-digit input.
pub fn luhn_check_digit(digits: &str) -> Option<u8> {
    if digits.is_empty() {
        return None;
    }
    let mut sum: u32 = 0;
    // Walking from the right, the first payload digit is the one that gets doubled.
    for (i, b) in digits.bytes().rev().enumerate() {
        if !b.is_ascii_digit() {
            return None;
        }
        let d = u32::from(b - b'0');
        let v = if i % 2 == 0 {
            let dd = d * 2;
            if dd > 9 { dd - 9 } else { dd }
        } else {
            d
        };
        sum = (sum + v) % 10;
    }
    u8::try_from((10 - sum) % 10).ok()
}

/// True if `number` (ASCII digits only, at least two) ends with the right Luhn check digit.
pub fn luhn_valid(number: &str) -> bool {
    let Some((payload, last)) = number.split_at_checked(number.len().saturating_sub(1)) else {
        return false;
    };
    match (luhn_check_digit(payload), last.bytes().next()) {
        (Some(check), Some(b)) if b.is_ascii_digit() => b - b'0' == check,
        _ => false,
    }
}

/// EAN-13 / GTIN check digit for the first 12 digits (weights 1,3,1,3,…); `None` unless 12 ASCII digits.
pub fn ean13_check_digit(first12: &str) -> Option<u8> {
    if first12.len() != 12 || !first12.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sum: u32 = first12
        .bytes()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 { d } else { d * 3 }
        })
        .sum();
    u8::try_from((10 - sum % 10) % 10).ok()
}

/// Customer card number (Kundenkarte) without spaces: 8 to 19 digits. No check digit is enforced, since
/// retailers print their own schemes (API.md's example card has none).
pub fn normalize_card_number(s: &str) -> Result<String, String> {
    let number: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if number.is_empty() {
        return Err(EMPTY.to_string());
    }
    if !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err("must contain only digits".to_string());
    }
    if !(8..=19).contains(&number.len()) {
        return Err("must have 8 to 19 digits".to_string());
    }
    Ok(number)
}

/// Tidied name field (first name, last name, company, street, city): trimmed, single spaces, sane.
///
/// Line breaks and tabs count as whitespace and are collapsed; other control characters and
/// invisible format characters (zero-width, bidi marks: [`crate::invisible`]) are refused. `max` is counted in characters, not bytes.
pub fn normalize_name(s: &str, max: usize) -> Result<String, String> {
    let name = collapse_whitespace(s);
    if name.is_empty() {
        return Err(EMPTY.to_string());
    }
    if name.chars().any(crate::invisible::is_invisible) {
        return Err("contains invalid characters".to_string());
    }
    if name.chars().count() > max {
        return Err(format!("is too long (at most {max} characters)"));
    }
    if !name.chars().any(char::is_alphabetic) {
        return Err("must contain a letter".to_string());
    }
    Ok(name)
}
