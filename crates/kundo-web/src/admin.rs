//! Health, metrics, sessions, and the admin routes: attributes, API keys, users, audit, events.

use axum::Extension;
use axum::extract::{Path, Query, State, rejection::QueryRejection};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kundo_app::Actor;
use kundo_core::attributes::AttributeDefinition;
use kundo_core::auth::Role;
use serde::Deserialize;
use serde_json::json;

use crate::AppState;
use crate::auth::{SESSION_COOKIE, cookie_value};
use crate::customers::{cursor_params, params_of};
use crate::json::JsonBody;
use crate::problem::Problem;

type Params = Result<Query<Vec<(String, String)>>, QueryRejection>;

pub async fn health(State(s): State<AppState>) -> Response {
    match s.app.store.ping().await {
        Ok(()) => axum::Json(json!({"status": "ok", "database": s.app.store.backend().name()}))
            .into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"status": "database unavailable"})),
        )
            .into_response(),
    }
}

pub async fn metrics(State(s): State<AppState>) -> Response {
    let customers = match s.app.store.acquire().await {
        Ok(mut c) => kundo_store::customers::count(&mut c.db()).await.ok(),
        Err(_) => None,
    };
    let mut res = s.metrics.render(customers).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    res
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Login {
    username: String,
    password: String,
}

pub async fn login(
    State(s): State<AppState>,
    JsonBody(body, _): JsonBody<Login>,
) -> Result<Response, Problem> {
    let session = s.app.login(&body.username, &body.password).await?;
    let cookie = format!(
        "{SESSION_COOKIE}={}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        session.token,
        kundo_app::auth::SESSION_HOURS * 3600
    );
    let mut res = (StatusCode::CREATED, axum::Json(json!({"username": session.username, "role": session.role.as_str(), "csrf_token": session.csrf_token}))).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(res)
}

pub async fn whoami(Extension(actor): Extension<Actor>) -> Response {
    axum::Json(json!({"name": actor.name, "scopes": actor.scopes})).into_response()
}

pub async fn logout(State(s): State<AppState>, headers: HeaderMap) -> Result<Response, Problem> {
    if let Some(token) = cookie_value(&headers, SESSION_COOKIE) {
        s.app.logout(token).await?;
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("kundo_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    Ok(res)
}

pub async fn attributes(State(s): State<AppState>) -> Result<Response, Problem> {
    let defs = s.app.attribute_definitions().await?;
    Ok(axum::Json(json!({ "items": *defs })).into_response())
}

pub async fn define_attribute(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    JsonBody(def, _): JsonBody<AttributeDefinition>,
) -> Result<Response, Problem> {
    s.app.define_attribute(&actor, def.clone()).await?;
    Ok((StatusCode::CREATED, axum::Json(def)).into_response())
}

pub async fn delete_attribute(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(name): Path<String>,
) -> Result<Response, Problem> {
    s.app.delete_attribute(&actor, &name).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn api_keys(State(s): State<AppState>) -> Result<Response, Problem> {
    let mut conn = s
        .app
        .store
        .acquire()
        .await
        .map_err(kundo_app::AppError::from)?;
    let keys = kundo_store::auth::api_keys(&mut conn.db())
        .await
        .map_err(kundo_app::AppError::from)?;
    let items: Vec<_> = keys
        .into_iter()
        .map(|k| json!({"id": k.id, "name": k.name, "prefix": k.prefix, "scopes": k.scopes.split_whitespace().collect::<Vec<_>>(), "created_at": k.created_at, "revoked_at": k.revoked_at}))
        .collect();
    Ok(axum::Json(json!({ "items": items })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    name: String,
    scopes: Vec<String>,
}

pub async fn create_api_key(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    JsonBody(body, _): JsonBody<NewKey>,
) -> Result<Response, Problem> {
    let key = s
        .app
        .create_api_key(&actor, &body.name, &body.scopes)
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({"id": key.id, "name": body.name, "scopes": body.scopes, "key": key.key})),
    )
        .into_response())
}

pub async fn revoke_api_key(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id: i64 = id.parse().map_err(|_| Problem::not_found("api key"))?;
    s.app.revoke_api_key(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn users(State(s): State<AppState>) -> Result<Response, Problem> {
    let mut conn = s
        .app
        .store
        .acquire()
        .await
        .map_err(kundo_app::AppError::from)?;
    let users = kundo_store::auth::users(&mut conn.db())
        .await
        .map_err(kundo_app::AppError::from)?;
    let items: Vec<_> = users
        .into_iter()
        .map(|u| json!({"username": u.username, "role": u.role, "active": u.active}))
        .collect();
    Ok(axum::Json(json!({ "items": items })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    username: String,
    password: String,
    role: String,
}

pub async fn create_user(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    JsonBody(body, _): JsonBody<NewUser>,
) -> Result<Response, Problem> {
    let role = Role::parse(&body.role).ok_or_else(|| {
        Problem::invalid(vec![kundo_core::error::FieldError::new(
            "role",
            "must be one of: admin, marketing, service, store",
        )])
    })?;
    s.app
        .create_user(&actor, &body.username, &body.password, role)
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({"username": body.username.trim(), "role": role.as_str()})),
    )
        .into_response())
}

pub async fn audit_log(State(s): State<AppState>, q: Params) -> Result<Response, Problem> {
    let (before, limit) = cursor_params(params_of(q)?)?;
    Ok(axum::Json(s.app.audit_log(before, limit).await?).into_response())
}

pub async fn events(State(s): State<AppState>, q: Params) -> Result<Response, Problem> {
    let (after, limit) = cursor_params(params_of(q)?)?;
    Ok(axum::Json(s.app.events(after.unwrap_or(0), limit).await?).into_response())
}

pub async fn webhooks(State(s): State<AppState>) -> Result<Response, Problem> {
    Ok(axum::Json(json!({ "items": s.app.webhooks().await? })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    url: String,
    event_types: Vec<String>,
}

pub async fn create_webhook(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    JsonBody(body, _): JsonBody<NewWebhook>,
) -> Result<Response, Problem> {
    let (id, secret) = s
        .app
        .create_webhook(&actor, &body.url, &body.event_types)
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(
            json!({"id": id, "url": body.url, "event_types": body.event_types, "secret": secret}),
        ),
    )
        .into_response())
}

fn hook_id(id: &str) -> Result<i64, Problem> {
    id.parse().map_err(|_| Problem::not_found("webhook"))
}

pub async fn delete_webhook(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    s.app.delete_webhook(&actor, hook_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn webhook_deliveries(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    Ok(
        axum::Json(json!({ "items": s.app.webhook_deliveries(hook_id(&id)?).await? }))
            .into_response(),
    )
}
