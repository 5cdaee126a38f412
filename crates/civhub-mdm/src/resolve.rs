//! Resolving one kind of mention: the relational steps as DataFusion SQL
//! (mentions, the deterministic pass, nodes, blocking, comparison vectors,
//! term frequencies, random pairs), the model and the clustering in Rust.

use crate::cluster::{Clustering, Link, cluster};
use crate::em::{self, ComparisonModel, LevelModel, Model, Pattern};
use crate::kinds::{KindSpec, spec};
use crate::settings::{Kind, Settings};
use crate::sql::{collect, lit, materialize};
use arrow::array::{Array, AsArray};
use datafusion::error::{DataFusionError, Result};
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use std::collections::HashMap;

/// Default cap on the nodes sharing one blocking key value.
pub const DEFAULT_MAX_GROUP: usize = 1000;

/// What resolving produced, for the id assignment and the outputs.
pub struct Resolution {
    /// Node ids, by index.
    pub node_ids: Vec<String>,
    /// The valid identifier of cluster nodes.
    pub ident: Vec<Option<String>>,
    /// Clustering of the nodes.
    pub clustering: Clustering,
    /// The model used.
    pub model: Model,
    /// Mentions.
    pub mentions: u64,
    /// Mentions whose identifier was contradicted.
    pub contradictions: u64,
    /// Candidate pairs compared.
    pub pairs: u64,
    /// Sum of match probabilities of the links made (for the quality estimate).
    pub linked_probability: f64,
    /// Sum of match probabilities of candidate pairs left unlinked.
    pub unlinked_probability: f64,
    /// Whether the model was trained in this run.
    pub trained: bool,
}

/// The most frequent value of mention column `col` in a `GROUP BY`, ties
/// to the smallest: the survivor aggregate with the one rule "most frequent"
/// (see [`crate::survive`]), cast back to the column's type `ty` (an Arrow
/// type name, as `arrow_cast` takes it). One aggregation for every modal
/// column, where a count per value and a window per column took three.
pub fn modal_expr(col: &str, ty: &str) -> String {
    format!(
        "arrow_cast(split_part({}(CAST({col} AS VARCHAR), CAST(0 AS BIGINT), CAST(0 AS BIGINT), ''), chr(31), 1), {})",
        crate::survive::survivor_name(&[crate::settings::SurvivorRule::MostFrequent]),
        lit(ty)
    )
}

/// The Arrow type name of each of `cols` in `table`, for [`modal_expr`].
pub(crate) async fn column_types(
    ctx: &SessionContext,
    table: &str,
    cols: &[&str],
) -> Result<Vec<String>> {
    let t = ctx.table(table).await?;
    cols.iter()
        .map(|c| {
            Ok(t.schema()
                .field_with_unqualified_name(c)?
                .data_type()
                .to_string())
        })
        .collect()
}

/// Mention columns a kind's cluster expressions take modal values of.
pub fn modal_columns(k: &KindSpec) -> Vec<String> {
    let re = regex::Regex::new(r"modal:([a-z_0-9]+)").expect("valid regex");
    let mut v: Vec<String> = Vec::new();
    for c in k.nodes {
        for cap in re.captures_iter(c.cluster) {
            let name = cap[1].to_string();
            if !v.contains(&name) {
                v.push(name);
            }
        }
    }
    v
}

/// A node column's cluster expression in SQL: `modal:x` is the cluster's
/// modal value `cl.mo_x`, `id` the cluster's identifier `cl.id`.
pub fn cluster_expr(expr: &str) -> String {
    let re = regex::Regex::new(r"modal:([a-z_0-9]+)").expect("valid regex");
    let e = re.replace_all(expr, "cl.mo_$1").into_owned();
    let id = regex::Regex::new(r"\bid\b").expect("valid regex");
    id.replace_all(&e, "cl.id").into_owned()
}

