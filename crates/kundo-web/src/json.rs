//! JSON request bodies with errors that say where: malformed JSON gives line and column, a wrong
//! type or an unknown field gives the path of the field (`addresses[0].postcode`).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use crate::problem::Problem;

pub struct JsonBody<T>(pub T, pub Bytes);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| {
                ct.starts_with("application/json") || ct.starts_with("application/merge-patch+json")
            });
        if !is_json {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Expected JSON",
            )
            .detail("send the body with 'Content-Type: application/json'"));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Problem::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too-large",
                    "Request body too large",
                )
                .detail(e.body_text())
            } else {
                Problem::new(StatusCode::BAD_REQUEST, "bad-body", "Unreadable body")
                    .detail(e.body_text())
            }
        })?;
        let value = parse(&bytes)?;
        Ok(JsonBody(value, bytes))
    }
}

/// Parses JSON into `T`, turning serde's errors into problems that name the place.
///
/// JSON has one kind of number: `1990.0` is the integer 1990 (JSON Schema agrees), so a number
/// with no fraction is read as an integer wherever the body wants one.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    let mut value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|inner| {
            Problem::new(StatusCode::BAD_REQUEST, "malformed-json", "Malformed JSON").detail(
                format!("{inner} (line {}, column {})", inner.line(), inner.column()),
            )
        })?;
    integral_numbers_as_integers(&mut value);
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = inner.to_string();
        // A missing field is reported at the object that lacks it; name the field itself.
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next());
        let field = match (path.as_str(), missing) {
            (".", Some(name)) => name.to_string(),
            (_, Some(name)) => format!("{path}.{name}"),
            (".", None) => "body".to_string(),
            _ => path,
        };
        // The path already names an unknown field itself. serde appends " at line L column C" which means nothing to a field-level message.
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_string();
        Problem::invalid(vec![kundo_core::error::FieldError::new(field, message)])
    })
}

/// Turns every float without a fraction that fits an `i64` into that integer.
fn integral_numbers_as_integers(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && f >= i64::MIN as f64
                && f < i64::MAX as f64
            {
                // Checked just above: `f` is whole and within the range of `i64`.
                *v = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_numbers_as_integers),
        Value::Object(map) => map.values_mut().for_each(integral_numbers_as_integers),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kundo_core::customer::CustomerInput;

    #[test]
    fn errors_name_the_field() {
        let p = parse::<CustomerInput>(
            br#"{"last_name": "A", "addresses": [{"street": 5, "postcode": "8001", "city": "Z"}]}"#,
        )
        .unwrap_err();
        assert_eq!(p.status, 422);
        assert_eq!(p.field.as_deref(), Some("addresses[0].street"));
        let p = parse::<CustomerInput>(br#"{"last_name": "A", "shoe_size": 42}"#).unwrap_err();
        assert_eq!(p.field.as_deref(), Some("shoe_size"));
        let p = parse::<CustomerInput>(br#"{"last_name": "A", "addresses": [{"street": "B"}]}"#)
            .unwrap_err();
        assert_eq!(p.field.as_deref(), Some("addresses[0].postcode"));
        let p = parse::<CustomerInput>(br#"{"last_name": "A", "#).unwrap_err();
        assert_eq!(p.status, 400);
    }

    #[test]
    fn a_number_without_fraction_is_an_integer() {
        #[derive(Debug, serde::Deserialize)]
        struct Line {
            amount: i64,
            lines: Vec<i64>,
        }
        let l: Line = parse(br#"{"amount": 1990.0, "lines": [-3.0, 4]}"#).unwrap();
        assert_eq!((l.amount, l.lines), (1990, vec![-3, 4]));
        let p = parse::<Line>(br#"{"amount": 19.9, "lines": []}"#).unwrap_err();
        assert_eq!(p.field.as_deref(), Some("amount"));
        let p = parse::<Line>(br#"{"amount": 1e30, "lines": []}"#).unwrap_err();
        assert_eq!(p.field.as_deref(), Some("amount"));
    }
}
