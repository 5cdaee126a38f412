//! Which files an export consists of, what they are called, and how each
//! file looks: its header names, sheets, title and footer rows, encoding and
//! the formatting habits of the program that wrote it.
//!
//! File names come from the pipeline's own `source.path` glob with each
//! wildcard replaced by something realistic (a month, a district name) and
//! are checked against the glob, so ingest always finds them.

use crate::records::Record;
use crate::render::{Renderer, Style};
use crate::rng::{Rand, chance, pick, stream, unit};
use crate::vocab::places::DISTRICTS;
use civhub_ingest::config::{ColumnSource, Encoding, Format, Pipeline, Sheets};
use rand::Rng;
use std::collections::BTreeMap;

/// Text encodings written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enc {
    /// UTF-8.
    Utf8,
    /// UTF-8 with a byte-order mark.
    Utf8Bom,
    /// GBK.
    Gbk,
    /// GB18030.
    Gb18030,
}

impl Enc {
    /// Name for the summary.
    pub fn as_str(self) -> &'static str {
        match self {
            Enc::Utf8 => "utf-8",
            Enc::Utf8Bom => "utf-8-bom",
            Enc::Gbk => "gbk",
            Enc::Gb18030 => "gb18030",
        }
    }
}

/// One written column of a file.
#[derive(Debug, Clone)]
pub enum OutCol {
    /// A running row number (序号) the pipeline does not map.
    Index,
    /// A mostly empty remarks column (备注) the pipeline does not map.
    Remark,
    /// Renderer columns (indices into `Renderer::cols`) sharing this header;
    /// the first with a value is written.
    Fields(Vec<usize>),
}

/// How one file looks.
#[derive(Debug, Clone)]
pub struct FileShape {
    /// Path relative to the exports folder.
    pub rel: String,
    /// File name without extension.
    pub stem: String,
    /// Header names, in order.
    pub headers: Vec<String>,
    /// What each header holds.
    pub cols: Vec<OutCol>,
    /// Formatting habits.
    pub style: Style,
    /// Encoding (text formats).
    pub enc: Enc,
    /// Title rows above the header.
    pub titles: Vec<String>,
    /// Footer rows (csv, xlsx), the first matching `stop-at`.
    pub footer: Vec<Vec<String>>,
    /// Sheets created before any data (a named data sheet, a notes sheet).
    pub fixed_sheets: Vec<String>,
    /// Line ending for text formats.
    pub crlf: bool,
}

/// How records are spread over files.
#[derive(Debug, Clone, PartialEq)]
enum Split {
    Single,
    District,
    Month,
    /// By the raw value of this field (`$file`).
    Value(usize),
}

/// How records are spread over the sheets of a workbook.
#[derive(Debug, Clone, PartialEq)]
pub enum SheetBy {
    /// One sheet of this name.
    Single(String),
    /// By the raw value of this field (`$sheet`), through its code table.
    Value(usize),
    /// One sheet per district.
    District,
    /// These sheets.
    Listed(Vec<String>),
}

/// The files of one pipeline.
pub struct Layout<'a> {
    p: &'a Pipeline,
    seed: u64,
    split: Split,
    /// Sheets of workbooks.
    pub sheet_by: SheetBy,
    pattern: glob::Pattern,
    /// Files by routing key, created on first use.
    pub files: Vec<FileShape>,
    by_key: BTreeMap<String, usize>,
    single_tag: String,
    extension: String,
}

const TAGS: [&str; 6] = [
    "2026年10月",
    "202610",
    "20261031",
    "2026-10",
    "2026年第三季度",
    "全市",
];
const XLSX_ROW_LIMIT: usize = 1_000_000;

/// The raw text a field's canonical value is written as through a code table.
pub fn raw_of(p: &Pipeline, field: usize, canonical: &str) -> String {
    p.columns
        .iter()
        .find(|c| c.field == field)
        .and_then(|c| c.map.as_ref())
        .and_then(|m| {
            let mut keys: Vec<&String> = m
                .iter()
                .filter(|(_, v)| *v == canonical)
                .map(|(k, _)| k)
                .collect();
            keys.sort();
            keys.first().map(|k| k.to_string())
        })
        .unwrap_or_else(|| canonical.to_string())
}

