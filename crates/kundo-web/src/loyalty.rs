//! Loyalty routes: receipts and returns, points, vouchers, runs, stores, points rules.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State, rejection::QueryRejection};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use kundo_app::receipts::{Booked, ReceiptInput, ReturnInput};
use kundo_app::runs::RunLimit;
use kundo_app::vouchers::{UseRequest, VoucherTemplate};
use kundo_app::{Actor, AppError};
use kundo_core::loyalty_runs::{BirthdayConfig, BonusConfig};
use kundo_core::points::PointsRules;
use kundo_store::loyalty::StoreRow;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::customers::{cursor_params, params_of};
use crate::json::{JsonBody, parse};
use crate::problem::Problem;

type Params = Result<Query<Vec<(String, String)>>, QueryRejection>;

fn booked(b: Booked) -> Response {
    let mut res = (
        StatusCode::from_u16(b.status).unwrap_or(StatusCode::OK),
        b.body,
    )
        .into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

fn outcome_json(o: Result<Booked, AppError>) -> Value {
    match o {
        Ok(b) => {
            json!({"status": b.status, "body": serde_json::from_str::<Value>(&b.body).unwrap_or(Value::Null)})
        }
        Err(e) => {
            let p = Problem::from(e);
            json!({"status": p.status, "problem": serde_json::to_value(&*p).unwrap_or(Value::Null)})
        }
    }
}

/// One receipt (a JSON object) answers as API.md says; a JSON array or NDJSON is a batch that
/// answers 200 with one result per receipt, in order.
pub async fn post_receipts(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let items: Vec<ReceiptInput> = if ct.starts_with("application/x-ndjson") {
        let mut items = Vec::new();
        for (i, line) in body.split(|b| *b == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            items.push(parse::<ReceiptInput>(line).map_err(|p| p.with("line", json!(i + 1)))?);
        }
        items
    } else if ct.starts_with("application/json") {
        let first = body.iter().find(|b| !b.is_ascii_whitespace());
        if first == Some(&b'[') {
            parse::<Vec<ReceiptInput>>(&body)?
        } else {
            let input: ReceiptInput = parse(&body)?;
            return Ok(booked(s.app.book_receipt(&actor, input).await?));
        }
    } else {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Expected JSON or NDJSON",
        )
        .detail("send application/json (one receipt or an array) or application/x-ndjson"));
    };
    let outcomes = s.app.book_receipts(&actor, items).await?;
    let results: Vec<Value> = outcomes.into_iter().map(outcome_json).collect();
    Ok(axum::Json(json!({ "results": results })).into_response())
}

pub async fn post_return(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((source, external_id)): Path<(String, String)>,
    JsonBody(input, _): JsonBody<ReturnInput>,
) -> Result<Response, Problem> {
    Ok(booked(
        s.app
            .book_return(&actor, &source, &external_id, input)
            .await?,
    ))
}

