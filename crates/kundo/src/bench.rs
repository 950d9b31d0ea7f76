//! `kundo bench …`: throughput and latency percentiles of the hot paths, each next to a baseline
//! measured in the same run (the bare SQL query behind an HTTP route).

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Subcommand;
use kundo_app::{Actor, App};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::config::{DbArgs, FileConfig};

#[derive(Subcommand)]
pub enum BenchWhat {
    /// Card lookup over HTTP (loopback, keep-alive) against the bare SQL query.
    Lookup {
        /// Make sure at least this many customers exist (demo data is added if needed).
        #[arg(long, default_value_t = 1_000_000)]
        customers: u64,
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Also run the HTTP clients paced to this many requests per second in all (0: skip),
        /// the load the tills of a large chain produce, to see latency below saturation.
        #[arg(long, default_value_t = 10_000)]
        rate: u64,
    },
    /// Search latency for name fragments, postcodes and phone numbers.
    Search {
        #[arg(long, default_value_t = 1_000_000)]
        customers: u64,
        #[arg(long, default_value_t = 2_000)]
        queries: usize,
    },
    /// Receipt ingest over HTTP: batched (arrays) and single POSTs, against a bare INSERT.
    Ingest {
        #[arg(long, default_value_t = 100_000)]
        customers: u64,
        /// Receipts in the batched run.
        #[arg(long, default_value_t = 200_000)]
        receipts: usize,
        #[arg(long, default_value_t = 1_000)]
        batch: usize,
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Voucher redemption over HTTP, distinct codes, 32 concurrent clients.
    Redeem {
        #[arg(long, default_value_t = 50_000)]
        vouchers: usize,
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
    },
    /// The monthly bonus run over all customers, each given enough points.
    BonusRun {
        #[arg(long, default_value_t = 1_000_000)]
        customers: u64,
    },
    /// The duplicate check at creation (latency against the bare key lookup), its quality on a
    /// labelled set, and optionally a scan over the whole base.
    Duplicates {
        #[arg(long, default_value_t = 1_000_000)]
        customers: u64,
        #[arg(long, default_value_t = 2_000)]
        checks: usize,
        /// Also scan the whole base for pairs.
        #[arg(long)]
        scan: bool,
    },
    /// Count and first page of the three seed segments (DOMAIN §5) against hand-written SQL;
    /// demo customers with two years of purchases are added up to --customers.
    Segments {
        #[arg(long, default_value_t = 1_000_000)]
        customers: u64,
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Connections a preview may use (default: as the server decides, ADR 12); 1 runs each
        /// preview as one statement.
        #[arg(long)]
        parts: Option<usize>,
    },
    /// A campaign start over a segment of all customers (at least N, demo data is added if
    /// needed): snapshot, control draw, channels, voucher issuance, contacts and the files.
    Campaign {
        #[arg(long, default_value_t = 200_000)]
        members: u64,
        /// Control group share in basis points.
        #[arg(long, default_value_t = 1000)]
        control: i64,
    },
    /// CSV import rate: generates N customers as CSV, then imports them.
    Import {
        #[arg(long, default_value_t = 1_000_000)]
        customers: u64,
    },
    /// The scores job (RFM in SQL, BG/NBD + Gamma-Gamma, predictions) on the current
    /// database, next to its two bare read queries.
    Scores {
        /// As-of date, YYYY-MM-DD (default: today, UTC).
        #[arg(long)]
        date: Option<String>,
    },
}

/// Latency summary of one run.
pub struct Summary {
    pub requests: usize,
    pub per_second: f64,
    pub p50: Duration,
    pub p90: Duration,
    pub p99: Duration,
    pub p999: Duration,
}

pub fn summarize(mut lat: Vec<Duration>, elapsed: Duration) -> Summary {
    lat.sort_unstable();
    let pick = |q: f64| {
        lat.get(((lat.len() as f64 * q) as usize).min(lat.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Summary {
        requests: lat.len(),
        per_second: lat.len() as f64 / elapsed.as_secs_f64().max(1e-9),
        p50: pick(0.50),
        p90: pick(0.90),
        p99: pick(0.99),
        p999: pick(0.999),
    }
}

pub(crate) fn print(label: &str, s: &Summary) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{label:<28} {:>9} req  {:>9.0} req/s  p50 {:>6.3} ms  p90 {:>6.3} ms  p99 {:>6.3} ms  p99.9 {:>6.3} ms",
        s.requests,
        s.per_second,
        ms(s.p50),
        ms(s.p90),
        ms(s.p99),
        ms(s.p999)
    );
}

pub(crate) async fn ensure_customers(app: &App, n: u64) -> Result<(), String> {
    let mut conn = app.store.acquire().await.map_err(|e| e.to_string())?;
    let have = kundo_store::customers::count(&mut conn.db())
        .await
        .map_err(|e| e.to_string())? as u64;
    drop(conn);
    if have < n {
        crate::make_demo_with(app, n - have, 42, 36, false).await?;
    }
    Ok(())
}

async fn sample_cards(app: &App, n: i64) -> Result<Vec<String>, String> {
    let mut conn = app.store.acquire().await.map_err(|e| e.to_string())?;
    let db = &mut conn.db();
    let total = kundo_store::customers::count(db)
        .await
        .map_err(|e| e.to_string())?
        .max(1);
    let step = (total / n).max(1);
    let mut cards = Vec::new();
    let mut after = 0;
    while (cards.len() as i64) < n {
        let ids = kundo_store::customers::ids_after(db, after, 1)
            .await
            .map_err(|e| e.to_string())?;
        let Some(id) = ids.first().copied() else {
            break;
        };
        if let Some(c) = kundo_store::customers::load(db, id)
            .await
            .map_err(|e| e.to_string())?
        {
            cards.extend(c.data.card_numbers.into_iter().take(1));
        }
        after = id + step - 1;
    }
    Ok(cards)
}

pub async fn run(db: &DbArgs, file: &FileConfig, what: BenchWhat) -> Result<(), String> {
    let store = crate::open(db, file).await?;
    let app = App::new(store.clone());
    println!(
        "backend: {}; machine: {} cores",
        store.backend().name(),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    match what {
        BenchWhat::Lookup {
            customers,
            concurrency,
            seconds,
            rate,
        } => {
            ensure_customers(&app, customers).await?;
            let cards = Arc::new(sample_cards(&app, 5_000).await?);
            if cards.is_empty() {
                return Err("no cards to look up".into());
            }
            let duration = Duration::from_secs(seconds);
            let base = run_clients(concurrency, duration, cards.clone(), {
                let app = app.clone();
                move |card: String| {
                    let app = app.clone();
                    async move {
                        let mut conn = app.store.acquire().await.map_err(|e| e.to_string())?;
                        kundo_store::customers::lookup_view_by_card(&mut conn.db(), &card)
                            .await
                            .map_err(|e| e.to_string())?
                            .ok_or("card not found")?;
                        Ok(())
                    }
                }
            })
            .await?;
            let key = app
                .create_api_key(&Actor::cli(), "bench", &["customers:read".to_string()])
                .await
                .map_err(crate::describe)?
                .key;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|e| e.to_string())?;
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
            let server = tokio::spawn(kundo_web::serve(
                listener,
                kundo_web::router(app.clone()),
                async move {
                    let _ = stop_rx.await;
                },
            ));
            let http = run_http(
                concurrency,
                duration,
                cards.clone(),
                addr,
                key.clone(),
                None,
            )
            .await?;
            let paced = if rate > 0 {
                Some(run_http(concurrency, duration, cards, addr, key, Some(rate)).await?)
            } else {
                None
            };
            let _ = stop_tx.send(());
            let _ = server.await;
            println!("card lookup, {concurrency} concurrent clients, {seconds} s each:");
            print("bare SQL query (baseline)", &base);
            print("GET /api/v1/lookup?card=", &http);
            if let Some(p) = &paced {
                print(&format!("  same, paced at {rate}/s"), p);
            }
            println!(
                "HTTP/baseline: throughput {:.2}x, p99 {:.2}x",
                http.per_second / base.per_second.max(1e-9),
                http.p99.as_secs_f64() / base.p99.as_secs_f64().max(1e-9)
            );
        }
        BenchWhat::Ingest {
            customers,
            receipts,
            batch,
            concurrency,
            seconds,
        } => bench_ingest(&app, customers, receipts, batch, concurrency, seconds).await?,
        BenchWhat::Redeem {
            vouchers,
            concurrency,
        } => bench_redeem(&app, vouchers, concurrency).await?,
        BenchWhat::BonusRun { customers } => bench_bonus(&app, customers).await?,
        BenchWhat::Segments {
            customers,
            runs,
            parts,
        } => crate::bench_marketing::segments(&app, customers, runs, parts).await?,
        BenchWhat::Duplicates {
            customers,
            checks,
            scan,
        } => crate::bench_quality::duplicates(&app, customers, checks, scan).await?,
        BenchWhat::Scores { date } => bench_scores(&app, date).await?,
        BenchWhat::Campaign { members, control } => bench_campaign(&app, members, control).await?,
        BenchWhat::Search { customers, queries } => {
            ensure_customers(&app, customers).await?;
            let terms = [
                "müller",
                "meier",
                "schmid",
                "keller",
                "weber",
                "anna",
                "peter",
                "zürich",
                "8001",
                "bahnhofstr",
                "huber",
                "brunner",
                "mueller",
                "gerber",
                "1003",
                "79 123",
            ];
            let mut lat = Vec::with_capacity(queries);
            let start = Instant::now();
            let mut found = 0usize;
            for i in 0..queries {
                let t0 = Instant::now();
                let hits = app
                    .search(terms[i % terms.len()], 20)
                    .await
                    .map_err(crate::describe)?;
                lat.push(t0.elapsed());
                found += hits.len();
            }
            let s = summarize(lat, start.elapsed());
            println!(
                "search, one client, {queries} queries over {} terms ({} hits in all):",
                terms.len(),
                found
            );
            print("app.search (ranked top 20)", &s);
        }
        BenchWhat::Import { customers } => {
            let dir = std::env::temp_dir().join(format!("kundo-bench-{}", std::process::id()));
            std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
            let path = dir.join("customers.csv");
            let mut conn = app.store.acquire().await.map_err(|e| e.to_string())?;
            let offset = 50_000_000
                + kundo_store::customers::count(&mut conn.db())
                    .await
                    .map_err(|e| e.to_string())? as u64;
            drop(conn);
            write_demo_csv(&path, customers, offset)?;
            let bytes = std::fs::read(&path).map_err(|e| e.to_string())?;
            let bar = crate::progress::bar(customers, "importing");
            let start = Instant::now();
            let report = app
                .import_customers(
                    &Actor::cli(),
                    &bytes,
                    kundo_app::csv_io::ImportOptions::default(),
                    &|d, _| bar.set_position(d),
                )
                .await
                .map_err(crate::describe)?;
            bar.finish_and_clear();
            let secs = start.elapsed().as_secs_f64();
            let _ = std::fs::remove_dir_all(&dir);
            if report.aborted {
                return Err(format!("import aborted: {:?}", report.errors.first()));
            }
            println!(
                "import of {} customers ({} MB CSV): {secs:.1} s, {:.0} customers/s",
                report.imported,
                bytes.len() / 1_000_000,
                report.imported as f64 / secs
            );
        }
    }
    Ok(())
}

fn write_demo_csv(path: &std::path::Path, n: u64, offset: u64) -> Result<(), String> {
    let mut w = csv::Writer::from_path(path).map_err(|e| e.to_string())?;
    w.write_record(kundo_app::csv_io::COLUMNS)
        .map_err(|e| e.to_string())?;
    for i in 0..n {
        let c = kundo_core::demo::demo_customer(7, offset + i, 36);
        let o = |v: Option<&str>| v.unwrap_or("").to_string();
        w.write_record([
            String::new(),
            c.kind.to_string(),
            o(c.salutation),
            o(c.title),
            o(c.first_name.as_deref()),
            o(c.last_name.as_deref()),
            o(c.company_name.as_deref()),
            c.birth_date.map(|d| d.to_string()).unwrap_or_default(),
            o(c.gender),
            c.language.to_string(),
            o(c.email.as_deref()),
            o(c.phone.as_deref()),
            String::new(),
            String::new(),
            c.street.clone(),
            c.house_number.clone(),
            String::new(),
            c.postcode.clone(),
            c.city.clone(),
            c.country.to_string(),
            c.card_number.clone(),
            o(c.preferred_channel),
            if c.email.is_some() {
                if c.consent_email { "granted" } else { "denied" }
            } else {
                ""
            }
            .to_string(),
            if c.consent_letter {
                "granted"
            } else {
                "denied"
            }
            .to_string(),
            String::new(),
            String::new(),
        ])
        .map_err(|e| e.to_string())?;
    }
    w.flush().map_err(|e| e.to_string())
}

/// Runs `concurrency` loops calling `f` on round-robin inputs for `duration`.
async fn run_clients<F, Fut>(
    concurrency: usize,
    duration: Duration,
    inputs: Arc<Vec<String>>,
    f: F,
) -> Result<Summary, String>
where
    F: Fn(String) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    let start = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..concurrency {
        let f = f.clone();
        let inputs = inputs.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut i = worker * 7919;
            while start.elapsed() < duration {
                let input = inputs[i % inputs.len()].clone();
                i += 1;
                let t0 = Instant::now();
                f(input).await?;
                lat.push(t0.elapsed());
            }
            Ok::<_, String>(lat)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.map_err(|e| e.to_string())??);
    }
    Ok(summarize(all, start.elapsed()))
}

