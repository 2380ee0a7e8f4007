-- wrk script: POST /orders with a customer's bearer token, two random products, a fresh Idempotency-Key.
-- Configured by environment variables: BENCH_TOKENS (comma-separated), BENCH_PRODUCTS (comma-separated ids).
-- At the end it prints one JSON line with the counts and latency percentiles (microseconds).

local tokens, products = {}, {}
for token in string.gmatch(os.getenv("BENCH_TOKENS") or "", "[^,]+") do tokens[#tokens + 1] = token end
for id in string.gmatch(os.getenv("BENCH_PRODUCTS") or "", "[^,]+") do products[#products + 1] = tonumber(id) end

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  threads[#threads + 1] = thread
end

function init(args)
  math.randomseed(os.time() * 1000 + wrk.thread:get("id"))
  statuses = {}
  sequence = 0
end

function request()
  local a = math.random(#products)
  local b = math.random(#products - 1)
  if b >= a then b = b + 1 end
  sequence = sequence + 1
  local body = string.format(
    '{"items":[{"product_id":%d,"quantity":1},{"product_id":%d,"quantity":1}]}', products[a], products[b])
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)],
    ["Idempotency-Key"] = string.format("%d-%d-%08x%08x", wrk.thread:get("id"), sequence,
      math.random(0, 0x7fffffff), math.random(0, 0x7fffffff)),
  }
  return wrk.format("POST", "/orders", headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local totals = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      totals[status] = (totals[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(totals) do parts[#parts + 1] = string.format('"%d":%d', status, count) end
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"socket_errors":%d,"statuses":{%s},' ..
    '"p50_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    table.concat(parts, ","),
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
