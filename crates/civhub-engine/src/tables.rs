//! The warehouse's tables as DataFusion tables.
//!
//! Staging tables are read through their manifest (see
//! `civhub_ingest::manifest`): only the parts the last commit names are
//! scanned, so a reader never sees a half-written run. They are registered
//! under the catalog `staging`, one schema per department:
//! `staging.public_security.household_registration`.

use civhub_ingest::config::{Pipeline, Project};
use civhub_ingest::manifest::Manifest;
use civhub_ingest::run::{quarantine_dir, staging_dir};
use civhub_ingest::stage::{quarantine_schema, staging_schema};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{
    CatalogProvider, MemoryCatalogProvider, MemorySchemaProvider, SchemaProvider, TableProvider,
};
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::error::{DataFusionError, Result};
use datafusion::prelude::SessionContext;
use std::path::PathBuf;
use std::sync::Arc;

/// Name of the catalog holding staging tables.
pub const STAGING_CATALOG: &str = "staging";
/// Name of the catalog holding quarantine tables.
pub const QUARANTINE_CATALOG: &str = "quarantine";

/// A table over exactly these Parquet files, with this schema (empty when
/// there are no files).
pub fn parquet_files(files: Vec<PathBuf>, schema: SchemaRef) -> Result<Arc<dyn TableProvider>> {
    if files.is_empty() {
        return Ok(Arc::new(MemTable::try_new(schema, vec![vec![]])?));
    }
    let urls = files
        .iter()
        .map(|f| ListingTableUrl::parse(f.to_string_lossy()))
        .collect::<Result<Vec<_>>>()?;
    let options =
        ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
    let config = ListingTableConfig::new_with_multi_paths(urls)
        .with_listing_options(options)
        .with_schema(schema);
    Ok(Arc::new(ListingTable::try_new(config)?))
}

fn manifest(pipeline: &Pipeline, project: &Project) -> Result<Option<Manifest>> {
    Manifest::load(&staging_dir(&project.warehouse, &pipeline.id))
        .map_err(DataFusionError::Execution)
}

/// The committed staging table of a pipeline (empty if never staged).
pub fn staging_table(pipeline: &Pipeline, project: &Project) -> Result<Arc<dyn TableProvider>> {
    let dir = staging_dir(&project.warehouse, &pipeline.id);
    let files = manifest(pipeline, project)?
        .map(|m| m.staging_parts(&dir))
        .unwrap_or_default();
    parquet_files(files, staging_schema(&pipeline.schema))
}

/// The committed quarantine table of a pipeline (empty if none).
pub fn quarantine_table(pipeline: &Pipeline, project: &Project) -> Result<Arc<dyn TableProvider>> {
    let dir = quarantine_dir(&project.warehouse, &pipeline.id);
    let files = manifest(pipeline, project)?
        .map(|m| {
            m.files
                .iter()
                .flat_map(|f| f.quarantine_parts.iter())
                .map(|p| dir.join(p))
                .collect()
        })
        .unwrap_or_default();
    parquet_files(files, quarantine_schema())
}

/// Registers every pipeline's staging and quarantine table:
/// `staging.<department>.<dataset>` and `quarantine.<department>.<dataset>`.
pub fn register_staging(ctx: &SessionContext, project: &Project) -> Result<()> {
    for (catalog_name, quarantine) in [(STAGING_CATALOG, false), (QUARANTINE_CATALOG, true)] {
        let catalog = Arc::new(MemoryCatalogProvider::new());
        for p in &project.pipelines {
            let schema = match catalog.schema(&p.department) {
                Some(s) => s,
                None => {
                    let s: Arc<dyn SchemaProvider> = Arc::new(MemorySchemaProvider::new());
                    catalog.register_schema(&p.department, s.clone())?;
                    s
                }
            };
            let table = if quarantine {
                quarantine_table(p, project)?
            } else {
                staging_table(p, project)?
            };
            schema.register_table(p.dataset.clone(), table)?;
        }
        ctx.register_catalog(catalog_name, catalog);
    }
    Ok(())
}
