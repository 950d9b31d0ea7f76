//! The marketing automation adapter (DOMAIN §6: email goes to the automation system). A
//! campaign's email list is synced to a list in the automation system, emarsys/Mailchimp style:
//! `PUT {base}/lists/{list}/members` in batches of 500 with `Authorization: Bearer KEY`. Each
//! batch is an upsert by email on the receiver's side, so a repeated sync changes nothing
//! there; that is what makes retrying a batch after a 5xx safe. The contract is in
//! docs/automation.md. The client is the plain-HTTP one of the webhooks (ADR 4).

use std::time::Duration;

use chrono::Utc;
use kundo_store::campaigns::{self as store, EmailRow};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::webhooks::{parse_url, send};
use crate::{Actor, App, AppError, Result};

/// Members per request.
pub const BATCH: usize = 500;

/// Where and how to sync; given per call (the API key is not stored).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncTarget {
    /// `http://host:port/prefix` of the automation system's API (plain HTTP; see ADR 4).
    pub base_url: String,
    /// The list's id in the automation system.
    pub list: String,
    pub api_key: String,
}

/// Retries of a batch answered with 5xx or not answered at all, and the pause before the first
/// retry (doubled each time).
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    pub attempts: u32,
    pub first_pause: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 4,
            first_pause: Duration::from_millis(500),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncReport {
    pub members: usize,
    pub batches: usize,
    pub synced: usize,
    pub failed: usize,
    /// Requests sent, retries included.
    pub requests: usize,
    /// What the failed batches were answered, e.g. `batch 2: answered 400`.
    pub errors: Vec<String>,
}

#[derive(Serialize)]
struct Member<'a> {
    email: &'a str,
    customer_number: &'a str,
    first_name: &'a str,
    last_name: &'a str,
    language: &'a str,
    voucher_code: String,
    valid_until: String,
}

fn check(t: &SyncTarget) -> Result<()> {
    let mut e = kundo_core::error::Errors::default();
    if let Err(m) = parse_url(t.base_url.trim_end_matches('/')) {
        e.push("base_url", m);
    }
    if t.list.is_empty()
        || t.list.len() > 100
        || !t
            .list
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        e.push("list", "must be 1-100 letters, digits, '-', '_' or '.'");
    }
    if t.api_key.trim().is_empty() || t.api_key.chars().any(|c| c.is_control() || c == ' ') {
        e.push("api_key", "must be a key without spaces");
    }
    e.into_result(()).map_err(AppError::Invalid)
}

/// Sends `rows` to the list, batch by batch; a batch answered with 5xx (or not at all) is
/// retried, one answered with another non-2xx status is reported and skipped.
pub async fn sync(target: &SyncTarget, rows: &[EmailRow], retry: Retry) -> Result<SyncReport> {
    check(target)?;
    let url = format!(
        "{}/lists/{}/members",
        target.base_url.trim_end_matches('/'),
        target.list
    );
    let headers = [("Authorization", format!("Bearer {}", target.api_key.trim()))];
    let mut report = SyncReport {
        members: rows.len(),
        ..SyncReport::default()
    };
    for (n, chunk) in rows.chunks(BATCH).enumerate() {
        report.batches += 1;
        let members: Vec<Member> = chunk
            .iter()
            .map(|r| Member {
                email: r.email.as_deref().unwrap_or(""),
                customer_number: &r.customer_number,
                first_name: r.first_name.as_deref().unwrap_or(""),
                last_name: r.last_name.as_deref().unwrap_or(""),
                language: r.language.as_deref().unwrap_or(""),
                voucher_code: kundo_core::voucher_code::display(&r.code),
                valid_until: crate::vouchers::last_valid_day(r.valid_until),
            })
            .collect();
        let body = json!({ "members": members }).to_string();
        let mut pause = retry.first_pause;
        let mut attempt = 0;
        loop {
            attempt += 1;
            report.requests += 1;
            let answer = send("PUT", &url, &headers, &body).await;
            match answer {
                Ok(s) if (200..300).contains(&s) => {
                    report.synced += chunk.len();
                    break;
                }
                Ok(s) if s < 500 => {
                    report.failed += chunk.len();
                    report.errors.push(format!("batch {}: answered {s}", n + 1));
                    break;
                }
                other if attempt >= retry.attempts.max(1) => {
                    report.failed += chunk.len();
                    let why = match other {
                        Ok(s) => format!("answered {s}"),
                        Err(e) => e,
                    };
                    report
                        .errors
                        .push(format!("batch {}: {why} ({attempt} attempts)", n + 1));
                    break;
                }
                _ => {
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                }
            }
        }
    }
    Ok(report)
}

impl App {
    /// Syncs a finished campaign's email list to the automation system and records it.
    pub async fn sync_campaign(
        &self,
        actor: &Actor,
        id: i64,
        target: &SyncTarget,
        retry: Retry,
    ) -> Result<SyncReport> {
        check(target)?;
        let rows = {
            let mut conn = self.store.acquire().await?;
            let c = store::get(&mut conn.db(), id)
                .await?
                .ok_or(AppError::NotFound("campaign"))?;
            if c.state != "done" {
                return Err(AppError::Conflict {
                    field: "state".into(),
                    message: format!("the campaign is {}; start it first", c.state),
                });
            }
            store::email_rows(&mut conn.db(), id).await?
        };
        let report = sync(target, &rows, retry).await?;
        let now = Utc::now();
        let mut tx = self.store.begin_write().await?;
        store::mark_synced(&mut tx.db(), id, report.synced as i64, now).await?;
        kundo_store::audit::record(
            &mut tx.db(),
            &actor.name,
            "campaign.synced",
            None,
            &json!({"id": id, "base_url": target.base_url, "list": target.list, "members": report.members,
                "synced": report.synced, "failed": report.failed, "requests": report.requests}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(report)
    }
}
