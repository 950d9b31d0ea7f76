//! The configuration part of the admin page: versions of the points rules, custom attribute
//! definitions, webhooks (the secret is shown once, right after it was made) and each webhook's
//! delivery log. The page itself is assembled in [`super::admin`].

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use kundo_app::AppError;
use kundo_core::attributes::{AttrType, AttributeDefinition};
use kundo_core::error::FieldError;
use kundo_core::points::{PointsRules, Promotion};

use super::admin::{State2, field_errors, page};
use super::{
    Chrome, Ctx, Errors, Field, Form, Lang, app_error, date, fields, html, no_store, redirect, t,
};
use crate::AppState;

pub struct RulesLine {
    pub id: i64,
    pub valid_from: String,
    pub summary: String,
    pub by: String,
}

pub struct AttrLine {
    pub name: String,
    pub label: String,
    pub kind: String,
    pub allowed: String,
    pub required: bool,
}

pub struct HookLine {
    pub id: i64,
    pub url: String,
    pub events: String,
    pub active: bool,
    pub failures: i64,
    pub next: String,
}

/// What the configuration sections of the admin page show.
pub struct Sections {
    pub rules: Vec<RulesLine>,
    pub rules_form: Vec<Field>,
    pub attrs: Vec<AttrLine>,
    pub attr_form: Vec<Field>,
    pub hooks: Vec<HookLine>,
    pub hook_form: Vec<Field>,
}

/// Values and errors of the three forms, and a webhook secret to show once.
#[derive(Default)]
pub struct Forms {
    pub rules_values: Option<HashMap<String, String>>,
    pub rules_errors: Errors,
    pub attr_values: HashMap<String, String>,
    pub attr_errors: Errors,
    pub hook_values: HashMap<String, String>,
    pub hook_errors: Errors,
}

const ATTR_TYPES: &[&str] = &["string", "integer", "boolean", "date", "enum"];

/// The rules as the form's inputs (`Papier=200; Bücher=150`, `Geschenkkarten, Pfand`).
fn rules_values(rules: &PointsRules) -> HashMap<String, String> {
    let mut v = HashMap::new();
    v.insert(
        "minor_units_per_point".into(),
        rules.minor_units_per_point.to_string(),
    );
    v.insert(
        "category_multipliers".into(),
        rules
            .category_multipliers
            .iter()
            .map(|(c, p)| format!("{c}={p}"))
            .collect::<Vec<_>>()
            .join("; "),
    );
    v.insert(
        "excluded_categories".into(),
        rules.excluded_categories.join(", "),
    );
    v.insert(
        "promotions".into(),
        serde_json::to_string_pretty(&rules.promotions).unwrap_or_else(|_| "[]".into()),
    );
    v.insert(
        "valid_from".into(),
        Utc::now().date_naive().format("%Y-%m-%d").to_string(),
    );
    v
}

