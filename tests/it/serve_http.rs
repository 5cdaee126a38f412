//! The HTTP API of `civhub serve`, driven as a client would: the real
//! binary on free ports (it is started with port 0 and prints the
//! addresses it bound), raw HTTP/1.1 over `TcpStream` (no client library).

use crate::common::published_project;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn add_user(dir: &Path, name: &str, department: &str, role: &str, password: &str) {
    let r = crate::common::add_user(dir, name, department, role, password);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// `civhub serve` on free ports; stopped with SIGTERM.
struct Server {
    child: Child,
    http: String,
}

impl Server {
    fn start(dir: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_civhub"))
            .arg("--project")
            .arg(dir)
            .args([
                "serve",
                "--pg-addr",
                "127.0.0.1:0",
                "--http-addr",
                "127.0.0.1:0",
            ])
            .env("NO_COLOR", "1")
            .env_remove("CIVHUB_PROJECT")
            .env_remove("CIVHUB_WAREHOUSE")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("run civhub serve");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut http = None;
        while http.is_none() {
            let line = lines
                .next()
                .expect("civhub serve ended before printing its addresses")
                .unwrap();
            if let Some(a) = line.strip_prefix("http") {
                http = Some(a.trim().trim_start_matches("http://").to_string());
            }
        }
        Server {
            child,
            http: http.unwrap(),
        }
    }

    /// SIGTERM, then the exit status (graceful: exit code 0).
    fn stop(mut self) -> i32 {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let t0 = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s.code().unwrap_or(-1);
            }
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "civhub serve did not stop"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One request; the status and the body.
fn call(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(t) = token {
        req.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(&body);
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8(raw).expect("UTF-8 response");
    let (head, rest) = text.split_once("\r\n\r\n").expect("a response head");
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    let body = if head.to_lowercase().contains("transfer-encoding: chunked") {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    (status, body)
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
    out
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

/// Percent-encodes a query value.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn login(addr: &str, name: &str, password: &str) -> String {
    let (st, b) = call(
        addr,
        "POST",
        "/api/token",
        None,
        Some(&json!({"name": name, "password": password})),
    );
    assert_eq!(st, 200, "{b}");
    let v = json(&b);
    assert!(v["expires_at"].as_str().is_some(), "{b}");
    v["token"].as_str().unwrap().to_string()
}

fn sql(addr: &str, token: &str, q: &str) -> (u16, Value) {
    let (st, b) = call(
        addr,
        "POST",
        "/api/sql",
        Some(token),
        Some(&json!({"sql": q})),
    );
    (st, json(&b))
}

#[test]
fn http_api_authenticates_masks_refuses_and_audits() {
    let project = published_project();
    let dir = project.path();
    add_user(dir, "ana", "statistics", "analyst", "analyst-pass");
    add_user(dir, "cw", "civil_affairs", "caseworker", "casework-pass");
    add_user(dir, "aud", "data_resources", "auditor", "auditor-pass");
    let server = Server::start(dir);
    let a = server.http.clone();
    let a = a.as_str();

    // Health needs no token; nothing else is served without one.
    let (st, b) = call(a, "GET", "/health", None, None);
    assert_eq!(st, 200, "{b}");
    assert_eq!(json(&b)["release"], 1);
    for (m, p) in [
        ("POST", "/api/sql"),
        ("GET", "/api/persons/P1"),
        ("GET", "/api/catalog/search?q=x"),
        ("GET", "/nothing"),
    ] {
        let (st, b) = call(a, m, p, None, Some(&json!({"sql": "SELECT 1"})));
        assert_eq!(st, 401, "{m} {p}: {b}");
    }
    let (st, _) = call(
        a,
        "POST",
        "/api/sql",
        Some("not-a-token"),
        Some(&json!({"sql": "SELECT 1"})),
    );
    assert_eq!(st, 401);
    let (st, _) = call(
        a,
        "POST",
        "/api/token",
        None,
        Some(&json!({"name": "ana", "password": "wrong-pass"})),
    );
    assert_eq!(st, 401);
    let ana = login(a, "ana", "analyst-pass");
    let cw = login(a, "cw", "casework-pass");
    let aud = login(a, "aud", "auditor-pass");

    // Clear for a caseworker, masked for an analyst.
    let q = "SELECT gid, id_number, name FROM population.person WHERE id_number IS NOT NULL ORDER BY gid LIMIT 5";
    let (st, clear) = sql(a, &cw, q);
    assert_eq!(st, 200, "{clear}");
    let (st, masked) = sql(a, &ana, q);
    assert_eq!(st, 200, "{masked}");
    assert_eq!(clear["columns"], json!(["gid", "id_number", "name"]));
    for (c, m) in clear["rows"]
        .as_array()
        .unwrap()
        .iter()
        .zip(masked["rows"].as_array().unwrap())
    {
        assert_eq!(c["gid"], m["gid"]);
        let id = c["id_number"].as_str().unwrap();
        assert_eq!(
            m["id_number"],
            format!("{}**********{}", &id[..4], &id[14..])
        );
        assert!(m["name"].as_str().unwrap().contains('*'));
    }
    let (st, csv) = call(
        a,
        "POST",
        "/api/sql",
        Some(&cw),
        Some(&json!({"sql": q, "format": "csv"})),
    );
    assert_eq!(st, 200);
    assert!(
        csv.starts_with("gid,id_number,name\n") && csv.lines().count() == 6,
        "{csv}"
    );

    // Refusals: 403 naming the table, 400 for what is not read-only.
    let (st, e) = sql(a, &ana, "SELECT count(*) FROM civil_affairs.dibao_member");
    assert_eq!(st, 403, "{e}");
    assert!(
        e["error"]
            .as_str()
            .unwrap()
            .contains("civil_affairs.dibao_member"),
        "{e}"
    );
    let (st, e) = sql(a, &cw, "DROP TABLE population.person");
    assert_eq!(st, 400, "{e}");
    assert!(e["error"].as_str().unwrap().contains("refused"), "{e}");

    // The person 360° view: by golden id and by resident ID; masked for an analyst.
    let gid = clear["rows"][0]["gid"].as_str().unwrap().to_string();
    let id = clear["rows"][0]["id_number"].as_str().unwrap().to_string();
    let (st, b) = call(a, "GET", &format!("/api/persons/{id}"), Some(&cw), None);
    assert_eq!(st, 200, "{b}");
    let v = json(&b);
    assert_eq!(v["person"]["gid"], gid.as_str());
    assert_eq!(v["person"]["id_number"], id.as_str());
    assert!(!v["mentions"].as_array().unwrap().is_empty(), "{b}");
    assert!(
        v["mentions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["gid"] == gid.as_str())
    );
    let (st, b) = call(a, "GET", &format!("/api/persons/{gid}"), Some(&ana), None);
    assert_eq!(st, 200, "{b}");
    assert!(
        json(&b)["person"]["id_number"]
            .as_str()
            .unwrap()
            .contains('*'),
        "{b}"
    );
    let (st, b) = call(a, "GET", &format!("/api/persons/{id}"), Some(&ana), None);
    assert_eq!(
        st, 404,
        "masking cannot be undone by looking up the original: {b}"
    );

    // Catalog.
    let (st, b) = call(
        a,
        "GET",
        &format!("/api/catalog/search?q={}", enc("低保")),
        Some(&ana),
        None,
    );
    assert_eq!(st, 200, "{b}");
    let hits = json(&b)["hits"].as_array().unwrap().clone();
    assert!(
        hits.iter()
            .any(|h| h["dataset"] == "civil_affairs.dibao_member" && h["readable"] == false),
        "{hits:?}"
    );
    let (st, b) = call(
        a,
        "GET",
        "/api/catalog/datasets/population.person",
        Some(&ana),
        None,
    );
    assert_eq!(st, 200, "{b}");
    assert_eq!(json(&b)["readable"], true);
    let (st, _) = call(a, "GET", "/api/catalog/datasets/no_such", Some(&ana), None);
    assert_eq!(st, 404);

    // The 老年证 pre-fill: name + registration place.
    let (_, holder) = sql(
        a,
        &cw,
        "SELECT p.gid, p.name, h.district FROM civil_affairs.elderly_card e JOIN population.person p ON p.gid = e.person_gid JOIN population.household_member h ON h.person_gid = p.gid WHERE e.photo_ref IS NOT NULL ORDER BY p.gid LIMIT 1",
    );
    let h = &holder["rows"][0];
    let path = format!(
        "/api/prefill/elderly-card?name={}&birthplace={}",
        enc(h["name"].as_str().unwrap()),
        enc(h["district"].as_str().unwrap())
    );
    let (st, b) = call(a, "GET", &path, Some(&cw), None);
    assert_eq!(st, 200, "{b}");
    let m = prefill_match(&b, &h["gid"]);
    assert!(m["age"].as_u64().unwrap() >= 50, "{m}");
    assert!(
        m["gender"].is_string() && m["address"].is_string() && m["photo_ref"].is_string(),
        "{m}"
    );
    // A caseworker is cleared for the card's photo reference (access/policy.toml).
    let (_, photo) = sql(
        a,
        &cw,
        &format!(
            "SELECT photo_ref FROM civil_affairs.elderly_card WHERE person_gid = '{}' AND photo_ref IS NOT NULL",
            h["gid"].as_str().unwrap()
        ),
    );
    let clear_photo = photo["rows"][0]["photo_ref"].as_str().unwrap().to_string();
    assert!(!clear_photo.contains('*'), "{photo}");
    assert_eq!(m["photo_ref"], clear_photo.as_str(), "{m}");
    assert_eq!(m["name"], h["name"], "{m}");
    // An analyst, who sees names masked, is matched on the real name inside
    // the server, and gets the same person back masked for the role.
    let (st, b) = call(a, "GET", &path, Some(&ana), None);
    assert_eq!(
        st, 200,
        "the pre-fill matches real values for every role: {b}"
    );
    let m = prefill_match(&b, &h["gid"]);
    let masked_name = m["name"].as_str().unwrap();
    assert!(
        masked_name.contains('*') && masked_name != h["name"].as_str().unwrap(),
        "{m}"
    );
    assert!(m["address"].as_str().is_none_or(|s| s.contains('*')), "{m}");
    assert!(m["age"].is_null() && m["birth_date"].is_null(), "{m}");
    assert!(
        m["photo_ref"]
            .as_str()
            .is_none_or(|p| p.contains('*') && p != clear_photo),
        "{m}"
    );
    assert_eq!(
        json(&b)["masked_columns"]["population.person"]["name"],
        "name",
        "{b}"
    );
    let (st, b) = call(
        a,
        "GET",
        &format!(
            "/api/prefill/elderly-card?name={}&birthplace={}",
            enc(masked_name),
            enc(h["district"].as_str().unwrap())
        ),
        Some(&ana),
        None,
    );
    assert_eq!(st, 404, "a mask is not a name: {b}");

    // A check: run by a caseworker, refused for an analyst; its findings.
    let (st, e) = call(a, "POST", "/api/checks/dibao/run", Some(&ana), None);
    assert_eq!(st, 403, "{e}");
    let (st, b) = call(a, "POST", "/api/checks/dibao/run", Some(&cw), None);
    assert_eq!(st, 200, "{b}");
    let run = json(&b);
    let n = run["findings"].as_u64().unwrap();
    assert!(n > 0, "{b}");
    let (st, b) = call(a, "GET", "/api/checks/dibao/findings", Some(&cw), None);
    assert_eq!(st, 200, "{b}");
    let f = json(&b);
    assert_eq!(f["row_count"].as_u64().unwrap(), n);
    let household = f["findings"][0]["household_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (st, b) = call(
        a,
        "GET",
        &format!("/api/checks/dibao/findings?household={}", enc(&household)),
        Some(&cw),
        None,
    );
    assert_eq!(st, 200, "{b}");
    let one = json(&b);
    assert!(one["row_count"].as_u64().unwrap() >= 1);
    assert!(
        one["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["household_id"] == household.as_str())
    );
    let (st, _) = call(a, "GET", "/api/checks/dibao/findings", Some(&ana), None);
    assert_eq!(st, 403);

    // 32 clients for a bounded time: no error, every answer the single client's.
    let mix: Vec<(String, Option<Value>)> = vec![
        (
            "/api/sql".into(),
            Some(
                json!({"sql": "SELECT gender, count(*) AS n FROM population.person GROUP BY gender ORDER BY gender"}),
            ),
        ),
        (
            "/api/sql".into(),
            Some(
                json!({"sql": format!("SELECT gid, name, address FROM population.person WHERE gid = '{gid}'")}),
            ),
        ),
        (format!("/api/persons/{gid}"), None),
    ];
    let tokens = [ana.clone(), cw.clone()];
    let expected: Vec<Vec<String>> = tokens
        .iter()
        .map(|t| {
            mix.iter()
                .map(|(p, body)| {
                    let (st, b) = call(
                        a,
                        if body.is_some() { "POST" } else { "GET" },
                        p,
                        Some(t),
                        body.as_ref(),
                    );
                    assert_eq!(st, 200, "{b}");
                    b
                })
                .collect()
        })
        .collect();
    let until = Instant::now() + Duration::from_secs(5);
    let made: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..32)
            .map(|i| {
                let (mix, tokens, expected) = (&mix, &tokens, &expected);
                s.spawn(move || {
                    let mut n = 0;
                    while Instant::now() < until {
                        let u = (i + n) % 2;
                        let k = (i + n) % mix.len();
                        let (p, body) = &mix[k];
                        let (st, b) = call(
                            a,
                            if body.is_some() { "POST" } else { "GET" },
                            p,
                            Some(&tokens[u]),
                            body.as_ref(),
                        );
                        assert_eq!(st, 200, "client {i}: {b}");
                        assert_eq!(b, expected[u][k], "client {i}, request {k}");
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert!(made >= 32, "each client made at least one request: {made}");

    // An auditor finds every one of them.
    let (st, v) = sql(
        a,
        &aud,
        "SELECT user, action, allowed, count(*) AS n FROM audit.log WHERE interface = 'http' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
    );
    assert_eq!(st, 200, "{v}");
    let rows = v["rows"].as_array().unwrap();
    let allowed: u64 = rows
        .iter()
        .filter(|r| {
            (r["user"] == "ana" || r["user"] == "cw")
                && r["allowed"] == true
                && r["action"] != "login"
        })
        .map(|r| r["n"].as_u64().unwrap())
        .sum();
    assert!(
        allowed >= made as u64,
        "{allowed} audited < {made} made: {rows:?}"
    );
    assert!(
        rows.iter()
            .any(|r| r["user"] == "ana" && r["action"] == "query" && r["allowed"] == false)
    );
    assert!(
        rows.iter()
            .any(|r| r["user"] == "cw" && r["action"] == "check" && r["allowed"] == true)
    );
    assert!(
        rows.iter()
            .any(|r| r["user"] == "ana" && r["action"] == "lookup" && r["allowed"] == true)
    );
    let (st, v) = sql(
        a,
        &aud,
        "SELECT statement, tables FROM audit.log WHERE interface = 'http' AND user = 'ana' AND statement LIKE 'prefill%' AND allowed",
    );
    assert_eq!(st, 200, "{v}");
    assert!(
        v["rows"][0]["tables"]
            .to_string()
            .contains("population.person"),
        "the pre-fill is audited with the tables it read: {v}"
    );
    assert!(
        rows.iter()
            .any(|r| r["user"] == "ana" && r["action"] == "check" && r["allowed"] == false)
    );
    assert!(
        rows.iter()
            .any(|r| r["action"] == "login" && r["allowed"] == false)
    );
    let (st, _) = sql(a, &ana, "SELECT count(*) FROM audit.log");
    assert_eq!(st, 403);
    // Requests without a live token (401) are audited as refused: user `-`,
    // action `request`, the method and path (never the body).
    let (st, v) = sql(
        a,
        &aud,
        "SELECT user, statement, message FROM audit.log WHERE interface = 'http' AND action = 'request' AND NOT allowed ORDER BY at",
    );
    assert_eq!(st, 200, "{v}");
    let refused: Vec<String> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r["user"], "-", "{r}");
            assert!(
                r["message"]
                    .as_str()
                    .unwrap()
                    .contains("authentication required"),
                "{r}"
            );
            r["statement"].as_str().unwrap().to_string()
        })
        .collect();
    for expected in [
        "POST /api/sql",
        "GET /api/persons/P1",
        "GET /api/catalog/search?q=x",
        "GET /nothing",
    ] {
        assert!(
            refused.iter().filter(|s| *s == expected).count() >= 1,
            "{expected}: {refused:?}"
        );
    }
    // The token-less SQL request and the one with a bad token: both.
    assert!(
        refused.iter().filter(|s| *s == "POST /api/sql").count() >= 2,
        "{refused:?}"
    );
    let audited = |token: &str, addr: &str| {
        let (st, v) = sql(
            addr,
            token,
            "SELECT count(*) AS n FROM audit.log WHERE interface = 'http' AND user = 'ana'",
        );
        assert_eq!(st, 200, "{v}");
        v["rows"][0]["n"].as_u64().unwrap()
    };
    let before = audited(&aud, a);
    assert!(before > 0);

    assert_eq!(server.stop(), 0, "a graceful stop on SIGTERM");

    // The audit log survives a restart: what was written before is there.
    let server = Server::start(dir);
    let a = server.http.clone();
    let aud = login(&a, "aud", "auditor-pass");
    assert_eq!(audited(&aud, &a), before, "ana's entries after a restart");
    assert_eq!(server.stop(), 0);
}

/// The limits of `access/policy.toml` `[limits]`, made tiny: each one
/// exceeded gets its own clear answer — 503 for more requests in flight
/// than `max-connections` (at once, not queued), 413 for more rows than
/// `max-rows`, 408 for a query longer than `timeout-seconds` (which is
/// stopped, so the server serves the next request).
#[test]
fn http_limits_are_answered_clearly() {
    let project = published_project();
    let dir = project.path();
    add_user(dir, "cw", "civil_affairs", "caseworker", "casework-pass");
    let policy = dir.join("access/policy.toml");
    let text = std::fs::read_to_string(&policy).unwrap();
    let (head, _) = text.split_once("[limits]").expect("a [limits] section");
    std::fs::write(
        &policy,
        format!(
            "{head}[limits]\nmax-rows = 5\ntimeout-seconds = 2\nmax-connections = 1\nrunning-queries = 1\n"
        ),
    )
    .unwrap();
    let server = Server::start(dir);
    let a = server.http.clone();
    let a = a.as_str();
    let cw = login(a, "cw", "casework-pass");

    let (st, e) = sql(a, &cw, "SELECT * FROM generate_series(1, 10)");
    assert_eq!(st, 413, "{e}");
    assert!(e["error"].as_str().unwrap().contains("max-rows"), "{e}");
    let (st, e) = sql(a, &cw, "SELECT * FROM generate_series(1, 5)");
    assert_eq!(st, 200, "{e}");

    // One slow query holds the only request slot; a second request meanwhile
    // is turned away at once; the slow one is stopped at its time limit.
    let slow = "SELECT max(value % 7) AS m FROM generate_series(1, 100000000000)";
    let t0 = Instant::now();
    let mut attempt = 0;
    let (timed_out, busy) = loop {
        attempt += 1;
        let (held, busy) = std::thread::scope(|s| {
            let held = s.spawn(|| sql(a, &cw, slow));
            let mut busy = None;
            // Probe, every 100 ms, for as long as the slow query is in
            // flight (until its 2 s limit), however late it got its slot.
            while !held.is_finished() {
                std::thread::sleep(Duration::from_millis(100));
                let (st, b) = call(
                    a,
                    "POST",
                    "/api/sql",
                    Some(&cw),
                    Some(&json!({"sql": "SELECT 1"})),
                );
                if st == 503 {
                    busy = Some(json(&b));
                    break;
                }
            }
            (held.join().unwrap(), busy)
        });
        // A probe in flight when the slow query arrived took the slot from
        // it (503 for the slow one): try again.
        if held.0 != 503 || attempt == 5 {
            break (held, busy);
        }
    };
    let busy = busy.expect("a request while the slot is held gets 503");
    assert!(
        busy["error"].as_str().unwrap().contains("max-connections"),
        "{busy}"
    );
    assert_eq!(busy["hint"], "retry in a moment", "{busy}");
    // Turned away, and audited as such under the token's user.
    let log = std::fs::read_to_string(dir.join("warehouse/audit/audit.jsonl")).unwrap();
    let refused: Vec<serde_json::Value> = log
        .lines()
        .map(json)
        .filter(|e| {
            e["message"]
                .as_str()
                .is_some_and(|m| m.contains("max-connections"))
        })
        .collect();
    assert!(!refused.is_empty(), "no audit entry for the 503 in {log}");
    for e in &refused {
        assert_eq!(e["user"], "cw", "{e}");
        assert_eq!(e["action"], "request", "{e}");
        assert_eq!(e["statement"], "POST /api/sql", "{e}");
        assert_eq!(e["allowed"], false, "{e}");
    }
    let (st, e) = timed_out;
    assert_eq!(st, 408, "{e}");
    assert!(
        e["error"].as_str().unwrap().contains("timeout-seconds"),
        "{e}"
    );
    assert!(
        t0.elapsed() < Duration::from_secs(30),
        "the slow query was stopped at its limit"
    );
    let (st, e) = sql(a, &cw, "SELECT count(*) AS n FROM population.person");
    assert_eq!(st, 200, "served again once the slot is free: {e}");
    assert_eq!(server.stop(), 0);
}

/// The pre-fill answer's match for golden id `gid` (the answer in the panic
/// message when there is none).
fn prefill_match(body: &str, gid: &serde_json::Value) -> serde_json::Value {
    json(body)["matches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| &m["gid"] == gid)
        .cloned()
        .unwrap_or_else(|| panic!("{body}"))
}