/// The SQL of deterministic clusters as nodes, over the mentions table `mx`
/// (registered on `ctx`): the mentions `WHERE {ok}` grouped by identifier,
/// each node column from the kind's cluster expression over the modal values
/// and the identifier. `extra` adds columns after `size` (", cl.id AS …").
/// Matching and `civhub explain` both build cluster nodes with this, so an
/// explanation compares exactly what the run compared.
pub async fn cluster_nodes_sql(
    ctx: &SessionContext,
    k: &KindSpec,
    ok: &str,
    extra: &str,
) -> Result<String> {
    ctx.register_udaf(crate::survive::survivor(&[
        crate::settings::SurvivorRule::MostFrequent,
    ]));
    let id = k.id;
    let modal = modal_columns(k);
    let modal_refs: Vec<&str> = modal.iter().map(String::as_str).collect();
    let types = column_types(ctx, "mx", &modal_refs).await?;
    let modes: String = modal
        .iter()
        .zip(&types)
        .map(|(c, ty)| format!(", {} AS mo_{c}", modal_expr(c, ty)))
        .collect();
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
    Ok(format!(
        "WITH ok AS (SELECT * FROM mx WHERE {ok}), \
         cl AS (SELECT {id} AS id, count(*) AS size, min(mention_id) AS anchor{modes} FROM ok GROUP BY {id}) \
         SELECT concat('c', cl.id) AS node_id, true AS is_cluster, cl.size{extra}, {} FROM cl",
        cols.join(", ")
    ))
}

/// The SQL CASE giving one comparison's level, over `l.*` and `r.*`.
pub fn level_case(c: &crate::settings::Comparison) -> String {
    let mut s = format!("CASE WHEN {} THEN -1", c.null.get_ref());
    let last = c.levels.len() - 1;
    for (i, l) in c.levels.iter().enumerate() {
        if l.sql.get_ref().trim().eq_ignore_ascii_case("else") {
            s.push_str(&format!(" ELSE {i}"));
        } else {
            s.push_str(&format!(" WHEN {} THEN {i}", l.sql.get_ref()));
        }
        if i == last && !l.sql.get_ref().trim().eq_ignore_ascii_case("else") {
            s.push_str(&format!(" ELSE {last}"));
        }
    }
    s.push_str(" END");
    format!("CAST({s} AS TINYINT)")
}

