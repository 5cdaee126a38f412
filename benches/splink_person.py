#!/usr/bin/env python3
"""Splink 4 (DuckDB backend) on civhub's own person mentions, scored like `civhub eval-match`.

    python3 benches/splink_person.py DIR [--truth FILE] [--out FILE] [--tmp DIR]

DIR is a `civhub synth` project on which `civhub ingest` and `civhub match`
have run: the mentions are `DIR/warehouse/mdm/person/<run>/mentions.parquet`
(the run named by `current.json`), the very rows civhub resolved, with the
columns civhub derived (valid ID `id18`, pinyin `name_py`, birth date and
gender read from the ID). Splink gets them as they are; building them is not
part of Splink's time.

The model mirrors pipelines/match/person.toml:

* deterministic rule (for the prior, λ): the same valid 18-digit ID;
* blocking rules for prediction: same ID (`id_raw`, valid or not); same
  pinyin name + birth date; same pinyin name + phone; same birth date + phone;
* comparisons: ID (exact, Levenshtein ≤ 1, else); name (exact with
  term-frequency adjustment, same pinyin, Jaro–Winkler ≥ 0.9, ≥ 0.8, else);
  birth date (exact, same year-month, same year, else); gender (exact);
  phone (exact); address (exact, Jaro–Winkler ≥ 0.92, ≥ 0.8, else),
  with birth date = coalesce(birth_date_field, id_birth) and gender =
  coalesce(gender_field, id_gender), as civhub's loose nodes;
* training: u by random sampling (max_pairs = 1e6), m by EM on two blocking
  rules (pinyin name + birth date; same ID);
* predict (threshold 0.5, civhub's review threshold), then connected
  components at match probability 0.95 (civhub's match threshold).

Timed in-process: load → clusters (every Splink step), printed step by step
on stderr with the elapsed time and the process's current and peak RSS, and
kept in the --out JSON as the steps go (so a run killed by a timeout or the
OOM killer still says how far it got). After the timer stops, the clusters
are scored against the truth exactly as `civhub eval-match` scores civhub's
golden ids: truth mentions joined on (pipeline, role, file, sheet, row), kind
= person, pairwise precision / recall / F1 from the contingency table. The
same scorer is run over civhub's `xref.parquet` as a cross-check.
"""

import argparse
import json
import os
import resource
import sys
import tempfile
import time

import duckdb
import splink
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

T0 = time.perf_counter()
STEPS = []
OUT = None
STATE = {}


def rss_mib():
    cur = peak = None
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    cur = int(line.split()[1]) / 1024
                elif line.startswith("VmHWM:"):
                    peak = int(line.split()[1]) / 1024
    except OSError:
        pass
    if peak is None:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return cur, peak


def save():
    if OUT:
        tmp = OUT + ".tmp"
        with open(tmp, "w") as f:
            json.dump({**STATE, "steps": STEPS}, f, ensure_ascii=False, indent=1)
        os.replace(tmp, OUT)


def step(name, **extra):
    """Marks the end of a step (or, with status='start', its beginning)."""
    cur, peak = rss_mib()
    s = {"step": name, "elapsed_s": round(time.perf_counter() - T0, 3), "rss_mib": round(cur or 0), "peak_rss_mib": round(peak), **extra}
    STEPS.append(s)
    print(
        f"[splink {s['elapsed_s']:9.1f}s rss {s['rss_mib']:6d} MiB peak {s['peak_rss_mib']:6d} MiB] {name}"
        + (" " + json.dumps(extra, ensure_ascii=False) if extra else ""),
        file=sys.stderr,
        flush=True,
    )
    save()


def run(con, sql):
    """Runs a statement to completion (DuckDB 2 wants every result consumed)."""
    return con.execute(sql).fetchall()


def sql_str(s):
    return "'" + str(s).replace("'", "''") + "'"


