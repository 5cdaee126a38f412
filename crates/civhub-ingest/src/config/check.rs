//! Semantic checks of one pipeline file, and its compilation for ingest.

use super::diag::{ConfigProblems, SourceFile, hint_for};
use super::pipeline::*;
use super::project::ProjectFile;
use super::{Pipeline, Schema, is_identifier};
use chrono::NaiveDate;
use civhub_core::{FieldType, Normalizer, NormalizerOptions};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use toml::Spanned;

/// Where a column's raw value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnSource {
    /// A source column; the first of these names present in the file.
    Columns(Vec<String>),
    /// The sheet name (xlsx).
    Sheet,
    /// The file name without extension.
    File,
    /// A constant.
    Const(String),
}

/// A compiled column mapping.
#[derive(Debug, Clone)]
pub struct Column {
    /// Index of the schema field it fills.
    pub field: usize,
    /// Where the raw value comes from.
    pub source: ColumnSource,
    /// The normalizer.
    pub normalizer: Normalizer,
    /// Normalizer options.
    pub options: NormalizerOptions,
    /// Code table applied before normalizing.
    pub map: Option<HashMap<String, String>>,
    /// Failure handling.
    pub on_error: OnError,
    /// May be absent from a file.
    pub optional: bool,
    /// Compiled `extract`.
    pub extract: Option<regex::Regex>,
    /// Compiled `when`: the field index and the values.
    pub when: Option<(usize, HashSet<String>)>,
}

/// A bound of a range rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    /// A number.
    Number(f64),
    /// A date.
    Date(NaiveDate),
    /// The day of the run.
    Today,
}

/// What a compiled rule checks.
#[derive(Debug, Clone)]
pub enum RuleCheck {
    /// Field must have a value.
    Required,
    /// Field must match.
    Pattern(regex::Regex),
    /// Field within bounds.
    Range(Option<Bound>, Option<Bound>),
    /// Field one of the values.
    Enum(HashSet<String>),
    /// Length in characters within bounds.
    Length(Option<usize>, Option<usize>),
    /// Check character.
    CheckDigit(CheckScheme),
    /// ID vs birth date (field index) and gender (field index).
    IdConsistency {
        /// Birth date field.
        birth_date: Option<usize>,
        /// Gender field.
        gender: Option<usize>,
    },
    /// field op other.
    Compare {
        /// The operator.
        op: CompareOp,
        /// The other field.
        other: usize,
    },
}

/// Comparison operators of `compare` rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `>=`
    Ge,
    /// `>`
    Gt,
}

impl CompareOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Eq => "=",
            CompareOp::Ne => "!=",
            CompareOp::Ge => ">=",
            CompareOp::Gt => ">",
        }
    }
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct CompiledRule {
    /// Rule id.
    pub id: String,
    /// The checked field.
    pub field: usize,
    /// Quarantine or flag.
    pub severity: Severity,
    /// What it checks.
    pub check: RuleCheck,
    /// Custom message.
    pub message: Option<String>,
}

/// Effective limits of a pipeline.
#[derive(Debug, Clone, Default)]
pub struct Limits {
    /// Max quarantined rows per run.
    pub max_bad_rows: Option<u64>,
    /// Max quarantined fraction per run.
    pub max_bad_ratio: Option<f64>,
    /// Min data rows per run.
    pub min_rows: Option<u64>,
    /// Max data rows per run.
    pub max_rows: Option<u64>,
}

fn compatible(norm: Normalizer, field: FieldType) -> bool {
    let out = norm.output_type();
    out == field
        || matches!(
            (out, field),
            (FieldType::Integer, FieldType::Decimal | FieldType::Float)
                | (FieldType::Decimal, FieldType::Float)
                | (FieldType::Date, FieldType::Datetime)
        )
}

