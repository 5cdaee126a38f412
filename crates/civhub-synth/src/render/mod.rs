//! Rendering canonical records into an export's cells: the inverse of a
//! pipeline's mapping, with the noise real exports carry.
//!
//! Every column is written as what its normalizer will read back: a code
//! from its code table, a date in the file's format, an amount in the
//! column's unit. Noise comes in three kinds, kept apart on purpose:
//!
//! * **layout** noise (full-width digits, a 15-digit ID, a date format, a
//!   unit) normalizes to the same value; each variant is checked against the
//!   normalizer itself before it is written, and a column that rejects a
//!   variant never gets it again;
//! * **value** noise (a homophone, a mistyped ID digit, a company-name
//!   variant) stages a different value that matching has to see through;
//! * **bad** values (an Excel-mangled ID, a garbage date) send the row to
//!   quarantine, and are drawn from a per-pipeline budget well inside the
//!   pipeline's `max-bad-ratio` and `max-bad-rows`.

pub mod format;
pub mod noise;

use crate::records::{Forced, Record};
use crate::rng::{Rand, chance, pick};
use crate::world::IdForm;
use civhub_core::{FieldType, Normalizer, NormalizerOptions, Value};
use civhub_ingest::config::{CheckScheme, ColumnSource, OnError, Pipeline, RuleCheck, Severity};
use rand::Rng;
use std::collections::{BTreeMap, HashMap, HashSet};

/// One cell of an export.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Nothing.
    Empty,
    /// Text.
    Text(String),
    /// A number (xlsx numeric cell, JSON number).
    Number(f64),
    /// An Excel date cell (serial number with a date format).
    Date(f64),
    /// An Excel date-time cell.
    DateTime(f64),
    /// A JSON boolean.
    Bool(bool),
}

impl Cell {
    /// The cell as text (CSV, Parquet, and for checks).
    pub fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.clone(),
            Cell::Number(n) | Cell::Date(n) | Cell::DateTime(n) => {
                if n.fract() == 0.0 && n.abs() < 1e15 {
                    format!("{}", *n as i64)
                } else {
                    format!("{n}")
                }
            }
            Cell::Bool(b) => b.to_string(),
        }
    }
}

/// Noise kinds, as bits; their names appear in the truth files and the summary.
pub const NOISE: [&str; 26] = [
    "id15",
    "id17",
    "id_typo",
    "id_excel",
    "id_fullwidth",
    "id_spaces",
    "id_apostrophe",
    "id_lower_x",
    "name_traditional",
    "name_homophone",
    "name_spaces",
    "name_dot",
    "name_nodot",
    "company_variant",
    "phone_format",
    "date_format",
    "excel_date",
    "amount_format",
    "area_unit",
    "plate_format",
    "address_format",
    "uscc_format",
    "bad_row",
    "duplicate_row",
    "id_garbage",
    "id_missing",
];

fn bit(tag: &str) -> u32 {
    NOISE
        .iter()
        .position(|t| *t == tag)
        .map(|i| 1u32 << i)
        .unwrap_or(0)
}

/// How one pipeline column is rendered.
#[derive(Debug, Clone)]
pub struct ColPlan {
    /// Index into the pipeline's columns.
    pub col: usize,
    /// Schema field.
    pub field: usize,
    /// Column name and alternatives.
    pub names: Vec<String>,
    /// Normalizer.
    pub norm: Normalizer,
    /// Normalizer options.
    pub opts: NormalizerOptions,
    /// Canonical value → raw codes that map to it.
    pub rev_map: Option<BTreeMap<String, Vec<String>>>,
    /// Raw codes that map to nothing (an empty canonical value).
    pub empty_codes: Vec<String>,
    /// A mistyped check digit is staged with a warning, not quarantined.
    pub typo_ok: bool,
    /// A value the normalizer rejects sends the row to quarantine.
    pub strict: bool,
    /// The field's type.
    pub ftype: FieldType,
    /// The field is required (an empty value is quarantined).
    pub required: bool,
}

