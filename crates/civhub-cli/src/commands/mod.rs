//! One module per command.

mod catalog;
mod check;
mod docs;
mod explain;
mod ingest;
mod matching;
mod person;
mod publish;
mod review;
mod serve;
mod sql;
mod synth;
mod user;
mod validate;

use crate::CliError;
use crate::args::{Cli, Command, Global};
use civhub_ingest::config::{PROJECT_FILE, Project, load_project};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Runs the parsed command.
pub fn dispatch(cli: Cli) -> Result<ExitCode, CliError> {
    let g = &cli.global;
    match cli.command {
        Command::Run(a) => ingest::run(g, a),
        Command::Ingest(a) => ingest::ingest(g, a),
        Command::Match(a) => matching::run(g, a),
        Command::EvalMatch(a) => matching::eval(g, a),
        Command::Publish(a) => publish::run(g, a),
        Command::Sql(a) => sql::run(g, a),
        Command::Validate(a) => validate::run(g, a),
        Command::Synth(a) => synth::run(g, a),
        Command::Person(a) => person::run(g, a, civhub_mdm::settings::Kind::Person),
        Command::Entity(a) => person::run(g, a, civhub_mdm::settings::Kind::Entity),
        Command::Explain(a) => explain::run(g, a),
        Command::Review(a) => review::run(g, a),
        Command::Catalog(a) => catalog::run(g, a),
        Command::Docs(a) => docs::run(g, a),
        Command::Check(a) => check::run(g, a),
        Command::User(a) => user::run(g, a),
        Command::Serve(a) => serve::run(g, a),
    }
}

/// The project folder: `--project`, else the nearest folder upwards from the
/// current one that holds civhub.toml.
pub fn project_root(g: &Global) -> Result<PathBuf, CliError> {
    if let Some(p) = &g.project {
        return Ok(absolute(p));
    }
    let cwd = std::env::current_dir()
        .map_err(|e| CliError::msg(format!("cannot read the current folder: {e}")))?;
    let mut dir: &Path = &cwd;
    loop {
        if dir.join(PROJECT_FILE).is_file() {
            return Ok(dir.to_path_buf());
        }
        match dir.parent() {
            Some(p) => dir = p,
            None => {
                return Err(CliError::with_hint(
                    format!(
                        "no {PROJECT_FILE} in `{}` or any folder above it",
                        cwd.display()
                    ),
                    "run civhub inside a project folder, pass `--project DIR`, or create a demo project with `civhub synth --out DIR`",
                ));
            }
        }
    }
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    }
}

/// Loads and checks the project.
pub fn load(g: &Global) -> Result<Project, CliError> {
    let root = project_root(g)?;
    let warehouse = g.warehouse.as_deref().map(absolute);
    load_project(&root, warehouse.as_deref()).map_err(CliError::Config)
}

/// Prints `value` as pretty JSON on stdout.
pub fn print_json(value: &impl serde::Serialize) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| CliError::msg(e.to_string()))?;
    crate::output::out(&text);
    Ok(())
}
