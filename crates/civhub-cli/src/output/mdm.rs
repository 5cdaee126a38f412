//! How the master-data commands show their results: the 360° view, the
//! explanation waterfall and the review queue.

use super::thousands;
use civhub_mdm::explain::{Explanation, Step, Waterfall};
use civhub_mdm::lookup::{Candidate, Mention, MentionRecord, ReviewItem, View, display};
use civhub_mdm::settings::Kind;
use std::fmt::Write as _;

/// Terminal cells a character takes: 2 for East Asian wide and full-width
/// forms, 0 for combining marks, 1 otherwise.
fn char_width(c: char) -> usize {
    let u = c as u32;
    if (0x300..0x370).contains(&u) || (0x200B..0x2010).contains(&u) || u == 0xFE0F {
        0
    } else if (0x1100..0x1160).contains(&u)
        || (0x2E80..0x303F).contains(&u)
        || (0x3041..0x33FF).contains(&u)
        || (0x3400..0x4DC0).contains(&u)
        || (0x4E00..0xA4D0).contains(&u)
        || (0xAC00..0xD7A4).contains(&u)
        || (0xF900..0xFB00).contains(&u)
        || (0xFE30..0xFE50).contains(&u)
        || (0xFF00..0xFF61).contains(&u)
        || (0xFFE0..0xFFE7).contains(&u)
        || (0x20000..0x3FFFE).contains(&u)
    {
        2
    } else {
        1
    }
}

/// Terminal cells `s` takes.
pub fn width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

/// `s` cut to at most `w` cells, with `…` when cut.
pub fn clip(s: &str, w: usize) -> String {
    if width(s) <= w {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let cw = char_width(c);
        if used + cw + 1 > w {
            break;
        }
        out.push(c);
        used += cw;
    }
    out.push('…');
    out
}

#[derive(Clone, Copy, PartialEq)]
enum Align {
    Left,
    Right,
}

/// Rows as aligned columns (two spaces apart, widths in terminal cells),
/// each line prefixed with `indent`.
fn table(rows: &[Vec<String>], align: &[Align], indent: &str) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut w = vec![0; cols];
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(width(c));
        }
    }
    let mut s = String::new();
    for r in rows {
        let mut line = String::from(indent);
        for (i, c) in r.iter().enumerate() {
            let pad = w[i] - width(c);
            let right = align.get(i) == Some(&Align::Right);
            if right {
                line.push_str(&" ".repeat(pad));
            }
            line.push_str(c);
            if !right {
                line.push_str(&" ".repeat(pad));
            }
            if i + 1 < r.len() {
                line.push_str("  ");
            }
        }
        s.push_str(line.trim_end());
        s.push('\n');
    }
    s
}

fn kind_noun(kind: Kind) -> &'static str {
    match kind {
        Kind::Person => "person",
        Kind::Entity => "entity",
    }
}

/// How a mention's node joined its golden record, in words.
fn link_words(m: &Mention) -> String {
    match (m.link.as_deref(), m.probability) {
        (Some("id"), _) => "linked by ID".into(),
        (Some("probabilistic"), Some(p)) => {
            format!(
                "linked probabilistically, p {}",
                civhub_mdm::explain::fmt_p(p)
            )
        }
        (Some("probabilistic"), None) => "linked probabilistically".into(),
        (Some("decision"), _) => "linked by a reviewer's decision".into(),
        (Some("rule"), _) => "linked by a deterministic rule".into(),
        (Some("single"), _) => "alone".into(),
        (Some(other), _) => other.to_string(),
        (None, _) => "not linked".into(),
    }
}

fn values_line(m: &Mention) -> String {
    m.values
        .0
        .iter()
        .map(|(k, v)| format!("{k} {}", display(v)))
        .collect::<Vec<_>>()
        .join(" · ")
}

fn record_line(r: &MentionRecord) -> Option<String> {
    let f = r.other_fields();
    if f.is_empty() {
        return None;
    }
    let text = f
        .iter()
        .map(|(k, v)| format!("{k} {}", clip(&display(v), 40)))
        .collect::<Vec<_>>()
        .join(" · ");
    Some(clip(&text, 150))
}

