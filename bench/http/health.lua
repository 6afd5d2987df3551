-- wrk script: GET /health over keep-alive connections (the HTTP server's hot path).
--
--   ./build/release/src/app/threatd serve &              # or any binary serving /health
--   wrk -t1 -c64 -d30s --latency -s bench/http/health.lua http://127.0.0.1:8000
--
-- Target (2 cores, server and wrk on the same machine): >= 50,000 req/s.
-- Prints one summary line (wrk counts 4xx/5xx answers as status errors) that
-- CI or docs/benchmarks.md can copy. No response() hook: it would slow wrk down.

wrk.method = "GET"
wrk.path = "/health"
wrk.headers["Connection"] = "keep-alive"

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  io.write(string.format("health: %.0f req/s, p50 %.2f ms, p99 %.2f ms, errors %d (4xx/5xx %d, socket %d)\n",
    summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
