//! Where a check's results live: three append-only Delta tables in the
//! published warehouse — `checks.<id>_runs` (one row per run: scope,
//! release read, table versions, parameters, figures),
//! `checks.<id>_households` (every household each run checked) and
//! `checks.<id>_findings` (every finding of every run, with its state
//! against the previous run and its review) — committed into a new release
//! so `civhub sql` (and `--as-of`) sees them beside the tables they came from.

use crate::config::Check;
use crate::run::{CheckRun, Finding};
use arrow::array::{Array, ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use civhub_ingest::config::Project;
use civhub_warehouse::delta;
use civhub_warehouse::release::{self, Release, ReleasedTable};
use datafusion::prelude::SessionContext;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::protocol::SaveMode;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

/// The published names of a check's tables.
pub fn table_names(check: &str) -> [String; 3] {
    [
        format!("checks.{check}_runs"),
        format!("checks.{check}_households"),
        format!("checks.{check}_findings"),
    ]
}

fn dir(project: &Project, qualified: &str) -> PathBuf {
    let (schema, table) = qualified.split_once('.').unwrap_or(("checks", qualified));
    release::published_dir(&project.warehouse)
        .join(schema)
        .join(table)
}

fn s(v: Vec<Option<String>>) -> ArrayRef {
    Arc::new(StringArray::from(v))
}

fn findings_batch(run: &CheckRun) -> Result<RecordBatch, String> {
    let all: Vec<&Finding> = run.findings.iter().chain(run.resolved.iter()).collect();
    let col = |f: &dyn Fn(&Finding) -> Option<String>| s(all.iter().map(|x| f(x)).collect());
    let names = [
        "run_id",
        "check_date",
        "finding_id",
        "rule",
        "rule_title",
        "severity",
        "household_id",
        "household_label",
        "district",
        "member_gid",
        "member_name",
        "value",
        "threshold",
        "detail",
        "source_dataset",
        "source_key",
        "source_file",
        "source_row",
        "link",
        "probability",
        "parameters",
        "table_versions",
        "state",
        "first_seen_run",
        "review_status",
        "review_reason",
        "reviewed_by",
        "reviewed_at",
    ];
    let columns: Vec<ArrayRef> = vec![
        col(&|_| Some(run.run_id.clone())),
        col(&|_| Some(run.check_date.clone())),
        col(&|f| Some(f.finding_id.clone())),
        col(&|f| Some(f.rule.clone())),
        col(&|f| Some(f.rule_title.clone())),
        col(&|f| Some(f.severity.clone())),
        col(&|f| Some(f.household_id.clone())),
        col(&|f| Some(f.household_label.clone())),
        col(&|f| Some(f.district.clone())),
        col(&|f| f.member_gid.clone()),
        col(&|f| Some(f.member_name.clone())),
        col(&|f| Some(f.value.clone())),
        col(&|f| Some(f.threshold.clone())),
        col(&|f| Some(f.detail.clone())),
        col(&|f| Some(f.source_dataset.clone())),
        col(&|f| Some(f.source_key.clone())),
        col(&|f| f.source_file.clone()),
        Arc::new(Int64Array::from(
            all.iter().map(|f| f.source_row).collect::<Vec<_>>(),
        )),
        col(&|f| f.link.clone()),
        Arc::new(Float64Array::from(
            all.iter().map(|f| f.probability).collect::<Vec<_>>(),
        )),
        col(&|f| Some(f.parameters.clone())),
        col(&|f| Some(f.table_versions.clone())),
        col(&|f| Some(f.state.clone())),
        col(&|f| Some(f.first_seen_run.clone())),
        col(&|f| Some(f.review_status.clone())),
        col(&|f| f.review_reason.clone()),
        col(&|f| f.reviewed_by.clone()),
        col(&|f| f.reviewed_at.clone()),
    ];
    batch(&names, columns)
}

fn batch(names: &[&str], columns: Vec<ArrayRef>) -> Result<RecordBatch, String> {
    let fields: Vec<Field> = names
        .iter()
        .zip(&columns)
        .map(|(n, c)| Field::new(*n, c.data_type().clone(), true))
        .collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(|e| e.to_string())
}

fn households_batch(run: &CheckRun) -> Result<RecordBatch, String> {
    let h = &run.households;
    batch(
        &[
            "run_id",
            "household_id",
            "household_label",
            "district",
            "members",
            "findings",
            "flagged",
            "rules",
        ],
        vec![
            s(h.iter().map(|_| Some(run.run_id.clone())).collect()),
            s(h.iter().map(|x| Some(x.household_id.clone())).collect()),
            s(h.iter().map(|x| Some(x.label.clone())).collect()),
            s(h.iter().map(|x| Some(x.district.clone())).collect()),
            Arc::new(Int64Array::from(
                h.iter().map(|x| x.members as i64).collect::<Vec<_>>(),
            )),
            Arc::new(Int64Array::from(
                h.iter().map(|x| x.findings as i64).collect::<Vec<_>>(),
            )),
            Arc::new(BooleanArray::from(
                h.iter().map(|x| x.findings > 0).collect::<Vec<_>>(),
            )),
            s(h.iter().map(|x| Some(x.rules.join(","))).collect()),
        ],
    )
}

fn runs_batch(run: &CheckRun, report_xlsx: Option<&str>) -> Result<RecordBatch, String> {
    let by_rule: BTreeMap<&str, usize> = run
        .rules
        .iter()
        .map(|r| (r.rule.as_str(), r.findings))
        .collect();
    let one = |v: Option<String>| s(vec![v]);
    let int = |v: usize| -> ArrayRef { Arc::new(Int64Array::from(vec![v as i64])) };
    batch(
        &[
            "run_id",
            "check",
            "started_at",
            "check_date",
            "district",
            "household",
            "release",
            "table_versions",
            "parameters",
            "households_checked",
            "households_flagged",
            "findings",
            "new",
            "unchanged",
            "resolved",
            "findings_by_rule",
            "report_xlsx",
            "duration_ms",
        ],
        vec![
            one(Some(run.run_id.clone())),
            one(Some(run.check.clone())),
            one(Some(run.started_at.clone())),
            one(Some(run.check_date.clone())),
            one(run.district.clone()),
            one(run.household.clone()),
            int(run.release as usize),
            one(serde_json::to_string(&run.table_versions).ok()),
            one(serde_json::to_string(&run.parameters).ok()),
            int(run.households.len()),
            int(run.flagged()),
            int(run.findings.len()),
            int(run.count_state("new")),
            int(run.count_state("unchanged")),
            int(run.resolved.len()),
            one(serde_json::to_string(&by_rule).ok()),
            one(report_xlsx.map(str::to_string)),
            int(run.duration_ms as usize),
        ],
    )
}

async fn append(
    project: &Project,
    qualified: &str,
    batch: RecordBatch,
    run_id: &str,
) -> Result<(i64, u64), String> {
    let path = dir(project, qualified);
    let table = match delta::open(&path).await.map_err(|e| e.to_string())? {
        Some(t) => t,
        None => {
            deltalake::DeltaTableBuilder::from_url(delta::url(&path).map_err(|e| e.to_string())?)
                .map_err(|e| e.to_string())?
                .build()
                .map_err(|e| e.to_string())?
        }
    };
    let props = CommitProperties::default()
        .with_metadata([(delta::RUN_KEY.to_string(), serde_json::json!(run_id))]);
    let written = table
        .write(vec![batch])
        .with_save_mode(SaveMode::Append)
        .with_table_name(qualified)
        .with_commit_properties(props)
        .await
        .map_err(|e| format!("cannot write `{qualified}`: {e}"))?;
    let version = written.version().map(|v| v as i64).unwrap_or(0);
    let rows = civhub_warehouse::publish::count_rows(&path, version)
        .await
        .map_err(|e| e.to_string())?;
    Ok((version, rows))
}

/// Appends the run to the check's tables and commits a new release holding
/// them beside the latest release's tables. Returns the release number.
pub async fn publish(
    project: &Project,
    run: &CheckRun,
    report_xlsx: Option<&str>,
) -> Result<u64, String> {
    let [runs, households, findings] = table_names(&run.check);
    let mut written = Vec::new();
    for (name, b) in [
        (findings, findings_batch(run)?),
        (households, households_batch(run)?),
        (runs, runs_batch(run, report_xlsx)?),
    ] {
        let (version, rows) = append(project, &name, b, &run.run_id).await?;
        written.push((name, version, rows));
    }
    let previous = release::current(&project.warehouse)
        .ok_or("nothing is published: run `civhub publish` first")?;
    let mut tables = previous.tables.clone();
    for t in tables.values_mut() {
        t.changed = false;
    }
    for (name, version, rows) in written {
        tables.insert(
            name.clone(),
            ReleasedTable {
                path: name.replacen('.', "/", 1),
                version,
                fingerprint: format!("check run {}", run.run_id),
                rows,
                changed: true,
                restricted: None,
            },
        );
    }
    let r = Release {
        number: previous.number + 1,
        run_id: run.run_id.clone(),
        published_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        tables,
    };
    release::commit(&project.warehouse, &r)
        .map_err(|e| format!("cannot commit the release: {e}"))?;
    Ok(r.number)
}

/// A private session over the latest versions of the check's tables.
async fn history_context(project: &Project, check: &str) -> Result<Option<SessionContext>, String> {
    let ctx = SessionContext::new();
    let mut any = false;
    for name in table_names(check) {
        let path = dir(project, &name);
        let Some(table) = delta::open(&path).await.map_err(|e| e.to_string())? else {
            continue;
        };
        table
            .update_datafusion_session(&ctx.state())
            .map_err(|e| e.to_string())?;
        let provider = table.table_provider().await.map_err(|e| e.to_string())?;
        let short = name.split_once('.').map(|(_, t)| t).unwrap_or(&name);
        let short = short.strip_prefix(&format!("{check}_")).unwrap_or(short);
        ctx.register_table(short, provider)
            .map_err(|e| e.to_string())?;
        any = true;
    }
    Ok(any.then_some(ctx))
}

fn col_strings(b: &RecordBatch, name: &str) -> Vec<Option<String>> {
    let n = b.num_rows();
    let Some(c) = b.column_by_name(name) else {
        return vec![None; n];
    };
    let Ok(c) = cast(c, &DataType::Utf8) else {
        return vec![None; n];
    };
    let a = c.as_any().downcast_ref::<StringArray>().expect("utf8");
    (0..n)
        .map(|i| (!a.is_null(i)).then(|| a.value(i).to_string()))
        .collect()
}

fn read_findings(batches: &[RecordBatch]) -> Vec<Finding> {
    let mut out = Vec::new();
    for b in batches {
        let n = b.num_rows();
        let g = |name: &str| col_strings(b, name);
        let (id, rule, title, sev, hh, label, district, gid, name) = (
            g("finding_id"),
            g("rule"),
            g("rule_title"),
            g("severity"),
            g("household_id"),
            g("household_label"),
            g("district"),
            g("member_gid"),
            g("member_name"),
        );
        let (value, threshold, detail, ds, key, file, row, link, prob) = (
            g("value"),
            g("threshold"),
            g("detail"),
            g("source_dataset"),
            g("source_key"),
            g("source_file"),
            g("source_row"),
            g("link"),
            g("probability"),
        );
        let (params, versions, state, first, status, reason, by, at) = (
            g("parameters"),
            g("table_versions"),
            g("state"),
            g("first_seen_run"),
            g("review_status"),
            g("review_reason"),
            g("reviewed_by"),
            g("reviewed_at"),
        );
        for i in 0..n {
            let d = |v: &Vec<Option<String>>| v[i].clone().unwrap_or_default();
            out.push(Finding {
                finding_id: d(&id),
                rule: d(&rule),
                rule_title: d(&title),
                severity: d(&sev),
                household_id: d(&hh),
                household_label: d(&label),
                district: d(&district),
                member_gid: gid[i].clone(),
                member_name: d(&name),
                value: d(&value),
                threshold: d(&threshold),
                detail: d(&detail),
                source_dataset: d(&ds),
                source_key: d(&key),
                source_file: file[i].clone(),
                source_row: row[i].as_deref().and_then(|s| s.parse().ok()),
                link: link[i].clone(),
                probability: prob[i].as_deref().and_then(|s| s.parse().ok()),
                parameters: d(&params),
                table_versions: d(&versions),
                state: d(&state),
                first_seen_run: d(&first),
                review_status: d(&status),
                review_reason: reason[i].clone(),
                reviewed_by: by[i].clone(),
                reviewed_at: at[i].clone(),
            });
        }
    }
    out
}

/// The findings each household in `scope` had at the last run that checked
/// it (resolved ones excluded): what this run is compared against.
pub async fn previous_findings(
    project: &Project,
    check: &Check,
    scope: &BTreeSet<String>,
) -> Result<Vec<Finding>, String> {
    let Some(ctx) = history_context(project, &check.id).await? else {
        return Ok(Vec::new());
    };
    if ctx.table_exist("households").unwrap_or(false)
        && ctx.table_exist("findings").unwrap_or(false)
    {
        let sql = "WITH last AS (
              SELECT household_id, max(run_id) AS run_id FROM households GROUP BY household_id)
            SELECT f.* FROM findings f JOIN last l
              ON l.household_id = f.household_id AND l.run_id = f.run_id
            WHERE f.state <> 'resolved'";
        let batches = ctx
            .sql(sql)
            .await
            .map_err(|e| e.to_string())?
            .collect()
            .await
            .map_err(|e| e.to_string())?;
        Ok(read_findings(&batches)
            .into_iter()
            .filter(|f| scope.contains(&f.household_id))
            .collect())
    } else {
        Ok(Vec::new())
    }
}

/// Every finding id of the check's latest runs (for validating reviews):
/// id → (household, rule, state).
pub async fn known_findings(
    project: &Project,
    check: &str,
) -> Result<BTreeMap<String, (String, String)>, String> {
    let Some(ctx) = history_context(project, check).await? else {
        return Ok(BTreeMap::new());
    };
    if !ctx.table_exist("findings").unwrap_or(false) {
        return Ok(BTreeMap::new());
    }
    let batches = ctx
        .sql("SELECT DISTINCT finding_id, household_id, rule FROM findings")
        .await
        .map_err(|e| e.to_string())?
        .collect()
        .await
        .map_err(|e| e.to_string())?;
    let mut out = BTreeMap::new();
    for b in &batches {
        let (id, hh, rule) = (
            col_strings(b, "finding_id"),
            col_strings(b, "household_id"),
            col_strings(b, "rule"),
        );
        for i in 0..b.num_rows() {
            if let Some(k) = id[i].clone() {
                out.insert(
                    k,
                    (
                        hh[i].clone().unwrap_or_default(),
                        rule[i].clone().unwrap_or_default(),
                    ),
                );
            }
        }
    }
    Ok(out)
}
