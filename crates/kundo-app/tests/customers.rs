//! The customer master on both backends: every test runs against SQLite and, when configured
//! (always in CI), a fresh PostgreSQL database.

use kundo_app::customers::{Created, CustomerView, Idempotency};
use kundo_app::{Actor, App, AppError};
use kundo_core::attributes::{AttrType, AttributeDefinition};
use kundo_core::customer::CustomerInput;
use kundo_store::customers::{ListFilter, LookupKey};
use kundo_store::testing;
use serde_json::{Value, json};

fn clerk() -> Actor {
    Actor {
        name: "user:clerk".into(),
        scopes: vec!["customers:write".into()],
        csrf_token: None,
    }
}

fn anna() -> Value {
    json!({"kind": "person", "salutation": "Frau", "first_name": "Anna", "last_name": "Müller",
        "birth_date": "1980-02-29", "gender": "female", "language": "de",
        "email": "Anna.Mueller@Example.ch", "phones": [{"kind": "mobile", "number": "079 123 45 67"}],
        "addresses": [{"street": "Bahnhofstrasse", "house_number": "12a", "postcode": "8001", "city": "Zürich", "country": "CH"}],
        "card_numbers": ["2900123456785"], "preferred_channel": "email",
        "consents": [{"channel": "email", "status": "granted", "source": "webshop-doi", "recorded_at": "2026-11-01T09:00:00Z"}]})
}

async fn create(app: &App, v: Value) -> Result<CustomerView, AppError> {
    let input: CustomerInput = serde_json::from_value(v).expect("input shape");
    match app
        .create_customer(
            &clerk(),
            input,
            None,
            kundo_app::customers::DuplicateCheck::Refuse,
        )
        .await?
    {
        Created::New(view) => Ok(*view),
        Created::Replayed { .. } => panic!("no idempotency key was given"),
    }
}

/// For tests about something else that need a second record resembling Anna.
async fn create_anyway(app: &App, v: Value) -> Result<CustomerView, AppError> {
    let input: CustomerInput = serde_json::from_value(v).expect("input shape");
    match app
        .create_customer(
            &clerk(),
            input,
            None,
            kundo_app::customers::DuplicateCheck::CreateAnyway,
        )
        .await?
    {
        Created::New(view) => Ok(*view),
        Created::Replayed { .. } => panic!("no idempotency key was given"),
    }
}

async fn count(app: &App) -> i64 {
    let mut c = app.store.acquire().await.unwrap();
    kundo_store::customers::count(&mut c.db()).await.unwrap()
}

async fn backends() -> Vec<(App, Option<testing::TempDir>, &'static str)> {
    testing::all()
        .await
        .into_iter()
        .map(|(s, d)| {
            let name = s.backend().name();
            (App::new(s), d, name)
        })
        .collect()
}

#[tokio::test]
async fn a_created_customer_reads_back_normalized_with_audit_and_event() {
    for (app, _d, db) in backends().await {
        let c = create(&app, anna()).await.unwrap();
        assert!(kundo_core::contact::luhn_valid(&c.customer_number), "{db}");
        assert_eq!(c.email.as_deref(), Some("anna.mueller@example.ch"), "{db}");
        assert_eq!(c.phones[0].number, "+41791234567", "{db}");
        assert_eq!(c.addresses[0].postal_status, "ok", "{db}");
        assert_eq!(c.card_numbers, vec!["2900123456785"], "{db}");
        assert_eq!(c.consents.len(), 1, "{db}");
        assert_eq!(c.version, 1, "{db}");
        let again = app.customer(&c.customer_number).await.unwrap();
        assert_eq!(again.last_name.as_deref(), Some("Müller"), "{db}");
        assert_eq!(
            again.birth_date,
            chrono::NaiveDate::from_ymd_opt(1980, 2, 29),
            "{db}"
        );
        let audit = app
            .customer_audit(&c.customer_number, None, 10)
            .await
            .unwrap();
        assert_eq!(audit.items.len(), 1, "{db}");
        assert_eq!(audit.items[0].actor, "user:clerk", "{db}");
        assert_eq!(audit.items[0].action, "customer.created", "{db}");
        let events = app.events(0, 10).await.unwrap();
        assert_eq!(events.items[0].event_type, "customer.created", "{db}");
        assert_eq!(
            events.items[0].data["customer_number"],
            json!(c.customer_number),
            "{db}"
        );
    }
}

