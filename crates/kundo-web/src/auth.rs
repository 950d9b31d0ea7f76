//! Who is calling: a bearer API key (systems) or a session cookie (staff). Every route in the
//! table of [`crate::routes::ROUTES`] names its scope; a route that is not in the table is
//! refused, so a forgotten entry fails closed.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kundo_app::Actor;

use crate::AppState;
use crate::problem::Problem;
use crate::routes::{allowed_methods, required_scope};

pub const SESSION_COOKIE: &str = "kundo_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

pub fn cookie_value<'a>(req_headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    req_headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == name).then_some(v)
        })
}

pub async fn authorize(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string());
    let Some(path) = path else {
        // No route matched: let the router answer 404/405.
        return next.run(req).await;
    };
    let scope = match required_scope(req.method(), &path) {
        Some(None) => return next.run(req).await,
        Some(Some(scope)) => scope,
        None => return unlisted(&path),
    };
    let headers = req.headers().clone();
    let actor = match resolve_actor(&state, &headers).await {
        Ok(Some(actor)) => actor,
        Ok(None) => return Problem::unauthorized().into_response(),
        Err(e) => return Problem::from(e).into_response(),
    };
    if let Some(expected) = &actor.csrf_token {
        let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
        let sent = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        if unsafe_method && sent != Some(expected.as_str()) {
            return Problem::new(
                axum::http::StatusCode::FORBIDDEN,
                "csrf",
                "CSRF token missing or wrong",
            )
            .detail("a browser session must send the X-CSRF-Token header it got at login")
            .into_response();
        }
    }
    if scope != "authenticated" && !actor.allows(scope) {
        return Problem::forbidden(scope).into_response();
    }
    req.extensions_mut().insert(actor);
    next.run(req).await
}

/// A method the table does not list for a path it knows is 405 with the methods it does list;
/// a path it does not know at all stays refused (a route forgotten in the table fails closed).
fn unlisted(path: &str) -> Response {
    let methods = allowed_methods(path);
    if methods.is_empty() {
        return Problem::forbidden("(route not listed)").into_response();
    }
    let allow = methods.join(", ");
    let mut res = Problem::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
    )
    .detail(format!("{path} answers {allow}"))
    .into_response();
    if let Ok(v) = header::HeaderValue::from_str(&allow) {
        res.headers_mut().insert(header::ALLOW, v);
    }
    res
}

async fn resolve_actor(
    state: &AppState,
    headers: &axum::http::HeaderMap,
) -> Result<Option<Actor>, kundo_app::AppError> {
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        let key = auth
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        return match key {
            Some(k) if !k.is_empty() => state.app.authenticate_key(k).await,
            _ => Ok(None),
        };
    }
    match cookie_value(headers, SESSION_COOKIE) {
        Some(token) => state.app.session_actor(token).await,
        None => Ok(None),
    }
}
