#!/usr/bin/env bash
# Where the CPU goes at a steady rate: one broker, warmed by a backlog that an
# uncounted threatd server drains first and by a steady stream; then, for
# each SPEC (as in bench/kafka/ab.sh), a fresh server that starts at the topic's end and
# bench_kafka_produce's latency mode at RATE flows/s for SECONDS. Prints the
# CPU per flow of threatd, the broker and the producer (which also runs the
# WebSocket client), the machine's idle share, and the latency summary.
#
#   bench/kafka/steady.sh RATE SECONDS "label|VAR=value ..." ...
#
# Environment: THREADS=1 also prints threatd's and the broker's CPU per flow
# by thread; WARM=300000 flows in the warming backlog, WARM_SECONDS=30 of
# the steady stream after it (both uncounted); TIMELINE=<prefix> writes each
# run's worst latencies per 100 ms to <prefix>.<run>.csv; HOOK=<script> is
# started with the server's and the broker's pids when the timed part begins
# (e.g. to run perf on one, or a JFR recording on the broker).
set -euo pipefail
(($# >= 3)) || { sed -n '2,15p' "$0"; exit 2; }
source "$(dirname "$0")/common.sh"
rate=$1 secs=$2; shift 2
((secs >= 10)) || { echo "SECONDS must be at least 10 (3 s are left out at each end)" >&2; exit 2; }
kafka_bench_setup "${WARM:-300000}"
n=0  # the run number (0: the warm-up)
idle() { awk '/^cpu /{print $5 + $6}' /proc/stat; }
# stream SECONDS SEED: bench_kafka_produce's latency mode at RATE against the
# current server, its JSON summary on stdout. It execs, so call it in a
# subshell: ( ... ) or & (then $! is the producer's pid, whose CPU is counted).
stream() {
  exec "$producer" --bootstrap "$bootstrap" --topic bench --latency --rate "$rate" --duration "$1" --ws "${url#http://}" \
    --api-key "$key" --profile "$profile" --seed "$2" ${TIMELINE:+--timeline "$TIMELINE.$n.csv"}
}
start_server 0 "warm-up|" THREATD_REALTIME_MAX_PREDICTIONS_PER_SECOND=1000000 THREATD_REALTIME_CLIENT_QUEUE=65536
until [[ $(health '.flows_stored // 0') -ge ${WARM:-300000} ]]; do sleep 0.5; done
# Then WARM_SECONDS of the steady stream itself, uncounted: a broker that has
# only served a drain spends about a quarter of a core compiling its
# produce path (JIT) over the first ~30 s of a steady stream.
((${WARM_SECONDS:-30} > 0)) && (stream "${WARM_SECONDS:-30}" 5 >/dev/null)
stop_server
for spec in "$@"; do
  n=$((n + 1))
  # From the topic's end (not the backlog); the hub's per-client limit and
  # queue are raised so the client gets every prediction.
  start_server "$n" "$spec" KAFKA_AUTO_OFFSET_RESET=latest THREATD_REALTIME_MAX_PREDICTIONS_PER_SECOND=1000000 \
    THREATD_REALTIME_CLIENT_QUEUE=65536
  until [[ $(health '.assigned_partitions // [] | length') -gt 0 ]]; do sleep 0.5; done
  sleep 2  # the group's start offsets are fetched
  stream "$secs" 11 >"$work/latency.json" &
  load_pid=$!
  sleep 3
  threads "$spid" >"$work/threads0"
  threads "$broker_pid" >"$work/broker0"
  [[ -n ${HOOK:-} ]] && { "$HOOK" "$spid" "$broker_pid" & }
  t0=$(date +%s.%N); s0=$(cpu_of "$spid"); b0=$(cpu_of "$broker_pid"); p0=$(cpu_of "$load_pid"); i0=$(idle)
  sleep $((secs - 6))
  t1=$(date +%s.%N); s1=$(cpu_of "$spid"); b1=$(cpu_of "$broker_pid"); p1=$(cpu_of "$load_pid"); i1=$(idle)
  threads "$spid" >"$work/threads1"
  threads "$broker_pid" >"$work/broker1"
  wait "$load_pid"
  stop_server
  flows=$(awk -v r="$rate" -v a="$t0" -v b="$t1" 'BEGIN{printf "%d", r * (b - a)}')
  awk -v l="$label" -v r="$rate" -v n="$flows" -v s=$((s1 - s0)) -v b=$((b1 - b0)) -v p=$((p1 - p0)) -v i=$((i1 - i0)) \
      -v t="$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b - a}')" -v tck="$tck" 'BEGIN{
    printf "%s at %d flows/s: threatd %.1f us/flow, broker %.1f, producer + WebSocket client %.1f; idle %.2f of the cores\n",
      l, r, 1e6 * s / tck / n, 1e6 * b / tck / n, 1e6 * p / tck / n, i / tck / t}'
  if [[ -n ${THREADS:-} ]]; then
    per_thread "$work/threads0" "$work/threads1" "$flows"
    echo "  broker threads:"
    per_thread "$work/broker0" "$work/broker1" "$flows" | head -8
  fi
  jq -r '"  produce -> WebSocket p50 \(.produce_to_ws.p50_ms) / p99 \(.produce_to_ws.p99_ms) ms (produce -> stored p99 \(.produce_to_created_at.p99_ms), stored -> WebSocket p99 \(.created_at_to_ws.p99_ms)); \(.received) of \(.delivered) matched"' \
    "$work/latency.json"
done
