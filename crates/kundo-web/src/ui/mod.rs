//! The staff web UI under `/ui`: server-rendered HTML (askama), one CSS and one JS file under
//! `/static`. Every UI route names the scope it needs in [`UI_ROUTES`], the same scope as the API
//! route behind it; the guard refuses what is not listed, sends people without a session to the
//! login page, and checks the CSRF token of every unsafe request (a hidden `csrf` form field or
//! the `X-CSRF-Token` header of a script).

mod admin;
mod campaigns;
mod dashboard;
pub mod i18n;
mod pages;
mod quality;
mod segments;
mod settings;
pub mod svg;
mod work;

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use kundo_app::{Actor, AppError};
use kundo_core::error::FieldError;

use crate::AppState;
use crate::auth::{CSRF_HEADER, SESSION_COOKIE, cookie_value};
pub use i18n::{Lang, t};

pub const LANG_COOKIE: &str = "kundo_lang";
/// Double-submit token of the login form (there is no session yet to hold one).
pub const LOGIN_CSRF_COOKIE: &str = "kundo_login_csrf";

/// `(method, path, scope)`; `None`: public, `"authenticated"`: any logged-in user.
pub const UI_ROUTES: &[(&str, &str, Option<&str>)] = &[
    ("GET", "/", None),
    ("GET", "/static/app.css", None),
    ("GET", "/static/app.js", None),
    ("GET", "/ui/login", None),
    ("POST", "/ui/login", None),
    ("GET", "/ui/lang/{code}", None),
    ("POST", "/ui/logout", Some("authenticated")),
    ("GET", "/ui", Some("authenticated")),
    ("GET", "/ui/search", Some("customers:read")),
    ("GET", "/ui/search/results", Some("customers:read")),
    ("GET", "/ui/customers/new", Some("customers:write")),
    ("POST", "/ui/customers", Some("customers:write")),
    ("GET", "/ui/customers/{number}", Some("customers:read")),
    ("POST", "/ui/customers/{number}", Some("customers:write")),
    (
        "POST",
        "/ui/customers/{number}/activities",
        Some("customers:write"),
    ),
    ("POST", "/ui/customers/{number}/tasks", Some("tasks:write")),
    ("GET", "/ui/duplicates", Some("customers:read")),
    (
        "POST",
        "/ui/duplicates/{id}/dismiss",
        Some("customers:write"),
    ),
    ("GET", "/ui/merge", Some("customers:read")),
    ("POST", "/ui/merge/preview", Some("customers:read")),
    ("POST", "/ui/merge", Some("customers:write")),
    ("GET", "/ui/tasks", Some("tasks:read")),
    ("GET", "/ui/tasks/{id}", Some("tasks:read")),
    ("POST", "/ui/tasks/{id}/status", Some("tasks:write")),
    ("POST", "/ui/tasks/{id}/comments", Some("tasks:write")),
    ("GET", "/ui/postal-returns", Some("customers:write")),
    ("POST", "/ui/postal-returns", Some("customers:write")),
    ("GET", "/ui/runs", Some("runs:write")),
    ("POST", "/ui/runs/bonus", Some("runs:write")),
    ("POST", "/ui/runs/birthday", Some("runs:write")),
    ("GET", "/ui/segments", Some("segments:read")),
    ("GET", "/ui/segments/new", Some("segments:write")),
    ("GET", "/ui/dashboard", Some("segments:read")),
    ("GET", "/ui/campaigns", Some("segments:read")),
    ("POST", "/ui/campaigns", Some("campaigns:write")),
    ("GET", "/ui/campaigns/{id}", Some("segments:read")),
    ("POST", "/ui/campaigns/{id}/start", Some("campaigns:write")),
    ("GET", "/ui/admin", Some("admin")),
    ("POST", "/ui/admin/users", Some("admin")),
    ("POST", "/ui/admin/api-keys", Some("admin")),
    ("POST", "/ui/admin/api-keys/{id}/revoke", Some("admin")),
    ("POST", "/ui/admin/points-rules", Some("admin")),
    ("POST", "/ui/admin/attributes", Some("admin")),
    ("POST", "/ui/admin/attributes/{name}/delete", Some("admin")),
    ("POST", "/ui/admin/webhooks", Some("admin")),
    ("GET", "/ui/admin/webhooks/{id}", Some("admin")),
    ("POST", "/ui/admin/webhooks/{id}/delete", Some("admin")),
    ("POST", "/ui/segments", Some("segments:write")),
    ("GET", "/ui/segments/{id}", Some("segments:write")),
    ("POST", "/ui/segments/{id}", Some("segments:write")),
    (
        "POST",
        "/ui/segments/{id}/snapshots",
        Some("segments:write"),
    ),
    ("POST", "/ui/segments/{id}/delete", Some("segments:write")),
];

