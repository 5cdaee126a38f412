//! `civhub match`: resolve every kind, assign stable ids, write the results.

use crate::ids::{self, Assignment};
use crate::kinds::spec;
use crate::resolve::{self, Resolution};
use crate::settings::{Kind, Settings};
use crate::sql::{collect, lit, materialize, register_batches, register_parquet, write_parquet};
use crate::store::{self, Current};
use crate::{em, mentions, review};
use arrow::array::{Array, Float64Array, StringArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use civhub_ingest::config::Project;
use datafusion::error::{DataFusionError, Result};
use datafusion::prelude::SessionContext;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// Options of a matching run.
#[derive(Debug, Clone, Default)]
pub struct MatchOptions {
    /// Re-estimate m and u even when the settings did not change.
    pub retrain: bool,
    /// Resolve every mention from scratch, not only new ones.
    pub full: bool,
}

/// Estimated quality of the probabilistic links (no labels needed): the
/// expected share of links that are right, and of true links found.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Quality {
    /// Σ p over links made / links made.
    pub expected_precision: f64,
    /// Σ p over links made / Σ p over all candidate pairs.
    pub expected_recall: f64,
}

/// What a run did for one kind.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct KindReport {
    /// `person` or `entity`.
    pub kind: String,
    /// Mentions read.
    pub mentions: u64,
    /// Golden records.
    pub golden: u64,
    /// New golden records.
    pub new: usize,
    /// Golden records exactly as before.
    pub unchanged: usize,
    /// Golden records that kept their id but gained or lost mentions.
    pub updated: usize,
    /// Previous ids merged into others.
    pub merged: usize,
    /// Previous ids whose mentions were split.
    pub split: usize,
    /// Previous ids whose mentions are gone.
    pub retired: usize,
    /// Pairs sent to review.
    pub review: usize,
    /// Mentions whose identifier was contradicted.
    pub contradictions: u64,
    /// Candidate pairs compared.
    pub pairs: u64,
    /// Probabilistic links made.
    pub probabilistic_links: usize,
    /// Quality estimate.
    pub quality: Quality,
    /// Whether m and u were estimated in this run.
    pub trained: bool,
    /// `incremental` (new mentions matched against the existing golden
    /// records) or `full`.
    pub mode: String,
    /// Why a full run was needed, when it was not asked for.
    pub full_because: Option<String>,
    /// Share of matches among candidate pairs (λ).
    pub lambda: f64,
    /// Probability that two random nodes match (the model's prior).
    pub prior: f64,
    /// Wall time.
    pub duration_ms: u64,
}

/// The whole matching run.
#[derive(Debug, Clone, Serialize)]
pub struct MatchReport {
    /// Run id.
    pub run_id: String,
    /// People.
    pub person: Option<KindReport>,
    /// Legal entities.
    pub entity: Option<KindReport>,
}

/// Runs matching for people and entities.
pub async fn run(
    project: &Project,
    settings: &HashMap<Kind, Settings>,
    opts: &MatchOptions,
) -> Result<MatchReport> {
    let ctx = civhub_engine::session::new_context(Default::default());
    civhub_engine::tables::register_staging(&ctx, project)?;
    mentions::register_functions(&ctx);
    let run_id = ulid::Ulid::generate().to_string();
    let mut report = MatchReport {
        run_id: run_id.clone(),
        person: None,
        entity: None,
    };
    let mut unchanged_runs = Vec::new();
    for kind in [Kind::Person, Kind::Entity] {
        let Some(s) = settings.get(&kind) else {
            continue;
        };
        // Unchanged inputs: the current run stands, no new one is made.
        let inputs = crate::digest::inputs_hash(project, kind, s);
        let r = match crate::digest::unchanged(&project.warehouse, kind, opts, inputs) {
            Some((r, current_run)) => {
                unchanged_runs.push(current_run);
                Some(r)
            }
            None => {
                let r = run_kind(&ctx, project, kind, s, opts, &run_id).await?;
                if r.is_some() {
                    crate::digest::record(&project.warehouse, kind, inputs).await?;
                }
                r
            }
        };
        match kind {
            Kind::Person => report.person = r,
            Kind::Entity => report.entity = r,
        }
    }
    // Nothing ran: the report names the current run, not an unused id.
    let ran = [&report.person, &report.entity]
        .into_iter()
        .flatten()
        .any(|k| k.mode != "unchanged");
    if let (false, Some(current)) = (ran, unchanged_runs.first()) {
        report.run_id = current.clone();
    }
    Ok(report)
}

