//! Segments: the list with counts and CSV links, and the builder (the script assembles the JSON
//! definition from clicked conditions and asks the preview route for the live count).

use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use kundo_app::AppError;
use kundo_app::segments::SegmentInput;

use super::{Chrome, Ctx, Errors, Field, Form, app_error, fields, html, html_status, redirect, t};
use crate::AppState;

pub struct SegmentLine {
    id: i64,
    name: String,
    kind: String,
    count: String,
    updated: String,
}

#[derive(Template)]
#[template(path = "segments.html")]
struct ListPage {
    c: Chrome,
    segments: Vec<SegmentLine>,
    can_write: bool,
}

pub async fn list(State(s): State<AppState>, Extension(ctx): Extension<Ctx>) -> Response {
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
        });
    }
    html(&ListPage {
        c: Chrome::new(&ctx, t(ctx.lang, "seg.title")),
        segments,
        can_write: ctx.actor.allows("segments:write"),
    })
}

#[derive(Template)]
#[template(path = "segment_builder.html")]
struct BuilderPage {
    c: Chrome,
    fields: Vec<Field>,
    message: String,
}

fn builder_page(
    ctx: &Ctx,
    values: &std::collections::HashMap<String, String>,
    errors: &Errors,
    message: String,
    status: StatusCode,
) -> Response {
    let lang = ctx.lang;
    let mut f = fields(
        lang,
        &[
            ("name", "seg.name", "text"),
            ("kind", "seg.kind", "select"),
            ("definition", "seg.definition", "textarea"),
        ],
        values,
        errors,
    );
    f[1].options = vec![
        ("dynamic".into(), t(lang, "seg.dynamic").into()),
        ("static".into(), t(lang, "seg.static").into()),
    ];
    html_status(
        status,
        &BuilderPage {
            c: Chrome::new(ctx, t(lang, "seg.new")),
            fields: f,
            message,
        },
    )
}

pub async fn builder(Extension(ctx): Extension<Ctx>) -> Response {
    let mut values = std::collections::HashMap::new();
    values.insert("definition".to_string(), r#"{"and": []}"#.to_string());
    builder_page(
        &ctx,
        &values,
        &Errors::default(),
        String::new(),
        StatusCode::OK,
    )
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
            return builder_page(&ctx, &values, &errs, msg, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let input = SegmentInput {
        name: form.get("name").to_string(),
        definition,
        kind: Some(form.get("kind").to_string()).filter(|k| !k.is_empty()),
    };
    match s
        .app
        .create_segment(&ctx.actor, input, chrono::Utc::now().date_naive())
        .await
    {
        Ok(_) => redirect("/ui/segments"),
        Err(AppError::Invalid(errs)) => {
            let msg = t(lang, "err.fix_fields").to_string();
            builder_page(
                &ctx,
                &values,
                &at_inputs(&errs),
                msg,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(AppError::Conflict { field, message }) => {
            let errs = at_inputs(&[kundo_core::error::FieldError::new(field, message)]);
            let msg = t(lang, "err.fix_fields").to_string();
            builder_page(&ctx, &values, &errs, msg, StatusCode::CONFLICT)
        }
        Err(e) => app_error(lang, e),
    }
}
