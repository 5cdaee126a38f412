//! `civhub publish`: the base databases and the department datasets as
//! versioned Delta tables, then the catalog, then the release.

use crate::config::{Base, TableDef};
use crate::delta;
use crate::inputs::Inputs;
use crate::release::{self, Release, ReleasedTable, Restriction};
use civhub_core::SharingType;
use civhub_ingest::config::{Pipeline, Project};
use civhub_mdm::sql::{ident, lit};
use datafusion::error::{DataFusionError, Result};
use datafusion::prelude::SessionContext;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

/// Options of a publish.
#[derive(Debug, Clone, Default)]
pub struct PublishOptions {
    /// Testing hook: abort the process after writing this many tables (to
    /// test that a killed publish leaves the previous release readable).
    pub abort_after: Option<usize>,
}

/// What happened to one table.
#[derive(Debug, Clone, Serialize)]
pub struct TableReport {
    /// `schema.table`.
    pub table: String,
    /// Delta version now in the release.
    pub version: i64,
    /// Rows.
    pub rows: u64,
    /// A new version was written (else: inputs unchanged).
    pub changed: bool,
    /// The only department that may read it (a 不予共享 dataset), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restricted_to: Option<String>,
}

/// What a publish did.
#[derive(Debug, Clone, Serialize)]
pub struct PublishReport {
    /// Run id.
    pub run_id: String,
    /// The release now current.
    pub release: u64,
    /// Whether this publish made a new release (nothing changed: no).
    pub new_release: bool,
    /// Per table.
    pub tables: Vec<TableReport>,
    /// Tables written.
    pub written: usize,
    /// Tables unchanged.
    pub unchanged: usize,
    /// The 不予共享 datasets: published, but as tables only their providing
    /// department reads (each also has `restricted_to` in `tables`).
    pub not_shared: Vec<String>,
    /// Wall time.
    pub duration_ms: u64,
}

/// A table to publish.
#[derive(Debug, Clone)]
pub struct Planned {
    /// Schema.
    pub schema: String,
    /// Table.
    pub table: String,
    /// The query.
    pub sql: String,
    /// What its inputs are (part of the fingerprint).
    pub inputs: String,
    /// Catalog metadata source.
    pub source: Source,
    /// Readable by its providing department only (不予共享), if set.
    pub restricted: Option<Restriction>,
}

/// Where a published table's catalog entry comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A department dataset (its pipeline).
    Dataset(String),
    /// A base database table (index of the base, index of the table).
    Base(usize, usize),
}

impl Planned {
    /// `schema.table`.
    pub fn qualified(&self) -> String {
        format!("{}.{}", self.schema, self.table)
    }
}

/// The SQL of a union of every dataset of one canonical schema.
pub fn union_sql(project: &Project, schema: &str) -> String {
    let pipelines: Vec<&Pipeline> = project
        .pipelines
        .iter()
        .filter(|p| p.schema.name == schema)
        .collect();
    let Some(first) = pipelines.first() else {
        return "SELECT 1 WHERE false".to_string();
    };
    let fields: Vec<String> = first.schema.fields.iter().map(|f| ident(&f.name)).collect();
    let selects: Vec<String> = pipelines
        .iter()
        .map(|p| {
            let cols = civhub_mdm::enrich::gid_columns(p);
            let pick = |kind: civhub_mdm::settings::Kind| {
                cols.iter().find(|(_, k, _)| *k == kind).map(|(c, _, _)| format!("s.{}", ident(c))).unwrap_or_else(|| "CAST(NULL AS VARCHAR)".to_string())
            };
            format!(
                "SELECT {}, {} AS person_gid, {} AS entity_gid, {} AS source_dataset, s._source_file, s._source_row FROM enriched.{}.{} s",
                fields.iter().map(|f| format!("s.{f}")).collect::<Vec<_>>().join(", "),
                pick(civhub_mdm::settings::Kind::Person),
                pick(civhub_mdm::settings::Kind::Entity),
                lit(&p.id),
                ident(&p.department),
                ident(&p.dataset)
            )
        })
        .collect();
    selects.join(" UNION ALL ")
}

