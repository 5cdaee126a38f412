//! `civhub publish`.

use super::{load, print_json};
use crate::CliError;
use crate::args::{Global, PublishArgs};
use crate::output::{self, thousands};
use civhub_ingest::config::Project;
use civhub_warehouse::config::{Base, load_bases};
use civhub_warehouse::publish::{PublishOptions, PublishReport};
use std::process::ExitCode;

pub fn run(g: &Global, a: PublishArgs) -> Result<ExitCode, CliError> {
    let project = load(g)?;
    let bases = load_bases(&project).map_err(CliError::Config)?;
    let report = execute(&project, &bases, g.quiet || a.json)?;
    if a.json {
        print_json(&report)?;
    } else {
        output::out(&summary(&report));
    }
    Ok(ExitCode::SUCCESS)
}

/// Publishes with a spinner.
pub fn execute(project: &Project, bases: &[Base], quiet: bool) -> Result<PublishReport, CliError> {
    let spinner = output::spinner(quiet, "publishing");
    let opts = PublishOptions {
        abort_after: std::env::var("CIVHUB_TEST_ABORT_PUBLISH_AFTER")
            .ok()
            .and_then(|v| v.parse().ok()),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::msg(e.to_string()))?;
    let r = rt.block_on(civhub_warehouse::publish::publish(project, bases, &opts));
    spinner.finish_and_clear();
    r.map_err(|e| {
        CliError::with_hint(
            format!("publish failed: {e}"),
            "the previous release stays readable; fix the cause and run `civhub publish` again",
        )
    })
}

/// The human summary of a publish.
pub fn summary(r: &PublishReport) -> String {
    let mut s = String::new();
    let w = r
        .tables
        .iter()
        .map(|t| t.table.len())
        .max()
        .unwrap_or(5)
        .max(5);
    s.push_str(&format!(
        "{:<w$}  {:>7}  {:>9}  status\n",
        "table", "version", "rows"
    ));
    for t in &r.tables {
        s.push_str(&format!(
            "{:<w$}  {:>7}  {:>9}  {}{}\n",
            t.table,
            t.version,
            thousands(t.rows),
            if t.changed { "written" } else { "unchanged" },
            t.restricted_to
                .as_deref()
                .map(|d| format!(" · 不予共享: {d} only"))
                .unwrap_or_default()
        ));
    }
    if !r.not_shared.is_empty() {
        s.push_str(&format!(
            "\nreadable by their providing department only (不予共享; not in the plain `civhub sql` session): {}\n",
            r.not_shared.join(", ")
        ));
    }
    s.push_str(&format!(
        "\n{} tables ({} written, {} unchanged) · release {}{} · {:.1}s",
        r.tables.len(),
        r.written,
        r.unchanged,
        r.release,
        if r.new_release {
            " (new)"
        } else {
            " (nothing changed)"
        },
        r.duration_ms as f64 / 1000.0
    ));
    s
}

/// The few lines `civhub run` shows about publishing.
pub fn summary_short(r: &PublishReport) -> String {
    let base: Vec<&str> = r
        .tables
        .iter()
        .filter(|t| {
            !t.table.contains('.')
                || ["population.", "legal.", "license."]
                    .iter()
                    .any(|p| t.table.starts_with(p))
        })
        .map(|t| t.table.as_str())
        .collect();
    format!(
        "publish: {} tables ({} written, {} unchanged), {} of them 不予共享 (providing department only) · release {}{}\n  base databases: {}",
        r.tables.len(),
        r.written,
        r.unchanged,
        r.not_shared.len(),
        r.release,
        if r.new_release {
            " (new)"
        } else {
            " (nothing changed)"
        },
        base.join(", ")
    )
}
