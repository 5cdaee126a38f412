//! civhub-synth: a deterministic generator of realistic department exports
//! for the Huangshan data hub, with the ground truth to evaluate against.
//!
//! [`generate`] makes a folder a ready-to-run civhub project: the bundled
//! `civhub.toml`, schemas and pipelines (embedded at compile time), an
//! `exports/` folder with files for **every** pipeline, and `truth/`.
//!
//! The design in three layers:
//!
//! 1. **The world** ([`world`]): a city of N people in households, legal
//!    entities, what they own and where they work, 低保 recipients, and the
//!    ineligible cases planted among them. Built once from the seed.
//! 2. **Records** ([`gen`]): per pipeline, canonical records (a value per
//!    schema field, and who each value belongs to) — specialised generators
//!    for the core schemas, a generic one driven by the pipeline's identity
//!    declarations and field meanings for everything else. A new department
//!    is a new pipeline file; nothing here needs to change.
//! 3. **Rendering** ([`render`], [`layout`], [`write`]): the inverse of the
//!    pipeline's mapping — the export's own column names, code tables,
//!    units, formats, sheets, titles and encodings — with realistic noise.
//!
//! Determinism: every pipeline draws from its own ChaCha8 stream seeded by
//! the run's seed and a stable hash of its id, so pipelines run in parallel
//! (rayon) and the same persons and seed give byte-identical files.

pub mod error;
pub mod fix;
pub mod layout;
pub mod project;
pub mod records;
pub mod regen;
pub mod render;
pub mod rng;
pub mod run;
pub mod truth;
pub mod vocab;
pub mod world;
pub mod write;

pub use error::SynthError;
pub use run::{FileReport, PipelineReport};

use civhub_core::PiiClass;
use civhub_ingest::config::{Project, RuleCheck, RuleKind, Severity};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use world::Topic;
use world::dibao::PlantCaps;

/// The smallest population generated.
pub const MIN_PERSONS: usize = 50;

/// What to generate, and where.
#[derive(Clone)]
pub struct SynthOptions {
    /// Number of people in the city.
    pub persons: usize,
    /// Seed of every random choice.
    pub seed: u64,
    /// Output folder (created; a previous synth output there is replaced).
    pub out: PathBuf,
    /// Called as work progresses (from worker threads).
    pub progress: Option<Arc<dyn Fn(SynthProgress) + Send + Sync>>,
}

impl std::fmt::Debug for SynthOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SynthOptions")
            .field("persons", &self.persons)
            .field("seed", &self.seed)
            .field("out", &self.out)
            .finish()
    }
}

/// Progress events.
#[derive(Debug, Clone)]
pub enum SynthProgress {
    /// The project configuration is written and loaded.
    Configured {
        /// Pipelines to generate.
        pipelines: usize,
    },
    /// The population is built.
    World {
        /// People.
        persons: usize,
        /// Households.
        households: usize,
        /// Legal entities and individual businesses.
        entities: usize,
    },
    /// One pipeline's files are written.
    Pipeline {
        /// Pipeline id.
        pipeline: String,
        /// Rows written.
        rows: u64,
        /// Pipelines finished so far.
        done: usize,
        /// Pipelines in all.
        total: usize,
    },
    /// The truth files are being written.
    Truth,
}

/// What was generated.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SynthSummary {
    /// The project folder.
    pub out: PathBuf,
    /// People.
    pub persons: usize,
    /// Households.
    pub households: usize,
    /// Legal entities and individual businesses.
    pub entities: usize,
    /// 低保 recipient households.
    pub dibao_households: usize,
    /// Per pipeline.
    pub pipelines: Vec<PipelineReport>,
    /// Files written in `exports/`.
    pub files: usize,
    /// Data rows written.
    pub rows: u64,
    /// Bytes written in `exports/`.
    pub bytes: u64,
    /// Identity mentions in `truth/mentions.csv`.
    pub mentions: u64,
    /// Rows meant to be quarantined.
    pub quarantine_planned: u64,
    /// Planted 低保 cases by rule (`rule`, `rule:noisy`, `decoy:rule`).
    pub planted: BTreeMap<String, usize>,
    /// Noise written, by kind.
    pub noise: BTreeMap<String, u64>,
}

