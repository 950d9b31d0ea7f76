//! Cases (DOMAIN §11): a complaint or a service request with a status and a history. Opening a
//! case and every change of its status also put an activity on the customer's timeline.

use chrono::{DateTime, Utc};
use kundo_core::error::Errors;
use kundo_core::history::{
    CASE_KINDS, CASE_STATUSES, DIRECTIONS, case_transition_allowed, check_body, check_text, one_of,
};
use kundo_store::activities::{self, NewActivity};
use kundo_store::cases::{self as store, CaseEventRow, CaseRow, NewCase};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::customers::Page;
use crate::tasks::{NAME_MAX, TEXT_MAX, TITLE_MAX};
use crate::{Actor, App, AppError, Result};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseInput {
    /// `complaint` or `service_request`.
    pub kind: String,
    pub subject: String,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub direction: Option<String>,
    #[serde(default)]
    pub team: Option<String>,
    #[serde(default)]
    pub assignee: Option<String>,
    /// When the customer got in touch (RFC 3339); now if not given.
    #[serde(default)]
    pub occurred_at: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseStatusInput {
    pub status: String,
    #[serde(default)]
    pub note: Option<String>,
}

/// A case with its history, oldest step first. `version` is the number of steps: every change
/// adds one, so it serves as the entity tag.
#[derive(Debug, Clone, Serialize)]
pub struct CaseView {
    #[serde(flatten)]
    pub case: CaseRow,
    pub history: Vec<CaseEventRow>,
    pub version: i64,
}

impl CaseView {
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }
}

/// Checks the contact fields shared by logged activities and cases; returns the time.
pub(crate) fn check_contact(
    e: &mut Errors,
    channel: Option<&str>,
    direction: Option<&str>,
    occurred_at: Option<&str>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if let Some(c) = channel {
        check_text(e, "channel", c, 50);
    }
    if let Some(d) = direction {
        e.check("direction", one_of(d, DIRECTIONS));
    }
    match occurred_at {
        None => Some(now),
        Some(t) => {
            let at = e.check("occurred_at", kundo_core::customer::parse_timestamp(t))?;
            if at > now + chrono::Duration::minutes(5) {
                e.push("occurred_at", "must not lie in the future");
                return None;
            }
            Some(at)
        }
    }
}

async fn view(db: &mut kundo_store::Db<'_>, id: i64) -> Result<CaseView> {
    let case = store::get(db, id)
        .await?
        .ok_or(AppError::NotFound("case"))?;
    let history = store::events(db, id).await?;
    Ok(CaseView {
        case,
        version: history.len() as i64,
        history,
    })
}

