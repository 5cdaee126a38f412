//! Excel workbooks (xlsx, and xls/ods through calamine).
//!
//! calamine materializes one sheet at a time, so memory grows with the largest
//! sheet, not the workbook (Excel caps a sheet at 1,048,576 rows).

use super::{
    FileError, ReadInfo, RowProblem, RowSink, RowView, Slot, original_json, resolve_header,
};
use crate::config::{Pipeline, Sheets};
use calamine::{Data, Reader};
use std::path::Path;

struct XlsxRow<'a> {
    cells: &'a [Option<String>],
    header: &'a [String],
    map: &'a [Option<usize>],
    row: u64,
    sheet: &'a str,
}

impl RowView for XlsxRow<'_> {
    fn row(&self) -> u64 {
        self.row
    }
    fn sheet(&self) -> Option<&str> {
        Some(self.sheet)
    }
    fn slot(&self, i: usize) -> Option<&str> {
        let idx = self.map.get(i).copied().flatten()?;
        self.cells
            .get(idx)?
            .as_deref()
            .filter(|s| !s.trim().is_empty())
    }
    fn problem(&self) -> Option<RowProblem> {
        None
    }
    fn original(&self) -> String {
        original_json(
            self.header
                .iter()
                .enumerate()
                .map(|(i, h)| (h.as_str(), self.cells.get(i).and_then(|c| c.as_deref()))),
        )
    }
}

/// Renders a cell as the text a person sees in Excel.
pub(crate) fn render(cell: &Data) -> Option<String> {
    match cell {
        Data::Empty => None,
        Data::String(s) => Some(s.clone()),
        Data::Int(i) => Some(i.to_string()),
        Data::Float(f) => Some(render_float(*f)),
        Data::Bool(b) => Some(if *b { "true" } else { "false" }.to_string()),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(d) if dt.is_datetime() => Some(if d.time() == chrono::NaiveTime::MIN {
                d.format("%Y-%m-%d").to_string()
            } else {
                d.format("%Y-%m-%d %H:%M:%S").to_string()
            }),
            _ => Some(render_float(dt.as_f64())),
        },
        Data::DateTimeIso(s) | Data::DurationIso(s) => Some(s.clone()),
        Data::Error(e) => Some(format!("#{e:?}")),
    }
}

/// Whole numbers print without a fraction; numbers of 16 digits or more print
/// the way Excel's General format shows them (`3.41002E+17`), because Excel has
/// already lost their last digits and the ID normalizer must be able to say so.
fn render_float(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else if f.fract() == 0.0 && f.is_finite() {
        let exp = f.abs().log10().floor() as i32;
        let mantissa = f / 10f64.powi(exp);
        let m = format!("{mantissa:.5}");
        let m = m.trim_end_matches('0').trim_end_matches('.');
        format!("{m}E+{exp}")
    } else {
        format!("{f}")
    }
}

pub(super) fn read(
    path: &Path,
    pipeline: &Pipeline,
    slots: &[Slot],
    sink: &mut dyn RowSink,
) -> Result<ReadInfo, FileError> {
    let src = &pipeline.def.source;
    let meta = std::fs::metadata(path).map_err(|e| FileError::new(format!("cannot open: {e}")))?;
    if meta.len() == 0 {
        return Err(FileError::new("the file is empty (0 bytes)")
            .hint("the export is probably incomplete: ask the department to deliver it again"));
    }
    let mut wb = calamine::open_workbook_auto(path).map_err(|e| {
        FileError::new(format!("cannot open as an Excel workbook: {e}"))
            .hint("the file may be truncated or not really an Excel file; re-export it, or fix `format` in [source]")
    })?;
    let all = wb.sheet_names();
    let wanted: Vec<String> = match src.sheets.as_ref().map(|s| s.get_ref()) {
        None => all.first().cloned().into_iter().collect(),
        Some(Sheets::One(s)) if s == "*" => all.clone(),
        Some(Sheets::One(s)) => vec![s.clone()],
        Some(Sheets::Many(v)) => v.clone(),
    };
    for w in &wanted {
        if !all.contains(w) {
            let have = all
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(
                FileError::new(format!("no sheet `{w}`; the workbook has {have}"))
                    .hint("fix `sheets` in [source] (`\"*\"` reads every sheet)"),
            );
        }
    }
    let header_row = src.header_row.as_ref().map(|h| *h.get_ref()).unwrap_or(1) as u64;
    for name in &wanted {
        let range = wb.worksheet_range(name).map_err(|e| {
            FileError::new(format!("sheet `{name}`: cannot read: {e}"))
                .hint("the file may be truncated; re-export it")
        })?;
        let Some((r0, c0)) = range.start() else {
            continue; // an empty sheet holds no rows
        };
        let mut header: Option<(Vec<String>, Vec<Option<usize>>)> = None;
        let mut cells: Vec<Option<String>> = Vec::new();
        let mut stopped = false;
        // Cells left of the range start are empty; keep positions absolute.
        let pad = c0 as usize;
        for (i, row) in range.rows().enumerate() {
            let rownum = r0 as u64 + i as u64 + 1;
            cells.clear();
            cells.extend(std::iter::repeat_n(None, pad));
            cells.extend(row.iter().map(render));
            let Some((names, map)) = &header else {
                if rownum == header_row {
                    let names: Vec<String> = cells
                        .iter()
                        .map(|c| c.as_deref().unwrap_or("").trim().to_string())
                        .collect();
                    let map = resolve_header(
                        &names,
                        slots,
                        &format!("sheet `{name}`, header on row {rownum}"),
                    )?;
                    header = Some((names, map));
                }
                continue;
            };
            if cells
                .iter()
                .all(|c| c.as_deref().is_none_or(|s| s.trim().is_empty()))
            {
                sink.blank();
                continue;
            }
            if stopped
                || pipeline.stop_at.as_ref().is_some_and(|re| {
                    cells
                        .iter()
                        .flatten()
                        .find(|s| !s.trim().is_empty())
                        .is_some_and(|s| re.is_match(s.trim()))
                })
            {
                stopped = true;
                sink.footer();
                continue;
            }
            sink.row(&XlsxRow {
                cells: &cells,
                header: names,
                map,
                row: rownum,
                sheet: name,
            });
        }
        if header.is_none() && range.rows().len() > 0 {
            return Err(FileError::new(format!(
                "sheet `{name}`: no header on row {header_row}; the sheet's data starts on row {}",
                r0 + 1
            ))
            .hint("check `header-row` in [source]"));
        }
    }
    Ok(ReadInfo {
        encoding: None,
        sheets: wanted,
    })
}

#[cfg(test)]
mod tests {
    use super::render_float;

    #[test]
    fn floats_render_like_excel() {
        assert_eq!(render_float(29222.0), "29222");
        assert_eq!(render_float(341002199001011000.0), "3.41002E+17");
        assert_eq!(render_float(110105194912310000.0), "1.10105E+17");
        assert_eq!(render_float(12.5), "12.5");
    }
}
