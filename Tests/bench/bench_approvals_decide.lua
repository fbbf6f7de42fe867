-- POST /approvals/<id>/decide (BENCH_BODY: approve stage 1, with a reason) as the request's approver, each
-- post for a different pending request: the (cookie, request id) pairs of BENCH_PAIRS, thread t
-- of BENCH_THREADS taking pairs t, t+T, ... A thread that runs out starts over, and those
-- replays answer 409 (already decided): bench_approvals.py sizes the runs so that none is needed
-- and fails the run if one may have been. Success is 303 to the request's page; anything else
-- counts as other.
local name = os.getenv("BENCH_COOKIE_NAME")
local threads_n = tonumber(os.getenv("BENCH_THREADS"))
local origin = os.getenv("BENCH_ORIGIN")
local body = os.getenv("BENCH_BODY")
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
   return wrk.format("POST", "/approvals/" .. p[2] .. "/decide", {
      ["Cookie"] = name .. "=" .. p[1],
      ["Origin"] = origin,
      ["Content-Type"] = "application/x-www-form-urlencoded",
   }, body)
end

function ok(status, headers)
   local location = headers["Location"] or headers["location"] or ""
   return status == 303 and string.sub(location, 1, 11) == "/approvals/"
end
