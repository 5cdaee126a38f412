//! The nodes the run compared, rebuilt for two mentions: a mention alone
//! (the kind's `loose` expressions), or the deterministic cluster it sits in
//! (modal values of its mentions and the cluster expressions, exactly as
//! `resolve::build_nodes` builds them).

use crate::kinds::KindSpec;
use crate::lookup::{Mention, tables};
use crate::resolve::cluster_nodes_sql;
use crate::sql::lit;
use datafusion::prelude::SessionContext;

/// A mention as a loose node.
pub(super) fn loose_sql(k: &KindSpec, mention_id: &str) -> String {
    let cols: Vec<String> = k
        .nodes
        .iter()
        .map(|c| format!("CAST({} AS {}) AS {}", c.loose, c.ty, c.name))
        .collect();
    format!(
        "SELECT mention_id AS node_id, false AS is_cluster, CAST(1 AS BIGINT) AS size, \
         CASE WHEN {valid}({raw}) THEN {raw} END AS id_key, {} FROM {} WHERE mention_id = {}",
        cols.join(", "),
        tables::MENTIONS,
        lit(mention_id),
        valid = k.valid_fn,
        raw = k.raw,
    )
}

/// The node the run compared a mention as: its deterministic cluster (built
/// as `resolve::build_nodes` builds clusters), or itself.
pub(super) async fn node_sql(
    ctx: &SessionContext,
    k: &KindSpec,
    m: &Mention,
) -> datafusion::error::Result<String> {
    if m.node_id == m.mention_id {
        return Ok(loose_sql(k, &m.mention_id));
    }
    cluster_nodes_sql(
        ctx,
        k,
        &format!("node_id = {} AND node_id <> mention_id", lit(&m.node_id)),
        ", cl.id AS id_key",
    )
    .await
}
