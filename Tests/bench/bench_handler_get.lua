-- GET the history page /my/requests/ as a different signed-in person on every request.
-- Environment (set by bench_handler.py): BENCH_COOKIE_NAME, BENCH_COOKIE_PREFIX, BENCH_FIRST,
-- BENCH_COUNT (session i has the cookie value PREFIX .. %07d of i, for FIRST <= i < FIRST+COUNT).
local name = os.getenv("BENCH_COOKIE_NAME")
local prefix = os.getenv("BENCH_COOKIE_PREFIX")
local first = tonumber(os.getenv("BENCH_FIRST"))
local count = tonumber(os.getenv("BENCH_COUNT"))
local path = os.getenv("BENCH_PATH") or "/my/requests/"
local n

function init(args)
   good, bad = 0, 0
   n = id              -- threads start at different sessions
end

function request()
   local i = first + (n % count)
   n = n + 7           -- step over the sessions, coprime with any count that is not a multiple of 7
   return wrk.format("GET", path, { ["Cookie"] = string.format("%s=%s%07d", name, prefix, i) })
end

function ok(status, headers) return status == 200 end
