//! Webhook delivery against a local receiver on both backends: signed, in order, retried after a
//! failure, at least once, with a delivery log.

use std::sync::{Arc, Mutex};

use chrono::{Duration, Utc};
use kundo_app::vouchers::VoucherTemplate;
use kundo_app::{Actor, App};
use kundo_store::testing;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Default)]
struct Received {
    requests: Vec<(String, String)>,
    fail_next: usize,
}

/// A receiver that answers 500 `fail_next` times, then 204, and keeps what it got.
async fn receiver(state: Arc<Mutex<Received>>) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let state = state.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let n = s.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let len: usize = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if body.len() >= len {
                            let status = {
                                let mut st = state.lock().unwrap();
                                if st.fail_next > 0 {
                                    st.fail_next -= 1;
                                    "500 Internal Server Error"
                                } else {
                                    st.requests.push((head.to_string(), body.to_string()));
                                    "204 No Content"
                                }
                            };
                            let _ = s
                                .write_all(
                                    format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n")
                                        .as_bytes(),
                                )
                                .await;
                            break;
                        }
                    }
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn events_are_delivered_signed_in_order_and_retried_after_failure() {
    for (store, _d) in testing::all().await {
        let db = store.backend().name();
        let app = App::new(store);
        let state = Arc::new(Mutex::new(Received {
            fail_next: 1,
            ..Default::default()
        }));
        let addr = receiver(state.clone()).await;
        let (hook, secret) = app
            .create_webhook(
                &Actor::cli(),
                &format!("http://{addr}/kundo"),
                &["voucher.issued".into(), "voucher.cancelled".into()],
            )
            .await
            .unwrap();
        let now = Utc::now();
        let t = VoucherTemplate {
            kind: "goodwill".into(),
            value_type: "amount".into(),
            value: 500,
            currency: "CHF".into(),
            min_order: 0,
            channels: "both".into(),
            valid_from: now,
            valid_until: now + Duration::days(5),
        };
        let v1 = app
            .issue_voucher(&Actor::cli(), t.clone(), None)
            .await
            .unwrap();
        let v2 = app.issue_voucher(&Actor::cli(), t, None).await.unwrap();
        app.cancel_voucher(&Actor::cli(), &v1.code).await.unwrap();
        // First round: the receiver fails once; nothing is lost, the subscription backs off.
        assert_eq!(app.dispatch_webhooks().await.unwrap(), 0, "{db}");
        assert!(state.lock().unwrap().requests.is_empty(), "{db}");
        let log = app.webhook_deliveries(hook).await.unwrap();
        assert_eq!(
            (log.len(), log[0].delivered, log[0].status_code),
            (1, false, Some(500)),
            "{db}"
        );
        // After the backoff the same events come, in order.
        tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
        assert_eq!(app.dispatch_webhooks().await.unwrap(), 3, "{db}");
        assert_eq!(
            app.dispatch_webhooks().await.unwrap(),
            0,
            "{db}: nothing twice once delivered"
        );
        let got = state.lock().unwrap().requests.clone();
        let bodies: Vec<serde_json::Value> = got
            .iter()
            .map(|(_, b)| serde_json::from_str(b).unwrap())
            .collect();
        let kinds: Vec<(&str, &str)> = bodies
            .iter()
            .map(|b| {
                (
                    b["type"].as_str().unwrap(),
                    b["data"]["code"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("voucher.issued", v1.code.as_str()),
                ("voucher.issued", v2.code.as_str()),
                ("voucher.cancelled", v1.code.as_str())
            ],
            "{db}"
        );
        for (head, body) in &got {
            let sig = head
                .lines()
                .find_map(|l| l.strip_prefix("Kundo-Signature: "))
                .unwrap();
            let t: i64 = sig
                .trim_start_matches("t=")
                .split(',')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(
                sig,
                kundo_app::webhooks::signature(&secret, t, body),
                "{db}: the receiver can verify the signature"
            );
            assert!(head.contains("Kundo-Event-Id: "), "{db}");
        }
        let log = app.webhook_deliveries(hook).await.unwrap();
        assert_eq!(log.iter().filter(|d| d.delivered).count(), 3, "{db}");
        app.delete_webhook(&Actor::cli(), hook).await.unwrap();
        assert!(
            app.create_webhook(&Actor::cli(), "https://tls.example/in", &["*".into()])
                .await
                .is_err(),
            "{db}"
        );
    }
}
