//! Running pipelines: discover files, decide what changed, read files in
//! parallel, resolve duplicate keys, enforce tolerances, commit.
//!
//! Each pipeline commits on its own and atomically: either all its files of
//! the run are staged (and the manifest switched), or none is and the previous
//! table stays. A pipeline whose files all match what is staged (same path,
//! size and modification time, or same content hash) is skipped, so running
//! twice over unchanged exports stages nothing twice.

use crate::config::{Mode, Pipeline, Project};
use crate::dedup::DedupJob;
use crate::file::{FileJob, FileRun, read_one};
use crate::manifest::{Manifest, ManifestFile, hash_file, mtime_ns};
use crate::report::*;
use crate::transform::Transformer;
use chrono::{SecondsFormat, Utc};
use rayon::prelude::*;
use std::collections::BTreeMap;
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
    if fs_err::create_dir_all(&runs).is_ok()
        && let Ok(text) = serde_json::to_string_pretty(&report)
    {
        let _ = fs_err::write(runs.join(format!("{}.json", report.run_id)), text);
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
        if same_def
            && let Some(m) = prev
            && m.size == f.size
            && m.mtime_ns == f.mtime
        {
            unchanged.push((f, m.clone()));
            continue;
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
    let threads = rayon::current_num_threads();
    let mut results: Vec<FileRun> = todo
        .par_iter()
        .enumerate()
        .map(|(i, t)| {
            let job = FileJob {
                pipeline: p,
                transformer: &transformer,
                abs: &t.found.abs,
                rel: &t.found.rel,
                hash: &t.hash,
                index: i,
                tmp: &tmp,
                run_id: &ctx.run_id,
                ingested_at_us: ctx.ingested_at.timestamp_micros(),
                batch_rows: ctx.batch_rows,
                threads,
                range_bytes: ctx.project.file.ingest.range_bytes,
                obs: ctx.obs,
            };
            read_one(&job, t.found.size, t.found.mtime)
        })
        .collect();

    let mut failed = None;
    for r in &results {
        if let Some(e) = &r.error {
            failed.get_or_insert_with(|| format!("cannot read `{}`: {}", r.report.path, e.message));
        }
    }
    if failed.is_none() {
        let job = DedupJob {
            pipeline: p,
            retained: &retained,
            staging_dir: &sdir,
            tmp: &tmp,
            run_id: &ctx.run_id,
            ingested_at_us: ctx.ingested_at.timestamp_micros(),
            batch_rows: ctx.batch_rows,
        };
        if let Err(e) = crate::dedup::resolve(&job, &mut results) {
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
    if let Some(max) = p.limits.max_bad_rows
        && bad > max
    {
        cleanup();
        return fail(
            report,
            format!("{bad} rows quarantined, above max-bad-rows = {max}"),
        );
    }
    if let Some(ratio) = p.limits.max_bad_ratio
        && rows > 0
        && bad as f64 / rows as f64 > ratio
    {
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
    let total_rows: u64 = rows + retained.iter().map(|m| m.rows_in).sum::<u64>();
    if let Some(min) = p.limits.min_rows
        && total_rows < min
    {
        cleanup();
        return fail(
            report,
            format!("{total_rows} data rows, below min-rows = {min} (a truncated export?)"),
        );
    }
    if let Some(max) = p.limits.max_rows
        && total_rows > max
    {
        cleanup();
        return fail(
            report,
            format!("{total_rows} data rows, above max-rows = {max}"),
        );
    }

    // Commit: move parts in, switch the manifest, remove what it no longer names.
    let committed_at = ctx.ingested_at.to_rfc3339_opts(SecondsFormat::Secs, true);
    let mut entries = retained;
    let commit = (|| -> Result<(), String> {
        fs_err::create_dir_all(&sdir).map_err(|e| e.to_string())?;
        fs_err::create_dir_all(&qdir).map_err(|e| e.to_string())?;
        for r in &results {
            let mut staging_parts = Vec::new();
            let mut quarantine_parts = Vec::new();
            for u in &r.units {
                let name = format!("{}-{}.parquet", u.part_base, ctx.run_id.to_lowercase());
                if let Some((path, _)) = &u.staging {
                    fs_err::rename(path, sdir.join(&name)).map_err(|e| e.to_string())?;
                    staging_parts.push(name.clone());
                }
                if let Some((path, _)) = &u.quarantine {
                    fs_err::rename(path, qdir.join(&name)).map_err(|e| e.to_string())?;
                    quarantine_parts.push(name);
                }
            }
            entries.push(ManifestFile {
                path: r.report.path.clone(),
                size: r.size,
                mtime_ns: r.mtime,
                hash: r.hash.clone(),
                staging_parts,
                quarantine_parts,
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
            .flat_map(|f| f.staging_parts.iter().map(String::as_str))
            .collect();
        let keep_q: std::collections::HashSet<&str> = m
            .files
            .iter()
            .flat_map(|f| f.quarantine_parts.iter().map(String::as_str))
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
