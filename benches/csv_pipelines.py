#!/usr/bin/env python3
"""The CSV pipelines of a civhub project, for the ingest benchmark.

    python3 benches/csv_pipelines.py DIR           # pipeline ids, one a line
    python3 benches/csv_pipelines.py DIR --files   # JSON: every matched file with its read options

A pipeline is `pipelines/<department>/<dataset>.toml` with a `[source]` table
(`_department.toml` and `pipelines/match/*.toml` have none); its id is
`<department>.<dataset>`. Only `[source] format = "csv"` pipelines are listed.
Files are matched as civhub does: the `path` glob relative to the project's
exports folder (`paths.exports` in civhub.toml).
"""

import glob
import json
import os
import sys
import tomllib


def project_paths(project):
    with open(os.path.join(project, "civhub.toml"), "rb") as f:
        conf = tomllib.load(f)
    paths = conf.get("paths", {})
    return (
        os.path.join(project, paths.get("pipelines", "pipelines")),
        os.path.join(project, paths.get("exports", "exports")),
    )


def pipelines(project, formats=("csv",)):
    """[(id, source table)] of the pipelines whose format is in `formats` (None: all)."""
    pdir, _ = project_paths(project)
    out = []
    for path in sorted(glob.glob(os.path.join(pdir, "**", "*.toml"), recursive=True)):
        with open(path, "rb") as f:
            d = tomllib.load(f)
        src = d.get("source")
        if not isinstance(src, dict) or "format" not in src:
            continue
        if formats is not None and src["format"] not in formats:
            continue
        rel = os.path.relpath(path, pdir)
        department = os.path.dirname(rel).replace(os.sep, ".")
        dataset = os.path.splitext(os.path.basename(rel))[0]
        out.append((f"{department}.{dataset}", src))
    return out


def files(project, formats=("csv",)):
    """Every file matched by the pipelines, with what a reader needs to know."""
    _, edir = project_paths(project)
    out = []
    for pid, src in pipelines(project, formats):
        for f in sorted(glob.glob(os.path.join(edir, src["path"]), recursive=True)):
            if not os.path.isfile(f):
                continue
            out.append(
                {
                    "pipeline": pid,
                    "path": f,
                    "rel": os.path.relpath(f, edir),
                    "bytes": os.path.getsize(f),
                    "format": src["format"],
                    "encoding": src.get("encoding", "auto").lower().replace("utf8", "utf-8"),
                    "delimiter": src.get("delimiter", ","),
                    "header_row": int(src.get("header-row", 1)),
                }
            )
    return out


def main():
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        sys.exit(2)
    project = sys.argv[1]
    if "--files" in sys.argv[2:]:
        json.dump(files(project), sys.stdout, ensure_ascii=False, indent=1)
        print()
    else:
        for pid, _ in pipelines(project):
            print(pid)


if __name__ == "__main__":
    main()