pub(super) fn load_pipeline(
    root: &Path,
    path: &Path,
    dept: &str,
    schemas: &BTreeMap<String, Schema>,
    project: &ProjectFile,
    problems: &mut ConfigProblems,
) -> Option<Pipeline> {
    let text = match fs_err::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            problems.push(super::diag::file_problem(
                root,
                path,
                format!("cannot read: {e}"),
                None,
            ));
            return None;
        }
    };
    let src = SourceFile::new(root, path, text);
    let def: PipelineFile = match toml::from_str(&src.text) {
        Ok(d) => d,
        Err(e) => {
            problems.push(src.toml_problem(&e));
            return None;
        }
    };
    let dataset = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    let before = problems.problems.len();
    if !is_identifier(&dataset) {
        problems.push(src.problem(None, None, format!("dataset file name `{dataset}` is not a snake_case identifier"), Some("dataset ids become SQL table names: rename the file using lower-case ASCII letters, digits and `_`".into())));
    }
    let Some(schema) = schemas.get(def.schema.get_ref()) else {
        let names: Vec<&str> = schemas.keys().map(String::as_str).collect();
        problems.push(src.problem(
            Some(def.schema.span()),
            Some("schema"),
            format!("unknown schema `{}`", def.schema.get_ref()),
            hint_for(def.schema.get_ref(), &names),
        ));
        return None;
    };
    let field_names: Vec<&str> = schema.fields.iter().map(|f| f.name.as_str()).collect();
    let mut c = Checker {
        src: &src,
        schema,
        field_names: &field_names,
        problems,
    };

    check_source(&mut c, &def.source);

    // Columns.
    let mut columns = Vec::new();
    let mut mapped: HashMap<usize, ()> = HashMap::new();
    let mut whens: Vec<Option<WhenDef>> = Vec::new();
    for col in &def.columns {
        let Some(field) = c.field(&col.field, "columns.field") else {
            continue;
        };
        if mapped.insert(field, ()).is_some() {
            c.err(
                &col.field,
                "columns.field",
                format!("field `{}` is mapped twice", col.field.get_ref()),
                Some(
                    "map each schema field once; list alternative source columns in `from = [..]`"
                        .into(),
                ),
            );
        }
        let ftype = schema.fields[field].field_type;
        let source = match (&col.from, &col.value) {
            (Some(_), Some(_)) => {
                c.err(
                    &col.field,
                    "columns",
                    format!(
                        "column for `{}` has both `from` and `value`",
                        col.field.get_ref()
                    ),
                    Some("`from` reads a source column, `value` sets a constant: keep one".into()),
                );
                continue;
            }
            (None, None) => {
                c.err(
                    &col.field,
                    "columns",
                    format!(
                        "column for `{}` has neither `from` nor `value`",
                        col.field.get_ref()
                    ),
                    Some("add `from = \"<column name in the export>\"`".into()),
                );
                continue;
            }
            (None, Some(v)) => ColumnSource::Const(v.clone()),
            (Some(from), None) => {
                let names = from.get_ref().names();
                if names.is_empty() || names.iter().any(|n| n.trim().is_empty()) {
                    c.err(
                        from,
                        "columns.from",
                        "`from` needs a non-empty column name".to_string(),
                        None,
                    );
                }
                match names.as_slice() {
                    ["$sheet"] => {
                        if *def.source.format.get_ref() != Format::Xlsx {
                            c.err(
                                from,
                                "columns.from",
                                "`$sheet` is only available for xlsx sources".to_string(),
                                None,
                            );
                        }
                        ColumnSource::Sheet
                    }
                    ["$file"] => ColumnSource::File,
                    _ => {
                        if let Some(bad) = names.iter().find(|n| n.starts_with('$')) {
                            c.err(
                                from,
                                "columns.from",
                                format!("unknown special column `{bad}`"),
                                Some("special columns are `$sheet` and `$file`".into()),
                            );
                        }
                        ColumnSource::Columns(names.iter().map(|s| s.to_string()).collect())
                    }
                }
            }
        };
        let normalizer = col
            .normalize
            .as_ref()
            .map(|n| *n.get_ref())
            .unwrap_or_else(|| Normalizer::default_for(ftype));
        if let Some(n) = &col.normalize
            && !compatible(normalizer, ftype)
        {
            c.err(
                n,
                "columns.normalize",
                format!(
                    "normalizer `{normalizer}` produces {} values but field `{}` is {ftype}",
                    normalizer.output_type(),
                    col.field.get_ref()
                ),
                Some(format!(
                    "use a normalizer producing {ftype}, e.g. `{}`",
                    Normalizer::default_for(ftype)
                )),
            );
        }
        if let Some(u) = &col.unit {
            if normalizer != Normalizer::Amount {
                c.err(
                    u,
                    "columns.unit",
                    "`unit` applies only to the `amount` normalizer".to_string(),
                    None,
                );
            } else if !matches!(u.get_ref().as_str(), "元" | "万元") {
                c.err(
                    u,
                    "columns.unit",
                    format!("unknown unit `{}`", u.get_ref()),
                    Some("expected `元` or `万元`".into()),
                );
            }
        }
        if col.area_code.is_some() && normalizer != Normalizer::Phone {
            c.err(
                &col.field,
                "columns.area-code",
                "`area-code` applies only to the `phone` normalizer".to_string(),
                None,
            );
        }
        let area_code = col
            .area_code
            .clone()
            .or_else(|| project.project.phone_area_code.clone());
        let extract = match &col.extract {
            None => None,
            Some(x) => match regex::Regex::new(x.get_ref()) {
                Ok(re) => Some(re),
                Err(e) => {
                    c.err(
                        x,
                        "columns.extract",
                        format!(
                            "not a valid regular expression: {}",
                            first_line(&e.to_string())
                        ),
                        None,
                    );
                    None
                }
            },
        };
        columns.push(Column {
            field,
            source,
            normalizer,
            options: NormalizerOptions {
                unit: col.unit.as_ref().map(|u| u.get_ref().clone()),
                area_code,
            },
            map: col
                .map
                .as_ref()
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
            on_error: col.on_error,
            optional: col.optional,
            extract,
            when: None,
        });
        whens.push(col.when.clone());
    }
    // `when` conditions refer to fields filled unconditionally.
    let unconditional: HashMap<usize, ()> = whens
        .iter()
        .zip(&columns)
        .filter(|(w, _)| w.is_none())
        .map(|(_, c)| (c.field, ()))
        .collect();
    for (w, col) in whens.iter().zip(columns.iter_mut()) {
        if let Some(w) = w {
            col.when = c.when(w, &unconditional, "columns.when");
        }
    }
    for (i, f) in schema.fields.iter().enumerate() {
        if f.required && !mapped.contains_key(&i) {
            c.err(
                &def.schema,
                "columns",
                format!(
                    "required field `{}` of schema `{}` is not mapped",
                    f.name, schema.name
                ),
                Some(format!(
                    "add a [[columns]] entry with `field = \"{}\"`",
                    f.name
                )),
            );
        }
    }

    // Key.
    let mut key = Vec::new();
    for k in &def.key {
        if let Some(i) = c.mapped_field(k, "key", &mapped) {
            key.push(i);
        }
    }

    // Identities.
    for ident in &def.identity {
        let kind = *ident.kind.get_ref();
        for (k, f) in ident.fields() {
            let allowed = match kind {
                IdentityKind::Person => matches!(
                    k,
                    "id-number" | "name" | "birth-date" | "gender" | "phone" | "address"
                ),
                IdentityKind::Entity => {
                    matches!(k, "uscc" | "name" | "legal-rep" | "address" | "phone")
                }
            };
            if !allowed {
                c.err(
                    f,
                    &format!("identity.{k}"),
                    format!(
                        "`{k}` does not apply to a{} identity",
                        if kind == IdentityKind::Person {
                            " person"
                        } else {
                            "n entity"
                        }
                    ),
                    None,
                );
            }
            c.mapped_field(f, &format!("identity.{k}"), &mapped);
        }
        if let Some(w) = &ident.when {
            c.when(w, &unconditional, "identity.when");
        }
        let has_anchor = match kind {
            IdentityKind::Person => ident.id_number.is_some() || ident.name.is_some(),
            IdentityKind::Entity => ident.uscc.is_some() || ident.name.is_some(),
        };
        if !has_anchor {
            c.err(
                &ident.kind,
                "identity",
                "an identity needs at least an id (id-number / uscc) or a name".to_string(),
                None,
            );
        }
    }

    // Rules: implicit ones from the schema first.
    let mut rules = Vec::new();
    for (i, f) in schema.fields.iter().enumerate() {
        if f.required && mapped.contains_key(&i) {
            rules.push(CompiledRule {
                id: format!("required:{}", f.name),
                field: i,
                severity: Severity::Error,
                check: RuleCheck::Required,
                message: None,
            });
        }
        if let Some(values) = &f.values
            && mapped.contains_key(&i)
        {
            rules.push(CompiledRule {
                id: format!("values:{}", f.name),
                field: i,
                severity: Severity::Error,
                check: RuleCheck::Enum(values.iter().cloned().collect()),
                message: None,
            });
        }
    }
    let mut ids = HashSet::new();
    for r in &def.rules {
        if let Some(rule) = compile_rule(&mut c, r, &mapped) {
            if !ids.insert(rule.id.clone()) {
                let span = r.id.as_ref().map(|s| s.span()).unwrap_or(r.kind.span());
                c.problems.push(c.src.problem(
                    Some(span),
                    Some("rules.id"),
                    format!("rule id `{}` is used twice", rule.id),
                    Some("give each rule its own `id`".into()),
                ));
            }
            rules.push(rule);
        }
    }

    // Limits.
    let limits = Limits {
        max_bad_rows: def.limits.max_bad_rows.or(project.ingest.max_bad_rows),
        max_bad_ratio: def
            .limits
            .max_bad_ratio
            .as_ref()
            .map(|r| *r.get_ref())
            .or(project.ingest.max_bad_ratio),
        min_rows: def.limits.min_rows,
        max_rows: def.limits.max_rows,
    };
    if let Some(r) = &def.limits.max_bad_ratio
        && !(0.0..=1.0).contains(r.get_ref())
    {
        c.err(
            r,
            "limits.max-bad-ratio",
            format!(
                "max-bad-ratio is a fraction between 0 and 1, found {}",
                r.get_ref()
            ),
            Some("e.g. `0.05` for 5%".into()),
        );
    }
    if let (Some(a), Some(b)) = (limits.min_rows, limits.max_rows)
        && a > b
    {
        c.problems.push(src.problem(
            None,
            Some("limits"),
            format!("limits.min-rows ({a}) is above limits.max-rows ({b})"),
            None,
        ));
    }

    // Catalog.
    let cat = &def.catalog;
    if *cat.sharing.get_ref() == civhub_core::SharingType::Conditional
        && cat
            .sharing_conditions
            .as_deref()
            .is_none_or(|s| s.trim().is_empty())
    {
        c.err(
            &cat.sharing,
            "catalog.sharing-conditions",
            "有条件共享 needs `sharing-conditions` stating the conditions".to_string(),
            Some("e.g. sharing-conditions = \"用于社会救助核对，经审批后获取\"".into()),
        );
    }
    if let Some(d) = &cat.release_date
        && NaiveDate::parse_from_str(d.get_ref(), "%Y-%m-%d").is_err()
    {
        c.err(
            d,
            "catalog.release-date",
            format!("`{}` is not a date", d.get_ref()),
            Some("write it as YYYY-MM-DD".into()),
        );
    }
    if cat.title.trim().is_empty() {
        c.problems
            .push(src.problem(None, Some("catalog.title"), "catalog.title is empty", None));
    }

    let stop_at = def
        .source
        .stop_at
        .as_ref()
        .and_then(|s| regex::Regex::new(s.get_ref()).ok());
    if c.problems.problems.len() > before {
        return None;
    }
    let fingerprint = {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        h.update(src.text.as_bytes());
        h.update(&schema.text_hash.to_le_bytes());
        h.update(env!("CARGO_PKG_VERSION").as_bytes());
        h.update(&[crate::STAGING_FORMAT_VERSION]);
        h.digest()
    };
    Some(Pipeline {
        id: format!("{dept}.{dataset}"),
        department: dept.to_string(),
        dataset,
        display: src.display.clone(),
        schema: schema.clone(),
        columns,
        key,
        rules,
        limits,
        stop_at,
        fingerprint,
        def,
    })
}

