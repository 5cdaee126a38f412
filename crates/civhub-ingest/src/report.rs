//! What a run did, per pipeline and per file: the data behind the summary
//! table and `--json`.

use serde::Serialize;

/// Outcome of one source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// Read and staged in this run.
    Ingested,
    /// Same content as already staged: skipped.
    Unchanged,
    /// Could not be read; nothing of the pipeline was committed.
    Failed,
    /// Read, but not committed because its pipeline failed.
    RolledBack,
}

/// One source file in one run.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    /// Pipeline id.
    pub pipeline: String,
    /// Path relative to the exports folder.
    pub path: String,
    /// Outcome.
    pub status: FileStatus,
    /// Data rows read in this run (0 when unchanged).
    pub rows_in: u64,
    /// Rows staged in this run.
    pub rows_staged: u64,
    /// Rows quarantined in this run.
    pub rows_quarantined: u64,
    /// Rows whose cells were all empty (not records).
    pub blank_rows: u64,
    /// Rows at or after the `stop-at` footer (not records).
    pub footer_rows: u64,
    /// Rows staged then moved to quarantine because an earlier file had the same key.
    pub duplicates_across_files: u64,
    /// Text encoding used.
    pub encoding: Option<String>,
    /// Sheets read.
    pub sheets: Vec<String>,
    /// Size in bytes.
    pub bytes: u64,
    /// Why the file could not be read.
    pub error: Option<String>,
    /// What would fix it.
    pub hint: Option<String>,
}

/// Outcome of one pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PipelineStatus {
    /// Staged; the table was replaced or extended.
    Ok,
    /// Nothing changed since the last run.
    Unchanged,
    /// No file matches the source path (and no row count was required).
    NoFiles,
    /// Failed: a file could not be read, the bad-row tolerance or the row
    /// bounds were exceeded. The previous table is kept.
    Failed,
}

/// How often one rule sent rows to quarantine.
#[derive(Debug, Clone, Serialize)]
pub struct ReasonCount {
    /// Rule id.
    pub rule: String,
    /// Rows quarantined with it as the first reason.
    pub rows: u64,
    /// The reason given for the first such row.
    pub example: String,
    /// Where that row is: `file:row`.
    pub example_at: String,
}

/// One pipeline in one run.
#[derive(Debug, Clone, Serialize)]
pub struct PipelineReport {
    /// Pipeline id (`department.dataset`).
    pub pipeline: String,
    /// Department id.
    pub department: String,
    /// Schema name.
    pub schema: String,
    /// Outcome.
    pub status: PipelineStatus,
    /// Files matched this run.
    pub files_matched: usize,
    /// Data rows read this run.
    pub rows_in: u64,
    /// Rows staged this run.
    pub rows_staged: u64,
    /// Rows quarantined this run.
    pub rows_quarantined: u64,
    /// Rows in the staging table after the run.
    pub table_rows: u64,
    /// Quarantine reasons, most frequent first.
    pub top_reasons: Vec<ReasonCount>,
    /// Why the pipeline failed.
    pub error: Option<String>,
    /// Things worth knowing that did not fail the pipeline.
    pub warnings: Vec<String>,
    /// Per file.
    pub files: Vec<FileReport>,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
}

/// Totals over a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    /// Pipelines run.
    pub pipelines: usize,
    /// Pipelines that staged new data.
    pub pipelines_ok: usize,
    /// Pipelines with nothing new.
    pub pipelines_unchanged: usize,
    /// Pipelines that failed.
    pub pipelines_failed: usize,
    /// Pipelines with no files.
    pub pipelines_no_files: usize,
    /// Files read.
    pub files_ingested: usize,
    /// Files skipped as unchanged.
    pub files_unchanged: usize,
    /// Files that failed.
    pub files_failed: usize,
    /// Bytes read.
    pub bytes_read: u64,
    /// Data rows read.
    pub rows_in: u64,
    /// Rows staged.
    pub rows_staged: u64,
    /// Rows quarantined.
    pub rows_quarantined: u64,
}

/// A whole ingest run.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// Run id.
    pub run_id: String,
    /// Start (RFC 3339, UTC).
    pub started_at: String,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
    /// The warehouse written.
    pub warehouse: String,
    /// True when no pipeline failed.
    pub ok: bool,
    /// Totals.
    pub totals: Totals,
    /// Per pipeline, ordered by id.
    pub pipelines: Vec<PipelineReport>,
}

impl RunReport {
    /// Computes totals from the pipeline reports.
    pub fn totals_of(pipelines: &[PipelineReport]) -> Totals {
        let mut t = Totals {
            pipelines: pipelines.len(),
            ..Totals::default()
        };
        for p in pipelines {
            match p.status {
                PipelineStatus::Ok => t.pipelines_ok += 1,
                PipelineStatus::Unchanged => t.pipelines_unchanged += 1,
                PipelineStatus::Failed => t.pipelines_failed += 1,
                PipelineStatus::NoFiles => t.pipelines_no_files += 1,
            }
            for f in &p.files {
                match f.status {
                    FileStatus::Ingested | FileStatus::RolledBack => {
                        t.files_ingested += 1;
                        t.bytes_read += f.bytes;
                    }
                    FileStatus::Unchanged => t.files_unchanged += 1,
                    FileStatus::Failed => t.files_failed += 1,
                }
            }
            t.rows_in += p.rows_in;
            t.rows_staged += p.rows_staged;
            t.rows_quarantined += p.rows_quarantined;
        }
        t
    }
}
