-- wrk script of scripts/load_test.sh: adds `Authorization: Bearer
-- $STEWARD_TOKEN` when that variable is set (the gated read), counts every
-- response whose status is not 2xx (a `response` hook, summed over wrk's
-- threads), and prints one parseable summary line:
--   steward-wrk requests=N seconds=S p50=US p99=US non2xx=N connect=N read=N write=N timeout=N
-- (latencies in microseconds).
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  non2xx = 0
  local token = os.getenv("STEWARD_TOKEN")
  if token and token ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. token
  end
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do
    n = n + (t:get("non2xx") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    "steward-wrk requests=%d seconds=%.3f p50=%d p99=%d non2xx=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
    n, e.connect, e.read, e.write, e.timeout))
end
