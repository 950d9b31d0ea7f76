//! Connecting, migrating, and the handles (`Tx`, `Db`) that queries run on.

use std::borrow::Cow;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{
    PgConnection, PgPool, Postgres, SqlSafeStr, Sqlite, SqliteConnection, SqlitePool, Transaction,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot open the database: {0}")]
    Open(String),
    /// The row changed since the caller read it (optimistic locking).
    #[error("the record was changed by someone else")]
    Stale,
    #[error("{0}")]
    Corrupt(String),
}

impl StoreError {
    /// Which unique constraint a write ran into, if any (constraint or index name, or SQLite's
    /// "table.column" text), so the caller can name the field.
    pub fn unique_violation(&self) -> Option<String> {
        match self {
            StoreError::Db(sqlx::Error::Database(e)) if e.is_unique_violation() => Some(
                e.constraint()
                    .map(str::to_string)
                    .unwrap_or_else(|| e.message().to_string()),
            ),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The connection pool of the backend in use.
#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(SqlitePool, WriteGate),
    Postgres(PgPool),
}

/// SQLite has one writer at a time. Writers queue here, in the process, instead of in SQLite's
/// busy handler, which sleeps in growing steps and turned 32 concurrent writers into p99 latencies
/// of hundreds of milliseconds.
pub type WriteGate = std::sync::Arc<tokio::sync::Mutex<()>>;

/// A write transaction. On SQLite it starts with `BEGIN IMMEDIATE`: a deferred transaction that
/// later upgrades to a write fails with SQLITE_BUSY at once under contention, whatever the timeout.
pub enum Tx {
    Sqlite(
        Transaction<'static, Sqlite>,
        Option<tokio::sync::OwnedMutexGuard<()>>,
    ),
    Postgres(Transaction<'static, Postgres>),
}

/// A pooled connection for reads outside a transaction (the hot lookup paths).
pub enum Conn {
    Sqlite(sqlx::pool::PoolConnection<Sqlite>),
    Postgres(sqlx::pool::PoolConnection<Postgres>),
}

impl Conn {
    pub fn db(&mut self) -> Db<'_> {
        match self {
            Conn::Sqlite(c) => Db::Sqlite(c),
            Conn::Postgres(c) => Db::Postgres(c),
        }
    }
}

/// A borrowed connection (from a transaction or the pool) that store functions run on.
pub enum Db<'a> {
    Sqlite(&'a mut SqliteConnection),
    Postgres(&'a mut PgConnection),
}

impl Db<'_> {
    /// For the few statements that differ between the backends.
    pub fn is_postgres(&self) -> bool {
        matches!(self, Db::Postgres(_))
    }
}

/// Runs `$body` with `$c` bound to the backend's connection and `$pg` telling which one it is.
/// The body is compiled once per backend.
#[macro_export]
macro_rules! with_db {
    ($db:expr, $c:ident, $pg:ident => $body:expr) => {
        match $db {
            $crate::Db::Sqlite(conn) => {
                #[allow(unused_variables)]
                let $pg = false;
                let $c: &mut sqlx::SqliteConnection = &mut **conn;
                $body
            }
            $crate::Db::Postgres(conn) => {
                #[allow(unused_variables)]
                let $pg = true;
                let $c: &mut sqlx::PgConnection = &mut **conn;
                $body
            }
        }
    };
}

/// Picks the statement for the backend: most are shared, a few differ.
pub(crate) fn dialect(pg: bool, sqlite_sql: &'static str, pg_sql: &'static str) -> &'static str {
    if pg { pg_sql } else { sqlite_sql }
}

const SQLITE_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "customer master",
        include_str!("../migrations/sqlite/0001_customer_master.sql"),
    ),
    (
        2,
        "loyalty",
        include_str!("../migrations/sqlite/0002_loyalty.sql"),
    ),
    (
        3,
        "data quality",
        include_str!("../migrations/sqlite/0003_data_quality.sql"),
    ),
    (
        4,
        "segments",
        include_str!("../migrations/sqlite/0004_segments.sql"),
    ),
    (
        5,
        "scores",
        include_str!("../migrations/sqlite/0005_scores.sql"),
    ),
    (
        6,
        "campaigns",
        include_str!("../migrations/sqlite/0006_campaigns.sql"),
    ),
    (
        7,
        "rolling figures",
        include_str!("../migrations/sqlite/0007_rolling_figures.sql"),
    ),
    (
        8,
        "category figures",
        include_str!("../migrations/sqlite/0008_category_figures.sql"),
    ),
    (
        9,
        "category totals",
        include_str!("../migrations/sqlite/0009_category_totals.sql"),
    ),
    (
        10,
        "figure tables by customer",
        include_str!("../migrations/sqlite/0010_figure_tables_by_customer.sql"),
    ),
    (
        11,
        "segment fields on figures",
        include_str!("../migrations/sqlite/0011_segment_fields_on_figures.sql"),
    ),
    (
        12,
        "category months on totals",
        include_str!("../migrations/sqlite/0012_category_months_on_totals.sql"),
    ),
    (
        13,
        "stores on figures",
        include_str!("../migrations/sqlite/0013_stores_on_figures.sql"),
    ),
    (
        14,
        "run errors",
        include_str!("../migrations/sqlite/0014_run_errors.sql"),
    ),
];
const POSTGRES_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "customer master",
        include_str!("../migrations/postgres/0001_customer_master.sql"),
    ),
    (
        2,
        "loyalty",
        include_str!("../migrations/postgres/0002_loyalty.sql"),
    ),
    (
        3,
        "data quality",
        include_str!("../migrations/postgres/0003_data_quality.sql"),
    ),
    (
        4,
        "segments",
        include_str!("../migrations/postgres/0004_segments.sql"),
    ),
    (
        5,
        "scores",
        include_str!("../migrations/postgres/0005_scores.sql"),
    ),
    (
        6,
        "campaigns",
        include_str!("../migrations/postgres/0006_campaigns.sql"),
    ),
    (
        7,
        "rolling figures",
        include_str!("../migrations/postgres/0007_rolling_figures.sql"),
    ),
    (
        8,
        "category figures",
        include_str!("../migrations/postgres/0008_category_figures.sql"),
    ),
    (
        9,
        "category totals",
        include_str!("../migrations/postgres/0009_category_totals.sql"),
    ),
    (
        10,
        "figure tables by customer",
        include_str!("../migrations/postgres/0010_figure_tables_by_customer.sql"),
    ),
    (
        11,
        "segment fields on figures",
        include_str!("../migrations/postgres/0011_segment_fields_on_figures.sql"),
    ),
    (
        12,
        "category months on totals",
        include_str!("../migrations/postgres/0012_category_months_on_totals.sql"),
    ),
    (
        13,
        "stores on figures",
        include_str!("../migrations/postgres/0013_stores_on_figures.sql"),
    ),
    (
        14,
        "run errors",
        include_str!("../migrations/postgres/0014_run_errors.sql"),
    ),
];