fn summary(lang: Lang, rules: &PointsRules) -> String {
    let mut parts = vec![format!(
        "{} {}",
        rules.minor_units_per_point,
        t(lang, "rules.per_point")
    )];
    if !rules.category_multipliers.is_empty() {
        parts.push(
            rules
                .category_multipliers
                .iter()
                .map(|(c, p)| format!("{c} {p} %"))
                .collect::<Vec<_>>()
                .join(", "),
        );
    }
    if !rules.excluded_categories.is_empty() {
        parts.push(format!(
            "{}: {}",
            t(lang, "rules.excluded"),
            rules.excluded_categories.join(", ")
        ));
    }
    if !rules.promotions.is_empty() {
        parts.push(format!(
            "{}: {}",
            t(lang, "rules.promotions"),
            rules
                .promotions
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    parts.join(" · ")
}

pub async fn sections(s: &AppState, lang: Lang, forms: Forms) -> Result<Sections, AppError> {
    let versions = s.app.points_rules().await?;
    let mut newest: Option<PointsRules> = None;
    let mut rules = Vec::new();
    for v in versions.iter().rev() {
        let parsed: PointsRules =
            serde_json::from_value(v["rules"].clone()).unwrap_or_else(|_| PointsRules::default());
        rules.push(RulesLine {
            id: v["id"].as_i64().unwrap_or_default(),
            valid_from: v["valid_from"]
                .as_str()
                .and_then(|d| d.parse::<DateTime<Utc>>().ok())
                .map(|d| date(&d))
                .unwrap_or_default(),
            summary: summary(lang, &parsed),
            by: v["created_by"].as_str().unwrap_or_default().to_string(),
        });
        newest.get_or_insert(parsed);
    }
    let values = forms
        .rules_values
        .unwrap_or_else(|| rules_values(&newest.unwrap_or_default()));
    let rules_form = fields(
        lang,
        &[
            ("valid_from", "rules.valid_from", "date"),
            ("minor_units_per_point", "rules.minor_units", "number"),
            ("category_multipliers", "rules.multipliers", "text"),
            ("excluded_categories", "rules.excluded", "text"),
            ("promotions", "rules.promotions_json", "textarea"),
        ],
        &values,
        &forms.rules_errors,
    );

    let attrs = s
        .app
        .attribute_definitions()
        .await?
        .iter()
        .map(|d| AttrLine {
            name: d.name.clone(),
            label: d.label.clone().unwrap_or_default(),
            kind: d.attr_type.as_str().to_string(),
            allowed: d.allowed_values.join(", "),
            required: d.required,
        })
        .collect();
    let mut attr_form = fields(
        lang,
        &[
            ("attr_name", "attr.name", "text"),
            ("attr_label", "attr.label", "text"),
            ("attr_type", "attr.type", "select"),
            ("attr_allowed_values", "attr.allowed", "text"),
            ("attr_required", "attr.required", "checkbox"),
        ],
        &forms.attr_values,
        &forms.attr_errors,
    );
    attr_form[2].options = ATTR_TYPES
        .iter()
        .map(|k| (k.to_string(), k.to_string()))
        .collect();

    let hooks = s
        .app
        .webhooks()
        .await?
        .into_iter()
        .map(|h| HookLine {
            id: h.id,
            url: h.url,
            events: h.event_types,
            active: h.active,
            failures: h.failures,
            next: date(&h.next_attempt_at),
        })
        .collect();
    let mut hook_values = forms.hook_values;
    hook_values
        .entry("event_types".into())
        .or_insert_with(|| "*".into());
    let hook_form = fields(
        lang,
        &[
            ("url", "hook.url", "url"),
            ("event_types", "hook.events", "text"),
        ],
        &hook_values,
        &forms.hook_errors,
    );
    Ok(Sections {
        rules,
        rules_form,
        attrs,
        attr_form,
        hooks,
        hook_form,
    })
}

/// `Papier=200; Bücher=150` (also one per line).
fn parse_multipliers(raw: &str) -> Result<BTreeMap<String, i64>, String> {
    let mut out = BTreeMap::new();
    for part in raw
        .split([';', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let (cat, pct) = part
            .split_once('=')
            .ok_or_else(|| format!("{part:?}: write category=percent"))?;
        let pct = pct
            .trim()
            .parse::<i64>()
            .map_err(|_| format!("{part:?}: the percent must be a whole number"))?;
        out.insert(cat.trim().to_string(), pct);
    }
    Ok(out)
}

/// The use case names fields by path (`category_multipliers["Papier"]`, `promotions[0].name`);
/// each lands at the input it came from.
fn rules_at_inputs(errs: &[FieldError]) -> Errors {
    let mapped: Vec<FieldError> = errs
        .iter()
        .map(|e| {
            let input = ["category_multipliers", "excluded_categories", "promotions"]
                .into_iter()
                .find(|p| e.field.starts_with(p))
                .unwrap_or(e.field.as_str());
            let message = if input == e.field {
                e.message.clone()
            } else {
                format!("{}: {}", e.field, e.message)
            };
            FieldError::new(input, message)
        })
        .collect();
    Errors::from_fields(&mapped)
}

async fn invalid(s: &AppState, ctx: &Ctx, forms: Forms, status: StatusCode) -> Response {
    let st = State2 {
        forms,
        message: t(ctx.lang, "err.fix_fields").into(),
        ..State2::default()
    };
    page(s, ctx, st, status).await
}

pub async fn create_rules(
    State(s): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Extension(form): Extension<Form>,
) -> Response {
    let mut errs = Vec::new();
    let valid_from = match form.get("valid_from").trim() {
        "" => Some(Utc::now()),
        d => match NaiveDate::parse_from_str(d, "%Y-%m-%d") {
            Ok(d) => Some(d.and_time(chrono::NaiveTime::MIN).and_utc()),
            Err(_) => {
                errs.push(FieldError::new("valid_from", t(ctx.lang, "err.date")));
                None
            }
        },
    };
    let minor = match form.get("minor_units_per_point").trim().parse::<i64>() {
        Ok(n) => n,
        Err(_) => {
            errs.push(FieldError::new(
                "minor_units_per_point",
                t(ctx.lang, "camp.err.whole"),
            ));
            0
        }
    };
    let multipliers = parse_multipliers(form.get("category_multipliers")).unwrap_or_else(|m| {
        errs.push(FieldError::new("category_multipliers", m));
        BTreeMap::new()
    });
    let excluded: Vec<String> = form
        .get("excluded_categories")
        .split(',')
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect();
    let promotions_raw = form.get("promotions").trim();
    let promotions: Vec<Promotion> = if promotions_raw.is_empty() {
        Vec::new()
    } else {
        serde_json::from_str(promotions_raw).unwrap_or_else(|e| {
            errs.push(FieldError::new("promotions", e.to_string()));
            Vec::new()
        })
    };
    let forms = |errors: Errors| Forms {
        rules_values: Some(form.map()),
        rules_errors: errors,
        ..Forms::default()
    };
    if !errs.is_empty() {
        let f = forms(Errors::from_fields(&errs));
        return invalid(&s, &ctx, f, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let rules = PointsRules {
        minor_units_per_point: minor,
        category_multipliers: multipliers,
        excluded_categories: excluded,
        promotions,
    };
    match s
        .app
        .set_points_rules(&ctx.actor, valid_from.unwrap_or_else(Utc::now), &rules)
        .await
    {
        Ok(_) => redirect("/ui/admin#h-rules"),
        Err(AppError::Invalid(errs)) => {
            let f = forms(rules_at_inputs(&errs));
            invalid(&s, &ctx, f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => app_error(ctx.lang, e),
    }
}

pub async fn create_attribute(
    State(s): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Extension(form): Extension<Form>,
) -> Response {
    let forms = |errors: Errors| Forms {
        attr_values: form.map(),
        attr_errors: errors,
        ..Forms::default()
    };
    let Some(attr_type) = AttrType::parse(form.get("attr_type")) else {
        let e = Errors::from_fields(&[FieldError::new(
            "attr_type",
            format!("must be one of {}", ATTR_TYPES.join(", ")),
        )]);
        return invalid(&s, &ctx, forms(e), StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let def = AttributeDefinition {
        name: form.get("attr_name").trim().to_string(),
        label: Some(form.get("attr_label").trim().to_string()).filter(|l| !l.is_empty()),
        attr_type,
        allowed_values: form
            .get("attr_allowed_values")
            .split(',')
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect(),
        required: !form.get("attr_required").is_empty(),
    };
    match s.app.define_attribute(&ctx.actor, def).await {
        Ok(()) => redirect("/ui/admin#h-attrs"),
        Err(e) => match field_errors(e) {
            Ok(errors) => {
                let status = StatusCode::UNPROCESSABLE_ENTITY;
                invalid(&s, &ctx, forms(errors.prefixed("attr_")), status).await
            }
            Err(e) => app_error(ctx.lang, e),
        },
    }
}

pub async fn delete_attribute(
    State(s): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(name): Path<String>,
) -> Response {
    match s.app.delete_attribute(&ctx.actor, &name).await {
        Ok(()) => redirect("/ui/admin#h-attrs"),
        // Still in use: say so on the page, where the list is.
        Err(AppError::Conflict { message, .. }) => {
            let st = State2 {
                message,
                ..State2::default()
            };
            page(&s, &ctx, st, StatusCode::CONFLICT).await
        }
        Err(e) => app_error(ctx.lang, e),
    }
}

pub async fn create_webhook(
    State(s): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Extension(form): Extension<Form>,
) -> Response {
    let events: Vec<String> = form
        .get("event_types")
        .split([',', ' '])
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty())
        .collect();
    match s
        .app
        .create_webhook(&ctx.actor, form.get("url").trim(), &events)
        .await
    {
        // The secret is in this answer only; the page is not cached.
        Ok((_, secret)) => {
            let st = State2 {
                new_secret: secret,
                ..State2::default()
            };
            no_store(page(&s, &ctx, st, StatusCode::CREATED).await)
        }
        Err(e) => match field_errors(e) {
            Ok(errors) => {
                let f = Forms {
                    hook_values: form.map(),
                    hook_errors: errors,
                    ..Forms::default()
                };
                invalid(&s, &ctx, f, StatusCode::UNPROCESSABLE_ENTITY).await
            }
            Err(e) => app_error(ctx.lang, e),
        },
    }
}

fn id_of(raw: &str) -> Result<i64, AppError> {
    raw.parse::<i64>()
        .map_err(|_| AppError::NotFound("webhook"))
}

pub async fn delete_webhook(
    State(s): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Response {
    let result = match id_of(&id) {
        Ok(id) => s.app.delete_webhook(&ctx.actor, id).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => redirect("/ui/admin#h-hooks"),
        Err(e) => app_error(ctx.lang, e),
    }
}

pub struct DeliveryLine {
    event: i64,
    attempt: i64,
    status: String,
    error: String,
    delivered: bool,
    at: String,
}

#[derive(Template)]
#[template(path = "webhook.html")]
struct DeliveriesPage {
    c: Chrome,
    url: String,
    events: String,
    deliveries: Vec<DeliveryLine>,
}

pub async fn deliveries(
    State(s): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Response {
    let lang = ctx.lang;
    let id = match id_of(&id) {
        Ok(id) => id,
        Err(e) => return app_error(lang, e),
    };
    let hook = match s.app.webhooks().await {
        Ok(list) => list.into_iter().find(|h| h.id == id),
        Err(e) => return app_error(lang, e),
    };
    let Some(hook) = hook else {
        return app_error(lang, AppError::NotFound("webhook"));
    };
    let rows = match s.app.webhook_deliveries(id).await {
        Ok(r) => r,
        Err(e) => return app_error(lang, e),
    };
    html(&DeliveriesPage {
        c: Chrome::new(&ctx, format!("{} #{id}", t(lang, "hook.log"))),
        url: hook.url,
        events: hook.event_types,
        deliveries: rows
            .into_iter()
            .map(|d| DeliveryLine {
                event: d.event_id,
                attempt: d.attempt,
                status: d.status_code.map(|c| c.to_string()).unwrap_or_default(),
                error: d.error.unwrap_or_default(),
                delivered: d.delivered,
                at: date(&d.at),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::parse_multipliers;

    #[test]
    fn multipliers_are_read_as_category_equals_percent() {
        let m = parse_multipliers("Papier=200; Bücher = 150\nSpiele=100").unwrap_or_default();
        assert_eq!(m.get("Papier"), Some(&200));
        assert_eq!(m.get("Bücher"), Some(&150));
        assert_eq!(m.len(), 3);
        assert!(parse_multipliers("Papier").is_err());
        assert!(parse_multipliers("Papier=viel").is_err());
        assert!(parse_multipliers("").is_ok_and(|m| m.is_empty()));
    }
}
