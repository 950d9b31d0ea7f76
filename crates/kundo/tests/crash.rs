//! A bonus run killed with SIGKILL half-way and started again: every eligible customer ends up
//! with exactly one voucher and every account balances — on SQLite and PostgreSQL.

use std::process::Command;
use std::time::{Duration, Instant};

use kundo_store::{PoolSize, Store, testing};

const BIN: &str = env!("CARGO_BIN_EXE_kundo");

fn kundo(db: &[String], args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(db)
        .args(args)
        .env("KUNDO_LOG", "error")
        .output()
        .expect("run kundo")
}

async fn scalar(store: &Store, sql: &'static str) -> i64 {
    match store {
        Store::Sqlite(p, _) => sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(p)
            .await
            .unwrap(),
        Store::Postgres(p) => sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(p)
            .await
            .unwrap(),
    }
}

async fn crash_and_resume(db: Vec<String>, url: String) {
    // The current month: a bonus run is for the month whose balances it reads.
    let period = chrono::Utc::now().format("%Y-%m").to_string();
    let out = kundo(&db, &["demo", "--customers", "12000", "--seed", "9"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = Store::connect(&url, PoolSize { max_connections: 2 })
        .await
        .unwrap();
    let eligible = scalar(
        &store,
        "SELECT COUNT(*) FROM points_accounts WHERE balance >= 500",
    )
    .await;
    assert!(
        eligible > 4_000,
        "enough eligible customers for several steps: {eligible}"
    );

    let mut child = Command::new(BIN)
        .args(&db)
        .args(["run", "bonus", "--period", &period])
        .env("KUNDO_LOG", "error")
        .spawn()
        .unwrap();
    // Kill as soon as the first step has committed, and before the last.
    let start = Instant::now();
    loop {
        let issued = scalar(&store, "SELECT COALESCE(MAX(vouchers_issued), 0) FROM runs").await;
        if issued > 0 || start.elapsed() > Duration::from_secs(60) {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let issued_before = scalar(&store, "SELECT COALESCE(MAX(vouchers_issued), 0) FROM runs").await;
    let state_running = scalar(&store, "SELECT COUNT(*) FROM runs WHERE state = 'running'").await;
    assert_eq!(state_running, 1, "the run was killed half-way");
    assert!(
        issued_before > 0 && issued_before < eligible,
        "{issued_before} of {eligible}"
    );

    let out = kundo(&db, &["run", "bonus", "--period", &period]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        scalar(&store, "SELECT COUNT(*) FROM vouchers WHERE kind = 'bonus'").await,
        eligible,
        "one voucher per eligible customer"
    );
    assert_eq!(
        scalar(
            &store,
            "SELECT COUNT(DISTINCT customer_id) FROM vouchers WHERE kind = 'bonus'"
        )
        .await,
        eligible
    );
    assert_eq!(
        scalar(
            &store,
            "SELECT COUNT(*) FROM points_accounts WHERE balance >= 500"
        )
        .await,
        0
    );
    assert_eq!(
        scalar(&store, "SELECT COUNT(*) FROM runs WHERE state = 'done'").await,
        1
    );
    let unbalanced = scalar(
        &store,
        "SELECT COUNT(*) FROM points_accounts a LEFT JOIN (SELECT customer_id, CAST(SUM(points) AS BIGINT) AS total FROM points_ledger GROUP BY customer_id) l \
         ON l.customer_id = a.customer_id WHERE a.balance <> COALESCE(l.total, 0)",
    )
    .await;
    assert_eq!(unbalanced, 0, "every balance equals its ledger");
    // And a third start issues nothing.
    assert!(
        kundo(&db, &["run", "bonus", "--period", &period])
            .status
            .success()
    );
    assert_eq!(
        scalar(&store, "SELECT COUNT(*) FROM vouchers WHERE kind = 'bonus'").await,
        eligible
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bonus_run_killed_half_way_finishes_exactly_the_rest() {
    let dir = testing::TempDir::new();
    let url = format!("sqlite://{}", dir.0.join("kundo.db").display());
    crash_and_resume(vec!["--data-dir".into(), dir.0.display().to_string()], url).await;
    if let Some(url) = testing::postgres_url().await {
        crash_and_resume(vec!["--database-url".into(), url.clone()], url).await;
    }
}
