//! Tasks (Aufgaben) for staff: created by postal returns, by the duplicates review, by hand.

use chrono::{DateTime, NaiveDate, Utc};
use sea_query::{Alias, Cond, Expr, ExprTrait, Order, Query};
use serde::Serialize;
use sqlx::AssertSqlSafe;

use crate::{Db, StoreError, with_db};

#[derive(Debug, Clone)]
pub struct NewTask<'a> {
    pub customer_id: Option<i64>,
    /// e.g. `address_research`, `duplicate_review`, `callback`, `general`.
    pub kind: &'a str,
    pub title: &'a str,
    pub description: Option<&'a str>,
    pub team: Option<&'a str>,
    pub assignee: Option<&'a str>,
    pub due_date: Option<NaiveDate>,
    /// Who or what created it: `manual`, `postal_return`, `duplicates`.
    pub source: &'a str,
    pub source_ref: Option<&'a str>,
    pub created_by: &'a str,
}

/// Creates an open task and returns its id.
pub async fn insert(db: &mut Db<'_>, t: &NewTask<'_>, now: DateTime<Utc>) -> crate::Result<i64> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_scalar(
            "INSERT INTO tasks (customer_id, kind, title, description, team, assignee, due_date, status, source, source_ref, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $9, $10, $11, $11) RETURNING id")
            .bind(t.customer_id).bind(t.kind).bind(t.title).bind(t.description).bind(t.team)
            .bind(t.assignee).bind(t.due_date).bind(t.source).bind(t.source_ref).bind(t.created_by).bind(now)
            .fetch_one(&mut *c).await?
    }))
}

/// A task as stored, with the number of its customer (if any).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TaskRow {
    pub id: i64,
    #[serde(skip)]
    pub customer_id: Option<i64>,
    pub customer_number: Option<String>,
    pub kind: String,
    pub title: String,
    pub description: Option<String>,
    pub team: Option<String>,
    pub assignee: Option<String>,
    pub due_date: Option<NaiveDate>,
    pub status: String,
    pub source: String,
    pub source_ref: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

const TASK_COLUMNS: &str = "t.id, t.customer_id, c.customer_number, t.kind, t.title, t.description, t.team, t.assignee, t.due_date, \
     t.status, t.source, t.source_ref, t.created_by, t.created_at, t.updated_at, t.version";

pub async fn get(db: &mut Db<'_>, id: i64) -> crate::Result<Option<TaskRow>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {TASK_COLUMNS} FROM tasks t LEFT JOIN customers c ON c.id = t.customer_id WHERE t.id = $1"
        )))
        .bind(id)
        .fetch_optional(&mut *c)
        .await?
    }))
}

/// Where a page of a task list starts: after this task in the order (due date, id), tasks
/// without a due date last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskCursor {
    pub due_date: Option<NaiveDate>,
    pub id: i64,
}

impl TaskCursor {
    /// `2026-12-01_42`, or `none_42` for a task without a due date.
    pub fn encode(&self) -> String {
        match self.due_date {
            Some(d) => format!("{}_{}", d.format("%Y-%m-%d"), self.id),
            None => format!("none_{}", self.id),
        }
    }

    pub fn decode(s: &str) -> Option<TaskCursor> {
        let (date, id) = s.split_once('_')?;
        let id = id.parse().ok()?;
        let due_date = match date {
            "none" => None,
            d => Some(NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()?),
        };
        Some(TaskCursor { due_date, id })
    }
}

/// A task list filter (a team's queue, someone's tasks, a customer's tasks); all combined
/// with AND.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub team: Option<String>,
    pub assignee: Option<String>,
    pub status: Option<String>,
    pub customer_id: Option<i64>,
    pub kind: Option<String>,
    /// Only tasks due strictly before this date.
    pub due_before: Option<NaiveDate>,
    pub after: Option<TaskCursor>,
    pub limit: u64,
}

