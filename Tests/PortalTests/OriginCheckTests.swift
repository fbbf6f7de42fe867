import Portal
import Testing

@Suite struct OriginCheckTests {
    let check: OriginCheck

    init() throws {
        check = try OriginCheck(baseURL: "https://access.contoso.example")
    }

    @Test(arguments: [
        // Origin decides when present.
        ("https://access.contoso.example", nil, true),
        ("https://ACCESS.Contoso.Example", nil, true),
        ("https://access.contoso.example:443", nil, true),
        ("https://access.contoso.example", "https://evil.example/", true),
        ("https://access.contoso.example:8443", nil, false),
        ("http://access.contoso.example", nil, false),
        ("https://access.contoso.example.evil.example", nil, false),
        ("https://evil-access.contoso.example", nil, false),
        ("https://contoso.example", nil, false),
        ("null", "https://access.contoso.example/access-packages/", false),
        ("https://access.contoso.example/", nil, false),
        ("https://user@access.contoso.example", nil, false),
        ("evil.example", nil, false),
        // Without Origin, the Referer's origin must match.
        (nil, "https://access.contoso.example/access-packages/x/request/p/", true),
        (nil, "https://access.contoso.example", true),
        (nil, "https://access.contoso.example:443/sign-in/?return=%2F", true),
        (nil, "https://access.contoso.example/", true),
        (nil, "https://access.contoso.examplex/", false),
        (nil, "https://access.contoso.example:8443/", false),
        // Browsers read a backslash as a slash in http(s) URLs: this path is on the site.
        (nil, "https://access.contoso.example\\@evil.example/", true),
        (nil, "https://access.contoso.example.evil.example/", false),
        (nil, "https://access.contoso.example@evil.example/", false),
        (nil, "https://access.contoso.example:444/", false),
        (nil, "http://access.contoso.example/", false),
        (nil, "/access-packages/", false),
        (nil, nil, false),
        ("", "", false),
    ] as [(String?, String?, Bool)])
    func originTable(origin: String?, referer: String?, allowed: Bool) {
        let result = check.check(origin: origin, referer: referer)
        if case .success = result { #expect(allowed) } else { #expect(!allowed) }
    }

    @Test func refusalsSayWhatWasSent() {
        func reason(_ origin: String?, _ referer: String?) -> String {
            if case .failure(let refusal) = check.check(origin: origin, referer: referer) { return refusal.description }
            return "allowed"
        }
        #expect(reason("null", nil) == "refused: Origin is 'null', expected https://access.contoso.example")
        #expect(reason("https://access.contoso.example.evil.example", nil)
            == "refused: Origin https://access.contoso.example.evil.example is not https://access.contoso.example")
        #expect(reason("HTTP://Access.Contoso.Example:80", nil)
            == "refused: Origin http://access.contoso.example is not https://access.contoso.example")
        #expect(reason("ftp://x", nil)
            == "refused: Origin 'ftp://x' is not an http(s) origin, expected https://access.contoso.example")
        #expect(reason(nil, "https://evil.example:8443/page")
            == "refused: no Origin, and Referer is on https://evil.example:8443, not https://access.contoso.example")
        #expect(reason(nil, "about:blank")
            == "refused: no Origin, and Referer 'about:blank' is not an http(s) URL, expected one on https://access.contoso.example")
        #expect(reason(nil, nil) == "refused: neither Origin nor Referer was sent, expected https://access.contoso.example")
    }

    @Test func refusalIsA403WithAMessageForThePerson() {
        guard case .failure(let refusal) = check.check(origin: "https://evil.example", referer: nil) else {
            Issue.record("expected a refusal")
            return
        }
        let response = HTTPResponse.error(refusal)
        #expect(response.status.code == 403)
        #expect(response.bodyText == "This form was not sent from https://access.contoso.example, so nothing was changed. Open the page on https://access.contoso.example and send it again.\n")
    }

    @Test func nonDefaultPortsAndHTTPBaseURLs() throws {
        let local = try OriginCheck(baseURL: "http://127.0.0.1:8080/")
        #expect(local.siteOrigin.description == "http://127.0.0.1:8080")
        #expect((try? local.check(origin: "http://127.0.0.1:8080", referer: nil).get()) != nil)
        #expect((try? local.check(origin: "http://127.0.0.1", referer: nil).get()) == nil)
        #expect((try? local.check(origin: "http://localhost:8080", referer: nil).get()) == nil)
        let defaultPort = try OriginCheck(baseURL: "http://portal.example:80/gatehouse")
        #expect(defaultPort.siteOrigin.description == "http://portal.example")
        #expect((try? defaultPort.check(origin: "http://portal.example", referer: nil).get()) != nil)
        let ipv6 = try OriginCheck(baseURL: "https://[::1]:8443")
        #expect((try? ipv6.check(origin: "https://[::1]:8443", referer: nil).get()) != nil)
    }

    @Test func invalidBaseURLIsAnErrorAPersonCanFix() {
        #expect(throws: InvalidBaseURL(baseURL: "access.contoso.example")) {
            try OriginCheck(baseURL: "access.contoso.example")
        }
        #expect(InvalidBaseURL(baseURL: "x").description
            == "baseURL 'x' in tenant.yaml is not an absolute http(s) URL such as 'https://access.contoso.example'")
        for bad in ["https://", "https://:443", "https://host:0", "https://host:99999", "https://ho st", "mailto:a@b"] {
            #expect(WebOrigin(url: bad) == nil, "\(bad)")
        }
    }

    @Test func safeMethodsPassAndPostsAreChecked() {
        #expect((try? check.check(RequestContext(method: .get, path: "/my/requests/")).get()) != nil)
        #expect((try? check.check(RequestContext(method: .head, path: "/")).get()) != nil)
        #expect((try? check.check(RequestContext(method: .post, path: "/requests")).get()) == nil)
        #expect((try? check.check(RequestContext(method: .post, path: "/requests", origin: "https://access.contoso.example")).get()) != nil)
        #expect((try? check.check(RequestContext(method: .delete, path: "/x", origin: "https://evil.example")).get()) == nil)
    }
}
