//! `pipelines/<department>/<dataset>.toml`: one department export.
//!
//! Everything about the shape of one export lives here — file pattern, format,
//! encoding, title rows, sheets, nested JSON, the export's own column names —
//! so that a new department is a new file, never new code.

use civhub_core::{Normalizer, SharingType, UpdateCycle};
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// The whole pipeline file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PipelineFile {
    /// The canonical schema this export maps onto (a file in `schemas/`).
    pub schema: Spanned<String>,
    /// `snapshot` (default): each run's files are the whole current export.
    /// `append`: files accumulate; rows of files that disappear are kept.
    #[serde(default)]
    pub mode: Mode,
    /// Where the files are and how to read them.
    pub source: SourceDef,
    /// Export column → schema field, one entry per field produced.
    pub columns: Vec<ColumnDef>,
    /// Schema fields whose values together identify a record; duplicates are quarantined.
    #[serde(default)]
    pub key: Vec<Spanned<String>>,
    /// Which fields identify a person or a legal entity (used by matching).
    #[serde(default)]
    pub identity: Vec<IdentityDef>,
    /// Validation rules beyond the schema's own (required fields, allowed values).
    #[serde(default)]
    pub rules: Vec<RuleDef>,
    /// Tolerance for bad rows and expected row counts.
    #[serde(default)]
    pub limits: LimitsDef,
    /// Catalog metadata (政务信息资源目录).
    pub catalog: CatalogDef,
}

/// How successive runs treat the files of one pipeline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// The files present now are the whole dataset.
    #[default]
    Snapshot,
    /// Every file ever ingested stays part of the dataset.
    Append,
}

/// File formats civhub reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Delimited text.
    Csv,
    /// Excel 2007+ workbook (also reads .xls and .ods through calamine).
    Xlsx,
    /// A JSON document holding an array of records (see `records`).
    Json,
    /// One JSON object per line.
    Ndjson,
    /// Apache Parquet.
    Parquet,
}

impl Format {
    /// The name used in pipeline files.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::Json => "json",
            Format::Ndjson => "ndjson",
            Format::Parquet => "parquet",
        }
    }
}

/// Text encodings of CSV and JSON files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    /// UTF-8 when the bytes are valid UTF-8 (a BOM is skipped), else GB18030.
    #[default]
    Auto,
    /// UTF-8.
    #[serde(rename = "utf-8", alias = "utf8")]
    Utf8,
    /// GBK (decoded as GB18030, its superset).
    Gbk,
    /// GB18030.
    Gb18030,
}

/// Which sheets of a workbook to read.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Sheets {
    /// One sheet by name, or `*` for every sheet.
    One(String),
    /// These sheets, in this order.
    Many(Vec<String>),
}

/// `[source]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SourceDef {
    /// Glob relative to the project's exports folder, e.g. `public_security/户籍_*.csv`.
    pub path: Spanned<String>,
    /// File format.
    pub format: Spanned<Format>,
    /// Text encoding (csv, json, ndjson). Default `auto`.
    #[serde(default)]
    pub encoding: Encoding,
    /// Field delimiter for csv, one character (`\t` for tab). Default `,`.
    #[serde(default)]
    pub delimiter: Option<Spanned<String>>,
    /// 1-based row number of the header row (csv, xlsx); rows above it are titles. Default 1.
    #[serde(default)]
    pub header_row: Option<Spanned<usize>>,
    /// xlsx: sheet name, list of names, or `*` for all sheets. Default: the first sheet.
    #[serde(default)]
    pub sheets: Option<Spanned<Sheets>>,
    /// json: dotted path to the array of records inside the document (e.g. `data.list`).
    /// Default: the document itself is the array.
    #[serde(default)]
    pub records: Option<Spanned<String>>,
    /// A regular expression; a row whose first non-empty cell matches it ends the
    /// data (footer rows such as 合计 or 制表人). The footer rows are counted in the
    /// report as `footer_rows`, never staged.
    #[serde(default)]
    pub stop_at: Option<Spanned<String>>,
}

