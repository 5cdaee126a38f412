//! Runs every `.slt` file under the repository's `tests/slt/` against a
//! session from [`civhub_engine::session::new_context`].
//!
//! Column types are checked strictly (`query TIRB…`), with DataFusion's
//! letters: T text, I integer, R float or decimal, B boolean, D date or time,
//! P timestamp, ? anything else.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use civhub_engine::session::{SessionSettings, new_context};
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;
use sqllogictest::{AsyncDB, DBOutput, Runner, strict_column_validator};

use crate::render;
use crate::slt_types::ColumnType;

/// One connection of an `.slt` file: a fresh civhub session.
struct CivhubDb {
    ctx: SessionContext,
}

#[async_trait]
impl AsyncDB for CivhubDb {
    type Error = DataFusionError;
    type ColumnType = ColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<ColumnType>, DataFusionError> {
        let frame = self.ctx.sql(sql).await?;
        let schema = frame.schema().as_arrow().clone();
        let batches = frame.collect().await?;
        if schema.fields().is_empty() {
            return Ok(DBOutput::StatementComplete(0));
        }
        let types = schema
            .fields()
            .iter()
            .map(|f| ColumnType::of(f.data_type()))
            .collect();
        let rows = render::rows(&batches)?;
        Ok(DBOutput::Rows { types, rows })
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "civhub"
    }

    async fn sleep(duration: std::time::Duration) {
        tokio::time::sleep(duration).await;
    }
}

/// The `.slt` files under `dir` and its subfolders, in name order.
fn slt_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs_err::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(slt_files(&path));
        } else if path.extension().is_some_and(|e| e == "slt") {
            files.push(path);
        }
    }
    files.sort();
    files
}

#[tokio::test]
async fn slt_files_pass() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/slt");
    let dir = fs_err::canonicalize(&dir).unwrap();
    let files = slt_files(&dir);
    assert!(!files.is_empty(), "no .slt files under `{}`", dir.display());
    let mut failures = Vec::new();
    for file in &files {
        let mut runner = Runner::new(|| async {
            Ok(CivhubDb {
                ctx: new_context(SessionSettings::default()),
            })
        });
        runner.with_column_validator(strict_column_validator);
        if let Err(e) = runner.run_file_async(file).await {
            failures.push(format!("{}\n{}", file.display(), e.display(false)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
