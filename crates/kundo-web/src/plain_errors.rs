//! Errors that no handler wrote — the router's 404 and 405, the timeout's 408, axum's extractor
//! rejections (a body over the limit, a path or query it cannot read) — come out of axum and
//! tower as plain text or with no body at all. This layer turns every such answer into the
//! RFC 9457 problem the API promises, keeping its status and headers (`Allow` of a 405) and
//! the text as `detail`. Answers that are problems already, and the staff UI's HTML pages,
//! pass unchanged.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::problem::Problem;

/// The longest plain error text kept as `detail`; axum's are a line or two.
const MAX_TEXT: usize = 16 * 1024;

pub async fn as_problems(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let content_type = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with("application/problem+json") || content_type.starts_with("text/html")
    {
        return res;
    }
    let (mut parts, body) = res.into_response().into_parts();
    let text = to_bytes(body, MAX_TEXT).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text).trim().to_string();
    let mut problem = problem_for(status);
    if !text.is_empty() {
        problem = problem.detail(text);
    }
    let (problem_parts, problem_body) = problem.into_response().into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in &problem_parts.headers {
        parts.headers.insert(name, value.clone());
    }
    Response::from_parts(parts, Body::new(problem_body))
}

/// The problem type of a status that a layer or the router produced.
fn problem_for(status: StatusCode) -> Problem {
    let slug = match status {
        StatusCode::BAD_REQUEST => "bad-request",
        StatusCode::NOT_FOUND => "not-found",
        StatusCode::METHOD_NOT_ALLOWED => "method-not-allowed",
        StatusCode::REQUEST_TIMEOUT => "timeout",
        StatusCode::PAYLOAD_TOO_LARGE => "too-large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported-media-type",
        StatusCode::UNPROCESSABLE_ENTITY => "validation",
        s if s.is_server_error() => "internal",
        _ => "http-error",
    };
    Problem::new(status, slug, status.canonical_reason().unwrap_or("Error"))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::Router;
    use axum::routing::get;
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    use tower_http::timeout::TimeoutLayer;

    use super::*;

    async fn answer(router: Router, uri: &str) -> (StatusCode, String, serde_json::Value) {
        let req = Request::builder().uri(uri).body(Body::empty()).unwrap();
        let res = router.oneshot(req).await.unwrap();
        let status = res.status();
        let ct = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            ct,
            serde_json::from_slice(&bytes).unwrap_or_default(),
        )
    }

    #[tokio::test]
    async fn a_timeout_and_plain_text_errors_become_problems_html_and_problems_stay() {
        let router = Router::new()
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    "late"
                }),
            )
            .route("/text", get(|| async { (StatusCode::CONFLICT, "taken") }))
            .route(
                "/html",
                get(|| async { (StatusCode::NOT_FOUND, axum::response::Html("<p>no</p>")) }),
            )
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                Duration::from_millis(20),
            ))
            .layer(axum::middleware::from_fn(as_problems));
        let (status, ct, body) = answer(router.clone(), "/slow").await;
        assert_eq!(status, StatusCode::REQUEST_TIMEOUT);
        assert_eq!(ct, "application/problem+json");
        assert_eq!(body["type"], "/problems/timeout");
        assert_eq!(body["status"], 408);
        let (status, ct, body) = answer(router.clone(), "/text").await;
        assert_eq!(
            (status, ct.as_str()),
            (StatusCode::CONFLICT, "application/problem+json")
        );
        assert_eq!(body["detail"], "taken");
        let (status, ct, _) = answer(router, "/html").await;
        assert_eq!(
            (status, ct.as_str()),
            (StatusCode::NOT_FOUND, "text/html; charset=utf-8")
        );
    }
}
