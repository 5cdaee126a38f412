//! `civhub person`, `entity`, `explain` and `review` over the bundled
//! project. Matching runs once for every read-only test (a shared warehouse);
//! the tests that record decisions work on a private copy of the project, so
//! nothing is ever written into the repository.

use crate::common::*;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The warehouse of one `civhub run` of the bundled project, shared by the
/// read-only tests (kept under the target folder; `cargo clean` removes it).
fn shared() -> &'static Path {
    static WAREHOUSE: OnceLock<PathBuf> = OnceLock::new();
    WAREHOUSE.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("mdm-cli-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .expect("tempdir")
            .keep();
        let run = civhub_in(
            &repo(),
            &["--warehouse", dir.to_str().unwrap(), "run", "--quiet"],
        );
        assert_eq!(
            run.code, 0,
            "stdout:\n{}\nstderr:\n{}",
            run.stdout, run.stderr
        );
        dir
    })
}

/// `civhub --project <repo> --warehouse <shared> args…`.
fn bundled(args: &[&str]) -> Run {
    let wh = shared();
    let mut full = vec!["--warehouse", wh.to_str().unwrap()];
    full.extend_from_slice(args);
    civhub_in(&repo(), &full)
}

fn ok(run: &Run) -> &Run {
    assert_eq!(
        run.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    run
}

fn gid_of(run: &Run) -> String {
    ok(run).json()["golden"]["gid"]
        .as_str()
        .unwrap_or_else(|| panic!("not one golden record:\n{}", run.stdout))
        .to_string()
}

fn mention_ids(view: &Value) -> Vec<String> {
    view["departments"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["mentions"].as_array().unwrap())
        .map(|m| m["mention_id"].as_str().unwrap().to_string())
        .collect()
}

// Mentions of the bundled fixtures (stable: they hash pipeline, role and record key).
/// 宋飞立 in the 低保 household roster (ID 341021198007092479).
const SONG_DIBAO: &str = "pm027aa174f3eb445d";
/// 宋飞立 in the 低保 member list, same ID.
const SONG_MEMBER: &str = "pm56710949fc7b62ff";
/// 唐骏杰, a hotel guest without ID: a homophone of 唐俊杰.
const TANG_HOTEL: &str = "pmd11c85ac202e568b";
/// 唐俊杰 in the population register (ID 341022199902183538).
const TANG_PERSON: &str = "pm35ad168bca871ef0";

#[test]
fn person_by_golden_id_shows_every_mention_department_by_department() {
    let gid = gid_of(&bundled(&["person", "341022199902183538", "--json"]));
    let run = bundled(&["person", &gid]);
    let text = &ok(&run).stdout;
    assert!(
        text.starts_with(&format!("person {gid} · 唐俊杰")),
        "{text}"
    );
    for needle in [
        "one datum, one source",
        "黄山市公安局 (public_security)",
        "人口基本信息 (public_security.person)",
        TANG_HOTEL,
        "linked probabilistically",
        "name 唐骏杰",
        "record: ",
    ] {
        assert!(text.contains(needle), "no `{needle}` in:\n{text}");
    }
    let view = bundled(&["person", &gid.to_lowercase(), "--json"]).json();
    assert_eq!(view["golden"]["gid"], gid.as_str());
    let fields = view["golden"]["fields"].as_array().unwrap();
    let id = fields.iter().find(|f| f["field"] == "id_number").unwrap();
    assert_eq!(id["value"], "341022199902183538");
    assert!(id["source"].as_str().unwrap().contains('.'), "{id}");
    let ids = mention_ids(&view);
    assert_eq!(
        ids.len() as u64,
        view["golden"]["mention_count"].as_u64().unwrap()
    );
    assert!(ids.contains(&TANG_HOTEL.to_string()));
    // Every mention carries its values and the staged record behind it,
    // but a 不予共享 dataset's (docs/ACCESS.md), which is withheld.
    for d in view["departments"].as_array().unwrap() {
        assert!(!d["name"].as_str().unwrap().is_empty());
        for m in d["mentions"].as_array().unwrap() {
            assert!(m["values"]["name"].is_string(), "{m}");
            match m["withheld"].as_str() {
                None => assert!(m["record"].is_object(), "no staged record: {m}"),
                Some(why) => {
                    assert!(why.starts_with("不予共享"), "{m}");
                    assert!(m["record"].is_null(), "{m}");
                }
            }
            assert!(m["source_row"].as_i64().unwrap() > 0);
        }
    }
}

#[test]
fn person_by_resident_id_in_any_export_form() {
    // 吕红, whose ID ends in X.
    let gid = gid_of(&bundled(&["person", "34102119490821106X", "--json"]));
    for q in [
        "34102119490821106x",                   // lower-case x
        "341021490821106",                      // the old 15-digit number
        "３４１０２１１９４９０８２１１０６Ｘ", // full-width
        " 341021 19490821 106X ",               // spaced as on a form
    ] {
        assert_eq!(
            gid_of(&bundled(&["person", q, "--json"])),
            gid,
            "query `{q}`"
        );
    }
    // Someone registered under a mistyped ID is found by that ID too.
    let view = ok(&bundled(&["person", "360223199902267584", "--json"])).json();
    let ids = mention_ids(&view);
    assert!(ids.contains(&"pm0390d095dd2c9ab0".to_string()), "{ids:?}");
    // Not an ID: a clear error, no panic.
    let bad = bundled(&["person", "12345"]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("is not a resident ID"),
        "{}",
        bad.stderr
    );
    assert!(bad.stderr.contains("hint:"), "{}", bad.stderr);
}

#[test]
fn a_name_with_several_people_lists_them() {
    let run = bundled(&["person", "程鹏亮"]);
    let text = &ok(&run).stdout;
    assert!(text.contains("pick one by its golden id"), "{text}");
    assert!(text.contains("hint: `civhub person <gid>`"), "{text}");
    let found = bundled(&["person", "程鹏亮", "--json"]).json();
    assert_eq!(found["found"], "several");
    let candidates = found["candidates"].as_array().unwrap();
    assert!(candidates.len() >= 2, "{found:#}");
    for c in candidates {
        let gid = c["gid"].as_str().unwrap();
        assert!(text.contains(gid), "{gid} not listed:\n{text}");
    }
    // A homophone finds the same people, offered, never silently taken.
    let near = bundled(&["person", "程朋亮", "--json"]).json();
    assert_eq!(near["found"], "several");
    assert_eq!(near["candidates"][0]["matched_by"], "pinyin");
}

#[test]
fn entity_by_uscc() {
    let gid = gid_of(&bundled(&["entity", "91341023372767552N", "--json"]));
    assert!(gid.starts_with('E'), "{gid}");
    assert_eq!(
        gid_of(&bundled(&["entity", "91341023372767552n", "--json"])),
        gid
    );
    let run = bundled(&["entity", &gid]);
    let text = &ok(&run).stdout;
    assert!(text.contains("黄山市都诚物流有限责任公司"), "{text}");
    assert!(
        text.contains("企业登记基本信息 (market_regulation.enterprise)"),
        "{text}"
    );
    // A person's golden id given to `entity` says where to look.
    let wrong = bundled(&["entity", "P8796YPZV2C9D"]);
    assert_eq!(wrong.code, 2);
    assert!(
        wrong.stderr.contains("civhub person P8796YPZV2C9D"),
        "{}",
        wrong.stderr
    );
}

fn explain(a: &str, b: &str) -> (String, Value) {
    let text = redact(&ok(&bundled(&["explain", a, b])).stdout, shared());
    let json = ok(&bundled(&["explain", a, b, "--json"])).json();
    (text, json)
}

#[test]
fn explain_two_mentions_of_one_id() {
    let (text, json) = explain(SONG_DIBAO, SONG_MEMBER);
    assert_eq!(json["verdict"]["route"], "same-id");
    assert_eq!(json["verdict"]["same_golden"], true);
    insta::assert_snapshot!(text);
}

#[test]
fn explain_a_probabilistic_link() {
    let (text, json) = explain(TANG_HOTEL, TANG_PERSON);
    assert_eq!(json["verdict"]["route"], "probabilistic");
    let steps = json["mentions"]["steps"].as_array().unwrap();
    let name = steps.iter().find(|s| s["comparison"] == "name").unwrap();
    assert_eq!(name["label"], "same pinyin (homophone)");
    // The running total ends at the total, and the probability follows from it.
    let w = json["mentions"]["weight"].as_f64().unwrap();
    let last = steps.last().unwrap()["total"].as_f64().unwrap();
    assert!((w - last).abs() < 1e-9);
    let p = json["mentions"]["probability"].as_f64().unwrap();
    assert!((p - 2f64.powf(w) / (1.0 + 2f64.powf(w))).abs() < 1e-12);
    assert!(p >= json["thresholds"]["match"].as_f64().unwrap());
    insta::assert_snapshot!(text);
}

#[test]
fn explain_a_non_match() {
    let (text, json) = explain(SONG_DIBAO, TANG_HOTEL);
    assert_eq!(json["verdict"]["same_golden"], false);
    assert_eq!(json["verdict"]["route"], "not-compared");
    assert!(json["mentions"]["probability"].as_f64().unwrap() < 0.01);
    insta::assert_snapshot!(text);
}

#[test]
fn explain_takes_pipeline_file_row_and_refuses_nonsense() {
    let json = ok(&bundled(&[
        "explain",
        "government_service.service_case:办件_黟县.json:1",
        "emf89096fc86880c87",
        "--json",
    ]))
    .json();
    assert_eq!(json["a"]["mention_id"], "em15035ab2e80f89b9");
    assert_eq!(json["kind"], "entity");

    let unknown = bundled(&["explain", "pm0000000000000000", SONG_DIBAO]);
    assert_eq!(unknown.code, 2);
    insta::assert_snapshot!("unknown_mention", unknown.stderr);

    for args in [
        vec!["explain", SONG_DIBAO, SONG_DIBAO],
        vec!["explain", SONG_DIBAO, "em15035ab2e80f89b9"],
        vec!["explain", "nonsense", "x:y"],
        vec!["explain", "no.such:file.csv:1", SONG_DIBAO],
        vec!["explain", "public_security.person:a.csv:x", SONG_DIBAO],
        vec!["person", ""],
        vec!["person", "'; DROP TABLE golden; --"],
        vec!["person", "1.10105E+17"],
        vec!["entity", "%"],
        vec!["person", "PZZZZZZZZZZZZ"],
        vec!["review", "show", "0"],
        vec!["review", "show", "9999"],
        vec!["review", "--kind", "entity", "show", "1"],
    ] {
        let run = bundled(&args);
        assert!(
            run.code == 0 || run.code == 2,
            "{args:?}: exit {}\n{}",
            run.code,
            run.stderr
        );
        assert!(
            !run.stderr.contains("panicked"),
            "{args:?}:\n{}",
            run.stderr
        );
        if run.code == 2 {
            assert!(
                run.stderr.starts_with("error: "),
                "{args:?}:\n{}",
                run.stderr
            );
            assert!(run.stderr.contains("hint: "), "{args:?}:\n{}", run.stderr);
        }
    }
}

#[test]
fn without_matching_results_every_command_says_what_to_run() {
    let empty = tempfile::tempdir().unwrap();
    let wh = empty.path().to_str().unwrap();
    let run = civhub_in(&repo(), &["--warehouse", wh, "person", "张三"]);
    assert_eq!(run.code, 2);
    insta::assert_snapshot!("no_results", run.stderr);
    for args in [
        vec!["entity", "x"],
        vec!["review"],
        vec!["explain", SONG_DIBAO, SONG_MEMBER],
    ] {
        let mut full = vec!["--warehouse", wh];
        full.extend(args.iter().copied());
        let run = civhub_in(&repo(), &full);
        assert_eq!(run.code, 2, "{args:?}");
        assert!(
            run.stderr.contains("civhub run"),
            "{args:?}: {}",
            run.stderr
        );
    }
}

#[test]
fn the_review_queue_lists_and_shows_pairs() {
    let list = ok(&bundled(&["review", "--json"])).json();
    let pending = list["pending"].as_array().unwrap();
    assert!(!pending.is_empty(), "{list:#}");
    // The fixtures plant decoys (the same name and birth date, different IDs):
    // a mention without an ID that matches both waits for a person.
    assert!(
        pending
            .iter()
            .any(|p| p["reason"].as_str().unwrap().contains("different IDs")),
        "{list:#}"
    );
    assert_eq!(pending[0]["n"], 1);
    let listed = bundled(&["review"]);
    let text = &ok(&listed).stdout;
    assert!(
        text.contains(pending[0]["mention_a"].as_str().unwrap()),
        "{text}"
    );
    assert!(text.contains("civhub review decide"), "{text}");
    let show = bundled(&["review", "show", "1"]);
    let text = &ok(&show).stdout;
    for needle in [
        "pair #1 of",
        "golden id",
        "verdict:",
        "civhub review decide",
    ] {
        assert!(text.contains(needle), "no `{needle}`:\n{text}");
    }
    let json = ok(&bundled(&["review", "show", "1", "--json"])).json();
    assert_eq!(json["pair"]["mention_a"], pending[0]["mention_a"]);
    assert!(json["explanation"]["verdict"]["summary"].is_string());
}

/// A copy of the bundled project (configuration only; exports read from the
/// repository) with its own warehouse.
fn private_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let toml = std::fs::read_to_string(repo().join("civhub.toml")).unwrap();
    let exports = repo().join("fixtures/exports");
    let toml = toml.replace(
        "exports = \"fixtures/exports\"",
        &format!("exports = {:?}", exports.to_str().unwrap()),
    );
    assert!(toml.contains(exports.to_str().unwrap()), "{toml}");
    std::fs::write(dir.path().join("civhub.toml"), toml).unwrap();
    for sub in ["schemas", "pipelines"] {
        copy_dir(&repo().join(sub), &dir.path().join(sub));
    }
    dir
}

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