def settings():
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="mention_id",
        probability_two_random_records_match=1e-6,  # replaced by the deterministic estimate
        blocking_rules_to_generate_predictions=[
            block_on("id_raw"),
            block_on("name_py", "birth_date"),
            block_on("name_py", "phone"),
            block_on("birth_date", "phone"),
        ],
        comparisons=[
            cl.LevenshteinAtThresholds("id_raw", [1]),
            cl.CustomComparison(
                output_column_name="name",
                comparison_description="name",
                comparison_levels=[
                    cll.NullLevel("name"),
                    cll.ExactMatchLevel("name", term_frequency_adjustments=True),
                    cll.ExactMatchLevel("name_py").configure(label_for_charts="same pinyin"),
                    cll.JaroWinklerLevel("name", 0.9),
                    cll.JaroWinklerLevel("name", 0.8),
                    cll.ElseLevel(),
                ],
            ),
            cl.CustomComparison(
                output_column_name="birth_date",
                comparison_description="date of birth",
                comparison_levels=[
                    cll.NullLevel("birth_date"),
                    cll.ExactMatchLevel("birth_date"),
                    cll.ExactMatchLevel("birth_ym").configure(label_for_charts="same year and month"),
                    cll.ExactMatchLevel("birth_year").configure(label_for_charts="same year"),
                    cll.ElseLevel(),
                ],
            ),
            cl.ExactMatch("gender"),
            cl.ExactMatch("phone"),
            cl.JaroWinklerAtThresholds("address", [0.92, 0.8]),
        ],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


def pair_scores(con, joined_sql):
    """Pairwise scores of (gid, true_key) rows, as civhub eval-match computes them."""
    q = f"""
    WITH j AS ({joined_sql}),
    c AS (SELECT gid, true_key, count(*) AS n FROM j GROUP BY ALL),
    p AS (SELECT gid, count(*) AS n FROM j GROUP BY ALL),
    t AS (SELECT true_key, count(*) AS n FROM j GROUP BY ALL)
    SELECT (SELECT count(*) FROM j),
           (SELECT CAST(coalesce(sum(n * (n - 1) / 2), 0) AS BIGINT) FROM c),
           (SELECT CAST(coalesce(sum(n * (n - 1) / 2), 0) AS BIGINT) FROM p),
           (SELECT CAST(coalesce(sum(n * (n - 1) / 2), 0) AS BIGINT) FROM t),
           (SELECT count(*) FROM p), (SELECT count(*) FROM t)
    """
    m, tp, pp, tt, pc, tc = con.execute(q).fetchall()[0]
    precision = tp / pp if pp else 1.0
    recall = tp / tt if tt else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "mentions": m,
        "predicted_pairs": pp,
        "true_pairs": tt,
        "true_positive_pairs": tp,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "predicted_clusters": pc,
        "true_clusters": tc,
    }


