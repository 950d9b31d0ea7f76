//! The comparable form of a customer, and its prepared form with the keys computed once.

use chrono::NaiveDate;

use super::normalize::{
    company_key, name_key, normalize_house_number, normalize_street, postcode_key,
};
use super::phonetics::koelner_phonetik;
use crate::contact::{fold, normalize_email};
use crate::customer::{Address, CustomerData};

/// What the duplicate check compares: a customer reduced to its comparable, normalized parts.
///
/// Names are kept as written (trimmed), so that a reason can quote them; they are folded when
/// compared. Everything else holds comparison keys already.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DedupRecord {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company_name: Option<String>,
    pub birth_date: Option<NaiveDate>,
    /// Normalized (lower-case).
    pub emails: Vec<String>,
    /// E.164.
    pub phones: Vec<String>,
    /// Current and previous addresses: someone who registers again after a move gives the new
    /// address, while the existing record may still know the old one.
    pub addresses: Vec<DedupAddress>,
}

/// An address as compared. Build it with [`DedupAddress::new`] (or `From<&Address>`), which
/// turns the written parts into the keys held here.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DedupAddress {
    /// [`normalize_street`] key.
    pub street: String,
    /// [`normalize_house_number`] key; `None` if none was given.
    pub house_number: Option<String>,
    /// Upper case without spaces; leading zeros are significant ("01067").
    pub postcode: String,
    /// Folded city name.
    pub city: String,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: String,
}

impl DedupAddress {
    /// The comparison keys of an address as written.
    pub fn new(
        street: &str,
        house_number: Option<&str>,
        postcode: &str,
        city: &str,
        country: &str,
    ) -> Self {
        DedupAddress {
            street: normalize_street(street),
            house_number: house_number
                .map(normalize_house_number)
                .filter(|h| !h.is_empty()),
            postcode: postcode_key(postcode),
            city: fold(city),
            country: country.trim().to_uppercase(),
        }
    }
}

impl From<&Address> for DedupAddress {
    fn from(a: &Address) -> Self {
        DedupAddress::new(
            &a.street,
            a.house_number.as_deref(),
            &a.postcode,
            &a.city,
            &a.country,
        )
    }
}

impl DedupRecord {
    /// The comparable parts of a customer; previous addresses, which `CustomerData` does not
    /// carry, can be pushed onto `addresses` afterwards.
    pub fn from_data(d: &CustomerData) -> Self {
        let text = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
        };
        let mut emails: Vec<String> = d
            .email
            .iter()
            .map(|e| normalize_email(e).unwrap_or_else(|_| e.trim().to_lowercase()))
            .filter(|e| !e.is_empty())
            .collect();
        emails.dedup();
        let mut phones: Vec<String> = d
            .phones
            .iter()
            .map(|p| p.number.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect();
        phones.sort();
        phones.dedup();
        DedupRecord {
            first_name: text(&d.first_name),
            last_name: text(&d.last_name),
            company_name: text(&d.company_name),
            birth_date: d.birth_date,
            emails,
            phones,
            addresses: d.addresses.iter().map(DedupAddress::from).collect(),
        }
    }
}

/// One name with its comparison forms, computed once per record rather than once per pair.
#[derive(Debug, Clone)]
pub(super) struct NameKey {
    /// `fold` form: "müller" → "mueller".
    pub folded: String,
    /// `fold_plain` form: "müller" → "muller".
    pub plain: String,
    /// Kölner Phonetik; empty for names without Latin letters.
    pub code: String,
}

impl NameKey {
    /// `None` for a name that folds to nothing (only punctuation, emoji, ...).
    pub fn new(s: &str) -> Option<NameKey> {
        let folded = name_key(s, false);
        if folded.is_empty() {
            return None;
        }
        Some(NameKey {
            plain: name_key(s, true),
            code: koelner_phonetik(s),
            folded,
        })
    }

    /// Company names compare without their legal form.
    pub fn company(s: &str) -> Option<NameKey> {
        let folded = company_key(s);
        if folded.is_empty() {
            return None;
        }
        Some(NameKey {
            plain: folded.clone(),
            code: koelner_phonetik(&folded),
            folded,
        })
    }

    /// The phonetic code, or the folded name where the code is empty, for blocking keys: a
    /// name in another script must still block with itself.
    pub fn block_code(&self) -> &str {
        if self.code.is_empty() {
            &self.folded
        } else {
            &self.code
        }
    }
}

/// A record with its name keys computed: what [`super::compare`] and the scan work on.
#[derive(Debug, Clone)]
pub(super) struct Prepared<'a> {
    pub rec: &'a DedupRecord,
    pub first: Option<NameKey>,
    pub last: Option<NameKey>,
    pub company: Option<NameKey>,
}

impl<'a> Prepared<'a> {
    pub fn new(rec: &'a DedupRecord) -> Self {
        Prepared {
            rec,
            first: rec.first_name.as_deref().and_then(NameKey::new),
            last: rec.last_name.as_deref().and_then(NameKey::new),
            company: rec.company_name.as_deref().and_then(NameKey::company),
        }
    }
}
