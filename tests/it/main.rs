//! End-to-end tests of the `civhub` binary over real files in temporary
//! projects (one test binary for the whole CLI, see STYLE.md).

mod access_cli;
mod catalog_cli;
mod checks_cli;
mod common;
mod fixtures;
mod ingest_files;
mod mdm_cli;
mod serve_http;
mod serve_pg;
mod sql_surface;
mod validate;
