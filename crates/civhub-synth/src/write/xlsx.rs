//! Excel workbooks: one worksheet per sheet name in first-use order, each
//! in constant-memory mode (rows stream to a temporary file), with title
//! rows, a bold header, data and footer rows; dates as date cells or bare
//! serial numbers, IDs as text (and, where the noise says so, as numbers).

use super::Sink;
use crate::error::SynthError;
use crate::layout::FileShape;
use crate::render::Cell;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, XlsxError};
use std::path::{Path, PathBuf};

pub(crate) struct XlsxSink {
    path: PathBuf,
    book: Workbook,
    sheets: Vec<(String, u32)>,
    headers: Vec<String>,
    titles: Vec<String>,
    footer: Vec<Vec<String>>,
    header_row: usize,
    date: Format,
    datetime: Format,
    bold: Format,
    started: bool,
    fixed: Vec<String>,
}

fn xe(path: &Path, e: XlsxError) -> SynthError {
    SynthError::Write {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

impl XlsxSink {
    pub(crate) fn new(path: &Path, shape: &FileShape, header_row: usize) -> Self {
        let date_fmt = if shape.style.map_seed.is_multiple_of(3) {
            "yyyy/m/d"
        } else {
            "yyyy-mm-dd"
        };
        let mut book = Workbook::new();
        // A fixed creation time: the same inputs give the same bytes.
        if let Ok(t) = ExcelDateTime::from_ymd(2026, 11, 1) {
            book.set_properties(
                &DocProperties::new()
                    .set_creation_datetime(&t)
                    .set_author("政务信息系统"),
            );
        }
        XlsxSink {
            path: path.to_path_buf(),
            book,
            sheets: Vec::new(),
            headers: shape.headers.clone(),
            titles: shape.titles.clone(),
            footer: shape.footer.clone(),
            header_row,
            date: Format::new().set_num_format(date_fmt),
            datetime: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
            bold: Format::new().set_bold(),
            started: false,
            fixed: shape.fixed_sheets.clone(),
        }
    }

    fn start(&mut self) -> Result<(), SynthError> {
        self.started = true;
        for name in std::mem::take(&mut self.fixed) {
            if name == "填表说明" {
                let ws = self
                    .book
                    .add_worksheet_with_constant_memory()
                    .map_err(|e| xe(&self.path, e))?;
                ws.set_name(&name).map_err(|e| xe(&self.path, e))?;
                ws.write_string(0, 0, "本表由业务系统导出，数据截至2026年10月31日。")
                    .map_err(|e| xe(&self.path, e))?;
                ws.write_string(1, 0, "身份证号码请以文本格式录入。")
                    .map_err(|e| xe(&self.path, e))?;
                self.sheets.push((name, u32::MAX));
            } else {
                self.sheet(&name)?;
            }
        }
        Ok(())
    }

    /// Index of sheet `name`, created (with titles and header) on first use.
    fn sheet(&mut self, name: &str) -> Result<usize, SynthError> {
        if let Some(i) = self.sheets.iter().position(|(n, _)| n == name) {
            return Ok(i);
        }
        let path = self.path.clone();
        let ws = self
            .book
            .add_worksheet_with_constant_memory()
            .map_err(|e| xe(&path, e))?;
        ws.set_name(name).map_err(|e| xe(&path, e))?;
        for r in 0..self.header_row - 1 {
            let t = self.titles.get(r).cloned().unwrap_or_else(|| "说明".into());
            ws.write_string(r as u32, 0, &t).map_err(|e| xe(&path, e))?;
        }
        let hr = (self.header_row - 1) as u32;
        for (c, h) in self.headers.iter().enumerate() {
            ws.write_string_with_format(hr, c as u16, h, &self.bold)
                .map_err(|e| xe(&path, e))?;
        }
        self.sheets.push((name.to_string(), hr));
        Ok(self.sheets.len() - 1)
    }
}

impl Sink for XlsxSink {
    fn row(&mut self, sheet: &str, cells: &[Cell]) -> Result<u64, SynthError> {
        if !self.started {
            self.start()?;
        }
        let i = self.sheet(sheet)?;
        let row = self.sheets[i].1 + 1;
        self.sheets[i].1 = row;
        let path = self.path.clone();
        let ws = self
            .book
            .worksheet_from_index(i)
            .map_err(|e| xe(&path, e))?;
        for (c, cell) in cells.iter().enumerate() {
            let c = c as u16;
            let r = match cell {
                Cell::Empty => Ok(&mut *ws),
                Cell::Text(s) => ws.write_string(row, c, s),
                Cell::Number(n) => ws.write_number(row, c, *n),
                Cell::Date(n) => ws.write_number_with_format(row, c, *n, &self.date),
                Cell::DateTime(n) => ws.write_number_with_format(row, c, *n, &self.datetime),
                Cell::Bool(b) => ws.write_boolean(row, c, *b),
            };
            r.map_err(|e| xe(&path, e))?;
        }
        Ok(u64::from(row) + 1)
    }

    fn finish(mut self: Box<Self>) -> Result<u64, SynthError> {
        if !self.started {
            self.start()?;
        }
        if self.sheets.iter().all(|(_, r)| *r == u32::MAX) {
            // An export with no rows still has its data sheet.
            self.sheet("Sheet1")?;
        }
        let path = self.path.clone();
        for i in 0..self.sheets.len() {
            let last = self.sheets[i].1;
            if last == u32::MAX {
                continue;
            }
            let ws = self
                .book
                .worksheet_from_index(i)
                .map_err(|e| xe(&path, e))?;
            for (k, f) in self.footer.iter().enumerate() {
                for (c, v) in f.iter().enumerate() {
                    if !v.is_empty() {
                        ws.write_string(last + 1 + k as u32, c as u16, v)
                            .map_err(|e| xe(&path, e))?;
                    }
                }
            }
        }
        self.book.save(&path).map_err(|e| xe(&path, e))?;
        Ok(fs_err::metadata(&path)?.len())
    }
}
