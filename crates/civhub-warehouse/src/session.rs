//! The read-only SQL session analysts query: the published tables of one
//! release (and the catalog), civhub's SQL functions, and nothing else.
//!
//! Statements are checked before they are planned: only queries (`SELECT`,
//! `WITH`, `VALUES`), `EXPLAIN` of a query, `SHOW TABLES`, `SHOW COLUMNS` and
//! `DESCRIBE` run. Anything that would create, alter, drop, insert, copy to
//! or from files or register external tables is refused with a message
//! naming what was refused — and DataFusion's own `SQLOptions` forbid DDL,
//! DML and statements as a second line. A table reference that names a file
//! or URL (`SELECT * FROM '/etc/passwd'`) is refused too; reading it would
//! need DataFusion's URL tables, which this session never enables anyway.
//!
//! Tables the release marks restricted (不予共享: readable by their providing
//! department only, see [`release::Restriction`]) are not in the session
//! [`open`] builds: it is the local operator's, who belongs to no
//! department. A statement naming one is refused with the table, its
//! sharing type and its provider ([`SqlError::Denied`]), not answered
//! "table not found". Served sessions (civhub-serve) start from
//! [`open_all`] and give them to users of the providing department only.

use crate::delta;
use crate::release::{self, Release, Restriction};
use datafusion::catalog::{MemorySchemaProvider, SchemaProvider, TableProvider};
use datafusion::dataframe::DataFrame;
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::error::DataFusionError;
use datafusion::execution::context::SQLOptions;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::{DFParser, Statement as DFStatement};
use datafusion::sql::sqlparser::ast::{Statement, visit_relations};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::{Arc, LazyLock};

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
    /// A table the session may not read (a restricted, 不予共享 table).
    #[error("permission denied: {0}")]
    Denied(String),
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
    /// Tables of the release left out of this session because only their
    /// providing department may read them (empty for [`open_all`]).
    pub restricted: BTreeMap<String, Restriction>,
}

/// Opens the session `civhub sql` (without `--as-user`), `civhub catalog`,
/// `civhub docs` and checks use over a release of `warehouse`: every table
/// but the restricted ones (see the module's documentation).
pub async fn open(warehouse: &Path, as_of: &AsOf) -> Result<SqlSession, SqlError> {
    open_with(warehouse, as_of, false).await
}

/// Opens a session over every table of a release, restricted ones included:
/// for civhub-serve, which builds each user's session from it and decides
/// per table who reads it. Never handed to a user as it is.
pub async fn open_all(warehouse: &Path, as_of: &AsOf) -> Result<SqlSession, SqlError> {
    open_with(warehouse, as_of, true).await
}

async fn open_with(
    warehouse: &Path,
    as_of: &AsOf,
    with_restricted: bool,
) -> Result<SqlSession, SqlError> {
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
    let mut restricted = BTreeMap::new();
    for (name, t) in &release.tables {
        let Some((schema_name, table_name)) = name.split_once('.') else {
            continue;
        };
        if let Some(r) = &t.restricted
            && !with_restricted
        {
            restricted.insert(name.clone(), r.clone());
            continue;
        }
        let schema = match catalog.schema(schema_name) {
            Some(s) => s,
            None => {
                let s: Arc<dyn SchemaProvider> = Arc::new(MemorySchemaProvider::new());
                catalog.register_schema(schema_name, s.clone())?;
                s
            }
        };
        let table = delta::open_version(&root.join(&t.path), t.version).await?;
        let mut provider = table_provider(&ctx, &table).await?;
        if name == "catalog.datasets" {
            provider = freshness_view(&ctx, provider)?;
        }
        schema.register_table(table_name.to_string(), provider)?;
    }
    Ok(SqlSession {
        ctx,
        release,
        restricted,
    })
}

