//! Custom attributes (flexibles Datenmodell): admins define fields at run time; values are
//! validated on write and stored as canonical text (plus an integer form for range filters).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Errors, FieldError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttrType {
    String,
    Integer,
    Boolean,
    Date,
    Enum,
}

impl AttrType {
    pub fn as_str(self) -> &'static str {
        match self {
            AttrType::String => "string",
            AttrType::Integer => "integer",
            AttrType::Boolean => "boolean",
            AttrType::Date => "date",
            AttrType::Enum => "enum",
        }
    }

    pub fn parse(s: &str) -> Option<AttrType> {
        match s {
            "string" => Some(AttrType::String),
            "integer" => Some(AttrType::Integer),
            "boolean" => Some(AttrType::Boolean),
            "date" => Some(AttrType::Date),
            "enum" => Some(AttrType::Enum),
            _ => None,
        }
    }
}

/// The definition an admin writes. `name` is the key in `attributes` and in filters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeDefinition {
    pub name: String,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(rename = "type")]
    pub attr_type: AttrType,
    #[serde(default)]
    pub allowed_values: Vec<String>,
    #[serde(default)]
    pub required: bool,
}

/// Names that would shadow built-in filters or fields are refused.
const RESERVED: &[&str] = &[
    "id",
    "kind",
    "status",
    "limit",
    "cursor",
    "q",
    "email",
    "phone",
    "postcode",
    "city",
    "country",
    "gender",
    "language",
    "customer_number",
    "first_name",
    "last_name",
];

impl AttributeDefinition {
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Errors::default();
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 40
            && self.name.starts_with(|c: char| c.is_ascii_lowercase())
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !name_ok {
            errors.push(
                "name",
                "must be 1-40 characters of a-z, 0-9 and _, starting with a letter",
            );
        } else if RESERVED.contains(&self.name.as_str()) {
            errors.push("name", "is reserved for a built-in field");
        }
        match self.attr_type {
            AttrType::Enum if self.allowed_values.is_empty() => {
                errors.push("allowed_values", "an enum needs at least one allowed value")
            }
            AttrType::Enum => {
                for (i, v) in self.allowed_values.iter().enumerate() {
                    if v.trim().is_empty() || v.chars().count() > 200 {
                        errors.push(format!("allowed_values[{i}]"), "must be 1-200 characters");
                    }
                }
            }
            _ if !self.allowed_values.is_empty() => errors.push(
                "allowed_values",
                "only an enum attribute has allowed values",
            ),
            _ => {}
        }
        errors.into_result(())
    }

    /// Checks a JSON value against this definition and returns its canonical text and, for
    /// integers, the number.
    pub fn canonical(&self, value: &Value) -> Result<AttrValue, String> {
        match (self.attr_type, value) {
            (AttrType::String, Value::String(s)) => {
                let s = s.trim();
                if s.is_empty() {
                    Err("must not be empty".into())
                } else if s.chars().count() > 500 {
                    Err("is longer than 500 characters".into())
                } else if s.chars().any(char::is_control) {
                    Err("contains control characters".into())
                } else {
                    Ok(AttrValue::text(s.to_string()))
                }
            }
            (AttrType::Integer, Value::Number(n)) => n
                .as_i64()
                .map(|i| AttrValue {
                    text: i.to_string(),
                    int: Some(i),
                })
                .ok_or_else(|| "must be a whole number".to_string()),
            (AttrType::Boolean, Value::Bool(b)) => Ok(AttrValue::text(b.to_string())),
            (AttrType::Date, Value::String(s)) => crate::dates::parse_iso_date(s)
                .map(|d| AttrValue::text(d.format("%Y-%m-%d").to_string())),
            (AttrType::Enum, Value::String(s)) => {
                if self.allowed_values.iter().any(|a| a == s) {
                    Ok(AttrValue::text(s.clone()))
                } else {
                    Err(format!(
                        "must be one of: {}",
                        self.allowed_values.join(", ")
                    ))
                }
            }
            (t, _) => Err(format!("must be a {} value", t.as_str())),
        }
    }

    /// Parses the text form (CSV, query strings) into the JSON value this attribute takes.
    pub fn parse_text(&self, text: &str) -> Result<Value, String> {
        match self.attr_type {
            AttrType::Integer => text
                .trim()
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| "must be a whole number".to_string()),
            AttrType::Boolean => match text.trim() {
                "true" | "1" | "ja" | "yes" => Ok(Value::Bool(true)),
                "false" | "0" | "nein" | "no" => Ok(Value::Bool(false)),
                _ => Err("must be true or false".into()),
            },
            _ => Ok(Value::String(text.to_string())),
        }
    }

    /// Turns the stored text back into JSON for API answers.
    pub fn to_json(&self, text: &str) -> Value {
        self.parse_text(text)
            .unwrap_or_else(|_| Value::String(text.to_string()))
    }
}

/// A validated attribute value as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrValue {
    pub text: String,
    pub int: Option<i64>,
}

impl AttrValue {
    fn text(text: String) -> Self {
        Self { text, int: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def(t: AttrType, allowed: &[&str]) -> AttributeDefinition {
        AttributeDefinition {
            name: "branche".into(),
            label: None,
            attr_type: t,
            allowed_values: allowed.iter().map(|s| s.to_string()).collect(),
            required: false,
        }
    }

    #[test]
    fn enum_values_outside_the_set_are_refused() {
        let d = def(AttrType::Enum, &["Architektur", "Schule"]);
        assert_eq!(d.canonical(&json!("Schule")).unwrap().text, "Schule");
        let err = d.canonical(&json!("Bank")).unwrap_err();
        assert!(err.contains("Architektur, Schule"), "{err}");
        assert!(d.canonical(&json!(3)).is_err());
    }

    #[test]
    fn integers_keep_their_number_for_range_filters() {
        let d = def(AttrType::Integer, &[]);
        assert_eq!(
            d.canonical(&json!(42)).unwrap(),
            AttrValue {
                text: "42".into(),
                int: Some(42)
            }
        );
        assert!(d.canonical(&json!(4.5)).is_err());
        assert!(d.canonical(&json!("42")).is_err());
        assert_eq!(d.to_json("42"), json!(42));
    }

    #[test]
    fn dates_and_booleans_are_checked() {
        assert!(
            def(AttrType::Date, &[])
                .canonical(&json!("2026-02-30"))
                .is_err()
        );
        assert_eq!(
            def(AttrType::Date, &[])
                .canonical(&json!("2024-02-29"))
                .unwrap()
                .text,
            "2024-02-29"
        );
        assert_eq!(
            def(AttrType::Boolean, &[])
                .canonical(&json!(true))
                .unwrap()
                .text,
            "true"
        );
        assert_eq!(def(AttrType::Boolean, &[]).to_json("true"), json!(true));
    }

    #[test]
    fn definitions_are_validated() {
        assert!(def(AttrType::Enum, &[]).validate().is_err());
        assert!(def(AttrType::String, &["x"]).validate().is_err());
        let mut d = def(AttrType::String, &[]);
        d.name = "Bad Name".into();
        assert_eq!(d.validate().unwrap_err()[0].field, "name");
        d.name = "email".into();
        assert!(d.validate().is_err());
    }
}
