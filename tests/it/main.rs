//! End-to-end tests of the `civhub` binary over real files in temporary
//! projects (one test binary for the whole CLI, see STYLE.md).

mod common;
mod fixtures;
mod ingest_files;
mod mdm_cli;
mod validate;
