//! Delimited text, read in parallel byte ranges when the file is large.
//!
//! [`plan`] scans the raw bytes once for record boundaries (newlines outside
//! quotes; `"` and `\n` are single bytes in UTF-8 and GBK alike, never part of
//! a multi-byte character), reads the header and cuts the data into ranges
//! that start on a record boundary, each with the physical line it starts on.
//! [`read_range`] then parses one range on its own, so the ranges of one big
//! export are read, normalized and written on every core at once.

use super::records::{self, Records, TextRecord};
use super::text::{DetectedEncoding, decoder, open_text};
use super::{FileError, RowProblem, RowSink, RowView, Slot, original_json, resolve_header};
use crate::config::{Pipeline, delimiter_byte};
use std::io::{Read, Seek};
use std::path::Path;

/// A record's fields, however they were split.
#[derive(Clone, Copy)]
enum Fields<'a> {
    /// Split by the `csv` crate (a delimiter [`Records`] does not take).
    Csv(&'a csv::StringRecord),
    /// Split by [`Records`]: the text and each field's range in it.
    Split(&'a str, &'a [(usize, usize)]),
}

impl<'a> Fields<'a> {
    fn len(self) -> usize {
        match self {
            Fields::Csv(r) => r.len(),
            Fields::Split(_, f) => f.len(),
        }
    }

    fn get(self, i: usize) -> Option<&'a str> {
        match self {
            Fields::Csv(r) => r.get(i),
            Fields::Split(text, f) => f.get(i).map(|&(a, b)| text.get(a..b).unwrap_or("")),
        }
    }

    fn iter(self) -> impl Iterator<Item = &'a str> {
        (0..self.len()).map(move |i| self.get(i).unwrap_or(""))
    }
}

struct CsvRow<'a> {
    record: Fields<'a>,
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
            .filter(|s| !civhub_core::normalize::text::is_blank(s))
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

/// What every range of a CSV file shares.
#[derive(Debug, Clone)]
pub struct CsvPlan {
    /// Encoding used.
    pub encoding: DetectedEncoding,
    delimiter: u8,
    names: Vec<String>,
    map: Vec<Option<usize>>,
    /// Byte ranges of data, each with the physical line it starts on.
    pub ranges: Vec<(u64, u64, u64)>,
    /// The physical line after the last one.
    pub end_line: u64,
}

impl CsvPlan {
    /// Lines in range `k`: an upper bound of its records (a quoted field
    /// may span lines), to size per-range tables.
    pub fn range_lines(&self, k: usize) -> u64 {
        let next = self.ranges.get(k + 1).map_or(self.end_line, |r| r.2);
        next.saturating_sub(self.ranges[k].2)
    }
}

fn builder(delimiter: u8) -> csv::ReaderBuilder {
    let mut b = csv::ReaderBuilder::new();
    b.has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        // Records end at `\n` only, so that line numbers are right for CRLF
        // files; the `\r` left on the last field is stripped.
        .terminator(csv::Terminator::Any(b'\n'));
    b
}

