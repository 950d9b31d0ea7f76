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

    // Start a bonus run and download the lettershop file.
    d.go(&format!("{base}/ui/runs")).await;
    d.type_into("#f-period", "2026-10").await;
    d.click("#start-bonus").await;
    d.wait_for("#run-message").await;
    let href = d
        .run(
            "return document.querySelector('a.lettershop').getAttribute('href')",
            json!([]),
        )
        .await;
    let got = d
        .run(
            "return fetch(arguments[0], {credentials: 'same-origin'}).then(r => r.text().then(t => [r.status, r.headers.get('content-type'), t]))",
            json!([href]),
        )
        .await;
    assert_eq!(got[0], json!(200), "{got}");
    let csv = got[2].as_str().unwrap_or_default();
    assert!(csv.lines().count() >= 3, "header and two letters: {csv}");
    assert!(csv.contains("Meier"), "{csv}");
    d.screenshot("runs").await;

    d.go(&format!("{base}/ui/dashboard")).await;
    d.wait_for("svg.chart").await;
    d.screenshot("dashboard").await;

    d.quit().await;
    let _ = stop.send(());
    let _ = server.await;
}
