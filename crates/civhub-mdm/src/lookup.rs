//! Reading a matching run back: golden records, the mentions behind them,
//! the staged records those mentions come from, and the review queue — what
//! `civhub person`, `civhub entity` and `civhub review` show (and, later, the
//! HTTP server).
//!
//! Everything is read from the *current* run of a kind (`current.json`), so
//! what a user sees is exactly what the last complete `civhub match` decided.
//! The run's tables are registered in one DataFusion session next to the
//! staging tables; lookups are small SQL queries, so the same code works on a
//! city of a million people without loading anything whole.

mod find;
mod mention;
mod queue;
mod view;

pub use find::{Candidate, Found, Golden, GoldenField, find, golden_records};
pub use mention::{Mention, mention, mentions_where, resolve_mention};
pub use queue::{ReviewItem, decide, decision_for, decisions_changed, pair_key, pending};
pub use view::{DepartmentMentions, MentionRecord, View, view};

use crate::kinds::spec;
use crate::settings::Kind;
use crate::sql::{collect, register_parquet};
use crate::store::{self, Current};
use arrow::array::{Array, ArrayRef, AsArray};
use arrow::record_batch::RecordBatch;
use civhub_ingest::config::Project;
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;
use serde::Serialize;
use serde_json::Value;
use std::path::PathBuf;

/// Why a lookup failed; each says what to do next ([`LookupError::hint`]).
#[derive(Debug)]
pub enum LookupError {
    /// No matching run of this kind yet.
    NoResults(Kind),
    /// No mention with this id (or reference) in the current run.
    UnknownMention(String),
    /// Nothing matches the query.
    NotFound {
        /// The kind searched.
        kind: Kind,
        /// What was asked for.
        query: String,
        /// How it was read (golden id, ID number, name).
        read_as: &'static str,
    },
    /// A golden id that no longer exists; `merged_into` when the history knows where it went.
    Retired {
        /// The id asked for.
        gid: String,
        /// Where its mentions went.
        merged_into: Option<String>,
    },
    /// The input cannot be what it claims to be, or the request makes no sense.
    Invalid {
        /// What is wrong.
        message: String,
        /// What to do instead.
        hint: String,
    },
    /// The decisions file cannot be read or written.
    Decisions(String),
    /// The engine failed (unreadable tables, …).
    Engine(DataFusionError),
}

impl std::fmt::Display for LookupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LookupError::NoResults(k) => write!(f, "no {} matching results yet", k.as_str()),
            LookupError::UnknownMention(m) => {
                write!(f, "no mention `{m}` in the current matching run")
            }
            LookupError::NotFound {
                kind,
                query,
                read_as,
            } => write!(f, "no {} found for {read_as} `{query}`", noun(*kind)),
            LookupError::Retired { gid, merged_into } => match merged_into {
                Some(to) => write!(f, "golden record `{gid}` was merged into `{to}`"),
                None => write!(f, "no golden record `{gid}` in the current matching run"),
            },
            LookupError::Invalid { message, .. } => f.write_str(message),
            LookupError::Decisions(e) => write!(f, "decisions: {e}"),
            LookupError::Engine(e) => write!(f, "cannot read the matching results: {e}"),
        }
    }
}

impl std::error::Error for LookupError {}

impl From<DataFusionError> for LookupError {
    fn from(e: DataFusionError) -> Self {
        LookupError::Engine(e)
    }
}

