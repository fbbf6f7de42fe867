import Foundation
import GatehouseModel
import GatehouseStore
import Handlers
import Portal
import Rendering
import Synchronization
import Testing

extension Harness {
    /// Signs in (accepting the terms for an external person) and returns the session cookie.
    func session(_ email: String) throws -> String {
        let (response, cookie) = try signIn(email)
        if response.header("Location")?.hasPrefix(Paths.signInTerms) == true {
            let accepted = post(Paths.signInTerms, ["return": "/my/requests/", "name": "Guest Person"], cookie: cookie)
            #expect(accepted.status == .seeOther)
        }
        return cookie
    }

    /// The requests of `email` in the store, newest first.
    func requests(of email: String) throws -> [RequestRecord] {
        try store.read { try $0.requests(of: email) }
    }

    /// The id at the end of a `/my/requests/<id>/` redirect.
    func requestID(_ response: HTTPResponse) throws -> String {
        let location = try #require(response.header("Location"))
        #expect(location.hasPrefix("/my/requests/"))
        return String(location.dropFirst("/my/requests/".count).dropLast())
    }
}

@Suite struct RequestSubmissionTests {
    static let internalForm: KeyValuePairs<String, String> = [
        "package": "internal-access-package", "policy": "members", "language": "en", "justification": "Onboarding",
    ]