/// A minimal HTTP/1.1 keep-alive client: the load generator must cost little, since it shares
/// the two cores with the server.
async fn run_http(
    concurrency: usize,
    duration: Duration,
    cards: Arc<Vec<String>>,
    addr: std::net::SocketAddr,
    key: String,
    rate: Option<u64>,
) -> Result<Summary, String> {
    let make = move |_worker: usize, i: usize| {
        let card = &cards[i % cards.len()];
        Some(format!(
            "GET /api/v1/lookup?card={card} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {key}\r\n\r\n"
        ))
    };
    load(concurrency, duration, addr, rate, make).await
}

/// A JSON POST on a keep-alive connection.
pub fn post_request(path: &str, key: &str, body: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Runs `concurrency` keep-alive connections sending what `make(worker, i)` builds until it
/// returns `None` or `duration` is over; every answer must be 2xx.
async fn load<F>(
    concurrency: usize,
    duration: Duration,
    addr: std::net::SocketAddr,
    rate: Option<u64>,
    make: F,
) -> Result<Summary, String>
where
    F: Fn(usize, usize) -> Option<String> + Clone + Send + Sync + 'static,
{
    let start = Instant::now();
    // Paced clients send on a fixed schedule; latency is taken from the actual send.
    let interval = rate.map(|r| Duration::from_secs_f64(concurrency as f64 / r.max(1) as f64));
    let mut tasks = Vec::new();
    for worker in 0..concurrency {
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
            stream.set_nodelay(true).map_err(|e| e.to_string())?;
            let (r, mut w) = stream.into_split();
            let mut r = BufReader::new(r);
            let mut lat = Vec::new();
            let mut i = worker * 7919;
            let mut line = String::new();
            let mut body = Vec::new();
            let mut next = start
                + interval
                    .map(|iv| iv.mul_f64(worker as f64 / concurrency as f64))
                    .unwrap_or_default();
            while start.elapsed() < duration {
                if let Some(iv) = interval {
                    tokio::time::sleep_until(next.into()).await;
                    next += iv;
                }
                let Some(req) = make(worker, i) else { break };
                i += 1;
                let t0 = Instant::now();
                w.write_all(req.as_bytes())
                    .await
                    .map_err(|e| e.to_string())?;
                line.clear();
                r.read_line(&mut line).await.map_err(|e| e.to_string())?;
                if !line.starts_with("HTTP/1.1 2") {
                    return Err(format!("unexpected answer: {}", line.trim()));
                }
                let mut len = 0usize;
                loop {
                    line.clear();
                    r.read_line(&mut line).await.map_err(|e| e.to_string())?;
                    if line == "\r\n" || line.is_empty() {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                }
                body.resize(len, 0);
                r.read_exact(&mut body).await.map_err(|e| e.to_string())?;
                lat.push(t0.elapsed());
            }
            Ok::<_, String>(lat)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.map_err(|e| e.to_string())??);
    }
    Ok(summarize(all, start.elapsed()))
}

async fn start_server(
    app: &App,
    scopes: &[&str],
) -> Result<
    (
        std::net::SocketAddr,
        String,
        tokio::sync::oneshot::Sender<()>,
    ),
    String,
> {
    let key = app
        .create_api_key(
            &Actor::cli(),
            "bench",
            &scopes.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )
        .await
        .map_err(crate::describe)?
        .key;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(kundo_web::serve(
        listener,
        kundo_web::router(app.clone()),
        async move {
            let _ = rx.await;
        },
    ));
    Ok((addr, key, stop))
}

/// A 5-line receipt as the tills send it.
fn receipt_json(tag: &str, i: usize, card: &str) -> serde_json::Value {
    let cats = [
        "Papier",
        "Büromaterial",
        "Druckerzubehör",
        "Elektronik",
        "Möbel",
    ];
    serde_json::json!({
        "source": "bench", "external_id": format!("{tag}-{i}"), "store_code": "ZH01", "channel": "store",
        "occurred_at": "2026-11-20T10:15:00Z", "currency": "CHF", "card_number": card,
        "lines": (0..5).map(|l| serde_json::json!({"sku": format!("SKU{l}"), "category": cats[l], "quantity": 1 + l % 2, "amount": 495 + 1000 * l})).collect::<Vec<_>>()
    })
}

async fn bench_ingest(
    app: &App,
    customers: u64,
    receipts: usize,
    batch: usize,
    concurrency: usize,
    seconds: u64,
) -> Result<(), String> {
    ensure_customers(app, customers).await?;
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
    .map_err(crate::describe)?;
    let cards = Arc::new(sample_cards(app, 20_000).await?);
    let tag = format!("b{}", chrono::Utc::now().timestamp_millis());
    let (addr, key, stop) = start_server(app, &["receipts:write"]).await?;

    // Batched: a few clients post arrays.
    let batches: Arc<Vec<String>> = Arc::new(
        (0..receipts.div_ceil(batch))
            .map(|b| {
                let items: Vec<serde_json::Value> = (b * batch..((b + 1) * batch).min(receipts))
                    .map(|i| receipt_json(&tag, i, &cards[i % cards.len()]))
                    .collect();
                post_request(
                    "/api/v1/receipts",
                    &key,
                    &serde_json::Value::Array(items).to_string(),
                )
            })
            .collect(),
    );
    let clients = 2usize;
    let started = Instant::now();
    let b2 = batches.clone();
    let batched = load(
        clients,
        Duration::from_secs(3600),
        addr,
        None,
        move |w, i| {
            let k = (i - w * 7919) * clients + w;
            b2.get(k).cloned()
        },
    )
    .await?;
    let batched_secs = started.elapsed().as_secs_f64();
    let per_sec = receipts as f64 / batched_secs;

    // Single POSTs: 32 tills, one receipt each request.
    let single_tag = format!("{tag}-s");
    let c2 = cards.clone();
    let key2 = key.clone();
    let single = load(
        concurrency,
        Duration::from_secs(seconds),
        addr,
        None,
        move |w, i| {
            let body = receipt_json(&single_tag, w * 10_000_000 + i, &c2[i % c2.len()]).to_string();
            Some(post_request("/api/v1/receipts", &key2, &body))
        },
    )
    .await?;
    let _ = stop.send(());

    // Baseline: the same rows as a bare multi-row INSERT (no scoring, ledger or figures).
    let n = receipts.min(100_000);
    let bare_tag = format!("{tag}-bare");
    let rows: Vec<kundo_store::loyalty::NewReceipt> = (0..n)
        .map(|i| kundo_store::loyalty::NewReceipt {
            id: 0,
            source: "bench".into(),
            external_id: format!("{bare_tag}-{i}"),
            kind: "sale",
            original_receipt_id: None,
            customer_id: None,
            store_code: Some("ZH01".into()),
            channel: "store".into(),
            occurred_at: chrono::Utc::now(),
            currency: "CHF".into(),
            total_amount: 0,
            eligible_amount: 0,
            weight: 0,
            points: 0,
            request_hash: String::new(),
            response: String::new(),
            lines: (0..5)
                .map(|l| kundo_store::loyalty::NewLine {
                    line_no: l + 1,
                    sku: format!("SKU{l}"),
                    category: "Papier".into(),
                    quantity: 1,
                    amount: 495,
                    weight: 495,
                    original_line_no: None,
                })
                .collect(),
        })
        .collect();
    let t0 = Instant::now();
    let mut rows = rows;
    for chunk in rows.chunks_mut(batch) {
        let mut tx = app.store.begin_write().await.map_err(|e| e.to_string())?;
        let ids = kundo_store::customers::reserve_ids_in(&mut tx.db(), "receipts", chunk.len())
            .await
            .map_err(|e| e.to_string())?;
        for (r, id) in chunk.iter_mut().zip(ids) {
            r.id = id;
        }
        kundo_store::loyalty::insert_receipts(&mut tx.db(), chunk, chrono::Utc::now())
            .await
            .map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())?;
    }
    let bare = n as f64 / t0.elapsed().as_secs_f64();
    println!("receipt ingest, 5-line receipts:");
    println!(
        "batched over HTTP ({clients} clients, {batch} per request): {receipts} receipts in {batched_secs:.1} s = {per_sec:.0} receipts/s (request p50 {:.1} ms, p99 {:.1} ms)",
        batched.p50.as_secs_f64() * 1e3,
        batched.p99.as_secs_f64() * 1e3
    );
    println!(
        "bare multi-row INSERT of the same rows (baseline): {bare:.0} receipts/s; batched ingest / bare INSERT = {:.2}",
        per_sec / bare
    );
    print(&format!("single POSTs, {concurrency} clients"), &single);
    Ok(())
}