/// The 360° view of a golden record.
pub fn golden_view(v: &View) -> String {
    let g = &v.golden;
    let mut s = String::new();
    let name = g.value("name").unwrap_or_default();
    let _ = writeln!(
        s,
        "{} {} · {}",
        kind_noun(v.kind),
        g.gid,
        if name.is_empty() { "(no name)" } else { &name }
    );
    let datasets: std::collections::BTreeSet<&str> = v
        .departments
        .iter()
        .flat_map(|d| d.mentions.iter().map(|m| m.mention.pipeline.as_str()))
        .collect();
    let _ = writeln!(
        s,
        "  {} mention{} in {} dataset{} of {} department{} · linked by {}{} · run {}",
        g.mention_count,
        plural(g.mention_count as usize),
        datasets.len(),
        plural(datasets.len()),
        v.departments.len(),
        plural(v.departments.len()),
        match g.linked_by.as_str() {
            "id" => "ID".to_string(),
            "single" => "nothing: a single mention".to_string(),
            "decision" => "a reviewer's decision".to_string(),
            "probabilistic" => "ID and match probability".to_string(),
            other => other.to_string(),
        },
        g.min_link_probability
            .map(|p| format!(" (weakest link p {})", civhub_mdm::explain::fmt_p(p)))
            .unwrap_or_default(),
        v.run_id
    );
    let _ = writeln!(
        s,
        "\ngolden record — one datum, one source: each value and the dataset it came from"
    );
    let rows: Vec<Vec<String>> = g
        .fields
        .iter()
        .map(|f| {
            vec![
                f.field.clone(),
                f.value.as_ref().map(display).unwrap_or_else(|| "—".into()),
                match (&f.source, &f.source_title) {
                    (Some(p), Some(t)) => format!("{t} ({p})"),
                    (Some(p), None) => p.clone(),
                    _ => String::new(),
                },
            ]
        })
        .collect();
    s.push_str(&table(&rows, &[], "  "));
    let _ = writeln!(s, "\nmentions, department by department");
    for d in &v.departments {
        let _ = writeln!(
            s,
            "  {} ({}) · {} mention{}",
            d.name,
            d.department,
            d.mentions.len(),
            plural(d.mentions.len())
        );
        for r in &d.mentions {
            let m = &r.mention;
            let _ = writeln!(
                s,
                "    {}  {} · {} · {} · {}",
                m.mention_id,
                r.dataset_title,
                m.role,
                m.position(),
                link_words(m)
            );
            let _ = writeln!(s, "        {}", values_line(m));
            if let Some(c) = &m.contradiction {
                let _ = writeln!(s, "        ! contradicts the ID it carries: {c}");
            }
            match (&r.record, record_line(r)) {
                _ if r.withheld.is_some() => {
                    let _ = writeln!(
                        s,
                        "        record withheld — {}",
                        r.withheld.as_deref().unwrap_or_default()
                    );
                }
                (None, _) => {
                    let _ = writeln!(
                        s,
                        "        (the staged record is gone: re-run `civhub match`)"
                    );
                }
                (Some(_), Some(line)) => {
                    let _ = writeln!(s, "        record: {line}");
                }
                (Some(_), None) => {}
            }
            if let Some(f) = &r.flags {
                let _ = writeln!(s, "        flags: {f}");
            }
        }
    }
    if !v.review.is_empty() {
        let _ = writeln!(
            s,
            "\n{} pair{} about this record wait{} for review:",
            v.review.len(),
            plural(v.review.len()),
            if v.review.len() == 1 { "s" } else { "" }
        );
        for r in &v.review {
            let _ = writeln!(
                s,
                "  #{}  {} ↔ {}  {}{}",
                r.n,
                r.mention_a,
                r.mention_b,
                r.reason,
                r.probability
                    .map(|p| format!(" (p {})", civhub_mdm::explain::fmt_p(p)))
                    .unwrap_or_default()
            );
        }
        let _ = write!(
            s,
            "`civhub review show <n>{}` shows a pair",
            if v.kind == Kind::Entity {
                " --kind entity"
            } else {
                ""
            }
        );
    } else {
        let _ = write!(
            s,
            "`civhub explain <mention> <mention>` shows why two mentions were linked"
        );
    }
    s
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Several golden records match a query: list them, ask for a gid.
pub fn candidates(kind: Kind, query: &str, read_as: &str, c: &[Candidate]) -> String {
    let mut s = String::new();
    let by = c.first().map(|x| x.matched_by.as_str()).unwrap_or(read_as);
    let how = match by {
        "pinyin" => format!(
            "no {} named `{query}`; these sound the same",
            kind_noun(kind)
        ),
        "part of the name" => format!("no entity named exactly `{query}`; these names contain it"),
        _ => format!("{} golden records match the {read_as} `{query}`", c.len()),
    };
    let _ = writeln!(s, "{how} — pick one by its golden id:");
    let mut rows = vec![match kind {
        Kind::Person => [
            "gid",
            "name",
            "birth date",
            "gender",
            "address",
            "ID",
            "from",
            "mentions",
        ]
        .map(String::from)
        .to_vec(),
        Kind::Entity => [
            "gid",
            "name",
            "USCC",
            "legal rep.",
            "address",
            "from",
            "mentions",
        ]
        .map(String::from)
        .to_vec(),
    }];
    for x in c {
        let g = &x.golden;
        let v = |f: &str| g.value(f).unwrap_or_else(|| "—".into());
        let mut row = vec![g.gid.clone(), v("name")];
        match kind {
            Kind::Person => {
                row.push(v("birth_date"));
                row.push(v("gender"));
                row.push(clip(&v("address"), 20));
                row.push(v("id_number"));
            }
            Kind::Entity => {
                row.push(v("uscc"));
                row.push(v("legal_rep"));
                row.push(clip(&v("address"), 20));
            }
        }
        row.push(clip(&g.sources.join(", "), 36));
        row.push(g.mention_count.to_string());
        rows.push(row);
    }
    let mut align = vec![Align::Left; rows[0].len()];
    if let Some(last) = align.last_mut() {
        *last = Align::Right;
    }
    s.push_str(&table(&rows, &align, "  "));
    let _ = write!(s, "hint: `civhub {} <gid>` shows one", kind_noun(kind));
    s
}

fn num(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else if x >= 0.001 {
        format!("{x:.4}")
    } else {
        format!("{x:.2e}")
    }
}

/// A weight as a bar either side of an axis: `████│` below zero, `│████`
/// above, so the sign reads without colour.
fn bar(w: f64, scale: f64, half: usize) -> String {
    let n = ((w.abs() / scale) * half as f64).round() as usize;
    let n = if w.abs() >= 0.05 { n.clamp(1, half) } else { 0 };
    if w < 0.0 {
        format!(
            "{}{}│{}",
            " ".repeat(half - n),
            "█".repeat(n),
            " ".repeat(half)
        )
    } else {
        format!(
            "{}│{}{}",
            " ".repeat(half),
            "█".repeat(n),
            " ".repeat(half - n)
        )
    }
}

fn side_line(tag: &str, m: &Mention) -> String {
    format!(
        "  {tag}  {}  {} · {} · {} · {} ({})",
        m.mention_id,
        m.pipeline,
        m.role,
        m.position(),
        m.gid.as_deref().unwrap_or("no golden id"),
        link_words(m)
    )
}

/// The waterfall table; `full` adds both values, m and u.
fn waterfall(w: &Waterfall, full: bool) -> String {
    const HALF: usize = 10;
    let scale = w
        .steps
        .iter()
        .map(|s| s.weight.abs())
        .chain([w.prior_weight.abs()])
        .fold(1.0, f64::max);
    let mut rows: Vec<Vec<String>> = Vec::new();
    let header: Vec<&str> = if full {
        vec![
            "comparison",
            "level",
            "A",
            "B",
            "m",
            "u",
            "weight",
            "",
            "total",
        ]
    } else {
        vec!["comparison", "level", "weight", "", "total"]
    };
    rows.push(header.into_iter().map(String::from).collect());
    let prior = |rows: &mut Vec<Vec<String>>| {
        let mut r = vec![
            "prior".to_string(),
            format!(
                "1 in {}",
                thousands((1.0 / w.prior.max(1e-15)).round() as u64)
            ),
        ];
        if full {
            r.extend([String::new(), String::new(), String::new(), String::new()]);
        }
        r.push(format!("{:+.2}", w.prior_weight));
        r.push(bar(w.prior_weight, scale, HALF));
        r.push(format!("{:+.2}", w.prior_weight));
        rows.push(r);
    };
    prior(&mut rows);
    let mut tf_notes = Vec::new();
    for st in &w.steps {
        rows.push(step_row(st, full, scale, HALF, &mut tf_notes));
    }
    let mut total = vec!["total".to_string(), String::new()];
    if full {
        total.extend([String::new(), String::new(), String::new(), String::new()]);
    }
    total.push(format!("{:+.2}", w.weight));
    total.push(String::new());
    total.push(format!("p = {}", civhub_mdm::explain::fmt_p(w.probability)));
    rows.push(total);
    let n = rows[0].len();
    let mut align = vec![Align::Left; n];
    for i in [n - 3, n - 1] {
        align[i] = Align::Right;
    }
    if full {
        align[4] = Align::Right;
        align[5] = Align::Right;
    }
    let mut s = table(&rows, &align, "  ");
    for t in tf_notes {
        let _ = writeln!(s, "  {t}");
    }
    s
}

fn step_row(
    st: &Step,
    full: bool,
    scale: f64,
    half: usize,
    tf_notes: &mut Vec<String>,
) -> Vec<String> {
    let name = if st.description.is_empty() {
        st.comparison.clone()
    } else {
        st.description.clone()
    };
    let mut level = st.label.clone();
    if let Some(t) = &st.term_frequency {
        level.push_str(" (tf)");
        let note = format!(
            "(tf) u of `{}` is how common `{}` is among the run's nodes: 1 in {}",
            name,
            t.value,
            thousands((1.0 / t.frequency.max(1e-12)).round() as u64)
        );
        if !tf_notes.contains(&note) {
            tf_notes.push(note);
        }
    }
    let mut r = vec![name, level];
    if full {
        let side = |left: bool| {
            let vals: Vec<String> = st
                .values
                .iter()
                .map(|(_, l, rr)| {
                    let v = if left { l } else { rr };
                    v.clone().unwrap_or_else(|| "—".into())
                })
                .collect();
            clip(&vals.join(" / "), 24)
        };
        r.push(side(true));
        r.push(side(false));
        r.push(st.m.map(num).unwrap_or_default());
        r.push(st.u.map(num).unwrap_or_default());
    }
    if st.level.is_some() {
        r.push(format!("{:+.2}", st.weight));
        r.push(bar(st.weight, scale, half));
    } else {
        r.push("0".into());
        r.push(bar(0.0, scale, half));
    }
    r.push(format!("{:+.2}", st.total));
    r
}

/// The deterministic rules whose key the two share, if any.
fn rules_line(w: &Waterfall) -> Option<String> {
    if w.rules.is_empty() {
        return None;
    }
    let rules: Vec<String> = w
        .rules
        .iter()
        .map(|r| {
            let on: Vec<String> =
                r.on.iter()
                    .zip(&r.values)
                    .map(|(c, v)| format!("{c} = {}", clip(v, 40)))
                    .collect();
            format!("{} ({})", r.rule, on.join(", "))
        })
        .collect();
    Some(format!(
        "deterministic rules sharing a key: {}",
        rules.join("; ")
    ))
}

fn blocking_line(w: &Waterfall) -> String {
    if let Some(why) = &w.never_compared {
        return format!("not compared: {why}");
    }
    let rules: Vec<String> = w
        .blocking
        .iter()
        .map(|b| {
            let on: Vec<String> =
                b.on.iter()
                    .zip(&b.values)
                    .map(|(c, v)| format!("{c} = {}", clip(v, 40)))
                    .collect();
            format!("{} ({})", b.rule, on.join(", "))
        })
        .collect();
    format!("blocking: paired by {}", rules.join("; "))
}

/// `civhub explain`.
pub fn explanation(e: &Explanation) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "explain {} ↔ {} · {} · run {}",
        e.a.mention_id,
        e.b.mention_id,
        kind_noun(e.kind),
        e.run_id
    );
    let _ = writeln!(s, "{}", side_line("A", &e.a));
    let _ = writeln!(s, "{}", side_line("B", &e.b));
    let _ = writeln!(s, "\nthe two mentions, compared as themselves:");
    s.push_str(&waterfall(&e.mentions, true));
    let _ = writeln!(s, "  {}", blocking_line(&e.mentions));
    if let Some(r) = rules_line(&e.mentions) {
        let _ = writeln!(s, "  {r}");
    }
    if let Some(n) = &e.nodes {
        let what = |node: &str, m: &Mention| {
            if node.starts_with('c') && node != m.mention_id {
                format!("the cluster of {} `{}`", id_word(e.kind), &node[1..])
            } else {
                format!("mention {node}")
            }
        };
        let levels = |w: &Waterfall| w.steps.iter().map(|s| s.level).collect::<Vec<_>>();
        let same = levels(n) == levels(&e.mentions)
            && (n.weight - e.mentions.weight).abs() < 1e-9
            && n.blocking.len() == e.mentions.blocking.len();
        let how = format!(
            "A as {}, B as {}",
            what(&n.left, &e.a),
            what(&n.right, &e.b)
        );
        if same {
            let _ = writeln!(s, "\nthe run compared {how}: the same levels and total");
        } else {
            let _ = writeln!(s, "\nas the run compared them — {how}:");
            s.push_str(&waterfall(n, true));
            let _ = writeln!(s, "  {}", blocking_line(n));
            if let Some(r) = rules_line(n) {
                let _ = writeln!(s, "  {r}");
            }
        }
    } else if e.a.node_id == e.b.node_id && e.a.node_id != e.a.mention_id {
        let _ = writeln!(
            s,
            "\nboth sit in the cluster of {} `{}` of the deterministic pass",
            id_word(e.kind),
            &e.a.node_id[1..]
        );
    }
    let _ = writeln!(
        s,
        "\nthresholds: match ≥ {}, review ≥ {}",
        e.thresholds.link, e.thresholds.review
    );
    let _ = write!(s, "verdict: {}", e.verdict.summary);
    for n in &e.notes {
        let _ = write!(s, "\nnote: {n}");
    }
    s
}

