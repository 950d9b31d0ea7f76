//! Campaigns: the list with a create form, and one campaign with its settings, the start button
//! and its results (uplift with 95 % intervals, the breakdowns, and two server-rendered charts
//! whose numbers are also in a table).

use std::collections::HashMap;

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use kundo_app::AppError;
use kundo_app::campaigns::{CampaignInput, CampaignResults, StartLimit};
use kundo_core::campaign::{Cell, Estimate, GroupFigures};
use kundo_core::error::FieldError;

use super::{
    Chrome, Ctx, Errors, Field, Form, app_error, fields, html, html_status, money, redirect, svg, t,
};
use crate::AppState;

pub struct CampaignLine {
    id: i64,
    name: String,
    segment: String,
    state: String,
    members: i64,
    issued: i64,
    redeemed: i64,
}

#[derive(Template)]
#[template(path = "campaigns.html")]
struct ListPage {
    c: Chrome,
    campaigns: Vec<CampaignLine>,
    can_write: bool,
    fields: Vec<Field>,
    email: bool,
    letter: bool,
    channels_error: String,
    message: String,
}

/// Saved segments as `(id, name)` for the select.
async fn segment_names(s: &AppState) -> Result<Vec<(String, String)>, AppError> {
    let page = s.app.segments(None, 500).await?;
    Ok(page
        .items
        .into_iter()
        .map(|seg| (seg.id.to_string(), seg.name))
        .collect())
}

async fn redeemed_of(s: &AppState, id: i64) -> Result<i64, kundo_store::StoreError> {
    let mut tx = s.app.store.begin_read().await?;
    let days = kundo_store::campaigns::daily_redemptions(&mut tx.db(), id).await?;
    tx.commit().await?;
    Ok(days.iter().map(|(_, n)| n).sum())
}

async fn list_page(
    s: &AppState,
    ctx: &Ctx,
    values: &HashMap<String, String>,
    errors: &Errors,
    message: String,
    status: StatusCode,
) -> Response {
    let lang = ctx.lang;
    let segments = match segment_names(s).await {
        Ok(x) => x,
        Err(e) => return app_error(lang, e),
    };
    let page = match s.app.campaigns(None, 200).await {
        Ok(p) => p,
        Err(e) => return app_error(lang, e),
    };
    let names: HashMap<&str, &str> = segments
        .iter()
        .map(|(id, n)| (id.as_str(), n.as_str()))
        .collect();
    let mut campaigns = Vec::new();
    for v in page.items {
        let c = v.campaign;
        let redeemed = match redeemed_of(s, c.id).await {
            Ok(n) => n,
            Err(e) => return app_error(lang, e.into()),
        };
        campaigns.push(CampaignLine {
            id: c.id,
            segment: names
                .get(c.segment_id.to_string().as_str())
                .map(|n| n.to_string())
                .unwrap_or_else(|| format!("#{}", c.segment_id)),
            name: c.name,
            state: c.state,
            members: c.members,
            issued: c.vouchers_issued,
            redeemed,
        });
    }
    let mut f = fields(
        lang,
        &[
            ("name", "camp.name", "text"),
            ("segment_id", "camp.segment", "select"),
            ("value_type", "camp.value_type", "select"),
            ("value", "camp.value", "text"),
            ("min_order", "camp.min_order", "text"),
            ("validity_days", "camp.validity_days", "number"),
            ("voucher_channels", "camp.voucher_channels", "select"),
            ("control_share", "camp.control_share", "text"),
            ("seed", "camp.seed", "number"),
        ],
        values,
        errors,
    );
    f[1].options = segments;
    f[2].options = vec![
        ("percent".into(), t(lang, "camp.percent").into()),
        ("amount".into(), t(lang, "camp.amount").into()),
    ];
    f[6].options = vec![
        ("both".into(), t(lang, "camp.vc.both").into()),
        ("store".into(), t(lang, "camp.vc.store").into()),
        ("online".into(), t(lang, "camp.vc.online").into()),
    ];
    let fresh = values.is_empty();
    let checked = |c: &str| {
        fresh
            || values
                .get("channels")
                .is_some_and(|v| v.split(',').any(|x| x == c))
    };
    html_status(
        status,
        &ListPage {
            c: Chrome::new(ctx, t(lang, "camp.title")),
            campaigns,
            can_write: ctx.actor.allows("campaigns:write"),
            fields: f,
            email: checked("email"),
            letter: checked("letter"),
            channels_error: errors.0.get("channels").cloned().unwrap_or_default(),
            message,
        },
    )
}

