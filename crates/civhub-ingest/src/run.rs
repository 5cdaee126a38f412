//! Running pipelines: discover files, decide what changed, read files in
//! parallel, resolve duplicate keys, enforce tolerances, commit.
//!
//! Each pipeline commits on its own and atomically: either all its files of
//! the run are staged (and the manifest switched), or none is and the previous
//! table stays. A pipeline whose files all match what is staged (same path,
//! size and modification time, or same content hash) is skipped, so running
//! twice over unchanged exports stages nothing twice.

use crate::config::{Mode, Pipeline, Project};
use crate::manifest::{Manifest, ManifestFile, hash_file, mtime_ns};
use crate::read::{FileError, RowSink, RowView, read_file};
use crate::report::*;
use crate::stage::{FileLineage, QuarantineWriter, StagingWriter, WriteError, move_to_quarantine};
use crate::transform::{Outcome, RowError, Transformer};
use chrono::{SecondsFormat, Utc};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Options of one ingest run.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// Only pipelines whose id equals one of these, or whose department does;
    /// all when empty.
    pub select: Vec<String>,
    /// Re-stage every file even when unchanged, and drop rows of files that no
    /// longer exist (append mode).
    pub full_refresh: bool,
    /// Worker threads; `None` takes `ingest.threads` from civhub.toml.
    pub threads: Option<usize>,
}

/// Receives progress while a run goes on. All methods may be called from
/// several threads at once.
pub trait Observer: Sync {
    /// The run starts with this many pipelines and matched files.
    fn start(&self, _pipelines: usize, _files: usize) {}
    /// Another `n` rows were read.
    fn rows(&self, _n: u64) {}
    /// A file is done.
    fn file_done(&self, _file: &FileReport) {}
    /// A pipeline is done.
    fn pipeline_done(&self, _pipeline: &PipelineReport) {}
}

/// An observer that ignores everything.
pub struct Silent;
impl Observer for Silent {}

/// Errors that stop a whole run.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The warehouse folder cannot be prepared.
    #[error("cannot prepare the warehouse `{path}`: {message}")]
    Warehouse {
        /// Folder.
        path: String,
        /// Why.
        message: String,
    },
    /// Another run holds the warehouse.
    #[error("another civhub run is writing to the warehouse `{0}`")]
    Locked(String),
    /// A selected pipeline does not exist.
    #[error("no pipeline or department `{0}`")]
    UnknownSelection(String),
}

/// Where a pipeline's tables live in the warehouse.
pub fn staging_dir(warehouse: &Path, pipeline: &str) -> PathBuf {
    warehouse.join("staging").join(pipeline)
}

/// Where a pipeline's quarantine lives in the warehouse.
pub fn quarantine_dir(warehouse: &Path, pipeline: &str) -> PathBuf {
    warehouse.join("quarantine").join(pipeline)
}

/// A lock on the warehouse, held for the length of a run.
pub struct WarehouseLock {
    _file: std::fs::File,
}

/// Takes the warehouse lock, creating the folder.
pub fn lock_warehouse(warehouse: &Path) -> Result<WarehouseLock, IngestError> {
    let err = |e: std::io::Error| IngestError::Warehouse {
        path: warehouse.display().to_string(),
        message: e.to_string(),
    };
    fs_err::create_dir_all(warehouse).map_err(err)?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(warehouse.join(".lock"))
        .map_err(err)?;
    match file.try_lock() {
        Ok(()) => Ok(WarehouseLock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) => {
            Err(IngestError::Locked(warehouse.display().to_string()))
        }
        Err(std::fs::TryLockError::Error(e)) => Err(err(e)),
    }
}

struct Ctx<'a> {
    project: &'a Project,
    run_id: String,
    ingested_at: chrono::DateTime<Utc>,
    tmp: PathBuf,
    batch_rows: usize,
    full_refresh: bool,
    obs: &'a dyn Observer,
}

