//! The 核对报告 caseworkers open: an Excel workbook (summary sheet, one row
//! per finding, one sheet per rule, and the findings resolved since the
//! last run) and a self-contained HTML page with the same content.

use crate::config::Check;
use crate::run::{CheckRun, Finding};
use rust_xlsxwriter::{Color, Format, Workbook, Worksheet, XlsxError};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Columns of a findings sheet: header and how to read a finding.
type Column = (&'static str, fn(&Finding) -> String);

const COLUMNS: [Column; 18] = [
    ("核对发现编号", |f| f.finding_id.clone()),
    ("家庭编号", |f| f.household_id.clone()),
    ("户主", |f| f.household_label.clone()),
    ("区县", |f| f.district.clone()),
    ("成员", |f| f.member_name.clone()),
    ("自然人统一标识", |f| {
        f.member_gid.clone().unwrap_or_default()
    }),
    ("规则", |f| f.rule_title.clone()),
    ("严重程度", |f| severity_label(&f.severity).to_string()),
    ("发现的值", |f| f.value.clone()),
    ("阈值", |f| f.threshold.clone()),
    ("说明", |f| f.detail.clone()),
    ("来源数据集", |f| f.source_dataset.clone()),
    ("来源文件", |f| {
        f.source_file.clone().unwrap_or_default()
    }),
    ("来源行号", |f| {
        f.source_row.map(|r| r.to_string()).unwrap_or_default()
    }),
    ("关联方式", |f| link_label(f)),
    ("状态", |f| state_label(&f.state).to_string()),
    ("复核结论", |f| review_label(f)),
    ("参数与数据版本", |f| {
        format!("{} {}", f.parameters, f.table_versions)
    }),
];

/// 高 / 中 / 低 / 需人工核实.
pub fn severity_label(s: &str) -> &'static str {
    match s {
        "high" => "高",
        "medium" => "中",
        "low" => "低",
        _ => "需人工核实",
    }
}

/// 新发现 / 持续存在 / 已消除.
pub fn state_label(s: &str) -> &'static str {
    match s {
        "new" => "新发现",
        "unchanged" => "持续存在",
        "resolved" => "已消除",
        _ => "",
    }
}

/// How the evidence was linked to the member, for people.
pub fn link_label(f: &Finding) -> String {
    match (f.link.as_deref(), f.probability) {
        (Some("probabilistic"), Some(p)) => format!("概率关联（{:.1}%）", p * 100.0),
        (Some("probabilistic"), None) => "概率关联".into(),
        (Some("id"), _) => "身份证号一致".into(),
        (Some("review"), _) => "人工确认".into(),
        (Some("single"), _) => "未与其他记录关联".into(),
        (Some("name_only"), _) => "仅姓名同音（无身份证号，需核实）".into(),
        (Some(other), _) => other.to_string(),
        (None, _) => String::new(),
    }
}

fn review_label(f: &Finding) -> String {
    let s = match f.review_status.as_str() {
        "confirmed" => "已确认",
        "dismissed" => "已排除",
        _ => "待复核",
    };
    match &f.review_reason {
        Some(r) if !r.is_empty() => format!("{s}：{r}"),
        _ => s.to_string(),
    }
}

/// Where a run's reports go by default: `<warehouse>/reports/<check>/<run>/`.
pub fn default_dir(warehouse: &Path, run: &CheckRun) -> PathBuf {
    warehouse.join("reports").join(&run.check).join(&run.run_id)
}

/// Writes `<check>.xlsx` and `<check>.html` into `dir`; returns their paths.
pub fn write(check: &Check, run: &CheckRun, dir: &Path) -> Result<(PathBuf, PathBuf), String> {
    fs_err::create_dir_all(dir).map_err(|e| e.to_string())?;
    let xlsx = dir.join(format!("{}.xlsx", run.check));
    let html = dir.join(format!("{}.html", run.check));
    excel(check, run, &xlsx).map_err(|e| format!("cannot write {}: {e}", xlsx.display()))?;
    fs_err::write(&html, page(check, run)).map_err(|e| e.to_string())?;
    Ok((xlsx, html))
}

/// A valid, unique worksheet name (≤ 31 characters, none of `[]:*?/\`).
fn sheet_name(title: &str, used: &mut Vec<String>) -> String {
    let clean: String = title
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .take(28)
        .collect();
    let mut name = clean.clone();
    let mut n = 2;
    while used.contains(&name) {
        name = format!("{clean}{n}");
        n += 1;
    }
    used.push(name.clone());
    name
}