/// Choices fixed for one file.
#[derive(Debug, Clone)]
pub struct Style {
    /// Index into [`format::DATE_FORMATS`].
    pub date_fmt: usize,
    /// Index into [`format::DATETIME_FORMATS`].
    pub dt_fmt: usize,
    /// xlsx: 0 dates as text, 1 as date cells, 2 as bare serial numbers.
    pub xlsx_dates: u8,
    /// Boolean words: 0 是/否, 1 1/0, 2 Y/N, 3 true/false.
    pub bool_style: usize,
    /// Gender as GB/T 2261.1 codes (1/2).
    pub gender_codes: bool,
    /// Amounts: 0 plain, 1 with unit, 2 thousands separators, 3 short.
    pub amount_style: u8,
    /// Every X of IDs in lower case.
    pub lower_x: bool,
    /// Numbers as numeric cells (xlsx, JSON).
    pub numeric: bool,
    /// Chooses among equivalent codes of a code table.
    pub map_seed: u64,
    /// The file is GBK: variants must be encodable.
    pub gbk: bool,
    /// Cells can be typed (xlsx or JSON).
    pub typed: bool,
    /// xlsx (Excel damage and date cells possible).
    pub xlsx: bool,
}

/// The quarantine budget of a pipeline.
#[derive(Debug, Clone, Copy, Default)]
pub struct Budget {
    /// Rows that may still be sent to quarantine.
    pub left: usize,
}

impl Budget {
    /// Takes one row from the budget.
    pub fn take(&mut self) -> bool {
        if self.left > 0 {
            self.left -= 1;
            true
        } else {
            false
        }
    }
}

/// Renders the records of one pipeline.
pub struct Renderer<'a> {
    /// The pipeline.
    pub p: &'a Pipeline,
    /// Columns written from the export (constants excluded).
    pub cols: Vec<ColPlan>,
    /// Share of IDs of people born before 1999 written in the old 15-digit form.
    pub id15_rate: f64,
    /// Verify every variant (tests), instead of the first ones per column and kind.
    pub verify_all: bool,
    verified: HashMap<(usize, u8), u32>,
    disabled: HashSet<(usize, u8)>,
    /// Count of each noise kind written.
    pub counts: [u64; NOISE.len()],
    /// Variants the normalizer rejected (fell back to the clean value).
    pub rejected: u64,
}

/// Variant kinds for verification memos.
mod kind {
    pub const ID15: u8 = 1;
    pub const ID17: u8 = 2;
    pub const ID_LAYOUT: u8 = 3;
    pub const LOWER_X: u8 = 4;
    pub const TRAD: u8 = 5;
    pub const SPACES: u8 = 6;
    pub const DOT: u8 = 7;
    pub const NODOT: u8 = 8;
    pub const HOMOPHONE: u8 = 9;
    pub const COMPANY: u8 = 10;
    pub const PHONE: u8 = 11;
    pub const DATE: u8 = 20;
    pub const DATETIME: u8 = 30;
    pub const AMOUNT: u8 = 40;
    pub const AREA: u8 = 50;
    pub const BOOL: u8 = 60;
    pub const GENDER: u8 = 61;
    pub const PLATE: u8 = 62;
    pub const ADDRESS: u8 = 63;
    pub const USCC: u8 = 64;
    pub const UPPER: u8 = 65;
    pub const SERIAL: u8 = 66;
    pub const ORG: u8 = 67;
}

const BOOLS: [(&str, &str); 4] = [("是", "否"), ("1", "0"), ("Y", "N"), ("true", "false")];

impl<'a> Renderer<'a> {
    /// Plans the columns of `p`.
    pub fn new(p: &'a Pipeline, seed: u64) -> Self {
        let mut cols = Vec::new();
        for (ci, c) in p.columns.iter().enumerate() {
            let ColumnSource::Columns(names) = &c.source else {
                continue;
            };
            let field = &p.schema.fields[c.field];
            let (rev_map, empty_codes) = match &c.map {
                Some(m) => {
                    let mut rev: BTreeMap<String, Vec<String>> = BTreeMap::new();
                    let mut empty = Vec::new();
                    let mut keys: Vec<(&String, &String)> = m.iter().collect();
                    keys.sort();
                    for (k, v) in keys {
                        if v.is_empty() {
                            empty.push(k.clone());
                        } else {
                            rev.entry(v.clone()).or_default().push(k.clone());
                        }
                    }
                    (Some(rev), empty)
                }
                None => (None, Vec::new()),
            };
            let strict_rule = p.rules.iter().any(|r| {
                r.field == c.field
                    && r.severity == Severity::Error
                    && matches!(
                        r.check,
                        RuleCheck::CheckDigit(_)
                            | RuleCheck::IdConsistency { .. }
                            | RuleCheck::Pattern(_)
                    )
            });
            cols.push(ColPlan {
                col: ci,
                field: c.field,
                names: names.clone(),
                norm: c.normalizer,
                opts: c.options.clone(),
                rev_map,
                empty_codes,
                typo_ok: !strict_rule,
                strict: c.on_error == OnError::Quarantine,
                ftype: field.field_type,
                required: field.required
                    || p.rules.iter().any(|r| {
                        r.field == c.field
                            && r.severity == Severity::Error
                            && matches!(r.check, RuleCheck::Required)
                    }),
            });
        }
        let id15_rate = if crate::rng::unit(seed, "id15") < 0.3 {
            0.12
        } else {
            0.0
        };
        Renderer {
            p,
            cols,
            id15_rate,
            verify_all: false,
            verified: HashMap::new(),
            disabled: HashSet::new(),
            counts: [0; NOISE.len()],
            rejected: 0,
        }
    }

