//! Writers of export files, one per `source.format`, all streaming: rows go
//! to a buffered file (or an xlsx worksheet in constant-memory mode, or a
//! Parquet batch of a few thousand rows) as they are rendered.
//!
//! Every writer returns, for each data row, the row number ingest will
//! report as `_source_row`: the physical 1-based row of csv and xlsx files
//! (title rows and the header count), the 1-based index of the record in a
//! JSON array, the line of an NDJSON file, the row of a Parquet file.

mod csv;
mod json;
mod parquet;
mod xlsx;

use crate::error::SynthError;
use crate::layout::{Enc, FileShape};
use crate::render::Cell;
use civhub_ingest::config::{Format, Pipeline};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A file being written.
pub trait Sink {
    /// Writes a data row (to `sheet` for workbooks); returns its row number.
    fn row(&mut self, sheet: &str, cells: &[Cell]) -> Result<u64, SynthError>;
    /// Writes footers, closes the file and returns its size in bytes.
    fn finish(self: Box<Self>) -> Result<u64, SynthError>;
}

/// Opens a writer for one file of pipeline `p`.
pub fn open(path: &Path, p: &Pipeline, shape: &FileShape) -> Result<Box<dyn Sink>, SynthError> {
    if let Some(dir) = path.parent() {
        fs_err::create_dir_all(dir)?;
    }
    let header_row = p
        .def
        .source
        .header_row
        .as_ref()
        .map(|h| *h.get_ref())
        .unwrap_or(1)
        .max(1);
    Ok(match p.def.source.format.get_ref() {
        Format::Csv => {
            let delim = p
                .def
                .source
                .delimiter
                .as_ref()
                .and_then(|d| civhub_ingest::config::delimiter_byte(d.get_ref()))
                .unwrap_or(b',') as char;
            Box::new(csv::CsvSink::new(path, shape, delim, header_row)?)
        }
        Format::Xlsx => Box::new(xlsx::XlsxSink::new(path, shape, header_row)),
        Format::Json => Box::new(json::JsonSink::new(
            path,
            shape,
            p.def.source.records.as_ref().map(|r| r.get_ref().as_str()),
            false,
        )?),
        Format::Ndjson => Box::new(json::JsonSink::new(path, shape, None, true)?),
        Format::Parquet => Box::new(parquet::ParquetSink::new(path, shape)?),
    })
}

/// A buffered text file in an encoding.
pub(crate) struct TextOut {
    path: PathBuf,
    out: std::io::BufWriter<fs_err::File>,
    enc: Enc,
    bytes: u64,
    /// Characters the encoding could not represent (written as references).
    pub unmappable: u64,
}

impl TextOut {
    pub(crate) fn create(path: &Path, enc: Enc) -> Result<Self, SynthError> {
        let f = fs_err::File::create(path)?;
        let mut t = TextOut {
            path: path.to_path_buf(),
            out: std::io::BufWriter::with_capacity(1 << 16, f),
            enc,
            bytes: 0,
            unmappable: 0,
        };
        if enc == Enc::Utf8Bom {
            t.raw(b"\xEF\xBB\xBF")?;
        }
        Ok(t)
    }

    fn raw(&mut self, b: &[u8]) -> Result<(), SynthError> {
        self.out
            .write_all(b)
            .map_err(|e| SynthError::io(&self.path, e))?;
        self.bytes += b.len() as u64;
        Ok(())
    }

    /// Writes text in the file's encoding.
    pub(crate) fn write(&mut self, s: &str) -> Result<(), SynthError> {
        match self.enc {
            Enc::Utf8 | Enc::Utf8Bom => self.raw(s.as_bytes()),
            Enc::Gbk | Enc::Gb18030 => {
                let e = if self.enc == Enc::Gbk {
                    encoding_rs::GBK
                } else {
                    encoding_rs::GB18030
                };
                let (bytes, _, bad) = e.encode(s);
                if bad {
                    self.unmappable += 1;
                }
                let b = bytes.into_owned();
                self.raw(&b)
            }
        }
    }

    pub(crate) fn finish(mut self) -> Result<u64, SynthError> {
        self.out
            .flush()
            .map_err(|e| SynthError::io(&self.path, e))?;
        Ok(self.bytes)
    }
}