/// Builds the mentions table (`mx`: `dir/mentions.parquet`, written once and
/// read from there, so millions of mentions never sit in memory, with each
/// mention's node and contradiction from `dir/contra.parquet`, see
/// [`crate::store::mentions_view_sql`]) and the nodes table (`nodes`) of a
/// kind.
pub async fn build_nodes(
    ctx: &SessionContext,
    kind: Kind,
    mentions_sql: &str,
    settings: &Settings,
    dir: &std::path::Path,
) -> Result<(u64, u64)> {
    let k = spec(kind);
    let derived: Vec<String> = k
        .derived
        .iter()
        .map(|(n, e)| format!("{e} AS {n}"))
        .collect();
    let stored = dir.join(crate::store::MENTIONS);
    crate::sql::write_parquet(
        ctx,
        &format!("SELECT u.*, {} FROM ({mentions_sql}) u", derived.join(", ")),
        &stored,
    )
    .await?;
    crate::sql::register_parquet(ctx, "mentions", &stored).await?;

    // The deterministic pass: what contradicts a shared identifier.
    ctx.register_udaf(crate::survive::survivor(&[
        crate::settings::SurvivorRule::MostFrequent,
    ]));
    let id = k.id;
    let types = column_types(ctx, "mentions", k.contradiction_modal).await?;
    let modes: Vec<String> = k
        .contradiction_modal
        .iter()
        .zip(&types)
        .map(|(c, ty)| format!("{} AS {c}", modal_expr(c, ty)))
        .collect();
    // Only identifiers whose mentions disagree on a modal column need its
    // modal value: where every mention has the same value (or none), no
    // mention differs from it and a missing `mo` row decides the same.
    // `min <> max` is a cheap native aggregate; the modal one then runs over
    // the few disagreeing identifiers instead of all of them.
    let differ: Vec<String> = k
        .contradiction_modal
        .iter()
        .map(|c| format!("min({c}) <> max({c})"))
        .collect();
    let ctes = [
        format!("v AS (SELECT * FROM mentions WHERE {id} IS NOT NULL)"),
        format!(
            "dis AS (SELECT {id} AS id FROM v GROUP BY {id} HAVING {})",
            differ.join(" OR ")
        ),
        format!(
            "mo AS (SELECT v.{id} AS id, {} FROM v JOIN dis ON v.{id} = dis.id GROUP BY v.{id})",
            modes.join(", ")
        ),
    ];
    let name_min = settings.file.deterministic.name_min_similarity;
    let conds: Vec<(String, &str)> = k
        .contradictions
        .iter()
        .map(|(r, c)| {
            (
                format!("({})", c.replace("{name_min}", &name_min.to_string())),
                *r,
            )
        })
        .collect();
    let reasons: Vec<String> = conds
        .iter()
        .map(|(c, r)| format!("CASE WHEN {c} THEN {} END", lit(r)))
        .collect();
    let any: Vec<String> = conds
        .iter()
        .map(|(c, _)| format!("coalesce({c}, false)"))
        .collect();
    materialize(
        ctx,
        "contra",
        &format!(
            "WITH {} SELECT v.mention_id, v.{id} AS ident, concat_ws('; ', {}) AS reasons FROM v LEFT JOIN mo ON v.{id} = mo.id WHERE {}",
            ctes.join(", "),
            reasons.join(", "),
            any.join(" OR ")
        ),
    )
    .await?;
    crate::sql::write_parquet(ctx, "SELECT * FROM contra", &dir.join(crate::store::CONTRA)).await?;
    // Counted from the files' metadata (the view below has one row per mention).
    let counts = collect(
        ctx,
        "SELECT (SELECT count(*) FROM mentions) AS m, (SELECT count(*) FROM contra) AS c",
    )
    .await?;
    let b = &counts[0];
    let m = crate::sql::int64(b.column(0))?.value(0) as u64;
    let c = crate::sql::int64(b.column(1))?.value(0) as u64;
    let mx = ctx
        .sql(&crate::store::mentions_view_sql(kind, "mentions", "contra"))
        .await?
        .into_view();
    let _ = ctx.deregister_table("mx")?;
    ctx.register_table("mx", mx)?;
    ctx.deregister_table("mentions")?;

    // Nodes: one per cluster of the deterministic pass, one per mention left
    // over; `anchor` is a node's smallest mention id (how review pairs and
    // golden ids name it).
    let clustered = crate::store::in_cluster_sql(kind);
    let clusters = cluster_nodes_sql(ctx, k, &clustered, ", cl.anchor").await?;
    let loose_cols: Vec<String> = k
        .nodes
        .iter()
        .map(|c| format!("CAST({} AS {}) AS {}", c.loose, c.ty, c.name))
        .collect();
    materialize(
        ctx,
        "nodes",
        &format!(
            "{clusters} UNION ALL SELECT mention_id AS node_id, false AS is_cluster, CAST(1 AS BIGINT) AS size, mention_id AS anchor, {} FROM mx WHERE NOT ({clustered})",
            loose_cols.join(", ")
        ),
    )
    .await?;
    let raw = k.raw;
    materialize(
        ctx,
        "node_keys",
        &format!(
            "SELECT node_id, {id} AS id_key FROM nodes WHERE is_cluster \
             UNION ALL SELECT node_id, {raw} AS id_key FROM nodes WHERE NOT is_cluster AND {raw} IS NOT NULL AND {valid}({raw}) \
             UNION ALL SELECT node_id, unnest({cand}({raw})) AS id_key FROM nodes WHERE NOT is_cluster AND {raw} IS NOT NULL AND NOT {valid}({raw})",
            valid = k.valid_fn,
            cand = k.candidates_fn
        ),
    )
    .await?;
    Ok((m, c))
}

