//! Work queues and jobs: the tasks inbox, postal returns upload, loyalty runs.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use kundo_app::AppError;
use kundo_app::postal_returns::ReturnsReport;
use kundo_app::runs::RunLimit;
use kundo_core::history::TASK_STATUSES;
use kundo_core::loyalty_runs::{BirthdayConfig, BonusConfig};
use kundo_store::tasks::TaskFilter;
use serde_json::{Map, Value};

use super::{
    Chrome, Ctx, Errors, Field, Form, app_error, date, fields, html, html_status, redirect, t,
};
use crate::AppState;

type Params = Query<Vec<(String, String)>>;

pub struct TaskLine {
    id: i64,
    title: String,
    kind: String,
    team: String,
    assignee: String,
    due: String,
    status: String,
    customer: String,
}

#[derive(Template)]
#[template(path = "tasks.html")]
struct TasksPage {
    c: Chrome,
    filters: Vec<Field>,
    tasks: Vec<TaskLine>,
}

fn filter_fields(ctx: &Ctx, form: &Form) -> Vec<Field> {
    let values = form.map();
    let mut f = fields(
        ctx.lang,
        &[
            ("team", "col.team", "text"),
            ("assignee", "col.assignee", "text"),
            ("status", "col.status", "select"),
        ],
        &values,
        &Errors::default(),
    );
    f[2].options = std::iter::once((String::new(), t(ctx.lang, "tasks.any").to_string()))
        .chain(TASK_STATUSES.iter().map(|s| (s.to_string(), s.to_string())))
        .collect();
    f
}

