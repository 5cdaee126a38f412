//! Delimited text with title rows, a header, data and footer rows.

use super::{Sink, TextOut};
use crate::error::SynthError;
use crate::layout::FileShape;
use crate::render::Cell;
use std::path::Path;

pub(crate) struct CsvSink {
    out: TextOut,
    delim: char,
    eol: &'static str,
    row: u64,
    line: String,
    footer: Vec<Vec<String>>,
}

impl CsvSink {
    pub(crate) fn new(
        path: &Path,
        shape: &FileShape,
        delim: char,
        header_row: usize,
    ) -> Result<Self, SynthError> {
        let mut s = CsvSink {
            out: TextOut::create(path, shape.enc)?,
            delim,
            eol: if shape.crlf { "\r\n" } else { "\n" },
            row: 0,
            line: String::new(),
            footer: shape.footer.clone(),
        };
        // Title rows: as many as the header row asks for, never empty lines.
        for i in 0..header_row - 1 {
            let t = shape
                .titles
                .get(i)
                .cloned()
                .unwrap_or_else(|| "说明".into());
            s.put(&[t])?;
        }
        let headers = shape.headers.clone();
        s.put(&headers)?;
        Ok(s)
    }

    fn field(&mut self, v: &str) {
        let needs = v.contains(self.delim) || v.contains(['"', '\n', '\r']);
        if needs {
            self.line.push('"');
            self.line.push_str(&v.replace('"', "\"\""));
            self.line.push('"');
        } else {
            self.line.push_str(v);
        }
    }

    fn put(&mut self, fields: &[String]) -> Result<(), SynthError> {
        self.line.clear();
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                self.line.push(self.delim);
            }
            self.field(f);
        }
        self.line.push_str(self.eol);
        let line = std::mem::take(&mut self.line);
        self.out.write(&line)?;
        self.line = line;
        self.row += 1;
        Ok(())
    }
}

impl Sink for CsvSink {
    fn row(&mut self, _sheet: &str, cells: &[Cell]) -> Result<u64, SynthError> {
        self.line.clear();
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                self.line.push(self.delim);
            }
            let t = c.text();
            self.field(&t);
        }
        self.line.push_str(self.eol);
        let line = std::mem::take(&mut self.line);
        self.out.write(&line)?;
        self.line = line;
        self.row += 1;
        Ok(self.row)
    }

    fn finish(mut self: Box<Self>) -> Result<u64, SynthError> {
        for f in std::mem::take(&mut self.footer) {
            self.put(&f)?;
        }
        self.out.finish()
    }
}