/// The candidate pairs of every blocking rule, without duplicates: `pairs`.
pub async fn block(ctx: &SessionContext, settings: &Settings) -> Result<u64> {
    let mut selects = Vec::new();
    for (i, rule) in settings.file.blocking.iter().enumerate() {
        let cols: Vec<&str> = rule.on.iter().map(|c| c.get_ref().as_str()).collect();
        let uses_key = cols.contains(&"id_key");
        let src = if uses_key {
            "(SELECT n.*, k.id_key FROM node_keys k JOIN nodes n ON k.node_id = n.node_id)"
                .to_string()
        } else {
            "nodes".to_string()
        };
        let not_null: Vec<String> = cols.iter().map(|c| format!("{c} IS NOT NULL")).collect();
        let list = cols.join(", ");
        let max = rule.max_group.unwrap_or(DEFAULT_MAX_GROUP);
        let side = format!(
            "(SELECT s.node_id, s.is_cluster, {sel} FROM {src} s JOIN (SELECT {list} FROM {src} t WHERE {nn} GROUP BY {list} HAVING count(*) BETWEEN 2 AND {max}) g ON {on})",
            sel = cols
                .iter()
                .map(|c| format!("s.{c}"))
                .collect::<Vec<_>>()
                .join(", "),
            nn = not_null.join(" AND "),
            on = cols
                .iter()
                .map(|c| format!("s.{c} = g.{c}"))
                .collect::<Vec<_>>()
                .join(" AND "),
        );
        let on: Vec<String> = cols.iter().map(|c| format!("l.{c} = r.{c}")).collect();
        selects.push(format!(
            "SELECT l.node_id AS l_id, r.node_id AS r_id, {i} AS rule FROM {side} l JOIN {side} r ON {} WHERE l.node_id < r.node_id AND NOT (l.is_cluster AND r.is_cluster)",
            on.join(" AND ")
        ));
    }
    materialize(
        ctx,
        "pairs",
        &format!(
            "SELECT l_id, r_id, min(rule) AS rule FROM ({}) GROUP BY l_id, r_id",
            selects.join(" UNION ALL ")
        ),
    )
    .await?;
    let b = collect(ctx, "SELECT count(*) FROM pairs").await?;
    Ok(crate::sql::int64(b[0].column(0))?.value(0) as u64)
}

pub fn gamma_list(settings: &Settings) -> Vec<String> {
    settings
        .file
        .comparisons
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{} AS g{i}", level_case(c)))
        .collect()
}

/// Term-frequency columns: for each comparison, the tf column of its tf level (if any).
pub fn tf_columns(settings: &Settings) -> Vec<Option<(usize, String)>> {
    settings
        .file
        .comparisons
        .iter()
        .map(|c| {
            c.levels
                .iter()
                .enumerate()
                .find_map(|(i, l)| l.term_frequency.as_ref().map(|t| (i, t.get_ref().clone())))
        })
        .collect()
}

fn patterns_of(
    batches: &[arrow::record_batch::RecordBatch],
    k: usize,
) -> Result<Vec<(Pattern, u64)>> {
    let mut out = Vec::new();
    for b in batches {
        let count = &crate::sql::int64(b.column(k))?;
        for row in 0..b.num_rows() {
            let p: Pattern = (0..k)
                .map(|j| {
                    b.column(j)
                        .as_primitive::<arrow::datatypes::Int8Type>()
                        .value(row)
                })
                .collect();
            out.push((p, count.value(row) as u64));
        }
    }
    // The engine returns groups in no fixed order; sorted, the model's sums
    // are added in one order and the same data gives bit-identical weights.
    out.sort_unstable();
    Ok(out)
}