/// Generates a project into `opts.out`.
pub fn generate(opts: &SynthOptions) -> Result<SynthSummary, SynthError> {
    generate_inner(opts, false)
}

/// As [`generate`], but checks every noisy value against its normalizer
/// (slower; for tests and small fixtures).
pub fn generate_checked(opts: &SynthOptions) -> Result<SynthSummary, SynthError> {
    generate_inner(opts, true)
}

fn topic_schemas(t: Topic) -> &'static [&'static str] {
    match t {
        Topic::Property => &["property"],
        Topic::Vehicle => &["vehicle"],
        Topic::Fund => &["provident_fund_account", "provident_fund_deposit"],
        Topic::Insurance => &["social_insurance"],
        Topic::Business => &["enterprise", "shareholder", "individual_business"],
        Topic::Death => &["death_registration"],
    }
}

/// Which garbled identifiers each topic's pipelines tolerate without quarantine.
pub fn plant_caps(project: &Project) -> PlantCaps {
    let id_fields = |p: &civhub_ingest::config::Pipeline| -> Vec<usize> {
        p.columns
            .iter()
            .filter(|c| p.schema.fields[c.field].pii == PiiClass::IdNumber)
            .map(|c| c.field)
            .collect()
    };
    let strict = |p: &civhub_ingest::config::Pipeline, f: usize, kinds: &[RuleKind]| {
        p.rules.iter().any(|r| {
            r.field == f
                && r.severity == Severity::Error
                && match &r.check {
                    RuleCheck::CheckDigit(_) => kinds.contains(&RuleKind::CheckDigit),
                    RuleCheck::IdConsistency { .. } => kinds.contains(&RuleKind::IdConsistency),
                    RuleCheck::Pattern(_) => kinds.contains(&RuleKind::Pattern),
                    RuleCheck::Required => kinds.contains(&RuleKind::Required),
                    _ => false,
                }
        })
    };
    let mut caps = PlantCaps::default();
    for t in [
        Topic::Property,
        Topic::Vehicle,
        Topic::Fund,
        Topic::Insurance,
        Topic::Business,
        Topic::Death,
    ] {
        let ps: Vec<_> = project
            .pipelines
            .iter()
            .filter(|p| topic_schemas(t).contains(&p.schema.name.as_str()))
            .collect();
        let typo = !ps.is_empty()
            && ps.iter().all(|p| {
                id_fields(p).iter().all(|&f| {
                    !strict(
                        p,
                        f,
                        &[
                            RuleKind::CheckDigit,
                            RuleKind::IdConsistency,
                            RuleKind::Pattern,
                        ],
                    )
                })
            });
        let missing = !ps.is_empty()
            && ps.iter().all(|p| {
                id_fields(p)
                    .iter()
                    .all(|&f| !p.schema.fields[f].required && !strict(p, f, &[RuleKind::Required]))
            });
        caps.typo_ok.insert(t, typo);
        caps.missing_ok.insert(t, missing);
    }
    let members: Vec<_> = project
        .pipelines
        .iter()
        .filter(|p| p.schema.name == "dibao_member")
        .collect();
    caps.member_missing_ok = !members.is_empty()
        && members.iter().all(|p| {
            id_fields(p)
                .iter()
                .all(|&f| !p.schema.fields[f].required && !strict(p, f, &[RuleKind::Required]))
        });
    caps.member_invalid_ok = !members.is_empty()
        && members.iter().all(|p| {
            id_fields(p).iter().all(|&f| {
                !strict(
                    p,
                    f,
                    &[
                        RuleKind::CheckDigit,
                        RuleKind::IdConsistency,
                        RuleKind::Pattern,
                    ],
                )
            })
        });
    caps
}

/// A rough cost of a pipeline, to start the big ones first.
fn weight(schema: &str) -> u32 {
    match schema {
        "social_insurance" | "household_registration" | "person" => 10,
        "provident_fund_deposit" | "license" | "property" => 5,
        _ => 1,
    }
}

