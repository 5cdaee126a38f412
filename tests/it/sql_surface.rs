//! The SQL surface analysts see, over the bundled project published once per
//! test binary ([`published_warehouse`]):
//!
//! * the `.slt` files under `tests/slt-published/`, run against the
//!   read-only session `civhub sql` uses: the base databases, a department
//!   dataset, the catalog, civhub's functions, and every refused statement;
//! * snapshots of the catalog as `civhub sql --format csv` prints it;
//! * on copies of the project: time travel across two publishes, and a
//!   publish killed midway.
//!
//! `.slt` column types are checked strictly, with the letters of
//! `tests/slt/` (civhub-engine's runner): T text, I integer, R float or
//! decimal, B boolean, D date or time, P timestamp, ? anything else.

use crate::common::{civhub_in, published_project, published_warehouse, repo};
use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float32Type, Float64Type};
use arrow::record_batch::RecordBatch;
use arrow::util::display::array_value_to_string;
use async_trait::async_trait;
use civhub_warehouse::session::{AsOf, SqlError, SqlSession, open};
use sqllogictest::{AsyncDB, DBOutput, Runner, strict_column_validator};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

// ---------------------------------------------------------------------------
// The .slt files

#[test]
fn published_slt_files_pass() {
    let warehouse = published_warehouse().to_path_buf();
    let dir = repo().join("tests/slt-published");
    let mut files: Vec<PathBuf> = fs_err::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "slt"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .slt files in `{}`", dir.display());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut failures = Vec::new();
    for file in &files {
        let warehouse = warehouse.clone();
        let mut runner = Runner::new(move || {
            let warehouse = warehouse.clone();
            async move { Ok(Published(open(&warehouse, &AsOf::Latest).await?)) }
        });
        runner.with_column_validator(strict_column_validator);
        if let Err(e) = rt.block_on(runner.run_file_async(file)) {
            failures.push(format!("{}\n{}", file.display(), e.display(false)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// One connection of an `.slt` file: a read-only session over the latest
/// release, queried through [`SqlSession::query`] (the checks included).
struct Published(SqlSession);

#[async_trait]
impl AsyncDB for Published {
    type Error = SqlError;
    type ColumnType = ColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<ColumnType>, SqlError> {
        let frame = self.0.query(sql).await?;
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
        let rows = render(&batches).map_err(|e| SqlError::Engine(e.into()))?;
        Ok(DBOutput::Rows { types, rows })
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "civhub-published"
    }

    async fn sleep(duration: std::time::Duration) {
        tokio::time::sleep(duration).await;
    }
}

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

/// Every cell as `tests/slt/` writes it: `NULL`, `(empty)` for an empty
/// string, floats rounded to 12 decimals without trailing zeros, everything
/// else in Arrow's display form.
fn render(batches: &[RecordBatch]) -> Result<Vec<Vec<String>>, arrow::error::ArrowError> {
    let mut rows = Vec::new();
    for b in batches {
        for row in 0..b.num_rows() {
            let cells = b.columns().iter().map(|c| cell(c.as_ref(), row));
            rows.push(cells.collect::<Result<_, _>>()?);
        }
    }
    Ok(rows)
}

fn cell(array: &dyn Array, row: usize) -> Result<String, arrow::error::ArrowError> {
    if array.is_null(row) {
        return Ok("NULL".to_string());
    }
    let text = match array.data_type() {
        DataType::Float64 => float(array.as_primitive::<Float64Type>().value(row)),
        DataType::Float32 => float(f64::from(array.as_primitive::<Float32Type>().value(row))),
        _ => array_value_to_string(array, row)?,
    };
    Ok(if text.is_empty() {
        "(empty)".to_string()
    } else {
        text
    })
}

fn float(value: f64) -> String {
    let fixed = format!("{value:.12}");
    let trimmed = fixed.trim_end_matches('0').trim_end_matches('.');
    if trimmed == "-0" {
        "0".to_string()
    } else {
        trimmed.to_string()
    }
}

// ---------------------------------------------------------------------------
// The catalog, as `civhub sql` prints it

#[test]
fn catalog_snapshots() {
    let warehouse = published_warehouse().to_str().unwrap().to_string();
    let csv = |query: &str| {
        let run = civhub_in(
            &repo(),
            &["--warehouse", &warehouse, "sql", "--format", "csv", query],
        );
        assert_eq!(run.code, 0, "{query}\n{}", run.stderr);
        run.stdout
    };
    // Stable columns only: no times, versions or freshness.
    let datasets = csv(
        "SELECT dataset, resource_code, title, classification, category, department, \
         department_code, format, sharing_type, sharing_method, open_type, update_cycle, \
         published, table_name, rows FROM catalog.datasets ORDER BY dataset",
    );
    insta::assert_snapshot!("catalog_datasets", datasets);
    let person_columns = csv(
        "SELECT column_name, ordinal, data_type, description, description_en, pii, \
         sensitive, sharing_type, source_columns FROM catalog.columns \
         WHERE dataset = 'population.person' ORDER BY ordinal",
    );
    insta::assert_snapshot!("catalog_columns_population_person", person_columns);
}

// ---------------------------------------------------------------------------
// Releases: time travel, and a publish killed midway

/// The rows `civhub sql --format json` prints, in the project at `dir`.
fn sql_rows(dir: &Path, as_of: Option<&str>, query: &str) -> Vec<serde_json::Value> {
    let mut args = vec!["sql", "--format", "json"];
    if let Some(a) = as_of {
        args.extend(["--as-of", a]);
    }
    args.push(query);
    let run = civhub_in(dir, &args);
    assert_eq!(run.code, 0, "{query} (as of {as_of:?}):\n{}", run.stderr);
    run.json().as_array().expect("a JSON array").clone()
}

/// Rows of civil_affairs.dibao_member and of population.person that
/// `civhub sql` sees at a release (`None`: the latest).
fn counts(dir: &Path, as_of: Option<&str>) -> (u64, u64) {
    let rows = sql_rows(
        dir,
        as_of,
        "SELECT (SELECT count(*) FROM civil_affairs.dibao_member) AS members, \
                (SELECT count(*) FROM population.person) AS persons",
    );
    let n = |k: &str| rows[0][k].as_u64().expect("a count");
    (n("members"), n("persons"))
}

/// Every table the latest release has, with the rows a full scan reads.
fn every_table(dir: &Path) -> BTreeMap<String, u64> {
    let tables: Vec<String> = sql_rows(
        dir,
        None,
        "SELECT table_schema || '.' || table_name AS t FROM information_schema.tables \
         WHERE table_schema <> 'information_schema'",
    )
    .iter()
    .map(|r| r["t"].as_str().unwrap().to_string())
    .collect();
    let query = tables
        .iter()
        .map(|t| format!("SELECT '{t}' AS t, count(*) AS n FROM {t}"))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    sql_rows(dir, None, &query)
        .iter()
        .map(|r| {
            (
                r["t"].as_str().unwrap().to_string(),
                r["n"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// Adds one low-income household member, a person no export names yet, as a
/// new county file of `civil_affairs.dibao_member` (GB18030, as the others).
fn add_dibao_member(dir: &Path) {
    let id = crate::common::resident_id("341002", "19800101", 777);
    let text = format!(
        "家庭编号,成员身份证号码,成员姓名,性别,出生日期,与申请人关系,是否申请人,健康状况,残疾等级,从业状况\n\
         DB3410029900001,{id},沈新民,男,1980/01/01,本人,true,健康,无,无业\n"
    );
    let (bytes, _, _) = encoding_rs::GB18030.encode(&text);
    std::fs::write(
        dir.join("fixtures/exports/civil_affairs/低保家庭成员_测试区.csv"),
        bytes,
    )
    .unwrap();
}

#[test]
fn time_travel_reads_each_release() {
    let project = published_project();
    let p = project.path();
    let (members, persons) = counts(p, None);

    add_dibao_member(p);
    let run = civhub_in(p, &["run", "-q"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    // The latest release has the new member and the new golden person;
    // release 1 is still there to read, by number or by time.
    let (old, new) = ((members, persons), (members + 1, persons + 1));
    assert_eq!(counts(p, None), new);
    assert_eq!(counts(p, Some("1")), old);
    assert_eq!(counts(p, Some("2")), new);

    let releases = sql_rows(
        p,
        None,
        "SELECT DISTINCT release, published_at FROM catalog.versions ORDER BY release",
    );
    let at: Vec<&str> = releases
        .iter()
        .map(|r| r["published_at"].as_str().unwrap())
        .collect();
    assert_eq!(at.len(), 2, "{releases:?}");
    assert!(at[0] < at[1], "two releases in the same second: {at:?}");
    assert_eq!(counts(p, Some(at[0])), old);
    assert_eq!(counts(p, Some(at[1])), new);
    // A date: the release current at the end of that day.
    assert_eq!(counts(p, Some("2999-12-31")), new);

    let early = civhub_in(p, &["sql", "--as-of", "2000-01-01", "SELECT 1"]);
    assert_ne!(early.code, 0);
    assert!(
        early
            .stderr
            .contains("no release at 2000-01-01 (the first release is later)"),
        "{}",
        early.stderr
    );
    let missing = civhub_in(p, &["sql", "--as-of", "9", "SELECT 1"]);
    assert_ne!(missing.code, 0);
    assert!(
        missing.stderr.contains("no release 9"),
        "{}",
        missing.stderr
    );
}

/// The newest version of the Delta table in `dir` (from its log's file names).
fn delta_version(dir: &Path) -> i64 {
    fs_err::read_dir(dir.join("_delta_log"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.strip_suffix(".json")?.parse::<i64>().ok()
        })
        .max()
        .expect("a committed version")
}

#[test]
fn killed_publish_leaves_the_previous_release_readable() {
    let project = published_project();
    let p = project.path();
    let before = every_table(p);
    let members = before["civil_affairs.dibao_member"];

    add_dibao_member(p);
    let ingest = civhub_in(p, &["ingest", "-q", "civil_affairs.dibao_member"]);
    assert_eq!(ingest.code, 0, "{}", ingest.stderr);
    // The test hook aborts the process (no unwinding, no cleanup) right
    // after the second table's commit.
    let out = Command::new(env!("CARGO_BIN_EXE_civhub"))
        .args(["--project", p.to_str().unwrap(), "publish", "-q"])
        .env("CIVHUB_TEST_ABORT_PUBLISH_AFTER", "2")
        .env_remove("CIVHUB_PROJECT")
        .env_remove("CIVHUB_WAREHOUSE")
        .output()
        .unwrap();
    assert!(!out.status.success(), "the publish was not killed");

    // Two tables have a Delta version that no release pins; the current
    // release still reads every table exactly as before.
    let release: serde_json::Value = serde_json::from_str(
        &fs_err::read_to_string(p.join("warehouse/published/_releases/current.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(release["number"], 1);
    let published = p.join("warehouse/published");
    let ahead: Vec<String> = release["tables"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, t)| {
            delta_version(&published.join(t["path"].as_str().unwrap()))
                > t["version"].as_i64().unwrap()
        })
        .map(|(name, _)| name.clone())
        .collect();
    assert_eq!(ahead.len(), 2, "tables written before the kill: {ahead:?}");
    assert_eq!(every_table(p), before);

    // The next publish finishes the job and becomes current; the two tables
    // the killed one wrote are reused, not written again.
    let publish = civhub_in(p, &["publish", "--json"]);
    assert_eq!(publish.code, 0, "{}", publish.stderr);
    let report = publish.json();
    assert_eq!(report["release"], 2);
    assert_eq!(report["new_release"], true);
    for t in report["tables"].as_array().unwrap() {
        if ahead.iter().any(|a| t["table"] == a.as_str()) {
            assert_eq!(t["changed"], false, "{t}");
        }
    }
    let after = every_table(p);
    assert_eq!(after["civil_affairs.dibao_member"], members + 1);
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>()
    );
    assert_eq!(counts(p, Some("1")).0, members);
}
