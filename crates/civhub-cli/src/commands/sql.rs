//! `civhub sql`: query the published tables and the catalog.

use crate::CliError;
use crate::args::{Global, SqlArgs, SqlFormat};
use civhub_serve::audit::{Audit, Entry};
use civhub_warehouse::session::{self, AsOf, SqlError, SqlSession, open};
use datafusion::arrow::record_batch::RecordBatch;
use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;
use std::sync::Arc;

pub fn run(g: &Global, a: SqlArgs) -> Result<ExitCode, CliError> {
    let project = super::load(g)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::msg(e.to_string()))?;
    let as_of = a.as_of.as_deref().map(AsOf::parse).unwrap_or(AsOf::Latest);
    let session = rt
        .block_on(open(&project.warehouse, &as_of))
        .map_err(sql_error)?;
    let (hub, local) = match &a.as_user {
        Some(name) => (Some(as_user(&project, name)?), None),
        None => (None, Some(local_operator(&project)?)),
    };
    let session = Target {
        session,
        hub,
        local,
        as_of,
    };
    if a.format == SqlFormat::Parquet && a.output.is_none() {
        return Err(CliError::with_hint(
            "--format parquet needs --output FILE",
            "e.g. `--format parquet --output persons.parquet`",
        ));
    }
    match &a.query {
        Some(q) => {
            run_one(&rt, &session, q, &a)?;
            Ok(ExitCode::SUCCESS)
        }
        None if std::io::stdin().is_terminal() => shell(&rt, &session, &project, &a),
        None => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| CliError::msg(e.to_string()))?;
            for q in split_statements(&text) {
                run_one(&rt, &session, &q, &a)?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn sql_error(e: SqlError) -> CliError {
    match e {
        SqlError::NothingPublished => CliError::with_hint(
            "nothing is published yet",
            "run `civhub run` (or `civhub publish` after ingest and match)",
        ),
        SqlError::NoRelease(what) => CliError::with_hint(
            format!("no release {what}"),
            "`SELECT release, published_at FROM catalog.versions GROUP BY 1, 2` lists them",
        ),
        SqlError::Refused(m) => CliError::msg(format!("refused: {m}")),
        SqlError::Denied(m) => CliError::msg(format!("permission denied: {m}")),
        SqlError::Engine(e) => CliError::msg(e.to_string()),
    }
}

/// Splits text into statements on `;` outside quotes.
fn split_statements(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c2) if c2 == q => quote = None,
            (None, ';') => {
                if !cur.trim().is_empty() {
                    out.push(cur.trim().to_string());
                }
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// What statements run against: the release, and with `--as-user` that
/// user's view of it (masked, only readable tables, audited by the hub).
/// Without `--as-user`, statements run in the plain session and are audited
/// as the local operator's.
pub struct Target {
    session: SqlSession,
    hub: Option<(civhub_serve::Hub, civhub_serve::Principal)>,
    local: Option<(Arc<Audit>, civhub_serve::Principal)>,
    as_of: AsOf,
}

/// The audit log of the project's warehouse and the local operator, for
/// whoever runs the CLI without `--as-user` (`civhub sql`, `civhub person`,
/// `civhub check`): what they run is audited as every served query is.
pub(super) fn local_operator(
    project: &civhub_ingest::config::Project,
) -> Result<(Arc<Audit>, civhub_serve::Principal), CliError> {
    let audit = Audit::open(&project.warehouse).map_err(|e| {
        CliError::with_hint(
            format!(
                "cannot open the audit log `{}`: {e}",
                project.warehouse.join("audit/audit.jsonl").display()
            ),
            "every query, lookup and check run is recorded there; the warehouse must be writable",
        )
    })?;
    Ok((audit, civhub_serve::Principal::local_operator()))
}

/// The hub and principal of `--as-user NAME`.
fn as_user(
    project: &civhub_ingest::config::Project,
    name: &str,
) -> Result<(civhub_serve::Hub, civhub_serve::Principal), CliError> {
    let users = civhub_serve::users::load(project).map_err(CliError::msg)?;
    let Some(user) = users.iter().find(|u| u.name == name).cloned() else {
        let names: Vec<&str> = users.iter().map(|u| u.name.as_str()).collect();
        return Err(CliError::Message {
            message: format!("no user `{name}` in access/users.toml"),
            hint: civhub_ingest::config::diag::hint_for(name, &names).or_else(|| {
                Some("add one with `civhub user add NAME --department D --role R`".into())
            }),
        });
    };
    let policy = civhub_serve::policy::load(project).map_err(CliError::Config)?;
    let hub = civhub_serve::Hub::new(&project.warehouse, policy)
        .map_err(|e| CliError::msg(format!("cannot open the audit log: {e}")))?;
    let who = civhub_serve::Principal {
        user,
        interface: "cli".into(),
        client: "local".into(),
    };
    Ok((hub, who))
}

fn access_error(e: civhub_serve::AccessError) -> CliError {
    match e {
        civhub_serve::AccessError::Sql(e) => sql_error(e),
        other => CliError::msg(other.to_string()),
    }
}

fn run_one(rt: &tokio::runtime::Runtime, s: &Target, q: &str, a: &SqlArgs) -> Result<(), CliError> {
    let t0 = std::time::Instant::now();
    let batches: Vec<RecordBatch> = match &s.hub {
        None => {
            let result = rt.block_on(async {
                s.session
                    .query(q)
                    .await?
                    .collect()
                    .await
                    .map_err(SqlError::Engine)
            });
            if let Some((audit, who)) = &s.local {
                let rows = result
                    .as_ref()
                    .map(|b| b.iter().map(|b| b.num_rows() as u64).sum())
                    .unwrap_or(0);
                audit.record(&Entry::new(
                    who,
                    "query",
                    q,
                    session::tables_in(q),
                    rows,
                    result.as_ref().err().map(ToString::to_string),
                    t0,
                ));
            }
            result.map_err(sql_error)?
        }
        Some((hub, who)) => rt
            .block_on(hub.query(who, q, &s.as_of))
            .map_err(access_error)?,
    };
    if a.timing {
        eprintln!("Time: {:.3} ms", t0.elapsed().as_secs_f64() * 1000.0);
    }
    write(&batches, a.format, a.output.as_deref())
}

/// Writes query results in a format, to a file or stdout.
pub fn write(
    batches: &[RecordBatch],
    format: SqlFormat,
    output: Option<&std::path::Path>,
) -> Result<(), CliError> {
    let io = |e: std::io::Error| CliError::msg(format!("cannot write the result: {e}"));
    if format == SqlFormat::Parquet {
        let Some(path) = output else {
            return Err(CliError::msg("--format parquet needs --output FILE"));
        };
        let Some(b0) = batches.first() else {
            return Ok(());
        };
        let file = std::fs::File::create(path).map_err(io)?;
        let pe = |e: parquet::errors::ParquetError| {
            CliError::msg(format!("cannot write the result: {e}"))
        };
        let mut w = parquet::arrow::ArrowWriter::try_new(file, b0.schema(), None).map_err(pe)?;
        for b in batches {
            w.write(b).map_err(pe)?;
        }
        w.close().map_err(pe)?;
        return Ok(());
    }
    let mut sink: Box<dyn Write> = match output {
        Some(p) => Box::new(std::io::BufWriter::new(
            fs_err::File::create(p).map_err(io)?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let ae = |e: datafusion::arrow::error::ArrowError| {
        CliError::msg(format!("cannot write the result: {e}"))
    };
    match format {
        SqlFormat::Table => {
            let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
            if !batches.is_empty() && batches[0].num_columns() > 0 {
                let t =
                    datafusion::arrow::util::pretty::pretty_format_batches(batches).map_err(ae)?;
                let _ = writeln!(sink, "{t}");
            }
            let _ = writeln!(sink, "({rows} row{})", if rows == 1 { "" } else { "s" });
        }
        SqlFormat::Csv => {
            let mut w = datafusion::arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(&mut sink);
            for b in batches {
                w.write(b).map_err(ae)?;
            }
        }
        SqlFormat::Json => {
            let mut w = datafusion::arrow::json::ArrayWriter::new(&mut sink);
            for b in batches {
                w.write(b).map_err(ae)?;
            }
            w.finish().map_err(ae)?;
            drop(w);
            let _ = writeln!(sink);
        }
        SqlFormat::Parquet => {}
    }
    sink.flush().map_err(io)
}

const HELP: &str = "Statements end with `;`. Commands: \\dt lists tables, \\d TABLE describes one, \\timing turns statement timing on or off, \\h this help, \\q quits.
Read-only: queries, EXPLAIN, SHOW TABLES, SHOW COLUMNS, DESCRIBE. civhub's functions are available (SHOW FUNCTIONS).";

fn shell(
    rt: &tokio::runtime::Runtime,
    s: &Target,
    project: &civhub_ingest::config::Project,
    a: &SqlArgs,
) -> Result<ExitCode, CliError> {
    // `\timing` toggles `--timing` for the rest of the session, as in psql.
    let mut a = a.clone();
    let mut ed = rustyline::DefaultEditor::new().map_err(|e| CliError::msg(e.to_string()))?;
    let history = project.warehouse.join(".sql_history");
    let _ = ed.load_history(&history);
    eprintln!(
        "civhub sql · release {} ({}) · {} tables · \\h for help, \\q to quit",
        s.session.release.number,
        s.session.release.published_at,
        s.session.release.tables.len() - s.session.restricted.len()
    );
    let mut buf = String::new();
    loop {
        let prompt = if buf.is_empty() {
            "civhub> "
        } else {
            "   ...> "
        };
        let line = match ed.readline(prompt) {
            Ok(l) => l,
            Err(rustyline::error::ReadlineError::Interrupted) => {
                buf.clear();
                continue;
            }
            Err(_) => break,
        };
        let t = line.trim();
        if buf.is_empty() && t.starts_with('\\') {
            let _ = ed.add_history_entry(t);
            let q = match t.split_whitespace().collect::<Vec<_>>().as_slice() {
                ["\\q"] => break,
                ["\\timing"] => {
                    a.timing = !a.timing;
                    eprintln!("Timing is {}.", if a.timing { "on" } else { "off" });
                    continue;
                }
                ["\\h"] | ["\\?"] => {
                    println!("{HELP}");
                    continue;
                }
                ["\\dt"] => "SELECT table_schema AS schema, table_name AS name FROM information_schema.tables WHERE table_schema NOT IN ('information_schema') ORDER BY 1, 2".to_string(),
                ["\\d", name] => format!("DESCRIBE {name}"),
                _ => {
                    eprintln!("unknown command `{t}` (\\h for help)");
                    continue;
                }
            };
            if let Err(e) = run_one(
                rt,
                s,
                &q,
                &SqlArgs {
                    format: crate::args::SqlFormat::Table,
                    output: None,
                    ..a.clone()
                },
            ) {
                report(e);
            }
            continue;
        }
        buf.push_str(&line);
        buf.push('\n');
        if !t.ends_with(';') {
            continue;
        }
        let _ = ed.add_history_entry(buf.trim());
        for q in split_statements(&buf) {
            if let Err(e) = run_one(rt, s, &q, &a) {
                report(e);
            }
        }
        buf.clear();
    }
    let _ = ed.save_history(&history);
    Ok(ExitCode::SUCCESS)
}

fn report(e: CliError) {
    if let CliError::Message { message, hint } = e {
        eprintln!("error: {message}");
        if let Some(h) = hint {
            eprintln!("  hint: {h}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::split_statements;

    #[test]
    fn statements_split_outside_quotes() {
        assert_eq!(
            split_statements("SELECT ';'; SELECT 2;"),
            vec!["SELECT ';'", "SELECT 2"]
        );
    }
}
