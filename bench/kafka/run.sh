#!/usr/bin/env bash
# Kafka ingestion benchmark: a real broker (scripts/kafka-test-server.sh), a
# backlog of simulated flows on a topic of several partitions, and a real
# `threatd serve` consuming it into each storage backend; then the latency
# from produce to the /ws/realtime `prediction` message at half the measured
# rate. Prints one line per measurement (docs/benchmarks.md "Kafka ingestion").
#
#   bench/kafka/run.sh [build/release/bin/threatd]
#
# Environment (all optional):
#   COUNT=1000000          flows in the backlog (produced once, before any server
#                          runs; every backend consumes all of it with its own group)
#   PARTITIONS=6           partitions of the topic
#   BACKENDS="sqlite postgres"
#   WARMUP=1               first drain the backlog once with an uncounted SQLite
#                          server, then run its latency mode for
#                          WARMUP_LATENCY_SECONDS=30 at WARMUP_RATE=10000 flows/s
#                          (its lines are printed, labelled warm-up), so that the
#                          measured runs meet a broker whose JIT has compiled its
#                          fetch path and its steady produce path (a fresh broker
#                          spends about a core on the first for ~30 s; a broker
#                          that has only served drains spends about a quarter
#                          of a core on the second for the first ~30 s of a steady
#                          stream); 0 measures the cold broker
#   LATENCY_SECONDS=20     length of each latency run (0 skips it)
#   LATENCY_RATE=half      flows/s of the latency runs, one run per word ("half":
#                          half the backend's measured ingestion rate, as issue 6
#                          asks; e.g. LATENCY_RATE="half 15000 2000")
#   PG_URL=postgresql://…  use this server (else scripts/pg-test-server.sh
#                          starts a throw-away one)
#   THREATD_* / KAFKA_*    passed to the server (e.g. THREATD_KAFKA_BATCH_WAIT=10ms)
#
# The server gets THREATD_REALTIME_MAX_PREDICTIONS_PER_SECOND=1000000 (the hub
# otherwise coalesces predictions above 500/s per client, and the latency
# client would miss them) and THREATD_REALTIME_CLIENT_QUEUE=65536 (a client
# falling a few ms behind at tens of thousands per second would otherwise
# lose the oldest of 512 queued messages). Both only affect the WebSocket.
#
# Ingestion rate: flows stored between the first health poll that shows
# stored flows and the last one before all COUNT are stored (polled every
# 0.5 s from /api/v1/health/detailed consumers.internal.flows_stored, by one
# curl and one jq for the whole drain: common.sh watch_stored), so
# model loading and the consumer's start-up are not counted. Both ends are
# readings taken while flows were arriving: the poll that first shows all
# COUNT comes up to 0.5 s after the last flow was stored, and ending the
# interval there would count that idle time (on average 2.5 % of a 10 s
# drain). Server CPU (user+system) and the broker's CPU from the first poll
# to the one that shows all COUNT (so every flow's CPU is in it), the
# server's peak RSS (VmHWM).
# Reference: the original system's ~500 flows/s (issue 6: one message per
# poll, one commit per message; not runnable here, so quoted, not measured).
set -euo pipefail
source "$(dirname "$0")/common.sh"  # cpu_of, threads, per_thread (its broker helpers are ab.sh's and steady.sh's)
bin=$(realpath "${1:-$root/build/release/bin/threatd}")
producer=$(dirname "$bin")/../bench/kafka/bench_kafka_produce
[[ -x $producer ]] || { echo "missing $producer: cmake --build --preset release --target bench_kafka_produce" >&2; exit 1; }
count=${COUNT:-1000000}
partitions=${PARTITIONS:-6}
backends=${BACKENDS:-sqlite postgres}
latency_s=${LATENCY_SECONDS:-20}
topic=bench-flows
original=500
work=$(mktemp -d)
pid=""
pg_dir=""
kafka_dir="$work/kafka"
cleanup() {
  if [[ -n $pid ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  if [[ -n $pg_dir ]]; then bash "$root/scripts/pg-test-server.sh" stop "$pg_dir" >/dev/null 2>&1 || true; fi
  bash "$root/scripts/kafka-test-server.sh" stop "$kafka_dir" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

load() { cut -d' ' -f1-3 /proc/loadavg; }

echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r), $(date -u +%FT%TZ), load $(load)"
bootstrap=$(bash "$root/scripts/kafka-test-server.sh" start "$kafka_dir")
broker_pid=$(cat "$kafka_dir/broker.pid")
echo "== broker $bootstrap, topic $topic ($partitions partitions), backlog of $count flows"
# The topics threatd publishes to (kafka.topic_predictions, topic_actions):
# the broker does not create topics on first use, and every prediction is
# published, so it is part of what is measured.
for out_topic in predictions self-healing-actions; do
  "$producer" --bootstrap "$bootstrap" --topic "$out_topic" --partitions "$partitions" --count 0 \
    --profile "$root/models/traffic_profile.json.gz" >/dev/null
done
"$producer" --bootstrap "$bootstrap" --topic "$topic" --partitions "$partitions" --count "$count" \
  --profile "$root/models/traffic_profile.json.gz" --seed 7 >"$work/backlog.json"
jq -r '"produced: \(.delivered) of \(.messages) flows (\(.mean_bytes) bytes each, lz4), \(.per_second | floor) flows/s, \(.acked_seconds * 10 | floor / 10) s"' "$work/backlog.json"

# run <label> [DATABASE_URL]: one server consuming the backlog, then the latency
# runs (none for the warm-up).
run() {
  local label=$1 db=${2:-} dir
  dir=$(mktemp -d "$work/run.XXXX")
  ( cd "$dir" && exec env ${db:+DATABASE_URL=$db} THREATD_MODELS_DEFAULTS_DIR="$root/models" \
      KAFKA_BOOTSTRAP_SERVERS="$bootstrap" KAFKA_TOPIC_REALTIME_DATA="$topic" KAFKA_GROUP_ID="bench-$label-$$" \
      THREATD_REALTIME_MAX_PREDICTIONS_PER_SECOND=1000000 THREATD_REALTIME_CLIENT_QUEUE=65536 \
      "$bin" serve --port 0 --data-dir "$dir" --log-level warn >"$dir/out" 2>"$dir/err" ) &
  pid=$!
  for _ in $(seq 600); do grep -q "listening on" "$dir/out" 2>/dev/null && break; sleep 0.1; done
  local url admin
  url=$(grep -o 'http://[0-9.]*:[0-9]*' "$dir/out" | tail -1)
  admin=$(grep -o 'tdk_[A-Za-z0-9_]*' "$dir/out" | head -1)
  [[ -n $url && -n $admin ]] || { echo "server did not start:"; cat "$dir/err"; return 1; }
  stored() {
    curl -s -m 2 -H "Authorization: Bearer $admin" "$url/api/v1/health/detailed" |
      jq -r '.checks.consumers.internal | "\(.flows_stored // 0) \(.duplicates // 0) \(.batches_failed // 0) \(.state)"'
  }
  local t0="" c0=0 cpu0=0 bcpu0=0 n dup failed state now deadline=$((SECONDS + 1800)) last_change=$SECONDS prev=-1
  local t_last="" n_last=0  # the last poll that saw fewer than COUNT stored
  watch_stored "$url" "$admin" 2/s
  while :; do
    # A health check that does not answer within 2 s gives no reading (and
    # the rate's start and end stay at answered polls).
    if ! read -r -t 3 n <&"${WATCH[0]}"; then
      echo "$label: no answer from /api/v1/health/detailed within 3 s" >&2
      n=$prev
    fi
    now=$EPOCHREALTIME
    if [[ -z $t0 && $n -gt 0 ]]; then
      t0=$now; c0=$n; cpu0=$(cpu_of "$pid"); bcpu0=$(cpu_of "$broker_pid"); threads "$pid" >"$dir/threads0"
    fi
    if ((n >= count)); then break; fi
    [[ -n $t0 ]] && { t_last=$now; n_last=$n; }
    if ((n != prev)); then prev=$n; last_change=$SECONDS; fi
    if ((SECONDS - last_change > 60 || SECONDS > deadline)); then
      unwatch
      read -r n dup failed state < <(stored)
      echo "$label: stuck at $n of $count stored (state $state, batches_failed $failed); server log:"; tail -20 "$dir/err"
      return 1
    fi
  done
  unwatch
  read -r _ dup failed state < <(stored)
  local cpu1 bcpu1 hwm rate
  cpu1=$(cpu_of "$pid"); bcpu1=$(cpu_of "$broker_pid"); threads "$pid" >"$dir/threads1"
  # The topic may hold more than the backlog (an earlier backend's latency
  # run): drain it, uncounted, so the latency run starts with no lag.
  for _ in $(seq 240); do
    [[ $(curl -s -H "Authorization: Bearer $admin" "$url/api/v1/health/detailed" |
         jq -r '.checks.consumers.internal.lag_total // -1') == 0 ]] && break
    sleep 0.5
  done
  hwm=$(awk '/VmHWM/{printf "%.0f", $2 / 1024}' "/proc/$pid/status")
  # Every prediction is published to the predictions topic: shown, so a run
  # where publishing failed (e.g. a missing topic) is not mistaken for one.
  local published
  published=$(curl -s -H "Authorization: Bearer $admin" "$url/api/v1/health/detailed" |
    jq -r '.checks.publishers.producer | "\(.delivered // 0) delivered, \(.failed // 0) failed, \(.dropped // 0) dropped"')
  if [[ -z $t_last || $t_last == "$t0" ]]; then
    echo "$label: all $count flows were stored within one poll of the first; raise COUNT"; return 1
  fi
  rate=$(awk -v n="$n_last" -v c0="$c0" -v t0="$t0" -v t1="$t_last" 'BEGIN{printf "%.0f", (n - c0) / (t1 - t0)}')
  local batch
  # Over everything the server consumed so far (the topic may hold more than
  # the backlog), so flows per batch come from the pipeline's own count.
  batch=$(curl -sS "$url/metrics" | awk '/^threatd_pipeline_batch_seconds_sum/{s=$2} /^threatd_pipeline_batch_seconds_count/{c=$2}
    /^threatd_pipeline_flows_total/{f=$2} END{if (c > 0) printf "%.1f ms (%d batches, %.0f flows each)", 1000 * s / c, c, f / c}')
  awk -v l="$label" -v n="$n" -v c0="$c0" -v n1="$n_last" -v t0="$t0" -v t1="$t_last" -v r="$rate" -v o="$original" \
      -v cpu="$(awk -v t=$((cpu1 - cpu0)) -v k="$tck" 'BEGIN{print t / k}')" \
      -v bcpu="$(awk -v t=$((bcpu1 - bcpu0)) -v k="$tck" 'BEGIN{print t / k}')" -v hwm="$hwm" -v dup="$dup" \
      -v b="$batch" -v ld="$(load)" -v pub="$published" 'BEGIN{
    printf "%s: %d flows stored, %d in %.1f s = %d flows/s (%.0fx the original 500/s), server CPU %.1f s (%.1f us/flow), broker CPU %.1f s, peak RSS %d MB, duplicates %d, batch %s, predictions published: %s, load %s\n",
      l, n, n1 - c0, t1 - t0, r, r / o, cpu, 1e6 * cpu / (n - c0), bcpu, hwm, dup, b, pub, ld}'
  # Where the server's CPU went, by thread (the SQLite writer is one thread).
  per_thread "$dir/threads0" "$dir/threads1" $((n - c0)) | head -6 |
    awk -v l="$label" '{s = s (NR > 1 ? ", " : "") $1 " " $2} END {print "  " l " server CPU by thread (us/flow): " s}'
  local rates=${LATENCY_RATE:-half} secs=$latency_s
  # The warm-up's latency run is uncounted: it warms the broker's produce
  # path (see WARMUP above).
  [[ $label == warm-up ]] && { rates=${WARMUP_RATE:-10000}; secs=${WARMUP_LATENCY_SECONDS:-30}; }
  if ((latency_s > 0 && secs > 0)); then
    local lrate
    for lrate in $rates; do
      [[ $lrate == half ]] && lrate=$(( rate / 2 ))
      "$producer" --bootstrap "$bootstrap" --topic "$topic" --latency --rate "$lrate" --duration "$secs" \
        --ws "${url#http://}" --api-key "$admin" --profile "$root/models/traffic_profile.json.gz" --seed 11 \
        >"$dir/latency.json" || { echo "$label: latency run failed"; cat "$dir/latency.json"; }
      jq -r --arg l "$label" --arg ld "$(load)" '
        def s(x): if x == null then "n/a" else "p50 \(x.p50_ms * 10 | floor / 10) / p99 \(x.p99_ms * 10 | floor / 10) / max \(x.max_ms | floor) ms" end;
        "\($l) latency at \(.rate) flows/s for \(.produce_seconds | floor) s: produce -> WebSocket \(s(.produce_to_ws)); " +
        "\(.received) of \(.delivered) predictions matched (\(.missing) missing); " +
        "produce -> stored (created_at, ms resolution) \(s(.produce_to_created_at)); created_at -> WebSocket \(s(.created_at_to_ws)); load \($ld)"' \
        "$dir/latency.json"
    done
  fi
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  du -sh "$dir" | awk '{print "  data dir: " $1}'
  rm -rf "$dir"
}

if [[ ${WARMUP:-1} != 0 ]]; then
  echo "== warm-up: an uncounted SQLite drain of the backlog and latency run (WARMUP=0 skips them)"
  run warm-up
fi
for b in $backends; do
  case $b in
    sqlite) run sqlite ;;
    postgres)
      url=${PG_URL:-}
      if [[ -z $url ]]; then
        pg_dir="$work/pg"
        bash "$root/scripts/pg-test-server.sh" start "$pg_dir" >/dev/null
        url=$(cat "$pg_dir/url")
      fi
      run postgres "$url" ;;
    *) echo "unknown backend '$b' (sqlite, postgres)" >&2; exit 2 ;;
  esac
done
