//! Campaigns on both backends: 200 generated customers with mixed consents, preferences,
//! addresses (ok, research, none), a deceased one, refused postal ads and inbound contacts,
//! plus hand-built cases with a known channel. The control group, the channel of every member,
//! the vouchers, contacts and files, an interrupted start, and the results after redemptions.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Utc;
use kundo_app::campaigns::{CampaignInput, StartLimit};
use kundo_app::customers::{Created, DuplicateCheck};
use kundo_app::receipts::{LineInput, ReceiptInput};
use kundo_app::segments::SegmentInput;
use kundo_app::timeline::ActivityInput;
use kundo_app::vouchers::UseRequest;
use kundo_app::{Actor, App, AppError};
use kundo_core::campaign::{self as rules, Channel, Choice, Reach};
use kundo_core::customer::CustomerInput;
use kundo_core::demo::DemoRng;
use kundo_store::loyalty::StoreRow;
use kundo_store::testing;
use serde_json::{Value, json};

const GENERATED: usize = 200;

#[derive(Debug, Clone, Default)]
struct Person {
    number: String,
    last_name: String,
    preferred: Option<&'static str>,
    email: bool,
    email_consent: Option<&'static str>,
    letter_consent: Option<&'static str>,
    /// `None`: no address.
    postal: Option<&'static str>,
    deceased: bool,
    ads_blocked: bool,
    inbound_email: i64,
    inbound_letter: i64,
    inbound_calls: i64,
    /// What a hand-built case must get, literally.
    expect: Option<&'static str>,
}

impl Person {
    fn reach(&self) -> Reach {
        Reach {
            preferred_channel: self.preferred.map(str::to_string),
            has_email: self.email,
            email_consent: self.email_consent.map(str::to_string),
            letter_consent: self.letter_consent.map(str::to_string),
            postal_status: self.postal.map(str::to_string),
            reported_deceased: self.deceased,
            postal_ads_blocked: self.ads_blocked,
            inbound_email: self.inbound_email,
            inbound_letter: self.inbound_letter,
        }
    }
}

fn generate() -> Vec<Person> {
    let mut rng = DemoRng::new(5);
    let mut people = Vec::new();
    for i in 0..GENERATED {
        let email = rng.chance(4, 5);
        let consent = |rng: &mut DemoRng| match rng.below(3) {
            0 => None,
            1 => Some("granted"),
            _ => Some("revoked"),
        };
        let email_consent = if email { consent(&mut rng) } else { None };
        let letter_consent = consent(&mut rng);
        let preferred = match rng.below(5) {
            0 if email => Some("email"),
            1 => Some("letter"),
            2 => Some("sms"),
            _ => None,
        };
        let postal = match rng.below(10) {
            // A letter preference needs an address (the customer rules refuse it otherwise).
            0 if preferred != Some("letter") => None,
            1 => Some("research"),
            _ => Some("ok"),
        };
        people.push(Person {
            last_name: format!("Muster {i}"),
            preferred,
            email,
            email_consent,
            letter_consent,
            postal,
            deceased: i == 17,
            ads_blocked: rng.chance(1, 20),
            inbound_email: if rng.chance(1, 4) {
                rng.below(3) as i64
            } else {
                0
            },
            inbound_letter: if rng.chance(1, 4) {
                rng.below(3) as i64
            } else {
                0
            },
            inbound_calls: rng.below(2) as i64,
            ..Person::default()
        });
    }
    let all = Person {
        email: true,
        email_consent: Some("granted"),
        letter_consent: Some("granted"),
        postal: Some("ok"),
        ..Person::default()
    };
    let hand = [
        // Preference letter, everything consented: letter.
        Person {
            last_name: "Hand Brief".into(),
            preferred: Some("letter"),
            inbound_email: 4,
            expect: Some("letter"),
            ..all.clone()
        },
        // No preference, wrote us letters more often than emails: letter.
        Person {
            last_name: "Hand Schreiber".into(),
            inbound_letter: 2,
            inbound_email: 1,
            inbound_calls: 9,
            expect: Some("letter"),
            ..all.clone()
        },
        // No preference, no history: email first.
        Person {
            last_name: "Hand Standard".into(),
            expect: Some("email"),
            ..all.clone()
        },
        // Prefers email but revoked it: falls back to the letter.
        Person {
            last_name: "Hand Widerruf".into(),
            preferred: Some("email"),
            email_consent: Some("revoked"),
            expect: Some("letter"),
            ..all.clone()
        },
        // Email revoked, address under research: unreachable.
        Person {
            last_name: "Hand Unbekannt".into(),
            email_consent: Some("revoked"),
            postal: Some("research"),
            expect: Some("unreachable:no_email_consent+address_research"),
            ..all.clone()
        },
        // Reported deceased: nothing, whatever else is true.
        Person {
            last_name: "Hand Verstorben".into(),
            deceased: true,
            expect: Some("unreachable:deceased"),
            ..all.clone()
        },
        // Refused postal advertising, no email: unreachable.
        Person {
            last_name: "Hand Werbeverbot".into(),
            email: false,
            email_consent: None,
            ads_blocked: true,
            expect: Some("unreachable:no_email_address+postal_ads_blocked"),
            ..all.clone()
        },
    ];
    people.extend(hand);
    people
}

