//! Browsing the shared data catalog (数据共享目录): search, one dataset's
//! whole entry, lists by department.
//!
//! Everything is read through the published `catalog.*` tables with the same
//! read-only session `civhub sql` uses, so `--as-of` works here too and what
//! a person browses is exactly what an analyst can query. The catalog is
//! small (one row per dataset, field, version, lineage edge and quality
//! figure), so [`Catalog::load`] reads all five tables once and the rest is
//! plain Rust over typed rows — simpler than one SQL query per question,
//! and it lets the static site ([`crate::site`]) reuse the same structs.
//!
//! Freshness is judged when the catalog is read, not only when it was
//! published: a dataset whose department stopped delivering becomes overdue
//! even if nobody publishes again. With `--as-of` it is judged at the time of
//! that release.

mod search;

pub use search::{Match, Place, SearchHit};

use crate::catalog::overdue;
use crate::session::{SqlError, SqlSession};
use civhub_core::UpdateCycle;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One row of `catalog.datasets`: a dataset's entry in the catalog.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Dataset {
    /// `department.dataset`, or `schema.table` for base database tables.
    pub dataset: String,
    /// 信息资源代码.
    pub resource_code: Option<String>,
    /// 信息资源名称 (中文).
    pub title: String,
    /// English title.
    pub title_en: Option<String>,
    /// 信息资源摘要.
    pub description: Option<String>,
    /// 资源分类: 基础, 主题 or 部门.
    pub classification: Option<String>,
    /// Sub-class, e.g. 社会救助.
    pub category: Option<String>,
    /// Providing department (its folder name).
    pub department: String,
    /// 提供方: the department's name.
    pub department_name: Option<String>,
    /// 提供方代码: the department's unified social credit code.
    pub department_code: Option<String>,
    /// 信息资源格式.
    pub format: Option<String>,
    /// 共享类型: 无条件共享, 有条件共享 or 不予共享.
    pub sharing_type: String,
    /// 共享条件.
    pub sharing_conditions: Option<String>,
    /// 共享方式.
    pub sharing_method: Option<String>,
    /// 开放属性.
    pub open_type: Option<String>,
    /// 更新周期.
    pub update_cycle: String,
    /// 发布日期.
    pub release_date: Option<String>,
    /// 关联资源: the related datasets, by name.
    #[serde(deserialize_with = "comma_list")]
    pub related: Vec<String>,
    /// 关联资源代码: the related datasets' resource codes, in the order of
    /// `related` (empty in catalogs published before the column existed).
    #[serde(deserialize_with = "comma_list")]
    pub related_codes: Vec<String>,
    /// Keywords.
    #[serde(deserialize_with = "comma_list")]
    pub tags: Vec<String>,
    /// Canonical schema of a department dataset.
    pub schema_name: Option<String>,
    /// The file that defines it (pipeline or base database file).
    pub definition: Option<String>,
    /// Whether it is published as a table in this release (every dataset
    /// is; in catalogs of releases before restricted tables, 不予共享 ones
    /// were listed only).
    pub published: bool,
    /// The published table.
    pub table_name: Option<String>,
    /// Who may read the table: `all`, `grant` or `provider` (see
    /// [`crate::catalog::readable_by`]); absent in older catalogs.
    pub readable_by: Option<String>,
    /// Delta version of the table in this release.
    pub version: Option<i64>,
    /// Release the catalog describes.
    pub release: Option<i64>,
    /// Rows (published, or staged when not published).
    pub rows: Option<i64>,
    /// When new source data last arrived.
    pub last_ingested_at: Option<String>,
    /// Overdue when the catalog was published.
    pub overdue: Option<bool>,
    /// When the table's current version was written.
    pub last_version_at: Option<String>,
    /// Days the update cycle allows between deliveries (none for 不定时).
    pub max_age_days: Option<i64>,
}

