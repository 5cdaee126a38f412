//! civhub-core: identifiers, normalizers and the canonical vocabulary of civhub.
//!
//! Everything here is a pure function over values: no I/O, no async, no engine.
//! The ingest crate applies these functions row by row while reading department
//! exports; the warehouse crate wraps the same functions as DataFusion UDFs so
//! that SQL sees exactly the values ingest produced.
//!
//! * [`id`] — resident identity numbers (居民身份证号码, GB 11643), unified social
//!   credit codes (统一社会信用代码, GB 32100) and organization codes (GB 11714).
//! * [`normalize`] — one function per kind of value found in exports (names,
//!   company names, phones, dates, addresses, amounts, areas, …).
//! * [`normalizer`] — the closed set of normalizers a pipeline may name, and
//!   their dispatch to typed [`Value`]s.
//! * [`types`] — field types, PII classes, sharing types and update cycles.

pub mod id;
pub mod mask;
pub mod normalize;
pub mod normalizer;
pub mod types;
pub mod value;

pub use normalizer::{NormError, Normalized, Normalizer, NormalizerOptions};
pub use types::{FieldType, PiiClass, SharingType, UpdateCycle};
pub use value::Value;