fn err(e: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Execution(e.to_string())
}

async fn run_kind(
    ctx: &SessionContext,
    project: &Project,
    kind: Kind,
    settings: &Settings,
    opts: &MatchOptions,
    run_id: &str,
) -> Result<Option<KindReport>> {
    let t0 = Instant::now();
    let Some(msql) = mentions::mentions_sql(project, kind) else {
        return Ok(None);
    };
    let k = spec(kind);
    let run_dir = store::kind_dir(&project.warehouse, kind).join(run_id);
    fs_err::create_dir_all(&run_dir)?;
    let (n_mentions, n_contra) = resolve::build_nodes(ctx, kind, &msql, settings, &run_dir).await?;
    let previous = store::current(&project.warehouse, kind);
    let saved: Option<em::Model> = previous
        .as_ref()
        .and_then(|(_, dir)| fs_err::read_to_string(dir.join(store::MODEL)).ok())
        .and_then(|t| serde_json::from_str(&t).ok());
    let decisions = review::load(&project.root, kind).map_err(err)?;
    let decisions_hash = xxhash_rust::xxh3::xxh3_64(
        fs_err::read(review::path(&project.root, kind))
            .unwrap_or_default()
            .as_slice(),
    );
    let (incremental, full_because) = plan_incremental(
        ctx,
        opts,
        previous.as_ref(),
        saved.as_ref(),
        settings,
        decisions_hash,
    )
    .await?;
    let ropts = resolve::ResolveOptions {
        retrain: opts.retrain,
        decisions: review::effective(&decisions),
        previous: incremental,
    };
    let mode = if ropts.previous.is_some() {
        "incremental"
    } else {
        "full"
    };
    let res = resolve::resolve(ctx, kind, settings, saved, &ropts, &run_dir).await?;
    let res = Resolution {
        mentions: n_mentions,
        contradictions: n_contra,
        ..res
    };

    // Components, their mentions, and the ids they had.
    tracing::info!(ms = t0.elapsed().as_millis() as u64, "clustered");
    let (assignment, node_comp) =
        assign_ids(ctx, kind, &res, previous.as_ref().map(|(_, d)| d.as_path())).await?;
    tracing::info!(ms = t0.elapsed().as_millis() as u64, "ids assigned");

    // node → golden id, how it was linked.
    let mut node_ids = Vec::with_capacity(res.node_ids.len());
    let mut gids = Vec::with_capacity(res.node_ids.len());
    let mut links = Vec::with_capacity(res.node_ids.len());
    let mut probs = Vec::with_capacity(res.node_ids.len());
    let mut comps = Vec::with_capacity(res.node_ids.len());
    let comp_size = {
        let mut m: HashMap<usize, usize> = HashMap::new();
        for c in &res.clustering.component {
            *m.entry(*c).or_default() += 1;
        }
        m
    };
    for (i, node) in res.node_ids.iter().enumerate() {
        let c = res.clustering.component[i];
        node_ids.push(node.clone());
        gids.push(assignment.gid[node_comp[i]].clone());
        comps.push(node_comp[i] as u32);
        let (link, p) = if res.ident[i].is_some() {
            ("id", Some(1.0))
        } else if res.clustering.decided[i] {
            ("decision", None)
        } else if res.clustering.by_rule[i] {
            ("rule", Some(1.0))
        } else if let Some(p) = res.clustering.joined_by[i] {
            ("probabilistic", Some(p))
        } else if comp_size[&c] > 1 {
            ("probabilistic", None)
        } else {
            ("single", None)
        };
        links.push(link);
        probs.push(p);
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("node_id", DataType::Utf8, false),
        Field::new("gid", DataType::Utf8, false),
        Field::new("link", DataType::Utf8, false),
        Field::new("probability", DataType::Float64, true),
        Field::new("comp", DataType::UInt32, false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(node_ids)),
            Arc::new(StringArray::from(gids)),
            Arc::new(StringArray::from(links)),
            Arc::new(Float64Array::from(probs)),
            Arc::new(arrow::array::UInt32Array::from(comps)),
        ],
    )?;
    register_batches(ctx, "node_gid", schema, vec![batch])?;

    write_parquet(
        ctx,
        "SELECT mx.mention_id, ng.gid, mx.node_id, ng.link, ng.probability, mx.pipeline, mx.role, mx.record_key, mx.source_file, mx.source_sheet, mx.source_row FROM mx JOIN node_gid ng ON mx.node_id = ng.node_id",
        &run_dir.join(store::XREF),
    )
    .await?;
    // Golden records: one aggregation per golden id over the mentions.
    let golden_sql = golden_sql(ctx, kind, settings);
    tracing::debug!(sql = %golden_sql, "golden records");
    write_parquet(ctx, &golden_sql, &run_dir.join(store::GOLDEN)).await?;
    let carried = if mode == "incremental" {
        previous.as_ref().map(|(_, d)| d.as_path())
    } else {
        None
    };
    let review_pairs = write_review(ctx, &res, &run_dir, carried).await?;
    write_history(
        ctx,
        &assignment,
        previous.as_ref().map(|(_, d)| d.as_path()),
        run_id,
        &run_dir,
    )
    .await?;
    fs_err::write(
        run_dir.join(store::MODEL),
        serde_json::to_string_pretty(&res.model).map_err(err)?,
    )?;

    register_parquet(ctx, "golden_out", &run_dir.join(store::GOLDEN)).await?;
    let golden = collect(ctx, "SELECT count(*) FROM golden_out").await?;
    ctx.deregister_table("golden_out")?;
    let golden = crate::sql::int64(golden[0].column(0))?.value(0) as u64;
    let links_p: f64 = res.linked_probability;
    let all_p = res.linked_probability + res.unlinked_probability;
    let kr = KindReport {
        kind: kind.as_str().to_string(),
        mentions: res.mentions,
        golden,
        new: assignment.new,
        unchanged: assignment.unchanged,
        updated: assignment.updated,
        merged: assignment.merged,
        split: assignment.split,
        retired: assignment.retired,
        review: review_pairs,
        contradictions: res.contradictions,
        pairs: res.pairs,
        probabilistic_links: res.clustering.links_made,
        quality: Quality {
            expected_precision: if res.clustering.links_made > 0 {
                res.clustering.made_probability / res.clustering.links_made as f64
            } else {
                1.0
            },
            expected_recall: if all_p > 0.0 { links_p / all_p } else { 1.0 },
        },
        trained: res.trained,
        mode: mode.to_string(),
        full_because,
        lambda: res.model.lambda,
        prior: res.model.prior,
        duration_ms: t0.elapsed().as_millis() as u64,
    };
    let _ = k;
    store::commit(
        &project.warehouse,
        kind,
        &Current {
            run_id: run_id.to_string(),
            finished_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            report: serde_json::to_value(&kr).map_err(err)?,
            decisions_hash,
            inputs_hash: 0,
            digests: None,
        },
    )?;
    for t in ["mx", "contra", "nodes", "node_keys", "pairs", "node_gid"] {
        let _ = ctx.deregister_table(t);
    }
    Ok(Some(kr))
}

