//! Data-quality routes: the duplicate check and its review queue, merges, postal returns.

use std::collections::BTreeMap;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State, rejection::QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kundo_app::Actor;
use kundo_core::customer::CustomerInput;
use serde::Deserialize;
use serde_json::json;

use crate::AppState;
use crate::customers::{bad, params_of, parse_limit};
use crate::json::JsonBody;
use crate::problem::Problem;

type Params = Result<Query<Vec<(String, String)>>, QueryRejection>;

/// `{"duplicate": "100042", "fields": {"email": "duplicate"}}`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    pub duplicate: String,
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
}

pub async fn merge(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(number): Path<String>,
    JsonBody(req, _): JsonBody<MergeRequest>,
) -> Result<Response, Problem> {
    let outcome = s
        .app
        .merge_customers(&actor, &number, &req.duplicate, &req.fields)
        .await?;
    Ok(axum::Json(outcome).into_response())
}

pub async fn merge_preview(
    State(s): State<AppState>,
    Path(number): Path<String>,
    JsonBody(req, _): JsonBody<MergeRequest>,
) -> Result<Response, Problem> {
    let view = s
        .app
        .merge_preview(&number, &req.duplicate, &req.fields)
        .await?;
    Ok(axum::Json(view).into_response())
}

/// The candidates a create would meet, without creating anything.
pub async fn check(
    State(s): State<AppState>,
    JsonBody(input, _): JsonBody<CustomerInput>,
) -> Result<Response, Problem> {
    let found = s.app.duplicate_candidates(input).await?;
    Ok(axum::Json(json!({ "duplicates": found })).into_response())
}

pub async fn scan(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
) -> Result<Response, Problem> {
    let report = s.app.scan_duplicates(&actor, &|_| {}).await?;
    Ok(axum::Json(report).into_response())
}

pub async fn pairs(State(s): State<AppState>, q: Params) -> Result<Response, Problem> {
    let mut status = "open".to_string();
    let mut cursor = None;
    let mut limit = 50;
    for (k, v) in params_of(q)? {
        match k.as_str() {
            "status" => status = v,
            "cursor" => cursor = Some(v),
            "limit" => limit = parse_limit(&v, 500)? as i64,
            other => return Err(bad(other, "is not a parameter of this route")),
        }
    }
    let page = s
        .app
        .duplicate_pairs(&status, cursor.as_deref(), limit)
        .await?;
    Ok(axum::Json(page).into_response())
}

pub async fn dismiss(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id: i64 = id
        .parse()
        .map_err(|_| Problem::not_found("open duplicate pair"))?;
    s.app.dismiss_duplicate_pair(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A returns file as `text/csv`; `?skip_invalid=true` applies the good rows of a file with bad
/// ones. A file with bad rows otherwise changes nothing and answers 422 with every bad line.
pub async fn postal_returns(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    q: Params,
    body: Bytes,
) -> Result<Response, Problem> {
    let mut skip_invalid = false;
    for (k, v) in params_of(q)? {
        match (k.as_str(), v.as_str()) {
            ("skip_invalid", "true") => skip_invalid = true,
            ("skip_invalid", "false") => {}
            ("skip_invalid", _) => return Err(bad("skip_invalid", "must be true or false")),
            (other, _) => return Err(bad(other, "is not a parameter of this route")),
        }
    }
    let report = s
        .app
        .import_postal_returns(&actor, &body, skip_invalid)
        .await?;
    if report.aborted {
        let mut p = Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-rows",
            "The file has bad rows; nothing was imported",
        );
        for e in &report.errors {
            p = p.field(
                format!("line {} column {}", e.line, e.column),
                e.message.clone(),
            );
        }
        return Err(p.with("report", serde_json::to_value(&report).unwrap_or_default()));
    }
    Ok(axum::Json(report).into_response())
}
