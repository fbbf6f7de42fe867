import Foundation
import GatehouseModel
import GatehouseStore
import Handlers
import Portal
import Rendering
import Testing

private let allan = "allan@contoso.example"
private let day: TimeInterval = 86400

/// Sessions that outlast the months these tests move the clock by.
private let longSessions = App.Settings(sessionIdleTimeout: 1000 * 86400, sessionLifetime: 1000 * 86400)

private extension Harness {
    /// Allan signs in and is given Internal_AccessPackage at once (no approval); his cookie and the assignment id.
    func internalAccess() throws -> (cookie: String, id: String) {
        let cookie = try session(allan)
        let response = post(Paths.submitRequest, RequestSubmissionTests.internalForm, cookie: cookie)
        #expect(response.status == .seeOther)
        let assignment = try #require(try store.read { try $0.activeAssignments(of: allan) }.first)
        return (cookie, assignment.id)
    }

    func assignment(_ id: String) throws -> AssignmentRecord { try #require(try store.read { try $0.assignment(id: id) }) }

    func requests(of email: String, kind: RequestKind) throws -> [RequestRecord] {
        try requests(of: email).filter { $0.kind == kind }
    }

    func mail(to email: String, kind: String) throws -> [OutgoingMail] {
        try store.read { try $0.mail(to: email) }.map(\.mail).filter { $0.kind == kind }
    }
}

/// The example site with extension turned off for Internal_AccessPackage.
private func withoutInternalExtension() throws -> Site {
    var site = Repository.site
    let index = try #require(site.packages.firstIndex { $0.id == "internal-access-package" })
    site.packages[index].policies[0].lifecycle.extensionAllowed = false
    return site
}

// MARK: - Removal

@Suite struct RemovalAccessPagesTests {
    @Test func theHolderRemovesTheirAccessWithAReason() throws {
        let h = try Harness(settings: longSessions)
        let (cookie, id) = try h.internalAccess()
        h.clock.advance(by: 10 * day)

        let response = h.post(Paths.removeAccess(id), ["reason": "  Project finished "], cookie: cookie)
        #expect(response.status == .seeOther)
        #expect(response.header("Location") == Paths.myAccess)

        let a = try h.assignment(id)
        #expect(a.state == .expired)
        #expect(a.endedAt == h.clock.now)
        #expect(a.endReason == "removed by its holder: Project finished")
        #expect(try h.store.read { try $0.grants(assignmentID: id) }.map(\.grant.state) == [.revoked, .revoked])
        #expect(try h.store.read { try $0.members(resourceID: "lab-portal") }.isEmpty)

        let removals = try h.requests(of: allan, kind: .remove)
        #expect(removals.count == 1)
        let removal = try #require(removals.first)
        #expect(removal.actorKind == .user)
        #expect(removal.state == .delivered)
        #expect(removal.packageID == "internal-access-package")
        #expect(try h.store.read { try $0.assignmentID(ofRequest: removal.id) } == id)
        let ended = try #require(try h.store.read { try $0.auditEntries(subjectKind: "assignment", subjectID: id) }.last?.entry)
        #expect(ended.action == "ended")
        #expect(ended.actor == allan)

        let mail = try #require(try h.mail(to: allan, kind: "accessEnded").first)
        #expect(mail.subject == "Your access to Internal_AccessPackage has ended")
        #expect(mail.body.contains(": you removed it."))
        #expect(mail.body.contains("you can request it at http://127.0.0.1:8080/access-packages/internal-access-package/"))

        // A second post finds nothing to remove and changes nothing.
        let again = h.post(Paths.removeAccess(id), ["reason": "Again"], cookie: cookie)
        #expect(again.status == .conflict)
        #expect(again.bodyText.contains("This access has already ended; there is nothing to remove."))
        #expect(try h.requests(of: allan, kind: .remove).count == 1)
        #expect(try h.assignment(id).endReason == "removed by its holder: Project finished")
        #expect(try h.mail(to: allan, kind: "accessEnded").count == 1)
    }

    @Test func withoutAReasonTheEndReasonSaysWhoRemovedIt() throws {
        let h = try Harness(settings: longSessions)
        let (cookie, id) = try h.internalAccess()
        #expect(h.post(Paths.removeAccess(id), [:], cookie: cookie).status == .seeOther)
        #expect(try h.assignment(id).endReason == "removed by its holder")
    }

    @Test func someoneElsesAccessIsNotFound() throws {
        let h = try Harness(settings: longSessions)
        let (_, id) = try h.internalAccess()
        let lee = try h.session("lee@contoso.example")
        let response = h.post(Paths.removeAccess(id), ["reason": "Not mine"], cookie: lee)
        #expect(response.status == .notFound)
        #expect(response.bodyText.contains("There is no access of yours at this address."))
        #expect(h.post(Paths.removeAccess("no-such-assignment"), [:], cookie: lee).status == .notFound)
        #expect(try h.assignment(id).state == .delivered)
        #expect(try h.requests(of: allan, kind: .remove).isEmpty)
    }

