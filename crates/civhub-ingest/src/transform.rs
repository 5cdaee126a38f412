//! Row transform: map source cells to schema fields, normalize, validate.
//!
//! The outcome of a row is either a staged row (typed values plus warning
//! flags) or a list of errors that send it to quarantine. Every error carries
//! the rule id, the field, the offending value and a sentence saying what was
//! expected, so that a data engineer can fix the export or the pipeline.

use crate::config::{
    Bound, Column, ColumnSource, CompareOp, CompiledRule, OnError, Pipeline, RuleCheck, Severity,
};
use crate::read::{RowView, Slot};
use chrono::NaiveDate;
use civhub_core::{Normalizer, Value, id};
use std::cmp::Ordering;

/// One reason a row is quarantined (or, for warnings, flagged).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RowError {
    /// Rule id: a declared rule's id, or a built-in one (`normalize:<field>`,
    /// `required:<field>`, `values:<field>`, `ragged-row`, `invalid-json`,
    /// `encoding`, `duplicate-key`).
    pub rule: String,
    /// Schema field concerned, if any.
    pub field: Option<String>,
    /// The offending value as read, if any.
    pub value: Option<String>,
    /// What is wrong and what was expected.
    pub reason: String,
}

/// Per-row buffers reused from one row to the next (one per reading
/// thread), so that transforming a row allocates only for the values it
/// produces. After [`Transformer::apply`] returns `Ok`, they hold the staged
/// row: one value per schema field, the warnings and the record key.
#[derive(Default)]
pub struct RowScratch {
    values: Vec<Value>,
    failed: Vec<bool>,
    flags: Vec<String>,
    key: String,
    /// Per column reading a constant source (`$file`, `$sheet`, a constant):
    /// the last raw text and what extracting, mapping and normalizing it gave.
    consts: Vec<Option<ConstResult>>,
}

type ConstResult = (
    String,
    Result<civhub_core::Normalized, civhub_core::NormError>,
);

impl RowScratch {
    /// One value per schema field.
    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// Warnings (`rule: reason`), joined into `_flags`.
    pub fn flags(&self) -> &[String] {
        &self.flags
    }

    /// Record key text (empty when the pipeline declares no key).
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// The text of a value as [`Value`]'s `Display` writes it, borrowed when it
/// is text already.
fn text(v: &Value) -> std::borrow::Cow<'_, str> {
    match v {
        Value::Str(s) => std::borrow::Cow::Borrowed(s.as_str()),
        other => std::borrow::Cow::Owned(other.to_string()),
    }
}

/// A column's `map` prepared for lookups.
enum ValueMap<'p> {
    /// No map.
    None,
    /// A few entries (most maps: codes to names): compared in turn, cheaper
    /// than hashing the cell.
    Few(Vec<(&'p str, &'p str)>),
    /// Many entries.
    Many(&'p std::collections::HashMap<String, String>),
}

/// Maps with at most this many entries are searched in turn.
const FEW_MAP_ENTRIES: usize = 16;

impl<'p> ValueMap<'p> {
    fn new(map: Option<&'p std::collections::HashMap<String, String>>) -> Self {
        match map {
            None => ValueMap::None,
            Some(m) if m.len() <= FEW_MAP_ENTRIES => {
                ValueMap::Few(m.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect())
            }
            Some(m) => ValueMap::Many(m),
        }
    }

    fn get(&self, key: &str) -> Option<&'p str> {
        match self {
            ValueMap::None => None,
            ValueMap::Few(entries) => entries.iter().find(|(k, _)| *k == key).map(|(_, v)| *v),
            ValueMap::Many(m) => m.get(key).map(String::as_str),
        }
    }
}