fn some(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

pub async fn tasks(
    State(s): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(p): Params,
) -> Response {
    let form = Form(p);
    let filter = TaskFilter {
        team: some(form.get("team")),
        assignee: some(form.get("assignee")),
        status: some(form.get("status")),
        limit: 200,
        ..Default::default()
    };
    let page = match s.app.list_tasks(filter, None).await {
        Ok(p) => p,
        Err(e) => return app_error(ctx.lang, e),
    };
    html(&TasksPage {
        c: Chrome::new(&ctx, t(ctx.lang, "tasks.title")),
        filters: filter_fields(&ctx, &form),
        tasks: page
            .items
            .into_iter()
            .map(|x| TaskLine {
                id: x.id,
                title: x.title,
                kind: x.kind,
                team: x.team.unwrap_or_default(),
                assignee: x.assignee.unwrap_or_default(),
                due: x.due_date.map(|d| d.to_string()).unwrap_or_default(),
                status: x.status,
                customer: x.customer_number.unwrap_or_default(),
            })
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "task.html")]
struct TaskPage {
    c: Chrome,
    id: i64,
    version: i64,
    details: Vec<(&'static str, String)>,
    customer: String,
    description: String,
    status: Vec<Field>,
    comments: Vec<(String, String, String)>,
    comment: Vec<Field>,
    can_write: bool,
    message: String,
}

async fn task_page(
    s: &AppState,
    ctx: &Ctx,
    id: &str,
    errors: &Errors,
    message: String,
    status: StatusCode,
) -> Response {
    let lang = ctx.lang;
    let Ok(id) = id.parse::<i64>() else {
        return app_error(lang, AppError::NotFound("task"));
    };
    let (task, comments) = match (
        s.app.task(id).await,
        s.app.task_comments(id, None, 200).await,
    ) {
        (Ok(x), Ok(c)) => (x, c.items),
        (Err(e), _) | (_, Err(e)) => return app_error(lang, e),
    };
    let mut values = std::collections::HashMap::new();
    values.insert("status".to_string(), task.status.clone());
    let mut st = fields(
        lang,
        &[("status", "task.status", "select")],
        &values,
        errors,
    );
    st[0].options = TASK_STATUSES
        .iter()
        .map(|s| (s.to_string(), s.to_string()))
        .collect();
    let comment = fields(
        lang,
        &[("body", "task.comment", "textarea")],
        &Default::default(),
        errors,
    );
    html_status(
        status,
        &TaskPage {
            c: Chrome::new(ctx, format!("{} #{}", t(lang, "tasks.title"), task.id)),
            id: task.id,
            version: task.version,
            details: vec![
                (t(lang, "col.title"), task.title.clone()),
                (t(lang, "col.kind"), task.kind.clone()),
                (t(lang, "col.team"), task.team.clone().unwrap_or_default()),
                (
                    t(lang, "col.assignee"),
                    task.assignee.clone().unwrap_or_default(),
                ),
                (
                    t(lang, "col.due"),
                    task.due_date.map(|d| d.to_string()).unwrap_or_default(),
                ),
                (t(lang, "col.status"), task.status.clone()),
                (t(lang, "col.source"), task.source.clone()),
            ],
            customer: task.customer_number.clone().unwrap_or_default(),
            description: task.description.clone().unwrap_or_default(),
            status: st,
            comments: comments
                .into_iter()
                .map(|c| (date(&c.created_at), c.author, c.body))
                .collect(),
            comment,
            can_write: ctx.actor.allows("tasks:write"),
            message,
        },
    )
}

pub async fn task(
    State(s): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Response {
    task_page(
        &s,
        &ctx,
        &id,
        &Errors::default(),
        String::new(),
        StatusCode::OK,
    )
    .await
}

pub async fn task_status(
    State(s): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Extension(form): Extension<Form>,
    Path(id): Path<String>,
) -> Response {
    let Ok(n) = id.parse::<i64>() else {
        return app_error(ctx.lang, AppError::NotFound("task"));
    };
    let mut patch = Map::new();
    patch.insert("status".into(), Value::String(form.get("status").into()));
    let version = form.get("version").parse::<i64>().ok();
    match s.app.update_task(&ctx.actor, n, &patch, version).await {
        Ok(_) => redirect(&format!("/ui/tasks/{n}")),
        Err(AppError::Invalid(errs)) => {
            let e = Errors::from_fields(&errs);
            let msg = t(ctx.lang, "err.fix_fields").to_string();
            task_page(&s, &ctx, &id, &e, msg, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(AppError::Stale) => {
            let msg = t(ctx.lang, "err.stale").to_string();
            task_page(
                &s,
                &ctx,
                &id,
                &Errors::default(),
                msg,
                StatusCode::PRECONDITION_FAILED,
            )
            .await
        }
        Err(e) => app_error(ctx.lang, e),
    }
}

pub async fn task_comment(
    State(s): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Extension(form): Extension<Form>,
    Path(id): Path<String>,
) -> Response {
    let Ok(n) = id.parse::<i64>() else {
        return app_error(ctx.lang, AppError::NotFound("task"));
    };
    match s
        .app
        .add_task_comment(&ctx.actor, n, form.get("body"))
        .await
    {
        Ok(_) => redirect(&format!("/ui/tasks/{n}")),
        Err(AppError::Invalid(errs)) => {
            let e = Errors::from_fields(&errs);
            let msg = t(ctx.lang, "err.fix_fields").to_string();
            task_page(&s, &ctx, &id, &e, msg, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => app_error(ctx.lang, e),
    }
}

#[derive(Template)]
#[template(path = "postal.html")]
struct PostalPage {
    c: Chrome,
    report: Option<ReturnsReport>,
    outcomes: Vec<(String, u64)>,
    error: String,
}

pub async fn postal_form(Extension(ctx): Extension<Ctx>) -> Response {
    html(&PostalPage {
        c: Chrome::new(&ctx, t(ctx.lang, "postal.title")),
        report: None,
        outcomes: Vec::new(),
        error: String::new(),
    })
}

/// A form post (`csv` pasted into the text area) or, from the script, the file's bytes as the
/// raw body (`text/csv`, `?skip_invalid=1`).
pub async fn postal_import(
    State(s): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Extension(form): Extension<Form>,
    headers: HeaderMap,
    Query(p): Params,
    body: axum::body::Bytes,
) -> Response {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let q = Form(p);
    let (bytes, skip) = if is_form {
        (
            form.get("csv").as_bytes().to_vec(),
            form.get("skip_invalid") == "1",
        )
    } else {
        (body.to_vec(), q.get("skip_invalid") == "1")
    };
    let (report, error) = match s.app.import_postal_returns(&ctx.actor, &bytes, skip).await {
        Ok(r) => (Some(r), String::new()),
        Err(AppError::Invalid(errs)) => (
            None,
            errs.iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        ),
        Err(e) => return app_error(ctx.lang, e),
    };
    let outcomes = report
        .as_ref()
        .map(|r| r.outcomes.iter().map(|(k, v)| (k.clone(), *v)).collect())
        .unwrap_or_default();
    html(&PostalPage {
        c: Chrome::new(&ctx, t(ctx.lang, "postal.title")),
        report,
        outcomes,
        error,
    })
}

pub struct RunLine {
    id: i64,
    kind: String,
    period: String,
    state: String,
    vouchers: i64,
    converted: i64,
    letters: i64,
    considered: i64,
    left_out: String,
    started: String,
    /// Why a failed run stopped (empty otherwise).
    error: String,
}

#[derive(Template)]
#[template(path = "runs.html")]
struct RunsPage {
    c: Chrome,
    runs: Vec<RunLine>,
    period: Vec<Field>,
    birthday: Vec<Field>,
    message: String,
}

/// The runs with the two start forms; `values` holds the bonus run's `period` and the birthday
/// run's `date`.
async fn runs_page(
    s: &AppState,
    ctx: &Ctx,
    values: &std::collections::HashMap<String, String>,
    errors: &Errors,
    message: String,
    status: StatusCode,
) -> Response {
    let runs = match s.app.runs(100).await {
        Ok(r) => r,
        Err(e) => return app_error(ctx.lang, e),
    };
    html_status(
        status,
        &RunsPage {
            c: Chrome::new(ctx, t(ctx.lang, "runs.title")),
            runs: runs
                .into_iter()
                .map(|r| RunLine {
                    id: r.id,
                    kind: r.kind,
                    period: r.period,
                    state: r.state,
                    vouchers: r.vouchers_issued,
                    converted: r.points_converted,
                    letters: r.letters,
                    considered: r.customers_considered,
                    left_out: format!("{} / {}", r.left_out_address, r.left_out_consent),
                    started: date(&r.started_at),
                    error: r.error.unwrap_or_default(),
                })
                .collect(),
            period: fields(
                ctx.lang,
                &[("period", "runs.period", "text")],
                values,
                errors,
            ),
            birthday: fields(ctx.lang, &[("date", "runs.date", "date")], values, errors),
            message,
        },
    )
}

pub async fn runs(
    State(s): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(p): Params,
) -> Response {
    let q = Form(p);
    // The summary of the run just made: its kind, period and counts.
    let message = match q.get("done").parse::<i64>() {
        Ok(id) => {
            let lang = ctx.lang;
            let run = match s.app.runs(100).await {
                Ok(runs) => runs.into_iter().find(|r| r.id == id),
                Err(e) => return app_error(lang, e),
            };
            match run {
                Some(r) => format!(
                    "{} (#{id}, {} {}): {} {}, {} {}, {} {}",
                    t(lang, "runs.started"),
                    r.kind,
                    r.period,
                    r.vouchers_issued,
                    t(lang, "runs.vouchers"),
                    r.letters,
                    t(lang, "runs.letters"),
                    r.points_converted,
                    t(lang, "runs.converted"),
                ),
                None => format!("{} (#{id})", t(lang, "runs.started")),
            }
        }
        Err(_) => String::new(),
    };
    runs_page(
        &s,
        &ctx,
        &run_defaults(&s),
        &Errors::default(),
        message,
        StatusCode::OK,
    )
    .await
}

use chrono::Datelike;

/// Last month for the bonus run, today for the birthday run (in the company's calendar).
fn run_defaults(s: &AppState) -> std::collections::HashMap<String, String> {
    let today = s.app.company_today();
    let last_month = today
        .with_day0(0)
        .and_then(|d| d.pred_opt())
        .map(|d| d.format("%Y-%m").to_string())
        .unwrap_or_default();
    let mut values = std::collections::HashMap::new();
    values.insert("period".to_string(), last_month);
    values.insert("date".to_string(), today.format("%Y-%m-%d").to_string());
    values
}

/// A started run shows its summary; a refused one the errors at the form's input.
async fn run_done(
    s: &AppState,
    ctx: &Ctx,
    input: (&str, &str),
    result: Result<kundo_store::vouchers::RunRow, AppError>,
) -> Response {
    match result {
        Ok(run) => redirect(&format!("/ui/runs?done={}", run.id)),
        Err(AppError::Invalid(errs)) => {
            let e = Errors::from_fields(&errs);
            let msg = t(ctx.lang, "err.fix_fields").to_string();
            let mut values = run_defaults(s);
            values.insert(input.0.to_string(), input.1.to_string());
            runs_page(s, ctx, &values, &e, msg, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => app_error(ctx.lang, e),
    }
}

pub async fn birthday_run(
    State(s): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Extension(form): Extension<Form>,
) -> Response {
    let date = form.get("date").trim();
    let result = s
        .app
        .birthday_run(date, &BirthdayConfig::default(), RunLimit::default())
        .await;
    run_done(&s, &ctx, ("date", date), result).await
}

pub async fn bonus_run(
    State(s): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Extension(form): Extension<Form>,
) -> Response {
    let period = form.get("period").trim();
    let result = s
        .app
        .bonus_run(
            &ctx.actor,
            period,
            &BonusConfig::default(),
            RunLimit::default(),
        )
        .await;
    run_done(&s, &ctx, ("period", period), result).await
}