struct Checker<'a> {
    src: &'a SourceFile,
    schema: &'a Schema,
    field_names: &'a [&'a str],
    problems: &'a mut ConfigProblems,
}

impl Checker<'_> {
    fn err<T>(&mut self, at: &Spanned<T>, key: &str, msg: String, hint: Option<String>) {
        self.problems
            .push(self.src.problem(Some(at.span()), Some(key), msg, hint));
    }

    /// Resolves a schema field name.
    fn field(&mut self, name: &Spanned<String>, key: &str) -> Option<usize> {
        match self.schema.field_index(name.get_ref()) {
            Some(i) => Some(i),
            None => {
                let hint = hint_for(name.get_ref(), self.field_names);
                self.err(
                    name,
                    key,
                    format!(
                        "schema `{}` has no field `{}`",
                        self.schema.name,
                        name.get_ref()
                    ),
                    hint,
                );
                None
            }
        }
    }

    /// Compiles a `when` condition over a field in `allowed`.
    fn when(
        &mut self,
        w: &WhenDef,
        allowed: &HashMap<usize, ()>,
        key: &str,
    ) -> Option<(usize, HashSet<String>)> {
        let i = self.field(&w.field, key)?;
        if !allowed.contains_key(&i) {
            self.err(
                &w.field,
                key,
                format!(
                    "`when` refers to `{}`, which is not mapped by a column without `when`",
                    w.field.get_ref()
                ),
                Some("conditions can only test fields every row fills".into()),
            );
            return None;
        }
        if w.values.is_empty() {
            self.err(
                &w.field,
                key,
                "`when` needs a non-empty `values` list".into(),
                None,
            );
            return None;
        }
        Some((i, w.values.iter().cloned().collect()))
    }

    /// Resolves a schema field that the pipeline maps.
    fn mapped_field(
        &mut self,
        name: &Spanned<String>,
        key: &str,
        mapped: &HashMap<usize, ()>,
    ) -> Option<usize> {
        let i = self.field(name, key)?;
        if !mapped.contains_key(&i) {
            self.err(
                name,
                key,
                format!("field `{}` is not mapped by this pipeline", name.get_ref()),
                Some("add a [[columns]] entry for it, or refer to a mapped field".into()),
            );
            return None;
        }
        Some(i)
    }
}

