//! Readers: one per file format, all streaming rows into the same [`RowSink`].
//!
//! A reader resolves the pipeline's source columns against the file's header
//! once (or, for JSON, against each record's keys), then hands every data row
//! to the sink as a [`RowView`]: cheap access to the wanted cells without
//! copying, and the whole original row only when it must be quarantined.
//! Readers never decide what is a bad row; they only report rows whose shape is
//! broken (ragged CSV lines, unparsable NDJSON lines) through
//! [`RowView::problem`], so the transform can quarantine them like any other.

pub(crate) mod csv;
mod json;
mod parquet;
mod records;
mod text;
mod xlsx;

use crate::config::{Format, Pipeline};
use std::fmt;
use std::path::Path;

pub use text::{DetectedEncoding, detect_encoding};

/// A source column the pipeline wants, with its alternative names.
#[derive(Debug, Clone)]
pub struct Slot {
    /// Names in order of preference.
    pub names: Vec<String>,
    /// May be absent from the file.
    pub optional: bool,
}

/// A data row as a reader sees it.
pub trait RowView {
    /// Row number as users count it: the physical 1-based row in the file or
    /// sheet (csv, xlsx), the 1-based record index (json), the line (ndjson),
    /// the 1-based row index (parquet).
    fn row(&self) -> u64;
    /// Sheet name (xlsx).
    fn sheet(&self) -> Option<&str>;
    /// The raw text of wanted column `i`, `None` when absent or empty.
    fn slot(&self, i: usize) -> Option<&str>;
    /// A broken shape that makes the row unusable.
    fn problem(&self) -> Option<RowProblem>;
    /// The whole original row as a JSON object (column name → text).
    fn original(&self) -> String;
}

/// A row whose shape is broken.
#[derive(Debug, Clone)]
pub struct RowProblem {
    /// Rule id, e.g. `ragged-row`.
    pub rule: &'static str,
    /// Human-readable reason.
    pub reason: String,
}

/// Receives rows from a reader.
pub trait RowSink {
    /// One data row.
    fn row(&mut self, row: &dyn RowView);
    /// A row whose cells are all empty (not a record; counted).
    fn blank(&mut self) {}
    /// A footer row at or after the `stop-at` match (not a record; counted).
    fn footer(&mut self) {}
    /// At most about `rows` rows will follow (an upper bound learnt before
    /// reading, e.g. a CSV file's line count), to size tables once.
    fn expect_rows(&mut self, _rows: u64) {}
}

/// Why a whole file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    /// What went wrong.
    pub message: String,
    /// What would fix it.
    pub hint: Option<String>,
}

impl FileError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        FileError {
            message: message.into(),
            hint: None,
        }
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

/// Facts about a file learnt while reading it.
#[derive(Debug, Clone, Default)]
pub struct ReadInfo {
    /// The text encoding actually used (csv, json, ndjson).
    pub encoding: Option<&'static str>,
    /// Sheets read (xlsx).
    pub sheets: Vec<String>,
}

/// Reads one file of `pipeline`, calling `sink` for every row.
pub fn read_file(
    path: &Path,
    pipeline: &Pipeline,
    slots: &[Slot],
    sink: &mut dyn RowSink,
) -> Result<ReadInfo, FileError> {
    match *pipeline.def.source.format.get_ref() {
        Format::Csv => csv::read(path, pipeline, slots, sink),
        Format::Xlsx => xlsx::read(path, pipeline, slots, sink),
        Format::Json => json::read_document(path, pipeline, slots, sink),
        Format::Ndjson => json::read_lines(path, pipeline, slots, sink),
        Format::Parquet => parquet::read(path, slots, sink),
    }
}

/// Normalizes a header cell for matching: BOM, full-width characters, spaces
/// and line breaks removed, so `身份证号 ` and `身份证号\n` both match `身份证号`.
pub(crate) fn header_key(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{feff}' && *c != '\u{200b}')
        .map(|c| match c {
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// Resolves every slot against a header. Missing non-optional columns are a
/// file error naming the columns the file does have.
pub(crate) fn resolve_header(
    header: &[String],
    slots: &[Slot],
    where_: &str,
) -> Result<Vec<Option<usize>>, FileError> {
    let keys: Vec<String> = header.iter().map(|h| header_key(h)).collect();
    let mut out = Vec::with_capacity(slots.len());
    let mut missing = Vec::new();
    for s in slots {
        let found = s.names.iter().find_map(|n| {
            let k = header_key(n);
            keys.iter().position(|h| *h == k)
        });
        if found.is_none() && !s.optional {
            missing.push(s.names.join("` or `"));
        }
        out.push(found);
    }
    if !missing.is_empty() {
        let have: Vec<String> = header
            .iter()
            .filter(|h| !h.trim().is_empty())
            .map(|h| format!("`{}`", h.trim()))
            .collect();
        let cols = missing
            .iter()
            .map(|m| format!("`{m}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let suggestion = missing
            .iter()
            .filter_map(|m| {
                let first = m.split("` or `").next().unwrap_or(m);
                crate::config::diag::did_you_mean(first, header.iter().map(|h| h.trim()))
                    .map(|c| format!("`{first}` → `{c}`?"))
            })
            .collect::<Vec<_>>();
        let mut hint = "map the export's actual column name in `from` (alternatives may be listed: from = [\"a\", \"b\"]), or mark the column `optional = true`".to_string();
        if !suggestion.is_empty() {
            hint = format!("did you mean {}; {hint}", suggestion.join(", "));
        }
        return Err(FileError::new(format!(
            "{where_}: column{} {cols} not found; the header has {}",
            if missing.len() == 1 { "" } else { "s" },
            if have.is_empty() {
                "no column names".to_string()
            } else {
                have.join(", ")
            }
        ))
        .hint(hint));
    }
    Ok(out)
}

/// JSON object text from column names and values.
pub(crate) fn original_json<'a>(pairs: impl Iterator<Item = (&'a str, Option<&'a str>)>) -> String {
    let mut map = serde_json::Map::new();
    for (k, v) in pairs {
        let key = if map.contains_key(k) {
            format!("{k}#{}", map.len() + 1)
        } else {
            k.to_string()
        };
        map.insert(
            key,
            v.map(|s| serde_json::Value::String(s.to_string()))
                .unwrap_or(serde_json::Value::Null),
        );
    }
    serde_json::Value::Object(map).to_string()
}

/// JSON object text from owned column names and values.
pub(crate) fn original_json_owned(pairs: impl Iterator<Item = (String, Option<String>)>) -> String {
    let mut map = serde_json::Map::new();
    for (k, v) in pairs {
        map.insert(
            k,
            v.map(serde_json::Value::String)
                .unwrap_or(serde_json::Value::Null),
        );
    }
    serde_json::Value::Object(map).to_string()
}
