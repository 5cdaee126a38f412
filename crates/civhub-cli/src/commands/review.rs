//! `civhub review`: the pairs matching left for a person — list, show, decide.
//!
//! Audited as the local operator's: listing the queue and showing a pair
//! (`action = 'lookup'`: both mentions' values are shown) and each decision
//! (`action = 'review'`).

use super::matching::load_settings;
use super::person::{lookup_error, runtime};
use super::{load, print_json};
use crate::CliError;
use crate::args::{Global, ReviewAction, ReviewArgs};
use crate::output;
use civhub_ingest::config::Project;
use civhub_mdm::lookup::{self, ReviewItem, Run};
use civhub_mdm::settings::{Kind, Settings};
use civhub_serve::Principal;
use civhub_serve::audit::{Audit, Entry};
use std::collections::HashMap;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

/// Where `civhub review` records what the operator looked at and decided.
struct Trail {
    audit: Arc<Audit>,
    who: Principal,
    kind: Kind,
}

impl Trail {
    /// One entry: `review <kind> <what>`, reading the run's review queue
    /// and mentions; `rows` counts when `result` is a success.
    fn record<T>(
        &self,
        action: &str,
        what: &str,
        result: &Result<T, CliError>,
        rows: u64,
        t0: Instant,
    ) {
        let k = self.kind.as_str();
        let message = result.as_ref().err().map(|e| match e {
            CliError::Message { message, .. } => message.clone(),
            CliError::Config(_) => "the project configuration has problems".to_string(),
        });
        self.audit.record(&Entry::new(
            &self.who,
            action,
            format!("review {k} {what}").trim_end(),
            vec![
                format!("civhub.mdm.{k}_review"),
                format!("civhub.mdm.{k}_mentions"),
            ],
            if message.is_some() { 0 } else { rows },
            message,
            t0,
        ));
    }
}

