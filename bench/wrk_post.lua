-- wrk script of bench/serve.py: POST the bodies of a file (one JSON document a line) in turn.
--   wrk -t1 -c16 -d8s -s bench/wrk_post.lua http://127.0.0.1:PORT -- /path bodies.jsonl "Token KEY"
-- Requests are formatted once per thread in init(); done() prints one line "WRK {json}".
local requests, n, i = {}, 0, 0

function init(args)
  local headers = {["Content-Type"] = "application/json"}
  if args[3] and args[3] ~= "" then headers["Authorization"] = args[3] end
  for line in io.lines(args[2]) do
    n = n + 1
    requests[n] = wrk.format("POST", args[1], headers, line)
  end
end

function request()
  i = i % n + 1
  return requests[i]
end

function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests": %d, "duration_us": %d, "http_errors": %d, "socket_errors": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
