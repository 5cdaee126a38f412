//! The shared data catalog (数据共享目录), published as SQL tables:
//! `catalog.datasets`, `catalog.columns`, `catalog.versions`,
//! `catalog.lineage` and `catalog.quality`.
//!
//! Per dataset it carries the core metadata of the national guide for
//! government information resource catalogs (政务信息资源目录编制指南): resource
//! classification and code, name, providing department and its code, summary,
//! format, information items (fields, type, sharing, sensitivity), sharing
//! attributes (type, conditions, method), open attribute, update cycle,
//! release date, related resources (by name and by resource code) — plus where it comes from (lineage, down
//! to columns), its versions, its freshness and its quality. Quality figures
//! are counts and rates only: no value of a column ever appears in them.

use crate::config::Base;
use crate::delta;
use crate::publish::{Planned, Source, table_dir};
use crate::release::{self, Release, ReleasedTable};
use arrow::array::{ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use civhub_core::{PiiClass, SharingType, UpdateCycle};
use civhub_ingest::config::{ColumnSource, Format, Pipeline, Project};
use civhub_ingest::manifest::Manifest;
use civhub_ingest::run::staging_dir;
use civhub_mdm::sql::{collect, ident, int64, utf8};
use datafusion::datasource::MemTable;
use datafusion::error::Result;
use datafusion::prelude::SessionContext;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Catalog table names.
pub const TABLES: [&str; 5] = ["datasets", "columns", "versions", "lineage", "quality"];

/// A column of a catalog table under construction.
enum Col {
    S(Vec<Option<String>>),
    I(Vec<Option<i64>>),
    F(Vec<Option<f64>>),
    B(Vec<Option<bool>>),
}

/// A catalog table under construction: named columns filled row by row.
struct Builder {
    cols: Vec<(&'static str, Col)>,
}

impl Builder {
    fn new(spec: &[(&'static str, char)]) -> Self {
        Builder {
            cols: spec
                .iter()
                .map(|(n, t)| {
                    let c = match t {
                        'i' => Col::I(Vec::new()),
                        'f' => Col::F(Vec::new()),
                        'b' => Col::B(Vec::new()),
                        _ => Col::S(Vec::new()),
                    };
                    (*n, c)
                })
                .collect(),
        }
    }

    fn s(&mut self, i: usize, v: Option<impl Into<String>>) {
        if let Col::S(c) = &mut self.cols[i].1 {
            c.push(v.map(Into::into));
        }
    }
    fn i(&mut self, i: usize, v: Option<i64>) {
        if let Col::I(c) = &mut self.cols[i].1 {
            c.push(v);
        }
    }
    fn f(&mut self, i: usize, v: Option<f64>) {
        if let Col::F(c) = &mut self.cols[i].1 {
            c.push(v);
        }
    }
    fn b(&mut self, i: usize, v: Option<bool>) {
        if let Col::B(c) = &mut self.cols[i].1 {
            c.push(v);
        }
    }

    /// The position of column `name` (a name the spec lists).
    fn idx(&self, name: &str) -> usize {
        self.cols
            .iter()
            .position(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("catalog column `{name}` is not in the spec"))
    }

    fn batch(self) -> Result<RecordBatch> {
        let fields: Vec<Field> = self
            .cols
            .iter()
            .map(|(n, c)| {
                let t = match c {
                    Col::S(_) => DataType::Utf8,
                    Col::I(_) => DataType::Int64,
                    Col::F(_) => DataType::Float64,
                    Col::B(_) => DataType::Boolean,
                };
                Field::new(*n, t, true)
            })
            .collect();
        let arrays: Vec<ArrayRef> = self
            .cols
            .into_iter()
            .map(|(_, c)| -> ArrayRef {
                match c {
                    Col::S(v) => Arc::new(StringArray::from(v)),
                    Col::I(v) => Arc::new(Int64Array::from(v)),
                    Col::F(v) => Arc::new(Float64Array::from(v)),
                    Col::B(v) => Arc::new(BooleanArray::from(v)),
                }
            })
            .collect();
        Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)?)
    }
}

/// 资源格式 of a source format.
fn format_name(f: Format) -> &'static str {
    match f {
        Format::Csv | Format::Xlsx => "电子表格",
        Format::Json | Format::Ndjson => "服务接口",
        Format::Parquet => "数据库",
    }
}

fn class_digit(c: civhub_ingest::config::Classification) -> char {
    match c {
        civhub_ingest::config::Classification::Base => '1',
        civhub_ingest::config::Classification::Theme => '2',
        civhub_ingest::config::Classification::Department => '3',
    }
}

/// The resource code (信息资源代码): region, classification digit, the
/// department's position and the dataset's position — stable while the
/// project's folders keep their names.
fn resource_code(
    project: &Project,
    class: civhub_ingest::config::Classification,
    dept: &str,
    seq: usize,
) -> String {
    let region = project
        .file
        .project
        .region_code
        .as_ref()
        .map(|r| r.get_ref().clone())
        .unwrap_or_else(|| "000000".into());
    let d = project
        .departments
        .keys()
        .position(|k| k == dept)
        .map(|i| i + 1)
        .unwrap_or(0);
    format!("{region}-{}{d:02}-{seq:04}", class_digit(class))
}

/// Who may read a table of `sharing` (`catalog.datasets.readable_by`):
/// `all` (无条件共享: every authenticated user), `grant` (有条件共享: the
/// roles and departments a grant of access/policy.toml names) or `provider`
/// (不予共享: users of the providing department only).
pub fn readable_by(sharing: SharingType) -> &'static str {
    match sharing {
        SharingType::Unconditional => "all",
        SharingType::Conditional => "grant",
        SharingType::NotShared => "provider",
    }
}

