-- GET /approvals/<id>/ as the request's approver, walking the (cookie, request id) pairs of
-- BENCH_PAIRS (one "COOKIE_VALUE REQUEST_ID" a line, written by bench_approvals.py; the pending
-- requests with the approvers interleaved). Thread t of BENCH_THREADS takes pairs t, t+T, ...
-- and starts over at the end. Success is 200.
local name = os.getenv("BENCH_COOKIE_NAME")
local threads_n = tonumber(os.getenv("BENCH_THREADS"))
local list = {}
for line in io.lines(os.getenv("BENCH_PAIRS")) do
   local value, rid = line:match("^(%S+) (%S+)$")
   if value then list[#list + 1] = { value, rid } end
end
local k

function init(args)
   good, bad = 0, 0
   k = 0
end

function request()
   local p = list[((id + k * threads_n) % #list) + 1]
   k = k + 1
   return wrk.format("GET", "/approvals/" .. p[2] .. "/", { ["Cookie"] = name .. "=" .. p[1] })
end

function ok(status, headers) return status == 200 end
