-- The C libfcgi + SQLite reference (../shared/bench-baseline/src/fcgi_app.c): the baseline's
-- POST, a 393-byte contact form, byte for byte as in its lua/post.lua; success is 200.

function init(args) good, bad = 0, 0 end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "name=Ada+Example&email=ada.example%40example.org&team=documentation&subject=Access+request%3A+documentation+team&message=Hello+moderators%2C+I+maintain+the+German+translation+of+the+user+guide+and+would+like+to+help+review+incoming+documentation+changes.+I+heard+about+the+portal+at+the+spring+meetup+%26+would+love+to+join+the+%23docs+channel.+Thanks%21+%2F+Ada+%28ref+%2310432%29&consent=yes"

function ok(status, headers) return status == 200 end
