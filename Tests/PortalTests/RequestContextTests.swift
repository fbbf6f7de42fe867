import Portal
import Testing

/// FastCGI parameters as nginx's `fastcgi_params` sends them for a form post.
func nginxParams(_ overrides: [String: String] = [:]) -> [String: String] {
    [
        "REQUEST_METHOD": "POST",
        "REQUEST_URI": "/requests?from=form",
        "DOCUMENT_URI": "/requests",
        "QUERY_STRING": "from=form",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": "21",
        "HTTP_COOKIE": "gatehouse_session=s3cr3t; theme=dark",
        "HTTP_ORIGIN": "https://access.contoso.example",
        "HTTP_REFERER": "https://access.contoso.example/access-packages/x/request/p/",
        "HTTP_ACCEPT_LANGUAGE": "fr-CA,fr;q=0.9",
        "REMOTE_ADDR": "203.0.113.7",
        "HTTPS": "on",
        "SERVER_NAME": "access.contoso.example",
    ].merging(overrides) { _, new in new }
}

@Suite struct RequestContextTests {
    @Test func readsEverythingOnce() throws {
        let request = try RequestContext(params: nginxParams(), body: Array("package=x&policy=p+q".utf8))
        #expect(request.method == .post)
        #expect(request.path == "/requests")
        #expect(request.requestURI == "/requests?from=form")
        #expect(request.query["from"] == "form")
        #expect(request.contentType == "application/x-www-form-urlencoded")
        #expect(request.contentLength == 21)
        #expect(request.cookies["gatehouse_session"] == "s3cr3t")
        #expect(request.origin == "https://access.contoso.example")
        #expect(request.referer == "https://access.contoso.example/access-packages/x/request/p/")
        #expect(request.acceptLanguage == "fr-CA,fr;q=0.9")
        #expect(request.remoteAddress == "203.0.113.7")
        #expect(request.isHTTPS)
        #expect(request.singleSignOnUser == nil)
        #expect(try request.form() == URLEncodedForm(["package": "x", "policy": "p q"]))
    }

    @Test func emptyParametersMeanAbsent() throws {
        let request = try RequestContext(params: nginxParams([
            "CONTENT_TYPE": "", "CONTENT_LENGTH": "", "HTTP_ORIGIN": "", "HTTPS": "", "QUERY_STRING": "",
        ]), body: [])
        #expect(request.contentType == nil)
        #expect(request.contentLength == nil)
        #expect(request.origin == nil)
        #expect(!request.isHTTPS)
        #expect(request.query.fields.isEmpty)
    }

    @Test func documentURIIsAlreadyDecodedAndNotDecodedTwice() throws {
        // nginx decoded `/access-packages/caf%C3%A9/%2541` into DOCUMENT_URI.
        let request = try RequestContext(params: nginxParams([
            "REQUEST_METHOD": "GET", "REQUEST_URI": "/access-packages/caf%C3%A9/%2541",
            "DOCUMENT_URI": "/access-packages/café/%41",
        ]), body: [])
        #expect(request.path == "/access-packages/café/%41")
    }

    @Test func withoutDocumentURIThePathOfRequestURIIsDecodedOnce() throws {
        var params = nginxParams(["REQUEST_METHOD": "GET", "REQUEST_URI": "/access-packages/caf%C3%A9/%2541?a=b+c"])
        params["DOCUMENT_URI"] = nil
        params["QUERY_STRING"] = nil
        let request = try RequestContext(params: params, body: [])
        #expect(request.path == "/access-packages/café/%41")
        #expect(request.query["a"] == "b c")
    }

