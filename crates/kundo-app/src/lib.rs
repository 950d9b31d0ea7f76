//! Use cases: the only way the edges (HTTP, CLI, jobs) change data. Each use case is one
//! transaction; every change to customer data writes its audit entry and its event in the same
//! transaction.

pub mod auth;
pub mod automation;
pub mod campaigns;
pub mod cases;
pub mod csv_io;
pub mod customers;
pub mod demo;
pub mod duplicates;
mod membership;
pub mod merge;
pub mod postal_returns;
pub mod purchase_log;
pub mod receipts;
pub mod runs;
pub mod scores;
pub mod segments;
pub mod tasks;
pub mod timeline;
pub mod vouchers;
pub mod webhooks;

use std::sync::Arc;

use kundo_core::error::FieldError;
use kundo_store::{Store, StoreError};

pub use auth::{Actor, AuthCache};

/// Everything a use case may fail with; the edges turn it into HTTP problems or CLI messages.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request conflicts with existing data (a card number in use, a name taken).
    #[error("{message}")]
    Conflict { field: String, message: String },
    /// `If-Match` named a version that is no longer current.
    #[error("the record was changed since you read it")]
    Stale,
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Io(String),
    /// A voucher code that cannot be one (wrong length, character or check character).
    #[error("{0}")]
    InvalidCode(String),
    /// The voucher exists but cannot be used here and now (expired, wrong channel, …).
    #[error("the voucher cannot be used: {0}")]
    VoucherRefused(&'static str),
    /// Creating the record would likely duplicate existing customers (DOMAIN §10); the caller
    /// may create it anyway.
    #[error("likely duplicates exist")]
    Duplicates(Vec<duplicates::Candidate>),
    #[error("the voucher was redeemed already")]
    AlreadyRedeemed {
        at: Option<chrono::DateTime<chrono::Utc>>,
        channel: Option<String>,
        store_code: Option<String>,
    },
}

impl AppError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Invalid(vec![FieldError::new(field, message)])
    }
}

pub type Result<T> = std::result::Result<T, AppError>;

/// The application: the store plus the caches the use cases share.
#[derive(Clone)]
pub struct App {
    pub store: Store,
    pub auth_cache: Arc<AuthCache>,
    /// Where files for people go (lettershop batches); `None` on PostgreSQL without a data dir.
    pub files_dir: Option<std::path::PathBuf>,
    /// What a receipt may claim: how old it may be, how many points it may earn.
    pub sale_bounds: kundo_core::sale_bounds::SaleBounds,
    receipt_queue: Arc<std::sync::OnceLock<tokio::sync::mpsc::Sender<receipts::QueuedReceipt>>>,
    redeem_queue: Arc<std::sync::OnceLock<tokio::sync::mpsc::Sender<vouchers::QueuedRedemption>>>,
    attributes:
        Arc<tokio::sync::RwLock<Option<Arc<Vec<kundo_core::attributes::AttributeDefinition>>>>>,
    /// A fixed "today", for tests and benchmarks that replay a given day; `None`: the clock.
    today: Option<chrono::NaiveDate>,
}

impl App {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            auth_cache: Arc::new(AuthCache::default()),
            files_dir: None,
            sale_bounds: Default::default(),
            receipt_queue: Arc::default(),
            redeem_queue: Arc::default(),
            attributes: Arc::default(),
            today: None,
        }
    }

    /// Today in the company's calendar: which periods runs may be for, and the day their
    /// vouchers start. The one place that decides it — every edge and job asks here.
    // TODO(companies): each company brings its time zone (DOMAIN §0); until then the calendar
    // is UTC. Replace `Utc::now().date_naive()` with today in the company's zone.
    pub fn company_today(&self) -> chrono::NaiveDate {
        self.today
            .unwrap_or_else(|| chrono::Utc::now().date_naive())
    }

    /// The same application with "today" fixed (tests and benchmarks that replay a day).
    pub fn with_today(mut self, today: chrono::NaiveDate) -> Self {
        self.today = Some(today);
        self
    }

    /// The custom attribute definitions, cached; a change through this process refreshes them.
    pub async fn attribute_definitions(
        &self,
    ) -> Result<Arc<Vec<kundo_core::attributes::AttributeDefinition>>> {
        if let Some(defs) = self.attributes.read().await.clone() {
            return Ok(defs);
        }
        let mut tx = self.store.begin_read().await?;
        let defs = Arc::new(kundo_store::attributes::list(&mut tx.db()).await?);
        tx.commit().await?;
        *self.attributes.write().await = Some(defs.clone());
        Ok(defs)
    }

    pub async fn define_attribute(
        &self,
        actor: &Actor,
        def: kundo_core::attributes::AttributeDefinition,
    ) -> Result<()> {
        def.validate().map_err(AppError::Invalid)?;
        let now = chrono::Utc::now();
        let mut tx = self.store.begin_write().await?;
        if !kundo_store::attributes::create(&mut tx.db(), &def, now).await? {
            return Err(AppError::Conflict {
                field: "name".into(),
                message: format!("an attribute named '{}' exists already", def.name),
            });
        }
        let json = serde_json::to_value(&def).unwrap_or_default();
        kundo_store::audit::record(
            &mut tx.db(),
            &actor.name,
            "attribute.defined",
            None,
            &json,
            now,
        )
        .await?;
        tx.commit().await?;
        *self.attributes.write().await = None;
        Ok(())
    }

    pub async fn delete_attribute(&self, actor: &Actor, name: &str) -> Result<()> {
        let now = chrono::Utc::now();
        let mut tx = self.store.begin_write().await?;
        let used = kundo_store::attributes::usage(&mut tx.db(), name).await?;
        if used > 0 {
            return Err(AppError::Conflict {
                field: "name".into(),
                message: format!("{used} customers have a value for '{name}'; remove those first"),
            });
        }
        if !kundo_store::attributes::delete(&mut tx.db(), name).await? {
            return Err(AppError::NotFound("attribute"));
        }
        kundo_store::audit::record(
            &mut tx.db(),
            &actor.name,
            "attribute.deleted",
            None,
            &serde_json::json!({ "name": name }),
            now,
        )
        .await?;
        tx.commit().await?;
        *self.attributes.write().await = None;
        Ok(())
    }
}
