#!/usr/bin/env bash
# Ingest benchmark: civhub ingest vs DuckDB's plain CSV -> Parquet conversion.
#
#   benches/ingest.sh [N] [SEED]        # N persons (default 1000000), seed (default 7)
#
# 1. `civhub synth --persons N --seed SEED --out $BENCH_ROOT/city-N-SEED`
#    (reused when already there);
# 2. RUNS times (default 3), interleaved, each into a fresh warehouse / output
#    folder, each under /usr/bin/time -v after waiting for a quiet machine:
#    a. civhub ingest --quiet --json <the csv pipelines>   (civhub-csv-i)
#    b. benches/duckdb_csv.py: DuckDB COPY of the same csv files to Parquet
#       (duckdb-i; GBK/GB18030 files transcoded to UTF-8 once, beforehand,
#       outside the timed section)
#    c. civhub ingest --quiet --json, every pipeline, every format (civhub-all-i)
# 3. prints the medians (wall, rows/s, MB/s of input, peak RSS, civhub/DuckDB).
#
# Results stay in $BENCH_ROOT/ingest-N-SEED/ (summary.md, summary.json, the raw
# time -v outputs, load.log, machine.txt). See lib.sh for CIVHUB, PYTHON,
# BENCH_ROOT, MAX_LOAD, MAX_WAIT; RUNS sets the number of runs; CLEAN=1
# removes the synthetic project at the end.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
source benches/lib.sh

RUNS=${RUNS:-3}
bench_setup ingest "${1:-1000000}" "${2:-7}"

mapfile -t IDS < <("$PYTHON" benches/csv_pipelines.py "$DIR")
printf '%s\n' "${IDS[@]}" >"$WORK/csv_pipelines.txt"
log "${#IDS[@]} csv pipelines"

log "transcoding GBK/GB18030 files to UTF-8 for DuckDB (not timed)"
"$PYTHON" benches/duckdb_csv.py "$DIR" --utf8-dir "$WORK/utf8" --prepare-only >"$WORK/duckdb-prepare.json"

for i in $(seq 1 "$RUNS"); do
  PREP='rm -rf "$WORK/wh"' measure "civhub-csv-$i" "$WORK/civhub-csv-$i.json" \
    "$CIVHUB" --quiet ingest --project "$DIR" --warehouse "$WORK/wh" --json "${IDS[@]}"
  PREP='rm -rf "$WORK/wh" "$WORK/duckdb-out"' measure "duckdb-$i" "$WORK/duckdb-$i.json" \
    "$PYTHON" benches/duckdb_csv.py "$DIR" --utf8-dir "$WORK/utf8" --out "$WORK/duckdb-out"
  PREP='rm -rf "$WORK/wh" "$WORK/duckdb-out"' measure "civhub-all-$i" "$WORK/civhub-all-$i.json" \
    "$CIVHUB" --quiet ingest --project "$DIR" --warehouse "$WORK/wh" --json
done
rm -rf "$WORK/wh" "$WORK/duckdb-out"
rm -rf "$WORK/utf8"

"$PYTHON" benches/summary.py ingest "$WORK" | tee "$WORK/summary.md"
if [[ "${CLEAN:-0}" == 1 ]]; then rm -rf "$DIR"; fi
