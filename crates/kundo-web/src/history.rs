//! The contact history: a customer's timeline, logging a contact, and cases (complaints and
//! service requests) with their status history.

use axum::Extension;
use axum::extract::{Path, Query, State, rejection::QueryRejection};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kundo_app::Actor;
use kundo_app::cases::{CaseInput, CaseStatusInput, CaseView};
use kundo_app::timeline::ActivityInput;
use kundo_core::history::parse_timeline_kinds;
use kundo_store::timeline::TimelineCursor;

use crate::AppState;
use crate::customers::{bad, cursor_params, params_of, parse_if_match, parse_limit};
use crate::json::JsonBody;
use crate::problem::Problem;

type Params = Result<Query<Vec<(String, String)>>, QueryRejection>;

pub async fn timeline(
    State(s): State<AppState>,
    Path(number): Path<String>,
    q: Params,
) -> Result<Response, Problem> {
    let mut kinds: Option<Vec<String>> = None;
    let mut cursor = None;
    let mut limit = 50;
    for (k, v) in params_of(q)? {
        match k.as_str() {
            // `kind=call,letter` or `kind=call&kind=letter`
            "kind" => {
                let parsed = parse_timeline_kinds(&v).map_err(|m| bad("kind", &m))?;
                let all = kinds.get_or_insert_with(Vec::new);
                all.extend(
                    parsed
                        .into_iter()
                        .filter(|k| !all.contains(k))
                        .collect::<Vec<_>>(),
                );
            }
            "cursor" => {
                cursor = Some(
                    TimelineCursor::decode(&v)
                        .ok_or_else(|| bad("cursor", "is not a cursor from a previous page"))?,
                )
            }
            "limit" => limit = parse_limit(&v, 500)? as i64,
            other => return Err(bad(other, "is not a parameter of this route")),
        }
    }
    Ok(axum::Json(
        s.app
            .timeline(&number, kinds.as_deref(), cursor, limit)
            .await?,
    )
    .into_response())
}

pub async fn log_activity(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(number): Path<String>,
    JsonBody(input, _): JsonBody<ActivityInput>,
) -> Result<Response, Problem> {
    let a = s.app.log_activity(&actor, &number, input).await?;
    Ok((StatusCode::CREATED, axum::Json(a)).into_response())
}

fn case_id(id: &str) -> Result<i64, Problem> {
    id.parse().map_err(|_| Problem::not_found("case"))
}

fn with_etag(status: StatusCode, case: &CaseView) -> Response {
    let mut res = (status, axum::Json(case)).into_response();
    if let Ok(v) = HeaderValue::from_str(&case.etag()) {
        res.headers_mut().insert(header::ETAG, v);
    }
    if status == StatusCode::CREATED
        && let Ok(v) = HeaderValue::from_str(&format!("/api/v1/cases/{}", case.case.id))
    {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

pub async fn create_case(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(number): Path<String>,
    JsonBody(input, _): JsonBody<CaseInput>,
) -> Result<Response, Problem> {
    let case = s.app.create_case(&actor, &number, input).await?;
    Ok(with_etag(StatusCode::CREATED, &case))
}

pub async fn get_case(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let case = s.app.case(case_id(&id)?).await?;
    Ok(with_etag(StatusCode::OK, &case))
}

pub async fn patch_case(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(input, _): JsonBody<CaseStatusInput>,
) -> Result<Response, Problem> {
    let id = case_id(&id)?;
    let if_match = parse_if_match(&headers)?;
    let case = s
        .app
        .change_case_status(&actor, id, input, if_match)
        .await?;
    Ok(with_etag(StatusCode::OK, &case))
}

pub async fn customer_cases(
    State(s): State<AppState>,
    Path(number): Path<String>,
    q: Params,
) -> Result<Response, Problem> {
    let (before, limit) = cursor_params(params_of(q)?)?;
    Ok(axum::Json(s.app.customer_cases(&number, before, limit).await?).into_response())
}
