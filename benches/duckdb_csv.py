#!/usr/bin/env python3
"""DuckDB's plain CSV -> Parquet conversion of a civhub project's CSV exports.

    python3 benches/duckdb_csv.py DIR [--utf8-dir D] [--out D] [--threads N]

The baseline of benches/ingest.sh: for every file matched by the project's
`format = "csv"` pipelines (benches/csv_pipelines.py), one

    COPY (SELECT * FROM read_csv(file, all_varchar = true, header = true,
                                 skip = <header-row - 1>, delim = <delimiter>,
                                 null_padding = true))
      TO '<out>/<n>.parquet' (FORMAT parquet, COMPRESSION zstd)

(`null_padding` because without it DuckDB's sniffer rejects the files that end
in short footer rows such as `合计,` and `制表人：…`.)

DuckDB reads UTF-8 only, so GBK / GB18030 files (and `auto` files that are not
valid UTF-8) are first transcoded to UTF-8 into --utf8-dir. That happens
*before* the timed section and is reused by later runs (same --utf8-dir).
Only the COPY statements are timed. Nothing is normalized or validated: every
cell stays text; footer rows (合计 …) become data rows; a row DuckDB cannot
parse makes its file fail (reported, not hidden).

Prints one JSON document: wall_s (the timed section), rows, files,
input_bytes (the original files, as civhub reads them), utf8_bytes (what
DuckDB read), transcoded files and seconds, failed files with DuckDB's error.
"""

import argparse
import codecs
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import csv_pipelines  # noqa: E402

import duckdb  # noqa: E402


def is_utf8(path):
    dec = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                dec.decode(chunk)
        dec.decode(b"", final=True)
        return True
    except UnicodeDecodeError:
        return False


def transcode(src, dst, encoding):
    """Streams `src` (GB18030, a superset of GBK) into UTF-8 `dst`."""
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    tmp = dst + ".tmp"
    with open(src, "r", encoding=encoding, errors="replace", newline="") as fi, open(
        tmp, "w", encoding="utf-8", newline=""
    ) as fo:
        while chunk := fi.read(1 << 20):
            fo.write(chunk)
    os.replace(tmp, dst)


def prepare(files, utf8_dir):
    """Gives every file the UTF-8 path DuckDB reads; transcodes where needed."""
    n, t0 = 0, time.perf_counter()
    for f in files:
        enc = f["encoding"]
        needs = enc in ("gbk", "gb18030") or (enc == "auto" and not is_utf8(f["path"]))
        if not needs:
            f["utf8_path"] = f["path"]
            continue
        dst = os.path.join(utf8_dir, f["rel"])
        if not (os.path.exists(dst) and os.path.getmtime(dst) >= os.path.getmtime(f["path"])):
            transcode(f["path"], dst, "gb18030")
            n += 1
        f["utf8_path"] = dst
        f["transcoded"] = True
    return n, time.perf_counter() - t0


def sql_str(s):
    return "'" + s.replace("'", "''") + "'"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("project")
    ap.add_argument("--utf8-dir", help="where transcoded files go (default: a temp folder, removed at exit)")
    ap.add_argument("--out", help="Parquet output folder (default: a temp folder, removed at exit)")
    ap.add_argument("--threads", type=int, default=0, help="DuckDB threads (0: DuckDB's default, one per core)")
    ap.add_argument("--prepare-only", action="store_true", help="only transcode into --utf8-dir, convert nothing")
    a = ap.parse_args()
    if a.prepare_only and not a.utf8_dir:
        ap.error("--prepare-only needs --utf8-dir")

    files = csv_pipelines.files(a.project)
    cleanup = []
    utf8_dir = a.utf8_dir or tempfile.mkdtemp(prefix="duckdb_utf8_")
    if not a.utf8_dir:
        cleanup.append(utf8_dir)
    out = a.out or tempfile.mkdtemp(prefix="duckdb_parquet_")
    if not a.out:
        cleanup.append(out)
    os.makedirs(out, exist_ok=True)

    transcoded, transcode_s = prepare(files, utf8_dir)
    if a.prepare_only:
        for d in cleanup:
            shutil.rmtree(d, ignore_errors=True)
        json.dump(
            {
                "files": len(files),
                "transcoded_files": sum(1 for f in files if f.get("transcoded")),
                "transcoded_now": transcoded,
                "transcode_s": transcode_s,
                "input_bytes": sum(f["bytes"] for f in files),
                "utf8_bytes": sum(os.path.getsize(f["utf8_path"]) for f in files),
            },
            sys.stdout,
            indent=1,
        )
        print()
        return

    con = duckdb.connect()
    if a.threads:
        con.execute(f"SET threads = {a.threads}").fetchall()
    threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]

    rows, failed = 0, []
    t0 = time.perf_counter()
    for i, f in enumerate(files):
        delim = f["delimiter"]
        q = (
            f"COPY (SELECT * FROM read_csv({sql_str(f['utf8_path'])}, all_varchar = true, header = true, "
            f"skip = {f['header_row'] - 1}, delim = {sql_str(delim)}, null_padding = true)) "
            f"TO {sql_str(os.path.join(out, f'{i:05d}.parquet'))} (FORMAT parquet, COMPRESSION zstd)"
        )
        try:
            r = con.execute(q).fetchall()[0]
            rows += int(r[0]) if r else 0
        except duckdb.Error as e:
            failed.append({"file": f["rel"], "pipeline": f["pipeline"], "error": str(e).splitlines()[0]})
    wall = time.perf_counter() - t0

    report = {
        "tool": "duckdb",
        "duckdb_version": duckdb.__version__,
        "threads": threads,
        "wall_s": wall,
        "files": len(files),
        "files_failed": len(failed),
        "rows": rows,
        "input_bytes": sum(f["bytes"] for f in files),
        "utf8_bytes": sum(os.path.getsize(f["utf8_path"]) for f in files),
        "transcoded_files": sum(1 for f in files if f.get("transcoded")),
        "transcoded_now": transcoded,
        "transcode_s": transcode_s,
        "output_bytes": sum(os.path.getsize(os.path.join(out, x)) for x in os.listdir(out)),
        "failed": failed,
    }
    for d in cleanup:
        shutil.rmtree(d, ignore_errors=True)
    json.dump(report, sys.stdout, ensure_ascii=False, indent=1)
    print()


if __name__ == "__main__":
    main()
