//! Data quality on both backends: the duplicate check at creation and import, the scan and its
//! review queue, merges (also with receipts arriving concurrently), postal returns.

use chrono::{Duration, Utc};
use kundo_app::customers::{Created, DuplicateCheck};
use kundo_app::receipts::{LineInput, ReceiptInput};
use kundo_app::vouchers::VoucherTemplate;
use kundo_app::{Actor, App, AppError};
use kundo_core::customer::CustomerInput;
use kundo_store::customers::LookupKey;
use kundo_store::loyalty::StoreRow;
use kundo_store::testing;
use serde_json::{Value, json};

fn clerk() -> Actor {
    Actor {
        name: "user:service1".into(),
        scopes: vec!["customers:read".into(), "customers:write".into()],
        csrf_token: None,
    }
}

async fn setup() -> Vec<(App, Option<testing::TempDir>, &'static str)> {
    let mut out = Vec::new();
    for (store, dir) in testing::all().await {
        let db = store.backend().name();
        let app = App::new(store);
        let zh = StoreRow {
            code: "ZH01".into(),
            name: "Filiale Zürich".into(),
            channel: "store".into(),
            street: None,
            postcode: None,
            city: None,
            country: Some("CH".into()),
        };
        app.upsert_stores(&Actor::cli(), vec![zh]).await.unwrap();
        out.push((app, dir, db));
    }
    out
}

fn anna() -> Value {
    json!({"kind": "person", "salutation": "Frau", "first_name": "Anna", "last_name": "Müller",
        "birth_date": "1980-02-29", "email": "anna.mueller@example.ch",
        "phones": [{"kind": "mobile", "number": "079 123 45 67"}],
        "addresses": [{"street": "Bahnhofstrasse", "house_number": "12a", "postcode": "8001", "city": "Zürich", "country": "CH"}],
        "card_numbers": ["2900123456785"],
        "consents": [{"channel": "letter", "status": "granted", "source": "pos"}]})
}

/// The same person as a clerk typed her in again: other spelling, no card, another email.
fn anna_again() -> Value {
    json!({"kind": "person", "first_name": "Anna", "last_name": "Mueller", "birth_date": "1980-02-29",
        "email": "anna.m@example.com",
        "addresses": [{"street": "Bahnhofstr.", "house_number": "12 A", "postcode": "8001", "city": "Zürich", "country": "CH"}],
        "card_numbers": ["2900123456792"],
        "consents": [{"channel": "email", "status": "granted", "source": "webshop-doi"}]})
}

async fn create(app: &App, v: Value, check: DuplicateCheck) -> Result<String, AppError> {
    let input: CustomerInput = serde_json::from_value(v).expect("input shape");
    match app.create_customer(&clerk(), input, None, check).await? {
        Created::New(view) => Ok(view.customer_number),
        Created::Replayed { .. } => panic!("no idempotency key was given"),
    }
}

fn receipt(id: &str, card: &str, amount: i64) -> ReceiptInput {
    ReceiptInput {
        source: "pos-zh01".into(),
        external_id: id.into(),
        store_code: Some("ZH01".into()),
        channel: "store".into(),
        occurred_at: (Utc::now() - Duration::days(2)).to_rfc3339(),
        currency: "CHF".into(),
        card_number: Some(card.into()),
        customer_number: None,
        lines: vec![LineInput {
            sku: "4001234".into(),
            category: "Papier".into(),
            quantity: 1,
            amount,
        }],
    }
}

/// Titles of the open duplicate-review tasks of the service team.
async fn duplicate_review_tasks(app: &App) -> Vec<String> {
    let filter = kundo_store::tasks::TaskFilter {
        team: Some("service".into()),
        kind: Some("duplicate_review".into()),
        status: Some("open".into()),
        limit: 50,
        ..Default::default()
    };
    let page = app.list_tasks(filter, None).await.unwrap();
    page.items.into_iter().map(|t| t.title).collect()
}

