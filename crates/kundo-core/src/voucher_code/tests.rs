use std::collections::HashSet;

use proptest::prelude::*;

use super::*;

/// Deterministic stand-in for the CSPRNG (splitmix64), so failures are reproducible.
fn random_bytes(seed: u64) -> [u8; 8] {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)).to_be_bytes()
}

/// Codes from many seeds plus the extremes of the value range.
fn sample_codes(n: u64) -> Vec<String> {
    let mut codes: Vec<String> = (0..n).map(|s| code_from_random(random_bytes(s))).collect();
    codes.push(code_from_random([0; 8]));
    codes.push(code_from_random([0xff; 8]));
    codes
}

fn chars(code: &str) -> Vec<char> {
    code.chars().collect()
}

#[test]
fn known_values() {
    assert_eq!(code_from_random([0; 8]), "0000000000000");
    // 2^60 - 1: all data symbols 31 ('Z').
    let max = (1u64 << 60) - 1;
    let check = char::from(CHECK_ALPHABET[(max % 37) as usize]);
    assert_eq!(code_from_random([0xff; 8]), format!("ZZZZZZZZZZZZ{check}"));
    // Value 1 → data "000000000001", check 1.
    assert_eq!(
        code_from_random([0, 0, 0, 0, 0, 0, 0, 0x10]),
        "0000000000011"
    );
    // Value 32 → "000000000010", 32 mod 37 = 32 → '*'.
    assert_eq!(
        code_from_random([0, 0, 0, 0, 0, 0, 0x02, 0]),
        "000000000010*"
    );
    // Value 36 → "000000000014", check 'U'.
    assert_eq!(
        code_from_random([0, 0, 0, 0, 0, 0, 0x02, 0x40]),
        "000000000014U"
    );
}

#[test]
fn codes_are_canonical_and_parse_to_themselves() {
    for code in sample_codes(500) {
        assert_eq!(code.chars().count(), 13);
        assert!(code[..DATA_LEN].bytes().all(|b| DATA_ALPHABET.contains(&b)));
        assert!(CHECK_ALPHABET.contains(&code.as_bytes()[DATA_LEN]));
        assert_eq!(parse(&code), Ok(code.clone()));
    }
}

#[test]
fn codes_from_different_random_bytes_differ() {
    let codes: Vec<String> = (0..10_000)
        .map(|s| code_from_random(random_bytes(s)))
        .collect();
    let unique: HashSet<&String> = codes.iter().collect();
    assert_eq!(unique.len(), codes.len());
    // Bytes differing in any of the 60 used bits give different codes.
    let base = code_from_random([0; 8]);
    for bit in 4..64 {
        let bytes = (1u64 << bit).to_be_bytes();
        assert_ne!(code_from_random(bytes), base, "bit {bit}");
    }
}

