//! Running a check: subjects, parameters in force, definitions, every rule's
//! evaluations, findings with stable ids, the comparison with the previous
//! run and the reviewers' decisions.

use crate::config::{Check, ParamValue, RULE_COLUMNS, Severity, placeholders};
use crate::review;
use crate::store;
use arrow::array::{Array, ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use civhub_ingest::config::Project;
use civhub_warehouse::session::{self, AsOf, SqlError, SqlSession};
use datafusion::datasource::MemTable;
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::DFParser;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;

/// Why a check did not run.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// Reading the published tables failed.
    #[error(transparent)]
    Sql(#[from] SqlError),
    /// A rule, a definition or the subjects query is wrong.
    #[error("{file}:{line}: {what}: {message}")]
    Rule {
        /// The check file.
        file: String,
        /// Line of the SQL.
        line: usize,
        /// Which query.
        what: String,
        /// What went wrong.
        message: String,
    },
    /// `--district` or `--household` names nothing.
    #[error("{message}")]
    Scope {
        /// What is unknown.
        message: String,
        /// Close names.
        hint: Option<String>,
    },
    /// Reading or writing the check's tables, reports or decisions failed.
    #[error("{0}")]
    Io(String),
}

impl From<DataFusionError> for CheckError {
    fn from(e: DataFusionError) -> Self {
        CheckError::Sql(SqlError::Engine(e))
    }
}

/// How to run a check.
#[derive(Debug, Clone)]
pub struct Options {
    /// Only households of this district.
    pub district: Option<String>,
    /// Only this household.
    pub household: Option<String>,
    /// Which release to read.
    pub as_of: AsOf,
    /// The date parameters are resolved at.
    pub date: chrono::NaiveDate,
    /// Keep every evaluation (for `--explain`), not only findings.
    pub keep_evaluations: bool,
}

/// One row a rule returned: evidence looked at, flagged or not.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    /// Rule id.
    pub rule: String,
    /// Household.
    pub household_id: String,
    /// Member's golden id.
    pub member_gid: Option<String>,
    /// Whether it breaks the rule.
    pub flagged: bool,
    /// The values found.
    pub value: String,
    /// The threshold.
    pub threshold: String,
    /// More about the evidence.
    pub detail: String,
    /// Dataset of the evidence record.
    pub source_dataset: String,
    /// Its record key.
    pub source_key: String,
    /// Its source file.
    pub source_file: Option<String>,
    /// Its row in the file.
    pub source_row: Option<i64>,
    /// How the evidence record links to the golden id (id, probabilistic, …).
    pub link: Option<String>,
    /// The link's probability, for probabilistic links.
    pub probability: Option<f64>,
}

/// A finding: a flagged evaluation, with its identity and review.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Finding {
    /// Stable id: the same evidence for the same member gives the same id on every run.
    pub finding_id: String,
    /// Rule id.
    pub rule: String,
    /// Rule title.
    pub rule_title: String,
    /// Severity.
    pub severity: String,
    /// Household.
    pub household_id: String,
    /// The household's label (head of household).
    pub household_label: String,
    /// District.
    pub district: String,
    /// Member's golden id.
    pub member_gid: Option<String>,
    /// Member's name as listed.
    pub member_name: String,
    /// The values found.
    pub value: String,
    /// The threshold.
    pub threshold: String,
    /// More about the evidence.
    pub detail: String,
    /// Dataset of the evidence.
    pub source_dataset: String,
    /// Record key of the evidence.
    pub source_key: String,
    /// Source file of the evidence.
    pub source_file: Option<String>,
    /// Row of the evidence in its file.
    pub source_row: Option<i64>,
    /// How the evidence links to the golden id.
    pub link: Option<String>,
    /// The link's probability.
    pub probability: Option<f64>,
    /// Parameter values used (JSON).
    pub parameters: String,
    /// Versions of the tables the rule read (JSON).
    pub table_versions: String,
    /// new, unchanged or resolved (against the previous run).
    pub state: String,
    /// Run that first found it.
    pub first_seen_run: String,
    /// open, confirmed or dismissed.
    pub review_status: String,
    /// Why (for dismissed).
    pub review_reason: Option<String>,
    /// Who reviewed.
    pub reviewed_by: Option<String>,
    /// When.
    pub reviewed_at: Option<String>,
}

