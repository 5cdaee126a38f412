//! The audit log (电子监察): every query, lookup and check run — who, when,
//! from where, the statement, the tables touched, rows returned, allowed or
//! refused — appended as one JSON line to `<warehouse>/audit/audit.jsonl`
//! (opened append-only, flushed per entry, so it survives restarts and
//! crashes). Only roles with `audit = true` can read it, as `audit.log`.
//!
//! Every interface writes it through [`Audit::record`]: the served ones
//! (pgwire, HTTP) and `civhub sql --as-user` for their users, and the local
//! CLI — `civhub sql` without `--as-user`, `civhub person` / `entity`,
//! `civhub check` — for the operating-system user running it, recorded as
//! the [`LOCAL_OPERATOR`] role with interface `cli` and client `local`
//! ([`crate::Principal::local_operator`]).

use crate::access::Principal;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The role recorded for whoever runs civhub's CLI on the machine itself
/// (not a user of `access/users.toml`: the local operator reads what the
/// plain `civhub sql` session holds).
pub const LOCAL_OPERATOR: &str = "local-operator";

/// One audited action.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// When (RFC 3339, UTC, milliseconds).
    pub at: String,
    /// User name (`-` when authentication failed before a name was known).
    pub user: String,
    /// The user's department.
    pub department: String,
    /// The user's role.
    pub role: String,
    /// cli, pgwire or http.
    pub interface: String,
    /// Client address (or `local`).
    pub client: String,
    /// query, lookup, check, login.
    pub action: String,
    /// The statement or request.
    pub statement: String,
    /// Tables the statement names.
    pub tables: Vec<String>,
    /// Rows returned.
    pub rows: u64,
    /// Whether it ran.
    pub allowed: bool,
    /// Why it was refused or failed.
    pub message: Option<String>,
    /// Milliseconds.
    pub duration_ms: u64,
}

impl Entry {
    /// An entry for `who`, timed from `t0`; `message` says why it was
    /// refused or failed (`None`: it ran, `allowed`).
    pub fn new(
        who: &Principal,
        action: &str,
        statement: &str,
        tables: Vec<String>,
        rows: u64,
        message: Option<String>,
        t0: Instant,
    ) -> Entry {
        Entry {
            at: now(),
            user: who.user.name.clone(),
            department: who.user.department.clone(),
            role: who.user.role.clone(),
            interface: who.interface.clone(),
            client: who.client.clone(),
            action: action.into(),
            statement: statement.into(),
            tables,
            rows,
            allowed: message.is_none(),
            message,
            duration_ms: t0.elapsed().as_millis() as u64,
        }
    }
}

/// The append-only log.
#[derive(Debug)]
pub struct Audit {
    path: PathBuf,
    file: Mutex<std::fs::File>,
}

impl Audit {
    /// Opens (creating) the log of `warehouse`.
    pub fn open(warehouse: &Path) -> std::io::Result<Arc<Audit>> {
        let dir = warehouse.join("audit");
        fs_err::create_dir_all(&dir)?;
        let path = dir.join("audit.jsonl");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        Ok(Arc::new(Audit {
            path,
            file: Mutex::new(file),
        }))
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends an entry. A failure to write is logged, never ignored silently.
    pub fn record(&self, e: &Entry) {
        let Ok(mut line) = serde_json::to_string(e) else {
            return;
        };
        line.push('\n');
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(err) = f.write_all(line.as_bytes()).and_then(|_| f.flush()) {
            tracing::error!("cannot write the audit log {}: {err}", self.path.display());
        }
    }
}

/// The schema of `audit.log`.
pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("at", DataType::Utf8, true),
        Field::new("user", DataType::Utf8, true),
        Field::new("department", DataType::Utf8, true),
        Field::new("role", DataType::Utf8, true),
        Field::new("interface", DataType::Utf8, true),
        Field::new("client", DataType::Utf8, true),
        Field::new("action", DataType::Utf8, true),
        Field::new("statement", DataType::Utf8, true),
        Field::new(
            "tables",
            DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
            true,
        ),
        Field::new("rows", DataType::Int64, true),
        Field::new("allowed", DataType::Boolean, true),
        Field::new("message", DataType::Utf8, true),
        Field::new("duration_ms", DataType::Int64, true),
    ]))
}

/// The operating-system user running this process: `$USER`, else
/// `$LOGNAME`, else `uid N` (the owner of `/proc/self`), else `unknown`.
pub fn os_user() -> String {
    for var in ["USER", "LOGNAME"] {
        if let Ok(v) = std::env::var(var)
            && !v.trim().is_empty()
        {
            return v.trim().to_string();
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let Ok(m) = std::fs::metadata("/proc/self") {
            return format!("uid {}", m.uid());
        }
    }
    "unknown".into()
}

/// Now, as the log writes it.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// How a check run is named in the audit log, whichever interface ran it:
/// `check <id>[ explain][ district=…][ household=…]`.
pub fn check_statement(
    check: &str,
    explain: bool,
    district: Option<&str>,
    household: Option<&str>,
) -> String {
    let mut s = format!("check {check}");
    if explain {
        s.push_str(" explain");
    }
    if let Some(d) = district {
        s.push_str(&format!(" district={d}"));
    }
    if let Some(h) = household {
        s.push_str(&format!(" household={h}"));
    }
    s
}