async fn bench_redeem(app: &App, vouchers: usize, concurrency: usize) -> Result<(), String> {
    let now = chrono::Utc::now();
    let template = kundo_app::vouchers::VoucherTemplate {
        kind: "campaign".into(),
        value_type: "amount".into(),
        value: 500,
        currency: "CHF".into(),
        min_order: 0,
        channels: "both".into(),
        valid_from: now - chrono::Duration::days(1),
        valid_until: now + chrono::Duration::days(30),
    };
    let mut codes = Vec::with_capacity(vouchers);
    for chunk in (0..vouchers).collect::<Vec<_>>().chunks(5_000) {
        let mut tx = app.store.begin_write().await.map_err(|e| e.to_string())?;
        let none: Vec<Option<i64>> = chunk.iter().map(|_| None).collect();
        let issued = kundo_app::vouchers::issue(&mut tx.db(), &template, &none, None, now)
            .await
            .map_err(crate::describe)?;
        tx.commit().await.map_err(|e| e.to_string())?;
        codes.extend(issued.into_iter().map(|(_, _, c)| c));
    }
    let codes = Arc::new(codes);
    let (addr, key, stop) = start_server(app, &["vouchers:redeem"]).await?;
    let c2 = codes.clone();
    let per = codes.len() / concurrency;
    let s = load(
        concurrency,
        Duration::from_secs(3600),
        addr,
        None,
        move |w, i| {
            let k = i - w * 7919;
            if k >= per {
                return None;
            }
            let code = &c2[w * per + k];
            Some(post_request(
                &format!("/api/v1/vouchers/{code}/redeem"),
                &key,
                r#"{"channel":"store","store_code":"ZH01"}"#,
            ))
        },
    )
    .await?;
    let _ = stop.send(());
    println!("voucher redemption, distinct codes, {concurrency} concurrent clients:");
    print("POST /api/v1/vouchers/{code}/redeem", &s);
    Ok(())
}

