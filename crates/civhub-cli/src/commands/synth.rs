//! `civhub synth`: a synthetic city as a ready-to-run project.

use super::print_json;
use crate::CliError;
use crate::args::{Global, SynthArgs};
use crate::output::{self, thousands};
use civhub_synth::{SynthOptions, SynthProgress};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

pub fn run(g: &Global, a: SynthArgs) -> Result<ExitCode, CliError> {
    let quiet = g.quiet || a.json || !std::io::stderr().is_terminal();
    let bar = ProgressBar::with_draw_target(
        Some(0),
        if quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        },
    );
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} synth [{bar:30}] {pos}/{len} pipelines · {msg} · {elapsed}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    let b = bar.clone();
    let progress = Arc::new(move |e: SynthProgress| match e {
        SynthProgress::Configured { pipelines } => b.set_length(pipelines as u64),
        SynthProgress::World {
            persons,
            households,
            entities,
        } => b.set_message(format!(
            "{} persons, {} households, {} entities",
            thousands(persons as u64),
            thousands(households as u64),
            thousands(entities as u64)
        )),
        SynthProgress::Pipeline { done, .. } => b.set_position(done as u64),
        SynthProgress::Truth => b.set_message("ground truth".to_string()),
    });
    let out = if a.out.is_absolute() {
        a.out.clone()
    } else {
        std::env::current_dir()
            .map(|d| d.join(&a.out))
            .unwrap_or(a.out.clone())
    };
    let opts = SynthOptions {
        persons: a.persons,
        seed: a.seed,
        out,
        progress: Some(progress),
    };
    let summary = civhub_synth::generate(&opts).map_err(|e| CliError::msg(e.to_string()))?;
    bar.finish_and_clear();
    if a.json {
        print_json(&summary)?;
    } else {
        output::out(&format!(
            "synth: {} persons in {} households, {} entities, {} 低保 households\n       {} pipelines · {} files · {} rows · {} MB · {} mentions in truth/\nproject: {}\nnext: civhub run --project {}",
            thousands(summary.persons as u64),
            thousands(summary.households as u64),
            thousands(summary.entities as u64),
            thousands(summary.dibao_households as u64),
            summary.pipelines.len(),
            thousands(summary.files as u64),
            thousands(summary.rows),
            summary.bytes / 1_000_000,
            thousands(summary.mentions),
            summary.out.display(),
            a.out.display()
        ));
    }
    Ok(ExitCode::SUCCESS)
}
