//! A property test of the points account: any sequence of receipts, returns, adjustments and
//! bonus runs keeps every balance equal to the sum of its ledger, never converts more points
//! than the account had, and never issues two bonus vouchers to one customer in one period.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{Duration, NaiveDate, Utc};
use kundo_app::receipts::{LineInput, ReceiptInput, ReturnInput, ReturnLineInput};
use kundo_app::runs::RunLimit;
use kundo_app::{Actor, App};
use kundo_core::customer::CustomerInput;
use kundo_core::loyalty_runs::BonusConfig;
use kundo_store::testing;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Buy {
        who: usize,
        chf: i64,
        category: usize,
    },
    Return {
        receipt: usize,
        percent: i64,
    },
    Adjust {
        who: usize,
        points: i64,
    },
    Bonus {
        period: usize,
        interrupt: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..3usize, 1..900i64, 0..3usize).prop_map(|(who, chf, category)| Op::Buy { who, chf, category }),
        2 => (0..20usize, 1..=100i64).prop_map(|(receipt, percent)| Op::Return { receipt, percent }),
        1 => (0..3usize, -300..300i64).prop_map(|(who, points)| Op::Adjust { who, points }),
        2 => (0..3usize, any::<bool>()).prop_map(|(period, interrupt)| Op::Bonus { period, interrupt }),
    ]
}

static CASE: AtomicU32 = AtomicU32::new(0);

async fn check(app: &App, ops: &[Op]) -> Result<(), String> {
    let case = CASE.fetch_add(1, Ordering::Relaxed);
    let tag = format!("{}-{case}", app.store.backend().name());
    let mut numbers = Vec::new();
    for who in 0..3 {
        let card = format!("29{:05}{:04}{who}", case, std::process::id() % 10_000);
        let input: CustomerInput = serde_json::from_value(
            serde_json::json!({"last_name": format!("P{tag}-{who}"), "card_numbers": [card]}),
        )
        .map_err(|e| e.to_string())?;
        match app
            .create_customer(
                &Actor::cli(),
                input,
                None,
                kundo_app::customers::DuplicateCheck::CreateAnyway,
            )
            .await
            .map_err(|e| format!("{e:?}"))?
        {
            kundo_app::customers::Created::New(v) => numbers.push((v.customer_number, card)),
            _ => return Err("replayed".into()),
        }
    }
    let cats = ["Möbel", "Papier", "Pfand"];
    let mut receipts: Vec<(String, i64)> = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        match op {
            Op::Buy { who, chf, category } => {
                let id = format!("{tag}-r{i}");
                let r = ReceiptInput {
                    source: "prop".into(),
                    external_id: id.clone(),
                    store_code: None,
                    channel: "online".into(),
                    occurred_at: (Utc::now() - Duration::days(1)).to_rfc3339(),
                    currency: "CHF".into(),
                    card_number: Some(numbers[*who].1.clone()),
                    customer_number: None,
                    lines: vec![LineInput {
                        sku: "S1".into(),
                        category: cats[*category].into(),
                        quantity: 3,
                        amount: chf * 100 + 55,
                    }],
                };
                app.book_receipt(&Actor::cli(), r)
                    .await
                    .map_err(|e| format!("{e:?}"))?;
                receipts.push((id, chf * 100 + 55));
            }
            Op::Return { receipt, percent } => {
                let Some((id, amount)) = receipts.get(*receipt % receipts.len().max(1)).cloned()
                else {
                    continue;
                };
                let ret = ReturnInput {
                    external_id: format!("{tag}-ret{i}"),
                    occurred_at: None,
                    lines: vec![ReturnLineInput {
                        sku: Some("S1".into()),
                        line_no: None,
                        quantity: 1,
                        amount: Some(amount * percent / 300),
                    }],
                };
                // Refusals (more than bought) are fine; they must change nothing.
                let _ = app.book_return(&Actor::cli(), "prop", &id, ret).await;
            }
            Op::Adjust { who, points } => {
                if *points != 0 {
                    app.adjust_points(&Actor::cli(), &numbers[*who].0, *points, "property test")
                        .await
                        .map_err(|e| format!("{e:?}"))?;
                }
            }
            Op::Bonus { period, interrupt } => {
                // Each period a run of its own, on a day of that month (a run is for the
                // month whose balances it reads).
                let first = NaiveDate::from_ymd_opt(2040 + case as i32 % 50, *period as u32 + 1, 1)
                    .ok_or("no such month")?;
                let p = first.format("%Y-%m").to_string();
                let limit = RunLimit {
                    max_steps: interrupt.then_some(0),
                };
                app.clone()
                    .with_today(first)
                    .bonus_run(&Actor::cli(), &p, &BonusConfig::default(), limit)
                    .await
                    .map_err(|e| format!("{e:?}"))?;
            }
        }
    }
    let mut conn = app.store.acquire().await.map_err(|e| e.to_string())?;
    let unbalanced = kundo_store::loyalty::unbalanced_accounts(&mut conn.db())
        .await
        .map_err(|e| e.to_string())?;
    if !unbalanced.is_empty() {
        return Err(format!("balance differs from ledger: {unbalanced:?}"));
    }
    for (number, _) in &numbers {
        let p = app
            .points(number, None, 10_000)
            .await
            .map_err(|e| format!("{e:?}"))?;
        let mut running = 0;
        for e in p.entries.iter().rev() {
            if e.kind == "convert" && running < -e.points {
                return Err(format!(
                    "{number}: converted {} with only {running} on the account",
                    -e.points
                ));
            }
            running += e.points;
        }
        if running != p.balance {
            return Err(format!(
                "{number}: ledger sums to {running}, balance says {}",
                p.balance
            ));
        }
        let vouchers = app
            .customer_vouchers(number)
            .await
            .map_err(|e| format!("{e:?}"))?;
        let mut per_period: HashMap<String, usize> = HashMap::new();
        for v in vouchers.iter().filter(|v| v.kind == "bonus") {
            *per_period
                .entry(v.valid_from.format("%Y-%m").to_string())
                .or_default() += 1;
        }
        if let Some((p, n)) = per_period.iter().find(|(_, n)| **n > 1) {
            return Err(format!("{number}: {n} bonus vouchers in {p}"));
        }
    }
    Ok(())
}

#[test]
fn the_ledger_stays_balanced_under_any_sequence_of_operations() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let backends = rt.block_on(testing::all());
    for (store, _dir) in &backends {
        let app = App::new(store.clone());
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
            cases: 24,
            ..ProptestConfig::default()
        });
        runner
            .run(&proptest::collection::vec(op(), 1..40), |ops| {
                rt.block_on(check(&app, &ops)).map_err(TestCaseError::fail)
            })
            .unwrap_or_else(|e| panic!("{}: {e}", store.backend().name()));
    }
}