/// A set of texts (a `when` condition's values, an `enum` rule's) prepared
/// for lookups like [`ValueMap`]: a few compared in turn, more hashed.
enum TextSet<'p> {
    Few(Vec<&'p str>),
    Many(&'p std::collections::HashSet<String>),
}

impl<'p> TextSet<'p> {
    fn new(set: &'p std::collections::HashSet<String>) -> Self {
        if set.len() <= FEW_MAP_ENTRIES {
            TextSet::Few(set.iter().map(String::as_str).collect())
        } else {
            TextSet::Many(set)
        }
    }

    fn contains(&self, s: &str) -> bool {
        match self {
            TextSet::Few(v) => v.contains(&s),
            TextSet::Many(set) => set.contains(s),
        }
    }
}

/// A pipeline prepared for transforming rows: slots resolved, rules grouped.
pub struct Transformer<'p> {
    pipeline: &'p Pipeline,
    /// For each column, the index of its slot (source column) if it reads one.
    col_slot: Vec<Option<usize>>,
    /// For each column, its `map`.
    maps: Vec<ValueMap<'p>>,
    /// For each column, the values its `when` condition allows.
    whens: Vec<Option<TextSet<'p>>>,
    /// For each rule, the values an `enum` rule allows.
    enums: Vec<Option<TextSet<'p>>>,
    slots: Vec<Slot>,
    today: NaiveDate,
    /// The last column, in the order [`Self::apply`] visits them (pass,
    /// column index), that writes a record-key field: once it is done the
    /// key is final and is built, so that the caller can start looking it
    /// up while the other columns are read.
    key_ready: Option<(bool, usize)>,
}

impl<'p> Transformer<'p> {
    /// Prepares `pipeline`; `today` resolves `today` bounds of range rules.
    pub fn new(pipeline: &'p Pipeline, today: NaiveDate) -> Self {
        let mut slots: Vec<Slot> = Vec::new();
        let col_slot = pipeline
            .columns
            .iter()
            .map(|c| match &c.source {
                ColumnSource::Columns(names) => {
                    let i = slots
                        .iter()
                        .position(|s| &s.names == names)
                        .unwrap_or_else(|| {
                            slots.push(Slot {
                                names: names.clone(),
                                optional: c.optional,
                            });
                            slots.len() - 1
                        });
                    if !c.optional {
                        slots[i].optional = false;
                    }
                    Some(i)
                }
                _ => None,
            })
            .collect();
        Transformer {
            pipeline,
            col_slot,
            maps: pipeline
                .columns
                .iter()
                .map(|c| ValueMap::new(c.map.as_ref()))
                .collect(),
            whens: pipeline
                .columns
                .iter()
                .map(|c| c.when.as_ref().map(|(_, allowed)| TextSet::new(allowed)))
                .collect(),
            enums: pipeline
                .rules
                .iter()
                .map(|r| match &r.check {
                    RuleCheck::Enum(set) => Some(TextSet::new(set)),
                    _ => None,
                })
                .collect(),
            slots,
            today,
            key_ready: [false, true]
                .into_iter()
                .flat_map(|pass| {
                    pipeline
                        .columns
                        .iter()
                        .enumerate()
                        .filter(move |(_, c)| c.when.is_some() == pass)
                        .map(move |(ci, c)| (pass, ci, c.field))
                })
                .filter(|(_, _, f)| pipeline.key.contains(f))
                .map(|(pass, ci, _)| (pass, ci))
                .max(),
        }
    }

    /// The source columns the readers must find.
    pub fn slots(&self) -> &[Slot] {
        &self.slots
    }

