#!/usr/bin/env python3
"""Summaries of benches/ingest.sh and benches/match.sh results (Markdown on stdout).

    python3 benches/summary.py ingest WORK
    python3 benches/summary.py match WORK

WORK holds, per measurement NAME: NAME.time (`/usr/bin/time -v`), NAME.rc,
NAME.load (load average before), NAME.cpu (machine busy clock ticks before and
after: what the rest of the machine used while it ran), the tool's JSON, and
load.log, machine.txt. A summary.json with every number is written beside.
"""

import glob
import json
import os
import re
import statistics
import sys

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def timev(path):
    out = {}
    if not os.path.exists(path):
        return out
    for line in open(path):
        line = line.strip()
        if line.startswith("Elapsed (wall clock) time"):
            v = line.rsplit(": ", 1)[1]
            parts = [float(x) for x in v.split(":")]
            s = 0.0
            for p in parts:
                s = s * 60 + p
            out["wall_s"] = s
        elif line.startswith("Maximum resident set size"):
            out["peak_rss_kib"] = int(line.rsplit(": ", 1)[1])
        elif line.startswith("User time"):
            out["user_s"] = float(line.rsplit(": ", 1)[1])
        elif line.startswith("System time"):
            out["sys_s"] = float(line.rsplit(": ", 1)[1])
        elif line.startswith("Exit status"):
            out["exit"] = int(line.rsplit(": ", 1)[1])
        elif line.startswith("Command terminated by signal"):
            out["signal"] = int(line.rsplit(" ", 1)[1])
    return out


def measurement(work, name):
    m = {"name": name, **timev(os.path.join(work, f"{name}.time"))}
    rc = os.path.join(work, f"{name}.rc")
    if os.path.exists(rc):
        m["rc"] = int(open(rc).read().strip() or -1)
    ld = os.path.join(work, f"{name}.load")
    if os.path.exists(ld):
        m["load_before"] = open(ld).read().strip()
    cpu = os.path.join(work, f"{name}.cpu")
    if os.path.exists(cpu) and "wall_s" in m:
        b0, b1, tck = (int(x) for x in open(cpu).read().split())
        busy = (b1 - b0) / tck
        own = m.get("user_s", 0) + m.get("sys_s", 0)
        # what the rest of the machine used meanwhile, in cores
        m["other_cores"] = max(0.0, busy - own) / m["wall_s"] if m["wall_s"] > 0 else 0.0
    return m


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError):
        return None


def gib(kib):
    return kib / 1024 / 1024


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt_int(x):
    return f"{x:,.0f}" if x is not None else "–"


