//! Reading one source file into staging and quarantine parts.
//!
//! A file is read as one or more *units*: the whole file, or — for a large
//! CSV without a footer pattern — byte ranges cut on record boundaries (see
//! `read::csv::plan`), read in parallel. Each unit writes its own staging and
//! quarantine part. A repeated record key inside a unit is quarantined as it
//! is read, with its original cells; repeats across units and files are
//! resolved afterwards (`dedup.rs`).

use crate::config::{Format, Pipeline};
use crate::read::{FileError, RowSink, RowView, read_file};
use crate::report::{FileReport, FileStatus, ReasonCount};
use crate::run::Observer;
use crate::stage::{FileLineage, QuarantineWriter, StagingWriter, WriteError};
use crate::transform::{RowError, RowScratch, Transformer};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::hash::Hasher;
use std::path::{Path, PathBuf};

/// Hashes a [`KeyHash`] (already uniformly random) by folding it.
#[derive(Default)]
pub struct FoldHasher(u64);

impl Hasher for FoldHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = self.0.rotate_left(8) ^ v;
    }
    fn write_u128(&mut self, v: u128) {
        self.0 = (v as u64) ^ ((v >> 64) as u64);
    }
}

/// The 128-bit hash of a record key, as two halves: 8-byte aligned, so that
/// a table entry of it and a `u32` takes 24 bytes rather than 32.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyHash(u64, u64);

impl KeyHash {
    /// The hash of a record key's text.
    pub fn of(key: &str) -> Self {
        let h = xxhash_rust::xxh3::xxh3_128(key.as_bytes());
        KeyHash(h as u64, (h >> 64) as u64)
    }

    /// Where a [`KeyTable`] starts looking for the key.
    fn slot(self) -> usize {
        self.0 as usize
    }

    /// The tag a [`KeyTable`] slot keeps of the key (high bits, independent
    /// of [`Self::slot`]).
    fn tag(self) -> u64 {
        self.1 & TAG_MASK
    }
}

impl std::hash::Hash for KeyHash {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.0 ^ self.1);
    }
}

/// The staged rows of a unit that have a record key: each key's hash, sheet
/// index (`u32::MAX` without sheets) and row, in row order; keys are unique
/// within a unit (a repeat is quarantined as it is read).
pub type KeyRows = Vec<(KeyHash, u32, u64)>;

/// The record keys of a unit being read: [`KeyRows`], and an open-addressing
/// table over them to tell a repeated key at once.
///
/// A slot is one `u64`: a 32-bit tag from the key hash and the key's index in
/// the rows, plus one (0: empty). With a slot this small and linear probing,
/// telling a new key costs one random memory access (the table of a large
/// range does not fit in the caches) rather than two (control bytes, then the
/// bucket) in a `HashMap` of 32-byte entries. A key's full hash is read from
/// the rows only when its tag matches.
#[derive(Default)]
pub struct KeyTable {
    rows: KeyRows,
    slots: Vec<u64>,
}

impl KeyTable {
    /// A table with room for about `keys` keys before it grows.
    pub fn with_capacity(keys: usize) -> Self {
        let mut t = KeyTable::default();
        t.reserve(keys);
        t
    }

    /// Makes room for `keys` keys in all.
    pub fn reserve(&mut self, keys: usize) {
        self.rows.reserve(keys.saturating_sub(self.rows.len()));
        // At most half full: probes stay short.
        let want = (keys.max(8) * 2).next_power_of_two();
        if want > self.slots.len() {
            self.rehash(want);
        }
    }

    fn rehash(&mut self, len: usize) {
        self.slots = vec![0; len];
        let mask = len - 1;
        for (i, (h, _, _)) in self.rows.iter().enumerate() {
            let mut pos = h.slot() & mask;
            while self.slots[pos] != 0 {
                pos = (pos + 1) & mask;
            }
            self.slots[pos] = h.tag() | (i as u64 + 1);
        }
    }

    /// Asks the processor to bring the slot where `h` would be looked up
    /// into the cache: a new key's lookup is otherwise a cache miss (the
    /// table of a large range does not fit), which took most of the time of
    /// [`Self::insert`]. Called as soon as a row's key is known, before the
    /// rest of the row is transformed.
    pub fn prefetch(&self, h: KeyHash) {
        if let Some(slot) = self.slots.get(h.slot() & self.slots.len().wrapping_sub(1)) {
            prefetch(slot);
        }
    }