#[tokio::test]
async fn a_card_number_in_use_is_refused_and_nothing_is_written() {
    for (app, _d, db) in backends().await {
        create(&app, anna()).await.unwrap();
        let mut other = anna();
        other["first_name"] = json!("Berta");
        other["email"] = json!("berta@example.ch");
        match create(&app, other).await {
            Err(AppError::Conflict { field, .. }) => assert_eq!(field, "card_numbers[0]", "{db}"),
            other => panic!("{db}: expected a conflict, got {other:?}"),
        }
        assert_eq!(count(&app).await, 1, "{db}");
        assert_eq!(app.events(0, 10).await.unwrap().items.len(), 1, "{db}");
    }
}

#[tokio::test]
async fn an_address_change_keeps_the_old_address_and_a_removed_card_stops_resolving() {
    for (app, _d, db) in backends().await {
        let c = create(&app, anna()).await.unwrap();
        let patch = json!({"addresses": [{"street": "Seefeldstrasse", "house_number": "5", "postcode": "8008", "city": "Zürich"}],
                           "card_numbers": ["2900000000018"]});
        let changed = app
            .update_customer(
                &clerk(),
                &c.customer_number,
                patch.as_object().unwrap(),
                Some(1),
            )
            .await
            .unwrap();
        assert_eq!(changed.version, 2, "{db}");
        assert_eq!(changed.addresses.len(), 1, "{db}");
        assert_eq!(changed.addresses[0].street, "Seefeldstrasse", "{db}");
        assert_eq!(changed.address_history.len(), 1, "{db}");
        assert_eq!(changed.address_history[0].street, "Bahnhofstrasse", "{db}");
        assert!(changed.address_history[0].valid_until.is_some(), "{db}");
        assert!(
            matches!(
                app.lookup(LookupKey::Card("2900123456785")).await,
                Err(AppError::NotFound(_))
            ),
            "{db}"
        );
        assert_eq!(
            app.lookup(LookupKey::Card("2900000000018"))
                .await
                .unwrap()
                .customer_number,
            c.customer_number,
            "{db}"
        );
        // The retired card stays bound to Anna: nobody else may take it.
        let mut other = anna();
        other["email"] = json!("x@example.ch");
        other["card_numbers"] = json!(["2900123456785"]);
        assert!(
            matches!(create(&app, other).await, Err(AppError::Conflict { .. })),
            "{db}"
        );
        // A stale version is refused.
        let stale = app
            .update_customer(
                &clerk(),
                &c.customer_number,
                json!({"title": "Dr."}).as_object().unwrap(),
                Some(1),
            )
            .await;
        assert!(matches!(stale, Err(AppError::Stale)), "{db}");
        let audit = app
            .customer_audit(&c.customer_number, None, 10)
            .await
            .unwrap();
        assert_eq!(audit.items[0].action, "customer.updated", "{db}");
        assert!(
            audit.items[0].changes["addresses"]["old"].is_array(),
            "{db}"
        );
        assert!(
            audit.items[0].changes["card_numbers"]["new"].is_array(),
            "{db}"
        );
    }
}

#[tokio::test]
async fn consents_are_appended_and_the_latest_statement_wins() {
    for (app, _d, db) in backends().await {
        let c = create(&app, anna()).await.unwrap();
        let patch = json!({"consents": [{"channel": "email", "status": "revoked", "source": "call-centre", "recorded_at": "2026-11-10T09:00:00Z"}]});
        let changed = app
            .update_customer(
                &clerk(),
                &c.customer_number,
                patch.as_object().unwrap(),
                None,
            )
            .await
            .unwrap();
        assert_eq!(changed.consents.len(), 1, "{db}");
        assert_eq!(changed.consents[0].status, "revoked", "{db}");
        assert_eq!(changed.consent_history.len(), 2, "{db}");
    }
}

#[tokio::test]
async fn lookup_finds_by_card_phone_email_and_number() {
    for (app, _d, db) in backends().await {
        let c = create(&app, anna()).await.unwrap();
        for key in [
            LookupKey::Card("2900123456785"),
            LookupKey::Phone("+41791234567"),
            LookupKey::Email("anna.mueller@example.ch"),
            LookupKey::Number(&c.customer_number),
        ] {
            let found = app
                .lookup(key)
                .await
                .unwrap_or_else(|e| panic!("{db}: {key:?}: {e}"));
            assert_eq!(found.customer_number, c.customer_number, "{db}");
            assert_eq!(found.balance, 0, "{db}");
        }
        assert!(
            matches!(
                app.lookup(LookupKey::Card("2900000000001")).await,
                Err(AppError::NotFound(_))
            ),
            "{db}"
        );
    }
}

