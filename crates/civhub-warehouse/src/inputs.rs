//! What each published table is made of — the inputs part of its
//! fingerprint (see `docs/PUBLISH.md`, "Fingerprints").
//!
//! Staged datasets count by their manifest (definition fingerprint and
//! parts), matching results by the digests of their content that matching
//! records (`civhub_mdm::digest`), never by the run that wrote them: a
//! matching run that changes one department's golden ids leaves every
//! other department's table alone, and one that changes nothing leaves
//! every table alone. A base table depends on the tables its SQL reads,
//! found by planning it.

use civhub_ingest::config::{Pipeline, Project};
use civhub_ingest::manifest::Manifest;
use civhub_ingest::run::staging_dir;
use civhub_mdm::settings::Kind;
use civhub_mdm::store::Digests;
use datafusion::error::Result;
use datafusion::prelude::SessionContext;
use std::collections::BTreeMap;

/// What a published table's content depends on, besides its SQL: staged
/// datasets by their manifest (definition fingerprint and parts), matching
/// results by the digests of their content (`civhub_mdm::digest`), never by
/// the run that wrote them — so a matching run that changes one
/// department's golden ids leaves every other department's table alone.
pub(crate) struct Inputs {
    /// Pipeline id → its staging state.
    staged: BTreeMap<String, String>,
    /// Per kind: the current run's digests, or its run id for a run from
    /// before digests were kept (`None`: no run).
    mdm: Vec<(Kind, Option<Run>)>,
}

/// The current matching run of a kind: its id and, when kept, its digests.
type Run = (String, Option<Digests>);

impl Inputs {
    /// The staging and matching state of the project now.
    pub(crate) fn load(project: &Project) -> Inputs {
        let staged = project
            .pipelines
            .iter()
            .map(|p| {
                let m = Manifest::load(&staging_dir(&project.warehouse, &p.id))
                    .ok()
                    .flatten();
                let state = m
                    .map(|m| {
                        format!(
                            "{}:{}",
                            m.fingerprint,
                            m.files
                                .iter()
                                .flat_map(|f| f.staging_parts.iter().cloned())
                                .collect::<Vec<_>>()
                                .join(",")
                        )
                    })
                    .unwrap_or_default();
                (p.id.clone(), state)
            })
            .collect();
        let mdm = [Kind::Person, Kind::Entity]
            .into_iter()
            .map(|k| {
                let c = civhub_mdm::store::current(&project.warehouse, k)
                    .map(|(c, _)| (c.run_id, c.digests));
                (k, c)
            })
            .collect();
        Inputs { staged, mdm }
    }

    fn current(&self, kind: Kind) -> Option<&Run> {
        self.mdm
            .iter()
            .find(|(k, _)| *k == kind)
            .and_then(|(_, c)| c.as_ref())
    }

    /// A matching table (`xref`, `golden`, …) of a kind.
    fn matching(&self, kind: Kind, table: &str) -> String {
        let state = match self.current(kind) {
            None => "none".to_string(),
            Some((run, digests)) => digests
                .as_ref()
                .and_then(|d| d.table(table))
                .map(str::to_string)
                .unwrap_or_else(|| format!("run {run}")),
        };
        format!("civhub.mdm.{}_{table}={state}", kind.as_str())
    }

    /// A department dataset as its enriched view reads it: its staging
    /// state and, per kind it names, its mentions' golden ids.
    pub(crate) fn enriched(&self, p: &Pipeline) -> String {
        let mut s = self.staging(&p.id);
        let mut kinds: Vec<Kind> = civhub_mdm::enrich::gid_columns(p)
            .into_iter()
            .map(|(_, k, _)| k)
            .collect();
        kinds.dedup();
        for k in kinds {
            let state = match self.current(k) {
                None => "none".to_string(),
                Some((run, digests)) => match digests {
                    Some(d) => d.datasets.get(&p.id).cloned().unwrap_or_else(|| "0".into()),
                    None => format!("run {run}"),
                },
            };
            s.push_str(&format!("|{}:{state}", k.as_str()));
        }
        s
    }

