//! The batch scan over a whole customer base (DOMAIN §10): pairs are formed only inside
//! blocks of records that share a blocking key, each pair is compared once.

use std::collections::{HashMap, HashSet};

use super::keys::keys_of;
use super::record::{DedupRecord, Prepared};
use super::score::{MatchResult, compare_prepared};

/// A block with more records than this says nothing about any pair in it (a shared shop
/// address, a placeholder email like "keine@keine.ch", a very common name in a big city).
pub const DEFAULT_MAX_BLOCK: usize = 100;

/// The outcome of a scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanResult {
    /// Likely duplicates `(i, j, result)` with `i < j` indexing the scanned slice, sorted.
    pub pairs: Vec<(usize, usize, MatchResult)>,
    /// Distinct pairs compared.
    pub comparisons: u64,
}

/// Compares every pair of records that shares a blocking key, once, and returns the pairs that
/// score `threshold` or more; blocks of more than `max_block` records are skipped.
pub fn scan(records: &[DedupRecord], threshold: u32, max_block: usize) -> ScanResult {
    let prepared: Vec<Prepared<'_>> = records.iter().map(Prepared::new).collect();
    let mut blocks: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, p) in prepared.iter().enumerate() {
        for key in keys_of(p) {
            blocks.entry(key).or_default().push(i);
        }
    }
    let mut seen: HashSet<(usize, usize)> = HashSet::new();
    let mut pairs = Vec::new();
    let mut comparisons = 0u64;
    for members in blocks.values() {
        if members.len() < 2 || members.len() > max_block {
            continue;
        }
        // Members were pushed in index order and once per key, so they ascend strictly.
        for (x, &i) in members.iter().enumerate() {
            for &j in &members[x + 1..] {
                if !seen.insert((i, j)) {
                    continue;
                }
                comparisons += 1;
                if let (Some(a), Some(b)) = (prepared.get(i), prepared.get(j)) {
                    let m = compare_prepared(a, b);
                    if m.score >= threshold {
                        pairs.push((i, j, m));
                    }
                }
            }
        }
    }
    pairs.sort_by_key(|(i, j, _)| (*i, *j));
    ScanResult { pairs, comparisons }
}
