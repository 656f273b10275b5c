-- wrk script for the throughput run: synchronous executions,
--   POST /v1/functions/{id}/executions {"data":"bench"}
-- (the URL and the X-Appwrite-* headers come from the command line). Every answer is checked:
-- HTTP 201 and an execution whose status is "completed"; the counts are printed and appended
-- to $BENCH_RESULTS as a JSON line for the summary table.
wrk.method = "POST"
wrk.body = '{"data":"bench"}'
wrk.headers["Content-Type"] = "application/json"

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  completed = 0   -- 201 and "status":"completed"
  other = 0       -- 201 with any other execution status (failed, a timeout, ...)
  rejected = 0    -- any HTTP status but 201
  sample = ""     -- the first unexpected answer, to show what went wrong
end

function response(status, headers, body)
  if status == 201 and body:find('"status":"completed"', 1, true) then
    completed = completed + 1
    return
  end
  if status == 201 then other = other + 1 else rejected = rejected + 1 end
  if sample == "" then sample = status .. " " .. string.sub(body or "", 1, 300) end
end

function done(summary, latency, requests)
  local c, o, r, sample = 0, 0, 0, ""
  for _, thread in ipairs(threads) do
    c = c + thread:get("completed")
    o = o + thread:get("other")
    r = r + thread:get("rejected")
    local s = thread:get("sample")
    if sample == "" and s ~= "" then sample = s end
  end
  local seconds = summary.duration / 1e6
  local socket_errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  print(string.format("executions: %d completed, %d not completed (201), %d not 201, %d socket errors",
    c, o, r, socket_errors))
  if sample ~= "" then print("first unexpected answer: " .. sample) end
  local path = os.getenv("BENCH_RESULTS")
  if not path then return end
  local out = assert(io.open(path, "a"))
  out:write(string.format(
    '{"kind":"throughput","label":"%s","requests":%d,"completed":%d,"not_completed":%d,"non201":%d,'
      .. '"socket_errors":%d,"completed_per_s":%.1f,"p50":%.3f,"p99":%.3f}\n',
    os.getenv("BENCH_LABEL") or "", summary.requests, c, o, r, socket_errors, c / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
  out:close()
end
