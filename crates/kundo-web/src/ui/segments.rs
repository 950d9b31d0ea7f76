//! Segments: the list with counts, snapshots and CSV links, and the builder (the script assembles
//! the JSON definition from clicked conditions and asks the preview route for the live count),
//! for a new segment or a saved one. A segment is saved as a dynamic segment or as a static list
//! (a dated snapshot of its members).

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use kundo_app::AppError;
use kundo_app::segments::SegmentInput;
use kundo_core::consent_status::ConsentStatus;
use kundo_core::customer::{CHANNELS, POSTAL_STATUSES};

use super::{Chrome, Ctx, Errors, Field, Form, app_error, fields, html_status, redirect, t};
use crate::AppState;

pub struct SegmentLine {
    id: i64,
    name: String,
    kind: String,
    count: String,
    updated: String,
    /// The date of the latest snapshot, if any.
    snapshot: String,
}

#[derive(Template)]
#[template(path = "segments.html")]
struct ListPage {
    c: Chrome,
    segments: Vec<SegmentLine>,
    can_write: bool,
    /// Why the last action was refused (a segment that campaigns use is not deleted).
    message: String,
}

pub async fn list(State(s): State<AppState>, Extension(ctx): Extension<Ctx>) -> Response {
    list_page(&s, &ctx, String::new(), StatusCode::OK).await
}

async fn list_page(s: &AppState, ctx: &Ctx, message: String, status: StatusCode) -> Response {
    let page = match s.app.segments(None, 200).await {
        Ok(p) => p,
        Err(e) => return app_error(ctx.lang, e),
    };
    let today = chrono::Utc::now().date_naive();
    let mut segments = Vec::new();
    for seg in page.items {
        let count = match s.app.segment_count(seg.id, today).await {
            Ok(n) => n.to_string(),
            Err(_) => "–".into(),
        };
        segments.push(SegmentLine {
            id: seg.id,
            name: seg.name,
            kind: seg.kind,
            count,
            updated: super::date(&seg.updated_at),
            snapshot: seg
                .snapshot
                .as_ref()
                .map(|sn| format!("{} ({})", super::date(&sn.taken_at), sn.member_count))
                .unwrap_or_default(),
        });
    }
    html_status(
        status,
        &ListPage {
            c: Chrome::new(ctx, t(ctx.lang, "seg.title")),
            segments,
            can_write: ctx.actor.allows("segments:write"),
            message,
        },
    )
}

