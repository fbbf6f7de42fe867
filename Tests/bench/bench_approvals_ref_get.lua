-- The C libfcgi reference's GET (../shared/bench-baseline/src/fcgi_app.c answers a GET with its
-- short hello page, also in sqlite mode), as in the baseline's lua/get.lua; success is 200.

function init(args) good, bad = 0, 0 end

function ok(status, headers) return status == 200 end
