//! The one session builder: every DataFusion session civhub runs is made here.
//!
//! A session is DataFusion's defaults plus what civhub adds — today its SQL
//! functions and the `information_schema` (so `SHOW FUNCTIONS` and
//! `information_schema.routines` describe them); later the warehouse's tables
//! and the access rules. Building every session in one place means a query
//! run by the CLI, a check or the PostgreSQL server sees the same functions
//! and the same rules.

use std::num::NonZeroUsize;

use datafusion::execution::context::SessionConfig;
use datafusion::prelude::SessionContext;

use crate::functions;

/// How a session runs; every field left `None` keeps DataFusion's default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionSettings {
    /// How many partitions a plan is split into (DataFusion's default: the
    /// number of CPU cores).
    pub target_partitions: Option<NonZeroUsize>,
    /// Rows per record batch (DataFusion's default: 8192).
    pub batch_size: Option<NonZeroUsize>,
}

/// A new DataFusion session with every civhub function registered.
pub fn new_context(settings: SessionSettings) -> SessionContext {
    let mut config = SessionConfig::new().with_information_schema(true);
    if let Some(n) = settings.target_partitions {
        config = config.with_target_partitions(n.get());
    }
    if let Some(n) = settings.batch_size {
        config = config.with_batch_size(n.get());
    }
    let ctx = SessionContext::new_with_config(config);
    for udf in functions::all() {
        ctx.register_udf(udf);
    }
    ctx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_function_is_registered() {
        let ctx = new_context(SessionSettings::default());
        let state = ctx.state();
        for udf in functions::all() {
            assert!(
                state.scalar_functions().contains_key(udf.name()),
                "`{}` is not registered",
                udf.name()
            );
        }
    }

    #[test]
    fn settings_reach_the_config() {
        let settings = SessionSettings {
            target_partitions: NonZeroUsize::new(3),
            batch_size: NonZeroUsize::new(100),
        };
        let ctx = new_context(settings);
        let options = ctx.state().config().options().clone();
        assert_eq!(options.execution.target_partitions, 3);
        assert_eq!(options.execution.batch_size.get(), 100);
    }

    #[test]
    fn function_names_are_unique() {
        let mut names: Vec<String> = functions::all()
            .iter()
            .map(|f| f.name().to_string())
            .collect();
        let count = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), count);
    }
}