/// Runs the selected pipelines of `project`.
pub fn ingest(
    project: &Project,
    opts: &IngestOptions,
    obs: &dyn Observer,
) -> Result<RunReport, IngestError> {
    let started = Instant::now();
    let selected = select(project, &opts.select)?;
    let _lock = lock_warehouse(&project.warehouse)?;
    let run_id = ulid::Ulid::generate().to_string();
    let tmp_root = project.warehouse.join("_tmp");
    // We hold the lock: anything left in _tmp is from a run that was killed.
    let _ = fs_err::remove_dir_all(&tmp_root);
    let ctx = Ctx {
        project,
        tmp: tmp_root.join(&run_id),
        run_id: run_id.clone(),
        ingested_at: Utc::now(),
        batch_rows: project.file.ingest.batch_rows.max(1),
        full_refresh: opts.full_refresh,
        obs,
    };
    let found: Vec<(&Pipeline, Result<Vec<Found>, String>)> = selected
        .iter()
        .map(|p| (*p, discover(&project.exports, p)))
        .collect();
    obs.start(
        found.len(),
        found
            .iter()
            .map(|(_, f)| f.as_ref().map(|v| v.len()).unwrap_or(0))
            .sum(),
    );
    let threads = opts.threads.unwrap_or(project.file.ingest.threads);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("civhub-ingest-{i}"))
        .build()
        .map_err(|e| IngestError::Warehouse {
            path: project.warehouse.display().to_string(),
            message: e.to_string(),
        })?;
    let mut reports: Vec<PipelineReport> = pool.install(|| {
        found
            .into_par_iter()
            .map(|(p, files)| {
                let t0 = Instant::now();
                let mut r = run_pipeline(&ctx, p, files);
                r.duration_ms = t0.elapsed().as_millis() as u64;
                obs.pipeline_done(&r);
                r
            })
            .collect()
    });
    let _ = fs_err::remove_dir_all(&tmp_root);
    reports.sort_by(|a, b| a.pipeline.cmp(&b.pipeline));
    let totals = RunReport::totals_of(&reports);
    let report = RunReport {
        run_id,
        started_at: ctx.ingested_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        duration_ms: started.elapsed().as_millis() as u64,
        warehouse: project.warehouse.display().to_string(),
        ok: totals.pipelines_failed == 0,
        totals,
        pipelines: reports,
    };
    let runs = project.warehouse.join("_runs");
    if fs_err::create_dir_all(&runs).is_ok() {
        if let Ok(text) = serde_json::to_string_pretty(&report) {
            let _ = fs_err::write(runs.join(format!("{}.json", report.run_id)), text);
        }
    }
    Ok(report)
}

fn select<'p>(project: &'p Project, names: &[String]) -> Result<Vec<&'p Pipeline>, IngestError> {
    if names.is_empty() {
        return Ok(project.pipelines.iter().collect());
    }
    for n in names {
        if !project
            .pipelines
            .iter()
            .any(|p| &p.id == n || &p.department == n)
        {
            return Err(IngestError::UnknownSelection(n.clone()));
        }
    }
    Ok(project
        .pipelines
        .iter()
        .filter(|p| names.iter().any(|n| &p.id == n || &p.department == n))
        .collect())
}

/// A file matched by a pipeline's source glob.
#[derive(Debug, Clone)]
struct Found {
    rel: String,
    abs: PathBuf,
    size: u64,
    mtime: i128,
}

fn discover(exports: &Path, p: &Pipeline) -> Result<Vec<Found>, String> {
    let pattern = format!(
        "{}/{}",
        glob::Pattern::escape(&exports.to_string_lossy()),
        p.def.source.path.get_ref()
    );
    let opts = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    };
    let paths = glob::glob_with(&pattern, opts).map_err(|e| format!("invalid source.path: {e}"))?;
    let mut out = Vec::new();
    for entry in paths {
        let path = entry.map_err(|e| e.to_string())?;
        let meta = match std::fs::metadata(&path) {
            Ok(m) if m.is_file() => m,
            _ => continue,
        };
        let rel = path
            .strip_prefix(exports)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        out.push(Found {
            rel,
            size: meta.len(),
            mtime: mtime_ns(&meta),
            abs: path,
        });
    }
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(out)
}

