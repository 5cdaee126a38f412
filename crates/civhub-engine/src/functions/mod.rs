//! civhub's SQL functions: civhub-core's normalizers, identifier checks and
//! name comparisons as DataFusion scalar UDFs.
//!
//! The names are civhub's public SQL surface. Each wraps the plain function
//! ingest applies while staging (see [`civhub_core`]), so a query over raw
//! text gets exactly the value staging would have produced. All functions
//! share one adapter (`adapter.rs`): they take text, are NULL-strict, and give
//! NULL — never an error — for a value the normalizer cannot read, because a
//! query has no quarantine to send a bad row to.
//!
//! Sessions get them from [`crate::session::new_context`]; [`all`] lists them
//! for anything that documents or registers functions elsewhere.

mod adapter;
mod identity;
mod output;
mod similarity;
mod text;
mod values;

use datafusion::logical_expr::{DocSection, ScalarUDF};

/// Documentation group of identifier functions.
const IDENTIFIERS: DocSection = DocSection {
    include: true,
    label: "civhub identifiers",
    description: Some(
        "Resident ID numbers (居民身份证号码), unified social credit codes \
         (统一社会信用代码) and organization codes (组织机构代码).",
    ),
};

/// Documentation group of text normalizers.
const TEXT: DocSection = DocSection {
    include: true,
    label: "civhub text",
    description: Some("Names, company names, phone numbers, addresses and pinyin."),
};

/// Documentation group of typed-value normalizers.
const VALUES: DocSection = DocSection {
    include: true,
    label: "civhub values",
    description: Some("Dates, amounts of money, areas, gender and vehicle plates read from text."),
};

/// Documentation group of similarity functions.
const SIMILARITY: DocSection = DocSection {
    include: true,
    label: "civhub similarity",
    description: Some("String similarity on characters, for Chinese and Latin text alike."),
};

/// Every civhub SQL function, grouped as documented: identifiers, text,
/// values, similarity.
pub fn all() -> Vec<ScalarUDF> {
    let mut udfs = identity::udfs();
    udfs.extend(text::udfs());
    udfs.extend(values::udfs());
    udfs.extend(similarity::udfs());
    udfs
}