async fn bench_bonus(app: &App, customers: u64) -> Result<(), String> {
    ensure_customers(app, customers).await?;
    // Every customer gets 700 points (one ledger entry each), written in bulk.
    let mut conn = app.store.acquire().await.map_err(|e| e.to_string())?;
    let mut after = 0;
    let mut ids = Vec::new();
    loop {
        let chunk = kundo_store::customers::ids_after(&mut conn.db(), after, 50_000)
            .await
            .map_err(|e| e.to_string())?;
        let Some(last) = chunk.last().copied() else {
            break;
        };
        after = last;
        ids.extend(chunk);
    }
    drop(conn);
    let bar = crate::progress::bar(ids.len() as u64, "giving points");
    for (n, chunk) in ids.chunks(20_000).enumerate() {
        let mut tx = app.store.begin_write().await.map_err(|e| e.to_string())?;
        let entries: Vec<kundo_store::loyalty::LedgerEntry> = chunk
            .iter()
            .map(|c| kundo_store::loyalty::LedgerEntry {
                customer_id: *c,
                kind: "adjust",
                points: 700,
                receipt_id: None,
                voucher_id: None,
                run_id: None,
                reason: Some("bench".into()),
                actor: "bench".into(),
            })
            .collect();
        kundo_store::loyalty::append(&mut tx.db(), &entries, chrono::Utc::now())
            .await
            .map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())?;
        bar.set_position(((n + 1) * 20_000).min(ids.len()) as u64);
    }
    bar.finish_and_clear();
    // A month of its own for each measurement, run as if on its first day (a bonus run is for
    // the month whose balances it reads).
    let first =
        chrono::NaiveDate::from_ymd_opt(2099, 1 + (chrono::Utc::now().timestamp() % 12) as u32, 1)
            .ok_or("no such month")?;
    let period = first.format("%Y-%m").to_string();
    let app = app.clone().with_today(first);
    let t0 = Instant::now();
    let run = app
        .bonus_run(
            &Actor::cli(),
            &period,
            &Default::default(),
            Default::default(),
        )
        .await
        .map_err(crate::describe)?;
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "bonus run {period} over {} customers: {} vouchers, {} points converted, {} letters in {secs:.1} s ({:.0} customers/s)",
        ids.len(),
        run.vouchers_issued,
        run.points_converted,
        run.letters,
        ids.len() as f64 / secs
    );
    Ok(())
}

