//! Small helpers for running civhub's relational steps on DataFusion.

use arrow::record_batch::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::config::TableParquetOptions;
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::datasource::MemTable;
use datafusion::error::Result;
use datafusion::prelude::SessionContext;
use std::path::Path;
use std::sync::Arc;

/// A SQL string literal: `'…'` with quotes doubled.
pub fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A quoted SQL identifier: `"…"` with quotes doubled.
pub fn ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Runs `sql` and collects every batch.
pub async fn collect(ctx: &SessionContext, sql: &str) -> Result<Vec<RecordBatch>> {
    ctx.sql(sql).await?.collect().await
}

/// Runs `sql` and registers its result, materialized in memory, as `name`.
pub async fn materialize(ctx: &SessionContext, name: &str, sql: &str) -> Result<SchemaRef> {
    let t0 = std::time::Instant::now();
    let df = ctx.sql(sql).await?;
    let logical: SchemaRef = Arc::new(df.schema().as_arrow().clone());
    let batches = df.collect().await?;
    // The batches' own schema (nullability, metadata) is what the table holds.
    let schema = batches.first().map(|b| b.schema()).unwrap_or(logical);
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    register_batches(ctx, name, schema.clone(), batches)?;
    tracing::info!(
        table = name,
        rows,
        ms = t0.elapsed().as_millis() as u64,
        "materialized"
    );
    Ok(schema)
}

/// Registers batches as a table (replacing any table of that name).
pub fn register_batches(
    ctx: &SessionContext,
    name: &str,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
) -> Result<()> {
    let parts = if batches.is_empty() {
        vec![vec![]]
    } else {
        split(batches)
    };
    let table = MemTable::try_new(schema, parts)?;
    let _ = ctx.deregister_table(name)?;
    ctx.register_table(name, Arc::new(table))?;
    Ok(())
}

/// Spreads batches over partitions so scans run in parallel.
fn split(batches: Vec<RecordBatch>) -> Vec<Vec<RecordBatch>> {
    let n = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .max(1);
    let mut parts: Vec<Vec<RecordBatch>> = vec![Vec::new(); n];
    for (i, b) in batches.into_iter().enumerate() {
        parts[i % n].push(b);
    }
    parts.retain(|p| !p.is_empty());
    if parts.is_empty() {
        vec![vec![]]
    } else {
        parts
    }
}

/// Runs `sql` and writes its result as one Parquet file at `path` (written
/// next to it first, then renamed, so a reader never sees half a file).
pub async fn write_parquet(ctx: &SessionContext, sql: &str, path: &Path) -> Result<()> {
    write_parquet_with(ctx, sql, path, parquet_options()).await
}

async fn write_parquet_with(
    ctx: &SessionContext,
    sql: &str,
    path: &Path,
    options: TableParquetOptions,
) -> Result<()> {
    let t0 = std::time::Instant::now();
    let df = ctx.sql(sql).await?;
    let tmp = path.with_extension("parquet.tmp");
    if let Some(dir) = path.parent() {
        fs_err::create_dir_all(dir)?;
    }
    df.write_parquet(
        &tmp.to_string_lossy(),
        DataFrameWriteOptions::new().with_single_file_output(true),
        Some(options),
    )
    .await?;
    fs_err::rename(&tmp, path)?;
    tracing::info!(path = %path.display(), ms = t0.elapsed().as_millis() as u64, "written");
    Ok(())
}

/// How matching writes Parquet: LZ4, and dictionaries only for columns with
/// few distinct values (pipeline, source file, how a record was linked, the
/// source of each golden value …). These files are written and read back
/// within a run or by the next command on the same machine, so writing speed
/// matters more than size: at 200,000 persons, zstd compression was 15 % of
/// matching's CPU time and dictionary building over every column another 6 %
/// (`perf`, docs/BENCHMARKS.md); without any dictionary, the repeated
/// pipeline and file names made the files large and LZ4 busy.
fn parquet_options() -> TableParquetOptions {
    let mut o = TableParquetOptions::default();
    o.global.compression = Some("lz4_raw".to_string());
    o.global.dictionary_enabled = Some(false);
    for name in low_cardinality_columns() {
        o.column_specific_options.insert(
            name,
            datafusion::config::ParquetColumnOptions {
                dictionary_enabled: Some(true),
                ..Default::default()
            },
        );
    }
    o
}

/// Columns of matching's files that repeat a few values over many rows.
fn low_cardinality_columns() -> Vec<String> {
    let mut v: Vec<String> = [
        "pipeline",
        "role",
        "source_file",
        "source_sheet",
        "gender_field",
        "id_gender",
        "gender",
        "region",
        "link",
        "linked_by",
        "sources",
        "column_name",
    ]
    .map(String::from)
    .to_vec();
    for kind in [crate::settings::Kind::Person, crate::settings::Kind::Entity] {
        for (field, _, _) in crate::kinds::spec(kind).golden {
            v.push(format!("{field}_source"));
        }
    }
    v.sort();
    v.dedup();
    v
}

/// Registers a Parquet file as `name`.
pub async fn register_parquet(ctx: &SessionContext, name: &str, path: &Path) -> Result<()> {
    let _ = ctx.deregister_table(name)?;
    ctx.register_parquet(
        name,
        &path.to_string_lossy(),
        datafusion::prelude::ParquetReadOptions::default(),
    )
    .await
}

/// A text column as a `StringArray`, whatever string type the engine chose
/// (Parquet strings are read as `Utf8View`).
pub fn utf8(col: &arrow::array::ArrayRef) -> Result<arrow::array::StringArray> {
    use arrow::array::AsArray;
    let c = arrow::compute::cast(col, &arrow::datatypes::DataType::Utf8)?;
    Ok(c.as_string::<i32>().clone())
}

/// An integer column as `Int64`.
pub fn int64(col: &arrow::array::ArrayRef) -> Result<arrow::array::Int64Array> {
    use arrow::array::AsArray;
    let c = arrow::compute::cast(col, &arrow::datatypes::DataType::Int64)?;
    Ok(c.as_primitive::<arrow::datatypes::Int64Type>().clone())
}