/// A file to read this run, with its content hash.
struct Todo {
    found: Found,
    hash: String,
}

fn empty_report(p: &Pipeline, files_matched: usize) -> PipelineReport {
    PipelineReport {
        pipeline: p.id.clone(),
        department: p.department.clone(),
        schema: p.schema.name.clone(),
        status: PipelineStatus::Ok,
        files_matched,
        rows_in: 0,
        rows_staged: 0,
        rows_quarantined: 0,
        table_rows: 0,
        top_reasons: Vec::new(),
        error: None,
        warnings: Vec::new(),
        files: Vec::new(),
        duration_ms: 0,
    }
}

fn file_report(p: &Pipeline, f: &Found, status: FileStatus) -> FileReport {
    FileReport {
        pipeline: p.id.clone(),
        path: f.rel.clone(),
        status,
        rows_in: 0,
        rows_staged: 0,
        rows_quarantined: 0,
        blank_rows: 0,
        footer_rows: 0,
        duplicates_across_files: 0,
        encoding: None,
        sheets: Vec::new(),
        bytes: f.size,
        error: None,
        hint: None,
    }
}

fn fail(mut r: PipelineReport, msg: impl Into<String>) -> PipelineReport {
    r.status = PipelineStatus::Failed;
    r.error = Some(msg.into());
    for f in &mut r.files {
        if f.status == FileStatus::Ingested {
            f.status = FileStatus::RolledBack;
        }
    }
    r
}