impl Dataset {
    /// Who may read the dataset's table, in words.
    pub fn readers(&self) -> String {
        match self.readable_by.as_deref() {
            Some("all") => "every department (无条件共享)".into(),
            Some("grant") => {
                "the roles and departments a grant in access/policy.toml names (有条件共享)".into()
            }
            Some("provider") => format!(
                "its providing department `{}` only (不予共享); other departments and the plain `civhub sql` session are refused",
                self.department
            ),
            Some(other) => other.to_string(),
            None if self.table_name.is_none() => "nobody: not published".into(),
            None => "—".into(),
        }
    }

    /// The related datasets with their resource codes (`name (code)`).
    pub fn related_with_codes(&self) -> Vec<String> {
        self.related
            .iter()
            .enumerate()
            .map(|(i, r)| match self.related_codes.get(i) {
                Some(c) if self.related_codes.len() == self.related.len() => format!("{r} ({c})"),
                _ => r.clone(),
            })
            .collect()
    }
}

/// One row of `catalog.columns`: an information item (信息项).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Column {
    /// Dataset it belongs to.
    pub dataset: String,
    /// Column name.
    pub column_name: String,
    /// Position, from 1.
    pub ordinal: i64,
    /// Data type.
    pub data_type: String,
    /// Description (中文).
    pub description: Option<String>,
    /// Description (English).
    pub description_en: Option<String>,
    /// PII class (`none`, `id_number`, `name`, …).
    pub pii: String,
    /// Whether it holds personal information.
    pub sensitive: bool,
    /// Sharing type of its dataset.
    pub sharing_type: Option<String>,
    /// Export columns it is read from.
    pub source_columns: Option<String>,
}

/// One row of `catalog.versions`: a table as one release pinned it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Version {
    /// Published table.
    pub table_name: String,
    /// Release number.
    pub release: i64,
    /// Delta version.
    pub version: i64,
    /// When the release was published.
    pub published_at: String,
    /// Run id of the publish.
    pub run_id: String,
    /// Rows.
    pub rows: i64,
    /// Whether this release wrote the version.
    pub changed: bool,
}

/// One row of `catalog.lineage`: data flows from one node to another.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(default)]
pub struct Edge {
    /// `export`, `pipeline`, `staging`, `matching`, `table` or `published`.
    pub from_kind: String,
    /// Source node.
    pub from_name: String,
    /// Kind of the target node.
    pub to_kind: String,
    /// Target node.
    pub to_name: String,
    /// What moves the data (a pipeline file, `ingest`, `match`, `publish`).
    pub via: Option<String>,
    /// Source column(s), for column-level edges.
    pub from_column: Option<String>,
    /// Target column, for column-level edges.
    pub to_column: Option<String>,
}

/// One row of `catalog.quality`: a count or a rate, never a value.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct QualityRow {
    /// Dataset.
    pub dataset: String,
    /// `rows_in`, `rows_staged`, `rows_quarantined`, `quarantined_by_rule`,
    /// `null_rate` or `rule_pass_rate`.
    pub metric: String,
    /// The rule or field it is about.
    pub detail: Option<String>,
    /// The figure.
    pub value: f64,
}

/// The whole catalog of one release.
#[derive(Debug, Clone, Serialize)]
pub struct Catalog {
    /// Release read.
    pub release: u64,
    /// When it was published.
    pub published_at: String,
    /// The time freshness is judged at (now, or the release's time with `--as-of`).
    pub checked_at: String,
    /// `catalog.datasets`, by dataset name.
    pub datasets: Vec<Dataset>,
    /// `catalog.columns`.
    pub columns: Vec<Column>,
    /// `catalog.versions`.
    pub versions: Vec<Version>,
    /// `catalog.lineage`.
    pub lineage: Vec<Edge>,
    /// `catalog.quality`.
    pub quality: Vec<QualityRow>,
}