impl LookupError {
    /// What would fix it.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            LookupError::NoResults(_) => {
                "run `civhub run` (ingest and match) or, after an ingest, `civhub match`".into()
            }
            LookupError::UnknownMention(_) => "mention ids (pm… for people, em… for entities) are listed by `civhub person <name | ID>`, `civhub entity <name | USCC>` and `civhub review`; `<pipeline>:<file>:<row>` works too".into(),
            LookupError::NotFound { kind, .. } => format!(
                "give a golden id ({}…), {}, or a name",
                spec(*kind).gid_prefix,
                match kind {
                    Kind::Person => "an 18- or 15-digit resident ID",
                    Kind::Entity => "an 18-character unified social credit code",
                }
            ),
            LookupError::Retired {
                merged_into: Some(to),
                ..
            } => format!("`civhub person {to}` (or `civhub entity {to}`) shows it"),
            LookupError::Retired { .. } => {
                "golden ids of records whose mentions are gone are retired; search by name or ID instead".into()
            }
            LookupError::Invalid { hint, .. } => hint.clone(),
            LookupError::Decisions(_) => "fix or remove the offending line of the decisions file".into(),
            LookupError::Engine(_) => "run `civhub match` again to rebuild the results".into(),
        })
    }
}

/// `a person` / `an entity`.
pub fn article(kind: Kind) -> &'static str {
    match kind {
        Kind::Person => "a person",
        Kind::Entity => "an entity",
    }
}

fn noun(kind: Kind) -> &'static str {
    match kind {
        Kind::Person => "person",
        Kind::Entity => "legal entity",
    }
}

/// Results of lookups.
pub type Result<T> = std::result::Result<T, LookupError>;

/// Non-null values in column order, serialized as one JSON object.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fields(pub Vec<(String, Value)>);

