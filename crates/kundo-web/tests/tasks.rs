//! Tasks, cases, logged contacts and the timeline over HTTP, on SQLite and PostgreSQL:
//! 201/200 with ETags, 422 naming the field, 403 without the scope, 404, 412 when stale.

use axum::http::{Method, StatusCode, header};
use serde_json::{Value, json};

mod common;
use common::{Answer, Api, assert_problem};

fn etag(a: &Answer) -> &str {
    a.headers
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

async fn customer(api: &Api) -> String {
    let a = api
        .admin(
            Method::POST,
            "/api/v1/customers",
            Some(json!({"first_name": "Anna", "last_name": "Müller",
                "addresses": [{"street": "Bahnhofstrasse", "house_number": "1", "postcode": "8001", "city": "Zürich"}]})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    a.body["customer_number"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn tasks_are_created_queued_changed_with_if_match_and_commented() {
    for api in Api::all().await {
        let db = api.db;
        let number = customer(&api).await;
        let writer = api.key(&["tasks:read", "tasks:write"]).await;
        let reader = api.key(&["tasks:read"]).await;
        let clerk = api.key(&["customers:read", "customers:write"]).await;

        let body = json!({"kind": "callback", "title": "Rückruf", "team": "service",
            "due_date": "2026-12-03", "customer_number": number});
        let a = api
            .request(
                Method::POST,
                "/api/v1/tasks",
                &writer,
                Some(body.clone()),
                None,
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{db}: {}", a.body);
        assert_eq!(etag(&a), "\"1\"", "{db}");
        let id = a.body["id"].as_i64().unwrap();
        assert_eq!(
            a.headers[header::LOCATION],
            format!("/api/v1/tasks/{id}").as_str(),
            "{db}"
        );
        assert_eq!(a.body["customer_number"], json!(number), "{db}");
        assert_eq!(a.body["status"], "open", "{db}");
        api.request(
            Method::POST,
            "/api/v1/tasks",
            &writer,
            Some(json!({"kind": "general", "title": "Ablage", "team": "backoffice"})),
            None,
        )
        .await;

        let queue = api
            .request(
                Method::GET,
                "/api/v1/tasks?team=service&status=open",
                &reader,
                None,
                None,
            )
            .await;
        assert_eq!(queue.status, StatusCode::OK, "{db}: {}", queue.body);
        assert_eq!(queue.body["items"].as_array().unwrap().len(), 1, "{db}");
        let mine = api
            .request(
                Method::GET,
                &format!("/api/v1/tasks?customer_number={number}&limit=1"),
                &reader,
                None,
                None,
            )
            .await;
        assert_eq!(mine.body["items"][0]["id"], json!(id), "{db}");
        let page = api
            .request(Method::GET, "/api/v1/tasks?limit=1", &reader, None, None)
            .await;
        let cursor = page.body["next_cursor"].as_str().unwrap().to_string();
        let next = api
            .request(
                Method::GET,
                &format!("/api/v1/tasks?limit=1&cursor={cursor}"),
                &reader,
                None,
                None,
            )
            .await;
        assert_eq!(next.status, StatusCode::OK, "{db}: {}", next.body);
        assert_ne!(
            next.body["items"][0]["id"], page.body["items"][0]["id"],
            "{db}"
        );

        let path = format!("/api/v1/tasks/{id}");
        let a = api.request(Method::GET, &path, &reader, None, None).await;
        assert_eq!((a.status, etag(&a)), (StatusCode::OK, "\"1\""), "{db}");
        let a = api
            .request(
                Method::PATCH,
                &path,
                &writer,
                Some(json!({"status": "in_progress", "assignee": "anna"})),
                Some("\"1\""),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{db}: {}", a.body);
        assert_eq!(etag(&a), "\"2\"", "{db}");
        let a = api
            .request(
                Method::PATCH,
                &path,
                &writer,
                Some(json!({"status": "done"})),
                Some("\"1\""),
            )
            .await;
        assert_problem(&a, StatusCode::PRECONDITION_FAILED, None, db);
        let a = api
            .request(
                Method::PATCH,
                &path,
                &writer,
                Some(json!({"status": "finished"})),
                None,
            )
            .await;
        assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some("status"), db);
        let a = api
            .request(
                Method::PATCH,
                &path,
                &writer,
                Some(json!({"due_date": "2026-13-01"})),
                None,
            )
            .await;
        assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some("due_date"), db);

        for (bad, field) in [
            (
                json!({"kind": "party", "title": "x", "team": "service"}),
                "kind",
            ),
            (
                json!({"kind": "general", "title": "x", "team": "service", "due_date": "morgen"}),
                "due_date",
            ),
            (json!({"kind": "general", "title": "x"}), "team"),
            (
                json!({"kind": "general", "title": "x", "team": "service", "priority": 1}),
                "priority",
            ),
            (
                json!({"kind": "general", "title": "x", "team": "service", "customer_number": "99999999"}),
                "customer_number",
            ),
        ] {
            let a = api
                .request(Method::POST, "/api/v1/tasks", &writer, Some(bad), None)
                .await;
            assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some(field), db);
        }
        for (query, field) in [
            ("status=later", "status"),
            ("due_before=soon", "due_before"),
            ("cursor=abc", "cursor"),
            ("sort=id", "sort"),
        ] {
            let a = api
                .request(
                    Method::GET,
                    &format!("/api/v1/tasks?{query}"),
                    &reader,
                    None,
                    None,
                )
                .await;
            assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some(field), db);
        }

        let comments = format!("{path}/comments");
        let a = api
            .request(
                Method::POST,
                &comments,
                &writer,
                Some(json!({"body": "Nicht erreicht"})),
                None,
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{db}: {}", a.body);
        let a = api
            .request(
                Method::POST,
                &comments,
                &writer,
                Some(json!({"body": ""})),
                None,
            )
            .await;
        assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some("body"), db);
        let a = api
            .request(Method::GET, &comments, &reader, None, None)
            .await;
        assert_eq!(a.status, StatusCode::OK, "{db}");
        assert_eq!(a.body["items"][0]["body"], "Nicht erreicht", "{db}");

        // Scopes: reading is not writing, customer scopes are not task scopes.
        let a = api
            .request(
                Method::POST,
                "/api/v1/tasks",
                &reader,
                Some(body.clone()),
                None,
            )
            .await;
        assert_problem(&a, StatusCode::FORBIDDEN, None, db);
        let a = api
            .request(Method::GET, "/api/v1/tasks", &clerk, None, None)
            .await;
        assert_problem(&a, StatusCode::FORBIDDEN, None, db);
        let a = api
            .request(
                Method::PATCH,
                &path,
                &reader,
                Some(json!({"status": "done"})),
                None,
            )
            .await;
        assert_problem(&a, StatusCode::FORBIDDEN, None, db);

        for missing in [
            "/api/v1/tasks/999999",
            "/api/v1/tasks/abc",
            "/api/v1/tasks/999999/comments",
        ] {
            let a = api.request(Method::GET, missing, &reader, None, None).await;
            assert_problem(&a, StatusCode::NOT_FOUND, None, db);
        }
    }
}

#[tokio::test]
async fn contacts_cases_and_the_timeline_over_http() {
    for api in Api::all().await {
        let db = api.db;
        let number = customer(&api).await;
        let reader = api.key(&["customers:read"]).await;
        let clerk = api.key(&["customers:read", "customers:write"]).await;
        let tasks_only = api.key(&["tasks:read", "tasks:write"]).await;
        let activities = format!("/api/v1/customers/{number}/activities");

        let call = json!({"kind": "call", "channel": "phone", "direction": "inbound",
            "subject": "Frage zum Gutschein", "occurred_at": "2026-01-05T09:00:00Z"});
        let a = api
            .request(Method::POST, &activities, &clerk, Some(call.clone()), None)
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{db}: {}", a.body);
        assert_eq!(
            (a.body["kind"].clone(), a.body["customer_number"].clone()),
            (json!("call"), json!(number)),
            "{db}"
        );
        let a = api
            .request(
                Method::POST,
                &activities,
                &clerk,
                Some(json!({"kind": "letter", "direction": "outbound", "subject": "Antwort"})),
                None,
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{db}: {}", a.body);
        for (bad, field) in [
            (json!({"kind": "fax", "subject": "x"}), "kind"),
            (
                json!({"kind": "call", "direction": "sideways", "subject": "x"}),
                "direction",
            ),
            (
                json!({"kind": "call", "subject": "x", "occurred_at": "5.1.2026"}),
                "occurred_at",
            ),
            (json!({"kind": "call"}), "subject"),
            (
                json!({"kind": "call", "subject": "x", "mood": "angry"}),
                "mood",
            ),
        ] {
            let a = api
                .request(Method::POST, &activities, &clerk, Some(bad), None)
                .await;
            assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some(field), db);
        }
        let a = api
            .request(
                Method::POST,
                "/api/v1/customers/99999999/activities",
                &clerk,
                Some(call.clone()),
                None,
            )
            .await;
        assert_problem(&a, StatusCode::NOT_FOUND, None, db);
        let a = api
            .request(Method::POST, &activities, &reader, Some(call.clone()), None)
            .await;
        assert_problem(&a, StatusCode::FORBIDDEN, None, db);
        let a = api
            .request(Method::POST, &activities, &tasks_only, Some(call), None)
            .await;
        assert_problem(&a, StatusCode::FORBIDDEN, None, db);

        // A case: opened, moved with If-Match, refused when stale or when the move is not allowed.
        let a = api
            .request(
                Method::POST,
                &format!("/api/v1/customers/{number}/cases"),
                &clerk,
                Some(json!({"kind": "complaint", "subject": "Drucker defekt", "direction": "inbound", "channel": "phone"})),
                None,
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{db}: {}", a.body);
        assert_eq!(etag(&a), "\"1\"", "{db}");
        let id = a.body["id"].as_i64().unwrap();
        let case = format!("/api/v1/cases/{id}");
        assert_eq!(a.headers[header::LOCATION], case.as_str(), "{db}");
        let a = api
            .request(
                Method::PATCH,
                &case,
                &clerk,
                Some(json!({"status": "in_progress", "note": "Techniker informiert"})),
                Some("\"1\""),
            )
            .await;
        assert_eq!(
            (a.status, etag(&a)),
            (StatusCode::OK, "\"2\""),
            "{db}: {}",
            a.body
        );
        let a = api
            .request(
                Method::PATCH,
                &case,
                &clerk,
                Some(json!({"status": "resolved"})),
                Some("\"1\""),
            )
            .await;
        assert_problem(&a, StatusCode::PRECONDITION_FAILED, None, db);
        let a = api
            .request(
                Method::PATCH,
                &case,
                &clerk,
                Some(json!({"status": "closed"})),
                None,
            )
            .await;
        assert_problem(&a, StatusCode::CONFLICT, Some("status"), db);
        let a = api
            .request(
                Method::PATCH,
                &case,
                &clerk,
                Some(json!({"status": "gone"})),
                None,
            )
            .await;
        assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some("status"), db);
        let a = api.request(Method::GET, &case, &reader, None, None).await;
        assert_eq!(a.status, StatusCode::OK, "{db}");
        assert_eq!(a.body["history"].as_array().unwrap().len(), 2, "{db}");
        assert_eq!(a.body["history"][1]["note"], "Techniker informiert", "{db}");
        let a = api
            .request(
                Method::POST,
                &format!("/api/v1/customers/{number}/cases"),
                &clerk,
                Some(json!({"kind": "praise", "subject": "x"})),
                None,
            )
            .await;
        assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some("kind"), db);
        let a = api
            .request(
                Method::GET,
                &format!("/api/v1/customers/{number}/cases"),
                &reader,
                None,
                None,
            )
            .await;
        assert_eq!(a.body["items"][0]["id"], json!(id), "{db}");
        for missing in [
            "/api/v1/cases/999999",
            "/api/v1/cases/x",
            "/api/v1/customers/99999999/cases",
        ] {
            let a = api.request(Method::GET, missing, &reader, None, None).await;
            assert_problem(&a, StatusCode::NOT_FOUND, None, db);
        }

        // The timeline: newest first, filtered by kind, paged.
        let timeline = format!("/api/v1/customers/{number}/timeline");
        let a = api
            .request(Method::GET, &timeline, &reader, None, None)
            .await;
        assert_eq!(a.status, StatusCode::OK, "{db}: {}", a.body);
        let kinds: Vec<&str> = a.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            vec!["complaint", "complaint", "letter", "call"],
            "{db}"
        );
        let a = api
            .request(
                Method::GET,
                &format!("{timeline}?kind=call,letter"),
                &reader,
                None,
                None,
            )
            .await;
        let kinds: Vec<&str> = a.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, vec!["letter", "call"], "{db}");
        let a = api
            .request(
                Method::GET,
                &format!("{timeline}?limit=3"),
                &reader,
                None,
                None,
            )
            .await;
        let cursor = a.body["next_cursor"].as_str().unwrap().to_string();
        let a = api
            .request(
                Method::GET,
                &format!("{timeline}?limit=3&cursor={cursor}"),
                &reader,
                None,
                None,
            )
            .await;
        assert_eq!(a.body["items"].as_array().unwrap().len(), 1, "{db}");
        assert_eq!(a.body["items"][0]["kind"], "call", "{db}");
        assert_eq!(a.body["next_cursor"], Value::Null, "{db}");
        for (query, field) in [
            ("kind=call,fax", "kind"),
            ("cursor=yesterday", "cursor"),
            ("limit=0", "limit"),
            ("order=asc", "order"),
        ] {
            let a = api
                .request(
                    Method::GET,
                    &format!("{timeline}?{query}"),
                    &reader,
                    None,
                    None,
                )
                .await;
            assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some(field), db);
        }
        let a = api
            .request(
                Method::GET,
                "/api/v1/customers/99999999/timeline",
                &reader,
                None,
                None,
            )
            .await;
        assert_problem(&a, StatusCode::NOT_FOUND, None, db);
        let a = api
            .request(Method::GET, &timeline, &tasks_only, None, None)
            .await;
        assert_problem(&a, StatusCode::FORBIDDEN, None, db);
    }
}
