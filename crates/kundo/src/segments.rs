//! `kundo segment …`: create, list, count and export segments from the command line.

use std::path::PathBuf;

use chrono::{NaiveDate, Utc};
use clap::Subcommand;
use kundo_app::segments::{SegmentInput, parse_as_of};
use kundo_app::{Actor, App};

use crate::describe;

#[derive(Subcommand)]
pub enum SegmentCommand {
    /// Create a segment from a JSON definition (format: docs/segments.md); prints its id.
    Create {
        #[arg(long)]
        name: String,
        /// The definition, a JSON file (`-` for standard input).
        #[arg(long)]
        file: PathBuf,
        /// A static list (a snapshot of today's members) instead of a dynamic segment.
        #[arg(long = "static")]
        static_list: bool,
    },
    /// List segments: id, kind, name, members of the latest snapshot.
    List,
    /// Count the members of a segment.
    Count {
        id: i64,
        /// Evaluate relative windows against this date (YYYY-MM-DD, default: today).
        #[arg(long)]
        as_of: Option<String>,
    },
    /// Export the members as CSV (to standard output or --output).
    Export {
        id: i64,
        #[arg(long, short)]
        output: Option<PathBuf>,
        #[arg(long)]
        as_of: Option<String>,
    },
}

fn as_of(s: Option<&str>) -> Result<NaiveDate, String> {
    match s {
        None => Ok(Utc::now().date_naive()),
        Some(s) => parse_as_of(s).map_err(|e| format!("--as-of {}", e.message)),
    }
}

pub async fn run(app: &App, command: SegmentCommand) -> Result<(), String> {
    match command {
        SegmentCommand::Create {
            name,
            file,
            static_list,
        } => {
            let text = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())
            } else {
                std::fs::read_to_string(&file)
            }
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let definition = serde_json::from_str(&text)
                .map_err(|e| format!("{} is not JSON: {e}", file.display()))?;
            let input = SegmentInput {
                name,
                definition,
                kind: static_list.then(|| "static".to_string()),
            };
            let view = app
                .create_segment(&Actor::cli(), input, as_of(None)?)
                .await
                .map_err(describe)?;
            println!("{}", view.id);
            if let Some(s) = view.snapshot {
                eprintln!("static list with {} members", s.member_count);
            }
            Ok(())
        }
        SegmentCommand::List => {
            let mut cursor = None;
            loop {
                let page = app.segments(cursor, 500).await.map_err(describe)?;
                for s in &page.items {
                    let members = s
                        .snapshot
                        .as_ref()
                        .map_or(String::new(), |s| s.member_count.to_string());
                    println!("{}\t{}\t{}\t{}", s.id, s.kind, s.name, members);
                }
                match page.next_cursor.and_then(|c| c.parse().ok()) {
                    Some(c) => cursor = Some(c),
                    None => return Ok(()),
                }
            }
        }
        SegmentCommand::Count { id, as_of: date } => {
            let n = app
                .segment_count(id, as_of(date.as_deref())?)
                .await
                .map_err(describe)?;
            println!("{n}");
            Ok(())
        }
        SegmentCommand::Export {
            id,
            output,
            as_of: date,
        } => {
            let date = as_of(date.as_deref())?;
            let n = match output {
                Some(path) => {
                    let f = std::fs::File::create(&path)
                        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                    app.export_segment(id, date, std::io::BufWriter::new(f))
                        .await
                }
                None => {
                    app.export_segment(id, date, std::io::BufWriter::new(std::io::stdout().lock()))
                        .await
                }
            }
            .map_err(describe)?;
            eprintln!("exported {n} members");
            Ok(())
        }
    }
}
