//! How results are shown: summaries, diagnostics and progress.

use civhub_ingest::config::{ConfigProblems, Project};
use civhub_ingest::report::{FileReport, FileStatus, PipelineReport, PipelineStatus, RunReport};
use civhub_ingest::run::Observer;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Writes a line to stdout; a closed pipe (`civhub … | head`) is not an error.
pub fn out(text: &str) {
    let mut o = std::io::stdout().lock();
    let _ = writeln!(o, "{text}");
}

fn color() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

/// Renders configuration problems to stderr, each with its file, line,
/// column, the offending text underlined and the hint.
pub fn print_problems(problems: &ConfigProblems) {
    eprint!("{}", render_problems(problems, color()));
}

/// The text [`print_problems`] prints.
pub fn render_problems(problems: &ConfigProblems, color: bool) -> String {
    use miette::{GraphicalReportHandler, GraphicalTheme};
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let mut s = String::new();
    for p in &problems.problems {
        if p.span().is_some() {
            let mut buf = String::new();
            if handler.render_report(&mut buf, p).is_ok() {
                let _ = writeln!(s, "error: {}:{}:{}", p.file, p.line, p.column);
                s.push_str(&buf);
                s.push('\n');
                continue;
            }
        }
        let _ = writeln!(s, "error: {}: {}", p.file, p.message);
        if let Some(h) = &p.hint {
            let _ = writeln!(s, "  help: {h}");
        }
        s.push('\n');
    }
    let _ = writeln!(s, "{problems}");
    s
}

/// Progress of an ingest run on stderr: files done, rows read, rows per second.
pub struct Progress {
    bar: ProgressBar,
    rows: AtomicU64,
}

impl Progress {
    /// A bar, hidden when `quiet` or when stderr is not a terminal.
    pub fn new(quiet: bool, verb: &str) -> Self {
        let target = if quiet || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let bar = ProgressBar::with_draw_target(Some(0), target);
        bar.set_style(
            ProgressStyle::with_template(&format!(
                "{{spinner}} {verb} [{{bar:30}}] {{pos}}/{{len}} files · {{msg}} · {{elapsed}}"
            ))
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress {
            bar,
            rows: AtomicU64::new(0),
        }
    }

    /// Clears the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Observer for Progress {
    fn start(&self, _pipelines: usize, files: usize) {
        self.bar.set_length(files as u64);
    }
    fn rows(&self, n: u64) {
        let total = self.rows.fetch_add(n, Ordering::Relaxed) + n;
        let secs = self.bar.elapsed().as_secs_f64().max(0.001);
        self.bar.set_message(format!(
            "{} rows ({}/s)",
            thousands(total),
            thousands((total as f64 / secs) as u64)
        ));
    }
    fn file_done(&self, f: &FileReport) {
        self.bar.inc(1);
        if f.status == FileStatus::Failed {
            self.bar.println(format!(
                "error: {}: {}",
                f.path,
                f.error.as_deref().unwrap_or("failed")
            ));
        }
    }
    fn pipeline_done(&self, p: &PipelineReport) {
        if p.status == PipelineStatus::Unchanged || p.status == PipelineStatus::NoFiles {
            self.bar.inc(p.files.len() as u64);
        }
    }
}

/// 1234567 → "1,234,567".
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn status_word(s: PipelineStatus) -> &'static str {
    match s {
        PipelineStatus::Ok => "ok",
        PipelineStatus::Unchanged => "unchanged",
        PipelineStatus::NoFiles => "no files",
        PipelineStatus::Failed => "FAILED",
    }
}

/// The human summary of an ingest run.
pub fn ingest_summary(project: &Project, r: &RunReport) -> String {
    let mut s = String::new();
    let w = r
        .pipelines
        .iter()
        .map(|p| p.pipeline.len())
        .max()
        .unwrap_or(8)
        .max(8);
    let _ = writeln!(
        s,
        "{:<w$}  {:>5}  {:>9}  {:>9}  {:>11}  {:>9}  status",
        "pipeline", "files", "rows in", "staged", "quarantined", "table"
    );
    for p in &r.pipelines {
        let _ = writeln!(
            s,
            "{:<w$}  {:>5}  {:>9}  {:>9}  {:>11}  {:>9}  {}",
            p.pipeline,
            p.files_matched,
            thousands(p.rows_in),
            thousands(p.rows_staged),
            thousands(p.rows_quarantined),
            thousands(p.table_rows),
            status_word(p.status)
        );
    }
    let with_reasons: Vec<&PipelineReport> = r
        .pipelines
        .iter()
        .filter(|p| !p.top_reasons.is_empty())
        .collect();
    if !with_reasons.is_empty() {
        let _ = writeln!(s, "\nTop quarantine reasons (rows · rule · first example):");
        for p in with_reasons {
            let _ = writeln!(s, "  {}", p.pipeline);
            for rc in p.top_reasons.iter().take(3) {
                let _ = writeln!(
                    s,
                    "    {:>6} · {} · {} ({})",
                    thousands(rc.rows),
                    rc.rule,
                    truncate(&rc.example, 90),
                    rc.example_at
                );
            }
            if p.top_reasons.len() > 3 {
                let _ = writeln!(s, "    … and {} more rules", p.top_reasons.len() - 3);
            }
        }
    }
    let problems: Vec<&PipelineReport> = r
        .pipelines
        .iter()
        .filter(|p| p.error.is_some() || !p.warnings.is_empty())
        .collect();
    if !problems.is_empty() {
        let _ = writeln!(s);
        for p in problems {
            if let Some(e) = &p.error {
                let _ = writeln!(s, "error: {}: {e}", p.pipeline);
                for f in p.files.iter().filter(|f| f.error.is_some()) {
                    let _ = writeln!(
                        s,
                        "  {}: {}",
                        f.path,
                        f.error.as_deref().unwrap_or_default()
                    );
                    if let Some(h) = &f.hint {
                        let _ = writeln!(s, "  hint: {h}");
                    }
                }
                let _ = writeln!(s, "  the table staged earlier is kept");
            }
            for wn in &p.warnings {
                let _ = writeln!(s, "warning: {}: {wn}", p.pipeline);
            }
        }
    }
    let t = &r.totals;
    let _ = writeln!(
        s,
        "\n{} pipelines ({} ok, {} unchanged, {} failed{}) · {} files read, {} unchanged · {} rows in · {} staged · {} quarantined · {:.1}s",
        t.pipelines,
        t.pipelines_ok,
        t.pipelines_unchanged,
        t.pipelines_failed,
        if t.pipelines_no_files > 0 {
            format!(", {} without files", t.pipelines_no_files)
        } else {
            String::new()
        },
        t.files_ingested,
        t.files_unchanged,
        thousands(t.rows_in),
        thousands(t.rows_staged),
        thousands(t.rows_quarantined),
        r.duration_ms as f64 / 1000.0
    );
    let _ = write!(
        s,
        "warehouse: {} · run {}",
        relative(&project.root, &r.warehouse),
        r.run_id
    );
    s
}

