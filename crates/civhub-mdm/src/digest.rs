//! When matching has nothing to do, and what a run's results are made of.
//!
//! * [`inputs_hash`] hashes everything a matching run of one kind reads: the
//!   staging manifests of the datasets naming that kind (definition
//!   fingerprint, files and their content hashes, parts), the mentions SQL
//!   the pipelines' identities make, the settings file, the review decisions
//!   and civhub's version. `civhub match` compares it with the current run's
//!   ([`unchanged`]) and, when equal, makes no new run — as dbt or a Delta
//!   pipeline skips a model whose inputs did not change.
//! * [`record`] stores, after a run, that hash and [`Digests`] of the run's
//!   results: per table an order-independent digest (the XOR of a 64-bit
//!   hash of every row, with the row count), and per dataset a digest of its
//!   mentions' golden ids. Publish fingerprints tables with these instead of
//!   the run id, so a run that changes one department's assignments gives
//!   new versions only to the tables that read them. The digests are
//!   DataFusion aggregates (`bit_xor` over [`RowHash`]), one scan per table,
//!   cheap next to matching itself.

use crate::mentions::{identities, mentions_sql};
use crate::run::{KindReport, MatchOptions};
use crate::settings::{Kind, Settings};
use crate::sql::{collect, ident, int64, register_parquet, utf8};
use crate::store::{self, Digests};
use arrow::array::{Array, ArrayRef, AsArray, UInt64Array};
use arrow::datatypes::DataType;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use civhub_ingest::config::Project;
use civhub_ingest::manifest::Manifest;
use civhub_ingest::run::staging_dir;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::SessionContext;
use std::path::Path;
use std::sync::Arc;
use xxhash_rust::xxh3::{Xxh3, xxh3_64};

/// Hash of everything a matching run of `kind` reads (see the module docs).
pub fn inputs_hash(project: &Project, kind: Kind, settings: &Settings) -> u64 {
    let mut h = Xxh3::new();
    let mut put = |s: &str| {
        h.update(s.as_bytes());
        h.update(&[0x1f]);
    };
    put(env!("CARGO_PKG_VERSION"));
    put(kind.as_str());
    put(&format!("{:016x}", settings.text_hash));
    let decisions = fs_err::read(crate::review::path(&project.root, kind)).unwrap_or_default();
    put(&format!("{:016x}", xxh3_64(&decisions)));
    put(&mentions_sql(project, kind).unwrap_or_default());
    let mut ids: Vec<&str> = identities(project, kind)
        .iter()
        .map(|(p, _)| p.id.as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    for id in ids {
        put(id);
        match Manifest::load(&staging_dir(&project.warehouse, id)) {
            Ok(Some(m)) => {
                put(&m.fingerprint);
                for f in &m.files {
                    put(&f.path);
                    put(&f.hash);
                    put(&f.staging_parts.join(","));
                }
            }
            Ok(None) => put("not staged"),
            // A damaged manifest: never "unchanged"; the run reports it.
            Err(e) => put(&format!("{e} {}", ulid::Ulid::generate())),
        }
    }
    h.digest()
}

/// The report of a run that was not needed: the current run of `kind`
/// already read exactly these inputs. `None` when matching must run (asked
/// for with `--full` or `--retrain`, no current run, other inputs, or a run
/// from before inputs were recorded).
pub fn unchanged(
    warehouse: &Path,
    kind: Kind,
    opts: &MatchOptions,
    inputs: u64,
) -> Option<(KindReport, String)> {
    if opts.full || opts.retrain {
        return None;
    }
    let (current, dir) = store::current(warehouse, kind)?;
    if current.inputs_hash != inputs || current.digests.is_none() || !dir.is_dir() {
        return None;
    }
    let mut r: KindReport = serde_json::from_value(current.report.clone()).ok()?;
    r.new = 0;
    r.updated = 0;
    r.merged = 0;
    r.split = 0;
    r.retired = 0;
    r.unchanged = usize::try_from(r.golden).unwrap_or(usize::MAX);
    r.trained = false;
    r.mode = "unchanged".to_string();
    r.full_because = None;
    r.duration_ms = 0;
    Some((r, current.run_id))
}

/// After a run of `kind` committed: records its inputs hash and the digests
/// of its results in `current.json`.
pub async fn record(warehouse: &Path, kind: Kind, inputs: u64) -> Result<()> {
    let Some((mut current, dir)) = store::current(warehouse, kind) else {
        return Ok(());
    };
    current.digests = Some(digests(&dir).await?);
    current.inputs_hash = inputs;
    store::rewrite(warehouse, kind, &current)?;
    Ok(())
}

/// The digests of the results in a run folder.
pub async fn digests(run_dir: &Path) -> Result<Digests> {
    let ctx = SessionContext::new();
    ctx.register_udf(ScalarUDF::from(RowHash::new()));
    let mut d = Digests::default();
    for (name, file) in [
        ("golden", store::GOLDEN),
        ("history", store::HISTORY),
        ("review", store::REVIEW),
    ] {
        let digest = table_digest(&ctx, &run_dir.join(file)).await?;
        match name {
            "golden" => d.golden = digest,
            "history" => d.history = digest,
            _ => d.review = digest,
        }
    }
    // The xref twice in one scan: every column, and per dataset what its
    // enriched view joins on (so a new link probability elsewhere does not
    // touch a department's table).
    let path = run_dir.join(store::XREF);
    if !path.exists() {
        d.xref = "absent".into();
        return Ok(d);
    }
    register_parquet(&ctx, "xref", &path).await?;
    let all = row_hash_call(&ctx, "xref").await?;
    let sql = format!(
        "SELECT pipeline, count(*) AS n, bit_xor(civhub_row_hash(role, source_file, source_sheet, source_row, record_key, gid)) AS ds, \
         bit_xor({all}) AS a FROM xref GROUP BY pipeline"
    );
    let (mut rows, mut xor) = (0i64, 0u64);
    for b in collect(&ctx, &sql).await? {
        let pipeline = utf8(b.column(0))?;
        let n = int64(b.column(1))?;
        let (ds, a) = (uint64(b.column(2))?, uint64(b.column(3))?);
        for i in 0..b.num_rows() {
            d.datasets.insert(
                pipeline.value(i).to_string(),
                format!("{}:{:016x}", n.value(i), ds.value(i)),
            );
            rows += n.value(i);
            xor ^= a.value(i);
        }
    }
    d.xref = format!("{rows}:{xor:016x}");
    Ok(d)
}

/// `<rows>:<xor of row hashes>` of a Parquet file (`absent` when missing).
async fn table_digest(ctx: &SessionContext, path: &Path) -> Result<String> {
    if !path.exists() {
        return Ok("absent".into());
    }
    register_parquet(ctx, "digest_input", path).await?;
    let all = row_hash_call(ctx, "digest_input").await?;
    let b = collect(
        ctx,
        &format!("SELECT count(*), bit_xor({all}) FROM digest_input"),
    )
    .await?;
    ctx.deregister_table("digest_input")?;
    let n = int64(b[0].column(0))?.value(0);
    let h = uint64(b[0].column(1))?;
    let h = if h.is_null(0) { 0 } else { h.value(0) };
    Ok(format!("{n}:{h:016x}"))
}

/// `civhub_row_hash(<every column>)` of a registered table.
async fn row_hash_call(ctx: &SessionContext, table: &str) -> Result<String> {
    let schema = ctx.table(table).await?.schema().as_arrow().clone();
    let cols: Vec<String> = schema.fields().iter().map(|f| ident(f.name())).collect();
    Ok(format!("civhub_row_hash({})", cols.join(", ")))
}

fn uint64(col: &ArrayRef) -> Result<UInt64Array> {
    let c = arrow::compute::cast(col, &DataType::UInt64)?;
    Ok(c.as_primitive::<arrow::datatypes::UInt64Type>().clone())
}

/// `civhub_row_hash(a, b, …)`: a 64-bit hash (xxh3) of a row's values, each
/// in its text form, NULL distinct from any text. Used only for digests.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct RowHash {
    signature: Signature,
}

