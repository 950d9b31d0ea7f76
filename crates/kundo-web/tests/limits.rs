//! The edges of the HTTP layer on both backends (issue 18, items 6 and 10): the documented
//! receipt batch fits the body limit of its route, and every error that no handler wrote — a
//! body over the limit, an unknown route, a method the route does not have, a path axum cannot
//! read — is an RFC 9457 problem like the rest.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::{Api, assert_problem};
use serde_json::{Value, json};

const CARD: &str = "2900123456785";

/// The README's receipt, with its own external id.
fn readme_receipt(n: usize) -> Value {
    let at = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    json!({"source": "pos-zh01", "external_id": format!("2026-11-23-0042-{n:05}"),
        "store_code": "ZH01", "channel": "store", "occurred_at": at, "currency": "CHF",
        "card_number": CARD,
        "lines": [{"sku": "4001234", "category": "Papier", "quantity": 2, "amount": 1990}]})
}

async fn setup(api: &Api) -> String {
    let a = api
        .admin(
            Method::PUT,
            "/api/v1/stores",
            Some(json!([{"code": "ZH01", "name": "Zürich", "channel": "store"}])),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let a = api
        .admin(
            Method::POST,
            "/api/v1/customers",
            Some(json!({"last_name": "Müller", "card_numbers": [CARD]})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    a.body["customer_number"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_batch_of_5000_receipts_fits_and_a_larger_body_is_a_problem() {
    for api in Api::all().await {
        let db = api.db;
        let number = setup(&api).await;
        let key = api.admin.clone();

        // 5,000 receipts as a JSON array: more than the 1 MiB of the other routes.
        let batch: Vec<Value> = (0..5_000).map(readme_receipt).collect();
        let body = serde_json::to_string(&batch).unwrap();
        assert!(body.len() > kundo_web::BODY_LIMIT, "{db}: {}", body.len());
        let a = api
            .call(Method::POST, "/api/v1/receipts", Some(&key), Some(&body))
            .await;
        assert_eq!(a.status, StatusCode::OK, "{db}: {}", a.text);
        let results = a.body["results"].as_array().unwrap();
        assert_eq!(results.len(), 5_000, "{db}");
        assert!(results.iter().all(|r| r["status"] == 201), "{db}");
        assert_eq!(results[4_999]["body"]["balance"], json!(95_000), "{db}");

        // The same batch again as NDJSON: every receipt answers as a resend.
        let ndjson: String = batch.iter().map(|r| format!("{r}\n")).collect();
        let a = api
            .call_with(
                Method::POST,
                "/api/v1/receipts",
                Some(&key),
                "application/x-ndjson",
                Some(&ndjson),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{db}: {}", a.text);
        let results = a.body["results"].as_array().unwrap();
        assert!(results.iter().all(|r| r["status"] == 200), "{db}");
        let points = api
            .admin(
                Method::GET,
                &format!("/api/v1/customers/{number}/points"),
                None,
            )
            .await;
        assert_eq!(points.body["balance"], json!(95_000), "{db}");

        // Over the receipts' limit, as JSON and as NDJSON: 413 problems, nothing booked.
        let filler = " ".repeat(kundo_web::RECEIPTS_BODY_LIMIT);
        let too_big = format!("[{}{filler}]", readme_receipt(9_999));
        for ct in ["application/json", "application/x-ndjson"] {
            let a = api
                .call_with(
                    Method::POST,
                    "/api/v1/receipts",
                    Some(&key),
                    ct,
                    Some(&too_big),
                )
                .await;
            assert_problem(
                &a,
                StatusCode::PAYLOAD_TOO_LARGE,
                None,
                &format!("{db} {ct}"),
            );
            assert_eq!(a.body["type"], "/problems/too-large", "{db}");
        }
        // Other routes keep 1 MiB.
        let big = format!("[{}]", " ".repeat(kundo_web::BODY_LIMIT));
        let a = api
            .call(Method::PUT, "/api/v1/stores", Some(&key), Some(&big))
            .await;
        assert_problem(&a, StatusCode::PAYLOAD_TOO_LARGE, None, db);
        let count = api
            .admin(
                Method::GET,
                &format!("/api/v1/customers/{number}/figures"),
                None,
            )
            .await;
        assert_eq!(
            count.body["receipts_total"],
            json!(5_000),
            "{db}: {}",
            count.body
        );
    }
}

#[tokio::test]
async fn errors_that_no_handler_wrote_are_problems_too() {
    let api = Api::all().await.remove(0);
    let key = api.admin.clone();
    // A method the route does not have: 405 with the methods it has, also on public routes
    // (it used to be 403 "route not listed").
    for (method, path, allow) in [
        ("TRACE", "/health", "GET, HEAD"),
        ("POST", "/health", "GET, HEAD"),
        ("TRACE", "/api/v1/openapi.json", "GET, HEAD"),
        ("PUT", "/api/v1/customers", "GET, HEAD, POST"),
        ("DELETE", "/api/v1/receipts", "POST"),
    ] {
        let m = Method::from_bytes(method.as_bytes()).unwrap();
        let a = api.call(m, path, Some(&key), None).await;
        let ctx = format!("{method} {path}");
        assert_problem(&a, StatusCode::METHOD_NOT_ALLOWED, None, &ctx);
        assert_eq!(a.body["type"], "/problems/method-not-allowed", "{ctx}");
        assert_eq!(
            a.headers.get(header::ALLOW).and_then(|v| v.to_str().ok()),
            Some(allow),
            "{ctx}"
        );
    }
    // HEAD is the GET of the route, with its scope.
    let a = api
        .call(Method::HEAD, "/api/v1/customers", None, None)
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let a = api
        .call(Method::HEAD, "/api/v1/customers", Some(&key), None)
        .await;
    assert_eq!(a.status, StatusCode::OK);
    let a = api.call(Method::HEAD, "/health", None, None).await;
    assert_eq!(a.status, StatusCode::OK);

    // An unknown route.
    for path in ["/api/v1/nothing-here", "/nothing-here"] {
        let a = api.call(Method::GET, path, Some(&key), None).await;
        assert_problem(&a, StatusCode::NOT_FOUND, None, path);
    }
    // A path parameter axum cannot read (not UTF-8): 400, a problem.
    let req = Request::builder()
        .uri("/api/v1/customers/%FF")
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .body(Body::empty())
        .unwrap();
    let a = api.send(req).await;
    assert_problem(&a, StatusCode::BAD_REQUEST, None, "path");
    assert!(a.body["detail"].as_str().is_some(), "{}", a.body);
    // Malformed JSON and a wrong content type, on the receipts' own parser too.
    let a = api
        .call(Method::POST, "/api/v1/receipts", Some(&key), Some("[{"))
        .await;
    assert_problem(&a, StatusCode::BAD_REQUEST, None, "malformed");
    let a = api
        .call_with(
            Method::POST,
            "/api/v1/receipts",
            Some(&key),
            "text/plain",
            Some("{}"),
        )
        .await;
    assert_problem(&a, StatusCode::UNSUPPORTED_MEDIA_TYPE, None, "text/plain");
}
