//! The 360° view: a golden record and every mention behind it, department
//! by department, each with the staged record it comes from.

use super::{Fields, Golden, LookupError, Mention, Result, ReviewItem, Run, golden_records};
use super::{mentions_where, pending, rows};
use crate::settings::Kind;
use crate::sql::{collect, ident, lit};
use civhub_ingest::config::Project;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// A mention with the record it comes from.
#[derive(Debug, Clone, Serialize)]
pub struct MentionRecord {
    /// The mention.
    #[serde(flatten)]
    pub mention: Mention,
    /// The dataset's title (from the pipeline's catalog).
    pub dataset_title: String,
    /// The staged record's fields (lineage columns left out); None when the
    /// record is no longer staged.
    pub record: Option<Fields>,
    /// Warnings ingest attached to the record (`_flags`).
    pub flags: Option<String>,
    /// Why the record (and its key) is not shown: its dataset is 不予共享,
    /// and this view is the local operator's, who holds no restricted table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withheld: Option<String>,
    /// Record fields the mention's identity reads (already in `values`).
    #[serde(skip)]
    pub identity_fields: Vec<String>,
}

impl MentionRecord {
    /// The record's fields that are not identity values of this mention.
    pub fn other_fields(&self) -> Vec<(&str, &Value)> {
        self.record
            .iter()
            .flat_map(|r| r.0.iter())
            .filter(|(k, _)| !self.identity_fields.contains(k))
            .map(|(k, v)| (k.as_str(), v))
            .collect()
    }
}

/// The mentions of one department.
#[derive(Debug, Clone, Serialize)]
pub struct DepartmentMentions {
    /// Department id (folder name).
    pub department: String,
    /// Its name (from `_department.toml`).
    pub name: String,
    /// Its mentions, by dataset and position.
    pub mentions: Vec<MentionRecord>,
}

/// The 360° view of a golden record.
#[derive(Debug, Clone, Serialize)]
pub struct View {
    /// `person` or `entity`.
    pub kind: Kind,
    /// The matching run shown.
    pub run_id: String,
    /// The golden record.
    pub golden: Golden,
    /// Every mention, department by department.
    pub departments: Vec<DepartmentMentions>,
    /// Pending review pairs that involve this record.
    pub review: Vec<ReviewItem>,
}

/// Builds the 360° view of golden record `gid`.
pub async fn view(project: &Project, run: &Run, gid: &str) -> Result<View> {
    let golden = golden_records(project, run, &[gid.to_string()])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| LookupError::Retired {
            gid: gid.to_string(),
            merged_into: None,
        })?;
    let mentions = mentions_where(run, &format!("x.gid = {}", lit(gid))).await?;
    let records = staged_records(project, run, &mentions).await?;
    let mut by_dept: BTreeMap<String, Vec<MentionRecord>> = BTreeMap::new();
    for (mut m, (record, flags)) in mentions.into_iter().zip(records) {
        let p = project.pipeline(&m.pipeline);
        let withheld = p.filter(|p| not_shared(p)).map(|p| {
            format!(
                "不予共享: only users of department `{}` may read its records",
                p.department
            )
        });
        if withheld.is_some() {
            m.record_key = None;
        }
        let department = p
            .map(|p| p.department.clone())
            .unwrap_or_else(|| m.pipeline.split('.').next().unwrap_or("").to_string());
        let identity_fields = p
            .and_then(|p| p.def.identity.iter().find(|i| i.role == m.role))
            .map(|i| i.fields().map(|(_, f)| f.get_ref().clone()).collect())
            .unwrap_or_default();
        by_dept.entry(department).or_default().push(MentionRecord {
            dataset_title: p.map(|p| p.def.catalog.title.clone()).unwrap_or_default(),
            mention: m,
            record,
            flags,
            withheld,
            identity_fields,
        });
    }
    let departments = by_dept
        .into_iter()
        .map(|(d, mentions)| DepartmentMentions {
            name: project
                .departments
                .get(&d)
                .map(|x| x.file.name.clone())
                .unwrap_or_else(|| d.clone()),
            department: d,
            mentions,
        })
        .collect();
    let review = pending(project, run)
        .await?
        .into_iter()
        .filter(|r| {
            [&r.a, &r.b]
                .iter()
                .any(|m| m.as_ref().and_then(|m| m.gid.as_deref()) == Some(gid))
        })
        .collect();
    Ok(View {
        kind: run.kind,
        run_id: run.current.run_id.clone(),
        golden,
        departments,
        review,
    })
}

type Staged = (Option<Fields>, Option<String>);

/// The staged record behind every mention (one query per pipeline).
async fn staged_records(project: &Project, run: &Run, mentions: &[Mention]) -> Result<Vec<Staged>> {
    let mut out: Vec<Staged> = vec![(None, None); mentions.len()];
    let mut by_pipeline: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, m) in mentions.iter().enumerate() {
        by_pipeline.entry(&m.pipeline).or_default().push(i);
    }
    for (pipeline, idx) in by_pipeline {
        let Some(p) = project.pipeline(pipeline) else {
            continue;
        };
        if not_shared(p) {
            continue; // withheld: see `MentionRecord::withheld`
        }
        let conds: Vec<String> = idx
            .iter()
            .map(|&i| {
                let m = &mentions[i];
                format!(
                    "(_source_file = {} AND _source_row = {} AND {})",
                    lit(&m.source_file),
                    m.source_row,
                    match &m.source_sheet {
                        Some(s) => format!("_source_sheet = {}", lit(s)),
                        None => "_source_sheet IS NULL".into(),
                    }
                )
            })
            .collect();
        let sql = format!(
            "SELECT * FROM {}.{}.{} WHERE {}",
            ident(civhub_engine::tables::STAGING_CATALOG),
            ident(&p.department),
            ident(&p.dataset),
            conds.join(" OR ")
        );
        // A table that cannot be read (re-ingested under a new schema, …)
        // leaves the records out rather than failing the whole view.
        let Ok(batches) = collect(run.ctx(), &sql).await else {
            continue;
        };
        let mut at: HashMap<(String, Option<String>, i64), Staged> = HashMap::new();
        for r in rows(&batches) {
            let key = (
                r.text("_source_file").unwrap_or_default(),
                r.text("_source_sheet"),
                r.get("_source_row").and_then(Value::as_i64).unwrap_or(0),
            );
            let flags = r.text("_flags").filter(|s| !s.is_empty());
            let fields = Fields(
                r.0.into_iter()
                    .filter(|(k, _)| !k.starts_with('_'))
                    .collect(),
            );
            at.insert(key, (Some(fields), flags));
        }
        for i in idx {
            let m = &mentions[i];
            if let Some(s) = at.get(&(m.source_file.clone(), m.source_sheet.clone(), m.source_row))
            {
                out[i] = s.clone();
            }
        }
    }
    Ok(out)
}

/// A 不予共享 dataset: its records stay out of the view (the local operator's
/// `civhub sql` session holds no restricted table either, docs/ACCESS.md).
fn not_shared(p: &civhub_ingest::config::Pipeline) -> bool {
    *p.def.catalog.sharing.get_ref() == civhub_core::SharingType::NotShared
}
