//! Record keys repeated across units (ranges of one file, or files) and
//! across runs (append mode).
//!
//! Units are read in parallel, so a key's first occurrence in (file path,
//! unit, sheet, row) order is only known once all are read: the later
//! unit's row is then moved from its staging part to its quarantine part.

use crate::config::Pipeline;
use crate::file::{FileRun, FoldHasher, KeyHash};
use crate::manifest::ManifestFile;
use crate::report::ReasonCount;
use crate::stage::{FileLineage, move_to_quarantine};
use crate::transform::RowError;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::path::Path;

/// What the move needs to know about the run.
pub struct DedupJob<'a> {
    /// The pipeline.
    pub pipeline: &'a Pipeline,
    /// Files read this run, in path order.
    pub retained: &'a [ManifestFile],
    /// The pipeline's staging folder (for retained parts).
    pub staging_dir: &'a Path,
    /// Temporary folder of the run.
    pub tmp: &'a Path,
    /// Run id.
    pub run_id: &'a str,
    /// Ingest time, µs.
    pub ingested_at_us: i64,
    /// Rows per batch.
    pub batch_rows: usize,
}

/// Moves rows whose key an earlier unit, file or run staged into quarantine.
pub fn resolve(job: &DedupJob<'_>, results: &mut [FileRun]) -> Result<(), String> {
    let p = job.pipeline;
    let units: usize = results.iter().map(|r| r.units.len()).sum();
    if p.key.is_empty() || (units < 2 && job.retained.is_empty()) {
        return Ok(());
    }
    // Where each key was seen first, as an index into `sources` (one text
    // per file rather than one per key).
    let mut sources: Vec<String> = Vec::new();
    let mut seen: HashMap<KeyHash, u32, BuildHasherDefault<FoldHasher>> = HashMap::default();
    seen.reserve(
        results
            .iter()
            .flat_map(|r| &r.units)
            .map(|u| u.keys.len())
            .sum(),
    );
    for m in job.retained {
        let source = sources.len() as u32;
        sources.push(format!("`{}` (staged by an earlier run)", m.path));
        for part in &m.staging_parts {
            for k in read_keys(&job.staging_dir.join(part))? {
                seen.entry(KeyHash::of(&k)).or_insert(source);
            }
        }
    }
    for r in results.iter_mut() {
        let path = r.report.path.clone();
        let source = sources.len() as u32;
        sources.push(format!("`{path}`"));
        let mut moved_total = 0u64;
        let mut example = None;
        for unit in r.units.iter_mut() {
            let mut losers: HashMap<(Option<String>, u64), RowError> = HashMap::new();
            // The unit's first loser in row order gives the example.
            let mut first_loser: Option<((u32, u64), String)> = None;
            // Keys are unique within a unit (repeats were quarantined as the
            // unit was read), so each is looked up and recorded in one probe.
            for (h, sheet, row) in std::mem::take(&mut unit.keys) {
                let slot = match seen.entry(h) {
                    std::collections::hash_map::Entry::Vacant(v) => {
                        v.insert(source);
                        continue;
                    }
                    std::collections::hash_map::Entry::Occupied(o) => *o.get(),
                };
                let first = &sources[slot as usize];
                let where_ = if first.trim_matches('`') == path {
                    "an earlier part of this file".to_string()
                } else {
                    format!("file {first}")
                };
                let reason = format!("duplicate record key: {where_} has it too");
                if first_loser
                    .as_ref()
                    .is_none_or(|(pos, _)| (sheet, row) < *pos)
                {
                    first_loser = Some(((sheet, row), reason.clone()));
                }
                losers.insert(
                    (r.sheets.get(sheet as usize).cloned(), row),
                    RowError {
                        rule: "duplicate-key".into(),
                        field: None,
                        value: None,
                        reason,
                    },
                );
            }
            if let Some((_, reason)) = first_loser {
                example.get_or_insert(reason);
            }
            if losers.is_empty() {
                continue;
            }
            let Some((staging, _)) = unit.staging.clone() else {
                continue;
            };
            let lineage = FileLineage {
                pipeline: p.id.clone(),
                source_file: path.clone(),
                run_id: job.run_id.to_string(),
                ingested_at_us: job.ingested_at_us,
            };
            let base = &unit.part_base;
            let (s, q) = move_to_quarantine(
                &staging,
                unit.quarantine.as_ref().map(|(q, _)| q.as_path()),
                job.tmp.join(format!("{base}.staging.dedup.parquet")),
                job.tmp.join(format!("{base}.quarantine.dedup.parquet")),
                &losers,
                &p.schema,
                lineage,
                job.batch_rows,
            )
            .map_err(|e| e.to_string())?;
            moved_total += losers.len() as u64;
            unit.staging = s;
            unit.quarantine = q;
        }
        if moved_total > 0 {
            r.report.rows_staged -= moved_total;
            r.report.rows_quarantined += moved_total;
            r.report.duplicates_across_files = moved_total;
            let example = example.unwrap_or_default();
            r.reasons
                .entry("duplicate-key".into())
                .and_modify(|c| c.rows += moved_total)
                .or_insert(ReasonCount {
                    rule: "duplicate-key".into(),
                    rows: moved_total,
                    example,
                    example_at: path.clone(),
                });
        }
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
