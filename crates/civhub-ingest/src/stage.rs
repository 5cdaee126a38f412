//! Writers of staging and quarantine parts (Parquet).
//!
//! Each source file of a run becomes at most one staging part and one
//! quarantine part. Rows are buffered in Arrow builders and flushed every
//! `batch_rows` rows; the Parquet writer closes a row group every
//! [`ROW_GROUP_ROWS`] rows, so memory per open file stays bounded whatever
//! the file's size.

use crate::config::Schema;
use crate::transform::RowError;
use arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Decimal128Builder, Float64Builder, Int32Builder,
    Int64Builder, StringArray, StringBuilder, TimestampMicrosecondArray,
    TimestampMicrosecondBuilder,
};
use arrow::buffer::{Buffer, OffsetBuffer};
use arrow::datatypes::{DataType, Field, Schema as ArrowSchema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;
use civhub_core::{FieldType, Value};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A part written: its path and row count.
pub type Written = (PathBuf, u64);

/// Rows per Parquet row group.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;

/// Names of the lineage columns every staged and quarantined row carries.
pub mod lineage {
    /// Warnings raised on a staged row (`rule: reason; …`).
    pub const FLAGS: &str = "_flags";
    /// The record key, parts joined by `|`.
    pub const RECORD_KEY: &str = "_record_key";
    /// Pipeline id (`department.dataset`).
    pub const PIPELINE: &str = "_pipeline";
    /// Source file, relative to the exports folder.
    pub const SOURCE_FILE: &str = "_source_file";
    /// Sheet name (xlsx), else null.
    pub const SOURCE_SHEET: &str = "_source_sheet";
    /// Row number in the source file (see `RowView::row`).
    pub const SOURCE_ROW: &str = "_source_row";
    /// Run that staged the row.
    pub const RUN_ID: &str = "_run_id";
    /// When the row was ingested (UTC).
    pub const INGESTED_AT: &str = "_ingested_at";
}

/// Arrow type of a schema field type.
pub fn arrow_type(t: FieldType) -> DataType {
    match t {
        FieldType::String => DataType::Utf8,
        FieldType::Integer => DataType::Int64,
        FieldType::Decimal => DataType::Decimal128(38, 2),
        FieldType::Float => DataType::Float64,
        FieldType::Date => DataType::Date32,
        FieldType::Datetime => DataType::Timestamp(TimeUnit::Microsecond, None),
        FieldType::Boolean => DataType::Boolean,
    }
}

fn lineage_fields() -> Vec<Field> {
    use lineage::*;
    vec![
        Field::new(RECORD_KEY, DataType::Utf8, true),
        Field::new(PIPELINE, DataType::Utf8, false),
        Field::new(SOURCE_FILE, DataType::Utf8, false),
        Field::new(SOURCE_SHEET, DataType::Utf8, true),
        Field::new(SOURCE_ROW, DataType::Int64, false),
        Field::new(RUN_ID, DataType::Utf8, false),
        Field::new(
            INGESTED_AT,
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
    ]
}

/// The Arrow schema of a staging table: the schema's fields (with their
/// description and PII class as field metadata), `_flags`, then lineage.
pub fn staging_schema(schema: &Schema) -> SchemaRef {
    let mut fields: Vec<Field> = schema
        .fields
        .iter()
        .map(|f| {
            Field::new(&f.name, arrow_type(f.field_type), true).with_metadata(HashMap::from([
                ("description".to_string(), f.description.clone()),
                ("description_en".to_string(), f.description_en.clone()),
                ("pii".to_string(), f.pii.as_str().to_string()),
            ]))
        })
        .collect();
    fields.push(Field::new(lineage::FLAGS, DataType::Utf8, true));
    fields.extend(lineage_fields());
    Arc::new(ArrowSchema::new(fields))
}

/// The Arrow schema of a quarantine table.
pub fn quarantine_schema() -> SchemaRef {
    let mut fields = vec![
        Field::new("_rule", DataType::Utf8, false),
        Field::new("_field", DataType::Utf8, true),
        Field::new("_value", DataType::Utf8, true),
        Field::new("_reason", DataType::Utf8, false),
        Field::new("_error_count", DataType::Int32, false),
        Field::new("_errors", DataType::Utf8, false),
        Field::new("_original", DataType::Utf8, false),
    ];
    fields.extend(lineage_fields());
    Arc::new(ArrowSchema::new(fields))
}

/// Lineage values shared by every row of one source file in one run.
#[derive(Debug, Clone)]
pub struct FileLineage {
    /// Pipeline id.
    pub pipeline: String,
    /// Source file relative to the exports folder.
    pub source_file: String,
    /// Run id.
    pub run_id: String,
    /// Ingest time, microseconds since the epoch (UTC).
    pub ingested_at_us: i64,
}

enum ColBuilder {
    Str(StringBuilder),
    Int(Int64Builder),
    Dec(Decimal128Builder),
    Float(Float64Builder),
    Date(Date32Builder),
    Ts(TimestampMicrosecondBuilder),
    Bool(BooleanBuilder),
}

const EPOCH: chrono::NaiveDate = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");

/// Text bytes reserved per row for the first batch of a string column; later
/// batches reserve what the previous one took.
const FIRST_BATCH_BYTES_PER_ROW: usize = 16;

/// A string builder for `rows` rows of about `bytes` bytes in all: a batch
/// is filled without growing (and copying) its buffers from empty.
fn string_builder(rows: usize, bytes: usize) -> StringBuilder {
    StringBuilder::with_capacity(rows, bytes + bytes / 8)
}

/// Finishes a string builder and starts the next batch sized like this one.
fn finish_string(b: &mut StringBuilder, rows: usize) -> StringArray {
    let a = b.finish();
    *b = string_builder(rows, a.value_data().len());
    a
}

impl ColBuilder {
    /// A builder with room for `rows` rows.
    fn new(t: FieldType, rows: usize) -> Self {
        match t {
            FieldType::String => {
                ColBuilder::Str(string_builder(rows, rows * FIRST_BATCH_BYTES_PER_ROW))
            }
            FieldType::Integer => ColBuilder::Int(Int64Builder::with_capacity(rows)),
            FieldType::Decimal => ColBuilder::Dec(
                Decimal128Builder::with_capacity(rows)
                    .with_precision_and_scale(38, 2)
                    .expect("valid precision"),
            ),
            FieldType::Float => ColBuilder::Float(Float64Builder::with_capacity(rows)),
            FieldType::Date => ColBuilder::Date(Date32Builder::with_capacity(rows)),
            FieldType::Datetime => ColBuilder::Ts(TimestampMicrosecondBuilder::with_capacity(rows)),
            FieldType::Boolean => ColBuilder::Bool(BooleanBuilder::with_capacity(rows)),
        }
    }

    /// Appends a value; a value of a compatible narrower type is widened
    /// (integer → decimal/float, decimal → float, date → datetime).
    fn append(&mut self, v: &Value) {
        match (self, v) {
            (ColBuilder::Str(b), Value::Null) => b.append_null(),
            (ColBuilder::Str(b), Value::Str(s)) => b.append_value(s),
            (ColBuilder::Str(b), v) => b.append_value(v.to_string()),
            (ColBuilder::Int(b), Value::Int(i)) => b.append_value(*i),
            (ColBuilder::Int(b), _) => b.append_null(),
            (ColBuilder::Dec(b), Value::Dec(d)) => b.append_value(*d),
            (ColBuilder::Dec(b), Value::Int(i)) => b.append_value(*i as i128 * 100),
            (ColBuilder::Dec(b), _) => b.append_null(),
            (ColBuilder::Float(b), Value::Float(f)) => b.append_value(*f),
            (ColBuilder::Float(b), Value::Int(i)) => b.append_value(*i as f64),
            (ColBuilder::Float(b), Value::Dec(d)) => b.append_value(*d as f64 / 100.0),
            (ColBuilder::Float(b), _) => b.append_null(),
            (ColBuilder::Date(b), v) => match v.as_date() {
                Some(d) => b.append_value((d - EPOCH).num_days() as i32),
                None => b.append_null(),
            },
            (ColBuilder::Ts(b), Value::DateTime(dt)) => {
                b.append_value(dt.and_utc().timestamp_micros())
            }
            (ColBuilder::Ts(b), Value::Date(d)) => b.append_value(
                d.and_time(chrono::NaiveTime::MIN)
                    .and_utc()
                    .timestamp_micros(),
            ),
            (ColBuilder::Ts(b), _) => b.append_null(),
            (ColBuilder::Bool(b), Value::Bool(x)) => b.append_value(*x),
            (ColBuilder::Bool(b), _) => b.append_null(),
        }
    }

    /// The batch so far; the builder is left empty with room for `rows` rows
    /// (a builder's own `finish` leaves empty buffers, which would grow again
    /// row by row, copying as they grow).
    fn finish(&mut self, rows: usize) -> ArrayRef {
        use std::mem::replace;
        match self {
            ColBuilder::Str(b) => Arc::new(finish_string(b, rows)),
            ColBuilder::Int(b) => Arc::new(replace(b, Int64Builder::with_capacity(rows)).finish()),
            ColBuilder::Dec(b) => {
                let next = Decimal128Builder::with_capacity(rows)
                    .with_precision_and_scale(38, 2)
                    .expect("valid precision");
                Arc::new(replace(b, next).finish())
            }
            ColBuilder::Float(b) => {
                Arc::new(replace(b, Float64Builder::with_capacity(rows)).finish())
            }
            ColBuilder::Date(b) => {
                Arc::new(replace(b, Date32Builder::with_capacity(rows)).finish())
            }
            ColBuilder::Ts(b) => {
                Arc::new(replace(b, TimestampMicrosecondBuilder::with_capacity(rows)).finish())
            }
            ColBuilder::Bool(b) => {
                Arc::new(replace(b, BooleanBuilder::with_capacity(rows)).finish())
            }
        }
    }
}

/// Per-row lineage that varies within a file, and the columns that do not.
struct RowLineage {
    key: StringBuilder,
    sheet: StringBuilder,
    row: Int64Builder,
    /// Rows a batch is expected to hold (0: unknown, buffers grow as needed).
    rows: usize,
    /// The columns constant within the file (pipeline, source file, run id,
    /// ingest time) for the last batch length: full batches share them.
    constant: Option<(usize, [ArrayRef; 4])>,
}

/// A string column holding `s` `n` times, built in one pass.
fn repeated_string(s: &str, n: usize) -> ArrayRef {
    let offsets = OffsetBuffer::from_lengths(std::iter::repeat_n(s.len(), n));
    Arc::new(StringArray::new(
        offsets,
        Buffer::from_vec(s.as_bytes().repeat(n)),
        None,
    ))
}

impl RowLineage {
    /// Lineage builders with room for `rows` rows per batch.
    fn new(rows: usize) -> Self {
        RowLineage {
            key: string_builder(rows, rows * FIRST_BATCH_BYTES_PER_ROW),
            sheet: StringBuilder::new(),
            row: Int64Builder::with_capacity(rows),
            rows,
            constant: None,
        }
    }

    fn push(&mut self, key: Option<&str>, sheet: Option<&str>, row: u64) {
        self.key.append_option(key.filter(|k| !k.is_empty()));
        self.sheet.append_option(sheet);
        self.row.append_value(row as i64);
    }

    fn finish(&mut self, l: &FileLineage, n: usize) -> Vec<ArrayRef> {
        let constant = match &self.constant {
            Some((len, cols)) if *len == n => cols.clone(),
            _ => {
                let cols: [ArrayRef; 4] = [
                    repeated_string(&l.pipeline, n),
                    repeated_string(&l.source_file, n),
                    repeated_string(&l.run_id, n),
                    Arc::new(
                        TimestampMicrosecondArray::from_iter_values(std::iter::repeat_n(
                            l.ingested_at_us,
                            n,
                        ))
                        .with_timezone("UTC"),
                    ),
                ];
                self.constant = Some((n, cols.clone()));
                cols
            }
        };
        let [pipeline, source_file, run_id, ingested_at] = constant;
        let mut row = std::mem::replace(&mut self.row, Int64Builder::with_capacity(self.rows));
        vec![
            Arc::new(finish_string(&mut self.key, self.rows)),
            pipeline,
            source_file,
            Arc::new(self.sheet.finish()),
            Arc::new(row.finish()),
            run_id,
            ingested_at,
        ]
    }
}

/// A Parquet file being written, created on the first row.
struct Part {
    path: PathBuf,
    schema: SchemaRef,
    writer: Option<ArrowWriter<std::fs::File>>,
    rows: u64,
}

impl Part {
    fn new(path: PathBuf, schema: SchemaRef) -> Self {
        Part {
            path,
            schema,
            writer: None,
            rows: 0,
        }
    }

    fn write(&mut self, columns: Vec<ArrayRef>) -> Result<(), WriteError> {
        let batch = RecordBatch::try_new(self.schema.clone(), columns)
            .map_err(|e| WriteError::new(&self.path, e))?;
        if self.writer.is_none() {
            if let Some(dir) = self.path.parent() {
                fs_err::create_dir_all(dir).map_err(|e| WriteError::new(&self.path, e))?;
            }
            let file =
                std::fs::File::create(&self.path).map_err(|e| WriteError::new(&self.path, e))?;
            let mut props = WriterProperties::builder()
                // LZ4: staging is written once and read whole by matching
                // and publishing on this machine; zstd cost 4 % of ingest's
                // CPU and more again on every read (docs/BENCHMARKS.md).
                .set_compression(Compression::LZ4_RAW)
                .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
                .set_created_by(format!("civhub {}", env!("CARGO_PKG_VERSION")));
            // Nearly unique columns gain nothing from a dictionary but its cost
            // (`_source_row` is unique within a part by construction); nor do
            // text columns whose first batch is mostly distinct values (names):
            // interning every value costs more than writing it plain.
            for (f, column) in self.schema.fields().iter().zip(batch.columns()) {
                let path = parquet::schema::types::ColumnPath::from(f.name().as_str());
                // Minimum and maximum only where they can skip anything:
                // the lineage columns (one file, one run, rows in order).
                // A data column's values come in no order, so every page
                // and row group spans nearly its whole range, and computing
                // them compared each value twice (docs/BENCHMARKS.md).
                if !LINEAGE_STATISTICS.contains(&f.name().as_str()) {
                    props =
                        props.set_column_statistics_enabled(path.clone(), EnabledStatistics::None);
                }
                let unique = f.name() == lineage::RECORD_KEY
                    || f.name() == lineage::SOURCE_ROW
                    || f.name() == "_original"
                    || f.name() == "_errors"
                    || f.metadata()
                        .get("pii")
                        .is_some_and(|p| matches!(p.as_str(), "id_number" | "phone" | "address"))
                    || mostly_distinct(column);
                if unique {
                    props = props.set_column_dictionary_enabled(path.clone(), false);
                }
                if f.name() == lineage::SOURCE_ROW {
                    // Row numbers rise by one: their deltas pack to nearly
                    // nothing, where plain values took 8 bytes a row and
                    // then compressing.
                    props = props.set_column_encoding(path, Encoding::DELTA_BINARY_PACKED);
                }
            }
            let props = props.build();
            self.writer = Some(
                ArrowWriter::try_new(file, self.schema.clone(), Some(props))
                    .map_err(|e| WriteError::new(&self.path, e))?,
            );
        }
        self.rows += batch.num_rows() as u64;
        self.writer
            .as_mut()
            .expect("created above")
            .write(&batch)
            .map_err(|e| WriteError::new(&self.path, e))
    }

    /// Closes the file; `None` when no row was ever written.
    fn close(self) -> Result<Option<(PathBuf, u64)>, WriteError> {
        match self.writer {
            None => Ok(None),
            Some(w) => {
                w.close().map_err(|e| WriteError::new(&self.path, e))?;
                Ok(Some((self.path, self.rows)))
            }
        }
    }
}

/// The columns of a part with statistics (minimum, maximum per page and
/// row group): the lineage columns, which readers filter on.
const LINEAGE_STATISTICS: [&str; 6] = [
    lineage::PIPELINE,
    lineage::SOURCE_FILE,
    lineage::SOURCE_SHEET,
    lineage::SOURCE_ROW,
    lineage::RUN_ID,
    lineage::INGESTED_AT,
];

/// Values a first batch must hold for [`mostly_distinct`] to judge a column.
const DISTINCT_SAMPLE_MIN: usize = 1024;
/// Values of a first batch [`mostly_distinct`] looks at.
const DISTINCT_SAMPLE_MAX: usize = 4096;

/// True for a text column of which more than half the values at the start
/// of a batch (at least [`DISTINCT_SAMPLE_MIN`] of them, at most
/// [`DISTINCT_SAMPLE_MAX`]) are distinct. Values are told apart by their
/// 64-bit hash: a collision would only keep a dictionary.
fn mostly_distinct(column: &ArrayRef) -> bool {
    use arrow::array::{Array, AsArray};
    use std::hash::BuildHasherDefault;
    if column.data_type() != &DataType::Utf8 {
        return false;
    }
    let strings = column.as_string::<i32>();
    let values = (strings.len() - strings.null_count()).min(DISTINCT_SAMPLE_MAX);
    if values < DISTINCT_SAMPLE_MIN {
        return false;
    }
    let mut seen: std::collections::HashSet<u64, BuildHasherDefault<crate::file::FoldHasher>> =
        std::collections::HashSet::with_capacity_and_hasher(values, Default::default());
    for v in strings.iter().flatten().take(values) {
        seen.insert(xxhash_rust::xxh3::xxh3_64(v.as_bytes()));
    }
    seen.len() * 2 > values
}

/// Failure writing a part.
#[derive(Debug, thiserror::Error)]
#[error("cannot write `{path}`: {message}")]
pub struct WriteError {
    /// The file.
    pub path: String,
    /// What failed.
    pub message: String,
}

impl WriteError {
    fn new(path: &Path, e: impl std::fmt::Display) -> Self {
        WriteError {
            path: path.display().to_string(),
            message: e.to_string(),
        }
    }
}

/// Writes the staged rows of one source file.
pub struct StagingWriter {
    part: Part,
    lineage: FileLineage,
    cols: Vec<ColBuilder>,
    flags: StringBuilder,
    rows: RowLineage,
    pending: usize,
    batch_rows: usize,
}

impl StagingWriter {
    /// A writer to `path` for rows of `schema`.
    pub fn new(path: PathBuf, schema: &Schema, lineage: FileLineage, batch_rows: usize) -> Self {
        StagingWriter {
            part: Part::new(path, staging_schema(schema)),
            lineage,
            cols: schema
                .fields
                .iter()
                .map(|f| ColBuilder::new(f.field_type, batch_rows.max(1)))
                .collect(),
            flags: StringBuilder::new(),
            rows: RowLineage::new(batch_rows.max(1)),
            pending: 0,
            batch_rows: batch_rows.max(1),
        }
    }

    /// Appends one staged row.
    pub fn push(
        &mut self,
        values: &[Value],
        flags: &[String],
        key: &str,
        sheet: Option<&str>,
        row: u64,
    ) -> Result<(), WriteError> {
        for (b, v) in self.cols.iter_mut().zip(values) {
            b.append(v);
        }
        if flags.is_empty() {
            self.flags.append_null();
        } else {
            self.flags.append_value(flags.join("; "));
        }
        self.rows.push(Some(key), sheet, row);
        self.pending += 1;
        if self.pending >= self.batch_rows {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), WriteError> {
        if self.pending == 0 {
            return Ok(());
        }
        let rows = self.batch_rows;
        let mut columns: Vec<ArrayRef> = self.cols.iter_mut().map(|b| b.finish(rows)).collect();
        columns.push(Arc::new(self.flags.finish()));
        columns.extend(self.rows.finish(&self.lineage, self.pending));
        self.pending = 0;
        self.part.write(columns)
    }

    /// Flushes and closes; `None` when no row was staged.
    pub fn finish(mut self) -> Result<Option<(PathBuf, u64)>, WriteError> {
        self.flush()?;
        self.part.close()
    }
}

/// Writes the quarantined rows of one source file.
pub struct QuarantineWriter {
    part: Part,
    lineage: FileLineage,
    rule: StringBuilder,
    field: StringBuilder,
    value: StringBuilder,
    reason: StringBuilder,
    count: Int32Builder,
    errors: StringBuilder,
    original: StringBuilder,
    rows: RowLineage,
    pending: usize,
    batch_rows: usize,
}

impl QuarantineWriter {
    /// A writer to `path`.
    pub fn new(path: PathBuf, lineage: FileLineage, batch_rows: usize) -> Self {
        QuarantineWriter {
            part: Part::new(path, quarantine_schema()),
            lineage,
            rule: StringBuilder::new(),
            field: StringBuilder::new(),
            value: StringBuilder::new(),
            reason: StringBuilder::new(),
            count: Int32Builder::new(),
            errors: StringBuilder::new(),
            original: StringBuilder::new(),
            rows: RowLineage::new(0),
            pending: 0,
            batch_rows: batch_rows.max(1),
        }
    }

    /// Appends one quarantined row: its errors (the first is the primary
    /// reason) and its original cells as a JSON object.
    pub fn push(
        &mut self,
        errors: &[RowError],
        original: &str,
        key: Option<&str>,
        sheet: Option<&str>,
        row: u64,
    ) -> Result<(), WriteError> {
        let first = errors.first();
        self.rule
            .append_value(first.map(|e| e.rule.as_str()).unwrap_or("unknown"));
        self.field
            .append_option(first.and_then(|e| e.field.as_deref()));
        self.value
            .append_option(first.and_then(|e| e.value.as_deref()));
        self.reason
            .append_value(first.map(|e| e.reason.as_str()).unwrap_or(""));
        self.count.append_value(errors.len() as i32);
        self.errors
            .append_value(serde_json::to_string(errors).unwrap_or_else(|_| "[]".into()));
        self.original.append_value(original);
        self.rows.push(key, sheet, row);
        self.pending += 1;
        if self.pending >= self.batch_rows {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), WriteError> {
        if self.pending == 0 {
            return Ok(());
        }
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(self.rule.finish()),
            Arc::new(self.field.finish()),
            Arc::new(self.value.finish()),
            Arc::new(self.reason.finish()),
            Arc::new(self.count.finish()),
            Arc::new(self.errors.finish()),
            Arc::new(self.original.finish()),
        ];
        columns.extend(self.rows.finish(&self.lineage, self.pending));
        self.pending = 0;
        self.part.write(columns)
    }

    /// Flushes and closes; `None` when nothing was quarantined.
    pub fn finish(mut self) -> Result<Option<(PathBuf, u64)>, WriteError> {
        self.flush()?;
        self.part.close()
    }
}

/// Moves the rows of a staging part listed in `losers` — keyed by
/// (sheet, row) — into quarantine, writing new parts. Returns the rows left
/// staged and the rows now quarantined (old and moved).
///
/// Used for record keys duplicated across files: a later file's row was
/// staged before the earlier file's copy was known. The moved row's
/// `_original` holds its staged (normalized) values, the raw cells being no
/// longer at hand.
#[allow(clippy::too_many_arguments)]
pub fn move_to_quarantine(
    staging: &Path,
    quarantine: Option<&Path>,
    out_staging: PathBuf,
    out_quarantine: PathBuf,
    losers: &HashMap<(Option<String>, u64), RowError>,
    schema: &Schema,
    lineage: FileLineage,
    batch_rows: usize,
) -> Result<(Option<Written>, Option<Written>), WriteError> {
    use arrow::array::{Array, AsArray, BooleanArray};
    use arrow::compute::filter_record_batch;
    use arrow::util::display::{ArrayFormatter, FormatOptions};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    let read = |p: &Path| -> Result<Vec<RecordBatch>, WriteError> {
        let f = std::fs::File::open(p).map_err(|e| WriteError::new(p, e))?;
        let r = ParquetRecordBatchReaderBuilder::try_new(f)
            .and_then(|b| b.build())
            .map_err(|e| WriteError::new(p, e))?;
        r.collect::<Result<Vec<_>, _>>()
            .map_err(|e| WriteError::new(p, e))
    };
    let mut kept = Part::new(out_staging, staging_schema(schema));
    let mut qw = QuarantineWriter::new(out_quarantine, lineage, batch_rows);
    if let Some(q) = quarantine {
        for b in read(q)? {
            qw.part.write(b.columns().to_vec())?;
        }
    }
    let nfields = schema.fields.len();
    for batch in read(staging)? {
        let sheet = batch
            .column_by_name(lineage::SOURCE_SHEET)
            .map(|c| c.as_string::<i32>().clone());
        let row = batch
            .column_by_name(lineage::SOURCE_ROW)
            .map(|c| c.as_primitive::<arrow::datatypes::Int64Type>().clone());
        let key = batch
            .column_by_name(lineage::RECORD_KEY)
            .map(|c| c.as_string::<i32>().clone());
        let (Some(sheet), Some(row)) = (sheet, row) else {
            return Err(WriteError::new(
                staging,
                "staging part lacks lineage columns",
            ));
        };
        let opts = FormatOptions::default();
        let fmts: Vec<ArrayFormatter<'_>> = batch.columns()[..nfields]
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts))
            .collect::<Result<_, _>>()
            .map_err(|e| WriteError::new(staging, e))?;
        let mut keep = Vec::with_capacity(batch.num_rows());
        for i in 0..batch.num_rows() {
            let s = (!sheet.is_null(i)).then(|| sheet.value(i).to_string());
            let r = row.value(i) as u64;
            match losers.get(&(s.clone(), r)) {
                Some(err) => {
                    keep.push(false);
                    let original = super::read::original_json_owned(
                        schema.fields.iter().enumerate().map(|(j, f)| {
                            (
                                f.name.clone(),
                                (!batch.column(j).is_null(i)).then(|| fmts[j].value(i).to_string()),
                            )
                        }),
                    );
                    let k = key.as_ref().filter(|k| !k.is_null(i)).map(|k| k.value(i));
                    qw.push(std::slice::from_ref(err), &original, k, s.as_deref(), r)?;
                }
                None => keep.push(true),
            }
        }
        let filtered = filter_record_batch(&batch, &BooleanArray::from(keep))
            .map_err(|e| WriteError::new(staging, e))?;
        if filtered.num_rows() > 0 {
            kept.write(filtered.columns().to_vec())?;
        }
    }
    Ok((kept.close()?, qw.finish()?))
}