pub fn run(g: &Global, a: ReviewArgs) -> Result<ExitCode, CliError> {
    let project = load(g)?;
    let kind: Kind = a.kind.into();
    let (audit, who) = super::sql::local_operator(&project)?;
    let trail = Trail { audit, who, kind };
    let rt = runtime()?;
    let t0 = Instant::now();
    match a.action {
        None => rt.block_on(list(&project, &trail, a.json, a.list)),
        Some(ReviewAction::Show { n }) => {
            let settings = load_settings(&project)?;
            let shown = rt.block_on(show(&project, &settings, kind, n, a.json));
            trail.record("lookup", &format!("show {n}"), &shown, 2, t0);
            shown
        }
        Some(ReviewAction::Decide {
            a: ma,
            b: mb,
            decision,
            note,
            by,
        }) => {
            let by = by
                .or_else(|| std::env::var("USER").ok())
                .or_else(|| std::env::var("USERNAME").ok())
                .unwrap_or_default();
            let decided = rt
                .block_on(lookup::decide(
                    &project,
                    &ma,
                    &mb,
                    decision.as_str(),
                    &by,
                    &note,
                ))
                .map_err(lookup_error);
            let what = format!("decide {ma} {mb} {}", decision.as_str());
            trail.record("review", &what, &decided, 1, t0);
            let (kind, d) = decided?;
            let path = civhub_mdm::review::path(&project.root, kind);
            if a.json {
                print_json(&serde_json::json!({
                    "kind": kind,
                    "decision": d,
                    "file": path,
                }))?;
            } else {
                output::out(&output::decided(&project.root, kind, &d, &path));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn queue(project: &Project, kind: Kind) -> Result<(Run, Vec<ReviewItem>), CliError> {
    let run = Run::open(project, kind).await.map_err(lookup_error)?;
    let items = lookup::pending(project, &run).await.map_err(lookup_error)?;
    Ok((run, items))
}

async fn list(
    project: &Project,
    trail: &Trail,
    json: bool,
    only_list: bool,
) -> Result<ExitCode, CliError> {
    let kind = trail.kind;
    let t0 = Instant::now();
    let queued = queue(project, kind).await;
    let listed = queued.as_ref().map_or(0, |(_, items)| items.len() as u64);
    trail.record("lookup", "", &queued, listed, t0);
    let (run, items) = queued?;
    // The other kind's queue, for a hint.
    let other = match kind {
        Kind::Person => Kind::Entity,
        Kind::Entity => Kind::Person,
    };
    let other_waiting = match Run::open(project, other).await {
        Ok(r) => lookup::pending(project, &r)
            .await
            .map(|v| v.len())
            .unwrap_or(0),
        Err(_) => 0,
    };
    if json {
        print_json(&serde_json::json!({
            "kind": kind,
            "run_id": run.current.run_id,
            "pending": items,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    output::out(&output::review_list(
        kind,
        &run.current.run_id,
        &items,
        other,
        other_waiting,
    ));
    let interactive = !only_list
        && !items.is_empty()
        && std::io::stdin().is_terminal()
        && std::io::stdout().is_terminal();
    if interactive {
        let settings = load_settings(project)?;
        walk(project, trail, &run, &settings, &items).await?;
    }
    Ok(ExitCode::SUCCESS)
}

async fn show(
    project: &Project,
    settings: &HashMap<Kind, Settings>,
    kind: Kind,
    n: usize,
    json: bool,
) -> Result<ExitCode, CliError> {
    let (run, items) = queue(project, kind).await?;
    let Some(item) = n.checked_sub(1).and_then(|i| items.get(i)) else {
        return Err(CliError::with_hint(
            if items.is_empty() {
                format!("the {} review queue is empty", kind.as_str())
            } else {
                format!(
                    "no pair #{n}: the {} review queue holds {} pair{}",
                    kind.as_str(),
                    items.len(),
                    if items.len() == 1 { "" } else { "s" }
                )
            },
            format!("`civhub review --kind {}` lists them", kind.as_str()),
        ));
    };
    let Some(s) = settings.get(&kind) else {
        return Err(CliError::with_hint(
            format!("no {} matching settings", kind.as_str()),
            format!("add pipelines/match/{}.toml", kind.as_str()),
        ));
    };
    let e = civhub_mdm::explain::explain_in(project, &run, s, &item.mention_a, &item.mention_b)
        .await
        .map_err(lookup_error)?;
    if json {
        print_json(&serde_json::json!({ "pair": item, "explanation": e }))?;
    } else {
        output::out(&output::review_pair(item, items.len(), &e));
    }
    Ok(ExitCode::SUCCESS)
}

/// Walks the queue in a terminal: [s]ame / [d]ifferent / [k] skip / [q]uit.
async fn walk(
    project: &Project,
    trail: &Trail,
    run: &Run,
    settings: &HashMap<Kind, Settings>,
    items: &[ReviewItem],
) -> Result<(), CliError> {
    let Some(s) = settings.get(&run.kind) else {
        return Ok(());
    };
    let by = std::env::var("USER").unwrap_or_default();
    let stdin = std::io::stdin();
    let mut decided = 0;
    for (i, item) in items.iter().enumerate() {
        let t0 = Instant::now();
        let shown =
            civhub_mdm::explain::explain_in(project, run, s, &item.mention_a, &item.mention_b)
                .await
                .map_err(lookup_error);
        trail.record("lookup", &format!("show {}", i + 1), &shown, 2, t0);
        let e = shown?;
        output::out(&format!("\n{}", output::review_pair(item, items.len(), &e)));
        let answer = loop {
            print!("[s]ame / [d]ifferent / [k] skip / [q]uit: ");
            let _ = std::io::stdout().flush();
            let mut line = String::new();
            if stdin.lock().read_line(&mut line).unwrap_or(0) == 0 {
                break "q".to_string();
            }
            let l = line.trim().to_lowercase();
            if ["s", "d", "k", "q"].contains(&l.as_str()) {
                break l;
            }
        };
        let decision = match answer.as_str() {
            "s" => "same",
            "d" => "different",
            "k" => continue,
            _ => break,
        };
        let t0 = Instant::now();
        let result = lookup::decide(project, &item.mention_a, &item.mention_b, decision, &by, "")
            .await
            .map_err(lookup_error);
        let what = format!("decide {} {} {decision}", item.mention_a, item.mention_b);
        trail.record("review", &what, &result, 1, t0);
        match result {
            Ok((kind, d)) => {
                decided += 1;
                let path = civhub_mdm::review::path(&project.root, kind);
                output::out(&output::decided(&project.root, kind, &d, &path));
            }
            Err(CliError::Message { message, hint }) => {
                eprintln!("error: {message}");
                if let Some(h) = hint {
                    eprintln!("  hint: {h}");
                }
            }
            Err(e) => return Err(e),
        }
    }
    if decided > 0 {
        output::out(&format!(
            "{decided} decision{} recorded · run `civhub match` to apply them",
            if decided == 1 { "" } else { "s" }
        ));
    }
    Ok(())
}
