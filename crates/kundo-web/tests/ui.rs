//! The staff UI through the router (no socket): login and logout, redirects without a session,
//! CSRF refusal, what each role sees and may do, validation errors at the field, stale edits,
//! the duplicate warning, merge, the bonus run and its lettershop file, and the render time of
//! a customer with a long timeline — on SQLite and PostgreSQL.

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use kundo_app::customers::{Created, DuplicateCheck};
use kundo_app::timeline::ActivityInput;
use kundo_app::{Actor, App};
use kundo_core::auth::Role;
use kundo_store::testing;
use tower::ServiceExt;

struct Ui {
    router: Router,
    app: App,
    db: &'static str,
    _dir: Option<testing::TempDir>,
}

struct Page {
    status: StatusCode,
    location: String,
    cookies: Vec<String>,
    body: String,
}

struct Session {
    cookie: String,
    csrf: String,
}

impl Ui {
    /// One UI per backend: SQLite always, PostgreSQL when configured.
    async fn all() -> Vec<Ui> {
        Self::all_on(None).await
    }

    /// The same, with "today" fixed when given (runs are dated near today).
    async fn all_on(today: Option<chrono::NaiveDate>) -> Vec<Ui> {
        let mut out = Vec::new();
        for (store, dir) in testing::all().await {
            let db = store.backend().name();
            let app = App::new(store);
            let app = match today {
                Some(day) => app.with_today(day),
                None => app,
            };
            out.push(Ui {
                router: kundo_web::router(app.clone()),
                app,
                db,
                _dir: dir,
            });
        }
        out
    }

    async fn user(&self, name: &str, role: Role) -> Session {
        self.app
            .create_user(&Actor::cli(), name, "secret-password-1", role)
            .await
            .unwrap();
        let s = self.app.login(name, "secret-password-1").await.unwrap();
        Session {
            cookie: format!("kundo_session={}", s.token),
            csrf: s.csrf_token,
        }
    }