    /// Records `h` at (`sheet`, `row`); if it is there already, returns
    /// where it was recorded first and records nothing.
    pub fn insert(&mut self, h: KeyHash, sheet: u32, row: u64) -> Option<(u32, u64)> {
        if (self.rows.len() + 1) * 2 > self.slots.len() {
            self.rehash((self.slots.len() * 2).max(16));
        }
        let mask = self.slots.len() - 1;
        let tag = h.tag();
        let mut pos = h.slot() & mask;
        loop {
            let slot = self.slots[pos];
            if slot == 0 {
                break;
            }
            if slot & TAG_MASK == tag {
                let (k, s, r) = self.rows[(slot & !TAG_MASK) as usize - 1];
                if k == h {
                    return Some((s, r));
                }
            }
            pos = (pos + 1) & mask;
        }
        // More rows than a slot can index would need a table of 32 GiB.
        debug_assert!(self.rows.len() < u32::MAX as usize);
        self.slots[pos] = tag | (self.rows.len() as u64 + 1);
        self.rows.push((h, sheet, row));
        None
    }

    /// Keys recorded.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// No key recorded.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The rows, the table dropped.
    pub fn into_rows(self) -> KeyRows {
        self.rows
    }
}

/// A hint to load `value`'s cache line; nothing on other processors.
#[inline(always)]
fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch reads nothing the program sees and cannot fault;
    // the pointer comes from a reference anyway. SSE is part of x86_64.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
            (value as *const T).cast(),
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

/// The bits of a [`KeyTable`] slot holding the tag.
const TAG_MASK: u64 = 0xFFFF_FFFF_0000_0000;

/// One independently read piece of a file.
pub struct Unit {
    /// `<file index>-<unit index>-<content hash prefix>`, unique within the run.
    pub part_base: String,
    /// The staging part, if any row was staged, and its row count.
    pub staging: Option<(PathBuf, u64)>,
    /// The quarantine part, if any row was quarantined.
    pub quarantine: Option<(PathBuf, u64)>,
    /// Keys of the staged rows.
    pub keys: KeyRows,
}

/// One file read in this run.
pub struct FileRun {
    /// What is reported.
    pub report: FileReport,
    /// Content hash.
    pub hash: String,
    /// Size in bytes.
    pub size: u64,
    /// Modification time (ns).
    pub mtime: i128,
    /// Units in row order.
    pub units: Vec<Unit>,
    /// Sheet names by index (xlsx).
    pub sheets: Vec<String>,
    /// Quarantine reasons.
    pub reasons: BTreeMap<String, ReasonCount>,
    /// Why the file could not be read.
    pub error: Option<FileError>,
}

/// What a file read needs to know about the run.
pub struct FileJob<'a> {
    /// The pipeline.
    pub pipeline: &'a Pipeline,
    /// Its prepared transform.
    pub transformer: &'a Transformer<'a>,
    /// The file, absolute.
    pub abs: &'a Path,
    /// The file, relative to the exports folder.
    pub rel: &'a str,
    /// Content hash.
    pub hash: &'a str,
    /// Position of the file among this run's files of the pipeline.
    pub index: usize,
    /// Where parts are written before the commit.
    pub tmp: &'a Path,
    /// Run id.
    pub run_id: &'a str,
    /// Ingest time, µs since the epoch.
    pub ingested_at_us: i64,
    /// Rows per Arrow batch.
    pub batch_rows: usize,
    /// Worker threads of the run.
    pub threads: usize,
    /// A CSV of at least twice this size is read in ranges of about this size.
    pub range_bytes: u64,
    /// Progress.
    pub obs: &'a dyn Observer,
}

struct Sink<'a> {
    t: &'a Transformer<'a>,
    stem: &'a str,
    rel: &'a str,
    has_key: bool,
    staging: StagingWriter,
    quarantine: QuarantineWriter,
    keys: KeyTable,
    sheets: Vec<String>,
    reasons: BTreeMap<String, ReasonCount>,
    counts: Counts,
    unreported: u64,
    obs: &'a dyn Observer,
    write_error: Option<WriteError>,
    scratch: RowScratch,
}

#[derive(Default, Clone, Copy)]
struct Counts {
    rows_in: u64,
    staged: u64,
    quarantined: u64,
    blank: u64,
    footer: u64,
}