pub async fn list(State(s): State<AppState>, Extension(ctx): Extension<Ctx>) -> Response {
    let mut values = HashMap::new();
    values.insert("validity_days".to_string(), "28".to_string());
    values.insert("control_share".to_string(), "10".to_string());
    values.insert("min_order".to_string(), "0".to_string());
    values.insert("channels".to_string(), "email,letter".to_string());
    list_page(
        &s,
        &ctx,
        &values,
        &Errors::default(),
        String::new(),
        StatusCode::OK,
    )
    .await
}

/// A decimal with at most `scale` places (`"12.5"`, `"12,50"`) in units of `10^-scale`.
fn scaled(s: &str, scale: u32) -> Option<i64> {
    let s = s.trim().replace(',', ".");
    if s.is_empty() {
        return None;
    }
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s.as_str(), ""),
    };
    if frac.len() > scale as usize
        || !frac.chars().all(|c| c.is_ascii_digit())
        || int.is_empty()
        || !int.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let whole: i64 = int.parse().ok()?;
    let mut part: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    for _ in frac.len()..scale as usize {
        part *= 10;
    }
    whole.checked_mul(10_i64.pow(scale))?.checked_add(part)
}

/// The use case's field names at the form's inputs.
fn at_inputs(errs: &[FieldError]) -> Errors {
    let mapped: Vec<FieldError> = errs
        .iter()
        .map(|e| {
            let field = match e.field.as_str() {
                f if f.starts_with("channels") => "channels",
                "control_share_bp" => "control_share",
                "currency" => "value",
                f => f,
            };
            FieldError::new(field, e.message.clone())
        })
        .collect();
    Errors::from_fields(&mapped)
}