fn findings_sheet(
    ws: &mut Worksheet,
    findings: &[&Finding],
    header: &Format,
) -> Result<(), XlsxError> {
    for (c, (h, _)) in COLUMNS.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, header)?;
    }
    for (r, f) in findings.iter().enumerate() {
        for (c, (_, get)) in COLUMNS.iter().enumerate() {
            ws.write_string((r + 1) as u32, c as u16, get(f))?;
        }
    }
    ws.set_freeze_panes(1, 0)?;
    if !findings.is_empty() {
        ws.autofilter(0, 0, findings.len() as u32, (COLUMNS.len() - 1) as u16)?;
    }
    ws.autofit();
    Ok(())
}

fn excel(check: &Check, run: &CheckRun, path: &Path) -> Result<(), XlsxError> {
    let mut wb = Workbook::new();
    let header = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xDDEBF7));
    let bold = Format::new().set_bold();
    let mut used = Vec::new();

    // Summary.
    let ws = wb.add_worksheet();
    ws.set_name(sheet_name("汇总", &mut used))?;
    let mut r = 0u32;
    let mut kv = |ws: &mut Worksheet, k: &str, v: String| -> Result<(), XlsxError> {
        ws.write_string_with_format(r, 0, k, &bold)?;
        ws.write_string(r, 1, v)?;
        r += 1;
        Ok(())
    };
    kv(ws, "核对", format!("{}（{}）", check.title, check.id))?;
    kv(ws, "运行编号", run.run_id.clone())?;
    kv(ws, "运行时间", run.started_at.clone())?;
    kv(ws, "核对日期（参数生效日）", run.check_date.clone())?;
    kv(
        ws,
        "范围",
        match (&run.district, &run.household) {
            (_, Some(h)) => format!("家庭 {h}"),
            (Some(d), None) => d.clone(),
            (None, None) => "全市".into(),
        },
    )?;
    kv(ws, "数据发布版本", run.release.to_string())?;
    kv(ws, "核对家庭数", run.households.len().to_string())?;
    kv(ws, "有核对发现的家庭数", run.flagged().to_string())?;
    kv(ws, "其中仅需人工核实", run.manual_only().to_string())?;
    kv(ws, "核对发现数", run.findings.len().to_string())?;
    kv(
        ws,
        "较上次：新发现 / 持续存在 / 已消除",
        format!(
            "{} / {} / {}",
            run.count_state("new"),
            run.count_state("unchanged"),
            run.resolved.len()
        ),
    )?;
    r += 1;
    for (c, h) in [
        "规则",
        "规则编号",
        "严重程度",
        "核对记录数",
        "发现数",
        "涉及家庭",
        "参数",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string_with_format(r, c as u16, *h, &header)?;
    }
    r += 1;
    for s in &run.rules {
        let params = s
            .parameters
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("；");
        ws.write_string(r, 0, &s.title)?;
        ws.write_string(r, 1, &s.rule)?;
        ws.write_string(r, 2, severity_label(&s.severity))?;
        ws.write_number(r, 3, s.evaluated as f64)?;
        ws.write_number(r, 4, s.findings as f64)?;
        ws.write_number(r, 5, s.households as f64)?;
        ws.write_string(r, 6, params)?;
        r += 1;
    }
    r += 1;
    ws.write_string_with_format(r, 0, "数据表", &header)?;
    ws.write_string_with_format(r, 1, "版本", &header)?;
    r += 1;
    for (t, v) in &run.table_versions {
        ws.write_string(r, 0, t)?;
        ws.write_number(r, 1, *v as f64)?;
        r += 1;
    }
    r += 1;
    ws.write_string(
        r,
        0,
        "说明：核对发现是供经办人员复核的线索（核对报告），不是自动作出的资格决定。",
    )?;
    ws.autofit();

    // Every finding.
    let all: Vec<&Finding> = run.findings.iter().collect();
    let ws = wb.add_worksheet();
    ws.set_name(sheet_name("核对明细", &mut used))?;
    findings_sheet(ws, &all, &header)?;

    // One sheet per rule.
    let mut by_rule: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in &run.findings {
        by_rule.entry(f.rule.as_str()).or_default().push(f);
    }
    for rule in &check.rules {
        let list = by_rule.remove(rule.id.as_str()).unwrap_or_default();
        let ws = wb.add_worksheet();
        ws.set_name(sheet_name(&rule.title, &mut used))?;
        findings_sheet(ws, &list, &header)?;
    }

    if !run.resolved.is_empty() {
        let resolved: Vec<&Finding> = run.resolved.iter().collect();
        let ws = wb.add_worksheet();
        ws.set_name(sheet_name("已消除", &mut used))?;
        findings_sheet(ws, &resolved, &header)?;
    }
    wb.save(path)
}

