-- POST /requests: each request submits for a different signed-in person, so every post is a
-- valid new request (one open request or assignment per person and package). Person i is
-- internal when i % 10 < BENCH_INTERNAL_TENTHS and then requests BENCH_INTERNAL_BODY, else it
-- is external and requests BENCH_EXTERNAL_BODY. Thread t of T takes FIRST+t, FIRST+t+T, ...
-- A success is 303 to the new request's page (/my/requests/<id>/); anything else counts as bad.
local name = os.getenv("BENCH_COOKIE_NAME")
local prefix = os.getenv("BENCH_COOKIE_PREFIX")
local first = tonumber(os.getenv("BENCH_FIRST"))
local count = tonumber(os.getenv("BENCH_COUNT"))
local threads_n = tonumber(os.getenv("BENCH_THREADS"))
local tenths = tonumber(os.getenv("BENCH_INTERNAL_TENTHS"))
local internal_body = os.getenv("BENCH_INTERNAL_BODY")
local external_body = os.getenv("BENCH_EXTERNAL_BODY")
local origin = os.getenv("BENCH_ORIGIN")
local k

function init(args)
   good, bad = 0, 0
   k = 0
end

function request()
   local i = first + ((id + k * threads_n) % count)
   k = k + 1
   local body = (i % 10 < tenths) and internal_body or external_body
   return wrk.format("POST", "/requests", {
      ["Cookie"] = string.format("%s=%s%07d", name, prefix, i),
      ["Origin"] = origin,
      ["Content-Type"] = "application/x-www-form-urlencoded",
   }, body)
end

function ok(status, headers)
   local location = headers["Location"] or headers["location"] or ""
   return status == 303 and string.sub(location, 1, 13) == "/my/requests/"
end
