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
