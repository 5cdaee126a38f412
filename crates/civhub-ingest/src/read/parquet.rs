//! Apache Parquet files (database dumps): read in batches, every cell rendered
//! as text so the same normalizers apply as for every other format.

use super::{
    FileError, ReadInfo, RowProblem, RowSink, RowView, Slot, original_json, resolve_header,
};
use arrow::array::{Array, ArrayRef};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::path::Path;

struct ParquetRow<'a> {
    cells: &'a [Option<String>],
    all: &'a [Option<String>],
    names: &'a [String],
    map: &'a [Option<usize>],
    row: u64,
}

impl RowView for ParquetRow<'_> {
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
        None
    }
    fn original(&self) -> String {
        let _ = self.map;
        original_json(
            self.names
                .iter()
                .zip(self.all)
                .map(|(n, v)| (n.as_str(), v.as_deref())),
        )
    }
}

fn text(array: &ArrayRef, i: usize, fmt: &ArrayFormatter<'_>) -> Option<String> {
    if array.is_null(i) {
        None
    } else {
        Some(fmt.value(i).to_string())
    }
}

pub(super) fn read(
    path: &Path,
    slots: &[Slot],
    sink: &mut dyn RowSink,
) -> Result<ReadInfo, FileError> {
    let file =
        std::fs::File::open(path).map_err(|e| FileError::new(format!("cannot open: {e}")))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| {
        FileError::new(format!("cannot read as Parquet: {e}")).hint("the file may be truncated or not a Parquet file; re-export it, or fix `format` in [source]")
    })?;
    let names: Vec<String> = builder
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let map = resolve_header(&names, slots, "columns")?;
    let reader = builder
        .with_batch_size(8192)
        .build()
        .map_err(|e| FileError::new(format!("cannot read as Parquet: {e}")))?;
    let opts = FormatOptions::default();
    let mut row = 0u64;
    let mut cells: Vec<Option<String>> = Vec::with_capacity(slots.len());
    let mut all: Vec<Option<String>> = Vec::with_capacity(names.len());
    for batch in reader {
        let batch = batch.map_err(|e| {
            FileError::new(format!("cannot read row group after row {row}: {e}"))
                .hint("the file may be truncated")
        })?;
        let columns = batch.columns();
        let fmts: Vec<ArrayFormatter<'_>> = columns
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts))
            .collect::<Result<_, _>>()
            .map_err(|e| FileError::new(format!("cannot render a column as text: {e}")))?;
        for i in 0..batch.num_rows() {
            row += 1;
            all.clear();
            all.extend(columns.iter().zip(&fmts).map(|(c, f)| text(c, i, f)));
            cells.clear();
            cells.extend(map.iter().map(|m| m.and_then(|j| all[j].clone())));
            if all
                .iter()
                .all(|c| c.as_deref().is_none_or(|s| s.trim().is_empty()))
            {
                sink.blank();
                continue;
            }
            sink.row(&ParquetRow {
                cells: &cells,
                all: &all,
                names: &names,
                map: &map,
                row,
            });
        }
    }
    Ok(ReadInfo {
        encoding: None,
        sheets: Vec::new(),
    })
}
