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
use async_trait::async_trait;
use civhub_warehouse::session::{AsOf, SqlError, SqlSession, open};
use sqllogictest::{AsyncDB, DBOutput, Runner, strict_column_validator};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

// ---------------------------------------------------------------------------
// The .slt files

/// The tables a `civhub run --json` wrote (`changed`) in its publish step.
fn written_tables(run: &serde_json::Value) -> Vec<&str> {
    run["publish"]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["changed"] == true)
        .map(|t| t["table"].as_str().unwrap())
        .collect()
}

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
        let rows = render::rows(&batches).map_err(|e| SqlError::Engine(e.into()))?;
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

// The runner's pieces are civhub-engine's own (`tests/slt/`), so both
// `.slt` suites type and render results alike.
#[path = "../../crates/civhub-engine/tests/it/render.rs"]
mod render;
#[path = "../../crates/civhub-engine/tests/it/slt_types.rs"]
mod slt_types;
use slt_types::ColumnType;

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
         related_codes, published, table_name, readable_by, rows FROM catalog.datasets \
         ORDER BY dataset",
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

    // `--timing`, as psql's \timing: one line per statement on stderr.
    let timed = civhub_in(p, &["sql", "--timing", "--format", "csv", "SELECT 1 AS x"]);
    assert_eq!(timed.code, 0, "{}", timed.stderr);
    assert_eq!(timed.stdout, "x\n1\n");
    let line = regex::Regex::new(r"^Time: \d+\.\d{3} ms$").unwrap();
    assert!(
        timed.stderr.lines().filter(|l| line.is_match(l)).count() == 1,
        "{}",
        timed.stderr
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
    // Matching gives the new member a golden id: three tables to write
    // (the dataset, population.person and population.person_xref).
    let matched = civhub_in(p, &["match", "-q"]);
    assert_eq!(matched.code, 0, "{}", matched.stderr);
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

// ---------------------------------------------------------------------------
// Re-runs: unchanged inputs make no new matching run and no new versions

/// The release `current.json` names: table → Delta version.
fn release_versions(dir: &Path) -> BTreeMap<String, i64> {
    let release: serde_json::Value = serde_json::from_str(
        &fs_err::read_to_string(dir.join("warehouse/published/_releases/current.json")).unwrap(),
    )
    .unwrap();
    release["tables"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, t)| (name.clone(), t["version"].as_i64().unwrap()))
        .collect()
}

