# Shared by benches/ingest.sh and benches/match.sh (sourced, not run).
#
# Environment (all optional):
#   CIVHUB     the civhub binary              (default: target/release/civhub)
#   PYTHON     python with duckdb and splink  (default: python3)
#   BENCH_ROOT where projects and results go  (default: /tmp/civhub-bench)
#   MAX_LOAD   wait before each measurement until the 1-minute load average is
#              at most this                   (default: 1.5)
#   MAX_BUSY   ... and until the rest of the machine used at most this many
#              cores over a 5-second sample   (default: 0.25)
#   MAX_WAIT   give up waiting after this many seconds and measure anyway,
#              saying so in load.log          (default: 3600)
#   MAX_OTHER  a measurement during which the rest of the machine used more
#              than this many cores on average is repeated ...  (default: 0.3)
#   RETRIES    ... up to this many times in all (default: 3); the attempt
#              with the least interference is kept

CIVHUB=${CIVHUB:-target/release/civhub}
PYTHON=${PYTHON:-python3}
BENCH_ROOT=${BENCH_ROOT:-/tmp/civhub-bench}
MAX_LOAD=${MAX_LOAD:-1.5}
MAX_BUSY=${MAX_BUSY:-0.25}
MAX_WAIT=${MAX_WAIT:-3600}
MAX_OTHER=${MAX_OTHER:-0.3}
RETRIES=${RETRIES:-3}

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

# Busy CPU time of the whole machine so far, in clock ticks (user, nice,
# system, irq, softirq, steal: everything but idle and iowait).
cpu_busy_ticks() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }

# Cores busy over a 5-second sample (nothing of ours runs meanwhile).
busy_now() {
  local a b
  a=$(cpu_busy_ticks)
  sleep 5
  b=$(cpu_busy_ticks)
  awk -v a="$a" -v b="$b" -v t="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", (b - a) / t / 5 }'
}

# wait_idle LABEL: waits until the 1-minute load average is at most MAX_LOAD
# and the machine is idle (another engineer may be compiling on the same
# cores), then records the load in $WORK/load.log.
wait_idle() {
  local label=$1 waited=0 load busy=-
  while :; do
    load=$(cut -d' ' -f1 /proc/loadavg)
    if awk -v l="$load" -v m="$MAX_LOAD" 'BEGIN { exit !(l <= m) }'; then
      busy=$(busy_now)
      waited=$((waited + 5))
      if awk -v b="$busy" -v m="$MAX_BUSY" 'BEGIN { exit !(b <= m) }'; then
        break
      fi
    fi
    if (( waited >= MAX_WAIT )); then
      log "load $load still above $MAX_LOAD after ${waited}s: measuring anyway"
      echo "$label WARNING: load still above $MAX_LOAD after ${waited}s" >>"$WORK/load.log"
      break
    fi
    (( waited % 60 < 15 )) && log "load $load (busy $busy cores) before $label, waiting"
    sleep 10
    waited=$((waited + 10))
  done
  echo "$label waited=${waited}s busy=${busy} $(uptime)" >>"$WORK/load.log"
}

# other_cores CPU_FILE TIME_FILE: cores the rest of the machine used, on
# average, while a measured command ran: machine busy time (CPU_FILE: busy
# ticks before, after, ticks per second) minus the command's own user +
# system time (TIME_FILE, from time -v), over its wall time.
other_cores() {
  local b0 b1 tck
  read -r b0 b1 tck <"$1"
  awk -v b0="$b0" -v b1="$b1" -v t="$tck" \
    -v u="$(awk -F': ' '/User time/ {print $2}' "$2")" \
    -v s="$(awk -F': ' '/System time/ {print $2}' "$2")" \
    -v w="$(awk -F': ' '/Elapsed/ {n = split($2, a, ":"); x = 0; for (i = 1; i <= n; i++) x = x * 60 + a[i]; print x}' "$2")" \
    'BEGIN { o = (b1 - b0) / t - u - s; if (o < 0) o = 0; printf "%.2f", (w > 0 ? o / w : 0) }'
}

