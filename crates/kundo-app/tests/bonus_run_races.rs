//! A bonus run while points move (DOMAIN §4): returns, adjustments and merges booked during the
//! run are never converted twice nor converted when they are gone — on SQLite and PostgreSQL.
//!
//! Every customer starts with 1,000 points. While the run works through them, tasks book a
//! return (−600) and an adjustment (−300) for each of some customers and merge pairs of
//! others. Each booking answers with the balance it left, so the order in which a customer's
//! bookings and the conversion happened can be reconstructed: the test accepts a customer only
//! if some order of them replays every answered balance exactly and the conversion took the
//! whole balance it found (reset to zero), never more.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use kundo_app::receipts::{ReturnInput, ReturnLineInput};
use kundo_app::runs::RunLimit;
use kundo_app::{Actor, App};
use kundo_core::loyalty_runs::{BonusConfig, bonus_conversion};
use kundo_store::testing;

mod common;
use common::{START, setup, this_month};

/// Customers with a return and an adjustment during the run.
const MOVED: usize = 3_000;
/// Pairs merged during the run (the duplicate's points move to the survivor).
const MERGED_PAIRS: usize = 150;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Move {
    /// A booking of `delta` points that answered with `balance`.
    Booked { delta: i64, balance: i64 },
}

/// Whether some order of `moves` and the conversion of `converted` points (if any) replays
/// every answered balance from `START`, with the conversion taking exactly the balance it
/// found, at least the threshold.
fn replays(moves: &[Move], converted: Option<i64>) -> bool {
    let n = moves.len() + usize::from(converted.is_some());
    // Every order of at most four events: positions as a permutation of 0..n.
    let mut order: Vec<usize> = (0..n).collect();
    loop {
        let mut balance = START;
        let ok = order.iter().all(|&i| match moves.get(i) {
            Some(Move::Booked {
                delta,
                balance: answered,
            }) => {
                balance += delta;
                balance == *answered
            }
            None => {
                let taken = converted.unwrap_or_default();
                let fits = taken == balance && balance >= 500;
                balance -= taken;
                fits
            }
        });
        if ok {
            return true;
        }
        if !next_permutation(&mut order) {
            return false;
        }
    }
}

fn next_permutation(v: &mut [usize]) -> bool {
    let Some(i) = (1..v.len()).rev().find(|&i| v[i - 1] < v[i]) else {
        return false;
    };
    let j = (i..v.len()).rev().find(|&j| v[j] > v[i - 1]).unwrap_or(i);
    v.swap(i - 1, j);
    v[i..].reverse();
    true
}

/// The points the run converted of this customer (at most one `convert` entry).
async fn conversion(conn: &mut kundo_store::Conn, id: i64) -> Option<i64> {
    let converts: Vec<i64> = kundo_store::loyalty::entries(&mut conn.db(), id, None, 100)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.kind == "convert")
        .map(|e| -e.points)
        .collect();
    assert!(
        converts.len() <= 1,
        "customer {id} converted twice: {converts:?}"
    );
    converts.first().copied()
}

async fn balance(conn: &mut kundo_store::Conn, id: i64) -> i64 {
    kundo_store::loyalty::balance(&mut conn.db(), id)
        .await
        .unwrap()
}