async fn bench_scores(app: &App, date: Option<String>) -> Result<(), String> {
    let as_of = match date {
        Some(d) => kundo_app::scores::parse_as_of(&d).map_err(crate::describe)?,
        None => chrono::Utc::now().date_naive(),
    };
    let window = kundo_store::scores::ScoreWindow::new(as_of);
    // Baselines: the two read queries the job is built on, alone.
    let mut conn = app.store.acquire().await.map_err(|e| e.to_string())?;
    let t0 = Instant::now();
    let breaks = kundo_store::scores::rfm_breaks(&mut conn.db(), &window)
        .await
        .map_err(|e| e.to_string())?;
    let breaks_secs = t0.elapsed().as_secs_f64();
    let active = breaks.map_or(0, |(n, _)| n);
    println!(
        "{:<28} {active:>9} customers active in 24 months in {:>7.3} s",
        "RFM breakpoints (SQL)", breaks_secs
    );
    drop(conn);
    let spinner = crate::progress::spinner("scores");
    let t0 = Instant::now();
    let run = app
        .run_scores(&Actor::cli(), as_of, &|step, done, total| {
            spinner.set_message(format!("scores: {step} {done}/{total}"));
        })
        .await
        .map_err(crate::describe)?;
    let secs = t0.elapsed().as_secs_f64();
    spinner.finish_and_clear();
    let mut conn = app.store.acquire().await.map_err(|e| e.to_string())?;
    let t0 = Instant::now();
    let histories = kundo_store::scores::purchase_histories(&mut conn.db(), &window, None)
        .await
        .map_err(|e| e.to_string())?;
    let histories_secs = t0.elapsed().as_secs_f64();
    drop(conn);
    let per_sec = |n: f64, s: f64| n / s.max(1e-9);
    let n = run.customers_scored as f64;
    println!(
        "{:<28} {:>9} histories in {histories_secs:>7.3} s ({:.0}/s)",
        "purchase histories (SQL)",
        histories.len(),
        per_sec(histories.len() as f64, histories_secs)
    );
    println!(
        "{:<28} {:>9} customers in {:>7.3} s ({:.0}/s)",
        "RFM (breaks + upsert)",
        run.customers_scored,
        run.rfm_ms as f64 / 1000.0,
        per_sec(n, run.rfm_ms as f64 / 1000.0)
    );
    println!(
        "{:<28} {:>9} customers in {:>7.3} s ({:.0}/s)",
        "CLV (read, fit, write)",
        run.clv_customers,
        run.clv_ms as f64 / 1000.0,
        per_sec(run.clv_customers as f64, run.clv_ms as f64 / 1000.0)
    );
    println!(
        "{:<28} {:>9} customers in {secs:>7.3} s ({:.0}/s)",
        "whole run",
        run.customers_scored,
        per_sec(n, secs)
    );
    match (&run.model, &run.model_error) {
        (Some(m), _) => println!(
            "models: BG/NBD r {:.4} alpha {:.4} a {:.4} b {:.4} on {} customers; Gamma-Gamma p {:.4} q {:.4} v {:.2} on {}",
            m.bg_nbd.r,
            m.bg_nbd.alpha,
            m.bg_nbd.a,
            m.bg_nbd.b,
            m.bg_nbd_customers,
            m.gamma_gamma.p,
            m.gamma_gamma.q,
            m.gamma_gamma.v,
            m.gamma_gamma_customers
        ),
        (None, Some(e)) => println!("models not fitted: {e}"),
        (None, None) => println!("models not fitted"),
    }
    Ok(())
}

