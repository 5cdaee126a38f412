//! Loading and checking a civhub project: `civhub.toml`, `schemas/*.toml` and
//! `pipelines/<department>/*.toml`.
//!
//! [`load_project`] reads every file, reports every problem it finds (see
//! [`diag`]) and, when there are none, returns a [`Project`] whose pipelines are
//! compiled: field names resolved to indices, regular expressions built,
//! defaults applied. Ingest only ever sees compiled pipelines, so it never has
//! to re-check a name.

mod check;
pub mod diag;
pub mod pipeline;
pub mod project;
pub mod schema;

pub use check::{
    Bound, Column, ColumnSource, CompareOp, CompiledRule, Limits, RuleCheck, delimiter_byte,
};
pub use diag::{ConfigProblem, ConfigProblems};
pub use pipeline::*;
pub use project::*;
pub use schema::*;

use civhub_core::{FieldType, PiiClass};
use diag::{SourceFile, file_problem};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The name of the project file.
pub const PROJECT_FILE: &str = "civhub.toml";
/// The name of the department file in each pipeline folder.
pub const DEPARTMENT_FILE: &str = "_department.toml";

/// A loaded, checked project.
#[derive(Debug, Clone)]
pub struct Project {
    /// The folder holding `civhub.toml`.
    pub root: PathBuf,
    /// `civhub.toml` as written.
    pub file: ProjectFile,
    /// The warehouse folder (absolute, after any `--warehouse` override).
    pub warehouse: PathBuf,
    /// The exports folder (absolute).
    pub exports: PathBuf,
    /// Canonical schemas by name.
    pub schemas: BTreeMap<String, Schema>,
    /// Departments by id (the pipeline folder name).
    pub departments: BTreeMap<String, Department>,
    /// Compiled pipelines, ordered by id.
    pub pipelines: Vec<Pipeline>,
}

impl Project {
    /// The pipeline with this id (`department.dataset`).
    pub fn pipeline(&self, id: &str) -> Option<&Pipeline> {
        self.pipelines.iter().find(|p| p.id == id)
    }
}

/// A canonical schema.
#[derive(Debug, Clone)]
pub struct Schema {
    /// Schema name (file stem).
    pub name: String,
    /// 中文 title.
    pub title: String,
    /// English title.
    pub title_en: String,
    /// 中文 description.
    pub description: String,
    /// English description.
    pub description_en: String,
    /// Fields in column order.
    pub fields: Vec<Field>,
    /// Path relative to the project.
    pub display: String,
    /// Hash of the file's text (part of every pipeline fingerprint using it).
    pub text_hash: u64,
}

impl Schema {
    /// Index of the field named `name`.
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }
}

/// A field of a canonical schema.
#[derive(Debug, Clone)]
pub struct Field {
    /// snake_case name.
    pub name: String,
    /// Type.
    pub field_type: FieldType,
    /// Must have a value.
    pub required: bool,
    /// Personal-information class.
    pub pii: PiiClass,
    /// 中文 description.
    pub description: String,
    /// English description.
    pub description_en: String,
    /// The closed set of values, if any.
    pub values: Option<Vec<String>>,
}

/// A providing department.
#[derive(Debug, Clone)]
pub struct Department {
    /// Folder name, e.g. `public_security`.
    pub id: String,
    /// `_department.toml`.
    pub file: DepartmentFile,
}

/// A compiled pipeline: everything ingest needs to read one department export.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// `department.dataset`.
    pub id: String,
    /// Department id (folder name).
    pub department: String,
    /// Dataset id (file stem).
    pub dataset: String,
    /// Path relative to the project.
    pub display: String,
    /// The file as written.
    pub def: PipelineFile,
    /// The schema it maps onto.
    pub schema: Schema,
    /// Mapped columns, in pipeline order.
    pub columns: Vec<Column>,
    /// Schema field indices of the record key.
    pub key: Vec<usize>,
    /// Every rule, implicit (schema required / values) and declared.
    pub rules: Vec<CompiledRule>,
    /// Effective limits (pipeline's own, else the project defaults).
    pub limits: Limits,
    /// Compiled `source.stop-at`.
    pub stop_at: Option<regex::Regex>,
    /// Hash of everything that decides what a row becomes: the pipeline text,
    /// the schema text and civhub's version. A change re-ingests every file.
    pub fingerprint: u64,
}