/// A household checked.
#[derive(Debug, Clone, Serialize)]
pub struct Household {
    /// Id.
    pub household_id: String,
    /// Label.
    pub label: String,
    /// District.
    pub district: String,
    /// Members listed.
    pub members: usize,
    /// Findings (excluding resolved).
    pub findings: usize,
    /// Rules with findings.
    pub rules: Vec<String>,
}

/// A member as listed.
#[derive(Debug, Clone, Serialize)]
pub struct Member {
    /// Household.
    pub household_id: String,
    /// Golden id.
    pub member_gid: Option<String>,
    /// Name.
    pub name: String,
}

/// Per-rule figures.
#[derive(Debug, Clone, Serialize)]
pub struct RuleSummary {
    /// Rule id.
    pub rule: String,
    /// Title.
    pub title: String,
    /// Severity.
    pub severity: String,
    /// Evidence rows looked at.
    pub evaluated: usize,
    /// Findings.
    pub findings: usize,
    /// Households with findings.
    pub households: usize,
    /// Parameters used (name → value shown).
    pub parameters: BTreeMap<String, String>,
}

/// A finished check run.
#[derive(Debug, Clone, Serialize)]
pub struct CheckRun {
    /// Check id.
    pub check: String,
    /// Title.
    pub title: String,
    /// Run id (a ULID: sortable by time).
    pub run_id: String,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// Date parameters were resolved at.
    pub check_date: String,
    /// `--district`.
    pub district: Option<String>,
    /// `--household`.
    pub household: Option<String>,
    /// The release the check read.
    pub release: u64,
    /// Versions of every table the check read.
    pub table_versions: BTreeMap<String, i64>,
    /// Households checked.
    pub households: Vec<Household>,
    /// Members checked.
    pub members: Vec<Member>,
    /// Current findings (new and unchanged).
    pub findings: Vec<Finding>,
    /// Findings of the previous run that are gone.
    pub resolved: Vec<Finding>,
    /// Every evaluation, when asked for.
    pub evaluations: Vec<Evaluation>,
    /// Per rule.
    pub rules: Vec<RuleSummary>,
    /// Parameter values in force (name → district or `*` → value), for the record.
    pub parameters: BTreeMap<String, BTreeMap<String, serde_json::Value>>,
    /// Milliseconds.
    pub duration_ms: u64,
}

impl CheckRun {
    /// Households with at least one finding.
    pub fn flagged(&self) -> usize {
        self.households.iter().filter(|h| h.findings > 0).count()
    }

    /// Households whose only findings need a manual check.
    pub fn manual_only(&self) -> usize {
        let mut serious: BTreeSet<&str> = BTreeSet::new();
        let mut manual: BTreeSet<&str> = BTreeSet::new();
        for f in &self.findings {
            if f.severity == Severity::Manual.as_str() {
                manual.insert(&f.household_id);
            } else {
                serious.insert(&f.household_id);
            }
        }
        manual.difference(&serious).count()
    }

    /// Findings in state `s`.
    pub fn count_state(&self, s: &str) -> usize {
        self.findings.iter().filter(|f| f.state == s).count()
    }
}

/// The subjects of a run, read once.
struct Subjects {
    batches: Vec<RecordBatch>,
    schema: arrow::datatypes::SchemaRef,
    rows: Vec<SubjectRow>,
}

#[derive(Debug, Clone)]
struct SubjectRow {
    household: String,
    member: Option<String>,
    district: String,
    label: String,
    name: String,
}

fn strings(batch: &RecordBatch, name: &str) -> Option<Vec<Option<String>>> {
    let col = batch.column_by_name(name)?;
    let col = cast(col, &DataType::Utf8).ok()?;
    let a = col.as_any().downcast_ref::<StringArray>()?;
    Some(
        (0..a.len())
            .map(|i| (!a.is_null(i)).then(|| a.value(i).to_string()))
            .collect(),
    )
}

