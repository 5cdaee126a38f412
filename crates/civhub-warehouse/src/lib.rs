//! civhub-warehouse: published tables (Delta Lake), the data catalog, and the
//! read-only SQL session analysts query.
//!
//! * [`publish`] writes the base databases (`publish/*.toml`) and every
//!   department dataset as Delta tables (不予共享 ones marked restricted to
//!   their provider), then [`catalog`], then a [`release`] pinning every
//!   table's version.
//! * [`session`] builds the read-only session over a release: published
//!   tables (less the restricted ones) and the catalog, civhub's SQL
//!   functions, and nothing else.
//! * [`browse`] reads the catalog through that session (search, one
//!   dataset's entry, lists); [`site`] renders it as a static HTML site.

pub mod browse;
pub mod catalog;
pub mod config;
pub mod delta;
mod inputs;
pub mod publish;
pub mod release;
pub mod session;
pub mod site;
