//! Delimited text.

use super::text::{decoder, open_text};
use super::{
    FileError, ReadInfo, RowProblem, RowSink, RowView, Slot, original_json, resolve_header,
};
use crate::config::{Pipeline, delimiter_byte};
use std::path::Path;

struct CsvRow<'a> {
    record: &'a csv::StringRecord,
    header: &'a [String],
    map: &'a [Option<usize>],
    line: u64,
}

impl RowView for CsvRow<'_> {
    fn row(&self) -> u64 {
        self.line
    }
    fn sheet(&self) -> Option<&str> {
        None
    }
    fn slot(&self, i: usize) -> Option<&str> {
        let idx = self.map.get(i).copied().flatten()?;
        self.record
            .get(idx)
            .map(strip_cr)
            .filter(|s| !s.trim().is_empty())
    }
    fn problem(&self) -> Option<RowProblem> {
        let (n, h) = (self.record.len(), self.header.len());
        (n != h).then(|| RowProblem {
            rule: "ragged-row",
            reason: format!(
                "row has {n} field{} but the header has {h}",
                if n == 1 { "" } else { "s" }
            ),
        })
    }
    fn original(&self) -> String {
        let n = self.header.len().max(self.record.len());
        let extra: Vec<String> = (0..n).map(|i| format!("_extra_{}", i + 1)).collect();
        original_json((0..n).map(|i| {
            let name = self.header.get(i).unwrap_or(&extra[i]).as_str();
            (name, self.record.get(i).map(strip_cr))
        }))
    }
}

pub(super) fn read(
    path: &Path,
    pipeline: &Pipeline,
    slots: &[Slot],
    sink: &mut dyn RowSink,
) -> Result<ReadInfo, FileError> {
    let src = &pipeline.def.source;
    let (file, enc) = open_text(path, src.encoding)?;
    let delimiter = src
        .delimiter
        .as_ref()
        .and_then(|d| delimiter_byte(d.get_ref()))
        .unwrap_or(b',');
    let header_row = src.header_row.as_ref().map(|h| *h.get_ref()).unwrap_or(1);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        // Records end at `\n` only, so that the line numbers csv reports for
        // CRLF files are right; the `\r` left on the last field is stripped.
        .terminator(csv::Terminator::Any(b'\n'))
        .from_reader(std::io::BufReader::with_capacity(
            256 * 1024,
            decoder(file, enc),
        ));
    let mut record = csv::StringRecord::new();
    let mut header: Option<(Vec<String>, Vec<Option<usize>>)> = None;
    let mut n = 0usize;
    let mut stopped = false;
    loop {
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                return Err(FileError::new(format!(
                    "cannot parse CSV at line {line}: {}",
                    csv_reason(&e)
                ))
                .hint("check the delimiter and quoting in [source]"));
            }
        }
        n += 1;
        let line = record.position().map(|p| p.line()).unwrap_or(n as u64);
        let Some((names, map)) = &header else {
            if n == header_row {
                let names: Vec<String> = record.iter().map(|s| s.trim().to_string()).collect();
                let map = resolve_header(&names, slots, &format!("header on line {line}"))?;
                header = Some((names, map));
            }
            continue;
        };
        if record.iter().all(|f| f.trim().is_empty()) {
            sink.blank();
            continue;
        }
        if stopped
            || pipeline.stop_at.as_ref().is_some_and(|re| {
                record
                    .iter()
                    .find(|f| !f.trim().is_empty())
                    .is_some_and(|f| re.is_match(f.trim()))
            })
        {
            stopped = true;
            sink.footer();
            continue;
        }
        sink.row(&CsvRow {
            record: &record,
            header: names,
            map,
            line,
        });
    }
    if header.is_none() {
        return Err(FileError::new(format!(
            "no header: the file has {n} row{} but header-row is {header_row}",
            if n == 1 { "" } else { "s" }
        ))
        .hint("check `header-row` in [source], or whether the export is complete"));
    }
    Ok(ReadInfo {
        encoding: Some(enc.as_str()),
        sheets: Vec::new(),
    })
}

fn strip_cr(s: &str) -> &str {
    s.strip_suffix('\r').unwrap_or(s)
}

fn csv_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Io(io) => io.to_string(),
        csv::ErrorKind::Utf8 { err, .. } => format!("invalid UTF-8 in field {}", err.field() + 1),
        _ => e.to_string(),
    }
}