fn run_pipeline(ctx: &Ctx<'_>, p: &Pipeline, found: Result<Vec<Found>, String>) -> PipelineReport {
    let wh = &ctx.project.warehouse;
    let sdir = staging_dir(wh, &p.id);
    let qdir = quarantine_dir(wh, &p.id);
    let files = match found {
        Ok(f) => f,
        Err(e) => return fail(empty_report(p, 0), e),
    };
    let mut report = empty_report(p, files.len());
    let manifest = match Manifest::load(&sdir) {
        Ok(m) => m,
        Err(e) => {
            report
                .warnings
                .push(format!("{e}; the table is staged again from scratch"));
            None
        }
    };
    let fingerprint = format!("{:016x}", p.fingerprint);
    let same_def = !ctx.full_refresh
        && manifest
            .as_ref()
            .is_some_and(|m| m.fingerprint == fingerprint);
    let old: BTreeMap<&str, &ManifestFile> = manifest
        .iter()
        .flat_map(|m| m.files.iter())
        .map(|f| (f.path.as_str(), f))
        .collect();

    if files.is_empty() {
        report.status = PipelineStatus::NoFiles;
        report.table_rows = manifest.as_ref().map(|m| m.rows_staged()).unwrap_or(0);
        let msg = format!(
            "no file matches `{}` in the exports folder",
            p.def.source.path.get_ref()
        );
        if let Some(min) = p.limits.min_rows.filter(|m| *m > 0) {
            return fail(report, format!("{msg} (min-rows = {min})"));
        }
        report.warnings.push(if manifest.is_some() {
            format!("{msg}; the table staged earlier is kept")
        } else {
            msg
        });
        return report;
    }

    // Which files must be read?
    let mut todo: Vec<Todo> = Vec::new();
    let mut unchanged: Vec<(Found, ManifestFile)> = Vec::new();
    for f in files {
        let prev = old.get(f.rel.as_str()).copied();
        if same_def {
            if let Some(m) = prev {
                if m.size == f.size && m.mtime_ns == f.mtime {
                    unchanged.push((f, m.clone()));
                    continue;
                }
            }
        }
        let hash = match hash_file(&f.abs) {
            Ok(h) => h,
            Err(e) => {
                let mut fr = file_report(p, &f, FileStatus::Failed);
                fr.error = Some(format!("cannot read: {e}"));
                report.files.push(fr);
                return fail(report, format!("cannot read `{}`", f.rel));
            }
        };
        match prev {
            Some(m) if same_def && m.hash == hash => {
                let mut m = m.clone();
                m.mtime_ns = f.mtime;
                unchanged.push((f, m));
            }
            _ => todo.push(Todo { found: f, hash }),
        }
    }
    let current: std::collections::BTreeSet<&str> = unchanged
        .iter()
        .map(|(f, _)| f.rel.as_str())
        .chain(todo.iter().map(|t| t.found.rel.as_str()))
        .collect();
    let vanished: Vec<&ManifestFile> = old
        .values()
        .filter(|m| !current.contains(m.path.as_str()))
        .copied()
        .collect();

    let mode = p.def.mode;
    let mut retained: Vec<ManifestFile> = Vec::new();
    match mode {
        Mode::Snapshot => {
            if todo.is_empty() && vanished.is_empty() {
                return unchanged_report(ctx, report, &unchanged, manifest.as_ref());
            }
            // Any change re-reads every file: duplicates across files and
            // the row bounds are judged on the export as a whole.
            for (f, _) in unchanged.drain(..) {
                match hash_file(&f.abs) {
                    Ok(hash) => todo.push(Todo { found: f, hash }),
                    Err(e) => return fail(report, format!("cannot read `{}`: {e}", f.rel)),
                }
            }
            todo.sort_by(|a, b| a.found.rel.cmp(&b.found.rel));
        }
        Mode::Append => {
            if !same_def && !vanished.is_empty() && manifest.is_some() && !ctx.full_refresh {
                let list = vanished
                    .iter()
                    .take(5)
                    .map(|m| format!("`{}`", m.path))
                    .collect::<Vec<_>>()
                    .join(", ");
                return fail(
                    report,
                    format!(
                        "the pipeline definition changed, so its table must be staged again, but {} file(s) ingested earlier are no longer in the exports folder ({list}); restore them, or run with --full-refresh to drop their rows",
                        vanished.len()
                    ),
                );
            }
            if todo.is_empty() {
                let mut keep: Vec<(Found, ManifestFile)> = unchanged;
                keep.sort_by(|a, b| a.0.rel.cmp(&b.0.rel));
                let mut r = unchanged_report(ctx, report, &keep, manifest.as_ref());
                r.table_rows = manifest.as_ref().map(|m| m.rows_staged()).unwrap_or(0);
                return r;
            }
            if same_def {
                retained.extend(unchanged.iter().map(|(_, m)| m.clone()));
                retained.extend(vanished.iter().map(|m| (*m).clone()));
                for (f, m) in &unchanged {
                    let mut fr = file_report(p, f, FileStatus::Unchanged);
                    fr.rows_in = 0;
                    fr.encoding = None;
                    let _ = m;
                    report.files.push(fr);
                }
            } else {
                for (f, _) in unchanged.drain(..) {
                    match hash_file(&f.abs) {
                        Ok(hash) => todo.push(Todo { found: f, hash }),
                        Err(e) => return fail(report, format!("cannot read `{}`: {e}", f.rel)),
                    }
                }
                if !vanished.is_empty() {
                    report.warnings.push(format!("--full-refresh: dropped the rows of {} file(s) no longer in the exports folder", vanished.len()));
                }
            }
            todo.sort_by(|a, b| a.found.rel.cmp(&b.found.rel));
        }
    }

    // Read the files, in parallel.
    let transformer = Transformer::new(
        p,
        ctx.ingested_at
            .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("valid offset"))
            .date_naive(),
    );
    let tmp = ctx.tmp.join(&p.id);
    let results: Vec<FileRun> = todo
        .par_iter()
        .enumerate()
        .map(|(i, t)| read_one(ctx, p, &transformer, t, i, &tmp))
        .collect();

    let mut failed = None;
    for r in &results {
        if let Some(e) = &r.error {
            failed.get_or_insert_with(|| format!("cannot read `{}`: {}", r.report.path, e.message));
        }
    }
    let mut results = results;
    if failed.is_none() {
        if let Err(e) = resolve_duplicates(ctx, p, &mut results, &retained, &sdir, &tmp) {
            failed = Some(e);
        }
    }
    let mut reasons: BTreeMap<String, ReasonCount> = BTreeMap::new();
    for r in &results {
        report.rows_in += r.report.rows_in;
        report.rows_staged += r.report.rows_staged;
        report.rows_quarantined += r.report.rows_quarantined;
        for (rule, rc) in &r.reasons {
            match reasons.get_mut(rule) {
                Some(e) => e.rows += rc.rows,
                None => {
                    reasons.insert(rule.clone(), rc.clone());
                }
            }
        }
    }
    let mut top: Vec<ReasonCount> = reasons.into_values().collect();
    top.sort_by(|a, b| b.rows.cmp(&a.rows).then(a.rule.cmp(&b.rule)));
    report.top_reasons = top;
    report
        .files
        .extend(results.iter().map(|r| r.report.clone()));
    report.files.sort_by(|a, b| a.path.cmp(&b.path));
    for f in &report.files {
        if f.status != FileStatus::Unchanged {
            ctx.obs.file_done(f);
        }
    }
    let cleanup = || {
        let _ = fs_err::remove_dir_all(&tmp);
    };
    if let Some(msg) = failed {
        cleanup();
        return fail(report, msg);
    }

    // Tolerances and bounds.
    let bad = report.rows_quarantined;
    let rows = report.rows_in;
    if let Some(max) = p.limits.max_bad_rows {
        if bad > max {
            cleanup();
            return fail(
                report,
                format!("{bad} rows quarantined, above max-bad-rows = {max}"),
            );
        }
    }
    if let Some(ratio) = p.limits.max_bad_ratio {
        if rows > 0 && bad as f64 / rows as f64 > ratio {
            cleanup();
            return fail(
                report,
                format!(
                    "{:.1}% of rows quarantined ({bad} of {rows}), above max-bad-ratio = {}%",
                    100.0 * bad as f64 / rows as f64,
                    ratio * 100.0
                ),
            );
        }
    }
    let total_rows: u64 = rows + retained.iter().map(|m| m.rows_in).sum::<u64>();
    if let Some(min) = p.limits.min_rows {
        if total_rows < min {
            cleanup();
            return fail(
                report,
                format!("{total_rows} data rows, below min-rows = {min} (a truncated export?)"),
            );
        }
    }
    if let Some(max) = p.limits.max_rows {
        if total_rows > max {
            cleanup();
            return fail(
                report,
                format!("{total_rows} data rows, above max-rows = {max}"),
            );
        }
    }

    // Commit: move parts in, switch the manifest, remove what it no longer names.
    let committed_at = ctx.ingested_at.to_rfc3339_opts(SecondsFormat::Secs, true);
    let mut entries = retained;
    let commit = (|| -> Result<(), String> {
        fs_err::create_dir_all(&sdir).map_err(|e| e.to_string())?;
        fs_err::create_dir_all(&qdir).map_err(|e| e.to_string())?;
        for r in &results {
            let base = format!("{}-{}.parquet", r.part_base, ctx.run_id.to_lowercase());
            let move_in =
                |from: &Option<(PathBuf, u64)>, dir: &Path| -> Result<Option<String>, String> {
                    match from {
                        Some((path, _)) => {
                            fs_err::rename(path, dir.join(&base)).map_err(|e| e.to_string())?;
                            Ok(Some(base.clone()))
                        }
                        None => Ok(None),
                    }
                };
            entries.push(ManifestFile {
                path: r.report.path.clone(),
                size: r.size,
                mtime_ns: r.mtime,
                hash: r.hash.clone(),
                staging_part: move_in(&r.staging, &sdir)?,
                quarantine_part: move_in(&r.quarantine, &qdir)?,
                rows_in: r.report.rows_in,
                rows_staged: r.report.rows_staged,
                rows_quarantined: r.report.rows_quarantined,
                run_id: ctx.run_id.clone(),
                ingested_at: committed_at.clone(),
            });
        }
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        let m = Manifest {
            pipeline: p.id.clone(),
            fingerprint: fingerprint.clone(),
            run_id: ctx.run_id.clone(),
            committed_at: committed_at.clone(),
            files: entries.clone(),
        };
        m.store(&sdir).map_err(|e| e.to_string())?;
        report.table_rows = m.rows_staged();
        let keep_s: std::collections::HashSet<&str> = m
            .files
            .iter()
            .filter_map(|f| f.staging_part.as_deref())
            .collect();
        let keep_q: std::collections::HashSet<&str> = m
            .files
            .iter()
            .filter_map(|f| f.quarantine_part.as_deref())
            .collect();
        remove_unreferenced(&sdir, &keep_s);
        remove_unreferenced(&qdir, &keep_q);
        Ok(())
    })();
    cleanup();
    if let Err(e) = commit {
        return fail(report, format!("cannot commit the staging table: {e}"));
    }
    report
}

