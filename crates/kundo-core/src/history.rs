//! The contact history and the work around it (DOMAIN §11): the activities staff may log, task
//! and case statuses and the moves between them, and the kinds the customer timeline shows.

use chrono::NaiveDate;

use crate::error::Errors;

/// Contacts a clerk or the call centre logs by hand.
pub const LOGGABLE_KINDS: &[&str] = &[
    "letter",
    "email",
    "call",
    "visit",
    "complaint",
    "service_request",
    "note",
    "sms",
];

/// Who started a contact: the customer (`inbound`) or we (`outbound`).
pub const DIRECTIONS: &[&str] = &["inbound", "outbound"];

/// Every kind an entry of the timeline can have: logged contacts, those other processes record
/// (postal returns, merges), purchases and returns, voucher events.
pub const TIMELINE_KINDS: &[&str] = &[
    "letter",
    "email",
    "call",
    "visit",
    "complaint",
    "service_request",
    "note",
    "sms",
    "postal_return",
    "merge",
    "purchase",
    "return",
    "voucher_issued",
    "voucher_redeemed",
];

/// Kinds of tasks staff create by hand (processes create others, e.g. `address_research`).
pub const TASK_KINDS: &[&str] = &[
    "callback",
    "general",
    "follow_up",
    "address_research",
    "duplicate_review",
];

pub const TASK_STATUSES: &[&str] = &["open", "in_progress", "done", "cancelled"];

/// Complaints and service requests are cases: they have a status and a history of their own.
pub const CASE_KINDS: &[&str] = &["complaint", "service_request"];

pub const CASE_STATUSES: &[&str] = &["open", "in_progress", "resolved", "closed"];

/// Cases move `open → in_progress → resolved → closed`; a case may be resolved straight from
/// `open`, and a resolved or closed case may be reopened.
pub fn case_transition_allowed(from: &str, to: &str) -> bool {
    matches!(
        (from, to),
        ("open", "in_progress")
            | ("open", "resolved")
            | ("in_progress", "resolved")
            | ("resolved", "closed")
            | ("resolved", "open")
            | ("closed", "open")
    )
}

/// `Ok` if `value` is one of `allowed`, else the message that lists them.
pub fn one_of(value: &str, allowed: &[&str]) -> Result<(), String> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(format!("must be one of: {}", allowed.join(", ")))
    }
}

/// A due date as `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    crate::dates::parse_iso_date(s)
}

/// A required text of 1 to `max` printable characters.
pub fn check_text(e: &mut Errors, field: &str, v: &str, max: usize) {
    if v.trim().is_empty() || v.chars().count() > max || v.chars().any(char::is_control) {
        e.push(field, format!("must be 1-{max} printable characters"));
    }
}

/// A free text (a body, a note): up to `max` characters, line breaks allowed.
pub fn check_body(e: &mut Errors, field: &str, v: &str, max: usize) {
    if v.chars().count() > max
        || v.chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        e.push(
            field,
            format!("must be at most {max} characters without control characters"),
        );
    }
}

/// The `kind` filter of the timeline: one or several kinds, comma-separated.
pub fn parse_timeline_kinds(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for k in s.split(',').map(str::trim).filter(|k| !k.is_empty()) {
        if !TIMELINE_KINDS.contains(&k) {
            return Err(format!(
                "'{k}' is not a kind; use one or several of: {}",
                TIMELINE_KINDS.join(", ")
            ));
        }
        if !out.iter().any(|o| o == k) {
            out.push(k.to_string());
        }
    }
    if out.is_empty() {
        return Err("name at least one kind".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_move_forward_and_may_be_reopened() {
        assert!(case_transition_allowed("open", "in_progress"));
        assert!(case_transition_allowed("in_progress", "resolved"));
        assert!(case_transition_allowed("resolved", "closed"));
        assert!(case_transition_allowed("closed", "open"));
        assert!(case_transition_allowed("resolved", "open"));
        assert!(!case_transition_allowed("open", "closed"));
        assert!(!case_transition_allowed("closed", "resolved"));
        assert!(!case_transition_allowed("open", "open"));
        for s in CASE_STATUSES {
            assert!(!case_transition_allowed(s, "bogus"));
        }
    }

    #[test]
    fn timeline_kinds_are_checked_and_deduplicated() {
        assert_eq!(
            parse_timeline_kinds("call, letter,call").unwrap(),
            vec!["call", "letter"]
        );
        assert!(parse_timeline_kinds("call,phonecall").is_err());
        assert!(parse_timeline_kinds(" , ").is_err());
    }

    #[test]
    fn dates_and_lists_name_what_is_wrong() {
        assert!(parse_date("2026-12-01").is_ok());
        assert!(parse_date("01.12.2026").is_err());
        assert!(one_of("fax", DIRECTIONS).unwrap_err().contains("inbound"));
        let mut e = Errors::default();
        check_text(&mut e, "subject", "  ", 200);
        check_body(&mut e, "body", "line\nline", 10);
        assert_eq!(e.0.len(), 1);
    }
}
