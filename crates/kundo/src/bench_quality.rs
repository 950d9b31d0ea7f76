//! `kundo bench duplicates`: the duplicate check at creation against its bare key lookup, the
//! precision and recall on a labelled set, and the scan over the whole base.

use std::time::{Duration, Instant};

use kundo_app::{Actor, App};
use kundo_core::dedup::{DEFAULT_THRESHOLD, DedupRecord, blocking_keys, evaluate, labelled_set};
use kundo_core::demo::DemoRng;

use crate::bench::{ensure_customers, print, summarize};

/// A stored record as a clerk would type it again: umlauts spelled out, no email.
fn retyped(r: &DedupRecord) -> DedupRecord {
    let mut r = r.clone();
    r.last_name = r
        .last_name
        .map(|n| n.replace('ü', "ue").replace('ä', "ae").replace('ö', "oe"));
    r.emails.clear();
    r
}

pub async fn duplicates(
    app: &App,
    customers: u64,
    checks: usize,
    scan: bool,
) -> Result<(), String> {
    ensure_customers(app, customers).await?;
    let err = |e: kundo_store::StoreError| e.to_string();
    let mut conn = app.store.acquire().await.map_err(err)?;
    let max = kundo_store::customers::count(&mut conn.db())
        .await
        .map_err(err)?;
    let mut rng = DemoRng::new(7);
    let ids: Vec<i64> = (0..checks)
        .map(|_| 1 + rng.below(max.max(1) as u64) as i64)
        .collect();
    let stored = kundo_store::dedup::records(&mut conn.db(), &ids)
        .await
        .map_err(err)?;
    let records: Vec<DedupRecord> = ids
        .iter()
        .filter_map(|id| stored.get(id).map(|(_, r)| retyped(r)))
        .collect();
    drop(conn);
    println!(
        "{} checks of retyped stored customers among {max}",
        records.len()
    );

    // Baseline: only the indexed key lookup the check starts with.
    let mut lat = Vec::with_capacity(records.len());
    let start = Instant::now();
    for r in &records {
        let t = Instant::now();
        let mut conn = app.store.acquire().await.map_err(err)?;
        kundo_store::dedup::candidate_ids(
            &mut conn.db(),
            &blocking_keys(r),
            kundo_app::duplicates::MAX_BLOCK,
        )
        .await
        .map_err(err)?;
        lat.push(t.elapsed());
    }
    let base = summarize(lat, start.elapsed());
    print("key lookup (baseline)", &base);

    let mut lat = Vec::with_capacity(records.len());
    let mut found = 0usize;
    let start = Instant::now();
    for r in &records {
        let t = Instant::now();
        let c = app
            .duplicate_candidates_of(r)
            .await
            .map_err(crate::describe)?;
        lat.push(t.elapsed());
        found += usize::from(!c.is_empty());
    }
    let check = summarize(lat, start.elapsed());
    print("duplicate check", &check);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "check/baseline p99 ratio {:.2}; {found} of {} retyped customers found as likely duplicates",
        ms(check.p99) / ms(base.p99).max(1e-9),
        records.len()
    );

    let t = Instant::now();
    let set = labelled_set(42, 5_000);
    let q = evaluate(&set, DEFAULT_THRESHOLD);
    println!(
        "labelled set (seed 42, {} records): precision {:.4}, recall {:.4}, {} comparisons ({:.0} ms)",
        set.len(),
        q.precision,
        q.recall,
        q.comparisons,
        ms(t.elapsed())
    );

    if scan {
        let t = Instant::now();
        let report = app
            .scan_duplicates(&Actor::cli(), &|_| {})
            .await
            .map_err(crate::describe)?;
        let n = max as f64;
        println!(
            "scan: {} keys, {} comparisons (all pairs would be {:.3e}), {} likely pairs, {} oversized blocks skipped, {:.1} s",
            report.keys_read,
            report.comparisons,
            n * (n - 1.0) / 2.0,
            report.pairs_found,
            report.blocks_skipped,
            t.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