    fn count(&mut self, tags: u32) {
        for (i, c) in self.counts.iter_mut().enumerate() {
            if tags & (1 << i) != 0 {
                *c += 1;
            }
        }
    }

    /// True if `noisy` reads back as `clean` through column `ci`'s
    /// normalizer (or, for value noise, reads back at all).
    fn verify(
        &mut self,
        ci: usize,
        k: u8,
        noisy: &str,
        clean: &str,
        same_value: bool,
        gbk: bool,
    ) -> bool {
        if self.disabled.contains(&(ci, k)) {
            return false;
        }
        if gbk && encoding_rs::GBK.encode(noisy).2 {
            return false;
        }
        let n = self.verified.entry((ci, k)).or_insert(0);
        if *n >= 40 && !self.verify_all {
            return true;
        }
        let cp = &self.cols[ci];
        let a = cp.norm.apply(noisy, &cp.opts);
        let ok = match (a, same_value) {
            (Ok(a), true) => cp
                .norm
                .apply(clean, &cp.opts)
                .is_ok_and(|b| a.value == b.value),
            (Ok(a), false) => !a.value.is_null(),
            (Err(_), _) => false,
        };
        if ok {
            *self.verified.get_mut(&(ci, k)).expect("entry") += 1;
        } else {
            self.disabled.insert((ci, k));
            self.rejected += 1;
        }
        ok
    }

    /// The canonical text of a value for column `ci`, without noise.
    pub fn clean_text(&self, ci: usize, v: &Value, style: &Style) -> String {
        let cp = &self.cols[ci];
        match v {
            Value::Null => String::new(),
            Value::Str(s) => s.clone(),
            Value::Int(i) => i.to_string(),
            Value::Dec(c) => match cp.norm {
                Normalizer::Amount if cp.opts.unit.as_deref() == Some("万元") => format::wan(*c),
                Normalizer::Area | Normalizer::Float => format::hundredths_short(*c),
                Normalizer::Integer => (c / 100).to_string(),
                _ => format::hundredths(*c),
            },
            Value::Float(f) => format::float(*f),
            Value::Date(d) => format::date(*d, 0),
            Value::DateTime(d) => format::datetime(*d, 0),
            Value::Bool(b) => {
                let (t, f) = BOOLS[style.bool_style.min(3)];
                let _ = f;
                if *b {
                    t.to_string()
                } else {
                    BOOLS[style.bool_style.min(3)].1.to_string()
                }
            }
        }
    }