/// Estimates the model: u from random pairs of nodes, m and λ by EM over the candidate pairs.
pub async fn train(ctx: &SessionContext, settings: &Settings) -> Result<Model> {
    let k = settings.file.comparisons.len();
    let g = gamma_list(settings);
    let cols: Vec<String> = (0..k).map(|i| format!("g{i}")).collect();
    let n = settings.file.training.u_sample_nodes.max(2);
    let random = collect(
        ctx,
        &format!(
            "WITH s AS (SELECT * FROM nodes ORDER BY md5(concat(node_id, 'civhub')) LIMIT {n}) \
             SELECT {cols}, count(*) AS c FROM (SELECT {g} FROM s l JOIN s r ON l.node_id < r.node_id) GROUP BY {cols}",
            g = g.join(", "),
            cols = cols.join(", ")
        ),
    )
    .await?;
    let random = patterns_of(&random, k)?;
    tracing::info!(
        pairs = random.iter().map(|(_, c)| c).sum::<u64>(),
        "u counted on random pairs"
    );
    let candidate = collect(
        ctx,
        &format!(
            "SELECT {cols}, count(*) AS c FROM (SELECT {g} FROM pairs p JOIN nodes l ON p.l_id = l.node_id JOIN nodes r ON p.r_id = r.node_id) GROUP BY {cols}",
            g = g.join(", "),
            cols = cols.join(", ")
        ),
    )
    .await?;
    let candidate = patterns_of(&candidate, k)?;
    tracing::info!("candidate patterns counted");
    let levels: Vec<usize> = settings
        .file
        .comparisons
        .iter()
        .map(|c| c.levels.len())
        .collect();
    let u = em::estimate_u(&levels, &random);
    let (lambda, m, iterations) = em::estimate_m(
        &levels,
        &u,
        &candidate,
        settings.file.training.max_iterations,
    );
    let nodes = crate::sql::int64(collect(ctx, "SELECT count(*) FROM nodes").await?[0].column(0))?
        .value(0)
        .max(2) as f64;
    let candidate_pairs: u64 = candidate.iter().map(|(_, c)| c).sum();
    let prior = (lambda * candidate_pairs as f64 / (nodes * (nodes - 1.0) / 2.0)).clamp(1e-15, 0.5);
    Ok(Model {
        lambda,
        prior,
        comparisons: settings
            .file
            .comparisons
            .iter()
            .enumerate()
            .map(|(i, c)| ComparisonModel {
                id: c.id.get_ref().clone(),
                levels: c
                    .levels
                    .iter()
                    .enumerate()
                    .map(|(j, l)| LevelModel {
                        label: l.label.clone(),
                        m: m[i][j],
                        u: u[i][j],
                    })
                    .collect(),
            })
            .collect(),
        iterations,
        pairs: candidate.iter().map(|(_, c)| c).sum(),
        random_pairs: random.iter().map(|(_, c)| c).sum(),
        settings_hash: settings.text_hash,
    })
}

/// Relative frequencies of the values of the term-frequency columns, over nodes.
/// Term frequencies over nodes, also written to `dir/tf.parquet` (column,
/// value, tf) so that explanations weigh pairs exactly as the run did.
async fn term_frequencies(
    ctx: &SessionContext,
    settings: &Settings,
    dir: &std::path::Path,
) -> Result<HashMap<String, HashMap<String, f64>>> {
    let mut out = HashMap::new();
    let mut selects = Vec::new();
    for (_, col) in tf_columns(settings).into_iter().flatten() {
        if out.contains_key(&col) {
            continue;
        }
        let batches = collect(ctx, &format!("SELECT CAST({col} AS VARCHAR) AS v, count(*) AS c FROM nodes WHERE {col} IS NOT NULL GROUP BY {col}")).await?;
        let mut map = HashMap::new();
        let mut total = 0u64;
        for b in &batches {
            let c = &crate::sql::int64(b.column(1))?;
            total += (0..b.num_rows()).map(|i| c.value(i) as u64).sum::<u64>();
        }
        for b in &batches {
            let v = &crate::sql::utf8(b.column(0))?;
            let c = &crate::sql::int64(b.column(1))?;
            for i in 0..b.num_rows() {
                map.insert(
                    v.value(i).to_string(),
                    c.value(i) as f64 / total.max(1) as f64,
                );
            }
        }
        selects.push(format!(
            "SELECT {} AS column_name, CAST({col} AS VARCHAR) AS value, CAST(count(*) AS DOUBLE) / {} AS tf FROM nodes WHERE {col} IS NOT NULL GROUP BY {col}",
            lit(&col),
            total.max(1)
        ));
        out.insert(col, map);
    }
    let sql = if selects.is_empty() {
        "SELECT CAST(NULL AS VARCHAR) AS column_name, CAST(NULL AS VARCHAR) AS value, CAST(NULL AS DOUBLE) AS tf WHERE false".to_string()
    } else {
        selects.join(" UNION ALL ")
    };
    crate::sql::write_parquet(ctx, &sql, &dir.join(crate::store::TERM_FREQUENCIES)).await?;
    Ok(out)
}