/// Decides whether this run can be incremental: only when the previous run
/// used the same settings and decisions and every mention it saw is still
/// here unchanged (new mentions are fine). Returns the previous golden id of
/// every mention, or why a full run is needed.
async fn plan_incremental(
    ctx: &SessionContext,
    opts: &MatchOptions,
    previous: Option<&(Current, std::path::PathBuf)>,
    saved: Option<&em::Model>,
    settings: &Settings,
    decisions_hash: u64,
) -> Result<(Option<std::path::PathBuf>, Option<String>)> {
    let Some((current, dir)) = previous else {
        return Ok((None, None));
    };
    if opts.full {
        return Ok((None, None));
    }
    let why = if opts.retrain {
        Some("the model is retrained".to_string())
    } else if !saved.is_some_and(|m| resolve::model_fits(m, settings)) {
        Some("the matching settings changed".to_string())
    } else if current.decisions_hash != decisions_hash {
        Some("review decisions changed".to_string())
    } else {
        None
    };
    if why.is_some() {
        return Ok((None, why));
    }
    register_parquet(ctx, "prev_mentions", &dir.join(store::MENTIONS)).await?;
    // Runs of an older civhub hashed mention values another way: nothing to
    // compare with.
    if resolve::column_types(ctx, "prev_mentions", &["value_hash"]).await?
        != resolve::column_types(ctx, "mx", &["value_hash"]).await?
    {
        ctx.deregister_table("prev_mentions")?;
        return Ok((
            None,
            Some(
                "the last run was made by an older civhub (mention values hashed differently)"
                    .to_string(),
            ),
        ));
    }
    let b = collect(
        ctx,
        "SELECT (SELECT count(*) FROM prev_mentions p LEFT JOIN mx m ON p.mention_id = m.mention_id WHERE m.mention_id IS NULL) AS removed, \
         (SELECT count(*) FROM prev_mentions p JOIN mx m ON p.mention_id = m.mention_id WHERE p.value_hash <> m.value_hash) AS changed",
    )
    .await?;
    let removed = crate::sql::int64(b[0].column(0))?.value(0);
    let changed = crate::sql::int64(b[0].column(1))?.value(0);
    let result = if removed + changed > 0 {
        (
            None,
            Some(format!(
                "{removed} mentions removed and {changed} changed since the last run"
            )),
        )
    } else {
        (Some(dir.join(store::XREF)), None)
    };
    ctx.deregister_table("prev_mentions")?;
    Ok(result)
}

