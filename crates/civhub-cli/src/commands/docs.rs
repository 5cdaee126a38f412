//! `civhub docs --out DIR`: the catalog as a static HTML site.

use super::catalog::{browse_error, open_catalog};
use super::{load, print_json};
use crate::CliError;
use crate::args::{DocsArgs, Global};
use crate::output;
use civhub_warehouse::site::{self, SiteError};
use std::process::ExitCode;

pub fn run(g: &Global, a: DocsArgs) -> Result<ExitCode, CliError> {
    let project = load(g)?;
    let catalog = open_catalog(&project, a.as_of.as_deref())?;
    if a.out.is_file() {
        return Err(CliError::with_hint(
            format!("`{}` is a file", a.out.display()),
            "pass a folder to `--out` (it is created if missing)",
        ));
    }
    let report = site::write_site(&catalog, &a.out).map_err(|e| match e {
        SiteError::Catalog(e) => browse_error(e),
        e @ SiteError::Io(_) => {
            CliError::with_hint(e.to_string(), "check that the `--out` folder is writable")
        }
    })?;
    if a.json {
        print_json(&report)?;
    } else {
        output::out(&format!(
            "wrote {} pages ({} datasets, release {}) to {}\nopen {}",
            report.pages,
            report.datasets,
            report.release,
            report.out.display(),
            report.out.join("index.html").display()
        ));
    }
    Ok(ExitCode::SUCCESS)
}