fn ui_scope(method: &Method, path: &str) -> Option<Option<&'static str>> {
    UI_ROUTES
        .iter()
        .find(|(m, p, _)| *m == method.as_str() && *p == path)
        .map(|(_, _, s)| *s)
}

/// The menu: `(href, label key, scope)`. An entry shows only to whom its page is open.
const MENU: &[(&str, &str, &str)] = &[
    ("/ui/search", "nav.search", "customers:read"),
    ("/ui/customers/new", "nav.new_customer", "customers:write"),
    ("/ui/duplicates", "nav.duplicates", "customers:read"),
    ("/ui/tasks", "nav.tasks", "tasks:read"),
    ("/ui/postal-returns", "nav.postal", "customers:write"),
    ("/ui/runs", "nav.runs", "runs:write"),
    ("/ui/segments", "nav.segments", "segments:read"),
    ("/ui/campaigns", "nav.campaigns", "segments:read"),
    ("/ui/dashboard", "nav.dashboard", "segments:read"),
    ("/ui/admin", "nav.admin", "admin"),
];

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/ui") }))
        .route("/static/app.css", get(css))
        .route("/static/app.js", get(js))
        .route("/ui/login", get(pages::login_form).post(pages::login))
        .route("/ui/lang/{code}", get(pages::set_lang))
        .route("/ui/logout", post(pages::logout))
        .route("/ui", get(pages::home))
        .route("/ui/search", get(pages::search))
        .route("/ui/search/results", get(pages::search_results))
        .route("/ui/customers/new", get(quality::new_customer))
        .route("/ui/customers", post(quality::create_customer))
        .route(
            "/ui/customers/{number}",
            get(pages::customer).post(pages::edit_customer),
        )
        .route(
            "/ui/customers/{number}/activities",
            post(pages::log_contact),
        )
        .route("/ui/customers/{number}/tasks", post(pages::create_task))
        .route("/ui/duplicates", get(quality::pairs))
        .route("/ui/duplicates/{id}/dismiss", post(quality::dismiss))
        .route("/ui/merge", get(quality::merge_form).post(quality::merge))
        .route("/ui/merge/preview", post(quality::merge_preview))
        .route("/ui/tasks", get(work::tasks))
        .route("/ui/tasks/{id}", get(work::task))
        .route("/ui/tasks/{id}/status", post(work::task_status))
        .route("/ui/tasks/{id}/comments", post(work::task_comment))
        .route(
            "/ui/postal-returns",
            get(work::postal_form).post(work::postal_import),
        )
        .route("/ui/runs", get(work::runs))
        .route("/ui/runs/bonus", post(work::bonus_run))
        .route("/ui/runs/birthday", post(work::birthday_run))
        .route("/ui/segments", get(segments::list).post(segments::save))
        .route("/ui/segments/new", get(segments::builder))
        .route(
            "/ui/segments/{id}",
            get(segments::edit).post(segments::update),
        )
        .route("/ui/segments/{id}/snapshots", post(segments::snapshot))
        .route("/ui/segments/{id}/delete", post(segments::delete))
        .route(
            "/ui/campaigns",
            get(campaigns::list).post(campaigns::create),
        )
        .route("/ui/campaigns/{id}", get(campaigns::detail))
        .route("/ui/campaigns/{id}/start", post(campaigns::start))
        .route("/ui/dashboard", get(dashboard::dashboard))
        .route("/ui/admin", get(admin::admin))
        .route("/ui/admin/users", post(admin::create_user))
        .route("/ui/admin/api-keys", post(admin::create_key))
        .route("/ui/admin/api-keys/{id}/revoke", post(admin::revoke_key))
        .route("/ui/admin/points-rules", post(settings::create_rules))
        .route("/ui/admin/attributes", post(settings::create_attribute))
        .route(
            "/ui/admin/attributes/{name}/delete",
            post(settings::delete_attribute),
        )
        .route("/ui/admin/webhooks", post(settings::create_webhook))
        .route("/ui/admin/webhooks/{id}", get(settings::deliveries))
        .route(
            "/ui/admin/webhooks/{id}/delete",
            post(settings::delete_webhook),
        )
        .route_layer(axum::middleware::from_fn_with_state(state, guard))
}

