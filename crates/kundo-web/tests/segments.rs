//! The segment routes end to end through the router, on SQLite and PostgreSQL.

use axum::http::{Method, StatusCode, header};
use kundo_app::Actor;
use kundo_app::customers::Created;
use kundo_core::customer::CustomerInput;
use serde_json::json;

mod common;
use common::Api;

#[tokio::test]
async fn segment_routes() {
    for api in Api::all().await {
        let db = api.db;
        let app = &api.app;
        let write = api.key(&["segments:read", "segments:write"]).await;
        let read = api.key(&["segments:read"]).await;
        let other = api.key(&["customers:read"]).await;
        let mut women = Vec::new();
        for i in 0..5 {
            let gender = if i % 2 == 0 { "female" } else { "male" };
            let input: CustomerInput = serde_json::from_value(json!({
                "salutation": if i % 2 == 0 { "Frau" } else { "Herr" },
                "first_name": "Alex", "last_name": format!("Beispiel, {i}"), "gender": gender,
                "email": format!("alex{i}@example.ch"),
                "addresses": [{"street": "Hauptstrasse", "house_number": "1", "postcode": "3011", "city": "Bern"}]
            }))
            .unwrap();
            let Ok(Created::New(v)) = app
                .create_customer(
                    &Actor::cli(),
                    input,
                    None,
                    kundo_app::customers::DuplicateCheck::CreateAnyway,
                )
                .await
            else {
                panic!("{db}: customer not created");
            };
            if gender == "female" {
                women.push(v.customer_number);
            }
        }
        let def = json!({"field": "gender", "op": "eq", "value": "female"});
        let new = json!({"name": "Frauen", "definition": def});

        let a = api
            .call(
                Method::POST,
                "/api/v1/segments",
                None,
                Some(&new.to_string()),
            )
            .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{db}");
        let a = api
            .request(
                Method::POST,
                "/api/v1/segments",
                &read,
                Some(new.clone()),
                None,
            )
            .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{db}");
        let a = api
            .request(Method::GET, "/api/v1/segments", &other, None, None)
            .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{db}");

        let bad = json!({"name": "kaputt", "definition": {"and": [def, {"purchases": {"metric": "revenue", "op": "most", "value": 1}}]}});
        let a = api
            .request(Method::POST, "/api/v1/segments", &write, Some(bad), None)
            .await;
        assert_eq!(
            a.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{db}: {}",
            a.text
        );
        assert_eq!(
            a.headers[header::CONTENT_TYPE],
            "application/problem+json",
            "{db}"
        );
        assert_eq!(a.body["field"], "definition.and[1].purchases.op", "{db}");

        let a = api
            .request(
                Method::POST,
                "/api/v1/segments",
                &write,
                Some(new.clone()),
                None,
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{db}: {}", a.text);
        let id = a.body["id"].as_i64().unwrap();
        assert_eq!(
            a.headers[header::LOCATION],
            format!("/api/v1/segments/{id}")
        );
        assert_eq!(a.headers[header::ETAG], "\"1\"");
        assert_eq!(a.body["kind"], "dynamic");
        let a = api
            .request(
                Method::POST,
                "/api/v1/segments",
                &write,
                Some(new.clone()),
                None,
            )
            .await;
        assert_eq!(a.status, StatusCode::CONFLICT, "{db}");
        assert_eq!(a.body["field"], "name", "{db}");

        let a = api
            .request(
                Method::GET,
                &format!("/api/v1/segments/{id}/count"),
                &read,
                None,
                None,
            )
            .await;
        assert_eq!(a.body, json!({"count": 3}), "{db}");

        let mut got = Vec::new();
        let mut path = format!("/api/v1/segments/{id}/members?limit=2");
        loop {
            let a = api.request(Method::GET, &path, &read, None, None).await;
            assert_eq!(a.status, StatusCode::OK, "{db}: {}", a.text);
            for m in a.body["items"].as_array().unwrap() {
                got.push(m["customer_number"].as_str().unwrap().to_string());
                assert_eq!(m["salutation"], "Frau");
                assert_eq!(m["city"], "Bern");
            }
            match a.body["next_cursor"].as_str() {
                Some(c) => path = format!("/api/v1/segments/{id}/members?limit=2&cursor={c}"),
                None => break,
            }
        }
        assert_eq!(got, women, "{db}");
        let a = api
            .request(
                Method::GET,
                &format!("/api/v1/segments/{id}/members?limit=0"),
                &read,
                None,
                None,
            )
            .await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{db}");
        assert_eq!(a.body["field"], "limit");

        let a = api
            .request(
                Method::GET,
                &format!("/api/v1/segments/{id}/members.csv"),
                &read,
                None,
                None,
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{db}");
        assert_eq!(a.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
        let lines: Vec<&str> = a.text.lines().collect();
        assert_eq!(
            lines[0],
            "customer_number,salutation,first_name,last_name,company_name,email,postcode,city"
        );
        assert_eq!(lines.len(), 4, "{db}");
        assert!(
            lines[1].starts_with(&format!("{},Frau,Alex,\"Beispiel, 0\"", women[0])),
            "{}",
            lines[1]
        );

        let a = api.request(Method::POST, "/api/v1/segments/preview", &read, Some(json!({"definition": {"not": {"field": "gender", "op": "eq", "value": "female"}}, "limit": 1})), None).await;
        assert_eq!(a.status, StatusCode::OK, "{db}: {}", a.text);
        assert_eq!(a.body["count"], 2);
        assert_eq!(a.body["sample"].as_array().unwrap().len(), 1);
        let a = api
            .request(
                Method::POST,
                "/api/v1/segments/preview",
                &read,
                Some(json!({"definition": {"or": [{"postal_status": "lost"}]}})),
                None,
            )
            .await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{db}");
        assert_eq!(a.body["field"], "definition.or[0].postal_status");

        let changed = json!({"name": "Frauen (statisch)", "kind": "static", "definition": def});
        let a = api
            .request(
                Method::PUT,
                &format!("/api/v1/segments/{id}"),
                &write,
                Some(changed.clone()),
                Some("\"7\""),
            )
            .await;
        assert_eq!(a.status, StatusCode::PRECONDITION_FAILED, "{db}");
        let a = api
            .request(
                Method::PUT,
                &format!("/api/v1/segments/{id}"),
                &write,
                Some(changed),
                Some("\"1\""),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{db}: {}", a.text);
        assert_eq!(a.headers[header::ETAG], "\"2\"");
        assert_eq!(a.body["snapshot"]["member_count"], 3, "{db}");

        let a = api
            .request(
                Method::POST,
                &format!("/api/v1/segments/{id}/snapshots"),
                &write,
                None,
                None,
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{db}: {}", a.text);
        assert_eq!(a.body["member_count"], 3);
        let a = api
            .request(Method::GET, "/api/v1/segments", &read, None, None)
            .await;
        assert_eq!(a.body["items"][0]["name"], "Frauen (statisch)", "{db}");

        let a = api
            .request(
                Method::DELETE,
                &format!("/api/v1/segments/{id}"),
                &read,
                None,
                None,
            )
            .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{db}");
        let a = api
            .request(
                Method::DELETE,
                &format!("/api/v1/segments/{id}"),
                &write,
                None,
                None,
            )
            .await;
        assert_eq!(a.status, StatusCode::NO_CONTENT, "{db}");
        let a = api
            .request(
                Method::GET,
                &format!("/api/v1/segments/{id}"),
                &read,
                None,
                None,
            )
            .await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{db}");
        let a = api
            .request(Method::GET, "/api/v1/segments/x/count", &read, None, None)
            .await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{db}");
    }
}

#[tokio::test]
async fn a_segment_that_a_campaign_uses_is_kept_with_a_conflict_naming_the_campaign() {
    for api in Api::all().await {
        let db = api.db;
        let app = &api.app;
        let write = api.key(&["segments:read", "segments:write"]).await;
        let today = chrono::Utc::now().date_naive();
        let mut ids = Vec::new();
        for name in ["Bern", "Basel"] {
            let seg = app
                .create_segment(
                    &Actor::cli(),
                    kundo_app::segments::SegmentInput {
                        name: name.into(),
                        definition: json!({"field": "city", "op": "eq", "value": name}),
                        kind: None,
                    },
                    today,
                )
                .await
                .unwrap();
            ids.push(seg.id);
        }
        let campaign: kundo_app::campaigns::CampaignInput = serde_json::from_value(json!({
            "name": "Herbst in Bern", "segment_id": ids[0], "value_type": "amount",
            "value": 1000, "validity_days": 14, "control_share_bp": 0}))
        .unwrap();
        app.create_campaign(&Actor::cli(), campaign).await.unwrap();

        let path = format!("/api/v1/segments/{}", ids[0]);
        let a = api.request(Method::DELETE, &path, &write, None, None).await;
        common::assert_problem(&a, StatusCode::CONFLICT, Some("id"), db);
        let detail = a.body["detail"].as_str().unwrap_or_default();
        assert!(detail.contains("Herbst in Bern"), "{db}: {detail}");
        let a = api.request(Method::GET, &path, &write, None, None).await;
        assert_eq!(a.status, StatusCode::OK, "{db}: still there");

        // A segment no campaign uses goes.
        let path = format!("/api/v1/segments/{}", ids[1]);
        let a = api.request(Method::DELETE, &path, &write, None, None).await;
        assert_eq!(a.status, StatusCode::NO_CONTENT, "{db}: {}", a.text);
        let a = api.request(Method::GET, &path, &write, None, None).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{db}");
    }
}
