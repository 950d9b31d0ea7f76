//! What the run tests share: customers with points to convert, and the month a bonus run is
//! for today.

#![allow(dead_code)]

use chrono::{Datelike, Duration, Utc};
use kundo_app::receipts::{LineInput, ReceiptInput};
use kundo_app::{Actor, App};
use kundo_core::customer::customer_number_for;
use kundo_store::loyalty::StoreRow;

/// The points each customer of [`setup`] starts with.
pub const START: i64 = 1_000;

/// The current month, as a bonus run's period (a run may be for it all month long).
pub fn this_month() -> String {
    let today = Utc::now().date_naive();
    format!("{:04}-{:02}", today.year(), today.month())
}

pub fn receipt(number: &str) -> ReceiptInput {
    ReceiptInput {
        source: "pos-zh01".into(),
        external_id: format!("start-{number}"),
        store_code: Some("ZH01".into()),
        channel: "store".into(),
        occurred_at: (Utc::now() - Duration::days(2)).to_rfc3339(),
        currency: "CHF".into(),
        card_number: None,
        customer_number: Some(number.into()),
        lines: vec![
            LineInput {
                sku: "A".into(),
                category: "Möbel".into(),
                quantity: 1,
                amount: 60_000,
            },
            LineInput {
                sku: "B".into(),
                category: "Möbel".into(),
                quantity: 1,
                amount: 40_000,
            },
        ],
    }
}

/// `n` customers with 1,000 points each, earned by one receipt of two lines (600 + 400).
pub async fn setup(app: &App, n: usize) -> (Vec<i64>, Vec<String>) {
    app.upsert_stores(
        &Actor::cli(),
        vec![StoreRow {
            code: "ZH01".into(),
            name: "Filiale ZH01".into(),
            channel: "store".into(),
            street: None,
            postcode: None,
            city: None,
            country: Some("CH".into()),
        }],
    )
    .await
    .unwrap();
    let ids = app.generate_demo(n as u64, 18, 3, &|_| {}).await.unwrap();
    let numbers: Vec<String> = ids.iter().map(|id| customer_number_for(*id)).collect();
    for chunk in numbers.chunks(1_000) {
        let booked = app
            .book_receipts(&Actor::cli(), chunk.iter().map(|n| receipt(n)).collect())
            .await
            .unwrap();
        for b in booked {
            let b = b.unwrap();
            let body: serde_json::Value = serde_json::from_str(&b.body).unwrap();
            assert_eq!(body["points_earned"], START, "{}", b.body);
        }
    }
    (ids, numbers)
}
