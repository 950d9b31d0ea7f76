//! Tasks, cases and the customer timeline on both backends (DOMAIN §11).

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, DurationRound, Utc};
use kundo_app::cases::{CaseInput, CaseStatusInput};
use kundo_app::customers::Created;
use kundo_app::receipts::{LineInput, ReceiptInput, ReturnInput, ReturnLineInput};
use kundo_app::tasks::TaskInput;
use kundo_app::timeline::ActivityInput;
use kundo_app::vouchers::VoucherTemplate;
use kundo_app::{Actor, App, AppError};
use kundo_core::customer::CustomerInput;
use kundo_store::activities::NewActivity;
use kundo_store::loyalty::StoreRow;
use kundo_store::tasks::{TaskCursor, TaskFilter};
use kundo_store::testing;
use kundo_store::timeline::TimelineCursor;
use serde_json::{Map, Value, json};

fn clerk() -> Actor {
    Actor {
        name: "user:clerk".into(),
        scopes: vec!["customers:write".into(), "tasks:write".into()],
        csrf_token: None,
    }
}

async fn backends() -> Vec<(App, Option<testing::TempDir>, &'static str)> {
    let mut out = Vec::new();
    for (store, dir) in testing::all().await {
        let db = store.backend().name();
        let app = App::new(store);
        app.upsert_stores(
            &Actor::cli(),
            vec![StoreRow {
                code: "ZH01".into(),
                name: "Filiale Zürich".into(),
                channel: "store".into(),
                street: None,
                postcode: None,
                city: None,
                country: Some("CH".into()),
            }],
        )
        .await
        .unwrap();
        out.push((app, dir, db));
    }
    out
}

