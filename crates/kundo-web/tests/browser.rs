//! The staff UI in a real browser: Debian's chromium driven through chromedriver's W3C WebDriver
//! HTTP API by the tiny client below (tokio TcpStream, HTTP/1.1, serde_json). Kundo runs in this
//! process on a random port over a temporary SQLite database. Screenshots of the main screens go
//! to docs/screenshots/.
//!
//! Without chromium and chromedriver the test prints a note and passes, unless
//! `KUNDO_REQUIRE_BROWSER` is set (CI sets it), where it fails.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use chrono::Datelike;
use kundo_app::customers::{Created, DuplicateCheck};
use kundo_app::{Actor, App};
use kundo_core::auth::Role;
use kundo_store::testing;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn find_binary(names: &[&str]) -> Option<PathBuf> {
    names.iter().map(PathBuf::from).find(|p| p.exists())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// One HTTP/1.1 exchange with `Connection: close`; answers status and JSON body.
async fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    let mut s = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect to chromedriver");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
        payload.len()
    );
    s.write_all(req.as_bytes()).await.expect("write");
    // Read the head, then exactly the body it announces (chromedriver may keep the connection).
    let mut raw = Vec::new();
    let mut buf = [0u8; 16384];
    let split = loop {
        if let Some(p) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
        let n = s.read(&mut buf).await.expect("read");
        assert!(n > 0, "connection closed before the HTTP head");
        raw.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let length = head.lines().find_map(|l| {
        l.strip_prefix("content-length:")
            .and_then(|v| v.trim().parse::<usize>().ok())
    });
    let chunked = head.contains("transfer-encoding: chunked");
    let mut body = raw[split + 4..].to_vec();
    loop {
        let done = match length {
            Some(len) => body.len() >= len,
            None if chunked => body.windows(5).any(|w| w == b"0\r\n\r\n"),
            None => false,
        };
        if done {
            break;
        }
        let n = s.read(&mut buf).await.expect("read");
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
    }
    if chunked {
        body = dechunk(&body);
    }
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    (status, value)
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = b.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&b[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 || b.len() < eol + 2 + size {
            return out;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
        b = &b[(eol + 4 + size).min(b.len())..];
    }
}

struct Driver {
    port: u16,
    session: String,
    child: Child,
    _profile: testing::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    async fn start(chromedriver: &Path, chromium: &Path) -> Driver {
        let port = free_port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = testing::TempDir::new();
        let started = Instant::now();
        loop {
            if TcpStream::connect(("127.0.0.1", port)).await.is_ok()
                && http(port, "GET", "/status", None).await.1["value"]["ready"] == json!(true)
            {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let caps = json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
            "binary": chromium.to_string_lossy(),
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,1000", "--lang=de-CH",
                format!("--user-data-dir={}", profile.0.display())]}}}});
        let mut driver = Driver {
            port,
            session: String::new(),
            child,
            _profile: profile,
        };
        let (status, v) = http(port, "POST", "/session", Some(&caps)).await;
        assert_eq!(status, 200, "new session: {v}");
        driver.session = v["value"]["sessionId"]
            .as_str()
            .expect("session id")
            .to_string();
        driver
    }

    async fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let full = format!("/session/{}{path}", self.session);
        let body = body.or_else(|| (method == "POST").then(|| json!({})));
        let (status, v) = http(self.port, method, &full, body.as_ref()).await;
        assert_eq!(status, 200, "{method} {path}: {v}");
        v["value"].clone()
    }

    async fn go(&self, url: &str) {
        self.cmd("POST", "/url", Some(json!({ "url": url }))).await;
    }

    async fn url(&self) -> String {
        self.cmd("GET", "/url", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    async fn try_find(&self, css: &str) -> Option<String> {
        let full = format!("/session/{}/element", self.session);
        let (status, v) = http(
            self.port,
            "POST",
            &full,
            Some(&json!({"using": "css selector", "value": css})),
        )
        .await;
        (status == 200).then(|| v["value"][ELEMENT].as_str().unwrap_or_default().to_string())
    }

    async fn find(&self, css: &str) -> String {
        self.wait_for(css).await
    }

    async fn wait_for(&self, css: &str) -> String {
        let started = Instant::now();
        loop {
            if let Some(id) = self.try_find(css).await {
                return id;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "no element {css} on {}",
                self.url().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.cmd("POST", &format!("/element/{id}/clear"), None)
            .await;
        self.cmd(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.cmd("POST", &format!("/element/{id}/click"), None)
            .await;
    }

    async fn text(&self, css: &str) -> String {
        let id = self.find(css).await;
        self.cmd("GET", &format!("/element/{id}/text"), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    async fn run(&self, script: &str, args: Value) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
        .await
    }

    /// Waits until `css`'s text satisfies `ok`.
    async fn wait_text(&self, css: &str, ok: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        loop {
            let t = self.text(css).await;
            if ok(&t) {
                return t;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{css} still says {t:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn wait_url(&self, ok: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        loop {
            let u = self.url().await;
            if ok(&u) {
                return u;
            }
            assert!(started.elapsed() < Duration::from_secs(10), "still at {u}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Fetches the target of the link `css` in the page's session; its text (status 200).
    async fn download(&self, css: &str) -> String {
        let got = self
            .run(
                "const href = document.querySelector(arguments[0]).getAttribute('href');
                 return fetch(href, {credentials: 'same-origin'}).then(r => r.text().then(t => [r.status, t]))",
                json!([css]),
            )
            .await;
        assert_eq!(got[0], json!(200), "{got}");
        got[1].as_str().unwrap_or_default().to_string()
    }

    async fn screenshot(&self, name: &str) {
        let data = self.cmd("GET", "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().unwrap_or_default())
            .expect("base64 PNG");
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots");
        std::fs::create_dir_all(&dir).expect("screenshots dir");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }

    async fn quit(&self) {
        let full = format!("/session/{}", self.session);
        let _ = http(self.port, "DELETE", &full, None).await;
    }
}

/// Set up a campaign in the form (the saved segment of four, CHF 10 for 28 days, letters only,
/// a control group of 25 %), start it and read its results: one member is held back, three get
/// a voucher and a letter; one voucher redeemed shows in the figures and the chart.
async fn campaign_journey(d: &Driver, app: &App, base: &str, segment: i64) {
    d.go(&format!("{base}/ui/campaigns")).await;
    d.type_into("#f-name", "Herbstaktion").await;
    d.click(&format!("#f-segment_id option[value='{segment}']"))
        .await;
    d.click("#f-value_type option[value='amount']").await;
    d.type_into("#f-value", "10").await;
    d.type_into("#f-min_order", "0").await;
    d.type_into("#f-validity_days", "28").await;
    d.type_into("#f-control_share", "25").await;
    d.type_into("#f-seed", "7").await;
    // Email is ticked by default; nobody here consented to it.
    d.click("#f-channels input[value='email']").await;
    d.screenshot("campaign-form").await;
    d.click("#create-campaign").await;
    let url = d
        .wait_url(|u| {
            u.rsplit('/')
                .next()
                .is_some_and(|id| id.parse::<i64>().is_ok())
        })
        .await;
    assert!(d.text("h1").await.contains("Herbstaktion"));
    let settings = d.text("#settings").await;
    assert!(settings.contains("Alle Zürich"), "{settings}");
    assert!(settings.contains("CHF 10.00"), "{settings}");
    assert!(d.text("#results").await.contains("Noch nicht gestartet"));

    d.click("#start-campaign").await;
    d.wait_for("#issued").await;
    assert_eq!(d.url().await, url);
    assert_eq!(d.text("#issued").await, "3");
    assert_eq!(d.text("#redeemed").await, "0");
    // Members, target and control: four, three and one.
    let members = d
        .run(
            "return [...document.querySelectorAll('#groups tbody tr:first-child td')].map(td => td.textContent)",
            json!([]),
        )
        .await;
    assert_eq!(members, json!(["3", "1"]));
    assert!(d.text("#settings").await.contains("3 / 1 / 0"));
    let charts = d
        .run(
            "return document.querySelectorAll('#results svg').length",
            json!([]),
        )
        .await;
    assert_eq!(charts, json!(2), "two charts");
    // The lettershop file: a header and the three letters of the target group.
    let csv = d.download("a.lettershop").await;
    assert_eq!(csv.lines().count(), 4, "header and three letters: {csv}");

    // One letter's voucher is redeemed at a till: the results count it per day, in the chart.
    let header: Vec<&str> = csv.lines().next().unwrap_or_default().split(',').collect();
    let col = header
        .iter()
        .position(|h| *h == "voucher_code")
        .expect("a voucher_code column");
    let code = csv
        .lines()
        .nth(1)
        .and_then(|l| l.split(',').nth(col))
        .unwrap_or_default()
        .to_string();
    let use_req = serde_json::from_value(
        json!({"channel": "store", "store_code": "ZH01", "receipt_ref": "R-77"}),
    )
    .expect("use request");
    app.redeem_voucher(&Actor::cli(), &code, &use_req)
        .await
        .expect("redeem");
    d.go(&url).await;
    d.wait_text("#redeemed", |t| t == "1").await;
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let day = d.text("#days tbody tr").await;
    assert!(day.starts_with(&today) && day.contains(" 1"), "{day}");
    let bar = d
        .run(
            "return [...document.querySelectorAll('#results svg title')].map(t => t.textContent)",
            json!([]),
        )
        .await;
    assert!(
        bar.as_array()
            .is_some_and(|t| t.contains(&json!(format!("{}: 1", &today[5..])))),
        "{bar}"
    );
    d.run(
        "document.querySelector('#results .chart-card').scrollIntoView()",
        json!([]),
    )
    .await;
    d.screenshot("campaign").await;

    // The list counts them too.
    d.go(&format!("{base}/ui/campaigns")).await;
    let row = d.text("#campaigns tbody tr").await;
    assert!(
        row.contains("Herbstaktion") && row.contains("Alle Zürich"),
        "{row}"
    );
}

async fn customer(app: &App, first: &str, last: &str, postcode: &str, card: &str) -> String {
    let input = serde_json::from_value(json!({
        "kind": "person", "salutation": "Frau", "first_name": first, "last_name": last,
        "birth_date": "1980-02-29", "email": format!("{}.{}@example.ch", first.to_lowercase(), card),
        "phones": [{"kind": "mobile", "number": "+41791234567"}],
        "addresses": [{"street": "Bahnhofstrasse", "house_number": "12", "postcode": postcode, "city": "Zürich", "country": "CH"}],
        "card_numbers": [card], "preferred_channel": "letter",
        "consents": [{"channel": "letter", "status": "granted", "source": "pos"}]}))
    .expect("input");
    match app
        .create_customer(&Actor::cli(), input, None, DuplicateCheck::CreateAnyway)
        .await
        .expect("create")
    {
        Created::New(v) => v.customer_number,
        Created::Replayed { .. } => unreachable!(),
    }
}

/// The journeys make one large future; it runs on a thread with room for it.
#[test]
fn staff_journeys_in_chromium() {
    let run = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(Box::pin(journeys()))
        })
        .expect("thread");
    if let Err(panic) = run.join() {
        std::panic::resume_unwind(panic);
    }
}

async fn journeys() {
    let required = std::env::var("KUNDO_REQUIRE_BROWSER").is_ok_and(|v| !v.is_empty());
    let chromedriver = find_binary(&["/usr/bin/chromedriver"]);
    let chromium = find_binary(&["/usr/bin/chromium", "/usr/bin/chromium-browser"]);
    let (Some(chromedriver), Some(chromium)) = (chromedriver, chromium) else {
        assert!(
            !required,
            "KUNDO_REQUIRE_BROWSER is set but chromium or chromedriver is missing"
        );
        println!(
            "skipped: chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"
        );
        return;
    };

    // Kundo in this process, on a random port.
    let (store, _dir) = testing::sqlite().await;
    let app = App::new(store);
    app.create_user(&Actor::cli(), "anna.admin", "demo-password-1", Role::Admin)
        .await
        .expect("user");
    let anna = customer(&app, "Anna", "Müller", "8001", "2900123456785").await;
    let peter = customer(&app, "Peter", "Meier", "3011", "2900000000102").await;
    customer(&app, "Laura", "Keller", "8001", "2900000000103").await;
    customer(&app, "Jonas", "Brunner", "4051", "2900000000104").await;
    for n in [&anna, &peter] {
        app.adjust_points(&Actor::cli(), n, 1200, "Willkommensbonus")
            .await
            .expect("points");
    }
    // A saved segment for the campaign: everyone in Zürich (all four; the duplicate made and
    // merged below does not count once merged).
    let zurich = app
        .create_segment(
            &Actor::cli(),
            serde_json::from_value(json!({"name": "Alle Zürich", "kind": "dynamic",
                "definition": {"field": "city", "op": "eq", "value": "Zürich"}}))
            .expect("segment input"),
            chrono::Utc::now().date_naive(),
        )
        .await
        .expect("segment")
        .id;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(kundo_web::serve(
        listener,
        kundo_web::router(app.clone()),
        async move {
            let _ = stopped.await;
        },
    ));

    let d = Driver::start(&chromedriver, &chromium).await;

    // Log in.
    d.go(&format!("{base}/ui/search")).await;
    d.wait_url(|u| u.contains("/ui/login")).await;
    d.type_into("#username", "anna.admin").await;
    d.type_into("#password", "demo-password-1").await;
    d.screenshot("login").await;
    d.click("button[type=submit]").await;
    d.wait_url(|u| u.ends_with("/ui/search")).await;

    // Find a customer by typing: the list follows the keys without a submit.
    d.type_into("#q", "muell").await;
    let started = Instant::now();
    d.wait_text("#results", |t| t.contains(&anna)).await;
    println!("search as you type answered in {:?}", started.elapsed());
    d.screenshot("search").await;
    d.click(&format!("#results a[href='/ui/customers/{anna}']"))
        .await;
    d.wait_url(|u| u.ends_with(&format!("/ui/customers/{anna}")))
        .await;
    assert!(d.text("h1").await.contains("Anna Müller"));
    d.screenshot("customer").await;

    // Create a customer and meet the duplicate warning; create anyway.
    d.go(&format!("{base}/ui/customers/new")).await;
    for (id, v) in [
        ("#f-first_name", "Anna"),
        ("#f-last_name", "Mueller"),
        ("#f-addresses-0-street", "Bahnhofstrasse"),
        ("#f-addresses-0-house_number", "12"),
        ("#f-addresses-0-postcode", "8001"),
        ("#f-addresses-0-city", "Zürich"),
    ] {
        d.type_into(id, v).await;
    }
    // A date input takes its value in the locale's format when typed; set it directly.
    d.run(
        "document.querySelector('#f-birth_date').value = '1980-02-29'",
        json!([]),
    )
    .await;
    d.click("#create").await;
    if d.try_find("#duplicates").await.is_none() {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let page = d.text("main").await;
        assert!(d.try_find("#duplicates").await.is_some(), "{page}");
    }
    assert!(d.text("#duplicates").await.contains(&anna));
    d.screenshot("duplicate-warning").await;
    d.click("#force").await;
    let url = d
        .wait_url(|u| u.contains("/ui/customers/") && !u.ends_with("/new"))
        .await;
    let second = url.rsplit('/').next().unwrap_or_default().to_string();
    assert_ne!(second, anna);

    // Merge the two: keep the new spelling of the last name.
    d.go(&format!("{base}/ui/merge?a={anna}&b={second}")).await;
    d.click("#m-last_name-d").await;
    d.click("#preview").await;
    d.wait_for("#merge-preview").await;
    assert!(d.text("#merge-preview").await.contains("Mueller"));
    d.screenshot("merge").await;
    d.click("#confirm").await;
    d.wait_url(|u| u.ends_with(&format!("/ui/customers/{anna}")))
        .await;
    assert_eq!(
        app.customer(&second).await.expect("merged").customer_number,
        anna
    );

    // Build a segment by clicking and see the live count: postcode 8001 → Anna and Laura.
    d.go(&format!("{base}/ui/segments/new")).await;
    d.click(".add-cond").await;
    d.wait_text("#seg-count", |t| t == "2").await;
    d.type_into("#f-name", "PLZ 8001").await;
    d.screenshot("segment-builder").await;
    d.click("#save-segment").await;
    d.wait_url(|u| u.ends_with("/ui/segments")).await;
    assert!(d.text("#segments").await.contains("PLZ 8001"));

    // Open it again: the builder shows the saved condition and its count. A nested group that
    // is negated (NOT 8001 within 8001) leaves nobody; saved as a static list.
    let edit = d
        .run(
            "return [...document.querySelectorAll('#segments a')].find(a => a.textContent === 'PLZ 8001').getAttribute('href')",
            json!([]),
        )
        .await;
    d.click(&format!(
        "#segments a[href='{}']",
        edit.as_str().unwrap_or_default()
    ))
    .await;
    d.wait_text("#seg-count", |t| t == "2").await;
    assert_eq!(
        d.run(
            "return document.querySelectorAll('#tree .cond').length",
            json!([])
        )
        .await,
        json!(1)
    );
    d.click("#tree .add-and").await;
    d.click("#tree .group .group input.negate").await;
    d.wait_text("#seg-count", |t| t == "0").await;
    let definition = d
        .run(
            "return document.querySelector('textarea[name=definition]').value",
            json!([]),
        )
        .await;
    assert!(
        definition
            .as_str()
            .unwrap_or_default()
            .contains(r#"{"not":{"and":"#),
        "{definition}"
    );
    d.screenshot("segment-not").await;
    d.click("#save-static").await;
    d.wait_url(|u| u.ends_with("/ui/segments")).await;
    let row = d.text("#segments tbody tr:nth-child(2)").await;
    assert!(
        row.contains("PLZ 8001") && row.contains("statisch"),
        "{row}"
    );

    // Start a bonus run and download the lettershop file.
    d.go(&format!("{base}/ui/runs")).await;
    // The month that just ended (a bonus run is for it or for the current month).
    let last_month = app
        .company_today()
        .with_day(1)
        .and_then(|d| d.pred_opt())
        .unwrap()
        .format("%Y-%m")
        .to_string();
    d.type_into("#f-period", &last_month).await;
    d.click("#start-bonus").await;
    d.wait_for("#run-message").await;
    let csv = d.download("a.lettershop").await;
    assert!(csv.lines().count() >= 3, "header and two letters: {csv}");
    assert!(csv.contains("Meier"), "{csv}");
    d.screenshot("runs").await;

    d.go(&format!("{base}/ui/dashboard")).await;
    d.wait_for("svg.chart").await;
    d.screenshot("dashboard").await;

    campaign_journey(&d, &app, &base, zurich).await;

    // Admin: a points rules version through the form, listed above it.
    d.go(&format!("{base}/ui/admin")).await;
    d.type_into("#f-minor_units_per_point", "50").await;
    d.type_into("#f-category_multipliers", "Papier=200").await;
    d.click("#save-rules").await;
    d.wait_for("#rules").await;
    assert!(d.text("#rules").await.contains("Papier 200 %"));
    d.run(
        "document.getElementById('h-rules').scrollIntoView()",
        json!([]),
    )
    .await;
    d.screenshot("admin").await;

    d.quit().await;
    let _ = stop.send(());
    let _ = server.await;
}