/// Deletes a segment; one that campaigns use stays, and the list says which campaigns.
pub async fn delete(
    State(s): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Response {
    let done = match segment_id(&id) {
        Ok(id) => s.app.delete_segment(&ctx.actor, id).await,
        Err(e) => Err(e),
    };
    match done {
        Ok(()) => redirect("/ui/segments"),
        Err(AppError::Conflict { message, .. }) => {
            let message = format!("{} {message}", t(ctx.lang, "seg.not_deleted"));
            list_page(&s, &ctx, message, StatusCode::CONFLICT).await
        }
        Err(e) => app_error(ctx.lang, e),
    }
}

#[derive(Template)]
#[template(path = "segment_builder.html")]
struct BuilderPage {
    c: Chrome,
    fields: Vec<Field>,
    message: String,
    /// Where the form posts: `/ui/segments` or `/ui/segments/{id}`.
    action: String,
    /// A saved segment: its id (for the CSV link) and the version read.
    id: Option<i64>,
    version: String,
    /// The kind the segment has now (preselects the save button that keeps it).
    kind: String,
    kind_error: String,
    /// The lists the builder offers, as JSON ([`builder_choices`]).
    choices: String,
}

/// The choices of the builder's conditions, from the lists the server validates against, so
/// that the script can offer nothing the server refuses: consent channels, consent statuses
/// (value and label in the page's language) and postal statuses.
fn builder_choices(lang: super::Lang) -> String {
    let statuses: Vec<serde_json::Value> = ConsentStatus::ALL
        .iter()
        .map(
            |s| serde_json::json!({"value": s.as_str(), "label": s.label(lang == super::Lang::De)}),
        )
        .collect();
    serde_json::json!({
        "consent_channels": CHANNELS,
        "consent_statuses": statuses,
        "postal_statuses": POSTAL_STATUSES,
    })
    .to_string()
}

fn builder_page(
    ctx: &Ctx,
    id: Option<i64>,
    values: &std::collections::HashMap<String, String>,
    errors: &Errors,
    message: String,
    status: StatusCode,
) -> Response {
    let lang = ctx.lang;
    let f = fields(
        lang,
        &[
            ("name", "seg.name", "text"),
            ("definition", "seg.definition", "textarea"),
        ],
        values,
        errors,
    );
    let title = match id {
        Some(_) => format!(
            "{}: {}",
            t(lang, "seg.edit"),
            values.get("name").map(String::as_str).unwrap_or_default()
        ),
        None => t(lang, "seg.new").to_string(),
    };
    html_status(
        status,
        &BuilderPage {
            c: Chrome::new(ctx, title),
            fields: f,
            message,
            action: id.map_or("/ui/segments".into(), |id| format!("/ui/segments/{id}")),
            id,
            version: values.get("version").cloned().unwrap_or_default(),
            kind: values.get("kind").cloned().unwrap_or_default(),
            kind_error: errors.0.get("kind").cloned().unwrap_or_default(),
            choices: builder_choices(lang),
        },
    )
}

pub async fn builder(Extension(ctx): Extension<Ctx>) -> Response {
    let mut values = std::collections::HashMap::new();
    values.insert("definition".to_string(), r#"{"and": []}"#.to_string());
    builder_page(
        &ctx,
        None,
        &values,
        &Errors::default(),
        String::new(),
        StatusCode::OK,
    )
}

fn segment_id(raw: &str) -> Result<i64, AppError> {
    raw.parse().map_err(|_| AppError::NotFound("segment"))
}

/// A saved segment in the builder.
pub async fn edit(
    State(s): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Response {
    let seg = match segment_id(&id) {
        Ok(id) => s.app.segment(id).await,
        Err(e) => Err(e),
    };
    let seg = match seg {
        Ok(seg) => seg,
        Err(e) => return app_error(ctx.lang, e),
    };
    let mut values = std::collections::HashMap::new();
    values.insert("name".to_string(), seg.name);
    values.insert("kind".to_string(), seg.kind);
    values.insert("version".to_string(), seg.version.to_string());
    values.insert(
        "definition".to_string(),
        serde_json::to_string(&seg.definition).unwrap_or_default(),
    );
    builder_page(
        &ctx,
        Some(seg.id),
        &values,
        &Errors::default(),
        String::new(),
        StatusCode::OK,
    )
}

/// Freezes the members of a saved segment into a new snapshot (a static list's new members).
pub async fn snapshot(
    State(s): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Response {
    let today = chrono::Utc::now().date_naive();
    let done = match segment_id(&id) {
        Ok(id) => s.app.snapshot_segment(&ctx.actor, id, today).await,
        Err(e) => Err(e),
    };
    match done {
        Ok(_) => redirect("/ui/segments"),
        Err(e) => app_error(ctx.lang, e),
    }
}

/// Field paths of the use case (`definition.and[0].op`) land at the definition's text area.
fn at_inputs(errs: &[kundo_core::error::FieldError]) -> Errors {
    let mapped: Vec<_> = errs
        .iter()
        .map(|e| {
            let field = if e.field.starts_with("definition") {
                "definition".to_string()
            } else {
                e.field.clone()
            };
            let message = if e.field == field {
                e.message.clone()
            } else {
                format!("{}: {}", e.field, e.message)
            };
            kundo_core::error::FieldError::new(field, message)
        })
        .collect();
    Errors::from_fields(&mapped)
}

pub async fn save(
    State(s): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Extension(form): Extension<Form>,
) -> Response {
    save_segment(s, ctx, form, None).await
}

/// Saves the changes of a saved segment (refused as stale if it changed since it was read).
pub async fn update(
    State(s): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Extension(form): Extension<Form>,
    Path(id): Path<String>,
) -> Response {
    match segment_id(&id) {
        Ok(id) => save_segment(s, ctx, form, Some(id)).await,
        Err(e) => app_error(ctx.lang, e),
    }
}

async fn save_segment(s: AppState, ctx: Ctx, form: Form, id: Option<i64>) -> Response {
    let lang = ctx.lang;
    let values = form.map();
    let definition = match serde_json::from_str(form.get("definition")) {
        Ok(d) => d,
        Err(e) => {
            let errs = Errors::from_fields(&[kundo_core::error::FieldError::new(
                "definition",
                e.to_string(),
            )]);
            let msg = t(lang, "err.fix_fields").to_string();
            return builder_page(
                &ctx,
                id,
                &values,
                &errs,
                msg,
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    let input = SegmentInput {
        name: form.get("name").to_string(),
        definition,
        kind: Some(form.get("kind").to_string()).filter(|k| !k.is_empty()),
    };
    let today = chrono::Utc::now().date_naive();
    let saved = match id {
        None => s.app.create_segment(&ctx.actor, input, today).await,
        Some(id) => {
            let version = form.get("version").parse::<i64>().ok();
            s.app
                .change_segment(&ctx.actor, id, input, version, today)
                .await
        }
    };
    match saved {
        Ok(_) => redirect("/ui/segments"),
        Err(AppError::Stale) => {
            let msg = t(lang, "err.stale").to_string();
            builder_page(
                &ctx,
                id,
                &values,
                &Errors::default(),
                msg,
                StatusCode::PRECONDITION_FAILED,
            )
        }
        Err(AppError::Invalid(errs)) => {
            let msg = t(lang, "err.fix_fields").to_string();
            builder_page(
                &ctx,
                id,
                &values,
                &at_inputs(&errs),
                msg,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(AppError::Conflict { field, message }) => {
            let errs = at_inputs(&[kundo_core::error::FieldError::new(field, message)]);
            let msg = t(lang, "err.fix_fields").to_string();
            builder_page(&ctx, id, &values, &errs, msg, StatusCode::CONFLICT)
        }
        Err(e) => app_error(lang, e),
    }
}