/// Why browsing failed.
#[derive(Debug, thiserror::Error)]
pub enum BrowseError {
    /// The session or a catalog query failed.
    #[error(transparent)]
    Sql(#[from] SqlError),
    /// No dataset of that name.
    #[error("no dataset `{name}` in the catalog")]
    UnknownDataset {
        /// What was asked for.
        name: String,
        /// The closest names, best first.
        closest: Vec<String>,
    },
    /// No department of that name.
    #[error("no department `{name}` in the catalog")]
    UnknownDepartment {
        /// What was asked for.
        name: String,
        /// The closest names, best first.
        closest: Vec<String>,
    },
    /// A search without words.
    #[error("nothing to search for")]
    EmptyQuery,
}

impl BrowseError {
    /// What would fix it.
    pub fn hint(&self) -> Option<String> {
        let closest = |c: &[String], what: &str| {
            if c.is_empty() {
                format!("`civhub catalog {what}` lists them")
            } else {
                let names: Vec<String> = c.iter().map(|n| format!("`{n}`")).collect();
                format!("did you mean {}?", names.join(", "))
            }
        };
        match self {
            BrowseError::UnknownDataset { closest: c, .. } => Some(closest(c, "list")),
            BrowseError::UnknownDepartment { closest: c, .. } => {
                Some(closest(c, "list` without `--department"))
            }
            BrowseError::EmptyQuery => Some("e.g. `civhub catalog search 低保`".into()),
            BrowseError::Sql(_) => None,
        }
    }
}

fn comma_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    Ok(s.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(String::from)
        .collect())
}

/// Runs a catalog query and reads its rows into `T`.
async fn rows<T: serde::de::DeserializeOwned>(
    session: &SqlSession,
    sql: &str,
) -> Result<Vec<T>, SqlError> {
    let batches = session
        .query(sql)
        .await?
        .collect()
        .await
        .map_err(SqlError::Engine)?;
    let mut w = arrow::json::ArrayWriter::new(Vec::new());
    for b in &batches {
        w.write(b).map_err(|e| SqlError::Engine(e.into()))?;
    }
    w.finish().map_err(|e| SqlError::Engine(e.into()))?;
    let bytes = w.into_inner();
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_slice(&bytes).map_err(|e| {
        SqlError::Engine(datafusion::error::DataFusionError::Execution(format!(
            "cannot read `{sql}`: {e}"
        )))
    })
}

impl Catalog {
    /// Reads the five catalog tables of the session's release. `latest`
    /// judges freshness now; otherwise at the release's own time.
    pub async fn load(session: &SqlSession, latest: bool) -> Result<Catalog, BrowseError> {
        let r = &session.release;
        let checked_at = if latest {
            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        } else {
            r.published_at.clone()
        };
        Ok(Catalog {
            release: r.number,
            published_at: r.published_at.clone(),
            checked_at,
            datasets: rows(session, "SELECT * FROM catalog.datasets ORDER BY dataset").await?,
            columns: rows(
                session,
                "SELECT * FROM catalog.columns ORDER BY dataset, ordinal",
            )
            .await?,
            versions: rows(
                session,
                "SELECT * FROM catalog.versions ORDER BY table_name, release",
            )
            .await?,
            lineage: rows(session, "SELECT * FROM catalog.lineage").await?,
            quality: rows(session, "SELECT * FROM catalog.quality").await?,
        })
    }

    /// The dataset called `name`: its dataset name, its table name, the part
    /// after the dot when that is unique, or its title.
    pub fn find(&self, name: &str) -> Result<&Dataset, BrowseError> {
        let n = name.trim();
        let lower = n.to_lowercase();
        let exact = self.datasets.iter().find(|d| {
            d.dataset == lower
                || d.table_name.as_deref() == Some(lower.as_str())
                || d.title == n
                || d.title_en
                    .as_deref()
                    .is_some_and(|t| t.to_lowercase() == lower)
        });
        if let Some(d) = exact {
            return Ok(d);
        }
        let by_tail: Vec<&Dataset> = self
            .datasets
            .iter()
            .filter(|d| d.dataset.rsplit('.').next() == Some(lower.as_str()))
            .collect();
        if let [d] = by_tail.as_slice() {
            return Ok(d);
        }
        let closest = if by_tail.is_empty() {
            closest(&lower, self.datasets.iter().map(|d| d.dataset.as_str()))
        } else {
            by_tail.iter().map(|d| d.dataset.clone()).collect()
        };
        Err(BrowseError::UnknownDataset {
            name: n.to_string(),
            closest,
        })
    }