#[tokio::test]
async fn a_likely_duplicate_is_refused_with_reasons_unless_forced() {
    for (app, _d, db) in setup().await {
        let first = create(&app, anna(), DuplicateCheck::Refuse).await.unwrap();
        match create(&app, anna_again(), DuplicateCheck::Refuse).await {
            Err(AppError::Duplicates(found)) => {
                assert_eq!(found.len(), 1, "{db}: {found:?}");
                assert_eq!(found[0].customer_number, first, "{db}");
                assert!(
                    found[0].score >= kundo_core::dedup::DEFAULT_THRESHOLD,
                    "{db}"
                );
                let reasons = found[0].reasons.join("; ");
                assert!(reasons.contains("same birth date"), "{db}: {reasons}");
                // Müller = Mueller, Bahnhofstrasse 12a = Bahnhofstr. 12 A.
                assert!(reasons.contains("same surname"), "{db}: {reasons}");
                assert!(
                    reasons.contains("same street and house number"),
                    "{db}: {reasons}"
                );
            }
            other => panic!("{db}: expected duplicates, got {other:?}"),
        }
        // A different person at another address is not held up.
        let mut other = anna_again();
        other["first_name"] = json!("Beat");
        other["card_numbers"] = json!([]);
        other["birth_date"] = json!("1975-07-01");
        other["addresses"][0]["street"] = json!("Seestrasse");
        other["addresses"][0]["postcode"] = json!("3600");
        other["addresses"][0]["city"] = json!("Thun");
        create(&app, other, DuplicateCheck::Refuse).await.unwrap();
        // The clerk decides it is someone else after all: created anyway.
        let second = create(&app, anna_again(), DuplicateCheck::CreateAnyway)
            .await
            .unwrap();
        assert_ne!(first, second, "{db}");
        // Created anyway: the pair waits in the review queue, with a task for the service team.
        let queue = app.duplicate_pairs("open", None, 10).await.unwrap();
        assert_eq!(queue.items.len(), 1, "{db}");
        assert_eq!(
            (
                queue.items[0].customer_a.as_str(),
                queue.items[0].customer_b.as_str()
            ),
            (first.as_str(), second.as_str()),
            "{db}"
        );
        let review = duplicate_review_tasks(&app).await;
        assert_eq!(review.len(), 1, "{db}");
        assert!(review[0].contains(&first), "{db}: {review:?}");
        // The check alone (the UI's warning before saving) finds both now.
        let input: CustomerInput = serde_json::from_value(anna()).unwrap();
        let found = app.duplicate_candidates(input).await.unwrap();
        let numbers: Vec<&str> = found.iter().map(|c| c.customer_number.as_str()).collect();
        assert!(
            numbers.contains(&first.as_str()) && numbers.contains(&second.as_str()),
            "{db}: {numbers:?}"
        );
    }
}

