//! Integration tests of civhub-synth (one test binary; modules by topic).
//!
//! Most tests share one generated city (300 people), made once per test
//! process under cargo's target tmp folder.

mod common;
mod determinism;
mod dibao;
mod files;
mod ingest;
mod output_dir;
mod rows;
