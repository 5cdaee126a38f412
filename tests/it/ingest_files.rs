//! Ingest over hand-made exports: every format, the shapes real exports have
//! (title rows, footers, one sheet per county, nested JSON), and the ways they
//! break (wrong encoding, ragged rows, empty or truncated files, missing
//! columns). Every test checks that no row is lost: per file, rows in =
//! staged + quarantined.

use crate::common::*;
use serde_json::Value;

/// A pipeline onto the `person` schema with the given `[source]` block.
fn person_pipeline(source: &str, extra: &str) -> String {
    format!(
        r#"schema = "person"
key = ["id_number"]

{source}

[[columns]]
field = "id_number"
from = ["身份证号", "公民身份号码"]
normalize = "resident_id"

[[columns]]
field = "name"
from = "姓名"
normalize = "person_name"

[[columns]]
field = "gender"
from = "性别"
normalize = "gender"

[[columns]]
field = "birth_date"
from = "出生日期"
normalize = "date"

[[columns]]
field = "phone"
from = "联系电话"
normalize = "phone"
optional = true

[[identity]]
kind = "person"
role = "subject"
id-number = "id_number"
name = "name"
birth-date = "birth_date"
gender = "gender"

[[rules]]
id = "id-check"
kind = "check_digit"
field = "id_number"
scheme = "resident_id"
severity = "warn"

[[rules]]
id = "id-vs-birth"
kind = "id_consistency"
field = "id_number"
birth-date = "birth_date"
gender = "gender"

{extra}

[limits]
max-bad-ratio = 0.9

[catalog]
title = "测试人员"
description = "测试用人员信息。"
classification = "部门"
sharing = "无条件共享"
update-cycle = "每月"
"#
    )
}

/// Per file: rows in = staged + quarantined, and the totals agree.
fn assert_nothing_lost(report: &Value) {
    for p in report["pipelines"].as_array().unwrap() {
        let mut sums = (0, 0, 0);
        for f in p["files"].as_array().unwrap() {
            let (i, s, q) = (
                f["rows_in"].as_u64().unwrap(),
                f["rows_staged"].as_u64().unwrap(),
                f["rows_quarantined"].as_u64().unwrap(),
            );
            assert_eq!(i, s + q, "rows lost in {f}");
            sums = (sums.0 + i, sums.1 + s, sums.2 + q);
        }
        assert_eq!(
            sums,
            (
                p["rows_in"].as_u64().unwrap(),
                p["rows_staged"].as_u64().unwrap(),
                p["rows_quarantined"].as_u64().unwrap()
            )
        );
    }
}

fn file<'a>(report: &'a Value, path: &str) -> &'a Value {
    report["pipelines"][0]["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == path)
        .unwrap_or_else(|| panic!("no file {path} in {report}"))
}

