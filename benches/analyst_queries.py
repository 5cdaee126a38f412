#!/usr/bin/env python3
"""Analyst queries over a published warehouse: civhub vs DuckDB (issue 4 benchmark).

    python3 benches/analyst_queries.py PROJECT [--civhub BIN] [--repeat 3]

Each query runs in civhub (`civhub sql --format csv`, one process per run;
the cost of a process that only opens the release, `SELECT 1`, is measured
and subtracted as `startup`) and in DuckDB over the very Parquet files of
the same Delta table versions (the release's `current.json` pins them; the
deltalake package lists each version's files). Best of --repeat runs.
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
        """One process running `statements` (stdin, `;`-separated) in one session."""
        t0 = time.perf_counter()
        subprocess.run([a.civhub, "--project", str(a.project), "sql", "--format", "csv"],
                       input=";\n".join(statements).encode(), check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - t0

    # Per query: (one process running it --repeat times - one running SELECT 1) / repeat,
    # so process start and opening the release are not counted.
    startup = min(civhub(["SELECT 1"]) for _ in range(2))
    print(f"civhub process + release open (SELECT 1): {startup:.3f} s\n")
    print("| query | civhub (s) | DuckDB (s) | ratio |")
    print("|---|---:|---:|---:|")
    for name, q in QUERIES.items():
        c = max(civhub([q] * a.repeat) - startup, 0.0) / a.repeat
        d = timed(lambda: con.execute(duck_sql(q)).fetchall(), a.repeat)
        print(f"| {name} | {c:.3f} | {d:.3f} | {c / d if d > 0 else float('nan'):.2f}× |")


if __name__ == "__main__":
    main()
