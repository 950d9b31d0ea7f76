//! The customer master record (DOMAIN §1): the input shape the API and the import accept, the
//! validated and normalized state the store writes, and the field-by-field diff the audit log keeps.
//!
//! One validator serves create, change and import: a change is applied to the current state's
//! input form and the result is validated as a whole, so a change can never produce a record that
//! a create would refuse.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::attributes::{AttrValue, AttributeDefinition};
use crate::consent_status::ConsentStatus;
use crate::contact::{
    normalize_card_number, normalize_country, normalize_email, normalize_name, normalize_phone,
    normalize_postcode,
};
use crate::error::{Errors, FieldError};

pub const GENDERS: &[&str] = &["female", "male", "diverse", "unknown"];
pub const CHANNELS: &[&str] = &["email", "letter", "phone", "sms"];
pub const PHONE_KINDS: &[&str] = &["mobile", "home", "work", "fax", "other"];
pub const ADDRESS_KINDS: &[&str] = &["main", "billing", "delivery"];
/// The names of [`ConsentStatus::ALL`].
pub const CONSENT_STATUSES: &[&str] = &ConsentStatus::NAMES;
pub const POSTAL_STATUSES: &[&str] = &["ok", "blocked", "research"];
/// A customer's status (DOMAIN §1).
pub const STATUSES: &[&str] = &["active", "merged", "erased"];
pub const KINDS: &[&str] = &["person", "organization"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    #[default]
    Person,
    Organization,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Person => "person",
            Kind::Organization => "organization",
        }
    }
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "person" => Some(Kind::Person),
            "organization" => Some(Kind::Organization),
            _ => None,
        }
    }
}

