#!/usr/bin/env bash
# Where the CPU goes at a steady rate: one broker warmed by a backlog that a
# threatd server drains first, then bench_kafka_produce's latency mode at RATE
# flows/s for SECONDS, with the CPU per flow of threatd, the broker and the
# producer (which also runs the WebSocket client), the machine's idle share,
# and the latency summary. One line per SPEC (as in bench/kafka/ab.sh).
#
#   bench/kafka/steady.sh RATE SECONDS "label|VAR=value ..." ...
#
# Environment: THREADS=1 also prints threatd's CPU per flow by thread;
# WARM=300000 flows in the warming backlog.
set -euo pipefail
(($# >= 3)) || { sed -n '2,12p' "$0"; exit 2; }
root=$(cd "$(dirname "$0")/../.." && pwd)
rate=$1 secs=$2; shift 2
((secs >= 10)) || { echo "SECONDS must be at least 10 (3 s are left out at each end)" >&2; exit 2; }
producer=$root/build/release/bench/kafka/bench_kafka_produce
[[ -x $producer ]] || { echo "missing $producer: cmake --build --preset release --target bench_kafka_produce" >&2; exit 1; }
work=$(mktemp -d)
spid=""
cleanup() {
  if [[ -n $spid ]]; then kill "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true; fi
  bash "$root/scripts/kafka-test-server.sh" stop "$work/kafka" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
bootstrap=$(bash "$root/scripts/kafka-test-server.sh" start "$work/kafka")
broker_pid=$(cat "$work/kafka/broker.pid")
profile=$root/models/traffic_profile.json.gz
for t in predictions self-healing-actions; do
  "$producer" --bootstrap "$bootstrap" --topic "$t" --partitions 6 --count 0 --profile "$profile" >/dev/null
done
"$producer" --bootstrap "$bootstrap" --topic bench --partitions 6 --count "${WARM:-300000}" --profile "$profile" --seed 7 >/dev/null
cpu_of() { awk '{print $14 + $15}' "/proc/$1/stat"; }
idle() { awk '/^cpu /{print $5 + $6}' /proc/stat; }
threads() { for t in /proc/"$1"/task/*; do echo "${t##*/} $(tr ' ' _ <"$t/comm") $(awk '{print $14 + $15}' "$t/stat")"; done | sort; }
tck=$(getconf CLK_TCK)
n=0
for spec in "$@"; do
  label=${spec%%|*}
  settings=""; [[ $spec == *"|"* ]] && settings=${spec#*|}
  bin=$root/build/release/bin/threatd
  envs=()
  for kv in $settings; do
    if [[ $kv == BIN=* ]]; then bin=${kv#BIN=}; else envs+=("$kv"); fi
  done
  dir=$(mktemp -d "$work/run.XXXX")
  n=$((n + 1))
  # The hub's per-client limit and queue are raised so the client gets every prediction.
  ( cd "$dir" && exec env "${envs[@]}" THREATD_MODELS_DEFAULTS_DIR="$root/models" KAFKA_BOOTSTRAP_SERVERS="$bootstrap" \
      KAFKA_TOPIC_REALTIME_DATA=bench KAFKA_GROUP_ID="steady-$n-$$" THREATD_REALTIME_MAX_PREDICTIONS_PER_SECOND=1000000 \
      THREATD_REALTIME_CLIENT_QUEUE=65536 "$bin" serve --port 0 --data-dir "$dir" --log-level warn >"$dir/out" 2>"$dir/err" ) &
  spid=$!
  for _ in $(seq 600); do grep -q "listening on" "$dir/out" 2>/dev/null && break; sleep 0.1; done
  url=$(grep -o 'http://[0-9.]*:[0-9]*' "$dir/out" | tail -1)
  key=$(grep -o 'tdk_[A-Za-z0-9_]*' "$dir/out" | head -1)
  [[ -n $url && -n $key ]] || { echo "$label: server did not start:"; cat "$dir/err"; exit 1; }
  lag() { curl -s -m 2 -H "Authorization: Bearer $key" "$url/api/v1/health/detailed" | jq -r '.checks.consumers.internal.lag_total // -1'; }
  for _ in $(seq 600); do [[ $(lag) == 0 ]] && break; sleep 0.5; done
  "$producer" --bootstrap "$bootstrap" --topic bench --latency --rate "$rate" --duration "$secs" --ws "${url#http://}" \
    --api-key "$key" --profile "$profile" --seed 11 >"$dir/latency.json" &
  ppid_=$!
  sleep 3
  threads "$spid" >"$dir/threads0"
  t0=$(date +%s.%N); s0=$(cpu_of "$spid"); b0=$(cpu_of "$broker_pid"); p0=$(cpu_of "$ppid_"); i0=$(idle)
  sleep $((secs - 6))
  t1=$(date +%s.%N); s1=$(cpu_of "$spid"); b1=$(cpu_of "$broker_pid"); p1=$(cpu_of "$ppid_"); i1=$(idle)
  threads "$spid" >"$dir/threads1"
  wait "$ppid_"
  flows=$(awk -v r="$rate" -v a="$t0" -v b="$t1" 'BEGIN{printf "%d", r * (b - a)}')
  awk -v l="$label" -v r="$rate" -v n="$flows" -v s=$((s1 - s0)) -v b=$((b1 - b0)) -v p=$((p1 - p0)) -v i=$((i1 - i0)) \
      -v t="$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b - a}')" -v tck="$tck" 'BEGIN{
    printf "%s at %d flows/s: threatd %.1f us/flow, broker %.1f, producer + WebSocket client %.1f; idle %.2f of the cores\n",
      l, r, 1e6 * s / tck / n, 1e6 * b / tck / n, 1e6 * p / tck / n, i / tck / t}'
  if [[ -n ${THREADS:-} ]]; then
    join "$dir/threads0" "$dir/threads1" | awk -v n="$flows" -v tck="$tck" \
      '{c[$2] += $5 - $3} END {for (k in c) if (c[k] > 0) printf "  %-16s %5.1f us/flow\n", k, 1e6 * c[k] / tck / n}' | sort -k2 -rn
  fi
  jq -r '"  produce -> WebSocket p50 \(.produce_to_ws.p50_ms) / p99 \(.produce_to_ws.p99_ms) ms; \(.received) of \(.delivered) matched"' \
    "$dir/latency.json"
  kill "$spid"; wait "$spid" 2>/dev/null || true; spid=""
  rm -rf "$dir"
done
