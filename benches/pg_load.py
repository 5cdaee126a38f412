#!/usr/bin/env python3
"""Load test of `civhub serve`'s PostgreSQL endpoint with psycopg: queries
per second and latency percentiles at several client counts.

    python3 benches/pg_load.py --civhub target/release/civhub --project DIR [--clients 1,8,32] [--seconds 8]

Starts `civhub serve` over the published project (adding a caseworker
`pgbench`), then each client thread keeps one connection and runs a mix:
90% a point lookup of a person by resident ID (a parameterized query: the
extended protocol), 10% an aggregation (persons per district and gender).
Not a test: prints a Markdown table. The last column is the server's CPU
time (user + system, from /proc on Linux) per query: unlike queries per
second it does not move with whatever else the machine runs, so it shows
whether more clients make each query dearer.
"""

import argparse
import os
import random
import signal
import subprocess
import sys
import threading
import time

import psycopg

LOOKUP = "SELECT gid, name, gender, birth_date FROM population.person WHERE id_number = %s"
AGGREGATION = (
    "SELECT h.district, p.gender, count(*) AS n FROM population.person p "
    "JOIN population.household_member h ON h.person_gid = p.gid GROUP BY 1, 2 ORDER BY 1, 2"
)


def cpu_seconds(pid):
    """User + system CPU seconds of a process so far (NaN off Linux)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))] if xs else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--civhub", default="target/release/civhub")
    ap.add_argument("--project", required=True)
    ap.add_argument("--clients", default="1,8,32")
    ap.add_argument("--seconds", type=float, default=8)
    a = ap.parse_args()
    user, password = "pgbench", "pgbench-password"
    add = subprocess.run([a.civhub, "--project", a.project, "user", "add", user, "--department",
                          "civil_affairs", "--role", "caseworker"], input=password + "\n", text=True,
                         capture_output=True)
    if add.returncode:
        sys.exit(add.stderr)
    server = subprocess.Popen([a.civhub, "--project", a.project, "serve", "--pg-addr", "127.0.0.1:0",
                               "--http-addr", "127.0.0.1:0"], stdout=subprocess.PIPE, text=True)
    url = None
    for line in server.stdout:
        if line.startswith("postgresql"):
            url = line.split()[1]
            break
    try:
        dsn = url.replace("postgresql://", f"postgresql://{user}:{password}@", 1) if "@" not in url else url
        with psycopg.connect(dsn) as c:
            ids = [r[0] for r in c.execute(
                "SELECT id_number FROM population.person WHERE id_number IS NOT NULL LIMIT 500").fetchall()]
        print(f"server {url}, {len(ids)} resident IDs sampled, {a.seconds:g} s per level\n")
        print("| clients | queries | errors | q/s | p50 ms | p95 ms | p99 ms | lookup p50 | aggregation p50 "
              "| server CPU ms/query |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for n in [int(x) for x in a.clients.split(",")]:
            lat = {"lookup": [], "aggregation": []}
            errors = []
            lock = threading.Lock()
            stop = time.perf_counter() + a.seconds

            def worker(i):
                rng = random.Random(i)
                try:
                    conn = psycopg.connect(dsn)
                except Exception as e:  # noqa: BLE001
                    with lock:
                        errors.append(str(e))
                    return
                with conn:
                    while time.perf_counter() < stop:
                        kind = "aggregation" if rng.random() < 0.1 else "lookup"
                        t0 = time.perf_counter()
                        try:
                            if kind == "lookup":
                                rows = conn.execute(LOOKUP, (rng.choice(ids),)).fetchall()
                                ok = len(rows) >= 1  # an ID can be on more than one golden record (contradictions)
                            else:
                                ok = len(conn.execute(AGGREGATION).fetchall()) > 0
                        except Exception as e:  # noqa: BLE001
                            ok = False
                            with lock:
                                errors.append(str(e))
                        dt = (time.perf_counter() - t0) * 1000
                        with lock:
                            if ok:
                                lat[kind].append(dt)
                            elif len(errors) < 100:
                                errors.append(f"wrong answer for {kind}")

            t0 = time.perf_counter()
            cpu0 = cpu_seconds(server.pid)
            threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - t0
            cpu = cpu_seconds(server.pid) - cpu0
            all_ = lat["lookup"] + lat["aggregation"]
            print(f"| {n} | {len(all_)} | {len(errors)} | {len(all_) / wall:.1f} | {pct(all_, 50):.1f} | "
                  f"{pct(all_, 95):.1f} | {pct(all_, 99):.1f} | {pct(lat['lookup'], 50):.1f} | "
                  f"{pct(lat['aggregation'], 50):.1f} | {cpu * 1000 / max(len(all_), 1):.1f} |", flush=True)
            for e in errors[:3]:
                print("  error:", e, file=sys.stderr)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)


if __name__ == "__main__":
    main()
