//! Postal returns import (Adressrückläufer, DOMAIN §9): a CSV of returned letters, each row
//! naming the customer (number, or the letter's reference) and the reason; a new address if
//! the post knows one.
//!
//! The import is one batch: every row is validated first and a batch with bad rows changes
//! nothing unless bad rows are skipped. A row that matches no customer is reported, never
//! guessed.

use std::collections::HashMap;

use chrono::Utc;
use kundo_core::customer::{AddressInput, CustomerInput};
use kundo_core::postal_returns::{
    ReturnOutcome, classify, customer_number_of_reference, effective_outcome,
};
use kundo_store::activities::{self, NewActivity};
use kundo_store::customers as store;
use kundo_store::postal;
use kundo_store::tasks::{self, NewTask};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::csv_io::LineError;
use crate::{Actor, App, AppError, Result};

/// The columns a returns file may have; `customer_number` or `reference`, and `reason`, are
/// needed.
pub const COLUMNS: &[&str] = &[
    "customer_number",
    "reference",
    "reason",
    "new_street",
    "new_house_number",
    "new_address_line2",
    "new_postcode",
    "new_city",
    "new_country",
];

/// The team that researches addresses.
pub const RESEARCH_TEAM: &str = "service";

#[derive(Debug, Clone, Serialize)]
pub struct Unmatched {
    pub line: u64,
    pub reference: String,
}

#[derive(Debug, Default, Serialize)]
pub struct ReturnsReport {
    pub import_id: String,
    pub rows: u64,
    pub applied: u64,
    pub rejected: u64,
    /// Nothing was written (bad rows and skipping was not asked for).
    pub aborted: bool,
    /// Applied rows per outcome (`moved`, `research`, `deceased`, `refused`, `not_collected`).
    pub outcomes: std::collections::BTreeMap<String, u64>,
    pub tasks_created: u64,
    pub unmatched: Vec<Unmatched>,
    pub errors: Vec<LineError>,
}

struct Row {
    line: u64,
    reference: String,
    reason: String,
    outcome: ReturnOutcome,
    new_address: Option<AddressInput>,
}

fn cell<'a>(rec: &'a csv::StringRecord, index: &HashMap<&str, usize>, col: &str) -> &'a str {
    index
        .get(col)
        .and_then(|i| rec.get(*i))
        .map(str::trim)
        .unwrap_or("")
}