fn table_refs(sql: &str) -> Vec<String> {
    let state = SessionContext::new().state();
    let Ok(statements) = DFParser::parse_sql(sql) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for s in statements {
        if let Ok(refs) = state.resolve_table_references(&s) {
            out.extend(refs.into_iter().map(|r| r.to_string()));
        }
    }
    out
}

/// Replaces `${name}` and `${name:text}` with the values in `params`.
pub fn substitute(sql: &str, params: &BTreeMap<String, ParamValue>) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut last = 0;
    for (name, text, at) in placeholders(sql) {
        out.push_str(&sql[last..at]);
        let end = at + sql[at..].find('}').map(|j| j + 1).unwrap_or(0);
        match params.get(&name) {
            Some(v) if text => out.push_str(&v.sql_text()),
            Some(v) => out.push_str(&v.sql()),
            None => out.push_str(&sql[at..end]),
        }
        last = end;
    }
    out.push_str(&sql[last..]);
    out
}

/// Values in force for `district` on `date`, with the built-ins.
fn resolve(
    check: &Check,
    date: chrono::NaiveDate,
    district: Option<&str>,
) -> BTreeMap<String, ParamValue> {
    let mut m = BTreeMap::new();
    for (name, p) in &check.parameters {
        if let Some(v) = p.at(date, district) {
            m.insert(name.clone(), v.value.clone());
        }
    }
    m.insert("check_date".into(), ParamValue::Date(date));
    m.insert(
        "check_month".into(),
        ParamValue::Text(date.format("%Y-%m").to_string()),
    );
    m
}

async fn plan(session: &SqlSession, sql: &str) -> Result<datafusion::dataframe::DataFrame, String> {
    session::check(sql).map_err(|e| e.to_string())?;
    if let Some(e) = session.denied(sql) {
        return Err(e.to_string());
    }
    session
        .ctx
        .sql_with_options(sql, session::read_only())
        .await
        .map_err(|e| e.to_string())
}

