//! `civhub check`: the 低保 comparison over the bundled fixtures, scored
//! against the planted cases in fixtures/truth/, its report read back, a
//! rerun, reviews, scope, explain and errors.

use crate::common::{civhub_in, published_project, redact, repo};
use std::collections::BTreeSet;
use std::path::Path;

/// Parameters are resolved at a fixed date so the suite does not age.
const DATE: &str = "2026-11-25";

fn json(dir: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--date", DATE, "--json", "-q"]);
    let run = civhub_in(dir, &all);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

/// (household, rule) pairs.
type Cases = Vec<(String, String)>;

fn truth() -> (BTreeSet<(String, String)>, Cases, Cases) {
    let text = std::fs::read_to_string(repo().join("fixtures/truth/dibao.csv")).unwrap();
    let mut planted = BTreeSet::new();
    let mut decoys = Vec::new();
    let mut noisy = Vec::new();
    let mut rdr = csv_rows(&text);
    let header = rdr.remove(0);
    let idx = |n: &str| header.iter().position(|h| h == n).unwrap();
    for r in rdr {
        let (h, rule) = (r[idx("household_id")].clone(), r[idx("rule")].clone());
        if rule == "decoy" {
            decoys.push((h, r[idx("decoy_for")].clone()));
        } else {
            if r[idx("noisy")] == "1" {
                noisy.push((h.clone(), rule.clone()));
            }
            planted.insert((h, rule));
        }
    }
    (planted, decoys, noisy)
}

/// A minimal CSV reader for the truth files (quoted fields with commas).
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|line| {
            let mut out = Vec::new();
            let mut cur = String::new();
            let mut quoted = false;
            for c in line.chars() {
                match c {
                    '"' => quoted = !quoted,
                    ',' if !quoted => out.push(std::mem::take(&mut cur)),
                    c => cur.push(c),
                }
            }
            out.push(cur);
            out
        })
        .collect()
}

fn flagged(v: &serde_json::Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for h in v["flagged_households"].as_array().unwrap() {
        for r in h["rules"].as_array().unwrap() {
            out.insert((
                h["household_id"].as_str().unwrap().to_string(),
                r.as_str().unwrap().to_string(),
            ));
        }
    }
    out
}