    @Test func signedOutOrCrossOriginChangesNothing() throws {
        let h = try Harness(settings: longSessions)
        let (cookie, id) = try h.internalAccess()
        let signedOut = h.post(Paths.removeAccess(id), ["reason": "x"])
        #expect(signedOut.status == .seeOther)
        #expect(signedOut.header("Location") == Paths.signIn(returnTo: Paths.myAccess))
        let forged = h.post(Paths.removeAccess(id), ["reason": "x"], cookie: cookie, origin: "https://attacker.example")
        #expect(forged.status == .forbidden)
        #expect(try h.assignment(id).state == .delivered)
        #expect(try h.requests(of: allan, kind: .remove).isEmpty)
    }
}

// MARK: - Extension

@Suite struct ExtensionAccessPagesTests {
    @Test func thePageShowsTheCurrentAndTheNewLastDayAndThePostExtends() throws {
        let h = try Harness(settings: longSessions)
        let (cookie, id) = try h.internalAccess()
        h.clock.advance(by: 300 * day)  // 14 September 2027, 13:06 in Paris (summer time)

        let page = h.get(Paths.extendAccess(id), cookie: cookie)
        #expect(page.status == .ok)
        let text = page.bodyText
        #expect(text.contains("<h1>Extend Internal_AccessPackage</h1>"))
        #expect(text.contains("<dt>Request option</dt><dd>Lab members</dd>"))
        #expect(text.contains("<dt>Last day now</dt><dd>18 November 2027, 12:06</dd>"))
        #expect(text.contains("<dt>Last day if extended today</dt><dd><strong>13 September 2028, 13:06</strong></dd>"))
        #expect(text.contains(#"<form method="post" action="/my/access/\#(id)/extend" class="extend" novalidate>"#))
        #expect(text.contains("The extension applies at once."))
        #expect(text.contains("<button type=\"submit\">Extend my access</button>"))
        // Looking changes nothing.
        #expect(try h.assignment(id).endsAt == Date(timeIntervalSince1970: 1_795_000_000).addingTimeInterval(365 * day))
        #expect(try h.requests(of: allan, kind: .extend).isEmpty)

        let response = h.post(Paths.extendAccess(id), ["justification": "Still on the lab API"], cookie: cookie)
        #expect(response.status == .seeOther)
        #expect(response.header("Location") == Paths.myAccess)
        // 365 days from now at the same wall-clock time: 13 September 2028, 13:06:40 in Paris.
        #expect(try h.assignment(id).endsAt == Date(timeIntervalSince1970: 1_795_000_000).addingTimeInterval(665 * day))
        #expect(try h.assignment(id).state == .delivered)
        let extensions = try h.requests(of: allan, kind: .extend)
        #expect(extensions.count == 1)
        #expect(extensions.first?.state == .delivered)
        #expect(extensions.first?.justification == "Still on the lab API")
        #expect(h.get(Paths.extendAccess(id), cookie: cookie).bodyText.contains("<dt>Last day now</dt><dd>13 September 2028, 13:06</dd>"))

        // A double click is a replay of the first post: the same answer, no second extension.
        let replay = h.post(Paths.extendAccess(id), ["justification": "Still on the lab API"], cookie: cookie)
        #expect(replay.status == .seeOther)
        #expect(replay.header("Location") == Paths.myAccess)
        #expect(try h.requests(of: allan, kind: .extend).count == 1)

    }

    @Test func rightAfterDeliveryThePageSaysWhyThereIsNothingToExtend() throws {
        let h = try Harness(settings: longSessions)
        let (cookie, id) = try h.internalAccess()
        let page = h.get(Paths.extendAccess(id), cookie: cookie)
        #expect(page.status == .ok)
        #expect(page.bodyText.contains(#"<p class="notice" role="status">This access already ends as late as Lab members allows.</p>"#))
        #expect(!page.bodyText.contains("Last day if extended today"))
        #expect(!page.bodyText.contains(#"class="extend""#))
    }

    @Test func aPolicyWithoutExtensionIsRefusedWithItsReason() throws {
        let h = try Harness(settings: longSessions, site: try withoutInternalExtension())
        let (cookie, id) = try h.internalAccess()
        h.clock.advance(by: 300 * day)
        let reason = "The request option this access was given through does not allow extensions."

        let page = h.get(Paths.extendAccess(id), cookie: cookie)
        #expect(page.status == .ok)
        #expect(page.bodyText.contains(#"<p class="notice" role="status">\#(reason)</p>"#))
        #expect(!page.bodyText.contains(#"class="extend""#))

        let response = h.post(Paths.extendAccess(id), ["justification": "Please"], cookie: cookie)
        #expect(response.status == .conflict)
        #expect(response.bodyText.contains(reason))
        #expect(try h.assignment(id).endsAt == Date(timeIntervalSince1970: 1_795_000_000).addingTimeInterval(365 * day))
        #expect(try h.requests(of: allan, kind: .extend).isEmpty)
    }

