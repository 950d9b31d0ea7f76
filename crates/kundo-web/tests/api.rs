//! The HTTP API end to end through the router (no socket): success, every kind of bad input, 401
//! and 403, on SQLite and PostgreSQL.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};

mod common;
use common::{Api, assert_problem};

impl Api {
    async fn count(&self) -> i64 {
        let mut c = self.app.store.acquire().await.unwrap();
        kundo_store::customers::count(&mut c.db()).await.unwrap()
    }
}

fn anna() -> Value {
    json!({"kind": "person", "salutation": "Frau", "first_name": "Anna", "last_name": "Müller",
        "birth_date": "1980-02-29", "gender": "female", "language": "de",
        "email": "anna.mueller@example.ch", "phones": [{"kind": "mobile", "number": "+41791234567"}],
        "addresses": [{"street": "Bahnhofstrasse", "house_number": "12a", "postcode": "8001", "city": "Zürich", "country": "CH"}],
        "card_numbers": ["2900123456785"], "preferred_channel": "email",
        "consents": [{"channel": "email", "status": "granted", "source": "webshop-doi", "recorded_at": "2026-11-01T09:00:00Z"}]})
}

fn sample_path(path: &str) -> String {
    path.replace("{customer_number}", "10000016")
        .replace("{name}", "branche")
        .replace("{id}", "1")
}

#[tokio::test]
async fn every_protected_route_answers_401_without_credentials_and_403_without_its_scope() {
    for api in Api::all().await {
        let unrelated = api.key(&["events:read"]).await;
        let reader = api.key(&["customers:read"]).await;
        for (method, path, scope) in kundo_web::routes::ROUTES {
            let Some(scope) = scope else { continue };
            let m = Method::from_bytes(method.as_bytes()).unwrap();
            let p = sample_path(path);
            let body = (m != Method::GET && m != Method::DELETE).then_some("{}");
            let a = api.call(m.clone(), &p, None, body).await;
            assert_problem(
                &a,
                StatusCode::UNAUTHORIZED,
                None,
                &format!("{} {method} {path} without key", api.db),
            );
            let a = api.call(m.clone(), &p, Some("kd_not_a_key"), body).await;
            assert_problem(
                &a,
                StatusCode::UNAUTHORIZED,
                None,
                &format!("{} {method} {path} wrong key", api.db),
            );
            if *scope == "authenticated" {
                continue;
            }
            let other = if *scope == "events:read" {
                &reader
            } else {
                &unrelated
            };
            let a = api.call(m, &p, Some(other), body).await;
            assert_problem(
                &a,
                StatusCode::FORBIDDEN,
                None,
                &format!("{} {method} {path} without {scope}", api.db),
            );
        }
    }
}

