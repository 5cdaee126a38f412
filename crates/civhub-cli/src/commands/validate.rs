//! `civhub validate`: check the configuration without running it.

use super::{print_json, project_root};
use crate::CliError;
use crate::args::{Global, ValidateArgs};
use civhub_ingest::config::load_project;
use std::process::ExitCode;

pub fn run(g: &Global, a: ValidateArgs) -> Result<ExitCode, CliError> {
    let root = project_root(g)?;
    match load_project(&root, None)
        .and_then(|p| civhub_mdm::settings::load_all(&p).map(|_| p))
        .and_then(|p| civhub_warehouse::config::load_bases(&p).map(|_| p))
    {
        Ok(p) => {
            if a.json {
                print_json(
                    &serde_json::json!({ "ok": true, "problems": [], "schemas": p.schemas.len(), "departments": p.departments.len(), "pipelines": p.pipelines.len() }),
                )?;
            } else {
                crate::output::out(&format!(
                    "ok: {} schemas, {} departments, {} pipelines",
                    p.schemas.len(),
                    p.departments.len(),
                    p.pipelines.len()
                ));
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(problems) if a.json => {
            print_json(&serde_json::json!({ "ok": false, "problems": problems.problems }))?;
            Ok(ExitCode::from(crate::EXIT_USAGE))
        }
        Err(problems) => Err(CliError::Config(problems)),
    }
}