#[test]
fn every_single_substitution_is_detected() {
    let mut checked = 0usize;
    for code in sample_codes(250) {
        let original = chars(&code);
        for pos in 0..original.len() {
            for &byte in CHECK_ALPHABET.iter() {
                let symbol = char::from(byte);
                if symbol == original[pos] {
                    continue;
                }
                let mut typo = original.clone();
                typo[pos] = symbol;
                let typo: String = typo.into_iter().collect();
                // A symbol that may stand at this place can only fail on the check; the extra
                // check symbols in a data position are refused as characters.
                let expected = if pos == DATA_LEN || DATA_ALPHABET.contains(&byte) {
                    CodeError::Check
                } else {
                    CodeError::Character(symbol)
                };
                assert_eq!(parse(&typo), Err(expected), "{code} → {typo}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 200 * 13 * 36);
}

#[test]
fn every_swap_of_neighbouring_characters_is_detected() {
    for code in sample_codes(1_000) {
        let original = chars(&code);
        for pos in 0..original.len() - 1 {
            if original[pos] == original[pos + 1] {
                continue;
            }
            let mut swapped = original.clone();
            swapped.swap(pos, pos + 1);
            let swapped: String = swapped.into_iter().collect();
            assert!(parse(&swapped).is_err(), "{code} → {swapped} accepted");
        }
    }
}

#[test]
fn every_swap_of_any_two_characters_is_detected() {
    for code in sample_codes(300) {
        let original = chars(&code);
        for a in 0..original.len() {
            for b in a + 1..original.len() {
                if original[a] == original[b] {
                    continue;
                }
                let mut swapped = original.clone();
                swapped.swap(a, b);
                let swapped: String = swapped.into_iter().collect();
                assert!(parse(&swapped).is_err(), "{code} → {swapped} accepted");
            }
        }
    }
}

#[test]
fn look_alikes_and_lower_case_are_read_correctly() {
    // Value 1 → "0000000000011": typed with O for 0 and l / I / i for 1.
    assert_eq!(parse("oOoOoOoOoOolI"), Ok("0000000000011".to_owned()));
    assert_eq!(parse("0000-0000-000i-L"), Ok("0000000000011".to_owned()));
    for code in sample_codes(200) {
        let lower = code.to_lowercase();
        assert_eq!(parse(&lower), Ok(code.clone()));
        let typed: String = code
            .chars()
            .map(|c| match c {
                '0' => 'o',
                '1' => 'l',
                other => other,
            })
            .collect();
        assert_eq!(parse(&typed), Ok(code.clone()));
    }
    // The check symbol U may be typed in lower case.
    assert_eq!(parse("000000000014u"), Ok("000000000014U".to_owned()));
}

#[test]
fn hyphens_and_spaces_are_ignored() {
    let code = code_from_random(random_bytes(42));
    let spaced: String = code.chars().flat_map(|c| [c, ' ']).collect();
    assert_eq!(parse(&spaced), Ok(code.clone()));
    assert_eq!(
        parse(&format!("  {}\t\n", display(&code))),
        Ok(code.clone())
    );
    assert_eq!(parse(&format!("--{}--", code)), Ok(code.clone()));
    assert_eq!(
        parse(&display(&code).replace('-', "\u{2013}")),
        Ok(code.clone())
    );
}

#[test]
fn display_groups_by_four_and_round_trips() {
    assert_eq!(display("0000000000011"), "0000-0000-0001-1");
    assert_eq!(display("0000-0000-0001-1"), "0000-0000-0001-1");
    assert_eq!(display(""), "");
    assert_eq!(display("ABC"), "ABC");
    for code in sample_codes(300) {
        let shown = display(&code);
        assert_eq!(shown.len(), 16);
        assert_eq!(parse(&shown), Ok(code.clone()));
        assert_eq!(display(&shown), shown);
    }
}

#[test]
fn errors_tell_what_is_wrong() {
    let code = code_from_random(random_bytes(7));
    assert_eq!(parse(""), Err(CodeError::Length(0)));
    assert_eq!(parse("   - -"), Err(CodeError::Length(0)));
    assert_eq!(parse(&code[..12]), Err(CodeError::Length(12)));
    assert_eq!(parse(&format!("{code}0")), Err(CodeError::Length(14)));
    assert_eq!(parse("ABCD!"), Err(CodeError::Character('!')));
    assert_eq!(parse("000000000000ü"), Err(CodeError::Character('ü')));
    // Extra check symbols are not data characters.
    assert_eq!(parse("U00000000000U"), Err(CodeError::Character('U')));
    assert_eq!(parse("*000000000000"), Err(CodeError::Character('*')));
    assert_eq!(parse("0000000000012"), Err(CodeError::Check));
    assert_eq!(
        CodeError::Length(12).to_string(),
        "the code has 12 characters; a voucher code has 13"
    );
    assert_eq!(
        CodeError::Character('!').to_string(),
        "'!' is not a character of voucher codes"
    );
}

#[test]
fn check_modulus_detects_all_transpositions_within_a_code() {
    // Why any-two swaps are caught: 32^k ≢ ±1 (mod 37) for 1 <= k <= 12.
    let mut power = 1u64;
    for k in 1..=12 {
        power = power * 32 % 37;
        assert_ne!(power, 1, "k = {k}");
        assert_ne!(power, 36, "k = {k}");
    }
}

proptest! {
    #[test]
    fn parse_never_panics_on_arbitrary_input(s in "\\PC{0,40}") {
        let _ = parse(&s);
        let _ = display(&s);
    }

    #[test]
    fn parse_never_panics_on_code_like_input(s in "[0-9A-Za-z*~$=\\- ]{0,20}") {
        if let Ok(code) = parse(&s) {
            prop_assert_eq!(code.chars().count(), 13);
            prop_assert_eq!(parse(&code), Ok(code.clone()));
        }
    }

    #[test]
    fn any_random_bytes_give_a_valid_code(bytes in any::<[u8; 8]>()) {
        let code = code_from_random(bytes);
        prop_assert_eq!(parse(&code), Ok(code.clone()));
        prop_assert_eq!(parse(&display(&code)), Ok(code));
    }
}