    /// Datasets, of one department or all, grouped by department in name order.
    pub fn list(&self, department: Option<&str>) -> Result<Vec<&Dataset>, BrowseError> {
        let Some(dep) = department.map(str::trim) else {
            return Ok(self.datasets.iter().collect());
        };
        let out: Vec<&Dataset> = self
            .datasets
            .iter()
            .filter(|d| d.department == dep || d.department_name.as_deref() == Some(dep))
            .collect();
        if out.is_empty() {
            let names: BTreeSet<&str> = self
                .datasets
                .iter()
                .map(|d| d.department.as_str())
                .collect();
            return Err(BrowseError::UnknownDepartment {
                name: dep.to_string(),
                closest: closest(&dep.to_lowercase(), names.into_iter()),
            });
        }
        Ok(out)
    }

    /// Departments and their datasets, in name order.
    pub fn departments(&self) -> BTreeMap<&str, Vec<&Dataset>> {
        let mut m: BTreeMap<&str, Vec<&Dataset>> = BTreeMap::new();
        for d in &self.datasets {
            m.entry(d.department.as_str()).or_default().push(d);
        }
        m
    }

    /// How fresh `d` is at [`Catalog::checked_at`].
    pub fn freshness(&self, d: &Dataset) -> Freshness {
        let cycle: Option<UpdateCycle> =
            serde_json::from_value(serde_json::Value::String(d.update_cycle.clone())).ok();
        let max_age_days = d
            .max_age_days
            .or_else(|| cycle.and_then(|c| c.max_age_days()).map(i64::from));
        let now = crate::release::parse_time(&self.checked_at).unwrap_or_else(chrono::Utc::now);
        let overdue = match cycle {
            Some(c) => overdue(c, d.last_ingested_at.as_deref(), now),
            None => d.overdue.unwrap_or(false),
        };
        let due_by = match (max_age_days, d.last_ingested_at.as_deref()) {
            (Some(days), Some(t)) => crate::release::parse_time(t).map(|t| {
                (t + chrono::Duration::days(days))
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            }),
            _ => None,
        };
        Freshness {
            update_cycle: d.update_cycle.clone(),
            max_age_days,
            last_version: d.version,
            last_version_at: d.last_version_at.clone(),
            last_data_at: d.last_ingested_at.clone(),
            due_by,
            overdue,
            checked_at: self.checked_at.clone(),
        }
    }

    /// Everything the catalog says about the dataset called `name`.
    pub fn show(&self, name: &str) -> Result<DatasetView, BrowseError> {
        let d = self.find(name)?;
        let table = d.table_name.as_deref().unwrap_or(&d.dataset);
        let fields = self
            .columns
            .iter()
            .filter(|c| c.dataset == d.dataset)
            .cloned()
            .collect();
        let mut versions: Vec<Version> = self
            .versions
            .iter()
            .filter(|v| v.table_name == table && v.changed)
            .cloned()
            .collect();
        versions.sort_by_key(|v| std::cmp::Reverse(v.release));
        Ok(DatasetView {
            dataset: d.clone(),
            fields,
            versions,
            lineage: self.lineage_of(d),
            quality: self.quality_of(&d.dataset),
            freshness: self.freshness(d),
        })
    }

