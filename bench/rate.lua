-- wrk script for plain rate runs (GET /v1/functions/{id}; the plain Node baseline): the
-- requests are wrk's own (URL and -H headers from the command line), made POSTs with a JSON
-- body when $BENCH_BODY is set. At the end it appends the figures to $BENCH_RESULTS as a JSON
-- line of kind $BENCH_KIND (label $BENCH_LABEL) for the summary table.
local body = os.getenv("BENCH_BODY")
if body and body ~= "" then
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end

function done(summary, latency, requests)
  local path = os.getenv("BENCH_RESULTS")
  if not path then return end
  local seconds = summary.duration / 1e6
  local out = assert(io.open(path, "a"))
  out:write(string.format(
    '{"kind":"%s","label":"%s","requests":%d,"rps":%.1f,"p50":%.3f,"p99":%.3f,'
      .. '"non2xx":%d,"socket_errors":%d}\n',
    os.getenv("BENCH_KIND") or "rate", os.getenv("BENCH_LABEL") or "",
    summary.requests, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  out:close()
end
