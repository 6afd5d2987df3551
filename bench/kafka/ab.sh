#!/usr/bin/env bash
# A/B drains on one broker: a backlog is produced once, then each SPEC drains
# all of it with its own consumer group, in the order given (alternate them:
# the broker warms up over the first drain, and the machine's state drifts).
# Prints flows/s and the server's and broker's CPU per flow for each.
#
#   bench/kafka/ab.sh COUNT "label|VAR=value ..." ...
#
# A SPEC is a label, then optionally "|" and settings: BIN=<threatd binary>
# (default build/release/bin/threatd) and environment for that server, e.g.
#   bench/kafka/ab.sh 400000 "warm|" "base|BIN=/tmp/threatd.base" "new|" \
#     "base2|BIN=/tmp/threatd.base" "new2|" "pg|DATABASE_URL=postgresql://..."
# (a PostgreSQL spec needs a database of its own: every drain stores the same
# Kafka positions, so a second drain into one database stores nothing).
#
# Environment: THREADS=1 also prints CPU per flow by thread; HOOK=<script> is
# started with the server's pid when its first flows are stored (e.g. to run
# perf on it).
set -euo pipefail
(($# >= 2)) || { sed -n '2,18p' "$0"; exit 2; }
root=$(cd "$(dirname "$0")/../.." && pwd)
count=$1; shift
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
"$producer" --bootstrap "$bootstrap" --topic bench --partitions 6 --count "$count" --profile "$profile" --seed 7 >/dev/null
cpu_of() { awk '{print $14 + $15}' "/proc/$1/stat"; }
threads() { for t in /proc/"$1"/task/*; do echo "${t##*/} $(tr ' ' _ <"$t/comm") $(awk '{print $14 + $15}' "$t/stat")"; done | sort; }
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
  ( cd "$dir" && exec env "${envs[@]}" THREATD_MODELS_DEFAULTS_DIR="$root/models" KAFKA_BOOTSTRAP_SERVERS="$bootstrap" \
      KAFKA_TOPIC_REALTIME_DATA=bench KAFKA_GROUP_ID="ab-$n-$$" "$bin" serve --port 0 --data-dir "$dir" --log-level warn \
      >"$dir/out" 2>"$dir/err" ) &
  spid=$!
  for _ in $(seq 600); do grep -q "listening on" "$dir/out" 2>/dev/null && break; sleep 0.1; done
  url=$(grep -o 'http://[0-9.]*:[0-9]*' "$dir/out" | tail -1)
  key=$(grep -o 'tdk_[A-Za-z0-9_]*' "$dir/out" | head -1)
  [[ -n $url && -n $key ]] || { echo "$label: server did not start:"; cat "$dir/err"; exit 1; }
  stored() {
    curl -s -m 2 -H "Authorization: Bearer $key" "$url/api/v1/health/detailed" |
      jq -r '.checks.consumers.internal.flows_stored // 0'
  }
  until [[ $(stored) -gt 0 ]]; do sleep 0.2; done
  [[ -n ${HOOK:-} ]] && { "$HOOK" "$spid" & }
  threads "$spid" >"$dir/threads0"
  t0=$(date +%s.%N); n0=$(stored); s0=$(cpu_of "$spid"); b0=$(cpu_of "$broker_pid")
  while :; do
    got=$(stored)
    [[ -n $got ]] && ((got >= count)) && break
    sleep 0.2
  done
  t1=$(date +%s.%N); s1=$(cpu_of "$spid"); b1=$(cpu_of "$broker_pid")
  threads "$spid" >"$dir/threads1"
  if ((got - n0 < count / 10)); then
    echo "$label: $n0 of $count flows were stored before the first timed poll; raise COUNT"
    kill "$spid"; wait "$spid" 2>/dev/null || true; spid=""
    continue
  fi
  awk -v l="$label" -v n=$((got - n0)) -v t0="$t0" -v t1="$t1" -v s=$((s1 - s0)) -v b=$((b1 - b0)) -v tck="$(getconf CLK_TCK)" \
    'BEGIN{printf "%s: %.0f flows/s, threatd %.1f us/flow, broker %.1f us/flow\n", l, n / (t1 - t0), 1e6 * s / tck / n, 1e6 * b / tck / n}'
  if [[ -n ${THREADS:-} ]]; then
    join "$dir/threads0" "$dir/threads1" | awk -v n=$((got - n0)) -v tck="$(getconf CLK_TCK)" \
      '{c[$2] += $5 - $3} END {for (k in c) if (c[k] > 0) printf "  %-16s %5.1f us/flow\n", k, 1e6 * c[k] / tck / n}' | sort -k2 -rn
  fi
  kill "$spid"; wait "$spid" 2>/dev/null || true; spid=""
  rm -rf "$dir"
done
