//! `civhub match`.

use super::{load, print_json};
use crate::CliError;
use crate::args::{EvalArgs, Global, MatchArgs};
use crate::output;
use civhub_ingest::config::Project;
use civhub_mdm::run::{MatchOptions, MatchReport};
use civhub_mdm::settings::{Kind, Settings};
use std::collections::HashMap;
use std::process::ExitCode;

pub fn run(g: &Global, a: MatchArgs) -> Result<ExitCode, CliError> {
    let project = load(g)?;
    let settings = load_settings(&project)?;
    let report = execute(
        &project,
        &settings,
        &MatchOptions {
            retrain: a.retrain,
            full: a.full,
        },
        g.quiet || a.json,
    )?;
    if a.json {
        print_json(&report)?;
    } else {
        output::out(&output::match_summary(&report));
    }
    Ok(ExitCode::SUCCESS)
}

/// Loads and checks the matching settings.
pub fn load_settings(project: &Project) -> Result<HashMap<Kind, Settings>, CliError> {
    civhub_mdm::settings::load_all(project).map_err(CliError::Config)
}

/// Runs matching with a spinner.
pub fn execute(
    project: &Project,
    settings: &HashMap<Kind, Settings>,
    opts: &MatchOptions,
    quiet: bool,
) -> Result<MatchReport, CliError> {
    let spinner = output::spinner(quiet, "matching people and legal entities");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::msg(e.to_string()))?;
    let result = rt.block_on(civhub_mdm::run::run(project, settings, opts));
    spinner.finish_and_clear();
    result.map_err(|e| {
        CliError::with_hint(
            format!("matching failed: {e}"),
            "run `civhub ingest` first, and `civhub validate` to check pipelines/match/",
        )
    })
}

/// `civhub eval-match --truth FILE`.
pub fn eval(g: &Global, a: EvalArgs) -> Result<ExitCode, CliError> {
    let project = load(g)?;
    if !a.truth.is_file() {
        return Err(CliError::with_hint(
            format!("no truth file `{}`", a.truth.display()),
            "`civhub synth --out DIR` writes DIR/truth/mentions.csv",
        ));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::msg(e.to_string()))?;
    let e = rt
        .block_on(civhub_mdm::eval::evaluate(&project.warehouse, &a.truth))
        .map_err(|e| CliError::msg(format!("evaluation failed: {e}")))?;
    if a.json {
        print_json(&e)?;
    } else {
        let mut s = format!(
            "{:<8}  {:>9}  {:>9}  {:>9}  {:>7}  {:>8}  {:>8}\n",
            "kind", "mentions", "clusters", "true", "prec.", "recall", "F1"
        );
        for k in [&e.person, &e.entity].into_iter().flatten() {
            s.push_str(&format!(
                "{:<8}  {:>9}  {:>9}  {:>9}  {:>7.4}  {:>8.4}  {:>8.4}\n",
                k.kind,
                output::thousands(k.mentions),
                output::thousands(k.predicted_clusters),
                output::thousands(k.true_clusters),
                k.precision,
                k.recall,
                k.f1
            ));
        }
        s.push_str(&format!(
            "{:<8}  {:>9}  {:>9}  {:>9}  {:>7.4}  {:>8.4}  {:>8.4}",
            "all", "", "", "", e.precision, e.recall, e.f1
        ));
        output::out(&s);
    }
    Ok(ExitCode::SUCCESS)
}