    @Test(arguments: [
        "/access-packages/%FF/", "/bad%G1", "/trailing%", "/../etc/passwd", "/a/./b", "/a/%2E%2E/b", "relative", "/nul%00",
    ])
    func badPathsAreRequestErrors(uri: String) {
        var params = nginxParams(["REQUEST_URI": uri])
        params["DOCUMENT_URI"] = nil
        #expect {
            try RequestContext(params: params, body: [])
        } throws: { error in
            guard case .invalidPath = error as? RequestError else { return false }
            return (error as? RequestError)?.status.code == 400
        }
    }

    @Test func malformedQueryIsARequestError() {
        #expect(throws: RequestError.invalidQuery(.invalidUTF8(in: .value(name: "return")))) {
            try RequestContext(params: nginxParams(["QUERY_STRING": "return=%FF"]), body: [])
        }
        #expect(RequestError.invalidQuery(.invalidUTF8(in: .value(name: "return"))).publicMessage
            == "The address could not be read. Check the link and try again.")
    }

    @Test func missingMethodAndBadLengthAreRequestErrors() {
        var params = nginxParams()
        params["REQUEST_METHOD"] = nil
        #expect(throws: RequestError.missingMethod) { try RequestContext(params: params, body: []) }
        #expect(throws: RequestError.invalidContentLength("-1")) {
            try RequestContext(params: nginxParams(["CONTENT_LENGTH": "-1"]), body: [])
        }
        #expect(throws: RequestError.invalidContentLength("12abc")) {
            try RequestContext(params: nginxParams(["CONTENT_LENGTH": "12abc"]), body: [])
        }
    }

    @Test func singleSignOnIsReadOnlyFromTheConfiguredParameter() throws {
        let params = nginxParams([
            "HTTP_X_GATEHOUSE_USER": " allan@contoso.example ", "HTTP_X_REMOTE_USER": "megan@contoso.example",
        ])
        #expect(try RequestContext(params: params, body: []).singleSignOnUser == nil)
        #expect(try RequestContext(params: params, body: [], singleSignOnParam: RequestContext.defaultSingleSignOnParam)
            .singleSignOnUser == "allan@contoso.example")
        #expect(try RequestContext(params: nginxParams(["HTTP_X_GATEHOUSE_USER": ""]), body: [],
                                   singleSignOnParam: "HTTP_X_GATEHOUSE_USER").singleSignOnUser == nil)
    }

    @Test func formRequiresTheFormContentType() throws {
        let json = RequestContext(method: .post, path: "/requests", contentType: "application/json", body: Array("{}".utf8))
        #expect(throws: FormDecodingError.unsupportedContentType("application/json")) { try json.form() }
        let none = RequestContext(method: .post, path: "/requests", body: Array("a=1".utf8))
        #expect(throws: FormDecodingError.unsupportedContentType(nil)) { try none.form() }
        let withCharset = RequestContext(
            method: .post, path: "/requests", contentType: "Application/X-WWW-Form-URLEncoded; charset=UTF-8",
            body: Array("a=1".utf8))
        #expect(try withCharset.form()["a"] == "1")
        #expect(FormDecodingError.unsupportedContentType(nil).description
            == "Expected a form (application/x-www-form-urlencoded), but the request sent no content type.")
    }

    @Test func declaredOversizedBodyIsRefusedFromItsLength() throws {
        var request = try RequestContext(params: nginxParams(["CONTENT_LENGTH": "1000000"]), body: Array("a=1".utf8))
        #expect(throws: FormDecodingError.tooLarge(bytes: 1_000_000, limit: 65_536)) { try request.form() }
        request.contentLength = nil
        request.body = [UInt8](repeating: UInt8(ascii: "x"), count: 70_000)
        #expect(throws: FormDecodingError.tooLarge(bytes: 70_000, limit: 65_536)) { try request.form() }
    }

    @Test func malformedBodyErrorsReachTheCaller() {
        let request = RequestContext.formPost("/requests", form: URLEncodedForm(), origin: nil)
        var broken = request
        broken.body = Array("justification=%E2%82".utf8)
        #expect(throws: FormDecodingError.invalidUTF8(in: .value(name: "justification"))) { try broken.form() }
        #expect(HTTPResponse.error(FormDecodingError.invalidUTF8(in: .value(name: "justification"))).status.code == 400)
    }

    @Test func testInitializerBuildsAFormPost() throws {
        let request = RequestContext.formPost(
            "/requests", form: URLEncodedForm(["package": "x", "answer.team": "a+b"]),
            origin: "https://access.contoso.example", cookies: Cookies(["gatehouse_session": "abc"]))
        #expect(request.method == .post)
        #expect(request.contentLength == request.body.count)
        #expect(request.cookies["gatehouse_session"] == "abc")
        #expect(try request.form()["answer.team"] == "a+b")
    }
}