    /// Where `d` comes from and where it goes.
    pub fn lineage_of(&self, d: &Dataset) -> Lineage {
        let id = &d.dataset;
        let own: BTreeSet<String> = [
            id.clone(),
            format!("staging.{id}"),
            d.table_name.clone().unwrap_or_default(),
        ]
        .into_iter()
        .collect();
        // Walk upstream from the dataset's own nodes; other nodes are followed
        // only through matching (whose inputs are listed, not expanded), so a
        // base table shows its inputs without the whole city behind them.
        let mut upstream = Vec::new();
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let mut frontier: Vec<String> = own.iter().cloned().collect();
        while let Some(node) = frontier.pop() {
            for e in self
                .lineage
                .iter()
                .filter(|e| e.to_name == node && e.from_column.is_none())
            {
                if !upstream.contains(e) {
                    upstream.push(e.clone());
                }
                let expand = own.contains(&e.from_name)
                    || e.from_kind == "matching"
                    || e.from_kind == "pipeline";
                if expand && seen.insert(e.from_name.as_str()) {
                    frontier.push(e.from_name.clone());
                }
            }
        }
        upstream.sort_by_key(|e| {
            (
                kind_rank(&e.from_kind),
                e.to_name.clone(),
                e.from_name.clone(),
            )
        });
        let columns = self
            .lineage
            .iter()
            .filter(|e| e.from_column.is_some() && own.contains(&e.to_name))
            .cloned()
            .collect();
        let mut downstream: Vec<Edge> = self
            .lineage
            .iter()
            .filter(|e| {
                e.from_column.is_none() && own.contains(&e.from_name) && !own.contains(&e.to_name)
            })
            .cloned()
            .collect();
        downstream.sort();
        Lineage {
            upstream,
            columns,
            downstream,
        }
    }

    /// Quality figures of one dataset.
    pub fn quality_of(&self, dataset: &str) -> Quality {
        let mut q = Quality::default();
        for r in self.quality.iter().filter(|r| r.dataset == dataset) {
            let fig = || Figure {
                name: r.detail.clone().unwrap_or_default(),
                value: r.value,
            };
            match r.metric.as_str() {
                "rows_in" => q.rows_in = Some(r.value as i64),
                "rows_staged" => q.rows_staged = Some(r.value as i64),
                "rows_quarantined" => q.rows_quarantined = Some(r.value as i64),
                "quarantined_by_rule" => q.quarantined_by_reason.push(fig()),
                "null_rate" => q.null_rates.push(fig()),
                "rule_pass_rate" => q.rule_pass_rates.push(fig()),
                _ => {}
            }
        }
        q
    }
}

fn kind_rank(kind: &str) -> u8 {
    match kind {
        "export" => 0,
        "pipeline" => 1,
        "staging" => 2,
        "matching" => 3,
        _ => 4,
    }
}

/// Up to three names close to `word`, best first.
fn closest<'a>(word: &str, names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut scored: Vec<(f64, &str)> = names
        .map(|n| {
            let tail = n.rsplit('.').next().unwrap_or(n);
            let s = strsim::jaro_winkler(word, n).max(strsim::jaro_winkler(word, tail));
            let s = if n.contains(word) && !word.is_empty() {
                s.max(0.9)
            } else {
                s
            };
            (s, n)
        })
        .filter(|(s, _)| *s >= 0.75)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored
        .into_iter()
        .take(3)
        .map(|(_, n)| n.to_string())
        .collect()
}

/// A dataset's freshness.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Freshness {
    /// Declared update cycle.
    pub update_cycle: String,
    /// Days the cycle allows between deliveries (none for 不定时).
    pub max_age_days: Option<i64>,
    /// Delta version of the published table.
    pub last_version: Option<i64>,
    /// When that version was written.
    pub last_version_at: Option<String>,
    /// When new source data last arrived (a successful ingest that changed the data).
    pub last_data_at: Option<String>,
    /// When it becomes overdue without new data.
    pub due_by: Option<String>,
    /// Whether it is overdue at `checked_at`.
    pub overdue: bool,
    /// When this was judged.
    pub checked_at: String,
}

/// A named figure (a rule, a reason or a field, and its value).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Figure {
    /// Rule, reason or field.
    pub name: String,
    /// Count or rate.
    pub value: f64,
}

