//! `pipelines/checks/<id>.toml`: a rule set — its subjects, parameters with
//! effective dates, shared definitions and rules — checked when it is read,
//! with every problem located (file, line, column) like pipelines are.

use civhub_ingest::config::Project;
use civhub_ingest::config::diag::{ConfigProblems, SourceFile, file_problem, hint_for};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// Names every rule's SQL must return.
pub const RULE_COLUMNS: [&str; 10] = [
    "household_id",
    "member_gid",
    "flagged",
    "value",
    "threshold",
    "detail",
    "source_dataset",
    "source_key",
    "source_file",
    "source_row",
];

/// Parameters every check has without declaring them.
pub const BUILTIN_PARAMETERS: [&str; 2] = ["check_date", "check_month"];

/// A check file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct CheckFile {
    id: Spanned<String>,
    title: String,
    #[serde(default)]
    title_en: Option<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    provider: Option<String>,
    #[serde(default)]
    links: Option<String>,
    subjects: Subjects,
    #[serde(default)]
    parameters: BTreeMap<String, ParameterFile>,
    #[serde(default)]
    definitions: BTreeMap<String, Definition>,
    #[serde(default)]
    rules: Vec<RuleFile>,
}

/// What is checked: one row per member of a subject (household).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Subjects {
    /// The subject (household) id column.
    pub key: String,
    /// The member's golden id column.
    pub member: String,
    /// The column `--district` filters on.
    #[serde(default)]
    pub district: Option<String>,
    /// What the report shows beside a household id.
    #[serde(default)]
    pub label: Option<String>,
    /// What a subject is called in summaries (default `households`).
    #[serde(default)]
    pub noun: Option<String>,
    /// The query, over published tables.
    pub sql: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ParameterFile {
    title: String,
    #[serde(default)]
    unit: Option<String>,
    values: Vec<Spanned<ValueFile>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ValueFile {
    from: String,
    #[serde(default)]
    district: Option<String>,
    value: toml::Value,
}

/// A view the rules can use.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Definition {
    /// Its query.
    pub sql: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RuleFile {
    id: Spanned<String>,
    title: String,
    #[serde(default)]
    description: String,
    severity: Spanned<String>,
    sql: Spanned<String>,
}

/// How serious a finding of a rule is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Disqualifying evidence.
    High,
    /// Evidence worth a look.
    Medium,
    /// Weak evidence.
    Low,
    /// Nothing can be concluded automatically: a person must check.
    Manual,
}

impl Severity {
    /// The name used in files and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Manual => "manual",
        }
    }

    /// The Chinese label used in reports.
    pub fn label(self) -> &'static str {
        match self {
            Severity::High => "高",
            Severity::Medium => "中",
            Severity::Low => "低",
            Severity::Manual => "需人工核实",
        }
    }

    fn parse(s: &str) -> Option<Severity> {
        Some(match s {
            "high" => Severity::High,
            "medium" => Severity::Medium,
            "low" => Severity::Low,
            "manual" => Severity::Manual,
            _ => return None,
        })
    }
}

/// A parameter value: a number, a text or a list of texts.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// A number.
    Number(f64),
    /// A text.
    Text(String),
    /// A list of texts.
    List(Vec<String>),
    /// A date (the built-in `check_date`).
    Date(chrono::NaiveDate),
}

impl ParamValue {
    /// The value as an SQL literal (a list as `'a', 'b'`).
    pub fn sql(&self) -> String {
        match self {
            ParamValue::Number(n) => number(*n),
            ParamValue::Text(s) => quote(s),
            ParamValue::List(v) => v.iter().map(|s| quote(s)).collect::<Vec<_>>().join(", "),
            ParamValue::Date(d) => format!("DATE '{}'", d.format("%Y-%m-%d")),
        }
    }

    /// The value as one quoted SQL text (a list joined with 、).
    pub fn sql_text(&self) -> String {
        quote(&self.display())
    }

    /// The value as people read it.
    pub fn display(&self) -> String {
        match self {
            ParamValue::Number(n) => number(*n),
            ParamValue::Text(s) => s.clone(),
            ParamValue::List(v) => v.join("、"),
            ParamValue::Date(d) => d.format("%Y-%m-%d").to_string(),
        }
    }

    /// As JSON.
    pub fn json(&self) -> serde_json::Value {
        match self {
            ParamValue::Number(n) => serde_json::json!(n),
            ParamValue::Text(s) => serde_json::json!(s),
            ParamValue::List(v) => serde_json::json!(v),
            ParamValue::Date(d) => serde_json::json!(d.format("%Y-%m-%d").to_string()),
        }
    }
}

fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// One dated value of a parameter.
#[derive(Debug, Clone)]
pub struct Dated {
    /// In force from this date.
    pub from: chrono::NaiveDate,
    /// Only in this district (`None`: everywhere).
    pub district: Option<String>,
    /// The value.
    pub value: ParamValue,
}

/// A parameter.
#[derive(Debug, Clone)]
pub struct Parameter {
    /// Its name (`${name}` in SQL).
    pub name: String,
    /// What it is (中文).
    pub title: String,
    /// Unit.
    pub unit: Option<String>,
    /// Its values over time and place.
    pub values: Vec<Dated>,
}

impl Parameter {
    /// The value in force on `date` in `district`: the latest value from on
    /// or before `date`, a district's own value winning over the general one
    /// of the same or an earlier date.
    pub fn at(&self, date: chrono::NaiveDate, district: Option<&str>) -> Option<&Dated> {
        let mut best: Option<&Dated> = None;
        for v in self.values.iter().filter(|v| v.from <= date) {
            let applies = match (&v.district, district) {
                (None, _) => true,
                (Some(d), Some(h)) => d == h,
                (Some(_), None) => false,
            };
            if !applies {
                continue;
            }
            best = match best {
                None => Some(v),
                Some(b) => {
                    let rank = |x: &Dated| (x.from, x.district.is_some());
                    if rank(v) >= rank(b) { Some(v) } else { Some(b) }
                }
            };
        }
        best
    }
}

/// A rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Its id.
    pub id: String,
    /// Title (中文).
    pub title: String,
    /// What it checks.
    pub description: String,
    /// Severity of its findings.
    pub severity: Severity,
    /// Its query.
    pub sql: String,
    /// Where its SQL starts in the file (line).
    pub line: usize,
}

/// A checked rule set.
#[derive(Debug, Clone)]
pub struct Check {
    /// Id (the file's name).
    pub id: String,
    /// Title (中文).
    pub title: String,
    /// Title (English).
    pub title_en: Option<String>,
    /// What it is.
    pub description: String,
    /// Department running it.
    pub provider: Option<String>,
    /// The cross-reference table (mention → golden id) evidence links are read from.
    pub links: Option<String>,
    /// The file, relative to the project.
    pub file: String,
    /// Subjects.
    pub subjects: Subjects,
    /// Parameters by name.
    pub parameters: BTreeMap<String, Parameter>,
    /// Definitions, in dependency order as written (alphabetical unless they refer to each other).
    pub definitions: Vec<(String, String)>,
    /// Rules in file order.
    pub rules: Vec<Rule>,
}

/// The folder of check files.
pub fn dir(project: &Project) -> PathBuf {
    project
        .root
        .join(&project.file.paths.pipelines)
        .join("checks")
}

