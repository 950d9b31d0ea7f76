//! Multi-row `INSERT`s: one statement carries many rows, which is what makes imports and demo
//! data fast on both backends. Table and column names come from the caller's constants, never
//! from input; values are always bound.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::AssertSqlSafe;

use crate::{Db, with_db};

/// A value to bind.
#[derive(Debug, Clone)]
pub enum Val {
    Int(i64),
    OptInt(Option<i64>),
    Text(String),
    OptText(Option<String>),
    Bool(bool),
    OptDate(Option<NaiveDate>),
    Time(DateTime<Utc>),
    OptTime(Option<DateTime<Utc>>),
    /// An `INTEGER[]` on PostgreSQL; SQLite, which has no arrays, gets the JSON text.
    Ints(Vec<i32>),
    /// A `TEXT[]` on PostgreSQL; SQLite gets the JSON text.
    Texts(Vec<String>),
}

impl From<i64> for Val {
    fn from(v: i64) -> Self {
        Val::Int(v)
    }
}
impl From<String> for Val {
    fn from(v: String) -> Self {
        Val::Text(v)
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Self {
        Val::Text(v.to_string())
    }
}
impl From<Option<String>> for Val {
    fn from(v: Option<String>) -> Self {
        Val::OptText(v)
    }
}
impl From<bool> for Val {
    fn from(v: bool) -> Self {
        Val::Bool(v)
    }
}
impl From<DateTime<Utc>> for Val {
    fn from(v: DateTime<Utc>) -> Self {
        Val::Time(v)
    }
}

/// Binds a [`Val`] to a statement of either backend.
pub(crate) trait BindVal: Sized {
    fn bind_val(self, v: Val) -> Self;
}

/// The same match for every statement type; only the form of a list differs: an array on
/// PostgreSQL, JSON text on SQLite.
macro_rules! bind_val {
    ($(@$g:ident)? $ty:ty, $ints:expr, $texts:expr) => {
        impl$(<$g>)? BindVal for $ty {
            fn bind_val(self, v: Val) -> Self {
                match v {
                    Val::Int(x) => self.bind(x),
                    Val::OptInt(x) => self.bind(x),
                    Val::Text(x) => self.bind(x),
                    Val::OptText(x) => self.bind(x),
                    Val::Bool(x) => self.bind(x),
                    Val::OptDate(x) => self.bind(x),
                    Val::Time(x) => self.bind(x),
                    Val::OptTime(x) => self.bind(x),
                    Val::Ints(x) => self.bind($ints(x)),
                    Val::Texts(x) => self.bind($texts(x)),
                }
            }
        }
    };
}

fn json_list<T: Into<serde_json::Value>>(v: Vec<T>) -> String {
    serde_json::Value::from(v).to_string()
}

type PgQuery<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;
type SqliteQuery<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>;
type PgQueryAs<'q, O> = sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>;
type SqliteQueryAs<'q, O> =
    sqlx::query::QueryAs<'q, sqlx::Sqlite, O, sqlx::sqlite::SqliteArguments>;

bind_val!(PgQuery<'_>, std::convert::identity, std::convert::identity);
bind_val!(SqliteQuery<'_>, json_list, json_list);

bind_val!(@O PgQueryAs<'_, O>, std::convert::identity, std::convert::identity);
bind_val!(@O SqliteQueryAs<'_, O>, json_list, json_list);

/// Both backends accept at least this many bound parameters per statement (SQLite 32766,
/// PostgreSQL 65535).
const MAX_PARAMS: usize = 30_000;

/// SQLite gets positional `?` placeholders: with numbered ones it looks each name up by a linear
/// scan, which makes a statement with thousands of parameters quadratic (measured: 600 rows/s).
fn values_sql(table: &str, columns: &[&str], rows: usize, numbered: bool) -> String {
    let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
    let mut n = 1;
    for r in 0..rows {
        if r > 0 {
            sql.push(',');
        }
        sql.push('(');
        for c in 0..columns.len() {
            if c > 0 {
                sql.push(',');
            }
            if numbered {
                sql.push('$');
                sql.push_str(&n.to_string());
            } else {
                sql.push('?');
            }
            n += 1;
        }
        sql.push(')');
    }
    sql
}

/// Inserts `rows` (each with one value per column) in as few statements as the parameter limit
/// allows.
pub async fn insert_rows(
    db: &mut Db<'_>,
    table: &'static str,
    columns: &[&'static str],
    rows: Vec<Vec<Val>>,
) -> crate::Result<()> {
    upsert_rows(db, table, columns, rows, "").await
}

/// Like [`insert_rows`], with a conflict clause (a constant of the caller) appended to each
/// statement.
pub async fn upsert_rows(
    db: &mut Db<'_>,
    table: &'static str,
    columns: &[&'static str],
    rows: Vec<Vec<Val>>,
    on_conflict: &str,
) -> crate::Result<()> {
    if rows.is_empty() || columns.is_empty() {
        return Ok(());
    }
    let per_statement = (MAX_PARAMS / columns.len()).max(1);
    let mut iter = rows.into_iter().peekable();
    while iter.peek().is_some() {
        let chunk: Vec<Vec<Val>> = iter.by_ref().take(per_statement).collect();
        with_db!(db, c, pg => {
            let sql = values_sql(table, columns, chunk.len(), pg) + on_conflict;
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for v in chunk.into_iter().flatten() {
                q = q.bind_val(v);
            }
            q.execute(&mut *c).await?;
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_are_numbered_across_rows() {
        assert_eq!(
            super::values_sql("t", &["a", "b"], 2, true),
            "INSERT INTO t (a, b) VALUES ($1,$2),($3,$4)"
        );
        assert_eq!(
            super::values_sql("t", &["a", "b"], 2, false),
            "INSERT INTO t (a, b) VALUES (?,?),(?,?)"
        );
    }
}