    @Test func anInternalRequestWithoutApprovalIsDeliveredAtOnce() throws {
        let h = try Harness()
        let cookie = try h.session("allan@contoso.example")
        let response = h.post(Paths.submitRequest, Self.internalForm, cookie: cookie)
        #expect(response.status == .seeOther)
        let id = try h.requestID(response)
        let request = try #require(try h.store.read { try $0.request(id: id) })
        #expect(request.state == .delivered)
        #expect(request.currentStage == nil)
        #expect(request.justification == "Onboarding")
        #expect(request.policySnapshot.contains(#""expiration":{"afterDays":365}"#))
        #expect(request.policySnapshot.contains(#""requestor":{"domain":"contoso.example","internal":true,"organization":null}"#))

        let assignment = try #require(try h.store.read { try $0.activeAssignments(of: "allan@contoso.example") }.first)
        #expect(assignment.requestID == id)
        #expect(assignment.state == .delivered)
        #expect(assignment.startsAt == h.clock.now)
        #expect(assignment.endsAt == h.clock.now.addingTimeInterval(365 * 86400))
        let grants = try h.store.read { try $0.grants(assignmentID: assignment.id) }.map(\.grant)
        #expect(grants == [
            ResourceGrant(resourceID: "lab-portal", role: "Reader", state: .active),
            ResourceGrant(resourceID: "lab-wiki", role: "Read", state: .active),
        ])

        let mail = try #require(try h.store.read { try $0.mail(to: "allan@contoso.example") }.first).mail
        #expect(mail.kind == "accessDelivered")
        #expect(mail.subject == "You now have access to Internal_AccessPackage")
        #expect(mail.body.hasPrefix("You now have access to Internal_AccessPackage until 18 November 2027, 12:06.\n"))
        let actions = try h.store.read { try $0.auditEntries(subjectKind: "request", subjectID: id) }.map(\.entry.action)
        #expect(actions == ["submitted", "approved", "delivered"])

        let page = h.get(Paths.myRequest(id), cookie: cookie)
        #expect(page.status == .ok)
        #expect(page.bodyText.contains("<dt>State</dt><dd>Delivered</dd>"))
        #expect(page.bodyText.contains("<dt>Request option</dt><dd>Lab members</dd>"))
        #expect(page.bodyText.contains("<dt>Access</dt><dd>from 18 November 2026, 12:06 until 18 November 2027, 12:06</dd>"))
    }

    @Test func anExternalPartnerRequestWaitsForApproval() throws {
        let h = try Harness()
        let cookie = try h.session("ana@azureblog.example")
        let response = h.post(Paths.submitRequest, [
            "package": "external-access-package", "policy": "azureblog", "language": "en",
            "justification": "I write the booking guide",
        ], cookie: cookie)
        #expect(response.status == .seeOther)
        let request = try #require(try h.store.read { try $0.request(id: try h.requestID(response)) })
        #expect(request.state == .pendingApproval)
        #expect(request.currentStage == 1)
        #expect(request.policySnapshot.contains(#""organization":"azureblog""#))
        #expect(try h.store.read { try $0.assignments(of: "ana@azureblog.example") }.isEmpty)
        let mail = try #require(try h.store.read { try $0.mail(to: "ana@azureblog.example") }.first).mail
        #expect(mail.subject == "Request received: External_AccessPackage")
        #expect(mail.body.contains("It now waits for approval"))
    }

    @Test func aContractorAnswersInFrenchAndTheDomainIsRecorded() throws {
        let h = try Harness()
        let cookie = try h.session("sam@mail.example")
        let response = h.post(Paths.submitRequest, [
            "package": "external-contractor", "policy": "contractors", "language": "fr",
            "justification": "Projet de traduction", "answer.final": "france", "answer.company": "Acme",
        ], cookie: cookie)
        #expect(response.status == .seeOther)
        let id = try h.requestID(response)
        let request = try #require(try h.store.read { try $0.request(id: id) })
        #expect(request.state == .pendingApproval)
        #expect(request.language == "fr")
        #expect(request.policySnapshot.contains(#""requestor":{"domain":"mail.example","internal":false,"organization":null}"#))
        #expect(request.answers.contains(#""question":"Quelle équipe a gagné la finale 2022 ?","questionID":"final","shown":["France"],"values":["france"]"#))
        let page = h.get(Paths.myRequest(id), cookie: cookie).bodyText
        #expect(page.contains("<dt>Quelle équipe a gagné la finale 2022 ?</dt><dd>France</dd>"))
        #expect(page.contains("<dt>Pour quelle entreprise travaillez-vous ?</dt><dd>Acme</dd>"))
        let audit = try h.store.read { try $0.auditEntries(subjectKind: "request", subjectID: id) }
        #expect(audit.first?.entry.reason == "external requestor from unknown domain mail.example: organization to be proposed on approval")
    }

    @Test func validationErrorsKeepTheInputAndShowMessagesNextToFields() throws {
        let h = try Harness()
        let cookie = try h.session("allan@contoso.example")
        let response = h.post(Paths.submitRequest, [
            "package": "finance-reports", "policy": "finance-team", "language": "en",
            "answer.cost-center": "12ab", "answer.reports": "budget", "answer.reports": "travel",
            "answer.purpose": "Q4 <close>",
        ], cookie: cookie)
        #expect(response.status == .unprocessableContent)
        let page = response.bodyText
        #expect(page.contains(#"<p class="field-error" id="justification-error">Business justification is required: say why you need this access.</p>"#))
        #expect(page.contains(#"<p class="field-error" id="q-cost-center-error">Answer “Cost center (four digits)” must match the expected format: check what the question asks for and correct your answer.</p>"#))
        #expect(page.contains(#"name="answer.cost-center" value="12ab""#))
        #expect(page.contains(#"value="budget" checked>"#))
        #expect(page.contains(#"value="payroll">"#))
        #expect(page.contains(#"value="travel" checked>"#))
        #expect(page.contains("Q4 &lt;close&gt;</textarea>"))
        #expect(page.contains(#"<input type="hidden" name="submission" value=""#))
        #expect(try h.requests(of: "allan@contoso.example").isEmpty)

        // Above the form, every field with a message, in the form's order, each linking to it.
        let summary = try #require(page.firstRange(of: #"<div class="error-summary" role="alert">"#))
        let justification = try #require(page.range(of: ##"<li><a href="#justification">Business justification is required"##))
        let costCenter = try #require(page.range(of: ##"<li><a href="#q-cost-center">Answer “Cost center (four digits)” must match"##))
        #expect(summary.upperBound < justification.lowerBound && justification.upperBound < costCenter.lowerBound)
        #expect(costCenter.upperBound < (page.range(of: #"<form method="post" action="/requests""#)?.lowerBound ?? page.startIndex))
        // Each input names its hint and its message for screen readers.
        #expect(page.contains(#"aria-describedby="justification-hint justification-error""#))
        #expect(page.contains(#"aria-describedby="q-cost-center-hint q-cost-center-error""#))
        // The person is signed in: no note about signing in, and the navigation names them.
        #expect(!page.contains("You will be asked to sign in"))
        #expect(page.contains(#"<span class="visually-hidden">Signed in as </span>Allan Deyoung</span> <button type="submit">Sign out</button>"#))
        #expect(!page.contains(#"<a href="/sign-in/">Sign in</a>"#))
    }

    @Test func eachBlockIsShownOnTheFormWithItsMessage() throws {
        var site = Repository.site
        let index = try #require(site.directory.people.firstIndex { $0.email == "megan@contoso.example" })
        site.directory.people[index].groups.append("finance")
        let h = try Harness(site: site)
        let allan = try h.session("allan@contoso.example")
        let ana = try h.session("ana@azureblog.example")
        let megan = try h.session("megan@contoso.example")

        func block(_ cookie: String, _ form: KeyValuePairs<String, String>) -> String {
            let response = h.post(Paths.submitRequest, form, cookie: cookie)
            #expect(response.status == .conflict)
            return response.bodyText
        }
        let contractor: KeyValuePairs<String, String> = [
            "package": "external-contractor", "policy": "contractors", "justification": "x", "answer.final": "france",
        ]
        #expect(block(allan, contractor).contains(#"<p class="form-error" role="alert">The request option “Contractors with any email address” is for anyone with an email address outside Internal LAB, and you are not one of them. No other request option of this package includes you; ask the package"#))
        #expect(block(ana, Self.internalForm).contains("Internal_AccessPackage is in the General catalog, which is open to members of the organization only."))
        #expect(block(megan, ["package": "finance-reports", "policy": "finance-team", "justification": "x"])
            .contains("Members of LAB administrators cannot hold Finance reports (separation of duties)."))

        #expect(h.post(Paths.submitRequest, Self.internalForm, cookie: allan).status == .seeOther)
        #expect(block(allan, ["package": "internal-access-package", "policy": "members", "justification": "again"])
            .contains("You already have Internal_AccessPackage. Extend it from My access instead of requesting it again."))
        let partner: KeyValuePairs<String, String> = ["package": "external-access-package", "policy": "azureblog", "justification": "docs"]
        #expect(h.post(Paths.submitRequest, partner, cookie: ana).status == .seeOther)
        let open = block(ana, ["package": "external-access-package", "policy": "azureblog", "justification": "other docs"])
        #expect(open.contains("You already have an open request for External_AccessPackage. Wait for its decision or cancel it from your request history."))
        #expect(open.contains("other docs</textarea>"), "the input is kept")
        #expect(try h.requests(of: "ana@azureblog.example").count == 1)
    }

    @Test func aDoublePostMakesOneRequest() throws {
        let h = try Harness()
        let cookie = try h.session("ana@azureblog.example")
        let form: KeyValuePairs<String, String> = [
            "package": "external-access-package", "policy": "azureblog", "language": "en", "justification": "docs",
        ]
        let first = h.post(Paths.submitRequest, form, cookie: cookie)
        h.clock.advance(by: 1)
        let second = h.post(Paths.submitRequest, form, cookie: cookie)
        #expect(first.status == .seeOther)
        #expect(second.status == .seeOther)
        #expect(second.header("Location") == first.header("Location"))
        #expect(try h.requests(of: "ana@azureblog.example").count == 1)
        #expect(try h.mailCount(to: "ana@azureblog.example") == 2, "the code and one Request received")
    }

    @Test func aReplayedHandlerFormWithItsTokenMakesOneRequest() throws {
        let h = try Harness()
        let cookie = try h.session("sam@mail.example")
        let form: KeyValuePairs<String, String> = [
            "package": "external-contractor", "policy": "contractors", "justification": "translation",
            "answer.final": "argentina", "submission": "token-1",
        ]
        let first = h.post(Paths.submitRequest, form, cookie: cookie)
        h.clock.advance(by: 3600)
        let replay = h.post(Paths.submitRequest, form, cookie: cookie)
        #expect(replay.status == .seeOther)
        #expect(replay.header("Location") == first.header("Location"))
        #expect(try h.requests(of: "sam@mail.example").count == 1)
    }

    /// Posts racing one another (a double click lands in the same group commit) make one request,
    /// and every one of them goes to it.
    @Test func concurrentIdenticalPostsMakeOneRequest() throws {
        let h = try Harness()
        let cookie = try h.session("allan@contoso.example")
        let form: KeyValuePairs<String, String> = [
            "package": "internal-access-package", "policy": "members", "justification": "Starting on the lab project.",
        ]
        let locations = Mutex<[String?]>([])
        let app = h.app  // thread-safe, as gatehouse serve's workers share it
        let request = RequestContext(
            method: .post, path: Paths.submitRequest, contentType: "application/x-www-form-urlencoded",
            body: Array(URLEncodedForm(form).encoded.utf8), cookies: Cookies(header: cookie), origin: Harness.base,
            remoteAddress: "192.0.2.10")
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            let response = app.respond(to: request)
            locations.withLock { $0.append(response.status == .seeOther ? response.header("Location") : "status \(response.status)") }
        }
        let all = locations.withLock { $0 }
        #expect(all.count == 8)
        #expect(Set(all).count == 1, "\(all)")
        #expect(all.first??.hasPrefix("/my/requests/") == true)
        #expect(try h.requests(of: "allan@contoso.example").count == 1)
    }

    @Test func badInputGetsClearPages() throws {
        let h = try Harness()
        let cookie = try h.session("allan@contoso.example")
        let unknown = h.post(Paths.submitRequest, ["package": "nope", "policy": "members"], cookie: cookie)
        #expect(unknown.status == .notFound)
        #expect(unknown.bodyText.contains("There is no access package “nope”."))
        let policy = h.post(Paths.submitRequest, ["package": "internal-access-package", "policy": "gone"], cookie: cookie)
        #expect(policy.status == .notFound)
        #expect(policy.bodyText.contains("Internal_AccessPackage has no request option “gone”."))
        #expect(h.get(Paths.submitRequest, cookie: cookie).status == .methodNotAllowed)
        let malformed = h.app.respond(to: RequestContext(
            method: .post, path: Paths.submitRequest, contentType: "application/x-www-form-urlencoded",
            body: Array("package=%zz".utf8), cookies: Cookies(header: cookie), origin: Harness.base))
        #expect(malformed.status == .badRequest)
        let foreign = h.post(Paths.submitRequest, Self.internalForm, cookie: cookie, origin: "https://evil.example")
        #expect(foreign.status == .forbidden)
        #expect(try h.requests(of: "allan@contoso.example").isEmpty)
    }

    @Test func anOversizedFormIsRefusedWithNothingWritten() throws {
        let h = try Harness(settings: App.Settings(maxBodyBytes: 200))
        let cookie = try h.session("allan@contoso.example")
        let response = h.post(Paths.submitRequest, [
            "package": "internal-access-package", "policy": "members", "justification": String(repeating: "x", count: 300),
        ], cookie: cookie)
        #expect(response.status == .contentTooLarge)
        #expect(try h.requests(of: "allan@contoso.example").isEmpty)
    }

    static let partnerDraftForm: KeyValuePairs<String, String> = [
        "package": "external-access-package", "policy": "azureblog", "language": "en",
        "justification": "Writing the <b>booking</b> guide",
    ]

    /// The token at the end of a `/my/drafts/<token>/` path.
    static func draftToken(_ path: String) throws -> String {
        try #require(path.hasPrefix(Paths.drafts) && path.hasSuffix("/") ? String(path.dropFirst(Paths.drafts.count).dropLast()) : nil)
    }

    @Test func aFormPostedBeforeSigningInIsKeptAndComesBackFilledIn() throws {
        let h = try Harness()
        let anonymous = h.post(Paths.submitRequest, [
            "package": "internal-access-package", "policy": "members", "language": "en", "justification": "Onboarding <now>",
        ])
        #expect(anonymous.status == .seeOther)
        let location = try #require(anonymous.header("Location"))
        let prefix = "/sign-in/?return=" + Paths.drafts
        #expect(location.hasPrefix(prefix))
        let draftPath = String(location.dropFirst("/sign-in/?return=".count))
        let token = try Self.draftToken(draftPath)
        #expect(token.count == 64)
        // The browser that posted it gets a cookie of its own; only it opens the kept form.
        let setBrowser = try #require(anonymous.header("Set-Cookie"))
        #expect(setBrowser.hasPrefix("gatehouse_browser="))
        #expect(setBrowser.hasSuffix("; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax"))
        let browser = String(setBrowser.prefix { $0 != ";" })
        // Stored by the token's hash only.
        #expect(try h.store.read { try $0.draft(tokenHash: token, now: h.clock.now) } == nil)

        let signIn = h.get(Paths.signIn, query: "return=" + draftPath)
        #expect(signIn.bodyText.contains("Sign in to send your request: what you typed in the form is kept, and you come back to it."))
        let (verified, session) = try h.signIn("allan@contoso.example", returnTo: draftPath)
        #expect(verified.header("Location") == draftPath)
        #expect(h.get(draftPath, cookie: session).status == .notFound, "the link alone, in another browser")
        let cookie = session + "; " + browser

        let form = h.get(draftPath, cookie: cookie)
        #expect(form.status == .ok)
        let page = form.bodyText
        #expect(page.contains("What you typed before signing in was kept: check it, then submit the request."))
        #expect(page.contains(">Onboarding &lt;now&gt;</textarea>"))
        #expect(page.contains(#"<input type="hidden" name="draft" value="\#(token)">"#))
        #expect(page.contains(#"<input type="hidden" name="submission" value=""#))
        #expect(try h.requests(of: "allan@contoso.example").isEmpty, "nothing is requested until the person submits")

        // A mistake on the way shows the form again, still tied to the kept copy.
        let mistake = h.post(Paths.submitRequest, [
            "package": "internal-access-package", "policy": "members", "language": "en", "justification": "Onboarding",
            "answer.nope": "x", "draft": token,
        ], cookie: cookie)
        #expect(mistake.status == .unprocessableContent)
        #expect(mistake.bodyText.contains(#"<input type="hidden" name="draft" value="\#(token)">"#))
        #expect(h.get(draftPath, cookie: cookie).status == .ok)

        // Submitting the kept form makes the request and deletes the kept copy.
        let submission = try #require(page.firstMatch(of: /name="submission" value="([0-9a-f]+)"/)).1
        let submitted = h.post(Paths.submitRequest, [
            "package": "internal-access-package", "policy": "members", "language": "en", "justification": "Onboarding <now>",
            "submission": String(submission), "draft": token,
        ], cookie: cookie)
        #expect(submitted.status == .seeOther)
        #expect(try h.requests(of: "allan@contoso.example").map(\.justification) == ["Onboarding <now>"])
        let gone = h.get(draftPath, cookie: cookie)
        #expect(gone.status == .notFound)
        #expect(gone.bodyText.contains("Form no longer kept"))
    }

    @Test func aKeptFormIsOnlyForThePersonWhoOpensItFirstAndOnlyForAnHour() throws {
        let h = try Harness()
        let posted = h.post(Paths.submitRequest, Self.partnerDraftForm)
        let location = try #require(posted.header("Location"))
        let draftPath = String(location.dropFirst("/sign-in/?return=".count))
        let browser = String(try #require(posted.header("Set-Cookie")).prefix { $0 != ";" })

        // Not signed in: the kept form's page sends to sign-in and back.
        #expect(h.get(draftPath, cookie: browser).header("Location") == "/sign-in/?return=" + draftPath)
        let ana = try h.session("ana@azureblog.example") + "; " + browser
        let mine = h.get(draftPath, cookie: ana)
        #expect(mine.status == .ok)
        #expect(mine.bodyText.contains("Writing the &lt;b&gt;booking&lt;/b&gt; guide</textarea>"))
        // Someone else signed in on the same browser finds nothing: the first to open it owns it.
        let allan = try h.session("allan@contoso.example") + "; " + browser
        #expect(h.get(draftPath, cookie: allan).status == .notFound)
        #expect(h.get(Paths.draft(String(repeating: "0", count: 64)), cookie: ana).status == .notFound)
        // A second form from the same browser keeps its cookie: both stay reachable.
        let second = h.post(Paths.submitRequest, Self.partnerDraftForm, cookie: browser)
        #expect(second.header("Set-Cookie")?.hasPrefix(browser + ";") == true)
        let secondPath = String(try #require(second.header("Location")).dropFirst("/sign-in/?return=".count))
        #expect(h.get(secondPath, cookie: ana).status == .ok)
        #expect(h.get(draftPath, cookie: ana).status == .ok)

        // After an hour it is gone (and the sweep deletes it: SweepTests).
        h.clock.advance(by: 3601)
        let later = try h.session("ana@azureblog.example") + "; " + browser
        #expect(h.get(draftPath, cookie: later).status == .notFound)
    }

    @Test func anExpiredSessionMidFormKeepsTheForm() throws {
        let h = try Harness()
        let cookie = try h.session("allan@contoso.example")
        h.clock.advance(by: 9 * 3600)
        let expired = h.post(Paths.submitRequest, [
            "package": "internal-access-package", "policy": "members", "language": "fr", "justification": "Arrivée",
        ], cookie: cookie)
        #expect(expired.status == .ok)
        #expect(expired.bodyText.contains("Your session ended; sign in again to continue."))
        // Two cookies: the ended session's deletion, and the browser's mark.
        let set = expired.headers.filter { $0.name == "Set-Cookie" }.map(\.value)
        #expect(set.count == 2)
        #expect(set.contains { $0.hasPrefix("gatehouse_session=; ") })
        let browser = String(try #require(set.first { $0.hasPrefix("gatehouse_browser=") }).prefix { $0 != ";" })
        let returnTo = try #require(expired.bodyText.firstMatch(of: /name="return" value="(\/my\/drafts\/[0-9a-f]{64}\/)"/)).1
        let (_, again) = try h.signIn("allan@contoso.example", returnTo: String(returnTo))
        let form = h.get(String(returnTo), cookie: again + "; " + browser).bodyText
        #expect(form.contains(">Arrivée</textarea>"))
        #expect(form.contains(#"<input type="hidden" name="language" value="fr">"#), "in the language it was filled in")
        #expect(try h.requests(of: "allan@contoso.example").isEmpty)
    }

    @Test func oneClientAddressGetsAtMostTwentyKeptFormsAnHour() throws {
        let h = try Harness()
        for _ in 0..<20 {
            let location = try #require(h.post(Paths.submitRequest, Self.partnerDraftForm, remote: "198.51.100.7").header("Location"))
            #expect(location.contains(Paths.drafts))
        }
        // Beyond: the old answer, nothing kept.
        let refused = h.post(Paths.submitRequest, Self.partnerDraftForm, remote: "198.51.100.7")
        #expect(refused.header("Location") == "/sign-in/?return=/access-packages/external-access-package/request/azureblog/&resubmit=1")
        #expect(h.get(Paths.signIn, query: "return=/access-packages/external-access-package/request/azureblog/&resubmit=1").bodyText
            .contains("Sign in, then submit the request form again: what you typed before signing in could not be kept."))
        // Another address is not affected.
        #expect(h.post(Paths.submitRequest, Self.partnerDraftForm, remote: "198.51.100.8").header("Location")?.contains(Paths.drafts) == true)
    }
}
