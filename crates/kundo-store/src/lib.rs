//! The store: one code path over SQLite (embedded default) and PostgreSQL.
//!
//! Queries are written once in SQL that both backends understand (`$1` placeholders work in
//! both); the few dialect differences are spelled out next to each other where they occur.
//! Dynamic SQL is built with sea-query and rendered for the backend in use.

pub mod activities;
pub mod attributes;
pub mod audit;
pub mod auth;
pub mod campaigns;
pub mod cases;
pub mod customers;
pub mod dashboard;
mod db;
pub mod dedup;
pub mod loyalty;
pub mod merge;
pub mod postal;
pub mod rolling;
pub mod rows;
pub mod scores;
pub mod search;
pub mod segments;
mod select;
pub mod tasks;
pub mod testing;
pub mod timeline;
pub mod vouchers;
pub mod webhooks;

pub use db::{Backend, Conn, Db, PoolSize, Store, StoreError, Tx, redact};

pub type Result<T> = std::result::Result<T, StoreError>;