/// Weight of one compared pair, with term-frequency adjustment.
pub fn pair_weight(
    model: &Model,
    pattern: &[i8],
    tf_levels: &[Option<(usize, String)>],
    tf_values: &[Option<&str>],
    tf: &HashMap<String, HashMap<String, f64>>,
) -> f64 {
    let mut w = model.prior_weight();
    for (k, &l) in pattern.iter().enumerate() {
        if l < 0 {
            continue;
        }
        let level = &model.comparisons[k].levels[l as usize];
        let adjusted = match (&tf_levels[k], tf_values.get(k).copied().flatten()) {
            (Some((tl, col)), Some(v)) if *tl == l as usize => {
                tf.get(col).and_then(|m| m.get(v)).copied()
            }
            _ => None,
        };
        w += match adjusted {
            Some(u_tf) => (level.m.max(1e-6) / u_tf.max(1e-9)).log2(),
            None => level.weight(),
        };
    }
    w
}

/// Node ids and identifiers, by index.
async fn node_index(
    ctx: &SessionContext,
    k: &KindSpec,
) -> Result<(Vec<String>, Vec<Option<String>>, HashMap<String, usize>)> {
    let batches = collect(
        ctx,
        &format!("SELECT node_id, {} FROM nodes ORDER BY node_id", k.id),
    )
    .await?;
    let mut ids = Vec::new();
    let mut ident = Vec::new();
    for b in &batches {
        let n = &crate::sql::utf8(b.column(0))?;
        let i = &crate::sql::utf8(b.column(1))?;
        for r in 0..b.num_rows() {
            ids.push(n.value(r).to_string());
            ident.push((!i.is_null(r)).then(|| i.value(r).to_string()));
        }
    }
    let index = ids
        .iter()
        .enumerate()
        .map(|(i, s)| (s.clone(), i))
        .collect();
    Ok((ids, ident, index))
}

/// Reviewers' decisions, as mention id pairs.
#[derive(Debug, Clone, Default)]
pub struct Decisions {
    /// Pairs decided to be the same.
    pub same: Vec<(String, String)>,
    /// Pairs decided to be different.
    pub different: Vec<(String, String)>,
}

/// Runs the whole resolution of one kind over the mentions in `mx` / `nodes`.
/// How to resolve.
#[derive(Debug, Clone, Default)]
pub struct ResolveOptions {
    /// Re-estimate the model even if a saved one fits the settings.
    pub retrain: bool,
    /// Reviewers' decisions.
    pub decisions: Decisions,
    /// Incremental matching: the previous run's mention → golden id table
    /// (`xref.parquet`). Only candidate pairs touching a node with a new
    /// mention are compared; nodes of one previous golden record start together.
    pub previous: Option<std::path::PathBuf>,
}

/// Whether a saved model still fits the settings.
pub fn model_fits(m: &Model, settings: &Settings) -> bool {
    m.settings_hash == settings.text_hash && m.comparisons.len() == settings.file.comparisons.len()
}

