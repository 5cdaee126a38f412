//! `civhub serve`: the PostgreSQL-wire endpoint and the HTTP API over one
//! [`civhub_serve::Hub`], until Ctrl-C or SIGTERM.

use super::load;
use crate::CliError;
use crate::args::{Global, ServeArgs};
use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// How long requests in flight may take to finish after a shutdown signal.
const GRACE: Duration = Duration::from_secs(30);

pub fn run(g: &Global, a: ServeArgs) -> Result<ExitCode, CliError> {
    let project = load(g)?;
    let policy = civhub_serve::policy::load(&project).map_err(CliError::Config)?;
    let users = civhub_serve::users::load(&project).map_err(CliError::msg)?;
    if users.is_empty() {
        return Err(CliError::with_hint(
            "no users: nobody could log in",
            "add one with `civhub user add NAME --department D --role R`",
        ));
    }
    if civhub_warehouse::release::current(&project.warehouse).is_none() {
        return Err(CliError::with_hint(
            "nothing is published yet, so there is nothing to serve",
            "run `civhub run` (or `civhub publish` after ingest and match)",
        ));
    }
    let hub = civhub_serve::Hub::new(&project.warehouse, policy)
        .map_err(|e| CliError::msg(format!("cannot open the audit log: {e}")))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::msg(e.to_string()))?;
    rt.block_on(serve(Arc::new(hub), Arc::new(users), Arc::new(project), a))
}

async fn bind(addr: SocketAddr, flag: &str) -> Result<TcpListener, CliError> {
    let l = TcpListener::bind(addr).await.map_err(|e| {
        CliError::with_hint(
            format!("cannot listen on `{addr}`: {e}"),
            format!("choose another address with `{flag}` (port 0 picks a free one)"),
        )
    })?;
    if !addr.ip().is_loopback() {
        tracing::warn!("listening on `{addr}`, beyond this machine: put TLS in front of it");
    }
    Ok(l)
}

async fn serve(
    hub: Arc<civhub_serve::Hub>,
    users: Arc<Vec<civhub_serve::users::User>>,
    project: Arc<civhub_ingest::config::Project>,
    a: ServeArgs,
) -> Result<ExitCode, CliError> {
    let pg = bind(a.pg_addr, "--pg-addr").await?;
    let http = bind(a.http_addr, "--http-addr").await?;
    let io = |e: std::io::Error| CliError::msg(e.to_string());
    // The bound addresses, so callers that asked for port 0 learn the ports.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "postgresql  postgresql://{}",
        pg.local_addr().map_err(io)?
    );
    let _ = writeln!(out, "http        http://{}", http.local_addr().map_err(io)?);
    let _ = out.flush();
    drop(out);
    let (tx, rx) = tokio::sync::watch::channel(false);
    let mut pg_task = tokio::spawn(civhub_serve::pg::serve(
        hub.clone(),
        users.clone(),
        pg,
        rx.clone(),
    ));
    let mut http_task = tokio::spawn(civhub_serve::http::serve(hub, users, project, http, rx));
    tracing::info!("serving; Ctrl-C or SIGTERM stops");
    let early = tokio::select! {
        _ = signal() => None,
        r = &mut pg_task => Some(("PostgreSQL", r)),
        r = &mut http_task => Some(("HTTP", r)),
    };
    let _ = tx.send(true);
    if let Some((which, r)) = early {
        let why = match r {
            Ok(Ok(())) => "stopped".to_string(),
            Ok(Err(e)) => e.to_string(),
            Err(e) => e.to_string(),
        };
        return Err(CliError::msg(format!("the {which} endpoint ended: {why}")));
    }
    eprintln!("shutting down: letting requests in flight finish");
    let both = async {
        let (p, h) = tokio::join!(pg_task, http_task);
        for (which, r) in [("PostgreSQL", p), ("HTTP", h)] {
            match r {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!("the {which} endpoint: {e}"),
                Err(e) => tracing::error!("the {which} endpoint: {e}"),
            }
        }
    };
    if tokio::time::timeout(GRACE, both).await.is_err() {
        eprintln!("gave up waiting after {} s", GRACE.as_secs());
    }
    eprintln!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C, or SIGTERM (what `kill` and service managers send).
async fn signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
