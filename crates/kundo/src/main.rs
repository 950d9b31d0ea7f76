//! `kundo`: the one binary. Serves the API, runs migrations, imports and exports, makes demo
//! data and measures itself.

mod bench;
mod bench_marketing;
mod bench_quality;
mod campaigns;
mod config;
mod progress;
mod quality_cli;
mod scheduler;
mod segments;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use config::{DbArgs, FileConfig, Target};
use kundo_app::{Actor, App};
use kundo_core::auth::Role;
use kundo_store::{PoolSize, Store};

#[derive(Parser)]
#[command(
    name = "kundo",
    version,
    about = "Customer relations and loyalty for retail chains"
)]
struct Cli {
    #[command(flatten)]
    db: DbArgs,
    /// Log format: human or json.
    #[arg(long, env = "KUNDO_LOG_FORMAT", global = true)]
    log_format: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (applies migrations first).
    Serve {
        /// Address to listen on.
        #[arg(long, env = "KUNDO_LISTEN")]
        listen: Option<String>,
        /// Fill an empty database with demo data and print an admin login.
        #[arg(long)]
        demo: bool,
        /// How many demo customers --demo generates.
        #[arg(long, default_value_t = 10_000)]
        demo_customers: u64,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Manage API keys for systems (tills, shop, lettershop, ERP, automation).
    Apikey {
        #[command(subcommand)]
        command: ApikeyCommand,
    },
    /// Manage staff users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Import data from CSV.
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Export data as CSV.
    Export {
        #[command(subcommand)]
        what: ExportWhat,
    },
    /// Generate demo customers (deterministic for a seed).
    Demo {
        #[arg(long, default_value_t = 10_000)]
        customers: u64,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Number of stores the customers are spread over.
        #[arg(long, default_value_t = 36)]
        stores: usize,
        /// Customers only, without two years of purchases.
        #[arg(long)]
        no_receipts: bool,
    },
    /// Run an automatic job now: bonus, birthday, expiry or scores (idempotent per period).
    Run {
        #[command(subcommand)]
        job: RunJob,
    },
    /// Find and review duplicate customers.
    Duplicates {
        #[command(subcommand)]
        command: quality_cli::DuplicatesCommand,
    },
    /// Merge a duplicate into a survivor (everything moves; the duplicate's number and cards
    /// keep resolving to the survivor).
    Merge {
        /// Customer number of the record that stays.
        survivor: String,
        /// Customer number of the record that is merged away.
        duplicate: String,
        /// Whose value a field keeps, e.g. --keep email=duplicate (repeat for several).
        #[arg(long = "keep")]
        keep: Vec<String>,
    },
    /// Segments and marketing lists: create, list, count, export.
    Segment {
        #[command(subcommand)]
        command: segments::SegmentCommand,
    },
    /// Campaigns: create, start, results (rules: docs/campaigns.md).
    Campaign {
        #[command(subcommand)]
        command: campaigns::CampaignCommand,
    },
    /// Measure throughput and latency (see BENCHMARKS.md).
    Bench {
        #[command(subcommand)]
        what: bench::BenchWhat,
    },
}

#[derive(Subcommand)]
enum RunJob {
    /// The monthly bonus run: points above the threshold become vouchers.
    Bonus {
        /// The month, YYYY-MM: the current one or the one that just ended (the run converts
        /// today's balances). A run that failed continues when started again.
        #[arg(long)]
        period: String,
    },
    /// Birthday vouchers for the birthdays `lead` days after this date.
    Birthday {
        /// The run date, YYYY-MM-DD, within 31 days of today (default: today).
        #[arg(long)]
        date: Option<String>,
    },
    /// Expire vouchers past their validity.
    Expiry,
    /// Recompute RFM codes and lifetime values of every customer (DOMAIN §7).
    Scores {
        /// Score as of the end of this day, YYYY-MM-DD (default: today, UTC).
        #[arg(long)]
        date: Option<String>,
    },
}

#[derive(Subcommand)]
enum ApikeyCommand {
    /// Create a key; the key is printed once, alone on one line.
    Create {
        #[arg(long)]
        name: String,
        /// A scope the key grants (repeat for several).
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
    },
    /// List keys (never the secrets).
    List,
    /// Revoke a key by id.
    Revoke { id: i64 },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a staff user. Without --password a random one is generated and printed.
    Create {
        #[arg(long)]
        username: String,
        /// admin, marketing, service or store.
        #[arg(long)]
        role: String,
        #[arg(long, env = "KUNDO_NEW_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
}

#[derive(Subcommand)]
enum ImportWhat {
    /// Customers from a CSV file (columns in docs/csv.md). A file with bad rows changes nothing
    /// unless --skip-invalid is given.
    Customers {
        file: PathBuf,
        /// Import the valid rows and write the rejected ones to --rejects.
        #[arg(long)]
        skip_invalid: bool,
        /// Where rejected rows go (default: FILE.rejects.csv).
        #[arg(long)]
        rejects: Option<PathBuf>,
        /// Import rows that look like existing customers or earlier rows (likely duplicates
        /// are rejected otherwise).
        #[arg(long)]
        allow_duplicates: bool,
    },
    /// Postal returns (Adressrückläufer): customer_number or reference, reason, optional new
    /// address. A file with bad rows changes nothing unless --skip-invalid is given.
    Returns {
        file: PathBuf,
        #[arg(long)]
        skip_invalid: bool,
    },
    /// Purchases from a plain purchase log ("customer date [quantity] amount" per line,
    /// whitespace or comma separated, dates YYYYMMDD or YYYY-MM-DD, amounts like 12.50), booked
    /// as receipts with one line each. A file with a bad line or an unknown customer changes
    /// nothing; importing a file again books only what is new.
    Receipts {
        file: PathBuf,
        /// The file's format; only purchase-log is known.
        #[arg(long, default_value = "purchase-log", value_parser = ["purchase-log"])]
        format: String,
        /// Create a minimal person for every customer number not in the database.
        #[arg(long)]
        create_customers: bool,
        /// The receipts' source; with customer, date and position it makes them idempotent.
        #[arg(long, default_value = "purchase-log")]
        source: String,
        /// Currency of the amounts (ISO 4217).
        #[arg(long, default_value = "CHF")]
        currency: String,
        /// Book the purchases in this store (channel store); without it they are online.
        #[arg(long)]
        store: Option<String>,
    },
}

#[derive(Subcommand)]
enum ExportWhat {
    /// All customers as CSV (to standard output or --output).
    Customers {
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kundo: error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kundo: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: Option<&str>) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("KUNDO_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=error,tower_http=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == Some("json") {
        let _ = builder.json().try_init();
    } else {
        let _ = builder.try_init();
    }
}

/// The application over the configured database, with the data directory for files.
pub async fn app_for(db: &DbArgs, file: &FileConfig) -> Result<App, String> {
    let mut app = App::new(open(db, file).await?);
    app.sale_bounds = db.sale_bounds(file)?;
    app.files_dir = match db.target(file) {
        Target::DataDir(dir) => Some(dir),
        Target::Url(_) => db.data_dir.clone().or(file.data_dir.clone()),
    };
    Ok(app)
}

pub async fn open(db: &DbArgs, file: &FileConfig) -> Result<Store, String> {
    let size = PoolSize {
        max_connections: db.connections(file),
    };
    let store = match db.target(file) {
        Target::Url(url) => Store::connect(&url, size).await,
        Target::DataDir(dir) => Store::open_data_dir(&dir, size).await,
    }
    .map_err(|e| e.to_string())?;
    store.migrate().await.map_err(|e| e.to_string())?;
    Ok(store)
}

async fn run(cli: Cli) -> Result<(), String> {
    let file = FileConfig::load(cli.db.config.as_deref())?;
    let log_format = cli.log_format.clone().or(file.log_format.clone());
    init_logging(log_format.as_deref());
    match cli.command {
        Command::Serve {
            listen,
            demo,
            demo_customers,
        } => {
            let listen = listen
                .or(file.listen.clone())
                .unwrap_or_else(|| "127.0.0.1:8080".into());
            serve(&cli.db, &file, &listen, demo.then_some(demo_customers)).await
        }
        Command::Migrate => {
            let store = open(&cli.db, &file).await?;
            println!("migrations applied ({})", store.backend().name());
            Ok(())
        }
        Command::Apikey { command } => {
            let app = App::new(open(&cli.db, &file).await?);
            match command {
                ApikeyCommand::Create { name, scopes } => {
                    let key = app
                        .create_api_key(&Actor::cli(), &name, &scopes)
                        .await
                        .map_err(describe)?;
                    println!("{}", key.key);
                }
                ApikeyCommand::List => {
                    let mut conn = app.store.acquire().await.map_err(|e| e.to_string())?;
                    for k in kundo_store::auth::api_keys(&mut conn.db())
                        .await
                        .map_err(|e| e.to_string())?
                    {
                        let state = if k.revoked_at.is_some() {
                            "revoked"
                        } else {
                            "active"
                        };
                        println!(
                            "{}\t{}\t{}…\t{}\t{}",
                            k.id, k.name, k.prefix, k.scopes, state
                        );
                    }
                }
                ApikeyCommand::Revoke { id } => {
                    app.revoke_api_key(&Actor::cli(), id)
                        .await
                        .map_err(describe)?;
                    println!("revoked key {id}");
                }
            }
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Create {
                    username,
                    role,
                    password,
                },
        } => {
            let app = App::new(open(&cli.db, &file).await?);
            let role = Role::parse(&role)
                .ok_or("role must be one of: admin, marketing, service, store")?;
            let generated = password.is_none();
            let password = password.unwrap_or_else(|| kundo_app::auth::random_hex(10));
            app.create_user(&Actor::cli(), &username, &password, role)
                .await
                .map_err(describe)?;
            if generated {
                println!("user {username} created; password: {password}");
            } else {
                println!("user {username} created");
            }
            Ok(())
        }
        Command::Import {
            what:
                ImportWhat::Customers {
                    file: path,
                    skip_invalid,
                    rejects,
                    allow_duplicates,
                },
        } => {
            let app = App::new(open(&cli.db, &file).await?);
            import_customers(&app, &path, skip_invalid, allow_duplicates, rejects).await
        }
        Command::Import {
            what:
                ImportWhat::Returns {
                    file: path,
                    skip_invalid,
                },
        } => {
            let app = App::new(open(&cli.db, &file).await?);
            quality_cli::import_returns(&app, &path, skip_invalid).await
        }
        Command::Duplicates { command } => {
            let app = App::new(open(&cli.db, &file).await?);
            quality_cli::duplicates(&app, command).await
        }
        Command::Merge {
            survivor,
            duplicate,
            keep,
        } => {
            let app = App::new(open(&cli.db, &file).await?);
            quality_cli::merge(&app, &survivor, &duplicate, &keep).await
        }
        Command::Import {
            what:
                ImportWhat::Receipts {
                    file: path,
                    format: _,
                    create_customers,
                    source,
                    currency,
                    store,
                },
        } => {
            let app = app_for(&cli.db, &file).await?;
            let opts = kundo_app::purchase_log::PurchaseLogOptions {
                source,
                currency,
                store_code: store,
                create_customers,
            };
            import_purchase_log(&app, &path, &opts).await
        }
        Command::Export {
            what: ExportWhat::Customers { output },
        } => {
            let app = App::new(open(&cli.db, &file).await?);
            let bar = progress::bar(0, "exporting customers");
            let report = |done: u64, total: u64| {
                bar.set_length(total);
                bar.set_position(done);
            };
            let n = match output {
                Some(path) => {
                    let f = std::fs::File::create(&path)
                        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                    app.export_customers(std::io::BufWriter::new(f), &report)
                        .await
                }
                None => {
                    app.export_customers(std::io::BufWriter::new(std::io::stdout().lock()), &report)
                        .await
                }
            }
            .map_err(describe)?;
            bar.finish_and_clear();
            eprintln!("exported {n} customers");
            Ok(())
        }
        Command::Demo {
            customers,
            seed,
            stores,
            no_receipts,
        } => {
            let app = App::new(open(&cli.db, &file).await?);
            make_demo_with(&app, customers, seed, stores, !no_receipts).await
        }
        Command::Segment { command } => {
            let app = App::new(open(&cli.db, &file).await?);
            segments::run(&app, command).await
        }
        Command::Campaign { command } => {
            let app = App::new(open(&cli.db, &file).await?);
            campaigns::run(&app, command).await
        }
        Command::Bench { what } => bench::run(&cli.db, &file, what).await,
        Command::Run { job } => {
            let app = app_for(&cli.db, &file).await?;
            let spinner = progress::spinner("running");
            let summary = match job {
                RunJob::Bonus { period } => {
                    let run = app
                        .bonus_run(
                            &Actor::cli(),
                            &period,
                            &Default::default(),
                            Default::default(),
                        )
                        .await
                        .map_err(describe)?;
                    serde_json::to_string_pretty(&run).unwrap_or_default()
                }
                RunJob::Birthday { date } => {
                    let date = date.unwrap_or_else(|| app.company_today().to_string());
                    let run = app
                        .birthday_run(&date, &Default::default(), Default::default())
                        .await
                        .map_err(describe)?;
                    serde_json::to_string_pretty(&run).unwrap_or_default()
                }
                RunJob::Expiry => format!(
                    "{{\"vouchers_expired\": {}}}",
                    app.expire_vouchers().await.map_err(describe)?
                ),
                RunJob::Scores { date } => {
                    let today = chrono::Utc::now().date_naive();
                    let as_of = match date {
                        Some(d) => kundo_app::scores::parse_as_of(&d).map_err(describe)?,
                        None => today,
                    };
                    spinner.set_message("rolling twelve-month figures");
                    app.roll_figures(today).await.map_err(describe)?;
                    let run = app
                        .run_scores(&Actor::cli(), as_of, &|step, done, total| {
                            spinner.set_message(format!("scores: {step} {done}/{total}"));
                        })
                        .await
                        .map_err(describe)?;
                    serde_json::to_string_pretty(&run).unwrap_or_default()
                }
            };
            spinner.finish_and_clear();
            println!("{summary}");
            Ok(())
        }
    }
}

/// A use-case error as one line for the terminal.
pub fn describe(e: kundo_app::AppError) -> String {
    match e {
        kundo_app::AppError::Invalid(errors) => errors
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("; "),
        kundo_app::AppError::Conflict { field, message } => format!("{field}: {message}"),
        other => other.to_string(),
    }
}

pub async fn make_demo(app: &App, customers: u64, seed: u64, stores: usize) -> Result<(), String> {
    make_demo_with(app, customers, seed, stores, true).await
}

/// Demo customers and, with `receipts`, two years of their purchases.
pub async fn make_demo_with(
    app: &App,
    customers: u64,
    seed: u64,
    stores: usize,
    receipts: bool,
) -> Result<(), String> {
    let bar = progress::bar(customers, "demo customers");
    let start = std::time::Instant::now();
    let ids = app
        .generate_demo(customers, seed, stores, &|n| bar.set_position(n))
        .await
        .map_err(describe)?;
    bar.finish_and_clear();
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "generated {customers} demo customers in {secs:.1} s ({:.0}/s)",
        customers as f64 / secs.max(1e-9)
    );
    if receipts {
        let bar = progress::bar(ids.len() as u64, "demo purchases");
        let start = std::time::Instant::now();
        let n = app
            .generate_demo_receipts(seed, &ids, stores, &|n| bar.set_position(n))
            .await
            .map_err(describe)?;
        bar.finish_and_clear();
        let secs = start.elapsed().as_secs_f64();
        eprintln!(
            "generated {n} receipts and returns in {secs:.1} s ({:.0}/s)",
            n as f64 / secs.max(1e-9)
        );
        let start = std::time::Instant::now();
        app.roll_figures(chrono::Utc::now().date_naive())
            .await
            .map_err(describe)?;
        eprintln!(
            "rolled the twelve-month purchase figures in {:.1} s",
            start.elapsed().as_secs_f64()
        );
    }
    app.store.optimize().await.map_err(|e| e.to_string())?;
    Ok(())
}

async fn import_customers(
    app: &App,
    path: &std::path::Path,
    skip_invalid: bool,
    allow_duplicates: bool,
    rejects: Option<PathBuf>,
) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let bar = progress::bar(0, "importing customers");
    let start = std::time::Instant::now();
    let report = app
        .import_customers(
            &Actor::cli(),
            &bytes,
            kundo_app::csv_io::ImportOptions {
                skip_invalid,
                allow_duplicates,
            },
            &|done, total| {
                bar.set_length(total);
                bar.set_position(done);
            },
        )
        .await
        .map_err(describe)?;
    bar.finish_and_clear();
    for e in report.errors.iter().take(200) {
        eprintln!("{}: {e}", path.display());
    }
    if report.errors.len() > 200 {
        eprintln!("… and {} more errors", report.errors.len() - 200);
    }
    if report.aborted {
        return Err(format!(
            "import aborted: {} of {} rows are invalid; nothing was imported (use --skip-invalid to import the rest)",
            report.rejected, report.rows
        ));
    }
    if skip_invalid && !report.rejected_records.is_empty() {
        let rejects = rejects.unwrap_or_else(|| path.with_extension("rejects.csv"));
        let mut w = csv::Writer::from_path(&rejects)
            .map_err(|e| format!("cannot write {}: {e}", rejects.display()))?;
        if let Some(h) = &report.headers {
            let mut h: Vec<String> = h.iter().map(str::to_string).collect();
            h.extend(["line".to_string(), "error".to_string()]);
            w.write_record(&h).map_err(|e| e.to_string())?;
        }
        for (line, rec, err) in &report.rejected_records {
            let mut r: Vec<String> = rec.iter().map(str::to_string).collect();
            r.extend([line.to_string(), err.clone()]);
            w.write_record(&r).map_err(|e| e.to_string())?;
        }
        w.flush().map_err(|e| e.to_string())?;
        eprintln!(
            "{} rejected rows written to {}",
            report.rejected,
            rejects.display()
        );
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "imported {} of {} rows in {secs:.1} s ({:.0} customers/s)",
        report.imported,
        report.rows,
        report.imported as f64 / secs.max(1e-9)
    );
    Ok(())
}

