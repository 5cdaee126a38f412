#!/usr/bin/env python3
"""Analyst queries over a published warehouse: civhub vs DuckDB (issue 4 benchmark).

    python3 benches/analyst_queries.py PROJECT [--civhub BIN] [--repeat 3]

Each query runs --repeat times in one civhub process (`civhub sql --format
csv --timing`: the time to plan, run and collect each statement, as psql's
\timing reports it, without process start or opening the release) and
--repeat times in one DuckDB connection over the very Parquet files of the
same Delta table versions (the release's `current.json` pins them; the
deltalake package lists each version's files). Best of --repeat runs on
both sides.
Prints a Markdown table and writes it to stdout only; nothing is asserted.
"""

import argparse
import json
import subprocess
import time
from pathlib import Path

QUERIES = {
    "persons by district and age band": (
        "SELECT h.district, CAST(floor(date_part('year', DATE '2026-11-25') - date_part('year', p.birth_date)) / 10 AS INT) * 10 AS age_band, count(*) AS n "
        "FROM population.person p JOIN population.household_member h ON h.person_gid = p.gid "
        "GROUP BY 1, 2 ORDER BY 1, 2"
    ),
    "persons with property and vehicle": (
        "SELECT count(DISTINCT p.gid) AS n FROM population.person p "
        "JOIN natural_resources.property r ON r.person_gid = p.gid "
        "JOIN public_security.vehicle v ON v.person_gid = p.gid"
    ),
    "floor area by district": (
        "SELECT district, count(*) AS units, sum(floor_area) AS area FROM natural_resources.property GROUP BY 1 ORDER BY 1"
    ),
    "person point lookup by golden id": (
        "SELECT * FROM population.person WHERE gid = (SELECT min(gid) FROM population.person)"
    ),
    "catalog lookup": (
        "SELECT d.dataset, d.title, d.sharing_type, count(c.column_name) AS fields FROM catalog.datasets d "
        "JOIN catalog.columns c ON c.dataset = d.dataset WHERE d.title LIKE '%低保%' GROUP BY 1, 2, 3 ORDER BY 1"
    ),
}


def duck_sql(q):
    """The same SQL for DuckDB: schema.table becomes a view name."""
    return q.replace("population.", "population_").replace("natural_resources.", "natural_resources_") \
        .replace("public_security.", "public_security_").replace("catalog.", "catalog_")


def timed(f, repeat):
    best = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("project", type=Path)
    ap.add_argument("--civhub", default="target/release/civhub")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    import duckdb
    from deltalake import DeltaTable

    warehouse = a.project / "warehouse"
    release = json.loads((warehouse / "published" / "_releases" / "current.json").read_text())
    con = duckdb.connect()
    tables = set()
    for q in QUERIES.values():
        for word in q.replace("(", " ").replace(")", " ").split():
            if "." in word and word.split(".")[0] in ("population", "natural_resources", "public_security", "catalog"):
                tables.add(word.rstrip(","))
    for t in sorted(tables):
        rt = release["tables"][t]
        dt = DeltaTable(str(warehouse / "published" / rt["path"]), version=rt["version"])
        files = dt.file_uris()
        con.execute(f"CREATE VIEW {t.replace('.', '_')} AS SELECT * FROM read_parquet({files!r})")

    def civhub(statements):
        """One process running `statements` in one session; each one's time (s)."""
        r = subprocess.run([a.civhub, "--project", str(a.project), "sql", "--format", "csv", "--timing"],
                           input=";\n".join(statements).encode(), check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        times = [float(line.split()[1]) / 1000.0 for line in r.stderr.decode().splitlines()
                 if line.startswith("Time: ")]
        if len(times) != len(statements):
            raise SystemExit(f"expected {len(statements)} timings from civhub sql, got: {r.stderr.decode()}")
        return times

    print("| query | civhub (s) | DuckDB (s) | ratio |")
    print("|---|---:|---:|---:|")
    for name, q in QUERIES.items():
        c = min(civhub([q] * a.repeat))
        d = timed(lambda: con.execute(duck_sql(q)).fetchall(), a.repeat)
        print(f"| {name} | {c:.3f} | {d:.3f} | {c / d if d > 0 else float('nan'):.2f}× |")


if __name__ == "__main__":
    main()