impl Serialize for Fields {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl Fields {
    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// The value of `name` as display text.
    pub fn text(&self, name: &str) -> Option<String> {
        self.get(name).map(display)
    }
}

/// A JSON value as display text (strings without quotes).
pub fn display(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One cell as JSON (None when null): numbers and booleans as such, every
/// other type as the engine displays it.
fn cell(col: &ArrayRef, row: usize) -> Option<Value> {
    use arrow::datatypes::DataType as T;
    if col.is_null(row) {
        return None;
    }
    match col.data_type() {
        T::Boolean => Some(Value::Bool(col.as_boolean().value(row))),
        T::Int8 | T::Int16 | T::Int32 | T::Int64 | T::UInt8 | T::UInt16 | T::UInt32 => {
            crate::sql::int64(col)
                .ok()
                .map(|c| Value::from(c.value(row)))
        }
        T::Float32 | T::Float64 => arrow::compute::cast(col, &T::Float64)
            .ok()
            .and_then(|c| {
                serde_json::Number::from_f64(
                    c.as_primitive::<arrow::datatypes::Float64Type>().value(row),
                )
            })
            .map(Value::Number),
        _ => {
            let f = arrow::util::display::ArrayFormatter::try_new(
                col.as_ref(),
                &arrow::util::display::FormatOptions::default(),
            )
            .ok()?;
            Some(Value::String(f.value(row).to_string()))
        }
    }
}

/// Every row of `batches` as [`Fields`] (nulls left out).
pub fn rows(batches: &[RecordBatch]) -> Vec<Fields> {
    let mut out = Vec::new();
    for b in batches {
        let schema = b.schema();
        for r in 0..b.num_rows() {
            let mut f = Vec::new();
            for (i, field) in schema.fields().iter().enumerate() {
                if let Some(v) = cell(b.column(i), r) {
                    f.push((field.name().clone(), v));
                }
            }
            out.push(Fields(f));
        }
    }
    out
}

/// The current run of one kind, opened for reading.
pub struct Run {
    /// Which kind.
    pub kind: Kind,
    /// `current.json`.
    pub current: Current,
    /// The run's folder.
    pub dir: PathBuf,
    ctx: SessionContext,
}

/// Tables of a run, as registered in [`Run::ctx`].
pub mod tables {
    /// `mentions.parquet` with each mention's node and contradiction
    /// ([`crate::store::mentions_table`]).
    pub const MENTIONS: &str = "mx";
    /// `xref.parquet`.
    pub const XREF: &str = "xref";
    /// `golden.parquet`.
    pub const GOLDEN: &str = "golden";
    /// `review.parquet`.
    pub const REVIEW: &str = "review";
    /// `tf.parquet`.
    pub const TF: &str = "tf";
}

impl Run {
    /// Opens the current run of `kind` (with the project's staging tables,
    /// for the records behind mentions).
    pub async fn open(project: &Project, kind: Kind) -> Result<Run> {
        let Some((current, dir)) = store::current(&project.warehouse, kind) else {
            return Err(LookupError::NoResults(kind));
        };
        if !dir.join(store::MENTIONS).is_file() {
            return Err(LookupError::NoResults(kind));
        }
        let ctx = civhub_engine::session::new_context(Default::default());
        civhub_engine::tables::register_staging(&ctx, project)?;
        ctx.register_table(
            tables::MENTIONS,
            store::mentions_table(&ctx, kind, &dir).await?,
        )?;
        for (name, file) in [
            (tables::XREF, store::XREF),
            (tables::GOLDEN, store::GOLDEN),
            (tables::REVIEW, store::REVIEW),
            (tables::TF, store::TERM_FREQUENCIES),
        ] {
            let path = dir.join(file);
            if path.is_file() {
                register_parquet(&ctx, name, &path).await?;
            } else if name != tables::TF {
                return Err(LookupError::Engine(DataFusionError::Execution(format!(
                    "`{}` is missing",
                    path.display()
                ))));
            }
        }
        let history = dir.join(store::HISTORY);
        if history.is_file() {
            register_parquet(&ctx, "history", &history).await?;
        }
        Ok(Run {
            kind,
            current,
            dir,
            ctx,
        })
    }

    /// The session holding the run's tables (see [`tables`]) and `staging.*`.
    pub fn ctx(&self) -> &SessionContext {
        &self.ctx
    }

    /// Runs `sql` and returns its rows.
    pub async fn query(&self, sql: &str) -> Result<Vec<Fields>> {
        Ok(rows(&collect(&self.ctx, sql).await?))
    }

    /// The trained model of the run.
    pub fn model(&self) -> Result<crate::em::Model> {
        let p = self.dir.join(store::MODEL);
        let text = fs_err::read_to_string(&p)
            .map_err(|e| LookupError::Engine(DataFusionError::Execution(e.to_string())))?;
        serde_json::from_str(&text).map_err(|e| {
            LookupError::Engine(DataFusionError::Execution(format!("{}: {e}", p.display())))
        })
    }
}

/// The kind a mention id belongs to, from its prefix (`pm…` / `em…`).
pub fn kind_of_mention(id: &str) -> Option<Kind> {
    let ok = |s: &str| s.len() == 16 && s.bytes().all(|b| b.is_ascii_hexdigit());
    if let Some(rest) = id.strip_prefix("pm") {
        ok(rest).then_some(Kind::Person)
    } else if let Some(rest) = id.strip_prefix("em") {
        ok(rest).then_some(Kind::Entity)
    } else {
        None
    }
}

/// True for text shaped like a golden id of `kind` (prefix and 12 base-32 characters).
pub fn looks_like_gid(kind: Kind, s: &str) -> bool {
    let p = spec(kind).gid_prefix;
    s.len() == 13
        && s.starts_with(p)
        && s[1..]
            .bytes()
            .all(|b| b"0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mention_ids_and_golden_ids_are_told_apart() {
        assert_eq!(kind_of_mention("pm027aa174f3eb445d"), Some(Kind::Person));
        assert_eq!(kind_of_mention("em15035ab2e80f89b9"), Some(Kind::Entity));
        for not in [
            "pm027aa174f3eb445",
            "pmZZ7aa174f3eb445d",
            "P8796YPZV2C9D",
            "",
        ] {
            assert_eq!(kind_of_mention(not), None, "{not}");
        }
        assert!(looks_like_gid(Kind::Person, "P8796YPZV2C9D"));
        assert!(!looks_like_gid(Kind::Entity, "P8796YPZV2C9D"));
        // I, L, O, U are not in the alphabet of golden ids.
        assert!(!looks_like_gid(Kind::Person, "P8796YPZV2C9I"));
        assert!(!looks_like_gid(Kind::Person, "341022199902183538"));
    }
}
