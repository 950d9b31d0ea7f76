//! Import of a plain purchase log ("customer date [quantity] amount" per line, e.g. the CDNOW
//! data or a legacy system's export) as receipts, so a retailer starts with its history and
//! the scores have something to learn from.
//!
//! Every purchase is booked through [`App::book_receipts`], the same use case as the tills'
//! batches: points, purchase figures and monthly buckets come out as for any receipt, and a
//! second import of the same file books nothing (idempotent by source and external id).
//! The whole file is checked before anything is written — syntax, amounts, dates, customer
//! numbers, unknown customers — so a bad file imports nothing. Booking then runs in batches of
//! [`crate::receipts::MAX_BATCH`], one transaction each; if it stops half-way (a crash, a lost
//! database), importing the same file again books exactly the rest.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, Utc};
use kundo_core::customer::{CustomerInput, customer_number_for, validate_customer_number};
use kundo_core::sale_bounds;
use kundo_core::scores::{PurchaseLogRow, parse_purchase_log, parse_purchase_log_line};
use kundo_core::search::search_doc;
use kundo_store::customers::{self as customers_store, NewCustomerRow};
use serde::Serialize;

use crate::receipts::{LineInput, MAX_BATCH, ReceiptInput};
use crate::{Actor, App, AppError, Result};

/// How the purchases of a log become receipts.
#[derive(Debug, Clone)]
pub struct PurchaseLogOptions {
    /// The receipts' `source`; with the external ids it makes the import idempotent.
    pub source: String,
    /// ISO 4217 code of the amounts.
    pub currency: String,
    /// Book the purchases in this store (channel `store`); without it they are `online`, which
    /// is what a log without store information most often is (CDNOW was a web shop).
    pub store_code: Option<String>,
    /// Create a minimal person for every customer number the database does not know.
    pub create_customers: bool,
}

impl Default for PurchaseLogOptions {
    fn default() -> Self {
        Self {
            source: "purchase-log".into(),
            currency: "CHF".into(),
            store_code: None,
            create_customers: false,
        }
    }
}

/// A line of the file that could not be booked.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LogLineError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for LogLineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct PurchaseLogReport {
    /// Purchases in the file.
    pub rows: u64,
    /// Distinct customers in the file.
    pub customers: u64,
    pub customers_created: u64,
    /// Receipts booked now.
    pub booked: u64,
    /// Receipts that were booked by an earlier import of the same purchases.
    pub already_booked: u64,
    /// Customer numbers the database does not know (when not creating them); nothing was
    /// imported.
    pub unknown_customers: Vec<String>,
    /// Lines refused: before booking (then nothing was imported) or by the booking itself.
    pub errors: Vec<LogLineError>,
    /// Nothing was written.
    pub aborted: bool,
}

/// 1-based character column of field `index` (0-based) of a log line, split the way
/// `kundo_core::scores` splits it (commas if the line has any, otherwise whitespace), for
/// errors that the parser cannot know about (an amount it read fine but a receipt refuses).
fn column_of_field(line: &str, index: usize) -> usize {
    let start = |field: &str| {
        let offset = field.as_ptr() as usize - line.as_ptr() as usize;
        line[..offset].chars().count() + 1
    };
    let field = if line.contains(',') {
        line.split(',').nth(index).map(str::trim_start)
    } else {
        line.split_whitespace().nth(index)
    };
    field.map_or(1, start)
}

/// The external id of a purchase: customer, date and the purchase's position among that
/// customer's purchases of that day in the file. Stable when lines are added elsewhere in the
/// file (a header, other customers, later days), unlike the line number, so a re-export of a
/// grown log imports only what is new.
fn external_ids(rows: &[PurchaseLogRow]) -> Vec<String> {
    let mut seen: HashMap<(&str, NaiveDate), u32> = HashMap::new();
    rows.iter()
        .map(|r| {
            let n = seen.entry((r.customer.as_str(), r.date)).or_default();
            *n += 1;
            format!("{}-{}-{}", r.customer, r.date.format("%Y%m%d"), n)
        })
        .collect()
}

