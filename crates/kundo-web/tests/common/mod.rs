//! The harness the HTTP tests share: a router per backend (no socket), keys with scopes, and
//! answers with their status, headers and JSON body.
#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use kundo_app::{Actor, App};
use kundo_store::testing;
use serde_json::{Value, json};
use tower::ServiceExt;

pub struct Api {
    pub router: Router,
    pub app: App,
    pub admin: String,
    pub db: &'static str,
    _dir: Option<testing::TempDir>,
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    /// The body as text (CSV files, or to show in a failed assertion).
    pub text: String,
}

impl Api {
    /// One router per backend: SQLite always, PostgreSQL when configured.
    pub async fn all() -> Vec<Api> {
        let mut out = Vec::new();
        for (store, dir) in testing::all().await {
            let db = store.backend().name();
            let app = App::new(store);
            let admin = app
                .create_api_key(&Actor::cli(), "test-admin", &["admin".into()])
                .await
                .unwrap()
                .key;
            out.push(Api {
                router: kundo_web::router(app.clone()),
                app,
                admin,
                db,
                _dir: dir,
            });
        }
        out
    }

    pub async fn key(&self, scopes: &[&str]) -> String {
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        self.app
            .create_api_key(&Actor::cli(), "test", &scopes)
            .await
            .unwrap()
            .key
    }

    pub async fn send(&self, req: Request<Body>) -> Answer {
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(text.clone()))
        };
        Answer {
            status,
            headers,
            body,
            text,
        }
    }

    /// A request with a body of the given content type.
    pub async fn call_with(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        content_type: &str,
        body: Option<&str>,
    ) -> Answer {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(k) = key {
            req = req.header(header::AUTHORIZATION, format!("Bearer {k}"));
        }
        let req = match body {
            Some(b) => req
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        };
        self.send(req.unwrap()).await
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<&str>,
    ) -> Answer {
        self.call_with(method, path, key, "application/json", body)
            .await
    }

    /// A JSON request with an optional `If-Match`.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        key: &str,
        body: Option<Value>,
        if_match: Option<&str>,
    ) -> Answer {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {key}"));
        if let Some(m) = if_match {
            req = req.header(header::IF_MATCH, m);
        }
        let req = match body {
            Some(b) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        };
        self.send(req.unwrap()).await
    }

    pub async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let text = body.map(|b| b.to_string());
        self.call(method, path, Some(&self.admin.clone()), text.as_deref())
            .await
    }
}

/// Asserts an RFC 9457 problem with this status and, if given, this first field at fault.
pub fn assert_problem(a: &Answer, status: StatusCode, field: Option<&str>, ctx: &str) {
    assert_eq!(a.status, status, "{ctx}: {}", a.body);
    assert_eq!(
        a.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json"),
        "{ctx}"
    );
    assert_eq!(a.body["status"], json!(status.as_u16()), "{ctx}");
    assert!(
        a.body["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("/problems/")),
        "{ctx}"
    );
    if let Some(f) = field {
        assert_eq!(a.body["field"], json!(f), "{ctx}: {}", a.body);
    }
}