    async fn send(&self, req: Request<Body>) -> Page {
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let location = res
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let cookies = res
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        Page {
            status,
            location,
            cookies,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn get(&self, path: &str, s: Option<&Session>) -> Page {
        let mut req = Request::builder().uri(path);
        if let Some(s) = s {
            req = req.header(header::COOKIE, &s.cookie);
        }
        self.send(req.body(Body::empty()).unwrap()).await
    }

    async fn post(&self, path: &str, s: &Session, fields: &[(&str, &str)]) -> Page {
        let body = serde_urlencoded::to_string(fields).unwrap();
        let req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::COOKIE, &s.cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    /// A post as the script sends it: the body as is, the CSRF token in the header.
    async fn script_post(&self, path: &str, s: &Session, content_type: &str, body: String) -> Page {
        let req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::COOKIE, &s.cookie)
            .header("x-csrf-token", &s.csrf)
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    /// A form post with the session's CSRF token.
    async fn form(&self, path: &str, s: &Session, fields: &[(&str, &str)]) -> Page {
        self.post(path, s, &with_csrf(s, fields)).await
    }

    async fn customer(&self, first: &str, last: &str, email: &str, card: &str) -> String {
        let input = serde_json::from_value(serde_json::json!({
            "kind": "person", "first_name": first, "last_name": last, "email": email,
            "birth_date": "1980-02-29",
            "addresses": [{"street": "Bahnhofstrasse", "house_number": "12", "postcode": "8001", "city": "Zürich", "country": "CH"}],
            "card_numbers": [card]}))
        .unwrap();
        match self
            .app
            .create_customer(&Actor::cli(), input, None, DuplicateCheck::CreateAnyway)
            .await
            .unwrap()
        {
            Created::New(v) => v.customer_number,
            Created::Replayed { .. } => unreachable!(),
        }
    }
}

fn with_csrf<'a>(s: &'a Session, fields: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut v = vec![("csrf", s.csrf.as_str())];
    v.extend_from_slice(fields);
    v
}

#[tokio::test]
async fn pages_need_a_login_and_the_login_form_works() {
    for ui in Ui::all().await {
        let db = ui.db;
        let p = ui.get("/ui/search?q=abc", None).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{db}");
        assert_eq!(p.location, "/ui/login?next=/ui/search%3Fq%3Dabc", "{db}");
        let p = ui.get("/", None).await;
        assert_eq!(p.location, "/ui", "{db}");
        // Static files and the login page are public.
        assert_eq!(
            ui.get("/static/app.css", None).await.status,
            StatusCode::OK,
            "{db}"
        );
        assert!(
            ui.get("/static/app.js", None)
                .await
                .body
                .contains("data-live"),
            "{db}"
        );

        ui.app
            .create_user(&Actor::cli(), "anna", "secret-password-1", Role::Service)
            .await
            .unwrap();
        let form = ui.get("/ui/login?next=/ui/tasks", None).await;
        assert_eq!(form.status, StatusCode::OK, "{db}");
        assert!(form.body.contains(r#"<label for="username">"#), "{db}");
        let token = form.body.split(r#"name="csrf" value=""#).nth(1).unwrap();
        let token = token.split('"').next().unwrap().to_string();
        let cookie = format!("kundo_login_csrf={token}");
        let login = |password: &'static str, csrf: String| {
            let body = serde_urlencoded::to_string([
                ("csrf", csrf.as_str()),
                ("next", "/ui/tasks"),
                ("username", "anna"),
                ("password", password),
            ])
            .unwrap();
            Request::builder()
                .method(Method::POST)
                .uri("/ui/login")
                .header(header::COOKIE, cookie.clone())
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap()
        };
        let bad_token = ui.send(login("secret-password-1", "forged".into())).await;
        assert_eq!(bad_token.status, StatusCode::FORBIDDEN, "{db}");
        let wrong = ui.send(login("wrong-password", token.clone())).await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{db}");
        assert!(
            wrong.body.contains("Benutzername oder Passwort ist falsch"),
            "{db}"
        );
        let ok = ui.send(login("secret-password-1", token)).await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{db}: {}", ok.body);
        assert_eq!(ok.location, "/ui/tasks", "{db}");
        let session = ok
            .cookies
            .iter()
            .find(|c| c.starts_with("kundo_session="))
            .unwrap();
        let session = Session {
            cookie: session.split(';').next().unwrap().to_string(),
            csrf: String::new(),
        };
        let tasks = ui.get("/ui/tasks", Some(&session)).await;
        assert_eq!(tasks.status, StatusCode::OK, "{db}");
        let csrf = tasks
            .body
            .split(r#"name="csrf-token" content=""#)
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        let session = Session {
            csrf,
            cookie: session.cookie,
        };
        // Logging out ends the session: the next page asks for a login again.
        let out = ui
            .post("/ui/logout", &session, &with_csrf(&session, &[]))
            .await;
        assert_eq!(out.status, StatusCode::SEE_OTHER, "{db}");
        assert_eq!(
            ui.get("/ui/tasks", Some(&session)).await.status,
            StatusCode::SEE_OTHER,
            "{db}"
        );
    }
}

#[tokio::test]
async fn a_form_post_without_the_right_csrf_token_is_refused() {
    for ui in Ui::all().await {
        let db = ui.db;
        let s = ui.user("svc", Role::Service).await;
        let n = ui
            .customer("Anna", "Müller", "anna@example.ch", "2900123456785")
            .await;
        let path = format!("/ui/customers/{n}");
        for token in ["", "0000"] {
            let p = ui
                .post(
                    &path,
                    &s,
                    &[("csrf", token), ("version", "1"), ("first_name", "Eve")],
                )
                .await;
            assert_eq!(p.status, StatusCode::FORBIDDEN, "{db}: token {token:?}");
            assert!(p.body.contains("Sicherheitsprüfung"), "{db}");
        }
        let v = ui.app.customer(&n).await.unwrap();
        assert_eq!(v.first_name.as_deref(), Some("Anna"), "{db}");
        // With the token the same change goes through.
        let p = ui
            .post(
                &path,
                &s,
                &with_csrf(&s, &[("version", "1"), ("first_name", "Anne")]),
            )
            .await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{db}: {}", p.body);
        assert_eq!(
            ui.app.customer(&n).await.unwrap().first_name.as_deref(),
            Some("Anne"),
            "{db}"
        );
    }
}

#[tokio::test]
async fn roles_decide_menus_and_pages() {
    for ui in Ui::all().await {
        let db = ui.db;
        let store = ui.user("clerk", Role::Store).await;
        let marketing = ui.user("mkt", Role::Marketing).await;
        let n = ui
            .customer("Anna", "Müller", "anna@example.ch", "2900123456785")
            .await;

        let search = ui.get("/ui/search", Some(&store)).await;
        assert_eq!(search.status, StatusCode::OK, "{db}");
        assert!(
            !search.body.contains("/ui/segments"),
            "{db}: no segment menu"
        );
        assert!(!search.body.contains("/ui/runs"), "{db}");
        assert!(!search.body.contains("/ui/customers/new"), "{db}");
        for path in [
            "/ui/segments",
            "/ui/segments/new",
            "/ui/dashboard",
            "/ui/runs",
            "/ui/tasks",
            "/ui/customers/new",
        ] {
            let p = ui.get(path, Some(&store)).await;
            assert_eq!(p.status, StatusCode::FORBIDDEN, "{db}: {path}");
            assert!(!p.body.contains("<table"), "{db}: {path} shows no data");
        }
        // The API behind the builder refuses the store as well.
        let api = Request::builder()
            .uri("/api/v1/segments")
            .header(header::COOKIE, &store.cookie)
            .body(Body::empty())
            .unwrap();
        assert_eq!(ui.send(api).await.status, StatusCode::FORBIDDEN, "{db}");
        // The store sees the customer, without the edit form, and cannot post a change.
        let view = ui.get(&format!("/ui/customers/{n}"), Some(&store)).await;
        assert_eq!(view.status, StatusCode::OK, "{db}");
        assert!(view.body.contains("Müller"), "{db}");
        assert!(!view.body.contains(r#"id="edit-form""#), "{db}");
        let p = ui
            .post(
                &format!("/ui/customers/{n}"),
                &store,
                &with_csrf(&store, &[("version", "1"), ("first_name", "Eve")]),
            )
            .await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{db}");

        // Marketing sees segments and runs but cannot change customers.
        let seg = ui.get("/ui/segments", Some(&marketing)).await;
        assert_eq!(seg.status, StatusCode::OK, "{db}");
        assert!(seg.body.contains("/ui/segments/new"), "{db}");
        assert!(seg.body.contains(r#"href="/ui/runs""#), "{db}");
        assert!(!seg.body.contains(r#"href="/ui/customers/new""#), "{db}");
        let dash = ui.get("/ui/dashboard", Some(&marketing)).await;
        assert_eq!(dash.status, StatusCode::OK, "{db}");
        assert_eq!(dash.body.matches("<svg").count(), 8, "{db}: eight charts");
        assert!(dash.body.contains("<title>"), "{db}: numbers on hover");
        assert!(
            dash.body.contains("Bewertungslauf"),
            "{db}: a note without scores"
        );
        assert_eq!(
            ui.get("/ui/customers/new", Some(&marketing)).await.status,
            StatusCode::FORBIDDEN,
            "{db}"
        );
    }
}

#[tokio::test]
async fn validation_errors_are_shown_at_their_fields_and_stale_edits_are_explained() {
    for ui in Ui::all().await {
        let db = ui.db;
        let s = ui.user("svc", Role::Service).await;
        let n = ui
            .customer("Anna", "Müller", "anna@example.ch", "2900123456785")
            .await;
        let path = format!("/ui/customers/{n}");
        let view = ui.get(&path, Some(&s)).await;
        assert!(view.body.contains(r#"<label for="f-email">"#), "{db}");
        assert!(
            view.body
                .contains(r#"<label for="f-addresses-0-postcode">"#),
            "{db}"
        );

        let p = ui
            .post(
                &path,
                &s,
                &with_csrf(
                    &s,
                    &[
                        ("version", "1"),
                        ("first_name", "Anna"),
                        ("last_name", "Müller"),
                        ("email", "not-an-address"),
                        ("addresses[0].street", "Bahnhofstrasse"),
                        ("addresses[0].postcode", "80"),
                        ("addresses[0].city", "Zürich"),
                        ("addresses[0].country", "CH"),
                    ],
                ),
            )
            .await;
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{db}");
        assert!(
        p.body
            .contains(r#"id="f-email" name="email" type="email" value="not-an-address" aria-invalid="true" aria-describedby="f-email-err""#),
        "{db}: {}",
        p.body
    );
        assert!(
            p.body.contains(r#"<span class="error" id="f-email-err">"#),
            "{db}"
        );
        assert!(
            p.body
                .contains(r#"<span class="error" id="f-addresses-0-postcode-err">"#),
            "{db}"
        );
        assert_eq!(
            ui.app.customer(&n).await.unwrap().email.as_deref(),
            Some("anna@example.ch"),
            "{db}"
        );

        // A change made meanwhile makes the form stale.
        let ok = ui
            .post(
                &path,
                &s,
                &with_csrf(&s, &[("version", "1"), ("first_name", "Anne")]),
            )
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{db}");
        let stale = ui
            .post(
                &path,
                &s,
                &with_csrf(&s, &[("version", "1"), ("first_name", "Annette")]),
            )
            .await;
        assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED, "{db}");
        assert!(
            stale
                .body
                .contains("inzwischen von jemand anderem geändert"),
            "{db}"
        );
        assert!(
            stale.body.contains(r#"value="Annette""#),
            "{db}: the input is kept"
        );

        // Logging a contact: an empty subject is named at its field; a good one lands on top.
        let bad = ui
            .post(
                &format!("{path}/activities"),
                &s,
                &with_csrf(&s, &[("kind", "call"), ("subject", "")]),
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{db}");
        assert!(bad.body.contains(r#"id="f-subject-err""#), "{db}");
        let good = ui
            .post(
                &format!("{path}/activities"),
                &s,
                &with_csrf(&s, &[("kind", "call"), ("subject", "Rückruf wegen Karte")]),
            )
            .await;
        assert_eq!(good.status, StatusCode::SEE_OTHER, "{db}");
        let view = ui.get(&path, Some(&s)).await;
        assert!(view.body.contains("Rückruf wegen Karte"), "{db}");
        // In English on request.
        let en = Session {
            cookie: format!("{}; kundo_lang=en", s.cookie),
            csrf: s.csrf.clone(),
        };
        assert!(
            ui.get(&path, Some(&en))
                .await
                .body
                .contains("Contact history"),
            "{db}"
        );
    }
}

#[tokio::test]
async fn search_new_customer_with_duplicate_warning_and_merge() {
    for ui in Ui::all().await {
        let db = ui.db;
        let s = ui.user("svc", Role::Service).await;
        let n = ui
            .customer("Anna", "Müller", "anna@example.ch", "2900123456785")
            .await;
        let hits = ui.get("/ui/search/results?q=mueller", Some(&s)).await;
        assert_eq!(hits.status, StatusCode::OK, "{db}");
        assert!(hits.body.contains(&n), "{db}: {}", hits.body);
        assert!(!hits.body.contains("<html"), "{db}: a fragment");
        let page = ui.get("/ui/search?q=8001", Some(&s)).await;
        assert!(page.body.contains(&n), "{db}");

        let fields = [
            ("first_name", "Anna"),
            ("last_name", "Mueller"),
            ("birth_date", "1980-02-29"),
            ("email", "anna@example.ch"),
            ("addresses[0].street", "Bahnhofstrasse"),
            ("addresses[0].house_number", "12"),
            ("addresses[0].postcode", "8001"),
            ("addresses[0].city", "Zürich"),
            ("addresses[0].country", "CH"),
        ];
        let warn = ui.post("/ui/customers", &s, &with_csrf(&s, &fields)).await;
        assert_eq!(warn.status, StatusCode::CONFLICT, "{db}");
        assert!(warn.body.contains("Mögliche Dubletten gefunden"), "{db}");
        assert!(warn.body.contains(&format!("/ui/customers/{n}")), "{db}");
        assert!(warn.body.contains(r#"name="force" value="1""#), "{db}");
        assert!(
            warn.body.contains(r#"value="Mueller""#),
            "{db}: the input is kept"
        );
        let mut forced = with_csrf(&s, &fields);
        forced.push(("force", "1"));
        let created = ui.post("/ui/customers", &s, &forced).await;
        assert_eq!(
            created.status,
            StatusCode::SEE_OTHER,
            "{db}: {}",
            created.body
        );
        let second = created
            .location
            .trim_start_matches("/ui/customers/")
            .to_string();
        assert_ne!(second, n, "{db}");

        let merge = ui
            .get(&format!("/ui/merge?a={n}&b={second}"), Some(&s))
            .await;
        assert_eq!(merge.status, StatusCode::OK, "{db}");
        assert!(
            merge
                .body
                .contains(r#"name="field.last_name" value="duplicate""#),
            "{db}"
        );
        let choice = [
            ("a", n.as_str()),
            ("b", second.as_str()),
            ("field.last_name", "duplicate"),
        ];
        let preview = ui
            .post("/ui/merge/preview", &s, &with_csrf(&s, &choice))
            .await;
        assert_eq!(preview.status, StatusCode::OK, "{db}");
        assert!(preview.body.contains(r#"id="merge-preview""#), "{db}");
        let done = ui.post("/ui/merge", &s, &with_csrf(&s, &choice)).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{db}: {}", done.body);
        assert_eq!(done.location, format!("/ui/customers/{n}"), "{db}");
        let v = ui.app.customer(&n).await.unwrap();
        assert_eq!(v.last_name.as_deref(), Some("Mueller"), "{db}");
        assert_eq!(
            ui.app.customer(&second).await.unwrap().customer_number,
            n,
            "{db}"
        );
    }
}

#[tokio::test]
async fn bonus_run_from_the_runs_page_with_the_period_checked() {
    // 5 December 2026: November has just ended, October is over for good.
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
    for ui in Ui::all_on(Some(today)).await {
        let db = ui.db;
        let admin = ui.user("boss", Role::Admin).await;
        let page = ui.get("/ui/runs", Some(&admin)).await;
        assert!(
            page.body.contains(r#"value="2026-11""#),
            "{db}: the month that just ended is proposed"
        );
        for period in ["2026-13", "2026-10", "2027-01"] {
            let bad = ui
                .post(
                    "/ui/runs/bonus",
                    &admin,
                    &with_csrf(&admin, &[("period", period)]),
                )
                .await;
            assert_eq!(
                bad.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{db}: {period}"
            );
            assert!(bad.body.contains(r#"id="f-period-err""#), "{db}: {period}");
        }
        let ok = ui
            .post(
                "/ui/runs/bonus",
                &admin,
                &with_csrf(&admin, &[("period", "2026-11")]),
            )
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{db}: {}", ok.body);
        let page = ui.get(&ok.location, Some(&admin)).await;
        assert!(page.body.contains("2026-11"), "{db}");
        assert!(page.body.contains(r#"id="run-message""#), "{db}");
    }
}

#[tokio::test]
async fn a_failed_run_shows_its_error_on_the_runs_page() {
    for ui in Ui::all().await {
        let db = ui.db;
        let admin = ui.user("boss", Role::Admin).await;
        let n = ui
            .customer("Anna", "Müller", "anna@example.ch", "2900123456785")
            .await;
        ui.app
            .adjust_points(&Actor::cli(), &n, 700, "test")
            .await
            .unwrap();
        testing::refuse_inserts(&ui.app.store, "vouchers", "1 = 1").await;
        let period = ui.app.company_today().format("%Y-%m").to_string();
        ui.post(
            "/ui/runs/bonus",
            &admin,
            &with_csrf(&admin, &[("period", period.as_str())]),
        )
        .await;
        let page = ui.get("/ui/runs", Some(&admin)).await;
        let row = page
            .body
            .split("<td>bonus</td>")
            .nth(1)
            .and_then(|r| r.split("</tr>").next())
            .unwrap();
        assert!(
            row.contains(r#"<td class="run-failed">failed<div class="error">"#)
                && row.contains("injected failure")
                && row.contains("Erneut starten setzt den Lauf dort fort"),
            "{db}: {row}"
        );
    }
}

#[tokio::test]
async fn a_customer_with_a_thousand_timeline_entries_renders_quickly() {
    for ui in Ui::all().await {
        let db = ui.db;
        let s = ui.user("svc", Role::Service).await;
        let n = ui
            .customer("Anna", "Müller", "anna@example.ch", "2900123456785")
            .await;
        for i in 0..1000 {
            let input = ActivityInput {
                kind: ["call", "visit", "note"][i % 3].into(),
                channel: None,
                direction: None,
                subject: format!("Kontakt {i}"),
                body: Some("Notiz".into()),
                occurred_at: Some(format!(
                    "2026-{:02}-{:02}T10:{:02}:00Z",
                    1 + i % 10,
                    1 + i % 28,
                    i % 60
                )),
            };
            ui.app.log_activity(&Actor::cli(), &n, input).await.unwrap();
        }
        let path = format!("/ui/customers/{n}");
        let _ = ui.get(&path, Some(&s)).await; // warm the caches
        let mut best = Duration::MAX;
        for _ in 0..5 {
            let started = Instant::now();
            let p = ui.get(&path, Some(&s)).await;
            best = best.min(started.elapsed());
            assert_eq!(p.status, StatusCode::OK, "{db}");
            assert!(p.body.contains("Ältere Einträge"), "{db}: paginated");
        }
        println!("customer view with 1000 timeline entries: {best:?}");
        assert!(best < Duration::from_secs(2), "{db}: {best:?}");
        // Filtered by kind, the next page link keeps the filter.
        let calls = ui.get(&format!("{path}?kind=call"), Some(&s)).await;
        let more = calls.body.split("rel=\"next\"").next().unwrap();
        assert!(
            more.contains("kind=call&#38;cursor=") || more.contains("kind=call&amp;cursor="),
            "{db}"
        );
        assert!(
            !calls.body.contains("<span class=\"tag\">visit</span>"),
            "{db}"
        );
    }
}

#[tokio::test]
async fn admin_creates_users_and_shows_a_new_key_once() {
    for ui in Ui::all().await {
        let db = ui.db;
        let admin = ui.user("boss", Role::Admin).await;
        let marketing = ui.user("mkt", Role::Marketing).await;
        assert_eq!(
            ui.get("/ui/admin", Some(&marketing)).await.status,
            StatusCode::FORBIDDEN,
            "{db}"
        );
        let short = ui
            .post(
                "/ui/admin/users",
                &admin,
                &with_csrf(
                    &admin,
                    &[
                        ("username", "eva"),
                        ("password", "short"),
                        ("role", "store"),
                    ],
                ),
            )
            .await;
        assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY, "{db}");
        assert!(short.body.contains(r#"id="f-password-err""#), "{db}");
        assert!(
            !short.body.contains(r#"value="short""#),
            "{db}: no password echoed"
        );
        let ok = ui
            .post(
                "/ui/admin/users",
                &admin,
                &with_csrf(
                    &admin,
                    &[
                        ("username", "eva"),
                        ("password", "long-enough-1"),
                        ("role", "store"),
                    ],
                ),
            )
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{db}");
        let none = ui
            .post(
                "/ui/admin/api-keys",
                &admin,
                &with_csrf(&admin, &[("name", "pos-zh01")]),
            )
            .await;
        assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY, "{db}");
        assert!(none.body.contains(r#"id="scopes-err""#), "{db}");
        let key = ui
            .post(
                "/ui/admin/api-keys",
                &admin,
                &with_csrf(
                    &admin,
                    &[
                        ("name", "pos-zh01"),
                        ("scopes", "customers:read"),
                        ("scopes", "receipts:write"),
                    ],
                ),
            )
            .await;
        assert_eq!(key.status, StatusCode::CREATED, "{db}");
        let secret = key
            .body
            .split("<code>kd_")
            .nth(1)
            .and_then(|s| s.split('<').next())
            .map(|s| format!("kd_{s}"))
            .unwrap();
        assert!(
            ui.app.authenticate_key(&secret).await.unwrap().is_some(),
            "{db}: the shown key works"
        );
        let later = ui.get("/ui/admin", Some(&admin)).await;
        assert!(!later.body.contains(&secret), "{db}: shown once");
        assert!(later.body.contains("pos-zh01"), "{db}");
        assert!(
            later.body.contains("apikey.created"),
            "{db}: in the audit log"
        );
        assert!(later.body.contains("eva"), "{db}");
    }
}

#[tokio::test]
async fn tasks_inbox_and_postal_returns() {
    for ui in Ui::all().await {
        let db = ui.db;
        let s = ui.user("svc", Role::Service).await;
        let n = ui
            .customer("Anna", "Müller", "anna@example.ch", "2900123456785")
            .await;
        let input = serde_json::from_value(
            serde_json::json!({"kind": "callback", "title": "Rückruf Karte",
        "team": "service", "customer_number": n}),
        )
        .unwrap();
        let task = ui.app.create_task(&Actor::cli(), input).await.unwrap();
        let inbox = ui.get("/ui/tasks?team=service&status=open", Some(&s)).await;
        assert!(inbox.body.contains("Rückruf Karte"), "{db}");
        let other = ui.get("/ui/tasks?team=marketing", Some(&s)).await;
        assert!(!other.body.contains("Rückruf Karte"), "{db}");
        let path = format!("/ui/tasks/{}", task.id);
        let changed = ui
            .post(
                &format!("{path}/status"),
                &s,
                &with_csrf(&s, &[("version", "1"), ("status", "in_progress")]),
            )
            .await;
        assert_eq!(
            changed.status,
            StatusCode::SEE_OTHER,
            "{db}: {}",
            changed.body
        );
        let stale = ui
            .post(
                &format!("{path}/status"),
                &s,
                &with_csrf(&s, &[("version", "1"), ("status", "done")]),
            )
            .await;
        assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED, "{db}");
        let empty = ui
            .post(
                &format!("{path}/comments"),
                &s,
                &with_csrf(&s, &[("body", " ")]),
            )
            .await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY, "{db}");
        assert!(empty.body.contains(r#"id="f-body-err""#), "{db}");
        ui.post(
            &format!("{path}/comments"),
            &s,
            &with_csrf(&s, &[("body", "Kundin zurückgerufen")]),
        )
        .await;
        let page = ui.get(&path, Some(&s)).await;
        assert!(page.body.contains("Kundin zurückgerufen"), "{db}");
        assert!(
            page.body
                .contains(r#"<option value="in_progress" selected>"#),
            "{db}"
        );

        let csv = format!("customer_number,reason\n{n},unbekannt verzogen\n99999999,verstorben\n");
        let report = ui
            .post("/ui/postal-returns", &s, &with_csrf(&s, &[("csv", &csv)]))
            .await;
        assert_eq!(report.status, StatusCode::OK, "{db}");
        assert!(
            report.body.contains(r#"id="report""#),
            "{db}: {}",
            report.body
        );
        assert!(
            report.body.contains("99999999"),
            "{db}: unmatched line shown"
        );
        let bad = ui
            .post(
                "/ui/postal-returns",
                &s,
                &with_csrf(&s, &[("csv", "customer_number,reason\n1,kein Grund\n")]),
            )
            .await;
        assert!(
            bad.body.contains("<td>2</td><td>reason</td>"),
            "{db}: {}",
            bad.body
        );
        // The script's upload: the file's bytes as the body, the token in the header.
        let raw = ui
            .script_post("/ui/postal-returns", &s, "text/csv", csv.clone())
            .await;
        assert!(raw.body.contains(r#"id="report""#), "{db}");
    }
}

#[tokio::test]
async fn campaign_created_through_the_form_started_and_its_results_shown() {
    for ui in Ui::all().await {
        let db = ui.db;
        let mkt = ui.user("mkt", Role::Marketing).await;
        let store = ui.user("clerk", Role::Store).await;
        // Two with email consent get a voucher; one without any consent is unreachable.
        for (i, first) in ["Anna", "Beat", "Cora"].iter().enumerate() {
            let consents = if i < 2 {
                serde_json::json!([{"channel": "email", "status": "granted", "source": "doi"}])
            } else {
                serde_json::json!([])
            };
            let input = serde_json::from_value(serde_json::json!({
            "kind": "person", "first_name": first, "last_name": "Muster",
            "email": format!("{first}@example.ch"), "consents": consents,
            "addresses": [{"street": "Limmatquai", "house_number": i.to_string(), "postcode": "8001", "city": "Zürich", "country": "CH"}]}))
        .unwrap();
            ui.app
                .create_customer(&Actor::cli(), input, None, DuplicateCheck::CreateAnyway)
                .await
                .unwrap();
        }
        // A segment through the builder's form.
        let seg = ui
            .post(
                "/ui/segments",
                &mkt,
                &with_csrf(
                    &mkt,
                    &[
                        ("name", "Zürich"),
                        ("kind", "dynamic"),
                        (
                            "definition",
                            r#"{"field": "city", "op": "eq", "value": "Zürich"}"#,
                        ),
                    ],
                ),
            )
            .await;
        assert_eq!(seg.status, StatusCode::SEE_OTHER, "{db}: {}", seg.body);
        let segment_id = ui.app.segments(None, 10).await.unwrap().items[0]
            .id
            .to_string();

        // The list with the form: the segment is a choice, the menu has the entry.
        let list = ui.get("/ui/campaigns", Some(&mkt)).await;
        assert_eq!(list.status, StatusCode::OK, "{db}");
        assert!(
            list.body.contains(r#"href="/ui/campaigns""#),
            "{db}: menu entry"
        );
        assert!(
            list.body
                .contains(&format!(r#"<option value="{segment_id}">Zürich</option>"#)),
            "{db}"
        );
        assert!(
            list.body.contains(r#"<label for="f-control_share">"#),
            "{db}"
        );

        // Errors land at their inputs: a number the form cannot read, then the use case's own.
        let mut fields = vec![
            ("name", "Herbst"),
            ("segment_id", segment_id.as_str()),
            ("value_type", "amount"),
            ("value", "zehn"),
            ("min_order", "50"),
            ("validity_days", "28"),
            ("voucher_channels", "both"),
            ("channels", "email"),
            ("channels", "letter"),
            ("control_share", "0"),
            ("seed", "42"),
        ];
        let bad = ui
            .post("/ui/campaigns", &mkt, &with_csrf(&mkt, &fields))
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{db}");
        assert!(
            bad.body.contains(r#"id="f-value-err""#),
            "{db}: {}",
            bad.body
        );
        assert!(
            bad.body.contains(r#"value="Herbst""#),
            "{db}: the input is kept"
        );
        fields[3] = ("value", "10");
        fields[5] = ("validity_days", "400");
        let bad = ui
            .post("/ui/campaigns", &mkt, &with_csrf(&mkt, &fields))
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{db}");
        assert!(
            bad.body.contains(r#"id="f-validity_days-err""#),
            "{db}: {}",
            bad.body
        );
        assert!(bad.body.contains("366"), "{db}: the use case's message");
        let no_channel: Vec<_> = fields
            .iter()
            .copied()
            .filter(|(k, _)| *k != "channels")
            .collect();
        let bad = ui
            .post("/ui/campaigns", &mkt, &with_csrf(&mkt, &no_channel))
            .await;
        assert!(
            bad.body.contains(r#"id="f-channels-err""#),
            "{db}: {}",
            bad.body
        );
        assert!(
            ui.app.campaigns(None, 10).await.unwrap().items.is_empty(),
            "{db}"
        );

        fields[5] = ("validity_days", "28");
        let ok = ui
            .post("/ui/campaigns", &mkt, &with_csrf(&mkt, &fields))
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{db}: {}", ok.body);
        let page = ui.get(&ok.location, Some(&mkt)).await;
        assert_eq!(page.status, StatusCode::OK, "{db}");
        assert!(page.body.contains("CHF 10.00"), "{db}: the value in CHF");
        assert!(page.body.contains(r#"id="start-campaign""#), "{db}");
        let id = ok.location.rsplit('/').next().unwrap().to_string();
        let c = ui.app.campaign(id.parse().unwrap()).await.unwrap().campaign;
        assert_eq!((c.value, c.min_order, c.seed), (1000, 5000, 42), "{db}");

        // Start, twice: the second is harmless.
        let start = format!("/ui/campaigns/{id}/start");
        for _ in 0..2 {
            let p = ui.post(&start, &mkt, &with_csrf(&mkt, &[])).await;
            assert_eq!(p.status, StatusCode::SEE_OTHER, "{db}: {}", p.body);
            assert_eq!(p.location, format!("/ui/campaigns/{id}"), "{db}");
        }
        let page = ui.get(&format!("/ui/campaigns/{id}"), Some(&mkt)).await;
        assert!(
            page.body.contains(r#"id="issued">2<"#),
            "{db}: {}",
            page.body
        );
        assert!(page.body.contains(r#"id="redeemed">0<"#), "{db}");
        assert!(
            page.body
                .contains(&format!("/api/v1/campaigns/{id}/lettershop.csv")),
            "{db}"
        );
        assert!(
            page.body
                .contains(&format!("/api/v1/campaigns/{id}/email.csv")),
            "{db}"
        );
        assert!(
            !page.body.contains(r#"id="start-campaign""#),
            "{db}: finished"
        );
        assert_eq!(page.body.matches("<svg").count(), 2, "{db}: two charts");
        assert!(page.body.contains(r#"id="groups""#), "{db}");
        assert!(
            page.body.contains("Noch keine Einlösungen"),
            "{db}: no days yet"
        );

        // One member redeems (basket above the minimum order): the page counts it per day.
        let email = ui
            .app
            .campaign_file(id.parse().unwrap(), "email")
            .await
            .unwrap();
        let header: Vec<&str> = email.lines().next().unwrap().split(',').collect();
        let col = header.iter().position(|h| *h == "voucher_code").unwrap();
        let code = email.lines().nth(1).unwrap().split(',').nth(col).unwrap();
        let use_req: kundo_app::vouchers::UseRequest = serde_json::from_value(
            serde_json::json!({"channel": "store", "basket_amount": 8000, "receipt_ref": "R-1"}),
        )
        .unwrap();
        ui.app
            .redeem_voucher(&Actor::cli(), code, &use_req)
            .await
            .unwrap();
        let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
        let page = ui.get(&format!("/ui/campaigns/{id}"), Some(&mkt)).await;
        assert!(
            page.body.contains(r#"id="redeemed">1<"#),
            "{db}: {}",
            page.body
        );
        assert!(page.body.contains("50.0 %"), "{db}: redemption rate 1 of 2");
        assert!(
            page.body
                .contains(&format!("<title>{}: 1</title>", &today[5..])),
            "{db}: the number on hover"
        );
        assert!(
            page.body
                .contains(&format!(r#"<tr><td>{today}</td><td class="num">1</td>"#)),
            "{db}: and in the table"
        );
        let list = ui.get("/ui/campaigns", Some(&mkt)).await;
        assert!(list.body.contains(r#">Herbst</a>"#), "{db}");
        assert!(
            list.body
                .contains(r#"<td class="num">3</td><td class="num">2</td><td class="num">1</td>"#),
            "{db}: members, issued, redeemed"
        );

        // The store role sees neither the menu entry nor the pages.
        let search = ui.get("/ui/search", Some(&store)).await;
        assert!(!search.body.contains("/ui/campaigns"), "{db}");
        for path in ["/ui/campaigns".to_string(), format!("/ui/campaigns/{id}")] {
            let p = ui.get(&path, Some(&store)).await;
            assert_eq!(p.status, StatusCode::FORBIDDEN, "{db}: {path}");
            assert!(!p.body.contains("Herbst"), "{db}");
        }
        let p = ui.post(&start, &store, &with_csrf(&store, &[])).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{db}");
    }
}

/// A sale of `chf` in `category`, booked now online for the customer with `card`; the points
/// it earned.
async fn book(ui: &Ui, card: &str, id: &str, category: &str, chf: i64) -> i64 {
    let till = Actor {
        name: "apikey:shop".into(),
        scopes: vec!["receipts:write".into()],
        csrf_token: None,
    };
    let input = serde_json::from_value(serde_json::json!({
        "source": "webshop", "external_id": id, "channel": "online",
        "occurred_at": chrono::Utc::now().to_rfc3339(), "currency": "CHF", "card_number": card,
        "lines": [{"sku": "1", "category": category, "quantity": 1, "amount": chf * 100}]}))
    .unwrap();
    let booked = ui.app.book_receipt(&till, input).await.unwrap();
    let body: serde_json::Value = serde_json::from_str(&booked.body).unwrap();
    body["points_earned"].as_i64().unwrap()
}

#[tokio::test]
async fn admin_sets_points_rules_that_apply_to_the_next_receipt() {
    for ui in Ui::all().await {
        let db = ui.db;
        let admin = ui.user("boss", Role::Admin).await;
        let n = ui
            .customer("Anna", "Müller", "anna@example.ch", "2900123456785")
            .await;
        let _ = n;
        assert_eq!(
            book(&ui, "2900123456785", "r1", "Bücher", 10).await,
            10,
            "{db}"
        );

        let page = ui.get("/ui/admin", Some(&admin)).await;
        assert_eq!(page.status, StatusCode::OK, "{db}");
        for label in [
            "f-valid_from",
            "f-minor_units_per_point",
            "f-category_multipliers",
            "f-excluded_categories",
            "f-promotions",
        ] {
            assert!(
                page.body.contains(&format!(r#"<label for="{label}">"#)),
                "{db}: {label}"
            );
        }
        assert!(page.body.contains("Standardregeln"), "{db}: no version yet");
        // The form starts from the rules in force: the default exclusions.
        assert!(
            page.body.contains(r#"value="Geschenkkarten, Pfand""#),
            "{db}"
        );

        let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
        let mut fields = vec![
            ("valid_from", today.as_str()),
            ("minor_units_per_point", "zwei"),
            ("category_multipliers", "Bücher=200"),
            ("excluded_categories", "Pfand"),
            ("promotions", "[]"),
        ];
        let bad = ui.form("/ui/admin/points-rules", &admin, &fields).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{db}");
        assert!(
            bad.body.contains(r#"id="f-minor_units_per_point-err""#),
            "{db}"
        );
        assert!(
            bad.body.contains(r#"value="Bücher=200""#),
            "{db}: input kept"
        );
        // The use case's own checks land at their inputs too.
        fields[1] = ("minor_units_per_point", "0");
        fields[2] = ("category_multipliers", "Bücher");
        fields[4] = ("promotions", r#"[{"name": "x"}]"#);
        let bad = ui.form("/ui/admin/points-rules", &admin, &fields).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{db}");
        assert!(
            bad.body.contains(r#"id="f-category_multipliers-err""#),
            "{db}"
        );
        assert!(bad.body.contains(r#"id="f-promotions-err""#), "{db}");
        fields[2] = ("category_multipliers", "Bücher=200");
        fields[4] = ("promotions", "");
        let bad = ui.form("/ui/admin/points-rules", &admin, &fields).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{db}");
        assert!(
            bad.body.contains(r#"id="f-minor_units_per_point-err""#),
            "{db}: between 1 and …"
        );
        assert!(ui.app.points_rules().await.unwrap().is_empty(), "{db}");

        fields[1] = ("minor_units_per_point", "50");
        let ok = ui.form("/ui/admin/points-rules", &admin, &fields).await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{db}: {}", ok.body);
        let versions = ui.app.points_rules().await.unwrap();
        assert_eq!(versions.len(), 1, "{db}");
        assert_eq!(versions[0]["rules"]["minor_units_per_point"], 50, "{db}");
        let page = ui.get("/ui/admin", Some(&admin)).await;
        assert!(page.body.contains(r#"id="rules""#), "{db}");
        assert!(
            page.body.contains("50 Rp. pro Punkt"),
            "{db}: {}",
            page.body
        );
        assert!(page.body.contains("Bücher 200 %"), "{db}");
        assert!(
            page.body.contains("points_rules.changed"),
            "{db}: in the audit log"
        );
        // CHF 10 in books: 2 points per franc, doubled.
        assert_eq!(
            book(&ui, "2900123456785", "r2", "Bücher", 10).await,
            40,
            "{db}"
        );
        assert_eq!(
            book(&ui, "2900123456785", "r3", "Pfand", 10).await,
            0,
            "{db}"
        );
    }
}

#[tokio::test]
async fn admin_defines_and_deletes_attributes_and_manages_webhooks_with_their_log() {
    for ui in Ui::all().await {
        let db = ui.db;
        let admin = ui.user("boss", Role::Admin).await;
        // Only admins reach the page and its forms.
        for role in [Role::Marketing, Role::Store, Role::Service] {
            let other = ui.user(&format!("u-{}", role.as_str()), role).await;
            assert_eq!(
                ui.get("/ui/admin", Some(&other)).await.status,
                StatusCode::FORBIDDEN,
                "{db}"
            );
            let p = ui
                .form(
                    "/ui/admin/attributes",
                    &other,
                    &[("attr_name", "x"), ("attr_type", "string")],
                )
                .await;
            assert_eq!(p.status, StatusCode::FORBIDDEN, "{db}");
            assert_eq!(
                ui.get("/ui/admin/webhooks/1", Some(&other)).await.status,
                StatusCode::FORBIDDEN,
                "{db}"
            );
        }
        assert!(
            ui.app.attribute_definitions().await.unwrap().is_empty(),
            "{db}"
        );

        // Attributes: errors at the field, then one made, shown, and deleted.
        let page = ui.get("/ui/admin", Some(&admin)).await;
        assert!(page.body.contains(r#"<label for="f-attr_name">"#), "{db}");
        assert!(
            page.body.contains(r#"<label for="f-attr_required">"#),
            "{db}"
        );
        let bad = ui
            .form(
                "/ui/admin/attributes",
                &admin,
                &[("attr_name", "Schuh Grösse"), ("attr_type", "integer")],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{db}");
        assert!(
            bad.body.contains(r#"id="f-attr_name-err""#),
            "{db}: {}",
            bad.body
        );
        let bad = ui
            .form(
                "/ui/admin/attributes",
                &admin,
                &[("attr_name", "club"), ("attr_type", "enum")],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{db}");
        assert!(
            bad.body.contains(r#"id="f-attr_allowed_values-err""#),
            "{db}"
        );
        let ok = ui
            .form(
                "/ui/admin/attributes",
                &admin,
                &[
                    ("attr_name", "club"),
                    ("attr_label", "Kundenclub"),
                    ("attr_type", "enum"),
                    ("attr_allowed_values", "gold, silber"),
                    ("attr_required", "1"),
                ],
            )
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{db}: {}", ok.body);
        let defs = ui.app.attribute_definitions().await.unwrap();
        assert_eq!(defs.len(), 1, "{db}");
        assert_eq!(defs[0].allowed_values, vec!["gold", "silber"], "{db}");
        assert!(defs[0].required, "{db}");
        let page = ui.get("/ui/admin", Some(&admin)).await;
        assert!(page.body.contains("<code>club</code>"), "{db}");
        assert!(page.body.contains("Kundenclub"), "{db}");
        let again = ui
            .form(
                "/ui/admin/attributes",
                &admin,
                &[
                    ("attr_name", "club"),
                    ("attr_type", "enum"),
                    ("attr_allowed_values", "gold"),
                ],
            )
            .await;
        assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY, "{db}");
        assert!(
            again.body.contains(r#"id="f-attr_name-err""#),
            "{db}: taken"
        );
        let del = ui
            .form("/ui/admin/attributes/club/delete", &admin, &[])
            .await;
        assert_eq!(del.status, StatusCode::SEE_OTHER, "{db}");
        assert!(
            ui.app.attribute_definitions().await.unwrap().is_empty(),
            "{db}"
        );
        // An attribute in use is kept, and the page says why.
        let ok = ui
            .form(
                "/ui/admin/attributes",
                &admin,
                &[("attr_name", "filiale"), ("attr_type", "string")],
            )
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{db}: {}", ok.body);
        let eva = serde_json::from_value(serde_json::json!({
        "kind": "person", "first_name": "Eva", "last_name": "Frei",
        "attributes": {"filiale": "ZH01"}}))
        .unwrap();
        ui.app
            .create_customer(&Actor::cli(), eva, None, DuplicateCheck::CreateAnyway)
            .await
            .unwrap();
        let kept = ui
            .form("/ui/admin/attributes/filiale/delete", &admin, &[])
            .await;
        assert_eq!(kept.status, StatusCode::CONFLICT, "{db}");
        assert!(kept.body.contains(r#"role="alert""#), "{db}");
        assert!(kept.body.contains("1 customers have a value for"), "{db}");
        assert_eq!(
            ui.app.attribute_definitions().await.unwrap().len(),
            1,
            "{db}"
        );

        // Webhooks: a bad URL at its field; a good one shows its secret once.
        let bad = ui
            .form(
                "/ui/admin/webhooks",
                &admin,
                &[("url", "ftp://crm.example"), ("event_types", "*")],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{db}");
        assert!(bad.body.contains(r#"id="f-url-err""#), "{db}");
        assert!(bad.body.contains(r#"value="ftp://crm.example""#), "{db}");
        // Port 9 (discard) refuses: the delivery fails and is logged.
        let url = "http://127.0.0.1:9/kundo";
        let made = ui
            .form(
                "/ui/admin/webhooks",
                &admin,
                &[("url", url), ("event_types", "*")],
            )
            .await;
        assert_eq!(made.status, StatusCode::CREATED, "{db}: {}", made.body);
        let secret = made
            .body
            .split(r#"id="new-secret""#)
            .nth(1)
            .and_then(|s| s.split("<code>").nth(1))
            .and_then(|s| s.split('<').next())
            .unwrap()
            .to_string();
        assert!(secret.len() >= 24, "{db}");
        let hooks = ui.app.webhooks().await.unwrap();
        assert_eq!(hooks.len(), 1, "{db}");
        assert_eq!(hooks[0].secret, secret, "{db}");
        let id = hooks[0].id;
        let page = ui.get("/ui/admin", Some(&admin)).await;
        assert!(!page.body.contains(&secret), "{db}: shown once");
        assert!(
            page.body
                .contains(&format!(r#"href="/ui/admin/webhooks/{id}""#)),
            "{db}"
        );

        let log = format!("/ui/admin/webhooks/{id}");
        let empty = ui.get(&log, Some(&admin)).await;
        assert_eq!(empty.status, StatusCode::OK, "{db}");
        assert!(empty.body.contains("Noch keine Zustellversuche"), "{db}");
        ui.customer("Beat", "Meier", "beat@example.ch", "2900000000102")
            .await;
        ui.app.dispatch_webhooks().await.unwrap();
        let deliveries = ui.app.webhook_deliveries(id).await.unwrap();
        assert!(!deliveries.is_empty(), "{db}");
        let logged = ui.get(&log, Some(&admin)).await;
        assert!(
            logged.body.contains(r#"id="deliveries""#),
            "{db}: {}",
            logged.body
        );
        assert!(logged.body.contains(url), "{db}");
        assert!(
            logged.body.contains(&format!(
                r#"<td class="num">{}</td>"#,
                deliveries[0].event_id
            )),
            "{db}"
        );
        assert_eq!(
            ui.get("/ui/admin/webhooks/999", Some(&admin)).await.status,
            StatusCode::NOT_FOUND,
            "{db}"
        );
        assert_eq!(
            ui.get("/ui/admin/webhooks/abc", Some(&admin)).await.status,
            StatusCode::NOT_FOUND,
            "{db}"
        );

        let del = ui
            .form(&format!("/ui/admin/webhooks/{id}/delete"), &admin, &[])
            .await;
        assert_eq!(del.status, StatusCode::SEE_OTHER, "{db}");
        assert!(!ui.app.webhooks().await.unwrap()[0].active, "{db}");
        let page = ui.get("/ui/admin", Some(&admin)).await;
        assert!(page.body.contains("gelöscht"), "{db}");
        assert!(
            page.body.contains("webhook.deleted"),
            "{db}: in the audit log"
        );
        // Without the token nothing changes.
        let forged = ui
            .post(
                "/ui/admin/webhooks",
                &admin,
                &[("csrf", "forged"), ("url", url), ("event_types", "*")],
            )
            .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "{db}");
        assert_eq!(ui.app.webhooks().await.unwrap().len(), 1, "{db}");
        // English labels from the switch.
        let en = Session {
            cookie: format!("{}; kundo_lang=en", admin.cookie),
            csrf: admin.csrf.clone(),
        };
        let page = ui.get("/ui/admin", Some(&en)).await;
        assert!(page.body.contains("Points rules"), "{db}");
        assert!(page.body.contains("Custom attributes"), "{db}");
        assert!(page.body.contains("Delivery log"), "{db}");
    }
}

#[tokio::test]
async fn birthday_run_from_the_runs_page_with_its_lettershop_file() {
    // Runs are dated within a month of today: these are made in February 2027.
    let today = chrono::NaiveDate::from_ymd_opt(2027, 2, 7).unwrap();
    for ui in Ui::all_on(Some(today)).await {
        let db = ui.db;
        let mkt = ui.user("mkt", Role::Marketing).await;
        let store = ui.user("clerk", Role::Store).await;
        // Born on 29 February, CHF 600 this year, letters allowed.
        let n = ui
            .customer("Anna", "Müller", "anna@example.ch", "2900123456785")
            .await;
        ui.app
        .update_customer(
            &Actor::cli(),
            &n,
            serde_json::json!({"consents": [{"channel": "letter", "status": "granted", "source": "pos"}]})
                .as_object()
                .unwrap(),
            None,
        )
        .await
        .unwrap();
        book(&ui, "2900123456785", "b1", "Möbel", 600).await;

        let page = ui.get("/ui/runs", Some(&mkt)).await;
        assert!(page.body.contains(r#"<label for="f-date">"#), "{db}");
        assert!(page.body.contains(r#"id="start-birthday""#), "{db}");
        let bad = ui
            .form("/ui/runs/birthday", &mkt, &[("date", "2027-02-30")])
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{db}");
        assert!(bad.body.contains(r#"id="f-date-err""#), "{db}");
        assert!(bad.body.contains(r#"value="2027-02-30""#), "{db}");
        // 21 days before 28 February 2027 (no leap year): 29 February counts as the 28th.
        let ok = ui
            .form("/ui/runs/birthday", &mkt, &[("date", "2027-02-07")])
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{db}: {}", ok.body);
        let page = ui.get(&ok.location, Some(&mkt)).await;
        assert!(page.body.contains(r#"id="run-message""#), "{db}");
        assert!(
            page.body
                .contains("birthday 2027-02-07): 1 Gutscheine, 1 Briefe"),
            "{db}: the summary: {}",
            page.body
        );
        let row = page
            .body
            .split("<td>birthday</td>")
            .nth(1)
            .and_then(|r| r.split("</tr>").next())
            .unwrap();
        assert!(
            row.starts_with("<td>2027-02-07</td><td>done</td><td>1</td>"),
            "{db}: {row}"
        );
        let run_id = ok.location.rsplit('=').next().unwrap();
        assert!(
            row.contains(&format!("/api/v1/runs/{run_id}/lettershop.csv")),
            "{db}: {row}"
        );
        let vouchers = ui.app.customer_vouchers(&n).await.unwrap();
        assert_eq!(vouchers.len(), 1, "{db}");
        assert_eq!(vouchers[0].kind, "birthday", "{db}");
        let csv = ui
            .get(&format!("/api/v1/runs/{run_id}/lettershop.csv"), Some(&mkt))
            .await;
        assert_eq!(csv.status, StatusCode::OK, "{db}");
        assert!(csv.body.contains("Müller"), "{db}: {}", csv.body);
        assert!(csv.body.contains(&vouchers[0].code), "{db}");
        // A store clerk cannot start runs.
        let p = ui
            .form("/ui/runs/birthday", &store, &[("date", "2027-02-08")])
            .await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{db}");
    }
}

#[tokio::test]
async fn segments_are_negated_saved_static_snapshotted_edited_and_exported() {
    for ui in Ui::all().await {
        let db = ui.db;
        let mkt = ui.user("mkt", Role::Marketing).await;
        let store = ui.user("clerk", Role::Store).await;
        // Three in Zürich: two in 8001 (the helper's postcode), Beat in 8002.
        ui.customer("Anna", "Müller", "anna@example.ch", "2900000000101")
            .await;
        ui.customer("Cora", "Keller", "cora@example.ch", "2900000000103")
            .await;
        let beat = serde_json::from_value(serde_json::json!({
        "kind": "person", "first_name": "Beat", "last_name": "Meier",
        "addresses": [{"street": "Seefeldstrasse", "house_number": "3", "postcode": "8002", "city": "Zürich", "country": "CH"}]}))
    .unwrap();
        ui.app
            .create_customer(&Actor::cli(), beat, None, DuplicateCheck::CreateAnyway)
            .await
            .unwrap();

        let builder = ui.get("/ui/segments/new", Some(&mkt)).await;
        assert!(builder.body.contains(r#"id="save-segment""#), "{db}");
        assert!(builder.body.contains(r#"id="save-static""#), "{db}");
        assert!(builder.body.contains(r#"data-not="#), "{db}: label for NOT");
        let js = ui.get("/static/app.js", None).await;
        assert!(
            js.body.contains("{ not: g }"),
            "{db}: the builder negates groups"
        );

        // A negated group: in Zürich but not in 8002 → Anna and Cora.
        let not_beat = r#"{"and": [{"field": "city", "op": "eq", "value": "Zürich"}, {"not": {"or": [{"field": "postcode", "op": "eq", "value": "8002"}]}}]}"#;
        let saved = ui
            .form(
                "/ui/segments",
                &mkt,
                &[
                    ("name", "Ohne Meier"),
                    ("kind", "static"),
                    ("definition", not_beat),
                ],
            )
            .await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{db}: {}", saved.body);
        let seg = ui.app.segments(None, 10).await.unwrap().items.remove(0);
        assert_eq!(seg.kind, "static", "{db}");
        assert_eq!(seg.snapshot.as_ref().unwrap().member_count, 2, "{db}");
        let today = chrono::Utc::now().date_naive();
        assert_eq!(
            ui.app.segment_count(seg.id, today).await.unwrap(),
            2,
            "{db}"
        );

        let list = ui.get("/ui/segments", Some(&mkt)).await;
        let id = seg.id;
        assert!(
            list.body.contains(&format!(r#"href="/ui/segments/{id}""#)),
            "{db}"
        );
        assert!(
            list.body
                .contains(&format!(r#"href="/api/v1/segments/{id}/members.csv""#)),
            "{db}"
        );
        assert!(list.body.contains("statisch (Liste)"), "{db}");
        let csv = ui
            .get(&format!("/api/v1/segments/{id}/members.csv"), Some(&mkt))
            .await;
        assert_eq!(csv.status, StatusCode::OK, "{db}");
        assert!(
            csv.body.contains("Müller") && csv.body.contains("Keller"),
            "{db}"
        );
        assert!(!csv.body.contains("Meier"), "{db}");

        // A static list keeps its members until a new snapshot.
        ui.customer("Dora", "Frei", "dora@example.ch", "2900000000104")
            .await;
        assert_eq!(ui.app.segment_count(id, today).await.unwrap(), 2, "{db}");
        let snap = ui
            .form(&format!("/ui/segments/{id}/snapshots"), &mkt, &[])
            .await;
        assert_eq!(snap.status, StatusCode::SEE_OTHER, "{db}");
        assert_eq!(ui.app.segment_count(id, today).await.unwrap(), 3, "{db}");

        // Open it in the builder, change it, save it as a dynamic segment.
        let edit = ui.get(&format!("/ui/segments/{id}"), Some(&mkt)).await;
        assert_eq!(edit.status, StatusCode::OK, "{db}");
        assert!(
            edit.body
                .contains(&format!(r#"action="/ui/segments/{id}""#)),
            "{db}"
        );
        assert!(edit.body.contains(r#"value="Ohne Meier""#), "{db}");
        assert!(
            edit.body.contains("&quot;not&quot;") || edit.body.contains("&#34;not&#34;"),
            "{db}"
        );
        assert!(
            edit.body.contains(r#"name="version" value="1""#),
            "{db}: {}",
            edit.body
        );
        assert!(
            edit.body
                .contains(&format!("/api/v1/segments/{id}/members.csv")),
            "{db}"
        );
        let zurich = r#"{"field": "city", "op": "eq", "value": "Zürich"}"#;
        let fields = [
            ("name", "Zürich"),
            ("kind", "dynamic"),
            ("definition", zurich),
            ("version", "1"),
        ];
        let bad = ui
            .form(
                &format!("/ui/segments/{id}"),
                &mkt,
                &[("name", ""), ("kind", "dynamic"), ("definition", "{")],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{db}");
        assert!(bad.body.contains(r#"id="f-definition-err""#), "{db}");
        let ok = ui.form(&format!("/ui/segments/{id}"), &mkt, &fields).await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{db}: {}", ok.body);
        let seg = ui.app.segment(id).await.unwrap();
        assert_eq!(
            (seg.name.as_str(), seg.kind.as_str()),
            ("Zürich", "dynamic"),
            "{db}"
        );
        assert_eq!(ui.app.segment_count(id, today).await.unwrap(), 4, "{db}");
        // The same form again names a version that is gone: explained, not saved.
        let stale = ui.form(&format!("/ui/segments/{id}"), &mkt, &fields).await;
        assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED, "{db}");
        assert!(stale.body.contains(r#"role="alert""#), "{db}");

        // A store clerk sees no segments.
        for path in [format!("/ui/segments/{id}"), "/ui/segments".to_string()] {
            assert_eq!(
                ui.get(&path, Some(&store)).await.status,
                StatusCode::FORBIDDEN,
                "{db}"
            );
        }
        let p = ui
            .form(&format!("/ui/segments/{id}/snapshots"), &store, &[])
            .await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{db}");
    }
}

#[tokio::test]
async fn customer_view_shows_cases_and_makes_tasks() {
    for ui in Ui::all().await {
        let db = ui.db;
        let svc = ui.user("svc", Role::Service).await;
        let store = ui.user("clerk", Role::Store).await;
        let n = ui
            .customer("Anna", "Müller", "anna@example.ch", "2900123456785")
            .await;
        let case = serde_json::from_value(serde_json::json!({
        "kind": "complaint", "subject": "Lieferung beschädigt", "team": "service"}))
        .unwrap();
        ui.app.create_case(&Actor::cli(), &n, case).await.unwrap();

        let path = format!("/ui/customers/{n}");
        let page = ui.get(&path, Some(&svc)).await;
        assert!(page.body.contains(r#"id="cases""#), "{db}");
        assert!(page.body.contains("Lieferung beschädigt"), "{db}");
        assert!(page.body.contains("complaint"), "{db}");
        for label in [
            "f-task_kind",
            "f-task_title",
            "f-task_due_date",
            "f-task_team",
        ] {
            assert!(
                page.body.contains(&format!(r#"<label for="{label}">"#)),
                "{db}: {label}"
            );
        }

        let action = format!("/ui/customers/{n}/tasks");
        let bad = ui
            .form(
                &action,
                &svc,
                &[
                    ("task_kind", "callback"),
                    ("task_title", ""),
                    ("task_due_date", "morgen"),
                ],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{db}");
        assert!(
            bad.body.contains(r#"id="f-task_title-err""#),
            "{db}: {}",
            bad.body
        );
        assert!(bad.body.contains(r#"id="f-task_due_date-err""#), "{db}");
        assert!(bad.body.contains(r#"value="morgen""#), "{db}");
        let ok = ui
            .form(
                &action,
                &svc,
                &[
                    ("task_kind", "callback"),
                    ("task_title", "Zurückrufen wegen Lieferung"),
                    ("task_team", "service"),
                    ("task_due_date", "2026-12-01"),
                ],
            )
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{db}: {}", ok.body);
        let tasks = ui
            .app
            .list_tasks(
                kundo_store::tasks::TaskFilter {
                    limit: 50,
                    ..Default::default()
                },
                Some(&n),
            )
            .await
            .unwrap()
            .items;
        assert_eq!(tasks.len(), 1, "{db}");
        assert_eq!(tasks[0].title, "Zurückrufen wegen Lieferung", "{db}");
        assert_eq!(tasks[0].team.as_deref(), Some("service"), "{db}");
        let page = ui.get(&path, Some(&svc)).await;
        assert!(page.body.contains("Zurückrufen wegen Lieferung"), "{db}");
        assert!(page.body.contains("2026-12-01"), "{db}");

        // A store clerk sees the customer but no task form, and may not post one.
        let page = ui.get(&path, Some(&store)).await;
        assert_eq!(page.status, StatusCode::OK, "{db}");
        assert!(!page.body.contains(r#"id="task-form""#), "{db}");
        let p = ui
            .form(
                &action,
                &store,
                &[("task_kind", "callback"), ("task_title", "x")],
            )
            .await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{db}");
    }
}

/// The value of the first `name="…"` attribute in `html`, its entities decoded.
fn attribute(html: &str, name: &str) -> Option<String> {
    let start = html.find(&format!("{name}=\""))? + name.len() + 2;
    let end = start + html[start..].find('"')?;
    Some(
        html[start..end]
            .replace("&#34;", "\"")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

#[tokio::test]
async fn the_builder_offers_exactly_the_consent_statuses_the_server_knows() {
    use kundo_core::consent_status::ConsentStatus;
    for ui in Ui::all().await {
        let db = ui.db;
        let mkt = ui.user("mkt", Role::Marketing).await;
        let page = ui.get("/ui/segments/new", Some(&mkt)).await;
        assert_eq!(page.status, StatusCode::OK, "{db}");
        let choices: serde_json::Value = serde_json::from_str(
            &attribute(&page.body, "data-choices").expect("the builder's choices on the page"),
        )
        .unwrap();
        let offered: Vec<&str> = choices["consent_statuses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["value"].as_str().unwrap())
            .collect();
        assert_eq!(offered, ConsentStatus::NAMES, "{db}");
        assert_eq!(
            choices["consent_statuses"][2]["label"],
            serde_json::json!("widerrufen"),
            "{db}: German labels by default"
        );
        assert_eq!(
            choices["consent_channels"],
            serde_json::json!(kundo_core::customer::CHANNELS),
            "{db}"
        );
        assert_eq!(
            choices["postal_statuses"],
            serde_json::json!(kundo_core::customer::POSTAL_STATUSES),
            "{db}"
        );
        // The script takes its lists from the page and has none of its own.
        let js = ui.get("/static/app.js", None).await;
        assert!(js.body.contains("choices.consent_statuses"), "{db}");
        assert!(!js.body.contains("withdrawn"), "{db}");
        // Every offered status counts (the builder's preview), none is refused.
        for status in offered {
            let body = serde_json::json!({"definition": {"consent": {"channel": "email", "status": status}}, "limit": 0});
            let a = ui
                .script_post(
                    "/api/v1/segments/preview",
                    &mkt,
                    "application/json",
                    body.to_string(),
                )
                .await;
            assert_eq!(a.status, StatusCode::OK, "{db}: {status}: {}", a.body);
        }
    }
}

#[tokio::test]
async fn a_segment_is_deleted_from_the_list_unless_a_campaign_uses_it() {
    for ui in Ui::all().await {
        let db = ui.db;
        let mkt = ui.user("mkt", Role::Marketing).await;
        let store = ui.user("clerk", Role::Store).await;
        let today = chrono::Utc::now().date_naive();
        let mut ids = Vec::new();
        for name in ["Bern", "Basel"] {
            let input = kundo_app::segments::SegmentInput {
                name: name.into(),
                definition: serde_json::json!({"field": "city", "op": "eq", "value": name}),
                kind: None,
            };
            ids.push(
                ui.app
                    .create_segment(&Actor::cli(), input, today)
                    .await
                    .unwrap()
                    .id,
            );
        }
        let campaign = serde_json::from_value(serde_json::json!({
            "name": "Herbst in Bern", "segment_id": ids[0], "value_type": "amount",
            "value": 1000, "validity_days": 14, "control_share_bp": 0}))
        .unwrap();
        ui.app
            .create_campaign(&Actor::cli(), campaign)
            .await
            .unwrap();

        let list = ui.get("/ui/segments", Some(&mkt)).await;
        for id in &ids {
            assert!(
                list.body
                    .contains(&format!(r#"action="/ui/segments/{id}/delete""#)),
                "{db}: a delete button per segment"
            );
        }
        let used = ui
            .form(&format!("/ui/segments/{}/delete", ids[0]), &mkt, &[])
            .await;
        assert_eq!(used.status, StatusCode::CONFLICT, "{db}: {}", used.body);
        assert!(used.body.contains(r#"role="alert""#), "{db}");
        assert!(used.body.contains("Herbst in Bern"), "{db}: {}", used.body);
        assert!(ui.app.segment(ids[0]).await.is_ok(), "{db}: kept");

        let p = ui
            .form(&format!("/ui/segments/{}/delete", ids[1]), &store, &[])
            .await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{db}");
        let gone = ui
            .form(&format!("/ui/segments/{}/delete", ids[1]), &mkt, &[])
            .await;
        assert_eq!(gone.status, StatusCode::SEE_OTHER, "{db}: {}", gone.body);
        assert!(ui.app.segment(ids[1]).await.is_err(), "{db}: deleted");
    }
}