    @Test func signedOutVisitorsAreSentToSignInAndForeignFormsAreRefused() throws {
        let h = try Harness(settings: longSessions)
        let (cookie, id) = try h.internalAccess()
        h.clock.advance(by: 300 * day)

        let page = h.get(Paths.extendAccess(id))
        #expect(page.status == .seeOther)
        #expect(page.header("Location") == Paths.signIn(returnTo: Paths.extendAccess(id)))
        let post = h.post(Paths.extendAccess(id), ["justification": "x"])
        #expect(post.status == .seeOther)
        #expect(post.header("Location") == Paths.signIn(returnTo: Paths.extendAccess(id)))

        let forged = h.post(Paths.extendAccess(id), ["justification": "x"], cookie: cookie, origin: "https://attacker.example")
        #expect(forged.status == .forbidden)
        #expect(try h.requests(of: allan, kind: .extend).isEmpty)
        #expect(try h.assignment(id).endsAt == Date(timeIntervalSince1970: 1_795_000_000).addingTimeInterval(365 * day))
    }

    @Test func someoneElsesAccessIsNotFoundAndALongJustificationComesBack() throws {
        let h = try Harness(settings: longSessions)
        let (cookie, id) = try h.internalAccess()
        h.clock.advance(by: 300 * day)
        let lee = try h.session("lee@contoso.example")
        #expect(h.get(Paths.extendAccess(id), cookie: lee).status == .notFound)
        #expect(h.post(Paths.extendAccess(id), ["justification": "x"], cookie: lee).status == .notFound)
        #expect(h.get(Paths.extendAccess("no-such-assignment"), cookie: cookie).status == .notFound)

        let long = String(repeating: "a", count: FormField.justificationMaxLength + 1)
        let tooLong = h.post(Paths.extendAccess(id), ["justification": long], cookie: cookie)
        #expect(tooLong.status == .unprocessableContent)
        #expect(tooLong.bodyText.contains("shorten it to \(FormField.justificationMaxLength) or fewer"))
        #expect(try h.requests(of: allan, kind: .extend).isEmpty)
    }

    @Test func financeReportsExtensionGoesToTheApproversAndMovesTheEndOnApproval() throws {
        let h = try Harness(settings: longSessions)
        let cookie = try h.session(allan)
        let submitted = h.post(Paths.submitRequest, [
            "package": "finance-reports", "policy": "finance-team", "language": "en", "justification": "Q4 close",
            "answer.cost-center": "1234", "answer.reports": "budget",
        ], cookie: cookie)
        let requestID = try h.requestID(submitted)
        let nestor = try h.session("nestor@contoso.example")
        let adele = try h.session("adele@contoso.example")
        #expect(h.post(Paths.decide(requestID), ["decision": "approve", "stage": "1"], cookie: nestor).status == .seeOther)
        #expect(h.post(Paths.decide(requestID), ["decision": "approve", "stage": "2", "justification": "Fine"], cookie: adele).status
            == .seeOther)
        let assignment = try #require(try h.store.read { try $0.activeAssignments(of: allan) }.first)
        #expect(assignment.packageID == "finance-reports")
        let originalEnd = try #require(assignment.endsAt)

        h.clock.advance(by: 60 * day)
        let page = h.get(Paths.extendAccess(assignment.id), cookie: cookie).bodyText
        #expect(page.contains("The extension goes to the approvers of Finance team"))
        #expect(page.contains("<button type=\"submit\">Ask for the extension</button>"))
        #expect(page.contains("Last day if extended today"))

        let asked = h.post(Paths.extendAccess(assignment.id), ["justification": "Q1 close too"], cookie: cookie)
        #expect(asked.status == .seeOther)
        let extendID = try h.requestID(asked)
        let extend = try #require(try h.store.read { try $0.request(id: extendID) })
        #expect(extend.kind == .extend)
        #expect(extend.state == .pendingApproval)
        #expect(try h.assignment(assignment.id).endsAt == originalEnd)
        // Asking twice is refused while the first waits.
        #expect(h.get(Paths.extendAccess(assignment.id), cookie: cookie).bodyText
            .contains("An extension of this access already waits for approval."))
        let again = h.post(Paths.extendAccess(assignment.id), [:], cookie: cookie)
        #expect(again.status == .seeOther, "a replay within minutes goes to the waiting request")
        #expect(try h.requestID(again) == extendID)
        h.clock.advance(by: 3600)
        #expect(h.post(Paths.extendAccess(assignment.id), [:], cookie: cookie).status == .conflict)

        #expect(h.post(Paths.decide(extendID), ["decision": "approve", "stage": "1"], cookie: nestor).status == .seeOther)
        h.clock.advance(by: day - 3600)
        #expect(h.post(Paths.decide(extendID), ["decision": "approve", "stage": "2", "justification": "Ok"], cookie: adele).status
            == .seeOther)
        #expect(try h.store.read { try $0.request(id: extendID) }?.state == .delivered)
        // The same assignment now ends 90 days after this approval (61 days after the first one), at the same
        // wall-clock time: summer time has begun by then, so one hour less than 151 × 24 hours.
        #expect(try h.store.read { try $0.assignments(of: allan) }.count == 1)
        #expect(try h.assignment(assignment.id).endsAt == assignment.startsAt.addingTimeInterval(151 * day - 3600))
    }
}
