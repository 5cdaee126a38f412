#!/usr/bin/env bash
# Matching benchmark: civhub match vs Splink 4 (DuckDB backend) on the same person mentions.
#
#   benches/match.sh [N] [SEED]         # N persons (default 1000000), seed (default 7)
#
# 1. `civhub synth --persons N --seed SEED --out $BENCH_ROOT/city-N-SEED`
#    (reused when already there), then `civhub ingest` into its warehouse
#    (not timed);
# 2. MATCH_RUNS times (default 3): `civhub match --full --retrain --json`
#    under /usr/bin/time -v with CIVHUB_LOG=info (each step's time in the
#    log), then `civhub eval-match --truth DIR/truth/mentions.csv --json`;
# 3. once (SPLINK_RETRIES to allow repeats): benches/splink_person.py on the person mentions of the last civhub
#    run, under /usr/bin/time -v and `timeout SPLINK_TIMEOUT` (default 1800 s),
#    scored against the same truth the same way;
# 4. prints wall, peak RSS, precision / recall / F1 of both and the ratios.
#
# Results stay in $BENCH_ROOT/match-N-SEED/. See lib.sh for CIVHUB, PYTHON,
# BENCH_ROOT, MAX_LOAD, MAX_WAIT; CLEAN=1 removes the synthetic project at the end.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
source benches/lib.sh

MATCH_RUNS=${MATCH_RUNS:-3}
SPLINK_TIMEOUT=${SPLINK_TIMEOUT:-1800}
bench_setup match "${1:-1000000}" "${2:-7}"

log "civhub ingest (not timed)"
set +e
/usr/bin/time -v -o "$WORK/ingest.time" "$CIVHUB" --quiet ingest --project "$DIR" --json >"$WORK/ingest.json" 2>"$WORK/ingest.err"
rc=$?
set -e
[[ $rc -le 1 ]] || { echo "civhub ingest failed (exit $rc):" >&2; cat "$WORK/ingest.err" >&2; exit 1; }
[[ $rc -eq 0 ]] || log "warning: civhub ingest exit $rc (a pipeline failed), see $WORK/ingest.json"

for i in $(seq 1 "$MATCH_RUNS"); do
  measure "civhub-match-$i" "$WORK/civhub-match-$i.json" \
    env CIVHUB_LOG=info NO_COLOR=1 "$CIVHUB" --quiet match --project "$DIR" --full --retrain --json
  "$CIVHUB" --quiet eval-match --project "$DIR" --truth "$DIR/truth/mentions.csv" --json \
    >"$WORK/eval-$i.json" 2>"$WORK/eval-$i.err" || log "eval-match failed: $(cat "$WORK/eval-$i.err")"
done

rm -rf "$WORK/splink-spill"
RETRIES=${SPLINK_RETRIES:-1} measure splink "$WORK/splink.stdout" \
  timeout --signal=TERM "$SPLINK_TIMEOUT" \
  "$PYTHON" benches/splink_person.py "$DIR" --out "$WORK/splink.json" --tmp "$WORK/splink-spill"
rm -rf "$WORK/splink-spill"

"$PYTHON" benches/summary.py match "$WORK" | tee "$WORK/summary.md"
if [[ "${CLEAN:-0}" == 1 ]]; then rm -rf "$DIR"; fi
