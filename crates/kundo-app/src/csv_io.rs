//! CSV import and export of customers (UTF-8, header row, the columns of [`COLUMNS`] plus one
//! `attr.NAME` column per custom attribute).
//!
//! An import is one batch: every row is validated first; a batch with bad rows changes nothing
//! and reports each bad line and column, unless the caller asks to skip bad rows, in which case
//! the rest is imported and the rejects are handed back.

use std::collections::HashSet;

use chrono::Utc;
use kundo_core::attributes::AttributeDefinition;
use kundo_core::customer::{
    AddressInput, ConsentInput, CustomerData, CustomerInput, PhoneInput, Validated,
    customer_number_for,
};
use kundo_core::search::search_doc;
use kundo_store::customers::{self as store, NewCustomerRow};
use serde::Serialize;

use crate::{App, AppError, Result};

/// The built-in columns, in export order. Multiple card numbers are separated by `|`.
pub const COLUMNS: &[&str] = &[
    "customer_number",
    "kind",
    "salutation",
    "title",
    "first_name",
    "last_name",
    "company_name",
    "birth_date",
    "gender",
    "language",
    "email",
    "phone_mobile",
    "phone_home",
    "phone_work",
    "street",
    "house_number",
    "address_line2",
    "postcode",
    "city",
    "country",
    "card_numbers",
    "preferred_channel",
    "consent_email",
    "consent_letter",
    "consent_phone",
    "consent_sms",
];

