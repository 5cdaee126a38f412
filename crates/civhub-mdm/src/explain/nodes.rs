//! The nodes the run compared, rebuilt for two mentions: a mention alone
//! (the kind's `loose` expressions), or the deterministic cluster it sits in
//! (modal values of its mentions and the cluster expressions, exactly as
//! `resolve::build_nodes` builds them).

use crate::kinds::KindSpec;
use crate::lookup::{Mention, tables};
use crate::resolve::{cluster_expr, modal_columns, modal_sql};
use crate::sql::lit;

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

/// The node the run compared a mention as: its deterministic cluster, or itself.
pub(super) fn node_sql(k: &KindSpec, m: &Mention) -> String {
    if m.node_id == m.mention_id {
        return loose_sql(k, &m.mention_id);
    }
    // As `resolve::build_nodes` builds clusters: modal values of the
    // cluster's mentions, the cluster expressions over its identifier.
    let id = k.id;
    let modal = modal_columns(k);
    let mut ctes = vec![
        format!(
            "ok AS (SELECT * FROM {} WHERE node_id = {} AND node_id <> mention_id)",
            tables::MENTIONS,
            lit(&m.node_id)
        ),
        format!("cl AS (SELECT {id} AS id, count(*) AS size FROM ok GROUP BY {id})"),
    ];
    for c in &modal {
        ctes.push(format!("mo_{c} AS ({})", modal_sql("ok", id, c)));
    }
    let cols: Vec<String> = k
        .nodes
        .iter()
        .map(|c| {
            format!(
                "CAST({} AS {}) AS {}",
                cluster_expr(c.cluster),
                c.ty,
                c.name
            )
        })
        .collect();
    let joins: Vec<String> = modal
        .iter()
        .map(|c| format!("LEFT JOIN mo_{c} ON mo_{c}.g = cl.id"))
        .collect();
    format!(
        "WITH {} SELECT concat('c', cl.id) AS node_id, true AS is_cluster, cl.size, cl.id AS id_key, {} FROM cl {}",
        ctes.join(", "),
        cols.join(", "),
        joins.join(" ")
    )
}
