#!/usr/bin/env bash
# End-to-end pipeline benchmark: a CSV of simulated flows uploaded to a real
# `threatd serve` (parse -> detector -> classifier -> policy -> persist ->
# publish), once per storage backend. Prints one line per run: flows/s from
# the upload report and from the wall clock, the server's CPU seconds, its
# peak RSS (VmHWM) and the pipeline's mean batch time (/metrics).
#
#   bench/pipeline/run.sh [build/release/bin/threatd]
#
# Environment (all optional):
#   COUNT=1000000          flows in the main upload
#   BACKENDS="sqlite postgres"
#   BIG_MB=1024            also upload a file of at least this many MB
#                          (SQLite; memory must stay flat); 0 skips it
#   PG_URL=postgresql://…  use this server (else scripts/pg-test-server.sh
#                          starts a throw-away one)
#   CACHE=/tmp/threatd-bench   where the generated CSVs are kept between runs
#   THREATD_PIPELINE_* etc. are passed to the server (configs/threatd.example.yaml).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$(realpath "${1:-$root/build/release/bin/threatd}")
count=${COUNT:-1000000}
backends=${BACKENDS:-sqlite postgres}
big_mb=${BIG_MB:-1024}
cache=${CACHE:-/tmp/threatd-bench}
mkdir -p "$cache"
work=$(mktemp -d)
pid=""
pg_dir=""
cleanup() {
  if [[ -n $pid ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  if [[ -n $pg_dir ]]; then bash "$root/scripts/pg-test-server.sh" stop "$pg_dir" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Generates (once) a CSV of $1 flows; prints its path.
csv_of() {
  local n=$1 f="$cache/flows-$1.csv"
  if [[ ! -s $f ]]; then
    "$bin" simulate --profile "$root/models/traffic_profile.json.gz" --count "$n" --seed 7 --out "$f.tmp" >&2
    mv "$f.tmp" "$f"
  fi
  echo "$f"
}

# run <label> <csv> [DATABASE_URL]: one server, one upload, one result line.
run() {
  local label=$1 csv=$2 db=${3:-} dir
  dir=$(mktemp -d "$work/run.XXXX")
  ( cd "$dir" && exec env ${db:+DATABASE_URL=$db} THREATD_MODELS_DEFAULTS_DIR="$root/models" "$bin" serve --port 0 --data-dir "$dir" --log-level warn \
      > "$dir/out" 2> "$dir/err" ) &
  pid=$!
  for _ in $(seq 600); do grep -q "listening on" "$dir/out" 2>/dev/null && break; sleep 0.1; done
  local url admin
  url=$(grep -o 'http://[0-9.]*:[0-9]*' "$dir/out" | tail -1)
  admin=$(grep -o 'tdk_[A-Za-z0-9_]*' "$dir/out" | head -1)
  [[ -n $url && -n $admin ]] || { echo "server did not start:"; cat "$dir/err"; return 1; }
  # The models may still be loading when the server starts listening.
  for _ in $(seq 300); do
    curl -s -H "Authorization: Bearer $admin" "$url/api/v1/health/detailed" |
      jq -e '.checks.models.threat_detector.loaded == true' >/dev/null && break
    sleep 0.1
  done
  local cpu0 wall
  cpu0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  wall=$(curl -sS -o "$dir/report.json" -w '%{time_total}' -H "Authorization: Bearer $admin" \
    -F "file=@$csv;filename=$(basename "$csv")" "$url/api/v1/upload/csv")
  local cpu1 hwm batch
  cpu1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  hwm=$(awk '/VmHWM/{printf "%.0f", $2 / 1024}' "/proc/$pid/status")
  batch=$(curl -sS "$url/metrics" | awk '/^threatd_pipeline_batch_seconds_sum/{s=$2} /^threatd_pipeline_batch_seconds_count/{c=$2}
    END{if (c > 0) printf "%.1f ms (%d batches)", 1000 * s / c, c}')
  if [[ $(jq -r .status "$dir/report.json" 2>/dev/null) != completed ]]; then
    echo "$label: upload failed after ${wall} s:"; head -c 2000 "$dir/report.json"; echo
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
    return 1
  fi
  jq -r --arg name "$label" --arg wall "$wall" --arg cpu "$(( (cpu1 - cpu0) / $(getconf CLK_TCK) ))" \
     --arg hwm "$hwm" --arg batch "$batch" --arg mb "$(( $(stat -c %s "$csv") / 1048576 ))" '
    "\($name): \(.status), \(.accepted_rows) of \(.total_rows) rows, \($mb) MB, " +
    "\(.rows_per_second | floor) flows/s (report, \(.seconds * 10 | floor / 10) s), " +
    "\(.accepted_rows / ($wall | tonumber) | floor) flows/s (wall \($wall) s), server CPU \($cpu) s, " +
    "peak RSS \($hwm) MB, batch \($batch)"' "$dir/report.json"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  du -sh "$dir" | awk '{print "  data dir: " $1}'
  rm -rf "$dir"
}

echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r), $(date -u +%FT%TZ)"
csv=$(csv_of "$count")
for b in $backends; do
  case $b in
    sqlite) run "sqlite, $count flows" "$csv" ;;
    postgres)
      url=${PG_URL:-}
      if [[ -z $url ]]; then
        pg_dir="$work/pg"
        bash "$root/scripts/pg-test-server.sh" start "$pg_dir" >/dev/null
        url=$(cat "$pg_dir/url")
      fi
      run "postgres, $count flows" "$csv" "$url" ;;
    *) echo "unknown backend '$b' (sqlite, postgres)" >&2; exit 2 ;;
  esac
done
if (( big_mb > 0 )); then
  # Rows needed for big_mb, from the main file's bytes per row.
  per_row=$(( $(stat -c %s "$csv") / count + 1 ))
  big=$(csv_of $(( (big_mb * 1048576 / per_row + 99999) / 100000 * 100000 )))
  run "sqlite, ${big_mb} MB upload" "$big"
fi