/// How a value that fails its normalizer is handled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnError {
    /// Quarantine the row (default).
    #[default]
    Quarantine,
    /// Stage the row with this field null, and flag it.
    Null,
}

/// One or several source column names (the first one present in a file is used).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// One column name.
    One(String),
    /// Alternatives, in order of preference.
    Many(Vec<String>),
}

impl OneOrMany {
    /// The names, in order of preference.
    pub fn names(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(s) => vec![s.as_str()],
            OneOrMany::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// `[[columns]]`: one schema field, where its value comes from and how it is normalized.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ColumnDef {
    /// The schema field this column fills.
    pub field: Spanned<String>,
    /// The export's column name (or alternatives). Dotted paths reach into
    /// nested JSON objects. `$sheet` is the sheet name, `$file` the file name
    /// without extension.
    #[serde(default)]
    pub from: Option<Spanned<OneOrMany>>,
    /// A constant instead of a source column.
    #[serde(default)]
    pub value: Option<String>,
    /// Normalizer; default: the plain one for the field's type.
    #[serde(default)]
    pub normalize: Option<Spanned<Normalizer>>,
    /// Raw value → replacement, applied before the normalizer (code tables).
    #[serde(default)]
    pub map: Option<BTreeMap<String, String>>,
    /// For `amount`: unit of values written without one (`元` or `万元`).
    #[serde(default)]
    pub unit: Option<Spanned<String>>,
    /// For `phone`: area code of landlines written without one; default the project's.
    #[serde(default)]
    pub area_code: Option<String>,
    /// What to do when the normalizer rejects a value. Default `quarantine`.
    #[serde(default)]
    pub on_error: OnError,
    /// The column may be missing from a file; the field is then null.
    #[serde(default)]
    pub optional: bool,
    /// A regular expression applied to the raw value before `map` and the
    /// normalizer: the first capture group (or the whole match) is kept, e.g.
    /// `extract = '(\d{4}-\d{2})'` to take the month out of `$file`. No match
    /// is a normalizer error.
    #[serde(default)]
    pub extract: Option<Spanned<String>>,
    /// Fill the field only on rows where another field has one of the given
    /// values — for a column that holds different things by row, e.g. a
    /// 证件号码 that is a resident ID for persons and a USCC for organisations.
    #[serde(default)]
    pub when: Option<WhenDef>,
}

/// A condition on a row: `field`'s normalized value is one of `values`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct WhenDef {
    /// A schema field mapped by a column without `when`.
    pub field: Spanned<String>,
    /// The values for which the condition holds.
    pub values: Vec<String>,
}

/// Whether an identity describes a person or a legal entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdentityKind {
    /// A natural person (自然人).
    Person,
    /// A legal entity or other organisation (法人和其他组织).
    Entity,
}

/// `[[identity]]`: a person or entity mentioned by each record, by schema field names.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct IdentityDef {
    /// Person or entity.
    pub kind: Spanned<IdentityKind>,
    /// The part this person/entity plays in the record: `resident`, `owner`,
    /// `member`, `legal_rep`, `shareholder`, `holder`, …
    pub role: String,
    /// Person: resident ID field.
    #[serde(default)]
    pub id_number: Option<Spanned<String>>,
    /// Person or entity: name field.
    #[serde(default)]
    pub name: Option<Spanned<String>>,
    /// Person: birth date field.
    #[serde(default)]
    pub birth_date: Option<Spanned<String>>,
    /// Person: gender field.
    #[serde(default)]
    pub gender: Option<Spanned<String>>,
    /// Person: phone field.
    #[serde(default)]
    pub phone: Option<Spanned<String>>,
    /// Person or entity: address field.
    #[serde(default)]
    pub address: Option<Spanned<String>>,
    /// Entity: unified social credit code field.
    #[serde(default)]
    pub uscc: Option<Spanned<String>>,
    /// Entity: legal representative's name field.
    #[serde(default)]
    pub legal_rep: Option<Spanned<String>>,
    /// Only rows where this condition holds mention this identity, e.g. the
    /// person identity of a 双公示 party only when `party_type` is 自然人.
    #[serde(default)]
    pub when: Option<WhenDef>,
}

