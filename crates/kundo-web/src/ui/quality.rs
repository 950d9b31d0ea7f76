//! New customer with the duplicate warning, the duplicates review queue, and merging.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kundo_app::AppError;
use kundo_app::customers::{Created, CustomerView, DuplicateCheck, display_name};
use kundo_core::customer::{CHANNELS, CustomerInput};
use kundo_core::merge::CHOOSABLE_FIELDS;
use serde_json::{Value, json};

use super::{Chrome, Ctx, Errors, Field, Form, app_error, fields, html, html_status, redirect, t};
use crate::AppState;

const NEW_SPEC: &[(&str, &str, &str)] = &[
    ("salutation", "f.salutation", "text"),
    ("first_name", "f.first_name", "text"),
    ("last_name", "f.last_name", "text"),
    ("birth_date", "f.birth_date", "date"),
    ("email", "f.email", "email"),
    ("phones[0].number", "f.phone", "tel"),
    ("addresses[0].street", "f.street", "text"),
    ("addresses[0].house_number", "f.house_number", "text"),
    ("addresses[0].postcode", "f.postcode", "text"),
    ("addresses[0].city", "f.city", "text"),
    ("addresses[0].country", "f.country", "text"),
    ("preferred_channel", "f.preferred_channel", "select"),
];

pub struct CandidateLine {
    number: String,
    name: String,
    address: String,
    score: u32,
    reasons: String,
}

#[derive(Template)]
#[template(path = "new_customer.html")]
struct NewPage {
    c: Chrome,
    fields: Vec<Field>,
    message: String,
    candidates: Vec<CandidateLine>,
}

fn new_page(
    ctx: &Ctx,
    values: &HashMap<String, String>,
    errors: &Errors,
    message: String,
    candidates: Vec<CandidateLine>,
    status: StatusCode,
) -> Response {
    let lang = ctx.lang;
    let mut f = fields(lang, NEW_SPEC, values, errors);
    for x in &mut f {
        if x.name == "preferred_channel" {
            x.options = std::iter::once((String::new(), t(lang, "f.none").to_string()))
                .chain(CHANNELS.iter().map(|c| (c.to_string(), c.to_string())))
                .collect();
        }
    }
    html_status(
        status,
        &NewPage {
            c: Chrome::new(ctx, t(lang, "new.title")),
            fields: f,
            message,
            candidates,
        },
    )
}

pub async fn new_customer(Extension(ctx): Extension<Ctx>) -> Response {
    let mut values = HashMap::new();
    values.insert("addresses[0].country".to_string(), "CH".to_string());
    new_page(
        &ctx,
        &values,
        &Errors::default(),
        String::new(),
        Vec::new(),
        StatusCode::OK,
    )
}

fn text(form: &Form, name: &str) -> Option<String> {
    Some(form.get(name).trim().to_string()).filter(|s| !s.is_empty())
}

fn input_of(form: &Form) -> Result<CustomerInput, serde_json::Error> {
    let mut v = json!({
        "kind": "person",
        "salutation": text(form, "salutation"),
        "first_name": text(form, "first_name"),
        "last_name": text(form, "last_name"),
        "birth_date": text(form, "birth_date"),
        "email": text(form, "email"),
        "preferred_channel": text(form, "preferred_channel"),
    });
    if let Some(p) = text(form, "phones[0].number") {
        v["phones"] = json!([{"number": p}]);
    }
    let a = |n: &str| text(form, &format!("addresses[0].{n}"));
    if a("street").is_some() || a("postcode").is_some() || a("city").is_some() {
        v["addresses"] = json!([{"street": a("street").unwrap_or_default(), "house_number": a("house_number"),
            "postcode": a("postcode").unwrap_or_default(), "city": a("city").unwrap_or_default(), "country": a("country")}]);
    }
    serde_json::from_value(v)
}

