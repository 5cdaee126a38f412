//! `civhub catalog search | show | list` and `civhub docs` over the bundled
//! project (read from the shared published warehouse of `common`), and one
//! tiny project whose catalog text is hostile HTML, for the site's escaping.

use crate::common::*;
use serde_json::Value;

/// `civhub --project <repo> --warehouse <the shared published warehouse> args…`.
fn bundled(args: &[&str]) -> Run {
    let wh = published_warehouse();
    let mut full = vec!["--warehouse", wh.to_str().unwrap()];
    full.extend_from_slice(args);
    civhub_in(&repo(), &full)
}

fn ok(run: Run) -> Run {
    assert_eq!(
        run.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    run
}

/// Snapshots with run ids and times replaced.
macro_rules! snapshot {
    ($name:expr, $text:expr) => {
        insta::with_settings!({filters => vec![
            (r"\b[0-9A-HJKMNP-TV-Z]{26}\b", "[RUN]"),
            // Same width as the time, so columns stay aligned.
            (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "YYYY-MM-DDTHH:MM:SSZ"),
        ]}, {
            insta::assert_snapshot!($name, $text);
        });
    };
}

#[test]
fn show_population_person() {
    let run = ok(bundled(&["catalog", "show", "population.person"]));
    snapshot!("show_population_person", run.stdout);
}

#[test]
fn search_dibao() {
    let run = ok(bundled(&["catalog", "search", "低保"]));
    snapshot!("search_dibao", run.stdout);
}

#[test]
fn search_ranks_titles_above_fields_in_any_language() {
    for word in ["死亡", "death"] {
        let found = ok(bundled(&["catalog", "search", word, "--json"])).json();
        let hits = found["hits"].as_array().unwrap();
        let places: Vec<Vec<&str>> = hits
            .iter()
            .map(|h| {
                h["matched"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| m["place"].as_str().unwrap())
                    .collect()
            })
            .collect();
        let last_title = places.iter().rposition(|p| p.contains(&"title")).unwrap();
        let first_field_only = places
            .iter()
            .position(|p| p.iter().all(|x| *x == "field"))
            .unwrap_or_else(|| panic!("`{word}`: no dataset matches by a field only: {places:?}"));
        assert!(last_title < first_field_only, "`{word}`: {places:?}");
        assert!(places[0].contains(&"title"), "`{word}`: {places:?}");
    }
    // Every word must match; English titles count as titles.
    let en = ok(bundled(&[
        "catalog", "search", "minimum", "living", "--json",
    ]))
    .json();
    let names: Vec<&str> = en["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["dataset"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "civil_affairs.dibao_household",
            "civil_affairs.dibao_member"
        ]
    );
}

