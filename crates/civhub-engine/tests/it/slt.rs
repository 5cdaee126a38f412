//! Runs every `.slt` file under the repository's `tests/slt/` against a
//! session from [`civhub_engine::session::new_context`].
//!
//! Column types are checked strictly (`query TIRB…`), with DataFusion's
//! letters: T text, I integer, R float or decimal, B boolean, D date or time,
//! P timestamp, ? anything else.

use std::path::{Path, PathBuf};

use arrow::datatypes::DataType;
use async_trait::async_trait;
use civhub_engine::session::{SessionSettings, new_context};
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;
use sqllogictest::{AsyncDB, DBOutput, Runner, strict_column_validator};

use crate::render;

/// A result column's type letter in an `.slt` `query` line.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ColumnType {
    Text,
    Integer,
    Float,
    Boolean,
    Date,
    Timestamp,
    Other,
}

impl ColumnType {
    fn of(data_type: &DataType) -> Self {
        use DataType::*;
        match data_type {
            Utf8 | LargeUtf8 | Utf8View => ColumnType::Text,
            Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64 => ColumnType::Integer,
            Float16 | Float32 | Float64 | Decimal32(..) | Decimal64(..) | Decimal128(..)
            | Decimal256(..) => ColumnType::Float,
            Boolean => ColumnType::Boolean,
            Date32 | Date64 | Time32(_) | Time64(_) => ColumnType::Date,
            Timestamp(..) => ColumnType::Timestamp,
            Dictionary(_, value) => ColumnType::of(value),
            _ => ColumnType::Other,
        }
    }
}

impl sqllogictest::ColumnType for ColumnType {
    fn from_char(value: char) -> Option<Self> {
        Some(match value {
            'T' => ColumnType::Text,
            'I' => ColumnType::Integer,
            'R' => ColumnType::Float,
            'B' => ColumnType::Boolean,
            'D' => ColumnType::Date,
            'P' => ColumnType::Timestamp,
            _ => ColumnType::Other,
        })
    }

    fn to_char(&self) -> char {
        match self {
            ColumnType::Text => 'T',
            ColumnType::Integer => 'I',
            ColumnType::Float => 'R',
            ColumnType::Boolean => 'B',
            ColumnType::Date => 'D',
            ColumnType::Timestamp => 'P',
            ColumnType::Other => '?',
        }
    }
}

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
