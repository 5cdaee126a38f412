//! Generating one pipeline's export files and its part of the matching truth.

use crate::error::SynthError;
use crate::layout::{Layout, OutCol};
use crate::records::{self, Ctx, Record};
use crate::render::{Budget, Cell, NOISE, Renderer};
use crate::rng::{Rand, chance, sample_indices, stream};
use crate::world::{Holder, World};
use civhub_ingest::config::{IdentityKind, Pipeline};
use rand::Rng;
use std::collections::{BTreeSet, VecDeque};
use std::io::Write;
use std::path::Path;

/// What was written for one file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FileReport {
    /// Path relative to the exports folder.
    pub path: String,
    /// Data rows.
    pub rows: u64,
    /// Size in bytes.
    pub bytes: u64,
    /// Encoding of text files (`utf-8`, `gbk` …).
    pub encoding: &'static str,
}

/// What was written for one pipeline.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct PipelineReport {
    /// Pipeline id.
    pub pipeline: String,
    /// Files written.
    pub files: Vec<FileReport>,
    /// Data rows written (duplicates included).
    pub rows: u64,
    /// Bytes written.
    pub bytes: u64,
    /// Rows planted to be quarantined (bad values, duplicate keys, Excel damage).
    pub quarantine_planned: u64,
    /// Records dropped because they would break a rule and the budget was spent.
    pub dropped: u64,
    /// The rules the dropped (or quarantine-bound) records broke.
    pub broken_rules: std::collections::BTreeMap<String, u64>,
    /// Mentions written to the truth.
    pub mentions: u64,
    /// Exact duplicate rows written.
    pub duplicates: u64,
    /// Noise written, by kind.
    pub noise: Vec<(String, u64)>,
    /// Noise variants the normalizers rejected (written clean instead).
    pub rejected_variants: u64,
    /// Characters an encoding could not represent (should be 0).
    pub unmappable: u64,
    /// Data rows whose first cell would end the data early (should be 0).
    pub stop_risk: u64,
    /// Problems of the pipeline's configuration seen while generating.
    pub warnings: Vec<String>,
}

struct Ident {
    role: String,
    person: bool,
    fields: Vec<usize>,
    /// Mentioned only when this field has one of these values.
    when: Option<(usize, Vec<String>)>,
}

fn idents(p: &Pipeline) -> Vec<Ident> {
    p.def
        .identity
        .iter()
        .map(|d| Ident {
            role: d.role.clone(),
            person: *d.kind.get_ref() == IdentityKind::Person,
            fields: d
                .fields()
                .filter(|(k, _)| *k != "legal-rep")
                .filter_map(|(_, f)| p.schema.field_index(f.get_ref()))
                .collect(),
            when: d.when.as_ref().and_then(|w| {
                p.schema
                    .field_index(w.field.get_ref())
                    .map(|f| (f, w.values.clone()))
            }),
        })
        .collect()
}

/// The quarantine budget: a fraction of what the pipeline's limits tolerate.
fn budget_for(p: &Pipeline, rows: usize) -> usize {
    let by_ratio = p
        .limits
        .max_bad_ratio
        .map(|r| (r * rows as f64).floor() as usize);
    let by_rows = p.limits.max_bad_rows.map(|r| r as usize);
    let allowed = match (by_ratio, by_rows) {
        (Some(a), Some(b)) => a.min(b),
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) => rows / 50,
    };
    allowed * 2 / 5
}

struct Pending {
    due: usize,
    file: usize,
    sheet: String,
    cells: Vec<Cell>,
    mentions: Vec<(String, bool, Holder, String)>,
    bad: bool,
}

