//! Segment routes: saved segments, count, members (paginated and as CSV), preview, snapshots.
//! Relative dates in definitions are resolved against today (UTC).

use axum::Extension;
use axum::extract::{Path, Query, State, rejection::QueryRejection};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, Utc};
use kundo_app::Actor;
use kundo_app::segments::{MAX_PAGE, SegmentInput, SegmentView};
use kundo_core::error::FieldError;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::customers::{cursor_params, params_of, parse_if_match};
use crate::json::JsonBody;
use crate::problem::Problem;

type Params = Result<Query<Vec<(String, String)>>, QueryRejection>;

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn segment_id(id: &str) -> Result<i64, Problem> {
    id.parse().map_err(|_| Problem::not_found("segment"))
}

fn bad(field: &str, message: &str) -> Problem {
    Problem::invalid(vec![FieldError::new(field, message)])
}

fn with_etag(status: StatusCode, view: &SegmentView) -> Response {
    let mut res = (status, axum::Json(view)).into_response();
    if let Ok(v) = HeaderValue::from_str(&view.etag()) {
        res.headers_mut().insert(header::ETAG, v);
    }
    if status == StatusCode::CREATED
        && let Ok(v) = HeaderValue::from_str(&format!("/api/v1/segments/{}", view.id))
    {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

pub async fn list(State(s): State<AppState>, q: Params) -> Result<Response, Problem> {
    let (cursor, limit) = cursor_params(params_of(q)?)?;
    Ok(axum::Json(s.app.segments(cursor, limit).await?).into_response())
}

pub async fn create(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    JsonBody(input, _): JsonBody<SegmentInput>,
) -> Result<Response, Problem> {
    let view = s.app.create_segment(&actor, input, today()).await?;
    Ok(with_etag(StatusCode::CREATED, &view))
}

pub async fn get_one(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let view = s.app.segment(segment_id(&id)?).await?;
    Ok(with_etag(StatusCode::OK, &view))
}

pub async fn put(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(input, _): JsonBody<SegmentInput>,
) -> Result<Response, Problem> {
    let id = segment_id(&id)?;
    let if_match = parse_if_match(&headers)?;
    let view = s
        .app
        .change_segment(&actor, id, input, if_match, today())
        .await?;
    Ok(with_etag(StatusCode::OK, &view))
}

pub async fn delete(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    s.app.delete_segment(&actor, segment_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn count(State(s): State<AppState>, Path(id): Path<String>) -> Result<Response, Problem> {
    let n = s.app.segment_count(segment_id(&id)?, today()).await?;
    Ok(axum::Json(json!({ "count": n })).into_response())
}

pub async fn members(
    State(s): State<AppState>,
    Path(id): Path<String>,
    q: Params,
) -> Result<Response, Problem> {
    let id = segment_id(&id)?;
    let mut cursor = None;
    let mut limit = 100;
    for (k, v) in params_of(q)? {
        match k.as_str() {
            "cursor" => cursor = Some(crate::customers::id_cursor(&v)?),
            "limit" => {
                limit = v
                    .parse::<u64>()
                    .ok()
                    .filter(|n| (1..=MAX_PAGE).contains(n))
                    .ok_or_else(|| {
                        bad("limit", &format!("must be a number from 1 to {MAX_PAGE}"))
                    })?
            }
            other => return Err(bad(other, "is not a parameter of this route")),
        }
    }
    Ok(axum::Json(s.app.segment_members(id, today(), cursor, limit).await?).into_response())
}

pub async fn members_csv(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id = segment_id(&id)?;
    let mut csv = Vec::new();
    s.app.export_segment(id, today(), &mut csv).await?;
    let mut res = csv.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"segment-{id}-members.csv\""
    )) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    definition: Value,
    #[serde(default)]
    limit: Option<u64>,
}

pub async fn preview(
    State(s): State<AppState>,
    JsonBody(req, _): JsonBody<PreviewRequest>,
) -> Result<Response, Problem> {
    let limit = match req.limit {
        None => 20,
        Some(n) if n <= MAX_PAGE => n,
        Some(_) => return Err(bad("limit", &format!("must be from 0 to {MAX_PAGE}"))),
    };
    let p = s
        .app
        .preview_segment(&req.definition, today(), limit)
        .await?;
    Ok(axum::Json(p).into_response())
}

pub async fn snapshot(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let snap = s
        .app
        .snapshot_segment(&actor, segment_id(&id)?, today())
        .await?;
    Ok((StatusCode::CREATED, axum::Json(snap)).into_response())
}
