//! The server keeps the rules that the OpenAPI document states (issue 18, item 10): a value the
//! document refuses is 422 naming the parameter, a value it accepts is answered.

mod common;

use axum::http::{Method, StatusCode};
use common::{Api, assert_problem};
use serde_json::{Value, json};

#[tokio::test]
async fn list_filters_refuse_values_no_customer_can_have() {
    for api in Api::all().await {
        let db = api.db;
        for (query, field) in [
            ("preferred_channel=AAA", "preferred_channel"),
            ("status=gone", "status"),
            ("kind=robot", "kind"),
            ("gender=f", "gender"),
            ("language=DE", "language"),
            ("country=CHE", "country"),
            ("cursor=", "cursor"),
            ("cursor=1234567890123456789", "cursor"),
            ("cursor=%2B5", "cursor"),
        ] {
            let a = api
                .admin(Method::GET, &format!("/api/v1/customers?{query}"), None)
                .await;
            assert_problem(
                &a,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(field),
                &format!("{db} {query}"),
            );
        }
        for query in [
            "preferred_channel=sms",
            "status=merged",
            "language=de",
            "country=ch",
            "cursor=-5",
        ] {
            let a = api
                .admin(Method::GET, &format!("/api/v1/customers?{query}"), None)
                .await;
            assert_eq!(a.status, StatusCode::OK, "{db} {query}: {}", a.body);
        }
    }
}

#[tokio::test]
async fn search_takes_three_characters_as_typed() {
    for api in Api::all().await {
        let db = api.db;
        let a = api
            .admin(
                Method::POST,
                "/api/v1/customers",
                Some(json!({"last_name": "Bond", "card_numbers": ["2900000070013"]})),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{db}: {}", a.body);
        // Leading zeros stay: "007" is three characters and finds the card.
        let a = api.admin(Method::GET, "/api/v1/search?q=007", None).await;
        assert_eq!(a.status, StatusCode::OK, "{db}: {}", a.body);
        let found: Vec<&str> = a.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|h| h["last_name"].as_str())
            .collect();
        assert_eq!(found, ["Bond"], "{db}: {}", a.body);
        // Three characters whose words are shorter find nothing, and are not refused.
        let a = api.admin(Method::GET, "/api/v1/search?q=a%20b", None).await;
        assert_eq!(
            (a.status, a.body["items"].clone()),
            (StatusCode::OK, json!([])),
            "{db}"
        );
        let a = api.admin(Method::GET, "/api/v1/search?q=ab", None).await;
        assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some("q"), db);
    }
}

#[tokio::test]
async fn runs_answer_in_the_document_s_terms_and_refuse_what_it_refuses() {
    for api in Api::all().await {
        let db = api.db;
        // A scores run for a day to come would overwrite today's scores (item 11); dates are
        // strict.
        for date in ["9999-12-31", "2026-1-1"] {
            let body = json!({ "date": date });
            let a = api
                .admin(Method::POST, "/api/v1/runs/scores", Some(body))
                .await;
            assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some("date"), db);
        }
        let a = api
            .admin(
                Method::POST,
                "/api/v1/runs/scores",
                Some(json!({"date": null})),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{db}: {}", a.body);
        // `GET /runs` lists it with a kind the document knows.
        let doc: Value = serde_json::from_str(kundo_web::openapi::DOCUMENT).unwrap();
        let kinds = &doc["components"]["schemas"]["Run"]["properties"]["kind"]["enum"];
        let a = api.admin(Method::GET, "/api/v1/runs", None).await;
        let items = a.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{db}");
        assert!(
            kinds.as_array().unwrap().contains(&items[0]["kind"]),
            "{db}: {} not in {kinds}",
            items[0]["kind"]
        );
        // A run's settings are checked and named by their place in the body.
        let a = api
            .admin(
                Method::POST,
                "/api/v1/runs/birthday",
                Some(json!({"date": "2026-11-23", "config": {"lead_days": 21, "min_revenue_12m": 50000,
                    "value": 1000, "currency": "CHF", "validity_days": 100000000}})),
            )
            .await;
        assert_problem(
            &a,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("config.validity_days"),
            db,
        );
    }
}

#[tokio::test]
async fn a_number_without_fraction_is_an_integer_and_texts_are_printable() {
    let api = Api::all().await.remove(0);
    let a = api
        .admin(
            Method::POST,
            "/api/v1/customers",
            Some(json!({"last_name": "Meier"})),
        )
        .await;
    let number = a.body["customer_number"].as_str().unwrap().to_string();
    let path = format!("/api/v1/customers/{number}/points/adjustments");
    let a = api
        .admin(
            Method::POST,
            &path,
            Some(json!({"points": 200.0, "reason": "Kulanz"})),
        )
        .await;
    assert_eq!(
        (a.status, a.body["balance"].clone()),
        (StatusCode::CREATED, json!(200))
    );
    let a = api
        .admin(
            Method::POST,
            &path,
            Some(json!({"points": 1, "reason": "x\u{009b}"})),
        )
        .await;
    assert_problem(
        &a,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("reason"),
        "control",
    );
}
