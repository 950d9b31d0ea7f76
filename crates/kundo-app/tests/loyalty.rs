//! The loyalty core on both backends: exact points and balances, idempotent receipts, returns,
//! vouchers, and the automatic runs.

use chrono::{Duration, Utc};
use kundo_app::customers::Created;
use kundo_app::receipts::{LineInput, ReceiptInput, ReturnInput, ReturnLineInput};
use kundo_app::runs::RunLimit;
use kundo_app::vouchers::{UseRequest, VoucherTemplate};
use kundo_app::{Actor, App, AppError};
use kundo_core::customer::CustomerInput;
use kundo_core::loyalty_runs::{BirthdayConfig, BonusConfig};
use kundo_store::loyalty::StoreRow;
use kundo_store::testing;
use serde_json::{Value, json};

fn till() -> Actor {
    Actor {
        name: "apikey:pos".into(),
        scopes: vec!["receipts:write".into(), "vouchers:redeem".into()],
        csrf_token: None,
    }
}

async fn setup() -> Vec<(App, Option<testing::TempDir>, &'static str)> {
    let mut out = Vec::new();
    for (store, dir) in testing::all().await {
        let db = store.backend().name();
        let app = App::new(store);
        let stores = ["ZH01", "BE01"]
            .iter()
            .map(|c| StoreRow {
                code: c.to_string(),
                name: format!("Filiale {c}"),
                channel: "store".into(),
                street: None,
                postcode: None,
                city: None,
                country: Some("CH".into()),
            })
            .chain(std::iter::once(StoreRow {
                code: "WEB".into(),
                name: "Onlineshop".into(),
                channel: "online".into(),
                street: None,
                postcode: None,
                city: None,
                country: None,
            }))
            .collect();
        app.upsert_stores(&Actor::cli(), stores).await.unwrap();
        out.push((app, dir, db));
    }
    out
}

async fn customer(app: &App, card: &str, birth: &str) -> String {
    let input: CustomerInput = serde_json::from_value(json!({
        "first_name": "Anna", "last_name": format!("Kundin {card}"), "birth_date": birth,
        "addresses": [{"street": "Bahnhofstrasse", "house_number": "1", "postcode": "8001", "city": "Zürich"}],
        "card_numbers": [card],
        "consents": [{"channel": "letter", "status": "granted", "source": "pos"}]
    }))
    .unwrap();
    match app
        .create_customer(
            &Actor::cli(),
            input,
            None,
            kundo_app::customers::DuplicateCheck::CreateAnyway,
        )
        .await
        .unwrap()
    {
        Created::New(v) => v.customer_number,
        Created::Replayed { .. } => unreachable!(),
    }
}

fn receipt(id: &str, card: Option<&str>, lines: &[(&str, i64)]) -> ReceiptInput {
    ReceiptInput {
        source: "pos-zh01".into(),
        external_id: id.into(),
        store_code: Some("ZH01".into()),
        channel: "store".into(),
        occurred_at: (Utc::now() - Duration::days(3)).to_rfc3339(),
        currency: "CHF".into(),
        card_number: card.map(str::to_string),
        customer_number: None,
        lines: lines
            .iter()
            .enumerate()
            .map(|(i, (cat, amount))| LineInput {
                sku: format!("SKU{i}"),
                category: cat.to_string(),
                quantity: 1,
                amount: *amount,
            })
            .collect(),
    }
}

/// The month a bonus run is for today.
fn this_month() -> String {
    Utc::now().format("%Y-%m").to_string()
}

fn body(b: &kundo_app::receipts::Booked) -> Value {
    serde_json::from_str(&b.body).unwrap()
}

#[tokio::test]
async fn a_receipt_earns_exact_points_and_a_resend_answers_the_same() {
    for (app, _d, db) in setup().await {
        let number = customer(&app, "2900000000101", "1980-05-05").await;
        // CHF 19.90 + 12.55 Papier + 50.00 gift card (excluded) → 32.45 eligible → 32 points.
        let r = receipt(
            "r-1",
            Some("2900000000101"),
            &[("Papier", 1990), ("Papier", 1255), ("Geschenkkarten", 5000)],
        );
        let first = app.book_receipt(&till(), r.clone()).await.unwrap();
        assert_eq!(first.status, 201, "{db}");
        assert_eq!(body(&first)["points_earned"], json!(32), "{db}");
        assert_eq!(body(&first)["balance"], json!(32), "{db}");
        let again = app.book_receipt(&till(), r.clone()).await.unwrap();
        assert_eq!(again.status, 200, "{db}");
        assert_eq!(again.body, first.body, "{db}");
        let mut changed = r.clone();
        changed.lines[0].amount = 2990;
        assert!(
            matches!(
                app.book_receipt(&till(), changed).await,
                Err(AppError::Conflict { .. })
            ),
            "{db}"
        );
        let points = app.points(&number, None, 50).await.unwrap();
        assert_eq!(points.balance, 32, "{db}");
        assert_eq!(points.entries.len(), 1, "{db}");
        let f = app.purchase_figures(&number).await.unwrap();
        assert_eq!(
            (
                f.receipts_total,
                f.revenue_total,
                f.receipts_12m,
                f.revenue_12m
            ),
            (1, 8245, 1, 8245),
            "{db}"
        );
        assert_eq!(f.favourite_store.as_deref(), Some("ZH01"), "{db}");
        let lookup = app
            .lookup(kundo_store::customers::LookupKey::Card("2900000000101"))
            .await
            .unwrap();
        assert_eq!(lookup.balance, 32, "{db}");
    }
}

