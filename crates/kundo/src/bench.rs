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
    /// CSV import rate: generates N customers as CSV, then imports them.
    Import {
        #[arg(long, default_value_t = 1_000_000)]
        customers: u64,
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

fn print(label: &str, s: &Summary) {
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

async fn ensure_customers(app: &App, n: u64) -> Result<(), String> {
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
                    kundo_app::csv_io::ImportOptions {
                        skip_invalid: false,
                    },
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
    let start = Instant::now();
    // Paced clients send on a fixed schedule; latency is taken from the actual send.
    let interval = rate.map(|r| Duration::from_secs_f64(concurrency as f64 / r.max(1) as f64));
    let mut tasks = Vec::new();
    for worker in 0..concurrency {
        let cards = cards.clone();
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
            stream.set_nodelay(true).map_err(|e| e.to_string())?;
            let (r, mut w) = stream.into_split();
            let mut r = BufReader::new(r);
            let mut lat = Vec::new();
            let mut i = worker * 7919;
            let mut line = String::new();
            let mut body = Vec::new();
            let mut next = start + interval.map(|iv| iv.mul_f64(worker as f64 / concurrency as f64)).unwrap_or_default();
            while start.elapsed() < duration {
                if let Some(iv) = interval {
                    tokio::time::sleep_until(next.into()).await;
                    next += iv;
                }
                let card = &cards[i % cards.len()];
                i += 1;
                let req = format!("GET /api/v1/lookup?card={card} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {key}\r\n\r\n");
                let t0 = Instant::now();
                w.write_all(req.as_bytes()).await.map_err(|e| e.to_string())?;
                line.clear();
                r.read_line(&mut line).await.map_err(|e| e.to_string())?;
                if !line.starts_with("HTTP/1.1 200") {
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