#[tokio::test]
async fn search_is_tolerant_of_umlaut_spellings_and_ranks_exact_names_first() {
    for (app, _d, db) in backends().await {
        let c = create(&app, anna()).await.unwrap();
        let mut schm = anna();
        schm["last_name"] = json!("Schmüllerson");
        schm["email"] = json!("s@example.ch");
        schm["card_numbers"] = json!([]);
        schm["phones"] = json!([]);
        // Same first name, birth date and address: the duplicate check would ask (a name
        // change at marriage looks like this); here it is another person.
        let s = create_anyway(&app, schm).await.unwrap();
        for q in [
            "Müller",
            "mueller",
            "MULLER",
            "anna müller",
            "8001 müller",
            "079 123 45 67",
            "anna.mueller@example.ch",
            "2900123456785",
        ] {
            let hits = app.search(q, 10).await.unwrap();
            assert_eq!(
                hits.first().map(|h| h.customer.customer_number.as_str()),
                Some(c.customer_number.as_str()),
                "{db}: {q}"
            );
        }
        let hits = app.search("schmueller", 10).await.unwrap();
        assert_eq!(hits.len(), 1, "{db}");
        assert_eq!(hits[0].customer.customer_number, s.customer_number, "{db}");
        assert!(
            matches!(app.search("mx", 10).await, Err(AppError::Invalid(_))),
            "{db}"
        );
        assert!(app.search("zzzqqq", 10).await.unwrap().is_empty(), "{db}");
    }
}

