//! civhub-checks: cross-checks over the published data, declared in
//! `pipelines/checks/<id>.toml` — the 低保 eligibility comparison first.
//!
//! A check names its *subjects* (one row per member of a household, with
//! the member's golden id), *parameters* with effective dates (and optional
//! district values), shared *definitions*, and *rules*: SQL over the
//! published tables that returns every piece of evidence it looked at,
//! flagged or not. [`run::evaluate`] runs them through the read-only SQL
//! session, turns flagged rows into findings with stable ids, compares them
//! with the previous run and applies caseworkers' reviews; [`store`]
//! publishes the run as Delta tables in a new release; [`report`] writes
//! the Excel workbook and HTML page caseworkers open. A new check is a new
//! TOML file, not new code.

pub mod config;
pub mod report;
pub mod review;
pub mod run;
pub mod store;

pub use config::{Check, load};
pub use run::{CheckError, CheckRun, Finding, Options, evaluate};
