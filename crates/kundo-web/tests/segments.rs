//! The segment routes end to end through the router, on SQLite and PostgreSQL.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use kundo_app::customers::{Created, DuplicateCheck};
use kundo_app::{Actor, App};
use kundo_core::customer::CustomerInput;
use kundo_store::testing;
use serde_json::{Value, json};
use tower::ServiceExt;

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
    text: String,
}

async fn call(
    router: &Router,
    method: Method,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
    if_match: Option<&str>,
) -> Answer {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(k) = key {
        req = req.header(header::AUTHORIZATION, format!("Bearer {k}"));
    }
    if let Some(v) = if_match {
        req = req.header(header::IF_MATCH, v);
    }
    let req = match body {
        Some(b) => req
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    }
    .unwrap();
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes).to_string();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        body,
        text,
    }
}

async fn key(app: &App, scopes: &[&str]) -> String {
    let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
    app.create_api_key(&Actor::cli(), "test", &scopes)
        .await
        .unwrap()
        .key
}

#[tokio::test]
async fn segment_routes() {
    for (store, _dir) in testing::all().await {
        let db = store.backend().name();
        let app = App::new(store);
        let router = kundo_web::router(app.clone());
        let write = key(&app, &["segments:read", "segments:write"]).await;
        let read = key(&app, &["segments:read"]).await;
        let other = key(&app, &["customers:read"]).await;
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
                .create_customer(&Actor::cli(), input, None, DuplicateCheck::CreateAnyway)
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

        let a = call(
            &router,
            Method::POST,
            "/api/v1/segments",
            None,
            Some(new.clone()),
            None,
        )
        .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{db}");
        let a = call(
            &router,
            Method::POST,
            "/api/v1/segments",
            Some(&read),
            Some(new.clone()),
            None,
        )
        .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{db}");
        let a = call(
            &router,
            Method::GET,
            "/api/v1/segments",
            Some(&other),
            None,
            None,
        )
        .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{db}");

        let bad = json!({"name": "kaputt", "definition": {"and": [def, {"purchases": {"metric": "revenue", "op": "most", "value": 1}}]}});
        let a = call(
            &router,
            Method::POST,
            "/api/v1/segments",
            Some(&write),
            Some(bad),
            None,
        )
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

        let a = call(
            &router,
            Method::POST,
            "/api/v1/segments",
            Some(&write),
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
        let a = call(
            &router,
            Method::POST,
            "/api/v1/segments",
            Some(&write),
            Some(new.clone()),
            None,
        )
        .await;
        assert_eq!(a.status, StatusCode::CONFLICT, "{db}");
        assert_eq!(a.body["field"], "name", "{db}");

        let a = call(
            &router,
            Method::GET,
            &format!("/api/v1/segments/{id}/count"),
            Some(&read),
            None,
            None,
        )
        .await;
        assert_eq!(a.body, json!({"count": 3}), "{db}");

        let mut got = Vec::new();
        let mut path = format!("/api/v1/segments/{id}/members?limit=2");
        loop {
            let a = call(&router, Method::GET, &path, Some(&read), None, None).await;
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
        let a = call(
            &router,
            Method::GET,
            &format!("/api/v1/segments/{id}/members?limit=0"),
            Some(&read),
            None,
            None,
        )
        .await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{db}");
        assert_eq!(a.body["field"], "limit");

        let a = call(
            &router,
            Method::GET,
            &format!("/api/v1/segments/{id}/members.csv"),
            Some(&read),
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

        let a = call(&router, Method::POST, "/api/v1/segments/preview", Some(&read),
            Some(json!({"definition": {"not": {"field": "gender", "op": "eq", "value": "female"}}, "limit": 1})), None).await;
        assert_eq!(a.status, StatusCode::OK, "{db}: {}", a.text);
        assert_eq!(a.body["count"], 2);
        assert_eq!(a.body["sample"].as_array().unwrap().len(), 1);
        let a = call(
            &router,
            Method::POST,
            "/api/v1/segments/preview",
            Some(&read),
            Some(json!({"definition": {"or": [{"postal_status": "lost"}]}})),
            None,
        )
        .await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{db}");
        assert_eq!(a.body["field"], "definition.or[0].postal_status");

        let changed = json!({"name": "Frauen (statisch)", "kind": "static", "definition": def});
        let a = call(
            &router,
            Method::PUT,
            &format!("/api/v1/segments/{id}"),
            Some(&write),
            Some(changed.clone()),
            Some("\"7\""),
        )
        .await;
        assert_eq!(a.status, StatusCode::PRECONDITION_FAILED, "{db}");
        let a = call(
            &router,
            Method::PUT,
            &format!("/api/v1/segments/{id}"),
            Some(&write),
            Some(changed),
            Some("\"1\""),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{db}: {}", a.text);
        assert_eq!(a.headers[header::ETAG], "\"2\"");
        assert_eq!(a.body["snapshot"]["member_count"], 3, "{db}");

        let a = call(
            &router,
            Method::POST,
            &format!("/api/v1/segments/{id}/snapshots"),
            Some(&write),
            None,
            None,
        )
        .await;
        assert_eq!(a.status, StatusCode::CREATED, "{db}: {}", a.text);
        assert_eq!(a.body["member_count"], 3);
        let a = call(
            &router,
            Method::GET,
            "/api/v1/segments",
            Some(&read),
            None,
            None,
        )
        .await;
        assert_eq!(a.body["items"][0]["name"], "Frauen (statisch)", "{db}");

        let a = call(
            &router,
            Method::DELETE,
            &format!("/api/v1/segments/{id}"),
            Some(&read),
            None,
            None,
        )
        .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{db}");
        let a = call(
            &router,
            Method::DELETE,
            &format!("/api/v1/segments/{id}"),
            Some(&write),
            None,
            None,
        )
        .await;
        assert_eq!(a.status, StatusCode::NO_CONTENT, "{db}");
        let a = call(
            &router,
            Method::GET,
            &format!("/api/v1/segments/{id}"),
            Some(&read),
            None,
            None,
        )
        .await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{db}");
        let a = call(
            &router,
            Method::GET,
            "/api/v1/segments/x/count",
            Some(&read),
            None,
            None,
        )
        .await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{db}");
    }
}
