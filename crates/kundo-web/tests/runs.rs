//! The run routes on both backends: a request a run cannot serve is refused with a problem
//! naming every bad field before anything is booked, and a run that failed shows as `failed`
//! with its error, in the shape the OpenAPI document gives a run.

use axum::http::{Method, StatusCode};
use chrono::{Datelike, Utc};
use kundo_app::Actor;
use kundo_store::testing;
use serde_json::{Value, json};

mod common;
use common::{Api, assert_problem};

fn this_month() -> String {
    let today = Utc::now().date_naive();
    format!("{:04}-{:02}", today.year(), today.month())
}

fn bonus_config(validity_days: i64, value_per_step: i64) -> Value {
    json!({"threshold_points": 500, "points_per_step": 500, "value_per_step": value_per_step,
           "currency": "CHF", "reset_to_zero": true, "validity_days": validity_days})
}

fn fields(a: &common::Answer) -> Vec<String> {
    a.body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors in {}", a.body))
        .iter()
        .map(|e| e["field"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn run_requests_are_refused_naming_each_field_before_anything_is_booked() {
    for api in Api::all().await {
        let db = api.db;
        let post = |path: &'static str, body: Value| api.admin(Method::POST, path, Some(body));
        let a = post("/api/v1/runs/bonus", json!({"period": "2025-02"})).await;
        assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some("period"), db);
        let a = post(
            "/api/v1/runs/bonus",
            json!({"period": this_month(), "config": bonus_config(100_000_000, 1000)}),
        )
        .await;
        assert_problem(
            &a,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("config.validity_days"),
            db,
        );
        let a = post(
            "/api/v1/runs/bonus",
            json!({"period": "2030-01", "config": bonus_config(-5, 0)}),
        )
        .await;
        assert_eq!(
            fields(&a),
            ["period", "config.value_per_step", "config.validity_days"],
            "{db}"
        );
        let a = post("/api/v1/runs/birthday", json!({"date": "0001-01-01"})).await;
        assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some("date"), db);
        let a = post(
            "/api/v1/runs/birthday",
            json!({"date": Utc::now().date_naive().to_string(), "config": {"lead_days": 21,
                   "min_revenue_12m": 50000, "value": -1000, "currency": "CHF", "validity_days": 60}}),
        )
        .await;
        assert_problem(
            &a,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("config.value"),
            db,
        );
        let runs = api.admin(Method::GET, "/api/v1/runs", None).await;
        assert_eq!(runs.body, json!({"items": []}), "{db}: no run was opened");
    }
}

/// Checks a run as `GET /api/v1/runs` shows it against the document's `Run` schema: every
/// required property there, no other, and `state` and `kind` from their lists.
fn conforms_to_the_run_schema(run: &Value, db: &str) {
    let doc: Value = serde_json::from_str(kundo_web::openapi::DOCUMENT).unwrap();
    let schema = &doc["components"]["schemas"]["Run"];
    let properties = schema["properties"].as_object().unwrap();
    for key in run.as_object().unwrap().keys() {
        assert!(
            properties.contains_key(key),
            "{db}: {key} is not documented"
        );
    }
    for required in schema["required"].as_array().unwrap() {
        let key = required.as_str().unwrap();
        assert!(run.get(key).is_some(), "{db}: {key} is missing in {run}");
    }
    for key in ["state", "kind"] {
        let allowed = properties[key]["enum"].as_array().unwrap();
        assert!(
            allowed.contains(&run[key]),
            "{db}: {key} {} not in {allowed:?}",
            run[key]
        );
    }
}

#[tokio::test]
async fn a_failed_run_is_listed_as_failed_with_its_error_and_finishes_when_started_again() {
    for api in Api::all().await {
        let db = api.db;
        let number = api
            .app
            .generate_demo(1, 5, 1, &|_| {})
            .await
            .map(|ids| kundo_core::customer::customer_number_for(ids[0]))
            .unwrap();
        api.app
            .adjust_points(&Actor::cli(), &number, 700, "test")
            .await
            .unwrap();
        // The database refuses the vouchers, as a full disk would.
        testing::refuse_inserts(&api.app.store, "vouchers", "1 = 1").await;
        let a = api
            .admin(
                Method::POST,
                "/api/v1/runs/bonus",
                Some(json!({"period": this_month()})),
            )
            .await;
        assert_problem(&a, StatusCode::SERVICE_UNAVAILABLE, None, db);
        let runs = api.admin(Method::GET, "/api/v1/runs", None).await;
        let run = &runs.body["items"][0];
        assert_eq!(run["state"], "failed", "{db}: {run}");
        assert!(
            run["error"]
                .as_str()
                .is_some_and(|e| e.contains("injected failure")),
            "{db}: {run}"
        );
        conforms_to_the_run_schema(run, db);
        let one = api
            .admin(Method::GET, &format!("/api/v1/runs/{}", run["id"]), None)
            .await;
        assert_eq!(&one.body, run, "{db}");

        testing::allow_inserts(&api.app.store, "vouchers").await;
        let a = api
            .admin(
                Method::POST,
                "/api/v1/runs/bonus",
                Some(json!({"period": this_month()})),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{db}: {}", a.body);
        assert_eq!(
            (
                &a.body["run_id"],
                &a.body["state"],
                &a.body["vouchers_issued"],
                &a.body["run"]["error"]
            ),
            (&run["id"], &json!("done"), &json!(1), &Value::Null),
            "{db}"
        );
        conforms_to_the_run_schema(&a.body["run"], db);
    }
}