impl Sink<'_> {
    fn sheet_index(&mut self, sheet: Option<&str>) -> u32 {
        let Some(s) = sheet else { return u32::MAX };
        match self.sheets.iter().position(|x| x == s) {
            Some(i) => i as u32,
            None => {
                self.sheets.push(s.to_string());
                (self.sheets.len() - 1) as u32
            }
        }
    }

    fn quarantine_row(
        &mut self,
        errors: &[RowError],
        original: &str,
        key: Option<&str>,
        sheet: Option<&str>,
        row: u64,
    ) {
        self.counts.quarantined += 1;
        if let Some(first) = errors.first() {
            match self.reasons.get_mut(&first.rule) {
                Some(r) => r.rows += 1,
                None => {
                    let at = match sheet {
                        Some(s) => format!("{}[{s}]:{row}", self.rel),
                        None => format!("{}:{row}", self.rel),
                    };
                    self.reasons.insert(
                        first.rule.clone(),
                        ReasonCount {
                            rule: first.rule.clone(),
                            rows: 1,
                            example: first.reason.clone(),
                            example_at: at,
                        },
                    );
                }
            }
        }
        if self.write_error.is_none()
            && let Err(e) = self.quarantine.push(errors, original, key, sheet, row)
        {
            self.write_error = Some(e);
        }
    }
}

impl Sink<'_> {
    /// Stages a transformed row, or quarantines it when its record key
    /// repeats one staged earlier in this unit.
    /// `hash` is the key's, when [`Transformer::apply`] gave it early.
    fn stage(&mut self, row: &dyn RowView, scratch: &RowScratch, hash: Option<KeyHash>) {
        let key = scratch.key();
        if self.has_key {
            let h = hash.unwrap_or_else(|| KeyHash::of(key));
            let sheet = self.sheet_index(row.sheet());
            if let Some((s, first)) = self.keys.insert(h, sheet, row.row()) {
                let at = match self.sheets.get(s as usize) {
                    Some(name) => format!("sheet `{name}` row {first}"),
                    None => format!("row {first}"),
                };
                let err = RowError {
                    rule: "duplicate-key".into(),
                    field: None,
                    value: Some(key.to_string()),
                    reason: format!("duplicate record key `{key}`: {at} of this file has it too"),
                };
                self.quarantine_row(&[err], &row.original(), Some(key), row.sheet(), row.row());
                return;
            }
        }
        self.counts.staged += 1;
        if self.write_error.is_none()
            && let Err(e) = self.staging.push(
                scratch.values(),
                scratch.flags(),
                key,
                row.sheet(),
                row.row(),
            )
        {
            self.write_error = Some(e);
        }
    }
}

impl RowSink for Sink<'_> {
    fn row(&mut self, row: &dyn RowView) {
        self.counts.rows_in += 1;
        self.unreported += 1;
        if self.unreported >= 8192 {
            self.obs.rows(self.unreported);
            self.unreported = 0;
        }
        // The buffers are moved out while the row is handled, so that the
        // key they hold can be read while `self` is updated.
        let mut scratch = std::mem::take(&mut self.scratch);
        let mut hash = None;
        let keys = &self.keys;
        let mut on_key = |key: &str| {
            let h = KeyHash::of(key);
            keys.prefetch(h);
            hash = Some(h);
        };
        match self.t.apply(row, self.stem, &mut scratch, &mut on_key) {
            Err(errors) => {
                self.quarantine_row(&errors, &row.original(), None, row.sheet(), row.row())
            }
            Ok(()) => self.stage(row, &scratch, hash),
        }
        self.scratch = scratch;
    }
    fn blank(&mut self) {
        self.counts.blank += 1;
    }
    fn footer(&mut self) {
        self.counts.footer += 1;
    }
    fn expect_rows(&mut self, rows: u64) {
        // Capped like the tables of ranges: a bound far above the rows
        // would only waste memory.
        let rows = rows.min(1 << 24) as usize;
        if self.has_key {
            self.keys.reserve(rows);
        }
    }
}

struct UnitResult {
    unit: Unit,
    counts: Counts,
    sheets: Vec<String>,
    reasons: BTreeMap<String, ReasonCount>,
    error: Option<FileError>,
    info: Option<crate::read::ReadInfo>,
}