/// Ids of every check in the project, sorted.
pub fn list(project: &Project) -> Vec<String> {
    let mut v: Vec<String> = fs_err::read_dir(dir(project))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// `${name}` and `${name:text}` placeholders in `sql`: (name, byte offset).
pub fn placeholders(sql: &str) -> Vec<(String, bool, usize)> {
    let mut out = Vec::new();
    let mut rest = sql;
    let mut base = 0;
    while let Some(i) = rest.find("${") {
        let after = &rest[i + 2..];
        if let Some(j) = after.find('}') {
            let inner = &after[..j];
            let (name, text) = match inner.strip_suffix(":text") {
                Some(n) => (n, true),
                None => (inner, false),
            };
            out.push((name.trim().to_string(), text, base + i));
            base += i + 2 + j + 1;
            rest = &after[j + 1..];
        } else {
            break;
        }
    }
    out
}

/// Reads and checks check `id`.
pub fn load(project: &Project, id: &str) -> Result<Check, ConfigProblems> {
    let mut problems = ConfigProblems::default();
    let path = dir(project).join(format!("{id}.toml"));
    let text = match fs_err::read_to_string(&path) {
        Ok(t) => t,
        Err(_) => {
            let known = list(project);
            let refs: Vec<&str> = known.iter().map(String::as_str).collect();
            let hint = hint_for(id, &refs).or_else(|| {
                Some(if known.is_empty() {
                    "this project has no checks: add a file under pipelines/checks/".into()
                } else {
                    format!("checks in this project: {}", known.join(", "))
                })
            });
            problems.push(file_problem(
                &project.root,
                &path,
                format!("no check `{id}`"),
                hint,
            ));
            return Err(problems);
        }
    };
    let check = parse(&project.root, &path, text, &mut problems);
    match check {
        Some(c) if problems.is_empty() => Ok(c),
        _ => Err(problems),
    }
}

fn parse(root: &Path, path: &Path, text: String, problems: &mut ConfigProblems) -> Option<Check> {
    let src = SourceFile::new(root, path, text);
    let file: CheckFile = match toml::from_str(&src.text) {
        Ok(f) => f,
        Err(e) => {
            problems.push(src.toml_problem(&e));
            return None;
        }
    };
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    if file.id.get_ref() != &stem {
        problems.push(src.problem(
            Some(file.id.span()),
            Some("id"),
            format!(
                "this check has id `{}` but its file is named {stem}.toml",
                file.id.get_ref()
            ),
            Some(format!("set `id = \"{stem}\"` or rename the file")),
        ));
    }
    let mut parameters = BTreeMap::new();
    for (name, p) in file.parameters {
        if BUILTIN_PARAMETERS.contains(&name.as_str()) {
            problems.push(src.problem(
                None,
                Some(&format!("parameters.{name}")),
                format!("`{name}` is a built-in parameter and cannot be declared"),
                None,
            ));
        }
        let mut values = Vec::new();
        if p.values.is_empty() {
            problems.push(src.problem(
                None,
                Some(&format!("parameters.{name}.values")),
                format!("parameter `{name}` has no values"),
                Some("add `values = [{ from = \"2024-01-01\", value = … }]`".into()),
            ));
        }
        for v in &p.values {
            let span = v.span();
            let v = v.get_ref();
            let from = match chrono::NaiveDate::parse_from_str(&v.from, "%Y-%m-%d") {
                Ok(d) => d,
                Err(_) => {
                    problems.push(src.problem(
                        Some(span.clone()),
                        Some(&format!("parameters.{name}.values.from")),
                        format!("`{}` is not a date", v.from),
                        Some("write dates as YYYY-MM-DD".into()),
                    ));
                    continue;
                }
            };
            let value = match &v.value {
                toml::Value::Integer(i) => ParamValue::Number(*i as f64),
                toml::Value::Float(f) => ParamValue::Number(*f),
                toml::Value::String(s) => ParamValue::Text(s.clone()),
                toml::Value::Array(a) if a.iter().all(|x| x.is_str()) => ParamValue::List(
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect(),
                ),
                other => {
                    problems.push(src.problem(
                        Some(span.clone()),
                        Some(&format!("parameters.{name}.values.value")),
                        format!("a parameter value must be a number, a text or a list of texts, found {}", other.type_str()),
                        None,
                    ));
                    continue;
                }
            };
            values.push(Dated {
                from,
                district: v.district.clone(),
                value,
            });
        }
        parameters.insert(
            name.clone(),
            Parameter {
                name,
                title: p.title,
                unit: p.unit,
                values,
            },
        );
    }
    let mut known: Vec<String> = parameters.keys().cloned().collect();
    known.extend(BUILTIN_PARAMETERS.iter().map(|s| s.to_string()));
    let check_sql = |sql: &Spanned<String>, key: &str, problems: &mut ConfigProblems| {
        let start = sql.span().start;
        // Where the string's text starts: after its quotes (and the newline
        // a multi-line string's opening quotes may be followed by).
        let lead = {
            let t = &src.text[start..];
            if t.starts_with("\"\"\"\n") || t.starts_with("'''\n") {
                4
            } else if t.starts_with("\"\"\"") || t.starts_with("'''") {
                3
            } else {
                1
            }
        };
        let refs: Vec<&str> = known.iter().map(String::as_str).collect();
        for (name, _, at) in placeholders(sql.get_ref()) {
            if !known.contains(&name) {
                let offset = start + lead + at;
                problems.push(
                    src.problem(
                        Some(offset..offset + name.len() + 3),
                        Some(key),
                        format!("`${{{name}}}` names no parameter"),
                        hint_for(&name, &refs)
                            .or_else(|| Some(format!("parameters: {}", refs.join(", ")))),
                    ),
                );
            }
        }
    };
    check_sql(&file.subjects.sql, "subjects.sql", problems);
    let mut definitions = Vec::new();
    for (name, d) in &file.definitions {
        check_sql(&d.sql, &format!("definitions.{name}.sql"), problems);
        definitions.push((name.clone(), d.sql.get_ref().clone()));
    }
    // A definition may use an earlier one: order so that each comes after
    // those it names.
    let definitions = order_definitions(definitions);
    let mut rules: Vec<Rule> = Vec::new();
    if file.rules.is_empty() {
        problems.push(src.problem(
            None,
            Some("rules"),
            "a check needs at least one [[rules]] entry",
            None,
        ));
    }
    for r in file.rules {
        let id = r.id.get_ref().clone();
        if !civhub_ingest::config::is_identifier(&id) {
            problems.push(src.problem(
                Some(r.id.span()),
                Some("rules.id"),
                format!("rule id `{id}` must be lowercase letters, digits and _"),
                None,
            ));
        }
        if rules.iter().any(|x| x.id == id) {
            problems.push(src.problem(
                Some(r.id.span()),
                Some("rules.id"),
                format!("rule `{id}` is declared twice"),
                None,
            ));
        }
        let severity = match Severity::parse(r.severity.get_ref()) {
            Some(s) => s,
            None => {
                problems.push(
                    src.problem(
                        Some(r.severity.span()),
                        Some("rules.severity"),
                        format!("unknown severity `{}`", r.severity.get_ref()),
                        hint_for(r.severity.get_ref(), &["high", "medium", "low", "manual"])
                            .or_else(|| Some("one of: high, medium, low, manual".into())),
                    ),
                );
                Severity::Manual
            }
        };
        check_sql(&r.sql, &format!("rules.{id}.sql"), problems);
        let line = civhub_ingest::config::diag::line_col(&src.text, r.sql.span().start).0;
        rules.push(Rule {
            id,
            title: r.title,
            description: r.description,
            severity,
            sql: r.sql.into_inner(),
            line,
        });
    }
    Some(Check {
        id: file.id.into_inner(),
        title: file.title,
        title_en: file.title_en,
        description: file.description,
        provider: file.provider,
        links: file.links,
        file: src.display.clone(),
        subjects: file.subjects,
        parameters,
        definitions,
        rules,
    })
}

fn order_definitions(mut defs: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    while !defs.is_empty() {
        let names: Vec<String> = defs.iter().map(|(n, _)| n.clone()).collect();
        let pos = defs
            .iter()
            .position(|(n, sql)| !names.iter().any(|m| m != n && mentions(sql, m)))
            .unwrap_or(0);
        out.push(defs.remove(pos));
    }
    out
}

/// Whether `sql` names `word` as a whole identifier.
fn mentions(sql: &str, word: &str) -> bool {
    let b = sql.as_bytes();
    sql.match_indices(word).any(|(i, _)| {
        let before = i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
        let j = i + word.len();
        let after = j >= b.len() || !(b[j].is_ascii_alphanumeric() || b[j] == b'_');
        before && after
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_found_with_offsets() {
        let p = placeholders("a ${x} b ${y:text} c ${ z }");
        assert_eq!(
            p,
            vec![
                ("x".to_string(), false, 2),
                ("y".to_string(), true, 9),
                ("z".to_string(), false, 21)
            ]
        );
    }

    #[test]
    fn parameter_in_force_prefers_latest_and_district() {
        let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let p = Parameter {
            name: "standard".into(),
            title: "t".into(),
            unit: None,
            values: vec![
                Dated {
                    from: d("2024-01-01"),
                    district: None,
                    value: ParamValue::Number(760.0),
                },
                Dated {
                    from: d("2025-07-01"),
                    district: None,
                    value: ParamValue::Number(800.0),
                },
                Dated {
                    from: d("2025-01-01"),
                    district: Some("屯溪区".into()),
                    value: ParamValue::Number(820.0),
                },
            ],
        };
        let at =
            |date: &str, district: Option<&str>| p.at(d(date), district).map(|v| v.value.clone());
        assert_eq!(at("2023-12-31", None), None);
        assert_eq!(at("2025-06-30", None), Some(ParamValue::Number(760.0)));
        assert_eq!(
            at("2025-06-30", Some("屯溪区")),
            Some(ParamValue::Number(820.0))
        );
        // A later general value replaces an earlier district value.
        assert_eq!(
            at("2025-08-01", Some("屯溪区")),
            Some(ParamValue::Number(800.0))
        );
        assert_eq!(
            at("2025-08-01", Some("歙县")),
            Some(ParamValue::Number(800.0))
        );
    }

    #[test]
    fn values_render_as_sql() {
        assert_eq!(ParamValue::Number(800.0).sql(), "800");
        assert_eq!(ParamValue::Number(0.9).sql(), "0.9");
        assert_eq!(ParamValue::Text("it's".into()).sql(), "'it''s'");
        assert_eq!(
            ParamValue::List(vec!["商业".into(), "车库".into()]).sql(),
            "'商业', '车库'"
        );
        assert_eq!(
            ParamValue::List(vec!["商业".into(), "车库".into()]).sql_text(),
            "'商业、车库'"
        );
    }

    #[test]
    fn definitions_are_ordered_by_use() {
        let d = order_definitions(vec![
            ("household_income".into(), "SELECT * FROM wages".into()),
            ("wages".into(), "SELECT 1".into()),
        ]);
        assert_eq!(d[0].0, "wages");
        assert!(mentions("FROM wages w", "wages"));
        assert!(!mentions("FROM wages_x", "wages"));
    }
}
