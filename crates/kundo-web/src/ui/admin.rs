//! Administration: staff users and roles, API keys (the key is shown once, right after it was
//! made), the configuration sections of [`super::settings`] (points rules, custom attributes,
//! webhooks), and the audit log.

use std::collections::HashMap;

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use kundo_app::AppError;
use kundo_core::auth::{Role, SCOPES};

use super::settings::{self, Forms, Sections};
use super::{
    Chrome, Ctx, Errors, Field, Form, app_error, date, fields, html_status, no_store, redirect, t,
};
use crate::AppState;

pub struct KeyLine {
    id: i64,
    name: String,
    prefix: String,
    scopes: String,
    created: String,
    revoked: String,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    c: Chrome,
    users: Vec<(String, String, bool)>,
    user_form: Vec<Field>,
    keys: Vec<KeyLine>,
    key_form: Vec<Field>,
    scopes: Vec<(&'static str, bool)>,
    scopes_error: String,
    new_key: String,
    audit: Vec<(String, String, String, String)>,
    message: String,
    settings: Sections,
    new_secret: String,
}

#[derive(Default)]
pub struct State2 {
    pub user_values: HashMap<String, String>,
    pub user_errors: Errors,
    pub key_values: HashMap<String, String>,
    pub key_errors: Errors,
    pub chosen: Vec<String>,
    pub new_key: String,
    pub message: String,
    pub forms: Forms,
    pub new_secret: String,
}

pub async fn page(s: &AppState, ctx: &Ctx, st: State2, status: StatusCode) -> Response {
    let lang = ctx.lang;
    let lists = async {
        let mut conn = s.app.store.acquire().await?;
        let users = kundo_store::auth::users(&mut conn.db()).await?;
        let keys = kundo_store::auth::api_keys(&mut conn.db()).await?;
        Ok::<_, kundo_store::StoreError>((users, keys))
    }
    .await;
    let (users, keys) = match lists {
        Ok(x) => x,
        Err(e) => return app_error(lang, e.into()),
    };
    let audit = match s.app.audit_log(None, 50).await {
        Ok(p) => p.items,
        Err(e) => return app_error(lang, e),
    };
    let sections = match settings::sections(s, lang, st.forms).await {
        Ok(x) => x,
        Err(e) => return app_error(lang, e),
    };
    let mut user_form = fields(
        lang,
        &[
            ("username", "login.username", "text"),
            ("password", "login.password", "password"),
            ("role", "admin.role", "select"),
        ],
        &st.user_values,
        &st.user_errors,
    );
    user_form[2].options = ["service", "store", "marketing", "admin"]
        .iter()
        .map(|r| (r.to_string(), r.to_string()))
        .collect();
    html_status(
        status,
        &AdminPage {
            c: Chrome::new(ctx, t(lang, "admin.title")),
            users: users
                .into_iter()
                .map(|u| (u.username, u.role, u.active))
                .collect(),
            user_form,
            keys: keys
                .into_iter()
                .map(|k| KeyLine {
                    id: k.id,
                    name: k.name,
                    prefix: k.prefix,
                    scopes: k.scopes,
                    created: date(&k.created_at),
                    revoked: k.revoked_at.map(|d| date(&d)).unwrap_or_default(),
                })
                .collect(),
            key_form: fields(
                lang,
                &[("name", "admin.key_name", "text")],
                &st.key_values,
                &st.key_errors,
            ),
            scopes: SCOPES
                .iter()
                .map(|sc| (*sc, st.chosen.iter().any(|c| c == sc)))
                .collect(),
            scopes_error: st
                .key_errors
                .0
                .iter()
                .filter(|(k, _)| k.starts_with("scopes"))
                .map(|(_, v)| v.clone())
                .collect::<Vec<_>>()
                .join("; "),
            new_key: st.new_key,
            audit: audit
                .into_iter()
                .map(|a| (date(&a.at), a.actor, a.action, a.changes.to_string()))
                .collect(),
            message: st.message,
            settings: sections,
            new_secret: st.new_secret,
        },
    )
}

pub async fn admin(State(s): State<AppState>, Extension(ctx): Extension<Ctx>) -> Response {
    page(&s, &ctx, State2::default(), StatusCode::OK).await
}

pub fn field_errors(e: AppError) -> Result<Errors, AppError> {
    match e {
        AppError::Invalid(errs) => Ok(Errors::from_fields(&errs)),
        AppError::Conflict { field, message } => {
            Ok(Errors::from_fields(&[kundo_core::error::FieldError::new(
                field, message,
            )]))
        }
        other => Err(other),
    }
}

pub async fn create_user(
    State(s): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Extension(form): Extension<Form>,
) -> Response {
    let Some(role) = Role::parse(form.get("role")) else {
        let st = State2 {
            user_values: form.map(),
            user_errors: Errors::from_fields(&[kundo_core::error::FieldError::new(
                "role",
                "must be admin, marketing, service or store",
            )]),
            ..State2::default()
        };
        return page(&s, &ctx, st, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    match s
        .app
        .create_user(&ctx.actor, form.get("username"), form.get("password"), role)
        .await
    {
        Ok(_) => redirect("/ui/admin"),
        Err(e) => match field_errors(e) {
            Ok(errors) => {
                let mut values = form.map();
                values.remove("password");
                let st = State2 {
                    user_values: values,
                    user_errors: errors,
                    message: t(ctx.lang, "err.fix_fields").into(),
                    ..State2::default()
                };
                page(&s, &ctx, st, StatusCode::UNPROCESSABLE_ENTITY).await
            }
            Err(e) => app_error(ctx.lang, e),
        },
    }
}

pub async fn create_key(
    State(s): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Extension(form): Extension<Form>,
) -> Response {
    let scopes: Vec<String> = form.all("scopes").iter().map(|s| s.to_string()).collect();
    match s
        .app
        .create_api_key(&ctx.actor, form.get("name"), &scopes)
        .await
    {
        // The key is in this answer only; the page is not cached.
        Ok(k) => {
            let st = State2 {
                new_key: k.key,
                ..State2::default()
            };
            no_store(page(&s, &ctx, st, StatusCode::CREATED).await)
        }
        Err(e) => match field_errors(e) {
            Ok(errors) => {
                let st = State2 {
                    key_values: form.map(),
                    key_errors: errors,
                    chosen: scopes,
                    message: t(ctx.lang, "err.fix_fields").into(),
                    ..State2::default()
                };
                page(&s, &ctx, st, StatusCode::UNPROCESSABLE_ENTITY).await
            }
            Err(e) => app_error(ctx.lang, e),
        },
    }
}

pub async fn revoke_key(
    State(s): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return app_error(ctx.lang, AppError::NotFound("api key"));
    };
    match s.app.revoke_api_key(&ctx.actor, id).await {
        Ok(()) => redirect("/ui/admin"),
        Err(e) => app_error(ctx.lang, e),
    }
}
