//! Characters that no name or identifier may hold: controls and Unicode format characters
//! (general category Cf: zero-width space and joiners, soft hyphen, bidi marks, overrides and
//! isolates, the byte-order mark, tag characters).
//!
//! They are refused, not stripped. They are invisible, so a name that holds one looks like
//! another one while it is not equal to it: it escapes the duplicate check and the search,
//! and a bidi override makes a name display as something else. Stripping them would silently
//! make the stored name differ from the sender's copy (the shop or the ERP keeps its own), so
//! the next sync would disagree; refusing names the field and lets the sender clean its data.
//! The joiners that some scripts need (ZWJ, ZWNJ) go too: Kundo's customers write Latin script.

/// True for a control character or a format character (Unicode 15 category Cf).
pub fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{0600}'..='\u{0605}'
                | '\u{061C}'
                | '\u{06DD}'
                | '\u{070F}'
                | '\u{0890}'..='\u{0891}'
                | '\u{08E2}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{110BD}'
                | '\u{110CD}'
                | '\u{13430}'..='\u{1343F}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0001}'
                | '\u{E0020}'..='\u{E007F}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_width_bidi_and_controls_are_invisible_letters_and_spaces_are_not() {
        for c in [
            '\u{200B}',
            '\u{200C}',
            '\u{200D}',
            '\u{2060}',
            '\u{FEFF}',
            '\u{00AD}',
            '\u{202E}',
            '\u{2066}',
            '\u{200E}',
            '\u{E0041}',
            '\u{0000}',
            '\u{0085}',
            '\u{007F}',
        ] {
            assert!(is_invisible(c), "{:04X}", c as u32);
        }
        for c in [
            'a', 'ü', 'ß', 'É', ' ', '-', '\'', '.', '0', 'ł', '\u{00A0}',
        ] {
            assert!(!is_invisible(c), "{:04X}", c as u32);
        }
    }
}
