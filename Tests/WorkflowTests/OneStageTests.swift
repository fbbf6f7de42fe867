import Foundation
import GatehouseModel
import GatehouseStore
import Governance
import Testing
import Workflow

/// external-access-package: one stage decided by Adele within 14 days, access for 180 days.
@Suite struct OneStageTests {
    /// Friday 3 March 2028, 12:15 in Paris: when Adele decides.
    let decidedAt = instant("2028-03-03T12:15:00+01:00")

    @Test func startAsksAdeleWithTheDeadlineInParisWords() throws {
        let bench = try Bench()
        try bench.submit(externalPackage, by: alex, name: "Alex Wilber")

        let request = try bench.request()
        #expect(request.state == .pendingApproval)
        #expect(request.currentStage == 1)
        #expect(request.updatedAt == t0)
        let state = try bench.approvalState()
        #expect(state.stageStartedAt == t0)
        #expect(state.escalated == false)
        #expect(state.remindersSent == 0)
        #expect(state.nextCheckAt == day(7))  // the midpoint reminder of 14 days
        #expect(try bench.approvers() == [
            ApproverRecord(requestID: "r1", stage: 1, email: adele, role: .primary, addedAt: t0),
        ])

        let mail = try bench.outbox().map(\.mail)
        #expect(mail.count == 1)
        let asked = try #require(mail.first)
        #expect(asked.recipient == adele)
        #expect(asked.kind == "approvalRequired")
        #expect(asked.subject == "Action required: Alex Wilber requests External_AccessPackage")
        #expect(asked.body.contains("Requested by: Alex Wilber (alex@azureblog.example, Azureblog)"))
        #expect(asked.body.contains("Submitted: 1 March 2028, 9:00"))
        #expect(asked.body.contains("Business justification: Documentation of the lab API"))
        #expect(asked.body.contains("Decide by: 15 March 2028, 9:00"))
        #expect(asked.body.contains("http://127.0.0.1:8080/approvals/r1/"))
        #expect(!asked.body.contains("stage 1 of"))  // one stage: no stage numbers

        let audit = try bench.audit(request: "r1")
        #expect(audit.map(\.action) == ["stageStarted"])
        #expect(audit.first?.actor == "system")
        #expect(audit.first?.reason?.contains("adele@contoso.example") == true)
        #expect(audit.first?.reason?.contains("15 March 2028, 9:00") == true)
        #expect(try bench.store.read { try $0.pendingApprovals(for: adele).map(\.requestID) } == ["r1"])
    }

    @Test func approvalDeliversFor180DaysFromTheDecision() throws {
        let bench = try Bench()
        try bench.submit(externalPackage, by: alex, name: "Alex Wilber")
        let outcome = try bench.decide(by: adele, .approve, "Writes the API chapter", at: decidedAt)

        let decision = DecisionRecord(
            requestID: "r1", stage: 1, approverEmail: adele, decision: .approve, justification: "Writes the API chapter",
            decidedAt: decidedAt)
        #expect(outcome == .recorded(decision, state: .delivered))
        #expect(try bench.decisions() == [decision])

        let request = try bench.request()
        #expect(request.state == .delivered)
        #expect(request.currentStage == nil)
        #expect(request.updatedAt == decidedAt)
        #expect(try bench.approvalState().nextCheckAt == nil)

        // The clock starts at approval: 180 calendar days at the same wall-clock time (summer time by then).
        let assignment = try #require(try bench.assignments(of: alex).first)
        #expect(try bench.assignments(of: alex).count == 1)
        #expect(assignment.requestID == "r1")
        #expect(assignment.packageID == externalPackage)
        #expect(assignment.policyID == "azureblog")
        #expect(assignment.state == .delivered)
        #expect(assignment.startsAt == decidedAt)
        #expect(assignment.endsAt == instant("2028-08-30T12:15:00+02:00"))
        #expect(assignment.endsAt == paris.adding(days: 180, to: decidedAt))
        #expect(try bench.grants(assignment.id) == [ResourceGrant(resourceID: "external-collaboration", role: "Member", state: .active)])
        #expect(try bench.members("external-collaboration") == [ResourceMember(email: alex, role: "Member")])

        let delivered = try bench.mail(to: alex)
        #expect(delivered.count == 1)
        #expect(delivered.first?.kind == "accessDelivered")
        #expect(delivered.first?.subject == "You now have access to External_AccessPackage")
        #expect(delivered.first?.body.contains("until 30 August 2028, 12:15") == true)
        #expect(delivered.first?.body.contains("http://127.0.0.1:8080/my/access/") == true)
        #expect(try bench.mail(kind: "approvalDecidedByOther").isEmpty)  // Adele was alone

        // An external requestor becomes a governed guest; Azureblog is known, so nothing is proposed.
        #expect(try bench.person(alex)?.governedGuestSince == decidedAt)
        #expect(try bench.store.read { try $0.proposedOrganizations() }.isEmpty)

        let audit = try bench.audit(request: "r1")
        #expect(audit.map(\.action) == ["stageStarted", "approved", "delivered"])
        #expect(audit[1] == AuditEntry(
            at: decidedAt, actor: adele, subjectKind: "request", subjectID: "r1", action: "approved",
            before: "pendingApproval", after: "approved", reason: "Writes the API chapter"))
        #expect(audit[2].after == "delivered")
        #expect(audit[2].reason?.contains(assignment.id) == true)
        let personAudit = try bench.store.read { try $0.auditEntries(subjectKind: "person", subjectID: alex) }
        #expect(personAudit.map(\.entry.action) == ["governedGuest"])

        #expect(try bench.store.read { try $0.pendingApprovals(for: adele) }.isEmpty)
        let history = try bench.store.read { try $0.approvalHistory(for: adele) }
        #expect(history.map(\.requestID) == ["r1"])
        #expect(history.first?.myDecision == .approve)
    }

    @Test func approvingAnyoneFromAnUnknownDomainProposesAnOrganization() throws {
        let bench = try Bench()
        try bench.submit(contractorPackage, by: "sam@freelance.example", name: "Sam Free")
        let outcome = try bench.decide(by: adele, .approve, "Contract signed", at: decidedAt)
        #expect(recorded(outcome) != nil)

        // onDate 2028-06-30: access ends at the end of that day in Paris.
        let assignment = try #require(try bench.assignments(of: "sam@freelance.example").first)
        #expect(assignment.endsAt == instant("2028-07-01T00:00:00+02:00"))
        #expect(try bench.mail(to: "sam@freelance.example", kind: "accessDelivered").first?.body
            .contains("until 30 June 2028") == true)
        #expect(try bench.person("sam@freelance.example")?.isGovernedGuest == true)
        let proposed = try bench.store.read { try $0.proposedOrganizations() }
        #expect(proposed.map(\.domain) == ["freelance.example"])
        #expect(proposed.first?.firstRequestID == "r1")
    }

    @Test func denialTellsTheRequestorWhyAndSettlesTheStage() throws {
        let bench = try Bench()
        try bench.submit(externalPackage, by: alex, name: "Alex Wilber")
        let outcome = try bench.decide(by: adele, .deny, "Not on the documentation project", at: decidedAt)

        let decision = DecisionRecord(
            requestID: "r1", stage: 1, approverEmail: adele, decision: .deny,
            justification: "Not on the documentation project", decidedAt: decidedAt)
        #expect(outcome == .recorded(decision, state: .denied))
        let request = try bench.request()
        #expect(request.state == .denied)
        #expect(request.currentStage == nil)
        #expect(request.updatedAt == decidedAt)
        #expect(try bench.approvalState().nextCheckAt == nil)
        #expect(try bench.assignments(of: alex).isEmpty)
        #expect(try bench.person(alex)?.isGovernedGuest == false)

        let denied = try bench.mail(to: alex)
        #expect(denied.map(\.kind) == ["requestDenied"])
        #expect(denied.first?.subject == "Your request for External_AccessPackage was denied")
        let body = denied.first?.body ?? ""
        #expect(body.contains("Adele Vance denied your request for External_AccessPackage on 3 March 2028, 12:15."))
        #expect(body.contains("Reason: Not on the documentation project"))
        #expect(body.contains("http://127.0.0.1:8080/my/requests/r1/"))
        #expect(try bench.audit(request: "r1").map(\.action) == ["stageStarted", "denied"])
        #expect(try bench.audit(request: "r1").last?.reason == "Not on the documentation project")

        // After the denial: the decider is named, nothing more is written.
        let auditCount = try bench.audit().count
        let mailCount = try bench.outbox().count
        let again = try bench.decide(by: adele, .approve, "Changed my mind", at: day(3))
        #expect(again == .refused(.alreadyDecided(decision.stageDecision)))
        #expect(try bench.decide(by: adele, .approve, "Changed my mind", seenStage: 1, at: day(3))
            == .refused(.alreadyDecided(decision.stageDecision)))
        #expect(try bench.decisions() == [decision])
        #expect(try bench.request().state == .denied)
        #expect(try bench.audit().count == auditCount)
        #expect(try bench.outbox().count == mailCount)
    }

    @Test func strangersDoNotFindTheRequestAndTheRequestorCannotDecideIt() throws {
        let bench = try Bench()
        try bench.submit(externalPackage, by: alex, name: "Alex Wilber")
        let mailCount = try bench.outbox().count

        #expect(try bench.decide(by: lee, .approve, "Looks fine", at: decidedAt) == .notFound)
        #expect(try bench.decide(by: megan, .approve, "Admin", at: decidedAt) == .notFound)  // an admin, but not asked
        #expect(try bench.decide("no-such-request", by: adele, .approve, "x", at: decidedAt) == .notFound)
        #expect(try bench.decide(by: alex, .approve, "Please", at: decidedAt) == .refused(.ownRequest))
        #expect(try bench.decide(by: "ALEX@Azureblog.example", .approve, "Please", at: decidedAt) == .refused(.ownRequest))
        #expect(try bench.decide(by: adele, .approve, "  \n", at: decidedAt) == .refused(.justificationRequired(stage: 1)))

        #expect(try bench.decisions().isEmpty)
        #expect(try bench.request().state == .pendingApproval)
        #expect(try bench.request().updatedAt == t0)
        #expect(try bench.outbox().count == mailCount)

        // And after the denial, the same answers.
        _ = try bench.decide(by: adele, .deny, "No", at: decidedAt)
        #expect(try bench.decide(by: lee, .approve, "Looks fine", at: day(3)) == .notFound)
        #expect(try bench.decide(by: alex, .approve, "Please", at: day(3)) == .refused(.ownRequest))
    }
}