async fn import_purchase_log(
    app: &App,
    path: &std::path::Path,
    opts: &kundo_app::purchase_log::PurchaseLogOptions,
) -> Result<(), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let bar = progress::bar(0, "importing receipts");
    let start = std::time::Instant::now();
    let report = app
        .import_purchase_log(&Actor::cli(), &text, opts, &|done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
        .await
        .map_err(describe)?;
    bar.finish_and_clear();
    for e in report.errors.iter().take(200) {
        eprintln!("{}: {e}", path.display());
    }
    if report.errors.len() > 200 {
        eprintln!("… and {} more errors", report.errors.len() - 200);
    }
    if !report.unknown_customers.is_empty() {
        let shown: Vec<&str> = report
            .unknown_customers
            .iter()
            .take(20)
            .map(String::as_str)
            .collect();
        eprintln!(
            "{}: {} unknown customers: {}{}",
            path.display(),
            report.unknown_customers.len(),
            shown.join(", "),
            if report.unknown_customers.len() > 20 {
                ", …"
            } else {
                ""
            }
        );
    }
    if report.aborted {
        return Err(if report.unknown_customers.is_empty() {
            "import aborted: the file has bad lines; nothing was imported".into()
        } else {
            "import aborted: unknown customers; nothing was imported (use --create-customers to create them)".into()
        });
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{} purchases of {} customers: {} receipts booked, {} booked before, {} customers created, {} refused, in {secs:.1} s ({:.0} receipts/s)",
        report.rows,
        report.customers,
        report.booked,
        report.already_booked,
        report.customers_created,
        report.errors.len(),
        report.rows as f64 / secs.max(1e-9)
    );
    if report.errors.is_empty() {
        Ok(())
    } else {
        Err(format!("{} purchases were refused", report.errors.len()))
    }
}

