//! Published tables are Delta Lake tables (through the `deltalake` crate):
//! every write is a transaction that commits atomically or not at all, every
//! version stays readable (time travel), and other engines (DuckDB, Polars,
//! Spark) read them without civhub.
//!
//! civhub records in each commit's metadata the *fingerprint* of what the
//! table was computed from, so a publish over unchanged inputs writes nothing.

use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::protocol::SaveMode;
use deltalake::{DeltaTable, DeltaTableError};
use std::path::Path;
use std::sync::Arc;

/// Key of the fingerprint in commit metadata.
pub const FINGERPRINT_KEY: &str = "civhub.fingerprint";
/// Key of the publishing run in commit metadata.
pub const RUN_KEY: &str = "civhub.run_id";

fn err(e: DeltaTableError) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

/// The URL of a local table folder.
pub fn url(path: &Path) -> Result<url::Url> {
    fs_err::create_dir_all(path)?;
    let abs = path.canonicalize()?;
    url::Url::from_directory_path(&abs).map_err(|_| {
        DataFusionError::Execution(format!("cannot make a URL of `{}`", abs.display()))
    })
}

/// Opens a table (latest version), `None` when the folder holds no table yet.
pub async fn open(path: &Path) -> Result<Option<DeltaTable>> {
    if !path.join("_delta_log").is_dir() {
        return Ok(None);
    }
    deltalake::open_table(url(path)?)
        .await
        .map(Some)
        .map_err(err)
}

/// Opens a table at a version.
pub async fn open_version(path: &Path, version: i64) -> Result<DeltaTable> {
    deltalake::open_table_with_version(url(path)?, version.max(0) as u64)
        .await
        .map_err(err)
}

/// The fingerprint recorded by the table's latest commit.
pub async fn latest_fingerprint(table: &DeltaTable) -> Result<Option<String>> {
    use futures::TryStreamExt;
    let history: Vec<deltalake::kernel::CommitInfo> =
        table.history(Some(1)).try_collect().await.map_err(err)?;
    Ok(history.into_iter().next().and_then(|c| {
        c.info
            .get(FINGERPRINT_KEY)
            .and_then(|v| v.as_str().map(str::to_string))
    }))
}

/// Rows per Parquet row group of published tables. Parquet's default (1Mi
/// rows) puts a million golden records in one group, so a lookup by id
/// cannot skip any of it; groups of 128Ki rows (DuckDB's are 122,880) let
/// a reader skip most of a table sorted on the key it filters by, and the
/// page index (written by default, one entry per page of at most 20,000
/// rows) narrows further inside a group.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;

/// Rows per Parquet data page of published tables (the format's default is
/// 20,000): a lookup that the page index narrows to one page decodes this
/// many rows of each column it reads.
pub const PAGE_ROWS: usize = 4096;

/// Whether a published column gets a Bloom filter: identifiers people look
/// rows up by (resident IDs, credit codes, golden ids). A reader skips every
/// row group whose filter says the value is absent — the only way to skip
/// data on a column the table is not sorted by.
fn bloom_column(name: &str) -> bool {
    matches!(
        name,
        "gid" | "id_number" | "uscc" | "person_gid" | "entity_gid"
    ) || name.ends_with("_id_number")
        || name.ends_with("_uscc")
}

/// How published Parquet files are written, for a table with these columns.
fn writer_properties<'a>(
    columns: impl Iterator<Item = &'a str>,
) -> deltalake::parquet::file::properties::WriterProperties {
    use deltalake::parquet::basic::Compression;
    use deltalake::parquet::file::properties::{EnabledStatistics, WriterProperties};
    use deltalake::parquet::schema::types::ColumnPath;
    let mut b = WriterProperties::builder()
        .set_created_by(format!("civhub {}", env!("CARGO_PKG_VERSION")))
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_data_page_row_count_limit(PAGE_ROWS)
        .set_statistics_enabled(EnabledStatistics::Page);
    for c in columns.filter(|c| bloom_column(c)) {
        let path = ColumnPath::from(c);
        // Sized for a row group of distinct values (the NDV defaults to
        // the row-group size); 1 % false positives.
        b = b
            .set_column_bloom_filter_enabled(path.clone(), true)
            .set_column_bloom_filter_fpp(path, 0.01);
    }
    b.build()
}