async fn exec(app: &App, sql: &str, id: i64) {
    let mut tx = app.store.begin_write().await.unwrap();
    match tx.db() {
        kundo_store::Db::Sqlite(c) => {
            sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
                .bind(id)
                .execute(&mut *c)
                .await
                .unwrap();
        }
        kundo_store::Db::Postgres(c) => {
            sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
                .bind(id)
                .execute(&mut *c)
                .await
                .unwrap();
        }
    }
    tx.commit().await.unwrap();
}

async fn id_of(app: &App, number: &str) -> i64 {
    let mut conn = app.store.acquire().await.unwrap();
    kundo_store::customers::resolve_number(&mut conn.db(), number)
        .await
        .unwrap()
        .unwrap()
}

async fn load(app: &App, people: &mut [Person]) {
    app.upsert_stores(
        &Actor::cli(),
        vec![StoreRow {
            code: "ZH01".into(),
            name: "Zürich".into(),
            channel: "store".into(),
            street: None,
            postcode: None,
            city: None,
            country: Some("CH".into()),
        }],
    )
    .await
    .unwrap();
    for (i, p) in people.iter_mut().enumerate() {
        let mut consents = Vec::new();
        if let Some(s) = p.email_consent {
            consents.push(json!({"channel": "email", "status": s, "source": "test"}));
        }
        if let Some(s) = p.letter_consent {
            consents.push(json!({"channel": "letter", "status": s, "source": "test"}));
        }
        let addresses: Vec<Value> = if p.postal.is_some() {
            vec![
                json!({"street": "Seestrasse", "house_number": i.to_string(), "postcode": format!("{}", 8000 + i), "city": "Zürich"}),
            ]
        } else {
            Vec::new()
        };
        let input: CustomerInput = serde_json::from_value(json!({
            "salutation": "Frau", "first_name": "Kim", "last_name": p.last_name,
            "email": p.email.then(|| format!("kim{i}@example.ch")),
            "language": "de", "preferred_channel": p.preferred,
            "addresses": addresses, "consents": consents,
            "phones": [{"kind": "mobile", "number": format!("079 {} {:02} 11", 200 + i, i % 100)}]
        }))
        .unwrap();
        p.number = match app
            .create_customer(&Actor::cli(), input, None, DuplicateCheck::CreateAnyway)
            .await
        {
            Ok(Created::New(v)) => v.customer_number,
            Ok(_) => panic!("replayed"),
            Err(e) => panic!("{e:?}"),
        };
        let id = id_of(app, &p.number).await;
        if p.postal == Some("research") {
            exec(
                app,
                "UPDATE addresses SET postal_status = 'research' WHERE customer_id = $1",
                id,
            )
            .await;
        }
        if p.deceased {
            exec(
                app,
                "UPDATE customers SET reported_deceased_at = updated_at WHERE id = $1",
                id,
            )
            .await;
        }
        if p.ads_blocked {
            exec(
                app,
                "UPDATE customers SET postal_ads_blocked = TRUE WHERE id = $1",
                id,
            )
            .await;
        }
        for (kind, channel, n) in [
            ("email", "email", p.inbound_email),
            ("letter", "letter", p.inbound_letter),
            ("call", "phone", p.inbound_calls),
        ] {
            for _ in 0..n {
                app.log_activity(
                    &Actor::cli(),
                    &p.number,
                    ActivityInput {
                        kind: kind.into(),
                        channel: Some(channel.into()),
                        direction: Some("inbound".into()),
                        subject: "Frage".into(),
                        body: None,
                        occurred_at: None,
                    },
                )
                .await
                .unwrap();
            }
        }
        // An outbound letter is no statement of the customer's channel.
        if i % 7 == 0 {
            app.log_activity(
                &Actor::cli(),
                &p.number,
                ActivityInput {
                    kind: "letter".into(),
                    channel: Some("letter".into()),
                    direction: Some("outbound".into()),
                    subject: "Info".into(),
                    body: None,
                    occurred_at: None,
                },
            )
            .await
            .unwrap();
        }
    }
}