fn id_word(kind: Kind) -> &'static str {
    match kind {
        Kind::Person => "ID",
        Kind::Entity => "USCC",
    }
}

fn mention_brief(m: Option<&Mention>, id: &str) -> String {
    let Some(m) = m else {
        return format!("{id} (not in this run)");
    };
    let mut parts = vec![m.mention_id.clone()];
    for k in ["name", "birth-date", "id-number", "uscc", "legal-rep"] {
        if let Some(v) = m.values.text(k) {
            parts.push(v);
        }
    }
    parts.push(m.pipeline.clone());
    parts.push(format!("→ {}", m.gid.as_deref().unwrap_or("?")));
    parts.join("  ")
}

/// `civhub review`: the queue.
pub fn review_list(
    kind: Kind,
    run_id: &str,
    items: &[ReviewItem],
    other: Kind,
    other_waiting: usize,
) -> String {
    let mut s = String::new();
    let flag = if kind == Kind::Entity {
        " --kind entity"
    } else {
        ""
    };
    if items.is_empty() {
        let _ = write!(
            s,
            "no {} pairs wait for review · run {run_id}",
            kind_noun(kind)
        );
    } else {
        let _ = writeln!(
            s,
            "{} {} pair{} wait{} for review · run {run_id}\n",
            items.len(),
            kind_noun(kind),
            plural(items.len()),
            if items.len() == 1 { "s" } else { "" }
        );
        for i in items {
            let _ = writeln!(
                s,
                "{:>4}  p {:<7}  {}",
                i.n,
                i.probability
                    .map(civhub_mdm::explain::fmt_p)
                    .unwrap_or_else(|| "—".into()),
                i.reason
            );
            let _ = writeln!(s, "      A {}", mention_brief(i.a.as_ref(), &i.mention_a));
            let _ = writeln!(s, "      B {}", mention_brief(i.b.as_ref(), &i.mention_b));
            if let (Some(a), Some(b)) = (&i.a, &i.b)
                && a.gid.is_some()
                && a.gid == b.gid
            {
                let _ = writeln!(
                    s,
                    "      (already one golden record, {}, through other links)",
                    a.gid.as_deref().unwrap_or_default()
                );
            }
        }
        let _ = write!(
            s,
            "\n`civhub review show <n>{flag}` shows a pair side by side; `civhub review decide <A> <B> same|different` decides it"
        );
    }
    if other_waiting > 0 {
        let _ = write!(
            s,
            "\n{other_waiting} {} pair{} wait{} too: `civhub review --kind {}`",
            kind_noun(other),
            plural(other_waiting),
            if other_waiting == 1 { "s" } else { "" },
            other.as_str()
        );
    }
    s
}

