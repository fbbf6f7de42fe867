import Portal
import Testing

@Suite struct RouterTests {
    /// Each handler answers with its name and its parameters, so a test sees which one ran.
    static func echo(_ name: String) -> Router.Handler {
        { request, parameters in
            let list = parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            return .html("\(name) \(request.method) [\(list)]")
        }
    }

    static func portalRouter() -> Router {
        var router = Router()
        router.get("/access-packages/:package/request/:policy/", echo("form"))
        router.post("/requests", echo("submit"))
        router.get("/my/requests/", echo("history"))
        router.get("/my/requests/:id/", echo("detail"))
        router.post("/my/requests/:id/cancel", echo("cancel"))
        router.get("/my/requests/new/", echo("new"))
        return router
    }

    @Test func literalRoutesAndParameters() {
        let router = Self.portalRouter()
        #expect(router.respond(to: RequestContext(method: .get, path: "/my/requests/")).bodyText == "history GET []")
        #expect(router.respond(to: RequestContext(method: .get, path: "/access-packages/contractor/request/anyone/")).bodyText
            == "form GET [package=contractor,policy=anyone]")
        #expect(router.respond(to: RequestContext(method: .post, path: "/my/requests/42/cancel")).bodyText
            == "cancel POST [id=42]")
        #expect(router.match(.get, "/my/requests/7/") == .found(pattern: "/my/requests/:id/", parameters: ["id": "7"]))
    }

    @Test func parametersAreTheDecodedSegments() {
        let router = Self.portalRouter()
        #expect(router.match(.get, "/access-packages/café/request/p q/")
            == .found(pattern: "/access-packages/:package/request/:policy/", parameters: ["package": "café", "policy": "p q"]))
    }

    @Test func literalBeatsParameterWhateverTheOrder() {
        #expect(Self.portalRouter().match(.get, "/my/requests/new/") == .found(pattern: "/my/requests/new/", parameters: [:]))
        var reversed = Router()
        reversed.get("/a/b/", Self.echo("literal"))
        reversed.get("/a/:x/", Self.echo("param"))
        reversed.get("/:y/b/", Self.echo("early-param"))
        #expect(reversed.match(.get, "/a/b/") == .found(pattern: "/a/b/", parameters: [:]))
        #expect(reversed.match(.get, "/a/c/") == .found(pattern: "/a/:x/", parameters: ["x": "c"]))
        #expect(reversed.match(.get, "/z/b/") == .found(pattern: "/:y/b/", parameters: ["y": "z"]))
        // `/a/:x/` and `/:y/b/` both match `/a/b/` without the literal route: the first literal decides.
        var ambiguous = Router()
        ambiguous.get("/:y/b/", Self.echo("early-param"))
        ambiguous.get("/a/:x/", Self.echo("param"))
        #expect(ambiguous.match(.get, "/a/b/") == .found(pattern: "/a/:x/", parameters: ["x": "b"]))
    }

    @Test func unknownPathsAre404() {
        let router = Self.portalRouter()
        for path in ["/", "/my/requests", "/my/requests//", "/requests/", "/my/requests/1/2/", "/access-packages//request/p/"] {
            let response = router.respond(to: RequestContext(method: .get, path: path))
            #expect(response.status.code == 404, "\(path)")
            #expect(response.bodyText == "There is no page at this address.\n")
        }
    }

    @Test func knownPathsWithTheWrongMethodAre405WithAllow() {
        let router = Self.portalRouter()
        let getOnPost = router.respond(to: RequestContext(method: .get, path: "/requests"))
        #expect(getOnPost.status.code == 405)
        #expect(getOnPost.header("Allow") == "POST")
        #expect(getOnPost.bodyText == "This address does not accept GET.\n")
        let postOnPage = router.respond(to: RequestContext(method: .post, path: "/my/requests/"))
        #expect(postOnPage.header("Allow") == "GET, HEAD")
        #expect(router.match(.delete, "/my/requests/9/cancel") == .methodNotAllowed(allowed: [.post]))
        // The most specific pattern owns the path: POST /my/requests/new/ is not sent to `:id`.
        #expect(router.match(.post, "/my/requests/new/cancel") == .found(pattern: "/my/requests/:id/cancel", parameters: ["id": "new"]))
        #expect(router.match(.post, "/my/requests/new/") == .methodNotAllowed(allowed: [.get, .head]))
    }

    @Test func headRunsGetWithoutABody() {
        let response = Self.portalRouter().respond(to: RequestContext(method: .head, path: "/my/requests/"))
        #expect(response.status == .ok)
        #expect(response.header("Content-Type") == "text/html; charset=utf-8")
        #expect(response.body.isEmpty)
    }

    @Test func customFallbacksKeepStatusAndAllow() {
        var router = Router(
            notFound: { request in .html("<h1>Not here: \(request.path)</h1>", status: .ok) },
            methodNotAllowed: { _, allowed in .html("<h1>Use \(allowed.map(\.rawValue).joined(separator: " or "))</h1>") })
        router.post("/sign-out", Self.echo("sign-out"))
        let missing = router.respond(to: RequestContext(path: "/nope"))
        #expect(missing.status.code == 404)
        #expect(missing.bodyText == "<h1>Not here: /nope</h1>")
        let wrong = router.respond(to: RequestContext(method: .get, path: "/sign-out"))
        #expect(wrong.status.code == 405)
        #expect(wrong.header("Allow") == "POST")
        #expect(wrong.bodyText == "<h1>Use POST</h1>")
    }

    @Test func methodsAreCaseInsensitive() {
        #expect(HTTPMethod(rawValue: "post") == .post)
        #expect(Self.portalRouter().match(HTTPMethod(rawValue: "post"), "/requests") == .found(pattern: "/requests", parameters: [:]))
    }
}