/// Generates pipeline `ctx.pipeline` into `exports`, its mentions into `part`.
pub fn run(
    ctx: &Ctx<'_>,
    exports: &Path,
    part: &Path,
    verify_all: bool,
) -> Result<PipelineReport, SynthError> {
    let p = ctx.pipeline;
    let perr = |reason: String| SynthError::Pipeline {
        pipeline: p.id.clone(),
        reason,
    };
    let mut rng: Rand = stream(ctx.seed, "rows");
    let mut plan_rng: Rand = stream(ctx.seed, "plan");
    let mut generator = records::for_pipeline(ctx, &mut plan_rng);
    let n = generator.len();
    let mut renderer = Renderer::new(p, ctx.seed);
    renderer.verify_all = verify_all;
    let mut layout = Layout::new(p, ctx.seed, n).map_err(perr)?;
    let budget_total = budget_for(p, n);
    let bad_cols: Vec<usize> = (0..renderer.cols.len())
        .filter(|&ci| renderer.bad_value(ci, &mut plan_rng).is_some())
        .collect();
    let n_bad = if bad_cols.is_empty() {
        0
    } else {
        ((n as f64 * 0.003).round() as usize)
            .max(usize::from(budget_total >= 2))
            .min(budget_total / 2)
    };
    let keyed = !p.key.is_empty();
    let n_dup = if keyed {
        ((n as f64 * 0.002).round() as usize)
            .max(usize::from(budget_total >= 3))
            .min(budget_total.saturating_sub(n_bad) / 2)
    } else {
        ((n as f64 * 0.001).round() as usize).min(5)
    };
    let picks = sample_indices(&mut plan_rng, n, n_bad + n_dup);
    let mut bad_rows: BTreeSet<usize> = BTreeSet::new();
    let mut dup_rows: BTreeSet<usize> = BTreeSet::new();
    for (k, i) in picks.into_iter().enumerate() {
        if k % 2 == 0 && bad_rows.len() < n_bad || dup_rows.len() >= n_dup {
            bad_rows.insert(i);
        } else {
            dup_rows.insert(i);
        }
    }
    let mut budget = Budget {
        left: budget_total.saturating_sub(n_bad + if keyed { n_dup } else { 0 }),
    };
    let idents = idents(p);
    let types = records::type_fields(ctx);
    let mut report = PipelineReport {
        pipeline: p.id.clone(),
        ..PipelineReport::default()
    };
    for (i, f) in p.schema.fields.iter().enumerate() {
        let bad = ctx.unreachable_values(i);
        if !bad.is_empty() {
            report.warnings.push(format!("field `{}`: the {} normalizer changes {} so it can never match the allowed values; not generated", f.name, p.columns.iter().find(|c| c.field == i).map(|c| c.normalizer.as_str()).unwrap_or("text"), bad.iter().map(|b| format!("`{b}`")).collect::<Vec<_>>().join(", ")));
        }
    }
    let mut truth = std::io::BufWriter::with_capacity(1 << 16, fs_err::File::create(part)?);
    let mut sinks: Vec<Option<Box<dyn crate::write::Sink>>> = Vec::new();
    let mut rows_per_file: Vec<u64> = Vec::new();
    let mut pending: VecDeque<Pending> = VecDeque::new();
    let mut rec = Record::new(p.schema.fields.len());
    let mut field_tags = vec![0u32; p.schema.fields.len()];
    let mut cells: Vec<Cell> = Vec::new();
    let mut seq: Vec<u64> = Vec::new();
    let mut planned_bad: u64 = 0;
    // Constants are staged as written: rules see them too.
    let consts: Vec<(usize, civhub_core::Value)> = p
        .columns
        .iter()
        .filter_map(|c| match &c.source {
            civhub_ingest::config::ColumnSource::Const(v) => Some((
                c.field,
                c.normalizer
                    .apply(v, &c.options)
                    .map(|n| n.value)
                    .unwrap_or_else(|_| civhub_core::Value::Str(v.clone())),
            )),
            _ => None,
        })
        .collect();

    for i in 0..n {
        rec.clear();
        generator.fill(i, &mut rng, &mut rec);
        for (f, v) in &consts {
            rec.values[*f] = v.clone();
        }
        records::fill_types(ctx.world, &types, &mut rec);
        let mut broken = crate::fix::check(p, &mut rec, &mut rng);
        if let Some(r) = &broken {
            *report.broken_rules.entry(r.clone()).or_default() += 1;
        }
        if broken.is_some() && !budget.take() {
            {
                for _ in 0..3 {
                    rec.clear();
                    generator.fill(i, &mut rng, &mut rec);
                    for (f, v) in &consts {
                        rec.values[*f] = v.clone();
                    }
                    records::fill_types(ctx.world, &types, &mut rec);
                    broken = crate::fix::check(p, &mut rec, &mut rng);
                    if broken.is_none() {
                        break;
                    }
                }
                if broken.is_some() {
                    report.dropped += 1;
                    continue;
                }
            }
        }
        let (file, sheet) = layout.route(&rec, &renderer).map_err(perr)?;
        while sinks.len() <= file {
            sinks.push(None);
            rows_per_file.push(0);
            seq.push(0);
        }
        if sinks[file].is_none() {
            let shape = &layout.files[file];
            sinks[file] = Some(crate::write::open(&exports.join(&shape.rel), p, shape)?);
        }
        let shape = &layout.files[file];
        field_tags.iter_mut().for_each(|t| *t = 0);
        cells.clear();
        seq[file] += 1;
        for oc in &shape.cols {
            let cell = match oc {
                OutCol::Index => Cell::Text(seq[file].to_string()),
                OutCol::Remark => {
                    if chance(&mut rng, 0.05) {
                        Cell::Text("无".into())
                    } else {
                        Cell::Empty
                    }
                }
                OutCol::Fields(g) => {
                    let ci = g
                        .iter()
                        .copied()
                        .find(|&ci| !rec.values[renderer.cols[ci].field].is_null())
                        .unwrap_or(g[0]);
                    let mut tags = 0u32;
                    let c = renderer.cell(ci, &rec, &shape.style, &mut rng, &mut budget, &mut tags);
                    field_tags[renderer.cols[ci].field] |= tags;
                    c
                }
            };
            cells.push(cell);
        }
        // A row is bad (meant for quarantine) for a broken rule, an Excel-damaged ID or a planted bad value.
        let mut bad = broken.is_some()
            || renderer
                .cols
                .iter()
                .any(|c| field_tags[c.field] & (1 << 3) != 0 && (c.strict || c.required));
        if bad_rows.contains(&i) && !rec.protected {
            let present: Vec<(usize, usize)> = shape
                .cols
                .iter()
                .enumerate()
                .filter_map(|(k, oc)| match oc {
                    OutCol::Fields(g) => g
                        .iter()
                        .copied()
                        .find(|ci| bad_cols.contains(ci))
                        .map(|ci| (k, ci)),
                    _ => None,
                })
                .collect();
            if !present.is_empty() {
                let (k, ci) = present[rng.random_range(0..present.len())];
                if let Some(v) = renderer.bad_value(ci, &mut rng) {
                    cells[k] = v;
                    field_tags.iter_mut().for_each(|t| *t |= 1 << 22);
                    bad = true;
                }
            }
        }
        if let Some(re) = &p.stop_at
            && let Some(first) = cells.iter().map(Cell::text).find(|t| !t.trim().is_empty())
            && re.is_match(&first)
        {
            report.stop_risk += 1;
        }
        let row = sinks[file].as_mut().expect("open").row(&sheet, &cells)?;
        rows_per_file[file] += 1;
        planned_bad += u64::from(bad);
        let mut ms: Vec<(String, bool, Holder, String)> = Vec::new();
        for id in &idents {
            if let Some((f, values)) = &id.when
                && !rec.values[*f]
                    .as_str()
                    .is_some_and(|v| values.iter().any(|x| x == v))
            {
                continue;
            }
            let holder = id.fields.iter().find_map(|&f| match rec.owners[f] {
                Some(h @ Holder::Person(_)) if id.person => Some(h),
                Some(h @ Holder::Entity(_)) if !id.person => Some(h),
                _ => None,
            });
            if let Some(h) = holder {
                let tags = id.fields.iter().fold(0u32, |a, &f| a | field_tags[f]);
                ms.push((id.role.clone(), id.person, h, noise_names(tags)));
            }
        }
        let rel = &layout.files[file].rel;
        for (role, person, h, noise) in &ms {
            write_mention(
                &mut truth, &p.id, rel, &sheet, row, role, *person, *h, noise, bad,
            )?;
            report.mentions += 1;
        }
        let all_tags = field_tags.iter().fold(0u32, |a, t| a | t);
        renderer.record_tags(all_tags);
        if dup_rows.contains(&i) && !rec.protected {
            pending.push_back(Pending {
                due: i + rng.random_range(1..40),
                file,
                sheet: sheet.clone(),
                cells: cells.clone(),
                mentions: ms,
                bad: bad || keyed,
            });
        }
        while pending.front().is_some_and(|d| d.due <= i) {
            let d = pending.pop_front().expect("front");
            emit_dup(
                &mut sinks,
                &mut rows_per_file,
                &layout,
                &mut truth,
                p,
                d,
                &mut report,
            )?;
        }
    }
    while let Some(d) = pending.pop_front() {
        emit_dup(
            &mut sinks,
            &mut rows_per_file,
            &layout,
            &mut truth,
            p,
            d,
            &mut report,
        )?;
    }
    if layout.files.is_empty() {
        // An export with no records is still a file with a header.
        let empty = Record::new(p.schema.fields.len());
        let (file, _) = layout.route(&empty, &renderer).map_err(perr)?;
        let shape = &layout.files[file];
        sinks.push(Some(crate::write::open(
            &exports.join(&shape.rel),
            p,
            shape,
        )?));
        rows_per_file.push(0);
    }
    for (k, s) in sinks.into_iter().enumerate() {
        if let Some(s) = s {
            let bytes = s.finish()?;
            let shape = &layout.files[k];
            report.files.push(FileReport {
                path: shape.rel.clone(),
                rows: rows_per_file[k],
                bytes,
                encoding: shape.enc.as_str(),
            });
            report.rows += rows_per_file[k];
            report.bytes += bytes;
        }
    }
    truth.flush()?;
    report.quarantine_planned += planned_bad;
    report.noise = NOISE
        .iter()
        .zip(renderer.counts.iter())
        .filter(|(_, c)| **c > 0)
        .map(|(k, c)| (k.to_string(), *c))
        .collect();
    report.rejected_variants = renderer.rejected;
    Ok(report)
}

