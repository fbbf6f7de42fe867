import Foundation
import GatehouseModel
import GatehouseStore
import Rendering
import Testing

/// The handler walked over HTTP through real nginx, one person's browser (cookie) each: every
/// request-time block with its message, validation, cancel and request again, session expiry on
/// an injected clock, sign-out, cross-origin refusals and bad input. Each test has its own folder,
/// nginx, store and mail folder.
@Suite(.enabled(if: Tool.nginx != nil && Tool.curl != nil, "nginx or curl is not installed (make test installs both)"))
struct HandlerWalkTests {
    static let internalForm = "package=internal-access-package&policy=members&language=en"
    static let partnerForm = "package=external-access-package&policy=azureblog&language=en"
    static let contractorForm = "package=external-contractor&policy=contractors&language=en"
    static let nothingRequested = "You have not requested any access yet."

    /// The line above the form that names the rule, as the form page shows it.
    static func problem(_ text: String) -> String { #"<p class="form-error" role="alert">"# + html(text) + "</p>" }

    /// The message under the field with that HTML id.
    static func fieldError(_ id: String, _ text: String) -> String { #"<p class="field-error" id="\#(id)-error">"# + html(text) + "</p>" }

    // MARK: Request-time blocks

    @Test func requestOptionsOutsideTheirScopeSayWhoTheyAreFor() throws {
        let portal = try ServedPortal()
        defer { portal.stop() }
        let allan = try portal.signIn("allan@contoso.example")

        // An internal person through the external-only policy of a package with no other option.
        let partner = try allan.post("/requests", form: Self.partnerForm + "&justification=Docs")
        #expect(partner.status == 409)
        #expect(partner.body.contains(Self.problem(
            "The request option “Azureblog partners” is for people of Azureblog, and you are not one of them. "
                + "No other request option of this package includes you; ask the package's owners if you need it.")))
        #expect(partner.body.contains(#"<textarea id="justification" name="justification""#))
        #expect(partner.body.contains(">Docs</textarea>"), "the input is kept")

