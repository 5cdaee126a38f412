//! `civhub eval-match`: pairwise precision, recall and F1 of the last
//! matching run against a ground truth (`truth/mentions.csv` of `civhub
//! synth`: one row per mention with its true person or entity key).
//!
//! Pairs are counted from the contingency table of (predicted golden id,
//! true key): true positives are the pairs sharing both, so nothing is
//! enumerated pair by pair.

use crate::settings::Kind;
use crate::sql::{collect, int64, utf8};
use crate::store;
use datafusion::error::{DataFusionError, Result};
use datafusion::prelude::CsvReadOptions;
use serde::Serialize;
use std::path::Path;

/// Scores of one kind.
#[derive(Debug, Clone, Serialize)]
pub struct Scores {
    /// `person` / `entity`.
    pub kind: String,
    /// Truth mentions that matching saw (the rest were quarantined or absent).
    pub mentions: u64,
    /// Truth mentions not found among matched mentions.
    pub missing: u64,
    /// Pairs predicted together.
    pub predicted_pairs: u64,
    /// Pairs truly together.
    pub true_pairs: u64,
    /// Pairs both.
    pub true_positive_pairs: u64,
    /// TP / predicted.
    pub precision: f64,
    /// TP / true.
    pub recall: f64,
    /// Harmonic mean.
    pub f1: f64,
    /// Golden records among these mentions.
    pub predicted_clusters: u64,
    /// True entities among them.
    pub true_clusters: u64,
}

/// The whole evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    /// People.
    pub person: Option<Scores>,
    /// Entities.
    pub entity: Option<Scores>,
    /// All mentions together.
    pub precision: f64,
    /// All mentions together.
    pub recall: f64,
    /// All mentions together.
    pub f1: f64,
}

fn pairs(n: &str) -> String {
    format!("sum({n} * ({n} - 1) / 2)")
}

/// Evaluates the current matching results in `warehouse` against `truth`.
pub async fn evaluate(warehouse: &Path, truth: &Path) -> Result<Evaluation> {
    let ctx = civhub_engine::session::new_context(Default::default());
    let opts = CsvReadOptions::new()
        .has_header(true)
        .schema_infer_max_records(0);
    ctx.register_csv("truth", &truth.to_string_lossy(), opts)
        .await?;
    let mut out = Evaluation {
        person: None,
        entity: None,
        precision: 0.0,
        recall: 0.0,
        f1: 0.0,
    };
    let (mut tp, mut pp, mut tt) = (0u64, 0u64, 0u64);
    for kind in [Kind::Person, Kind::Entity] {
        let Some((_, dir)) = store::current(warehouse, kind) else {
            continue;
        };
        crate::sql::register_parquet(&ctx, "xref", &dir.join(store::XREF)).await?;
        let joined = format!(
            "SELECT x.gid, t.true_key FROM truth t JOIN xref x ON t.pipeline = x.pipeline AND t.role = x.role AND t.file = x.source_file \
             AND coalesce(t.sheet, '') = coalesce(x.source_sheet, '') AND CAST(t.row AS BIGINT) = x.source_row WHERE t.kind = '{}'",
            kind.as_str()
        );
        // The join is computed once and its (gid, true key) counts kept:
        // referring to it from several subqueries would run it several
        // times at once (at a million persons, more memory than the machine has).
        let cells = ctx
            .sql(&format!(
                "SELECT gid, true_key, count(*) AS n FROM ({joined}) GROUP BY gid, true_key"
            ))
            .await?;
        let schema = std::sync::Arc::new(cells.schema().as_arrow().clone());
        let batches = cells.collect().await?;
        ctx.register_table(
            "cells",
            std::sync::Arc::new(datafusion::datasource::MemTable::try_new(
                schema,
                vec![batches],
            )?),
        )?;
        let sql = format!(
            "WITH c AS (SELECT gid, true_key, n FROM cells), \
             p AS (SELECT gid, sum(n) AS n FROM c GROUP BY gid), t AS (SELECT true_key, sum(n) AS n FROM c GROUP BY true_key) \
             SELECT (SELECT CAST(sum(n) AS BIGINT) FROM c) AS m, (SELECT CAST({} AS BIGINT) FROM c) AS tp, (SELECT CAST({} AS BIGINT) FROM p) AS pp, (SELECT CAST({} AS BIGINT) FROM t) AS tt, \
             (SELECT count(*) FROM p) AS pc, (SELECT count(*) FROM t) AS tc, (SELECT count(*) FROM truth WHERE kind = '{}') AS al",
            pairs("n"),
            pairs("n"),
            pairs("n"),
            kind.as_str()
        );
        let b = collect(&ctx, &sql).await?;
        let v = |i: usize| -> Result<u64> {
            Ok(int64(b[0].column(i))?.iter().next().flatten().unwrap_or(0) as u64)
        };
        let (m, tpk, ppk, ttk, pc, tc, all) = (v(0)?, v(1)?, v(2)?, v(3)?, v(4)?, v(5)?, v(6)?);
        let precision = if ppk > 0 {
            tpk as f64 / ppk as f64
        } else {
            1.0
        };
        let recall = if ttk > 0 {
            tpk as f64 / ttk as f64
        } else {
            1.0
        };
        let s = Scores {
            kind: kind.as_str().to_string(),
            mentions: m,
            missing: all.saturating_sub(m),
            predicted_pairs: ppk,
            true_pairs: ttk,
            true_positive_pairs: tpk,
            precision,
            recall,
            f1: f1(precision, recall),
            predicted_clusters: pc,
            true_clusters: tc,
        };
        tp += tpk;
        pp += ppk;
        tt += ttk;
        match kind {
            Kind::Person => out.person = Some(s),
            Kind::Entity => out.entity = Some(s),
        }
        ctx.deregister_table("xref")?;
        ctx.deregister_table("cells")?;
    }
    if out.person.is_none() && out.entity.is_none() {
        return Err(DataFusionError::Execution(
            "no matching results in the warehouse: run `civhub match` first".into(),
        ));
    }
    out.precision = if pp > 0 { tp as f64 / pp as f64 } else { 1.0 };
    out.recall = if tt > 0 { tp as f64 / tt as f64 } else { 1.0 };
    out.f1 = f1(out.precision, out.recall);
    let _ = utf8;
    Ok(out)
}

fn f1(p: f64, r: f64) -> f64 {
    if p + r > 0.0 {
        2.0 * p * r / (p + r)
    } else {
        0.0
    }
}