/// What `POST /api/v1/customers` takes (API.md). Unknown fields are refused.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_number: Option<String>,
    #[serde(default)]
    pub kind: Kind,
    #[serde(default)]
    pub salutation: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub company_name: Option<String>,
    #[serde(default)]
    pub birth_date: Option<String>,
    #[serde(default)]
    pub gender: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phones: Vec<PhoneInput>,
    #[serde(default)]
    pub addresses: Vec<AddressInput>,
    #[serde(default)]
    pub card_numbers: Vec<String>,
    #[serde(default)]
    pub preferred_channel: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consents: Vec<ConsentInput>,
    #[serde(default)]
    pub attributes: Map<String, Value>,
    #[serde(default)]
    pub contacts: Vec<ContactInput>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhoneInput {
    #[serde(default)]
    pub kind: Option<String>,
    pub number: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressInput {
    #[serde(default)]
    pub kind: Option<String>,
    pub street: String,
    #[serde(default)]
    pub house_number: Option<String>,
    #[serde(default)]
    pub address_line2: Option<String>,
    pub postcode: String,
    pub city: String,
    #[serde(default)]
    pub country: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentInput {
    pub channel: String,
    pub status: String,
    pub source: String,
    #[serde(default)]
    pub proof: Option<String>,
    #[serde(default)]
    pub recorded_at: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    #[serde(default)]
    pub salutation: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    pub last_name: String,
    pub role: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

/// A validated, normalized customer: what the store writes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CustomerData {
    pub kind: Kind,
    pub salutation: Option<String>,
    pub title: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company_name: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub gender: Option<String>,
    pub language: Option<String>,
    pub email: Option<String>,
    pub preferred_channel: Option<String>,
    pub phones: Vec<Phone>,
    /// Current addresses only; the store keeps the history.
    pub addresses: Vec<Address>,
    /// Active cards.
    pub card_numbers: Vec<String>,
    pub attributes: BTreeMap<String, AttrValue>,
    pub contacts: Vec<Contact>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Phone {
    pub kind: String,
    pub number: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Address {
    pub kind: String,
    pub street: String,
    pub house_number: Option<String>,
    pub address_line2: Option<String>,
    pub postcode: String,
    pub city: String,
    pub country: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contact {
    pub salutation: Option<String>,
    pub first_name: Option<String>,
    pub last_name: String,
    pub role: String,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// One explicit statement of consent (DOMAIN §12); the latest per channel wins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Consent {
    pub channel: String,
    pub status: String,
    pub source: String,
    pub proof: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

/// The outcome of validating an input: the record and the new consent statements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validated {
    pub customer_number: Option<String>,
    pub data: CustomerData,
    pub consents: Vec<Consent>,
}

const MAX_LIST: usize = 10;

fn opt_text(
    errors: &mut Errors,
    field: &str,
    value: &Option<String>,
    max: usize,
) -> Option<String> {
    let v = value.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    if v.chars().count() > max {
        errors.push(field, format!("is longer than {max} characters"));
        return None;
    }
    if v.chars().any(crate::invisible::is_invisible) {
        errors.push(field, "contains control or invisible characters");
        return None;
    }
    Some(v.to_string())
}

fn opt_name(
    errors: &mut Errors,
    field: &str,
    value: &Option<String>,
    max: usize,
) -> Option<String> {
    let v = value.as_deref().filter(|s| !s.trim().is_empty())?;
    errors.check(field, normalize_name(v, max))
}

fn one_of(
    errors: &mut Errors,
    field: &str,
    value: &Option<String>,
    allowed: &[&str],
) -> Option<String> {
    let v = value.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    if allowed.contains(&v) {
        Some(v.to_string())
    } else {
        errors.push(field, format!("must be one of: {}", allowed.join(", ")));
        None
    }
}

/// Customer numbers that a user supplies (e.g. from a legacy system on import).
pub fn validate_customer_number(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.is_empty() || s.len() > 20 {
        return Err("must be 1-20 characters".into());
    }
    if !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err("may contain only letters, digits and -".into());
    }
    Ok(s.to_string())
}

/// The customer number Kundo gives a new customer: 1,000,000 + internal id and a Luhn check digit,
/// so that a mistyped number is caught before it finds the wrong person.
pub fn customer_number_for(id: i64) -> String {
    let base = (1_000_000 + id).to_string();
    let check = crate::contact::luhn_check_digit(&base).unwrap_or(0);
    format!("{base}{check}")
}

/// A birth date: strictly `YYYY-MM-DD` ([`crate::dates::parse_iso_date`]), from 1900 to today.
pub fn parse_birth_date(s: &str, today: NaiveDate) -> Result<NaiveDate, String> {
    let d = crate::dates::parse_iso_date(s)?;
    if d > today {
        return Err("lies in the future".into());
    }
    if d < NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(d) {
        return Err("is before 1900".into());
    }
    Ok(d)
}

/// An RFC 3339 timestamp as sent, without surrounding blanks (like dates, see [`crate::dates`]).
pub fn parse_timestamp(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| "must be an RFC 3339 timestamp such as 2026-11-01T09:00:00Z".to_string())
}

impl CustomerInput {
    /// Validates and normalizes the whole input. `defs` are the custom attribute definitions;
    /// `now` fixes "today" for birth dates and the default consent time.
    pub fn validate(
        &self,
        defs: &[AttributeDefinition],
        now: DateTime<Utc>,
    ) -> Result<Validated, Vec<FieldError>> {
        let mut e = Errors::default();
        let today = now.date_naive();
        let customer_number = self
            .customer_number
            .as_deref()
            .and_then(|n| e.check("customer_number", validate_customer_number(n)));

        let mut d = CustomerData {
            kind: self.kind,
            salutation: opt_text(&mut e, "salutation", &self.salutation, 30),
            title: opt_text(&mut e, "title", &self.title, 30),
            first_name: opt_name(&mut e, "first_name", &self.first_name, 100),
            last_name: opt_name(&mut e, "last_name", &self.last_name, 100),
            company_name: opt_name(&mut e, "company_name", &self.company_name, 200),
            birth_date: self
                .birth_date
                .as_deref()
                .filter(|s| !s.trim().is_empty())
                .and_then(|s| e.check("birth_date", parse_birth_date(s, today))),
            gender: one_of(&mut e, "gender", &self.gender, GENDERS),
            language: None,
            email: self
                .email
                .as_deref()
                .filter(|s| !s.trim().is_empty())
                .and_then(|s| e.check("email", normalize_email(s))),
            preferred_channel: one_of(
                &mut e,
                "preferred_channel",
                &self.preferred_channel,
                CHANNELS,
            ),
            ..CustomerData::default()
        };
        if let Some(lang) = self
            .language
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            if lang.len() == 2 && lang.chars().all(|c| c.is_ascii_lowercase()) {
                d.language = Some(lang.to_string());
            } else {
                e.push(
                    "language",
                    "must be a two-letter ISO 639-1 code such as de, fr, it, en",
                );
            }
        }
        match self.kind {
            Kind::Person => {
                if d.last_name.is_none()
                    && self
                        .last_name
                        .as_deref()
                        .is_none_or(|s| s.trim().is_empty())
                {
                    e.push("last_name", "is required for a person");
                }
                if !self.contacts.is_empty() {
                    e.push("contacts", "only an organization has contact persons");
                }
            }
            Kind::Organization => {
                if d.company_name.is_none()
                    && self
                        .company_name
                        .as_deref()
                        .is_none_or(|s| s.trim().is_empty())
                {
                    e.push("company_name", "is required for an organization");
                }
                if d.birth_date.is_some() {
                    e.push("birth_date", "an organization has no birth date");
                }
            }
        }

        // Addresses first: their country is the default for national phone numbers.
        if self.addresses.len() > MAX_LIST {
            e.push("addresses", format!("at most {MAX_LIST} addresses"));
        }
        for (i, a) in self.addresses.iter().enumerate().take(MAX_LIST) {
            let f = |name: &str| format!("addresses[{i}].{name}");
            let kind =
                one_of(&mut e, &f("kind"), &a.kind, ADDRESS_KINDS).unwrap_or_else(|| "main".into());
            if d.addresses.iter().any(|x: &Address| x.kind == kind) {
                e.push(
                    f("kind"),
                    format!("a second '{kind}' address; give each address its own kind"),
                );
            }
            let country = match a.country.as_deref().filter(|c| !c.trim().is_empty()) {
                Some(c) => e.check(f("country"), normalize_country(c)),
                None => Some("CH".to_string()),
            };
            let street = e.check(f("street"), normalize_name(&a.street, 100));
            let house_number = opt_text(&mut e, &f("house_number"), &a.house_number, 12);
            let address_line2 = opt_text(&mut e, &f("address_line2"), &a.address_line2, 100);
            let city = e.check(f("city"), normalize_name(&a.city, 100));
            let postcode = country
                .as_deref()
                .and_then(|c| e.check(f("postcode"), normalize_postcode(c, &a.postcode)));
            if let (Some(street), Some(postcode), Some(city), Some(country)) =
                (street, postcode, city, country)
            {
                d.addresses.push(Address {
                    kind,
                    street,
                    house_number,
                    address_line2,
                    postcode,
                    city,
                    country,
                });
            }
        }
        let phone_country = d
            .addresses
            .first()
            .map(|a| a.country.clone())
            .unwrap_or_else(|| "CH".into());

        if self.phones.len() > MAX_LIST {
            e.push("phones", format!("at most {MAX_LIST} phone numbers"));
        }
        for (i, p) in self.phones.iter().enumerate().take(MAX_LIST) {
            let kind = one_of(&mut e, &format!("phones[{i}].kind"), &p.kind, PHONE_KINDS)
                .unwrap_or_else(|| "mobile".into());
            if let Some(number) = e.check(
                format!("phones[{i}].number"),
                normalize_phone(&p.number, &phone_country),
            ) {
                if d.phones.iter().any(|x| x.number == number) {
                    e.push(format!("phones[{i}].number"), "is listed twice");
                } else {
                    d.phones.push(Phone { kind, number });
                }
            }
        }

        if self.card_numbers.len() > MAX_LIST {
            e.push("card_numbers", format!("at most {MAX_LIST} cards"));
        }
        for (i, c) in self.card_numbers.iter().enumerate().take(MAX_LIST) {
            if let Some(card) = e.check(format!("card_numbers[{i}]"), normalize_card_number(c)) {
                if d.card_numbers.contains(&card) {
                    e.push(format!("card_numbers[{i}]"), "is listed twice");
                } else {
                    d.card_numbers.push(card);
                }
            }
        }

        let mut consents = Vec::new();
        for (i, c) in self.consents.iter().enumerate().take(100) {
            let f = |name: &str| format!("consents[{i}].{name}");
            let channel = one_of(&mut e, &f("channel"), &Some(c.channel.clone()), CHANNELS);
            let status = one_of(
                &mut e,
                &f("status"),
                &Some(c.status.clone()),
                CONSENT_STATUSES,
            );
            let source = opt_text(&mut e, &f("source"), &Some(c.source.clone()), 100);
            if c.source.trim().is_empty() {
                e.push(
                    f("source"),
                    "is required: where the statement was given (e.g. webshop-doi, pos, letter)",
                );
            }
            let proof = opt_text(&mut e, &f("proof"), &c.proof, 2000);
            let recorded_at = match c.recorded_at.as_deref() {
                Some(s) => e.check(f("recorded_at"), parse_timestamp(s)).and_then(|t| {
                    if t > now + chrono::Duration::minutes(5) {
                        e.push(f("recorded_at"), "lies in the future");
                        None
                    } else {
                        Some(t)
                    }
                }),
                None => Some(now),
            };
            if let (Some(channel), Some(status), Some(source), Some(recorded_at)) =
                (channel, status, source, recorded_at)
            {
                consents.push(Consent {
                    channel,
                    status,
                    source,
                    proof,
                    recorded_at,
                });
            }
        }

        for (name, value) in &self.attributes {
            let field = format!("attributes.{name}");
            match defs.iter().find(|d| &d.name == name) {
                None => e.push(field, "is not a defined attribute"),
                Some(def) => {
                    if let Some(v) = e.check(field, def.canonical(value)) {
                        d.attributes.insert(name.clone(), v);
                    }
                }
            }
        }
        for def in defs.iter().filter(|d| d.required) {
            if !self.attributes.contains_key(&def.name) {
                e.push(format!("attributes.{}", def.name), "is required");
            }
        }

        for (i, c) in self.contacts.iter().enumerate().take(50) {
            let f = |name: &str| format!("contacts[{i}].{name}");
            let contact = Contact {
                salutation: opt_text(&mut e, &f("salutation"), &c.salutation, 30),
                first_name: opt_name(&mut e, &f("first_name"), &c.first_name, 100),
                last_name: e
                    .check(f("last_name"), normalize_name(&c.last_name, 100))
                    .unwrap_or_default(),
                role: opt_text(&mut e, &f("role"), &Some(c.role.clone()), 60).unwrap_or_default(),
                email: c
                    .email
                    .as_deref()
                    .filter(|s| !s.trim().is_empty())
                    .and_then(|s| e.check(f("email"), normalize_email(s))),
                phone: c
                    .phone
                    .as_deref()
                    .filter(|s| !s.trim().is_empty())
                    .and_then(|s| e.check(f("phone"), normalize_phone(s, &phone_country))),
            };
            if c.role.trim().is_empty() {
                e.push(f("role"), "is required");
            }
            d.contacts.push(contact);
        }

        match d.preferred_channel.as_deref() {
            Some("email") if d.email.is_none() && self.email.is_none() => {
                e.push("preferred_channel", "email needs an email address")
            }
            Some("letter") if d.addresses.is_empty() && self.addresses.is_empty() => {
                e.push("preferred_channel", "letter needs a postal address")
            }
            Some("sms") | Some("phone") if d.phones.is_empty() && self.phones.is_empty() => {
                e.push("preferred_channel", "needs a phone number")
            }
            _ => {}
        }
        e.into_result(Validated {
            customer_number,
            data: d,
            consents,
        })
    }
}

/// Keys a change may carry; anything else is refused by name.
const PATCHABLE: &[&str] = &[
    "salutation",
    "title",
    "first_name",
    "last_name",
    "company_name",
    "birth_date",
    "gender",
    "language",
    "email",
    "phones",
    "addresses",
    "card_numbers",
    "preferred_channel",
    "consents",
    "attributes",
    "contacts",
];

impl CustomerData {
    /// The input form of this record, the base a change is applied to.
    pub fn to_input(&self, defs: &[AttributeDefinition]) -> CustomerInput {
        CustomerInput {
            customer_number: None,
            kind: self.kind,
            salutation: self.salutation.clone(),
            title: self.title.clone(),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            company_name: self.company_name.clone(),
            birth_date: self.birth_date.map(|d| d.format("%Y-%m-%d").to_string()),
            gender: self.gender.clone(),
            language: self.language.clone(),
            email: self.email.clone(),
            phones: self
                .phones
                .iter()
                .map(|p| PhoneInput {
                    kind: Some(p.kind.clone()),
                    number: p.number.clone(),
                })
                .collect(),
            addresses: self
                .addresses
                .iter()
                .map(|a| AddressInput {
                    kind: Some(a.kind.clone()),
                    street: a.street.clone(),
                    house_number: a.house_number.clone(),
                    address_line2: a.address_line2.clone(),
                    postcode: a.postcode.clone(),
                    city: a.city.clone(),
                    country: Some(a.country.clone()),
                })
                .collect(),
            card_numbers: self.card_numbers.clone(),
            preferred_channel: self.preferred_channel.clone(),
            consents: Vec::new(),
            attributes: self.attributes_json(defs),
            contacts: self
                .contacts
                .iter()
                .map(|c| ContactInput {
                    salutation: c.salutation.clone(),
                    first_name: c.first_name.clone(),
                    last_name: c.last_name.clone(),
                    role: c.role.clone(),
                    email: c.email.clone(),
                    phone: c.phone.clone(),
                })
                .collect(),
        }
    }

    /// Attributes as typed JSON, as the API shows them.
    pub fn attributes_json(&self, defs: &[AttributeDefinition]) -> Map<String, Value> {
        self.attributes
            .iter()
            .map(|(k, v)| {
                let json = match defs.iter().find(|d| &d.name == k) {
                    Some(def) => def.to_json(&v.text),
                    None => Value::String(v.text.clone()),
                };
                (k.clone(), json)
            })
            .collect()
    }

    /// Applies a JSON change (`null` clears a field; lists replace; `attributes` merge with `null`
    /// removing one; `consents` adds statements) and validates the result as a whole.
    pub fn apply_patch(
        &self,
        patch: &Map<String, Value>,
        defs: &[AttributeDefinition],
        now: DateTime<Utc>,
    ) -> Result<Validated, Vec<FieldError>> {
        let mut errors = Errors::default();
        for key in patch.keys() {
            if key == "kind" || key == "customer_number" {
                errors.push(key.as_str(), "cannot be changed");
            } else if !PATCHABLE.contains(&key.as_str()) {
                errors.push(key.as_str(), "is not a known field");
            }
        }
        if !errors.is_empty() {
            return Err(errors.0);
        }
        let base = serde_json::to_value(self.to_input(defs))
            .map_err(|e| vec![FieldError::new("body", e.to_string())])?;
        let Value::Object(mut merged) = base else {
            return Err(vec![FieldError::new("body", "must be a JSON object")]);
        };
        for (key, value) in patch {
            if key == "attributes" {
                let Value::Object(changes) = value else {
                    return Err(vec![FieldError::new("attributes", "must be an object")]);
                };
                let mut attrs = match merged.remove("attributes") {
                    Some(Value::Object(m)) => m,
                    _ => Map::new(),
                };
                for (name, v) in changes {
                    if v.is_null() {
                        attrs.remove(name);
                    } else {
                        attrs.insert(name.clone(), v.clone());
                    }
                }
                merged.insert("attributes".into(), Value::Object(attrs));
            } else if value.is_null()
                && matches!(
                    key.as_str(),
                    "phones" | "addresses" | "card_numbers" | "contacts" | "consents"
                )
            {
                merged.insert(key.clone(), Value::Array(Vec::new()));
            } else {
                merged.insert(key.clone(), value.clone());
            }
        }
        let input: CustomerInput = serde_json::from_value(Value::Object(merged)).map_err(|e| {
            vec![FieldError::new(
                guess_field(&e.to_string(), patch),
                e.to_string(),
            )]
        })?;
        input.validate(defs, now)
    }

    /// Field-by-field differences `(old, new)` as JSON, for the audit log and the change event.
    pub fn diff(
        &self,
        new: &CustomerData,
        defs: &[AttributeDefinition],
    ) -> BTreeMap<String, (Value, Value)> {
        let old_json = self.audit_json(defs);
        let new_json = new.audit_json(defs);
        let mut out = BTreeMap::new();
        for (k, new_v) in &new_json {
            let old_v = old_json.get(k).cloned().unwrap_or(Value::Null);
            if &old_v != new_v {
                out.insert(k.clone(), (old_v, new_v.clone()));
            }
        }
        for (k, old_v) in &old_json {
            if !new_json.contains_key(k) {
                out.insert(k.clone(), (old_v.clone(), Value::Null));
            }
        }
        out
    }

    /// A flat JSON form of every field, used for diffs and audit entries.
    pub fn audit_json(&self, defs: &[AttributeDefinition]) -> BTreeMap<String, Value> {
        let mut m = BTreeMap::new();
        let mut put = |k: &str, v: Value| {
            if !v.is_null() {
                m.insert(k.to_string(), v);
            }
        };
        put("kind", Value::from(self.kind.as_str()));
        put("salutation", self.salutation.clone().into());
        put("title", self.title.clone().into());
        put("first_name", self.first_name.clone().into());
        put("last_name", self.last_name.clone().into());
        put("company_name", self.company_name.clone().into());
        put(
            "birth_date",
            self.birth_date
                .map(|d| d.format("%Y-%m-%d").to_string())
                .into(),
        );
        put("gender", self.gender.clone().into());
        put("language", self.language.clone().into());
        put("email", self.email.clone().into());
        put("preferred_channel", self.preferred_channel.clone().into());
        put(
            "phones",
            serde_json::to_value(&self.phones).unwrap_or(Value::Null),
        );
        put(
            "addresses",
            serde_json::to_value(&self.addresses).unwrap_or(Value::Null),
        );
        put(
            "card_numbers",
            serde_json::to_value(&self.card_numbers).unwrap_or(Value::Null),
        );
        put(
            "contacts",
            serde_json::to_value(&self.contacts).unwrap_or(Value::Null),
        );
        for (k, v) in self.attributes_json(defs) {
            put(&format!("attributes.{k}"), v);
        }
        m
    }
}

/// serde's messages name the offending key only in prose; pick the patch key it mentions.
fn guess_field(message: &str, patch: &Map<String, Value>) -> String {
    patch
        .keys()
        .find(|k| message.contains(k.as_str()))
        .cloned()
        .or_else(|| patch.keys().next().cloned())
        .unwrap_or_else(|| "body".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attributes::AttrType;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        parse_timestamp("2026-11-23T10:00:00Z").unwrap()
    }

    fn defs() -> Vec<AttributeDefinition> {
        vec![AttributeDefinition {
            name: "branche".into(),
            label: None,
            attr_type: AttrType::Enum,
            allowed_values: vec!["Architektur".into(), "Schule".into()],
            required: false,
        }]
    }

    fn anna() -> CustomerInput {
        serde_json::from_value(json!({"kind": "person", "salutation": "Frau", "first_name": "Anna", "last_name": "Müller",
            "birth_date": "1980-02-29", "gender": "female", "language": "de",
            "email": " Anna.Mueller@Example.CH ", "phones": [{"kind": "mobile", "number": "079 123 45 67"}],
            "addresses": [{"street": "Bahnhofstrasse", "house_number": "12a", "postcode": "8001", "city": "Zürich", "country": "CH"}],
            "card_numbers": ["2900123456785"], "preferred_channel": "email",
            "consents": [{"channel": "email", "status": "granted", "source": "webshop-doi", "recorded_at": "2026-11-01T09:00:00Z"}],
            "attributes": {"branche": "Architektur"}}))
        .unwrap()
    }

    #[test]
    fn the_api_example_validates_and_is_normalized() {
        let v = anna().validate(&defs(), now()).unwrap();
        assert_eq!(v.data.email.as_deref(), Some("anna.mueller@example.ch"));
        assert_eq!(v.data.phones[0].number, "+41791234567");
        assert_eq!(v.data.addresses[0].kind, "main");
        assert_eq!(v.data.birth_date, NaiveDate::from_ymd_opt(1980, 2, 29));
        assert_eq!(v.consents.len(), 1);
        assert_eq!(v.data.attributes["branche"].text, "Architektur");
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut c = anna();
        c.email = Some("anna@".into());
        c.birth_date = Some("2030-01-01".into());
        c.addresses[0].postcode = "800".into();
        c.attributes.insert("branche".into(), json!("Bank"));
        c.attributes.insert("unknown".into(), json!("x"));
        c.gender = Some("f".into());
        let errs = c.validate(&defs(), now()).unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        for f in [
            "email",
            "birth_date",
            "addresses[0].postcode",
            "attributes.branche",
            "attributes.unknown",
            "gender",
        ] {
            assert!(fields.contains(&f), "{f} missing in {fields:?}");
        }
    }

    #[test]
    fn birth_dates_are_strict_iso_dates() {
        for bad in [
            " 1980-01-01",
            "+1980-01-01",
            "1980-1-1",
            "1980-01-01 ",
            "01.01.1980",
        ] {
            let mut c = anna();
            c.birth_date = Some(bad.into());
            let errs = c.validate(&defs(), now()).unwrap_err();
            assert_eq!(
                errs,
                vec![FieldError::new("birth_date", "must be a date YYYY-MM-DD")],
                "{bad:?}"
            );
        }
        let mut c = anna();
        c.birth_date = Some("1899-12-31".into());
        assert_eq!(
            c.validate(&defs(), now()).unwrap_err()[0].message,
            "is before 1900"
        );
    }

    #[test]
    fn names_with_zero_width_or_bidi_characters_are_refused() {
        type Set = fn(&mut CustomerInput, String);
        let cases: [(&str, Set); 4] = [
            ("first_name", |c, v| c.first_name = Some(v)),
            ("last_name", |c, v| c.last_name = Some(v)),
            ("addresses[0].city", |c, v| c.addresses[0].city = v),
            ("title", |c, v| c.title = Some(v)),
        ];
        for (field, set) in cases {
            for ch in ['\u{200B}', '\u{200D}', '\u{FEFF}', '\u{00AD}', '\u{202E}'] {
                let mut c = anna();
                set(&mut c, format!("An{ch}na"));
                let errs = c.validate(&defs(), now()).unwrap_err();
                assert_eq!(errs.len(), 1, "{field} {ch:?}: {errs:?}");
                assert_eq!(errs[0].field, field);
            }
        }
    }

    #[test]
    fn timestamps_are_taken_as_sent() {
        assert!(parse_timestamp("2026-11-01T09:00:00Z").is_ok());
        assert!(parse_timestamp(" 2026-11-01T09:00:00Z").is_err());
    }

    #[test]
    fn persons_need_a_last_name_and_organizations_a_company() {
        let c = CustomerInput {
            kind: Kind::Person,
            first_name: Some("Anna".into()),
            ..Default::default()
        };
        assert_eq!(c.validate(&[], now()).unwrap_err()[0].field, "last_name");
        let o = CustomerInput {
            kind: Kind::Organization,
            ..Default::default()
        };
        assert_eq!(o.validate(&[], now()).unwrap_err()[0].field, "company_name");
    }

    #[test]
    fn a_patch_changes_only_what_it_names_and_the_diff_says_so() {
        let v = anna().validate(&defs(), now()).unwrap();
        let patch =
            json!({"email": "anna@example.org", "attributes": {"branche": null}, "title": "Dr."});
        let changed = v
            .data
            .apply_patch(patch.as_object().unwrap(), &defs(), now())
            .unwrap();
        assert_eq!(changed.data.email.as_deref(), Some("anna@example.org"));
        assert!(changed.data.attributes.is_empty());
        assert_eq!(changed.data.last_name, v.data.last_name);
        let diff = v.data.diff(&changed.data, &defs());
        let keys: Vec<_> = diff.keys().map(String::as_str).collect();
        assert_eq!(keys, vec!["attributes.branche", "email", "title"]);
        assert_eq!(diff["email"].0, json!("anna.mueller@example.ch"));
    }

    #[test]
    fn a_patch_refuses_unknown_and_fixed_fields() {
        let v = anna().validate(&defs(), now()).unwrap();
        let errs = v
            .data
            .apply_patch(
                json!({"kind": "organization", "shoe_size": 42})
                    .as_object()
                    .unwrap(),
                &defs(),
                now(),
            )
            .unwrap_err();
        assert_eq!(errs.len(), 2);
        let errs = v
            .data
            .apply_patch(
                json!({"email": "nope"}).as_object().unwrap(),
                &defs(),
                now(),
            )
            .unwrap_err();
        assert_eq!(errs[0].field, "email");
        let errs = v
            .data
            .apply_patch(json!({"phones": "x"}).as_object().unwrap(), &defs(), now())
            .unwrap_err();
        assert_eq!(errs[0].field, "phones");
    }

    #[test]
    fn customer_numbers_carry_a_check_digit() {
        let n = customer_number_for(1);
        assert_eq!(n.len(), 8);
        assert!(crate::contact::luhn_valid(&n));
        assert_ne!(customer_number_for(1), customer_number_for(2));
    }
}