impl<'a> Layout<'a> {
    /// Plans the files of `p` for `rows` records.
    pub fn new(p: &'a Pipeline, seed: u64, rows: usize) -> Result<Self, String> {
        let path = p.def.source.path.get_ref().clone();
        let pattern = glob::Pattern::new(&path)
            .map_err(|e| format!("source.path `{path}` is not a glob: {e}"))?;
        let wild = path.contains(['*', '?', '[']);
        let format = *p.def.source.format.get_ref();
        let file_col = p
            .columns
            .iter()
            .find(|c| c.source == ColumnSource::File)
            .map(|c| c.field);
        let sheet_col = p
            .columns
            .iter()
            .find(|c| c.source == ColumnSource::Sheet)
            .map(|c| c.field);
        let has_month = p.schema.field_index("period").is_some();
        let u = unit(seed, "split");
        let split = if let Some(f) = file_col {
            Split::Value(f)
        } else if !wild {
            Split::Single
        } else if has_month && u < 0.6 {
            Split::Month
        } else if u < 0.35 || format == Format::Xlsx && rows > XLSX_ROW_LIMIT {
            Split::District
        } else {
            Split::Single
        };
        let sheet_by = if format != Format::Xlsx {
            SheetBy::Single(String::new())
        } else {
            match p.def.source.sheets.as_ref().map(|s| s.get_ref().clone()) {
                Some(Sheets::One(s)) if s == "*" => match sheet_col {
                    Some(f) => SheetBy::Value(f),
                    None if unit(seed, "sheets") < 0.6 => SheetBy::District,
                    None => SheetBy::Single(sheet_title(p)),
                },
                Some(Sheets::One(s)) => SheetBy::Single(s),
                Some(Sheets::Many(list)) => SheetBy::Listed(list),
                None => SheetBy::Single(if unit(seed, "sheet1") < 0.5 {
                    "Sheet1".to_string()
                } else {
                    sheet_title(p)
                }),
            }
        };
        let extension = path
            .rsplit_once('.')
            .map(|(_, e)| e.to_string())
            .unwrap_or_default();
        let mut rng = stream(seed, "layout");
        let single_tag = TAGS[rng.random_range(0..TAGS.len())].to_string();
        Ok(Layout {
            p,
            seed,
            split,
            sheet_by,
            pattern,
            files: Vec::new(),
            by_key: BTreeMap::new(),
            single_tag,
            extension,
        })
    }

    /// The file (index into `files`) and sheet a record goes to, creating the file if needed.
    pub fn route(
        &mut self,
        rec: &Record,
        renderer: &Renderer<'_>,
    ) -> Result<(usize, String), String> {
        let key = match &self.split {
            Split::Single => String::new(),
            Split::District => DISTRICTS[rec.district.unwrap_or(0) as usize % 7]
                .name
                .to_string(),
            Split::Month => format!("2026{:02}", rec.month.unwrap_or(10)),
            Split::Value(f) => raw_of(self.p, *f, rec.values[*f].as_str().unwrap_or("2026-10")),
        };
        let file = match self.by_key.get(&key) {
            Some(&i) => i,
            None => {
                let shape = self.shape(&key, renderer)?;
                self.files.push(shape);
                let i = self.files.len() - 1;
                self.by_key.insert(key.clone(), i);
                i
            }
        };
        let sheet = match &self.sheet_by {
            SheetBy::Single(s) => s.clone(),
            SheetBy::Value(f) => {
                let v = rec.values[*f].as_str().unwrap_or("");
                let raw = raw_of(self.p, *f, v);
                if raw.is_empty() {
                    "Sheet1".to_string()
                } else {
                    raw
                }
            }
            SheetBy::District => DISTRICTS[rec.district.unwrap_or(0) as usize % 7]
                .name
                .to_string(),
            SheetBy::Listed(list) => {
                let by_value = self
                    .p
                    .columns
                    .iter()
                    .find(|c| c.source == ColumnSource::Sheet)
                    .map(|c| c.field)
                    .and_then(|f| rec.values[f].as_str().map(|v| raw_of(self.p, f, v)));
                match by_value {
                    Some(raw) if list.contains(&raw) => raw,
                    _ => list[rec.district.unwrap_or(0) as usize % list.len()].clone(),
                }
            }
        };
        Ok((file, sheet))
    }

    fn tag_for(&self, key: &str) -> String {
        match &self.split {
            Split::Single => self.single_tag.clone(),
            Split::Month => key.to_string(),
            _ => key.to_string(),
        }
    }

