//! `civhub user`: the unified user list (access/users.toml).

use super::{load, print_json};
use crate::CliError;
use crate::args::{Global, UserAction, UserArgs};
use crate::output;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

pub fn run(g: &Global, a: UserArgs) -> Result<ExitCode, CliError> {
    let project = load(g)?;
    match a.action {
        UserAction::Add {
            name,
            department,
            role,
        } => {
            if !project.departments.contains_key(&department) {
                let ids: Vec<&str> = project.departments.keys().map(String::as_str).collect();
                return Err(CliError::Message {
                    message: format!("no department `{department}` in civhub.toml"),
                    hint: civhub_ingest::config::diag::hint_for(&department, &ids),
                });
            }
            let policy = civhub_serve::policy::load(&project).map_err(CliError::Config)?;
            if !policy.roles.contains_key(&role) {
                return Err(CliError::with_hint(
                    format!("no role `{role}` in access/policy.toml"),
                    format!(
                        "roles: {}",
                        policy.roles.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            let password = read_password(&name)?;
            let path = civhub_serve::users::add(&project, &name, &department, &role, &password)
                .map_err(CliError::msg)?;
            output::out(&format!(
                "user `{name}` ({department}, {role}) saved in {} (password stored as an Argon2id hash)",
                path.display()
            ));
            Ok(ExitCode::SUCCESS)
        }
        UserAction::List { json } => {
            let users = civhub_serve::users::load(&project).map_err(CliError::msg)?;
            if json {
                let v: Vec<_> = users
                    .iter()
                    .map(|u| serde_json::json!({"name": u.name, "department": u.department, "role": u.role}))
                    .collect();
                print_json(&v)?;
            } else if users.is_empty() {
                output::out("no users yet: `civhub user add NAME --department D --role R`");
            } else {
                let mut s = format!("{:<16} {:<24} role\n", "name", "department");
                for u in &users {
                    s.push_str(&format!("{:<16} {:<24} {}\n", u.name, u.department, u.role));
                }
                output::out(s.trim_end());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The password: the first line of stdin when it is not a terminal, else
/// asked for twice on the terminal (echoed: civhub has no raw-mode input).
fn read_password(name: &str) -> Result<String, CliError> {
    let stdin = std::io::stdin();
    let read_line = || -> Result<String, CliError> {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .map_err(|e| CliError::msg(format!("cannot read the password: {e}")))?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    };
    if !stdin.is_terminal() {
        return read_line();
    }
    eprint!("password for {name}: ");
    let _ = std::io::stderr().flush();
    let first = read_line()?;
    eprint!("again: ");
    let _ = std::io::stderr().flush();
    if read_line()? != first {
        return Err(CliError::msg("the two passwords differ"));
    }
    Ok(first)
}
