//! Configuration from flags, `KUNDO_*` environment variables and an optional TOML file, in that
//! order of precedence.

use std::path::{Path, PathBuf};

use clap::Args;
use kundo_core::sale_bounds::SaleBounds;
use serde::Deserialize;

#[derive(Debug, Clone, Args, Default)]
pub struct DbArgs {
    /// Directory of the embedded SQLite database (used unless --database-url is given).
    #[arg(long, env = "KUNDO_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Database URL: postgres://user@host/db for PostgreSQL, sqlite://PATH for SQLite.
    #[arg(long, env = "KUNDO_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Maximum database connections in the pool.
    #[arg(long, env = "KUNDO_DB_CONNECTIONS", global = true)]
    pub db_connections: Option<u32>,
    /// A TOML file with any of: data_dir, database_url, db_connections, listen, log_format,
    /// receipt_max_age_years, receipt_max_points.
    #[arg(long, env = "KUNDO_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Receipts older than this many years are refused (default 10; docs/loyalty.md).
    #[arg(long, env = "KUNDO_RECEIPT_MAX_AGE_YEARS", global = true)]
    pub receipt_max_age_years: Option<u32>,
    /// A receipt that would earn more points than this is refused (default 100000).
    #[arg(long, env = "KUNDO_RECEIPT_MAX_POINTS", global = true)]
    pub receipt_max_points: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub db_connections: Option<u32>,
    pub listen: Option<String>,
    pub log_format: Option<String>,
    pub receipt_max_age_years: Option<u32>,
    pub receipt_max_points: Option<i64>,
}

impl FileConfig {
    pub fn load(path: Option<&Path>) -> Result<FileConfig, String> {
        let Some(path) = path else {
            return Ok(FileConfig::default());
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("config file {}: {e}", path.display()))
    }
}

/// Where the data lives, after flags, environment and file were merged.
#[derive(Debug, Clone)]
pub enum Target {
    DataDir(PathBuf),
    Url(String),
}

impl DbArgs {
    pub fn target(&self, file: &FileConfig) -> Target {
        if let Some(url) = self
            .database_url
            .clone()
            .or_else(|| file.database_url.clone())
        {
            return Target::Url(url);
        }
        Target::DataDir(
            self.data_dir
                .clone()
                .or_else(|| file.data_dir.clone())
                .unwrap_or_else(|| PathBuf::from("kundo-data")),
        )
    }

    /// What a receipt may claim, after flags, environment and file were merged; checked.
    pub fn sale_bounds(&self, file: &FileConfig) -> Result<SaleBounds, String> {
        let default = SaleBounds::default();
        let bounds = SaleBounds {
            max_age_years: self
                .receipt_max_age_years
                .or(file.receipt_max_age_years)
                .unwrap_or(default.max_age_years),
            max_points_per_receipt: self
                .receipt_max_points
                .or(file.receipt_max_points)
                .unwrap_or(default.max_points_per_receipt),
        };
        bounds.validate().map_err(|errors| {
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        })?;
        Ok(bounds)
    }

    pub fn connections(&self, file: &FileConfig) -> u32 {
        self.db_connections
            .or(file.db_connections)
            .unwrap_or(16)
            .clamp(1, 500)
    }
}