/// Reads a file (in parallel ranges when it is a large CSV).
pub fn read_one(job: &FileJob<'_>, size: u64, mtime: i128) -> FileRun {
    let p = job.pipeline;
    let stem = job
        .abs
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    let splittable = *p.def.source.format.get_ref() == Format::Csv
        && p.stop_at.is_none()
        && size >= 2 * job.range_bytes.max(1);
    let results: Vec<UnitResult> = if splittable {
        let want = ((size / job.range_bytes.max(1)) as usize).clamp(1, job.threads.max(1) * 4);
        match crate::read::csv::plan(job.abs, p, job.transformer.slots(), want) {
            Err(e) => vec![failed_unit(job, e)],
            Ok(plan) => {
                let info = crate::read::ReadInfo {
                    encoding: Some(plan.encoding.as_str()),
                    sheets: Vec::new(),
                };
                let mut rs: Vec<UnitResult> = plan
                    .ranges
                    .par_iter()
                    .enumerate()
                    .map(|(k, range)| {
                        let lines = plan.range_lines(k);
                        run_unit(job, &stem, k, lines, |sink| {
                            crate::read::csv::read_range(job.abs, p, &plan, *range, sink)
                                .map(|_| info.clone())
                        })
                    })
                    .collect();
                if rs.is_empty() {
                    rs.push(run_unit(job, &stem, 0, 0, |_| Ok(info.clone())));
                }
                rs
            }
        }
    } else {
        vec![run_unit(job, &stem, 0, 0, |sink| {
            read_file(job.abs, p, job.transformer.slots(), sink)
        })]
    };
    let mut report = FileReport {
        pipeline: p.id.clone(),
        path: job.rel.to_string(),
        status: FileStatus::Ingested,
        rows_in: 0,
        rows_staged: 0,
        rows_quarantined: 0,
        blank_rows: 0,
        footer_rows: 0,
        duplicates_across_files: 0,
        encoding: None,
        sheets: Vec::new(),
        bytes: size,
        error: None,
        hint: None,
    };
    let mut reasons: BTreeMap<String, ReasonCount> = BTreeMap::new();
    let mut error = None;
    let mut units = Vec::new();
    let mut sheets = Vec::new();
    for r in results {
        report.rows_in += r.counts.rows_in;
        report.rows_staged += r.counts.staged;
        report.rows_quarantined += r.counts.quarantined;
        report.blank_rows += r.counts.blank;
        report.footer_rows += r.counts.footer;
        if let Some(info) = r.info {
            report.encoding = info.encoding.map(str::to_string);
            if !info.sheets.is_empty() {
                report.sheets = info.sheets;
            }
        }
        for (rule, rc) in r.reasons {
            match reasons.get_mut(&rule) {
                Some(e) => e.rows += rc.rows,
                None => {
                    reasons.insert(rule, rc);
                }
            }
        }
        if error.is_none() {
            error = r.error;
        }
        if sheets.is_empty() {
            sheets = r.sheets;
        }
        units.push(r.unit);
    }
    if let Some(e) = &error {
        report.status = FileStatus::Failed;
        report.error = Some(e.message.clone());
        report.hint = e.hint.clone();
    }
    FileRun {
        report,
        hash: job.hash.to_string(),
        size,
        mtime,
        units,
        sheets,
        reasons,
        error,
    }
}

fn failed_unit(job: &FileJob<'_>, e: FileError) -> UnitResult {
    UnitResult {
        unit: Unit {
            part_base: format!("{:05}-000-{}", job.index, &job.hash[..16]),
            staging: None,
            quarantine: None,
            keys: KeyRows::new(),
        },
        counts: Counts::default(),
        sheets: Vec::new(),
        reasons: BTreeMap::new(),
        error: Some(e),
        info: None,
    }
}