#[tokio::test]
async fn bad_receipts_are_refused_by_field_and_do_not_block_the_batch() {
    for (app, _d, db) in setup().await {
        customer(&app, "2900000000101", "1980-05-05").await;
        let mut unknown_store = receipt("r-1", Some("2900000000101"), &[("Papier", 1000)]);
        unknown_store.store_code = Some("XX99".into());
        let unknown_card = receipt("r-2", Some("2999999999999"), &[("Papier", 1000)]);
        let mut negative = receipt("r-3", None, &[("Papier", -5)]);
        negative.channel = "fax".into();
        let good = receipt("r-4", Some("2900000000101"), &[("Papier", 1000)]);
        let anonymous = receipt("r-5", None, &[("Papier", 1000)]);
        let out = app
            .book_receipts(
                &till(),
                vec![unknown_store, unknown_card, negative, good, anonymous],
            )
            .await
            .unwrap();
        let field = |r: &Result<kundo_app::receipts::Booked, AppError>| match r {
            Err(AppError::Invalid(e)) => e.iter().map(|f| f.field.clone()).collect::<Vec<_>>(),
            other => panic!("{db}: {other:?}"),
        };
        assert_eq!(field(&out[0]), vec!["store_code"], "{db}");
        assert_eq!(field(&out[1]), vec!["card_number"], "{db}");
        assert!(
            field(&out[2]).contains(&"channel".to_string())
                && field(&out[2]).contains(&"lines[0].amount".to_string()),
            "{db}"
        );
        assert_eq!(out[3].as_ref().unwrap().status, 201, "{db}");
        let anon = out[4].as_ref().unwrap();
        assert_eq!(
            body(anon)["points_earned"],
            json!(0),
            "{db}: anonymous receipts count for reports only"
        );
        assert_eq!(body(anon)["balance"], Value::Null, "{db}");
    }
}

/// Issue 18, item 11: receipts that cannot be true are refused naming the field, in a batch as
/// alone; nothing of them reaches the ledger or the figures.
#[tokio::test]
async fn receipts_outside_the_bounds_of_a_sale_are_refused_by_field() {
    for (mut app, _d, db) in setup().await {
        let number = customer(&app, "2900000000101", "1980-05-05").await;
        let card = Some("2900000000101");
        let mut year_one = receipt("b-1", card, &[("Papier", 1000)]);
        year_one.occurred_at = "0001-01-01T00:00:00Z".into();
        let mut eleven_years = receipt("b-2", card, &[("Papier", 1000)]);
        eleven_years.occurred_at = (Utc::now() - Duration::days(11 * 366)).to_rfc3339();
        let mut tomorrow = receipt("b-3", card, &[("Papier", 1000)]);
        tomorrow.occurred_at = (Utc::now() + Duration::days(1)).to_rfc3339();
        // The review's receipt: 500 lines of CHF 1 billion each.
        let huge = receipt("b-4", card, &vec![("Papier", 100_000_000_000); 500]);
        // Each line within bounds, the receipt not: 2 × CHF 600,000.
        let too_much = receipt(
            "b-5",
            card,
            &[("Papier", 60_000_000), ("Papier", 60_000_000)],
        );
        // Within every amount bound, but CHF 200,000 earn more than 100,000 points.
        let many_points = receipt("b-6", card, &[("Papier", 10_000_000); 2]);
        let mut zero_width = receipt("b-7", card, &[("Papier", 1000)]);
        zero_width.lines[0].sku = "SKU\u{200B}1".into();
        let mut padded = receipt("b-8", card, &[("Papier", 1000)]);
        padded.occurred_at = format!(" {}", padded.occurred_at);
        // At the bounds: ten years less a day ago, the points ceiling exactly.
        let mut old_ok = receipt("b-9", card, &[("Papier", 1000)]);
        old_ok.occurred_at = (Utc::now() - Duration::days(3650 - 3)).to_rfc3339();
        let at_ceiling = receipt("b-10", card, &[("Papier", 5_000_000); 2]);
        let out = app
            .book_receipts(
                &till(),
                vec![
                    year_one,
                    eleven_years,
                    tomorrow,
                    huge.clone(),
                    too_much,
                    many_points.clone(),
                    zero_width,
                    padded,
                    old_ok,
                    at_ceiling,
                ],
            )
            .await
            .unwrap();
        let fields = |r: &Result<kundo_app::receipts::Booked, AppError>| match r {
            Err(AppError::Invalid(e)) => e.iter().map(|f| f.field.clone()).collect::<Vec<_>>(),
            other => panic!("{db}: {other:?}"),
        };
        assert_eq!(fields(&out[0]), ["occurred_at"], "{db}");
        assert_eq!(fields(&out[1]), ["occurred_at"], "{db}");
        assert_eq!(fields(&out[2]), ["occurred_at"], "{db}");
        let huge_fields = fields(&out[3]);
        assert_eq!(huge_fields.len(), 500, "{db}");
        assert_eq!(huge_fields[2], "lines[2].amount", "{db}");
        assert_eq!(fields(&out[4]), ["lines"], "{db}");
        assert_eq!(fields(&out[5]), ["lines"], "{db}");
        assert_eq!(fields(&out[6]), ["lines[0].sku"], "{db}");
        assert_eq!(fields(&out[7]), ["occurred_at"], "{db}");
        assert_eq!(
            body(out[8].as_ref().unwrap())["points_earned"],
            json!(10),
            "{db}"
        );
        assert_eq!(
            body(out[9].as_ref().unwrap())["points_earned"],
            json!(100_000),
            "{db}"
        );
        let balance = app.points(&number, None, 50).await.unwrap().balance;
        assert_eq!(balance, 100_010, "{db}");
        let f = app.purchase_figures(&number).await.unwrap();
        assert_eq!((f.receipts_total, f.revenue_total), (2, 10_001_000), "{db}");

        // The ceiling is configurable: with a higher one the same receipt is booked.
        app.sale_bounds.max_points_per_receipt = 200_000;
        let again = app.book_receipt(&till(), many_points).await.unwrap();
        assert_eq!(body(&again)["points_earned"], json!(200_000), "{db}");
        // A single receipt is checked like a batch.
        assert!(
            matches!(
                app.book_receipt(&till(), huge).await,
                Err(AppError::Invalid(_))
            ),
            "{db}"
        );

        // Returns: the same bounds for their time and amounts.
        let mut ret = ReturnInput {
            external_id: "b-10-r".into(),
            occurred_at: Some("0001-01-01T00:00:00Z".into()),
            lines: vec![ReturnLineInput {
                sku: Some("SKU0".into()),
                line_no: None,
                quantity: 1,
                amount: Some(100_000_000_000),
            }],
        };
        let e = app
            .book_return(&till(), "pos-zh01", "b-10", ret.clone())
            .await
            .unwrap_err();
        let AppError::Invalid(errs) = e else {
            panic!("{db}: {e:?}")
        };
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["occurred_at", "lines[0].amount"], "{db}");
        ret.occurred_at = None;
        ret.lines[0].amount = Some(5_000_000);
        let r = app
            .book_return(&till(), "pos-zh01", "b-10", ret)
            .await
            .unwrap();
        assert_eq!(r.status, 201, "{db}");
    }
}

