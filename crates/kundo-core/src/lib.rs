//! Kundo's domain types and pure rules. Nothing in this crate does I/O.

pub mod attributes;
pub mod auth;
pub mod campaign;
pub mod consent_status;
pub mod contact;
pub mod customer;
pub mod dates;
pub mod dedup;
pub mod demo;
pub mod error;
pub mod history;
pub mod invisible;
pub mod loyalty_runs;
pub mod merge;
pub mod points;
pub mod postal_returns;
pub mod sale_bounds;
pub mod scores;
pub mod search;
pub mod segment;
pub mod twelve_months;
pub mod voucher_code;
