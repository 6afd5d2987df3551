#!/usr/bin/env bash
# Runs the HTTP benchmarks against a release build of threatd on this machine:
# GET /health and an authenticated JSON read, keep-alive, wrk with one thread
# and 64 connections. Prints one line per benchmark.
#   bench/http/run.sh [build/release/bin/threatd] [seconds]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$(realpath "${1:-$root/build/release/bin/threatd}")
secs=${2:-20}
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

cd "$work"
"$bin" serve --port 0 --data-dir "$work" --log-level warn > "$work/out" 2> "$work/err" &
pid=$!
for _ in $(seq 100); do grep -q "listening on" "$work/out" && break; sleep 0.05; done
url=$(grep -o 'http://[0-9.]*:[0-9]*' "$work/out" | tail -1)
admin=$(grep -o 'tdk_[A-Za-z0-9_]*' "$work/out" | head -1)
viewer=$(curl -s -X POST "$url/api/v1/keys" -H "Authorization: Bearer $admin" \
  -H 'Content-Type: application/json' -d '{"name":"bench","role":"viewer"}' | sed -E 's/.*"key":"([^"]+)".*/\1/')

wrk -t1 -c64 -d"${secs}s" --latency -s "$root/bench/http/health.lua" "$url" | tail -1
THREATD_KEY=$viewer wrk -t1 -c64 -d"${secs}s" --latency -s "$root/bench/http/authed.lua" "$url" | tail -1