/// Loads `civhub.toml` from `root` and everything it points at.
///
/// `warehouse_override` replaces `paths.warehouse` (the `--warehouse` flag).
pub fn load_project(
    root: &Path,
    warehouse_override: Option<&Path>,
) -> Result<Project, ConfigProblems> {
    let mut problems = ConfigProblems::default();
    let root = root.to_path_buf();
    let project_path = root.join(PROJECT_FILE);
    let text = match fs_err::read_to_string(&project_path) {
        Ok(t) => t,
        Err(e) => {
            let hint = if project_path.exists() {
                None
            } else {
                Some("run civhub inside a project folder, or pass `--project DIR`; `civhub synth --out DIR` creates one".to_string())
            };
            problems.push(file_problem(
                &root,
                &project_path,
                format!("cannot read the project file: {}", io_reason(&e)),
                hint,
            ));
            return Err(problems);
        }
    };
    let src = SourceFile::new(&root, &project_path, text);
    let file: ProjectFile = match toml::from_str(&src.text) {
        Ok(f) => f,
        Err(e) => {
            problems.push(src.toml_problem(&e));
            return Err(problems);
        }
    };
    if let Some(rc) = &file.project.region_code
        && (rc.get_ref().len() != 6 || !rc.get_ref().bytes().all(|b| b.is_ascii_digit()))
    {
        problems.push(src.problem(
            Some(rc.span()),
            Some("project.region-code"),
            "a region code is six digits (GB/T 2260)",
            Some("e.g. `341000` for 黄山市".into()),
        ));
    }
    if let Some(r) = file.ingest.max_bad_ratio
        && !(0.0..=1.0).contains(&r)
    {
        problems.push(src.problem(
            None,
            Some("ingest.max-bad-ratio"),
            format!("ingest.max-bad-ratio must be between 0 and 1, found {r}"),
            None,
        ));
    }

    let warehouse = match warehouse_override {
        Some(w) if w.is_absolute() => w.to_path_buf(),
        Some(w) => std::env::current_dir()
            .map(|d| d.join(w))
            .unwrap_or_else(|_| w.to_path_buf()),
        None => root.join(&file.paths.warehouse),
    };
    let exports = root.join(&file.paths.exports);
    let schemas = load_schemas(&root, &root.join(&file.paths.schemas), &mut problems);
    let departments = load_departments(&root, &root.join(&file.paths.pipelines), &mut problems);
    let mut pipelines = Vec::new();
    for (dept, files) in pipeline_files(&root, &root.join(&file.paths.pipelines), &mut problems) {
        for path in files {
            if let Some(p) =
                check::load_pipeline(&root, &path, &dept, &schemas, &file, &mut problems)
            {
                pipelines.push(p);
            }
        }
    }
    pipelines.sort_by(|a, b| a.id.cmp(&b.id));
    check::check_related(&root, &pipelines, &mut problems);

    if problems.is_empty() {
        Ok(Project {
            root,
            file,
            warehouse,
            exports,
            schemas,
            departments,
            pipelines,
        })
    } else {
        problems.sort();
        Err(problems)
    }
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        _ => e.to_string(),
    }
}

/// The `*.toml` files directly in `dir`, sorted.
fn toml_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = fs_err::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    Ok(v)
}

/// True for names usable as SQL identifiers without quoting: `^[a-z][a-z0-9_]*$`.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
}

