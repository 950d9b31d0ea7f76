//! Tasks (Aufgaben, DOMAIN §11): created by hand or by processes (postal returns, the duplicates
//! review), worked in queues per team or by an assignee, changed with a version check, commented.

use chrono::Utc;
use kundo_core::error::Errors;
use kundo_core::history::{TASK_KINDS, TASK_STATUSES, check_body, check_text, one_of, parse_date};
use kundo_store::StoreError;
use kundo_store::tasks::{self as store, CommentRow, NewTask, TaskChange, TaskFilter, TaskRow};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::customers::Page;
use crate::{Actor, App, AppError, Result};

/// A task created by hand.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskInput {
    pub kind: String,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub team: Option<String>,
    #[serde(default)]
    pub assignee: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub due_date: Option<String>,
    #[serde(default)]
    pub customer_number: Option<String>,
}

pub const TITLE_MAX: usize = 200;
pub const TEXT_MAX: usize = 10_000;
pub const NAME_MAX: usize = 100;

/// The entity tag of a task for `If-Match`.
pub fn etag(t: &TaskRow) -> String {
    format!("\"{}\"", t.version)
}

fn opt_text(e: &mut Errors, field: &str, v: Option<&str>, max: usize) {
    if let Some(v) = v {
        check_text(e, field, v, max);
    }
}

fn trimmed(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim)
}

/// The new state of a task after a patch: each key of the patch replaces one field; `null`
/// clears an optional one.
struct Patched {
    title: String,
    description: Option<String>,
    team: Option<String>,
    assignee: Option<String>,
    due_date: Option<chrono::NaiveDate>,
    status: String,
}

fn apply_patch(
    t: &TaskRow,
    patch: &Map<String, Value>,
) -> std::result::Result<Patched, Vec<kundo_core::error::FieldError>> {
    let mut e = Errors::default();
    let mut p = Patched {
        title: t.title.clone(),
        description: t.description.clone(),
        team: t.team.clone(),
        assignee: t.assignee.clone(),
        due_date: t.due_date,
        status: t.status.clone(),
    };
    for (k, v) in patch {
        let text = match v {
            Value::String(s) => Some(s.trim().to_string()),
            Value::Null => None,
            _ => {
                e.push(k.as_str(), "must be a string or null");
                continue;
            }
        };
        match k.as_str() {
            "title" | "status" if text.is_none() => e.push(k.as_str(), "must not be null"),
            "title" => {
                let s = text.unwrap_or_default();
                check_text(&mut e, "title", &s, TITLE_MAX);
                p.title = s;
            }
            "status" => {
                let s = text.unwrap_or_default();
                if e.check("status", one_of(&s, TASK_STATUSES)).is_some() {
                    p.status = s;
                }
            }
            "description" => {
                if let Some(s) = &text {
                    check_body(&mut e, "description", s, TEXT_MAX);
                }
                p.description = text.filter(|s| !s.is_empty());
            }
            "team" => {
                opt_text(&mut e, "team", text.as_deref(), NAME_MAX);
                p.team = text;
            }
            "assignee" => {
                opt_text(&mut e, "assignee", text.as_deref(), NAME_MAX);
                p.assignee = text;
            }
            "due_date" => {
                p.due_date = match text {
                    Some(s) => e.check("due_date", parse_date(&s)),
                    None => None,
                }
            }
            other => e.push(
                other,
                "is not a field a change may set; use title, description, team, assignee, due_date, status",
            ),
        }
    }
    if e.is_empty() && p.team.is_none() && p.assignee.is_none() {
        e.push("team", "a task needs a team or an assignee");
    }
    e.into_result(p)
}