#[tokio::test]
async fn returns_reverse_points_in_proportion_and_never_more_than_bought() {
    for (app, _d, db) in setup().await {
        let number = customer(&app, "2900000000101", "1980-05-05").await;
        let r = receipt(
            "r-1",
            Some("2900000000101"),
            &[("Möbel", 30000), ("Papier", 1000)],
        );
        app.book_receipt(&till(), r).await.unwrap();
        assert_eq!(
            app.points(&number, None, 10).await.unwrap().balance,
            310,
            "{db}"
        );
        let ret = |id: &str, sku: &str, amount: Option<i64>| ReturnInput {
            external_id: id.into(),
            occurred_at: None,
            lines: vec![ReturnLineInput {
                sku: Some(sku.into()),
                line_no: None,
                quantity: 1,
                amount,
            }],
        };
        let b = app
            .book_return(
                &till(),
                "pos-zh01",
                "r-1",
                ret("ret-1", "SKU0", Some(10000)),
            )
            .await
            .unwrap();
        assert_eq!(body(&b)["points_reversed"], json!(100), "{db}");
        assert_eq!(body(&b)["balance"], json!(210), "{db}");
        // The rest of the chair came back too: the line is now fully returned.
        let b = app
            .book_return(
                &till(),
                "pos-zh01",
                "r-1",
                ReturnInput {
                    external_id: "ret-2".into(),
                    occurred_at: None,
                    lines: vec![ReturnLineInput {
                        sku: None,
                        line_no: Some(1),
                        quantity: 1,
                        amount: Some(20000),
                    }],
                },
            )
            .await;
        assert!(
            matches!(b, Err(AppError::Invalid(_))),
            "{db}: quantity 1 of 1 was returned already: {b:?}"
        );
        let b = app
            .book_return(&till(), "pos-zh01", "r-1", ret("ret-3", "SKU1", Some(2000)))
            .await;
        assert!(
            matches!(b, Err(AppError::Invalid(_))),
            "{db}: more than was paid"
        );
        let b = app
            .book_return(&till(), "pos-zh01", "r-1", ret("ret-4", "SKU1", None))
            .await
            .unwrap();
        assert_eq!(body(&b)["points_reversed"], json!(10), "{db}");
        assert!(
            matches!(
                app.book_return(&till(), "pos-zh01", "nope", ret("ret-5", "SKU0", None))
                    .await,
                Err(AppError::NotFound(_))
            ),
            "{db}: a return of an unknown receipt"
        );
        let again = app
            .book_return(&till(), "pos-zh01", "r-1", ret("ret-4", "SKU1", None))
            .await
            .unwrap();
        assert_eq!(again.status, 200, "{db}: a resent return is booked once");
        let f = app.purchase_figures(&number).await.unwrap();
        assert_eq!(f.revenue_total, 20000, "{db}: revenue is net of returns");
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
async fn points_rules_versions_apply_by_the_time_of_sale() {
    for (app, _d, db) in setup().await {
        customer(&app, "2900000000101", "1980-05-05").await;
        let since = Utc::now() - Duration::days(10);
        let rules: kundo_core::points::PointsRules = serde_json::from_value(json!({
            "category_multipliers": {"Möbel": 200},
            "promotions": [{"name": "Online-Wochen", "valid_from": since.to_rfc3339(), "valid_until": (Utc::now() + Duration::days(1)).to_rfc3339(), "multiplier_percent": 300, "channels": ["online"]}]
        }))
        .unwrap();
        app.set_points_rules(&Actor::cli(), since, &rules)
            .await
            .unwrap();
        let mut old = receipt("old", Some("2900000000101"), &[("Möbel", 1000)]);
        old.occurred_at = (Utc::now() - Duration::days(20)).to_rfc3339();
        assert_eq!(
            body(&app.book_receipt(&till(), old).await.unwrap())["points_earned"],
            json!(10),
            "{db}: before the new rules"
        );
        let new = receipt("new", Some("2900000000101"), &[("Möbel", 1000)]);
        assert_eq!(
            body(&app.book_receipt(&till(), new).await.unwrap())["points_earned"],
            json!(20),
            "{db}: double on furniture"
        );
        let mut online = receipt(
            "web",
            Some("2900000000101"),
            &[("Möbel", 1000), ("Papier", 1000)],
        );
        online.channel = "online".into();
        online.store_code = Some("WEB".into());
        assert_eq!(
            body(&app.book_receipt(&till(), online).await.unwrap())["points_earned"],
            json!(90),
            "{db}: 10×2×3 + 10×3"
        );
        let bad: kundo_core::points::PointsRules =
            serde_json::from_value(json!({"minor_units_per_point": 0})).unwrap();
        assert!(
            matches!(
                app.set_points_rules(&Actor::cli(), since, &bad).await,
                Err(AppError::Invalid(_))
            ),
            "{db}"
        );
    }
}

#[tokio::test]
async fn vouchers_validate_redeem_once_reverse_and_cancel() {
    for (app, _d, db) in setup().await {
        let number = customer(&app, "2900000000101", "1980-05-05").await;
        let now = Utc::now();
        let t = VoucherTemplate {
            kind: "goodwill".into(),
            value_type: "amount".into(),
            value: 1000,
            currency: "CHF".into(),
            min_order: 5000,
            channels: "store".into(),
            valid_from: now - Duration::days(1),
            valid_until: now + Duration::days(30),
        };
        let v = app
            .issue_voucher(&Actor::cli(), t, Some(&number))
            .await
            .unwrap();
        let use_ = |channel: &str, basket: Option<i64>| UseRequest {
            channel: channel.into(),
            store_code: Some("ZH01".into()),
            basket_amount: basket,
            receipt_ref: Some("r-9".into()),
        };
        let ok = app
            .validate_voucher(&v.code, &use_("store", Some(6000)))
            .await
            .unwrap();
        assert!(ok.valid && ok.reason == "ok" && ok.value == 1000, "{db}");
        assert_eq!(
            app.validate_voucher(&v.code, &use_("online", Some(6000)))
                .await
                .unwrap()
                .reason,
            "wrong_channel",
            "{db}"
        );
        assert_eq!(
            app.validate_voucher(&v.code, &use_("store", Some(4000)))
                .await
                .unwrap()
                .reason,
            "below_minimum_order",
            "{db}"
        );
        // Look-alikes and hyphens are read as the code; a changed character is told apart from an unknown code.
        let typed = kundo_core::voucher_code::display(&v.code)
            .to_lowercase()
            .replace('0', "o");
        assert!(
            app.validate_voucher(&typed, &use_("store", Some(6000)))
                .await
                .unwrap()
                .valid,
            "{db}"
        );
        let mut wrong = v.code.clone().into_bytes();
        wrong[0] = if wrong[0] == b'A' { b'B' } else { b'A' };
        assert!(
            matches!(
                app.validate_voucher(&String::from_utf8(wrong).unwrap(), &use_("store", None))
                    .await,
                Err(AppError::InvalidCode(_))
            ),
            "{db}"
        );
        assert!(
            matches!(
                app.redeem_voucher(&till(), &v.code, &use_("online", None))
                    .await,
                Err(AppError::VoucherRefused("wrong_channel"))
            ),
            "{db}"
        );
        app.redeem_voucher(&till(), &v.code, &use_("store", Some(6000)))
            .await
            .unwrap();
        match app
            .redeem_voucher(&till(), &v.code, &use_("store", Some(6000)))
            .await
        {
            Err(AppError::AlreadyRedeemed { at, store_code, .. }) => {
                assert!(at.is_some(), "{db}");
                assert_eq!(store_code.as_deref(), Some("ZH01"), "{db}");
            }
            other => panic!("{db}: {other:?}"),
        }
        let back = app
            .reverse_redemption(&Actor::cli(), &v.code)
            .await
            .unwrap();
        assert_eq!(back.status, "issued", "{db}");
        assert_eq!(
            app.cancel_voucher(&Actor::cli(), &v.code)
                .await
                .unwrap()
                .status,
            "cancelled",
            "{db}"
        );
        assert!(
            matches!(
                app.redeem_voucher(&till(), &v.code, &use_("store", Some(6000)))
                    .await,
                Err(AppError::VoucherRefused("cancelled"))
            ),
            "{db}"
        );
        let events: Vec<String> = app
            .events(0, 100)
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|e| e.event_type)
            .collect();
        for e in [
            "voucher.issued",
            "voucher.redeemed",
            "voucher.reversed",
            "voucher.cancelled",
        ] {
            assert!(events.contains(&e.to_string()), "{db}: {e} in {events:?}");
        }
    }
}

#[tokio::test]
async fn expired_vouchers_expire_with_an_event() {
    for (app, _d, db) in setup().await {
        let now = Utc::now();
        let t = VoucherTemplate {
            kind: "campaign".into(),
            value_type: "percent".into(),
            value: 1000,
            currency: "CHF".into(),
            min_order: 0,
            channels: "both".into(),
            valid_from: now - Duration::days(30),
            valid_until: now - Duration::seconds(1),
        };
        let v = app.issue_voucher(&Actor::cli(), t, None).await.unwrap();
        assert_eq!(
            app.validate_voucher(
                &v.code,
                &UseRequest {
                    channel: "online".into(),
                    store_code: None,
                    basket_amount: None,
                    receipt_ref: None
                }
            )
            .await
            .unwrap()
            .reason,
            "expired",
            "{db}"
        );
        assert_eq!(app.expire_vouchers().await.unwrap(), 1, "{db}");
        assert_eq!(app.expire_vouchers().await.unwrap(), 0, "{db}");
        assert_eq!(
            app.voucher(&v.code).await.unwrap().status,
            "expired",
            "{db}"
        );
    }
}

async fn earn(app: &App, card: &str, id: &str, chf: i64) {
    app.book_receipt(&till(), receipt(id, Some(card), &[("Möbel", chf * 100)]))
        .await
        .unwrap();
}

#[tokio::test]
async fn the_bonus_run_converts_points_once_per_period_and_writes_the_lettershop_batch() {
    for (app, _d, db) in setup().await {
        let a = customer(&app, "2900000000101", "1980-05-05").await;
        let b = customer(&app, "2900000000102", "1981-06-06").await;
        let c = customer(&app, "2900000000103", "1982-07-07").await;
        earn(&app, "2900000000101", "a1", 1234).await; // 1234 points → CHF 20, reset to 0
        earn(&app, "2900000000102", "b1", 499).await; // below the threshold
        earn(&app, "2900000000103", "c1", 500).await;
        // c's letter consent is withdrawn: the voucher is issued, the letter left out.
        app.update_customer(
            &Actor::cli(),
            &c,
            json!({"consents": [{"channel": "letter", "status": "revoked", "source": "call"}]})
                .as_object()
                .unwrap(),
            None,
        )
        .await
        .unwrap();
        let run = app
            .bonus_run(
                &Actor::cli(),
                &this_month(),
                &BonusConfig::default(),
                RunLimit::default(),
            )
            .await
            .unwrap();
        assert_eq!(
            (
                run.state.as_str(),
                run.vouchers_issued,
                run.points_converted
            ),
            ("done", 2, 1734),
            "{db}"
        );
        assert_eq!(
            (run.letters, run.left_out_consent, run.left_out_address),
            (1, 1, 0),
            "{db}"
        );
        assert_eq!(app.points(&a, None, 10).await.unwrap().balance, 0, "{db}");
        assert_eq!(app.points(&b, None, 10).await.unwrap().balance, 499, "{db}");
        let va = app.customer_vouchers(&a).await.unwrap();
        assert_eq!(
            (va.len(), va[0].value, va[0].kind.as_str()),
            (1, 2000, "bonus"),
            "{db}"
        );
        let again = app
            .bonus_run(
                &Actor::cli(),
                &this_month(),
                &BonusConfig::default(),
                RunLimit::default(),
            )
            .await
            .unwrap();
        assert_eq!(
            (again.id, again.vouchers_issued),
            (run.id, 2),
            "{db}: a second run of the period issues nothing"
        );
        assert_eq!(app.customer_vouchers(&a).await.unwrap().len(), 1, "{db}");
        let csv = app.lettershop_batch(run.id).await.unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 2, "{db}: header and one letter: {csv}");
        assert!(
            lines[0].starts_with(
                "customer_number,salutation,title,first_name,last_name,company,street"
            ),
            "{db}"
        );
        assert!(
            lines[1].starts_with(&a) && lines[1].contains("20.00,CHF"),
            "{db}: {}",
            lines[1]
        );
        assert_eq!(
            app.lettershop_batch(run.id).await.unwrap(),
            csv,
            "{db}: exported again identically"
        );
    }
}