pub async fn create(
    State(s): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Extension(form): Extension<Form>,
) -> Response {
    let lang = ctx.lang;
    let mut values = form.map();
    let channels: Vec<String> = form.all("channels").iter().map(|c| c.to_string()).collect();
    values.insert("channels".into(), channels.join(","));
    let mut errs = Vec::new();
    let mut number = |name: &str, scale: u32, required: bool, message: &str| -> Option<i64> {
        let raw = form.get(name);
        if raw.trim().is_empty() && !required {
            return None;
        }
        let v = scaled(raw, scale);
        if v.is_none() {
            errs.push(FieldError::new(name, message));
        }
        v
    };
    let value_type = form.get("value_type").to_string();
    let value = number("value", 2, true, t(lang, "camp.err.number"));
    let min_order = number("min_order", 2, false, t(lang, "camp.err.number"));
    let validity_days = number("validity_days", 0, true, t(lang, "camp.err.whole"));
    let control = number("control_share", 2, false, t(lang, "camp.err.number"));
    let segment_id = number("segment_id", 0, true, t(lang, "camp.err.segment"));
    let seed = match form.get("seed").trim() {
        "" => None,
        x => match x.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                errs.push(FieldError::new("seed", t(lang, "camp.err.whole")));
                None
            }
        },
    };
    if !errs.is_empty() {
        let msg = t(lang, "err.fix_fields").to_string();
        let errors = Errors::from_fields(&errs);
        return list_page(
            &s,
            &ctx,
            &values,
            &errors,
            msg,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let input = CampaignInput {
        name: form.get("name").to_string(),
        segment_id: segment_id.unwrap_or(0),
        // Percent in hundredths of a percent, amounts in minor units: both two places.
        value_type,
        value: value.unwrap_or(0),
        currency: "CHF".into(),
        min_order: min_order.unwrap_or(0),
        validity_days: validity_days.unwrap_or(0),
        voucher_channels: Some(form.get("voucher_channels"))
            .filter(|v| !v.is_empty())
            .unwrap_or("both")
            .to_string(),
        channels,
        // Percent with two places is basis points.
        control_share_bp: control.unwrap_or(0),
        seed,
        scheduled_at: None,
    };
    match s.app.create_campaign(&ctx.actor, input).await {
        Ok(v) => redirect(&format!("/ui/campaigns/{}", v.campaign.id)),
        Err(AppError::Invalid(errs)) => {
            let msg = t(lang, "err.fix_fields").to_string();
            list_page(
                &s,
                &ctx,
                &values,
                &at_inputs(&errs),
                msg,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(AppError::Conflict { field, message }) => {
            let msg = t(lang, "err.fix_fields").to_string();
            let errors = at_inputs(&[FieldError::new(field, message)]);
            list_page(&s, &ctx, &values, &errors, msg, StatusCode::CONFLICT).await
        }
        Err(e) => app_error(lang, e),
    }
}

pub struct Chart {
    title: &'static str,
    svg: String,
}

/// One row of a figures table: label, target, control.
pub struct Row {
    label: &'static str,
    target: String,
    control: String,
}

/// One cell of a breakdown.
pub struct BreakdownRow {
    key: String,
    target_members: i64,
    control_members: i64,
    redemption_rate: String,
    target_rate: String,
    control_rate: String,
    uplift: String,
}

pub struct Breakdown {
    title: &'static str,
    rows: Vec<BreakdownRow>,
}

#[derive(Template)]
#[template(path = "campaign.html")]
struct DetailPage {
    c: Chrome,
    id: i64,
    settings: Vec<(&'static str, String)>,
    can_write: bool,
    finished: bool,
    started: bool,
    issued: i64,
    redeemed: i64,
    redemption_rate: String,
    redemption_revenue: String,
    groups: Vec<Row>,
    rate_uplift: String,
    revenue_uplift: String,
    breakdowns: Vec<Breakdown>,
    charts: Vec<Chart>,
    days: Vec<(String, i64, i64, i64)>,
}

fn pct(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{:.1} %", v * 100.0))
}

/// A difference of rates in percentage points with its interval.
fn points(e: &Option<Estimate>) -> String {
    e.map_or("–".into(), |e| {
        format!(
            "{:+.1} pp [{:+.1}; {:+.1}]",
            e.value * 100.0,
            e.low * 100.0,
            e.high * 100.0
        )
    })
}

fn major(e: &Option<Estimate>, currency: &str) -> String {
    e.map_or("–".into(), |e| {
        format!("{currency} {:+.2} [{:+.2}; {:+.2}]", e.value, e.low, e.high)
    })
}

fn group_rows(lang: super::Lang, t_: &GroupFigures, c: &GroupFigures, cur: &str) -> Vec<Row> {
    let per = |g: &GroupFigures| {
        g.revenue_per_member
            .map_or("–".into(), |v| format!("{cur} {v:.2}"))
    };
    vec![
        Row {
            label: t(lang, "camp.members"),
            target: t_.members.to_string(),
            control: c.members.to_string(),
        },
        Row {
            label: t(lang, "camp.buyers"),
            target: t_.buyers.to_string(),
            control: c.buyers.to_string(),
        },
        Row {
            label: t(lang, "camp.purchase_rate"),
            target: pct(t_.purchase_rate),
            control: pct(c.purchase_rate),
        },
        Row {
            label: t(lang, "camp.revenue"),
            target: money(t_.revenue, cur),
            control: money(c.revenue, cur),
        },
        Row {
            label: t(lang, "camp.revenue_per_member"),
            target: per(t_),
            control: per(c),
        },
    ]
}

fn breakdown(title: &'static str, cells: &[Cell]) -> Breakdown {
    Breakdown {
        title,
        rows: cells
            .iter()
            .map(|c| BreakdownRow {
                key: c.key.clone(),
                target_members: c.target.members,
                control_members: c.control.members,
                redemption_rate: pct(c.target.redemption_rate),
                target_rate: pct(c.target.purchase_rate),
                control_rate: pct(c.control.purchase_rate),
                uplift: points(&c.purchase_rate_uplift),
            })
            .collect(),
    }
}

fn charts(lang: super::Lang, r: &CampaignResults) -> Vec<Chart> {
    let short = |d: &str| d.get(5..).unwrap_or(d).to_string();
    let redemptions: Vec<(String, i64)> = r
        .daily
        .iter()
        .map(|d| (short(&d.day), d.redemptions))
        .collect();
    let labels: Vec<String> = r.daily.iter().map(|d| short(&d.day)).collect();
    let series = vec![
        (
            t(lang, "camp.target"),
            r.daily.iter().map(|d| d.target_purchases).collect(),
        ),
        (
            t(lang, "camp.control"),
            r.daily.iter().map(|d| d.control_purchases).collect(),
        ),
    ];
    let a = t(lang, "camp.chart.redemptions");
    let b = t(lang, "camp.chart.purchases");
    vec![
        Chart {
            title: a,
            svg: svg::bar_chart(a, &redemptions, 480, 160),
        },
        Chart {
            title: b,
            svg: svg::grouped_bar_chart(b, &labels, &series, 480, 160),
        },
    ]
}

pub async fn detail(
    State(s): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<i64>,
) -> Response {
    let lang = ctx.lang;
    let view = match s.app.campaign(id).await {
        Ok(v) => v,
        Err(e) => return app_error(lang, e),
    };
    let r = match s.app.campaign_results(id).await {
        Ok(r) => r,
        Err(e) => return app_error(lang, e),
    };
    let segment = match segment_names(&s).await {
        Ok(x) => x
            .into_iter()
            .find(|(sid, _)| *sid == view.campaign.segment_id.to_string())
            .map(|(_, n)| n)
            .unwrap_or_else(|| format!("#{}", view.campaign.segment_id)),
        Err(e) => return app_error(lang, e),
    };
    let c = &view.campaign;
    let cur = c.currency.as_str();
    let value = if c.value_type == "percent" {
        format!("{}.{:02} %", c.value / 100, c.value % 100)
    } else {
        money(c.value, cur)
    };
    let settings = vec![
        (t(lang, "camp.segment"), segment),
        (t(lang, "camp.state"), c.state.clone()),
        (t(lang, "camp.value"), value),
        (t(lang, "camp.min_order"), money(c.min_order, cur)),
        (t(lang, "camp.validity_days"), c.validity_days.to_string()),
        (t(lang, "camp.voucher_channels"), c.voucher_channels.clone()),
        (t(lang, "camp.channels"), view.channels.join(", ")),
        (
            t(lang, "camp.control_share"),
            format!(
                "{}.{:02} %",
                c.control_share_bp / 100,
                c.control_share_bp % 100
            ),
        ),
        (t(lang, "camp.seed"), c.seed.to_string()),
        (
            t(lang, "camp.started"),
            c.started_at.as_ref().map(super::date).unwrap_or_default(),
        ),
        (t(lang, "camp.members"), c.members.to_string()),
        (
            t(lang, "camp.reach"),
            format!(
                "{} / {} / {} ({} / {} / {})",
                c.target_members,
                c.control_members,
                c.unreachable,
                t(lang, "camp.target"),
                t(lang, "camp.control"),
                t(lang, "camp.unreachable")
            ),
        ),
        (
            t(lang, "camp.contacts"),
            format!(
                "{} {} / {} {}",
                c.emails,
                t(lang, "camp.email"),
                c.letters,
                t(lang, "camp.letter")
            ),
        ),
    ];
    let f = &r.figures;
    html(&DetailPage {
        c: Chrome::new(&ctx, format!("{} – {}", t(lang, "camp.one"), c.name)),
        id,
        settings,
        can_write: ctx.actor.allows("campaigns:write"),
        finished: c.state == "done",
        started: r.started_at.is_some(),
        issued: r.vouchers_issued,
        redeemed: r.redeemed,
        redemption_rate: pct(r.redemption_rate),
        redemption_revenue: money(r.redemption_revenue, cur),
        groups: group_rows(lang, &f.target, &f.control, cur),
        rate_uplift: points(&f.purchase_rate_uplift),
        revenue_uplift: major(&f.revenue_per_member_uplift, cur),
        breakdowns: vec![
            breakdown(t(lang, "camp.by_rfm"), &f.by_rfm),
            breakdown(t(lang, "camp.by_orders"), &f.by_orders),
            breakdown(t(lang, "camp.by_revenue"), &f.by_revenue),
        ],
        charts: charts(lang, &r),
        days: r
            .daily
            .iter()
            .map(|d| {
                (
                    d.day.clone(),
                    d.redemptions,
                    d.target_purchases,
                    d.control_purchases,
                )
            })
            .collect(),
    })
}

pub async fn start(
    State(s): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<i64>,
) -> Response {
    match s
        .app
        .start_campaign(&ctx.actor, id, StartLimit::default())
        .await
    {
        Ok(_) => redirect(&format!("/ui/campaigns/{id}")),
        Err(e) => app_error(ctx.lang, e),
    }
}

#[cfg(test)]
mod tests {
    use super::scaled;

    #[test]
    fn decimals_are_read_in_hundredths() {
        assert_eq!(scaled("10", 2), Some(1000));
        assert_eq!(scaled("12.5", 2), Some(1250));
        assert_eq!(scaled("0,05", 2), Some(5));
        assert_eq!(scaled("28", 0), Some(28));
        assert_eq!(scaled("1.234", 2), None);
        assert_eq!(scaled("-1", 2), None);
        assert_eq!(scaled("abc", 2), None);
        assert_eq!(scaled("", 2), None);
    }
}