fn unchanged_report(
    _ctx: &Ctx<'_>,
    mut report: PipelineReport,
    unchanged: &[(Found, ManifestFile)],
    manifest: Option<&Manifest>,
) -> PipelineReport {
    report.status = PipelineStatus::Unchanged;
    report.table_rows = manifest.map(|m| m.rows_staged()).unwrap_or(0);
    for (f, _) in unchanged {
        report.files.push(FileReport {
            pipeline: report.pipeline.clone(),
            path: f.rel.clone(),
            status: FileStatus::Unchanged,
            rows_in: 0,
            rows_staged: 0,
            rows_quarantined: 0,
            blank_rows: 0,
            footer_rows: 0,
            duplicates_across_files: 0,
            encoding: None,
            sheets: Vec::new(),
            bytes: f.size,
            error: None,
            hint: None,
        });
    }
    report
}

fn remove_unreferenced(dir: &Path, keep: &std::collections::HashSet<&str>) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if name.ends_with(".parquet") && !keep.contains(name.as_str()) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// One file read in this run.
struct FileRun {
    report: FileReport,
    /// `<index>-<content hash prefix>`, unique within the run.
    part_base: String,
    hash: String,
    size: u64,
    mtime: i128,
    staging: Option<(PathBuf, u64)>,
    quarantine: Option<(PathBuf, u64)>,
    /// Record key hash → (sheet, row) of every staged row.
    keys: HashMap<u128, (Option<String>, u64)>,
    reasons: BTreeMap<String, ReasonCount>,
    error: Option<FileError>,
}