fn noise_names(tags: u32) -> String {
    NOISE
        .iter()
        .enumerate()
        .filter(|(i, _)| tags & (1 << i) != 0)
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join(";")
}

#[allow(clippy::too_many_arguments)]
fn write_mention(
    out: &mut impl Write,
    pipeline: &str,
    rel: &str,
    sheet: &str,
    row: u64,
    role: &str,
    person: bool,
    h: Holder,
    noise: &str,
    bad: bool,
) -> Result<(), SynthError> {
    let key = match h {
        Holder::Person(i) => World::person_key(i),
        Holder::Entity(i) => World::entity_key(i),
    };
    writeln!(
        out,
        "{pipeline},{},{},{row},{role},{},{key},{noise},{}",
        crate::truth::csv_field(rel),
        crate::truth::csv_field(sheet),
        if person { "person" } else { "entity" },
        u8::from(bad)
    )?;
    Ok(())
}

fn emit_dup(
    sinks: &mut [Option<Box<dyn crate::write::Sink>>],
    rows: &mut [u64],
    layout: &Layout<'_>,
    truth: &mut impl Write,
    p: &Pipeline,
    d: Pending,
    report: &mut PipelineReport,
) -> Result<(), SynthError> {
    let row = sinks[d.file]
        .as_mut()
        .expect("open")
        .row(&d.sheet, &d.cells)?;
    rows[d.file] += 1;
    report.duplicates += 1;
    report.quarantine_planned += u64::from(d.bad);
    let rel = &layout.files[d.file].rel;
    for (role, person, h, noise) in &d.mentions {
        let noise = if noise.is_empty() {
            "duplicate_row".to_string()
        } else {
            format!("{noise};duplicate_row")
        };
        write_mention(
            truth, &p.id, rel, &d.sheet, row, role, *person, *h, &noise, d.bad,
        )?;
        report.mentions += 1;
    }
    Ok(())
}
