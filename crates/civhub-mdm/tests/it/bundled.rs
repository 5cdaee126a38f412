//! One ingest + match of the bundled project, shared by read-only tests.

use civhub_ingest::config::{Project, load_project};
use civhub_mdm::run::{MatchOptions, MatchReport};
use civhub_mdm::settings::{Kind, load_all};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Ingests and matches `project` (loaded with `warehouse`).
pub fn ingest_and_match(
    root: &Path,
    warehouse: &Path,
    opts: &MatchOptions,
) -> (Project, MatchReport) {
    let project = load_project(root, Some(warehouse)).unwrap_or_else(|p| panic!("{p:?}"));
    let report =
        civhub_ingest::run::ingest(&project, &Default::default(), &civhub_ingest::run::Silent)
            .unwrap();
    assert!(report.ok, "ingest failed");
    let settings = load_all(&project).unwrap_or_else(|p| panic!("{p:?}"));
    let m = runtime()
        .block_on(civhub_mdm::run::run(&project, &settings, opts))
        .unwrap();
    (project, m)
}

pub struct Bundled {
    _dir: tempfile::TempDir,
    pub project: Project,
    pub report: MatchReport,
}

/// The bundled project, ingested and matched once.
pub fn bundled() -> &'static Bundled {
    static B: OnceLock<Bundled> = OnceLock::new();
    B.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let (project, report) = ingest_and_match(&repo(), dir.path(), &MatchOptions::default());
        Bundled {
            _dir: dir,
            project,
            report,
        }
    })
}

/// (pipeline, file, sheet, row, role) of a mention.
pub type Position = (String, String, String, i64, String);

/// Golden id of every matched mention, by position.
pub fn gids(warehouse: &Path, kind: Kind) -> HashMap<Position, String> {
    let (_, dir) = civhub_mdm::store::current(warehouse, kind).expect("matched");
    let rt = runtime();
    rt.block_on(async {
        let ctx = civhub_engine::session::new_context(Default::default());
        ctx.register_parquet("x", dir.join(civhub_mdm::store::XREF).to_str().unwrap(), Default::default()).await.unwrap();
        let batches = ctx
            .sql("SELECT pipeline, source_file, coalesce(source_sheet, '') AS sheet, source_row, role, gid FROM x")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let mut out = HashMap::new();
        for b in batches {
            let col = |i: usize| civhub_mdm::sql::utf8(b.column(i)).unwrap();
            let (p, f, s, role, g) = (col(0), col(1), col(2), col(4), col(5));
            let row = civhub_mdm::sql::int64(b.column(3)).unwrap();
            for r in 0..b.num_rows() {
                out.insert((p.value(r).into(), f.value(r).into(), s.value(r).into(), row.value(r), role.value(r).into()), g.value(r).into());
            }
        }
        out
    })
}

/// Whether each matched mention carried an identifier (resident ID / USCC).
pub fn carried_id(warehouse: &Path, kind: Kind) -> HashMap<Position, bool> {
    let (_, dir) = civhub_mdm::store::current(warehouse, kind).expect("matched");
    let col = if kind == Kind::Person {
        "id_raw"
    } else {
        "uscc_raw"
    };
    runtime().block_on(async {
        let ctx = civhub_engine::session::new_context(Default::default());
        ctx.register_parquet("m", dir.join(civhub_mdm::store::MENTIONS).to_str().unwrap(), Default::default()).await.unwrap();
        let batches = ctx
            .sql(&format!("SELECT pipeline, source_file, coalesce(source_sheet, '') AS sheet, source_row, role, {col} IS NOT NULL FROM m"))
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let mut out = HashMap::new();
        for b in batches {
            let col = |i: usize| civhub_mdm::sql::utf8(b.column(i)).unwrap();
            let (p, f, s, role) = (col(0), col(1), col(2), col(4));
            let row = civhub_mdm::sql::int64(b.column(3)).unwrap();
            let has = b.column(5).as_any().downcast_ref::<arrow::array::BooleanArray>().unwrap().clone();
            for r in 0..b.num_rows() {
                out.insert((p.value(r).into(), f.value(r).into(), s.value(r).into(), row.value(r), role.value(r).into()), has.value(r));
            }
        }
        out
    })
}

/// One row of truth/mentions.csv.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct TruthMention {
    pub pipeline: String,
    pub file: String,
    pub sheet: String,
    pub row: i64,
    pub role: String,
    pub kind: String,
    pub true_key: String,
    pub noise: String,
    pub bad: u8,
}

