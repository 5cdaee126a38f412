//! Errors of the generator.

use std::path::PathBuf;

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// The output folder holds something that is not a previous synth output.
    #[error("`{}` is not empty and was not made by `civhub synth`; refusing to overwrite it", .0.display())]
    NotEmpty(PathBuf),
    /// A file could not be read or written.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A file could not be written.
    #[error("cannot write `{}`: {reason}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The bundled project configuration does not load (a bug in the bundled files).
    #[error("the bundled project configuration does not load:\n{0}")]
    Config(String),
    /// A pipeline cannot be generated for.
    #[error("pipeline `{pipeline}`: {reason}")]
    Pipeline {
        /// Pipeline id.
        pipeline: String,
        /// What is wrong.
        reason: String,
    },
    /// Nothing to generate.
    #[error("--persons must be at least {min}, found {found}")]
    TooFew {
        /// The minimum.
        min: usize,
        /// What was asked.
        found: usize,
    },
}

impl SynthError {
    /// An I/O error on `path`.
    pub fn io(path: &std::path::Path, e: std::io::Error) -> Self {
        SynthError::Write {
            path: path.to_path_buf(),
            reason: e.to_string(),
        }
    }

    /// The hint a user needs to fix it.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            SynthError::NotEmpty(_) => {
                Some("choose an empty or new folder, or a folder a previous `civhub synth` wrote")
            }
            SynthError::TooFew { .. } => Some("a city needs some people: try `--persons 300`"),
            _ => None,
        }
    }
}