/// Builds the five catalog tables and publishes them as Delta tables.
pub async fn publish_catalog(
    project: &Project,
    bases: &[Base],
    planned: &[Planned],
    release: &Release,
    ctx: &SessionContext,
    run_id: &str,
) -> Result<Vec<(String, ReleasedTable)>> {
    let now = chrono::Utc::now();
    let published: BTreeMap<String, &Planned> = planned
        .iter()
        .map(|p| match &p.source {
            Source::Dataset(id) => (id.clone(), p),
            Source::Base(_, _) => (p.qualified(), p),
        })
        .collect();

    let mut releases = release::all(&project.warehouse);
    releases.push(release.clone());
    // When each pipeline last committed new source data (its staging table).
    let ingested: BTreeMap<&str, String> = project
        .pipelines
        .iter()
        .filter_map(|p| {
            let m = Manifest::load(&staging_dir(&project.warehouse, &p.id)).ok()??;
            Some((p.id.as_str(), m.committed_at))
        })
        .collect();
    // What each published base table reads (also its lineage, below).
    let mut base_inputs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for b in bases {
        for t in &b.file.tables {
            let name = format!("{}.{}", b.file.schema.get_ref(), t.name.get_ref());
            if let Some(pl) = published.get(&name) {
                base_inputs.insert(name, referenced_tables(ctx, &pl.sql).await?);
            }
        }
    }

    // catalog.datasets
    let mut ds = Builder::new(&[
        ("dataset", 's'),
        ("resource_code", 's'),
        ("title", 's'),
        ("title_en", 's'),
        ("description", 's'),
        ("classification", 's'),
        ("category", 's'),
        ("department", 's'),
        ("department_name", 's'),
        ("department_code", 's'),
        ("format", 's'),
        ("sharing_type", 's'),
        ("sharing_conditions", 's'),
        ("sharing_method", 's'),
        ("open_type", 's'),
        ("update_cycle", 's'),
        ("release_date", 's'),
        ("related", 's'),
        ("related_codes", 's'),
        ("tags", 's'),
        ("schema_name", 's'),
        ("definition", 's'),
        ("published", 'b'),
        ("table_name", 's'),
        ("readable_by", 's'),
        ("version", 'i'),
        ("release", 'i'),
        ("rows", 'i'),
        ("last_ingested_at", 's'),
        ("overdue", 'b'),
        ("last_version_at", 's'),
        ("max_age_days", 'i'),
    ]);
    // Every department dataset's resource code first: `related_codes`
    // names the related datasets by theirs (关联资源代码).
    let mut seq_by_dept: BTreeMap<String, usize> = BTreeMap::new();
    let codes: BTreeMap<&str, String> = project
        .pipelines
        .iter()
        .map(|p| {
            let c = &p.def.catalog;
            let seq = {
                let e = seq_by_dept.entry(p.department.clone()).or_default();
                *e += 1;
                *e
            };
            let code = c.resource_code.clone().unwrap_or_else(|| {
                resource_code(project, *c.classification.get_ref(), &p.department, seq)
            });
            (p.id.as_str(), code)
        })
        .collect();
    let (published_i, table_i, readable_i, version_i, release_i, rows_i) = (
        ds.idx("published"),
        ds.idx("table_name"),
        ds.idx("readable_by"),
        ds.idx("version"),
        ds.idx("release"),
        ds.idx("rows"),
    );
    let (ingested_i, overdue_i, version_at_i, max_age_i) = (
        ds.idx("last_ingested_at"),
        ds.idx("overdue"),
        ds.idx("last_version_at"),
        ds.idx("max_age_days"),
    );
    for p in &project.pipelines {
        let c = &p.def.catalog;
        let dept = &project.departments[&p.department];
        let manifest = Manifest::load(&staging_dir(&project.warehouse, &p.id))
            .ok()
            .flatten();
        let last = ingested.get(p.id.as_str()).cloned();
        let cycle = *c.update_cycle.get_ref();
        let table = published.get(&p.id).map(|t| t.qualified());
        let rt = table.as_ref().and_then(|t| release.tables.get(t));
        let vals: Vec<Option<String>> = vec![
            Some(p.id.clone()),
            codes.get(p.id.as_str()).cloned(),
            Some(c.title.clone()),
            c.title_en.clone(),
            Some(c.description.clone()),
            Some(c.classification.get_ref().as_str().to_string()),
            c.category.clone(),
            Some(p.department.clone()),
            Some(dept.file.name.clone()),
            Some(dept.file.code.get_ref().clone()),
            Some(format_name(*p.def.source.format.get_ref()).to_string()),
            Some(c.sharing.get_ref().as_str().to_string()),
            c.sharing_conditions.clone(),
            Some(sharing_method(c.sharing_method).to_string()),
            Some(open_type(c.open).to_string()),
            Some(c.update_cycle.get_ref().as_str().to_string()),
            c.release_date.as_ref().map(|d| d.get_ref().clone()),
            Some(
                c.related
                    .iter()
                    .map(|r| r.get_ref().clone())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            // In the order of `related`; validation makes every name a
            // dataset of the project, so each has a code.
            Some(
                c.related
                    .iter()
                    .filter_map(|r| codes.get(r.get_ref().as_str()).cloned())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            Some(c.tags.join(",")),
            Some(p.schema.name.clone()),
            Some(p.display.clone()),
        ];
        for (i, v) in vals.into_iter().enumerate() {
            ds.s(i, v);
        }
        ds.b(published_i, Some(table.is_some()));
        ds.s(table_i, table.clone());
        ds.s(readable_i, Some(readable_by(*c.sharing.get_ref())));
        ds.i(version_i, rt.map(|r| r.version));
        ds.i(release_i, rt.map(|_| release.number as i64));
        ds.i(
            rows_i,
            Some(rt.map(|r| r.rows as i64).unwrap_or_else(|| {
                manifest
                    .as_ref()
                    .map(|m| m.rows_staged() as i64)
                    .unwrap_or(0)
            })),
        );
        ds.b(overdue_i, Some(overdue(cycle, last.as_deref(), now)));
        ds.s(ingested_i, last);
        ds.s(
            version_at_i,
            table.as_ref().and_then(|t| version_time(&releases, t)),
        );
        ds.i(max_age_i, cycle.max_age_days().map(i64::from));
    }
    for (bi, b) in bases.iter().enumerate() {
        let dept = &project.departments[b.file.provider.get_ref()];
        for (ti, t) in b.file.tables.iter().enumerate() {
            let name = format!("{}.{}", b.file.schema.get_ref(), t.name.get_ref());
            let rt = release.tables.get(&name);
            let vals: Vec<Option<String>> = vec![
                Some(name.clone()),
                Some(resource_code(
                    project,
                    t.classification,
                    b.file.provider.get_ref(),
                    900 + bi * 10 + ti,
                )),
                Some(t.title.clone()),
                t.title_en.clone(),
                Some(t.description.clone()),
                Some(t.classification.as_str().to_string()),
                t.category.clone(),
                Some(b.file.provider.get_ref().clone()),
                Some(dept.file.name.clone()),
                Some(dept.file.code.get_ref().clone()),
                Some("数据库".to_string()),
                Some(t.sharing.as_str().to_string()),
                t.sharing_conditions.clone(),
                Some("共享平台".to_string()),
                Some("不予开放".to_string()),
                Some(t.update_cycle.as_str().to_string()),
                None,
                None,
                None,
                Some(t.tags.join(",")),
                None,
                Some(b.display.clone()),
            ];
            for (i, v) in vals.into_iter().enumerate() {
                ds.s(i, v);
            }
            ds.b(published_i, Some(true));
            ds.s(table_i, Some(name.clone()));
            ds.s(readable_i, Some(readable_by(t.sharing)));
            ds.i(version_i, rt.map(|r| r.version));
            ds.i(release_i, Some(release.number as i64));
            ds.i(rows_i, rt.map(|r| r.rows as i64));
            // A base table is as fresh as the newest source data it reads.
            let last = base_inputs
                .get(&name)
                .into_iter()
                .flatten()
                .flat_map(|src| input_pipelines(project, src))
                .filter_map(|id| ingested.get(id.as_str()))
                .max()
                .cloned();
            ds.b(
                overdue_i,
                Some(overdue(t.update_cycle, last.as_deref(), now)),
            );
            ds.s(ingested_i, last);
            ds.s(version_at_i, rt.and(version_time(&releases, &name)));
            ds.i(max_age_i, t.update_cycle.max_age_days().map(i64::from));
        }
    }

    // catalog.columns
    let mut cols = Builder::new(&[
        ("dataset", 's'),
        ("column_name", 's'),
        ("ordinal", 'i'),
        ("data_type", 's'),
        ("description", 's'),
        ("description_en", 's'),
        ("pii", 's'),
        ("sensitive", 'b'),
        ("sharing_type", 's'),
        ("source_columns", 's'),
    ]);
    for p in &project.pipelines {
        let sharing = p.def.catalog.sharing.get_ref().as_str();
        for (i, f) in p.schema.fields.iter().enumerate() {
            let sources: Vec<String> = p
                .columns
                .iter()
                .filter(|c| c.field == i)
                .map(|c| match &c.source {
                    ColumnSource::Columns(n) => n.join(" | "),
                    ColumnSource::Sheet => "$sheet".into(),
                    ColumnSource::File => "$file".into(),
                    ColumnSource::Const(v) => format!("= {v}"),
                })
                .collect();
            cols.s(0, Some(p.id.clone()));
            cols.s(1, Some(f.name.clone()));
            cols.i(2, Some(i as i64 + 1));
            cols.s(3, Some(f.field_type.as_str().to_string()));
            cols.s(4, Some(f.description.clone()));
            cols.s(5, Some(f.description_en.clone()));
            cols.s(6, Some(f.pii.as_str().to_string()));
            cols.b(7, Some(f.pii.is_personal()));
            cols.s(8, Some(sharing.to_string()));
            cols.s(9, (!sources.is_empty()).then(|| sources.join("; ")));
        }
        for (j, (col, kind, role)) in civhub_mdm::enrich::gid_columns(p).into_iter().enumerate() {
            cols.s(0, Some(p.id.clone()));
            cols.s(1, Some(col));
            cols.i(2, Some((p.schema.fields.len() + j) as i64 + 1));
            cols.s(3, Some("string".to_string()));
            cols.s(
                4,
                Some(format!(
                    "{}（{role}）的统一标识",
                    if kind == civhub_mdm::settings::Kind::Person {
                        "自然人"
                    } else {
                        "法人"
                    }
                )),
            );
            cols.s(
                5,
                Some(format!(
                    "golden id of the {} mentioned as {role}",
                    kind.as_str()
                )),
            );
            cols.s(6, Some("none".to_string()));
            cols.b(7, Some(false));
            cols.s(8, Some(sharing.to_string()));
            cols.s(9, None::<String>);
        }
    }
    for b in bases {
        for t in &b.file.tables {
            let name = format!("{}.{}", b.file.schema.get_ref(), t.name.get_ref());
            let Some(pl) = published.get(&name) else {
                continue;
            };
            let schema = ctx.sql(&pl.sql).await?.schema().as_arrow().clone();
            // A union-schema table's fields are declared in schemas/*.toml:
            // their PII classes and descriptions come from there unless the
            // base file says otherwise.
            let declared = t
                .union_schema
                .as_ref()
                .and_then(|u| project.schemas.get(u.get_ref()));
            for (i, f) in schema.fields().iter().enumerate() {
                let field = declared.and_then(|s| s.fields.iter().find(|x| &x.name == f.name()));
                let pii = t
                    .pii
                    .get(f.name())
                    .copied()
                    .or(field.map(|x| x.pii))
                    .unwrap_or(PiiClass::None);
                let (desc, desc_en) = match (t.columns.get(f.name()), field) {
                    (Some(d), _) => (Some(d.clone()), None),
                    (None, Some(x)) => {
                        (Some(x.description.clone()), Some(x.description_en.clone()))
                    }
                    (None, None) if declared.is_some() => match union_column(f.name()) {
                        Some((d, e)) => (Some(d.to_string()), Some(e.to_string())),
                        None => (None, None),
                    },
                    (None, None) => (None, None),
                };
                cols.s(0, Some(name.clone()));
                cols.s(1, Some(f.name().clone()));
                cols.i(2, Some(i as i64 + 1));
                cols.s(3, Some(f.data_type().to_string()));
                cols.s(4, desc);
                cols.s(5, desc_en);
                cols.s(6, Some(pii.as_str().to_string()));
                cols.b(7, Some(pii.is_personal()));
                cols.s(8, Some(t.sharing.as_str().to_string()));
                cols.s(9, None::<String>);
            }
        }
    }

    // catalog.versions: every release, every table.
    let mut vs = Builder::new(&[
        ("table_name", 's'),
        ("release", 'i'),
        ("version", 'i'),
        ("published_at", 's'),
        ("run_id", 's'),
        ("rows", 'i'),
        ("changed", 'b'),
    ]);
    for r in &releases {
        for (name, t) in &r.tables {
            vs.s(0, Some(name.clone()));
            vs.i(1, Some(r.number as i64));
            vs.i(2, Some(t.version));
            vs.s(3, Some(r.published_at.clone()));
            vs.s(4, Some(r.run_id.clone()));
            vs.i(5, Some(t.rows as i64));
            vs.b(6, Some(t.changed));
        }
    }

    // catalog.lineage
    let mut lin = Builder::new(&[
        ("from_kind", 's'),
        ("from_name", 's'),
        ("to_kind", 's'),
        ("to_name", 's'),
        ("via", 's'),
        ("from_column", 's'),
        ("to_column", 's'),
    ]);
    let edge = |lin: &mut Builder,
                fk: &str,
                f: String,
                tk: &str,
                t: String,
                via: &str,
                fc: Option<String>,
                tc: Option<String>| {
        lin.s(0, Some(fk));
        lin.s(1, Some(f));
        lin.s(2, Some(tk));
        lin.s(3, Some(t));
        lin.s(4, Some(via));
        lin.s(5, fc);
        lin.s(6, tc);
    };
    for p in &project.pipelines {
        let export = p.def.source.path.get_ref().clone();
        edge(
            &mut lin,
            "export",
            export.clone(),
            "pipeline",
            p.id.clone(),
            &p.display,
            None,
            None,
        );
        edge(
            &mut lin,
            "pipeline",
            p.id.clone(),
            "staging",
            format!("staging.{}.{}", p.department, p.dataset),
            "ingest",
            None,
            None,
        );
        for c in &p.columns {
            if let ColumnSource::Columns(names) = &c.source {
                edge(
                    &mut lin,
                    "export",
                    export.clone(),
                    "staging",
                    format!("staging.{}.{}", p.department, p.dataset),
                    "ingest",
                    Some(names.join(" | ")),
                    Some(p.schema.fields[c.field].name.clone()),
                );
            }
        }
        if !p.def.identity.is_empty() {
            for kind in ["person", "entity"] {
                if civhub_mdm::enrich::gid_columns(p)
                    .iter()
                    .any(|(_, k, _)| k.as_str() == kind)
                {
                    edge(
                        &mut lin,
                        "staging",
                        format!("staging.{}.{}", p.department, p.dataset),
                        "matching",
                        format!("civhub.mdm.{kind}_golden"),
                        "match",
                        None,
                        None,
                    );
                }
            }
        }
        if let Some(t) = published.get(&p.id) {
            edge(
                &mut lin,
                "staging",
                format!("staging.{}.{}", p.department, p.dataset),
                "published",
                t.qualified(),
                "publish",
                None,
                None,
            );
        }
    }
    for b in bases {
        for t in &b.file.tables {
            let name = format!("{}.{}", b.file.schema.get_ref(), t.name.get_ref());
            let Some(inputs) = base_inputs.get(&name) else {
                continue;
            };
            for src in inputs {
                let kind = if src.starts_with("civhub.mdm") {
                    "matching"
                } else if src.starts_with("enriched") {
                    "staging"
                } else {
                    "table"
                };
                let src = src.replacen("enriched.", "staging.", 1);
                edge(
                    &mut lin,
                    kind,
                    src,
                    "published",
                    name.clone(),
                    "publish",
                    None,
                    None,
                );
            }
        }
    }

    // catalog.quality: counts and rates only.
    let mut q = Builder::new(&[
        ("dataset", 's'),
        ("metric", 's'),
        ("detail", 's'),
        ("value", 'f'),
    ]);
    for p in &project.pipelines {
        quality(project, p, ctx, &mut q).await?;
    }

    let batches = vec![
        ("datasets", ds.batch()?),
        ("columns", cols.batch()?),
        ("versions", vs.batch()?),
        ("lineage", lin.batch()?),
        ("quality", q.batch()?),
    ];
    let mut out = Vec::new();
    for (name, batch) in batches {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        let mut w = arrow::json::LineDelimitedWriter::new(Vec::new());
        w.write(&batch)?;
        w.finish()?;
        h.update(&w.into_inner());
        let fp = format!("{:032x}", h.digest128());
        let dir = table_dir(project, "catalog", name);
        let existing = delta::open(&dir).await?;
        let rows = batch.num_rows() as u64;
        let (version, changed) = match &existing {
            Some(t) if delta::latest_fingerprint(t).await?.as_deref() == Some(fp.as_str()) => {
                (t.version().map(|v| v as i64).unwrap_or(0), false)
            }
            _ => {
                let mem = MemTable::try_new(batch.schema(), vec![vec![batch]])?;
                let tmp = format!("__catalog_{name}");
                ctx.register_table(&tmp, Arc::new(mem))?;
                let df = ctx.table(&tmp).await?;
                let v = delta::overwrite(
                    ctx,
                    &dir,
                    df.logical_plan().clone(),
                    &fp,
                    run_id,
                    &format!("catalog.{name}"),
                    "",
                )
                .await?;
                ctx.deregister_table(&tmp)?;
                (v, true)
            }
        };
        out.push((
            format!("catalog.{name}"),
            ReleasedTable {
                path: format!("catalog/{name}"),
                version,
                fingerprint: fp,
                rows,
                changed,
                restricted: None,
            },
        ));
    }
    Ok(out)
}

/// Whether a dataset whose source data last changed at `last` is overdue at
/// `now` for its update cycle: more time has passed than the cycle allows
/// ([`UpdateCycle::max_age_days`]; 每日 is overdue 24 hours after its last
/// delivery). Never overdue when the cycle sets no deadline (不定时); always
/// overdue when no data ever arrived.
pub(crate) fn overdue(
    cycle: UpdateCycle,
    last: Option<&str>,
    now: chrono::DateTime<chrono::Utc>,
) -> bool {
    match (cycle.max_age_days(), last.and_then(release::parse_time)) {
        (Some(days), Some(t)) => now - t > chrono::Duration::days(i64::from(days)),
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// When the version of `table` in the newest release was written: the time
/// of the first release that pinned that version.
fn version_time(releases: &[Release], table: &str) -> Option<String> {
    let version = releases.last()?.tables.get(table)?.version;
    releases
        .iter()
        .find(|r| r.tables.get(table).is_some_and(|t| t.version == version))
        .map(|r| r.published_at.clone())
}

/// The pipelines whose staged data a base table input (`enriched.d.n`,
/// `staging.d.n` or `civhub.mdm.<kind>_…`) carries.
fn input_pipelines(project: &Project, input: &str) -> Vec<String> {
    let parts: Vec<&str> = input.split('.').collect();
    match parts.as_slice() {
        ["enriched" | "staging", d, n] => vec![format!("{d}.{n}")],
        ["civhub", "mdm", t] => project
            .pipelines
            .iter()
            .filter(|p| {
                civhub_mdm::enrich::gid_columns(p)
                    .iter()
                    .any(|(_, k, _)| t.starts_with(&format!("{}_", k.as_str())))
            })
            .map(|p| p.id.clone())
            .collect(),
        _ => Vec::new(),
    }
}

/// Descriptions of the columns a union-schema table adds to its schema's fields.
fn union_column(name: &str) -> Option<(&'static str, &'static str)> {
    Some(match name {
        "person_gid" => ("自然人统一标识", "golden id of the person"),
        "entity_gid" => ("法人统一标识", "golden id of the legal entity"),
        "source_dataset" => ("来源数据集", "dataset the row comes from"),
        "_source_file" => ("来源文件", "export file the row comes from"),
        "_source_row" => ("来源行号", "row in that file"),
        _ => return None,
    })
}

fn sharing_method(m: civhub_ingest::config::SharingMethod) -> &'static str {
    match m {
        civhub_ingest::config::SharingMethod::Platform => "共享平台",
        civhub_ingest::config::SharingMethod::Email => "邮件",
        civhub_ingest::config::SharingMethod::Media => "介质",
    }
}

fn open_type(o: civhub_ingest::config::OpenType) -> &'static str {
    match o {
        civhub_ingest::config::OpenType::Closed => "不予开放",
        civhub_ingest::config::OpenType::Conditional => "有条件开放",
        civhub_ingest::config::OpenType::Open => "无条件开放",
    }
}

/// Tables a query reads, as qualified names.
async fn referenced_tables(ctx: &SessionContext, sql: &str) -> Result<Vec<String>> {
    use datafusion::common::tree_node::TreeNode;
    let plan = ctx.sql(sql).await?.into_unoptimized_plan();
    let mut names = Vec::new();
    plan.apply(|node| {
        if let datafusion::logical_expr::LogicalPlan::TableScan(s) = node {
            names.push(s.table_name.to_string());
        }
        Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
    })?;
    names.sort();
    names.dedup();
    Ok(names)
}

/// Row counts, quarantine by rule, null rates and rule pass rates of one dataset.
async fn quality(
    project: &Project,
    p: &Pipeline,
    ctx: &SessionContext,
    q: &mut Builder,
) -> Result<()> {
    let m = Manifest::load(&staging_dir(&project.warehouse, &p.id))
        .ok()
        .flatten();
    let (rows_in, staged, quarantined) = m
        .as_ref()
        .map(|m| {
            (
                m.files.iter().map(|f| f.rows_in).sum::<u64>(),
                m.rows_staged(),
                m.rows_quarantined(),
            )
        })
        .unwrap_or((0, 0, 0));
    let put = |q: &mut Builder, metric: &str, detail: Option<String>, v: f64| {
        q.s(0, Some(p.id.clone()));
        q.s(1, Some(metric));
        q.s(2, detail);
        q.f(3, Some(v));
    };
    put(q, "rows_in", None, rows_in as f64);
    put(q, "rows_staged", None, staged as f64);
    put(q, "rows_quarantined", None, quarantined as f64);
    if rows_in == 0 {
        return Ok(());
    }
    let table = format!("{}.{}", ident(&p.department), ident(&p.dataset));
    let mut failures: BTreeMap<String, u64> = BTreeMap::new();
    for b in collect(
        ctx,
        &format!("SELECT _rule, count(*) FROM quarantine.{table} GROUP BY _rule"),
    )
    .await?
    {
        let r = utf8(b.column(0))?;
        let n = int64(b.column(1))?;
        for i in 0..b.num_rows() {
            put(
                q,
                "quarantined_by_rule",
                Some(r.value(i).to_string()),
                n.value(i) as f64,
            );
            *failures.entry(r.value(i).to_string()).or_default() += n.value(i) as u64;
        }
    }
    // Null rates of every field of the staged rows.
    let counts: Vec<String> = p
        .schema
        .fields
        .iter()
        .map(|f| format!("count({})", ident(&f.name)))
        .collect();
    let b = collect(
        ctx,
        &format!(
            "SELECT count(*), {} FROM staging.{table}",
            counts.join(", ")
        ),
    )
    .await?;
    if let Some(b) = b.first() {
        let total = int64(b.column(0))?.value(0).max(1) as f64;
        for (i, f) in p.schema.fields.iter().enumerate() {
            let present = int64(b.column(i + 1))?.value(0) as f64;
            put(q, "null_rate", Some(f.name.clone()), 1.0 - present / total);
        }
    }
    // Rule pass rates: rows neither quarantined by nor flagged with the rule.
    for r in &p.rules {
        let flagged = if r.severity == civhub_ingest::config::Severity::Warn {
            let like = format!("%{}:%", r.id.replace('%', "\\%"));
            let b = collect(
                ctx,
                &format!(
                    "SELECT count(*) FROM staging.{table} WHERE _flags LIKE {}",
                    civhub_mdm::sql::lit(&like)
                ),
            )
            .await?;
            int64(b[0].column(0))?.value(0) as u64
        } else {
            0
        };
        let failed = failures.get(&r.id).copied().unwrap_or(0) + flagged;
        put(
            q,
            "rule_pass_rate",
            Some(r.id.clone()),
            1.0 - failed as f64 / rows_in as f64,
        );
    }
    let _ = SharingType::Unconditional;
    Ok(())
}