impl TruthMention {
    pub fn position(&self) -> Position {
        (
            self.pipeline.clone(),
            self.file.clone(),
            self.sheet.clone(),
            self.row,
            self.role.clone(),
        )
    }
}

pub fn truth_mentions() -> Vec<TruthMention> {
    let mut r = csv::Reader::from_path(repo().join("fixtures/truth/mentions.csv")).unwrap();
    r.deserialize().map(|m| m.unwrap()).collect()
}

/// Rows of a truth CSV as maps.
pub fn truth_rows(file: &str) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(repo().join("fixtures/truth").join(file)).unwrap();
    r.deserialize().map(|m| m.unwrap()).collect()
}

#[test]
fn f1_on_the_fixtures_is_at_least_098() {
    let b = bundled();
    let e = runtime()
        .block_on(civhub_mdm::eval::evaluate(
            &b.project.warehouse,
            &repo().join("fixtures/truth/mentions.csv"),
        ))
        .unwrap();
    let p = e.person.as_ref().unwrap();
    let en = e.entity.as_ref().unwrap();
    assert!(p.f1 >= 0.98, "person {p:?}");
    assert!(en.f1 >= 0.98, "entity {en:?}");
    assert!(
        p.missing < p.mentions / 100,
        "nearly every truth mention is matched: {p:?}"
    );
}

/// Every mention carrying a kind of noise lands with the other mentions of its
/// true person — when it carries an ID for the noise to be in (a pipeline may
/// drop it, e.g. for a foreign document type), or, for name noise, when it
/// carries more than the name.
fn assert_noise_resolved(noise: &str, at_least: usize) {
    let b = bundled();
    let gid = gids(&b.project.warehouse, Kind::Person);
    let has_id = carried_id(&b.project.warehouse, Kind::Person);
    let truth = truth_mentions();
    let mut by_true: HashMap<&str, Vec<&TruthMention>> = HashMap::new();
    for m in truth.iter().filter(|m| m.kind == "person" && m.bad == 0) {
        by_true.entry(&m.true_key).or_default().push(m);
    }
    let mut checked = 0;
    for m in truth
        .iter()
        .filter(|m| m.kind == "person" && m.bad == 0 && m.noise.split(';').any(|n| n == noise))
    {
        let Some(g) = gid.get(&m.position()) else {
            continue;
        };
        if !has_id.get(&m.position()).copied().unwrap_or(false) {
            continue; // a name alone is not enough to expect a link
        }
        // A clean mention of the same person with an ID: the noisy one must join it.
        let clean = by_true[m.true_key.as_str()]
            .iter()
            .filter(|o| o.noise.is_empty())
            .find_map(|o| gid.get(&o.position()));
        if let Some(cg) = clean {
            assert_eq!(g, cg, "{noise} mention {m:?} was not linked to its person");
            checked += 1;
        }
    }
    assert!(
        checked >= at_least,
        "only {checked} `{noise}` mentions checked"
    );
}

#[test]
fn fifteen_digit_ids_are_linked() {
    assert_noise_resolved("id15", 20);
}

#[test]
fn one_digit_id_typos_are_linked() {
    assert_noise_resolved("id_typo", 10);
}

#[test]
fn homophones_and_traditional_names_are_linked() {
    assert_noise_resolved("name_traditional", 10);
    assert_noise_resolved("name_homophone", 3);
}

#[test]
fn excel_and_layout_damaged_ids_are_linked() {
    for n in [
        "id_lower_x",
        "id_apostrophe",
        "id_spaces",
        "id_fullwidth",
        "id17",
    ] {
        assert_noise_resolved(n, 5);
    }
}

#[test]
fn decoys_with_the_same_name_and_birth_date_stay_apart() {
    let b = bundled();
    let gid = gids(&b.project.warehouse, Kind::Person);
    let truth = truth_mentions();
    let person_gids = |key: &str| -> Vec<String> {
        truth
            .iter()
            .filter(|m| m.true_key == key)
            .filter_map(|m| gid.get(&m.position()).cloned())
            .collect()
    };
    let mut checked = 0;
    for p in truth_rows("persons.csv") {
        let other = &p["same_name_birth_as"];
        if other.is_empty() {
            continue;
        }
        let (a, b2) = (person_gids(&p["person_key"]), person_gids(other));
        for x in &a {
            assert!(
                !b2.contains(x),
                "decoys {} and {other} share golden record {x}",
                p["person_key"]
            );
        }
        checked += 1;
    }
    assert!(checked >= 5, "{checked} decoy pairs");
}