/// Reads the header of `path` and cuts its data into at most `max_ranges`
/// ranges (one when the pipeline has a `stop-at` footer, which needs the
/// rows in order).
pub fn plan(
    path: &Path,
    pipeline: &Pipeline,
    slots: &[Slot],
    max_ranges: usize,
) -> Result<CsvPlan, FileError> {
    let src = &pipeline.def.source;
    let (mut file, encoding) = open_text(path, src.encoding)?;
    let delimiter = src
        .delimiter
        .as_ref()
        .and_then(|d| delimiter_byte(d.get_ref()))
        .unwrap_or(b',');
    let header_row = src
        .header_row
        .as_ref()
        .map(|h| *h.get_ref())
        .unwrap_or(1)
        .max(1) as u64;
    let len = file
        .metadata()
        .map(|m| m.len())
        .map_err(|e| FileError::new(format!("cannot read: {e}")))?;
    let want = if pipeline.stop_at.is_some() {
        1
    } else {
        max_ranges.max(1)
    };
    let target = len / want as u64;

    // One streaming pass over the raw bytes: record boundaries (newlines
    // outside quotes) and physical line numbers. Memory: one buffer.
    let mut in_quotes = false;
    let mut records = 0u64; // non-empty records ended so far
    let mut lines = 0u64; // newlines seen so far
    let mut header_span: Option<(u64, u64)> = None;
    let mut data_start: Option<(u64, u64)> = None;
    let mut cuts: Vec<(u64, u64)> = Vec::new();
    let mut record_start = 0u64;
    let mut base = 0u64;
    // 256 KiB: stays in the L2 cache between the read and the scan.
    let mut buf = vec![0u8; 256 << 10];
    // Whether the current record so far is empty (an empty line, which the
    // CSV parser skips, is not a row).
    let mut record_bytes = 0u64;
    let mut last_byte = 0u8;
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| FileError::new(format!("cannot read: {e}")))?;
        if n == 0 {
            break;
        }
        let chunk = &buf[..n];
        let mut prev = 0usize;
        for pos in memchr::memchr2_iter(b'"', b'\n', chunk) {
            record_bytes += (pos - prev) as u64;
            if pos > prev {
                last_byte = chunk[pos - 1];
            }
            prev = pos + 1;
            if chunk[pos] == b'"' {
                in_quotes = !in_quotes;
                record_bytes += 1;
                last_byte = b'"';
                continue;
            }
            lines += 1;
            if in_quotes {
                record_bytes += 1;
                last_byte = b'\n';
                continue;
            }
            let empty = record_bytes == 0 || (record_bytes == 1 && last_byte == b'\r');
            let next = base + pos as u64 + 1;
            if data_start.is_none() {
                if !empty {
                    records += 1;
                    if records == header_row {
                        header_span = Some((record_start, next));
                        data_start = Some((next, lines + 1));
                    }
                }
            } else {
                let last = cuts
                    .last()
                    .map(|c| c.0)
                    .or(data_start.map(|d| d.0))
                    .unwrap_or(0);
                if cuts.len() + 1 < want && next - last >= target && next < len {
                    cuts.push((next, lines + 1));
                }
            }
            record_start = next;
            record_bytes = 0;
        }
        record_bytes += (n - prev) as u64;
        if n > prev {
            last_byte = chunk[n - 1];
        }
        base += n as u64;
    }
    if data_start.is_none() && record_bytes > 0 {
        // The header is the last line, without a final newline.
        records += 1;
        if records == header_row {
            header_span = Some((record_start, len));
            data_start = Some((len, lines + 2));
        }
    }
    let (Some((h0, h1)), Some((d0, l0))) = (header_span, data_start) else {
        return Err(FileError::new(format!(
            "no header: the file has {records} row{} but header-row is {header_row}",
            if records == 1 { "" } else { "s" }
        ))
        .hint("check `header-row` in [source], or whether the export is complete"));
    };
    let mut header_bytes = vec![0u8; (h1 - h0) as usize];
    file.seek(std::io::SeekFrom::Start(h0))
        .and_then(|_| file.read_exact(&mut header_bytes))
        .map_err(|e| FileError::new(format!("cannot read: {e}")))?;
    let mut rdr = builder(delimiter).from_reader(decoder(header_bytes.as_slice(), encoding));
    let mut rec = csv::StringRecord::new();
    let names: Vec<String> = match rdr.read_record(&mut rec) {
        Ok(true) => rec.iter().map(|s| strip_cr(s).trim().to_string()).collect(),
        _ => Vec::new(),
    };
    let header_line = l0
        - 1
        - header_bytes
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            .saturating_sub(1) as u64;
    let map = resolve_header(&names, slots, &format!("header on line {header_line}"))?;
    let mut starts: Vec<(u64, u64)> = vec![(d0, l0)];
    starts.extend(cuts);
    let ranges = starts
        .iter()
        .enumerate()
        .map(|(i, (s, line))| (*s, starts.get(i + 1).map(|n| n.0).unwrap_or(len), *line))
        .filter(|(s, e, _)| e > s)
        .collect();
    Ok(CsvPlan {
        encoding,
        delimiter,
        names,
        map,
        ranges,
        end_line: lines + 2,
    })
}

