//! civhub-warehouse: where civhub's data is queried.
//!
//! This crate owns the one place DataFusion sessions are built for civhub
//! ([`session::new_context`]) and the SQL functions every session has
//! ([`functions`]). Embedded queries, checks and the servers all start from
//! that session, so the same SQL means the same thing everywhere. Table
//! storage, the catalog, publishing and access rules join it here as they are
//! built.

pub mod functions;
pub mod session;