/// The provider of one Delta table version.
///
/// A plain table — reader protocol 1 (no deletion vectors, no column
/// mapping) and no partition columns, which is every table civhub writes —
/// is DataFusion's own Parquet listing over exactly the files of that
/// version, with the Delta schema. DataFusion then plans it like any
/// Parquet table: `min(gid)` is answered from the files' statistics, and a
/// filter (or a join's dynamic filter) prunes row groups and pages by their
/// statistics and page index, so a point lookup on a sorted key decodes one
/// page. Row-level filtering inside the decoder (`pushdown_filters`) stays
/// off, as DataFusion's default: it made the point lookup no faster once
/// pages are pruned, and joins slower (every probe row of a large join
/// evaluated against the dynamic filter while decoding). delta-rs' own
/// provider stays the fallback for any other table.
pub async fn table_provider(
    ctx: &SessionContext,
    table: &deltalake::DeltaTable,
) -> Result<Arc<dyn TableProvider>, DataFusionError> {
    let external = |e: deltalake::DeltaTableError| DataFusionError::External(Box::new(e));
    table
        .update_datafusion_session(&ctx.state())
        .map_err(external)?;
    let delta_provider = table
        .table_provider()
        .await
        .map_err(|e| DataFusionError::External(Box::new(e)))?;
    let snapshot = table.snapshot().map_err(external)?;
    let reader_v1 = serde_json::to_value(snapshot.protocol())
        .ok()
        .and_then(|p| p.get("minReaderVersion").and_then(|v| v.as_i64()))
        == Some(1);
    if !reader_v1 || !snapshot.metadata().partition_columns().is_empty() {
        return Ok(delta_provider);
    }
    let schema = delta_provider.schema();
    let urls = table
        .get_file_uris()
        .map_err(external)?
        .map(ListingTableUrl::parse)
        .collect::<Result<Vec<_>, _>>()?;
    if urls.is_empty() {
        return Ok(Arc::new(MemTable::try_new(schema, vec![vec![]])?));
    }
    let parquet = ctx.state().default_table_options().parquet.clone();
    let options = ListingOptions::new(Arc::new(ParquetFormat::default().with_options(parquet)))
        .with_file_extension(".parquet");
    let config = ListingTableConfig::new_with_multi_paths(urls)
        .with_listing_options(options)
        .with_schema(schema);
    Ok(Arc::new(ListingTable::try_new(config)?))
}

/// Test hook: judge freshness (`catalog.datasets.overdue`) at this time
/// (RFC 3339 or `YYYY-MM-DD[ HH:MM:SS]`, UTC) instead of the query's, so a
/// test can show a dataset turning overdue without waiting days.
pub const TEST_NOW_VAR: &str = "CIVHUB_TEST_NOW";

