-- wrk script for the casegate benchmark.
--
--   wrk -t2 -c32 -d10s --latency -s bench/random_receipts.lua http://HOST:PORT/PATH \
--       -- PREFIX RECEIPTS_FILE [BEARER_TOKEN [PACE_MS [IF_NONE_MATCH]]]
--
-- PREFIX "-"  : static mode - every request is the URL given to wrk (fast
--               path inside wrk: no Lua call per request).
-- PREFIX else : each request is GET PREFIX .. <random receipt>, the receipt
--               drawn uniformly from RECEIPTS_FILE, e.g. "/status?receipt=" or
--               "/case-status/".
-- RECEIPTS_FILE holds one 13-character receipt number per line ("\n" only),
--               read once per wrk thread as a single string (14 bytes/receipt,
--               so 1M receipts cost 14 MB per thread, not a 1M-entry table).
-- BEARER_TOKEN, when given and not "-", is sent as "Authorization: Bearer …".
-- PACE_MS, when given and not "-", makes each connection wait PACE_MS
--               milliseconds (fractional values are met on average) after
--               each response before sending its next request, to offer a
--               lower, roughly fixed rate. This is still closed-loop (not
--               wrk2's constant-throughput mode).
-- IF_NONE_MATCH, when given and not "-", is sent as "If-None-Match" (an
--               ETag from an earlier answer, so the server answers 304).
--
-- done() prints one machine-readable line starting with "BENCH " that
-- bench/run parses (latencies in microseconds).

local WIDTH = 14 -- 13 characters + "\n"
local receipts, count, prefix, pace = nil, 0, nil, nil

local thread_no = 0
function setup(thread)
  thread_no = thread_no + 1
  thread:set("tid", thread_no)
end

function init(args)
  prefix = args[1] or "-"
  local file = args[2]
  local token = args[3]
  pace = tonumber(args[4] or "")
  if not pace or pace <= 0 then
    delay = nil -- no pacing: wrk sends the next request immediately
  end
  if token and token ~= "" and token ~= "-" then
    wrk.headers["Authorization"] = "Bearer " .. token
  end
  local inm = args[5]
  if inm and inm ~= "" and inm ~= "-" then
    wrk.headers["If-None-Match"] = inm
  end
  -- Deterministic per-thread sequence (tid is set by setup()).
  math.randomseed(7919 * ((tid or 0) + 1))
  if prefix == "-" then
    request = nil -- static request: wrk builds it once
    return
  end
  local f = assert(io.open(file, "rb"), "cannot open receipts file " .. tostring(file))
  receipts = f:read("*a")
  f:close()
  if #receipts == 0 or #receipts % WIDTH ~= 0 then
    error("receipts file must hold 13-character lines ending in \\n: " .. file)
  end
  count = #receipts / WIDTH
end

function request()
  local off = math.random(0, count - 1) * WIDTH
  return wrk.format("GET", prefix .. receipts:sub(off + 1, off + 13))
end

function delay()
  local whole = math.floor(pace)
  if math.random() < pace - whole then whole = whole + 1 end
  return whole
end

function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "BENCH requests=%d duration_s=%.3f rps=%.1f mean_us=%.1f p50_us=%d p90_us=%d " ..
    "p99_us=%d p999_us=%d max_us=%d non2xx=%d err_connect=%d err_read=%d " ..
    "err_write=%d err_timeout=%d bytes=%d\n",
    summary.requests, secs, summary.requests / secs, latency.mean,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, e.status, e.connect, e.read,
    e.write, e.timeout, summary.bytes))
end
