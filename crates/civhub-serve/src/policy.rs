//! `access/policy.toml`: roles (which PII classes each sees in clear),
//! grants of 有条件共享 datasets (to roles and departments, each with its
//! condition) and limits. A project without the file gets the bundled one.

use civhub_ingest::config::Project;
use civhub_ingest::config::diag::{ConfigProblems, SourceFile, file_problem};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The bundled policy, used when a project has none.
pub const DEFAULT_POLICY: &str = include_str!("../../../access/policy.toml");

/// A role.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Role {
    /// What the role is for.
    #[serde(default)]
    pub description: String,
    /// PII classes shown in clear (`*`: all).
    #[serde(default)]
    pub pii: Vec<String>,
    /// Reads every published table regardless of sharing type.
    #[serde(default)]
    pub all_tables: bool,
    /// Reads the audit log.
    #[serde(default)]
    pub audit: bool,
    /// Columns shown in clear whatever their PII class, as
    /// `schema.table.column` (the table part may end in `*`): a clearance
    /// for one column where clearing the whole class would show far more.
    #[serde(default)]
    pub columns: Vec<String>,
}

impl Role {
    /// Whether values of `class` are shown in clear.
    pub fn cleared(&self, class: &str) -> bool {
        class == "none" || self.pii.iter().any(|p| p == "*" || p == class)
    }

    /// Whether column `column` of `table`, of PII class `class`, is shown in clear.
    pub fn cleared_column(&self, table: &str, column: &str, class: &str) -> bool {
        self.cleared(class)
            || self.columns.iter().any(|p| {
                p.rsplit_once('.')
                    .is_some_and(|(t, c)| c == column && matches(t, table))
            })
    }
}

/// A grant of 有条件共享 datasets.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Grant {
    /// Datasets, `schema.table` or `schema.*` / `schema.prefix_*`.
    pub datasets: Vec<String>,
    /// Roles granted (any, if empty and departments are given).
    #[serde(default)]
    pub roles: Vec<String>,
    /// Departments granted (any, if empty).
    #[serde(default)]
    pub departments: Vec<String>,
    /// The condition the data is shared on.
    pub condition: String,
}

impl Grant {
    /// Whether the grant covers `dataset` for a user of `role` in `department`.
    pub fn covers(&self, dataset: &str, role: &str, department: &str) -> bool {
        let who = (self.roles.is_empty() || self.roles.iter().any(|r| r == role))
            && (self.departments.is_empty() || self.departments.iter().any(|d| d == department));
        who && self.datasets.iter().any(|p| matches(p, dataset))
    }
}

/// `*` at the end of a pattern matches any rest.
pub fn matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

/// Limits on what one query or the server may use.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Limits {
    /// Rows one query may return.
    #[serde(default = "default_rows")]
    pub max_rows: usize,
    /// Seconds one query may run.
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
    /// Concurrent connections or requests.
    #[serde(default = "default_connections")]
    pub max_connections: usize,
    /// Queries executing at once, on the query runtime (0: four per CPU
    /// core); the others wait their turn, within `timeout-seconds`.
    #[serde(default)]
    pub running_queries: usize,
}

fn default_rows() -> usize {
    100_000
}
fn default_timeout() -> u64 {
    60
}
fn default_connections() -> usize {
    64
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_rows: default_rows(),
            timeout_seconds: default_timeout(),
            max_connections: default_connections(),
            running_queries: 0,
        }
    }
}

/// The policy file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Policy {
    /// Roles by name.
    pub roles: BTreeMap<String, Role>,
    /// Grants.
    #[serde(default)]
    pub grants: Vec<Grant>,
    /// Limits.
    #[serde(default)]
    pub limits: Limits,
}

/// Where a project's policy lives.
pub fn path(project: &Project) -> PathBuf {
    project.root.join("access").join("policy.toml")
}

/// Reads the project's policy (or the bundled one), checked: every grant's
/// roles exist and its departments are the project's.
pub fn load(project: &Project) -> Result<Policy, ConfigProblems> {
    let p = path(project);
    let text = fs_err::read_to_string(&p).unwrap_or_else(|_| DEFAULT_POLICY.to_string());
    let src = SourceFile::new(&project.root, &p, text);
    let mut problems = ConfigProblems::default();
    let policy: Policy = match toml::from_str(&src.text) {
        Ok(x) => x,
        Err(e) => {
            problems.push(src.toml_problem(&e));
            return Err(problems);
        }
    };
    for (name, role) in &policy.roles {
        for c in &role.columns {
            if c.matches('.').count() < 2 || c.ends_with('.') || c.ends_with('*') {
                problems.push(file_problem(
                    &project.root,
                    &p,
                    format!("roles.{name}.columns names `{c}`, which is not `schema.table.column`"),
                    Some(
                        "e.g. `civil_affairs.elderly_card.photo_ref` or `license.*.photo_ref`"
                            .into(),
                    ),
                ));
            }
        }
    }
    for (i, g) in policy.grants.iter().enumerate() {
        for r in &g.roles {
            if !policy.roles.contains_key(r) {
                problems.push(file_problem(
                    &project.root,
                    &p,
                    format!("grants[{i}] names role `{r}`, which [roles] does not declare"),
                    Some(format!(
                        "roles: {}",
                        policy.roles.keys().cloned().collect::<Vec<_>>().join(", ")
                    )),
                ));
            }
        }
        for d in &g.departments {
            if !project.departments.contains_key(d) {
                problems.push(file_problem(
                    &project.root,
                    &p,
                    format!(
                        "grants[{i}] names department `{d}`, which civhub.toml does not declare"
                    ),
                    None,
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(policy)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_policy_parses_and_grants_match() {
        let p: Policy = toml::from_str(DEFAULT_POLICY).unwrap();
        assert!(p.roles["admin"].cleared("id_number"));
        assert!(!p.roles["analyst"].cleared("name"));
        assert!(p.roles["analyst"].cleared("none"));
        let g = &p.grants[0];
        assert!(g.covers("civil_affairs.dibao_member", "caseworker", "civil_affairs"));
        assert!(!g.covers("civil_affairs.dibao_member", "caseworker", "housing"));
        assert!(!g.covers("civil_affairs.dibao_member", "analyst", "civil_affairs"));
        assert!(matches("checks.dibao_*", "checks.dibao_findings"));
        assert!(!matches(
            "public_security.vehicle",
            "public_security.vehicle_transfer"
        ));
        // The 老年证 photo: in clear for caseworkers, not the class `other`.
        let cw = &p.roles["caseworker"];
        assert!(!cw.cleared("other"));
        assert!(cw.cleared_column("civil_affairs.elderly_card", "photo_ref", "other"));
        assert!(!cw.cleared_column("civil_affairs.elderly_card", "photo", "other"));
        assert!(!cw.cleared_column("public_security.vehicle", "plate_no", "other"));
        assert!(!p.roles["analyst"].cleared_column(
            "civil_affairs.elderly_card",
            "photo_ref",
            "other"
        ));
    }
}