def ingest(work):
    runs = {}
    for kind in ("civhub-csv", "duckdb", "civhub-all"):
        rs = []
        for t in sorted(glob.glob(os.path.join(work, f"{kind}-*.time"))):
            name = os.path.basename(t)[:-5]
            m = measurement(work, name)
            j = load_json(os.path.join(work, f"{name}.json"))
            if kind == "duckdb" and j:
                m["process_wall_s"] = m.get("wall_s")
                m["wall_s"] = j["wall_s"]  # the timed COPY section only
                m["rows"] = j["rows"]
                m["input_bytes"] = j["input_bytes"]
                m["files"] = j["files"]
                m["files_failed"] = j["files_failed"]
                m["failed"] = j["failed"]
                m["output_bytes"] = j["output_bytes"]
            elif j:
                t_ = j["totals"]
                m["rows"] = t_["rows_in"]
                m["rows_staged"] = t_["rows_staged"]
                m["rows_quarantined"] = t_["rows_quarantined"]
                m["input_bytes"] = t_["bytes_read"]
                m["files"] = t_["files_ingested"]
                m["pipelines"] = t_["pipelines"]
                m["pipelines_failed"] = t_["pipelines_failed"]
                m["failed"] = [
                    {"pipeline": p["pipeline"], "error": p.get("error")} for p in j["pipelines"] if p["status"] not in ("ok", "unchanged")
                ]
                m["duration_ms"] = j.get("duration_ms")
            rs.append(m)
        runs[kind] = rs

    rows = []
    summ = {}
    for kind, label in (
        ("civhub-csv", "civhub ingest, csv pipelines"),
        ("duckdb", "DuckDB CSV → Parquet, same files"),
        ("civhub-all", "civhub ingest, all pipelines"),
    ):
        rs = runs[kind]
        if not rs:
            continue
        wall = med([r.get("wall_s") for r in rs])
        rss = med([r.get("peak_rss_kib") for r in rs])
        r0 = rs[0]
        s = {
            "label": label,
            "runs": len(rs),
            "walls_s": [round(r.get("wall_s", float("nan")), 2) for r in rs],
            "wall_s": wall,
            "rows": r0.get("rows"),
            "input_bytes": r0.get("input_bytes"),
            "files": r0.get("files"),
            "rows_per_s": r0.get("rows") / wall if wall and r0.get("rows") else None,
            "mb_per_s": r0.get("input_bytes") / wall / 1e6 if wall and r0.get("input_bytes") else None,
            "peak_rss_gib": gib(rss) if rss else None,
            "exit_codes": [r.get("rc") for r in rs],
            "load_before": [r.get("load_before") for r in rs],
            "other_cores": [round(r.get("other_cores", 0), 2) for r in rs],
            "failed": r0.get("failed"),
        }
        if kind == "duckdb":
            s["process_walls_s"] = [round(r.get("process_wall_s", float("nan")), 2) for r in rs]
        else:
            s["rows_staged"] = r0.get("rows_staged")
            s["rows_quarantined"] = r0.get("rows_quarantined")
            s["pipelines"] = r0.get("pipelines")
            s["pipelines_failed"] = r0.get("pipelines_failed")
        summ[kind] = s
        rows.append(s)

    prep = load_json(os.path.join(work, "duckdb-prepare.json")) or {}
    synth = load_json(os.path.join(work, "synth.json"))
    out = {"runs": runs, "summary": summ, "duckdb_prepare": prep}
    ratio = None
    if "civhub-csv" in summ and "duckdb" in summ and summ["duckdb"]["wall_s"]:
        ratio = summ["civhub-csv"]["wall_s"] / summ["duckdb"]["wall_s"]
        out["civhub_over_duckdb_wall"] = ratio
    json.dump(out, open(os.path.join(work, "summary.json"), "w"), ensure_ascii=False, indent=1, default=str)

    print(f"## ingest benchmark ({work})\n")
    print("| | wall (median) | runs | rows | rows/s | input MB | MB/s | peak RSS | exit | load before | other cores busy |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |")
    for s in rows:
        print(
            f"| {s['label']} | {s['wall_s']:.2f} s | {', '.join(f'{w:.2f}' for w in s['walls_s'])} | {fmt_int(s['rows'])} | "
            f"{fmt_int(s['rows_per_s'])} | {s['input_bytes'] / 1e6:,.1f} | {s['mb_per_s']:,.1f} | {s['peak_rss_gib']:.2f} GiB | "
            f"{','.join(str(x) for x in s['exit_codes'])} | {' / '.join((x or '').split()[0] for x in s['load_before'])} | "
            f"{', '.join(str(x) for x in s['other_cores'])} |"
        )
    print()
    if ratio is not None:
        print(f"civhub / DuckDB wall time (csv files): **{ratio:.2f}×** "
              f"({'civhub slower' if ratio > 1 else 'civhub faster'})")
    if "duckdb" in summ:
        print(f"DuckDB process walls (python start, file listing, COPY): {summ['duckdb']['process_walls_s']} s; "
              f"transcoded beforehand, not timed: {prep.get('transcoded_files')} files in {prep.get('transcode_s', 0):.1f} s "
              f"({prep.get('input_bytes', 0) / 1e6:,.1f} MB → {prep.get('utf8_bytes', 0) / 1e6:,.1f} MB UTF-8)")
        if summ["duckdb"]["failed"]:
            print(f"DuckDB failed on {len(summ['duckdb']['failed'])} files: {summ['duckdb']['failed'][:5]}")
    for k in ("civhub-csv", "civhub-all"):
        if k in summ:
            s = summ[k]
            print(f"{s['label']}: {s['pipelines']} pipelines ({s['pipelines_failed']} failed), {fmt_int(s['files'])} files, "
                  f"{fmt_int(s['rows_staged'])} staged, {fmt_int(s['rows_quarantined'])} quarantined")
            if s["failed"]:
                print(f"  failed: {s['failed']}")
    if synth:
        print(f"synth: {json.dumps(synth, ensure_ascii=False)[:300]}")