    /// Renders one field of a record as a cell; `tags` collects the noise applied.
    pub fn cell(
        &mut self,
        ci: usize,
        rec: &Record,
        style: &Style,
        rng: &mut Rand,
        budget: &mut Budget,
        tags: &mut u32,
    ) -> Cell {
        let field = self.cols[ci].field;
        let v = &rec.values[field];
        match &rec.forced[field] {
            Forced::Clean => return self.plain(ci, v, style),
            Forced::Id(form) => {
                let id = v.as_str().unwrap_or("");
                return match form {
                    IdForm::Clean => Cell::Text(id.to_string()),
                    IdForm::Fifteen if id.len() == 18 && &id[6..8] == "19" => {
                        *tags |= bit("id15");
                        Cell::Text(format!("{}{}", &id[..6], &id[8..17]))
                    }
                    IdForm::Fifteen => Cell::Text(id.to_string()),
                    IdForm::Typo(s) => {
                        *tags |= bit("id_typo");
                        Cell::Text(s.clone())
                    }
                    IdForm::Missing => {
                        *tags |= bit("id_missing");
                        Cell::Empty
                    }
                    IdForm::Garbage(s) => {
                        *tags |= bit("id_garbage");
                        Cell::Text(s.clone())
                    }
                };
            }
            Forced::Name(n) => {
                let simplified = civhub_core::normalize::name::to_simplified(n);
                *tags |= if v.as_str() == Some(simplified.as_str()) {
                    bit("name_traditional")
                } else {
                    bit("name_homophone")
                };
                return Cell::Text(n.clone());
            }
            Forced::Free => {}
        }
        if v.is_null() {
            let cp = &self.cols[ci];
            if !cp.empty_codes.is_empty() && chance(rng, 0.5) {
                return Cell::Text(
                    cp.empty_codes[(style.map_seed as usize) % cp.empty_codes.len()].clone(),
                );
            }
            return Cell::Empty;
        }
        if let Some(rev) = &self.cols[ci].rev_map {
            let key = self.clean_text(ci, v, style);
            return match rev.get(&key) {
                Some(codes) => {
                    let i = if chance(rng, 0.15) {
                        rng.random_range(0..codes.len())
                    } else {
                        (style.map_seed as usize) % codes.len()
                    };
                    Cell::Text(codes[i].clone())
                }
                None => Cell::Text(key),
            };
        }
        let protected = rec.protected;
        let norm = self.cols[ci].norm;
        match norm {
            Normalizer::ResidentId => self.id_cell(
                ci,
                v.as_str().unwrap_or(""),
                style,
                rng,
                budget,
                tags,
                protected,
            ),
            Normalizer::PersonName => {
                self.name_cell(ci, v.as_str().unwrap_or(""), style, rng, tags, protected)
            }
            Normalizer::CompanyName | Normalizer::CompanyKey => {
                let clean = v.as_str().unwrap_or("").to_string();
                if chance(rng, 0.12)
                    && let Some(var) = noise::company_variant(&clean, rng)
                {
                    let same = norm == Normalizer::CompanyKey
                        || var.replace(['(', ')'], "") == clean.replace(['（', '）'], "");
                    if (!protected || same)
                        && self.verify(
                            ci,
                            kind::COMPANY + u8::from(same),
                            &var,
                            &clean,
                            same,
                            style.gbk,
                        )
                    {
                        *tags |= bit("company_variant");
                        return Cell::Text(var);
                    }
                }
                Cell::Text(clean)
            }
            Normalizer::Phone => self.variant(
                ci,
                kind::PHONE,
                v,
                style,
                rng,
                tags,
                0.12,
                "phone_format",
                noise::phone_variant,
            ),
            Normalizer::Plate => self.variant(
                ci,
                kind::PLATE,
                v,
                style,
                rng,
                tags,
                0.05,
                "plate_format",
                noise::plate_variant,
            ),
            Normalizer::Address => self.variant(
                ci,
                kind::ADDRESS,
                v,
                style,
                rng,
                tags,
                0.1,
                "address_format",
                noise::address_variant,
            ),
            Normalizer::Uscc => self.variant(
                ci,
                kind::USCC,
                v,
                style,
                rng,
                tags,
                0.02,
                "uscc_format",
                noise::uscc_variant,
            ),
            Normalizer::OrgCode => self.variant(
                ci,
                kind::ORG,
                v,
                style,
                rng,
                tags,
                0.3,
                "uscc_format",
                |s, _| {
                    if s.len() == 9 {
                        format!("{}-{}", &s[..8], &s[8..])
                    } else {
                        s.to_string()
                    }
                },
            ),
            Normalizer::Upper => {
                self.variant(ci, kind::UPPER, v, style, rng, tags, 0.03, "", |s, _| {
                    s.to_lowercase()
                })
            }
            Normalizer::Date | Normalizer::Datetime
                if matches!(v, Value::Date(_) | Value::DateTime(_)) =>
            {
                self.date_cell(ci, v, style, rng, tags)
            }
            Normalizer::Amount | Normalizer::Decimal if matches!(v, Value::Dec(_)) => {
                self.amount_cell(ci, v, style, rng, tags)
            }
            Normalizer::Area if matches!(v, Value::Dec(_)) => {
                self.area_cell(ci, v, style, rng, tags)
            }
            Normalizer::Integer | Normalizer::Float | Normalizer::Decimal
                if style.numeric && style.typed =>
            {
                match v {
                    Value::Int(i) => Cell::Number(*i as f64),
                    Value::Float(f) => Cell::Number((*f * 100.0).round() / 100.0),
                    Value::Dec(c) => Cell::Number(*c as f64 / 100.0),
                    _ => self.plain(ci, v, style),
                }
            }
            Normalizer::Boolean => {
                let clean = self.clean_text(
                    ci,
                    v,
                    &Style {
                        bool_style: 0,
                        ..style.clone()
                    },
                );
                let styled = self.clean_text(ci, v, style);
                if style.typed
                    && style.bool_style == 3
                    && !style.xlsx
                    && let Value::Bool(b) = v
                {
                    return Cell::Bool(*b);
                }
                if styled != clean
                    && self.verify(
                        ci,
                        kind::BOOL + style.bool_style as u8,
                        &styled,
                        &clean,
                        true,
                        style.gbk,
                    )
                {
                    return Cell::Text(styled);
                }
                Cell::Text(clean)
            }
            Normalizer::Gender => {
                let clean = v.as_str().unwrap_or("").to_string();
                if style.gender_codes {
                    let code = if clean == "男" { "1" } else { "2" };
                    if self.verify(ci, kind::GENDER, code, &clean, true, style.gbk) {
                        return Cell::Text(code.to_string());
                    }
                }
                Cell::Text(clean)
            }
            _ => self.plain(ci, v, style),
        }
    }

