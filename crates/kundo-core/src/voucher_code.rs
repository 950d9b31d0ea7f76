//! Voucher codes that people can read aloud, type and scan without mistakes.
//!
//! A code is 12 data characters (60 random bits) in Crockford base 32 — digits and capital
//! letters without I, L, O and U, so nothing looks like anything else — followed by one check
//! character (value mod 37, Crockford's check symbols). The check catches every single wrong
//! character and every swap of two characters, so the till can tell "you mistyped the code"
//! apart from "this code does not exist" without a database look-up. All characters are
//! printable ASCII, so the canonical form goes straight into a Code 128 barcode or a QR code.
//!
//! The module is pure: randomness comes from the caller (the OS CSPRNG), uniqueness from the
//! database's unique index (the caller draws again on the rare collision).

#[cfg(test)]
mod tests;

/// Number of data characters: 12 × 5 bits = 60 random bits, enough that guessing a valid
/// code is hopeless while a person can still type it.
pub const DATA_LEN: usize = 12;

/// Length of the canonical code: the data characters plus the check character.
const CODE_LEN: usize = DATA_LEN + 1;

/// Crockford's base-32 data symbols, in value order.
const DATA_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Crockford's check symbols: the data symbols followed by the five extra ones for 32..=36.
const CHECK_ALPHABET: &[u8; 37] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ*~$=U";

/// Modulus of the check character. 37 is prime and larger than 32, so it divides neither a
/// single-symbol difference nor a transposition difference: both always change the check.
const CHECK_MODULUS: u64 = 37;

/// Builds a code from 8 random bytes supplied by the caller (the caller uses the OS CSPRNG;
/// this module stays pure): 12 Crockford base-32 data characters + 1 check character computed
/// as the value of the 12 data symbols (as a base-32 number, i.e. Σ d_i·32^(11-i)) modulo 37,
/// using Crockford's check alphabet 0-9A-Z minus I,L,O,U plus "*~$=U" for 32..36. Returns the
/// canonical 13-char string without hyphens.
///
/// Only 60 of the 64 bits are used (the low 4 bits of the last byte are dropped), so byte
/// arrays that differ only there give the same code.
pub fn code_from_random(bytes: [u8; 8]) -> String {
    let value = u64::from_be_bytes(bytes) >> 4;
    let mut code = String::with_capacity(CODE_LEN);
    for i in (0..DATA_LEN).rev() {
        code.push(data_symbol(value >> (5 * i)));
    }
    code.push(check_symbol(value % CHECK_MODULUS));
    code
}

/// Human display form: groups of 4 (XXXX-XXXX-XXXX-C), because people copy short groups far
/// more reliably than a 13-character run. Hyphens and spaces already in `code` are dropped
/// first, so displaying a displayed code changes nothing; any other text is grouped as it is.
pub fn display(code: &str) -> String {
    let mut out = String::with_capacity(CODE_LEN + 3);
    for (i, c) in code.chars().filter(|&c| !is_separator(c)).enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        out.push(c);
    }
    out
}

/// Why a typed or scanned code was refused. Each variant is a mistake of the person or the
/// scanner, worth a different hint, and none of them needs a database look-up; "unknown
/// code" is only said for codes that pass [`parse`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    /// Too few or too many characters (hyphens and spaces not counted), e.g. one left out.
    #[error("the code has {0} characters; a voucher code has 13")]
    Length(usize),
    /// A character that never occurs at that place in a voucher code.
    #[error("'{0}' is not a character of voucher codes")]
    Character(char),
    /// The check character does not match the data: a typo, not an unknown code.
    #[error("the check character does not match: a character is wrong or two are swapped")]
    Check,
}

/// Parses what a person typed or a scanner read: trims, ignores hyphens and spaces,
/// upper-cases, reads O/o as 0 and I/i/L/l as 1; validates the check character. Returns the
/// canonical form.
///
/// Any whitespace and the Unicode dashes word processors substitute for '-' are ignored too,
/// since codes get copied out of e-mails. Bad characters are reported before a wrong length,
/// as naming the character is the more useful hint. The five extra check symbols (`*~$=U`)
/// are accepted only in the last position.
pub fn parse(input: &str) -> Result<String, CodeError> {
    // (character as typed, its value); only the first CODE_LEN are kept, so memory stays
    // bounded whatever the input, while the count still reports the real length.
    let mut symbols: Vec<(char, u8)> = Vec::with_capacity(CODE_LEN);
    let mut count = 0usize;
    for c in input.chars().filter(|&c| !is_separator(c)) {
        let value = symbol_value(c).ok_or(CodeError::Character(c))?;
        count += 1;
        if symbols.len() < CODE_LEN {
            symbols.push((c, value));
        }
    }
    if count != CODE_LEN {
        return Err(CodeError::Length(count));
    }
    let Some(((_, check), data)) = symbols.split_last() else {
        return Err(CodeError::Length(count));
    };

    let mut value: u64 = 0;
    let mut code = String::with_capacity(CODE_LEN);
    for &(c, v) in data {
        if usize::from(v) >= DATA_ALPHABET.len() {
            return Err(CodeError::Character(c));
        }
        value = (value << 5) | u64::from(v);
        code.push(data_symbol(u64::from(v)));
    }
    if value % CHECK_MODULUS != u64::from(*check) {
        return Err(CodeError::Check);
    }
    code.push(check_symbol(u64::from(*check)));
    Ok(code)
}

/// Characters people and scanners put between groups, which carry no meaning.
fn is_separator(c: char) -> bool {
    c == '-' || c.is_whitespace() || matches!(c, '\u{2010}'..='\u{2015}' | '\u{2212}')
}

/// The value of a typed character in the check alphabet (0..=36), reading the look-alikes
/// O as 0 and I, L as 1, in any case; `None` for anything else.
fn symbol_value(c: char) -> Option<u8> {
    let upper = match c.to_ascii_uppercase() {
        'O' => '0',
        'I' | 'L' => '1',
        other => other,
    };
    let byte = u8::try_from(upper).ok()?;
    CHECK_ALPHABET
        .iter()
        .position(|&b| b == byte)
        .and_then(|p| u8::try_from(p).ok())
}

/// The data symbol for the low 5 bits of `value`.
fn data_symbol(value: u64) -> char {
    // The mask keeps the index below 32, the table's length; '0' is never reached.
    usize::try_from(value & 0x1f)
        .ok()
        .and_then(|i| DATA_ALPHABET.get(i))
        .map_or('0', |&b| char::from(b))
}

/// The check symbol for a value below 37.
fn check_symbol(value: u64) -> char {
    usize::try_from(value)
        .ok()
        .and_then(|i| CHECK_ALPHABET.get(i))
        .map_or('0', |&b| char::from(b))
}
