//! Segments on both backends: a few hundred generated customers with two years of receipts,
//! booked through the real ingest use case; every segment's members must equal those found by a
//! brute-force scan of the generated data in Rust.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, Duration, NaiveDate, TimeZone, Utc};
use kundo_app::customers::Created;
use kundo_app::receipts::{LineInput, ReceiptInput};
use kundo_app::segments::SegmentInput;
use kundo_app::{Actor, App, AppError};
use kundo_core::attributes::{AttrType, AttributeDefinition};
use kundo_core::customer::CustomerInput;
use kundo_core::demo::DemoRng;
use kundo_store::loyalty::StoreRow;
use kundo_store::testing;
use serde_json::{Value, json};

const CUSTOMERS: usize = 300;
const STORES: &[&str] = &["ZH01", "BE01", "BS01"];
const CATEGORIES: &[(&str, i64, i64)] = &[
    ("Papier", 390, 4_990),
    ("Büromaterial", 190, 3_990),
    ("Elektronik", 2_990, 89_900),
    ("Möbel", 9_900, 149_000),
];
const BRANCHEN: &[&str] = &["Architektur", "Schule", "Bank"];

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 30).unwrap()
}

#[derive(Debug, Clone)]
struct Line {
    category: &'static str,
    sku: String,
    amount: i64,
}

#[derive(Debug, Clone)]
struct Receipt {
    date: NaiveDate,
    store: &'static str,
    online: bool,
    lines: Vec<Line>,
}

impl Receipt {
    fn total(&self) -> i64 {
        self.lines.iter().map(|l| l.amount).sum()
    }
    fn month(&self) -> (i32, u32) {
        (self.date.year(), self.date.month())
    }
    fn has(&self, category: &str) -> bool {
        self.lines.iter().any(|l| l.category == category)
    }
}

