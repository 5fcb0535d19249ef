-- wrk script shared by every Onramp benchmark scenario (driven by bench/run.sh).
--
-- Environment:
--   BENCH_METHOD        HTTP method (default GET)
--   BENCH_BODY          request body; when set, Content-Type: application/json is added
--                       (or BENCH_CONTENT_TYPE when that is set)
--   BENCH_COUNT_STATUS  "1": count responses per status code exactly (adds a Lua
--                       callback per response, so only used for slow endpoints)
--   BENCH_PATHS         a file of request paths, one a line: requests cycle through
--                       them (each thread from its own offset) instead of the URL's
--                       path; a Lua call per request, so compare only runs that
--                       both use it
--   BENCH_UNIQUE        "1": every "{n}" in BENCH_BODY becomes a number no other
--                       request of the run uses (unique emails for creations);
--                       a Lua call per request, so compare only runs that both use it
-- Host and Authorization headers are passed with wrk -H.
--
-- At the end it prints one machine-readable line starting with "BENCH ",
-- which run.sh parses, after wrk's usual human-readable report.

local method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY")

wrk.method = method
if body ~= nil and body ~= "" then
  wrk.body = body
  local content_type = os.getenv("BENCH_CONTENT_TYPE")
  if content_type == nil or content_type == "" then content_type = "application/json" end
  wrk.headers["Content-Type"] = content_type
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

local paths_file = os.getenv("BENCH_PATHS")
if paths_file ~= nil and paths_file ~= "" then
  local paths = {}
  for line in io.lines(paths_file) do
    if line ~= "" then table.insert(paths, line) end
  end
  assert(#paths > 0, "no paths in " .. paths_file)
  local next_path = 0

  -- Threads start apart so they do not ask for the same item at the same moment.
  function init(args)
    next_path = math.floor((thread_number or 0) * #paths / 7) % #paths
  end

  function request()
    next_path = next_path % #paths + 1
    return wrk.format(nil, paths[next_path])
  end
end

if os.getenv("BENCH_UNIQUE") == "1" then
  local sent = 0
  function request()
    sent = sent + 1
    local n = string.format("%d-%d-%d", os.time(), thread_number or 0, sent)
    return wrk.format(nil, nil, nil, (body:gsub("{n}", n)))
  end
end

if os.getenv("BENCH_COUNT_STATUS") == "1" then
  statuses = {}
  function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  local parts = {
    string.format("requests=%d", summary.requests),
    string.format("duration_s=%.3f", secs),
    string.format("rps=%.1f", summary.requests / secs),
    string.format("non2xx3xx=%d", e.status),
    string.format("sock_connect=%d", e.connect),
    string.format("sock_read=%d", e.read),
    string.format("sock_write=%d", e.write),
    string.format("sock_timeout=%d", e.timeout),
    string.format("lat_mean_ms=%.3f", latency.mean / 1000),
    string.format("lat_p50_ms=%.3f", latency:percentile(50) / 1000),
    string.format("lat_p90_ms=%.3f", latency:percentile(90) / 1000),
    string.format("lat_p99_ms=%.3f", latency:percentile(99) / 1000),
    string.format("lat_max_ms=%.3f", latency.max / 1000),
  }
  if os.getenv("BENCH_COUNT_STATUS") == "1" then
    local total = {}
    for _, t in ipairs(threads) do
      local s = t:get("statuses")
      if s then
        for code, n in pairs(s) do
          total[code] = (total[code] or 0) + n
        end
      end
    end
    local codes = {}
    for code, _ in pairs(total) do table.insert(codes, code) end
    table.sort(codes)
    local list = {}
    for _, code in ipairs(codes) do table.insert(list, string.format("%d:%d", code, total[code])) end
    local ok = total[200] or 0
    table.insert(parts, string.format("status200=%d", ok))
    table.insert(parts, string.format("rps200=%.1f", ok / secs))
    table.insert(parts, "statuses=" .. (#list > 0 and table.concat(list, ",") or "none"))
  end
  io.write("BENCH " .. table.concat(parts, " ") .. "\n")
end
