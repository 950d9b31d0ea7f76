//! The dashboard: the last twelve months as server-rendered SVG bar charts, each with its
//! numbers in a table below, and the RFM grid when customers were scored.

use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::response::Response;
use chrono::Datelike;
use kundo_store::dashboard::{Series, add_months, monthly};

use super::{Chrome, Ctx, app_error, html, svg, t};
use crate::AppState;

pub struct Chart {
    title: &'static str,
    svg: String,
    rows: Vec<(String, i64)>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    c: Chrome,
    charts: Vec<Chart>,
    /// Rows r = 5..1, columns f = 1..5.
    rfm: Vec<(i64, Vec<i64>)>,
    definitions: &'static str,
}

fn chart(title: &'static str, months: &[String], s: &Series) -> Chart {
    let rows: Vec<(String, i64)> = months
        .iter()
        .map(|m| (m.clone(), s.get(m).copied().unwrap_or(0)))
        .collect();
    let labelled: Vec<(String, i64)> = rows
        .iter()
        .map(|(m, v)| (m.get(2..).unwrap_or(m).to_string(), *v))
        .collect();
    Chart {
        title,
        svg: svg::bar_chart(title, &labelled, 480, 160),
        rows,
    }
}

pub async fn dashboard(State(s): State<AppState>, Extension(ctx): Extension<Ctx>) -> Response {
    let lang = ctx.lang;
    let now = chrono::Utc::now();
    let to = format!("{:04}-{:02}", now.year(), now.month());
    let from = add_months(&to, -11).unwrap_or_else(|| to.clone());
    let months: Vec<String> = (0..12).filter_map(|i| add_months(&from, i)).collect();
    let data = async {
        let mut tx = s.app.store.begin_read().await?;
        let d = monthly(&mut tx.db(), &from, &to).await?;
        tx.commit().await?;
        Ok::<_, kundo_store::StoreError>(d)
    }
    .await;
    let d = match data {
        Ok(d) => d,
        Err(e) => return app_error(lang, e.into()),
    };
    let charts = vec![
        chart(t(lang, "dash.new_customers"), &months, &d.new_customers),
        chart(t(lang, "dash.active"), &months, &d.active_customers),
        chart(t(lang, "dash.lost"), &months, &d.lost_customers),
        chart(t(lang, "dash.points_earned"), &months, &d.points_earned),
        chart(
            t(lang, "dash.points_converted"),
            &months,
            &d.points_converted,
        ),
        chart(t(lang, "dash.vouchers_issued"), &months, &d.vouchers_issued),
        chart(
            t(lang, "dash.vouchers_redeemed"),
            &months,
            &d.vouchers_redeemed,
        ),
        chart(
            t(lang, "dash.vouchers_expired"),
            &months,
            &d.vouchers_expired,
        ),
    ];
    let rfm = if d.rfm.is_empty() {
        Vec::new()
    } else {
        (1..=5)
            .rev()
            .map(|r| {
                (
                    r,
                    (1..=5)
                        .map(|f| d.rfm.get(&(r, f)).copied().unwrap_or(0))
                        .collect(),
                )
            })
            .collect()
    };
    html(&DashboardPage {
        c: Chrome::new(&ctx, t(lang, "dash.title")),
        charts,
        rfm,
        definitions: t(lang, "dash.definitions"),
    })
}
