import Foundation
import GatehouseModel
import GatehouseStore
import Handlers
import Portal
import Rendering
import Testing

@Suite struct RequestPagesTests {
    static let partnerForm: KeyValuePairs<String, String> = [
        "package": "external-access-package", "policy": "azureblog", "language": "en", "justification": "docs",
    ]

    @Test func aPendingRequestCanBeCanceledWithAReasonAndRequestedAgain() throws {
        let h = try Harness()
        let cookie = try h.session("ana@azureblog.example")
        let id = try h.requestID(h.post(Paths.submitRequest, Self.partnerForm, cookie: cookie))
        let pending = h.get(Paths.myRequest(id), cookie: cookie).bodyText
        #expect(pending.contains(#"<form method="post" action="/my/requests/\#(id)/cancel" class="cancel">"#))
        #expect(pending.contains("No decision yet."))
        #expect(!pending.contains("Request again"))

        h.clock.advance(by: 60)
        let canceled = h.post(Paths.cancelRequest(id), ["reason": "Not needed any more"], cookie: cookie)
        #expect(canceled.status == .seeOther)
        #expect(canceled.header("Location") == Paths.myRequest(id))
        let record = try #require(try h.store.read { try $0.request(id: id) })
        #expect(record.state == .canceled)
        #expect(record.updatedAt == h.clock.now)
        let audit = try #require(try h.store.read { try $0.auditEntries(subjectKind: "request", subjectID: id) }.last).entry
        #expect(audit.action == "canceled")
        #expect(audit.reason == "Not needed any more")
        #expect(audit.before == "pendingApproval")

        let page = h.get(Paths.myRequest(id), cookie: cookie).bodyText
        #expect(page.contains("<dt>State</dt><dd>Canceled</dd>"))
        #expect(page.contains(#"<a class="button" href="/my/requests/\#(id)/again/">Request again</a>"#))
        #expect(!page.contains("class=\"cancel\""))

        let again = h.post(Paths.cancelRequest(id), ["reason": "twice"], cookie: cookie)
        #expect(again.status == .conflict)
        #expect(again.bodyText.contains("This request is canceled, so it can no longer be canceled."))

        let form = h.get(Paths.requestAgain(id), cookie: cookie)
        #expect(form.status == .ok)
        #expect(form.bodyText.contains(">docs</textarea>"))
        #expect(form.bodyText.contains(#"<input type="hidden" name="submission" value=""#))
        #expect(form.bodyText.contains(#"<input type="hidden" name="package" value="external-access-package">"#))
        // Prefilled, nothing wrong yet: no error summary, no field marked invalid, no sign-in note.
        #expect(!form.bodyText.contains("error-summary"))
        #expect(!form.bodyText.contains("aria-invalid"))
        #expect(!form.bodyText.contains("You will be asked to sign in"))
        // The open-request block no longer applies: the form goes through as a new request.
        let resubmitted = h.post(Paths.submitRequest, Self.partnerForm, cookie: cookie)
        #expect(resubmitted.status == .seeOther)
        #expect(try h.requests(of: "ana@azureblog.example").map(\.state) == [.pendingApproval, .canceled])
        let replay = h.post(Paths.submitRequest, Self.partnerForm, cookie: cookie)
        #expect(replay.header("Location") == resubmitted.header("Location"), "a replay of the new post finds the new request")
    }

    @Test func theHistoryListsEveryRequestNewestFirstWithTenantDates() throws {
        let h = try Harness()
        let cookie = try h.session("allan@contoso.example")
        let delivered = try h.requestID(h.post(Paths.submitRequest, RequestSubmissionTests.internalForm, cookie: cookie))
        h.clock.advance(by: 7 * 3600)
        #expect(h.get(Paths.myHome, cookie: cookie).status == .ok)
        h.clock.advance(by: 5 * 3600)
        let pending = try h.requestID(h.post(Paths.submitRequest, [
            "package": "finance-reports", "policy": "finance-team", "justification": "Quarter close",
            "answer.cost-center": "1234", "answer.reports": "budget",
        ], cookie: cookie))
        let page = h.get(Paths.myRequests, cookie: cookie).bodyText
        let newer = try #require(page.range(of: #"<tr><td><a href="/my/requests/\#(pending)/">Finance reports</a></td><td>Pending approval</td><td>19 November 2026</td><td>—</td></tr>"#))
        let older = try #require(page.range(of: #"<tr><td><a href="/my/requests/\#(delivered)/">Internal_AccessPackage</a></td><td>Delivered</td><td>18 November 2026</td><td>18 November 2026</td></tr>"#))
        #expect(newer.lowerBound < older.lowerBound)
    }

