//! Customer routes: create, read, change, consents, list, search, lookup, audit trail.

use axum::Extension;
use axum::extract::{Path, Query, State, rejection::QueryRejection};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kundo_app::Actor;
use kundo_app::customers::{Created, CustomerView, DuplicateCheck, Idempotency};
use kundo_core::contact::{normalize_email, normalize_phone};
use kundo_core::customer::{ConsentInput, CustomerInput};
use kundo_store::customers::{ListFilter, LookupKey};
use serde_json::{Map, Value, json};

use crate::AppState;
use crate::json::JsonBody;
use crate::problem::Problem;

type Params = Result<Query<Vec<(String, String)>>, QueryRejection>;

fn params(q: Params) -> Result<Vec<(String, String)>, Problem> {
    q.map(|Query(v)| v).map_err(|e| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "bad-query",
            "Unreadable query string",
        )
        .detail(e.body_text())
    })
}

fn with_etag(status: StatusCode, view: &CustomerView) -> Response {
    let mut res = (status, axum::Json(view)).into_response();
    if let Ok(v) = HeaderValue::from_str(&view.etag()) {
        res.headers_mut().insert(header::ETAG, v);
    }
    if status == StatusCode::CREATED
        && let Ok(v) = HeaderValue::from_str(&format!("/api/v1/customers/{}", view.customer_number))
    {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

pub async fn create(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    headers: HeaderMap,
    q: Params,
    JsonBody(input, raw): JsonBody<CustomerInput>,
) -> Result<Response, Problem> {
    let mut check = DuplicateCheck::Refuse;
    for (k, v) in params(q)? {
        match k.as_str() {
            "force" if v == "true" => check = DuplicateCheck::CreateAnyway,
            "force" if v == "false" => {}
            "force" => {
                return Err(Problem::invalid(vec![kundo_core::error::FieldError::new(
                    "force",
                    "must be true or false",
                )]));
            }
            other => {
                return Err(Problem::invalid(vec![kundo_core::error::FieldError::new(
                    other,
                    "is not a parameter of this route",
                )]));
            }
        }
    }
    let idem = match headers.get("idempotency-key") {
        Some(v) => {
            let key = v
                .to_str()
                .ok()
                .filter(|k| !k.is_empty() && k.len() <= 200)
                .ok_or_else(|| {
                    Problem::invalid(vec![kundo_core::error::FieldError::new(
                        "Idempotency-Key",
                        "must be 1-200 visible ASCII characters",
                    )])
                })?;
            Some(Idempotency {
                key: key.to_string(),
                request_hash: kundo_app::auth::sha256_hex(&String::from_utf8_lossy(&raw)),
            })
        }
        None => None,
    };
    match s.app.create_customer(&actor, input, idem, check).await? {
        Created::New(view) => Ok(with_etag(StatusCode::CREATED, &view)),
        Created::Replayed { status, body } => {
            let mut res =
                (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body).into_response();
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            res.headers_mut()
                .insert("idempotent-replayed", HeaderValue::from_static("true"));
            Ok(res)
        }
    }
}

pub async fn get_one(
    State(s): State<AppState>,
    Path(number): Path<String>,
) -> Result<Response, Problem> {
    let view = s.app.customer(&number).await?;
    Ok(with_etag(StatusCode::OK, &view))
}

/// `"3"`, `W/"3"` → 3; `*` → no check.
pub(crate) fn parse_if_match(headers: &HeaderMap) -> Result<Option<i64>, Problem> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = v.to_str().unwrap_or("").trim();
    if text == "*" {
        return Ok(None);
    }
    text.trim_start_matches("W/")
        .trim_matches('"')
        .parse::<i64>()
        .map(Some)
        .map_err(|_| {
            Problem::new(
                StatusCode::PRECONDITION_FAILED,
                "stale",
                "Precondition failed",
            )
            .detail("If-Match does not name a version of this record")
        })
}

pub async fn patch(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(number): Path<String>,
    headers: HeaderMap,
    JsonBody(body, _): JsonBody<Map<String, Value>>,
) -> Result<Response, Problem> {
    let if_match = parse_if_match(&headers)?;
    let view = s
        .app
        .update_customer(&actor, &number, &body, if_match)
        .await?;
    Ok(with_etag(StatusCode::OK, &view))
}

pub async fn add_consents(
    State(s): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(number): Path<String>,
    JsonBody(consent, _): JsonBody<ConsentInput>,
) -> Result<Response, Problem> {
    let mut patch = Map::new();
    patch.insert("consents".into(), json!([consent]));
    let view = s.app.update_customer(&actor, &number, &patch, None).await?;
    Ok(with_etag(StatusCode::CREATED, &view))
}

pub(crate) fn bad(field: &str, message: &str) -> Problem {
    Problem::invalid(vec![kundo_core::error::FieldError::new(field, message)])
}

pub(crate) fn parse_limit(v: &str, max: u64) -> Result<u64, Problem> {
    v.parse::<u64>()
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| bad("limit", &format!("must be a number from 1 to {max}")))
}

