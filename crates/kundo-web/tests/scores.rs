//! The scores routes on both backends: starting a run, reading a customer's scores, and the
//! answers without the scope and for an unknown customer.

use axum::http::{Method, StatusCode};
use kundo_app::Actor;
use kundo_app::purchase_log::PurchaseLogOptions;

mod common;
use common::{Answer, Api};

/// Three customers: two who bought repeatedly, one who bought once.
const LOG: &str = "S1 2025-01-10 30.00\nS1 2025-03-02 12.50\nS1 2025-05-20 41.00\n\
S2 2025-02-01 9.90\nS2 2025-06-01 19.90\nS3 2025-04-04 5.00\n";

#[tokio::test]
async fn scores_are_run_and_shown_with_scopes() {
    for api in Api::all().await {
        let db = api.db;
        let report = api
            .app
            .import_purchase_log(
                &Actor::cli(),
                LOG,
                &PurchaseLogOptions {
                    create_customers: true,
                    ..Default::default()
                },
                &|_, _| {},
            )
            .await
            .unwrap();
        assert_eq!(report.booked, 6, "{db}");
        let runs = api.key(&["runs:write"]).await;
        let reader = api.key(&["customers:read"]).await;

        // Not scored yet: a known customer answers with nulls.
        let Answer { status, body, .. } = api
            .call(
                Method::GET,
                "/api/v1/customers/S1/scores",
                Some(&reader),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{db}: {body}");
        assert!(
            body["rfm"].is_null() && body["scored_at"].is_null(),
            "{db}: {body}"
        );

        let Answer { status, body, .. } = api
            .call(
                Method::POST,
                "/api/v1/runs/scores",
                Some(&reader),
                Some(r#"{"date":"2025-06-30"}"#),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{db}: {body}");
        let Answer { status, body, .. } = api
            .call(
                Method::POST,
                "/api/v1/runs/scores",
                Some(&runs),
                Some(r#"{"date":"2025-06-31"}"#),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{db}: {body}");
        // Without a date: today (whoever is still active then).
        let Answer { status, .. } = api
            .call(Method::POST, "/api/v1/runs/scores", Some(&runs), Some("{}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{db}");
        let Answer { status, body, .. } = api
            .call(
                Method::POST,
                "/api/v1/runs/scores",
                Some(&runs),
                Some(r#"{"date":"2025-06-30"}"#),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{db}: {body}");
        assert_eq!(body["customers_scored"], 3, "{db}: {body}");
        assert_eq!(body["as_of"], "2025-06-30", "{db}: {body}");

        let Answer { status, body, .. } = api
            .call(
                Method::GET,
                "/api/v1/customers/S1/scores",
                Some(&reader),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{db}: {body}");
        // The dated run came last: S1 bought three times, last on 2025-05-20.
        assert_eq!(body["recency_days"], 41, "{db}: {body}");
        assert_eq!(body["frequency"], 3, "{db}: {body}");
        assert!(
            body["rfm"].as_str().is_some_and(|c| c.len() == 3),
            "{db}: {body}"
        );
        assert_eq!(body["clv_historic"], body["monetary"], "{db}: {body}");
        assert!(body["scored_at"].is_string(), "{db}: {body}");

        let Answer { status, body, .. } = api
            .call(
                Method::GET,
                "/api/v1/customers/S1/scores",
                Some(&runs),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{db}: {body}");
        let Answer { status, body, .. } = api
            .call(
                Method::GET,
                "/api/v1/customers/NOPE/scores",
                Some(&reader),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{db}: {body}");
    }
}