/// Parses the data rows of one range of a planned file.
pub fn read_range(
    path: &Path,
    pipeline: &Pipeline,
    plan: &CsvPlan,
    range: (u64, u64, u64),
    sink: &mut dyn RowSink,
) -> Result<(), FileError> {
    let (start, end, first_line) = range;
    let mut file =
        std::fs::File::open(path).map_err(|e| FileError::new(format!("cannot open: {e}")))?;
    file.seek(std::io::SeekFrom::Start(start))
        .map_err(|e| FileError::new(format!("cannot read: {e}")))?;
    let input = file.take(end - start);
    let mut stopped = false;
    let mut row = |record: Fields<'_>, line: u64, sink: &mut dyn RowSink| {
        if record.iter().all(civhub_core::normalize::text::is_blank) {
            sink.blank();
            return;
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
            return;
        }
        sink.row(&CsvRow {
            record,
            header: &plan.names,
            map: &plan.map,
            line,
        });
    };
    if records::supports(plan.delimiter) {
        let read_error = |e: std::io::Error| {
            FileError::new(format!("cannot parse CSV at line {first_line}: {e}"))
                .hint("check the delimiter and quoting in [source]")
        };
        // UTF-8 is not decoded: each record is checked, and one with invalid
        // UTF-8 keeps its row (undecodable bytes become �, which the
        // transform quarantines as `encoding`). Decoded GB18030 is valid.
        let mut text = TextRecord::new();
        let mut each = |records: &mut Records<&mut dyn Read>| -> Result<(), FileError> {
            while records.next_record().map_err(read_error)? {
                let line = records.position() + first_line - 1;
                let (bytes, fields) = records.record();
                let (t, f) = text.of(bytes, fields);
                row(Fields::Split(t, f), line, sink);
            }
            Ok(())
        };
        return match plan.encoding {
            DetectedEncoding::Utf8 => {
                let mut input = input;
                each(&mut Records::new(&mut input, plan.delimiter))
            }
            DetectedEncoding::Gb18030 => {
                let mut input = decoder(input, plan.encoding);
                each(&mut Records::new(&mut input, plan.delimiter))
            }
        };
    }
    let input = std::io::BufReader::with_capacity(256 * 1024, input);
    let err = |e: csv::Error, base: u64| {
        let line = e.position().map(|p| p.line() + base - 1).unwrap_or(base);
        FileError::new(format!(
            "cannot parse CSV at line {line}: {}",
            csv_reason(&e)
        ))
        .hint("check the delimiter and quoting in [source]")
    };
    match plan.encoding {
        DetectedEncoding::Utf8 => {
            let mut rdr = builder(plan.delimiter).from_reader(input);
            let mut bytes = csv::ByteRecord::new();
            loop {
                match rdr.read_byte_record(&mut bytes) {
                    Ok(false) => break,
                    Ok(true) => {}
                    Err(e) => return Err(err(e, first_line)),
                }
                let line = bytes.position().map(|p| p.line()).unwrap_or(1) + first_line - 1;
                let record = match csv::StringRecord::from_byte_record(std::mem::take(&mut bytes)) {
                    Ok(r) => r,
                    Err(e) => csv::StringRecord::from_byte_record_lossy(e.into_byte_record()),
                };
                row(Fields::Csv(&record), line, sink);
                // Hand the buffers back for the next record.
                bytes = record.into_byte_record();
            }
        }
        DetectedEncoding::Gb18030 => {
            let mut rdr = builder(plan.delimiter).from_reader(std::io::BufReader::with_capacity(
                256 * 1024,
                decoder(input, plan.encoding),
            ));
            let mut record = csv::StringRecord::new();
            loop {
                match rdr.read_record(&mut record) {
                    Ok(false) => break,
                    Ok(true) => {}
                    Err(e) => return Err(err(e, first_line)),
                }
                let line = record.position().map(|p| p.line()).unwrap_or(1) + first_line - 1;
                row(Fields::Csv(&record), line, sink);
            }
        }
    }
    Ok(())
}

/// Reads a whole file (one range).
pub(super) fn read(
    path: &Path,
    pipeline: &Pipeline,
    slots: &[Slot],
    sink: &mut dyn RowSink,
) -> Result<super::ReadInfo, FileError> {
    let plan = plan(path, pipeline, slots, 1)?;
    if !plan.ranges.is_empty() {
        sink.expect_rows(plan.range_lines(0));
    }
    for r in plan.ranges.clone() {
        read_range(path, pipeline, &plan, r, sink)?;
    }
    Ok(super::ReadInfo {
        encoding: Some(plan.encoding.as_str()),
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
