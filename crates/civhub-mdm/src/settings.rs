//! `pipelines/match/person.toml` and `pipelines/match/entity.toml`: how
//! mentions are matched (deterministic pass, blocking rules, comparisons with
//! ordered levels, thresholds, survivorship).
//!
//! Blocking keys and comparison levels are SQL over the columns of a node
//! (`l.*`, `r.*`), like Splink's settings. Loading checks the whole file and
//! plans every expression against the node schema, so a typo in a column or
//! function name is reported at its line and column before anything runs.

use civhub_ingest::config::diag::{ConfigProblems, SourceFile, file_problem, hint_for};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use toml::Spanned;

/// What is matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Natural persons (自然人).
    Person,
    /// Legal entities and other organisations (法人和其他组织).
    Entity,
}

impl Kind {
    /// `person` / `entity`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Person => "person",
            Kind::Entity => "entity",
        }
    }

    /// The identity kind of pipelines that this kind collects.
    pub fn identity(self) -> civhub_ingest::config::IdentityKind {
        match self {
            Kind::Person => civhub_ingest::config::IdentityKind::Person,
            Kind::Entity => civhub_ingest::config::IdentityKind::Entity,
        }
    }
}

/// The whole settings file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SettingsFile {
    /// `person` or `entity`; must match the file name.
    pub kind: Spanned<Kind>,
    /// The deterministic pass.
    #[serde(default)]
    pub deterministic: Deterministic,
    /// Blocking rules, unioned without duplicate pairs.
    pub blocking: Vec<BlockingRule>,
    /// Comparisons, each with ordered levels.
    pub comparisons: Vec<Comparison>,
    /// Link and review thresholds.
    pub thresholds: Thresholds,
    /// Estimation of m and u.
    #[serde(default)]
    pub training: Training,
    /// How golden record fields are chosen.
    #[serde(default)]
    pub survivorship: Survivorship,
}

/// `[deterministic]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Deterministic {
    /// A mention sharing a valid ID contradicts it when its name differs in
    /// pinyin and its Jaro–Winkler similarity to the ID's usual name is below
    /// this. Default 0.6.
    #[serde(default = "default_name_min")]
    pub name_min_similarity: f64,
    /// More deterministic rules: a mention without a valid identifier whose
    /// `on` columns equal those of exactly one cluster (and of no other
    /// cluster) joins it — e.g. a registered company name, unique within a
    /// registration authority's area.
    #[serde(default)]
    pub rules: Vec<DeterministicRule>,
}

impl Default for Deterministic {
    fn default() -> Self {
        Deterministic {
            name_min_similarity: default_name_min(),
            rules: Vec::new(),
        }
    }
}

/// `[[deterministic.rules]]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DeterministicRule {
    /// Rule id.
    pub id: Spanned<String>,
    /// Node columns that must all be equal and not null.
    pub on: Vec<Spanned<String>>,
    /// Why the rule is safe, for the reader.
    #[serde(default)]
    pub description: String,
}

fn default_name_min() -> f64 {
    0.6
}

/// `[[blocking]]`: candidate pairs are nodes equal on every `on` column.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BlockingRule {
    /// Rule id, shown in explanations.
    pub id: Spanned<String>,
    /// Node columns that must be equal (and not null).
    pub on: Vec<Spanned<String>>,
    /// Skip key values shared by more nodes than this (a shared office phone
    /// would otherwise pair everyone with everyone). Default 1000.
    #[serde(default)]
    pub max_group: Option<usize>,
}

/// `[[comparisons]]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Comparison {
    /// Comparison id, e.g. `name`.
    pub id: Spanned<String>,
    /// What is compared, for explanations.
    #[serde(default)]
    pub description: String,
    /// SQL: when true the comparison says nothing (a value is missing).
    pub null: Spanned<String>,
    /// Levels from most to least similar; the first whose SQL is true wins;
    /// the last is usually `ELSE`.
    pub levels: Vec<Level>,
}

