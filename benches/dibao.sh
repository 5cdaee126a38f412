#!/usr/bin/env bash
# 低保 check benchmark (issue 5): civhub check dibao vs a DuckDB raw-ID join.
#
#   benches/dibao.sh [PROJECT]        # default /tmp/bench1m
#
# PROJECT must already be a synthetic project that has been run (ingest +
# match + publish), e.g.
#   target/release/civhub synth --persons 1000000 --seed 7 --out /tmp/bench1m
#   (cd /tmp/bench1m && /usr/bin/time -v /work/main/target/release/civhub run -q --warehouse /tmp/bench1m/warehouse)
#
# Then, each under /usr/bin/time -v with `uptime` recorded just before:
#   1. civhub --project PROJECT check dibao --json -q       (cold, then warm)
#   2. benches/dibao_duckdb.py PROJECT/warehouse             (twice; it times
#      the Delta -> arrow load and the DuckDB query separately)
# and scores all of them against PROJECT/truth/dibao.csv with
# benches/dibao_score.py. Everything lands in $OUT (default
# /tmp/civhub-bench/dibao): *.time (time -v), *.json, *.score.json, load.log.
#
# CIVHUB (default target/release/civhub), PYTHON (default python3).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PROJECT=${1:-/tmp/bench1m}
CIVHUB=$(realpath "${CIVHUB:-$REPO/target/release/civhub}")
PYTHON=${PYTHON:-python3}
OUT=${OUT:-/tmp/civhub-bench/dibao}
mkdir -p "$OUT"
: >"$OUT/load.log"

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

# timed NAME CMD...: stdout to $OUT/NAME.json, time -v to $OUT/NAME.time.
timed() {
  local name=$1
  shift
  echo "$name: $(uptime)" | tee -a "$OUT/load.log" >&2
  set +e
  /usr/bin/time -v -o "$OUT/$name.time" "$@" >"$OUT/$name.json" 2>"$OUT/$name.err"
  local rc=$?
  set -e
  echo "$rc" >"$OUT/$name.rc"
  log "$name: exit $rc; $(grep -E 'Elapsed|Maximum resident' "$OUT/$name.time" | sed 's/^[[:space:]]*//' | tr '\n' ' ')"
}

{
  echo "date: $(date -u +%FT%TZ)"
  echo "nproc: $(nproc)"
  grep -m1 'model name' /proc/cpuinfo
  free -g
  echo "civhub: $CIVHUB built $(date -u -r "$CIVHUB" +%FT%TZ)"
  echo "python: $($PYTHON --version 2>&1); $($PYTHON -c 'import duckdb, deltalake, pyarrow; print("duckdb", duckdb.__version__, "deltalake", deltalake.__version__, "pyarrow", pyarrow.__version__)')"
} >"$OUT/machine.txt"

for run in cold warm; do
  timed "civhub-$run" "$CIVHUB" --project "$PROJECT" check dibao --json -q
  "$PYTHON" "$REPO/benches/dibao_score.py" "$PROJECT/truth/dibao.csv" "$OUT/civhub-$run.json" \
    --label "civhub check dibao ($run)" >"$OUT/civhub-$run.score.json"
done

for run in 1 2; do
  timed "duckdb-$run" "$PYTHON" "$REPO/benches/dibao_duckdb.py" "$PROJECT/warehouse" \
    --out "$OUT/duckdb-$run.flagged.json"
  "$PYTHON" "$REPO/benches/dibao_score.py" "$PROJECT/truth/dibao.csv" "$OUT/duckdb-$run.flagged.json" \
    --label "duckdb raw-ID join (run $run)" >"$OUT/duckdb-$run.score.json"
done

for f in "$OUT"/*.score.json; do
  "$PYTHON" - "$f" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print(f"{d['label']}: found {d['found']}/{d['planted']} (recall {d['recall']}), "
      f"noisy {d['noisy_found']}/{d['noisy']}, false positives {d['false_positives']} "
      f"(precision {d['precision']}), decoys flagged {d['decoys_flagged']}/{d['decoys']}")
PY
done