struct Sink<'a> {
    t: &'a Transformer<'a>,
    stem: String,
    rel: &'a str,
    has_key: bool,
    staging: StagingWriter,
    quarantine: QuarantineWriter,
    keys: HashMap<u128, (Option<String>, u64)>,
    reasons: BTreeMap<String, ReasonCount>,
    rows_in: u64,
    staged: u64,
    quarantined: u64,
    blank: u64,
    footer: u64,
    unreported: u64,
    obs: &'a dyn Observer,
    write_error: Option<WriteError>,
}

impl Sink<'_> {
    fn quarantine_row(
        &mut self,
        errors: &[RowError],
        original: &str,
        key: Option<&str>,
        sheet: Option<&str>,
        row: u64,
    ) {
        self.quarantined += 1;
        if let Some(first) = errors.first() {
            let at = match sheet {
                Some(s) => format!("{}[{s}]:{row}", self.rel),
                None => format!("{}:{row}", self.rel),
            };
            self.reasons
                .entry(first.rule.clone())
                .and_modify(|r| r.rows += 1)
                .or_insert_with(|| ReasonCount {
                    rule: first.rule.clone(),
                    rows: 1,
                    example: first.reason.clone(),
                    example_at: at,
                });
        }
        if self.write_error.is_none() {
            if let Err(e) = self.quarantine.push(errors, original, key, sheet, row) {
                self.write_error = Some(e);
            }
        }
    }
}

