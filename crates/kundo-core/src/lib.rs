//! Kundo's domain types and pure rules. Nothing in this crate does I/O.

pub mod attributes;
pub mod auth;
pub mod contact;
pub mod customer;
pub mod demo;
pub mod error;
pub mod loyalty_runs;
pub mod points;
pub mod search;
pub mod segment;
pub mod voucher_code;