/// Runs the whole resolution of one kind over the mentions in `mx` / `nodes`.
pub async fn resolve(
    ctx: &SessionContext,
    kind: Kind,
    settings: &Settings,
    saved: Option<Model>,
    opts: &ResolveOptions,
    dir: &std::path::Path,
) -> Result<Resolution> {
    let k = spec(kind);
    let decisions = &opts.decisions;
    let mut pairs = block(ctx, settings).await?;
    let (model, trained) = match saved {
        Some(m) if !opts.retrain && model_fits(&m, settings) => (m, false),
        _ => (train(ctx, settings).await?, true),
    };
    // Incremental: keep only pairs touching a node that holds a new mention.
    let mut previous_links: Vec<(String, String)> = Vec::new();
    if let Some(prev) = &opts.previous {
        crate::sql::register_parquet(ctx, "prev_xref", prev).await?;
        materialize(
            ctx,
            "new_nodes",
            "SELECT DISTINCT m.node_id FROM mx m LEFT JOIN prev_xref p ON m.mention_id = p.mention_id WHERE p.mention_id IS NULL",
        )
        .await?;
        let links = collect(
            ctx,
            "WITH g AS (SELECT DISTINCT p.gid, m.node_id FROM mx m JOIN prev_xref p ON m.mention_id = p.mention_id), \
             f AS (SELECT gid, min(node_id) AS first FROM g GROUP BY gid) \
             SELECT f.first, g.node_id FROM g JOIN f ON g.gid = f.gid WHERE g.node_id <> f.first",
        )
        .await?;
        for b in &links {
            let a = crate::sql::utf8(b.column(0))?;
            let c = crate::sql::utf8(b.column(1))?;
            for r in 0..b.num_rows() {
                previous_links.push((a.value(r).to_string(), c.value(r).to_string()));
            }
        }
        materialize(
            ctx,
            "pairs_new",
            "SELECT p.* FROM pairs p JOIN new_nodes n ON p.l_id = n.node_id UNION SELECT p.* FROM pairs p JOIN new_nodes n ON p.r_id = n.node_id",
        )
        .await?;
        for t in ["pairs", "new_nodes", "prev_xref"] {
            ctx.deregister_table(t)?;
        }
        let pn = ctx.table("pairs_new").await?;
        let schema = std::sync::Arc::new(pn.schema().as_arrow().clone());
        let batches = pn.collect().await?;
        pairs = batches.iter().map(|b| b.num_rows() as u64).sum();
        let schema = batches.first().map(|b| b.schema()).unwrap_or(schema);
        crate::sql::register_batches(ctx, "pairs", schema, batches)?;
        ctx.deregister_table("pairs_new")?;
    }
    tracing::info!("blocked and trained");
    let tf = term_frequencies(ctx, settings, dir).await?;
    let tf_levels = tf_columns(settings);
    let (node_ids, ident, index) = node_index(ctx, k).await?;

    // Score every candidate pair, streaming.
    let g = gamma_list(settings);
    let tf_sel: Vec<String> = tf_levels
        .iter()
        .enumerate()
        .map(|(i, t)| match t {
            Some((_, col)) => format!("CAST(l.{col} AS VARCHAR) AS tf{i}"),
            None => format!("CAST(NULL AS VARCHAR) AS tf{i}"),
        })
        .collect();
    let ncmp = settings.file.comparisons.len();
    let df = ctx
        .sql(&format!(
            "SELECT p.l_id, p.r_id, {}, {} FROM pairs p JOIN nodes l ON p.l_id = l.node_id JOIN nodes r ON p.r_id = r.node_id",
            g.join(", "),
            tf_sel.join(", ")
        ))
        .await?;
    let mut stream = df.execute_stream().await?;
    let review_t = *settings.file.thresholds.review.get_ref();
    let match_t = *settings.file.thresholds.link.get_ref();
    let mut links = Vec::new();
    let mut linked_probability = 0.0;
    let mut unlinked_probability = 0.0;
    let mut pattern = vec![0i8; ncmp];
    while let Some(batch) = stream.next().await {
        let b = batch?;
        let l = &crate::sql::utf8(b.column(0))?;
        let r = &crate::sql::utf8(b.column(1))?;
        let gs: Vec<_> = (0..ncmp)
            .map(|i| {
                b.column(2 + i)
                    .as_primitive::<arrow::datatypes::Int8Type>()
                    .clone()
            })
            .collect();
        let tfs: Vec<_> = (0..ncmp)
            .map(|i| crate::sql::utf8(b.column(2 + ncmp + i)))
            .collect::<Result<_>>()?;
        for row in 0..b.num_rows() {
            for (i, gcol) in gs.iter().enumerate() {
                pattern[i] = gcol.value(row);
            }
            let tf_values: Vec<Option<&str>> = tfs
                .iter()
                .map(|c| (!c.is_null(row)).then(|| c.value(row)))
                .collect();
            let p = em::probability(pair_weight(&model, &pattern, &tf_levels, &tf_values, &tf));
            if p >= match_t {
                linked_probability += p;
            } else {
                unlinked_probability += p;
            }
            if p >= review_t {
                let (Some(&a), Some(&bb)) = (index.get(l.value(row)), index.get(r.value(row)))
                else {
                    return Err(DataFusionError::Internal(
                        "a pair names an unknown node".into(),
                    ));
                };
                links.push(Link {
                    a,
                    b: bb,
                    probability: p,
                });
            }
        }
    }

    tracing::info!(links = links.len(), "scored");
    // Contradicted mentions against the cluster of the ID they carry.
    let contra = collect(
        ctx,
        "SELECT c.mention_id, concat('c', c.ident) AS cluster, c.reasons FROM contra c",
    )
    .await?;
    let mut contradicted = Vec::new();
    for b in &contra {
        let m = &crate::sql::utf8(b.column(0))?;
        let c = &crate::sql::utf8(b.column(1))?;
        let why = &crate::sql::utf8(b.column(2))?;
        for row in 0..b.num_rows() {
            if let (Some(&a), Some(&cl)) = (index.get(m.value(row)), index.get(c.value(row))) {
                contradicted.push((a, cl, why.value(row).to_string()));
            }
        }
    }

    // Decisions, from mention ids to nodes.
    let to_nodes =
        |pairs: &[(String, String)], map: &HashMap<String, String>| -> Vec<(usize, usize)> {
            pairs
                .iter()
                .filter_map(|(a, b)| Some((*index.get(map.get(a)?)?, *index.get(map.get(b)?)?)))
                .collect()
        };
    let mut wanted: Vec<&String> = decisions
        .same
        .iter()
        .chain(&decisions.different)
        .flat_map(|(a, b)| [a, b])
        .collect();
    wanted.sort();
    wanted.dedup();
    let mut mention_node: HashMap<String, String> = HashMap::new();
    if !wanted.is_empty() {
        let list: Vec<String> = wanted.iter().map(|m| lit(m)).collect();
        for b in collect(
            ctx,
            &format!(
                "SELECT mention_id, node_id FROM mx WHERE mention_id IN ({})",
                list.join(", ")
            ),
        )
        .await?
        {
            let m = &crate::sql::utf8(b.column(0))?;
            let n = &crate::sql::utf8(b.column(1))?;
            for row in 0..b.num_rows() {
                mention_node.insert(m.value(row).to_string(), n.value(row).to_string());
            }
        }
    }
    let same = to_nodes(&decisions.same, &mention_node);
    let different = to_nodes(&decisions.different, &mention_node);
    tracing::info!("clustering");
    let previous: Vec<(usize, usize)> = previous_links
        .iter()
        .filter_map(|(a, b)| Some((*index.get(a.as_str())?, *index.get(b.as_str())?)))
        .collect();
    let rules = rule_links(ctx, settings, &index).await?;
    tracing::info!(rules = rules.len(), "deterministic rule links");
    let clustering = cluster(
        &ident,
        links,
        match_t,
        review_t,
        &crate::cluster::Constraints {
            contradicted,
            same,
            different,
            previous,
            rules,
        },
    );
    Ok(Resolution {
        node_ids,
        ident,
        clustering,
        model,
        mentions: 0,
        contradictions: 0,
        pairs,
        linked_probability,
        unlinked_probability,
        trained,
    })
}