    /// Substitutes the glob's wildcards; the file-name part gets `tag`.
    fn path_for(&self, tag: &str) -> Option<String> {
        let path = self.p.def.source.path.get_ref();
        let (dir, name) = path
            .rsplit_once('/')
            .map(|(d, n)| (Some(d), n))
            .unwrap_or((None, path.as_str()));
        let whole_stem = name.starts_with('*')
            && name[1..].starts_with('.')
            && !matches!(self.split, Split::Value(_));
        let stem_tag = if whole_stem {
            format!("{}_{tag}", self.p.dataset)
        } else {
            tag.to_string()
        };
        let fill = |s: &str, t: &str| -> String {
            let mut out = String::new();
            let mut chars = s.chars().peekable();
            while let Some(c) = chars.next() {
                match c {
                    '*' => {
                        if chars.peek() == Some(&'*') {
                            chars.next();
                            if chars.peek() == Some(&'/') {
                                chars.next();
                            }
                        } else {
                            out.push_str(t);
                        }
                    }
                    '?' => out.push('1'),
                    '[' => {
                        let mut class = String::new();
                        for c in chars.by_ref() {
                            if c == ']' {
                                break;
                            }
                            class.push(c);
                        }
                        let negated = class.starts_with('!');
                        let body = class.trim_start_matches('!');
                        let first = body.chars().next().unwrap_or('a');
                        out.push(if negated {
                            if first == 'x' { 'y' } else { 'x' }
                        } else {
                            first
                        });
                    }
                    _ => out.push(c),
                }
            }
            out
        };
        let name = fill(name, &stem_tag);
        let rel = match dir {
            Some(d) => format!("{}/{name}", fill(d, "2026")),
            None => name,
        };
        let opts = glob::MatchOptions {
            case_sensitive: true,
            require_literal_separator: true,
            require_literal_leading_dot: false,
        };
        (self.pattern.matches_with(&rel, opts) && self.pattern.matches(&rel)).then_some(rel)
    }

    fn shape(&self, key: &str, renderer: &Renderer<'_>) -> Result<FileShape, String> {
        let p = self.p;
        let tag = self.tag_for(key);
        let rel = [tag.clone(), "1".into(), "data".into(), "2026".into()]
            .iter()
            .find_map(|t| self.path_for(t))
            .ok_or_else(|| {
                format!(
                    "no file name matches source.path `{}`",
                    p.def.source.path.get_ref()
                )
            })?;
        let stem = rel
            .rsplit('/')
            .next()
            .unwrap_or(&rel)
            .trim_end_matches(&format!(".{}", self.extension))
            .to_string();
        let mut rng = stream(self.seed, &format!("file/{key}"));
        let format = *p.def.source.format.get_ref();
        let first_file = self.files.is_empty();
        let (headers, cols) = headers(p, renderer, &mut rng, first_file);
        let enc = match (format, p.def.source.encoding) {
            (Format::Xlsx | Format::Parquet, _) => Enc::Utf8,
            (_, Encoding::Utf8) => Enc::Utf8,
            (_, Encoding::Gbk) => Enc::Gbk,
            (_, Encoding::Gb18030) => Enc::Gb18030,
            (_, Encoding::Auto) => match unit(self.seed, "auto-encoding") {
                x if x < 0.4 => Enc::Utf8Bom,
                x if x < 0.6 => Enc::Utf8,
                _ => Enc::Gbk,
            },
        };
        let typed = matches!(format, Format::Xlsx | Format::Json | Format::Ndjson);
        let style = Style {
            date_fmt: *pick(&mut rng, &[0usize, 0, 0, 1, 2, 3, 4, 5, 6]),
            dt_fmt: *pick(&mut rng, &[0usize, 0, 1, 2, 3, 5]),
            xlsx_dates: *pick(&mut rng, &[0u8, 1, 1, 2]),
            bool_style: *pick(&mut rng, &[0usize, 0, 1, 2, 3]),
            gender_codes: chance(&mut rng, 0.12),
            amount_style: *pick(&mut rng, &[0u8, 0, 0, 1, 2, 3]),
            lower_x: chance(&mut rng, 0.1),
            numeric: chance(&mut rng, 0.7),
            map_seed: rng.random(),
            gbk: matches!(enc, Enc::Gbk),
            typed,
            xlsx: format == Format::Xlsx,
        };
        let header_row = p
            .def
            .source
            .header_row
            .as_ref()
            .map(|h| *h.get_ref())
            .unwrap_or(1)
            .max(1);
        let titles = title_rows(p, header_row - 1);
        let footer = match &p.stop_at {
            Some(re) if matches!(format, Format::Csv | Format::Xlsx) => footer_rows(re, &mut rng),
            _ => Vec::new(),
        };
        // A notes sheet before the data, only where the pipeline names its data sheet.
        let named = matches!(p.def.source.sheets.as_ref().map(|s| s.get_ref()), Some(Sheets::One(s)) if s != "*");
        let fixed_sheets = match &self.sheet_by {
            SheetBy::Single(s) if format == Format::Xlsx && named && chance(&mut rng, 0.3) => {
                vec!["填表说明".to_string(), s.clone()]
            }
            // Every listed sheet exists, even one without rows: ingest reads them by name.
            SheetBy::Listed(list) if format == Format::Xlsx => list.clone(),
            _ => Vec::new(),
        };
        Ok(FileShape {
            rel,
            stem,
            headers,
            cols,
            style,
            enc,
            titles,
            footer,
            fixed_sheets,
            crlf: chance(&mut rng, 0.5),
        })
    }

