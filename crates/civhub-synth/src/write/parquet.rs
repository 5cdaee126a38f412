//! Parquet files: every column Utf8 (as exported from a database dump),
//! written in batches of a few thousand rows, zstd-compressed.

use super::Sink;
use crate::error::SynthError;
use crate::layout::FileShape;
use crate::render::Cell;
use arrow::array::{ArrayRef, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const BATCH: usize = 8192;

pub(crate) struct ParquetSink {
    path: PathBuf,
    schema: Arc<Schema>,
    writer: ArrowWriter<fs_err::File>,
    cols: Vec<StringBuilder>,
    pending: usize,
    n: u64,
}

fn pe(path: &Path, e: impl std::fmt::Display) -> SynthError {
    SynthError::Write {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

impl ParquetSink {
    pub(crate) fn new(path: &Path, shape: &FileShape) -> Result<Self, SynthError> {
        let schema = Arc::new(Schema::new(
            shape
                .headers
                .iter()
                .map(|h| Field::new(h, DataType::Utf8, true))
                .collect::<Vec<_>>(),
        ));
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(
                ZstdLevel::try_new(3).map_err(|e| pe(path, e))?,
            ))
            .set_max_row_group_row_count(Some(64 * 1024))
            .build();
        let file = fs_err::File::create(path)?;
        let writer =
            ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(|e| pe(path, e))?;
        let cols = shape.headers.iter().map(|_| StringBuilder::new()).collect();
        Ok(ParquetSink {
            path: path.to_path_buf(),
            schema,
            writer,
            cols,
            pending: 0,
            n: 0,
        })
    }

    fn flush(&mut self) -> Result<(), SynthError> {
        if self.pending == 0 {
            return Ok(());
        }
        let arrays: Vec<ArrayRef> = self
            .cols
            .iter_mut()
            .map(|b| Arc::new(b.finish()) as ArrayRef)
            .collect();
        let batch =
            RecordBatch::try_new(self.schema.clone(), arrays).map_err(|e| pe(&self.path, e))?;
        self.writer.write(&batch).map_err(|e| pe(&self.path, e))?;
        self.pending = 0;
        Ok(())
    }
}

impl Sink for ParquetSink {
    fn row(&mut self, _sheet: &str, cells: &[Cell]) -> Result<u64, SynthError> {
        for (b, c) in self.cols.iter_mut().zip(cells) {
            match c {
                Cell::Empty => b.append_null(),
                Cell::Text(s) => b.append_value(s),
                other => b.append_value(other.text()),
            }
        }
        self.pending += 1;
        self.n += 1;
        if self.pending >= BATCH {
            self.flush()?;
        }
        Ok(self.n)
    }

    fn finish(mut self: Box<Self>) -> Result<u64, SynthError> {
        self.flush()?;
        let path = self.path.clone();
        self.writer.close().map_err(|e| pe(&path, e))?;
        Ok(fs_err::metadata(&path)?.len())
    }
}
