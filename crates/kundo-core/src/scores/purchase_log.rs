//! Purchase logs as text ("customer date [quantity] amount" per line) and their reduction to
//! the per-customer statistics the models are fitted on.
//!
//! The format is the one of the CDNOW data used throughout the literature, and also what a
//! retailer's export usually looks like, so the models can be checked against published data
//! and run on an export with the same code. Money is parsed digit by digit into minor units:
//! a float would turn "0.10" into 0.1000000000000000055… and sums of those drift.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::Rft;

/// One purchase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseLogRow {
    /// The customer key exactly as written (leading zeros kept: "00042" is not "42" in every
    /// source system).
    pub customer: String,
    pub date: NaiveDate,
    /// Number of items, when the log has that column.
    pub quantity: Option<i64>,
    /// Amount in minor units (cents/Rappen).
    pub amount: i64,
}

/// Why a line is not a purchase. `Blank` and `Header` are not errors in themselves: the caller
/// (e.g. [`parse_purchase_log`]) decides where they are acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    #[error("the line is empty")]
    Blank,
    /// No field contains a digit, so this is a column-title line, not a garbled purchase.
    #[error("the line is a header")]
    Header,
    /// `column` is the 1-based character position where the offending field starts.
    #[error("column {column}: {message}")]
    Invalid { column: usize, message: String },
}

/// A bad line in a whole log, located for the person fixing the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct PurchaseLogError {
    /// 1-based line number.
    pub line: usize,
    /// 1-based character position in the line.
    pub column: usize,
    pub message: String,
}

/// The fields of a line with their 1-based character columns. Commas separate fields when the
/// line has any (CSV exports); otherwise runs of whitespace do (CDNOW's fixed-width style).
fn fields(line: &str) -> Vec<(usize, &str)> {
    let column_of = |field: &str| {
        // `field` is a subslice of `line`, so the pointer difference is its byte offset.
        let offset = field.as_ptr() as usize - line.as_ptr() as usize;
        line[..offset].chars().count() + 1
    };
    if line.contains(',') {
        line.split(',')
            .map(|f| {
                let trimmed = f.trim();
                // An empty field has no position of its own; point at where it would be.
                let anchor = if trimmed.is_empty() { f } else { trimmed };
                (column_of(anchor), trimmed)
            })
            .collect()
    } else {
        line.split_whitespace().map(|f| (column_of(f), f)).collect()
    }
}

fn invalid(column: usize, message: impl Into<String>) -> LineError {
    LineError::Invalid {
        column,
        message: message.into(),
    }
}

/// `YYYYMMDD` or `YYYY-MM-DD`.
fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let bytes = text.as_bytes();
    let (y, m, d) = match bytes.len() {
        8 if bytes.iter().all(u8::is_ascii_digit) => (&text[0..4], &text[4..6], &text[6..8]),
        10 if bytes[4] == b'-' && bytes[7] == b'-' => (&text[0..4], &text[5..7], &text[8..10]),
        _ => return Err(format!("date {text:?} is neither YYYYMMDD nor YYYY-MM-DD")),
    };
    let number = |part: &str| -> Result<u32, String> {
        if part.bytes().all(|b| b.is_ascii_digit()) {
            part.parse::<u32>()
                .map_err(|_| format!("date {text:?} has a bad number"))
        } else {
            Err(format!("date {text:?} is neither YYYYMMDD nor YYYY-MM-DD"))
        }
    };
    let (year, month, day) = (number(y)?, number(m)?, number(d)?);
    let year = i32::try_from(year).map_err(|_| format!("date {text:?} has a bad year"))?;
    NaiveDate::from_ymd_opt(year, month, day)
        .ok_or_else(|| format!("date {text:?} is not a calendar date"))
}

/// Minor units per major unit: amounts have two decimals.
const DECIMALS: usize = 2;

/// A decimal amount with '.' as separator and at most two decimals, optionally negative, into
/// minor units, using integer arithmetic only.
fn parse_amount(text: &str) -> Result<i64, String> {
    let bad = || format!("amount {text:?} is not a decimal number like 12.50");
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((w, f)) => (w, f),
        None => (unsigned, ""),
    };
    if whole.is_empty() && fraction.is_empty() {
        return Err(bad());
    }
    if !whole
        .bytes()
        .chain(fraction.bytes())
        .all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    if fraction.len() > DECIMALS {
        return Err(format!("amount {text:?} has more than {DECIMALS} decimals"));
    }
    let too_large = || format!("amount {text:?} is too large");
    let mut minor: i64 = 0;
    for digit in whole.bytes() {
        minor = minor
            .checked_mul(10)
            .and_then(|m| m.checked_add(i64::from(digit - b'0')))
            .ok_or_else(too_large)?;
    }
    for position in 0..DECIMALS {
        let digit = fraction.as_bytes().get(position).map_or(0, |d| d - b'0');
        minor = minor
            .checked_mul(10)
            .and_then(|m| m.checked_add(i64::from(digit)))
            .ok_or_else(too_large)?;
    }
    Ok(if negative { -minor } else { minor })
}