#[tokio::test]
async fn customers_are_created_read_changed_with_etags_and_found() {
    for api in Api::all().await {
        let db = api.db;
        let a = api
            .admin(Method::POST, "/api/v1/customers", Some(anna()))
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{db}: {}", a.body);
        let number = a.body["customer_number"].as_str().unwrap().to_string();
        assert_eq!(
            a.headers[header::LOCATION],
            format!("/api/v1/customers/{number}").as_str(),
            "{db}"
        );
        assert_eq!(a.headers[header::ETAG], "\"1\"", "{db}");
        assert_eq!(a.body["balance"], json!(0), "{db}");
        assert_eq!(a.body["status"], json!("active"), "{db}");

        let a = api
            .admin(Method::GET, &format!("/api/v1/customers/{number}"), None)
            .await;
        assert_eq!(a.status, StatusCode::OK, "{db}");
        assert_eq!(a.body["addresses"][0]["postal_status"], json!("ok"), "{db}");

        let patch = |if_match: &str| {
            Request::builder()
                .method(Method::PATCH)
                .uri(format!("/api/v1/customers/{number}"))
                .header(header::AUTHORIZATION, format!("Bearer {}", api.admin))
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::IF_MATCH, if_match)
                .body(Body::from(
                    json!({"title": "Dr.", "phones": [{"number": "079 765 43 21"}]}).to_string(),
                ))
                .unwrap()
        };
        let a = api.send(patch("\"1\"")).await;
        assert_eq!(a.status, StatusCode::OK, "{db}: {}", a.body);
        assert_eq!(a.body["title"], json!("Dr."), "{db}");
        assert_eq!(a.body["phones"][0]["number"], json!("+41797654321"), "{db}");
        assert_eq!(a.headers[header::ETAG], "\"2\"", "{db}");
        let a = api.send(patch("\"1\"")).await;
        assert_problem(&a, StatusCode::PRECONDITION_FAILED, None, db);

        let a = api
            .admin(
                Method::POST,
                &format!("/api/v1/customers/{number}/consents"),
                Some(json!({"channel": "letter", "status": "denied", "source": "phone"})),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{db}: {}", a.body);
        assert_eq!(a.body["consents"].as_array().unwrap().len(), 2, "{db}");

        let a = api
            .admin(Method::GET, "/api/v1/lookup?card=2900123456785", None)
            .await;
        assert_eq!(a.status, StatusCode::OK, "{db}");
        assert_eq!(a.body["customer_number"], json!(number), "{db}");
        assert_eq!(a.body["balance"], json!(0), "{db}");
        assert_eq!(a.body["vouchers"], json!([]), "{db}");
        let a = api
            .admin(
                Method::GET,
                "/api/v1/lookup?phone=079%20765%2043%2021",
                None,
            )
            .await;
        assert_eq!(a.body["customer_number"], json!(number), "{db}");
        let a = api
            .admin(Method::GET, "/api/v1/lookup?card=2900000000001", None)
            .await;
        assert_problem(&a, StatusCode::NOT_FOUND, None, db);
        let a = api
            .admin(Method::GET, "/api/v1/lookup?card=1&email=a@b.ch", None)
            .await;
        assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some("query"), db);

        let a = api
            .admin(Method::GET, "/api/v1/search?q=mueller", None)
            .await;
        assert_eq!(a.body["items"][0]["customer_number"], json!(number), "{db}");
        let a = api.admin(Method::GET, "/api/v1/search?q=ab", None).await;
        assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some("q"), db);

        let a = api
            .admin(
                Method::GET,
                "/api/v1/customers?postcode=8001&limit=10",
                None,
            )
            .await;
        assert_eq!(a.body["items"].as_array().unwrap().len(), 1, "{db}");
        let a = api
            .admin(Method::GET, "/api/v1/customers?shoe_size=42", None)
            .await;
        assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some("shoe_size"), db);
        let a = api
            .admin(Method::GET, "/api/v1/customers?limit=0", None)
            .await;
        assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some("limit"), db);

        let a = api
            .admin(
                Method::GET,
                &format!("/api/v1/customers/{number}/audit"),
                None,
            )
            .await;
        assert_eq!(
            a.body["items"].as_array().unwrap().len(),
            3,
            "{db}: created, changed, consent"
        );
        let a = api.admin(Method::GET, "/api/v1/events", None).await;
        assert_eq!(a.body["items"].as_array().unwrap().len(), 3, "{db}");
        let a = api
            .admin(Method::GET, "/api/v1/customers/99999999", None)
            .await;
        assert_problem(&a, StatusCode::NOT_FOUND, None, db);
    }
}