fn load_schemas(
    root: &Path,
    dir: &Path,
    problems: &mut ConfigProblems,
) -> BTreeMap<String, Schema> {
    let mut out = BTreeMap::new();
    let files = match toml_files(dir) {
        Ok(f) => f,
        Err(e) => {
            problems.push(file_problem(
                root,
                dir,
                format!("cannot read the schemas folder: {}", io_reason(&e)),
                None,
            ));
            return out;
        }
    };
    for path in files {
        let text = match fs_err::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                problems.push(file_problem(
                    root,
                    &path,
                    format!("cannot read: {}", io_reason(&e)),
                    None,
                ));
                continue;
            }
        };
        let src = SourceFile::new(root, &path, text);
        let sf: SchemaFile = match toml::from_str(&src.text) {
            Ok(s) => s,
            Err(e) => {
                problems.push(src.toml_problem(&e));
                continue;
            }
        };
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        if sf.name.get_ref() != &stem {
            problems.push(src.problem(
                Some(sf.name.span()),
                Some("name"),
                format!(
                    "schema name `{}` differs from its file name `{stem}.toml`",
                    sf.name.get_ref()
                ),
                Some(format!("write `name = \"{stem}\"` or rename the file")),
            ));
        }
        if !is_identifier(&stem) {
            problems.push(src.problem(
                Some(sf.name.span()),
                Some("name"),
                format!("schema name `{stem}` is not a snake_case identifier"),
                None,
            ));
        }
        let mut fields: Vec<Field> = Vec::new();
        for fd in &sf.fields {
            let name = fd.name.get_ref().clone();
            if !is_identifier(&name) {
                problems.push(src.problem(
                    Some(fd.name.span()),
                    Some("fields.name"),
                    format!("field name `{name}` is not a snake_case identifier"),
                    Some("use lower-case ASCII letters, digits and `_`".into()),
                ));
            }
            if name.starts_with('_') || fields.iter().any(|f| f.name == name) {
                problems.push(src.problem(
                    Some(fd.name.span()),
                    Some("fields.name"),
                    format!("field `{name}` is defined twice"),
                    None,
                ));
            }
            if fd.values.is_some() && *fd.field_type.get_ref() != FieldType::String {
                problems.push(src.problem(
                    Some(fd.field_type.span()),
                    Some("fields.values"),
                    format!("field `{name}`: `values` applies only to string fields"),
                    None,
                ));
            }
            fields.push(Field {
                name,
                field_type: *fd.field_type.get_ref(),
                required: fd.required,
                pii: *fd.pii.get_ref(),
                description: fd.description.clone(),
                description_en: fd.description_en.clone(),
                values: fd.values.clone(),
            });
        }
        if fields.is_empty() {
            problems.push(src.problem(
                None,
                Some("fields"),
                "a schema needs at least one field",
                None,
            ));
        }
        out.insert(
            stem,
            Schema {
                name: sf.name.get_ref().clone(),
                title: sf.title,
                title_en: sf.title_en,
                description: sf.description,
                description_en: sf.description_en,
                fields,
                display: src.display.clone(),
                text_hash: xxhash_rust::xxh3::xxh3_64(src.text.as_bytes()),
            },
        );
    }
    out
}

fn department_dirs(
    root: &Path,
    dir: &Path,
    problems: &mut ConfigProblems,
) -> Vec<(String, PathBuf)> {
    let entries = match fs_err::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            problems.push(file_problem(
                root,
                dir,
                format!("cannot read the pipelines folder: {}", io_reason(&e)),
                None,
            ));
            return Vec::new();
        }
    };
    let mut v: Vec<(String, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .map(|p| {
            (
                p.file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_default(),
                p,
            )
        })
        .collect();
    v.sort();
    v
}

fn load_departments(
    root: &Path,
    dir: &Path,
    problems: &mut ConfigProblems,
) -> BTreeMap<String, Department> {
    let mut out = BTreeMap::new();
    for (id, path) in department_dirs(root, dir, &mut ConfigProblems::default()) {
        if id == "match" || id == "checks" {
            continue; // matching and cross-check settings, not departments
        }
        if !is_identifier(&id) {
            problems.push(file_problem(root, &path, format!("department folder `{id}` is not a snake_case identifier"), Some("department ids become SQL schema names: use lower-case ASCII letters, digits and `_`".into())));
        }
        let dept_path = path.join(DEPARTMENT_FILE);
        let text = match fs_err::read_to_string(&dept_path) {
            Ok(t) => t,
            Err(_) => {
                problems.push(file_problem(root, &dept_path, "missing department file", Some(format!("every pipeline folder needs `{DEPARTMENT_FILE}` naming the providing department (name, name-en, short-name, code)"))));
                continue;
            }
        };
        let src = SourceFile::new(root, &dept_path, text);
        match toml::from_str::<DepartmentFile>(&src.text) {
            Ok(file) => {
                if !civhub_core::id::uscc::is_valid(file.code.get_ref()) {
                    problems.push(src.problem(Some(file.code.span()), Some("code"), format!("`{}` is not a valid unified social credit code", file.code.get_ref()), Some("18 characters with a correct check character (GB 32100); government bodies start with `11`".into())));
                }
                out.insert(id.clone(), Department { id, file });
            }
            Err(e) => problems.push(src.toml_problem(&e)),
        }
    }
    out
}

fn pipeline_files(
    root: &Path,
    dir: &Path,
    problems: &mut ConfigProblems,
) -> Vec<(String, Vec<PathBuf>)> {
    let mut out = Vec::new();
    for (id, path) in department_dirs(root, dir, problems) {
        if id == "match" || id == "checks" {
            continue;
        }
        match toml_files(&path) {
            Ok(files) => out.push((
                id,
                files
                    .into_iter()
                    .filter(|p| !p.ends_with(DEPARTMENT_FILE))
                    .collect(),
            )),
            Err(e) => problems.push(file_problem(
                root,
                &path,
                format!("cannot read: {}", io_reason(&e)),
                None,
            )),
        }
    }
    out
}