impl App {
    /// Imports a purchase log. `progress(done, total)` follows the booking.
    pub async fn import_purchase_log(
        &self,
        actor: &Actor,
        text: &str,
        opts: &PurchaseLogOptions,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<PurchaseLogReport> {
        let mut report = PurchaseLogReport::default();
        let rows = match parse_purchase_log(text) {
            Ok(rows) => rows,
            Err(e) => {
                report.errors.push(LogLineError {
                    line: e.line,
                    column: e.column,
                    message: e.message,
                });
                report.aborted = true;
                return Ok(report);
            }
        };
        // The parser succeeded, so every line is a purchase, blank, or the leading header:
        // the purchases' line numbers are those of the lines that parse.
        let lines: Vec<(usize, &str)> = text
            .lines()
            .enumerate()
            .filter(|(_, l)| parse_purchase_log_line(l).is_ok())
            .map(|(i, l)| (i + 1, l))
            .collect();
        if lines.len() != rows.len() {
            return Err(AppError::Io(
                "the purchase log could not be matched to its lines".into(),
            ));
        }
        report.rows = rows.len() as u64;

        // Everything a receipt would refuse, found now, so that a bad file books nothing.
        let now = Utc::now();
        let mut first_line: HashMap<&str, usize> = HashMap::new();
        let mut order: Vec<&str> = Vec::new();
        for (row, (line, text)) in rows.iter().zip(&lines) {
            let bad = |index: usize, message: String| LogLineError {
                line: *line,
                column: column_of_field(text, index),
                message,
            };
            if !first_line.contains_key(row.customer.as_str()) {
                if let Err(m) = validate_customer_number(&row.customer) {
                    report
                        .errors
                        .push(bad(0, format!("customer {:?} {m}", row.customer)));
                }
                first_line.insert(&row.customer, *line);
                order.push(&row.customer);
            }
            if let Err(m) = self.sale_bounds.check_day(row.date, now) {
                report
                    .errors
                    .push(bad(1, format!("the date {} {m}", row.date)));
            }
            if let Some(Err(m)) = row.quantity.map(sale_bounds::check_quantity) {
                report.errors.push(bad(
                    2,
                    format!("the quantity {m} (returns cannot be imported)"),
                ));
            }
            if let Err(m) = sale_bounds::check_line_amount(row.amount) {
                let amount_field = if row.quantity.is_some() { 3 } else { 2 };
                report.errors.push(bad(
                    amount_field,
                    format!("the amount {m} (returns cannot be imported)"),
                ));
            }
        }
        report.customers = order.len() as u64;
        if !report.errors.is_empty() {
            report.aborted = true;
            return Ok(report);
        }
        let numbers: Vec<String> = order.iter().map(|s| s.to_string()).collect();
        let known: HashSet<String> = {
            let mut conn = self.store.acquire().await?;
            customers_store::numbers_taken(&mut conn.db(), &numbers)
                .await?
                .into_iter()
                .collect()
        };
        let unknown: Vec<String> = numbers
            .iter()
            .filter(|n| !known.contains(*n))
            .cloned()
            .collect();
        if !unknown.is_empty() {
            if !opts.create_customers {
                report.unknown_customers = unknown;
                report.aborted = true;
                return Ok(report);
            }
            report.customers_created = self.create_log_customers(actor, &unknown).await?;
        }

        let external = external_ids(&rows);
        let total = rows.len() as u64;
        let channel = if opts.store_code.is_some() {
            "store"
        } else {
            "online"
        };
        let mut done = 0u64;
        progress(0, total);
        for (step, chunk) in rows.chunks(MAX_BATCH).enumerate() {
            let start = step * MAX_BATCH;
            let inputs: Vec<ReceiptInput> = chunk
                .iter()
                .zip(&external[start..])
                .map(|(r, external_id)| {
                    ReceiptInput {
                        source: opts.source.clone(),
                        external_id: external_id.clone(),
                        store_code: opts.store_code.clone(),
                        channel: channel.into(),
                        // The log knows the day only; midnight UTC keeps it the same calendar
                        // day in Europe, and never lies in the future.
                        occurred_at: format!("{}T00:00:00Z", r.date.format("%Y-%m-%d")),
                        currency: opts.currency.clone(),
                        card_number: None,
                        customer_number: Some(r.customer.clone()),
                        lines: vec![LineInput {
                            sku: "import".into(),
                            category: "import".into(),
                            quantity: r.quantity.unwrap_or(1),
                            amount: r.amount,
                        }],
                    }
                })
                .collect();
            let outcomes = self.book_receipts(actor, inputs).await?;
            for (k, outcome) in outcomes.into_iter().enumerate() {
                match outcome {
                    Ok(b) if b.status == 201 => report.booked += 1,
                    Ok(_) => report.already_booked += 1,
                    Err(e) => {
                        let line = lines.get(start + k).map_or(0, |(l, _)| *l);
                        let message = match e {
                            AppError::Invalid(errs) => errs
                                .iter()
                                .map(|e| e.to_string())
                                .collect::<Vec<_>>()
                                .join("; "),
                            other => other.to_string(),
                        };
                        report.errors.push(LogLineError {
                            line,
                            column: 1,
                            message,
                        });
                    }
                }
            }
            done += chunk.len() as u64;
            progress(done, total);
        }
        let mut tx = self.store.begin_write().await?;
        let summary = serde_json::json!({
            "source": opts.source, "rows": report.rows, "booked": report.booked,
            "already_booked": report.already_booked, "customers_created": report.customers_created,
            "errors": report.errors.len(),
        });
        kundo_store::audit::record(
            &mut tx.db(),
            &actor.name,
            "receipts.imported",
            None,
            &summary,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(report)
    }

    /// Minimal persons for customer numbers of a log: the number and a placeholder name, no
    /// contact data (nothing is known), written through the bulk path of the CSV import.
    async fn create_log_customers(&self, actor: &Actor, numbers: &[String]) -> Result<u64> {
        let now = Utc::now();
        let defs = self.attribute_definitions().await?;
        let mut valid = Vec::with_capacity(numbers.len());
        for n in numbers {
            let input = CustomerInput {
                customer_number: Some(n.clone()),
                last_name: Some(format!("Kunde {n}")),
                ..Default::default()
            };
            valid.push(input.validate(&defs, now).map_err(AppError::Invalid)?);
        }
        let mut tx = self.store.begin_write().await?;
        for chunk in valid.chunks(5_000) {
            let ids = customers_store::reserve_ids(&mut tx.db(), chunk.len()).await?;
            let rows: Vec<NewCustomerRow> = chunk
                .iter()
                .zip(ids)
                .map(|(v, id)| {
                    let number = v
                        .customer_number
                        .clone()
                        .unwrap_or_else(|| customer_number_for(id));
                    NewCustomerRow {
                        id,
                        search_doc: search_doc(&number, &v.data),
                        customer_number: number,
                        data: v.data.clone(),
                        consents: v.consents.clone(),
                    }
                })
                .collect();
            customers_store::insert_customers(&mut tx.db(), &rows, now).await?;
        }
        let summary = serde_json::json!({"imported": valid.len(), "from": "purchase log"});
        kundo_store::audit::record(
            &mut tx.db(),
            &actor.name,
            "customers.imported",
            None,
            &summary,
            now,
        )
        .await?;
        kundo_store::audit::emit(&mut tx.db(), "customers.imported", None, &summary, now).await?;
        tx.commit().await?;
        Ok(valid.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_of_fields_follow_the_parser() {
        assert_eq!(column_of_field(" 00001 19970101  1   11.77", 3), 22);
        assert_eq!(column_of_field("7,1997-01-01,-3.00", 2), 14);
    }

    #[test]
    fn external_ids_count_purchases_per_customer_and_day() {
        let rows = parse_purchase_log("1 19970101 1.00\n2 19970101 2.00\n1 19970101 3.00\n")
            .unwrap_or_default();
        assert_eq!(
            external_ids(&rows),
            ["1-19970101-1", "2-19970101-1", "1-19970101-2"]
        );
    }
}