fn rules(rows: &[serde_json::Map<String, Value>]) -> Vec<String> {
    let mut v: Vec<String> = rows
        .iter()
        .map(|r| r["_rule"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn gbk_csv_with_title_rows_and_footer() {
    let p = TestProject::new();
    p.pipeline(
        "police",
        "people",
        &person_pipeline("[source]\npath = \"police/人员_*.csv\"\nformat = \"csv\"\nencoding = \"gbk\"\nheader-row = 3\nstop-at = \"^合计\"", ""),
    );
    let a = resident_id("341002", "19800102", 1); // male
    let b = resident_id("341021", "19751230", 2); // female, ends in X? whatever it is
    let c15 = format!("{}{}", &a[..6], &a[8..17]).replace("19800102", "800102"); // old 15-digit form
    let old = resident_id("341003", "19650304", 11);
    let old15 = format!("{}{}", &old[..6], &old[8..17]);
    let _ = c15;
    let text = [
        "黄山市公安局 人员信息表,,,,".to_string(),
        "导出日期：2026-11-01,,,,".to_string(),
        "身份证号,姓名,性别,出生日期,联系电话".to_string(),
        format!("{a},张 三,男,1980/1/2,+86 139-0559-1234"),
        format!("'{},王芳,女,19751230,05592345678", b.to_lowercase()),
        format!("{old15},李四,男,1965年3月4日,"),
        "3.41002E+17,赵六,男,1990-01-01,".to_string(),
        format!("{a},张三,男,1980-01-02,"),
        format!(
            "{},孙七,男,1980-01-02,",
            resident_id("341002", "19800102", 3)
                .replace(&resident_id("341002", "19800102", 3)[17..], "0")
        ),
        format!(
            "{},周八,女,1990-13-01,",
            resident_id("341002", "19900101", 4)
        ),
        format!(
            "{},吴九,女,1981-01-02,",
            resident_id("341002", "19800102", 5)
        ),
        ",,,,".to_string(),
        "合计,8,,,".to_string(),
        "制表人：某某,,,,".to_string(),
    ]
    .join("\r\n");
    let (bytes, _, bad) = encoding_rs::GBK.encode(&text);
    assert!(!bad);
    p.export("police/人员_202611.csv", &bytes);

    let run = p.civhub(&["ingest", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.json();
    assert_nothing_lost(&report);
    let f = file(&report, "police/人员_202611.csv");
    assert_eq!(f["encoding"], "gb18030");
    assert_eq!(f["blank_rows"], 1);
    assert_eq!(f["footer_rows"], 2);
    assert_eq!(f["rows_in"], 8);

    let staged = p.staged("test.people".replace("test", "police").as_str());
    let names: Vec<&str> = staged.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert!(
        names.contains(&"张三") && names.contains(&"王芳") && names.contains(&"李四"),
        "{names:?}"
    );
    let wang = staged.iter().find(|r| r["name"] == "王芳").unwrap();
    assert_eq!(
        wang["id_number"],
        b.as_str(),
        "lowercase x and the apostrophe are repaired"
    );
    assert_eq!(wang["phone"], "0559-2345678");
    assert_eq!(
        wang["_source_row"], 5,
        "physical row in the file, title rows and header counted"
    );
    assert_eq!(wang["_source_file"], "police/人员_202611.csv");
    assert_eq!(wang["_pipeline"], "police.people");
    assert!(wang["_run_id"].as_str().unwrap().len() == 26);
    let li = staged.iter().find(|r| r["name"] == "李四").unwrap();
    assert_eq!(li["id_number"], old.as_str(), "15-digit ID upgraded");
    assert!(
        li["_flags"].as_str().unwrap().contains("15-digit"),
        "{li:?}"
    );
    assert_eq!(li["birth_date"], "1965-03-04");
    let zhang = staged.iter().find(|r| r["name"] == "张三").unwrap();
    assert_eq!(zhang["phone"], "13905591234");
    assert_eq!(zhang["_record_key"], a.as_str());
    // A wrong check digit is staged (matching uses it) but flagged.
    let sun = staged.iter().find(|r| r["name"] == "孙七").unwrap();
    assert!(
        sun["_flags"].as_str().unwrap().contains("id-check"),
        "{sun:?}"
    );

    let q = p.quarantined("police.people");
    assert_eq!(
        rules(&q),
        [
            "duplicate-key",
            "id-vs-birth",
            "normalize:birth_date",
            "normalize:id_number"
        ]
    );
    let excel = q
        .iter()
        .find(|r| r["_rule"] == "normalize:id_number")
        .unwrap();
    assert!(
        excel["_reason"].as_str().unwrap().contains("Excel"),
        "{excel:?}"
    );
    assert_eq!(excel["_value"], "3.41002E+17");
    let original: Value = serde_json::from_str(excel["_original"].as_str().unwrap()).unwrap();
    assert_eq!(
        original["姓名"], "赵六",
        "quarantine keeps the original cells"
    );
    let dup = q.iter().find(|r| r["_rule"] == "duplicate-key").unwrap();
    assert_eq!(dup["_source_row"], 8);
    assert!(dup["_reason"].as_str().unwrap().contains("row 4"));
    let wu = q.iter().find(|r| r["_rule"] == "id-vs-birth").unwrap();
    assert!(
        wu["_reason"].as_str().unwrap().contains("1980-01-02"),
        "{wu:?}"
    );
}

#[test]
fn rerun_over_unchanged_files_stages_nothing_twice() {
    let p = TestProject::new();
    p.pipeline(
        "police",
        "people",
        &person_pipeline("[source]\npath = \"police/*.csv\"\nformat = \"csv\"", ""),
    );
    let a = resident_id("341002", "19800102", 1);
    p.export(
        "police/a.csv",
        format!("身份证号,姓名,性别,出生日期\n{a},张三,男,1980-01-02\n"),
    );
    let first = p.civhub(&["ingest", "--json"]).json();
    assert_eq!(first["pipelines"][0]["status"], "ok");
    let parts = std::fs::read_dir(p.path().join("warehouse/staging/police.people"))
        .unwrap()
        .count();

    let second = p.civhub(&["ingest", "--json"]).json();
    assert_eq!(second["pipelines"][0]["status"], "unchanged");
    assert_eq!(second["totals"]["rows_staged"], 0);
    assert_eq!(second["pipelines"][0]["table_rows"], 1);
    assert_eq!(
        std::fs::read_dir(p.path().join("warehouse/staging/police.people"))
            .unwrap()
            .count(),
        parts
    );
    assert_eq!(p.staged("police.people").len(), 1);

    // Same content, new modification time: still unchanged (content hash).
    let f = std::fs::File::options()
        .write(true)
        .open(p.path().join("exports/police/a.csv"))
        .unwrap();
    f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(60))
        .unwrap();
    drop(f);
    assert_eq!(
        p.civhub(&["ingest", "--json"]).json()["pipelines"][0]["status"],
        "unchanged"
    );

    // A second file: the snapshot is staged again, and holds both.
    let b = resident_id("341002", "19810102", 3);
    p.export(
        "police/b.csv",
        format!("身份证号,姓名,性别,出生日期\n{b},李四,男,1981-01-02\n"),
    );
    let third = p.civhub(&["ingest", "--json"]).json();
    assert_eq!(third["pipelines"][0]["status"], "ok");
    assert_eq!(third["pipelines"][0]["table_rows"], 2);
    assert_eq!(p.staged("police.people").len(), 2);

    // --full-refresh re-reads everything.
    let fourth = p.civhub(&["ingest", "--json", "--full-refresh"]).json();
    assert_eq!(fourth["totals"]["rows_in"], 2);
    assert_eq!(p.staged("police.people").len(), 2);
}

#[test]
fn duplicate_keys_across_files_keep_the_first_file() {
    let p = TestProject::new();
    p.pipeline(
        "police",
        "people",
        &person_pipeline("[source]\npath = \"police/*.csv\"\nformat = \"csv\"", ""),
    );
    let a = resident_id("341002", "19800102", 1);
    let b = resident_id("341002", "19810102", 3);
    p.export(
        "police/1-屯溪.csv",
        format!("身份证号,姓名,性别,出生日期\n{a},张三,男,1980-01-02\n"),
    );
    p.export(
        "police/2-歙县.csv",
        format!("身份证号,姓名,性别,出生日期\n{b},李四,男,1981-01-02\n{a},张三,男,1980-01-02\n"),
    );
    let report = p.civhub(&["ingest", "--json"]).json();
    assert_nothing_lost(&report);
    let f2 = file(&report, "police/2-歙县.csv");
    assert_eq!(
        (f2["rows_staged"].as_u64(), f2["rows_quarantined"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(f2["duplicates_across_files"], 1);
    let q = p.quarantined("police.people");
    assert_eq!(q.len(), 1);
    assert_eq!(q[0]["_source_file"], "police/2-歙县.csv");
    assert_eq!(q[0]["_source_row"], 3);
    assert!(q[0]["_reason"].as_str().unwrap().contains("1-屯溪.csv"));
    assert_eq!(p.staged("police.people").len(), 2);
}

#[test]
fn append_mode_keeps_earlier_files_and_rejects_repeated_keys() {
    let p = TestProject::new();
    let toml = person_pipeline("[source]\npath = \"police/*.csv\"\nformat = \"csv\"", "").replace(
        "schema = \"person\"",
        "schema = \"person\"\nmode = \"append\"",
    );
    p.pipeline("police", "people", &toml);
    let a = resident_id("341002", "19800102", 1);
    let b = resident_id("341002", "19810102", 3);
    p.export(
        "police/2026-10.csv",
        format!("身份证号,姓名,性别,出生日期\n{a},张三,男,1980-01-02\n"),
    );
    assert_eq!(p.civhub(&["ingest", "--json"]).code, 0);
    std::fs::remove_file(p.path().join("exports/police/2026-10.csv")).unwrap();
    p.export(
        "police/2026-11.csv",
        format!("身份证号,姓名,性别,出生日期\n{b},李四,男,1981-01-02\n{a},张三,男,1980-01-02\n"),
    );
    let report = p.civhub(&["ingest", "--json"]).json();
    assert_nothing_lost(&report);
    assert_eq!(
        report["pipelines"][0]["table_rows"], 2,
        "the October rows stay"
    );
    let q = p.quarantined("police.people");
    assert_eq!(q.len(), 1);
    assert!(
        q[0]["_reason"].as_str().unwrap().contains("earlier run"),
        "{q:?}"
    );
}

#[test]
fn declared_utf8_but_gbk_fails_with_a_hint() {
    let p = TestProject::new();
    p.pipeline(
        "police",
        "people",
        &person_pipeline(
            "[source]\npath = \"police/*.csv\"\nformat = \"csv\"\nencoding = \"utf-8\"",
            "",
        ),
    );
    let a = resident_id("341002", "19800102", 1);
    let bytes = encoding_rs::GBK
        .encode(&format!(
            "身份证号,姓名,性别,出生日期\n{a},张三,男,1980-01-02\n"
        ))
        .0
        .into_owned();
    p.export("police/gbk.csv", &bytes);
    let run = p.civhub(&["ingest"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("police/gbk.csv: not valid UTF-8"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("encoding = \"gbk\""), "{}", run.stdout);
    assert!(
        !p.path()
            .join("warehouse/staging/police.people/_manifest.json")
            .exists(),
        "nothing committed"
    );
}

#[test]
fn declared_gbk_but_utf8_fails_with_a_hint() {
    let p = TestProject::new();
    p.pipeline(
        "police",
        "people",
        &person_pipeline(
            "[source]\npath = \"police/*.csv\"\nformat = \"csv\"\nencoding = \"gbk\"",
            "",
        ),
    );
    let a = resident_id("341002", "19800102", 1);
    p.export(
        "police/u.csv",
        format!("身份证号,姓名,性别,出生日期\n{a},张三,男,1980-01-02\n"),
    );
    let run = p.civhub(&["ingest", "--json"]);
    assert_eq!(run.code, 1);
    let r = run.json();
    assert_eq!(r["pipelines"][0]["status"], "failed");
    let f = file(&r, "police/u.csv");
    assert_eq!(f["status"], "failed");
    assert!(f["error"].as_str().unwrap().contains("UTF-8"));
}

#[test]
fn auto_encoding_reads_gb18030_and_utf8_with_bom() {
    let p = TestProject::new();
    p.pipeline(
        "police",
        "people",
        &person_pipeline("[source]\npath = \"police/*.csv\"\nformat = \"csv\"", ""),
    );
    let a = resident_id("341002", "19800102", 1);
    let b = resident_id("341002", "19810102", 3);
    let gb = encoding_rs::GB18030
        .encode(&format!(
            "身份证号,姓名,性别,出生日期\n{a},𠮷张,男,1980-01-02\n"
        ))
        .0
        .into_owned();
    p.export("police/gb.csv", &gb);
    p.export(
        "police/bom.csv",
        format!("\u{feff}身份证号,姓名,性别,出生日期\n{b},李四,男,1981-01-02\n"),
    );
    let r = p.civhub(&["ingest", "--json"]).json();
    assert_eq!(file(&r, "police/gb.csv")["encoding"], "gb18030");
    assert_eq!(file(&r, "police/bom.csv")["encoding"], "utf-8");
    let staged = p.staged("police.people");
    assert!(
        staged.iter().any(|s| s["name"] == "𠮷张"),
        "a character outside GBK survives GB18030"
    );
    assert!(
        staged.iter().any(|s| s["name"] == "李四"),
        "the BOM does not hide the first column"
    );
}

#[test]
fn empty_file_and_missing_column_are_clear_errors() {
    let p = TestProject::new();
    p.pipeline(
        "police",
        "people",
        &person_pipeline("[source]\npath = \"police/*.csv\"\nformat = \"csv\"", ""),
    );
    p.export("police/empty.csv", "");
    let run = p.civhub(&["ingest"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("police/empty.csv: the file is empty"),
        "{}",
        run.stdout
    );

    std::fs::remove_file(p.path().join("exports/police/empty.csv")).unwrap();
    let a = resident_id("341002", "19800102", 1);
    p.export(
        "police/cols.csv",
        format!("证件号码,姓名,性别,出生年月\n{a},张三,男,1980-01-02\n"),
    );
    let run = p.civhub(&["ingest"]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("police/cols.csv"), "{}", run.stdout);
    assert!(
        run.stdout.contains("`身份证号` or `公民身份号码`"),
        "names the missing column: {}",
        run.stdout
    );
    assert!(run.stdout.contains("`出生日期`"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("the header has `证件号码`, `姓名`, `性别`, `出生年月`"),
        "lists what the file has: {}",
        run.stdout
    );
}

#[test]
fn ragged_rows_are_quarantined_not_dropped() {
    let p = TestProject::new();
    p.pipeline(
        "police",
        "people",
        &person_pipeline(
            "[source]\npath = \"police/*.csv\"\nformat = \"csv\"\ndelimiter = \"|\"",
            "",
        ),
    );
    let a = resident_id("341002", "19800102", 1);
    let b = resident_id("341002", "19810102", 3);
    p.export("police/r.csv", format!("身份证号|姓名|性别|出生日期\n{a}|张三|男|1980-01-02\n{b}|李四|男\n{b}|李四|男|1981-01-02|多余\n"));
    let r = p.civhub(&["ingest", "--json"]).json();
    assert_nothing_lost(&r);
    let q = p.quarantined("police.people");
    assert_eq!(rules(&q), ["ragged-row", "ragged-row"]);
    let extra = q.iter().find(|r| r["_source_row"] == 4).unwrap();
    let original: Value = serde_json::from_str(extra["_original"].as_str().unwrap()).unwrap();
    assert_eq!(original["_extra_5"], "多余", "extra cells are kept");
}

#[test]
fn tolerance_exceeded_fails_and_commits_nothing() {
    let p = TestProject::new();
    let toml = person_pipeline("[source]\npath = \"police/*.csv\"\nformat = \"csv\"", "")
        .replace("max-bad-ratio = 0.9", "max-bad-rows = 1");
    p.pipeline("police", "people", &toml);
    p.export(
        "police/bad.csv",
        "身份证号,姓名,性别,出生日期\nabc,张三,男,1980-01-02\nxyz,李四,男,1981-01-02\n",
    );
    let run = p.civhub(&["ingest"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .contains("2 rows quarantined, above max-bad-rows = 1"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("normalize:id_number"),
        "top reasons shown: {}",
        run.stdout
    );
    assert!(p.staged("police.people").is_empty());
}

#[test]
fn xlsx_one_sheet_per_county_with_title_rows() {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let p = TestProject::new();
    let toml = person_pipeline(
        "[source]\npath = \"police/*.xlsx\"\nformat = \"xlsx\"\nsheets = \"*\"\nheader-row = 2",
        "",
    )
    .replace(
        "[[identity]]",
        "[[columns]]\nfield = \"district\"\nfrom = \"$sheet\"\n\n[[identity]]",
    );
    p.pipeline("police", "people", &toml);
    let mut wb = Workbook::new();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for (sheet, seq) in [("屯溪区", 1u32), ("歙县", 2)] {
        let ws = wb.add_worksheet().set_name(sheet).unwrap();
        ws.write(0, 0, format!("{sheet}人员名单")).unwrap();
        for (c, h) in ["身份证号", "姓名", "性别", "出生日期"].iter().enumerate() {
            ws.write(1, c as u16, *h).unwrap();
        }
        ws.write(2, 0, resident_id("341002", "19800102", seq))
            .unwrap();
        ws.write(2, 1, if seq == 1 { "居民甲" } else { "居民乙" })
            .unwrap();
        ws.write(2, 2, if seq % 2 == 1 { "男" } else { "女" })
            .unwrap();
        ws.write_datetime_with_format(2, 3, ExcelDateTime::from_ymd(1980, 1, 2).unwrap(), &date)
            .unwrap();
        // The ID as a number: Excel has already lost its last digits.
        ws.write(3, 0, 341002198001020000f64).unwrap();
        ws.write(3, 1, "钱五").unwrap();
        ws.write(3, 2, "男").unwrap();
        ws.write(3, 3, 29222).unwrap(); // an Excel serial date as a plain number
    }
    wb.save(p.path().join("exports/police/名单.xlsx").as_path())
        .or_else(|_| {
            std::fs::create_dir_all(p.path().join("exports/police")).unwrap();
            wb.save(p.path().join("exports/police/名单.xlsx").as_path())
        })
        .unwrap();
    let run = p.civhub(&["ingest", "--json"]);
    let r = run.json();
    assert_nothing_lost(&r);
    let f = file(&r, "police/名单.xlsx");
    assert_eq!(f["rows_in"], 4, "{r:#}");
    assert_eq!(f["sheets"], serde_json::json!(["屯溪区", "歙县"]));
    let staged = p.staged("police.people");
    assert_eq!(staged.len(), 2);
    let one = staged.iter().find(|s| s["name"] == "居民甲").unwrap();
    assert_eq!(one["district"], "屯溪区");
    assert_eq!(one["birth_date"], "1980-01-02");
    assert_eq!(one["_source_sheet"], "屯溪区");
    assert_eq!(one["_source_row"], 3);
    let q = p.quarantined("police.people");
    assert_eq!(q.len(), 2);
    assert!(q.iter().all(|r| r["_value"] == "3.41002E+17"), "{q:?}");
}

#[test]
fn truncated_xlsx_is_a_clear_error() {
    let p = TestProject::new();
    p.pipeline(
        "police",
        "people",
        &person_pipeline("[source]\npath = \"police/*.xlsx\"\nformat = \"xlsx\"", ""),
    );
    let mut wb = rust_xlsxwriter::Workbook::new();
    wb.add_worksheet().write(0, 0, "身份证号").unwrap();
    let bytes = wb.save_to_buffer().unwrap();
    p.export("police/cut.xlsx", &bytes[..bytes.len() / 2]);
    let run = p.civhub(&["ingest"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .contains("police/cut.xlsx: cannot open as an Excel workbook"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("truncated"), "{}", run.stdout);
}

#[test]
fn nested_json_and_ndjson() {
    let p = TestProject::new();
    let json_pipeline = person_pipeline(
        "[source]\npath = \"police/*.json\"\nformat = \"json\"\nrecords = \"data.list\"",
        "",
    )
    .replace(
        "from = [\"身份证号\", \"公民身份号码\"]",
        "from = \"申请人.证件.号码\"",
    )
    .replace("from = \"姓名\"", "from = \"申请人.姓名\"");
    p.pipeline("police", "people", &json_pipeline);
    let a = resident_id("341002", "19800102", 1);
    let b = resident_id("341002", "19810102", 3);
    p.export(
        "police/api.json",
        serde_json::json!({"code": 0, "msg": "ok", "data": {"total": 3, "list": [
            {"申请人": {"姓名": "张三", "证件": {"号码": a}}, "性别": "1", "出生日期": "1980-01-02"},
            {"申请人": {"姓名": "李四", "证件": {"号码": b}}, "性别": "男", "出生日期": 19810102},
            {"申请人": {"姓名": null, "证件": {"号码": "garbage"}}, "性别": "女", "出生日期": "1990-01-01"}
        ]}})
        .to_string(),
    );
    let r = p.civhub(&["ingest", "--json"]).json();
    assert_nothing_lost(&r);
    assert_eq!(p.staged("police.people").len(), 2);
    let q = p.quarantined("police.people");
    assert_eq!(q.len(), 1);
    assert_eq!(q[0]["_source_row"], 3, "JSON rows are record indexes");

    let nd = person_pipeline("[source]\npath = \"hr/*.ndjson\"\nformat = \"ndjson\"", "");
    p.pipeline("hr", "people", &nd);
    p.export("hr/x.ndjson", format!("{{\"身份证号\":\"{a}\",\"姓名\":\"张三\",\"性别\":\"男\",\"出生日期\":\"1980-01-02\"}}\n\n{{not json\n"));
    let r = p.civhub(&["ingest", "hr", "--json"]).json();
    assert_nothing_lost(&r);
    let q = p.quarantined("hr.people");
    assert_eq!(rules(&q), ["invalid-json"]);
    assert_eq!(q[0]["_source_row"], 3);
}

#[test]
fn json_with_a_wrong_records_path_is_a_clear_error() {
    let p = TestProject::new();
    p.pipeline(
        "police",
        "people",
        &person_pipeline(
            "[source]\npath = \"police/*.json\"\nformat = \"json\"\nrecords = \"data.rows\"",
            "",
        ),
    );
    p.export("police/api.json", r#"{"data": {"list": []}}"#);
    let run = p.civhub(&["ingest"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("no records array at `data.rows`"),
        "{}",
        run.stdout
    );
    p.export("police/api.json", r#"{"data": {"rows": [{"身份证号": "1"#);
    let run = p.civhub(&["ingest"]);
    assert!(run.stdout.contains("truncated"), "{}", run.stdout);
}

#[test]
fn parquet_dump_with_typed_columns() {
    use arrow::array::{Date32Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;
    let p = TestProject::new();
    let toml = person_pipeline(
        "[source]\npath = \"police/*.parquet\"\nformat = \"parquet\"",
        "",
    )
    .replace("from = [\"身份证号\", \"公民身份号码\"]", "from = \"SFZH\"")
    .replace("from = \"姓名\"", "from = \"XM\"")
    .replace("from = \"性别\"", "from = \"XB\"")
    .replace("from = \"出生日期\"", "from = \"CSRQ\"");
    p.pipeline("police", "people", &toml);
    let schema = Arc::new(Schema::new(vec![
        Field::new("SFZH", DataType::Utf8, true),
        Field::new("XM", DataType::Utf8, true),
        Field::new("XB", DataType::Utf8, true),
        Field::new("CSRQ", DataType::Date32, true),
    ]));
    let batch = arrow::record_batch::RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(vec![
                Some(resident_id("341002", "19800102", 1)),
                None,
            ])),
            Arc::new(StringArray::from(vec![Some("张三"), Some("无证")])),
            Arc::new(StringArray::from(vec![Some("1"), Some("2")])),
            Arc::new(Date32Array::from(vec![Some(3653), None])),
        ],
    )
    .unwrap();
    std::fs::create_dir_all(p.path().join("exports/police")).unwrap();
    let f = std::fs::File::create(p.path().join("exports/police/dump.parquet")).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(f, schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let r = p.civhub(&["ingest", "--json"]).json();
    assert_nothing_lost(&r);
    let staged = p.staged("police.people");
    assert_eq!(staged.len(), 1);
    assert_eq!(staged[0]["birth_date"], "1980-01-02");
    assert_eq!(staged[0]["gender"], "男");
    assert_eq!(
        rules(&p.quarantined("police.people")),
        ["required:id_number"]
    );
}

#[test]
fn two_files_with_the_same_content_in_one_run() {
    let p = TestProject::new();
    let toml = person_pipeline("[source]\npath = \"police/*.csv\"\nformat = \"csv\"", "").replace(
        "schema = \"person\"",
        "schema = \"person\"\nmode = \"append\"",
    );
    p.pipeline("police", "people", &toml);
    let a = resident_id("341002", "19800102", 1);
    let text = format!("身份证号,姓名,性别,出生日期\n{a},张三,男,1980-01-02\n");
    p.export("police/1.csv", &text);
    p.export("police/2.csv", &text);
    let run = p.civhub(&["ingest", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let r = run.json();
    assert_nothing_lost(&r);
    assert_eq!(file(&r, "police/2.csv")["duplicates_across_files"], 1);
    assert_eq!(p.staged("police.people").len(), 1);
    assert_eq!(p.quarantined("police.people").len(), 1);
}

#[test]
fn a_large_csv_is_read_in_parallel_ranges_with_nothing_lost() {
    let p = TestProject::new();
    std::fs::write(
        p.path().join("civhub.toml"),
        "[project]\nname = \"t\"\ntitle = \"t\"\n\n[ingest]\nthreads = 2\nrange-bytes = 2000\n",
    )
    .unwrap();
    p.pipeline(
        "police",
        "people",
        &person_pipeline(
            "[source]\npath = \"police/*.csv\"\nformat = \"csv\"\nencoding = \"gbk\"",
            "",
        ),
    );
    let mut text = "标题行,,,,\n身份证号,姓名,性别,出生日期,联系电话\n".replace("标题行,,,,\n", "");
    let mut expect = Vec::new();
    for i in 0..400u32 {
        let id = resident_id("341002", "19800102", 2 * (i % 450) + 1);
        // A quoted phone cell spanning two lines now and then: the cut must not split it.
        let phone = if i % 37 == 0 {
            "\"139\n05591234\"".to_string()
        } else {
            "13905591234".to_string()
        };
        text.push_str(&format!("{id},张三,男,1980-01-02,{phone}\r\n"));
        expect.push(id);
    }
    // The same key again far from its first occurrence: found across ranges.
    text.push_str(&format!("{},张三,男,1980-01-02,13905591234\r\n", expect[0]));
    let bytes = encoding_rs::GBK.encode(&text).0.into_owned();
    p.export("police/big.csv", &bytes);
    let r = p.civhub(&["ingest", "--json"]).json();
    assert_nothing_lost(&r);
    let f = file(&r, "police/big.csv");
    assert_eq!(f["rows_in"], 401);
    assert_eq!(f["rows_staged"], 400);
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(
            p.path()
                .join("warehouse/staging/police.people/_manifest.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert!(
        manifest["files"][0]["staging_parts"]
            .as_array()
            .unwrap()
            .len()
            > 2,
        "read in several ranges: {manifest}"
    );
    let staged = p.staged("police.people");
    assert_eq!(staged.len(), 400);
    // Physical line numbers survive the cut: row of record i is i + 2 plus the extra lines before it.
    let mut rows: Vec<u64> = staged
        .iter()
        .map(|s| s["_source_row"].as_u64().unwrap())
        .collect();
    rows.sort();
    let mut want = Vec::new();
    let mut line = 2u64;
    for i in 0..400u32 {
        want.push(line);
        line += if i % 37 == 0 { 2 } else { 1 };
    }
    assert_eq!(rows, want);
    let q = p.quarantined("police.people");
    assert_eq!(q.len(), 1);
    assert_eq!(q[0]["_rule"], "duplicate-key");
    assert_eq!(q[0]["_source_row"], line);
}