fn current_run(project: &Path, kind: &str) -> PathBuf {
    let dir = project.join("warehouse/mdm").join(kind);
    let current: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("current.json")).unwrap()).unwrap();
    dir.join(current["run_id"].as_str().unwrap())
}

fn gids(project: &Path) -> HashMap<String, String> {
    read_parquet(&current_run(project, "person").join("xref.parquet"))
        .into_iter()
        .map(|r| {
            (
                r["mention_id"].as_str().unwrap().to_string(),
                r["gid"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn decisions_are_honoured_by_the_next_match() {
    let p = private_project();
    let dir = p.path();
    ok(&civhub_in(dir, &["run", "--quiet"]));
    let xref = read_parquet(&current_run(dir, "person").join("xref.parquet"));
    let review = read_parquet(&current_run(dir, "person").join("review.parquet"));
    let gid: HashMap<String, String> = gids(dir);
    let s = |r: &serde_json::Map<String, Value>, k: &str| r[k].as_str().unwrap().to_string();

    // `same` on a pair waiting for review.
    let pair = review
        .iter()
        .find(|r| gid[&s(r, "mention_a")] != gid[&s(r, "mention_b")])
        .expect("a review pair across two golden records");
    let (same_a, same_b) = (s(pair, "mention_a"), s(pair, "mention_b"));
    let touched = [gid[&same_a].clone(), gid[&same_b].clone()];

    // `different` on two mentions of one golden record joined probabilistically:
    // a loose mention and a mention of the ID cluster it joined.
    let mut loose: Vec<&serde_json::Map<String, Value>> = xref
        .iter()
        .filter(|r| {
            r["link"] == "probabilistic"
                && r["node_id"] == r["mention_id"]
                && !touched.contains(&s(r, "gid"))
        })
        .collect();
    loose.sort_by_key(|r| s(r, "mention_id"));
    let (diff_a, diff_b) = loose
        .iter()
        .find_map(|l| {
            xref.iter()
                .filter(|r| r["gid"] == l["gid"] && r["link"] == "id")
                .map(|r| s(r, "mention_id"))
                .min()
                .map(|b| (s(l, "mention_id"), b))
        })
        .expect("a golden record joined probabilistically");
    assert_eq!(gid[&diff_a], gid[&diff_b]);

    let run = civhub_in(
        dir,
        &[
            "review",
            "decide",
            &diff_a,
            &diff_b,
            "different",
            "--note",
            "two people",
            "--by",
            "tester",
        ],
    );
    assert!(
        ok(&run)
            .stdout
            .contains("the next `civhub match` applies it"),
        "{}",
        run.stdout
    );
    ok(&civhub_in(
        dir,
        &[
            "review", "decide", &same_a, &same_b, "same", "--by", "tester",
        ],
    ));

    // A decision the deterministic pass would ignore is refused.
    let cluster = s(
        xref.iter()
            .find(|r| r["node_id"].as_str().unwrap().starts_with('c'))
            .unwrap(),
        "node_id",
    );
    let mates: Vec<String> = xref
        .iter()
        .filter(|r| r["node_id"] == cluster.as_str())
        .map(|r| s(r, "mention_id"))
        .take(2)
        .collect();
    if mates.len() == 2 {
        let refused = civhub_in(
            dir,
            &["review", "decide", &mates[0], &mates[1], "different"],
        );
        assert_eq!(refused.code, 2, "{}", refused.stdout);
        assert!(
            refused.stderr.contains("share the valid identifier"),
            "{}",
            refused.stderr
        );
    }
    let bad = civhub_in(
        dir,
        &["review", "decide", "pm0000000000000000", &same_a, "same"],
    );
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("civhub person"), "{}", bad.stderr);

    let decisions = std::fs::read_to_string(dir.join("decisions/person.jsonl")).unwrap();
    let lines: Vec<Value> = decisions
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{decisions}");
    assert_eq!(lines[0]["decision"], "different");
    assert_eq!(lines[0]["note"], "two people");
    assert_eq!(lines[1]["by"], "tester");
    assert!(
        !repo().join("decisions").exists(),
        "tests must not write into the repository"
    );

    // Decided pairs leave the queue at once.
    let queue = ok(&civhub_in(dir, &["review", "--json"])).json();
    assert!(
        !queue["pending"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["mention_a"] == same_a.as_str() && p["mention_b"] == same_b.as_str()),
        "{queue:#}"
    );

    ok(&civhub_in(dir, &["match", "--quiet"]));
    let after = gids(dir);
    assert_ne!(
        after[&diff_a], after[&diff_b],
        "`different` was not honoured"
    );
    assert_eq!(after[&same_a], after[&same_b], "`same` was not honoured");
    let e = ok(&civhub_in(dir, &["explain", &diff_a, &diff_b, "--json"])).json();
    assert_eq!(e["verdict"]["route"], "decision");
    assert_eq!(e["verdict"]["same_golden"], false);
    assert_eq!(e["decision"]["by"], "tester");
}