/// One level of a comparison.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Level {
    /// Label, e.g. `same pinyin (homophone)`.
    pub label: String,
    /// SQL condition over `l.*` and `r.*`, or `ELSE`.
    pub sql: Spanned<String>,
    /// A node column whose value's frequency replaces u for this level
    /// (term-frequency adjustment: agreeing on 张伟 says less than on a rare name).
    #[serde(default)]
    pub term_frequency: Option<Spanned<String>>,
}

/// `[thresholds]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Thresholds {
    /// Link pairs at or above this match probability.
    #[serde(rename = "match")]
    pub link: Spanned<f64>,
    /// Send pairs at or above this (and below `match`) to review.
    pub review: Spanned<f64>,
}

/// `[training]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Training {
    /// Nodes sampled for estimating u from random pairs (pairs = n²/2). Default 1500.
    #[serde(default = "default_sample")]
    pub u_sample_nodes: usize,
    /// Iterations of expectation–maximisation. Default 25.
    #[serde(default = "default_iterations")]
    pub max_iterations: usize,
}

impl Default for Training {
    fn default() -> Self {
        Training {
            u_sample_nodes: default_sample(),
            max_iterations: default_iterations(),
        }
    }
}

fn default_sample() -> usize {
    1500
}
fn default_iterations() -> usize {
    25
}

/// A survivorship rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SurvivorRule {
    /// The value from the first source in `source-priority` that has one.
    SourcePriority,
    /// The value most mentions agree on.
    MostFrequent,
    /// The value most recently ingested.
    MostRecent,
}

/// `[survivorship]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Survivorship {
    /// Rules in order, for every field without its own.
    #[serde(default)]
    pub rules: Vec<SurvivorRule>,
    /// Pipelines from most to least authoritative.
    #[serde(default)]
    pub source_priority: Vec<Spanned<String>>,
    /// Per-field rules.
    #[serde(default)]
    pub fields: BTreeMap<String, Vec<SurvivorRule>>,
}

/// Loaded settings of one kind, with the file they came from.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The file as written.
    pub file: SettingsFile,
    /// Path relative to the project.
    pub display: String,
    /// Hash of the file's text: a change retrains the model.
    pub text_hash: u64,
}

impl Settings {
    /// Survivorship rules of a field.
    pub fn rules_for(&self, field: &str) -> Vec<SurvivorRule> {
        let s = &self.file.survivorship;
        match s.fields.get(field) {
            Some(r) => r.clone(),
            None if s.rules.is_empty() => vec![
                SurvivorRule::SourcePriority,
                SurvivorRule::MostFrequent,
                SurvivorRule::MostRecent,
            ],
            None => s.rules.clone(),
        }
    }
}

