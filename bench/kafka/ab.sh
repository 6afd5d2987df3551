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
source "$(dirname "$0")/common.sh"
count=$1; shift
kafka_bench_setup "$count"
n=0
for spec in "$@"; do
  n=$((n + 1))
  start_server "$n" "$spec"
  watch_stored "$url" "$key" 5/s
  n0=0
  until ((n0 > 0)); do read -r -t 3 n0 <&"${WATCH[0]}" || n0=0; done
  t0=$EPOCHREALTIME; s0=$(cpu_of "$spid"); b0=$(cpu_of "$broker_pid")
  [[ -n ${HOOK:-} ]] && { "$HOOK" "$spid" & }
  threads "$spid" >"$work/threads0"
  # The rate ends at the last poll that saw flows still arriving (the one
  # that sees all of them comes up to 0.2 s after the last was stored); the
  # CPU ends at that one, so it covers every flow.
  t1=$t0; n1=$n0
  while :; do
    read -r -t 3 got <&"${WATCH[0]}" || got=""
    [[ -n $got ]] && ((got >= count)) && break
    [[ -n $got ]] && { n1=$got; t1=$EPOCHREALTIME; }
  done
  s1=$(cpu_of "$spid"); b1=$(cpu_of "$broker_pid")
  unwatch
  threads "$spid" >"$work/threads1"
  stop_server
  if ((n1 - n0 < count / 10)); then
    echo "$label: fewer than a tenth of $count flows were stored between timed polls; raise COUNT"
    continue
  fi
  awk -v l="$label" -v n=$((got - n0)) -v r=$((n1 - n0)) -v t0="$t0" -v t1="$t1" -v s=$((s1 - s0)) -v b=$((b1 - b0)) -v tck="$tck" \
    'BEGIN{printf "%s: %.0f flows/s, threatd %.1f us/flow, broker %.1f us/flow\n", l, r / (t1 - t0), 1e6 * s / tck / n, 1e6 * b / tck / n}'
  [[ -n ${THREADS:-} ]] && per_thread "$work/threads0" "$work/threads1" $((got - n0))
done
