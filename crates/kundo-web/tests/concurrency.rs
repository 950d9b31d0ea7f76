//! Races over real HTTP on loopback, on both backends: many tills redeeming one voucher at the
//! same moment, and a till resending one receipt on many connections.

use std::net::SocketAddr;

use kundo_app::{Actor, App};
use kundo_store::testing;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn serve(app: App) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(kundo_web::serve(
        listener,
        kundo_web::router(app),
        async move {
            let _ = rx.await;
        },
    ));
    (addr, tx)
}

/// One request on its own connection; returns status and JSON body.
async fn post(addr: SocketAddr, path: &str, key: &str, body: &Value) -> (u16, Value) {
    let body = body.to_string();
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw);
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let json = text
        .split("\r\n\r\n")
        .nth(1)
        .and_then(|b| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    (status, json)
}

async fn setup(store: kundo_store::Store) -> (App, String) {
    let app = App::new(store);
    app.upsert_stores(
        &Actor::cli(),
        vec![kundo_store::loyalty::StoreRow {
            code: "ZH01".into(),
            name: "Zürich".into(),
            channel: "store".into(),
            street: None,
            postcode: None,
            city: None,
            country: None,
        }],
    )
    .await
    .unwrap();
    let key = app
        .create_api_key(
            &Actor::cli(),
            "tills",
            &[
                "receipts:write".into(),
                "vouchers:redeem".into(),
                "vouchers:write".into(),
                "customers:write".into(),
            ],
        )
        .await
        .unwrap()
        .key;
    (app, key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_concurrent_redemptions_give_one_200_and_sixty_three_409() {
    for (store, _dir) in testing::all().await {
        let db = store.backend().name();
        let (app, key) = setup(store).await;
        let (addr, stop) = serve(app).await;
        let now = chrono::Utc::now();
        let (status, voucher) = post(addr, "/api/v1/vouchers", &key, &json!({"kind": "campaign", "value_type": "amount", "value": 1000, "valid_from": (now - chrono::Duration::days(1)).to_rfc3339(), "valid_until": (now + chrono::Duration::days(30)).to_rfc3339()})).await;
        assert_eq!(status, 201, "{db}: {voucher}");
        let code = voucher["code"].as_str().unwrap().to_string();
        let mut tasks = Vec::new();
        for i in 0..64 {
            let key = key.clone();
            let code = code.clone();
            tasks.push(tokio::spawn(async move {
                let channel = if i % 3 == 0 { "online" } else { "store" };
                post(addr, &format!("/api/v1/vouchers/{code}/redeem"), &key, &json!({"channel": channel, "store_code": "ZH01", "receipt_ref": format!("r-{i}")})).await
            }));
        }
        let mut answers = Vec::new();
        for t in tasks {
            answers.push(t.await.unwrap());
        }
        let ok: Vec<_> = answers.iter().filter(|(s, _)| *s == 200).collect();
        let conflicts: Vec<_> = answers.iter().filter(|(s, _)| *s == 409).collect();
        assert_eq!(
            (ok.len(), conflicts.len()),
            (1, 63),
            "{db}: {:?}",
            answers.iter().map(|a| a.0).collect::<Vec<_>>()
        );
        assert_eq!(ok[0].1["status"], json!("redeemed"), "{db}");
        for (_, p) in conflicts {
            assert_eq!(p["type"], json!("/problems/already-redeemed"), "{db}");
            assert!(p["redeemed_at"].is_string(), "{db}: {p}");
        }
        let _ = stop.send(());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_concurrent_posts_of_one_receipt_book_it_once() {
    for (store, _dir) in testing::all().await {
        let db = store.backend().name();
        let (app, key) = setup(store).await;
        let (addr, stop) = serve(app.clone()).await;
        let (status, c) = post(
            addr,
            "/api/v1/customers",
            &key,
            &json!({"last_name": "Keller", "card_numbers": ["2900000000555"]}),
        )
        .await;
        assert_eq!(status, 201, "{db}: {c}");
        let receipt = json!({"source": "pos-zh01", "external_id": "2026-11-23-0042-117", "store_code": "ZH01", "channel": "store",
            "occurred_at": "2026-11-20T10:15:00Z", "currency": "CHF", "card_number": "2900000000555",
            "lines": [{"sku": "4001234", "category": "Papier", "quantity": 2, "amount": 1990}, {"sku": "4001235", "category": "Möbel", "quantity": 1, "amount": 24900}]});
        let mut tasks = Vec::new();
        for _ in 0..32 {
            let key = key.clone();
            let receipt = receipt.clone();
            tasks.push(tokio::spawn(async move {
                post(addr, "/api/v1/receipts", &key, &receipt).await
            }));
        }
        let mut answers = Vec::new();
        for t in tasks {
            answers.push(t.await.unwrap());
        }
        assert_eq!(
            answers.iter().filter(|(s, _)| *s == 201).count(),
            1,
            "{db}: {:?}",
            answers.iter().map(|a| a.0).collect::<Vec<_>>()
        );
        assert_eq!(
            answers.iter().filter(|(s, _)| *s == 200).count(),
            31,
            "{db}"
        );
        assert!(
            answers.iter().all(|(_, b)| b == &answers[0].1),
            "{db}: every answer is the first one"
        );
        assert_eq!(
            answers[0].1["points_earned"],
            json!(268),
            "{db}: 19.90 + 249.00 → 268 points"
        );
        let number = c["customer_number"].as_str().unwrap();
        let p = app.points(number, None, 100).await.unwrap();
        assert_eq!(
            (p.balance, p.entries.len()),
            (268, 1),
            "{db}: one booking, one ledger entry"
        );
        let _ = stop.send(());
    }
}