impl RowSink for Sink<'_> {
    fn row(&mut self, row: &dyn RowView) {
        self.rows_in += 1;
        self.unreported += 1;
        if self.unreported >= 8192 {
            self.obs.rows(self.unreported);
            self.unreported = 0;
        }
        match self.t.apply(row, &self.stem) {
            Outcome::Quarantined(errors) => {
                self.quarantine_row(&errors, &row.original(), None, row.sheet(), row.row())
            }
            Outcome::Staged { values, flags, key } => {
                if self.has_key {
                    let h = xxhash_rust::xxh3::xxh3_128(key.as_bytes());
                    if let Some((sheet, first)) = self.keys.get(&h) {
                        let at = match sheet {
                            Some(s) => format!("sheet `{s}` row {first}"),
                            None => format!("row {first}"),
                        };
                        let err = RowError {
                            rule: "duplicate-key".into(),
                            field: None,
                            value: Some(key.clone()),
                            reason: format!(
                                "duplicate record key `{key}`: {at} of this file has it too"
                            ),
                        };
                        self.quarantine_row(
                            &[err],
                            &row.original(),
                            Some(&key),
                            row.sheet(),
                            row.row(),
                        );
                        return;
                    }
                    self.keys
                        .insert(h, (row.sheet().map(str::to_string), row.row()));
                }
                self.staged += 1;
                if self.write_error.is_none() {
                    if let Err(e) = self
                        .staging
                        .push(&values, &flags, &key, row.sheet(), row.row())
                    {
                        self.write_error = Some(e);
                    }
                }
            }
        }
    }
    fn blank(&mut self) {
        self.blank += 1;
    }
    fn footer(&mut self) {
        self.footer += 1;
    }
}

fn read_one(
    ctx: &Ctx<'_>,
    p: &Pipeline,
    t: &Transformer<'_>,
    todo: &Todo,
    index: usize,
    tmp: &Path,
) -> FileRun {
    let f = &todo.found;
    let lineage = FileLineage {
        pipeline: p.id.clone(),
        source_file: f.rel.clone(),
        run_id: ctx.run_id.clone(),
        ingested_at_us: ctx.ingested_at.timestamp_micros(),
    };
    // Two files may have the same content: the index keeps their parts apart.
    let base = format!("{index:05}-{}", &todo.hash[..16]);
    let stem = f
        .abs
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    let mut sink = Sink {
        t,
        stem,
        rel: &f.rel,
        has_key: !p.key.is_empty(),
        staging: StagingWriter::new(
            tmp.join(format!("{base}.staging.parquet")),
            &p.schema,
            lineage.clone(),
            ctx.batch_rows,
        ),
        quarantine: QuarantineWriter::new(
            tmp.join(format!("{base}.quarantine.parquet")),
            lineage,
            ctx.batch_rows,
        ),
        keys: HashMap::new(),
        reasons: BTreeMap::new(),
        rows_in: 0,
        staged: 0,
        quarantined: 0,
        blank: 0,
        footer: 0,
        unreported: 0,
        obs: ctx.obs,
        write_error: None,
    };
    let result = read_file(&f.abs, p, t.slots(), &mut sink);
    ctx.obs.rows(sink.unreported);
    let mut report = file_report(p, f, FileStatus::Ingested);
    report.rows_in = sink.rows_in;
    report.rows_staged = sink.staged;
    report.rows_quarantined = sink.quarantined;
    report.blank_rows = sink.blank;
    report.footer_rows = sink.footer;
    let Sink {
        staging,
        quarantine,
        keys,
        reasons,
        write_error,
        ..
    } = sink;
    let mut error = match result {
        Ok(info) => {
            report.encoding = info.encoding.map(str::to_string);
            report.sheets = info.sheets;
            None
        }
        Err(e) => Some(e),
    };
    if error.is_none() {
        if let Some(e) = write_error {
            error = Some(FileError::new(e.to_string()));
        }
    }
    let staging = staging.finish();
    let quarantine = quarantine.finish();
    let (staging, quarantine) = match (staging, quarantine) {
        (Ok(s), Ok(q)) => (s, q),
        (Err(e), _) | (_, Err(e)) => {
            error.get_or_insert(FileError::new(e.to_string()));
            (None, None)
        }
    };
    if let Some(e) = &error {
        report.status = FileStatus::Failed;
        report.error = Some(e.message.clone());
        report.hint = e.hint.clone();
    }
    FileRun {
        report,
        part_base: base,
        hash: todo.hash.clone(),
        size: f.size,
        mtime: f.mtime,
        staging,
        quarantine,
        keys,
        reasons,
        error,
    }
}