fn changes(t: &TaskRow, p: &Patched) -> Map<String, Value> {
    let mut m = Map::new();
    let mut put = |k: &str, old: Value, new: Value| {
        if old != new {
            m.insert(k.into(), json!({"old": old, "new": new}));
        }
    };
    put("title", json!(t.title), json!(p.title));
    put("description", json!(t.description), json!(p.description));
    put("team", json!(t.team), json!(p.team));
    put("assignee", json!(t.assignee), json!(p.assignee));
    put("due_date", json!(t.due_date), json!(p.due_date));
    put("status", json!(t.status), json!(p.status));
    m
}

impl App {
    /// Creates an open task; with a customer, the audit entry and the `task.created` event name
    /// that customer.
    pub async fn create_task(&self, actor: &Actor, input: TaskInput) -> Result<TaskRow> {
        let mut e = Errors::default();
        e.check("kind", one_of(input.kind.trim(), TASK_KINDS));
        check_text(&mut e, "title", &input.title, TITLE_MAX);
        if let Some(d) = &input.description {
            check_body(&mut e, "description", d, TEXT_MAX);
        }
        opt_text(&mut e, "team", trimmed(&input.team), NAME_MAX);
        opt_text(&mut e, "assignee", trimmed(&input.assignee), NAME_MAX);
        let due_date = input
            .due_date
            .as_deref()
            .and_then(|d| e.check("due_date", parse_date(d)));
        if input.team.is_none() && input.assignee.is_none() {
            e.push("team", "a task needs a team or an assignee");
        }
        e.into_result(()).map_err(AppError::Invalid)?;
        let now = Utc::now();
        let mut tx = self.store.begin_write().await?;
        let customer_id = match &input.customer_number {
            Some(n) => Some(
                kundo_store::customers::resolve_number(&mut tx.db(), n.trim())
                    .await?
                    .ok_or_else(|| {
                        AppError::invalid("customer_number", "no customer with this number")
                    })?,
            ),
            None => None,
        };
        let new = NewTask {
            customer_id,
            kind: input.kind.trim(),
            title: input.title.trim(),
            description: input
                .description
                .as_deref()
                .map(str::trim)
                .filter(|d| !d.is_empty()),
            team: trimmed(&input.team),
            assignee: trimmed(&input.assignee),
            due_date,
            source: "manual",
            source_ref: None,
            created_by: &actor.name,
        };
        let id = store::insert(&mut tx.db(), &new, now).await?;
        let task = store::get(&mut tx.db(), id)
            .await?
            .ok_or(AppError::NotFound("task"))?;
        kundo_store::audit::record(
            &mut tx.db(),
            &actor.name,
            "task.created",
            customer_id,
            &json!({"task_id": id, "kind": task.kind, "title": task.title, "team": task.team, "assignee": task.assignee, "due_date": task.due_date}),
            now,
        )
        .await?;
        kundo_store::audit::emit(
            &mut tx.db(),
            "task.created",
            customer_id,
            &json!({"task_id": id, "kind": task.kind, "team": task.team, "assignee": task.assignee, "due_date": task.due_date, "customer_number": task.customer_number}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(task)
    }

    pub async fn task(&self, id: i64) -> Result<TaskRow> {
        let mut conn = self.store.acquire().await?;
        store::get(&mut conn.db(), id)
            .await?
            .ok_or(AppError::NotFound("task"))
    }

    /// A queue: tasks matching the filter by due date, paginated. `customer_number` narrows it
    /// to one customer's tasks.
    pub async fn list_tasks(
        &self,
        mut filter: TaskFilter,
        customer_number: Option<&str>,
    ) -> Result<Page<TaskRow>> {
        let mut tx = self.store.begin_read().await?;
        if let Some(n) = customer_number {
            filter.customer_id = Some(
                kundo_store::customers::resolve_number(&mut tx.db(), n.trim())
                    .await?
                    .ok_or_else(|| {
                        AppError::invalid("customer_number", "no customer with this number")
                    })?,
            );
        }
        let items = store::list(&mut tx.db(), &filter).await?;
        tx.commit().await?;
        let next_cursor = if items.len() as u64 == filter.limit {
            items.last().map(|t| {
                store::TaskCursor {
                    due_date: t.due_date,
                    id: t.id,
                }
                .encode()
            })
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    /// Changes a task. `if_match` is the version the caller read; a stale one is refused.
    pub async fn update_task(
        &self,
        actor: &Actor,
        id: i64,
        patch: &Map<String, Value>,
        if_match: Option<i64>,
    ) -> Result<TaskRow> {
        let now = Utc::now();
        let mut tx = self.store.begin_write().await?;
        let current = store::get(&mut tx.db(), id)
            .await?
            .ok_or(AppError::NotFound("task"))?;
        if let Some(v) = if_match
            && v != current.version
        {
            return Err(AppError::Stale);
        }
        let p = apply_patch(&current, patch).map_err(AppError::Invalid)?;
        let diff = changes(&current, &p);
        if diff.is_empty() {
            tx.commit().await?;
            return Ok(current);
        }
        let change = TaskChange {
            title: &p.title,
            description: p.description.as_deref(),
            team: p.team.as_deref(),
            assignee: p.assignee.as_deref(),
            due_date: p.due_date,
            status: &p.status,
        };
        store::update(&mut tx.db(), id, &change, current.version, now)
            .await
            .map_err(|e| match e {
                StoreError::Stale => AppError::Stale,
                e => AppError::Store(e),
            })?;
        let fields: Vec<&String> = diff.keys().collect();
        let event = json!({"task_id": id, "changed": fields, "status": p.status, "team": p.team, "assignee": p.assignee, "customer_number": current.customer_number});
        let mut audit = diff.clone();
        audit.insert("task_id".into(), json!(id));
        kundo_store::audit::record(
            &mut tx.db(),
            &actor.name,
            "task.updated",
            current.customer_id,
            &Value::Object(audit),
            now,
        )
        .await?;
        kundo_store::audit::emit(
            &mut tx.db(),
            "task.updated",
            current.customer_id,
            &event,
            now,
        )
        .await?;
        let task = store::get(&mut tx.db(), id)
            .await?
            .ok_or(AppError::NotFound("task"))?;
        tx.commit().await?;
        Ok(task)
    }

    pub async fn add_task_comment(
        &self,
        actor: &Actor,
        task_id: i64,
        body: &str,
    ) -> Result<CommentRow> {
        let mut e = Errors::default();
        if body.trim().is_empty() {
            e.push("body", "must not be empty");
        }
        check_body(&mut e, "body", body, TEXT_MAX);
        e.into_result(()).map_err(AppError::Invalid)?;
        let now = Utc::now();
        let mut tx = self.store.begin_write().await?;
        let task = store::get(&mut tx.db(), task_id)
            .await?
            .ok_or(AppError::NotFound("task"))?;
        let id = store::add_comment(
            &mut tx.db(),
            task_id,
            task.customer_id,
            &actor.name,
            body.trim(),
            now,
        )
        .await?;
        kundo_store::audit::record(
            &mut tx.db(),
            &actor.name,
            "task.commented",
            task.customer_id,
            &json!({"task_id": task_id, "comment_id": id}),
            now,
        )
        .await?;
        kundo_store::audit::emit(
            &mut tx.db(),
            "task.commented",
            task.customer_id,
            &json!({"task_id": task_id, "comment_id": id, "customer_number": task.customer_number}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(CommentRow {
            id,
            task_id,
            author: actor.name.clone(),
            body: body.trim().to_string(),
            created_at: now,
        })
    }

    /// The comments of a task, oldest first, after the cursor id.
    pub async fn task_comments(
        &self,
        task_id: i64,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Page<CommentRow>> {
        let mut tx = self.store.begin_read().await?;
        store::get(&mut tx.db(), task_id)
            .await?
            .ok_or(AppError::NotFound("task"))?;
        let items = store::comments(&mut tx.db(), task_id, after, limit).await?;
        tx.commit().await?;
        let next_cursor = if items.len() as i64 == limit {
            items.last().map(|c| c.id.to_string())
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }
}