const CONSENT_CHANNELS: &[&str] = &["email", "letter", "phone", "sms"];

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LineError {
    pub line: u64,
    pub column: String,
    pub message: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

#[derive(Debug, Default, Serialize)]
pub struct ImportReport {
    pub rows: u64,
    pub imported: u64,
    pub rejected: u64,
    /// Nothing was written (the batch had bad rows and skipping was not asked for).
    pub aborted: bool,
    pub errors: Vec<LineError>,
    /// Rejected lines as they were in the file, for a rejects file.
    #[serde(skip)]
    pub rejected_records: Vec<(u64, csv::StringRecord, String)>,
    #[serde(skip)]
    pub headers: Option<csv::StringRecord>,
}

/// Where a validation error of the input model lives in the CSV.
fn column_of(field: &str) -> String {
    let base = field.split(['.', '[']).next().unwrap_or(field);
    match base {
        "addresses" => field.rsplit('.').next().unwrap_or("street").to_string(),
        "phones" => "phone_mobile".into(),
        "consents" => "consent_email".into(),
        "attributes" => format!("attr.{}", field.trim_start_matches("attributes.")),
        other => other.to_string(),
    }
}

struct Layout {
    index: Vec<(usize, String)>,
}

impl Layout {
    fn new(
        headers: &csv::StringRecord,
        defs: &[AttributeDefinition],
    ) -> std::result::Result<Layout, Vec<LineError>> {
        let mut errors = Vec::new();
        let mut index = Vec::new();
        let mut seen = HashSet::new();
        for (i, h) in headers.iter().enumerate() {
            let h = h.trim().trim_start_matches('\u{feff}');
            let known = COLUMNS.contains(&h)
                || h.strip_prefix("attr.")
                    .is_some_and(|n| defs.iter().any(|d| d.name == n));
            if !known {
                errors.push(LineError {
                    line: 1,
                    column: h.to_string(),
                    message: "is not a known column (custom attributes are attr.NAME)".into(),
                });
            } else if !seen.insert(h.to_string()) {
                errors.push(LineError {
                    line: 1,
                    column: h.to_string(),
                    message: "appears twice".into(),
                });
            }
            index.push((i, h.to_string()));
        }
        if errors.is_empty() {
            Ok(Layout { index })
        } else {
            Err(errors)
        }
    }

    fn get<'r>(&self, rec: &'r csv::StringRecord, column: &str) -> Option<&'r str> {
        let (i, _) = self.index.iter().find(|(_, h)| h == column)?;
        rec.get(*i).map(str::trim).filter(|v| !v.is_empty())
    }

    /// Turns one record into the API's input model, so the import validates exactly like the API.
    fn input(
        &self,
        rec: &csv::StringRecord,
        defs: &[AttributeDefinition],
    ) -> std::result::Result<CustomerInput, LineError> {
        let get = |c: &str| self.get(rec, c).map(str::to_string);
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let kind = match self.get(rec, "kind") {
            None | Some("person") => kundo_core::customer::Kind::Person,
            Some("organization") => kundo_core::customer::Kind::Organization,
            Some(_) => {
                return Err(LineError {
                    line,
                    column: "kind".into(),
                    message: "must be person or organization".into(),
                });
            }
        };
        let mut phones = Vec::new();
        for (col, kind) in [
            ("phone_mobile", "mobile"),
            ("phone_home", "home"),
            ("phone_work", "work"),
        ] {
            if let Some(n) = get(col) {
                phones.push(PhoneInput {
                    kind: Some(kind.into()),
                    number: n,
                });
            }
        }
        let address_given = [
            "street",
            "house_number",
            "address_line2",
            "postcode",
            "city",
            "country",
        ]
        .iter()
        .any(|c| self.get(rec, c).is_some());
        let addresses = if address_given {
            vec![AddressInput {
                kind: None,
                street: get("street").unwrap_or_default(),
                house_number: get("house_number"),
                address_line2: get("address_line2"),
                postcode: get("postcode").unwrap_or_default(),
                city: get("city").unwrap_or_default(),
                country: get("country"),
            }]
        } else {
            Vec::new()
        };
        let consents = CONSENT_CHANNELS
            .iter()
            .filter_map(|ch| {
                get(&format!("consent_{ch}")).map(|status| ConsentInput {
                    channel: ch.to_string(),
                    status,
                    source: "import".into(),
                    proof: None,
                    recorded_at: None,
                })
            })
            .collect();
        let mut attributes = serde_json::Map::new();
        for def in defs {
            if let Some(text) = self.get(rec, &format!("attr.{}", def.name)) {
                let value = def.parse_text(text).map_err(|message| LineError {
                    line,
                    column: format!("attr.{}", def.name),
                    message,
                })?;
                attributes.insert(def.name.clone(), value);
            }
        }
        Ok(CustomerInput {
            customer_number: get("customer_number"),
            kind,
            salutation: get("salutation"),
            title: get("title"),
            first_name: get("first_name"),
            last_name: get("last_name"),
            company_name: get("company_name"),
            birth_date: get("birth_date"),
            gender: get("gender"),
            language: get("language"),
            email: get("email"),
            phones,
            addresses,
            card_numbers: get("card_numbers")
                .map(|c| {
                    c.split('|')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            preferred_channel: get("preferred_channel"),
            consents,
            attributes,
            contacts: Vec::new(),
        })
    }
}

/// What is wrong with a row the CSV reader could not read.
fn unreadable(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("unreadable row: it has {len} fields, the header has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "unreadable row: it is not valid UTF-8".into(),
        _ => format!("unreadable row: {e}"),
    }
}

/// The row starting at byte `start`, read leniently (invalid UTF-8 replaced) and fitted to
/// `width` fields: missing ones empty, surplus ones joined into the last, so that the rejects
/// file keeps the header's shape and loses nothing.
fn raw_record(bytes: &[u8], start: u64, width: usize) -> csv::StringRecord {
    let rest = usize::try_from(start)
        .ok()
        .and_then(|s| bytes.get(s..))
        .unwrap_or_default();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(rest);
    let mut raw = csv::ByteRecord::new();
    let _ = reader.read_byte_record(&mut raw);
    let mut fields: Vec<String> = raw
        .iter()
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    if width > 0 && fields.len() > width {
        let surplus = fields.split_off(width - 1).join(",");
        fields.push(surplus);
    }
    fields.resize(width.max(fields.len()), String::new());
    csv::StringRecord::from(fields)
}

/// Rows per insert transaction step.
const CHUNK: usize = 5_000;

#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    pub skip_invalid: bool,
    /// Import rows that look like existing customers or like earlier rows (DOMAIN §10: by
    /// default a likely duplicate is reported as a bad row).
    pub allow_duplicates: bool,
}