impl App {
    /// Opens a case for a customer: the case, the first step of its history, an activity of
    /// the same kind on the timeline, the audit entry and the `case.created` event.
    pub async fn create_case(
        &self,
        actor: &Actor,
        customer_number: &str,
        input: CaseInput,
    ) -> Result<CaseView> {
        let now = Utc::now();
        let mut e = Errors::default();
        let kind = input.kind.trim();
        e.check("kind", one_of(kind, CASE_KINDS));
        check_text(&mut e, "subject", &input.subject, TITLE_MAX);
        if let Some(b) = &input.body {
            check_body(&mut e, "body", b, TEXT_MAX);
        }
        for (field, v) in [("team", &input.team), ("assignee", &input.assignee)] {
            if let Some(v) = v {
                check_text(&mut e, field, v, NAME_MAX);
            }
        }
        let channel = input.channel.as_deref().map(str::trim);
        let direction = input.direction.as_deref().map(str::trim);
        let at = check_contact(
            &mut e,
            channel,
            direction,
            input.occurred_at.as_deref(),
            now,
        );
        let at = e.into_result(at).map_err(AppError::Invalid)?.unwrap_or(now);
        let mut tx = self.store.begin_write().await?;
        let customer_id =
            kundo_store::customers::resolve_number(&mut tx.db(), customer_number.trim())
                .await?
                .ok_or(AppError::NotFound("customer"))?;
        let subject = input.subject.trim();
        let id = store::insert(
            &mut tx.db(),
            &NewCase {
                customer_id,
                kind,
                subject,
                team: input.team.as_deref().map(str::trim),
                assignee: input.assignee.as_deref().map(str::trim),
                created_by: &actor.name,
            },
            now,
        )
        .await?;
        store::add_event(
            &mut tx.db(),
            id,
            customer_id,
            "open",
            None,
            &actor.name,
            now,
        )
        .await?;
        let reference = format!("case:{id}");
        activities::insert(
            &mut tx.db(),
            &NewActivity {
                customer_id,
                kind,
                occurred_at: at,
                channel,
                direction,
                subject,
                body: input
                    .body
                    .as_deref()
                    .map(str::trim)
                    .filter(|b| !b.is_empty()),
                case_id: Some(id),
                reference: Some(&reference),
                actor: &actor.name,
            },
            now,
        )
        .await?;
        let v = view(&mut tx.db(), id).await?;
        kundo_store::audit::record(
            &mut tx.db(),
            &actor.name,
            "case.created",
            Some(customer_id),
            &json!({"case_id": id, "kind": kind, "subject": subject}),
            now,
        )
        .await?;
        kundo_store::audit::emit(
            &mut tx.db(),
            "case.created",
            Some(customer_id),
            &json!({"case_id": id, "kind": kind, "customer_number": v.case.customer_number}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(v)
    }

    pub async fn case(&self, id: i64) -> Result<CaseView> {
        let mut tx = self.store.begin_read().await?;
        let v = view(&mut tx.db(), id).await?;
        tx.commit().await?;
        Ok(v)
    }

    /// Moves a case to another status (see `kundo_core::history::case_transition_allowed`):
    /// a step of its history with the note, an activity on the timeline, audit entry and the
    /// `case.status_changed` event. `if_match` is the version the caller read.
    pub async fn change_case_status(
        &self,
        actor: &Actor,
        id: i64,
        input: CaseStatusInput,
        if_match: Option<i64>,
    ) -> Result<CaseView> {
        let now = Utc::now();
        let mut e = Errors::default();
        let to = input.status.trim();
        e.check("status", one_of(to, CASE_STATUSES));
        let note = input
            .note
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty());
        if let Some(n) = note {
            check_body(&mut e, "note", n, TEXT_MAX);
        }
        e.into_result(()).map_err(AppError::Invalid)?;
        let mut tx = self.store.begin_write().await?;
        let current = view(&mut tx.db(), id).await?;
        if let Some(v) = if_match
            && v != current.version
        {
            return Err(AppError::Stale);
        }
        let from = current.case.status.as_str();
        if !case_transition_allowed(from, to) {
            return Err(AppError::Conflict {
                field: "status".into(),
                message: format!("a case that is '{from}' cannot become '{to}'"),
            });
        }
        if !store::set_status(&mut tx.db(), id, from, to, now).await? {
            return Err(AppError::Stale);
        }
        let customer_id = current.case.customer_id;
        store::add_event(&mut tx.db(), id, customer_id, to, note, &actor.name, now).await?;
        let subject = format!("{} ({})", current.case.subject, to.replace('_', " "));
        let subject: String = subject.chars().take(TITLE_MAX + 20).collect();
        let reference = format!("case:{id}");
        activities::insert(
            &mut tx.db(),
            &NewActivity {
                customer_id,
                kind: &current.case.kind,
                occurred_at: now,
                channel: None,
                direction: None,
                subject: &subject,
                body: note,
                case_id: Some(id),
                reference: Some(&reference),
                actor: &actor.name,
            },
            now,
        )
        .await?;
        kundo_store::audit::record(
            &mut tx.db(),
            &actor.name,
            "case.status_changed",
            Some(customer_id),
            &json!({"case_id": id, "status": {"old": from, "new": to}, "note": note}),
            now,
        )
        .await?;
        kundo_store::audit::emit(
            &mut tx.db(),
            "case.status_changed",
            Some(customer_id),
            &json!({"case_id": id, "kind": current.case.kind, "old_status": from, "status": to, "customer_number": current.case.customer_number}),
            now,
        )
        .await?;
        let v = view(&mut tx.db(), id).await?;
        tx.commit().await?;
        Ok(v)
    }

    /// The cases of a customer, newest first.
    pub async fn customer_cases(
        &self,
        customer_number: &str,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Page<CaseRow>> {
        let mut tx = self.store.begin_read().await?;
        let customer_id =
            kundo_store::customers::resolve_number(&mut tx.db(), customer_number.trim())
                .await?
                .ok_or(AppError::NotFound("customer"))?;
        let items = store::of_customer(&mut tx.db(), customer_id, before, limit).await?;
        tx.commit().await?;
        let next_cursor = if items.len() as i64 == limit {
            items.last().map(|c| c.id.to_string())
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }
}