    @Test func someoneElsesRequestIsNotFound() throws {
        let h = try Harness()
        let ana = try h.session("ana@azureblog.example")
        let id = try h.requestID(h.post(Paths.submitRequest, Self.partnerForm, cookie: ana))
        let allan = try h.session("allan@contoso.example")
        let page = h.get(Paths.myRequest(id), cookie: allan)
        #expect(page.status == .notFound)
        #expect(page.bodyText.contains("There is no request of yours at this address."))
        #expect(h.post(Paths.cancelRequest(id), [:], cookie: allan).status == .notFound)
        #expect(h.get(Paths.requestAgain(id), cookie: allan).status == .notFound)
        #expect(h.get(Paths.myRequest("unknown"), cookie: ana).status == .notFound)
        #expect(try h.store.read { try $0.request(id: id) }?.state == .pendingApproval)
        #expect(h.get(Paths.myRequest(id)).header("Location") == "/sign-in/?return=/my/requests/\(id)/")
    }

    @Test func myAccessShowsTheRealStartAndEnd() throws {
        let h = try Harness()
        let cookie = try h.session("allan@contoso.example")
        #expect(h.get(Paths.myAccess, cookie: cookie).bodyText.contains("You have no access through this portal at the moment."))
        _ = h.post(Paths.submitRequest, RequestSubmissionTests.internalForm, cookie: cookie)
        let page = h.get(Paths.myAccess, cookie: cookie)
        #expect(page.status == .ok)
        #expect(page.bodyText.contains(#"<tr><td><a href="/access-packages/internal-access-package/">Internal_AccessPackage</a></td><td>18 November 2026, 12:06</td><td>18 November 2027, 12:06</td>"#))
        #expect(page.bodyText.contains(#"<summary>I no longer need this</summary>"#))
        #expect(page.bodyText.contains(#"<a href="/my/access/"#) && page.bodyText.contains(#"/extend">Extend</a>"#))
        #expect(!page.bodyText.contains("<h2>Ended</h2>"))
        h.clock.advance(by: 366 * 86400)
        let later = try h.session("allan@contoso.example")
        let ended = h.get(Paths.myAccess, cookie: later).bodyText
        #expect(ended.contains("<h2>Ended</h2>"))
        #expect(ended.contains("You have no access through this portal at the moment."))
    }

    @Test func forYouListsOnlyWhatThePersonMayRequest() throws {
        let h = try Harness()
        let allan = h.get(Paths.myHome, cookie: try h.session("allan@contoso.example")).bodyText
        #expect(allan.contains(#"<a href="/access-packages/internal-access-package/">Internal_AccessPackage</a>"#))
        #expect(!allan.contains("External_AccessPackage"))
        #expect(!allan.contains("Finance reports"), "hidden packages are not listed")
        let ana = h.get(Paths.myHome, cookie: try h.session("ana@azureblog.example")).bodyText
        #expect(ana.contains(#"<a href="/access-packages/external-access-package/">External_AccessPackage</a>"#))
        #expect(ana.contains(#"<a href="/access-packages/external-contractor/">External contractor</a>"#))
        #expect(!ana.contains("Internal_AccessPackage"))
        #expect(ana.contains(#"<li><a href="/my/">For you</a></li>"#), "the handler's pages link it from the header")
    }

    @Test func forYouSaysWhatThePersonAlreadyHasOrAskedFor() throws {
        let h = try Harness()
        let allan = try h.session("allan@contoso.example")
        let before = h.get(Paths.myHome, cookie: allan).bodyText
        // The summary is as on the generated home page: the first paragraph as text.
        #expect(before.contains("Internal_AccessPackage</a> — Everything a member of the lab needs on day one…</li>"))
        #expect(!before.contains("You have access"))
        _ = try h.requestID(h.post(Paths.submitRequest, RequestSubmissionTests.internalForm, cookie: allan))
        let after = h.get(Paths.myHome, cookie: allan).bodyText
        #expect(after.contains(#"<span class="note"><a href="/my/access/">You have access until 18 November 2027, 12:06</a></span>"#))

        let ana = try h.session("ana@azureblog.example")
        let id = try h.requestID(h.post(Paths.submitRequest, Self.partnerForm, cookie: ana))
        let anaHome = h.get(Paths.myHome, cookie: ana).bodyText
        #expect(anaHome.contains(
            #"<span class="note"><a href="/my/requests/\#(id)/">You asked for it on 18 November 2026: pending approval</a></span>"#))
        #expect(anaHome.components(separatedBy: "You asked for it").count == 2, "only the package she asked for")
        // A paragraph written on two lines is one summary, not its first line.
        #expect(anaHome.contains("with their own email address, including personal mailboxes. You get membership of the"))
    }
}
