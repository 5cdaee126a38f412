//! Releases: what one `civhub publish` made available, table by table.
//!
//! Each Delta table commits on its own; a release pins, for every published
//! table, the version that publish left. `published/_releases/current.json`
//! names the latest release and is replaced atomically as publish's very
//! last step, so SQL (which reads the tables at a release's versions) sees
//! the previous release or the new one, never a mix — even if a publish is
//! killed half-way. `civhub sql --as-of N` reads release N.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A table in a release.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ReleasedTable {
    /// Delta table folder, relative to `published/`.
    pub path: String,
    /// Delta version.
    pub version: i64,
    /// What it was computed from.
    pub fingerprint: String,
    /// Rows.
    pub rows: u64,
    /// Whether this release wrote a new version.
    pub changed: bool,
    /// Set for a table only its providing department may read (a
    /// 不予共享 dataset): the plain `civhub sql` session does not hold it,
    /// and served sessions hold it only for users of that department.
    /// Absent in releases written before restricted tables were published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restricted: Option<Restriction>,
}

/// Why a released table is readable by its providing department only.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Restriction {
    /// The catalog's sharing type that restricts it (`不予共享`).
    pub sharing: String,
    /// The providing department (its folder name, e.g. `court`).
    pub provider: String,
}

impl Restriction {
    /// The refusal for a reader outside the providing department: the
    /// table, its sharing type and its provider.
    pub fn refusal(&self, table: &str) -> String {
        format!(
            "`{table}` is {} (not shared): only users of its providing department `{}` may read it",
            self.sharing, self.provider
        )
    }
}

/// One release.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Release {
    /// Release number, from 1.
    pub number: u64,
    /// Run id of the publish.
    pub run_id: String,
    /// When (RFC 3339, UTC).
    pub published_at: String,
    /// Tables by `schema.table`.
    pub tables: BTreeMap<String, ReleasedTable>,
}

/// The `published/` folder of a warehouse.
pub fn published_dir(warehouse: &Path) -> PathBuf {
    warehouse.join("published")
}

fn releases_dir(warehouse: &Path) -> PathBuf {
    published_dir(warehouse).join("_releases")
}

/// The latest release, if any.
pub fn current(warehouse: &Path) -> Option<Release> {
    let text = fs_err::read_to_string(releases_dir(warehouse).join("current.json")).ok()?;
    serde_json::from_str(&text).ok()
}

/// Release `n`.
pub fn get(warehouse: &Path, n: u64) -> Option<Release> {
    let text = fs_err::read_to_string(releases_dir(warehouse).join(format!("{n:06}.json"))).ok()?;
    serde_json::from_str(&text).ok()
}

/// Every release, oldest first.
pub fn all(warehouse: &Path) -> Vec<Release> {
    let mut v: Vec<Release> = fs_err::read_dir(releases_dir(warehouse))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| {
                    // `000003.json`, never a `.json.tmp` a killed commit left.
                    let name = e.file_name().to_string_lossy().into_owned();
                    name.ends_with(".json")
                        && name.chars().next().is_some_and(|c| c.is_ascii_digit())
                })
                .filter_map(|e| fs_err::read_to_string(e.path()).ok())
                .filter_map(|t| serde_json::from_str(&t).ok())
                .collect()
        })
        .unwrap_or_default();
    v.sort_by_key(|r: &Release| r.number);
    v
}

/// The release current at `at` (RFC 3339 or `YYYY-MM-DD[ HH:MM:SS]`, UTC).
pub fn at_time(warehouse: &Path, at: &str) -> Option<Release> {
    let t = parse_time(at)?;
    all(warehouse)
        .into_iter()
        .rfind(|r| parse_time(&r.published_at).is_some_and(|p| p <= t))
}

/// Parses the time forms `--as-of` accepts.
pub fn parse_time(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&chrono::Utc));
    }
    for f in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, f) {
            return Some(t.and_utc());
        }
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .map(|d| d.and_hms_opt(23, 59, 59).expect("valid time").and_utc())
}

/// Writes a release and makes it current (atomically: write, then rename).
pub fn commit(warehouse: &Path, r: &Release) -> std::io::Result<()> {
    let dir = releases_dir(warehouse);
    fs_err::create_dir_all(&dir)?;
    let text = serde_json::to_string_pretty(r).map_err(std::io::Error::other)?;
    let numbered = dir.join(format!("{:06}.json", r.number));
    let tmp = dir.join(format!("{:06}.json.tmp", r.number));
    fs_err::write(&tmp, &text)?;
    fs_err::rename(&tmp, &numbered)?;
    let tmp = dir.join("current.json.tmp");
    fs_err::write(&tmp, &text)?;
    fs_err::rename(&tmp, dir.join("current.json"))
}