/// `civhub run --json` in the project at `dir`.
fn run_json(dir: &Path) -> serde_json::Value {
    let run = civhub_in(dir, &["run", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.json()
}

#[test]
fn rerun_writes_only_tables_whose_inputs_changed() {
    let project = published_project();
    let p = project.path();
    let before = release_versions(p);
    let runs: Vec<String> = ["person", "entity"]
        .iter()
        .map(|k| {
            let c: serde_json::Value = serde_json::from_str(
                &fs_err::read_to_string(p.join(format!("warehouse/mdm/{k}/current.json"))).unwrap(),
            )
            .unwrap();
            c["run_id"].as_str().unwrap().to_string()
        })
        .collect();

    // The same exports again: matching keeps its runs, publish writes nothing.
    let again = run_json(p);
    for (kind, run) in ["person", "entity"].iter().zip(&runs) {
        let m = &again["match"][kind];
        assert_eq!(m["mode"], "unchanged", "{m}");
        assert_eq!(
            (&m["new"], &m["merged"], &m["split"], &m["updated"]),
            (&0.into(), &0.into(), &0.into(), &0.into()),
            "{m}"
        );
        assert_eq!(m["unchanged"], m["golden"], "{m}");
        let current: serde_json::Value = serde_json::from_str(
            &fs_err::read_to_string(p.join(format!("warehouse/mdm/{kind}/current.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(current["run_id"].as_str(), Some(run.as_str()));
    }
    assert_eq!(again["match"]["run_id"].as_str(), Some(runs[0].as_str()));
    let publish = &again["publish"];
    assert_eq!(publish["written"], 0, "{publish}");
    assert_eq!(publish["new_release"], false);
    assert_eq!(publish["release"], 1);
    assert!(
        publish["tables"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["changed"] == false)
    );
    assert_eq!(release_versions(p), before);

    // A forced full re-match over the same exports ends with the same
    // assignments (same golden ids, same digests): the publish after it
    // writes no table and makes no release.
    let full = civhub_in(p, &["match", "--full", "--json"]);
    assert_eq!(full.code, 0, "{}", full.stderr);
    let full = full.json();
    for kind in ["person", "entity"] {
        assert_eq!(full[kind]["mode"], "full", "{}", full[kind]);
        assert_eq!(
            (
                &full[kind]["new"],
                &full[kind]["merged"],
                &full[kind]["split"]
            ),
            (&0.into(), &0.into(), &0.into()),
            "{}",
            full[kind]
        );
    }
    assert_ne!(
        full["run_id"].as_str(),
        Some(runs[0].as_str()),
        "--full made a new matching run"
    );
    let publish = civhub_in(p, &["publish", "--json"]);
    assert_eq!(publish.code, 0, "{}", publish.stderr);
    let publish = publish.json();
    assert_eq!(publish["written"], 0, "{publish}");
    assert_eq!(publish["new_release"], false, "{publish}");
    assert_eq!(publish["release"], 1);
    assert_eq!(release_versions(p), before);

    // One department delivers a new file: its table and what matching
    // derives from its mentions get new versions, nothing else.
    add_dibao_member(p);
    let changed = run_json(p);
    assert_eq!(changed["match"]["person"]["new"], 1, "{}", changed["match"]);
    assert_eq!(changed["match"]["entity"]["mode"], "unchanged");
    let written = written_tables(&changed);
    assert_eq!(
        written,
        [
            "population.person",
            "population.person_xref",
            "civil_affairs.dibao_member"
        ],
        "{}",
        changed["publish"]
    );
    assert_eq!(changed["publish"]["release"], 2);
    let after = release_versions(p);
    for (table, version) in &before {
        let new = after[table];
        if written.contains(&table.as_str()) {
            assert!(new > *version, "{table}: {version} → {new}");
        } else if !table.starts_with("catalog.") {
            assert_eq!(new, *version, "{table} was written again");
        }
    }
    // The catalog tables whose content changed: the new release's versions
    // and the datasets' row counts.
    for table in ["catalog.versions", "catalog.datasets"] {
        assert!(after[table] > before[table], "{table}");
    }
    assert_eq!(counts(p, None).1, counts(p, Some("1")).1 + 1);
}

// ---------------------------------------------------------------------------
// Merge history: a review decision that merges two golden records

#[test]
fn a_merge_decided_in_review_is_published_in_person_history() {
    let project = published_project();
    let p = project.path();
    let history = |as_of: Option<&str>| {
        sql_rows(
            p,
            as_of,
            "SELECT action, gid, other_gid, mentions FROM population.person_history ORDER BY gid",
        )
    };
    assert_eq!(history(None), Vec::<serde_json::Value>::new());

    // A pair waiting for review whose mentions are two golden records.
    let queue = civhub_in(p, &["review", "--json"]);
    assert_eq!(queue.code, 0, "{}", queue.stderr);
    let queue = queue.json();
    let pair = queue["pending"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["a"]["gid"] != x["b"]["gid"])
        .unwrap_or_else(|| panic!("a review pair across two golden records: {queue:#}"))
        .clone();
    let (a, b) = (
        pair["mention_a"].as_str().unwrap(),
        pair["mention_b"].as_str().unwrap(),
    );
    let gids = [
        pair["a"]["gid"].as_str().unwrap().to_string(),
        pair["b"]["gid"].as_str().unwrap().to_string(),
    ];
    let decided = civhub_in(p, &["review", "decide", a, b, "same", "--by", "tester"]);
    assert_eq!(decided.code, 0, "{}", decided.stderr);

    let run = run_json(p);
    assert_eq!(run["match"]["person"]["merged"], 1, "{}", run["match"]);
    let written = written_tables(&run);
    assert!(
        written.contains(&"population.person_history"),
        "{written:?}"
    );

    // One merge: one of the two golden ids absorbed the other, and the
    // merged-away id is gone from population.person.
    let rows = history(None);
    assert_eq!(rows.len(), 1, "{rows:?}");
    let h = &rows[0];
    assert_eq!(h["action"], "merged", "{h}");
    let mut named = [
        h["gid"].as_str().unwrap().to_string(),
        h["other_gid"].as_str().unwrap().to_string(),
    ];
    named.sort();
    let mut expected = gids.clone();
    expected.sort();
    assert_eq!(named, expected, "{h}");
    assert!(h["mentions"].as_u64().unwrap() >= 1, "{h}");
    let alive = sql_rows(
        p,
        None,
        &format!(
            "SELECT gid FROM population.person WHERE gid IN ('{}', '{}')",
            gids[0], gids[1]
        ),
    );
    assert_eq!(alive.len(), 1, "{alive:?}");
    // Both mentions now point at the surviving record.
    let xref = sql_rows(
        p,
        None,
        &format!(
            "SELECT DISTINCT gid FROM population.person_xref WHERE mention_id IN ('{a}', '{b}')"
        ),
    );
    assert_eq!(xref, alive, "{xref:?}");
    // Release 1 still reads the history as it was.
    assert_eq!(history(Some("1")), Vec::<serde_json::Value>::new());
}

// ---------------------------------------------------------------------------
// Freshness is judged when a query runs

/// `civhub sql --format json query` over the shared published warehouse,
/// with the clock at `now` (the test hook `CIVHUB_TEST_NOW`) when given.
fn sql_at(now: Option<&str>, query: &str) -> Vec<serde_json::Value> {
    let warehouse = published_warehouse();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_civhub"));
    cmd.arg("--project")
        .arg(repo())
        .args(["--warehouse", warehouse.to_str().unwrap()])
        .args(["sql", "--format", "json", query])
        .env_remove("CIVHUB_PROJECT")
        .env_remove("CIVHUB_WAREHOUSE")
        .env_remove("CIVHUB_TEST_NOW");
    if let Some(now) = now {
        cmd.env("CIVHUB_TEST_NOW", now);
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{query} at {now:?}:\n{stderr}");
    serde_json::from_slice::<serde_json::Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn overdue_is_judged_when_the_query_runs() {
    let count = |now: Option<&str>, filter: &str| -> u64 {
        sql_at(
            now,
            &format!("SELECT count(*) AS n FROM catalog.datasets WHERE {filter}"),
        )[0]["n"]
            .as_u64()
            .unwrap()
    };
    let release =
        |now| sql_at(now, "SELECT max(release) AS r FROM catalog.versions")[0]["r"].clone();
    let published = release(None);
    let day = |days: i64| {
        (chrono::Utc::now() + chrono::Duration::days(days))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };

    // Just published: fresh everywhere.
    assert_eq!(count(None, "overdue"), 0);
    // Two days later, with no new data and no new publish, every daily
    // dataset is overdue and nothing with a longer cycle is.
    let daily = count(None, "max_age_days = 1");
    assert!(daily > 0);
    assert_eq!(count(Some(&day(2)), "overdue"), daily);
    assert_eq!(count(Some(&day(2)), "overdue AND max_age_days > 1"), 0);
    // A year and more later, everything with a deadline is; 不定时 never is.
    let (later, cycled) = (day(400), count(None, "max_age_days IS NOT NULL"));
    assert_eq!(count(Some(&later), "overdue"), cycled);
    assert_eq!(
        count(Some(&later), "overdue AND update_cycle = '不定时'"),
        0
    );
    // The same release all along.
    assert_eq!(release(Some(&later)), published);
}
