//! `civhub.toml`: the project file.

use serde::Deserialize;
use toml::Spanned;

/// The whole `civhub.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ProjectFile {
    /// What the project is.
    pub project: ProjectMeta,
    /// Where things live, relative to the project folder.
    #[serde(default)]
    pub paths: PathsDef,
    /// Defaults for ingest.
    #[serde(default)]
    pub ingest: IngestDefaults,
}

/// `[project]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ProjectMeta {
    /// Short machine name, e.g. `huangshan`.
    pub name: String,
    /// Display title, e.g. 黄山市政务数据共享平台.
    pub title: String,
    /// Administrative region code of the city (GB/T 2260), e.g. `341000`.
    #[serde(default)]
    pub region_code: Option<Spanned<String>>,
    /// Default area code for landlines written without one, e.g. `0559`.
    #[serde(default)]
    pub phone_area_code: Option<String>,
}

/// `[paths]`: every path is relative to the folder holding `civhub.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PathsDef {
    /// Where runs write staging, quarantine and published tables. Default `warehouse`.
    #[serde(default = "default_warehouse")]
    pub warehouse: String,
    /// The folder that pipeline `source.path` globs are relative to. Default `exports`.
    #[serde(default = "default_exports")]
    pub exports: String,
    /// Canonical schemas. Default `schemas`.
    #[serde(default = "default_schemas")]
    pub schemas: String,
    /// Pipeline definitions, one folder per department. Default `pipelines`.
    #[serde(default = "default_pipelines")]
    pub pipelines: String,
}

impl Default for PathsDef {
    fn default() -> Self {
        PathsDef {
            warehouse: default_warehouse(),
            exports: default_exports(),
            schemas: default_schemas(),
            pipelines: default_pipelines(),
        }
    }
}

fn default_warehouse() -> String {
    "warehouse".into()
}
fn default_exports() -> String {
    "exports".into()
}
fn default_schemas() -> String {
    "schemas".into()
}
fn default_pipelines() -> String {
    "pipelines".into()
}

/// `[ingest]`: defaults every pipeline inherits unless it says otherwise.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct IngestDefaults {
    /// Worker threads; 0 means one per CPU core.
    #[serde(default)]
    pub threads: usize,
    /// Rows per Arrow batch (and the unit of memory use per file being read).
    #[serde(default = "default_batch_rows")]
    pub batch_rows: usize,
    /// A CSV file of at least twice this many bytes is read as several byte
    /// ranges in parallel. Default 16 MiB.
    #[serde(default = "default_range_bytes")]
    pub range_bytes: u64,
    /// Default tolerance: a pipeline fails when more rows than this are quarantined in one run.
    #[serde(default)]
    pub max_bad_rows: Option<u64>,
    /// Default tolerance: a pipeline fails when more than this fraction of its rows is quarantined.
    #[serde(default = "default_max_bad_ratio")]
    pub max_bad_ratio: Option<f64>,
}

impl Default for IngestDefaults {
    fn default() -> Self {
        IngestDefaults {
            threads: 0,
            batch_rows: default_batch_rows(),
            range_bytes: default_range_bytes(),
            max_bad_rows: None,
            max_bad_ratio: default_max_bad_ratio(),
        }
    }
}

fn default_batch_rows() -> usize {
    8192
}
fn default_range_bytes() -> u64 {
    16 << 20
}
fn default_max_bad_ratio() -> Option<f64> {
    Some(0.1)
}