#[tokio::test]
async fn a_merge_moves_everything_and_old_numbers_and_cards_resolve_to_the_survivor() {
    for (app, _d, db) in setup().await {
        let survivor = create(&app, anna(), DuplicateCheck::Refuse).await.unwrap();
        let duplicate = create(&app, anna_again(), DuplicateCheck::CreateAnyway)
            .await
            .unwrap();
        let pos = Actor::cli();
        app.roll_figures(Utc::now().date_naive()).await.unwrap();
        app.book_receipt(&pos, receipt("r-1", "2900123456785", 12_000))
            .await
            .unwrap();
        app.book_receipt(&pos, receipt("r-2", "2900123456792", 30_050))
            .await
            .unwrap();
        app.book_receipt(&pos, receipt("r-3", "2900123456792", 4_000))
            .await
            .unwrap();
        let now = Utc::now();
        let goodwill = VoucherTemplate {
            kind: "goodwill".into(),
            value_type: "amount".into(),
            value: 1000,
            currency: "CHF".into(),
            min_order: 0,
            channels: "both".into(),
            valid_from: now - Duration::days(1),
            valid_until: now + Duration::days(30),
        };
        app.issue_voucher(&Actor::cli(), goodwill, Some(&duplicate))
            .await
            .unwrap();

        // A static list holding both records.
        let list = app
            .create_segment(
                &Actor::cli(),
                kundo_app::segments::SegmentInput {
                    name: "Zürich 8001".into(),
                    definition: json!({"field": "postcode", "op": "eq", "value": "8001"}),
                    kind: Some("static".into()),
                },
                Utc::now().date_naive(),
            )
            .await
            .unwrap();
        assert_eq!(
            list.snapshot.as_ref().map(|s| s.member_count),
            Some(2),
            "{db}"
        );
        let fields = [("email".to_string(), "duplicate".to_string())]
            .into_iter()
            .collect();
        let preview = app
            .merge_preview(&survivor, &duplicate, &fields)
            .await
            .unwrap();
        assert_eq!(preview.email.as_deref(), Some("anna.m@example.com"), "{db}");
        let out = app
            .merge_customers(&clerk(), &survivor, &duplicate, &fields)
            .await
            .unwrap();
        assert_eq!(
            out.moved.points, 340,
            "{db}: 300 + 40 points of the duplicate"
        );
        assert_eq!(out.moved.receipts, 2, "{db}");
        assert_eq!(out.moved.cards, 1, "{db}");
        assert_eq!(out.moved.vouchers, 1, "{db}");
        assert_eq!(
            out.survivor.email.as_deref(),
            Some("anna.m@example.com"),
            "{db}"
        );
        assert_eq!(out.survivor.balance, 460, "{db}: 120 + 340");

        // The old number and the old card answer with the survivor.
        let by_old_number = app.customer(&duplicate).await.unwrap();
        assert_eq!(by_old_number.customer_number, survivor, "{db}");
        let till = app.lookup(LookupKey::Card("2900123456792")).await.unwrap();
        assert_eq!(till.customer_number, survivor, "{db}");
        assert_eq!(till.balance, 460, "{db}");
        assert_eq!(till.vouchers.len(), 1, "{db}");
        // Both cards, both consent statements, and the duplicate's address as history.
        assert_eq!(by_old_number.card_numbers.len(), 2, "{db}");
        let channels: Vec<&str> = by_old_number
            .consents
            .iter()
            .map(|c| c.channel.as_str())
            .collect();
        assert!(
            channels.contains(&"email") && channels.contains(&"letter"),
            "{db}: {channels:?}"
        );
        assert!(
            by_old_number
                .address_history
                .iter()
                .any(|a| a.street == "Bahnhofstr."),
            "{db}: {:?}",
            by_old_number.address_history
        );
        // Purchases add up; ledger and balances agree; the tombstone holds nothing.
        let f = app.purchase_figures(&survivor).await.unwrap();
        assert_eq!((f.receipts_total, f.revenue_total), (3, 46_050), "{db}");
        // The segment figures moved too: rolling twelve months and categories bought.
        let buyer = json!({"and": [
            {"bought": {"category": "Papier", "min_times": 3}},
            {"last_purchase": {"op": "within", "days": 30}},
            {"purchases": {"metric": "revenue", "window": {"last_months": 12}, "op": "gte", "value": 46_050}}
        ]});
        let found = app
            .preview_segment(&buyer, Utc::now().date_naive(), 10)
            .await
            .unwrap();
        assert_eq!(found.count, 1, "{db}");
        assert_eq!(found.sample[0].customer_number, survivor, "{db}");
        let points = app.points(&survivor, None, 50).await.unwrap();
        assert_eq!(points.balance, 460, "{db}");
        assert!(
            points
                .entries
                .iter()
                .any(|e| e.kind == "merge" && e.points == 340),
            "{db}"
        );
        let mut conn = app.store.acquire().await.unwrap();
        assert!(
            kundo_store::loyalty::unbalanced_accounts(&mut conn.db())
                .await
                .unwrap()
                .is_empty(),
            "{db}"
        );
        drop(conn);
        // The static list now holds the survivor once.
        let members = app
            .segment_members(list.id, Utc::now().date_naive(), None, 50)
            .await
            .unwrap();
        let numbers: Vec<&str> = members
            .items
            .iter()
            .map(|m| m.customer_number.as_str())
            .collect();
        assert_eq!(numbers, [survivor.as_str()], "{db}");
        let list = app.segment(list.id).await.unwrap();
        assert_eq!(list.snapshot.map(|s| s.member_count), Some(1), "{db}");
        // A merged record cannot be merged again, and the merge is audited and announced.
        assert!(
            app.merge_customers(&clerk(), &survivor, &duplicate, &Default::default())
                .await
                .is_err(),
            "{db}"
        );
        let audit = app.customer_audit(&survivor, None, 20).await.unwrap();
        assert!(
            audit.items.iter().any(|a| a.action == "customer.merged"),
            "{db}"
        );
        let events = app.events(0, 500).await.unwrap();
        assert!(
            events
                .items
                .iter()
                .any(|e| e.event_type == "customer.merged"
                    && e.data["merged_customer_number"] == json!(duplicate)),
            "{db}"
        );
        // A later return of a moved receipt reverses on the survivor.
        let ret = kundo_app::receipts::ReturnInput {
            external_id: "r-2-ret".into(),
            occurred_at: None,
            lines: vec![kundo_app::receipts::ReturnLineInput {
                sku: Some("4001234".into()),
                line_no: None,
                quantity: 1,
                amount: Some(30_050),
            }],
        };
        app.book_return(&pos, "pos-zh01", "r-2", ret).await.unwrap();
        assert_eq!(
            app.points(&survivor, None, 1).await.unwrap().balance,
            160,
            "{db}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn receipts_arriving_during_a_merge_are_booked_on_the_survivor() {
    for (app, _d, db) in setup().await {
        let survivor = create(&app, anna(), DuplicateCheck::Refuse).await.unwrap();
        let duplicate = create(&app, anna_again(), DuplicateCheck::CreateAnyway)
            .await
            .unwrap();
        let mut tills = Vec::new();
        for i in 0..40 {
            let till = app.clone();
            tills.push(tokio::spawn(async move {
                let app = till;
                // CHF 10.00 each, to the duplicate's card: 10 points each.
                app.book_receipt(
                    &Actor::cli(),
                    receipt(&format!("c-{i}"), "2900123456792", 1_000),
                )
                .await
            }));
            if i == 20 {
                let app = app.clone();
                let (s, d) = (survivor.clone(), duplicate.clone());
                tills.push(tokio::spawn(async move {
                    app.merge_customers(&clerk(), &s, &d, &Default::default())
                        .await
                        .map(|_| kundo_app::receipts::Booked {
                            status: 0,
                            body: String::new(),
                        })
                }));
            }
        }
        for t in tills {
            t.await.unwrap().unwrap_or_else(|e| panic!("{db}: {e:?}"));
        }
        // Every receipt is booked once, and all points are on the survivor.
        let f = app.purchase_figures(&survivor).await.unwrap();
        assert_eq!(f.receipts_total, 40, "{db}");
        assert_eq!(
            app.points(&survivor, None, 1).await.unwrap().balance,
            400,
            "{db}"
        );
        let mut conn = app.store.acquire().await.unwrap();
        assert!(
            kundo_store::loyalty::unbalanced_accounts(&mut conn.db())
                .await
                .unwrap()
                .is_empty(),
            "{db}"
        );
    }
}

#[tokio::test]
async fn postal_returns_apply_every_reason_and_report_what_matches_nobody() {
    for (app, _d, db) in setup().await {
        let mut numbers = Vec::new();
        for (i, name) in ["Aebi", "Brunner", "Caflisch", "Dubach", "Egli", "Frei"]
            .iter()
            .enumerate()
        {
            let card = format!("29001234{:05}", 10 + i);
            let v = json!({"first_name": "Kim", "last_name": name, "birth_date": format!("{}-01-01", 1950 + 5 * i),
                "addresses": [{"street": format!("{name}weg"), "house_number": "1", "postcode": format!("{}000", 3 + i), "city": "Bern", "country": "CH"}],
                "card_numbers": [card],
                "consents": [{"channel": "letter", "status": "granted", "source": "pos"}]});
            numbers.push(create(&app, v, DuplicateCheck::Refuse).await.unwrap());
        }
        let n = |i: usize| numbers[i].clone();
        // A bad row (unknown reason) stops the whole file.
        let bad = format!(
            "customer_number,reason\n{},20\n{},Regenwetter\n",
            n(0),
            n(1)
        );
        let report = app
            .import_postal_returns(&clerk(), bad.as_bytes(), false)
            .await
            .unwrap();
        assert!(report.aborted, "{db}");
        assert_eq!(
            (report.errors[0].line, report.errors[0].column.as_str()),
            (3, "reason"),
            "{db}"
        );
        assert_eq!(
            app.customer(&n(0)).await.unwrap().addresses[0].postal_status,
            "ok",
            "{db}"
        );

        let csv = format!(
            "customer_number,reference,reason,new_street,new_house_number,new_postcode,new_city,new_country\n\
             {},,20,Neugasse,5,8004,Zürich,CH\n\
             ,{}/bonus-2026-11,unbekannt verzogen,,,,,\n\
             {},,12,,,,,\n\
             {},,Annahme verweigert,,,,,\n\
             {},,nicht abgeholt,,,,,\n\
             {},,DP 21,,,,,\n\
             99999999,,20,,,,,\n",
            n(0),
            n(1),
            n(2),
            n(3),
            n(4),
            n(5)
        );
        let report = app
            .import_postal_returns(&clerk(), csv.as_bytes(), false)
            .await
            .unwrap();
        assert!(!report.aborted, "{db}: {:?}", report.errors);
        assert_eq!(report.applied, 6, "{db}");
        assert_eq!(report.tasks_created, 2, "{db}");
        assert_eq!(report.unmatched.len(), 1, "{db}");
        assert_eq!(
            (
                report.unmatched[0].line,
                report.unmatched[0].reference.as_str()
            ),
            (8, "99999999"),
            "{db}"
        );
        assert_eq!(
            report.outcomes.get("research"),
            Some(&2),
            "{db}: unbekannt verzogen and DP 21"
        );

        let moved = app.customer(&n(0)).await.unwrap();
        assert_eq!(moved.addresses[0].street, "Neugasse", "{db}");
        assert_eq!(moved.addresses[0].postal_status, "ok", "{db}");
        assert_eq!(moved.address_history[0].street, "Aebiweg", "{db}");
        for i in [1, 5] {
            assert_eq!(
                app.customer(&n(i)).await.unwrap().addresses[0].postal_status,
                "research",
                "{db}"
            );
        }
        // The letters of a bonus run leave out the research, deceased and refused customers.
        for i in 0..6 {
            let card = format!("29001234{:05}", 10 + i);
            app.book_receipt(&Actor::cli(), receipt(&format!("big-{i}"), &card, 60_000))
                .await
                .unwrap();
        }
        let run = app
            .bonus_run(
                &Actor::cli(),
                &Utc::now().format("%Y-%m").to_string(),
                &Default::default(),
                Default::default(),
            )
            .await
            .unwrap();
        assert_eq!(run.vouchers_issued, 6, "{db}");
        let letters = app.lettershop_batch(run.id).await.unwrap();
        let has = |i: usize| {
            letters
                .lines()
                .any(|l| l.starts_with(&format!("{},", n(i))))
        };
        assert!(
            has(0) && has(4),
            "{db}: moved and not-collected still get mail\n{letters}"
        );
        assert!(!has(1) && !has(2) && !has(3) && !has(5), "{db}\n{letters}");
        assert!(
            letters.contains(&format!("{}/bonus-2026-12", n(0))),
            "{db}: the reference for returns"
        );
    }
}

#[tokio::test]
async fn a_scan_compares_only_blocked_pairs_and_dismissed_pairs_stay_dismissed() {
    for (app, _d, db) in setup().await {
        let a = create(&app, anna(), DuplicateCheck::Refuse).await.unwrap();
        let b = create(&app, anna_again(), DuplicateCheck::CreateAnyway)
            .await
            .unwrap();
        for (i, name) in ["Keller", "Weber", "Huber", "Schmid"].iter().enumerate() {
            let v = json!({"first_name": "Luca", "last_name": name, "birth_date": format!("199{i}-03-03"),
                "addresses": [{"street": "Dorfstrasse", "house_number": format!("{}", i + 1), "postcode": "6000", "city": "Luzern", "country": "CH"}]});
            create(&app, v, DuplicateCheck::Refuse).await.unwrap();
        }
        // Pages of 3 keys cut through blocks: the same comparisons and pairs as one page.
        let small = app
            .scan_duplicates_paged(&clerk(), 3, &|_| {})
            .await
            .unwrap();
        let report = app.scan_duplicates(&clerk(), &|_| {}).await.unwrap();
        assert_eq!(
            (small.keys_read, small.comparisons, small.pairs_found),
            (report.keys_read, report.comparisons, report.pairs_found),
            "{db}"
        );
        assert_eq!(report.pairs_found, 1, "{db}: {report:?}");
        assert_eq!(
            report.pairs_added, 0,
            "{db}: queued already when created anyway"
        );
        assert!(
            report.comparisons < 15,
            "{db}: {report:?} (all pairs would be 15)"
        );
        let page = app.duplicate_pairs("open", None, 10).await.unwrap();
        assert_eq!(page.items.len(), 1, "{db}");
        let pair = &page.items[0];
        assert_eq!(
            (pair.customer_a.as_str(), pair.customer_b.as_str()),
            (a.as_str(), b.as_str()),
            "{db}"
        );
        assert_eq!(duplicate_review_tasks(&app).await.len(), 1, "{db}");
        app.dismiss_duplicate_pair(&clerk(), pair.id).await.unwrap();
        let again = app.scan_duplicates(&clerk(), &|_| {}).await.unwrap();
        assert_eq!((again.pairs_found, again.pairs_added), (1, 0), "{db}");
        assert!(
            app.duplicate_pairs("open", None, 10)
                .await
                .unwrap()
                .items
                .is_empty(),
            "{db}"
        );
        // A lookalike that came in by an import allowed to bring duplicates: only the scan
        // finds it, and its new pairs get a review task.
        let csv = "first_name,last_name,birth_date,street,house_number,postcode,city,country\n\
                   Luca,Weber,1991-03-03,Dorfstr.,2,6000,Luzern,CH\n";
        let opts = kundo_app::csv_io::ImportOptions {
            allow_duplicates: true,
            ..Default::default()
        };
        let imported = app
            .import_customers(&Actor::cli(), csv.as_bytes(), opts, &|_, _| {})
            .await
            .unwrap();
        assert_eq!(imported.imported, 1, "{db}: {:?}", imported.errors);
        let third = app.scan_duplicates(&clerk(), &|_| {}).await.unwrap();
        assert_eq!(
            (third.pairs_found, third.pairs_added),
            (2, 1),
            "{db}: {third:?}"
        );
        let tasks = duplicate_review_tasks(&app).await;
        assert_eq!(tasks.len(), 2, "{db}");
        assert!(
            tasks.iter().any(|t| t.starts_with("Review 1 new")),
            "{db}: {tasks:?}"
        );
        assert!(
            matches!(
                app.dismiss_duplicate_pair(&clerk(), pair.id).await,
                Err(AppError::NotFound(_))
            ),
            "{db}"
        );
    }
}

#[tokio::test]
async fn an_import_reports_rows_that_repeat_an_earlier_row() {
    for (app, _d, db) in setup().await {
        let csv = "first_name,last_name,birth_date,street,house_number,postcode,city,country,email\n\
                   Jörg,Schäfer,1970-04-04,Hauptstraße,7,01067,Dresden,DE,js@example.de\n\
                   Joerg,Schaefer,1970-04-04,Hauptstr.,7,01067,Dresden,DE,\n";
        let report = app
            .import_customers(
                &Actor::cli(),
                csv.as_bytes(),
                Default::default(),
                &|_, _| {},
            )
            .await
            .unwrap();
        assert!(report.aborted, "{db}");
        assert_eq!(report.errors.len(), 1, "{db}: {:?}", report.errors);
        assert_eq!(report.errors[0].line, 3, "{db}");
        assert!(
            report.errors[0].message.contains("same person as line 2"),
            "{db}: {:?}",
            report.errors
        );
    }
}