    /// Transforms one row into `scratch` (see [`RowScratch`]), or returns
    /// the errors that send it to quarantine. `file_stem` serves `$file`
    /// columns. `on_key` is called with the record key as soon as the
    /// columns that make it are read, if no error was met so far and no
    /// part is empty: before the other columns, so that the caller's lookup
    /// of the key overlaps their work. The row may still fail after it.
    pub fn apply(
        &self,
        row: &dyn RowView,
        file_stem: &str,
        scratch: &mut RowScratch,
        on_key: &mut dyn FnMut(&str),
    ) -> Result<(), Vec<RowError>> {
        let p = self.pipeline;
        let mut errors: Vec<RowError> = Vec::new();
        if let Some(problem) = row.problem() {
            errors.push(RowError {
                rule: problem.rule.to_string(),
                field: None,
                value: None,
                reason: problem.reason,
            });
            return Err(errors);
        }
        let nfields = p.schema.fields.len();
        let RowScratch {
            values,
            failed,
            flags,
            key,
            consts,
        } = scratch;
        values.clear();
        values.resize(nfields, Value::Null);
        failed.clear();
        failed.resize(nfields, false);
        flags.clear();
        key.clear();
        if consts.len() != p.columns.len() {
            consts.clear();
            consts.resize_with(p.columns.len(), || None);
        }
        let mut key_built = false;
        let mut key_now = |values: &[Value], key: &mut String, errors: &[RowError]| {
            if errors.is_empty() && write_key(&p.key, values, key) {
                on_key(key);
                true
            } else {
                false
            }
        };
        // Unconditional columns first: `when` conditions test their values.
        for pass in [false, true] {
            for (ci, col) in p.columns.iter().enumerate() {
                if col.when.is_some() != pass {
                    continue;
                }
                if !key_built && self.key_ready.is_some_and(|last| (pass, ci) > last) {
                    key_built = key_now(values, key, &errors);
                }
                if let Some((f, _)) = &col.when
                    && let Some(allowed) = &self.whens[ci]
                    && (values[*f].is_null() || !allowed.contains(text(&values[*f]).as_ref()))
                {
                    continue;
                }
                let field = &p.schema.fields[col.field].name;
                let raw: Option<&str> = match &col.source {
                    ColumnSource::Columns(_) => self.col_slot[ci].and_then(|s| row.slot(s)),
                    ColumnSource::Sheet => row.sheet(),
                    ColumnSource::File => Some(file_stem),
                    ColumnSource::Const(v) => Some(v.as_str()),
                };
                let Some(raw) = raw else { continue };
                if raw.contains('\u{fffd}') {
                    errors.push(RowError {
                        rule: "encoding".into(),
                        field: Some(field.clone()),
                        value: Some(raw.to_string()),
                        reason: format!("{field}: undecodable bytes (shown as �): the file is not entirely in its declared encoding"),
                    });
                    failed[col.field] = true;
                    continue;
                }
                let constant = !matches!(col.source, ColumnSource::Columns(_));
                let cached = match &consts[ci] {
                    Some((text, result)) if constant && text == raw => Some(result.clone()),
                    _ => None,
                };
                let result = match cached {
                    Some(r) => r,
                    None => {
                        let r = Self::normalize(col, &self.maps[ci], raw);
                        if constant {
                            consts[ci] = Some((raw.to_string(), r.clone()));
                        }
                        r
                    }
                };
                match result {
                    Ok(n) => {
                        if let Some(note) = n.note {
                            flags.push(format!("normalize:{field}: {note}"));
                        }
                        values[col.field] = n.value;
                    }
                    Err(e) => {
                        failed[col.field] = true;
                        match col.on_error {
                            OnError::Null => flags
                                .push(format!("normalize:{field}: {} (value dropped)", e.reason)),
                            OnError::Quarantine => errors.push(RowError {
                                rule: format!("normalize:{field}"),
                                field: Some(field.clone()),
                                value: Some(raw.to_string()),
                                reason: format!(
                                    "{field}: cannot read as {}: {}",
                                    describe(col.normalizer),
                                    e.reason
                                ),
                            }),
                        }
                    }
                }
            }
        }
        for (ri, rule) in p.rules.iter().enumerate() {
            if failed[rule.field] {
                continue; // already reported; a rule over a value we could not read says nothing new
            }
            if let Err(reason) = self.check(rule, self.enums[ri].as_ref(), values) {
                let field = &p.schema.fields[rule.field].name;
                let reason = rule
                    .message
                    .clone()
                    .map(|m| format!("{field}: {m}"))
                    .unwrap_or(reason);
                match rule.severity {
                    Severity::Warn => flags.push(format!("{}: {reason}", rule.id)),
                    Severity::Error => errors.push(RowError {
                        rule: rule.id.clone(),
                        field: Some(field.clone()),
                        value: (!values[rule.field].is_null())
                            .then(|| values[rule.field].to_string()),
                        reason,
                    }),
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        if !p.key.is_empty() {
            if p.key.iter().any(|i| values[*i].is_null()) {
                let parts: Vec<String> = p.key.iter().map(|i| values[*i].to_string()).collect();
                let names: Vec<&str> = p
                    .key
                    .iter()
                    .map(|i| p.schema.fields[*i].name.as_str())
                    .collect();
                return Err(vec![RowError {
                    rule: "empty-key".into(),
                    field: Some(names.join(",")),
                    value: Some(parts.join("|")),
                    reason: format!("record key ({}) has an empty part", names.join(", ")),
                }]);
            }
            if !key_built {
                key_now(values, key, &errors);
            }
        }
        Ok(())
    }

    /// Extracts, maps and normalizes one raw cell of `col`.
    fn normalize(
        col: &Column,
        map: &ValueMap<'_>,
        raw: &str,
    ) -> Result<civhub_core::Normalized, civhub_core::NormError> {
        let extracted = match &col.extract {
            None => Ok(raw),
            Some(re) => match re.captures(raw) {
                Some(c) => Ok(c
                    .get(1)
                    .or_else(|| c.get(0))
                    .map(|m| m.as_str())
                    .unwrap_or(raw)),
                None => Err(civhub_core::NormError::new(format!(
                    "does not match `extract = '{}'`",
                    re.as_str()
                ))),
            },
        };
        extracted.and_then(|x| {
            let mapped = match map {
                ValueMap::None => x,
                map => map.get(x.trim()).unwrap_or(x),
            };
            col.normalizer.apply(mapped, &col.options)
        })
    }

    fn check(
        &self,
        rule: &CompiledRule,
        allowed: Option<&TextSet<'_>>,
        values: &[Value],
    ) -> Result<(), String> {
        let p = self.pipeline;
        let name = &p.schema.fields[rule.field].name;
        let v = &values[rule.field];
        if v.is_null() {
            return match rule.check {
                RuleCheck::Required => {
                    Err(format!("{name}: a value is required but the cell is empty"))
                }
                _ => Ok(()),
            };
        }
        match &rule.check {
            RuleCheck::Required => Ok(()),
            RuleCheck::Pattern(re) => {
                let text = text(v);
                if re.is_match(&text) {
                    Ok(())
                } else {
                    Err(format!(
                        "{name}: `{text}` does not match the pattern `{}`",
                        re.as_str()
                    ))
                }
            }
            RuleCheck::Range(min, max) => {
                let below = min.is_some_and(|b| self.cmp_bound(v, b) == Some(Ordering::Less));
                let above = max.is_some_and(|b| self.cmp_bound(v, b) == Some(Ordering::Greater));
                if below || above {
                    let show = |b: &Option<Bound>| {
                        b.map(|b| self.show_bound(b)).unwrap_or_else(|| "…".into())
                    };
                    Err(format!(
                        "{name}: {v} is outside the allowed range {} to {}",
                        show(min),
                        show(max)
                    ))
                } else {
                    Ok(())
                }
            }
            RuleCheck::Enum(set) => {
                let text = text(v);
                let found = match allowed {
                    Some(a) => a.contains(text.as_ref()),
                    None => set.contains(text.as_ref()),
                };
                if found {
                    Ok(())
                } else {
                    let mut allowed: Vec<&String> = set.iter().collect();
                    allowed.sort();
                    let list = allowed
                        .iter()
                        .take(12)
                        .map(|s| format!("`{s}`"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    Err(format!(
                        "{name}: `{text}` is not one of the allowed values {list}{}",
                        if set.len() > 12 { ", …" } else { "" }
                    ))
                }
            }
            RuleCheck::Length(min, max) => {
                let n = text(v).chars().count();
                if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) {
                    let show =
                        |b: &Option<usize>| b.map(|b| b.to_string()).unwrap_or_else(|| "…".into());
                    Err(format!(
                        "{name}: length {n} is outside {} to {} characters",
                        show(min),
                        show(max)
                    ))
                } else {
                    Ok(())
                }
            }
            RuleCheck::CheckDigit(scheme) => check_digit(name, *scheme, &text(v)),
            RuleCheck::IdConsistency { birth_date, gender } => {
                let idv = text(v);
                let mut problems = Vec::new();
                if let (Some(bi), Some(from_id)) = (birth_date, id::resident::birth_date(&idv))
                    && let Some(d) = values[*bi].as_date()
                    && d != from_id
                {
                    problems.push(format!(
                        "the ID says born {from_id} but {} is {d}",
                        p.schema.fields[*bi].name
                    ));
                }
                if let (Some(gi), Some(from_id)) = (gender, id::resident::gender(&idv))
                    && let Some(g) = values[*gi].as_str()
                    && g != from_id
                {
                    problems.push(format!(
                        "the ID says {from_id} but {} is {g}",
                        p.schema.fields[*gi].name
                    ));
                }
                if problems.is_empty() {
                    Ok(())
                } else {
                    Err(format!("{name}: {}", problems.join("; ")))
                }
            }
            RuleCheck::Compare { op, other } => {
                let o = &values[*other];
                if o.is_null() {
                    return Ok(());
                }
                let ord = compare(v, o);
                let ok = match (op, ord) {
                    (_, None) => true,
                    (CompareOp::Lt, Some(x)) => x == Ordering::Less,
                    (CompareOp::Le, Some(x)) => x != Ordering::Greater,
                    (CompareOp::Eq, Some(x)) => x == Ordering::Equal,
                    (CompareOp::Ne, Some(x)) => x != Ordering::Equal,
                    (CompareOp::Ge, Some(x)) => x != Ordering::Less,
                    (CompareOp::Gt, Some(x)) => x == Ordering::Greater,
                };
                let oname = &p.schema.fields[*other].name;
                if ok {
                    Ok(())
                } else {
                    Err(format!(
                        "{name} ({v}) should be {} {oname} ({o})",
                        op.as_str()
                    ))
                }
            }
        }
    }

    fn cmp_bound(&self, v: &Value, b: Bound) -> Option<Ordering> {
        match b {
            Bound::Number(n) => v.as_f64()?.partial_cmp(&n),
            Bound::Date(d) => Some(v.as_date()?.cmp(&d)),
            Bound::Today => Some(v.as_date()?.cmp(&self.today)),
        }
    }

    fn show_bound(&self, b: Bound) -> String {
        match b {
            Bound::Number(n) => format!("{n}"),
            Bound::Date(d) => d.to_string(),
            Bound::Today => format!("today ({})", self.today),
        }
    }
}

fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        (Value::DateTime(x), Value::DateTime(y)) => Some(x.cmp(y)),
        _ => match (a.as_date(), b.as_date()) {
            (Some(x), Some(y)) => Some(x.cmp(&y)),
            _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
        },
    }
}

fn check_digit(name: &str, scheme: crate::config::CheckScheme, v: &str) -> Result<(), String> {
    use crate::config::CheckScheme::*;
    let ok = match scheme {
        ResidentId => id::resident::is_valid(v),
        Uscc => id::uscc::is_valid(v),
        OrgCode => id::org_code::is_valid(v),
    };
    if ok {
        return Ok(());
    }
    let (expected, what) = match scheme {
        ResidentId => (
            v.get(..17).and_then(id::resident::check_char),
            "resident ID",
        ),
        Uscc => (
            v.get(..17).and_then(id::uscc::check_char),
            "unified social credit code",
        ),
        OrgCode => (
            v.get(..8).and_then(id::org_code::check_char),
            "organization code",
        ),
    };
    let found = v.chars().last().unwrap_or(' ');
    match expected {
        Some(e) if e != found => Err(format!(
            "{name}: {what} check character is `{found}`, expected `{e}` (a mistyped character?)"
        )),
        _ if scheme == ResidentId => Err(format!(
            "{name}: not a valid resident ID (the birth date part is not a real date)"
        )),
        _ => Err(format!("{name}: not a valid {what}")),
    }
}

fn describe(n: Normalizer) -> &'static str {
    match n {
        Normalizer::ResidentId => "a resident ID",
        Normalizer::Uscc => "a unified social credit code",
        Normalizer::OrgCode => "an organization code",
        Normalizer::PersonName => "a person name",
        Normalizer::CompanyName | Normalizer::CompanyKey => "a company name",
        Normalizer::Phone => "a phone number",
        Normalizer::Date => "a date",
        Normalizer::Datetime => "a date and time",
        Normalizer::Month => "a month",
        Normalizer::Address => "an address",
        Normalizer::Amount => "an amount of money",
        Normalizer::Area => "a floor area",
        Normalizer::Integer => "a whole number",
        Normalizer::Decimal | Normalizer::Float => "a number",
        Normalizer::Boolean => "yes/no",
        Normalizer::Gender => "a gender",
        Normalizer::Plate => "a plate number",
        Normalizer::RegionCode => "a region code",
        Normalizer::Raw | Normalizer::Text | Normalizer::Upper => "text",
    }
}

/// Writes the record key of `values` (its parts joined by `|`) into the
/// reused buffer `key`; false, with `key` cleared, when the pipeline has no
/// key or a part is empty.
fn write_key(parts: &[usize], values: &[Value], key: &mut String) -> bool {
    key.clear();
    if parts.is_empty() || parts.iter().any(|i| values[*i].is_null()) {
        return false;
    }
    for (n, i) in parts.iter().enumerate() {
        if n > 0 {
            key.push('|');
        }
        match &values[*i] {
            Value::Str(s) => key.push_str(s),
            other => {
                use std::fmt::Write;
                let _ = write!(key, "{other}");
            }
        }
    }
    true
}
