//! Reviewers' decisions: `decisions/<kind>.jsonl` in the project.
//!
//! Decisions are human work, so they live with the project (and in its
//! version control), not in the warehouse a run can rebuild. One JSON object
//! per line: `{"a": mention, "b": mention, "decision": "same" | "different",
//! "by": who, "at": when, "note": why}`. The last decision about a pair wins,
//! and every later run respects it.

use crate::resolve::Decisions;
use crate::settings::Kind;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One decision.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Decision {
    /// A mention id.
    pub a: String,
    /// Another mention id.
    pub b: String,
    /// `same` or `different`.
    pub decision: String,
    /// Who decided.
    #[serde(default)]
    pub by: String,
    /// When (RFC 3339).
    #[serde(default)]
    pub at: String,
    /// Why.
    #[serde(default)]
    pub note: String,
}

/// The decisions file of a kind.
pub fn path(project_root: &Path, kind: Kind) -> PathBuf {
    project_root
        .join("decisions")
        .join(format!("{}.jsonl", kind.as_str()))
}

/// Reads every decision; a malformed line is an error naming its line.
pub fn load(project_root: &Path, kind: Kind) -> Result<Vec<Decision>, String> {
    let p = path(project_root, kind);
    let text = match fs_err::read_to_string(&p) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e.to_string()),
    };
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let d: Decision = serde_json::from_str(line)
            .map_err(|e| format!("{}:{}: not a decision: {e}", p.display(), i + 1))?;
        if d.decision != "same" && d.decision != "different" {
            return Err(format!(
                "{}:{}: decision must be `same` or `different`, found `{}`",
                p.display(),
                i + 1,
                d.decision
            ));
        }
        out.push(d);
    }
    Ok(out)
}

/// The effective decisions (the last about each pair).
pub fn effective(decisions: &[Decision]) -> Decisions {
    let mut last: BTreeMap<(String, String), String> = BTreeMap::new();
    for d in decisions {
        let key = if d.a <= d.b {
            (d.a.clone(), d.b.clone())
        } else {
            (d.b.clone(), d.a.clone())
        };
        last.insert(key, d.decision.clone());
    }
    let mut out = Decisions::default();
    for ((a, b), d) in last {
        if d == "same" {
            out.same.push((a, b));
        } else {
            out.different.push((a, b));
        }
    }
    out
}

/// Appends a decision.
pub fn append(project_root: &Path, kind: Kind, d: &Decision) -> std::io::Result<()> {
    use std::io::Write;
    let p = path(project_root, kind);
    if let Some(dir) = p.parent() {
        fs_err::create_dir_all(dir)?;
    }
    let mut f = fs_err::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&p)?;
    writeln!(
        f,
        "{}",
        serde_json::to_string(d).map_err(std::io::Error::other)?
    )
}