#[test]
fn company_name_variants_are_linked_and_branches_stay_apart() {
    let b = bundled();
    let gid = gids(&b.project.warehouse, Kind::Entity);
    let truth = truth_mentions();
    let mut by_true: HashMap<&str, std::collections::BTreeSet<&String>> = HashMap::new();
    for m in truth.iter().filter(|m| m.kind == "entity" && m.bad == 0) {
        if let Some(g) = gid.get(&m.position()) {
            by_true.entry(&m.true_key).or_default().insert(g);
        }
    }
    let variants = truth
        .iter()
        .filter(|m| m.kind == "entity" && m.noise.contains("company_variant"))
        .count();
    assert!(variants > 20);
    let split: Vec<_> = by_true.iter().filter(|(_, g)| g.len() > 1).collect();
    assert!(
        split.len() <= by_true.len() / 50,
        "entities split over several golden records: {split:?}"
    );
    for e in truth_rows("entities.csv") {
        let parent = &e["parent_key"];
        if parent.is_empty() {
            continue;
        }
        let (a, p) = (
            by_true.get(e["entity_key"].as_str()),
            by_true.get(parent.as_str()),
        );
        if let (Some(a), Some(p)) = (a, p) {
            assert!(
                a.is_disjoint(p),
                "branch {} merged with its parent {parent}",
                e["entity_key"]
            );
        }
    }
}

#[test]
fn golden_ids_are_stable_across_runs() {
    let b = bundled();
    let dir = tempfile::tempdir().unwrap();
    // A second, independent warehouse: the same data gives the same ids.
    let (project, report) = ingest_and_match(&repo(), dir.path(), &MatchOptions::default());
    assert_eq!(
        gids(&b.project.warehouse, Kind::Person),
        gids(&project.warehouse, Kind::Person)
    );
    assert_eq!(
        gids(&b.project.warehouse, Kind::Entity),
        gids(&project.warehouse, Kind::Entity)
    );
    assert_eq!(
        report.person.as_ref().unwrap().golden,
        b.report.person.as_ref().unwrap().golden
    );
    // And again in the same warehouse: nothing changed, so no new run is
    // made — the current one stands, every golden record unchanged.
    let settings = load_all(&project).unwrap();
    let again = runtime()
        .block_on(civhub_mdm::run::run(
            &project,
            &settings,
            &MatchOptions::default(),
        ))
        .unwrap();
    let p = again.person.unwrap();
    assert_eq!(
        (p.new, p.merged, p.split, p.unchanged as u64),
        (0, 0, 0, p.golden)
    );
    assert_eq!(p.mode, "unchanged");
    assert_eq!(again.run_id, report.run_id);
    assert_eq!(
        gids(&b.project.warehouse, Kind::Person),
        gids(&project.warehouse, Kind::Person)
    );
}

#[test]
fn staged_datasets_gain_golden_ids() {
    let b = bundled();
    runtime().block_on(async {
        let ctx = civhub_engine::session::new_context(Default::default());
        civhub_engine::tables::register_staging(&ctx, &b.project).unwrap();
        civhub_mdm::enrich::register(&ctx, &b.project).await.unwrap();
        let batches = ctx
            .sql("SELECT count(*), count(person_gid) FROM enriched.public_security.household_registration")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let all = civhub_mdm::sql::int64(batches[0].column(0)).unwrap().value(0);
        let with = civhub_mdm::sql::int64(batches[0].column(1)).unwrap().value(0);
        assert!(all > 250 && with == all, "{with} of {all} rows have a person_gid");
        // The same golden id as the cross-reference gives for that row.
        let agree = ctx
            .sql(
                "SELECT count(*) FROM enriched.public_security.household_registration e JOIN civhub.mdm.person_xref x \
                 ON x.pipeline = 'public_security.household_registration' AND x.source_row = e._source_row AND x.source_file = e._source_file \
                 WHERE x.gid <> e.person_gid",
            )
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        assert_eq!(civhub_mdm::sql::int64(agree[0].column(0)).unwrap().value(0), 0);
        // A pipeline with two person identities gets a column per role.
        let cols = ctx.sql("SELECT * FROM enriched.civil_affairs.marriage_registration LIMIT 1").await.unwrap().schema().clone();
        let names: Vec<&str> = cols.fields().iter().map(|f| f.name().as_str()).collect();
        assert!(names.iter().filter(|n| n.ends_with("_person_gid")).count() >= 2, "{names:?}");
    });
}
