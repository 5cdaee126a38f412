//! The output folder as a ready-to-run project: `civhub.toml`, the bundled
//! schemas and pipelines (embedded at compile time), and a marker file that
//! lets a later `civhub synth` replace the folder without asking.

use crate::error::SynthError;
use include_dir::{Dir, include_dir};
use std::path::Path;

static SCHEMAS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../../schemas");
static PIPELINES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../../pipelines");
static PUBLISH: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../../publish");
static ACCESS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../../access");
static PROJECT: &str = include_str!("../../../civhub.toml");

/// The marker file written into every synth output.
pub const MARKER: &str = ".civhub-synth";

/// Makes `out` an empty folder: creates it, or clears a previous synth
/// output; refuses a non-empty folder without the marker.
pub fn prepare(out: &Path) -> Result<(), SynthError> {
    if out.exists() {
        let mut entries = fs_err::read_dir(out)?.peekable();
        if entries.peek().is_some() {
            if !out.join(MARKER).is_file() {
                return Err(SynthError::NotEmpty(out.to_path_buf()));
            }
            for e in fs_err::read_dir(out)? {
                let e = e?;
                let path = e.path();
                if e.file_type()?.is_dir() {
                    fs_err::remove_dir_all(&path)?;
                } else {
                    fs_err::remove_file(&path)?;
                }
            }
        }
    } else {
        fs_err::create_dir_all(out)?;
    }
    Ok(())
}

/// The project file of a synth output: the bundled one, reading exports from `exports/`.
pub fn project_file() -> String {
    let mut out = String::new();
    let mut replaced = false;
    for line in PROJECT.lines() {
        if line.trim_start().starts_with("exports") && line.contains('=') {
            out.push_str("exports = \"exports\"");
            replaced = true;
        } else if line.starts_with("# The bundled civhub project") {
            out.push_str("# A project made by `civhub synth`: synthetic exports of Huangshan's departments in exports/,");
            out.push('\n');
            out.push_str("# the ground truth of who is who (and which 低保 households are ineligible) in truth/.");
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    if !replaced {
        out = out.replacen("[paths]\n", "[paths]\nexports = \"exports\"\n", 1);
    }
    out
}

fn write_dir(dir: &Dir<'_>, base: &Path) -> Result<usize, SynthError> {
    let mut n = 0;
    for f in dir.files() {
        let path = base.join(f.path());
        if let Some(parent) = path.parent() {
            fs_err::create_dir_all(parent)?;
        }
        fs_err::write(&path, f.contents())?;
        n += 1;
    }
    for d in dir.dirs() {
        n += write_dir(d, base)?;
    }
    Ok(n)
}

/// Writes `civhub.toml`, `schemas/`, `pipelines/` (with the match settings
/// and checks), `publish/` (the base databases) and `access/` (the sharing
/// policy; no users) into `out`: everything `civhub run`, `civhub check` and
/// `civhub serve` read besides the exports.
pub fn write_config(out: &Path) -> Result<usize, SynthError> {
    fs_err::write(out.join("civhub.toml"), project_file())?;
    let mut n = 0;
    for (dir, name) in [
        (&SCHEMAS, "schemas"),
        (&PIPELINES, "pipelines"),
        (&PUBLISH, "publish"),
        (&ACCESS, "access"),
    ] {
        let base = out.join(name);
        fs_err::create_dir_all(&base)?;
        n += write_dir(dir, &base)?;
    }
    Ok(n)
}

/// Writes the marker (last, so an interrupted run is still recognised as ours).
pub fn write_marker(out: &Path, persons: usize, seed: u64) -> Result<(), SynthError> {
    fs_err::write(
        out.join(MARKER),
        format!(
            "civhub synth {}\npersons = {persons}\nseed = {seed}\n",
            env!("CARGO_PKG_VERSION")
        ),
    )?;
    Ok(())
}

/// Writes the marker at the start too, so that a failed run can be replaced.
pub fn claim(out: &Path) -> Result<(), SynthError> {
    fs_err::write(out.join(MARKER), "civhub synth (incomplete)\n")?;
    Ok(())
}