fn relative(root: &std::path::Path, p: &str) -> String {
    std::path::Path::new(p)
        .strip_prefix(root)
        .map(|r| r.display().to_string())
        .unwrap_or_else(|_| p.to_string())
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

/// A spinner on stderr for work without a count (hidden when quiet or not a terminal).
pub fn spinner(quiet: bool, what: &str) -> ProgressBar {
    let target = if quiet || !std::io::stderr().is_terminal() {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let bar = ProgressBar::with_draw_target(None, target);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} · {elapsed}").expect("valid template"),
    );
    bar.set_message(what.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// The human summary of a matching run.
pub fn match_summary(r: &civhub_mdm::run::MatchReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<8}  {:>9}  {:>9}  {:>7}  {:>9}  {:>7}  {:>6}  {:>5}  {:>6}  {:>9}  {:>10}",
        "matching",
        "mentions",
        "golden",
        "new",
        "unchanged",
        "updated",
        "merged",
        "split",
        "review",
        "pairs",
        "precision~"
    );
    for k in [&r.person, &r.entity].into_iter().flatten() {
        let _ = writeln!(
            s,
            "{:<8}  {:>9}  {:>9}  {:>7}  {:>9}  {:>7}  {:>6}  {:>5}  {:>6}  {:>9}  {:>10.3}",
            k.kind,
            thousands(k.mentions),
            thousands(k.golden),
            thousands(k.new as u64),
            thousands(k.unchanged as u64),
            thousands(k.updated as u64),
            k.merged,
            k.split,
            thousands(k.review as u64),
            thousands(k.pairs),
            k.quality.expected_precision
        );
    }
    let notes: Vec<String> = [&r.person, &r.entity]
        .into_iter()
        .flatten()
        .map(|k| {
            if k.mode == "unchanged" {
                return format!(
                    "{}: unchanged — the staged datasets, settings and review decisions are those of the current run, which stands (no new run)",
                    k.kind
                );
            }
            format!(
                "{}: {} run{}, {} contradicted IDs sent to review, {} probabilistic links, model {} (prior 1 in {}), expected recall {:.3}",
                k.kind,
                k.mode,
                k.full_because.as_ref().map(|w| format!(" because {w}")).unwrap_or_default(),
                thousands(k.contradictions),
                thousands(k.probabilistic_links as u64),
                if k.trained { "trained this run" } else { "reused" },
                thousands((1.0 / k.prior.max(1e-15)).round() as u64),
                k.quality.expected_recall
            )
        })
        .collect();
    for n in notes {
        let _ = writeln!(s, "  {n}");
    }
    let _ = write!(
        s,
        "run {} · `civhub review` lists the pairs waiting for a decision",
        r.run_id
    );
    s
}

/// The one line that ends `civhub run`.
pub fn run_totals(
    i: &RunReport,
    m: &civhub_mdm::run::MatchReport,
    p: &civhub_warehouse::publish::PublishReport,
) -> String {
    let t = &i.totals;
    let golden =
        |k: &Option<civhub_mdm::run::KindReport>| k.as_ref().map(|k| k.golden).unwrap_or(0);
    format!(
        "run: {} rows in · {} staged · {} quarantined · {} persons and {} entities matched · {} tables published (release {}){}",
        thousands(t.rows_in),
        thousands(t.rows_staged),
        thousands(t.rows_quarantined),
        thousands(golden(&m.person)),
        thousands(golden(&m.entity)),
        p.tables.len(),
        p.release,
        if i.ok {
            String::new()
        } else {
            format!(" · {} pipelines FAILED", t.pipelines_failed)
        }
    )
}

mod mdm;
pub use mdm::*;
