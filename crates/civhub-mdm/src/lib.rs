//! civhub-mdm: master data — resolving every mention of a person or a legal
//! entity into a golden record with a stable id.
//!
//! * [`mentions`] — who each staged record names, by its pipeline's identities.
//! * [`settings`] — `pipelines/match/{person,entity}.toml`.
//! * [`resolve`] — the deterministic pass, blocking, comparisons (DataFusion
//!   SQL) and the model and clustering (Rust: [`em`], [`cluster`]).
//! * [`lookup`] and [`explain`] — reading a run back: the 360° view of a
//!   golden record, the review queue, and why two mentions were (not) linked.

pub mod cluster;
pub mod digest;
pub mod em;
pub mod enrich;
pub mod eval;
pub mod explain;
pub mod hashes;
pub mod ids;
pub mod kinds;
pub mod lookup;
pub mod mentions;
pub mod resolve;
pub mod review;
pub mod run;
pub mod settings;
pub mod sql;
pub mod store;
pub mod survive;