#[tokio::test]
async fn bad_input_gets_a_problem_naming_the_field_and_writes_nothing() {
    for api in Api::all().await {
        let db = api.db;
        api.admin(Method::POST, "/api/v1/attributes", Some(json!({"name": "branche", "type": "enum", "allowed_values": ["Architektur", "Schule"]}))).await;
        let ok = api
            .admin(Method::POST, "/api/v1/customers", Some(anna()))
            .await;
        assert_eq!(ok.status, StatusCode::CREATED, "{db}");
        let with = |path: &str, value: Value| {
            let mut v = anna();
            v["card_numbers"] = json!([]);
            let mut target = &mut v;
            let parts: Vec<&str> = path.split('.').collect();
            for p in &parts[..parts.len() - 1] {
                target = match p.parse::<usize>() {
                    Ok(i) => &mut target[i],
                    Err(_) => &mut target[*p],
                };
            }
            target[parts[parts.len() - 1]] = value;
            v
        };
        let cases: Vec<(Value, StatusCode, &str)> = vec![
            (
                with("email", json!("anna@")),
                StatusCode::UNPROCESSABLE_ENTITY,
                "email",
            ),
            (
                with("phones.0.number", json!("12")),
                StatusCode::UNPROCESSABLE_ENTITY,
                "phones[0].number",
            ),
            (
                with("addresses.0.postcode", json!("800")),
                StatusCode::UNPROCESSABLE_ENTITY,
                "addresses[0].postcode",
            ),
            (
                with("birth_date", json!("1980-02-30")),
                StatusCode::UNPROCESSABLE_ENTITY,
                "birth_date",
            ),
            (
                with("birth_date", json!(19800229)),
                StatusCode::UNPROCESSABLE_ENTITY,
                "birth_date",
            ),
            (
                with("addresses.0.street", json!(12)),
                StatusCode::UNPROCESSABLE_ENTITY,
                "addresses[0].street",
            ),
            (
                with("shoe_size", json!(42)),
                StatusCode::UNPROCESSABLE_ENTITY,
                "shoe_size",
            ),
            (
                with("attributes", json!({"farbe": "rot"})),
                StatusCode::UNPROCESSABLE_ENTITY,
                "attributes.farbe",
            ),
            (
                with("attributes", json!({"branche": "Bank"})),
                StatusCode::UNPROCESSABLE_ENTITY,
                "attributes.branche",
            ),
            (
                with("card_numbers", json!(["2900123456785"])),
                StatusCode::CONFLICT,
                "card_numbers[0]",
            ),
            (
                with("card_numbers", json!(["29001234x"])),
                StatusCode::UNPROCESSABLE_ENTITY,
                "card_numbers[0]",
            ),
            (
                with("gender", json!("f")),
                StatusCode::UNPROCESSABLE_ENTITY,
                "gender",
            ),
            (
                with("consents.0.channel", json!("pigeon")),
                StatusCode::UNPROCESSABLE_ENTITY,
                "consents[0].channel",
            ),
        ];
        for (body, status, field) in cases {
            let a = api
                .admin(Method::POST, "/api/v1/customers", Some(body))
                .await;
            assert_problem(&a, status, Some(field), &format!("{db} {field}"));
        }
        let a = api
            .call(
                Method::POST,
                "/api/v1/customers",
                Some(&api.admin.clone()),
                Some("{\"last_name\": "),
            )
            .await;
        assert_problem(&a, StatusCode::BAD_REQUEST, None, db);
        assert!(
            a.body["detail"].as_str().unwrap().contains("line 1"),
            "{db}"
        );
        let big = format!(
            "{{\"last_name\": \"{}\"}}",
            "x".repeat(kundo_web::BODY_LIMIT + 10)
        );
        let a = api
            .call(
                Method::POST,
                "/api/v1/customers",
                Some(&api.admin.clone()),
                Some(&big),
            )
            .await;
        assert_problem(&a, StatusCode::PAYLOAD_TOO_LARGE, None, db);
        let req = Request::builder()
            .method(Method::POST)
            .uri("/api/v1/customers")
            .header(header::AUTHORIZATION, format!("Bearer {}", api.admin))
            .header(header::CONTENT_TYPE, "text/plain")
            .body(Body::from("x"))
            .unwrap();
        assert_problem(
            &api.send(req).await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            None,
            db,
        );
        let number = ok.body["customer_number"].as_str().unwrap();
        let a = api
            .admin(
                Method::PATCH,
                &format!("/api/v1/customers/{number}"),
                Some(json!({"kind": "organization"})),
            )
            .await;
        assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some("kind"), db);
        let a = api
            .admin(
                Method::PATCH,
                &format!("/api/v1/customers/{number}"),
                Some(json!({"email": "nope"})),
            )
            .await;
        assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some("email"), db);
        assert_eq!(
            api.count().await,
            1,
            "{db}: nothing but the first customer was written"
        );
        let a = api
            .admin(Method::GET, &format!("/api/v1/customers/{number}"), None)
            .await;
        assert_eq!(
            a.body["version"],
            json!(1),
            "{db}: refused changes left the record alone"
        );
    }
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_answer() {
    for api in Api::all().await {
        let db = api.db;
        let req = || {
            Request::builder()
                .method(Method::POST)
                .uri("/api/v1/customers")
                .header(header::AUTHORIZATION, format!("Bearer {}", api.admin))
                .header(header::CONTENT_TYPE, "application/json")
                .header("Idempotency-Key", "shop-4711")
                .body(Body::from(anna().to_string()))
                .unwrap()
        };
        let first = api.send(req()).await;
        let second = api.send(req()).await;
        assert_eq!(first.status, StatusCode::CREATED, "{db}");
        assert_eq!(second.status, StatusCode::CREATED, "{db}");
        assert_eq!(second.headers["idempotent-replayed"], "true", "{db}");
        assert_eq!(first.body, second.body, "{db}");
        assert_eq!(api.count().await, 1, "{db}");
    }
}