fn check_source(c: &mut Checker<'_>, s: &SourceDef) {
    let format = *s.format.get_ref();
    if s.path.get_ref().trim().is_empty() {
        c.err(
            &s.path,
            "source.path",
            "source.path is empty".into(),
            Some("a glob relative to the exports folder, e.g. `civil_affairs/低保_*.csv`".into()),
        );
    } else if let Err(e) = glob::Pattern::new(s.path.get_ref()) {
        c.err(
            &s.path,
            "source.path",
            format!("not a valid glob: {e}"),
            None,
        );
    } else if Path::new(s.path.get_ref()).is_absolute()
        || s.path.get_ref().split('/').any(|p| p == "..")
    {
        c.err(
            &s.path,
            "source.path",
            "source.path must stay inside the exports folder".into(),
            Some("write it relative to `paths.exports`, without `..`".into()),
        );
    }
    if let Some(d) = &s.delimiter {
        if format != Format::Csv {
            c.err(
                d,
                "source.delimiter",
                format!("`delimiter` applies to csv, not {}", format.as_str()),
                None,
            );
        } else if delimiter_byte(d.get_ref()).is_none() {
            c.err(
                d,
                "source.delimiter",
                format!(
                    "delimiter `{}` is not a single ASCII character",
                    d.get_ref()
                ),
                Some("e.g. `,`, `|`, `;` or `\\t`".into()),
            );
        }
    }
    if let Some(h) = &s.header_row {
        if !matches!(format, Format::Csv | Format::Xlsx) {
            c.err(
                h,
                "source.header-row",
                format!(
                    "`header-row` applies to csv and xlsx, not {}",
                    format.as_str()
                ),
                None,
            );
        } else if *h.get_ref() == 0 {
            c.err(
                h,
                "source.header-row",
                "header-row is 1-based: the first row is 1".into(),
                None,
            );
        }
    }
    if let Some(sh) = &s.sheets
        && format != Format::Xlsx
    {
        c.err(
            sh,
            "source.sheets",
            format!("`sheets` applies to xlsx, not {}", format.as_str()),
            None,
        );
    }
    if let Some(r) = &s.records
        && format != Format::Json
    {
        c.err(
            r,
            "source.records",
            format!("`records` applies to json, not {}", format.as_str()),
            None,
        );
    }
    if let Some(st) = &s.stop_at {
        if !matches!(format, Format::Csv | Format::Xlsx) {
            c.err(
                st,
                "source.stop-at",
                format!("`stop-at` applies to csv and xlsx, not {}", format.as_str()),
                None,
            );
        } else if let Err(e) = regex::Regex::new(st.get_ref()) {
            c.err(
                st,
                "source.stop-at",
                format!(
                    "not a valid regular expression: {}",
                    first_line(&e.to_string())
                ),
                None,
            );
        }
    }
    if s.encoding != Encoding::Auto && matches!(format, Format::Xlsx | Format::Parquet) {
        c.err(
            &s.format,
            "source.encoding",
            format!("`encoding` does not apply to {} files", format.as_str()),
            Some("remove `encoding`".into()),
        );
    }
}

