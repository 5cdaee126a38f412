//! The PostgreSQL wire endpoint with real clients: `psql` and Python's
//! psycopg connect to one in-process server, log in, query, are refused
//! where they should be and see masked values where they should.

use crate::common::{published_project, repo};
use civhub_serve::{Hub, pg, policy, users};
use std::process::Command;
use std::sync::Arc;

struct Out {
    ok: bool,
    stdout: String,
    stderr: String,
}

/// `psql` in unaligned, tuples-only mode; each `-c` runs separately.
/// Errors are verbose: `ERROR:  <SQLSTATE>: <message>`.
fn psql(port: u16, user: &str, password: &str, commands: &[&str]) -> Out {
    let mut cmd = Command::new("psql");
    cmd.env("PGPASSWORD", password)
        .env("PGCONNECT_TIMEOUT", "10")
        .env("PGCLIENTENCODING", "UTF8")
        .args(["-X", "-A", "-t", "-F", "|", "-v", "ON_ERROR_STOP=1"])
        .args(["-v", "VERBOSITY=verbose"])
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-U",
            user,
            "-d",
            "civhub",
        ]);
    for c in commands {
        cmd.args(["-c", c]);
    }
    let o = cmd.output().expect("run psql");
    Out {
        ok: o.status.success(),
        stdout: String::from_utf8(o.stdout).expect("psql prints UTF-8"),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn cjk(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

#[test]
fn psql_and_psycopg_log_in_query_masked_and_are_refused_and_audited() {
    let has_psql = Command::new("psql")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        has_psql,
        "`psql` is not installed; .ci/run installs it (apt-get install -y postgresql-client)"
    );
    let project = published_project();
    let p = civhub_ingest::config::load_project(project.path(), None)
        .unwrap_or_else(|e| panic!("{e:?}"));
    for (name, dept, role, pass) in [
        ("ana", "statistics", "analyst", "analyst-pass"),
        ("cw", "civil_affairs", "caseworker", "casework-pass"),
        ("aud", "data_resources", "auditor", "auditor-pass"),
        ("judge", "court", "analyst", "court-analyst-pass"),
    ] {
        users::add(&p, name, dept, role, pass).unwrap();
    }
    let all = Arc::new(users::load(&p).unwrap());
    let policy = policy::load(&p).unwrap_or_else(|e| panic!("{e:?}"));
    let mut one_connection = policy.clone();
    one_connection.limits.max_connections = 1;
    let mut tiny = policy.clone();
    tiny.limits.max_rows = 5;
    tiny.limits.timeout_seconds = 2;
    let hub = Arc::new(Hub::new(&p.warehouse, policy).unwrap());

    let rt = tokio::runtime::Runtime::new().unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let server = rt.spawn(pg::serve(hub, all.clone(), listener, stopped));

    // Login: a wrong password or an unknown user is refused.
    let bad = psql(port, "ana", "wrong-password", &["SELECT 1"]);
    assert!(
        !bad.ok && bad.stderr.contains("password authentication failed"),
        "{}",
        bad.stderr
    );
    let bad = psql(port, "nobody", "whatever-pass", &["SELECT 1"]);
    assert!(
        !bad.ok && bad.stderr.contains("password authentication failed"),
        "{}",
        bad.stderr
    );

    // The same rows: clear for a caseworker, masked for an analyst; Chinese intact.
    let q = "SELECT gid, id_number, name FROM population.person WHERE id_number IS NOT NULL ORDER BY gid LIMIT 3";
    let clear = psql(
        port,
        "cw",
        "casework-pass",
        &["SET extra_float_digits = 3", q],
    );
    assert!(clear.ok, "{}", clear.stderr);
    let masked = psql(
        port,
        "ana",
        "analyst-pass",
        &["SHOW transaction isolation level", q],
    );
    assert!(masked.ok, "{}", masked.stderr);
    let lines = |s: &str| -> Vec<Vec<String>> {
        s.lines()
            .filter(|l| l.contains('|'))
            .map(|l| l.split('|').map(str::to_string).collect())
            .collect()
    };
    assert!(
        masked.stdout.starts_with("read committed\n"),
        "{}",
        masked.stdout
    );
    let (clear, masked) = (lines(&clear.stdout), lines(&masked.stdout));
    assert_eq!(clear.len(), 3, "{clear:?}");
    for (c, m) in clear.iter().zip(&masked) {
        assert_eq!(c[0], m[0]);
        let id = &c[1];
        assert!(id.len() == 18 && !id.contains('*'), "{id}");
        assert_eq!(m[1], format!("{}**********{}", &id[..4], &id[14..]));
        assert!(cjk(&c[2]) && !c[2].contains('*'), "{}", c[2]);
        assert!(m[2] != c[2] && m[2].contains('*') && cjk(&m[2]), "{}", m[2]);
    }

    // Refused: a conditional table without a grant (naming it), and anything not read-only.
    let e = psql(
        port,
        "ana",
        "analyst-pass",
        &["SELECT count(*) FROM civil_affairs.dibao_member"],
    );
    assert!(
        !e.ok && e.stderr.contains("civil_affairs.dibao_member"),
        "{}",
        e.stderr
    );
    assert!(e.stderr.contains("permission denied"), "{}", e.stderr);
    for sql in [
        "DROP TABLE population.person",
        "INSERT INTO population.person (gid) VALUES ('x')",
        "COPY population.person TO '/tmp/civhub-leak.csv'",
        "CREATE TABLE t AS SELECT 1",
    ] {
        let e = psql(port, "cw", "casework-pass", &[sql]);
        assert!(!e.ok && e.stderr.contains("refused"), "{sql}: {}", e.stderr);
    }

    // 不予共享: court.court_case is the court's alone — read (masked as its
    // role requires) and listed for a user of the court, refused naming the
    // table, its sharing type and its provider for anyone else.
    let court = psql(
        port,
        "judge",
        "court-analyst-pass",
        &[
            "SELECT count(*) FROM court.court_case",
            "SELECT party_name FROM court.court_case WHERE party_type = '自然人'",
            "\\dt court.*",
        ],
    );
    assert!(court.ok, "{}", court.stderr);
    let out: Vec<&str> = court.stdout.lines().collect();
    assert_eq!(out[0], "6", "{}", court.stdout);
    assert!(
        out[1].contains('*') && cjk(out[1]),
        "masked: {}",
        court.stdout
    );
    assert!(
        court.stdout.contains("court|court_case|table"),
        "{}",
        court.stdout
    );
    for (user, pass) in [("ana", "analyst-pass"), ("cw", "casework-pass")] {
        let e = psql(port, user, pass, &["SELECT count(*) FROM court.court_case"]);
        assert!(
            !e.ok
                && e.stderr.contains("42501")
                && e.stderr.contains("`court.court_case`")
                && e.stderr.contains("不予共享")
                && e.stderr.contains("providing department `court`"),
            "{user}: {}",
            e.stderr
        );
        let dt = psql(port, user, pass, &["\\dt court.*"]);
        assert!(!dt.stdout.contains("court_case"), "{user}: {}", dt.stdout);
    }

    // \dt lists only readable tables; \d describes one.
    let dt = psql(port, "ana", "analyst-pass", &["\\dt"]);
    assert!(dt.ok, "{}", dt.stderr);
    assert!(
        dt.stdout.contains("population|person|table"),
        "{}",
        dt.stdout
    );
    assert!(!dt.stdout.contains("dibao_member"), "{}", dt.stdout);
    let cw_dt = psql(port, "cw", "casework-pass", &["\\dt"]);
    assert!(
        cw_dt.stdout.contains("civil_affairs|dibao_member|table"),
        "{}",
        cw_dt.stdout
    );
    let d = psql(port, "ana", "analyst-pass", &["\\d population.person"]);
    assert!(
        d.ok && d.stdout.contains("id_number"),
        "{}\n{}",
        d.stdout,
        d.stderr
    );

    // psycopg: the extended protocol (parameters, prepared statements).
    let py = Command::new("python3")
        .arg(repo().join("tests/interop/pg_clients.py"))
        .arg(port.to_string())
        .output()
        .expect("run python3");
    assert!(
        py.status.success(),
        "tests/interop/pg_clients.py failed (.ci/run installs psycopg):\n{}\n{}",
        String::from_utf8_lossy(&py.stdout),
        String::from_utf8_lossy(&py.stderr)
    );

    // Every statement is in the audit log, for the auditor to read.
    let log = psql(
        port,
        "aud",
        "auditor-pass",
        &[
            "SELECT user, action, allowed, statement FROM audit.log WHERE interface = 'pgwire' ORDER BY at",
        ],
    );
    assert!(log.ok, "{}", log.stderr);
    let rows = lines(&log.stdout);
    let has = |user: &str, action: &str, allowed: &str, part: &str| {
        rows.iter().any(|r| {
            r[0] == user && r[1] == action && r[2] == allowed && r[3..].join("|").contains(part)
        })
    };
    assert!(has("ana", "login", "f", ""), "{rows:?}");
    assert!(has("nobody", "login", "f", ""), "{rows:?}");
    assert!(has("ana", "query", "t", "population.person"), "{rows:?}");
    assert!(
        has("ana", "query", "f", "civil_affairs.dibao_member"),
        "{rows:?}"
    );
    assert!(has("cw", "query", "f", "DROP TABLE"), "{rows:?}");
    assert!(
        has("cw", "query", "t", "gid = $1"),
        "psycopg's parameterized query: {rows:?}"
    );
    assert!(has("judge", "query", "t", "court.court_case"), "{rows:?}");
    assert!(has("ana", "query", "f", "court.court_case"), "{rows:?}");
    let e = psql(
        port,
        "ana",
        "analyst-pass",
        &["SELECT count(*) FROM audit.log"],
    );
    assert!(!e.ok && e.stderr.contains("audit.log"), "{}", e.stderr);

    // Connections beyond `max-connections` are refused with a clear error.
    let hub = Arc::new(Hub::new(&p.warehouse, one_connection).unwrap());
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let small_port = listener.local_addr().unwrap().port();
    let (small_stop, small_stopped) = tokio::sync::watch::channel(false);
    let small = rt.spawn(pg::serve(hub, all.clone(), listener, small_stopped));
    let held = std::net::TcpStream::connect(("127.0.0.1", small_port)).unwrap();
    // The held connection takes the one slot once the server has accepted
    // it; until then psql may get in first, so try again a few times.
    let mut e = psql(small_port, "ana", "analyst-pass", &["SELECT 1"]);
    for _ in 0..50 {
        if !e.ok {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        e = psql(small_port, "ana", "analyst-pass", &["SELECT 1"]);
    }
    assert!(
        !e.ok && e.stderr.contains("too many connections"),
        "{}",
        e.stderr
    );
    drop(held);
    small_stop.send(true).unwrap();
    rt.block_on(small).unwrap().unwrap();

    // The row and time limits of a query, over both query paths: SQLSTATE
    // 54000 with a message naming the limit; the server serves on.
    let hub = Arc::new(Hub::new(&p.warehouse, tiny).unwrap());
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let tiny_port = listener.local_addr().unwrap().port();
    let (tiny_stop, tiny_stopped) = tokio::sync::watch::channel(false);
    let tiny_server = rt.spawn(pg::serve(hub, all, listener, tiny_stopped));
    let e = psql(
        tiny_port,
        "cw",
        "casework-pass",
        &["SELECT gid FROM population.person"],
    );
    assert!(
        !e.ok && e.stderr.contains("54000") && e.stderr.contains("more than 5 rows"),
        "{}",
        e.stderr
    );
    assert!(e.stderr.contains("max-rows"), "{}", e.stderr);
    let five = psql(
        tiny_port,
        "cw",
        "casework-pass",
        &["SELECT gid FROM population.person ORDER BY gid LIMIT 5"],
    );
    assert!(five.ok, "{}", five.stderr);
    assert_eq!(five.stdout.lines().count(), 5, "{}", five.stdout);
    let t0 = std::time::Instant::now();
    let slow = psql(
        tiny_port,
        "cw",
        "casework-pass",
        &["SELECT max(value % 7) AS m FROM generate_series(1, 100000000000)"],
    );
    assert!(
        !slow.ok && slow.stderr.contains("54000") && slow.stderr.contains("longer than 2 s"),
        "{}",
        slow.stderr
    );
    assert!(slow.stderr.contains("timeout-seconds"), "{}", slow.stderr);
    assert!(
        t0.elapsed() < std::time::Duration::from_secs(30),
        "stopped at its limit, not run to the end: {:?}",
        t0.elapsed()
    );
    let py = Command::new("python3")
        .arg(repo().join("tests/interop/pg_clients.py"))
        .arg(port.to_string())
        .arg(tiny_port.to_string())
        .arg("limits")
        .output()
        .expect("run python3");
    assert!(
        py.status.success(),
        "pg_clients.py limits (the extended protocol):\n{}\n{}",
        String::from_utf8_lossy(&py.stdout),
        String::from_utf8_lossy(&py.stderr)
    );
    let after = psql(
        tiny_port,
        "cw",
        "casework-pass",
        &["SELECT count(*) FROM population.person"],
    );
    assert!(after.ok, "served on after the limits: {}", after.stderr);
    tiny_stop.send(true).unwrap();
    rt.block_on(tiny_server).unwrap().unwrap();

    stop.send(true).unwrap();
    rt.block_on(server).unwrap().unwrap();
}
