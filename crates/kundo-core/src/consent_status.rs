//! The statuses a consent statement can have (DOMAIN §12), with the labels staff see. The one
//! list that validation, segments and the segment builder share: the builder gets it from the
//! server, so that it cannot offer a status the server refuses.

/// The status of a consent statement for one channel; the latest statement wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConsentStatus {
    Granted,
    Denied,
    Revoked,
    Pending,
}

impl ConsentStatus {
    /// Every status, in the order forms offer them.
    pub const ALL: [ConsentStatus; 4] = [
        ConsentStatus::Granted,
        ConsentStatus::Denied,
        ConsentStatus::Revoked,
        ConsentStatus::Pending,
    ];

    /// The names of [`Self::ALL`] as the API spells them, for validation against text.
    pub const NAMES: [&'static str; 4] = {
        let mut names = [""; 4];
        let mut i = 0;
        while i < names.len() {
            names[i] = ConsentStatus::ALL[i].as_str();
            i += 1;
        }
        names
    };

    pub const fn as_str(self) -> &'static str {
        match self {
            ConsentStatus::Granted => "granted",
            ConsentStatus::Denied => "denied",
            ConsentStatus::Revoked => "revoked",
            ConsentStatus::Pending => "pending",
        }
    }

    pub fn parse(s: &str) -> Option<ConsentStatus> {
        ConsentStatus::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The label in German (`german`) or English.
    pub fn label(self, german: bool) -> &'static str {
        match (self, german) {
            (ConsentStatus::Granted, true) => "erteilt",
            (ConsentStatus::Denied, true) => "abgelehnt",
            (ConsentStatus::Revoked, true) => "widerrufen",
            (ConsentStatus::Pending, true) => "ausstehend",
            (status, false) => status.as_str(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ConsentStatus;

    #[test]
    fn names_follow_the_statuses_and_parse_back() {
        assert_eq!(
            ConsentStatus::NAMES,
            ["granted", "denied", "revoked", "pending"]
        );
        for s in ConsentStatus::ALL {
            assert_eq!(ConsentStatus::parse(s.as_str()), Some(s));
            assert!(!s.label(true).is_empty() && !s.label(false).is_empty());
        }
        assert_eq!(ConsentStatus::parse("withdrawn"), None);
        assert_eq!(ConsentStatus::Revoked.label(true), "widerrufen");
    }
}