#[tokio::test]
async fn a_bonus_run_interrupted_between_steps_finishes_exactly_the_rest() {
    for (app, _d, db) in setup().await {
        app.generate_demo(4_500, 5, 3, &|_| {}).await.unwrap();
        // Give every customer 600 points by adjustment.
        let page = app
            .list_customers(kundo_store::customers::ListFilter {
                limit: 500,
                ..Default::default()
            })
            .await
            .unwrap();
        let mut numbers = Vec::new();
        let mut cursor = None;
        let mut first = Some(page);
        loop {
            let p = match first.take() {
                Some(p) => p,
                None => app
                    .list_customers(kundo_store::customers::ListFilter {
                        limit: 500,
                        after_id: cursor,
                        ..Default::default()
                    })
                    .await
                    .unwrap(),
            };
            numbers.extend(p.items.iter().map(|c| c.customer_number.clone()));
            match p.next_cursor {
                Some(c) => cursor = Some(c.parse().unwrap()),
                None => break,
            }
        }
        assert_eq!(numbers.len(), 4_500, "{db}");
        for n in &numbers {
            app.adjust_points(&Actor::cli(), n, 600, "test setup")
                .await
                .unwrap();
        }
        let partial = app
            .bonus_run(
                &Actor::cli(),
                &this_month(),
                &BonusConfig::default(),
                RunLimit { max_steps: Some(1) },
            )
            .await
            .unwrap();
        assert_eq!(
            (partial.state.as_str(), partial.vouchers_issued),
            ("running", 2_000),
            "{db}"
        );
        let done = app
            .bonus_run(
                &Actor::cli(),
                &this_month(),
                &BonusConfig::default(),
                RunLimit::default(),
            )
            .await
            .unwrap();
        assert_eq!(
            (
                done.state.as_str(),
                done.vouchers_issued,
                done.points_converted
            ),
            ("done", 4_500, 4_500 * 600),
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
        let vouchers = kundo_store::vouchers::of_run(&mut conn.db(), done.id)
            .await
            .unwrap();
        let distinct: std::collections::HashSet<_> =
            vouchers.iter().map(|v| v.customer_id).collect();
        assert_eq!(
            (vouchers.len(), distinct.len()),
            (4_500, 4_500),
            "{db}: exactly one voucher per customer"
        );
    }
}

#[tokio::test]
async fn birthday_vouchers_reach_good_customers_once_a_year_and_29_february_counts_as_28th() {
    for (app, _d, db) in setup().await {
        let leap = customer(&app, "2900000000201", "1980-02-29").await;
        let plain = customer(&app, "2900000000202", "1990-02-28").await;
        let small = customer(&app, "2900000000203", "1985-02-28").await;
        let other_day = customer(&app, "2900000000204", "1985-03-01").await;
        for (card, chf) in [
            ("2900000000201", 600),
            ("2900000000202", 500),
            ("2900000000203", 499),
            ("2900000000204", 900),
        ] {
            earn(&app, card, &format!("bd-{card}"), chf).await;
        }
        let cfg = BirthdayConfig::default();
        // The runs are made in February 2027 (a run is dated within a month of today).
        let app = app.with_today(chrono::NaiveDate::from_ymd_opt(2027, 2, 7).unwrap());
        // 2027 is no leap year: the run 21 days before 28 February serves both 28 and 29 February.
        let run = app
            .birthday_run("2027-02-07", &cfg, RunLimit::default())
            .await
            .unwrap();
        assert_eq!(run.vouchers_issued, 2, "{db}");
        assert_eq!(app.customer_vouchers(&leap).await.unwrap().len(), 1, "{db}");
        assert_eq!(
            app.customer_vouchers(&plain).await.unwrap().len(),
            1,
            "{db}"
        );
        assert!(
            app.customer_vouchers(&small).await.unwrap().is_empty(),
            "{db}: below CHF 500 in 12 months"
        );
        assert!(
            app.customer_vouchers(&other_day).await.unwrap().is_empty(),
            "{db}"
        );
        // Another run date in the same year never issues a second birthday voucher.
        app.birthday_run("2027-02-08", &cfg, RunLimit::default())
            .await
            .unwrap();
        assert_eq!(app.customer_vouchers(&leap).await.unwrap().len(), 1, "{db}");
        assert!(
            matches!(
                app.birthday_run("2027-02-30", &cfg, RunLimit::default())
                    .await,
                Err(AppError::Invalid(_))
            ),
            "{db}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_posts_of_one_receipt_book_it_once() {
    for (app, _d, db) in setup().await {
        let number = customer(&app, "2900000000101", "1980-05-05").await;
        let r = receipt("same", Some("2900000000101"), &[("Papier", 10000)]);
        let mut tasks = Vec::new();
        for _ in 0..32 {
            let app = app.clone();
            let r = r.clone();
            tasks.push(tokio::spawn(
                async move { app.book_receipt(&till(), r).await },
            ));
        }
        let mut statuses = Vec::new();
        let mut bodies = std::collections::HashSet::new();
        for t in tasks {
            let b = t.await.unwrap().unwrap_or_else(|e| panic!("{db}: {e:?}"));
            statuses.push(b.status);
            bodies.insert(b.body);
        }
        assert_eq!(
            statuses.iter().filter(|s| **s == 201).count(),
            1,
            "{db}: {statuses:?}"
        );
        assert_eq!(bodies.len(), 1, "{db}: every answer is the first answer");
        let p = app.points(&number, None, 100).await.unwrap();
        assert_eq!((p.balance, p.entries.len()), (100, 1), "{db}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_redemptions_of_one_voucher_succeed_once() {
    for (app, _d, db) in setup().await {
        let now = Utc::now();
        let t = VoucherTemplate {
            kind: "campaign".into(),
            value_type: "amount".into(),
            value: 500,
            currency: "CHF".into(),
            min_order: 0,
            channels: "both".into(),
            valid_from: now - Duration::days(1),
            valid_until: now + Duration::days(1),
        };
        let v = app.issue_voucher(&Actor::cli(), t, None).await.unwrap();
        let mut tasks = Vec::new();
        for i in 0..64 {
            let app = app.clone();
            let code = v.code.clone();
            tasks.push(tokio::spawn(async move {
                let channel = if i % 2 == 0 { "store" } else { "online" };
                app.redeem_voucher(
                    &till(),
                    &code,
                    &UseRequest {
                        channel: channel.into(),
                        store_code: None,
                        basket_amount: None,
                        receipt_ref: Some(format!("r{i}")),
                    },
                )
                .await
            }));
        }
        let (mut ok, mut already) = (0, 0);
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => ok += 1,
                Err(AppError::AlreadyRedeemed { .. }) => already += 1,
                Err(e) => panic!("{db}: {e:?}"),
            }
        }
        assert_eq!((ok, already), (1, 63), "{db}");
    }
}

/// A plan cached while `receipts` was empty must not outlive the table's growth: PostgreSQL keeps
/// a prepared statement's generic plan for the life of the connection, and the idempotency
/// lookup of a batch then scanned the whole table for every batch (ADR 10). Here one connection
/// looks receipts up on an empty, analysed table more often than PostgreSQL needs to switch to a
/// generic plan, the table grows to 20,000 receipts, and the next lookup must find exactly the
/// receipts asked for without a sequential scan of `receipts`.
#[tokio::test]
async fn the_receipt_lookup_of_a_batch_reads_the_index_however_the_table_grew() {
    let keys = |ids: &[i64]| -> Vec<(String, String)> {
        ids.iter()
            .map(|i| ("pos".to_string(), format!("r-{i}")))
            .collect()
    };
    for (store, _dir) in testing::all().await {
        let db = store.backend().name();
        let mut tx = store.begin_write().await.unwrap();
        let now = Utc::now();
        kundo_store::with_db!(&mut tx.db(), c, _pg => {
            sqlx::query("ANALYZE receipts").execute(&mut *c).await.unwrap();
        });
        for _ in 0..8 {
            let found = kundo_store::loyalty::find_receipts(&mut tx.db(), &keys(&[1, 2, 3]))
                .await
                .unwrap();
            assert!(found.is_empty(), "{db}");
        }
        let fill = "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 20000) \
             INSERT INTO receipts (id, source, external_id, kind, channel, occurred_at, currency, total_amount, \
             eligible_amount, weight, points, request_hash, response, created_at) \
             SELECT n, 'pos', 'r-' || n, 'sale', 'store', $1, 'CHF', 100, 100, 100, 1, '', '', $1 FROM g";
        let scans = "SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relname = 'receipts'";
        kundo_store::with_db!(&mut tx.db(), c, _pg => {
            sqlx::query(fill).bind(now).execute(&mut *c).await.unwrap();
        });
        let before: Option<i64> = match tx.db() {
            kundo_store::Db::Sqlite(_) => None,
            kundo_store::Db::Postgres(c) => {
                Some(sqlx::query_scalar(scans).fetch_one(&mut *c).await.unwrap())
            }
        };
        let mut found: Vec<String> =
            kundo_store::loyalty::find_receipts(&mut tx.db(), &keys(&[7, 19_999, 20_001]))
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.external_id)
                .collect();
        found.sort();
        assert_eq!(found, ["r-19999", "r-7"], "{db}");
        if let (Some(before), kundo_store::Db::Postgres(c)) = (before, tx.db()) {
            let after: i64 = sqlx::query_scalar(scans).fetch_one(&mut *c).await.unwrap();
            assert_eq!(
                after - before,
                0,
                "{db}: the lookup scanned the receipts table"
            );
        }
    }
}

/// `kundo serve` warns at start when PostgreSQL keeps no statistics current (autovacuum off,
/// ADR 10); SQLite has nothing to warn about. autovacuum is a server setting, so the test
/// follows the server it runs on (off on the development machines: the warning must appear).
#[tokio::test]
async fn the_operator_is_warned_when_postgres_runs_without_autovacuum() {
    for (store, _dir) in testing::all().await {
        let warnings = store.setting_warnings().await.unwrap();
        match &store {
            kundo_store::Store::Sqlite(..) => assert!(warnings.is_empty(), "{warnings:?}"),
            kundo_store::Store::Postgres(pool) => {
                let setting: String = sqlx::query_scalar("SHOW autovacuum")
                    .fetch_one(pool)
                    .await
                    .unwrap();
                let warned = warnings.iter().any(|w| w.contains("autovacuum off"));
                assert_eq!(warned, setting != "on", "{setting}: {warnings:?}");
                assert_eq!(warnings.len(), usize::from(warned), "{warnings:?}");
            }
        }
    }
}

/// After a bulk load, `optimize` leaves statistics on both backends, and on PostgreSQL the new
/// pages marked all-visible (a vacuum), so that index-only scans of the figures skip the table,
/// and the figure rows in customer order, so that a scan of them probes other tables in order.
#[tokio::test]
async fn optimizing_after_a_bulk_load_analyses_and_on_postgres_vacuums() {
    for (store, _dir) in testing::all().await {
        if let kundo_store::Store::Postgres(pool) = &store {
            // Written against the key order, as updates during a load can leave them.
            sqlx::query(
                "INSERT INTO customer_stats (customer_id, receipts, revenue, online_receipts, online_revenue) \
                 SELECT g, 1, 100, 0, 0 FROM generate_series(300, 1, -1) g",
            )
            .execute(pool)
            .await
            .unwrap();
        }
        store.optimize().await.unwrap();
        match &store {
            kundo_store::Store::Sqlite(pool, _) => {
                let analysed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_stat1")
                    .fetch_one(pool)
                    .await
                    .unwrap();
                assert!(analysed > 0);
            }
            kundo_store::Store::Postgres(pool) => {
                let (vacuumed, analysed): (bool, bool) = sqlx::query_as(
                    "SELECT last_vacuum IS NOT NULL, last_analyze IS NOT NULL \
                     FROM pg_stat_user_tables WHERE relname = 'customer_stats'",
                )
                .fetch_one(pool)
                .await
                .unwrap();
                assert!(vacuumed && analysed);
                let in_place: Vec<i64> =
                    sqlx::query_scalar("SELECT customer_id FROM customer_stats ORDER BY ctid")
                        .fetch_all(pool)
                        .await
                        .unwrap();
                assert_eq!(in_place, (1..=300).collect::<Vec<i64>>());
            }
        }
    }
}

/// Issue 18 item 9: "the last 12 months" are the month of the day and the eleven before it, in
/// the figures, segments, the birthday threshold and the scores alike.
#[tokio::test]
async fn the_last_twelve_months_mean_the_same_in_figures_segments_birthdays_and_scores() {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
    for (app, _d, db) in setup().await {
        // The birthday falls 21 days after `today`: the birthday run of `today` looks at it.
        let number = customer(&app, "2900000000301", "1980-12-26").await;
        for (day, chf) in [
            ("2025-11-30", 300),
            ("2025-12-10", 300),
            ("2026-01-01", 200),
            ("2026-12-05", 200),
        ] {
            let mut r = receipt(day, Some("2900000000301"), &[("Papier", chf * 100)]);
            r.occurred_at = format!("{day}T00:00:01Z");
            app.book_receipt(&till(), r).await.unwrap();
        }
        let f = app.purchase_figures_on(&number, today).await.unwrap();
        assert_eq!(
            (f.receipts_12m, f.revenue_12m, f.receipts_total),
            (2, 40_000, 4),
            "{db}: 2026-01-01 and 2026-12-05"
        );
        for (receipts, members) in [(2, 1), (3, 0)] {
            let def = json!({"purchases": {"metric": "receipts", "window": {"last_months": 12}, "op": "eq", "value": receipts}});
            let p = app.preview_segment(&def, today, 10).await.unwrap();
            assert_eq!(p.count, members, "{db}: receipts eq {receipts}");
        }
        // CHF 400 in the last 12 months is below the default CHF 500 (with 2025-12-10: 700).
        let run = app
            .birthday_run(
                "2026-12-05",
                &BirthdayConfig::default(),
                RunLimit::default(),
            )
            .await
            .unwrap();
        assert_eq!(run.vouchers_issued, 0, "{db}");
        app.run_scores(&Actor::cli(), today, &|_, _, _| {})
            .await
            .unwrap();
        let s = app.customer_scores(&number).await.unwrap();
        assert_eq!(
            (s.frequency, s.monetary, s.clv_historic),
            (Some(2), Some(40_000), Some(40_000)),
            "{db}"
        );
    }
}

/// Issue 18 item 9, the campaign side: a campaign starts now, so its "orders in the 12 months
/// before the start" are counted from the 1st of the month eleven months back (relative to now).
#[tokio::test]
async fn a_campaign_counts_the_orders_of_the_same_twelve_months() {
    let today = Utc::now().date_naive();
    let start = kundo_core::twelve_months::start(today);
    for (app, _d, db) in setup().await {
        customer(&app, "2900000000302", "1980-05-05").await;
        // The last minute before the window and its first second.
        let before = start.pred_opt().unwrap();
        for (id, at) in [
            ("before", format!("{before}T23:59:00Z")),
            ("first", format!("{start}T00:00:01Z")),
        ] {
            let mut r = receipt(id, Some("2900000000302"), &[("Papier", 10_000)]);
            r.occurred_at = at;
            app.book_receipt(&till(), r).await.unwrap();
        }
        let seg = app
            .create_segment(
                &Actor::cli(),
                kundo_app::segments::SegmentInput {
                    name: "Alle".into(),
                    definition: json!({"postal_status": "ok"}),
                    kind: None,
                },
                today,
            )
            .await
            .unwrap();
        let input: kundo_app::campaigns::CampaignInput = serde_json::from_value(json!({
            "name": "Zwölf Monate", "segment_id": seg.id, "value_type": "amount",
            "value": 1000, "validity_days": 14, "control_share_bp": 0}))
        .unwrap();
        let c = app.create_campaign(&Actor::cli(), input).await.unwrap();
        app.start_campaign(
            &Actor::cli(),
            c.campaign.id,
            kundo_app::campaigns::StartLimit::default(),
        )
        .await
        .unwrap();
        let results = app.campaign_results(c.campaign.id).await.unwrap();
        let bands: Vec<(&str, i64)> = results
            .figures
            .by_orders
            .iter()
            .map(|cell| (cell.key.as_str(), cell.target.members))
            .filter(|(_, n)| *n > 0)
            .collect();
        assert_eq!(bands, vec![("1", 1)], "{db}");
    }
}

/// Issue 18 item 5: a promotion limited to segments applies to their members at the time of the
/// sale, and to nobody else.
#[tokio::test]
async fn a_promotion_for_a_segment_gives_its_members_the_multiplier_and_nobody_else() {
    for (app, _d, db) in setup().await {
        for (card, birth) in [
            ("2900000000401", "1980-05-05"),
            ("2900000000402", "1981-06-06"),
            ("2900000000403", "1982-07-07"),
        ] {
            customer(&app, card, birth).await;
        }
        let today = Utc::now().date_naive();
        let segment = |name: &str, definition: Value, kind: Option<&str>| {
            let input = kundo_app::segments::SegmentInput {
                name: name.into(),
                definition,
                kind: kind.map(str::to_string),
            };
            let app = app.clone();
            async move {
                app.create_segment(&Actor::cli(), input, today)
                    .await
                    .unwrap()
                    .id
            }
        };
        // Dynamic: bought "Möbel" (the first customer, below); nobody lives in Bern. Static: a
        // list frozen now, of everybody with an address that is ok.
        let buyers = segment(
            "Möbelkäufer",
            json!({"bought": {"category": "Möbel"}}),
            None,
        )
        .await;
        let list = segment(
            "Liste",
            json!({"field": "city", "op": "eq", "value": "Bern"}),
            None,
        )
        .await;
        let frozen = segment(
            "Eingefroren",
            json!({"postal_status": "ok"}),
            Some("static"),
        )
        .await;
        let mut old = receipt("m-0", Some("2900000000401"), &[("Möbel", 100)]);
        old.occurred_at = (Utc::now() - Duration::days(30)).to_rfc3339();
        app.book_receipt(&till(), old).await.unwrap();
        let since = Utc::now() - Duration::days(10);
        let until = Utc::now() + Duration::days(10);
        let rules: kundo_core::points::PointsRules = serde_json::from_value(json!({
            "promotions": [
                {"name": "Doppelt für Möbelkäufer", "valid_from": since.to_rfc3339(), "valid_until": until.to_rfc3339(),
                 "multiplier_percent": 200, "segment_ids": [buyers]},
                {"name": "Dreifach für die Liste", "valid_from": since.to_rfc3339(), "valid_until": until.to_rfc3339(),
                 "multiplier_percent": 300, "segment_ids": [list, frozen], "categories": ["Elektronik"]}
            ]
        }))
        .unwrap();
        app.set_points_rules(&Actor::cli(), since, &rules)
            .await
            .unwrap();
        let points = |id: &str, card: &str, lines: &[(&str, i64)]| {
            let r = receipt(id, Some(card), lines);
            let app = app.clone();
            async move { body(&app.book_receipt(&till(), r).await.unwrap())["points_earned"].clone() }
        };
        assert_eq!(
            points("m-1", "2900000000401", &[("Papier", 1000)]).await,
            json!(20),
            "{db}: a member earns double"
        );
        assert_eq!(
            points("n-1", "2900000000402", &[("Papier", 1000)]).await,
            json!(10),
            "{db}: a non-member earns the base rate"
        );
        // In the static list's snapshot, not in Bern: triple on electronics, base on paper.
        assert_eq!(
            points(
                "l-1",
                "2900000000403",
                &[("Elektronik", 1000), ("Papier", 1000)]
            )
            .await,
            json!(40),
            "{db}: triple on electronics only"
        );
        // Before the promotion started: base rate for the member too.
        let mut early = receipt("m-2", Some("2900000000401"), &[("Papier", 1000)]);
        early.occurred_at = (Utc::now() - Duration::days(20)).to_rfc3339();
        assert_eq!(
            body(&app.book_receipt(&till(), early).await.unwrap())["points_earned"],
            json!(10),
            "{db}: not in force"
        );

        // A promotion naming a segment that does not exist is refused at the field.
        let bad: kundo_core::points::PointsRules = serde_json::from_value(json!({
            "promotions": [{"name": "Niemand", "valid_from": since.to_rfc3339(), "valid_until": until.to_rfc3339(),
                 "multiplier_percent": 200, "segment_ids": [buyers, 424242]}]
        }))
        .unwrap();
        match app.set_points_rules(&Actor::cli(), since, &bad).await {
            Err(AppError::Invalid(errs)) => assert_eq!(
                errs.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(),
                vec!["promotions[0].segment_ids[1]"],
                "{db}"
            ),
            other => panic!("{db}: {other:?}"),
        }
        // A segment of a promotion that has not ended is kept.
        match app.delete_segment(&Actor::cli(), buyers).await {
            Err(AppError::Conflict { field, message }) => {
                assert_eq!(field, "id", "{db}");
                assert!(
                    message.contains("Doppelt für Möbelkäufer"),
                    "{db}: {message}"
                );
            }
            other => panic!("{db}: {other:?}"),
        }
    }
}