        // `anyone` is for people outside the tenant.
        let contractor = try allan.post("/requests", form: Self.contractorForm + "&justification=Docs&answer.final=france")
        #expect(contractor.status == 409)
        #expect(contractor.body.contains(Self.problem(
            "The request option “Contractors with any email address” is for anyone with an email address outside Internal LAB, "
                + "and you are not one of them. No other request option of this package includes you; ask the package's owners if you need it.")))

        // A group scope the person is not in. In the example site Megan (lab-admins) is not in the
        // finance team either, so the scope stops her before separation of duties is looked at.
        let lee = try portal.signIn("lee@contoso.example")
        let finance = "package=finance-reports&policy=finance-team&language=en&justification=Audit&answer.cost-center=1234&answer.reports=budget"
        let notFinance = Self.problem(
            "The request option “Finance team” is for members of Finance team, and you are not one of them. "
                + "No other request option of this package includes you; ask the package's owners if you need it.")
        let leeAsks = try lee.post("/requests", form: finance)
        #expect(leeAsks.status == 409)
        #expect(leeAsks.body.contains(notFinance))
        let megan = try portal.signIn("megan@contoso.example")
        let meganAsks = try megan.post("/requests", form: finance)
        #expect(meganAsks.status == 409)
        #expect(meganAsks.body.contains(notFinance))

        for browser in [allan, lee, megan] {
            #expect(try browser.get("/my/requests/").body.contains(Self.nothingRequested), "a block records nothing")
        }
    }

    @Test func externalPersonMeetsTheClosedCatalogAndTheirOwnOpenRequest() throws {
        let portal = try ServedPortal()
        defer { portal.stop() }
        let ana = try portal.signIn("ana@azureblog.example")

        let closedCatalog = try ana.post("/requests", form: Self.internalForm + "&justification=Curious")
        #expect(closedCatalog.status == 409)
        #expect(closedCatalog.body.contains(Self.problem(
            "Internal_AccessPackage is in the General catalog, which is open to members of the organization only.")))

        let first = try ana.post("/requests", form: Self.partnerForm + "&justification=Booking+guide")
        #expect(first.status == 303)
        let location = try #require(first.header("Location"))
        // The same post again is a replay and finds the same request; a different one is blocked.
        #expect(try ana.post("/requests", form: Self.partnerForm + "&justification=Booking+guide").header("Location") == location)
        let second = try ana.post("/requests", form: Self.partnerForm + "&justification=Second+try")
        #expect(second.status == 409)
        #expect(second.body.contains(Self.problem(
            "You already have an open request for External_AccessPackage. Wait for its decision or cancel it from your request history.")))
        #expect(second.body.contains(">Second try</textarea>"))

        let history = try ana.get("/my/requests/")
        #expect(history.body.components(separatedBy: ">External_AccessPackage</a></td>").count == 2, "exactly one request")
        #expect(!history.body.contains("Internal_AccessPackage"))
    }

    @Test func anActiveAssignmentBlocksAskingAgain() throws {
        let portal = try ServedPortal()
        defer { portal.stop() }
        let allan = try portal.signIn("allan@contoso.example")
        let first = try allan.post("/requests", form: Self.internalForm + "&justification=Onboarding")
        #expect(first.status == 303)
        #expect(try allan.get(try #require(first.header("Location"))).body.contains("<dt>State</dt><dd>Delivered</dd>"))

        let again = try allan.post("/requests", form: Self.internalForm + "&justification=Once+more")
        #expect(again.status == 409)
        #expect(again.body.contains(Self.problem(
            "You already have Internal_AccessPackage. Extend it from My access instead of requesting it again.")))
        #expect(try allan.get("/my/requests/").body.components(separatedBy: ">Internal_AccessPackage</a></td>").count == 2)
    }

    /// A copy of the site where Megan (lab-admins) is also in the finance team, finance reports
    /// exclude the internal package too, the contractors' policy is turned off, and a package sits
    /// in a turned-off catalog.
    @Test func separationOfDutiesAndTurnedOffOptionsInASiteCopy() throws {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let site = try copyExampleSite(into: folder, edits: [
            "packages/finance-reports.md": {
                $0.replacingOccurrences(of: "incompatible: {packages: [], groups: [lab-admins]}",
                                        with: "incompatible: {packages: [internal-access-package], groups: [lab-admins]}")
            },
            "people.yaml": { $0.replacingOccurrences(of: "groups: [lab-admins]", with: "groups: [lab-admins, finance]") },
            "packages/external-contractor.md": {
                $0.replacingOccurrences(of: "    requestors: {scope: anyone}\n", with: "    requestors: {scope: anyone}\n    enabled: false\n")
            },
            "catalogs/archive.yaml": { _ in
                "name: Archive\ndescription: Retired tools.\nenabled: false\nexternalUsers: false\nresources:\n"
                    + "  - {id: old-wiki, type: site, name: Old wiki, roles: [Read]}\nroles:\n  owners: [megan@contoso.example]\n"
            },
            "packages/old-wiki.md": { _ in
                "---\nname: Old wiki\ncatalog: archive\nresources:\n  - {resource: old-wiki, role: Read}\npolicies:\n"
                    + "  - id: members\n    name: Lab members\n    requestors: {scope: allMembers}\n    justification: optional\n"
                    + "    approval: none\n    lifecycle:\n      expiration: {afterDays: 30}\n      extension: {allowed: false}\n---\nThe wiki before the move.\n"
            },
        ])
        let portal = try ServedPortal(site: site)
        defer { portal.stop() }

        let megan = try portal.signIn("megan@contoso.example")
        let finance = try megan.post(
            "/requests",
            form: "package=finance-reports&policy=finance-team&language=en&justification=Audit&answer.cost-center=1234&answer.reports=budget")
        #expect(finance.status == 409)
        #expect(finance.body.contains(Self.problem("Members of LAB administrators cannot hold Finance reports (separation of duties).")))

        let ana = try portal.signIn("ana@azureblog.example")
        let closed = try ana.post("/requests", form: Self.contractorForm + "&justification=Docs&answer.final=france")
        #expect(closed.status == 409)
        #expect(closed.body.contains(Self.problem(
            "The request option “Contractors with any email address” of External contractor does not accept requests at the moment.")))

        let allan = try portal.signIn("allan@contoso.example")
        let archived = try allan.post("/requests", form: "package=old-wiki&policy=members&language=en")
        #expect(archived.status == 409)
        #expect(archived.body.contains(Self.problem("Old wiki cannot be requested at the moment: its catalog is turned off.")))
        #expect(try allan.get("/my/requests/").body.contains(Self.nothingRequested))

        // Allan (finance team) holds the internal package, which finance reports exclude.
        #expect(try allan.post("/requests", form: Self.internalForm).status == 303)
        let excluded = try allan.post(
            "/requests",
            form: "package=finance-reports&policy=finance-team&language=en&justification=Audit&answer.cost-center=1234&answer.reports=budget")
        #expect(excluded.status == 409)
        #expect(excluded.body.contains(Self.problem(
            "Finance reports cannot be held together with Internal_AccessPackage, which you have (separation of duties). "
                + "Remove Internal_AccessPackage first or ask an administrator.")))
        #expect(try portal.store.read { try $0.requests(of: "allan@contoso.example") }.map(\.packageID) == ["internal-access-package"])

        for browser in [megan, ana] {
            #expect(try browser.get("/my/requests/").body.contains(Self.nothingRequested))
        }
    }

    @Test func aBlockedPersonCannotSignInAndTheirSessionEnds() throws {
        let portal = try ServedPortal()
        defer { portal.stop() }
        let allan = try portal.signIn("allan@contoso.example")
        // A second browser has a code in hand when the block comes.
        let laptop = portal.browser()
        #expect(try laptop.post(Paths.signInCode, form: "email=allan%40contoso.example&return=%2Fmy%2F").status == 200)
        let code = try portal.code(for: "allan@contoso.example")

        try portal.store.write { try $0.setBlocked(email: "allan@contoso.example", reason: "Left the lab") }

        let cookie = try #require(allan.cookie)
        let page = try allan.get("/my/requests/")
        #expect(page.status == 200)
        #expect(page.body.contains("Your session ended; sign in again to continue."))
        #expect(!page.body.contains("Signed in as"))
        #expect(allan.cookie == nil, "the page deletes the cookie")
        let post = try portal.browser().post("/requests", form: Self.internalForm, headers: ["Cookie": cookie])
        #expect(post.status == 200)
        #expect(post.body.contains("Your session ended; sign in again to continue."))

        let verified = try laptop.post(Paths.signInVerify, form: "email=allan%40contoso.example&code=\(code)&return=%2Fmy%2F")
        #expect(verified.status == 403)
        #expect(verified.body.contains(html(
            "Your access to this portal is blocked, so you cannot sign in. Reason: Left the lab. "
                + "If you think this is a mistake, contact the portal's administrators.")))
        #expect(verified.header("Set-Cookie") == nil)

        let asked = try laptop.post(Paths.signInCode, form: "email=allan%40contoso.example&return=%2Fmy%2F")
        #expect(asked.status == 403)
        #expect(asked.body.contains(html(
            "Your access to this portal is blocked, so no code was sent. Reason: Left the lab. "
                + "If you think this is a mistake, contact the portal's administrators.")))
        #expect(try portal.store.read { try $0.requests(of: "allan@contoso.example") }.isEmpty)
    }

    // MARK: Validation

    @Test func validationMessagesSitNextToTheirFieldsWithTheInputKept() throws {
        let portal = try ServedPortal()
        defer { portal.stop() }
        let ana = try portal.signIn("ana@azureblog.example")

        let noJustification = try ana.post("/requests", form: Self.contractorForm + "&answer.final=argentina&answer.company=Acme")
        #expect(noJustification.status == 422)
        #expect(noJustification.body.contains(Self.fieldError("justification", "Business justification is required: say why you need this access.")))
        #expect(noJustification.body.contains(#"value="Acme""#))
        #expect(noJustification.body.contains(/value="argentina"[^>]* checked>/))
        #expect(!noJustification.body.contains(/value="france"[^>]* checked>/))

        let noChoice = try ana.post("/requests", form: Self.contractorForm + "&justification=Booking+guide")
        #expect(noChoice.status == 422)
        #expect(noChoice.body.contains(Self.fieldError("q-final", "Answer “Which team won the 2022 final?”: choose one of the options.")))
        #expect(noChoice.body.contains(">Booking guide</textarea>"))
        #expect(!noChoice.body.contains(#"id="justification-error""#))

        let stranger = try ana.post("/requests", form: Self.contractorForm + "&justification=Booking+guide&answer.final=brazil")
        #expect(stranger.status == 422)
        #expect(stranger.body.contains(Self.fieldError(
            "q-final", "Answer “Which team won the 2022 final?”: “brazil” is not one of the options; choose from the list shown.")))

        let company = String(repeating: "x", count: 101)
        let tooLong = try ana.post(
            "/requests", form: Self.contractorForm + "&justification=Booking+guide&answer.final=france&answer.company=\(company)")
        #expect(tooLong.status == 422)
        #expect(tooLong.body.contains(Self.fieldError(
            "q-company", "Answer “Which company do you work for?”: at most 100 characters (you wrote 101).")))
        #expect(tooLong.body.contains(#"value="\#(company)""#))
        #expect(tooLong.body.contains(/value="france"[^>]* checked>/))

        // The same rules in the person's language.
        let french = try ana.post("/requests", form: "package=external-contractor&policy=contractors&language=fr&justification=Guide")
        #expect(french.status == 422)
        #expect(french.body.contains(#"lang="fr""#))
        #expect(french.body.contains(Self.fieldError("q-final", "Answer “Quelle équipe a gagné la finale 2022 ?”: choose one of the options.")))

        // A regex answer (Allan is in the finance team).
        let allan = try portal.signIn("allan@contoso.example")
        let badCostCenter = try allan.post(
            "/requests", form: "package=finance-reports&policy=finance-team&language=en&justification=Audit&answer.cost-center=12a4&answer.reports=budget&answer.reports=travel")
        #expect(badCostCenter.status == 422)
        #expect(badCostCenter.body.contains(Self.fieldError(
            "q-cost-center", "Answer “Cost center (four digits)” must match the expected format: check what the question asks for and correct your answer.")))
        #expect(badCostCenter.body.contains(#"value="12a4""#))
        #expect(badCostCenter.body.contains(/value="travel"[^>]* checked>/))

        #expect(try ana.get("/my/requests/").body.contains(Self.nothingRequested))
        #expect(try allan.get("/my/requests/").body.contains(Self.nothingRequested))
    }

    // MARK: Cancel and request again

    @Test func cancelWithAReasonThenRequestAgainMakesANewPendingRequest() throws {
        let portal = try ServedPortal()
        defer { portal.stop() }
        let ana = try portal.signIn("ana@azureblog.example")
        let submitted = try ana.post("/requests", form: Self.partnerForm + "&justification=Booking+guide")
        let location = try #require(submitted.header("Location"))
        let id = String(location.dropFirst("/my/requests/".count).dropLast())
        let pending = try ana.get(location)
        #expect(pending.body.contains("<dt>State</dt><dd>Pending approval</dd>"))
        let firstMail = try portal.nextMail(containing: "Subject: Request received: External_AccessPackage")
        #expect(unfolded(firstMail).contains(portal.base + location), "\(firstMail)")
        #expect(pending.body.contains(#"action="/my/requests/\#(id)/cancel""#))
        #expect(!pending.body.contains("Request again"))

        let canceled = try ana.post(location + "cancel", form: "reason=Project+postponed")
        #expect(canceled.status == 303)
        #expect(canceled.header("Location") == location)
        let page = try ana.get(location)
        #expect(page.body.contains("<dt>State</dt><dd>Canceled</dd>"))
        #expect(page.body.contains(#"<a class="button" href="/my/requests/\#(id)/again/">Request again</a>"#))
        #expect(!page.body.contains(#"class="cancel""#))
        let audit = try portal.store.read { try $0.auditEntries(subjectKind: "request", subjectID: id) }
        #expect(audit.last?.entry.action == "canceled")
        #expect(audit.last?.entry.reason == "Project postponed")
        #expect(audit.last?.entry.before == "pendingApproval")
        #expect(try ana.get("/my/requests/").body.contains(">External_AccessPackage</a></td><td>Canceled</td>"))

        let twice = try ana.post(location + "cancel", form: "reason=again")
        #expect(twice.status == 409)
        #expect(twice.body.contains("This request is canceled, so it can no longer be canceled. Only requests waiting for a decision can be."))

        // Request again: the form, prefilled, with a fresh submission token; sending it makes a new request.
        let form = try ana.get(location + "again/")
        #expect(form.status == 200)
        #expect(form.body.contains(">Booking guide</textarea>"))
        let hidden = form.body.matches(of: /<input type="hidden" name="([^"]+)" value="([^"]*)">/).map { (String($0.1), String($0.2)) }
        #expect(hidden.map(\.0) == ["package", "policy", "language", "submission"])
        let post = (hidden.map { formPair($0.0, $0.1) } + [formPair("justification", "Booking guide")]).joined(separator: "&")
        let resubmitted = try ana.post("/requests", form: post)
        #expect(resubmitted.status == 303)
        let newLocation = try #require(resubmitted.header("Location"))
        #expect(newLocation != location)
        #expect(try ana.get(newLocation).body.contains("<dt>State</dt><dd>Pending approval</dd>"))
        let againMail = try portal.nextMail(containing: "Subject: Request received: External_AccessPackage")
        #expect(unfolded(againMail).contains(portal.base + newLocation), "\(againMail)")
        #expect(try ana.post("/requests", form: post).header("Location") == newLocation, "a double click makes one request")
        let history = try ana.get("/my/requests/").body
        #expect(history.contains(">External_AccessPackage</a></td><td>Pending approval</td>"))
        #expect(history.contains(">External_AccessPackage</a></td><td>Canceled</td>"))
        #expect(history.components(separatedBy: ">External_AccessPackage</a></td>").count == 3)
    }

    // MARK: Sessions

    @Test func theIdleTimeoutEndsTheSessionAndKeepsTheReturnPath() throws {
        let clock = TestClock()
        let portal = try ServedPortal(clock: clock)
        defer { portal.stop() }
        let allan = try portal.signIn("allan@contoso.example")
        let cookie = try #require(allan.cookie)

        clock.advance(by: 8 * 3600 - 1)
        #expect(try allan.get("/my/access/").body.contains("<h1>My access</h1>"), "used just in time: the idle clock restarts")
        clock.advance(by: 8 * 3600 - 1)
        #expect(try allan.get("/my/access/").body.contains("<h1>My access</h1>"))
        clock.advance(by: 8 * 3600)
        let ended = try allan.get("/my/access/")
        #expect(ended.status == 200)
        #expect(ended.body.contains(#"<p class="notice" role="status">Your session ended; sign in again to continue.</p>"#))
        #expect(ended.body.contains(#"<input type="hidden" name="return" value="/my/access/">"#))
        #expect(ended.header("Set-Cookie")?.hasPrefix("gatehouse_session=; Path=/; Max-Age=0;") == true)
        #expect(allan.cookie == nil)

        // A form sent with the stale cookie: nothing is recorded, the form is kept, and the sign-in
        // page returns to it.
        let tab = portal.browser()
        tab.cookie = cookie
        let midForm = try tab.post("/requests", form: Self.internalForm + "&justification=Late")
        #expect(midForm.status == 200)
        #expect(tab.cookie == nil, "the ended session's cookie is deleted")
        #expect(midForm.body.contains("Your session ended; sign in again to continue."))
        let draftPath = try #require(midForm.body.firstMatch(of: /<input type="hidden" name="return" value="(\/my\/drafts\/[0-9a-f]{64}\/)">/)).1
        #expect(try portal.store.read { try $0.requests(of: "allan@contoso.example") }.isEmpty)

        // Signing in again works at the new time, and the form comes back as typed.
        let back = try portal.signIn("allan@contoso.example", in: tab)
        #expect(try back.get("/my/requests/").body.contains("Signed in as Allan Deyoung"))
        #expect(try back.get(String(draftPath)).body.contains(">Late</textarea>"))
        #expect(try portal.signIn("allan@contoso.example").get(String(draftPath)).status == 404, "not in another browser")
    }

    @Test func theAbsoluteLifetimeEndsEvenABusySession() throws {
        let clock = TestClock()
        let portal = try ServedPortal(clock: clock)
        defer { portal.stop() }
        let allan = try portal.signIn("allan@contoso.example")
        // Used every 7 hours (inside the 8 h idle timeout) for 7 days less a second.
        for _ in 0 ..< 23 {
            clock.advance(by: 7 * 3600)
            #expect(try allan.get("/my/requests/").body.contains("Signed in as Allan Deyoung"))
        }
        clock.advance(by: 7 * 3600 - 1)
        #expect(try allan.get("/my/requests/").body.contains("Signed in as Allan Deyoung"))
        clock.advance(by: 1)
        let ended = try allan.get("/my/requests/")
        #expect(ended.status == 200)
        #expect(ended.body.contains("Your session ended; sign in again to continue."))
        #expect(ended.body.contains(#"<input type="hidden" name="return" value="/my/requests/">"#))
        #expect(!ended.body.contains("Signed in as"))
    }

    @Test func afterSignOutTheOldCookieOpensNothing() throws {
        let portal = try ServedPortal()
        defer { portal.stop() }
        let ana = try portal.signIn("ana@azureblog.example")
        let submitted = try ana.post("/requests", form: Self.partnerForm + "&justification=Booking+guide")
        let location = try #require(submitted.header("Location"))
        let old = try #require(ana.cookie)

        let out = try ana.post(Paths.signOut, form: "")
        #expect(out.status == 303)
        #expect(out.header("Location") == "/access-packages/")
        #expect(ana.cookie == nil)

        let replay = portal.browser()
        for path in ["/my/requests/", location, "/my/access/", "/my/"] {
            let page = try replay.get(path, headers: ["Cookie": old])
            #expect(page.status == 200, "\(path)")
            #expect(page.body.contains("Your session ended; sign in again to continue."), "\(path)")
            #expect(page.body.contains(#"<input type="hidden" name="return" value="\#(path)">"#), "\(path)")
        }
        let cancel = try replay.post(location + "cancel", form: "reason=x", headers: ["Cookie": old])
        #expect(cancel.body.contains("Your session ended; sign in again to continue."))
        let post = try replay.post("/requests", form: Self.internalForm, headers: ["Cookie": old])
        #expect(post.body.contains("Your session ended; sign in again to continue."))
        #expect(try replay.get("/admin/", headers: ["Cookie": old]).status == 303, "auth_request refuses it too")
        let requests = try portal.store.read { try $0.requests(of: "ana@azureblog.example") }
        #expect(requests.map(\.state) == [.pendingApproval], "nothing canceled, nothing added")
    }

    @Test func crossOriginPostsAreRefusedAndChangeNothing() throws {
        let portal = try ServedPortal()
        defer { portal.stop() }
        let ana = try portal.signIn("ana@azureblog.example")
        let location = try #require(try ana.post("/requests", form: Self.partnerForm + "&justification=Booking+guide").header("Location"))
        let refusal = html("This form was not sent from \(portal.base), so nothing was changed. Open the page on \(portal.base) and send it again.")
        let evil = ["Origin": "http://evil.example"]

        let posts: [(String, String)] = [
            ("/requests", Self.contractorForm + "&justification=x&answer.final=france"),
            (Paths.signOut, ""),
            (location + "cancel", "reason=forged"),
        ]
        for (path, form) in posts {
            for headers in [evil, ["Origin": "", "Referer": "http://evil.example/page"], ["Origin": "null"]] {
                let response = try ana.post(path, form: form, headers: headers)
                #expect(response.status == 403, "\(path) \(headers)")
                #expect(response.body.contains(refusal), "\(path) \(headers)")
                #expect(response.header("Set-Cookie") == nil)
            }
        }
        // The session lives on, the request is still pending, nothing else was asked.
        let history = try ana.get("/my/requests/")
        #expect(history.body.contains("Signed in as"))
        #expect(history.body.contains(">External_AccessPackage</a></td><td>Pending approval</td>"))
        #expect(!history.body.contains("External contractor"))
    }

    // MARK: Bad input

    @Test func badInputGetsAClearPageAndWritesNothing() throws {
        let portal = try ServedPortal()
        defer { portal.stop() }
        let allan = try portal.signIn("allan@contoso.example")

        // Wrong method: nginx refuses GET on the post-only address; the handler answers 405 on its own routes.
        let get = try allan.get("/requests")
        #expect(get.status == 403)
        #expect(get.body.contains("<title>403 Forbidden</title>"), "nginx's own page: the handler never sees it")
        let getCancel = try allan.get("/my/requests/0123/cancel")
        #expect(getCancel.status == 405)
        #expect(getCancel.body.contains("This address does not accept GET."))

        let unknownPackage = try allan.post("/requests", form: "package=no-such-package&policy=members&justification=x")
        #expect(unknownPackage.status == 404)
        #expect(unknownPackage.body.contains(html("There is no access package “no-such-package”. It may have been removed; see the list of access packages.")))
        let noPackage = try allan.post("/requests", form: "justification=x")
        #expect(noPackage.status == 404)
        #expect(noPackage.body.contains("The form did not say which access package it requests."))
        let unknownPolicy = try allan.post("/requests", form: "package=internal-access-package&policy=nope")
        #expect(unknownPolicy.status == 404)
        #expect(unknownPolicy.body.contains(html(
            "Internal_AccessPackage has no request option “nope”. It may have changed; open the package page again and pick one of its request options.")))

        let malformed = try allan.post("/requests", form: Self.internalForm + "&justification=100%ZZ")
        #expect(malformed.status == 400)
        #expect(malformed.body.contains(html(
            "The form could not be read: field “justification” contains “%ZZ”, which is not a valid percent escape (% and two hex digits).")))
        let notUTF8 = try allan.post("/requests", form: Self.internalForm + "&justification=%FF%FE")
        #expect(notUTF8.status == 400)
        #expect(notUTF8.body.contains(html("The form could not be read: field “justification” is not valid UTF-8 text.")))

        let oversized = try allan.post("/requests", form: Self.internalForm + "&justification=" + String(repeating: "x", count: 70_000))
        #expect(oversized.status == 413)

        #expect(try allan.get("/my/requests/").body.contains(Self.nothingRequested))
        #expect(try portal.store.read { try $0.requests(of: "allan@contoso.example") }.isEmpty)
    }
}