impl RowHash {
    /// The function.
    pub fn new() -> Self {
        RowHash {
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

impl Default for RowHash {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for RowHash {
    fn name(&self) -> &str {
        "civhub_row_hash"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::UInt64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let arrays: Vec<ArrayRef> = args
            .args
            .into_iter()
            .map(|a| a.into_array(n))
            .collect::<Result<_>>()?;
        // Text columns are read directly; anything else through Arrow's
        // display formatting (numbers, dates, timestamps).
        enum Col<'a> {
            Text(crate::hashes::Text),
            Other(&'a ArrayRef, ArrayFormatter<'a>),
        }
        let opts = FormatOptions::default().with_null("");
        let cols: Vec<Col> = arrays
            .iter()
            .map(|a| match crate::hashes::Text::of_text(a) {
                Some(t) => t.map(Col::Text),
                None => ArrayFormatter::try_new(a.as_ref(), &opts)
                    .map(|f| Col::Other(a, f))
                    .map_err(DataFusionError::from),
            })
            .collect::<Result<_>>()?;
        let mut buf = String::new();
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            buf.clear();
            for c in &cols {
                match c {
                    Col::Text(s) => match s.get(i) {
                        Some(v) => buf.push_str(v),
                        None => buf.push('\u{0}'),
                    },
                    Col::Other(a, _) if a.is_null(i) => buf.push('\u{0}'),
                    Col::Other(_, f) => {
                        use std::fmt::Write as _;
                        write!(buf, "{}", f.value(i)).map_err(|e| {
                            DataFusionError::Execution(format!("civhub_row_hash: {e}"))
                        })?;
                    }
                }
                buf.push('\u{1f}');
            }
            out.push(xxh3_64(buf.as_bytes()));
        }
        Ok(ColumnarValue::Array(Arc::new(UInt64Array::from(out))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, StringArray};
    use arrow::datatypes::{Field, Schema};
    use arrow::record_batch::RecordBatch;

    async fn digest_of(rows: &[(&str, Option<i64>)]) -> String {
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Utf8, true),
            Field::new("b", DataType::Int64, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(
                    rows.iter().map(|r| Some(r.0)).collect::<Vec<_>>(),
                )),
                Arc::new(Int64Array::from(
                    rows.iter().map(|r| r.1).collect::<Vec<_>>(),
                )),
            ],
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let ctx = SessionContext::new();
        ctx.register_udf(ScalarUDF::from(RowHash::new()));
        crate::sql::register_batches(&ctx, "t", schema, vec![batch]).unwrap();
        crate::sql::write_parquet(&ctx, "SELECT * FROM t", &path)
            .await
            .unwrap();
        table_digest(&ctx, &path).await.unwrap()
    }

    #[tokio::test]
    async fn digests_ignore_row_order_and_see_every_value() {
        let a = digest_of(&[("x", Some(1)), ("y", None), ("z", Some(3))]).await;
        let b = digest_of(&[("z", Some(3)), ("x", Some(1)), ("y", None)]).await;
        assert_eq!(a, b);
        assert!(a.starts_with("3:"), "{a}");
        // NULL is not 0, and values do not run into each other.
        let c = digest_of(&[("x", Some(1)), ("y", Some(0)), ("z", Some(3))]).await;
        assert_ne!(a, c);
        let d = digest_of(&[("x", Some(1)), ("y", None), ("z", Some(4))]).await;
        assert_ne!(a, d);
    }
}
