//! Duplicate detection (Dubletten, DOMAIN §10): which customers are probably the same person
//! or company, and why. Pure rules, no I/O: the store keeps the blocking keys in an index and
//! asks [`compare`] about the candidates it finds there; [`scan`] does the same in memory for a
//! whole base.
//!
//! Names are compared by Kölner Phonetik and Jaro-Winkler, addresses by normalized street and
//! house number, emails and phones as normalized. [`labelled_set`] generates a base with known
//! duplicates and hard negatives, and [`evaluate`] measures precision and recall on it.

mod keys;
mod labelled;
mod normalize;
mod phonetics;
mod record;
mod scan;
mod score;
#[cfg(test)]
mod tests;

pub use keys::{MAX_KEY_BYTES, blocking_keys, worth_comparing};
pub use labelled::{Quality, evaluate, labelled_set};
pub use normalize::{normalize_house_number, normalize_street};
pub use phonetics::koelner_phonetik;
pub use record::{DedupAddress, DedupRecord};
pub use scan::{DEFAULT_MAX_BLOCK, ScanResult, scan};
pub use score::{DEFAULT_THRESHOLD, MatchResult, compare};