#[test]
fn dibao_finds_every_planted_case_and_nothing_else() {
    let project = published_project();
    let dir = project.path();
    let (planted, decoys, noisy) = truth();
    assert!(!noisy.is_empty() && !decoys.is_empty());

    let first = json(dir, &["dibao"]);
    let got = flagged(&first);
    // Precision and recall over (household, rule) pairs: both 1.0 on fixtures.
    let missed: Vec<_> = planted.difference(&got).collect();
    let extra: Vec<_> = got.difference(&planted).collect();
    assert!(missed.is_empty(), "missed planted cases: {missed:?}");
    assert!(extra.is_empty(), "flagged what was not planted: {extra:?}");
    // Cases whose evidence carries a 15-digit or mistyped ID, or a homophone name without ID.
    for n in &noisy {
        assert!(got.contains(n), "noisy case not found: {n:?}");
    }
    for (h, rule) in &decoys {
        assert!(
            !got.contains(&(h.clone(), rule.clone())),
            "decoy {h} flagged for {rule}"
        );
    }
    let households = std::fs::read_to_string(repo().join("fixtures/truth/dibao_households.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .count();
    let expected_flag = csv_rows(
        &std::fs::read_to_string(repo().join("fixtures/truth/dibao_households.csv")).unwrap(),
    )
    .into_iter()
    .filter(|r| r.get(4).map(String::as_str) == Some("flag"))
    .count();
    assert_eq!(first["households_checked"], households);
    assert_eq!(first["households_flagged"], expected_flag);
    let findings = first["findings"].as_u64().unwrap();
    assert_eq!(first["new"].as_u64().unwrap(), findings);
    assert_eq!(first["published_release"], 2);

    // The Excel report, read back.
    let xlsx = first["report_xlsx"].as_str().unwrap().to_string();
    {
        use calamine::{Reader, Xlsx, open_workbook};
        let mut wb: Xlsx<_> = open_workbook(&xlsx).expect("open the report");
        let names = wb.sheet_names().to_vec();
        assert_eq!(names[0], "汇总");
        assert_eq!(names[1], "核对明细");
        for title in ["家庭成员名下房产超标", "已死亡人员仍在保", "同一人重复享受"]
        {
            assert!(
                names.iter().any(|n| n == title),
                "no sheet {title}: {names:?}"
            );
        }
        let all = wb.worksheet_range("核对明细").unwrap();
        assert_eq!(all.height() as u64, findings + 1, "one row per finding");
        let header: Vec<String> = all
            .rows()
            .next()
            .unwrap()
            .iter()
            .map(|c| c.to_string())
            .collect();
        for col in [
            "家庭编号",
            "成员",
            "规则",
            "发现的值",
            "阈值",
            "来源数据集",
            "来源行号",
            "关联方式",
        ] {
            assert!(header.iter().any(|h| h == col), "no column {col}");
        }
        let summary = wb.worksheet_range("汇总").unwrap();
        let cells: Vec<String> = summary.rows().flatten().map(|c| c.to_string()).collect();
        assert!(cells.iter().any(|c| c == "核对家庭数"));
        assert!(
            cells.iter().any(|c| c == "civil_affairs.dibao_member"),
            "table versions listed"
        );
        // The vehicle planted under a mistyped ID is in the vehicle sheet.
        let vehicle = wb.worksheet_range("家庭成员名下有非营运机动车").unwrap();
        let text: Vec<String> = vehicle.rows().flatten().map(|c| c.to_string()).collect();
        assert!(text.iter().any(|c| c == "DB3410211900028"), "{text:?}");
    }
    let html = std::fs::read_to_string(first["report_html"].as_str().unwrap()).unwrap();
    assert!(html.contains("DB3410022600021") && html.contains("已死亡人员仍在保"));

    // Findings are published and queryable, with evidence and versions.
    let q = civhub_in(
        dir,
        &[
            "sql",
            "--format",
            "json",
            "SELECT rule, household_id, source_dataset, source_row, link, table_versions, parameters \
             FROM checks.dibao_findings WHERE household_id = 'DB3410031700026'",
        ],
    );
    assert_eq!(q.code, 0, "{}", q.stderr);
    let rows: serde_json::Value = serde_json::from_str(&q.stdout).unwrap();
    let row = &rows[0];
    assert_eq!(row["rule"], "business");
    assert_eq!(row["link"], "name_only");
    assert!(
        row["table_versions"]
            .as_str()
            .unwrap()
            .contains("market_regulation.enterprise")
    );
    assert!(
        row["parameters"]
            .as_str()
            .unwrap()
            .contains("capital_threshold")
    );

    // A rerun over the same data: everything unchanged.
    let second = json(dir, &["dibao"]);
    assert_eq!(second["findings"], first["findings"]);
    assert_eq!(second["unchanged"], first["findings"]);
    assert_eq!(second["new"], 0);
    assert_eq!(second["resolved"], 0);
    assert_eq!(second["published_release"], 3);

    // A caseworker dismisses one finding; the next run keeps the review.
    let q = civhub_in(
        dir,
        &[
            "sql",
            "--format",
            "json",
            "SELECT finding_id FROM checks.dibao_findings WHERE rule = 'vehicle' ORDER BY finding_id LIMIT 1",
        ],
    );
    let id = serde_json::from_str::<serde_json::Value>(&q.stdout).unwrap()[0]["finding_id"]
        .as_str()
        .unwrap()
        .to_string();
    let no_reason = civhub_in(
        dir,
        &["check", "dibao", "--review", &id, "--status", "dismissed"],
    );
    assert_eq!(no_reason.code, 2);
    assert!(
        no_reason.stderr.contains("needs a reason"),
        "{}",
        no_reason.stderr
    );
    let ok = civhub_in(
        dir,
        &[
            "check",
            "dibao",
            "--review",
            &id,
            "--status",
            "dismissed",
            "--reason",
            "车辆已过户",
            "--by",
            "caseworker1",
        ],
    );
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    let _third = json(dir, &["dibao"]);
    let q = civhub_in(
        dir,
        &[
            "sql",
            "--format",
            "json",
            &format!(
                "SELECT review_status, review_reason, reviewed_by, state FROM checks.dibao_findings \
                 WHERE finding_id = '{id}' ORDER BY run_id DESC LIMIT 1"
            ),
        ],
    );
    let r: serde_json::Value = serde_json::from_str(&q.stdout).unwrap();
    assert_eq!(r[0]["review_status"], "dismissed");
    assert_eq!(r[0]["review_reason"], "车辆已过户");
    assert_eq!(r[0]["reviewed_by"], "caseworker1");
    assert_eq!(r[0]["state"], "unchanged");
    let bad = civhub_in(
        dir,
        &[
            "check",
            "dibao",
            "--review",
            "F0000",
            "--status",
            "confirmed",
        ],
    );
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("no finding `F0000`"), "{}", bad.stderr);

    // One district; the runs history has every run.
    let district = json(dir, &["dibao", "--district", "屯溪区", "--dry-run"]);
    assert!(
        district["households_checked"].as_u64().unwrap()
            < first["households_checked"].as_u64().unwrap()
    );
    for h in district["flagged_households"].as_array().unwrap() {
        assert_eq!(h["district"], "屯溪区");
    }
    let runs = civhub_in(
        dir,
        &[
            "sql",
            "--format",
            "csv",
            "SELECT count(*) AS n FROM checks.dibao_runs",
        ],
    );
    assert!(runs.stdout.contains("\n3"), "{}", runs.stdout);

    // A later publish keeps the check's tables in its release.
    let p = civhub_in(dir, &["publish", "--json"]);
    assert_eq!(p.code, 0, "{}", p.stderr);
    let runs = civhub_in(
        dir,
        &[
            "sql",
            "--format",
            "csv",
            "SELECT count(*) AS n FROM checks.dibao_runs",
        ],
    );
    assert_eq!(runs.code, 0, "{}", runs.stderr);

    // Reading an earlier release: the release before any check has no findings.
    let old = civhub_in(
        dir,
        &[
            "check",
            "dibao",
            "--as-of",
            "1",
            "--date",
            DATE,
            "--dry-run",
            "--json",
            "-q",
        ],
    );
    assert_eq!(old.code, 0, "{}", old.stderr);
    let old: serde_json::Value = serde_json::from_str(&old.stdout).unwrap();
    assert_eq!(old["release"], 1);
    assert_eq!(old["households_flagged"], first["households_flagged"]);

    // Explain: every rule, passed or not, for a household flagged through a mistyped ID.
    let ex = civhub_in(
        dir,
        &[
            "check",
            "dibao",
            "--explain",
            "DB3410211900028",
            "--date",
            DATE,
            "-q",
        ],
    );
    assert_eq!(ex.code, 0, "{}", ex.stderr);
    insta::assert_snapshot!("check_explain", redact(&ex.stdout, dir));

    // The summary a caseworker sees.
    let s = civhub_in(dir, &["check", "dibao", "--date", DATE, "--dry-run", "-q"]);
    assert_eq!(s.code, 0, "{}", s.stderr);
    insta::assert_snapshot!("check_summary", redact(&s.stdout, dir));

    // Errors name what is wrong and what exists.
    let e = civhub_in(dir, &["check", "dibaoo"]);
    assert_eq!(e.code, 2);
    assert!(
        e.stderr.contains("no check `dibaoo`") && e.stderr.contains("dibao"),
        "{}",
        e.stderr
    );
    let e = civhub_in(
        dir,
        &["check", "dibao", "--district", "屯溪县", "--date", DATE],
    );
    assert_eq!(e.code, 2);
    assert!(e.stderr.contains("屯溪区"), "{}", e.stderr);

    // A second rule set is just another file.
    let list = civhub_in(dir, &["check", "--list"]);
    assert!(
        list.stdout.contains("dibao") && list.stdout.contains("elderly"),
        "{}",
        list.stdout
    );
    let elderly = json(dir, &["elderly", "--dry-run"]);
    assert!(elderly["households_checked"].as_u64().unwrap() > 0);
}

#[test]
fn a_broken_rule_is_reported_with_file_and_line() {
    let project = published_project();
    let dir = project.path();
    let path = dir.join("pipelines/checks/dibao.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replacen("${capital_threshold}", "${capital_treshold}", 1),
    )
    .unwrap();
    let e = civhub_in(dir, &["check", "dibao", "--date", DATE]);
    assert_eq!(e.code, 2);
    assert!(
        e.stderr.contains("pipelines/checks/dibao.toml"),
        "{}",
        e.stderr
    );
    assert!(
        e.stderr
            .contains("`${capital_treshold}` names no parameter"),
        "{}",
        e.stderr
    );
    assert!(
        e.stderr.contains("capital_threshold"),
        "a did-you-mean hint: {}",
        e.stderr
    );

    // SQL that does not plan names the rule and its line.
    std::fs::write(
        &path,
        text.replacen(
            "JOIN public_security.vehicle v",
            "JOIN public_security.vehicles v",
            1,
        ),
    )
    .unwrap();
    let e = civhub_in(dir, &["check", "dibao", "--date", DATE]);
    assert_eq!(e.code, 2);
    assert!(e.stderr.contains("rule `vehicle`"), "{}", e.stderr);
    assert!(
        e.stderr.contains("public_security.vehicles"),
        "{}",
        e.stderr
    );
    assert!(
        !Path::new(&dir.join("warehouse/reports")).exists(),
        "nothing written"
    );
}

#[test]
fn a_district_value_applies_in_its_district_only() {
    let project = published_project();
    let dir = project.path();
    let path = dir.join("pipelines/checks/dibao.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let old = "values = [{ from = \"2024-01-01\", value = 100000 }]";
    assert!(text.contains(old));
    std::fs::write(
        &path,
        text.replace(
            old,
            "values = [{ from = \"2024-01-01\", value = 100000 }, { from = \"2024-01-01\", district = \"黄山区\", value = 5000000 }]",
        ),
    )
    .unwrap();
    let v = json(dir, &["dibao"]);
    let got = flagged(&v);
    // 黄山区's planted company (capital 1,110,000) is under its own threshold now;
    // 徽州区's individual business (250,000) is still over the general one.
    assert!(!got.contains(&("DB3410031700026".to_string(), "business".to_string())));
    assert!(got.contains(&("DB3410042000019".to_string(), "business".to_string())));
    let q = civhub_in(
        dir,
        &[
            "sql",
            "--format",
            "json",
            "SELECT parameters FROM checks.dibao_findings WHERE household_id = 'DB3410042000019' AND rule = 'business'",
        ],
    );
    let rows: serde_json::Value = serde_json::from_str(&q.stdout).unwrap();
    assert!(
        rows[0]["parameters"]
            .as_str()
            .unwrap()
            .contains("\"capital_threshold\":\"100000\""),
        "{rows}"
    );
}
