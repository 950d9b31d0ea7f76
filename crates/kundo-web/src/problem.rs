//! RFC 9457 problem details: every error answer names what went wrong and, where a field is to
//! blame, which one.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kundo_app::AppError;
use kundo_core::error::FieldError;
use serde::Serialize;

/// A problem answer. Boxed, so that `Result<_, Problem>` stays small on the happy path.
#[derive(Debug)]
pub struct Problem(Box<ProblemBody>);

impl std::ops::Deref for Problem {
    type Target = ProblemBody;
    fn deref(&self) -> &ProblemBody {
        &self.0
    }
}

#[derive(Debug, Serialize)]
pub struct ProblemBody {
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The first field at fault, for clients that show one message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Problem-specific members (RFC 9457 extensions), e.g. when and where a voucher was redeemed.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Problem {
    pub fn new(status: StatusCode, slug: &str, title: &str) -> Self {
        Problem(Box::new(ProblemBody {
            problem_type: format!("/problems/{slug}"),
            title: title.to_string(),
            status: status.as_u16(),
            detail: None,
            field: None,
            errors: Vec::new(),
            extra: serde_json::Map::new(),
        }))
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.0.detail = Some(detail.into());
        self
    }

    pub fn with(mut self, key: &str, value: serde_json::Value) -> Self {
        self.0.extra.insert(key.to_string(), value);
        self
    }

    pub fn field(mut self, field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        let message = message.into();
        if self.0.field.is_none() {
            self.0.field = Some(field.clone());
        }
        if self.0.detail.is_none() {
            self.0.detail = Some(format!("{field}: {message}"));
        }
        self.0.errors.push(FieldError::new(field, message));
        self
    }

    pub fn invalid(errors: Vec<FieldError>) -> Self {
        let mut p = Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            "The request has invalid fields",
        );
        for e in errors {
            p = p.field(e.field, e.message);
        }
        p
    }

    pub fn unauthorized() -> Self {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Authentication required",
        )
        .detail("send 'Authorization: Bearer KEY' or log in")
    }

    pub fn forbidden(scope: &str) -> Self {
        Problem::new(StatusCode::FORBIDDEN, "forbidden", "Missing scope")
            .detail(format!("this route needs the scope '{scope}'"))
    }

    pub fn not_found(what: &str) -> Self {
        Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found")
            .detail(format!("{what} not found"))
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&*self.0).unwrap_or_default();
        let mut res = (status, body).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        res
    }
}

impl From<AppError> for Problem {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Invalid(errors) => Problem::invalid(errors),
            AppError::NotFound(what) => Problem::not_found(what),
            AppError::Conflict { field, message } => {
                Problem::new(StatusCode::CONFLICT, "conflict", "Conflict").field(field, message)
            }
            AppError::Stale => Problem::new(
                StatusCode::PRECONDITION_FAILED,
                "stale",
                "Precondition failed",
            )
            .detail(
                "the record was changed since you read it; fetch it again and reapply your change",
            ),
            AppError::Unauthorized(msg) => Problem::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Authentication failed",
            )
            .detail(msg),
            AppError::Store(e) => {
                // The cause goes to the log, not to the client.
                tracing::error!(error = %e, "store error");
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "store-unavailable",
                    "The database could not complete the request",
                )
            }
            AppError::InvalidCode(msg) => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-code",
                "Not a valid voucher code",
            )
            .field("code", msg),
            AppError::VoucherRefused(reason) => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "voucher-not-usable",
                "The voucher cannot be used",
            )
            .detail(format!("the voucher cannot be used: {reason}"))
            .with("reason", serde_json::Value::from(reason)),
            AppError::AlreadyRedeemed {
                at,
                channel,
                store_code,
            } => {
                let when = at.map(|t| t.to_rfc3339()).unwrap_or_default();
                let place = match (&channel, &store_code) {
                    (_, Some(s)) => format!("in store {s}"),
                    (Some(c), None) => format!("via {c}"),
                    _ => String::new(),
                };
                Problem::new(StatusCode::CONFLICT, "already-redeemed", "Already redeemed")
                    .detail(
                        format!("the voucher was redeemed at {when} {place}")
                            .trim()
                            .to_string(),
                    )
                    .with("redeemed_at", serde_json::json!(at))
                    .with("redeemed_channel", serde_json::json!(channel))
                    .with("redeemed_store", serde_json::json!(store_code))
            }
            AppError::Duplicates(found) => Problem::new(
                StatusCode::CONFLICT,
                "likely-duplicate",
                "Likely duplicate",
            )
            .detail(format!(
                "{} existing customer(s) look like the same person; check them, merge, or create anyway with ?force=true",
                found.len()
            ))
            .with("duplicates", serde_json::to_value(&found).unwrap_or_default()),
            AppError::Io(e) => {
                tracing::error!(error = %e, "internal error");
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Internal error",
                )
            }
        }
    }
}