/// Reports rows that look like an earlier row of the file or a stored customer, and drops
/// them from `valid`.
async fn reject_duplicates(
    app: &App,
    valid: &mut Vec<(u64, Validated)>,
    report: &mut ImportReport,
    records_of: &mut std::collections::HashMap<u64, csv::StringRecord>,
) -> Result<()> {
    use kundo_core::dedup::{DEFAULT_MAX_BLOCK, DEFAULT_THRESHOLD, DedupRecord, scan};
    let records: Vec<DedupRecord> = valid
        .iter()
        .map(|(_, v)| DedupRecord::from_data(&v.data))
        .collect();
    let mut flagged: std::collections::BTreeMap<usize, String> = Default::default();
    for (a, b, m) in scan(&records, DEFAULT_THRESHOLD, DEFAULT_MAX_BLOCK).pairs {
        let (first, later) = (a.min(b), a.max(b));
        flagged.entry(later).or_insert_with(|| {
            format!(
                "looks like the same person as line {} (score {}: {})",
                valid[first].0,
                m.score,
                m.reasons.join(", ")
            )
        });
    }
    let mut conn = app.store.acquire().await?;
    for (chunk_no, chunk) in records.chunks(2_000).enumerate() {
        let found =
            crate::duplicates::best_matches(&mut conn.db(), chunk, DEFAULT_THRESHOLD).await?;
        for (i, c) in found.into_iter().enumerate() {
            if let Some(c) = c {
                flagged.entry(chunk_no * 2_000 + i).or_insert_with(|| {
                    format!(
                        "looks like customer {} (score {}: {})",
                        c.customer_number,
                        c.score,
                        c.reasons.join(", ")
                    )
                });
            }
        }
    }
    drop(conn);
    for (i, message) in flagged.iter().rev() {
        let (line, _) = valid.remove(*i);
        report.rejected += 1;
        if let Some(rec) = records_of.remove(&line) {
            report
                .rejected_records
                .push((line, rec, format!("likely duplicate: {message}")));
        }
        report.errors.push(LineError {
            line,
            column: "-".into(),
            message: format!(
                "likely duplicate ({message}); import with --allow-duplicates to create it anyway"
            ),
        });
    }
    report.errors.sort_by_key(|e| e.line);
    report.rejected_records.sort_by_key(|r| r.0);
    Ok(())
}

