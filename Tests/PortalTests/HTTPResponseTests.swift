import Portal
import Testing

@Suite struct HTTPResponseTests {
    @Test func htmlPageHasTypeCachingAndBody() {
        let response = HTTPResponse.html("<p>Olá</p>")
        #expect(response.status == .ok)
        #expect(response.header("content-type") == "text/html; charset=utf-8")
        #expect(response.header("Cache-Control") == "no-store")
        #expect(response.body == Array("<p>Olá</p>".utf8))
    }

    @Test func redirectIs303ToThePath() {
        let response = HTTPResponse.redirect(to: SafeRedirect("/my/requests/42/")!)
        #expect(response.status.code == 303)
        #expect(response.header("Location") == "/my/requests/42/")
        #expect(response.body.isEmpty)
    }

    @Test func plainErrorCarriesTheMessage() {
        let response = HTTPResponse.error(.badRequest, "The form could not be read.")
        #expect(response.status.code == 400)
        #expect(response.header("Content-Type") == "text/plain; charset=utf-8")
        #expect(response.bodyText == "The form could not be read.\n")
    }

    @Test func headersKeepRepeatsUnlessSet() {
        var response = HTTPResponse()
        response.addHeader("Set-Cookie", "a=1")
        response.addHeader("Set-Cookie", "b=2")
        #expect(response.headerValues("set-cookie") == ["a=1", "b=2"])
        response.setHeader("set-cookie", "c=3")
        #expect(response.headerValues("Set-Cookie") == ["c=3"])
    }

    @Test func cgiBytesAreTheFastCGIStdoutStream() {
        var response = HTTPResponse.redirect(to: SafeRedirect("/access-packages/")!)
        response.addHeader("Set-Cookie", "gatehouse_session=abc; Path=/")
        response.addHeader("Content-Length", "999")
        #expect(String(decoding: response.cgiBytes, as: UTF8.self) == """
            Status: 303 See Other\r
            Location: /access-packages/\r
            Cache-Control: no-store\r
            Set-Cookie: gatehouse_session=abc; Path=/\r
            Content-Length: 0\r
            \r

            """)
        let page = HTTPResponse(status: .ok, headers: [.init("Content-Type", "text/plain")], body: Array("hé".utf8))
        #expect(String(decoding: page.cgiBytes, as: UTF8.self)
            == "Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nhé")
    }

    @Test func headerValuesCannotInjectLines() {
        let response = HTTPResponse(headers: [.init("X-Note", "a\r\nSet-Cookie: evil=1\0")])
        #expect(String(decoding: response.cgiBytes, as: UTF8.self)
            == "Status: 200 OK\r\nX-Note: a  Set-Cookie: evil=1 \r\nContent-Length: 0\r\n\r\n")
    }
}

@Suite struct SafeRedirectTests {
    @Test(arguments: [
        "/", "/access-packages/", "/access-packages/external-contractor/request/contractors/fr/",
        "/my/requests/?page=2", "/access-packages/caf%C3%A9/",
    ])
    func sameSitePathsAreAccepted(target: String) {
        #expect(SafeRedirect(target)?.path == target)
    }

    @Test(arguments: [
        "", "access-packages/", "https://evil.example/", "http://access.contoso.example/",
        "//evil.example", "//evil.example/access-packages/", "/\\evil.example", "\\\\evil.example",
        "/access-packages/\\..\\", "/a b", "/a\r\nSet-Cookie: x=y", "/a\tb", "/café/",
        "javascript:alert(1)", " /leading-space",
    ])
    func everythingElseIsRefused(target: String) {
        #expect(SafeRedirect(target) == nil)
    }

    @Test func overlongTargetsAreRefused() {
        #expect(SafeRedirect("/" + String(repeating: "a", count: 2047)) != nil)
        #expect(SafeRedirect("/" + String(repeating: "a", count: 2048)) == nil)
    }

    @Test func signInReturnFallsBackToHome() {
        #expect(SafeRedirect.returnTarget("/access-packages/x/").path == "/access-packages/x/")
        #expect(SafeRedirect.returnTarget("//evil.example").path == "/access-packages/")
        #expect(SafeRedirect.returnTarget("").path == "/access-packages/")
        #expect(SafeRedirect.returnTarget(nil) == .home)
    }
}
