//! The OpenAPI document (`crates/kundo-web/openapi.json`) must describe exactly the routes of
//! `kundo_web::routes::ROUTES`, with the same scopes, and every `$ref` in it must resolve.

use std::collections::{BTreeMap, BTreeSet};

use kundo_web::openapi::DOCUMENT;
use kundo_web::routes::ROUTES;
use serde_json::Value;

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn document() -> Value {
    serde_json::from_str(DOCUMENT).unwrap_or_else(|e| panic!("openapi.json is not valid JSON: {e}"))
}

/// Every operation of the document: (METHOD, path) → operation object.
fn operations(doc: &Value) -> BTreeMap<(String, String), &Value> {
    let paths = doc["paths"].as_object().expect("`paths` must be an object");
    let mut out = BTreeMap::new();
    for (path, item) in paths {
        let item = item
            .as_object()
            .unwrap_or_else(|| panic!("path item {path} must be an object"));
        for (key, operation) in item {
            if METHODS.contains(&key.as_str()) {
                out.insert((key.to_uppercase(), path.clone()), operation);
            }
        }
    }
    out
}

fn table() -> BTreeMap<(String, String), Option<&'static str>> {
    ROUTES
        .iter()
        .map(|(m, p, s)| ((m.to_string(), p.to_string()), *s))
        .collect()
}

#[test]
fn it_is_openapi_3_1() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "Kundo API");
    assert!(doc["info"]["version"].is_string());
}

#[test]
fn paths_match_the_route_table_exactly() {
    let doc = document();
    let documented: BTreeSet<(String, String)> = operations(&doc).into_keys().collect();
    let routed: BTreeSet<(String, String)> = table().into_keys().collect();
    let missing: Vec<String> = routed
        .difference(&documented)
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    let extra: Vec<String> = documented
        .difference(&routed)
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "openapi.json and routes::ROUTES disagree.\n  routes without an operation in openapi.json: {missing:?}\n  operations in openapi.json that are not routes: {extra:?}"
    );
}