async fn css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../../static/app.css"),
    )
        .into_response()
}

async fn js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../static/app.js"),
    )
        .into_response()
}

/// What every page handler gets: who is logged in, their language and CSRF token, and the
/// parsed form of an unsafe request (read by the guard for the CSRF check).
#[derive(Clone)]
pub struct Ctx {
    pub actor: Actor,
    pub lang: Lang,
    pub csrf: String,
    /// The matched route (`/ui/customers/{number}`).
    pub path: String,
    /// The path and query asked for.
    pub uri: String,
}

/// The parsed `application/x-www-form-urlencoded` body of a POST.
#[derive(Clone, Default)]
pub struct Form(pub Vec<(String, String)>);

impl Form {
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
    pub fn map(&self) -> HashMap<String, String> {
        self.0.iter().cloned().collect()
    }
}

pub fn lang_of(headers: &HeaderMap) -> Lang {
    cookie_value(headers, LANG_COOKIE)
        .and_then(Lang::parse)
        .unwrap_or_default()
}

async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(path) = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
    else {
        return next.run(req).await;
    };
    let lang = lang_of(req.headers());
    let scope = match ui_scope(req.method(), &path) {
        Some(None) => return next.run(req).await,
        Some(Some(scope)) => scope,
        None => return error_page(lang, StatusCode::FORBIDDEN, "err.forbidden", ""),
    };
    let actor = match cookie_value(req.headers(), SESSION_COOKIE) {
        Some(token) => match state.app.session_actor(token).await {
            Ok(a) => a,
            Err(e) => return app_error(lang, e),
        },
        None => None,
    };
    let Some(actor) = actor else {
        if req.method() == Method::GET {
            let target = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/ui");
            let to = format!("/ui/login?next={}", urlencode(target));
            return Redirect::to(&to).into_response();
        }
        return Redirect::to("/ui/login").into_response();
    };
    let csrf = actor.csrf_token.clone().unwrap_or_default();
    let uri = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let (parts, body) = req.into_parts();
    let mut form = Form::default();
    let body = if matches!(parts.method, Method::GET | Method::HEAD) {
        body
    } else {
        let is_form = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        let bytes = match axum::body::to_bytes(body, crate::BODY_LIMIT).await {
            Ok(b) => b,
            Err(_) => return error_page(lang, StatusCode::PAYLOAD_TOO_LARGE, "err.server", ""),
        };
        if is_form {
            form = Form(serde_urlencoded::from_bytes(&bytes).unwrap_or_default());
        }
        let sent = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| form.get("csrf"));
        if csrf.is_empty() || sent != csrf {
            return error_page(lang, StatusCode::FORBIDDEN, "err.csrf", "err.csrf.detail");
        }
        Body::from(bytes)
    };
    if scope != "authenticated" && !actor.allows(scope) {
        return error_page(
            lang,
            StatusCode::FORBIDDEN,
            "err.forbidden",
            "err.forbidden.detail",
        );
    }
    let mut req = Request::from_parts(parts, body);
    req.extensions_mut().insert(Ctx {
        actor,
        lang,
        csrf,
        path,
        uri,
    });
    req.extensions_mut().insert(form);
    next.run(req).await
}

pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The frame of every page: title, menu, user, language switch, CSRF token for the forms.
pub struct Chrome {
    pub l: Lang,
    pub title: String,
    pub user: String,
    pub csrf: String,
    pub menu: Vec<(&'static str, &'static str, bool)>,
    pub here: String,
}

impl Chrome {
    pub fn new(ctx: &Ctx, title: impl Into<String>) -> Self {
        let menu = MENU
            .iter()
            .filter(|(_, _, scope)| ctx.actor.allows(scope))
            .map(|(href, key, _)| (*href, t(ctx.lang, key), ctx.path.starts_with(href)))
            .collect();
        Chrome {
            l: ctx.lang,
            title: title.into(),
            user: ctx
                .actor
                .name
                .strip_prefix("user:")
                .unwrap_or(&ctx.actor.name)
                .to_string(),
            csrf: ctx.csrf.clone(),
            menu,
            here: urlencode(&ctx.uri),
        }
    }