/// The delimiter byte of a `delimiter` setting (`\t` written out is a tab).
pub fn delimiter_byte(s: &str) -> Option<u8> {
    match s {
        "\\t" | "\t" => Some(b'\t'),
        _ if s.len() == 1 && s.is_ascii() => Some(s.as_bytes()[0]),
        _ => None,
    }
}

fn first_line(s: &str) -> String {
    let l = s.lines().last().unwrap_or(s).trim();
    l.strip_prefix("error: ").unwrap_or(l).to_string()
}

fn compile_rule(
    c: &mut Checker<'_>,
    r: &RuleDef,
    mapped: &HashMap<usize, ()>,
) -> Option<CompiledRule> {
    let kind = *r.kind.get_ref();
    let field = c.mapped_field(&r.field, "rules.field", mapped)?;
    let ftype = c.schema.fields[field].field_type;
    let kind_name = match kind {
        RuleKind::Required => "required",
        RuleKind::Pattern => "pattern",
        RuleKind::Range => "range",
        RuleKind::Enum => "enum",
        RuleKind::Length => "length",
        RuleKind::CheckDigit => "check_digit",
        RuleKind::IdConsistency => "id_consistency",
        RuleKind::Compare => "compare",
    };
    let id =
        r.id.as_ref()
            .map(|s| s.get_ref().clone())
            .unwrap_or_else(|| format!("{kind_name}:{}", r.field.get_ref()));
    // Keys that belong to other kinds are mistakes worth naming.
    let extra: Vec<(&str, bool)> = vec![
        ("pattern", r.pattern.is_some() && kind != RuleKind::Pattern),
        (
            "min",
            r.min.is_some() && !matches!(kind, RuleKind::Range | RuleKind::Length),
        ),
        (
            "max",
            r.max.is_some() && !matches!(kind, RuleKind::Range | RuleKind::Length),
        ),
        ("values", r.values.is_some() && kind != RuleKind::Enum),
        ("scheme", r.scheme.is_some() && kind != RuleKind::CheckDigit),
        (
            "birth-date",
            r.birth_date.is_some() && kind != RuleKind::IdConsistency,
        ),
        (
            "gender",
            r.gender.is_some() && kind != RuleKind::IdConsistency,
        ),
        ("op", r.op.is_some() && kind != RuleKind::Compare),
        ("other", r.other.is_some() && kind != RuleKind::Compare),
    ];
    for (k, bad) in extra {
        if bad {
            c.err(
                &r.kind,
                &format!("rules.{k}"),
                format!("`{k}` does not apply to a `{kind_name}` rule"),
                None,
            );
        }
    }
    let check = match kind {
        RuleKind::Required => RuleCheck::Required,
        RuleKind::Pattern => {
            let Some(p) = &r.pattern else {
                c.err(
                    &r.kind,
                    "rules.pattern",
                    "a `pattern` rule needs `pattern`".into(),
                    None,
                );
                return None;
            };
            match regex::Regex::new(p.get_ref()) {
                Ok(re) => RuleCheck::Pattern(re),
                Err(e) => {
                    c.err(
                        p,
                        "rules.pattern",
                        format!(
                            "not a valid regular expression: {}",
                            first_line(&e.to_string())
                        ),
                        None,
                    );
                    return None;
                }
            }
        }
        RuleKind::Range => {
            if r.min.is_none() && r.max.is_none() {
                c.err(
                    &r.kind,
                    "rules",
                    "a `range` rule needs `min`, `max` or both".into(),
                    None,
                );
                return None;
            }
            let min = r.min.as_ref().and_then(|v| bound(c, v, ftype, "rules.min"));
            let max = r.max.as_ref().and_then(|v| bound(c, v, ftype, "rules.max"));
            RuleCheck::Range(min, max)
        }
        RuleKind::Enum => match &r.values {
            Some(v) if !v.is_empty() => RuleCheck::Enum(v.iter().cloned().collect()),
            _ => {
                c.err(
                    &r.kind,
                    "rules.values",
                    "an `enum` rule needs a non-empty `values` list".into(),
                    None,
                );
                return None;
            }
        },
        RuleKind::Length => {
            let get = |c: &mut Checker<'_>,
                       v: &Option<Spanned<toml::Value>>,
                       key: &str|
             -> Option<usize> {
                let v = v.as_ref()?;
                match v.get_ref().as_integer() {
                    Some(n) if n >= 0 => Some(n as usize),
                    _ => {
                        c.err(v, key, "a length bound is a whole number".into(), None);
                        None
                    }
                }
            };
            let min = get(c, &r.min, "rules.min");
            let max = get(c, &r.max, "rules.max");
            if min.is_none() && max.is_none() {
                c.err(
                    &r.kind,
                    "rules",
                    "a `length` rule needs `min`, `max` or both".into(),
                    None,
                );
                return None;
            }
            RuleCheck::Length(min, max)
        }
        RuleKind::CheckDigit => match r.scheme {
            Some(s) => RuleCheck::CheckDigit(s),
            None => {
                c.err(
                    &r.kind,
                    "rules.scheme",
                    "a `check_digit` rule needs `scheme`".into(),
                    Some("one of `resident_id`, `uscc`, `org_code`".into()),
                );
                return None;
            }
        },
        RuleKind::IdConsistency => {
            let birth_date = r
                .birth_date
                .as_ref()
                .and_then(|f| c.mapped_field(f, "rules.birth-date", mapped));
            let gender = r
                .gender
                .as_ref()
                .and_then(|f| c.mapped_field(f, "rules.gender", mapped));
            if r.birth_date.is_none() && r.gender.is_none() {
                c.err(
                    &r.kind,
                    "rules",
                    "an `id_consistency` rule needs `birth-date`, `gender` or both".into(),
                    None,
                );
                return None;
            }
            RuleCheck::IdConsistency { birth_date, gender }
        }
        RuleKind::Compare => {
            let op = match r.op.as_ref().map(|o| o.get_ref().as_str()) {
                Some("<") => CompareOp::Lt,
                Some("<=") => CompareOp::Le,
                Some("=") | Some("==") => CompareOp::Eq,
                Some("!=") => CompareOp::Ne,
                Some(">=") => CompareOp::Ge,
                Some(">") => CompareOp::Gt,
                Some(other) => {
                    let o = r.op.as_ref().expect("checked");
                    c.err(
                        o,
                        "rules.op",
                        format!("unknown operator `{other}`"),
                        Some("one of `<`, `<=`, `=`, `!=`, `>=`, `>`".into()),
                    );
                    return None;
                }
                None => {
                    c.err(
                        &r.kind,
                        "rules.op",
                        "a `compare` rule needs `op`".into(),
                        None,
                    );
                    return None;
                }
            };
            let Some(other) = &r.other else {
                c.err(
                    &r.kind,
                    "rules.other",
                    "a `compare` rule needs `other` (the field to compare with)".into(),
                    None,
                );
                return None;
            };
            let other = c.mapped_field(other, "rules.other", mapped)?;
            RuleCheck::Compare { op, other }
        }
    };
    Some(CompiledRule {
        id,
        field,
        severity: r.severity,
        check,
        message: r.message.clone(),
    })
}