/// Escapes text for HTML.
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

fn page(check: &Check, run: &CheckRun) -> String {
    let mut h = String::new();
    h.push_str("<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">");
    h.push_str(&format!(
        "<title>{} — {}</title>",
        esc(&check.title),
        esc(&run.run_id)
    ));
    h.push_str(
        "<style>body{font-family:system-ui,'PingFang SC','Microsoft YaHei',sans-serif;margin:2em;color:#222}\
         table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;font-size:14px}\
         th{background:#ddebf7;text-align:left}.high{color:#b00}.manual{color:#a60}.new{font-weight:bold}\
         h2{margin-top:2em}small{color:#666}</style></head><body>",
    );
    h.push_str(&format!("<h1>{}</h1>", esc(&check.title)));
    h.push_str(&format!(
        "<p><small>运行 {} · {} · 核对日期 {} · 数据发布版本 {}</small></p>",
        esc(&run.run_id),
        esc(&run.started_at),
        esc(&run.check_date),
        run.release
    ));
    h.push_str("<table>");
    for (k, v) in [
        ("核对家庭数", run.households.len().to_string()),
        ("有核对发现的家庭数", run.flagged().to_string()),
        ("其中仅需人工核实", run.manual_only().to_string()),
        ("核对发现数", run.findings.len().to_string()),
        (
            "较上次：新发现 / 持续存在 / 已消除",
            format!(
                "{} / {} / {}",
                run.count_state("new"),
                run.count_state("unchanged"),
                run.resolved.len()
            ),
        ),
    ] {
        h.push_str(&format!("<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(&v)));
    }
    h.push_str("</table><h2>按规则</h2><table><tr><th>规则</th><th>严重程度</th><th>发现数</th><th>涉及家庭</th><th>参数</th></tr>");
    for s in &run.rules {
        let params = s
            .parameters
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("；");
        h.push_str(&format!(
            "<tr><td>{}<br><small>{}</small></td><td>{}</td><td>{}</td><td>{}</td><td><small>{}</small></td></tr>",
            esc(&s.title),
            esc(&s.rule),
            severity_label(&s.severity),
            s.findings,
            s.households,
            esc(&params)
        ));
    }
    h.push_str("</table><h2>核对明细（按家庭）</h2>");
    let mut by_household: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in &run.findings {
        by_household
            .entry(f.household_id.as_str())
            .or_default()
            .push(f);
    }
    for (hh, list) in &by_household {
        let first = list[0];
        h.push_str(&format!(
            "<h3 id=\"{}\">{} {} <small>{}</small></h3><table><tr><th>成员</th><th>规则</th><th>发现的值</th><th>阈值</th><th>说明</th><th>来源</th><th>关联方式</th><th>状态</th><th>复核</th></tr>",
            esc(hh),
            esc(hh),
            esc(&first.household_label),
            esc(&first.district)
        ));
        for f in list {
            let class = if f.severity == "manual" {
                "manual"
            } else {
                "high"
            };
            h.push_str(&format!(
                "<tr><td>{}<br><small>{}</small></td><td class=\"{class}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td><small>{}<br>{}{}</small></td><td>{}</td><td class=\"{}\">{}</td><td>{}</td></tr>",
                esc(&f.member_name),
                esc(f.member_gid.as_deref().unwrap_or("")),
                esc(&f.rule_title),
                esc(&f.value),
                esc(&f.threshold),
                esc(&f.detail),
                esc(&f.source_dataset),
                esc(f.source_file.as_deref().unwrap_or("")),
                f.source_row.map(|r| format!(" 第{r}行")).unwrap_or_default(),
                esc(&link_label(f)),
                esc(&f.state),
                state_label(&f.state),
                esc(&review_label(f)),
            ));
        }
        h.push_str("</table>");
    }
    if !run.resolved.is_empty() {
        h.push_str("<h2>已消除（上次有、本次无）</h2><ul>");
        for f in &run.resolved {
            h.push_str(&format!(
                "<li>{} {} — {}：{}</li>",
                esc(&f.household_id),
                esc(&f.member_name),
                esc(&f.rule_title),
                esc(&f.value)
            ));
        }
        h.push_str("</ul>");
    }
    h.push_str("<h2>数据版本</h2><table><tr><th>数据表</th><th>版本</th></tr>");
    for (t, v) in &run.table_versions {
        h.push_str(&format!("<tr><td>{}</td><td>{v}</td></tr>", esc(t)));
    }
    h.push_str("</table><p><small>核对发现是供经办人员复核的线索，不是自动作出的资格决定。</small></p></body></html>\n");
    h
}
