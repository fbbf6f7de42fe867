import Foundation
import GatehouseStore
@testable import Handlers
import Portal
import Rendering
import Testing

@Suite struct ErrorPageTests {
    private struct Boom: Error, CustomStringConvertible {
        var description: String { "disk I/O error at page 42" }
    }

    @Test func aStoreErrorIsAFriendlyPageWithTheDetailOnlyInTheLog() throws {
        let h = try Harness()
        let request = RequestContext(method: .get, path: "/my/requests/")
        let failed = h.app.actions.guarded(request) { throw Boom() }
        #expect(failed.status == .internalServerError)
        #expect(failed.bodyText.contains("Something went wrong on our side and nothing was changed."))
        #expect(!failed.bodyText.contains("disk I/O"))
        #expect(h.logLines.all.last == "GET /my/requests/: error: disk I/O error at page 42")

        let busy = h.app.actions.guarded(request) { throw StoreError.busy(path: "/x.sqlite", seconds: 5) }
        #expect(busy.status == .serviceUnavailable)
        #expect(busy.bodyText.contains("The portal is busy right now and nothing was changed. Try again in a moment."))
        #expect(h.logLines.all.last?.contains("stayed locked by another writer for more than 5 s") == true)
    }

    @Test func aPostMidFormReturnsToThePageItWasSentFrom() throws {
        let h = try Harness()
        var post = RequestContext(method: .post, path: "/requests", referer: "http://127.0.0.1:8080/access-packages/x/request/y/")
        #expect(h.app.actions.returnPath(for: post) == "/access-packages/x/request/y/")
        post.referer = "https://evil.example/access-packages/x/"
        #expect(h.app.actions.returnPath(for: post) == "/access-packages/")
        #expect(h.app.actions.returnPath(for: RequestContext(method: .get, path: "/my/requests/")) == "/my/requests/")
    }

    @Test func unknownPathsAndMethodsGetPages() throws {
        let h = try Harness()
        let missing = h.get("/my/nothing/")
        #expect(missing.status == .notFound)
        #expect(missing.bodyText.contains("There is no page at this address."))
        let wrongMethod = h.get(Paths.signOut)
        #expect(wrongMethod.status == .methodNotAllowed)
        #expect(wrongMethod.header("Allow") == "POST")
    }
}