async fn customer(app: &App, last_name: &str) -> String {
    let input: CustomerInput = serde_json::from_value(json!({
        "first_name": "Anna", "last_name": last_name,
        "addresses": [{"street": "Bahnhofstrasse", "house_number": "1", "postcode": "8001", "city": "Zürich"}],
    }))
    .unwrap();
    match app
        .create_customer(
            &clerk(),
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

fn task(kind: &str, title: &str, team: Option<&str>, due: Option<&str>) -> TaskInput {
    TaskInput {
        kind: kind.into(),
        title: title.into(),
        description: None,
        team: team.map(str::to_string),
        assignee: None,
        due_date: due.map(str::to_string),
        customer_number: None,
    }
}

fn patch(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

fn invalid_field<T: std::fmt::Debug>(r: Result<T, AppError>) -> String {
    match r {
        Err(AppError::Invalid(e)) => e[0].field.clone(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

async fn event_types(app: &App) -> Vec<String> {
    app.events(0, 1000)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| e.event_type)
        .collect()
}

#[tokio::test]
async fn tasks_are_queued_per_team_by_due_date_and_changed_with_a_version_check() {
    for (app, _d, db) in backends().await {
        let number = customer(&app, "Aufgabe").await;
        let mut callback = task(
            "callback",
            "Rückruf wegen Gutschein",
            Some("service"),
            Some("2026-12-03"),
        );
        callback.customer_number = Some(number.clone());
        let t1 = app.create_task(&clerk(), callback).await.unwrap();
        assert_eq!(t1.status, "open", "{db}");
        assert_eq!(t1.version, 1, "{db}");
        assert_eq!(t1.customer_number.as_deref(), Some(number.as_str()), "{db}");
        let t2 = app
            .create_task(
                &clerk(),
                task("general", "Ohne Termin", Some("service"), None),
            )
            .await
            .unwrap();
        let t3 = app
            .create_task(
                &clerk(),
                task(
                    "general",
                    "Früher fällig",
                    Some("service"),
                    Some("2026-12-01"),
                ),
            )
            .await
            .unwrap();
        let t4 = app
            .create_task(
                &clerk(),
                task(
                    "general",
                    "Gleicher Tag",
                    Some("service"),
                    Some("2026-12-01"),
                ),
            )
            .await
            .unwrap();
        app.create_task(
            &clerk(),
            task(
                "general",
                "Andere Abteilung",
                Some("backoffice"),
                Some("2026-11-01"),
            ),
        )
        .await
        .unwrap();

        // The service queue: by due date (ties by id), tasks without a date last; page by page.
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let page = app
                .list_tasks(
                    TaskFilter {
                        team: Some("service".into()),
                        after: cursor,
                        limit: 2,
                        ..Default::default()
                    },
                    None,
                )
                .await
                .unwrap();
            seen.extend(page.items.iter().map(|t| t.id));
            match page.next_cursor {
                Some(c) => cursor = Some(TaskCursor::decode(&c).unwrap()),
                None => break,
            }
        }
        assert_eq!(seen, vec![t3.id, t4.id, t1.id, t2.id], "{db}");
        let mine = app
            .list_tasks(
                TaskFilter {
                    limit: 50,
                    ..Default::default()
                },
                Some(&number),
            )
            .await
            .unwrap();
        assert_eq!(mine.items.len(), 1, "{db}");
        let due = app
            .list_tasks(
                TaskFilter {
                    due_before: Some("2026-12-02".parse().unwrap()),
                    limit: 50,
                    ..Default::default()
                },
                None,
            )
            .await
            .unwrap();
        assert_eq!(due.items.len(), 3, "{db}");

        // Take the task, then a clerk with the old version is refused.
        let taken = app
            .update_task(
                &clerk(),
                t1.id,
                &patch(json!({"status": "in_progress", "assignee": "anna"})),
                Some(1),
            )
            .await
            .unwrap();
        assert_eq!(
            (taken.version, taken.status.as_str()),
            (2, "in_progress"),
            "{db}"
        );
        assert_eq!(taken.assignee.as_deref(), Some("anna"), "{db}");
        assert!(
            matches!(
                app.update_task(&clerk(), t1.id, &patch(json!({"status": "done"})), Some(1))
                    .await,
                Err(AppError::Stale)
            ),
            "{db}"
        );
        let unchanged = app
            .update_task(
                &clerk(),
                t1.id,
                &patch(json!({"status": "in_progress"})),
                Some(2),
            )
            .await
            .unwrap();
        assert_eq!(unchanged.version, 2, "{db}");
        let done = app
            .update_task(
                &clerk(),
                t1.id,
                &patch(json!({"status": "done", "due_date": null, "team": null})),
                None,
            )
            .await
            .unwrap();
        assert_eq!(
            (done.version, done.status.as_str(), done.due_date),
            (3, "done", None),
            "{db}"
        );
        let in_progress = app
            .list_tasks(
                TaskFilter {
                    status: Some("done".into()),
                    assignee: Some("anna".into()),
                    limit: 50,
                    ..Default::default()
                },
                None,
            )
            .await
            .unwrap();
        assert_eq!(in_progress.items.len(), 1, "{db}");

        // Bad input names the field and changes nothing.
        let bad = |v: Value| patch(v);
        for (p, field) in [
            (bad(json!({"status": "finished"})), "status"),
            (bad(json!({"due_date": "3.12.2026"})), "due_date"),
            (bad(json!({"title": null})), "title"),
            (bad(json!({"priority": "high"})), "priority"),
            (bad(json!({"team": 5})), "team"),
            (bad(json!({"assignee": null})), "team"),
        ] {
            assert_eq!(
                invalid_field(app.update_task(&clerk(), t1.id, &p, None).await),
                field,
                "{db}"
            );
        }
        assert_eq!(app.task(t1.id).await.unwrap().version, 3, "{db}");
        assert_eq!(
            invalid_field(
                app.create_task(&clerk(), task("party", "x", Some("service"), None))
                    .await
            ),
            "kind",
            "{db}"
        );
        assert_eq!(
            invalid_field(
                app.create_task(
                    &clerk(),
                    task("general", "x", Some("service"), Some("2026-02-30"))
                )
                .await
            ),
            "due_date",
            "{db}"
        );
        assert_eq!(
            invalid_field(
                app.create_task(&clerk(), task("general", "x", None, None))
                    .await
            ),
            "team",
            "{db}"
        );
        let mut unknown = task("general", "x", Some("service"), None);
        unknown.customer_number = Some("99999999".into());
        assert_eq!(
            invalid_field(app.create_task(&clerk(), unknown).await),
            "customer_number",
            "{db}"
        );
        assert!(
            matches!(app.task(999_999).await, Err(AppError::NotFound("task"))),
            "{db}"
        );

        // Audit entries for the customer's task, events in the feed.
        let audit = app.customer_audit(&number, None, 50).await.unwrap();
        let actions: Vec<&str> = audit.items.iter().map(|a| a.action.as_str()).collect();
        assert_eq!(
            actions.iter().filter(|a| **a == "task.updated").count(),
            2,
            "{db}: {actions:?}"
        );
        assert!(actions.contains(&"task.created"), "{db}");
        let events = event_types(&app).await;
        assert_eq!(
            events.iter().filter(|e| *e == "task.created").count(),
            5,
            "{db}"
        );
        assert_eq!(
            events.iter().filter(|e| *e == "task.updated").count(),
            2,
            "{db}"
        );
    }
}

#[tokio::test]
async fn comments_are_kept_in_order() {
    for (app, _d, db) in backends().await {
        let t = app
            .create_task(&clerk(), task("callback", "Rückruf", Some("service"), None))
            .await
            .unwrap();
        app.add_task_comment(&clerk(), t.id, "Nicht erreicht")
            .await
            .unwrap();
        let second = app
            .add_task_comment(&clerk(), t.id, "  Zweiter Versuch:\nerreicht  ")
            .await
            .unwrap();
        assert_eq!(second.body, "Zweiter Versuch:\nerreicht", "{db}");
        let all = app.task_comments(t.id, None, 50).await.unwrap();
        let bodies: Vec<&str> = all.items.iter().map(|c| c.body.as_str()).collect();
        assert_eq!(
            bodies,
            vec!["Nicht erreicht", "Zweiter Versuch:\nerreicht"],
            "{db}"
        );
        assert_eq!(all.items[0].author, "user:clerk", "{db}");
        let first_page = app.task_comments(t.id, None, 1).await.unwrap();
        let cursor = first_page.next_cursor.unwrap().parse().unwrap();
        let rest = app.task_comments(t.id, Some(cursor), 1).await.unwrap();
        assert_eq!(rest.items[0].id, second.id, "{db}");
        assert_eq!(
            invalid_field(app.add_task_comment(&clerk(), t.id, "   ").await),
            "body",
            "{db}"
        );
        assert!(
            matches!(
                app.add_task_comment(&clerk(), 999_999, "x").await,
                Err(AppError::NotFound("task"))
            ),
            "{db}"
        );
        assert!(
            matches!(
                app.task_comments(999_999, None, 5).await,
                Err(AppError::NotFound("task"))
            ),
            "{db}"
        );
        assert!(
            event_types(&app)
                .await
                .contains(&"task.commented".to_string()),
            "{db}"
        );
    }
}

fn case_input(kind: &str) -> CaseInput {
    CaseInput {
        kind: kind.into(),
        subject: "Drucker defekt".into(),
        body: Some("Kauf vom 3.11., Papierstau".into()),
        channel: Some("phone".into()),
        direction: Some("inbound".into()),
        team: Some("service".into()),
        assignee: None,
        occurred_at: None,
    }
}

fn status(s: &str, note: Option<&str>) -> CaseStatusInput {
    CaseStatusInput {
        status: s.into(),
        note: note.map(str::to_string),
    }
}

#[tokio::test]
async fn a_case_keeps_its_status_history_and_shows_on_the_timeline() {
    for (app, _d, db) in backends().await {
        let number = customer(&app, "Reklamation").await;
        let c = app
            .create_case(&clerk(), &number, case_input("complaint"))
            .await
            .unwrap();
        assert_eq!((c.case.status.as_str(), c.version), ("open", 1), "{db}");
        let id = c.case.id;
        let c = app
            .change_case_status(
                &clerk(),
                id,
                status("in_progress", Some("Techniker informiert")),
                Some(1),
            )
            .await
            .unwrap();
        assert_eq!(c.version, 2, "{db}");
        assert!(
            matches!(
                app.change_case_status(&clerk(), id, status("resolved", None), Some(1))
                    .await,
                Err(AppError::Stale)
            ),
            "{db}"
        );
        match app
            .change_case_status(&clerk(), id, status("closed", None), None)
            .await
        {
            Err(AppError::Conflict { field, .. }) => assert_eq!(field, "status", "{db}"),
            other => panic!("{db}: {other:?}"),
        }
        assert_eq!(
            invalid_field(
                app.change_case_status(&clerk(), id, status("done", None), None)
                    .await
            ),
            "status",
            "{db}"
        );
        app.change_case_status(
            &clerk(),
            id,
            status("resolved", Some("Gerät ersetzt")),
            None,
        )
        .await
        .unwrap();
        let closed = app
            .change_case_status(&clerk(), id, status("closed", None), None)
            .await
            .unwrap();
        assert!(closed.case.closed_at.is_some(), "{db}");
        let reopened = app
            .change_case_status(
                &clerk(),
                id,
                status("open", Some("Ersatzgerät auch defekt")),
                None,
            )
            .await
            .unwrap();
        assert!(reopened.case.closed_at.is_none(), "{db}");
        let steps: Vec<(&str, Option<&str>)> = reopened
            .history
            .iter()
            .map(|e| (e.status.as_str(), e.note.as_deref()))
            .collect();
        assert_eq!(
            steps,
            vec![
                ("open", None),
                ("in_progress", Some("Techniker informiert")),
                ("resolved", Some("Gerät ersetzt")),
                ("closed", None),
                ("open", Some("Ersatzgerät auch defekt")),
            ],
            "{db}"
        );
        assert_eq!(app.case(id).await.unwrap().version, 5, "{db}");

        let request = app
            .create_case(&clerk(), &number, case_input("service_request"))
            .await
            .unwrap();
        let cases = app.customer_cases(&number, None, 50).await.unwrap();
        let ids: Vec<i64> = cases.items.iter().map(|c| c.id).collect();
        assert_eq!(ids, vec![request.case.id, id], "{db}");

        // The timeline: the opening and each of the four changes, newest first, with the case id.
        let kinds = vec!["complaint".to_string()];
        let tl = app.timeline(&number, Some(&kinds), None, 50).await.unwrap();
        assert_eq!(tl.items.len(), 5, "{db}");
        assert!(
            tl.items
                .iter()
                .all(|e| e.case_id == Some(id) && e.source == "activity"),
            "{db}"
        );
        assert_eq!(
            tl.items[4].body.as_deref(),
            Some("Kauf vom 3.11., Papierstau"),
            "{db}"
        );
        assert_eq!(tl.items[4].direction.as_deref(), Some("inbound"), "{db}");
        assert_eq!(
            tl.items[0].body.as_deref(),
            Some("Ersatzgerät auch defekt"),
            "{db}"
        );
        let all = app.timeline(&number, None, None, 50).await.unwrap();
        assert_eq!(all.items.len(), 6, "{db}");
        assert_eq!(all.items[0].kind, "service_request", "{db}");

        assert_eq!(
            invalid_field(
                app.create_case(&clerk(), &number, case_input("praise"))
                    .await
            ),
            "kind",
            "{db}"
        );
        let mut bad = case_input("complaint");
        bad.direction = Some("sideways".into());
        assert_eq!(
            invalid_field(app.create_case(&clerk(), &number, bad).await),
            "direction",
            "{db}"
        );
        assert!(
            matches!(
                app.create_case(&clerk(), "99999999", case_input("complaint"))
                    .await,
                Err(AppError::NotFound("customer"))
            ),
            "{db}"
        );
        assert!(
            matches!(app.case(999_999).await, Err(AppError::NotFound("case"))),
            "{db}"
        );
        let events = event_types(&app).await;
        assert_eq!(
            events.iter().filter(|e| *e == "case.created").count(),
            2,
            "{db}"
        );
        assert_eq!(
            events
                .iter()
                .filter(|e| *e == "case.status_changed")
                .count(),
            4,
            "{db}"
        );
        let audit = app.customer_audit(&number, None, 50).await.unwrap();
        assert!(
            audit
                .items
                .iter()
                .any(|a| a.action == "case.status_changed"),
            "{db}"
        );
    }
}

fn receipt(number: &str, id: &str, at: DateTime<Utc>, amount: i64) -> ReceiptInput {
    ReceiptInput {
        source: "pos-zh01".into(),
        external_id: id.into(),
        store_code: Some("ZH01".into()),
        channel: "store".into(),
        occurred_at: at.to_rfc3339(),
        currency: "CHF".into(),
        card_number: None,
        customer_number: Some(number.into()),
        lines: vec![LineInput {
            sku: "4001234".into(),
            category: "Papier".into(),
            quantity: 1,
            amount,
        }],
    }
}

fn activity(kind: &str, subject: &str) -> ActivityInput {
    ActivityInput {
        kind: kind.into(),
        channel: Some("phone".into()),
        direction: Some("inbound".into()),
        subject: subject.into(),
        body: None,
        occurred_at: None,
    }
}

#[tokio::test]
async fn the_timeline_shows_purchases_vouchers_and_contacts_newest_first() {
    for (app, _d, db) in backends().await {
        let number = customer(&app, "Zeitleiste").await;
        let now = Utc::now().duration_trunc(Duration::seconds(1)).unwrap();
        let till = Actor::cli();
        app.book_receipt(
            &till,
            receipt(&number, "r-1", now - Duration::days(3), 4990),
        )
        .await
        .unwrap();
        app.book_return(
            &till,
            "pos-zh01",
            "r-1",
            ReturnInput {
                external_id: "r-1-ret".into(),
                occurred_at: Some((now - Duration::days(2)).to_rfc3339()),
                lines: vec![ReturnLineInput {
                    sku: Some("4001234".into()),
                    line_no: None,
                    quantity: 1,
                    amount: None,
                }],
            },
        )
        .await
        .unwrap();
        let t = VoucherTemplate {
            kind: "goodwill".into(),
            value_type: "amount".into(),
            value: 1000,
            currency: "CHF".into(),
            min_order: 0,
            channels: "both".into(),
            valid_from: now - Duration::days(1),
            valid_until: now + Duration::days(30),
        };
        let v = app
            .issue_voucher(&Actor::cli(), t, Some(&number))
            .await
            .unwrap();
        let mut call = activity("call", "Frage zum Gutschein");
        call.occurred_at = Some((now - Duration::hours(1)).to_rfc3339());
        let logged = app.log_activity(&clerk(), &number, call).await.unwrap();
        assert_eq!(logged.activity.kind, "call", "{db}");
        assert_eq!(logged.customer_number, number, "{db}");
        app.redeem_voucher(
            &till,
            &v.code,
            &kundo_app::vouchers::UseRequest {
                channel: "store".into(),
                store_code: Some("ZH01".into()),
                basket_amount: None,
                receipt_ref: Some("r-2".into()),
            },
        )
        .await
        .unwrap();
        app.log_activity(&clerk(), &number, activity("letter", "Dankesbrief"))
            .await
            .unwrap();

        let tl = app.timeline(&number, None, None, 50).await.unwrap();
        let kinds: Vec<&str> = tl.items.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds,
            vec![
                "letter",
                "voucher_redeemed",
                "voucher_issued",
                "call",
                "return",
                "purchase"
            ],
            "{db}"
        );
        assert!(
            tl.items
                .windows(2)
                .all(|w| w[0].occurred_at >= w[1].occurred_at),
            "{db}"
        );
        let purchase = &tl.items[5];
        assert_eq!(
            (
                purchase.source,
                purchase.amount,
                purchase.store_code.as_deref(),
                purchase.channel.as_deref()
            ),
            ("receipt", Some(4990), Some("ZH01"), Some("store")),
            "{db}"
        );
        assert_eq!(
            tl.items[1].reference.as_deref(),
            Some(v.code.as_str()),
            "{db}"
        );
        assert_eq!(tl.items[1].store_code.as_deref(), Some("ZH01"), "{db}");
        assert_eq!(tl.next_cursor, None, "{db}");

        let only = |ks: &[&str]| ks.iter().map(|k| k.to_string()).collect::<Vec<_>>();
        let calls = app
            .timeline(&number, Some(&only(&["call", "letter"])), None, 50)
            .await
            .unwrap();
        let kinds: Vec<&str> = calls.items.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, vec!["letter", "call"], "{db}");
        let buys = app
            .timeline(&number, Some(&only(&["purchase"])), None, 50)
            .await
            .unwrap();
        assert_eq!(buys.items.len(), 1, "{db}");
        let vouchers = app
            .timeline(
                &number,
                Some(&only(&["voucher_issued", "voucher_redeemed"])),
                None,
                50,
            )
            .await
            .unwrap();
        assert_eq!(vouchers.items.len(), 2, "{db}");

        // Logging checks its input and the customer.
        assert_eq!(
            invalid_field(
                app.log_activity(&clerk(), &number, activity("fax", "x"))
                    .await
            ),
            "kind",
            "{db}"
        );
        let mut a = activity("call", "x");
        a.direction = Some("both".into());
        assert_eq!(
            invalid_field(app.log_activity(&clerk(), &number, a).await),
            "direction",
            "{db}"
        );
        let mut a = activity("call", "x");
        a.occurred_at = Some("gestern".into());
        assert_eq!(
            invalid_field(app.log_activity(&clerk(), &number, a).await),
            "occurred_at",
            "{db}"
        );
        let mut a = activity("call", "x");
        a.occurred_at = Some((now + Duration::days(1)).to_rfc3339());
        assert_eq!(
            invalid_field(app.log_activity(&clerk(), &number, a).await),
            "occurred_at",
            "{db}"
        );
        assert_eq!(
            invalid_field(
                app.log_activity(&clerk(), &number, activity("note", " "))
                    .await
            ),
            "subject",
            "{db}"
        );
        assert!(
            matches!(
                app.log_activity(&clerk(), "99999999", activity("call", "x"))
                    .await,
                Err(AppError::NotFound("customer"))
            ),
            "{db}"
        );
        assert!(
            matches!(
                app.timeline("99999999", None, None, 50).await,
                Err(AppError::NotFound("customer"))
            ),
            "{db}"
        );
        assert!(
            event_types(&app)
                .await
                .contains(&"activity.logged".to_string()),
            "{db}"
        );
        let audit = app.customer_audit(&number, None, 50).await.unwrap();
        assert!(
            audit.items.iter().any(|a| a.action == "activity.logged"),
            "{db}"
        );
    }
}

/// 250 entries from every part of the timeline, many at the very same instant: pages of 40
/// return each exactly once, in order.
#[tokio::test]
async fn timeline_pages_return_every_entry_exactly_once() {
    for (app, _d, db) in backends().await {
        let number = customer(&app, "Seiten").await;
        let t0 = Utc::now().duration_trunc(Duration::seconds(1)).unwrap() - Duration::hours(1);
        let at = |minutes: i64| t0 - Duration::minutes(minutes);
        let mut tx = app.store.begin_write().await.unwrap();
        let customer_id = kundo_store::customers::resolve_number(&mut tx.db(), &number)
            .await
            .unwrap()
            .unwrap();
        // 150 activities in five groups of 30 with the same time each.
        for i in 0..150 {
            let kind = if i % 3 == 0 { "call" } else { "letter" };
            kundo_store::activities::insert(
                &mut tx.db(),
                &NewActivity {
                    customer_id,
                    kind,
                    occurred_at: at(i / 30),
                    channel: None,
                    direction: Some("outbound"),
                    subject: "Kontakt",
                    body: None,
                    case_id: None,
                    reference: None,
                    actor: "test",
                },
                t0,
            )
            .await
            .unwrap();
        }
        // 50 vouchers issued at one instant, 10 of them redeemed at another.
        let template = VoucherTemplate {
            kind: "bonus".into(),
            value_type: "amount".into(),
            value: 500,
            currency: "CHF".into(),
            min_order: 0,
            channels: "both".into(),
            valid_from: at(10),
            valid_until: t0 + Duration::days(90),
        };
        let issued = kundo_app::vouchers::issue(
            &mut tx.db(),
            &template,
            &vec![Some(customer_id); 50],
            None,
            at(2),
        )
        .await
        .unwrap();
        for (_, id, _) in issued.iter().take(10) {
            assert!(
                kundo_store::vouchers::redeem(
                    &mut tx.db(),
                    *id,
                    "store",
                    Some("ZH01"),
                    None,
                    at(1)
                )
                .await
                .unwrap()
            );
        }
        tx.commit().await.unwrap();
        // 40 receipts at the same times as the activities.
        for i in 0..40 {
            app.book_receipt(
                &Actor::cli(),
                receipt(&number, &format!("p-{i}"), at(i % 4), 1000 + i),
            )
            .await
            .unwrap();
        }

        let read_all = |kinds: Option<Vec<String>>| {
            let app = app.clone();
            let number = number.clone();
            async move {
                let mut out = Vec::new();
                let mut cursor = None;
                let mut pages = 0;
                loop {
                    let page = app
                        .timeline(&number, kinds.as_deref(), cursor, 40)
                        .await
                        .unwrap();
                    pages += 1;
                    out.extend(page.items);
                    match page.next_cursor {
                        Some(c) => cursor = Some(TimelineCursor::decode(&c).unwrap()),
                        None => break,
                    }
                    assert!(pages < 100, "the pages do not end");
                }
                (out, pages)
            }
        };
        let (all, pages) = read_all(None).await;
        assert_eq!(all.len(), 250, "{db}");
        assert_eq!(pages, 7, "{db}");
        let unique: BTreeSet<(&str, i64, &str)> = all
            .iter()
            .map(|e| (e.source, e.id, e.kind.as_str()))
            .collect();
        assert_eq!(unique.len(), 250, "{db}: an entry appeared twice");
        assert!(
            all.windows(2).all(|w| w[0].occurred_at >= w[1].occurred_at),
            "{db}"
        );
        let count = |k: &str| all.iter().filter(|e| e.kind == k).count();
        assert_eq!(
            (
                count("purchase"),
                count("voucher_issued"),
                count("voucher_redeemed"),
                count("call") + count("letter")
            ),
            (40, 50, 10, 150),
            "{db}"
        );

        let (calls, _) = read_all(Some(vec!["call".into(), "purchase".into()])).await;
        assert_eq!(calls.len(), 50 + 40, "{db}");
        let unique: BTreeSet<(&str, i64)> = calls.iter().map(|e| (e.source, e.id)).collect();
        assert_eq!(unique.len(), 90, "{db}");
    }
}