pub async fn points(
    State(s): State<AppState>,
    Path(number): Path<String>,
    q: Params,
) -> Result<Response, Problem> {
    let (before, limit) = cursor_params(params_of(q)?)?;
    Ok(axum::Json(s.app.points(&number, before, limit).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Adjustment {
    points: i64,
    reason: String,
}

pub async fn adjust(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(number): Path<String>,
    JsonBody(body, _): JsonBody<Adjustment>,
) -> Result<Response, Problem> {
    let balance = s
        .app
        .adjust_points(&actor, &number, body.points, &body.reason)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(json!({"balance": balance}))).into_response())
}

pub async fn figures(
    State(s): State<AppState>,
    Path(number): Path<String>,
) -> Result<Response, Problem> {
    Ok(axum::Json(s.app.purchase_figures(&number).await?).into_response())
}

pub async fn customer_vouchers(
    State(s): State<AppState>,
    Path(number): Path<String>,
) -> Result<Response, Problem> {
    Ok(axum::Json(json!({ "items": s.app.customer_vouchers(&number).await? })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueRequest {
    #[serde(flatten)]
    template: VoucherTemplate,
    #[serde(default)]
    customer_number: Option<String>,
}

pub async fn issue_voucher(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    body: Bytes,
) -> Result<Response, Problem> {
    // `deny_unknown_fields` does not work through `flatten`; check the keys by hand.
    let raw: serde_json::Map<String, Value> = parse(&body)?;
    const KEYS: &[&str] = &[
        "kind",
        "value_type",
        "value",
        "currency",
        "min_order",
        "channels",
        "valid_from",
        "valid_until",
        "customer_number",
    ];
    if let Some(k) = raw.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(Problem::invalid(vec![kundo_core::error::FieldError::new(
            k.clone(),
            "is not a known field",
        )]));
    }
    let req: IssueRequest = parse(&body)?;
    let v = s
        .app
        .issue_voucher(&actor, req.template, req.customer_number.as_deref())
        .await?;
    Ok((StatusCode::CREATED, axum::Json(v)).into_response())
}

pub async fn get_voucher(
    State(s): State<AppState>,
    Path(code): Path<String>,
) -> Result<Response, Problem> {
    Ok(axum::Json(s.app.voucher(&code).await?).into_response())
}

pub async fn validate_voucher(
    State(s): State<AppState>,
    Path(code): Path<String>,
    JsonBody(req, _): JsonBody<UseRequest>,
) -> Result<Response, Problem> {
    Ok(axum::Json(s.app.validate_voucher(&code, &req).await?).into_response())
}

pub async fn redeem_voucher(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(code): Path<String>,
    JsonBody(req, _): JsonBody<UseRequest>,
) -> Result<Response, Problem> {
    let v = s.app.redeem_voucher(&actor, &code, &req).await?;
    Ok(axum::Json(json!({"status": "redeemed", "code": v.code, "value_type": v.value_type, "value": v.value, "currency": v.currency, "redeemed_at": v.redeemed_at})).into_response())
}

pub async fn reverse_voucher(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(code): Path<String>,
) -> Result<Response, Problem> {
    Ok(axum::Json(s.app.reverse_redemption(&actor, &code).await?).into_response())
}

pub async fn cancel_voucher(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(code): Path<String>,
) -> Result<Response, Problem> {
    Ok(axum::Json(s.app.cancel_voucher(&actor, &code).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BonusRequest {
    period: String,
    #[serde(default)]
    config: Option<BonusConfig>,
}

pub async fn run_bonus(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    JsonBody(req, _): JsonBody<BonusRequest>,
) -> Result<Response, Problem> {
    if let Some(c) = &req.config {
        c.validate().map_err(config_errors)?;
    }
    let run = s
        .app
        .bonus_run(
            &actor,
            &req.period,
            &req.config.unwrap_or_default(),
            RunLimit::default(),
        )
        .await?;
    Ok(axum::Json(json!({"run_id": run.id, "period": run.period, "state": run.state, "vouchers_issued": run.vouchers_issued, "points_converted": run.points_converted, "run": run})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BirthdayRequest {
    date: String,
    #[serde(default)]
    config: Option<BirthdayConfig>,
}

pub async fn run_birthday(
    State(s): State<AppState>,
    JsonBody(req, _): JsonBody<BirthdayRequest>,
) -> Result<Response, Problem> {
    if let Some(c) = &req.config {
        c.validate().map_err(config_errors)?;
    }
    let run = s
        .app
        .birthday_run(
            &req.date,
            &req.config.unwrap_or_default(),
            RunLimit::default(),
        )
        .await?;
    Ok(axum::Json(json!({"run_id": run.id, "period": run.period, "state": run.state, "vouchers_issued": run.vouchers_issued, "points_converted": run.points_converted, "run": run})).into_response())
}

/// Errors of a run's `config`, named by their place in the body.
fn config_errors(errors: Vec<kundo_core::error::FieldError>) -> Problem {
    Problem::invalid(
        errors
            .into_iter()
            .map(|e| kundo_core::error::FieldError::new(format!("config.{}", e.field), e.message))
            .collect(),
    )
}

pub async fn run_expiry(State(s): State<AppState>) -> Result<Response, Problem> {
    let n = s.app.expire_vouchers().await?;
    Ok(axum::Json(json!({"vouchers_expired": n})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoresRequest {
    #[serde(default)]
    date: Option<String>,
}

/// Runs the scores job. It runs in its own task: if the request times out or the client goes
/// away, the run still finishes (and shows in `GET /api/v1/runs`), instead of stopping between
/// its steps.
pub async fn run_scores(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    JsonBody(req, _): JsonBody<ScoresRequest>,
) -> Result<Response, Problem> {
    let as_of = match req.date {
        Some(d) => kundo_app::scores::parse_as_of(&d)?,
        None => Utc::now().date_naive(),
    };
    let app = s.app.clone();
    let run = tokio::spawn(async move { app.run_scores(&actor, as_of, &|_, _, _| {}).await })
        .await
        .map_err(|e| AppError::Io(format!("the scores run stopped: {e}")))??;
    Ok(axum::Json(run).into_response())
}

pub async fn customer_scores(
    State(s): State<AppState>,
    Path(number): Path<String>,
) -> Result<Response, Problem> {
    Ok(axum::Json(s.app.customer_scores(&number).await?).into_response())
}

pub async fn list_runs(State(s): State<AppState>) -> Result<Response, Problem> {
    Ok(axum::Json(json!({"items": s.app.runs(100).await?})).into_response())
}

fn run_id(id: &str) -> Result<i64, Problem> {
    id.parse().map_err(|_| Problem::not_found("run"))
}

pub async fn get_run(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    Ok(axum::Json(s.app.run(run_id(&id)?).await?).into_response())
}

pub async fn lettershop(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id = run_id(&id)?;
    let csv = s.app.lettershop_batch(id).await?;
    let mut res = csv.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) =
        HeaderValue::from_str(&format!("attachment; filename=\"lettershop-run-{id}.csv\""))
    {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

pub async fn stores(State(s): State<AppState>) -> Result<Response, Problem> {
    let mut conn = s.app.store.acquire().await.map_err(AppError::from)?;
    let rows = kundo_store::loyalty::stores(&mut conn.db())
        .await
        .map_err(AppError::from)?;
    Ok(axum::Json(json!({ "items": rows })).into_response())
}

pub async fn put_stores(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    JsonBody(rows, _): JsonBody<Vec<StoreRow>>,
) -> Result<Response, Problem> {
    let n = s.app.upsert_stores(&actor, rows).await?;
    Ok(axum::Json(json!({"stores": n})).into_response())
}

pub async fn rules(State(s): State<AppState>) -> Result<Response, Problem> {
    Ok(axum::Json(json!({ "items": s.app.points_rules().await? })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesRequest {
    valid_from: DateTime<Utc>,
    rules: PointsRules,
}

pub async fn set_rules(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    JsonBody(req, _): JsonBody<RulesRequest>,
) -> Result<Response, Problem> {
    let id = s
        .app
        .set_points_rules(&actor, req.valid_from, &req.rules)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(json!({"id": id}))).into_response())
}
