//! `civhub person` and `civhub entity`: the 360° view of a golden record.
//! Each lookup is audited as the local operator's (`action = 'lookup'`).

use super::{load, print_json};
use crate::CliError;
use crate::args::{Global, LookupArgs};
use crate::output;
use civhub_mdm::lookup::{self, Found, LookupError, Run};
use civhub_mdm::settings::Kind;
use civhub_serve::audit::Entry;
use std::collections::BTreeSet;
use std::process::ExitCode;

/// What a lookup found: the view of one record, or the candidates.
enum Answer {
    One(Box<lookup::View>),
    Several(Found),
}

pub fn run(g: &Global, a: LookupArgs, kind: Kind) -> Result<ExitCode, CliError> {
    let project = load(g)?;
    let (audit, who) = super::sql::local_operator(&project)?;
    let rt = runtime()?;
    let t0 = std::time::Instant::now();
    let answer = rt.block_on(async {
        let run = Run::open(&project, kind).await?;
        Ok::<_, LookupError>(match lookup::find(&project, &run, &a.query).await? {
            Found::One { gid } => Answer::One(Box::new(lookup::view(&project, &run, &gid).await?)),
            several => Answer::Several(several),
        })
    });
    // The matching results read, and the staged records of every mention shown.
    let k = kind.as_str();
    let mut tables: BTreeSet<String> = [
        format!("civhub.mdm.{k}_golden"),
        format!("civhub.mdm.{k}_xref"),
    ]
    .into_iter()
    .collect();
    let rows = match &answer {
        Ok(Answer::One(v)) => {
            tables.extend(
                v.departments
                    .iter()
                    .flat_map(|d| &d.mentions)
                    .filter(|m| m.withheld.is_none())
                    .map(|m| format!("staging.{}", m.mention.pipeline)),
            );
            1
        }
        Ok(Answer::Several(Found::Several { candidates, .. })) => candidates.len() as u64,
        Ok(Answer::Several(_)) => 0,
        Err(_) => 0,
    };
    audit.record(&Entry::new(
        &who,
        "lookup",
        &format!("{k} {}", a.query),
        tables.into_iter().collect(),
        rows,
        answer.as_ref().err().map(ToString::to_string),
        t0,
    ));
    match answer.map_err(lookup_error)? {
        Answer::One(v) => {
            if a.json {
                print_json(&v)?;
            } else {
                output::out(&output::golden_view(&v));
            }
        }
        Answer::Several(several) => {
            if a.json {
                print_json(&several)?;
            } else if let Found::Several {
                read_as,
                candidates,
            } = &several
            {
                output::out(&output::candidates(kind, &a.query, read_as, candidates));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A runtime for the lookups (small queries: two workers are plenty).
pub(super) fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::msg(e.to_string()))
}

/// A lookup error as the CLI shows it: the message and its hint.
pub(super) fn lookup_error(e: LookupError) -> CliError {
    CliError::Message {
        message: e.to_string(),
        hint: e.hint(),
    }
}
