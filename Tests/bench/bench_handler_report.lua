-- Shared by the bench_handler_*.lua scripts (bench_handler.py concatenates it after each).
-- Each wrk thread counts the responses `ok(status, headers)` accepts; done() sums the threads
-- and prints one machine-readable RESULT line (latencies in microseconds).
local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

function response(status, headers, body)
   if ok(status, headers) then good = good + 1 else
      bad = bad + 1
      if bad <= 3 then io.stderr:write(string.format("BAD status=%d location=%s\n", status,
         tostring(headers["Location"] or headers["location"]))) end
   end
end

function done(summary, latency, requests)
   local good_total, bad_total = 0, 0
   for _, t in ipairs(threads) do
      good_total = good_total + (t:get("good") or 0)
      bad_total = bad_total + (t:get("bad") or 0)
   end
   local e = summary.errors
   io.write(string.format(
      "RESULT requests=%d duration_us=%d rps=%.2f p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
      "good=%d bad=%d err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
      summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      good_total, bad_total, e.connect, e.read, e.write, e.status, e.timeout))
end