# measure NAME STDOUT_FILE CMD...: runs CMD under /usr/bin/time -v after
# wait_idle. Leaves $WORK/NAME.time (time -v), NAME.err (stderr), NAME.rc,
# NAME.cpu (machine busy ticks before and after, to tell what else ran) and
# NAME.load (the load average just before). When the rest of the machine used
# more than MAX_OTHER cores meanwhile, it is run again (RETRIES in all; the
# attempt with the least interference is kept; every attempt is listed in
# NAME.attempts). Never fails: the exit code is recorded, not raised.
# NO_RETRY=1 runs once whatever happens. PREP, when set, is evaluated before
# every attempt (e.g. PREP='rm -rf "$WORK/wh"' for a fresh warehouse).
measure() {
  local name=$1 out=$2 rc attempt other best=-1 b0 f
  local w="$WORK/$name"
  shift 2
  rm -f "$w.attempts"
  for attempt in $(seq 1 "$RETRIES"); do
    if [[ -n "${PREP:-}" ]]; then eval "$PREP"; fi
    wait_idle "$name"
    cut -d' ' -f1-3 /proc/loadavg >"$w.load.new"
    b0=$(cpu_busy_ticks)
    log "measuring $name (attempt $attempt, load $(cut -d' ' -f1-3 /proc/loadavg))"
    set +e
    /usr/bin/time -v -o "$w.time.new" "$@" >"$out.new" 2>"$w.err.new"
    rc=$?
    set -e
    echo "$b0 $(cpu_busy_ticks) $(getconf CLK_TCK)" >"$w.cpu.new"
    echo "$rc" >"$w.rc.new"
    other=$(other_cores "$w.cpu.new" "$w.time.new")
    local took
    took=$(grep -E 'Elapsed|Maximum resident' "$w.time.new" | sed 's/^[[:space:]]*//' | tr '\n' ' ')
    echo "attempt $attempt: exit $rc, other cores busy $other, load before $(cat "$w.load.new"), $took" >>"$w.attempts"
    log "$name: exit $rc, other cores busy $other, $took"
    if [[ $best == -1 ]] || awk -v o="$other" -v b="$best" 'BEGIN { exit !(o < b) }'; then
      best=$other
      for f in time err cpu rc load; do mv "$w.$f.new" "$w.$f"; done
      mv "$out.new" "$out"
    else
      for f in time err cpu rc load; do rm -f "$w.$f.new"; done
      rm -f "$out.new"
    fi
    if [[ "${NO_RETRY:-0}" == 1 ]] || awk -v o="$other" -v m="$MAX_OTHER" 'BEGIN { exit !(o <= m) }'; then
      break
    fi
    log "$name: the rest of the machine used $other cores meanwhile (> $MAX_OTHER): again"
  done
}

# machine_info: what the doc needs about the machine and the versions.
machine_info() {
  {
    echo "date: $(date -u +%FT%TZ)"
    echo "nproc: $(nproc)"
    lscpu | head
    echo "uname -r: $(uname -r)"
    free -g | head -2
    echo "civhub commit: $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo "civhub working tree: $(git -C "$REPO" status --porcelain 2>/dev/null | wc -l) changed files"
    echo "civhub binary: $CIVHUB ($(sha256sum "$CIVHUB" | cut -c1-16), built $(date -u -r "$CIVHUB" +%FT%TZ))"
    echo "python: $($PYTHON --version 2>&1)"
    $PYTHON - <<'PY'
import importlib.metadata as m
for p in ("duckdb", "splink", "pandas", "numpy", "pyarrow", "sqlglot"):
    try:
        print(f"{p}: {m.version(p)}")
    except m.PackageNotFoundError:
        print(f"{p}: not installed")
PY
    echo "uptime: $(uptime)"
  } >"$WORK/machine.txt" 2>&1
}

# bench_setup NAME N SEED: what every benchmark over a synthetic city does
# first. Sets N, SEED, DIR (the project; default $BENCH_ROOT/city-N-SEED) and
# WORK ($BENCH_ROOT/NAME-N-SEED, made afresh), checks and resolves $CIVHUB,
# records the machine and makes (or reuses) the project.
bench_setup() {
  N=$2
  SEED=$3
  DIR=${DIR:-$BENCH_ROOT/city-$N-$SEED}
  WORK=$BENCH_ROOT/$1-$N-$SEED
  [[ -x "$CIVHUB" ]] || { echo "no civhub binary at $CIVHUB: cargo build --release -p civhub-cli" >&2; exit 2; }
  CIVHUB=$(realpath "$CIVHUB")
  rm -rf "$WORK"
  mkdir -p "$WORK"
  machine_info
  ensure_synth "$DIR" "$N" "$SEED"
}

# ensure_synth DIR N SEED: makes the synthetic project unless DIR already holds
# the same size and seed (`truth/README.md` says how it was made).
ensure_synth() {
  local dir=$1 n=$2 seed=$3
  if [[ -f "$dir/truth/README.md" ]] && grep -q -- "--persons $n --seed $seed\`" "$dir/truth/README.md"; then
    log "reusing $dir (civhub synth --persons $n --seed $seed)"
    return
  fi
  mkdir -p "$(dirname "$dir")"
  log "civhub synth --persons $n --seed $seed --out $dir"
  /usr/bin/time -v -o "$WORK/synth.time" "$CIVHUB" --quiet synth --persons "$n" --seed "$seed" --out "$dir" --json >"$WORK/synth.json"
  log "synth: $(grep -E 'Elapsed' "$WORK/synth.time" | sed 's/^[[:space:]]*//'), $(du -sh "$dir" | cut -f1)"
}
