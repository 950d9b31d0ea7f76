//! Running a SELECT built with sea-query on either backend.
//!
//! Such statements run unprepared (ADR 10). Their text changes with the length of their `IN`
//! lists and with the filters a caller chose, so caching them would only churn the statement
//! cache; and on PostgreSQL a cached statement gets a generic plan that is kept as long as the
//! connection lives: made while a table was nearly empty, it stays a sequential scan however
//! large the table grows. Unprepared, every run is planned for the table as it is.

use sea_query::{PostgresQueryBuilder, SelectStatement, SqliteQueryBuilder};
use sea_query_sqlx::SqlxBinder;
use sqlx::AssertSqlSafe;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;

use crate::{Db, with_db};

/// All rows of `q` (a SELECT, or one with a WITH clause).
pub(crate) async fn all<T>(db: &mut Db<'_>, q: &impl SqlxBinder) -> crate::Result<Vec<T>>
where
    T: Send + Unpin + for<'r> sqlx::FromRow<'r, PgRow> + for<'r> sqlx::FromRow<'r, SqliteRow>,
{
    Ok(with_db!(db, c, pg => {
        let (sql, values) = if pg { q.build_sqlx(PostgresQueryBuilder) } else { q.build_sqlx(SqliteQueryBuilder) };
        sqlx::query_as_with(AssertSqlSafe(sql), values).persistent(false).fetch_all(&mut *c).await?
    }))
}

/// The first column of every row of `q`.
pub(crate) async fn column<T>(db: &mut Db<'_>, q: &SelectStatement) -> crate::Result<Vec<T>>
where
    T: Send + Unpin,
    (T,): for<'r> sqlx::FromRow<'r, PgRow> + for<'r> sqlx::FromRow<'r, SqliteRow>,
{
    Ok(all::<(T,)>(db, q)
        .await?
        .into_iter()
        .map(|(v,)| v)
        .collect())
}
