//! Login, language, search and the customer view with its edit form, contact logging, the
//! customer's cases and a form to make a task about the customer.

use std::collections::HashMap;
use std::time::Instant;

use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kundo_app::AppError;
use kundo_app::customers::{CustomerView, display_name};
use kundo_app::tasks::TaskInput;
use kundo_app::timeline::ActivityInput;
use kundo_core::customer::{CHANNELS, PHONE_KINDS};
use kundo_core::history::{LOGGABLE_KINDS, TASK_KINDS, TIMELINE_KINDS};
use kundo_store::tasks::TaskFilter;
use kundo_store::timeline::TimelineCursor;
use serde_json::{Map, Value, json};

use super::{
    Chrome, Ctx, Errors, Field, Form, LANG_COOKIE, LOGIN_CSRF_COOKIE, Lang, app_error, date,
    fields, html, html_status, lang_of, money, opt, redirect, t,
};
use crate::AppState;
use crate::auth::{SESSION_COOKIE, cookie_value};

type Params = Query<Vec<(String, String)>>;

fn param<'a>(p: &'a [(String, String)], name: &str) -> Option<&'a str> {
    p.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Only paths inside the UI are followed after login or a language switch.
fn safe_next(next: &str) -> &str {
    if next.starts_with("/ui") && !next.starts_with("//") {
        next
    } else {
        "/ui"
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    c: Chrome,
    token: String,
    next: String,
    username: String,
    message: String,
}

fn login_page(
    lang: Lang,
    next: &str,
    username: &str,
    message: &str,
    status: StatusCode,
) -> Response {
    let token = kundo_app::auth::random_hex(16);
    let mut res = html_status(
        status,
        &LoginPage {
            c: Chrome::public(lang, t(lang, "login.title")),
            token: token.clone(),
            next: safe_next(next).to_string(),
            username: username.to_string(),
            message: message.to_string(),
        },
    );
    let cookie = format!("{LOGIN_CSRF_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/ui/login");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

pub async fn login_form(headers: HeaderMap, Query(p): Params) -> Response {
    login_page(
        lang_of(&headers),
        param(&p, "next").unwrap_or("/ui"),
        "",
        "",
        StatusCode::OK,
    )
}

pub async fn login(
    State(s): State<AppState>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> Response {
    let lang = lang_of(&headers);
    let form = Form(form);
    let next = form.get("next");
    let username = form.get("username");
    let expected = cookie_value(&headers, LOGIN_CSRF_COOKIE).unwrap_or("");
    if expected.is_empty() || form.get("csrf") != expected {
        return login_page(
            lang,
            next,
            username,
            t(lang, "login.expired"),
            StatusCode::FORBIDDEN,
        );
    }
    match s.app.login(username, form.get("password")).await {
        Ok(session) => {
            let mut res = redirect(safe_next(next));
            let cookie = format!(
                "{SESSION_COOKIE}={}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
                session.token,
                kundo_app::auth::SESSION_HOURS * 3600
            );
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            res
        }
        Err(AppError::Unauthorized(_)) => login_page(
            lang,
            next,
            username,
            t(lang, "login.failed"),
            StatusCode::UNAUTHORIZED,
        ),
        Err(e) => app_error(lang, e),
    }
}

pub async fn logout(State(s): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = cookie_value(&headers, SESSION_COOKIE) {
        let _ = s.app.logout(token).await;
    }
    let mut res = redirect("/ui/login");
    res.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static("kundo_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    res
}

pub async fn set_lang(Path(code): Path<String>, Query(p): Params) -> Response {
    let lang = Lang::parse(&code).unwrap_or_default();
    let mut res = redirect(safe_next(param(&p, "next").unwrap_or("/ui")));
    let cookie = format!(
        "{LANG_COOKIE}={}; SameSite=Lax; Path=/; Max-Age=31536000",
        lang.code()
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

pub async fn home(Extension(ctx): Extension<Ctx>) -> Response {
    match super::MENU
        .iter()
        .find(|(_, _, scope)| ctx.actor.allows(scope))
    {
        Some((href, _, _)) => redirect(href),
        None => super::error_page(
            ctx.lang,
            StatusCode::FORBIDDEN,
            "err.forbidden",
            "err.forbidden.detail",
        ),
    }
}

pub struct Hit {
    number: String,
    name: String,
    address: String,
    email: String,
    status: String,
}

#[derive(Template)]
#[template(path = "search_results.html")]
struct Results {
    c: Chrome,
    hits: Vec<Hit>,
    message: String,
    elapsed_ms: u128,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    c: Chrome,
    q: String,
    results: String,
}

async fn results(s: &AppState, ctx: &Ctx, q: &str) -> Result<String, Response> {
    let started = Instant::now();
    let c = Chrome::new(ctx, "");
    let (hits, message) = if q.trim().is_empty() {
        (Vec::new(), String::new())
    } else {
        match s.app.search(q, 25).await {
            Ok(hits) if hits.is_empty() => (Vec::new(), t(ctx.lang, "search.none").to_string()),
            Ok(hits) => (
                hits.into_iter()
                    .map(|h| {
                        let c = h.customer;
                        Hit {
                            name: display_name(
                                c.first_name.as_deref(),
                                c.last_name.as_deref(),
                                c.company_name.as_deref(),
                            ),
                            address: [
                                [opt(&c.street), opt(&c.house_number)].join(" "),
                                [opt(&c.postcode), opt(&c.city)].join(" "),
                            ]
                            .iter()
                            .map(|s| s.trim())
                            .filter(|s| !s.is_empty())
                            .collect::<Vec<_>>()
                            .join(", "),
                            email: opt(&c.email),
                            status: c.status,
                            number: c.customer_number,
                        }
                    })
                    .collect(),
                String::new(),
            ),
            Err(AppError::Invalid(_)) => (Vec::new(), t(ctx.lang, "search.short").to_string()),
            Err(e) => return Err(app_error(ctx.lang, e)),
        }
    };
    let page = Results {
        c,
        hits,
        message: if q.trim().is_empty() {
            String::from(" ")
        } else {
            message
        },
        elapsed_ms: started.elapsed().as_millis(),
    };
    page.render()
        .map_err(|_| app_error(ctx.lang, AppError::Io("template".into())))
}

pub async fn search(
    State(s): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(p): Params,
) -> Response {
    let q = param(&p, "q").unwrap_or("").to_string();
    let results = match results(&s, &ctx, &q).await {
        Ok(r) => r,
        Err(res) => return res,
    };
    html(&SearchPage {
        c: Chrome::new(&ctx, t(ctx.lang, "search.title")),
        q,
        results,
    })
}

/// The result list alone, for the search-as-you-type script.
pub async fn search_results(
    State(s): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(p): Params,
) -> Response {
    match results(&s, &ctx, param(&p, "q").unwrap_or("")).await {
        Ok(body) => ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response(),
        Err(res) => res,
    }
}

pub struct Row {
    pub cells: Vec<String>,
}

pub struct TimelineLine {
    at: String,
    kind: String,
    text: String,
}

pub struct TaskLine {
    id: i64,
    title: String,
    team: String,
    due: String,
    status: String,
}

pub struct CaseLine {
    id: i64,
    kind: String,
    subject: String,
    status: String,
    team: String,
    opened: String,
    closed: String,
}

#[derive(Template)]
#[template(path = "customer.html")]
struct CustomerPage {
    c: Chrome,
    number: String,
    status: String,
    version: i64,
    profile: Vec<(&'static str, String)>,
    addresses: Vec<Row>,
    address_history: Vec<Row>,
    cards: Vec<Row>,
    consents: Vec<Row>,
    attributes: Vec<Row>,
    balance: i64,
    ledger: Vec<Row>,
    vouchers: Vec<Row>,
    figures: Vec<(&'static str, String)>,
    tasks: Vec<TaskLine>,
    cases: Vec<CaseLine>,
    /// The new-task form (empty for whom may not make tasks).
    task_form: Vec<Field>,
    task_message: String,
    timeline: Vec<TimelineLine>,
    kinds: Vec<(&'static str, bool)>,
    older: String,
    can_write: bool,
    edit: Vec<Field>,
    edit_message: String,
    edit_ok: bool,
    log: Vec<Field>,
}

/// State of the forms on a re-rendered customer page.
#[derive(Default)]
struct Forms {
    edit_values: Option<HashMap<String, String>>,
    edit_errors: Errors,
    edit_message: String,
    edit_ok: bool,
    log_values: HashMap<String, String>,
    log_errors: Errors,
    task_values: HashMap<String, String>,
    task_errors: Errors,
    task_message: String,
}

/// The inputs of the edit form, named like the use case's field paths.
fn edit_spec(v: &CustomerView) -> Vec<(String, &'static str, &'static str)> {
    let mut spec: Vec<(String, &'static str, &'static str)> = vec![
        ("salutation".into(), "f.salutation", "text"),
        ("first_name".into(), "f.first_name", "text"),
        ("last_name".into(), "f.last_name", "text"),
    ];
    if v.kind == "organization" {
        spec.push(("company_name".into(), "f.company_name", "text"));
    }
    spec.push(("email".into(), "f.email", "email"));
    for i in 0..v.phones.len().max(1) {
        spec.push((format!("phones[{i}].kind"), "f.phone_kind", "select"));
        spec.push((format!("phones[{i}].number"), "f.phone", "tel"));
    }
    for i in 0..v.addresses.len().max(1) {
        spec.push((format!("addresses[{i}].street"), "f.street", "text"));
        spec.push((
            format!("addresses[{i}].house_number"),
            "f.house_number",
            "text",
        ));
        spec.push((format!("addresses[{i}].postcode"), "f.postcode", "text"));
        spec.push((format!("addresses[{i}].city"), "f.city", "text"));
        spec.push((format!("addresses[{i}].country"), "f.country", "text"));
    }
    spec.push(("preferred_channel".into(), "f.preferred_channel", "select"));
    spec
}

fn current_values(v: &CustomerView) -> HashMap<String, String> {
    let mut m = HashMap::new();
    m.insert("salutation".into(), opt(&v.salutation));
    m.insert("first_name".into(), opt(&v.first_name));
    m.insert("last_name".into(), opt(&v.last_name));
    m.insert("company_name".into(), opt(&v.company_name));
    m.insert("email".into(), opt(&v.email));
    for (i, p) in v.phones.iter().enumerate() {
        m.insert(format!("phones[{i}].kind"), p.kind.clone());
        m.insert(format!("phones[{i}].number"), p.number.clone());
    }
    for (i, a) in v.addresses.iter().enumerate() {
        m.insert(format!("addresses[{i}].street"), a.street.clone());
        m.insert(format!("addresses[{i}].house_number"), opt(&a.house_number));
        m.insert(format!("addresses[{i}].postcode"), a.postcode.clone());
        m.insert(format!("addresses[{i}].city"), a.city.clone());
        m.insert(format!("addresses[{i}].country"), a.country.clone());
    }
    m.insert("preferred_channel".into(), opt(&v.preferred_channel));
    m
}

fn choices(lang: Lang, list: &[&str], with_none: bool) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if with_none {
        out.push((String::new(), t(lang, "f.none").to_string()));
    }
    out.extend(list.iter().map(|s| (s.to_string(), s.to_string())));
    out
}

fn build_fields(
    lang: Lang,
    spec: &[(String, &'static str, &'static str)],
    values: &HashMap<String, String>,
    errors: &Errors,
) -> Vec<Field> {
    let borrowed: Vec<(&str, &str, &'static str)> = spec
        .iter()
        .map(|(n, k, kind)| (n.as_str(), *k, *kind))
        .collect();
    let mut out = fields(lang, &borrowed, values, errors);
    for f in &mut out {
        if f.name.ends_with(".kind") {
            f.options = choices(lang, PHONE_KINDS, false);
        } else if f.name == "preferred_channel" {
            f.options = choices(lang, CHANNELS, true);
        } else if f.name == "kind" {
            f.options = choices(lang, LOGGABLE_KINDS, false);
        } else if f.name == "task_kind" {
            f.options = choices(lang, TASK_KINDS, false);
        }
    }
    out
}

fn addr_row(a: &kundo_store::customers::AddressRecord) -> Row {
    Row {
        cells: vec![
            a.kind.clone(),
            format!(
                "{} {}, {} {}, {}",
                a.street,
                opt(&a.house_number),
                a.postcode,
                a.city,
                a.country
            ),
            a.postal_status.clone(),
            a.valid_from.format("%Y-%m-%d").to_string(),
            a.valid_until
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
        ],
    }
}

fn timeline_text(e: &kundo_app::timeline::TimelineEntry) -> String {
    let mut parts = Vec::new();
    if let Some(s) = &e.subject {
        parts.push(s.clone());
    }
    if let Some(b) = &e.body {
        parts.push(b.clone());
    }
    if let (Some(a), Some(c)) = (e.amount, &e.currency) {
        parts.push(money(a, c));
    }
    for x in [
        &e.reference,
        &e.store_code,
        &e.channel,
        &e.direction,
        &e.actor,
    ]
    .into_iter()
    .flatten()
    {
        parts.push(x.clone());
    }
    parts.join(" · ")
}

async fn customer_page(
    s: &AppState,
    ctx: &Ctx,
    number: &str,
    params: &[(String, String)],
    forms: Forms,
    status: StatusCode,
) -> Response {
    let lang = ctx.lang;
    let v = match s.app.customer(number).await {
        Ok(v) => v,
        Err(e) => return app_error(lang, e),
    };
    let number = v.customer_number.clone();
    let kinds: Vec<String> = params
        .iter()
        .filter(|(k, _)| k == "kind")
        .flat_map(|(_, v)| v.split(','))
        .filter(|k| TIMELINE_KINDS.contains(k))
        .map(str::to_string)
        .collect();
    let cursor = param(params, "cursor").and_then(TimelineCursor::decode);
    let app = &s.app;
    let (points, vouchers, figures, tasks, cases, timeline) = tokio::join!(
        app.points(&number, None, 20),
        app.customer_vouchers(&number),
        app.purchase_figures(&number),
        app.list_tasks(
            TaskFilter {
                status: Some("open".into()),
                limit: 50,
                ..Default::default()
            },
            Some(&number)
        ),
        app.customer_cases(&number, None, 50),
        app.timeline(
            &number,
            (!kinds.is_empty()).then_some(kinds.as_slice()),
            cursor,
            50
        ),
    );
    let (points, vouchers, figures, timeline) = match (points, vouchers, figures, timeline) {
        (Ok(p), Ok(v), Ok(f), Ok(t)) => (p, v, f, t),
        (Err(e), ..) | (_, Err(e), ..) | (_, _, Err(e), _) | (_, _, _, Err(e)) => {
            return app_error(lang, e);
        }
    };
    // The tasks belong to the service desk; others see none rather than an error.
    let tasks = if ctx.actor.allows("tasks:read") {
        tasks.map(|p| p.items).unwrap_or_default()
    } else {
        Vec::new()
    };
    let cases = match cases {
        Ok(p) => p.items,
        Err(e) => return app_error(lang, e),
    };
    let task_form = if ctx.actor.allows("tasks:write") {
        let mut values = forms.task_values;
        values
            .entry("task_kind".into())
            .or_insert_with(|| "callback".into());
        let spec: Vec<(String, &'static str, &'static str)> = vec![
            ("task_kind".into(), "task.kind", "select"),
            ("task_title".into(), "task.title_field", "text"),
            ("task_description".into(), "task.description", "textarea"),
            ("task_team".into(), "col.team", "text"),
            ("task_assignee".into(), "col.assignee", "text"),
            ("task_due_date".into(), "task.due", "date"),
        ];
        build_fields(lang, &spec, &values, &forms.task_errors)
    } else {
        Vec::new()
    };
    let dash = |s: &Option<String>| s.clone().unwrap_or_else(|| "–".into());
    let profile = vec![
        (t(lang, "col.number"), number.clone()),
        (t(lang, "col.kind"), v.kind.to_string()),
        (t(lang, "f.salutation"), dash(&v.salutation)),
        (t(lang, "f.first_name"), dash(&v.first_name)),
        (t(lang, "f.last_name"), dash(&v.last_name)),
        (t(lang, "f.company_name"), dash(&v.company_name)),
        (
            t(lang, "f.birth_date"),
            v.birth_date
                .map(|d| d.to_string())
                .unwrap_or_else(|| "–".into()),
        ),
        (t(lang, "f.email"), dash(&v.email)),
        (
            t(lang, "f.phone"),
            v.phones
                .iter()
                .map(|p| format!("{} ({})", p.number, p.kind))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        (t(lang, "f.preferred_channel"), dash(&v.preferred_channel)),
    ];
    let can_write = ctx.actor.allows("customers:write");
    let spec = edit_spec(&v);
    let edit_values = forms.edit_values.unwrap_or_else(|| current_values(&v));
    let edit = if can_write {
        build_fields(lang, &spec, &edit_values, &forms.edit_errors)
    } else {
        Vec::new()
    };
    let mut log_values = forms.log_values;
    log_values
        .entry("kind".into())
        .or_insert_with(|| "call".into());
    let log_spec: Vec<(String, &'static str, &'static str)> = vec![
        ("kind".into(), "cust.log.kind", "select"),
        ("subject".into(), "cust.log.subject", "text"),
        ("body".into(), "cust.log.body", "textarea"),
    ];
    let log = build_fields(lang, &log_spec, &log_values, &forms.log_errors);
    let older = match &timeline.next_cursor {
        Some(c) => {
            let mut q: Vec<String> = kinds.iter().map(|k| format!("kind={k}")).collect();
            q.push(format!("cursor={}", super::urlencode(c)));
            format!("/ui/customers/{number}?{}#timeline", q.join("&"))
        }
        None => String::new(),
    };
    let page = CustomerPage {
        c: Chrome::new(
            ctx,
            format!(
                "{} {}",
                display_name(
                    v.first_name.as_deref(),
                    v.last_name.as_deref(),
                    v.company_name.as_deref()
                ),
                number
            ),
        ),
        status: v.status.clone(),
        version: v.version,
        profile,
        addresses: v.addresses.iter().map(addr_row).collect(),
        address_history: v.address_history.iter().map(addr_row).collect(),
        cards: v
            .cards
            .iter()
            .map(|c| Row {
                cells: vec![c.card_number.clone(), c.status.clone(), date(&c.issued_at)],
            })
            .collect(),
        consents: v
            .consent_history
            .iter()
            .map(|c| Row {
                cells: vec![
                    c.channel.clone(),
                    c.status.clone(),
                    c.source.clone(),
                    date(&c.recorded_at),
                ],
            })
            .collect(),
        attributes: v
            .attributes
            .iter()
            .map(|(k, val)| Row {
                cells: vec![
                    k.clone(),
                    match val {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    },
                ],
            })
            .collect(),
        balance: points.balance,
        ledger: points
            .entries
            .iter()
            .map(|e| Row {
                cells: vec![
                    date(&e.created_at),
                    e.kind.clone(),
                    e.points.to_string(),
                    opt(&e.reason),
                ],
            })
            .collect(),
        vouchers: vouchers
            .iter()
            .map(|x| Row {
                cells: vec![
                    x.code.clone(),
                    x.kind.clone(),
                    if x.value_type == "percent" {
                        format!("{} %", x.value)
                    } else {
                        money(x.value, &x.currency)
                    },
                    x.status.clone(),
                    x.valid_until.format("%Y-%m-%d").to_string(),
                ],
            })
            .collect(),
        figures: vec![
            (
                t(lang, "cust.first_purchase"),
                figures.first_purchase.map(|d| date(&d)).unwrap_or_default(),
            ),
            (
                t(lang, "cust.last_purchase"),
                figures.last_purchase.map(|d| date(&d)).unwrap_or_default(),
            ),
            (
                t(lang, "cust.receipts_total"),
                figures.receipts_total.to_string(),
            ),
            (
                t(lang, "cust.revenue_total"),
                money(figures.revenue_total, ""),
            ),
            (t(lang, "cust.revenue_12m"), money(figures.revenue_12m, "")),
            (
                t(lang, "cust.basket_12m"),
                money(figures.average_basket_12m, ""),
            ),
            (
                t(lang, "cust.online_share"),
                format!("{:.1} %", figures.online_share_12m_permille as f64 / 10.0),
            ),
            (
                t(lang, "cust.favourite_store"),
                opt(&figures.favourite_store),
            ),
        ],
        tasks: tasks
            .into_iter()
            .map(|x| TaskLine {
                id: x.id,
                title: x.title,
                team: opt(&x.team),
                due: x.due_date.map(|d| d.to_string()).unwrap_or_default(),
                status: x.status,
            })
            .collect(),
        cases: cases
            .into_iter()
            .map(|x| CaseLine {
                id: x.id,
                kind: x.kind,
                subject: x.subject,
                status: x.status,
                team: opt(&x.team),
                opened: date(&x.created_at),
                closed: x.closed_at.map(|d| date(&d)).unwrap_or_default(),
            })
            .collect(),
        task_form,
        task_message: forms.task_message,
        timeline: timeline
            .items
            .iter()
            .map(|e| TimelineLine {
                at: date(&e.occurred_at),
                kind: e.kind.clone(),
                text: timeline_text(e),
            })
            .collect(),
        kinds: TIMELINE_KINDS
            .iter()
            .map(|k| (*k, kinds.iter().any(|x| x == k)))
            .collect(),
        older,
        can_write,
        edit,
        edit_message: forms.edit_message,
        edit_ok: forms.edit_ok,
        log,
        number,
    };
    html_status(status, &page)
}

pub async fn customer(
    State(s): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(number): Path<String>,
    Query(p): Params,
) -> Response {
    let mut forms = Forms::default();
    if param(&p, "saved").is_some() {
        forms.edit_message = t(ctx.lang, "cust.saved").to_string();
        forms.edit_ok = true;
    }
    customer_page(&s, &ctx, &number, &p, forms, StatusCode::OK).await
}

fn none_if_empty(s: &str) -> Value {
    let s = s.trim();
    if s.is_empty() {
        Value::Null
    } else {
        Value::String(s.to_string())
    }
}

/// The edit form as a patch of the main fields. Phones and addresses are sent whole (rows left
/// empty are dropped).
pub fn edit_patch(form: &Form) -> Map<String, Value> {
    let mut patch = Map::new();
    for key in [
        "salutation",
        "first_name",
        "last_name",
        "company_name",
        "email",
        "preferred_channel",
    ] {
        if form.0.iter().any(|(k, _)| k == key) {
            patch.insert(key.into(), none_if_empty(form.get(key)));
        }
    }
    let mut phones = Vec::new();
    let mut i = 0;
    while form
        .0
        .iter()
        .any(|(k, _)| *k == format!("phones[{i}].number"))
    {
        let number = form.get(&format!("phones[{i}].number")).trim();
        if !number.is_empty() {
            phones.push(json!({"kind": none_if_empty(form.get(&format!("phones[{i}].kind"))), "number": number}));
        }
        i += 1;
    }
    if i > 0 {
        patch.insert("phones".into(), Value::Array(phones));
    }
    let mut addresses = Vec::new();
    let mut i = 0;
    while form
        .0
        .iter()
        .any(|(k, _)| *k == format!("addresses[{i}].street"))
    {
        let f = |name: &str| {
            form.get(&format!("addresses[{i}].{name}"))
                .trim()
                .to_string()
        };
        if [f("street"), f("postcode"), f("city")]
            .iter()
            .any(|x| !x.is_empty())
        {
            addresses.push(json!({"street": f("street"), "house_number": none_if_empty(&f("house_number")),
                "postcode": f("postcode"), "city": f("city"), "country": none_if_empty(&f("country"))}));
        }
        i += 1;
    }
    if i > 0 {
        patch.insert("addresses".into(), Value::Array(addresses));
    }
    patch
}

pub async fn edit_customer(
    State(s): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Extension(form): Extension<Form>,
    Path(number): Path<String>,
) -> Response {
    let version = form.get("version").parse::<i64>().ok();
    let patch = edit_patch(&form);
    match s
        .app
        .update_customer(&ctx.actor, &number, &patch, version)
        .await
    {
        Ok(v) => redirect(&format!("/ui/customers/{}?saved=1", v.customer_number)),
        Err(e) => {
            let (errors, message, status) = match e {
                AppError::Invalid(errs) => (
                    Errors::from_fields(&errs),
                    t(ctx.lang, "err.fix_fields").to_string(),
                    StatusCode::UNPROCESSABLE_ENTITY,
                ),
                AppError::Conflict { field, message } => (
                    Errors::from_fields(&[kundo_core::error::FieldError::new(field, message)]),
                    t(ctx.lang, "err.fix_fields").to_string(),
                    StatusCode::CONFLICT,
                ),
                AppError::Stale => (
                    Errors::default(),
                    t(ctx.lang, "err.stale").to_string(),
                    StatusCode::PRECONDITION_FAILED,
                ),
                other => return app_error(ctx.lang, other),
            };
            let forms = Forms {
                edit_values: Some(form.map()),
                edit_errors: errors,
                edit_message: message,
                ..Forms::default()
            };
            customer_page(&s, &ctx, &number, &[], forms, status).await
        }
    }
}

/// The customer page again with a form's input and its errors at the fields.
async fn refused(s: &AppState, ctx: &Ctx, number: &str, forms: Forms) -> Response {
    customer_page(s, ctx, number, &[], forms, StatusCode::UNPROCESSABLE_ENTITY).await
}

pub async fn log_contact(
    State(s): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Extension(form): Extension<Form>,
    Path(number): Path<String>,
) -> Response {
    let input = ActivityInput {
        kind: form.get("kind").to_string(),
        channel: None,
        direction: None,
        subject: form.get("subject").to_string(),
        body: Some(form.get("body").to_string()).filter(|b| !b.trim().is_empty()),
        occurred_at: None,
    };
    match s.app.log_activity(&ctx.actor, &number, input).await {
        Ok(_) => redirect(&format!("/ui/customers/{number}#timeline")),
        Err(AppError::Invalid(errs)) => {
            let forms = Forms {
                log_values: form.map(),
                log_errors: Errors::from_fields(&errs),
                ..Forms::default()
            };
            refused(&s, &ctx, &number, forms).await
        }
        Err(e) => app_error(ctx.lang, e),
    }
}

/// A task about this customer, made from the customer view.
pub async fn create_task(
    State(s): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Extension(form): Extension<Form>,
    Path(number): Path<String>,
) -> Response {
    let text = |name: &str| Some(form.get(name).trim().to_string()).filter(|v| !v.is_empty());
    let input = TaskInput {
        kind: form.get("task_kind").to_string(),
        title: form.get("task_title").to_string(),
        description: text("task_description"),
        team: text("task_team"),
        assignee: text("task_assignee"),
        due_date: text("task_due_date"),
        customer_number: Some(number.clone()),
    };
    match s.app.create_task(&ctx.actor, input).await {
        Ok(_) => redirect(&format!("/ui/customers/{number}#h-tasks")),
        Err(AppError::Invalid(errs)) => {
            let forms = Forms {
                task_values: form.map(),
                task_errors: Errors::from_fields(&errs).prefixed("task_"),
                task_message: t(ctx.lang, "err.fix_fields").to_string(),
                ..Forms::default()
            };
            refused(&s, &ctx, &number, forms).await
        }
        Err(e) => app_error(ctx.lang, e),
    }
}