    fn plain(&self, ci: usize, v: &Value, style: &Style) -> Cell {
        if v.is_null() {
            return Cell::Empty;
        }
        Cell::Text(self.clean_text(ci, v, style))
    }

    #[allow(clippy::too_many_arguments)]
    fn variant(
        &mut self,
        ci: usize,
        k: u8,
        v: &Value,
        style: &Style,
        rng: &mut Rand,
        tags: &mut u32,
        p: f64,
        tag: &str,
        f: impl Fn(&str, &mut Rand) -> String,
    ) -> Cell {
        let clean = self.clean_text(ci, v, style);
        if chance(rng, p) {
            let var = f(&clean, rng);
            if var != clean && self.verify(ci, k, &var, &clean, true, style.gbk) {
                *tags |= bit(tag);
                return Cell::Text(var);
            }
        }
        Cell::Text(clean)
    }

    #[allow(clippy::too_many_arguments)]
    fn id_cell(
        &mut self,
        ci: usize,
        id: &str,
        style: &Style,
        rng: &mut Rand,
        budget: &mut Budget,
        tags: &mut u32,
        protected: bool,
    ) -> Cell {
        let id = id.to_string();
        if id.len() != 18 {
            return Cell::Text(id);
        }
        let typo_ok = self.cols[ci].typo_ok;
        if !protected && typo_ok && chance(rng, 0.004) {
            let t = crate::world::dibao::typo_id(&id, rng);
            if self.verify(ci, 100, &t, &id, false, style.gbk) {
                *tags |= bit("id_typo");
                return Cell::Text(t);
            }
        }
        // Excel damage quarantines the row where the column is strict or required,
        // and only then costs budget; elsewhere the field is staged empty.
        let costly = self.cols[ci].strict || self.cols[ci].required;
        if !protected && chance(rng, 0.0015) && (!costly || budget.take()) {
            *tags |= bit("id_excel");
            return if style.xlsx {
                Cell::Number(id[..15].parse::<f64>().unwrap_or(0.0) * 1000.0)
            } else {
                Cell::Text(noise::excel_mangle(&id))
            };
        }
        let born_19 = &id[6..8] == "19";
        if born_19 && chance(rng, self.id15_rate) {
            let v = format!("{}{}", &id[..6], &id[8..17]);
            if self.verify(ci, kind::ID15, &v, &id, true, style.gbk) {
                *tags |= bit("id15");
                return Cell::Text(v);
            }
        }
        if chance(rng, 0.006) {
            let v = id[..17].to_string();
            if self.verify(ci, kind::ID17, &v, &id, true, style.gbk) {
                *tags |= bit("id17");
                return Cell::Text(v);
            }
        }
        if chance(rng, 0.025) {
            let (v, tag) = noise::id_layout(&id, rng);
            if self.verify(ci, kind::ID_LAYOUT, &v, &id, true, style.gbk) {
                *tags |= bit(tag);
                return Cell::Text(v);
            }
        }
        if style.lower_x && id.ends_with('X') {
            let v = id.replace('X', "x");
            if self.verify(ci, kind::LOWER_X, &v, &id, true, style.gbk) {
                *tags |= bit("id_lower_x");
                return Cell::Text(v);
            }
        }
        Cell::Text(id)
    }

