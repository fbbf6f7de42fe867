import Foundation
import GatehouseModel
import GatehouseStore
import Governance
import Testing
import Workflow

/// finance-reports requested by Allan: his manager Nestor first, then the `approvers` group (Adele,
/// Hallam) with a justification.
@Suite struct TwoStageTests {
    let stage1At = instant("2028-03-02T10:30:00+01:00")
    let stage2At = instant("2028-03-04T16:45:00+01:00")

    @Test func stageOneAsksTheManager() throws {
        let bench = try Bench()
        try bench.submit(financePackage, by: allan)
        #expect(try bench.approvers() == [
            ApproverRecord(requestID: "r1", stage: 1, email: nestor, role: .primary, addedAt: t0),
        ])
        let asked = try bench.mail(to: nestor, kind: "approvalRequired")
        #expect(asked.count == 1)
        #expect(asked.first?.subject == "Action required: Allan Deyoung requests Finance reports")
        #expect(asked.first?.body.contains("(stage 1 of 2)") == true)
        #expect(asked.first?.body.contains("Decide by: 11 March 2028, 9:00") == true)
        #expect(try bench.outbox().count == 1)
    }

    @Test func approvingStageOneStartsStageTwoWithTheGroup() throws {
        let bench = try Bench()
        try bench.submit(financePackage, by: allan)
        let outcome = try bench.decide(by: nestor, .approve, at: stage1At)
        let first = DecisionRecord(
            requestID: "r1", stage: 1, approverEmail: nestor, decision: .approve, justification: "", decidedAt: stage1At)
        #expect(outcome == .recorded(first, state: .pendingApproval))

        let request = try bench.request()
        #expect(request.state == .pendingApproval)
        #expect(request.currentStage == 2)
        #expect(request.updatedAt == stage1At)
        let state = try bench.approvalState()
        #expect(state.stageStartedAt == stage1At)
        #expect(state.remindersSent == 0)
        #expect(state.escalated == false)
        #expect(state.nextCheckAt == day(3, from: stage1At))  // midpoint of 7 days, counted from stage 2's start
        #expect(try bench.approvers() == [
            ApproverRecord(requestID: "r1", stage: 1, email: nestor, role: .primary, addedAt: t0),
            ApproverRecord(requestID: "r1", stage: 2, email: adele, role: .primary, addedAt: stage1At),
            ApproverRecord(requestID: "r1", stage: 2, email: hallam, role: .primary, addedAt: stage1At),
        ])

        // Allan hears about stage 1; nobody is told "decided by someone else": Nestor was alone.
        let toAllan = try bench.mail(to: allan)
        #expect(toAllan.map(\.kind) == ["requestStageApproved"])
        #expect(toAllan.first?.subject == "Your request for Finance reports: stage 1 of 2 approved")
        #expect(toAllan.first?.body.contains("Nestor Wilke approved stage 1 of 2 of your request for Finance reports.") == true)
        #expect(toAllan.first?.body.contains("http://127.0.0.1:8080/my/requests/r1/") == true)
        #expect(try bench.mail(kind: "approvalDecidedByOther").isEmpty)
        for approver in [adele, hallam] {
            let asked = try bench.mail(to: approver)
            #expect(asked.map(\.kind) == ["approvalRequired"], "\(approver)")
            #expect(asked.first?.body.contains("(stage 2 of 2)") == true)
            #expect(asked.first?.body.contains("Decide by: 9 March 2028, 10:30") == true)
            #expect(asked.first?.body.contains("http://127.0.0.1:8080/approvals/r1/") == true)
        }

        let audit = try bench.audit(request: "r1")
        #expect(audit.map(\.action) == ["stageStarted", "stageApproved", "stageStarted"])
        #expect(audit[1].actor == nestor)
        #expect(audit[2].after == "pendingApproval stage 2")

        #expect(try bench.store.read { try $0.pendingApprovals(for: nestor) }.isEmpty)
        #expect(try bench.store.read { try $0.approvalHistory(for: nestor).first?.myDecision } == .approve)
        #expect(try bench.store.read { try $0.pendingApprovals(for: hallam).map(\.stage) } == [2])
    }

    @Test func stageTwoNeedsAJustificationThenDelivers() throws {
        let bench = try Bench()
        try bench.submit(financePackage, by: allan)
        _ = try bench.decide(by: nestor, .approve, at: stage1At)
        let mailCount = try bench.outbox().count

        #expect(try bench.decide(by: hallam, .approve, "", at: stage2At) == .refused(.justificationRequired(stage: 2)))
        #expect(try bench.decide(by: hallam, .approve, " \t ", at: stage2At) == .refused(.justificationRequired(stage: 2)))
        #expect(try bench.decide(by: nestor, .approve, "Me again", at: stage2At) == .refused(.notAnApprover(stage: 2)))
        #expect(try bench.decisions().count == 1)
        #expect(try bench.outbox().count == mailCount)

        let outcome = try bench.decide(by: hallam, .approve, "Budget owner confirmed", at: stage2At)
        let second = DecisionRecord(
            requestID: "r1", stage: 2, approverEmail: hallam, decision: .approve, justification: "Budget owner confirmed",
            decidedAt: stage2At)
        #expect(outcome == .recorded(second, state: .delivered))
        #expect(try bench.decisions().map(\.stage) == [1, 2])
        #expect(try bench.request().state == .delivered)
        #expect(try bench.request().updatedAt == stage2At)

        // Adele, the other approver of stage 2, is told who decided and why.
        let told = try bench.mail(to: adele, kind: "approvalDecidedByOther")
        #expect(told.count == 1)
        #expect(told.first?.subject == "Allan Deyoung's request for Finance reports was approved by Hallam Douglas")
        #expect(told.first?.body.contains("on 4 March 2028, 16:45") == true)
        #expect(told.first?.body.contains("Reason: Budget owner confirmed") == true)
        #expect(try bench.mail(kind: "approvalDecidedByOther").count == 1)
        #expect(try bench.mail(to: hallam, kind: "approvalDecidedByOther").isEmpty)
        #expect(try bench.mail(to: nestor, kind: "approvalDecidedByOther").isEmpty)

        let assignment = try #require(try bench.assignments(of: allan).first)
        #expect(assignment.startsAt == stage2At)
        #expect(assignment.endsAt == instant("2028-06-02T16:45:00+02:00"))  // 90 days
        #expect(try bench.grants(assignment.id) == [
            ResourceGrant(resourceID: "lab-portal", role: "Contributor", state: .active),
            ResourceGrant(resourceID: "lab-wiki", role: "Edit", state: .active),
        ])
        #expect(try bench.mail(to: allan).map(\.kind) == ["requestStageApproved", "accessDelivered"])
        #expect(try bench.mail(to: allan, kind: "accessDelivered").first?.body.contains("until 2 June 2028, 16:45") == true)
        #expect(try bench.audit(request: "r1").map(\.action)
            == ["stageStarted", "stageApproved", "stageStarted", "approved", "delivered"])
        // Allan is internal: never a governed guest.
        #expect(try bench.person(allan)?.isGovernedGuest == false)
    }

    @Test func aDecisionOnASettledStageIsAlreadyDecided() throws {
        let bench = try Bench()
        try bench.submit(financePackage, by: allan)
        guard let first = recorded(try bench.decide(by: nestor, .approve, "Fine by me", at: stage1At)) else { return }
        let auditCount = try bench.audit().count

        // Nestor's page still showed stage 1; so did Adele's (she is asked on stage 2 now).
        #expect(try bench.decide(by: nestor, .deny, "Oops", seenStage: 1, at: stage2At)
            == .refused(.alreadyDecided(first.stageDecision)))
        #expect(try bench.decide(by: adele, .deny, "Too broad", seenStage: 1, at: stage2At)
            == .refused(.alreadyDecided(first.stageDecision)))
        #expect(try bench.decisions() == [first])
        #expect(try bench.request().currentStage == 2)
        #expect(try bench.audit().count == auditCount)
    }

    @Test func aDenialOnStageTwoEndsTheRequest() throws {
        let bench = try Bench()
        try bench.submit(financePackage, by: allan)
        _ = try bench.decide(by: nestor, .approve, at: stage1At)
        let outcome = try bench.decide(by: adele, .deny, "Ask for the budget report only", at: stage2At)
        #expect(recorded(outcome)?.decision == .deny)
        #expect(try bench.request().state == .denied)
        #expect(try bench.assignments(of: allan).isEmpty)
        #expect(try bench.mail(to: hallam, kind: "approvalDecidedByOther").first?.subject
            == "Allan Deyoung's request for Finance reports was denied by Adele Vance")
        #expect(try bench.mail(to: allan, kind: "requestDenied").first?.body.contains("Reason: Ask for the budget report only") == true)
    }
}
