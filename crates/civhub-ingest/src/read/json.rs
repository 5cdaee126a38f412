//! JSON documents (an array of records, possibly nested inside wrapper
//! objects) and NDJSON (one record per line).
//!
//! Documents are streamed: the records array is walked element by element with
//! serde's `DeserializeSeed`, so only one record is in memory at a time however
//! large the file. Column names are dotted paths into nested objects
//! (`申请人.姓名`); a key that itself contains a dot is matched whole first.

use super::text::{decoder, open_text};
use super::{FileError, ReadInfo, RowProblem, RowSink, RowView, Slot};
use crate::config::Pipeline;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::fmt;
use std::io::BufRead;
use std::path::Path;

struct JsonRow<'a> {
    record: &'a Value,
    cells: &'a [Option<String>],
    row: u64,
    problem: Option<&'a str>,
    raw_line: Option<&'a str>,
}

impl RowView for JsonRow<'_> {
    fn row(&self) -> u64 {
        self.row
    }
    fn sheet(&self) -> Option<&str> {
        None
    }
    fn slot(&self, i: usize) -> Option<&str> {
        self.cells
            .get(i)?
            .as_deref()
            .filter(|s| !s.trim().is_empty())
    }
    fn problem(&self) -> Option<RowProblem> {
        self.problem.map(|p| RowProblem {
            rule: "invalid-json",
            reason: p.to_string(),
        })
    }
    fn original(&self) -> String {
        match self.raw_line {
            Some(l) => serde_json::json!({ "_line": l }).to_string(),
            None => self.record.to_string(),
        }
    }
}

/// Finds `path` in `v`: the whole path as one key first, then split on dots.
fn lookup<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    let obj = v.as_object()?;
    if let Some(x) = obj.get(path) {
        return Some(x);
    }
    let (head, rest) = path.split_once('.')?;
    lookup(obj.get(head)?, rest)
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        other => Some(other.to_string()),
    }
}

/// Per-file state shared by both JSON forms: which slots were ever seen.
struct Cols<'a> {
    slots: &'a [Slot],
    seen: Vec<bool>,
    cells: Vec<Option<String>>,
}

impl<'a> Cols<'a> {
    fn new(slots: &'a [Slot]) -> Self {
        Cols {
            slots,
            seen: vec![false; slots.len()],
            cells: Vec::with_capacity(slots.len()),
        }
    }

    fn fill(&mut self, record: &Value) {
        self.cells.clear();
        for (i, s) in self.slots.iter().enumerate() {
            let found = s.names.iter().find_map(|n| lookup(record, n));
            if found.is_some() {
                self.seen[i] = true;
            }
            self.cells.push(found.and_then(scalar_text));
        }
    }

    /// A key that no record had is most likely a wrong name in the pipeline.
    fn check(&self, first: Option<&Value>, records: u64) -> Result<(), FileError> {
        if records == 0 {
            return Ok(());
        }
        let missing: Vec<String> = self
            .slots
            .iter()
            .zip(&self.seen)
            .filter(|(s, seen)| !**seen && !s.optional)
            .map(|(s, _)| format!("`{}`", s.names.join("` or `")))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let mut keys = Vec::new();
        if let Some(v) = first {
            collect_paths(v, "", &mut keys);
        }
        let have = keys
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ");
        Err(FileError::new(format!("key{} {} found in none of the {records} records; the first record has {have}", if missing.len() == 1 { "" } else { "s" }, missing.join(", ")))
            .hint("map the export's actual key in `from` (dotted paths reach nested objects, e.g. `申请人.姓名`), or mark the column `optional = true`"))
    }
}

fn collect_paths(v: &Value, prefix: &str, out: &mut Vec<String>) {
    if let Value::Object(m) = v {
        for (k, x) in m {
            let p = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            if x.is_object() {
                collect_paths(x, &p, out);
            } else {
                out.push(p);
            }
        }
    }
}