/// Groups mentions by component and assigns golden ids: the counts the
/// assignment needs (component sizes, mentions shared with each previous id)
/// are aggregation queries; only the matching of ids is Rust.
async fn assign_ids(
    ctx: &SessionContext,
    kind: Kind,
    res: &Resolution,
    previous: Option<&std::path::Path>,
) -> Result<(Assignment, Vec<usize>)> {
    let k = spec(kind);
    // Components in a compact numbering.
    let mut compact: HashMap<usize, u32> = HashMap::new();
    let mut node_comp = Vec::with_capacity(res.node_ids.len());
    for c in &res.clustering.component {
        let next = compact.len() as u32;
        node_comp.push(*compact.entry(*c).or_insert(next));
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("node_id", DataType::Utf8, false),
        Field::new("comp", DataType::UInt32, false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(res.node_ids.clone())),
            Arc::new(arrow::array::UInt32Array::from(node_comp.clone())),
        ],
    )?;
    register_batches(ctx, "node_comp", schema, vec![batch])?;
    let mut components = vec![
        ids::Component {
            anchor: String::new(),
            size: 0
        };
        compact.len()
    ];
    // Previous ids and their sizes.
    let mut prev_names: Vec<String> = Vec::new();
    let mut prev_sizes: Vec<u64> = Vec::new();
    let mut index: HashMap<String, u32> = HashMap::new();
    let prev_xref = previous.map(|d| d.join(store::XREF)).filter(|p| p.exists());
    if let Some(path) = &prev_xref {
        register_parquet(ctx, "prev_xref", path).await?;
        // A previous id's size: its golden record's mention count (one row
        // per id), else its mentions counted in the cross-reference.
        let prev_golden = previous
            .map(|d| d.join(store::GOLDEN))
            .filter(|p| p.exists());
        let sizes = match &prev_golden {
            Some(g) => {
                register_parquet(ctx, "prev_golden", g).await?;
                let b = collect(
                    ctx,
                    "SELECT gid, mention_count FROM prev_golden ORDER BY gid",
                )
                .await;
                ctx.deregister_table("prev_golden")?;
                b?
            }
            None => {
                collect(
                    ctx,
                    "SELECT gid, count(*) FROM prev_xref GROUP BY gid ORDER BY gid",
                )
                .await?
            }
        };
        for b in sizes {
            let g = crate::sql::utf8(b.column(0))?;
            let n = crate::sql::int64(b.column(1))?;
            for r in 0..b.num_rows() {
                index.insert(g.value(r).to_string(), prev_names.len() as u32);
                prev_names.push(g.value(r).to_string());
                prev_sizes.push(n.value(r) as u64);
            }
        }
    }
    // A component's size and anchor (smallest mention id) are sums and
    // minimums over its nodes.
    for b in collect(
        ctx,
        "SELECT nc.comp, sum(n.size), min(n.anchor) FROM nodes n JOIN node_comp nc ON n.node_id = nc.node_id GROUP BY nc.comp",
    )
    .await?
    {
        let c = u32s(b.column(0))?;
        let n = crate::sql::int64(b.column(1))?;
        let anchor = crate::sql::utf8(b.column(2))?;
        for r in 0..b.num_rows() {
            let comp = &mut components[c.value(r) as usize];
            comp.size += n.value(r) as u64;
            let a = anchor.value(r);
            if comp.anchor.is_empty() || a < comp.anchor.as_str() {
                comp.anchor = a.to_string();
            }
        }
    }
    // One pass over the mentions the previous run saw: per component and
    // previous id, how many mentions they share.
    let mut shared: Vec<(usize, u32, u64)> = Vec::new();
    if prev_xref.is_some() {
        for b in collect(
            ctx,
            "SELECT nc.comp, p.gid, count(*) FROM mx JOIN node_comp nc ON mx.node_id = nc.node_id \
             JOIN prev_xref p ON mx.mention_id = p.mention_id GROUP BY nc.comp, p.gid",
        )
        .await?
        {
            let c = u32s(b.column(0))?;
            let g = crate::sql::utf8(b.column(1))?;
            let n = crate::sql::int64(b.column(2))?;
            for r in 0..b.num_rows() {
                if let Some(gi) = index.get(g.value(r)) {
                    shared.push((c.value(r) as usize, *gi, n.value(r) as u64));
                }
            }
        }
    }
    if prev_xref.is_some() {
        ctx.deregister_table("prev_xref")?;
    }
    // A component holding an identifier is anchored on it.
    for (node, id) in res.ident.iter().enumerate() {
        if let Some(id) = id {
            let c = node_comp[node] as usize;
            if components[c].anchor.starts_with("pm") || components[c].anchor.starts_with("em") {
                components[c].anchor = id.clone();
            }
        }
    }
    ctx.deregister_table("node_comp")?;
    let a = ids::assign(k.gid_prefix, &components, &shared, &prev_names, &prev_sizes);
    Ok((a, node_comp.into_iter().map(|c| c as usize).collect()))
}

