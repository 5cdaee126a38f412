//! `civhub validate`: every problem, with file, line, column, the offending
//! key and a hint — snapshot-tested, because messages are part of the product.

use crate::common::*;

const GOOD: &str = r#"schema = "person"
key = ["id_number"]

[source]
path = "police/*.csv"
format = "csv"

[[columns]]
field = "id_number"
from = "身份证号"
normalize = "resident_id"

[[columns]]
field = "name"
from = "姓名"
normalize = "person_name"

[catalog]
title = "人员"
description = "人员信息。"
classification = "部门"
sharing = "无条件共享"
update-cycle = "每月"
"#;

fn validate(p: &TestProject) -> (i32, String) {
    let run = p.civhub(&["validate"]);
    (run.code, redact(&run.stderr, p.path()))
}

#[test]
fn a_good_project_validates() {
    let p = TestProject::new();
    p.pipeline("police", "people", GOOD);
    let run = p.civhub(&["validate"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("ok: "), "{}", run.stdout);
}

#[test]
fn unknown_key_suggests_the_nearest() {
    let p = TestProject::new();
    p.pipeline(
        "police",
        "people",
        &GOOD.replace("format = \"csv\"", "format = \"csv\"\ndelimter = \"|\""),
    );
    let (code, err) = validate(&p);
    assert_eq!(code, 2);
    insta::assert_snapshot!(err);
}

#[test]
fn unknown_value_suggests_the_nearest() {
    let p = TestProject::new();
    p.pipeline(
        "police",
        "people",
        &GOOD.replace("normalize = \"person_name\"", "normalize = \"persn_name\""),
    );
    let (_, err) = validate(&p);
    insta::assert_snapshot!(err);
}

#[test]
fn every_semantic_problem_is_reported_at_once() {
    let p = TestProject::new();
    let bad = GOOD
        .replace("field = \"name\"", "field = \"nmae\"")
        .replace("normalize = \"resident_id\"", "normalize = \"date\"")
        .replace("sharing = \"无条件共享\"", "sharing = \"有条件共享\"")
        + "\n[[rules]]\nkind = \"range\"\nfield = \"birth_date\"\nmin = \"1900-01-01\"\n\n[[rules]]\nkind = \"pattern\"\nfield = \"id_number\"\npattern = \"([\"\n";
    p.pipeline("police", "people", &bad);
    p.pipeline(
        "civil",
        "other",
        &GOOD.replace("schema = \"person\"", "schema = \"persn\""),
    );
    let (code, err) = validate(&p);
    assert_eq!(code, 2);
    insta::assert_snapshot!(err);
}

#[test]
fn validate_json_lists_problems_with_positions() {
    let p = TestProject::new();
    p.pipeline(
        "police",
        "people",
        &GOOD.replace("field = \"name\"", "field = \"nmae\""),
    );
    let run = p.civhub(&["validate", "--json"]);
    assert_eq!(run.code, 2);
    let v = run.json();
    assert_eq!(v["ok"], false);
    let problems = v["problems"].as_array().unwrap();
    let field = problems
        .iter()
        .find(|p| p["key"] == "columns.field")
        .expect("field problem");
    assert_eq!(field["file"], "pipelines/police/people.toml");
    assert_eq!(field["line"], 14);
    assert_eq!(field["column"], 9);
    assert_eq!(field["hint"], "did you mean `name`?");
}

#[test]
fn a_folder_without_a_project_file() {
    let dir = tempfile::tempdir().unwrap();
    let run = civhub_in(dir.path(), &["validate"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("civhub.toml: cannot read the project file: no such file"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("civhub synth"), "{}", run.stderr);
}