fn migrator(list: &'static [(i64, &'static str, &'static str)]) -> Migrator {
    Migrator::with_migrations(
        list.iter()
            .map(|(v, d, sql)| {
                Migration::new(
                    *v,
                    Cow::Borrowed(*d),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

/// Bytes of memory that all SQLite connections of the process together should stay under
/// (page caches, statements, sorts); see ADR 15.
const SQLITE_SOFT_HEAP_LIMIT: i64 = 160 * 1024 * 1024;

/// Pool sizes. SQLite serializes writers anyway; readers run in parallel in WAL mode.
#[derive(Debug, Clone, Copy)]
pub struct PoolSize {
    pub max_connections: u32,
}

impl Default for PoolSize {
    fn default() -> Self {
        Self {
            max_connections: 16,
        }
    }
}

impl Store {
    /// Opens `sqlite://…` or `postgres://…`.
    pub async fn connect(url: &str, size: PoolSize) -> crate::Result<Store> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts =
                PgConnectOptions::from_str(url).map_err(|e| StoreError::Open(e.to_string()))?;
            let pool = PgPoolOptions::new()
                .max_connections(size.max_connections)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await
                .map_err(|e| StoreError::Open(format!("{}: {e}", redact(url))))?;
            Ok(Store::Postgres(pool))
        } else if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(|e| StoreError::Open(e.to_string()))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(30))
                // No `mmap_size`: with several pooled connections reading the same large tables,
                // memory-mapped reads made other connections' queries up to 7× slower (ADR 11).
                // Temporary B-trees stay in SQLite's default place, a file that spills once
                // past the cache: in memory, the scores run's GROUP BY over every receipt grew
                // the process by 600 MB (ADR 13).
                .pragma("cache_size", "-32000")
                // Process-wide, not per connection: past it, each connection's cache recycles
                // its own pages instead of growing, so sixteen busy connections cannot hold
                // 16 × 32 MB between them (ADR 15).
                .pragma("soft_heap_limit", SQLITE_SOFT_HEAP_LIMIT.to_string());
            let pool = SqlitePoolOptions::new()
                .max_connections(size.max_connections)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(opts)
                .await
                .map_err(|e| StoreError::Open(format!("{url}: {e}")))?;
            Ok(Store::Sqlite(pool, WriteGate::default()))
        } else {
            Err(StoreError::Open(format!(
                "unsupported database URL '{}': use sqlite://PATH or postgres://…",
                redact(url)
            )))
        }
    }

    /// The embedded default: `DIR/kundo.db`, creating the directory.
    pub async fn open_data_dir(dir: &Path, size: PoolSize) -> crate::Result<Store> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Open(format!(
                "cannot create data directory {}: {e}",
                dir.display()
            ))
        })?;
        let probe = dir.join(".write-test");
        std::fs::write(&probe, b"").map_err(|e| {
            StoreError::Open(format!(
                "data directory {} is not writable: {e}",
                dir.display()
            ))
        })?;
        let _ = std::fs::remove_file(probe);
        Store::connect(
            &format!("sqlite://{}", dir.join("kundo.db").display()),
            size,
        )
        .await
    }

    pub fn backend(&self) -> Backend {
        match self {
            Store::Sqlite(..) => Backend::Sqlite,
            Store::Postgres(_) => Backend::Postgres,
        }
    }

    pub async fn migrate(&self) -> crate::Result<()> {
        match self {
            Store::Sqlite(p, _) => migrator(SQLITE_MIGRATIONS).run(p).await?,
            Store::Postgres(p) => migrator(POSTGRES_MIGRATIONS).run(p).await?,
        }
        Ok(())
    }

    /// Starts a write transaction (see [`Tx`]).
    pub async fn begin_write(&self) -> crate::Result<Tx> {
        Ok(match self {
            Store::Sqlite(p, gate) => {
                let guard = gate.clone().lock_owned().await;
                Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?, Some(guard))
            }
            Store::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// A pooled connection for single reads.
    pub async fn acquire(&self) -> crate::Result<Conn> {
        Ok(match self {
            Store::Sqlite(p, _) => Conn::Sqlite(p.acquire().await?),
            Store::Postgres(p) => Conn::Postgres(p.acquire().await?),
        })
    }

    /// Up to `n` more connections, for work that can use extra connections but must not queue
    /// behind other requests for them (nor hold one while waiting for the next, which could
    /// deadlock a full pool): an idle connection is taken at once, a new one is opened (waited
    /// for at most 50 ms) while the pool has room, and the search ends at the first that is
    /// neither.
    pub async fn acquire_ready(&self, n: usize) -> Vec<Conn> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            match self.ready_connection().await {
                Some(conn) => out.push(conn),
                None => break,
            }
        }
        out
    }

    async fn ready_connection(&self) -> Option<Conn> {
        match self {
            Store::Sqlite(p, _) => ready_from(p).await.map(Conn::Sqlite),
            Store::Postgres(p) => ready_from(p).await.map(Conn::Postgres),
        }
    }

    /// Starts a read-only snapshot (a deferred transaction on SQLite).
    pub async fn begin_read(&self) -> crate::Result<Tx> {
        Ok(match self {
            Store::Sqlite(p, _) => Tx::Sqlite(p.begin().await?, None),
            Store::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    pub async fn close(&self) {
        match self {
            Store::Sqlite(p, _) => p.close().await,
            Store::Postgres(p) => p.close().await,
        }
    }

    /// Refreshes the planner's statistics after bulk loads (SQLite has none until ANALYZE runs;
    /// PostgreSQL's autovacuum keeps its own, an explicit ANALYZE only hurries it). PostgreSQL
    /// also vacuums, as autovacuum would after the inserts: it marks the new pages all-visible,
    /// without which an index-only scan of the per-customer figures still reads every row from
    /// the table (seed 3 at 1M customers: 356 → 274 ms, BENCHMARKS.md).
    pub async fn optimize(&self) -> crate::Result<()> {
        match self {
            Store::Sqlite(p, _) => {
                sqlx::query("PRAGMA analysis_limit = 1000")
                    .execute(p)
                    .await?;
                sqlx::query("ANALYZE").execute(p).await?;
            }
            Store::Postgres(p) => {
                // The segment scans probe other tables per candidate in the order the figure
                // rows lie; in customer order the probes walk the indexes instead of jumping
                // (seed 3: 280 → 185 ms). A bulk load's updates scatter the rows; CLUSTER
                // rewrites them in key order, and the fillfactor keeps later updates on their
                // page (ADR 14).
                sqlx::query("CLUSTER customer_stats USING customer_stats_pkey")
                    .execute(p)
                    .await?;
                sqlx::query("VACUUM (ANALYZE)").execute(p).await?;
            }
        }
        Ok(())
    }

    /// Server settings that Kundo runs poorly without, as sentences for the operator (printed by
    /// `kundo serve` at start). PostgreSQL without autovacuum never refreshes its statistics, so
    /// a plan cached while a table was small is kept until the connection is replaced (ADR 10).
    pub async fn setting_warnings(&self) -> crate::Result<Vec<String>> {
        let mut out = Vec::new();
        if let Store::Postgres(p) = self {
            let autovacuum: String = sqlx::query_scalar("SELECT current_setting('autovacuum')")
                .fetch_one(p)
                .await?;
            if autovacuum != "on" {
                out.push(
                    "PostgreSQL runs with autovacuum off: table statistics go stale as customers \
                     and receipts grow; turn it on, or run ANALYZE after large loads"
                        .to_string(),
                );
            }
        }
        Ok(out)
    }

    /// Cheap round trip for health checks.
    pub async fn ping(&self) -> crate::Result<()> {
        match self {
            Store::Sqlite(p, _) => {
                sqlx::query("SELECT 1").execute(p).await?;
            }
            Store::Postgres(p) => {
                sqlx::query("SELECT 1").execute(p).await?;
            }
        }
        Ok(())
    }
}

impl Tx {
    pub fn db(&mut self) -> Db<'_> {
        match self {
            Tx::Sqlite(t, _) => Db::Sqlite(t),
            Tx::Postgres(t) => Db::Postgres(t),
        }
    }

    pub async fn commit(self) -> crate::Result<()> {
        match self {
            Tx::Sqlite(t, _guard) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}

/// Hides the password of a database URL before it reaches a log or an error message.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s + 3 => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..s + 3], &creds[..colon], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// An idle connection at once, or a new one (waited for at most 50 ms) while the pool has room.
async fn ready_from<DB: sqlx::Database>(
    pool: &sqlx::Pool<DB>,
) -> Option<sqlx::pool::PoolConnection<DB>> {
    const OPENING: Duration = Duration::from_millis(50);
    if let Some(conn) = pool.try_acquire() {
        return Some(conn);
    }
    if pool.size() >= pool.options().get_max_connections() {
        return None;
    }
    tokio::time::timeout(OPENING, pool.acquire())
        .await
        .ok()?
        .ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_do_not_leak_into_messages() {
        assert_eq!(
            super::redact("postgres://kundo:s3cret@db:5432/k"),
            "postgres://kundo:***@db:5432/k"
        );
        assert_eq!(super::redact("postgres://db/k"), "postgres://db/k");
    }

    /// The limit is process-wide in SQLite; every connection the pool opens must still carry
    /// it, so that whichever opens first sets it (ADR 15).
    #[tokio::test]
    async fn every_sqlite_connection_keeps_the_shared_memory_limit() {
        let (store, _dir) = crate::testing::sqlite().await;
        let crate::Store::Sqlite(pool, _) = &store else {
            panic!("testing::sqlite opens SQLite")
        };
        let mut held = Vec::new();
        for _ in 0..3 {
            let mut conn = pool.acquire().await.expect("connection");
            let (limit,): (i64,) = sqlx::query_as("PRAGMA soft_heap_limit")
                .fetch_one(&mut *conn)
                .await
                .expect("pragma");
            assert_eq!(limit, super::SQLITE_SOFT_HEAP_LIMIT);
            held.push(conn);
        }
    }
}
