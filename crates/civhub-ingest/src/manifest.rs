//! The staging manifest of a pipeline: which source files are staged, from
//! which content, into which parts.
//!
//! The manifest is the table's commit point: parts are written first, then the
//! manifest is replaced atomically (write to a temporary file, rename). A reader
//! that goes through the manifest sees the previous state or the new one, and a
//! run killed half-way leaves only unreferenced part files, removed by the next
//! run.

use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::{Path, PathBuf};

/// File name of the manifest inside a pipeline's staging folder.
pub const MANIFEST_FILE: &str = "_manifest.json";

/// What is staged for one pipeline.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Manifest {
    /// Pipeline id.
    pub pipeline: String,
    /// Fingerprint of the definition the parts were staged with (hex).
    pub fingerprint: String,
    /// Run that last changed the table.
    pub run_id: String,
    /// When that run committed (RFC 3339, UTC).
    pub committed_at: String,
    /// Staged source files, sorted by path.
    pub files: Vec<ManifestFile>,
}

/// One staged source file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ManifestFile {
    /// Path relative to the exports folder.
    pub path: String,
    /// Size in bytes when staged.
    pub size: u64,
    /// Modification time when staged (nanoseconds since the epoch).
    pub mtime_ns: i128,
    /// xxh3-128 of the content (hex).
    pub hash: String,
    /// Staging part file names (several when a large file was read in ranges).
    pub staging_parts: Vec<String>,
    /// Quarantine part file names.
    pub quarantine_parts: Vec<String>,
    /// Data rows read.
    pub rows_in: u64,
    /// Rows staged.
    pub rows_staged: u64,
    /// Rows quarantined.
    pub rows_quarantined: u64,
    /// Run that staged it.
    pub run_id: String,
    /// When (RFC 3339, UTC).
    pub ingested_at: String,
}

impl Manifest {
    /// Reads the manifest of the pipeline staged in `dir`; `Ok(None)` when none exists.
    pub fn load(dir: &Path) -> Result<Option<Manifest>, String> {
        let path = dir.join(MANIFEST_FILE);
        match fs_err::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| format!("`{}` is damaged: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Replaces the manifest in `dir` atomically.
    pub fn store(&self, dir: &Path) -> std::io::Result<()> {
        fs_err::create_dir_all(dir)?;
        let tmp = dir.join(format!("{MANIFEST_FILE}.tmp"));
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        {
            use std::io::Write;
            let mut f = fs_err::File::create(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
        }
        fs_err::rename(&tmp, dir.join(MANIFEST_FILE))
    }

    /// Total staged rows.
    pub fn rows_staged(&self) -> u64 {
        self.files.iter().map(|f| f.rows_staged).sum()
    }

    /// Total quarantined rows.
    pub fn rows_quarantined(&self) -> u64 {
        self.files.iter().map(|f| f.rows_quarantined).sum()
    }

    /// Absolute paths of the staging parts.
    pub fn staging_parts(&self, dir: &Path) -> Vec<PathBuf> {
        self.files
            .iter()
            .flat_map(|f| f.staging_parts.iter())
            .map(|p| dir.join(p))
            .collect()
    }
}

/// xxh3-128 of a file's content, hex.
pub fn hash_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    // 256 KiB: stays in the L2 cache between the read and the hash, and
    // is cheap to allocate (zeroed) once per file.
    let mut buf = vec![0u8; 256 << 10];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(format!("{:032x}", h.digest128()))
}

/// Modification time in nanoseconds since the epoch (0 when unknown).
pub fn mtime_ns(meta: &std::fs::Metadata) -> i128 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0)
}
