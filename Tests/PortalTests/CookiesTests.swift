import Portal
import Testing

@Suite struct CookiesTests {
    @Test func parsesPairsInOrder() {
        let cookies = Cookies(header: "gatehouse_session=abc123; theme=dark;lang=fr")
        #expect(cookies["gatehouse_session"] == "abc123")
        #expect(cookies["theme"] == "dark")
        #expect(cookies["lang"] == "fr")
        #expect(cookies.pairs.map(\.name) == ["gatehouse_session", "theme", "lang"])
    }

    @Test func absentOrEmptyHeaderHasNoCookies() {
        #expect(Cookies(header: nil).isEmpty)
        #expect(Cookies(header: "").isEmpty)
        #expect(Cookies(header: " ; ;").isEmpty)
    }

    @Test func firstOfRepeatedNamesWinsAndAllAreKept() {
        let cookies = Cookies(header: "sid=path-specific; sid=root")
        #expect(cookies["sid"] == "path-specific")
        #expect(cookies.values("sid") == ["path-specific", "root"])
    }

    @Test func whitespaceAndQuotesAreTrimmed() {
        let cookies = Cookies(header: "  a = 1 ;\tb=\"quoted\" ; c=\"\"")
        #expect(cookies["a"] == "1")
        #expect(cookies["b"] == "quoted")
        #expect(cookies["c"] == "")
    }

    @Test func valuesMayContainEquals() {
        #expect(Cookies(header: "token=YWJj==; x=y")["token"] == "YWJj==")
    }

    @Test func malformedPairsAreSkippedWithoutLosingTheRest() {
        let cookies = Cookies(header: "novalue; =anonymous; bad name=1; bad\"q=2; sp=a b; ok=1; é=3; also=ok")
        #expect(cookies.pairs.map(\.name) == ["ok", "also"])
        #expect(cookies["ok"] == "1")
        #expect(cookies["sp"] == nil)
    }

    @Test func sessionCookieIsHttpOnlyLaxAndSecureOnHTTPS() throws {
        let secure = SessionCookie(baseURL: "https://access.contoso.example")
        #expect(try secure.setCookie(value: "c2Vzc2lvbg", maxAge: 43_200)
            == "gatehouse_session=c2Vzc2lvbg; Path=/; Max-Age=43200; HttpOnly; SameSite=Lax; Secure")
        let plain = SessionCookie(baseURL: "http://localhost:8080")
        #expect(try plain.setCookie(value: "0f1e", maxAge: 60)
            == "gatehouse_session=0f1e; Path=/; Max-Age=60; HttpOnly; SameSite=Lax")
        #expect(SessionCookie(baseURL: "HTTPS://ACCESS.contoso.example").secure)
    }

    @Test func deletionExpiresTheCookie() {
        #expect(SessionCookie(baseURL: "https://access.contoso.example").deletion
            == "gatehouse_session=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax; Secure")
        #expect(SessionCookie(baseURL: "http://localhost", name: "sid").deletion
            == "sid=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax")
    }

    @Test func valuesThatWouldBreakTheHeaderAreRefused() {
        let cookie = SessionCookie(baseURL: "https://access.contoso.example")
        for value in ["", "a;b", "a b", "a,b", "a\"b", "a\\b", "é", "a\r\nSet-Cookie: x=y"] {
            #expect(throws: CookieError.invalidValue) { try cookie.setCookie(value: value, maxAge: 60) }
        }
        #expect(throws: CookieError.nonPositiveMaxAge(0)) { try cookie.setCookie(value: "abc", maxAge: 0) }
    }

    @Test func readsTheSessionFromRequestCookies() {
        let cookie = SessionCookie(baseURL: "https://access.contoso.example")
        #expect(cookie.value(in: Cookies(header: "theme=dark; gatehouse_session=s1")) == "s1")
        #expect(cookie.value(in: Cookies(header: "theme=dark")) == nil)
    }
}