/// Tasks matching `f`, ordered by due date (tasks without one last), then id.
pub async fn list(db: &mut Db<'_>, f: &TaskFilter) -> crate::Result<Vec<TaskRow>> {
    let t = Alias::new("t");
    let col = |name: &'static str| Expr::col((t.clone(), Alias::new(name)));
    let mut cond = Cond::all();
    let eq = |cond: Cond, column: Expr, v: &Option<String>| match v {
        Some(v) => cond.add(column.eq(v.clone())),
        None => cond,
    };
    cond = eq(cond, col("team"), &f.team);
    cond = eq(cond, col("assignee"), &f.assignee);
    cond = eq(cond, col("status"), &f.status);
    cond = eq(cond, col("kind"), &f.kind);
    if let Some(id) = f.customer_id {
        cond = cond.add(col("customer_id").eq(id));
    }
    if let Some(d) = f.due_before {
        cond = cond.add(col("due_date").lt(d));
    }
    match f.after {
        Some(TaskCursor {
            due_date: Some(d),
            id,
        }) => {
            cond = cond.add(
                Cond::any()
                    .add(col("due_date").gt(d))
                    .add(col("due_date").eq(d).and(col("id").gt(id)))
                    .add(col("due_date").is_null()),
            );
        }
        Some(TaskCursor { due_date: None, id }) => {
            cond = cond.add(col("due_date").is_null()).add(col("id").gt(id));
        }
        None => {}
    }
    let mut q = Query::select();
    q.expr(Expr::cust(TASK_COLUMNS))
        .from_as("tasks", t.clone())
        .join_as(
            sea_query::JoinType::LeftJoin,
            Alias::new("customers"),
            Alias::new("c"),
            Expr::col((Alias::new("c"), Alias::new("id")))
                .equals((t.clone(), Alias::new("customer_id"))),
        )
        .cond_where(cond)
        .order_by_expr(
            Expr::cust("CASE WHEN t.due_date IS NULL THEN 1 ELSE 0 END"),
            Order::Asc,
        )
        .order_by((t.clone(), Alias::new("due_date")), Order::Asc)
        .order_by((t.clone(), Alias::new("id")), Order::Asc)
        .limit(f.limit);
    crate::select::all(db, &q).await
}

/// The fields a change may set (the full new state of each).
#[derive(Debug, Clone)]
pub struct TaskChange<'a> {
    pub title: &'a str,
    pub description: Option<&'a str>,
    pub team: Option<&'a str>,
    pub assignee: Option<&'a str>,
    pub due_date: Option<NaiveDate>,
    pub status: &'a str,
}

/// Writes a changed task and returns its new version. Fails with [`StoreError::Stale`] if
/// `expected_version` no longer matches.
pub async fn update(
    db: &mut Db<'_>,
    id: i64,
    ch: &TaskChange<'_>,
    expected_version: i64,
    now: DateTime<Utc>,
) -> crate::Result<i64> {
    let changed = with_db!(db, c, _pg => {
        sqlx::query(
            "UPDATE tasks SET title = $1, description = $2, team = $3, assignee = $4, due_date = $5, status = $6, \
             version = version + 1, updated_at = $7 WHERE id = $8 AND version = $9")
            .bind(ch.title).bind(ch.description).bind(ch.team).bind(ch.assignee).bind(ch.due_date).bind(ch.status)
            .bind(now).bind(id).bind(expected_version)
            .execute(&mut *c).await?.rows_affected()
    });
    if changed != 1 {
        return Err(StoreError::Stale);
    }
    Ok(expected_version + 1)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CommentRow {
    pub id: i64,
    #[serde(skip)]
    pub task_id: i64,
    pub author: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// Adds a comment to a task and returns its id.
pub async fn add_comment(
    db: &mut Db<'_>,
    task_id: i64,
    customer_id: Option<i64>,
    author: &str,
    body: &str,
    now: DateTime<Utc>,
) -> crate::Result<i64> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_scalar(
            "INSERT INTO task_comments (task_id, customer_id, author, body, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(task_id).bind(customer_id).bind(author).bind(body).bind(now)
            .fetch_one(&mut *c).await?
    }))
}

/// The comments of a task in the order they were written, after the cursor id.
pub async fn comments(
    db: &mut Db<'_>,
    task_id: i64,
    after_id: Option<i64>,
    limit: i64,
) -> crate::Result<Vec<CommentRow>> {
    Ok(with_db!(db, c, _pg => {
        sqlx::query_as(
            "SELECT id, task_id, author, body, created_at FROM task_comments WHERE task_id = $1 AND id > $2 ORDER BY id LIMIT $3")
            .bind(task_id).bind(after_id.unwrap_or(0)).bind(limit)
            .fetch_all(&mut *c).await?
    }))
}
