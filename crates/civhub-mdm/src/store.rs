//! Where matching's results live: `warehouse/mdm/<kind>/<run>/…`, with
//! `warehouse/mdm/<kind>/current.json` naming the last complete run.
//!
//! A run writes every table into a new folder and then replaces
//! `current.json` atomically, so a reader sees the previous results or the
//! new ones, never a mix; older folders are removed afterwards.

use crate::settings::Kind;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Tables of a matching run. The mentions as built from the staged
/// datasets; each one's node and contradiction come from [`CONTRA`] (see
/// [`mentions_view_sql`]). Runs before that file existed stored the two
/// columns in the mentions themselves; [`mentions_table`] reads both.
pub const MENTIONS: &str = "mentions.parquet";
/// Mentions whose identifier was contradicted: `mention_id`, `ident`,
/// `reasons`.
pub const CONTRA: &str = "contra.parquet";
/// Mention → golden id.
pub const XREF: &str = "xref.parquet";
/// Golden records.
pub const GOLDEN: &str = "golden.parquet";
/// Pairs waiting for review.
pub const REVIEW: &str = "review.parquet";
/// Merges, splits, retirements.
pub const HISTORY: &str = "history.parquet";
/// The trained model.
pub const MODEL: &str = "model.json";
/// Term frequencies the run weighed exact agreements with.
pub const TERM_FREQUENCIES: &str = "tf.parquet";

/// `current.json`: the last complete run of a kind.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Current {
    /// Run id (also the folder name).
    pub run_id: String,
    /// When it finished (RFC 3339).
    pub finished_at: String,
    /// The summary of that run.
    pub report: serde_json::Value,
    /// Hash of the decisions file the run honoured (a change needs a full run).
    #[serde(default)]
    pub decisions_hash: u64,
    /// Hash of everything the run read (staged datasets, settings, review
    /// decisions; [`crate::digest::inputs_hash`]): `civhub match` over the
    /// same inputs makes no new run. 0 for runs written before it existed.
    #[serde(default)]
    pub inputs_hash: u64,
    /// Digests of what the run produced, so publish can tell which tables'
    /// content changed; `None` for runs written before they existed.
    #[serde(default)]
    pub digests: Option<Digests>,
}

/// Order-independent digests of a run's results (`<rows>:<xor of row
/// hashes>`, see [`crate::digest`]): equal digests mean equal tables,
/// whichever run wrote them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digests {
    /// Every column of `xref.parquet`.
    pub xref: String,
    /// Every column of `golden.parquet`.
    pub golden: String,
    /// Every column of `history.parquet`.
    pub history: String,
    /// Every column of `review.parquet`.
    pub review: String,
    /// Per dataset (pipeline id): its mentions' (role, source position,
    /// record key) → golden id assignments, what its enriched view joins on.
    pub datasets: BTreeMap<String, String>,
}

impl Digests {
    /// The digest of a matching table (`xref`, `golden`, …), if kept.
    pub fn table(&self, name: &str) -> Option<&str> {
        match name {
            "xref" => Some(&self.xref),
            "golden" => Some(&self.golden),
            "history" => Some(&self.history),
            "review" => Some(&self.review),
            _ => None,
        }
    }
}

/// The folder of a kind.
pub fn kind_dir(warehouse: &Path, kind: Kind) -> PathBuf {
    warehouse.join("mdm").join(kind.as_str())
}

/// The last complete run of a kind, if any.
pub fn current(warehouse: &Path, kind: Kind) -> Option<(Current, PathBuf)> {
    let dir = kind_dir(warehouse, kind);
    let text = fs_err::read_to_string(dir.join("current.json")).ok()?;
    let c: Current = serde_json::from_str(&text).ok()?;
    let run_dir = dir.join(&c.run_id);
    Some((c, run_dir))
}

/// Replaces `current.json` of a kind (atomically), leaving run folders alone.
pub fn rewrite(warehouse: &Path, kind: Kind, current: &Current) -> std::io::Result<()> {
    let dir = kind_dir(warehouse, kind);
    let tmp = dir.join("current.json.tmp");
    fs_err::write(
        &tmp,
        serde_json::to_string_pretty(current).map_err(std::io::Error::other)?,
    )?;
    fs_err::rename(&tmp, dir.join("current.json"))
}

/// Makes `run_id` current and removes older run folders.
pub fn commit(warehouse: &Path, kind: Kind, current: &Current) -> std::io::Result<()> {
    rewrite(warehouse, kind, current)?;
    let dir = kind_dir(warehouse, kind);
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if e.path().is_dir() && name != current.run_id {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    Ok(())
}

/// The SQL of a run's mentions with their node and contradiction (the table
/// matching calls `mx`), over the stored mentions `mentions` and the
/// contradicted ones `contra`: a mention with a valid identifier that is not
/// contradicted sits in the node `c<identifier>` (the deterministic
/// cluster), any other mention is its own node. Contradictions are few, so
/// the join builds on them and streams the mentions; the mentions are
/// written once, not once more with these two columns.
pub fn mentions_view_sql(kind: Kind, mentions: &str, contra: &str) -> String {
    let id = crate::kinds::spec(kind).id;
    format!(
        "SELECT m.*, CASE WHEN m.{id} IS NOT NULL AND c.mention_id IS NULL THEN concat('c', m.{id}) ELSE m.mention_id END AS node_id, \
         c.reasons AS contradiction FROM {contra} c RIGHT JOIN {mentions} m ON c.mention_id = m.mention_id"
    )
}

/// The condition, over the columns of [`mentions_view_sql`], that a mention
/// sits in its identifier's cluster (its `node_id` is `c<identifier>`, never
/// a mention id): it has one and nothing contradicts it (a contradicted
/// mention's `reasons` are never NULL). Filtering on it needs no node ids
/// built.
pub fn in_cluster_sql(kind: Kind) -> String {
    let id = crate::kinds::spec(kind).id;
    format!("{id} IS NOT NULL AND contradiction IS NULL")
}

/// The mentions of the run in `dir` with their node and contradiction, as
/// one table (a view over [`MENTIONS`] and [`CONTRA`]; the stored file
/// itself for runs that kept the two columns in it).
pub async fn mentions_table(
    ctx: &datafusion::prelude::SessionContext,
    kind: Kind,
    dir: &Path,
) -> datafusion::error::Result<std::sync::Arc<dyn datafusion::catalog::TableProvider>> {
    use crate::sql::register_parquet;
    const M: &str = "__civhub_stored_mentions";
    const C: &str = "__civhub_stored_contra";
    register_parquet(ctx, M, &dir.join(MENTIONS)).await?;
    let stored_nodes = ctx
        .table(M)
        .await?
        .schema()
        .has_column_with_unqualified_name("node_id");
    if stored_nodes {
        return ctx.deregister_table(M)?.ok_or_else(|| {
            datafusion::error::DataFusionError::Internal("mentions not registered".into())
        });
    }
    let contra = dir.join(CONTRA);
    if !contra.is_file() {
        ctx.deregister_table(M)?;
        return Err(datafusion::error::DataFusionError::Execution(format!(
            "`{}` is missing (the run's contradicted mentions)",
            contra.display()
        )));
    }
    register_parquet(ctx, C, &contra).await?;
    let view = ctx.sql(&mentions_view_sql(kind, M, C)).await?.into_view();
    ctx.deregister_table(M)?;
    ctx.deregister_table(C)?;
    Ok(view)
}