fn expected(p: &Person) -> String {
    match rules::choose_channel(&p.reach(), &[Channel::Email, Channel::Letter]) {
        Choice::Contact(c) => c.as_str().to_string(),
        Choice::Unreachable(r) => format!("unreachable:{r}"),
    }
}

fn input(name: &str, segment_id: i64, seed: i64) -> CampaignInput {
    serde_json::from_value(json!({
        "name": name, "segment_id": segment_id, "value_type": "percent", "value": 1000,
        "validity_days": 28, "control_share_bp": 1000, "seed": seed
    }))
    .unwrap()
}

async fn all_members(app: &App, id: i64) -> Vec<kundo_store::campaigns::MemberRow> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = app.campaign_members(id, None, after, 50).await.unwrap();
        out.extend(page.items);
        match page.next_cursor {
            Some(c) => after = Some(c.parse().unwrap()),
            None => return out,
        }
    }
}

fn receipt(number: &str, external_id: &str, amount: i64) -> ReceiptInput {
    ReceiptInput {
        source: "pos-ZH01".into(),
        external_id: external_id.into(),
        store_code: Some("ZH01".into()),
        channel: "store".into(),
        occurred_at: Utc::now().to_rfc3339(),
        currency: "CHF".into(),
        card_number: None,
        customer_number: Some(number.into()),
        lines: vec![LineInput {
            sku: "P-1".into(),
            category: "Papier".into(),
            quantity: 1,
            amount,
        }],
    }
}