impl App {
    /// Imports customers from CSV bytes. `progress(done, total)` is called as rows are written.
    pub async fn import_customers(
        &self,
        actor: &crate::Actor,
        bytes: &[u8],
        opts: ImportOptions,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<ImportReport> {
        let defs = self.attribute_definitions().await?;
        let now = Utc::now();
        let mut report = ImportReport::default();
        let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
        let headers = reader
            .headers()
            .map_err(|e| AppError::invalid("file", format!("cannot read the header row: {e}")))?
            .clone();
        let layout = match Layout::new(&headers, &defs) {
            Ok(l) => l,
            Err(errors) => {
                report.aborted = true;
                report.errors = errors;
                return Ok(report);
            }
        };
        let width = headers.len();
        report.headers = Some(headers);

        // Pass 1: validate every row, including uniqueness within the file.
        let mut valid: Vec<(u64, Validated)> = Vec::new();
        // The raw rows of valid lines, for the rejects file should a duplicate be found.
        let mut records_of: std::collections::HashMap<u64, csv::StringRecord> = Default::default();
        let (mut cards, mut numbers, mut emails_seen) = (HashSet::new(), HashSet::new(), 0u64);
        for rec in reader.records() {
            report.rows += 1;
            let rec = match rec {
                Ok(r) => r,
                Err(e) => {
                    // An unreadable row is a bad row like any other: counted, reported with its
                    // line, and handed back for the rejects file as far as it can be read.
                    let line = e.position().map(|p| p.line()).unwrap_or(report.rows + 1);
                    let message = unreadable(&e);
                    report.rejected += 1;
                    if let Some(p) = e.position() {
                        let raw = raw_record(bytes, p.byte(), width);
                        report.rejected_records.push((line, raw, message.clone()));
                    }
                    report.errors.push(LineError {
                        line,
                        column: "-".into(),
                        message,
                    });
                    continue;
                }
            };
            let line = rec.position().map(|p| p.line()).unwrap_or(0);
            let mut row_errors = Vec::new();
            match layout.input(&rec, &defs) {
                Err(e) => row_errors.push(e),
                Ok(input) => match input.validate(&defs, now) {
                    Err(errs) => row_errors.extend(errs.into_iter().map(|e| LineError {
                        line,
                        column: column_of(&e.field),
                        message: e.message,
                    })),
                    Ok(v) => {
                        for c in &v.data.card_numbers {
                            if !cards.insert(c.clone()) {
                                row_errors.push(LineError {
                                    line,
                                    column: "card_numbers".into(),
                                    message: format!("card {c} appears on an earlier line"),
                                });
                            }
                        }
                        if let Some(n) = &v.customer_number
                            && !numbers.insert(n.clone())
                        {
                            row_errors.push(LineError {
                                line,
                                column: "customer_number".into(),
                                message: format!("{n} appears on an earlier line"),
                            });
                        }
                        if row_errors.is_empty() {
                            emails_seen += u64::from(v.data.email.is_some());
                            valid.push((line, v));
                            if !opts.allow_duplicates {
                                records_of.insert(line, rec.clone());
                            }
                        }
                    }
                },
            }
            if !row_errors.is_empty() {
                report.rejected += 1;
                let first = row_errors[0].message.clone();
                report.rejected_records.push((line, rec, first));
                report.errors.extend(row_errors);
            }
        }
        let _ = emails_seen;
        if !opts.allow_duplicates {
            reject_duplicates(self, &mut valid, &mut report, &mut records_of).await?;
        }
        if !report.errors.is_empty() && !opts.skip_invalid {
            report.aborted = true;
            return Ok(report);
        }

        // Pass 2: one transaction; what clashes with the database is found here.
        let total = valid.len() as u64;
        let mut tx = self.store.begin_write().await?;
        let mut failed = false;
        let mut done = 0u64;
        for chunk in valid.chunks(CHUNK) {
            let chunk_cards: Vec<String> = chunk
                .iter()
                .flat_map(|(_, v)| v.data.card_numbers.iter().cloned())
                .collect();
            let chunk_numbers: Vec<String> = chunk
                .iter()
                .filter_map(|(_, v)| v.customer_number.clone())
                .collect();
            let taken_cards: HashSet<String> = store::cards_taken(&mut tx.db(), &chunk_cards, None)
                .await?
                .into_iter()
                .collect();
            let taken_numbers: HashSet<String> = store::numbers_taken(&mut tx.db(), &chunk_numbers)
                .await?
                .into_iter()
                .collect();
            let mut ok: Vec<&(u64, Validated)> = Vec::with_capacity(chunk.len());
            for item in chunk {
                let (line, v) = item;
                let mut clash = None;
                if let Some(c) = v
                    .data
                    .card_numbers
                    .iter()
                    .find(|c| taken_cards.contains(*c))
                {
                    clash = Some(LineError {
                        line: *line,
                        column: "card_numbers".into(),
                        message: format!("card {c} belongs to an existing customer"),
                    });
                } else if let Some(n) = v
                    .customer_number
                    .as_ref()
                    .filter(|n| taken_numbers.contains(*n))
                {
                    clash = Some(LineError {
                        line: *line,
                        column: "customer_number".into(),
                        message: format!("{n} exists already"),
                    });
                }
                match clash {
                    Some(e) => {
                        report.rejected += 1;
                        report.errors.push(e);
                        failed |= !opts.skip_invalid;
                    }
                    None => ok.push(item),
                }
            }
            if failed {
                continue;
            }
            let ids = store::reserve_ids(&mut tx.db(), ok.len()).await?;
            let rows: Vec<NewCustomerRow> = ok
                .iter()
                .zip(ids)
                .map(|((_, v), id)| {
                    let number = v
                        .customer_number
                        .clone()
                        .unwrap_or_else(|| customer_number_for(id));
                    let data: CustomerData = v.data.clone();
                    let doc = search_doc(&number, &data);
                    NewCustomerRow {
                        id,
                        customer_number: number,
                        data,
                        consents: v.consents.clone(),
                        search_doc: doc,
                    }
                })
                .collect();
            store::insert_customers(&mut tx.db(), &rows, now).await?;
            done += rows.len() as u64;
            report.imported += rows.len() as u64;
            progress(done, total);
        }
        if failed {
            report.aborted = true;
            report.imported = 0;
            return Ok(report);
        }
        kundo_store::audit::record(
            &mut tx.db(),
            &actor.name,
            "customers.imported",
            None,
            &serde_json::json!({"rows": report.rows, "imported": report.imported, "rejected": report.rejected}),
            now,
        )
        .await?;
        kundo_store::audit::emit(
            &mut tx.db(),
            "customers.imported",
            None,
            &serde_json::json!({"imported": report.imported}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(report)
    }

    /// Writes every customer as CSV in id order.
    pub async fn export_customers<W: std::io::Write>(
        &self,
        out: W,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<u64> {
        let defs = self.attribute_definitions().await?;
        let mut w = csv::Writer::from_writer(out);
        let mut header: Vec<String> = COLUMNS.iter().map(|s| s.to_string()).collect();
        header.extend(defs.iter().map(|d| format!("attr.{}", d.name)));
        w.write_record(&header).map_err(io)?;
        let mut conn = self.store.acquire().await?;
        let total = store::count(&mut conn.db()).await?.max(0) as u64;
        let mut after = 0;
        let mut written = 0u64;
        loop {
            let ids = store::ids_after(&mut conn.db(), after, 1000).await?;
            let Some(last) = ids.last().copied() else {
                break;
            };
            for id in ids {
                let Some(c) = store::load(&mut conn.db(), id).await? else {
                    continue;
                };
                w.write_record(export_row(&c, &defs)).map_err(io)?;
                written += 1;
            }
            after = last;
            progress(written, total);
        }
        w.flush().map_err(|e| AppError::Io(e.to_string()))?;
        Ok(written)
    }
}

fn io(e: csv::Error) -> AppError {
    AppError::Io(e.to_string())
}

fn export_row(c: &store::StoredCustomer, defs: &[AttributeDefinition]) -> Vec<String> {
    let d = &c.data;
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    let phone = |kind: &str| {
        d.phones
            .iter()
            .find(|p| p.kind == kind)
            .map(|p| p.number.clone())
            .unwrap_or_default()
    };
    let main = d
        .addresses
        .iter()
        .find(|a| a.kind == "main")
        .or(d.addresses.first());
    let a = |f: fn(&kundo_core::customer::Address) -> String| main.map(f).unwrap_or_default();
    let consent = |ch: &str| {
        c.consents
            .iter()
            .find(|x| x.channel == ch)
            .map(|x| x.status.clone())
            .unwrap_or_default()
    };
    let mut row = vec![
        c.meta.customer_number.clone(),
        d.kind.as_str().to_string(),
        s(&d.salutation),
        s(&d.title),
        s(&d.first_name),
        s(&d.last_name),
        s(&d.company_name),
        d.birth_date
            .map(|b| b.format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        s(&d.gender),
        s(&d.language),
        s(&d.email),
        phone("mobile"),
        phone("home"),
        phone("work"),
        a(|a| a.street.clone()),
        a(|a| a.house_number.clone().unwrap_or_default()),
        a(|a| a.address_line2.clone().unwrap_or_default()),
        a(|a| a.postcode.clone()),
        a(|a| a.city.clone()),
        a(|a| a.country.clone()),
        d.card_numbers.join("|"),
        s(&d.preferred_channel),
        consent("email"),
        consent("letter"),
        consent("phone"),
        consent("sms"),
    ];
    for def in defs {
        row.push(
            d.attributes
                .get(&def.name)
                .map(|v| v.text.clone())
                .unwrap_or_default(),
        );
    }
    row
}

#[cfg(test)]
mod tests {
    #[test]
    fn validation_fields_map_to_csv_columns() {
        assert_eq!(super::column_of("addresses[0].postcode"), "postcode");
        assert_eq!(super::column_of("phones[1].number"), "phone_mobile");
        assert_eq!(super::column_of("attributes.branche"), "attr.branche");
        assert_eq!(super::column_of("card_numbers[0]"), "card_numbers");
        assert_eq!(super::column_of("email"), "email");
    }
}