    #[allow(clippy::too_many_arguments)]
    fn name_cell(
        &mut self,
        ci: usize,
        name: &str,
        style: &Style,
        rng: &mut Rand,
        tags: &mut u32,
        protected: bool,
    ) -> Cell {
        let name = name.to_string();
        let x: f64 = rng.random();
        if !protected && x < 0.004 {
            if let Some(h) = crate::vocab::names::homophone_variant(&name, rng)
                && self.verify(ci, kind::HOMOPHONE, &h, &name, false, style.gbk)
            {
                *tags |= bit("name_homophone");
                return Cell::Text(h);
            }
        } else if x < 0.016 {
            if let Some(t) = crate::vocab::names::traditional_variant(&name)
                && self.verify(ci, kind::TRAD, &t, &name, true, style.gbk)
            {
                *tags |= bit("name_traditional");
                return Cell::Text(t);
            }
        } else if x < 0.026 && !name.contains('\u{00B7}') {
            let s = noise::spaced_name(&name);
            if self.verify(ci, kind::SPACES, &s, &name, true, style.gbk) {
                *tags |= bit("name_spaces");
                return Cell::Text(s);
            }
        }
        if name.contains('\u{00B7}') {
            let y: f64 = rng.random();
            if y < 0.35 {
                let d = noise::dot_variant(&name, rng);
                if self.verify(ci, kind::DOT, &d, &name, true, style.gbk) {
                    *tags |= bit("name_dot");
                    return Cell::Text(d);
                }
            } else if y < 0.4 && !protected {
                let d = name.replace('\u{00B7}', "");
                if self.verify(ci, kind::NODOT, &d, &name, false, style.gbk) {
                    *tags |= bit("name_nodot");
                    return Cell::Text(d);
                }
            }
        }
        Cell::Text(name)
    }

    fn date_cell(
        &mut self,
        ci: usize,
        v: &Value,
        style: &Style,
        rng: &mut Rand,
        tags: &mut u32,
    ) -> Cell {
        if style.xlsx && style.xlsx_dates > 0 && !chance(rng, 0.03) {
            *tags |= bit("excel_date");
            return match (v, style.xlsx_dates) {
                (Value::Date(d), 1) => Cell::Date(format::excel_serial(*d)),
                (Value::DateTime(d), 1) => Cell::DateTime(format::excel_serial_dt(*d)),
                (Value::Date(d), _) => Cell::Number(format::excel_serial(*d)),
                (Value::DateTime(d), _) => Cell::Number(format::excel_serial_dt(*d)),
                _ => Cell::Empty,
            };
        }
        let clean = self.clean_text(ci, v, style);
        let mixed = chance(rng, 0.08);
        let (text, k) = match v {
            Value::Date(d) => {
                let i = if mixed {
                    rng.random_range(0..format::DATE_FORMATS.len())
                } else {
                    style.date_fmt
                };
                if !style.xlsx && chance(rng, 0.003) {
                    (format::excel_serial(*d).to_string(), kind::SERIAL)
                } else {
                    (format::date(*d, i), kind::DATE + i as u8)
                }
            }
            Value::DateTime(d) => {
                let i = if mixed {
                    rng.random_range(0..format::DATETIME_FORMATS.len())
                } else {
                    style.dt_fmt
                };
                (format::datetime(*d, i), kind::DATETIME + i as u8)
            }
            _ => return Cell::Text(clean),
        };
        if text != clean && self.verify(ci, k, &text, &clean, true, style.gbk) {
            *tags |= bit("date_format");
            return Cell::Text(text);
        }
        Cell::Text(clean)
    }

