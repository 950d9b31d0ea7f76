//! Data quality over HTTP on SQLite and PostgreSQL: the 409 with duplicate candidates and
//! `?force=true`, the check, scan and review queue, merges, postal returns as CSV.

mod common;

use axum::http::{Method, StatusCode};
use common::{Api, assert_problem};
use serde_json::{Value, json};

fn anna() -> Value {
    json!({"kind": "person", "first_name": "Anna", "last_name": "Müller", "birth_date": "1980-02-29",
        "email": "anna.mueller@example.ch", "phones": [{"kind": "mobile", "number": "+41791234567"}],
        "addresses": [{"street": "Bahnhofstrasse", "house_number": "12a", "postcode": "8001", "city": "Zürich", "country": "CH"}],
        "card_numbers": ["2900123456785"],
        "consents": [{"channel": "letter", "status": "granted", "source": "pos"}]})
}

fn anna_again() -> Value {
    json!({"kind": "person", "first_name": "Anna", "last_name": "Muller", "birth_date": "1980-02-29",
        "phones": [{"kind": "mobile", "number": "079 123 45 67"}],
        "addresses": [{"street": "Bahnhofstr.", "house_number": "12 a", "postcode": "8001", "city": "Zürich", "country": "CH"}],
        "card_numbers": ["2900123456792"]})
}