impl IdentityDef {
    /// Every (key, field) this identity names.
    pub fn fields(&self) -> impl Iterator<Item = (&'static str, &Spanned<String>)> {
        [
            ("id-number", &self.id_number),
            ("name", &self.name),
            ("birth-date", &self.birth_date),
            ("gender", &self.gender),
            ("phone", &self.phone),
            ("address", &self.address),
            ("uscc", &self.uscc),
            ("legal-rep", &self.legal_rep),
        ]
        .into_iter()
        .filter_map(|(k, f)| f.as_ref().map(|f| (k, f)))
    }
}

/// Kinds of validation rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// `field` must have a value.
    Required,
    /// `field` must match `pattern` (a regular expression, searched anywhere unless anchored).
    Pattern,
    /// `field` must be within `min`..=`max` (numbers, or dates as `YYYY-MM-DD`; `today` allowed).
    Range,
    /// `field` must be one of `values`.
    Enum,
    /// `field`'s length in characters must be within `min`..=`max`.
    Length,
    /// `field`'s check character must be right under `scheme`.
    CheckDigit,
    /// The birth date and gender embedded in the resident ID `field` must agree
    /// with the record's own `birth-date` and `gender` fields.
    IdConsistency,
    /// `field` `op` `other` must hold (both present), e.g. end date ≥ start date.
    Compare,
}

/// Check-character schemes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckScheme {
    /// Resident identity number, GB 11643.
    ResidentId,
    /// Unified social credit code, GB 32100.
    Uscc,
    /// Organization code, GB 11714.
    OrgCode,
}

/// What happens to a row that fails a rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Quarantine the row (default).
    #[default]
    Error,
    /// Stage the row and flag it in `_flags` (e.g. a wrong check digit that
    /// matching can still use as evidence).
    Warn,
}

/// `[[rules]]`: one validation rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RuleDef {
    /// Rule id, unique in the pipeline; shown in quarantine and quality figures.
    /// Default: `<kind>:<field>`.
    #[serde(default)]
    pub id: Option<Spanned<String>>,
    /// Rule kind.
    pub kind: Spanned<RuleKind>,
    /// The field the rule checks.
    pub field: Spanned<String>,
    /// Error (quarantine, default) or warn (stage and flag).
    #[serde(default)]
    pub severity: Severity,
    /// `pattern`: the regular expression.
    #[serde(default)]
    pub pattern: Option<Spanned<String>>,
    /// `range`/`length`: lower bound.
    #[serde(default)]
    pub min: Option<Spanned<toml::Value>>,
    /// `range`/`length`: upper bound.
    #[serde(default)]
    pub max: Option<Spanned<toml::Value>>,
    /// `enum`: allowed values.
    #[serde(default)]
    pub values: Option<Vec<String>>,
    /// `check_digit`: which scheme.
    #[serde(default)]
    pub scheme: Option<CheckScheme>,
    /// `id_consistency`: the birth date field to compare with.
    #[serde(default)]
    pub birth_date: Option<Spanned<String>>,
    /// `id_consistency`: the gender field to compare with.
    #[serde(default)]
    pub gender: Option<Spanned<String>>,
    /// `compare`: operator, one of `<`, `<=`, `=`, `!=`, `>=`, `>`.
    #[serde(default)]
    pub op: Option<Spanned<String>>,
    /// `compare`: the other field.
    #[serde(default)]
    pub other: Option<Spanned<String>>,
    /// A message to show instead of the generated one.
    #[serde(default)]
    pub message: Option<String>,
}