/// Reads one unit; `lines` (0 when unknown) bounds its rows, to size the key
/// table once instead of growing it.
fn run_unit(
    job: &FileJob<'_>,
    stem: &str,
    k: usize,
    lines: u64,
    read: impl FnOnce(&mut dyn RowSink) -> Result<crate::read::ReadInfo, FileError>,
) -> UnitResult {
    let p = job.pipeline;
    // Two files may have the same content: the file index keeps their parts apart.
    let base = format!("{:05}-{k:03}-{}", job.index, &job.hash[..16]);
    let lineage = FileLineage {
        pipeline: p.id.clone(),
        source_file: job.rel.to_string(),
        run_id: job.run_id.to_string(),
        ingested_at_us: job.ingested_at_us,
    };
    let mut sink = Sink {
        t: job.transformer,
        stem,
        rel: job.rel,
        has_key: !p.key.is_empty(),
        staging: StagingWriter::new(
            job.tmp.join(format!("{base}.staging.parquet")),
            &p.schema,
            lineage.clone(),
            job.batch_rows,
        ),
        quarantine: QuarantineWriter::new(
            job.tmp.join(format!("{base}.quarantine.parquet")),
            lineage,
            job.batch_rows,
        ),
        keys: if p.key.is_empty() {
            KeyTable::default()
        } else {
            // Capped: a bound far above the rows would only waste memory.
            KeyTable::with_capacity(lines.min(1 << 24) as usize)
        },
        sheets: Vec::new(),
        reasons: BTreeMap::new(),
        counts: Counts::default(),
        unreported: 0,
        obs: job.obs,
        write_error: None,
        scratch: RowScratch::default(),
    };
    let result = read(&mut sink);
    job.obs.rows(sink.unreported);
    let Sink {
        staging,
        quarantine,
        keys,
        sheets,
        reasons,
        counts,
        write_error,
        ..
    } = sink;
    let (mut error, info) = match result {
        Ok(info) => (None, Some(info)),
        Err(e) => (Some(e), None),
    };
    if error.is_none() {
        error = write_error.map(|e| FileError::new(e.to_string()));
    }
    let (staging, quarantine) = match (staging.finish(), quarantine.finish()) {
        (Ok(s), Ok(q)) => (s, q),
        (Err(e), _) | (_, Err(e)) => {
            error.get_or_insert(FileError::new(e.to_string()));
            (None, None)
        }
    };
    UnitResult {
        unit: Unit {
            part_base: base,
            staging,
            quarantine,
            keys: keys.into_rows(),
        },
        counts,
        sheets,
        reasons,
        error,
        info,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_table_tells_repeats_as_a_set_does() {
        // From no capacity (grown as it fills) and from a capacity given.
        for capacity in [0, 10, 5000] {
            let mut table = KeyTable::with_capacity(capacity);
            let mut first: std::collections::HashMap<u64, (u32, u64)> = Default::default();
            // xorshift: reproducible without a dependency.
            let mut state = 0x2545_F491_4F6C_DD1Du64;
            for row in 0..20_000u64 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let k = state % 7_000; // many repeats
                let h = KeyHash::of(&format!("key-{k}"));
                let sheet = (row % 3) as u32;
                let expected = first.get(&k).copied();
                assert_eq!(table.insert(h, sheet, row), expected, "row {row}");
                first.entry(k).or_insert((sheet, row));
            }
            assert_eq!(table.len(), first.len());
            let rows = table.into_rows();
            let mut seen: Vec<(u32, u64)> = rows.iter().map(|&(_, s, r)| (s, r)).collect();
            let mut want: Vec<(u32, u64)> = first.into_values().collect();
            seen.sort_unstable();
            want.sort_unstable();
            assert_eq!(seen, want);
        }
    }

    #[test]
    fn a_prefetch_changes_nothing_and_needs_no_slots() {
        let h = KeyHash::of("340102199001011234");
        // No slot yet: nothing to prefetch, no panic.
        let mut table = KeyTable::default();
        table.prefetch(h);
        assert_eq!(table.insert(h, u32::MAX, 2), None);
        table.prefetch(h);
        table.prefetch(KeyHash::of("other"));
        assert_eq!(table.insert(h, u32::MAX, 3), Some((u32::MAX, 2)));
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn keys_differing_only_past_the_tag_are_told_apart() {
        // Same slot and tag, different hashes: both recorded.
        let mut table = KeyTable::with_capacity(4);
        let a = KeyHash(7, 0xABCD_0000_0000_0001);
        let b = KeyHash(7, 0xABCD_0000_0000_0002);
        assert_eq!(table.insert(a, 0, 1), None);
        assert_eq!(table.insert(b, 0, 2), None);
        assert_eq!(table.insert(b, 0, 3), Some((0, 2)));
        assert_eq!(table.insert(a, 0, 4), Some((0, 1)));
        assert_eq!(table.len(), 2);
    }
}