pub async fn list(State(s): State<AppState>, q: Params) -> Result<Response, Problem> {
    let defs = s.app.attribute_definitions().await?;
    let mut f = ListFilter {
        limit: 50,
        ..Default::default()
    };
    for (k, v) in params(q)? {
        let date = |v: &str| kundo_core::dates::parse_iso_date(v).map_err(|m| bad(&k, &m));
        // A filter value no customer can have is a mistake of the caller, not an empty list.
        let one_of = |allowed: &[&str]| {
            kundo_core::history::one_of(&v, allowed)
                .map(|_| v.clone())
                .map_err(|m| bad(&k, &m))
        };
        let code = |lower: bool| {
            let ok = v.len() == 2
                && v.bytes().all(|b| {
                    if lower {
                        b.is_ascii_lowercase()
                    } else {
                        b.is_ascii_alphabetic()
                    }
                });
            ok.then(|| v.clone())
                .ok_or_else(|| bad(&k, "must be a two-letter code"))
        };
        match k.as_str() {
            "kind" => f.kind = Some(one_of(kundo_core::customer::KINDS)?),
            "status" => f.status = Some(one_of(kundo_core::customer::STATUSES)?),
            "gender" => f.gender = Some(one_of(kundo_core::customer::GENDERS)?),
            "language" => f.language = Some(code(true)?),
            "preferred_channel" => {
                f.preferred_channel = Some(one_of(kundo_core::customer::CHANNELS)?)
            }
            "email" => f.email = Some(normalize_email(&v).map_err(|m| bad("email", &m))?),
            "postcode" => f.postcode = Some(v.trim().to_uppercase()),
            "city" => f.city = Some(v),
            "country" => f.country = Some(code(false)?.to_ascii_uppercase()),
            "last_name" => f.last_name = Some(v),
            "birth_date_from" => f.birth_date_from = Some(date(&v)?),
            "birth_date_to" => f.birth_date_to = Some(date(&v)?),
            "limit" => f.limit = parse_limit(&v, 500)?,
            "cursor" => f.after_id = Some(id_cursor(&v)?),
            other => {
                let Some(name) = other.strip_prefix("attr.") else {
                    return Err(bad(
                        other,
                        "is not a filter; use a built-in field or attr.NAME",
                    ));
                };
                let def = defs
                    .iter()
                    .find(|d| d.name == name)
                    .ok_or_else(|| bad(other, "is not a defined attribute"))?;
                let value = def
                    .parse_text(&v)
                    .and_then(|j| def.canonical(&j))
                    .map_err(|m| bad(other, &m))?;
                f.attributes.push((name.to_string(), value.text));
            }
        }
    }
    Ok(axum::Json(s.app.list_customers(f).await?).into_response())
}

pub async fn search(State(s): State<AppState>, q: Params) -> Result<Response, Problem> {
    let mut query = None;
    let mut limit = 20;
    for (k, v) in params(q)? {
        match k.as_str() {
            "q" => query = Some(v),
            "limit" => limit = parse_limit(&v, 100)?,
            other => return Err(bad(other, "is not a parameter of this route")),
        }
    }
    let query = query.ok_or_else(|| bad("q", "is required"))?;
    let hits = s.app.search(&query, limit as usize).await?;
    Ok(axum::Json(json!({ "items": hits })).into_response())
}

pub async fn lookup(State(s): State<AppState>, q: Params) -> Result<Response, Problem> {
    let p = params(q)?;
    let [(k, v)] = p.as_slice() else {
        return Err(bad(
            "query",
            "give exactly one of card, phone, email, customer_number",
        ));
    };
    let normalized;
    let key = match k.as_str() {
        "card" => LookupKey::Card(v.trim()),
        "customer_number" => LookupKey::Number(v.trim()),
        "phone" => {
            normalized = normalize_phone(v, "CH").map_err(|m| bad("phone", &m))?;
            LookupKey::Phone(&normalized)
        }
        "email" => {
            normalized = normalize_email(v).map_err(|m| bad("email", &m))?;
            LookupKey::Email(&normalized)
        }
        other => {
            return Err(bad(
                other,
                "is not a lookup key; use card, phone, email or customer_number",
            ));
        }
    };
    Ok(axum::Json(s.app.lookup(key).await?).into_response())
}

pub async fn audit(
    State(s): State<AppState>,
    Path(number): Path<String>,
    q: Params,
) -> Result<Response, Problem> {
    let (before, limit) = cursor_params(params(q)?)?;
    Ok(axum::Json(s.app.customer_audit(&number, before, limit).await?).into_response())
}

/// An id cursor as `next_cursor` gives it: an optional minus and 1 to 18 digits (what the
/// document's pattern says; 18 digits always fit an `i64`).
pub(crate) fn id_cursor(v: &str) -> Result<i64, Problem> {
    let digits = v.strip_prefix('-').unwrap_or(v);
    if (1..=18).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        v.parse()
            .map_err(|_| bad("cursor", "is not a cursor from a previous page"))
    } else {
        Err(bad("cursor", "is not a cursor from a previous page"))
    }
}

/// `cursor` and `limit` of the paginated admin lists.
pub fn cursor_params(p: Vec<(String, String)>) -> Result<(Option<i64>, i64), Problem> {
    let mut cursor = None;
    let mut limit = 50;
    for (k, v) in p {
        match k.as_str() {
            "cursor" => cursor = Some(id_cursor(&v)?),
            "limit" => limit = parse_limit(&v, 500)? as i64,
            other => return Err(bad(other, "is not a parameter of this route")),
        }
    }
    Ok((cursor, limit))
}

pub fn params_of(q: Params) -> Result<Vec<(String, String)>, Problem> {
    params(q)
}