    /// A page without a logged-in user (login, errors).
    pub fn public(l: Lang, title: impl Into<String>) -> Self {
        Chrome {
            l,
            title: title.into(),
            user: String::new(),
            csrf: String::new(),
            menu: Vec::new(),
            here: String::new(),
        }
    }

    pub fn t(&self, key: &str) -> &'static str {
        t(self.l, key)
    }
}

pub fn html(page: &impl Template) -> Response {
    html_status(StatusCode::OK, page)
}

pub fn html_status(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            )],
            body,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    c: Chrome,
    detail: String,
}

pub fn error_page(lang: Lang, status: StatusCode, title_key: &str, detail: &str) -> Response {
    let detail = if i18n::has_key(detail) {
        t(lang, detail).to_string()
    } else {
        detail.to_string()
    };
    html_status(
        status,
        &ErrorPage {
            c: Chrome::public(lang, t(lang, title_key)),
            detail,
        },
    )
}

/// An error of a use case as a page (field errors are shown at their fields by the handlers
/// that have a form; this is for the rest).
pub fn app_error(lang: Lang, e: AppError) -> Response {
    match e {
        AppError::NotFound(what) => error_page(lang, StatusCode::NOT_FOUND, "err.not_found", what),
        AppError::Invalid(errors) => error_page(
            lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            "err.server",
            &errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        ),
        AppError::Stale => error_page(
            lang,
            StatusCode::PRECONDITION_FAILED,
            "err.server",
            "err.stale",
        ),
        AppError::Conflict { field, message } => error_page(
            lang,
            StatusCode::CONFLICT,
            "err.server",
            &format!("{field}: {message}"),
        ),
        other => {
            let p = crate::problem::Problem::from(other);
            let status =
                StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            error_page(lang, status, "err.server", &p.title)
        }
    }
}

/// Field errors by input name. The use cases name fields by path (`addresses[0].postcode`);
/// the forms name their inputs the same way, so an error lands next to its input.
#[derive(Default, Clone)]
pub struct Errors(pub HashMap<String, String>);

impl Errors {
    pub fn from_fields(errors: &[FieldError]) -> Self {
        let mut m = HashMap::new();
        for e in errors {
            m.entry(e.field.clone())
                .and_modify(|v: &mut String| {
                    v.push_str("; ");
                    v.push_str(&e.message)
                })
                .or_insert_with(|| e.message.clone());
        }
        Errors(m)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The errors at the inputs of a form whose names carry `prefix` (`attr_name` for the use
    /// case's `name`); an indexed path (`allowed_values[0]`) lands at its input.
    pub fn prefixed(self, prefix: &str) -> Errors {
        let mut m: HashMap<String, String> = HashMap::new();
        for (k, v) in self.0 {
            let base = k.split('[').next().unwrap_or(&k);
            m.entry(format!("{prefix}{base}"))
                .and_modify(|x| {
                    x.push_str("; ");
                    x.push_str(&v)
                })
                .or_insert(v);
        }
        Errors(m)
    }
}

/// One input of a form: label, current value, the error at it, and for selects the choices.
pub struct Field {
    pub name: String,
    pub label: &'static str,
    pub value: String,
    pub error: String,
    pub kind: &'static str,
    pub options: Vec<(String, String)>,
}

impl Field {
    pub fn id(&self) -> String {
        let mut id = String::from("f");
        for part in self.name.split(['[', ']', '.']).filter(|p| !p.is_empty()) {
            id.push('-');
            id.push_str(part);
        }
        id
    }
}

/// Builds fields from `(name, label key, input type)` with values and errors.
pub fn fields(
    lang: Lang,
    spec: &[(&str, &str, &'static str)],
    values: &HashMap<String, String>,
    errors: &Errors,
) -> Vec<Field> {
    spec.iter()
        .map(|(name, key, kind)| Field {
            name: name.to_string(),
            label: t(lang, key),
            value: values.get(*name).cloned().unwrap_or_default(),
            error: errors.0.get(*name).cloned().unwrap_or_default(),
            kind,
            options: Vec::new(),
        })
        .collect()
}

pub fn opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_default()
}

pub fn money(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    format!(
        "{sign}{currency} {}.{:02}",
        minor.abs() / 100,
        minor.abs() % 100
    )
}

pub fn date(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

/// A page that shows a secret once (a new API key, a webhook's secret) must not be cached.
pub fn no_store(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

pub fn redirect(to: &str) -> Response {
    Redirect::to(to).into_response()
}