/// `[limits]`: tolerance for bad rows (as DataX's `errorLimit`) and expected counts.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LimitsDef {
    /// Fail the pipeline when more rows than this are quarantined in one run.
    #[serde(default)]
    pub max_bad_rows: Option<u64>,
    /// Fail the pipeline when more than this fraction (0–1) of its rows is quarantined.
    #[serde(default)]
    pub max_bad_ratio: Option<Spanned<f64>>,
    /// Fail when the run's files hold fewer data rows than this (a truncated export).
    #[serde(default)]
    pub min_rows: Option<u64>,
    /// Fail when the run's files hold more data rows than this.
    #[serde(default)]
    pub max_rows: Option<u64>,
}

/// Resource classification (资源分类) of the national catalog guide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Classification {
    /// 基础信息资源 (人口, 法人单位, 自然资源和空间地理, 社会信用, 电子证照).
    #[serde(rename = "基础", alias = "base")]
    Base,
    /// 主题信息资源.
    #[serde(rename = "主题", alias = "theme")]
    Theme,
    /// 部门信息资源.
    #[serde(rename = "部门", alias = "department")]
    Department,
}

impl Classification {
    /// The Chinese name.
    pub fn as_str(self) -> &'static str {
        match self {
            Classification::Base => "基础",
            Classification::Theme => "主题",
            Classification::Department => "部门",
        }
    }
}

/// How shared data is obtained (共享方式).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum SharingMethod {
    /// 共享平台 — through the sharing platform (this hub).
    #[default]
    #[serde(rename = "共享平台", alias = "platform")]
    Platform,
    /// 邮件 — by e-mail.
    #[serde(rename = "邮件", alias = "email")]
    Email,
    /// 介质 — on physical media.
    #[serde(rename = "介质", alias = "media")]
    Media,
}

/// Open-data attribute (开放属性).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum OpenType {
    /// 不予开放
    #[default]
    #[serde(rename = "不予开放", alias = "closed")]
    Closed,
    /// 有条件开放
    #[serde(rename = "有条件开放", alias = "conditional")]
    Conditional,
    /// 无条件开放
    #[serde(rename = "无条件开放", alias = "open")]
    Open,
}

/// `[catalog]`: what the shared data catalog says about this dataset.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CatalogDef {
    /// 中文 resource name (信息资源名称).
    pub title: String,
    /// English name.
    #[serde(default)]
    pub title_en: Option<String>,
    /// Summary (信息资源摘要).
    pub description: String,
    /// Resource classification: 基础, 主题 or 部门.
    pub classification: Spanned<Classification>,
    /// Sub-class, e.g. 人口 / 法人单位 / 电子证照 under 基础, or a theme name.
    #[serde(default)]
    pub category: Option<String>,
    /// Resource code (信息资源代码); generated from the classification when absent.
    #[serde(default)]
    pub resource_code: Option<String>,
    /// Sharing type (共享类型).
    pub sharing: Spanned<SharingType>,
    /// Conditions of 有条件共享 (required for it), or the basis of 不予共享.
    #[serde(default)]
    pub sharing_conditions: Option<String>,
    /// How the data is obtained (共享方式). Default 共享平台.
    #[serde(default)]
    pub sharing_method: SharingMethod,
    /// Open-data attribute (开放属性). Default 不予开放.
    #[serde(default)]
    pub open: OpenType,
    /// Update cycle (更新周期).
    pub update_cycle: Spanned<UpdateCycle>,
    /// Free keywords for search.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Related datasets, as `<department>.<dataset>` ids (关联资源).
    #[serde(default)]
    pub related: Vec<Spanned<String>>,
    /// First release date, `YYYY-MM-DD` (发布日期).
    #[serde(default)]
    pub release_date: Option<Spanned<String>>,
}

/// `pipelines/<department>/_department.toml`: the providing department.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DepartmentFile {
    /// Full 中文 name, e.g. 黄山市公安局.
    pub name: String,
    /// English name.
    pub name_en: String,
    /// Short name, e.g. 公安.
    pub short_name: String,
    /// The department's unified social credit code (机关: starts with 11).
    pub code: Spanned<String>,
}
