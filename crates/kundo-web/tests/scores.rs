//! The scores routes on both backends: starting a run, reading a customer's scores, and the
//! answers without the scope and for an unknown customer.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use kundo_app::purchase_log::PurchaseLogOptions;
use kundo_app::{Actor, App};
use kundo_store::testing;
use serde_json::Value;
use tower::ServiceExt;

async fn call(
    router: &axum::Router,
    method: Method,
    path: &str,
    key: &str,
    body: Option<&str>,
) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {key}"));
    let req = match body {
        Some(b) => req
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    }
    .unwrap();
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Three customers: two who bought repeatedly, one who bought once.
const LOG: &str = "S1 2025-01-10 30.00\nS1 2025-03-02 12.50\nS1 2025-05-20 41.00\n\
S2 2025-02-01 9.90\nS2 2025-06-01 19.90\nS3 2025-04-04 5.00\n";

#[tokio::test]
async fn scores_are_run_and_shown_with_scopes() {
    for (store, _dir) in testing::all().await {
        let db = store.backend().name();
        let app = App::new(store);
        let report = app
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
        let router = kundo_web::router(app.clone());
        let key = |scopes: &'static [&'static str]| {
            let app = app.clone();
            async move {
                let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
                app.create_api_key(&Actor::cli(), "test", &scopes)
                    .await
                    .unwrap()
                    .key
            }
        };
        let runs = key(&["runs:write"]).await;
        let reader = key(&["customers:read"]).await;

        // Not scored yet: a known customer answers with nulls.
        let (status, body) = call(
            &router,
            Method::GET,
            "/api/v1/customers/S1/scores",
            &reader,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{db}: {body}");
        assert!(
            body["rfm"].is_null() && body["scored_at"].is_null(),
            "{db}: {body}"
        );

        let (status, body) = call(
            &router,
            Method::POST,
            "/api/v1/runs/scores",
            &reader,
            Some(r#"{"date":"2025-06-30"}"#),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{db}: {body}");
        let (status, body) = call(
            &router,
            Method::POST,
            "/api/v1/runs/scores",
            &runs,
            Some(r#"{"date":"2025-06-31"}"#),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{db}: {body}");
        // Without a date: today (whoever is still active then).
        let (status, _) = call(
            &router,
            Method::POST,
            "/api/v1/runs/scores",
            &runs,
            Some("{}"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{db}");
        let (status, body) = call(
            &router,
            Method::POST,
            "/api/v1/runs/scores",
            &runs,
            Some(r#"{"date":"2025-06-30"}"#),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{db}: {body}");
        assert_eq!(body["customers_scored"], 3, "{db}: {body}");
        assert_eq!(body["as_of"], "2025-06-30", "{db}: {body}");

        let (status, body) = call(
            &router,
            Method::GET,
            "/api/v1/customers/S1/scores",
            &reader,
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

        let (status, body) = call(
            &router,
            Method::GET,
            "/api/v1/customers/S1/scores",
            &runs,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{db}: {body}");
        let (status, body) = call(
            &router,
            Method::GET,
            "/api/v1/customers/NOPE/scores",
            &reader,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{db}: {body}");
    }
}
