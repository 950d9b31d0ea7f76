//! Kölner Phonetik (Hans Joachim Postel, 1969): a phonetic code made for German names, so that
//! "Meier", "Maier" and "Meyer" or "Müller" and "Mueller" meet although they are spelt apart.
//! Soundex would not do: it is tuned to English and keeps the first letter, which is exactly
//! the letter that differs in "Philipp" and "Filip".

use crate::contact::fold_plain;

/// Kölner Phonetik code of a name (all words of it), e.g. "Müller-Lüdenscheidt" → "65752682".
///
/// Each word is coded on its own, because the rules look at the start of a word ("C" at the
/// start is hard before more letters than elsewhere); the codes are then joined. Letters are
/// first stripped of their diacritics ("ü" → "u", "ß" → "ss"), which is what the code would do
/// anyway (vowels all code to 0). Characters the code has no rule for (digits, other scripts)
/// are ignored, so a name without Latin letters has the empty code.
pub fn koelner_phonetik(s: &str) -> String {
    let folded = fold_plain(s);
    let mut out = String::new();
    for word in folded
        .split(|c: char| !c.is_ascii_lowercase())
        .filter(|w| !w.is_empty())
    {
        word_code(word.as_bytes(), &mut out);
    }
    out
}

/// Appends the code of one word of ASCII lower-case letters to `out`.
fn word_code(word: &[u8], out: &mut String) {
    let mut raw: Vec<u8> = Vec::with_capacity(word.len() + 2);
    for (i, &c) in word.iter().enumerate() {
        let prev = i.checked_sub(1).and_then(|p| word.get(p)).copied();
        let next = word.get(i + 1).copied();
        match c {
            b'a' | b'e' | b'i' | b'j' | b'o' | b'u' | b'y' => raw.push(b'0'),
            b'b' => raw.push(b'1'),
            b'p' => raw.push(if next == Some(b'h') { b'3' } else { b'1' }),
            b'd' | b't' => raw.push(if matches!(next, Some(b'c' | b's' | b'z')) {
                b'8'
            } else {
                b'2'
            }),
            b'f' | b'v' | b'w' => raw.push(b'3'),
            b'g' | b'k' | b'q' => raw.push(b'4'),
            b'c' => raw.push(if c_is_hard(prev, next) { b'4' } else { b'8' }),
            b'x' => {
                if matches!(prev, Some(b'c' | b'k' | b'q')) {
                    raw.push(b'8');
                } else {
                    raw.extend_from_slice(b"48");
                }
            }
            b'l' => raw.push(b'5'),
            b'm' | b'n' => raw.push(b'6'),
            b'r' => raw.push(b'7'),
            b's' | b'z' => raw.push(b'8'),
            // "h" has no code; it only changes its neighbours ("ph").
            _ => {}
        }
    }
    // Runs of one code collapse to one, then every 0 except a leading one goes.
    let mut last: Option<u8> = None;
    let mut first = true;
    for code in raw {
        if last == Some(code) {
            continue;
        }
        last = Some(code);
        if code != b'0' || first {
            out.push(char::from(code));
        }
        first = false;
    }
}

/// "C" sounds like "K" (code 4) at the start of a word before A, H, K, L, O, Q, R, U, X, and
/// elsewhere before A, H, K, O, Q, U, X unless it follows S or Z; otherwise like "Z" (code 8).
fn c_is_hard(prev: Option<u8>, next: Option<u8>) -> bool {
    match prev {
        None => matches!(
            next,
            Some(b'a' | b'h' | b'k' | b'l' | b'o' | b'q' | b'r' | b'u' | b'x')
        ),
        Some(b's' | b'z') => false,
        Some(_) => matches!(next, Some(b'a' | b'h' | b'k' | b'o' | b'q' | b'u' | b'x')),
    }
}