/// A `UInt32` column.
fn u32s(a: &arrow::array::ArrayRef) -> Result<arrow::array::UInt32Array> {
    a.as_any()
        .downcast_ref::<arrow::array::UInt32Array>()
        .cloned()
        .ok_or_else(|| err("component column"))
}

/// The SQL of the golden records: the mentions with their component and
/// source priority, aggregated per component in one pass (grouped by the
/// component's number, a cheaper key than its golden id's text, which is
/// joined on afterwards) — counts, sources,
/// how the record was linked, and each field's surviving value and source
/// (the survivor aggregates of [`crate::survive`], registered on `ctx` here).
fn golden_sql(ctx: &SessionContext, kind: Kind, settings: &Settings) -> String {
    let k = spec(kind);
    // A source's priority by a CASE over the pipeline: a join with a table
    // of priorities copied every mention column once more.
    let whens: Vec<String> = settings
        .file
        .survivorship
        .source_priority
        .iter()
        .enumerate()
        .map(|(i, p)| format!(" WHEN {} THEN {i}", lit(p.get_ref())))
        .collect();
    let prio = if whens.is_empty() {
        "CAST(1000000 AS BIGINT)".to_string()
    } else {
        format!(
            "CAST(CASE mx.pipeline{} ELSE 1000000 END AS BIGINT)",
            whens.concat()
        )
    };
    let values: Vec<String> = k
        .golden
        .iter()
        .map(|(f, e, _)| format!("{e} AS g_{f}"))
        .collect();
    let x = format!(
        "SELECT ng.comp, ng.link, ng.probability AS link_probability, {prio} AS prio, mx.pipeline, mx.ingested_at, {} \
         FROM mx JOIN node_gid ng ON mx.node_id = ng.node_id",
        values.join(", ")
    );
    ctx.register_udaf(crate::survive::sources());
    let mut aggs = vec![
        "count(*) AS mention_count".to_string(),
        "civhub_sources(pipeline) AS srcs".to_string(),
        "bool_or(link = 'decision') AS d, bool_or(link = 'probabilistic') AS p, bool_or(link = 'id') AS i".to_string(),
        "min(CASE WHEN link = 'probabilistic' THEN link_probability END) AS min_link_probability".to_string(),
        "max(ingested_at) AS last_seen_at".to_string(),
    ];
    let sep = "chr(31)";
    let mut select = vec!["cg.gid".to_string()];
    for (field, _, ty) in k.golden {
        let rules = settings.rules_for(field);
        let udaf = crate::survive::survivor(&rules);
        let name = udaf.name().to_string();
        ctx.register_udaf(udaf);
        aggs.push(format!(
            "{name}(CAST(g_{field} AS VARCHAR), prio, CAST(ingested_at AS BIGINT), pipeline) AS k_{field}"
        ));
        select.push(format!(
            "CAST(split_part(k_{field}, {sep}, 1) AS {ty}) AS {field}"
        ));
        select.push(format!("split_part(k_{field}, {sep}, 2) AS {field}_source"));
    }
    select.extend(
        [
            "mention_count",
            "CAST(cardinality(srcs) AS BIGINT) AS source_count",
            "array_to_string(srcs, ',') AS sources",
            "CASE WHEN d THEN 'decision' WHEN p THEN 'probabilistic' WHEN i THEN 'id' ELSE 'single' END AS linked_by",
            "min_link_probability",
            "last_seen_at",
        ]
        .map(String::from),
    );
    format!(
        "WITH x AS ({x}), a AS (SELECT comp, {} FROM x GROUP BY comp) SELECT {} FROM a JOIN (SELECT DISTINCT comp, gid FROM node_gid) cg ON a.comp = cg.comp ORDER BY cg.gid",
        aggs.join(", "),
        select.join(", ")
    )
}

