//! Task routes: the queues per team, one task, its changes (with `If-Match`) and comments.

use axum::Extension;
use axum::extract::{Path, Query, State, rejection::QueryRejection};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kundo_app::Actor;
use kundo_app::tasks::{TaskInput, etag};
use kundo_core::history::{TASK_KINDS, TASK_STATUSES, one_of, parse_date};
use kundo_store::tasks::{TaskCursor, TaskFilter, TaskRow};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::AppState;
use crate::customers::{bad, cursor_params, params_of, parse_if_match, parse_limit};
use crate::json::JsonBody;
use crate::problem::Problem;

type Params = Result<Query<Vec<(String, String)>>, QueryRejection>;

fn task_id(id: &str) -> Result<i64, Problem> {
    id.parse().map_err(|_| Problem::not_found("task"))
}

fn with_etag(status: StatusCode, task: &TaskRow) -> Response {
    let mut res = (status, axum::Json(task)).into_response();
    if let Ok(v) = HeaderValue::from_str(&etag(task)) {
        res.headers_mut().insert(header::ETAG, v);
    }
    if status == StatusCode::CREATED
        && let Ok(v) = HeaderValue::from_str(&format!("/api/v1/tasks/{}", task.id))
    {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

pub async fn list(State(s): State<AppState>, q: Params) -> Result<Response, Problem> {
    let mut f = TaskFilter {
        limit: 50,
        ..Default::default()
    };
    let mut customer_number = None;
    for (k, v) in params_of(q)? {
        match k.as_str() {
            "team" => f.team = Some(v),
            "assignee" => f.assignee = Some(v),
            "status" => {
                one_of(&v, TASK_STATUSES).map_err(|m| bad("status", &m))?;
                f.status = Some(v);
            }
            "kind" => {
                one_of(&v, TASK_KINDS).map_err(|m| bad("kind", &m))?;
                f.kind = Some(v);
            }
            "due_before" => f.due_before = Some(parse_date(&v).map_err(|m| bad("due_before", &m))?),
            "customer_number" => customer_number = Some(v),
            "limit" => f.limit = parse_limit(&v, 500)?,
            "cursor" => {
                f.after = Some(
                    TaskCursor::decode(&v)
                        .ok_or_else(|| bad("cursor", "is not a cursor from a previous page"))?,
                )
            }
            other => return Err(bad(other, "is not a parameter of this route")),
        }
    }
    Ok(axum::Json(s.app.list_tasks(f, customer_number.as_deref()).await?).into_response())
}

pub async fn create(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    JsonBody(input, _): JsonBody<TaskInput>,
) -> Result<Response, Problem> {
    let task = s.app.create_task(&actor, input).await?;
    Ok(with_etag(StatusCode::CREATED, &task))
}

pub async fn get_one(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let task = s.app.task(task_id(&id)?).await?;
    Ok(with_etag(StatusCode::OK, &task))
}

pub async fn patch(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(body, _): JsonBody<Map<String, Value>>,
) -> Result<Response, Problem> {
    let id = task_id(&id)?;
    let if_match = parse_if_match(&headers)?;
    let task = s.app.update_task(&actor, id, &body, if_match).await?;
    Ok(with_etag(StatusCode::OK, &task))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommentInput {
    body: String,
}

pub async fn add_comment(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    JsonBody(input, _): JsonBody<CommentInput>,
) -> Result<Response, Problem> {
    let comment = s
        .app
        .add_task_comment(&actor, task_id(&id)?, &input.body)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(comment)).into_response())
}

pub async fn comments(
    State(s): State<AppState>,
    Path(id): Path<String>,
    q: Params,
) -> Result<Response, Problem> {
    let id = task_id(&id)?;
    let (after, limit) = cursor_params(params_of(q)?)?;
    Ok(axum::Json(s.app.task_comments(id, after, limit).await?).into_response())
}
