//! civhub-engine: the query engine every stage shares.
//!
//! This crate owns the one place DataFusion sessions are built for civhub
//! ([`session::new_context`]) and the SQL functions every session has
//! ([`functions`]). Matching's blocking joins, publishing, the checks and the
//! servers all start from that session, so the same SQL means the same thing
//! everywhere — embedded, or later on a Ballista cluster. It depends only on
//! civhub-core, so every later crate can use it without a cycle.

pub mod functions;
pub mod session;
pub mod tables;
