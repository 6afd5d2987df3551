# Shared by bench/kafka/ab.sh and steady.sh (sourced, not run): a throw-away
# broker with a backlog on topic `bench`, and threatd servers consuming it;
# run.sh uses its CPU helpers (cpu_of, threads, per_thread).
#
#   kafka_bench_setup COUNT    start the broker (removed on exit), create the
#                              output topics, produce COUNT flows; sets root,
#                              producer, profile, work, bootstrap, broker_pid
#   start_server N SPEC [ENV...]
#                              `threatd serve` in its own data dir with group
#                              "<script>-N": SPEC is "label|BIN=.. VAR=.." (see
#                              ab.sh); sets label, dir, spid, url, key
#   stop_server                stops it and removes its data dir
#   cpu_of PID                 user+system CPU ticks of a process (0 once it is gone)
#   threads PID > FILE         "tid name ticks" per thread
#   per_thread FILE0 FILE1 FLOWS
#                              CPU per flow by thread between two `threads`
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
producer=$root/build/release/bench/kafka/bench_kafka_produce
profile=$root/models/traffic_profile.json.gz
tck=$(getconf CLK_TCK)
spid=""

kafka_bench_setup() {
  [[ -x $producer ]] || { echo "missing $producer: cmake --build --preset release --target bench_kafka_produce" >&2; exit 1; }
  work=$(mktemp -d)
  trap kafka_bench_cleanup EXIT
  trap 'exit 130' INT TERM
  bootstrap=$(bash "$root/scripts/kafka-test-server.sh" start "$work/kafka")
  broker_pid=$(cat "$work/kafka/broker.pid")
  local t
  for t in predictions self-healing-actions; do
    "$producer" --bootstrap "$bootstrap" --topic "$t" --partitions 6 --count 0 --profile "$profile" >/dev/null
  done
  "$producer" --bootstrap "$bootstrap" --topic bench --partitions 6 --count "$1" --profile "$profile" --seed 7 >/dev/null
}

kafka_bench_cleanup() {
  stop_server
  bash "$root/scripts/kafka-test-server.sh" stop "$work/kafka" >/dev/null 2>&1 || true
  rm -rf "$work"
}

start_server() {
  local n=$1 spec=$2 settings="" bin=$root/build/release/bin/threatd kv
  shift 2
  local envs=("$@")
  label=${spec%%|*}
  [[ $spec == *"|"* ]] && settings=${spec#*|}
  for kv in $settings; do
    if [[ $kv == BIN=* ]]; then bin=${kv#BIN=}; else envs+=("$kv"); fi
  done
  dir=$(mktemp -d "$work/run.XXXX")
  ( cd "$dir" && exec env THREATD_MODELS_DEFAULTS_DIR="$root/models" KAFKA_BOOTSTRAP_SERVERS="$bootstrap" \
      KAFKA_TOPIC_REALTIME_DATA=bench KAFKA_GROUP_ID="$(basename "$0" .sh)-$n-$$" "${envs[@]}" \
      "$bin" serve --port 0 --data-dir "$dir" --log-level warn >"$dir/out" 2>"$dir/err" ) &
  spid=$!
  for _ in $(seq 600); do grep -q "listening on" "$dir/out" 2>/dev/null && break; sleep 0.1; done
  url=$(grep -o 'http://[0-9.]*:[0-9]*' "$dir/out" | tail -1)
  key=$(grep -o 'tdk_[A-Za-z0-9_]*' "$dir/out" | head -1)
  [[ -n $url && -n $key ]] || { echo "$label: server did not start:"; cat "$dir/err"; exit 1; }
}

stop_server() {
  if [[ -n $spid ]]; then kill "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true; fi
  spid=""
  [[ -n ${dir:-} ]] && rm -rf "$dir"
  dir=""
}

# health FILTER: a jq filter applied to the internal consumer's health.
health() {
  curl -s -m 2 -H "Authorization: Bearer $key" "$url/api/v1/health/detailed" | jq -r ".checks.consumers.internal | $1"
}

# watch_stored URL KEY RATE: one curl and one jq for a whole drain. curl
# asks /api/v1/health/detailed RATE times a second (e.g. 2/s) over one
# connection, and jq prints the internal consumer's flows_stored from each
# whole answer (one cut short by curl's 2 s limit is skipped), one line per
# reading, on the coprocess WATCH: read it with
# `read -r -t 3 n <&"${WATCH[0]}"`, stop it with unwatch. Starting curl and
# jq for every poll cost about 30 ms of CPU per poll: 3 % of this 2-core
# machine at two polls a second, taken from the drain being measured.
watch_stored() {
  # (stderr: unwatch's kill would otherwise be reported as "Terminated")
  coproc WATCH {
    curl -s -m 2 --rate "$3" -w '\n' -H "Authorization: Bearer $2" "$1/api/v1/health/detailed?reading=[1-1000000]" |
      jq --unbuffered -R -r 'fromjson? | .checks.consumers.internal.flows_stored // 0'
  } 2>/dev/null
}
unwatch() {
  local pid=${WATCH_PID:-}  # bash unsets WATCH_PID once it has reaped the coprocess
  [[ -n $pid ]] || return 0
  pkill -P "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cpu_of() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
threads() {
  local t
  for t in /proc/"$1"/task/*; do
    echo "${t##*/} $(tr ' ' _ <"$t/comm") $(awk '{print $14 + $15}' "$t/stat")"
  done 2>/dev/null | sort
}
per_thread() {
  join "$1" "$2" | awk -v n="$3" -v tck="$tck" \
    '{c[$2] += $5 - $3} END {for (k in c) if (c[k] > 0) printf "  %-16s %5.1f us/flow\n", k, 1e6 * c[k] / tck / n}' | sort -k2 -rn
}
