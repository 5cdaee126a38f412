//! Enrichment: every staged dataset with the golden ids of the people and
//! entities it mentions, so later joins (publish, checks) go through golden
//! ids rather than raw ID strings.
//!
//! `enriched.<department>.<dataset>` is the staging table plus one column per
//! identity: `person_gid` / `entity_gid` when the pipeline declares one
//! identity of that kind, `<role>_person_gid` / `<role>_entity_gid` when it
//! declares several. The views join on the mention's source position, so
//! they always reflect the current staging and matching results.

use crate::mentions::identities;
use crate::settings::Kind;
use crate::sql::{ident, lit, register_parquet};
use crate::store;
use civhub_ingest::config::{Pipeline, Project};
use datafusion::catalog::{
    CatalogProvider, MemoryCatalogProvider, MemorySchemaProvider, SchemaProvider,
};
use datafusion::error::Result;
use datafusion::prelude::SessionContext;
use std::sync::Arc;

/// Name of the catalog of enriched views.
pub const ENRICHED_CATALOG: &str = "enriched";

/// The golden-id columns a pipeline gains: (column, kind, role).
pub fn gid_columns(p: &Pipeline) -> Vec<(String, Kind, String)> {
    let mut out = Vec::new();
    for kind in [Kind::Person, Kind::Entity] {
        let roles: Vec<&str> = p
            .def
            .identity
            .iter()
            .filter(|i| *i.kind.get_ref() == kind.identity())
            .map(|i| i.role.as_str())
            .collect();
        for role in &roles {
            let col = if roles.len() == 1 {
                format!("{}_gid", kind.as_str())
            } else {
                format!("{role}_{}_gid", kind.as_str())
            };
            out.push((col, kind, role.to_string()));
        }
    }
    out
}

/// Registers the current matching results as `mdm.person_xref`,
/// `mdm.person_golden`, … and the enriched views of every pipeline.
pub async fn register(ctx: &SessionContext, project: &Project) -> Result<()> {
    let mdm = Arc::new(MemorySchemaProvider::new());
    let mut have = Vec::new();
    for kind in [Kind::Person, Kind::Entity] {
        if let Some((_, dir)) = store::current(&project.warehouse, kind) {
            for (name, file) in [
                ("xref", store::XREF),
                ("golden", store::GOLDEN),
                ("review", store::REVIEW),
                ("history", store::HISTORY),
            ] {
                let path = dir.join(file);
                if path.exists() {
                    let tmp = format!("__{}_{}", kind.as_str(), name);
                    register_parquet(ctx, &tmp, &path).await?;
                    if let Some(t) = ctx.deregister_table(&tmp)? {
                        mdm.register_table(format!("{}_{name}", kind.as_str()), t)?;
                    }
                }
            }
            if dir.join(store::MENTIONS).exists() {
                mdm.register_table(
                    format!("{}_mentions", kind.as_str()),
                    store::mentions_table(ctx, kind, &dir).await?,
                )?;
            }
            have.push(kind);
        }
    }
    let catalog = Arc::new(MemoryCatalogProvider::new());
    catalog.register_schema("mdm", mdm)?;
    ctx.register_catalog("civhub", catalog);
    let enriched = Arc::new(MemoryCatalogProvider::new());
    for p in &project.pipelines {
        let schema = match enriched.schema(&p.department) {
            Some(s) => s,
            None => {
                let s: Arc<dyn SchemaProvider> = Arc::new(MemorySchemaProvider::new());
                enriched.register_schema(&p.department, s.clone())?;
                s
            }
        };
        let mut select = vec!["s.*".to_string()];
        let mut joins = Vec::new();
        for (i, (col, kind, role)) in gid_columns(p).into_iter().enumerate() {
            if !have.contains(&kind) {
                select.push(format!("CAST(NULL AS VARCHAR) AS {}", ident(&col)));
                continue;
            }
            let x = format!("x{i}");
            select.push(format!("{x}.gid AS {}", ident(&col)));
            joins.push(format!(
                "LEFT JOIN (SELECT gid, source_file, source_sheet, source_row FROM civhub.mdm.{}_xref WHERE pipeline = {} AND role = {}) {x} \
                 ON {x}.source_file = s._source_file AND {x}.source_row = s._source_row AND {x}.source_sheet IS NOT DISTINCT FROM s._source_sheet",
                kind.as_str(),
                lit(&p.id),
                lit(&role)
            ));
        }
        let sql = format!(
            "SELECT {} FROM {}.{}.{} s {}",
            select.join(", "),
            ident(civhub_engine::tables::STAGING_CATALOG),
            ident(&p.department),
            ident(&p.dataset),
            joins.join(" ")
        );
        let view = ctx.sql(&sql).await?.into_view();
        schema.register_table(p.dataset.clone(), view)?;
    }
    ctx.register_catalog(ENRICHED_CATALOG, enriched);
    let _ = identities;
    Ok(())
}
