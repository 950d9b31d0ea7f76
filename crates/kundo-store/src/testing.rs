//! Fresh databases for tests: a temporary SQLite file, and — when `KUNDO_TEST_POSTGRES_URL` is
//! set — a new PostgreSQL database per call. With `KUNDO_REQUIRE_POSTGRES=1` (CI) a missing or
//! unreachable PostgreSQL fails the test instead of being skipped.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::{PoolSize, Store};

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "kundo_test_{}_{}_{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A migrated SQLite database in a temporary directory (removed when the returned guard drops).
pub async fn sqlite() -> (Store, TempDir) {
    let dir = TempDir::new();
    let store = Store::open_data_dir(&dir.0, PoolSize { max_connections: 8 })
        .await
        .expect("open sqlite");
    store.migrate().await.expect("migrate sqlite");
    (store, dir)
}

/// A migrated, new PostgreSQL database, or `None` when none is configured.
pub async fn postgres() -> Option<Store> {
    let url = postgres_url().await?;
    let store = Store::connect(
        &url,
        PoolSize {
            max_connections: 40,
        },
    )
    .await
    .expect("connect test database");
    store.migrate().await.expect("migrate postgres");
    Some(store)
}

/// The URL of a new, empty PostgreSQL database, or `None` when none is configured.
pub async fn postgres_url() -> Option<String> {
    let Ok(base) = std::env::var("KUNDO_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("KUNDO_REQUIRE_POSTGRES").is_err(),
            "KUNDO_REQUIRE_POSTGRES is set but KUNDO_TEST_POSTGRES_URL is not"
        );
        return None;
    };
    let admin = Store::connect(&base, PoolSize { max_connections: 1 })
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {} unreachable: {e}", crate::redact(&base)));
    let name = unique_name();
    if let Store::Postgres(pool) = &admin {
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(pool)
            .await
            .expect("create test database");
    }
    admin.close().await;
    // Replace the database name at the end of the URL (keeping any query string).
    let (head, query) = base
        .split_once('?')
        .map_or((base.as_str(), ""), |(h, q)| (h, q));
    let scheme_end = head.find("://").map_or(0, |p| p + 3);
    let url = match head[scheme_end..].find('/') {
        Some(slash) => format!("{}/{name}", &head[..scheme_end + slash]),
        None => format!("{head}/{name}"),
    };
    Some(if query.is_empty() {
        url
    } else {
        format!("{url}?{query}")
    })
}

/// Every backend available to this test run: SQLite always, PostgreSQL when configured.
pub async fn all() -> Vec<(Store, Option<TempDir>)> {
    let (s, dir) = sqlite().await;
    let mut v = vec![(s, Some(dir))];
    if let Some(pg) = postgres().await {
        v.push((pg, None));
    }
    v
}

/// A directory removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let p = std::env::temp_dir().join(unique_name());
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }
}

impl Default for TempDir {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs statements of test set-up on either backend.
pub async fn exec(store: &Store, sql: &str) {
    let sql = sqlx::AssertSqlSafe(sql.to_string());
    match store {
        Store::Sqlite(p, _) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
        Store::Postgres(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
    }
    .unwrap_or_else(|e| panic!("test set-up failed: {e}"));
}

/// Makes the database refuse new rows of `table` for which the SQL condition `when` holds (on
/// `NEW`), with the error "injected failure", as a full disk or a broken constraint would: for
/// tests of what a use case does when the database fails half-way. [`allow_inserts`] undoes it.
pub async fn refuse_inserts(store: &Store, table: &str, when: &str) {
    match store {
        Store::Sqlite(..) => {
            exec(store, &format!(
                "CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} WHEN {when} BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
            ))
            .await
        }
        Store::Postgres(_) => {
            exec(store, "CREATE OR REPLACE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$").await;
            exec(store, &format!(
                "CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} FOR EACH ROW WHEN ({when}) EXECUTE FUNCTION refuse()"
            ))
            .await
        }
    }
}

/// Takes back [`refuse_inserts`] of `table`.
pub async fn allow_inserts(store: &Store, table: &str) {
    let drop = match store {
        Store::Sqlite(..) => format!("DROP TRIGGER refuse_{table}"),
        Store::Postgres(_) => format!("DROP TRIGGER refuse_{table} ON {table}"),
    };
    exec(store, &drop).await;
}
