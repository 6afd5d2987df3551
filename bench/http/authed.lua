-- wrk script: an authenticated JSON read, GET /api/v1/auth/me with a viewer
-- key (worker-pool handler + API key verification, cached after the first hit).
--   THREATD_KEY=tdk_... wrk -t1 -c64 -d20s --latency -s bench/http/authed.lua http://127.0.0.1:8000

wrk.method = "GET"
wrk.path = "/api/v1/auth/me"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("THREATD_KEY") or "")
wrk.headers["Connection"] = "keep-alive"

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  io.write(string.format("authed: %.0f req/s, p50 %.2f ms, p99 %.2f ms, errors %d (4xx/5xx %d)\n",
    summary.requests / seconds, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
