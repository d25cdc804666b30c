-- wrk script for the soak run: cycles through the tokens in TOKENS_FILE and
-- counts response statuses; done() prints them as one JSON line.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  tokens = {}
  for line in io.lines(os.getenv("TOKENS_FILE")) do
    if #line > 0 then table.insert(tokens, line) end
  end
  i = 0
  counts = {}
end

function request()
  i = i % #tokens + 1
  return wrk.format("GET", os.getenv("TARGET_PATH"), { ["Authorization"] = "Bearer " .. tokens[i] })
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    local c = thread:get("counts")
    for status, n in pairs(c) do
      total[status] = (total[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(total) do
    table.insert(parts, string.format('"%d": %d', status, n))
  end
  io.write(string.format('STATUSES {%s} socket_errors %d\n', table.concat(parts, ", "),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