fn bound(
    c: &mut Checker<'_>,
    v: &Spanned<toml::Value>,
    ftype: FieldType,
    key: &str,
) -> Option<Bound> {
    match (v.get_ref(), ftype) {
        (toml::Value::Integer(i), FieldType::Integer | FieldType::Decimal | FieldType::Float) => {
            Some(Bound::Number(*i as f64))
        }
        (toml::Value::Float(f), FieldType::Integer | FieldType::Decimal | FieldType::Float) => {
            Some(Bound::Number(*f))
        }
        (toml::Value::String(s), FieldType::Date | FieldType::Datetime) if s == "today" => {
            Some(Bound::Today)
        }
        (toml::Value::String(s), FieldType::Date | FieldType::Datetime) => {
            match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                Ok(d) => Some(Bound::Date(d)),
                Err(_) => {
                    c.err(
                        v,
                        key,
                        format!("`{s}` is not a date"),
                        Some("write YYYY-MM-DD or `today`".into()),
                    );
                    None
                }
            }
        }
        (toml::Value::Datetime(d), FieldType::Date | FieldType::Datetime) => match d.date {
            Some(date) => {
                NaiveDate::from_ymd_opt(date.year as i32, date.month as u32, date.day as u32)
                    .map(Bound::Date)
            }
            None => {
                c.err(v, key, "a date bound needs a date".into(), None);
                None
            }
        },
        (_, FieldType::Date | FieldType::Datetime) => {
            c.err(
                v,
                key,
                "a date field's bound is a date `YYYY-MM-DD` or `today`".into(),
                None,
            );
            None
        }
        (_, FieldType::Integer | FieldType::Decimal | FieldType::Float) => {
            c.err(v, key, "a number field's bound is a number".into(), None);
            None
        }
        (_, t) => {
            c.err(
                v,
                key,
                format!("a `range` rule applies to numbers and dates, not {t} fields"),
                Some("use `length`, `pattern` or `enum` for text".into()),
            );
            None
        }
    }
}

pub(super) fn check_related(root: &Path, pipelines: &[Pipeline], problems: &mut ConfigProblems) {
    let ids: Vec<&str> = pipelines.iter().map(|p| p.id.as_str()).collect();
    for p in pipelines {
        for r in &p.def.catalog.related {
            if !ids.contains(&r.get_ref().as_str()) {
                let text = fs_err::read_to_string(root.join(&p.display)).unwrap_or_default();
                let src = SourceFile::new(root, &root.join(&p.display), text);
                problems.push(src.problem(
                    Some(r.span()),
                    Some("catalog.related"),
                    format!("no dataset `{}`", r.get_ref()),
                    hint_for(r.get_ref(), &ids).or(Some(
                        "related datasets are written `<department>.<dataset>`".into(),
                    )),
                ));
            }
        }
    }
}