def main():
    global OUT
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("project")
    ap.add_argument("--truth", help="default: DIR/truth/mentions.csv")
    ap.add_argument("--warehouse", help="default: DIR/warehouse")
    ap.add_argument("--out", help="write the JSON report here too (updated after every step)")
    ap.add_argument("--tmp", help="DuckDB's spill folder (default: a temp folder)")
    ap.add_argument("--threads", type=int, default=0, help="DuckDB threads (0: DuckDB's default, one per core)")
    a = ap.parse_args()
    OUT = a.out
    wh = a.warehouse or os.path.join(a.project, "warehouse")
    truth = a.truth or os.path.join(a.project, "truth", "mentions.csv")
    kind_dir = os.path.join(wh, "mdm", "person")
    with open(os.path.join(kind_dir, "current.json")) as f:
        run_id = json.load(f)["run_id"]
    run_dir = os.path.join(kind_dir, run_id)
    mentions = os.path.join(run_dir, "mentions.parquet")
    spill = a.tmp or tempfile.mkdtemp(prefix="splink_spill_")
    os.makedirs(spill, exist_ok=True)

    con = duckdb.connect()
    run(con, f"SET temp_directory = {sql_str(spill)}")
    if a.threads:
        run(con, f"SET threads = {a.threads}")
    STATE.update(
        {
            "tool": "splink",
            "splink_version": splink.__version__,
            "duckdb_version": duckdb.__version__,
            "duckdb_threads": con.execute("SELECT current_setting('threads')").fetchall()[0][0],
            "duckdb_memory_limit": con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0],
            "mentions_file": mentions,
            "finished": False,
        }
    )

    # ---- timed: load -> clusters ------------------------------------------
    global T0
    T0 = time.perf_counter()
    step("start")
    run(
        con,
        f"""
        CREATE TABLE mentions AS
        SELECT mention_id, pipeline, role, source_file, source_sheet, source_row,
               id_raw, id18, name, name_py,
               coalesce(birth_date_field, id_birth) AS birth_date,
               strftime(coalesce(birth_date_field, id_birth), '%Y-%m') AS birth_ym,
               CAST(year(coalesce(birth_date_field, id_birth)) AS VARCHAR) AS birth_year,
               coalesce(gender_field, id_gender) AS gender,
               phone, address
        FROM read_parquet({sql_str(mentions)})
        """
    )
    n = con.execute("SELECT count(*) FROM mentions").fetchall()[0][0]
    STATE["mentions"] = n
    step("loaded", mentions=n)

    linker = Linker("mentions", settings(), DuckDBAPI(connection=con))
    step("linker ready")
    linker.training.estimate_probability_two_random_records_match([block_on("id18")], recall=0.95)
    STATE["prior"] = linker._settings_obj._probability_two_random_records_match
    step("prior from deterministic rule (same valid ID)", prior=STATE["prior"])
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    step("u by random sampling")
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("name_py", "birth_date"))
    step("EM on pinyin name + birth date")
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("id_raw"))
    step("EM on same ID")
    pred = linker.inference.predict(threshold_match_probability=0.5)
    npairs = con.execute(f"SELECT count(*) FROM {pred.physical_name}").fetchall()[0][0]
    step("predicted", pairs_above_0_5=npairs)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, threshold_match_probability=0.95)
    nclusters = con.execute(f"SELECT count(DISTINCT cluster_id) FROM {clusters.physical_name}").fetchall()[0][0]
    wall = time.perf_counter() - T0
    step("clustered", clusters=nclusters)
    STATE.update({"wall_s": wall, "pairs_above_0_5": npairs, "clusters": nclusters})
    # ---- end of the timed section -----------------------------------------

    STATE["model"] = json.loads(json.dumps(linker.misc.save_model_to_json(), default=str))
    run(con, f"CREATE VIEW truth AS SELECT * FROM read_csv({sql_str(truth)}, all_varchar = true, header = true)")
    position = (
        "t.pipeline = m.pipeline AND t.role = m.role AND t.file = m.source_file "
        "AND coalesce(t.sheet, '') = coalesce(m.source_sheet, '') AND CAST(t.row AS BIGINT) = m.source_row "
        "AND t.kind = 'person'"
    )
    STATE["scores"] = pair_scores(
        con,
        f"SELECT c.cluster_id AS gid, t.true_key FROM {clusters.physical_name} c "
        f"JOIN mentions m USING (mention_id) JOIN truth t ON {position}",
    )
    STATE["scores"]["missing"] = (
        con.execute("SELECT count(*) FROM truth WHERE kind = 'person'").fetchall()[0][0] - STATE["scores"]["mentions"]
    )
    xref = os.path.join(run_dir, "xref.parquet")
    if os.path.exists(xref):
        STATE["civhub_scores_same_scorer"] = pair_scores(
            con,
            f"SELECT m.gid, t.true_key FROM read_parquet({sql_str(xref)}) m JOIN truth t ON {position}",
        )
    STATE["finished"] = True
    step("scored", f1=round(STATE["scores"]["f1"], 6))
    json.dump({**STATE, "steps": STEPS}, sys.stdout, ensure_ascii=False, indent=1)
    print()


if __name__ == "__main__":
    main()