/// Rows whose record key an earlier file (in path order) or an earlier run
/// (append mode) already staged move from staging to quarantine.
fn resolve_duplicates(
    ctx: &Ctx<'_>,
    p: &Pipeline,
    results: &mut [FileRun],
    retained: &[ManifestFile],
    sdir: &Path,
    tmp: &Path,
) -> Result<(), String> {
    if p.key.is_empty() || (results.len() < 2 && retained.is_empty()) {
        return Ok(());
    }
    let mut seen: HashMap<u128, String> = HashMap::new();
    for m in retained {
        if let Some(part) = &m.staging_part {
            for k in read_keys(&sdir.join(part))? {
                seen.entry(xxhash_rust::xxh3::xxh3_128(k.as_bytes()))
                    .or_insert_with(|| format!("`{}` (staged by an earlier run)", m.path));
            }
        }
    }
    for r in results.iter_mut() {
        let mut losers: HashMap<(Option<String>, u64), RowError> = HashMap::new();
        let mut mine: Vec<(u128, (Option<String>, u64))> = r.keys.drain().collect();
        mine.sort_by(|a, b| a.1.cmp(&b.1));
        for (h, pos) in &mine {
            if let Some(first) = seen.get(h) {
                losers.insert(
                    pos.clone(),
                    RowError {
                        rule: "duplicate-key".into(),
                        field: None,
                        value: None,
                        reason: format!("duplicate record key: file {first} has it too"),
                    },
                );
            }
        }
        for (h, pos) in mine {
            if !losers.contains_key(&pos) {
                seen.entry(h)
                    .or_insert_with(|| format!("`{}`", r.report.path));
            }
        }
        if losers.is_empty() {
            continue;
        }
        let Some((staging, _)) = r.staging.clone() else {
            continue;
        };
        let lineage = FileLineage {
            pipeline: p.id.clone(),
            source_file: r.report.path.clone(),
            run_id: ctx.run_id.clone(),
            ingested_at_us: ctx.ingested_at.timestamp_micros(),
        };
        let base = r.part_base.clone();
        let (s, q) = move_to_quarantine(
            &staging,
            r.quarantine.as_ref().map(|(q, _)| q.as_path()),
            tmp.join(format!("{base}.staging.dedup.parquet")),
            tmp.join(format!("{base}.quarantine.dedup.parquet")),
            &losers,
            &p.schema,
            lineage,
            ctx.batch_rows,
        )
        .map_err(|e| e.to_string())?;
        let moved = losers.len() as u64;
        r.report.rows_staged -= moved;
        r.report.rows_quarantined += moved;
        r.report.duplicates_across_files = moved;
        let example = losers
            .values()
            .next()
            .map(|e| e.reason.clone())
            .unwrap_or_default();
        r.reasons
            .entry("duplicate-key".into())
            .and_modify(|c| c.rows += moved)
            .or_insert(ReasonCount {
                rule: "duplicate-key".into(),
                rows: moved,
                example,
                example_at: r.report.path.clone(),
            });
        r.staging = s;
        r.quarantine = q;
    }
    Ok(())
}

fn read_keys(part: &Path) -> Result<Vec<String>, String> {
    use arrow::array::{Array, AsArray};
    use parquet::arrow::ProjectionMask;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let f =
        std::fs::File::open(part).map_err(|e| format!("cannot read `{}`: {e}", part.display()))?;
    let b = ParquetRecordBatchReaderBuilder::try_new(f).map_err(|e| e.to_string())?;
    let idx = b
        .schema()
        .index_of(crate::stage::lineage::RECORD_KEY)
        .map_err(|e| e.to_string())?;
    let mask = ProjectionMask::roots(b.parquet_schema(), [idx]);
    let mut out = Vec::new();
    for batch in b.with_projection(mask).build().map_err(|e| e.to_string())? {
        let batch = batch.map_err(|e| e.to_string())?;
        let col = batch.column(0).as_string::<i32>();
        out.extend(
            (0..col.len())
                .filter(|i| !col.is_null(*i))
                .map(|i| col.value(i).to_string()),
        );
    }
    Ok(out)
}