async fn serve(
    db: &DbArgs,
    file: &FileConfig,
    listen: &str,
    demo: Option<u64>,
) -> Result<(), String> {
    let addr: SocketAddr = listen
        .parse()
        .map_err(|_| format!("--listen '{listen}' is not an address such as 127.0.0.1:8080"))?;
    // Bind first: a port in use is reported before any data is touched.
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let app = app_for(db, file).await?;
    let store = app.store.clone();
    for warning in store.setting_warnings().await.map_err(|e| e.to_string())? {
        tracing::warn!("{warning}");
    }
    let mut login = None;
    if let Some(n) = demo {
        let mut conn = store.acquire().await.map_err(|e| e.to_string())?;
        let existing = kundo_store::customers::count(&mut conn.db())
            .await
            .map_err(|e| e.to_string())?;
        drop(conn);
        if existing == 0 {
            make_demo(&app, n, 42, 36).await?;
        } else {
            eprintln!("database holds {existing} customers already; no demo data added");
        }
        let password = kundo_app::auth::random_hex(8);
        match app
            .create_user(&Actor::cli(), "admin", &password, Role::Admin)
            .await
        {
            Ok(_) => {}
            Err(kundo_app::AppError::Conflict { .. }) => app
                .set_password("admin", &password)
                .await
                .map_err(describe)?,
            Err(e) => return Err(describe(e)),
        }
        login = Some(password);
    }
    tokio::spawn(scheduler::run(app.clone()));
    tokio::spawn(scheduler::webhooks(app.clone()));
    tokio::spawn(scheduler::campaigns(app.clone()));
    let router = kundo_web::router(app);
    println!(
        "Kundo is listening on http://{addr} ({})",
        store.backend().name()
    );
    if let Some(password) = login {
        println!("Log in as admin with password {password}");
        println!("The staff UI: http://{addr}/ui");
        println!(
            "Try: curl -s -c /tmp/kundo.cookies -H 'Content-Type: application/json' -d '{{\"username\":\"admin\",\"password\":\"{password}\"}}' http://{addr}/api/v1/session"
        );
    }
    kundo_web::serve(listener, router, shutdown_signal())
        .await
        .map_err(|e| format!("server failed: {e}"))?;
    store.close().await;
    eprintln!("kundo stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: draining in-flight requests");
}
