//! The duplicate check (DOMAIN §10): candidates at creation, a scan over the whole base that
//! fills the review queue, and the queue itself.
//!
//! Both read candidates through the blocking keys that the store keeps per customer, so a check
//! reads a handful of records whatever the size of the base.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use kundo_core::dedup::{DEFAULT_THRESHOLD, DedupRecord, blocking_keys, compare, worth_comparing};
use kundo_store::Db;
use kundo_store::dedup::{self as store, FoundPair, PairRow};
use serde::Serialize;
use serde_json::Value;

use crate::customers::Page;
use crate::{Actor, App, AppError, Result};

/// A key shared by more customers than this is not used to find candidates: it says nothing
/// (a family name in a big postcode) and would make the check slow.
pub const MAX_BLOCK: usize = 200;

/// The team that works the duplicates queue.
pub const REVIEW_TEAM: &str = "service";

/// A likely duplicate of a new or changed record, as the API answers with 409.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Candidate {
    pub customer_number: String,
    pub score: u32,
    pub reasons: Vec<String>,
}

/// Likely duplicates of `record` among the stored customers, best first.
pub(crate) async fn candidates_for(
    db: &mut Db<'_>,
    record: &DedupRecord,
    exclude: Option<i64>,
    threshold: u32,
) -> Result<Vec<Candidate>> {
    let keys = blocking_keys(record);
    let mut shared: HashMap<i64, Vec<String>> = HashMap::new();
    for (key, id) in store::candidate_ids(db, &keys, MAX_BLOCK).await? {
        if Some(id) != exclude {
            shared.entry(id).or_default().push(key);
        }
    }
    let ids: Vec<i64> = shared
        .into_iter()
        .filter(|(_, keys)| worth_comparing(keys.iter().map(String::as_str)))
        .map(|(id, _)| id)
        .collect();
    let records = store::records(db, &ids).await?;
    let mut out: Vec<Candidate> = records
        .into_values()
        .filter_map(|(number, other)| {
            let m = compare(record, &other);
            (m.score >= threshold).then_some(Candidate {
                customer_number: number,
                score: m.score,
                reasons: m.reasons,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then_with(|| a.customer_number.cmp(&b.customer_number))
    });
    out.truncate(10);
    Ok(out)
}

/// For each record of a batch, its best likely duplicate among the stored customers, if any:
/// one key lookup and one record fetch for the whole batch instead of per row.
pub(crate) async fn best_matches(
    db: &mut Db<'_>,
    batch: &[DedupRecord],
    threshold: u32,
) -> Result<Vec<Option<Candidate>>> {
    let keys: Vec<Vec<String>> = batch.iter().map(blocking_keys).collect();
    let mut all: Vec<String> = keys.iter().flatten().cloned().collect();
    all.sort();
    all.dedup();
    let mut by_key: HashMap<String, Vec<i64>> = HashMap::new();
    for (k, id) in store::candidate_ids(db, &all, MAX_BLOCK).await? {
        by_key.entry(k).or_default().push(id);
    }
    // Per record of the batch, the stored customers worth comparing with it.
    let wanted: Vec<Vec<i64>> = keys
        .iter()
        .map(|keys| {
            let mut shared: HashMap<i64, Vec<&str>> = HashMap::new();
            for k in keys {
                for id in by_key.get(k).into_iter().flatten() {
                    shared.entry(*id).or_default().push(k);
                }
            }
            shared
                .into_iter()
                .filter(|(_, keys)| worth_comparing(keys.iter().copied()))
                .map(|(id, _)| id)
                .collect()
        })
        .collect();
    let ids: Vec<i64> = wanted
        .iter()
        .flatten()
        .copied()
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let records = store::records(db, &ids).await?;
    Ok(batch
        .iter()
        .zip(wanted)
        .map(|(record, ids)| {
            ids.into_iter()
                .filter_map(|id| {
                    let (number, other) = records.get(&id)?;
                    let m = compare(record, other);
                    (m.score >= threshold).then(|| Candidate {
                        customer_number: number.clone(),
                        score: m.score,
                        reasons: m.reasons,
                    })
                })
                .max_by(|a, b| {
                    a.score
                        .cmp(&b.score)
                        .then_with(|| b.customer_number.cmp(&a.customer_number))
                })
        })
        .collect())
}

/// A task for the review team, due in a week.
async fn review_task(
    db: &mut Db<'_>,
    customer_id: Option<i64>,
    title: &str,
    actor: &str,
    now: chrono::DateTime<Utc>,
) -> Result<()> {
    let task = kundo_store::tasks::NewTask {
        customer_id,
        kind: "duplicate_review",
        title,
        description: None,
        team: Some(REVIEW_TEAM),
        assignee: None,
        due_date: Some(now.date_naive() + chrono::Duration::days(7)),
        source: "duplicates",
        source_ref: None,
        created_by: actor,
    };
    kundo_store::tasks::insert(db, &task, now).await?;
    Ok(())
}

/// Puts the pairs of a record created despite likely duplicates into the review queue, with a
/// task for the review team.
pub(crate) async fn queue_pairs(
    db: &mut Db<'_>,
    id: i64,
    found: &[Candidate],
    actor: &str,
    now: chrono::DateTime<Utc>,
) -> Result<()> {
    let numbers: Vec<String> = found.iter().map(|c| c.customer_number.clone()).collect();
    let mut pairs = Vec::new();
    for c in found {
        if let Some(other) = kundo_store::customers::resolve_number(db, &c.customer_number).await? {
            pairs.push(FoundPair {
                customer_a: other.min(id),
                customer_b: other.max(id),
                score: i64::from(c.score),
                reasons: c.reasons.clone(),
            });
        }
    }
    store::save_pairs(db, &pairs, now).await?;
    let title = format!(
        "Created although it looks like {}: check and merge or dismiss",
        numbers.join(", ")
    );
    review_task(db, Some(id), &title, actor, now).await?;
    Ok(())
}

/// What a scan did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScanReport {
    pub keys_read: u64,
    /// Blocks skipped because too many customers share the key.
    pub blocks_skipped: u64,
    pub comparisons: u64,
    pub pairs_found: u64,
    /// Pairs new to the review queue (the others were there already or decided before).
    pub pairs_added: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PairView {
    pub id: i64,
    pub customer_a: String,
    pub customer_b: String,
    pub score: i64,
    pub reasons: Value,
    pub status: String,
    pub found_at: chrono::DateTime<Utc>,
}

impl From<PairRow> for PairView {
    fn from(p: PairRow) -> Self {
        PairView {
            reasons: serde_json::from_str(&p.reasons).unwrap_or(Value::Null),
            id: p.id,
            customer_a: p.customer_a,
            customer_b: p.customer_b,
            score: p.score,
            status: p.status,
            found_at: p.found_at,
        }
    }
}

/// Keys read per page of a scan.
const SCAN_PAGE: i64 = 50_000;

impl App {
    /// Likely duplicates of an input that would be created (without creating it).
    pub async fn duplicate_candidates(
        &self,
        input: kundo_core::customer::CustomerInput,
    ) -> Result<Vec<Candidate>> {
        let defs = self.attribute_definitions().await?;
        let v = input
            .validate(&defs, Utc::now())
            .map_err(AppError::Invalid)?;
        let mut conn = self.store.acquire().await?;
        candidates_for(
            &mut conn.db(),
            &DedupRecord::from_data(&v.data),
            None,
            DEFAULT_THRESHOLD,
        )
        .await
    }

    /// Likely duplicates of an already normalized record (what the create check runs).
    pub async fn duplicate_candidates_of(&self, record: &DedupRecord) -> Result<Vec<Candidate>> {
        let mut conn = self.store.acquire().await?;
        candidates_for(&mut conn.db(), record, None, DEFAULT_THRESHOLD).await
    }

    /// Finds duplicate pairs over the whole base through the blocking keys (never all pairs)
    /// and adds them to the review queue. `progress(keys_read)` is called per page.
    ///
    /// Keys are read in key order, a page at a time; each block (customers sharing a key) is
    /// compared pair by pair, but a pair only at the first key the two share (so a pair that
    /// shares five keys is compared once without a set of all pairs in memory) and only if it
    /// is worth comparing (`worth_comparing`: a strong key or two keys).
    pub async fn scan_duplicates(
        &self,
        actor: &Actor,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<ScanReport> {
        self.scan_duplicates_paged(actor, SCAN_PAGE, progress).await
    }

    /// [`App::scan_duplicates`] reading `page` keys at a time (tests use tiny pages to cross
    /// page boundaries inside blocks).
    pub async fn scan_duplicates_paged(
        &self,
        actor: &Actor,
        page_size: i64,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<ScanReport> {
        let page_size = page_size.max(1);
        let mut report = ScanReport::default();
        let now = Utc::now();
        let mut after: Option<(String, i64)> = None;
        // A block may run over the end of a page: it is carried into the next.
        let mut carry: Vec<(String, i64)> = Vec::new();
        loop {
            let mut conn = self.store.acquire().await?;
            let page = store::key_page(&mut conn.db(), after.as_ref(), page_size).await?;
            let done = (page.len() as i64) < page_size;
            after = page.last().cloned();
            report.keys_read += page.len() as u64;
            let mut rows = std::mem::take(&mut carry);
            rows.extend(page);
            if !done && let Some(last_key) = rows.last().map(|r| r.0.clone()) {
                // By equality, not `<`: PostgreSQL may order keys by a locale collation.
                let cut = rows
                    .iter()
                    .rposition(|r| r.0 != last_key)
                    .map_or(0, |p| p + 1);
                carry = rows.split_off(cut);
            }
            let mut blocks: Vec<(&str, Vec<i64>)> = Vec::new();
            for (key, id) in &rows {
                match blocks.last_mut() {
                    Some((k, ids)) if k == key => ids.push(*id),
                    _ => blocks.push((key, vec![*id])),
                }
            }
            blocks.retain(|(_, ids)| {
                let keep = ids.len() <= MAX_BLOCK;
                report.blocks_skipped += u64::from(!keep);
                keep && ids.len() > 1
            });
            let ids: Vec<i64> = blocks
                .iter()
                .flat_map(|(_, ids)| ids.iter().copied())
                .collect::<HashSet<_>>()
                .into_iter()
                .collect();
            let keys_of = store::keys_of(&mut conn.db(), &ids).await?;
            let records = store::records(&mut conn.db(), &ids).await?;
            drop(conn);
            let mut found = Vec::new();
            for (key, ids) in &blocks {
                for (i, a) in ids.iter().enumerate() {
                    for b in &ids[i + 1..] {
                        let (Some(ka), Some(kb)) = (keys_of.get(a), keys_of.get(b)) else {
                            continue;
                        };
                        let shared: Vec<&str> = ka
                            .iter()
                            .filter(|k| kb.contains(k))
                            .map(String::as_str)
                            .collect();
                        if shared.first() != Some(key) || !worth_comparing(shared) {
                            continue;
                        }
                        let (Some((_, ra)), Some((_, rb))) = (records.get(a), records.get(b))
                        else {
                            continue;
                        };
                        report.comparisons += 1;
                        let m = compare(ra, rb);
                        if m.score >= DEFAULT_THRESHOLD {
                            found.push(FoundPair {
                                customer_a: *a.min(b),
                                customer_b: *a.max(b),
                                score: i64::from(m.score),
                                reasons: m.reasons,
                            });
                        }
                    }
                }
            }
            report.pairs_found += found.len() as u64;
            if !found.is_empty() {
                let mut tx = self.store.begin_write().await?;
                report.pairs_added += store::save_pairs(&mut tx.db(), &found, now).await?;
                tx.commit().await?;
            }
            progress(report.keys_read);
            if done {
                break;
            }
        }
        let mut tx = self.store.begin_write().await?;
        if report.pairs_added > 0 {
            // The review queue is worked by the service team like any other task.
            let title = format!(
                "Review {} new likely duplicate pair(s) in the duplicates queue",
                report.pairs_added
            );
            review_task(&mut tx.db(), None, &title, &actor.name, now).await?;
        }
        kundo_store::audit::record(
            &mut tx.db(),
            &actor.name,
            "duplicates.scanned",
            None,
            &serde_json::to_value(&report).unwrap_or_default(),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(report)
    }

    /// The review queue: pairs with the given status (`open` by default), best score first.
    pub async fn duplicate_pairs(
        &self,
        status: &str,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<Page<PairView>> {
        if !["open", "dismissed", "merged", "obsolete"].contains(&status) {
            return Err(AppError::invalid(
                "status",
                "must be open, dismissed, merged or obsolete",
            ));
        }
        let after = match cursor {
            None => None,
            Some(c) => Some(
                c.split_once('.')
                    .and_then(|(s, i)| Some((s.parse().ok()?, i.parse().ok()?)))
                    .ok_or_else(|| AppError::invalid("cursor", "is not a cursor of this list"))?,
            ),
        };
        let mut conn = self.store.acquire().await?;
        let rows = store::pairs(&mut conn.db(), status, after, limit).await?;
        let next_cursor = if rows.len() as i64 == limit {
            rows.last().map(|p| format!("{}.{}", p.score, p.id))
        } else {
            None
        };
        Ok(Page {
            items: rows.into_iter().map(PairView::from).collect(),
            next_cursor,
        })
    }

    /// "Not the same person": the pair leaves the queue and does not come back with a scan.
    pub async fn dismiss_duplicate_pair(&self, actor: &Actor, id: i64) -> Result<()> {
        let now = Utc::now();
        let mut tx = self.store.begin_write().await?;
        if !store::dismiss_pair(&mut tx.db(), id, &actor.name, now).await? {
            return Err(AppError::NotFound("open duplicate pair"));
        }
        kundo_store::audit::record(
            &mut tx.db(),
            &actor.name,
            "duplicates.dismissed",
            None,
            &serde_json::json!({"pair": id}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