/// Writes the review queue. An incremental run compares only pairs touching
/// new mentions, so the previous queue is carried over (minus pairs now in
/// one golden record).
async fn write_review(
    ctx: &SessionContext,
    res: &Resolution,
    run_dir: &std::path::Path,
    carried: Option<&std::path::Path>,
) -> Result<usize> {
    let items = &res.clustering.review;
    let schema = Arc::new(Schema::new(vec![
        Field::new("node_a", DataType::Utf8, false),
        Field::new("node_b", DataType::Utf8, false),
        Field::new("probability", DataType::Float64, true),
        Field::new("reason", DataType::Utf8, false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(
                items
                    .iter()
                    .map(|r| res.node_ids[r.a].clone())
                    .collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                items
                    .iter()
                    .map(|r| res.node_ids[r.b].clone())
                    .collect::<Vec<_>>(),
            )),
            Arc::new(Float64Array::from(
                items
                    .iter()
                    .map(|r| (!r.probability.is_nan()).then_some(r.probability))
                    .collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                items
                    .iter()
                    .map(|r| r.reason.describe())
                    .collect::<Vec<_>>(),
            )),
        ],
    )?;
    register_batches(ctx, "review_pairs", schema, vec![batch])?;
    // Each side by its anchor mention (the smallest mention id of the node).
    let fresh = "SELECT a.mention AS mention_a, b.mention AS mention_b, r.node_a, r.node_b, r.probability, r.reason FROM review_pairs r \
         JOIN anchors a ON a.node_id = r.node_a JOIN anchors b ON b.node_id = r.node_b";
    let sql = match carried
        .map(|d| d.join(store::REVIEW))
        .filter(|p| p.exists())
    {
        Some(prev) => {
            register_parquet(ctx, "prev_review", &prev).await?;
            register_parquet(ctx, "new_xref", &run_dir.join(store::XREF)).await?;
            format!(
                "WITH anchors AS (SELECT node_id, anchor AS mention FROM nodes) \
                 SELECT mention_a, mention_b, min(node_a) AS node_a, min(node_b) AS node_b, max(probability) AS probability, min(reason) AS reason \
                 FROM ({fresh} UNION ALL SELECT o.mention_a, o.mention_b, o.node_a, o.node_b, o.probability, o.reason FROM prev_review o \
                 JOIN new_xref xa ON xa.mention_id = o.mention_a JOIN new_xref xb ON xb.mention_id = o.mention_b WHERE xa.gid <> xb.gid) \
                 GROUP BY mention_a, mention_b ORDER BY probability DESC NULLS FIRST, mention_a, mention_b"
            )
        }
        None => format!(
            "WITH anchors AS (SELECT node_id, anchor AS mention FROM nodes) {fresh} ORDER BY r.probability DESC NULLS FIRST, mention_a, mention_b"
        ),
    };
    write_parquet(ctx, &sql, &run_dir.join(store::REVIEW)).await?;
    let _ = ctx.deregister_table("prev_review");
    let _ = ctx.deregister_table("new_xref");
    ctx.deregister_table("review_pairs")?;
    register_parquet(ctx, "review_out", &run_dir.join(store::REVIEW)).await?;
    let n = crate::sql::int64(collect(ctx, "SELECT count(*) FROM review_out").await?[0].column(0))?
        .value(0) as usize;
    ctx.deregister_table("review_out")?;
    Ok(n)
}

async fn write_history(
    ctx: &SessionContext,
    a: &Assignment,
    previous: Option<&std::path::Path>,
    run_id: &str,
    run_dir: &std::path::Path,
) -> Result<()> {
    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let schema = Arc::new(Schema::new(vec![
        Field::new("run_id", DataType::Utf8, false),
        Field::new("at", DataType::Utf8, false),
        Field::new("action", DataType::Utf8, false),
        Field::new("gid", DataType::Utf8, false),
        Field::new("other_gid", DataType::Utf8, false),
        Field::new("mentions", DataType::UInt64, false),
    ]));
    let h = &a.history;
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(vec![run_id; h.len()])),
            Arc::new(StringArray::from(vec![at.as_str(); h.len()])),
            Arc::new(StringArray::from(
                h.iter().map(|e| e.action).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                h.iter().map(|e| e.gid.clone()).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                h.iter().map(|e| e.other.clone()).collect::<Vec<_>>(),
            )),
            Arc::new(UInt64Array::from(
                h.iter().map(|e| e.mentions).collect::<Vec<_>>(),
            )),
        ],
    )?;
    register_batches(ctx, "history_new", schema, vec![batch])?;
    let prev = previous
        .map(|d| d.join(store::HISTORY))
        .filter(|p| p.exists());
    let sql = match prev {
        Some(p) => {
            register_parquet(ctx, "history_prev", &p).await?;
            "SELECT * FROM history_prev UNION ALL SELECT * FROM history_new"
        }
        None => "SELECT * FROM history_new",
    };
    write_parquet(ctx, sql, &run_dir.join(store::HISTORY)).await?;
    let _ = ctx.deregister_table("history_prev");
    ctx.deregister_table("history_new")?;
    let _ = materialize;
    Ok(())
}
