//! `publish/<base>.toml`: the base databases (基础库) a project publishes
//! besides its department datasets — population (人口库), legal entity
//! (法人库), electronic licences (电子证照库) — each table an SQL query over
//! the enriched datasets and the matching results, or the union of every
//! dataset of one canonical schema.

use civhub_core::{PiiClass, SharingType, UpdateCycle};
use civhub_ingest::config::diag::{ConfigProblems, SourceFile, file_problem, hint_for};
use civhub_ingest::config::{Classification, Project, is_identifier};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use toml::Spanned;

/// One `publish/<base>.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BaseFile {
    /// SQL schema the tables are published in, e.g. `population`.
    pub schema: Spanned<String>,
    /// 中文 name of the base database, e.g. 人口库.
    pub title: String,
    /// English name.
    pub title_en: String,
    /// What it holds.
    #[serde(default)]
    pub description: String,
    /// The department that provides it (a folder of `pipelines/`).
    pub provider: Spanned<String>,
    /// Its tables.
    pub tables: Vec<TableDef>,
}

/// `[[tables]]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TableDef {
    /// Table name within the schema.
    pub name: Spanned<String>,
    /// 中文 title.
    pub title: String,
    /// English title.
    #[serde(default)]
    pub title_en: Option<String>,
    /// Summary.
    pub description: String,
    /// A query over `enriched.*`, `civhub.mdm.*` and `staging.*`.
    #[serde(default)]
    pub sql: Option<Spanned<String>>,
    /// Or: every dataset of this canonical schema, unioned, with
    /// `person_gid`, `entity_gid` and `source_dataset`.
    #[serde(default)]
    pub union_schema: Option<Spanned<String>>,
    /// Resource classification. Default 基础.
    #[serde(default = "base")]
    pub classification: Classification,
    /// Sub-class, e.g. 人口.
    #[serde(default)]
    pub category: Option<String>,
    /// Sharing type.
    pub sharing: SharingType,
    /// Conditions of 有条件共享.
    #[serde(default)]
    pub sharing_conditions: Option<String>,
    /// Update cycle.
    pub update_cycle: UpdateCycle,
    /// Keywords.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Column → PII class, for columns that hold personal information.
    #[serde(default)]
    pub pii: BTreeMap<String, PiiClass>,
    /// Column → description (中文).
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
}

fn base() -> Classification {
    Classification::Base
}

/// A loaded base database.
#[derive(Debug, Clone)]
pub struct Base {
    /// The file.
    pub file: BaseFile,
    /// Path relative to the project.
    pub display: String,
}

/// The folder of base database files.
pub const PUBLISH_DIR: &str = "publish";

/// Reads and checks every `publish/*.toml`. SQL is checked when publishing
/// (it needs the tables); names, providers and schemas are checked here.
pub fn load_bases(project: &Project) -> Result<Vec<Base>, ConfigProblems> {
    let mut problems = ConfigProblems::default();
    let dir = project.root.join(PUBLISH_DIR);
    let mut out = Vec::new();
    let files = match fs_err::read_dir(&dir) {
        Ok(rd) => {
            let mut v: Vec<_> = rd
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "toml"))
                .collect();
            v.sort();
            v
        }
        Err(_) => return Ok(out), // no base databases: only department datasets are published
    };
    let schemas: Vec<&str> = project.schemas.keys().map(String::as_str).collect();
    let depts: Vec<&str> = project.departments.keys().map(String::as_str).collect();
    let mut seen_schema = std::collections::HashSet::new();
    for path in files {
        let text = match fs_err::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                problems.push(file_problem(
                    &project.root,
                    &path,
                    format!("cannot read: {e}"),
                    None,
                ));
                continue;
            }
        };
        let src = SourceFile::new(&project.root, &path, text);
        let file: BaseFile = match toml::from_str(&src.text) {
            Ok(f) => f,
            Err(e) => {
                problems.push(src.toml_problem(&e));
                continue;
            }
        };
        let s = file.schema.get_ref();
        if !is_identifier(s) {
            problems.push(src.problem(
                Some(file.schema.span()),
                Some("schema"),
                format!("`{s}` is not a snake_case identifier"),
                None,
            ));
        } else if project.departments.contains_key(s)
            || [
                "catalog",
                "staging",
                "quarantine",
                "enriched",
                "civhub",
                "checks",
            ]
            .contains(&s.as_str())
        {
            problems.push(src.problem(
                Some(file.schema.span()),
                Some("schema"),
                format!("`{s}` is taken (a department or a reserved schema)"),
                Some("choose another schema name".into()),
            ));
        } else if !seen_schema.insert(s.clone()) {
            problems.push(src.problem(
                Some(file.schema.span()),
                Some("schema"),
                format!("schema `{s}` is defined by two files"),
                None,
            ));
        }
        if !project.departments.contains_key(file.provider.get_ref()) {
            problems.push(src.problem(
                Some(file.provider.span()),
                Some("provider"),
                format!("no department `{}`", file.provider.get_ref()),
                hint_for(file.provider.get_ref(), &depts),
            ));
        }
        let mut names = std::collections::HashSet::new();
        for t in &file.tables {
            let n = t.name.get_ref();
            if !is_identifier(n) || !names.insert(n.clone()) {
                problems.push(src.problem(
                    Some(t.name.span()),
                    Some("tables.name"),
                    format!("table name `{n}` is not a snake_case identifier, or is used twice"),
                    None,
                ));
            }
            match (&t.sql, &t.union_schema) {
                (Some(_), Some(u)) => {
                    problems.push(src.problem(
                        Some(u.span()),
                        Some("tables"),
                        format!("table `{n}` has both `sql` and `union-schema`"),
                        Some("keep one".into()),
                    ));
                }
                (None, None) => {
                    problems.push(src.problem(
                        Some(t.name.span()),
                        Some("tables"),
                        format!("table `{n}` needs `sql` or `union-schema`"),
                        None,
                    ));
                }
                (None, Some(u)) if !project.schemas.contains_key(u.get_ref()) => {
                    problems.push(src.problem(
                        Some(u.span()),
                        Some("tables.union-schema"),
                        format!("no schema `{}`", u.get_ref()),
                        hint_for(u.get_ref(), &schemas),
                    ));
                }
                _ => {}
            }
            if t.sharing == SharingType::Conditional
                && t.sharing_conditions
                    .as_deref()
                    .is_none_or(|c| c.trim().is_empty())
            {
                problems.push(src.problem(
                    Some(t.name.span()),
                    Some("tables.sharing-conditions"),
                    "有条件共享 needs `sharing-conditions`".to_string(),
                    None,
                ));
            }
        }
        out.push(Base {
            display: src.display.clone(),
            file,
        });
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        problems.sort();
        Err(problems)
    }
}

/// True when `path` holds base database files.
pub fn has_bases(root: &Path) -> bool {
    root.join(PUBLISH_DIR).is_dir()
}