/// The restriction of a table of `sharing` provided by `provider`: only a
/// 不予共享 table has one.
fn restriction(sharing: SharingType, provider: &str) -> Option<Restriction> {
    (sharing == SharingType::NotShared).then(|| Restriction {
        sharing: sharing.as_str().to_string(),
        provider: provider.to_string(),
    })
}

/// Everything `civhub publish` would write. `ctx` is the [`source_context`]
/// (base tables' SQL is planned in it to learn what each reads). 不予共享
/// datasets are published too, as tables restricted to their providing
/// department (the release records it; see [`Restriction`]).
pub async fn plan(project: &Project, bases: &[Base], ctx: &SessionContext) -> Vec<Planned> {
    let inputs = Inputs::load(project);
    let mut out = Vec::new();
    for (bi, b) in bases.iter().enumerate() {
        for (ti, t) in b.file.tables.iter().enumerate() {
            let sql = table_sql(project, t);
            out.push(Planned {
                schema: b.file.schema.get_ref().clone(),
                table: t.name.get_ref().clone(),
                inputs: inputs.base(project, ctx, &sql).await,
                sql,
                source: Source::Base(bi, ti),
                restricted: restriction(t.sharing, b.file.provider.get_ref()),
            });
        }
    }
    for p in &project.pipelines {
        out.push(Planned {
            schema: p.department.clone(),
            table: p.dataset.clone(),
            sql: format!(
                "SELECT * FROM enriched.{}.{}",
                ident(&p.department),
                ident(&p.dataset)
            ),
            inputs: inputs.enriched(p),
            source: Source::Dataset(p.id.clone()),
            restricted: restriction(*p.def.catalog.sharing.get_ref(), &p.department),
        });
    }
    out
}

fn table_sql(project: &Project, t: &TableDef) -> String {
    match (&t.sql, &t.union_schema) {
        (Some(sql), _) => sql.get_ref().clone(),
        (None, Some(schema)) => union_sql(project, schema.get_ref()),
        (None, None) => "SELECT 1 WHERE false".to_string(),
    }
}

/// Where a published table lives.
pub fn table_dir(project: &Project, schema: &str, table: &str) -> PathBuf {
    release::published_dir(&project.warehouse)
        .join(schema)
        .join(table)
}

/// A session over staging, matching results and enriched views.
pub async fn source_context(project: &Project) -> Result<SessionContext> {
    let ctx = civhub_engine::session::new_context(Default::default());
    civhub_engine::tables::register_staging(&ctx, project)?;
    civhub_mdm::enrich::register(&ctx, project).await?;
    Ok(ctx)
}

/// How tables are laid out on disk (sort order, row groups): part of every
/// fingerprint, so a change rewrites the tables once.
const LAYOUT: &str = "layout: golden records sorted by gid; row groups of at most 128Ki rows; pages of at most 4096 rows; Bloom filters on identifiers";

fn fingerprint(t: &Planned) -> String {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(LAYOUT.as_bytes());
    h.update(t.sql.as_bytes());
    h.update(t.inputs.as_bytes());
    format!("{:032x}", h.digest128())
}