fn points(body: &str, key: &str) -> i64 {
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    v[key].as_i64().unwrap_or_else(|| panic!("{key} in {body}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bonus_run_never_converts_points_that_are_gone_or_converted_elsewhere() {
    for (store, _dir) in testing::all().await {
        let db = store.backend().name();
        let app = App::new(store);
        let (numbers_ids, numbers) = setup(&app, MOVED + 2 * MERGED_PAIRS).await;
        let (moved, paired) = numbers.split_at(MOVED);
        // Persons merge with persons, organizations with organizations.
        let mut by_kind: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for n in paired {
            let kind = app.customer(n).await.unwrap().kind;
            by_kind.entry(kind).or_default().push(n.clone());
        }
        // Half the survivors come before their duplicate in the run's order, half after.
        let pairs: Vec<(String, String)> = by_kind
            .values()
            .flat_map(|same| same.chunks_exact(2))
            .enumerate()
            .map(|(i, p)| {
                let (a, b) = (p[0].clone(), p[1].clone());
                if i % 2 == 0 { (a, b) } else { (b, a) }
            })
            .collect();
        let log: Arc<tokio::sync::Mutex<HashMap<String, Vec<Move>>>> = Arc::default();

        let mut tasks = Vec::new();
        // Each customer gets one return and one adjustment, from different tasks walking in
        // opposite directions, so they also race each other: tasks 0 (returns) and 3
        // (adjustments) share the even customers, tasks 1 (adjustments) and 2 (returns) the odd.
        for t in 0..4usize {
            let (app, log) = (app.clone(), log.clone());
            let half = usize::from(t == 1 || t == 2);
            let mut mine: Vec<String> = moved
                .iter()
                .enumerate()
                .filter(|(i, _)| i % 2 == half)
                .map(|(_, n)| n.clone())
                .collect();
            if t >= 2 {
                mine.reverse();
            }
            let returns = t % 2 == 0;
            tasks.push(tokio::spawn(async move {
                for n in mine {
                    let m = if returns {
                        let input = ReturnInput {
                            external_id: format!("return-{n}"),
                            occurred_at: None,
                            lines: vec![ReturnLineInput {
                                sku: Some("A".into()),
                                line_no: None,
                                quantity: 1,
                                amount: None,
                            }],
                        };
                        let b = app
                            .book_return(&Actor::cli(), "pos-zh01", &format!("start-{n}"), input)
                            .await
                            .unwrap();
                        Move::Booked {
                            delta: -points(&b.body, "points_reversed"),
                            balance: points(&b.body, "balance"),
                        }
                    } else {
                        let balance = app
                            .adjust_points(&Actor::cli(), &n, -300, "race test")
                            .await
                            .unwrap();
                        Move::Booked {
                            delta: -300,
                            balance,
                        }
                    };
                    log.lock().await.entry(n).or_default().push(m);
                }
            }));
        }
        {
            let app = app.clone();
            let pairs = pairs.clone();
            tasks.push(tokio::spawn(async move {
                for (survivor, duplicate) in pairs {
                    app.merge_customers(&Actor::cli(), &survivor, &duplicate, &BTreeMap::new())
                        .await
                        .unwrap();
                }
            }));
        }
        // The run starts while the bookings are under way.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let run = app
            .bonus_run(
                &Actor::cli(),
                &this_month(),
                &BonusConfig::default(),
                RunLimit::default(),
            )
            .await
            .unwrap();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(run.state, "done", "{db}");

        let mut conn = app.store.acquire().await.unwrap();
        assert_eq!(
            kundo_store::loyalty::unbalanced_accounts(&mut conn.db())
                .await
                .unwrap(),
            vec![],
            "{db}: every balance is the sum of its ledger"
        );
        let vouchers = kundo_store::vouchers::of_run(&mut conn.db(), run.id)
            .await
            .unwrap();
        let mut vouchers_of: HashMap<i64, Vec<i64>> = HashMap::new();
        for v in &vouchers {
            vouchers_of
                .entry(v.customer_id.unwrap())
                .or_default()
                .push(v.value);
        }
        // Numbers as they were made (a merged number resolves to its survivor now).
        let ids: HashMap<String, i64> = numbers.iter().cloned().zip(numbers_ids).collect();
        let cfg = BonusConfig::default();
        let worth = |c: i64| bonus_conversion(&cfg, c).map(|v| v.0).unwrap_or_default();
        let log = log.lock().await;
        let (mut issued, mut converted) = (0, 0);
        let mut booked_before_conversion = 0;
        let mut bad = Vec::new();
        for n in moved {
            let id = ids[n];
            let c = conversion(&mut conn, id).await;
            let moves = &log[n];
            assert_eq!(moves.len(), 2, "{db}: {n}");
            if !replays(moves, c) {
                bad.push(format!("{n}: bookings {moves:?}, converted {c:?}"));
            }
            booked_before_conversion += usize::from(c.is_some_and(|c| c < START));
            assert_eq!(
                vouchers_of.remove(&id).unwrap_or_default(),
                c.map(worth).into_iter().collect::<Vec<_>>(),
                "{db}: {n} has one voucher of the run exactly if it was converted"
            );
            issued += usize::from(c.is_some());
            converted += c.unwrap_or_default();
        }
        assert!(
            bad.is_empty(),
            "{db}: {} of {MOVED} customers lost points to a conversion of points they no longer had, e.g. {:?}",
            bad.len(),
            &bad[..bad.len().min(5)]
        );
        // The race was real: bookings landed before the run converted some customers.
        assert!(
            booked_before_conversion > 0,
            "{db}: no booking preceded a conversion"
        );
        for (survivor, duplicate) in &pairs {
            let (s, d) = (ids[survivor], ids[duplicate]);
            assert_eq!(
                balance(&mut conn, d).await,
                0,
                "{db}: the merged duplicate {duplicate} keeps no points"
            );
            let (c_s, c_d) = (
                conversion(&mut conn, s).await,
                conversion(&mut conn, d).await,
            );
            // What the merge moved over: the duplicate's points were converted or moved, never both.
            let moved_over: i64 = kundo_store::loyalty::entries(&mut conn.db(), s, None, 100)
                .await
                .unwrap()
                .iter()
                .filter(|e| e.kind == "merge")
                .map(|e| e.points)
                .sum();
            assert_eq!(
                moved_over + c_d.unwrap_or_default(),
                START,
                "{db}: {duplicate} into {survivor}"
            );
            // The survivor was converted before the merge (its own points) or after (both).
            assert!(
                c_s.is_none_or(|c| c == START || c == START + moved_over),
                "{db}: {survivor} converted {c_s:?} with {moved_over} moved over"
            );
            assert_eq!(
                balance(&mut conn, s).await,
                2 * START - c_s.unwrap_or_default() - c_d.unwrap_or_default(),
                "{db}: {survivor}"
            );
            // The duplicate's voucher moved to the survivor with the merge.
            let mut expected: Vec<i64> = [c_s, c_d].into_iter().flatten().map(worth).collect();
            let mut held = vouchers_of.remove(&s).unwrap_or_default();
            expected.sort_unstable();
            held.sort_unstable();
            assert_eq!(held, expected, "{db}: {survivor}");
            issued += expected.len();
            converted += c_s.unwrap_or_default() + c_d.unwrap_or_default();
        }
        // The odd one out of each kind was left alone: its 1,000 points are converted whole.
        for n in paired
            .iter()
            .filter(|n| !pairs.iter().any(|(s, d)| s == *n || d == *n))
        {
            let id = ids[n];
            assert_eq!(conversion(&mut conn, id).await, Some(START), "{db}: {n}");
            assert_eq!(
                vouchers_of.remove(&id),
                Some(vec![worth(START)]),
                "{db}: {n}"
            );
            issued += 1;
            converted += START;
        }
        assert!(vouchers_of.is_empty(), "{db}: {vouchers_of:?}");
        assert_eq!(
            (run.vouchers_issued, run.points_converted),
            (issued as i64, converted),
            "{db}"
        );
    }
}

/// A duplicate converted in the first step of a run is merged into a survivor the run has not
/// reached yet: the survivor holds a voucher of this run now (the merge moved it), so the run
/// passes it by instead of stopping on the run's one-voucher-per-customer rule for good.
#[tokio::test]
async fn a_run_resumed_after_a_merge_passes_by_the_survivor_of_a_converted_duplicate() {
    for (store, _dir) in testing::all().await {
        let db = store.backend().name();
        let app = App::new(store);
        // One more customer than a step holds, and the survivor after them.
        let (ids, numbers) = setup(&app, 2_002).await;
        let (duplicate, survivor) = (&numbers[0], &numbers[2_001]);
        let cfg = BonusConfig::default();
        let first = app
            .bonus_run(
                &Actor::cli(),
                &this_month(),
                &cfg,
                RunLimit { max_steps: Some(1) },
            )
            .await
            .unwrap();
        assert_eq!(
            (first.state.as_str(), first.vouchers_issued),
            ("running", 2_000),
            "{db}"
        );
        let merged = app
            .merge_customers(&Actor::cli(), survivor, duplicate, &BTreeMap::new())
            .await
            .unwrap();
        assert_eq!(
            merged.survivor.balance, START,
            "{db}: the duplicate had nothing left"
        );
        let done = app
            .bonus_run(&Actor::cli(), &this_month(), &cfg, RunLimit::default())
            .await
            .unwrap();
        assert_eq!(
            (
                done.state.as_str(),
                done.vouchers_issued,
                done.points_converted
            ),
            ("done", 2_001, 2_001 * START),
            "{db}"
        );
        let mut conn = app.store.acquire().await.unwrap();
        assert_eq!(conversion(&mut conn, ids[2_001]).await, None, "{db}");
        assert_eq!(balance(&mut conn, ids[2_001]).await, START, "{db}");
        assert_eq!(
            app.customer_vouchers(survivor).await.unwrap().len(),
            1,
            "{db}: the duplicate's voucher"
        );
    }
}
