//! The read-only SQL session analysts query: the published tables of one
//! release (and the catalog), civhub's SQL functions, and nothing else.
//!
//! Statements are checked before they are planned: only queries (`SELECT`,
//! `WITH`, `VALUES`), `EXPLAIN` of a query, `SHOW TABLES`, `SHOW COLUMNS` and
//! `DESCRIBE` run. Anything that would create, alter, drop, insert, copy to
//! or from files or register external tables is refused with a message
//! naming what was refused — and DataFusion's own `SQLOptions` forbid DDL,
//! DML and statements as a second line. Reading arbitrary paths
//! (`SELECT * FROM '/etc/passwd'`) needs DataFusion's URL tables, which this
//! session never enables.

use crate::delta;
use crate::release::{self, Release};
use datafusion::catalog::{MemorySchemaProvider, SchemaProvider};
use datafusion::dataframe::DataFrame;
use datafusion::error::DataFusionError;
use datafusion::execution::context::SQLOptions;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::{DFParser, Statement as DFStatement};
use datafusion::sql::sqlparser::ast::Statement;
use std::path::Path;
use std::sync::Arc;

/// Which release to read.
#[derive(Debug, Clone, PartialEq)]
pub enum AsOf {
    /// The latest.
    Latest,
    /// Release number N.
    Release(u64),
    /// The release current at this time.
    Time(String),
}

impl AsOf {
    /// Parses `--as-of`: a release number, or a date/time.
    pub fn parse(s: &str) -> AsOf {
        match s.trim().parse::<u64>() {
            Ok(n) => AsOf::Release(n),
            Err(_) => AsOf::Time(s.trim().to_string()),
        }
    }
}

/// Why SQL did not run.
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    /// Nothing published yet.
    #[error("nothing is published yet")]
    NothingPublished,
    /// The release asked for does not exist.
    #[error("no release {0}")]
    NoRelease(String),
    /// A statement civhub does not run.
    #[error("refused: {0}")]
    Refused(String),
    /// The SQL did not parse or plan, or failed.
    #[error("{0}")]
    Engine(#[from] DataFusionError),
}

/// An open read-only session.
pub struct SqlSession {
    /// The DataFusion session.
    pub ctx: SessionContext,
    /// The release it reads.
    pub release: Release,
}

/// Opens a session over a release of `warehouse`.
pub async fn open(warehouse: &Path, as_of: &AsOf) -> Result<SqlSession, SqlError> {
    let release = match as_of {
        AsOf::Latest => release::current(warehouse).ok_or(SqlError::NothingPublished)?,
        AsOf::Release(n) => {
            release::get(warehouse, *n).ok_or_else(|| SqlError::NoRelease(n.to_string()))?
        }
        AsOf::Time(t) => {
            if release::parse_time(t).is_none() {
                return Err(SqlError::NoRelease(format!(
                    "at `{t}` (expected a release number, YYYY-MM-DD, or an RFC 3339 time)"
                )));
            }
            release::at_time(warehouse, t).ok_or_else(|| {
                SqlError::NoRelease(format!("at {t} (the first release is later)"))
            })?
        }
    };
    let ctx = civhub_engine::session::new_context(Default::default());
    let catalog = ctx
        .catalog("datafusion")
        .ok_or_else(|| SqlError::Engine(DataFusionError::Internal("no default catalog".into())))?;
    let root = release::published_dir(warehouse);
    for (name, t) in &release.tables {
        let Some((schema_name, table_name)) = name.split_once('.') else {
            continue;
        };
        let schema = match catalog.schema(schema_name) {
            Some(s) => s,
            None => {
                let s: Arc<dyn SchemaProvider> = Arc::new(MemorySchemaProvider::new());
                catalog.register_schema(schema_name, s.clone())?;
                s
            }
        };
        let table = delta::open_version(&root.join(&t.path), t.version).await?;
        table
            .update_datafusion_session(&ctx.state())
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        let provider = table
            .table_provider()
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        schema.register_table(table_name.to_string(), provider)?;
    }
    Ok(SqlSession { ctx, release })
}

/// The options every analyst statement is planned with.
pub fn read_only() -> SQLOptions {
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
}

/// Checks that `sql` is one statement civhub runs, and names what is refused.
pub fn check(sql: &str) -> Result<(), SqlError> {
    let statements = DFParser::parse_sql(sql).map_err(SqlError::Engine)?;
    if statements.len() > 1 {
        return Err(SqlError::Refused("one statement at a time".into()));
    }
    let Some(st) = statements.front() else {
        return Err(SqlError::Refused("no statement".into()));
    };
    let refuse = |what: &str| {
        Err(SqlError::Refused(format!(
            "{what}: civhub's SQL is read-only; it runs queries (SELECT, WITH, VALUES), EXPLAIN, SHOW TABLES, SHOW COLUMNS and DESCRIBE"
        )))
    };
    match st {
        DFStatement::CreateExternalTable(_) => {
            refuse("registering an external table (CREATE EXTERNAL TABLE)")
        }
        DFStatement::CopyTo(_) => refuse("copying to or from files (COPY)"),
        DFStatement::Explain(e) => match e.statement.as_ref() {
            DFStatement::Statement(s) if matches!(s.as_ref(), Statement::Query(_)) => Ok(()),
            _ => refuse("EXPLAIN of anything but a query"),
        },
        DFStatement::Reset(_) => refuse("RESET"),
        DFStatement::Statement(s) => match s.as_ref() {
            Statement::Query(_)
            | Statement::ShowTables { .. }
            | Statement::ShowColumns { .. }
            | Statement::ExplainTable { .. } => Ok(()),
            Statement::Explain { statement, .. }
                if matches!(statement.as_ref(), Statement::Query(_)) =>
            {
                Ok(())
            }
            Statement::Insert(_)
            | Statement::Update { .. }
            | Statement::Delete(_)
            | Statement::Merge { .. } => refuse("changing data (INSERT, UPDATE, DELETE, MERGE)"),
            Statement::CreateTable(_)
            | Statement::CreateView { .. }
            | Statement::CreateSchema { .. }
            | Statement::CreateDatabase { .. }
            | Statement::CreateFunction(_)
            | Statement::CreateIndex(_) => refuse("creating objects (CREATE …)"),
            Statement::Drop { .. } | Statement::DropFunction(_) => {
                refuse("dropping objects (DROP …)")
            }
            Statement::AlterTable(_) | Statement::AlterView { .. } => {
                refuse("altering objects (ALTER …)")
            }
            Statement::Copy { .. } => refuse("copying to or from files (COPY)"),
            Statement::Set(_) => refuse("changing session settings (SET)"),
            other => {
                let text = other.to_string();
                let word = text
                    .split_whitespace()
                    .next()
                    .unwrap_or("this statement")
                    .to_uppercase();
                refuse(&format!("{word} statements"))
            }
        },
    }
}

impl SqlSession {
    /// Plans `sql` after the checks; the caller executes the DataFrame.
    pub async fn query(&self, sql: &str) -> Result<DataFrame, SqlError> {
        check(sql)?;
        self.ctx
            .sql_with_options(sql, read_only())
            .await
            .map_err(|e| match e {
                DataFusionError::Plan(m)
                    if m.contains("not supported") || m.contains("not allowed") =>
                {
                    SqlError::Refused(m)
                }
                other => SqlError::Engine(other),
            })
    }
}