#[derive(Debug, Clone)]
struct Person {
    index: usize,
    number: String,
    gender: Option<&'static str>,
    birth: NaiveDate,
    branche: Option<&'static str>,
    /// (recorded day offset, status) of the email statements, in the order they were sent.
    email_consents: Vec<(i64, &'static str)>,
    receipts: Vec<Receipt>,
    blocked: bool,
    balance: i64,
}

impl Person {
    fn revenue_in(&self, from: (i32, u32), to: (i32, u32)) -> i64 {
        self.receipts
            .iter()
            .filter(|r| r.month() >= from && r.month() <= to)
            .map(Receipt::total)
            .sum()
    }
    fn receipts_in(&self, from: (i32, u32), to: (i32, u32)) -> Vec<&Receipt> {
        self.receipts
            .iter()
            .filter(|r| r.month() >= from && r.month() <= to)
            .collect()
    }
    fn revenue(&self) -> i64 {
        self.receipts.iter().map(Receipt::total).sum()
    }
    fn email_granted(&self) -> bool {
        // The latest statement wins, whatever order they were recorded in.
        self.email_consents
            .iter()
            .max_by_key(|(day, _)| *day)
            .is_some_and(|(_, s)| *s == "granted")
    }
}

fn generate() -> Vec<Person> {
    let mut rng = DemoRng::new(20260630);
    let mut people = Vec::new();
    for index in 0..CUSTOMERS {
        let gender = match rng.below(5) {
            0 | 1 => Some("female"),
            2 | 3 => Some("male"),
            _ => None,
        };
        let birth = NaiveDate::from_ymd_opt(
            1940 + rng.below(65) as i32,
            1 + rng.below(12) as u32,
            1 + rng.below(28) as u32,
        )
        .unwrap();
        let branche = if rng.chance(1, 2) {
            Some(*rng.pick(BRANCHEN))
        } else {
            None
        };
        let mut email_consents = Vec::new();
        match rng.below(4) {
            0 => {}
            1 => email_consents.push((100, "granted")),
            // Granted later than revoked, but sent first: the later statement wins.
            2 => email_consents.extend([(300, "granted"), (200, "revoked")]),
            _ => email_consents.extend([(200, "granted"), (300, "revoked")]),
        }
        let online_lover = rng.chance(1, 3);
        let big_spender = rng.chance(1, 4);
        let home = *rng.pick(STORES);
        let n = rng.below(if big_spender { 14 } else { 7 });
        let mut receipts = Vec::new();
        for _ in 0..n {
            let date = as_of() - Duration::days(rng.below(730) as i64);
            let online = rng.chance(if online_lover { 4 } else { 1 }, 5);
            let store = if online {
                "WEB"
            } else if rng.chance(3, 4) {
                home
            } else {
                *rng.pick(STORES)
            };
            let mut lines = Vec::new();
            for _ in 0..1 + rng.below(3) {
                let (category, min, max) = *rng.pick(CATEGORIES);
                let category = if category == "Möbel" && !big_spender && rng.chance(1, 2) {
                    "Papier"
                } else {
                    category
                };
                let amount = min + rng.below((max - min) as u64) as i64;
                lines.push(Line {
                    category,
                    sku: format!("{}-{}", &category[..3], rng.below(4)),
                    amount,
                });
            }
            receipts.push(Receipt {
                date,
                store,
                online,
                lines,
            });
        }
        people.push(Person {
            index,
            number: String::new(),
            gender,
            birth,
            branche,
            email_consents,
            receipts,
            blocked: rng.chance(1, 10),
            balance: 0,
        });
    }
    people
}

fn day(offset: i64) -> String {
    let t = Utc.with_ymd_and_hms(2025, 1, 1, 9, 0, 0).unwrap() + Duration::days(offset);
    t.to_rfc3339()
}

async fn load(app: &App, people: &mut [Person]) {
    app.upsert_stores(
        &Actor::cli(),
        STORES
            .iter()
            .map(|c| (c, "store"))
            .chain([(&"WEB", "online")])
            .map(|(c, ch)| StoreRow {
                code: c.to_string(),
                name: format!("Filiale {c}"),
                channel: ch.into(),
                street: None,
                postcode: None,
                city: None,
                country: Some("CH".into()),
            })
            .collect(),
    )
    .await
    .unwrap();
    app.define_attribute(
        &Actor::cli(),
        AttributeDefinition {
            name: "branche".into(),
            label: None,
            attr_type: AttrType::Enum,
            allowed_values: BRANCHEN.iter().map(|s| s.to_string()).collect(),
            required: false,
        },
    )
    .await
    .unwrap();
    for p in people.iter_mut() {
        let mut attributes = serde_json::Map::new();
        if let Some(b) = p.branche {
            attributes.insert("branche".into(), json!(b));
        }
        let consents: Vec<Value> = p
            .email_consents
            .iter()
            .map(|(d, s)| json!({"channel": "email", "status": s, "source": "test", "recorded_at": day(*d)}))
            .collect();
        let input: CustomerInput = serde_json::from_value(json!({
            "first_name": "Kim", "last_name": format!("Muster {}", p.index),
            "birth_date": p.birth.to_string(), "gender": p.gender,
            "email": format!("kim{}@example.ch", p.index),
            "addresses": [{"street": "Seestrasse", "house_number": p.index.to_string(), "postcode": format!("{}", 8000 + p.index), "city": "Zürich"}],
            "consents": consents, "attributes": attributes
        }))
        .unwrap();
        p.number = match app
            .create_customer(
                &Actor::cli(),
                input,
                None,
                kundo_app::customers::DuplicateCheck::CreateAnyway,
            )
            .await
        {
            Ok(Created::New(v)) => v.customer_number,
            Ok(Created::Replayed { .. }) => unreachable!(),
            Err(e) => panic!("{e:?}"),
        };
    }
    let mut batch = Vec::new();
    for p in people.iter() {
        for (k, r) in p.receipts.iter().enumerate() {
            let at = Utc
                .from_utc_datetime(&r.date.and_hms_opt(8 + (k % 10) as u32, 30, 0).unwrap())
                .to_rfc3339();
            batch.push(ReceiptInput {
                source: if r.online {
                    "shop".into()
                } else {
                    format!("pos-{}", r.store)
                },
                external_id: format!("{}-{k}", p.number),
                store_code: Some(r.store.into()),
                channel: if r.online { "online" } else { "store" }.into(),
                occurred_at: at,
                currency: "CHF".into(),
                card_number: None,
                customer_number: Some(p.number.clone()),
                lines: r
                    .lines
                    .iter()
                    .map(|l| LineInput {
                        sku: l.sku.clone(),
                        category: l.category.into(),
                        quantity: 1,
                        amount: l.amount,
                    })
                    .collect(),
            });
        }
    }
    let till = Actor {
        name: "apikey:pos".into(),
        scopes: vec!["receipts:write".into()],
        csrf_token: None,
    };
    for chunk in batch.chunks(2000) {
        for r in app.book_receipts(&till, chunk.to_vec()).await.unwrap() {
            assert_eq!(r.unwrap().status, 201);
        }
    }
    // A few addresses come back from the post: research needed, no more mail.
    let mut tx = app.store.begin_write().await.unwrap();
    for p in people.iter().filter(|p| p.blocked) {
        let id = kundo_store::customers::resolve_number(&mut tx.db(), &p.number)
            .await
            .unwrap()
            .unwrap();
        match tx.db() {
            kundo_store::Db::Sqlite(c) => {
                sqlx::query(
                    "UPDATE addresses SET postal_status = 'research' WHERE customer_id = $1",
                )
                .bind(id)
                .execute(&mut *c)
                .await
                .unwrap();
            }
            kundo_store::Db::Postgres(c) => {
                sqlx::query(
                    "UPDATE addresses SET postal_status = 'research' WHERE customer_id = $1",
                )
                .bind(id)
                .execute(&mut *c)
                .await
                .unwrap();
            }
        }
    }
    tx.commit().await.unwrap();
    for p in people.iter_mut() {
        p.balance = app.points(&p.number, None, 1).await.unwrap().balance;
    }
}

/// Sets a customer's status directly, as a merge that raced a receipt would leave it.
const THREE_PARTS: kundo_store::segments::Split = kundo_store::segments::Split {
    parts: 3,
    min_ids_per_part: 1,
};

/// The preview spread over three connections by customer-id range (ADR 12), whatever the size
/// of the data: count and customer numbers of the first `limit` members.
async fn preview_in_parts(app: &App, definition: &Value, limit: u64) -> (i64, Vec<String>) {
    let seg = app.parse_segment(definition).await.unwrap();
    let (count, page) =
        kundo_store::segments::preview(&app.store, &seg, as_of(), limit, THREE_PARTS)
            .await
            .unwrap();
    (count, page.into_iter().map(|m| m.customer_number).collect())
}

/// [`preview_in_parts`], and the count in parts agrees with it (the data standing still).
async fn split_preview(app: &App, definition: &Value, limit: u64) -> (i64, Vec<String>) {
    let (count, page) = preview_in_parts(app, definition, limit).await;
    let seg = app.parse_segment(definition).await.unwrap();
    let counted = kundo_store::segments::count(&app.store, &seg, as_of(), THREE_PARTS)
        .await
        .unwrap();
    assert_eq!(counted, count, "count and preview in parts");
    (count, page)
}

async fn set_status(app: &App, id: i64, status: &str) {
    let sql = "UPDATE customers SET status = $1 WHERE id = $2";
    let mut tx = app.store.begin_write().await.unwrap();
    kundo_store::with_db!(&mut tx.db(), c, _pg => {
        sqlx::query(sql).bind(status).bind(id).execute(&mut *c).await.unwrap();
    });
    tx.commit().await.unwrap();
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn bought_between(p: &Person, category: &str, from: NaiveDate, to: NaiveDate) -> bool {
    p.receipts
        .iter()
        .any(|r| r.date >= from && r.date <= to && r.has(category))
}

/// The category totals (receipts, first and last month, and on PostgreSQL the months) are what
/// the monthly category figures add up to (migration 12).
async fn category_totals_agree(app: &App, ctx: &str) {
    type Totals = BTreeMap<(i64, String), (i64, i32, i32, Vec<i32>)>;
    let mut conn = app.store.acquire().await.unwrap();
    let monthly: Vec<(i64, String, String, i64)> = kundo_store::with_db!(&mut conn.db(), c, _pg => {
        sqlx::query_as("SELECT customer_id, category, month, receipts FROM customer_categories")
            .fetch_all(&mut *c).await.unwrap()
    });
    let mut expected = Totals::new();
    for (customer, category, month, n) in monthly {
        let m: i32 = month.replace('-', "").parse().unwrap();
        let e = expected
            .entry((customer, category))
            .or_insert((0, i32::MAX, i32::MIN, Vec::new()));
        e.0 += n;
        e.1 = e.1.min(m);
        e.2 = e.2.max(m);
        e.3.push(m);
    }
    let pg = conn.db().is_postgres();
    for e in expected.values_mut() {
        e.3.sort();
        if !pg {
            e.3.clear();
        }
    }
    let got: Totals = match conn.db() {
        kundo_store::Db::Postgres(c) => {
            let rows: Vec<(i64, String, i64, i32, i32, Vec<i32>)> = sqlx::query_as(
                "SELECT customer_id, category, receipts, first_month, last_month, months FROM customer_category_totals",
            )
            .fetch_all(&mut *c)
            .await
            .unwrap();
            rows.into_iter()
                .map(|(c, k, n, f, l, m)| ((c, k), (n, f, l, m)))
                .collect()
        }
        kundo_store::Db::Sqlite(c) => {
            let rows: Vec<(i64, String, i64, i32, i32)> = sqlx::query_as(
                "SELECT customer_id, category, receipts, first_month, last_month FROM customer_category_totals",
            )
            .fetch_all(&mut *c)
            .await
            .unwrap();
            rows.into_iter()
                .map(|(c, k, n, f, l)| ((c, k), (n, f, l, Vec::new())))
                .collect()
        }
    };
    assert!(!got.is_empty(), "{ctx}");
    assert_eq!(got, expected, "{ctx}: category totals");
}

/// On PostgreSQL, each figure row's stores are exactly those where `customer_stores` counts a
/// sale, in order (migration 13); SQLite has no such column.
async fn store_sets_agree(app: &App, ctx: &str) {
    let mut conn = app.store.acquire().await.unwrap();
    let kundo_store::Db::Postgres(c) = conn.db() else {
        return;
    };
    let got: Vec<(i64, Vec<String>)> =
        sqlx::query_as("SELECT customer_id, stores FROM customer_stats ORDER BY customer_id")
            .fetch_all(&mut *c)
            .await
            .unwrap();
    let per_store: Vec<(i64, String)> = sqlx::query_as(
        "SELECT customer_id, store_code FROM customer_stores WHERE receipts > 0 ORDER BY customer_id, store_code",
    )
    .fetch_all(&mut *c)
    .await
    .unwrap();
    let mut expected: BTreeMap<i64, Vec<String>> =
        got.iter().map(|(id, _)| (*id, Vec::new())).collect();
    for (id, store) in per_store {
        expected.entry(id).or_default().push(store);
    }
    let got: BTreeMap<i64, Vec<String>> = got.into_iter().collect();
    assert_eq!(got, expected, "{ctx}: stores on the figure rows");
}

fn months_back(n: u32) -> ((i32, u32), (i32, u32)) {
    let to = (as_of().year(), as_of().month());
    let first = as_of().with_day(1).unwrap() - chrono::Months::new(n - 1);
    ((first.year(), first.month()), to)
}

struct Case {
    name: &'static str,
    definition: Value,
    expect: Box<dyn Fn(&Person) -> bool>,
    /// Seed examples must have a non-trivial membership.
    nontrivial: bool,
}

fn cases() -> Vec<Case> {
    let (y_from, y_to) = months_back(12);
    let last_purchase_within = |p: &Person, days: i64| {
        p.receipts
            .iter()
            .any(|r| r.date > as_of() - Duration::days(days))
    };
    vec![
        Case {
            name: "seed 1: store ZH01, revenue 12 months >= 1000, no purchase in 60 days",
            definition: json!({"and": [
                {"purchases": {"metric": "receipts", "store": "ZH01", "op": "gte", "value": 1}},
                {"purchases": {"metric": "revenue", "window": {"last_months": 12}, "op": "gte", "value": 100000}},
                {"last_purchase": {"op": "before", "days": 60}}
            ]}),
            expect: Box::new(move |p| {
                p.receipts.iter().any(|r| r.store == "ZH01")
                    && p.revenue_in(y_from, y_to) >= 100_000
                    && !last_purchase_within(p, 60)
            }),
            nontrivial: true,
        },
        Case {
            name: "seed 2: online shopper, average basket >= 80, female, Papier >= 2 times",
            definition: json!({"and": [
                {"purchases": {"metric": "online_share", "window": {"last_months": 12}, "op": "gte", "value": 500}},
                {"purchases": {"metric": "average_basket", "window": {"last_months": 12}, "op": "gte", "value": 8000}},
                {"field": "gender", "op": "eq", "value": "female"},
                {"bought": {"category": "Papier", "min_times": 2}}
            ]}),
            expect: Box::new(move |p| {
                let rs = p.receipts_in(y_from, y_to);
                let rev: i64 = rs.iter().map(|r| r.total()).sum();
                let online: i64 = rs.iter().filter(|r| r.online).map(|r| r.total()).sum();
                let share = if rev > 0 { online * 1000 / rev } else { 0 };
                let avg = if rs.is_empty() {
                    0
                } else {
                    rev / rs.len() as i64
                };
                share >= 500
                    && avg >= 8000
                    && p.gender == Some("female")
                    && p.receipts.iter().filter(|r| r.has("Papier")).count() >= 2
            }),
            nontrivial: true,
        },
        Case {
            name: "seed 3: Möbel last year, none in the last quarter, <= 3 orders, revenue >= 1500",
            definition: json!({"and": [
                {"bought": {"category": "Möbel", "window": {"from": "2025-01-01", "to": "2025-12-31"}}},
                {"bought": {"category": "Möbel", "window": {"last_months": 3}, "negate": true}},
                {"purchases": {"metric": "receipts", "op": "lte", "value": 3}},
                {"purchases": {"metric": "revenue", "op": "gte", "value": 150000}}
            ]}),
            expect: Box::new(|p| {
                let quarter = NaiveDate::from_ymd_opt(2026, 4, 1).unwrap();
                p.receipts
                    .iter()
                    .any(|r| r.date.year() == 2025 && r.has("Möbel"))
                    && !p
                        .receipts
                        .iter()
                        .any(|r| r.date >= quarter && r.has("Möbel"))
                    && p.receipts.len() <= 3
                    && p.revenue() >= 150_000
            }),
            nontrivial: true,
        },
        Case {
            name: "a category in months that many bought before and after",
            definition: json!({"bought": {"category": "Elektronik", "window": {"from": "2025-03-01", "to": "2025-05-31"}}}),
            expect: Box::new(|p| {
                bought_between(p, "Elektronik", date(2025, 3, 1), date(2025, 5, 31))
            }),
            nontrivial: true,
        },
        Case {
            name: "several conditions on one category in one group, and one on another",
            definition: json!({"and": [
                {"bought": {"category": "Papier", "window": {"from": "2025-01-01", "to": "2025-12-31"}}},
                {"bought": {"category": "Papier", "window": {"last_months": 6}, "negate": true}},
                {"bought": {"category": "Papier", "window": {"to": "2024-12-31"}, "negate": true}},
                {"bought": {"category": "Papier", "min_times": 2}},
                {"bought": {"category": "Elektronik", "window": {"from": "2025-07-01"}, "negate": true}},
                {"bought": {"category": "Elektronik", "window": {"from": "2025-04-01", "to": "2025-06-30"}, "negate": true}}
            ]}),
            expect: Box::new(|p| {
                bought_between(p, "Papier", date(2025, 1, 1), date(2025, 12, 31))
                    && !bought_between(p, "Papier", date(2026, 1, 1), as_of())
                    && !bought_between(p, "Papier", date(2000, 1, 1), date(2024, 12, 31))
                    && p.receipts.iter().filter(|r| r.has("Papier")).count() >= 2
                    && !bought_between(p, "Elektronik", date(2025, 4, 1), as_of())
            }),
            nontrivial: true,
        },
        Case {
            name: "counted in months, and under or / not",
            definition: json!({"or": [
                {"bought": {"category": "Möbel", "window": {"last_months": 12}, "min_times": 2}},
                {"not": {"and": [
                    {"bought": {"category": "Büromaterial", "window": {"from": "2024-10-01", "to": "2025-09-30"}}},
                    {"bought": {"category": "Büromaterial", "window": {"from": "2025-01-01", "to": "2025-02-28"}, "negate": true}}
                ]}}
            ]}),
            expect: Box::new(move |p| {
                let moebel = p
                    .receipts
                    .iter()
                    .filter(|r| r.month() >= y_from && r.month() <= y_to && r.has("Möbel"))
                    .count();
                // The NOT of the group, spelled out as the definition says it.
                let group = bought_between(p, "Büromaterial", date(2024, 10, 1), date(2025, 9, 30))
                    && !bought_between(p, "Büromaterial", date(2025, 1, 1), date(2025, 2, 28));
                moebel >= 2 || !group
            }),
            nontrivial: true,
        },
        Case {
            name: "or / not / attribute / consent",
            definition: json!({"or": [
                {"not": {"field": "gender", "op": "in", "value": ["female", "male"]}},
                {"and": [
                    {"attribute": "branche", "op": "in", "value": ["Architektur", "Schule"]},
                    {"consent": {"channel": "email", "status": "granted"}}
                ]}
            ]}),
            expect: Box::new(|p| {
                p.gender.is_none()
                    || (matches!(p.branche, Some("Architektur" | "Schule")) && p.email_granted())
            }),
            nontrivial: true,
        },
        Case {
            name: "not consented, attribute ne (missing values included)",
            definition: json!({"and": [
                {"not": {"consent": {"channel": "email"}}},
                {"attribute": "branche", "op": "ne", "value": "Bank"}
            ]}),
            expect: Box::new(|p| !p.email_granted() && p.branche != Some("Bank")),
            nontrivial: true,
        },
        Case {
            name: "balance",
            definition: json!({"or": [
                {"loyalty": {"metric": "balance", "op": "gte", "value": 2000}},
                {"loyalty": {"metric": "balance", "op": "lt", "value": 50}}
            ]}),
            expect: Box::new(|p| p.balance >= 2000 || p.balance < 50),
            nontrivial: true,
        },
        Case {
            name: "postal status and age",
            definition: json!({"and": [
                {"not": {"postal_status": "ok"}},
                {"field": "age", "op": "gte", "value": 40}
            ]}),
            expect: Box::new(|p| {
                let a = as_of();
                let age = a.year()
                    - p.birth.year()
                    - i32::from((a.month(), a.day()) < (p.birth.month(), p.birth.day()));
                p.blocked && age >= 40
            }),
            nontrivial: true,
        },
        Case {
            name: "day windows, stores and channels read receipts",
            definition: json!({"or": [
                {"purchases": {"metric": "revenue", "store": "BE01", "window": {"last_days": 200}, "op": "gte", "value": 20000}},
                {"purchases": {"metric": "receipts", "channel": "online", "window": {"from": "2025-03-15", "to": "2025-09-14"}, "op": "gte", "value": 2}},
                {"and": [
                    {"purchases": {"metric": "receipts", "channel": "store", "op": "eq", "value": 0}},
                    {"last_purchase": {"op": "within", "days": 30}}
                ]}
            ]}),
            expect: Box::new(move |p| {
                let from = as_of() - Duration::days(199);
                let be: i64 = p
                    .receipts
                    .iter()
                    .filter(|r| r.store == "BE01" && r.date >= from)
                    .map(|r| r.total())
                    .sum();
                let (f, t) = (
                    NaiveDate::from_ymd_opt(2025, 3, 15).unwrap(),
                    NaiveDate::from_ymd_opt(2025, 9, 14).unwrap(),
                );
                let online = p
                    .receipts
                    .iter()
                    .filter(|r| r.online && r.date >= f && r.date <= t)
                    .count();
                be >= 20_000
                    || online >= 2
                    || (p.receipts.iter().all(|r| r.online) && last_purchase_within(p, 30))
            }),
            nontrivial: true,
        },
        Case {
            // On PostgreSQL the first three ask the stores on the figure row (ADR 17), the
            // fourth counts receipts in customer_stores.
            name: "stores: bought but never at BE01, not (none at the online shop), ZH01 three times",
            definition: json!({"or": [
                {"and": [
                    {"purchases": {"metric": "receipts", "store": "BE01", "op": "eq", "value": 0}},
                    {"purchases": {"metric": "revenue", "op": "gte", "value": 50000}}
                ]},
                {"and": [
                    {"not": {"purchases": {"metric": "receipts", "store": "WEB", "op": "lt", "value": 1}}},
                    {"field": "gender", "op": "eq", "value": "male"}
                ]},
                {"purchases": {"metric": "receipts", "store": "ZH01", "op": "gte", "value": 3}}
            ]}),
            expect: Box::new(|p| {
                let at = |store: &str| p.receipts.iter().filter(|r| r.store == store).count();
                (at("BE01") == 0 && p.revenue() >= 50_000)
                    || (at("WEB") >= 1 && p.gender == Some("male"))
                    || at("ZH01") >= 3
            }),
            nontrivial: true,
        },
        Case {
            name: "sku in a day window, twice",
            definition: json!({"bought": {"sku": "Pap-1", "window": {"last_days": 365}, "min_times": 2}}),
            expect: Box::new(|p| {
                p.receipts
                    .iter()
                    .filter(|r| {
                        r.date > as_of() - Duration::days(365)
                            && r.lines.iter().any(|l| l.sku == "Pap-1")
                    })
                    .count()
                    >= 2
            }),
            nontrivial: false,
        },
    ]
}

/// The test for one customer (what scoring a receipt asks for a promotion limited to the
/// segment) answers as the members query does, for every third customer.
async fn one_by_one_agrees(
    app: &App,
    definition: &Value,
    people: &[Person],
    expected: &BTreeSet<String>,
    ctx: &str,
) {
    let seg = app.parse_segment(definition).await.unwrap();
    let mut conn = app.store.acquire().await.unwrap();
    let at = kundo_store::segments::At::load(&mut conn.db(), as_of())
        .await
        .unwrap();
    for p in people.iter().step_by(3) {
        let id = kundo_store::customers::resolve_number(&mut conn.db(), &p.number)
            .await
            .unwrap()
            .unwrap();
        let member = kundo_store::segments::is_member(&mut conn.db(), &seg, &at, id)
            .await
            .unwrap();
        assert_eq!(member, expected.contains(&p.number), "{ctx}: {}", p.number);
    }
}

fn input(name: &str, definition: Value, kind: Option<&str>) -> SegmentInput {
    SegmentInput {
        name: name.into(),
        definition,
        kind: kind.map(str::to_string),
    }
}

#[tokio::test]
async fn segments_find_exactly_the_members_a_scan_of_the_data_finds() {
    for (store, _dir) in testing::all().await {
        let db = store.backend().name();
        let app = App::new(store);
        let mut people = generate();
        // Rolled before the receipts arrive: ingest keeps the twelve-month figures current.
        assert!(app.roll_figures(as_of()).await.unwrap());
        load(&app, &mut people).await;
        rolling_figures_agree(&app, db).await;
        category_totals_agree(&app, db).await;
        store_sets_agree(&app, db).await;
        let actor = Actor::cli();
        for case in cases() {
            let expected: BTreeSet<String> = people
                .iter()
                .filter(|p| (case.expect)(p))
                .map(|p| p.number.clone())
                .collect();
            let ctx = format!("{db}: {}", case.name);
            if case.nontrivial {
                assert!(
                    !expected.is_empty() && expected.len() < people.len(),
                    "{ctx}: {} members is trivial",
                    expected.len()
                );
            }
            let seg = app
                .create_segment(
                    &actor,
                    input(case.name, case.definition.clone(), None),
                    as_of(),
                )
                .await
                .unwrap_or_else(|e| panic!("{ctx}: {e:?}"));
            assert_eq!(
                app.segment_count(seg.id, as_of()).await.unwrap(),
                expected.len() as i64,
                "{ctx}"
            );
            // Cursor pagination: every member once, in order.
            let mut got = Vec::new();
            let mut cursor = None;
            loop {
                let page = app
                    .segment_members(seg.id, as_of(), cursor, 37)
                    .await
                    .unwrap();
                got.extend(page.items.iter().map(|m| m.customer_number.clone()));
                match page.next_cursor {
                    Some(c) => cursor = Some(c.parse().unwrap()),
                    None => break,
                }
            }
            let set: BTreeSet<String> = got.iter().cloned().collect();
            assert_eq!(set.len(), got.len(), "{ctx}: a member came twice");
            assert_eq!(set, expected, "{ctx}");
            let preview = app
                .preview_segment(&case.definition, as_of(), 10)
                .await
                .unwrap();
            assert_eq!(preview.count, expected.len() as i64, "{ctx}");
            let first: Vec<String> = got.iter().take(10).cloned().collect();
            let sample: Vec<String> = preview
                .sample
                .iter()
                .map(|m| m.customer_number.clone())
                .collect();
            assert_eq!(sample, first, "{ctx}");
            let (count, sample) = split_preview(&app, &case.definition, 10).await;
            assert_eq!(count, expected.len() as i64, "{ctx}: in parts");
            assert_eq!(sample, first, "{ctx}: in parts");
            one_by_one_agrees(&app, &case.definition, &people, &expected, &ctx).await;
        }
        // The same answers from the monthly figures (window rolled to another month) and from
        // a roll that recomputes the twelve-month figures.
        for (label, day) in [
            ("monthly figures", as_of() + Duration::days(40)),
            ("recomputed rolling figures", as_of()),
        ] {
            assert!(app.roll_figures(day).await.unwrap());
            for case in cases() {
                let expected: Vec<String> = people
                    .iter()
                    .filter(|p| (case.expect)(p))
                    .map(|p| p.number.clone())
                    .collect::<BTreeSet<String>>()
                    .into_iter()
                    .collect();
                let preview = app
                    .preview_segment(&case.definition, as_of(), 1000)
                    .await
                    .unwrap();
                let got: Vec<String> = preview
                    .sample
                    .iter()
                    .map(|m| m.customer_number.clone())
                    .collect();
                assert_eq!(
                    preview.count,
                    expected.len() as i64,
                    "{db} {label}: {}",
                    case.name
                );
                let mut sorted = got.clone();
                sorted.sort();
                assert_eq!(sorted, expected, "{db} {label}: {}", case.name);
                let (count, sample) = split_preview(&app, &case.definition, 1000).await;
                assert_eq!(count, preview.count, "{db} {label} in parts: {}", case.name);
                assert_eq!(sample, got, "{db} {label} in parts: {}", case.name);
            }
        }

        // A merged customer is never a member, not even with a figures row left behind (such a
        // segment is read from customer_stats alone, ADR 9).
        let seed1 = cases().remove(0);
        let members: Vec<&Person> = people.iter().filter(|p| (seed1.expect)(p)).collect();
        let gone = members[0].number.clone();
        let gone_id = {
            let mut conn = app.store.acquire().await.unwrap();
            kundo_store::customers::resolve_number(&mut conn.db(), &gone)
                .await
                .unwrap()
                .unwrap()
        };
        set_status(&app, gone_id, "merged").await;
        let preview = app
            .preview_segment(&seed1.definition, as_of(), 1000)
            .await
            .unwrap();
        assert_eq!(preview.count, members.len() as i64 - 1, "{db}");
        assert!(
            !preview.sample.iter().any(|m| m.customer_number == gone),
            "{db}"
        );
        let (count, sample) = split_preview(&app, &seed1.definition, 1000).await;
        assert_eq!(count, preview.count, "{db}: in parts");
        assert!(!sample.contains(&gone), "{db}: in parts");
        set_status(&app, gone_id, "active").await;

        // A busy pool: the preview takes the one free connection and answers in one part
        // instead of waiting for the others.
        // Open a few connections first: on a loaded machine, opening one may take longer
        // than `acquire_ready` waits for it.
        let mut warm = Vec::new();
        for _ in 0..4 {
            warm.push(app.store.acquire().await.unwrap());
        }
        drop(warm);
        let mut held = app.store.acquire_ready(64).await;
        assert!(held.len() > 2, "{db}: the pool hands out connections");
        held.pop();
        let (count, _) = split_preview(&app, &seed1.definition, 1000).await;
        assert_eq!(count, members.len() as i64, "{db}: with a busy pool");
        drop(held);

        // A static list is a dated snapshot: it keeps its members when the data moves on.
        let expected = people.iter().filter(|p| (seed1.expect)(p)).count() as i64;
        let fixed = app
            .create_segment(
                &actor,
                input("seed 1 frozen", seed1.definition.clone(), Some("static")),
                as_of(),
            )
            .await
            .unwrap();
        assert_eq!(
            fixed.snapshot.as_ref().map(|s| s.member_count),
            Some(expected),
            "{db}"
        );
        let later = as_of() + Duration::days(400);
        assert_eq!(
            app.segment_count(fixed.id, later).await.unwrap(),
            expected,
            "{db}"
        );
        let live = app.segments(None, 100).await.unwrap().items[0].id;
        assert_ne!(
            app.segment_count(live, later).await.unwrap(),
            expected,
            "{db}: the dynamic list follows the date"
        );
        let mut csv = Vec::new();
        let rows = app.export_segment(fixed.id, later, &mut csv).await.unwrap();
        assert_eq!(rows as i64, expected, "{db}");
        let text = String::from_utf8(csv).unwrap();
        assert!(
            text.starts_with(
                "customer_number,salutation,first_name,last_name,company_name,email,postcode,city\n"
            ),
            "{text}"
        );
        assert_eq!(text.lines().count() as i64, expected + 1, "{db}");
        let snap = app.snapshot_segment(&actor, fixed.id, later).await.unwrap();
        assert_eq!(
            app.segment_count(fixed.id, as_of()).await.unwrap(),
            snap.member_count,
            "{db}: the newest snapshot counts"
        );
        app.delete_segment(&actor, fixed.id).await.unwrap();
        assert!(matches!(
            app.segment_count(fixed.id, as_of()).await,
            Err(AppError::NotFound(_))
        ));
    }
}

#[tokio::test]
async fn names_are_unique_versions_guard_changes_and_errors_name_the_node() {
    for (store, _dir) in testing::all().await {
        let db = store.backend().name();
        let app = App::new(store);
        let actor = Actor::cli();
        let def = json!({"field": "gender", "op": "eq", "value": "female"});
        let s = app
            .create_segment(&actor, input("Frauen", def.clone(), None), as_of())
            .await
            .unwrap();
        assert_eq!((s.kind.as_str(), s.version), ("dynamic", 1), "{db}");
        match app
            .create_segment(&actor, input("Frauen", def.clone(), None), as_of())
            .await
        {
            Err(AppError::Conflict { field, .. }) => assert_eq!(field, "name", "{db}"),
            other => panic!("{db}: {other:?}"),
        }
        match app
            .create_segment(
                &actor,
                input(
                    "bad",
                    json!({"and": [def.clone(), {"purchases": {"metric": "revenue", "op": "most", "value": 1}}]}),
                    Some("sometimes"),
                ),
                as_of(),
            )
            .await
        {
            Err(AppError::Invalid(errs)) => {
                let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
                assert_eq!(fields, ["kind", "definition.and[1].purchases.op"], "{db}");
            }
            other => panic!("{db}: {other:?}"),
        }
        match app
            .create_segment(
                &actor,
                input(
                    "unknown attribute",
                    json!({"attribute": "hobby", "op": "eq", "value": "x"}),
                    None,
                ),
                as_of(),
            )
            .await
        {
            Err(AppError::Invalid(errs)) => assert_eq!(errs[0].field, "definition.attribute"),
            other => panic!("{db}: {other:?}"),
        }
        let changed = app
            .change_segment(
                &actor,
                s.id,
                input(
                    "Frauen und Diverse",
                    json!({"field": "gender", "op": "in", "value": ["female", "diverse"]}),
                    None,
                ),
                Some(1),
                as_of(),
            )
            .await
            .unwrap();
        assert_eq!(changed.version, 2, "{db}");
        assert!(matches!(
            app.change_segment(
                &actor,
                s.id,
                input("x", def.clone(), None),
                Some(1),
                as_of()
            )
            .await,
            Err(AppError::Stale)
        ));
        let audit = app.audit_log(None, 10).await.unwrap();
        assert!(
            audit.items.iter().any(|a| a.action == "segment.changed"),
            "{db}"
        );
        app.delete_segment(&actor, s.id).await.unwrap();
        assert!(matches!(
            app.segment(s.id).await,
            Err(AppError::NotFound(_))
        ));
    }
}

/// Every customer's twelve-month figures equal the sum of their monthly figures over the stored
/// window (receipts, revenue, online receipts, online revenue).
async fn rolling_figures_agree(app: &App, ctx: &str) {
    let sql = "SELECT s.customer_id, s.receipts_12m, s.revenue_12m, s.online_receipts_12m, s.online_revenue_12m, \
               CAST(COALESCE((SELECT SUM(m.receipts) FROM customer_monthly m, rolling_window w WHERE m.customer_id = s.customer_id AND m.month >= w.from_month AND m.month <= w.to_month), 0) AS BIGINT), \
               CAST(COALESCE((SELECT SUM(m.revenue) FROM customer_monthly m, rolling_window w WHERE m.customer_id = s.customer_id AND m.month >= w.from_month AND m.month <= w.to_month), 0) AS BIGINT), \
               CAST(COALESCE((SELECT SUM(m.online_receipts) FROM customer_monthly m, rolling_window w WHERE m.customer_id = s.customer_id AND m.month >= w.from_month AND m.month <= w.to_month), 0) AS BIGINT), \
               CAST(COALESCE((SELECT SUM(m.online_revenue) FROM customer_monthly m, rolling_window w WHERE m.customer_id = s.customer_id AND m.month >= w.from_month AND m.month <= w.to_month), 0) AS BIGINT) \
               FROM customer_stats s ORDER BY s.customer_id";
    type Row = (i64, i64, i64, i64, i64, i64, i64, i64, i64);
    let mut conn = app.store.acquire().await.unwrap();
    let rows: Vec<Row> = match conn.db() {
        kundo_store::Db::Sqlite(c) => sqlx::query_as(sql).fetch_all(&mut *c).await.unwrap(),
        kundo_store::Db::Postgres(c) => sqlx::query_as(sql).fetch_all(&mut *c).await.unwrap(),
    };
    assert!(!rows.is_empty(), "{ctx}");
    let mut in_window = 0;
    for r in rows {
        assert_eq!(
            (r.1, r.2, r.3, r.4),
            (r.5, r.6, r.7, r.8),
            "{ctx}: customer {}",
            r.0
        );
        in_window += r.1;
    }
    assert!(in_window > 0, "{ctx}: no receipt fell into the window");
}

/// The first `n` generated people, loaded without their receipts.
async fn people_without_receipts(app: &App, n: usize) -> Vec<Person> {
    let mut people: Vec<Person> = generate().into_iter().take(n).collect();
    for p in people.iter_mut() {
        p.receipts.clear();
    }
    load(app, &mut people).await;
    people
}

/// A sale of Papier for CHF 20 at the ZH01 till, booked to the customer's number.
fn papier_sale(external_id: &str, customer_number: &str, date: NaiveDate) -> ReceiptInput {
    ReceiptInput {
        source: "pos-ZH01".into(),
        external_id: external_id.into(),
        store_code: Some("ZH01".into()),
        channel: "store".into(),
        occurred_at: Utc
            .from_utc_datetime(&date.and_hms_opt(10, 0, 0).unwrap())
            .to_rfc3339(),
        currency: "CHF".into(),
        card_number: None,
        customer_number: Some(customer_number.into()),
        lines: vec![LineInput {
            sku: format!("SKU-{external_id}"),
            category: "Papier".into(),
            quantity: 1,
            amount: 2_000,
        }],
    }
}

/// A till system's key, allowed to book receipts.
fn till() -> Actor {
    Actor {
        name: "apikey:pos".into(),
        scopes: vec!["receipts:write".into()],
        csrf_token: None,
    }
}

#[tokio::test]
async fn rolling_the_window_while_receipts_arrive_loses_nothing() {
    for (store, _dir) in testing::all().await {
        let db = store.backend().name();
        let app = App::new(store);
        let people = people_without_receipts(&app, 24).await;
        let till = till();
        // Receipts over fourteen months around two windows, booked while the window rolls
        // back and forth between the months of June and August 2026.
        let days = [as_of(), as_of() + Duration::days(45)];
        let booking = {
            let app = app.clone();
            let numbers: Vec<String> = people.iter().map(|p| p.number.clone()).collect();
            tokio::spawn(async move {
                for round in 0..40usize {
                    let batch: Vec<ReceiptInput> = (0..6)
                        .map(|k| {
                            let n = round * 6 + k;
                            let date = as_of() - Duration::days((n as i64 * 37) % 420)
                                + Duration::days(50);
                            ReceiptInput {
                                source: if n % 3 == 0 {
                                    "shop".into()
                                } else {
                                    "pos-ZH01".into()
                                },
                                external_id: format!("roll-{n}"),
                                store_code: Some(if n % 3 == 0 { "WEB" } else { "ZH01" }.into()),
                                channel: if n % 3 == 0 { "online" } else { "store" }.into(),
                                occurred_at: Utc
                                    .from_utc_datetime(&date.and_hms_opt(10, 0, 0).unwrap())
                                    .to_rfc3339(),
                                currency: "CHF".into(),
                                card_number: None,
                                customer_number: Some(numbers[n % numbers.len()].clone()),
                                lines: vec![LineInput {
                                    sku: format!("SKU-{n}"),
                                    category: "Papier".into(),
                                    quantity: 1,
                                    amount: 1_000 + n as i64,
                                }],
                            }
                        })
                        .collect();
                    for r in app.book_receipts(&till, batch).await.unwrap() {
                        assert_eq!(r.unwrap().status, 201);
                    }
                }
            })
        };
        let rolling = {
            let app = app.clone();
            tokio::spawn(async move {
                for k in 0..12 {
                    assert!(app.roll_figures(days[k % 2]).await.unwrap());
                }
            })
        };
        booking.await.unwrap();
        rolling.await.unwrap();
        rolling_figures_agree(&app, db).await;
    }
}

/// Previews in parts read while receipts are booked: each part sees the figures at some moment,
/// so a segment that only grows (customers who bought at all) never counts down from one preview
/// to the next, never counts a customer twice, and ends at the exact number.
#[tokio::test]
async fn previews_in_parts_while_receipts_arrive_never_count_down() {
    for (store, _dir) in testing::all().await {
        let db = store.backend().name();
        let app = App::new(store);
        let people = people_without_receipts(&app, 60).await;
        let till = till();
        let numbers: Vec<String> = people.iter().map(|p| p.number.clone()).collect();
        let bought = json!({"purchases": {"metric": "receipts", "op": "gte", "value": 1}});
        let booking = {
            let app = app.clone();
            let numbers = numbers.clone();
            tokio::spawn(async move {
                for n in 0..90usize {
                    let date = as_of() - Duration::days(1 + (n as i64 * 7) % 300);
                    // Every customer once in the first 60 receipts, in a scattered order.
                    let number = &numbers[(n * 7) % numbers.len()];
                    let receipt = papier_sale(&format!("parts-{n}"), number, date);
                    for r in app.book_receipts(&till, vec![receipt]).await.unwrap() {
                        assert_eq!(r.unwrap().status, 201);
                    }
                }
            })
        };
        let mut last = 0;
        let mut previews = 0;
        while !booking.is_finished() {
            let (count, page) = preview_in_parts(&app, &bought, 100).await;
            assert!(count >= last, "{db}: {count} after {last}");
            assert_eq!(
                page.len() as i64,
                count,
                "{db}: the page holds every member"
            );
            let unique: BTreeSet<&String> = page.iter().collect();
            assert_eq!(unique.len(), page.len(), "{db}: a member came twice");
            last = count;
            previews += 1;
        }
        booking.await.unwrap();
        let (count, _) = split_preview(&app, &bought, 100).await;
        assert_eq!(count, numbers.len() as i64, "{db}");
        assert!(count >= last);
        assert!(previews > 1, "{db}: the previews overlapped the booking");
    }
}

/// Every figure row's copies of the customer's fields equal the customer's own (ADR 14).
async fn field_copies_agree(app: &App, ctx: &str) {
    let sql = "SELECT s.customer_id FROM customer_stats s JOIN customers c ON c.id = s.customer_id \
               WHERE s.kind IS DISTINCT FROM c.kind OR s.salutation IS DISTINCT FROM c.salutation \
               OR s.gender IS DISTINCT FROM c.gender OR s.language IS DISTINCT FROM c.language \
               OR s.preferred_channel IS DISTINCT FROM c.preferred_channel \
               OR s.birth_date IS DISTINCT FROM c.birth_date";
    let mut conn = app.store.acquire().await.unwrap();
    let differ: Vec<(i64,)> = match conn.db() {
        kundo_store::Db::Sqlite(c) => sqlx::query_as(sql).fetch_all(&mut *c).await.unwrap(),
        kundo_store::Db::Postgres(c) => sqlx::query_as(sql).fetch_all(&mut *c).await.unwrap(),
    };
    assert!(differ.is_empty(), "{ctx}: copies differ for {differ:?}");
}

fn staff() -> Actor {
    Actor {
        name: "user:service1".into(),
        scopes: vec!["customers:read".into(), "customers:write".into()],
        csrf_token: None,
    }
}

async fn set_fields(app: &App, number: &str, fields: Value) {
    let patch = fields.as_object().unwrap().clone();
    app.update_customer(&staff(), number, &patch, None)
        .await
        .unwrap();
}

async fn book_one(app: &App, number: &str, n: usize) {
    let receipt = papier_sale(&format!("fields-{n}"), number, as_of() - Duration::days(3));
    for r in app.book_receipts(&till(), vec![receipt]).await.unwrap() {
        assert_eq!(r.unwrap().status, 201);
    }
}

/// A segment of buyers that tests a field reads the field's copy on the figure row; the copy
/// follows the customer through a first sale, changes, a field cleared, and a merge that takes
/// the duplicate's sales and the survivor's fields.
#[tokio::test]
async fn field_copies_on_the_figures_follow_the_customer() {
    for (store, _dir) in testing::all().await {
        let db = store.backend().name();
        let app = App::new(store);
        let people = people_without_receipts(&app, 4).await;
        let n: Vec<&str> = people.iter().map(|p| p.number.as_str()).collect();
        let women_who_bought = json!({"and": [
            {"purchases": {"metric": "receipts", "op": "gte", "value": 1}},
            {"field": "gender", "op": "eq", "value": "female"},
            {"not": {"field": "birth_date", "op": "lt", "value": "1950-01-01"}}
        ]});
        let members = |expected: Vec<&str>| {
            let mut expected: Vec<String> = expected.into_iter().map(String::from).collect();
            expected.sort();
            expected
        };
        let current = || async {
            let (count, mut page) = split_preview(&app, &women_who_bought, 10).await;
            assert_eq!(count, page.len() as i64);
            page.sort();
            page
        };

        for (number, gender) in n.iter().zip(["female", "male", "female", "male"]) {
            set_fields(
                &app,
                number,
                json!({"gender": gender, "birth_date": "1980-05-01"}),
            )
            .await;
        }
        // The first sale creates the figure row with the fields as they are.
        book_one(&app, n[0], 0).await;
        book_one(&app, n[1], 1).await;
        book_one(&app, n[2], 2).await;
        field_copies_agree(&app, db).await;
        assert_eq!(current().await, members(vec![n[0], n[2]]), "{db}");

        // Changes after the first sale reach the copies, and so the segment.
        set_fields(&app, n[1], json!({"gender": "female"})).await;
        set_fields(&app, n[0], json!({"birth_date": "1940-05-01"})).await;
        field_copies_agree(&app, db).await;
        assert_eq!(current().await, members(vec![n[1], n[2]]), "{db}");
        set_fields(&app, n[1], json!({"gender": null})).await;
        field_copies_agree(&app, db).await;
        assert_eq!(current().await, members(vec![n[2]]), "{db}");

        // The survivor had no sale: its figure row is born in the merge, with its own gender.
        app.merge_customers(&staff(), n[3], n[2], &Default::default())
            .await
            .unwrap();
        field_copies_agree(&app, db).await;
        assert_eq!(current().await, Vec::<String>::new(), "{db}");
        set_fields(&app, n[3], json!({"gender": "female"})).await;
        assert_eq!(current().await, members(vec![n[3]]), "{db}");
        field_copies_agree(&app, db).await;
    }
}

/// "Bought Papier in 2025" reads the category totals (migration 12): their first, last and all
/// months follow sales that arrive out of order, in a month already counted, and merges into a
/// survivor with and without sales of the category; a customer whose sales lie on both sides
/// of the year without one in it is no member.
#[tokio::test]
async fn category_months_follow_sales_and_merges() {
    for (store, _dir) in testing::all().await {
        let db = store.backend().name();
        let app = App::new(store);
        let people = people_without_receipts(&app, 4).await;
        let n: Vec<&str> = people.iter().map(|p| p.number.as_str()).collect();
        let in_2025 = json!({"and": [
            {"bought": {"category": "Papier", "window": {"from": "2025-01-01", "to": "2025-12-31"}}},
            {"bought": {"category": "Papier", "window": {"last_months": 2}, "negate": true}}
        ]});
        let members = || async {
            let (count, mut page) = split_preview(&app, &in_2025, 10).await;
            assert_eq!(count, page.len() as i64);
            page.sort();
            page
        };
        let sorted = |v: Vec<&str>| {
            let mut v: Vec<String> = v.into_iter().map(String::from).collect();
            v.sort();
            v
        };
        let mut k = 0;
        let mut sell = |number: &str, d: NaiveDate| {
            k += 1;
            papier_sale(&format!("months-{k}"), number, d)
        };
        let (a, b, c, d) = (n[0], n[1], n[2], n[3]);
        // a: later sale first, then one before the year; b: inside the year; d: after it only.
        let batch = vec![
            sell(a, date(2026, 2, 10)),
            sell(a, date(2024, 12, 5)),
            sell(b, date(2025, 6, 1)),
            sell(b, date(2025, 6, 20)),
            sell(d, date(2026, 3, 3)),
        ];
        for r in app.book_receipts(&till(), batch).await.unwrap() {
            assert_eq!(r.unwrap().status, 201);
        }
        category_totals_agree(&app, db).await;
        assert_eq!(members().await, sorted(vec![b]), "{db}");

        // b's sales move to a, whose months now include June 2025.
        app.merge_customers(&staff(), a, b, &Default::default())
            .await
            .unwrap();
        category_totals_agree(&app, db).await;
        assert_eq!(members().await, sorted(vec![a]), "{db}");

        // c had no Papier: its totals row is born in the merge with d's months (none in 2025).
        app.merge_customers(&staff(), c, d, &Default::default())
            .await
            .unwrap();
        category_totals_agree(&app, db).await;
        assert_eq!(members().await, sorted(vec![a]), "{db}");
        // A sale of last month excludes a; one in 2025 makes c a member.
        let late = vec![
            sell(a, as_of() - Duration::days(20)),
            sell(c, date(2025, 11, 30)),
        ];
        for r in app.book_receipts(&till(), late).await.unwrap() {
            assert_eq!(r.unwrap().status, 201);
        }
        category_totals_agree(&app, db).await;
        assert_eq!(members().await, sorted(vec![c]), "{db}");
    }
}

/// A sale of Papier for CHF 20 at `store`'s till.
fn sale_at(store: &str, external_id: &str, customer_number: &str, d: NaiveDate) -> ReceiptInput {
    ReceiptInput {
        source: format!("pos-{store}"),
        store_code: Some(store.into()),
        ..papier_sale(external_id, customer_number, d)
    }
}

#[tokio::test]
async fn shops_at_a_store_follows_sales_and_merges() {
    for (store, _dir) in testing::all().await {
        let db = store.backend().name();
        let app = App::new(store);
        let people = people_without_receipts(&app, 4).await;
        let n: Vec<&str> = people.iter().map(|p| p.number.as_str()).collect();
        let (a, b, c, d) = (n[0], n[1], n[2], n[3]);
        let members = |definition: Value| {
            let app = &app;
            async move {
                let (count, page) = split_preview(app, &definition, 10).await;
                assert_eq!(count, page.len() as i64);
                page.into_iter().collect::<BTreeSet<String>>()
            }
        };
        let set = |v: &[&str]| {
            v.iter()
                .map(|s| s.to_string())
                .collect::<BTreeSet<String>>()
        };
        let at_be = || json!({"purchases": {"metric": "receipts", "store": "BE01", "op": "gte", "value": 1}});
        let never_be = || json!({"purchases": {"metric": "receipts", "store": "BE01", "op": "eq", "value": 0}});
        let twice_be = || json!({"purchases": {"metric": "receipts", "store": "BE01", "op": "gte", "value": 2}});
        let mut k = 0;
        let mut sell = |store: &str, number: &str| {
            k += 1;
            sale_at(store, &format!("stores-{k}"), number, date(2026, 3, 1))
        };
        // a: ZH01; b: BE01; c: nothing; d: ZH01 and BE01 (BE01 twice in one batch).
        let batch = vec![
            sell("ZH01", a),
            sell("BE01", b),
            sell("BE01", d),
            sell("ZH01", d),
            sell("BE01", d),
        ];
        for r in app.book_receipts(&till(), batch).await.unwrap() {
            assert_eq!(r.unwrap().status, 201);
        }
        store_sets_agree(&app, db).await;
        assert_eq!(members(at_be()).await, set(&[b, d]), "{db}");
        // c has no figure row at all and is a member.
        assert_eq!(members(never_be()).await, set(&[a, c]), "{db}");
        assert_eq!(members(twice_be()).await, set(&[d]), "{db}");

        // b's BE01 sale moves to a, who already has a store of their own.
        app.merge_customers(&staff(), a, b, &Default::default())
            .await
            .unwrap();
        store_sets_agree(&app, db).await;
        assert_eq!(members(at_be()).await, set(&[a, d]), "{db}");
        assert_eq!(members(never_be()).await, set(&[c]), "{db}");

        // c's figure row is born in the merge with d's stores.
        app.merge_customers(&staff(), c, d, &Default::default())
            .await
            .unwrap();
        store_sets_agree(&app, db).await;
        assert_eq!(members(at_be()).await, set(&[a, c]), "{db}");
        assert_eq!(members(never_be()).await, set(&[]), "{db}");
        assert_eq!(members(twice_be()).await, set(&[c]), "{db}");

        // Another BE01 sale of a's, in a later batch: the store is there already.
        for r in app
            .book_receipts(&till(), vec![sell("BE01", a)])
            .await
            .unwrap()
        {
            assert_eq!(r.unwrap().status, 201);
        }
        store_sets_agree(&app, db).await;
        assert_eq!(members(twice_be()).await, set(&[a, c]), "{db}");
    }
}