    fn staging(&self, id: &str) -> String {
        format!(
            "staging.{id}={}",
            self.staged.get(id).map(String::as_str).unwrap_or_default()
        )
    }

    /// Everything, for a table whose inputs cannot be told.
    fn everything(&self, project: &Project) -> String {
        let mut parts: Vec<String> = project.pipelines.iter().map(|p| self.enriched(p)).collect();
        for k in [Kind::Person, Kind::Entity] {
            for t in ["xref", "golden", "history", "review", "mentions"] {
                parts.push(self.matching(k, t));
            }
        }
        parts.join("|")
    }

    /// The inputs of a base table, from the tables its SQL reads.
    pub(crate) async fn base(&self, project: &Project, ctx: &SessionContext, sql: &str) -> String {
        let Ok(reads) = reads(ctx, sql).await else {
            // SQL that does not plan fails when the table is written.
            return self.everything(project);
        };
        let mut parts = Vec::new();
        for name in reads {
            let p: Vec<&str> = name.split('.').collect();
            let part = match p.as_slice() {
                ["enriched", d, n] => project
                    .pipelines
                    .iter()
                    .find(|x| x.department == *d && x.dataset == *n)
                    .map(|x| self.enriched(x)),
                ["staging" | "quarantine", d, n] => Some(self.staging(&format!("{d}.{n}"))),
                ["civhub", "mdm", t] => [Kind::Person, Kind::Entity].into_iter().find_map(|k| {
                    t.strip_prefix(&format!("{}_", k.as_str()))
                        .map(|table| self.matching(k, table))
                }),
                _ => None,
            };
            parts.push(part.unwrap_or_else(|| self.everything(project)));
        }
        parts.join("|")
    }
}

/// The tables a query reads, as qualified names (`enriched.d.n`,
/// `civhub.mdm.person_golden`, …), from its unoptimized plan. A view
/// (`enriched.*`) counts as itself, not as the tables behind it: DataFusion
/// inlines a view as its plan under an alias of its full name, where the
/// walk stops (an alias a query gives has no schema part).
pub(crate) async fn reads(ctx: &SessionContext, sql: &str) -> Result<Vec<String>> {
    use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
    use datafusion::logical_expr::LogicalPlan;
    let plan = ctx.sql(sql).await?.into_unoptimized_plan();
    let mut names = Vec::new();
    plan.apply(|node| {
        Ok(match node {
            LogicalPlan::TableScan(s) => {
                names.push(s.table_name.to_string());
                TreeNodeRecursion::Continue
            }
            LogicalPlan::SubqueryAlias(a) if a.alias.schema().is_some() => {
                names.push(a.alias.to_string());
                TreeNodeRecursion::Jump
            }
            _ => TreeNodeRecursion::Continue,
        })
    })?;
    names.sort();
    names.dedup();
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::catalog::{
        CatalogProvider, MemoryCatalogProvider, MemorySchemaProvider, SchemaProvider,
    };
    use std::sync::Arc;

    #[tokio::test]
    async fn a_view_counts_as_itself_not_as_what_it_reads() {
        let ctx = SessionContext::new();
        ctx.sql("CREATE TABLE xref AS VALUES ('P1', 1)")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let view = ctx
            .sql("SELECT column1 AS gid FROM xref")
            .await
            .unwrap()
            .into_view();
        let schema = Arc::new(MemorySchemaProvider::new());
        schema.register_table("d".into(), view).unwrap();
        let catalog = Arc::new(MemoryCatalogProvider::new());
        catalog.register_schema("dept", schema).unwrap();
        ctx.register_catalog("enriched", catalog);
        let names = reads(
            &ctx,
            "WITH c AS (SELECT gid FROM enriched.dept.d s) SELECT * FROM c JOIN xref ON xref.column1 = c.gid",
        )
        .await
        .unwrap();
        assert_eq!(names, ["enriched.dept.d", "xref"]);
    }
}