pub async fn create_customer(
    State(s): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Extension(form): Extension<Form>,
) -> Response {
    let lang = ctx.lang;
    let values = form.map();
    let input = match input_of(&form) {
        Ok(i) => i,
        Err(e) => {
            return app_error(lang, AppError::invalid("body", e.to_string()));
        }
    };
    let check = if form.get("force") == "1" {
        DuplicateCheck::CreateAnyway
    } else {
        DuplicateCheck::Refuse
    };
    match s.app.create_customer(&ctx.actor, input, None, check).await {
        Ok(Created::New(v)) => redirect(&format!("/ui/customers/{}", v.customer_number)),
        Ok(Created::Replayed { .. }) => redirect("/ui/search"),
        Err(AppError::Invalid(errs)) => new_page(
            &ctx,
            &values,
            &Errors::from_fields(&errs),
            t(lang, "err.fix_fields").to_string(),
            Vec::new(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(AppError::Conflict { field, message }) => new_page(
            &ctx,
            &values,
            &Errors::from_fields(&[kundo_core::error::FieldError::new(field, message)]),
            t(lang, "err.fix_fields").to_string(),
            Vec::new(),
            StatusCode::CONFLICT,
        ),
        Err(AppError::Duplicates(found)) => {
            let mut candidates = Vec::new();
            for c in found {
                let (name, address) = match s.app.customer(&c.customer_number).await {
                    Ok(v) => (name_of(&v), address_of(&v)),
                    Err(_) => (String::new(), String::new()),
                };
                candidates.push(CandidateLine {
                    number: c.customer_number,
                    name,
                    address,
                    score: c.score,
                    reasons: c.reasons.join(", "),
                });
            }
            new_page(
                &ctx,
                &values,
                &Errors::default(),
                String::new(),
                candidates,
                StatusCode::CONFLICT,
            )
        }
        Err(e) => app_error(lang, e),
    }
}

fn name_of(v: &CustomerView) -> String {
    display_name(
        v.first_name.as_deref(),
        v.last_name.as_deref(),
        v.company_name.as_deref(),
    )
}

fn address_of(v: &CustomerView) -> String {
    v.addresses
        .first()
        .map(|a| {
            format!(
                "{} {}, {} {}",
                a.street,
                a.house_number.clone().unwrap_or_default(),
                a.postcode,
                a.city
            )
        })
        .unwrap_or_default()
}

pub struct PairLine {
    id: i64,
    a: String,
    a_name: String,
    b: String,
    b_name: String,
    score: i64,
    reasons: String,
}

#[derive(Template)]
#[template(path = "pairs.html")]
struct PairsPage {
    c: Chrome,
    pairs: Vec<PairLine>,
    can_write: bool,
}

pub async fn pairs(State(s): State<AppState>, Extension(ctx): Extension<Ctx>) -> Response {
    let page = match s.app.duplicate_pairs("open", None, 100).await {
        Ok(p) => p,
        Err(e) => return app_error(ctx.lang, e),
    };
    let mut out = Vec::new();
    for p in page.items {
        let name = |v: Result<CustomerView, AppError>| v.map(|v| name_of(&v)).unwrap_or_default();
        out.push(PairLine {
            a_name: name(s.app.customer(&p.customer_a).await),
            b_name: name(s.app.customer(&p.customer_b).await),
            id: p.id,
            a: p.customer_a,
            b: p.customer_b,
            score: p.score,
            reasons: match &p.reasons {
                Value::Array(a) => a
                    .iter()
                    .map(|r| {
                        r.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| r.to_string())
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                other => other.to_string(),
            },
        });
    }
    html(&PairsPage {
        c: Chrome::new(&ctx, t(ctx.lang, "dups.title")),
        pairs: out,
        can_write: ctx.actor.allows("customers:write"),
    })
}

pub async fn dismiss(
    State(s): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return app_error(ctx.lang, AppError::NotFound("pair"));
    };
    match s.app.dismiss_duplicate_pair(&ctx.actor, id).await {
        Ok(()) => redirect("/ui/duplicates"),
        Err(e) => app_error(ctx.lang, e),
    }
}

pub struct MergeRow {
    field: &'static str,
    survivor: String,
    duplicate: String,
    choice: String,
}

#[derive(Template)]
#[template(path = "merge.html")]
struct MergePage {
    c: Chrome,
    a: String,
    b: String,
    pair: String,
    a_name: String,
    b_name: String,
    rows: Vec<MergeRow>,
    preview: Vec<(&'static str, String)>,
    error: String,
    can_write: bool,
}

/// A field's value as shown in the side-by-side view.
fn shown(v: &CustomerView, field: &str) -> String {
    let j = serde_json::to_value(v).unwrap_or_default();
    match field {
        "phones" => v
            .phones
            .iter()
            .map(|p| p.number.clone())
            .collect::<Vec<_>>()
            .join(", "),
        "addresses" => v
            .addresses
            .iter()
            .map(|a| {
                format!(
                    "{} {}, {} {}",
                    a.street,
                    a.house_number.clone().unwrap_or_default(),
                    a.postcode,
                    a.city
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
        "contacts" => v
            .contacts
            .iter()
            .map(|c| c.last_name.clone())
            .collect::<Vec<_>>()
            .join(", "),
        f => match j.get(f) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        },
    }
}

fn choices_of(form: &Form) -> BTreeMap<String, String> {
    CHOOSABLE_FIELDS
        .iter()
        .filter_map(|f| {
            let v = form.get(&format!("field.{f}"));
            (!v.is_empty()).then(|| (f.to_string(), v.to_string()))
        })
        .collect()
}

/// `sides` holds `a` (the survivor), `b` (the duplicate) and the review queue's `pair`.
async fn merge_page(
    s: &AppState,
    ctx: &Ctx,
    sides: &Form,
    chosen: &BTreeMap<String, String>,
    preview: Option<CustomerView>,
    error: String,
) -> Response {
    let lang = ctx.lang;
    let (a, b, pair) = (sides.get("a"), sides.get("b"), sides.get("pair"));
    let (va, vb) = match (s.app.customer(a).await, s.app.customer(b).await) {
        (Ok(x), Ok(y)) => (x, y),
        (Err(e), _) | (_, Err(e)) => return app_error(lang, e),
    };
    let rows = CHOOSABLE_FIELDS
        .iter()
        .filter(|f| va.kind == "organization" || **f != "company_name" && **f != "contacts")
        .map(|f| {
            let survivor = shown(&va, f);
            let duplicate = shown(&vb, f);
            let choice = chosen.get(*f).cloned().unwrap_or_else(|| {
                if survivor.is_empty() && !duplicate.is_empty() {
                    "duplicate".into()
                } else {
                    "survivor".into()
                }
            });
            MergeRow {
                field: f,
                survivor,
                duplicate,
                choice,
            }
        })
        .collect();
    let preview = preview
        .map(|p| {
            CHOOSABLE_FIELDS
                .iter()
                .map(|f| (*f, shown(&p, f)))
                .chain(std::iter::once(("card_numbers", p.card_numbers.join(", "))))
                .collect()
        })
        .unwrap_or_default();
    let status = if error.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    html_status(
        status,
        &MergePage {
            c: Chrome::new(ctx, t(lang, "merge.title")),
            a: va.customer_number.clone(),
            b: vb.customer_number.clone(),
            pair: pair.to_string(),
            a_name: name_of(&va),
            b_name: name_of(&vb),
            rows,
            preview,
            error,
            can_write: ctx.actor.allows("customers:write"),
        },
    )
}

pub async fn merge_form(
    State(s): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Query(p): Query<Vec<(String, String)>>,
) -> Response {
    let form = Form(p);
    merge_page(&s, &ctx, &form, &BTreeMap::new(), None, String::new()).await
}

fn errors_text(e: AppError) -> String {
    match e {
        AppError::Invalid(errs) => errs
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("; "),
        AppError::Conflict { message, .. } => message,
        other => other.to_string(),
    }
}

pub async fn merge_preview(
    State(s): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Extension(form): Extension<Form>,
) -> Response {
    let chosen = choices_of(&form);
    let (a, b) = (form.get("a"), form.get("b"));
    match s.app.merge_preview(a, b, &chosen).await {
        Ok(p) => merge_page(&s, &ctx, &form, &chosen, Some(p), String::new()).await,
        Err(e) => merge_page(&s, &ctx, &form, &chosen, None, errors_text(e)).await,
    }
}

pub async fn merge(
    State(s): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Extension(form): Extension<Form>,
) -> Response {
    let chosen = choices_of(&form);
    let (a, b) = (form.get("a"), form.get("b"));
    match s.app.merge_customers(&ctx.actor, a, b, &chosen).await {
        Ok(out) => redirect(&format!("/ui/customers/{}", out.survivor.customer_number)),
        Err(e) => merge_page(&s, &ctx, &form, &chosen, None, errors_text(e)).await,
    }
}