/// Quality figures of a dataset: counts and rates only.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Quality {
    /// Data rows read from the exports.
    pub rows_in: Option<i64>,
    /// Rows staged.
    pub rows_staged: Option<i64>,
    /// Rows quarantined.
    pub rows_quarantined: Option<i64>,
    /// Quarantined rows by the rule that refused them.
    pub quarantined_by_reason: Vec<Figure>,
    /// Share of staged rows without a value, per field.
    pub null_rates: Vec<Figure>,
    /// Share of rows that passed each rule.
    pub rule_pass_rates: Vec<Figure>,
}

/// Where a dataset comes from and where it goes.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Lineage {
    /// Table-level edges into the dataset: exports → pipeline → staging →
    /// published, and for base tables their inputs (matching results with
    /// the staging tables they were matched from).
    pub upstream: Vec<Edge>,
    /// Column-level edges: export column(s) → field.
    pub columns: Vec<Edge>,
    /// What is built from it besides its own table (matching, base tables).
    pub downstream: Vec<Edge>,
}

/// Everything the catalog says about one dataset.
#[derive(Debug, Clone, Serialize)]
pub struct DatasetView {
    /// Its catalog entry.
    pub dataset: Dataset,
    /// Its fields (information items).
    pub fields: Vec<Column>,
    /// The versions written of its table, newest first.
    pub versions: Vec<Version>,
    /// Lineage.
    pub lineage: Lineage,
    /// Quality figures.
    pub quality: Quality,
    /// Freshness.
    pub freshness: Freshness,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog(datasets: Vec<Dataset>) -> Catalog {
        Catalog {
            release: 1,
            published_at: "2025-03-01T00:00:00Z".into(),
            checked_at: "2025-03-01T00:00:00Z".into(),
            datasets,
            columns: vec![],
            versions: vec![],
            lineage: vec![],
            quality: vec![],
        }
    }

    fn dataset(name: &str, cycle: &str, last: Option<&str>) -> Dataset {
        Dataset {
            dataset: name.into(),
            department: "d".into(),
            update_cycle: cycle.into(),
            last_ingested_at: last.map(String::from),
            ..Default::default()
        }
    }

    #[test]
    fn overdue_once_the_cycle_has_passed_since_new_data() {
        let c = catalog(vec![]);
        let f = |cycle, last| c.freshness(&dataset("d.x", cycle, last));
        // 31 days allowed for 每月: 30 days old is fine, 32 is not.
        assert!(!f("每月", Some("2025-01-30T00:00:00Z")).overdue);
        assert!(f("每月", Some("2025-01-28T00:00:00Z")).overdue);
        assert_eq!(
            f("每月", Some("2025-01-30T00:00:00Z")).due_by.as_deref(),
            Some("2025-03-02T00:00:00Z")
        );
        // 每日: more than 24 hours.
        assert!(f("每日", Some("2025-02-27T23:00:00Z")).overdue);
        assert!(!f("每日", Some("2025-02-28T01:00:00Z")).overdue);
        // 不定时 never; no data ever is overdue unless 不定时.
        assert!(!f("不定时", Some("2000-01-01T00:00:00Z")).overdue);
        assert!(!f("不定时", None).overdue);
        assert!(f("每年", None).overdue);
    }

    #[test]
    fn names_resolve_by_name_tail_or_title_and_suggest_the_closest() {
        let mut a = dataset("civil_affairs.dibao_member", "每月", None);
        a.title = "城乡低保家庭成员信息".into();
        let b = dataset("civil_affairs.dibao_household", "每月", None);
        let c = catalog(vec![a, b]);
        assert_eq!(
            c.find("dibao_member").unwrap().dataset,
            "civil_affairs.dibao_member"
        );
        assert_eq!(
            c.find("城乡低保家庭成员信息").unwrap().dataset,
            "civil_affairs.dibao_member"
        );
        match c.find("civil_affairs.dibao_membr") {
            Err(BrowseError::UnknownDataset { closest, .. }) => {
                assert_eq!(closest[0], "civil_affairs.dibao_member")
            }
            other => panic!("{other:?}"),
        }
    }
}
