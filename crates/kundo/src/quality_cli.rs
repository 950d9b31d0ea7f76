//! Data-quality commands: the duplicates scan and review queue, merges, postal returns.

use std::collections::BTreeMap;
use std::path::Path;

use clap::Subcommand;
use kundo_app::{Actor, App};

use crate::{describe, progress};

#[derive(Subcommand)]
pub enum DuplicatesCommand {
    /// Scan the whole base for likely duplicates (through blocking keys, never all pairs) and
    /// add them to the review queue.
    Scan,
    /// The review queue, best score first.
    List {
        /// open, dismissed, merged or obsolete.
        #[arg(long, default_value = "open")]
        status: String,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// "Not the same person": take a pair out of the queue for good.
    Dismiss { id: i64 },
}

pub async fn duplicates(app: &App, command: DuplicatesCommand) -> Result<(), String> {
    match command {
        DuplicatesCommand::Scan => {
            let spinner = progress::spinner("reading blocking keys");
            let start = std::time::Instant::now();
            let report = app
                .scan_duplicates(&Actor::cli(), &|keys| {
                    spinner.set_message(format!("{keys} blocking keys read"));
                })
                .await
                .map_err(describe)?;
            spinner.finish_and_clear();
            println!(
                "{} keys read, {} comparisons, {} likely pairs ({} new in the review queue), {} oversized blocks skipped, {:.1} s",
                report.keys_read,
                report.comparisons,
                report.pairs_found,
                report.pairs_added,
                report.blocks_skipped,
                start.elapsed().as_secs_f64()
            );
        }
        DuplicatesCommand::List { status, limit } => {
            let page = app
                .duplicate_pairs(&status, None, limit)
                .await
                .map_err(describe)?;
            for p in page.items {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    p.id, p.customer_a, p.customer_b, p.score, p.reasons
                );
            }
        }
        DuplicatesCommand::Dismiss { id } => {
            app.dismiss_duplicate_pair(&Actor::cli(), id)
                .await
                .map_err(describe)?;
            println!("pair {id} dismissed");
        }
    }
    Ok(())
}

/// `FIELD=survivor|duplicate` pairs from the command line.
pub fn field_choices(keep: &[String]) -> Result<BTreeMap<String, String>, String> {
    keep.iter()
        .map(|k| {
            k.split_once('=')
                .map(|(f, s)| (f.trim().to_string(), s.trim().to_string()))
                .ok_or_else(|| format!("--keep {k}: write FIELD=survivor or FIELD=duplicate"))
        })
        .collect()
}

pub async fn merge(
    app: &App,
    survivor: &str,
    duplicate: &str,
    keep: &[String],
) -> Result<(), String> {
    let fields = field_choices(keep)?;
    let outcome = app
        .merge_customers(&Actor::cli(), survivor, duplicate, &fields)
        .await
        .map_err(describe)?;
    println!(
        "{} merged into {}: {}",
        outcome.merged_customer_number,
        outcome.survivor.customer_number,
        serde_json::to_string(&outcome.moved).unwrap_or_default()
    );
    Ok(())
}

pub async fn import_returns(app: &App, path: &Path, skip_invalid: bool) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let spinner = progress::spinner("applying postal returns");
    let report = app
        .import_postal_returns(&Actor::cli(), &bytes, skip_invalid)
        .await
        .map_err(describe)?;
    spinner.finish_and_clear();
    for e in &report.errors {
        eprintln!("{}: {e}", path.display());
    }
    for u in &report.unmatched {
        eprintln!(
            "{}: line {}: no customer matches '{}' (nothing was changed for it)",
            path.display(),
            u.line,
            u.reference
        );
    }
    if report.aborted {
        return Err(format!(
            "import aborted: {} of {} rows are invalid; nothing was applied (use --skip-invalid to apply the rest)",
            report.rejected, report.rows
        ));
    }
    println!(
        "{} of {} returns applied ({}), {} unmatched, {} tasks created",
        report.applied,
        report.rows,
        report
            .outcomes
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join(", "),
        report.unmatched.len(),
        report.tasks_created
    );
    Ok(())
}