fn parse_row(
    rec: &csv::StringRecord,
    index: &HashMap<&str, usize>,
    line: u64,
) -> std::result::Result<Row, Vec<LineError>> {
    let err = |column: &str, message: &str| LineError {
        line,
        column: column.into(),
        message: message.into(),
    };
    let mut errors = Vec::new();
    let number = cell(rec, index, "customer_number");
    let reference = cell(rec, index, "reference");
    let reference = if number.is_empty() {
        customer_number_of_reference(reference).to_string()
    } else {
        number.to_string()
    };
    if reference.is_empty() {
        errors.push(err(
            "customer_number",
            "give a customer number or the letter's reference",
        ));
    }
    let reason = cell(rec, index, "reason");
    let outcome = match classify(reason) {
        Some((o, _)) => Some(o),
        None => {
            errors.push(err(
                "reason",
                "is not a known return reason (a Deutsche Post code such as 20, or e.g. 'unbekannt verzogen', 'verstorben', 'Annahme verweigert')",
            ));
            None
        }
    };
    let new = |c: &str| {
        Some(cell(rec, index, c))
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let any_new = ["new_street", "new_postcode", "new_city", "new_house_number"]
        .iter()
        .any(|c| !cell(rec, index, c).is_empty());
    let new_address = if any_new {
        let addr = AddressInput {
            kind: Some("main".into()),
            street: new("new_street").unwrap_or_default(),
            house_number: new("new_house_number"),
            address_line2: new("new_address_line2"),
            postcode: new("new_postcode").unwrap_or_default(),
            city: new("new_city").unwrap_or_default(),
            country: new("new_country"),
        };
        // The customer rules validate the address; their field paths name our columns.
        let probe = CustomerInput {
            last_name: Some("Probe".into()),
            addresses: vec![addr.clone()],
            ..CustomerInput::default()
        };
        if let Err(errs) = probe.validate(&[], Utc::now()) {
            errors.extend(errs.into_iter().map(|e| {
                let col = e.field.rsplit('.').next().unwrap_or("street");
                err(&format!("new_{col}"), &e.message)
            }));
        }
        Some(addr)
    } else {
        None
    };
    match outcome {
        Some(outcome) if errors.is_empty() => Ok(Row {
            line,
            reference,
            reason: reason.to_string(),
            outcome: effective_outcome(outcome, new_address.is_some()),
            new_address,
        }),
        _ => Err(errors),
    }
}

impl App {
    /// Imports postal returns from CSV bytes (see [`COLUMNS`]).
    pub async fn import_postal_returns(
        &self,
        actor: &Actor,
        bytes: &[u8],
        skip_invalid: bool,
    ) -> Result<ReturnsReport> {
        let now = Utc::now();
        let mut report = ReturnsReport {
            import_id: format!("returns-{}", now.format("%Y%m%dT%H%M%S%.3f")),
            ..ReturnsReport::default()
        };
        let mut reader = csv::ReaderBuilder::new()
            .flexible(false)
            .trim(csv::Trim::All)
            .from_reader(bytes);
        let headers = reader
            .headers()
            .map_err(|e| AppError::invalid("file", format!("cannot read the header row: {e}")))?
            .clone();
        let mut index: HashMap<&str, usize> = HashMap::new();
        for (i, h) in headers.iter().enumerate() {
            let h = h.trim_start_matches('\u{feff}');
            match COLUMNS.iter().find(|c| **c == h) {
                Some(c) if index.insert(c, i).is_none() => {}
                Some(_) => report.errors.push(LineError {
                    line: 1,
                    column: h.into(),
                    message: "appears twice".into(),
                }),
                None => report.errors.push(LineError {
                    line: 1,
                    column: h.into(),
                    message: format!("is not a known column ({})", COLUMNS.join(", ")),
                }),
            }
        }
        for need in ["reason"] {
            if !index.contains_key(need) {
                report.errors.push(LineError {
                    line: 1,
                    column: need.into(),
                    message: "is missing".into(),
                });
            }
        }
        if !index.contains_key("customer_number") && !index.contains_key("reference") {
            report.errors.push(LineError {
                line: 1,
                column: "customer_number".into(),
                message: "a customer_number or reference column is needed".into(),
            });
        }
        if !report.errors.is_empty() {
            report.aborted = true;
            return Ok(report);
        }
        let mut rows = Vec::new();
        for rec in reader.records() {
            report.rows += 1;
            match rec {
                Err(e) => {
                    report.rejected += 1;
                    report.errors.push(LineError {
                        line: e.position().map_or(report.rows + 1, |p| p.line()),
                        column: "-".into(),
                        message: format!("unreadable row: {e}"),
                    });
                }
                Ok(rec) => {
                    let line = rec.position().map_or(report.rows + 1, |p| p.line());
                    match parse_row(&rec, &index, line) {
                        Ok(row) => rows.push(row),
                        Err(errs) => {
                            report.rejected += 1;
                            report.errors.extend(errs);
                        }
                    }
                }
            }
        }
        if !report.errors.is_empty() && !skip_invalid {
            report.aborted = true;
            return Ok(report);
        }
        let defs = self.attribute_definitions().await?;
        let mut tx = self.store.begin_write().await?;
        for row in rows {
            let id = store::resolve_number(&mut tx.db(), &row.reference).await?;
            let outcome = row.outcome.as_str();
            postal::record_return(
                &mut tx.db(),
                &postal::ReturnRow {
                    import_id: &report.import_id,
                    line_no: row.line as i64,
                    reference: &row.reference,
                    customer_id: id,
                    reason_code: &row.reason,
                    outcome: if id.is_some() { outcome } else { "unmatched" },
                },
                now,
            )
            .await?;
            let Some(id) = id else {
                report.unmatched.push(Unmatched {
                    line: row.line,
                    reference: row.reference,
                });
                continue;
            };
            let subject = match row.outcome {
                ReturnOutcome::Moved => "Letter returned: moved, new address applied",
                ReturnOutcome::Research => "Letter returned: address unknown, research needed",
                ReturnOutcome::Deceased => "Letter returned: addressee reportedly deceased",
                ReturnOutcome::Refused => "Letter returned: refused, postal advertising blocked",
                ReturnOutcome::NotCollected => "Letter returned: not collected",
            };
            let mut changes = json!({"reason": row.reason, "outcome": outcome, "line": row.line});
            match row.outcome {
                ReturnOutcome::Moved => {
                    let Some(addr) = &row.new_address else {
                        continue;
                    };
                    let current = store::load(&mut tx.db(), id)
                        .await?
                        .ok_or(AppError::NotFound("customer"))?;
                    let mut addresses: Vec<Value> = current
                        .data
                        .addresses
                        .iter()
                        .filter(|a| a.kind != "main")
                        .map(|a| json!({"kind": a.kind, "street": a.street, "house_number": a.house_number, "address_line2": a.address_line2, "postcode": a.postcode, "city": a.city, "country": a.country}))
                        .collect();
                    addresses.push(serde_json::to_value(addr).unwrap_or_default());
                    let patch: Map<String, Value> =
                        [("addresses".to_string(), Value::Array(addresses))]
                            .into_iter()
                            .collect();
                    let changed = current
                        .data
                        .apply_patch(&patch, &defs, now)
                        .map_err(AppError::Invalid)?;
                    let doc = kundo_core::search::search_doc(
                        &current.meta.customer_number,
                        &changed.data,
                    );
                    store::update(
                        &mut tx.db(),
                        id,
                        &store::Change {
                            old: &current.data,
                            new: &changed.data,
                            new_consents: &[],
                            search_doc: &doc,
                            expected_version: current.meta.version,
                        },
                        now,
                    )
                    .await?;
                    changes["new_address"] = serde_json::to_value(addr).unwrap_or_default();
                }
                ReturnOutcome::Research => {
                    postal::set_postal_status(&mut tx.db(), id, "research").await?;
                    let title = format!("Find the new address (letter returned: {})", row.reason);
                    let source_ref = format!("{}:{}", report.import_id, row.line);
                    tasks::insert(
                        &mut tx.db(),
                        &NewTask {
                            customer_id: Some(id),
                            kind: "address_research",
                            title: &title,
                            description: None,
                            team: Some(RESEARCH_TEAM),
                            assignee: None,
                            due_date: Some(now.date_naive() + chrono::Duration::days(14)),
                            source: "postal_return",
                            source_ref: Some(&source_ref),
                            created_by: &actor.name,
                        },
                        now,
                    )
                    .await?;
                    report.tasks_created += 1;
                }
                ReturnOutcome::Deceased => postal::mark_deceased(&mut tx.db(), id, now).await?,
                ReturnOutcome::Refused => postal::block_postal_ads(&mut tx.db(), id, now).await?,
                ReturnOutcome::NotCollected => {}
            }
            let body = format!("reason: {}", row.reason);
            activities::insert(
                &mut tx.db(),
                &NewActivity {
                    customer_id: id,
                    kind: "postal_return",
                    occurred_at: now,
                    channel: Some("letter"),
                    direction: Some("inbound"),
                    subject,
                    body: Some(&body),
                    case_id: None,
                    reference: Some(&report.import_id),
                    actor: &actor.name,
                },
                now,
            )
            .await?;
            kundo_store::audit::record(
                &mut tx.db(),
                &actor.name,
                "customer.postal_return",
                Some(id),
                &changes,
                now,
            )
            .await?;
            kundo_store::audit::emit(
                &mut tx.db(),
                "customer.updated",
                Some(id),
                &json!({"postal_return": outcome}),
                now,
            )
            .await?;
            report.applied += 1;
            *report.outcomes.entry(outcome.to_string()).or_default() += 1;
        }
        kundo_store::audit::record(
            &mut tx.db(),
            &actor.name,
            "postal_returns.imported",
            None,
            &json!({"import_id": report.import_id, "rows": report.rows, "applied": report.applied, "unmatched": report.unmatched.len(), "rejected": report.rejected}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(report)
    }
}
