-- wrk script for the v2 infer endpoint: POSTs the body in $BODY (a file) and
-- prints one JSON line with requests/s, rows/s and latency percentiles (ms).
local body_file = os.getenv("BODY")
local rows = tonumber(os.getenv("ROWS") or "1")
local f = assert(io.open(body_file, "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"

local errors = 0
response = function(status, headers, body)
  if status ~= 200 then errors = errors + 1 end
end

done = function(summary, latency, requests)
  local secs = summary.duration / 1e6
  local non200 = summary.errors.status
  io.write(string.format(
    '{"requests": %d, "seconds": %.2f, "requests_per_s": %.1f, "rows_per_s": %.1f, "p50_ms": %.3f, "p99_ms": %.3f, ' ..
    '"p999_ms": %.3f, "max_ms": %.3f, "socket_errors": %d, "non_200": %d}\n',
    summary.requests, secs, summary.requests / secs, rows * summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000, latency.max / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, non200))
end
