//! Every mention in truth/mentions.csv points at the row that holds it, in
//! every format: the name (and ID, USCC) found there is the true one, up to
//! the noise the truth says was applied.

use crate::common::{City, city, decode, norm_name, persons, read_truth};
use civhub_ingest::config::{ColumnSource, Format, IdentityKind, Pipeline};
use std::collections::HashMap;

/// Rows of one file (or one sheet) by the row number ingest reports.
type Rows = HashMap<u64, HashMap<String, String>>;

fn flatten(prefix: &str, v: &serde_json::Value, out: &mut HashMap<String, String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, x, out);
            }
        }
        serde_json::Value::Null => {}
        serde_json::Value::String(s) => {
            out.insert(prefix.to_string(), s.clone());
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

fn read_file(c: &City, p: &Pipeline, rel: &str) -> HashMap<String, Rows> {
    let path = c.project.exports.join(rel);
    let header_row = p
        .def
        .source
        .header_row
        .as_ref()
        .map(|h| *h.get_ref())
        .unwrap_or(1) as u64;
    let mut sheets: HashMap<String, Rows> = HashMap::new();
    match p.def.source.format.get_ref() {
        Format::Csv => {
            let text = decode(&std::fs::read(&path).expect("read"));
            let delim = p
                .def
                .source
                .delimiter
                .as_ref()
                .and_then(|d| civhub_ingest::config::delimiter_byte(d.get_ref()))
                .unwrap_or(b',');
            let mut r = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .delimiter(delim)
                .from_reader(text.as_bytes());
            let recs: Vec<csv::StringRecord> = r.records().map(|x| x.expect("record")).collect();
            let headers: Vec<String> = recs[header_row as usize - 1]
                .iter()
                .map(str::to_string)
                .collect();
            let mut rows = Rows::new();
            for (i, rec) in recs.iter().enumerate().skip(header_row as usize) {
                rows.insert(
                    i as u64 + 1,
                    headers
                        .iter()
                        .cloned()
                        .zip(rec.iter().map(str::to_string))
                        .collect(),
                );
            }
            sheets.insert(String::new(), rows);
        }
        Format::Xlsx => {
            use calamine::{Reader, open_workbook_auto};
            let mut wb = open_workbook_auto(&path).expect("xlsx");
            for name in wb.sheet_names() {
                let range = wb.worksheet_range(&name).expect("sheet");
                let hr = header_row as u32 - 1;
                let (r0, _) = range.start().unwrap_or((0, 0));
                let (r1, c1) = range.end().unwrap_or((0, 0));
                if r1 < hr {
                    continue;
                }
                let headers: Vec<String> = (0..=c1)
                    .map(|col| {
                        range
                            .get_value((hr, col))
                            .map(|d| d.to_string())
                            .unwrap_or_default()
                    })
                    .collect();
                let mut rows = Rows::new();
                for r in (hr + 1).max(r0)..=r1 {
                    let vals = (0..=c1).map(|col| {
                        range
                            .get_value((r, col))
                            .map(|d| d.to_string())
                            .unwrap_or_default()
                    });
                    rows.insert(
                        u64::from(r) + 1,
                        headers.iter().cloned().zip(vals).collect(),
                    );
                }
                sheets.insert(name, rows);
            }
        }
        Format::Json | Format::Ndjson => {
            let text = decode(&std::fs::read(&path).expect("read"));
            let records: Vec<serde_json::Value> =
                if *p.def.source.format.get_ref() == Format::Ndjson {
                    text.lines()
                        .filter(|l| !l.trim().is_empty())
                        .map(|l| serde_json::from_str(l).expect("ndjson line"))
                        .collect()
                } else {
                    let mut doc: serde_json::Value = serde_json::from_str(&text).expect("json");
                    if let Some(path) = p.def.source.records.as_ref() {
                        for k in path.get_ref().split('.') {
                            doc = doc[k].take();
                        }
                    }
                    doc.as_array().expect("records array").clone()
                };
            let mut rows = Rows::new();
            for (i, r) in records.iter().enumerate() {
                let mut m = HashMap::new();
                flatten("", r, &mut m);
                rows.insert(i as u64 + 1, m);
            }
            sheets.insert(String::new(), rows);
        }
        Format::Parquet => {
            use arrow::array::{Array, AsArray};
            use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
            let reader =
                ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&path).expect("open"))
                    .expect("parquet")
                    .build()
                    .expect("reader");
            let mut rows = Rows::new();
            let mut n = 0u64;
            for b in reader {
                let b = b.expect("batch");
                for i in 0..b.num_rows() {
                    n += 1;
                    let mut m = HashMap::new();
                    for (f, col) in b.schema().fields().iter().zip(b.columns()) {
                        let s = col.as_string::<i32>();
                        if !s.is_null(i) {
                            m.insert(f.name().clone(), s.value(i).to_string());
                        }
                    }
                    rows.insert(n, m);
                }
            }
            sheets.insert(String::new(), rows);
        }
    }
    sheets
}