#[test]
fn every_operation_names_the_scope_of_its_route() {
    let doc = document();
    let table = table();
    let mut wrong = Vec::new();
    for ((method, path), operation) in operations(&doc) {
        let Some(expected) = table.get(&(method.clone(), path.clone())) else {
            continue;
        };
        let expected = match expected {
            Some(scope) => Value::String(scope.to_string()),
            None => Value::Null,
        };
        match operation.get("x-scope") {
            Some(actual) if *actual == expected => {}
            Some(actual) => wrong.push(format!(
                "{method} {path}: x-scope is {actual}, the route table says {expected}"
            )),
            None => wrong.push(format!(
                "{method} {path}: x-scope is missing, the route table says {expected}"
            )),
        }
        // Public operations need no credentials; all others accept a key or a session.
        let security = operation.get("security").and_then(Value::as_array);
        let ok = match (&expected, security) {
            (Value::Null, Some(s)) => s.is_empty(),
            (_, Some(s)) => {
                let names: BTreeSet<&str> = s
                    .iter()
                    .filter_map(Value::as_object)
                    .flat_map(|o| o.keys().map(String::as_str))
                    .collect();
                names == BTreeSet::from(["bearer", "session"])
            }
            (_, None) => false,
        };
        if !ok {
            wrong.push(format!(
                "{method} {path}: security does not fit the scope {expected}"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "operations with the wrong scope:\n  {}",
        wrong.join("\n  ")
    );
}

#[test]
fn operations_have_unique_ids_and_declare_their_path_parameters() {
    let doc = document();
    let mut ids = BTreeSet::new();
    let mut problems = Vec::new();
    for ((method, path), operation) in operations(&doc) {
        match operation.get("operationId").and_then(Value::as_str) {
            Some(id) if !ids.insert(id.to_string()) => {
                problems.push(format!("{method} {path}: operationId {id} is used twice"))
            }
            Some(_) => {}
            None => problems.push(format!("{method} {path}: no operationId")),
        }
        let declared: BTreeSet<String> = operation
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|p| resolve(&doc, p))
            .filter(|p| p["in"] == "path")
            .filter_map(|p| p["name"].as_str().map(str::to_string))
            .collect();
        let in_path: BTreeSet<String> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(str::to_string)
            .collect();
        if declared != in_path {
            problems.push(format!(
                "{method} {path}: path parameters {declared:?} do not match {in_path:?}"
            ));
        }
        if operation
            .get("responses")
            .and_then(Value::as_object)
            .is_none_or(|r| r.is_empty())
        {
            problems.push(format!("{method} {path}: no responses"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Follows a `$ref` (if any) to the object it names.
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
    {
        Some(pointer) => doc.pointer(pointer).unwrap_or(&Value::Null),
        None => v,
    }
}

fn collect_refs<'a>(v: &'a Value, at: String, out: &mut Vec<(String, &'a str)>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if k == "$ref" {
                    if let Some(r) = child.as_str() {
                        out.push((at.clone(), r));
                    }
                } else {
                    collect_refs(
                        child,
                        format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                        out,
                    );
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                collect_refs(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn every_ref_points_to_an_existing_component() {
    let doc = document();
    let mut refs = Vec::new();
    collect_refs(&doc, String::new(), &mut refs);
    assert!(!refs.is_empty(), "the document uses no $ref at all");
    let broken: Vec<String> = refs
        .iter()
        .filter(|(_, r)| {
            !(r.starts_with("#/components/")
                && r.strip_prefix('#').and_then(|p| doc.pointer(p)).is_some())
        })
        .map(|(at, r)| format!("{at}: {r}"))
        .collect();
    assert!(
        broken.is_empty(),
        "$refs that point nowhere:\n  {}",
        broken.join("\n  ")
    );
}

#[test]
fn unsafe_operations_take_the_csrf_header_and_errors_are_problems() {
    let doc = document();
    let mut wrong = Vec::new();
    for ((method, path), operation) in operations(&doc) {
        let safe = matches!(method.as_str(), "GET" | "HEAD" | "OPTIONS");
        let csrf = operation
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|p| resolve(&doc, p))
            .any(|p| p["in"] == "header" && p["name"] == "X-CSRF-Token");
        // Public routes have no session, hence no CSRF token.
        let public = operation.get("x-scope") == Some(&Value::Null);
        if !safe && !public && !csrf {
            wrong.push(format!("{method} {path}: no X-CSRF-Token header parameter"));
        }
        let responses = operation["responses"].as_object().into_iter().flatten();
        for (status, response) in responses {
            // The health check answers its 503 in plain JSON on purpose.
            if !(status.starts_with('4') || status.starts_with('5')) || path == "/health" {
                continue;
            }
            let content = resolve(&doc, response)["content"].as_object();
            let problem = content.is_some_and(|c| {
                c.len() == 1
                    && c.get("application/problem+json")
                        .is_some_and(|m| m["schema"]["$ref"] == "#/components/schemas/Problem")
            });
            if !problem {
                wrong.push(format!(
                    "{method} {path} {status}: not an application/problem+json Problem"
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Every enum of the document that the code also lists says exactly what the code says
/// (issue 18, item 10: `Run.kind` lacked `scores`, the scopes lacked `tasks:*`).
#[test]
fn enums_are_the_code_s_lists() {
    use kundo_core::{auth, customer, history};
    let doc = document();
    let s = |p: &str| format!("/components/schemas/{p}");
    let table: Vec<(String, Vec<&str>)> = vec![
        (
            s("ApiKeyInput/properties/scopes/items/enum"),
            auth::SCOPES.to_vec(),
        ),
        (
            s("ApiKey/properties/scopes/items/enum"),
            auth::SCOPES.to_vec(),
        ),
        (
            s("Whoami/properties/scopes/items/enum"),
            auth::SCOPES.to_vec(),
        ),
        (
            s("CustomerInput/properties/kind/enum"),
            customer::KINDS.to_vec(),
        ),
        (
            s("ConsentInput/properties/channel/enum"),
            customer::CHANNELS.to_vec(),
        ),
        (
            s("ConsentInput/properties/status/enum"),
            customer::CONSENT_STATUSES.to_vec(),
        ),
        (
            s("Phone/properties/kind/enum"),
            customer::PHONE_KINDS.to_vec(),
        ),
        (
            s("AddressRecord/properties/kind/enum"),
            customer::ADDRESS_KINDS.to_vec(),
        ),
        (
            s("AddressRecord/properties/postal_status/enum"),
            customer::POSTAL_STATUSES.to_vec(),
        ),
        (
            s("TaskInput/properties/kind/enum"),
            history::TASK_KINDS.to_vec(),
        ),
        (
            s("Task/properties/status/enum"),
            history::TASK_STATUSES.to_vec(),
        ),
        (
            s("CaseInput/properties/kind/enum"),
            history::CASE_KINDS.to_vec(),
        ),
        (
            s("Case/properties/status/enum"),
            history::CASE_STATUSES.to_vec(),
        ),
        (
            s("ActivityInput/properties/kind/enum"),
            history::LOGGABLE_KINDS.to_vec(),
        ),
        (
            s("TimelineEntry/properties/kind/enum"),
            history::TIMELINE_KINDS.to_vec(),
        ),
    ];
    let mut wrong = Vec::new();
    for (pointer, code) in table {
        let documented: BTreeSet<&str> = doc
            .pointer(&pointer)
            .and_then(Value::as_array)
            .unwrap_or_else(|| panic!("{pointer} is not an enum"))
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let code: BTreeSet<&str> = code.into_iter().collect();
        if documented != code {
            wrong.push(format!("{pointer}: document {documented:?}, code {code:?}"));
        }
    }
    // Values with nullable enums: the code's list plus null.
    for (pointer, code) in [
        (s("CustomerInput/properties/gender/enum"), customer::GENDERS),
        (
            s("CustomerInput/properties/preferred_channel/enum"),
            customer::CHANNELS,
        ),
    ] {
        let documented: Vec<Value> = doc
            .pointer(&pointer)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut expected: Vec<Value> = code.iter().map(|c| Value::from(*c)).collect();
        expected.push(Value::Null);
        if documented != expected {
            wrong.push(format!(
                "{pointer}: document {documented:?}, code {code:?} and null"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The kinds of runs the server records: every kind that `GET /api/v1/runs` can answer.
#[test]
fn run_kinds_include_every_job_that_records_a_run() {
    let doc = document();
    let kinds = &doc["components"]["schemas"]["Run"]["properties"]["kind"]["enum"];
    assert_eq!(kinds, &serde_json::json!(["bonus", "birthday", "scores"]));
}

/// Every operation that reads a body documents the 413 of the body limit, as a problem.
#[test]
fn every_operation_with_a_body_documents_413() {
    let doc = document();
    let missing: Vec<String> = operations(&doc)
        .into_iter()
        .filter(|(_, op)| op.get("requestBody").is_some())
        .filter(|(_, op)| op["responses"].get("413").is_none())
        .map(|((m, p), _)| format!("{m} {p}"))
        .collect();
    assert!(missing.is_empty(), "no 413: {missing:?}");
}
