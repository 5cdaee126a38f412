//! Where matching's results live: `warehouse/mdm/<kind>/<run>/…`, with
//! `warehouse/mdm/<kind>/current.json` naming the last complete run.
//!
//! A run writes every table into a new folder and then replaces
//! `current.json` atomically, so a reader sees the previous results or the
//! new ones, never a mix; older folders are removed afterwards.

use crate::settings::Kind;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Tables of a matching run.
pub const MENTIONS: &str = "mentions.parquet";
/// Mention → golden id.
pub const XREF: &str = "xref.parquet";
/// Golden records.
pub const GOLDEN: &str = "golden.parquet";
/// Pairs waiting for review.
pub const REVIEW: &str = "review.parquet";
/// Merges, splits, retirements.
pub const HISTORY: &str = "history.parquet";
/// The trained model.
pub const MODEL: &str = "model.json";
/// Term frequencies the run weighed exact agreements with.
pub const TERM_FREQUENCIES: &str = "tf.parquet";

/// `current.json`: the last complete run of a kind.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Current {
    /// Run id (also the folder name).
    pub run_id: String,
    /// When it finished (RFC 3339).
    pub finished_at: String,
    /// The summary of that run.
    pub report: serde_json::Value,
    /// Hash of the decisions file the run honoured (a change needs a full run).
    #[serde(default)]
    pub decisions_hash: u64,
}

/// The folder of a kind.
pub fn kind_dir(warehouse: &Path, kind: Kind) -> PathBuf {
    warehouse.join("mdm").join(kind.as_str())
}

/// The last complete run of a kind, if any.
pub fn current(warehouse: &Path, kind: Kind) -> Option<(Current, PathBuf)> {
    let dir = kind_dir(warehouse, kind);
    let text = fs_err::read_to_string(dir.join("current.json")).ok()?;
    let c: Current = serde_json::from_str(&text).ok()?;
    let run_dir = dir.join(&c.run_id);
    Some((c, run_dir))
}

/// Makes `run_id` current and removes older run folders.
pub fn commit(warehouse: &Path, kind: Kind, current: &Current) -> std::io::Result<()> {
    let dir = kind_dir(warehouse, kind);
    let tmp = dir.join("current.json.tmp");
    fs_err::write(
        &tmp,
        serde_json::to_string_pretty(current).map_err(std::io::Error::other)?,
    )?;
    fs_err::rename(&tmp, dir.join("current.json"))?;
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if e.path().is_dir() && name != current.run_id {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    Ok(())
}