/// Reads and checks `pipelines/match/<kind>.toml`. `columns` are the node
/// columns expressions may use; `check_sql` plans one expression, returning
/// the engine's message when it does not plan.
pub fn load(
    project_root: &Path,
    pipelines_dir: &Path,
    kind: Kind,
    columns: &[&str],
    pipeline_ids: &[&str],
    check_sql: &dyn Fn(&str) -> Result<(), String>,
    problems: &mut ConfigProblems,
) -> Option<Settings> {
    let path = pipelines_dir
        .join("match")
        .join(format!("{}.toml", kind.as_str()));
    let text = match fs_err::read_to_string(&path) {
        Ok(t) => t,
        Err(_) => {
            problems.push(file_problem(
                project_root,
                &path,
                format!("missing {} matching settings", kind.as_str()),
                Some(
                    "copy pipelines/match/ from the civhub repository or `civhub synth --out DIR`"
                        .into(),
                ),
            ));
            return None;
        }
    };
    let src = SourceFile::new(project_root, &path, text);
    let file: SettingsFile = match toml::from_str(&src.text) {
        Ok(f) => f,
        Err(e) => {
            problems.push(src.toml_problem(&e));
            return None;
        }
    };
    let before = problems.problems.len();
    let mut err = |span: std::ops::Range<usize>, key: &str, msg: String, hint: Option<String>| {
        problems.push(src.problem(Some(span), Some(key), msg, hint));
    };
    if *file.kind.get_ref() != kind {
        err(
            file.kind.span(),
            "kind",
            format!(
                "this file sets kind `{}` but is named {}.toml",
                file.kind.get_ref().as_str(),
                kind.as_str()
            ),
            None,
        );
    }
    for r in &file.deterministic.rules {
        if r.on.is_empty() {
            err(
                r.id.span(),
                "deterministic.rules.on",
                "a deterministic rule needs at least one column in `on`".into(),
                None,
            );
        }
        for c in &r.on {
            if !columns.contains(&c.get_ref().as_str()) || c.get_ref() == "id_key" {
                err(
                    c.span(),
                    "deterministic.rules.on",
                    format!("no node column `{}`", c.get_ref()),
                    hint_for(c.get_ref(), columns),
                );
            }
        }
    }
    let mut ids = std::collections::HashSet::new();
    for b in &file.blocking {
        if !ids.insert(b.id.get_ref().clone()) {
            err(
                b.id.span(),
                "blocking.id",
                format!("blocking rule `{}` is defined twice", b.id.get_ref()),
                None,
            );
        }
        if b.on.is_empty() {
            err(
                b.id.span(),
                "blocking.on",
                "a blocking rule needs at least one column in `on`".into(),
                None,
            );
        }
        for c in &b.on {
            if !columns.contains(&c.get_ref().as_str()) {
                err(
                    c.span(),
                    "blocking.on",
                    format!("no node column `{}`", c.get_ref()),
                    hint_for(c.get_ref(), columns),
                );
            }
        }
    }
    if file.blocking.is_empty() {
        problems.push(src.problem(
            None,
            Some("blocking"),
            "at least one [[blocking]] rule is needed",
            None,
        ));
    }
    let mut cids = std::collections::HashSet::new();
    for c in &file.comparisons {
        if !cids.insert(c.id.get_ref().clone()) {
            problems.push(src.problem(
                Some(c.id.span()),
                Some("comparisons.id"),
                format!("comparison `{}` is defined twice", c.id.get_ref()),
                None,
            ));
        }
        if let Err(e) = check_sql(c.null.get_ref()) {
            problems.push(src.problem(Some(c.null.span()), Some("comparisons.null"), e, None));
        }
        if let Some(last) = c.levels.last()
            && !last.sql.get_ref().trim().eq_ignore_ascii_case("else")
        {
            problems.push(src.problem(
                Some(last.sql.span()),
                Some("comparisons.levels.sql"),
                format!("the last level of `{}` must be `ELSE`", c.id.get_ref()),
                Some("add { label = \"different\", sql = \"ELSE\" }".to_string()),
            ));
        }
        if c.levels.len() < 2 {
            problems.push(src.problem(
                Some(c.id.span()),
                Some("comparisons.levels"),
                format!("comparison `{}` needs at least two levels", c.id.get_ref()),
                Some("e.g. an agreeing level and `ELSE`".into()),
            ));
        }
        for (i, l) in c.levels.iter().enumerate() {
            let is_else = l.sql.get_ref().trim().eq_ignore_ascii_case("else");
            if is_else && i + 1 != c.levels.len() {
                problems.push(src.problem(
                    Some(l.sql.span()),
                    Some("comparisons.levels.sql"),
                    "`ELSE` must be the last level".to_string(),
                    None,
                ));
            } else if !is_else && let Err(e) = check_sql(l.sql.get_ref()) {
                problems.push(src.problem(
                    Some(l.sql.span()),
                    Some("comparisons.levels.sql"),
                    e,
                    None,
                ));
            }
            if let Some(tf) = &l.term_frequency
                && !columns.contains(&tf.get_ref().as_str())
            {
                problems.push(src.problem(
                    Some(tf.span()),
                    Some("comparisons.levels.term-frequency"),
                    format!("no node column `{}`", tf.get_ref()),
                    hint_for(tf.get_ref(), columns),
                ));
            }
        }
    }
    let (m, r) = (
        *file.thresholds.link.get_ref(),
        *file.thresholds.review.get_ref(),
    );
    if !(0.0..=1.0).contains(&m) || !(0.0..=1.0).contains(&r) || r > m {
        problems.push(src.problem(
            Some(file.thresholds.review.span()),
            Some("thresholds"),
            format!(
                "thresholds must satisfy 0 ≤ review ≤ match ≤ 1, found review = {r}, match = {m}"
            ),
            None,
        ));
    }
    for p in &file.survivorship.source_priority {
        if !pipeline_ids.contains(&p.get_ref().as_str()) {
            problems.push(src.problem(
                Some(p.span()),
                Some("survivorship.source-priority"),
                format!("no pipeline `{}`", p.get_ref()),
                hint_for(p.get_ref(), pipeline_ids),
            ));
        }
    }
    if problems.problems.len() > before {
        return None;
    }
    Some(Settings {
        text_hash: xxhash_rust::xxh3::xxh3_64(src.text.as_bytes()),
        display: src.display.clone(),
        file,
    })
}