/// Publishes every planned table, then the catalog, then the release.
pub async fn publish(
    project: &Project,
    bases: &[Base],
    opts: &PublishOptions,
) -> Result<PublishReport> {
    let t0 = Instant::now();
    let run_id = ulid::Ulid::generate().to_string();
    let ctx = source_context(project).await?;
    let planned = plan(project, bases, &ctx).await;
    let previous = release::current(&project.warehouse);
    let mut tables = BTreeMap::new();
    let mut reports = Vec::new();
    let mut written = 0usize;
    for t in &planned {
        let dir = table_dir(project, &t.schema, &t.table);
        let fp = fingerprint(t);
        let existing = delta::open(&dir).await?;
        let (version, changed) = match &existing {
            Some(table)
                if delta::latest_fingerprint(table).await?.as_deref() == Some(fp.as_str()) =>
            {
                (table.version().map(|v| v as i64).unwrap_or(0), false)
            }
            _ => {
                let df = ctx.sql(&t.sql).await.map_err(|e| {
                    DataFusionError::Plan(format!("table `{}`: {e}", t.qualified()))
                })?;
                let v = delta::overwrite(
                    &ctx,
                    &dir,
                    df.logical_plan().clone(),
                    &fp,
                    &run_id,
                    &t.qualified(),
                    "",
                )
                .await?;
                written += 1;
                if opts.abort_after.is_some_and(|n| written >= n) {
                    tracing::warn!("aborting after {written} tables (test hook)");
                    std::process::abort();
                }
                (v, true)
            }
        };
        let rows = count_rows(&dir, version).await?;
        tables.insert(
            t.qualified(),
            ReleasedTable {
                path: format!("{}/{}", t.schema, t.table),
                version,
                fingerprint: fp,
                rows,
                changed,
                restricted: t.restricted.clone(),
            },
        );
        reports.push(TableReport {
            table: t.qualified(),
            version,
            rows,
            changed,
            restricted_to: t.restricted.as_ref().map(|r| r.provider.clone()),
        });
    }
    // Tables other commands publish into releases (a check's findings and
    // runs: `checks.*`) are not planned here; they carry over unchanged.
    if let Some(prev) = &previous {
        for (name, t) in &prev.tables {
            if name.starts_with("checks.") && !tables.contains_key(name) {
                tables.insert(
                    name.clone(),
                    ReleasedTable {
                        changed: false,
                        ..t.clone()
                    },
                );
            }
        }
    }
    let not_shared: Vec<String> = planned
        .iter()
        .filter(|t| t.restricted.is_some())
        .map(Planned::qualified)
        .collect();
    // The catalog describes this release; it is itself published (catalog.*).
    let number = previous.as_ref().map(|r| r.number + 1).unwrap_or(1);
    let published_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    // A new release also when no table was written but who may read one
    // changed (a dataset turned 不予共享, or back), or a table came or went:
    // the release is what access is decided on.
    let access_changed = previous.as_ref().is_some_and(|prev| {
        let own = |name: &str| !name.starts_with("catalog.") && !name.starts_with("checks.");
        let before: BTreeMap<&str, &Option<Restriction>> = prev
            .tables
            .iter()
            .filter(|(n, _)| own(n))
            .map(|(n, t)| (n.as_str(), &t.restricted))
            .collect();
        let after: BTreeMap<&str, &Option<Restriction>> = tables
            .iter()
            .filter(|(n, _)| own(n))
            .map(|(n, t)| (n.as_str(), &t.restricted))
            .collect();
        before != after
    });
    let catalog_changed = written > 0 || previous.is_none() || access_changed;
    let mut release = Release {
        number,
        run_id: run_id.clone(),
        published_at,
        tables,
    };
    if catalog_changed {
        for (name, v) in
            crate::catalog::publish_catalog(project, bases, &planned, &release, &ctx, &run_id)
                .await?
        {
            release.tables.insert(name, v);
        }
        release::commit(&project.warehouse, &release)
            .map_err(|e| DataFusionError::Execution(format!("cannot commit the release: {e}")))?;
    }
    let current = if catalog_changed {
        release.number
    } else {
        previous.as_ref().map(|r| r.number).unwrap_or(0)
    };
    let unchanged = reports.iter().filter(|r| !r.changed).count();
    Ok(PublishReport {
        run_id,
        release: current,
        new_release: catalog_changed,
        tables: reports,
        written,
        unchanged,
        not_shared,
        duration_ms: t0.elapsed().as_millis() as u64,
    })
}

/// Rows of a table version (from the Delta log's statistics when it has them).
pub async fn count_rows(dir: &std::path::Path, version: i64) -> Result<u64> {
    let table = delta::open_version(dir, version).await?;
    let ctx = SessionContext::new();
    table
        .update_datafusion_session(&ctx.state())
        .map_err(|e| DataFusionError::External(Box::new(e)))?;
    let provider = table
        .table_provider()
        .await
        .map_err(|e| DataFusionError::External(Box::new(e)))?;
    ctx.register_table("t", provider)?;
    let b = ctx.sql("SELECT count(*) FROM t").await?.collect().await?;
    Ok(civhub_mdm::sql::int64(b[0].column(0))?.value(0) as u64)
}
