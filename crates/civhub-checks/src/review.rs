//! Caseworkers' reviews of findings: `decisions/checks-<id>.jsonl` in the
//! project, one JSON object per line — `{"finding_id", "status": "open" |
//! "confirmed" | "dismissed", "reason", "by", "at"}`. The last line about a
//! finding wins; every later run carries the status onto the finding (its id
//! is stable while the evidence is the same). A dismissal needs a reason.

use civhub_ingest::config::Project;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Review statuses.
pub const STATUSES: [&str; 3] = ["open", "confirmed", "dismissed"];

/// One review.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Review {
    /// The finding.
    pub finding_id: String,
    /// open, confirmed or dismissed.
    pub status: String,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Who.
    #[serde(default)]
    pub by: String,
    /// When (RFC 3339).
    #[serde(default)]
    pub at: String,
}

/// The decisions file of a check.
pub fn path(project: &Project, check: &str) -> PathBuf {
    project
        .root
        .join("decisions")
        .join(format!("checks-{check}.jsonl"))
}

fn validate(r: &Review) -> Result<(), String> {
    if !STATUSES.contains(&r.status.as_str()) {
        return Err(format!(
            "status must be one of {}, found `{}`",
            STATUSES.join(", "),
            r.status
        ));
    }
    if r.status == "dismissed" && r.reason.as_deref().is_none_or(|s| s.trim().is_empty()) {
        return Err("a dismissal needs a reason".into());
    }
    Ok(())
}

/// Every review, in file order; a malformed line is an error naming it.
pub fn load(project: &Project, check: &str) -> Result<Vec<Review>, String> {
    let p = path(project, check);
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
        let r: Review = serde_json::from_str(line)
            .map_err(|e| format!("{}:{}: not a review: {e}", p.display(), i + 1))?;
        validate(&r).map_err(|e| format!("{}:{}: {e}", p.display(), i + 1))?;
        out.push(r);
    }
    Ok(out)
}

/// The review in force for each finding.
pub fn effective(project: &Project, check: &str) -> Result<BTreeMap<String, Review>, String> {
    Ok(load(project, check)?
        .into_iter()
        .map(|r| (r.finding_id.clone(), r))
        .collect())
}

/// Appends a review (validated) to the decisions file.
pub fn record(project: &Project, check: &str, r: &Review) -> Result<PathBuf, String> {
    validate(r)?;
    let p = path(project, check);
    if let Some(dir) = p.parent() {
        fs_err::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    use std::io::Write;
    let mut f = fs_err::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&p)
        .map_err(|e| e.to_string())?;
    let line = serde_json::to_string(r).map_err(|e| e.to_string())?;
    writeln!(f, "{line}").map_err(|e| e.to_string())?;
    Ok(p)
}