/// `civhub review show <n>`: both mentions side by side and why.
pub fn review_pair(item: &ReviewItem, total: usize, e: &Explanation) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "pair #{} of {} · {} · p {} · {}\n",
        item.n,
        total,
        kind_noun(e.kind),
        item.probability
            .map(civhub_mdm::explain::fmt_p)
            .unwrap_or_else(|| "—".into()),
        item.reason
    );
    let (a, b) = (&e.a, &e.b);
    let mut rows = vec![vec![String::new(), "A".to_string(), "B".to_string()]];
    let mut row = |k: &str, x: String, y: String| rows.push(vec![k.to_string(), x, y]);
    row("mention", a.mention_id.clone(), b.mention_id.clone());
    row("pipeline", a.pipeline.clone(), b.pipeline.clone());
    row("role", a.role.clone(), b.role.clone());
    row("position", clip(&a.position(), 64), clip(&b.position(), 64));
    let mut keys: Vec<&str> = Vec::new();
    for m in [a, b] {
        for (k, _) in &m.values.0 {
            if !keys.contains(&k.as_str()) {
                keys.push(k);
            }
        }
    }
    for k in keys {
        let v = |m: &Mention| clip(&m.values.text(k).unwrap_or_else(|| "—".into()), 44);
        row(k, v(a), v(b));
    }
    row(
        "golden id",
        a.gid.clone().unwrap_or_default(),
        b.gid.clone().unwrap_or_default(),
    );
    row("linked", link_words(a), link_words(b));
    if a.contradiction.is_some() || b.contradiction.is_some() {
        row(
            "contradicts",
            a.contradiction.clone().unwrap_or_default(),
            b.contradiction.clone().unwrap_or_default(),
        );
    }
    s.push_str(&table(&rows, &[], "  "));
    let decisive = e.nodes.as_ref().unwrap_or(&e.mentions);
    let _ = writeln!(
        s,
        "\nwhy ({}):",
        if e.nodes.is_some() {
            "as the run compared them"
        } else {
            "the two mentions"
        }
    );
    s.push_str(&waterfall(decisive, false));
    let _ = writeln!(s, "verdict: {}", e.verdict.summary);
    let _ = write!(
        s,
        "\n`civhub explain {} {}` shows every value · decide with\n  civhub review decide {} {} same|different [--note TEXT]",
        a.mention_id, b.mention_id, a.mention_id, b.mention_id
    );
    s
}

/// The confirmation of `civhub review decide`.
pub fn decided(
    root: &std::path::Path,
    kind: Kind,
    d: &civhub_mdm::review::Decision,
    path: &std::path::Path,
) -> String {
    let file = path
        .strip_prefix(root)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| path.display().to_string());
    format!(
        "recorded: {} and {} are {}{} ({} decision in {file})\nthe next `civhub match` applies it",
        d.a,
        d.b,
        if d.decision == "same" {
            "the same"
        } else {
            "different"
        },
        if d.by.is_empty() {
            String::new()
        } else {
            format!(", decided by {}", d.by)
        },
        kind_noun(kind)
    )
}