#[tokio::test]
async fn campaigns_on_both_backends() {
    for (store, _dir) in testing::all().await {
        let db = store.backend().name();
        let app = App::new(store);
        let actor = Actor::cli();
        let mut people = generate();
        load(&app, &mut people).await;
        let n = people.len();
        let segment = app
            .create_segment(
                &actor,
                SegmentInput {
                    name: "Alle Personen".into(),
                    definition: json!({"field": "kind", "op": "eq", "value": "person"}),
                    kind: None,
                },
                Utc::now().date_naive(),
            )
            .await
            .unwrap();

        // Validation names the field.
        let mut bad = input("kaputt", segment.id, 1);
        bad.control_share_bp = 20_000;
        bad.channels = vec!["fax".into()];
        match app.create_campaign(&actor, bad).await {
            Err(AppError::Invalid(errs)) => {
                let fields: BTreeSet<String> = errs.into_iter().map(|e| e.field).collect();
                assert!(fields.contains("control_share_bp"), "{db}: {fields:?}");
                assert!(fields.contains("channels[0]"), "{db}: {fields:?}");
            }
            other => panic!("{db}: {other:?}"),
        }
        match app.create_campaign(&actor, input("x", 999_999, 1)).await {
            Err(AppError::Invalid(errs)) => assert_eq!(errs[0].field, "segment_id", "{db}"),
            other => panic!("{db}: {other:?}"),
        }

        let c = app
            .create_campaign(&actor, input("Frühling", segment.id, 4711))
            .await
            .unwrap();
        assert_eq!(c.campaign.state, "draft");
        assert!(matches!(
            app.create_campaign(&actor, input("Frühling", segment.id, 1))
                .await,
            Err(AppError::Conflict { .. })
        ));
        let id = c.campaign.id;

        // Interrupted after one step of 30 vouchers: running, exactly 30 issued.
        let partial = app
            .start_campaign(
                &actor,
                id,
                StartLimit {
                    max_steps: Some(1),
                    step: Some(30),
                },
            )
            .await
            .unwrap();
        assert_eq!(partial.campaign.state, "running", "{db}");
        assert_eq!(partial.campaign.vouchers_issued, 30, "{db}");
        let done = app
            .start_campaign(&actor, id, StartLimit::default())
            .await
            .unwrap();
        assert_eq!(done.campaign.state, "done", "{db}");
        let again = app
            .start_campaign(&actor, id, StartLimit::default())
            .await
            .unwrap();
        assert_eq!(
            again.campaign.vouchers_issued, done.campaign.vouchers_issued,
            "{db}"
        );

        // Members: every customer once, the control group of the exact size, reproducible.
        let members = all_members(&app, id).await;
        assert_eq!(members.len(), n, "{db}");
        let numbers: BTreeSet<&str> = members.iter().map(|m| m.customer_number.as_str()).collect();
        assert_eq!(numbers.len(), n, "{db}: a member twice");
        let control: BTreeSet<String> = members
            .iter()
            .filter(|m| m.group == "control")
            .map(|m| m.customer_number.clone())
            .collect();
        assert_eq!(control.len(), (n * 1000 + 5000) / 10000, "{db}");
        assert_eq!(done.campaign.control_members, control.len() as i64);
        assert_eq!(done.campaign.target_members, (n - control.len()) as i64);
        let mut ids = Vec::new();
        let mut number_of = BTreeMap::new();
        for p in &people {
            let cid = id_of(&app, &p.number).await;
            ids.push(cid);
            number_of.insert(cid, p.number.clone());
        }
        let drawn: BTreeSet<String> = rules::draw_control(4711, 1000, &ids)
            .into_iter()
            .map(|c| number_of[&c].clone())
            .collect();
        assert_eq!(drawn, control, "{db}: the draw is the seed's");

        // The channel of every member, as the rule says; hand-built cases literally.
        let by_number: BTreeMap<&str, &kundo_store::campaigns::MemberRow> = members
            .iter()
            .map(|m| (m.customer_number.as_str(), m))
            .collect();
        let mut unreachable_targets = 0;
        let mut letters = BTreeSet::new();
        let mut emails = BTreeSet::new();
        for p in &people {
            let m = by_number[p.number.as_str()];
            let got = match (&m.channel, &m.unreachable_reason) {
                (Some(c), None) => c.clone(),
                (None, Some(r)) => format!("unreachable:{r}"),
                other => panic!("{db}: {other:?}"),
            };
            assert_eq!(got, expected(p), "{db}: {}", p.last_name);
            if let Some(e) = p.expect {
                assert_eq!(got, e, "{db}: {}", p.last_name);
            }
            if m.group == "control" {
                assert!(m.voucher_code.is_none(), "{db}: control with a voucher");
                continue;
            }
            match m.channel.as_deref() {
                None => {
                    unreachable_targets += 1;
                    assert!(m.voucher_code.is_none());
                }
                Some(ch) => {
                    assert!(m.voucher_code.is_some(), "{db}: reachable without voucher");
                    if ch == "letter" {
                        letters.insert(p.number.clone());
                    } else {
                        emails.insert(p.number.clone());
                    }
                }
            }
        }
        assert!(unreachable_targets > 5 && !letters.is_empty() && !emails.is_empty());
        assert_eq!(done.campaign.unreachable, unreachable_targets, "{db}");
        assert_eq!(done.campaign.letter_members, letters.len() as i64);
        assert_eq!(done.campaign.email_members, emails.len() as i64);
        assert_eq!(
            done.campaign.vouchers_issued,
            (letters.len() + emails.len()) as i64,
            "{db}"
        );

        // Exactly one campaign voucher per reachable target member, none for anyone else;
        // one contact each on the timeline.
        for p in &people {
            let vouchers = app.customer_vouchers(&p.number).await.unwrap();
            let campaign: Vec<_> = vouchers.iter().filter(|v| v.kind == "campaign").collect();
            let reached = letters.contains(&p.number) || emails.contains(&p.number);
            assert_eq!(campaign.len(), usize::from(reached), "{db}: {}", p.number);
            if let Some(v) = campaign.first() {
                assert_eq!(v.value_type, "percent");
                assert_eq!(v.value, 1000);
                assert_eq!((v.valid_until - v.valid_from).num_days(), 28);
            }
            let timeline = app.timeline(&p.number, None, None, 100).await.unwrap();
            let contacts: Vec<_> = timeline
                .items
                .iter()
                .filter(|e| e.reference.as_deref() == Some(&format!("campaign:{id}")))
                .collect();
            assert_eq!(contacts.len(), usize::from(reached), "{db}: {}", p.number);
            if let Some(e) = contacts.first() {
                let ch = if letters.contains(&p.number) {
                    "letter"
                } else {
                    "email"
                };
                assert_eq!(e.kind, ch);
                assert_eq!(e.direction.as_deref(), Some("outbound"));
            }
        }

        // The files: one lettershop row per letter member, one email row per email member.
        let csv = app.campaign_file(id, "lettershop").await.unwrap();
        let mut r = csv::Reader::from_reader(csv.as_bytes());
        let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        let in_file: BTreeSet<String> = rows.iter().map(|r| r[0].to_string()).collect();
        assert_eq!(in_file, letters, "{db}");
        assert_eq!(rows.len(), letters.len());
        assert!(rows[0][19].ends_with(&format!("/campaign-{id}")));
        assert_eq!(&rows[0][17], "Frühling");
        assert_eq!(&rows[0][14], "10.00%");
        let csv = app.campaign_file(id, "email").await.unwrap();
        let mut r = csv::Reader::from_reader(csv.as_bytes());
        assert_eq!(
            r.headers().unwrap().iter().collect::<Vec<_>>(),
            kundo_app::campaigns::EMAIL_COLUMNS
        );
        let in_file: BTreeSet<String> = r.records().map(|r| r.unwrap()[0].to_string()).collect();
        assert_eq!(in_file, emails, "{db}");

        // The same seed over the same segment draws the same control group.
        let twin = app
            .create_campaign(&actor, input("Zwilling", segment.id, 4711))
            .await
            .unwrap();
        app.start_campaign(&actor, twin.campaign.id, StartLimit::default())
            .await
            .unwrap();
        let twin_control: BTreeSet<String> = all_members(&app, twin.campaign.id)
            .await
            .into_iter()
            .filter(|m| m.group == "control")
            .map(|m| m.customer_number)
            .collect();
        assert_eq!(twin_control, control, "{db}");

        // Results after some redemptions: 3 with the receipt's id, 2 without a matching one
        // (their receipts of the day count), purchases of 4 control members.
        let targets: Vec<&kundo_store::campaigns::MemberRow> = members
            .iter()
            .filter(|m| m.voucher_code.is_some())
            .take(5)
            .collect();
        let till = Actor {
            name: "apikey:pos".into(),
            scopes: vec!["receipts:write".into()],
            csrf_token: None,
        };
        let mut expected_revenue = 0;
        for (k, m) in targets.iter().enumerate() {
            let number = &m.customer_number;
            let amount = 10_000 + 1_000 * k as i64;
            let mut batch = vec![receipt(number, &format!("R-{number}"), amount)];
            if k >= 3 {
                // A second receipt the same day counts too when no reference matches.
                batch.push(receipt(number, &format!("R2-{number}"), 500));
                expected_revenue += 500;
            }
            for b in app.book_receipts(&till, batch).await.unwrap() {
                b.unwrap();
            }
            expected_revenue += amount;
            let receipt_ref = if k < 3 {
                Some(format!("R-{number}"))
            } else {
                Some("unbekannt".to_string())
            };
            app.redeem_voucher(
                &actor,
                m.voucher_code.as_deref().unwrap(),
                &UseRequest {
                    channel: "store".into(),
                    store_code: Some("ZH01".into()),
                    basket_amount: Some(amount),
                    receipt_ref,
                },
            )
            .await
            .unwrap();
        }
        let controls: Vec<&String> = control.iter().take(4).collect();
        for number in &controls {
            for b in app
                .book_receipts(&till, vec![receipt(number, &format!("C-{number}"), 7_000)])
                .await
                .unwrap()
            {
                b.unwrap();
            }
        }
        let res = app.campaign_results(id).await.unwrap();
        let issued = done.campaign.vouchers_issued;
        assert_eq!(res.vouchers_issued, issued, "{db}");
        assert_eq!(res.redeemed, 5, "{db}");
        assert_eq!(res.redemption_rate, Some(5.0 / issued as f64), "{db}");
        assert_eq!(res.redemption_revenue, expected_revenue, "{db}");
        let targets_n = done.campaign.target_members;
        assert_eq!(res.figures.target.members, targets_n);
        assert_eq!(res.figures.target.buyers, 5);
        assert_eq!(res.figures.control.buyers, 4);
        assert_eq!(res.figures.control.revenue, 28_000);
        assert_eq!(res.figures.target.revenue, expected_revenue);
        let u = res.figures.purchase_rate_uplift.unwrap();
        let d = 5.0 / targets_n as f64 - 4.0 / control.len() as f64;
        assert!((u.value - d).abs() < 1e-12, "{db}");
        assert!(u.low < u.value && u.value < u.high);
        assert!(res.figures.revenue_per_member_uplift.is_some());
        assert_eq!(
            res.figures
                .by_orders
                .iter()
                .map(|c| c.target.members + c.control.members)
                .sum::<i64>(),
            n as i64
        );
        assert_eq!(res.figures.by_rfm.len(), 1);
        assert_eq!(res.figures.by_rfm[0].key, "unscored");
        let today = Utc::now().date_naive().to_string();
        let day = res.daily.iter().find(|d| d.day == today).unwrap();
        assert_eq!(day.redemptions, 5, "{db}");
        assert_eq!(day.target_purchases, 7, "{db}");
        assert_eq!(day.control_purchases, 4, "{db}");
    }
}