#[tokio::test]
async fn custom_attributes_are_validated_returned_and_filterable() {
    for (app, _d, db) in backends().await {
        let admin = Actor::cli();
        app.define_attribute(
            &admin,
            AttributeDefinition {
                name: "branche".into(),
                label: Some("Branche".into()),
                attr_type: AttrType::Enum,
                allowed_values: vec!["Architektur".into(), "Schule".into()],
                required: false,
            },
        )
        .await
        .unwrap();
        app.define_attribute(
            &admin,
            AttributeDefinition {
                name: "mitarbeitende".into(),
                label: None,
                attr_type: AttrType::Integer,
                allowed_values: vec![],
                required: false,
            },
        )
        .await
        .unwrap();
        let dup = app
            .define_attribute(
                &admin,
                AttributeDefinition {
                    name: "branche".into(),
                    label: None,
                    attr_type: AttrType::String,
                    allowed_values: vec![],
                    required: false,
                },
            )
            .await;
        assert!(matches!(dup, Err(AppError::Conflict { .. })), "{db}");
        let mut v = anna();
        v["attributes"] = json!({"branche": "Architektur", "mitarbeitende": 12});
        let c = create(&app, v).await.unwrap();
        assert_eq!(c.attributes["branche"], json!("Architektur"), "{db}");
        assert_eq!(c.attributes["mitarbeitende"], json!(12), "{db}");
        let mut bad = anna();
        bad["card_numbers"] = json!([]);
        bad["attributes"] = json!({"branche": "Bank"});
        match create(&app, bad.clone()).await {
            Err(AppError::Invalid(errs)) => assert_eq!(errs[0].field, "attributes.branche", "{db}"),
            other => panic!("{db}: {other:?}"),
        }
        bad["attributes"] = json!({"farbe": "rot"});
        match create(&app, bad).await {
            Err(AppError::Invalid(errs)) => assert_eq!(errs[0].field, "attributes.farbe", "{db}"),
            other => panic!("{db}: {other:?}"),
        }
        let mut other = anna();
        other["email"] = json!("o@example.ch");
        other["card_numbers"] = json!([]);
        other["attributes"] = json!({"branche": "Schule"});
        create_anyway(&app, other).await.unwrap();
        let page = app
            .list_customers(ListFilter {
                attributes: vec![("branche".into(), "Architektur".into())],
                limit: 50,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(page.items.len(), 1, "{db}");
        assert_eq!(page.items[0].customer_number, c.customer_number, "{db}");
        // In use: the definition cannot be deleted.
        assert!(
            matches!(
                app.delete_attribute(&admin, "branche").await,
                Err(AppError::Conflict { .. })
            ),
            "{db}"
        );
    }
}

#[tokio::test]
async fn lists_filter_by_built_in_fields_and_paginate_by_cursor() {
    for (app, _d, db) in backends().await {
        app.generate_demo(120, 3, 10, &|_| {}).await.unwrap();
        let all = app
            .list_customers(ListFilter {
                limit: 500,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(all.items.len(), 120, "{db}");
        let mut seen = 0;
        let mut cursor = None;
        loop {
            let page = app
                .list_customers(ListFilter {
                    limit: 50,
                    after_id: cursor,
                    ..Default::default()
                })
                .await
                .unwrap();
            seen += page.items.len();
            match page.next_cursor {
                Some(c) => cursor = Some(c.parse().unwrap()),
                None => break,
            }
        }
        assert_eq!(seen, 120, "{db}");
        let ch = app
            .list_customers(ListFilter {
                country: Some("CH".into()),
                limit: 500,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(!ch.items.is_empty() && ch.items.len() < 120, "{db}");
        assert!(
            ch.items.iter().all(|c| c.country.as_deref() == Some("CH")),
            "{db}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_with_one_idempotency_key_create_one_customer() {
    for (app, _d, db) in backends().await {
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let app = app.clone();
            tasks.push(tokio::spawn(async move {
                let input: CustomerInput = serde_json::from_value(anna()).unwrap();
                app.create_customer(
                    &clerk(),
                    input,
                    Some(Idempotency {
                        key: "k-1".into(),
                        request_hash: "h".into(),
                    }),
                    kundo_app::customers::DuplicateCheck::Refuse,
                )
                .await
            }));
        }
        let mut new = 0;
        let mut replayed = 0;
        for t in tasks {
            match t.await.unwrap().unwrap_or_else(|e| panic!("{db}: {e:?}")) {
                Created::New(_) => new += 1,
                Created::Replayed { status, body } => {
                    assert_eq!(status, 201, "{db}");
                    assert!(body.contains("2900123456785"), "{db}");
                    replayed += 1;
                }
            }
        }
        assert_eq!((new, replayed), (1, 7), "{db}");
        assert_eq!(count(&app).await, 1, "{db}");
        // The same key with another request is refused.
        let input: CustomerInput = serde_json::from_value(anna()).unwrap();
        let other = app
            .create_customer(
                &clerk(),
                input,
                Some(Idempotency {
                    key: "k-1".into(),
                    request_hash: "other".into(),
                }),
                kundo_app::customers::DuplicateCheck::Refuse,
            )
            .await;
        assert!(matches!(other, Err(AppError::Conflict { .. })), "{db}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_concurrent_changes_to_one_version_exactly_one_wins() {
    for (app, _d, db) in backends().await {
        let c = create(&app, anna()).await.unwrap();
        let mut tasks = Vec::new();
        for i in 0..8 {
            let app = app.clone();
            let number = c.customer_number.clone();
            tasks.push(tokio::spawn(async move {
                let patch = json!({"title": format!("T{i}")});
                app.update_customer(&clerk(), &number, patch.as_object().unwrap(), Some(1))
                    .await
            }));
        }
        let mut ok = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => ok += 1,
                Err(AppError::Stale) => {}
                Err(e) => panic!("{db}: {e:?}"),
            }
        }
        assert_eq!(ok, 1, "{db}");
        assert_eq!(
            app.customer(&c.customer_number).await.unwrap().version,
            2,
            "{db}"
        );
    }
}

#[tokio::test]
async fn api_keys_authenticate_until_revoked_and_only_their_hash_is_stored() {
    for (app, _d, db) in backends().await {
        let key = app
            .create_api_key(&Actor::cli(), "pos", &["customers:read".into()])
            .await
            .unwrap();
        let actor = app
            .authenticate_key(&key.key)
            .await
            .unwrap()
            .expect("valid key");
        assert!(
            actor.allows("customers:read") && !actor.allows("customers:write"),
            "{db}"
        );
        assert!(
            app.authenticate_key("kd_wrong").await.unwrap().is_none(),
            "{db}"
        );
        let mut c = app.store.acquire().await.unwrap();
        let rows = kundo_store::auth::api_keys(&mut c.db()).await.unwrap();
        assert_eq!(rows.len(), 1, "{db}");
        assert!(!rows[0].prefix.contains(&key.key[12..]), "{db}");
        drop(c);
        app.revoke_api_key(&Actor::cli(), key.id).await.unwrap();
        assert!(
            app.authenticate_key(&key.key).await.unwrap().is_none(),
            "{db}"
        );
        assert!(
            app.create_api_key(&Actor::cli(), "x", &["nope".into()])
                .await
                .is_err(),
            "{db}"
        );
    }
}

#[tokio::test]
async fn logins_open_sessions_that_carry_the_role_scopes() {
    for (app, _d, db) in backends().await {
        app.create_user(
            &Actor::cli(),
            "sandra",
            "a long password",
            kundo_core::auth::Role::Store,
        )
        .await
        .unwrap();
        assert!(
            matches!(
                app.login("sandra", "wrong password").await,
                Err(AppError::Unauthorized(_))
            ),
            "{db}"
        );
        assert!(
            matches!(
                app.login("nobody", "a long password").await,
                Err(AppError::Unauthorized(_))
            ),
            "{db}"
        );
        let s = app.login("sandra", "a long password").await.unwrap();
        let actor = app.session_actor(&s.token).await.unwrap().expect("session");
        assert!(
            actor.allows("vouchers:redeem") && !actor.allows("segments:read"),
            "{db}"
        );
        app.logout(&s.token).await.unwrap();
        assert!(app.session_actor(&s.token).await.unwrap().is_none(), "{db}");
    }
}