/// Loads and checks the settings of every kind for `project`.
pub fn load_all(
    project: &civhub_ingest::config::Project,
) -> Result<std::collections::HashMap<Kind, Settings>, ConfigProblems> {
    let mut problems = ConfigProblems::default();
    let mut out = std::collections::HashMap::new();
    let pipeline_ids: Vec<&str> = project.pipelines.iter().map(|p| p.id.as_str()).collect();
    let dir = project.root.join(&project.file.paths.pipelines);
    for kind in [Kind::Person, Kind::Entity] {
        let spec = crate::kinds::spec(kind);
        let columns = spec.column_names();
        if crate::mentions::identities(project, kind).is_empty()
            && !dir
                .join("match")
                .join(format!("{}.toml", kind.as_str()))
                .exists()
        {
            continue; // nothing to match, nothing to configure
        }
        let ctx = node_context(spec);
        let check = |expr: &str| -> Result<(), String> {
            let sql = format!("SELECT CASE WHEN {expr} THEN 1 END FROM l CROSS JOIN r");
            futures::executor::block_on(async { ctx.sql(&sql).await.map(|_| ()) })
                .map_err(|e| first_line(&e.to_string()))
        };
        if let Some(s) = load(
            &project.root,
            &dir,
            kind,
            &columns,
            &pipeline_ids,
            &check,
            &mut problems,
        ) {
            out.insert(kind, s);
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        problems.sort();
        Err(problems)
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).trim().to_string()
}

/// A session with empty tables `l` and `r` of the node schema, to plan
/// comparison expressions against.
fn node_context(spec: &crate::kinds::KindSpec) -> datafusion::prelude::SessionContext {
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    let ctx = civhub_engine::session::new_context(Default::default());
    let mut fields = vec![
        Field::new("node_id", DataType::Utf8, false),
        Field::new("is_cluster", DataType::Boolean, false),
        Field::new("size", DataType::Int64, false),
        Field::new("id_key", DataType::Utf8, true),
    ];
    for c in spec.nodes {
        let t = match c.ty {
            "DATE" => DataType::Date32,
            "BIGINT" => DataType::Int64,
            "BOOLEAN" => DataType::Boolean,
            _ => DataType::Utf8,
        };
        fields.push(Field::new(c.name, t, true));
    }
    let schema = std::sync::Arc::new(Schema::new(fields));
    for t in ["l", "r"] {
        if let Ok(table) = datafusion::datasource::MemTable::try_new(schema.clone(), vec![vec![]]) {
            let _ = ctx.register_table(t, std::sync::Arc::new(table));
        }
    }
    ctx
}
