//! The static HTML catalog site `civhub docs --out DIR` writes: an index of
//! datasets by department, one page per dataset, a lineage page and a
//! version history.
//!
//! Plain HTML and CSS, UTF-8, no scripts and nothing fetched from elsewhere:
//! each page carries its own small stylesheet, so any page can be opened from
//! a file share or mailed on its own. Every piece of catalog text goes through
//! [`esc`] — descriptions, titles and export names are written by people and
//! must never become markup. The lineage page is a nested list rather than a
//! drawn graph: a city has a hundred and more tables, and a list stays
//! readable, searchable with the browser's find and accessible; large fan-ins
//! (the dozens of datasets matching reads) fold into `<details>`.

use crate::browse::{Catalog, Dataset, DatasetView, Edge};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// What [`write_site`] wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SiteReport {
    /// The folder.
    pub out: PathBuf,
    /// Pages written.
    pub pages: usize,
    /// Dataset pages among them.
    pub datasets: usize,
    /// Release described.
    pub release: u64,
}

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// The file name of a dataset's page: its name with anything but ASCII
/// letters, digits, `_`, `.` and `-` replaced, so a name can never climb out
/// of `datasets/`.
pub fn page_name(dataset: &str) -> String {
    let safe: String = dataset
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{}.html", safe.trim_start_matches('.'))
}

/// Every page of the site, as (path relative to the output folder, HTML).
pub fn render(catalog: &Catalog) -> Result<Vec<(PathBuf, String)>, crate::browse::BrowseError> {
    let mut pages = vec![
        (PathBuf::from("index.html"), index(catalog)),
        (PathBuf::from("lineage.html"), lineage(catalog)),
        (PathBuf::from("versions.html"), versions(catalog)),
    ];
    for d in &catalog.datasets {
        let view = catalog.show(&d.dataset)?;
        pages.push((
            Path::new("datasets").join(page_name(&d.dataset)),
            dataset_page(catalog, &view),
        ));
    }
    Ok(pages)
}