    fn amount_cell(
        &mut self,
        ci: usize,
        v: &Value,
        style: &Style,
        rng: &mut Rand,
        tags: &mut u32,
    ) -> Cell {
        let Value::Dec(c) = v else {
            return self.plain(ci, v, style);
        };
        let wan = self.cols[ci].opts.unit.as_deref() == Some("万元");
        let is_amount = self.cols[ci].norm == Normalizer::Amount;
        if style.typed && style.numeric {
            let n = if wan {
                *c as f64 / 1_000_000.0
            } else {
                *c as f64 / 100.0
            };
            return Cell::Number(n);
        }
        let clean = self.clean_text(ci, v, style);
        let s = if chance(rng, 0.05) {
            rng.random_range(0..4)
        } else {
            style.amount_style
        };
        let var = match s {
            1 if is_amount => {
                if wan {
                    if chance(rng, 0.5) {
                        format!("{}万元", format::wan(*c))
                    } else {
                        format!("{}元", format::hundredths(*c))
                    }
                } else if chance(rng, 0.8) {
                    format!("{}元", format::hundredths(*c))
                } else {
                    format!("{}万元", format::wan(*c))
                }
            }
            2 if !wan => format::thousands(*c),
            3 if !wan => format::hundredths_short(*c),
            _ => clean.clone(),
        };
        if var != clean && self.verify(ci, kind::AMOUNT + s, &var, &clean, true, style.gbk) {
            *tags |= bit("amount_format");
            return Cell::Text(var);
        }
        Cell::Text(clean)
    }

    fn area_cell(
        &mut self,
        ci: usize,
        v: &Value,
        style: &Style,
        rng: &mut Rand,
        tags: &mut u32,
    ) -> Cell {
        let Value::Dec(c) = v else {
            return self.plain(ci, v, style);
        };
        if style.typed && style.numeric {
            return Cell::Number(*c as f64 / 100.0);
        }
        let clean = self.clean_text(ci, v, style);
        let u = (style.map_seed % 5) as usize;
        let u = if chance(rng, 0.1) {
            rng.random_range(0..5)
        } else {
            u
        };
        let var = match u {
            1 => format!("{clean}㎡"),
            2 => format!("{clean}平方米"),
            3 => format!("{clean}平米"),
            4 => format!("{}m2", format::hundredths(*c)),
            _ => clean.clone(),
        };
        if var != clean && self.verify(ci, kind::AREA + u as u8, &var, &clean, true, style.gbk) {
            *tags |= bit("area_unit");
            return Cell::Text(var);
        }
        Cell::Text(clean)
    }

    /// Counts the noise written in a row.
    pub fn record_tags(&mut self, tags: u32) {
        self.count(tags);
    }

    /// A value that sends the row to quarantine through column `ci`
    /// (`None` if the column cannot make one).
    pub fn bad_value(&self, ci: usize, rng: &mut Rand) -> Option<Cell> {
        let cp = &self.cols[ci];
        if cp.rev_map.is_some() {
            return None;
        }
        if cp.required {
            return Some(Cell::Empty);
        }
        if !cp.strict {
            return None;
        }
        match cp.norm {
            Normalizer::ResidentId => Some(Cell::Text(
                pick(rng, &["身份证遗失", "3410021", "无", "待补录"]).to_string(),
            )),
            Normalizer::Date | Normalizer::Datetime => Some(Cell::Text(
                pick(rng, &["2026-02-30", "不详", "0000-00-00", "2026-13-01"]).to_string(),
            )),
            Normalizer::Integer | Normalizer::Decimal | Normalizer::Amount | Normalizer::Area => {
                Some(Cell::Text(pick(rng, &["约100", "不详", "N/A"]).to_string()))
            }
            Normalizer::Uscc => Some(Cell::Text("暂无".into())),
            _ => None,
        }
    }
}

/// A check scheme is an error-severity rule on a field (used to decide what
/// noise a planted case can carry).
pub fn has_error_check(p: &Pipeline, field: usize) -> bool {
    p.rules.iter().any(|r| {
        r.field == field
            && r.severity == Severity::Error
            && matches!(
                r.check,
                RuleCheck::CheckDigit(CheckScheme::ResidentId)
                    | RuleCheck::IdConsistency { .. }
                    | RuleCheck::Pattern(_)
            )
    })
}