#[tokio::test]
async fn browser_sessions_need_the_csrf_token_and_get_their_role_scopes() {
    for api in Api::all().await {
        let db = api.db;
        let a = api
            .admin(
                Method::POST,
                "/api/v1/users",
                Some(json!({"username": "vera", "password": "service desk 1", "role": "service"})),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{db}: {}", a.body);
        api.admin(
            Method::POST,
            "/api/v1/users",
            Some(json!({"username": "sam", "password": "store clerk 12", "role": "store"})),
        )
        .await;
        let a = api
            .call(
                Method::POST,
                "/api/v1/session",
                None,
                Some(&json!({"username": "vera", "password": "wrong"}).to_string()),
            )
            .await;
        assert_problem(&a, StatusCode::UNAUTHORIZED, None, db);
        let a = api
            .call(
                Method::POST,
                "/api/v1/session",
                None,
                Some(&json!({"username": "vera", "password": "service desk 1"}).to_string()),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{db}");
        let cookie = a.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        assert!(
            a.headers[header::SET_COOKIE]
                .to_str()
                .unwrap()
                .contains("HttpOnly"),
            "{db}"
        );
        let csrf = a.body["csrf_token"].as_str().unwrap().to_string();
        let post = |csrf: Option<&str>| {
            let mut r = Request::builder()
                .method(Method::POST)
                .uri("/api/v1/customers")
                .header(header::COOKIE, &cookie)
                .header(header::CONTENT_TYPE, "application/json");
            if let Some(c) = csrf {
                r = r.header("X-CSRF-Token", c);
            }
            r.body(Body::from(anna().to_string())).unwrap()
        };
        assert_problem(&api.send(post(None)).await, StatusCode::FORBIDDEN, None, db);
        assert_eq!(
            api.send(post(Some(&csrf))).await.status,
            StatusCode::CREATED,
            "{db}"
        );
        let who = api
            .send(
                Request::builder()
                    .uri("/api/v1/session")
                    .header(header::COOKIE, &cookie)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(who.body["name"], json!("user:vera"), "{db}");
        let audit = api.admin(Method::GET, "/api/v1/audit", None).await;
        assert!(
            audit.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["actor"] == json!("user:vera")
                    && e["action"] == json!("customer.created")),
            "{db}"
        );
        // A store clerk looks up but does not change customers.
        let a = api
            .call(
                Method::POST,
                "/api/v1/session",
                None,
                Some(&json!({"username": "sam", "password": "store clerk 12"}).to_string()),
            )
            .await;
        let sam_cookie = a.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let sam_csrf = a.body["csrf_token"].as_str().unwrap().to_string();
        let r = Request::builder()
            .method(Method::POST)
            .uri("/api/v1/customers")
            .header(header::COOKIE, &sam_cookie)
            .header("X-CSRF-Token", &sam_csrf)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{}"))
            .unwrap();
        assert_problem(&api.send(r).await, StatusCode::FORBIDDEN, None, db);
        let r = Request::builder()
            .uri("/api/v1/lookup?card=2900123456785")
            .header(header::COOKIE, &sam_cookie)
            .body(Body::empty())
            .unwrap();
        assert_eq!(api.send(r).await.status, StatusCode::OK, "{db}");
        let r = Request::builder()
            .method(Method::DELETE)
            .uri("/api/v1/session")
            .header(header::COOKIE, &sam_cookie)
            .header("X-CSRF-Token", &sam_csrf)
            .body(Body::empty())
            .unwrap();
        assert_eq!(api.send(r).await.status, StatusCode::NO_CONTENT, "{db}");
        let r = Request::builder()
            .uri("/api/v1/lookup?card=2900123456785")
            .header(header::COOKIE, &sam_cookie)
            .body(Body::empty())
            .unwrap();
        assert_eq!(
            api.send(r).await.status,
            StatusCode::UNAUTHORIZED,
            "{db}: the session ended"
        );
    }
}

#[tokio::test]
async fn admin_routes_manage_keys_attributes_and_users() {
    for api in Api::all().await {
        let db = api.db;
        let a = api
            .admin(
                Method::POST,
                "/api/v1/api-keys",
                Some(json!({"name": "pos-zh01", "scopes": ["customers:read", "vouchers:redeem"]})),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{db}");
        let key = a.body["key"].as_str().unwrap().to_string();
        let id = a.body["id"].as_i64().unwrap();
        assert_eq!(
            api.call(Method::GET, "/api/v1/attributes", Some(&key), None)
                .await
                .status,
            StatusCode::OK,
            "{db}"
        );
        let list = api.admin(Method::GET, "/api/v1/api-keys", None).await;
        assert!(
            !list.body.to_string().contains(&key[3..]),
            "{db}: the secret is never listed"
        );
        let a = api
            .admin(
                Method::POST,
                "/api/v1/api-keys",
                Some(json!({"name": "x", "scopes": ["root"]})),
            )
            .await;
        assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some("scopes[0]"), db);
        assert_eq!(
            api.admin(Method::DELETE, &format!("/api/v1/api-keys/{id}"), None)
                .await
                .status,
            StatusCode::NO_CONTENT,
            "{db}"
        );
        assert_eq!(
            api.call(Method::GET, "/api/v1/attributes", Some(&key), None)
                .await
                .status,
            StatusCode::UNAUTHORIZED,
            "{db}"
        );

        let a = api
            .admin(
                Method::POST,
                "/api/v1/attributes",
                Some(json!({"name": "Bad Name", "type": "string"})),
            )
            .await;
        assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some("name"), db);
        let a = api
            .admin(
                Method::POST,
                "/api/v1/attributes",
                Some(json!({"name": "kundentyp", "type": "colour"})),
            )
            .await;
        assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some("type"), db);
        assert_eq!(
            api.admin(
                Method::POST,
                "/api/v1/attributes",
                Some(json!({"name": "kundentyp", "type": "string"}))
            )
            .await
            .status,
            StatusCode::CREATED,
            "{db}"
        );
        assert_eq!(
            api.admin(
                Method::POST,
                "/api/v1/attributes",
                Some(json!({"name": "kundentyp", "type": "string"}))
            )
            .await
            .status,
            StatusCode::CONFLICT,
            "{db}"
        );
        assert_eq!(
            api.admin(Method::DELETE, "/api/v1/attributes/kundentyp", None)
                .await
                .status,
            StatusCode::NO_CONTENT,
            "{db}"
        );
        assert_eq!(
            api.admin(Method::DELETE, "/api/v1/attributes/kundentyp", None)
                .await
                .status,
            StatusCode::NOT_FOUND,
            "{db}"
        );

        let a = api
            .admin(
                Method::POST,
                "/api/v1/users",
                Some(json!({"username": "eva", "password": "short", "role": "admin"})),
            )
            .await;
        assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some("password"), db);
        let a = api
            .admin(
                Method::POST,
                "/api/v1/users",
                Some(json!({"username": "eva", "password": "long enough pw", "role": "boss"})),
            )
            .await;
        assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some("role"), db);
        let users = api.admin(Method::GET, "/api/v1/users", None).await;
        assert_eq!(users.status, StatusCode::OK, "{db}");
        assert!(
            !users.body.to_string().contains("argon2"),
            "{db}: hashes stay inside"
        );

        assert_eq!(
            api.call(Method::GET, "/health", None, None).await.status,
            StatusCode::OK,
            "{db}"
        );
        let m = api.admin(Method::GET, "/metrics", None).await;
        assert_eq!(m.status, StatusCode::OK, "{db}");
        assert!(
            m.body
                .as_str()
                .unwrap()
                .contains("kundo_http_requests_total"),
            "{db}"
        );
        assert_eq!(
            api.call(Method::GET, "/api/v1/openapi.json", None, None)
                .await
                .status,
            StatusCode::OK,
            "{db}"
        );
        let a = api.admin(Method::GET, "/api/v1/nothing-here", None).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{db}");
    }
}
