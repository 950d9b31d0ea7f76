//! Campaign routes: create, read, start, results, members, the lettershop and email files, and
//! the sync of the email list to the marketing automation system.

use axum::Extension;
use axum::extract::{Path, Query, State, rejection::QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kundo_app::Actor;
use kundo_app::automation::{Retry, SyncTarget};
use kundo_app::campaigns::{CampaignInput, StartLimit};
use kundo_core::error::FieldError;

use crate::AppState;
use crate::customers::{cursor_params, params_of};
use crate::json::JsonBody;
use crate::problem::Problem;

type Params = Result<Query<Vec<(String, String)>>, QueryRejection>;

fn campaign_id(id: &str) -> Result<i64, Problem> {
    id.parse().map_err(|_| Problem::not_found("campaign"))
}

fn bad(field: &str, message: &str) -> Problem {
    Problem::invalid(vec![FieldError::new(field, message)])
}

pub async fn list(State(s): State<AppState>, q: Params) -> Result<Response, Problem> {
    let (cursor, limit) = cursor_params(params_of(q)?)?;
    Ok(axum::Json(s.app.campaigns(cursor, limit).await?).into_response())
}

pub async fn create(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    JsonBody(input, _): JsonBody<CampaignInput>,
) -> Result<Response, Problem> {
    let view = s.app.create_campaign(&actor, input).await?;
    let mut res = (StatusCode::CREATED, axum::Json(&view)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/campaigns/{}", view.campaign.id)) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

pub async fn get_one(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    Ok(axum::Json(s.app.campaign(campaign_id(&id)?).await?).into_response())
}

/// Runs the start in its own task: should the request time out or the client go away, the
/// start goes on (and a second request resumes or returns it) instead of stopping half-way.
pub async fn start(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id = campaign_id(&id)?;
    let app = s.app.clone();
    let task =
        tokio::spawn(async move { app.start_campaign(&actor, id, StartLimit::default()).await });
    let view = task
        .await
        .map_err(|e| Problem::from(kundo_app::AppError::Io(e.to_string())))??;
    Ok(axum::Json(view).into_response())
}

pub async fn results(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    Ok(axum::Json(s.app.campaign_results(campaign_id(&id)?).await?).into_response())
}

pub async fn members(
    State(s): State<AppState>,
    Path(id): Path<String>,
    q: Params,
) -> Result<Response, Problem> {
    let id = campaign_id(&id)?;
    let mut group = None;
    let mut rest = Vec::new();
    for (k, v) in params_of(q)? {
        if k == "group" {
            if !matches!(v.as_str(), "target" | "control") {
                return Err(bad("group", "must be target or control"));
            }
            group = Some(v);
        } else {
            rest.push((k, v));
        }
    }
    let (cursor, limit) = cursor_params(rest)?;
    Ok(axum::Json(
        s.app
            .campaign_members(id, group.as_deref(), cursor, limit)
            .await?,
    )
    .into_response())
}

async fn file(s: &AppState, id: &str, kind: &str) -> Result<Response, Problem> {
    let id = campaign_id(id)?;
    let csv = s.app.campaign_file(id, kind).await?;
    let mut res = csv.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"campaign-{id}-{kind}.csv\""
    )) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

pub async fn lettershop(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    file(&s, &id, "lettershop").await
}

pub async fn email(State(s): State<AppState>, Path(id): Path<String>) -> Result<Response, Problem> {
    file(&s, &id, "email").await
}

pub async fn sync(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    JsonBody(target, _): JsonBody<SyncTarget>,
) -> Result<Response, Problem> {
    let id = campaign_id(&id)?;
    let report = s
        .app
        .sync_campaign(&actor, id, &target, Retry::default())
        .await?;
    Ok(axum::Json(report).into_response())
}
