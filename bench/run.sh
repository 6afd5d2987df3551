#!/usr/bin/env bash
# Runs every benchmark on this machine against the release build (`make bench`).
# Record results, with the machine and the date, in docs/benchmarks.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
b=$root/build/release
echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r), $(date -u +%F)"
echo "== HTTP (wrk)"
bash "$root/bench/http/run.sh" "$b/bin/threatd" 20
echo "== CSV reader"
"$b/bench/csv/bench_csv" --benchmark_min_time=1
echo "== inference vs XGBoost"
"$b/bench/inference/bench_inference"
echo "== pipeline end to end (upload 1M flows: SQLite, PostgreSQL; a 1 GB upload's peak RSS)"
bash "$root/bench/pipeline/run.sh" "$b/bin/threatd"
echo "== self-healing: nftables backend (apply latency, Reconcile 10k-100k vs one nft process per address)"
if [[ $(id -u) -eq 0 ]]; then
  "$b/bench/healing/bench_nftables"
else
  echo "skipped: needs root (it works in a throw-away network namespace, never on the host firewall)"
fi
echo "== Kafka ingestion (backlog of 1M flows into SQLite, PostgreSQL; produce -> WebSocket latency at half rate)"
bash "$root/bench/kafka/run.sh" "$b/bin/threatd"