#[tokio::test]
async fn a_likely_duplicate_answers_409_with_candidates_and_force_creates_it() {
    for api in Api::all().await {
        let db = api.db;
        let first = api
            .admin(Method::POST, "/api/v1/customers", Some(anna()))
            .await;
        assert_eq!(first.status, StatusCode::CREATED, "{db}: {}", first.body);
        let number = first.body["customer_number"].as_str().unwrap().to_string();

        let again = api
            .admin(Method::POST, "/api/v1/customers", Some(anna_again()))
            .await;
        assert_problem(&again, StatusCode::CONFLICT, None, db);
        assert_eq!(
            again.body["type"],
            json!("/problems/likely-duplicate"),
            "{db}"
        );
        let found = again.body["duplicates"].as_array().expect("duplicates");
        assert_eq!(found.len(), 1, "{db}");
        assert_eq!(found[0]["customer_number"], json!(number), "{db}");
        assert!(found[0]["score"].as_u64().unwrap() >= 55, "{db}");
        let reasons: Vec<&str> = found[0]["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(reasons.contains(&"same phone"), "{db}: {reasons:?}");

        // The check alone answers the same candidates without creating anything.
        let check = api
            .admin(Method::POST, "/api/v1/duplicates/check", Some(anna_again()))
            .await;
        assert_eq!(check.status, StatusCode::OK, "{db}");
        assert_eq!(
            check.body["duplicates"][0]["customer_number"],
            json!(number),
            "{db}"
        );

        let bad = api
            .admin(
                Method::POST,
                "/api/v1/customers?force=maybe",
                Some(anna_again()),
            )
            .await;
        assert_problem(&bad, StatusCode::UNPROCESSABLE_ENTITY, Some("force"), db);
        let forced = api
            .admin(
                Method::POST,
                "/api/v1/customers?force=true",
                Some(anna_again()),
            )
            .await;
        assert_eq!(forced.status, StatusCode::CREATED, "{db}: {}", forced.body);
    }
}

#[tokio::test]
async fn scan_queue_and_merge_over_http() {
    for api in Api::all().await {
        let db = api.db;
        let a = api
            .admin(Method::POST, "/api/v1/customers", Some(anna()))
            .await;
        let b = api
            .admin(
                Method::POST,
                "/api/v1/customers?force=true",
                Some(anna_again()),
            )
            .await;
        let (a, b) = (
            a.body["customer_number"].as_str().unwrap().to_string(),
            b.body["customer_number"].as_str().unwrap().to_string(),
        );
        let reader = api.key(&["customers:read"]).await;
        let denied = api
            .call(Method::POST, "/api/v1/duplicates/scan", Some(&reader), None)
            .await;
        assert_problem(&denied, StatusCode::FORBIDDEN, None, db);
        let scan = api
            .admin(Method::POST, "/api/v1/duplicates/scan", None)
            .await;
        assert_eq!(scan.status, StatusCode::OK, "{db}: {}", scan.body);
        // The pair was queued when the second record was created with force=true.
        assert_eq!(scan.body["pairs_found"], json!(1), "{db}");
        assert_eq!(scan.body["pairs_added"], json!(0), "{db}");
        let queue = api
            .call(
                Method::GET,
                "/api/v1/duplicates?status=open",
                Some(&reader),
                None,
            )
            .await;
        assert_eq!(queue.body["items"][0]["customer_a"], json!(a), "{db}");
        assert_eq!(queue.body["items"][0]["customer_b"], json!(b), "{db}");
        let bad = api
            .call(
                Method::GET,
                "/api/v1/duplicates?status=maybe",
                Some(&reader),
                None,
            )
            .await;
        assert_problem(&bad, StatusCode::UNPROCESSABLE_ENTITY, Some("status"), db);

        let path = format!("/api/v1/customers/{a}/merge");
        let wrong = api
            .admin(
                Method::POST,
                &path,
                Some(json!({"duplicate": b, "fields": {"shoe_size": "duplicate"}})),
            )
            .await;
        assert_problem(
            &wrong,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("fields.shoe_size"),
            db,
        );
        let itself = api
            .admin(Method::POST, &path, Some(json!({"duplicate": a})))
            .await;
        assert_problem(
            &itself,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("duplicate"),
            db,
        );
        let preview = api
            .call(
                Method::POST,
                &format!("{path}/preview"),
                Some(&reader),
                Some(&json!({"duplicate": b, "fields": {"last_name": "duplicate"}}).to_string()),
            )
            .await;
        assert_eq!(preview.status, StatusCode::OK, "{db}: {}", preview.body);
        assert_eq!(preview.body["last_name"], json!("Muller"), "{db}");
        let merged = api
            .admin(Method::POST, &path, Some(json!({"duplicate": b})))
            .await;
        assert_eq!(merged.status, StatusCode::OK, "{db}: {}", merged.body);
        assert_eq!(merged.body["moved"]["cards"], json!(1), "{db}");
        assert_eq!(
            merged.body["survivor"]["last_name"],
            json!("Müller"),
            "{db}"
        );
        // The old number and card still answer, with the survivor.
        let old = api
            .call(
                Method::GET,
                &format!("/api/v1/customers/{b}"),
                Some(&reader),
                None,
            )
            .await;
        assert_eq!(old.body["customer_number"], json!(a), "{db}");
        let card = api
            .call(
                Method::GET,
                "/api/v1/lookup?card=2900123456792",
                Some(&reader),
                None,
            )
            .await;
        assert_eq!(card.body["customer_number"], json!(a), "{db}");
        let queue = api
            .call(
                Method::GET,
                "/api/v1/duplicates?status=merged",
                Some(&reader),
                None,
            )
            .await;
        assert_eq!(
            queue.body["items"].as_array().map(Vec::len),
            Some(1),
            "{db}"
        );
        let again = api
            .admin(Method::POST, &path, Some(json!({"duplicate": b})))
            .await;
        assert_problem(
            &again,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("duplicate"),
            db,
        );
    }
}

async fn returns(api: &Api, key: &str, body: String) -> common::Answer {
    api.call_with(
        Method::POST,
        "/api/v1/postal-returns",
        Some(key),
        "text/csv",
        Some(&body),
    )
    .await
}

#[tokio::test]
async fn postal_returns_are_imported_from_csv_or_refused_whole() {
    for api in Api::all().await {
        let db = api.db;
        let a = api
            .admin(Method::POST, "/api/v1/customers", Some(anna()))
            .await;
        let number = a.body["customer_number"].as_str().unwrap().to_string();
        let writer = api.key(&["customers:write"]).await;
        let bad = returns(
            &api,
            &writer,
            format!("customer_number,reason,colour\n{number},20,blue\n"),
        )
        .await;
        assert_problem(
            &bad,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("line 1 column colour"),
            db,
        );
        let bad = returns(
            &api,
            &writer,
            format!("customer_number,reason\n{number},unbekannt verzogen\n{number},??\n"),
        )
        .await;
        assert_problem(
            &bad,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("line 3 column reason"),
            db,
        );
        assert_eq!(bad.body["report"]["applied"], json!(0), "{db}");
        let ok = returns(
            &api,
            &writer,
            format!("customer_number,reason\n{number},unbekannt verzogen\n12345678,12\n"),
        )
        .await;
        assert_eq!(ok.status, StatusCode::OK, "{db}: {}", ok.body);
        assert_eq!(ok.body["applied"], json!(1), "{db}");
        assert_eq!(ok.body["tasks_created"], json!(1), "{db}");
        assert_eq!(ok.body["unmatched"][0]["line"], json!(3), "{db}");
        let c = api
            .admin(Method::GET, &format!("/api/v1/customers/{number}"), None)
            .await;
        assert_eq!(
            c.body["addresses"][0]["postal_status"],
            json!("research"),
            "{db}"
        );
        let tasks = api
            .admin(
                Method::GET,
                &format!("/api/v1/tasks?customer_number={number}"),
                None,
            )
            .await;
        assert_eq!(
            tasks.body["items"][0]["kind"],
            json!("address_research"),
            "{db}: {}",
            tasks.body
        );
        assert_eq!(tasks.body["items"][0]["team"], json!("service"), "{db}");
        let timeline = api
            .admin(
                Method::GET,
                &format!("/api/v1/customers/{number}/timeline"),
                None,
            )
            .await;
        assert!(
            timeline.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["kind"] == json!("postal_return")),
            "{db}: {}",
            timeline.body
        );
    }
}
