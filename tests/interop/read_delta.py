#!/usr/bin/env python3
"""Interop: other engines read civhub's published tables without civhub.

Given a warehouse that `civhub run` (or `civhub publish`) filled, opens a few
published Delta tables with the Python `deltalake` package (delta-rs) and with
DuckDB, at the Delta version the current release pins, and compares row
counts and a sample of values with what `civhub sql --format json` returns.
Exits non-zero on any mismatch.

DuckDB reads the table with its `delta` extension (`delta_scan`) when that
can be loaded; offline it cannot be downloaded, so DuckDB then queries the
Arrow data that `deltalake` read (deltalake -> pyarrow -> duckdb). Either way
the query runs in DuckDB.

    python3 tests/interop/read_delta.py WAREHOUSE [--civhub BIN] [--project DIR]

Needs: deltalake, duckdb, pyarrow (.ci/run installs the versions it pins).
"""

import argparse
import datetime
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow  # noqa: F401  (deltalake's to_pyarrow_* need it)
from deltalake import DeltaTable

REPO = Path(__file__).resolve().parents[2]

# table -> (columns compared, unique sort key)
TABLES = {
    "population.person": (
        ["gid", "id_number", "name", "gender", "birth_date", "mention_count", "linked_by"],
        ["gid"],
    ),
    "civil_affairs.dibao_member": (
        ["household_id", "id_number", "name", "relation", "is_head", "person_gid", "_source_row"],
        ["_source_file", "_source_row"],
    ),
    "legal.entity": (
        ["gid", "uscc", "name", "legal_rep", "source_count"],
        ["gid"],
    ),
}
SAMPLE = 5


def civhub_sql(args, query):
    """Rows of `civhub sql --format json QUERY`, as dicts."""
    cmd = [
        args.civhub,
        "--project", str(args.project),
        "--warehouse", str(args.warehouse),
        "sql", "--format", "json", query,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        sys.exit(f"civhub sql failed ({out.returncode}): {query}\n{out.stderr}")
    return json.loads(out.stdout) if out.stdout.strip() else []


def plain(value):
    """A value as civhub's JSON writes it (dates as YYYY-MM-DD)."""
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def duckdb_rows(con, relation, columns, key, limit=None):
    cols = ", ".join(f'"{c}"' for c in columns)
    order = ", ".join(f'"{k}"' for k in key)
    sql = f"SELECT {cols} FROM {relation} ORDER BY {order}"
    if limit:
        sql += f" LIMIT {limit}"
    return [dict(zip(columns, map(plain, r))) for r in con.execute(sql).fetchall()]


def delta_extension(con):
    """Whether DuckDB's delta extension loads (it is downloaded on first use)."""
    try:
        con.execute("INSTALL delta")
        con.execute("LOAD delta")
        return True
    except duckdb.Error as e:
        print(f"duckdb: delta extension unavailable ({str(e).splitlines()[0]}); "
              "reading through deltalake -> pyarrow instead")
        return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("warehouse", type=Path)
    ap.add_argument("--civhub", default=str(REPO / "target" / "debug" / "civhub"))
    ap.add_argument("--project", type=Path, default=REPO)
    args = ap.parse_args()

    current = args.warehouse / "published" / "_releases" / "current.json"
    release = json.loads(current.read_text(encoding="utf-8"))
    print(f"release {release['number']} ({release['published_at']})")

    con = duckdb.connect()
    has_delta = delta_extension(con)
    problems = []
    failed = set()
    for name, (columns, key) in TABLES.items():
        pinned = release["tables"][name]
        path = args.warehouse / "published" / pinned["path"]
        version = pinned["version"]

        # deltalake (delta-rs), at the pinned version.
        dt = DeltaTable(str(path), version=version)
        arrow = dt.to_pyarrow_table()
        delta_count = arrow.num_rows

        # DuckDB: delta_scan reads the newest version, so it is only used
        # when that is the pinned one.
        latest = DeltaTable(str(path)).version()
        if has_delta and latest == version:
            relation, how = f"delta_scan('{path}')", "delta_scan"
        else:
            con.register("delta_arrow", arrow)
            relation, how = "delta_arrow", "arrow"
        duck_count = con.execute(f"SELECT count(*) FROM {relation}").fetchall()[0][0]
        duck_sample = duckdb_rows(con, relation, columns, key, SAMPLE)
        duck_keys = [tuple(r.values()) for r in duckdb_rows(con, relation, key, key)]

        # civhub's own SQL.
        cols = ", ".join(columns)
        order = ", ".join(key)
        civhub_count = civhub_sql(args, f"SELECT count(*) AS n FROM {name}")[0]["n"]
        civhub_sample = civhub_sql(
            args, f"SELECT {cols} FROM {name} ORDER BY {order} LIMIT {SAMPLE}")
        civhub_keys = [tuple(r.get(k) for k in key) for r in civhub_sql(
            args, f"SELECT {', '.join(key)} FROM {name} ORDER BY {order}")]
        # civhub's JSON leaves out nulls; compare with every column present.
        civhub_sample = [{c: r.get(c) for c in columns} for r in civhub_sample]

        ok = True
        if not (civhub_count == delta_count == duck_count == pinned["rows"]):
            ok = False
            problems.append(
                f"{name}: rows differ: civhub {civhub_count}, deltalake {delta_count}, "
                f"duckdb {duck_count}, release {pinned['rows']}")
        if civhub_sample != duck_sample:
            ok = False
            problems.append(f"{name}: sample differs:\n  civhub {civhub_sample}\n  duckdb {duck_sample}")
        if civhub_keys != duck_keys:
            ok = False
            problems.append(f"{name}: the keys ({order}) differ between civhub and duckdb")
        if not ok:
            failed.add(name)
        print(f"{name} (Delta version {version}, duckdb via {how}): "
              f"{civhub_count} rows in civhub, {delta_count} in deltalake, {duck_count} in duckdb; "
              f"{len(duck_sample)} sample rows and {len(duck_keys)} keys ({order}) "
              f"{'equal' if ok else 'MISMATCH (below)'}")

    if problems:
        print("\n".join(problems), file=sys.stderr)
    # One line per table above; the closing line counts tables.
    print(f"interop: {len(TABLES) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