async fn bench_campaign(app: &App, members: u64, control: i64) -> Result<(), String> {
    ensure_customers(app, members).await?;
    let tag = chrono::Utc::now().format("%Y%m%d%H%M%S").to_string();
    let actor = Actor::cli();
    let segment = app
        .create_segment(
            &actor,
            kundo_app::segments::SegmentInput {
                name: format!("bench campaign {tag}"),
                definition: serde_json::json!({"field": "kind", "op": "in", "value": ["person", "organization"]}),
                kind: None,
            },
            chrono::Utc::now().date_naive(),
        )
        .await
        .map_err(crate::describe)?;
    let input: kundo_app::campaigns::CampaignInput = serde_json::from_value(serde_json::json!({
        "name": format!("bench {tag}"), "segment_id": segment.id, "value_type": "percent",
        "value": 1000, "validity_days": 28, "control_share_bp": control, "seed": 42
    }))
    .map_err(|e| e.to_string())?;
    let c = app
        .create_campaign(&actor, input)
        .await
        .map_err(crate::describe)?;
    let id = c.campaign.id;
    let t0 = Instant::now();
    app.start_campaign(
        &actor,
        id,
        kundo_app::campaigns::StartLimit {
            max_steps: Some(0),
            step: None,
        },
    )
    .await
    .map_err(crate::describe)?;
    let freeze = t0.elapsed().as_secs_f64();
    let c = app
        .start_campaign(&actor, id, Default::default())
        .await
        .map_err(crate::describe)?
        .campaign;
    let total = t0.elapsed().as_secs_f64();
    println!(
        "campaign start over {} members ({} target, {} control): freeze (snapshot, draw, channels) {freeze:.1} s; \
         {} vouchers with contacts, {} lettershop rows, {} email rows in {:.1} s; total {total:.1} s ({:.0} members/s)",
        c.members,
        c.target_members,
        c.control_members,
        c.vouchers_issued,
        c.letters,
        c.emails,
        total - freeze,
        c.members as f64 / total.max(1e-9)
    );
    println!(
        "channels: {} email, {} letter, {} unreachable",
        c.email_members, c.letter_members, c.unreachable
    );
    Ok(())
}
