//! JSON documents (the records array under a dotted `records` path inside a
//! typical API envelope) and NDJSON; dotted column names become nested objects.

use super::{Sink, TextOut};
use crate::error::SynthError;
use crate::layout::FileShape;
use crate::render::Cell;
use std::path::Path;

/// A nested object shape: key and either a column index or children.
#[derive(Debug)]
enum Node {
    Leaf(String, usize),
    Obj(String, Vec<Node>),
}

fn insert(nodes: &mut Vec<Node>, path: &[&str], col: usize) {
    match path {
        [] => {}
        [last] => nodes.push(Node::Leaf(last.to_string(), col)),
        [first, rest @ ..] => {
            let pos = nodes
                .iter()
                .position(|n| matches!(n, Node::Obj(k, _) if k == first));
            let i = match pos {
                Some(i) => i,
                None => {
                    nodes.push(Node::Obj(first.to_string(), Vec::new()));
                    nodes.len() - 1
                }
            };
            if let Node::Obj(_, kids) = &mut nodes[i] {
                insert(kids, rest, col);
            }
        }
    }
}

pub(crate) struct JsonSink {
    out: TextOut,
    shape: Vec<Node>,
    ndjson: bool,
    n: u64,
    suffix: String,
    buf: String,
}

fn envelope(records: Option<&str>) -> (String, String) {
    let Some(path) = records.filter(|p| !p.is_empty()) else {
        return ("[\n".into(), "\n]\n".into());
    };
    let parts: Vec<&str> = path.split('.').collect();
    let mut prefix = String::new();
    let mut suffix_parts: Vec<String> = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        let key = serde_json::to_string(p).unwrap_or_default();
        if i == 0 {
            prefix.push_str(&format!(
                "{{\"code\":{},\"msg\":\"success\",{key}:",
                if p == &"result" { "\"0000\"" } else { "0" }
            ));
        } else {
            prefix.push_str(&format!("{{{key}:"));
        }
        suffix_parts.push(if i + 1 == parts.len() && i > 0 {
            ",\"total\":TOTAL,\"pageNum\":1}".into()
        } else {
            "}".into()
        });
    }
    prefix.push_str("[\n");
    suffix_parts.reverse();
    (prefix, format!("\n]{}\n", suffix_parts.concat()))
}

impl JsonSink {
    pub(crate) fn new(
        path: &Path,
        shape: &FileShape,
        records: Option<&str>,
        ndjson: bool,
    ) -> Result<Self, SynthError> {
        let mut nodes = Vec::new();
        for (i, h) in shape.headers.iter().enumerate() {
            let parts: Vec<&str> = h.split('.').collect();
            insert(&mut nodes, &parts, i);
        }
        let mut out = TextOut::create(path, shape.enc)?;
        let (prefix, suffix) = if ndjson {
            (String::new(), String::new())
        } else {
            envelope(records)
        };
        out.write(&prefix)?;
        Ok(JsonSink {
            out,
            shape: nodes,
            ndjson,
            n: 0,
            suffix,
            buf: String::new(),
        })
    }
}

fn write_cell(buf: &mut String, c: &Cell) {
    match c {
        Cell::Empty => buf.push_str("null"),
        Cell::Text(s) => buf.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())),
        Cell::Number(n) | Cell::Date(n) | Cell::DateTime(n) => {
            if n.is_finite() {
                if n.fract() == 0.0 && n.abs() < 1e15 {
                    buf.push_str(&(*n as i64).to_string());
                } else {
                    buf.push_str(&n.to_string());
                }
            } else {
                buf.push_str("null");
            }
        }
        Cell::Bool(b) => buf.push_str(if *b { "true" } else { "false" }),
    }
}

fn write_obj(buf: &mut String, nodes: &[Node], cells: &[Cell]) {
    buf.push('{');
    for (i, n) in nodes.iter().enumerate() {
        if i > 0 {
            buf.push(',');
        }
        match n {
            Node::Leaf(k, c) => {
                buf.push_str(&serde_json::to_string(k).unwrap_or_default());
                buf.push(':');
                write_cell(buf, cells.get(*c).unwrap_or(&Cell::Empty));
            }
            Node::Obj(k, kids) => {
                buf.push_str(&serde_json::to_string(k).unwrap_or_default());
                buf.push(':');
                write_obj(buf, kids, cells);
            }
        }
    }
    buf.push('}');
}

impl Sink for JsonSink {
    fn row(&mut self, _sheet: &str, cells: &[Cell]) -> Result<u64, SynthError> {
        self.buf.clear();
        if self.n > 0 && !self.ndjson {
            self.buf.push_str(",\n");
        }
        write_obj(&mut self.buf, &self.shape, cells);
        if self.ndjson {
            self.buf.push('\n');
        }
        let b = std::mem::take(&mut self.buf);
        self.out.write(&b)?;
        self.buf = b;
        self.n += 1;
        Ok(self.n)
    }

    fn finish(mut self: Box<Self>) -> Result<u64, SynthError> {
        let s = self.suffix.replace("TOTAL", &self.n.to_string());
        self.out.write(&s)?;
        self.out.finish()
    }
}