/// `catalog.datasets` with `overdue` judged when a query runs, not when the
/// catalog was published: a view over the stored table that recomputes it
/// from `last_ingested_at` and `max_age_days` against `now()` (the same
/// rule as [`crate::catalog`]'s: more than `max_age_days` × 24 hours since
/// new data, always when none ever came, never without a maximum age). An
/// older catalog without those columns is left as stored.
fn freshness_view(
    ctx: &SessionContext,
    stored: Arc<dyn TableProvider>,
) -> Result<Arc<dyn TableProvider>, DataFusionError> {
    let df = ctx.read_table(stored.clone())?;
    let names: Vec<String> = df
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    if !["overdue", "last_ingested_at", "max_age_days"]
        .iter()
        .all(|c| names.iter().any(|n| n == c))
    {
        return Ok(stored);
    }
    let now = match std::env::var(TEST_NOW_VAR) {
        Ok(t) => {
            let at = release::parse_time(&t).ok_or_else(|| {
                DataFusionError::Configuration(format!(
                    "{TEST_NOW_VAR}=`{t}`: expected an RFC 3339 time or YYYY-MM-DD[ HH:MM:SS]"
                ))
            })?;
            format!("to_timestamp('{}')", at.to_rfc3339())
        }
        Err(_) => "now()".to_string(),
    };
    let overdue = format!(
        "CASE WHEN max_age_days IS NULL THEN false WHEN last_ingested_at IS NULL THEN true \
         ELSE to_unixtime({now}) - to_unixtime(last_ingested_at) > max_age_days * 86400 END AS overdue"
    );
    let exprs: Vec<String> = names
        .iter()
        .map(|n| {
            if n == "overdue" {
                overdue.clone()
            } else {
                format!("\"{}\"", n.replace('"', "\"\""))
            }
        })
        .collect();
    let refs: Vec<&str> = exprs.iter().map(String::as_str).collect();
    Ok(df.select_exprs(&refs)?.into_view())
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
    let statements = match DFParser::parse_sql(sql) {
        Ok(s) => s,
        // DataFusion's parser knows only `COPY … TO`; `COPY t FROM 'file'`
        // is refused like any COPY, not reported as a syntax error.
        Err(_) if is_copy(sql) => return refuse("copying to or from files (COPY)"),
        Err(e) => return Err(SqlError::Engine(e)),
    };
    if statements.len() > 1 {
        return Err(SqlError::Refused("one statement at a time".into()));
    }
    let Some(st) = statements.front() else {
        return Err(SqlError::Refused("no statement".into()));
    };
    let query = match st {
        DFStatement::Statement(s) => Some(s.as_ref()),
        DFStatement::Explain(e) => match e.statement.as_ref() {
            DFStatement::Statement(s) => Some(s.as_ref()),
            _ => None,
        },
        _ => None,
    };
    if let Some(path) = query.and_then(file_reference) {
        return refuse(&format!(
            "reading a file or URL ({path}); only published tables and the catalog can be queried"
        ));
    }
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

fn refuse(what: &str) -> Result<(), SqlError> {
    Err(SqlError::Refused(format!(
        "{what}: civhub's SQL is read-only; it runs queries (SELECT, WITH, VALUES), EXPLAIN, SHOW TABLES, SHOW COLUMNS and DESCRIBE"
    )))
}

/// Whether `sql` is a `COPY` statement (in the generic dialect, which also
/// knows `COPY … FROM`).
fn is_copy(sql: &str) -> bool {
    Parser::parse_sql(&GenericDialect {}, sql)
        .is_ok_and(|s| s.iter().any(|s| matches!(s, Statement::Copy { .. })))
}

/// The first table reference that names a file or URL (`FROM '/etc/passwd'`,
/// `FROM 'data.csv'`) instead of a table: such a name would otherwise fail
/// as "table not found", which reads like a typo rather than a refusal.
fn file_reference(st: &Statement) -> Option<String> {
    let found = visit_relations(st, |name| {
        let path = name
            .0
            .iter()
            .filter_map(|p| p.as_ident())
            .any(|i| i.quote_style == Some('\'') || i.value.contains(['/', '\\']));
        if path {
            ControlFlow::Break(name.to_string())
        } else {
            ControlFlow::Continue(())
        }
    });
    match found {
        ControlFlow::Break(name) => Some(name),
        ControlFlow::Continue(()) => None,
    }
}

/// Tables (`schema.table`) a statement names; empty when it does not parse.
/// A name is given as written, less a leading `datafusion.` (the only
/// catalog civhub's sessions have).
pub fn tables_named(sql: &str) -> Vec<String> {
    // Resolving names needs a session state, not a particular one: one is
    // built once rather than per statement (building one registers every
    // function, which cost more than planning a point lookup).
    static STATE: LazyLock<datafusion::execution::SessionState> =
        LazyLock::new(|| SessionContext::new().state());
    let Ok(statements) = DFParser::parse_sql(sql) else {
        return Vec::new();
    };
    let state = &*STATE;
    let mut out = BTreeSet::new();
    for s in statements {
        if let Ok(refs) = state.resolve_table_references(&s) {
            out.extend(refs.into_iter().map(|r| {
                let name = r.to_string();
                name.strip_prefix("datafusion.")
                    .map(str::to_string)
                    .unwrap_or(name)
            }));
        }
    }
    out.into_iter().collect()
}

/// The tables a statement reads, for access decisions: [`tables_named`],
/// and for `DESCRIBE t` / `SHOW COLUMNS FROM t` (whose table is not a table
/// reference) the qualified names in its text — of those statements only,
/// so a query comparing a column with the text 'court.court_case' does not
/// count as reading that table.
pub fn tables_in(sql: &str) -> Vec<String> {
    let mut out = tables_named(sql);
    let first = sql.split_whitespace().next().unwrap_or("").to_uppercase();
    if matches!(first.as_str(), "DESCRIBE" | "DESC" | "SHOW") {
        out.extend(
            sql.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
                .map(|w| w.trim_start_matches("datafusion.").to_lowercase())
                .filter(|w| w.contains('.')),
        );
        out.sort();
        out.dedup();
    }
    out
}

impl SqlSession {
    /// The refusal of a statement naming a table this session leaves out
    /// (restricted to its providing department), if it names one.
    pub fn denied(&self, sql: &str) -> Option<SqlError> {
        if self.restricted.is_empty() {
            return None;
        }
        let named = tables_in(sql);
        let (table, r) = self
            .restricted
            .iter()
            .find(|(t, _)| named.iter().any(|n| n == *t))?;
        Some(SqlError::Denied(format!(
            "{}; this session (`civhub sql` without `--as-user`, the local operator's) reads shared tables only. A user of department `{}` reads it with `civhub sql --as-user NAME` or through `civhub serve`",
            r.refusal(table),
            r.provider
        )))
    }

    /// Plans `sql` after the checks; the caller executes the DataFrame.
    pub async fn query(&self, sql: &str) -> Result<DataFrame, SqlError> {
        check(sql)?;
        if let Some(e) = self.denied(sql) {
            return Err(e);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_in_names_references_and_described_tables_not_text() {
        assert_eq!(
            tables_in(
                "SELECT * FROM population.person p WHERE p.gid IN (SELECT case_no FROM court.court_case)"
            ),
            vec!["court.court_case", "population.person"]
        );
        assert_eq!(
            tables_in("SELECT * FROM datafusion.court.court_case"),
            vec!["court.court_case"]
        );
        // (DataFusion resolves these to information_schema's tables, too.)
        for sql in [
            "DESCRIBE court.court_case",
            "SHOW COLUMNS FROM Court.Court_Case",
        ] {
            assert!(
                tables_in(sql).contains(&"court.court_case".to_string()),
                "{sql}: {:?}",
                tables_in(sql)
            );
        }
        // Text that looks like a table name is not a read of it.
        assert_eq!(
            tables_in("SELECT * FROM catalog.datasets WHERE table_name = 'court.court_case'"),
            vec!["catalog.datasets"]
        );
    }
}
