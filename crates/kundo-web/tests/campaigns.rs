//! The campaign routes end to end through the router, on SQLite and PostgreSQL: scopes,
//! validation naming the field, start, results, members, the two files and the sync.

use std::sync::{Arc, Mutex};

use axum::http::{Method, StatusCode, header};
use kundo_app::Actor;
use kundo_app::customers::{Created, DuplicateCheck};
use kundo_app::segments::SegmentInput;
use kundo_core::customer::CustomerInput;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod common;
use common::Api;

/// Answers 200 to everything and keeps the bodies it got.
async fn automation_server() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = log.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            loop {
                let n = s.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let len = head
                        .lines()
                        .find_map(|l| l.strip_prefix("Content-Length: "))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if body.len() >= len {
                        seen.lock().unwrap().push(text);
                        break;
                    }
                }
            }
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .await;
        }
    });
    (format!("http://{addr}"), log)
}

#[tokio::test]
async fn campaign_routes() {
    for api in Api::all().await {
        let db = api.db;
        let app = &api.app;
        let write = api.key(&["segments:read", "campaigns:write"]).await;
        let read = api.key(&["segments:read"]).await;
        for i in 0..12 {
            let consents = match i % 3 {
                0 => json!([{"channel": "email", "status": "granted", "source": "doi"}]),
                1 => json!([{"channel": "letter", "status": "granted", "source": "form"}]),
                _ => json!([]),
            };
            let input: CustomerInput = serde_json::from_value(json!({
                "salutation": "Herr", "first_name": "Urs", "last_name": format!("Beispiel {i}"),
                "email": format!("urs{i}@example.ch"), "language": "de",
                "addresses": [{"street": "Hauptstrasse", "house_number": i.to_string(), "postcode": "3011", "city": "Bern"}],
                "consents": consents
            }))
            .unwrap();
            let Ok(Created::New(_)) = app
                .create_customer(&Actor::cli(), input, None, DuplicateCheck::CreateAnyway)
                .await
            else {
                panic!("{db}: customer not created");
            };
        }
        let segment = app
            .create_segment(
                &Actor::cli(),
                SegmentInput {
                    name: "Bern".into(),
                    definition: json!({"field": "city", "op": "eq", "value": "Bern"}),
                    kind: None,
                },
                chrono::Utc::now().date_naive(),
            )
            .await
            .unwrap();
        let new = json!({"name": "Herbst", "segment_id": segment.id, "value_type": "amount",
            "value": 1000, "validity_days": 14, "control_share_bp": 2500, "seed": 7});

        let a = api
            .request(
                Method::POST,
                "/api/v1/campaigns",
                &read,
                Some(new.clone()),
                None,
            )
            .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{db}");
        let mut bad = new.clone();
        bad["value_type"] = json!("gratis");
        let a = api
            .request(Method::POST, "/api/v1/campaigns", &write, Some(bad), None)
            .await;
        assert_eq!(
            a.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{db}: {}",
            a.text
        );
        assert_eq!(a.body["field"], "value_type", "{db}");
        let mut bad = new.clone();
        bad["segment_id"] = json!(424242);
        let a = api
            .request(Method::POST, "/api/v1/campaigns", &write, Some(bad), None)
            .await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{db}");
        assert_eq!(a.body["field"], "segment_id", "{db}");

        let a = api
            .request(
                Method::POST,
                "/api/v1/campaigns",
                &write,
                Some(new.clone()),
                None,
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{db}: {}", a.text);
        let id = a.body["id"].as_i64().unwrap();
        assert_eq!(
            a.headers[header::LOCATION],
            format!("/api/v1/campaigns/{id}")
        );
        assert_eq!(a.body["state"], "draft");
        assert_eq!(a.body["channels"], json!(["email", "letter"]));
        let a = api
            .request(
                Method::POST,
                "/api/v1/campaigns",
                &write,
                Some(new.clone()),
                None,
            )
            .await;
        assert_eq!(a.status, StatusCode::CONFLICT, "{db}");
        assert_eq!(a.body["field"], "name");

        let base = format!("/api/v1/campaigns/{id}");
        let a = api
            .request(
                Method::GET,
                &format!("{base}/lettershop.csv"),
                &write,
                None,
                None,
            )
            .await;
        assert_eq!(
            a.status,
            StatusCode::NOT_FOUND,
            "{db}: no file before the start"
        );
        let a = api
            .request(Method::POST, &format!("{base}/start"), &read, None, None)
            .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{db}");
        let a = api
            .request(Method::POST, &format!("{base}/start"), &write, None, None)
            .await;
        assert_eq!(a.status, StatusCode::OK, "{db}: {}", a.text);
        assert_eq!(a.body["state"], "done");
        assert_eq!(a.body["members"], 12);
        assert_eq!(a.body["control_members"], 3);
        let issued = a.body["vouchers_issued"].as_i64().unwrap();
        let letters = a.body["letter_members"].as_i64().unwrap();
        let emails = a.body["email_members"].as_i64().unwrap();
        assert_eq!(issued, letters + emails);
        assert_eq!(
            a.body["unreachable"].as_i64().unwrap() + issued,
            9,
            "{db}: every target member is reached or counted"
        );

        let a = api.request(Method::GET, &base, &read, None, None).await;
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(a.body["state"], "done");
        let a = api
            .request(Method::GET, "/api/v1/campaigns", &read, None, None)
            .await;
        assert_eq!(a.body["items"].as_array().unwrap().len(), 1, "{db}");

        let a = api
            .request(Method::GET, &format!("{base}/results"), &read, None, None)
            .await;
        assert_eq!(a.status, StatusCode::OK, "{db}: {}", a.text);
        assert_eq!(a.body["vouchers_issued"], issued);
        assert_eq!(a.body["redeemed"], 0);
        assert_eq!(a.body["target"]["members"], 9);
        assert_eq!(a.body["control"]["members"], 3);
        assert!(a.body["by_orders"].is_array());

        let a = api
            .request(
                Method::GET,
                &format!("{base}/members?group=control"),
                &read,
                None,
                None,
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{db}: {}", a.text);
        let items = a.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 3);
        assert!(
            items
                .iter()
                .all(|m| m["group"] == "control" && m["voucher_code"].is_null())
        );
        let a = api
            .request(
                Method::GET,
                &format!("{base}/members?group=target&limit=2"),
                &read,
                None,
                None,
            )
            .await;
        assert_eq!(a.body["items"].as_array().unwrap().len(), 2);
        assert!(a.body["next_cursor"].is_string());
        let unreachable = api
            .request(
                Method::GET,
                &format!("{base}/members?group=target&limit=100"),
                &read,
                None,
                None,
            )
            .await
            .body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["channel"].is_null())
            .map(|m| m["unreachable_reason"].as_str().unwrap().to_string())
            .collect::<Vec<_>>();
        assert!(
            unreachable
                .iter()
                .all(|r| r == "no_email_consent+no_letter_consent"),
            "{db}: {unreachable:?}"
        );
        let a = api
            .request(
                Method::GET,
                &format!("{base}/members?group=alle"),
                &read,
                None,
                None,
            )
            .await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(a.body["field"], "group");

        let a = api
            .request(
                Method::GET,
                &format!("{base}/lettershop.csv"),
                &read,
                None,
                None,
            )
            .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{db}");
        let a = api
            .request(
                Method::GET,
                &format!("{base}/lettershop.csv"),
                &write,
                None,
                None,
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{db}");
        assert_eq!(a.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
        assert_eq!(a.text.lines().count() as i64, letters + 1, "{db}");
        let a = api
            .request(
                Method::GET,
                &format!("{base}/email.csv"),
                &write,
                None,
                None,
            )
            .await;
        assert_eq!(a.status, StatusCode::OK);
        assert!(a.text.starts_with("customer_number,salutation,first_name,last_name,email,language,voucher_code,valid_until\n"));
        assert_eq!(a.text.lines().count() as i64, emails + 1, "{db}");

        let (url, log) = automation_server().await;
        let sync = json!({"base_url": url, "list": "herbst", "api_key": "k1"});
        let a = api
            .request(
                Method::POST,
                &format!("{base}/sync"),
                &read,
                Some(sync.clone()),
                None,
            )
            .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN);
        let a = api
            .request(
                Method::POST,
                &format!("{base}/sync"),
                &write,
                Some(json!({"base_url": "https://x", "list": "herbst", "api_key": "k1"})),
                None,
            )
            .await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(a.body["field"], "base_url");
        let a = api
            .request(
                Method::POST,
                &format!("{base}/sync"),
                &write,
                Some(sync),
                None,
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{db}: {}", a.text);
        assert_eq!(a.body["synced"].as_i64(), Some(emails));
        let log = log.lock().unwrap().clone();
        assert_eq!(log.len(), usize::from(emails > 0));
        if let Some(req) = log.first() {
            assert!(
                req.starts_with("PUT /lists/herbst/members HTTP/1.1\r\n"),
                "{req}"
            );
            assert!(req.contains("Authorization: Bearer k1\r\n"));
        }
        let a = api.request(Method::GET, &base, &read, None, None).await;
        assert_eq!(a.body["synced_members"].as_i64(), Some(emails));
    }
}
