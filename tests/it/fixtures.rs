//! End-to-end over the bundled project: the repository's civhub.toml, schemas,
//! pipelines and `fixtures/exports` (made by `civhub synth`, see
//! `fixtures/README.md`).

use crate::common::*;

use std::collections::BTreeMap;

fn run_bundled(warehouse: &std::path::Path, args: &[&str]) -> Run {
    let mut full = vec!["--warehouse", warehouse.to_str().unwrap()];
    full.extend_from_slice(args);
    civhub_in(&repo(), &full)
}

#[test]
fn the_bundled_project_ingests_cleanly_and_loses_nothing() {
    let wh = tempfile::tempdir().unwrap();
    let run = run_bundled(wh.path(), &["run", "--json"]);
    assert_eq!(
        run.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    let all = run.json();
    let r = &all["ingest"];
    let pipelines = r["pipelines"].as_array().unwrap();
    assert!(pipelines.len() >= 100, "{} pipelines", pipelines.len());
    let departments: std::collections::BTreeSet<&str> = pipelines
        .iter()
        .map(|p| p["department"].as_str().unwrap())
        .collect();
    assert_eq!(departments.len(), 50);
    let mut reasons: BTreeMap<String, u64> = BTreeMap::new();
    let mut formats_seen = std::collections::BTreeSet::new();
    for p in pipelines {
        assert_eq!(p["status"], "ok", "{p:#}");
        let files = p["files"].as_array().unwrap();
        assert!(!files.is_empty(), "{} has no file", p["pipeline"]);
        for f in files {
            let (i, s, q) = (
                f["rows_in"].as_u64().unwrap(),
                f["rows_staged"].as_u64().unwrap(),
                f["rows_quarantined"].as_u64().unwrap(),
            );
            assert_eq!(i, s + q, "{f:#}");
            assert!(i > 0, "{f:#}");
            let path = f["path"].as_str().unwrap();
            formats_seen.insert(path.rsplit('.').next().unwrap().to_string());
            if let Some(e) = f["encoding"].as_str() {
                formats_seen.insert(e.to_string());
            }
        }
        for rc in p["top_reasons"].as_array().unwrap() {
            *reasons
                .entry(
                    rc["rule"]
                        .as_str()
                        .unwrap()
                        .split(':')
                        .next()
                        .unwrap()
                        .to_string(),
                )
                .or_default() += rc["rows"].as_u64().unwrap();
        }
    }
    for f in [
        "csv", "xlsx", "json", "ndjson", "parquet", "gb18030", "utf-8",
    ] {
        assert!(
            formats_seen.contains(f),
            "no {f} among the fixtures: {formats_seen:?}"
        );
    }
    // The noise synth plants shows up as specific quarantine reasons.
    for rule in ["normalize", "duplicate-key"] {
        assert!(
            reasons.contains_key(rule),
            "no `{rule}` quarantine reason: {reasons:?}"
        );
    }
    let t = &r["totals"];
    assert!(
        t["rows_quarantined"].as_u64().unwrap() * 20 < t["rows_in"].as_u64().unwrap(),
        "{t}"
    );

    assert!(
        all["match"]["person"]["golden"].as_u64().unwrap() >= 300,
        "{:#}",
        all["match"]
    );
    assert!(
        all["match"]["entity"]["golden"].as_u64().unwrap() >= 36,
        "{:#}",
        all["match"]
    );

    // Again: nothing to do, and every golden record keeps its id.
    let again = run_bundled(wh.path(), &["run", "--json"]).json();
    assert_eq!(
        again["ingest"]["totals"]["pipelines_unchanged"],
        again["ingest"]["totals"]["pipelines"]
    );
    assert_eq!(again["ingest"]["totals"]["rows_staged"], 0);
    for kind in ["person", "entity"] {
        let k = &again["match"][kind];
        assert_eq!(k["unchanged"], k["golden"], "{kind}: {k:#}");
        assert_eq!(k["new"], 0);
    }
}

#[test]
fn the_bundled_summary() {
    let wh = tempfile::tempdir().unwrap();
    let run = run_bundled(wh.path(), &["run"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text =
        redact(&run.stdout, wh.path()).replace(&wh.path().display().to_string(), "[WAREHOUSE]");
    insta::assert_snapshot!(text);
}

/// The committed fixtures are exactly what `civhub synth` makes today.
#[test]
fn fixtures_are_what_synth_makes() {
    let readme = std::fs::read_to_string(repo().join("fixtures/README.md")).unwrap();
    let args: Vec<&str> = readme
        .lines()
        .find_map(|l| l.trim().strip_prefix("civhub synth "))
        .expect("fixtures/README.md names the synth command")
        .split_whitespace()
        .take_while(|a| *a != "--out")
        .collect();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("city");
    let mut full = vec!["synth"];
    full.extend(args.iter().copied());
    full.extend(["--out", dir.to_str().unwrap()]);
    let run = civhub_in(out.path(), &full);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for sub in ["exports", "truth"] {
        let made = tree(&dir.join(sub));
        let committed = tree(&repo().join("fixtures").join(sub));
        assert_eq!(
            made.keys().collect::<Vec<_>>(),
            committed.keys().collect::<Vec<_>>(),
            "files differ in {sub}/"
        );
        for (k, v) in &made {
            assert!(
                v == &committed[k],
                "{sub}/{k} differs from what synth makes: regenerate with the command in fixtures/README.md"
            );
        }
    }
    // A ready-to-run project: the bundled configuration, base databases and
    // sharing policy included, so `civhub run` publishes population.* too.
    for sub in ["schemas", "pipelines", "publish", "access"] {
        assert_eq!(
            tree(&dir.join(sub)),
            tree(&repo().join(sub)),
            "{sub}/ of the synth project differs from the repository's"
        );
    }
}

fn tree(dir: &std::path::Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(dir).unwrap().to_string_lossy().into_owned(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}