fn generate_inner(opts: &SynthOptions, verify_all: bool) -> Result<SynthSummary, SynthError> {
    if opts.persons < MIN_PERSONS {
        return Err(SynthError::TooFew {
            min: MIN_PERSONS,
            found: opts.persons,
        });
    }
    let progress = |e: SynthProgress| {
        if let Some(f) = &opts.progress {
            f(e);
        }
    };
    let out = &opts.out;
    project::prepare(out)?;
    project::claim(out)?;
    project::write_config(out)?;
    let project = civhub_ingest::config::load_project(out, None)
        .map_err(|e| SynthError::Config(e.to_string()))?;
    let total = project.pipelines.len();
    progress(SynthProgress::Configured { pipelines: total });

    let caps = plant_caps(&project);
    let w = world::build(opts.persons, opts.seed, &caps);
    progress(SynthProgress::World {
        persons: w.persons.len(),
        households: w.households.len(),
        entities: w.entities.len(),
    });

    let exports = project.exports.clone();
    fs_err::create_dir_all(&exports)?;
    let truth_dir = out.join("truth");
    let parts_dir = truth_dir.join(".parts");
    fs_err::create_dir_all(&parts_dir)?;

    let mut order: Vec<usize> = (0..total).collect();
    order.sort_by_key(|&i| {
        (
            std::cmp::Reverse(weight(&project.pipelines[i].schema.name)),
            i,
        )
    });
    let done = AtomicUsize::new(0);
    let results: Vec<(usize, Result<PipelineReport, SynthError>)> = order
        .par_iter()
        .map(|&i| {
            let p = &project.pipelines[i];
            let peers: Vec<&civhub_ingest::config::Pipeline> = project
                .pipelines
                .iter()
                .filter(|x| x.schema.name == p.schema.name)
                .collect();
            let (dept_name, dept_code) = project
                .departments
                .get(&p.department)
                .map(|d| (d.file.name.as_str(), d.file.code.get_ref().as_str()))
                .unwrap_or(("黄山市人民政府", "11341000003000000X"));
            let seed = rng::stable_hash(opts.seed, &format!("pipeline/{}", p.id));
            let ctx = records::Ctx::new(&w, p, seed, peers, dept_name, dept_code);
            let part = parts_dir.join(format!("{}.csv", p.id));
            let r = run::run(&ctx, &exports, &part, verify_all);
            let d = done.fetch_add(1, Ordering::SeqCst) + 1;
            if let Ok(rep) = &r {
                progress(SynthProgress::Pipeline {
                    pipeline: p.id.clone(),
                    rows: rep.rows,
                    done: d,
                    total,
                });
            }
            (i, r)
        })
        .collect();
    let mut reports: Vec<Option<PipelineReport>> = vec![None; total];
    for (i, r) in results {
        reports[i] = Some(r?);
    }
    let reports: Vec<PipelineReport> = reports.into_iter().flatten().collect();

    progress(SynthProgress::Truth);
    truth::persons(&w, &truth_dir.join("persons.csv"))?;
    truth::entities(&w, &truth_dir.join("entities.csv"))?;
    let planted = truth::dibao(&w, &truth_dir)?;
    truth::readme(&w, &truth_dir.join("README.md"), opts.persons, opts.seed)?;
    let parts: Vec<PathBuf> = project
        .pipelines
        .iter()
        .map(|p| parts_dir.join(format!("{}.csv", p.id)))
        .collect();
    truth::mentions(&parts, &truth_dir.join("mentions.csv"))?;
    fs_err::remove_dir_all(&parts_dir)?;
    project::write_marker(out, opts.persons, opts.seed)?;

    let mut noise: BTreeMap<String, u64> = BTreeMap::new();
    for r in &reports {
        for (k, v) in &r.noise {
            *noise.entry(k.clone()).or_default() += v;
        }
        if r.duplicates > 0 {
            *noise.entry("duplicate_row".into()).or_default() += r.duplicates;
        }
    }
    Ok(SynthSummary {
        out: out.clone(),
        persons: w.persons.len(),
        households: w.households.len(),
        entities: w.entities.len(),
        dibao_households: w.dibao.len(),
        files: reports.iter().map(|r| r.files.len()).sum(),
        rows: reports.iter().map(|r| r.rows).sum(),
        bytes: reports.iter().map(|r| r.bytes).sum(),
        mentions: reports.iter().map(|r| r.mentions).sum(),
        quarantine_planned: reports.iter().map(|r| r.quarantine_planned).sum(),
        pipelines: reports,
        planted,
        noise,
    })
}
