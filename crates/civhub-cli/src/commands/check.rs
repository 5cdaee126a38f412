//! `civhub check`: run a cross-check declared in `pipelines/checks/`, explain
//! one household, or record a caseworker's review of a finding. Each run
//! (an explanation too) is audited as the local operator's
//! (`action = 'check'`, the tables the check reads, its findings).

use super::{load, print_json};
use crate::CliError;
use crate::args::{CheckArgs, Global};
use crate::output::{self, thousands};
use civhub_checks::config::{self, Check};
use civhub_checks::review::{self, Review};
use civhub_checks::run::{CheckError, CheckRun, Options};
use civhub_checks::{report, store};
use civhub_ingest::config::Project;
use civhub_warehouse::session::{AsOf, SqlError};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::ExitCode;

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::msg(e.to_string()))
}

pub fn run(g: &Global, a: CheckArgs) -> Result<ExitCode, CliError> {
    let project = load(g)?;
    if a.list {
        return list(&project, a.json);
    }
    let id = a.check.clone().unwrap_or_default();
    let check = config::load(&project, &id).map_err(CliError::Config)?;
    if let Some(finding) = &a.review {
        return record_review(&project, &check, finding, &a);
    }
    let date = match &a.date {
        Some(d) => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
            CliError::with_hint(format!("`{d}` is not a date"), "write --date as YYYY-MM-DD")
        })?,
        None => chrono::Local::now().date_naive(),
    };
    let opts = Options {
        district: a.district.clone(),
        household: a.explain.clone().or(a.household.clone()),
        as_of: a.as_of.as_deref().map(AsOf::parse).unwrap_or(AsOf::Latest),
        date,
        keep_evaluations: a.explain.is_some(),
    };
    let (audit, who) = super::sql::local_operator(&project)?;
    let statement = civhub_serve::audit::check_statement(
        &check.id,
        a.explain.is_some(),
        opts.district.as_deref(),
        opts.household.as_deref(),
    );
    let rt = runtime()?;
    let t0 = std::time::Instant::now();
    let spinner = output::spinner(g.quiet || a.json, &format!("checking {id}"));
    let result = rt.block_on(civhub_checks::evaluate(&project, &check, &opts));
    spinner.finish_and_clear();
    audit.record(&civhub_serve::audit::Entry::new(
        &who,
        "check",
        &statement,
        civhub_serve::http::tables_read(&check),
        result.as_ref().map_or(0, |r| r.findings.len() as u64),
        result.as_ref().err().map(ToString::to_string),
        t0,
    ));
    let run = result.map_err(check_error)?;
    if a.explain.is_some() {
        if a.json {
            print_json(&run)?;
        } else {
            output::out(&explain(&check, &run));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut reports = None;
    let mut published = None;
    if !a.dry_run {
        let dir = a
            .report_dir
            .clone()
            .unwrap_or_else(|| report::default_dir(&project.warehouse, &run));
        let (xlsx, html) = report::write(&check, &run, &dir).map_err(CliError::msg)?;
        let n = rt
            .block_on(store::publish(
                &project,
                &run,
                Some(&xlsx.display().to_string()),
            ))
            .map_err(|e| {
                CliError::with_hint(
                    format!("cannot publish the findings: {e}"),
                    "the reports were written; the published release is unchanged",
                )
            })?;
        reports = Some((xlsx, html));
        published = Some(n);
    }
    if a.json {
        let by_rule: BTreeMap<&str, usize> = run
            .rules
            .iter()
            .map(|r| (r.rule.as_str(), r.findings))
            .collect();
        print_json(&serde_json::json!({
            "check": run.check,
            "run_id": run.run_id,
            "check_date": run.check_date,
            "release": run.release,
            "published_release": published,
            "district": run.district,
            "household": run.household,
            "households_checked": run.households.len(),
            "households_flagged": run.flagged(),
            "households_manual_only": run.manual_only(),
            "findings": run.findings.len(),
            "new": run.count_state("new"),
            "unchanged": run.count_state("unchanged"),
            "resolved": run.resolved.len(),
            "findings_by_rule": by_rule,
            "flagged_households": run.households.iter().filter(|h| h.findings > 0).map(|h| serde_json::json!({"household_id": h.household_id, "district": h.district, "rules": h.rules})).collect::<Vec<_>>(),
            "report_xlsx": reports.as_ref().map(|r| r.0.display().to_string()),
            "report_html": reports.as_ref().map(|r| r.1.display().to_string()),
            "duration_ms": run.duration_ms,
        }))?;
    } else {
        let noun = check.subjects.noun.as_deref().unwrap_or("households");
        output::out(&summary(&run, noun, published, reports.as_ref()));
    }
    Ok(ExitCode::SUCCESS)
}

fn check_error(e: CheckError) -> CliError {
    match e {
        CheckError::Sql(SqlError::NothingPublished) => CliError::with_hint(
            "nothing is published yet",
            "run `civhub run` (or `civhub publish`) before a check",
        ),
        CheckError::Sql(SqlError::NoRelease(what)) => CliError::with_hint(
            format!("no release {what}"),
            "`SELECT release, published_at FROM catalog.versions GROUP BY 1, 2` lists them",
        ),
        CheckError::Scope { message, hint } => CliError::Message { message, hint },
        CheckError::Rule {
            file,
            line,
            what,
            message,
        } => CliError::with_hint(
            format!("{file}:{line}: {what}: {message}"),
            "fix the SQL in the check file; `civhub sql` runs the same read-only session",
        ),
        other => CliError::msg(other.to_string()),
    }
}

fn list(project: &Project, json: bool) -> Result<ExitCode, CliError> {
    let mut checks: Vec<Check> = Vec::new();
    for id in config::list(project) {
        checks.push(config::load(project, &id).map_err(CliError::Config)?);
    }
    if json {
        let v: Vec<_> = checks
            .iter()
            .map(|c| {
                serde_json::json!({
                    "check": c.id, "title": c.title, "file": c.file,
                    "rules": c.rules.iter().map(|r| serde_json::json!({"rule": r.id, "title": r.title, "severity": r.severity.as_str()})).collect::<Vec<_>>(),
                    "parameters": c.parameters.keys().collect::<Vec<_>>(),
                })
            })
            .collect();
        print_json(&v)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut s = String::new();
    if checks.is_empty() {
        s.push_str("no checks: add a file under pipelines/checks/ (see docs/CHECKS.md)\n");
    }
    for c in &checks {
        let _ = writeln!(s, "{}  {}  ({})", c.id, c.title, c.file);
        for r in &c.rules {
            let _ = writeln!(s, "  {:<18} {:<7} {}", r.id, r.severity.as_str(), r.title);
        }
    }
    output::out(s.trim_end());
    Ok(ExitCode::SUCCESS)
}

fn record_review(
    project: &Project,
    check: &Check,
    finding: &str,
    a: &CheckArgs,
) -> Result<ExitCode, CliError> {
    let rt = runtime()?;
    let known = rt
        .block_on(store::known_findings(project, &check.id))
        .map_err(CliError::msg)?;
    let Some((household, rule)) = known.get(finding) else {
        let ids: Vec<&str> = known.keys().map(String::as_str).collect();
        return Err(CliError::Message {
            message: format!("no finding `{finding}` in check `{}`", check.id),
            hint: civhub_ingest::config::diag::hint_for(finding, &ids).or_else(|| {
                Some(format!(
                    "finding ids are in the report and in `SELECT finding_id, household_id, rule FROM checks.{}_findings`",
                    check.id
                ))
            }),
        });
    };
    let r = Review {
        finding_id: finding.to_string(),
        status: a.status.clone().unwrap_or_default(),
        reason: a.reason.clone(),
        by: a
            .by
            .clone()
            .or_else(|| std::env::var("USER").ok())
            .unwrap_or_default(),
        at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    };
    let path = review::record(project, &check.id, &r).map_err(|e| {
        CliError::with_hint(
            e,
            "e.g. `--status dismissed --reason \"车辆已于2026年9月过户\"`",
        )
    })?;
    if a.json {
        print_json(&r)?;
    } else {
        output::out(&format!(
            "recorded: {finding} ({household}, {rule}) → {}{}\n  in {}; the next `civhub check {}` carries it onto the finding",
            r.status,
            r.reason
                .as_deref()
                .map(|x| format!(" — {x}"))
                .unwrap_or_default(),
            path.display(),
            check.id
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// The human summary of a run.
pub fn summary(
    run: &CheckRun,
    noun: &str,
    published: Option<u64>,
    reports: Option<&(std::path::PathBuf, std::path::PathBuf)>,
) -> String {
    let mut s = String::new();
    let scope = match (&run.district, &run.household) {
        (_, Some(h)) => format!("household {h}"),
        (Some(d), None) => d.clone(),
        (None, None) => "all districts".into(),
    };
    let _ = writeln!(
        s,
        "check {} — {} ({scope}; release {}; parameters as of {})",
        run.check, run.title, run.release, run.check_date
    );
    let w = run
        .rules
        .iter()
        .map(|r| r.rule.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let _ = writeln!(
        s,
        "{:<w$}  {:<8} {:>9} {:>8} {:>10}  title",
        "rule", "severity", "evaluated", "findings", "households"
    );
    for r in &run.rules {
        let _ = writeln!(
            s,
            "{:<w$}  {:<8} {:>9} {:>8} {:>10}  {}",
            r.rule,
            r.severity,
            thousands(r.evaluated as u64),
            thousands(r.findings as u64),
            thousands(r.households as u64),
            r.title
        );
    }
    let manual = run.manual_only();
    let _ = writeln!(
        s,
        "{} {noun} checked · {} flagged{} · {} findings: {} new, {} unchanged, {} resolved since the last run",
        thousands(run.households.len() as u64),
        thousands(run.flagged() as u64),
        if manual > 0 {
            format!(" ({manual} only for a manual identity check)")
        } else {
            String::new()
        },
        thousands(run.findings.len() as u64),
        thousands(run.count_state("new") as u64),
        thousands(run.count_state("unchanged") as u64),
        thousands(run.resolved.len() as u64),
    );
    let reviewed = run
        .findings
        .iter()
        .filter(|f| f.review_status != "open")
        .count();
    if reviewed > 0 {
        let _ = writeln!(s, "{reviewed} of them carry a caseworker's review");
    }
    if let Some((x, h)) = reports {
        let _ = writeln!(s, "report: {}\n        {}", x.display(), h.display());
    }
    match published {
        Some(n) => {
            let _ = writeln!(
                s,
                "published: checks.{0}_findings, checks.{0}_households, checks.{0}_runs (release {n})",
                run.check
            );
        }
        None => {
            let _ = writeln!(s, "dry run: nothing written");
        }
    }
    let _ = write!(s, "took {:.1}s", run.duration_ms as f64 / 1000.0);
    s
}

/// Every rule's evaluation for one household.
pub fn explain(check: &Check, run: &CheckRun) -> String {
    let mut s = String::new();
    let Some(h) = run.households.first() else {
        return "no such household".into();
    };
    let _ = writeln!(
        s,
        "household {} {} ({}) — {} members, release {}, parameters as of {}",
        h.household_id, h.label, h.district, h.members, run.release, run.check_date
    );
    let names: BTreeMap<Option<&str>, &str> = run
        .members
        .iter()
        .map(|m| (m.member_gid.as_deref(), m.name.as_str()))
        .collect();
    for m in &run.members {
        let _ = writeln!(
            s,
            "  member {} {}",
            m.name,
            m.member_gid.as_deref().unwrap_or("(no golden id)")
        );
    }
    for rule in &check.rules {
        let evals: Vec<_> = run
            .evaluations
            .iter()
            .filter(|e| e.rule == rule.id)
            .collect();
        let flagged = evals.iter().filter(|e| e.flagged).count();
        let verdict = if flagged > 0 {
            format!("FLAGGED ({flagged})")
        } else if evals.is_empty() {
            "passed — no record in the published data".into()
        } else {
            format!(
                "passed ({} records looked at, none over the threshold)",
                evals.len()
            )
        };
        let _ = writeln!(
            s,
            "\n{} [{}] {} — {verdict}",
            rule.id,
            rule.severity.as_str(),
            rule.title
        );
        if let Some(sum) = run.rules.iter().find(|r| r.rule == rule.id)
            && !sum.parameters.is_empty()
        {
            let p: Vec<String> = sum
                .parameters
                .iter()
                .filter(|(k, _)| !config::BUILTIN_PARAMETERS.contains(&k.as_str()))
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            if !p.is_empty() {
                let _ = writeln!(s, "  parameters: {}", p.join("; "));
            }
        }
        for e in evals {
            let who = names.get(&e.member_gid.as_deref()).copied().unwrap_or("?");
            let link = match (e.link.as_deref(), e.probability) {
                (Some("probabilistic"), Some(p)) => format!(", linked probabilistically ({p:.3})"),
                (Some(l), _) => format!(", linked by {l}"),
                (None, _) => String::new(),
            };
            let detail = if e.detail.is_empty() {
                String::new()
            } else {
                format!("\n      {}", e.detail)
            };
            let _ = writeln!(
                s,
                "  {} {who}: {}\n      threshold: {}{detail}\n      source: {} {}{}{link}",
                if e.flagged { "✗" } else { "✓" },
                e.value,
                e.threshold,
                e.source_dataset,
                e.source_file.as_deref().unwrap_or(""),
                e.source_row.map(|r| format!(":{r}")).unwrap_or_default(),
            );
        }
    }
    s.trim_end().to_string()
}
