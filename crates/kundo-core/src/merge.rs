//! Merging two customer records (DOMAIN §10): staff pick the survivor and, per field, whose
//! value to keep. Without a choice the survivor's value stays, and an empty field of the survivor
//! takes the duplicate's value, so a merge never loses data that only one record had.

use std::collections::BTreeMap;

use crate::customer::CustomerData;
use crate::error::FieldError;

/// Whose value a field keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Survivor,
    Duplicate,
}

/// The fields a merge lets staff choose; custom attributes are chosen as `attributes.NAME`.
pub const CHOOSABLE_FIELDS: &[&str] = &[
    "salutation",
    "title",
    "first_name",
    "last_name",
    "company_name",
    "birth_date",
    "gender",
    "language",
    "email",
    "preferred_channel",
    "phones",
    "addresses",
    "contacts",
];

/// Parses `{"field": "survivor" | "duplicate"}`; unknown fields or sides are errors naming
/// `fields.NAME`.
pub fn parse_choices(
    raw: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, Side>, Vec<FieldError>> {
    let mut out = BTreeMap::new();
    let mut errors = Vec::new();
    for (field, side) in raw {
        let known = CHOOSABLE_FIELDS.contains(&field.as_str())
            || field
                .strip_prefix("attributes.")
                .is_some_and(|n| !n.is_empty());
        if !known {
            errors.push(FieldError::new(
                format!("fields.{field}"),
                "is not a field that a merge can choose",
            ));
            continue;
        }
        match side.as_str() {
            "survivor" => {
                out.insert(field.clone(), Side::Survivor);
            }
            "duplicate" => {
                out.insert(field.clone(), Side::Duplicate);
            }
            _ => errors.push(FieldError::new(
                format!("fields.{field}"),
                "must be 'survivor' or 'duplicate'",
            )),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn pick<T: Clone>(choice: Option<Side>, survivor: &Option<T>, duplicate: &Option<T>) -> Option<T> {
    match choice {
        Some(Side::Duplicate) => duplicate.clone(),
        Some(Side::Survivor) => survivor.clone(),
        None => survivor.clone().or_else(|| duplicate.clone()),
    }
}

fn pick_list<T: Clone + PartialEq>(
    choice: Option<Side>,
    survivor: &[T],
    duplicate: &[T],
) -> Vec<T> {
    match choice {
        Some(Side::Duplicate) => duplicate.to_vec(),
        Some(Side::Survivor) => survivor.to_vec(),
        // Without a choice both lists are kept (a second phone number is still a phone number).
        None => {
            let mut all = survivor.to_vec();
            all.extend(duplicate.iter().filter(|x| !survivor.contains(x)).cloned());
            all
        }
    }
}

/// The survivor's record after the merge. Cards are not chosen: every card of both records
/// stays valid and resolves to the survivor, so the result keeps the survivor's card list and
/// the store moves the duplicate's cards.
pub fn merged_data(
    survivor: &CustomerData,
    duplicate: &CustomerData,
    choices: &BTreeMap<String, Side>,
) -> CustomerData {
    let c = |f: &str| choices.get(f).copied();
    let mut out = survivor.clone();
    out.salutation = pick(c("salutation"), &survivor.salutation, &duplicate.salutation);
    out.title = pick(c("title"), &survivor.title, &duplicate.title);
    out.first_name = pick(c("first_name"), &survivor.first_name, &duplicate.first_name);
    out.last_name = pick(c("last_name"), &survivor.last_name, &duplicate.last_name);
    out.company_name = pick(
        c("company_name"),
        &survivor.company_name,
        &duplicate.company_name,
    );
    out.birth_date = pick(c("birth_date"), &survivor.birth_date, &duplicate.birth_date);
    out.gender = pick(c("gender"), &survivor.gender, &duplicate.gender);
    out.language = pick(c("language"), &survivor.language, &duplicate.language);
    out.email = pick(c("email"), &survivor.email, &duplicate.email);
    out.preferred_channel = pick(
        c("preferred_channel"),
        &survivor.preferred_channel,
        &duplicate.preferred_channel,
    );
    out.phones = pick_list(c("phones"), &survivor.phones, &duplicate.phones);
    out.contacts = pick_list(c("contacts"), &survivor.contacts, &duplicate.contacts);
    // One current address per kind: the chosen record's; the other becomes history.
    out.addresses = match c("addresses") {
        Some(Side::Duplicate) => duplicate.addresses.clone(),
        Some(Side::Survivor) => survivor.addresses.clone(),
        None if survivor.addresses.is_empty() => duplicate.addresses.clone(),
        None => survivor.addresses.clone(),
    };
    let mut names: Vec<&String> = survivor.attributes.keys().collect();
    names.extend(duplicate.attributes.keys());
    names.sort();
    names.dedup();
    out.attributes = names
        .into_iter()
        .filter_map(|name| {
            let chosen = pick(
                c(&format!("attributes.{name}")),
                &survivor.attributes.get(name).cloned(),
                &duplicate.attributes.get(name).cloned(),
            );
            chosen.map(|v| (name.clone(), v))
        })
        .collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attributes::AttrValue;
    use crate::customer::{Address, Phone};

    fn person(first: &str, email: Option<&str>, phone: &str, city: &str) -> CustomerData {
        CustomerData {
            first_name: Some(first.into()),
            last_name: Some("Müller".into()),
            email: email.map(str::to_string),
            phones: vec![Phone {
                kind: "mobile".into(),
                number: phone.into(),
            }],
            addresses: vec![Address {
                kind: "home".into(),
                street: "Bahnhofstrasse".into(),
                house_number: Some("1".into()),
                address_line2: None,
                postcode: "8001".into(),
                city: city.into(),
                country: "CH".into(),
            }],
            ..CustomerData::default()
        }
    }

    #[test]
    fn without_choices_the_survivor_wins_and_gaps_are_filled() {
        let s = person("Anna", None, "+41791111111", "Zürich");
        let mut d = person("Ana", Some("anna@example.ch"), "+41792222222", "Bern");
        d.birth_date = chrono::NaiveDate::from_ymd_opt(1980, 2, 29);
        let m = merged_data(&s, &d, &BTreeMap::new());
        assert_eq!(m.first_name.as_deref(), Some("Anna"));
        assert_eq!(m.email.as_deref(), Some("anna@example.ch"));
        assert_eq!(m.birth_date, d.birth_date);
        assert_eq!(m.phones.len(), 2, "both phone numbers are kept");
        assert_eq!(m.addresses[0].city, "Zürich");
    }

    #[test]
    fn chosen_fields_come_from_the_duplicate() {
        let s = person("Anna", Some("old@example.ch"), "+41791111111", "Zürich");
        let d = person("Anna", Some("new@example.ch"), "+41792222222", "Bern");
        let raw: BTreeMap<String, String> = [
            ("email", "duplicate"),
            ("addresses", "duplicate"),
            ("phones", "survivor"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let choices = parse_choices(&raw).expect("valid choices");
        let m = merged_data(&s, &d, &choices);
        assert_eq!(m.email.as_deref(), Some("new@example.ch"));
        assert_eq!(m.addresses[0].city, "Bern");
        assert_eq!(m.phones, s.phones);
    }

    #[test]
    fn attributes_are_chosen_one_by_one() {
        let mut s = CustomerData::default();
        let mut d = CustomerData::default();
        let v = |t: &str| AttrValue {
            text: t.into(),
            int: None,
        };
        s.attributes.insert("branche".into(), v("Architektur"));
        d.attributes.insert("branche".into(), v("Bau"));
        d.attributes.insert("filiale".into(), v("ZH01"));
        let choices = BTreeMap::from([("attributes.branche".to_string(), Side::Duplicate)]);
        let m = merged_data(&s, &d, &choices);
        assert_eq!(m.attributes["branche"].text, "Bau");
        assert_eq!(m.attributes["filiale"].text, "ZH01");
    }

    #[test]
    fn unknown_fields_and_sides_are_named() {
        let raw: BTreeMap<String, String> = [("shoe_size", "duplicate"), ("email", "both")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let errors = parse_choices(&raw).expect_err("refused");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["fields.email", "fields.shoe_size"]);
    }
}