pub(super) fn read_lines(
    path: &Path,
    pipeline: &Pipeline,
    slots: &[Slot],
    sink: &mut dyn RowSink,
) -> Result<ReadInfo, FileError> {
    let (file, enc) = open_text(path, pipeline.def.source.encoding)?;
    let reader = std::io::BufReader::with_capacity(256 * 1024, decoder(file, enc));
    let mut cols = Cols::new(slots);
    let mut first: Option<Value> = None;
    let mut records = 0u64;
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| FileError::new(format!("cannot read line {}: {e}", i + 1)))?;
        let lineno = i as u64 + 1;
        if line.trim().is_empty() {
            sink.blank();
            continue;
        }
        records += 1;
        match serde_json::from_str::<Value>(&line) {
            Ok(v) if v.is_object() => {
                cols.fill(&v);
                sink.row(&JsonRow {
                    record: &v,
                    cells: &cols.cells,
                    row: lineno,
                    problem: None,
                    raw_line: None,
                });
                if first.is_none() {
                    first = Some(v);
                }
            }
            Ok(_) => {
                let p = "line is JSON but not an object".to_string();
                sink.row(&JsonRow {
                    record: &Value::Null,
                    cells: &[],
                    row: lineno,
                    problem: Some(&p),
                    raw_line: Some(&line),
                });
            }
            Err(e) => {
                let p = format!("line is not valid JSON: {e}");
                sink.row(&JsonRow {
                    record: &Value::Null,
                    cells: &[],
                    row: lineno,
                    problem: Some(&p),
                    raw_line: Some(&line),
                });
            }
        }
    }
    if records == 0 {
        return Err(FileError::new("the file has no records")
            .hint("the export is probably incomplete: ask the department to deliver it again"));
    }
    cols.check(first.as_ref(), records)?;
    Ok(ReadInfo {
        encoding: Some(enc.as_str()),
        sheets: Vec::new(),
    })
}

pub(super) fn read_document(
    path: &Path,
    pipeline: &Pipeline,
    slots: &[Slot],
    sink: &mut dyn RowSink,
) -> Result<ReadInfo, FileError> {
    let (file, enc) = open_text(path, pipeline.def.source.encoding)?;
    let reader = std::io::BufReader::with_capacity(256 * 1024, decoder(file, enc));
    let records_path: Vec<String> = pipeline
        .def
        .source
        .records
        .as_ref()
        .map(|r| {
            r.get_ref()
                .split('.')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let mut state = DocState {
        cols: Cols::new(slots),
        sink,
        first: None,
        count: 0,
        found: false,
    };
    let mut de = serde_json::Deserializer::from_reader(reader);
    let result = AtPath {
        path: &records_path,
        state: &mut state,
    }
    .deserialize(&mut de)
    .and_then(|_| de.end());
    if let Err(e) = result {
        return Err(match e.classify() {
            serde_json::error::Category::Io => FileError::new(format!("cannot read: {e}")),
            serde_json::error::Category::Eof => FileError::new(format!("the JSON document ends early (line {}, column {}): the file is probably truncated", e.line(), e.column())),
            _ => FileError::new(format!("invalid JSON at line {}, column {}: {}", e.line(), e.column(), strip_position(&e.to_string()))),
        }
        .hint(if records_path.is_empty() { "if the records are inside an object, set `records = \"data.list\"` (the dotted path to the array) in [source]".to_string() } else { format!("check `records = \"{}\"` in [source]", records_path.join(".")) }));
    }
    if !state.found {
        return Err(FileError::new(format!("no records array at `{}`", if records_path.is_empty() { "(document root)".to_string() } else { records_path.join(".") }))
            .hint("set `records` in [source] to the dotted path of the array of records, e.g. `data.list`"));
    }
    state.cols.check(state.first.as_ref(), state.count)?;
    Ok(ReadInfo {
        encoding: Some(enc.as_str()),
        sheets: Vec::new(),
    })
}

fn strip_position(s: &str) -> String {
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s.to_string(),
    }
}

struct DocState<'a, 's> {
    cols: Cols<'a>,
    sink: &'s mut dyn RowSink,
    first: Option<Value>,
    count: u64,
    found: bool,
}

/// Walks `path` through nested objects, then streams the array found there.
struct AtPath<'p, 'st, 'a, 's> {
    path: &'p [String],
    state: &'st mut DocState<'a, 's>,
}

impl<'de> DeserializeSeed<'de> for AtPath<'_, '_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if self.path.is_empty() {
            d.deserialize_seq(self)
        } else {
            d.deserialize_map(self)
        }
    }
}

impl<'de> Visitor<'de> for AtPath<'_, '_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str("an array of records")
        } else {
            write!(f, "an object with key `{}`", self.path[0])
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.state.found = true;
        while let Some(v) = seq.next_element::<Value>()? {
            self.state.count += 1;
            let row = self.state.count;
            if v.is_object() {
                self.state.cols.fill(&v);
                self.state.sink.row(&JsonRow {
                    record: &v,
                    cells: &self.state.cols.cells,
                    row,
                    problem: None,
                    raw_line: None,
                });
                if self.state.first.is_none() {
                    self.state.first = Some(v);
                }
            } else {
                let p = format!("record {row} is not an object");
                self.state.sink.row(&JsonRow {
                    record: &v,
                    cells: &[],
                    row,
                    problem: Some(&p),
                    raw_line: None,
                });
            }
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let (head, rest) = self
            .path
            .split_first()
            .expect("visit_map only for a non-empty path");
        let mut seed = Some(AtPath {
            path: rest,
            state: self.state,
        });
        while let Some(k) = map.next_key::<String>()? {
            if &k == head
                && let Some(s) = seed.take()
            {
                map.next_value_seed(s)?;
                continue;
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }
}