fn column_names(p: &Pipeline, field: &str) -> Vec<String> {
    let Some(i) = p.schema.field_index(field) else {
        return Vec::new();
    };
    p.columns
        .iter()
        .find(|c| c.field == i)
        .and_then(|c| match &c.source {
            ColumnSource::Columns(n) => Some(n.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

#[test]
fn mentions_point_at_their_rows_in_every_format() {
    let c = city();
    let people = persons(c);
    let entities: HashMap<String, HashMap<String, String>> = read_truth(c, "entities.csv")
        .into_iter()
        .map(|e| (e["entity_key"].clone(), e))
        .collect();
    let mentions = read_truth(c, "mentions.csv");
    assert_eq!(mentions.len() as u64, c.summary.mentions);
    let mut files: HashMap<(String, String), HashMap<String, Rows>> = HashMap::new();
    let mut checked: HashMap<&'static str, usize> = HashMap::new();
    let id_norm = |s: &str| {
        civhub_core::Normalizer::ResidentId
            .apply(s, &Default::default())
            .ok()
            .and_then(|n| n.value.as_str().map(str::to_string))
    };
    let uscc_norm = |s: &str| {
        civhub_core::Normalizer::Uscc
            .apply(s, &Default::default())
            .ok()
            .and_then(|n| n.value.as_str().map(str::to_string))
    };
    for m in &mentions {
        let p = c.project.pipeline(&m["pipeline"]).expect("pipeline");
        let ident = p
            .def
            .identity
            .iter()
            .find(|d| d.role == m["role"])
            .expect("identity role");
        let sheets = files
            .entry((p.id.clone(), m["file"].clone()))
            .or_insert_with(|| read_file(c, p, &m["file"]));
        let row: u64 = m["row"].parse().expect("row");
        let cells = sheets
            .get(&m["sheet"])
            .and_then(|s| s.get(&row))
            .unwrap_or_else(|| panic!("{}: no row {row} in {} {}", p.id, m["file"], m["sheet"]));
        let get = |field: &Option<toml::Spanned<String>>| -> Option<String> {
            let f = field.as_ref()?;
            column_names(p, f.get_ref())
                .iter()
                .find_map(|n| cells.get(n))
                .filter(|v| !v.trim().is_empty())
                .cloned()
        };
        let noise = &m["noise"];
        let bad = m["bad"] == "1";
        if bad {
            continue;
        }
        match ident.kind.get_ref() {
            IdentityKind::Person => {
                let truth = &people[&m["true_key"]];
                if let Some(name) = get(&ident.name)
                    && !noise.contains("name_homophone")
                    && !noise.contains("name_nodot")
                {
                    assert_eq!(
                        norm_name(&name),
                        truth["name"],
                        "{} {} row {row}: name",
                        p.id,
                        m["file"]
                    );
                }
                if let Some(id) = get(&ident.id_number)
                    && !noise.contains("id_typo")
                    && !noise.contains("id_excel")
                    && !noise.contains("id_garbage")
                {
                    assert_eq!(
                        id_norm(&id).as_deref(),
                        Some(truth["id_number"].as_str()),
                        "{} {} row {row}: ID {id}",
                        p.id,
                        m["file"]
                    );
                }
            }
            IdentityKind::Entity => {
                let truth = &entities[&m["true_key"]];
                if let Some(u) = get(&ident.uscc)
                    && !noise.contains("uscc")
                {
                    assert_eq!(
                        uscc_norm(&u).as_deref(),
                        Some(truth["uscc"].as_str()),
                        "{} {} row {row}: USCC",
                        p.id,
                        m["file"]
                    );
                }
            }
        }
        *checked
            .entry(p.def.source.format.get_ref().as_str())
            .or_default() += 1;
    }
    for f in [
        Format::Csv,
        Format::Xlsx,
        Format::Json,
        Format::Ndjson,
        Format::Parquet,
    ] {
        assert!(
            checked.get(f.as_str()).copied().unwrap_or(0) > 10,
            "too few {f:?} mentions checked: {checked:?}"
        );
    }
}
