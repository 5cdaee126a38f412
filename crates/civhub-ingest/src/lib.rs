//! civhub-ingest: reading department exports into staging and quarantine.
//!
//! * [`config`] loads and checks `civhub.toml`, schemas and pipelines.

pub mod config;
mod dedup;
pub mod file;
pub mod manifest;
pub mod read;
pub mod report;
pub mod run;
pub mod stage;
pub mod transform;

/// Bumped whenever the layout of staged files changes, so that a new civhub
/// re-stages what an older one wrote.
pub const STAGING_FORMAT_VERSION: u8 = 1;
