//! The route table: method, path and the scope each route needs. The router, the authorization
//! middleware and the OpenAPI test all read this one table.

use axum::http::Method;

/// `None` as scope: public. `"authenticated"`: any caller who is logged in or has a key.
pub const ROUTES: &[(&str, &str, Option<&str>)] = &[
    ("GET", "/health", None),
    ("GET", "/metrics", Some("metrics:read")),
    ("GET", "/api/v1/openapi.json", None),
    ("POST", "/api/v1/session", None),
    ("GET", "/api/v1/session", Some("authenticated")),
    ("DELETE", "/api/v1/session", Some("authenticated")),
    ("GET", "/api/v1/customers", Some("customers:read")),
    ("POST", "/api/v1/customers", Some("customers:write")),
    (
        "GET",
        "/api/v1/customers/{customer_number}",
        Some("customers:read"),
    ),
    (
        "PATCH",
        "/api/v1/customers/{customer_number}",
        Some("customers:write"),
    ),
    (
        "POST",
        "/api/v1/customers/{customer_number}/consents",
        Some("customers:write"),
    ),
    (
        "GET",
        "/api/v1/customers/{customer_number}/audit",
        Some("admin"),
    ),
    (
        "POST",
        "/api/v1/customers/{customer_number}/merge",
        Some("customers:write"),
    ),
    (
        "POST",
        "/api/v1/customers/{customer_number}/merge/preview",
        Some("customers:read"),
    ),
    ("GET", "/api/v1/duplicates", Some("customers:read")),
    ("POST", "/api/v1/duplicates/check", Some("customers:read")),
    ("POST", "/api/v1/duplicates/scan", Some("customers:write")),
    (
        "POST",
        "/api/v1/duplicates/{id}/dismiss",
        Some("customers:write"),
    ),
    ("POST", "/api/v1/postal-returns", Some("customers:write")),
    (
        "GET",
        "/api/v1/customers/{customer_number}/timeline",
        Some("customers:read"),
    ),
    (
        "POST",
        "/api/v1/customers/{customer_number}/activities",
        Some("customers:write"),
    ),
    (
        "GET",
        "/api/v1/customers/{customer_number}/cases",
        Some("customers:read"),
    ),
    (
        "POST",
        "/api/v1/customers/{customer_number}/cases",
        Some("customers:write"),
    ),
    ("GET", "/api/v1/cases/{id}", Some("customers:read")),
    ("PATCH", "/api/v1/cases/{id}", Some("customers:write")),
    ("GET", "/api/v1/tasks", Some("tasks:read")),
    ("POST", "/api/v1/tasks", Some("tasks:write")),
    ("GET", "/api/v1/tasks/{id}", Some("tasks:read")),
    ("PATCH", "/api/v1/tasks/{id}", Some("tasks:write")),
    ("GET", "/api/v1/tasks/{id}/comments", Some("tasks:read")),
    ("POST", "/api/v1/tasks/{id}/comments", Some("tasks:write")),
    ("GET", "/api/v1/search", Some("customers:read")),
    ("GET", "/api/v1/lookup", Some("customers:read")),
    ("GET", "/api/v1/attributes", Some("customers:read")),
    ("POST", "/api/v1/attributes", Some("admin")),
    ("DELETE", "/api/v1/attributes/{name}", Some("admin")),
    ("GET", "/api/v1/api-keys", Some("admin")),
    ("POST", "/api/v1/api-keys", Some("admin")),
    ("DELETE", "/api/v1/api-keys/{id}", Some("admin")),
    ("GET", "/api/v1/users", Some("admin")),
    ("POST", "/api/v1/users", Some("admin")),
    ("GET", "/api/v1/audit", Some("admin")),
    ("GET", "/api/v1/events", Some("events:read")),
    ("POST", "/api/v1/receipts", Some("receipts:write")),
    (
        "POST",
        "/api/v1/receipts/{source}/{external_id}/returns",
        Some("receipts:write"),
    ),
    (
        "GET",
        "/api/v1/customers/{customer_number}/points",
        Some("customers:read"),
    ),
    (
        "POST",
        "/api/v1/customers/{customer_number}/points/adjustments",
        Some("customers:write"),
    ),
    (
        "GET",
        "/api/v1/customers/{customer_number}/figures",
        Some("customers:read"),
    ),
    (
        "GET",
        "/api/v1/customers/{customer_number}/vouchers",
        Some("customers:read"),
    ),
    (
        "GET",
        "/api/v1/customers/{customer_number}/scores",
        Some("customers:read"),
    ),
    ("POST", "/api/v1/vouchers", Some("vouchers:write")),
    ("GET", "/api/v1/vouchers/{code}", Some("vouchers:redeem")),
    (
        "POST",
        "/api/v1/vouchers/{code}/validate",
        Some("vouchers:redeem"),
    ),
    (
        "POST",
        "/api/v1/vouchers/{code}/redeem",
        Some("vouchers:redeem"),
    ),
    (
        "POST",
        "/api/v1/vouchers/{code}/reverse",
        Some("vouchers:redeem"),
    ),
    (
        "POST",
        "/api/v1/vouchers/{code}/cancel",
        Some("vouchers:write"),
    ),
    ("POST", "/api/v1/runs/bonus", Some("runs:write")),
    ("POST", "/api/v1/runs/birthday", Some("runs:write")),
    ("POST", "/api/v1/runs/expiry", Some("runs:write")),
    ("POST", "/api/v1/runs/scores", Some("runs:write")),
    ("GET", "/api/v1/runs", Some("runs:write")),
    ("GET", "/api/v1/runs/{id}", Some("runs:write")),
    (
        "GET",
        "/api/v1/runs/{id}/lettershop.csv",
        Some("runs:write"),
    ),
    ("GET", "/api/v1/stores", Some("customers:read")),
    ("PUT", "/api/v1/stores", Some("admin")),
    ("GET", "/api/v1/points-rules", Some("customers:read")),
    ("POST", "/api/v1/points-rules", Some("admin")),
    ("GET", "/api/v1/webhooks", Some("admin")),
    ("POST", "/api/v1/webhooks", Some("admin")),
    ("DELETE", "/api/v1/webhooks/{id}", Some("admin")),
    ("GET", "/api/v1/webhooks/{id}/deliveries", Some("admin")),
    ("GET", "/api/v1/segments", Some("segments:read")),
    ("POST", "/api/v1/segments", Some("segments:write")),
    ("POST", "/api/v1/segments/preview", Some("segments:read")),
    ("GET", "/api/v1/segments/{id}", Some("segments:read")),
    ("PUT", "/api/v1/segments/{id}", Some("segments:write")),
    ("DELETE", "/api/v1/segments/{id}", Some("segments:write")),
    ("GET", "/api/v1/segments/{id}/count", Some("segments:read")),
    (
        "GET",
        "/api/v1/segments/{id}/members",
        Some("segments:read"),
    ),
    (
        "GET",
        "/api/v1/segments/{id}/members.csv",
        Some("segments:read"),
    ),
    (
        "POST",
        "/api/v1/segments/{id}/snapshots",
        Some("segments:write"),
    ),
    ("GET", "/api/v1/campaigns", Some("segments:read")),
    ("POST", "/api/v1/campaigns", Some("campaigns:write")),
    ("GET", "/api/v1/campaigns/{id}", Some("segments:read")),
    (
        "POST",
        "/api/v1/campaigns/{id}/start",
        Some("campaigns:write"),
    ),
    (
        "GET",
        "/api/v1/campaigns/{id}/results",
        Some("segments:read"),
    ),
    (
        "GET",
        "/api/v1/campaigns/{id}/members",
        Some("segments:read"),
    ),
    (
        "GET",
        "/api/v1/campaigns/{id}/lettershop.csv",
        Some("campaigns:write"),
    ),
    (
        "GET",
        "/api/v1/campaigns/{id}/email.csv",
        Some("campaigns:write"),
    ),
    (
        "POST",
        "/api/v1/campaigns/{id}/sync",
        Some("campaigns:write"),
    ),
];

/// `Some(scope)` for a listed route, `None` for one that is not listed. `HEAD` is the `GET` of
/// the same path (the router answers it with the `GET` handler), so it needs the same scope.
pub fn required_scope(method: &Method, path: &str) -> Option<Option<&'static str>> {
    let method = if method == Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    ROUTES
        .iter()
        .find(|(m, p, _)| *m == method && *p == path)
        .map(|(_, _, s)| *s)
}

/// The methods the table lists for a path (with `HEAD` beside `GET`), for a 405's `Allow`.
pub fn allowed_methods(path: &str) -> Vec<&'static str> {
    let mut out = Vec::new();
    for (m, p, _) in ROUTES {
        if *p == path {
            out.push(*m);
            if *m == "GET" {
                out.push("HEAD");
            }
        }
    }
    out
}