/// Why the site was not written.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    /// The catalog is inconsistent (a dataset it lists cannot be shown).
    #[error(transparent)]
    Catalog(#[from] crate::browse::BrowseError),
    /// A file could not be written.
    #[error("cannot write the site: {0}")]
    Io(#[from] std::io::Error),
}

/// Writes the site into `out` (created if missing; other files in it are left alone).
pub fn write_site(catalog: &Catalog, out: &Path) -> Result<SiteReport, SiteError> {
    let pages = render(catalog)?;
    fs_err::create_dir_all(out.join("datasets"))?;
    for (rel, html) in &pages {
        fs_err::write(out.join(rel), html)?;
    }
    Ok(SiteReport {
        out: out.to_path_buf(),
        pages: pages.len(),
        datasets: catalog.datasets.len(),
        release: catalog.release,
    })
}

const CSS: &str = "body{font-family:system-ui,-apple-system,'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:0;color:#1d2330;background:#fafbfc;line-height:1.5}
header{background:#1f3a5f;color:#fff;padding:.6em 1.5em}header a{color:#fff;margin-right:1.2em;text-decoration:none}header a:hover{text-decoration:underline}
main{max-width:72em;margin:0 auto;padding:1em 1.5em}footer{color:#667;font-size:.85em;padding:1em 1.5em;border-top:1px solid #dde}
h1{font-size:1.6em;margin:.4em 0}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #dde}h3{font-size:1.05em}
table{border-collapse:collapse;width:100%;margin:.5em 0 1em;background:#fff}th,td{border:1px solid #dde;padding:.3em .5em;text-align:left;vertical-align:top}th{background:#eef2f7}
td.num{text-align:right;font-variant-numeric:tabular-nums}code,.mono{font-family:ui-monospace,Consolas,monospace;font-size:.92em}
.badge{display:inline-block;border-radius:.8em;padding:0 .6em;font-size:.85em;white-space:nowrap}
.share-open{background:#dff3e4;color:#1c6b34}.share-cond{background:#fff1d6;color:#8a5a00}.share-none{background:#f6dede;color:#8b1f1f}
.fresh{background:#e3eefc;color:#1f4f8f}.overdue{background:#f6dede;color:#8b1f1f}.pii{background:#efe3fa;color:#5b2a86}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em;background:#fff;border:1px solid #dde;padding:.8em}dl.meta dt{color:#556}dl.meta dd{margin:0}
.muted{color:#667}.en{color:#667;font-size:.9em}ul.tree,ul.tree ul{list-style:none;padding-left:1.3em}ul.tree li{margin:.15em 0}
.kind{display:inline-block;min-width:5.5em;font-size:.8em;color:#556;text-transform:uppercase;letter-spacing:.03em}";

/// A whole page around `body`; `root` is the way back to the site's root.
fn page(title: &str, root: &str, catalog: &Catalog, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{t} · 数据共享目录</title>\n<style>\n{CSS}\n</style>\n</head>\n<body>\n<header><nav><a href=\"{root}index.html\">数据共享目录 Catalog</a><a href=\"{root}lineage.html\">数据血缘 Lineage</a><a href=\"{root}versions.html\">版本历史 Versions</a></nav></header>\n<main>\n{body}</main>\n<footer>Generated by <code>civhub docs</code> from release {r} (published {p}); freshness judged at {c}.</footer>\n</body>\n</html>\n",
        t = esc(title),
        r = catalog.release,
        p = esc(&catalog.published_at),
        c = esc(&catalog.checked_at),
    )
}

fn sharing_badge(s: &str) -> String {
    let class = match s {
        "无条件共享" => "share-open",
        "有条件共享" => "share-cond",
        _ => "share-none",
    };
    format!("<span class=\"badge {class}\">{}</span>", esc(s))
}

fn freshness_badge(overdue: bool) -> &'static str {
    if overdue {
        "<span class=\"badge overdue\">overdue 逾期</span>"
    } else {
        "<span class=\"badge fresh\">fresh 按期</span>"
    }
}

fn link(d: &str, root: &str) -> String {
    format!(
        "<a href=\"{root}datasets/{}\"><code>{}</code></a>",
        esc(&page_name(d)),
        esc(d)
    )
}

fn opt(s: &Option<String>) -> String {
    s.as_deref()
        .filter(|s| !s.is_empty())
        .map(esc)
        .unwrap_or_else(|| "<span class=\"muted\">—</span>".into())
}

fn index(c: &Catalog) -> String {
    let mut b = String::new();
    let overdue = c.datasets.iter().filter(|d| c.freshness(d).overdue).count();
    let published = c.datasets.iter().filter(|d| d.published).count();
    let provider_only = c
        .datasets
        .iter()
        .filter(|d| d.published && d.readable_by.as_deref() == Some("provider"))
        .count();
    let depts = c.departments();
    let _ = write!(
        b,
        "<h1>数据共享目录 <span class=\"en\">Shared data catalog</span></h1>\n<p>{} datasets from {} departments · {} published as tables ({} of them 不予共享, readable by their providing department only){} · {} overdue for their update cycle.</p>\n",
        c.datasets.len(),
        depts.len(),
        published,
        provider_only,
        match c.datasets.len() - published {
            0 => String::new(),
            n => format!(", {n} listed only"),
        },
        overdue
    );
    b.push_str("<p>Departments: ");
    let names: Vec<String> = depts
        .iter()
        .map(|(id, ds)| {
            format!(
                "<a href=\"#dept-{}\">{}</a>",
                esc(id),
                esc(ds[0].department_name.as_deref().unwrap_or(id))
            )
        })
        .collect();
    b.push_str(&names.join(" · "));
    b.push_str("</p>\n");
    for (id, ds) in &depts {
        let d0 = ds[0];
        let _ = write!(
            b,
            "<h2 id=\"dept-{}\">{} <span class=\"en\">{} · {}</span></h2>\n<table>\n<tr><th>dataset</th><th>title</th><th>classification</th><th>sharing</th><th>update cycle</th><th>freshness</th><th>rows</th></tr>\n",
            esc(id),
            esc(d0.department_name.as_deref().unwrap_or(id)),
            esc(id),
            opt(&d0.department_code)
        );
        for d in ds {
            let f = c.freshness(d);
            let _ = writeln!(
                b,
                "<tr><td>{}</td><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} <span class=\"muted\">{}</span></td><td class=\"num\">{}</td></tr>",
                link(&d.dataset, ""),
                esc(&d.title),
                d.title_en
                    .as_deref()
                    .map(|t| format!("<br><span class=\"en\">{}</span>", esc(t)))
                    .unwrap_or_default(),
                opt(&d.classification),
                sharing_badge(&d.sharing_type),
                esc(&d.update_cycle),
                freshness_badge(f.overdue),
                opt(&f.last_data_at),
                d.rows.map(|r| r.to_string()).unwrap_or_default()
            );
        }
        b.push_str("</table>\n");
    }
    page("Catalog", "", c, &b)
}

fn dataset_page(c: &Catalog, v: &DatasetView) -> String {
    let d = &v.dataset;
    let mut b = String::new();
    let _ = write!(
        b,
        "<h1>{} <span class=\"en\">{}</span></h1>\n<p><code>{}</code> · {} · {}</p>\n<p>{}</p>\n",
        esc(&d.title),
        esc(d.title_en.as_deref().unwrap_or("")),
        esc(&d.dataset),
        sharing_badge(&d.sharing_type),
        freshness_badge(v.freshness.overdue),
        esc(d.description.as_deref().unwrap_or(""))
    );
    b.push_str("<h2>Catalog entry 目录信息</h2>\n<dl class=\"meta\">\n");
    let related: Vec<String> = d
        .related
        .iter()
        .enumerate()
        .map(|(i, r)| {
            // This page is in `datasets/`, as the related one is.
            let name = if c.datasets.iter().any(|x| &x.dataset == r) {
                link(r, "../")
            } else {
                format!("<code>{}</code>", esc(r))
            };
            match d.related_codes.get(i) {
                Some(code) if d.related_codes.len() == d.related.len() => {
                    format!("{name} ({})", esc(code))
                }
                _ => name,
            }
        })
        .collect();
    let rows: Vec<(&str, String)> = vec![
        ("信息资源代码 resource code", opt(&d.resource_code)),
        (
            "资源分类 classification",
            match d.category.as_deref().filter(|c| !c.is_empty()) {
                Some(k) => format!("{} / {}", opt(&d.classification), esc(k)),
                None => opt(&d.classification),
            },
        ),
        (
            "提供方 provider",
            format!(
                "{} (<code>{}</code>) · 代码 {}",
                opt(&d.department_name),
                esc(&d.department),
                opt(&d.department_code)
            ),
        ),
        ("信息资源格式 format", opt(&d.format)),
        ("开放属性 open attribute", opt(&d.open_type)),
        ("更新周期 update cycle", esc(&d.update_cycle)),
        ("发布日期 release date", opt(&d.release_date)),
        (
            "关联资源（代码） related (resource codes)",
            if related.is_empty() {
                opt(&None)
            } else {
                related.join(", ")
            },
        ),
        ("关键词 tags", esc(&d.tags.join("、"))),
        ("定义 defined in", opt(&d.definition)),
        (
            "发布 published",
            match &d.table_name {
                Some(t) => format!(
                    "table <code>{}</code>, {} rows, version {}",
                    esc(t),
                    d.rows.unwrap_or(0),
                    d.version.map(|v| v.to_string()).unwrap_or_default()
                ),
                None => "not published (listed only)".into(),
            },
        ),
        ("共享范围 readable by", esc(&d.readers())),
    ];
    for (k, val) in rows {
        let _ = writeln!(b, "<dt>{}</dt><dd>{val}</dd>", esc(k));
    }
    b.push_str("</dl>\n<h2>Sharing terms 共享属性</h2>\n<dl class=\"meta\">\n");
    let _ = writeln!(
        b,
        "<dt>共享类型 sharing type</dt><dd>{}</dd>\n<dt>共享条件 conditions</dt><dd>{}</dd>\n<dt>共享方式 method</dt><dd>{}</dd>",
        sharing_badge(&d.sharing_type),
        opt(&d.sharing_conditions),
        opt(&d.sharing_method)
    );
    let f = &v.freshness;
    let _ = write!(
        b,
        "</dl>\n<h2>Freshness 时效</h2>\n<p>{} · update cycle {}{} · new source data last arrived {} · current version written {}{}.</p>\n",
        freshness_badge(f.overdue),
        esc(&f.update_cycle),
        f.max_age_days
            .map(|n| {
                format!(
                    " (at most {n} day{} between deliveries)",
                    if n == 1 { "" } else { "s" }
                )
            })
            .unwrap_or_default(),
        opt(&f.last_data_at),
        opt(&f.last_version_at),
        f.due_by
            .as_deref()
            .map(|t| format!(" · due by {}", esc(t)))
            .unwrap_or_default()
    );
    let _ = write!(
        b,
        "<h2>Fields 信息项 ({})</h2>\n<table>\n<tr><th>#</th><th>name</th><th>type</th><th>description</th><th>PII class</th><th>from export column</th></tr>\n",
        v.fields.len()
    );
    for col in &v.fields {
        let pii = if col.pii == "none" || col.pii.is_empty() {
            "<span class=\"muted\">—</span>".to_string()
        } else {
            format!("<span class=\"badge pii\">{}</span>", esc(&col.pii))
        };
        let _ = writeln!(
            b,
            "<tr><td class=\"num\">{}</td><td><code>{}</code></td><td class=\"mono\">{}</td><td>{}{}</td><td>{pii}</td><td>{}</td></tr>",
            col.ordinal,
            esc(&col.column_name),
            esc(&col.data_type),
            opt(&col.description),
            col.description_en
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(|t| format!("<br><span class=\"en\">{}</span>", esc(t)))
                .unwrap_or_default(),
            opt(&col.source_columns)
        );
    }
    b.push_str("</table>\n<h2>Versions 版本</h2>\n");
    if v.versions.is_empty() {
        b.push_str("<p class=\"muted\">No published versions.</p>\n");
    } else {
        b.push_str("<table>\n<tr><th>release</th><th>Delta version</th><th>written</th><th>rows</th><th>run id</th></tr>\n");
        for ver in &v.versions {
            let _ = writeln!(
                b,
                "<tr><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"mono\">{}</td></tr>",
                ver.release,
                ver.version,
                esc(&ver.published_at),
                ver.rows,
                esc(&ver.run_id)
            );
        }
        b.push_str("</table>\n");
    }
    quality_section(&mut b, v);
    lineage_section(&mut b, c, v);
    page(&d.title, "../", c, &b)
}

fn quality_section(b: &mut String, v: &DatasetView) {
    let q = &v.quality;
    b.push_str("<h2>Quality 质量</h2>\n");
    if q.rows_in.is_none() {
        b.push_str(
            "<p class=\"muted\">Built from other tables; see their pages for ingest quality.</p>\n",
        );
        return;
    }
    let _ = writeln!(
        b,
        "<p>{} rows read · {} staged · {} quarantined. Counts and rates only — no values.</p>",
        q.rows_in.unwrap_or(0),
        q.rows_staged.unwrap_or(0),
        q.rows_quarantined.unwrap_or(0)
    );
    let table =
        |b: &mut String, title: &str, head: &str, figs: &[crate::browse::Figure], pct: bool| {
            if figs.is_empty() {
                return;
            }
            let _ = write!(
                b,
                "<h3>{}</h3>\n<table>\n<tr><th>{}</th><th>value</th></tr>\n",
                esc(title),
                esc(head)
            );
            for f in figs {
                let val = if pct {
                    format!("{:.1}%", f.value * 100.0)
                } else {
                    format!("{}", f.value as i64)
                };
                let _ = writeln!(
                    b,
                    "<tr><td><code>{}</code></td><td class=\"num\">{val}</td></tr>",
                    esc(&f.name)
                );
            }
            b.push_str("</table>\n");
        };
    table(
        b,
        "Quarantined rows by reason",
        "rule",
        &q.quarantined_by_reason,
        false,
    );
    table(b, "Rule pass rates", "rule", &q.rule_pass_rates, true);
    table(b, "Null rates", "field", &q.null_rates, true);
}

/// A lineage node; pipelines, staging and published tables of a catalogued
/// dataset link to its page.
fn node(kind: &str, name: &str, c: &Catalog, root: &str) -> String {
    let dataset = match kind {
        "published" | "pipeline" => Some(name),
        "staging" => name.strip_prefix("staging."),
        _ => None,
    };
    let shown = match dataset.filter(|d| c.datasets.iter().any(|x| x.dataset == *d)) {
        Some(d) => format!(
            "<a href=\"{root}datasets/{}\"><code>{}</code></a>",
            esc(&page_name(d)),
            esc(name)
        ),
        None => format!("<code>{}</code>", esc(name)),
    };
    format!("<span class=\"kind\">{}</span> {shown}", esc(kind))
}

fn edge_li(e: &Edge, c: &Catalog, root: &str) -> String {
    format!(
        "<li>{} → {} <span class=\"muted\">({})</span></li>",
        node(&e.from_kind, &e.from_name, c, root),
        node(&e.to_kind, &e.to_name, c, root),
        esc(e.via.as_deref().unwrap_or(""))
    )
}

fn lineage_section(b: &mut String, c: &Catalog, v: &DatasetView) {
    let l = &v.lineage;
    b.push_str("<h2>Lineage 数据血缘</h2>\n<h3>Comes from</h3>\n<ul class=\"tree\">\n");
    // Group fan-ins (e.g. every staging table matching reads) under their target.
    let mut by_target: BTreeMap<(&str, &str), Vec<&Edge>> = BTreeMap::new();
    for e in &l.upstream {
        by_target
            .entry((&e.to_name, &e.from_kind))
            .or_default()
            .push(e);
    }
    for e in &l.upstream {
        let group = &by_target[&(e.to_name.as_str(), e.from_kind.as_str())];
        if group.len() <= 4 {
            b.push_str(&edge_li(e, c, "../"));
            b.push('\n');
        } else if std::ptr::eq(group[0], e) {
            let _ = write!(
                b,
                "<li><details><summary>{} {} tables → {} <span class=\"muted\">({})</span></summary><ul>",
                group.len(),
                esc(&e.from_kind),
                node(&e.to_kind, &e.to_name, c, "../"),
                esc(e.via.as_deref().unwrap_or(""))
            );
            for g in group {
                let _ = write!(b, "<li>{}</li>", node(&g.from_kind, &g.from_name, c, "../"));
            }
            b.push_str("</ul></details></li>\n");
        }
    }
    b.push_str("</ul>\n");
    if !l.columns.is_empty() {
        b.push_str("<h3>Columns</h3>\n<table>\n<tr><th>export column</th><th>field</th><th>from</th></tr>\n");
        for e in &l.columns {
            let _ = writeln!(
                b,
                "<tr><td>{}</td><td><code>{}</code></td><td><code>{}</code></td></tr>",
                opt(&e.from_column),
                esc(e.to_column.as_deref().unwrap_or("")),
                esc(&e.from_name)
            );
        }
        b.push_str("</table>\n");
    }
    if !l.downstream.is_empty() {
        b.push_str("<h3>Feeds</h3>\n<ul class=\"tree\">\n");
        for e in &l.downstream {
            b.push_str(&edge_li(e, c, "../"));
            b.push('\n');
        }
        b.push_str("</ul>\n");
    }
}

fn lineage(c: &Catalog) -> String {
    let mut b = String::from(
        "<h1>数据血缘 <span class=\"en\">Lineage</span></h1>\n<p>Source exports → pipelines → staging tables → published tables, department by department; then the base databases and what they are built from. A nested list, read top-down: each item feeds the items under it.</p>\n",
    );
    let table_edges: Vec<&Edge> = c
        .lineage
        .iter()
        .filter(|e| e.from_column.is_none())
        .collect();
    let from = |name: &str| -> Vec<&Edge> {
        let mut v: Vec<&Edge> = table_edges
            .iter()
            .copied()
            .filter(|e| e.from_name == name)
            .collect();
        v.sort();
        v
    };
    b.push_str("<h2>Department datasets</h2>\n");
    for (id, ds) in c.departments() {
        let pipelines: Vec<&Dataset> = ds
            .into_iter()
            .filter(|d| {
                table_edges
                    .iter()
                    .any(|e| e.to_kind == "pipeline" && e.to_name == d.dataset)
            })
            .collect();
        if pipelines.is_empty() {
            continue;
        }
        let _ = write!(
            b,
            "<h3>{} <span class=\"en\">{}</span></h3>\n<ul class=\"tree\">\n",
            esc(pipelines[0].department_name.as_deref().unwrap_or(id)),
            esc(id)
        );
        for d in pipelines {
            let exports: BTreeSet<&str> = table_edges
                .iter()
                .filter(|e| e.to_kind == "pipeline" && e.to_name == d.dataset)
                .map(|e| e.from_name.as_str())
                .collect();
            let names: Vec<String> = exports
                .iter()
                .map(|e| format!("<code>{}</code>", esc(e)))
                .collect();
            let _ = write!(
                b,
                "<li><span class=\"kind\">export</span> {}\n<ul><li>{} <span class=\"muted\">{}</span> {}<ul>",
                names.join(", "),
                node("pipeline", &d.dataset, c, ""),
                opt(&d.definition),
                sharing_badge(&d.sharing_type)
            );
            for s in from(&d.dataset) {
                let _ = write!(b, "<li>{}<ul>", node(&s.to_kind, &s.to_name, c, ""));
                for o in from(&s.to_name) {
                    let _ = write!(
                        b,
                        "<li>{} <span class=\"muted\">({})</span></li>",
                        node(&o.to_kind, &o.to_name, c, ""),
                        esc(o.via.as_deref().unwrap_or(""))
                    );
                }
                if !d.published {
                    b.push_str("<li class=\"muted\">not published (不予共享)</li>");
                } else if d.readable_by.as_deref() == Some("provider") {
                    b.push_str("<li class=\"muted\">readable by its providing department only (不予共享)</li>");
                }
                b.push_str("</ul></li>");
            }
            b.push_str("</ul></li></ul></li>\n");
        }
        b.push_str("</ul>\n");
    }
    b.push_str("<h2>Base databases and matching</h2>\n<ul class=\"tree\">\n");
    let bases: Vec<&Dataset> = c
        .datasets
        .iter()
        .filter(|d| {
            !table_edges
                .iter()
                .any(|e| e.to_kind == "pipeline" && e.to_name == d.dataset)
        })
        .collect();
    for d in bases {
        let _ = write!(
            b,
            "<li>{} {}<ul>",
            node("published", &d.dataset, c, ""),
            esc(&d.title)
        );
        let mut inputs: Vec<&Edge> = table_edges
            .iter()
            .copied()
            .filter(|e| e.to_name == d.dataset && e.to_kind == "published")
            .collect();
        inputs.sort();
        for e in inputs {
            let _ = write!(b, "<li>← {}", node(&e.from_kind, &e.from_name, c, ""));
            let feeders: Vec<&Edge> = table_edges
                .iter()
                .copied()
                .filter(|x| x.to_name == e.from_name && e.from_kind == "matching")
                .collect();
            if !feeders.is_empty() {
                let _ = write!(
                    b,
                    "<details><summary>matched from {} staging tables</summary><ul>",
                    feeders.len()
                );
                for f in feeders {
                    let _ = write!(b, "<li>{}</li>", node(&f.from_kind, &f.from_name, c, ""));
                }
                b.push_str("</ul></details>");
            }
            b.push_str("</li>");
        }
        b.push_str("</ul></li>\n");
    }
    b.push_str("</ul>\n");
    page("Lineage", "", c, &b)
}

fn versions(c: &Catalog) -> String {
    let mut b = String::from(
        "<h1>版本历史 <span class=\"en\">Version history</span></h1>\n<p>Every release of the warehouse, newest first, with the tables it wrote a new version of. <code>civhub sql --as-of N</code> reads release N.</p>\n",
    );
    let mut by_release: BTreeMap<i64, Vec<&crate::browse::Version>> = BTreeMap::new();
    for v in &c.versions {
        by_release.entry(v.release).or_default().push(v);
    }
    for (r, vs) in by_release.iter().rev() {
        let written: Vec<&&crate::browse::Version> = vs.iter().filter(|v| v.changed).collect();
        let _ = write!(
            b,
            "<h2 id=\"release-{r}\">Release {r}</h2>\n<p>Published {} · run <code>{}</code> · {} tables, {} written, {} unchanged.</p>\n",
            esc(&vs[0].published_at),
            esc(&vs[0].run_id),
            vs.len(),
            written.len(),
            vs.len() - written.len()
        );
        if written.is_empty() {
            continue;
        }
        b.push_str("<table>\n<tr><th>table</th><th>Delta version</th><th>rows</th></tr>\n");
        for v in written {
            let name = if c.datasets.iter().any(|d| d.dataset == v.table_name) {
                link(&v.table_name, "")
            } else {
                format!("<code>{}</code>", esc(&v.table_name))
            };
            let _ = writeln!(
                b,
                "<tr><td>{name}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                v.version, v.rows
            );
        }
        b.push_str("</table>\n");
    }
    page("Versions", "", c, &b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::browse::{Column, Dataset};

    fn catalog() -> Catalog {
        let evil = "<script>alert(\"x\")</script> & 'q'";
        Catalog {
            release: 1,
            published_at: "2025-01-01T00:00:00Z".into(),
            checked_at: "2025-01-01T00:00:00Z".into(),
            datasets: vec![Dataset {
                dataset: "dept.evil".into(),
                title: evil.into(),
                description: Some(evil.into()),
                department: "dept".into(),
                department_name: Some(evil.into()),
                sharing_type: "有条件共享".into(),
                sharing_conditions: Some(evil.into()),
                update_cycle: "每月".into(),
                tags: vec![evil.into()],
                published: true,
                table_name: Some("dept.evil".into()),
                ..Default::default()
            }],
            columns: vec![Column {
                dataset: "dept.evil".into(),
                column_name: "name".into(),
                ordinal: 1,
                data_type: "string".into(),
                description: Some(evil.into()),
                pii: "name".into(),
                sensitive: true,
                ..Default::default()
            }],
            versions: vec![],
            lineage: vec![Edge {
                from_kind: "export".into(),
                from_name: evil.into(),
                to_kind: "pipeline".into(),
                to_name: "dept.evil".into(),
                via: Some(evil.into()),
                ..Default::default()
            }],
            quality: vec![],
        }
    }

    #[test]
    fn every_text_is_escaped_on_every_page() {
        let pages = render(&catalog()).unwrap();
        assert_eq!(pages.len(), 4);
        for (path, html) in &pages {
            assert!(!html.contains("<script"), "{}: {html}", path.display());
            assert!(!html.contains("'q'"), "{}", path.display());
        }
        let (_, ds) = pages
            .iter()
            .find(|(p, _)| p.starts_with("datasets"))
            .unwrap();
        assert!(ds.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;"));
        assert!(ds.contains("<span class=\"badge pii\">name</span>"));
    }

    #[test]
    fn page_names_stay_in_their_folder() {
        assert_eq!(
            page_name("civil_affairs.dibao_member"),
            "civil_affairs.dibao_member.html"
        );
        assert_eq!(page_name("../../etc/passwd"), "_.._etc_passwd.html");
        assert!(!page_name("a/../b").contains('/'));
    }
}