/// A table whose first column is `gid` (golden records: `population.person`,
/// `legal.entity`) is written sorted by it, so the statistics of each row
/// group and page cover a narrow range of ids and a lookup by gid reads one
/// group. A Sort in the plan handed to delta-rs would not survive (its
/// writer's nodes do not declare that they keep their input's order, so
/// DataFusion drops the sort as useless), so the sorted rows go to a
/// temporary Parquet file next to the table first (DataFusion's own writer
/// keeps `sort_by`), whose single-partition scan is then the plan to write.
/// Returns that plan and the file to remove afterwards.
async fn sorted_by_key(
    ctx: &SessionContext,
    path: &Path,
    plan: LogicalPlan,
) -> Result<(LogicalPlan, Option<std::path::PathBuf>)> {
    if plan.schema().fields().first().map(|f| f.name().as_str()) != Some("gid") {
        return Ok((plan, None));
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.sorted.parquet"));
    let tmp_text = tmp.to_string_lossy().into_owned();
    datafusion::dataframe::DataFrame::new(ctx.state(), plan)
        .write_parquet(
            &tmp_text,
            datafusion::dataframe::DataFrameWriteOptions::new()
                .with_single_file_output(true)
                .with_sort_by(vec![datafusion::prelude::ident("gid").sort(true, false)]),
            None,
        )
        .await?;
    let df = ctx
        .read_parquet(
            &tmp_text,
            datafusion::prelude::ParquetReadOptions::default(),
        )
        .await?;
    Ok((df.logical_plan().clone(), Some(tmp)))
}

/// Overwrites the table at `path` with the result of `plan` (streamed, not
/// collected), as one commit carrying `fingerprint`. Returns the new version.
pub async fn overwrite(
    ctx: &SessionContext,
    path: &Path,
    plan: LogicalPlan,
    fingerprint: &str,
    run_id: &str,
    name: &str,
    description: &str,
) -> Result<i64> {
    // A new table is built unloaded (loading a folder without a log is an
    // error delta-rs would log); an existing one is loaded.
    let table = match open(path).await? {
        Some(t) => t,
        None => deltalake::DeltaTableBuilder::from_url(url(path)?)
            .map_err(err)?
            .build()
            .map_err(err)?,
    };
    let props = CommitProperties::default().with_metadata([
        (FINGERPRINT_KEY.to_string(), serde_json::json!(fingerprint)),
        (RUN_KEY.to_string(), serde_json::json!(run_id)),
    ]);
    let (plan, sorted) = sorted_by_key(ctx, path, plan).await?;
    // Our session (its tables and functions), with delta-rs' planner for
    // the nodes its writer adds.
    let mut state = datafusion::execution::SessionStateBuilder::new_from_existing(ctx.state())
        .with_query_planner(deltalake::delta_datafusion::planner::DeltaPlanner::new())
        .build();
    if sorted.is_some() {
        // delta-rs writes every partition of the plan into the same file as
        // the batches come; one partition keeps the sorted order.
        state.config_mut().options_mut().execution.target_partitions = 1;
    }
    let written = table
        .write(Vec::new())
        .with_writer_properties(writer_properties(
            plan.schema().fields().iter().map(|f| f.name().as_str()),
        ))
        .with_input_plan(plan)
        .with_session_state(Arc::new(state))
        .with_save_mode(SaveMode::Overwrite)
        .with_schema_mode(deltalake::operations::write::SchemaMode::Overwrite)
        .with_table_name(name)
        .with_description(description)
        .with_commit_properties(props)
        .await
        .map_err(err);
    if let Some(tmp) = sorted {
        let _ = fs_err::remove_file(tmp);
    }
    let written = written?;
    written.version().map(|v| v as i64).ok_or_else(|| {
        DataFusionError::Execution(format!("`{}`: no version after the write", path.display()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{AsArray, Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use arrow::record_batch::RecordBatch;
    use datafusion::datasource::MemTable;

    #[tokio::test]
    async fn golden_records_are_written_sorted_by_gid_in_small_row_groups() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("gid", DataType::Utf8, false),
            Field::new("n", DataType::Int64, false),
        ]));
        // Two partitions, each sorted the other way round.
        let part = |range: std::ops::Range<i64>| {
            let ids: Vec<i64> = range.rev().collect();
            RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(StringArray::from(
                        ids.iter().map(|i| format!("P{i:08}")).collect::<Vec<_>>(),
                    )),
                    Arc::new(Int64Array::from(ids)),
                ],
            )
            .unwrap()
        };
        let n = ROW_GROUP_ROWS as i64 + 1000;
        let table = MemTable::try_new(
            schema.clone(),
            vec![vec![part(0..n / 2)], vec![part(n / 2..n)]],
        )
        .unwrap();
        let ctx = SessionContext::new();
        let df = ctx.read_table(Arc::new(table)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        overwrite(
            &ctx,
            dir.path(),
            df.logical_plan().clone(),
            "f",
            "r",
            "t",
            "",
        )
        .await
        .unwrap();
        let files: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
            .collect();
        assert_eq!(files.len(), 1);
        use deltalake::parquet::arrow::arrow_reader::{
            ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
        };
        let reader = ParquetRecordBatchReaderBuilder::try_new_with_options(
            std::fs::File::open(&files[0]).unwrap(),
            ArrowReaderOptions::new().with_page_index_policy(
                deltalake::parquet::file::metadata::PageIndexPolicy::Required,
            ),
        )
        .unwrap();
        assert_eq!(reader.metadata().num_row_groups(), 2);
        // `gid` carries a Bloom filter, `n` none.
        for rg in reader.metadata().row_groups() {
            assert!(rg.column(0).bloom_filter_offset().is_some());
            assert!(rg.column(1).bloom_filter_offset().is_none());
        }
        // Pages end near PAGE_ROWS rows (the limit is checked per batch
        // written), so a 128Ki-row group has at least 32 of them.
        let pages = reader
            .metadata()
            .offset_index()
            .map(|o| o[0][0].page_locations().len())
            .unwrap_or(0);
        assert!(pages >= ROW_GROUP_ROWS / PAGE_ROWS, "{pages} pages");
        let mut gids = Vec::new();
        for b in reader.build().unwrap() {
            let b = b.unwrap();
            let c = arrow::compute::cast(b.column(0), &DataType::Utf8).unwrap();
            gids.extend(c.as_string::<i32>().iter().map(|v| v.unwrap().to_string()));
        }
        assert_eq!(gids.len() as i64, n);
        assert!(gids.windows(2).all(|w| w[0] < w[1]), "not sorted by gid");
    }
}
