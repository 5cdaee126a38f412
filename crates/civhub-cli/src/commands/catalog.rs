//! `civhub catalog search | show | list`: the shared data catalog
//! (数据共享目录) read through the published `catalog.*` tables.

use super::{load, print_json};
use crate::CliError;
use crate::args::{CatalogAction, CatalogArgs, Global};
use crate::output::{self, clip, thousands, width};
use civhub_ingest::config::Project;
use civhub_warehouse::browse::{BrowseError, Catalog, DatasetView, Edge, Place, SearchHit};
use civhub_warehouse::session::{self, AsOf, SqlError};
use std::fmt::Write as _;
use std::process::ExitCode;

pub fn run(g: &Global, a: CatalogArgs) -> Result<ExitCode, CliError> {
    let project = load(g)?;
    let catalog = open_catalog(&project, a.as_of.as_deref())?;
    match a.action {
        CatalogAction::Search { words } => {
            let query = words.join(" ");
            let hits = catalog.search(&query).map_err(browse_error)?;
            if a.json {
                print_json(&serde_json::json!({
                    "query": query,
                    "release": catalog.release,
                    "hits": hits,
                }))?;
            } else {
                output::out(&search_text(&query, catalog.release, &hits));
            }
        }
        CatalogAction::Show { dataset } => {
            let view = catalog.show(&dataset).map_err(browse_error)?;
            if a.json {
                print_json(&view)?;
            } else {
                output::out(&show_text(&view));
            }
        }
        CatalogAction::List { department } => {
            let list = catalog.list(department.as_deref()).map_err(browse_error)?;
            if a.json {
                let rows: Vec<serde_json::Value> = list
                    .iter()
                    .map(|d| {
                        serde_json::json!({
                            "dataset": d,
                            "freshness": catalog.freshness(d),
                        })
                    })
                    .collect();
                print_json(&rows)?;
            } else {
                output::out(&list_text(&catalog, &list));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads the catalog of the release `--as-of` names (the latest without it).
pub(super) fn open_catalog(project: &Project, as_of: Option<&str>) -> Result<Catalog, CliError> {
    let rt = super::person::runtime()?;
    let as_of = as_of.map(AsOf::parse).unwrap_or(AsOf::Latest);
    rt.block_on(async {
        let s = session::open(&project.warehouse, &as_of)
            .await
            .map_err(BrowseError::Sql)?;
        Catalog::load(&s, as_of == AsOf::Latest).await
    })
    .map_err(browse_error)
}

/// A browsing error as the CLI shows it: the message and its hint.
pub(super) fn browse_error(e: BrowseError) -> CliError {
    match e {
        BrowseError::Sql(SqlError::NothingPublished) => CliError::with_hint(
            "nothing is published yet, so there is no catalog to read",
            "run `civhub run` (or `civhub publish` after ingest and match)",
        ),
        BrowseError::Sql(SqlError::NoRelease(what)) => CliError::with_hint(
            format!("no release {what}"),
            "`civhub sql \"SELECT release, published_at FROM catalog.versions GROUP BY 1, 2\"` lists them",
        ),
        e => CliError::Message {
            hint: e.hint(),
            message: e.to_string(),
        },
    }
}

/// Left-aligns rows of cells by display width (CJK takes two cells).
fn columns(rows: &[Vec<String>], indent: &str) -> String {
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..n)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| width(c))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut s = String::new();
    for r in rows {
        let mut line = String::from(indent);
        for (i, c) in r.iter().enumerate() {
            line.push_str(c);
            if i + 1 < r.len() {
                line.push_str(&" ".repeat(widths[i] - width(c) + 2));
            }
        }
        s.push_str(line.trim_end());
        s.push('\n');
    }
    s
}

fn search_text(query: &str, release: u64, hits: &[SearchHit]) -> String {
    if hits.is_empty() {
        return format!(
            "no dataset matches `{query}` (release {release})\n  hint: every word must match; try fewer words, or `civhub catalog list`"
        );
    }
    let mut s = format!(
        "{} dataset{} match `{query}` (release {release}), best first\n\n",
        hits.len(),
        if hits.len() == 1 { "" } else { "s" }
    );
    let mut rows = vec![vec![
        "dataset".to_string(),
        "title".into(),
        "provider".into(),
        "sharing".into(),
    ]];
    let mut why = Vec::new();
    for h in hits {
        rows.push(vec![
            h.dataset.clone(),
            clip(&h.title, 30),
            clip(&h.provider, 24),
            h.sharing_type.clone(),
        ]);
        why.push(reasons(h));
    }
    let table = columns(&rows, "");
    let mut lines = table.lines();
    let _ = writeln!(s, "{}", lines.next().unwrap_or(""));
    for (line, w) in lines.zip(why) {
        let _ = writeln!(s, "{line}\n    matched: {w}");
    }
    s.trim_end().to_string()
}

/// "title 城乡低保家庭信息 · tag 低保 · fields household_id (家庭编号), … +3".
fn reasons(h: &SearchHit) -> String {
    let mut parts = Vec::new();
    let fields: Vec<&str> = h
        .matched
        .iter()
        .filter(|m| m.place == Place::Field)
        .map(|m| m.text.as_str())
        .collect();
    for m in h.matched.iter().filter(|m| m.place != Place::Field) {
        parts.push(match m.place {
            Place::Description => "description".to_string(),
            p => format!("{} {}", p.as_str(), clip(&m.text, 40)),
        });
    }
    if !fields.is_empty() {
        let shown: Vec<String> = fields.iter().take(3).map(|f| clip(f, 36)).collect();
        let more = if fields.len() > 3 {
            format!(" +{}", fields.len() - 3)
        } else {
            String::new()
        };
        parts.push(format!(
            "field{} {}{more}",
            if fields.len() == 1 { "" } else { "s" },
            shown.join(", ")
        ));
    }
    parts.join(" · ")
}

fn or_dash(s: Option<&str>) -> String {
    s.filter(|s| !s.is_empty()).unwrap_or("—").to_string()
}

fn pct(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

fn show_text(v: &DatasetView) -> String {
    let d = &v.dataset;
    let mut s = format!("{} · {}\n", d.dataset, d.title);
    if let Some(t) = d.title_en.as_deref().filter(|t| !t.is_empty()) {
        let _ = writeln!(s, "{t}");
    }
    if let Some(t) = d.description.as_deref().filter(|t| !t.is_empty()) {
        let _ = writeln!(s, "{t}");
    }
    s.push_str("\ncatalog entry (政务信息资源目录)\n");
    let tags = if d.tags.is_empty() {
        "—".to_string()
    } else {
        d.tags.join(", ")
    };
    let related = if d.related.is_empty() {
        "—".to_string()
    } else {
        d.related_with_codes().join(", ")
    };
    let published = match &d.table_name {
        Some(t) => format!(
            "yes: table {t}, {} rows, Delta version {}, release {}",
            thousands(d.rows.unwrap_or(0).max(0) as u64),
            d.version.map(|v| v.to_string()).unwrap_or_default(),
            d.release.map(|v| v.to_string()).unwrap_or_default()
        ),
        None => format!(
            "no — {} datasets are listed, not published ({} rows staged)",
            d.sharing_type,
            thousands(d.rows.unwrap_or(0).max(0) as u64)
        ),
    };
    let meta = vec![
        vec![
            "resource code".to_string(),
            or_dash(d.resource_code.as_deref()),
        ],
        vec![
            "classification".into(),
            match (&d.classification, &d.category) {
                (Some(c), Some(k)) if !k.is_empty() => format!("{c} / {k}"),
                (c, _) => or_dash(c.as_deref()),
            },
        ],
        vec![
            "provider".into(),
            format!(
                "{} ({}) · code {}",
                or_dash(d.department_name.as_deref()),
                d.department,
                or_dash(d.department_code.as_deref())
            ),
        ],
        vec!["format".into(), or_dash(d.format.as_deref())],
        vec!["sharing type".into(), d.sharing_type.clone()],
        vec![
            "sharing conditions".into(),
            or_dash(d.sharing_conditions.as_deref()),
        ],
        vec![
            "sharing method".into(),
            or_dash(d.sharing_method.as_deref()),
        ],
        vec!["open attribute".into(), or_dash(d.open_type.as_deref())],
        vec!["update cycle".into(), d.update_cycle.clone()],
        vec!["release date".into(), or_dash(d.release_date.as_deref())],
        vec!["related".into(), related],
        vec!["tags".into(), tags],
        vec!["defined in".into(), or_dash(d.definition.as_deref())],
        vec!["published".into(), published],
        vec!["readable by".into(), d.readers()],
    ];
    s.push_str(&columns(&meta, "  "));

    let f = &v.freshness;
    s.push_str("\nfreshness\n");
    let rule = match f.max_age_days {
        Some(n) => format!(
            "{}: new data at least every {n} day{}",
            f.update_cycle,
            if n == 1 { "" } else { "s" }
        ),
        None => format!("{}: no deadline", f.update_cycle),
    };
    let fresh = vec![
        vec![
            "last version".to_string(),
            match (f.last_version, &f.last_version_at) {
                (Some(n), Some(t)) => format!("{n}, written {t}"),
                (Some(n), None) => n.to_string(),
                _ => "— (not published)".into(),
            },
        ],
        vec!["new source data".into(), or_dash(f.last_data_at.as_deref())],
        vec![
            "overdue".into(),
            format!(
                "{} ({rule}{}; checked {})",
                if f.overdue { "YES" } else { "no" },
                f.due_by
                    .as_deref()
                    .map(|t| format!("; due by {t}"))
                    .unwrap_or_default(),
                f.checked_at
            ),
        ],
    ];
    s.push_str(&columns(&fresh, "  "));

    let _ = writeln!(s, "\nfields ({})", v.fields.len());
    let mut rows = vec![vec![
        "#".to_string(),
        "name".into(),
        "type".into(),
        "PII".into(),
        "description".into(),
    ]];
    for c in &v.fields {
        rows.push(vec![
            c.ordinal.to_string(),
            c.column_name.clone(),
            c.data_type.clone(),
            if c.pii == "none" {
                "—".into()
            } else {
                c.pii.clone()
            },
            or_dash(c.description.as_deref()),
        ]);
    }
    s.push_str(&columns(&rows, "  "));

    s.push_str("\nversions\n");
    if v.versions.is_empty() {
        s.push_str("  — (not published)\n");
    } else {
        let mut rows = vec![vec![
            "release".to_string(),
            "version".into(),
            "written".into(),
            "rows".into(),
            "run id".into(),
        ]];
        for x in &v.versions {
            rows.push(vec![
                x.release.to_string(),
                x.version.to_string(),
                x.published_at.clone(),
                thousands(x.rows.max(0) as u64),
                x.run_id.clone(),
            ]);
        }
        s.push_str(&columns(&rows, "  "));
    }

    s.push_str("\nlineage\n");
    lineage_text(&mut s, &v.lineage.upstream, "←");
    if !v.lineage.columns.is_empty() {
        let cols: Vec<String> = v
            .lineage
            .columns
            .iter()
            .map(|e| {
                format!(
                    "{} → {}",
                    e.from_column.as_deref().unwrap_or(""),
                    e.to_column.as_deref().unwrap_or("")
                )
            })
            .collect();
        let _ = writeln!(s, "  columns: {}", cols.join(", "));
    }
    if !v.lineage.downstream.is_empty() {
        let feeds: Vec<String> = v
            .lineage
            .downstream
            .iter()
            .map(|e| format!("{} ({})", e.to_name, e.via.as_deref().unwrap_or("")))
            .collect();
        let _ = writeln!(s, "  feeds: {}", feeds.join(", "));
    }

    s.push_str("\nquality (counts and rates only)\n");
    let q = &v.quality;
    match q.rows_in {
        None => s.push_str("  — (built from other tables; see theirs)\n"),
        Some(rows_in) => {
            let _ = writeln!(
                s,
                "  rows in {} · staged {} · quarantined {}",
                thousands(rows_in.max(0) as u64),
                thousands(q.rows_staged.unwrap_or(0).max(0) as u64),
                thousands(q.rows_quarantined.unwrap_or(0).max(0) as u64)
            );
            if !q.quarantined_by_reason.is_empty() {
                let r: Vec<String> = q
                    .quarantined_by_reason
                    .iter()
                    .map(|f| format!("{} {}", f.name, f.value as i64))
                    .collect();
                let _ = writeln!(s, "  quarantined by reason: {}", r.join(", "));
            }
            let nulls: Vec<String> = q
                .null_rates
                .iter()
                .filter(|f| f.value > 0.0)
                .map(|f| format!("{} {}", f.name, pct(f.value)))
                .collect();
            let _ = writeln!(
                s,
                "  null rates: {}",
                if nulls.is_empty() {
                    "none (every field always present)".to_string()
                } else {
                    format!("{} (others 0%)", nulls.join(", "))
                }
            );
            if !q.rule_pass_rates.is_empty() {
                let r: Vec<String> = q
                    .rule_pass_rates
                    .iter()
                    .map(|f| format!("{} {}", f.name, pct(f.value)))
                    .collect();
                let _ = writeln!(s, "  rule pass rates: {}", r.join(", "));
            }
        }
    }
    s.trim_end().to_string()
}

/// Target, kind of source and what moves the data: lineage edges that share
/// these are shown on one line.
type EdgeGroup<'a> = (&'a str, &'a str, &'a str);

/// Table-level lineage edges, one line per target and kind of source; large
/// fan-ins (every staging table matching reads) are counted, not listed.
fn lineage_text(s: &mut String, edges: &[Edge], arrow: &str) {
    let mut groups: Vec<(EdgeGroup, Vec<&str>)> = Vec::new();
    for e in edges {
        let key = (
            e.to_name.as_str(),
            e.from_kind.as_str(),
            e.via.as_deref().unwrap_or(""),
        );
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(&e.from_name),
            None => groups.push((key, vec![&e.from_name])),
        }
    }
    if groups.is_empty() {
        s.push_str("  —\n");
    }
    for ((to, kind, via), from) in groups {
        let line = if from.len() > 4 {
            format!(
                "{} {}tables: {}, … ({via}; `--json` lists all)",
                from.len(),
                if kind == "table" {
                    String::new()
                } else {
                    format!("{kind} ")
                },
                from[..2].join(", ")
            )
        } else {
            format!("{kind} {} ({via})", from.join(", "))
        };
        let _ = writeln!(s, "  {to} {arrow} {line}");
    }
}

fn list_text(c: &Catalog, list: &[&civhub_warehouse::browse::Dataset]) -> String {
    let mut s = String::new();
    let mut current = "";
    let mut rows: Vec<Vec<String>> = Vec::new();
    let flush = |s: &mut String, rows: &mut Vec<Vec<String>>| {
        s.push_str(&columns(rows, "  "));
        rows.clear();
    };
    for d in list {
        if d.department != current {
            flush(&mut s, &mut rows);
            let n = list.iter().filter(|x| x.department == d.department).count();
            let _ = writeln!(
                s,
                "{}{} ({}) · {n} dataset{}",
                if current.is_empty() { "" } else { "\n" },
                or_dash(d.department_name.as_deref()),
                d.department,
                if n == 1 { "" } else { "s" }
            );
            current = &d.department;
        }
        let f = c.freshness(d);
        rows.push(vec![
            d.dataset.clone(),
            clip(&d.title, 30),
            d.sharing_type.clone(),
            d.update_cycle.clone(),
            if f.overdue {
                "OVERDUE".into()
            } else {
                "fresh".into()
            },
            format!("{} rows", thousands(d.rows.unwrap_or(0).max(0) as u64)),
        ]);
    }
    flush(&mut s, &mut rows);
    let overdue = list.iter().filter(|d| c.freshness(d).overdue).count();
    let _ = write!(
        s,
        "\n{} dataset{} · {overdue} overdue · release {}",
        list.len(),
        if list.len() == 1 { "" } else { "s" },
        c.release
    );
    s
}
