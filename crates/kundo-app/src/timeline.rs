//! The contact history (DOMAIN §11): logging a contact (the call centre, store staff) and the
//! customer timeline of contacts, purchases, returns and voucher events.

use chrono::{DateTime, Utc};
use kundo_core::error::Errors;
use kundo_core::history::{LOGGABLE_KINDS, check_body, check_text, one_of};
use kundo_store::activities::{self, ActivityRow, NewActivity};
use kundo_store::timeline::{
    self as store, SRC_ACTIVITY, SRC_RECEIPT, SRC_VOUCHER_ISSUED, SRC_VOUCHER_REDEEMED,
    TimelineCursor, TimelineQuery, TimelineRow,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::cases::check_contact;
use crate::customers::Page;
use crate::tasks::{TEXT_MAX, TITLE_MAX};
use crate::{Actor, App, AppError, Result};

/// A contact to log by hand.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivityInput {
    /// One of `kundo_core::history::LOGGABLE_KINDS`.
    pub kind: String,
    #[serde(default)]
    pub channel: Option<String>,
    /// `inbound` or `outbound`.
    #[serde(default)]
    pub direction: Option<String>,
    pub subject: String,
    #[serde(default)]
    pub body: Option<String>,
    /// RFC 3339; now if not given.
    #[serde(default)]
    pub occurred_at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ActivityView {
    pub customer_number: String,
    #[serde(flatten)]
    pub activity: ActivityRow,
}

/// One entry of the timeline. `source` says which record it is (`activity`, `receipt`,
/// `voucher`); the other fields are there when the source has them.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineEntry {
    pub source: &'static str,
    pub id: i64,
    pub kind: String,
    pub occurred_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_type: Option<String>,
}

impl From<TimelineRow> for TimelineEntry {
    fn from(r: TimelineRow) -> Self {
        TimelineEntry {
            source: match r.src {
                SRC_ACTIVITY => "activity",
                SRC_RECEIPT => "receipt",
                SRC_VOUCHER_ISSUED | SRC_VOUCHER_REDEEMED => "voucher",
                _ => "unknown",
            },
            id: r.id,
            kind: r.kind,
            occurred_at: r.occurred_at,
            channel: r.channel,
            direction: r.direction,
            subject: r.subject,
            body: r.body,
            case_id: r.case_id,
            reference: r.reference,
            actor: r.actor,
            store_code: r.store_code,
            amount: r.amount,
            currency: r.currency,
            value_type: r.value_type,
        }
    }
}

impl App {
    /// Logs a contact (a call, a letter, a visit …) on the customer's timeline, with audit
    /// entry and `activity.logged` event.
    pub async fn log_activity(
        &self,
        actor: &Actor,
        customer_number: &str,
        input: ActivityInput,
    ) -> Result<ActivityView> {
        let now = Utc::now();
        let mut e = Errors::default();
        let kind = input.kind.trim();
        e.check("kind", one_of(kind, LOGGABLE_KINDS));
        check_text(&mut e, "subject", &input.subject, TITLE_MAX);
        if let Some(b) = &input.body {
            check_body(&mut e, "body", b, TEXT_MAX);
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
        let number = kundo_store::customers::load(&mut tx.db(), customer_id)
            .await?
            .map(|c| c.meta.customer_number)
            .ok_or(AppError::NotFound("customer"))?;
        let id = activities::insert(
            &mut tx.db(),
            &NewActivity {
                customer_id,
                kind,
                occurred_at: at,
                channel,
                direction,
                subject: input.subject.trim(),
                body: input
                    .body
                    .as_deref()
                    .map(str::trim)
                    .filter(|b| !b.is_empty()),
                case_id: None,
                reference: None,
                actor: &actor.name,
            },
            now,
        )
        .await?;
        kundo_store::audit::record(
            &mut tx.db(),
            &actor.name,
            "activity.logged",
            Some(customer_id),
            &json!({"activity_id": id, "kind": kind, "occurred_at": at, "subject": input.subject.trim()}),
            now,
        )
        .await?;
        kundo_store::audit::emit(
            &mut tx.db(),
            "activity.logged",
            Some(customer_id),
            &json!({"activity_id": id, "kind": kind, "occurred_at": at, "customer_number": number}),
            now,
        )
        .await?;
        let activity = activities::get(&mut tx.db(), id)
            .await?
            .ok_or(AppError::NotFound("activity"))?;
        tx.commit().await?;
        Ok(ActivityView {
            customer_number: number,
            activity,
        })
    }

    /// A page of the customer's timeline, newest first; `kinds` narrows it (see
    /// `kundo_core::history::TIMELINE_KINDS`), `before` is the `next_cursor` of the last page.
    pub async fn timeline(
        &self,
        customer_number: &str,
        kinds: Option<&[String]>,
        before: Option<TimelineCursor>,
        limit: i64,
    ) -> Result<Page<TimelineEntry>> {
        let mut tx = self.store.begin_read().await?;
        let customer_id =
            kundo_store::customers::resolve_number(&mut tx.db(), customer_number.trim())
                .await?
                .ok_or(AppError::NotFound("customer"))?;
        let mut rows = store::page(
            &mut tx.db(),
            &TimelineQuery {
                customer_id,
                kinds,
                before,
                limit: limit + 1,
            },
        )
        .await?;
        tx.commit().await?;
        let more = rows.len() as i64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(0));
        let next_cursor = if more {
            rows.last().map(|r| TimelineCursor::of(r).encode())
        } else {
            None
        };
        Ok(Page {
            items: rows.into_iter().map(TimelineEntry::from).collect(),
            next_cursor,
        })
    }
}
