//! Postal returns (Adressrückläufer, DOMAIN §9): what a returned letter's reason means for the
//! customer. Deutsche Post PREMIUMADRESS reason codes (`AdrMerk`) and the plain reasons that Swiss
//! Post and clerks write are mapped to one of a few outcomes.

use serde::Serialize;

/// What a return does to the customer record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnOutcome {
    /// Moved and the new address is known: it becomes current, the old one history.
    Moved,
    /// Moved without a forwarding address, unknown, or a faulty address: postal status
    /// `research`, no more mail, and a task for service staff.
    Research,
    /// Reportedly deceased: all marketing stops; nothing is deleted.
    Deceased,
    /// The addressee refused the letter: noted, postal advertising blocked.
    Refused,
    /// Not collected at the post office: noted in the history only.
    NotCollected,
}

impl ReturnOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ReturnOutcome::Moved => "moved",
            ReturnOutcome::Research => "research",
            ReturnOutcome::Deceased => "deceased",
            ReturnOutcome::Refused => "refused",
            ReturnOutcome::NotCollected => "not_collected",
        }
    }
}

/// Deutsche Post `AdrMerk` codes Kundo understands.
const DP_CODES: &[(&str, ReturnOutcome, &str)] = &[
    ("10", ReturnOutcome::Research, "DP 10: addressee not found"),
    ("12", ReturnOutcome::Deceased, "DP 12: addressee deceased"),
    (
        "14",
        ReturnOutcome::Research,
        "DP 14: addressee not found at the address",
    ),
    (
        "20",
        ReturnOutcome::Moved,
        "DP 20: moved, new address known",
    ),
    (
        "21",
        ReturnOutcome::Research,
        "DP 21: moved, no consent to pass on the new address",
    ),
    (
        "31",
        ReturnOutcome::Research,
        "DP 31: address faulty or incomplete",
    ),
];

/// Plain reasons, matched on the folded text (umlauts as ae/oe/ue, lower case); the first
/// pattern contained in the reason wins, so the more specific come first.
const PLAIN_REASONS: &[(&str, ReturnOutcome)] = &[
    ("verstorben", ReturnOutcome::Deceased),
    ("deceased", ReturnOutcome::Deceased),
    ("decede", ReturnOutcome::Deceased),
    ("annahme verweigert", ReturnOutcome::Refused),
    ("verweigert", ReturnOutcome::Refused),
    ("refused", ReturnOutcome::Refused),
    ("refuse", ReturnOutcome::Refused),
    ("nicht abgeholt", ReturnOutcome::NotCollected),
    ("not collected", ReturnOutcome::NotCollected),
    ("non reclame", ReturnOutcome::NotCollected),
    ("neue adresse", ReturnOutcome::Moved),
    ("new address", ReturnOutcome::Moved),
    ("unbekannt verzogen", ReturnOutcome::Research),
    ("verzogen", ReturnOutcome::Research),
    ("weggezogen", ReturnOutcome::Research),
    ("nachsendefrist abgelaufen", ReturnOutcome::Research),
    ("unbekannt", ReturnOutcome::Research),
    ("moved", ReturnOutcome::Research),
    ("unknown", ReturnOutcome::Research),
    ("not found", ReturnOutcome::Research),
    ("adresse ungenuegend", ReturnOutcome::Research),
    ("adresse unvollstaendig", ReturnOutcome::Research),
    ("adresse fehlerhaft", ReturnOutcome::Research),
    ("insufficient address", ReturnOutcome::Research),
    ("address incomplete", ReturnOutcome::Research),
    ("inconnu", ReturnOutcome::Research),
    ("demenage", ReturnOutcome::Research),
];

/// The outcome of a reason and a short description of it, or `None` for a reason Kundo does not
/// know (the import reports it instead of guessing). A reason may be a DP code (`20`,
/// `DP 20`, `AdrMerk 20`) or plain text in German, English or French.
pub fn classify(reason: &str) -> Option<(ReturnOutcome, String)> {
    let folded = crate::contact::fold(reason);
    let code = folded
        .trim_start_matches("adrmerk")
        .trim_start_matches("dp")
        .trim();
    if let Some((_, outcome, text)) = DP_CODES.iter().find(|(c, _, _)| *c == code) {
        return Some((*outcome, (*text).to_string()));
    }
    PLAIN_REASONS
        .iter()
        .find(|(pattern, _)| folded.contains(pattern))
        .map(|(_, outcome)| (*outcome, reason.trim().to_string()))
}

/// The outcome once it is known whether the row brings a new address: a move without one
/// can only be researched.
pub fn effective_outcome(outcome: ReturnOutcome, has_new_address: bool) -> ReturnOutcome {
    match outcome {
        ReturnOutcome::Moved if !has_new_address => ReturnOutcome::Research,
        ReturnOutcome::Research if has_new_address => ReturnOutcome::Moved,
        other => other,
    }
}

/// The customer number in a letter's reference: letters carry `CUSTOMER_NUMBER/BATCH`
/// (see the lettershop's `reference` column); a bare customer number is accepted too.
pub fn customer_number_of_reference(reference: &str) -> &str {
    reference.split('/').next().unwrap_or(reference).trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_deutsche_post_code_maps() {
        let expect = [
            ("20", ReturnOutcome::Moved),
            ("21", ReturnOutcome::Research),
            ("10", ReturnOutcome::Research),
            ("14", ReturnOutcome::Research),
            ("31", ReturnOutcome::Research),
            ("12", ReturnOutcome::Deceased),
            ("DP 20", ReturnOutcome::Moved),
            ("AdrMerk 12", ReturnOutcome::Deceased),
        ];
        for (code, outcome) in expect {
            assert_eq!(classify(code).map(|c| c.0), Some(outcome), "{code}");
        }
    }

    #[test]
    fn plain_reasons_map() {
        let expect = [
            ("Unbekannt verzogen", ReturnOutcome::Research),
            ("Empfänger unbekannt", ReturnOutcome::Research),
            (
                "Weggezogen; Nachsendefrist abgelaufen",
                ReturnOutcome::Research,
            ),
            ("Adresse ungenügend", ReturnOutcome::Research),
            ("Verstorben", ReturnOutcome::Deceased),
            ("deceased", ReturnOutcome::Deceased),
            ("Annahme verweigert", ReturnOutcome::Refused),
            ("Nicht abgeholt", ReturnOutcome::NotCollected),
            ("moved, new address", ReturnOutcome::Moved),
            ("Déménagé", ReturnOutcome::Research),
        ];
        for (reason, outcome) in expect {
            assert_eq!(classify(reason).map(|c| c.0), Some(outcome), "{reason}");
        }
    }

    #[test]
    fn unknown_reasons_are_not_guessed() {
        assert_eq!(classify("99"), None);
        assert_eq!(classify("Regen"), None);
        assert_eq!(classify(""), None);
    }

    #[test]
    fn a_new_address_decides_between_move_and_research() {
        assert_eq!(
            effective_outcome(ReturnOutcome::Moved, false),
            ReturnOutcome::Research
        );
        assert_eq!(
            effective_outcome(ReturnOutcome::Research, true),
            ReturnOutcome::Moved
        );
        assert_eq!(
            effective_outcome(ReturnOutcome::Deceased, true),
            ReturnOutcome::Deceased
        );
    }

    #[test]
    fn references_carry_the_customer_number() {
        assert_eq!(
            customer_number_of_reference("100042/bonus-2026-11"),
            "100042"
        );
        assert_eq!(customer_number_of_reference(" 100042 "), "100042");
    }
}
