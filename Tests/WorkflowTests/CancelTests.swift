import Foundation
import GatehouseModel
import GatehouseStore
import Governance
import Testing
import Workflow

@Suite struct CancelTests {
    @Test func theRequestorCancelsWhilePendingAndTheApproverIsTold() throws {
        let bench = try Bench()
        try bench.submit(externalPackage, by: alex, name: "Alex Wilber")
        #expect(try bench.cancel(by: alex, reason: "No longer needed", at: day(2)) == .canceled)

        let request = try bench.request()
        #expect(request.state == .canceled)
        #expect(request.currentStage == nil)
        #expect(request.updatedAt == day(2))
        #expect(try bench.approvalState().nextCheckAt == nil)
        let told = try bench.mail(to: adele, kind: "approvalCanceled")
        #expect(told.count == 1)
        #expect(told.first?.subject == "Alex Wilber's request for External_AccessPackage was canceled")
        #expect(told.first?.body.contains("was canceled by Alex Wilber (3 March 2028, 9:00)") == true)
        #expect(try bench.mail(to: alex).isEmpty)
        let audit = try bench.audit(request: "r1")
        #expect(audit.last == AuditEntry(
            at: day(2), actor: alex, subjectKind: "request", subjectID: "r1", action: "canceled",
            before: "pendingApproval", after: "canceled", reason: "No longer needed"))
        #expect(try bench.store.read { try $0.pendingApprovals(for: adele) }.isEmpty)

        // The sweep no longer touches it; nobody can decide it; it cannot be canceled twice.
        let auditCount = try bench.audit().count
        let mailCount = try bench.outbox().count
        #expect(try bench.sweep(at: day(7)) == SweepReport())
        #expect(try bench.sweep(at: day(14)) == SweepReport())
        #expect(try bench.decide(by: adele, .approve, "Late", at: day(3)) == .refused(.notPending(.canceled)))
        #expect(try bench.cancel(by: alex, at: day(3)) == .notPending(.canceled))
        #expect(try bench.request().state == .canceled)
        #expect(try bench.request().updatedAt == day(2))
        #expect(try bench.audit().count == auditCount)
        #expect(try bench.outbox().count == mailCount)
    }

    @Test func someoneElseCannotCancel() throws {
        let bench = try Bench()
        try bench.submit(externalPackage, by: alex, name: "Alex Wilber")
        let mailCount = try bench.outbox().count
        #expect(try bench.cancel(by: adele, at: day(1)) == .notFound)
        #expect(try bench.cancel(by: lee, at: day(1)) == .notFound)
        #expect(try bench.cancel("no-such-request", by: alex, at: day(1)) == .notFound)
        #expect(try bench.request().state == .pendingApproval)
        #expect(try bench.request().updatedAt == t0)
        #expect(try bench.outbox().count == mailCount)
        #expect(try bench.audit(request: "r1").map(\.action) == ["stageStarted"])
        #expect(try bench.cancel(by: "Alex@Azureblog.example", at: day(1)) == .canceled)
    }

    @Test func aDecidedRequestCannotBeCanceled() throws {
        let bench = try Bench()
        try bench.submit(externalPackage, by: alex, name: "Alex Wilber")
        _ = try bench.decide(by: adele, .approve, "Fine", at: day(1))
        #expect(try bench.cancel(by: alex, at: day(2)) == .notPending(.delivered))
        #expect(try bench.request().state == .delivered)
    }

    /// Canceled on stage 2: the people waiting on stage 2 are told, not stage 1's approver who already decided.
    @Test func cancelingOnStageTwoTellsStageTwosApprovers() throws {
        let bench = try Bench()
        try bench.submit(financePackage, by: allan)
        _ = try bench.decide(by: nestor, .approve, at: day(1))
        #expect(try bench.cancel(by: allan, reason: "Wrong package", at: day(2)) == .canceled)
        #expect(try bench.request().state == .canceled)
        #expect(try bench.mail(kind: "approvalCanceled").map(\.recipient).sorted() == [adele, hallam])
        #expect(try bench.mail(to: nestor, kind: "approvalCanceled").isEmpty)
    }
}
