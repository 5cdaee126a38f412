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
    // Our session (its tables and functions), with delta-rs' planner for
    // the nodes its writer adds.
    let state = datafusion::execution::SessionStateBuilder::new_from_existing(ctx.state())
        .with_query_planner(deltalake::delta_datafusion::planner::DeltaPlanner::new())
        .build();
    let written = table
        .write(Vec::new())
        .with_input_plan(plan)
        .with_session_state(Arc::new(state))
        .with_save_mode(SaveMode::Overwrite)
        .with_schema_mode(deltalake::operations::write::SchemaMode::Overwrite)
        .with_table_name(name)
        .with_description(description)
        .with_commit_properties(props)
        .await
        .map_err(err)?;
    written.version().map(|v| v as i64).ok_or_else(|| {
        DataFusionError::Execution(format!("`{}`: no version after the write", path.display()))
    })
}