/// Runs `check` and returns its results (nothing is written: see [`store`]).
pub async fn evaluate(
    project: &Project,
    check: &Check,
    opts: &Options,
) -> Result<CheckRun, CheckError> {
    let t0 = Instant::now();
    let run_id = ulid::Ulid::generate().to_string();
    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let session = session::open(&project.warehouse, &opts.as_of).await?;
    let rule_err = |what: &str, line: usize, message: String| CheckError::Rule {
        file: check.file.clone(),
        line,
        what: what.to_string(),
        message,
    };

    // Subjects, with the date's parameters (subjects may use the built-ins).
    let base_params = resolve(check, opts.date, None);
    let subjects_sql = substitute(check.subjects.sql.get_ref(), &base_params);
    let df = plan(&session, &subjects_sql)
        .await
        .map_err(|m| rule_err("subjects", 0, m))?;
    let batches = df
        .collect()
        .await
        .map_err(|e| rule_err("subjects", 0, e.to_string()))?;
    let subjects = read_subjects(check, batches).map_err(|m| rule_err("subjects", 0, m))?;
    let subjects = scope(check, subjects, opts)?;

    // Profiles: districts sharing the same parameter values run together.
    let mut profiles: BTreeMap<String, (BTreeMap<String, ParamValue>, BTreeSet<String>)> =
        BTreeMap::new();
    for d in subjects
        .rows
        .iter()
        .map(|r| r.district.clone())
        .collect::<BTreeSet<_>>()
    {
        let p = resolve(check, opts.date, Some(&d));
        let key = serde_json::to_string(
            &p.iter()
                .map(|(k, v)| (k.clone(), v.json()))
                .collect::<BTreeMap<_, _>>(),
        )
        .unwrap_or_default();
        profiles
            .entry(key)
            .or_insert_with(|| (p, BTreeSet::new()))
            .1
            .insert(d);
    }
    let mut parameters: BTreeMap<String, BTreeMap<String, serde_json::Value>> = BTreeMap::new();
    let districts_total = profiles.values().map(|(_, d)| d.len()).sum::<usize>();
    for (p, districts) in profiles.values() {
        for (name, v) in p {
            let e = parameters.entry(name.clone()).or_default();
            if profiles.len() == 1 || districts.len() == districts_total {
                e.insert("*".into(), v.json());
            } else {
                for d in districts {
                    e.insert(d.clone(), v.json());
                }
            }
        }
    }

    // Which tables each query reads, at which version.
    let release = &session.release;
    let version_of = |refs: Vec<String>| -> BTreeMap<String, i64> {
        refs.into_iter()
            .filter_map(|r| release.tables.get(&r).map(|t| (r, t.version)))
            .collect()
    };
    let base_tables = {
        let mut refs = table_refs(&subjects_sql);
        for (_, sql) in &check.definitions {
            refs.extend(table_refs(&substitute(sql, &base_params)));
        }
        if let Some(l) = &check.links {
            refs.push(l.clone());
        }
        refs
    };
    let mut all_versions = version_of(base_tables.clone());

    let mut evaluations: Vec<Evaluation> = Vec::new();
    let mut summaries: Vec<RuleSummary> = check
        .rules
        .iter()
        .map(|r| RuleSummary {
            rule: r.id.clone(),
            title: r.title.clone(),
            severity: r.severity.as_str().into(),
            evaluated: 0,
            findings: 0,
            households: 0,
            parameters: BTreeMap::new(),
        })
        .collect();
    // Parameter values and table versions each rule used, per district:
    // districts with different values ran as different groups.
    let mut rule_meta: BTreeMap<(String, String), (String, String)> = BTreeMap::new();
    for (params, districts) in profiles.values() {
        // This profile's subjects as the `subjects` table.
        let batches = filter_districts(check, &subjects, districts)?;
        let ctx = &session.ctx;
        let _ = ctx.deregister_table("subjects");
        ctx.register_table(
            "subjects",
            Arc::new(MemTable::try_new(subjects.schema.clone(), vec![batches])?),
        )?;
        for (name, sql) in &check.definitions {
            let sql = substitute(sql, params);
            let df = plan(&session, &sql)
                .await
                .map_err(|m| rule_err(&format!("definition `{name}`"), 0, m))?;
            let _ = ctx.deregister_table(name.as_str());
            ctx.register_table(name.as_str(), df.into_view())?;
        }
        for (i, rule) in check.rules.iter().enumerate() {
            let sql = substitute(&rule.sql, params);
            let what = format!("rule `{}`", rule.id);
            let df = plan(&session, &sql)
                .await
                .map_err(|m| rule_err(&what, rule.line, m))?;
            let have: Vec<String> = df
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect();
            let missing: Vec<&str> = RULE_COLUMNS
                .iter()
                .copied()
                .filter(|c| !have.iter().any(|h| h == c))
                .collect();
            if !missing.is_empty() {
                return Err(rule_err(
                    &what,
                    rule.line,
                    format!(
                        "its SQL must return the columns {}; missing: {}",
                        RULE_COLUMNS.join(", "),
                        missing.join(", ")
                    ),
                ));
            }
            let wrapped = match &check.links {
                Some(links) => format!(
                    "SELECT r.*, x.link AS __link, x.probability AS __probability FROM ({sql}) r \
                     LEFT JOIN {links} x ON x.dataset = r.source_dataset \
                     AND x.source_file = r.source_file AND x.source_row = r.source_row \
                     AND x.gid = r.member_gid"
                ),
                None => format!(
                    "SELECT r.*, CAST(NULL AS VARCHAR) AS __link, CAST(NULL AS DOUBLE) AS __probability FROM ({sql}) r"
                ),
            };
            let batches = plan(&session, &wrapped)
                .await
                .map_err(|m| rule_err(&what, rule.line, m))?
                .collect()
                .await
                .map_err(|e| rule_err(&what, rule.line, e.to_string()))?;
            for b in &batches {
                read_evaluations(&rule.id, b, &mut evaluations)
                    .map_err(|m| rule_err(&what, rule.line, m))?;
            }
            // Parameters and table versions this rule used.
            let mut used: BTreeMap<String, String> = BTreeMap::new();
            let mut texts = vec![rule.sql.clone()];
            let mut refs = table_refs(&sql);
            for (name, dsql) in &check.definitions {
                if sql.contains(name.as_str()) {
                    texts.push(dsql.clone());
                    refs.extend(table_refs(&substitute(dsql, params)));
                }
            }
            refs.extend(base_tables.iter().cloned());
            for t in &texts {
                for (name, _, _) in placeholders(t) {
                    if let Some(v) = params.get(&name) {
                        used.insert(name, v.display());
                    }
                }
            }
            let versions = version_of(refs);
            all_versions.extend(versions.clone());
            summaries[i].parameters = used.clone();
            let meta = (
                serde_json::to_string(&used).unwrap_or_default(),
                serde_json::to_string(&versions).unwrap_or_default(),
            );
            for d in districts {
                rule_meta.insert((rule.id.clone(), d.clone()), meta.clone());
            }
        }
    }

    // Findings.
    let by_member: BTreeMap<(String, Option<String>), &SubjectRow> = subjects
        .rows
        .iter()
        .map(|r| ((r.household.clone(), r.member.clone()), r))
        .collect();
    let by_household: BTreeMap<&str, &SubjectRow> = subjects
        .rows
        .iter()
        .map(|r| (r.household.as_str(), r))
        .collect();
    let rules: BTreeMap<&str, &crate::config::Rule> =
        check.rules.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut findings: BTreeMap<String, Finding> = BTreeMap::new();
    for e in evaluations.iter().filter(|e| e.flagged) {
        let id = finding_id(check, e);
        let hh = by_household.get(e.household_id.as_str());
        let member = by_member.get(&(e.household_id.clone(), e.member_gid.clone()));
        let rule = rules[e.rule.as_str()];
        let district = hh.map(|h| h.district.clone()).unwrap_or_default();
        let (params, versions) = rule_meta
            .get(&(e.rule.clone(), district))
            .cloned()
            .unwrap_or_default();
        let f = Finding {
            finding_id: id.clone(),
            rule: e.rule.clone(),
            rule_title: rule.title.clone(),
            severity: rule.severity.as_str().into(),
            household_id: e.household_id.clone(),
            household_label: hh.map(|h| h.label.clone()).unwrap_or_default(),
            district: hh.map(|h| h.district.clone()).unwrap_or_default(),
            member_gid: e.member_gid.clone(),
            member_name: member.map(|m| m.name.clone()).unwrap_or_default(),
            value: e.value.clone(),
            threshold: e.threshold.clone(),
            detail: e.detail.clone(),
            source_dataset: e.source_dataset.clone(),
            source_key: e.source_key.clone(),
            source_file: e.source_file.clone(),
            source_row: e.source_row,
            link: e.link.clone(),
            probability: e.probability,
            parameters: params,
            table_versions: versions,
            state: "new".into(),
            first_seen_run: run_id.clone(),
            review_status: "open".into(),
            review_reason: None,
            reviewed_by: None,
            reviewed_at: None,
        };
        match findings.get(&id) {
            Some(old) if old.link.is_some() || f.link.is_none() => {}
            _ => {
                findings.insert(id, f);
            }
        }
    }
    let mut findings: Vec<Finding> = findings.into_values().collect();

    // Against the previous run, and the reviewers' decisions.
    let in_scope: BTreeSet<String> = subjects.rows.iter().map(|r| r.household.clone()).collect();
    let previous = store::previous_findings(project, check, &in_scope)
        .await
        .map_err(CheckError::Io)?;
    let prev_by_id: BTreeMap<&str, &Finding> = previous
        .iter()
        .map(|f| (f.finding_id.as_str(), f))
        .collect();
    for f in &mut findings {
        if let Some(p) = prev_by_id.get(f.finding_id.as_str()) {
            f.state = "unchanged".into();
            f.first_seen_run = p.first_seen_run.clone();
        }
    }
    let current: BTreeSet<&str> = findings.iter().map(|f| f.finding_id.as_str()).collect();
    let mut resolved: Vec<Finding> = previous
        .iter()
        .filter(|p| !current.contains(p.finding_id.as_str()))
        .cloned()
        .map(|mut p| {
            p.state = "resolved".into();
            p
        })
        .collect();
    let decisions = review::effective(project, &check.id).map_err(CheckError::Io)?;
    for f in findings.iter_mut().chain(resolved.iter_mut()) {
        if let Some(d) = decisions.get(&f.finding_id) {
            f.review_status = d.status.clone();
            f.review_reason = d.reason.clone();
            f.reviewed_by = Some(d.by.clone()).filter(|s| !s.is_empty());
            f.reviewed_at = Some(d.at.clone()).filter(|s| !s.is_empty());
        }
    }
    findings.sort_by(|a, b| {
        (&a.household_id, &a.rule, &a.finding_id).cmp(&(&b.household_id, &b.rule, &b.finding_id))
    });

    // Households and rule figures.
    let mut households: BTreeMap<String, Household> = BTreeMap::new();
    for r in &subjects.rows {
        let h = households
            .entry(r.household.clone())
            .or_insert_with(|| Household {
                household_id: r.household.clone(),
                label: r.label.clone(),
                district: r.district.clone(),
                members: 0,
                findings: 0,
                rules: Vec::new(),
            });
        h.members += 1;
    }
    for f in &findings {
        if let Some(h) = households.get_mut(&f.household_id) {
            h.findings += 1;
            if !h.rules.contains(&f.rule) {
                h.rules.push(f.rule.clone());
            }
        }
    }
    for s in &mut summaries {
        s.evaluated = evaluations.iter().filter(|e| e.rule == s.rule).count();
        s.findings = findings.iter().filter(|f| f.rule == s.rule).count();
        s.households = findings
            .iter()
            .filter(|f| f.rule == s.rule)
            .map(|f| f.household_id.as_str())
            .collect::<BTreeSet<_>>()
            .len();
    }
    let members = subjects
        .rows
        .iter()
        .map(|r| Member {
            household_id: r.household.clone(),
            member_gid: r.member.clone(),
            name: r.name.clone(),
        })
        .collect();
    Ok(CheckRun {
        check: check.id.clone(),
        title: check.title.clone(),
        run_id,
        started_at,
        check_date: opts.date.format("%Y-%m-%d").to_string(),
        district: opts.district.clone(),
        household: opts.household.clone(),
        release: session.release.number,
        table_versions: all_versions,
        households: households.into_values().collect(),
        members,
        findings,
        resolved,
        evaluations: if opts.keep_evaluations {
            evaluations
        } else {
            Vec::new()
        },
        rules: summaries,
        parameters,
        duration_ms: t0.elapsed().as_millis() as u64,
    })
}