/// Parses one line: `customer date amount` or `customer date quantity amount`, separated by
/// commas or whitespace, surrounding whitespace (including a CR of a CRLF file) ignored.
/// A line in which no field contains a digit is reported as [`LineError::Header`], an empty one
/// as [`LineError::Blank`], so a reader can skip them without string-matching messages.
pub fn parse_purchase_log_line(line: &str) -> Result<PurchaseLogRow, LineError> {
    let fields = fields(line.trim_end_matches(['\r', '\n']));
    if fields.iter().all(|(_, f)| f.is_empty()) {
        return Err(LineError::Blank);
    }
    if fields
        .iter()
        .all(|(_, f)| !f.bytes().any(|b| b.is_ascii_digit()))
    {
        return Err(LineError::Header);
    }
    let (customer, date, quantity, amount) = match fields.as_slice() {
        [c, d, a] => (*c, *d, None, *a),
        [c, d, q, a] => (*c, *d, Some(*q), *a),
        _ => {
            let column = fields.first().map_or(1, |(c, _)| *c);
            return Err(invalid(
                column,
                format!(
                    "expected 3 or 4 fields (customer, date, [quantity,] amount), found {}",
                    fields.len()
                ),
            ));
        }
    };
    if customer.1.is_empty() {
        return Err(invalid(customer.0, "the customer is empty"));
    }
    let parsed_date = parse_date(date.1).map_err(|m| invalid(date.0, m))?;
    let parsed_quantity = match quantity {
        Some((column, text)) => Some(
            text.parse::<i64>()
                .map_err(|_| invalid(column, format!("quantity {text:?} is not a whole number")))?,
        ),
        None => None,
    };
    let parsed_amount = parse_amount(amount.1).map_err(|m| invalid(amount.0, m))?;
    Ok(PurchaseLogRow {
        customer: customer.1.to_owned(),
        date: parsed_date,
        quantity: parsed_quantity,
        amount: parsed_amount,
    })
}

/// Parses a whole log. Blank lines are skipped anywhere, a header only as the first non-blank
/// line (a header-like line further down is more likely a broken export than a title). Stops at
/// the first bad line and says where it is.
pub fn parse_purchase_log(text: &str) -> Result<Vec<PurchaseLogRow>, PurchaseLogError> {
    let mut rows = Vec::new();
    let mut seen_content = false;
    for (index, line) in text.lines().enumerate() {
        let line_number = index + 1;
        match parse_purchase_log_line(line) {
            Ok(row) => rows.push(row),
            Err(LineError::Blank) => continue,
            Err(LineError::Header) if !seen_content => {}
            Err(LineError::Header) => {
                return Err(PurchaseLogError {
                    line: line_number,
                    column: 1,
                    message: "a header line is only allowed at the top".to_owned(),
                });
            }
            Err(LineError::Invalid { column, message }) => {
                return Err(PurchaseLogError {
                    line: line_number,
                    column,
                    message,
                });
            }
        }
        seen_content = true;
    }
    Ok(rows)
}

/// One customer reduced to what the models need, over the calibration window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerSummary {
    pub customer: String,
    pub first_purchase: NaiveDate,
    pub rft: Rft,
    /// Mean revenue of the repeat purchase days in minor units (0 when there are none): the
    /// Gamma-Gamma model's `m_x`. A float because it is a model input, not money on a receipt.
    pub mean_repeat_value: f64,
}

/// Reduces purchases up to and including `calibration_end` to one [`CustomerSummary`] per
/// customer who bought in that window, sorted by customer key.
///
/// As in the literature (and `lifetimes`), a purchase *day* is the unit of repeat buying: all
/// of a customer's purchases on one day are one transaction whose value is their sum, because
/// two receipts of the same shopping trip are not two decisions to come back. Then
/// x = purchase days − 1, t_x = (last day − first day) / `unit_days`,
/// T = (`calibration_end` − first day) / `unit_days`, and the mean repeat value averages the
/// day totals after the first day. `unit_days` is 7 for weeks; values below 1 are taken as 1.
/// Rows are taken as purchases: the caller leaves out returns (a negative amount would still
/// count as a purchase day).
pub fn summarize(
    rows: &[PurchaseLogRow],
    calibration_end: NaiveDate,
    unit_days: i64,
) -> Vec<CustomerSummary> {
    let unit = unit_days.max(1) as f64;
    let mut by_customer: BTreeMap<&str, BTreeMap<NaiveDate, i128>> = BTreeMap::new();
    for row in rows.iter().filter(|r| r.date <= calibration_end) {
        *by_customer
            .entry(row.customer.as_str())
            .or_default()
            .entry(row.date)
            .or_default() += i128::from(row.amount);
    }
    by_customer
        .into_iter()
        .filter_map(|(customer, days)| {
            let (&first, _) = days.first_key_value()?;
            let (&last, _) = days.last_key_value()?;
            let repeat_days = days.len() - 1;
            let repeat_total: i128 = days.values().skip(1).sum();
            let mean_repeat_value = if repeat_days == 0 {
                0.0
            } else {
                repeat_total as f64 / repeat_days as f64
            };
            let periods = |from: NaiveDate, to: NaiveDate| (to - from).num_days() as f64 / unit;
            Some(CustomerSummary {
                customer: customer.to_owned(),
                first_purchase: first,
                rft: Rft {
                    x: u32::try_from(repeat_days).unwrap_or(u32::MAX),
                    t_x: periods(first, last),
                    t_cal: periods(first, calibration_end),
                },
                mean_repeat_value,
            })
        })
        .collect()
}
