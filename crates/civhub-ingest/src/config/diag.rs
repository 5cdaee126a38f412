//! Configuration problems: where they are (file, line, column, key) and what
//! would fix them.
//!
//! Loading collects every problem it can find before reporting, like Vector's
//! config compiler: a syntax or shape error stops the reading of that one file
//! (serde gives one error per document), while every other file and every
//! semantic check still runs.

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceSpan};
use serde::Serialize;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One problem in one configuration file.
#[derive(Debug, Clone, Serialize)]
pub struct ConfigProblem {
    /// The file, as shown to the user (relative to the project folder).
    pub file: String,
    /// 1-based line, 0 when the problem concerns the whole file.
    pub line: usize,
    /// 1-based column (in characters), 0 when the problem concerns the whole file.
    pub column: usize,
    /// The key at fault, when there is one (e.g. `source.delimiter`).
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
    /// What would fix it.
    pub hint: Option<String>,
    #[serde(skip)]
    span: Option<Range<usize>>,
    #[serde(skip)]
    source: Option<NamedSource<Arc<String>>>,
}

impl ConfigProblem {
    /// The byte range of the offending text in the file, if known.
    pub fn span(&self) -> Option<Range<usize>> {
        self.span.clone()
    }
}

impl ConfigProblem {
    /// `file:line:column: message (hint: …)` on one line, for logs and plain output.
    pub fn one_line(&self) -> String {
        let mut s = if self.line > 0 {
            format!(
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )
        } else {
            format!("{}: {}", self.file, self.message)
        };
        if let Some(h) = &self.hint {
            s.push_str(&format!(" (hint: {h})"));
        }
        s
    }
}

/// The message alone; where and how to fix are separate parts of the diagnostic.
impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigProblem {}

impl Diagnostic for ConfigProblem {
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.hint
            .as_ref()
            .map(|h| Box::new(h.as_str()) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.span.as_ref()?;
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.span.clone()?;
        self.source.as_ref()?;
        let label = self.key.as_ref().map(|k| format!("`{k}`"));
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            label,
            SourceSpan::from(span),
        ))))
    }
}

/// A source file being checked: its display name and text, to place problems.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path relative to the project folder, with `/` separators.
    pub display: String,
    /// Absolute path.
    pub path: PathBuf,
    /// The text.
    pub text: Arc<String>,
}

impl SourceFile {
    /// A source file read from `path`, displayed relative to `root`.
    pub fn new(root: &Path, path: &Path, text: String) -> Self {
        SourceFile {
            display: display_path(root, path),
            path: path.to_path_buf(),
            text: Arc::new(text),
        }
    }

    /// A problem at `span` of this file.
    pub fn problem(
        &self,
        span: Option<Range<usize>>,
        key: Option<&str>,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> ConfigProblem {
        let span = span.filter(|s| s.end <= self.text.len() && !(s.start == 0 && s.end == 0));
        let (line, column) = match &span {
            Some(s) => line_col(&self.text, s.start),
            None => (0, 0),
        };
        ConfigProblem {
            file: self.display.clone(),
            line,
            column,
            key: key.map(str::to_string),
            message: message.into(),
            hint,
            span,
            source: Some(NamedSource::new(self.display.clone(), self.text.clone())),
        }
    }

    /// Turns a TOML parse/shape error into a problem, adding a "did you mean"
    /// hint for unknown keys and unknown values.
    pub fn toml_problem(&self, err: &toml::de::Error) -> ConfigProblem {
        let (key, message, hint) = rewrite_serde_message(err.message().trim());
        self.problem(err.span(), key.as_deref(), message, hint)
    }
}

/// A problem about a file or folder as a whole (missing, unreadable).
pub fn file_problem(
    root: &Path,
    path: &Path,
    message: impl Into<String>,
    hint: Option<String>,
) -> ConfigProblem {
    ConfigProblem {
        file: display_path(root, path),
        line: 0,
        column: 0,
        key: None,
        message: message.into(),
        hint,
        span: None,
        source: None,
    }
}

/// `path` relative to `root` when it is inside it, with `/` separators.
pub fn display_path(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.to_string_lossy().replace('\\', "/")
}

/// 1-based line and character column of byte offset `pos`.
pub fn line_col(text: &str, pos: usize) -> (usize, usize) {
    let pos = pos.min(text.len());
    let before = &text[..floor_char_boundary(text, pos)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The candidate closest to `word`, when it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let score = strsim::jaro_winkler(word, c);
        if score > best.map(|b| b.0).unwrap_or(0.0) {
            best = Some((score, c));
        }
    }
    best.filter(|(s, _)| *s >= 0.8).map(|(_, c)| c)
}

/// A hint naming the closest candidate, or listing them when none is close.
pub fn hint_for(word: &str, candidates: &[&str]) -> Option<String> {
    if let Some(c) = did_you_mean(word, candidates.iter().copied()) {
        return Some(format!("did you mean `{c}`?"));
    }
    if candidates.is_empty() {
        return None;
    }
    if candidates.len() <= 12 {
        let list: Vec<String> = candidates.iter().map(|c| format!("`{c}`")).collect();
        Some(format!("expected one of {}", list.join(", ")))
    } else {
        None
    }
}

/// serde's messages for unknown keys and values carry the expected names:
/// "unknown field `delimter`, expected one of `path`, `format`, …". Rewrite
/// them as a short message ("unknown key `delimter`") and a hint naming the
/// closest expected name, or listing them all when none is close.
fn rewrite_serde_message(msg: &str) -> (Option<String>, String, Option<String>) {
    let (what, is_key) = if msg.starts_with("unknown field") {
        ("key", true)
    } else if msg.starts_with("unknown variant") {
        ("value", false)
    } else {
        return (None, msg.to_string(), None);
    };
    let ticks: Vec<&str> = msg.split('`').skip(1).step_by(2).collect();
    let Some((word, expected)) = ticks.split_first() else {
        return (None, msg.to_string(), None);
    };
    let hint = match did_you_mean(word, expected.iter().copied()) {
        Some(c) => Some(format!("did you mean `{c}`?")),
        None if expected.is_empty() => None,
        None => Some(format!(
            "expected one of {}",
            expected
                .iter()
                .map(|e| format!("`{e}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    };
    let key = is_key.then(|| word.to_string());
    (key, format!("unknown {what} `{word}`"), hint)
}

/// Every problem found while loading a project.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ConfigProblems {
    /// The problems, in file order.
    pub problems: Vec<ConfigProblem>,
}

impl ConfigProblems {
    /// True when nothing is wrong.
    pub fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }

    /// Adds a problem.
    pub fn push(&mut self, p: ConfigProblem) {
        self.problems.push(p);
    }

    /// Orders problems by file, line and column.
    pub fn sort(&mut self) {
        self.problems
            .sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    }
}

impl fmt::Display for ConfigProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "{n} problem{} in the project configuration",
            if n == 1 { "" } else { "s" }
        )
    }
}

impl std::error::Error for ConfigProblems {}
