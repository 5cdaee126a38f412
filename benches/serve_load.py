#!/usr/bin/env python3
"""Load test of `civhub serve`'s HTTP API: queries per second and latency
percentiles for a mix of point lookups and an aggregation, at several
client counts. Python threads + http.client (standard library only).

    # start a server itself over a published project (adds a caseworker):
    python3 benches/serve_load.py --civhub target/release/civhub --project DIR
    # or against a running server and an existing user:
    python3 benches/serve_load.py --url http://127.0.0.1:8080 --user cw --password ...

The mix, per request: 45% person by resident ID through /api/sql, 45% the
person 360 view /api/persons/{gid} (golden record + mentions: two queries),
10% an analyst aggregation (persons per district and gender). Each client
keeps one HTTP/1.1 connection. Not a test: prints a Markdown table.
"""

import argparse
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.parse

AGGREGATION = (
    "SELECT h.district, p.gender, count(*) AS n FROM population.person p "
    "JOIN population.household_member h ON h.person_gid = p.gid "
    "GROUP BY 1, 2 ORDER BY 1, 2"
)


class Client:
    def __init__(self, base, token=None):
        u = urllib.parse.urlparse(base)
        self.host, self.port = u.hostname, u.port
        self.token = token
        self.conn = None

    def call(self, method, path, body=None):
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        data = json.dumps(body).encode() if body is not None else None
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
            try:
                self.conn.request(method, path, body=data, headers=headers)
                r = self.conn.getresponse()
                return r.status, r.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise


def login(base, user, password):
    st, b = Client(base).call("POST", "/api/token", {"name": user, "password": password})
    if st != 200:
        sys.exit(f"login failed: {st} {b!r}")
    return json.loads(b)["token"]


def sample(base, token, n):
    c = Client(base, token)
    q = f"SELECT gid, id_number FROM population.person WHERE id_number IS NOT NULL ORDER BY gid LIMIT {n}"
    st, b = c.call("POST", "/api/sql", {"sql": q})
    if st != 200:
        sys.exit(f"cannot sample persons: {st} {b!r}")
    return [(r["gid"], r["id_number"]) for r in json.loads(b)["rows"]]


def request(rng, people):
    gid, rid = rng.choice(people)
    x = rng.random()
    if x < 0.45:
        q = f"SELECT gid, name, gender, birth_date, address FROM population.person WHERE id_number = '{rid}'"
        return "sql-by-id", "POST", "/api/sql", {"sql": q}
    if x < 0.90:
        return "person-360", "GET", f"/api/persons/{gid}", None
    return "aggregation", "POST", "/api/sql", {"sql": AGGREGATION}


def run(base, token, people, clients, seconds):
    lat = {}
    errors = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def worker(i):
        rng = random.Random(i)
        c = Client(base, token)
        mine = {}
        start.wait()
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            kind, m, p, b = request(rng, people)
            t0 = time.perf_counter()
            st, body = c.call(m, p, b)
            dt = time.perf_counter() - t0
            if st != 200:
                with lock:
                    errors.append((st, body[:200]))
            mine.setdefault(kind, []).append(dt)
        with lock:
            for k, v in mine.items():
                lat.setdefault(k, []).extend(v)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return lat, errors, time.perf_counter() - t0


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] * 1000


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url")
    ap.add_argument("--user", default="bench")
    ap.add_argument("--password", default="bench-password")
    ap.add_argument("--civhub", default="target/release/civhub")
    ap.add_argument("--project", help="start `civhub serve` over this published project")
    ap.add_argument("--clients", default="1,8,32")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--people", type=int, default=200)
    a = ap.parse_args()

    server = None
    if a.project:
        add = subprocess.run(
            [a.civhub, "--project", a.project, "user", "add", a.user, "--department", "civil_affairs", "--role", "caseworker"],
            input=a.password + "\n", text=True, capture_output=True)
        if add.returncode:
            sys.exit(add.stderr)
        server = subprocess.Popen(
            [a.civhub, "--project", a.project, "serve", "--pg-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"],
            stdout=subprocess.PIPE, text=True)
        for line in server.stdout:
            if line.startswith("http"):
                a.url = line.split()[1]
                break
    if not a.url:
        sys.exit("give --url or --project")
    try:
        token = login(a.url, a.user, a.password)
        people = sample(a.url, token, a.people)
        run(a.url, token, people, 4, 2)  # warm up: sessions, caches
        print(f"server {a.url}, {len(people)} persons sampled, {a.seconds:g} s per level")
        print()
        print("| clients | requests | errors | req/s | p50 ms | p95 ms | p99 ms | sql-by-id p50 | person-360 p50 | aggregation p50 |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for n in [int(x) for x in a.clients.split(",")]:
            lat, errors, wall = run(a.url, token, people, n, a.seconds)
            all_ = [x for v in lat.values() for x in v]
            per = {k: f"{pct(v, 50):.1f}" if v else "-" for k, v in lat.items()}
            print(f"| {n} | {len(all_)} | {len(errors)} | {len(all_) / wall:.0f} | {pct(all_, 50):.1f} | "
                  f"{pct(all_, 95):.1f} | {pct(all_, 99):.1f} | {per.get('sql-by-id', '-')} | "
                  f"{per.get('person-360', '-')} | {per.get('aggregation', '-')} |", flush=True)
            for e in errors[:3]:
                print("  error:", e, file=sys.stderr)
    finally:
        if server:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)


if __name__ == "__main__":
    main()
