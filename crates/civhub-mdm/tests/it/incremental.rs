//! A new batch matched against existing golden records agrees with a full
//! recompute, and keeps existing ids.

use crate::bundled::{gids, ingest_and_match, repo, runtime};
use civhub_mdm::run::MatchOptions;
use civhub_mdm::settings::{Kind, load_all};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// The partition as a set of sets of positions.
fn partition(
    g: &HashMap<crate::bundled::Position, String>,
) -> BTreeSet<BTreeSet<crate::bundled::Position>> {
    let mut by: HashMap<&String, BTreeSet<crate::bundled::Position>> = HashMap::new();
    for (p, gid) in g {
        by.entry(gid).or_default().insert(p.clone());
    }
    by.into_values().collect()
}

#[test]
fn an_incremental_batch_agrees_with_a_full_recompute() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("project");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::copy(repo().join("civhub.toml"), root.join("civhub.toml")).unwrap();
    copy_dir(&repo().join("schemas"), &root.join("schemas"));
    copy_dir(&repo().join("pipelines"), &root.join("pipelines"));
    copy_dir(
        &repo().join("fixtures/exports"),
        &root.join("fixtures/exports"),
    );
    // The first batch lacks a few departments' exports (their pipelines need
    // at least a row, so they are emptied of data by moving the files aside).
    let later = ["health", "hrss", "provident_fund", "market_regulation"];
    let aside = dir.path().join("aside");
    for d in later {
        std::fs::rename(root.join("fixtures/exports").join(d), aside.join(d))
            .or_else(|_| {
                std::fs::create_dir_all(&aside).unwrap();
                std::fs::rename(root.join("fixtures/exports").join(d), aside.join(d))
            })
            .unwrap();
        // Without files these pipelines would fail on min-rows: let them be empty.
        for f in std::fs::read_dir(root.join("pipelines").join(d)).unwrap() {
            let p = f.unwrap().path();
            let t = std::fs::read_to_string(&p).unwrap();
            std::fs::write(&p, t.replace("min-rows = 1", "min-rows = 0")).unwrap();
        }
    }
    let wh = dir.path().join("warehouse");
    let opts = MatchOptions::default();
    let project = civhub_ingest::config::load_project(&root, Some(&wh)).unwrap();
    let settings = load_all(&project).unwrap();
    let _ = civhub_ingest::run::ingest(&project, &Default::default(), &civhub_ingest::run::Silent)
        .unwrap();
    let first = runtime()
        .block_on(civhub_mdm::run::run(&project, &settings, &opts))
        .unwrap();
    let before = gids(&wh, Kind::Person);
    assert!(first.person.as_ref().unwrap().golden > 0);

    // The second batch arrives.
    for d in later {
        std::fs::rename(aside.join(d), root.join("fixtures/exports").join(d)).unwrap();
    }
    let (_, second) = ingest_and_match(&root, &wh, &opts);
    let p = second.person.as_ref().unwrap();
    assert_eq!(p.mode, "incremental", "{p:?}");
    let incremental = gids(&wh, Kind::Person);
    // Existing golden records keep their ids.
    let kept = before
        .iter()
        .filter(|(pos, g)| incremental.get(*pos) == Some(*g))
        .count();
    assert!(
        kept * 100 >= before.len() * 99,
        "{kept} of {} mentions kept their golden id",
        before.len()
    );

    // A full recompute with the same model gives the same partition.
    let full = runtime()
        .block_on(civhub_mdm::run::run(
            &project,
            &settings,
            &MatchOptions {
                full: true,
                ..Default::default()
            },
        ))
        .unwrap();
    assert_eq!(full.person.as_ref().unwrap().mode, "full");
    let recomputed = gids(&wh, Kind::Person);
    assert_eq!(
        partition(&incremental),
        partition(&recomputed),
        "incremental and full recompute disagree"
    );
    assert_eq!(incremental, recomputed, "and the ids are the same");
    let _ = Path::new("");
}