#[test]
fn show_json_has_the_whole_entry_and_no_values() {
    let v = ok(bundled(&[
        "catalog",
        "show",
        "civil_affairs.dibao_member",
        "--json",
    ]))
    .json();
    let d = &v["dataset"];
    assert_eq!(d["title"], "城乡低保家庭成员信息");
    assert_eq!(d["sharing_type"], "有条件共享");
    assert_eq!(d["department_name"], "黄山市民政局");
    assert_eq!(d["update_cycle"], "每月");
    assert!(d["resource_code"].as_str().unwrap().contains('-'));
    assert_eq!(d["tags"][0], "低保");
    let fields = v["fields"].as_array().unwrap();
    let id = fields
        .iter()
        .find(|f| f["column_name"] == "id_number")
        .unwrap();
    assert_eq!(id["pii"], "id_number");
    assert_eq!(v["versions"][0]["rows"], 95);
    assert!(
        v["lineage"]["columns"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["from_column"] == "成员身份证号码" && e["to_column"] == "id_number")
    );
    assert!(
        v["lineage"]["upstream"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["from_kind"] == "export")
    );
    assert_eq!(v["quality"]["rows_in"], 95);
    assert!(
        !v["quality"]["rule_pass_rates"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(v["freshness"]["overdue"], false);
    assert!(v["freshness"]["last_data_at"].is_string());
    // Quality figures are counts and rates: no resident ID appears anywhere.
    let text = v.to_string();
    let re = regex::Regex::new(r#""[1-9]\d{16}[\dX]""#).unwrap();
    assert!(!re.is_match(&text), "{text}");

    // The same entry by the part after the dot, and from a listed release.
    let short = ok(bundled(&[
        "catalog",
        "show",
        "dibao_member",
        "--json",
        "--as-of",
        "1",
    ]))
    .json();
    assert_eq!(short["dataset"]["dataset"], "civil_affairs.dibao_member");
    let list = ok(bundled(&[
        "catalog",
        "list",
        "--department",
        "civil_affairs",
        "--json",
    ]))
    .json();
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|r| r["dataset"]["department"] == "civil_affairs")
    );
}

#[test]
fn union_schema_tables_carry_pii_classes_and_descriptions() {
    let v = ok(bundled(&["catalog", "show", "license.license", "--json"])).json();
    let f = |name: &str| -> Value {
        v["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["column_name"] == name)
            .unwrap_or_else(|| panic!("no field {name}"))
            .clone()
    };
    assert_eq!(f("holder_id_number")["pii"], "id_number");
    assert_eq!(f("holder_name")["description"], "持证主体名称");
    assert_eq!(f("person_gid")["description"], "自然人统一标识");
}

#[test]
fn an_unknown_dataset_names_the_closest() {
    let run = bundled(&["catalog", "show", "civil_affairs.dibao_membr"]);
    assert_eq!(run.code, 2);
    insta::assert_snapshot!("unknown_dataset", run.stderr);
    let run = bundled(&["catalog", "list", "--department", "civil_afairs"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("did you mean `civil_affairs`"),
        "{}",
        run.stderr
    );
}

#[test]
fn docs_writes_a_browsable_site() {
    let out = tempfile::tempdir().unwrap();
    let run = ok(bundled(&["docs", "--out", out.path().to_str().unwrap()]));
    assert!(run.stdout.contains("pages"), "{}", run.stdout);
    for f in [
        "index.html",
        "lineage.html",
        "versions.html",
        "datasets/population.person.html",
    ] {
        assert!(out.path().join(f).is_file(), "no {f}");
    }
    let page = std::fs::read_to_string(out.path().join("datasets/civil_affairs.dibao_member.html"))
        .unwrap();
    for needle in [
        "<meta charset=\"utf-8\">",
        "城乡低保家庭成员信息",
        "<code>household_id</code>",
        "<code>id_number</code>",
        "<span class=\"badge pii\">id_number</span>",
        "有条件共享",
        "成员身份证号码",
    ] {
        assert!(page.contains(needle), "no `{needle}` in the dataset page");
    }
    let index = std::fs::read_to_string(out.path().join("index.html")).unwrap();
    assert!(index.contains("href=\"datasets/civil_affairs.dibao_member.html\""));
    assert!(index.contains("黄山市民政局"));
    assert!(!index.contains("<script"));
    assert!(
        index.contains("135 published as tables (8 of them 不予共享, readable by their providing department only)"),
        "{index}"
    );
    // A 不予共享 dataset: published, for its provider only; related
    // datasets with their resource codes.
    let court = std::fs::read_to_string(out.path().join("datasets/court.court_case.html")).unwrap();
    for needle in [
        "table <code>court.court_case</code>, 6 rows",
        "its providing department `court` only (不予共享)",
        "<a href=\"../datasets/court.dishonest_debtor.html\"><code>court.dishonest_debtor</code></a> (341000-206-0002)",
    ] {
        assert!(court.contains(needle), "no `{needle}` in the court page");
    }
}

#[test]
fn show_says_who_reads_a_not_shared_dataset_and_related_codes() {
    let text = ok(bundled(&["catalog", "show", "court.court_case"])).stdout;
    for needle in [
        "published           yes: table court.court_case, 6 rows",
        "readable by         its providing department `court` only (不予共享)",
        "related             court.dishonest_debtor (341000-206-0002)",
    ] {
        assert!(text.contains(needle), "no `{needle}` in:\n{text}");
    }
    let v = ok(bundled(&["catalog", "show", "court.court_case", "--json"])).json();
    let d = &v["dataset"];
    assert_eq!(d["published"], true);
    assert_eq!(d["table_name"], "court.court_case");
    assert_eq!(d["readable_by"], "provider");
    assert_eq!(d["related"], serde_json::json!(["court.dishonest_debtor"]));
    assert_eq!(d["related_codes"], serde_json::json!(["341000-206-0002"]));
    assert_eq!(v["versions"][0]["rows"], 6, "{v}");
    assert!(
        v["lineage"]["upstream"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["to_kind"] == "published" && e["to_name"] == "court.court_case"),
        "{v}"
    );
}

#[test]
fn docs_escapes_catalog_text() {
    let p = TestProject::new();
    p.pipeline(
        "civil_affairs",
        "evil",
        r#"schema = "person"

[source]
path = "evil/*.csv"
format = "csv"

[[columns]]
field = "id_number"
from = "身份证号"
normalize = "resident_id"

[[columns]]
field = "name"
from = "姓名"

[catalog]
title = "名单<script>alert('x')</script>"
description = "A & B \"quoted\" <b>bold</b>"
classification = "部门"
sharing = "无条件共享"
update-cycle = "每月"
tags = ["<i>tag</i>"]
"#,
    );
    p.export(
        "evil/evil.csv",
        format!(
            "身份证号,姓名\n{},张三\n",
            resident_id("341002", "19800101", 1)
        ),
    );
    let run = p.civhub(&["run", "--quiet"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let out = p.path().join("site");
    let run = p.civhub(&["docs", "--out", out.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let page = std::fs::read_to_string(out.join("datasets/civil_affairs.evil.html")).unwrap();
    assert!(
        page.contains("名单&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"),
        "{page}"
    );
    assert!(page.contains("A &amp; B &quot;quoted&quot; &lt;b&gt;bold&lt;/b&gt;"));
    assert!(page.contains("&lt;i&gt;tag&lt;/i&gt;"));
    for f in [
        "index.html",
        "lineage.html",
        "versions.html",
        "datasets/civil_affairs.evil.html",
    ] {
        let html = std::fs::read_to_string(out.join(f)).unwrap();
        assert!(
            !html.contains("<script") && !html.contains("<b>") && !html.contains("<i>"),
            "{f}"
        );
    }
}