    /// The extension of the files.
    pub fn extension(&self) -> &str {
        &self.extension
    }
}

fn sheet_title(p: &Pipeline) -> String {
    let t: String = p
        .def
        .catalog
        .title
        .chars()
        .filter(|c| !"[]:*?/\\".contains(*c))
        .take(28)
        .collect();
    if t.is_empty() { "Sheet1".into() } else { t }
}

/// Chooses the header names of a file: one name per column (sometimes an
/// alternative), consistent where columns share names, and never a name
/// that an earlier alternative of another column would pick up instead.
fn headers(
    p: &Pipeline,
    r: &Renderer<'_>,
    rng: &mut Rand,
    first_file: bool,
) -> (Vec<String>, Vec<OutCol>) {
    let mut chosen: Vec<Option<String>> = Vec::with_capacity(r.cols.len());
    let mut by_list: BTreeMap<Vec<String>, String> = BTreeMap::new();
    for cp in &r.cols {
        let optional = p.columns[cp.col].optional;
        if optional && !first_file && chance(rng, 0.3) {
            chosen.push(None);
            continue;
        }
        let name = by_list
            .entry(cp.names.clone())
            .or_insert_with(|| {
                if cp.names.len() > 1 && chance(rng, 0.35) {
                    cp.names[rng.random_range(1..cp.names.len())].clone()
                } else {
                    cp.names[0].clone()
                }
            })
            .clone();
        chosen.push(Some(name));
    }
    // Ingest takes the first alternative present in the file: make that the chosen one.
    loop {
        let present: Vec<String> = chosen.iter().flatten().cloned().collect();
        let mut changed = false;
        for (i, cp) in r.cols.iter().enumerate() {
            if let Some(c) = &chosen[i]
                && let Some(first) = cp.names.iter().find(|n| present.contains(n))
                && first != c
            {
                chosen[i] = Some(first.clone());
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let mut headers: Vec<String> = Vec::new();
    let mut cols: Vec<OutCol> = Vec::new();
    for (i, c) in chosen.iter().enumerate() {
        let Some(c) = c else { continue };
        match headers.iter().position(|h| h == c) {
            Some(j) => {
                if let OutCol::Fields(v) = &mut cols[j] {
                    v.push(i);
                }
            }
            None => {
                headers.push(c.clone());
                cols.push(OutCol::Fields(vec![i]));
            }
        }
    }
    let taken = |n: &str| r.cols.iter().any(|c| c.names.iter().any(|x| x == n));
    let json = matches!(p.def.source.format.get_ref(), Format::Json | Format::Ndjson);
    if !json && !taken("序号") && chance(rng, 0.3) {
        headers.insert(0, "序号".into());
        cols.insert(0, OutCol::Index);
    }
    if !json && !taken("备注") && chance(rng, 0.15) {
        headers.push("备注".into());
        cols.push(OutCol::Remark);
    }
    (headers, cols)
}

fn title_rows(p: &Pipeline, n: usize) -> Vec<String> {
    let mut v = Vec::new();
    for i in 0..n {
        v.push(match i {
            0 => format!("黄山市{}", p.def.catalog.title.trim_start_matches("黄山市")),
            1 => "导出日期：2026-11-01".to_string(),
            _ => "单位：元".to_string(),
        });
    }
    v
}

fn footer_rows(re: &regex::Regex, rng: &mut Rand) -> Vec<Vec<String>> {
    let cands = [
        "合计",
        "总计",
        "制表人：汪丽",
        "审核人：程明",
        "填报人：方静",
        "导出人：系统管理员",
        "单位负责人：胡建国",
        "制表日期：2026-11-01",
    ];
    let mut rows = Vec::new();
    if let Some(first) = cands.iter().find(|c| re.is_match(c)) {
        rows.push(vec![first.to_string(), String::new()]);
        if chance(rng, 0.6) {
            let more: Vec<&&str> = cands.iter().filter(|c| *c != first).collect();
            rows.push(vec![pick(rng, &more).to_string()]);
        }
    }
    rows
}