/// Pairs (loose node, cluster) of the deterministic rules: the loose node's
/// key equals exactly one cluster's.
async fn rule_links(
    ctx: &SessionContext,
    settings: &Settings,
    index: &HashMap<String, usize>,
) -> Result<Vec<(usize, usize)>> {
    let mut out = Vec::new();
    for rule in &settings.file.deterministic.rules {
        let cols: Vec<&str> = rule.on.iter().map(|c| c.get_ref().as_str()).collect();
        let list = cols.join(", ");
        let nn: Vec<String> = cols.iter().map(|c| format!("{c} IS NOT NULL")).collect();
        let on: Vec<String> = cols.iter().map(|c| format!("l.{c} = c.{c}")).collect();
        let sql = format!(
            "WITH c AS (SELECT {list}, min(node_id) AS cluster FROM nodes WHERE is_cluster AND {nn} GROUP BY {list} HAVING count(*) = 1) \
             SELECT l.node_id, c.cluster FROM nodes l JOIN c ON {on} WHERE NOT l.is_cluster",
            nn = nn.join(" AND "),
            on = on.join(" AND ")
        );
        for b in collect(ctx, &sql).await? {
            let l = crate::sql::utf8(b.column(0))?;
            let c = crate::sql::utf8(b.column(1))?;
            for r in 0..b.num_rows() {
                if let (Some(a), Some(cl)) = (index.get(l.value(r)), index.get(c.value(r))) {
                    out.push((*a, *cl));
                }
            }
        }
    }
    Ok(out)
}