/// The stable id of a finding: check, rule, household, member and the
/// evidence record (dataset and record key), hashed.
fn finding_id(check: &Check, e: &Evaluation) -> String {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for part in [
        check.id.as_str(),
        e.rule.as_str(),
        e.household_id.as_str(),
        e.member_gid.as_deref().unwrap_or(""),
        e.source_dataset.as_str(),
        e.source_key.as_str(),
    ] {
        h.update(part.as_bytes());
        h.update(&[0x1f]);
    }
    format!("F{:016x}", h.digest())
}

fn read_subjects(check: &Check, batches: Vec<RecordBatch>) -> Result<Subjects, String> {
    let s = &check.subjects;
    let schema = match batches.first() {
        Some(b) => b.schema(),
        None => {
            return Ok(Subjects {
                batches,
                schema: Arc::new(arrow::datatypes::Schema::empty()),
                rows: Vec::new(),
            });
        }
    };
    let mut need = vec![s.key.as_str(), s.member.as_str()];
    need.extend(s.district.as_deref());
    need.extend(s.label.as_deref());
    for n in need {
        if schema.field_with_name(n).is_err() {
            return Err(format!(
                "the subjects query returns no column `{n}` (it returns {})",
                schema
                    .fields()
                    .iter()
                    .map(|f| f.name().as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    let mut rows = Vec::new();
    for b in &batches {
        let key = strings(b, &s.key).unwrap_or_default();
        let member = strings(b, &s.member).unwrap_or_default();
        let n = b.num_rows();
        let district = s
            .district
            .as_deref()
            .and_then(|c| strings(b, c))
            .unwrap_or_else(|| vec![None; n]);
        let label = s
            .label
            .as_deref()
            .and_then(|c| strings(b, c))
            .unwrap_or_else(|| vec![None; n]);
        let name = strings(b, "member_name").unwrap_or_else(|| vec![None; n]);
        for i in 0..n {
            let Some(household) = key[i].clone() else {
                continue;
            };
            rows.push(SubjectRow {
                household,
                member: member[i].clone(),
                district: district[i].clone().unwrap_or_default(),
                label: label[i].clone().unwrap_or_default(),
                name: name[i].clone().unwrap_or_default(),
            });
        }
    }
    Ok(Subjects {
        batches,
        schema,
        rows,
    })
}

/// Applies `--district` and `--household`.
fn scope(check: &Check, s: Subjects, opts: &Options) -> Result<Subjects, CheckError> {
    if opts.district.is_none() && opts.household.is_none() {
        return Ok(s);
    }
    let districts: BTreeSet<&str> = s.rows.iter().map(|r| r.district.as_str()).collect();
    if let Some(d) = &opts.district {
        if check.subjects.district.is_none() {
            return Err(CheckError::Scope {
                message: format!("check `{}` declares no district column", check.id),
                hint: None,
            });
        }
        if !districts.contains(d.as_str()) {
            let names: Vec<&str> = districts.iter().copied().collect();
            return Err(CheckError::Scope {
                message: format!("no recipient household in district `{d}`"),
                hint: Some(format!("districts: {}", names.join(", "))),
            });
        }
    }
    if let Some(h) = &opts.household
        && !s.rows.iter().any(|r| &r.household == h)
    {
        let ids: Vec<&str> = s
            .rows
            .iter()
            .map(|r| r.household.as_str())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let hint = civhub_ingest::config::diag::hint_for(h, &ids);
        return Err(CheckError::Scope {
            message: format!("no recipient household `{h}`"),
            hint,
        });
    }
    let keep = |r: &SubjectRow| {
        opts.district.as_ref().is_none_or(|d| &r.district == d)
            && opts.household.as_ref().is_none_or(|h| &r.household == h)
    };
    let mut batches = Vec::new();
    for b in &s.batches {
        let key = strings(b, &check.subjects.key).unwrap_or_default();
        let district = check
            .subjects
            .district
            .as_deref()
            .and_then(|c| strings(b, c))
            .unwrap_or_else(|| vec![None; b.num_rows()]);
        let mask: BooleanArray = (0..b.num_rows())
            .map(|i| {
                Some(
                    opts.district
                        .as_ref()
                        .is_none_or(|d| district[i].as_deref() == Some(d.as_str()))
                        && opts
                            .household
                            .as_ref()
                            .is_none_or(|h| key[i].as_deref() == Some(h.as_str())),
                )
            })
            .collect();
        batches.push(
            arrow::compute::filter_record_batch(b, &mask)
                .map_err(|e| CheckError::Io(e.to_string()))?,
        );
    }
    Ok(Subjects {
        rows: s.rows.into_iter().filter(|r| keep(r)).collect(),
        batches,
        schema: s.schema,
    })
}

fn filter_districts(
    check: &Check,
    s: &Subjects,
    districts: &BTreeSet<String>,
) -> Result<Vec<RecordBatch>, CheckError> {
    let all: BTreeSet<&str> = s.rows.iter().map(|r| r.district.as_str()).collect();
    if all.iter().all(|d| districts.contains(*d)) {
        return Ok(s.batches.clone());
    }
    let mut out = Vec::new();
    for b in &s.batches {
        let district = check
            .subjects
            .district
            .as_deref()
            .and_then(|c| strings(b, c))
            .unwrap_or_else(|| vec![None; b.num_rows()]);
        let mask: BooleanArray = district
            .iter()
            .map(|d| Some(districts.contains(d.as_deref().unwrap_or(""))))
            .collect();
        out.push(
            arrow::compute::filter_record_batch(b, &mask)
                .map_err(|e| CheckError::Io(e.to_string()))?,
        );
    }
    Ok(out)
}

fn read_evaluations(rule: &str, b: &RecordBatch, out: &mut Vec<Evaluation>) -> Result<(), String> {
    let n = b.num_rows();
    let col = |name: &str| strings(b, name).unwrap_or_else(|| vec![None; n]);
    let flagged: Vec<bool> = {
        let c = b.column_by_name("flagged").ok_or("no column `flagged`")?;
        let c: ArrayRef = cast(c, &DataType::Boolean)
            .map_err(|e| format!("column `flagged` must be true/false: {e}"))?;
        let a = c
            .as_any()
            .downcast_ref::<BooleanArray>()
            .ok_or("column `flagged` must be true/false")?;
        (0..n).map(|i| !a.is_null(i) && a.value(i)).collect()
    };
    let source_row: Vec<Option<i64>> = {
        let c = b
            .column_by_name("source_row")
            .ok_or("no column `source_row`")?;
        let c: ArrayRef = cast(c, &DataType::Int64)
            .map_err(|e| format!("column `source_row` must be a number: {e}"))?;
        let a = c
            .as_any()
            .downcast_ref::<Int64Array>()
            .ok_or("column `source_row` must be a number")?;
        (0..n)
            .map(|i| (!a.is_null(i)).then(|| a.value(i)))
            .collect()
    };
    let probability: Vec<Option<f64>> = match b.column_by_name("__probability") {
        Some(c) => {
            let c: ArrayRef = cast(c, &DataType::Float64).map_err(|e| e.to_string())?;
            let a = c
                .as_any()
                .downcast_ref::<Float64Array>()
                .ok_or("probability")?;
            (0..n)
                .map(|i| (!a.is_null(i)).then(|| a.value(i)))
                .collect()
        }
        None => vec![None; n],
    };
    let household = col("household_id");
    let member = col("member_gid");
    let value = col("value");
    let threshold = col("threshold");
    let detail = col("detail");
    let dataset = col("source_dataset");
    let key = col("source_key");
    let file = col("source_file");
    let xref_link = col("__link");
    let own_link = col("link");
    let link: Vec<Option<String>> = own_link
        .into_iter()
        .zip(xref_link)
        .map(|(own, x)| own.or(x))
        .collect();
    for i in 0..n {
        let Some(h) = household[i].clone() else {
            continue;
        };
        out.push(Evaluation {
            rule: rule.to_string(),
            household_id: h,
            member_gid: member[i].clone(),
            flagged: flagged[i],
            value: value[i].clone().unwrap_or_default(),
            threshold: threshold[i].clone().unwrap_or_default(),
            detail: detail[i].clone().unwrap_or_default(),
            source_dataset: dataset[i].clone().unwrap_or_default(),
            source_key: key[i].clone().unwrap_or_default(),
            source_file: file[i].clone(),
            source_row: source_row[i],
            probability: if own_link_set(&link[i], probability[i]) {
                probability[i]
            } else {
                None
            },
            link: link[i].clone(),
        });
    }
    Ok(())
}

/// A probability belongs only to a probabilistic link.
fn own_link_set(link: &Option<String>, p: Option<f64>) -> bool {
    p.is_some() && link.as_deref() == Some("probabilistic")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitute_replaces_known_placeholders_only() {
        let mut p = BTreeMap::new();
        p.insert("standard".to_string(), ParamValue::Number(800.0));
        p.insert(
            "kinds".to_string(),
            ParamValue::List(vec!["商业".into(), "车库".into()]),
        );
        assert_eq!(
            substitute(
                "a > ${standard} AND k IN (${kinds}) -- ${kinds:text} ${unknown}",
                &p
            ),
            "a > 800 AND k IN ('商业', '车库') -- '商业、车库' ${unknown}"
        );
        assert_eq!(
            substitute("INTERVAL '${standard} months'", &p),
            "INTERVAL '800 months'"
        );
    }
}