def log_steps(path):
    """(seconds since previous line, message) of a CIVHUB_LOG=info stderr."""
    steps = []
    prev = None
    ts_re = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:(\d\d\.\d+))Z\s+(\w+)\s+(.*)$")
    from datetime import datetime

    for line in open(path, errors="replace"):
        line = ANSI.sub("", line).rstrip()
        m = ts_re.match(line)
        if not m:
            continue
        t = datetime.fromisoformat(m.group(1))
        msg = m.group(4)
        msg = re.sub(r"path=\S*/mdm/(\w+)/\w+/", r"path=\1/", msg)
        d = (t - prev).total_seconds() if prev else None
        prev = t
        steps.append((d, msg))
    return steps


def match(work):
    civ = []
    for t in sorted(glob.glob(os.path.join(work, "civhub-match-*.time"))):
        name = os.path.basename(t)[:-5]
        i = name.rsplit("-", 1)[1]
        m = measurement(work, name)
        j = load_json(os.path.join(work, f"{name}.json"))
        e = load_json(os.path.join(work, f"eval-{i}.json"))
        if j:
            for k in ("person", "entity"):
                if j.get(k):
                    m[f"{k}_ms"] = j[k].get("duration_ms")
                    m[f"{k}_mentions"] = j[k].get("mentions")
                    m[f"{k}_golden"] = j[k].get("golden")
                    m[f"{k}_pairs"] = j[k].get("pairs")
                    m[f"{k}_review"] = j[k].get("review")
        m["eval"] = e
        civ.append(m)
    sp = measurement(work, "splink")
    spj = load_json(os.path.join(work, "splink.json")) or {}
    ing = load_json(os.path.join(work, "ingest.json"))
    out = {"civhub": civ, "splink": {**sp, "report": spj}, "ingest_totals": ing and ing.get("totals")}

    print(f"## match benchmark ({work})\n")
    if ing:
        t_ = ing["totals"]
        print(f"ingest (not timed): {t_['rows_in']:,} rows in, {t_['rows_staged']:,} staged, {t_['rows_quarantined']:,} quarantined, "
              f"{t_['pipelines_failed']} pipelines failed\n")
    wall = med([m.get("wall_s") for m in civ])
    rss = med([m.get("peak_rss_kib") for m in civ])
    pms = med([m.get("person_ms") for m in civ])
    ems = med([m.get("entity_ms") for m in civ])
    last = civ[-1] if civ else {}
    ev = last.get("eval") or {}
    pe = ev.get("person") or {}
    en = ev.get("entity") or {}
    print("| | wall | peak RSS | person mentions | precision | recall | F1 | clusters (true) | exit | load before |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    if civ:
        print(
            f"| civhub match (person + entity), median of {len(civ)}: {', '.join('%.1f' % m.get('wall_s', 0) for m in civ)} s "
            f"| {wall:.1f} s | {gib(rss):.2f} GiB | {fmt_int(last.get('person_mentions'))} | {pe.get('precision', float('nan')):.5f} | "
            f"{pe.get('recall', float('nan')):.5f} | {pe.get('f1', float('nan')):.5f} | {fmt_int(pe.get('predicted_clusters'))} ({fmt_int(pe.get('true_clusters'))}) "
            f"| {','.join(str(m.get('rc')) for m in civ)} | {' / '.join((m.get('load_before') or '').split()[0] for m in civ if m.get('load_before'))} |"
        )
        print(f"| civhub, person part only (`person.duration_ms`) | {pms / 1000:.1f} s | | | | | | | | |")
    sc = spj.get("scores") or {}
    finished = spj.get("finished")
    sp_wall = spj.get("wall_s")
    if finished:
        print(
            f"| Splink {spj.get('splink_version')} (DuckDB {spj.get('duckdb_version')}), load → clusters | {sp_wall:.1f} s "
            f"(process {sp.get('wall_s', 0):.1f} s) | {gib(sp.get('peak_rss_kib', 0)):.2f} GiB | {fmt_int(spj.get('mentions'))} | "
            f"{sc['precision']:.5f} | {sc['recall']:.5f} | {sc['f1']:.5f} | {fmt_int(sc['predicted_clusters'])} ({fmt_int(sc['true_clusters'])}) "
            f"| {sp.get('rc')} | {(sp.get('load_before') or '').split()[0] if sp.get('load_before') else ''} |"
        )
    else:
        steps = spj.get("steps") or []
        lastst = steps[-1] if steps else {}
        print(
            f"| Splink {spj.get('splink_version')}: **did not finish** (exit {sp.get('rc')}"
            f"{', signal ' + str(sp.get('signal')) if sp.get('signal') else ''}) | {sp.get('wall_s', 0):.1f} s | "
            f"{gib(sp.get('peak_rss_kib', 0)):.2f} GiB | {fmt_int(spj.get('mentions'))} | – | – | – | – | {sp.get('rc')} | "
            f"{(sp.get('load_before') or '').split()[0] if sp.get('load_before') else ''} |"
        )
        print(f"\nSplink's last completed step: {lastst.get('step')} at {lastst.get('elapsed_s')} s (RSS then {lastst.get('rss_mib')} MiB)")
    print()
    if en:
        print(f"civhub entities: precision {en['precision']:.5f}, recall {en['recall']:.5f}, F1 {en['f1']:.5f}, "
              f"{en['predicted_clusters']:,} clusters ({en['true_clusters']:,} true); entity part {ems / 1000:.1f} s")
    if civ:
        print(f"civhub other cores busy during runs: {[round(m.get('other_cores', 0), 2) for m in civ]}; "
              f"splink: {round(sp.get('other_cores', 0), 2) if sp else '–'}")
    if finished and civ:
        cs = spj.get("civhub_scores_same_scorer") or {}
        ratio_total = sp_wall / wall
        ratio_person = sp_wall / (pms / 1000) if pms else None
        out.update({"splink_over_civhub_total": ratio_total, "splink_over_civhub_person": ratio_person})
        print(f"Splink / civhub wall: **{ratio_total:.1f}×** (civhub total, people and entities), "
              f"**{ratio_person:.1f}×** (civhub's person part)")
        print(f"F1 person: civhub {pe.get('f1', float('nan')):.5f} vs Splink {sc['f1']:.5f} "
              f"(Δ {pe.get('f1', 0) - sc['f1']:+.5f}); same scorer over civhub's xref: F1 {cs.get('f1', float('nan')):.5f}")
        print(f"Splink pairs with p ≥ 0.5: {fmt_int(spj.get('pairs_above_0_5'))}; prior {spj.get('prior')}")
    steps = spj.get("steps") or []
    if steps:
        print("\nSplink steps (elapsed since start, RSS, peak RSS):")
        for s in steps:
            extra = {k: v for k, v in s.items() if k not in ("step", "elapsed_s", "rss_mib", "peak_rss_mib")}
            print(f"  {s['elapsed_s']:8.1f} s  {s['rss_mib']:6d} MiB  {s['peak_rss_mib']:6d} MiB  {s['step']} {json.dumps(extra, ensure_ascii=False) if extra else ''}")
    # civhub's step times, from the median run's log
    if civ:
        mid = sorted(civ, key=lambda m: m.get("wall_s", 0))[len(civ) // 2]
        errp = os.path.join(work, f"{mid['name']}.err")
        if os.path.exists(errp):
            st = log_steps(errp)
            out["civhub_log_steps"] = st
            print(f"\ncivhub steps ({mid['name']}, seconds since the previous log line):")
            for d, msg in st:
                print(f"  {('%.2f' % d) if d is not None else '    –':>8}  {msg}")
    json.dump(out, open(os.path.join(work, "summary.json"), "w"), ensure_ascii=False, indent=1, default=str)


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("ingest", "match"):
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
    {"ingest": ingest, "match": match}[sys.argv[1]](sys.argv[2])


if __name__ == "__main__":
    main()
