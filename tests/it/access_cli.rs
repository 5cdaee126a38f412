//! Users, access by sharing type, masking and the audit log through
//! `civhub user` and `civhub sql --as-user`.

use crate::common::{add_user, civhub_in, published_project};
use std::path::Path;

fn rows(dir: &Path, user: &str, sql: &str) -> Result<Vec<serde_json::Value>, String> {
    let r = civhub_in(dir, &["sql", "--as-user", user, "--format", "json", sql]);
    if r.code != 0 {
        return Err(r.stderr);
    }
    Ok(serde_json::from_str::<serde_json::Value>(&r.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
        .as_array()
        .cloned()
        .unwrap_or_default())
}

#[test]
fn users_see_what_their_role_and_grants_allow_masked_and_audited() {
    let project = published_project();
    let dir = project.path();
    assert_eq!(
        add_user(dir, "ana", "statistics", "analyst", "analyst-pass").code,
        0
    );
    assert_eq!(
        add_user(dir, "cw", "civil_affairs", "caseworker", "casework-pass").code,
        0
    );
    assert_eq!(
        add_user(dir, "aud", "data_resources", "auditor", "auditor-pass").code,
        0
    );
    // Only hashes are stored.
    let users = std::fs::read_to_string(dir.join("access/users.toml")).unwrap();
    assert!(users.contains("$argon2id$") && !users.contains("analyst-pass"));
    let bad = add_user(dir, "x", "statistics", "superuser", "whatever-pass");
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("no role `superuser`"), "{}", bad.stderr);
    let bad = add_user(dir, "x", "statistcs", "analyst", "whatever-pass");
    assert!(
        bad.stderr.contains("statistics"),
        "a did-you-mean: {}",
        bad.stderr
    );

    // The same golden records: clear for a caseworker, masked for an analyst.
    let q = "SELECT gid, id_number, name FROM population.person WHERE id_number IS NOT NULL ORDER BY gid LIMIT 5";
    let clear = rows(dir, "cw", q).unwrap();
    let masked = rows(dir, "ana", q).unwrap();
    assert_eq!(clear.len(), 5);
    for (c, m) in clear.iter().zip(&masked) {
        assert_eq!(c["gid"], m["gid"]);
        let (id, mid) = (
            c["id_number"].as_str().unwrap(),
            m["id_number"].as_str().unwrap(),
        );
        assert_eq!(mid, format!("{}**********{}", &id[..4], &id[14..]));
        let name = c["name"].as_str().unwrap();
        assert_ne!(m["name"].as_str().unwrap(), name);
        assert!(m["name"].as_str().unwrap().contains('*'));
    }
    // Masking cannot be undone: functions, joins and filters see the mask.
    let id = clear[0]["id_number"].as_str().unwrap();
    let leaked = rows(
        dir,
        "ana",
        &format!("SELECT count(*) AS n FROM population.person WHERE id_number = '{id}'"),
    )
    .unwrap();
    assert_eq!(
        leaked[0]["n"], 0,
        "a filter on the original value finds nothing"
    );
    let f = rows(
        dir,
        "ana",
        "SELECT max(substr(id_number, 5, 10)) AS mid FROM population.person",
    )
    .unwrap();
    assert_eq!(f[0]["mid"], "**********");
    let j = rows(
        dir,
        "ana",
        "SELECT a.id_number FROM population.person a JOIN population.person b ON a.id_number = b.id_number AND a.gid = b.gid LIMIT 3",
    )
    .unwrap();
    assert!(
        j.iter()
            .all(|r| r["id_number"].as_str().unwrap().contains('*')),
        "a join sees only masked values: {j:?}"
    );

    // 有条件共享 without a grant: refused, naming the table.
    let e = rows(
        dir,
        "ana",
        "SELECT count(*) FROM civil_affairs.dibao_member",
    )
    .unwrap_err();
    assert!(
        e.contains("civil_affairs.dibao_member") && e.contains("有条件共享"),
        "{e}"
    );
    let e = rows(
        dir,
        "ana",
        "SELECT * FROM population.person p WHERE p.gid IN (SELECT person_gid FROM civil_affairs.dibao_member)",
    )
    .unwrap_err();
    assert!(
        e.contains("civil_affairs.dibao_member"),
        "a subquery is no way around: {e}"
    );
    // Granted to civil-affairs caseworkers.
    assert!(
        !rows(
            dir,
            "cw",
            "SELECT count(*) AS n FROM civil_affairs.dibao_member"
        )
        .unwrap()
        .is_empty()
    );
    // 无条件共享 for everyone.
    assert!(
        rows(
            dir,
            "ana",
            "SELECT count(*) AS n FROM population.person_history"
        )
        .is_ok()
    );
    // Read-only whoever asks.
    let e = rows(dir, "cw", "DROP TABLE population.person").unwrap_err();
    assert!(e.contains("refused"), "{e}");
    // The audit log is for auditors only.
    let e = rows(dir, "ana", "SELECT * FROM audit.log").unwrap_err();
    assert!(e.contains("audit.log"), "{e}");
    let log = rows(
        dir,
        "aud",
        "SELECT user, allowed, message FROM audit.log WHERE interface = 'cli' ORDER BY at",
    )
    .unwrap();
    assert!(log.len() >= 9, "{log:?}");
    assert!(
        log.iter()
            .any(|r| r["user"] == "ana" && r["allowed"] == false)
    );
    assert!(
        log.iter()
            .any(|r| r["user"] == "cw" && r["allowed"] == true)
    );
    // 不予共享: court.court_case is published for the court only.
    assert_eq!(
        add_user(dir, "judge", "court", "analyst", "court-analyst-pass").code,
        0
    );
    assert_eq!(
        add_user(dir, "clerk", "court", "caseworker", "court-clerk-pass").code,
        0
    );
    assert_eq!(
        add_user(dir, "adm", "data_resources", "admin", "admin-pass").code,
        0
    );
    let q = "SELECT case_no, party_name FROM court.court_case WHERE party_type = '自然人' ORDER BY case_no, party_name";
    let clerk = rows(dir, "clerk", q).unwrap();
    let judge = rows(dir, "judge", q).unwrap();
    assert!(!clerk.is_empty(), "the court reads its own cases");
    assert_eq!(clerk.len(), judge.len());
    for (c, j) in clerk.iter().zip(&judge) {
        // The usual masking by role: clear for the court's caseworker,
        // masked for its analyst.
        assert_eq!(c["case_no"], j["case_no"]);
        let name = c["party_name"].as_str().unwrap();
        assert!(!name.contains('*'), "{c}");
        assert!(
            j["party_name"].as_str().unwrap().contains('*') && j["party_name"] != name,
            "{j}"
        );
    }
    let all = rows(dir, "judge", "SELECT count(*) AS n FROM court.court_case").unwrap();
    assert_eq!(all[0]["n"], 6, "{all:?}");
    let listed = |user: &str| {
        rows(
            dir,
            user,
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'court' ORDER BY 1",
        )
        .unwrap()
        .iter()
        .map(|r| r["table_name"].as_str().unwrap().to_string())
        .collect::<Vec<_>>()
    };
    assert!(listed("judge").contains(&"court_case".to_string()));
    // Every other department is refused, naming the table, its sharing type
    // and its provider — an admin's `all-tables` included — and does not
    // see it listed.
    for user in ["ana", "cw", "adm"] {
        let e = rows(dir, user, "SELECT count(*) FROM court.court_case").unwrap_err();
        assert!(
            e.contains("permission denied")
                && e.contains("`court.court_case`")
                && e.contains("不予共享")
                && e.contains("providing department `court`"),
            "{user}: {e}"
        );
        assert!(!e.contains("not found"), "{user}: {e}");
        assert!(!listed(user).contains(&"court_case".to_string()), "{user}");
    }
    let e = rows(
        dir,
        "ana",
        "SELECT p.gid FROM population.person p WHERE p.gid IN (SELECT case_no FROM court.court_case)",
    )
    .unwrap_err();
    assert!(
        e.contains("court.court_case"),
        "a subquery is no way around: {e}"
    );
    // Nor does the cross-reference say who is in the court's cases: its rows
    // from a dataset a user may not read are not in that user's view.
    let xref =
        "SELECT count(*) AS n FROM population.person_xref WHERE dataset = 'court.court_case'";
    let judge_sees = rows(dir, "judge", xref).unwrap();
    assert!(
        judge_sees[0]["n"].as_i64().unwrap() > 0,
        "the court sees its mentions: {judge_sees:?}"
    );
    for user in ["ana", "cw", "adm"] {
        let n = rows(dir, user, xref).unwrap();
        assert_eq!(n[0]["n"], 0, "{user} sees no court mentions: {n:?}");
        let other = rows(
            dir,
            user,
            "SELECT count(*) AS n FROM population.person_xref WHERE dataset = 'civil_affairs.elderly_card'",
        )
        .unwrap();
        assert!(other[0]["n"].as_i64().unwrap() > 0, "{user}: {other:?}");
    }
    // So is the plain session (the local operator's): refused with the same
    // facts, not "table not found".
    let plain = civhub_in(dir, &["sql", "SELECT * FROM court.court_case"]);
    assert_ne!(plain.code, 0);
    assert!(
        plain.stderr.contains("permission denied: `court.court_case` is 不予共享 (not shared): only users of its providing department `court` may read it"),
        "{}",
        plain.stderr
    );

    // Unknown users are named.
    let r = civhub_in(dir, &["sql", "--as-user", "nobody", "SELECT 1"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no user `nobody`"), "{}", r.stderr);
    // A row limit from the policy.
    let policy = std::fs::read_to_string(crate::common::repo().join("access/policy.toml")).unwrap();
    std::fs::write(
        dir.join("access/policy.toml"),
        policy.replace("max-rows = 100000", "max-rows = 10"),
    )
    .unwrap();
    let e = rows(dir, "cw", "SELECT gid FROM population.person").unwrap_err();
    assert!(e.contains("more than 10 rows"), "{e}");
}

/// What the local CLI runs without `--as-user` — `civhub sql` (one-shot, and
/// statements from stdin), `civhub person`, `civhub check`, `civhub review`
/// (the queue, a pair shown, a decision) — is audited as
/// the operating-system user's, role `local-operator`, interface `cli`,
/// client `local`, refusals included; an auditor reads it as `audit.log`.
#[test]
fn local_cli_runs_are_audited() {
    let project = published_project();
    let dir = project.path();
    assert_eq!(
        add_user(dir, "aud", "data_resources", "auditor", "auditor-pass").code,
        0
    );
    let run = |args: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_civhub"));
        cmd.arg("--project")
            .arg(dir)
            .args(args)
            .env("USER", "operator-1")
            .env_remove("CIVHUB_PROJECT")
            .env_remove("CIVHUB_WAREHOUSE");
        cmd
    };
    let ok = |mut cmd: std::process::Command| {
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let gid = ok(run(&[
        "sql",
        "--format",
        "csv",
        "SELECT gid FROM population.person ORDER BY gid LIMIT 1",
    ]));
    let gid = gid.lines().nth(1).unwrap().to_string();
    // Refused statements are audited too.
    assert!(
        !run(&["sql", "DROP TABLE population.person"])
            .output()
            .unwrap()
            .status
            .success()
    );
    assert!(
        !run(&["sql", "SELECT count(*) FROM court.court_case"])
            .output()
            .unwrap()
            .status
            .success()
    );
    // Each statement read from stdin is one entry.
    let mut piped = run(&["sql", "--format", "csv"]);
    let mut child = piped
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        &mut child.stdin.take().unwrap(),
        b"SELECT 41 AS a; SELECT count(*) AS n FROM legal.entity;",
    )
    .unwrap();
    assert!(child.wait_with_output().unwrap().status.success());
    let person = ok(run(&["person", &gid, "--json"]));
    assert!(person.contains(&gid), "{person}");
    let missing = run(&["person", "P0000000000000"]).output().unwrap();
    assert!(!missing.status.success());
    ok(run(&["check", "dibao", "--json", "--quiet"]));
    // A 不予共享 dataset's records stay out of the local 360° view: the
    // mention is listed (as in person_xref), its record withheld.
    let court_gid = ok(run(&[
        "sql",
        "--format",
        "csv",
        "SELECT gid FROM population.person_xref WHERE dataset = 'court.court_case' ORDER BY gid LIMIT 1",
    ]));
    let court_gid = court_gid
        .lines()
        .nth(1)
        .expect("a person in the court's cases")
        .to_string();
    let view: serde_json::Value =
        serde_json::from_str(&ok(run(&["person", &court_gid, "--json"]))).unwrap();
    let mentions: Vec<&serde_json::Value> = view["departments"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["mentions"].as_array().unwrap())
        .collect();
    let court: Vec<&&serde_json::Value> = mentions
        .iter()
        .filter(|m| m["pipeline"] == "court.court_case")
        .collect();
    assert!(!court.is_empty(), "{view:#}");
    for m in court {
        assert!(m["withheld"].as_str().unwrap().contains("`court`"), "{m:#}");
        assert!(m["record"].is_null() && m["record_key"].is_null(), "{m:#}");
    }
    assert!(
        mentions
            .iter()
            .any(|m| m["withheld"].is_null() && m["record"].is_object()),
        "{view:#}"
    );
    // The review queue shows mentions' values; decisions are recorded too.
    let queue: serde_json::Value = serde_json::from_str(&ok(run(&["review", "--json"]))).unwrap();
    let pending = queue["pending"].as_array().unwrap();
    assert!(!pending.is_empty(), "{queue}");
    ok(run(&["review", "show", "1", "--json"]));
    let (a, b) = (
        pending[0]["mention_a"].as_str().unwrap(),
        pending[0]["mention_b"].as_str().unwrap(),
    );
    ok(run(&["review", "decide", a, b, "same", "--by", "tester"]));
    assert!(
        !run(&["review", "show", "9999"])
            .output()
            .unwrap()
            .status
            .success()
    );

    let log = rows(
        dir,
        "aud",
        "SELECT user, role, department, client, action, statement, tables, rows, allowed, message          FROM audit.log WHERE interface = 'cli' AND role = 'local-operator' ORDER BY at",
    )
    .unwrap();
    let find = |action: &str, part: &str, allowed: bool| {
        log.iter()
            .find(|r| {
                r["action"] == action
                    && r["allowed"] == allowed
                    && r["statement"].as_str().unwrap().contains(part)
            })
            .unwrap_or_else(|| panic!("no {action} `{part}` allowed={allowed} in {log:#?}"))
            .clone()
    };
    for r in &log {
        assert_eq!(r["user"], "operator-1", "{r}");
        assert_eq!(r["client"], "local", "{r}");
        assert!(r.get("department").is_none_or(|d| d == ""), "{r}");
    }
    let q = find("query", "SELECT gid FROM population.person", true);
    assert_eq!(q["rows"], 1, "{q}");
    assert_eq!(q["tables"], serde_json::json!(["population.person"]), "{q}");
    let drop = find("query", "DROP TABLE", false);
    assert!(
        drop["message"].as_str().unwrap().contains("refused"),
        "{drop}"
    );
    let court = find("query", "court.court_case", false);
    assert!(
        court["message"].as_str().unwrap().contains("不予共享"),
        "{court}"
    );
    assert_eq!(court["tables"], serde_json::json!(["court.court_case"]));
    find("query", "SELECT 41", true);
    let n = find("query", "FROM legal.entity", true);
    assert_eq!(n["rows"], 1, "{n}");
    let lookup = find("lookup", &format!("person {gid}"), true);
    assert_eq!(lookup["rows"], 1, "{lookup}");
    let tables = lookup["tables"].to_string();
    assert!(
        tables.contains("civhub.mdm.person_golden") && tables.contains("staging."),
        "{lookup}"
    );
    let court_lookup = find("lookup", &format!("person {court_gid}"), true);
    assert!(
        !court_lookup["tables"]
            .to_string()
            .contains("staging.court."),
        "{court_lookup}"
    );
    let missing = find("lookup", "person P0000000000000", false);
    assert!(missing["message"].is_string(), "{missing}");
    let listed = find("lookup", "review person", true);
    assert_eq!(listed["statement"], "review person", "{listed}");
    assert_eq!(listed["rows"], pending.len(), "{listed}");
    assert_eq!(
        listed["tables"],
        serde_json::json!(["civhub.mdm.person_review", "civhub.mdm.person_mentions"])
    );
    let shown = find("lookup", "review person show 1", true);
    assert_eq!(shown["rows"], 2, "{shown}");
    let decided = find(
        "review",
        &format!("review person decide {a} {b} same"),
        true,
    );
    assert_eq!(decided["rows"], 1, "{decided}");
    let beyond = find("lookup", "review person show 9999", false);
    assert!(
        beyond["message"]
            .as_str()
            .unwrap()
            .contains("no pair #9999"),
        "{beyond}"
    );
    let check = find("check", "check dibao", true);
    assert!(check["rows"].as_u64().unwrap() > 0, "{check}");
    assert!(
        check["tables"]
            .to_string()
            .contains("civil_affairs.dibao_member"),
        "{check}"
    );
}
