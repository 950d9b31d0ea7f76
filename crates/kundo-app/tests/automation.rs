//! The marketing automation adapter against a local fake server that records every request
//! (method, path, headers, body) and answers 200, or 503 once, or 400.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use kundo_app::automation::{Retry, SyncTarget, sync};
use kundo_store::campaigns::EmailRow;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Recorded {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Serves until dropped; `answer(n)` gives the status of the n-th request (0-based).
async fn fake_server(
    answer: impl Fn(usize) -> u16 + Send + Sync + 'static,
) -> (String, Arc<Mutex<Vec<Recorded>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log: Arc<Mutex<Vec<Recorded>>> = Arc::default();
    let seen = log.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 8192];
            let (head_end, length) = loop {
                let n = s.read(&mut chunk).await.unwrap();
                assert!(n > 0, "the client closed before sending a request");
                buf.extend_from_slice(&chunk[..n]);
                if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..p]).to_string();
                    let length = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0);
                    break (p + 4, length);
                }
            };
            while buf.len() < head_end + length {
                let n = s.read(&mut chunk).await.unwrap();
                buf.extend_from_slice(&chunk[..n]);
            }
            let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
            let mut lines = head.lines();
            let mut first = lines.next().unwrap().split_whitespace();
            let method = first.next().unwrap().to_string();
            let path = first.next().unwrap().to_string();
            let headers = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .collect();
            let body = serde_json::from_slice(&buf[head_end..head_end + length]).unwrap();
            let n = {
                let mut log = seen.lock().unwrap();
                log.push(Recorded {
                    method,
                    path,
                    headers,
                    body,
                });
                log.len() - 1
            };
            let status = answer(n);
            let reply = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
            );
            let _ = s.write_all(reply.as_bytes()).await;
            let _ = s.shutdown().await;
        }
    });
    (format!("http://{addr}/api/v3"), log)
}

fn rows(n: usize) -> Vec<EmailRow> {
    (0..n)
        .map(|i| EmailRow {
            customer_number: format!("{}", 100_000 + i),
            salutation: Some("Frau".into()),
            first_name: Some("Anna".into()),
            last_name: Some(format!("Müller {i}")),
            email: Some(format!("anna{i}@example.ch")),
            language: Some("de".into()),
            code: "7KQ2M9XH4C8R4".into(),
            valid_until: Utc.with_ymd_and_hms(2026, 4, 29, 0, 0, 0).unwrap(),
        })
        .collect()
}

fn quick() -> Retry {
    Retry {
        attempts: 3,
        first_pause: Duration::from_millis(10),
    }
}

#[tokio::test]
async fn syncs_in_batches_of_500_and_retries_a_503() {
    let (base, log) = fake_server(|n| if n == 1 { 503 } else { 200 }).await;
    let target = SyncTarget {
        base_url: base,
        list: "spring-2026".into(),
        api_key: "s3cret".into(),
    };
    let report = sync(&target, &rows(1100), quick()).await.unwrap();
    assert_eq!(report.members, 1100);
    assert_eq!(report.batches, 3);
    assert_eq!(report.synced, 1100);
    assert_eq!(report.failed, 0);
    assert_eq!(report.requests, 4);
    let log = log.lock().unwrap().clone();
    assert_eq!(log.len(), 4);
    for r in &log {
        assert_eq!(r.method, "PUT");
        assert_eq!(r.path, "/api/v3/lists/spring-2026/members");
        assert_eq!(r.header("authorization"), Some("Bearer s3cret"));
        assert_eq!(r.header("content-type"), Some("application/json"));
    }
    let sizes: Vec<usize> = log
        .iter()
        .map(|r| r.body["members"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [500, 500, 500, 100]);
    // The retry sends the same batch again.
    assert_eq!(log[1].body, log[2].body);
    let first = &log[0].body["members"][0];
    assert_eq!(first["email"], "anna0@example.ch");
    assert_eq!(first["customer_number"], "100000");
    assert_eq!(first["first_name"], "Anna");
    assert_eq!(first["last_name"], "Müller 0");
    assert_eq!(first["language"], "de");
    assert_eq!(first["voucher_code"], "7KQ2-M9XH-4C8R-4");
    assert_eq!(first["valid_until"], "2026-04-28");
    assert_eq!(log[3].body["members"][99]["customer_number"], "101099");
}

#[tokio::test]
async fn a_refused_batch_is_reported_not_retried_and_a_dead_one_gives_up() {
    let (base, log) = fake_server(|n| if n == 0 { 400 } else { 200 }).await;
    let target = SyncTarget {
        base_url: base,
        list: "l".into(),
        api_key: "k".into(),
    };
    let report = sync(&target, &rows(600), quick()).await.unwrap();
    assert_eq!(
        (report.synced, report.failed, report.requests),
        (100, 500, 2)
    );
    assert_eq!(report.errors, ["batch 1: answered 400"]);
    assert_eq!(log.lock().unwrap().len(), 2);

    let (base, log) = fake_server(|_| 502).await;
    let target = SyncTarget {
        base_url: base,
        list: "l".into(),
        api_key: "k".into(),
    };
    let report = sync(&target, &rows(10), quick()).await.unwrap();
    assert_eq!((report.synced, report.failed, report.requests), (0, 10, 3));
    assert_eq!(log.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn bad_targets_are_named() {
    let target = SyncTarget {
        base_url: "https://tls.example".into(),
        list: "a/b".into(),
        api_key: " ".into(),
    };
    match sync(&target, &rows(1), quick()).await {
        Err(kundo_app::AppError::Invalid(errs)) => {
            let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(fields, ["base_url", "list", "api_key"]);
        }
        other => panic!("{other:?}"),
    }
}
